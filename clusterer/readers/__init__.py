"""Input readers: every supported input becomes a stream of :class:`~clusterer.models.Article`.

Use :func:`read_articles`; the modules behind it each handle one input kind:

========================  ===================================================
``jsonl``                 JSON Lines (``.jsonl``, ``.ndjson``, ``.json``, stdin)
``delimited``             CSV / TSV with a header row
``plain``                 ``.txt`` / ``.md``: one article, or an aggregator page
``aggregator``            splitting a scraped aggregator page into articles
``html``                  HTML through trafilatura (extra ``[html]``)
``directory``             expanding directories, skipping README and hidden files
``dates``                 date parsing (ISO, RFC 2822, Reuters, dd-mm-yyyy, epoch)
``records``, ``ids``      record to article; duplicate-id policy
========================  ===================================================
"""

from __future__ import annotations

from .aggregator import split_page
from .api import read_articles
from .dates import parse_date
from .directory import FORMATS
from .options import FieldMap, ReadReport

__all__ = ["FORMATS", "FieldMap", "ReadReport", "parse_date", "read_articles", "split_page"]
