"""A small binding of libpq for the hook path: one connection, text-format queries.

Importing psycopg costs a hook several times the work it does (psycopg imports asyncio,
ssl, logging, subprocess and more); this module loads the libpq that psycopg-binary
ships, through ctypes, and does only what `memory.pg.PgStore` needs: connect, run a
statement with parameters, read its rows, report errors with their SQLSTATE. The daemon,
the wake-ups and the daemon lock use psycopg itself.
"""

from __future__ import annotations

import ctypes
import os
import sys

TYPE_CHECKING = False  # not typing's: hooks do not import typing (see memory.tuples)
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

#: PQstatus, PQresultStatus and PQtransactionStatus values (libpq-fe.h).
CONNECTION_OK = 0
PGRES_COMMAND_OK = 1
PGRES_TUPLES_OK = 2
PQTRANS_IDLE = 0
PG_DIAG_SQLSTATE = ord("C")

_INT_OIDS = frozenset({20, 21, 23, 26})  # int8, int2, int4, oid
_FLOAT_OIDS = frozenset({700, 701})  # float4, float8
_BOOL_OID = 16
_NUMERIC_OID = 1700


class PqError(Exception):
    """A libpq error: its message, its SQLSTATE (None when the connection failed)."""

    def __init__(self, message: str, sqlstate: str | None = None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


def _find_library() -> str:
    """The libpq psycopg-binary ships (`psycopg_binary.libs/libpq-*.so*` in site-packages)."""
    for entry in sys.path:
        libs = os.path.join(entry or ".", "psycopg_binary.libs")
        if os.path.isdir(libs):
            for name in sorted(os.listdir(libs)):
                if name.startswith("libpq-") and ".so" in name:
                    return os.path.join(libs, name)
    import ctypes.util

    found = ctypes.util.find_library("pq")
    if found is None:
        raise PqError("libpq not found: install psycopg[binary]")
    return found


_lib: ctypes.CDLL | None = None


def _library() -> ctypes.CDLL:
    global _lib  # noqa: PLW0603 - loaded once per process, on first use
    if _lib is None:
        lib = ctypes.CDLL(_find_library())
        p, s, i = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int
        for name, restype, argtypes in (
            ("PQconnectdbParams", p, [ctypes.POINTER(s), ctypes.POINTER(s), i]),
            ("PQstatus", i, [p]),
            ("PQerrorMessage", s, [p]),
            ("PQfinish", None, [p]),
            ("PQtransactionStatus", i, [p]),
            ("PQexecParams", p, [p, s, i, p, ctypes.POINTER(s), p, p, i]),
            ("PQresultStatus", i, [p]),
            ("PQresultErrorMessage", s, [p]),
            ("PQresultErrorField", s, [p, i]),
            ("PQntuples", i, [p]),
            ("PQnfields", i, [p]),
            ("PQftype", ctypes.c_uint, [p, i]),
            ("PQgetvalue", s, [p, i, i]),
            ("PQgetisnull", i, [p, i, i]),
            ("PQclear", None, [p]),
        ):
            function = getattr(lib, name)
            function.restype = restype
            function.argtypes = argtypes
        _lib = lib
    return _lib


def _text(value: Any) -> bytes | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return b"t" if value else b"f"
    if isinstance(value, float):
        return repr(value).encode()
    return str(value).encode()


def _value(raw: bytes, oid: int) -> Any:
    if oid in _INT_OIDS:
        return int(raw)
    if oid in _FLOAT_OIDS:
        return float(raw)
    if oid == _BOOL_OID:
        return raw == b"t"
    if oid == _NUMERIC_OID:
        return int(raw) if raw.lstrip(b"-").isdigit() else float(raw)
    return raw.decode()


_numbered: dict[str, bytes] = {}


def _numbered_placeholders(query: str) -> bytes:
    """`%s` placeholders (psycopg's, as `memory.sql.postgres` writes them) as `$1, $2, ...`."""
    done = _numbered.get(query)
    if done is None:
        parts = query.split("%s")
        out = [parts[0]]
        for n, part in enumerate(parts[1:], start=1):
            out.append(f"${n}{part}")
        done = "".join(out).replace("%%", "%").encode()
        if len(_numbered) < 4096:
            _numbered[query] = done
    return done


class Result:
    """The rows of one statement (empty for a statement that returns none)."""

    def __init__(self, rows: list[tuple[Any, ...]], has_columns: bool) -> None:
        self.rows = rows
        self.description = () if has_columns else None

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self.rows

    def fetchone(self) -> tuple[Any, ...] | None:
        return self.rows[0] if self.rows else None


class Connection:
    """One libpq connection in autocommit mode (the store sends BEGIN and COMMIT)."""

    def __init__(self, url: str, settings: dict[str, str]) -> None:
        self._lib = _library()
        keywords = ["dbname", "client_encoding", *settings]
        values = [url, "UTF8", *settings.values()]
        keys = (ctypes.c_char_p * (len(keywords) + 1))(*[k.encode() for k in keywords], None)
        vals = (ctypes.c_char_p * (len(values) + 1))(*[v.encode() for v in values], None)
        self._conn: int | None = self._lib.PQconnectdbParams(keys, vals, 1)
        if self._lib.PQstatus(self._conn) != CONNECTION_OK:
            message = self._connection_error()
            self.close()
            raise PqError(message)

    def _connection_error(self) -> str:
        raw = self._lib.PQerrorMessage(self._conn) or b"connection failed"
        return raw.decode(errors="replace").strip()

    @property
    def closed(self) -> bool:
        return self._conn is None

    @property
    def idle(self) -> bool:
        """Whether no transaction is open (or the connection is gone)."""
        return self._conn is None or self._lib.PQtransactionStatus(self._conn) == PQTRANS_IDLE

    def execute(self, query: str, params: Sequence[Any] | None = None) -> Result:
        """Run one statement; `%s` placeholders take `params` in order."""
        if self._conn is None:
            raise PqError("the connection is closed")
        values = [] if params is None else [_text(value) for value in params]
        array = (ctypes.c_char_p * max(1, len(values)))(*values)
        res = self._lib.PQexecParams(
            self._conn, _numbered_placeholders(query), len(values), None, array, None, None, 0
        )
        if not res:
            raise PqError(self._connection_error())
        try:
            status = self._lib.PQresultStatus(res)
            if status not in (PGRES_COMMAND_OK, PGRES_TUPLES_OK):
                state = self._lib.PQresultErrorField(res, PG_DIAG_SQLSTATE)
                message = self._lib.PQresultErrorMessage(res) or b""
                text = message.decode(errors="replace").strip() or self._connection_error()
                raise PqError(text, state.decode() if state else None)
            fields = self._lib.PQnfields(res)
            oids = [self._lib.PQftype(res, f) for f in range(fields)]
            rows = [
                tuple(
                    None
                    if self._lib.PQgetisnull(res, r, f)
                    else _value(self._lib.PQgetvalue(res, r, f), oids[f])
                    for f in range(fields)
                )
                for r in range(self._lib.PQntuples(res))
            ]
            return Result(rows, status == PGRES_TUPLES_OK)
        finally:
            self._lib.PQclear(res)

    def close(self) -> None:
        """Close the connection."""
        if self._conn is not None:
            self._lib.PQfinish(self._conn)
            self._conn = None
