"""Small seeded corpora for tests: stories with near-duplicate copies, well separated."""

from __future__ import annotations

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
