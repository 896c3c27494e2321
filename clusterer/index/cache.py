"""In-memory cache of stored term rows (per open index, bounded).

Scoring story candidates needs the term counts of every stored article a batch's
postings reach: tens of thousands per batch of 1,000 at 100k stored. Reading and
checksumming them from SQLite each time dominated ``add``; they are kept here instead.

The cached values never go stale: an article's terms and date are immutable once
committed, and row ids are never reused (``next_article`` only grows), so another
process writing to the file cannot invalidate an entry. Deleted articles simply stop
being asked for (their postings go with them). Rows enter the cache only after their
own commit (``add``) or after a checksummed read (misses), so cached rows were verified
once; damage to the file after that is found by the next process that opens it.

Memory is bounded by ``budget`` term entries (8 bytes each); the oldest row ids (the
least likely date-nearest candidates of a news stream) are evicted first.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .lookup import decode_rows

__all__ = ["TermCache", "TermRows"]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

#: Default budget: term entries kept (about 8 bytes each, so 256 MB).
BUDGET = 1 << 25

_COLUMNS = "rowid, id, story_id, group_id, day, empty, signature, shingles, terms, top, crc"


@dataclass
class TermRows:
    """Term counts of some stored rows in CSR form, ordered by row id."""

    rowid: I64
    days: F64
    ptr: I64
    features: npt.NDArray[np.uint32]
    body: npt.NDArray[np.uint16]
    title: npt.NDArray[np.uint16]

    @property
    def entries(self) -> int:
        """Number of term entries."""
        return int(self.features.size)


class TermCache:
    """Term rows of stored articles by row id, filled on commit and on misses.

    One flat store: ``start[rowid]`` / ``length[rowid]`` locate a row's entries in
    append-only arrays (``length`` -1: not cached), so a lookup is one gather.

    Parameters
    ----------
    num_perm : int
        Signature length (to decode rows read on a miss).
    budget : int
        Largest number of term entries kept.
    """

    def __init__(self, num_perm: int, budget: int = BUDGET) -> None:
        self.num_perm = num_perm
        self.budget = budget
        self._start = np.zeros(0, np.int64)
        self._len = np.zeros(0, np.int64)
        self._days = np.zeros(0, np.float64)
        self._store = TermRows(
            np.zeros(0, np.int64),
            np.zeros(0, np.float64),
            np.zeros(1, np.int64),
            np.zeros(0, np.uint32),
            np.zeros(0, np.uint16),
            np.zeros(0, np.uint16),
        )
        self._used = 0
        self.hits = 0
        self.misses = 0

    def put(self, block: TermRows) -> None:
        """Add committed (or checksummed) rows."""
        if block.rowid.size == 0:
            return
        top = int(block.rowid.max()) + 1
        if top > self._len.size:
            grow = max(top, 2 * self._len.size)
            self._start = np.concatenate((self._start, np.zeros(grow - self._start.size, np.int64)))
            self._len = np.concatenate((self._len, np.full(grow - self._len.size, -1, np.int64)))
            self._days = np.concatenate((self._days, np.zeros(grow - self._days.size)))
        n = block.entries
        if self._used + n > self._store.features.size:
            self._compact(n)
        st = self._store
        st.features[self._used : self._used + n] = block.features
        st.body[self._used : self._used + n] = block.body
        st.title[self._used : self._used + n] = block.title
        self._start[block.rowid] = self._used + block.ptr[:-1]
        self._len[block.rowid] = np.diff(block.ptr)
        self._days[block.rowid] = block.days
        self._used += n

    def _compact(self, need: int) -> None:
        """Make room for ``need`` entries: drop the oldest rows over budget, regrow."""
        live = np.flatnonzero(self._len >= 0)
        lens = self._len[live]
        total = int(lens.sum())
        if total + need > self.budget:  # evict the oldest row ids
            keep_from = np.searchsorted(np.cumsum(lens[::-1]), self.budget // 2 - need)
            drop = live[: max(live.size - int(keep_from), 0)]
            self._len[drop] = -1
            live = np.flatnonzero(self._len >= 0)
            lens = self._len[live]
            total = int(lens.sum())
        ptr = np.zeros(live.size + 1, np.int64)
        np.cumsum(lens, out=ptr[1:])
        old = TermRows(live, self._days[live], ptr, *self._slices(live))
        cap = max(2 * (total + need), 1 << 16)
        self._store = TermRows(
            np.zeros(0, np.int64),
            np.zeros(0, np.float64),
            np.zeros(1, np.int64),
            np.zeros(cap, np.uint32),
            np.zeros(cap, np.uint16),
            np.zeros(cap, np.uint16),
        )
        self._used = 0
        self._start[live] = ptr[:-1]
        self._store.features[:total] = old.features
        self._store.body[:total] = old.body
        self._store.title[:total] = old.title
        self._used = total

    def _slices(
        self, rowids: I64
    ) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.uint16], npt.NDArray[np.uint16]]:
        start, lens = self._start[rowids], self._len[rowids]
        total = int(lens.sum())
        ptr = np.cumsum(lens) - lens
        src = np.repeat(start - ptr, lens) + np.arange(total, dtype=np.int64)
        st = self._store
        return st.features[src], st.body[src], st.title[src]

    def get(self, conn: sqlite3.Connection, rowids: I64) -> TermRows:
        """Term rows of ``rowids`` (sorted, distinct), reading and caching misses.

        Raises
        ------
        sqlite3.DatabaseError
            If a row read on a miss fails its checksum.
        """
        inside = rowids < self._len.size
        cached = np.zeros(rowids.size, np.bool_)
        cached[inside] = self._len[rowids[inside]] >= 0
        missing = rowids[~cached]
        self.hits += int(cached.sum())
        self.misses += int(missing.size)
        if missing.size:
            fetched = conn.execute(
                f"SELECT {_COLUMNS} FROM articles WHERE rowid IN "
                "(SELECT value FROM json_each(?)) ORDER BY rowid",
                (json.dumps(missing.tolist()),),
            ).fetchall()
            stored = decode_rows(fetched, self.num_perm)
            self.put(
                TermRows(
                    stored.rowid,
                    stored.days,
                    stored.term_ptr,
                    stored.term_features,
                    stored.term_body,
                    stored.term_title,
                )
            )
            rowids = rowids[
                cached | np.isin(rowids, stored.rowid)
            ]  # rows gone meanwhile are skipped
        lens = self._len[rowids]
        ptr = np.zeros(rowids.size + 1, np.int64)
        np.cumsum(lens, out=ptr[1:])
        return TermRows(rowids, self._days[rowids], ptr, *self._slices(rowids))
