"""The pre-commit guard: refuse a commit touching files another agent holds exclusively.

`swarm init --git-hook` installs a small sh `pre-commit` hook (found through
`git rev-parse --git-path hooks`, so `core.hooksPath` is honoured) that first runs any
hook it displaced (`pre-commit.swarm-chained`), then `swarm guard pre-commit`. That
command reads the staged changes (`git diff --cached --name-status -M -z`; both paths of a
rename count) and refuses the commit when another agent holds one of them exclusively
(`offending_paths`, a pure rule). The committer is `SWARM_AGENT_ID`; when it is unset every
exclusive claim counts as another's. `SWARM_GUARD=warn` reports and lets the commit
through, `SWARM_GUARD=off` skips the check; nothing else bypasses it.

The git plumbing it runs on is in `coordinator.git.repo`; merge-conflict prediction is in
`coordinator.git.predict`.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from coordinator.claims.globs import glob_matches
from coordinator.claims.grants import Claim, list_claims
from coordinator.git.repo import run_git
from memory.backends import open_store
from memory.errors import SwarmError
from memory.locator import store_exists

#: Marks a pre-commit hook as ours, so that installing again rewrites it instead of chaining it.
HOOK_MARKER = "swarm-coordinator pre-commit guard"
HOOK_NAME = "pre-commit"
#: Where an existing, foreign pre-commit hook is moved; ours runs it first.
CHAINED_HOOK_NAME = "pre-commit.swarm-chained"

GuardMode = Literal["enforce", "warn", "off"]
_GUARD_MODES: dict[str, GuardMode] = {
    "": "enforce",
    "on": "enforce",
    "enforce": "enforce",
    "warn": "warn",
    "off": "off",
}

# --- staged changes ----------------------------------------------------------------------


@dataclass(frozen=True)
class StagedChange:
    """One entry of `git diff --cached --name-status`: a status letter and its path(s)."""

    status: str
    path: str
    old_path: str | None = None


def parse_name_status(output: str) -> list[StagedChange]:
    """Parse `git diff --name-status -z` output. Renames and copies (`R100`, `C75`) carry
    the old path first, then the new one."""
    tokens = output.split("\0")
    if tokens and tokens[-1] == "":
        tokens.pop()
    changes: list[StagedChange] = []
    index = 0
    while index < len(tokens):
        status = tokens[index]
        letter = status[:1]
        paired = letter in ("R", "C")
        needed = 2 if paired else 1
        paths = tokens[index + 1 : index + 1 + needed]
        if not letter.isalpha() or len(paths) != needed or not all(paths):
            raise SwarmError(f"unexpected `git diff --name-status` output near {status!r}")
        if paired:
            changes.append(StagedChange(letter, paths[1], paths[0]))
        else:
            changes.append(StagedChange(letter, paths[0]))
        index += 1 + needed
    return changes


def touched_paths(changes: Iterable[StagedChange]) -> list[str]:
    """Every path a commit touches, once each: both sides of a rename, only the new side of
    a copy (its source is unchanged)."""
    paths: list[str] = []
    for change in changes:
        if change.status == "R" and change.old_path is not None:
            paths.append(change.old_path)
        paths.append(change.path)
    return list(dict.fromkeys(paths))


def staged_changes(repo_root: Path) -> list[StagedChange]:
    """The changes staged for the next commit, with renames detected."""
    proc = run_git(["diff", "--cached", "--name-status", "-M", "-z"], repo_root)
    return parse_name_status(proc.stdout)


# --- the guard rule ----------------------------------------------------------------------


@dataclass(frozen=True)
class Offense:
    """A staged path held exclusively by other agents, with their claims."""

    path: str
    holders: tuple[Claim, ...]

    def to_json(self) -> dict[str, Any]:
        """The offense as plain JSON."""
        return {"path": self.path, "holders": [c.to_json() for c in self.holders]}


def offending_paths(
    claims: Iterable[Claim], paths: Iterable[str], committer: str | None
) -> list[Offense]:
    """The paths, in order, that an exclusive claim of another agent covers (equal, or a
    glob that matches). Shared claims never offend, nor do the committer's own; with no
    committer, every exclusive claim is another's."""
    foreign = [
        c for c in claims if c.mode == "exclusive" and (committer is None or c.agent != committer)
    ]
    offenses: list[Offense] = []
    for path in dict.fromkeys(paths):
        holders = tuple(c for c in foreign if c.path == path or glob_matches(c.path, path))
        if holders:
            offenses.append(Offense(path, holders))
    return offenses


def describe_offense(offense: Offense) -> str:
    """One line: the path, who holds it, for which task, through which glob."""

    def holder(claim: Claim) -> str:
        notes = []
        if claim.task:
            notes.append(f"task {claim.task}")
        if claim.path != offense.path:
            notes.append(f"claim {claim.path}")
        return claim.agent + (f" ({'; '.join(notes)})" if notes else "")

    return f"{offense.path} is held exclusively by {' and '.join(map(holder, offense.holders))}"


def refusal_summary(count: int, committer: str | None) -> str:
    """The line closing a refused commit's report: what to do about it."""
    paths = "1 staged path is" if count == 1 else f"{count} staged paths are"
    who = (
        f"agent {committer}"
        if committer
        else "this commit (SWARM_AGENT_ID is unset, so every exclusive claim counts)"
    )
    return (
        f"commit refused: {paths} held exclusively by an agent other than {who}; "
        "commit as the holder, have the claim released, or set SWARM_GUARD=warn to commit anyway"
    )


def guard_mode(environ: Mapping[str, str]) -> GuardMode:
    """`SWARM_GUARD`: unset or `on` enforces, `warn` reports only, `off` skips."""
    value = environ.get("SWARM_GUARD", "").strip().lower()
    try:
        return _GUARD_MODES[value]
    except KeyError:
        raise SwarmError(
            f"SWARM_GUARD={environ.get('SWARM_GUARD')!r} is not one of on, warn, off"
        ) from None


@dataclass(frozen=True)
class GuardCheck:
    """What the pre-commit guard found: the staged paths, the store, the offenses."""

    paths: list[str]
    store: Path | None
    offenses: list[Offense]


def check_staged(repo_root: Path, store_path: Path | None, committer: str | None) -> GuardCheck:
    """Check the staged changes of `repo_root` against the live claims in the store.
    No store (None or missing) means nothing is claimed."""
    paths = touched_paths(staged_changes(repo_root))
    if store_path is None or not store_exists(store_path):
        return GuardCheck(paths, None, [])
    if not paths:
        return GuardCheck(paths, store_path, [])
    with open_store(store_path) as store:
        claims = list_claims(store)
    return GuardCheck(
        paths, store_path, offending_paths(claims, with_targets(repo_root, paths), committer)
    )


def with_targets(repo_root: Path, paths: list[str]) -> list[str]:
    """The staged paths, each followed by the file it leads to when that differs (a path
    through a symlinked directory, or a symlink itself), by the one canonicaliser."""
    from coordinator.claims.paths import repo_path
    from coordinator.errors import InvalidPath, PathOutsideRepo

    checked: list[str] = []
    for path in paths:
        checked.append(path)
        # A path leading out of the repository: only the staged name itself counts.
        with contextlib.suppress(PathOutsideRepo, InvalidPath):
            checked.append(repo_path(repo_root, path, repo_root))
    return list(dict.fromkeys(checked))


# --- installing the hook -----------------------------------------------------------------


def hooks_dir(repo_root: Path) -> Path:
    """The directory git runs hooks from (`core.hooksPath` or `.git/hooks`), absolute."""
    proc = run_git(["rev-parse", "--git-path", "hooks"], repo_root)
    return repo_root / proc.stdout.strip()


def swarm_executable() -> str:
    """The absolute path of the running `swarm` script (else the one beside this Python,
    else the one on PATH), for the hook to call."""
    argv0 = sys.argv[0] if sys.argv else ""
    candidates = [
        argv0 if Path(argv0).stem == "swarm" else "",
        str(Path(sys.executable).with_name("swarm")),
        shutil.which("swarm") or "",
    ]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK) and Path(candidate).is_file():
            return os.path.abspath(candidate)
    return "swarm"


def hook_script(swarm: str, db: Path | None = None) -> str:
    """The pre-commit hook: run the chained hook, then `swarm guard pre-commit` (through
    `swarm` on PATH if the executable named at install time is gone)."""
    global_options = f" --db {shlex.quote(str(db))}" if db is not None else ""
    return f"""#!/bin/sh
# {HOOK_MARKER}: installed by `swarm init --git-hook`.
# Refuses a commit touching files another agent holds exclusively (SWARM_AGENT_ID names
# the committer). Bypass explicitly: SWARM_GUARD=warn reports only, SWARM_GUARD=off skips.
chained="$(dirname "$0")/{CHAINED_HOOK_NAME}"
if [ -x "$chained" ]; then
    "$chained" "$@" || exit $?
fi
if [ "$SWARM_GUARD" = off ]; then
    exit 0
fi
swarm={shlex.quote(swarm)}
if [ ! -x "$swarm" ]; then
    swarm=swarm
fi
exec "$swarm"{global_options} guard pre-commit
"""


def is_swarm_hook(path: Path) -> bool:
    """True when the hook file at `path` is one we installed."""
    try:
        return HOOK_MARKER in path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False


@dataclass(frozen=True)
class HookInstall:
    """What installing the hook did."""

    hook: Path
    chained: Path | None
    moved: bool
    changed: bool

    def summary(self) -> str:
        """One line for the person who ran `swarm init --git-hook`."""
        verb = "installed" if self.changed else "already installed:"
        line = f"{verb} git pre-commit guard at {self.hook}"
        if self.moved and self.chained is not None:
            line += f" (the existing hook moved to {self.chained.name} and runs first)"
        elif self.chained is not None:
            line += f" (chained: {self.chained.name} runs first)"
        return line


def install_pre_commit_hook(
    repo_root: Path, swarm: str | None = None, db: Path | None = None
) -> HookInstall:
    """Install the guard as the repository's pre-commit hook. A foreign hook is moved to
    `pre-commit.swarm-chained` and run first; installing again rewrites ours in place."""
    directory = hooks_dir(repo_root)
    directory.mkdir(parents=True, exist_ok=True)
    hook = directory / HOOK_NAME
    chained = directory / CHAINED_HOOK_NAME
    script = hook_script(swarm or swarm_executable(), db)
    moved = False
    if hook.exists() or hook.is_symlink():
        if is_swarm_hook(hook):
            current = hook.read_text(encoding="utf-8", errors="surrogateescape")
            if current == script and os.access(hook, os.X_OK):
                return HookInstall(hook, _existing(chained), moved=False, changed=False)
        elif chained.exists() or chained.is_symlink():
            raise SwarmError(
                f"{hook} is not swarm's and {chained.name} already exists; "
                "merge the two hooks by hand, then run `swarm init --git-hook` again"
            )
        else:
            os.replace(hook, chained)
            moved = True
    temporary = directory / f".{HOOK_NAME}.swarm-tmp-{os.getpid()}"
    # A path that is not UTF-8 (`--db $'\xff.db'`) is written back as the bytes it was.
    temporary.write_text(script, encoding="utf-8", errors="surrogateescape")
    temporary.chmod(0o755)
    os.replace(temporary, hook)
    return HookInstall(hook, _existing(chained), moved=moved, changed=True)


def _existing(path: Path) -> Path | None:
    return path if path.exists() or path.is_symlink() else None
