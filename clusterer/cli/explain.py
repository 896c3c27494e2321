"""``clusterer explain``: why articles share (or do not share) a story."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from clusterer import Assignment, ClusterConfig, ConfigError, ReadReport, cluster
from clusterer.explain import PairScorer, attachment_notes
from clusterer.output import read_assignments

from . import _options as o
from ._options import ReadOptions, build_config

__all__ = ["explain_command"]


def _find_story(key: str, by_id: dict[str, Assignment], story_ids: set[int]) -> int:
    if key in by_id:
        return by_id[key].story_id
    number = key.removeprefix("story:")
    if number.isdigit() and int(number) in story_ids:
        return int(number)
    raise ConfigError(
        f"{key!r} is neither an article id nor a story id of the output file "
        f"({len(by_id)} articles, {len(story_ids)} stories)"
    )


def _fmt_date(a: Assignment) -> str:
    return a.date.isoformat() if a.date else "—"


def _explain_story(
    story: int,
    assignments: list[Assignment],
    inputs: list[str] | None,
    reading: ReadOptions,
    config: ClusterConfig,
    console: Console,
) -> None:
    members = [a for a in assignments if a.story_id == story]
    table = Table(title=f"story {story}: {len(members)} article(s)")
    for column in ("id", "title", "source", "date", "dup. group", "dup. score", "story score"):
        table.add_column(column, overflow="fold")
    for a in sorted(members, key=lambda a: (a.duplicate_group_id, a.id)):
        table.add_row(
            a.id,
            a.title,
            a.source or "—",
            _fmt_date(a),
            str(a.duplicate_group_id),
            f"{a.duplicate_score:.3f}",
            f"{a.story_score:.3f}",
        )
    console.print(table)
    if not inputs:
        console.print("Give the corpus with --input to see the links that joined the story.")
        return
    result = cluster(reading.read(inputs, ReadReport()), config)
    ids = {a.id for a in members}
    rerun = {a.id: a.story_id for a in result.assignments}
    missing = sorted(ids - rerun.keys())
    if missing:
        raise ConfigError(
            f"article {missing[0]!r} of the output is not in the --input corpus; "
            "give the corpus the output was made from"
        )
    if len({rerun[i] for i in ids}) != 1 or sum(
        1 for s in rerun.values() if s == rerun[next(iter(ids))]
    ) != len(ids):
        sys.stderr.write(
            "warning: clustering --input with these parameters does not reproduce this story; "
            "pass the parameters of the original run (for example --config)\n"
        )
    links = Table(title="links (scored pairs touching the story)")
    for column in ("a", "b", "kind", "similarity", "outcome"):
        links.add_column(column, overflow="fold")
    count = 0
    notes = attachment_notes(result)
    for link in result.links():
        if link.a not in ids and link.b not in ids:
            continue
        kind = "near-duplicate" if link.reason == "duplicate" else "story"
        if link.reason == "attached":
            kind, outcome = "attachment", notes[link.a]
        elif link.a in ids and link.b in ids:
            outcome = "joined" if link.accepted else "refused by linkage"
        else:
            outcome = "refused: stays apart" if not link.accepted else "joined (other story)"
        links.add_row(link.a, link.b, kind, f"{link.similarity:.3f}", outcome)
        count += 1
    if count:
        console.print(links)
    else:
        console.print("No scored links: the story is a single article or a group of copies.")


def _explain_pair(
    a: str,
    b: str,
    by_id: dict[str, Assignment],
    inputs: list[str] | None,
    reading: ReadOptions,
    config: ClusterConfig,
    console: Console,
) -> None:
    for key in (a, b):
        if key not in by_id:
            raise ConfigError(f"{key!r} is not an article id of the output file")
    if not inputs:
        raise ConfigError(
            "explaining a pair needs the texts: give the corpus the output was made from "
            "with --input PATH"
        )
    scorer = PairScorer(reading.read(inputs, ReadReport()), config)
    s = scorer.score(a, b)
    x, y = by_id[a], by_id[b]
    table = Table(title=f"{a} vs {b}", show_header=False)
    table.add_column("measure")
    table.add_column("value", overflow="fold")
    table.add_row("titles", f"{x.title}\n{y.title}")
    table.add_row(
        "same story", f"{'yes' if x.story_id == y.story_id else 'no'} ({x.story_id} / {y.story_id})"
    )
    table.add_row(
        "same duplicate group",
        f"{'yes' if x.duplicate_group_id == y.duplicate_group_id else 'no'} "
        f"({x.duplicate_group_id} / {y.duplicate_group_id})",
    )
    table.add_row("Jaccard (MinHash estimate)", f"{s.jaccard_estimate:.3f}")
    # A near-duplicate pair below the story threshold is left out of the groups.
    untied = "; below the story threshold, it ties no group" if not s.story_link else ""
    table.add_row(
        "Jaccard (exact)",
        f"{s.jaccard_exact:.3f} (near-duplicate at >= {config.duplicate_threshold}: "
        f"{'yes' + untied if s.near_duplicate else 'no'})",
    )
    table.add_row("TF-IDF cosine (title-weighted)", f"{s.tfidf_cosine:.3f}")
    gap = "unknown (a date is missing)" if s.gap_days is None else f"{s.gap_days:.2f} days"
    table.add_row("time gap", f"{gap}; decay factor {s.decay:.3f}")
    if s.specific_shared is not None:
        table.add_row(
            "specific term shared",
            "yes" if s.specific_shared else "no (specific_terms: the pair scores 0)",
        )
    table.add_row(
        "story similarity",
        f"{s.story_similarity:.3f} (links at >= {config.story_threshold}: "
        f"{'yes' if s.story_link else 'no'})",
    )
    if x.story_id == y.story_id:
        for line in _pair_attachment(a, b, inputs, reading, config):
            table.add_row("attachment", line)
    terms = ", ".join(f"{t.term} ({t.contribution:.3f})" for t in s.shared_terms) or "none"
    table.add_row("top shared terms", terms)
    console.print(table)


def _pair_attachment(
    a: str, b: str, inputs: list[str], reading: ReadOptions, config: ClusterConfig
) -> list[str]:
    """Say which of two articles of one story the attachment pass joined to it, and why.

    Clusters ``inputs`` again (as the story view does) to find the attachment links;
    empty when neither article was attached or the rerun puts them apart.
    """
    result = cluster(reading.read(inputs, ReadReport()), config)
    story_of = {x.id: x.story_id for x in result.assignments}
    if a not in story_of or story_of.get(a) != story_of.get(b):
        return []
    notes = attachment_notes(result)
    return [f"{key} {notes[key]}" for key in (a, b) if key in notes]


@o.reads_corpus
def explain_command(
    output: Annotated[
        Path,
        typer.Argument(help="Per-article output of 'clusterer cluster' (JSONL, JSON or CSV)."),
    ],
    ids: Annotated[
        list[str],
        typer.Argument(
            help="One article id or story id (or story:N) to explain its story, or two "
            "article ids to compare them.",
            show_default=False,
        ),
    ],
    inputs: Annotated[
        list[str] | None,
        typer.Option(
            "--input",
            "-i",
            help="The corpus the output was made from (repeat for several paths); needed "
            "for links and pair scores.",
            show_default=False,
        ),
    ] = None,
    *,
    reading: ReadOptions,
    config_file: o.ConfigFile = None,
    shingle_size: o.ShingleSize = None,
    num_perm: o.NumPerm = None,
    seed: o.Seed = None,
    duplicate_threshold: o.DuplicateThreshold = None,
    lsh_recall: o.LshRecall = None,
    lsh_bands: o.LshBands = None,
    lsh_rows: o.LshRows = None,
    verify: o.VerifyOpt = None,
    story_threshold: o.StoryThreshold = None,
    linkage: o.LinkageOpt = None,
    attach_ratio: o.AttachRatio = None,
    attach_floor: o.AttachFloor = None,
    title_weight: o.TitleWeight = None,
    date_decay_days: o.DateDecayDays = None,
    no_date_decay: o.NoDateDecay = False,
    candidate_terms: o.CandidateTerms = None,
    max_terms: o.MaxTerms = None,
    max_postings: o.MaxPostings = None,
    term_neighbours: o.TermNeighbours = None,
    max_block: o.MaxBlock = None,
    n_features: o.NFeatures = None,
    kernel: o.KernelOpt = None,
    batch_size: o.BatchSize = None,
    workers: o.Workers = None,
    specific_terms: o.SpecificTerms = None,
    specific_df: o.SpecificDf = None,
    specific_share: o.SpecificShare = None,
    specific_spread_days: o.SpecificSpreadDays = None,
) -> None:
    """Explain a story (its members and the links that joined it) or compare two articles.

    For a pair: MinHash and exact Jaccard, title-weighted TF-IDF cosine, top shared
    terms, time gap, and whether they share a duplicate group. Scores are recomputed
    from [bold]--input[/bold] with the same parameters as the original run.
    """
    if len(ids) > 2:
        raise ConfigError(f"give one id (a story) or two (a pair); got {len(ids)}")
    config = build_config(config_file, no_date_decay, **o.config_options(locals()))
    assignments = read_assignments(output)
    by_id = {a.id: a for a in assignments}
    console = Console(highlight=False)
    if len(ids) == 1:
        story = _find_story(ids[0], by_id, {a.story_id for a in assignments})
        _explain_story(story, assignments, inputs, reading, config, console)
    else:
        _explain_pair(ids[0], ids[1], by_id, inputs, reading, config, console)
