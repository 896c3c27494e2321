import numba
import numpy as np
import pytest

from clusterer._lsh_kernels import band_pair_codes, sorted_unique
from clusterer.lsh import (
    Banding,
    _band_keys_numpy,
    _candidate_pairs_kernel,
    _candidate_pairs_numpy,
    band_keys,
    candidate_pairs,
    choose_banding,
    collision_probability,
)
from clusterer.signatures import _fmix32, permutations


def _sign(sets: list[np.ndarray], num_perm: int = 128, seed: int = 1) -> np.ndarray:
    a, b = permutations(num_perm, seed)
    out = np.empty((len(sets), num_perm), np.uint32)
    for i, s in enumerate(sets):
        x = _fmix32(s.astype(np.uint32))
        out[i] = (a[:, None] * x[None, :] + b[:, None]).min(axis=1)
    return out


def _pair_with_jaccard(
    rng: np.random.Generator, jaccard: float, size: int = 200
) -> list[np.ndarray]:
    # |A and B| / |A or B| = common / (common + 2 * only)
    common = round(size * 2 * jaccard / (1 + jaccard))
    only = size - common
    values = rng.choice(2**32, size=common + 2 * only, replace=False).astype(np.uint64)
    return [values[: common + only], np.concatenate((values[:common], values[common + only :]))]


def test_choose_banding_reaches_recall_floor() -> None:
    banding = choose_banding(0.7, 128, 0.995)
    assert banding.bands * banding.rows <= 128
    assert banding.probability(0.7) >= 0.995
    # datasketch-style balanced banding misses many pairs at the threshold; ours does not
    assert collision_probability(0.7, 16, 8) < 0.7 < banding.probability(0.7)


def test_band_keys_equal_iff_bands_equal() -> None:
    sig = np.array([[1, 2, 3, 4], [1, 2, 9, 9], [5, 2, 3, 4]], np.uint32)
    keys = band_keys(sig, Banding(2, 2))
    assert keys[0, 0] == keys[1, 0]
    assert keys[0, 1] != keys[1, 1]
    assert keys[0, 1] == keys[2, 1]
    assert keys[0, 0] != keys[0, 1]  # band number is mixed in


@pytest.mark.parametrize("by_band", [False, True])
def test_band_keys_kernel_and_layouts_give_the_numpy_values(by_band: bool) -> None:
    rng = np.random.default_rng(3)
    sig = rng.integers(0, 2**32, (500, 128)).astype(np.uint32)
    banding = Banding(32, 4)
    want = _band_keys_numpy(sig, banding, by_band=False)
    got = band_keys(sig, banding, by_band=by_band)
    assert got.shape == want.shape == (500, 32)
    assert np.array_equal(got, want)
    assert np.array_equal(_band_keys_numpy(sig, banding, by_band=True), want)
    # band-major: one band's keys are contiguous
    assert got.T.flags.c_contiguous == by_band


@pytest.mark.parametrize("bound", [1, 2, 200, 2**20, 10**12])
@pytest.mark.parametrize("size", [0, 1, 5000])
def test_sorted_unique_is_np_unique(bound: int, size: int) -> None:
    rng = np.random.default_rng(size)
    codes = rng.integers(0, bound, size).astype(np.int64)
    codes = np.concatenate((codes, codes[: size // 3]))  # repeats
    assert np.array_equal(sorted_unique(codes, bound), np.unique(codes))


def test_candidate_pairs_distinct_and_eligible_only() -> None:
    keys = np.array([[7, 1], [7, 2], [7, 1], [8, 1]], np.uint64)
    left, right, truncated = candidate_pairs(keys, np.array([True, True, True, False]))
    assert list(zip(left.tolist(), right.tolist(), strict=True)) == [(0, 1), (0, 2), (1, 2)]
    assert truncated == 0


def test_oversized_bucket_is_bounded_and_counted() -> None:
    keys = np.zeros((1000, 1), np.uint64)
    left, _, truncated = candidate_pairs(keys, np.ones(1000, bool), max_bucket=10)
    assert truncated == 1
    assert left.size <= 1000 * 10


def test_huge_bucket_costs_linear_pairs_and_stays_connected() -> None:
    """50k near-identical texts share every band: the default window shrinks with the
    bucket (16 partners each here, not 256), so the pairs grow linearly, yet the
    overlapping windows still chain all members into one component."""
    n, bands = 50_000, 4
    keys = np.zeros((n, bands), np.uint64)
    keys[:, 1] = np.arange(n) % 3  # three large buckets in one band
    left, right, truncated = candidate_pairs(keys, np.ones(n, bool))
    assert truncated == bands - 1 + 3
    assert left.size <= 16 * n * 2
    assert np.all(left < right)
    parent = np.arange(n)

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = int(parent[x])
        return x

    for a, b in zip(left.tolist(), right.tolist(), strict=True):
        parent[find(a)] = find(b)
    assert len({find(i) for i in range(n)}) == 1


def test_bucket_window_shrinks_with_the_bucket() -> None:
    """At max_bucket 256 a bucket of 257 lists every pair; one of 300 pairs each member
    with the next 218 (256**2 // 300), in row order, whatever other buckets there are."""
    keys = np.zeros((257 + 300, 1), np.uint64)
    keys[257:] = 1
    left, right, truncated = candidate_pairs(keys, np.ones(557, bool))
    assert truncated == 2
    small = right < 257
    assert int(small.sum()) == 257 * 256 // 2
    assert int(np.max(right[~small] - left[~small])) == 218
    assert int((~small).sum()) == sum(min(218, 299 - p) for p in range(300))


@pytest.mark.parametrize("max_bucket", [3, 10, 256])
@pytest.mark.parametrize("top_bits", ["spread", "shared"])
@pytest.mark.parametrize("distinct", [40, 400])
def test_kernel_lists_the_pairs_of_the_numpy_reference(
    max_bucket: int, top_bits: str, distinct: int
) -> None:
    """Small, large and oversized buckets, rows left out: the same pairs and count.

    With ``shared`` every key has the same top bits, so the kernel's counting pass puts
    them all in one bucket and its fallback sort does the grouping; with ``spread`` and
    400 distinct keys per band its insertion sort orders oversized buckets (max 3)."""
    rng = np.random.default_rng(max_bucket)
    n, bands = 3000, 6
    keys = rng.integers(0, distinct, (n, bands)).astype(np.uint64)
    keys[:, 0] = rng.integers(0, 2**63, n).astype(np.uint64)  # one band of singletons
    keys[:, 1] = rng.integers(0, 2, n).astype(np.uint64)  # two huge buckets
    keys[rng.random((n, bands)) < 0.5] += np.uint64(1000)
    if top_bits == "spread":
        keys[:, 2:] *= np.uint64(0x9E3779B97F4A7C15)
    rows = np.flatnonzero(rng.random(n) < 0.9).astype(np.int64)
    kl, kr, kt = _candidate_pairs_kernel(keys, rows, max_bucket)
    nl, nr, nt = _candidate_pairs_numpy(keys, rows, max_bucket)
    assert kl.size > n
    assert np.array_equal(kl, nl)
    assert np.array_equal(kr, nr)
    assert kt == nt > 0
    # Keys laid out band after band (as the pipeline makes them) list the same pairs.
    fl, fr, ft = _candidate_pairs_kernel(np.asfortranarray(keys), rows, max_bucket)
    assert np.array_equal(fl, nl)
    assert np.array_equal(fr, nr)
    assert ft == nt


def test_a_run_of_bands_lists_what_its_bands_list_one_by_one() -> None:
    """One kernel call over several bands reuses its buffers from band to band and grows
    its output (the huge buckets of band 1 list far more than a pair per row): its codes
    are those of the single-band calls, in band order, and the pairs do not depend on
    how many threads share the bands."""
    rng = np.random.default_rng(7)
    n, bands = 3000, 6
    keys = rng.integers(0, 400, (n, bands)).astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    keys[:, 1] = rng.integers(0, 2, n).astype(np.uint64)  # two huge buckets
    rows = np.flatnonzero(rng.random(n) < 0.9).astype(np.int64)
    by_band = np.ascontiguousarray(keys.T)
    codes, truncated = band_pair_codes(by_band, 0, bands, rows, n, 256)
    singles = [band_pair_codes(by_band, b, b + 1, rows, n, 256) for b in range(bands)]
    assert codes.size > rows.size * bands  # the output had to grow
    assert np.array_equal(codes, np.concatenate([c for c, _ in singles]))
    assert truncated == sum(t for _, t in singles) == 2
    want = _candidate_pairs_numpy(keys, rows, 256)
    before = numba.get_num_threads()
    try:
        for threads in sorted({1, min(2, numba.config.NUMBA_NUM_THREADS)}):
            numba.set_num_threads(threads)
            got = _candidate_pairs_kernel(keys, rows, 256)
            assert all(np.array_equal(g, w) for g, w in zip(got[:2], want[:2], strict=True))
            assert got[2] == want[2]
    finally:
        numba.set_num_threads(before)


# Fixed seeds: this is a statistical check (five Jaccard bands per seed), so random
# seeds would make it fail now and then by chance alone. Across 30 seeds the z-scores
# of the hit counts looked normal (one of 150 below -3), which is why the bound is
# four standard deviations: a banding or signing bug moves recall far more than that.
@pytest.mark.parametrize("seed", [0, 1, 2, 24711, 100000])
def test_lsh_recall_per_jaccard_band_at_least_theory_minus_4_sigma(seed: int) -> None:
    rng = np.random.default_rng(seed)
    banding = choose_banding(0.7, 128, 0.995)
    for low in (0.4, 0.5, 0.6, 0.7, 0.8):
        sets = []
        for j in rng.uniform(low, low + 0.1, size=150):
            sets.extend(_pair_with_jaccard(rng, float(j)))
        # the Jaccard actually realised by the constructed sets (rounding shifts the target)
        js = np.array(
            [
                np.intersect1d(sets[2 * k], sets[2 * k + 1]).size
                / np.union1d(sets[2 * k], sets[2 * k + 1]).size
                for k in range(len(sets) // 2)
            ]
        )
        keys = band_keys(_sign(sets), banding)
        left, right, _ = candidate_pairs(keys, np.ones(len(sets), bool))
        found = set(zip(left.tolist(), right.tolist(), strict=True))
        hits = np.array([(2 * k, 2 * k + 1) in found for k in range(js.size)])
        expected = np.array(
            [collision_probability(float(j), banding.bands, banding.rows) for j in js]
        )
        sigma = np.sqrt((expected * (1 - expected)).sum())
        # counts are discrete: one pair of slack for the normal approximation near p = 1
        assert hits.sum() >= expected.sum() - 4 * sigma - 1, (low, hits.sum(), expected.sum())


@pytest.mark.parametrize("threshold", [0.5, 0.7, 0.9])
def test_banding_monotone_in_threshold(threshold: float) -> None:
    banding = choose_banding(threshold, 128, 0.99)
    assert banding.probability(threshold) >= 0.99
    assert banding.probability(min(1.0, threshold + 0.05)) >= banding.probability(threshold)


def test_exact_jaccard_kernel_matches_python_sets() -> None:
    pytest.importorskip("numba")
    from clusterer._kernels import jaccard_pairs

    rng = np.random.default_rng(11)
    rows = [
        np.unique(rng.integers(0, 60, rng.integers(0, 40))).astype(np.uint32) for _ in range(30)
    ]
    rows += [rows[3].copy(), np.zeros(0, np.uint32)]
    ptr = np.concatenate(([0], np.cumsum([r.size for r in rows]))).astype(np.int64)
    values = np.concatenate(rows)
    left, right = (a.ravel().astype(np.int64) for a in np.triu_indices(len(rows), 1))
    got = jaccard_pairs(ptr, values, left, right)
    for k, (a, b) in enumerate(zip(left.tolist(), right.tolist(), strict=True)):
        sa, sb = set(rows[a].tolist()), set(rows[b].tolist())
        union = len(sa | sb)
        assert got[k] == (len(sa & sb) / union if union else 0.0), (a, b)


@pytest.mark.parametrize("threshold", [0.05, 0.3, 0.5, 0.7, 0.9, 1.0])
def test_jaccard_at_least_keeps_exact_values_at_the_threshold(threshold: float) -> None:
    pytest.importorskip("numba")
    from clusterer._kernels import jaccard_at_least, jaccard_pairs

    rng = np.random.default_rng(12)
    rows = []
    for _ in range(60):
        base = np.unique(rng.integers(0, 400, rng.integers(0, 300))).astype(np.uint32)
        rows.append(base)
        # Variants around every similarity, so that many pairs sit near the threshold.
        keep = base[rng.random(base.size) < rng.random()]
        rows.append(np.unique(np.concatenate((keep, rng.integers(0, 400, 20).astype(np.uint32)))))
    rows += [rows[0].copy(), np.zeros(0, np.uint32), np.zeros(0, np.uint32)]
    ptr = np.concatenate(([0], np.cumsum([r.size for r in rows]))).astype(np.int64)
    values = np.concatenate(rows)
    left, right = (a.ravel().astype(np.int64) for a in np.triu_indices(len(rows), 1))
    full = jaccard_pairs(ptr, values, left, right)
    got = jaccard_at_least(ptr, values, left, right, threshold)
    reach = full >= threshold
    assert reach.any()
    assert np.array_equal(got[reach], full[reach])
    assert np.all(got[~reach] == 0.0)
