"""Pairwise similarities: Jaccard for near-duplicates, title-aware TF-IDF cosine for stories.

Nothing here builds an n x n matrix: every function works on an explicit list of
candidate pairs, and candidates come from LSH buckets (duplicates) or from shared
distinctive terms within a date window (stories).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from . import _kernels as kernels
from . import _story_kernels as story_kernels
from ._arrays import unique_pairs
from ._specific_kernels import TENTHS, add_moments, shares_specific
from ._spill import RaggedStore
from ._tfidf_kernels import weigh_chunk
from .config import ClusterConfig
from .signatures import Features

__all__ = [
    "TfidfRows",
    "date_decay",
    "document_frequencies",
    "edge_threshold",
    "estimated_jaccard",
    "exact_jaccard",
    "max_story_gap",
    "posting_lists",
    "specific_terms",
    "story_candidates",
    "story_similarity",
    "strong_posting_pairs",
    "strong_story_pairs",
    "tfidf_rows",
    "tfidf_rows_stored",
    "top_per_row",
]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


def exact_jaccard(features: Features, left: I64, right: I64, at_least: float | None = None) -> F64:
    """Exact Jaccard similarity of the stored shingle sets of each pair.

    Parameters
    ----------
    features : Features
        With shingles kept (``verify="exact"``).
    left, right : int64 arrays
        Row pairs.
    at_least : float, optional
        Only values at or above this (positive) bound are needed: pairs below it are
        given 0.0, and their comparison stops as soon as that is certain.

    Returns
    -------
    float64 array
        One value per pair.
    """
    return _jaccard(features.shingle_ptr, features.shingles, left, right, at_least)


def _jaccard(
    ptr: I64, values: npt.NDArray[np.uint32], left: I64, right: I64, at_least: float | None
) -> F64:
    if at_least is None:
        return np.asarray(kernels.jaccard_pairs(ptr, values, left, right))
    return np.asarray(kernels.jaccard_at_least(ptr, values, left, right, float(at_least)))


def estimated_jaccard(
    signatures: npt.NDArray[np.uint32], left: I64, right: I64, chunk: int = 65536
) -> F64:
    """MinHash estimate: the share of equal signature values, per pair.

    Parameters
    ----------
    signatures : (n, num_perm) uint32
        Signatures.
    left, right : int64 arrays
        Row pairs.
    chunk : int, default 65536
        Pairs compared at once (bounds temporary memory).

    Returns
    -------
    float64 array
        One value per pair.
    """
    out = np.empty(left.size, dtype=np.float64)
    for s in range(0, left.size, chunk):
        a = signatures[left[s : s + chunk]]
        b = signatures[right[s : s + chunk]]
        out[s : s + chunk] = (a == b).mean(axis=1)
    return out


@dataclass(frozen=True)
class TfidfRows:
    """L2-normalised TF-IDF rows in CSR form (features ascending within a row).

    Parameters
    ----------
    ptr : (n + 1,) int64
        Row pointer.
    features : uint32
        Hashed term ids.
    weights : float32
        Normalised weights.
    idf : (n_features,) float32
        Inverse document frequencies used.
    specific : (n_features,) bool or None
        The terms a story link needs one of (``ClusterConfig.specific_terms``; see
        :func:`specific_terms`); None: no such rule.
    """

    ptr: I64
    features: npt.NDArray[np.uint32]
    weights: npt.NDArray[np.float32]
    idf: npt.NDArray[np.float32]
    specific: npt.NDArray[np.bool_] | None = None


def document_frequencies(features: Features, n_features: int) -> I64:
    """Count the articles carrying each hashed term (a term appears once per row)."""
    return np.bincount(features.term_features, minlength=n_features).astype(np.int64)


def tfidf_rows(
    features: Features,
    config: ClusterConfig,
    df: I64 | None = None,
    n_docs: int | None = None,
    days: F64 | None = None,
) -> TfidfRows:
    """Weight terms: sublinear TF of body plus ``title_weight`` x sublinear TF of title, x IDF.

    Parameters
    ----------
    features : Features
        Term counts per article.
    config : ClusterConfig
        ``title_weight`` and ``n_features`` are used.
    df : int64 array of length n_features, optional
        Document frequencies to use (the incremental index passes its stored counts);
        by default those of ``features`` itself.
    n_docs : int, optional
        Number of documents behind ``df``; by default ``len(features)``.
    days : (n,) float64, optional
        Publication days (NaN unknown), for the spread of each term in time when
        ``config.specific_terms`` is on (without them only frequency decides).

    Returns
    -------
    TfidfRows
        Normalised rows; an article without terms has an empty row.
    """
    n = len(features)
    if df is None:
        df = document_frequencies(features, config.n_features)
    total = n if n_docs is None else n_docs

    def read(r0: int, r1: int) -> tuple[I64, _TermColumns]:
        sl = slice(int(features.term_ptr[r0]), int(features.term_ptr[r1]))
        local = features.term_ptr[r0 : r1 + 1] - features.term_ptr[r0]
        return local, (features.term_features[sl], features.term_body[sl], features.term_title[sl])

    return _weigh_rows(features.term_ptr, read, df, total, config, days)


def tfidf_rows_stored(
    terms: RaggedStore, df: I64, config: ClusterConfig, days: F64 | None = None
) -> TfidfRows:
    """:func:`tfidf_rows` of term counts kept in a :class:`~clusterer._spill.RaggedStore`.

    Parameters
    ----------
    terms : RaggedStore
        Columns ``(term_features, term_body, term_title)``, one row per article.
    df : int64 array of length n_features
        Document frequencies of the stored rows (what :func:`document_frequencies`
        gives for them).
    config : ClusterConfig
        ``title_weight``, ``max_terms`` and ``n_features`` are used.
    days : (n,) float64, optional
        As for :func:`tfidf_rows`.

    Returns
    -------
    TfidfRows
        The same rows as :func:`tfidf_rows` on the same counts held in memory.
    """

    def read(r0: int, r1: int) -> tuple[I64, _TermColumns]:
        local, (feats, body, title) = terms.read_range(r0, r1)
        return local, (feats, body, title)  # type: ignore[return-value]

    return _weigh_rows(terms.ptr, read, df, len(terms), config, days)


_TermColumns = tuple[npt.NDArray[np.uint32], npt.NDArray[np.uint16], npt.NDArray[np.uint16]]


def _weigh_rows(
    term_ptr: I64,
    read: Callable[[int, int], tuple[I64, _TermColumns]],
    df: I64,
    total: int,
    config: ClusterConfig,
    days: F64 | None = None,
) -> TfidfRows:
    """Weigh and normalise term rows read chunk by chunk with ``read(r0, r1)``."""
    idf = (np.log((1.0 + total) / (1.0 + df.astype(np.float64))) + 1.0).astype(np.float32)
    # The output size is known in advance (top_per_row keeps min(length, max_terms) of
    # each row): chunks are written in place instead of joined at the end, which would
    # hold every chunk twice.
    lengths = np.diff(term_ptr)
    if config.max_terms is not None:
        lengths = np.minimum(lengths, config.max_terms)
    out_ptr = np.zeros(term_ptr.size, np.int64)
    np.cumsum(lengths, out=out_ptr[1:])
    del lengths
    out_features = np.empty(int(out_ptr[-1]), np.uint32)
    out_weights = np.empty(int(out_ptr[-1]), np.float32)
    moments = None
    if config.specific_terms and days is not None and config.specific_spread_days is not None:
        moments = np.zeros((3, config.n_features), np.int64)
    # Rows in chunks of about _CHUNK_TERMS terms: the element-wise arithmetic and the
    # per-row sums are the same as on the whole arrays, without their temporaries.
    for r0, r1 in _row_chunks(term_ptr, _CHUNK_TERMS):
        local, (feats, body, title) = read(r0, r1)
        if moments is not None and days is not None:
            add_moments(moments, local, feats, days[r0:r1])
        out = slice(int(out_ptr[r0]), int(out_ptr[r1]))
        if config.kernel == "numpy":
            out_features[out], out_weights[out] = _weigh_chunk(
                local, feats, body, title, idf, config
            )
        else:
            weigh_chunk(
                local,
                feats,
                body,
                title,
                _sublinear_table(),
                np.float32(config.title_weight),
                idf,
                -1 if config.max_terms is None else config.max_terms,
                out_ptr[r0 : r1 + 1] - out_ptr[r0],
                out_features[out],
                out_weights[out],
            )
    specific = specific_terms(df, total, moments, config) if config.specific_terms else None
    return TfidfRows(out_ptr, out_features, out_weights, idf, specific)


def _weigh_chunk(
    local: I64,
    feats: npt.NDArray[np.uint32],
    body: npt.NDArray[np.uint16],
    title: npt.NDArray[np.uint16],
    idf: npt.NDArray[np.float32],
    config: ClusterConfig,
) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.float32]]:
    """Weighed, truncated and normalised rows of a chunk, with NumPy.

    The reference of the compiled :func:`~clusterer._tfidf_kernels.weigh_chunk`
    (``ClusterConfig(kernel="numpy")``), which gives the same arrays bit for bit.
    """
    m = local.size - 1
    tf = _sublinear(body) + np.float32(config.title_weight) * _sublinear(title)
    w = tf * idf[feats]
    del tf
    row = np.repeat(np.arange(m), np.diff(local))
    if config.max_terms is not None:
        keep = top_per_row(local, w, config.max_terms)
        w, feats, row = w[keep], feats[keep], row[keep]
    norms = np.sqrt(np.bincount(row, weights=w.astype(np.float64) ** 2, minlength=m))
    norms[norms == 0] = 1.0
    return feats, (w / norms[row]).astype(np.float32)


def specific_terms(
    df: I64, n_docs: int, moments: I64 | None, config: ClusterConfig
) -> npt.NDArray[np.bool_]:
    """Flag the terms that can carry a story link (``ClusterConfig.specific_terms``).

    Parameters
    ----------
    df : int64 array of length n_features
        Document frequencies.
    n_docs : int
        Number of documents behind ``df``.
    moments : (3, n_features) int64 or None
        Per term: its dated articles, the sum of their days in tenths and of the
        squares (:func:`~clusterer._specific_kernels.add_day_moments`; ``None``: no
        dates, only frequency decides).
    config : ClusterConfig
        ``specific_df``, ``specific_share`` and ``specific_spread_days``.

    Returns
    -------
    bool array of length n_features
        True for a term in at most ``max(specific_df, specific_share * n_docs)``
        articles, or whose dated articles (two or more) have a standard deviation of
        days at most ``specific_spread_days``.
    """
    ceiling = max(float(config.specific_df), config.specific_share * n_docs)
    specific = df <= ceiling
    if moments is not None and config.specific_spread_days is not None:
        count, total, squares = (m.astype(np.float64) for m in moments)
        dated = count >= 2
        mean = np.divide(total, count, out=np.zeros_like(total), where=dated)
        var = np.divide(squares, count, out=np.zeros_like(total), where=dated) - mean**2
        spread = np.sqrt(np.maximum(var, 0.0)) / TENTHS
        specific |= dated & (spread <= config.specific_spread_days)
    return specific


_CHUNK_TERMS = 1 << 23


def _row_chunks(ptr: I64, limit: int) -> list[tuple[int, int]]:
    """Split rows ``0..n`` into consecutive ranges holding about ``limit`` entries each."""
    n = ptr.size - 1
    out = []
    r0 = 0
    while r0 < n:
        r1 = int(np.searchsorted(ptr, ptr[r0] + limit, side="right")) - 1
        r1 = min(max(r1, r0 + 1), n)
        out.append((r0, r1))
        r0 = r1
    return out


def top_per_row(ptr: I64, weights: npt.NDArray[np.float32], k: int) -> I64:
    """Positions of the ``k`` largest weights of each CSR row, in ascending position order.

    Ties break by position, so the result is deterministic (a compiled per-row stable
    sort; equal to ``lexsort((-weights, row))`` truncated per row, without its
    whole-array temporaries).
    """
    return np.asarray(
        story_kernels.top_k_positions(
            np.ascontiguousarray(ptr, np.int64), np.ascontiguousarray(weights, np.float32), k
        )
    )


def _sublinear(counts: npt.NDArray[np.uint16]) -> npt.NDArray[np.float32]:
    """``1 + log(count)`` for positive counts, 0 otherwise."""
    c = counts.astype(np.float32)
    return np.where(c > 0, 1.0 + np.log(np.maximum(c, 1.0)), 0.0).astype(np.float32)


@lru_cache(maxsize=1)
def _sublinear_table() -> npt.NDArray[np.float32]:
    """:func:`_sublinear` of every count a term column holds (uint16), for the kernel."""
    table = _sublinear(np.arange(1 << 16, dtype=np.uint16))
    table.flags.writeable = False
    return table


def max_story_gap(config: ClusterConfig) -> float:
    """Largest date gap (days) at which a perfect match still reaches the story threshold.

    With decay ``1 / (1 + sqrt(gap / scale))`` a pair with cosine 1 falls below
    ``story_threshold`` once ``gap > scale * (1 / threshold - 1) ** 2``; pairs further
    apart can never link, so candidates are only generated within this window.
    """
    if config.date_decay_days is None or config.story_threshold <= 0:
        return math.inf
    return config.date_decay_days * (1.0 / config.story_threshold - 1.0) ** 2


def edge_threshold(config: ClusterConfig) -> float:
    """Lowest story similarity a candidate link must reach to be kept.

    ``story_threshold``, or ``attach_floor`` when the singleton-attachment pass is on
    and its floor is lower: the pass needs the weaker links of lone articles. Links
    below ``story_threshold`` never join stories in the linkage itself.
    """
    if config.attach_ratio > 0:
        return min(config.story_threshold, config.attach_floor)
    return config.story_threshold


def date_decay(days_a: F64, days_b: F64, config: ClusterConfig) -> F64:
    """Soft time decay factor per pair; 1 where either date is unknown or decay is off."""
    if config.date_decay_days is None:
        return np.ones(days_a.shape, dtype=np.float64)
    gap = np.abs(days_a - days_b)
    factor = 1.0 / (1.0 + np.sqrt(gap / config.date_decay_days))
    return np.where(np.isnan(gap), 1.0, factor)


def story_candidates(
    rows: TfidfRows, days: F64, eligible: npt.NDArray[np.bool_], config: ClusterConfig
) -> tuple[I64, I64]:
    """Pairs of articles that share a distinctive top term within the date window.

    Each article contributes its ``candidate_terms`` highest-weighted terms; a term
    carried as a top term by more than ``max_postings`` articles is skipped, and a pair
    is only formed when the dates are within :func:`max_story_gap` (undated articles
    pair with all).

    Parameters
    ----------
    rows : TfidfRows
        Weighted rows.
    days : (n,) float64
        Publication time in days since the epoch; NaN when unknown.
    eligible : (n,) bool
        Articles that may take part (those with title or body terms).
    config : ClusterConfig
        ``candidate_terms``, ``max_postings`` and the decay are used.

    Returns
    -------
    left, right : int64 arrays
        Distinct pairs with ``left < right``.
    """
    n = rows.ptr.size - 1
    post = _postings(rows, days, eligible, config)
    if post is None:
        empty = np.zeros(0, np.int64)
        return empty, empty
    ptr, doc, day = post
    gap = max_story_gap(config)
    left, right = kernels.window_pairs(
        ptr, doc, day, gap if math.isfinite(gap) else 1e18, config.term_neighbours
    )
    return unique_pairs(left, right, n)


def _postings(
    rows: TfidfRows,
    days: F64,
    eligible: npt.NDArray[np.bool_],
    config: ClusterConfig,
    top: I64 | None = None,
) -> tuple[I64, I64, F64] | None:
    """Date-ordered posting lists of the distinctive top terms (None if there are none)."""
    keep = top_per_row(rows.ptr, rows.weights, config.candidate_terms) if top is None else top
    # One compiled pass: counts, then rows placed straight into their lists; the order
    # of posting_lists on the (term, row) postings, without those per-posting arrays.
    ptr, doc, day = story_kernels.top_posting_lists(
        np.ascontiguousarray(keep, np.int64),
        np.ascontiguousarray(rows.ptr, np.int64),
        rows.features,
        config.candidate_terms,
        np.ascontiguousarray(eligible, np.bool_),
        np.ascontiguousarray(days, np.float64),
        config.max_postings,
        config.n_features,
    )
    return None if doc.size == 0 else (ptr, doc, day)


def posting_lists(term: I64, doc: I64, day: F64) -> tuple[I64, I64, F64]:
    """Group postings into date-ordered lists, one per term.

    Parameters
    ----------
    term, doc : int64 arrays
        Term and row of each posting (at least one).
    day : float64 array
        Publication day of the posting's row (NaN unknown).

    Returns
    -------
    ptr : int64 array
        List pointer: list ``t`` (terms ascending) is ``ptr[t]:ptr[t + 1]``.
    doc, day : arrays
        Rows and days ordered by (term, day, row); unknown days last within a list.
    """
    if int(term.max()) <= max(4 * term.size, _COUNTING_TERMS) and int(term.min()) >= 0:
        # A counting sort by term, then a sort of each list: the order of the lexsort
        # below without its whole-array sorts (which grew faster than linear).
        ptr, by = story_kernels.posting_order(
            np.ascontiguousarray(term, np.int64),
            np.ascontiguousarray(doc, np.int64),
            np.ascontiguousarray(day, np.float64),
        )
        return ptr, doc[by], day[by]
    by = np.lexsort((doc, day, term))  # NaN days sort last within a term
    term, doc, day = term[by], doc[by], day[by]
    bounds = np.flatnonzero(np.diff(term)) + 1
    ptr = np.concatenate(([0], bounds, [term.size])).astype(np.int64)
    return ptr, doc, day


# Term ids up to this bound are grouped by a counting sort whatever the number of
# postings (the default n_features is 2**20).
_COUNTING_TERMS = 1 << 26


def strong_story_pairs(
    rows: TfidfRows,
    days: F64,
    eligible: npt.NDArray[np.bool_],
    config: ClusterConfig,
    top: I64 | None = None,
) -> tuple[I64, I64, F64]:
    """Return the story candidates whose similarity reaches :func:`edge_threshold`, with it.

    The same pairs as :func:`story_candidates` followed by :func:`story_similarity`
    and the threshold, but each candidate is scored as it is enumerated, so the full
    candidate list (tens of millions of pairs at 100k articles) is never built.

    Parameters
    ----------
    rows : TfidfRows
        Weighted rows.
    days : (n,) float64
        Publication days (NaN unknown).
    eligible : (n,) bool
        Articles that may take part.
    config : ClusterConfig
        Candidate, decay and threshold settings.
    top : int64 array, optional
        ``top_per_row(rows.ptr, rows.weights, config.candidate_terms)`` if the caller
        has it already (computed here otherwise).

    Returns
    -------
    left, right : int64 arrays
        Distinct pairs with ``left < right``, sorted.
    similarity : float64 array
        Their story similarity (>= :func:`edge_threshold`).
    """
    post = _postings(rows, days, eligible, config, top)
    if post is None:
        empty = np.zeros(0, np.int64)
        return empty, empty, np.zeros(0, np.float64)
    return strong_posting_pairs(*post, rows, days, config)


def strong_posting_pairs(
    ptr: I64, doc: I64, day: F64, rows: TfidfRows, days: F64, config: ClusterConfig
) -> tuple[I64, I64, F64]:
    """Return the window pairs of the posting lists whose similarity reaches the edge threshold.

    The scoring half of :func:`strong_story_pairs`, for posting lists built elsewhere
    (the Dask engine builds them per bucket of terms).

    Parameters
    ----------
    ptr, doc, day : arrays
        Posting lists as :func:`posting_lists` returns them; ``doc`` indexes ``rows``.
    rows : TfidfRows
        Weighted rows.
    days : (n,) float64
        Publication days of the rows (NaN unknown).
    config : ClusterConfig
        Candidate, decay and threshold settings.

    Returns
    -------
    left, right : int64 arrays
        Distinct pairs with ``left < right``, sorted.
    similarity : float64 array
        Their story similarity.
    """
    n = rows.ptr.size - 1
    gap = max_story_gap(config)
    decay = -1.0 if config.date_decay_days is None else float(config.date_decay_days)
    left, right = story_kernels.strong_window_pairs(
        ptr,
        doc,
        day,
        gap if math.isfinite(gap) else 1e18,
        config.term_neighbours,
        rows.ptr,
        rows.features,
        rows.weights,
        np.ascontiguousarray(days, np.float64),
        decay,
        float(edge_threshold(config)),
        int(config.n_features),
        story_kernels.RING_LIMIT,
    )
    left, right = story_kernels.distinct_pairs(left, right, n)
    return left, right, story_similarity(rows, days, left, right, config)


def story_similarity(
    rows: TfidfRows, days: F64, left: I64, right: I64, config: ClusterConfig
) -> F64:
    """Title-aware TF-IDF cosine times the date decay, per pair.

    Parameters
    ----------
    rows : TfidfRows
        Weighted rows.
    days : (n,) float64
        Publication days (NaN unknown).
    left, right : int64 arrays
        Pairs.
    config : ClusterConfig
        Decay settings.

    Returns
    -------
    float64 array
        Similarity in [0, 1] per pair; 0 for a pair sharing no specific term when
        ``rows.specific`` is set.
    """
    decay = -1.0 if config.date_decay_days is None else float(config.date_decay_days)
    # One compiled pass: the cosine of cosine_pairs times date_decay, clipped to [0, 1].
    scores = np.asarray(
        story_kernels.story_scores(
            rows.ptr,
            rows.features,
            rows.weights,
            np.ascontiguousarray(days, np.float64),
            decay,
            np.ascontiguousarray(left, np.int64),
            np.ascontiguousarray(right, np.int64),
        )
    )
    if rows.specific is not None and scores.size:
        shared = shares_specific(
            rows.ptr,
            rows.features,
            rows.specific,
            np.ascontiguousarray(left, np.int64),
            np.ascontiguousarray(right, np.int64),
        )
        scores[~shared] = 0.0
    return scores
