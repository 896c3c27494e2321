"""Compressed inputs (gzip, bzip2, xz): same articles as the plain file, errors named."""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import random
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from clusterer.errors import CorpusError
from clusterer.readers import ReadReport, read_articles

ROOT = Path(__file__).resolve().parent.parent
COMPRESS: dict[str, Callable[[bytes], bytes]] = {
    ".gz": gzip.compress,
    ".bz2": bz2.compress,
    ".xz": lzma.compress,
}


def _records(n: int) -> bytes:
    rng = random.Random(n)
    words = [f"w{k}" for k in range(5000)]
    rows = [
        {"id": f"d{i}", "title": f"Title {i}", "text": " ".join(rng.choices(words, k=150))}
        for i in range(n)
    ]
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


def _seen(paths: list[Path], **kw: object) -> tuple[list[tuple[str, str, str]], ReadReport]:
    report = ReadReport()
    got = [(a.id, a.title, a.text) for a in read_articles(paths, report=report, **kw)]  # type: ignore[arg-type]
    return got, report


def _columns(paths: list[Path], **kw: object) -> list[tuple[str, str, str]]:
    out: list[tuple[str, str, str]] = []
    for batch in read_articles(paths, **kw).batches(7):  # type: ignore[arg-type]
        out.extend(zip(batch.ids, batch.titles, batch.texts, strict=True))
    return out


@pytest.mark.parametrize("suffix", sorted(COMPRESS))
def test_compressed_jsonl_reads_as_the_plain_file(tmp_path: Path, suffix: str) -> None:
    data = _records(50)
    plain = tmp_path / "plain" / "news.jsonl"
    packed = tmp_path / "packed" / f"news.jsonl{suffix}"
    plain.parent.mkdir()
    packed.parent.mkdir()
    plain.write_bytes(data)
    packed.write_bytes(COMPRESS[suffix](data))
    expected, _ = _seen([plain])
    assert len(expected) == 50
    for given in (packed, packed.parent):  # a file, and a file found in a directory
        got, report = _seen([given])
        assert got == expected
        assert report.files == 1
        assert report.skipped == []
        assert _columns([given]) == expected  # the batch (columnar) reader too


def test_format_comes_from_the_suffix_under_the_compression(tmp_path: Path) -> None:
    page = (ROOT / "corpus" / "aggregator_page.txt").read_bytes()
    (tmp_path / "page.txt.gz").write_bytes(gzip.compress(page))
    (tmp_path / "backup.tar.gz").write_bytes(gzip.compress(b"not an article"))
    report = ReadReport()
    articles = list(read_articles([tmp_path], report=report))
    assert [a.id for a in articles] == [f"page.txt.gz#{i}" for i in range(1, 5)]
    plain = list(read_articles([ROOT / "corpus" / "aggregator_page.txt"]))
    assert [a.text for a in articles] == [a.text for a in plain]
    assert [(Path(s.origin).name, s.reason) for s in report.skipped] == [
        ("backup.tar.gz", "unsupported file type '.tar.gz'")
    ]


def test_compressed_standard_input_is_recognised(monkeypatch: pytest.MonkeyPatch) -> None:
    data = _records(5)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(gzip.compress(data))))
    assert [a.id for a in read_articles(["-"])] == [f"d{i}" for i in range(5)]


@pytest.mark.parametrize("suffix", sorted(COMPRESS))
def test_truncated_file_keeps_the_lines_before_and_names_the_file(
    tmp_path: Path, suffix: str
) -> None:
    data = _records(3000)  # ~2.5 MB: several bzip2 blocks (900 kB each)
    packed = COMPRESS[suffix](data)
    cut = tmp_path / f"cut.jsonl{suffix}"
    cut.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(CorpusError, match=r"cut\.jsonl.*cannot decompress.*truncated or corrupt"):
        list(read_articles([cut]))
    got, report = _seen([cut], on_error="skip")
    # every complete line decompressed before the cut is read, in order
    assert got, "the articles before the cut are kept"
    assert [g[0] for g in got] == [f"d{i}" for i in range(len(got))]
    assert len(got) < 3000
    assert report.read == len(got) + 1
    assert len(report.rejects) == 1
    assert report.rejects[0].origin == str(cut)
    assert "cannot decompress" in report.rejects[0].reason
    assert [c[0] for c in _columns([cut], on_error="skip")] == [g[0] for g in got]


def test_corrupt_gzip_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    packed = bytearray(gzip.compress(_records(200)))
    packed[len(packed) // 2] ^= 0xFF
    bad = tmp_path / "bad.jsonl.gz"
    bad.write_bytes(bytes(packed))
    with pytest.raises(CorpusError, match=r"bad\.jsonl\.gz.*cannot decompress the gzip data"):
        list(read_articles([bad]))
    header_only = tmp_path / "header.gz"
    header_only.write_bytes(b"\x1f\x8bgarbage")
    with pytest.raises(CorpusError, match=r"header\.gz.*cannot decompress"):
        list(read_articles([header_only]))


@pytest.mark.parametrize(("outer", "inner"), [(".gz", ".gz"), (".xz", ".gz"), (".gz", ".bz2")])
def test_a_file_compressed_twice_is_named_as_such(tmp_path: Path, outer: str, inner: str) -> None:
    twice = tmp_path / f"news.jsonl{outer}"
    twice.write_bytes(COMPRESS[outer](COMPRESS[inner](_records(5))))
    names = {".gz": "gzip", ".bz2": "bzip2", ".xz": "xz"}
    message = rf"news\.jsonl.*compressed twice \({names[inner]} data inside {names[outer]}\)"
    with pytest.raises(CorpusError, match=message):
        list(read_articles([twice]))
    got, report = _seen([twice], on_error="skip")
    assert got == []
    assert [("compressed twice" in r.reason, r.origin) for r in report.rejects] == [
        (True, str(twice))
    ]


def test_dask_engine_refuses_compressed_and_unknown_files(tmp_path: Path) -> None:
    """Its partitions are byte ranges: a compressed file is an error, never skipped."""
    from clusterer.engines.partitions import discover

    (tmp_path / "a.jsonl").write_bytes(_records(3))
    (tmp_path / "backup.tar.gz").write_bytes(gzip.compress(b"not articles"))  # not ours: skipped
    assert [p.label for p in discover([tmp_path])] == [str(tmp_path / "a.jsonl")]
    (tmp_path / "b.jsonl.gz").write_bytes(gzip.compress(_records(3)))
    for given in (tmp_path, tmp_path / "b.jsonl.gz"):
        with pytest.raises(CorpusError, match=r"b\.jsonl\.gz.*compressed inputs are not read"):
            discover([given])
    (tmp_path / "page.txt").write_text("Title\n\nBody.\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"page\.txt.*not a JSONL, Parquet, CSV or TSV file"):
        discover([tmp_path / "page.txt"])


@pytest.mark.parametrize("suffix", sorted(COMPRESS))
def test_a_large_compressed_page_is_read_whole(tmp_path: Path, suffix: str) -> None:
    """Text and HTML are read in one piece: more than one decompression step of it."""
    rng = random.Random(5)
    body = " ".join(rng.choices([f"w{k}" for k in range(3000)], k=400_000))  # ~2.5 MB
    page = f"A long report\n\n{body}\n"
    (tmp_path / f"long.txt{suffix}").write_bytes(COMPRESS[suffix](page.encode()))
    (article,) = read_articles([tmp_path / f"long.txt{suffix}"])
    assert article.title == "A long report"
    assert article.text == body
