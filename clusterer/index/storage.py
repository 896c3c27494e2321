"""SQLite storage of the story index: connection, schema, metadata and codecs.

Storage choices
---------------
* **WAL journal, ``synchronous=FULL``.** Surviving a killed process needs only WAL and
  one transaction per batch (a commit is in the OS page cache before ``add`` returns);
  ``FULL`` also fsyncs the log at each commit, so an acknowledged batch survives a power
  cut too. The cost is one fsync per *batch*, negligible next to a 1,000-article batch:
  at 100k stored, ``COMMIT`` took ~20 ms per batch of 1,000 with ``FULL`` and with
  ``NORMAL`` alike, so nothing is gained by weakening it.
* **Checkpoint every ~64 MB of log** (:data:`CHECKPOINT_PAGES`). A batch of 1,000
  writes ~6 MB of log, so SQLite's default (1,000 pages) checkpointed at every commit:
  copying the batch's pages into the file and syncing it each time. Every ~10 batches
  instead, pages written by several batches (index and story pages) are copied once
  and the file is synced once; ``add`` spent ~15-20 ms less waiting per batch at 100k
  stored. Since then a writer checkpoints in a background thread as each write begins
  (:mod:`clusterer.index.checkpoint`), so the log stays a batch or two long and no
  ``COMMIT`` pays for a checkpoint; the automatic one remains as the bound on the log
  (~64 MB plus one batch) should that thread fall behind.
* **One ``BEGIN IMMEDIATE`` transaction per write** (``add``, ``remove``, ``expire``): the
  write lock is taken before anything is read, so two writers serialise (the second
  waits up to ``busy_timeout``) and never decide on a stale snapshot.
* **Readers** use ordinary read transactions; WAL lets them run beside the writer.
* **Identification.** ``PRAGMA application_id`` holds :data:`APPLICATION_ID` and the
  ``meta`` table holds the format version, the ``ClusterConfig`` (including the MinHash
  scheme, seed and ``num_perm``) and the window, so a foreign or stale file is refused.
* **Integrity.** SQLite detects damage to its own structures; damage inside a stored
  value would go unnoticed, so every article row carries a CRC-32 of its blobs and
  metadata, checked whenever the row is read for a decision.

* **No lookup tables (format 2).** Band keys and top-term postings are derived from the
  stored signatures, top terms and dates and kept in memory
  (:mod:`clusterer.index.derived`), rebuilt when the file is opened. Stored as rows,
  they were ~50 B-tree inserts per article, written at random places of two large
  indexes: that write amplification dominated ``add``. Crash safety is unchanged,
  since derived data is never the only copy of anything.
* **No term statistics table (format 3).** Document frequencies and top-term posting
  counts are sums over the stored rows' term lists, so they are derived the same way.
  Stored, they were 512 compressed 16 KB chunks rewritten by every batch (a batch of
  1,000 touches ~150k of the 2**20 terms, so every chunk): ~30-45 ms of zlib per batch
  and ~2 MB of log. Format 1 and 2 files are refused with the rebuild command.

Schema (format version 3)::

    meta(key TEXT PRIMARY KEY, value TEXT)
    articles(rowid INTEGER PRIMARY KEY, id TEXT UNIQUE, batch, story_id, group_id,
             day REAL NULL, date TEXT, title, source, url, empty,
             signature BLOB (uint32 x num_perm), shingles BLOB (sorted uint32),
             terms BLOB (uint32 term ids | uint16 body counts | uint16 title counts),
             top BLOB (uint32 top terms), crc INTEGER)       + indexes on story, group, day
    stories(id INTEGER PRIMARY KEY, size, first_day, last_day, batch)
    events(seq INTEGER PRIMARY KEY, batch, at TEXT, kind TEXT, survivor, absorbed, article)
    aliases(old INTEGER, kind TEXT, new INTEGER, PRIMARY KEY(kind, old))
    batches(seq INTEGER PRIMARY KEY, at TEXT, n INTEGER, first_article, last_article)
"""

from __future__ import annotations

import json
import os
import sqlite3
import zlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from ..config import ClusterConfig
from ..errors import ConfigError, IndexFileError

__all__ = [
    "APPLICATION_ID",
    "CHECKPOINT_PAGES",
    "FORMAT_VERSION",
    "REBUILD",
    "article_crc",
    "attach",
    "connect",
    "create_schema",
    "guard",
    "quick_check",
    "read_meta",
    "row_crc",
]

FORMAT_VERSION = 3
APPLICATION_ID = 0x434C5358  # "CLSX"

#: Log pages (4 KB) after which a commit checkpoints the log into the file (~64 MB), when
#: the background checkpoints (:mod:`clusterer.index.checkpoint`) have not kept it shorter.
CHECKPOINT_PAGES = 16384

REBUILD = "clusterer index add NEW_INDEX CORPUS..."
#: Config fields that do not change results, so they may differ between sessions.
_FREE = frozenset({"kernel", "batch_size", "workers"})

_SCHEMA = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE articles(
    rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, batch INTEGER NOT NULL,
    story_id INTEGER NOT NULL, group_id INTEGER NOT NULL, day REAL, date TEXT,
    title TEXT NOT NULL, source TEXT, url TEXT, empty INTEGER NOT NULL,
    signature BLOB NOT NULL, shingles BLOB NOT NULL, terms BLOB NOT NULL,
    top BLOB NOT NULL, crc INTEGER NOT NULL);
CREATE INDEX articles_story ON articles(story_id);
CREATE INDEX articles_group ON articles(group_id);
CREATE INDEX articles_day ON articles(day);
CREATE TABLE stories(id INTEGER PRIMARY KEY, size INTEGER NOT NULL, first_day REAL,
    last_day REAL, batch INTEGER NOT NULL);
CREATE INDEX stories_last ON stories(last_day);
CREATE TABLE events(seq INTEGER PRIMARY KEY, batch INTEGER NOT NULL, at TEXT NOT NULL,
    kind TEXT NOT NULL, survivor INTEGER NOT NULL, absorbed INTEGER NOT NULL,
    article TEXT NOT NULL);
CREATE TABLE aliases(old INTEGER NOT NULL, kind TEXT NOT NULL, new INTEGER NOT NULL,
    PRIMARY KEY(kind, old));
CREATE TABLE batches(seq INTEGER PRIMARY KEY, at TEXT NOT NULL, n INTEGER NOT NULL,
    first_article INTEGER, last_article INTEGER);
"""

#: Day value of the postings of undated articles (outside any real window).
UNDATED = -1.0e300


@contextmanager
def guard(path: str) -> Iterator[None]:
    """Turn SQLite failures into :class:`IndexFileError` naming the file.

    Parameters
    ----------
    path : str
        Index file, for the message.
    """
    try:
        yield
    except sqlite3.OperationalError as exc:
        text = str(exc)
        if "locked" in text or "busy" in text:
            raise IndexFileError(
                f"index at {path} is locked by another writer and the wait timed out ({text})"
            ) from None
        raise IndexFileError(_corrupt(path, text)) from None
    except sqlite3.DatabaseError as exc:
        raise IndexFileError(_corrupt(path, str(exc))) from None


def _corrupt(path: str, detail: str) -> str:
    return f"index at {path} is not a readable story index ({detail}); rebuild it with: {REBUILD}"


def _check_header(path: str) -> None:
    """Refuse files that are not SQLite databases or are shorter than their header says."""
    size = os.path.getsize(path)
    if size == 0:
        return
    with open(path, "rb") as fh:
        head = fh.read(100)
    if len(head) < 100 or not head.startswith(b"SQLite format 3\x00"):
        raise IndexFileError(_corrupt(path, "file is not a SQLite database"))
    page = int.from_bytes(head[16:18], "big")
    page = 65536 if page == 1 else page
    pages = int.from_bytes(head[28:32], "big")
    if size % page or (pages and size < pages * page and not os.path.exists(path + "-wal")):
        raise IndexFileError(_corrupt(path, f"file is truncated ({size} bytes)"))


def connect(path: str, timeout: float, *, create: bool) -> sqlite3.Connection:
    """Open the database file with the pragmas the index relies on.

    Parameters
    ----------
    path : str
        Index file.
    timeout : float
        Seconds to wait for another writer's lock.
    create : bool
        Whether a missing file may be created.

    Returns
    -------
    sqlite3.Connection
        In autocommit mode (transactions are begun explicitly).
    """
    if os.path.isdir(path):
        raise IndexFileError(f"index path {path} is a directory, not an index file")
    if not os.path.exists(path):
        if not create:
            raise IndexFileError(
                f"no index at {path}; create one with: clusterer index add {path} CORPUS..."
            )
    else:
        _check_header(path)
    with guard(path):
        conn = sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute(f"PRAGMA wal_autocheckpoint = {CHECKPOINT_PAGES}")
        conn.execute("PRAGMA cache_size = -65536")
        conn.execute("PRAGMA temp_store = MEMORY")
    return conn


def create_schema(
    conn: sqlite3.Connection,
    config: ClusterConfig,
    window_days: float | None,
    settle_until: int | None = None,
) -> None:
    """Create tables and metadata in an empty database (caller holds the write lock)."""
    # executescript() would COMMIT the caller's transaction: run the statements one by one.
    for statement in _SCHEMA.split(";"):
        if statement.strip():
            conn.execute(statement)
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    meta = {
        "format_version": str(FORMAT_VERSION),
        "config": json.dumps(config.to_dict(), sort_keys=True),
        "scheme": config.to_dict()["scheme"],
        "seed": str(config.seed),
        "num_perm": str(config.num_perm),
        "window_days": json.dumps(window_days),
        "settle_until": json.dumps(settle_until),
        "next_story": "0",
        "next_group": "0",
        "next_article": "1",
        "n_docs": "0",
        "deletions": "0",
        "settled_at": "0",
        "settles": "0",
    }
    conn.executemany("INSERT INTO meta VALUES (?, ?)", sorted(meta.items()))


def read_meta(conn: sqlite3.Connection, path: str) -> dict[str, str]:
    """Read and sanity-check the metadata of an existing index.

    Raises
    ------
    IndexFileError
        If the file is another SQLite database or another format version.
    """
    app = conn.execute("PRAGMA application_id").fetchone()[0]
    has_meta = conn.execute(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
    ).fetchone()[0]
    if app != APPLICATION_ID or not has_meta:
        raise IndexFileError(
            f"{path} is a SQLite database but not a clusterer story index; "
            f"create an index with: clusterer index add NEW_INDEX CORPUS..."
        )
    meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    version = meta.get("format_version")
    if version != str(FORMAT_VERSION):
        raise IndexFileError(
            f"index at {path} has format version {version}, this clusterer reads version "
            f"{FORMAT_VERSION}; rebuild it with: {REBUILD}"
        )
    return meta


def stored_config(meta: Mapping[str, str], path: str) -> ClusterConfig:
    """Return the config an index was built with."""
    try:
        return ClusterConfig.from_dict(json.loads(meta["config"]))
    except (KeyError, ValueError, ConfigError) as exc:
        raise IndexFileError(
            f"index at {path} records a config this clusterer cannot use ({exc}); "
            f"rebuild it with: {REBUILD}"
        ) from None


def check_config(stored: ClusterConfig, wanted: ClusterConfig, path: str) -> None:
    """Refuse a config that would make stored signatures or weights incomparable."""
    a, b = stored.to_dict(), wanted.to_dict()
    diffs = [f"{k}={a[k]!r}" for k in sorted(a) if k not in _FREE and a[k] != b.get(k)]
    if diffs:
        asked = ", ".join(
            f"{k}={b.get(k)!r}" for k in sorted(a) if k not in _FREE and a[k] != b.get(k)
        )
        raise IndexFileError(
            f"index at {path} was built with {', '.join(diffs)} but {asked} was requested; "
            f"rebuild it with: {REBUILD}"
        )


def row_crc(*parts: bytes | str | int | float | None) -> int:
    """CRC-32 over the stored values of an article row (blobs and identity fields).

    Each part (``repr`` of non-blobs) is followed by a ``0x1f`` separator; the parts
    are joined and checksummed in one call (the same value as chaining the calls).
    """
    data = [p if type(p) is bytes else repr(p).encode() for p in parts]
    data.append(b"")
    return zlib.crc32(b"\x1f".join(data))


def article_crc(
    aid: object, day: object, empty: object, sig: bytes, sh: bytes, terms: bytes, top: bytes
) -> int:
    """:func:`row_crc` of an article row's seven checksummed values (blobs as bytes).

    The same value, computed without inspecting each part's type (it runs for every
    article written and every one read for a decision).
    """
    return zlib.crc32(
        b"\x1f".join(
            (repr(aid).encode(), repr(day).encode(), repr(empty).encode(), sig, sh, terms, top, b"")
        )
    )


def attach(
    conn: sqlite3.Connection,
    path: str,
    config: ClusterConfig | None,
    window_days: float | None,
    settle_until: int | None = None,
) -> ClusterConfig:
    """Create the schema in an empty file or check an existing one; return its config.

    Raises
    ------
    IndexFileError
        If the file is not an index of this format or was built with another config.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        fresh = not conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if fresh:
            create_schema(conn, config or ClusterConfig(), window_days, settle_until)
        meta = read_meta(conn, path)
        stored = stored_config(meta, path)
        if config is not None:
            check_config(stored, config, path)
        if window_days is not None and not fresh:
            conn.execute(
                "UPDATE meta SET value = ? WHERE key = 'window_days'", (to_json(window_days),)
            )
        if settle_until is not None and not fresh:
            # format 3 files written before settling existed lack the key
            conn.execute(
                "INSERT OR REPLACE INTO meta VALUES ('settle_until', ?)", (to_json(settle_until),)
            )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return stored


def quick_check(conn: sqlite3.Connection, path: str) -> None:
    """Run SQLite's ``quick_check`` over the whole file (IndexFileError if damaged)."""
    with guard(path):
        result = conn.execute("PRAGMA quick_check").fetchall()
    if result != [("ok",)]:
        raise IndexFileError(
            f"index at {path} is damaged ({result[0][0]}); rebuild it with: {REBUILD}"
        )


def to_json(value: Any) -> str:
    """JSON text for a meta value."""
    return json.dumps(value)
