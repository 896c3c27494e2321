"""The story index in the benchmark suite: one :mod:`benchmarks.index_bench` run per profile.

Each profile fills an index with ``Profile.index_stored`` synthetic articles in batches
of ``Profile.index_batch``, then times five more batches and 300 queries, in a process
of its own (its peak RSS is its own). The record goes to
``benchmarks/results/index.jsonl`` with the profile, run time and machine of the suite;
the README keeps a table of the latest record of each profile between
``<!-- index:start -->`` and ``<!-- index:end -->``, with the targets of the index
(``add`` >= 5,000 articles/s with 100k stored, ``query`` p99 <= 20 ms).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .measure import REPO
from .profiles import Profile
from .report import profile_order, replace_between

__all__ = [
    "ADD_TARGET",
    "P99_TARGET_MS",
    "append",
    "articles_needed",
    "bench_index",
    "latest_by_profile",
    "render_index",
    "update_readme_index",
]

START, END = "<!-- index:start -->", "<!-- index:end -->"

#: Targets of the story index (articles/s of ``add`` at 100k stored; ms of query p99).
ADD_TARGET, P99_TARGET_MS = 5000.0, 20.0
#: Timed batches and queries after the fill (the defaults of ``index_bench.run``).
TIMED_BATCHES, QUERIES = 5, 300


def articles_needed(prof: Profile) -> int:
    """Articles one index run reads: the fill, the timed batches and the queries."""
    return prof.index_stored + TIMED_BATCHES * prof.index_batch + QUERIES


def bench_index(
    prof: Profile,
    sizes: Sequence[int],
    corpus_for: Callable[[int], Path],
    workers: int,
    base: dict[str, Any],
) -> dict[str, Any]:
    """Run the index benchmark of ``prof`` in a child process; return its record.

    Parameters
    ----------
    prof : Profile
        Fill size and batch size.
    sizes : sequence of int
        Synthetic corpus sizes of this run: the smallest that holds enough articles is
        read from its start; otherwise a corpus of the next multiple of 10,000 is made.
    corpus_for : callable
        ``corpus_for(n)`` gives the path of the synthetic corpus of ``n`` articles.
    workers : int
        Kernel threads (``ClusterConfig.workers``).
    base : dict
        Profile, time and machine fields of the suite, added to the record.

    Returns
    -------
    dict
        The JSON line of ``benchmarks.index_bench`` (its own commit, load and workers)
        plus the other fields of ``base``.
    """
    need = articles_needed(prof)
    fits = [n for n in sizes if n >= need]
    corpus = corpus_for(min(fits) if fits else -(-need // 10000) * 10000)
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.index_bench",
        "--stored",
        str(prof.index_stored),
        "--batch",
        str(prof.index_batch),
        "--queries",
        str(QUERIES),
        "--corpus",
        str(corpus),
        "--workers",
        str(workers),
    ]
    print(
        f"[index] {prof.index_stored:,} stored from {corpus.name}, batches of "
        f"{prof.index_batch:,} ...",
        file=sys.stderr,
        flush=True,
    )
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=False)
    if done.returncode:
        sys.stderr.write(done.stderr)
        raise RuntimeError(f"the index benchmark failed on {corpus}")
    own: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    record = {**base, **own}  # the run's own commit, load and workers win
    print(
        f"  add {record['add_per_s']:,.0f} articles/s, query p99 {record['query_p99_ms']} ms",
        file=sys.stderr,
        flush=True,
    )
    return record


def _met(ok: bool) -> str:
    return "met" if ok else "**not met**"


def render_index(record: dict[str, Any]) -> str:
    """Markdown table of one index run, with the targets where they apply."""
    batches = record.get("add_per_s_batches", [])
    at_100k = record["n_stored"] >= 100000
    add_target = _met(record["add_per_s"] >= ADD_TARGET) if at_100k else "(target at 100k)"
    load, after = record.get("load", []), record.get("load_after", [])
    return "\n".join(
        [
            f"Profile `{record['profile']}`, commit `{record['commit']}`, {record['machine']}, "
            f"{record.get('cpu', '-')}, {record.get('memory_gb', '-')} GiB, "
            f"kernel threads {record['workers']} (0: every core), load average at start "
            f"{', '.join(str(x) for x in load)}, after {', '.join(str(x) for x in after)}; "
            f"{record['time']}.",
            "",
            "| stored | batch | add articles/s (all timed batches / median / slowest) "
            "| fill articles/s | query p50 / p99 ms | bytes / article | corpus "
            "| add >= 5,000/s | p99 <= 20 ms |",
            "|---|---|---|---|---|---|---|---|---|",
            f"| {record['n_stored']:,} | {record['batch_size']:,} "
            f"| {record['add_per_s']:,.0f} / {record['add_per_s_median_batch']:,.0f} / "
            f"{min(batches, default=0):,.0f} | {record['fill_per_s']:,.0f} "
            f"| {record['query_p50_ms']:.1f} / {record['query_p99_ms']:.1f} "
            f"| {record['bytes_per_article']:,.0f} | {record['corpus']} | {add_target} "
            f"| {_met(record['query_p99_ms'] <= P99_TARGET_MS)} |",
        ]
    )


def latest_by_profile(path: Path) -> dict[str, dict[str, Any]]:
    """Return the latest record of each profile in an index results file.

    Records without a profile (``index_bench --record`` run on its own) are skipped.
    """
    latest: dict[str, dict[str, Any]] = {}
    if path.exists():
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                r = json.loads(line) if line.strip() else {}
                p = r.get("profile")
                if p and (p not in latest or r["time"] >= latest[p]["time"]):
                    latest[p] = r
    return latest


def update_readme_index(readme: Path, results: Path) -> bool:
    """Rewrite the text between the index markers with the latest run of each profile.

    Returns False (and leaves the file alone) if the README or its markers are missing.
    """
    runs = latest_by_profile(results)
    body = "\n\n".join(render_index(runs[p]) for p in profile_order(runs))
    return replace_between(readme, START, END, body)


def append(path: Path, record: dict[str, Any]) -> None:
    """Append one record to the index results file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record) + "\n")
