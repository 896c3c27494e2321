"""Text normalisation, tokens, shingles and their hashes: the pure-Python reference.

The compiled kernel in :mod:`clusterer._kernels` implements the same rules on UTF-8
bytes; tests check that both give identical hashes. The rules:

* normalise: Unicode NFKC, case folding, zero-width characters and soft hyphens
  removed, runs of whitespace collapsed to one space;
* a *word* is a maximal run of letters, digits and marks (``_char_class`` 1);
  characters of scripts written without spaces (CJK ideographs, kana, Thai, Lao,
  Khmer, Myanmar; class 2) are tokens on their own, so shingles over them are
  character n-grams; punctuation, symbols and spaces (class 0) separate tokens;
* a token hash is FNV-1a (64 bit) over the token's code points, finished with the
  splitmix64 mixer;
* a shingle is ``shingle_size`` consecutive tokens; a text with fewer tokens has one
  shingle made of all its tokens; the shingle hash is the chained mix of its token
  hashes, reduced to its high 32 bits (the width datasketch's ``affine32`` scheme takes).
"""

from __future__ import annotations

import unicodedata

__all__ = [
    "char_class",
    "mix64",
    "normalize",
    "shingle_hashes",
    "token_hash",
    "tokens",
]

MASK64 = (1 << 64) - 1
FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3
SHINGLE_SEED = 0x9E3779B97F4A7C15

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e"), None)

# Code points that are punctuation although they sit in letter blocks.
_EXTRA_SEPARATORS = frozenset(
    (0x060C, 0x061B, 0x061F, 0x066A, 0x066B, 0x066C, 0x066D, 0x06D4, 0x0964, 0x0965)
)
_LATIN1_LETTERS = frozenset((0xAA, 0xB5, 0xBA))


def normalize(text: str) -> str:
    """Normalise text for comparison.

    Parameters
    ----------
    text : str
        Any text.

    Returns
    -------
    str
        NFKC-normalised, case-folded text without zero-width characters, with
        whitespace runs collapsed to single spaces and stripped at both ends.
    """
    text = unicodedata.normalize("NFKC", text).casefold().translate(_ZERO_WIDTH)
    return " ".join(text.split())


def char_class(cp: int) -> int:
    """Classify a code point: 0 separator, 1 word character, 2 token on its own.

    Parameters
    ----------
    cp : int
        Unicode code point (after :func:`normalize`).

    Returns
    -------
    int
        The class; the compiled kernel uses the same table.
    """
    if cp < 0x80:
        return 1 if (0x30 <= cp <= 0x39 or 0x61 <= cp <= 0x7A or 0x41 <= cp <= 0x5A) else 0
    if cp < 0xC0:
        return 1 if cp in _LATIN1_LETTERS else 0
    if cp in (0xD7, 0xF7) or cp in _EXTRA_SEPARATORS:
        return 0
    if 0x0E00 <= cp <= 0x0EFF or 0x1000 <= cp <= 0x109F or 0x1780 <= cp <= 0x17FF:
        return 2
    if 0x2000 <= cp <= 0x2BFF or 0x2E00 <= cp <= 0x2E7F or 0x3000 <= cp <= 0x303F:
        return 0
    if 0x3040 <= cp <= 0x31FF or 0x3400 <= cp <= 0x4DBF or 0x4E00 <= cp <= 0x9FFF:
        return 2
    if 0xD800 <= cp <= 0xF8FF:
        return 0
    if 0xF900 <= cp <= 0xFAFF:
        return 2
    if 0xFE10 <= cp <= 0xFE6F or 0xFF00 <= cp <= 0xFFFF:
        return 0
    if 0x1F000 <= cp <= 0x1FAFF:
        return 0
    if 0x20000 <= cp <= 0x3FFFF:
        return 2
    return 1


def tokens(text: str) -> list[str]:
    """Split normalised text into tokens.

    Parameters
    ----------
    text : str
        Output of :func:`normalize`.

    Returns
    -------
    list of str
        Words, and single characters of unspaced scripts.
    """
    out: list[str] = []
    start = -1
    for i, ch in enumerate(text):
        cls = char_class(ord(ch))
        if cls == 1:
            if start < 0:
                start = i
            continue
        if start >= 0:
            out.append(text[start:i])
            start = -1
        if cls == 2:
            out.append(ch)
    if start >= 0:
        out.append(text[start:])
    return out


def mix64(x: int) -> int:
    """Return the splitmix64 finaliser of a 64-bit value.

    Parameters
    ----------
    x : int
        Value in [0, 2**64).

    Returns
    -------
    int
        Mixed value in [0, 2**64).
    """
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK64
    return x ^ (x >> 31)


def token_hash(token: str) -> int:
    """Hash one token (64 bit).

    Parameters
    ----------
    token : str
        A token from :func:`tokens`.

    Returns
    -------
    int
        FNV-1a over code points, mixed with :func:`mix64`.
    """
    h = FNV_OFFSET
    for ch in token:
        h = ((h ^ ord(ch)) * FNV_PRIME) & MASK64
    return mix64(h)


def shingle_hashes(token_hashes: list[int], shingle_size: int) -> list[int]:
    """Hash the shingles of a token sequence (32 bit, with repeats).

    Parameters
    ----------
    token_hashes : list of int
        Output of :func:`token_hash` for each token, in order.
    shingle_size : int
        Tokens per shingle.

    Returns
    -------
    list of int
        One hash per shingle; one shingle over all tokens when there are fewer than
        ``shingle_size``; empty for no tokens.
    """
    n = len(token_hashes)
    if n == 0:
        return []
    width = min(shingle_size, n)
    out = []
    for i in range(n - width + 1):
        h = SHINGLE_SEED
        for j in range(width):
            h = mix64(h ^ token_hashes[i + j])
        out.append(h >> 32)
    return out
