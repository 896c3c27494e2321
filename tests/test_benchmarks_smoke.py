"""The benchmark suite: generator truth and determinism, the report, and a smoke run.

Speed targets are never asserted here; the smoke run checks that the suite works end to
end and that the promises about *results* hold (same partition from the compiled and
reference kernels, near-duplicate recall and precision at the threshold).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from benchmarks import run as bench
from benchmarks.report import END, START, growth, render, update_readme
from benchmarks.synth import GENERATOR, SynthConfig, generate, write_corpus
from clusterer import ClusterConfig, cluster, read_articles

pytest.importorskip("datasketch")


def test_generator_is_seeded_and_has_truth(tmp_path: Path) -> None:
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    write_corpus(300, a, seed=5)
    write_corpus(300, b, seed=5)
    assert a.read_bytes() == b.read_bytes()
    recs = [json.loads(line) for line in a.read_text().splitlines()]
    assert len(recs) == 300
    assert {"id", "title", "text", "date", "source", "cluster", "dup_of", "edit"} <= set(recs[0])
    by_id = {r["id"]: r for r in recs}
    for r in recs:
        assert by_id[r["dup_of"]]["cluster"] == r["cluster"]
    sizes = Counter(r["cluster"] for r in recs)
    assert max(sizes.values()) <= 10
    assert len(set(r["edit"] for r in recs)) == 5
    assert [r["id"] for r in generate(50, seed=6)] != [r["id"] for r in generate(50, seed=5)]


def test_pools_grow_above_their_base_size_only() -> None:
    cfg = SynthConfig()
    assert cfg.pools(1000) == cfg.pools(100_000) == (40000, 20000)
    vocab, names = cfg.pools(1_000_000)
    assert vocab == round(40000 * 10**0.46)
    assert names == round(20000 * 10**0.57)
    assert SynthConfig(vocab_growth=0, names_growth=0).pools(1_000_000) == (40000, 20000)
    # below the base size the corpus is the one of fixed pools (generator 1)
    fixed = SynthConfig(vocab_growth=0, names_growth=0)
    assert list(generate(200, seed=3)) == list(generate(200, seed=3, cfg=fixed))


def test_synthetic_partition_same_with_reference_kernel(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    write_corpus(150, path, seed=2)
    fast = cluster(read_articles([path]), ClusterConfig(kernel="numba"))
    slow = cluster(read_articles([path]), ClusterConfig(kernel="numpy"))
    assert [a.story_id for a in fast.assignments] == [a.story_id for a in slow.assignments]
    assert [a.duplicate_group_id for a in fast.assignments] == [
        a.duplicate_group_id for a in slow.assignments
    ]


def test_report_and_readme(tmp_path: Path) -> None:
    base = {
        "profile": "t",
        "commit": "abc",
        "cpu": "cpu",
        "cores": 2,
        "memory_gb": 1,
        "workers": 2,
        "load": [1.0],
        "time": "now",
        "corpus_mb": 1.0,
        "peak_rss_mb": 10.0,
        "articles_per_s": 1.0,
        "mb_per_s": 1.0,
    }
    recs = []
    for n, sec in ((100, 1.0), (1000, 10.0)):
        for system in ("ours", "ours-dup", "ds-bulk"):
            recs.append(
                {
                    **base,
                    "system": system,
                    "corpus": f"synth-{n}",
                    "n": n,
                    "seconds": sec * (30 if system == "ds-bulk" else 1),
                    "stages": {
                        "read": sec / 2,
                        "link": sec / 2,
                        "attach": sec / 500 * (1 + n // 500),
                    },
                    "stages_cpu": {"link": sec * (1.0 if n == 100 else 12.0)},
                }
            )
    assert growth(recs)["total"] == pytest.approx(1.0)
    cpu = growth(recs, key="stages_cpu")
    assert cpu["link"] == pytest.approx(np.log10(120.0))
    assert "read" not in cpu
    text = render(recs)
    assert "| link | 5.00 | 50% | 200 | 0 | 1.00 | 120.00 | 2.08 |" in text
    # attach: 2 ms at 100 articles, 60 ms at 1000: an exponent, marked as noise-prone
    assert growth(recs)["attach"] == pytest.approx(np.log10(30.0))
    assert "| attach | 0.06 | 1% | 16,667 | 17 | 1.48~ | - | - | - |" in text
    assert "30.0x" in text
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\n## Benchmarks\n\n{START}\nold\n{END}\n\n## Next\n")
    results = tmp_path / "bench.jsonl"
    results.write_text("".join(json.dumps(r) + "\n" for r in recs))
    assert update_readme(readme, results)
    body = readme.read_text()
    assert "old" not in body
    assert "synth-1000" in body
    assert body.endswith("## Next\n")


def test_smoke_profile_end_to_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(bench, "DATA", tmp_path)
    monkeypatch.setattr(bench, "RESULTS", tmp_path / "results")
    assert bench.main(["--profile", "smoke", "--sizes", "600", "--no-write"]) == 0
    out = capsys.readouterr().out
    # the story index ran last, on a corpus made big enough for it (600 is not)
    assert "Story index:" in out
    assert "| 2,000 | 500 | " in out
    assert (tmp_path / f"synth-10000-s7-g{GENERATOR}.jsonl").exists()
    assert not (tmp_path / "results").exists()  # --no-write


def test_index_table_and_readme(tmp_path: Path) -> None:
    from benchmarks.index_suite import END as I_END
    from benchmarks.index_suite import START as I_START
    from benchmarks.index_suite import append, render_index, update_readme_index

    def record(profile: str, time: str, add: float) -> dict[str, object]:
        return {
            "profile": profile,
            "time": time,
            "commit": "abc",
            "machine": "x86_64 vm, 2 cores",
            "cpu": "cpu",
            "memory_gb": 1,
            "workers": 0,
            "load": [1.0],
            "load_after": [1.5],
            "n_stored": 100000,
            "batch_size": 1000,
            "add_per_s": add,
            "add_per_s_median_batch": add,
            "add_per_s_batches": [add - 100, add + 100],
            "fill_per_s": 4000.0,
            "query_p50_ms": 4.0,
            "query_p99_ms": 25.0,
            "bytes_per_article": 6500.0,
            "corpus": "synth-1000000-s7.jsonl",
        }

    text = render_index(record("regular", "t1", 5500.0))  # type: ignore[arg-type]
    assert "| 100,000 | 1,000 | 5,500 / 5,500 / 5,400 | 4,000 | 4.0 / 25.0 | 6,500 |" in text
    assert text.endswith("| met | **not met** |")
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\n{I_START}\nold\n{I_END}\n\n## Next\n")
    results = tmp_path / "index.jsonl"
    append(results, {"n_stored": 5, "add_per_s": 1.0})  # a hand run: no profile, skipped
    append(results, record("regular", "t1", 5500.0))
    append(results, record("regular", "t2", 4500.0))  # the latest run of the profile wins
    assert update_readme_index(readme, results)
    body = readme.read_text()
    assert "old" not in body
    assert "4,500 / 4,500 / 4,400" in body
    assert "5,500" not in body
    assert "| **not met** | **not met** |" in body
    assert body.endswith("## Next\n")


def test_quality_promises_on_small_corpus(tmp_path: Path) -> None:

    path = tmp_path / "q.jsonl"
    write_corpus(600, path, seed=3)
    work = tmp_path / "w"
    work.mkdir()
    res = bench.run_job("ours", path, work, 2, False)
    assert res["seconds"] > 0
    assert res["peak_rss_mb"] > 0
    q = bench.quality(path, work, ["ours"], sample=20000)
    assert q["true_pairs"] > 50
    assert q["ours"]["dup_recall"] >= 0.97
    assert q["ours"]["dup_precision"] >= 0.99
    assert q["ours"]["story_bcubed_f1"] > 0.5
    curve = [c for c in q["ours"]["scurve"] if c[2] is not None]
    assert all(c[2] == pytest.approx(1.0) for c in curve if c[0] >= 0.7)
    assert np.isfinite(q["ours"]["story_pairwise_f1"])


def test_index_bench_runs_with_settling() -> None:
    """The story-index benchmark fills, adds, queries and (asked to) settles."""
    from benchmarks.index_bench import run

    out = run(300, 100, n_queries=20, measure_batches=2, settle=True)
    assert out["articles"] == 500
    assert out["add_per_s"] > 0
    assert out["query_p99_ms"] >= out["query_p50_ms"] > 0
    assert out["settle_s"] > 0
    assert out["settle_events"] >= 0
    before, after = out["peak_rss_mb"]
    assert 0 < before <= after


def test_heaps_measures_vocabulary_growth(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from benchmarks.heaps import heaps, main

    path = tmp_path / "c.jsonl"
    write_corpus(1500, path, seed=4)
    points, words_beta, caps_beta = heaps(path)
    assert [p[0] for p in points] == [1000, 1500]
    assert points[0][1] < points[1][1]
    assert 0.0 < words_beta < 1.0
    assert 0.0 < caps_beta < 1.0
    small = tmp_path / "small.jsonl"
    write_corpus(20, small, seed=4)
    assert main([str(small)]) == 1
    assert "small.jsonl: 20 articles, at least 1000 needed" in capsys.readouterr().err


def test_repeated_runs_give_medians() -> None:
    from benchmarks.report import render
    from benchmarks.run import median_run

    def run(seconds: float, tfidf: float, peak: float) -> dict[str, object]:
        return {
            "system": "ours",
            "seconds": seconds,
            "stages": {"read": 1.0, "tfidf": tfidf},
            "stages_cpu": {"tfidf": tfidf * 2},
            "stages_peak_rss_mb": {"read": peak},
            "peak_rss_mb": peak,
            "output_mb": 1.0,
        }

    one = run(9.0, 3.0, 100.0)
    assert median_run([one]) is one
    merged = median_run([run(9.0, 3.0, 100.0), run(12.0, 5.0, 90.0), run(10.0, 4.0, 120.0)])
    assert merged["seconds"] == 10.0
    assert merged["runs"] == [9.0, 12.0, 10.0]
    assert merged["stages"] == {"read": 1.0, "tfidf": 4.0}
    assert merged["stages_cpu"] == {"tfidf": 8.0}
    assert merged["peak_rss_mb"] == 120.0
    assert merged["stages_peak_rss_mb"] == {"read": 120.0}
    base = {"profile": "t", "commit": "abc", "cpu": "cpu", "cores": 2, "memory_gb": 1}
    base |= {"workers": 2, "load": [0.5, 0.5, 0.5], "time": "t0"}
    rec = {**base, **merged, "corpus": "synth-10", "n": 10, "corpus_mb": 1.0}
    rec |= {"extrapolated": False, "articles_per_s": 1.0, "mb_per_s": 0.1}
    assert "median of 3 runs (9.0, 12.0, 10.0 s;" in render([rec])
