"""The compiled kernel against the pure-NumPy reference and against datasketch."""

from __future__ import annotations

import numpy as np
import pytest

from clusterer import ClusterConfig, to_lean_minhash
from clusterer.signatures import Features, featurize

datasketch = pytest.importorskip("datasketch")
pytest.importorskip("numba")

TEXTS = [
    "",
    "Short.",
    "One two three four",
    "The Quick Brown Fox JUMPS over the lazy dog, said Reuters on Monday in LONDON.",
    "ÉCOLE Straße ﬁnance — naïve café; Ǆ digraph and ＦＵＬＬＷＩＤＴＨ letters 123.",  # noqa: RUF001
    "東京都で地震が発生しました。被害の状況を確認中です。",
    "ภาษาไทย ไม่มีช่องว่าง ระหว่างคำ",
    "zero\u200bwidth soft\u00adhyphen and\ttabs\n\nnew  lines   here",
    "Ünïcödé UPPER and lower " * 40,
    "Word " * 3 + "repeated repeated repeated repeated repeated repeated",
]
TITLES = ["T" + str(i) + " Headline ÀB" for i in range(len(TEXTS))]
FIELDS = (
    "signatures",
    "n_tokens",
    "shingle_ptr",
    "shingles",
    "term_ptr",
    "term_features",
    "term_body",
    "term_title",
)


def _both(config: ClusterConfig, titles: list[str], texts: list[str]) -> tuple[Features, Features]:
    fast = featurize(titles, texts, config.replace(kernel="numba"))
    slow = featurize(titles, texts, config.replace(kernel="numpy"))
    return fast, slow


@pytest.mark.parametrize("shingle_size", [1, 3, 5])
def test_kernel_bit_identical_to_reference(shingle_size: int) -> None:
    fast, slow = _both(ClusterConfig(shingle_size=shingle_size, num_perm=64), TITLES, TEXTS)
    for name in FIELDS:
        assert np.array_equal(getattr(fast, name), getattr(slow, name)), name


def test_kernel_identical_on_synthetic_news() -> None:
    from benchmarks.synth import generate

    recs = list(generate(60, seed=3))
    titles = [r["title"] for r in recs]
    texts = [r["text"] for r in recs]
    fast, slow = _both(ClusterConfig(workers=2), titles, texts)
    for name in FIELDS:
        assert np.array_equal(getattr(fast, name), getattr(slow, name)), name


def test_ascii_case_folded_like_normalize() -> None:
    config = ClusterConfig(num_perm=32, kernel="numba")
    upper = featurize(["A B"], ["HELLO Big WORLD of NEWS today"], config)
    lower = featurize(["a b"], ["hello big world of news today"], config)
    for name in FIELDS:
        assert np.array_equal(getattr(upper, name), getattr(lower, name)), name


@pytest.mark.parametrize(("num_perm", "seed"), [(128, 1), (32, 7)])
def test_signatures_equal_datasketch_minhash(num_perm: int, seed: int) -> None:
    config = ClusterConfig(num_perm=num_perm, seed=seed, kernel="numba")
    feats = featurize(TITLES, TEXTS, config)
    for i in range(len(TEXTS)):
        hashes = feats.shingles[feats.shingle_ptr[i] : feats.shingle_ptr[i + 1]]
        m = datasketch.MinHash(num_perm=num_perm, seed=seed, hashfunc=lambda x: x)
        for h in hashes.tolist():
            m.update(h)
        assert np.array_equal(m.hashvalues.astype(np.uint32), feats.signatures[i]), i


def test_lean_minhash_works_in_datasketch_lsh() -> None:
    texts = [
        "the central bank raised interest rates by a quarter point on tuesday " * 5,
        "the central bank raised interest rates by a quarter point on tuesday " * 5 + "extra",
        "a completely different article about football results and the league table " * 5,
    ]
    config = ClusterConfig(seed=3)
    feats = featurize(["x"] * 3, texts, config)
    lean = list(to_lean_minhash(feats.signatures, config.seed))
    lsh = datasketch.MinHashLSH(threshold=0.7, num_perm=config.num_perm)
    for i, m in enumerate(lean):
        lsh.insert(str(i), m)
    assert set(lsh.query(lean[0])) == {"0", "1"}
    assert lean[0].jaccard(lean[1]) > 0.9
    assert lean[0].jaccard(lean[2]) < 0.2


def test_text_buffer_packs_as_encoding_each_text_reused_across_batches() -> None:
    from clusterer.signatures import TextBuffer

    def expected(texts: list[str]) -> tuple[bytes, list[int]]:
        encoded = [t.encode("utf-8", "replace") for t in texts]
        return b"".join(encoded), np.cumsum([0] + [len(e) for e in encoded]).tolist()

    buffer = TextBuffer()
    batches = [
        TEXTS * 5,
        ["ascii only"] * 70,
        [],
        ["", ""],
        ["lone \ud800 surrogate", "\udc00", "pair split \ud83d", "\ude00 across texts"],
        ["long " * 5000, "x"],
        TEXTS,
    ]
    for texts in batches:
        data, offsets = expected(texts)
        buf, got = buffer.pack(texts)
        assert got.tolist() == offsets
        assert buf.tobytes() == (data or b"\0")


def test_featurize_with_a_reused_buffer_equals_fresh() -> None:
    from clusterer.signatures import TextBuffer

    config = ClusterConfig(num_perm=32)
    buffer = TextBuffer()
    for terms in (True, False):
        for texts in (TEXTS, TEXTS[::-1] * 3, TEXTS[:2]):
            titles = [TITLES[i % len(TITLES)] for i in range(len(texts))]
            fresh = featurize(titles, texts, config, terms=terms)
            reused = featurize(titles, texts, config, terms=terms, buffer=buffer)
            for name in FIELDS:
                assert np.array_equal(getattr(fresh, name), getattr(reused, name)), name
