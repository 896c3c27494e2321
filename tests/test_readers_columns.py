"""Reading as columns (the clustering pass) gives exactly what reading articles gives.

``read_articles(...).batches(n)`` fills columns straight from JSON Lines records; every
test here compares it with iterating the articles of the same call: the same rows,
the same report (records read, rejects, files) and the same errors, naming file and
line. Files that are not JSON Lines go through the article readers in both.
"""

from __future__ import annotations

import io
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from clusterer import ClusterConfig, cluster
from clusterer.errors import CorpusError, DuplicateIdError
from clusterer.readers import FieldMap, ReadReport, read_articles
from clusterer.readers.columns import ArticleColumns
from clusterer.readers.lines import iter_line_views, iter_lines

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"

Rows = list[tuple[Any, ...]]
Outcome = tuple[str, Any, Any]


def rows_of(columns: ArticleColumns) -> Rows:
    dates = [None if d is None else d.isoformat() for d in columns.dates]
    return list(
        zip(
            columns.ids,
            columns.titles,
            columns.texts,
            columns.sources,
            dates,
            columns.urls,
            columns.origins,
            strict=True,
        )
    )


def report_of(report: ReadReport) -> tuple[Any, ...]:
    return (report.read, report.files, list(report.rejects), list(report.skipped))


def by_articles(paths: list[str | Path], **options: Any) -> Outcome:
    """Rows and report from iterating articles, or the error raised."""
    report = ReadReport()
    columns = ArticleColumns()
    try:
        for article in read_articles(paths, report=report, **options):
            columns.add(article)
    except CorpusError as error:
        return ("error", type(error), str(error))
    return ("ok", rows_of(columns), report_of(report))


def by_columns(paths: list[str | Path], size: int, **options: Any) -> Outcome:
    """Rows and report from reading batches of columns, or the error raised."""
    report = ReadReport()
    rows: Rows = []
    try:
        for batch in read_articles(paths, report=report, **options).batches(size):
            assert 0 < len(batch) <= size
            rows += rows_of(batch)
    except CorpusError as error:
        return ("error", type(error), str(error))
    return ("ok", rows, report_of(report))


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def jsonl(*records: object) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


AWKWARD = [
    {
        "id": "u1",
        "title": "Zürich — «Ölpreis» 日本語 😀",
        "text": "naïve café\u2028über \U0001d518\U0001d52b",
    },
    {"id": "e1", "title": "", "text": ""},
    {"id": "e2", "text": None},
    {"text": "no id, no title"},
    {"id": None, "text": "null id"},
    {"id": "  ", "text": "blank id"},
    {"id": 42, "title": 7, "text": "numbers"},
    {"id": "h1", "title": "<b>Bold</b> title", "text": "<p>Port <i>workers</i></p><p>strike</p>"},
    {"id": "lt", "text": "a < b and c > d"},
    {"id": "l1", "text": ["para one", "para two"]},
    {"id": "s1", "text": "x", "source": "  ", "url": ""},
    {"id": "s2", "text": "x", "source": "Wire", "url": "https://w.example/a-b-c-d"},
    {"id": "d1", "text": "x", "date": "2025-04-12T08:30:00+02:00"},
    {"id": "d2", "text": "x", "date": "2025-04-12"},
    {"id": "d3", "text": "x", "date": "12-04-2025"},
    {"id": "d4", "text": "x", "date": "Sat, 12 Apr 2025 08:30:00 +0000"},
    {"id": "d5", "text": "x", "date": "not a date"},
    {"id": "d6", "text": "x", "date": 1744446600},
    {"id": "d7", "text": "x", "date": "3 hours ago"},
    {"id": "d8", "text": "x", "date": "2025-13-45T99:00"},
    {"id": "d9", "text": "x", "date": ""},
    {"id": "x1", "text": "x", "extra": {"nested": [1, 2]}, "cluster": "c"},
    {"id": 10**30, "text": "big integer id"},
]


def test_awkward_records_read_the_same(tmp_path: Path) -> None:
    path = write(tmp_path, "awk.jsonl", jsonl(*AWKWARD))
    expected = by_articles([path])
    assert expected[0] == "ok"
    assert len(expected[1]) == len(AWKWARD)
    for size in (1, 2, 5, 1000):
        assert by_columns([path], size) == expected


def test_crlf_bom_blank_lines_and_no_final_newline(tmp_path: Path) -> None:
    body = jsonl(*AWKWARD[:6]).replace("\n", "\r\n")
    content = b"\xef\xbb\xbf" + body.encode() + b"\r\n   \n\n" + b'{"id": "last", "text": "end"}'
    path = write(tmp_path, "crlf.jsonl", content)
    expected = by_articles([path])
    assert expected[0] == "ok"
    assert expected[1][-1][0] == "last"
    assert by_columns([path], 4) == expected


def test_other_encoding(tmp_path: Path) -> None:
    content = jsonl({"id": "c1", "title": "Caf\u00e9", "text": "na\u00efve \u00e9t\u00e9"})
    path = write(tmp_path, "latin.jsonl", content.encode("cp1252"))
    expected = by_articles([path], encoding="cp1252")
    assert expected[0] == "ok"
    assert expected[1][0][1] == "Caf\u00e9"
    assert by_columns([path], 10, encoding="cp1252") == expected


def test_field_map_and_page_date(tmp_path: Path) -> None:
    records = [
        {"doc": "a", "head": "H", "body": "B", "when": "2 hours ago", "outlet": "O", "link": "L"},
        {"doc": "b", "body": "C", "when": "2025-01-01T00:00:00Z"},
    ]
    path = write(tmp_path, "mapped.jsonl", jsonl(*records))
    fields = FieldMap(id="doc", title="head", text="body", date="when", source="outlet", url="link")
    options: dict[str, Any] = {"fields": fields, "page_date": datetime(2025, 1, 1, 12)}
    expected = by_articles([path], **options)
    assert expected[0] == "ok"
    assert expected[1][0][4] == "2025-01-01T10:00:00+00:00"
    assert by_columns([path], 1, **options) == expected


@pytest.mark.parametrize("on_error", ["raise", "skip"])
def test_bad_lines_name_file_and_line_or_are_counted(tmp_path: Path, on_error: str) -> None:
    content = (
        jsonl({"id": "1", "text": "a"})
        + '{"id": "2", "text": \n'  # malformed JSON
        + jsonl({"id": "3", "body": "no text field"})
        + jsonl({"id": "4", "text": "d", "title": {"a": 1}})  # wrong type
        + "[1, 2]\n"  # not an object
        + b"\xff\xfe{}\n".decode("latin-1")  # written as UTF-8: still a bad line
        + jsonl({"id": "7", "text": "g", "date": "in the spring"})  # a bad date is kept
        + jsonl({"text": "no id"})
    )
    path = write(tmp_path, "bad.jsonl", content)
    expected = by_articles([path], on_error=on_error)
    assert by_columns([path], 2, on_error=on_error) == expected
    if on_error == "raise":
        assert expected == ("error", CorpusError, f"{path}:2: " + expected[2].split(": ", 1)[1])
        assert "malformed JSON" in expected[2]
    else:
        _, rows, (read, files, rejects, _) = expected
        assert [r[0] for r in rows] == ["1", "7", "bad.jsonl:8"]
        assert rows[1][4] is None  # unresolved date: no error, no date
        assert [r.origin for r in rejects] == [f"{path}:{n}" for n in (2, 3, 4, 5, 6)]
        assert (read, files) == (8, 1)


def test_each_bad_line_raises_with_its_own_origin(tmp_path: Path) -> None:
    bad = [
        ('{"id": "2", "text": ', "malformed JSON"),
        ('{"id": "2", "body": "x"}', "no 'text' field"),
        ('{"id": "2", "text": "x", "url": [1]}', "field 'url' must be a string"),
        ('{"id": true, "text": "x"}', "field 'id' must be a string"),
        ('"just a string"', "got a string"),
    ]
    for n, (line, reason) in enumerate(bad):
        path = write(tmp_path, f"b{n}.jsonl", jsonl({"id": "1", "text": "ok"}) + line + "\n")
        with pytest.raises(CorpusError) as info:
            list(read_articles([path]).batches(10))
        assert info.value.origin == f"{path}:2"
        assert reason in info.value.reason
        assert by_columns([path], 10) == by_articles([path])


def test_json_array_file_is_refused_in_either_mode(tmp_path: Path) -> None:
    path = write(tmp_path, "arr.jsonl", '[{"id": 1, "text": "a"},\n{"id": 2, "text": "b"}]\n')
    for on_error in ("raise", "skip"):
        outcome = by_columns([path], 10, on_error=on_error)
        assert outcome == by_articles([path], on_error=on_error)
    with pytest.raises(CorpusError, match="JSON array"):
        list(read_articles([path]).batches(10))


@pytest.mark.parametrize("policy", ["error", "first", "rename"])
@pytest.mark.parametrize("on_error", ["raise", "skip"])
def test_duplicate_id_policies(tmp_path: Path, policy: str, on_error: str) -> None:
    a = write(tmp_path, "p.jsonl", jsonl({"id": "x", "text": "1"}, {"id": "x~2", "text": "2"}))
    b = write(
        tmp_path,
        "q.csv",
        "id,text\nx,3\ny,4\n",
    )
    c = write(tmp_path, "r.jsonl", jsonl({"id": "x", "text": "5"}, {"id": "y", "text": "6"}))
    options = {"on_duplicate_id": policy, "on_error": on_error}
    expected = by_articles([a, b, c], **options)
    for size in (1, 2, 100):
        assert by_columns([a, b, c], size, **options) == expected
    if policy == "error":
        assert expected[:2] == ("error", DuplicateIdError)
        assert f"{b}:2: duplicate id 'x' (first seen at {a}:1)" in expected[2]


def test_mixed_directory_reads_the_same(tmp_path: Path) -> None:
    write(tmp_path, "a.jsonl", jsonl(*AWKWARD[:8]))
    write(tmp_path, "b.csv", "id,title,text,date\nc1,T,body one,2025-01-02\nc2,,body two,\n")
    write(tmp_path, "c.txt", "A headline\n\nA body of text.\n")
    write(tmp_path, "README.md", "not read")
    expected = by_articles([tmp_path])
    assert expected[0] == "ok"
    assert len(expected[1]) == 11
    assert by_columns([tmp_path], 3) == expected


def test_long_lines_across_buffer_refills(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import clusterer.readers.lines as lines

    monkeypatch.setattr(lines, "CHUNK_SIZE", 7)
    records = [
        {"id": str(i), "text": "w\u00e9" * (i * 13), "date": "2025-01-02"} for i in range(30)
    ]
    path = write(tmp_path, "t.jsonl", jsonl(*records))
    expected = by_articles([path])
    assert [len(r[2]) for r in expected[1]] == [i * 26 for i in range(30)]
    assert by_columns([path], 4) == expected


def test_standard_input(monkeypatch: pytest.MonkeyPatch) -> None:
    data = jsonl({"text": "a"}, {"id": "b", "text": "b"}).encode()

    class Stdin:
        def __init__(self) -> None:
            self.buffer = io.BytesIO(data)

    monkeypatch.setattr(sys, "stdin", Stdin())
    expected = by_articles(["-"])
    monkeypatch.setattr(sys, "stdin", Stdin())
    assert by_columns(["-"], 1) == expected
    assert expected[1][0][:1] == ("<stdin>:1",)


@pytest.mark.parametrize(
    "name",
    [
        "basil_triplets/basil_triplets.jsonl",
        "giveme5w1h_news_cluster/giveme5w1h_news_cluster.jsonl",
        "reuters21578/reuters21578.jsonl",
    ],
)
def test_shared_datasets_read_the_same(name: str) -> None:
    path = DATA / name
    if not path.exists():
        pytest.skip(f"third-party data set {path} is not present (it is not shipped in the repo)")
    expected = by_articles([path])
    assert expected[0] == "ok"
    assert by_columns([path], 5000) == expected


def test_synthetic_corpus_reads_the_same(tmp_path: Path) -> None:
    from benchmarks.synth import write_corpus

    path = tmp_path / "synth-8000.jsonl"
    write_corpus(8000, path, seed=7)
    expected = by_articles([path])
    assert len(expected[1]) == 8000
    assert by_columns([path], 3000) == expected


def test_batches_only_before_iteration(tmp_path: Path) -> None:
    path = write(tmp_path, "s.jsonl", jsonl({"id": "1", "text": "a"}, {"id": "2", "text": "b"}))
    stream = read_articles([path])
    assert not stream.started
    assert next(stream).id == "1"
    assert stream.started
    with pytest.raises(RuntimeError):
        stream.batches(10)
    assert [a.id for a in stream] == ["2"]


def test_cluster_of_a_stream_equals_cluster_of_its_articles(tmp_path: Path) -> None:
    text = "the harbour workers walked out on monday over pay and conditions at the port"
    records = [
        {"id": f"a{i}", "title": f"Port strike {i % 3}", "text": f"{text} {i % 4}", "date": None}
        for i in range(12)
    ]
    write(tmp_path, "a.jsonl", jsonl(*records))
    write(tmp_path, "b.csv", f"id,title,text\nc1,Port strike,{text}\n")
    config = ClusterConfig(batch_size=5, num_perm=32)
    from_stream = cluster(read_articles([tmp_path]), config)
    from_list = cluster(list(read_articles([tmp_path])), config)
    assert from_stream.assignments == from_list.assignments
    assert from_stream.stories == from_list.stories
    assert from_stream.duplicate_groups == from_list.duplicate_groups


LINE_BITS = [b"", b"\n", b"\r\n", b"\xef\xbb\xbf", b"a", b"{}", b"\xff", b"  ", b"x" * 20]


@example(parts=[b"\n", b"\xef\xbb\xbf"], head=1, chunk=2)  # a BOM-like 2nd line, tiny reads
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    parts=st.lists(st.sampled_from(LINE_BITS), max_size=30),
    head=st.integers(0, 40),
    chunk=st.integers(1, 16),
)
def test_line_views_split_as_iter_lines(parts: list[bytes], head: int, chunk: int) -> None:
    import clusterer.readers.lines as lines

    data = b"".join(parts)
    saved = lines.CHUNK_SIZE
    lines.CHUNK_SIZE = chunk
    try:
        expected = list(iter_lines(io.BytesIO(data[head:]), data[:head]))
        got = [bytes(v) for v in iter_line_views(io.BytesIO(data[head:]), data[:head])]
    finally:
        lines.CHUNK_SIZE = saved
    assert got == expected


@pytest.mark.parametrize("chunk", [1, 2, 3, 4, 64])
@pytest.mark.parametrize(
    ("data", "want"),
    [
        (b"\n\xef\xbb\xbf", [b"", b"\xef\xbb\xbf"]),  # BOM bytes past the start stay
        (b"\xef\xbb\xbfa\n\xef\xbb\xbfb", [b"a", b"\xef\xbb\xbfb"]),
        (b"\xef\xbbx\n", [b"\xef\xbbx"]),  # a BOM's first two bytes only
        (b"\xef\n", [b"\xef"]),
    ],
)
def test_only_a_bom_at_the_very_start_is_removed(
    data: bytes, want: list[bytes], chunk: int
) -> None:
    import clusterer.readers.lines as lines

    saved = lines.CHUNK_SIZE
    lines.CHUNK_SIZE = chunk
    try:
        assert list(iter_lines(io.BytesIO(data))) == want
        assert [bytes(v) for v in iter_line_views(io.BytesIO(data))] == want
    finally:
        lines.CHUNK_SIZE = saved


_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=False),
    st.text(max_size=12),
    st.sampled_from(["", "  ", "<p>x</p>", "2025-04-12", "2025-04-12T08:30:00Z", "yesterday"]),
    st.lists(st.text(max_size=4), max_size=2),
)
_RECORDS = st.dictionaries(
    st.sampled_from(["id", "title", "text", "date", "source", "url", "other"]), _VALUES
)
_LINES = st.one_of(
    _RECORDS.map(lambda r: json.dumps(r, ensure_ascii=False).encode()),
    st.sampled_from([b"", b"  ", b"{", b"[]", b"1", b'{"id": "dup", "text": "t"}', b"\xff"]),
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    lines=st.lists(_LINES, max_size=12),
    crlf=st.booleans(),
    on_error=st.sampled_from(["raise", "skip"]),
    policy=st.sampled_from(["error", "first", "rename"]),
    size=st.integers(1, 5),
)
def test_generated_records_read_the_same(
    tmp_path_factory: pytest.TempPathFactory,
    lines: list[bytes],
    crlf: bool,
    on_error: str,
    policy: str,
    size: int,
) -> None:
    path = tmp_path_factory.mktemp("gen") / "g.jsonl"
    path.write_bytes((b"\r\n" if crlf else b"\n").join(lines))
    options = {"on_error": on_error, "on_duplicate_id": policy}
    assert by_columns([path], size, **options) == by_articles([path], **options)
