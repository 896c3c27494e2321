"""Stable ids: mapping a re-decided partition onto the ids its rows had.

Used when a settling decides all stored stories again (:mod:`clusterer.index.settle`).
The rules:

* each old id's *heir* is the new cluster holding most of its rows (ties: the cluster
  with the smallest label); a cluster that is the heir of several old ids keeps the
  smallest and absorbs the others (merges, recorded with aliases);
* a cluster that is nobody's heir gets a fresh id (in the order of the new labels); if
  it holds rows that had an id, it was split off a story (the one most of them had);
* every row that had an id and whose final id is not what that id now resolves to has
  moved (recorded per row).

Rows without an old id (``old < 0``: new articles) never make a cluster an heir.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["Mapping", "reconcile"]

I64 = npt.NDArray[np.int64]


@dataclass
class Mapping:
    """A new partition mapped onto old ids.

    Parameters
    ----------
    final : (n,) int64
        Final id per row.
    merges : list of (survivor, absorbed, row)
        Old ids absorbed, with a row of the absorbed id now in the survivor.
    splits : list of (origin, new id, row)
        Fresh ids given to clusters holding rows that had an id: the id most of them
        had, and the first such row.
    moved : list of (new id, old id, row)
        Rows whose final id is not what their old id resolves to.
    counter : int
        Next free id.
    """

    final: I64
    merges: list[tuple[int, int, int]]
    splits: list[tuple[int, int, int]]
    moved: list[tuple[int, int, int]]
    counter: int


def reconcile(old: I64, new: I64, counter: int) -> Mapping:
    """Map a new partition of rows onto their old ids (see the module notes).

    Parameters
    ----------
    old : (n,) int64
        Current ids; negative for rows that have none yet.
    new : (n,) int64
        Labels of the new partition (>= 0; their order sets the order of fresh ids).
    counter : int
        First free id.

    Returns
    -------
    Mapping
        Final ids, identity changes and the next free id.
    """
    n = old.size
    had = old >= 0
    pairs, first, counts = np.unique(
        np.stack((old[had], new[had])), axis=1, return_index=True, return_counts=True
    )
    first_of_pair = np.flatnonzero(had)[first] if n else first
    # heir of each old id: most rows, then the smallest new label
    order = np.lexsort((pairs[1], -counts, pairs[0]))
    lead = np.ones(order.size, np.bool_)
    lead[1:] = pairs[0][order][1:] != pairs[0][order][:-1]
    heir_of = dict(zip(pairs[0][order][lead].tolist(), pairs[1][order][lead].tolist(), strict=True))
    keys = zip(pairs[0].tolist(), pairs[1].tolist(), strict=True)
    row_of = dict(zip(keys, first_of_pair.tolist(), strict=True))
    inherits: dict[int, list[int]] = {}
    for o in sorted(heir_of):
        inherits.setdefault(heir_of[o], []).append(o)
    labels = np.unique(new)
    final_of: dict[int, int] = {}
    merges: list[tuple[int, int, int]] = []
    survivor_of: dict[int, int] = {}
    for c in labels.tolist():
        owned = inherits.get(c)
        if owned:
            final_of[c] = owned[0]
            for gone in owned[1:]:
                survivor_of[gone] = owned[0]
                merges.append((owned[0], gone, row_of[(gone, c)]))
        else:
            final_of[c] = counter
            counter += 1
    final = np.array([final_of[c] for c in new.tolist()], np.int64)
    # a fresh cluster holding rows that had ids was split off the id most of them had
    origin: dict[int, tuple[int, int]] = {}  # fresh cluster -> (rows, -old id)
    first_row: dict[int, int] = {}
    for (o, c), k in zip(row_of, counts.tolist(), strict=True):
        if c not in inherits:
            origin[c] = max(origin.get(c, (k, -o)), (k, -o))
            first_row[c] = min(first_row.get(c, row_of[(o, c)]), row_of[(o, c)])
    splits = [(-origin[c][1], final_of[c], first_row[c]) for c in sorted(origin)]
    expected = np.array([survivor_of.get(o, o) for o in old.tolist()], np.int64)
    moved_rows = np.flatnonzero(had & (final != expected))
    moved = [(int(final[r]), int(old[r]), int(r)) for r in moved_rows.tolist()]
    return Mapping(final, merges, splits, moved, counter)
