"""Articles as columns: what the clustering pass keeps of each article, one list per field.

The batch path (:func:`clusterer.cluster`) needs the text of an article only until
its batch is featurised and of the rest only a few fields. Readers that can fill
these lists straight from their records (:mod:`.jsonl_columns`) skip building an
:class:`~clusterer.models.Article` per record; any other article source goes
through :meth:`ArticleColumns.add`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ..models import Article

__all__ = ["ArticleColumns"]


@dataclass
class ArticleColumns:
    """A batch of articles, one list per field, all of the same length.

    Attributes
    ----------
    ids, titles, texts, origins : list of str
        As :class:`~clusterer.models.Article` has them.
    sources, urls : list of str or None
        Likewise.
    dates : list of datetime or None
        Likewise (``date_text`` and ``extra`` are not kept).
    """

    ids: list[str] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    sources: list[str | None] = field(default_factory=list)
    dates: list[datetime | None] = field(default_factory=list)
    urls: list[str | None] = field(default_factory=list)
    origins: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        """Return the number of articles."""
        return len(self.ids)

    def add(self, article: Article) -> None:
        """Append one article.

        Parameters
        ----------
        article : Article
            The article.
        """
        self.ids.append(article.id)
        self.titles.append(article.title)
        self.texts.append(article.text)
        self.sources.append(article.source)
        self.dates.append(article.date)
        self.urls.append(article.url)
        self.origins.append(article.origin)

    def take(self) -> ArticleColumns:
        """Hand over the articles gathered so far and start again empty.

        Returns
        -------
        ArticleColumns
            The gathered articles (the lists themselves, not copies).
        """
        batch = ArticleColumns(
            self.ids, self.titles, self.texts, self.sources, self.dates, self.urls, self.origins
        )
        self.ids, self.titles, self.texts, self.origins = [], [], [], []
        self.sources, self.dates, self.urls = [], [], []
        return batch
