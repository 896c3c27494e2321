"""Parquet inputs on the local engine: the same articles as JSON Lines, errors named."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

from clusterer.errors import CorpusError
from clusterer.readers import FieldMap, ReadReport, read_articles

pa = pytest.importorskip("pyarrow", reason="Parquet needs the parquet extra (pyarrow)")
pq = pytest.importorskip("pyarrow.parquet", reason="Parquet needs the parquet extra (pyarrow)")

ROWS = [
    {
        "id": f"a{i}",
        "title": f"Port strike day {i}",
        "text": f"Dock workers stayed out on day {i} of the strike at the port." * 3,
        "date": f"2024-05-0{1 + i % 9}T08:00:00+00:00",
        "source": "Wire" if i % 2 else None,
        "lang": "en",
    }
    for i in range(23)
]


def _write(tmp_path: Path, rows: list[dict[str, object]], name: str, groups: int = 10) -> Path:
    path = tmp_path / name
    pq.write_table(pa.Table.from_pylist(rows), path, row_group_size=groups)
    return path


def _fields(articles: list[object]) -> list[tuple[object, ...]]:
    return [(a.id, a.title, a.text, a.date, a.source, a.extra) for a in articles]  # type: ignore[attr-defined]


def test_parquet_reads_as_jsonl(tmp_path: Path) -> None:
    jsonl = tmp_path / "j" / "news.jsonl"
    jsonl.parent.mkdir()
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in ROWS), encoding="utf-8")
    (tmp_path / "p").mkdir()
    path = _write(tmp_path / "p", ROWS, "news.parquet")  # three row groups
    expected = _fields(list(read_articles([jsonl])))
    for given in (path, path.parent):  # a file, and a file found in a directory
        report = ReadReport()
        articles = list(read_articles([given], report=report))
        assert _fields(articles) == expected
        assert [a.origin for a in articles] == [f"{path}:{i}" for i in range(1, 24)]
        assert (report.files, report.read, report.skipped) == (1, 23, [])
        batches = list(read_articles([given]).batches(5))
        assert [i for b in batches for i in b.ids] == [a.id for a in articles]


def test_timestamp_dates_and_derived_ids(tmp_path: Path) -> None:
    rows = [
        {"text": "Body one.", "date": datetime(2024, 5, 1, 8, tzinfo=timezone.utc)},
        {"text": "Body two.", "date": None},
    ]
    path = _write(tmp_path, rows, "t.pq")
    a, b = read_articles([path])
    assert (a.id, b.id) == ("t.pq:1", "t.pq:2")
    assert a.date == datetime(2024, 5, 1, 8, tzinfo=timezone.utc)
    assert b.date is None


def test_bad_rows_and_files_are_named(tmp_path: Path) -> None:
    path = _write(tmp_path, [{"id": "x1", "body": "no text column"}], "nobody.parquet")
    with pytest.raises(CorpusError, match=r"nobody\.parquet:1"):
        list(read_articles([path]))
    report = ReadReport()
    assert list(read_articles([path], on_error="skip", report=report)) == []
    assert report.read == 1  # counted once, as a reject
    assert [r.origin for r in report.rejects] == [f"{path}:1"]
    assert [a.text for a in read_articles([path], fields=FieldMap(text="body"))] == [
        "no text column"
    ]
    junk = tmp_path / "junk.parquet"
    junk.write_bytes(b"this is not parquet")
    with pytest.raises(CorpusError, match=r"junk\.parquet.*not a readable Parquet file"):
        list(read_articles([junk]))


def test_cli_reads_and_writes_parquet(tmp_path: Path) -> None:
    from clusterer.cli import app
    from clusterer.output import read_assignments

    path = _write(tmp_path, ROWS, "in.parquet")
    runner = CliRunner()
    out, stories = tmp_path / "out.parquet", tmp_path / "stories.parquet"
    res = runner.invoke(
        app, ["cluster", str(path), "-q", "-o", str(out), "--stories", str(stories)]
    )
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["cluster", str(path), "-q", "-o", str(tmp_path / "out.jsonl")])
    assert res.exit_code == 0, res.output
    assert read_assignments(out) == read_assignments(tmp_path / "out.jsonl")
    assert pq.read_table(stories).num_rows >= 1
    res = runner.invoke(app, ["cluster", str(path), "-q", "-o", "-", "--format", "parquet"])
    assert res.exit_code != 0
    assert "cannot write Parquet to standard output" in res.output
