"""Featurising ahead in a worker thread: same features, same order, errors surface."""

from __future__ import annotations

import numpy as np
import pytest

from clusterer import ClusterConfig
from clusterer._ahead import FeaturizeAhead
from clusterer.signatures import Features, featurize
from tests.test_signatures import FIELDS


@pytest.mark.parametrize("terms", [True, False])
def test_batches_come_back_in_order_and_equal(terms: bool) -> None:
    config = ClusterConfig(num_perm=32, workers=2)
    batches = [
        ([f"title {b} {i}" for i in range(5)], [f"batch {b} text {i} " * (i + b) for i in range(5)])
        for b in range(4)
    ]
    ahead = FeaturizeAhead(config, terms=terms)
    for titles, texts in batches:
        ahead.submit(titles, texts)
    got = ahead.results()
    assert ahead.submitted == 4
    assert len(got) == 4
    for (titles, texts), feats in zip(batches, got, strict=True):
        expected = featurize(titles, texts, config, terms=terms)
        for name in FIELDS:
            assert np.array_equal(getattr(feats, name), getattr(expected, name)), name
    assert ahead.results() == []


def test_an_error_in_the_worker_reaches_the_caller() -> None:
    ahead = FeaturizeAhead(ClusterConfig(num_perm=16))
    ahead.submit(["t"], [None])  # type: ignore[list-item]
    with pytest.raises(AttributeError):
        ahead.results()


def test_then_runs_in_the_callers_thread_in_order() -> None:
    import threading

    seen: list[tuple[int, bool]] = []

    def note(f: Features) -> None:
        seen.append((len(f), threading.current_thread() is threading.main_thread()))

    ahead = FeaturizeAhead(ClusterConfig(num_perm=16))
    for k in range(3):
        ahead.submit(["t"] * (k + 1), ["some words here"] * (k + 1), then=None)
        ahead.submit(
            ["t"] * (k + 1),
            ["some words here"] * (k + 1),
            then=lambda f: seen.append(
                (len(f), threading.current_thread() is threading.main_thread())
            ),
        )
    assert len(ahead.results()) == 6
    assert seen == [(1, True), (2, True), (3, True)]
