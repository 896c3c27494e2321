"""Story assignment of a batch against the stored index (pure; no SQL here).

The batch path clusters a whole corpus at once with guarded agglomerative linkage. The
index sees articles one at a time, in canonical order (date, then id; undated last), and
mirrors that linkage greedily:

1. **Near-duplicates.** Verified matches (band-key lookups, then exact or estimated
   Jaccard >= ``duplicate_threshold``) put the article into the matched duplicate
   group; matching several groups merges them (older id survives). The group's story
   is forced (must-link), merging stories if the matched groups lay in several.
2. **Story.** Otherwise the candidate stories are those of stored or earlier articles
   that share one of the article's top terms within :func:`max_story_gap`. The linkage
   of the article to each candidate story (mean, or minimum for ``complete``, of its
   similarity to *every* member) decides: the best one at or above ``story_threshold``
   is joined, else the article starts a story.
3. **Merges.** The article may bring two stories within reach of each other: every
   other candidate story that the article links to at the threshold is tested with the
   full story-to-story linkage and merged when it reaches the threshold, best first.
   The older (smaller) id survives; the absorbed id is recorded as a ``merged`` event.

Stories are never split, so an id handed out is never silently reused or moved.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from ..config import ClusterConfig
from ..similarity import TfidfRows, story_similarity

__all__ = ["Decision", "Outcome", "Pool", "assign_batch"]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


@dataclass
class Pool:
    """Articles a batch can touch: whole stored stories it reaches, then the batch.

    Parameters
    ----------
    ids : list of str
        Article ids; rows ``0 .. stored - 1`` are stored, the rest the batch in
        canonical order.
    stored : int
        Number of stored rows.
    rows : TfidfRows
        Weighted term rows of every pool article (current idf).
    days : (n,) float64
        Publication days (NaN unknown).
    story, group : (n,) int64
        Current labels; -1 for batch rows not yet assigned.
    empty : (n,) bool
        Articles without text.
    """

    ids: list[str]
    stored: int
    rows: TfidfRows
    days: F64
    story: I64
    group: I64
    empty: npt.NDArray[np.bool_]


@dataclass
class Decision:
    """Assignment of one batch row, before ids are final."""

    story: int
    group: int
    best: int  # pool row or -1
    jaccard: float
    similarity: float
    score: float
    new_story: bool
    merged: list[int] = field(default_factory=list)


@dataclass
class Outcome:
    """Decisions per batch row plus the identity changes they caused."""

    decisions: list[Decision]
    story_merges: list[tuple[int, int, int]]  # (survivor, absorbed, batch row)
    group_merges: list[tuple[int, int, int]]
    next_story: int
    next_group: int
    members: dict[int, list[int]]  # final pool rows per live story


class _State:
    def __init__(self, pool: Pool, config: ClusterConfig, next_story: int, next_group: int):
        self.pool = pool
        self.config = config
        self.next_story = next_story
        self.next_group = next_group
        self.members: dict[int, list[int]] = {}
        self.groups: dict[int, list[int]] = {}
        for r in range(pool.stored):
            self.members.setdefault(int(pool.story[r]), []).append(r)
            self.groups.setdefault(int(pool.group[r]), []).append(r)
        self.story_merges: list[tuple[int, int, int]] = []
        self.group_merges: list[tuple[int, int, int]] = []

    def sims(self, left: I64, right: I64) -> F64:
        p = self.pool
        out = story_similarity(p.rows, p.days, left, right, self.config)
        return np.where(p.group[left] == p.group[right], 1.0, out)

    def linkage(self, values: F64) -> float:
        if values.size == 0:
            return 0.0
        return float(values.min() if self.config.linkage == "complete" else values.mean())

    def story_linkage(self, a: int, b: int) -> float:
        ma = np.asarray(self.members[a], np.int64)
        mb = np.asarray(self.members[b], np.int64)
        return self.linkage(self.sims(np.repeat(ma, mb.size), np.tile(mb, ma.size)))

    def merge_story(self, keep: int, gone: int, row: int) -> None:
        moved = self.members.pop(gone)
        self.pool.story[moved] = keep
        self.members[keep].extend(moved)
        self.story_merges.append((keep, gone, row))

    def merge_group(self, keep: int, gone: int, row: int) -> None:
        moved = self.groups.pop(gone)
        self.pool.group[moved] = keep
        self.groups[keep].extend(moved)
        self.group_merges.append((keep, gone, row))


def assign_batch(
    pool: Pool,
    dups: list[list[tuple[int, float]]],
    links: list[list[int]],
    config: ClusterConfig,
    next_story: int,
    next_group: int,
) -> Outcome:
    """Assign the batch rows of ``pool`` in order.

    Parameters
    ----------
    pool : Pool
        Stored stories within reach and the batch (labels of batch rows are -1).
    dups : list of list of (pool row, jaccard)
        Per batch row, verified near-duplicates among stored rows and *earlier* batch rows.
    links : list of list of int
        Per batch row, story candidates (pool rows) among stored and earlier batch rows.
    config : ClusterConfig
        Thresholds and linkage.
    next_story, next_group : int
        First free ids.

    Returns
    -------
    Outcome
        Decisions and merges; ``pool.story`` and ``pool.group`` hold the final labels.
    """
    st = _State(pool, config, next_story, next_group)
    decisions = [_assign_one(st, pool.stored + b, dups[b], links[b]) for b in range(len(dups))]
    return Outcome(
        decisions, st.story_merges, st.group_merges, st.next_story, st.next_group, st.members
    )


def _assign_one(st: _State, w: int, dups: list[tuple[int, float]], links: list[int]) -> Decision:
    pool, thr = st.pool, st.config.story_threshold
    if pool.empty[w]:
        return _place(st, w, _new_story(st), _new_group(st), -1, 0.0, 0.0, 0.0, True)
    candidates = sorted({int(pool.story[c]) for c in links if pool.story[c] >= 0})
    if dups:
        groups = sorted({int(pool.group[o]) for o, _ in dups})
        stories = sorted({int(pool.story[o]) for o, _ in dups})
        for g in groups[1:]:
            st.merge_group(groups[0], g, w)
        merged: list[int] = []
        for s in stories[1:]:
            st.merge_story(stories[0], s, w)
            merged.append(s)
        best, jac = max(dups, key=lambda d: (d[1], -d[0]))
        target = stories[0]
        score = _link_to(st, w, target)
        sim = float(st.sims(np.array([w]), np.array([best]))[0])
        decision = _place(st, w, target, groups[0], best, jac, sim, score, False)
        decision.merged = merged
    else:
        best_story, score = -1, -1.0
        for s in candidates:
            value = _link_to(st, w, s)
            if value > score:
                best_story, score = s, value
        if best_story >= 0 and score >= thr:
            member = np.asarray(st.members[best_story], np.int64)
            sims = st.sims(np.full(member.size, w), member)
            k = int(np.argmax(sims))
            decision = _place(
                st, w, best_story, _new_group(st), int(member[k]), 0.0, float(sims[k]), score, False
            )
        else:
            decision = _place(st, w, _new_story(st), _new_group(st), -1, 0.0, 0.0, 0.0, True)
    decision.merged.extend(_merge_reachable(st, w, candidates))
    decision.story = int(pool.story[w])
    return decision


def _link_to(st: _State, w: int, story: int) -> float:
    member = np.asarray([m for m in st.members.get(story, []) if m != w], np.int64)
    return st.linkage(st.sims(np.full(member.size, w), member))


def _merge_reachable(st: _State, w: int, candidates: list[int]) -> list[int]:
    """Merge candidate stories whose linkage to the article's story now reaches the threshold."""
    thr = st.config.story_threshold
    merged: list[int] = []
    while True:
        own = int(st.pool.story[w])
        best: tuple[float, int] | None = None
        for s in candidates:
            if s == own or s not in st.members:
                continue
            member = np.asarray(st.members[s], np.int64)
            if st.sims(np.full(member.size, w), member).max(initial=0.0) < thr:
                continue
            value = st.story_linkage(own, s)
            if value >= thr and (best is None or value > best[0]):
                best = (value, s)
        if best is None:
            return merged
        keep, gone = min(own, best[1]), max(own, best[1])
        st.merge_story(keep, gone, w)
        merged.append(gone)


def _new_story(st: _State) -> int:
    st.next_story += 1
    return st.next_story - 1


def _new_group(st: _State) -> int:
    st.next_group += 1
    return st.next_group - 1


def _place(
    st: _State,
    w: int,
    story: int,
    group: int,
    best: int,
    jac: float,
    sim: float,
    score: float,
    new: bool,
) -> Decision:
    st.pool.story[w] = story
    st.pool.group[w] = group
    st.members.setdefault(story, []).append(w)
    st.groups.setdefault(group, []).append(w)
    return Decision(story, group, best, jac, sim, score, new)
