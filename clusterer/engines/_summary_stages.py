"""The story summary (``--stories``) built on the workers, one range of story ids at a time.

Each partition sends the rows of each story to the bucket of its story-id range
(:func:`story_split`: id, title, source, date and the row's labels; never texts). A
bucket then has every member of its stories, builds their summary rows with the
function the local engine uses (:func:`clusterer._assemble.summarise`) and writes them
as one JSON Lines part (:func:`story_write`); the client joins the parts in story order
(:func:`join_stories`). The client holds only the label arrays and, per story, the
count of refused links.

The public names are re-exported by :mod:`clusterer.engines.stages`. Nothing here
imports Dask.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import orjson

from .._assemble import summarise
from .._atomic import Format, format_for
from .._rows import STORY_FIELDS, story_rows, write_rows
from ..models import Clustering, DuplicateGroup
from ..pipeline import _Meta
from ._common_stages import F64, I64, Part
from .partitions import concat_files

__all__ = ["StoryRows", "join_stories", "story_bounds", "story_split", "story_write"]


@dataclass
class StoryRows:
    """Rows of some stories from one partition: global row, labels and the shown fields."""

    rows: I64
    story: I64
    group: I64
    score: F64
    ids: list[str]
    titles: list[str]
    sources: list[str | None]
    dates: list[datetime | None]

    def __sizeof__(self) -> int:
        strings = sum(len(s) + 49 for column in (self.ids, self.titles) for s in column)
        arrays = self.rows.nbytes + self.story.nbytes + self.group.nbytes + self.score.nbytes
        return strings + 56 * (len(self.sources) + len(self.dates)) + arrays + 64


def story_bounds(story_labels: I64, buckets: int) -> I64:
    """Cut story ids ``0..k`` into at most ``buckets`` ranges of about equal article counts."""
    k = int(story_labels.max()) + 1 if story_labels.size else 0
    cum = np.cumsum(np.bincount(story_labels, minlength=k))
    targets = np.arange(1, buckets) * story_labels.size / max(buckets, 1)
    cuts = np.searchsorted(cum, targets) + 1
    return np.unique(np.concatenate(([0], np.clip(cuts, 0, k), [k]))).astype(np.int64)


def story_split(
    part: Part, offset: int, labels: tuple[I64, F64, I64, F64], bounds: I64
) -> list[StoryRows]:
    """Route a partition's rows to the bucket of their story's id range."""
    dup_labels, _, story_labels, story_scores = labels
    bucket = np.searchsorted(bounds, story_labels, side="right") - 1
    m = part.meta
    out = []
    for b in range(bounds.size - 1):
        local = np.flatnonzero(bucket == b)
        pick = local.tolist()
        out.append(
            StoryRows(
                local + offset,
                story_labels[local],
                dup_labels[local],
                story_scores[local],
                [m.ids[i] for i in pick],
                [m.titles[i] for i in pick],
                [m.sources[i] for i in pick],
                [m.dates[i] for i in pick],
            )
        )
    return out


def story_write(first: int, counts: tuple[I64, I64], path: str, *pieces: StoryRows) -> int:
    """Write the summary rows of stories ``first, first + 1, ...`` (one bucket) as JSON Lines.

    ``counts`` are, per story of the bucket, its refused links and attached articles.

    Returns
    -------
    int
        Stories written.
    """
    rows = np.concatenate([p.rows for p in pieces])
    order = np.argsort(rows, kind="stable")  # input order, as the local engine sees it
    take = order.tolist()

    def column(name: str) -> list[Any]:
        values = [v for p in pieces for v in getattr(p, name)]
        return [values[i] for i in take]

    meta = _Meta(column("ids"), column("titles"), column("sources"), column("dates"))
    story = np.concatenate([p.story for p in pieces])[order] - first
    groups, local_group = np.unique(
        np.concatenate([p.group for p in pieces])[order], return_inverse=True
    )
    score = np.concatenate([p.score for p in pieces])[order]
    local_groups, stories = summarise(meta, local_group, story, score, *counts)
    gid = groups.tolist()
    result = Clustering(
        (),
        tuple(
            dataclasses.replace(
                s, id=s.id + first, duplicate_groups=tuple(gid[g] for g in s.duplicate_groups)
            )
            for s in stories
        ),
        tuple(DuplicateGroup(gid[g.id], g.story_id + first, g.members) for g in local_groups),
    )
    return write_rows(story_rows(result), path, "jsonl", STORY_FIELDS)


def join_stories(
    parts: Sequence[str], path: str | os.PathLike[str], fmt: Format | None = None
) -> None:
    """Join the JSON Lines parts into the story summary file (JSON Lines, CSV or JSON)."""
    fmt = fmt or format_for(path)
    if fmt == "jsonl" and str(path) != "-":
        concat_files(parts, path)
    else:
        write_rows(_read_rows(parts), path, fmt, STORY_FIELDS)


def _read_rows(parts: Sequence[str]) -> Iterator[dict[str, Any]]:
    for f in parts:
        with open(f, "rb") as src:
            for line in src:
                yield orjson.loads(line)
