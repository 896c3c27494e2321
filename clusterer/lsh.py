"""LSH banding: choose (bands, rows) for recall, hash bands, and list colliding pairs.

A pair with Jaccard ``s`` collides in at least one of ``b`` bands of ``r`` rows with
probability ``1 - (1 - s**r)**b``. datasketch's ``MinHashLSH`` picks ``(b, r)`` by
weighing false positives against false negatives, which at threshold 0.7 and 128
permutations misses a large share of the true pairs; here every candidate is verified
afterwards, so the banding is chosen for *recall* at the threshold and the extra
candidates are the price paid for it.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ._arrays import ranges, unique_pairs

__all__ = ["Banding", "band_keys", "candidate_pairs", "choose_banding", "collision_probability"]

I64 = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]


@dataclass(frozen=True)
class Banding:
    """A banding of MinHash signatures.

    Parameters
    ----------
    bands : int
        Number of bands.
    rows : int
        Signature values per band.
    """

    bands: int
    rows: int

    def probability(self, jaccard: float) -> float:
        """Return the probability that a pair with this Jaccard similarity collides."""
        return collision_probability(jaccard, self.bands, self.rows)


def collision_probability(jaccard: float, bands: int, rows: int) -> float:
    """Probability that two signatures share at least one band.

    Parameters
    ----------
    jaccard : float
        Jaccard similarity of the underlying sets.
    bands, rows : int
        The banding.

    Returns
    -------
    float
        ``1 - (1 - jaccard**rows)**bands``.
    """
    return float(1.0 - (1.0 - jaccard**rows) ** bands)


def choose_banding(threshold: float, num_perm: int, recall: float) -> Banding:
    """Pick the banding with the fewest expected false candidates at a recall floor.

    Among all ``(b, r)`` with ``b * r <= num_perm`` whose collision probability at
    ``threshold`` is at least ``recall``, choose the one with the smallest area under
    the collision curve below the threshold (expected false candidates for uniformly
    spread similarities). If none reaches the floor, the one with the highest
    probability at the threshold is returned.

    Parameters
    ----------
    threshold : float
        Jaccard threshold of near-duplicates.
    num_perm : int
        Signature length.
    recall : float
        Required collision probability at the threshold.

    Returns
    -------
    Banding
        The chosen banding.
    """
    grid = np.linspace(0.0, threshold, 201)
    best: tuple[float, int, int] | None = None
    fallback: tuple[float, int, int] = (-1.0, 1, 1)
    for rows in range(1, num_perm + 1):
        bands = num_perm // rows
        if bands < 1:
            break
        p_at = collision_probability(threshold, bands, rows)
        if p_at > fallback[0]:
            fallback = (p_at, bands, rows)
        if p_at < recall:
            continue
        curve = 1.0 - (1.0 - grid**rows) ** bands
        area = float(np.sum((curve[1:] + curve[:-1]) * 0.5 * np.diff(grid)))
        if best is None or area < best[0]:
            best = (area, bands, rows)
    if best is None:
        return Banding(fallback[1], fallback[2])
    return Banding(best[1], best[2])


def band_keys(
    signatures: npt.NDArray[np.uint32], banding: Banding, *, by_band: bool = False
) -> U64:
    """Hash each band of each signature to a 64-bit key.

    Parameters
    ----------
    signatures : (n, num_perm) uint32
        MinHash signatures.
    banding : Banding
        Bands and rows.
    by_band : bool, default False
        Lay the keys out band after band in memory (the result is then the transpose of
        a C-contiguous ``(bands, n)`` array), which :func:`candidate_pairs` reads one
        band at a time without striding over the others. The values are the same.

    Returns
    -------
    (n, bands) uint64
        Band keys; equal keys mean (up to 64-bit hash collisions) equal bands. The band
        number is mixed in, so keys of different bands never coincide by construction.
    """
    n = signatures.shape[0]
    if n and _kernel_available():
        from . import _kernels

        out: U64 = _kernels.band_keys(
            np.ascontiguousarray(signatures, dtype=np.uint32),
            banding.bands,
            banding.rows,
            by_band,
        )
        return out.T if by_band else out
    return _band_keys_numpy(signatures, banding, by_band)


def _band_keys_numpy(signatures: npt.NDArray[np.uint32], banding: Banding, by_band: bool) -> U64:
    """:func:`band_keys` in NumPy (the reference the kernel is tested against)."""
    n = signatures.shape[0]
    keys = (
        np.empty((banding.bands, n), np.uint64).T
        if by_band
        else np.empty((n, banding.bands), np.uint64)
    )
    with np.errstate(over="ignore"):
        for band in range(banding.bands):
            h = np.full(n, np.uint64(0x9E3779B97F4A7C15) * np.uint64(band + 1), dtype=np.uint64)
            for col in range(band * banding.rows, (band + 1) * banding.rows):
                h ^= signatures[:, col].astype(np.uint64)
                h *= np.uint64(0xFF51AFD7ED558CCD)
                h ^= h >> np.uint64(29)
            keys[:, band] = h
    return keys


def _kernel_available() -> bool:
    from .signatures import kernel_available

    return kernel_available()


#: Fewest partners per member in an oversized bucket (see :func:`candidate_pairs`).
MIN_WINDOW = 16


def _window(sizes: I64, max_bucket: int) -> I64:
    """Partners per member in buckets of ``sizes`` members, all larger than ``max_bucket``."""
    return np.clip((max_bucket * max_bucket) // sizes, min(MIN_WINDOW, max_bucket), max_bucket)


def candidate_pairs(
    keys: U64, eligible: npt.NDArray[np.bool_], max_bucket: int = 256
) -> tuple[I64, I64, int]:
    """List the pairs of rows that share a band key.

    Parameters
    ----------
    keys : (n, bands) uint64
        Output of :func:`band_keys`.
    eligible : (n,) bool
        Rows that take part (empty texts and collapsed exact copies do not).
    max_bucket : int, default 256
        A bucket of ``m > max_bucket + 1`` members is not listed as all its pairs: its
        members, in row order, are each paired with the next ``w`` members, where
        ``w = max(16, max_bucket**2 // m)`` (at most ``max_bucket``). A bucket then yields
        at most about ``max(max_bucket**2, 16 m)`` pairs, so thousands of near-identical
        texts (boilerplate pages, one wire resent all day) cost linear time and memory,
        while the overlapping windows still chain every member of such a bucket
        together. The window depends only on the bucket, so the result does not depend
        on how the rows are partitioned.

    Returns
    -------
    left, right : int64 arrays
        Distinct pairs with ``left < right``.
    truncated : int
        Number of buckets that were larger than ``max_bucket``.
    """
    rows = np.flatnonzero(eligible).astype(np.int64)
    if rows.size < 2:
        empty = np.zeros(0, np.int64)
        return empty, empty, 0
    if _kernel_available():
        return _candidate_pairs_kernel(keys, rows, max_bucket)
    return _candidate_pairs_numpy(keys, rows, max_bucket)


def _candidate_pairs_kernel(keys: U64, rows: I64, max_bucket: int) -> tuple[I64, I64, int]:
    """:func:`candidate_pairs` by the compiled kernels: linear-time grouping and de-dup."""
    from . import _lsh_kernels

    n = int(keys.shape[0])
    # Band-major (no copy when the keys were made ``by_band``): a band is read in order.
    by_band = np.ascontiguousarray(keys.T, dtype=np.uint64)

    bands = by_band.shape[0]
    # The kernel releases the GIL: each thread numba may use lists a run of consecutive
    # bands (allocating its buffers once), and the runs' codes are joined in band order.
    threads = max(min(_threads(), bands), 1)
    cuts = [bands * t // threads for t in range(threads + 1)]

    def run(t: int) -> tuple[I64, int]:
        codes, truncated = _lsh_kernels.band_pair_codes(
            by_band, cuts[t], cuts[t + 1], rows, n, max_bucket
        )
        return codes, int(truncated)

    if threads > 1:
        with ThreadPoolExecutor(threads) as pool:
            per_run = list(pool.map(run, range(threads)))
    else:
        per_run = [run(0)]
    truncated = sum(t for _, t in per_run)
    joined = np.concatenate([c for c, _ in per_run])
    del per_run
    # The joined codes are the sort's second buffer: no fresh copy of them is faulted in.
    code: I64 = _lsh_kernels.sorted_unique(joined, n * n, True)
    del joined
    return code // n, code % n, truncated


def _threads() -> int:
    """Threads the compiled kernels may use (``ClusterConfig.workers`` sets them)."""
    import numba

    return int(numba.get_num_threads())


def _candidate_pairs_numpy(keys: U64, rows: I64, max_bucket: int) -> tuple[I64, I64, int]:
    """:func:`candidate_pairs` in NumPy (the reference the kernel path is tested against)."""
    lefts: list[I64] = []
    rights: list[I64] = []
    truncated = 0
    for band in range(keys.shape[1]):
        k = keys[rows, band]
        # An unstable sort is faster; member order only matters in buckets too large
        # to list every pair, which are put back in row order (what a stable sort of
        # the ascending rows gives) below.
        order = np.argsort(k)
        sk = k[order]
        members = rows[order]
        change = np.flatnonzero(sk[1:] != sk[:-1]) + 1
        starts = np.concatenate(([0], change))
        ends = np.concatenate((change, [sk.size]))
        lengths = ends - starts
        multi = lengths >= 2
        if not multi.any():
            continue
        s, e = starts[multi], ends[multi]
        big = e - s > max_bucket + 1
        for a, b in zip(s[big].tolist(), e[big].tolist(), strict=True):
            members[a:b].sort()
        truncated += int(np.count_nonzero((e - s) > max_bucket))
        # For member at sorted position p of a bucket ending at e: partners p+1 .. min(e, p+1+w).
        pos = ranges(s, e - s - 1)
        bucket_end = np.repeat(e, e - s - 1)
        window = np.where(big, _window(e - s, max_bucket), max_bucket)
        count = np.minimum(bucket_end - pos - 1, np.repeat(window, e - s - 1))
        first = np.repeat(pos + 1, count)
        offset = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
        a_idx = members[np.repeat(pos, count)]
        b_idx = members[first + offset]
        lefts.append(np.minimum(a_idx, b_idx))
        rights.append(np.maximum(a_idx, b_idx))
    if not lefts:
        empty = np.zeros(0, np.int64)
        return empty, empty, truncated
    left = np.concatenate(lefts)
    right = np.concatenate(rights)
    left, right = unique_pairs(left, right, int(keys.shape[0]))
    return left, right, truncated
