"""Band keys, top-term postings and term statistics of the stored articles, in memory.

Format 2 stores no lookup tables and format 3 no term statistics: the band keys are a
function of each stored signature, the postings of each stored top-term list and date,
and the document frequencies and posting counts are sums over the stored term lists,
so all of them are derived data. They are rebuilt here when an index is opened and kept
up to date after that:

* rows committed since the last look by any other process are read by row id
  (``next_article`` only grows, so they are exactly the rows above the highest id
  loaded); this process's own batches are added from memory after their commit;
* a deletion (``remove``, ``expire``, the window) increments the ``deletions`` counter
  in ``meta``. Our own deletions are applied after their commit; when the counter
  moved otherwise, the set of live row ids is read again, dead rows are masked out of
  every lookup and their terms subtracted from the statistics (posting counts from
  the postings; document frequencies from the term cache, or, if a dead row has left
  the cache, recounted over the live rows).

Rows are read with their checksum verified (:func:`~clusterer.index.lookup.decode_rows`)
and their term rows go to the :class:`~clusterer.index.cache.TermCache` on the way.

Structure: (key, row id) for bands, sorted by key, and (term-day key, day, row id) for
postings, sorted by all three, so that within a term the dated postings are in date
order. Each lives in segments of decreasing size, a large main one and a small recent
one that a batch is merged into (merged into the one before once it holds a quarter of
it): two for postings, three for band keys (~30 per article, so merging a batch into a
recent segment of up to a quarter of the main one cost ~9 ms per batch at 100k
stored). A deletion drops the entries of deleted rows at once (they must not take the
place of live neighbours in a posting lookup).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .._specific_kernels import add_moments
from ..config import ClusterConfig
from ..lsh import band_keys
from ..pipeline import banding_for
from ._posting_kernel import merge_keys, merge_sorted, nearest_pairs, sorted_ranges
from .cache import TermCache
from .lookup import fetch_where
from .storage import UNDATED

__all__ = ["Derived"]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

#: Rows decoded per read while loading (bounds the memory of one step).
LOAD_ROWS = 20000
#: Bits of the day part of a posting key (minutes since the epoch, offset).
_DAY_BITS = 37
_DAY_OFFSET = 1 << (_DAY_BITS - 1)


def day_keys(days: F64) -> I64:
    """Order-preserving integer key of each day (minutes, floored); 0 for UNDATED/NaN."""
    minutes = np.floor(np.clip(days, -1e12, 1e12) * 1440.0)
    keys = np.clip(minutes + _DAY_OFFSET, 1, (1 << _DAY_BITS) - 1).astype(np.int64)
    return np.where((days == UNDATED) | np.isnan(days), 0, keys)


#: The recent segment is merged into the main one once it holds this share of it (and at
#: least :data:`MIN_MERGE` entries): a batch then inserts into a small array, and the
#: large one is copied about once per ``1 / MERGE_SHARE`` of growth.
MERGE_SHARE = 0.25
MIN_MERGE = 1 << 16


@dataclass
class _Sorted:
    """Parallel arrays sorted by ``key`` (band key, or term-day key for postings)."""

    key: I64
    day: F64  # postings only (empty for bands)
    article: I64

    @classmethod
    def empty(cls) -> _Sorted:
        return cls(np.zeros(0, np.int64), np.zeros(0, np.float64), np.zeros(0, np.int64))

    def merge(self, other: _Sorted) -> _Sorted:
        """Both sets of entries, sorted (one pass over this segment).

        Postings are ordered by (key, day, row id), so that within a term the dated
        ones are in date order; band keys by key alone.
        """
        if self.day.size or other.day.size:
            return _Sorted(*merge_sorted(self.key, self.day, self.article, *other.fields()))
        key, article = merge_keys(self.key, self.article, other.key, other.article)
        return _Sorted(key, self.day, article)

    def fields(self) -> tuple[I64, F64, I64]:
        return self.key, self.day, self.article

    def keep(self, alive: npt.NDArray[np.bool_]) -> _Sorted:
        ok = alive[self.article]
        return _Sorted(self.key[ok], self.day[ok] if self.day.size else self.day, self.article[ok])


class _Levels:
    """A sorted multiset in segments of decreasing size (the last receives new entries).

    A segment is merged into the one before it once it holds :data:`MERGE_SHARE` of it
    (and at least :data:`MIN_MERGE` entries), so an entry is copied a few times in all
    rather than once per batch while the recent segment grows.
    """

    def __init__(self, levels: int = 2) -> None:
        self.segments = [_Sorted.empty() for _ in range(levels)]

    def add(self, entries: _Sorted) -> None:
        segs = self.segments
        segs[-1] = segs[-1].merge(entries)
        for i in range(len(segs) - 1, 0, -1):
            if segs[i].key.size >= max(MIN_MERGE, MERGE_SHARE * segs[i - 1].key.size):
                segs[i - 1], segs[i] = segs[i - 1].merge(segs[i]), _Sorted.empty()

    def keep(self, alive: npt.NDArray[np.bool_]) -> None:
        self.segments = [s.keep(alive) for s in self.segments]


def _ranges(lo: I64, hi: I64) -> tuple[I64, I64]:
    """Positions covered by the ranges [lo, hi) and the range each belongs to."""
    lens = np.maximum(hi - lo, 0)
    which = np.repeat(np.arange(lo.size, dtype=np.int64), lens)
    ptr = np.cumsum(lens) - lens
    return np.repeat(lo - ptr, lens) + np.arange(int(lens.sum()), dtype=np.int64), which


def empty_stats(config: ClusterConfig) -> I64:
    """Zero statistics: df and posting counts, plus day moments with ``specific_terms``."""
    return np.zeros((5 if config.specific_terms else 2, config.n_features), np.int64)


def stats_moments(
    stats: I64, ptr: I64, terms: npt.NDArray[np.uint32], days: F64, sign: int
) -> None:
    """Add (``sign`` 1) or take away (-1) rows' day moments in ``stats`` rows 2-4.

    Those rows exist only with ``specific_terms`` (see :func:`empty_stats`); without
    them nothing is done.
    """
    if stats.shape[0] > 2:
        add_moments(stats[2:], ptr, terms, days, sign)


class Derived:
    """In-memory band keys and postings of one open index (one thread).

    Parameters
    ----------
    config : ClusterConfig
        Index config (banding, ``num_perm``).
    """

    def __init__(self, config: ClusterConfig) -> None:
        self.config = config
        self.banding = banding_for(config)
        self.seen = 0  # highest row id loaded
        self.deletions = -1  # value of the counter the live set was taken at (-1: none)
        self.alive = np.zeros(1, np.bool_)
        # bands: ~30 entries per article, three levels (a batch's entries are merged
        # into a segment of at most a quarter of the middle one, not of the main one)
        self._bands = _Levels(3)
        self._postings = _Levels()
        #: Document frequencies (row 0) and top-term posting counts (row 1) of live rows,
        #: and with ``specific_terms`` their day moments (rows 2-4, see
        #: :func:`~clusterer._specific_kernels.add_day_moments`).
        self.stats = empty_stats(config)

    # -- keeping up with the file -------------------------------------------------------
    def sync(self, conn: sqlite3.Connection, deletions: int, cache: TermCache) -> None:
        """Load rows committed since the last call; re-read the live set after deletions.

        Runs inside the caller's transaction, so what it sees is one snapshot.
        """
        while True:
            rows = fetch_where(
                conn,
                "rowid IN (SELECT rowid FROM articles WHERE rowid > ? ORDER BY rowid LIMIT ?)",
                (self.seen, LOAD_ROWS),
                self.config.num_perm,
            )
            if rows.rowid.size == 0:
                break
            cache.put(
                rows.rowid,
                rows.days,
                rows.term_ptr,
                rows.term_features,
                rows.term_body,
                rows.term_title,
            )
            keys = band_keys(rows.signatures, self.banding)
            self.stats[0] += self._counts(rows.term_features)
            self.stats[1] += self._counts(_flat(rows.tops))
            stats_moments(self.stats, rows.term_ptr, rows.term_features, rows.days, 1)
            self.append(rows.rowid, rows.days, rows.empty, keys, rows.tops)
        if deletions != self.deletions:
            live = np.array([r[0] for r in conn.execute("SELECT rowid FROM articles")], np.int64)
            now = np.zeros(self.alive.size, np.bool_)
            now[live] = True
            dead = np.flatnonzero(self.alive & ~now)
            for seg in self._postings.segments:
                self.stats[1] -= self._counts(seg.key[~now[seg.article]] >> _DAY_BITS)
            terms = cache.terms_of(dead)
            if terms is not None:
                self.stats[0] -= self._counts(terms)
                if self.stats.shape[0] > 2:
                    stats_moments(self.stats, *cache.term_rows(dead), -1)
            self.alive = now
            self.deletions = deletions
            self._bands.keep(self.alive)
            self._postings.keep(self.alive)
            if terms is None:
                self._recount(conn)

    def forget(self, rowids: I64, deletions: int) -> None:
        """Drop rows this process deleted and committed (statistics already updated)."""
        self.alive[rowids] = False
        self.deletions = deletions
        if rowids.size:
            self._bands.keep(self.alive)
            self._postings.keep(self.alive)

    def _counts(self, terms: npt.NDArray[np.generic]) -> I64:
        return np.bincount(terms.astype(np.int64), minlength=self.config.n_features)

    def _recount(self, conn: sqlite3.Connection) -> None:
        """Recount document frequencies (and day moments) over the live rows (checksummed reads)."""
        df = np.zeros(self.config.n_features, np.int64)
        self.stats[2:] = 0
        last = 0
        while True:
            rows = fetch_where(
                conn,
                "rowid IN (SELECT rowid FROM articles WHERE rowid > ? ORDER BY rowid LIMIT ?)",
                (last, LOAD_ROWS),
                self.config.num_perm,
            )
            if rows.rowid.size == 0:
                break
            df += self._counts(rows.term_features)
            stats_moments(self.stats, rows.term_ptr, rows.term_features, rows.days, 1)
            last = int(rows.rowid[-1])
        self.stats[0] = df

    def append(
        self,
        rowid: I64,
        days: F64,
        empty: npt.NDArray[np.bool_],
        keys: npt.NDArray[np.uint64],
        tops: list[npt.NDArray[np.uint32]],
        key_order: I64 | None = None,
    ) -> None:
        """Add committed rows (ascending ids above :attr:`seen`) to the lookups.

        ``add`` calls this with the batch it has just committed, so its own rows are
        never read back; rows of other processes come through :meth:`sync`.

        Parameters
        ----------
        rowid : (n,) int64
            Row ids.
        days : (n,) float64
            Days (NaN: undated).
        empty : (n,) bool
            Rows without text (no band keys).
        keys : (n, bands) uint64
            Band keys of the rows' signatures.
        tops : list of uint32 arrays
            Top terms of each row.
        key_order : int64 array, optional
            Stable sorting order of ``keys[~empty]`` flattened as int64, if known.
        """
        if rowid.size == 0:
            return
        top = int(rowid.max())
        if top >= self.alive.size:
            grow = max(top + 1, 2 * self.alive.size) - self.alive.size
            self.alive = np.concatenate((self.alive, np.zeros(grow, np.bool_)))
        self.alive[rowid] = True
        self.seen = max(self.seen, top)
        live = ~empty
        bkeys = keys[live].view(np.int64).ravel()
        owners = np.repeat(rowid[live], keys.shape[1])
        if key_order is None:
            key_order = np.argsort(bkeys, kind="stable")
        self._bands.add(_Sorted(bkeys[key_order], np.zeros(0, np.float64), owners[key_order]))
        lens = np.array([t.size for t in tops], np.int64)
        terms = _flat(tops)
        pdays = np.nan_to_num(np.repeat(days, lens), nan=UNDATED)
        arts = np.repeat(rowid, lens)
        pkey = (terms << _DAY_BITS) | day_keys(pdays)
        order = np.lexsort((arts, pdays, pkey))
        self._postings.add(_Sorted(pkey[order], pdays[order], arts[order]))

    # -- lookups ------------------------------------------------------------------------
    def bands(self, keys: I64) -> tuple[I64, I64]:
        """Live (key, row id) entries for the sorted distinct band ``keys``."""
        ks, arts = [], []
        for seg in self._bands.segments:
            at, _ = _ranges(*sorted_ranges(seg.key, keys))
            ks.append(seg.key[at])
            arts.append(seg.article[at])
        k, a = np.concatenate(ks), np.concatenate(arts)
        ok = self.alive[a]
        return k[ok], a[ok]

    def nearest(
        self, q_ptr: I64, q_term: I64, row_day: F64, span: float, k: int
    ) -> tuple[I64, I64]:
        """Distinct (batch row, row id) pairs of the date-nearest postings of each query.

        See :func:`clusterer.index._posting_kernel.nearest_pairs` (queries grouped by
        batch row through ``q_ptr``).
        """
        main, recent = (seg.fields() for seg in self._postings.segments)
        return nearest_pairs(*main, *recent, q_ptr, q_term, row_day, span, k, _DAY_BITS)

    def __len__(self) -> int:
        return int(self.alive.sum())


def _flat(tops: list[npt.NDArray[np.uint32]]) -> I64:
    return np.concatenate(tops).astype(np.int64) if tops else np.zeros(0, np.int64)
