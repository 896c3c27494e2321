"""Compiled (numba) kernels: tokenise, hash, shingle, sign and count terms over UTF-8 bytes.

Every function here mirrors a rule of :mod:`clusterer.text`; the NumPy reference path
in :mod:`clusterer.signatures` uses those Python functions instead, and tests require
identical outputs. Per-token Python code is the speed wall of this problem, so the
per-token work lives here and the Python side only moves whole arrays.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
from numba import njit, prange, uint32, uint64

from ._story_kernels import _list_pairs, sparse_dot

__all__ = [
    "band_keys",
    "count_tokens",
    "fill_tokens",
    "jaccard_at_least",
    "jaccard_pairs",
    "radix_sort",
    "term_counts",
]

U8 = npt.NDArray[np.uint8]
I64 = npt.NDArray[np.int64]
U32 = npt.NDArray[np.uint32]
U64 = npt.NDArray[np.uint64]

_FNV_OFFSET = uint64(0xCBF29CE484222325)
_FNV_PRIME = uint64(0x100000001B3)


@njit(inline="always", cache=True)
def _mix64(x: Any) -> Any:
    x = (x ^ (x >> uint64(30))) * uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> uint64(27))) * uint64(0x94D049BB133111EB)
    return x ^ (x >> uint64(31))


@njit(inline="always", cache=True)
def _fmix32(h: Any) -> Any:
    # numba widens uint32 arithmetic to 64 bits: mask to keep arithmetic mod 2**32.
    m = uint64(0xFFFFFFFF)
    h = uint64(h)
    h = h ^ (h >> uint64(16))
    h = (h * uint64(0x85EBCA6B)) & m
    h = h ^ (h >> uint64(13))
    h = (h * uint64(0xC2B2AE35)) & m
    return uint32(h ^ (h >> uint64(16)))


@njit(inline="always", cache=True)
def _char_class(cp: int) -> int:
    # Same table as clusterer.text.char_class.
    if cp < 0x80:
        if 0x30 <= cp <= 0x39 or 0x61 <= cp <= 0x7A or 0x41 <= cp <= 0x5A:
            return 1
        return 0
    if cp < 0xC0:
        if cp == 0xAA or cp == 0xB5 or cp == 0xBA:
            return 1
        return 0
    if cp == 0xD7 or cp == 0xF7:
        return 0
    if cp == 0x060C or cp == 0x061B or cp == 0x061F or 0x066A <= cp <= 0x066D:
        return 0
    if cp == 0x06D4 or cp == 0x0964 or cp == 0x0965:
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


@njit(inline="always", cache=True)
def _decode(buf: Any, i: int) -> tuple[int, int]:
    b0 = int(buf[i])
    if b0 < 0x80:
        return b0, i + 1
    if b0 < 0xE0:
        return ((b0 & 0x1F) << 6) | (int(buf[i + 1]) & 0x3F), i + 2
    if b0 < 0xF0:
        cp = ((b0 & 0x0F) << 12) | ((int(buf[i + 1]) & 0x3F) << 6) | (int(buf[i + 2]) & 0x3F)
        return cp, i + 3
    cp = (
        ((b0 & 0x07) << 18)
        | ((int(buf[i + 1]) & 0x3F) << 12)
        | ((int(buf[i + 2]) & 0x3F) << 6)
        | (int(buf[i + 3]) & 0x3F)
    )
    return cp, i + 4


def _ascii_tables() -> tuple[npt.NDArray[np.uint8], U64]:
    """Class (as :func:`_char_class`) and case-folded code of each ASCII byte."""
    cls = np.zeros(128, np.uint8)
    fold = np.arange(128, dtype=np.uint64)
    for c in range(128):
        if 0x30 <= c <= 0x39 or 0x61 <= c <= 0x7A or 0x41 <= c <= 0x5A:
            cls[c] = 1
        if 0x41 <= c <= 0x5A:
            fold[c] = c + 32  # ASCII texts skip normalize(): fold their case here
    return cls, fold


_ASCII_CLASS, _ASCII_FOLD = _ascii_tables()


@njit(nogil=True, cache=True)
def _scan(buf: Any, start: int, end: int, out: Any, pos: int, write: bool) -> int:
    """Tokenise buf[start:end]; write token hashes at out[pos:] if asked; return count."""
    n = 0
    h = _FNV_OFFSET
    in_word = False
    i = start
    while i < end:
        b0 = buf[i]
        if b0 < 0x80:
            # Most bytes: two table look-ups instead of decoding and range tests.
            cls = _ASCII_CLASS[b0]
            cp = _ASCII_FOLD[b0]
            i += 1
        else:
            code, i = _decode(buf, i)
            cls = _char_class(code)
            cp = uint64(code)
        if cls == 1:
            if not in_word:
                in_word = True
                h = _FNV_OFFSET
            h = (h ^ cp) * _FNV_PRIME
        else:
            if in_word:
                if write:
                    out[pos + n] = _mix64(h)
                n += 1
                in_word = False
            if cls == 2:
                if write:
                    out[pos + n] = _mix64((_FNV_OFFSET ^ cp) * _FNV_PRIME)
                n += 1
    if in_word:
        if write:
            out[pos + n] = _mix64(h)
        n += 1
    return n


@njit(parallel=True, nogil=True, cache=True)
def count_tokens(buf: U8, offsets: I64) -> I64:
    """Count the tokens of each text; texts are ``buf[offsets[i]:offsets[i + 1]]``."""
    n = offsets.shape[0] - 1
    counts = np.zeros(n, dtype=np.int64)
    dummy = np.zeros(1, dtype=np.uint64)
    for i in prange(n):
        counts[i] = _scan(buf, offsets[i], offsets[i + 1], dummy, 0, False)
    return counts


@njit(parallel=True, nogil=True, cache=True)
def fill_tokens(buf: U8, offsets: I64, tok_ptr: I64) -> U64:
    """Hash every token; text i's hashes land at ``out[tok_ptr[i]:tok_ptr[i + 1]]``."""
    n = offsets.shape[0] - 1
    out = np.empty(tok_ptr[n], dtype=np.uint64)
    for i in prange(n):
        _scan(buf, offsets[i], offsets[i + 1], out, tok_ptr[i], True)
    return out


@njit(nogil=True, cache=True)
def radix_sort(values: U32, work: U32, count: I64) -> None:
    """Sort ``values`` in place, least significant byte first (four stable passes).

    ``work`` holds at least ``values.size`` items and ``count`` 256; both are scratch.
    For the few hundred shingles of an article this beats a comparison sort several
    times over (no data-dependent branches).
    """
    m = values.shape[0]
    src = values
    dst = work[:m]
    for shift in range(0, 32, 8):
        count[:] = 0
        for s in range(m):
            count[(src[s] >> shift) & 255] += 1
        total = 0
        for c in range(256):
            here = count[c]
            count[c] = total
            total += here
        for s in range(m):
            digit = (src[s] >> shift) & 255
            dst[count[digit]] = src[s]
            count[digit] += 1
        src, dst = dst, src
    # An even number of passes leaves the result back in ``values``.


@njit(parallel=True, nogil=True, cache=True)
def term_counts(
    body_ptr: I64, body: U64, title_ptr: I64, title: U64, n_features: int, stop: Any
) -> tuple[I64, U32, npt.NDArray[np.uint16], npt.NDArray[np.uint16]]:
    """Count hashed terms per text, separately for body and title.

    Returns
    -------
    ptr : (n + 1,) int64
        Row pointer: text i's terms at ``[ptr[i], ptr[i + 1])``, features ascending.
    features : uint32
        Hashed feature index ``(token_hash mod 2**32) mod n_features``.
    body_counts, title_counts : uint16
        Occurrences in body and title (capped at 65535).
    """
    n = body_ptr.shape[0] - 1
    bounds = np.zeros(n + 1, dtype=np.int64)
    for i in range(n):
        nb = body_ptr[i + 1] - body_ptr[i]
        nt = title_ptr[i + 1] - title_ptr[i]
        bounds[i + 1] = bounds[i] + nb + nt
    feats = np.empty(bounds[n], dtype=np.uint32)
    bc = np.zeros(bounds[n], dtype=np.uint16)
    tc = np.zeros(bounds[n], dtype=np.uint16)
    used = np.zeros(n, dtype=np.int64)
    nf = uint64(n_features)
    mask = nf - uint64(1)
    pow2 = (nf & mask) == 0  # the default 2**20: a mask instead of a 64-bit division
    for i in prange(n):
        nb = body_ptr[i + 1] - body_ptr[i]
        nt = title_ptr[i + 1] - title_ptr[i]
        tmp = np.empty(nb + nt, dtype=np.uint32)
        work = np.empty(nb + nt, dtype=np.uint32)
        count = np.empty(256, dtype=np.int64)
        k = 0
        # Encode the field in the low bit so one sort groups body and title counts
        # (n_features <= 2**26, so 2 * f + 1 fits 32 bits and the radix sort applies).
        for j in range(nb):
            h = body[body_ptr[i] + j] & uint64(0xFFFFFFFF)
            f = h & mask if pow2 else h % nf
            if not stop[f]:
                tmp[k] = uint32(f * uint64(2))
                k += 1
        for j in range(nt):
            h = title[title_ptr[i] + j] & uint64(0xFFFFFFFF)
            f = h & mask if pow2 else h % nf
            if not stop[f]:
                tmp[k] = uint32(f * uint64(2) + uint64(1))
                k += 1
        if k == 0:
            continue
        vals = tmp[:k]
        radix_sort(vals, work, count)
        out = bounds[i]
        u = -1
        prev = -1
        for j in range(k):
            f = np.int64(vals[j] >> uint32(1))
            if f != prev:
                u += 1
                feats[out + u] = uint32(f)
                prev = f
            if vals[j] & uint32(1):
                if tc[out + u] < 65535:
                    tc[out + u] += 1
            elif bc[out + u] < 65535:
                bc[out + u] += 1
        used[i] = u + 1
    ptr = np.zeros(n + 1, dtype=np.int64)
    for i in range(n):
        ptr[i + 1] = ptr[i] + used[i]
    f_out = np.empty(ptr[n], dtype=np.uint32)
    b_out = np.empty(ptr[n], dtype=np.uint16)
    t_out = np.empty(ptr[n], dtype=np.uint16)
    for i in prange(n):
        s = bounds[i]
        d = ptr[i]
        for j in range(used[i]):
            f_out[d + j] = feats[s + j]
            b_out[d + j] = bc[s + j]
            t_out[d + j] = tc[s + j]
    return ptr, f_out, b_out, t_out


@njit(parallel=True, cache=True)
def jaccard_pairs(ptr: I64, values: U32, left: I64, right: I64) -> npt.NDArray[np.float64]:
    """Exact Jaccard similarity of sorted distinct rows ``left[k]`` and ``right[k]``."""
    m = left.shape[0]
    out = np.zeros(m, dtype=np.float64)
    for k in prange(m):
        a0, a1 = ptr[left[k]], ptr[left[k] + 1]
        b0, b1 = ptr[right[k]], ptr[right[k] + 1]
        inter = 0
        i, j = a0, b0
        # Branch-free merge step: the comparisons are unpredictable, the adds are not.
        while i < a1 and j < b1:
            va = values[i]
            vb = values[j]
            inter += va == vb
            i += va <= vb
            j += vb <= va
        union = (a1 - a0) + (b1 - b0) - inter
        out[k] = inter / union if union > 0 else 0.0
    return out


@njit(inline="always", cache=True)
def _least_intersection(na: int, nb: int, threshold: float) -> int:
    """Smallest ``x`` with ``x / (na + nb - x) >= threshold`` in float64, or ``min + 1``."""
    total = na + nb
    most = min(na, nb)
    x = max(0, min(math.ceil(threshold * total / (1.0 + threshold)), most + 1))
    # The estimate may be off by one either way after rounding: settle it with the very
    # division the result is computed with (it is monotone in x).
    while x > 0 and (x - 1) / (total - (x - 1)) >= threshold:
        x -= 1
    while x <= most and not (x / (total - x) >= threshold):
        x += 1
    return x


@njit(parallel=True, cache=True)
def jaccard_at_least(
    ptr: I64, values: U32, left: I64, right: I64, threshold: float
) -> npt.NDArray[np.float64]:
    """:func:`jaccard_pairs` for pairs reaching ``threshold``; 0.0 for the others.

    A merge stops as soon as the shingles it has passed without a match prove that the
    pair cannot reach ``threshold`` (nor can a pair whose sizes differ too much). A pair
    at or above it gets exactly the value of :func:`jaccard_pairs`; a pair below it gets
    0.0 (``threshold`` must be positive).
    """
    m = left.shape[0]
    out = np.zeros(m, dtype=np.float64)
    for k in prange(m):
        a0, a1 = ptr[left[k]], ptr[left[k] + 1]
        b0, b1 = ptr[right[k]], ptr[right[k] + 1]
        na, nb = a1 - a0, b1 - b0
        if na + nb == 0:
            continue
        need = _least_intersection(na, nb, threshold)
        if need > min(na, nb):
            continue
        # Unmatched shingles (of both sets) a pair reaching the threshold may have.
        limit = na + nb - 2 * need
        inter = 0
        i, j = a0, b0
        below = False
        while i < a1 and j < b1:
            for _ in range(32):  # merge steps between two checks
                if i >= a1 or j >= b1:
                    break
                va = values[i]
                vb = values[j]
                inter += va == vb
                i += va <= vb
                j += vb <= va
            passed = (i - a0) + (j - b0) - 2 * inter
            if passed + abs((a1 - i) - (b1 - j)) > limit:
                below = True
                break
        if not below:
            out[k] = inter / (na + nb - inter)
    return out


@njit(parallel=True, cache=True)
def cosine_pairs(
    ptr: I64, features: U32, weights: npt.NDArray[np.float32], left: I64, right: I64
) -> npt.NDArray[np.float64]:
    """Dot products of L2-normalised sparse rows with ascending feature ids."""
    m = left.shape[0]
    out = np.zeros(m, dtype=np.float64)
    for k in prange(m):
        out[k] = sparse_dot(ptr, features, weights, left[k], right[k])
    return out


@njit(cache=True)
def window_pairs(
    post_ptr: I64, docs: I64, days: npt.NDArray[np.float64], max_gap: float, cap: int
) -> tuple[I64, I64]:
    """Pairs of documents in the same posting list whose dates are at most ``max_gap`` apart.

    Within each list, dated postings come first sorted by day and undated (NaN) ones
    last; an undated posting pairs with every member. Each member pairs with at most
    ``cap`` following members.
    """
    none = np.empty(0, dtype=np.int64)
    total = 0
    for t in range(post_ptr.shape[0] - 1):
        s, e = post_ptr[t], post_ptr[t + 1]
        total = _list_pairs(s, e, docs, days, max_gap, cap, none, none, total)
    first = np.empty(total, dtype=np.int64)
    second = np.empty(total, dtype=np.int64)
    k = 0
    for t in range(post_ptr.shape[0] - 1):
        k = _list_pairs(post_ptr[t], post_ptr[t + 1], docs, days, max_gap, cap, first, second, k)
    return np.minimum(first, second), np.maximum(first, second)


@njit(parallel=True, cache=True)
def band_keys(signatures: U32, bands: int, rows: int, by_band: bool = False) -> U64:
    """64-bit key of each band of each signature (the arithmetic of ``lsh.band_keys``).

    ``(n, bands)``, or with ``by_band`` its transpose ``(bands, n)``, C-contiguous.
    """
    n = signatures.shape[0]
    keys = np.empty((bands, n) if by_band else (n, bands), dtype=np.uint64)
    golden = uint64(0x9E3779B97F4A7C15)
    mult = uint64(0xFF51AFD7ED558CCD)
    for i in prange(n):
        for band in range(bands):
            h = golden * uint64(band + 1)
            for col in range(band * rows, (band + 1) * rows):
                h ^= uint64(signatures[i, col])
                h *= mult
                h ^= h >> uint64(29)
            if by_band:
                keys[band, i] = h
            else:
                keys[i, band] = h
    return keys
