"""Compiled TF-IDF weighting of cached term rows (phase 1 of candidate scoring).

``weigh_rows`` gives, for rows located by ``start`` / ``length`` in a flat store of
(term id, sublinear tf) entries, the same vectors as :func:`clusterer.similarity.tfidf_rows`
(weight ``tf x idf``, the ``k`` largest kept with ties by position, L2-normalised in
float64 and stored as float32), in one parallel pass that never materialises the full
rows. It is used only to decide which candidates reach the story threshold (with a
small margin); the pool that decides assignments is weighted by ``tfidf_rows`` itself.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from numba import njit, prange

__all__ = ["weigh_rows"]

I64 = npt.NDArray[np.int64]


@njit(cache=True)
def _kth_largest(buf: npt.NDArray[np.float32], lo: int, hi: int, k: int) -> float:
    """Value of the ``k``-th largest of ``buf[lo:hi]`` (quickselect; reorders the slice)."""
    target = hi - k  # position of the answer in ascending order
    while hi - lo > 1:
        mid = (lo + hi) // 2
        a, b, c = buf[lo], buf[mid], buf[hi - 1]
        if a > b:
            a, b = b, a
        if b > c:
            b = c
        pivot = a if a > b else b  # median of three
        i, j = lo, hi - 1
        while i <= j:
            while buf[i] < pivot:
                i += 1
            while buf[j] > pivot:
                j -= 1
            if i <= j:
                buf[i], buf[j] = buf[j], buf[i]
                i += 1
                j -= 1
        if target <= j:
            hi = j + 1
        elif target >= i:
            lo = i
        else:
            return float(buf[target])
    return float(buf[target])


@njit(parallel=True, cache=True)
def weigh_rows(
    start: I64,
    length: I64,
    features: npt.NDArray[np.uint32],
    tf: npt.NDArray[np.float32],
    idf: npt.NDArray[np.float32],
    k: int,
    kept_before: npt.NDArray[np.uint8],
    known: npt.NDArray[np.bool_],
) -> tuple[I64, npt.NDArray[np.uint32], npt.NDArray[np.float32]]:  # pragma: no cover
    """Return CSR ``(ptr, features, weights)`` of the weighted, truncated rows.

    ``kept_before`` (aligned with ``features``) marks the entries a row kept last time
    (valid where ``known``). If every marked weight still exceeds every unmarked one,
    that is the top ``k`` again, and the selection is skipped (idf moves little from one
    batch to the next). Otherwise the row is selected afresh and the marks updated.
    """
    n = start.shape[0]
    kept = np.minimum(length, k) if k > 0 else length.copy()
    ptr = np.zeros(n + 1, np.int64)
    off = np.zeros(n + 1, np.int64)
    for i in range(n):
        ptr[i + 1] = ptr[i] + kept[i]
        off[i + 1] = off[i] + length[i]
    out_f = np.empty(ptr[n], np.uint32)
    out_w = np.empty(ptr[n], np.float32)
    w = np.empty(off[n], np.float32)
    scratch = np.empty(off[n], np.float32)
    for i in prange(n):
        s = start[i]
        m = length[i]
        b = off[i]
        for j in range(m):
            w[b + j] = tf[s + j] * idf[features[s + j]]
        if k > 0 and m > k:
            same = False
            if known[i]:
                low_in = np.inf
                high_out = -np.inf
                for j in range(m):
                    if kept_before[s + j]:
                        low_in = min(low_in, w[b + j])
                    else:
                        high_out = max(high_out, w[b + j])
                same = low_in > high_out
            if not same:
                for j in range(m):
                    scratch[b + j] = w[b + j]
                cut = _kth_largest(scratch, b, b + m, k)
                above = 0
                for j in range(m):
                    if w[b + j] > cut:
                        above += 1
                ties = k - above  # entries equal to the cut that are kept (earliest first)
                for j in range(m):
                    x = w[b + j]
                    keep = x > cut or (x == cut and ties > 0)
                    if x == cut and keep:
                        ties -= 1
                    kept_before[s + j] = 1 if keep else 0
                known[i] = True
        else:
            for j in range(m):
                kept_before[s + j] = 1
        acc = 0.0
        for j in range(m):
            if kept_before[s + j]:
                acc += float(w[b + j]) * float(w[b + j])
        norm = math.sqrt(acc)
        if norm == 0.0:
            norm = 1.0
        o = ptr[i]
        for j in range(m):
            if kept_before[s + j]:
                out_f[o] = features[s + j]
                out_w[o] = np.float32(float(w[b + j]) / norm)
                o += 1
    return ptr, out_f, out_w
