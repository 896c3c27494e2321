"""Incremental vs batch: the partition of the index against ``cluster()`` (B-cubed F1)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from clusterer import cluster, read_articles
from clusterer.evaluate import score
from clusterer.index import StoryIndex
from clusterer.index.batch import day_of

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SETS = ["giveme5w1h_news_cluster", "basil_triplets"]


def _load(name: str) -> list:  # type: ignore[type-arg]
    path = DATA / name / f"{name}.jsonl"
    if not path.exists():
        pytest.skip(f"labelled data set {path} is not available (../shared/data)")
    return list(read_articles([str(path)]))


@pytest.mark.parametrize("name", SETS)
@pytest.mark.parametrize(
    ("batch", "min_f1"), [(100000, 1.0), (100, 0.98), (50, 0.98), (10, 0.98), (1, 0.98)]
)
def test_incremental_matches_batch(tmp_path: Path, name: str, batch: int, min_f1: float) -> None:
    arts = _load(name)
    batch_labels = {a.id: a.story_id for a in cluster(arts).assignments}
    # arrival in date order, as an aggregator sees it
    arts.sort(key=lambda a: (math.isnan(day_of(a.date)), day_of(a.date) if a.date else 0.0, a.id))
    with StoryIndex.open(tmp_path / "i.idx") as ix:
        for i in range(0, len(arts), batch):
            ix.add(arts[i : i + batch])
        inc = {m: s.id for s in ix.stories() for m in s.members}
    ids = sorted(batch_labels)
    f1 = score([inc[i] for i in ids], [batch_labels[i] for i in ids]).bcubed_f1
    print(f"{name} batches of {batch}: B-cubed F1 {f1:.4f}")
    assert f1 >= min_f1, (
        f"{name}: B-cubed F1 {f1:.4f} between index (batches of {batch}) and cluster()"
    )
