"""CSV / TSV reading: quoting, long fields, record start lines, row errors."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from clusterer.errors import CorpusError
from clusterer.readers import FieldMap, ReadReport, read_articles


def write_rows(path: Path, rows: list[list[str]], delimiter: str = ",") -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\n").writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def test_quotes_embedded_newlines_and_record_start_lines(tmp_path: Path) -> None:
    path = write_rows(
        tmp_path / "a.csv",
        [
            ["id", "title", "text", "cluster"],
            ["1", "One", 'He said "hi",\nthen left.\nEnd.', "c1"],
            ["2", "Two", "plain", "c2"],
        ],
    )
    first, second = read_articles([path])
    assert first.text == 'He said "hi",\nthen left.\nEnd.'
    assert (first.origin, second.origin) == (f"{path}:2", f"{path}:5")
    assert dict(second.extra) == {"cluster": "c2"}


def test_fields_longer_than_the_default_csv_limit(tmp_path: Path) -> None:
    long_text = "x" * 200_000
    path = write_rows(tmp_path / "b.csv", [["text"], [long_text]])
    (article,) = read_articles([path])
    assert len(article.text) == 200_000
    assert article.id == "b.csv:2"


def test_tsv(tmp_path: Path) -> None:
    path = write_rows(
        tmp_path / "c.tsv", [["id", "text", "date"], ["k", "a,b", "2020-01-01"]], "\t"
    )
    (article,) = read_articles([path])
    assert (article.id, article.text, article.date is not None) == ("k", "a,b", True)


def test_wrong_field_count_names_the_row_and_skip_continues(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("id,text\n1,ok\n2,too,many\n\n3,fine\n", encoding="utf-8")
    with pytest.raises(CorpusError) as info:
        list(read_articles([path]))
    assert info.value.origin == f"{path}:3"
    assert "row has 3 fields but the header has 2" in info.value.reason
    report = ReadReport()
    assert [a.id for a in read_articles([path], on_error="skip", report=report)] == ["1", "3"]
    assert [r.origin for r in report.rejects] == [f"{path}:3"]
    assert report.read == 3


def test_header_without_text_column(tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_text("id,body\n1,x\n", encoding="utf-8")
    with pytest.raises(
        CorpusError, match=r"e\.csv:1: the header has no 'text' column \(columns: id, body\)"
    ):
        list(read_articles([path]))
    assert [a.text for a in read_articles([path], fields=FieldMap(text="body"))] == ["x"]


def test_duplicate_header_names(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text("text,text\na,b\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="duplicate column name 'text'"):
        list(read_articles([path]))


def test_bom_blank_cells_and_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "g.csv"
    path.write_bytes(b"\xef\xbb\xbfid,text,source,url,date\n,body,,,\n")
    (article,) = read_articles([path])
    assert (article.id, article.source, article.url, article.date, article.date_text) == (
        "g.csv:2",
        None,
        None,
        None,
        None,
    )
    empty = tmp_path / "h.csv"
    empty.write_bytes(b"")
    report = ReadReport()
    assert list(read_articles([empty], report=report)) == []
    assert report.files == 1


def test_invalid_utf8_in_a_row(tmp_path: Path) -> None:
    path = tmp_path / "i.csv"
    path.write_bytes(b"id,text\n1,ok\n2,caf\xe9\n3,ok\n")
    with pytest.raises(CorpusError) as info:
        list(read_articles([path]))
    assert info.value.origin == f"{path}:3"
    assert "invalid UTF-8 at byte 6 of the line" in info.value.reason
    report = ReadReport()
    assert [a.id for a in read_articles([path], on_error="skip", report=report)] == ["1", "3"]
    assert len(report.rejects) == 1
    assert [a.text for a in read_articles([path], encoding="latin-1")][1] == "caf\u00e9"
