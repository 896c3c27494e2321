"""Clustering quality on labelled news sets, at default settings or over a grid.

Usage::

    python -m benchmarks.quality                       # every labelled set, default settings
    python -m benchmarks.quality --data DIR            # sets under DIR instead of ../shared/data
    python -m benchmarks.quality --sweep story_threshold=0.1,0.15,0.2 title_weight=2,3

A data set is a directory under the data root holding ``*.jsonl`` files whose records
carry a gold story label in ``cluster``; directories without labels are skipped with a
printed line. The default run appends one JSON line per set to
``benchmarks/results/quality.json`` and rewrites the table between
``<!-- quality:start -->`` and ``<!-- quality:end -->`` in README.md (nothing else in
the README is touched). A sweep only prints. The data are never copied into the repo.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import subprocess
import sys
import time
import typing
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from clusterer import Article, ClusterConfig, ClustererError, read_articles
from clusterer.evaluate import Scores, evaluate

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO.parent / "shared" / "data"
RESULTS = REPO / "benchmarks" / "results" / "quality.json"
README = REPO / "README.md"
START, END = "<!-- quality:start -->", "<!-- quality:end -->"
GOLD_FIELD = "cluster"
#: Labelled sets the README table is expected to show (others found are run too).
EXPECTED = ("giveme5w1h_news_cluster", "basil_triplets")

COLUMNS = (
    ("dataset", "dataset"),
    ("articles", "articles"),
    ("gold_clusters", "gold clusters"),
    ("predicted_clusters", "predicted clusters"),
    ("bcubed_precision", "B³ P"),
    ("bcubed_recall", "B³ R"),
    ("bcubed_f1", "B³ F1"),
    ("pairwise_precision", "pair P"),
    ("pairwise_recall", "pair R"),
    ("pairwise_f1", "pair F1"),
    ("ari", "ARI"),
    ("nmi", "NMI"),
    ("seconds", "seconds"),
    ("commit", "commit"),
)


@dataclass(frozen=True)
class Dataset:
    """A labelled set: its name and JSONL files."""

    name: str
    files: tuple[Path, ...]


def find_datasets(root: Path) -> tuple[list[Dataset], list[str]]:
    """Return the labelled sets under ``root`` and a message for each one skipped.

    Parameters
    ----------
    root : Path
        Directory holding one sub-directory per data set.

    Returns
    -------
    datasets : list of Dataset
        Sets with at least one gold label, in name order.
    skipped : list of str
        One line per expected set that is absent and per set without labels.
    """
    found: list[Dataset] = []
    skipped: list[str] = []
    dirs = sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    names = {d.name for d in dirs}
    skipped += [f"skip {n}: not found under {root}" for n in EXPECTED if n not in names]
    for d in dirs:
        files = tuple(sorted(d.glob("*.jsonl")))
        if not files:
            skipped.append(f"skip {d.name}: no .jsonl file in {d}")
        elif not any(_has_labels(f) for f in files):
            skipped.append(f"skip {d.name}: no record has a {GOLD_FIELD!r} label")
        else:
            found.append(Dataset(d.name, files))
    return found, skipped


def _has_labels(path: Path) -> bool:
    """Scan raw lines until one record carries a gold label."""
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if f'"{GOLD_FIELD}"' not in line:
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(record, dict) and record.get(GOLD_FIELD) is not None:
                return True
    return False


def load(dataset: Dataset) -> list[Article]:
    """Read every article of a set (rejecting nothing: the sets are clean)."""
    return list(read_articles(list(dataset.files)))


def run_one(name: str, articles: Sequence[Article], config: ClusterConfig) -> dict[str, Any]:
    """Cluster one set and return its table row (without commit and machine)."""
    start = time.perf_counter()
    scores, _ = evaluate(articles, GOLD_FIELD, config)
    seconds = time.perf_counter() - start
    return row(name, scores, seconds)


def row(name: str, scores: Scores, seconds: float) -> dict[str, Any]:
    """Flatten scores into a result row."""
    s = scores.to_dict()
    return {
        "dataset": name,
        "articles": s["n_articles"],
        "gold_clusters": s["n_clusters_gold"],
        "predicted_clusters": s["n_clusters_predicted"],
        **{k: round(s[k], 4) for k in _METRICS},
        "largest_predicted": s["largest_predicted"],
        "largest_gold": s["largest_gold"],
        "seconds": round(seconds, 3),
    }


_METRICS = (
    "bcubed_precision",
    "bcubed_recall",
    "bcubed_f1",
    "pairwise_precision",
    "pairwise_recall",
    "pairwise_f1",
    "ari",
    "nmi",
)


def commit() -> str:
    """Short commit of the repo, with ``+dirty`` when clusterer/ has local changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "clusterer"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def machine() -> str:
    """Describe the machine: CPU model, cores, OS, Python."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} CPUs, {platform.system()} {platform.machine()}, "
        f"Python {platform.python_version()}"
    )


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 100 else f"{value:.1f}"
    return str(value)


def markdown(rows: Sequence[dict[str, Any]], columns: Sequence[tuple[str, str]]) -> str:
    """Render rows as a GitHub markdown table."""
    head = "| " + " | ".join(title for _, title in columns) + " |"
    rule = (
        "|"
        + "|".join("---" if k in ("dataset", "commit", "settings") else "--:" for k, _ in columns)
        + "|"
    )
    body = ["| " + " | ".join(_cell(r.get(k, "")) for k, _ in columns) + " |" for r in rows]
    return "\n".join([head, rule, *body])


def plain(rows: Sequence[dict[str, Any]], columns: Sequence[tuple[str, str]]) -> str:
    """Render rows as an aligned text table for the terminal."""
    cells = [[title for _, title in columns]]
    cells += [[_cell(r.get(k, "")) for k, _ in columns] for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(columns))]
    lines = [
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(line, widths, strict=True))
        )
        for line in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def update_readme(table: str, readme: Path = README) -> bool:
    """Replace the text between the quality markers of the README.

    Returns
    -------
    bool
        False (and nothing written) when the README or a marker is missing.
    """
    if not readme.is_file():
        return False
    text = readme.read_text(encoding="utf-8")
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        return False
    block = f"{START}\n{table}\n{END}"
    new = text[:start] + block + text[end + len(END) :]
    if new != text:
        readme.write_text(new, encoding="utf-8")
    return True


def parse_sweep(items: Sequence[str]) -> list[dict[str, Any]]:
    """Turn ``name=v1,v2`` items into the grid of settings (their cartesian product).

    Values take the type of the ClusterConfig field; ``none`` gives None where allowed.

    Raises
    ------
    SystemExit
        With a message, for an unknown parameter or a malformed item.
    """
    hints = typing.get_type_hints(ClusterConfig)
    known = {f.name for f in fields(ClusterConfig)}
    axes: list[list[tuple[str, Any]]] = []
    for item in items:
        name, sep, values = item.partition("=")
        name = name.strip().replace("-", "_")
        if not sep or not values:
            raise SystemExit(f"--sweep: expected name=v1,v2,... Got {item!r}.")
        if name not in known:
            raise SystemExit(
                f"--sweep: unknown parameter {name!r}. Known: {', '.join(sorted(known))}."
            )
        axes.append([(name, _convert(v.strip(), hints[name], name)) for v in values.split(",")])
    return [dict(combo) for combo in itertools.product(*axes)]


def _convert(text: str, hint: Any, name: str) -> Any:
    args = typing.get_args(hint) or (hint,)
    if text.lower() in ("none", "off") and type(None) in args:
        return None
    for kind in (int, float):
        if kind in args:
            try:
                return kind(text)
            except ValueError:
                if kind is int and float in args:
                    continue
                raise SystemExit(f"--sweep: {name}={text!r} is not {kind.__name__}.") from None
    return text


def main(argv: Sequence[str] | None = None) -> int:
    """Run the quality benchmark; return the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.quality", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=DEFAULT_DATA,
        help=f"directory of labelled sets (default {DEFAULT_DATA})",
    )
    parser.add_argument(
        "--sweep",
        nargs="+",
        metavar="NAME=V1,V2",
        help="evaluate the grid of these ClusterConfig settings; print only",
    )
    parser.add_argument(
        "--no-write",
        action="store_true",
        help="print the table without writing results or the README",
    )
    args = parser.parse_args(argv)

    grid = parse_sweep(args.sweep) if args.sweep else [{}]
    try:
        configs = [ClusterConfig().replace(**settings) for settings in grid]
    except ClustererError as error:
        raise SystemExit(f"--sweep: {error}") from None
    datasets, skipped = find_datasets(args.data)
    for line in skipped:
        print(line)
    if not datasets:
        print(f"no labelled data set under {args.data}; nothing to do")
        return 1

    rev = commit()
    rows: list[dict[str, Any]] = []
    for dataset in datasets:
        articles = load(dataset)
        for settings, config in zip(grid, configs, strict=True):
            r = run_one(dataset.name, articles, config)
            r["commit"] = rev
            r["settings"] = _label(settings)
            rows.append(r)
            sys.stdout.flush()
            print(
                f"{dataset.name} [{r['settings']}]: B³ F1 {r['bcubed_f1']:.3f}, "
                f"pair F1 {r['pairwise_f1']:.3f}, {r['seconds']:.2f} s",
                file=sys.stderr,
            )

    if args.sweep:
        _report_sweep(rows, grid)
        return 0
    print(plain(rows, COLUMNS))
    if not args.no_write:
        _write(rows, rev)
    return 0


def _label(settings: dict[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in settings.items()) or "defaults"


def _report_sweep(rows: list[dict[str, Any]], grid: list[dict[str, Any]]) -> None:
    columns = [("dataset", "dataset"), ("settings", "settings")]
    columns += [
        c for c in COLUMNS if c[0] not in ("dataset", "articles", "gold_clusters", "commit")
    ]
    print(plain(rows, columns))
    # Mean over data sets per setting, best first by B-cubed F1: the tuning summary.
    summary = []
    for settings in grid:
        label = _label(settings)
        mine = [r for r in rows if r["settings"] == label]
        summary.append(
            {
                "settings": label,
                **{
                    k: sum(r[k] for r in mine) / len(mine)
                    for k in ("bcubed_f1", "pairwise_f1", "ari", "nmi")
                },
            }
        )
    summary.sort(key=lambda r: -float(r["bcubed_f1"]))
    print()
    print("mean over data sets, best B³ F1 first:")
    print(
        plain(
            summary,
            [
                ("settings", "settings"),
                ("bcubed_f1", "B³ F1"),
                ("pairwise_f1", "pair F1"),
                ("ari", "ARI"),
                ("nmi", "NMI"),
            ],
        )
    )


def _write(rows: list[dict[str, Any]], rev: str) -> None:
    stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
    host = machine()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with RESULTS.open("a", encoding="utf-8") as out:
        for r in rows:
            record = {
                **r,
                "commit": rev,
                "machine": host,
                "date": stamp,
                "config": ClusterConfig().to_dict(),
            }
            record.pop("settings", None)
            out.write(json.dumps(record) + "\n")
    print(f"appended {len(rows)} line(s) to {RESULTS.relative_to(REPO)}")
    table = markdown(rows, COLUMNS)
    note = (
        f"\n\nDefault settings; {host}; {stamp[:10]}. "
        "Regenerate with `python -m benchmarks.quality`."
    )
    if update_readme(table + note):
        print(f"updated the quality table in {README.relative_to(REPO)}")
    else:
        why = "has no" if README.is_file() else "does not exist, so it has no"
        print(f"README.md {why} {START} ... {END} markers; the table was not inserted:")
        print()
        print(table + note)


if __name__ == "__main__":
    sys.exit(main())
