"""Score files against files: a clustering output joined with gold labels on article id.

Reads JSON Lines, a JSON array, CSV/TSV with a header or Parquet (by suffix); errors
name ``path:line`` (``path:row`` for Parquet).
The public names are re-exported by :mod:`clusterer.evaluate`.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Hashable, Iterator
from pathlib import Path
from typing import Any, Literal

from ._atomic import format_for
from ._metrics import Missing, Scores, score
from ._pyarrow import parquet_rows
from .errors import ConfigError, CorpusError, param_message

__all__ = ["Unmatched", "score_files"]

Unmatched = Literal["error", "drop"]


def _hashable(label: object, where: str) -> Hashable | None:
    if label is None or isinstance(label, Hashable):
        return label
    raise CorpusError(
        where, f"gold label {label!r} is a {type(label).__name__}; expected a string or number"
    )


def score_files(
    predicted_path: str | os.PathLike[str],
    gold_path: str | os.PathLike[str],
    gold_field: str = "cluster",
    id_field: str = "id",
    story_field: str = "story_id",
    *,
    missing: Missing = "singleton",
    unmatched: Unmatched = "error",
) -> Scores:
    """Score a clustering written to a file against a gold file, joined on article id.

    Both files are JSON Lines (one object per line), a JSON array of objects, or, by
    suffix, delimited text with a header row (``.csv``/``.tsv``) or Parquet
    (``.parquet``/``.pq``, needs ``clusterer[parquet]``). Ids are compared as
    strings, so ``7`` and ``"7"`` match.

    Parameters
    ----------
    predicted_path : str or PathLike
        Per-article output with ``id_field`` and ``story_field`` (what ``clusterer cluster``
        writes).
    gold_path : str or PathLike
        Per-article gold labels with ``id_field`` and ``gold_field`` (for example a
        labelled corpus itself); an absent or null label means "not annotated".
    gold_field : str, default "cluster"
        Gold label field.
    id_field : str, default "id"
        Article id field, in both files.
    story_field : str, default "story_id"
        Predicted label field.
    missing : {"singleton", "drop"}, default "singleton"
        How to score unannotated articles (see :func:`score`).
    unmatched : {"error", "drop"}, default "error"
        When an id appears in only one file: raise :class:`CorpusError`, or score only
        the ids present in both.

    Returns
    -------
    Scores
        Scores over the joined articles, in gold-file order.

    Raises
    ------
    CorpusError
        For unreadable files, bad lines, duplicate ids, a missing field, or ids found
        in one file only (with ``unmatched="error"``).
    ConfigError
        For an unknown ``missing`` or ``unmatched`` policy.
    """
    if unmatched not in ("error", "drop"):
        raise ConfigError(
            param_message("score_files", "unmatched", "one of 'error', 'drop'", unmatched)
        )
    if missing not in ("singleton", "drop"):
        raise ConfigError(
            param_message("score_files", "missing", "one of 'singleton', 'drop'", missing)
        )
    pred = _read_labels(Path(predicted_path), id_field, story_field, required=True)
    gold = _read_labels(Path(gold_path), id_field, gold_field, required=False)
    if gold and all(v is None for v in gold.values()):
        raise CorpusError(str(gold_path), f"no record has a gold label in the field {gold_field!r}")
    only_gold = [i for i in gold if i not in pred]
    only_pred = [i for i in pred if i not in gold]
    if unmatched == "error":
        for path, ids, other in (
            (predicted_path, only_gold, gold_path),
            (gold_path, only_pred, predicted_path),
        ):
            if ids:
                raise CorpusError(
                    str(path),
                    f"{len(ids)} article id(s) of {os.fspath(other)} are missing here "
                    f"(first: {ids[0]!r}); score only the shared ids with "
                    "unmatched='drop' (CLI: --unmatched drop)",
                )
    shared = [i for i in gold if i in pred]
    if not shared:
        raise CorpusError(
            str(predicted_path), f"no article id in common with {os.fspath(gold_path)}"
        )
    return score([pred[i] for i in shared], [gold[i] for i in shared], missing=missing)


def _read_labels(
    path: Path, id_field: str, label_field: str, *, required: bool
) -> dict[str, Hashable | None]:
    """Map id -> label for every record of a JSONL or CSV/TSV file."""
    out: dict[str, Hashable | None] = {}
    lines: dict[str, int] = {}
    for line, record in _records(path):
        where = f"{path}:{line}"
        if id_field not in record or record[id_field] is None:
            raise CorpusError(where, f"record has no {id_field!r} field")
        key = str(record[id_field])
        if key in out:
            raise CorpusError(where, f"duplicate id {key!r} (first seen at {path}:{lines[key]})")
        if required and record.get(label_field) is None:
            raise CorpusError(where, f"record has no {label_field!r} field")
        out[key] = _hashable(record.get(label_field), where)
        lines[key] = line
    if not out:
        raise CorpusError(str(path), "no records")
    return out


def _records(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    if format_for(path) == "parquet":
        yield from _parquet(path)
        return
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise CorpusError(
            str(path), f"cannot open ({exc.strerror}); check the path and its permissions"
        ) from None
    with handle:
        if path.suffix.lower() in (".csv", ".tsv"):
            delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
            for number, row in enumerate(csv.DictReader(handle, delimiter=delimiter), start=2):
                yield number, {k: (v if v != "" else None) for k, v in row.items()}
            return
        first = handle.read(1)
        while first.isspace():
            first = handle.read(1)
        if first == "[":
            yield from _array(path, first + handle.read())
            return
        handle.seek(0)
        for number, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                record = json.loads(text)
            except json.JSONDecodeError as exc:
                raise CorpusError(f"{path}:{number}", f"not valid JSON ({exc.msg})") from None
            if not isinstance(record, dict):
                raise CorpusError(f"{path}:{number}", "expected a JSON object per line")
            yield number, record


def _array(path: Path, data: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield the objects of a JSON array file (numbered by position, from 1)."""
    try:
        items = json.loads(data)
    except json.JSONDecodeError as exc:
        raise CorpusError(f"{path}:{exc.lineno}", f"not valid JSON ({exc.msg})") from None
    for number, record in enumerate(items, start=1):
        if not isinstance(record, dict):
            raise CorpusError(f"{path}", f"item {number} of the JSON array is not an object")
        yield number, record


def _parquet(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield the rows of a Parquet file (numbered from 1)."""
    try:
        rows = parquet_rows(path)
    except OSError as exc:
        raise CorpusError(str(path), f"cannot read ({exc})") from None
    except ValueError as exc:
        raise CorpusError(str(path), f"not a readable Parquet file ({exc})") from None
    yield from enumerate(rows, start=1)
