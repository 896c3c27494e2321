"""Deleting articles (``remove``, ``expire`` and the sliding window).

A deletion undoes exactly what ``add`` stored for the article: its row and its share of
the term statistics; the ``deletions`` counter tells every open index (in any process)
to drop it from its in-memory band keys and postings (:mod:`clusterer.index.derived`).
Stories lose the member and keep their id; an emptied story disappears. Stories are
never split, so no story id changes meaning.
"""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import numpy.typing as npt

from ..config import ClusterConfig
from .lookup import StoredRows, fetch_where
from .storage import save_term_stats

__all__ = ["delete_ids", "delete_where"]

I64 = npt.NDArray[np.int64]


def delete_ids(
    conn: sqlite3.Connection,
    ids: list[str],
    config: ClusterConfig,
    stats: I64,
    counters: dict[str, int],
) -> int:
    """Delete the stored articles with these ids; return the count."""
    if not ids:
        return 0
    return delete_where(
        conn, "id IN (SELECT value FROM json_each(?))", (json.dumps(ids),), config, stats, counters
    )


def delete_where(
    conn: sqlite3.Connection,
    where: str,
    params: tuple[object, ...],
    config: ClusterConfig,
    stats: I64,
    counters: dict[str, int],
) -> int:
    """Delete the stored articles matching a WHERE clause; return the count.

    ``stats`` and ``counters`` are updated in place (the caller drops them on rollback).
    """
    rows = fetch_where(conn, where, params, config.num_perm)
    n = rows.rowid.size
    if n == 0:
        return 0
    _unindex(conn, rows, stats)
    conn.execute(
        "DELETE FROM articles WHERE rowid IN (SELECT value FROM json_each(?))",
        (json.dumps(rows.rowid.tolist()),),
    )
    for story in np.unique(rows.story).tolist():
        size, lo, hi = conn.execute(
            "SELECT count(*), min(day), max(day) FROM articles WHERE story_id = ?", (story,)
        ).fetchone()
        if size == 0:
            conn.execute("DELETE FROM stories WHERE id = ?", (story,))
        else:
            conn.execute(
                "UPDATE stories SET size = ?, first_day = ?, last_day = ? WHERE id = ?",
                (size, lo, hi, story),
            )
    counters["n_docs"] -= n
    counters["deletions"] += 1
    conn.executemany(
        "UPDATE meta SET value = ? WHERE key = ?",
        [(str(counters[k]), k) for k in ("n_docs", "deletions")],
    )
    return n


def _unindex(conn: sqlite3.Connection, rows: StoredRows, stats: I64) -> None:
    terms = rows.term_features.astype(np.int64)
    tops = np.concatenate(rows.tops).astype(np.int64) if rows.tops else np.zeros(0, np.int64)
    np.subtract.at(stats[0], terms, 1)
    np.subtract.at(stats[1], tops, 1)
    np.maximum(stats, 0, out=stats)
    save_term_stats(conn, stats, np.concatenate((terms, tops)))
