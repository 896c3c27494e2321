"""Story index benchmark: add throughput, query latency and file size per article.

Uses only the public API. Articles are synthetic: stories of a few reports written from
a shared pool of story words plus general vocabulary, with occasional wire copies, spread
over time, so band keys, postings and stories behave like a news stream.

Run ``python -m benchmarks.index_bench --stored 100000 --batch 1000``; with
``--corpus FILE.jsonl`` (e.g. from ``python -m benchmarks.synth N FILE --seed S``) the
articles are read from the file in file order instead, and ``--record`` appends the
result, with commit, machine and load average, to ``benchmarks/results/index.jsonl``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import random
import resource
import subprocess
import tempfile
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from clusterer import Article, ClusterConfig, read_articles
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
    n_stored: int,
    batch_size: int,
    *,
    n_queries: int = 300,
    measure_batches: int = 5,
    corpus: str | None = None,
    workers: int = 0,
    settle: bool = False,
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
    corpus : str, optional
        JSON Lines file to read the articles from (file order); synthetic by default.
    workers : int, default 0
        ``ClusterConfig.workers`` (0: every core): threads of the compiled kernels of ``add`` and
        ``query`` (the index's SQLite commit and checkpoints have their own threads).
    settle : bool, default False
        Also time :meth:`StoryIndex.settle` at the end (re-deciding every stored story),
        with the process's peak resident memory before and after it.

    Returns
    -------
    dict
        ``fill_per_s``, ``add_per_s`` (at ``n_stored``; also per timed batch),
        ``query_p50_ms``, ``query_p99_ms``, ``bytes_per_article`` and the parameters;
        with ``settle``, ``settle_s``, ``settle_events`` and ``peak_rss_mb`` before and
        after the settling.
    """
    extra = measure_batches * batch_size
    total = n_stored + extra + n_queries
    if corpus is None:
        articles = synthetic_articles(total, seed=1)
    else:
        articles = list(itertools.islice(read_articles([corpus]), total))
        if len(articles) < total:
            raise SystemExit(f"{corpus} holds {len(articles)} articles, {total} are needed")
    fill, timed, queries = (
        articles[:n_stored],
        articles[n_stored : n_stored + extra],
        articles[n_stored + extra :],
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "bench.idx")
        with StoryIndex.open(path, ClusterConfig(workers=workers)) as index:
            t0 = time.perf_counter()
            for i in range(0, len(fill), batch_size):
                index.add(fill[i : i + batch_size])
            fill_s = time.perf_counter() - t0
            per_batch = []
            for i in range(0, len(timed), batch_size):
                t0 = time.perf_counter()
                index.add(timed[i : i + batch_size])
                per_batch.append(time.perf_counter() - t0)
            add_s = sum(per_batch)
            lat = []
            for a in queries:
                t = time.perf_counter()
                index.query(a)
                lat.append((time.perf_counter() - t) * 1000.0)
            stats = index.stats()
            settled: dict[str, Any] = {}
            if settle:
                before = _peak_mb()
                t0 = time.perf_counter()
                events = index.settle()
                settled = {
                    "settle_s": round(time.perf_counter() - t0, 2),
                    "settle_events": len(events),
                    "peak_rss_mb": [before, _peak_mb()],
                }
        lat.sort()
        return {
            "n_stored": n_stored,
            "batch_size": batch_size,
            "fill_per_s": round(n_stored / fill_s, 1) if n_stored else 0.0,
            "add_per_s": round(extra / add_s, 1),
            "add_per_s_median_batch": round(batch_size / sorted(per_batch)[len(per_batch) // 2], 1),
            "add_per_s_batches": [round(batch_size / t, 1) for t in per_batch],
            "query_p50_ms": round(lat[len(lat) // 2], 2),
            "query_p99_ms": round(lat[min(len(lat) - 1, int(len(lat) * 0.99))], 2),
            "bytes_per_article": stats.bytes_per_article,
            "articles": stats.articles,
            "stories": stats.stories,
            "corpus": os.path.basename(corpus) if corpus else "synthetic_articles(seed=1)",
            "workers": workers,
            **settled,
        }


def _peak_mb() -> int:
    """Peak resident memory of this process so far, in MB (Linux reports KiB)."""
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)


def context() -> dict[str, Any]:
    """Commit, machine and load average, to store next to a result."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    return {
        "commit": commit,
        "machine": f"{platform.machine()} {platform.processor() or platform.node()}, "
        f"{os.cpu_count()} cores",
        "load": [round(x, 2) for x in os.getloadavg()],
        "at": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }


def main() -> None:
    """Command-line entry point: print the result as one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stored", type=int, default=100000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--corpus", help="JSON Lines articles (default: synthetic)")
    parser.add_argument(
        "--workers", type=int, default=0, help="kernel threads (default 0: every core)"
    )
    parser.add_argument("--label", default="", help="free text stored with the result")
    parser.add_argument("--record", action="store_true", help="append to results/index.jsonl")
    parser.add_argument("--settle", action="store_true", help="also time index.settle() at the end")
    args = parser.parse_args()
    before = context()
    result = run(
        args.stored,
        args.batch,
        n_queries=args.queries,
        corpus=args.corpus,
        workers=args.workers,
        settle=args.settle,
    )
    line = {**result, **before, "load_after": context()["load"], "label": args.label}
    print(json.dumps(line))
    if args.record:
        out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "index.jsonl")
        with open(out, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(line) + "\n")


if __name__ == "__main__":
    main()
