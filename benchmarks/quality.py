"""Clustering quality on labelled news sets, at default settings or over a grid.

Usage::

    python -m benchmarks.quality                       # every labelled set, default settings
    python -m benchmarks.quality --data DIR            # sets under DIR instead of ../shared/data
    python -m benchmarks.quality --sweep story_threshold=0.1,0.15,0.2 title_weight=2,3
    python -m benchmarks.quality --singletons 0.5      # also each set, half its stories cut to 1
    python -m benchmarks.quality --syndicated 0.4      # also each set, 40% of stories with copies

A data set is a directory under the data root holding ``*.jsonl`` files whose records
carry a gold story label in ``cluster``; directories without labels are skipped with a
printed line. The default run appends one JSON line per set to
``benchmarks/results/quality.json`` and rewrites the table between
``<!-- quality:start -->`` and ``<!-- quality:end -->`` in README.md (nothing else in
the README is touched). A sweep only prints, and so does ``--singletons``: it adds a
variant of each set in which a seeded share of the stories keeps one article, a guard
for precision on lone articles next to stories about similar events (see
:func:`benchmarks.quality_data.thin`); ``--syndicated`` likewise adds a variant in which
a seeded share of the stories also carries edited wire copies of one of its articles, a
guard for recall where tight copies meet independent reports of the same event (see
:func:`benchmarks.quality_data.syndicate`). The data are never copied into the repo.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
import typing
from collections.abc import Sequence
from dataclasses import fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from clusterer import ClusterConfig, ClustererError

from .quality_data import (
    EXPECTED,
    GOLD_FIELD,
    Dataset,
    find_datasets,
    load,
    row,
    run_one,
    syndicate,
    thin,
)
from .quality_report import (
    COLUMNS,
    END,
    README,
    REPO,
    START,
    commit,
    machine,
    markdown,
    plain,
    update_readme,
)

__all__ = [
    "COLUMNS",
    "DEFAULT_DATA",
    "END",
    "EXPECTED",
    "GOLD_FIELD",
    "README",
    "REPO",
    "RESULTS",
    "START",
    "Dataset",
    "commit",
    "find_datasets",
    "load",
    "machine",
    "main",
    "markdown",
    "parse_sweep",
    "plain",
    "row",
    "run_one",
    "syndicate",
    "thin",
    "update_readme",
]

DEFAULT_DATA = REPO.parent / "shared" / "data"
RESULTS = REPO / "benchmarks" / "results" / "quality.json"


def parse_sweep(items: Sequence[str]) -> list[dict[str, Any]]:
    """Turn ``name=v1,v2`` items into the grid of settings (their cartesian product).

    Values take the type of the ClusterConfig field; ``none`` gives None where allowed,
    ``true``/``false`` a bool.

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
    if bool in args:
        if text.lower() in ("true", "on", "yes", "1"):
            return True
        if text.lower() in ("false", "off", "no", "0"):
            return False
        raise SystemExit(f"--sweep: {name}={text!r} is not true or false.")
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
        "--singletons",
        type=_fraction,
        metavar="FRACTION",
        help="also run each set with this share of its stories cut to one article "
        "(seeded); print only",
    )
    parser.add_argument(
        "--syndicated",
        type=_fraction,
        metavar="FRACTION",
        help="also run each set with this share of its stories given 2-6 edited copies "
        "of one article (seeded); print only",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of --singletons and --syndicated (default 0)"
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
    variants = []
    for dataset in datasets:
        articles = load(dataset)
        variants.append((dataset.name, articles))
        if args.singletons is not None:
            name = f"{dataset.name}+singletons{args.singletons:g}"
            variants.append((name, thin(articles, args.singletons, args.seed)))
        if args.syndicated is not None:
            name = f"{dataset.name}+syndicated{args.syndicated:g}"
            variants.append((name, syndicate(articles, args.syndicated, args.seed)))
    rows: list[dict[str, Any]] = []
    for name, articles in variants:
        for settings, config in zip(grid, configs, strict=True):
            r = run_one(name, articles, config)
            r["commit"] = rev
            r["settings"] = _label(settings)
            rows.append(r)
            sys.stdout.flush()
            print(
                f"{name} [{r['settings']}]: B³ F1 {r['bcubed_f1']:.3f}, "
                f"pair F1 {r['pairwise_f1']:.3f}, {r['seconds']:.2f} s",
                file=sys.stderr,
            )

    if args.sweep:
        _report_sweep(rows, grid)
        return 0
    print(plain(rows, COLUMNS))
    if not args.no_write and args.singletons is None and args.syndicated is None:
        _write(rows, rev)
    return 0


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a fraction in [0, 1], got {text!r}")
    return value


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
