from __future__ import annotations

import json
from pathlib import Path

import pytest
from index_helpers import make_articles
from typer.testing import CliRunner

from clusterer.cli.index import index_app


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    path = tmp_path / "in.jsonl"
    with path.open("w") as fh:
        for a in make_articles(60, seed=7):
            assert a.date is not None
            fh.write(
                json.dumps(
                    {"id": a.id, "title": a.title, "text": a.text, "date": a.date.isoformat()}
                )
                + "\n"
            )
    return path


def _apps() -> list[object]:
    apps: list[object] = [index_app]
    try:
        from clusterer.cli import app

        if any(getattr(g, "name", None) == "index" for g in app.registered_groups):
            apps.append(app)
    except ImportError:
        pass
    return apps


@pytest.mark.parametrize("app", _apps())
def test_five_commands(tmp_path: Path, corpus: Path, app: object) -> None:
    runner = CliRunner()
    prefix = [] if app is index_app else ["index"]
    idx = str(tmp_path / "n.idx")

    def run(*args: str) -> str:
        res = runner.invoke(app, [*prefix, *args])  # type: ignore[arg-type]
        assert res.exit_code == 0, res.output
        return res.output

    assert "added 60 articles" in run("add", idx, str(corpus), "--workers", "2")
    out = run("query", idx, str(corpus), "--json", "--workers", "1")
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == 60
    assert all("story_id" in r for r in rows)
    assert "articles" in run("stories", idx)
    stats = json.loads(run("stats", idx, "--json"))
    assert stats["articles"] == 60
    assert "expired" in run("expire", idx, "--before", "2024-03-04")
    assert json.loads(run("stats", idx, "--json"))["articles"] < 60


def test_query_missing_index_is_an_error(tmp_path: Path, corpus: Path) -> None:
    res = CliRunner().invoke(index_app, ["query", str(tmp_path / "none.idx"), str(corpus)])
    assert res.exit_code != 0


def test_settle_until_option(tmp_path: Path) -> None:
    """``--settle-until`` is stored and shown by ``stats``; moved articles are reported."""
    from benchmarks.synth import write_corpus

    corpus = tmp_path / "synth.jsonl"
    write_corpus(400, corpus, seed=11)
    runner = CliRunner()
    off, on = str(tmp_path / "off.idx"), str(tmp_path / "on.idx")
    res = runner.invoke(
        index_app, ["add", off, str(corpus), "--batch-size", "10", "--settle-until", "0"]
    )
    assert res.exit_code == 0, res.output
    res = runner.invoke(index_app, ["add", on, str(corpus), "--batch-size", "10"])
    assert res.exit_code == 0, res.output
    assert "stored articles moved to another story" in res.output
    for path, until in ((off, 0), (on, 10000)):
        stats = json.loads(runner.invoke(index_app, ["stats", path, "--json"]).output)
        assert stats["settle_until"] == until
        assert (stats["settles"] > 0) == (until > 0)
    res = runner.invoke(index_app, ["add", off, str(corpus), "--settle-until", "-1"])
    assert res.exit_code == 2


def test_settle_command(tmp_path: Path) -> None:
    """``index settle`` re-decides the stories and reports what changed."""
    from benchmarks.synth import write_corpus

    corpus = tmp_path / "synth.jsonl"
    write_corpus(400, corpus, seed=11)
    runner = CliRunner()
    path = str(tmp_path / "s.idx")
    args = ["add", path, str(corpus), "--batch-size", "10", "--settle-until", "0"]
    assert runner.invoke(index_app, args).exit_code == 0
    res = runner.invoke(index_app, ["settle", path])
    assert res.exit_code == 0, res.output
    assert res.output.startswith("settled 400 articles: ")
    assert "articles moved to another story" in res.output
    stats = json.loads(runner.invoke(index_app, ["stats", path, "--json"]).output)
    assert stats["settles"] == 1
    res = runner.invoke(index_app, ["settle", path, "--json"])
    assert res.exit_code == 0
    assert "0 story merges, 0 splits, 0 articles moved" in res.output  # nothing left to change
    res = runner.invoke(index_app, ["settle", str(tmp_path / "missing.idx")])
    assert res.exit_code != 0
