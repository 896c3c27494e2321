# ruff: noqa: RUF001
"""Bad inputs (issue 7): one test per class of damage, through the real command line.

Every class is answered either by a clear error (one line naming ``path:line``, what is
wrong and what to do; exit 1 for input/output, 2 for configuration) or by a counted,
reported reject, and every other article is still clustered (read = clustered +
rejected). Classes already covered elsewhere are referenced in the README's
Guarantees table instead of being tested twice.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import time
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from typer.testing import CliRunner

from clusterer import Article, ClusterConfig, ReadReport, cluster, read_articles
from clusterer.cli import app

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()

# --- texts (written for these tests) ---------------------------------------------------

RATES = (
    "The central bank raised its main interest rate by half a percentage point on Tuesday, "
    "citing persistent inflation in services and a tight labour market, and said that "
    "further increases were possible if price pressures did not ease in the coming months. "
    "Analysts had expected a smaller move, and the currency rose against the dollar."
)
QUAKE = (
    "A strong earthquake struck off the northern coast early on Sunday, damaging roads and "
    "bridges and cutting power to thousands of homes, officials said, as rescue teams "
    "searched collapsed buildings in two towns for survivors through the night."
)
FERRY = (
    "The new ferry line between the two islands opened on Friday with a crossing of forty "
    "minutes, half the time of the old boat, and the operator promised hourly departures "
    "in the summer season once a second vessel arrives from the shipyard."
)


def run(*args: str | Path, input: str | None = None) -> object:
    return runner.invoke(app, [str(a) for a in args], input=input, env={"COLUMNS": "200"})


def write_jsonl(path: Path, records: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), "utf-8")
    return path


def rows(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line]


def one_line_error(result: object, code: int, *needles: str) -> str:
    """Assert the run failed with ``code`` and exactly one ``error:`` line holding ``needles``."""
    assert result.exit_code == code, (result.exit_code, result.output)  # type: ignore[attr-defined]
    lines = result.stderr.strip().splitlines()  # type: ignore[attr-defined]
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: "), lines
    assert "Traceback" not in result.output  # type: ignore[attr-defined]
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


def counts(result: object) -> tuple[int, int, int]:
    """Return (read, clustered, rejected) from the count line; assert they add up."""
    line = next(
        x
        for x in result.stderr.splitlines()
        if x.startswith("read ")  # type: ignore[attr-defined]
    )
    parts = line.split(" / ")
    read, clustered, rejected = (int(p.split()[-1]) for p in parts[:3])
    assert read == clustered + rejected, line
    return read, clustered, rejected


def good(tmp_path: Path, name: str = "good.jsonl") -> Path:
    """Three good articles: two copies of one wire story and an unrelated one."""
    return write_jsonl(
        tmp_path / name,
        [
            {"id": "g1", "title": "Bank raises rates", "text": RATES},
            {"id": "g2", "title": "Bank raises rates", "text": RATES + " Shares fell."},
            {"id": "g3", "title": "Quake hits coast", "text": QUAKE},
        ],
    )


def assert_good_clustered(out: Path) -> None:
    by_id = {r["id"]: r for r in rows(out)}
    assert {"g1", "g2", "g3"} <= set(by_id)
    assert by_id["g1"]["duplicate_group_id"] == by_id["g2"]["duplicate_group_id"]
    assert by_id["g1"]["story_id"] != by_id["g3"]["story_id"]


def cli_skip(tmp_path: Path, *inputs: Path, extra: tuple[str, ...] = ()) -> tuple[object, Path]:
    out = tmp_path / "out.jsonl"
    result = run("cluster", *inputs, "-o", out, "--on-error", "skip", "-q", *extra)
    assert result.exit_code == 0, result.output
    return result, out


# --- 1. empty inputs --------------------------------------------------------------------


def test_empty_file_beside_good_files(tmp_path: Path) -> None:
    corpus = tmp_path / "c"
    corpus.mkdir()
    good(corpus)
    for name in ("empty.jsonl", "empty.csv", "empty.txt", "blank.txt"):
        (corpus / name).write_bytes(b"" if name != "blank.txt" else b"  \n\t\n")
    result, out = cli_skip(tmp_path, corpus)
    assert counts(result) == (3, 3, 0)
    assert_good_clustered(out)


def test_only_empty_input_is_one_clear_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    assert cluster([]).n_articles == 0
    result = run("cluster", empty, "-q")
    assert result.exit_code in (0, 1)
    assert "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1


def test_empty_and_whitespace_only_texts_are_kept_alone(tmp_path: Path) -> None:
    src = write_jsonl(
        tmp_path / "in.jsonl",
        [
            {"id": "e1", "text": ""},
            {"id": "e2", "text": "   \t\n  "},
            {"id": "e3", "text": None},
            {"id": "e4", "text": "\u200b\u00a0\u2060"},
        ],
    )
    result, out = cli_skip(tmp_path, src, good(tmp_path))
    assert counts(result) == (7, 7, 0)
    got = {r["id"]: r for r in rows(out)}
    assert all(got[f"e{i}"]["empty"] for i in range(1, 5))
    assert len({got[f"e{i}"]["story_id"] for i in range(1, 5)}) == 4  # never grouped together
    assert_good_clustered(out)


# --- 2. ids and fields ------------------------------------------------------------------


def test_duplicate_ids_across_files_error_first_rename(tmp_path: Path) -> None:
    a = good(tmp_path, "a.jsonl")
    b = write_jsonl(tmp_path / "b.jsonl", [{"id": "g1", "text": FERRY}])
    one_line_error(
        run("cluster", a, b, "-q"), 1, f"{b}:1", "duplicate id 'g1'", f"{a}:1", "--on-duplicate-id"
    )
    out = tmp_path / "o.jsonl"
    result = run("cluster", a, b, "-o", out, "-q", "--on-duplicate-id", "first")
    assert counts(result) == (4, 3, 1)
    assert_good_clustered(out)
    assert rows(out.with_name("o.jsonl.rejects.jsonl"))[0]["origin"] == f"{b}:1"
    result = run("cluster", a, b, "-o", out, "-q", "--on-duplicate-id", "rename")
    assert counts(result) == (4, 4, 0)
    assert [r["id"] for r in rows(out)] == ["g1", "g2", "g3", "g1~2"]


def test_missing_and_null_fields(tmp_path: Path) -> None:
    src = write_jsonl(
        tmp_path / "in.jsonl",
        [
            {"id": None, "title": None, "text": FERRY, "date": None, "source": None, "url": None},
            {"title": "no text field at all"},
            {"id": "t", "text": {"nested": "object"}},
        ],
    )
    one_line_error(run("cluster", src, "-q"), 1, f"{src}:2", "no 'text' field", "--text-field"[2:6])
    result, out = cli_skip(tmp_path, src, good(tmp_path))
    assert counts(result) == (6, 4, 2)
    got = {r["id"]: r for r in rows(out)}
    assert got["in.jsonl:1"]["source"] is None
    assert got["in.jsonl:1"]["title"] == ""
    rejects = rows(out.with_name("out.jsonl.rejects.jsonl"))
    assert [r["origin"] for r in rejects] == [f"{src}:2", f"{src}:3"]
    assert "must be a string" in rejects[1]["reason"]
    assert_good_clustered(out)


def test_malformed_jsonl_lines_are_counted_rejects(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    lines = [
        json.dumps({"id": "a", "text": FERRY}),
        '{"id": "b", "text": "cut off in the mid',
        "[1, 2, 3]",
        '"just a string"',
        "{" * 5000 + "}" * 5000,  # nested too deeply for a recursive parser
        '{"id": "c", "text": "trailing comma",}',
        json.dumps({"id": 10**30, "text": QUAKE + " Big integer id."}),
    ]
    src.write_text("\n".join(lines) + "\n", "utf-8")
    line = one_line_error(run("cluster", src, "-q"), 1, f"{src}:2", "malformed JSON")
    assert "one complete JSON object" in line
    result, out = cli_skip(tmp_path, src, good(tmp_path))
    assert counts(result) == (10, 5, 5)
    assert {"a", str(10**30)} <= {r["id"] for r in rows(out)}
    assert_good_clustered(out)


def test_json_array_instead_of_jsonl(tmp_path: Path) -> None:
    src = tmp_path / "array.json"
    src.write_text(json.dumps([{"id": "a", "text": FERRY}], indent=2), "utf-8")
    one_line_error(run("cluster", src, "-q"), 1, f"{src}:1", "JSON array", "jq -c")
    # skip mode: the whole file is one counted reject with the same hint
    result, out = cli_skip(tmp_path, src, good(tmp_path))
    assert counts(result) == (4, 3, 1)
    (reject,) = rows(out.with_name("out.jsonl.rejects.jsonl"))
    assert reject["origin"] == f"{src}:1"
    assert "jq -c" in reject["reason"]
    assert_good_clustered(out)


# --- 3. bytes and encodings --------------------------------------------------------------


def test_invalid_utf8_bytes(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_bytes(
        json.dumps({"id": "a", "text": FERRY}).encode() + b'\n{"id": "b", "text": "caf\xe9"}\n'
    )
    one_line_error(run("cluster", src, "-q"), 1, f"{src}:2", "invalid UTF-8", "--encoding")
    result, out = cli_skip(tmp_path, src, good(tmp_path))
    assert counts(result) == (5, 4, 1)
    assert_good_clustered(out)


def test_lone_surrogates_inside_json_strings(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(
        '{"id": "s\\ud800", "title": "\\udfff", "text": "' + FERRY + ' \\ud83d"}\n', "utf-8"
    )
    result, out = cli_skip(tmp_path, src, good(tmp_path))
    assert counts(result) == (4, 4, 0)
    (row,) = [r for r in rows(out) if str(r["id"]).startswith("s")]
    assert row["id"] == "s\ufffd"
    assert row["title"] == "\ufffd"
    assert_good_clustered(out)


def test_byte_order_mark_in_every_format(tmp_path: Path) -> None:
    bom = b"\xef\xbb\xbf"
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "a.jsonl").write_bytes(bom + json.dumps({"id": "j", "text": RATES}).encode())
    (tmp_path / "c" / "b.csv").write_bytes(bom + b'id,text\nk,"' + RATES.encode() + b'"\n')
    (tmp_path / "c" / "c.txt").write_bytes(bom + b"Bank raises rates\n\n" + RATES.encode())
    result, out = cli_skip(tmp_path, tmp_path / "c")
    assert counts(result) == (3, 3, 0)
    got = rows(out)
    assert [r["id"] for r in got] == ["j", "k", "c.txt"]
    assert got[2]["title"] == "Bank raises rates"
    assert len({r["duplicate_group_id"] for r in got}) == 1  # the BOM changed nothing


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252"])
def test_latin1_and_cp1252_files(tmp_path: Path, encoding: str) -> None:
    text = "Le café de la gare rouvre à Noël après des travaux qui ont duré deux ans"
    if encoding == "cp1252":
        text += " \u2014 \u201cenfin\u201d, dit le maire \u2026 \u20ac"
    src = tmp_path / "in.jsonl"
    src.write_bytes(
        (json.dumps({"id": "f", "text": text}, ensure_ascii=False) + "\n").encode(encoding)
    )
    one_line_error(run("cluster", src, "-q"), 1, f"{src}:1", "invalid UTF-8", "--encoding cp1252")
    out = tmp_path / "o.jsonl"
    result = run("cluster", src, "-o", out, "-q", "--encoding", encoding)
    assert counts(result) == (1, 1, 0)
    articles = list(read_articles([src], encoding=encoding))
    assert articles[0].text == text


def test_nfc_and_nfd_forms_share_a_duplicate_group(tmp_path: Path) -> None:
    text = "Zürich: Škoda und Citroën eröffnen ein Werk, São Paulo und Ångström folgen. " * 3
    nfc, nfd = unicodedata.normalize("NFC", text), unicodedata.normalize("NFD", text)
    assert nfc != nfd
    src = write_jsonl(
        tmp_path / "in.jsonl", [{"id": "nfc", "text": nfc}, {"id": "nfd", "text": nfd}]
    )
    result, out = cli_skip(tmp_path, src, good(tmp_path))
    assert counts(result) == (5, 5, 0)
    got = {r["id"]: r for r in rows(out)}
    assert got["nfc"]["duplicate_group_id"] == got["nfd"]["duplicate_group_id"]
    assert got["nfd"]["duplicate_score"] == 1.0


def test_zero_width_and_non_breaking_spaces(tmp_path: Path) -> None:
    messy = (
        RATES.replace(" ", "\u00a0", 10)
        .replace("bank", "ba\u200bnk")
        .replace("rate", "ra\u00adte")
        .replace("inflation", "infla\u200dtion\u2060")
        .replace(" the ", " \u202fthe\u2009 ")
    )
    assert messy != RATES
    src = write_jsonl(tmp_path / "in.jsonl", [{"id": "m", "text": messy}])
    result, out = cli_skip(tmp_path, src, good(tmp_path))
    assert counts(result) == (4, 4, 0)
    got = {r["id"]: r for r in rows(out)}
    assert got["m"]["duplicate_group_id"] == got["g1"]["duplicate_group_id"]
    assert got["m"]["duplicate_score"] == 1.0


def test_binary_files_in_a_directory(tmp_path: Path) -> None:
    corpus = tmp_path / "c"
    corpus.mkdir()
    good(corpus)
    (corpus / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF" + os.urandom(2000))
    # a broken gzip stream, misnamed: decompressed (by its magic number) and refused
    (corpus / "dump.jsonl").write_bytes(b"\x1f\x8b\x08\x00" + b"\x00" * 100)
    (corpus / "zipped.jsonl").write_bytes(b"PK\x03\x04\x14\x00" + b"\x00" * 100)  # zip
    (corpus / "notes.txt").write_bytes(b"\xff\xfeh\x00i\x00")  # UTF-16
    one_line_error(run("cluster", corpus, "-q"), 1, "dump.jsonl", "cannot decompress the gzip")
    result, out = cli_skip(tmp_path, corpus)
    assert counts(result) == (6, 3, 3)  # three unreadable files, one reject each
    reasons = {
        Path(r["origin"]).name: r["reason"] for r in rows(out.with_name("out.jsonl.rejects.jsonl"))
    }
    assert "cannot decompress the gzip data" in reasons["dump.jsonl"]
    assert "binary file" in reasons["zipped.jsonl"]
    assert "decompress it first" in reasons["zipped.jsonl"]
    assert "UTF-16" in reasons["notes.txt"]
    report = ReadReport()
    list(read_articles([corpus], on_error="skip", report=report))
    assert any("unsupported file type '.jpg'" in r.reason for r in report.skipped)
    assert_good_clustered(out)


def test_symlink_loops_terminate(tmp_path: Path) -> None:
    corpus = tmp_path / "c"
    (corpus / "sub").mkdir(parents=True)
    good(corpus / "sub")
    (corpus / "sub" / "loop").symlink_to(corpus, target_is_directory=True)
    (corpus / "self").symlink_to(corpus / "self")  # a link to itself: cannot be resolved
    (corpus / "again.jsonl").symlink_to(corpus / "sub" / "good.jsonl")
    result, out = cli_skip(tmp_path, corpus)
    assert counts(result) == (3, 3, 0)  # the file reached twice is read once
    assert_good_clustered(out)


# --- 4. scripts and short texts --------------------------------------------------------

ZH = (
    "国家气象局周二发布暴雨红色预警，提醒南方多个省份居民减少外出。专家表示，这次降雨过程持续时间长，"
    "累计雨量大，可能引发山洪和城市内涝。各地已启动应急响应，转移低洼地区群众，学校和工地暂停户外活动。"
)
ZH_OTHER = (
    "本市图书馆今年夏天推出新的少儿阅读计划，孩子们可以在周末参加故事会和手工活动。馆长说，"
    "希望通过这些活动培养孩子们的阅读兴趣，让更多家庭走进图书馆，一起度过愉快的假期。"
)
JA = (
    "東京都は来月から都内の公立図書館の開館時間を延長すると発表した。平日は午後九時まで利用でき、"
    "学生や働く人が仕事帰りに立ち寄りやすくなる。都の担当者は利用者の声に応えたと話している。"
)
AR = (
    "أعلنت وزارة الصحة اليوم عن حملة وطنية لتطعيم الأطفال ضد الحصبة في جميع المحافظات، "
    "وقالت إن الفرق الطبية ستزور المدارس والقرى البعيدة خلال الأسابيع الثلاثة المقبلة. "
    "ودعت الوزارة الأسر إلى التعاون مع الفرق وتقديم بطاقات التطعيم السابقة للأطفال، "
    "مؤكدة أن اللقاح آمن ومجاني ومتوفر في كل المراكز الصحية في البلاد."
)
AR_OTHER = (
    "افتتح المهرجان الدولي للكتاب أبوابه مساء الخميس بمشاركة مئات دور النشر من عشرين دولة، "
    "ويستمر عشرة أيام تتخللها ندوات وأمسيات شعرية وورش للكتابة موجهة إلى الشباب والطلاب."
)
RU = (
    "Городские власти объявили о ремонте главного моста через реку, который начнётся в понедельник "
    "и продлится до конца осени. На время работ движение грузовиков будет закрыто, а для автобусов "
    "откроют временную полосу. Жителей просят заранее планировать поездки и пользоваться метро, "
    "где в часы пик добавят дополнительные поезда."
)
RU_OTHER = (
    "Школьная команда из небольшого посёлка победила на всероссийской олимпиаде по робототехнике, "
    "представив робота, который сортирует мусор. Ребята готовились почти год после уроков."
)


def _edited(text: str, old: str, new: str, tail: str) -> str:
    assert old in text
    return text.replace(old, new, 1) + tail


MULTI = {
    "zh": (ZH, _edited(ZH, "周二", "周三", "更多消息请关注后续报道。"), ZH_OTHER),
    "ja": (JA, _edited(JA, "来月", "四月", "詳しくは都のサイトで。"), ZH_OTHER),
    "ar": (AR, _edited(AR, "اليوم", "الأحد", " المزيد من التفاصيل لاحقا."), AR_OTHER),
    "ru": (RU, _edited(RU, "в понедельник", "во вторник", " Подробности позже."), RU_OTHER),
    "mixed": (
        f"Breaking: {ZH} — Moscow: {RU}",
        _edited(f"Breaking: {ZH} — Moscow: {RU}", "Breaking", "Update", " 完。"),
        f"Sport: {AR_OTHER} {RU_OTHER}",
    ),
}


@pytest.mark.parametrize("script", sorted(MULTI))
def test_non_latin_scripts_cluster_sensibly(tmp_path: Path, script: str) -> None:
    original, copy, other = MULTI[script]
    src = write_jsonl(
        tmp_path / f"{script}.jsonl",
        [
            {"id": "orig", "title": "", "text": original},
            {"id": "copy", "title": "", "text": copy},
            {"id": "other", "title": "", "text": other},
        ],
    )
    result, out = cli_skip(tmp_path, src, good(tmp_path))
    assert counts(result) == (6, 6, 0)
    got = {r["id"]: r for r in rows(out)}
    assert got["orig"]["duplicate_group_id"] == got["copy"]["duplicate_group_id"]
    assert got["orig"]["story_id"] == got["copy"]["story_id"]
    assert got["other"]["duplicate_group_id"] != got["orig"]["duplicate_group_id"]
    assert got["other"]["story_id"] != got["orig"]["story_id"]
    assert got["g1"]["story_id"] not in {got[k]["story_id"] for k in ("orig", "copy", "other")}
    assert_good_clustered(out)


def test_texts_shorter_than_the_shingle_size(tmp_path: Path) -> None:
    src = write_jsonl(
        tmp_path / "heads.jsonl",
        [
            {"id": "h1", "text": "Port strike ends"},
            {"id": "h2", "text": "PORT  strike   ends!"},
            {"id": "h3", "text": "Port strike begins"},
            {"id": "h4", "text": "Ende"},
            {"id": "h5", "text": "罢工"},
        ],
    )
    result, out = cli_skip(tmp_path, src, good(tmp_path), extra=("--shingle-size", "5"))
    assert counts(result) == (8, 8, 0)
    got = {r["id"]: r for r in rows(out)}
    assert got["h1"]["duplicate_group_id"] == got["h2"]["duplicate_group_id"]
    assert got["h3"]["duplicate_group_id"] != got["h1"]["duplicate_group_id"]
    assert not got["h4"]["empty"]
    assert not got["h5"]["empty"]
    assert_good_clustered(out)


def test_html_given_as_plain_text(tmp_path: Path) -> None:
    page = (
        "<!DOCTYPE html><html><head><title>x</title><style>p {color: red}</style></head>"
        "<body><h1>Bank raises rates</h1><p>"
        + RATES.replace("interest", "<b>interest</b>", 1)
        + "</p><script>var tracking = '<p>nope</p>';</script></body></html>"
    )
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "page.txt").write_text(page, "utf-8")
    write_jsonl(
        corpus / "frag.jsonl",
        [{"id": "frag", "title": "<b>Bank</b> raises rates", "text": f"<div><p>{RATES}</p></div>"}],
    )
    result, out = cli_skip(tmp_path, corpus, good(tmp_path))
    assert counts(result) == (5, 5, 0)
    got = {r["id"]: r for r in rows(out)}
    assert got["page.txt"]["title"] == "Bank raises rates"
    assert got["frag"]["title"] == "Bank raises rates"
    group = got["g1"]["duplicate_group_id"]
    assert got["page.txt"]["duplicate_group_id"] == got["frag"]["duplicate_group_id"] == group
    (article,) = read_articles([corpus / "page.txt"])
    assert "<" not in article.text
    assert "tracking" not in article.text
    assert (
        "a < b"
        in next(
            read_articles([write_jsonl(tmp_path / "m.jsonl", [{"text": "if a < b and c > d"}])])
        ).text
    )


# --- 5. CSV and dates ------------------------------------------------------------------


def test_csv_newlines_quotes_and_huge_fields(tmp_path: Path) -> None:
    huge = " ".join(f"w{i}" for i in range(40_000))
    assert len(huge) > 131_072
    src = tmp_path / "in.csv"
    with src.open("w", encoding="utf-8", newline="") as fh:
        fh.write("id,title,text\n")
        fh.write(f'q1,"Said ""no"", twice","{RATES[:100]}\n\n{RATES[100:]}"\n')
        fh.write(f"big,Huge,{huge}\n")
        fh.write("short,row\n")  # one field missing: a reject, not a shifted record
        fh.write(f'q2,"Quote ""in"" title","{RATES}"\n')
    one_line_error(run("cluster", src, "-q"), 1, f"{src}:6", "2 fields", "double-quoted")
    result, out = cli_skip(tmp_path, src, good(tmp_path))
    assert counts(result) == (7, 6, 1)
    got = {r["id"]: r for r in rows(out)}
    assert got["q1"]["title"] == 'Said "no", twice'
    assert got["q1"]["origin"] == f"{src}:2"
    assert got["big"]["origin"] == f"{src}:5"
    assert got["q1"]["duplicate_group_id"] == got["q2"]["duplicate_group_id"]
    assert_good_clustered(out)


def test_dates_in_many_formats_and_invalid_dates(tmp_path: Path) -> None:
    values: list[object] = [
        "2025-04-12",
        "2025-04-12T08:30:00Z",
        "12-04-2025",
        "12/04/2025 08:30",
        "2025/04/12",
        "Sat, 12 Apr 2025 08:30:00 +0000",
        "12-APR-2025 08:30:00.00",
        1744446600,
        1744446600000,
        "3 hours ago",
        "2025-02-30",
        "31/31/2025",
        "next Tuesday",
        "",
        None,
        float("nan"),
        1e300,
        True,
        ["2025-04-12"],
        "99999-99-99",
    ]
    src = tmp_path / "dates.jsonl"
    src.write_text(
        "".join(
            json.dumps({"id": f"d{i}", "text": f"{QUAKE} {i}", "date": v}) + "\n"
            for i, v in enumerate(values)
        ),
        "utf-8",
    )
    result, out = cli_skip(
        tmp_path, src, good(tmp_path), extra=("--page-date", "2025-04-12T11:30:00Z")
    )
    assert counts(result) == (len(values) + 3, len(values) + 3, 0)
    got = {r["id"]: r for r in rows(out)}
    assert got["d0"]["date"] == "2025-04-12T00:00:00+00:00"
    assert got["d2"]["date"] == got["d4"]["date"] == got["d0"]["date"]
    assert got["d1"]["date"] == got["d5"]["date"] == "2025-04-12T08:30:00+00:00"
    assert got["d9"]["date"] == "2025-04-12T08:30:00+00:00"  # relative to --page-date
    for bad in (10, 11, 12, 13, 14, 15, 16, 17, 18, 19):
        assert got[f"d{bad}"]["date"] is None
    assert len({got[f"d{i}"]["story_id"] for i in range(len(values))}) == 1
    raw = {a.id: a.date_text for a in read_articles([src])}
    assert raw["d10"] == "2025-02-30"
    assert raw["d12"] == "next Tuesday"


# --- 6. configuration ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("--duplicate-threshold", "nan", "(0, 1]"),
        ("--duplicate-threshold", "-0.5", "(0, 1]"),
        ("--duplicate-threshold", "1.01", "(0, 1]"),
        ("--story-threshold", "nan", "[0, 1]"),
        ("--story-threshold", "-1", "[0, 1]"),
        ("--lsh-recall", "1.5", "(0.5, 1]"),
        ("--num-perm", "0", "[1, 1024]"),
        ("--num-perm", "-3", "[1, 1024]"),
        ("--shingle-size", "0", "[1, 32]"),
        ("--date-decay-days", "nan", "> 0"),
        ("--date-decay-days", "-2", "> 0"),
        ("--title-weight", "inf", "[0, 100]"),
        ("--batch-size", "0", ">= 1"),
        ("--encoding", "klingon", "codec"),
        ("--page-date", "last week", "ISO 8601"),
    ],
)
def test_bad_config_values_exit_2(tmp_path: Path, option: str, value: str, expected: str) -> None:
    out = tmp_path / "o.jsonl"
    line = one_line_error(run("cluster", good(tmp_path), "-o", out, option, value), 2, expected)
    assert value in line or value.replace("inf", "inf") in line
    assert not out.exists()


def test_bad_config_file_values_exit_2(tmp_path: Path) -> None:
    for text, needle in (
        ('{"num_perm": 0}', "num_perm"),
        ('{"duplicate_threshold": "high"}', "duplicate_threshold"),
        ('{"duplicate_threshold": NaN}', "not valid JSON"),
        ("[0.5]", "JSON object"),
        ('{"lsh_bands": 4}', "lsh_rows"),
    ):
        cfg = tmp_path / "c.json"
        cfg.write_text(text, "utf-8")
        one_line_error(run("cluster", good(tmp_path), "--config", cfg, "-q"), 2, needle)


# --- 7. the story index ----------------------------------------------------------------


@pytest.fixture
def index_file(tmp_path: Path) -> Path:
    idx = tmp_path / "news.idx"
    result = run("index", "add", idx, good(tmp_path))
    assert result.exit_code == 0, result.output
    conn = sqlite3.connect(idx)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return idx


def test_index_from_another_version(index_file: Path) -> None:
    conn = sqlite3.connect(index_file)
    with conn:
        conn.execute("UPDATE meta SET value = '999' WHERE key = 'format_version'")
    conn.close()
    one_line_error(run("index", "stats", index_file), 1, str(index_file), "version 999", "rebuild")


def test_index_truncated_or_corrupted(index_file: Path, tmp_path: Path) -> None:
    data = index_file.read_bytes()
    truncated = tmp_path / "truncated.idx"
    truncated.write_bytes(data[: len(data) // 2])
    one_line_error(run("index", "stats", truncated), 1, str(truncated))
    garbage = tmp_path / "garbage.idx"
    garbage.write_bytes(b"SQLite format 3\x00" + os.urandom(len(data)))
    one_line_error(run("index", "query", garbage, good(tmp_path, "q.jsonl")), 1, str(garbage))
    text = tmp_path / "notes.idx"
    text.write_text("not a database " * 100, "utf-8")
    one_line_error(run("index", "add", text, good(tmp_path, "q.jsonl")), 1, "not a SQLite")


# --- 8. output locations ---------------------------------------------------------------


def test_unwritable_output_location(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x", "utf-8")
    target = blocker / "out.jsonl"  # parent is a regular file: fails for root too
    one_line_error(run("cluster", good(tmp_path), "-o", target, "-q"), 1, str(target))
    one_line_error(
        run("cluster", good(tmp_path), "-o", tmp_path, "-q"), 1, str(tmp_path), "directory"
    )
    for option in ("--stories", "--rejects", "--save-config"):
        one_line_error(
            run("cluster", good(tmp_path), "-o", tmp_path / "o.jsonl", option, target, "-q"),
            1,
            str(target),
        )
    assert not (tmp_path / "o.jsonl").exists()


@contextmanager
def tmpfs(directory: Path, options: str) -> Iterator[Path]:
    """Mount a tiny tmpfs (root only); skip the test where mounting is not allowed."""
    directory.mkdir()
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(directory)],
        capture_output=True,
        check=False,
    )
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({proc.stderr.decode().strip()})")
    try:
        yield directory
    finally:
        subprocess.run(["umount", "-l", str(directory)], check=False)


def test_read_only_output_location_even_for_root(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "ro", "size=64k,ro") as ro:
        target = ro / "out.jsonl"
        one_line_error(
            run("cluster", good(tmp_path), "-o", target, "-q"), 1, str(target), "not writable"
        )
        assert os.listdir(ro) == []


def test_full_disk_leaves_no_file(tmp_path: Path) -> None:
    src = write_jsonl(
        tmp_path / "in.jsonl", [{"id": f"a{i}", "text": f"{FERRY} {i}"} for i in range(3000)]
    )
    with tmpfs(tmp_path / "full", "size=64k") as full:
        target = full / "out.jsonl"
        one_line_error(
            run("cluster", src, "-o", target, "-q"), 1, str(target), "No space left on device"
        )
        assert os.listdir(full) == []  # neither the target nor a temporary file


def test_device_outputs_are_written_not_replaced(tmp_path: Path) -> None:
    """``-o /dev/null`` works and ``/dev/full`` reports ENOSPC (device clones in tmp_path)."""
    null, full = tmp_path / "null", tmp_path / "full"
    try:
        os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        os.mknod(full, 0o666 | stat.S_IFCHR, os.makedev(1, 7))
    except (PermissionError, OSError) as exc:
        pytest.skip(f"cannot create device nodes here ({exc})")
    result = run("cluster", good(tmp_path), "-o", null, "--stories", null, "-q")
    assert result.exit_code == 0, result.output
    assert counts(result) == (3, 3, 0)
    one_line_error(run("cluster", good(tmp_path), "-o", full, "-q"), 1, "No space left")
    assert stat.S_ISCHR(null.stat().st_mode)
    assert stat.S_ISCHR(full.stat().st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["full", "good.jsonl", "null"]


# --- 9. interruption and heavy inputs --------------------------------------------------


@pytest.mark.slow
def test_ctrl_c_mid_run_leaves_no_output(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    with src.open("w", encoding="utf-8") as fh:
        for i in range(400_000):
            fh.write(json.dumps({"id": str(i), "text": f"{QUAKE} number {i} of many"}) + "\n")
    out = tmp_path / "out.jsonl"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "clusterer",
            "cluster",
            str(src),
            "-o",
            str(out),
            "-q",
            "--stories",
            str(tmp_path / "stories.jsonl"),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(6)  # well past start-up, well before the end
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    lines = err.strip().splitlines()
    assert lines == ["error: interrupted (unfinished output files were not written)"], lines
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]


@pytest.mark.slow
def test_100_mb_single_article(tmp_path: Path) -> None:
    src = tmp_path / "big.jsonl"
    words = [f"w{i}" for i in range(50_000)]
    with src.open("w", encoding="utf-8") as fh:
        fh.write(json.dumps({"id": "before", "text": FERRY}) + "\n")
        fh.write('{"id": "big", "text": "')
        block = " ".join(words) + " "
        for k in range(100_000_000 // len(block) + 1):
            fh.write(block.replace("w1 ", f"k{k} ", 1))
        fh.write('"}\n')
        fh.write(json.dumps({"id": "after", "text": FERRY + " Updated."}) + "\n")
    assert src.stat().st_size > 100_000_000
    start = time.perf_counter()
    report = ReadReport()
    result = cluster(read_articles([src], report=report))
    elapsed = time.perf_counter() - start
    assert [a.id for a in result.assignments] == ["before", "big", "after"]
    assert report.read == result.n_articles == 3
    by_id = {a.id: a for a in result.assignments}
    assert by_id["before"].duplicate_group_id == by_id["after"].duplicate_group_id
    assert by_id["big"].story_id != by_id["before"].story_id
    print(f"100 MB article: {elapsed:.1f} s")


@pytest.mark.slow
def test_a_million_one_word_articles(tmp_path: Path) -> None:
    src = tmp_path / "words.jsonl"
    words = ["strike", "flood", "election", "merger", "storm", "verdict", "ceasefire", "recall"]
    n = 1_000_000
    with src.open("w", encoding="utf-8") as fh:
        fh.writelines(f'{{"id":"{i}","text":"{words[i % 8]}"}}\n' for i in range(n))
    start = time.perf_counter()
    report = ReadReport()
    result = cluster(read_articles([src], report=report))
    elapsed = time.perf_counter() - start
    assert report.read == result.n_articles == n
    assert len(result.duplicate_groups) == len(words)  # identical texts collapse
    assert sorted(len(g.members) for g in result.duplicate_groups) == [n // 8] * 8
    print(f"a million one-word articles: {elapsed:.1f} s")
    assert elapsed < 600  # a pathology guard, not a speed target


def test_duplicate_group_larger_than_max_block_stays_in_one_story() -> None:
    text = " ".join(f"w{i}" for i in range(60))
    articles = [Article(id=f"c{i:03d}", text=text) for i in range(250)]
    articles.append(Article(id="other", text=FERRY))
    result = cluster(articles, ClusterConfig(max_block=100))
    groups = {g.id: g for g in result.duplicate_groups}
    for a in result.assignments:
        assert a.story_id == groups[a.duplicate_group_id].story_id
