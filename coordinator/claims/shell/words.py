"""The words of a parsed shell command: which literal text a tree-sitter node stands for
(quotes, escapes and brace expansions undone, globs marked), or that the shell computes it
(`$VAR`, `$(...)`, `~`). Pure: nodes in, words out."""

from __future__ import annotations

import re

TYPE_CHECKING = False  # not typing's: hooks do not import typing (see memory.tuples)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from coordinator.claims.shell.commands import Word

#: An unescaped glob character: the word is a pattern.
_GLOB = re.compile(r"(?<!\\)[*?[]")


def words_of(node: Any) -> list[Word]:
    """The words `node` stands for: several for a brace expansion, [None] for one the shell
    computes."""
    found = values(node)
    return [None] if found is None else list(found)


def values(node: Any) -> list[tuple[str, bool]] | None:
    """The literal words `node` stands for, each with whether it is a glob pattern; None
    when the shell computes it (`$VAR`, `$(...)`, `~`)."""
    if node is None:
        return None
    kind, text = node.type, node.text.decode()
    if kind == "word" or (kind == "concatenation" and _plain(node)):
        if text.startswith("~"):
            return None  # the home directory: not the repository's
        return [(_unescape(word), bool(_GLOB.search(word))) for word in _braces(text)]
    literal = _LITERALS.get(kind)
    if literal is not None or kind != "concatenation":
        return None if literal is None else literal(node, text)
    parts = [values(child) for child in node.named_children]
    if any(part is None or len(part) != 1 for part in parts):
        return None
    joined = "".join(part[0][0] for part in parts if part)
    return [(joined, any(part[0][1] for part in parts if part))]


def _double_quoted(node: Any, text: str) -> list[tuple[str, bool]] | None:
    if any(child.type != "string_content" for child in node.named_children):
        return None
    body = text[text.index('"') + 1 : -1]
    return [(re.sub(r'\\([$`"\\\n])', r"\1", body), False)]


_LITERALS: dict[str, Callable[[Any, str], list[tuple[str, bool]] | None]] = {
    "number": lambda node, text: [(text, False)],
    "raw_string": lambda node, text: [(text[1:-1], False)],
    "string": _double_quoted,
    "translated_string": _double_quoted,
}


def _plain(node: Any) -> bool:
    """A concatenation of bare words only (how tree-sitter reads `a{1,2}.py`)."""
    kinds = ("word", "brace_expression", "number")
    return all(child.type in kinds for child in node.named_children) and not any(
        quote in node.text.decode() for quote in "'\"$`"
    )


def _unescape(word: str) -> str:
    return re.sub(r"\\(.)", r"\1", word)


def _braces(text: str) -> list[str]:
    """Brace expansion of an unquoted word: `a{1,2}.py` is `a1.py a2.py`, `f{1..3}` is
    `f1 f2 f3`; a word without a list in braces is itself."""
    depth, start = 0, -1
    for index, char in enumerate(text):
        if char == "{" and (index == 0 or text[index - 1] != "\\"):
            if depth == 0:
                start = index
            depth += 1
        elif char == "}" and depth:
            depth -= 1
            if depth == 0:
                inner = text[start + 1 : index]
                items = _brace_items(inner)
                if items is not None:
                    head, tail = text[:start], text[index + 1 :]
                    return [word for item in items for word in _braces(head + item + tail)]
    return [text]


def _brace_items(inner: str) -> list[str] | None:
    """The items of one brace list (`1,2` or `1..3`), or None when it is not a list."""
    ranged = re.fullmatch(r"(-?\d{1,4})\.\.(-?\d{1,4})", inner)
    if ranged:
        first, last = int(ranged.group(1)), int(ranged.group(2))
        step = 1 if last >= first else -1
        return [str(number) for number in range(first, last + step, step)][:1000]
    items, depth, current = [], 0, ""
    for char in inner:
        if char == "," and depth == 0:
            items.append(current)
            current = ""
            continue
        depth += (char == "{") - (char == "}")
        current += char
    items.append(current)
    return items if len(items) > 1 else None
