"""The headline used for story terms: the title, or the words of the address's slug."""

from __future__ import annotations

import pytest

from clusterer import Article, cluster
from clusterer.headline import headline, url_words


@pytest.mark.parametrize(
    ("url", "words"),
    [
        (
            "http://www.telegraph.co.uk/news/2017/12/27/rihanna-calls-end-gun-violence-cousin-shot-dead/",
            "rihanna calls end gun violence cousin shot dead",
        ),
        ("https://www.rt.com/news/414348-rihanna-cousin-shot-dead/", "rihanna cousin shot dead"),
        (  # the id segment after the slug has fewer words
            "http://www.news.com.au/national/two-injured-thousands-evacuated/news-story/3f087a3867cf26a0",
            "two injured thousands evacuated",
        ),
        (
            "https://example.org/p/kendall-jenner-selfie-replies-7739187",
            "kendall jenner selfie replies",
        ),
        ("https://example.org/2018/01/ps4_system_update_5_50.html", "ps4 system update"),
        ("https://example.org/a/b/Broadcom%20raises%20bid%20for%20Qualcomm", ""),  # no separators
        ("https://example.org/world/news/", ""),  # too few words
        ("https://example.org/news?id=quake-hits-chile-coast", ""),  # the query is not the path
        ("http://[::1/broken-ipv6-address-here", ""),
        ("", ""),
        (None, ""),
    ],
)
def test_url_words(url: str | None, words: str) -> None:
    assert url_words(url) == words


def test_title_wins_over_the_address() -> None:
    url = "https://example.org/news/quake-hits-chile-coast"
    assert headline(Article(id="a", title="Chile quake", url=url)) == "Chile quake"
    assert headline(Article(id="a", title=" \t", url=url)) == "quake hits chile coast"
    assert headline(Article(id="a", title="")) == ""


_STORY = [
    (
        "Ferry capsizes off Zanzibar with 300 aboard",
        "A ferry carrying about 300 passengers capsized off Zanzibar on Sunday; rescuers "
        "pulled dozens from the water near Pemba island, Tanzanian officials said.",
    ),
    (
        "Zanzibar ferry disaster: dozens rescued near Pemba",
        "Rescuers pulled dozens of survivors from the sea near Pemba island after a ferry "
        "with some 300 passengers capsized off Zanzibar, officials in Tanzania said.",
    ),
]


def test_an_article_with_only_an_address_joins_its_story() -> None:
    articles = [Article(id=f"s{i}", title=t, text=x) for i, (t, x) in enumerate(_STORY)]
    articles += [
        Article(
            id="slug",
            url="https://news.example/africa/zanzibar-ferry-capsizes-off-pemba-island-1234567/",
        ),
        Article(id="bare", url="https://news.example/africa/"),
        Article(id="other", title="Central bank raises interest rates", text="Rates rose again."),
    ]
    got = {a.id: a for a in cluster(articles).assignments}
    assert got["slug"].empty
    assert got["slug"].story_id == got["s0"].story_id == got["s1"].story_id
    assert got["slug"].title == ""  # the output keeps the article's own title
    assert len({got["bare"].story_id, got["other"].story_id, got["s0"].story_id}) == 3


def test_the_index_uses_the_address_too(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from clusterer.index import StoryIndex

    articles = [Article(id=f"s{i}", title=t, text=x) for i, (t, x) in enumerate(_STORY)]
    late = Article(id="slug", url="https://news.example/zanzibar-ferry-capsizes-off-pemba-island/")
    with StoryIndex.open(str(tmp_path / "ix.db")) as ix:
        first = ix.add(articles)
        (got,) = ix.add([late])
    assert not got.new_story
    assert got.story_id == first[0].story_id
