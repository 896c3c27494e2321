"""Spilling ragged per-article arrays to disk: the store, the stored stages, the pipeline."""

import tempfile

import numpy as np
import pytest

from clusterer import Article, ClusterConfig, DuplicateIdError, _spill, cluster
from clusterer._spill import FeatureSpill, RaggedStore, SpillBeyond
from clusterer._verify import exact_jaccard_blocked
from clusterer.signatures import Features, featurize
from clusterer.similarity import (
    exact_jaccard,
    tfidf_rows,
    tfidf_rows_stored,
)
from tests.corpus_gen import make_corpus


def _ragged(rng, rows, max_len, empty_share=0.3):
    lengths = rng.integers(0, max_len + 1, rows)
    lengths[rng.random(rows) < empty_share] = 0
    ptr = np.zeros(rows + 1, np.int64)
    np.cumsum(lengths, out=ptr[1:])
    values = rng.integers(0, 2**32, int(ptr[-1]), dtype=np.uint32)
    counts = rng.integers(0, 2**16, int(ptr[-1]), dtype=np.uint16)
    return ptr, values, counts


def _rows_of(ptr, column, rows):
    return np.concatenate([column[ptr[r] : ptr[r + 1]] for r in rows] + [column[:0]])


@pytest.mark.parametrize("max_len", [3, 5000])  # small rows merge into spans; large ones do not
def test_store_gives_back_the_rows_it_was_given(tmp_path, max_len) -> None:
    rng = np.random.default_rng(max_len)
    store = RaggedStore(tmp_path, "x", [np.uint32, np.uint16])
    ptrs, values, counts = [], [], []
    for size in (7, 0, 1, 40, 13):  # an empty batch and a one-row batch among them
        ptr, v, c = _ragged(rng, size, max_len)
        store.append(ptr, v, c)
        ptrs.append(ptr)
        values.append(v)
        counts.append(c)
    total = sum(p.size - 1 for p in ptrs)
    ptr = np.zeros(1, np.int64)
    for p in ptrs:
        ptr = np.concatenate((ptr, p[1:] + ptr[-1]))
    all_values, all_counts = np.concatenate(values), np.concatenate(counts)
    assert len(store) == total
    assert np.array_equal(store.ptr, ptr)

    for r0, r1 in ((0, total), (3, 9), (5, 5), (total - 1, total)):
        local, (v, c) = store.read_range(r0, r1)
        assert np.array_equal(local, ptr[r0 : r1 + 1] - ptr[r0])
        assert np.array_equal(v, all_values[ptr[r0] : ptr[r1]])
        assert np.array_equal(c, all_counts[ptr[r0] : ptr[r1]])

    for _trial in range(20):
        rows = np.flatnonzero(rng.random(total) < rng.random())
        local, (v, c) = store.read_rows(rows)
        assert np.array_equal(np.diff(local), np.diff(ptr)[rows])
        assert np.array_equal(v, _rows_of(ptr, all_values, rows))
        assert np.array_equal(c, _rows_of(ptr, all_counts, rows))
        assert v.dtype == np.uint32
        assert c.dtype == np.uint16

    store.close()


def test_mapped_column_holds_the_values_and_lets_pages_go(tmp_path) -> None:
    store = RaggedStore(tmp_path, "x", [np.uint32, np.uint16])
    with store.mapped() as empty:
        assert empty.values.size == 0
        empty.release(0, 10)
    values = np.arange(5000, dtype=np.uint32)
    counts = (np.arange(5000) % 7).astype(np.uint16)
    store.append(np.array([0, 3000, 5000]), values, counts)
    with store.mapped(1) as column:
        assert np.array_equal(column.values, counts)
    with store.mapped() as column:
        column.release(0, 5000)  # dropped pages come back from the file when read again
        column.release(17, 18)  # less than a page: nothing to let go
        assert np.array_equal(column.values, values)
    assert column.values.size == 0  # no view outlives the mapping
    store.close()


def test_a_view_kept_past_the_mapping_does_not_break_closing(tmp_path) -> None:
    # The 1M benchmark once failed with "cannot close exported pointers exist": a view
    # of the map was still referenced when the block ended.
    store = RaggedStore(tmp_path, "x", [np.uint32])
    values = np.arange(3000, dtype=np.uint32)
    store.append(np.array([0, 1000, 3000]), values)
    with store.mapped() as column:
        kept = column.values[1000:2000]
    assert np.array_equal(kept, values[1000:2000])  # still readable: unmapped when it goes
    column.release(0, 3000)  # after the block: nothing to let go
    del kept
    store.close()


def test_store_refuses_unsorted_rows_and_mismatched_columns(tmp_path) -> None:
    store = RaggedStore(tmp_path, "x", [np.uint32])
    store.append(np.array([0, 2, 3]), np.arange(3, dtype=np.uint32))
    with pytest.raises(ValueError, match="ascending"):
        store.read_rows(np.array([1, 0]))
    with pytest.raises(ValueError, match="ascending"):
        store.read_rows(np.array([1, 1]))
    with pytest.raises(ValueError, match="columns"):
        store.append(np.array([0, 1]), np.zeros(1, np.uint32), np.zeros(1, np.uint32))
    with pytest.raises(ValueError, match="shape"):
        store.append(np.array([0, 2]), np.zeros(1, np.uint32))
    store.close()


def test_feature_spill_removes_its_directory_even_on_error(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with FeatureSpill(1024, shingles=True, terms=True) as spill:
        assert len(list(tmp_path.iterdir())) == 1
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(RuntimeError), FeatureSpill(1024, shingles=True, terms=False):
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
    assert spill.terms is not None
    assert spill.shingles is not None


def _batches(articles, size, config):
    return [
        featurize(
            [a.title for a in articles[s : s + size]],
            [a.text for a in articles[s : s + size]],
            config,
        )
        for s in range(0, len(articles), size)
    ]


def test_stored_stages_equal_the_in_memory_ones() -> None:
    config = ClusterConfig()
    articles = [*make_corpus(3, n_stories=12), Article(id="e", title="only a title", text="")]
    whole = Features.concat(_batches(articles, len(articles), config), config.num_perm)
    with FeatureSpill(config.n_features, shingles=True, terms=True) as spill:
        for part in _batches(articles, 7, config):
            spill.take(part)
            assert part.shingles.size == part.term_features.size == 0
            assert np.diff(part.term_ptr).max(initial=0) == 0
        assert spill.shingles is not None
        assert spill.terms is not None
        assert np.array_equal(spill.shingles.ptr, whole.shingle_ptr)
        assert np.array_equal(
            spill.df, np.bincount(whole.term_features, minlength=config.n_features)
        )

        rng = np.random.default_rng(0)
        n = len(whole)
        left, right = rng.integers(0, n, 500), rng.integers(0, n, 500)
        expected = exact_jaccard(whole, left, right)
        assert expected.max() > 0.5  # real copies among the pairs
        # One row per block and per streamed part .. a single block.
        for block, stream in ((1, 1), (300, 1), (300, 200), (1 << 27, 1 << 25)):
            for at_least in (None, 0.5):
                want = expected if at_least is None else np.where(expected >= 0.5, expected, 0.0)
                got = exact_jaccard_blocked(
                    spill.shingles,
                    left,
                    right,
                    at_least,
                    block_values=block,
                    stream_values=stream,
                )
                assert np.array_equal(got, want), (block, stream, at_least)
        nothing = np.zeros(0, np.int64)
        assert exact_jaccard_blocked(spill.shingles, nothing, nothing).size == 0

        mem = tfidf_rows(whole, config)
        disk = tfidf_rows_stored(spill.terms, spill.df, config)
        for field in ("ptr", "features", "weights", "idf"):
            assert np.array_equal(getattr(mem, field), getattr(disk, field)), field


def _full(result):
    return (
        [
            (a.id, a.story_id, a.duplicate_group_id, a.duplicate_score, a.story_score)
            for a in result.assignments
        ],
        [(s.id, s.members, s.cohesion) for s in result.stories],
        result.link_table.left.tolist(),
        result.link_table.right.tolist(),
        result.link_table.similarity.tolist(),
    )


@pytest.mark.parametrize("config", [ClusterConfig(), ClusterConfig(verify="estimate")])
@pytest.mark.parametrize("budget", [0, 3000, 1 << 30])
def test_spilled_pipeline_gives_the_in_memory_result(tmp_path, monkeypatch, config, budget) -> None:
    # Budget 0 spills every batch, 3000 bytes holds the first batches and then spills
    # them with the rest, 1 GiB keeps everything in memory.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(_spill, "HOLD_BYTES", budget)
    articles = [*make_corpus(5, n_stories=10), Article(id="head", title="s1w1 s1w2 s1w3", text="")]
    in_memory = cluster(articles, config)
    spilled = cluster(articles, config.replace(batch_size=6))
    assert _full(spilled) == _full(in_memory)
    dup_only = cluster(articles, config.replace(batch_size=6), duplicates_only=True)
    assert _full(dup_only) == _full(cluster(articles, config, duplicates_only=True))
    assert list(tmp_path.iterdir()) == []


def test_spill_beyond_holds_batches_until_the_budget_then_spills_all_in_order(tmp_path) -> None:
    config = ClusterConfig()
    articles = make_corpus(3, n_stories=12)
    parts = _batches(articles, 7, config)
    sizes = [p.shingles.nbytes + p.term_features.nbytes * 2 for p in parts]
    opened = []

    def open_spill():
        opened.append(FeatureSpill(config.n_features, shingles=True, terms=True))
        return opened[-1]

    holder = SpillBeyond(open_spill, budget=sizes[0] + sizes[1])
    holder.take(parts[0])
    holder.take(parts[1])
    assert holder.spill is None
    assert parts[0].shingles.size > 0
    holder.take(parts[2])
    assert holder.spill is opened[0]
    for p in parts[3:]:
        holder.take(p)
    assert all(p.shingles.size == 0 for p in parts)
    whole = Features.concat(_batches(articles, len(articles), config), config.num_perm)
    assert holder.spill.shingles is not None
    assert np.array_equal(holder.spill.shingles.ptr, whole.shingle_ptr)
    holder.spill.close()


def test_spill_directory_is_removed_when_clustering_fails(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    articles = [*make_corpus(1), Article(id="0-0", text="again")]
    with pytest.raises(DuplicateIdError):
        cluster(articles, ClusterConfig(batch_size=3))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("max_terms", [None, 3])
def test_tfidf_rows_match_a_row_by_row_reference(max_terms) -> None:
    config = ClusterConfig(max_terms=max_terms)
    articles = [*make_corpus(8, n_stories=5), Article(id="none", title="", text="")]
    feats = _batches(articles, len(articles), config)[0]
    rows = tfidf_rows(feats, config)
    df = np.bincount(feats.term_features, minlength=config.n_features)
    idf = np.log((1.0 + len(feats)) / (1.0 + df)) + 1.0
    for i in range(len(feats)):
        s, e = feats.term_ptr[i], feats.term_ptr[i + 1]
        body, title = feats.term_body[s:e].astype(float), feats.term_title[s:e].astype(float)
        tf = np.where(body > 0, 1 + np.log(np.maximum(body, 1)), 0) + config.title_weight * (
            np.where(title > 0, 1 + np.log(np.maximum(title, 1)), 0)
        )
        w = tf * idf[feats.term_features[s:e]]
        keep = np.arange(e - s)
        if max_terms is not None:
            top = sorted(keep, key=lambda p: (-np.float32(w[p]), p))[:max_terms]
            keep = np.sort(np.array(top, np.int64))
        w = w[keep]
        norm = np.sqrt((w**2).sum()) or 1.0
        r0, r1 = rows.ptr[i], rows.ptr[i + 1]
        assert np.array_equal(rows.features[r0:r1], feats.term_features[s:e][keep])
        assert np.allclose(rows.weights[r0:r1], w / norm, rtol=1e-5)
    assert rows.ptr[-1] == rows.features.size == rows.weights.size


@pytest.mark.parametrize(("max_terms", "title_weight"), [(None, 2.0), (3, 2.0), (50, 3.5)])
def test_tfidf_kernel_gives_the_numpy_rows_bit_for_bit(max_terms, title_weight) -> None:
    from benchmarks.synth import generate

    config = ClusterConfig(max_terms=max_terms, title_weight=title_weight)
    reference = ClusterConfig(max_terms=max_terms, title_weight=title_weight, kernel="numpy")
    articles = [
        *(Article(id=r["id"], title=r["title"], text=r["text"]) for r in generate(300, seed=9)),
        *make_corpus(8, n_stories=5),
        Article(id="none", title="", text=""),
        Article(id="ties", title="a b c d", text="a b c d e f g h " * 3),  # equal weights
    ]
    feats = _batches(articles, len(articles), config)[0]
    fast, slow = tfidf_rows(feats, config), tfidf_rows(feats, reference)
    for name in ("ptr", "features", "weights", "idf"):
        assert np.array_equal(getattr(fast, name), getattr(slow, name)), name
    assert fast.weights.dtype == slow.weights.dtype == np.float32
