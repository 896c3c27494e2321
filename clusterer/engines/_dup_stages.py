"""Near-duplicate stages: identical signatures, LSH band buckets, pair verification.

Per-partition (or per-bucket) functions over NumPy arrays that the Dask engine maps;
they call the same stage functions as :mod:`clusterer.pipeline` (``band_keys``,
``candidate_pairs``, ``exact_jaccard``, ``estimated_jaccard``), so the distributed
result is the local one exactly. The public names are re-exported by
:mod:`clusterer.engines.stages`. Nothing here imports Dask.
"""

from __future__ import annotations

import numpy as np

from .._arrays import concat_ptr, unique_pairs
from ..config import ClusterConfig
from ..lsh import Banding, band_keys, candidate_pairs
from ..pipeline import banding_for
from ..signatures import Features
from ..similarity import estimated_jaccard, exact_jaccard
from ._common_stages import (
    _EMPTY_I,
    F64,
    I64,
    U64,
    Pairs,
    Part,
    Rows,
    _take_csr,
    route,
)


def _bucket_of(keys: U64, buckets: int) -> I64:
    return np.asarray(keys % np.uint64(buckets), np.int64)


def whole_keys(
    part: Part, offset: int, config: ClusterConfig, buckets: int
) -> list[tuple[U64, I64]]:
    """Whole-signature keys of eligible rows, routed to buckets by key."""
    f = part.features
    rows = np.flatnonzero(f.n_tokens > 0)
    keys = band_keys(f.signatures[rows], Banding(1, config.num_perm))[:, 0]
    where = _bucket_of(keys, buckets)
    return [(keys[where == b], rows[where == b] + offset) for b in range(buckets)]


def collapse(*pieces: tuple[U64, I64]) -> tuple[I64, I64, U64]:
    """Identical signatures: pairs (first row, copy row) in (key, row) order, as locally."""
    keys = np.concatenate([p[0] for p in pieces]) if pieces else np.zeros(0, np.uint64)
    rows = np.concatenate([p[1] for p in pieces]) if pieces else _EMPTY_I
    order = np.lexsort((rows, keys))
    keys, rows = keys[order], rows[order]
    if rows.size == 0:
        return _EMPTY_I, _EMPTY_I, np.zeros(0, np.uint64)
    first = np.concatenate(([True], keys[1:] != keys[:-1]))
    rep = rows[np.flatnonzero(first)][np.cumsum(first) - 1]
    return rep[~first], rows[~first], keys[~first]


def band_split(
    part: Part, offset: int, config: ClusterConfig, copies: I64, buckets: int
) -> list[tuple[I64, U64, I64]]:
    """Band keys of the partition's representative rows, routed to buckets by key."""
    f = part.features
    rep = f.n_tokens > 0
    mine = copies[(copies >= offset) & (copies < offset + len(part))] - offset
    rep[mine] = False
    rows = np.flatnonzero(rep)
    keys = band_keys(f.signatures[rows], banding_for(config))
    nb = keys.shape[1]
    band = np.tile(np.arange(nb, dtype=np.int64), rows.size)
    flat = keys.ravel()
    row = np.repeat(rows + offset, nb)
    where = _bucket_of(flat, buckets)
    return [(band[where == b], flat[where == b], row[where == b]) for b in range(buckets)]


def band_pairs(offsets: I64, *pieces: tuple[I64, U64, I64]) -> list[Pairs | int]:
    """Candidate pairs of one key bucket (``candidate_pairs`` per band), routed by left owner."""
    band = np.concatenate([p[0] for p in pieces])
    keys = np.concatenate([p[1] for p in pieces])
    rows = np.concatenate([p[2] for p in pieces])
    lefts, rights = [], []
    truncated = 0
    order = np.lexsort((rows, band))
    band, keys, rows = band[order], keys[order], rows[order]
    cuts = np.flatnonzero(np.diff(band)) + 1
    for s, e in zip(np.concatenate(([0], cuts)), np.concatenate((cuts, [band.size])), strict=True):
        if e - s < 2:
            continue
        m = int(e - s)
        left, right, t = candidate_pairs(keys[s:e, None], np.ones(m, bool))
        truncated += t
        lefts.append(rows[s:e][left])
        rights.append(rows[s:e][right])
    left = np.concatenate(lefts) if lefts else _EMPTY_I
    right = np.concatenate(rights) if rights else _EMPTY_I
    n = int(offsets[-1])
    left, right = unique_pairs(left, right, max(n, 1))
    return [*route(left, right, offsets), truncated]


def dup_extract(part: Part, offset: int, config: ClusterConfig, *asks: I64) -> list[Rows]:
    """Shingles (exact) or signatures (estimate) of the rows each partition asked for."""
    f = part.features
    out = []
    for rows in asks:
        local = rows - offset
        if config.verify == "exact":
            ptr, take = _take_csr(f.shingle_ptr, local)
            out.append(Rows(rows, ptr, (f.shingles[take],), ()))
        else:
            out.append(Rows(rows, np.zeros(rows.size + 1, np.int64), (), (f.signatures[local],)))
    return out


def _combined_index(n_own: int, offset: int, extra: I64, rows: I64) -> I64:
    own = (rows >= offset) & (rows < offset + n_own)
    return np.where(own, rows - offset, n_own + np.searchsorted(extra, rows))


def dup_verify(
    part: Part, offset: int, config: ClusterConfig, pairs: Pairs, *extracts: Rows
) -> tuple[I64, I64, F64]:
    """Verify the pairs (left rows owned by this partition); keep near-duplicates."""
    left, right = pairs
    if left.size == 0:
        return _EMPTY_I, _EMPTY_I, np.zeros(0)
    f = part.features
    extra = np.concatenate([e.rows for e in extracts]) if extracts else _EMPTY_I
    order = np.argsort(extra, kind="stable")
    extra = extra[order]
    a = _combined_index(len(part), offset, extra, left)
    b = _combined_index(len(part), offset, extra, right)
    if config.verify == "exact":
        ptrs = [f.shingle_ptr] + [e.ptr for e in extracts]
        values = [f.shingles] + [e.values[0] for e in extracts]
        ptr = concat_ptr(ptrs)
        # extras were concatenated in extract order; reorder rows to sorted-row order
        n_own = len(part)
        perm = np.concatenate((np.arange(n_own), n_own + order))
        ptr, take = _take_csr(ptr, perm)
        sh = np.concatenate(values)[take]
        combined = Features(
            np.zeros((0, 0), np.uint32),
            _EMPTY_I,
            ptr,
            sh,
            _EMPTY_I,
            np.zeros(0, np.uint32),
            np.zeros(0, np.uint16),
            np.zeros(0, np.uint16),
        )
        sim = exact_jaccard(combined, a, b)
    else:
        sigs = np.concatenate([f.signatures] + [e.per_row[0] for e in extracts])
        n_own = len(part)
        sigs = sigs[np.concatenate((np.arange(n_own), n_own + order))]
        sim = estimated_jaccard(sigs, a, b)
    keep = sim >= config.duplicate_threshold
    return left[keep], right[keep], sim[keep]
