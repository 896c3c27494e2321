"""``clusterer index``: the commands of a persistent story index.

``add``, ``query``, ``stories``, ``story``, ``events``, ``stats``, ``settle``, ``remove``
and ``expire``.

Every command opens the index file through the public :class:`clusterer.index.StoryIndex`
API; library errors (:class:`~clusterer.ClustererError`) are turned into one line on
standard error by the application that registers :data:`index_app`.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich.console import Console

from clusterer import Article, ClusterConfig, ClustererError, ConfigError, ReadReport
from clusterer.errors import param_message
from clusterer.index import IndexEvent, StoryIndex

from . import _options as o
from ._feedback import Reporter, report_rejects
from ._options import ReadOptions, Workers

__all__ = ["index_app"]

index_app = typer.Typer(
    help="Keep a story index on disk: add articles as they arrive, ask which story a new "
    "article belongs to, list stories and the merges that changed them, re-decide them "
    "(settle), remove or expire old articles.",
    no_args_is_help=True,
)

IndexPath = Annotated[Path, typer.Argument(help="Index file (SQLite).", show_default=False)]
Inputs = Annotated[
    list[str], typer.Argument(help="Input files or directories ('-' for standard input).")
]
AsJson = Annotated[bool, typer.Option("--json", help="Write JSON lines instead of text.")]
Rejects = Annotated[
    Path | None,
    typer.Option(
        help="Write skipped records here as JSONL [default: printed on standard error].",
        show_default=False,
    ),
]


def _date(value: str, option: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(
            param_message("index", option, "an ISO date such as 2024-05-01", value)
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _batches(articles: Iterable[Article], size: int) -> Iterator[list[Article]]:
    batch: list[Article] = []
    for article in articles:
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
@o.reads_corpus
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
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress display (the count line stays).")
    ] = False,
    existing: Annotated[
        Literal["error", "skip"],
        typer.Option(
            help="An article whose id is already in the index: stop with an error, or skip "
            "it (counted in the closing line; re-adding a feed adds only what is new)."
        ),
    ] = "error",
    rejects: Rejects = None,
    *,
    reading: ReadOptions,
) -> None:
    """Add articles to INDEX (created if missing), one transaction per batch.

    Reads its inputs as [bold]clusterer cluster[/bold] does (same formats and reading
    options). A count line (added, new stories, merges, rejected) ends the run, on
    standard error with [bold]--json[/bold]; with [bold]--on-error skip[/bold] bad
    records are listed as rejects. A bad record otherwise stops the run: the batches
    added before it stay committed, and their number is said.
    """
    cfg = None
    if config is not None:
        try:
            cfg = ClusterConfig.from_dict(json.loads(config.read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            if isinstance(exc, ConfigError):
                raise
            raise ConfigError(f"cannot read config file {config}: {exc}") from None
    added = new = merged = skipped = 0
    report = ReadReport()
    err = Console(stderr=True, highlight=False)
    reporter = Reporter(err, enabled=not quiet and err.is_terminal)
    with StoryIndex.open(
        index, cfg, window_days=window_days, workers=workers, settle_until=settle_until
    ) as ix:
        before = ix.stats().events
        with reporter.progress:
            reporter.stage("adding", 0, None)
            try:
                for batch in _batches(reading.read(paths, report), batch_size):
                    placed = ix.add(batch, existing=existing)
                    skipped += len(batch) - len(placed)
                    for a in placed:
                        added += 1
                        new += a.new_story
                        merged += len(a.merged)
                        if as_json:
                            _emit(a)
                    reporter.stage("adding", added, None)
            except ClustererError:
                if added:  # their transactions are committed: say so before the error
                    typer.echo(f"stopped after adding {added} articles", err=True)
                raise
        stats = ix.stats()
        changes = ix.events(before) if stats.events > before else []
        moved = len({e.article for e in changes if e.kind == "moved"})
    rejects_path = report_rejects(tuple(report.rejects), rejects, None, reading.on_error)
    typer.echo(
        f"added {added} articles: {new} new stories, {merged} story merges"
        + (f", {moved} stored articles moved to another story" if moved else "")
        + (f"; skipped {skipped} already in the index" if skipped else "")
        + (f"; rejected {len(report.rejects)}" if report.rejects else "")
        + (f" (rejects in {rejects_path})" if rejects_path and report.rejects else "")
        + f"; index holds {stats.articles} articles in {stats.stories} stories",
        err=as_json,
    )


@index_app.command("query")
@o.reads_corpus
def query_command(
    index: IndexPath,
    paths: Inputs,
    as_json: AsJson = False,
    workers: Workers = None,
    rejects: Rejects = None,
    *,
    reading: ReadOptions,
) -> None:
    """Show which story each input article would join, without storing it.

    Reads its inputs as [bold]clusterer cluster[/bold] does (same formats and reading
    options); with [bold]--on-error skip[/bold] bad records are listed as rejects.
    """
    report = ReadReport()
    with StoryIndex.open(index, create=False, workers=workers) as ix:
        for article in reading.read(paths, report):
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
    report_rejects(tuple(report.rejects), rejects, None, reading.on_error)


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


@index_app.command("story")
def story_command(
    index: IndexPath,
    story_id: Annotated[
        int, typer.Argument(help="Story id; an id merged away is resolved to its survivor.")
    ],
    as_json: AsJson = False,
) -> None:
    """Show one story of INDEX: its members, sources, dates and duplicate groups."""
    with StoryIndex.open(index, create=False) as ix:
        s = ix.story(story_id)
    if as_json:
        _emit(s)
        return
    if s.id != story_id:
        typer.echo(f"story {story_id} was merged into story {s.id}")
    span = f"{s.first:%Y-%m-%d}..{s.last:%Y-%m-%d}" if s.first and s.last else "undated"
    typer.echo(f"story {s.id}\t{len(s.members)} articles\t{span}\t{s.title}")
    typer.echo(f"sources: {', '.join(s.sources) or '-'}")
    typer.echo(f"duplicate groups: {' '.join(str(g) for g in s.duplicate_groups)}")
    for member in s.members:
        typer.echo(member)


def _since(value: str | None) -> int | datetime | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        pass
    try:
        return _date(value, "since")
    except ConfigError:
        raise ConfigError(
            param_message(
                "index events", "since", "an event number or an ISO date such as 2024-05-01", value
            )
        ) from None


def _describe(e: IndexEvent) -> str:
    what = "group " if e.kind.startswith("group_") else "story "
    kind = e.kind.removeprefix("group_")
    if kind == "merged":
        return f"{what}{e.absorbed} merged into {e.survivor} ({e.article})"
    if kind == "split":
        return f"{what}{e.absorbed} split off {e.survivor} ({e.article})"
    return f"{e.article} moved from {what}{e.absorbed} to {e.survivor}"


@index_app.command("events")
def events_command(
    index: IndexPath,
    since: Annotated[
        str | None,
        typer.Option(
            help="Only events after this event number, or at or after this ISO date and time "
            "(the number of the last event read makes a feed: pass it next time).",
        ),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """List the identity events of INDEX: story merges, splits and moved articles."""
    with StoryIndex.open(index, create=False) as ix:
        records = ix.events(_since(since))
    for e in records:
        if as_json:
            _emit(e)
        else:
            typer.echo(f"{e.seq}\t{e.at:%Y-%m-%dT%H:%M:%S}\tbatch {e.batch}\t{_describe(e)}")


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


def _ids(ids: list[str], from_file: Path | None) -> list[str]:
    wanted = list(ids)
    if from_file is not None:
        try:
            if str(from_file) == "-":
                text = sys.stdin.read()
            else:
                text = from_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read ids from {from_file}: {exc}") from None
        wanted.extend(line.strip() for line in text.splitlines() if line.strip())
    if not wanted:
        raise ConfigError("index remove: give article ids, or --from-file with one id per line")
    return wanted


@index_app.command("remove")
def remove_command(
    index: IndexPath,
    ids: Annotated[
        list[str] | None, typer.Argument(help="Article ids.", show_default=False)
    ] = None,
    from_file: Annotated[
        Path | None,
        typer.Option(
            help="Also remove the ids in this file, one per line ('-' for standard input)."
        ),
    ] = None,
) -> None:
    """Delete articles by id from INDEX (ids not stored are counted, not an error)."""
    wanted = _ids(ids or [], from_file)
    with StoryIndex.open(index, create=False) as ix:
        n = ix.remove(wanted)
        left = ix.stats().articles
    unknown = len(set(wanted)) - n
    typer.echo(
        f"removed {n} articles"
        + (f" ({unknown} ids not in the index)" if unknown else "")
        + f"; {left} remain"
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
