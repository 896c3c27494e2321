"""The vectorised per-cluster summaries of result assembly against plain Python."""

from __future__ import annotations

import numpy as np
import pytest

from clusterer._assemble import _distinct_per_label, _first_per_label, _mean_per_label


def _labels(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    labels = np.concatenate((np.arange(k), rng.integers(0, k, n - k)))
    rng.shuffle(labels)
    return labels.astype(np.int64)


@pytest.mark.parametrize("seed", range(5))
def test_summaries_equal_the_per_cluster_loops(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, k = 400, 60
    labels = _labels(rng, n, k)
    # Few distinct values: ties; some NaN stamps: undated rows.
    scores = rng.integers(0, 4, n) / 3.0
    stamps = np.where(rng.random(n) < 0.3, np.nan, rng.integers(0, 5, n).astype(float))
    other = rng.integers(0, 9, n).astype(np.int64)
    rows = [[i for i in range(n) if labels[i] == j] for j in range(k)]
    size = np.bincount(labels, minlength=k)
    best = _first_per_label(labels, -scores, k)
    first = _first_per_label(labels, stamps, k)
    last = _first_per_label(labels, -stamps, k)
    mean = _mean_per_label(labels, scores, size, rows)
    distinct = _distinct_per_label(labels, other, k)
    for j, members in enumerate(rows):
        assert best[j] == max(members, key=lambda i: (scores[i], -i))
        dated = [i for i in members if not np.isnan(stamps[i])]
        if dated:
            assert first[j] == min(dated, key=lambda i: stamps[i])
            assert last[j] == max(dated, key=lambda i: stamps[i])
        else:
            assert np.isnan(stamps[first[j]])
            assert np.isnan(stamps[last[j]])
        assert mean[j] == np.mean(scores[members])  # bit for bit
        assert distinct[j] == tuple(sorted({int(other[i]) for i in members}))
