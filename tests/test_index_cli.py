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


def test_story_events_remove(tmp_path: Path) -> None:
    """``story`` resolves merged ids, ``events`` pages by number and date, ``remove`` counts."""
    from benchmarks.synth import write_corpus
    from clusterer.cli import app

    corpus = tmp_path / "synth.jsonl"
    write_corpus(400, corpus, seed=11)
    runner = CliRunner()
    path = str(tmp_path / "e.idx")

    def run(*args: str, code: int = 0, stdin: str | None = None) -> str:
        res = runner.invoke(app, ["index", *args], input=stdin)
        assert res.exit_code == code, res.output
        return res.output

    run("add", path, str(corpus), "--batch-size", "10")
    events = [json.loads(line) for line in run("events", path, "--json").splitlines()]
    assert events, "a young index fed in batches of 10 settles and records events"
    assert [e["seq"] for e in events] == sorted(e["seq"] for e in events)
    text = run("events", path).splitlines()
    assert len(text) == len(events)
    assert all(line.split("\t")[0] == str(e["seq"]) for line, e in zip(text, events, strict=True))
    # a feed: only what came after the last number read
    last = events[len(events) // 2]["seq"]
    after = [
        json.loads(line)
        for line in run("events", path, "--since", str(last), "--json").splitlines()
    ]
    assert [e["seq"] for e in after] == [e["seq"] for e in events if e["seq"] > last]
    assert len(run("events", path, "--since", "2000-01-01").splitlines()) == len(events)
    assert "event number or an ISO date" in run("events", path, "--since", "soon", code=2)

    merged = [e for e in events if e["kind"] == "merged"]
    assert merged, "the settlings merge stories"
    gone, survivor = merged[0]["absorbed"], merged[0]["survivor"]
    from clusterer.index import StoryIndex

    with StoryIndex.open(path, create=False) as ix:
        live = ix.resolve(gone)
        record = ix.story(live)
    assert live != gone
    out = run("story", path, str(gone))
    assert out.startswith(f"story {gone} was merged into story {live}\n")
    assert set(record.members) <= set(out.splitlines())
    shown = json.loads(run("story", path, str(live), "--json"))
    assert shown["id"] == live
    assert shown["members"] == list(record.members)
    with StoryIndex.open(path, create=False) as ix:
        assert ix.resolve(survivor) == live  # the merge's survivor lives on as ``live``
    assert "no story 999999" in run("story", path, "999999", code=1)

    victims = list(record.members[:2])
    out = run("remove", path, victims[0], "missing-id")
    assert out.startswith("removed 1 articles (1 ids not in the index); 399 remain")
    out = run("remove", path, "--from-file", "-", stdin=f"{victims[1]}\n\n{victims[0]}\n")
    assert out.startswith("removed 1 articles (1 ids not in the index); 398 remain")
    stored = json.loads(run("stats", path, "--json"))
    assert stored["articles"] == 398
    assert "give article ids" in run("remove", path, code=2)
    assert "cannot read ids" in run("remove", path, "--from-file", str(tmp_path / "none"), code=2)


def test_add_reads_as_cluster_does_and_reports_bad_records(tmp_path: Path) -> None:
    """Renamed fields, a bad line: stop (what was added stays, and is said) or skip it."""
    from clusterer.cli import app

    records = [
        {"key": a.id, "headline": a.title, "body": a.text} for a in make_articles(25, seed=3)
    ]
    lines = [json.dumps(r) for r in records]
    lines.insert(20, '{"key": "broken", "headline": ')  # line 21
    src = tmp_path / "feed.jsonl"
    src.write_text("\n".join(lines) + "\n", "utf-8")
    fields = ["--id-field", "key", "--title-field", "headline", "--text-field", "body"]
    runner = CliRunner()

    def stored(idx: Path) -> int:
        res = runner.invoke(app, ["index", "stats", str(idx), "--json"])
        assert res.exit_code == 0, res.output
        return int(json.loads(res.stdout)["articles"])

    stopped = tmp_path / "stopped.idx"
    res = runner.invoke(app, ["index", "add", str(stopped), str(src), "--batch-size", "8", *fields])
    assert res.exit_code == 1
    assert "stopped after adding 16 articles" in res.stderr
    assert f"error: {src}:21: malformed JSON" in res.stderr
    assert stored(stopped) == 16  # the two committed batches

    skipped, rejects = tmp_path / "skipped.idx", tmp_path / "rejects.jsonl"
    args = ["--on-error", "skip", "--rejects", str(rejects), *fields]
    res = runner.invoke(app, ["index", "add", str(skipped), str(src), *args])
    assert res.exit_code == 0, res.output
    assert "added 25 articles" in res.stdout  # the count line (stderr with --json)
    assert f"rejected 1 (rejects in {rejects})" in res.stdout
    assert [json.loads(x)["origin"] for x in rejects.read_text("utf-8").splitlines()] == [
        f"{src}:21"
    ]
    assert stored(skipped) == 25

    res = runner.invoke(app, ["index", "query", str(skipped), str(src), "--json", *args])
    assert res.exit_code == 0, res.output
    assert sorted(json.loads(x)["id"] for x in res.stdout.splitlines()) == sorted(
        r["key"] for r in records
    )
    assert len(rejects.read_text("utf-8").splitlines()) == 1

    # re-adding the feed: the default refuses it, --existing skip adds nothing new
    again = ["index", "add", str(skipped), str(src), "--on-error", "skip", *fields]
    res = runner.invoke(app, again)
    assert res.exit_code == 1
    assert "already in the index" in res.stderr
    res = runner.invoke(app, [*again, "--existing", "skip"])
    assert res.exit_code == 0, res.output
    assert "added 0 articles" in res.stdout
    assert "skipped 25 already in the index" in res.stdout
    assert stored(skipped) == 25
