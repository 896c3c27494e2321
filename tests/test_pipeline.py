import unicodedata

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone

from clusterer import Article, ClusterConfig, DuplicateIdError, StoryClusterer, cluster
from tests.corpus_gen import boilerplate_corpus, make_corpus


def _assignment(result):  # id -> (story, duplicate group)
    return {a.id: (a.story_id, a.duplicate_group_id) for a in result.assignments}


def _partition(result, key):
    groups: dict[int, set[str]] = {}
    for a in result.assignments:
        groups.setdefault(getattr(a, key), set()).add(a.id)
    return {frozenset(g) for g in groups.values()}


def test_generated_corpus_recovers_stories_and_copies() -> None:
    articles = make_corpus(1)
    result = cluster(articles)
    stories = _partition(result, "story_id")
    truth: dict[str, set[str]] = {}
    for a in articles:
        truth.setdefault(a.id.split("-")[0], set()).add(a.id)
    assert stories == {frozenset(g) for g in truth.values()}
    dups = _partition(result, "duplicate_group_id")
    for group in truth.values():
        copies = frozenset(i for i in group if not i.endswith("-r"))
        assert copies in dups


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 10_000), st.randoms(use_true_random=False))
def test_input_order_does_not_change_the_partition(seed, shuffler) -> None:
    articles = make_corpus(seed)
    shuffled = list(articles)
    shuffler.shuffle(shuffled)
    assert _assignment(cluster(articles)) == _assignment(cluster(shuffled))


_VARIANTS = [
    str.upper,
    lambda t: unicodedata.normalize("NFD", t),
    lambda t: "  " + t.replace(" ", " \u00a0 \n") + "\t",
    lambda t: t.replace("e", "e\u200b"),
    lambda t: "".join(chr(ord(c) + 0xFEE0) if "a" <= c <= "z" else c for c in t),  # fullwidth
]


@settings(max_examples=15, deadline=None)
@given(
    st.lists(
        st.sampled_from(["café", "naïve", "Zürich", "über", "año", "news", "wire"]),
        min_size=3,
        max_size=60,
    )
)
def test_texts_equal_after_normalisation_share_a_duplicate_group(words) -> None:
    text = " ".join(words)
    articles = [Article(id=f"v{i}", text=f(text)) for i, f in enumerate([lambda t: t, *_VARIANTS])]
    result = cluster(articles)
    assert len({a.duplicate_group_id for a in result.assignments}) == 1


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 10_000), st.integers(0, 5))
def test_every_article_once_and_groups_nested_in_stories(seed, n_empty) -> None:
    articles = make_corpus(seed) + [Article(id=f"e{i}", text=" \n\t" * i) for i in range(n_empty)]
    result = cluster(articles)
    assert [a.id for a in result.assignments] == [a.id for a in articles]
    members = sorted(m for s in result.stories for m in s.members)
    assert members == sorted(a.id for a in articles)
    story_of = {a.id: a.story_id for a in result.assignments}
    for group in result.duplicate_groups:
        assert {story_of[m] for m in group.members} == {group.story_id}
    empties = [a for a in result.assignments if a.empty]
    assert len(empties) == n_empty
    for a in empties:  # flagged singletons, never grouped with each other
        assert sum(x.story_id == a.story_id for x in result.assignments) == 1
        assert sum(x.duplicate_group_id == a.duplicate_group_id for x in result.assignments) == 1


@settings(max_examples=8, deadline=None)
@given(st.integers(0, 10_000), st.integers(0, 10_000))
def test_adding_unrelated_articles_keeps_the_original_stories(seed_a, seed_b) -> None:
    base = make_corpus(seed_a)
    extra = make_corpus(seed_b, prefix="x")
    alone = _partition(cluster(base), "story_id")
    union = cluster(base + extra)
    ids = {a.id for a in base}
    restricted = {frozenset(g & ids) for g in _partition(union, "story_id")} - {frozenset()}
    assert restricted == alone


def test_duplicate_ids_are_an_error_naming_both_places() -> None:
    articles = [
        Article(id="x", text="one", origin="a.jsonl:1"),
        Article(id="x", text="two", origin="a.jsonl:2"),
    ]
    with pytest.raises(DuplicateIdError, match=r"a\.jsonl:2.*a\.jsonl:1"):
        cluster(articles)


def test_duplicates_only_makes_each_group_its_own_story() -> None:
    result = cluster(make_corpus(2), duplicates_only=True)
    for a in result.assignments:
        assert a.story_id == a.duplicate_group_id


def test_numpy_reference_kernel_gives_the_same_partition() -> None:
    articles = make_corpus(4)
    fast = cluster(articles, ClusterConfig(kernel="numba"))
    slow = cluster(articles, ClusterConfig(kernel="numpy"))
    assert _assignment(fast) == _assignment(slow)


def test_estimated_verification_agrees_on_clear_copies() -> None:
    articles = make_corpus(6)
    assert _partition(
        cluster(articles, ClusterConfig(verify="estimate")), "duplicate_group_id"
    ) == _partition(cluster(articles), "duplicate_group_id")


def test_story_clusterer_follows_the_estimator_contract() -> None:
    est = StoryClusterer(story_threshold=0.2)
    assert est.get_params()["story_threshold"] == 0.2
    assert not hasattr(est, "labels_")
    copy = clone(est)
    assert copy.get_params() == est.get_params()
    articles = make_corpus(3)
    assert est.fit(articles) is est
    assert est.labels_.shape == (len(articles),)
    assert len(est.stories_) == len(set(est.labels_.tolist()))
    assert np.array_equal(StoryClusterer(story_threshold=0.2).fit_predict(articles), est.labels_)
    est.set_params(story_threshold=1.5)
    with pytest.raises(ValueError, match="story_threshold"):
        est.fit(articles)


def test_timings_cover_every_stage() -> None:
    result = cluster(make_corpus(0))
    for stage in ("read", "normalise", "band_verify", "story_candidates", "link", "assemble"):
        assert stage in result.timings
    sequential = ("band_verify", "tfidf", "duplicate_groups", "story_candidates", "link")
    for stage in (*sequential, "attach", "assemble"):
        assert result.cpu_timings[stage] >= 0.0
    only = cluster(make_corpus(0), duplicates_only=True)
    assert set(only.cpu_timings) == {"band_verify", "duplicate_groups", "assemble"}


@pytest.mark.parametrize("duplicates_only", [False, True])
def test_progress_reports_featurising_then_each_stage_as_it_ends(duplicates_only: bool) -> None:
    calls: list[tuple[str, int, int | None]] = []
    articles = make_corpus(0)
    result = cluster(
        articles,
        ClusterConfig(batch_size=7),
        progress=lambda *call: calls.append(call),
        duplicates_only=duplicates_only,
    )
    n = len(articles)
    ends = [c for c in calls if c[0] != "featurise"]
    batches = [c for c in calls if c[0] == "featurise" and c[2] is None]
    assert batches
    assert all(b[1] % 7 == 0 for b in batches)
    assert calls[len(batches)] == ("featurise", n, n)
    assert calls[len(batches) + 1 :] == ends
    assert [c[0] for c in ends] == list(result.cpu_timings)
    assert all(c[1:] == (n, n) for c in ends)


_QUAKE = [
    (
        "Magnitude 6.8 earthquake strikes off Hokkaido coast",
        "A magnitude 6.8 earthquake struck off the coast of Hokkaido on Tuesday, the Japan "
        "Meteorological Agency said, shaking buildings in Sapporo and halting bullet trains.",
    ),
    (
        "Hokkaido earthquake: trains halted after 6.8 quake",
        "Bullet trains were halted and buildings shook in Sapporo after a 6.8 earthquake hit "
        "waters off Hokkaido, according to the Japan Meteorological Agency.",
    ),
    (
        "Strong earthquake off Hokkaido shakes Sapporo",
        "The Japan Meteorological Agency measured the Hokkaido earthquake at magnitude 6.8; "
        "Sapporo buildings shook and bullet trains stopped running for hours.",
    ),
]


def _headline_only_corpus() -> list[Article]:
    articles = [Article(id=f"q{i}", title=t, text=x) for i, (t, x) in enumerate(_QUAKE)]
    articles += make_corpus(3)
    articles.append(Article(id="head", title="Magnitude 6.8 earthquake off Hokkaido halts trains"))
    articles.append(Article(id="bare", title="", text=""))
    return articles


def test_headline_only_article_joins_its_story_but_no_duplicate_group() -> None:
    result = cluster(_headline_only_corpus())
    by_id = {a.id: a for a in result.assignments}
    head, bare = by_id["head"], by_id["bare"]
    assert head.empty  # no body text: flagged
    assert bare.empty
    assert head.story_id == by_id["q0"].story_id == by_id["q1"].story_id == by_id["q2"].story_id
    for a in result.assignments:  # never in anyone's near-duplicate group
        if a.id != "head":
            assert a.duplicate_group_id != head.duplicate_group_id
    assert sum(a.story_id == bare.story_id for a in result.assignments) == 1


def test_headline_only_article_gets_the_same_story_from_the_index(tmp_path) -> None:
    from clusterer.index import StoryIndex

    articles = _headline_only_corpus()
    with StoryIndex.open(str(tmp_path / "ix.db")) as ix:
        ix.add(articles[:-2])
        got = {a.id: a for a in ix.add(articles[-2:])}
        q0 = ix.query(articles[0])
    assert got["head"].story_id == q0.story_id
    assert got["bare"].new_story


def test_boilerplate_twins_do_not_tie_their_stories() -> None:
    articles = boilerplate_corpus()
    result = cluster(articles)
    by_id = {a.id: a for a in result.assignments}
    for s in range(3):  # each page with its own story, none with another's
        assert by_id[f"v{s}"].story_id == by_id[f"{s}-0"].story_id
    assert len({by_id[f"{s}-0"].story_id for s in range(3)}) == 3
    assert len({by_id[f"v{s}"].duplicate_group_id for s in range(3)}) == 3
    # a copy under another headline is still the same report
    assert by_id["x0"].duplicate_group_id == by_id["0-0"].duplicate_group_id
    for group in result.duplicate_groups:  # groups stay nested in stories
        assert {by_id[m].story_id for m in group.members} == {group.story_id}
    # --duplicates-only keeps every verified pair: the pages are one group there
    dups = {a.id: a.duplicate_group_id for a in cluster(articles, duplicates_only=True).assignments}
    assert dups["v0"] == dups["v1"] == dups["v2"]


def test_boilerplate_twins_get_the_same_stories_from_the_index(tmp_path) -> None:
    from clusterer.index import StoryIndex

    articles = boilerplate_corpus()
    batch = {a.id: a.story_id for a in cluster(articles).assignments}
    assert articles[6].id == "v0"
    for split in (len(articles), 6):  # one batch; the stories, then the pages and the copy
        with StoryIndex.open(str(tmp_path / f"ix{split}.db")) as ix:
            ix.add(articles[:split])
            if split < len(articles):
                ix.add(articles[split:])
            got = {m: s.id for s in ix.stories() for m in s.members}
        assert _partition_of(got) == _partition_of(batch)
        assert all(got[f"v{s}"] == got[f"{s}-0"] for s in range(3))


def _partition_of(labels: dict[str, int]) -> set[frozenset[str]]:
    groups: dict[int, set[str]] = {}
    for k, v in labels.items():
        groups.setdefault(v, set()).add(k)
    return {frozenset(g) for g in groups.values()}
