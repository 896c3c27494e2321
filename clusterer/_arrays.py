"""Small array helpers shared by the stages."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["ranges", "unique_pairs"]

I64 = npt.NDArray[np.int64]


def unique_pairs(left: I64, right: I64, n: int) -> tuple[I64, I64]:
    """Distinct ``(left, right)`` pairs, sorted, for node ids below ``n``.

    A sort and a run mask: faster than ``np.unique`` on large int64 arrays.
    """
    code = left * n + right
    code.sort()
    if code.size:
        code = code[np.concatenate(([True], code[1:] != code[:-1]))]
    return code // n, code % n


def ranges(starts: I64, lengths: I64) -> I64:
    """Concatenate ``arange(start, start + length)`` for each pair, without a Python loop."""
    total = int(lengths.sum())
    return (
        np.repeat(starts, lengths)
        + np.arange(total)
        - np.repeat(np.cumsum(lengths) - lengths, lengths)
    )
