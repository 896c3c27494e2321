"""Options shared by the commands: reading the corpus and building the :class:`ClusterConfig`.

Every clustering option defaults to ``None`` ("not given"), so that only the values a
user sets reach :class:`~clusterer.ClusterConfig`, whose defaults stay the single
source of truth. A ``--config FILE.json`` is applied first, options on top of it.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import orjson
import typer

from clusterer import Article, ClusterConfig, ConfigError, FieldMap, ReadReport, read_articles

__all__ = [
    "CONFIG_OPTIONS",
    "AttachFloor",
    "AttachRatio",
    "BatchSize",
    "CandidateTerms",
    "ConfigFile",
    "DateDecayDays",
    "DateField",
    "DuplicateThreshold",
    "Encoding",
    "IdField",
    "KernelOpt",
    "LinkageOpt",
    "LshBands",
    "LshRecall",
    "LshRows",
    "MaxBlock",
    "MaxPostings",
    "MaxTerms",
    "NFeatures",
    "NoDateDecay",
    "NumPerm",
    "OnDuplicate",
    "OnErrorOpt",
    "PageDate",
    "ReadOptions",
    "Seed",
    "ShingleSize",
    "SourceField",
    "SpecificDf",
    "SpecificShare",
    "SpecificSpreadDays",
    "SpecificTerms",
    "StoryThreshold",
    "TermNeighbours",
    "TextField",
    "TitleField",
    "TitleWeight",
    "UrlField",
    "VerifyOpt",
    "Workers",
    "build_config",
    "config_options",
    "parse_page_date",
    "reads_corpus",
]

_CFG = "Clustering parameters (defaults: ClusterConfig)"
_D = ClusterConfig()


def _d(name: str) -> object:
    """Return the library default of a parameter, for help texts."""
    return getattr(_D, name, "see ClusterConfig")


_READ = "Reading the input"

ConfigFile = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="JSON file of ClusterConfig parameters (as written by --save-config); "
        "options given on the command line override it.",
        rich_help_panel=_CFG,
        show_default=False,
    ),
]
ShingleSize = Annotated[
    int | None,
    typer.Option(
        help=f"Words per shingle for near-duplicates (default {_d('shingle_size')}).",
        rich_help_panel=_CFG,
    ),
]
NumPerm = Annotated[
    int | None,
    typer.Option(
        help=f"MinHash permutations: accuracy vs speed (default {_d('num_perm')}).",
        rich_help_panel=_CFG,
    ),
]
Seed = Annotated[
    int | None,
    typer.Option(
        help=f"Seed of the MinHash permutations (default {_d('seed')}).", rich_help_panel=_CFG
    ),
]
DuplicateThreshold = Annotated[
    float | None,
    typer.Option(
        help="Jaccard at or above which two articles are near-duplicates "
        f"(default {_d('duplicate_threshold')}).",
        rich_help_panel=_CFG,
    ),
]
LshRecall = Annotated[
    float | None,
    typer.Option(
        help="Chance that a pair at the duplicate threshold becomes an LSH candidate "
        f"(default {_d('lsh_recall')}).",
        rich_help_panel=_CFG,
    ),
]
LshBands = Annotated[
    int | None,
    typer.Option(help="Force the LSH bands (with --lsh-rows).", rich_help_panel=_CFG),
]
LshRows = Annotated[
    int | None,
    typer.Option(help="Force the LSH rows per band (with --lsh-bands).", rich_help_panel=_CFG),
]
VerifyOpt = Annotated[
    Literal["exact", "estimate"] | None,
    typer.Option(
        help=f"Verify candidates with the exact or the estimated Jaccard (default {_d('verify')}).",
        rich_help_panel=_CFG,
    ),
]
StoryThreshold = Annotated[
    float | None,
    typer.Option(
        help=f"Similarity at or above which stories merge (default {_d('story_threshold')}).",
        rich_help_panel=_CFG,
    ),
]
LinkageOpt = Annotated[
    Literal["average", "complete"] | None,
    typer.Option(help=f"Story linkage (default {_d('linkage')}).", rich_help_panel=_CFG),
]
AttachRatio = Annotated[
    float | None,
    typer.Option(
        help="A lone article joins a story whose members it matches on average at >= "
        "max(attach floor, this x the story's cohesion); 0 switches the pass off "
        f"(default {_d('attach_ratio')}).",
        rich_help_panel=_CFG,
    ),
]
AttachFloor = Annotated[
    float | None,
    typer.Option(
        help=f"Lowest mean similarity at which a lone article joins a story (default "
        f"{_d('attach_floor')}).",
        rich_help_panel=_CFG,
    ),
]
TitleWeight = Annotated[
    float | None,
    typer.Option(
        help=f"Weight of headline terms against body terms (default {_d('title_weight')}).",
        rich_help_panel=_CFG,
    ),
]
DateDecayDays = Annotated[
    float | None,
    typer.Option(
        help="Time scale (days) of the soft date decay of story similarity "
        f"(default {_d('date_decay_days')}).",
        rich_help_panel=_CFG,
    ),
]
NoDateDecay = Annotated[
    bool,
    typer.Option(
        "--no-date-decay",
        help="Switch the date decay off (dates are ignored).",
        rich_help_panel=_CFG,
    ),
]
CandidateTerms = Annotated[
    int | None,
    typer.Option(
        help=f"Top terms per article that find story candidates (default {_d('candidate_terms')}).",
        rich_help_panel=_CFG,
    ),
]
MaxTerms = Annotated[
    int | None,
    typer.Option(
        help="Highest-weighted terms kept per article vector; 0 keeps all "
        f"(default {_d('max_terms')}).",
        rich_help_panel=_CFG,
    ),
]
MaxPostings = Annotated[
    int | None,
    typer.Option(
        help=f"Terms in more articles than this find no candidates (default {_d('max_postings')}).",
        rich_help_panel=_CFG,
    ),
]
TermNeighbours = Annotated[
    int | None,
    typer.Option(
        help=f"Candidates per article per term (default {_d('term_neighbours')}).",
        rich_help_panel=_CFG,
    ),
]
MaxBlock = Annotated[
    int | None,
    typer.Option(
        help=f"Largest candidate block clustered at once (default {_d('max_block')}).",
        rich_help_panel=_CFG,
    ),
]
NFeatures = Annotated[
    int | None,
    typer.Option(
        help=f"Size of the hashed TF-IDF term space (default {_d('n_features')}).",
        rich_help_panel=_CFG,
    ),
]
KernelOpt = Annotated[
    Literal["auto", "numba", "numpy"] | None,
    typer.Option(
        help=f"Compiled kernels or NumPy references (default {_d('kernel')}).",
        rich_help_panel=_CFG,
    ),
]
BatchSize = Annotated[
    int | None,
    typer.Option(
        help=f"Articles featurised per batch (bounds memory) (default {_d('batch_size')}).",
        rich_help_panel=_CFG,
    ),
]
Workers = Annotated[
    int | None,
    typer.Option(
        help="Threads of the compiled kernels (default 0: every core).",
        rich_help_panel=_CFG,
    ),
]

SpecificTerms = Annotated[
    bool | None,
    typer.Option(
        "--specific-terms/--no-specific-terms",
        help="Link two articles into one story only if they share a term that is rare "
        "(--specific-df, --specific-share) or bursty in time (--specific-spread-days): "
        "templated reports of different events stop forming stories (default off).",
        rich_help_panel=_CFG,
    ),
]
SpecificDf = Annotated[
    int | None,
    typer.Option(
        help="With --specific-terms: document frequency at or under which a term is "
        f"specific (default {_d('specific_df')}).",
        rich_help_panel=_CFG,
    ),
]
SpecificShare = Annotated[
    float | None,
    typer.Option(
        help="With --specific-terms: share of the corpus at or under which a term is "
        f"specific, if larger (default {_d('specific_share')}).",
        rich_help_panel=_CFG,
    ),
]
SpecificSpreadDays = Annotated[
    float | None,
    typer.Option(
        help="With --specific-terms: a term whose articles' days have at most this "
        f"standard deviation is specific (default {_d('specific_spread_days')}).",
        rich_help_panel=_CFG,
    ),
]

OnErrorOpt = Annotated[
    Literal["raise", "skip"],
    typer.Option(
        help="On a bad record: stop with an error, or skip it and list it as a reject.",
        rich_help_panel=_READ,
    ),
]
OnDuplicate = Annotated[
    Literal["error", "first", "rename"],
    typer.Option(
        help="On a repeated id: stop, keep the first (later ones are rejects), or rename "
        "later ones id~2, id~3...",
        rich_help_panel=_READ,
    ),
]
Encoding = Annotated[str, typer.Option(help="Encoding of the inputs.", rich_help_panel=_READ)]
PageDate = Annotated[
    str | None,
    typer.Option(
        help="Capture time of scraped pages (ISO 8601), to resolve dates like '3 hours ago'.",
        rich_help_panel=_READ,
        show_default=False,
    ),
]
IdField = Annotated[str, typer.Option(help="Input field holding the id.", rich_help_panel=_READ)]
TitleField = Annotated[
    str, typer.Option(help="Input field holding the headline.", rich_help_panel=_READ)
]
TextField = Annotated[
    str, typer.Option(help="Input field holding the body text.", rich_help_panel=_READ)
]
DateField = Annotated[
    str, typer.Option(help="Input field holding the date.", rich_help_panel=_READ)
]
SourceField = Annotated[
    str, typer.Option(help="Input field holding the outlet.", rich_help_panel=_READ)
]
UrlField = Annotated[str, typer.Option(help="Input field holding the URL.", rich_help_panel=_READ)]


CONFIG_OPTIONS = (
    "shingle_size",
    "num_perm",
    "seed",
    "duplicate_threshold",
    "lsh_recall",
    "lsh_bands",
    "lsh_rows",
    "verify",
    "story_threshold",
    "linkage",
    "attach_ratio",
    "attach_floor",
    "title_weight",
    "date_decay_days",
    "candidate_terms",
    "max_terms",
    "max_postings",
    "term_neighbours",
    "max_block",
    "n_features",
    "kernel",
    "batch_size",
    "workers",
    "specific_terms",
    "specific_df",
    "specific_share",
    "specific_spread_days",
)
"""Parameter names of the clustering options (each typed by the alias above) that every
command clustering a corpus declares, besides ``config_file`` and ``no_date_decay``."""


def config_options(arguments: dict[str, Any]) -> dict[str, Any]:
    """Pick the clustering options out of a command's arguments.

    Parameters
    ----------
    arguments : dict
        The command's arguments by name (``locals()`` at its start); each name of
        :data:`CONFIG_OPTIONS` must be present.

    Returns
    -------
    dict
        The clustering options, for :func:`build_config`.
    """
    return {name: arguments[name] for name in CONFIG_OPTIONS}


def build_config(config_file: Path | None, no_date_decay: bool, **options: Any) -> ClusterConfig:
    """Build the config from an optional JSON file and the options the user set.

    Parameters
    ----------
    config_file : Path or None
        JSON object of ClusterConfig parameters (a ``stats`` key is ignored).
    no_date_decay : bool
        Set ``date_decay_days`` to None.
    **options
        ClusterConfig parameters; ``None`` means "not given"; ``max_terms=0`` means
        keep all terms (None in the config).

    Returns
    -------
    ClusterConfig
        Validated.

    Raises
    ------
    ConfigError
        For an unreadable file or an invalid value.
    """
    data: dict[str, Any] = {}
    if config_file is not None:
        try:
            loaded = orjson.loads(config_file.read_bytes())
        except OSError as exc:
            raise ConfigError(f"cannot read config file {config_file}: {exc.strerror}") from None
        except orjson.JSONDecodeError as exc:
            raise ConfigError(f"config file {config_file} is not valid JSON: {exc}") from None
        if not isinstance(loaded, dict):
            raise ConfigError(f"config file {config_file} must hold a JSON object")
        loaded.pop("stats", None)
        data.update(loaded)
    data.update({k: v for k, v in options.items() if v is not None})
    if options.get("max_terms") == 0:
        data["max_terms"] = None
    if no_date_decay:
        if options.get("date_decay_days") is not None:
            raise ConfigError("--no-date-decay and --date-decay-days cannot be used together")
        data["date_decay_days"] = None
    return ClusterConfig.from_dict(data)


def parse_page_date(value: str | None) -> datetime | None:
    """Parse ``--page-date`` (ISO 8601); raise :class:`ConfigError` when unreadable."""
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(
            f"The 'page_date' option must be an ISO 8601 date or time. Got {value!r} instead."
        ) from None


@dataclass(frozen=True)
class ReadOptions:
    """How to read the corpus: the reader options of the command line, bundled.

    Parameters
    ----------
    fields : FieldMap
        Field names.
    on_error : {"raise", "skip"}
        Bad record policy.
    on_duplicate_id : {"error", "first", "rename"}
        Repeated id policy.
    encoding : str
        Input encoding.
    page_date : datetime or None
        Capture time of scraped pages.
    """

    fields: FieldMap
    on_error: Literal["raise", "skip"]
    on_duplicate_id: Literal["error", "first", "rename"]
    encoding: str
    page_date: datetime | None

    def read(self, paths: Sequence[str], report: ReadReport) -> Iterator[Article]:
        """Read the corpus lazily, filling ``report``."""
        return read_articles(
            list(paths),
            fields=self.fields,
            on_error=self.on_error,
            on_duplicate_id=self.on_duplicate_id,
            encoding=self.encoding,
            page_date=self.page_date,
            report=report,
        )


_READING: tuple[tuple[str, Any, Any], ...] = (
    ("on_error", OnErrorOpt, "raise"),
    ("on_duplicate_id", OnDuplicate, "error"),
    ("encoding", Encoding, "utf-8"),
    ("page_date", PageDate, None),
    ("id_field", IdField, "id"),
    ("title_field", TitleField, "title"),
    ("text_field", TextField, "text"),
    ("date_field", DateField, "date"),
    ("source_field", SourceField, "source"),
    ("url_field", UrlField, "url"),
)
"""The reading options of a command that reads a corpus: name, typed option, default."""

_R = TypeVar("_R")


def reads_corpus(command: Callable[..., _R]) -> Callable[..., _R]:
    """Give a command the reading options; it receives them bundled as ``reading``.

    The options of :data:`_READING` are added to the signature typer reads, after the
    command's own parameters, and its ``reading`` parameter is taken out of it: the
    wrapper builds that :class:`ReadOptions` from the options given (``--page-date``
    parsed, a :class:`ConfigError` when unreadable).

    Parameters
    ----------
    command : callable
        A typer command with a ``reading: ReadOptions`` parameter.

    Returns
    -------
    callable
        The command as typer should register it.
    """
    sig = inspect.signature(command, eval_str=True)
    own = [p for p in sig.parameters.values() if p.name != "reading"]
    added = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=kind)
        for name, kind, default in _READING
    ]

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> _R:
        given = {name: kwargs.pop(name) for name, _, _ in _READING}
        return command(*args, reading=_bundle(given), **kwargs)

    wrapper.__signature__ = sig.replace(parameters=[*own, *added])  # type: ignore[attr-defined]
    return wrapper


def _bundle(arguments: dict[str, Any]) -> ReadOptions:
    """Build the :class:`ReadOptions` of the options of :data:`_READING`."""
    return ReadOptions(
        fields=FieldMap(**{f: arguments[f"{f}_field"] for f in _FIELDS}),
        on_error=arguments["on_error"],
        on_duplicate_id=arguments["on_duplicate_id"],
        encoding=arguments["encoding"],
        page_date=parse_page_date(arguments["page_date"]),
    )


_FIELDS = ("id", "title", "text", "date", "source", "url")
