"""Near-duplicate and story quality of one benchmark corpus, from the systems' saved labels.

Exact Jaccard of our shingle sets on every pair within a generated story, a random
sample of pairs and every pair a system put in one group: near-duplicate recall and
precision at the threshold, the LSH S-curve, and story B-cubed / pairwise F1 against
the generator's truth. Re-exported by :mod:`benchmarks.run`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np


def _truth(corpus: Path) -> tuple[list[str], np.ndarray | None]:
    import orjson

    ids: list[str] = []
    gold: list[str] = []
    with open(corpus, "rb") as fh:
        for line in fh:
            if line.strip():
                rec = orjson.loads(line)
                ids.append(str(rec.get("id")))
                label = rec.get("cluster")
                gold.append("" if label is None else str(label))
    if not any(gold):
        return ids, None  # no story truth (e.g. Reuters-21578)
    _, codes = np.unique(np.array(gold, dtype=object).astype(str), return_inverse=True)
    return ids, codes.astype(np.int64)


def _group_pairs(
    labels: np.ndarray, cap: int = 200, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """All pairs within each group (groups above ``cap`` members: a random sample)."""
    rng = np.random.default_rng(seed)
    order = np.argsort(labels, kind="stable")
    sizes = np.bincount(labels)
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    ls, rs = [], []
    small = np.flatnonzero((sizes >= 2) & (sizes <= cap))
    for size in np.unique(sizes[small]):
        groups = small[sizes[small] == size]
        iu, ju = np.triu_indices(int(size), 1)
        base = order[starts[groups][:, None] + np.arange(size)[None, :]]
        ls.append(base[:, iu].ravel())
        rs.append(base[:, ju].ravel())
    for g in np.flatnonzero(sizes > cap):
        members = order[starts[g] : starts[g] + sizes[g]]
        a, b = rng.choice(members, 20000), rng.choice(members, 20000)
        ls.append(a)
        rs.append(b)
    if not ls:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    left, right = np.concatenate(ls), np.concatenate(rs)
    keep = left != right
    return np.minimum(left, right)[keep], np.maximum(left, right)[keep]


def quality(
    corpus: Path, workdir: Path, systems: list[str], sample: int = 300000
) -> dict[str, Any]:
    """Near-duplicate recall/precision against exact Jaccard, S-curves, story scores."""
    from clusterer import ClusterConfig, read_articles
    from clusterer._kernels import jaccard_pairs
    from clusterer.evaluate import score
    from clusterer.signatures import Features, featurize

    config = ClusterConfig(workers=os.cpu_count() or 1)
    ids, gold = _truth(corpus)
    n = len(ids)
    ptrs, vals = [np.zeros(1, np.int64)], []
    titles: list[str] = []
    texts: list[str] = []
    offset = 0

    def flush() -> None:
        nonlocal offset, titles, texts
        f: Features = featurize(titles, texts, config)
        ptrs.append(f.shingle_ptr[1:] + offset)
        offset += int(f.shingle_ptr[-1])
        vals.append(f.shingles)
        titles, texts = [], []

    for art in read_articles([corpus]):
        titles.append(art.title)
        texts.append(art.text)
        if len(texts) >= config.batch_size:
            flush()
    if texts:
        flush()
    ptr, shingles = np.concatenate(ptrs), np.concatenate(vals)
    labels = {s: np.load(workdir / f"{s}.npz") for s in systems}
    rng = np.random.default_rng(1)
    a, b = rng.integers(0, n, sample), rng.integers(0, n, sample)
    parts_l, parts_r = [np.minimum(a, b)[a != b]], [np.maximum(a, b)[a != b]]
    if gold is not None:
        gl, gr = _group_pairs(gold)
        parts_l.append(gl)
        parts_r.append(gr)
    unbiased = (np.concatenate(parts_l), np.concatenate(parts_r))
    for s in systems:
        sl, sr = _group_pairs(labels[s]["dup"])
        parts_l.append(sl)
        parts_r.append(sr)
    code = np.unique(np.concatenate(parts_l) * n + np.concatenate(parts_r))
    left, right = code // n, code % n
    jac = np.asarray(jaccard_pairs(ptr, shingles, left, right))
    true = jac >= config.duplicate_threshold
    ucode = np.unique(unbiased[0] * n + unbiased[1])
    in_unbiased = np.isin(code, ucode)
    bins = np.linspace(0, 1, 21)
    which = np.clip(np.digitize(jac, bins) - 1, 0, 19)
    out: dict[str, Any] = {"pairs_checked": int(code.size), "true_pairs": int(true.sum())}
    for s in systems:
        dup = labels[s]["dup"]
        same = dup[left] == dup[right]
        co = _group_pairs(dup)
        co_code = np.unique(co[0] * n + co[1])
        found_true = int((same & true).sum())
        declared = labels[s]["pairs"] if "pairs" in labels[s] else np.zeros((2, 0), np.int64)
        d_code = np.unique(np.minimum(*declared) * n + np.maximum(*declared))
        d_jac = np.asarray(jaccard_pairs(ptr, shingles, d_code // n, d_code % n))
        q: dict[str, Any] = {
            "dup_recall": found_true / max(int(true.sum()), 1),
            # Declared pairs: our verified links / datasketch's LSH query results.
            "dup_precision": float((d_jac >= config.duplicate_threshold).mean())
            if d_code.size
            else 1.0,
            # Every pair inside one reported group (transitive closure of the links).
            "group_pair_precision": float(np.isin(co_code, code[true]).mean())
            if co_code.size
            else 1.0,
            "dup_groups": int(np.unique(dup).size),
        }
        curve = []
        for k in range(20):
            m = in_unbiased & (which == k)
            curve.append([float(bins[k]), int(m.sum()), float(same[m].mean()) if m.any() else None])
        q["scurve"] = curve
        if gold is not None and "story" in labels[s]:
            sc = score(labels[s]["story"].tolist(), gold.tolist())
            q.update(
                story_bcubed_f1=sc.bcubed_f1,
                story_pairwise_f1=sc.pairwise_f1,
                story_bcubed_p=sc.bcubed_precision,
                story_bcubed_r=sc.bcubed_recall,
            )
        out[s] = q
    return out


# --------------------------------------------------------------------------- the run
