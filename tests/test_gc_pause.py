"""The collector pause around corpus passes restores the caller's collector state."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from clusterer import ClusterConfig, cluster
from clusterer._gc import gc_paused
from clusterer.models import Article


def _fail_inside_pause(inside: list[bool]) -> None:
    with gc_paused():
        inside.append(gc.isenabled())
        raise RuntimeError("boom")


@pytest.mark.parametrize("enabled", [True, False])
def test_state_is_restored_even_on_error(enabled: bool) -> None:
    before = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        inside: list[bool] = []
        with pytest.raises(RuntimeError):
            _fail_inside_pause(inside)
        assert inside == [False]
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if before else gc.disable)()


def test_cluster_runs_with_the_collector_paused() -> None:
    seen: list[bool] = []

    def articles() -> Iterator[Article]:
        for i in range(3):
            seen.append(gc.isenabled())
            yield Article(id=str(i), title="", text=f"text number {i} here")

    assert gc.isenabled()
    result = cluster(articles(), ClusterConfig())
    assert seen == [False, False, False]
    assert gc.isenabled()
    assert len(result.assignments) == 3
