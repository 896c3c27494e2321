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

from ..config import ClusterConfig
from ..lsh import band_keys, candidate_pairs
from ..models import Article
from ..pipeline import banding_for
from ..signatures import Features, featurize
from ..similarity import (
    TfidfRows,
    estimated_jaccard,
    exact_jaccard,
    max_story_gap,
    story_candidates,
    tfidf_rows,
    top_per_row,
)
from .assign import Outcome, Pool, assign_batch
from .lookup import StoredRows, band_matches, fetch_stories, posting_matches

__all__ = ["Batch", "Plan", "day_of", "plan_batch", "prepare"]

I64 = npt.NDArray[np.int64]
U32 = npt.NDArray[np.uint32]
F64 = npt.NDArray[np.float64]


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
    eligible: npt.NDArray[np.bool_]


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
    feats = featurize([a.title for a in ordered], [a.text for a in ordered], config)
    keys = band_keys(feats.signatures, banding_for(config))
    return Batch(
        ordered,
        order,
        feats,
        np.array([days[i] for i in order], np.float64),
        keys,
        feats.n_tokens > 0,
    )


@dataclass
class Plan:
    """Everything ``add`` writes (or ``query`` reports) for one batch."""

    batch: Batch
    stored: StoredRows
    pool: Pool
    outcome: Outcome
    tops: list[U32]


def _weigh(
    ptr: I64,
    terms: U32,
    body: npt.NDArray[np.uint16],
    title: npt.NDArray[np.uint16],
    df: I64,
    extra: tuple[U32, I64],
    n_docs: int,
    config: ClusterConfig,
) -> tuple[TfidfRows, U32]:
    """TF-IDF rows with term ids renumbered densely (the idf is only needed for them)."""
    n = ptr.size - 1
    uniq = np.unique(terms)
    local = np.searchsorted(uniq, terms).astype(np.uint32)
    counts = df[uniq.astype(np.int64)].copy()
    if uniq.size:
        hit = np.searchsorted(uniq, extra[0])
        ok = (hit < uniq.size) & (uniq[np.minimum(hit, uniq.size - 1)] == extra[0])
        counts[hit[ok]] += extra[1][ok]
    feats = Features(
        np.zeros((n, 0), np.uint32),
        np.zeros(n, np.int64),
        np.zeros(n + 1, np.int64),
        np.zeros(0, np.uint32),
        ptr,
        local,
        body,
        title,
    )
    return tfidf_rows(feats, config, df=counts, n_docs=n_docs), uniq


def _top_terms(rows: TfidfRows, k: int) -> list[I64]:
    keep = top_per_row(rows.ptr, rows.weights, k)
    row = np.repeat(np.arange(rows.ptr.size - 1), np.diff(rows.ptr))[keep]
    bounds = np.searchsorted(row, np.arange(rows.ptr.size))
    feats = rows.features[keep].astype(np.int64)
    return [np.sort(feats[bounds[i] : bounds[i + 1]]) for i in range(rows.ptr.size - 1)]


def plan_batch(
    conn: sqlite3.Connection,
    batch: Batch,
    config: ClusterConfig,
    stats: I64,
    n_docs: int,
    next_story: int,
    next_group: int,
) -> Plan:
    """Look up candidates for a prepared batch and assign it (no writes).

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

    Returns
    -------
    Plan
        Assignments and the data to store.
    """
    f, b = batch.features, len(batch.articles)
    n_total = n_docs + b
    extra = np.unique(f.term_features, return_counts=True)
    brows, buniq = _weigh(
        f.term_ptr, f.term_features, f.term_body, f.term_title, stats[0], extra, n_total, config
    )
    tops_local = _top_terms(brows, config.candidate_terms)
    tops = [
        buniq[t].astype(np.uint32) if batch.eligible[i] else np.zeros(0, np.uint32)
        for i, t in enumerate(tops_local)
    ]
    all_tops = np.concatenate(tops).astype(np.int64) if tops else np.zeros(0, np.int64)
    t_u, t_c = np.unique(all_tops, return_counts=True)
    q_row = np.repeat(np.arange(b), [t.size for t in tops])
    posted = stats[1][all_tops] + t_c[np.searchsorted(t_u, all_tops)]
    useful = posted <= config.max_postings
    p_row, p_art = posting_matches(
        conn,
        q_row[useful],
        all_tops[useful],
        batch.days,
        max_story_gap(config),
        config.term_neighbours,
    )
    d_row, d_art = band_matches(conn, batch.keys, batch.eligible)
    stored = fetch_stories(conn, np.concatenate((p_art, d_art)), config.num_perm)
    s = stored.rowid.size

    def pool_of(rowids: I64) -> I64:
        return np.searchsorted(stored.rowid, rowids).astype(np.int64)  # rowids are sorted

    # Near-duplicates: stored matches and earlier batch rows, verified.
    i_left, i_right, _ = candidate_pairs(batch.keys, batch.eligible)
    left = np.concatenate((pool_of(d_art), s + i_left))
    right = np.concatenate((s + d_row, s + i_right))
    both = Features(
        np.concatenate((stored.signatures, f.signatures)),
        np.concatenate((np.where(stored.empty, 0, 1), f.n_tokens)),
        np.concatenate((stored.shingle_ptr, stored.shingle_ptr[-1] + f.shingle_ptr[1:])),
        np.concatenate((stored.shingles, f.shingles)),
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
    dups = (left[keep], right[keep], jac[keep])

    # Story candidates: stored postings and batch pairs sharing a top term.
    c_left, c_right = story_candidates(brows, batch.days, batch.eligible, config)
    links = (np.concatenate((pool_of(p_art), s + c_left)), np.concatenate((s + p_row, s + c_right)))

    rows, _ = _weigh(
        np.concatenate((stored.term_ptr, stored.term_ptr[-1] + f.term_ptr[1:])),
        np.concatenate((stored.term_features, f.term_features)),
        np.concatenate((stored.term_body, f.term_body)),
        np.concatenate((stored.term_title, f.term_title)),
        stats[0],
        extra,
        n_total,
        config,
    )
    pool = Pool(
        stored.ids + [a.id for a in batch.articles],
        s,
        rows,
        np.concatenate((stored.days, batch.days)),
        np.concatenate((stored.story, np.full(b, -1, np.int64))),
        np.concatenate((stored.group, np.full(b, -1, np.int64))),
        np.concatenate((stored.empty, ~batch.eligible)),
    )
    outcome = assign_batch(pool, dups, links, config, next_story, next_group)
    return Plan(batch, stored, pool, outcome, tops)
