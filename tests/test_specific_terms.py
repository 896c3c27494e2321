"""The specific-term rule (``ClusterConfig.specific_terms``): templated reports of
different events stop forming stories, reports of one event still do."""

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from clusterer import Article, ClusterConfig, ConfigError, IndexFileError, cluster
from clusterer._specific_kernels import add_day_moments, shares_specific
from clusterer.explain import PairScorer
from clusterer.index import StoryIndex
from clusterer.similarity import TfidfRows, specific_terms, story_similarity

RULE = ClusterConfig(specific_terms=True)
START = datetime(2024, 1, 1)


def _earnings(k: int, rng: np.random.Generator) -> Article:
    """A quarterly-results wire of company k: the template plus its name and figures."""
    name = f"Zorvex{k:03d}"
    a, b, c = rng.integers(10, 999, 3)
    text = (
        f"{name} Corp said third quarter net profit rose. Shr {a} cts vs {b} cts. "
        f"Net {b} mln dlrs vs {c} mln dlrs. Revs {c} mln dlrs vs {a} mln dlrs. "
        "Nine mths shr and net figures were also reported, the company said."
    )
    when = START + timedelta(days=int(rng.integers(0, 120)))
    return Article(f"e{k}", f"{name} Corp 3rd qtr net", text, date=when)


def _filler(k: int, rng: np.random.Generator) -> Article:
    """An unrelated note of 40 words drawn from 3,000 (common words of the corpus)."""
    words = " ".join(f"word{w}" for w in rng.integers(0, 3000, 40))
    return Article(f"f{k}", f"Notes {k}", words, date=START + timedelta(days=k % 120))


def _corpus() -> list[Article]:
    """90 earnings wires of different companies over four months, 200 unrelated notes,
    and one event reported twice (a follow-up on company 7 naming its chief)."""
    rng = np.random.default_rng(3)
    docs = [_earnings(k, rng) for k in range(90)] + [_filler(k, rng) for k in range(200)]
    day = docs[7].date
    docs.append(
        Article(
            "e7-follow",
            "Zorvex007 chief Quillan explains third quarter",
            "Zorvex007 Corp chief executive Maren Quillan said the third quarter net "
            "profit came from exports; Quillan expects more next quarter.",
            date=day,
        )
    )
    docs.append(
        Article(
            "e7-other",
            "Quillan of Zorvex007 on exports",
            "Maren Quillan, chief executive of Zorvex007, told analysts exports drove the "
            "third quarter and Quillan sees exports growing.",
            date=day,
        )
    )
    return docs


def _largest_earnings_story(result) -> int:  # type: ignore[no-untyped-def]
    """Most earnings wires (``e<k>``, not the follow-ups) in one story."""
    return max(sum(m[1:].isdigit() for m in s.members) for s in result.stories)


def test_templated_wires_of_different_companies_form_no_story() -> None:
    docs = _corpus()
    plain = cluster(docs)
    ruled = cluster(docs, RULE)
    # the default links the template: dozens of companies' results in one "story"
    assert _largest_earnings_story(plain) >= 20
    assert _largest_earnings_story(ruled) <= 4  # a few share a figure by chance
    story = {a.id: a.story_id for a in ruled.assignments}
    # one event told twice still forms a story
    assert story["e7-follow"] == story["e7-other"]


def test_rule_off_by_default_and_validated() -> None:
    assert ClusterConfig().specific_terms is False
    with pytest.raises(ConfigError, match="specific_terms"):
        ClusterConfig(specific_terms=1)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="specific_df"):
        ClusterConfig(specific_df=0)
    with pytest.raises(ConfigError, match="specific_share"):
        ClusterConfig(specific_share=1.5)
    assert ClusterConfig(specific_spread_days=None).specific_spread_days is None
    assert ClusterConfig.from_dict(RULE.to_dict()) == RULE


def test_specific_terms_by_frequency_and_by_spread_in_time() -> None:
    df = np.array([0, 5, 40, 41, 500, 500, 500], np.int64)
    cfg = ClusterConfig(specific_terms=True, specific_df=40, specific_share=0.001)
    # without dates: frequency alone (ceiling max(40, 0.001 * 1000) = 40)
    assert specific_terms(df, 1000, None, cfg).tolist() == [
        True,
        True,
        True,
        False,
        False,
        False,
        False,
    ]
    # a share of a larger corpus raises the ceiling: 0.001 * 100,000 = 100
    assert specific_terms(df, 100_000, None, cfg)[3]
    # term 4: 500 articles within days 10-12 (bursty); term 5: spread over a year;
    # term 6: one dated article only (no spread to judge)
    moments = np.zeros((3, df.size), np.int64)
    for f, days in (
        (4, np.repeat([10.0, 11.0, 12.0], [100, 300, 100])),
        (5, np.linspace(0, 365, 500)),
        (6, np.array([3.0])),
    ):
        one_term_rows = np.arange(days.size + 1, dtype=np.int64)
        add_day_moments(one_term_rows, np.full(days.size, f, np.uint32), days, moments, 1)
    got = specific_terms(df, 1000, moments, cfg)
    assert got[4]
    assert not got[5]
    assert not got[6]
    assert not specific_terms(df, 1000, moments, cfg.replace(specific_spread_days=None))[4]


def test_day_moments_are_exact_whatever_the_order_of_adds_and_removals() -> None:
    rng = np.random.default_rng(9)
    days = 20_000 + rng.uniform(0, 700, 5000)
    days[::7] = np.nan  # undated rows count nowhere
    ptr = np.arange(0, 3 * 5000 + 1, 3, dtype=np.int64)
    feats = rng.integers(0, 50, 3 * 5000).astype(np.uint32)
    whole = np.zeros((3, 50), np.int64)
    add_day_moments(ptr, feats, days, whole, 1)
    assert whole[0].sum() == 3 * np.isfinite(days).sum()
    pieces = np.zeros((3, 50), np.int64)
    for r0 in rng.permutation(np.arange(0, 5000, 250)):
        add_day_moments(
            ptr[r0 : r0 + 251] - ptr[r0],
            feats[ptr[r0] : ptr[r0 + 250]],
            days[r0 : r0 + 250],
            pieces,
            1,
        )
    assert np.array_equal(pieces, whole)
    add_day_moments(ptr[:2001], feats[: ptr[2000]], days[:2000], pieces, -1)
    add_day_moments(ptr[:2001], feats[: ptr[2000]], days[:2000], pieces, 1)
    assert np.array_equal(pieces, whole)
    add_day_moments(ptr, feats, days, pieces, -1)
    assert not pieces.any()


def _rows(rng: np.random.Generator, n: int, n_features: int) -> TfidfRows:
    lengths = rng.integers(0, 12, n)
    ptr = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
    feats = np.concatenate(
        [np.sort(rng.choice(n_features, k, replace=False)) for k in lengths]
    ).astype(np.uint32)
    weights = rng.uniform(0.1, 1.0, feats.size).astype(np.float32)
    return TfidfRows(ptr, feats, weights, np.ones(n_features, np.float32))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_shares_specific_against_set_intersection(seed: int) -> None:
    rng = np.random.default_rng(seed)
    rows = _rows(rng, 300, 60)
    specific = rng.random(60) < 0.2
    left = rng.integers(0, 300, 5000).astype(np.int64)
    right = rng.integers(0, 300, 5000).astype(np.int64)
    got = shares_specific(rows.ptr, rows.features, specific, left, right)

    def terms(r: int) -> set[int]:
        return set(rows.features[rows.ptr[r] : rows.ptr[r + 1]].tolist())

    want = [any(specific[f] for f in terms(a) & terms(b)) for a, b in zip(left, right, strict=True)]
    assert got.tolist() == want
    assert 0 < got.sum() < got.size


def test_story_similarity_is_zero_without_a_shared_specific_term() -> None:
    rng = np.random.default_rng(5)
    rows = _rows(rng, 200, 40)
    days = np.zeros(200)
    left = rng.integers(0, 200, 3000).astype(np.int64)
    right = rng.integers(0, 200, 3000).astype(np.int64)
    cfg = ClusterConfig()
    plain = story_similarity(rows, days, left, right, cfg)
    specific = rng.random(40) < 0.3
    ruled_rows = TfidfRows(rows.ptr, rows.features, rows.weights, rows.idf, specific)
    ruled = story_similarity(ruled_rows, days, left, right, cfg)
    shared = shares_specific(rows.ptr, rows.features, specific, left, right)
    assert np.array_equal(ruled[shared], plain[shared])
    assert np.all(ruled[~shared] == 0.0)
    assert (plain[~shared] > 0).any()
    everything = TfidfRows(rows.ptr, rows.features, rows.weights, rows.idf, np.ones(40, bool))
    assert np.array_equal(story_similarity(everything, days, left, right, cfg), plain)


def test_explain_scores_a_template_pair_zero_under_the_rule() -> None:
    docs = _corpus()
    assert PairScorer(docs).score("e1", "e2").story_link
    assert PairScorer(docs).score("e1", "e2").specific_shared is None
    ruled = PairScorer(docs, RULE).score("e1", "e2")
    assert ruled.story_similarity == 0.0
    assert not ruled.story_link
    assert ruled.specific_shared is False
    event = PairScorer(docs, RULE).score("e7-follow", "e7-other")
    assert event.story_link
    assert event.specific_shared is True


def _story_of(ix: StoryIndex) -> dict[str, int]:
    return {m: s.id for s in ix.stories() for m in s.members}


def test_index_applies_the_rule_as_cluster_does(tmp_path: Path) -> None:
    """Batches of 20 (the index settles while young) and a final settle() give the
    partition of ``cluster()`` with the rule; the template forms no story there either."""
    docs = sorted(_corpus(), key=lambda a: (a.date, a.id))
    want = {a.id: a.story_id for a in cluster(docs, RULE).assignments}
    with StoryIndex.open(tmp_path / "rule.idx", RULE) as ix:
        for k in range(0, len(docs), 20):
            ix.add(docs[k : k + 20])
        got = _story_of(ix)
        assert got["e7-follow"] == got["e7-other"]
        ix.settle()
        settled = _story_of(ix)
    members: dict[int, set[str]] = {}
    for doc, story in settled.items():
        members.setdefault(story, set()).add(doc)
    same: dict[int, set[str]] = {}
    for doc, story in want.items():
        same.setdefault(story, set()).add(doc)
    assert sorted(map(sorted, members.values())) == sorted(map(sorted, same.values()))
    assert max(sum(m[1:].isdigit() for m in g) for g in members.values()) <= 4


def test_index_keeps_day_moments_exact_through_removals(tmp_path: Path) -> None:
    docs = _corpus()
    path = tmp_path / "m.idx"
    with StoryIndex.open(path, RULE) as ix:
        ix.add(docs[:150])
        ix.add(docs[150:])
        ix.remove([a.id for a in docs[::3]])
        ix.expire(before=START + timedelta(days=30))
        kept = ix._derived.stats.copy()
        assert kept.shape[0] == 5
        assert kept[2].sum() > 0
    with StoryIndex.open(path, RULE) as fresh:  # counts everything again from the file
        fresh.stats()
        assert np.array_equal(fresh._derived.stats, kept)


def test_an_index_keeps_the_rule_it_was_made_with(tmp_path: Path) -> None:
    with StoryIndex.open(tmp_path / "plain.idx") as ix:
        ix.add(_corpus()[:5])
    with pytest.raises(IndexFileError):
        StoryIndex.open(tmp_path / "plain.idx", RULE)


def test_command_line_takes_the_rule(tmp_path: Path) -> None:
    import orjson
    from typer.testing import CliRunner

    from clusterer.cli import app

    corpus = tmp_path / "wires.jsonl"
    corpus.write_bytes(
        b"".join(
            orjson.dumps({"id": a.id, "title": a.title, "text": a.text, "date": a.date.isoformat()})
            + b"\n"
            for a in _corpus()
        )
    )
    out = tmp_path / "out.jsonl"
    runner = CliRunner()
    done = runner.invoke(app, ["cluster", str(corpus), "-q", "-o", str(out), "--specific-terms"])
    assert done.exit_code == 0, done.output
    story = {r["id"]: r["story_id"] for r in map(orjson.loads, out.read_bytes().splitlines())}
    assert story["e1"] != story["e2"]
    assert story["e7-follow"] == story["e7-other"]
    told = runner.invoke(
        app, ["explain", str(out), "e1", "e2", "--input", str(corpus), "--specific-terms"]
    )
    assert told.exit_code == 0, told.output
    assert "specific term shared" in told.stdout
    assert "no (specific_terms" in told.stdout
