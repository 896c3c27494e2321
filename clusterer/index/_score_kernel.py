"""Compiled cosine of batch rows against stored frozen vectors (phase-1 prefilter).

Pairs come grouped by batch row (ascending). For each batch row its weights are
scattered into a dense term-indexed buffer once, and every stored candidate of that row
is scored by looking up its (at most ``max_terms``) terms there: no merge of sorted
lists, no gathering of the candidates' vectors into a new CSR.
"""

from __future__ import annotations

import numba
import numpy as np
import numpy.typing as npt
from numba import njit, prange

__all__ = ["frozen_cosines"]

I64 = npt.NDArray[np.int64]


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
        Pairs, ``p_row`` ascending.
    fz_len, fz_features, fz_weights
        Frozen vectors by stored row id: length and fixed-width rows.
    n_features : int
        Size of the term space.
    """
    chunks = 2 * int(numba.get_num_threads())
    return _frozen_cosines(
        b_ptr,
        b_features,
        b_weights,
        p_row,
        p_art,
        fz_len,
        fz_features,
        fz_weights,
        n_features,
        chunks,
    )


@njit(parallel=True, cache=True)
def _frozen_cosines(
    b_ptr: I64,
    b_features: npt.NDArray[np.uint32],
    b_weights: npt.NDArray[np.float32],
    p_row: I64,
    p_art: I64,
    fz_len: I64,
    fz_features: npt.NDArray[np.uint32],
    fz_weights: npt.NDArray[np.float32],
    n_features: int,
    max_chunks: int,
) -> npt.NDArray[np.float64]:  # pragma: no cover
    """:func:`frozen_cosines` in at most ``max_chunks`` parallel chunks."""
    m = p_row.shape[0]
    out = np.zeros(m, np.float64)
    # one dense buffer (4 bytes x n_features) is zeroed per chunk: a few chunks per thread
    n_chunks = min(max(m // 4096, 1), max_chunks)
    bounds = np.zeros(n_chunks + 1, np.int64)
    for c in range(1, n_chunks + 1):  # chunk ends moved to row boundaries
        e = m * c // n_chunks
        while 0 < e < m and p_row[e] == p_row[e - 1]:
            e += 1
        bounds[c] = max(e, bounds[c - 1])
    for c in prange(n_chunks):
        dense = np.zeros(n_features, np.float32)
        k = bounds[c]
        end = bounds[c + 1]
        while k < end:
            r = p_row[k]
            for j in range(b_ptr[r], b_ptr[r + 1]):
                dense[b_features[j]] = b_weights[j]
            while k < end and p_row[k] == r:
                a = p_art[k]
                acc = 0.0
                for j in range(fz_len[a]):
                    acc += float(dense[fz_features[a, j]]) * float(fz_weights[a, j])
                out[k] = acc
                k += 1
            for j in range(b_ptr[r], b_ptr[r + 1]):
                dense[b_features[j]] = 0.0
    return out
