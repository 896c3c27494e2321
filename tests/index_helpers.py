"""Shared helpers of the story index tests (synthetic articles, a crash-test writer)."""

from __future__ import annotations

import random
import sys
from datetime import datetime, timedelta, timezone

from clusterer import Article

START = datetime(2024, 3, 1, tzinfo=timezone.utc)


def make_articles(n: int, seed: int = 0, prefix: str = "a", day0: int = 0) -> list[Article]:
    """Stories of 1-5 reports sharing story words; some wire copies."""
    rng = random.Random(seed)
    vocab = [f"v{i}" for i in range(5000)]
    out: list[Article] = []
    story = 0
    while len(out) < n:
        story += 1
        words = rng.sample(vocab, 30)
        base: list[str] | None = None
        for _ in range(rng.randint(1, 5)):
            if base is not None and rng.random() < 0.3:
                body = list(base)
                body[rng.randrange(len(body))] = rng.choice(vocab)
            else:
                body = [
                    rng.choice(words) if rng.random() < 0.5 else rng.choice(vocab)
                    for _ in range(120)
                ]
                base = body
            out.append(
                Article(
                    id=f"{prefix}{len(out)}",
                    title=" ".join(rng.sample(words, 5)),
                    text=" ".join(body),
                    date=START + timedelta(days=day0 + len(out) // 10, minutes=rng.randint(0, 600)),
                    source=f"s{rng.randint(0, 9)}",
                )
            )
            if len(out) >= n:
                break
    return out


def writer_main(path: str, prefix: str, batches: int, size: int) -> None:
    """Add batches and print ``ACK <n>`` after each one returns (crash harness)."""
    from clusterer.index import StoryIndex

    arts = make_articles(batches * size, seed=hash(prefix) % 1000, prefix=prefix)
    with StoryIndex.open(path) as index:
        for b in range(batches):
            index.add(arts[b * size : (b + 1) * size])
            sys.stdout.write(f"ACK {b}\n")
            sys.stdout.flush()


if __name__ == "__main__":
    writer_main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
