"""PNG plots of the benchmark results: throughput and peak memory against N, LSH S-curve."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["plot_all"]

_STYLE = {"ours": "o-", "ours-dup": "s-", "ds-bulk": "^--", "ds-doc": "v:"}


def _latest(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    latest: dict[tuple[str, str, str], dict[str, Any]] = {}
    for r in rows:
        if r["corpus"].startswith("synth"):
            latest[(r["profile"], r["corpus"], r["system"])] = r
    return list(latest.values())


def plot_all(results: Path, out_dir: Path) -> list[Path]:
    """Draw throughput.png, memory.png and scurve.png from a results file."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = _latest(results)
    written = []
    for name, key, label in (
        ("throughput", "articles_per_s", "articles / s"),
        ("memory", "peak_rss_mb", "peak RSS (MB)"),
    ):
        fig, ax = plt.subplots(figsize=(6, 4))
        for system, style in _STYLE.items():
            pts = sorted(
                {
                    r["n"]: r
                    for r in rows
                    if r["system"] == system and key in r and not r.get("extrapolated")
                }.values(),
                key=lambda r: r["n"],
            )
            if pts:
                ax.plot([r["n"] for r in pts], [r[key] for r in pts], style, label=system)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("articles")
        ax.set_ylabel(label)
        ax.legend()
        ax.grid(True, which="both", alpha=0.3)
        fig.tight_layout()
        path = out_dir / f"{name}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    fig, ax = plt.subplots(figsize=(6, 4))
    for system, style in _STYLE.items():
        pts = [r for r in rows if r["system"] == system and "scurve" in r]
        if pts:
            r = max(pts, key=lambda r: r["n"])
            xs = [b[0] + 0.025 for b in r["scurve"] if b[2] is not None]
            ys = [b[2] for b in r["scurve"] if b[2] is not None]
            ax.plot(xs, ys, style, label=f"{system} (n={r['n']:,})")
    ax.axvline(0.7, color="grey", lw=0.8)
    ax.set_xlabel("exact Jaccard of shingle sets")
    ax.set_ylabel("share of pairs put in one duplicate group")
    ax.legend()
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    path = out_dir / "scurve.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    written.append(path)
    return written
