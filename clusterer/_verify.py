"""Exact Jaccard of candidate pairs whose shingle sets are spilled to disk, in row blocks.

Candidate pairs join rows from all over a large corpus. Reading, for each slice of the
pairs, every row those pairs touch re-read most rows many times, in small scattered
pieces, and copied them. Here the spill file is mapped instead (its pages are in the
operating system's page cache, so nothing is copied), and the pairs are taken block by
block: the wanted rows are cut, in row order, into a few large blocks; the pairs of a
block are compared with their partner rows of later blocks in ascending order, and the
pages of each streamed slice and of each finished block are let go, so the resident set
holds about one block and one slice.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from . import _kernels as kernels
from ._arrays import unique_codes
from ._spill import MappedColumn, RaggedStore

__all__ = ["BLOCK_VALUES", "STREAM_VALUES", "exact_jaccard_blocked"]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

#: Shingles per block (4 bytes each): 512 MiB.
BLOCK_VALUES = 1 << 27
#: Shingles of later blocks compared with a block at once: 128 MiB.
STREAM_VALUES = 1 << 25


def exact_jaccard_blocked(
    shingles: RaggedStore,
    left: I64,
    right: I64,
    at_least: float | None = None,
    *,
    block_values: int = BLOCK_VALUES,
    stream_values: int = STREAM_VALUES,
) -> F64:
    """Exact Jaccard of row pairs whose shingle sets are in a :class:`RaggedStore`.

    The values equal those of :func:`clusterer.similarity.exact_jaccard` on the same
    rows held in memory: the same kernel compares each pair (it is symmetric in the
    two rows, so a pair may be compared either way round).

    Parameters
    ----------
    shingles : RaggedStore
        One column of sorted distinct shingle hashes per row.
    left, right : int64 arrays
        Row pairs, in any order and orientation.
    at_least : float, optional
        Only values at or above this (positive) bound are needed: pairs below it are
        given 0.0, and their comparison stops as soon as that is certain.
    block_values : int, default :data:`BLOCK_VALUES`
        Shingles per block (a block holds at least one row).
    stream_values : int, default :data:`STREAM_VALUES`
        Shingles of later blocks compared at once (at least one row).

    Returns
    -------
    float64 array
        One value per pair.
    """
    out = np.zeros(left.size, np.float64)
    if left.size == 0:
        return out
    ptr = shingles.ptr
    rows = unique_codes(np.concatenate((left, right)))
    block = _cut(np.diff(ptr)[rows], block_values)
    block_l = block[np.searchsorted(rows, left)]
    block_r = block[np.searchsorted(rows, right)]
    swap = block_l > block_r
    # Each pair goes to the block of its earlier row; ``held`` is that row, ``other`` the
    # one compared with it, and the pairs of a block are taken in ascending ``other``.
    held = np.where(swap, right, left)
    other = np.where(swap, left, right)
    held_block = np.minimum(block_l, block_r)
    order = np.lexsort((other, held_block))
    last = int(block[-1])
    edges = np.searchsorted(held_block[order], np.arange(last + 2))
    block_edges = np.searchsorted(block, np.arange(last + 2))
    with shingles.mapped() as column:
        for b in range(last + 1):
            pick = order[edges[b] : edges[b + 1]]
            if pick.size == 0:
                continue
            mine = rows[block_edges[b] : block_edges[b + 1]]
            _block(
                column, ptr, mine[-1], pick, held[pick], other[pick], stream_values, at_least, out
            )
            column.release(int(ptr[mine[0]]), int(ptr[mine[-1] + 1]))
    return out


def _block(
    column: MappedColumn,
    ptr: I64,
    mine_last: int,
    pick: I64,
    held: I64,
    other: I64,
    stream_values: int,
    at_least: float | None,
    out: F64,
) -> None:
    """Compare the pairs ``pick`` of the block ending at row ``mine_last`` into ``out``.

    ``other`` is ascending; rows past the block are compared in slices of about
    ``stream_values`` values, each let go once compared.
    """
    inside = other <= mine_last
    if inside.any():
        out[pick[inside]] = _compare(ptr, column, held[inside], other[inside], at_least)
    pick, held, other = pick[~inside], held[~inside], other[~inside]
    if pick.size == 0:
        return
    wanted = unique_codes(other.copy())
    part = _cut(np.diff(ptr)[wanted], stream_values)
    part_edges = np.flatnonzero(np.diff(part, prepend=-1, append=part[-1] + 1))
    pair_edges = np.append(np.searchsorted(other, wanted[part_edges[:-1]]), other.size)
    for p in range(part_edges.size - 1):
        s, e = pair_edges[p], pair_edges[p + 1]
        out[pick[s:e]] = _compare(ptr, column, held[s:e], other[s:e], at_least)
        first, final = wanted[part_edges[p]], wanted[part_edges[p + 1] - 1]
        column.release(int(ptr[first]), int(ptr[final + 1]))


def _cut(lengths: I64, budget: int) -> I64:
    """Give consecutive rows run numbers, a run holding about ``budget`` values."""
    before = np.cumsum(lengths) - lengths
    return before // max(budget, 1)


def _compare(ptr: I64, column: MappedColumn, left: I64, right: I64, at_least: float | None) -> F64:
    values = np.asarray(column.values, np.uint32)
    if at_least is None:
        return np.asarray(kernels.jaccard_pairs(ptr, values, left, right))
    return np.asarray(kernels.jaccard_at_least(ptr, values, left, right, float(at_least)))
