"""Compiled date-nearest posting lookup (story candidates of a batch).

Postings live in two segments (:mod:`clusterer.index.derived`), each sorted by
(term-day key, day, row id), so within a term the dated postings are in (day, row id)
order and the undated ones (key 0) come first, by row id. For one query (batch row,
top term) the ``k`` postings kept are those
:func:`~clusterer.index.lookup.posting_matches` describes: the undated ones with the
lowest row ids, then the dated ones nearest in date (ties: the earlier), within the
date window. A dated posting among the ``w`` nearest overall is among the ``w``
nearest of its own segment, so each segment contributes the ``w`` postings either side
of the query's day and the window is chosen in their merge.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit, prange

from ._bits import set_bits_sorted

__all__ = ["merge_keys", "merge_sorted", "nearest_pairs", "sorted_ranges"]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


@njit(cache=True)
def _lower_key(key: I64, lo: int, hi: int, x: int) -> int:  # pragma: no cover
    while lo < hi:
        mid = (lo + hi) // 2
        if key[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True)
def _gallop_key(key: I64, lo: int, hi: int, x: int) -> int:  # pragma: no cover
    """``_lower_key`` for an answer expected near ``lo``: gallop, then bisect."""
    step = 1
    bound = lo
    while bound < hi and key[bound] < x:
        lo = bound + 1
        bound = lo + step
        step *= 2
    return _lower_key(key, lo, min(bound, hi), x)


@njit(cache=True)
def _lower_day(day: F64, lo: int, hi: int, x: float) -> int:  # pragma: no cover
    while lo < hi:
        mid = (lo + hi) // 2
        if day[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True)
def _before(d1: float, a1: int, d2: float, a2: int) -> bool:  # pragma: no cover
    return d1 < d2 or (d1 == d2 and a1 < a2)


@njit(cache=True)
def _merge_into(
    d0: F64,
    a0: I64,
    lo0: int,
    hi0: int,
    d1: F64,
    a1: I64,
    lo1: int,
    hi1: int,
    out_d: F64,
    out_a: I64,
) -> int:  # pragma: no cover
    """Merge two (day, row id)-sorted slices into ``out_*``; return the length."""
    i, j, n = lo0, lo1, 0
    while i < hi0 or j < hi1:
        if j >= hi1 or (i < hi0 and _before(d0[i], a0[i], d1[j], a1[j])):
            out_d[n] = d0[i]
            out_a[n] = a0[i]
            i += 1
        else:
            out_d[n] = d1[j]
            out_a[n] = a1[j]
            j += 1
        n += 1
    return n


#: A bitmap pass is used while it scans at most this many words per value.
_WORDS_PER_VALUE = 4


@njit(cache=True)
def _sort_unique(buf: I64, lo: int, hi: int) -> int:  # pragma: no cover
    """Sort ``buf[lo:hi]`` (non-negative) in place, dropping repeats; return the count.

    Values spanning a narrow range (the usual case: candidates near in date have near
    row ids) are set in a bitmap and read back in order, which is several times faster
    than sorting; wider spans are sorted.
    """
    m = hi - lo
    if m == 0:
        return 0
    first = buf[lo]
    last = buf[lo]
    for i in range(lo, hi):
        first = min(first, buf[i])
        last = max(last, buf[i])
    words = ((last - first) >> 6) + 1
    if words > _WORDS_PER_VALUE * m:
        c = 0
        seg = np.sort(buf[lo:hi])
        for i in range(m):
            if i == 0 or seg[i] != seg[i - 1]:
                buf[lo + c] = seg[i]
                c += 1
        return c
    bitmap = np.zeros(words, np.uint64)
    for i in range(lo, hi):
        v = buf[i] - first
        bitmap[v >> 6] |= np.uint64(1) << np.uint64(v & 63)
    return set_bits_sorted(bitmap, first, buf, lo, False) - lo


@njit(parallel=True, cache=True)
def nearest_pairs(
    key0: I64,
    day0: F64,
    art0: I64,
    key1: I64,
    day1: F64,
    art1: I64,
    q_ptr: I64,
    q_term: I64,
    row_day: F64,
    span: float,
    k: int,
    day_bits: int,
) -> tuple[I64, I64]:  # pragma: no cover
    """Return the distinct (batch row, stored row id) pairs, sorted, of all queries.

    Parameters
    ----------
    key0, day0, art0, key1, day1, art1
        The two posting segments, each sorted by (key, day, row id).
    q_ptr : (b + 1,) int64
        Queries of batch row ``r`` are ``q_ptr[r]:q_ptr[r + 1]``.
    q_term : int64
        Term of each query.
    row_day : (b,) float64
        Day of each batch row (NaN: undated, which pairs with the lowest row ids).
    span : float
        Largest date distance of a pair.
    k : int
        Postings kept per query.
    day_bits : int
        Bits of the day part of a key.
    """
    b = q_ptr.shape[0] - 1
    cap = np.zeros(b + 1, np.int64)
    for r in range(b):
        cap[r + 1] = cap[r] + (q_ptr[r + 1] - q_ptr[r]) * k
    buf = np.empty(cap[b], np.int64)
    count = np.zeros(b, np.int64)
    for r in prange(b):
        x = row_day[r]
        undated_row = np.isnan(x)
        md = np.empty(4 * k, np.float64)
        ma = np.empty(4 * k, np.int64)
        n = cap[r]
        for q in range(q_ptr[r], q_ptr[r + 1]):
            base = q_term[q] << day_bits
            top = base + (1 << day_bits)
            s0 = _lower_key(key0, 0, key0.shape[0], base)
            t0 = _gallop_key(key0, s0, key0.shape[0], base + 1)
            e0 = _gallop_key(key0, t0, key0.shape[0], top)
            s1 = _lower_key(key1, 0, key1.shape[0], base)
            t1 = _gallop_key(key1, s1, key1.shape[0], base + 1)
            e1 = _gallop_key(key1, t1, key1.shape[0], top)
            if undated_row:  # distance 0 to everything: the lowest row ids
                ids = np.concatenate((art0[s0:e0], art1[s1:e1]))
                ids.sort()
                for i in range(min(k, ids.shape[0])):
                    buf[n] = ids[i]
                    n += 1
                continue
            n_und = (t0 - s0) + (t1 - s1)
            take_u = min(n_und, k)
            if take_u:
                m = _merge_into(
                    day0, art0, s0, min(t0, s0 + k), day1, art1, s1, min(t1, s1 + k), md, ma
                )
                for i in range(take_u):
                    buf[n] = ma[i]
                    n += 1
            w = min(k - take_u, (e0 - t0) + (e1 - t1))
            if w <= 0:
                continue
            p0 = _lower_day(day0, t0, e0, x)
            p1 = _lower_day(day1, t1, e1, x)
            lo0, lo1 = max(t0, p0 - w), max(t1, p1 - w)
            m = _merge_into(
                day0, art0, lo0, min(e0, p0 + w), day1, art1, lo1, min(e1, p1 + w), md, ma
            )
            pos = (p0 - lo0) + (p1 - lo1)
            lo = max(0, pos - w)
            hi = max(lo, min(pos, m - w))
            while lo < hi:  # the w nearest form [lo, lo + w); ties: the earlier
                mid = (lo + hi) // 2
                if (x - md[mid]) > (md[mid + w] - x):
                    lo = mid + 1
                else:
                    hi = mid
            for i in range(lo, lo + w):
                if abs(md[i] - x) <= span:
                    buf[n] = ma[i]
                    n += 1
        count[r] = _sort_unique(buf, cap[r], n)
    total = 0
    for r in range(b):
        total += count[r]
    rows = np.empty(total, np.int64)
    arts = np.empty(total, np.int64)
    o = 0
    for r in range(b):
        for i in range(count[r]):
            rows[o] = r
            arts[o] = buf[cap[r] + i]
            o += 1
    return rows, arts


@njit(cache=True)
def merge_sorted(
    key0: I64, day0: F64, art0: I64, key1: I64, day1: F64, art1: I64
) -> tuple[I64, F64, I64]:  # pragma: no cover
    """Merge two segments sorted by (key, day, row id) into one."""
    n0, n1 = key0.shape[0], key1.shape[0]
    key = np.empty(n0 + n1, np.int64)
    day = np.empty(n0 + n1, np.float64)
    art = np.empty(n0 + n1, np.int64)
    i, j = 0, 0
    for o in range(n0 + n1):
        first = j >= n1 or (
            i < n0
            and (
                key0[i] < key1[j]
                or (
                    key0[i] == key1[j]
                    and (day0[i] < day1[j] or (day0[i] == day1[j] and art0[i] < art1[j]))
                )
            )
        )
        if first:
            key[o], day[o], art[o] = key0[i], day0[i], art0[i]
            i += 1
        else:
            key[o], day[o], art[o] = key1[j], day1[j], art1[j]
            j += 1
    return key, day, art


@njit(cache=True)
def merge_keys(key0: I64, art0: I64, key1: I64, art1: I64) -> tuple[I64, I64]:  # pragma: no cover
    """Merge two key-sorted (key, row id) segments; on equal keys the second's come first.

    The order ``np.insert(key0, np.searchsorted(key0, key1), key1)`` gives, in one pass
    (``np.insert`` spent ~1.5 ms on a batch's 32k band keys before copying anything).
    """
    n0, n1 = key0.shape[0], key1.shape[0]
    key = np.empty(n0 + n1, np.int64)
    art = np.empty(n0 + n1, np.int64)
    i, j = 0, 0
    for o in range(n0 + n1):
        if j < n1 and (i >= n0 or key1[j] <= key0[i]):
            key[o], art[o] = key1[j], art1[j]
            j += 1
        else:
            key[o], art[o] = key0[i], art0[i]
            i += 1
    return key, art


@njit(cache=True)
def sorted_ranges(hay: I64, needles: I64) -> tuple[I64, I64]:  # pragma: no cover
    """``searchsorted(hay, needles, "left")`` and ``"right"`` for ascending ``needles``.

    Each search starts where the previous one ended and gallops forward, so a batch's
    ~30k band keys against millions of stored ones touch a few cache lines each
    instead of a full binary search (twice) from the top.
    """
    n = hay.shape[0]
    lo = np.empty(needles.shape[0], np.int64)
    hi = np.empty(needles.shape[0], np.int64)
    pos = 0
    for q in range(needles.shape[0]):
        x = needles[q]
        step = 1
        bound = pos
        while bound < n and hay[bound] < x:  # gallop: hay[pos:bound] < x
            pos = bound + 1
            bound = pos + step
            step *= 2
        pos = _lower_key(hay, pos, min(bound, n), x)
        lo[q] = pos
        end = pos
        while end < n and hay[end] == x:
            end += 1
        hi[q] = end
    return lo, hi
