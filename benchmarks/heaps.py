"""Heaps' law on a corpus: how its vocabulary grows with the number of articles.

Usage::

    python -m benchmarks.heaps ../shared/data/reuters21578/reuters21578.jsonl

Counts the distinct words (lower-cased) and the distinct capitalised tokens (a proxy
for names) in the first 1k, 2k, 5k, ... articles of a seeded shuffle of the corpus, and
fits ``V = k * n ** beta`` to each. The synthetic generator grows its pools above 100k
articles with the exponents measured this way (:class:`benchmarks.synth.SynthConfig`).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import numpy as np

from clusterer import read_articles

__all__ = ["heaps", "main"]

_WORD = re.compile(r"[^\W\d_]{2,}")  # runs of two or more letters
_MARKS = (1000, 2000, 5000, 10000, 20000, 50000, 100000, 200000, 500000, 1000000)


def heaps(path: Path, seed: int = 0) -> tuple[list[tuple[int, int, int]], float, float]:
    """Count distinct words and capitalised tokens against articles; fit the exponents.

    Parameters
    ----------
    path : Path
        A corpus the readers take (at least 1,000 articles).
    seed : int, default 0
        Seed of the shuffle of the articles.

    Returns
    -------
    points : list of (int, int, int)
        Articles, distinct words and distinct capitalised tokens at each mark below
        the corpus size, and at the corpus size.
    words_beta, caps_beta : float
        Least-squares slopes of log distinct against log articles.
    """
    texts = [f"{a.title or ''} {a.text}" for a in read_articles([path])]
    if len(texts) < _MARKS[0]:
        raise ValueError(f"{path}: {len(texts)} articles, at least {_MARKS[0]} needed")
    order = np.random.default_rng(seed).permutation(len(texts))
    marks = {m for m in _MARKS if m < len(texts)} | {len(texts)}
    words: set[str] = set()
    caps: set[str] = set()
    points = []
    for k, i in enumerate(order, 1):
        for w in _WORD.findall(texts[i]):
            words.add(w.lower())
            if w[0].isupper():
                caps.add(w)
        if k in marks:
            points.append((k, len(words), len(caps)))
    a = np.log(np.array(points, np.float64))
    words_beta, caps_beta = (float(np.polyfit(a[:, 0], a[:, j], 1)[0]) for j in (1, 2))
    return points, words_beta, caps_beta


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m benchmarks.heaps CORPUS [--seed S]``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--seed", type=int, default=0, help="seed of the shuffle (default 0)")
    args = parser.parse_args(argv)
    try:
        points, words_beta, caps_beta = heaps(args.corpus, args.seed)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print("| articles | distinct words | distinct capitalised tokens |\n|---|---|---|")
    for n, w, c in points:
        print(f"| {n:,} | {w:,} | {c:,} |")
    print(f"\nexponent: words {words_beta:.2f}, capitalised tokens {caps_beta:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
