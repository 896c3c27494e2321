"""MinHash signatures and term counts of a batch of texts.

Signatures follow datasketch 2.x's ``affine32`` scheme exactly: for a 32-bit shingle
hash ``h`` and permutation ``(a, b)`` drawn from ``numpy.random.RandomState(seed)`` as
datasketch draws them, the value is ``a * fmix32(h) + b (mod 2**32)``. A datasketch
``MinHash(num_perm, seed)`` updated with the same shingle hashes therefore holds the
same hash values, and :func:`to_lean_minhash` hands them to datasketch unchanged.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from ._arrays import concat_ptr
from .config import SCHEME, ClusterConfig
from .text import normalize, shingle_hashes, token_hash, tokens

__all__ = [
    "Features",
    "TextBuffer",
    "featurize",
    "kernel_available",
    "permutations",
    "to_lean_minhash",
]

U32 = npt.NDArray[np.uint32]
U16 = npt.NDArray[np.uint16]
I64 = npt.NDArray[np.int64]

# A short stop list; the IDF weighting handles the rest of the common words.
_STOP_WORDS = tuple(
    (  # noqa: SIM905 (a word list reads better as running text)
        "a about above after again against all also am an and any are as at be because been "
        "before being below between both but by can could did do does doing down during each "
        "few for from further had has have having he her here hers herself him himself his "
        "how i if in into is it its itself just me more most my myself no nor not now of off "
        "on once only or other our ours ourselves out over own same she should so some such "
        "than that the their theirs them themselves then there these they this those through "
        "to too under until up very was we were what when where which while who whom why "
        "will with would you your yours yourself yourselves said says say s t "
    ).split()
)


@dataclass
class Features:
    """Per-article arrays computed from text (texts themselves are not kept).

    Parameters
    ----------
    signatures : (n, num_perm) uint32
        MinHash signatures.
    n_tokens : (n,) int64
        Body tokens per article; 0 marks an empty article.
    shingle_ptr : (n + 1,) int64
        Row pointer into ``shingles``.
    shingles : uint32
        Distinct sorted shingle hashes per article (empty when verification is
        estimated, to save memory).
    term_ptr : (n + 1,) int64
        Row pointer into the term arrays.
    term_features : uint32
        Hashed term ids, ascending within each article.
    term_body, term_title : uint16
        Occurrences of each term in body and title.
    timings : dict
        Seconds spent per sub-stage.
    """

    signatures: U32
    n_tokens: I64
    shingle_ptr: I64
    shingles: U32
    term_ptr: I64
    term_features: U32
    term_body: U16
    term_title: U16
    timings: dict[str, float] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.signatures.shape[0])

    def has_terms(self) -> npt.NDArray[np.bool_]:
        """Return which articles have at least one term, in the title or the body.

        Those take part in story linkage; an article with a headline and no body
        can join a story, but only articles with body tokens form near-duplicate
        groups (``n_tokens > 0``).
        """
        return np.diff(self.term_ptr) > 0

    @staticmethod
    def concat(parts: Sequence[Features], num_perm: int, release: bool = False) -> Features:
        """Concatenate batches in order.

        Parameters
        ----------
        parts : sequence of Features
            Batches.
        num_perm : int
            Signature width (for the empty case).
        release : bool, default False
            Empty the batches' arrays as they are joined (bounds peak memory; the
            batches are unusable afterwards).

        Returns
        -------
        Features
            One object covering all articles.
        """
        if len(parts) == 1:
            return parts[0]
        timings: dict[str, float] = {}
        for p in parts:
            for k, v in p.timings.items():
                timings[k] = timings.get(k, 0.0) + v
        if not parts:
            return Features(
                np.zeros((0, num_perm), np.uint32),
                np.zeros(0, np.int64),
                np.zeros(1, np.int64),
                np.zeros(0, np.uint32),
                np.zeros(1, np.int64),
                np.zeros(0, np.uint32),
                np.zeros(0, np.uint16),
                np.zeros(0, np.uint16),
                timings,
            )
        if release:
            # Copy batch by batch into the joined array, dropping each batch's copy as
            # soon as it is copied, so the peak is the total plus one batch's field
            # (not the total plus a whole field, e.g. +2 GB of shingles at 1M).
            joined: dict[str, npt.NDArray[np.generic]] = {}
            for name in _FIELDS:
                if name.endswith("_ptr"):
                    joined[name] = concat_ptr([getattr(p, name) for p in parts])
                else:
                    joined[name] = _concat_release(parts, name)
                for p in parts:
                    setattr(p, name, _EMPTY[name])
            return Features(**joined, timings=timings)  # type: ignore[arg-type]
        return Features(
            np.concatenate([p.signatures for p in parts]),
            np.concatenate([p.n_tokens for p in parts]),
            concat_ptr([p.shingle_ptr for p in parts]),
            np.concatenate([p.shingles for p in parts]),
            concat_ptr([p.term_ptr for p in parts]),
            np.concatenate([p.term_features for p in parts]),
            np.concatenate([p.term_body for p in parts]),
            np.concatenate([p.term_title for p in parts]),
            timings,
        )


_FIELDS = (
    "signatures",
    "n_tokens",
    "shingle_ptr",
    "shingles",
    "term_ptr",
    "term_features",
    "term_body",
    "term_title",
)
_EMPTY = {
    "signatures": np.zeros((0, 0), np.uint32),
    "n_tokens": np.zeros(0, np.int64),
    "shingle_ptr": np.zeros(1, np.int64),
    "shingles": np.zeros(0, np.uint32),
    "term_ptr": np.zeros(1, np.int64),
    "term_features": np.zeros(0, np.uint32),
    "term_body": np.zeros(0, np.uint16),
    "term_title": np.zeros(0, np.uint16),
}


def _concat_release(parts: Sequence[Features], name: str) -> npt.NDArray[np.generic]:
    """Return ``np.concatenate`` of one field of every batch, emptying each as it is copied.

    The same result, with at most one batch's array held beyond the total.
    """
    first: npt.NDArray[np.generic] = getattr(parts[0], name)
    total = sum(int(getattr(p, name).shape[0]) for p in parts)
    out = np.empty((total, *first.shape[1:]), dtype=first.dtype)
    pos = 0
    for p in parts:
        a: npt.NDArray[np.generic] = getattr(p, name)
        out[pos : pos + a.shape[0]] = a
        pos += int(a.shape[0])
        setattr(p, name, _EMPTY[name])
        del a
    return out


def permutations(num_perm: int, seed: int) -> tuple[U32, U32]:
    """Draw the ``affine32`` permutation parameters exactly as datasketch 2.x does.

    Parameters
    ----------
    num_perm : int
        Number of permutations.
    seed : int
        Random seed.

    Returns
    -------
    a, b : uint32 arrays
        Odd multipliers and offsets.
    """
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return np.asarray(a, dtype=np.uint32), np.asarray(b, dtype=np.uint32)


@lru_cache(maxsize=8)
def stop_mask(n_features: int) -> npt.NDArray[np.bool_]:
    """Boolean mask of hashed features that are stop words or single ASCII characters."""
    mask = np.zeros(n_features, dtype=np.bool_)
    words = [*_STOP_WORDS, *"abcdefghijklmnopqrstuvwxyz0123456789"]
    for w in words:
        mask[(token_hash(w) & 0xFFFFFFFF) % n_features] = True
    return mask


@lru_cache(maxsize=1)
def kernel_available() -> bool:
    """Return whether the compiled (numba) kernel can be used."""
    try:
        from . import _kernels  # noqa: F401
    except ImportError:
        return False
    return True


def _use_kernel(config: ClusterConfig) -> bool:
    if config.kernel == "numpy":
        return False
    if config.kernel == "numba" and not kernel_available():
        from .errors import MissingExtraError

        raise MissingExtraError("numba", "numba")
    return kernel_available()


class TextBuffer:
    """A byte buffer kept from batch to batch to pack the texts handed to the kernels.

    Packing a batch into fresh memory costs more in page faults than in copying (the
    allocator is set to map large blocks afresh, see
    :func:`~clusterer._arrays.bound_heap_growth`); a buffer that is reused, grown
    only when a batch needs more, avoids them. It serves one batch at a time: what
    :meth:`pack` returned is overwritten by the next call.

    Examples
    --------
    >>> buf, offsets = TextBuffer().pack(["ab", "", "café"])
    >>> len(buf), offsets.tolist()
    (7, [0, 2, 2, 7])
    """

    #: Texts joined and encoded at a time (small pieces: the allocator's reused heap).
    STEP = 32

    def __init__(self) -> None:
        self._buf = np.zeros(1, np.uint8)

    def pack(self, texts: Sequence[str]) -> tuple[npt.NDArray[np.uint8], I64]:
        """Return the texts as one UTF-8 buffer and their byte offsets.

        Parameters
        ----------
        texts : sequence of str
            The batch. Unencodable code points (lone surrogates) become ``?``.

        Returns
        -------
        buf : uint8 array
            The encoded texts one after the other (at least one byte long); a view
            of this buffer, valid until the next call.
        offsets : (len(texts) + 1,) int64
            Where each text starts, and the end.
        """
        offsets = _byte_offsets(texts)
        total = int(offsets[-1])
        if total > self._buf.size:
            self._buf = np.empty(max(total, self._buf.size * 5 // 4), np.uint8)
        buf = self._buf
        at, step = 0, self.STEP
        for i in range(0, len(texts), step):
            piece = "".join(texts[i : i + step]).encode("utf-8", "replace")
            buf[at : at + len(piece)] = np.frombuffer(piece, np.uint8)
            at += len(piece)
        if total == 0:
            return np.zeros(1, np.uint8), offsets
        return buf[:total], offsets


def _byte_offsets(texts: Sequence[str]) -> I64:
    """UTF-8 offsets of texts laid end to end (an ASCII text's length is its size)."""
    if all(map(str.isascii, texts)):
        lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    else:
        lengths = np.fromiter(
            (len(t) if t.isascii() else len(t.encode("utf-8", "replace")) for t in texts),
            dtype=np.int64,
            count=len(texts),
        )
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return offsets


def featurize(
    titles: Sequence[str],
    texts: Sequence[str],
    config: ClusterConfig,
    *,
    terms: bool = True,
    buffer: TextBuffer | None = None,
) -> Features:
    """Compute signatures, shingles and term counts for one batch.

    Parameters
    ----------
    titles : sequence of str
        Headlines (used for the title-weighted terms only).
    texts : sequence of str
        Bodies (shingled and signed).
    config : ClusterConfig
        ``shingle_size``, ``num_perm``, ``seed``, ``n_features``, ``kernel``,
        ``workers`` and ``verify`` are used.
    terms : bool, default True
        Count terms (for TF-IDF). Without them (the duplicates-only pass) titles are
        not tokenised and the term arrays are empty.
    buffer : TextBuffer, optional
        Pack the texts here (a caller featurising batch after batch passes the same
        one each time); by default into fresh memory.

    Returns
    -------
    Features
        Arrays for the batch, rows in input order.
    """
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    if _use_kernel(config):
        # For ASCII, NFKC and zero-width removal are no-ops, whitespace only separates
        # tokens and the kernel folds A-Z itself: the same hashes without normalize().
        norm_texts = [t if t.isascii() else normalize(t) for t in texts]
        norm_titles = [t if t.isascii() else normalize(t) for t in titles] if terms else []
        timings["normalise"] = time.perf_counter() - t0
        feats = _featurize_kernel(norm_titles, norm_texts, config, timings, terms, buffer)
    else:
        norm_texts = [normalize(t) for t in texts]
        norm_titles = [normalize(t) for t in titles]
        timings["normalise"] = time.perf_counter() - t0
        feats = _featurize_reference(norm_titles, norm_texts, config, timings)
    if config.verify == "estimate":
        feats.shingles = np.zeros(0, np.uint32)
        feats.shingle_ptr = np.zeros(len(texts) + 1, np.int64)
    return feats


def _featurize_kernel(
    titles: list[str],
    texts: list[str],
    config: ClusterConfig,
    timings: dict[str, float],
    terms: bool = True,
    buffer: TextBuffer | None = None,
) -> Features:
    import numba

    from . import _kernels as k
    from . import _sign_kernels as sk

    numba.set_num_threads(min(config.threads, numba.config.NUMBA_NUM_THREADS))  # type: ignore[attr-defined]
    a, b = permutations(config.num_perm, config.seed)
    t0 = time.perf_counter()
    buf, offsets = (TextBuffer() if buffer is None else buffer).pack(texts)
    if not terms:
        # Nothing needs the token hashes afterwards: one pass per text, bytes to signature.
        t1 = time.perf_counter()
        sigs, n_tokens, shingle_ptr, shingles = sk.sign_texts(
            buf, offsets, config.shingle_size, a, b
        )
        timings["tokenise"] = t1 - t0
        timings["shingle_sign"] = time.perf_counter() - t1
        empty = np.zeros(len(texts) + 1, np.int64)
        none32, none16 = np.zeros(0, np.uint32), np.zeros(0, np.uint16)
        return Features(
            sigs, n_tokens, shingle_ptr, shingles, empty, none32, none16, none16, timings
        )
    body_ptr = np.zeros(len(texts) + 1, np.int64)
    np.cumsum(k.count_tokens(buf, offsets), out=body_ptr[1:])
    body = k.fill_tokens(buf, offsets, body_ptr)
    tbuf, toffsets = TextBuffer().pack(titles)
    title_ptr = np.zeros(len(titles) + 1, np.int64)
    np.cumsum(k.count_tokens(tbuf, toffsets), out=title_ptr[1:])
    title = k.fill_tokens(tbuf, toffsets, title_ptr)
    t1 = time.perf_counter()
    sigs, counts, raw = sk.shingle_and_sign(body_ptr, body, config.shingle_size, a, b)
    t2 = time.perf_counter()
    term_ptr, tf, tb, tt = k.term_counts(
        body_ptr, body, title_ptr, title, config.n_features, stop_mask(config.n_features)
    )
    t3 = time.perf_counter()
    n_tokens = np.diff(body_ptr)
    bounds = np.maximum(n_tokens - config.shingle_size + 1, np.minimum(n_tokens, 1))
    starts = np.concatenate(([0], np.cumsum(bounds)[:-1])).astype(np.int64)
    shingle_ptr = np.zeros(len(texts) + 1, np.int64)
    np.cumsum(counts, out=shingle_ptr[1:])
    take = np.repeat(starts - shingle_ptr[:-1], counts) + np.arange(shingle_ptr[-1])
    shingles = raw[take]
    timings["tokenise"] = t1 - t0
    timings["shingle_sign"] = t2 - t1
    timings["terms"] = t3 - t2
    return Features(sigs, n_tokens, shingle_ptr, shingles, term_ptr, tf, tb, tt, timings)


def _fmix32(h: U32) -> U32:
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    out: U32 = h ^ (h >> np.uint32(16))
    return out


def _featurize_reference(
    titles: list[str], texts: list[str], config: ClusterConfig, timings: dict[str, float]
) -> Features:
    """Pure Python/NumPy path: slow, independent of numba, used to check the kernel."""
    a, b = permutations(config.num_perm, config.seed)
    stop = stop_mask(config.n_features)
    n = len(texts)
    sigs = np.full((n, config.num_perm), 0xFFFFFFFF, dtype=np.uint32)
    n_tokens = np.zeros(n, np.int64)
    sh_rows: list[U32] = []
    feat_rows: list[tuple[U32, U16, U16]] = []
    t0 = time.perf_counter()
    for i, (title, text) in enumerate(zip(titles, texts, strict=True)):
        body_hashes = [token_hash(t) for t in tokens(text)]
        title_hashes = [token_hash(t) for t in tokens(title)]
        n_tokens[i] = len(body_hashes)
        sh = np.unique(np.array(shingle_hashes(body_hashes, config.shingle_size), np.uint32))
        sh_rows.append(sh)
        if sh.size:
            x = _fmix32(sh)
            sigs[i] = (a[:, None] * x[None, :] + b[:, None]).min(axis=1)
        feat_rows.append(_reference_terms(body_hashes, title_hashes, config.n_features, stop))
    timings["shingle_sign"] = time.perf_counter() - t0
    counts = np.array([r.size for r in sh_rows], np.int64)
    shingle_ptr = np.zeros(n + 1, np.int64)
    np.cumsum(counts, out=shingle_ptr[1:])
    term_ptr = np.zeros(n + 1, np.int64)
    np.cumsum([r[0].size for r in feat_rows], out=term_ptr[1:])

    def cat(rows: Sequence[npt.NDArray[np.generic]], dtype: type) -> npt.NDArray[np.generic]:
        return np.concatenate(rows).astype(dtype) if rows else np.zeros(0, dtype)

    return Features(
        sigs,
        n_tokens,
        shingle_ptr,
        cat(sh_rows, np.uint32),  # type: ignore[arg-type]
        term_ptr,
        cat([r[0] for r in feat_rows], np.uint32),  # type: ignore[arg-type]
        cat([r[1] for r in feat_rows], np.uint16),  # type: ignore[arg-type]
        cat([r[2] for r in feat_rows], np.uint16),  # type: ignore[arg-type]
        timings,
    )


def _reference_terms(
    body: list[int], title: list[int], n_features: int, stop: npt.NDArray[np.bool_]
) -> tuple[U32, U16, U16]:
    counts: dict[int, list[int]] = {}
    for field_no, hashes in ((0, body), (1, title)):
        for h in hashes:
            f = (h & 0xFFFFFFFF) % n_features
            if stop[f]:
                continue
            counts.setdefault(f, [0, 0])[field_no] += 1
    keys = sorted(counts)
    return (
        np.array(keys, np.uint32),
        np.array([min(counts[k][0], 65535) for k in keys], np.uint16),
        np.array([min(counts[k][1], 65535) for k in keys], np.uint16),
    )


def to_lean_minhash(signatures: U32, seed: int) -> Iterator[object]:
    """Export signatures as datasketch ``LeanMinHash`` objects.

    Parameters
    ----------
    signatures : (n, num_perm) uint32
        Signatures from :func:`featurize` (or ``StoryClusterer.signatures_``).
    seed : int
        The seed they were made with.

    Yields
    ------
    datasketch.LeanMinHash
        One per row, with ``scheme="affine32"``; usable in ``datasketch.MinHashLSH``.
    """
    from datasketch import LeanMinHash

    for row in signatures:
        yield LeanMinHash(seed=seed, hashvalues=row, scheme=SCHEME)
