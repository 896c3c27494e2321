"""Clustering metrics from label sequences: B-cubed, pairwise P/R/F1, ARI and NMI.

Every metric is computed from the contingency table of (predicted, gold) label pairs,
so the cost is linear in the number of articles. The definitions, the pairwise
conventions and the policies for missing gold labels are documented in
:mod:`clusterer.evaluate`, which re-exports the public names.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from .errors import ConfigError, param_message

__all__ = ["Missing", "Scores", "score"]

Missing = Literal["singleton", "drop"]

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
