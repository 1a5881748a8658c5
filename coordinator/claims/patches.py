"""The files a patch names: an apply_patch envelope (Codex's edit tool, and the
`apply_patch` shell command) or a unified diff (`patch`, `git apply`). Pure text rules."""

from __future__ import annotations

#: The lines of an apply_patch envelope that name a file.
PATCH_HEADERS = ("*** Add File:", "*** Update File:", "*** Delete File:", "*** Move to:")
#: The lines of a git diff that name a file, without their `a/` and `b/`.
GIT_DIFF_HEADERS = ("--- a/", "+++ b/")
#: The lines of any unified diff that name a file, as the diff spells it.
DIFF_HEADERS = ("--- ", "+++ ")


def patch_paths(patch: str) -> list[str]:
    """The files an apply_patch envelope adds, updates, deletes or moves to, each once; a
    patch with no envelope headers is read as a git diff (`--- a/`, `+++ b/`)."""
    lines = patch.splitlines()
    paths = _headed(lines, PATCH_HEADERS, strip=True)
    return paths or _headed(lines, GIT_DIFF_HEADERS, strip=False)


def diff_paths(patch: str, strip: int | None) -> list[str]:
    """The files a unified diff changes, as `patch -pN` finds them: `strip` leading
    segments off each `---`/`+++` name (None: `patch` without -p, the base name; git
    apply's default is 1). An apply_patch envelope is read as `patch_paths` reads it."""
    lines = patch.splitlines()
    envelope = _headed(lines, PATCH_HEADERS, strip=True)
    if envelope:
        return envelope
    paths: list[str] = []
    for name in _headed(lines, DIFF_HEADERS, strip=False):
        if name == "/dev/null":
            continue
        path = name.rsplit("/", 1)[-1] if strip is None else strip_components(name, strip)
        if path and path not in paths:
            paths.append(path)
    return paths


def strip_components(path: str, count: int) -> str | None:
    """`patch -pN`: `path` without its first `count` segments (None when too few)."""
    parts = [part for part in path.split("/") if part]
    return "/".join(parts[count:]) if len(parts) > count else None


def _headed(lines: list[str], headers: tuple[str, ...], *, strip: bool) -> list[str]:
    paths: list[str] = []
    for line in lines:
        text = line.strip() if strip else line
        for header in headers:
            if text.startswith(header):
                path = text[len(header) :].split("\t")[0].strip()
                if path and path not in paths:
                    paths.append(path)
    return paths
