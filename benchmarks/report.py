"""Text report of a benchmark run: main table, ratios, per-stage costs, growth exponents."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

__all__ = ["growth", "profile_order", "render", "replace_between", "update_readme"]

START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def _get(records: Sequence[dict[str, Any]], corpus: str, system: str) -> dict[str, Any] | None:
    for r in records:
        if r["corpus"] == corpus and r["system"] == system:
            return r
    return None


def _s(r: dict[str, Any] | None) -> str:
    if r is None:
        return "-"
    return f"{r['seconds']:.1f}" + ("*" if r.get("extrapolated") else "")


#: Stages of the featurising phase: they run interleaved, batch by batch, so their
#: peak RSS is the phase's (``featurise`` in ``stages_peak_rss_mb``).
_FEATURISE = frozenset({"read", "normalise", "tokenise", "shingle_sign", "terms", "spill"})


def _mark(exponent: float | None, noisy: bool) -> str:
    """``~`` after an exponent measured on a stage too short to time well."""
    return "~" if noisy and exponent is not None else ""


def _f(x: Any, fmt: str = ".3f") -> str:
    return "-" if x is None else format(x, fmt)


def _pp(r: dict[str, Any] | None) -> str:
    if r is None or "dup_precision" not in r:
        return "-"
    return f"{r['dup_precision']:.3f} / {r['group_pair_precision']:.3f}"


#: Stages under this many seconds at the smaller size get their exponent marked: there
#: a few milliseconds of timer and scheduling noise move it by 0.1 or more.
NOISE_S = 0.05


def _ends(
    records: Sequence[dict[str, Any]], system: str
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """Return the smallest and largest measured synthetic run of ``system`` (None if < 2)."""
    rs = sorted(
        (
            r
            for r in records
            if r["system"] == system
            and r["corpus"].startswith("synth")
            and not r.get("extrapolated")
        ),
        key=lambda r: r["n"],
    )
    return (rs[0], rs[-1]) if len(rs) >= 2 else None


def growth(
    records: Sequence[dict[str, Any]], system: str = "ours", key: str = "stages"
) -> dict[str, float]:
    """Cost growth exponent per stage between the smallest and largest synthetic size.

    ``key="stages_cpu"`` gives the exponents of the stages' CPU seconds (runs that
    recorded them); ``total`` is always the wall-clock run.
    """
    ends = _ends(records, system)
    if ends is None:
        return {}
    lo, hi = ends
    ratio = math.log(hi["n"] / lo["n"])
    out = {"total": math.log(hi["seconds"] / lo["seconds"]) / ratio}
    for k, v in hi.get(key, {}).items():
        v0 = lo.get(key, {}).get(k, 0.0)
        if v0 > 0 and v > 0:
            out[k] = math.log(v / v0) / ratio
    return out


def noisy_stages(
    records: Sequence[dict[str, Any]], system: str = "ours", key: str = "stages"
) -> set[str]:
    """Stages that took under :data:`NOISE_S` seconds at the smallest synthetic size."""
    ends = _ends(records, system)
    if ends is None:
        return set()
    return {k for k, v in ends[0].get(key, {}).items() if v < NOISE_S}


def render(records: Sequence[dict[str, Any]]) -> str:
    """Markdown table of one run plus ratios, stage costs and exponents."""
    if not records:
        return ""
    r0 = records[0]
    load = r0.get("load", [])
    lines = [
        f"Profile `{r0['profile']}`, commit `{r0['commit']}`, {r0['cpu']}, {r0['cores']} cores, "
        f"{r0['memory_gb']} GiB, workers {r0['workers']}, load average at start "
        f"{', '.join(str(x) for x in load)}; {r0['time']}.",
        "",
        "| corpus | articles | MB | ours full s | ours dup-only s | datasketch bulk s "
        "| datasketch documented s | bulk / dup-only | bulk / full | peak RSS full MB "
        "| dup recall | dup precision (pairs / groups) | bulk recall "
        "| bulk precision (pairs / groups) "
        "| story B³ F1 | story pair F1 | load |",
        "|" + "---|" * 17,
    ]
    corpora = list(dict.fromkeys(r["corpus"] for r in records))
    for c in corpora:
        full, dup = _get(records, c, "ours"), _get(records, c, "ours-dup")
        bulk, doc = _get(records, c, "ds-bulk"), _get(records, c, "ds-doc")
        if full is None or dup is None:
            continue
        rb = f"{bulk['seconds'] / dup['seconds']:.1f}x" if bulk else "-"
        rf = f"{bulk['seconds'] / full['seconds']:.1f}x" if bulk else "-"
        lines.append(
            f"| {c} | {full['n']:,} | {full['corpus_mb']:.0f} | {_s(full)} | {_s(dup)} "
            f"| {_s(bulk)} "
            f"| {_s(doc)} | {rb} | {rf} | {full['peak_rss_mb']:.0f} "
            f"| {_f(full.get('dup_recall'))} | {_pp(full)} "
            f"| {_f(bulk.get('dup_recall') if bulk else None)} | {_pp(bulk)} "
            f"| {_f(full.get('story_bcubed_f1'))} | {_f(full.get('story_pairwise_f1'))} "
            f"| {full.get('load_before', '-')} |"
        )
    lines.append("")
    lines.append(
        "`*` extrapolated linearly from the largest size where the baseline ran. "
        "Near-duplicate truth: exact Jaccard of shingle sets >= 0.7 on every within-story "
        "pair, 300k random pairs and every pair a system grouped. Recall: true pairs put "
        "in one group. Precision: declared pairs (our verified links, datasketch's LSH "
        "results) / all pairs inside reported groups."
    )
    synth = [r for r in records if r["system"] == "ours" and r["corpus"].startswith("synth")]
    if synth:
        big = max(synth, key=lambda r: r["n"])
        dup = _get(records, big["corpus"], "ours-dup")
        runs = big.get("runs")
        each = (
            f", median of {len(runs)} runs ({', '.join(f'{x:.1f}' for x in runs)} s; "
            "every stage and growth exponent from the medians)"
            if runs
            else ""
        )
        lines += [
            "",
            f"Stages at {big['n']:,} articles ({big['corpus_mb']:.0f} MB), full pipeline{each}:",
            "",
            "| stage | s | share | articles/s | MB/s | growth exponent | CPU s "
            "| CPU growth exponent | peak RSS MB |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        g, gc = growth(records), growth(records, key="stages_cpu")
        noisy, noisy_cpu = noisy_stages(records), noisy_stages(records, key="stages_cpu")
        cpu = big.get("stages_cpu", {})
        peaks = big.get("stages_peak_rss_mb", {})
        total = sum(big["stages"].values())
        for k, v in big["stages"].items():
            c = cpu.get(k)
            peak = peaks.get(k, peaks.get("featurise") if k in _FEATURISE else None)
            lines.append(
                f"| {k} | {v:.2f} | {v / total:.0%} | {big['n'] / max(v, 1e-9):,.0f} "
                f"| {big['corpus_mb'] / max(v, 1e-9):,.0f} "
                f"| {_f(g.get(k), '.2f')}{_mark(g.get(k), k in noisy)} | {_f(c, '.2f')} "
                f"| {_f(gc.get(k) if c is not None else None, '.2f')}"
                f"{_mark(gc.get(k) if c is not None else None, k in noisy_cpu)} "
                f"| {_f(peak, ',.0f')} |"
            )
        lines.append(
            f"| **total (wall)** | {big['seconds']:.2f} | | {big['articles_per_s']:,.0f} "
            f"| {big['mb_per_s']:.0f} | {_f(g.get('total'), '.2f')} | | "
            f"| {big['peak_rss_mb']:,.0f} |"
        )
        lines.append(
            "\nGrowth exponents are between the smallest and the largest synthetic corpus of "
            "the run. CPU s: process CPU seconds (all threads) of the stages that run one "
            "after another, steadier than wall time on a shared machine; the targets are "
            "judged on wall time; `~` marks an exponent of a stage that took under "
            f"{NOISE_S:g} s at the smaller size, where a few milliseconds of timer and "
            "scheduling noise move it by 0.1 or more. Peak RSS: the largest resident set "
            "sampled (every 20 ms "
            "and at each stage's end) while the stage ran; read to spill run interleaved "
            "batch by batch, so they share the peak of that phase."
        )
        if dup:
            lines.append(
                f"\nDuplicates-only pass: {dup['seconds']:.2f} s, peak RSS "
                f"{dup['peak_rss_mb']:.0f} MB."
            )
    return "\n".join(lines)


def latest_runs(path: Path) -> dict[str, list[dict[str, Any]]]:
    """Return the records of the latest run of each profile in a results file."""
    runs: dict[str, dict[str, list[dict[str, Any]]]] = {}
    if path.exists():
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    r = json.loads(line)
                    runs.setdefault(r["profile"], {}).setdefault(r["time"], []).append(r)
    return {p: by_time[max(by_time)] for p, by_time in runs.items()}


def profile_order(profiles: Iterable[str]) -> list[str]:
    """Profiles in report order: smoke, regular, large, then any other by name."""
    named = ("smoke", "regular", "large")
    given = set(profiles)
    return [p for p in named if p in given] + sorted(given.difference(named))


def replace_between(readme: Path, start: str, end: str, body: str) -> bool:
    """Replace the text between the ``start`` and ``end`` markers of a file with ``body``.

    Returns False (and leaves the file alone) if the file or its markers are missing.
    """
    if not readme.exists():
        return False
    text = readme.read_text(encoding="utf-8")
    if start not in text or end not in text:
        return False
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    readme.write_text(f"{head}{start}\n{body}\n{end}{tail}", encoding="utf-8")
    return True


def update_readme(readme: Path, results: Path) -> bool:
    """Rewrite the text between the bench markers with the latest run of each profile.

    Returns False (and leaves the file alone) if the README or its markers are missing.
    """
    runs = latest_runs(results)
    body = "\n\n".join(f"### Profile `{p}`\n\n{render(runs[p])}" for p in profile_order(runs))
    return replace_between(readme, START, END, body)
