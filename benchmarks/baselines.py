r"""datasketch baselines doing the near-duplicate pass: read -> groups -> written.

Two ways, as users would write them with datasketch 2.x:

* ``documented``: ``MinHash(num_perm)`` and ``update`` per shingle, ``MinHashLSH.insert``
  per article, then ``query`` per article (the README's way);
* ``bulk``: ``MinHash.bulk`` over all shingle sets and an ``insertion_session``, then
  ``query`` per article (datasketch at its best).

Both shingle with the usual Python idiom (lower-cased ``\w+`` word 5-grams, UTF-8) and
use datasketch's own banding for the threshold (``MinHashLSH(threshold=0.7)``); groups
are the connected components of the query results, written as JSON Lines.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import numpy.typing as npt
import orjson
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from clusterer import Article

__all__ = ["WORD", "datasketch_pass", "shingles"]

WORD = re.compile(r"\w+")


def shingles(text: str, size: int = 5) -> set[bytes]:
    """Word ``size``-grams of a lower-cased text, UTF-8 encoded (one gram if shorter)."""
    words = WORD.findall(text.lower())
    if len(words) < size:
        return {" ".join(words).encode()} if words else set()
    return {" ".join(words[i : i + size]).encode() for i in range(len(words) - size + 1)}


def datasketch_pass(
    articles: Iterable[Article],
    out: Path,
    *,
    way: str,
    threshold: float = 0.7,
    num_perm: int = 128,
    seed: int = 1,
) -> tuple[npt.NDArray[np.int64], dict[str, float], npt.NDArray[np.int64]]:
    """Run the near-duplicate pass with datasketch and write ``{"id", "group"}`` lines.

    Parameters
    ----------
    articles : iterable of Article
        The corpus (read through clusterer's readers, as ours is).
    out : Path
        JSONL output.
    way : {"documented", "bulk"}
        Which baseline.
    threshold, num_perm, seed : optional
        LSH threshold and MinHash parameters (ours use the same).

    Returns
    -------
    groups : (n,) int64
        Group label per article.
    timings : dict
        Seconds per stage.
    pairs : (2, m) int64
        The pairs LSH returned (row indices, left < right).
    """
    from datasketch import MinHash, MinHashLSH

    timings: dict[str, float] = {}
    t = time.perf_counter()
    ids: list[str] = []
    sets: list[set[bytes]] = []
    for a in articles:
        ids.append(a.id)
        sets.append(shingles(a.text))
    timings["read_shingle"] = time.perf_counter() - t
    t = time.perf_counter()
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    if way == "documented":
        sigs = []
        for key, s in zip(ids, sets, strict=True):
            m = MinHash(num_perm=num_perm, seed=seed)
            for sh in s:
                m.update(sh)
            lsh.insert(key, m)
            sigs.append(m)
        timings["sign_insert"] = time.perf_counter() - t
    elif way == "bulk":
        sigs = MinHash.bulk(sets, num_perm=num_perm, seed=seed)
        timings["sign"] = time.perf_counter() - t
        t = time.perf_counter()
        with lsh.insertion_session() as session:
            for key, m in zip(ids, sigs, strict=True):
                session.insert(key, m, check_duplication=False)
        timings["insert"] = time.perf_counter() - t
    else:
        raise ValueError(f"unknown way {way!r}")
    del sets
    t = time.perf_counter()
    index = {key: i for i, key in enumerate(ids)}
    left: list[int] = []
    right: list[int] = []
    for i, m in enumerate(sigs):
        for key in lsh.query(m):
            j = index[key]
            if j > i:
                left.append(i)
                right.append(j)
    n = len(ids)
    graph = coo_matrix(
        (np.ones(len(left), np.int8), (np.array(left, np.int64), np.array(right, np.int64))),
        shape=(n, n),
    )
    _, labels = connected_components(graph, directed=False)
    timings["query_group"] = time.perf_counter() - t
    t = time.perf_counter()
    with open(out, "wb") as fh:
        for key, g in zip(ids, labels.tolist(), strict=True):
            fh.write(orjson.dumps({"id": key, "group": g}) + b"\n")
    timings["write"] = time.perf_counter() - t
    pairs = np.array([left, right], np.int64).reshape(2, -1)
    return labels.astype(np.int64), timings, pairs
