"""Reporting for the quality benchmark: result tables, provenance, the README block.

Tables render as GitHub markdown or aligned terminal text; :func:`update_readme`
rewrites only the text between ``<!-- quality:start -->`` and ``<!-- quality:end -->``.
Re-exported by :mod:`benchmarks.quality`.
"""

from __future__ import annotations

import os
import platform
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
START, END = "<!-- quality:start -->", "<!-- quality:end -->"

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
