"""Story candidate enumeration: the fused scoring kernel against the two-step reference."""

import math
from datetime import datetime

import numpy as np
import pytest

from clusterer import Article, ClusterConfig
from clusterer._arrays import unique_codes, unique_pairs
from clusterer._kernels import cosine_pairs
from clusterer._story_kernels import (
    _BUCKETS,
    _SCATTER_PAIRS,
    RING_LIMIT,
    distinct_pairs,
    strong_window_pairs,
)
from clusterer.pipeline import _days
from clusterer.signatures import featurize
from clusterer.similarity import (
    _postings,
    date_decay,
    edge_threshold,
    posting_lists,
    story_candidates,
    story_similarity,
    strong_story_pairs,
    tfidf_rows,
    top_per_row,
)


def _crowded(n, seed):
    """Articles drawn from one small vocabulary: long posting lists, many pairs per list."""
    rng = np.random.default_rng(seed)
    vocab = [f"w{i}" for i in range(60)]
    out = []
    for i in range(n):
        words = rng.choice(vocab, size=int(rng.integers(5, 40)), p=None)
        day = int(rng.integers(1, 28))
        date = datetime(2024, 1, day) if i % 11 else None  # some undated
        text = " ".join(words) if i % 17 else ""  # some articles without a body
        title = " ".join(rng.choice(vocab, size=3)) if i % 23 else ""
        out.append(Article(id=f"a{i}", title=title, text=text, date=date))
    return out


def _setup(n, seed, config):
    from clusterer.headline import headline

    articles = _crowded(n, seed)
    feats = featurize([headline(a) for a in articles], [a.text for a in articles], config)
    rows = tfidf_rows(feats, config)
    days = _days([a.date for a in articles])
    return rows, days, feats.has_terms()


@pytest.mark.parametrize("threshold", [0.05, 0.3, 0.6])
def test_fused_scoring_keeps_exactly_the_candidates_reaching_the_threshold(threshold) -> None:
    config = ClusterConfig(story_threshold=threshold, term_neighbours=80, candidate_terms=8)
    rows, days, eligible = _setup(400, 1, config)
    left, right = story_candidates(rows, days, eligible, config)
    assert left.size > 5000  # lists far longer than one 64-pair flag word
    sim = story_similarity(rows, days, left, right, config)
    # Links are kept down to the attachment floor when that is lower.
    keep = sim >= edge_threshold(config)
    assert edge_threshold(config) == min(threshold, config.attach_floor)
    s_left, s_right, s_sim = strong_story_pairs(rows, days, eligible, config)
    assert 0 < s_left.size < left.size
    assert np.array_equal(s_left, left[keep])
    assert np.array_equal(s_right, right[keep])
    assert np.array_equal(s_sim, sim[keep])


@pytest.mark.parametrize("decay", [None, 0.3, 2.0])
def test_windows_cut_by_date_keep_exactly_the_candidates_reaching_the_threshold(decay) -> None:
    """Short date windows (a few days) end lists' windows before ``term_neighbours``."""
    config = ClusterConfig(
        story_threshold=0.2, term_neighbours=30, candidate_terms=8, date_decay_days=decay
    )
    rows, days, eligible = _setup(500, 3, config)
    left, right = story_candidates(rows, days, eligible, config)
    sim = story_similarity(rows, days, left, right, config)
    keep = sim >= edge_threshold(config)
    s_left, s_right, s_sim = strong_story_pairs(rows, days, eligible, config)
    assert 0 < s_left.size < left.size
    assert np.array_equal(s_left, left[keep])
    assert np.array_equal(s_right, right[keep])
    assert np.array_equal(s_sim, sim[keep])


def test_window_index_finds_what_pair_by_pair_scoring_finds() -> None:
    """The hash index of window rows and the per-pair scatter flag the same pairs."""
    config = ClusterConfig(story_threshold=0.1, term_neighbours=40, candidate_terms=10)
    rows, days, eligible = _setup(600, 4, config)
    post = _postings(rows, days, eligible, config)
    assert post is not None
    ptr, doc, day = post
    args = (ptr, doc, day, 1e18, 40, rows.ptr, rows.features, rows.weights, days, 60.0, 0.1)
    got = strong_window_pairs(*args, config.n_features, RING_LIMIT)
    want = strong_window_pairs(*args, config.n_features, 0)  # index too large: per pair
    assert want[0].size > 1000
    assert np.array_equal(got[0], want[0])
    assert np.array_equal(got[1], want[1])


def test_posting_lists_hold_the_top_terms_of_eligible_rows() -> None:
    config = ClusterConfig(candidate_terms=5, max_postings=60)
    rows, days, eligible = _setup(300, 2, config)
    eligible = eligible.copy()
    eligible[::5] = False
    postings: dict[int, list[int]] = {}
    for i in np.flatnonzero(eligible):
        s, e = rows.ptr[i], rows.ptr[i + 1]
        top = sorted(range(s, e), key=lambda p: (-rows.weights[p], p))[: config.candidate_terms]
        for p in top:
            postings.setdefault(int(rows.features[p]), []).append(int(i))
    expected = []
    for term in sorted(postings):
        docs = postings[term]
        if 2 <= len(docs) <= config.max_postings:
            key = [(math.inf if np.isnan(days[d]) else days[d], d) for d in docs]
            expected.append([d for _, d in sorted(key)])
    post = _postings(rows, days, eligible, config)
    assert post is not None
    ptr, doc, day = post
    got = [doc[ptr[t] : ptr[t + 1]].tolist() for t in range(ptr.size - 1)]
    assert len(got) > 10
    assert got == expected
    assert np.array_equal(day, days[doc], equal_nan=True)


def test_postings_of_terms_no_two_rows_share_are_none() -> None:
    config = ClusterConfig(candidate_terms=5, max_postings=2)
    rows, days, eligible = _setup(300, 2, config)
    assert _postings(rows, days, np.zeros_like(eligible), config) is None
    one = np.zeros_like(eligible)
    one[np.flatnonzero(eligible)[0]] = True  # one row: every term carried once
    assert _postings(rows, days, one, config) is None


def test_postings_refuse_term_ids_past_n_features() -> None:
    config = ClusterConfig(candidate_terms=5)
    rows, days, eligible = _setup(50, 2, config)
    small = config.replace(n_features=int(rows.features.max()))
    with pytest.raises(ValueError, match="n_terms"):
        _postings(rows, days, eligible, small)


def test_unique_codes_is_numpy_unique() -> None:
    rng = np.random.default_rng(0)
    for size in (0, 1, 2, 1000):
        codes = rng.integers(-50, 50, size)
        assert np.array_equal(unique_codes(codes.copy()), np.unique(codes))


@pytest.mark.parametrize("k", [1, 5, 20, 50])
@pytest.mark.parametrize("kind", ["ties", "distinct", "nan"])
def test_top_per_row_is_the_stable_sort_choice(k: int, kind: str) -> None:
    """Selection (partition, then one pass) picks what a stable sort by -weight picks."""
    rng = np.random.default_rng(k)
    lens = rng.integers(0, 200, 300)
    ptr = np.zeros(301, np.int64)
    np.cumsum(lens, out=ptr[1:])
    if kind == "distinct":
        w = rng.random(int(ptr[-1])).astype(np.float32)
    else:  # few distinct values: many ties at the k-th weight
        w = (rng.integers(0, 6, int(ptr[-1])) / 3).astype(np.float32)
    if kind == "nan":
        w[::7] = np.nan
    want = []
    for r in range(300):
        order = np.argsort(-w[ptr[r] : ptr[r + 1]], kind="stable")[:k]
        want.extend(sorted(int(ptr[r]) + order))
    assert np.array_equal(top_per_row(ptr, w, k), np.array(want, np.int64))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_posting_lists_order_is_the_lexsort_order(seed: int) -> None:
    """Counting sort by term + per-list sort = lexsort by (term, day, doc), NaN days last."""
    rng = np.random.default_rng(seed)
    m = 5000
    term = rng.integers(0, 300, m)
    doc = rng.permutation(m).astype(np.int64)  # not in row order, as the Dask engine may pass
    day = rng.integers(0, 20, m).astype(np.float64)  # many equal days
    day[rng.random(m) < 0.1] = np.nan
    day[rng.random(m) < 0.05] = -0.0
    ptr, got_doc, got_day = posting_lists(term, doc, day)
    by = np.lexsort((doc, day, term))
    bounds = np.flatnonzero(np.diff(term[by])) + 1
    assert np.array_equal(ptr, np.concatenate(([0], bounds, [m])))
    assert np.array_equal(got_doc, doc[by])
    assert np.array_equal(got_day, day[by], equal_nan=True)


@pytest.mark.parametrize(
    ("size", "n"),
    # The last: rows in buckets of eight (n > _BUCKETS), pairs in blocks of 2**16.
    [(0, 500), (1, 500), (2, 500), (10000, 500), (300000, 5000)],
)
def test_distinct_pairs_is_unique_pairs(size: int, n: int) -> None:
    assert 500 < _BUCKETS < 5000
    rng = np.random.default_rng(size)
    left = rng.integers(0, n - 1, size)
    right = left + rng.integers(1, 40, size).clip(max=n - 1 - left)
    right = np.where(right > left, right, left + 1)
    want = unique_pairs(left.copy(), right.copy(), n)
    got = distinct_pairs(left, right, n)
    assert np.array_equal(got[0], want[0])
    assert np.array_equal(got[1], want[1])


def test_distinct_pairs_refuses_rows_past_its_pair_codes() -> None:
    none = np.zeros(0, np.int64)
    with pytest.raises(ValueError, match="below 2"):
        distinct_pairs(none, none, 1 << 31)


@pytest.mark.parametrize("decay", [None, 2.0, 60.0])
@pytest.mark.parametrize(("pairs", "by_left"), [(20000, False), (200000, False), (200000, True)])
def test_story_similarity_is_cosine_times_date_decay_clipped(decay, pairs, by_left) -> None:
    """The one-pass kernel gives the NumPy formulation's values exactly.

    Below ``_SCATTER_PAIRS`` pairs each pair is merged; above, left rows are scattered
    (pairs in any order, or sorted by left row as ``distinct_pairs`` gives them).
    """
    assert 20000 < _SCATTER_PAIRS < 200000
    config = ClusterConfig(date_decay_days=decay)
    rows, days, _ = _setup(300, 5, config)
    rng = np.random.default_rng(5)
    left = rng.integers(0, 300, pairs)
    right = rng.integers(0, 300, pairs)
    if by_left:
        left.sort()
    assert np.isnan(days).any()
    cos = cosine_pairs(rows.ptr, rows.features, rows.weights, left, right)
    for k in range(0, left.size, 97):  # the cosine, written out: float32 products
        a = slice(rows.ptr[left[k]], rows.ptr[left[k] + 1])
        b = slice(rows.ptr[right[k]], rows.ptr[right[k] + 1])
        _, ia, ib = np.intersect1d(rows.features[a], rows.features[b], return_indices=True)
        products = rows.weights[a][ia] * rows.weights[b][ib]
        assert cos[k] == sum(float(x) for x in products)
    want = np.clip(cos * date_decay(days[left], days[right], config), 0.0, 1.0)
    got = story_similarity(rows, days, left, right, config)
    assert (want > 0.3).sum() > 100
    assert np.array_equal(got, want)
