"""Labelled data sets of the quality benchmark: finding them, loading them, scoring one.

A data set is a directory holding ``*.jsonl`` files whose records carry a gold story
label in ``cluster``. Re-exported by :mod:`benchmarks.quality`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from clusterer import Article, ClusterConfig, read_articles
from clusterer.evaluate import Scores, evaluate

GOLD_FIELD = "cluster"
#: Labelled sets the README table is expected to show (others found are run too).
EXPECTED = ("giveme5w1h_news_cluster", "basil_triplets")


@dataclass(frozen=True)
class Dataset:
    """A labelled set: its name and JSONL files."""

    name: str
    files: tuple[Path, ...]


def find_datasets(root: Path) -> tuple[list[Dataset], list[str]]:
    """Return the labelled sets under ``root`` and a message for each one skipped.

    Parameters
    ----------
    root : Path
        Directory holding one sub-directory per data set.

    Returns
    -------
    datasets : list of Dataset
        Sets with at least one gold label, in name order.
    skipped : list of str
        One line per expected set that is absent and per set without labels.
    """
    found: list[Dataset] = []
    skipped: list[str] = []
    dirs = sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    names = {d.name for d in dirs}
    skipped += [f"skip {n}: not found under {root}" for n in EXPECTED if n not in names]
    for d in dirs:
        files = tuple(sorted(d.glob("*.jsonl")))
        if not files:
            skipped.append(f"skip {d.name}: no .jsonl file in {d}")
        elif not any(_has_labels(f) for f in files):
            skipped.append(f"skip {d.name}: no record has a {GOLD_FIELD!r} label")
        else:
            found.append(Dataset(d.name, files))
    return found, skipped


def _has_labels(path: Path) -> bool:
    """Scan raw lines until one record carries a gold label."""
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if f'"{GOLD_FIELD}"' not in line:
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(record, dict) and record.get(GOLD_FIELD) is not None:
                return True
    return False


def load(dataset: Dataset) -> list[Article]:
    """Read every article of a set (rejecting nothing: the sets are clean)."""
    return list(read_articles(list(dataset.files)))


def thin(articles: Sequence[Article], fraction: float, seed: int = 0) -> list[Article]:
    """Reduce a seeded share of the gold stories to one article each.

    A labelled set whose stories all have several articles says little about precision
    on the singletons that dominate real feeds: a lone article about one event next to
    a story about a similar event should stay alone. Thinning keeps every article of
    the other stories, so the result mixes the original stories with new singletons
    whose lost companions were the same event, not the neighbouring ones.

    Parameters
    ----------
    articles : sequence of Article
        A labelled set (gold label in ``extra[GOLD_FIELD]``; unlabelled articles are kept).
    fraction : float
        Share of the stories with two or more articles that are cut down to one, in [0, 1].
    seed : int, default 0
        Seed of the choice of stories and of the article kept.

    Returns
    -------
    list of Article
        The kept articles, in input order.
    """
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must be in [0, 1], got {fraction!r}")
    members: dict[str, list[int]] = {}
    for i, a in enumerate(articles):
        label = a.extra.get(GOLD_FIELD)
        if label is not None:
            members.setdefault(str(label), []).append(i)
    stories = sorted(k for k, v in members.items() if len(v) >= 2)
    rng = np.random.default_rng(seed)
    chosen = rng.permutation(len(stories))[: round(fraction * len(stories))]
    drop: set[int] = set()
    for s in sorted(chosen.tolist()):
        rows = members[stories[s]]
        keep = rows[int(rng.integers(len(rows)))]
        drop.update(r for r in rows if r != keep)
    return [a for i, a in enumerate(articles) if i not in drop]


def run_one(name: str, articles: Sequence[Article], config: ClusterConfig) -> dict[str, Any]:
    """Cluster one set and return its table row (without commit and machine)."""
    start = time.perf_counter()
    scores, _ = evaluate(articles, GOLD_FIELD, config)
    seconds = time.perf_counter() - start
    return row(name, scores, seconds)


def row(name: str, scores: Scores, seconds: float) -> dict[str, Any]:
    """Flatten scores into a result row."""
    s = scores.to_dict()
    return {
        "dataset": name,
        "articles": s["n_articles"],
        "gold_clusters": s["n_clusters_gold"],
        "predicted_clusters": s["n_clusters_predicted"],
        **{k: round(s[k], 4) for k in _METRICS},
        "largest_predicted": s["largest_predicted"],
        "largest_gold": s["largest_gold"],
        "seconds": round(seconds, 3),
    }


_METRICS = (
    "bcubed_precision",
    "bcubed_recall",
    "bcubed_f1",
    "pairwise_precision",
    "pairwise_recall",
    "pairwise_f1",
    "ari",
    "nmi",
)
