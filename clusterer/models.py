"""Plain data passed between stages: articles in, assignments and clusters out."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "Article",
    "Assignment",
    "Clustering",
    "DuplicateGroup",
    "Link",
    "LinkTable",
    "Reject",
    "Story",
]


@dataclass(frozen=True, slots=True)
class Article:
    """One news article, as every reader yields it.

    Parameters
    ----------
    id : str
        Unique identifier. Readers derive a stable one from path and position when the
        input has none.
    title : str
        Headline; may be empty.
    text : str
        Body text; may be empty (the article is then flagged ``empty``: it forms no
        near-duplicate group and joins a story on its headline alone).
    source : str or None
        Outlet name or domain.
    date : datetime or None
        Publication time, timezone-aware (UTC) when known.
    url : str or None
        Canonical address.
    origin : str
        Where it was read, as ``path:line`` (``<stdin>:3``, ``page.txt:42``); used in messages.
    date_text : str or None
        The date as the source printed it when it could not be resolved to a time
        (for example ``"3 hours ago"`` on a page whose own date is unknown).
    extra : Mapping[str, Any]
        Other fields of the input record, passed through to the output untouched.
    """

    id: str
    title: str = ""
    text: str = ""
    source: str | None = None
    date: datetime | None = None
    url: str | None = None
    origin: str = ""
    date_text: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Assignment:
    """Where one article ended up, with the scores that put it there.

    Parameters
    ----------
    id : str
        Article id.
    title, source, url : str or None
        Copied from the article for the output.
    date : datetime or None
        Publication time.
    story_id : int
        Story cluster of the article (stories are numbered 0.. in order of their first
        member by id, so the numbering depends on the partition only).
    duplicate_group_id : int
        Near-duplicate group, nested inside the story.
    duplicate_score : float
        Exact (or estimated, see ``ClusterConfig.verify``) Jaccard similarity to the
        most similar other member of the duplicate group; 0 for a singleton group.
    story_score : float
        Mean similarity to the other members of the story; 0 for a singleton story.
    empty : bool
        True when the article had no usable body text. It is then alone in its
        near-duplicate group; it joins a story on its headline terms, and is alone in
        its story too when the headline gives none.
    origin : str
        ``path:line`` of the input record.
    """

    id: str
    title: str
    source: str | None
    date: datetime | None
    url: str | None
    story_id: int
    duplicate_group_id: int
    duplicate_score: float
    story_score: float
    empty: bool
    origin: str


@dataclass(frozen=True, slots=True)
class Link:
    """A scored pair of articles considered by the story stage.

    Parameters
    ----------
    a, b : str
        Article ids.
    similarity : float
        Combined similarity used by the linkage (TF-IDF cosine after title weighting and
        time decay, or 1 for duplicate must-links).
    accepted : bool
        Whether the link ended inside one story.
    reason : str
        ``"duplicate"``, ``"linked"``, the guard that rejected it (``"linkage"``), or
        ``"attached"``: ``a`` was a lone article joined to ``b``'s story by the
        attachment pass, ``b`` being its strongest link there and ``similarity`` its mean
        similarity to the story's members.
    """

    a: str
    b: str
    similarity: float
    accepted: bool
    reason: str


@dataclass(frozen=True, slots=True)
class DuplicateGroup:
    """A set of near-duplicate articles (wire copies, re-sends).

    Parameters
    ----------
    id : int
        Group number.
    story_id : int
        The story that contains the whole group.
    members : tuple of str
        Article ids, sorted.
    """

    id: int
    story_id: int
    members: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Story:
    """A story cluster: reports of one event, with its duplicate groups inside.

    Parameters
    ----------
    id : int
        Story number.
    members : tuple of str
        Article ids, sorted.
    title : str
        Representative headline (of the member most similar to the rest).
    representative : str
        Id of that member.
    sources : tuple of str
        Distinct outlets, sorted.
    first, last : datetime or None
        Date span of the members with a known date.
    duplicate_groups : tuple of int
        Ids of the duplicate groups inside the story.
    cohesion : float
        Mean pairwise similarity over the scored links inside the story.
    rejected_links : int
        Candidate links touching the story that the linkage guard refused.
    attached : int
        Members that joined as lone articles in the attachment pass.
    """

    id: int
    members: tuple[str, ...]
    title: str
    representative: str
    sources: tuple[str, ...]
    first: datetime | None
    last: datetime | None
    duplicate_groups: tuple[int, ...]
    cohesion: float
    rejected_links: int
    attached: int = 0


@dataclass(frozen=True, slots=True)
class Reject:
    """An input record that was skipped (only with ``on_error="skip"``).

    Parameters
    ----------
    origin : str
        ``path:line``.
    reason : str
        Why it was skipped.
    """

    origin: str
    reason: str


@dataclass(frozen=True, slots=True)
class LinkTable:
    """Scored article pairs as parallel arrays (row numbers index ``assignments``).

    Parameters
    ----------
    left, right : int64 arrays
        Article rows.
    similarity : float64 array
        Jaccard for duplicate edges (kind 0), story similarity for story edges (kind 1).
    accepted : bool array
        Whether both ends share a story.
    kind : int8 array
        0 = verified near-duplicate pair, 1 = story candidate at or above the threshold,
        2 = attachment: a lone article (``left``) joined to the story of ``right`` (its
        strongest link there), with its mean similarity to the story's members.
    """

    left: npt.NDArray[np.int64]
    right: npt.NDArray[np.int64]
    similarity: npt.NDArray[np.float64]
    accepted: npt.NDArray[np.bool_]
    kind: npt.NDArray[np.int8]


_REASONS = {0: "duplicate", 2: "attached"}


@dataclass(frozen=True, slots=True)
class Clustering:
    """The result of clustering a corpus.

    Parameters
    ----------
    assignments : tuple of Assignment
        One per article, in input order.
    stories : tuple of Story
        Story clusters, by id.
    duplicate_groups : tuple of DuplicateGroup
        Near-duplicate groups, by id.
    link_table : LinkTable
        Links the linkage considered (duplicate edges and story edges at or above the
        threshold, accepted or rejected, and one link per article joined by the
        attachment pass), as arrays; :meth:`links` makes objects.
    rejects : tuple of Reject
        Input records that were skipped, with reasons.
    config : Mapping[str, Any]
        ``ClusterConfig.to_dict()`` of the run.
    timings : Mapping[str, float]
        Seconds per stage (wall clock).
    cpu_timings : Mapping[str, float]
        Process CPU seconds (all threads) of the stages after featurisation, which run
        one after another (band_verify, tfidf, duplicate_groups, story_candidates, link,
        attach, assemble; the Dask engine, whose stages run on its workers, records only
        assemble).
    """

    assignments: tuple[Assignment, ...]
    stories: tuple[Story, ...]
    duplicate_groups: tuple[DuplicateGroup, ...]
    link_table: LinkTable | None = None
    rejects: tuple[Reject, ...] = ()
    config: Mapping[str, Any] = field(default_factory=dict)
    timings: Mapping[str, float] = field(default_factory=dict)
    cpu_timings: Mapping[str, float] = field(default_factory=dict)

    @property
    def n_articles(self) -> int:
        """Number of clustered articles."""
        return len(self.assignments)

    def links(self) -> Iterator[Link]:
        """Yield the links of :attr:`link_table` as :class:`Link` objects."""
        table = self.link_table
        if table is None:
            return
        for a, b, sim, acc, kind in zip(
            table.left.tolist(),
            table.right.tolist(),
            table.similarity.tolist(),
            table.accepted.tolist(),
            table.kind.tolist(),
            strict=True,
        ):
            reason = _REASONS[kind] if kind != 1 else ("linked" if acc else "linkage")
            yield Link(self.assignments[a].id, self.assignments[b].id, sim, acc, reason)
