"""Story index benchmark: add throughput, query latency and file size per article.

Uses only the public API. Articles are synthetic: stories of a few reports written from
a shared pool of story words plus general vocabulary, with occasional wire copies, spread
over time, so band keys, postings and stories behave like a news stream.

Run ``python -m benchmarks.index_bench --stored 100000 --batch 1000``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from clusterer import Article, ClusterConfig
from clusterer.index import StoryIndex

__all__ = ["run", "synthetic_articles"]

_START = datetime(2024, 1, 1, tzinfo=timezone.utc)


def synthetic_articles(n: int, seed: int = 0, prefix: str = "a") -> list[Article]:
    """Make ``n`` articles in stories of 1-8 reports, about 10% of them wire copies."""
    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(50000)]
    out: list[Article] = []
    story = 0
    while len(out) < n:
        story += 1
        words = rng.sample(vocab, 40)
        day = _START + timedelta(minutes=len(out) * 2)
        base: list[str] | None = None
        for _ in range(rng.randint(1, 8)):
            if base is not None and rng.random() < 0.15:
                body = list(base)
                body[rng.randrange(len(body))] = rng.choice(vocab)
            else:
                body = [
                    rng.choice(words) if rng.random() < 0.35 else rng.choice(vocab)
                    for _ in range(180)
                ]
                base = body
            title = " ".join(rng.sample(words, 6))
            out.append(
                Article(
                    id=f"{prefix}{len(out)}",
                    title=title,
                    text=" ".join(body),
                    date=day + timedelta(minutes=rng.randint(0, 600)),
                    source=f"s{rng.randint(0, 50)}",
                )
            )
            if len(out) >= n:
                break
    return out


def run(
    n_stored: int, batch_size: int, *, n_queries: int = 300, measure_batches: int = 5
) -> dict[str, Any]:
    """Fill an index with ``n_stored`` articles, then time further adds and queries.

    Parameters
    ----------
    n_stored : int
        Articles stored before measuring.
    batch_size : int
        Articles per ``add`` call.
    n_queries : int, default 300
        Queries timed (fresh articles, not stored).
    measure_batches : int, default 5
        Batches timed after the fill.

    Returns
    -------
    dict
        ``fill_per_s``, ``add_per_s`` (at ``n_stored``), ``query_p50_ms``,
        ``query_p99_ms``, ``bytes_per_article`` and the parameters.
    """
    extra = measure_batches * batch_size
    articles = synthetic_articles(n_stored + extra + n_queries, seed=1)
    fill, timed, queries = (
        articles[:n_stored],
        articles[n_stored : n_stored + extra],
        articles[n_stored + extra :],
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "bench.idx")
        with StoryIndex.open(path, ClusterConfig()) as index:
            t0 = time.perf_counter()
            for i in range(0, len(fill), batch_size):
                index.add(fill[i : i + batch_size])
            fill_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            for i in range(0, len(timed), batch_size):
                index.add(timed[i : i + batch_size])
            add_s = time.perf_counter() - t0
            lat = []
            for a in queries:
                t = time.perf_counter()
                index.query(a)
                lat.append((time.perf_counter() - t) * 1000.0)
            stats = index.stats()
        lat.sort()
        return {
            "n_stored": n_stored,
            "batch_size": batch_size,
            "fill_per_s": round(n_stored / fill_s, 1) if n_stored else 0.0,
            "add_per_s": round(extra / add_s, 1),
            "query_p50_ms": round(lat[len(lat) // 2], 2),
            "query_p99_ms": round(lat[min(len(lat) - 1, int(len(lat) * 0.99))], 2),
            "bytes_per_article": stats.bytes_per_article,
            "articles": stats.articles,
            "stories": stats.stories,
        }


def main() -> None:
    """Command-line entry point: print the result as one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stored", type=int, default=100000)
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()
    print(json.dumps(run(args.stored, args.batch)))


if __name__ == "__main__":
    main()
