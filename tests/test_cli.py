"""The command line, driven through typer's runner and as a real subprocess."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from clusterer.cli import app

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"

MALI = "How an intercepted drone escalated Mali-Algeria tensions"
SWAP = "Russia, Ukraine swap first prisoners in large-scale exchange"
POW = "Ukraine, Russia begin complex POW Exchange"
OFFENSIVE = "Russia pushes offensive into Ukraine's eastern industrial region"

runner = CliRunner()


def run(*args: str | Path, input: str | None = None) -> object:
    return runner.invoke(app, [str(a) for a in args], input=input, env={"COLUMNS": "240"})


def rows(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line]


def write_jsonl(path: Path, records: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), "utf-8")
    return path


WIRE = (
    "The central bank raised its main interest rate by half a percentage point on Tuesday, "
    "citing persistent inflation in services and a tight labour market, and signalled that "
    "further increases were possible if price pressures did not ease in the coming months."
)
OTHER = (
    "A powerful earthquake struck off the northern coast early on Sunday, damaging roads and "
    "bridges and cutting power to thousands of homes, officials said, as rescue teams searched "
    "collapsed buildings in two towns for survivors."
)


@pytest.fixture
def small(tmp_path: Path) -> Path:
    return write_jsonl(
        tmp_path / "small.jsonl",
        [
            {
                "id": "a",
                "title": "Bank raises rates",
                "text": WIRE,
                "source": "Wire",
                "date": "2025-04-01",
            },
            {
                "id": "b",
                "title": "Bank raises rates",
                "text": WIRE + " Markets fell.",
                "source": "Daily",
            },
            {
                "id": "c",
                "title": "Quake hits coast",
                "text": OTHER,
                "source": "Post",
                "date": "2025-04-02",
            },
        ],
    )


# --- the seed acceptance --------------------------------------------------------------


def test_seed_corpus_gives_two_stories(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    result = run("cluster", CORPUS, "-o", out)
    assert result.exit_code == 0, result.output
    got = rows(out)
    assert len(got) == 4
    story = {r["title"]: r["story_id"] for r in got}
    assert set(story) == {MALI, SWAP, POW, OFFENSIVE}
    assert len(set(story.values())) == 2
    assert story[SWAP] == story[POW] == story[OFFENSIVE]
    assert story[MALI] != story[SWAP]
    sources = {r["title"]: r["source"] for r in got}
    assert sources[SWAP] == "Observer"
    assert sources[POW] == "Muscat Daily"
    assert sources[OFFENSIVE] == "Observer"


def test_seed_corpus_as_a_subprocess(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.run(
        [sys.executable, "-m", "clusterer", "cluster", "corpus/", "-o", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    assert proc.stderr.strip().splitlines()[-1].startswith("read 4 / clustered 4 / rejected 0")
    assert len(rows(out)) == 4


def test_subprocess_table_without_output() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "clusterer", "cluster", "corpus/", "--quiet"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "stories from 4 articles" in proc.stdout
    assert "Mali-Algeria" in proc.stdout
    assert "read 4 / clustered 4 / rejected 0" in proc.stderr


# --- output rows and formats ----------------------------------------------------------


def test_rows_have_the_documented_fields(small: Path, tmp_path: Path) -> None:
    out = tmp_path / "o.jsonl"
    result = run("cluster", small, "-o", out)
    assert result.exit_code == 0, result.output
    got = rows(out)
    assert [r["id"] for r in got] == ["a", "b", "c"]
    for r in got:
        assert {
            "id",
            "title",
            "source",
            "date",
            "url",
            "story_id",
            "duplicate_group_id",
            "duplicate_score",
            "story_score",
            "empty",
            "origin",
        } <= set(r)
    by = {r["id"]: r for r in got}
    assert by["a"]["duplicate_group_id"] == by["b"]["duplicate_group_id"]
    assert by["a"]["story_id"] == by["b"]["story_id"] != by["c"]["story_id"]
    assert by["a"]["date"] == "2025-04-01T00:00:00+00:00"
    assert by["b"]["date"] is None
    assert by["a"]["duplicate_score"] > 0.7
    assert by["c"]["origin"].endswith("small.jsonl:3")
    assert result.stdout == ""
    assert "read 3 / clustered 3 / rejected 0 / stories 2" in result.stderr


def test_csv_and_json_formats(small: Path, tmp_path: Path) -> None:
    as_csv = tmp_path / "o.csv"
    assert run("cluster", small, "-o", as_csv).exit_code == 0
    with as_csv.open(newline="", encoding="utf-8") as f:
        table = list(csv.DictReader(f))
    assert [r["id"] for r in table] == ["a", "b", "c"]
    assert table[0]["empty"] == "false"
    assert table[1]["date"] == ""

    forced = tmp_path / "o.txt"
    assert run("cluster", small, "-o", forced, "--format", "json").exit_code == 0
    data = json.loads(forced.read_text("utf-8"))
    assert [r["id"] for r in data] == ["a", "b", "c"]
    assert data[0]["story_id"] == data[1]["story_id"]


def test_stories_summary(small: Path, tmp_path: Path) -> None:
    out, stories = tmp_path / "o.jsonl", tmp_path / "stories.jsonl"
    result = run("cluster", small, "-o", out, "--stories", stories)
    assert result.exit_code == 0, result.output
    summary = rows(stories)
    assert len(summary) == 2
    big = next(s for s in summary if s["size"] == 2)
    assert set(big) >= {
        "id",
        "size",
        "title",
        "representative",
        "sources",
        "first",
        "last",
        "duplicate_groups",
        "cohesion",
        "rejected_links",
    }
    assert big["sources"] == ["Daily", "Wire"]
    assert big["duplicate_groups"] == [
        {"id": big["duplicate_groups"][0]["id"], "members": ["a", "b"]}
    ]
    assert big["first"] == big["last"] == "2025-04-01T00:00:00+00:00"
    assert big["representative"] in ("a", "b")

    as_csv = tmp_path / "stories.csv"
    assert run("cluster", small, "--stories", as_csv, "-q").exit_code == 0
    with as_csv.open(newline="", encoding="utf-8") as f:
        assert len(list(csv.DictReader(f))) == 2


def test_table_on_stdout_without_output(small: Path) -> None:
    result = run("cluster", small)
    assert result.exit_code == 0, result.output
    assert "2 stories from 3 articles" in result.stdout
    assert "Bank raises rates" in result.stdout
    assert "copies: 2" in result.stdout


def test_output_to_stdout(small: Path) -> None:
    result = run("cluster", small, "-o", "-")
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == ["a", "b", "c"]


def test_stdin_input(small: Path, tmp_path: Path) -> None:
    out = tmp_path / "o.jsonl"
    result = run("cluster", "-", "-o", out, input=small.read_text("utf-8"))
    assert result.exit_code == 0, result.output
    got = rows(out)
    assert [r["id"] for r in got] == ["a", "b", "c"]
    assert got[0]["origin"] == "<stdin>:1"


def test_field_options(tmp_path: Path) -> None:
    src = write_jsonl(
        tmp_path / "in.jsonl",
        [
            {"doc": "x1", "headline": "Rates", "body": WIRE},
            {"doc": "x2", "headline": "Quake", "body": OTHER},
        ],
    )
    out = tmp_path / "o.jsonl"
    result = run(
        "cluster",
        src,
        "-o",
        out,
        "--id-field",
        "doc",
        "--title-field",
        "headline",
        "--text-field",
        "body",
    )
    assert result.exit_code == 0, result.output
    assert [(r["id"], r["title"]) for r in rows(out)] == [("x1", "Rates"), ("x2", "Quake")]


def test_explain_flag_lists_links(small: Path) -> None:
    result = run("cluster", small, "--explain", "-q")
    assert result.exit_code == 0, result.output
    assert "a — b" in result.stdout
    assert "duplicate" in result.stdout


def test_config_file_and_save_config(small: Path, tmp_path: Path) -> None:
    saved = tmp_path / "config.json"
    assert run("cluster", small, "-q", "--save-config", saved, "--num-perm", "64").exit_code == 0
    config = json.loads(saved.read_text("utf-8"))
    assert config["num_perm"] == 64
    assert "story_threshold" in config
    out = tmp_path / "o.jsonl"
    result = run("cluster", small, "-o", out, "--config", saved, "--seed", "7")
    assert result.exit_code == 0, result.output


def test_only_given_options_reach_the_config(small: Path, tmp_path: Path) -> None:
    from clusterer import ClusterConfig

    saved = tmp_path / "config.json"
    assert run("cluster", small, "-q", "--save-config", saved).exit_code == 0
    assert json.loads(saved.read_text("utf-8")) == ClusterConfig().to_dict()


# --- errors ---------------------------------------------------------------------------


def test_malformed_line_is_one_line_and_exit_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "text": "fine text here"}\n{"id": "b", "text": \n', "utf-8")
    out = tmp_path / "o.jsonl"
    result = run("cluster", bad, "-o", out)
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: ")
    assert f"{bad}:2" in lines[0]
    assert "Traceback" not in result.output
    assert not out.exists()


def test_bad_config_exit_2(small: Path) -> None:
    result = run("cluster", small, "--story-threshold", "1.5")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "story_threshold" in lines[0]
    assert "[0, 1]" in lines[0]
    assert "1.5" in lines[0]


def test_bad_choice_is_a_usage_error(small: Path) -> None:
    assert run("cluster", small, "--linkage", "single").exit_code == 2


def test_bad_config_file(small: Path, tmp_path: Path) -> None:
    cfg = tmp_path / "c.json"
    cfg.write_text('{"no_such_parameter": 1}', "utf-8")
    result = run("cluster", small, "--config", cfg)
    assert result.exit_code == 2
    assert "no_such_parameter" in result.stderr


def test_missing_input_exit_1(tmp_path: Path) -> None:
    result = run("cluster", tmp_path / "nope.jsonl")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ")
    assert len(result.stderr.strip().splitlines()) == 1


def test_unwritable_output_exit_1(small: Path, tmp_path: Path) -> None:
    target = tmp_path / "missing-dir" / "o.jsonl"
    result = run("cluster", small, "-o", target)
    assert result.exit_code == 1
    assert str(target) in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_skip_writes_rejects_and_counts(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(
        json.dumps({"id": "a", "text": WIRE})
        + "\n{oops\n"
        + json.dumps({"id": "c", "text": OTHER})
        + "\n"
        '{"id": "d"}\n',
        "utf-8",
    )
    out = tmp_path / "o.jsonl"
    result = run("cluster", src, "-o", out, "--on-error", "skip")
    assert result.exit_code == 0, result.output
    assert [r["id"] for r in rows(out)] == ["a", "c"]
    rejects = rows(tmp_path / "o.jsonl.rejects.jsonl")
    assert [r["origin"] for r in rejects] == [f"{src}:2", f"{src}:4"]
    assert all(r["reason"] for r in rejects)
    assert "read 4 / clustered 2 / rejected 2" in result.stderr


def test_skip_with_explicit_rejects_file(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "a", "text": WIRE}) + "\n{oops\n", "utf-8")
    rejects = tmp_path / "bad.jsonl"
    result = run("cluster", src, "--on-error", "skip", "--rejects", rejects, "-q")
    assert result.exit_code == 0, result.output
    assert len(rows(rejects)) == 1


def test_skip_without_output_prints_rejects(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "a", "text": WIRE}) + "\n{oops\n", "utf-8")
    result = run("cluster", src, "--on-error", "skip", "-q")
    assert result.exit_code == 0, result.output
    assert f"{src}:2" in result.stderr
    assert "read 2 / clustered 1 / rejected 1" in result.stderr


def test_duplicate_ids(tmp_path: Path) -> None:
    src = write_jsonl(
        tmp_path / "in.jsonl", [{"id": "a", "text": WIRE}, {"id": "a", "text": OTHER}]
    )
    result = run("cluster", src, "-q")
    assert result.exit_code == 1
    assert "duplicate id" in result.stderr
    out = tmp_path / "o.jsonl"
    result = run("cluster", src, "-o", out, "--on-duplicate-id", "rename")
    assert result.exit_code == 0, result.output
    assert [r["id"] for r in rows(out)] == ["a", "a~2"]
    result = run("cluster", src, "-o", out, "--on-duplicate-id", "first")
    assert result.exit_code == 0, result.output
    assert "read 2 / clustered 1 / rejected 1" in result.stderr
    assert len(rows(tmp_path / "o.jsonl.rejects.jsonl")) == 1


def test_keyboard_interrupt_exit_130(
    small: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import clusterer.cli.cluster as command

    def interrupted(*args: object, **kwargs: object) -> object:
        raise KeyboardInterrupt

    monkeypatch.setattr(command, "cluster", interrupted)
    out = tmp_path / "o.jsonl"
    result = run("cluster", small, "-o", out)
    assert result.exit_code == 130
    assert result.stderr.strip().startswith("error: interrupted")
    assert len(result.stderr.strip().splitlines()) == 1
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [small]


def test_no_args_shows_help() -> None:
    result = run()
    assert "cluster" in result.output
    assert "explain" in result.output


@pytest.mark.parametrize("command", ["cluster", "explain"])
def test_every_option_has_help(command: str) -> None:
    import typer.main

    click_app = typer.main.get_command(app)
    sub = click_app.commands[command]  # type: ignore[attr-defined]
    for param in sub.params:
        assert getattr(param, "help", None) or param.name == "help", param.name
    result = run(command, "--help")
    assert result.exit_code == 0
    assert "--story-threshold" in result.stdout


# --- explain --------------------------------------------------------------------------


@pytest.fixture
def clustered(small: Path, tmp_path: Path) -> Path:
    out = tmp_path / "o.jsonl"
    assert run("cluster", small, "-o", out).exit_code == 0
    return out


def test_explain_story_by_article_id(clustered: Path, small: Path) -> None:
    result = run("explain", clustered, "a", "--input", small)
    assert result.exit_code == 0, result.output
    assert "2 article(s)" in result.stdout
    assert "near-duplicate" in result.stdout
    assert "joined" in result.stdout


def test_explain_story_by_number_without_input(clustered: Path) -> None:
    story = next(r["story_id"] for r in rows(clustered) if r["id"] == "c")
    result = run("explain", clustered, f"story:{story}")
    assert result.exit_code == 0, result.output
    assert "Quake hits coast" in result.stdout
    assert "--input" in result.stdout


def test_explain_pair(clustered: Path, small: Path) -> None:
    result = run("explain", clustered, "a", "b", "-i", small)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Jaccard (exact)" in out
    assert "Jaccard (MinHash estimate)" in out
    assert "TF-IDF cosine" in out
    assert re.search(r"same duplicate group\s*│ yes", out)
    assert "bank (" in out  # a top shared term, with its contribution
    assert "unknown" in out  # b has no date


def test_explain_pair_needs_input(clustered: Path) -> None:
    result = run("explain", clustered, "a", "c")
    assert result.exit_code == 2
    assert "--input" in result.stderr


def test_explain_unknown_id(clustered: Path) -> None:
    result = run("explain", clustered, "zzz")
    assert result.exit_code == 2
    assert "zzz" in result.stderr


def test_explain_reads_csv_output(small: Path, tmp_path: Path) -> None:
    out = tmp_path / "o.csv"
    assert run("cluster", small, "-o", out).exit_code == 0
    result = run("explain", out, "a", "c", "-i", small)
    assert result.exit_code == 0, result.output
    assert "same story" in result.stdout


def test_duplicates_only_flag(tmp_path: Path) -> None:
    out = tmp_path / "dups.jsonl"
    result = runner.invoke(
        app, ["cluster", str(ROOT / "corpus"), "-o", str(out), "--duplicates-only", "-q"]
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 4
    assert all(r["story_id"] == r["duplicate_group_id"] for r in rows)
    assert len({r["story_id"] for r in rows}) == 4


def test_interrupt_inside_compiled_code_is_exit_130() -> None:
    """numba wraps a KeyboardInterrupt raised during a compiled call in SystemError."""
    import typer

    from clusterer.cli._errors import user_errors

    def interrupted_in_kernel() -> None:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as exc:
            raise SystemError("returned a result with an exception set") from exc

    with pytest.raises(typer.Exit) as info, user_errors():
        interrupted_in_kernel()
    assert info.value.exit_code == 130
    with pytest.raises(SystemError), user_errors():
        raise SystemError("unrelated")


def test_explain_pair_says_a_boilerplate_twin_ties_no_group(tmp_path: Path) -> None:
    from tests.corpus_gen import boilerplate_corpus

    records = [
        {"id": a.id, "title": a.title, "text": a.text, "date": a.date.isoformat()}
        for a in boilerplate_corpus()
        if a.date is not None
    ]
    src = write_jsonl(tmp_path / "in.jsonl", records)
    out = tmp_path / "o.jsonl"
    assert run("cluster", src, "-q", "-o", out).exit_code == 0
    twins = run("explain", out, "v0", "v1", "-i", src)
    assert twins.exit_code == 0, twins.output
    assert "same duplicate group" in twins.stdout
    assert "yes; below the story threshold, it ties no group" in twins.stdout
    copy = run("explain", out, "0-0", "x0", "-i", src)
    assert copy.exit_code == 0, copy.output
    assert "ties no group" not in copy.stdout


def test_version_names_the_libraries_behind_the_results() -> None:
    from importlib import metadata

    import clusterer
    from clusterer.cli import app

    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0, result.output
    line = result.output.strip()
    assert line.startswith(f"clusterer {clusterer.__version__}, Python ")
    assert f"datasketch {metadata.version('datasketch')}" in line
    assert f"numba {metadata.version('numba')}" in line


def test_every_command_that_reads_a_corpus_has_the_same_reading_options() -> None:
    import inspect

    from clusterer.cli.cluster import cluster_command
    from clusterer.cli.explain import explain_command
    from clusterer.cli.index import add_command, query_command

    names = {"on_error", "on_duplicate_id", "encoding", "page_date"} | {
        f"{f}_field" for f in ("id", "title", "text", "date", "source", "url")
    }
    defaults = None
    for command in (cluster_command, explain_command, add_command, query_command):
        params = inspect.signature(command).parameters
        assert "reading" not in params, command.__name__
        assert names <= set(params), command.__name__
        mine = {n: params[n].default for n in names}
        assert defaults in (None, mine), command.__name__
        defaults = mine
