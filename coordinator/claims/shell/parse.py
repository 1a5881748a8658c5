"""What a shell command writes: the paths an agent's shell command would change, found by
parsing it (tree-sitter-bash), never by running it. A pure rule: text in, paths out.

Agents edit through their shells (Claude Code's `Bash`, Codex's shell tool, Gemini's
`run_shell_command`, Cursor's `beforeShellExecution`), so the adapters judge a shell
command's writes like an edit tool's: each path found here is canonicalised and claimed,
and a held one refuses the command. Found:

- redirections that write (`>`, `>>`, `>|`, `&>`, `&>>`, `<>`, `N>`), in any part of the
  command: lists, pipelines, subshells, `$(...)`, loops and conditionals;
- the common writing commands: `tee`, `sed -i`, `perl -i`, `mv`, `cp`, `install`, `ln`,
  `rm`, `unlink`, `shred`, `truncate`, `touch`, `dd of=`, `rsync`, `git checkout | restore |
  rm | mv | apply`, `patch` and `apply_patch` (the files a patch names, read from the patch
  file, a heredoc or the argument), through `sudo`, `env`, `command`, `nohup`, `nice`,
  `time`, `exec` and `sh -c` / `bash -c`;
- `cd DIR` before a write: the write's path is taken from DIR.

Paths are returned as the command spells them (joined to a literal `cd`), for the caller's
one canonicaliser (`coordinator.claims.paths`). Unquoted globs (`rm src/*.py`) come back as
patterns to match the held paths with (`shell_glob_matches`). A write this cannot locate
(`python -c ...`, `make`, a path with `$VAR` in it, `git reset --hard`, `find -delete`) sets
`unlocated`: it is allowed, and the daemon's work-tree watcher reports it afterwards.
A command the parser cannot read sets `unreadable` and lists its words, so that
`SWARM_FAIL_CLOSED=1` can refuse one that names a held path.

Parsing costs a hook the import of tree-sitter, so `might_write` first looks for anything
that could write (a `>` or a writing command's name) without it: `ls`, `grep`, `pytest`
and the like are never parsed.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re

from coordinator.claims.shell.commands import SHELLS, UNLOCATABLE, WRITERS, command_effect
from coordinator.claims.shell.words import values, words_of
from memory.tuples import NamedTuple

TYPE_CHECKING = False  # not typing's: hooks do not import typing (see memory.tuples)
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from typing import Any

    from coordinator.claims.shell.commands import Word

    #: Reads a patch file named by a command (relative to the command's cwd), or None.
    ReadFile = Callable[[str], str | None]

_WORD = re.compile(r"[A-Za-z0-9_.+-]+")
#: Redirection operators that write their destination.
WRITE_REDIRECTS = frozenset({">", ">>", ">|", "&>", "&>>", "<>", ">&", "&>|"})
#: Nodes whose commands run in a subshell: a `cd` inside does not outlive them.
SUBSHELLS = frozenset({"subshell", "command_substitution", "process_substitution", "pipeline"})


class ShellWrites(NamedTuple):
    """What one shell command writes, as far as its text tells."""

    #: Literal paths it writes, as spelled (joined to any `cd` before them), each once.
    paths: tuple[str, ...] = ()
    #: Copy destinations: written when they are files, not when they are directories.
    destinations: tuple[str, ...] = ()
    #: Unquoted glob patterns it writes (`rm src/*.py`), joined to any `cd` the same way.
    patterns: tuple[str, ...] = ()
    #: It may also write somewhere its text does not say.
    unlocated: bool = False
    #: The parser could not read it (then `words` holds its words).
    unreadable: bool = False
    #: Every word of an unreadable command, for SWARM_FAIL_CLOSED.
    words: tuple[str, ...] = ()


NOTHING = ShellWrites()


def might_write(command: str) -> bool:
    """Whether `command` could write a file at all: a `>`, a `$`, or the name of a writing
    (or unlocatable) command among its words. Cheap: no parser is imported for the rest."""
    if ">" in command or "$" in command:
        return True  # a redirection, or a command or path the shell computes
    return any(
        word in WRITERS or word in UNLOCATABLE or word in SHELLS for word in _WORD.findall(command)
    )


def shell_writes(command: str, read_file: ReadFile | None = None) -> ShellWrites:
    """The paths `command` writes (see the module docstring). `read_file` reads the patch
    files that `patch`, `git apply` and `apply_patch` name; without it their targets are
    not located."""
    if not might_write(command):
        return NOTHING
    tree = _parser().parse(command.encode())
    if tree.root_node.has_error:
        return ShellWrites(unreadable=True, words=tuple(_rough_words(command)))
    found = _Found(read_file)
    found.walk(tree.root_node)
    return ShellWrites(
        tuple(dict.fromkeys(found.paths)),
        tuple(dict.fromkeys(found.destinations)),
        tuple(dict.fromkeys(found.patterns)),
        found.unlocated,
    )


def shell_glob_matches(pattern: str, path: str) -> bool:
    """Whether the shell glob `pattern` names `path` (both repository-relative): `*`, `?`
    and `[...]` within one segment, as the shell expands them."""
    parts, names = pattern.split("/"), path.split("/")
    return len(parts) == len(names) and all(
        fnmatch.fnmatchcase(name, part) for part, name in zip(parts, names, strict=True)
    )


def reached_paths(
    written: Iterable[str], patterns: Iterable[str], held: Iterable[str]
) -> list[str]:
    """The paths a command's writes reach, all repository-relative: each written path,
    every held path inside a written directory (`rm -rf src`; "" is the root), and every
    held path a written pattern matches (`rm src/*.py`), each once."""
    reached = list(dict.fromkeys(written))
    directories = list(reached)
    for path in held:
        inside = any(
            not directory or path.startswith(directory.rstrip("/") + "/")
            for directory in directories
        )
        if inside or any(shell_glob_matches(pattern, path) for pattern in patterns):
            reached.append(path)
    return [path for path in dict.fromkeys(reached) if path]


_PARSER: list[Any] = []


def _parser() -> Any:
    """The tree-sitter parser for bash, made on first use."""
    if not _PARSER:
        import tree_sitter
        import tree_sitter_bash

        _PARSER.append(tree_sitter.Parser(tree_sitter.Language(tree_sitter_bash.language())))
    return _PARSER[0]


def _rough_words(command: str) -> Iterator[str]:
    """The words of a command the parser could not read, split on blanks, quotes and
    shell punctuation: every candidate path it might name."""
    for word in re.split(r"[\s'\"`;&|()<>{}=]+", command):
        if word:
            yield word


class _Found:
    """A walk over one parsed command line, gathering what it writes."""

    def __init__(self, read_file: ReadFile | None) -> None:
        self.read_file = read_file
        self.paths: list[str] = []
        self.destinations: list[str] = []
        self.patterns: list[str] = []
        self.unlocated = False
        #: The directory commands run in, relative to the command's own ("" is it; None:
        #: a `cd` this cannot follow).
        self.cwd: str | None = ""
        #: What a heredoc or `< FILE` feeds the command being walked.
        self.stdin: str | None = None

    def walk(self, node: Any) -> None:
        """Gather the writes of `node` and everything in it."""
        kind = node.type
        if kind == "command":
            self._command(node)
            for child in node.named_children:
                if child.type != "command_name":
                    self.walk(child)
        elif kind == "redirected_statement":
            self._redirected(node)
        elif kind == "file_redirect":
            self._redirect(node)
        elif kind in SUBSHELLS:
            cwd = self.cwd
            for child in node.named_children:
                self.walk(child)
            self.cwd = cwd
        elif kind != "heredoc_body":
            for child in node.named_children:
                self.walk(child)

    def _redirected(self, node: Any) -> None:
        """A statement with redirections. tree-sitter hangs `cd src && cat > x.py`'s
        redirection on the whole list; bash binds it to the last command, so that is
        where it is judged (after the `cd`), with its stdin from the redirections."""
        self._bound(node.child_by_field_name("body"), node.children_by_field_name("redirect"))

    def _bound(self, body: Any, redirects: list[Any]) -> None:
        if body is not None and body.type in ("list", "pipeline") and body.named_children:
            *head, last = body.named_children
            cwd = self.cwd
            for child in head:
                self.walk(child)
            self._bound(last, redirects)
            if body.type == "pipeline":
                self.cwd = cwd
            return
        stdin = self.stdin
        for redirect in redirects:
            fed = self._fed(redirect)
            if fed is not None:
                self.stdin = fed
        if body is not None:
            self.walk(body)
        self.stdin = stdin
        for redirect in redirects:
            self.walk(redirect)

    def _fed(self, redirect: Any) -> str | None:
        """The text `redirect` feeds a command: a heredoc's body, a here-string, or the
        file of a `<` redirection (read through `read_file`)."""
        if redirect.type == "heredoc_redirect":
            for child in redirect.named_children:
                if child.type == "heredoc_body":
                    return str(child.text.decode())
            return None
        if redirect.type == "herestring_redirect":
            words = [values(child) for child in redirect.named_children]
            return words[0][0][0] if words and words[0] else None
        if redirect.type == "file_redirect" and _operator(redirect) == "<":
            destination = values(redirect.child_by_field_name("destination"))
            if destination and self.read_file is not None and self.cwd is not None:
                return self.read_file(posixpath.join(self.cwd, destination[0][0]))
        return None

    def _redirect(self, node: Any) -> None:
        """A write redirection (`> F`, `>> F`, `&> F`, `2> F`): its destination."""
        operator = _operator(node)
        if operator not in WRITE_REDIRECTS:
            return
        destination = node.child_by_field_name("destination")
        if destination is None:
            return
        if operator == ">&" and destination.type == "number":
            return  # `2>&1`: a descriptor, not a file
        words = values(destination)
        if words is None:
            self.unlocated = True
        for word in words or ():
            self._write(word)

    def _command(self, node: Any) -> None:
        name = node.child_by_field_name("name")
        if name is not None and name.named_children:
            name = name.named_children[0]  # command_name holds the word
        argv: list[Word] = [] if name is None else words_of(name)
        for argument in node.children_by_field_name("argument"):
            argv.extend(words_of(argument))
        effect = command_effect(argv, self.stdin, self._read)
        self.unlocated = self.unlocated or effect.unlocated
        for word in effect.writes:
            if word is None:
                self.unlocated = True
            else:
                self._write(word)
        for word in effect.destinations:
            if word is None:
                self.unlocated = True
            else:
                self._write(word, into=self.destinations)
        for script in effect.scripts:
            self._script(script)
        if effect.changes_dir:
            target = effect.new_dir
            if target is None or self.cwd is None:
                self.cwd = None
            else:
                self.cwd = posixpath.join(self.cwd, target[0])

    def _script(self, text: str) -> None:
        """Shell text a command runs (`sh -c`, `eval`): read it in turn, from here."""
        found = shell_writes(text, self._read_from_here())
        if found.unreadable:
            self.unlocated = True
        self.unlocated = self.unlocated or found.unlocated
        for path in found.paths:
            self._write((path, False))
        for path in found.destinations:
            self._write((path, False), into=self.destinations)
        for pattern in found.patterns:
            self._write((pattern, True))

    def _read_from_here(self) -> ReadFile | None:
        return None if self.read_file is None else self._read

    def _read(self, path: str) -> str | None:
        if self.read_file is None or self.cwd is None:
            return None
        return self.read_file(posixpath.join(self.cwd, path))

    def _write(self, word: tuple[str, bool], into: list[str] | None = None) -> None:
        text, pattern = word
        if not text:
            return
        if not posixpath.isabs(text):
            if self.cwd is None:
                self.unlocated = True
                return
            text = posixpath.join(self.cwd, text) if self.cwd else text
        if into is not None and not pattern:
            into.append(text)
        else:
            (self.patterns if pattern else self.paths).append(text)


def _operator(redirect: Any) -> str:
    """A redirection's operator (`>`, `>>`, `&>`, `<`, ...)."""
    for child in redirect.children:
        if not child.is_named:
            return str(child.type)
    return ""
