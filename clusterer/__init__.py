"""clusterer: near-duplicate groups nested in story clusters for news corpora.

Typical use::

    from clusterer import ClusterConfig, cluster, read_articles

    result = cluster(read_articles(["corpus/"]), ClusterConfig())
    for story in result.stories:
        print(story.id, story.title, len(story.members))

Importing this package never imports typer (the CLI lives in ``clusterer.cli``).
"""

from .config import SCHEME, ClusterConfig
from .errors import (
    ClustererError,
    ConfigError,
    CorpusError,
    DuplicateIdError,
    IndexFileError,
    MissingExtraError,
    OutputError,
)
from .estimator import StoryClusterer
from .models import (
    Article,
    Assignment,
    Clustering,
    DuplicateGroup,
    Link,
    LinkTable,
    Reject,
    Story,
)
from .pipeline import cluster
from .readers import FieldMap, ReadReport, read_articles
from .signatures import to_lean_minhash

__version__ = "0.1.0"

__all__ = [
    "SCHEME",
    "Article",
    "Assignment",
    "ClusterConfig",
    "ClustererError",
    "Clustering",
    "ConfigError",
    "CorpusError",
    "DuplicateGroup",
    "DuplicateIdError",
    "FieldMap",
    "IndexFileError",
    "Link",
    "LinkTable",
    "MissingExtraError",
    "OutputError",
    "ReadReport",
    "Reject",
    "Story",
    "StoryClusterer",
    "__version__",
    "cluster",
    "read_articles",
    "to_lean_minhash",
]
