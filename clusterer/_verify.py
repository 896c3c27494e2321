"""Exact Jaccard of candidate pairs whose shingle sets are spilled to disk, in row blocks.

Candidate pairs join rows from all over a large corpus. Reading, for each slice of the
pairs, every row those pairs touch re-read most rows many times, in small scattered
pieces, and copied them. Here the spill file is mapped instead (its pages are in the
operating system's page cache, so nothing is copied), and the pairs are taken block by
block: the wanted rows are cut, in row order, into a few large blocks; the pairs within a
block are compared held row by held row, those with partner rows in later blocks with
the partners in ascending order, and the pages of each streamed slice and of each
finished block are let go, so the resident set holds about one block and one slice.
The pairs are put in that order by counting sorts, linear in rows and pairs (general
sorts of the millions of pairs of a 1M-article corpus took about a second), in one
compiled pass that also hands each block its pairs as slices, so that no per-block
masks and copies of the pair arrays are made (fresh memory costs page faults).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

from . import _kernels as kernels
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
    n_rows = ptr.size - 1
    # Linear in rows and pairs (no sorts): which rows are wanted, and each one's block.
    wanted = np.zeros(n_rows, np.bool_)
    wanted[left] = True
    wanted[right] = True
    rows = np.flatnonzero(wanted)
    del wanted
    block = _cut(np.diff(ptr)[rows], block_values)
    block_of = np.zeros(n_rows, np.int64)
    block_of[rows] = block
    last = int(block[-1])
    block_edges = np.searchsorted(block, np.arange(last + 2))
    last_row = rows[np.maximum(block_edges[1:] - 1, 0)]
    order, held, other, edges, inside = _block_plan(left, right, block_of, last_row, n_rows)
    del block_of
    with shingles.mapped() as column:
        for b in range(last + 1):
            s, e = edges[b], edges[b + 1]
            if s == e:
                continue
            mine = rows[block_edges[b] : block_edges[b + 1]]
            _block(
                column,
                ptr,
                order[s:e],
                held[s:e],
                other[s:e],
                inside[b],
                stream_values,
                at_least,
                out,
            )
            column.release(int(ptr[mine[0]]), int(ptr[mine[-1] + 1]))
    return out


def _block(
    column: MappedColumn,
    ptr: I64,
    pick: I64,
    held: I64,
    other: I64,
    inside: int,
    stream_values: int,
    at_least: float | None,
    out: F64,
) -> None:
    """Compare the pairs ``pick`` of one block into ``out``.

    The first ``inside`` pairs have both rows in the block; the others have ``other``
    ascending, past the block, and are compared in slices of about ``stream_values``
    values of those rows, each let go once compared.
    """
    if inside:
        out[pick[:inside]] = _compare(ptr, column, held[:inside], other[:inside], at_least)
    pick, held, other = pick[inside:], held[inside:], other[inside:]
    if pick.size == 0:
        return
    # ``other`` is sorted: its distinct rows start where it changes.
    starts = np.flatnonzero(np.concatenate(([True], other[1:] != other[:-1])))
    wanted = other[starts]
    part = _cut(np.diff(ptr)[wanted], stream_values)
    part_edges = np.flatnonzero(np.diff(part, prepend=-1, append=part[-1] + 1))
    pair_edges = np.append(starts[part_edges[:-1]], other.size)
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


@njit(cache=True)
def _block_plan(
    left: I64, right: I64, block_of: I64, last_row: I64, n_rows: int
) -> tuple[I64, I64, I64, I64, I64]:  # pragma: no cover - compiled
    """Order of the pairs for :func:`exact_jaccard_blocked`, by two counting sorts.

    Each pair goes to the block of its earlier row (by ``block_of``): ``held`` is that
    row, ``other`` the one compared with it. Pairs are grouped by that block; in a
    block, those whose ``other`` row is in the block too (``other <= last_row[block]``)
    come first, by ``(held, other)`` (a held row's partners one after another, while it
    is in cache), then the others by ``other`` (streamed in row order).

    Returns
    -------
    order : int64 array
        Pair numbers in that order.
    held, other : int64 arrays
        The pairs' rows, in that order.
    edges : int64 array
        Block ``b``'s pairs are ``edges[b] .. edges[b + 1] - 1`` of the order.
    inside : int64 array
        How many of them, first, have both rows in the block.
    """
    m = left.shape[0]
    blocks = last_row.shape[0]
    held = np.empty(m, np.int64)
    other = np.empty(m, np.int64)
    count = np.zeros(n_rows + 1, np.int64)
    for k in range(m):
        a, b = left[k], right[k]
        if block_of[a] > block_of[b]:
            a, b = b, a
        held[k] = a
        other[k] = b
        count[b + 1] += 1
    for r in range(n_rows):
        count[r + 1] += count[r]
    by_other = np.empty(m, np.int64)
    for k in range(m):
        by_other[count[other[k]]] = k
        count[other[k]] += 1
    # Inside pairs sort at 2 * held; the others of block b just after its rows.
    edges = np.zeros(blocks + 1, np.int64)
    inside = np.zeros(blocks, np.int64)
    count = np.zeros(2 * n_rows + 1, np.int64)
    for k in range(m):
        block = block_of[held[k]]
        end = last_row[block]
        edges[block + 1] += 1
        if other[k] <= end:
            inside[block] += 1
            count[2 * held[k] + 1] += 1
        else:
            count[2 * end + 2] += 1
    for r in range(2 * n_rows):
        count[r + 1] += count[r]
    for b in range(blocks):
        edges[b + 1] += edges[b]
    order = np.empty(m, np.int64)
    for i in range(m):
        k = by_other[i]
        end = last_row[block_of[held[k]]]
        key = 2 * held[k] if other[k] <= end else 2 * end + 1
        order[count[key]] = k
        count[key] += 1
    # by_other is spent: it takes the held rows in order, and held the other rows.
    for i in range(m):
        by_other[i] = held[order[i]]
    for i in range(m):
        held[i] = other[order[i]]
    return order, by_other, held, edges, inside
