"""Exact Jaccard of candidate pairs whose shingle sets are spilled to disk, read in blocks.

Candidate pairs join rows from all over a large corpus. Reading, for each slice of the
pairs, every row those pairs touch re-reads most rows many times, in small scattered
pieces. Here the wanted rows are cut, in row order, into a few large *blocks*; each
block is read once and held while the rows its pairs need from later blocks are
streamed past it in ascending order. Every read is a long forward scan of the spill
file, and the bytes read are a small multiple of the wanted rows' size.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from . import _kernels as kernels
from ._arrays import unique_codes
from ._spill import RaggedStore

__all__ = ["BLOCK_VALUES", "STREAM_VALUES", "exact_jaccard_blocked"]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
U32 = npt.NDArray[np.uint32]

#: Shingles held per block (4 bytes each): 512 MiB.
BLOCK_VALUES = 1 << 27
#: Shingles of later blocks streamed past a held block at once: 128 MiB.
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
        Shingles per held block (a block holds at least one row).
    stream_values : int, default :data:`STREAM_VALUES`
        Shingles of other blocks read at once (at least one row).

    Returns
    -------
    float64 array
        One value per pair.
    """
    out = np.zeros(left.size, np.float64)
    if left.size == 0:
        return out
    lengths = np.diff(shingles.ptr)
    rows = unique_codes(np.concatenate((left, right)))
    block = _cut(lengths[rows], block_values)
    at_l = np.searchsorted(rows, left)
    at_r = np.searchsorted(rows, right)
    swap = block[at_l] > block[at_r]
    # Each pair goes to the block of its earlier row; ``held`` is that row, ``other`` the
    # one compared with it, and the pairs of a block are taken in ascending ``other``.
    held = np.where(swap, right, left)
    other = np.where(swap, left, right)
    held_block = np.minimum(block[at_l], block[at_r])
    order = np.lexsort((other, held_block))
    edges = np.searchsorted(held_block[order], np.arange(int(block[-1]) + 2))
    block_edges = np.searchsorted(block, np.arange(int(block[-1]) + 2))
    for b in range(int(block[-1]) + 1):
        pick = order[edges[b] : edges[b + 1]]
        if pick.size == 0:
            continue
        mine = rows[block_edges[b] : block_edges[b + 1]]
        _block(shingles, mine, pick, held[pick], other[pick], stream_values, at_least, out)
    return out


def _block(
    shingles: RaggedStore,
    mine: I64,
    pick: I64,
    held: I64,
    other: I64,
    stream_values: int,
    at_least: float | None,
    out: F64,
) -> None:
    """Compare the pairs ``pick`` of one block, whose held rows are ``mine``, into ``out``.

    ``other`` is ascending. Rows are addressed by their bounds: row ``k`` of the buffer
    is ``values[bounds[2k]:bounds[2k + 1]]``, which the kernel reads as a row pointer
    indexed by ``2k``; the spans read may hold unwanted values between rows.
    """
    inside = (other >= mine[0]) & (other <= mine[-1])
    wanted = unique_codes(other[~inside])
    part = _cut(np.diff(shingles.ptr)[wanted], stream_values)
    n_parts = int(part[-1]) + 1 if part.size else 0
    part_edges = np.searchsorted(part, np.arange(n_parts + 1))
    stream_size = max(
        (shingles.span_size(wanted[part_edges[p] : part_edges[p + 1]]) for p in range(n_parts)),
        default=0,
    )
    held_size = shingles.span_size(mine)
    values = np.empty(held_size + stream_size, np.uint32)
    bounds = np.empty(2 * (mine.size + int(np.diff(part_edges).max(initial=0))), np.int64)
    begin, end, _ = shingles.read_spans(mine, [values])
    bounds[0 : 2 * mine.size : 2] = begin
    bounds[1 : 2 * mine.size : 2] = end
    h = 2 * np.searchsorted(mine, held)
    if inside.any():
        o = 2 * np.searchsorted(mine, other[inside])
        out[pick[inside]] = _compare(bounds, values, h[inside], o, at_least)
    pick, h, other = pick[~inside], h[~inside], other[~inside]
    pair_edges = np.searchsorted(other, wanted[part_edges[:-1]])
    pair_edges = np.append(pair_edges, other.size)
    for p in range(n_parts):
        these = wanted[part_edges[p] : part_edges[p + 1]]
        begin, end, _ = shingles.read_spans(these, [values[held_size:]])
        at = 2 * mine.size
        bounds[at : at + 2 * these.size : 2] = held_size + begin
        bounds[at + 1 : at + 2 * these.size : 2] = held_size + end
        s, e = pair_edges[p], pair_edges[p + 1]
        o = at + 2 * np.searchsorted(these, other[s:e])
        out[pick[s:e]] = _compare(bounds, values, h[s:e], o, at_least)


def _cut(lengths: I64, budget: int) -> I64:
    """Give consecutive rows run numbers, a run holding about ``budget`` values."""
    before = np.cumsum(lengths) - lengths
    return before // max(budget, 1)


def _compare(bounds: I64, values: U32, left: I64, right: I64, at_least: float | None) -> F64:
    if at_least is None:
        return np.asarray(kernels.jaccard_pairs(bounds, values, left, right))
    return np.asarray(kernels.jaccard_at_least(bounds, values, left, right, float(at_least)))
