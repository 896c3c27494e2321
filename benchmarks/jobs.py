"""Child jobs of the benchmark: one system on one corpus, in its own process.

:func:`run_job` runs in the child (``python -m benchmarks.run --job ...``), saves the
labels next to its output and returns the measurements; ``_spawn`` starts that child
and reads its JSON line. Each child's peak RSS is its own. Re-exported by
:mod:`benchmarks.run`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from .measure import REPO, RssSampler


def _progress(stage: str, done: int, total: int | None) -> None:
    print(
        f"\r  {stage}: {done:,} articles" + (" done\n" if total else ""),
        end="",
        file=sys.stderr,
        flush=True,
    )


#: Suffix of a warm-up job that goes through the spill path (see :func:`run_job`).
SPILLING = "-spill"


def run_job(
    system: str, corpus: Path, workdir: Path, workers: int, progress: bool
) -> dict[str, Any]:
    """Run one system on one corpus in this process; save labels; return measurements."""
    from clusterer import ClusterConfig, _spill, cluster, read_articles
    from clusterer.output import write_assignments

    out = workdir / f"{system}.jsonl"
    labels: dict[str, np.ndarray] = {}
    with RssSampler() as rss:

        def stage_done(stage: str, done: int, total: int | None) -> None:
            # each stage's peak RSS: the span since the previous stage ended
            if total is not None and done >= total:
                rss.mark(stage)
            if progress:
                _progress(stage, done, total)

        t0 = time.perf_counter()
        if system.startswith("ours"):
            config = ClusterConfig(workers=workers)
            if system.endswith(SPILLING):
                # warm-up only: small batches and no memory budget, so that the spill
                # path (which only corpora of several batches take) runs, and numba
                # compiles its kernels now rather than inside the first large run
                config = config.replace(batch_size=100)
                _spill.HOLD_BYTES = 0
            result = cluster(
                read_articles([corpus]),
                config,
                duplicates_only=system.removesuffix(SPILLING) == "ours-dup",
                progress=stage_done,
            )
            tw = time.perf_counter()
            write_assignments(result, out, "jsonl")
            rss.mark("write")
            timings = {**result.timings, "write": time.perf_counter() - tw}
            cpu = dict(result.cpu_timings)
            labels["dup"] = np.array([a.duplicate_group_id for a in result.assignments])
            table = result.link_table
            if table is not None:
                k = table.kind == 0
                labels["pairs"] = np.stack((table.left[k], table.right[k]))
            labels["story"] = np.array([a.story_id for a in result.assignments])
        else:
            from .baselines import datasketch_pass

            way = "documented" if system == "ds-doc" else "bulk"
            groups, timings, pairs = datasketch_pass(read_articles([corpus]), out, way=way)
            labels["dup"] = groups
            labels["pairs"] = pairs
            cpu = {}
        seconds = time.perf_counter() - t0
    np.savez(workdir / f"{system}.npz", **labels)  # type: ignore[arg-type]
    return {
        "system": system,
        "seconds": seconds,
        "stages": timings,
        "stages_cpu": cpu,
        "stages_peak_rss_mb": {k: v / 2**20 for k, v in rss.spans.items()},
        "peak_rss_mb": rss.peak / 2**20,
        "output_mb": out.stat().st_size / 2**20,
    }


def _spawn(
    system: str, corpus: Path, workdir: Path, workers: int, progress: bool
) -> dict[str, Any]:
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.run",
        "--job",
        system,
        "--corpus",
        str(corpus),
        "--workdir",
        str(workdir),
        "--workers",
        str(workers),
    ]
    if progress:
        cmd.append("--progress")
    load = os.getloadavg()[0]
    # With progress the child's stderr (its progress lines) goes straight to ours.
    done = subprocess.run(
        cmd,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=None if progress else subprocess.PIPE,
        text=True,
        check=False,
    )
    if done.returncode and done.stderr:
        sys.stderr.write(done.stderr)
    if done.returncode:
        raise RuntimeError(f"{system} failed on {corpus}")
    res: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    res["load_before"] = round(load, 2)
    res["load_after"] = round(os.getloadavg()[0], 2)
    return res
