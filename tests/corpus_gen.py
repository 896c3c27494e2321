"""Small seeded corpora for tests: stories with near-duplicate copies, well separated."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone

import numpy as np

from clusterer import Article


def make_corpus(
    seed: int, n_stories: int = 6, max_copies: int = 4, prefix: str = ""
) -> list[Article]:
    """Each story draws from its own vocabulary; copies are light edits of the original."""
    rng = np.random.default_rng(seed)
    out: list[Article] = []
    for s in range(n_stories):
        vocab = [f"{prefix}s{s}w{i}" for i in range(120)]
        base = list(rng.choice(vocab, size=150))
        title = " ".join(rng.choice(vocab, size=7, replace=False))
        for c in range(int(rng.integers(1, max_copies + 1))):
            words = list(base)
            if c:
                for _ in range(3):  # light edits: word swaps
                    words[int(rng.integers(len(words)))] = str(rng.choice(vocab))
            out.append(Article(id=f"{prefix}{s}-{c}", title=title, text=" ".join(words)))
        # an independent report of the same story (same vocabulary, different text)
        other = " ".join(rng.choice(vocab, size=150))
        out.append(Article(id=f"{prefix}{s}-r", title=title, text=other))
    return out


BOILERPLATE = (
    "Chat with us in Facebook Messenger. Find out what's happening in the world as it unfolds."
)


def boilerplate_corpus() -> list[Article]:
    """Three stories a year apart, each with a video page whose body is only site boilerplate.

    The pages ``v0``-``v2`` are near-duplicates of each other (the same text) but belong
    to three stories; ``x0`` is a retitled copy of ``0-0``, which is the same report.
    """
    out = []
    for a in make_corpus(3, n_stories=3, max_copies=1):
        s = int(a.id.split("-")[0])
        out.append(dataclasses.replace(a, date=datetime(2021 + s, 3, 1, tzinfo=timezone.utc)))
    for s in range(3):
        first = next(a for a in out if a.id == f"{s}-0")
        out.append(Article(id=f"v{s}", title=first.title, text=BOILERPLATE, date=first.date))
    out.append(dataclasses.replace(out[0], id="x0", title="read this morning briefing"))
    return out
