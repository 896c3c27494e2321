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
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .measure import REPO, RssSampler, machine_info
from .synth import write_corpus

DATA = REPO / "benchmarks" / "data"
RESULTS = REPO / "benchmarks" / "results"
REAL = {"reuters21578": REPO.parent / "shared" / "data" / "reuters21578" / "reuters21578.jsonl"}
STAGES = (
    "read",
    "normalise",
    "tokenise",
    "shingle_sign",
    "terms",
    "band_verify",
    "duplicate_groups",
    "tfidf",
    "story_candidates",
    "story_similarity",
    "link",
    "assemble",
    "write",
)


@dataclass(frozen=True)
class Profile:
    """Sizes and baseline limits of one benchmark profile."""

    sizes: tuple[int, ...]
    real: tuple[str, ...]
    doc_max: int
    bulk_max: int
    progress: bool


PROFILES = {
    "smoke": Profile((1000, 8000), (), 1000, 8000, False),
    "regular": Profile((10000, 30000, 100000), ("reuters21578",), 10000, 100000, False),
    # At 1M the datasketch passes would take longer than the whole profile: their cost
    # per article is taken from the latest run that measured them (and marked so).
    "large": Profile((100000, 1000000), (), 0, 0, True),
}


# --------------------------------------------------------------------------- child jobs


def _progress(stage: str, done: int, total: int | None) -> None:
    print(
        f"\r  {stage}: {done:,} articles" + (" done\n" if total else ""),
        end="",
        file=sys.stderr,
        flush=True,
    )


def run_job(
    system: str, corpus: Path, workdir: Path, workers: int, progress: bool
) -> dict[str, Any]:
    """Run one system on one corpus in this process; save labels; return measurements."""
    from clusterer import ClusterConfig, cluster, read_articles
    from clusterer.output import write_assignments

    out = workdir / f"{system}.jsonl"
    labels: dict[str, np.ndarray] = {}
    with RssSampler() as rss:
        t0 = time.perf_counter()
        if system.startswith("ours"):
            config = ClusterConfig(workers=workers)
            result = cluster(
                read_articles([corpus]),
                config,
                duplicates_only=system == "ours-dup",
                progress=_progress if progress else None,
            )
            tw = time.perf_counter()
            write_assignments(result, out, "jsonl")
            timings = {**result.timings, "write": time.perf_counter() - tw}
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
        seconds = time.perf_counter() - t0
    np.savez(workdir / f"{system}.npz", **labels)  # type: ignore[arg-type]
    return {
        "system": system,
        "seconds": seconds,
        "stages": timings,
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
        cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=None if progress else subprocess.PIPE,
        text=True, check=False,
    )
    if done.returncode and done.stderr:
        sys.stderr.write(done.stderr)
    if done.returncode:
        raise RuntimeError(f"{system} failed on {corpus}")
    res: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    res["load_before"] = round(load, 2)
    res["load_after"] = round(os.getloadavg()[0], 2)
    return res


# --------------------------------------------------------------------------- quality


def _truth(corpus: Path) -> tuple[list[str], np.ndarray | None]:
    import orjson

    ids: list[str] = []
    gold: list[str] = []
    with open(corpus, "rb") as fh:
        for line in fh:
            if line.strip():
                rec = orjson.loads(line)
                ids.append(str(rec.get("id")))
                label = rec.get("cluster")
                gold.append("" if label is None else str(label))
    if not any(gold):
        return ids, None  # no story truth (e.g. Reuters-21578)
    _, codes = np.unique(np.array(gold, dtype=object).astype(str), return_inverse=True)
    return ids, codes.astype(np.int64)


def _group_pairs(
    labels: np.ndarray, cap: int = 200, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """All pairs within each group (groups above ``cap`` members: a random sample)."""
    rng = np.random.default_rng(seed)
    order = np.argsort(labels, kind="stable")
    sizes = np.bincount(labels)
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    ls, rs = [], []
    small = np.flatnonzero((sizes >= 2) & (sizes <= cap))
    for size in np.unique(sizes[small]):
        groups = small[sizes[small] == size]
        iu, ju = np.triu_indices(int(size), 1)
        base = order[starts[groups][:, None] + np.arange(size)[None, :]]
        ls.append(base[:, iu].ravel())
        rs.append(base[:, ju].ravel())
    for g in np.flatnonzero(sizes > cap):
        members = order[starts[g] : starts[g] + sizes[g]]
        a, b = rng.choice(members, 20000), rng.choice(members, 20000)
        ls.append(a)
        rs.append(b)
    if not ls:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    left, right = np.concatenate(ls), np.concatenate(rs)
    keep = left != right
    return np.minimum(left, right)[keep], np.maximum(left, right)[keep]


def quality(
    corpus: Path, workdir: Path, systems: list[str], sample: int = 300000
) -> dict[str, Any]:
    """Near-duplicate recall/precision against exact Jaccard, S-curves, story scores."""
    from clusterer import ClusterConfig, read_articles
    from clusterer._kernels import jaccard_pairs
    from clusterer.evaluate import score
    from clusterer.signatures import Features, featurize

    config = ClusterConfig(workers=os.cpu_count() or 1)
    ids, gold = _truth(corpus)
    n = len(ids)
    ptrs, vals = [np.zeros(1, np.int64)], []
    titles: list[str] = []
    texts: list[str] = []
    offset = 0

    def flush() -> None:
        nonlocal offset, titles, texts
        f: Features = featurize(titles, texts, config)
        ptrs.append(f.shingle_ptr[1:] + offset)
        offset += int(f.shingle_ptr[-1])
        vals.append(f.shingles)
        titles, texts = [], []

    for art in read_articles([corpus]):
        titles.append(art.title)
        texts.append(art.text)
        if len(texts) >= config.batch_size:
            flush()
    if texts:
        flush()
    ptr, shingles = np.concatenate(ptrs), np.concatenate(vals)
    labels = {s: np.load(workdir / f"{s}.npz") for s in systems}
    rng = np.random.default_rng(1)
    a, b = rng.integers(0, n, sample), rng.integers(0, n, sample)
    parts_l, parts_r = [np.minimum(a, b)[a != b]], [np.maximum(a, b)[a != b]]
    if gold is not None:
        gl, gr = _group_pairs(gold)
        parts_l.append(gl)
        parts_r.append(gr)
    unbiased = (np.concatenate(parts_l), np.concatenate(parts_r))
    for s in systems:
        sl, sr = _group_pairs(labels[s]["dup"])
        parts_l.append(sl)
        parts_r.append(sr)
    code = np.unique(np.concatenate(parts_l) * n + np.concatenate(parts_r))
    left, right = code // n, code % n
    jac = np.asarray(jaccard_pairs(ptr, shingles, left, right))
    true = jac >= config.duplicate_threshold
    ucode = np.unique(unbiased[0] * n + unbiased[1])
    in_unbiased = np.isin(code, ucode)
    bins = np.linspace(0, 1, 21)
    which = np.clip(np.digitize(jac, bins) - 1, 0, 19)
    out: dict[str, Any] = {"pairs_checked": int(code.size), "true_pairs": int(true.sum())}
    for s in systems:
        dup = labels[s]["dup"]
        same = dup[left] == dup[right]
        co = _group_pairs(dup)
        co_code = np.unique(co[0] * n + co[1])
        found_true = int((same & true).sum())
        declared = labels[s]["pairs"] if "pairs" in labels[s] else np.zeros((2, 0), np.int64)
        d_code = np.unique(np.minimum(*declared) * n + np.maximum(*declared))
        d_jac = np.asarray(jaccard_pairs(ptr, shingles, d_code // n, d_code % n))
        q: dict[str, Any] = {
            "dup_recall": found_true / max(int(true.sum()), 1),
            # Declared pairs: our verified links / datasketch's LSH query results.
            "dup_precision": float((d_jac >= config.duplicate_threshold).mean())
            if d_code.size
            else 1.0,
            # Every pair inside one reported group (transitive closure of the links).
            "group_pair_precision": float(np.isin(co_code, code[true]).mean())
            if co_code.size
            else 1.0,
            "dup_groups": int(np.unique(dup).size),
        }
        curve = []
        for k in range(20):
            m = in_unbiased & (which == k)
            curve.append([float(bins[k]), int(m.sum()), float(same[m].mean()) if m.any() else None])
        q["scurve"] = curve
        if gold is not None and "story" in labels[s]:
            sc = score(labels[s]["story"].tolist(), gold.tolist())
            q.update(
                story_bcubed_f1=sc.bcubed_f1,
                story_pairwise_f1=sc.pairwise_f1,
                story_bcubed_p=sc.bcubed_precision,
                story_bcubed_r=sc.bcubed_recall,
            )
        out[s] = q
    return out


# --------------------------------------------------------------------------- the run


def corpus_for(n: int, seed: int) -> Path:
    """Return the synthetic corpus of ``n`` articles, generating it once."""
    path = DATA / f"synth-{n}-s{seed}.jsonl"
    if not path.exists():
        t = time.perf_counter()
        print(f"generating {n:,} articles -> {path}", file=sys.stderr, flush=True)
        write_corpus(n, path, seed)
        print(f"  {time.perf_counter() - t:.1f} s", file=sys.stderr, flush=True)
    return path


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
            print(f"[{name} n={n:,}] {s} ...", file=sys.stderr, flush=True)
            r = _spawn(s, corpus, work, workers, prof.progress)
            print(
                f"  {r['seconds']:.2f} s, peak {r['peak_rss_mb']:.0f} MB",
                file=sys.stderr,
                flush=True,
            )
            records.append(r)
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
    records: list[dict[str, Any]] = []
    limits = _measured_costs(RESULTS / "bench.jsonl")
    for n in sizes:
        records += bench_corpus(
            f"synth-{n}", corpus_for(n, args.seed), prof, args.workers, limits, base
        )
    for name in prof.real:
        if REAL[name].exists():
            records += bench_corpus(name, REAL[name], prof, args.workers, {}, base)
    from .report import render, update_readme

    text = render(records)
    print(text)
    print(f"total {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    if not args.no_write:
        RESULTS.mkdir(parents=True, exist_ok=True)
        with open(RESULTS / "bench.jsonl", "a", encoding="utf-8") as fh:
            for r in records:
                fh.write(json.dumps(r, default=_jsonable) + "\n")
        from .plots import plot_all

        plot_all(RESULTS / "bench.jsonl", RESULTS)
        update_readme(REPO / "README.md", RESULTS / "bench.jsonl")
    return 0


def _jsonable(x: Any) -> Any:
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, float) and math.isnan(x):
        return None
    raise TypeError(type(x))


if __name__ == "__main__":
    raise SystemExit(main())
