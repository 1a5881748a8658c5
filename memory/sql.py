"""Every SQL statement of the store, in one place, with `?` placeholders only.

The sync store (sqlite3) and the async store (aiosqlite) both run these statements,
through the same engine (`memory.engine`), so there is one set of SQL to port when a
PostgreSQL backend arrives: it uses only `ON CONFLICT`, standard `ORDER BY`/`LIMIT`
and no SQLite-only syntax beyond `GLOB` and `instr` in the search statements.
"""

from __future__ import annotations

#: `PRAGMA application_id` of a swarm store: ASCII "SWRM".
APPLICATION_ID = 0x5357524D

# --- schema -----------------------------------------------------------------------------

#: Migrations in order: (version, name, statements). A store at `PRAGMA user_version` N
#: has had migrations 1..N applied, each recorded in the `migrations` table.
MIGRATIONS: tuple[tuple[int, str, tuple[str, ...]], ...] = (
    (
        1,
        "initial tables: store_meta, kv, changes, migrations",
        (
            """CREATE TABLE store_meta (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    revision INTEGER NOT NULL,
    compacted_rev INTEGER NOT NULL,
    max_value_bytes INTEGER NOT NULL
)""",
            """CREATE TABLE kv (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    version INTEGER NOT NULL,
    create_rev INTEGER NOT NULL,
    mod_rev INTEGER NOT NULL,
    expires_at REAL
) WITHOUT ROWID""",
            """CREATE TABLE changes (
    rev INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    key TEXT NOT NULL,
    op TEXT NOT NULL CHECK (op IN ('put', 'delete', 'expire')),
    value TEXT,
    version INTEGER NOT NULL,
    actor TEXT,
    ts REAL NOT NULL,
    PRIMARY KEY (rev, seq)
) WITHOUT ROWID""",
            """CREATE TABLE migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at REAL NOT NULL
)""",
            "INSERT INTO store_meta (id, revision, compacted_rev, max_value_bytes) "
            "VALUES (1, 0, 0, 1048576)",
        ),
    ),
    (
        2,
        "indexes for lease expiry and per-key history",
        (
            "CREATE INDEX kv_expires_at ON kv (expires_at) WHERE expires_at IS NOT NULL",
            "CREATE INDEX changes_key_rev ON changes (key, rev)",
        ),
    ),
    (
        3,
        "writes touch fewer pages: on SQLite the revision is the change log's newest (the "
        "header keeps it only when compaction or an import empties the log), and the "
        "per-key history index is gone",
        # The stored data already agrees with the derived revision. The version is raised
        # so that code from before it, which reads the revision from the header alone,
        # refuses the store. A key's history is read by scanning the log (bounded by the
        # daemon's compaction): a rare operator's query, against a page on every write.
        ("DROP INDEX IF EXISTS changes_key_rev",),
    ),
)

#: The schema version this code writes.
SCHEMA_VERSION = MIGRATIONS[-1][0]

#: A fresh store's schema, created in one step; a test checks that it equals the schema
#: reached by running every migration.
FRESH_SCHEMA: tuple[str, ...] = (
    """CREATE TABLE store_meta (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    revision INTEGER NOT NULL,
    compacted_rev INTEGER NOT NULL,
    max_value_bytes INTEGER NOT NULL
)""",
    """CREATE TABLE kv (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    version INTEGER NOT NULL,
    create_rev INTEGER NOT NULL,
    mod_rev INTEGER NOT NULL,
    expires_at REAL
) WITHOUT ROWID""",
    "CREATE INDEX kv_expires_at ON kv (expires_at) WHERE expires_at IS NOT NULL",
    """CREATE TABLE changes (
    rev INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    key TEXT NOT NULL,
    op TEXT NOT NULL CHECK (op IN ('put', 'delete', 'expire')),
    value TEXT,
    version INTEGER NOT NULL,
    actor TEXT,
    ts REAL NOT NULL,
    PRIMARY KEY (rev, seq)
) WITHOUT ROWID""",
    """CREATE TABLE migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at REAL NOT NULL
)""",
    "INSERT INTO store_meta (id, revision, compacted_rev, max_value_bytes) "
    "VALUES (1, 0, 0, 1048576)",
)

RECORD_MIGRATION = "INSERT INTO migrations (version, name, applied_at) VALUES (?, ?, ?)"
SCHEMA_OBJECTS = (
    "SELECT type, name, tbl_name, sql FROM sqlite_master "
    "WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name"
)

# --- pragmas (SQLite connection set-up; not data statements) ----------------------------

READ_IDENTITY = "SELECT * FROM pragma_application_id(), pragma_user_version()"
INTEGRITY_CHECK = "PRAGMA integrity_check"
QUICK_CHECK = "PRAGMA quick_check"
ALL_VALUES = "SELECT key, value FROM kv ORDER BY key"
SET_WAL = "PRAGMA journal_mode = WAL"
SET_SYNCHRONOUS = "PRAGMA synchronous = NORMAL"
# After a checkpoint, the WAL file is truncated to at most this many bytes (4 MiB).
SET_JOURNAL_SIZE_LIMIT = "PRAGMA journal_size_limit = 4194304"
BEGIN_WRITE = "BEGIN IMMEDIATE"
BEGIN_READ = "BEGIN"
COMMIT = "COMMIT"
ROLLBACK = "ROLLBACK"
SAVEPOINT = "SAVEPOINT swarm_txn"
ROLLBACK_TO_SAVEPOINT = "ROLLBACK TO swarm_txn"
RELEASE_SAVEPOINT = "RELEASE swarm_txn"


def set_application_id() -> str:
    """PRAGMA statements cannot take placeholders; the id is a constant of ours."""
    return f"PRAGMA application_id = {APPLICATION_ID:d}"


def set_user_version(version: int) -> str:
    """`PRAGMA user_version = N` for a schema version of ours (an int, never user input)."""
    return f"PRAGMA user_version = {int(version):d}"


# --- data statements --------------------------------------------------------------------

_RECORD_COLUMNS = "key, value, version, create_rev, mod_rev, expires_at"
_CHANGE_COLUMNS = "rev, seq, key, op, value, version, actor, ts"
_LIVE = "(expires_at IS NULL OR expires_at > ?)"

# The header, and when the next lease runs out: a write sweeps expired keys only when
# one is due, without a query of its own.
#
# On SQLite the revision is the newest logged change's (every write that raises it logs a
# change at it), or the header's when compaction or an import emptied the log: a write
# then dirties two pages (the key and the log) rather than the header's too, and
# SET_REVISION is not run at all (memory.schema.drive skips it). PostgreSQL keeps writing
# the header: its write lock and its NOTIFY trigger are on that row.
READ_META = (
    "SELECT max(revision, coalesce((SELECT max(rev) FROM changes), 0)), compacted_rev, "
    "max_value_bytes, (SELECT min(expires_at) FROM kv WHERE expires_at IS NOT NULL) "
    "FROM store_meta WHERE id = 1"
)
SET_REVISION = "UPDATE store_meta SET revision = ? WHERE id = 1"
SET_MAX_VALUE_BYTES = "UPDATE store_meta SET max_value_bytes = ? WHERE id = 1"
SET_REVISION_AND_COMPACTED = "UPDATE store_meta SET revision = ?, compacted_rev = ? WHERE id = 1"

GET = f"SELECT {_RECORD_COLUMNS} FROM kv WHERE key = ? AND {_LIVE}"


def get_many(count: int) -> str:
    """SELECT the live records of `count` keys (one `?` per key)."""
    marks = ", ".join("?" * count)
    return f"SELECT {_RECORD_COLUMNS} FROM kv WHERE key IN ({marks}) AND {_LIVE}"


RANGE = f"SELECT {_RECORD_COLUMNS} FROM kv WHERE key >= ? AND key < ? AND {_LIVE} ORDER BY key"
RANGE_LIMIT = (
    f"SELECT {_RECORD_COLUMNS} FROM kv WHERE key >= ? AND key < ? AND {_LIVE} ORDER BY key LIMIT ?"
)
RANGE_NEWEST = (
    f"SELECT {_RECORD_COLUMNS} FROM kv WHERE key >= ? AND key < ? AND {_LIVE} "
    "ORDER BY key DESC LIMIT ?"
)
SEARCH_KEYS = f"SELECT {_RECORD_COLUMNS} FROM kv WHERE key GLOB ? AND {_LIVE} ORDER BY key"
SEARCH_VALUES = (
    f"SELECT {_RECORD_COLUMNS} FROM kv WHERE instr(value, ?) > 0 AND {_LIVE} ORDER BY key"
)
COUNT_KEYS = f"SELECT count(*) FROM kv WHERE {_LIVE}"
# A put computes the new version in SQL; the caller sweeps due leases first, so an
# existing row is live.
UPSERT_RETURNING = (
    f"INSERT INTO kv ({_RECORD_COLUMNS}) VALUES (?, ?, 1, ?, ?, ?) "
    "ON CONFLICT (key) DO UPDATE SET value = excluded.value, version = kv.version + 1, "
    "mod_rev = excluded.mod_rev, expires_at = excluded.expires_at "
    "RETURNING version, create_rev"
)
DELETE_RETURNING = f"DELETE FROM kv WHERE key = ? AND {_LIVE} RETURNING {_RECORD_COLUMNS}"
INSERT_RECORD = f"INSERT INTO kv ({_RECORD_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)"
DELETE = "DELETE FROM kv WHERE key = ?"
TOUCH = f"UPDATE kv SET expires_at = ? WHERE key = ? AND {_LIVE}"
DUE = (
    "SELECT key, value, version FROM kv "
    "WHERE expires_at IS NOT NULL AND expires_at <= ? ORDER BY key"
)
NEXT_EXPIRY = "SELECT min(expires_at) FROM kv WHERE expires_at IS NOT NULL"

INSERT_CHANGE = f"INSERT INTO changes ({_CHANGE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
# Changes after the position (rev, seq): `rev > ? OR (rev = ? AND seq > ?)`, written with
# the bound `rev >= ?` first so that both engines search the primary key from the position
# (the bare OR form makes SQLite scan the whole log and sort).
CHANGES_SINCE = (
    f"SELECT {_CHANGE_COLUMNS} FROM changes WHERE rev >= ? AND (rev > ? OR seq > ?) "
    "AND key >= ? AND key < ? ORDER BY rev, seq LIMIT ?"
)
HISTORY = f"SELECT {_CHANGE_COLUMNS} FROM changes WHERE key = ? AND rev >= ? ORDER BY rev, seq"
COMPACT = "DELETE FROM changes WHERE rev <= ?"
CHANGE_COUNT = "SELECT count(*) FROM changes"
NTH_NEWEST_REV = "SELECT rev FROM changes ORDER BY rev DESC, seq DESC LIMIT 1 OFFSET ?"
OLDEST_REV_AFTER = "SELECT min(rev) FROM changes WHERE ts >= ?"
IS_EMPTY = "SELECT NOT EXISTS (SELECT 1 FROM kv) AND NOT EXISTS (SELECT 1 FROM changes)"


# --- the PostgreSQL dialect ---------------------------------------------------------------
#
# The PostgreSQL store (memory/pg.py) runs the same statements through `postgres()`:
# `?` becomes `%s`, the DDL's SQLite types become PostgreSQL's (64-bit integers, double
# precision, text compared byte-wise with COLLATE "C" so that key ranges and ORDER BY
# match SQLite's BINARY order), and the few SQLite-only statements have an entry in
# `_POSTGRES_OVERRIDES`. A statement added above is ported automatically unless it uses
# SQLite-only syntax, which then needs an entry here.

#: The NOTIFY channel of a store is this prefix and the store's schema name.
PG_CHANNEL_PREFIX = "swarm:"

#: Run once when a PostgreSQL store is created, after the migrated schema: one NOTIFY per
#: committed write transaction (each bumps store_meta.revision exactly once), carrying the
#: new revision, delivered by the server only when the transaction commits.
PG_NOTIFY_SETUP: tuple[str, ...] = (
    """CREATE OR REPLACE FUNCTION swarm_notify_revision() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('swarm:' || TG_TABLE_SCHEMA, NEW.revision::text);
    RETURN NULL;
END
$$ LANGUAGE plpgsql""",
    """CREATE TRIGGER store_meta_notify AFTER UPDATE OF revision ON store_meta
FOR EACH ROW WHEN (NEW.revision IS DISTINCT FROM OLD.revision)
EXECUTE FUNCTION swarm_notify_revision()""",
)

#: The schema the connection works in, and which of our tables exist there.
PG_IDENTITY = (
    "SELECT current_schema(), "
    "to_regclass(quote_ident(current_schema()) || '.store_meta') IS NOT NULL, "
    "to_regclass(quote_ident(current_schema()) || '.migrations') IS NOT NULL, "
    "(SELECT count(*) FROM pg_tables WHERE schemaname = current_schema())"
)
PG_SCHEMA_VERSION = "SELECT coalesce(max(version), 0) FROM migrations"
#: The write lock, like SQLite's BEGIN IMMEDIATE: every write transaction takes the header
#: row first, so writers run one at a time and each sees the last one's commit.
PG_BEGIN_WRITE = "BEGIN ISOLATION LEVEL READ COMMITTED"
PG_LOCK_WRITERS = "SELECT 1 FROM store_meta WHERE id = 1 FOR UPDATE"
#: Reads see one state, as inside SQLite's read transaction.
PG_BEGIN_READ = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
#: Serialises schema creation and migration between processes opening one new store.
PG_LOCK_SCHEMA = "SELECT pg_advisory_xact_lock(hashtext('swarm-schema:' || current_schema()))"
#: One daemon per store: a session-level advisory lock, released when its connection ends.
PG_TRY_DAEMON_LOCK = "SELECT pg_try_advisory_lock(hashtext('swarm-daemon:' || current_schema()))"
PG_DAEMON_LOCK_HOLDER = (
    "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
    "WHERE l.locktype = 'advisory' AND l.granted AND l.database = ("
    "SELECT oid FROM pg_database WHERE datname = current_database()) "
    "AND l.objid = (hashtext('swarm-daemon:' || current_schema()))::oid"
)
PG_TABLES = (
    "SELECT table_name, column_name, data_type, is_nullable, collation_name "
    "FROM information_schema.columns WHERE table_schema = current_schema() "
    "ORDER BY table_name, ordinal_position"
)

_POSTGRES_OVERRIDES: dict[str, str] = {
    # Every write transaction updates the header row (see READ_META).
    READ_META: "SELECT revision, compacted_rev, max_value_bytes, "
    "(SELECT min(expires_at) FROM kv WHERE expires_at IS NOT NULL) "
    "FROM store_meta WHERE id = 1",
    # A key glob becomes an anchored regular expression (see memory.pg.glob_to_regex).
    SEARCH_KEYS: f"SELECT {_RECORD_COLUMNS} FROM kv WHERE key ~ %s AND "
    "(expires_at IS NULL OR expires_at > %s) ORDER BY key",
    SEARCH_VALUES: f"SELECT {_RECORD_COLUMNS} FROM kv WHERE strpos(value, %s) > 0 AND "
    "(expires_at IS NULL OR expires_at > %s) ORDER BY key",
}

_DDL_TYPES = (
    (" WITHOUT ROWID", ""),
    (" INTEGER", " BIGINT"),
    (" REAL", " DOUBLE PRECISION"),
    (" TEXT", ' TEXT COLLATE "C"'),
)

_postgres_cache: dict[str, str] = {}


def postgres(statement: str) -> str:
    """The PostgreSQL form of one of the statements above."""
    cached = _postgres_cache.get(statement)
    if cached is not None:
        return cached
    ported = _POSTGRES_OVERRIDES.get(statement)
    if ported is None:
        ported = statement
        if statement.startswith("CREATE TABLE"):
            for sqlite_form, pg_form in _DDL_TYPES:
                ported = ported.replace(sqlite_form, pg_form)
        ported = ported.replace("?", "%s")
    if len(_postgres_cache) < 4096:
        _postgres_cache[statement] = ported
    return ported
