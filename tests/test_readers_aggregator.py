"""The aggregator page splitter: the shipped seed page and generic behaviour."""

from __future__ import annotations

import contextlib
import itertools
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clusterer.errors import CorpusError
from clusterer.readers import ReadReport, read_articles, split_page
from clusterer.readers.aggregator import CHROME_LINES, is_chrome
from clusterer.readers.markup import looks_like_html

SEED = Path(__file__).resolve().parents[1] / "corpus" / "aggregator_page.txt"
UTC = timezone.utc

TITLES = [
    "How an intercepted drone escalated Mali-Algeria tensions",
    "Russia, Ukraine swap first prisoners in large-scale exchange",
    "Ukraine, Russia begin complex POW Exchange",
    "Russia pushes offensive into Ukraine's eastern industrial region",
]
CHROME = [
    "logo",
    "Orange background",
    "Try Our AI Features",
    "Explore what Daily8 AI can do for you:",
    "Comments",
    "No comments yet...",
    "Related Articles",
    "DOWNLOAD THE APP",
    "Get Started Now: Download the App",
    "app-storeplay-store",
]


def seed_lines() -> list[str]:
    return SEED.read_text(encoding="utf-8").split("\n")


def body(first: int, last: int) -> str:
    """Lines first..last (1-based, inclusive) of the seed, blank lines dropped."""
    return "\n".join(line.strip() for line in seed_lines()[first - 1 : last] if line.strip())


@pytest.fixture(scope="module")
def seed_articles() -> list:
    return list(read_articles([SEED]))


def test_seed_yields_exactly_four_articles_with_titles_sources_ids(seed_articles: list) -> None:
    assert [a.title for a in seed_articles] == TITLES
    assert [a.source for a in seed_articles] == [
        "Times of Oman",
        "Observer",
        "Muscat Daily",
        "Observer",
    ]
    assert [a.id for a in seed_articles] == [f"aggregator_page.txt#{n}" for n in range(1, 5)]
    assert [a.origin for a in seed_articles] == [f"{SEED}:{n}" for n in (2, 48, 61, 74)]


def test_seed_bodies_are_exact(seed_articles: list) -> None:
    assert [a.text for a in seed_articles] == [
        body(8, 34),
        body(59, 59),
        body(72, 72),
        body(85, 85),
    ]
    assert seed_articles[0].text.startswith("Bamako: Yet another conflict story unravels")
    assert seed_articles[0].text.endswith("political will to settle their dispute.")
    assert len(seed_articles[0].text.split("\n")) == 27
    assert seed_articles[1].text.startswith("KYIV: Russia and Ukraine on Monday swapped")
    assert seed_articles[2].text.endswith("A similar incident occurred in December 2023. DW")
    assert seed_articles[3].text.endswith("to be handed back. \u2014 AFP")


def test_seed_bodies_carry_no_chrome_titles_or_bylines(seed_articles: list) -> None:
    for article in seed_articles:
        lines = article.text.split("\n")
        assert article.title not in lines
        for junk in [*CHROME, "Observer", "Muscat Daily", "Times of Oman12-04-2025"]:
            assert junk not in lines
        assert not any(line.startswith(("time", "\u2022")) for line in lines)


def test_seed_dates_without_page_date(seed_articles: list) -> None:
    assert seed_articles[0].date == datetime(2025, 4, 12, tzinfo=UTC)
    assert seed_articles[0].date_text is None
    assert [a.date for a in seed_articles[1:]] == [None, None, None]
    assert [a.date_text for a in seed_articles[1:]] == ["3 hours ago", "7 hours ago", "a day ago"]


def test_seed_relative_dates_resolve_against_page_date() -> None:
    captured = datetime(2025, 6, 2, 12, 0, tzinfo=UTC)
    articles = list(read_articles([SEED], page_date=captured))
    assert articles[0].date == datetime(2025, 4, 12, tzinfo=UTC)
    assert [a.date for a in articles[1:]] == [
        captured - timedelta(hours=3),
        captured - timedelta(hours=7),
        captured - timedelta(days=1),
    ]
    assert articles[1].date_text == "3 hours ago"


def test_seed_furniture_is_reported_as_dropped_lines() -> None:
    split = split_page(SEED.read_text(encoding="utf-8"))
    assert split is not None
    dropped = [text for _, text in split.dropped]
    assert dropped[:7] == CHROME[:7]
    assert dropped[-4:] == [
        "DOWNLOAD THE APP",
        "Get Started Now: Download the App",
        seed_lines()[90],
        "app-storeplay-store",
    ]
    assert split.dropped[0] == (1, "logo")


def test_seed_directory_read_skips_readme() -> None:
    report = ReadReport()
    articles = list(read_articles([SEED.parent], report=report))
    assert [a.title for a in articles] == TITLES
    assert report.files == 1
    assert [Path(s.origin).name for s in report.skipped] == ["README.md"]


def test_generic_page_with_other_outlets_and_crlf() -> None:
    page = "\r\n".join(
        [
            "Menu",
            "Harbour bridge reopens after repairs",
            "Harbour bridge reopens after repairs",
            "City Gazette2024-03-05",
            "The bridge reopened on Tuesday.",
            "Traffic was light.",
            "Advertisement",
            "Officials praised the crews.",
            "Share",
            "Related Stories",
            "Storm closes schools across the coast",
            "Storm closes schools across the coast",
            "Coast Herald",
            "time45 minutes ago",
            "\u2022 Coast Herald",
            "Storm closes schools across the coast",
            "Schools shut as winds rose.",
        ]
    )
    split = split_page(page)
    assert split is not None
    first, second = split.articles
    assert (first.title, first.source, first.date_text, first.line) == (
        "Harbour bridge reopens after repairs",
        "City Gazette",
        "2024-03-05",
        2,
    )
    assert (
        first.text
        == "The bridge reopened on Tuesday.\nTraffic was light.\nOfficials praised the crews."
    )
    assert (second.title, second.source, second.date_text) == (
        "Storm closes schools across the coast",
        "Coast Herald",
        "45 minutes ago",
    )
    assert second.text == "Schools shut as winds rose."
    assert (7, "Advertisement") in split.dropped


def test_plain_article_is_not_a_page(tmp_path: Path) -> None:
    text = "A quiet title\n\nFirst paragraph here.\nComments\n\nSecond paragraph.\n"
    assert split_page(text) is None
    path = tmp_path / "story.txt"
    path.write_text(text, encoding="utf-8")
    (article,) = read_articles([path])
    assert (article.id, article.title, article.origin) == (
        "story.txt",
        "A quiet title",
        f"{path}:1",
    )
    assert article.text == "First paragraph here.\nComments\n\nSecond paragraph."
    assert article.source is None


def test_doubled_title_without_metadata_is_one_plain_article() -> None:
    assert split_page("Title here\nTitle here\nBody one.\nBody two.") is None


def test_two_doubled_headlines_opening_blocks_make_a_page_without_metadata() -> None:
    text = (
        "First story\nFirst story\nBody one.\nRelated Articles\n"
        "Second story\nSecond story\nBody two."
    )
    split = split_page(text)
    assert split is not None
    assert [(a.title, a.text) for a in split.articles] == [
        ("First story", "Body one."),
        ("Second story", "Body two."),
    ]
    assert split.dropped == ((4, "Related Articles"),)


def test_doubled_line_inside_a_body_does_not_split_a_page_article() -> None:
    text = (
        "Main story\nMain story\nDaily1-2-2020\nPara one.\nSame line twice\nSame line twice\nEnd."
    )
    split = split_page(text)
    assert split is not None
    assert len(split.articles) == 1
    assert split.articles[0].text == "Para one.\nSame line twice\nSame line twice\nEnd."


def test_chrome_vocabulary_is_a_lowercase_tuple() -> None:
    assert isinstance(CHROME_LINES, tuple)
    assert all(entry == entry.lower() for entry in CHROME_LINES)
    assert is_chrome("  RELATED   Articles ")
    assert not is_chrome("Related articles were published yesterday by the ministry.")


paragraph = st.text(
    # U+FEFF is excluded: a leading byte-order mark is stripped from a file on purpose.
    alphabet=st.characters(
        blacklist_categories=("Cs", "Cc", "Zl", "Zp"), blacklist_characters="\ufeff"
    ),
    min_size=1,
    max_size=80,
).filter(lambda s: s.strip() == s and bool(s))


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=400))
def test_splitter_never_raises_on_arbitrary_text(text: str) -> None:
    try:
        split = split_page(text)
    except CorpusError:
        return
    if split is not None:
        for article in split.articles:
            assert article.title.strip()
            assert article.line >= 1


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.sampled_from(["logo", "Comments", "A b c", "• X", "time1 day ago", "Zed1-1-2000", ""])
    )
)
def test_splitter_never_raises_on_page_like_noise(lines: list[str]) -> None:
    with contextlib.suppress(CorpusError):
        split_page("\n".join(lines))


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(title=paragraph, paragraphs=st.lists(paragraph, min_size=1, max_size=8, unique=True))
def test_plain_article_keeps_every_paragraph(
    tmp_path_factory: pytest.TempPathFactory, title: str, paragraphs: list[str]
) -> None:
    lines = [title, *paragraphs]
    if any(a.casefold() == b.casefold() for a, b in itertools.pairwise(lines)):
        return  # a doubled line is a headline cue; covered by the page tests
    path = tmp_path_factory.mktemp("plain") / "article.txt"
    path.write_text("\n".join(lines), encoding="utf-8")
    articles = list(read_articles([path]))
    assert len(articles) == 1
    assert articles[0].title == title
    assert articles[0].text == "\n".join(paragraphs)


@pytest.mark.parametrize(
    ("text", "html"),
    [
        ("<p>x</p>", True),
        ("a<br />b", True),
        ('<a\n href="x">y</a>', True),
        ('<div class="a"\n>x', True),
        ("a < b > c", False),
        ("0\n<I\n>", False),  # found by Hypothesis: two lines of plain text, not an <i> tag
    ],
)
def test_tag_detection_needs_a_tag(text: str, html: bool) -> None:
    assert looks_like_html(text) is html
