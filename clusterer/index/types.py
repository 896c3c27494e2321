"""Result types of the story index: assignments, events, stories and statistics."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["IndexAssignment", "IndexEvent", "IndexStats", "StoryRecord"]


@dataclass(frozen=True, slots=True)
class IndexAssignment:
    """Where one article belongs in the index, with the scores that put it there.

    Parameters
    ----------
    id : str
        Article id.
    story_id : int
        Story of the article. Story ids are stable: an id handed out once keeps
        naming the same story; when stories merge, the older (smaller) id survives and
        :meth:`StoryIndex.resolve` maps the absorbed one to it. An article's id changes
        otherwise only when the index settles (young, or :meth:`StoryIndex.settle`), and
        then with a ``moved`` event (:meth:`StoryIndex.events`).
    duplicate_group_id : int
        Near-duplicate group (nested in the story).
    best_match : str or None
        The most similar stored article: the best verified near-duplicate when there is
        one, else the most similar member of the joined story; None for a new story.
    jaccard : float
        Verified Jaccard similarity to ``best_match`` when it is a near-duplicate, else 0.
    similarity : float
        Story similarity (title-aware TF-IDF cosine times date decay) to ``best_match``.
    story_score : float
        Linkage similarity (average or complete, as configured) to the other members of
        the story before the article joined; 1 when forced by a near-duplicate, 0 for a
        new story.
    new_story : bool
        Whether the article started a story.
    merged : tuple of int
        Story ids absorbed into ``story_id`` because of this article.
    empty : bool
        The article had no usable text (always a singleton).
    """

    id: str
    story_id: int
    duplicate_group_id: int
    best_match: str | None
    jaccard: float
    similarity: float
    story_score: float
    new_story: bool
    merged: tuple[int, ...] = ()
    empty: bool = False


@dataclass(frozen=True, slots=True)
class IndexEvent:
    """A change of story identity, readable with :meth:`StoryIndex.events`.

    Parameters
    ----------
    seq : int
        Event number, increasing; pass the last one seen as ``since`` to poll.
    kind : str
        ``"merged"``: story ``absorbed`` joined story ``survivor`` (the absorbed id now
        resolves to the survivor). The next two occur only when the index settles
        (young, or :meth:`StoryIndex.settle`; :mod:`clusterer.index.settle`):
        ``"split"``: some members of story ``survivor`` now form a new story
        ``absorbed``; ``"moved"``: ``article`` left
        story ``absorbed`` for story ``survivor`` (every article whose id changes other
        than by a merge of its whole story gets one). ``"group_merged"``,
        ``"group_split"`` and ``"group_moved"``: the same for near-duplicate groups.
    survivor : int
        The id that lives on (always the older, smaller one).
    absorbed : int
        The id that was folded into it.
    article : str
        The article whose arrival caused the event (settling: an article of the
        absorbed story, the first of the split-off one, or the one that moved).
    at : datetime
        Wall-clock time (UTC) of the batch that recorded it.
    batch : int
        Batch number.
    """

    seq: int
    kind: str
    survivor: int
    absorbed: int
    article: str
    at: datetime
    batch: int


@dataclass(frozen=True, slots=True)
class StoryRecord:
    """A stored story.

    Parameters
    ----------
    id : int
        Story id.
    members : tuple of str
        Article ids, sorted.
    title : str
        Headline of the earliest member.
    sources : tuple of str
        Distinct outlets, sorted.
    first, last : datetime or None
        Date span of the dated members.
    duplicate_groups : tuple of int
        Near-duplicate groups inside the story.
    """

    id: int
    members: tuple[str, ...]
    title: str
    sources: tuple[str, ...]
    first: datetime | None
    last: datetime | None
    duplicate_groups: tuple[int, ...]

    @property
    def size(self) -> int:
        """Number of member articles."""
        return len(self.members)


@dataclass(frozen=True, slots=True)
class IndexStats:
    """Size and health figures of an index (:meth:`StoryIndex.stats`).

    Parameters
    ----------
    path : str
        Index file.
    format_version : int
        Storage format.
    articles, stories, duplicate_groups, batches, events : int
        Counts of stored items.
    oldest, newest : datetime or None
        Date span of the dated articles.
    window_days : float or None
        Sliding window (None: unbounded).
    settle_until : int
        Articles stored up to which the index settles (0: never; see
        :mod:`clusterer.index.settle`).
    settles : int
        Settlings so far (automatic and :meth:`StoryIndex.settle`).
    file_bytes : int
        Size of the database file plus its write-ahead log.
    bytes_per_article : float
        ``file_bytes / articles`` (0 for an empty index).
    """

    path: str
    format_version: int
    articles: int
    stories: int
    duplicate_groups: int
    batches: int
    events: int
    oldest: datetime | None
    newest: datetime | None
    window_days: float | None
    settle_until: int
    settles: int
    file_bytes: int
    bytes_per_article: float
