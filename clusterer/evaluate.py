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

from collections.abc import Hashable, Iterable, Iterator

from ._metrics import Missing, Scores, score
from ._score_files import Unmatched, _hashable, score_files
from .config import ClusterConfig
from .errors import ConfigError, CorpusError, param_message
from .models import Article, Clustering
from .pipeline import cluster

__all__ = ["Missing", "Scores", "Unmatched", "evaluate", "score", "score_files"]


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
