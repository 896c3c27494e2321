from __future__ import annotations

import os
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from index_helpers import START, make_articles

from clusterer import Article, ClusterConfig, ConfigError, DuplicateIdError, IndexFileError
from clusterer.index import StoryIndex, UnknownStoryError


@pytest.fixture
def path(tmp_path: Path) -> str:
    return str(tmp_path / "news.idx")


def test_round_trip_and_reopen(path: str) -> None:
    arts = make_articles(120, seed=1)
    with StoryIndex.open(path) as ix:
        first = ix.add(arts[:60])
        second = ix.add(arts[60:])
        assert [a.id for a in first] == [a.id for a in arts[:60]]
        assert len(second) == 60
        stories = {m: s.id for s in ix.stories() for m in s.members}
        assert set(stories) == {a.id for a in arts}
        assert stories[first[0].id] == ix.resolve(first[0].story_id)
    with StoryIndex.open(path) as ix:
        st = ix.stats()
        assert st.articles == 120
        assert st.batches == 2
        assert st.bytes_per_article > 0
        again = {m: s.id for s in ix.stories() for m in s.members}
        assert again == stories
        q = ix.query(Article(id="new", title=arts[5].title, text=arts[5].text, date=arts[5].date))
        assert q.story_id == stories[arts[5].id]
        assert q.jaccard == 1.0
        assert q.best_match is not None
        assert ix.stats().articles == 120  # query stores nothing
        story = ix.story(q.story_id)
        assert arts[5].id in story.members
        assert story.size == len(story.members)


def test_copies_share_group_and_story(path: str) -> None:
    text = " ".join(f"word{i}" for i in range(200))
    with StoryIndex.open(path) as ix:
        a = ix.add([Article(id="x", title="t", text=text, date=START)])[0]
        b = ix.add([Article(id="y", title="t", text=text + " extra", date=START)])[0]
    assert a.new_story
    assert not b.new_story
    assert b.story_id == a.story_id
    assert b.duplicate_group_id == a.duplicate_group_id
    assert b.best_match == "x"
    assert b.jaccard > 0.9


def test_batch_order_does_not_matter(tmp_path: Path) -> None:
    arts = make_articles(80, seed=2)
    results = []
    for k, order in enumerate((arts, arts[::-1])):
        with StoryIndex.open(str(tmp_path / f"{k}.idx")) as ix:
            ix.add(order)
            results.append(sorted(sorted(s.members) for s in ix.stories()))
    assert results[0] == results[1]


def test_duplicate_ids_are_refused(path: str) -> None:
    arts = make_articles(10, seed=3)
    with StoryIndex.open(path) as ix:
        ix.add(arts)
        with pytest.raises(DuplicateIdError):
            ix.add(arts[:1])
        with pytest.raises(DuplicateIdError):
            ix.add([Article(id="q", text="a b c"), Article(id="q", text="d e f")])
        assert ix.stats().articles == 10


def test_existing_skip_adds_only_what_is_new(tmp_path: Path) -> None:
    """Re-adding a feed with ``existing="skip"`` stores what ``add`` of the new part would."""
    arts = make_articles(90, seed=8)
    old, fresh = arts[:50], arts[50:]
    with (
        StoryIndex.open(str(tmp_path / "skip.idx")) as ix,
        StoryIndex.open(str(tmp_path / "plain.idx")) as ref,
    ):
        ix.add(old)
        ref.add(old)
        mixed = arts[25:]  # 25 stored, 40 new, in feed order
        placed = ix.add(mixed, existing="skip")
        expected = ref.add(fresh)
        assert [a.id for a in placed] == [a.id for a in fresh]
        assert placed == expected
        events = ix.stats().events
        assert ix.add(arts, existing="skip") == []  # nothing new: nothing written
        assert ix.stats().articles == 90
        assert ix.stats().events == events
        assert sorted(sorted(s.members) for s in ix.stories()) == sorted(
            sorted(s.members) for s in ref.stories()
        )
        with pytest.raises(DuplicateIdError, match="already in the index"):
            ix.add(mixed)  # the default still refuses the whole batch
        with pytest.raises(DuplicateIdError):  # a repeat inside the batch is still an error
            ix.add([Article(id="q", text="a b c"), Article(id="q", text="d e f")], existing="skip")
        with pytest.raises(ConfigError, match=r"'existing' parameter of StoryIndex\.add"):
            ix.add(fresh, existing="replace")  # type: ignore[arg-type]
        assert ix.stats().articles == 90


def test_existing_skip_when_another_writer_stores_them_meanwhile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Articles stored by another writer between the check and the write are left out too."""
    from clusterer.index import story_index

    arts = make_articles(60, seed=9)
    path = str(tmp_path / "race.idx")
    real = story_index.views.stored_ids
    calls = 0

    def check_then_other_writer(conn: sqlite3.Connection, ids: list[str]) -> set[str]:
        nonlocal calls
        calls += 1
        found = real(conn, ids)
        if calls == 1:  # the check before featurising; then a second writer stores some
            with StoryIndex.open(path) as other:
                other.add(arts[20:30])
        return found

    with StoryIndex.open(path) as ix:
        ix.add(arts[:20])
        monkeypatch.setattr(story_index.views, "stored_ids", check_then_other_writer)
        placed = ix.add(arts, existing="skip")
        assert calls == 3  # the check, the other writer's own, and ours in the transaction
        assert [a.id for a in placed] == [a.id for a in arts[30:]]
        assert ix.stats().articles == 60


def test_config_mismatch_names_rebuild(path: str) -> None:
    StoryIndex.open(path, ClusterConfig()).close()
    with pytest.raises(IndexFileError, match=r"num_perm=128.*rebuild it with: clusterer index add"):
        StoryIndex.open(path, ClusterConfig(num_perm=64))
    StoryIndex.open(path, ClusterConfig(workers=2)).close()  # result-neutral field


def test_workers_override_changes_no_answer(tmp_path: Path) -> None:
    arts = make_articles(300, seed=3)
    answers = []
    for workers in (1, 2):
        file = str(tmp_path / f"w{workers}.idx")
        StoryIndex.open(file).close()  # created with the default config (workers=0)
        with StoryIndex.open(file, workers=workers) as ix:
            assert ix.config.workers == workers
            answers.append(ix.add(arts[:200]) + ix.add(arts[200:]))
        with StoryIndex.open(file) as ix:
            assert ix.config.workers == 0  # the override is not stored
    assert answers[0] == answers[1]


def test_missing_file_without_create(path: str) -> None:
    with pytest.raises(IndexFileError, match="no index at"):
        StoryIndex.open(path, create=False)


def test_not_an_index(tmp_path: Path) -> None:
    text = tmp_path / "notes.idx"
    text.write_text("hello, this is not a database at all" * 10)
    with pytest.raises(IndexFileError, match="not a SQLite database"):
        StoryIndex.open(str(text))
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE t(x)")
    conn.commit()
    conn.close()
    with pytest.raises(IndexFileError, match="not a clusterer story index"):
        StoryIndex.open(str(other))


def _filled(path: str) -> None:
    with StoryIndex.open(path) as ix:
        ix.add(make_articles(300, seed=4))
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def test_truncated_file(path: str) -> None:
    _filled(path)
    size = os.path.getsize(path)
    with open(path, "r+b") as fh:
        fh.truncate(size // 2)
    with pytest.raises(IndexFileError, match="truncated"):
        StoryIndex.open(path)


@pytest.mark.parametrize("where", [0.3, 0.5, 0.7, 0.9])
def test_corrupted_file(path: str, where: float) -> None:
    _filled(path)
    size = os.path.getsize(path)
    with open(path, "r+b") as fh:
        fh.seek(int(size * where) // 4096 * 4096 + 100)
        fh.write(os.urandom(3000))
    # Either opening or a later operation must fail cleanly; never a traceback.
    with pytest.raises(IndexFileError):
        _read_everything(path)


def _read_everything(path: str) -> None:
    with StoryIndex.open(path) as ix:
        ix.stories()
        for a in make_articles(300, seed=4, prefix="z"):
            ix.query(a)
        ix.add(make_articles(300, seed=4, prefix="w"))


def test_remove_expire_and_window(path: str) -> None:
    arts = make_articles(100, seed=5)
    with StoryIndex.open(path) as ix:
        ix.add(arts)
        assert ix.remove([arts[0].id, arts[1].id, "unknown"]) == 2
        assert ix.stats().articles == 98
        cutoff = START + timedelta(days=5)
        n = ix.expire(cutoff)
        assert n == sum(1 for a in arts[2:] if a.date is not None and a.date < cutoff)
        members = {m for s in ix.stories() for m in s.members}
        assert all(a.date is not None and a.date >= cutoff for a in arts if a.id in members)
        # the removed articles can be added again
        ix.add(arts[:2])
    with StoryIndex.open(path, window_days=2.0) as ix:
        later = make_articles(30, seed=6, prefix="n", day0=30)
        ix.add(later)
        st = ix.stats()
        assert st.window_days == 2.0
        assert st.newest is not None
        assert st.oldest is not None
        assert st.newest - st.oldest <= timedelta(days=2)
        assert ix.stories(since=START + timedelta(days=31))


def test_merge_event_and_resolve(path: str) -> None:
    # x is a near-duplicate of a and of b (Jaccard 0.66) with story similarity 0.44 and
    # 0.56; a and b share no kept term. Duplicate pairs tie stories only at or above
    # story_threshold, so it sits below both.
    cfg = ClusterConfig(duplicate_threshold=0.4, story_threshold=0.4)
    p = " ".join(f"p{i}" for i in range(60))
    q = " ".join(f"q{i}" for i in range(60))
    r = " ".join(f"r{i}" for i in range(60))
    with StoryIndex.open(path, cfg) as ix:
        a = ix.add([Article(id="a", text=f"{p} {q}", date=START)])[0]
        b = ix.add([Article(id="b", text=f"{q} {r}", date=START)])[0]
        assert a.story_id != b.story_id
        x = ix.add([Article(id="x", text=f"{p} {q} {r}", date=START)])[0]
        survivor, gone = min(a.story_id, b.story_id), max(a.story_id, b.story_id)
        assert x.story_id == survivor
        assert x.merged == (gone,)
        events = ix.events()
        kinds = {(e.kind, e.survivor, e.absorbed) for e in events}
        assert ("merged", survivor, gone) in kinds
        assert ix.resolve(gone) == survivor
        assert ix.story(gone).id == survivor
        assert set(ix.story(survivor).members) == {"a", "b", "x"}
        assert ix.events(since=events[-1].seq) == []
        assert ix.events(since=datetime(2000, 1, 1, tzinfo=timezone.utc)) == events
        with pytest.raises(UnknownStoryError):
            ix.story(12345)


def test_empty_article_is_singleton(path: str) -> None:
    with StoryIndex.open(path) as ix:
        out = ix.add([Article(id="e1", title="", text=""), Article(id="e2", title="", text="")])
    assert all(a.empty and a.new_story for a in out)
    assert out[0].story_id != out[1].story_id


@pytest.mark.parametrize("version", ["1", "2"])
def test_older_format_names_the_rebuild(path: str, version: str) -> None:
    with StoryIndex.open(path) as ix:
        ix.add(make_articles(5, seed=2))
    conn = sqlite3.connect(path)
    conn.execute("UPDATE meta SET value = ? WHERE key = 'format_version'", (version,))
    conn.commit()
    conn.close()
    with pytest.raises(IndexFileError, match=rf"format version {version}.*clusterer index add"):
        StoryIndex.open(path)


def _fresh_stats(path: str) -> np.ndarray:
    with StoryIndex.open(path) as ix:
        ix.stats()
        return ix._derived.stats.copy()


@pytest.mark.parametrize("evicted", [False, True])
def test_term_statistics_follow_every_connection(path: str, evicted: bool) -> None:
    """In-memory statistics equal a recount after adds and deletions from two connections."""
    arts = make_articles(120, seed=4)
    with StoryIndex.open(path) as a, StoryIndex.open(path) as b:
        a.add(arts[:50])
        b.add(arts[50:90])  # b reads a's rows, a then reads b's
        a.remove([x.id for x in arts[40:60]])
        if evicted:  # b no longer holds the deleted rows' terms: it recounts
            b._cache = type(b._cache)(b.config.num_perm, b.config.title_weight, b.config.n_features)
        b.stats()
        a.expire(START + timedelta(days=2))
        a.add(arts[90:])
        b.stats()
        want = _fresh_stats(path)
        for ix in (a, b):
            assert np.array_equal(ix._derived.stats, want)
        assert want[0].sum() > 0


def test_interrupted_bookkeeping_is_rebuilt(path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch committed but not yet put into the lookups is neither lost nor counted twice."""
    arts = make_articles(60, seed=6)
    with StoryIndex.open(path, settle_until=0) as ix:  # a settling rebuilds the lookups
        ix.add(arts[:30])

        def interrupted(*args: object) -> None:
            raise KeyboardInterrupt

        monkeypatch.setattr(ix, "_remember", interrupted)
        with pytest.raises(KeyboardInterrupt):
            ix.add(arts[30:45])  # committed, then stopped
        monkeypatch.undo()
        ix.add(arts[45:])
        assert ix.stats().articles == 60
        assert np.array_equal(ix._derived.stats, _fresh_stats(path))
        assert ix.query(arts[35]).story_id == ix.query(arts[35]).story_id


def test_other_connections_see_adds_and_removals(path: str) -> None:
    text = " ".join(f"word{i}" for i in range(200))
    probe = Article(id="probe", title="t", text=text + " more", date=START)
    with StoryIndex.open(path) as writer, StoryIndex.open(path) as reader:
        assert reader.query(probe).best_match is None
        writer.add([Article(id="x", title="t", text=text, date=START)])
        seen = reader.query(probe)  # the writer's batch reached the reader's lookups
        assert seen.best_match == "x"
        assert seen.jaccard > 0.9
        writer.remove(["x"])
        assert reader.query(probe).best_match is None  # and so did the deletion
        writer.add([Article(id="y", title="t", text=text, date=START)])
        assert writer.query(probe).best_match == "y"  # its own commit, too
        assert reader.query(probe).best_match == "y"
