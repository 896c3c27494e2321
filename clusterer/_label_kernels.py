"""Compiled label passes: clusters numbered by first row, edges sorted by outcome."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

__all__ = ["edge_outcomes", "first_seen"]

I64 = npt.NDArray[np.int64]
Bool = npt.NDArray[np.bool_]


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


@njit(cache=True)
def edge_outcomes(
    labels: I64, left: I64, right: I64, strong: Bool
) -> tuple[Bool, Bool]:  # pragma: no cover - compiled
    """Sort the edges of a finished labelling in one pass over them.

    Returns, per edge, ``rejected`` (``strong`` and the ends in different clusters) and
    ``lone`` (exactly one end in a cluster of one row): the same as
    ``strong & (labels[left] != labels[right])`` and ``alone[left] != alone[right]``
    with ``alone = bincount(labels)[labels] == 1``, without their edge-sized
    temporaries. ``labels`` must be ``0 .. k - 1``. (The lone edges are flagged rather
    than collected: a conditional append in the loop made it 2.5x slower.)
    """
    k = 0
    for i in range(labels.shape[0]):
        k = max(k, labels[i] + 1)
    size = np.zeros(k, dtype=np.int64)
    for i in range(labels.shape[0]):
        size[labels[i]] += 1
    # per row: label * 2 + (alone in its cluster), so each end costs one lookup
    code = np.empty(labels.shape[0], dtype=np.int64)
    for i in range(labels.shape[0]):
        code[i] = 2 * labels[i] + (size[labels[i]] == 1)
    m = left.shape[0]
    rejected = np.empty(m, dtype=np.bool_)
    lone = np.empty(m, dtype=np.bool_)
    for e in range(m):
        a = code[left[e]]
        b = code[right[e]]
        rejected[e] = strong[e] & ((a >> 1) != (b >> 1))
        lone[e] = (a ^ b) & 1
    return rejected, lone
