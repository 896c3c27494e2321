"""Compiled (numba) kernels that turn token hashes into shingles and MinHash signatures.

Two entry points share the per-text work of :func:`sign_row`:

* :func:`shingle_and_sign` signs token hashes already laid out by
  :func:`clusterer._kernels.fill_tokens` (the full pipeline, which also counts terms);
* :func:`sign_texts` goes from UTF-8 bytes to signatures in one pass per text, with
  each text's tokens in a small scratch array (the duplicates-only pass, which needs
  no token array afterwards).

Both give exactly what the NumPy reference of :mod:`clusterer.signatures` gives. All
kernels release the GIL, so a batch can be signed while Python reads the next one.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit, prange, uint32, uint64

from ._kernels import _fmix32, _mix64, _scan, radix_sort

__all__ = ["radix_sort", "shingle_and_sign", "sign_row", "sign_texts"]

U8 = npt.NDArray[np.uint8]
I64 = npt.NDArray[np.int64]
U32 = npt.NDArray[np.uint32]
U64 = npt.NDArray[np.uint64]

_SHINGLE_SEED = uint64(0x9E3779B97F4A7C15)
_NONE = uint32(0xFFFFFFFF)


@njit(nogil=True, cache=True)
def sign_row(
    toks: U64,
    nt: int,
    shingle_size: int,
    block: U32,
    work: U32,
    count: I64,
    perm_a: U32,
    perm_b: U32,
    sig: U32,
) -> int:
    """Shingle, dedupe and MinHash-sign one text's token hashes ``toks[:nt]`` (``nt > 0``).

    Parameters
    ----------
    toks : uint64 array
        Token hashes of the text.
    nt : int
        Number of tokens.
    shingle_size : int
        Tokens per shingle (shorter texts make one shingle of all their tokens).
    block : uint32 array
        Receives the distinct shingle hashes, sorted, at its start; holds at least
        ``nt - min(shingle_size, nt) + 1`` values.
    work : uint32 array
        Scratch of the same size; ``count`` is int64 scratch of 256.
    perm_a, perm_b : uint32 arrays
        The ``affine32`` permutations.
    sig : uint32 array
        The signature, all ``2**32 - 1`` on entry; takes the minima.

    Returns
    -------
    int
        Number of distinct shingles.
    """
    width = min(shingle_size, nt)
    m = nt - width + 1
    for s in range(m):
        h = _SHINGLE_SEED
        for j in range(width):
            h = _mix64(h ^ toks[s + j])
        block[s] = uint32(h >> uint64(32))
    radix_sort(block[:m], work, count)
    u = 1
    for s in range(1, m):
        if block[s] != block[u - 1]:
            block[u] = block[s]
            u += 1
    mixed = work[:u]
    for s in range(u):
        mixed[s] = _fmix32(block[s])
    # One permutation at a time over all shingles: a branch-free min reduction in
    # 32-bit lanes, which the compiler vectorises.
    for p in range(perm_a.shape[0]):
        a = perm_a[p]
        b = perm_b[p]
        low = sig[p]
        for s in range(u):
            low = min(low, uint32(a * mixed[s] + b))
        sig[p] = low
    return u


@njit(parallel=True, nogil=True, cache=True)
def shingle_and_sign(
    tok_ptr: I64, toks: U64, shingle_size: int, perm_a: U32, perm_b: U32
) -> tuple[U32, I64, U32]:
    """Hash shingles, keep each text's distinct ones sorted, and MinHash-sign them.

    Returns
    -------
    signatures : (n, num_perm) uint32
        datasketch ``affine32`` values; all ``2**32 - 1`` for a text without tokens.
    counts : (n,) int64
        Distinct shingles per text.
    shingles : uint32
        Distinct sorted shingle hashes of text i at ``[bound[i], bound[i] + counts[i])``
        where ``bound`` is the prefix sum of ``max(tokens - size + 1, min(tokens, 1))``.
    """
    n = tok_ptr.shape[0] - 1
    bounds = np.zeros(n + 1, dtype=np.int64)
    for i in range(n):
        nt = tok_ptr[i + 1] - tok_ptr[i]
        m = nt - shingle_size + 1 if nt >= shingle_size else min(nt, 1)
        bounds[i + 1] = bounds[i] + m
    shingles = np.empty(bounds[n], dtype=np.uint32)
    counts = np.zeros(n, dtype=np.int64)
    sigs = np.full((n, perm_a.shape[0]), _NONE, dtype=np.uint32)
    for i in prange(n):
        nt = tok_ptr[i + 1] - tok_ptr[i]
        if nt == 0:
            continue
        block = shingles[bounds[i] : bounds[i + 1]]
        work = np.empty(block.shape[0], dtype=np.uint32)
        count = np.empty(256, dtype=np.int64)
        counts[i] = sign_row(
            toks[tok_ptr[i] :], nt, shingle_size, block, work, count, perm_a, perm_b, sigs[i]
        )
    return sigs, counts, shingles


#: Texts per task of :func:`sign_texts`: they share scratch arrays and write their
#: shingles side by side, so the memory touched is about what is kept.
_TEXTS_PER_TASK = 256


@njit(parallel=True, nogil=True, cache=True)
def sign_texts(
    buf: U8, offsets: I64, shingle_size: int, perm_a: U32, perm_b: U32
) -> tuple[U32, I64, I64, U32]:
    """Tokenise, shingle and sign texts ``buf[offsets[i]:offsets[i + 1]]`` in one pass each.

    The same values as :func:`clusterer._kernels.count_tokens`, ``fill_tokens`` and
    :func:`shingle_and_sign` in turn, without a token array for the whole batch.

    Returns
    -------
    signatures : (n, num_perm) uint32
        As :func:`shingle_and_sign`.
    n_tokens : (n,) int64
        Tokens per text.
    shingle_ptr : (n + 1,) int64
        Row pointer into ``shingles``.
    shingles : uint32
        Distinct sorted shingle hashes per text.
    """
    n = offsets.shape[0] - 1
    step = _TEXTS_PER_TASK
    tasks = (n + step - 1) // step
    # A token takes at least one byte and is followed by a separator byte unless it
    # ends the text or is a CJK/Thai character (three bytes): (bytes + 1) // 2 bounds
    # the tokens, hence the shingles, of each text, and (bytes + texts) // 2 + texts
    # those of a task's texts.
    room = np.zeros(tasks + 1, dtype=np.int64)
    for t in range(tasks):
        first, last = t * step, min(n, (t + 1) * step)
        room[t + 1] = room[t] + (offsets[last] - offsets[first] + step) // 2 + step
    spread = np.empty(room[tasks], dtype=np.uint32)
    n_tokens = np.zeros(n, dtype=np.int64)
    counts = np.zeros(n, dtype=np.int64)
    sigs = np.full((n, perm_a.shape[0]), _NONE, dtype=np.uint32)
    for t in prange(tasks):
        first, last = t * step, min(n, (t + 1) * step)
        size = 1
        for i in range(first, last):
            size = max(size, (offsets[i + 1] - offsets[i] + 1) // 2)
        toks = np.empty(size, dtype=np.uint64)
        work = np.empty(size, dtype=np.uint32)
        count = np.empty(256, dtype=np.int64)
        # Each text's distinct shingles follow the previous text's: at most its token
        # count is written, and the tokens of the task's texts fit in its room.
        at = room[t]
        for i in range(first, last):
            nt = _scan(buf, offsets[i], offsets[i + 1], toks, 0, True)
            n_tokens[i] = nt
            if nt == 0:
                continue
            block = spread[at : at + nt]
            counts[i] = sign_row(
                toks, nt, shingle_size, block, work, count, perm_a, perm_b, sigs[i]
            )
            at += counts[i]
    ptr = np.zeros(n + 1, dtype=np.int64)
    for i in range(n):
        ptr[i + 1] = ptr[i] + counts[i]
    shingles = np.empty(ptr[n], dtype=np.uint32)
    for t in prange(tasks):
        first, last = t * step, min(n, (t + 1) * step)
        shingles[ptr[first] : ptr[last]] = spread[room[t] : room[t] + ptr[last] - ptr[first]]
    return sigs, n_tokens, ptr, shingles
