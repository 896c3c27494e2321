import numpy as np
import pytest

from clusterer import Article, ClusterConfig, cluster
from clusterer.grouping import canonical_labels, components, link_stories


def _topic_articles(
    prefix: str, vocab: list[str], n: int, rng: np.random.Generator
) -> list[Article]:
    return [
        Article(
            id=f"{prefix}{i}",
            title=" ".join(rng.choice(vocab, size=6, replace=False)),
            text=" ".join(rng.choice(vocab, size=80)),
        )
        for i in range(n)
    ]


def test_bridge_article_does_not_chain_two_stories() -> None:
    """A-B-C chain: story A and story C are unrelated; B is half A, half C."""
    rng = np.random.default_rng(3)
    vocab_a = [f"drone{i}" for i in range(60)]
    vocab_c = [f"harvest{i}" for i in range(60)]
    story_a = _topic_articles("a", vocab_a, 5, rng)
    story_c = _topic_articles("c", vocab_c, 5, rng)
    bridge = Article(
        id="b",
        title=" ".join([*rng.choice(vocab_a, 3), *rng.choice(vocab_c, 3)]),
        text=" ".join([*rng.choice(vocab_a, 40), *rng.choice(vocab_c, 40)]),
    )
    result = cluster([*story_a, bridge, *story_c])
    story = {a.id: a.story_id for a in result.assignments}
    assert len({story[a.id] for a in story_a}) == 1
    assert len({story[a.id] for a in story_c}) == 1
    assert story["a0"] != story["c0"], "the bridge chained two unrelated stories"

    # The chain is really there: single-link components of the accepted+rejected
    # story links (what connected components would do) put A and C together.
    table = result.link_table
    assert table is not None
    strong = table.kind == 1
    single = components(len(result.assignments), table.left[strong], table.right[strong])
    rows = {a.id: i for i, a in enumerate(result.assignments)}
    assert single[rows["a0"]] == single[rows["c0"]]

    # The refused links are reported on the story summaries.
    assert sum(s.rejected_links for s in result.stories) > 0
    assert any(link.reason == "linkage" for link in result.links())


def test_complete_linkage_also_refuses_the_chain() -> None:
    rng = np.random.default_rng(5)
    a = _topic_articles("a", [f"quake{i}" for i in range(50)], 4, rng)
    c = _topic_articles("c", [f"budget{i}" for i in range(50)], 4, rng)
    bridge = Article(id="b", text=" ".join([a[0].text[:300], c[0].text[:300]]))
    result = cluster([*a, bridge, *c], ClusterConfig(linkage="complete"))
    story = {x.id: x.story_id for x in result.assignments}
    assert story["a0"] != story["c0"]


def test_link_stories_average_vs_must_link() -> None:
    # Three articles: 0-1 similar, 1-2 similar, 0-2 unrelated; 0 and 2 are duplicates.
    sims = {(0, 1): 0.9, (1, 2): 0.9, (0, 2): 0.0}

    def score(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.array([sims[(min(x, y), max(x, y))] for x, y in zip(a, b, strict=True)])

    left = np.array([0, 1], np.int64)
    right = np.array([1, 2], np.int64)
    sim = np.array([0.9, 0.9])
    no_dups = np.arange(3, dtype=np.int64)
    apart = link_stories(3, left, right, sim, no_dups, score, 0.7, "average")
    # average of {0,1} to 2 = (0 + 0.9) / 2 = 0.45 < 0.7
    assert apart.labels.tolist() == [0, 0, 1]
    assert apart.rejected.tolist() == [False, True]
    dups = np.array([0, 1, 0], np.int64)
    together = link_stories(3, left, right, sim, dups, score, 0.7, "average")
    assert len(set(together.labels.tolist())) == 1


def test_canonical_labels_number_by_first_appearance() -> None:
    assert canonical_labels(np.array([7, 3, 7, 9, 3])).tolist() == [0, 1, 0, 2, 1]


@pytest.mark.parametrize("kind", ["dense", "sparse", "negative", "empty", "one"])
def test_canonical_labels_is_the_sorted_first_appearance_ranking(kind: str) -> None:
    """The one-pass numbering (dense labels) and the sort (others) agree with np.unique."""
    rng = np.random.default_rng(len(kind))
    labels = {
        "dense": rng.integers(0, 3000, 5000),
        "sparse": rng.integers(0, 10**12, 5000),
        "negative": rng.integers(-50, 50, 5000),
        "empty": np.zeros(0, np.int64),
        "one": np.array([12], np.int64),
    }[kind]
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    rank = np.empty(first.size, np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(first.size)
    got = canonical_labels(labels)
    assert got.dtype == np.int64
    assert np.array_equal(got, rank[inverse.ravel()])


def test_components_of_edge_list() -> None:
    labels = components(5, np.array([0, 3], np.int64), np.array([2, 4], np.int64))
    assert labels.tolist() == [0, 1, 0, 2, 2]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_link_stories_flags_edges_as_the_numpy_expressions_do(seed: int) -> None:
    """The compiled edge pass: rejected edges and lone links against plain NumPy."""
    rng = np.random.default_rng(seed)
    n, m = 400, 1500
    left = rng.integers(0, n, m).astype(np.int64)
    right = rng.integers(0, n, m).astype(np.int64)
    sim = rng.uniform(0.0, 1.0, m)
    pair = {(int(a), int(b)): float(s) for a, b, s in zip(left, right, sim, strict=True)}

    def score(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        got = [
            pair.get((int(x), int(y)), pair.get((int(y), int(x)), 0.0))
            for x, y in zip(a, b, strict=True)
        ]
        return np.array(got, np.float64)

    out = link_stories(n, left, right, sim, np.arange(n, dtype=np.int64), score, 0.8, "average")
    alone = np.bincount(out.labels)[out.labels] == 1
    assert 0 < alone.sum() < n  # both kinds of article are there
    assert np.array_equal(out.rejected, (sim >= 0.8) & (out.labels[left] != out.labels[right]))
    assert np.array_equal(out.lone_links, np.flatnonzero(alone[left] != alone[right]))
    assert out.lone_links.dtype == np.int64


def test_link_stories_without_edges_has_no_lone_links() -> None:
    empty = np.zeros(0, np.int64)

    def score(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.zeros(a.size)

    out = link_stories(
        3, empty, empty, np.zeros(0), np.arange(3, dtype=np.int64), score, 0.5, "average"
    )
    assert out.labels.tolist() == [0, 1, 2]
    assert out.rejected.size == 0
    assert out.lone_links.size == 0
