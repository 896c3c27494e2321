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

Each entry is a term id and its sublinear term frequency (8 bytes); weighting with
the current idf happens per lookup in a compiled pass (:mod:`._weigh_kernel`), so the
cache holds no idf-dependent value. Memory is bounded by ``budget`` entries; the oldest
row ids (the least likely date-nearest candidates of a news stream) are evicted first.

**Frozen vectors.** Re-weighting every posting candidate with the current idf on every
batch dominated ``add``. :meth:`TermCache.frozen` instead keeps, per row, its vector
weighted with the idf of an *epoch* (the statistics when the epoch began), computed
once. The epoch ends when the number of stored articles has moved by more than
:data:`EPOCH_DRIFT` (relative); then vectors are recomputed as they are asked for.
Frozen vectors are approximate and only serve as a prefilter (see
:func:`clusterer.index.batch.plan_batch`): every decision uses exact weights.
"""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import numpy.typing as npt

from ..similarity import TfidfRows
from ._weigh_kernel import weigh_rows
from .lookup import decode_rows
from .weigh import Scratch, Weigher

__all__ = ["TermCache", "sublinear_tf"]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
F32 = npt.NDArray[np.float32]

#: Default budget: term entries kept (8 bytes each, so 256 MB).
BUDGET = 1 << 25

#: Relative change in the number of stored articles that ends an idf epoch.
EPOCH_DRIFT = 0.25

#: Frozen vectors are kept for ``max_terms`` up to this (fixed-width rows).
MAX_FROZEN = 128

_COLUMNS = "rowid, id, story_id, group_id, day, empty, signature, shingles, terms, top, crc"


def sublinear_tf(
    body: npt.NDArray[np.uint16], title: npt.NDArray[np.uint16], title_weight: float
) -> F32:
    """Term frequency as ``tfidf_rows`` forms it: 1 + log(count), title weighted."""

    def sub(counts: npt.NDArray[np.uint16]) -> F32:
        c = counts.astype(np.float32)
        return np.where(c > 0, 1.0 + np.log(np.maximum(c, 1.0)), 0.0).astype(np.float32)

    return np.asarray(sub(body) + np.float32(title_weight) * sub(title), dtype=np.float32)


class TermCache:
    """Term rows of stored articles by row id, filled on commit and on misses.

    One flat store: ``start[rowid]`` / ``length[rowid]`` locate a row's entries in
    append-only arrays (``length`` -1: not cached), so a lookup is one compiled pass.

    Parameters
    ----------
    num_perm : int
        Signature length (to decode rows read on a miss).
    title_weight : float
        Title weight of the term frequencies.
    budget : int
        Largest number of term entries kept.
    """

    def __init__(
        self, num_perm: int, title_weight: float, n_features: int, budget: int = BUDGET
    ) -> None:
        self.scratch = Scratch(n_features)
        self.num_perm = num_perm
        self.title_weight = title_weight
        self.budget = budget
        self._start = np.zeros(0, np.int64)
        self._len = np.zeros(0, np.int64)
        self._days = np.zeros(0, np.float64)
        self._feat = np.zeros(0, np.uint32)
        self._tf = np.zeros(0, np.float32)
        self._kept = np.zeros(0, np.uint8)  # entries a row kept at its last weighing
        self._known = np.zeros(0, np.bool_)  # rows whose marks are valid
        self._used = 0
        self._epoch = -1  # stored-article count the frozen idf was taken at (-1: none)
        self._epoch_idf = np.zeros(0, np.float32)
        self.fz_len = np.zeros(0, np.int64)  # -1: no frozen vector for this row yet
        self.fz_features = np.zeros((0, 0), np.uint32)
        self.fz_weights = np.zeros((0, 0), np.float32)
        self.hits = 0
        self.misses = 0

    def put(
        self,
        rowid: I64,
        days: F64,
        ptr: I64,
        features: npt.NDArray[np.uint32],
        body: npt.NDArray[np.uint16],
        title: npt.NDArray[np.uint16],
    ) -> None:
        """Add committed (or checksummed) rows in CSR form."""
        if rowid.size == 0:
            return
        top = int(rowid.max()) + 1
        if top > self._len.size:
            grow = max(top, 2 * self._len.size) - self._len.size
            self._start = np.concatenate((self._start, np.zeros(grow, np.int64)))
            self._len = np.concatenate((self._len, np.full(grow, -1, np.int64)))
            self._days = np.concatenate((self._days, np.zeros(grow)))
            self._known = np.concatenate((self._known, np.zeros(grow, np.bool_)))
        n = int(ptr[-1] - ptr[0])
        if self._used + n > self._feat.size:
            self._compact(n)
        at = self._used
        self._feat[at : at + n] = features[ptr[0] : ptr[-1]]
        self._tf[at : at + n] = sublinear_tf(
            body[ptr[0] : ptr[-1]], title[ptr[0] : ptr[-1]], self.title_weight
        )
        self._start[rowid] = at + ptr[:-1] - ptr[0]
        self._len[rowid] = np.diff(ptr)
        self._known[rowid] = False
        self._days[rowid] = days
        self._used += n

    def _compact(self, need: int) -> None:
        """Make room for ``need`` entries: drop the oldest rows over budget, regrow."""
        live = np.flatnonzero(self._len >= 0)
        if int(self._len[live].sum()) + need > self.budget:  # evict the oldest row ids
            newest_first = np.cumsum(self._len[live][::-1])
            keep = int(np.searchsorted(newest_first, max(self.budget // 2 - need, 0), "right"))
            self._len[live[: live.size - keep]] = -1
            live = live[live.size - keep :]
        lens = self._len[live]
        total = int(lens.sum())
        src = self._positions(self._start[live], lens)
        cap = max(min(max(2 * (total + need), 1 << 16), self.budget + need), total + need)
        feat = np.zeros(cap, np.uint32)
        tf = np.zeros(cap, np.float32)
        kept = np.zeros(cap, np.uint8)
        feat[:total] = self._feat[src]
        tf[:total] = self._tf[src]
        kept[:total] = self._kept[src]
        self._feat, self._tf, self._kept = feat, tf, kept
        self._start[live] = np.cumsum(lens) - lens
        self._used = total

    @staticmethod
    def _positions(start: I64, lens: I64) -> I64:
        ptr = np.cumsum(lens) - lens
        return np.repeat(start - ptr, lens) + np.arange(int(lens.sum()), dtype=np.int64)

    def weighted(
        self, conn: sqlite3.Connection, rowids: I64, weigh: Weigher
    ) -> tuple[I64, F64, TfidfRows]:
        """Weighted rows of ``rowids`` (sorted, distinct), reading and caching misses.

        Returns
        -------
        rowids, days, rows
            The rows found (rows deleted meanwhile are left out), their days and their
            vectors with the weigher's idf (features are global term ids).

        Raises
        ------
        sqlite3.DatabaseError
            If a row read on a miss fails its checksum.
        """
        rowids = self._ensure(conn, rowids)
        start, lens = self._start[rowids], self._len[rowids]
        if int(lens.sum()) < self.scratch.idf.size:  # few rows: only the terms they use
            idf = weigh.idf(self._feat[self._positions(start, lens)])
        else:
            idf = weigh.idf()
        k = weigh.config.max_terms or 0
        known = self._known[rowids]
        ptr, feats, weights = weigh_rows(
            start, lens, self._feat, self._tf, idf, k, self._kept, known
        )
        self._known[rowids] = known
        return rowids, self._days[rowids], TfidfRows(ptr, feats, weights, idf, weigh.specific)

    def _ensure(self, conn: sqlite3.Connection, rowids: I64) -> I64:
        """Read and cache the rows of ``rowids`` not cached yet; return those that exist."""
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
            st = decode_rows(fetched, self.num_perm)
            self.put(st.rowid, st.days, st.term_ptr, st.term_features, st.term_body, st.term_title)
            rowids = rowids[cached | np.isin(rowids, st.rowid)]
        return rowids

    def freeze(self, conn: sqlite3.Connection, rowids: I64, weigh: Weigher) -> I64 | None:
        """Make sure the rows of ``rowids`` (sorted, distinct) have frozen vectors.

        Vectors are weighted with the idf of the current epoch (see the module notes);
        they are read with :meth:`frozen_rows` or directly from ``fz_len``,
        ``fz_features`` and ``fz_weights`` (fixed-width, by row id).

        Returns
        -------
        int64 array or None
            The rows found (rows deleted meanwhile are left out); None when
            ``max_terms`` is unset or above :data:`MAX_FROZEN`, in which case callers
            weigh exactly with :meth:`weighted`.
        """
        k = weigh.config.max_terms or 0
        if not 0 < k <= MAX_FROZEN:
            return None
        n = weigh.n_docs
        stale = not (self._epoch / (1.0 + EPOCH_DRIFT) <= n <= self._epoch * (1.0 + EPOCH_DRIFT))
        if self._epoch < 0 or stale or self.fz_features.shape[1] != k:
            self._epoch = n
            self._epoch_idf = weigh.idf().copy()
            self.fz_len = np.full(self._len.size, -1, np.int64)
            self.fz_features = np.zeros((self._len.size, k), np.uint32)
            self.fz_weights = np.zeros((self._len.size, k), np.float32)
        rowids = self._ensure(conn, rowids)
        self._freeze_rows(rowids, k)
        return rowids

    def freeze_new(self, rowids: I64) -> None:
        """Give rows just put into the cache their frozen vectors of the current epoch.

        ``add`` calls this for its own batch while the batch commits (the commit waits
        for the disk), so the next batch finds the vectors ready instead of weighing
        ~1,000 new candidates on its way. They are the vectors :meth:`freeze` would
        compute later in the same epoch (they depend on the row and the epoch's idf
        only); if the next :meth:`freeze` starts a new epoch, they are dropped with the
        rest. Before the first epoch nothing is done.
        """
        if self._epoch >= 0 and rowids.size:
            self._freeze_rows(rowids, self.fz_features.shape[1])

    def _freeze_rows(self, rowids: I64, k: int) -> None:
        """Weigh the cached rows of ``rowids`` that have no frozen vector yet (epoch idf)."""
        if self.fz_len.size < self._len.size:
            grow = self._len.size - self.fz_len.size
            self.fz_len = np.concatenate((self.fz_len, np.full(grow, -1, np.int64)))
            self.fz_features = np.concatenate((self.fz_features, np.zeros((grow, k), np.uint32)))
            self.fz_weights = np.concatenate((self.fz_weights, np.zeros((grow, k), np.float32)))
        need = rowids[self.fz_len[rowids] < 0]
        if need.size:
            known = self._known[need]
            ptr, feats, weights = weigh_rows(
                self._start[need],
                self._len[need],
                self._feat,
                self._tf,
                self._epoch_idf,
                k,
                self._kept,
                known,
            )
            self._known[need] = known
            lens = np.diff(ptr)
            at = np.repeat(need, lens)
            col = np.arange(int(ptr[-1]), dtype=np.int64) - np.repeat(ptr[:-1], lens)
            self.fz_features[at, col] = feats
            self.fz_weights[at, col] = weights
            self.fz_len[need] = lens

    def frozen_rows(self, rowids: I64) -> TfidfRows:
        """Frozen vectors of rows made ready by :meth:`freeze`, as CSR rows."""
        lens = self.fz_len[rowids]
        ptr = np.zeros(rowids.size + 1, np.int64)
        np.cumsum(lens, out=ptr[1:])
        mask = np.arange(self.fz_features.shape[1])[None, :] < lens[:, None]
        return TfidfRows(
            ptr, self.fz_features[rowids][mask], self.fz_weights[rowids][mask], self._epoch_idf
        )

    def terms_of(self, rowids: I64) -> npt.NDArray[np.uint32] | None:
        """Term ids of all of ``rowids`` (concatenated), or None if any is not cached."""
        inside = rowids < self._len.size
        if not inside.all() or (self._len[rowids] < 0).any():
            return None
        return self._feat[self._positions(self._start[rowids], self._len[rowids])]

    def term_rows(self, rowids: I64) -> tuple[I64, npt.NDArray[np.uint32], F64]:
        """Row pointer, term ids and days of cached ``rowids`` (:meth:`terms_of` is not None)."""
        lens = self._len[rowids]
        ptr = np.zeros(rowids.size + 1, np.int64)
        np.cumsum(lens, out=ptr[1:])
        return ptr, self._feat[self._positions(self._start[rowids], lens)], self._days[rowids]

    def days(self, rowids: I64) -> F64:
        """Days of cached rows (NaN: undated)."""
        return self._days[rowids]
