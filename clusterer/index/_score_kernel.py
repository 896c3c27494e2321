"""Compiled cosine of batch rows against stored frozen vectors (phase-1 prefilter).

A batch of 1,000 reaches ~75k distinct stored candidates in ~700k (batch row,
candidate) pairs. Scoring each pair from the candidate's whole frozen vector (up to
``max_terms`` terms, ~400 bytes, from a table too large for the cache) was bound by
memory. Instead the batch's terms are renumbered into its own small term space, each
distinct candidate is reduced once to the terms it shares with the batch (a few of its
~50), and pairs, grouped by batch row, look those up in a dense buffer of the batch
row that stays in cache. A term the batch row lacks only ever added an exact zero, so
the float64 sums are those over the whole vector, in the candidate's term order (on
the benchmark batches the previous kernel's values were equal bit for bit).
"""

from __future__ import annotations

import numba
import numpy as np
import numpy.typing as npt
from numba import njit, prange

__all__ = ["frozen_cosines"]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


def frozen_cosines(
    b_ptr: I64,
    b_features: npt.NDArray[np.uint32],
    b_weights: npt.NDArray[np.float32],
    p_row: I64,
    p_art: I64,
    fz_len: I64,
    fz_features: npt.NDArray[np.uint32],
    fz_weights: npt.NDArray[np.float32],
    n_features: int,
) -> npt.NDArray[np.float64]:
    """Return the cosine of each pair (batch row ``p_row[k]``, stored row ``p_art[k]``).

    Parameters
    ----------
    b_ptr, b_features, b_weights
        Batch rows (CSR, L2-normalised).
    p_row, p_art : int64 arrays
        Pairs, grouped by batch row (``p_row`` ascending).
    fz_len, fz_features, fz_weights
        Frozen vectors by stored row id: length and fixed-width rows.
    n_features : int
        Size of the term space.

    Returns
    -------
    float64 array
        One cosine per pair (float64 sum over the candidate's terms, in their order).
    """
    if p_art.size == 0:
        return np.zeros(0, np.float64)
    chunks = 2 * int(numba.get_num_threads())
    cands, slot = _slots(p_art, int(p_art.max()) + 1)
    return _frozen_cosines(
        b_ptr,
        b_features,
        b_weights,
        p_row,
        slot,
        cands,
        fz_len,
        fz_features,
        fz_weights,
        n_features,
        chunks,
    )


@njit(cache=True)
def _slots(keys: I64, n_keys: int) -> tuple[I64, I64]:  # pragma: no cover
    """Distinct ``keys`` ascending, and each key's index among them."""
    index = np.full(n_keys, -1, np.int64)
    for k in keys:
        index[k] = 0
    n = 0
    for i in range(n_keys):
        if index[i] == 0:
            index[i] = n
            n += 1
    distinct = np.empty(n, np.int64)
    for i in range(n_keys):
        if index[i] >= 0:
            distinct[index[i]] = i
    slot = np.empty(keys.shape[0], np.int64)
    for p in range(keys.shape[0]):
        slot[p] = index[keys[p]]
    return distinct, slot


@njit(cache=True)
def _hits(
    cands: I64,
    fz_len: I64,
    fz_features: npt.NDArray[np.uint32],
    fz_weights: npt.NDArray[np.float32],
    bits: npt.NDArray[np.uint64],
    local: npt.NDArray[np.int32],
) -> tuple[I64, npt.NDArray[np.int32], npt.NDArray[np.float32]]:
    """Per candidate, its terms the batch uses (batch-local ids) and their weights (CSR).

    Every entry is written and the write position advances only for a term the batch
    uses (about one in five): no branch to mispredict, and the large ``local`` table is
    read only for those terms, in a second pass.
    """
    ptr = np.zeros(cands.shape[0] + 1, np.int64)
    cap = 0
    for i in range(cands.shape[0]):
        cap += fz_len[cands[i]]
    terms = np.empty(cap, np.int32)
    weights = np.empty(cap, np.float32)
    n = 0
    for i in range(cands.shape[0]):
        a = cands[i]
        for j in range(fz_len[a]):
            f = fz_features[a, j]
            terms[n] = f
            weights[n] = fz_weights[a, j]
            n += np.int64((bits[f >> 6] >> np.uint64(f & 63)) & np.uint64(1))
        ptr[i + 1] = n
    for i in range(n):
        terms[i] = local[terms[i]]
    return ptr, terms[:n], weights[:n]


@njit(parallel=True, cache=True)
def _frozen_cosines(
    b_ptr: I64,
    b_features: npt.NDArray[np.uint32],
    b_weights: npt.NDArray[np.float32],
    p_row: I64,
    slot: I64,
    cands: I64,
    fz_len: I64,
    fz_features: npt.NDArray[np.uint32],
    fz_weights: npt.NDArray[np.float32],
    n_features: int,
    max_chunks: int,
) -> F64:  # pragma: no cover
    """:func:`frozen_cosines`, pairs grouped by batch row, in at most ``max_chunks`` chunks.

    Terms are renumbered into the batch's own term space, and each distinct candidate
    is reduced once to the terms it shares with the batch (``_hits``): a pair then
    reads a few shared terms from a small, cached list instead of the candidate's whole
    frozen vector, and looks them up in a dense buffer the size of the batch's term
    space, which stays in cache.
    """
    bits = np.zeros((n_features >> 6) + 1, np.uint64)
    local = np.full(n_features, -1, np.int32)
    n_local = 0
    b_local = np.empty(b_features.shape[0], np.int32)
    for j in range(b_features.shape[0]):
        t = b_features[j]
        if local[t] < 0:
            local[t] = n_local
            n_local += 1
            bits[t >> 6] |= np.uint64(1) << np.uint64(t & 63)
        b_local[j] = local[t]
    h_ptr, h_terms, h_weights = _hits(cands, fz_len, fz_features, fz_weights, bits, local)
    m = p_row.shape[0]
    out = np.zeros(m, np.float64)
    n_chunks = min(max(m // 4096, 1), max_chunks)
    bounds = np.zeros(n_chunks + 1, np.int64)
    for c in range(1, n_chunks + 1):  # chunk ends moved to row boundaries
        e = m * c // n_chunks
        while 0 < e < m and p_row[e] == p_row[e - 1]:
            e += 1
        bounds[c] = max(e, bounds[c - 1])
    for c in prange(n_chunks):
        dense = np.zeros(max(n_local, 1), np.float32)
        k = bounds[c]
        end = bounds[c + 1]
        while k < end:
            r = p_row[k]
            for j in range(b_ptr[r], b_ptr[r + 1]):
                dense[b_local[j]] = b_weights[j]
            while k < end and p_row[k] == r:
                s = slot[k]
                acc = 0.0
                for j in range(h_ptr[s], h_ptr[s + 1]):
                    acc += float(dense[h_terms[j]]) * float(h_weights[j])
                out[k] = acc
                k += 1
            for j in range(b_ptr[r], b_ptr[r + 1]):
                dense[b_local[j]] = 0.0
    return out
