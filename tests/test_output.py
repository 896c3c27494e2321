"""Writers: formats, atomic replacement, errors, reading back, the terminal table."""

from __future__ import annotations

import csv
import json
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from rich.console import Console

from clusterer import Assignment, Clustering, DuplicateGroup, OutputError, Reject, Story
from clusterer.output import (
    ASSIGNMENT_FIELDS,
    STORY_FIELDS,
    atomic_write,
    check_writable,
    format_for,
    read_assignments,
    summary_table,
    write_assignments,
    write_rejects,
    write_rows,
    write_stories,
)

DAY = datetime(2025, 4, 12, 8, 30, tzinfo=timezone.utc)


def make_clustering(n: int = 3) -> Clustering:
    assignments = tuple(
        Assignment(
            id=f"id{i}",
            title=f'Title, with "quotes" {i}',
            source="Wire" if i % 2 else None,
            date=DAY if i == 0 else None,
            url=None,
            story_id=0 if i < 2 else i - 1,
            duplicate_group_id=0 if i < 2 else i - 1,
            duplicate_score=0.9 if i < 2 else 0.0,
            story_score=1.0 if i < 2 else 0.0,
            empty=i == n - 1,
            origin=f"in.jsonl:{i + 1}",
        )
        for i in range(n)
    )
    groups = (
        DuplicateGroup(0, 0, ("id0", "id1")),
        *(DuplicateGroup(i - 1, i - 1, (f"id{i}",)) for i in range(2, n)),
    )
    stories = (
        Story(0, ("id0", "id1"), "Title 0", "id0", ("Wire",), DAY, DAY, (0,), 1.0, 2),
        *(
            Story(i - 1, (f"id{i}",), f"Title {i}", f"id{i}", (), None, None, (i - 1,), 0.0, 0)
            for i in range(2, n)
        ),
    )
    return Clustering(assignments, stories, groups)


def test_format_for() -> None:
    assert format_for("a.csv") == "csv"
    assert format_for("a.JSON") == "json"
    assert format_for("a.jsonl") == "jsonl"
    assert format_for("a.parquet") == "parquet"
    assert format_for("a.PQ") == "parquet"
    assert format_for("a.out") == "jsonl"
    assert format_for("-") == "jsonl"


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".json", ".parquet"])
def test_assignments_round_trip(tmp_path: Path, suffix: str) -> None:
    if suffix == ".parquet":
        pytest.importorskip("pyarrow", reason="Parquet needs the parquet extra (pyarrow)")
    c = make_clustering()
    path = tmp_path / f"out{suffix}"
    assert write_assignments(c, path) == 3
    assert read_assignments(path) == list(c.assignments)


def test_jsonl_rows(tmp_path: Path) -> None:
    path = tmp_path / "o.jsonl"
    write_assignments(make_clustering(), path)
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines()]
    assert list(rows[0]) == list(ASSIGNMENT_FIELDS)
    assert rows[0]["date"] == "2025-04-12T08:30:00+00:00"
    assert rows[1]["date"] is None
    assert rows[2]["empty"] is True


def test_csv_quotes_and_header(tmp_path: Path) -> None:
    path = tmp_path / "o.csv"
    write_assignments(make_clustering(), path)
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert tuple(rows[0]) == ASSIGNMENT_FIELDS
    assert rows[1][1] == 'Title, with "quotes" 0'


def test_story_rows(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    assert write_stories(make_clustering(), path) == 2
    first = json.loads(path.read_text("utf-8").splitlines()[0])
    assert first == {
        "id": 0,
        "size": 2,
        "title": "Title 0",
        "representative": "id0",
        "sources": ["Wire"],
        "first": "2025-04-12T08:30:00+00:00",
        "last": "2025-04-12T08:30:00+00:00",
        "duplicate_groups": [{"id": 0, "members": ["id0", "id1"]}],
        "cohesion": 1.0,
        "rejected_links": 2,
        "attached": 0,
    }
    as_csv = tmp_path / "s.csv"
    write_stories(make_clustering(), as_csv)
    with as_csv.open(newline="", encoding="utf-8") as f:
        row = next(csv.DictReader(f))
    assert json.loads(row["duplicate_groups"]) == [{"id": 0, "members": ["id0", "id1"]}]


def test_rejects(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    assert write_rejects([Reject("a.jsonl:2", "bad")], path) == 1
    assert json.loads(path.read_text("utf-8")) == {"origin": "a.jsonl:2", "reason": "bad"}


def test_unwritable_location_names_the_path(tmp_path: Path) -> None:
    target = tmp_path / "no" / "such" / "dir.jsonl"
    with pytest.raises(OutputError, match=str(target)):
        write_assignments(make_clustering(), target)
    with pytest.raises(OutputError, match="does not exist"):
        check_writable(target)
    with pytest.raises(OutputError, match="directory"):
        write_assignments(make_clustering(), tmp_path)
    check_writable(tmp_path / "fine.jsonl")


def test_interrupted_write_leaves_old_file(tmp_path: Path) -> None:
    target = tmp_path / "o.jsonl"
    target.write_text("old\n", "utf-8")

    def rows() -> object:
        yield {"id": "1"}
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_rows(rows(), target, "jsonl", ("id",))  # type: ignore[arg-type]
    assert target.read_text("utf-8") == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["o.jsonl"]


def test_write_error_becomes_output_error(tmp_path: Path) -> None:
    target = tmp_path / "o.jsonl"

    def fill_disk() -> None:
        with atomic_write(target) as f:
            f.write("x")
            raise OSError(28, "No space left on device")

    with pytest.raises(OutputError, match=r"o\.jsonl: No space left"):
        fill_disk()
    assert list(tmp_path.iterdir()) == []


def test_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="format"):
        write_rows([], tmp_path / "x", "xml", ())  # type: ignore[arg-type]


def test_read_back_rejects_foreign_files(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text('{"hello": 1}\n', "utf-8")
    with pytest.raises(OutputError, match="not a clusterer output"):
        read_assignments(path)
    with pytest.raises(OutputError, match="cannot read"):
        read_assignments(tmp_path / "missing.jsonl")


def test_read_back_a_directory_of_parts(tmp_path: Path) -> None:
    c = make_clustering()
    whole = tmp_path / "whole.jsonl"
    write_assignments(c, whole)
    lines = whole.read_bytes().splitlines(keepends=True)
    parts = tmp_path / "out"
    parts.mkdir()
    (parts / "part-00001.jsonl").write_bytes(b"".join(lines[1:]))
    (parts / "part-00000.jsonl").write_bytes(lines[0])
    (parts / "notes.txt").write_text("not a part", "utf-8")
    assert read_assignments(parts) == list(c.assignments)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(OutputError, match="without part-NNNNN"):
        read_assignments(empty)


def test_read_back_parquet(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow", reason="Parquet needs the parquet extra (pyarrow)")
    from clusterer.engines.partitions import write_partition

    rows = list(make_clustering().assignments)
    write_partition(rows, tmp_path / "o.parquet", "parquet")
    assert read_assignments(tmp_path / "o.parquet") == rows
    (tmp_path / "bad.parquet").write_bytes(b"junk")
    with pytest.raises(OutputError, match=r"bad\.parquet: not a clusterer output"):
        read_assignments(tmp_path / "bad.parquet")


def test_parquet_story_summary_and_empty_outputs(tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet", reason="Parquet needs the parquet extra")
    c = make_clustering(4)
    assert write_stories(c, tmp_path / "s.parquet") == 3
    table = pq.read_table(tmp_path / "s.parquet")
    assert table.column_names == list(STORY_FIELDS)
    assert table.column("id").to_pylist() == [s.id for s in c.stories]
    write_stories(c, tmp_path / "s.jsonl")
    as_json = [json.loads(line) for line in (tmp_path / "s.jsonl").read_text().splitlines()]
    assert table.to_pylist() == as_json  # nested groups and members kept
    empty = Clustering((), (), ())
    assert write_assignments(empty, tmp_path / "e.parquet") == 0
    assert read_assignments(tmp_path / "e.parquet") == []
    assert write_stories(empty, tmp_path / "es.parquet") == 0
    assert pq.read_table(tmp_path / "es.parquet").column_names == list(STORY_FIELDS)
    with pytest.raises(OutputError, match="Parquet to standard output"):
        write_assignments(c, "-", "parquet")


def test_summary_table() -> None:
    console = Console(width=200, record=True)
    console.print(summary_table(make_clustering(5), limit=2))
    text = console.export_text()
    assert "4 stories from 5 articles" in text
    assert "Title 0" in text
    assert "2025-04-12" in text
    assert "copies: 2" in text
    assert "2 smaller stories not shown" in text


def test_a_million_rows_write_quickly(tmp_path: Path) -> None:
    n = 1_000_000
    a = Assignment(
        "x", "A headline of some length", "Outlet", DAY, None, 1, 2, 0.5, 0.25, False, "f:1"
    )
    c = Clustering(tuple([a]) * n, (), ())
    path = tmp_path / "big.jsonl"
    start = time.perf_counter()
    assert write_assignments(c, path) == n
    elapsed = time.perf_counter() - start
    assert path.stat().st_size > 100 * n
    # Not a speed assertion (DESIGN.md): a generous bound that only catches a pathology.
    assert elapsed < 60


class _Moment(datetime):
    """A datetime subclass (orjson does not serialise those natively)."""


@pytest.mark.parametrize("fmt", ["jsonl", "json"])
def test_json_outputs_write_dates_as_isoformat_does(tmp_path: Path, fmt: str) -> None:
    from datetime import timedelta

    import orjson

    from clusterer.output import assignment_rows

    dates = [
        None,
        datetime(2024, 5, 1, 8, 30, tzinfo=timezone.utc),
        datetime(2024, 5, 1, 8, 30, 0, 17, tzinfo=timezone.utc),
        datetime(999, 1, 2, 3, 4, 5),
        datetime(2024, 5, 1, 8, 30, 0, 250000),
        datetime(2024, 5, 1, tzinfo=timezone(timedelta(hours=5, minutes=30, seconds=15))),
        datetime(2024, 5, 1, tzinfo=timezone(timedelta(hours=-3))),
        _Moment(2024, 5, 1, 9, tzinfo=timezone.utc),
    ]
    assignments = tuple(
        Assignment(f"a{i}", "t", None, d, None, i, i, 0.0, 0.0, False, "x:1")
        for i, d in enumerate(dates)
    )
    result = Clustering(assignments, (), ())
    path = tmp_path / f"out.{fmt}"
    write_assignments(result, path)
    rows = list(assignment_rows(assignments))
    if fmt == "jsonl":
        expected = b"".join(orjson.dumps(r, option=orjson.OPT_APPEND_NEWLINE) for r in rows)
    else:
        expected = orjson.dumps(rows, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)
    assert path.read_bytes() == expected
