"""What each writing command writes, given its words: the command rules behind
`coordinator.claims.shell.parse` (which parses the command line and keeps track of `cd`).

A word is `(text, is_pattern)` for a literal (an unquoted glob is a pattern), or None for
one the shell computes (`$VAR`, `$(...)`, `~`). Pure: words in, an `Effect` out.
"""

from __future__ import annotations

import posixpath

from coordinator.claims.patches import diff_paths, patch_paths
from memory.tuples import NamedTuple

TYPE_CHECKING = False  # not typing's: hooks do not import typing (see memory.tuples)
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    Word = tuple[str, bool] | None
    #: Reads a file the command names (relative to its cwd), or None.
    Reader = Callable[[str], str | None]

#: Commands that take their real command as arguments, and their options with a value.
WRAPPERS = frozenset({"sudo", "env", "command", "nohup", "nice", "time", "exec", "builtin"})
WRAPPER_VALUE_OPTIONS = frozenset({"-u", "-g", "-n", "-C", "-D", "-h", "-p", "-U", "-r", "-t"})
SHELLS = frozenset({"sh", "bash", "zsh", "dash", "ksh"})
#: Commands with a rule below.
WRITERS = frozenset(
    {
        "tee", "sed", "perl", "mv", "cp", "install", "ln", "rm", "unlink", "shred",
        "truncate", "touch", "dd", "rsync", "git", "patch", "apply_patch", "applypatch",
        "xargs", "find", "cd", "pushd", "eval",
    }
)  # fmt: skip
#: Commands that may write anywhere: allowed, and left to the work-tree watcher.
UNLOCATABLE = frozenset(
    {
        "python", "python3", "node", "ruby", "make", "npm", "npx", "yarn", "pnpm", "cargo",
        "go", "gradle", "mvn", "cmake", "ninja", "bazel", "awk", "gawk", "ed", "ex", "vi",
        "vim", "nvim", "emacs", "nano", "source", ".",
    }
)  # fmt: skip
#: `git` subcommands that rewrite work-tree files they do not name.
GIT_UNLOCATED = frozenset(
    {"reset", "stash", "clean", "switch", "merge", "pull", "rebase", "cherry-pick", "revert", "am"}
)
_COPY_VALUE_OPTIONS = frozenset({"-t", "-S", "-m", "-o", "-g", "--suffix", "--mode"})


class Effect(NamedTuple):
    """What one command does to the files: the words it writes (relative to its cwd), shell
    text it runs in turn, and a change of directory."""

    writes: tuple[Word, ...] = ()
    #: Copy destinations (`cp a DEST`): written when a file, not when a directory (then
    #: what is written is DEST/a, among `writes`).
    destinations: tuple[Word, ...] = ()
    #: It may also write where its words do not say.
    unlocated: bool = False
    #: Shell text the command runs (`sh -c TEXT`, `eval TEXT`), to be read in turn.
    scripts: tuple[str, ...] = ()
    #: `cd`: True, and the new directory (None: one that cannot be told).
    changes_dir: bool = False
    new_dir: Word = None


NO_EFFECT = Effect()
UNKNOWN = Effect(unlocated=True)


def command_effect(argv: Sequence[Word], stdin: str | None, read: Reader | None) -> Effect:
    """What the command `argv` (its name first) writes; `stdin` is the text a heredoc or a
    `<` redirection feeds it, `read` reads the patch files it names."""
    argv = _unwrapped(list(argv))
    if not argv:
        return NO_EFFECT
    if argv[0] is None:
        return UNKNOWN  # `$EDITOR file`: a command the shell computes
    name, args = posixpath.basename(argv[0][0]), argv[1:]
    if name in SHELLS:
        return _shell(args)
    if name in UNLOCATABLE:
        return UNKNOWN
    rule = _RULES.get(name)
    return NO_EFFECT if rule is None else rule(args, stdin, read)


def _unwrapped(argv: list[Word]) -> list[Word]:
    """`argv` without leading `sudo -u x`, `env A=1`, `nice -n 5`, `time` and the like."""
    while argv and argv[0] is not None and argv[0][0] in WRAPPERS:
        argv = argv[1:]
        while argv and argv[0] is not None and (argv[0][0].startswith("-") or "=" in argv[0][0]):
            takes_value = argv[0][0] in WRAPPER_VALUE_OPTIONS
            argv = argv[2:] if takes_value else argv[1:]
    return argv


def _split(
    args: Sequence[Word], value_options: frozenset[str] = frozenset()
) -> tuple[list[str], list[Word], dict[str, Word]]:
    """Options (as written), operands, and the values of `value_options` (`-t DIR`,
    `--target-directory=DIR`, `-tDIR`). `--` ends the options; a computed word is an
    operand."""
    options: list[str] = []
    operands: list[Word] = []
    values: dict[str, Word] = {}
    index, ended = 0, False
    while index < len(args):
        word = args[index]
        index += 1
        if ended or word is None or not word[0].startswith("-") or word[0] == "-":
            operands.append(word)
            continue
        text = word[0]
        if text == "--":
            ended = True
            continue
        name, eq, value = text.partition("=")
        if eq and name.startswith("--"):
            values[name] = (value, False)
        elif text in value_options:
            values[text] = args[index] if index < len(args) else None
            index += 1
        elif text[:2] in value_options and len(text) > 2 and not text.startswith("--"):
            values[text[:2]] = (text[2:], False)
        options.append(text)
    return options, operands, values


def _shell(args: Sequence[Word]) -> Effect:
    """`sh -c TEXT`: TEXT is read in turn; `sh script.sh`: a script that may write anywhere."""
    for index, word in enumerate(args):
        if word is not None and word[0].startswith("-") and "c" in word[0][1:]:
            text = args[index + 1] if index + 1 < len(args) else None
            return UNKNOWN if text is None else Effect(scripts=(text[0],))
    return UNKNOWN if args else NO_EFFECT


def _operands(value_options: frozenset[str] = frozenset()) -> Callable[..., Effect]:
    """A rule for commands that write every operand (`rm`, `touch`, `tee`, ...)."""

    def rule(args: Sequence[Word], stdin: str | None, read: Reader | None) -> Effect:
        return Effect(writes=tuple(_split(args, value_options)[1]))

    return rule


_SED_VALUE_OPTIONS = frozenset({"-e", "-f", "-l", "--expression", "--file", "--line-length"})
_PERL_VALUE_OPTIONS = frozenset({"-e", "-E", "-M", "-m", "-I", "-x"})


def _in_place(*, perl: bool) -> Callable[..., Effect]:
    """`sed -i` and `perl -i`: the files after the script (all operands when the script
    comes from -e or -f). Without -i, sed writes nothing; perl may, so it is unlocated."""

    def rule(args: Sequence[Word], stdin: str | None, read: Reader | None) -> Effect:
        value_options = _PERL_VALUE_OPTIONS if perl else _SED_VALUE_OPTIONS
        options, operands, values = _split(args, value_options)
        in_place = any(
            option.startswith("--in-place") or (not option.startswith("--") and "i" in option[1:])
            for option in options
        )
        if not in_place:
            return UNKNOWN if perl else NO_EFFECT
        scripted = any(key in values for key in ("-e", "-f", "-E", "--expression", "--file"))
        return Effect(writes=tuple(operands if scripted else operands[1:]))

    return rule


def _copy(*, moves: bool) -> Callable[..., Effect]:
    """`cp`, `install`, `rsync`, `ln` (and `mv`, which also removes its sources): the
    destination, and each source's name inside it when it is a directory."""

    def rule(args: Sequence[Word], stdin: str | None, read: Reader | None) -> Effect:
        options, operands, values = _split(args, _COPY_VALUE_OPTIONS)
        if "-d" in options and not moves:
            return NO_EFFECT  # `install -d`: directories only
        target = values.get("-t", values.get("--target-directory"))
        if target is None and "-t" not in values and "--target-directory" not in values:
            if len(operands) < 2:
                return Effect(writes=tuple(operands)) if moves else NO_EFFECT
            target, operands = operands[-1], operands[:-1]
        writes: list[Word] = []
        for source in operands:
            if target is None or source is None:
                writes.append(None)
                continue
            name = posixpath.basename(source[0].rstrip("/"))
            writes.append((posixpath.join(target[0], name), source[1]))
            if moves:
                writes.append(source)
        return Effect(writes=tuple(writes), destinations=(target,))

    return rule


def _ln(args: Sequence[Word], stdin: str | None, read: Reader | None) -> Effect:
    """`ln TARGET` makes TARGET's base name here; otherwise like `cp`."""
    operands = _split(args, _COPY_VALUE_OPTIONS)[1]
    if len(operands) == 1 and operands[0] is not None:
        return Effect(writes=((posixpath.basename(operands[0][0]), operands[0][1]),))
    return _copy(moves=False)(args, stdin, read)


def _dd(args: Sequence[Word], stdin: str | None, read: Reader | None) -> Effect:
    writes = tuple(
        (word[0][3:], word[1]) for word in args if word is not None and word[0].startswith("of=")
    )
    return Effect(writes=writes, unlocated=any(word is None for word in args))


def _git(args: Sequence[Word], stdin: str | None, read: Reader | None) -> Effect:
    """`git checkout | restore | rm | mv | apply`; the subcommands that rewrite files they
    do not name, and any git run in another directory (`-C`), are unlocated."""
    index = 0
    while index < len(args):
        word = args[index]
        if word is None or not word[0].startswith("-"):
            break
        if word[0] == "-C":
            return UNKNOWN  # another directory: the watcher sees what it writes
        index += 2 if word[0] == "-c" else 1
    sub = args[index] if index < len(args) else None
    if sub is None:
        return UNKNOWN if index < len(args) else NO_EFFECT
    if sub[0] in GIT_UNLOCATED:
        return UNKNOWN
    rule = _GIT_RULES.get(sub[0])
    return NO_EFFECT if rule is None else rule(args[index + 1 :], stdin, read)


def _git_checkout(args: Sequence[Word], stdin: str | None, read: Reader | None) -> Effect:
    operands = _split(args, frozenset({"-b", "-B", "--orphan"}))[1]
    named = any(word is not None and word[0] == "--" for word in args)
    # Without `--` the first operand may be a branch: every file may change.
    return Effect(writes=tuple(operands), unlocated=not named)


def _git_apply(args: Sequence[Word], stdin: str | None, read: Reader | None) -> Effect:
    _, operands, values = _split(args, frozenset({"-p", "--directory"}))
    return _patched(operands, stdin, read, _number(values.get("-p"), 1))


def _patch(args: Sequence[Word], stdin: str | None, read: Reader | None) -> Effect:
    """`patch [-pN] [-i PATCH] [-o OUT] [FILE [PATCH]]`."""
    _, operands, values = _split(args, frozenset({"-p", "-i", "-o", "-d", "--input", "--output"}))
    if any(key in values for key in ("-d", "--directory")):
        return UNKNOWN
    output = values.get("-o", values.get("--output"))
    if output is not None or "-o" in values:
        return Effect(writes=(output,))
    if operands:
        return Effect(writes=(operands[0],))
    patch_file = values.get("-i", values.get("--input"))
    sources = [patch_file] if patch_file is not None or "-i" in values else []
    return _patched(sources, stdin, read, _number(values.get("-p"), None))


def _patched(
    sources: Sequence[Word], stdin: str | None, read: Reader | None, strip: int | None
) -> Effect:
    """The files named by the patches in `sources` (files), or by `stdin` without any."""
    texts: list[str | None] = []
    for source in sources:
        texts.append(None if source is None or read is None else read(source[0]))
    if not sources:
        texts.append(stdin)
    writes = [(path, False) for text in texts if text for path in diff_paths(text, strip)]
    return Effect(writes=tuple(writes), unlocated=any(text is None for text in texts))


def _apply_patch(args: Sequence[Word], stdin: str | None, read: Reader | None) -> Effect:
    """Codex's `apply_patch` run through the shell: the envelope is the argument or stdin."""
    text = args[0][0] if args and args[0] is not None else (None if args else stdin)
    if text is None:
        return UNKNOWN
    return Effect(writes=tuple((path, False) for path in patch_paths(text)))


def _xargs(args: Sequence[Word], stdin: str | None, read: Reader | None) -> Effect:
    """`xargs CMD`: CMD's files come from stdin; unlocated when CMD writes at all."""
    _, operands, _ = _split(
        args, frozenset({"-n", "-L", "-P", "-I", "-d", "-E", "-s", "-a", "--max-args"})
    )
    inner = operands[0] if operands else None
    if inner is None:
        return UNKNOWN if operands else NO_EFFECT
    name = posixpath.basename(inner[0])
    writes = name in WRITERS or name in UNLOCATABLE or name in SHELLS
    return UNKNOWN if writes else NO_EFFECT


def _find(args: Sequence[Word], stdin: str | None, read: Reader | None) -> Effect:
    acting = {"-delete", "-exec", "-execdir", "-ok", "-okdir", "-fprint", "-fprintf", "-fls"}
    return UNKNOWN if any(word is None or word[0] in acting for word in args) else NO_EFFECT


def _cd(args: Sequence[Word], stdin: str | None, read: Reader | None) -> Effect:
    operands = [word for word in _split(args)[1] if word is None or word[0] != "-"]
    target = operands[0] if operands else None
    return Effect(changes_dir=True, new_dir=None if target is None or target[1] else target)


def _eval(args: Sequence[Word], stdin: str | None, read: Reader | None) -> Effect:
    if any(word is None for word in args):
        return UNKNOWN
    return Effect(scripts=(" ".join(word[0] for word in args if word is not None),))


def _number(word: Word, default: int | None) -> int | None:
    text = None if word is None else word[0]
    return int(text) if text is not None and text.isdigit() and len(text) < 4 else default


if TYPE_CHECKING:
    Rule = Callable[[Sequence[Word], str | None, Reader | None], Effect]

_GIT_RULES: dict[str, Rule] = {
    "checkout": _git_checkout,
    "restore": _operands(frozenset({"-s", "--source"})),
    "rm": _operands(),
    "mv": _copy(moves=True),
    "apply": _git_apply,
}
_RULES: dict[str, Rule] = {
    "tee": _operands(),
    "rm": _operands(),
    "unlink": _operands(),
    "shred": _operands(frozenset({"-n", "-s", "--iterations", "--size"})),
    "touch": _operands(frozenset({"-d", "-t", "-r", "--date", "--reference"})),
    "truncate": _operands(frozenset({"-s", "-r", "--size", "--reference"})),
    "sed": _in_place(perl=False),
    "perl": _in_place(perl=True),
    "mv": _copy(moves=True),
    "cp": _copy(moves=False),
    "install": _copy(moves=False),
    "rsync": _copy(moves=False),
    "ln": _ln,
    "dd": _dd,
    "git": _git,
    "patch": _patch,
    "apply_patch": _apply_patch,
    "applypatch": _apply_patch,
    "xargs": _xargs,
    "find": _find,
    "cd": _cd,
    "pushd": _cd,
    "eval": _eval,
}
