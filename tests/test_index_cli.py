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
