"""Building the :class:`~clusterer.models.Clustering` result from the stage outputs."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from .config import ClusterConfig
from .models import Assignment, Clustering, DuplicateGroup, LinkTable, Story
from .signatures import Features

if TYPE_CHECKING:
    from .pipeline import _Meta

__all__ = ["assemble"]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


def assemble(
    meta: _Meta,
    features: Features,
    dup_labels: I64,
    dup_score: F64,
    story_labels: I64,
    story_scores: F64,
    table: LinkTable,
    config: ClusterConfig,
) -> Clustering:
    """Build assignments, duplicate groups and stories (titles, spans, cohesion)."""
    n = len(meta.ids)
    empty = features.n_tokens == 0
    assignments = tuple(
        Assignment(
            id=meta.ids[i],
            title=meta.titles[i],
            source=meta.sources[i],
            date=meta.dates[i],
            url=meta.urls[i],
            story_id=int(story_labels[i]),
            duplicate_group_id=int(dup_labels[i]),
            duplicate_score=round(float(dup_score[i]), 6),
            story_score=round(float(story_scores[i]), 6),
            empty=bool(empty[i]),
            origin=meta.origins[i],
        )
        for i in range(n)
    )
    n_dup = int(dup_labels.max()) + 1 if n else 0
    n_story = int(story_labels.max()) + 1 if n else 0
    dup_members: list[list[int]] = [[] for _ in range(n_dup)]
    story_members: list[list[int]] = [[] for _ in range(n_story)]
    for i in range(n):
        dup_members[dup_labels[i]].append(i)
        story_members[story_labels[i]].append(i)
    rejected = table.kind == 1
    rejected &= ~table.accepted
    rejected_count = np.bincount(
        np.concatenate((story_labels[table.left[rejected]], story_labels[table.right[rejected]])),
        minlength=n_story,
    )
    groups = tuple(
        DuplicateGroup(
            g,
            int(story_labels[rows[0]]),
            tuple(sorted(meta.ids[i] for i in rows)),
        )
        for g, rows in enumerate(dup_members)
    )
    stories = []
    for s, rows in enumerate(story_members):
        best = max(rows, key=lambda i: (story_scores[i], -i))
        dated = [d for i in rows if (d := meta.dates[i]) is not None]
        stories.append(
            Story(
                id=s,
                members=tuple(sorted(meta.ids[i] for i in rows)),
                title=meta.titles[best],
                representative=meta.ids[best],
                sources=tuple(sorted({src for i in rows if (src := meta.sources[i])})),
                first=min(dated, key=_sort_key) if dated else None,
                last=max(dated, key=_sort_key) if dated else None,
                duplicate_groups=tuple(sorted({int(dup_labels[i]) for i in rows})),
                cohesion=round(float(np.mean(story_scores[rows])) if len(rows) > 1 else 0.0, 6),
                rejected_links=int(rejected_count[s]),
            )
        )
    return Clustering(assignments, tuple(stories), groups, table, (), config.to_dict(), {})


def _sort_key(d: datetime) -> float:
    return (d if d.tzinfo else d.replace(tzinfo=timezone.utc)).timestamp()
