"""Labelled data sets of the quality benchmark: finding them, loading them, scoring one.

A data set is a directory holding ``*.jsonl`` files whose records carry a gold story
label in ``cluster``. Re-exported by :mod:`benchmarks.quality`.
"""

from __future__ import annotations

import dataclasses
import json
import re
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


def _members(articles: Sequence[Article], fraction: float) -> dict[str, list[int]]:
    """Rows of each gold story, after checking that ``fraction`` lies in [0, 1]."""
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must be in [0, 1], got {fraction!r}")
    members: dict[str, list[int]] = {}
    for i, a in enumerate(articles):
        label = a.extra.get(GOLD_FIELD)
        if label is not None:
            members.setdefault(str(label), []).append(i)
    return members


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
    members = _members(articles, fraction)
    stories = sorted(k for k, v in members.items() if len(v) >= 2)
    rng = np.random.default_rng(seed)
    chosen = rng.permutation(len(stories))[: round(fraction * len(stories))]
    drop: set[int] = set()
    for s in sorted(chosen.tolist()):
        rows = members[stories[s]]
        keep = rows[int(rng.integers(len(rows)))]
        drop.update(r for r in rows if r != keep)
    return [a for i, a in enumerate(articles) if i not in drop]


#: Syndication edit levels of :func:`syndicate`: (weight, most sentences dropped, word
#: swaps, chance of cutting the tail).
_COPY_EDITS = {"light": (0.4, 1, 2, 0.0), "medium": (0.4, 3, 6, 0.0), "heavy": (0.2, 6, 14, 0.6)}
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def syndicate(articles: Sequence[Article], fraction: float, seed: int = 0) -> list[Article]:
    """Add edited copies of one article to a seeded share of the gold stories.

    Real feeds carry wire copies: one report republished by several outlets, trimmed
    and lightly edited. Such copies make a story far tighter than independent reports
    of the same event are, so a rule that leans on how tight a story is (a relative
    merge guard, say) can refuse the independent reports. The labelled sets hold few
    copies; this variant adds them. Each chosen story gets 2-6 copies of one of its
    articles (same title, date and label; sentences dropped, words swapped, sometimes
    the tail cut), appended after the original articles.

    Parameters
    ----------
    articles : sequence of Article
        A labelled set (gold label in ``extra[GOLD_FIELD]``; unlabelled articles are
        never copied).
    fraction : float
        Share of the labelled stories that get copies, in [0, 1].
    seed : int, default 0
        Seed of the choice of stories, source articles and edits.

    Returns
    -------
    list of Article
        The input articles, then the copies (ids ``<source id>~copy<k>``).
    """
    members = _members(articles, fraction)
    stories = sorted(members)
    rng = np.random.default_rng(seed)
    chosen = rng.permutation(len(stories))[: round(fraction * len(stories))]
    levels = list(_COPY_EDITS)
    weights = np.array([_COPY_EDITS[k][0] for k in levels])
    out = list(articles)
    for s in sorted(chosen.tolist()):
        rows = members[stories[s]]
        source = articles[rows[int(rng.integers(len(rows)))]]
        for k in range(int(rng.integers(2, 7))):
            level = levels[int(rng.choice(len(levels), p=weights / weights.sum()))]
            text = _edited_copy(source.text, level, rng)
            out.append(dataclasses.replace(source, id=f"{source.id}~copy{k}", text=text))
    return out


def _edited_copy(text: str, level: str, rng: np.random.Generator) -> str:
    """Return a syndication copy of ``text``: sentences dropped, words swapped, tail cut."""
    _, drops, swaps, cut = _COPY_EDITS[level]
    sentences = _SENTENCE_END.split(text)
    for _ in range(int(rng.integers(0, drops + 1))):
        if len(sentences) > 2:
            del sentences[int(rng.integers(len(sentences)))]
    if rng.random() < cut:
        sentences = sentences[: max(2, int(len(sentences) * rng.uniform(0.5, 0.85)))]
    words = " ".join(sentences).split(" ")
    for _ in range(swaps):
        if len(words) > 3:
            i = int(rng.integers(1, len(words) - 2))
            words[i], words[i + 1] = words[i + 1], words[i]
    return " ".join(words)


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
