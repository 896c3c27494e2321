"""Compiled relabelling: clusters numbered in order of their first row."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

__all__ = ["first_seen"]

I64 = npt.NDArray[np.int64]


@njit(cache=True)
def first_seen(labels: I64, n_labels: int) -> I64:  # pragma: no cover - compiled
    """Renumber ``labels`` (each in ``0 .. n_labels - 1``) 0, 1, ... by first appearance.

    One pass in row order: the result of sorting the labels (``np.unique``) and ranking
    each cluster by its first row, without the sort.
    """
    ids = np.full(n_labels, -1, dtype=np.int64)
    out = np.empty(labels.shape[0], dtype=np.int64)
    fresh = 0
    for i in range(labels.shape[0]):
        lab = labels[i]
        if ids[lab] < 0:
            ids[lab] = fresh
            fresh += 1
        out[i] = ids[lab]
    return out
