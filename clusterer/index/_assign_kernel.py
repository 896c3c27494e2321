"""Compiled greedy average linkage of one component (step 3 of :mod:`.assign`).

The loop merging clusters by the highest average linkage took most of ``assign_batch``
in NumPy: each step of a component of ``k`` starting clusters built and masked a
``k x k`` link matrix with several temporaries. Here each step is one pass over the
live pairs. The arithmetic is NumPy's, element for element (link ``agg[i, j] /
(size[i] * size[j])``, the first maximum in row-major order, row-then-column sums on a
merge), so the merges and labels are the same.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from numba import njit

__all__ = ["merge_average"]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


@njit(cache=True)
def merge_average(agg: F64, size: F64, lab: I64, thr: float) -> None:  # pragma: no cover
    """Merge clusters in place while the best average linkage is at least ``thr``.

    Parameters
    ----------
    agg : (k, k) float64
        Sums of member-pair similarities between clusters (updated in place).
    size : (k,) float64
        Cluster sizes (updated in place).
    lab : (m,) int64
        Cluster of each row (merged clusters take the smaller label; in place).
    thr : float
        Lowest linkage that merges.
    """
    k = size.shape[0]
    alive = np.ones(k, np.bool_)
    n_alive = k
    while n_alive > 1:
        # np.argmax over the link matrix with dead rows, dead columns and the diagonal
        # set to -1: the first maximum in row-major order, or the first NaN
        best = -math.inf
        a = 0
        b = 0
        nan = False
        for i in range(k):
            for j in range(k):
                v = agg[i, j] / (size[i] * size[j]) if alive[i] and alive[j] and i != j else -1.0
                if math.isnan(v):
                    best, a, b, nan = v, i, j, True
                    break
                if v > best:
                    best, a, b = v, i, j
            if nan:
                break
        if best < thr:
            break
        if a > b:
            a, b = b, a
        for j in range(k):  # agg[a, :] += agg[b, :]
            agg[a, j] += agg[b, j]
        for i in range(k):  # agg[:, a] += agg[:, b]
            agg[i, a] += agg[i, b]
        size[a] += size[b]
        alive[b] = False
        n_alive -= 1
        for r in range(lab.shape[0]):
            if lab[r] == b:
                lab[r] = a
