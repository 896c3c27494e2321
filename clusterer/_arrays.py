"""Small array helpers shared by the stages."""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

__all__ = [
    "bound_heap_growth",
    "concat_ptr",
    "ranges",
    "trim_heap",
    "unique_codes",
    "unique_pairs",
]

I64 = npt.NDArray[np.int64]


def unique_pairs(left: I64, right: I64, n: int) -> tuple[I64, I64]:
    """Distinct ``(left, right)`` pairs, sorted, for node ids below ``n``.

    A sort and a run mask: faster than ``np.unique`` on large int64 arrays.
    """
    code = unique_codes(left * n + right)
    return code // n, code % n


def unique_codes(codes: I64) -> I64:
    """Sorted distinct values of an int64 array (``np.unique`` without its extra copies).

    Sorts ``codes`` in place and keeps the first of each run.
    """
    codes.sort()
    if codes.size < 2:
        return codes
    keep = np.empty(codes.size, np.bool_)
    keep[0] = True
    np.not_equal(codes[1:], codes[:-1], out=keep[1:])
    return codes[keep]


def concat_ptr(ptrs: Sequence[I64]) -> I64:
    """Join CSR row pointers of consecutive batches into one pointer over all rows."""
    out = [np.zeros(1, np.int64)]
    offset = 0
    for p in ptrs:
        out.append(p[1:] + offset)
        offset += int(p[-1])
    return np.concatenate(out)


def ranges(starts: I64, lengths: I64) -> I64:
    """Concatenate ``arange(start, start + length)`` for each pair, without a Python loop."""
    total = int(lengths.sum())
    return (
        np.repeat(starts, lengths)
        + np.arange(total)
        - np.repeat(np.cumsum(lengths) - lengths, lengths)
    )


_MALLOC_TUNED = False


def bound_heap_growth(mmap_threshold: int = 256 * 1024) -> None:
    """Have glibc serve large blocks with ``mmap`` so that freed arrays leave the process.

    glibc raises its mmap threshold each time a large block is freed (up to 32 MiB), so
    after the first batch every per-batch array and temporary is carved from the heap,
    and the heap cannot shrink past the long-lived arrays interleaved with the freed
    ones: at 300k articles about 0.9 GB of RSS is freed-but-held memory. A fixed
    threshold (``mallopt(M_MMAP_THRESHOLD)``, which also disables the adjustment) returns
    every large block to the system when it is freed. Process-wide, set once; a no-op
    off glibc.
    """
    global _MALLOC_TUNED
    if _MALLOC_TUNED:
        return
    _MALLOC_TUNED = True
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(ctypes.c_int(-3), ctypes.c_int(mmap_threshold))  # M_MMAP_THRESHOLD
    except (OSError, AttributeError):
        return


def trim_heap() -> None:
    """Return free heap pages to the system (glibc ``malloc_trim``); a no-op elsewhere."""
    if not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(ctypes.c_size_t(0))
    except (OSError, AttributeError):
        return
