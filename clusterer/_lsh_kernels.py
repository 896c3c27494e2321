"""Compiled (numba) kernels of LSH candidate listing: group a band's keys, list pairs.

:func:`clusterer.lsh.candidate_pairs` keeps a NumPy path that tests compare with these.
Sorting a million 64-bit keys per band (and tens of millions of pair codes) with
``np.argsort`` / ``np.sort`` dominated candidate listing at 1M articles; the keys are
hashes, hence uniform, so one counting pass on their top bits spreads them into small
buckets that a short stable sort finishes, and pair codes below ``n**2`` are spread by
their top bits into parts that a least-significant-digit radix sort finishes in cache
(one pass over all 20M codes of a 1M corpus, instead of four). Both are linear in the
data.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

__all__ = ["band_pair_codes", "sorted_unique"]

I64 = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]

#: Buckets of the counting pass at most this long are finished by insertion sort.
_SHORT = 32


@njit(nogil=True, cache=True)
def _group_by_key(
    keys: U64, band: int, rows: I64, k: U64, sk: U64, sr: I64, start: I64, fill: I64
) -> None:  # pragma: no cover - compiled
    """Stable sort of ``rows`` by their key in ``band``: equal keys adjacent, rows ascending.

    ``keys`` is ``(bands, n)``: the keys of one band are contiguous. The sorted keys and
    rows go to ``sk`` and ``sr``; ``k``, ``start`` and ``fill`` are scratch (``rows.size``
    and :func:`_spread_bits` ``+ 1`` long), reused from band to band.
    """
    m = rows.shape[0]
    for i in range(m):
        k[i] = keys[band, rows[i]]
    bits = _spread_bits(m)
    shift = np.uint64(64 - bits)
    start[: (1 << bits) + 1] = 0
    for i in range(m):
        start[np.int64(k[i] >> shift) + 1] += 1
    for b in range(1 << bits):
        start[b + 1] += start[b]
    fill[: 1 << bits] = start[: 1 << bits]
    for i in range(m):
        b = np.int64(k[i] >> shift)
        sk[fill[b]] = k[i]
        sr[fill[b]] = rows[i]
        fill[b] += 1
    for b in range(1 << bits):
        lo, hi = start[b], start[b + 1]
        if hi - lo <= _SHORT:
            for i in range(lo + 1, hi):  # stable insertion sort
                key, row = sk[i], sr[i]
                j = i - 1
                while j >= lo and sk[j] > key:
                    sk[j + 1] = sk[j]
                    sr[j + 1] = sr[j]
                    j -= 1
                sk[j + 1] = key
                sr[j + 1] = row
        else:
            order = np.argsort(sk[lo:hi], kind="mergesort")
            sk[lo:hi] = sk[lo:hi][order]
            sr[lo:hi] = sr[lo:hi][order]


@njit(inline="always", cache=True)
def _spread_bits(m: int) -> int:  # pragma: no cover - compiled
    """Top key bits of the counting pass over ``m`` rows (about 8 rows per bucket)."""
    bits = 1
    while bits < 24 and (1 << (bits + 3)) < m:
        bits += 1
    return bits


@njit(inline="always", cache=True)
def _window(size: int, max_bucket: int) -> int:  # pragma: no cover - compiled
    """Partners per member in a bucket of ``size`` members (see ``lsh._window``)."""
    if size <= max_bucket + 1:
        return max_bucket
    w = (max_bucket * max_bucket) // size
    return min(max(w, min(16, max_bucket)), max_bucket)


@njit(nogil=True, cache=True)
def band_pair_codes(
    keys: U64, first_band: int, stop_band: int, rows: I64, n: int, max_bucket: int
) -> tuple[I64, int]:  # pragma: no cover - compiled
    """Codes ``left * n + right`` of the pairs bands ``first_band .. stop_band - 1`` list.

    Each band of ``keys`` (``(bands, n)``) is grouped among ``rows``. Members of a
    bucket are in row order; each is paired with the next ``window`` ones. Returns the
    codes, band after band, and the number of oversized buckets.

    The grouping's buffers are allocated once for all the bands, and the codes written
    into one growing array: fresh memory is paid for in page faults, which a per-band
    allocation of every buffer made a large part of the listing at 1M rows.
    """
    m = rows.shape[0]
    k = np.empty(m, np.uint64)
    sk = np.empty(m, np.uint64)
    sr = np.empty(m, np.int64)
    start = np.empty((1 << _spread_bits(m)) + 1, np.int64)
    fill = np.empty(start.shape[0], np.int64)
    # Buckets of two or more members: [first[g], last[g]) of the sorted rows.
    first = np.empty(m // 2 + 1, np.int64)
    last = np.empty(m // 2 + 1, np.int64)
    # About one pair per row and band; grown (doubled) when a band needs more.
    out = np.empty(max(m * (stop_band - first_band), 1), np.int64)
    at = 0
    truncated = 0
    for band in range(first_band, stop_band):
        _group_by_key(keys, band, rows, k, sk, sr, start, fill)
        groups = 0
        s = 0
        while s < m:
            e = s + 1
            while e < m and sk[e] == sk[s]:
                e += 1
            if e - s >= 2:
                first[groups] = s
                last[groups] = e
                groups += 1
            s = e
        total = 0
        for g in range(groups):
            size = last[g] - first[g]
            w = _window(size, max_bucket)
            truncated += size > max_bucket
            for p in range(size - 1):
                total += min(size - p - 1, w)
        if at + total > out.shape[0]:
            grown = np.empty(max(2 * out.shape[0], at + total), np.int64)
            grown[:at] = out[:at]
            out = grown
        for g in range(groups):
            w = _window(last[g] - first[g], max_bucket)
            for p in range(first[g], last[g] - 1):
                a = sr[p]
                for q in range(p + 1, min(last[g], p + 1 + w)):
                    b = sr[q]
                    out[at] = min(a, b) * n + max(a, b)
                    at += 1
    return out[:at], truncated


#: Top bits of a pair code that split the codes into parts sorted one by one.
_TOP = 8
#: Bits per least-significant-digit pass inside a part.
_DIGIT = 11


@njit(nogil=True, cache=True)
def sorted_unique(codes: I64, bound: int, overwrite: bool = False) -> I64:  # pragma: no cover
    """Sorted distinct values of ``codes``, all in ``0 .. bound - 1`` (radix sort).

    One counting pass spreads the codes by their top bits into ``2**_TOP`` parts; each
    part, a few megabytes at most for 20M codes, is then radix-sorted on its own (in
    cache) and repeats are dropped. (Sorting the parts on numba's threads was slower and
    erratic on a busy machine.) With ``overwrite``, ``codes`` is the radix sort's second
    buffer (its contents are lost) instead of a fresh array.
    """
    m = codes.shape[0]
    bits = 1
    while (1 << bits) < bound:
        bits += 1
    shift = max(bits - _TOP, 0)
    parts = 1 << min(_TOP, bits)
    start = np.zeros(parts + 1, np.int64)
    for i in range(m):
        start[(codes[i] >> shift) + 1] += 1
    for p in range(parts):
        start[p + 1] += start[p]
    fill = start[:-1].copy()
    spread = np.empty(m, np.int64)
    for i in range(m):
        p = codes[i] >> shift
        spread[fill[p]] = codes[i]
        fill[p] += 1
    spare = codes if overwrite else np.empty(m, np.int64)
    passes = (shift + _DIGIT - 1) // _DIGIT
    mask = (1 << _DIGIT) - 1
    kept = np.zeros(parts, np.int64)
    for p in range(parts):
        lo, hi = start[p], start[p + 1]
        src = spread[lo:hi]
        dst = spare[lo:hi]
        for d in range(passes):
            low = d * _DIGIT
            count = np.zeros((1 << _DIGIT) + 1, np.int64)
            for i in range(hi - lo):
                count[((src[i] >> low) & mask) + 1] += 1
            for b in range(1 << _DIGIT):
                count[b + 1] += count[b]
            for i in range(hi - lo):
                b = (src[i] >> low) & mask
                dst[count[b]] = src[i]
                count[b] += 1
            src, dst = dst, src
        # Distinct values to the front of this part's slice of ``spread``.
        keep = 0
        for i in range(hi - lo):
            if keep == 0 or src[i] != spread[lo + keep - 1]:
                spread[lo + keep] = src[i]
                keep += 1
        kept[p] = keep
    total = 0
    for p in range(parts):
        total += kept[p]
    unique = np.empty(total, np.int64)
    at = 0
    for p in range(parts):
        unique[at : at + kept[p]] = spread[start[p] : start[p] + kept[p]]
        at += kept[p]
    return unique
