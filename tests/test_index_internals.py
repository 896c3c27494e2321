"""Story index internals: the term cache and the date-nearest posting cap."""

from __future__ import annotations

import os
import zlib

import numpy as np
import pytest
from index_helpers import make_articles

from clusterer import ClusterConfig
from clusterer._kernels import cosine_pairs
from clusterer.index import StoryIndex
from clusterer.index._assign_kernel import merge_average
from clusterer.index._bits import distinct_sorted
from clusterer.index._decode_kernel import split_terms
from clusterer.index._posting_kernel import (
    _sort_unique,
    merge_keys,
    merge_sorted,
    nearest_pairs,
    sorted_ranges,
)
from clusterer.index._score_kernel import frozen_cosines
from clusterer.index.cache import TermCache
from clusterer.index.derived import _DAY_BITS, day_keys
from clusterer.index.lookup import sorted_unique
from clusterer.index.storage import CHECKPOINT_PAGES, UNDATED, article_crc, row_crc
from clusterer.index.weigh import Weigher
from clusterer.signatures import featurize
from clusterer.similarity import document_frequencies, tfidf_rows


@pytest.fixture(scope="module")
def features():  # type: ignore[no-untyped-def]
    arts = make_articles(600, seed=11)
    config = ClusterConfig()
    return featurize([a.title for a in arts], [a.text for a in arts], config), config


def test_cache_weights_match_tfidf_rows(features) -> None:  # type: ignore[no-untyped-def]
    f, config = features
    ref = tfidf_rows(f, config)
    idf = (
        np.log((1.0 + len(f)) / (1.0 + document_frequencies(f, config.n_features))) + 1.0
    ).astype(np.float32)
    cache = TermCache(config.num_perm, config.title_weight, config.n_features)
    rowids = np.arange(10, 10 + len(f), dtype=np.int64)
    for lo in range(0, len(f), 200):  # three committed batches
        ptr = f.term_ptr[lo : lo + 201]
        days = np.full(ptr.size - 1, 19000.0)
        cache.put(rowids[lo : lo + 200], days, ptr, f.term_features, f.term_body, f.term_title)
    weigh = Weigher(
        document_frequencies(f, config.n_features),
        np.zeros(0, np.uint32),
        len(f),
        config,
        cache.scratch,
    )
    assert np.array_equal(weigh.idf(), idf)
    for _ in range(2):  # the second pass reuses the kept marks
        got, _, rows = cache.weighted(None, rowids, weigh)  # type: ignore[arg-type]
        assert np.array_equal(got, rowids)
        assert np.array_equal(rows.ptr, ref.ptr)
        assert np.array_equal(rows.features, ref.features)
        assert np.abs(rows.weights - ref.weights).max() < 1e-6
    # other statistics: marks that no longer hold are redone
    df2 = document_frequencies(f, config.n_features)[::-1].copy()
    ref2 = tfidf_rows(f, config, df=df2, n_docs=len(f))
    weigh2 = Weigher(df2, np.zeros(0, np.uint32), len(f), config, cache.scratch)
    got, _, rows = cache.weighted(None, rowids, weigh2)  # type: ignore[arg-type]
    assert np.array_equal(rows.features, ref2.features)
    assert np.abs(rows.weights - ref2.weights).max() < 1e-6


def test_cache_evicts_oldest_rows_within_budget(features) -> None:  # type: ignore[no-untyped-def]
    f, config = features
    per_batch = int(f.term_ptr[100])
    cache = TermCache(config.num_perm, config.title_weight, config.n_features, budget=3 * per_batch)
    for b in range(6):
        ptr = f.term_ptr[:101]
        rowids = np.arange(b * 100, b * 100 + 100, dtype=np.int64)
        cache.put(rowids, np.zeros(100), ptr, f.term_features, f.term_body, f.term_title)
    live = np.flatnonzero(cache._len >= 0)
    assert live.size > 0
    assert live.min() >= 100  # the oldest went first
    assert live.max() == 599  # the newest stayed
    assert int(cache._len[live].sum()) <= 3 * per_batch + per_batch


def _check_nearest(k: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_terms, n_post, n_q = 6, 400, 60
    pterm = rng.integers(0, n_terms, n_post)
    pday = rng.integers(0, 40, n_post).astype(np.float64)
    pday[rng.random(n_post) < 0.05] = UNDATED
    part = rng.permutation(n_post).astype(np.int64) + 1
    qterm = rng.integers(0, n_terms, n_q)
    d = rng.integers(0, 40, n_q).astype(np.float64)
    d[rng.random(n_q) < 0.1] = np.nan
    span = 15.0
    key = (pterm.astype(np.int64) << _DAY_BITS) | day_keys(pday)
    order = np.lexsort((part, pday, key))
    key, day, art = key[order], pday[order], part[order]
    cut = rng.random(n_post) < 0.3  # two segments, as in Derived
    left, right = nearest_pairs(
        key[~cut],
        day[~cut],
        art[~cut],
        key[cut],
        day[cut],
        art[cut],
        np.arange(n_q + 1, dtype=np.int64),
        qterm.astype(np.int64),
        d,
        span,
        k,
        _DAY_BITS,
    )
    assert np.array_equal(np.unique(left * 100000 + right), left * 100000 + right)
    got = {(int(a), int(b)) for a, b in zip(left, right, strict=True)}
    for q in range(n_q):
        mine = {b for a, b in got if a == q}
        on = pterm == qterm[q]
        und = part[on & (pday == UNDATED)]
        dated = on & (pday != UNDATED)
        if np.isnan(d[q]):  # distance 0 to all: the lowest ids
            assert mine == set(np.sort(part[on])[:k].tolist())
            continue
        want_u = set(np.sort(und)[:k].tolist())
        assert want_u <= mine
        slots = k - len(want_u)
        dist = np.abs(pday[dated] - d[q])
        arts = part[dated]
        chosen = mine - want_u
        assert len(chosen) == min(slots, dated.sum()) - int(
            (np.sort(dist)[: max(slots, 0)] > span).sum()
        )
        if chosen and slots > 0:
            kth = np.sort(dist)[min(slots, dist.size) - 1]
            chosen_d = dist[np.isin(arts, list(chosen))]
            assert chosen_d.max() <= min(kth, span)


@pytest.mark.parametrize("k", [1, 3, 10, 500])
@pytest.mark.parametrize("seed", range(4))
def test_nearest_keeps_the_k_date_nearest(k: int, seed: int) -> None:
    _check_nearest(k, seed)


@pytest.mark.parametrize("width", [1, 64, 65, 500, 1 << 40])
def test_sort_unique_matches_np_unique_on_narrow_and_wide_spans(width: int) -> None:
    # narrow spans take the bitmap pass, wide ones (1 << 40) the sort
    rng = np.random.default_rng(width)
    for n in (1, 2, 63, 64, 300):
        values = 1000 + rng.integers(0, width, n)
        values[: n // 3] = 1000 + np.array([0, 63, 64, width - 1])[rng.integers(0, 4, n // 3)]
        buf = np.concatenate(([7], values, [9])).astype(np.int64)
        count = _sort_unique(buf, 1, 1 + n)
        want = np.unique(values)
        assert count == want.size
        assert np.array_equal(buf[1 : 1 + count], want)
        assert buf[0] == 7  # only the slice is touched
        assert buf[-1] == 9
    assert _sort_unique(np.zeros(3, np.int64), 1, 1) == 0


def test_merge_sorted_orders_by_key_day_and_id() -> None:
    rng = np.random.default_rng(5)
    key = rng.integers(0, 5, 300)
    day = rng.integers(0, 4, 300).astype(np.float64)
    art = rng.permutation(300).astype(np.int64)
    cut = rng.random(300) < 0.4
    parts = []
    for m in (cut, ~cut):
        o = np.lexsort((art[m], day[m], key[m]))
        parts.append((key[m][o], day[m][o], art[m][o]))
    got = merge_sorted(*parts[0], *parts[1])
    o = np.lexsort((art, day, key))
    for g, want in zip(got, (key[o], day[o], art[o]), strict=True):
        assert np.array_equal(g, want)


def test_sorted_unique() -> None:
    rng = np.random.default_rng(0)
    for x in (rng.integers(0, 50, 1000), rng.integers(0, 1 << 50, 1000), np.array([3, -2, 3])):
        assert np.array_equal(sorted_unique(x), np.unique(x))
    assert sorted_unique(np.zeros(0, np.int64)).size == 0


def test_frozen_vectors_are_exact_at_their_epoch_and_kept_within_it(features) -> None:  # type: ignore[no-untyped-def]
    f, config = features
    n = len(f)
    cache = TermCache(config.num_perm, config.title_weight, config.n_features)
    rowids = np.arange(1, n + 1, dtype=np.int64)
    cache.put(rowids, np.zeros(n), f.term_ptr, f.term_features, f.term_body, f.term_title)
    df = document_frequencies(f, config.n_features)
    none = np.zeros(0, np.uint32)

    def frozen(d: np.ndarray, docs: int):  # type: ignore[no-untyped-def]
        weigh = Weigher(d, none, docs, config, cache.scratch)
        got = cache.freeze(None, rowids, weigh)  # type: ignore[arg-type]
        assert got is not None
        assert np.array_equal(got, rowids)
        return cache.frozen_rows(rowids)

    ref = tfidf_rows(f, config)
    rows = frozen(df, n)
    assert np.array_equal(rows.ptr, ref.ptr)
    assert np.array_equal(rows.features, ref.features)
    assert np.abs(rows.weights - ref.weights).max() < 1e-6
    # within the epoch (count moved by less than EPOCH_DRIFT): the same vectors
    again = frozen(df * 2, int(n * 1.1))
    assert np.array_equal(again.weights, rows.weights)
    # past it: weighed with the new statistics
    moved = frozen(df * 2, int(n * 2))
    ref2 = tfidf_rows(f, config, df=df * 2, n_docs=int(n * 2))
    assert np.array_equal(moved.features, ref2.features)
    assert np.abs(moved.weights - ref2.weights).max() < 1e-6
    assert not np.array_equal(moved.weights, rows.weights)


def test_vectors_frozen_on_commit_are_those_freeze_computes(features) -> None:  # type: ignore[no-untyped-def]
    f, config = features
    half = len(f) // 2
    df = document_frequencies(f, config.n_features)
    none = np.zeros(0, np.uint32)
    first = np.arange(1, half + 1, dtype=np.int64)
    second = np.arange(half + 1, len(f) + 1, dtype=np.int64)
    ptr2 = f.term_ptr[half:]
    caches = []
    for early in (True, False):
        cache = TermCache(config.num_perm, config.title_weight, config.n_features)
        cache.freeze_new(first)  # before any epoch: nothing to do
        ptr = f.term_ptr[: half + 1]
        cache.put(first, np.zeros(half), ptr, f.term_features, f.term_body, f.term_title)
        weigh = Weigher(df, none, len(f), config, cache.scratch)
        cache.freeze(None, first, weigh)  # type: ignore[arg-type]
        days = np.zeros(second.size)
        cache.put(second, days, ptr2, f.term_features, f.term_body, f.term_title)
        if early:  # as add does while its batch commits
            cache.freeze_new(second)
            assert (cache.fz_len[second] > 0).all()
        later = Weigher(df * 2, none, len(f) + 10, config, cache.scratch)  # same epoch
        cache.freeze(None, np.concatenate((first, second)), later)  # type: ignore[arg-type]
        caches.append(cache.frozen_rows(np.concatenate((first, second))))
    assert np.array_equal(caches[0].ptr, caches[1].ptr)
    assert np.array_equal(caches[0].features, caches[1].features)
    assert np.array_equal(caches[0].weights, caches[1].weights)


def test_no_frozen_vectors_without_a_term_cap() -> None:
    config = ClusterConfig()
    uncapped = ClusterConfig(max_terms=None)
    cache = TermCache(config.num_perm, config.title_weight, config.n_features)
    weigh = Weigher(
        np.zeros(config.n_features, np.int64), np.zeros(0, np.uint32), 1, uncapped, cache.scratch
    )
    assert cache.freeze(None, np.zeros(0, np.int64), weigh) is None  # type: ignore[arg-type]


def test_frozen_cosines_match_sorted_merge(features) -> None:  # type: ignore[no-untyped-def]
    f, config = features
    rows = tfidf_rows(f, config)
    n, k = len(f), config.max_terms or 0
    lens = np.diff(rows.ptr)
    fz_feat = np.zeros((n, k), np.uint32)
    fz_w = np.zeros((n, k), np.float32)
    col = np.arange(rows.ptr[-1]) - np.repeat(rows.ptr[:-1], lens)
    fz_feat[np.repeat(np.arange(n), lens), col] = rows.features
    fz_w[np.repeat(np.arange(n), lens), col] = rows.weights
    rng = np.random.default_rng(3)
    p_row = np.sort(rng.integers(0, n, 20000))
    p_art = rng.integers(0, n, 20000)
    p_art[:50] = p_row[:50]  # a row against itself: cosine 1
    got = frozen_cosines(
        rows.ptr, rows.features, rows.weights, p_row, p_art, lens, fz_feat, fz_w, config.n_features
    )
    want = cosine_pairs(rows.ptr, rows.features, rows.weights, p_row, p_art)
    assert np.abs(got - want).max() < 1e-6
    assert (got > 0.05).sum() > 50
    assert np.allclose(got[:50][lens[p_row[:50]] > 0], 1.0, atol=1e-5)


def test_frozen_cosines_of_no_pairs(features) -> None:  # type: ignore[no-untyped-def]
    f, config = features
    rows = tfidf_rows(f, config)
    lens = np.diff(rows.ptr)
    fz = np.zeros((len(f), config.max_terms or 0), np.uint32)
    empty = np.zeros(0, np.int64)
    got = frozen_cosines(
        rows.ptr,
        rows.features,
        rows.weights,
        empty,
        empty,
        lens,
        fz,
        fz.astype(np.float32),
        1 << 20,
    )
    assert got.size == 0


def test_connections_checkpoint_every_checkpoint_pages(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with StoryIndex.open(str(tmp_path / "x.idx"), ClusterConfig()) as index:
        index.add(make_articles(5))
        got = index._db.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
    assert got == CHECKPOINT_PAGES


def test_writes_are_checkpointed_into_the_file_in_the_background(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = str(tmp_path / "x.idx")
    with StoryIndex.open(path, ClusterConfig()) as index:
        index.add(make_articles(200, seed=2, prefix="b"))
        index._checkpointer.wait()
        before = os.path.getsize(path)
        runs = index._checkpointer.runs
        # the next write checkpoints the log of the last one as it begins
        index.add(make_articles(3, seed=3, prefix="c"))
        index._checkpointer.wait()
        # far below CHECKPOINT_PAGES: without the thread the batch would still be in the log
        assert os.path.getsize(path) > before
        assert runs >= 1
        assert index._checkpointer.runs > runs
        assert index._checkpointer.failures == 0
        with StoryIndex.open(path) as other:  # a second writer is not blocked by it
            other.add(make_articles(3, seed=4, prefix="d"))
        assert len(index.query(make_articles(1, seed=5, prefix="q")[0]).id) > 0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sorted_ranges_match_searchsorted(seed: int) -> None:
    rng = np.random.default_rng(seed)
    hay = np.sort(rng.integers(-50, 50, 400 * (seed + 1)))  # runs of equal keys
    needles = np.unique(rng.integers(-70, 70, 60))
    lo, hi = sorted_ranges(hay, needles)
    assert np.array_equal(lo, np.searchsorted(hay, needles, "left"))
    assert np.array_equal(hi, np.searchsorted(hay, needles, "right"))
    empty = np.zeros(0, np.int64)
    assert sorted_ranges(empty, needles)[0].tolist() == [0] * needles.size


def test_row_crc_is_the_chain_of_parts_and_separators() -> None:
    """Stored checksums must not change: files written before still verify."""
    parts = ("id-1", 19000.5, 0, b"\x00\x01sig", b"", None, b"top")
    crc = 0
    for p in parts:
        crc = zlib.crc32(p if isinstance(p, bytes) else repr(p).encode(), crc)
        crc = zlib.crc32(b"\x1f", crc)
    assert row_crc(*parts) == crc
    assert row_crc(*parts[:-1], b"toq") != crc


def test_article_crc_is_row_crc() -> None:
    for day in (19000.5, None):
        parts = ("id-1", day, 1, b"\x00\x01sig", b"", b"terms\x00", b"top")
        assert article_crc(*parts) == row_crc(*parts)


def test_split_terms_cuts_each_blob_into_ids_and_counts() -> None:
    rng = np.random.default_rng(3)
    blobs, ids, body, title = [], [], [], []
    for k in (3, 0, 1, 7):
        f = rng.integers(0, 2**32, k, dtype=np.uint64).astype(np.uint32)
        b, t = (rng.integers(0, 2**16, k, dtype=np.uint64).astype(np.uint16) for _ in "bt")
        blobs.append(f.tobytes() + b.tobytes() + t.tobytes())
        ids.append(f)
        body.append(b)
        title.append(t)
    joined = b"".join(blobs)
    size = np.array([len(x) for x in blobs], np.int64)
    ptr, got_ids, got_body, got_title = split_terms(
        np.frombuffer(joined, np.uint32),
        np.frombuffer(joined, np.uint16),
        np.cumsum(size) - size,
        size // 8,
    )
    assert ptr.tolist() == [0, 3, 3, 4, 11]
    assert np.array_equal(got_ids, np.concatenate(ids))
    assert np.array_equal(got_body, np.concatenate(body))
    assert np.array_equal(got_title, np.concatenate(title))


def _merge_average_reference(
    agg: np.ndarray, size: np.ndarray, lab: np.ndarray, thr: float
) -> None:
    """The NumPy loop that ``merge_average`` replaces."""
    alive = np.ones(size.size, bool)
    while alive.sum() > 1:
        link = agg / np.outer(size, size)
        link[~alive, :] = -1.0
        link[:, ~alive] = -1.0
        np.fill_diagonal(link, -1.0)
        a, b = (int(x) for x in np.unravel_index(int(np.argmax(link)), link.shape))
        if link[a, b] < thr:
            break
        a, b = min(a, b), max(a, b)
        agg[a, :] += agg[b, :]
        agg[:, a] += agg[:, b]
        size[a] += size[b]
        alive[b] = False
        lab[lab == b] = a


@pytest.mark.parametrize("seed", range(6))
def test_merge_average_matches_the_numpy_loop(seed: int) -> None:
    rng = np.random.default_rng(seed)
    m = int(rng.integers(1, 40))
    init = rng.integers(0, max(1, m // 2), m)
    _, lab = np.unique(init, return_inverse=True)
    lab = lab.astype(np.int64)
    k = int(lab.max()) + 1
    full = np.round(rng.random((m, m)), 1 if seed % 2 else 6)  # coarse values: many ties
    full = np.triu(full, 1) + np.triu(full, 1).T
    onehot = np.zeros((m, k))
    onehot[np.arange(m), lab] = 1.0
    agg = onehot.T @ full @ onehot
    size = onehot.sum(axis=0)
    want = (agg.copy(), size.copy(), lab.copy())
    _merge_average_reference(*want, 0.3)
    merge_average(agg, size, lab, 0.3)
    for got, ref in zip((agg, size, lab), want, strict=True):
        assert np.array_equal(got, ref)


def test_distinct_sorted_matches_np_unique_and_leaves_the_bitmap_zeroed() -> None:
    rng = np.random.default_rng(3)
    bits = np.zeros((1 << 14) + 1, np.uint64)
    for values in (
        rng.integers(0, 1 << 20, 5000),
        np.array([0, 63, 64, 127, (1 << 20) - 1, 63, 0]),
        np.zeros(0, np.int64),
    ):
        got = distinct_sorted(values.astype(np.uint32), bits)
        assert got.dtype == np.int64
        assert np.array_equal(got, np.unique(values))
        assert not bits.any()


def test_merge_keys_orders_as_np_insert() -> None:
    rng = np.random.default_rng(8)
    for n0, n1 in ((0, 0), (0, 5), (7, 0), (300, 120)):
        k0, k1 = np.sort(rng.integers(0, 40, n0)), np.sort(rng.integers(0, 40, n1))
        a0, a1 = rng.integers(0, 1000, n0), rng.integers(1000, 2000, n1)
        at = np.searchsorted(k0, k1)
        key, art = merge_keys(k0, a0, k1, a1)
        assert np.array_equal(key, np.insert(k0, at, k1))
        assert np.array_equal(art, np.insert(a0, at, a1))  # equal keys: the new ones first


@pytest.mark.parametrize(("seed", "method"), [(0, "average"), (1, "average"), (2, "complete")])
def test_scipy_linkage_of_large_components_matches_the_loop(
    seed: int, method: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above ``LOOP_CLUSTERS`` starting clusters the linkage runs in SciPy: same result."""
    from clusterer.index import assign

    rng = np.random.default_rng(seed)
    m = 150
    init = rng.integers(0, 90, m)  # ~70 starting clusters, some of several rows
    iu, ju = np.triu_indices(m, k=1)
    sim = rng.random(iu.size) ** 8  # distinct values (no ties), a few strong links
    rows = np.arange(100, 100 + m, dtype=np.int64)
    monkeypatch.setattr(assign, "LOOP_CLUSTERS", 10_000)
    loop = assign._agglomerate(rows, init, iu, ju, sim, 0.2, method)
    monkeypatch.setattr(assign, "LOOP_CLUSTERS", 8)
    scipy = assign._agglomerate(rows, init, iu, ju, sim, 0.2, method)
    assert np.array_equal(loop[0], scipy[0])
    assert np.allclose(loop[1], scipy[1])
    assert 3 < np.unique(loop[0]).size < np.unique(init).size  # some merges, not all
