import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from clusterer.text import normalize, shingle_hashes, token_hash, tokens


def test_normalize_folds_case_width_and_space() -> None:
    assert normalize("  \uff28\uff45\uff4c\uff4c\uff4f\u00a0WORLD\n\tagain ") == "hello world again"


def test_zero_width_and_soft_hyphen_removed() -> None:
    assert normalize("co\u200boper\u00adation") == "cooperation"


def test_nfc_and_nfd_are_equal_after_normalize() -> None:
    text = "Café naïve résumé Ångström"
    nfd = unicodedata.normalize("NFD", text)
    assert nfd != text
    assert normalize(nfd) == normalize(text)


def test_tokens_split_words_and_unspaced_scripts() -> None:
    assert tokens(normalize("Russia's offensive — 70 buildings!")) == [
        "russia",
        "s",
        "offensive",
        "70",
        "buildings",
    ]
    assert tokens("北京欢迎你") == ["北", "京", "欢", "迎", "你"]
    assert tokens("привет мир مرحبا") == ["привет", "мир", "مرحبا"]


def test_short_text_has_one_shingle_of_all_tokens() -> None:
    hashes = [token_hash(t) for t in ["breaking", "news"]]
    assert len(shingle_hashes(hashes, 5)) == 1
    assert shingle_hashes([], 5) == []
    assert len(shingle_hashes(hashes * 4, 5)) == 4


@given(st.text())
def test_normalize_is_idempotent(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once


@given(st.lists(st.integers(min_value=0, max_value=2**64 - 1), max_size=40))
def test_shingle_hashes_are_32_bit(hashes: list[int]) -> None:
    assert all(0 <= h < 2**32 for h in shingle_hashes(hashes, 5))
