"""Score a clustering against gold labels: B-cubed, pairwise P/R/F1, ARI and NMI.

Every metric is computed from the contingency table of (predicted, gold) label pairs,
so the cost is linear in the number of articles; article pairs are never enumerated.

Definitions, for ``N`` articles, predicted cluster sizes ``a_i``, gold cluster sizes
``b_j`` and overlap counts ``n_ij`` (articles in predicted cluster ``i`` and gold
cluster ``j``):

B-cubed (Bagga & Baldwin, 1998)
    Per article, precision is the share of its predicted cluster that shares its gold
    cluster and recall the share of its gold cluster that shares its predicted cluster;
    both are averaged over articles with equal weight. In closed form
    ``P = sum(n_ij**2 / a_i) / N`` and ``R = sum(n_ij**2 / b_j) / N``. F1 is the
    harmonic mean of the averaged P and R.
Pairwise
    Over unordered article pairs in one cluster: ``TP = sum C(n_ij, 2)``,
    ``P = TP / sum C(a_i, 2)``, ``R = TP / sum C(b_j, 2)``.
    Convention: when the prediction puts no two articles together there is no claimed
    pair to be wrong, so precision is 1.0; likewise recall is 1.0 when the gold labels
    have no pair. F1 is 0.0 when P + R is 0.
ARI, NMI
    scikit-learn's ``adjusted_rand_score`` and ``normalized_mutual_info_score``
    (arithmetic normalisation). ARI lies in [-0.5, 1]; the rest in [0, 1].

Missing labels
    A gold label of ``None`` means "not annotated". With ``missing="singleton"`` (the
    default) each such article is its own gold cluster: the gold standard claims it
    belongs to no story, which penalises a prediction that links it to others. With
    ``missing="drop"`` those articles are removed from both sides before scoring
    (``Scores.n_articles`` then counts only the annotated ones). A *predicted* label of
    ``None`` always means an unassigned article and is scored as a singleton.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Hashable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from .config import ClusterConfig
from .errors import ConfigError, CorpusError, param_message
from .models import Article, Clustering
from .pipeline import cluster

__all__ = ["Missing", "Scores", "Unmatched", "evaluate", "score", "score_files"]

Missing = Literal["singleton", "drop"]
Unmatched = Literal["error", "drop"]

I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Scores:
    """Agreement between a predicted clustering and gold labels.

    Parameters
    ----------
    bcubed_precision, bcubed_recall, bcubed_f1 : float
        B-cubed scores, averaged per article.
    pairwise_precision, pairwise_recall, pairwise_f1 : float
        Scores over same-cluster article pairs (1.0 by convention when a side has no pair).
    ari : float
        Adjusted Rand index.
    nmi : float
        Normalised mutual information.
    n_articles : int
        Articles scored (after dropping unlabelled ones with ``missing="drop"``).
    n_clusters_predicted, n_clusters_gold : int
        Distinct clusters on each side (singletons included).
    largest_predicted, largest_gold : int
        Size of the largest cluster on each side.
    missing_gold : int
        Articles whose gold label was ``None`` (dropped or scored as singletons).
    """

    bcubed_precision: float
    bcubed_recall: float
    bcubed_f1: float
    pairwise_precision: float
    pairwise_recall: float
    pairwise_f1: float
    ari: float
    nmi: float
    n_articles: int
    n_clusters_predicted: int
    n_clusters_gold: int
    largest_predicted: int
    largest_gold: int
    missing_gold: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Return the scores as a JSON-ready dict, in field order."""
        return asdict(self)


def _f1(p: float, r: float) -> float:
    return 2.0 * p * r / (p + r) if p + r > 0 else 0.0


def _codes(labels: Sequence[Hashable | None], name: str) -> I64:
    """Return labels numbered 0..k-1 by first appearance; each ``None`` a fresh singleton."""
    table: dict[Hashable, int] = {}
    out = np.empty(len(labels), np.int64)
    fresh = 0
    try:
        for i, label in enumerate(labels):
            if label is None:
                out[i] = -1 - fresh
                fresh += 1
            else:
                out[i] = table.setdefault(label, len(table))
    except TypeError:
        raise ConfigError(
            param_message("score", name, "a sequence of hashable labels", type(label).__name__)
        ) from None
    none = out < 0
    out[none] = len(table) + np.arange(int(none.sum()), dtype=np.int64)
    return out


def _pairs(counts: I64) -> int:
    c = counts.astype(np.int64)
    return int((c * (c - 1) // 2).sum())


def score(
    predicted: Sequence[Hashable | None],
    gold: Sequence[Hashable | None],
    *,
    missing: Missing = "singleton",
) -> Scores:
    """Compare predicted cluster labels with gold labels, article by article.

    Parameters
    ----------
    predicted : sequence of hashable
        Predicted cluster label per article (any hashable; only equality matters).
        ``None`` marks an unassigned article, scored as a singleton.
    gold : sequence of hashable
        Gold cluster label per article, aligned with ``predicted``. ``None`` marks an
        article without annotation; see ``missing``.
    missing : {"singleton", "drop"}, default "singleton"
        How to score articles whose gold label is ``None``: as gold singletons, or not
        at all (removed from both sides).

    Returns
    -------
    Scores
        All metrics and cluster statistics.

    Raises
    ------
    ConfigError
        If the sequences differ in length, no article is left to score, a label is not
        hashable, or ``missing`` is not a known policy.

    Examples
    --------
    >>> s = score(["x", "x", "y"], [1, 1, 2])
    >>> s.bcubed_f1, s.pairwise_f1
    (1.0, 1.0)
    """
    if missing not in ("singleton", "drop"):
        raise ConfigError(param_message("score", "missing", "one of 'singleton', 'drop'", missing))
    if len(predicted) != len(gold):
        raise ConfigError(
            param_message(
                "score",
                "gold",
                f"a sequence as long as 'predicted' ({len(predicted)} labels)",
                f"{len(gold)} labels",
            )
        )
    n_missing = sum(1 for g in gold if g is None)
    if missing == "drop" and n_missing:
        keep = [i for i, g in enumerate(gold) if g is not None]
        predicted = [predicted[i] for i in keep]
        gold = [gold[i] for i in keep]
    if len(gold) == 0:
        raise ConfigError(
            param_message("score", "gold", "a non-empty sequence of labels", "no labelled article")
        )
    p = _codes(predicted, "predicted")
    g = _codes(gold, "gold")
    return _from_codes(p, g, n_missing)


def _from_codes(p: I64, g: I64, n_missing: int) -> Scores:
    n = p.size
    a = np.bincount(p)
    b = np.bincount(g)
    # Non-empty cells of the contingency table: n_ij with their row i and column j.
    cells, n_ij = np.unique(p * np.int64(b.size) + g, return_counts=True)
    row, col = cells // b.size, cells % b.size
    n_ij_f = n_ij.astype(np.float64)
    bp = float((n_ij_f**2 / a[row]).sum() / n)
    br = float((n_ij_f**2 / b[col]).sum() / n)
    tp, pred_pairs, gold_pairs = _pairs(n_ij), _pairs(a), _pairs(b)
    pp = tp / pred_pairs if pred_pairs else 1.0
    pr = tp / gold_pairs if gold_pairs else 1.0
    return Scores(
        bcubed_precision=bp,
        bcubed_recall=br,
        bcubed_f1=_f1(bp, br),
        pairwise_precision=pp,
        pairwise_recall=pr,
        pairwise_f1=_f1(pp, pr),
        ari=float(adjusted_rand_score(g, p)),
        nmi=float(normalized_mutual_info_score(g, p)),
        n_articles=int(n),
        n_clusters_predicted=int(a.size),
        n_clusters_gold=int(b.size),
        largest_predicted=int(a.max()),
        largest_gold=int(b.max()),
        missing_gold=n_missing,
    )


def evaluate(
    articles: Iterable[Article],
    gold_field: str = "cluster",
    config: ClusterConfig | None = None,
    *,
    missing: Missing = "singleton",
) -> tuple[Scores, Clustering]:
    """Cluster articles and score the stories against gold labels they carry.

    Parameters
    ----------
    articles : iterable of Article
        The corpus; the gold label of each article is ``article.extra[gold_field]``
        (absent or ``None`` = not annotated).
    gold_field : str, default "cluster"
        Key of the gold label in ``Article.extra``.
    config : ClusterConfig, optional
        Clustering parameters; defaults to ``ClusterConfig()``.
    missing : {"singleton", "drop"}, default "singleton"
        How to score unannotated articles (see :func:`score`).

    Returns
    -------
    scores : Scores
        Story labels (``Assignment.story_id``) scored against the gold labels.
    clustering : Clustering
        The full clustering result.

    Raises
    ------
    CorpusError
        If no article carries a gold label in ``gold_field``, or a label is not hashable.
    ConfigError
        For an invalid config or ``missing`` policy.
    """
    if missing not in ("singleton", "drop"):
        raise ConfigError(
            param_message("evaluate", "missing", "one of 'singleton', 'drop'", missing)
        )
    gold: dict[str, Hashable | None] = {}
    origins: dict[str, str] = {}

    def collect(stream: Iterable[Article]) -> Iterator[Article]:
        for article in stream:
            label = article.extra.get(gold_field)
            gold.setdefault(article.id, _hashable(label, article.origin or article.id))
            origins.setdefault(article.id, article.origin)
            yield article

    clustering = cluster(collect(articles), config)
    if clustering.n_articles and all(v is None for v in gold.values()):
        first = next(iter(origins.values()), "") or "input"
        raise CorpusError(
            first,
            f"no article has a gold label in the field {gold_field!r}; "
            "name the field holding the gold clusters (--gold-field)",
        )
    ids = [a.id for a in clustering.assignments]
    predicted = [a.story_id for a in clustering.assignments]
    return score(predicted, [gold[i] for i in ids], missing=missing), clustering


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

    Both files are JSON Lines (one object per line), a JSON array of objects, or, by a
    ``.csv``/``.tsv`` suffix, delimited text with a header row. Ids are compared as
    strings, so ``7`` and ``"7"`` match.

    Parameters
    ----------
    predicted_path : str or PathLike
        Per-article output with ``id_field`` and ``story_field`` (what ``clusterer run``
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
