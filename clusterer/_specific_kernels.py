"""Compiled kernels of the specific-term rule (``ClusterConfig.specific_terms``).

``add_day_moments`` gathers, per term, the count, sum and sum of squares of the days of
the dated articles carrying it (the spread that tells an event's bursty names from words
used all year), in whole tenths of a day so that the sums are exact integers: the same
whatever the order rows are added and removed in; ``shares_specific`` tells, per pair of
TF-IDF rows, whether the two rows have a specific term in common.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit, prange

__all__ = ["TENTHS", "add_day_moments", "add_moments", "shares_specific"]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
Bool = npt.NDArray[np.bool_]


#: Days are counted in tenths (whole numbers) in the moments.
TENTHS = 10.0


@njit(cache=True)
def add_day_moments(
    ptr: I64, features: npt.NDArray[np.uint32], days: F64, moments: I64, sign: int
) -> None:  # pragma: no cover - compiled
    """Add (``sign`` 1) or take away (-1) the days of rows ``ptr`` in ``moments``.

    Row ``r`` carries terms ``features[ptr[r]:ptr[r + 1]]`` and has day ``days[r]``
    (days since 1970; NaN: undated, skipped). ``moments`` is (3, n_features) int64:
    per term the number of dated rows, the sum of their days in tenths (rounded) and
    the sum of the squares of those.
    """
    for r in range(ptr.shape[0] - 1):
        d = days[r]
        if np.isnan(d):
            continue
        t = np.int64(np.round(d * TENTHS))
        for k in range(ptr[r], ptr[r + 1]):
            f = features[k]
            moments[0, f] += sign
            moments[1, f] += sign * t
            moments[2, f] += sign * t * t


def add_moments(
    moments: I64, ptr: I64, features: npt.NDArray[np.uint32], days: F64, sign: int = 1
) -> None:
    """Add (``sign`` 1) or take away (-1) rows' day moments in ``moments`` (3, n_features).

    :func:`add_day_moments` on arrays of any layout and integer width (rows ``ptr``
    with terms ``features`` and days ``days``); nothing to do without rows.
    """
    if ptr.size > 1:
        add_day_moments(
            np.ascontiguousarray(ptr, np.int64),
            np.ascontiguousarray(features, np.uint32),
            np.ascontiguousarray(days, np.float64),
            moments,
            sign,
        )


@njit(parallel=True, cache=True)
def shares_specific(
    ptr: I64, features: npt.NDArray[np.uint32], specific: Bool, left: I64, right: I64
) -> Bool:  # pragma: no cover - compiled
    """Per pair: do rows ``left[k]`` and ``right[k]`` (ascending features) share a specific term."""
    m = left.shape[0]
    out = np.zeros(m, dtype=np.bool_)
    for k in prange(m):
        i, j = ptr[left[k]], ptr[right[k]]
        i1, j1 = ptr[left[k] + 1], ptr[right[k] + 1]
        while i < i1 and j < j1:
            fi, fj = features[i], features[j]
            if fi == fj:
                if specific[fi]:
                    out[k] = True
                    break
                i += 1
                j += 1
            elif fi < fj:
                i += 1
            else:
                j += 1
    return out
