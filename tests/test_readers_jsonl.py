"""JSON Lines reading: fields, ids, errors with path:line, skip mode, stdin."""

from __future__ import annotations

import io
import json
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from clusterer.errors import ConfigError, CorpusError, DuplicateIdError
from clusterer.models import Reject
from clusterer.readers import FieldMap, ReadReport, read_articles

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


def jsonl(*records: object) -> str:
    return "".join(json.dumps(r) + "\n" for r in records)


def test_fields_extra_and_dates(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "a.jsonl",
        jsonl(
            {
                "id": "x1",
                "title": "T",
                "text": "Body",
                "date": "2020-01-02",
                "source": "S",
                "url": "http://u",
                "cluster": "c7",
                "topics": ["a", "b"],
            }
        ),
    )
    (article,) = read_articles([path])
    assert (article.id, article.title, article.text, article.source, article.url) == (
        "x1",
        "T",
        "Body",
        "S",
        "http://u",
    )
    assert article.date == datetime(2020, 1, 2, tzinfo=timezone.utc)
    assert article.origin == f"{path}:1"
    assert dict(article.extra) == {"cluster": "c7", "topics": ["a", "b"]}


def test_missing_id_is_derived_from_file_and_line_and_numbers_become_strings(
    tmp_path: Path,
) -> None:
    path = write(
        tmp_path,
        "b.jsonl",
        "\n"
        + jsonl(
            {"text": "a"},
            {"id": None, "text": "b"},
            {"id": 7, "text": "c"},
            {"id": " ", "text": "d"},
        ),
    )
    assert [a.id for a in read_articles([path])] == ["b.jsonl:2", "b.jsonl:3", "7", "b.jsonl:5"]


def test_null_and_empty_text_are_kept_as_empty_articles(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "c.jsonl",
        jsonl({"id": 1, "text": None}, {"id": 2, "text": ""}, {"id": 3, "text": "  "}),
    )
    assert [a.text for a in read_articles([path])] == ["", "", "  "]


def test_field_map_renames_and_keeps_unmapped_fields(tmp_path: Path) -> None:
    path = write(
        tmp_path, "d.jsonl", jsonl({"doc": "k", "body": "B", "headline": "H", "text": "other"})
    )
    fields = FieldMap(id="doc", text="body", title="headline")
    (article,) = read_articles([path], fields=fields)
    assert (article.id, article.title, article.text) == ("k", "H", "B")
    assert dict(article.extra) == {"text": "other"}


def test_missing_text_field_names_path_line_and_fix(tmp_path: Path) -> None:
    path = write(tmp_path, "e.jsonl", jsonl({"id": 1, "text": "ok"}, {"id": 2, "body": "no text"}))
    with pytest.raises(CorpusError) as info:
        list(read_articles([path]))
    assert info.value.origin == f"{path}:2"
    assert "no 'text' field" in str(info.value)
    assert "body, id" in info.value.reason
    assert "FieldMap(text=" in info.value.reason


def test_malformed_line_raises_then_skip_records_rejects(tmp_path: Path) -> None:
    content = (
        jsonl({"id": 1, "text": "a"})
        + '{"id": 2, "text": \n'
        + "[1, 2]\n"
        + jsonl({"id": 4, "text": "d"})
    )
    path = write(tmp_path, "f.jsonl", content)
    with pytest.raises(CorpusError, match=r"f\.jsonl:2: malformed JSON"):
        list(read_articles([path]))
    report = ReadReport()
    articles = list(read_articles([path], on_error="skip", report=report))
    assert [a.id for a in articles] == ["1", "4"]
    assert [r.origin for r in report.rejects] == [f"{path}:2", f"{path}:3"]
    assert "got an array" in report.rejects[1].reason
    assert report.read == 4
    assert report.files == 1


def test_invalid_utf8_says_where_and_what_to_do(tmp_path: Path) -> None:
    path = write(tmp_path, "g.jsonl", b'{"id": 1, "text": "ok"}\n{"id": 2, "text": "caf\xe9"}\n')
    with pytest.raises(CorpusError) as info:
        list(read_articles([path]))
    assert info.value.origin == f"{path}:2"
    assert "invalid UTF-8 at byte 23 of the line (0xe9)" in info.value.reason
    assert "--encoding cp1252" in info.value.reason
    (_, second) = read_articles([path], encoding="cp1252")
    assert second.text == "caf\u00e9"


def test_bom_is_stripped(tmp_path: Path) -> None:
    path = write(tmp_path, "h.jsonl", b"\xef\xbb\xbf" + jsonl({"id": "z", "text": "t"}).encode())
    assert [a.id for a in read_articles([path])] == ["z"]


def test_lone_surrogates_are_replaced(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "i.jsonl",
        '{"id": "s", "text": "a\\ud800b", "title": "\\udc00"}\n'
        '{"id": "p", "text": "\\ud83d\\ude00"}\n',
    )
    first, second = read_articles([path])
    assert (first.text, first.title) == ("a\ufffdb", "\ufffd")
    first.text.encode("utf-8")
    assert second.text == "\U0001f600"


def test_unicode_line_separators_inside_strings_do_not_split_records(tmp_path: Path) -> None:
    path = write(tmp_path, "j.jsonl", '{"id": "u", "text": "a\u2028b\u0085c"}\n')
    (article,) = read_articles([path])
    assert article.text == "a\u2028b\u0085c"


def test_json_array_file_gives_a_conversion_hint(tmp_path: Path) -> None:
    for content in ('[{"id": 1, "text": "a"}]', '[\n  {"id": 1, "text": "a"}\n]\n'):
        path = write(tmp_path, "k.json", content)
        with pytest.raises(CorpusError, match=r"JSON array.*jq -c"):
            list(read_articles([path]))
        report = ReadReport()
        assert list(read_articles([path], on_error="skip", report=report)) == []
        assert len(report.rejects) == 1


def test_pretty_printed_object_gets_a_hint(tmp_path: Path) -> None:
    path = write(tmp_path, "l.json", '{\n  "id": 1,\n  "text": "a"\n}\n')
    with pytest.raises(CorpusError, match="pretty-printed JSON is not JSON Lines"):
        list(read_articles([path]))


def test_wrong_field_type_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "m.jsonl", jsonl({"id": {"a": 1}, "text": "x"}))
    with pytest.raises(CorpusError, match="field 'id' must be a string, got dict"):
        list(read_articles([path]))


def test_list_text_is_joined(tmp_path: Path) -> None:
    path = write(tmp_path, "n.jsonl", jsonl({"id": 1, "text": ["p1", "p2"]}))
    assert next(read_articles([path])).text == "p1\np2"


def test_empty_file_gives_no_articles_but_counts(tmp_path: Path) -> None:
    path = write(tmp_path, "o.jsonl", "")
    report = ReadReport()
    assert list(read_articles([path], report=report)) == []
    assert (report.files, report.read, report.rejects) == (1, 0, [])


def test_duplicate_ids_error_first_rename(tmp_path: Path) -> None:
    a = write(tmp_path, "p.jsonl", jsonl({"id": "x", "text": "1"}, {"id": "x~2", "text": "2"}))
    b = write(tmp_path, "q.jsonl", jsonl({"id": "x", "text": "3"}, {"id": "x", "text": "4"}))
    with pytest.raises(DuplicateIdError) as info:
        list(read_articles([a, b]))
    assert info.value.origin == f"{b}:1"
    assert f"duplicate id 'x' (first seen at {a}:1)" in info.value.reason
    assert "--on-duplicate-id first|rename" in info.value.reason

    report = ReadReport()
    kept = list(read_articles([a, b], on_duplicate_id="first", report=report))
    assert [a_.text for a_ in kept] == ["1", "2"]
    assert [r.origin for r in report.rejects] == [f"{b}:1", f"{b}:2"]
    assert report.read == 4

    renamed = list(read_articles([a, b], on_duplicate_id="rename"))
    assert [x.id for x in renamed] == ["x", "x~2", "x~3", "x~4"]


def test_duplicate_error_raises_even_in_skip_mode(tmp_path: Path) -> None:
    path = write(tmp_path, "r.jsonl", jsonl({"id": "x", "text": "1"}, {"id": "x", "text": "2"}))
    with pytest.raises(DuplicateIdError):
        list(read_articles([path], on_error="skip"))


class _FakeStdin:
    def __init__(self, data: bytes) -> None:
        self.buffer = io.BytesIO(data)


def test_stdin_is_jsonl(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        sys, "stdin", _FakeStdin(jsonl({"text": "a"}, {"id": "b", "text": "b"}).encode())
    )
    report = ReadReport()
    articles = list(read_articles(["-"], report=report))
    assert [(a.id, a.origin) for a in articles] == [("<stdin>:1", "<stdin>:1"), ("b", "<stdin>:2")]
    assert report.files == 1


def test_invalid_options_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="'on_error' parameter of read_articles"):
        read_articles([], on_error="ignore")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="'on_duplicate_id'"):
        read_articles([], on_duplicate_id="last")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="'encoding'"):
        read_articles([], encoding="no-such-codec")
    with pytest.raises(ConfigError, match="FieldMap"):
        FieldMap(text="id")


def test_page_date_resolves_relative_dates_in_records(tmp_path: Path) -> None:
    path = write(tmp_path, "s.jsonl", jsonl({"text": "a", "date": "2 hours ago"}))
    (article,) = read_articles([path], page_date=datetime(2025, 1, 1, 12))
    assert article.date == datetime(2025, 1, 1, 10, tzinfo=timezone.utc)
    assert article.date_text == "2 hours ago"


def test_large_text_across_read_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import clusterer.readers.lines as lines

    monkeypatch.setattr(lines, "CHUNK_SIZE", 7)
    records = [{"id": str(i), "text": "w" * (i * 13)} for i in range(20)]
    path = write(tmp_path, "t.jsonl", jsonl(*records))
    assert [len(a.text) for a in read_articles([path])] == [i * 13 for i in range(20)]


@pytest.mark.parametrize(
    ("name", "count"),
    [
        ("basil_triplets/basil_triplets.jsonl", 300),
        ("giveme5w1h_news_cluster/giveme5w1h_news_cluster.jsonl", 419),
        ("reuters21578/reuters21578.jsonl", 21578),
    ],
)
def test_shared_datasets_read_cleanly(name: str, count: int) -> None:
    path = DATA / name
    if not path.exists():
        pytest.skip(f"third-party data set {path} is not present (it is not shipped in the repo)")
    report = ReadReport()
    articles = list(read_articles([path], report=report))
    assert len(articles) == count
    assert report.rejects == []
    assert report.read == count
    assert all(a.date is None or a.date.tzinfo is not None for a in articles)
    if "cluster" in name:
        assert all("cluster" in a.extra for a in articles)
    if name.startswith("reuters"):
        # two source dates are broken ("605:12:19", a trailing comment): kept as text
        unresolved = [a.date_text for a in articles if a.date is None]
        assert len(unresolved) == 2
        assert all(unresolved)


def test_reject_type() -> None:
    assert Reject("p:1", "r") == Reject("p:1", "r")
