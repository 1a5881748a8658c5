"""Property: the hook path's text paths read as pathlib reads them.

A hook handles paths as text (pathlib and urllib.parse cost it some 4 ms to import), so
memory.locator parses, normalises and stats text paths itself, and memory.store builds the
store's URI itself. Each must give what the pathlib expression it replaces gives.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path, PurePosixPath
from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from memory.locator import file_mode, is_url, normal_path, pg_url, split_path
from memory.store import open_uri

#: Path-like text: separators, dots, percent signs, URL pieces, odd characters.
PATHS = st.lists(
    st.sampled_from(
        ["/", "//", ".", "..", "a", "b.db", "%3A", "%2F", "postgresql:", " ", "é", "?#"]
    ),
    max_size=8,
).map("".join)


@given(PATHS)
def test_split_and_normal_path_are_pathlibs(text: str) -> None:
    root, parts = split_path(text)
    assert tuple([root, *parts] if root else parts) == PurePosixPath(text).parts
    assert normal_path(text) == str(PurePosixPath(text))


@given(PATHS)
def test_pg_url_reads_the_name_as_before(text: str) -> None:
    name = unquote(Path(text).name)
    assert pg_url(text) == (text if is_url(text) else name if is_url(name) else None)


@given(st.lists(st.sampled_from(["a", "b c", "%", "?", "#", "é", "[x]", "~"]), max_size=4))
def test_open_uri_is_as_uri(tmp_path_factory: pytest.TempPathFactory, names: list[str]) -> None:
    path = tmp_path_factory.getbasetemp().joinpath(*names, "memory.db")
    assert open_uri(path) == f"{path.resolve().as_uri()}?mode=rw"
    assert open_uri(os.fspath(path)) == open_uri(path)


def test_file_mode_follows_pathlibs_rule(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    (tmp_path / "dir").mkdir()
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    for name in ["file", "dir", "dangling", "nowhere", "file/below", "nul\0"]:
        path = tmp_path / name
        mode = file_mode(os.fspath(path))
        assert (mode != 0, stat.S_ISREG(mode), stat.S_ISDIR(mode)) == (
            path.exists(),
            path.is_file(),
            path.is_dir(),
        ), name


def test_file_mode_raises_where_pathlib_raises(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0)
    try:
        if os.access(locked, os.X_OK):
            pytest.skip("running as root: permissions are not enforced")
        with pytest.raises(PermissionError):
            (locked / "x").exists()
        with pytest.raises(PermissionError):
            file_mode(os.fspath(locked / "x"))
    finally:
        locked.chmod(0o700)
