"""Speed, memory and quality benchmark: clusterer against datasketch, same run, same corpus.

Usage::

    python -m benchmarks.run --profile smoke      # < 2 minutes, run by CI
    python -m benchmarks.run --profile regular    # up to 100k articles (+ Reuters-21578)
    python -m benchmarks.run --profile large      # 100k and 1M articles

Each system runs in its own process (peak RSS is that process's own):

* ``ours``: ``cluster()`` full pipeline, read -> duplicate groups + stories -> written;
* ``ours-dup``: ``cluster(duplicates_only=True)``, read -> duplicate groups -> written;
* ``ds-bulk`` / ``ds-doc``: the datasketch passes of :mod:`benchmarks.baselines`
  (``ds-doc`` only at small sizes; larger sizes are extrapolated linearly and marked).

Quality is measured afterwards: exact Jaccard of our shingle sets on every pair within a
generated story, a random sample of pairs and every pair a system put in one group;
near-duplicate recall / precision at the threshold, the LSH S-curve, and story B-cubed /
pairwise F1 against the generator's truth. Results: ``benchmarks/results/bench.jsonl``
(one JSON line per system and size), PNG plots next to it, the README table between
``<!-- bench:start -->`` and ``<!-- bench:end -->``.

Last, the story index of the profile (:mod:`benchmarks.index_suite`: ``add`` and
``query`` timed with ``Profile.index_stored`` articles stored), recorded in
``benchmarks/results/index.jsonl`` and the README table between ``<!-- index:start -->``
and ``<!-- index:end -->``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from .index_suite import append, bench_index, render_index, update_readme_index
from .jobs import SPILLING, _spawn, run_job
from .measure import REPO, machine_info
from .pair_quality import quality
from .profiles import PROFILES, REAL, STAGES, Profile
from .synth import GENERATOR, write_corpus

__all__ = [
    "DATA",
    "PROFILES",
    "REAL",
    "RESULTS",
    "STAGES",
    "Profile",
    "bench_corpus",
    "corpus_for",
    "main",
    "median_run",
    "quality",
    "run_job",
]

DATA = REPO / "benchmarks" / "data"
RESULTS = REPO / "benchmarks" / "results"

# --------------------------------------------------------------------------- the run


def corpus_for(n: int, seed: int) -> Path:
    """Return the synthetic corpus of ``n`` articles, generating it once."""
    path = DATA / f"synth-{n}-s{seed}-g{GENERATOR}.jsonl"
    if not path.exists():
        t = time.perf_counter()
        print(f"generating {n:,} articles -> {path}", file=sys.stderr, flush=True)
        write_corpus(n, path, seed)
        print(f"  {time.perf_counter() - t:.1f} s", file=sys.stderr, flush=True)
    return path


#: Articles of the corpus both of our jobs run on before anything is timed.
WARM_UP_N = 1000


def warm_up(seed: int, workers: int) -> float:
    """Run both of our jobs once on a small corpus; return the seconds it took.

    The compiled kernels are cached on disk by numba; after a kernel module changes,
    or in a fresh checkout, the first run compiles it again (about 30 s), which would
    otherwise be charged to the first size measured. Both jobs also run once through
    the spill path, which only corpora of several batches take: in a fresh checkout
    its kernels were otherwise compiled inside the first 1M run (+500 MB peak RSS from
    the TF-IDF stage on, measured).
    """
    t = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-warm-") as tmp:
        for system in ("ours", "ours-dup"):
            for job in (system, system + SPILLING):
                _spawn(job, corpus_for(WARM_UP_N, seed), Path(tmp), workers, False)
    return time.perf_counter() - t


def bench_corpus(
    name: str,
    corpus: Path,
    prof: Profile,
    workers: int,
    limits: dict[str, float],
    base: dict[str, Any],
) -> list[dict[str, Any]]:
    """Run every system on one corpus; return one record per system."""
    with open(corpus, "rb") as fh:
        n = sum(1 for line in fh if line.strip())
    mb = corpus.stat().st_size / 2**20
    systems = ["ours", "ours-dup"]
    if n <= prof.bulk_max:
        systems.append("ds-bulk")
    if n <= prof.doc_max:
        systems.append("ds-doc")
    records = []
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        work = Path(tmp)
        for s in systems:
            runs = []
            for k in range(prof.repeats if s == "ours" else 1):
                print(f"[{name} n={n:,}] {s} ...", file=sys.stderr, flush=True)
                runs.append(_spawn(s, corpus, work, workers, prof.progress and k == 0))
                print(
                    f"  {runs[-1]['seconds']:.2f} s, peak {runs[-1]['peak_rss_mb']:.0f} MB",
                    file=sys.stderr,
                    flush=True,
                )
            records.append(median_run(runs))
        t = time.perf_counter()
        q = quality(corpus, work, systems)
        print(f"[{name}] quality {time.perf_counter() - t:.1f} s", file=sys.stderr, flush=True)
    for r in records:
        r.update(
            base,
            corpus=name,
            n=n,
            corpus_mb=round(mb, 1),
            extrapolated=False,
            articles_per_s=n / r["seconds"],
            mb_per_s=mb / r["seconds"],
            **q[r["system"]],
        )
        r["pairs_checked"] = q["pairs_checked"]
        limits[r["system"]] = r["seconds"] / n
    for s in ("ds-bulk", "ds-doc"):
        if s not in systems and s in limits:
            sec = limits[s] * n
            records.append(
                {
                    **base,
                    "system": s,
                    "corpus": name,
                    "n": n,
                    "corpus_mb": round(mb, 1),
                    "seconds": sec,
                    "extrapolated": True,
                    "articles_per_s": n / sec,
                    "mb_per_s": mb / sec,
                }
            )
    return records


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One record of repeated runs: medians of the run and of each stage, the largest peaks.

    The outputs of the runs are the same (the pipeline is deterministic); ``runs``
    keeps each run's seconds.
    """
    if len(runs) == 1:
        return runs[0]
    out = dict(runs[-1])
    out["seconds"] = statistics.median(r["seconds"] for r in runs)
    out["runs"] = [r["seconds"] for r in runs]
    for key in ("stages", "stages_cpu"):
        names = dict.fromkeys(k for r in runs for k in r[key])
        out[key] = {k: statistics.median(r[key].get(k, 0.0) for r in runs) for k in names}
    spans = dict.fromkeys(k for r in runs for k in r["stages_peak_rss_mb"])
    out["stages_peak_rss_mb"] = {
        k: max(r["stages_peak_rss_mb"].get(k, 0.0) for r in runs) for k in spans
    }
    out["peak_rss_mb"] = max(r["peak_rss_mb"] for r in runs)
    return out


def _measured_costs(path: Path) -> dict[str, float]:
    """Seconds per article of each baseline at the largest size it was last measured."""
    best: dict[str, dict[str, Any]] = {}
    if path.exists():
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                r = json.loads(line)
                if r["system"].startswith("ds-") and not r.get("extrapolated"):
                    old = best.get(r["system"])
                    if old is None or r["n"] >= old["n"]:
                        best[r["system"]] = r
    return {s: r["seconds"] / r["n"] for s, r in best.items()}


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--profile", choices=sorted(PROFILES), default="smoke")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--sizes", type=str, default=None, help="comma-separated sizes (override)")
    p.add_argument("--no-write", action="store_true", help="print only (no results/README)")
    p.add_argument("--job", help=argparse.SUPPRESS)
    p.add_argument("--corpus", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--progress", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.job:
        res = run_job(args.job, args.corpus, args.workdir, args.workers, args.progress)
        print(json.dumps(res))
        return 0
    prof = PROFILES[args.profile]
    sizes = tuple(int(x) for x in args.sizes.split(",")) if args.sizes else prof.sizes
    base = {
        "profile": args.profile,
        "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "workers": args.workers,
        **machine_info(),
    }
    t0 = time.perf_counter()
    base["warm_up_s"] = round(warm_up(args.seed, args.workers), 1)
    print(f"warm-up (kernels compiled or loaded): {base['warm_up_s']} s", file=sys.stderr)
    records: list[dict[str, Any]] = []
    limits = _measured_costs(RESULTS / "bench.jsonl")
    for n in sizes:
        records += bench_corpus(
            f"synth-{n}", corpus_for(n, args.seed), prof, args.workers, limits, base
        )
    for name in prof.real:
        if REAL[name].exists():
            records += bench_corpus(name, REAL[name], prof, args.workers, {}, base)
    index = bench_index(prof, sizes, lambda n: corpus_for(n, args.seed), args.workers, base)
    from .report import render, update_readme

    text = render(records)
    print(text)
    print("\nStory index:\n\n" + render_index(index))
    print(f"total {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    if not args.no_write:
        RESULTS.mkdir(parents=True, exist_ok=True)
        with open(RESULTS / "bench.jsonl", "a", encoding="utf-8") as fh:
            for r in records:
                fh.write(json.dumps(r, default=_jsonable) + "\n")
        from .plots import plot_all

        plot_all(RESULTS / "bench.jsonl", RESULTS)
        update_readme(REPO / "README.md", RESULTS / "bench.jsonl")
        append(RESULTS / "index.jsonl", index)
        update_readme_index(REPO / "README.md", RESULTS / "index.jsonl")
    return 0


def _jsonable(x: Any) -> Any:
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, float) and math.isnan(x):
        return None
    raise TypeError(type(x))


if __name__ == "__main__":
    raise SystemExit(main())
