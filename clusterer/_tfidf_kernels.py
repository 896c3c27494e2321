"""Compiled (numba) TF-IDF weighting: one pass per row instead of whole-chunk NumPy steps.

``similarity._weigh_chunk`` weighs a chunk of term rows with NumPy: about ten
temporaries of the chunk's length, each freshly mapped (and page-faulted) memory, which
made the weighting the stage that grew fastest after the candidates. The kernel here
gives the same float32 rows, bit for bit: the sublinear counts come from a table that
NumPy's own function filled, and every product, sum and division is done in the same
precision and order as the NumPy code (no fastmath, so no fused multiply-add).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit, prange

from ._story_kernels import top_k_row

__all__ = ["weigh_chunk"]

I64 = npt.NDArray[np.int64]

# Rows per block of the parallel loop; each block reuses one scratch row.
_BLOCK = 256


@njit(parallel=True, cache=True)
def weigh_chunk(
    local: I64,
    feats: npt.NDArray[np.uint32],
    body: npt.NDArray[np.uint16],
    title: npt.NDArray[np.uint16],
    sublinear: npt.NDArray[np.float32],
    title_weight: np.float32,
    idf: npt.NDArray[np.float32],
    k: int,
    out_ptr: I64,
    out_features: npt.NDArray[np.uint32],
    out_weights: npt.NDArray[np.float32],
) -> None:
    """Weigh, keep the ``k`` heaviest terms of and L2-normalise each row of a chunk.

    Row ``i`` holds ``local[i]:local[i + 1]`` of ``feats``, ``body`` and ``title`` and
    is written at ``out_ptr[i]:out_ptr[i + 1]`` of the outputs (``k`` terms or fewer;
    ``k < 0`` keeps all). A term weighs ``(sublinear[body] + title_weight *
    sublinear[title]) * idf[feature]`` in float32; the row's norm sums the squares of
    the kept weights in float64 in position order; each kept weight divided by it (1
    for an empty norm) is rounded to float32.
    """
    m = local.shape[0] - 1
    longest = 0
    for i in range(m):
        longest = max(longest, local[i + 1] - local[i])
    n_blocks = (m + _BLOCK - 1) // _BLOCK
    for b in prange(n_blocks):
        w = np.empty(longest, dtype=np.float32)
        keep = np.empty(longest, dtype=np.int64)
        for i in range(b * _BLOCK, min(m, (b + 1) * _BLOCK)):
            s, e = local[i], local[i + 1]
            size = e - s
            for j in range(size):
                tf = sublinear[body[s + j]] + title_weight * sublinear[title[s + j]]
                w[j] = tf * idf[feats[s + j]]
            if 0 <= k < size:
                top_k_row(w[:size], k, keep, 0)
                kept = k
            else:
                for j in range(size):
                    keep[j] = j
                kept = size
            total = 0.0
            for j in range(kept):
                x = np.float64(w[keep[j]])
                total += x * x
            norm = np.sqrt(total)
            if norm == 0.0:
                norm = 1.0
            o = out_ptr[i]
            for j in range(kept):
                out_features[o + j] = feats[s + keep[j]]
                out_weights[o + j] = np.float32(np.float64(w[keep[j]]) / norm)
