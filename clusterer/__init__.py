"""clusterer: near-duplicate groups nested in story clusters for news corpora."""

from .config import ClusterConfig
from .errors import (
    ClustererError,
    ConfigError,
    CorpusError,
    DuplicateIdError,
    IndexFileError,
    MissingExtraError,
    OutputError,
)
from .models import Article, Assignment, Clustering, DuplicateGroup, Link, Reject, Story

__version__ = "0.1.0"

__all__ = [
    "Article",
    "Assignment",
    "ClusterConfig",
    "ClustererError",
    "Clustering",
    "ConfigError",
    "CorpusError",
    "DuplicateGroup",
    "DuplicateIdError",
    "IndexFileError",
    "Link",
    "MissingExtraError",
    "OutputError",
    "Reject",
    "Story",
    "__version__",
]
