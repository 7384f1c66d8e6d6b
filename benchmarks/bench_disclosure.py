"""Time the protection of every extract family on the regional sample, and print what it cost and what the audit found.

For each family: cells suppressed with the old rule (no line with one hidden cell) and with the MILP,
children hidden as complements (information lost), how many '<5' cells the LP/MILP auditor finds
narrower than 1..4 before and after, and the time to protect. National scale is not run here (the
shared machine; the MILP per family grows with the number of LAs, not children).
Run: python benchmarks/bench_disclosure.py [--db path] (default: builds the regional sample in a temp folder)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from audit import disclosure as D  # noqa: E402
from audit import extracts, filters  # noqa: E402
from audit.analysis import distance, flows  # noqa: E402
from audit.db import Database  # noqa: E402
from audit.filters import Filters  # noqa: E402
from audit.suppress import primary_mask, secondary_mask  # noqa: E402


def _old_vs_milp(name: str, values: np.ndarray) -> dict:
    """One 2-D table with margins: the old rule's pattern and the MILP's, each audited."""
    import pandas as pd

    fam, t = D.matrix_family(values)
    prim = primary_mask(pd.DataFrame(values))
    old = secondary_mask(pd.DataFrame(values), prim, True, True).to_numpy()
    pat = D.Pattern.primary(fam)
    pat.counts[t["cells"][old]] = True
    before = D.narrowed(D.audit(fam, pat))
    start = time.perf_counter()
    prot = D.protect(fam)
    seconds = time.perf_counter() - start
    after = D.narrowed(D.audit(fam, prot.pattern))
    return {"family": name, "primaries": int(prim.to_numpy().sum()), "hidden_old": int(old.sum()),
            "lost_old": int(values[old & ~prim.to_numpy()].sum()), "narrow_old": len(before),
            "hidden_milp": int(prot.pattern.counts[t["cells"]].sum()), "lost_milp": prot.children_hidden,
            "narrow_milp": len(after), "capped": prot.capped, "method": prot.method, "seconds": seconds}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db")
    args = ap.parse_args()
    if args.db:
        db = Database(args.db)
    else:
        from audit.sample.build import build_sample

        db = Database(Path(tempfile.mkdtemp()) / "audit.duckdb")
        build_sample(db)
    rid = int(db.q("rounds")["round_id"].iat[0])
    f = Filters(round_id=rid)
    rows = [_old_vs_milp("flows (LA x placement LA)", flows.flow_matrix(distance.placed_children(db, f)).to_numpy()),
            _old_vs_milp("distance bands", distance._band_matrix(db, f).to_numpy())]
    counts = db.q("children_by_la_band", round_id=rid).pivot_table(index="la_code", columns="age_band", values="n",
                                                                    aggfunc="sum", fill_value=0)
    rows.append(_old_vs_milp("LA x age band (filter hierarchy)", counts.to_numpy()))
    print(f"{'family':36} {'prim':>4} {'old: hid':>8} {'lost':>5} {'narrow':>6} {'milp: hid':>9} {'lost':>5} "
          f"{'narrow':>6} {'capped':>6} {'s':>6}  method")
    for r in rows:
        print(f"{r['family']:36} {r['primaries']:>4} {r['hidden_old']:>8} {r['lost_old']:>5} {r['narrow_old']:>6} "
              f"{r['hidden_milp']:>9} {r['lost_milp']:>5} {r['narrow_milp']:>6} {r['capped']:>6} {r['seconds']:>6.2f}  "
              f"{r['method']}")
    # The whole families as the app protects them (with shares and linked tables), per filter setting.
    settings = [("region", f), ("Norfolk", f.with_(la="E10000020")), ("age 13-15", f.with_(age_band="13-15"))]
    print()
    for label, fs in settings:
        filters._HIDDEN_VIEWS.clear()
        distance._CACHE.clear()
        start = time.perf_counter()
        fp = distance.flow_protection(db, fs)
        bp = distance.band_protection(db, fs)
        mid = time.perf_counter()
        for name in ("distance_by_la", "distance_bands", "flows", "local_place_use", "overview_by_la",
                     "matching_by_la", "prevalence", "needs_per_child"):
            extracts.EXTRACTS[name][1](db, fs, extracts.Viewer())
        end = time.perf_counter()
        print(f"{label:10} flows+shares: {fp.prot.complements} complements ({fp.prot.children_hidden} children), "
              f"{fp.prot.shares_hidden} shares hidden, {fp.prot.rounds} MILP rounds, {fp.prot.method}; bands: "
              f"{bp.prot.complements} complements, {bp.prot.shares_hidden} shares; protection {mid - start:.1f} s; "
              f"8 extracts {end - mid:.1f} s")


if __name__ == "__main__":
    main()
