"""Bit tricks shared by the compiled kernels of the index (64-bit words)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

__all__ = ["distinct_sorted", "lowest_bit", "set_bits_sorted"]

#: De Bruijn constant and table: the index of the only set bit of a power of two.
_DEBRUIJN = np.uint64(0x03F79D71B4CB0A89)
_DEBRUIJN_INDEX = np.array(
    [
        0, 1, 48, 2, 57, 49, 28, 3, 61, 58, 50, 42, 38, 29, 17, 4,
        62, 55, 59, 36, 53, 51, 43, 22, 45, 39, 33, 30, 24, 18, 12, 5,
        63, 47, 56, 27, 60, 41, 37, 16, 54, 35, 52, 21, 44, 32, 23, 11,
        46, 26, 40, 15, 34, 20, 31, 10, 25, 14, 19, 9, 13, 8, 7, 6,
    ],
    np.int64,
)  # fmt: skip


@njit(cache=True, inline="always")
def lowest_bit(low: np.uint64) -> int:  # pragma: no cover
    """Index of the set bit of ``low``, a power of two (``x & (~x + 1)`` of a word)."""
    return int(_DEBRUIJN_INDEX[np.int64((low * _DEBRUIJN) >> np.uint64(58))])


@njit(cache=True)
def set_bits_sorted(
    bits: npt.NDArray[np.uint64], base: int, out: npt.NDArray[np.int64], at: int, clear: bool
) -> int:  # pragma: no cover
    """Write ``base + i`` for each set bit ``i`` of ``bits`` to ``out[at:]``, ascending.

    Returns the new end of ``out``; with ``clear`` the words are zeroed on the way.
    """
    for w in range(bits.shape[0]):
        x = bits[w]
        if clear:
            bits[w] = np.uint64(0)
        while x:
            low = x & (~x + np.uint64(1))
            out[at] = base + (w << 6) + lowest_bit(low)
            at += 1
            x ^= low
    return at


@njit(cache=True)
def distinct_sorted(
    values: npt.NDArray[np.uint32], bits: npt.NDArray[np.uint64]
) -> npt.NDArray[np.int64]:  # pragma: no cover
    """Sorted distinct ``values`` through the zeroed bitmap ``bits`` (zeroed again after).

    ``np.flatnonzero`` of a marked boolean array does the same with a scan of one byte
    per possible value; this scans one word per 64 and touches only the words set.
    """
    n = 0
    for v in values:
        m = np.uint64(1) << np.uint64(v & 63)
        if not bits[v >> 6] & m:
            bits[v >> 6] |= m
            n += 1
    out = np.empty(n, np.int64)
    set_bits_sorted(bits, 0, out, 0, True)
    return out
