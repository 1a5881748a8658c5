"""Property: the hook path's text paths read as pathlib reads them.

A hook handles paths as text (pathlib and urllib.parse cost it some 4 ms to import), so
memory.locator parses, normalises and stats text paths itself, and memory.schema builds the
store's URI itself. Each must give what the pathlib expression it replaces gives.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path, PurePosixPath
from urllib.parse import quote, unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from memory.locator import (
    file_mode,
    is_url,
    normal_path,
    pg_url,
    quote_all,
    redact,
    split_path,
    url_location,
    url_path,
)
from memory.locator import unquote as text_unquote
from memory.schema import open_uri

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


def _no_surrogates(text: str) -> bool:
    return all(not ("\ud800" <= c <= "\udfff") for c in text)


@given(st.text().filter(_no_surrogates))
def test_percent_encoding_is_urllib_parse_s(text: str) -> None:
    encoded = quote_all(text)
    assert encoded == quote(text, safe="")
    assert text_unquote(encoded) == unquote(encoded) == text


@given(st.text(alphabet=st.sampled_from("%aF0g9%-/\u00e9")))
def test_unquote_of_any_text_is_urllib_parse_s(text: str) -> None:
    assert text_unquote(text) == unquote(text)


@given(
    st.text(min_size=1).filter(_no_surrogates),
    st.sampled_from(["/repo/.swarm", "rel/.swarm/", "/a//b/./c"]),
)
def test_url_location_is_url_path_as_text(url: str, directory: str) -> None:
    assert url_location(url, directory) == str(url_path(url, directory))


@given(st.text(alphabet=st.sampled_from("u:p@h/?#%x")).map(lambda rest: "postgresql://" + rest))
def test_redact_leaves_alone_only_what_has_no_password(url: str) -> None:
    from urllib.parse import urlsplit

    try:
        password = urlsplit(url).password
    except ValueError:
        return
    assert (redact(url) == url) == (password is None) or "***" in url
