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


def test_rounded_equals_round_of_each_value() -> None:
    from clusterer._assemble import rounded

    rng = np.random.default_rng(3)
    values = np.concatenate(
        (
            [0.0, -0.0, 1.0, 2.675, 0.1234565, 0.1234575, 1e-7, 5e-7, np.nan, np.inf],
            rng.integers(0, 50, 300) / rng.integers(1, 50, 300),
            rng.random(300),
        )
    )
    got = rounded(values)
    want = [round(x, 6) for x in values.tolist()]
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert repr(g) == repr(w)  # the same value, and the same sign of zero
    assert rounded(np.zeros(0)) == []


@pytest.mark.parametrize("dup_only", [True, False])
def test_stories_equal_a_plain_reference(dup_only: bool) -> None:
    from datetime import datetime, timedelta, timezone

    from clusterer._assemble import summarise
    from clusterer.pipeline import _Meta

    rng = np.random.default_rng(11)
    n = 300
    dup = _labels(rng, n, 200)
    story = dup.copy() if dup_only else _labels(rng, n, 90)
    scores = np.zeros(n) if dup_only else rng.integers(0, 4, n) / 3.0
    start = datetime(2025, 1, 1, tzinfo=timezone.utc)
    dates = [
        None
        if r < 0.3
        else (start + timedelta(days=int(d))).replace(tzinfo=None if r > 0.9 else start.tzinfo)
        for r, d in zip(rng.random(n).tolist(), rng.integers(0, 9, n).tolist(), strict=True)
    ]
    sources = [None if r < 0.3 else f"s{int(r * 10)}" for r in rng.random(n).tolist()]
    meta = _Meta(
        [f"id{i:04d}" for i in rng.permutation(n).tolist()],
        [f"title {i}" for i in range(n)],
        sources,
        dates,
    )
    k = int(story.max()) + 1
    rejected = rng.integers(0, 3, k)
    attached = rng.integers(0, 2, k)
    _, stories = summarise(meta, dup, story, scores, rejected, attached)

    def stamp(i: int) -> float:
        d = dates[i]
        return (d if d.tzinfo else d.replace(tzinfo=timezone.utc)).timestamp()

    for s in stories:
        rows = [i for i in range(n) if story[i] == s.id]
        best = max(rows, key=lambda i: (scores[i], -i))
        dated = [i for i in rows if dates[i] is not None]
        assert s.members == tuple(sorted(meta.ids[i] for i in rows))
        assert (s.title, s.representative) == (meta.titles[best], meta.ids[best])
        assert s.sources == tuple(sorted({sources[i] for i in rows if sources[i]}))
        assert s.first == (dates[min(dated, key=stamp)] if dated else None)
        assert s.last == (dates[max(dated, key=lambda i: (stamp(i), -i))] if dated else None)
        assert s.duplicate_groups == tuple(sorted({int(dup[i]) for i in rows}))
        if len(rows) == 1:
            assert s.cohesion == 0.0
        assert (s.rejected_links, s.attached) == (rejected[s.id], attached[s.id])
