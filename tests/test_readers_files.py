"""Files and directories: dispatch, walking rules, text/Markdown/HTML, file-level errors."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clusterer.errors import CorpusError, MissingExtraError
from clusterer.readers import ReadReport, read_articles


def make_tree(root: Path) -> None:
    (root / "sub").mkdir(parents=True)
    (root / "b.txt").write_text("Bee title\n\nBee body.\n", encoding="utf-8")
    (root / "a.jsonl").write_text('{"text": "first"}\n{"text": "second"}\n', encoding="utf-8")
    (root / "sub" / "c.md").write_text("# Sea title\n\nSea body.\n", encoding="utf-8")
    (root / "README.md").write_text("# About this corpus\n", encoding="utf-8")
    (root / "readme.txt").write_text("notes\n", encoding="utf-8")
    (root / ".hidden.jsonl").write_text('{"text": "hidden"}\n', encoding="utf-8")
    (root / ".git").mkdir()
    (root / ".git" / "x.txt").write_text("x", encoding="utf-8")
    (root / "image.png").write_bytes(b"\x89PNG\x00\x00")


def test_directory_is_walked_sorted_with_relative_ids(tmp_path: Path) -> None:
    make_tree(tmp_path / "corpus")
    report = ReadReport()
    articles = list(read_articles([tmp_path / "corpus"], report=report))
    assert [a.id for a in articles] == ["a.jsonl:1", "a.jsonl:2", "b.txt", "sub/c.md"]
    assert [a.title for a in articles] == ["", "", "Bee title", "Sea title"]
    assert articles[3].text == "Sea body."
    assert articles[2].origin == f"{tmp_path / 'corpus' / 'b.txt'}:1"
    assert report.files == 3
    assert report.read == 4
    skipped = {Path(s.origin).name: s.reason for s in report.skipped}
    assert set(skipped) == {"README.md", "readme.txt", "image.png"}
    assert "README" in skipped["README.md"]
    assert "unsupported file type '.png'" in skipped["image.png"]


def test_ids_do_not_depend_on_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_tree(tmp_path / "corpus")
    first = [a.id for a in read_articles([tmp_path / "corpus"])]
    monkeypatch.chdir(tmp_path)
    assert [a.id for a in read_articles(["corpus"])] == first
    assert [a.id for a in read_articles([Path("corpus") / "b.txt"])] == ["b.txt"]


def test_explicit_readme_is_read(tmp_path: Path) -> None:
    make_tree(tmp_path)
    assert [a.title for a in read_articles([tmp_path / "README.md"])] == ["About this corpus"]


def test_symlink_loops_terminate_and_files_are_read_once(tmp_path: Path) -> None:
    make_tree(tmp_path / "corpus")
    os.symlink(tmp_path / "corpus", tmp_path / "corpus" / "sub" / "loop")
    os.symlink(tmp_path / "corpus" / "b.txt", tmp_path / "corpus" / "z.txt")
    report = ReadReport()
    articles = list(
        read_articles([tmp_path / "corpus", tmp_path / "corpus" / "b.txt"], report=report)
    )
    assert [a.id for a in articles] == ["a.jsonl:1", "a.jsonl:2", "b.txt", "sub/c.md"]
    assert sum("same file as" in s.reason for s in report.skipped) == 2


def test_missing_path_raises_or_is_rejected(tmp_path: Path) -> None:
    missing = tmp_path / "nope.jsonl"
    with pytest.raises(CorpusError, match="no such file or directory"):
        list(read_articles([missing]))
    good = tmp_path / "ok.jsonl"
    good.write_text('{"text": "t"}\n', encoding="utf-8")
    report = ReadReport()
    assert len(list(read_articles([missing, good], on_error="skip", report=report))) == 1
    assert report.rejects[0].origin == str(missing)
    assert report.read == 2


def test_binary_file_is_a_corpus_error(tmp_path: Path) -> None:
    path = tmp_path / "data.jsonl"
    path.write_bytes(b"\x89PN\x00\x00binary")  # (gzip data is decompressed: see compressed tests)
    with pytest.raises(CorpusError, match=r"binary file \(NUL byte at offset 3\)"):
        list(read_articles([path]))
    report = ReadReport()
    assert list(read_articles([path], on_error="skip", report=report)) == []
    assert report.rejects[0].origin == str(path)


def test_utf16_file_gets_a_reencode_hint(tmp_path: Path) -> None:
    path = tmp_path / "u.txt"
    path.write_text("Title\nBody", encoding="utf-16")
    with pytest.raises(CorpusError, match="UTF-16; re-encode it as UTF-8"):
        list(read_articles([path]))


def test_text_file_invalid_utf8_names_line(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_bytes(b"Title\nline two\nbad \xff here\n")
    with pytest.raises(CorpusError) as info:
        list(read_articles([path]))
    assert info.value.origin == f"{path}:3"
    assert "invalid UTF-8 at byte 5 of the line (0xff)" in info.value.reason


def test_text_file_details(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_bytes(
        b"\xef\xbb\xbf\r\n\r\n  Title  \r\nTitle\r\n\r\nPara one.  \r\n\r\nPara two.\r\n\r\n"
    )
    (article,) = read_articles([path])
    assert (article.title, article.text, article.origin) == (
        "Title",
        "Para one.\n\nPara two.",
        f"{path}:3",
    )
    blank = tmp_path / "blank.txt"
    blank.write_text("  \n\n", encoding="utf-8")
    report = ReadReport()
    assert list(read_articles([blank], report=report)) == []
    assert report.files == 1


def test_title_only_text_is_an_empty_article(tmp_path: Path) -> None:
    path = tmp_path / "only.txt"
    path.write_text("Just a headline\n", encoding="utf-8")
    (article,) = read_articles([path])
    assert (article.title, article.text) == ("Just a headline", "")


def test_unknown_suffix_given_explicitly_is_sniffed(tmp_path: Path) -> None:
    as_json = tmp_path / "records.log"
    as_json.write_text('{"id": "j", "text": "t"}\n', encoding="utf-8")
    as_text = tmp_path / "story"
    as_text.write_text("Headline\nBody\n", encoding="utf-8")
    assert [a.id for a in read_articles([as_json, as_text])] == ["j", "story"]


def test_single_path_string_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "x.txt"
    path.write_text("T\nB\n", encoding="utf-8")
    assert [a.id for a in read_articles(str(path))] == ["x.txt"]


def test_same_name_in_two_arguments_is_a_duplicate(tmp_path: Path) -> None:
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "s.txt").write_text(f"{name}\nbody\n", encoding="utf-8")
    renamed = read_articles(
        [tmp_path / "one" / "s.txt", tmp_path / "two" / "s.txt"], on_duplicate_id="rename"
    )
    assert [a.id for a in renamed] == ["s.txt", "s.txt~2"]


HTML = b"""<!DOCTYPE html><html><head><title>Harbour bridge reopens</title>
<meta property="og:site_name" content="City Gazette">
<meta property="article:published_time" content="2024-03-05T10:00:00Z">
</head><body><nav>Home | World | Sport</nav><article><h1>Harbour bridge reopens</h1>
<p>The harbour bridge reopened on Tuesday after three months of repairs, officials said,
and traffic returned to normal levels within hours of the barriers being lifted.</p>
<p>Engineers replaced the expansion joints and repainted the main span, a job that
had been postponed twice because of storms during the winter months.</p>
</article><footer>Copyright City Gazette</footer></body></html>"""


def test_html_through_trafilatura(tmp_path: Path) -> None:
    pytest.importorskip("trafilatura", reason="the [html] extra is not installed")
    path = tmp_path / "page.html"
    path.write_bytes(HTML)
    (article,) = read_articles([path])
    assert article.id == "page.html"
    assert article.title == "Harbour bridge reopens"
    assert article.text.startswith("The harbour bridge reopened on Tuesday")
    assert "Engineers replaced the expansion joints" in article.text
    assert "Home | World" not in article.text
    assert article.source == "City Gazette"
    assert article.date is not None
    assert article.date.date().isoformat() == "2024-03-05"
    assert article.origin == f"{path}:1"


def test_html_without_trafilatura_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "page.htm"
    path.write_bytes(HTML)
    monkeypatch.setitem(sys.modules, "trafilatura", None)  # makes the import fail
    with pytest.raises(MissingExtraError, match=r"pip install 'clusterer\[html\]'") as info:
        list(read_articles([path], on_error="skip"))
    assert info.value.extra == "html"


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.binary(max_size=300), suffix=st.sampled_from([".jsonl", ".csv", ".tsv", ".txt", ".md"])
)
def test_arbitrary_bytes_only_ever_raise_corpus_errors(
    tmp_path: Path, data: bytes, suffix: str
) -> None:
    path = tmp_path / f"fuzz{suffix}"
    path.write_bytes(data)
    report = ReadReport()
    try:
        articles = list(read_articles([path], on_error="skip", report=report))
    except CorpusError:
        return
    assert report.read == len(articles) + len(report.rejects)
    for article in articles:
        (article.title + article.text).encode("utf-8")
