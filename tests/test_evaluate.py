from __future__ import annotations

import csv
import inspect
import json
import math
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import typer
from hypothesis import given
from hypothesis import strategies as st
from sklearn.metrics import (
    adjusted_rand_score,
    normalized_mutual_info_score,
    pair_confusion_matrix,
)
from typer.testing import CliRunner

from clusterer import Article, ClusterConfig, ConfigError, CorpusError, read_articles
from clusterer.cli.evaluate import evaluate_command
from clusterer.evaluate import Scores, evaluate, score, score_files

GIVEME = Path(__file__).resolve().parents[2] / "shared" / "data" / "giveme5w1h_news_cluster"

METRICS = (
    "bcubed_precision",
    "bcubed_recall",
    "bcubed_f1",
    "pairwise_precision",
    "pairwise_recall",
    "pairwise_f1",
    "ari",
    "nmi",
)


# --- hand-computed cases -------------------------------------------------------------


def test_bcubed_and_pairwise_by_hand() -> None:
    # predicted clusters: p1 = {0,1,2}, p2 = {3,4}; gold: A = {0,1}, B = {2,3,4}
    # contingency n_ij: (p1,A)=2, (p1,B)=1, (p2,B)=2
    # B-cubed precision per article = |pred ∩ gold| / |pred|:
    #   0,1 -> 2/3 ; 2 -> 1/3 ; 3,4 -> 2/2   => (2/3+2/3+1/3+1+1)/5 = (11/3)/5 = 11/15
    # B-cubed recall per article = |pred ∩ gold| / |gold|:
    #   0,1 -> 2/2 ; 2 -> 1/3 ; 3,4 -> 2/3   => (1+1+1/3+2/3+2/3)/5 = 11/15
    # pairs: predicted C(3,2)+C(2,2) = 4, gold C(2,2)+C(3,2) = 4,
    #   true positives C(2,2)+C(1,2)+C(2,2) = 1+0+1 = 2  => P = R = 2/4
    s = score([1, 1, 1, 2, 2], ["A", "A", "B", "B", "B"])
    assert s.bcubed_precision == pytest.approx(11 / 15)
    assert s.bcubed_recall == pytest.approx(11 / 15)
    assert s.bcubed_f1 == pytest.approx(11 / 15)
    assert s.pairwise_precision == pytest.approx(0.5)
    assert s.pairwise_recall == pytest.approx(0.5)
    assert s.pairwise_f1 == pytest.approx(0.5)
    assert (s.n_articles, s.n_clusters_predicted, s.n_clusters_gold) == (5, 2, 2)
    assert (s.largest_predicted, s.largest_gold) == (3, 3)


def test_everything_in_one_cluster_by_hand() -> None:
    # predicted: one cluster of 4; gold: {0,1}, {2}, {3}
    # B-cubed precision: 0,1 -> 2/4 ; 2 -> 1/4 ; 3 -> 1/4  => 1.5/4 = 3/8
    # B-cubed recall: every gold cluster lies inside the predicted one => 1
    # B-cubed F1 = 2 * 3/8 * 1 / (3/8 + 1) = (3/4) / (11/8) = 6/11
    # pairs: predicted C(4,2) = 6, gold 1, true positives 1 => P = 1/6, R = 1,
    #   F1 = 2 * 1/6 / (7/6) = 2/7
    s = score([0, 0, 0, 0], ["a", "a", "b", "c"])
    assert s.bcubed_precision == pytest.approx(3 / 8)
    assert s.bcubed_recall == pytest.approx(1.0)
    assert s.bcubed_f1 == pytest.approx(6 / 11)
    assert s.pairwise_precision == pytest.approx(1 / 6)
    assert s.pairwise_recall == pytest.approx(1.0)
    assert s.pairwise_f1 == pytest.approx(2 / 7)


def test_no_pairs_convention() -> None:
    # No predicted pair: nothing claimed, nothing wrong -> pairwise precision 1.0.
    # Gold has the pair (0,1) that the prediction misses -> recall 0/1, F1 0.
    s = score([0, 1, 2], ["x", "x", "y"])
    assert (s.pairwise_precision, s.pairwise_recall, s.pairwise_f1) == (1.0, 0.0, 0.0)
    # No pair on either side: both conventions give 1.0, as does a perfect clustering.
    s = score([0, 1, 2], ["x", "y", "z"])
    assert (s.pairwise_precision, s.pairwise_recall, s.pairwise_f1) == (1.0, 1.0, 1.0)
    assert s.bcubed_f1 == 1.0


def test_missing_gold_singleton_and_drop() -> None:
    # gold: x = {0,1}, articles 2 and 3 unlabelled; predicted {0,1,2}, {3}
    # singleton: gold clusters {0,1}, {2}, {3}
    #   B-cubed P: 0,1 -> 2/3 ; 2 -> 1/3 ; 3 -> 1  => (8/3)/4 = 2/3 ; R = 1
    #   pairs: predicted 3, gold 1, true positives 1 => P = 1/3, R = 1
    s = score([0, 0, 0, 1], ["x", "x", None, None])
    assert s.bcubed_precision == pytest.approx(2 / 3)
    assert s.bcubed_recall == pytest.approx(1.0)
    assert s.pairwise_precision == pytest.approx(1 / 3)
    assert (s.n_articles, s.n_clusters_gold, s.missing_gold) == (4, 3, 2)
    # drop: only articles 0 and 1 are scored, and they agree
    d = score([0, 0, 0, 1], ["x", "x", None, None], missing="drop")
    assert all(getattr(d, m) == pytest.approx(1.0) for m in METRICS)
    assert (d.n_articles, d.missing_gold) == (2, 2)


def test_predicted_none_is_a_singleton() -> None:
    s = score([None, None, 0], ["a", "a", "b"])
    assert s.n_clusters_predicted == 3
    assert s.pairwise_recall == 0.0


def test_errors() -> None:
    with pytest.raises(ConfigError, match="as long as 'predicted'"):
        score([1, 2], [1])
    with pytest.raises(ConfigError, match="non-empty"):
        score([], [])
    with pytest.raises(ConfigError, match="non-empty"):
        score([1], [None], missing="drop")
    with pytest.raises(ConfigError, match="'missing'"):
        score([1], [1], missing="ignore")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="hashable"):
        score([[1]], [1])  # type: ignore[list-item]


def test_to_dict_is_json_ready() -> None:
    d = score([0, 0, 1], [0, 1, 1]).to_dict()
    assert list(d)[:3] == ["bcubed_precision", "bcubed_recall", "bcubed_f1"]
    assert json.loads(json.dumps(d)) == d


def test_large_input_runs_without_pair_enumeration() -> None:
    rng = np.random.default_rng(0)
    n = 200_000
    gold = rng.integers(0, n // 5, n).tolist()
    pred = rng.integers(0, n // 4, n).tolist()
    s = score(pred, gold)
    assert s.n_articles == n
    assert 0.0 <= s.bcubed_f1 <= 1.0


# --- agreement with references -------------------------------------------------------

labels = st.lists(st.integers(0, 6), min_size=1, max_size=40)
paired = st.integers(1, 40).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(0, 6), min_size=n, max_size=n),
        st.lists(st.integers(0, 6), min_size=n, max_size=n),
    )
)


def _brute(pred: list[int], gold: list[int]) -> dict[str, float]:
    n = len(pred)
    bp = br = 0.0
    for i in range(n):
        same_p = {j for j in range(n) if pred[j] == pred[i]}
        same_g = {j for j in range(n) if gold[j] == gold[i]}
        bp += len(same_p & same_g) / len(same_p)
        br += len(same_p & same_g) / len(same_g)
    pairs = list(combinations(range(n), 2))
    pp = [pred[i] == pred[j] for i, j in pairs]
    gg = [gold[i] == gold[j] for i, j in pairs]
    tp = sum(p and g for p, g in zip(pp, gg, strict=True))
    return {
        "bcubed_precision": bp / n,
        "bcubed_recall": br / n,
        "pairwise_precision": tp / sum(pp) if sum(pp) else 1.0,
        "pairwise_recall": tp / sum(gg) if sum(gg) else 1.0,
    }


@given(paired)
def test_matches_brute_force_and_sklearn(pg: tuple[list[int], list[int]]) -> None:
    pred, gold = pg
    s = score(pred, gold)
    for name, value in _brute(pred, gold).items():
        assert getattr(s, name) == pytest.approx(value), name
    assert s.ari == pytest.approx(adjusted_rand_score(gold, pred))
    assert s.nmi == pytest.approx(normalized_mutual_info_score(gold, pred))
    # sklearn's pair confusion matrix counts ordered pairs: [[TN, FP], [FN, TP]]
    (_, fp), (fn, tp) = pair_confusion_matrix(gold, pred)
    if tp + fp:
        assert s.pairwise_precision == pytest.approx(tp / (tp + fp))
    if tp + fn:
        assert s.pairwise_recall == pytest.approx(tp / (tp + fn))


@given(labels)
def test_perfect_clustering_scores_one(gold: list[int]) -> None:
    s = score([f"story-{g}" for g in gold], gold)
    for name in METRICS:
        assert getattr(s, name) == pytest.approx(1.0), name


@given(paired, st.permutations(range(7)))
def test_invariant_to_label_renaming(pg: tuple[list[int], list[int]], perm: list[int]) -> None:
    pred, gold = pg
    base = score(pred, gold)
    renamed = score([f"p{perm[p]}" for p in pred], [("g", perm[g]) for g in gold])
    for name in METRICS:
        assert getattr(renamed, name) == pytest.approx(getattr(base, name)), name


@given(paired)
def test_bounds_and_symmetry(pg: tuple[list[int], list[int]]) -> None:
    pred, gold = pg
    s = score(pred, gold)
    for name in METRICS:
        value = getattr(s, name)
        assert not math.isnan(value)
        low = -1.0 if name == "ari" else 0.0
        assert low - 1e-12 <= value <= 1.0 + 1e-12, name
    swapped = score(gold, pred)
    assert swapped.bcubed_precision == pytest.approx(s.bcubed_recall)
    assert swapped.pairwise_precision == pytest.approx(s.pairwise_recall)
    assert swapped.ari == pytest.approx(s.ari)


# --- evaluate() and score_files() ----------------------------------------------------

QUAKE = (
    "A strong earthquake struck the coastal city of Valparaiso on Monday, "
    "damaging buildings and cutting power to thousands of homes, officials said."
)
FINAL = (
    "The national football team won the cup final in extra time on Sunday after "
    "a late goal from the young striker sent the crowd into celebration."
)
BUDGET = (
    "Parliament approved the annual budget on Thursday after a long debate over "
    "pension spending, tax credits for families and new funding for rail lines."
)


def _records() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for k, (story, text) in enumerate((("quake", QUAKE), ("final", FINAL), ("budget", BUDGET))):
        for copy in range(3):
            rows.append(
                {
                    "id": f"{story}-{copy}",
                    "title": text.split(",")[0],
                    "text": text + f" Report number {copy}.",
                    "date": f"2024-03-0{k + 1}",
                    "cluster": story,
                }
            )
    rows.append(
        {"id": "lone", "title": "Weather", "text": "Sunny skies all week.", "cluster": None}
    )
    return rows


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    path = tmp_path / "labelled.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in _records()), encoding="utf-8")
    return path


def test_evaluate_reads_gold_from_extra(corpus: Path) -> None:
    scores, clustering = evaluate(read_articles([corpus]))
    assert isinstance(scores, Scores)
    assert clustering.n_articles == 10
    assert scores.n_articles == 10
    assert scores.missing_gold == 1
    assert scores.n_clusters_gold == 4
    assert 0.0 <= scores.bcubed_f1 <= 1.0
    dropped, _ = evaluate(read_articles([corpus]), missing="drop")
    assert dropped.n_articles == 9


def test_evaluate_needs_labels(corpus: Path) -> None:
    with pytest.raises(CorpusError, match="'topic'"):
        evaluate(read_articles([corpus]), gold_field="topic")
    bad = [Article(id="a", text="x y z", extra={"cluster": [1, 2]})]
    with pytest.raises(CorpusError, match="list"):
        evaluate(bad)


def _write_predicted(path: Path, corpus: Path, config: ClusterConfig | None = None) -> Scores:
    scores, clustering = evaluate(read_articles([corpus]), config=config)
    with path.open("w", encoding="utf-8") as out:
        for a in clustering.assignments:
            out.write(json.dumps({"id": a.id, "story_id": a.story_id}) + "\n")
    return scores


def test_score_files_round_trip(tmp_path: Path, corpus: Path) -> None:
    predicted = tmp_path / "out.jsonl"
    direct = _write_predicted(predicted, corpus)
    assert score_files(predicted, corpus) == direct
    # the same result as CSV and as a JSON array
    rows = [json.loads(line) for line in predicted.read_text().splitlines()]
    as_csv = tmp_path / "out.csv"
    with as_csv.open("w", newline="") as out:
        writer = csv.DictWriter(out, ["id", "story_id"])
        writer.writeheader()
        writer.writerows(rows)
    assert score_files(as_csv, corpus) == direct
    as_array = tmp_path / "out.json"
    as_array.write_text(json.dumps(rows, indent=2))
    assert score_files(as_array, corpus) == direct


def test_score_files_reads_parquet(tmp_path: Path, corpus: Path) -> None:
    pa = pytest.importorskip("pyarrow", reason="Parquet needs the parquet extra (pyarrow)")
    pq = pytest.importorskip("pyarrow.parquet", reason="Parquet needs the parquet extra")
    predicted = tmp_path / "out.jsonl"
    direct = _write_predicted(predicted, corpus)
    rows = [json.loads(line) for line in predicted.read_text().splitlines()]
    gold = [json.loads(line) for line in corpus.read_text().splitlines() if line.strip()]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "out.parquet")
    pq.write_table(pa.Table.from_pylist(gold), tmp_path / "gold.pq")
    assert score_files(tmp_path / "out.parquet", corpus) == direct
    assert score_files(tmp_path / "out.parquet", tmp_path / "gold.pq") == direct
    (tmp_path / "junk.parquet").write_bytes(b"not parquet")
    with pytest.raises(CorpusError, match=r"junk\.parquet: not a readable Parquet file"):
        score_files(tmp_path / "junk.parquet", corpus)


def test_score_files_unmatched_ids(tmp_path: Path, corpus: Path) -> None:
    predicted = tmp_path / "out.jsonl"
    _write_predicted(predicted, corpus)
    lines = predicted.read_text().splitlines()
    short = tmp_path / "short.jsonl"
    short.write_text("\n".join(lines[:-2]) + "\n")
    with pytest.raises(CorpusError, match=r"short\.jsonl: 2 article id\(s\)"):
        score_files(short, corpus)
    scores = score_files(short, corpus, unmatched="drop")
    assert scores.n_articles == 8
    extra = tmp_path / "extra.jsonl"
    extra.write_text(predicted.read_text() + json.dumps({"id": "zzz", "story_id": 99}) + "\n")
    with pytest.raises(CorpusError, match=r"labelled\.jsonl: 1 article id"):
        score_files(extra, corpus)


def test_score_files_bad_input(tmp_path: Path, corpus: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "story_id": 0}\nnot json\n')
    with pytest.raises(CorpusError, match=r"bad\.jsonl:2: not valid JSON"):
        score_files(bad, corpus)
    dup = tmp_path / "dup.jsonl"
    dup.write_text('{"id": "a", "story_id": 0}\n{"id": "a", "story_id": 1}\n')
    with pytest.raises(CorpusError, match=r"dup\.jsonl:2: duplicate id 'a'"):
        score_files(dup, corpus)
    nolabel = tmp_path / "nolabel.jsonl"
    nolabel.write_text('{"id": "a"}\n')
    (tmp_path / "good.jsonl").write_text('{"id": "a", "story_id": 0}\n')
    with pytest.raises(CorpusError, match=r"nolabel\.jsonl:1: record has no 'story_id'"):
        score_files(nolabel, corpus)
    with pytest.raises(CorpusError, match="cannot open"):
        score_files(tmp_path / "absent.jsonl", corpus)
    with pytest.raises(CorpusError, match="no record has a gold label"):
        score_files(bad.with_name("good.jsonl"), nolabel)


# --- CLI -----------------------------------------------------------------------------


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("evaluate")(evaluate_command)

    @app.command("noop")
    def noop() -> None:
        """Keep typer in multi-command mode."""

    return app


def test_cli_cluster_and_score(corpus: Path) -> None:
    result = CliRunner().invoke(_app(), ["evaluate", str(corpus), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    expected, _ = evaluate(read_articles([corpus]))
    assert payload["bcubed_f1"] == pytest.approx(expected.bcubed_f1)
    assert payload["config"]["story_threshold"] == ClusterConfig().story_threshold

    args = ["evaluate", str(corpus), "--json", "--story-threshold", "0.5", "--no-date-decay"]
    result = CliRunner().invoke(_app(), [*args, "--linkage", "complete"])
    assert result.exit_code == 0, result.output
    config = json.loads(result.stdout)["config"]
    assert (config["story_threshold"], config["date_decay_days"]) == (0.5, None)
    assert config["linkage"] == "complete"

    table = CliRunner().invoke(_app(), ["evaluate", str(corpus)])
    assert table.exit_code == 0, table.output
    assert "B-cubed" in table.stdout
    assert "10 articles, 1 without gold label" in table.stdout


def test_cli_score_files(tmp_path: Path, corpus: Path) -> None:
    predicted = tmp_path / "out.jsonl"
    direct = _write_predicted(predicted, corpus)
    args = ["evaluate", "--predicted", str(predicted), "--gold", str(corpus), "--json"]
    result = CliRunner().invoke(_app(), args)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["config"] is None
    assert payload["pairwise_f1"] == pytest.approx(direct.pairwise_f1)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "Nothing to evaluate"),
        (["--predicted", "p.jsonl"], "go together"),
        (["CORPUS", "--predicted", "p.jsonl", "--gold", "g.jsonl"], "not both"),
        (["--predicted", "p", "--gold", "g", "--title-weight", "2"], "--title-weight"),
        (["CORPUS", "--missing", "ignore"], "--missing"),
        (["CORPUS", "--story-threshold", "3"], "'story_threshold'"),
        (["CORPUS", "--date-decay-days", "3", "--no-date-decay"], "not both"),
    ],
)
def test_cli_usage_errors(corpus: Path, args: list[str], message: str) -> None:
    args = [str(corpus) if a == "CORPUS" else a for a in args]
    result = CliRunner().invoke(_app(), ["evaluate", *args])
    assert isinstance(result.exception, ConfigError)
    assert message in str(result.exception)


def test_cli_corpus_error_propagates(tmp_path: Path, corpus: Path) -> None:
    result = CliRunner().invoke(
        _app(), ["evaluate", "--predicted", str(tmp_path / "x.jsonl"), "--gold", str(corpus)]
    )
    assert isinstance(result.exception, CorpusError)


def test_cli_through_the_real_app(corpus: Path) -> None:
    try:
        from clusterer.cli import app
    except ImportError as exc:
        pytest.skip(f"clusterer.cli.app is not available yet ({exc})")
    names = [c.name or getattr(c.callback, "__name__", "") for c in app.registered_commands]
    if "evaluate" not in names and "evaluate_command" not in names:
        pytest.skip("clusterer.cli.app does not register the evaluate command yet")
    result = CliRunner().invoke(app, ["evaluate", str(corpus), "--json"])
    assert result.exit_code == 0, result.output
    assert 0.0 <= json.loads(result.stdout)["bcubed_f1"] <= 1.0


# --- real data -----------------------------------------------------------------------


@pytest.mark.skipif(
    not GIVEME.is_dir(), reason=f"labelled data set not found at {GIVEME} (../shared/data)"
)
def test_giveme5w1h_runs_and_scores_are_sane() -> None:
    scores, clustering = evaluate(read_articles(sorted(GIVEME.glob("*.jsonl"))))
    assert clustering.n_articles == scores.n_articles > 100
    assert scores.n_clusters_gold > 10
    for name in METRICS:
        assert 0.0 <= getattr(scores, name) <= 1.0, name
    # Far better than chance: the stories in this set are distinct events.
    assert scores.bcubed_f1 > 0.3
    assert scores.nmi > 0.3


# --- benchmarks.quality helpers ------------------------------------------------------


@pytest.fixture
def quality(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1]))
    import benchmarks.quality

    return benchmarks.quality


def test_quality_finds_labelled_sets_and_skips_others(
    quality: Any, tmp_path: Path, corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "toy").mkdir()
    (tmp_path / "toy" / "toy.jsonl").write_text(corpus.read_text())
    (tmp_path / "unlabelled").mkdir()
    (tmp_path / "unlabelled" / "u.jsonl").write_text('{"id": "1", "text": "x", "cluster": null}\n')
    found, skipped = quality.find_datasets(tmp_path)
    assert [d.name for d in found] == ["toy"]
    assert any("unlabelled" in s and "no record" in s for s in skipped)
    assert any("basil_triplets: not found" in s for s in skipped)
    assert quality.main(["--data", str(tmp_path), "--no-write"]) == 0
    out = capsys.readouterr().out
    assert "skip unlabelled" in out
    assert "toy" in out
    assert quality.main(["--data", str(tmp_path), "--sweep", "story_threshold=0.2,0.4"]) == 0
    assert "story_threshold=0.4" in capsys.readouterr().out


def test_quality_readme_markers(quality: Any, tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("intro\n<!-- quality:start -->\nold\n<!-- quality:end -->\nrest\n")
    assert quality.update_readme("| new |", readme)
    assert (
        readme.read_text() == "intro\n<!-- quality:start -->\n| new |\n<!-- quality:end -->\nrest\n"
    )
    readme.write_text("no markers\n")
    assert not quality.update_readme("| new |", readme)
    assert readme.read_text() == "no markers\n"


def test_quality_sweep_parsing(quality: Any) -> None:
    grid = quality.parse_sweep(
        ["story_threshold=0.1,0.2", "date_decay_days=none,7", "linkage=complete"]
    )
    assert len(grid) == 4
    assert grid[0] == {"story_threshold": 0.1, "date_decay_days": None, "linkage": "complete"}
    assert isinstance(quality.parse_sweep(["candidate_terms=5"])[0]["candidate_terms"], int)
    with pytest.raises(SystemExit, match="unknown parameter"):
        quality.parse_sweep(["nope=1"])
    with pytest.raises(SystemExit, match="expected name=v1"):
        quality.parse_sweep(["story_threshold"])
    flags = quality.parse_sweep(["specific_terms=false,true"])
    assert [g["specific_terms"] for g in flags] == [False, True]
    with pytest.raises(SystemExit, match="not true or false"):
        quality.parse_sweep(["specific_terms=maybe"])


def test_cli_takes_every_clustering_option_of_cluster() -> None:
    # the options are declared by the shared aliases of clusterer.cli._options; the
    # behaviour of the new ones is tested with a corpus they change (test_attach.py)
    from clusterer.cli import _options
    from clusterer.cli.cluster import cluster_command

    for command in (evaluate_command, cluster_command):
        names = set(inspect.signature(command).parameters)
        assert {*_options.CONFIG_OPTIONS, "config_file", "no_date_decay"} <= names
