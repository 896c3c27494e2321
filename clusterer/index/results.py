"""Turning a plan into per-article answers; batch id checks."""

from __future__ import annotations

from ..errors import DuplicateIdError
from ..models import Article
from .batch import Plan
from .types import IndexAssignment

__all__ = ["check_unique", "results"]


def check_unique(articles: list[Article]) -> None:
    """Refuse a batch in which an id repeats (DuplicateIdError)."""
    seen: dict[str, str] = {}
    for a in articles:
        if a.id in seen:
            raise DuplicateIdError(
                a.origin or a.id, f"duplicate id {a.id!r} in the batch (first seen at {seen[a.id]})"
            )
        seen[a.id] = a.origin or "?"


def results(plan: Plan) -> list[IndexAssignment]:
    """Return one assignment per batch article, in input order."""
    pool, s = plan.pool, plan.pool.stored
    out: list[IndexAssignment | None] = [None] * len(plan.batch.articles)
    # labels as Python values up front (indexing NumPy arrays per article is slow)
    story, group, empty = (x[s:].tolist() for x in (pool.story, pool.group, pool.empty))
    for k, (pos, d) in enumerate(zip(plan.batch.order, plan.outcome.decisions, strict=True)):
        out[pos] = IndexAssignment(
            id=pool.ids[s + k],
            story_id=story[k],
            duplicate_group_id=group[k],
            best_match=None if d.best < 0 else pool.ids[d.best],
            jaccard=round(d.jaccard, 6),
            similarity=round(d.similarity, 6),
            story_score=round(d.score, 6),
            new_story=d.new_story,
            merged=tuple(d.merged),
            empty=empty[k],
        )
    return [a for a in out if a is not None]
