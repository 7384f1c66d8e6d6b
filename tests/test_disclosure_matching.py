"""matching_by_la audited as published: children split by reach and by outcome, column totals, % far at 0 dp."""

import numpy as np
import pandas as pd
import pytest

from audit import disclosure as D
from audit.analysis import matching
from audit.suppress import PUBLIC, suppress

REACH = ["reach_near", "reach_far", "reach_none"]
PLACED = ["placed_near", "placed_far", "unplaced"]


def _tile(n: int):
    return "<5" if 1 <= n < 5 else n


def _published(raw: pd.DataFrame, shown: pd.DataFrame, share: bool = True) -> D.Published:
    """Each row's children as 3 x 3 unknown atoms (reach x outcome); every figure as the reader sees it."""
    pub = D.Published(len(raw) * 9)
    cols = {"children": slice(None), **{c: ("r", a) for a, c in enumerate(REACH)},
            **{c: ("p", b) for b, c in enumerate(PLACED)}}
    per_col = {c: [] for c in cols}
    for i in range(len(raw)):
        grid = np.arange(9).reshape(3, 3) + 9 * i
        atoms = {"children": grid.ravel(), **{c: grid[a, :] for a, c in enumerate(REACH)},
                 **{c: grid[:, b] for b, c in enumerate(PLACED)}}
        for c, a in atoms.items():
            pub.count((i, c), a, shown[c].iat[i])
            per_col[c].append(a)
        if share:  # every place free: % far = (far + unplaced) / children, at 0 dp
            pub.share((i, "pct_far"), grid[:, 1:].ravel(), grid.ravel(), shown["pct_far"].iat[i], decimals=0)
    for c, parts in per_col.items():
        pub.count(("total", c), np.concatenate(parts), _tile(int(raw[c].sum())))  # the region's tiles
    return pub


def _raw(db, mode: str = "free"):
    r = matching.matching(db, int(db.q("rounds")["round_id"].iat[0]), mode=mode)
    t = matching._grouped(matching._view(r, None, None), "la_code", r.radius_km)
    t["pct_far"] = np.round(matching._pct(t["placed_far"] + t["unplaced"], t["children"]), 0)
    return r, t


@pytest.mark.parametrize("mode", ["free", "today"])
def test_matching_by_la_before_and_after(sample_db, mode):
    # From today, % far counts today's far children still far (another base): the counts are audited alone.
    share = mode == "free"
    r, raw = _raw(sample_db, mode)
    counts = ["children", *REACH, *PLACED]
    old = suppress(raw, counts, rates={"pct_far": "children"}, row_totals=True, col_totals=True)
    before = _published(raw, old.display, share).audit()
    # Luton: "Placed: no place left" <5 = 4 from 16 children x 25% (and more like it).
    assert len(D.narrowed(before)) > 0
    shown = matching.la_rows(r).display
    names = {v: k for k, v in matching._labels(r).items()}
    shown = shown.rename(columns=names)
    after = _published(raw, shown, share).audit()
    assert (after["label"] == "<5").sum() > 0
    # A "<5" region total over two "<5" LAs caps each at 3 whatever is hidden: compare with hiding everything.
    counts = ["children", *REACH, *PLACED]
    everything = raw.astype(object).copy()
    for c in [*counts, "pct_far"]:
        everything[c] = ["<5" if 1 <= v < 5 else ("c" if v else 0) for v in raw[c]] if c != "pct_far" else "c"
    widest = _published(raw, everything, share).audit().set_index("key")
    for _, row in D.narrowed(after).iterrows():
        assert (row["low"], row["high"]) == (widest.loc[[row["key"]], "low"].iat[0], widest.loc[[row["key"]], "high"].iat[0])
