"""Duplicate-id policy across everything one :func:`read_articles` call reads."""

from __future__ import annotations

import dataclasses

from ..errors import DuplicateIdError
from ..models import Article, Reject
from .options import OnDuplicateId

__all__ = ["IdRegistry"]


class IdRegistry:
    """Remember every id handed out and apply the duplicate policy.

    Parameters
    ----------
    policy : {"error", "first", "rename"}
        ``"error"`` raises :class:`DuplicateIdError`; ``"first"`` keeps the first
        article with an id and rejects later ones; ``"rename"`` gives later ones the
        suffix ``~2``, ``~3``... (skipping suffixes already taken).
    """

    def __init__(self, policy: OnDuplicateId) -> None:
        self._policy = policy
        self._first: dict[str, str] = {}
        self._next: dict[str, int] = {}

    def admit(self, article: Article) -> Article | Reject:
        """Register an article's id.

        Parameters
        ----------
        article : Article
            The article just read.

        Returns
        -------
        Article or Reject
            The article (renamed if needed), or a reject under policy ``"first"``.

        Raises
        ------
        DuplicateIdError
            On a duplicate under policy ``"error"``.
        """
        admitted = self.admit_id(article.id, article.origin)
        if isinstance(admitted, Reject):
            return admitted
        return article if admitted == article.id else dataclasses.replace(article, id=admitted)

    def admit_id(self, ident: str, origin: str) -> str | Reject:
        """Register the id of the record read at ``origin``.

        Parameters
        ----------
        ident : str
            The record's id.
        origin : str
            Where it was read (``path:line``).

        Returns
        -------
        str or Reject
            The id to use (``ident``, or a renamed one), or a reject under policy
            ``"first"``.

        Raises
        ------
        DuplicateIdError
            On a duplicate under policy ``"error"``.
        """
        first = self._first.get(ident)
        if first is None:
            self._first[ident] = origin
            return ident
        message = f"duplicate id {ident!r} (first seen at {first})"
        if self._policy == "error":
            raise DuplicateIdError(origin, f"{message}; pass --on-duplicate-id first|rename")
        if self._policy == "first":
            return Reject(origin, f"{message}; kept the first")
        number = self._next.get(ident, 2)
        while self._taken(f"{ident}~{number}"):
            number += 1
        self._next[ident] = number + 1
        new_id = f"{ident}~{number}"
        self._first[new_id] = origin
        return new_id

    def _taken(self, name: str) -> bool:
        """Whether ``name`` was handed out already (a renamed copy must avoid it)."""
        return name in self._first
