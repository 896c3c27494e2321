"""``clusterer index``: a persistent story index (add, query, stories, stats, settle, expire).

Every command opens the index file through the public :class:`clusterer.index.StoryIndex`
API; library errors (:class:`~clusterer.ClustererError`) are turned into one line on
standard error by the application that registers :data:`index_app`.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Any

import typer

from clusterer import Article, ClusterConfig, ConfigError, read_articles
from clusterer.errors import param_message
from clusterer.index import StoryIndex

from ._options import Workers

__all__ = ["index_app"]

index_app = typer.Typer(
    help="Keep a story index on disk: add articles as they arrive, ask which story a new "
    "article belongs to, list stories, re-decide them (settle), expire old articles.",
    no_args_is_help=True,
)

IndexPath = Annotated[Path, typer.Argument(help="Index file (SQLite).", show_default=False)]
Inputs = Annotated[
    list[str], typer.Argument(help="Input files or directories ('-' for standard input).")
]
AsJson = Annotated[bool, typer.Option("--json", help="Write JSON lines instead of text.")]


def _date(value: str, option: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(
            param_message("index", option, "an ISO date such as 2024-05-01", value)
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _batches(paths: list[str], size: int) -> Iterator[list[Article]]:
    batch: list[Article] = []
    for article in read_articles(paths):
        batch.append(article)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _emit(record: Any) -> None:
    typer.echo(json.dumps({k: _plain(v) for k, v in asdict(record).items()}, ensure_ascii=False))


@index_app.command("add")
def add_command(
    index: IndexPath,
    paths: Inputs,
    batch_size: Annotated[int, typer.Option(min=1, help="Articles per transaction.")] = 1000,
    window_days: Annotated[
        float | None, typer.Option(help="Keep only articles this many days older than the newest.")
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="ClusterConfig JSON for a new index.")
    ] = None,
    as_json: AsJson = False,
    workers: Workers = None,
    settle_until: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="While at most this many articles are stored, re-decide all stories with "
            "the current term statistics each time their number grows by a quarter "
            "(0: never; stored in the index; default 10000 for a new index).",
        ),
    ] = None,
) -> None:
    """Add articles to INDEX (created if missing), one transaction per batch."""
    cfg = None
    if config is not None:
        try:
            cfg = ClusterConfig.from_dict(json.loads(config.read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            if isinstance(exc, ConfigError):
                raise
            raise ConfigError(f"cannot read config file {config}: {exc}") from None
    added = new = merged = 0
    with StoryIndex.open(
        index, cfg, window_days=window_days, workers=workers, settle_until=settle_until
    ) as ix:
        before = ix.stats().events
        for batch in _batches(paths, batch_size):
            for a in ix.add(batch):
                added += 1
                new += a.new_story
                merged += len(a.merged)
                if as_json:
                    _emit(a)
        stats = ix.stats()
        changes = ix.events(before) if stats.events > before else []
        moved = len({e.article for e in changes if e.kind == "moved"})
    typer.echo(
        f"added {added} articles: {new} new stories, {merged} story merges"
        + (f", {moved} stored articles moved to another story" if moved else "")
        + f"; index holds {stats.articles} articles in {stats.stories} stories",
        err=as_json,
    )


@index_app.command("query")
def query_command(
    index: IndexPath, paths: Inputs, as_json: AsJson = False, workers: Workers = None
) -> None:
    """Show which story each input article would join, without storing it."""
    with StoryIndex.open(index, create=False, workers=workers) as ix:
        for article in read_articles(paths):
            a = ix.query(article)
            if as_json:
                _emit(a)
            else:
                where = "new story" if a.new_story else f"story {a.story_id}"
                match = (
                    f" (best match {a.best_match}, similarity {a.similarity:.3f}"
                    + (f", jaccard {a.jaccard:.3f})" if a.jaccard else ")")
                    if a.best_match
                    else ""
                )
                typer.echo(f"{a.id}\t{where}\tgroup {a.duplicate_group_id}{match}")


@index_app.command("stories")
def stories_command(
    index: IndexPath,
    since: Annotated[
        str | None,
        typer.Option(help="Only stories with an article dated at or after this ISO date."),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """List the stories in INDEX."""
    with StoryIndex.open(index, create=False) as ix:
        records = ix.stories(None if since is None else _date(since, "since"))
    for s in records:
        if as_json:
            _emit(s)
        else:
            span = f"{s.first:%Y-%m-%d}..{s.last:%Y-%m-%d}" if s.first and s.last else "undated"
            typer.echo(f"{s.id}\t{s.size} articles\t{span}\t{s.title}")


@index_app.command("stats")
def stats_command(index: IndexPath, as_json: AsJson = False) -> None:
    """Show counts, date span and file size of INDEX."""
    with StoryIndex.open(index, create=False) as ix:
        st = ix.stats()
    if as_json:
        _emit(st)
        return
    for key, value in asdict(st).items():
        typer.echo(f"{key}: {_plain(value)}")


@index_app.command("settle")
def settle_command(index: IndexPath, as_json: AsJson = False, workers: Workers = None) -> None:
    """Re-decide every story of INDEX with the current term statistics (as `cluster`)."""
    with StoryIndex.open(index, create=False, workers=workers) as ix:
        before = ix.stats().stories
        changes = ix.settle()
        after = ix.stats()
    if as_json:
        for e in changes:
            _emit(e)
    kinds = Counter(e.kind for e in changes)
    moved = len({e.article for e in changes if e.kind == "moved"})
    typer.echo(
        f"settled {after.articles} articles: {before} -> {after.stories} stories; "
        f"{kinds['merged']} story merges, {kinds['split']} splits, "
        f"{moved} articles moved to another story",
        err=as_json,
    )


@index_app.command("expire")
def expire_command(
    index: IndexPath,
    before: Annotated[str, typer.Option(help="Delete articles dated before this ISO date.")],
) -> None:
    """Delete articles dated before a date from INDEX."""
    with StoryIndex.open(index, create=False) as ix:
        n = ix.expire(_date(before, "before"))
        left = ix.stats().articles
    typer.echo(f"expired {n} articles; {left} remain")
