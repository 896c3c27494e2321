"""Compiled (numba) kernels of the story stages: top terms per row, fused candidate scoring.

These replace NumPy formulations whose temporaries grew with the number of candidate
pairs (a 45-million-pair list at 100k articles). Each kernel gives exactly the result
of the NumPy code it replaces: the same selection, the same float64 operations in the
same order (no fastmath, so no fused multiply-add), so the partition is unchanged.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from numba import njit, prange

__all__ = ["strong_window_pairs", "top_k_positions"]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


@njit(parallel=True, cache=True)
def top_k_positions(ptr: I64, weights: npt.NDArray[np.float32], k: int) -> I64:
    """Positions of the ``k`` largest weights of each CSR row, ascending.

    Ties break by position (the lower position wins), as a stable sort by
    ``(row, -weight)`` does. A row longer than ``k`` is not sorted: its ``k``-th largest
    weight ``v`` is selected (``np.partition``), then one pass in position order keeps
    the weights above ``v`` and the first of those equal to it, which is the stable
    sort's choice. Rows with NaN weights fall back to the sort.
    """
    n = ptr.shape[0] - 1
    kept = np.empty(n + 1, dtype=np.int64)
    kept[0] = 0
    for i in range(n):
        kept[i + 1] = kept[i] + min(ptr[i + 1] - ptr[i], k)
    out = np.empty(kept[n], dtype=np.int64)
    for i in prange(n):
        s, e = ptr[i], ptr[i + 1]
        if e - s <= k:
            for j in range(e - s):
                out[kept[i] + j] = s + j
            continue
        neg = np.empty(e - s, dtype=np.float32)
        for j in range(e - s):
            neg[j] = -weights[s + j]
        v = np.partition(neg, k - 1)[k - 1]  # -(k-th largest weight)
        above = 0
        for j in range(e - s):
            if neg[j] < v:
                above += 1
        ties = k - above
        at = kept[i]
        for j in range(e - s):
            x = -weights[s + j]
            if x < v:
                out[at] = s + j
                at += 1
            elif x == v and ties > 0:
                out[at] = s + j
                at += 1
                ties -= 1
        if at != kept[i + 1]:  # NaN weights: not ordered by comparisons
            order = np.argsort(neg, kind="mergesort")[:k]
            order.sort()
            for j in range(k):
                out[kept[i] + j] = s + order[j]
    return out


@njit(inline="always", cache=True)
def _cosine(ptr: Any, features: Any, weights: Any, a: int, b: int) -> float:
    a0, a1 = ptr[a], ptr[a + 1]
    b0, b1 = ptr[b], ptr[b + 1]
    acc = 0.0
    i, j = a0, b0
    while i < a1 and j < b1:
        if features[i] == features[j]:
            acc += float(weights[i]) * float(weights[j])
            i += 1
            j += 1
        elif features[i] < features[j]:
            i += 1
        else:
            j += 1
    return acc


@njit(inline="always", cache=True)
def _score(ptr: Any, features: Any, weights: Any, days: Any, decay: float, a: int, b: int) -> float:
    lo, hi = min(a, b), max(a, b)
    cos = _cosine(ptr, features, weights, lo, hi)
    factor = 1.0
    if decay > 0.0:
        gap = abs(days[lo] - days[hi])
        if not np.isnan(gap):
            factor = 1.0 / (1.0 + np.sqrt(gap / decay))
    s = cos * factor
    if s < 0.0:
        s = 0.0
    if s > 1.0:
        s = 1.0
    return s


@njit(inline="always", cache=True)
def _set_row(
    ptr: Any, features: Any, weights: Any, bits: Any, dense: Any, a: int, on: bool
) -> None:
    for i in range(ptr[a], ptr[a + 1]):
        f = features[i]
        if on:
            bits[f >> 6] |= np.uint64(1) << np.uint64(f & 63)
            dense[f] = float(weights[i])
        else:
            bits[f >> 6] = np.uint64(0)


@njit(inline="always", cache=True)
def _score_dense(
    ptr: Any,
    features: Any,
    weights: Any,
    bits: Any,
    dense: Any,
    days: Any,
    decay: float,
    a: int,
    b: int,
) -> float:
    """Return ``_score(a, b)`` with row ``a`` scattered into ``bits`` and ``dense``.

    The same products are summed in the same (ascending feature) order, so the
    float64 result is the same.
    """
    acc = 0.0
    for j in range(ptr[b], ptr[b + 1]):
        f = features[j]
        if bits[f >> 6] & (np.uint64(1) << np.uint64(f & 63)):
            acc += dense[f] * float(weights[j])
    factor = 1.0
    if decay > 0.0:
        gap = abs(days[a] - days[b])
        if not np.isnan(gap):
            factor = 1.0 / (1.0 + np.sqrt(gap / decay))
    s = acc * factor
    if s < 0.0:
        s = 0.0
    if s > 1.0:
        s = 1.0
    return s


@njit(cache=True)
def _list_pairs(
    s: int, e: int, docs: Any, days: Any, max_gap: float, cap: int, out_a: Any, out_b: Any, k: int
) -> int:
    """Enumerate the window pairs of one posting list (the order of ``window_pairs``)."""
    write = out_a.shape[0] > 0
    nan_start = e
    while nan_start > s and np.isnan(days[nan_start - 1]):
        nan_start -= 1
    for p in range(s, e):
        made = 0
        q = p + 1
        if p < nan_start:
            while q < nan_start and made < cap and days[q] - days[p] <= max_gap:
                if write:
                    out_a[k] = docs[p]
                    out_b[k] = docs[q]
                k += 1
                made += 1
                q += 1
            q = nan_start
        while q < e and made < cap:
            if write:
                out_a[k] = docs[p]
                out_b[k] = docs[q]
            k += 1
            made += 1
            q += 1
    return k


@njit(parallel=True, cache=True)
def strong_window_pairs(
    post_ptr: I64,
    docs: I64,
    post_days: F64,
    max_gap: float,
    cap: int,
    ptr: I64,
    features: npt.NDArray[np.uint32],
    weights: npt.NDArray[np.float32],
    days: F64,
    decay: float,
    threshold: float,
    n_features: int,
) -> tuple[I64, I64]:
    """Return the window pairs whose story similarity reaches ``threshold``.

    Scores each pair as it is enumerated instead of listing all pairs first; the
    output may repeat a pair (one per shared posting list) and is ``(min, max)``.
    ``decay <= 0`` switches the date decay off.
    """
    n_lists = post_ptr.shape[0] - 1
    none = np.empty(0, dtype=np.int64)
    raw = np.zeros(n_lists + 1, dtype=np.int64)
    for t in prange(n_lists):
        raw[t + 1] = _list_pairs(
            post_ptr[t], post_ptr[t + 1], docs, post_days, max_gap, cap, none, none, 0
        )
    # One flag bit per enumerated pair: the pairs are scored once, then compacted. Each
    # list owns whole 64-bit words, so threads never update the same word.
    words = np.zeros(n_lists + 1, dtype=np.int64)
    for t in range(n_lists):
        words[t + 1] = words[t] + (raw[t + 1] + 63) // 64
        raw[t + 1] += raw[t]
    flags = np.zeros(words[n_lists], dtype=np.uint64)
    kept = np.zeros(n_lists + 1, dtype=np.int64)
    n_chunks = min(n_lists, 64)
    for c in prange(n_chunks):
        # Per-chunk scratch: the current left row scattered into a dense array, with a
        # bitmap of its features (small enough to stay in cache) guarding the reads.
        bits = np.zeros((n_features >> 6) + 1, dtype=np.uint64)
        dense = np.empty(n_features, dtype=np.float64)
        for t in range(c * n_lists // n_chunks, (c + 1) * n_lists // n_chunks):
            m = raw[t + 1] - raw[t]
            if m == 0:
                continue
            la = np.empty(m, dtype=np.int64)
            lb = np.empty(m, dtype=np.int64)
            _list_pairs(post_ptr[t], post_ptr[t + 1], docs, post_days, max_gap, cap, la, lb, 0)
            count = 0
            current = -1
            for j in range(m):
                if la[j] != current:
                    if current >= 0:
                        _set_row(ptr, features, weights, bits, dense, current, False)
                    current = la[j]
                    _set_row(ptr, features, weights, bits, dense, current, True)
                if (
                    _score_dense(ptr, features, weights, bits, dense, days, decay, current, lb[j])
                    >= threshold
                ):
                    flags[words[t] + (j >> 6)] |= np.uint64(1) << np.uint64(j & 63)
                    count += 1
            if current >= 0:
                _set_row(ptr, features, weights, bits, dense, current, False)
            kept[t + 1] = count
    for t in range(n_lists):
        kept[t + 1] += kept[t]
    left = np.empty(kept[n_lists], dtype=np.int64)
    right = np.empty(kept[n_lists], dtype=np.int64)
    for t in prange(n_lists):
        if kept[t + 1] == kept[t]:
            continue
        m = raw[t + 1] - raw[t]
        la = np.empty(m, dtype=np.int64)
        lb = np.empty(m, dtype=np.int64)
        _list_pairs(post_ptr[t], post_ptr[t + 1], docs, post_days, max_gap, cap, la, lb, 0)
        w = kept[t]
        for j in range(m):
            if flags[words[t] + (j >> 6)] & (np.uint64(1) << np.uint64(j & 63)):
                left[w] = min(la[j], lb[j])
                right[w] = max(la[j], lb[j])
                w += 1
    return left, right
