"""Deleting articles (``remove``, ``expire`` and the sliding window).

A deletion undoes exactly what ``add`` stored for the article: its row, and its share of
the caller's in-memory term statistics; the ``deletions`` counter tells every other open
index (in any process) to drop it from its in-memory lookups and statistics
(:mod:`clusterer.index.derived`).
Stories lose the member and keep their id; an emptied story disappears. Stories are
never split, so no story id changes meaning.
"""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import numpy.typing as npt

from ..config import ClusterConfig
from .derived import stats_moments
from .lookup import StoredRows, fetch_where

__all__ = ["delete_ids", "delete_where"]

I64 = npt.NDArray[np.int64]


def delete_ids(
    conn: sqlite3.Connection,
    ids: list[str],
    config: ClusterConfig,
    stats: I64,
    counters: dict[str, int],
) -> I64:
    """Delete the stored articles with these ids; return their row ids."""
    if not ids:
        return np.zeros(0, np.int64)
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
) -> I64:
    """Delete the stored articles matching a WHERE clause; return their row ids.

    ``stats`` and ``counters`` are updated in place (the caller drops them on rollback).
    """
    rows = fetch_where(conn, where, params, config.num_perm)
    n = rows.rowid.size
    if n == 0:
        return rows.rowid
    _unindex(rows, stats)
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
    return rows.rowid


def _unindex(rows: StoredRows, stats: I64) -> None:
    terms = rows.term_features.astype(np.int64)
    tops = np.concatenate(rows.tops).astype(np.int64) if rows.tops else np.zeros(0, np.int64)
    stats[0] -= np.bincount(terms, minlength=stats.shape[1])
    stats[1] -= np.bincount(tops, minlength=stats.shape[1])
    np.maximum(stats[:2], 0, out=stats[:2])
    stats_moments(stats, rows.term_ptr, rows.term_features, rows.days, -1)
