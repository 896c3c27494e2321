"""The human-readable summary: a terminal table of the stories, largest first.

The public name is re-exported by :mod:`clusterer.output`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.table import Table

from .models import Clustering, Story

__all__ = ["summary_table"]


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _span(story: Story) -> str:
    if story.first is None or story.last is None:
        return "—"
    first, last = story.first.date().isoformat(), story.last.date().isoformat()
    return first if first == last else f"{first} → {last}"


def summary_table(
    clustering: Clustering,
    limit: int | None = None,
    *,
    sort: Callable[[Story], Any] | None = None,
) -> Table:
    """Build a terminal table of the stories, largest first.

    Parameters
    ----------
    clustering : Clustering
        The result.
    limit : int, optional
        Show at most this many stories (a caption counts the rest).
    sort : callable, optional
        Sort key; by default size descending, then story id.

    Returns
    -------
    rich.table.Table
        Columns: story id, size, representative title, outlets, date span, and
        duplicate groups (count, with the sizes of those with copies).
    """
    groups = {g.id: len(g.members) for g in clustering.duplicate_groups}
    stories = sorted(clustering.stories, key=sort or (lambda s: (-len(s.members), s.id)))
    shown = stories if limit is None else stories[:limit]
    table = Table(
        title=f"{_count(len(stories), 'story', 'stories')} from "
        f"{_count(clustering.n_articles, 'article', 'articles')}"
    )
    table.add_column("story", justify="right")
    table.add_column("size", justify="right")
    table.add_column("title", overflow="fold")
    table.add_column("outlets", overflow="fold")
    table.add_column("dates")
    table.add_column("dup. groups")
    for s in shown:
        sizes = sorted((groups[g] for g in s.duplicate_groups if groups[g] > 1), reverse=True)
        dups = str(len(s.duplicate_groups))
        if sizes:
            dups += " (copies: " + "+".join(map(str, sizes)) + ")"
        table.add_row(str(s.id), str(len(s.members)), s.title, ", ".join(s.sources), _span(s), dups)
    if len(shown) < len(stories):
        table.caption = (
            f"{len(stories) - len(shown)} smaller stories not shown (see --limit, or -o)"
        )
    return table
