"""The prefetch hint compiles to a prefetch instruction and changes no value."""

from __future__ import annotations

import numpy as np
from numba import njit

from clusterer._prefetch import prefetch


@njit
def _hinted_sum(values: np.ndarray) -> float:
    total = 0.0
    n = values.shape[0]
    for i in range(n):
        prefetch(values, min(i + 8, n - 1))
        total += values[i]
    return total


def test_prefetch_keeps_values_and_emits_the_instruction() -> None:
    values = np.arange(1000, dtype=np.float64) * 0.5
    assert _hinted_sum(values) == float(values.sum())
    asm = next(iter(_hinted_sum.inspect_asm().values())).lower()
    assert "prefetch" in asm or "prfm" in asm  # x86 prefetcht0 / arm64 prfm
