"""The signing kernels: radix sort, and the one-pass duplicates-only path, against references."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clusterer import ClusterConfig
from clusterer.signatures import featurize

pytest.importorskip("numba")

from clusterer._kernels import term_counts
from clusterer._sign_kernels import radix_sort
from tests.test_signatures import FIELDS, TEXTS, TITLES

SIGNED = ("signatures", "n_tokens", "shingle_ptr", "shingles")


@pytest.mark.parametrize("size", [0, 1, 2, 17, 256, 1000])
def test_radix_sort_matches_numpy(size: int) -> None:
    rng = np.random.default_rng(size)
    values = rng.integers(0, 2**32, size, dtype=np.uint32)
    # Repeats and the extremes of each byte.
    values[: size // 4] = values[size // 4 : 2 * (size // 4)]
    if size > 3:
        values[:3] = (0, 0xFFFFFFFF, 0x00FF00FF)
    expected = np.sort(values)
    radix_sort(values, np.empty(size, np.uint32), np.empty(256, np.int64))
    assert np.array_equal(values, expected)


def _term_counts_reference(
    body_ptr: np.ndarray,
    body: np.ndarray,
    title_ptr: np.ndarray,
    title: np.ndarray,
    nf: int,
    stop: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    ptr, feats, bcs, tcs = [0], [], [], []
    for i in range(body_ptr.size - 1):
        counts: dict[int, list[int]] = {}
        for field, (p, h) in enumerate(((body_ptr, body), (title_ptr, title))):
            for x in h[p[i] : p[i + 1]].tolist():
                f = (x & 0xFFFFFFFF) % nf
                if not stop[f]:
                    counts.setdefault(f, [0, 0])[field] += 1
        for f in sorted(counts):
            feats.append(f)
            bcs.append(min(counts[f][0], 65535))
            tcs.append(min(counts[f][1], 65535))
        ptr.append(len(feats))
    return (
        np.array(ptr, np.int64),
        np.array(feats, np.uint32),
        np.array(bcs, np.uint16),
        np.array(tcs, np.uint16),
    )


@pytest.mark.parametrize("nf", [2**20, 100003, 2**10])
def test_term_counts_match_reference(nf: int) -> None:
    """Both feature reductions (mask for a power of two, else division) and the sort."""
    rng = np.random.default_rng(nf)
    lens = rng.integers(0, 300, 40)
    lens[3] = 0
    body_ptr = np.concatenate(([0], np.cumsum(lens))).astype(np.int64)
    body = rng.integers(0, 2**64, int(body_ptr[-1]), dtype=np.uint64)
    body[: body.size // 3] = body[body.size // 3 : 2 * (body.size // 3)]  # repeats
    tlens = rng.integers(0, 12, 40)
    title_ptr = np.concatenate(([0], np.cumsum(tlens))).astype(np.int64)
    title = body[rng.integers(0, body.size, int(title_ptr[-1]))]  # terms in both fields
    stop = np.zeros(nf, np.bool_)
    stop[(body[::7] & np.uint64(0xFFFFFFFF)) % np.uint64(nf)] = True
    got = term_counts(body_ptr, body, title_ptr, title, nf, stop)
    want = _term_counts_reference(body_ptr, body, title_ptr, title, nf, stop)
    for g, w in zip(got, want, strict=True):
        assert g.dtype == w.dtype
        assert np.array_equal(g, w)


def _signed_only(config: ClusterConfig, titles: list[str], texts: list[str]) -> None:
    fast = featurize(titles, texts, config.replace(kernel="numba"), terms=False)
    slow = featurize(titles, texts, config.replace(kernel="numpy"))
    full = featurize(titles, texts, config.replace(kernel="numba"))
    for name in SIGNED:
        assert np.array_equal(getattr(fast, name), getattr(slow, name)), name
        assert np.array_equal(getattr(fast, name), getattr(full, name)), name
    for name in set(FIELDS) - set(SIGNED) - {"term_ptr"}:
        assert getattr(fast, name).size == 0, name
    assert np.array_equal(fast.term_ptr, np.zeros(len(texts) + 1, np.int64))


@pytest.mark.parametrize("shingle_size", [1, 3, 5])
def test_one_pass_signing_equals_reference(shingle_size: int) -> None:
    _signed_only(ClusterConfig(shingle_size=shingle_size, num_perm=64), TITLES, TEXTS)


def test_one_pass_signing_on_synthetic_news_and_edge_texts() -> None:
    from benchmarks.synth import generate

    recs = list(generate(60, seed=5))
    # Densest tokens per byte: one-letter words, CJK runs, letters glued to CJK.
    edge = ["a b c d e f g h", "中" * 50, "a中b中c中" * 20, "x", " ", "\u0e01" * 9]
    titles = [r["title"] for r in recs] + ["t"] * len(edge)
    texts = [r["text"] for r in recs] + edge
    _signed_only(ClusterConfig(workers=2), titles, texts)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.text(
            st.one_of(
                st.characters(max_codepoint=0x7F),
                st.sampled_from(["\u00c0", "\u00df", "\u4e2d", "\u0e44", "\u01c4", "\u200b"]),
            ),
            max_size=60,
        ),
        min_size=1,
        max_size=6,
    )
)
def test_tokeniser_tables_agree_with_reference_on_any_text(texts: list[str]) -> None:
    """Every ASCII byte class, case, and multi-byte neighbours, both signing paths."""
    config = ClusterConfig(shingle_size=2, num_perm=16)
    _signed_only(config, ["T"] * len(texts), texts)


def test_one_pass_signing_across_tasks_of_dense_texts() -> None:
    # More texts than one task of sign_texts holds, the densest ones packed together.
    edge = ["a b c d e f g h", "中" * 50, "a中b中c中" * 20, "x", "", "\u0e01" * 9, "w " * 300]
    texts = [edge[i % len(edge)] + f" n{i}" * (i % 3) for i in range(700)]
    _signed_only(ClusterConfig(num_perm=16), ["t"] * len(texts), texts)
