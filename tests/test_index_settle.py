"""Settling a young index: stories re-decided with current statistics, no silent id change."""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from clusterer import cluster, read_articles
from clusterer.errors import ConfigError
from clusterer.evaluate import score
from clusterer.index import StoryIndex
from clusterer.index.batch import day_of
from clusterer.index.identity import reconcile
from clusterer.models import Article


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> list[Article]:
    """600 synthetic articles with siblings and rewrites, in arrival (date) order."""
    from benchmarks.synth import write_corpus

    path = tmp_path_factory.mktemp("settle") / "synth.jsonl"
    write_corpus(600, path, seed=11)
    arts = list(read_articles([str(path)]))
    arts.sort(key=lambda a: (math.isnan(day_of(a.date)), day_of(a.date) if a.date else 0.0, a.id))
    return arts


def _labels(ix: StoryIndex) -> dict[str, int]:
    return {m: s.id for s in ix.stories() for m in s.members}


def _groups(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as conn:
        return dict(conn.execute("SELECT id, group_id FROM articles").fetchall())


def _bcubed(a: dict[str, int], b: dict[str, int]) -> float:
    ids = sorted(b)
    return score([a[i] for i in ids], [b[i] for i in ids]).bcubed_f1


def test_reconcile_merge_split_move() -> None:
    # old stories 5 = rows 0-3, 7 = rows 4-5, 9 = rows 6-8; new partition:
    # {0,1,2} {3,4,5} {6,7} {8}: 5 keeps 0-2, row 3 moves to 7's heir, 9 keeps 6-7 and
    # row 8 is split off into a fresh story
    old = np.array([5, 5, 5, 5, 7, 7, 9, 9, 9])
    new = np.array([0, 0, 0, 1, 1, 1, 2, 2, 3])
    m = reconcile(old, new, 20)
    assert m.final.tolist() == [5, 5, 5, 7, 7, 7, 9, 9, 20]
    assert m.merges == []
    assert m.splits == [(9, 20, 8)]
    assert m.moved == [(7, 5, 3), (20, 9, 8)]
    assert m.counter == 21


def test_reconcile_merge_keeps_oldest_id() -> None:
    old = np.array([4, 4, 2, 3, 3])
    new = np.array([0, 0, 0, 1, 1])  # 4 and 2 merge; 3 unchanged
    m = reconcile(old, new, 10)
    assert m.final.tolist() == [2, 2, 2, 3, 3]
    assert m.merges == [(2, 4, 0)]
    assert m.splits == []
    assert m.moved == []
    assert m.counter == 10


def test_reconcile_tie_goes_to_earliest_new_story() -> None:
    old = np.array([1, 1, 1, 1])
    new = np.array([0, 0, 1, 1])
    m = reconcile(old, new, 3)
    assert m.final.tolist() == [1, 1, 3, 3]
    assert m.splits == [(1, 3, 2)]
    assert m.moved == [(3, 1, 2), (3, 1, 3)]


def test_small_batches_agree_with_cluster(tmp_path: Path, synth: list[Article]) -> None:
    batch = {a.id: a.story_id for a in cluster(synth).assignments}
    f1 = {}
    for until in (0, 10_000):
        with StoryIndex.open(tmp_path / f"u{until}.idx", settle_until=until) as ix:
            for i in range(0, len(synth), 10):
                ix.add(synth[i : i + 10])
            f1[until] = _bcubed(_labels(ix), batch)
            assert (ix.stats().settles > 0) == (until > 0)
    assert f1[10_000] >= 0.98, f1
    assert f1[10_000] > f1[0], f1  # the settling closes what is left of the gap


def test_no_id_changes_silently(tmp_path: Path, synth: list[Article]) -> None:
    """Every article keeps its story and group, or its old id resolves to the new one,
    or a ``moved`` event names it."""
    path = tmp_path / "ids.idx"
    seen_story: dict[str, int] = {}
    seen_group: dict[str, int] = {}
    kinds: set[str] = set()
    with StoryIndex.open(path) as ix:
        for i in range(0, len(synth), 7):
            last = ix.events()[-1].seq if ix.events() else 0
            answers = ix.add(synth[i : i + 7])
            now, groups = _labels(ix), _groups(path)
            for a in answers:  # the answers carry the ids as of the end of the batch
                assert now[a.id] == a.story_id
                assert groups[a.id] == a.duplicate_group_id
            new_events = [e for e in ix.events() if e.seq > last]
            kinds |= {e.kind for e in new_events}
            for kind, seen, cur in (("", seen_story, now), ("group_", seen_group, groups)):
                moved = {
                    (e.article, e.absorbed, e.survivor)
                    for e in new_events
                    if e.kind == kind + "moved"
                }
                alias = {e.absorbed: e.survivor for e in new_events if e.kind == kind + "merged"}
                for aid, old in seen.items():
                    if cur[aid] != old:
                        assert alias.get(old) == cur[aid] or (aid, old, cur[aid]) in moved, (
                            f"{aid}: {kind or 'story'} {old} -> {cur[aid]} without an event"
                        )
                seen.update(cur)
            for sid in set(now.values()):  # the stories table follows the rows
                assert ix.story(sid).size == sum(v == sid for v in now.values())
    assert {"moved", "split"} <= kinds  # the corpus exercises both


def test_absorbed_ids_resolve(tmp_path: Path, synth: list[Article]) -> None:
    with StoryIndex.open(tmp_path / "r.idx") as ix:
        for i in range(0, len(synth), 10):
            ix.add(synth[i : i + 10])
        live = {s.id for s in ix.stories()}
        for e in ix.events():
            if e.kind == "merged":
                assert ix.resolve(e.absorbed) in live
                assert ix.story(e.absorbed).id == ix.resolve(e.absorbed)


def test_other_connection_follows_a_settling(tmp_path: Path, synth: list[Article]) -> None:
    """A second open index (as another process would) sees the rewritten top terms."""
    path = tmp_path / "two.idx"
    probes = synth[400:430]
    with StoryIndex.open(path) as writer, StoryIndex.open(path) as reader:
        for i in range(0, 300, 10):
            writer.add(synth[i : i + 10])
            reader.query(probes[0])  # keeps the reader's lookups loaded between writes
        assert writer.stats().articles == 300
        before = [reader.query(a) for a in probes]
        with StoryIndex.open(path) as fresh:
            assert [fresh.query(a) for a in probes] == before
            writer.query(probes[0])
            # document frequencies and top-term posting counts as read from the file
            for ix in (reader, writer):
                assert np.array_equal(ix._derived.stats, fresh._derived.stats)
        # the reader writes next: it must build on the settled rows
        reader.add(synth[300:400])
    with StoryIndex.open(path) as again:
        assert again.stats().articles == 400
        assert sum(s.size for s in again.stories()) == 400


def test_settle_until_is_stored_and_checked(tmp_path: Path, synth: list[Article]) -> None:
    path = tmp_path / "s.idx"
    with StoryIndex.open(path, settle_until=0) as ix:
        assert ix.settle_until == 0
    with StoryIndex.open(path) as ix:  # None keeps the stored value
        assert ix.settle_until == 0
        for i in range(0, 200, 10):
            ix.add(synth[i : i + 10])
        assert ix.stats().settles == 0
    with StoryIndex.open(path, settle_until=500) as ix:
        assert ix.settle_until == 500
    with pytest.raises(ConfigError, match="settle_until"):
        StoryIndex.open(tmp_path / "bad.idx", settle_until=-1)


def test_components_above_max_block_are_cut_as_in_the_batch_path(
    tmp_path: Path, synth: list[Article], monkeypatch: pytest.MonkeyPatch
) -> None:
    """One batch into an empty index equals cluster(), also when components get cut."""
    from clusterer import ClusterConfig
    from clusterer.index import assign

    calls = []
    real = assign._link_large

    def spy(rows, *args):  # type: ignore[no-untyped-def]
        calls.append(rows.size)
        return real(rows, *args)

    monkeypatch.setattr(assign, "_link_large", spy)
    config = ClusterConfig(max_block=6)
    batch = {a.id: a.story_id for a in cluster(synth, config).assignments}
    with StoryIndex.open(tmp_path / "cut.idx", config) as ix:
        ix.add(synth)
        assert _bcubed(_labels(ix), batch) == 1.0
    assert calls  # some component was larger than max_block


def test_settle_on_demand_gives_the_batch_partition(tmp_path: Path, synth: list[Article]) -> None:
    """``settle()`` at any size: the stories of ``cluster()``, every change recorded."""
    path = tmp_path / "manual.idx"
    batch = {a.id: a.story_id for a in cluster(synth).assignments}
    with StoryIndex.open(path, settle_until=0) as ix:
        assert ix.settle() == []  # an empty index has nothing to re-decide
        for i in range(0, len(synth), 10):
            ix.add(synth[i : i + 10])
        before, last = _labels(ix), ix.events()[-1].seq if ix.events() else 0
        assert _bcubed(before, batch) < 1.0  # batches of 10 drift; this must be closed
        changes = ix.settle()
        assert changes == [e for e in ix.events() if e.seq > last]
        after = _labels(ix)
        assert _bcubed(after, batch) == 1.0
        alias = {e.absorbed: e.survivor for e in changes if e.kind == "merged"}
        moved = {(e.article, e.absorbed, e.survivor) for e in changes if e.kind == "moved"}
        for aid, old in before.items():
            if after[aid] != old:
                assert alias.get(old) == after[aid] or (aid, old, after[aid]) in moved, aid
        for sid in set(after.values()):
            assert ix.story(sid).size == sum(v == sid for v in after.values())
        assert ix.stats().settles == 1
        assert ix.settle() == []  # settled stories stay as they are
        probes = [ix.query(a) for a in synth[:20]]
    with StoryIndex.open(path) as fresh:  # the rewritten top terms are what a reader sees
        assert [fresh.query(a) for a in synth[:20]] == probes
        assert _labels(fresh) == after


def test_pairs_scored_in_runs_give_the_same_stories(
    tmp_path: Path, synth: list[Article], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Scoring component pairs in runs (bounded memory) changes no answer."""
    from clusterer.index import assign

    answers = []
    for limit in (assign.PAIRS_PER_CALL, 50):
        monkeypatch.setattr(assign, "PAIRS_PER_CALL", limit)
        with StoryIndex.open(tmp_path / f"runs{limit}.idx", settle_until=0) as ix:
            answers.append([ix.add(synth[:300]), ix.add(synth[300:]), _labels(ix)])
    assert answers[0] == answers[1]
