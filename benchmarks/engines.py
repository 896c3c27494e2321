"""Local engine against the Dask engine on one machine: wall time, peak memory, same output.

Usage (each run in its own process, so peak memory is per run)::

    python -m benchmarks.synth 1000000 data/synth-1m.jsonl --seed 7
    python -m benchmarks.engines data/synth-1m.jsonl --engine local --record
    python -m benchmarks.engines data/synth-1m.jsonl --engine dask --workers 2 \
        --partitions 16 --memory-limit 5.5GiB --expect DIGEST --record

Prints one JSON line: engine, partitions, seconds, stage timings, peak RSS of the client
and of each worker (MiB), load average, and a digest of the partition (story and
duplicate-group id per article, in input order). ``--expect`` takes the local run's
digest and exits with status 1 when the partition differs (``"equal"`` in the line);
``--record`` appends the line to ``benchmarks/results/engines.jsonl``.

``--output DIR`` has the rows written by partition (by the workers with ``--engine dask``)
and the digest read back from the parts; ``--stories FILE`` writes the story summary too;
``--on-duplicate-id first|rename`` applies that policy to repeated ids.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .measure import machine_info

RESULTS = Path(__file__).resolve().parent / "results" / "engines.jsonl"


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main(argv: list[str] | None = None) -> int:
    """Run one engine over a corpus and print the measurements as JSON."""
    from clusterer import Clustering
    from clusterer.engines import ReadOptions, cluster_partitioned

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("paths", nargs="+")
    ap.add_argument("--engine", default="local", choices=["local", "dask"])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--partitions", type=int, default=None)
    ap.add_argument("--memory-limit", default="0", help="per worker, e.g. 5.5GiB (0: none)")
    ap.add_argument("--out", default=None, help="also write the digest input (ids and labels)")
    ap.add_argument("--expect", default=None, help="digest of the reference (local) run")
    ap.add_argument("--record", action="store_true", help=f"append the line to {RESULTS.name}")
    ap.add_argument("--output", default=None, help="write rows here (a directory of parts)")
    ap.add_argument("--stories", default=None, help="write the story summary here")
    ap.add_argument("--on-duplicate-id", default="error", choices=["error", "first", "rename"])
    args = ap.parse_args(argv)
    load_before = [round(x, 2) for x in os.getloadavg()]
    t = time.perf_counter()
    client: Any = None
    cluster: Any = None
    if args.engine == "dask":
        import distributed

        cluster = distributed.LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=args.workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            memory_limit=args.memory_limit,
        )
        client = distributed.Client(cluster)  # type: ignore[no-untyped-call]
    start = time.perf_counter()
    outcome = cluster_partitioned(
        args.paths,
        engine=args.engine,
        partitions=args.partitions,
        client=client,
        output=args.output,
        stories=args.stories,
        options=ReadOptions(on_duplicate_id=args.on_duplicate_id),
    )
    seconds = time.perf_counter() - start
    client_peak = _peak_mib()  # before the parts are read back for the digest
    workers: list[float] = []
    if client is not None:
        workers = sorted(client.run(_peak_mib).values())
        client.close()
        cluster.close()
    if isinstance(outcome, Clustering):
        result = outcome
        rows = [(a.id, a.story_id, a.duplicate_group_id) for a in result.assignments]
    else:
        result = Clustering((), (), (), rejects=outcome.rejects, timings=outcome.timings)
        rows = [(a.id, a.story_id, a.duplicate_group_id) for a in _read_parts(outcome.files)]
    kinds = result.link_table.kind if result.link_table is not None else np.zeros(0)
    digest = hashlib.sha256()
    lines = []
    for row in rows:
        line = "\t".join(map(str, row)) + "\n"
        digest.update(line.encode())
        if args.out:
            lines.append(line)
    if args.out:
        with open(args.out, "w") as f:
            f.writelines(lines)
    record: dict[str, Any] = {
        "engine": args.engine,
        "articles": len(rows),
        "rejects": len(result.rejects),
        "on_duplicate_id": args.on_duplicate_id,
        "stories_file": args.stories is not None,
        "output_by_partition": args.output is not None,
        "partitions": args.partitions,
        "workers": args.workers if args.engine == "dask" else 1,
        "seconds": round(seconds, 2),
        "seconds_with_cluster_start": round(time.perf_counter() - t, 2),
        "stages": {k: round(v, 2) for k, v in result.timings.items()},
        "peak_rss_mib_client": round(client_peak),
        "peak_rss_mib_workers": [round(w) for w in workers],
        "stories": len(result.stories) if isinstance(outcome, Clustering) else outcome.stories,
        "duplicate_groups": (
            len(result.duplicate_groups)
            if isinstance(outcome, Clustering)
            else outcome.duplicate_groups
        ),
        # Edge lists: what the client holds per article besides a few labels.
        "duplicate_edges": int((kinds == 0).sum()),
        "story_edges": int((kinds == 1).sum()),
        "digest": digest.hexdigest()[:16],
        "memory_limit": args.memory_limit if args.engine == "dask" else None,
        "corpus": Path(args.paths[0]).name,
        **machine_info(),
        "load_before": load_before,
    }
    if args.expect is not None:
        record["equal"] = record["digest"] == args.expect
    line = json.dumps(record) + "\n"
    sys.stdout.write(line)
    if args.record:
        with open(RESULTS, "a", encoding="utf-8") as f:
            f.write(line)
    return 0 if record.get("equal", True) else 1


def _read_parts(files: Sequence[str]) -> Iterator[Any]:
    """Yield the assignment rows of JSON Lines parts, in order."""
    from clusterer.output import read_assignments

    for f in files:
        yield from read_assignments(f)


if __name__ == "__main__":
    raise SystemExit(main())
