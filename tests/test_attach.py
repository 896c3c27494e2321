"""The relative singleton-attachment pass that follows the story linkage."""

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from clusterer import Article, ClusterConfig, ConfigError, cluster
from clusterer.cli import app
from clusterer.grouping import attach_singletons
from clusterer.index import StoryIndex

I64 = np.int64


def _case(
    sim: np.ndarray, labels: list[int], ratio: float = 0.5, floor: float = 0.1
) -> tuple[np.ndarray, np.ndarray]:
    """Run the pass on a dense toy similarity matrix; candidates are all pairs > 0."""
    lab = np.asarray(labels, I64)
    same = (lab[:, None] == lab[None, :]) & ~np.eye(lab.size, dtype=bool)
    count = same.sum(axis=1)
    scores = np.divide((sim * same).sum(axis=1), count, out=np.zeros(lab.size), where=count > 0)
    left, right = np.nonzero(np.triu(sim, k=1) > 0)

    def score(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.asarray(sim[a, b], np.float64)

    out = attach_singletons(
        lab, scores, left.astype(I64), right.astype(I64), sim[left, right], score, ratio, floor
    )
    return out.labels, out.similarity


def _story(n: int, inner: float) -> np.ndarray:
    sim = np.full((n, n), inner)
    np.fill_diagonal(sim, 1.0)
    return sim


def _with_lone(inner: float, match: list[float]) -> np.ndarray:
    """A story of ``len(match)`` articles at ``inner`` plus one lone article (last row)."""
    m = len(match)
    sim = np.zeros((m + 1, m + 1))
    sim[:m, :m] = _story(m, inner)
    sim[m, :m] = sim[:m, m] = match
    sim[m, m] = 1.0
    return sim


def test_lone_article_joins_a_loose_story_it_matches_relatively_well() -> None:
    # Story cohesion 0.2; the lone article's mean match 0.12 >= max(0.1, 0.5 * 0.2).
    labels, mean = _case(_with_lone(0.2, [0.14, 0.12, 0.10]), [0, 0, 0, 1])
    assert labels.tolist() == [0, 0, 0, 0]
    assert mean == pytest.approx([0.12])


def test_weak_match_below_the_floor_is_not_attached() -> None:
    # Cohesion 0.12 asks only 0.06 relatively, but the mean 0.08 is below the 0.1 floor.
    labels, mean = _case(_with_lone(0.12, [0.09, 0.08, 0.07]), [0, 0, 0, 1])
    assert labels.tolist() == [0, 0, 0, 1]
    assert mean.size == 0


def test_weak_match_to_a_tight_story_is_not_attached() -> None:
    # Mean 0.14 clears the floor but not half of the tight story's cohesion 0.6.
    labels, _ = _case(_with_lone(0.6, [0.14, 0.14, 0.14]), [0, 0, 0, 1])
    assert labels.tolist() == [0, 0, 0, 1]
    # The same match to a loose story of cohesion 0.25 is enough.
    labels, _ = _case(_with_lone(0.25, [0.14, 0.14, 0.14]), [0, 0, 0, 1])
    assert labels.tolist() == [0, 0, 0, 0]


def test_mean_over_all_members_not_the_best_link() -> None:
    # One strong link (0.3) but nothing else: mean 0.1 < 0.5 * 0.4.
    labels, _ = _case(_with_lone(0.4, [0.3, 0.0, 0.0]), [0, 0, 0, 1])
    assert labels.tolist() == [0, 0, 0, 1]


def test_best_story_wins_and_order_does_not_matter() -> None:
    sim = np.zeros((7, 7))
    sim[:3, :3] = _story(3, 0.2)
    sim[3:6, 3:6] = _story(3, 0.2)
    sim[6, :3] = sim[:3, 6] = 0.11
    sim[6, 3:6] = sim[3:6, 6] = 0.13
    sim[6, 6] = 1.0
    labels, mean = _case(sim, [0, 0, 0, 1, 1, 1, 2])
    assert labels[6] == labels[3] != labels[0]
    assert mean == pytest.approx([0.13])
    perm = np.random.default_rng(0).permutation(7)
    inverse = np.argsort(perm)
    shuffled, _ = _case(sim[np.ix_(perm, perm)], [[0, 0, 0, 1, 1, 1, 2][p] for p in perm])
    same = shuffled[inverse][:, None] == shuffled[inverse][None, :]
    assert (same == (labels[:, None] == labels[None, :])).all()


def test_two_lone_articles_do_not_attach_to_each_other() -> None:
    sim = _story(2, 0.5)
    labels, _ = _case(sim, [0, 1])
    assert labels.tolist() == [0, 1]


def test_ratio_zero_switches_the_pass_off() -> None:
    labels, _ = _case(_with_lone(0.2, [0.14, 0.12, 0.10]), [0, 0, 0, 1], ratio=0.0)
    assert labels.tolist() == [0, 0, 0, 1]


@pytest.mark.parametrize(
    ("name", "value"),
    [("attach_ratio", -0.1), ("attach_ratio", 1.5), ("attach_floor", 0.0), ("attach_floor", 2.0)],
)
def test_bad_attach_settings_are_config_errors(name: str, value: float) -> None:
    with pytest.raises(ConfigError, match=f"'{name}' parameter of ClusterConfig"):
        ClusterConfig(**{name: value})


def test_attach_settings_round_trip() -> None:
    config = ClusterConfig(attach_ratio=0.3, attach_floor=0.05)
    assert ClusterConfig.from_dict(config.to_dict()) == config


def _straggler_corpus(seed: int, core_words: int, late_words: int) -> list[Article]:
    """A story of four reports on shared "flood" terms, and a later one sharing fewer.

    ``core_words`` sets how tight the story is, ``late_words`` how much of its vocabulary
    the last article shares (the rest of each text is drawn from 1,000 other words).
    """
    rng = np.random.default_rng(seed)
    core = [f"flood{c}" for c in "abcdefghijkl"]
    noise = [f"word{c}{d}{e}" for c in "abcdefghij" for d in "abcdefghij" for e in "abcdefghij"]

    def article(key: str, title_core: int, text_core: int) -> Article:
        title = [*rng.choice(core, title_core, replace=False), *rng.choice(noise, 6 - title_core)]
        text = [*rng.choice(core, text_core), *rng.choice(noise, 60)]
        return Article(id=key, title=" ".join(title), text=" ".join(text))

    story = [article(f"s{i}", 3, core_words) for i in range(4)]
    return [*story, article("late", 1, late_words)]


def _stories(articles: list[Article], config: ClusterConfig) -> dict[str, int]:
    return {a.id: a.story_id for a in cluster(articles, config).assignments}


def test_straggler_joins_a_loose_story_end_to_end() -> None:
    # Story cohesion about 0.17; the straggler's mean similarity to it about 0.12.
    articles = _straggler_corpus(2, 40, 30)
    alone = _stories(articles, ClusterConfig(attach_ratio=0.0))
    assert alone["late"] != alone["s0"]
    assert len({alone[f"s{i}"] for i in range(4)}) == 1
    result = cluster(articles, ClusterConfig())
    story = {a.id: a.story_id for a in result.assignments}
    assert story["late"] == story["s0"]
    attached = [link for link in result.links() if link.reason == "attached"]
    assert [link.a for link in attached] == ["late"]
    assert attached[0].b in {"s0", "s1", "s2", "s3"}
    assert 0.1 <= attached[0].similarity < ClusterConfig().story_threshold
    assert [s.attached for s in result.stories if len(s.members) > 1] == [1]


def test_straggler_of_a_tight_story_stays_apart_end_to_end() -> None:
    # Cohesion about 0.37: a mean of about 0.15 is less than half of it.
    articles = _straggler_corpus(2, 80, 30)
    story = _stories(articles, ClusterConfig())
    assert story["late"] != story["s0"]
    assert len({story[f"s{i}"] for i in range(4)}) == 1


def test_straggler_below_the_floor_stays_apart_end_to_end() -> None:
    # Loose story (cohesion about 0.17), mean similarity about 0.09: below the floor.
    articles = _straggler_corpus(0, 40, 30)
    story = _stories(articles, ClusterConfig())
    assert story["late"] != story["s0"]
    lower = _stories(articles, ClusterConfig(attach_floor=0.05))
    assert lower["late"] == lower["s0"]


@pytest.mark.parametrize("order", ["one batch", "story first", "straggler first"])
def test_story_index_attaches_like_the_batch_path(tmp_path: Path, order: str) -> None:
    articles = _straggler_corpus(2, 40, 30)
    batches = {
        "one batch": [articles],
        "story first": [articles[:4], articles[4:]],
        "straggler first": [articles[4:], articles[:4]],
    }[order]
    with StoryIndex.open(tmp_path / "i.idx") as index:
        for batch in batches:
            index.add(batch)
        story = {m: s.id for s in index.stories() for m in s.members}
    assert story["late"] == story["s0"] == story["s3"]


def test_story_index_leaves_the_tight_story_straggler_alone(tmp_path: Path) -> None:
    articles = _straggler_corpus(2, 80, 30)
    with StoryIndex.open(tmp_path / "i.idx") as index:
        index.add(articles[:4])
        index.add(articles[4:])
        story = {m: s.id for s in index.stories() for m in s.members}
    assert story["late"] != story["s0"]


def _cli(*args: str | Path) -> Any:
    return CliRunner().invoke(app, [str(a) for a in args], env={"COLUMNS": "240"})


def test_cli_options_round_trip_and_explain_the_attachment(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(
        "".join(
            json.dumps({"id": a.id, "title": a.title, "text": a.text}) + "\n"
            for a in _straggler_corpus(2, 40, 30)
        ),
        "utf-8",
    )
    saved, again = tmp_path / "c.json", tmp_path / "c2.json"
    out = tmp_path / "o.jsonl"
    args = ("--attach-ratio", "0.4", "--attach-floor", "0.08", "--save-config", saved)
    assert _cli("cluster", src, "-q", "-o", out, *args).exit_code == 0
    config = json.loads(saved.read_text("utf-8"))
    assert (config["attach_ratio"], config["attach_floor"]) == (0.4, 0.08)
    assert (
        _cli("cluster", src, "-q", "-o", out, "--config", saved, "--save-config", again).exit_code
        == 0
    )
    assert json.loads(again.read_text("utf-8")) == config
    shown = _cli("cluster", src, "-q", "--explain")
    assert "late — s" in shown.stdout
    assert "attached as a lone article: mean similarity 0.123" in shown.stdout
    story = _cli("explain", out, "late", "-i", src, "--config", saved)
    assert story.exit_code == 0, story.output
    assert "attachment" in story.stdout
    bad = _cli("cluster", src, "-q", "--attach-floor", "0")
    assert bad.exit_code == 2
    assert "'attach_floor' parameter of ClusterConfig must be a float in (0, 1]" in bad.output


def test_evaluate_takes_the_attachment_options_and_a_config_file(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(
        "".join(
            json.dumps({"id": a.id, "title": a.title, "text": a.text, "cluster": "flood"}) + "\n"
            for a in _straggler_corpus(2, 40, 30)
        ),
        "utf-8",
    )

    def scores(*args: str | Path) -> dict[str, Any]:
        result = _cli("evaluate", src, "--json", *args)
        assert result.exit_code == 0, result.output
        return dict(json.loads(result.stdout))

    assert scores()["bcubed_f1"] == 1.0  # the straggler is attached
    off = scores("--attach-ratio", "0")
    assert off["config"]["attach_ratio"] == 0.0
    assert off["bcubed_f1"] < 1.0
    assert off["n_clusters_predicted"] == 2
    saved = tmp_path / "c.json"
    saved.write_text(json.dumps({**ClusterConfig(attach_ratio=0.0).to_dict(), "seed": 3}))
    from_file = scores("--config", saved)
    assert (from_file["bcubed_f1"], from_file["config"]["seed"]) == (off["bcubed_f1"], 3)
    # an option on the command line overrides the file
    assert scores("--config", saved, "--attach-ratio", "0.5")["bcubed_f1"] == 1.0
    # a config file is a clustering setting: refused when scoring written files
    refused = _cli("evaluate", "--predicted", src, "--gold", src, "--config", saved)
    assert refused.exit_code == 2
    assert "--config: clustering settings apply only when clustering INPUT" in refused.output


def test_explain_pair_says_when_one_was_attached(tmp_path: Path) -> None:
    src, out = tmp_path / "in.jsonl", tmp_path / "o.jsonl"
    src.write_text(
        "".join(
            json.dumps({"id": a.id, "title": a.title, "text": a.text}) + "\n"
            for a in _straggler_corpus(2, 40, 30)
        ),
        "utf-8",
    )
    assert _cli("cluster", src, "-q", "-o", out).exit_code == 0
    for pair in (("late", "s1"), ("s1", "late")):
        shown = _cli("explain", out, *pair, "-i", src)
        assert shown.exit_code == 0, shown.output
        assert "late attached as a lone article: mean similarity 0.123" in shown.stdout
        assert "cohesion" in shown.stdout
    linked = _cli("explain", out, "s0", "s1", "-i", src)
    assert linked.exit_code == 0, linked.output
    assert "attached" not in linked.stdout
    # with the pass off (as in a run made so), the pair is apart and nothing is claimed
    off = _cli("explain", out, "late", "s1", "-i", src, "--attach-ratio", "0")
    assert off.exit_code == 0, off.output
    assert "attached" not in off.stdout


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_given_lone_links_attach_as_the_full_search_does(seed: int) -> None:
    """``links=StoryLinkage.lone_links`` gives the result of searching every pair."""
    from clusterer.grouping import link_stories

    rng = np.random.default_rng(seed)
    # 40 stories of 6 (inner similarity 0.5-0.9) and 60 lone articles, each linked at
    # 0.2-0.5 to a few members of a few stories: some attach, some do not
    n_story, size, n_lone = 40, 6, 60
    n = n_story * size + n_lone
    sim = np.zeros((n, n))
    for k in range(n_story):
        block = slice(k * size, (k + 1) * size)
        sim[block, block] = rng.uniform(0.5, 0.9, (size, size))
    for lone in range(n_story * size, n):
        for k in rng.choice(n_story, 3, replace=False):
            members = k * size + rng.choice(size, rng.integers(1, size + 1), replace=False)
            sim[lone, members] = rng.uniform(0.2, 0.5, members.size)
    sim = np.triu(sim, k=1)
    sim = sim + sim.T
    left, right = np.nonzero(np.triu(sim, k=1) > 0.2)
    left, right = left.astype(I64), right.astype(I64)

    def score(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.asarray(sim[a, b], np.float64)

    linked = link_stories(
        n, left, right, sim[left, right], np.arange(n, dtype=I64), score, 0.6, "average"
    )
    assert linked.lone_links.size > 0
    args = (linked.labels, linked.scores, left, right, sim[left, right], score, 0.5, 0.25)
    searched = attach_singletons(*args)
    given = attach_singletons(*args, links=linked.lone_links)
    assert searched.rows.size > 0
    for field in ("labels", "scores", "rows", "partners", "similarity", "required"):
        assert np.array_equal(getattr(searched, field), getattr(given, field)), field
