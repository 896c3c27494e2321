"""Seeded synthetic news corpus with ground truth, written as JSON Lines at any size.

Usage::

    python -m benchmarks.synth 100000 benchmarks/data/synth-100k.jsonl --seed 7

Model (everything drawn from one ``numpy.random.Generator``, so a seed fixes the file):

* a vocabulary of pronounceable pseudo-words with Zipf frequencies (the head is real
  English function words, so stop-word handling is exercised), person/place names;
* **topics**, each with its own terms and a pool of named entities;
* **stories**: an event inside a topic (event words + a few of the topic's entities).
  Topics hold 1-4 stories, so most stories have **siblings**: same topic, same
  entities, a different event a few days or weeks apart. Story precision is tested
  by them, not by random noise;
* each story is **published 1-10 times** by outlets with their own boilerplate
  (dateline header, footer); later publications are syndication copies with a
  headline rewrite and an edit level: ``none`` (a re-send), ``light`` (word swaps,
  one sentence dropped or added), ``medium`` (several drops/insertions, a paragraph
  moved) or ``heavy`` (rewritten sentences, truncation).

The vocabulary and the name pool are sized for ``POOL_BASE_N`` articles and grow with
larger corpora as Heaps' law has them grow in real news (``benchmarks.heaps`` measures
the exponents on Reuters-21578: 0.46 for distinct words, 0.57 for capitalised tokens).
With fixed pools, each topic term of a million-article corpus would be shared by ten
times as many unrelated topics as at 100k, and cross-topic links would grow faster than
the corpus for a reason real news does not have. Corpora up to ``POOL_BASE_N`` are the
ones generated before the pools grew (generator 1).

Every publication of a story is a copy of its first text, so a story is far tighter
than real coverage of one event (TF-IDF cosine median ~0.97 between copies, ~0.3-0.4
between independent reports in the labelled news sets), while siblings sit at ~0.29,
the level of real same-event pairs. Story precision on this corpus therefore measures
a regime real data does not show; see docs/quality.md (sibling stories).

Each record carries ``id``, ``title``, ``text``, ``date``, ``source``, ``url`` and the
truth: ``cluster`` (story id), ``dup_of`` (id of the story's first publication, which
this record copies) and ``edit`` (the edit level; ``original`` for the first).
Whether a copy is a near-duplicate at a given threshold is decided by exact Jaccard
in the benchmark, not by the edit label.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import orjson

__all__ = ["GENERATOR", "POOL_BASE_N", "SynthConfig", "generate", "main", "write_corpus"]

#: Version of the generator, part of the benchmark corpora's file names: it changes
#: whenever the same size, seed and configuration give another file.
GENERATOR = 2

#: Corpus size the pools of :class:`SynthConfig` are given for; above it they grow.
POOL_BASE_N = 100_000

_FUNCTION_WORDS = tuple(
    (  # noqa: SIM905
        "the of and to a in that is for on it with as was at by he from his an be has "
        "have are but not which they this its had were been their will also said after "
        "who more one would new or than about two up when over into last year first other "
        "some there "
    ).split()
)
_SYLLABLES = tuple(
    (  # noqa: SIM905
        "ba be bi bo bu da de di do du ka ke ki ko ku la le li lo lu ma me mi mo mu na ne "
        "ni no nu ra re ri ro ru sa se si so su ta te ti to tu va ve vi vo an en in on ar "
        "er or al el il ol st tr pr gr kl sh ch th "
    ).split()
)
_EDITS = ("none", "light", "medium", "heavy")
_EDIT_P = (0.15, 0.4, 0.3, 0.15)
_EPOCH = datetime(2020, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class SynthConfig:
    """Shape of the generated corpus.

    Parameters
    ----------
    vocab : int, default 40000
        Pseudo-words in the general vocabulary of a corpus of up to ``POOL_BASE_N``
        articles; ``vocab * (n / POOL_BASE_N) ** vocab_growth`` above it.
    names : int, default 20000
        Person and place names, likewise (``names_growth``).
    vocab_growth, names_growth : float, default 0.46, 0.57
        Heaps' law exponents of the pools above ``POOL_BASE_N`` articles (measured on
        Reuters-21578 by ``benchmarks.heaps``); 0 keeps the pools fixed at any size.
    outlets : int, default 60
        Publishers, each with its own boilerplate.
    words : int, default 520
        Mean body length in words (about 3.5 kB per article).
    max_copies : int, default 10
        Publications per story are uniform in ``1..max_copies``.
    max_siblings : int, default 4
        Stories per topic are uniform in ``1..max_siblings``.
    span_days : int, default 730
        Stories are spread over this many days.
    """

    vocab: int = 40000
    outlets: int = 60
    words: int = 520
    max_copies: int = 10
    max_siblings: int = 4
    span_days: int = 730
    names: int = 20000
    vocab_growth: float = 0.46
    names_growth: float = 0.57

    def pools(self, n: int) -> tuple[int, int]:
        """Vocabulary and name pool sizes for a corpus of ``n`` articles."""
        scale = max(1.0, n / POOL_BASE_N)
        return (
            round(self.vocab * scale**self.vocab_growth),
            round(self.names * scale**self.names_growth),
        )


class _World:
    """Vocabulary, names and outlets shared by all stories of a corpus of ``n`` articles."""

    def __init__(self, rng: np.random.Generator, cfg: SynthConfig, n: int) -> None:
        self.cfg = cfg
        n_vocab, n_names = cfg.pools(n)
        words = set(_FUNCTION_WORDS)
        vocab = list(_FUNCTION_WORDS)
        while len(vocab) < n_vocab:
            w = "".join(rng.choice(_SYLLABLES, int(rng.integers(2, 5))))
            if w not in words:
                words.add(w)
                vocab.append(w)
        self.vocab = vocab
        ranks = np.arange(1, len(vocab) + 1, dtype=np.float64)
        p = 1.0 / ranks**1.05
        self.cum = np.cumsum(p / p.sum())
        names: list[str] = []
        while len(names) < n_names:
            w = "".join(rng.choice(_SYLLABLES, int(rng.integers(2, 4)))).capitalize()
            if w.lower() not in words:
                names.append(w)
        self.names = names
        self.outlets = []
        for o in range(cfg.outlets):
            name = f"{names[o].upper()} {rng.choice(['NEWS', 'POST', 'TIMES', 'WIRE', 'DAILY'])}"
            footer = self.sentences(rng, int(rng.integers(2, 5)), None)
            self.outlets.append((name, " ".join(footer)))

    def common(self, rng: np.random.Generator, k: int) -> list[str]:
        idx = np.searchsorted(self.cum, rng.random(k))
        idx = np.minimum(idx, len(self.vocab) - 1)
        return [self.vocab[i] for i in idx]

    def sentences(
        self, rng: np.random.Generator, k: int, pools: tuple[list[str], list[str], list[str]] | None
    ) -> list[str]:
        """``k`` sentences mixing common words with topic terms, event words and entities."""
        lengths = rng.integers(10, 31, k)
        total = int(lengths.sum())
        words = self.common(rng, total)
        if pools is not None:
            kind = rng.random(total)
            for pool, low, high in zip(pools, (0.0, 0.14, 0.24), (0.14, 0.24, 0.30), strict=False):
                pick = np.flatnonzero((kind >= low) & (kind < high))
                choice = rng.integers(0, len(pool), pick.size)
                for i, c in zip(pick.tolist(), choice.tolist(), strict=False):
                    words[i] = pool[c]
        out = []
        pos = 0
        for n in lengths.tolist():
            s = words[pos : pos + n]
            pos += n
            out.append(s[0].capitalize() + " " + " ".join(s[1:]) + ".")
        return out


def _edit(
    rng: np.random.Generator,
    world: _World,
    paras: list[list[str]],
    level: str,
    pools: tuple[list[str], list[str], list[str]],
) -> list[list[str]]:
    """Apply a syndication edit level to a copy of the paragraphs."""
    paras = [list(p) for p in paras]
    if level == "none":
        return paras
    n_drop, n_ins, n_swap, move, trunc = {
        "light": (1, 1, 2, False, False),
        "medium": (3, 2, 6, True, False),
        "heavy": (6, 4, 14, True, True),
    }[level]
    for _ in range(int(rng.integers(0, n_drop + 1))):
        p = int(rng.integers(0, len(paras)))
        if len(paras[p]) > 1:
            del paras[p][int(rng.integers(0, len(paras[p])))]
    for _ in range(int(rng.integers(0, n_ins + 1))):
        p = int(rng.integers(0, len(paras)))
        paras[p].insert(int(rng.integers(0, len(paras[p]) + 1)), world.sentences(rng, 1, pools)[0])
    for _ in range(int(rng.integers(0, n_swap + 1))):
        p = int(rng.integers(0, len(paras)))
        s = int(rng.integers(0, len(paras[p])))
        words = paras[p][s].split(" ")
        if len(words) > 3:
            i = int(rng.integers(1, len(words) - 1))
            if rng.random() < 0.5:
                words[i], words[i + 1] = words[i + 1], words[i]
            else:
                words[i] = world.common(rng, 1)[0]
            paras[p][s] = " ".join(words)
    if move and len(paras) > 2 and rng.random() < 0.7:
        para = paras.pop(int(rng.integers(1, len(paras))))
        paras.insert(int(rng.integers(1, len(paras) + 1)), para)
    if trunc and rng.random() < 0.6:
        keep = max(1, int(len(paras) * rng.uniform(0.5, 0.85)))
        paras = paras[:keep]
    return paras


def _headline(rng: np.random.Generator, world: _World, title: list[str]) -> str:
    words = list(title)
    r = rng.random()
    if r < 0.3:
        words = words[: max(3, len(words) - int(rng.integers(1, 3)))]
    elif r < 0.6:
        words.insert(0, rng.choice(["UPDATE 1-", "WRAPUP-", "EXCLUSIVE-", "Analysis:"]))
    elif r < 0.8:
        i = int(rng.integers(0, len(words)))
        words[i] = world.common(rng, 1)[0]
    return " ".join(words)


def generate(n: int, seed: int = 0, cfg: SynthConfig | None = None) -> Iterator[dict[str, Any]]:
    """Yield ``n`` article records (with truth fields), in a shuffled-by-story order.

    Parameters
    ----------
    n : int
        Number of articles.
    seed : int, default 0
        Seed of the generator; the same seed gives the same corpus.
    cfg : SynthConfig, optional
        Corpus shape.

    Yields
    ------
    dict
        One record per article.
    """
    cfg = cfg or SynthConfig()
    rng = np.random.default_rng(seed)
    world = _World(rng, cfg, n)
    made = 0
    story = 0
    topic = 0
    while made < n:
        topic += 1
        t_words = [world.vocab[int(i)] for i in rng.integers(300, len(world.vocab), 40)]
        t_ents = [world.names[int(i)] for i in rng.integers(0, len(world.names), 8)]
        t_day = float(rng.uniform(0, cfg.span_days))
        for _ in range(int(rng.integers(1, cfg.max_siblings + 1))):
            if made >= n:
                break
            story += 1
            e_words = [world.vocab[int(i)] for i in rng.integers(1000, len(world.vocab), 15)]
            ents = [t_ents[int(i)] for i in rng.choice(len(t_ents), 4, replace=False)]
            pools = (t_words, e_words, ents)
            day = t_day + float(rng.uniform(0, 30))
            n_sent = max(4, int(rng.normal(cfg.words / 20, cfg.words / 80)))
            body = world.sentences(rng, n_sent, pools)
            cuts = sorted(rng.choice(np.arange(1, n_sent), min(n_sent - 1, n_sent // 4), False))
            paras = [body[a:b] for a, b in zip([0, *cuts], [*cuts, n_sent], strict=False)]
            title = [*ents[:2], *rng.choice(e_words, 3).tolist(), *rng.choice(t_words, 2).tolist()]
            copies = min(int(rng.integers(1, cfg.max_copies + 1)), n - made)
            first_id = ""
            for c in range(copies):
                made += 1
                aid = f"s{seed}-{made:08d}"
                outlet = int(rng.integers(0, cfg.outlets))
                name, footer = world.outlets[outlet]
                if c == 0:
                    first_id, level, text_paras, head = aid, "original", paras, " ".join(title)
                else:
                    level = str(rng.choice(_EDITS, p=_EDIT_P))
                    text_paras = _edit(rng, world, paras, level, pools)
                    head = _headline(rng, world, title)
                when = _EPOCH + timedelta(days=day + (0 if c == 0 else float(rng.exponential(0.7))))
                text = (
                    f"{ents[2].upper()} ({name}) - "
                    + "\n\n".join(" ".join(p) for p in text_paras)
                    + "\n\n"
                    + footer
                )
                yield {
                    "id": aid,
                    "title": head,
                    "text": text,
                    "date": when.isoformat(),
                    "source": name,
                    "url": f"https://{name.split()[0].lower()}.example/{aid}",
                    "cluster": f"story-{seed}-{story}",
                    "dup_of": first_id,
                    "edit": level,
                }


def write_corpus(n: int, path: str | Path, seed: int = 0, cfg: SynthConfig | None = None) -> int:
    """Write ``n`` articles to ``path`` as JSON Lines; return the bytes written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".part")
    size = 0
    with open(tmp, "wb") as fh:
        buf: list[bytes] = []
        for rec in generate(n, seed, cfg):
            buf.append(orjson.dumps(rec))
            if len(buf) >= 2000:
                chunk = b"\n".join(buf) + b"\n"
                fh.write(chunk)
                size += len(chunk)
                buf = []
        if buf:
            chunk = b"\n".join(buf) + b"\n"
            fh.write(chunk)
            size += len(chunk)
    tmp.replace(path)
    return size


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m benchmarks.synth N OUT.jsonl --seed S``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", type=int, help="number of articles")
    parser.add_argument("out", type=Path, help="output JSONL file")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--fixed-pools",
        action="store_true",
        help="keep the vocabulary and name pools at their size for 100k articles "
        "(generator 1 at any size: a denser corpus above 100k)",
    )
    args = parser.parse_args(argv)
    cfg = SynthConfig(vocab_growth=0.0, names_growth=0.0) if args.fixed_pools else None
    t = time.perf_counter()
    size = write_corpus(args.n, args.out, args.seed, cfg)
    print(
        f"wrote {args.n} articles, {size / 1e6:.1f} MB to {args.out} "
        f"in {time.perf_counter() - t:.1f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
