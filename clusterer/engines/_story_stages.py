"""Story stages: TF-IDF with global document frequencies, term candidates, linkage.

Per-partition (or per-bucket) functions over NumPy arrays that the Dask engine maps;
they call the same stage functions as :mod:`clusterer.pipeline` (``tfidf_rows``,
``top_per_row``, the ``window_pairs`` kernel, ``story_similarity``, ``link_stories``),
so the distributed result is the local one exactly. The public names are re-exported
by :mod:`clusterer.engines.stages`. Nothing here imports Dask.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .. import _kernels as kernels
from .._arrays import unique_pairs
from ..config import ClusterConfig
from ..grouping import link_stories
from ..pipeline import _days
from ..similarity import (
    TfidfRows,
    document_frequencies,
    max_story_gap,
    story_similarity,
    tfidf_rows,
    top_per_row,
)
from ._common_stages import _EMPTY_I, F64, I64, Pairs, Part, Rows, _concat_ptr, _take_csr, route


@dataclass
class StoryPart:
    """TF-IDF rows and days of one partition."""

    rows: TfidfRows
    days: F64
    eligible: npt.NDArray[np.bool_]


def doc_freq(part: Part, config: ClusterConfig) -> I64:
    """Document frequencies of the partition's terms."""
    return document_frequencies(part.features, config.n_features)


def add(*arrays: I64) -> I64:
    """Element-wise sum (the reduction of per-partition counts)."""
    out: I64 = np.array(arrays[0], np.int64)
    for a in arrays[1:]:
        out += a
    return out


def story_part(part: Part, config: ClusterConfig, df: I64, n_docs: int) -> StoryPart:
    """TF-IDF rows with global document frequencies, days and eligibility."""
    rows = tfidf_rows(part.features, config, df=df, n_docs=n_docs)
    return StoryPart(rows, _days(part.meta.dates), part.features.has_terms())


def _top_terms(sp: StoryPart, config: ClusterConfig) -> tuple[I64, I64]:
    """(term, local row) of each eligible article's ``candidate_terms`` top terms."""
    n = sp.rows.ptr.size - 1
    row = np.repeat(np.arange(n, dtype=np.int64), np.diff(sp.rows.ptr))
    keep = top_per_row(sp.rows.ptr, sp.rows.weights, config.candidate_terms)
    keep = keep[sp.eligible[row[keep]]]
    return sp.rows.features[keep].astype(np.int64), row[keep]


def useful_terms(counts: I64, config: ClusterConfig) -> npt.NDArray[np.bool_]:
    """Terms whose global top-term postings are between 2 and ``max_postings``."""
    return (counts >= 2) & (counts <= config.max_postings)


def posting_counts(sp: StoryPart, config: ClusterConfig) -> I64:
    """Top-term postings per term in the partition."""
    term, _ = _top_terms(sp, config)
    return np.bincount(term, minlength=config.n_features).astype(np.int64)


def postings_split(
    sp: StoryPart, offset: int, config: ClusterConfig, useful: npt.NDArray[np.bool_], buckets: int
) -> list[tuple[I64, I64, F64]]:
    """Route useful postings (term, global row, day) to buckets by term."""
    term, doc = _top_terms(sp, config)
    ok = useful[term]
    term, doc = term[ok], doc[ok]
    day = sp.days[doc]
    where = term % buckets
    return [(term[where == b], doc[where == b] + offset, day[where == b]) for b in range(buckets)]


def term_pairs(offsets: I64, config: ClusterConfig, *pieces: tuple[I64, I64, F64]) -> list[Pairs]:
    """Story candidates of one term bucket (date-windowed posting lists), routed by owner."""
    term = np.concatenate([p[0] for p in pieces])
    doc = np.concatenate([p[1] for p in pieces])
    day = np.concatenate([p[2] for p in pieces])
    n = int(offsets[-1])
    if term.size == 0:
        return route(_EMPTY_I, _EMPTY_I, offsets)
    by = np.lexsort((doc, day, term))
    term, doc, day = term[by], doc[by], day[by]
    bounds = np.flatnonzero(np.diff(term)) + 1
    ptr = np.concatenate(([0], bounds, [term.size])).astype(np.int64)
    gap = max_story_gap(config)
    left, right = kernels.window_pairs(
        ptr, doc, day, gap if math.isfinite(gap) else 1e18, config.term_neighbours
    )
    left, right = unique_pairs(left, right, max(n, 1))
    return route(left, right, offsets)


def tfidf_extract(sp: StoryPart, offset: int, *asks: I64) -> list[Rows]:
    """TF-IDF rows and days of the rows each asker needs."""
    out = []
    for rows in asks:
        local = rows - offset
        ptr, take = _take_csr(sp.rows.ptr, local)
        out.append(
            Rows(rows, ptr, (sp.rows.features[take], sp.rows.weights[take]), (sp.days[local],))
        )
    return out


def _merge_rows(pieces: Sequence[Rows]) -> tuple[I64, TfidfRows, F64]:
    """Rows from several extracts as one TfidfRows indexed by position in sorted rows."""
    rows = np.concatenate([p.rows for p in pieces]) if pieces else _EMPTY_I
    order = np.argsort(rows, kind="stable")
    ptr = _concat_ptr([p.ptr for p in pieces]) if pieces else np.zeros(1, np.int64)
    ptr, take = _take_csr(ptr, order)
    feats = np.concatenate([p.values[0] for p in pieces]) if pieces else np.zeros(0, np.uint32)
    weights = np.concatenate([p.values[1] for p in pieces]) if pieces else np.zeros(0, np.float32)
    days = np.concatenate([p.per_row[0] for p in pieces]) if pieces else np.zeros(0)
    tf = TfidfRows(ptr, feats[take], weights[take], np.zeros(0, np.float32))
    return rows[order], tf, days[order]


def story_verify(
    sp: StoryPart, offset: int, config: ClusterConfig, pairs: Pairs, *extracts: Rows
) -> tuple[I64, I64, F64]:
    """Story similarity of the pairs (left owned here); those at or above the threshold."""
    left, right = pairs
    if left.size == 0:
        return _EMPTY_I, _EMPTY_I, np.zeros(0)
    n_own = sp.days.size
    own = Rows(
        np.arange(n_own, dtype=np.int64) + offset,
        sp.rows.ptr,
        (sp.rows.features, sp.rows.weights),
        (sp.days,),
    )
    rows, tf, days = _merge_rows([own, *extracts])
    a = np.searchsorted(rows, left)
    b = np.searchsorted(rows, right)
    sim = story_similarity(tf, days, a, b, config)
    keep = sim >= config.story_threshold
    return left[keep], right[keep], sim[keep]


def link_bucket(
    config: ClusterConfig,
    members: I64,
    dup_labels: I64,
    edges: tuple[I64, I64, F64],
    *extracts: Rows,
) -> tuple[I64, F64, int]:
    """``link_stories`` over a union of whole components, members given in id-rank order.

    Returns local labels (per member, in the given order), scores and cuts.
    """
    if members.size == 0:
        return _EMPTY_I, np.zeros(0), 0
    rows, tf, days = _merge_rows(list(extracts))
    pos = np.searchsorted(rows, members)  # member i (rank order) -> row in the store
    m = members.size
    sorter = np.argsort(members)
    el = sorter[np.searchsorted(members, edges[0], sorter=sorter)]
    er = sorter[np.searchsorted(members, edges[1], sorter=sorter)]

    def score(a: I64, b: I64) -> F64:
        return story_similarity(tf, days, pos[a], pos[b], config)

    result = link_stories(
        m,
        el,
        er,
        edges[2],
        dup_labels,
        score,
        config.story_threshold,
        config.linkage,
        config.max_block,
    )
    return result.labels, result.scores, result.cuts
