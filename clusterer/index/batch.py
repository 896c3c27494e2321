"""Planning one batch: featurise, look up candidates, build the pool, assign.

Nothing is written here; :class:`~clusterer.index.story_index.StoryIndex` applies a
:class:`Plan` inside its write transaction (``add``) or discards it (``query``).

Term statistics: document frequencies are kept in the index and the batch being added
counts in them (as in the batch path, where every article counts in the corpus
statistics). Stored rows are re-weighted with the *current* idf whenever they are
compared, so only the order of arrival, never stale weights, separates the two paths.
"""

from __future__ import annotations

import math
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np
import numpy.typing as npt

from .._specific_kernels import add_moments
from ..config import ClusterConfig
from ..headline import headline
from ..lsh import band_keys, candidate_pairs
from ..models import Article
from ..pipeline import banding_for
from ..signatures import Features, featurize
from ..similarity import (
    TfidfRows,
    date_decay,
    edge_threshold,
    estimated_jaccard,
    exact_jaccard,
    max_story_gap,
    specific_terms,
    story_similarity,
    strong_story_pairs,
    top_per_row,
)
from ._score_kernel import frozen_cosines
from .assign import Outcome, Pool, assign_batch
from .cache import TermCache
from .derived import Derived
from .lookup import (
    StoredRows,
    band_matches,
    fetch_rows,
    fetch_stories,
    posting_matches,
    sorted_unique,
)
from .weigh import Weigher

__all__ = ["Batch", "Plan", "day_of", "plan_batch", "prepare"]

I64 = npt.NDArray[np.int64]
U32 = npt.NDArray[np.uint32]
F64 = npt.NDArray[np.float64]
Bool = npt.NDArray[np.bool_]


def day_of(date: datetime | None) -> float:
    """Days since the epoch (naive dates are taken as UTC); NaN when unknown."""
    if date is None:
        return math.nan
    if date.tzinfo is None:
        date = date.replace(tzinfo=timezone.utc)
    return date.timestamp() / 86400.0


@dataclass
class Batch:
    """A batch in canonical order (date, then id; undated last) with its features."""

    articles: list[Article]
    order: list[int]
    features: Features
    days: F64
    keys: npt.NDArray[np.uint64]
    eligible: npt.NDArray[np.bool_]  # body tokens: takes part in near-duplicate groups
    story_eligible: npt.NDArray[np.bool_]  # title or body terms: takes part in stories
    key_order: I64  # stable order of the band keys of eligible rows (flattened, as int64)


def prepare(articles: list[Article], config: ClusterConfig) -> Batch:
    """Sort a batch canonically and featurise it."""
    days = [day_of(a.date) for a in articles]
    order = sorted(
        range(len(articles)),
        key=lambda i: (
            math.isnan(days[i]),
            0.0 if math.isnan(days[i]) else days[i],
            articles[i].id,
        ),
    )
    ordered = [articles[i] for i in order]
    feats = featurize([headline(a) for a in ordered], [a.text for a in ordered], config)
    keys = band_keys(feats.signatures, banding_for(config))
    eligible = feats.n_tokens > 0
    return Batch(
        ordered,
        order,
        feats,
        np.array([days[i] for i in order], np.float64),
        keys,
        eligible,
        feats.has_terms(),
        np.argsort(keys[eligible].view(np.int64).ravel(), kind="stable"),
    )


@dataclass
class Plan:
    """Everything ``add`` writes (or ``query`` reports) for one batch."""

    batch: Batch
    pool: Pool
    outcome: Outcome
    tops: list[U32]
    term_counts: I64 | None = None  # per term id: articles of the batch using it, if counted


#: Phase-1 scores may differ from the pool's in the last float32 bit; a candidate this
#: close below the threshold still has its story read (reading more never changes the
#: assignment, only missing a strong link would).
_MARGIN = 1e-4

#: Frozen-vector scores this far below the threshold are rescored exactly. An epoch
#: moves scores by far less (idf changes by a few percent within one; see
#: :data:`clusterer.index.cache.EPOCH_DRIFT`), so no link reaching the threshold is
#: dropped by the prefilter.
PREFILTER_BAND = 0.05


def _stack(a: TfidfRows, b: TfidfRows) -> TfidfRows:
    return TfidfRows(
        np.concatenate((a.ptr, a.ptr[-1] + b.ptr[1:])),
        np.concatenate((a.features, b.features)),
        np.concatenate((a.weights, b.weights)),
        a.idf,
        a.specific,
    )


def _specific(stats: I64, n_docs: int, batch: Batch, config: ClusterConfig) -> Bool | None:
    """Flag the specific terms (``ClusterConfig.specific_terms``) of stored + batch rows.

    The same flags as :func:`~clusterer.similarity.tfidf_rows` gives ``cluster()`` on
    those articles: document frequencies and exact day moments, the batch's added to
    the stored ones (and taken away again: ``stats`` is not modified).
    """
    if not config.specific_terms:
        return None
    f = batch.features
    df = stats[0] + np.bincount(f.term_features, minlength=config.n_features)
    n = n_docs + len(batch.articles)
    if config.specific_spread_days is None:
        return specific_terms(df, n, None, config)
    moments = stats[2:] if stats.shape[0] > 2 else np.zeros((3, config.n_features), np.int64)
    rows = (f.term_ptr, f.term_features, batch.days)
    add_moments(moments, *rows)
    try:
        return specific_terms(df, n, moments, config)
    finally:
        add_moments(moments, *rows, -1)


def _top_terms(rows: TfidfRows, k: int) -> tuple[list[U32], I64]:
    """Each row's ``k`` top terms (ascending) and their positions (``top_per_row``)."""
    if rows.ptr.size < 2:
        return [], np.zeros(0, np.int64)
    keep = top_per_row(rows.ptr, rows.weights, k)
    row = np.repeat(np.arange(rows.ptr.size - 1), np.diff(rows.ptr))[keep]
    feats = rows.features[keep]
    order = np.lexsort((feats, row))  # each row's terms ascending, in one sort
    row, feats = row[order], feats[order]
    return np.split(feats, np.searchsorted(row, np.arange(1, rows.ptr.size - 1))), keep


def plan_batch(
    conn: sqlite3.Connection,
    batch: Batch,
    config: ClusterConfig,
    stats: I64,
    n_docs: int,
    next_story: int,
    next_group: int,
    cache: TermCache,
    derived: Derived,
) -> Plan:
    """Look up candidates for a prepared batch and assign it (no writes).

    Two phases keep the reads small: the posting candidates are scored from their term
    rows alone (``cache``, in memory), and whole stories are read only for candidates
    reaching ``story_threshold`` (``attach_floor`` if lower and the attachment pass is
    on) and for verified near-duplicates. The
    rest cannot join a component holding a batch row (a weak link to an article that
    is not in a matched group is not an edge), so the assignment is the same as if all
    their stories had been read.

    Parameters
    ----------
    conn : sqlite3.Connection
        Index, inside a transaction.
    batch : Batch
        Prepared batch.
    config : ClusterConfig
        Index config.
    stats : (2, n_features) int64
        Stored document frequencies and top-term posting counts (not modified).
    n_docs : int
        Stored articles behind ``stats``.
    next_story, next_group : int
        First free ids.
    cache : TermCache
        Term rows of stored articles.
    derived : Derived
        Band keys and postings of the stored articles (synced with ``conn``).

    Returns
    -------
    Plan
        Assignments and the data to store.
    """
    f, b = batch.features, len(batch.articles)
    specific = _specific(stats, n_docs, batch, config)
    weigh = Weigher(stats[0], f.term_features, n_docs + b, config, cache.scratch, specific)
    brows = weigh(f.term_ptr, f.term_features, f.term_body, f.term_title)
    tops_all, top_at = _top_terms(brows, config.candidate_terms)
    empty_top = np.zeros(0, np.uint32)
    tops = [t if batch.story_eligible[i] else empty_top for i, t in enumerate(tops_all)]
    all_tops = np.concatenate(tops).astype(np.int64) if tops else np.zeros(0, np.int64)
    t_u, t_c = np.unique(all_tops, return_counts=True)
    q_row = np.repeat(np.arange(b), [t.size for t in tops])
    posted = stats[1][all_tops] + t_c[np.searchsorted(t_u, all_tops)]
    useful = posted <= config.max_postings
    p_row, p_art = posting_matches(
        derived,
        q_row[useful],
        all_tops[useful],
        batch.days,
        max_story_gap(config),
        config.term_neighbours,
    )
    strong = _strong_candidates(conn, p_row, p_art, batch, brows, weigh, cache, config)

    # Near-duplicates: stored band matches and earlier batch rows, verified.
    d_row, d_art = band_matches(derived, batch.keys, batch.eligible, batch.key_order)
    near = fetch_rows(conn, np.unique(d_art), config.num_perm)
    i_left, i_right, _ = candidate_pairs(batch.keys, batch.eligible)
    left, right, jac = _verify(
        near, batch, np.searchsorted(near.rowid, d_art), d_row, i_left, i_right, config
    )

    # Phase 2: whole stories of strong candidates and verified matches.
    matched = near.rowid[left[left < near.rowid.size]]  # right is always a batch row
    stored = fetch_stories(conn, np.concatenate((strong, matched)), config.num_perm)
    s = stored.rowid.size

    n_near = near.rowid.size

    def to_pool(x: I64) -> I64:
        out = s + x - n_near
        hit = x < n_near
        out[hit] = np.searchsorted(stored.rowid, near.rowid[x[hit]])
        return out.astype(np.int64)

    left, right = to_pool(left), to_pool(right)
    dups = (left, right, jac)

    pooled = np.zeros(max(int(p_art.max(initial=0)), int(stored.rowid.max(initial=0))) + 1, bool)
    pooled[stored.rowid] = True
    in_pool = pooled[p_art]
    # Links within the batch: only those reaching the edge threshold matter (weaker ones
    # neither connect components nor attach), scored as they are enumerated.
    c_left, c_right, _ = strong_story_pairs(brows, batch.days, batch.story_eligible, config, top_at)
    links = (
        np.concatenate((np.searchsorted(stored.rowid, p_art[in_pool]), s + c_left)),
        np.concatenate((s + p_row[in_pool], s + c_right)),
    )
    srows = weigh(stored.term_ptr, stored.term_features, stored.term_body, stored.term_title)
    pool = Pool(
        stored.ids + [a.id for a in batch.articles],
        s,
        _stack(srows, brows),
        np.concatenate((stored.days, batch.days)),
        np.concatenate((stored.story, np.full(b, -1, np.int64))),
        np.concatenate((stored.group, np.full(b, -1, np.int64))),
        np.concatenate((stored.empty, ~batch.eligible)),
    )
    outcome = assign_batch(pool, dups, links, config, next_story, next_group)
    return Plan(batch, pool, outcome, tops, weigh.per_term)


def _scores(
    found: tuple[I64, F64, TfidfRows],
    brows: TfidfRows,
    batch: Batch,
    p_row: I64,
    p_art: I64,
    config: ClusterConfig,
) -> F64:
    """Story similarity of (batch row, stored row) pairs from the given stored vectors."""
    cand, cand_days, cand_rows = found
    return story_similarity(
        _stack(cand_rows, brows),
        np.concatenate((cand_days, batch.days)),
        np.searchsorted(cand, p_art),
        cand.size + p_row,
        config,
    )


def _frozen_close(
    cache: TermCache,
    brows: TfidfRows,
    batch: Batch,
    p_row: I64,
    p_art: I64,
    config: ClusterConfig,
    floor: float,
) -> npt.NDArray[np.bool_]:
    """Pairs whose approximate story similarity (frozen vectors) is at least ``floor``.

    The date decay is at most 1, so a pair whose cosine is below ``floor`` cannot reach
    it; the decay is computed only for the rest (a few percent of the pairs).
    """
    cos = frozen_cosines(
        brows.ptr,
        brows.features,
        brows.weights,
        p_row,
        p_art,
        cache.fz_len,
        cache.fz_features,
        cache.fz_weights,
        config.n_features,
    )
    close = cos >= floor
    at = np.flatnonzero(close)
    decay = date_decay(batch.days[p_row[at]], cache.days(p_art[at]), config)
    close[at] = np.clip(cos[at] * decay, 0.0, 1.0) >= floor
    return close


def _strong_candidates(
    conn: sqlite3.Connection,
    p_row: I64,
    p_art: I64,
    batch: Batch,
    brows: TfidfRows,
    weigh: Weigher,
    cache: TermCache,
    config: ClusterConfig,
) -> I64:
    """Phase 1: the posting candidates whose link to a batch row may reach the threshold.

    The threshold is :func:`~clusterer.similarity.edge_threshold`: ``story_threshold``,
    or ``attach_floor`` when the attachment pass needs weaker links.

    Candidates are first scored with their frozen (epoch idf) vectors, computed once per
    epoch; only those within :data:`PREFILTER_BAND` of the threshold are weighed with
    the current idf and scored exactly. The exact pass decides, with ``_MARGIN``.
    """
    threshold = edge_threshold(config)  # weaker links serve the attachment pass
    if cache.freeze(conn, sorted_unique(p_art), weigh) is not None:
        keep = _frozen_close(cache, brows, batch, p_row, p_art, config, threshold - PREFILTER_BAND)
        p_row, p_art = p_row[keep], p_art[keep]
    exact = cache.weighted(conn, sorted_unique(p_art), weigh)
    sim = _scores(exact, brows, batch, p_row, p_art, config)
    return p_art[sim >= threshold - _MARGIN]


def _verify(
    near: StoredRows,
    batch: Batch,
    d_near: I64,
    d_row: I64,
    i_left: I64,
    i_right: I64,
    config: ClusterConfig,
) -> tuple[I64, I64, F64]:
    """Return verified near-duplicate pairs over rows [near stored..., batch...] (left < right)."""
    f, s, b = batch.features, near.rowid.size, len(batch.articles)
    left = np.concatenate((d_near, s + i_left))
    right = np.concatenate((s + d_row, s + i_right))
    both = Features(
        np.concatenate((near.signatures, f.signatures)),
        np.concatenate((np.where(near.empty, 0, 1), f.n_tokens)),
        np.concatenate((near.shingle_ptr, near.shingle_ptr[-1] + f.shingle_ptr[1:])),
        np.concatenate((near.shingles, f.shingles)),
        np.zeros(s + b + 1, np.int64),
        np.zeros(0, np.uint32),
        np.zeros(0, np.uint16),
        np.zeros(0, np.uint16),
    )
    if config.verify == "exact":
        jac = exact_jaccard(both, left, right)
    else:
        jac = estimated_jaccard(both.signatures, left, right)
    keep = jac >= config.duplicate_threshold
    return left[keep], right[keep], jac[keep]
