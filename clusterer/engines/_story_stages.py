"""Story stages: TF-IDF with global document frequencies, term candidates, linkage.

Per-partition (or per-bucket) functions over NumPy arrays that the Dask engine maps;
they call the same stage functions as :mod:`clusterer.pipeline` (``tfidf_rows``,
``top_per_row``, ``posting_lists``, ``strong_posting_pairs``, ``story_similarity``,
``link_stories``, ``attach_singletons``),
so the distributed result is the local one exactly. The public names are re-exported
by :mod:`clusterer.engines.stages`. Nothing here imports Dask.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .._arrays import concat_ptr
from .._specific_kernels import add_moments
from ..config import ClusterConfig
from ..grouping import link_stories
from ..pipeline import _days
from ..similarity import (
    TfidfRows,
    document_frequencies,
    edge_threshold,
    posting_lists,
    specific_terms,
    story_similarity,
    strong_posting_pairs,
    tfidf_rows,
    top_per_row,
)
from ._common_stages import _EMPTY_I, F64, I64, Part, Rows, _take_csr, array_bytes


@dataclass
class StoryPart:
    """TF-IDF rows and days of one partition."""

    rows: TfidfRows
    days: F64
    eligible: npt.NDArray[np.bool_]

    def __sizeof__(self) -> int:
        return array_bytes(self.rows) + self.days.nbytes + self.eligible.nbytes + 64


def doc_freq(part: Part, config: ClusterConfig) -> I64:
    """Document frequencies of the partition's terms."""
    return document_frequencies(part.features, config.n_features)


def add(*arrays: I64) -> I64:
    """Element-wise sum (the reduction of per-partition counts)."""
    out: I64 = np.array(arrays[0], np.int64)
    for a in arrays[1:]:
        out += a
    return out


def day_moments(part: Part, config: ClusterConfig) -> I64:
    """Day moments of the partition's terms (``specific_terms``; summed with :func:`add`)."""
    moments = np.zeros((3, config.n_features), np.int64)
    add_moments(
        moments, part.features.term_ptr, part.features.term_features, _days(part.meta.dates)
    )
    return moments


def specific_flags(
    df: I64, n_docs: int, moments: I64 | None, config: ClusterConfig
) -> npt.NDArray[np.bool_]:
    """Flag the corpus's specific terms from its global counts (:func:`specific_terms`)."""
    return specific_terms(df, n_docs, moments, config)


def story_part(
    part: Part,
    config: ClusterConfig,
    df: I64,
    n_docs: int,
    specific: npt.NDArray[np.bool_] | None = None,
) -> StoryPart:
    """TF-IDF rows with global document frequencies (and specific terms), days, eligibility."""
    rows = tfidf_rows(part.features, config, df=df, n_docs=n_docs)
    rows = TfidfRows(rows.ptr, rows.features, rows.weights, rows.idf, specific)
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
) -> list[tuple[I64, I64, Rows]]:
    """Route useful postings (term, global row) to buckets by term, with the rows they need.

    Each bucket receives the TF-IDF rows and days of this partition's articles posted in
    it, so it can score its candidates itself instead of shipping them for scoring.
    """
    term, doc = _top_terms(sp, config)
    ok = useful[term]
    term, doc = term[ok], doc[ok]
    where = term % buckets
    out = []
    for b in range(buckets):
        mine = where == b
        rows = np.unique(doc[mine]) + offset
        out.append((term[mine], doc[mine] + offset, tfidf_extract(sp, offset, rows)[0]))
    return out


def term_edges(
    config: ClusterConfig,
    specific: npt.NDArray[np.bool_] | None,
    *pieces: tuple[I64, I64, Rows],
) -> tuple[I64, I64, F64]:
    """Story edges of one term bucket: its date-windowed candidates, scored as enumerated.

    Every posting list of a term is in the bucket of the term, so the bucket finds the
    same strong pairs among them as the local engine does; a pair sharing terms of
    several buckets is found by each (the client keeps one).

    Returns
    -------
    left, right : int64 arrays
        Global rows, ``left < right``, distinct and sorted.
    similarity : float64 array
        Story similarity, at least :func:`~clusterer.similarity.edge_threshold`.
    """
    term = np.concatenate([p[0] for p in pieces]) if pieces else _EMPTY_I
    if term.size == 0:
        return _EMPTY_I, _EMPTY_I, np.zeros(0)
    doc = np.concatenate([p[1] for p in pieces])
    rows, tf, days = _merge_rows([p[2] for p in pieces], specific)
    local = np.searchsorted(rows, doc)  # order-preserving: ties break as on global rows
    ptr, local, day = posting_lists(term, local, days[local])
    left, right, sim = strong_posting_pairs(ptr, local, day, tf, days, config)
    keep = sim >= edge_threshold(config)
    return rows[left[keep]], rows[right[keep]], sim[keep]


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


def _merge_rows(
    pieces: Sequence[Rows], specific: npt.NDArray[np.bool_] | None = None
) -> tuple[I64, TfidfRows, F64]:
    """Rows from several extracts as one TfidfRows indexed by position in sorted rows."""
    rows = np.concatenate([p.rows for p in pieces]) if pieces else _EMPTY_I
    order = np.argsort(rows, kind="stable")
    ptr = concat_ptr([p.ptr for p in pieces]) if pieces else np.zeros(1, np.int64)
    ptr, take = _take_csr(ptr, order)
    feats = np.concatenate([p.values[0] for p in pieces]) if pieces else np.zeros(0, np.uint32)
    weights = np.concatenate([p.values[1] for p in pieces]) if pieces else np.zeros(0, np.float32)
    days = np.concatenate([p.per_row[0] for p in pieces]) if pieces else np.zeros(0)
    tf = TfidfRows(ptr, feats[take], weights[take], np.zeros(0, np.float32), specific)
    return rows[order], tf, days[order]


def link_bucket(
    config: ClusterConfig,
    specific: npt.NDArray[np.bool_] | None,
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
    rows, tf, days = _merge_rows(list(extracts), specific)
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


def attach_scores(
    config: ClusterConfig,
    specific: npt.NDArray[np.bool_] | None,
    left: I64,
    right: I64,
    *extracts: Rows,
) -> F64:
    """Story similarity of the given pairs of global rows (the attachment pass's scores).

    The same ``story_similarity`` call as the local engine makes, on the same rows, so
    the values are identical.
    """
    if left.size == 0:
        return np.zeros(0)
    rows, tf, days = _merge_rows(list(extracts), specific)
    return story_similarity(
        tf, days, np.searchsorted(rows, left), np.searchsorted(rows, right), config
    )
