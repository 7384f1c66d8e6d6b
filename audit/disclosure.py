"""Disclosure control that survives arithmetic: an LP/MILP auditor and optimal secondary suppression.

`audit.suppress` says *what* is hidden (1-4 as "<5", complements as "c"); this module
proves that what is left cannot give a hidden count back, the way statistical offices
check it (tau-ARGUS, R's sdcTable):

- A `Family` is every count and share published from the same children: the cells of
  each table, their margins, shares shown at their precision. Each published count is a
  sum of *atoms* (the finest cells, e.g. home LA x placement LA), so tables that overlap
  (a margin in one table, a share in another, the same figure on two pages) are linked
  by construction.
- `audit` is the attacker: knowing only what is shown (shown values, the labels "<5" =
  1..4 and "c" = 5 or more, shares at their rounding, non-negative whole children) it
  computes each hidden count's feasible range with HiGHS (integer MILP by default). A
  primary cell is protected when its range still covers 1..4 (the protection interval
  of its label).
- `protect` chooses the complementary ("c") cells by a MILP that minimises cells lost
  (ties broken by children hidden) and adds Benders cuts from the attacker LP's duals
  (Fischetti and Salazar's formulation) until every primary passes the integer audit.
  Past `MAX_MILP_ITEMS` it falls back to a greedy heuristic checked by the same audit,
  and says so in `Protection.method`.

Zeros are never chosen as complements (they are structural and shown), which is why the
attacker may take "c" to mean 5 or more.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse import csr_matrix, vstack

THRESHOLD = 5
PRIMARY_RANGE = (1, THRESHOLD - 1)
MAX_MILP_ITEMS = 1500  # counts + shares; beyond this the greedy heuristic is used
MAX_ROUNDS = 60  # MILP / audit rounds before giving up on optimality and falling back
TOL = 1e-6
UNBOUNDED = 1e7


@dataclass
class Count:
    """One published count: a sum of atoms, its true value and whether it is forced hidden or shown."""

    key: tuple
    atoms: np.ndarray
    value: int
    primary: bool
    keep: bool = False  # must stay shown (e.g. a figure published elsewhere unconditionally)
    force: bool = False  # hidden as "c" whatever it holds (e.g. its view is hidden against other filters)
    pseudo: bool = False  # not published itself: what a shown share gives away (hidden means unknown, not "c")


@dataclass
class Share:
    """One published percentage num/base (0-100) shown at `decimals` places; hidden shares constrain nothing."""

    key: tuple
    num: np.ndarray
    base: np.ndarray
    value: float
    decimals: int
    primary: bool  # hidden regardless (base under 5, or the part or the rest is 1-4)
    pinned: bool = False  # in the MILP only: modelled as the counts it pins (see _augment)


@dataclass
class Family:
    """Every count and share published from one set of children, over shared atoms."""

    n_atoms: int
    counts: list[Count] = field(default_factory=list)
    shares: list[Share] = field(default_factory=list)
    relations: list[tuple[int, list[int]]] = field(default_factory=list)
    _index: dict = field(default_factory=dict)

    def add_count(self, key, atoms, value, keep: bool = False) -> int:
        """Publish a count over `atoms`; the same atoms published twice are one figure with one fate."""
        atoms = np.unique(np.asarray(atoms, dtype=int))
        sig = atoms.tobytes()
        if sig in self._index:
            i = self._index[sig]
            self.counts[i].keep |= keep
            return i
        value = int(round(value))
        self.counts.append(Count(key, atoms, value, 1 <= value < THRESHOLD, keep))
        self._index[sig] = len(self.counts) - 1
        return len(self.counts) - 1

    def add_share(self, key, num, base, atom_values: np.ndarray, decimals: int = 1) -> int:
        """Publish 100*num/base at `decimals` places; primary-hidden when the base, the part or the rest is under 5."""
        num = np.asarray(num, dtype=int)
        base = np.asarray(base, dtype=int)
        b = float(atom_values[base].sum())
        p = float(atom_values[num].sum())
        value = 100 * p / b if b else np.nan
        small = lambda v: 1 <= v < THRESHOLD
        self.shares.append(Share(key, num, base, value, decimals, b == 0 or small(b) or small(p) or small(b - p)))
        return len(self.shares) - 1

    def add_table(self, name, values: np.ndarray, row_totals: bool = True, col_totals: bool = True,
                  atoms: np.ndarray | None = None) -> dict:
        """Publish a 2-D table whose interior cells are atoms (or given atom indices), with its margins.

        Returns {"cells": index array of counts, "rows": [...], "cols": [...], "total": idx}.
        """
        values = np.asarray(values)
        r, c = values.shape
        atoms = np.arange(r * c).reshape(r, c) if atoms is None else np.asarray(atoms)
        cells = np.array([[self.add_count((name, i, j), [atoms[i, j]], values[i, j]) for j in range(c)]
                          for i in range(r)])
        out = {"cells": cells, "rows": [], "cols": [], "total": None}
        if row_totals:
            for i in range(r):
                t = self.add_count((name, i, "total"), atoms[i, :], values[i, :].sum())
                out["rows"].append(t)
                self.relations.append((t, list(cells[i, :])))
        if col_totals:
            for j in range(c):
                t = self.add_count((name, "total", j), atoms[:, j], values[:, j].sum())
                out["cols"].append(t)
                self.relations.append((t, list(cells[:, j])))
        if row_totals or col_totals:
            out["total"] = self.add_count((name, "total", "total"), atoms.ravel(), values.sum())
            for line in (out["rows"], out["cols"]):
                if line:
                    self.relations.append((out["total"], line))
        return out

    def matrix(self) -> csr_matrix:
        """Counts x atoms incidence (1 where an atom is in a count)."""
        rows = np.concatenate([np.full(len(c.atoms), i) for i, c in enumerate(self.counts)]) if self.counts else []
        cols = np.concatenate([c.atoms for c in self.counts]) if self.counts else []
        return csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(self.counts), self.n_atoms))


@dataclass
class Pattern:
    """Which counts and shares are hidden."""

    counts: np.ndarray
    shares: np.ndarray

    @staticmethod
    def primary(fam: Family) -> "Pattern":
        """Only what must be hidden on its own."""
        return Pattern(np.array([c.primary or (c.force and c.value > 0) for c in fam.counts], bool),
                       np.array([s.primary for s in fam.shares], bool))


def _share_rows(fam: Family, shown: np.ndarray) -> tuple[list, list]:
    """Linear rows lo*base - num <= 0 and num - hi*base <= 0 for each shown share at its rounding."""
    rows, rhs = [], []
    for s, show in zip(fam.shares, shown):
        if not show or s.pinned or not np.isfinite(s.value):
            continue
        half = 0.5 * 10 ** -s.decimals
        shown_v = round(s.value, s.decimals)
        lo, hi = max(shown_v - half, 0) / 100, min(shown_v + half, 100) / 100
        for sign, frac in ((1, lo), (-1, hi)):
            r = np.zeros(fam.n_atoms)
            np.add.at(r, s.base, sign * frac)
            np.add.at(r, s.num, -sign)
            rows.append(r)
            rhs.append(0.0)
    return rows, rhs


def published_constraints(fam: Family, pat: Pattern) -> tuple[csr_matrix, np.ndarray, np.ndarray]:
    """What an attacker knows, as lb <= A x <= ub over non-negative atoms: shown values, labels and shares."""
    G = fam.matrix()
    lb = np.empty(len(fam.counts))
    ub = np.empty(len(fam.counts))
    for i, (c, hid) in enumerate(zip(fam.counts, pat.counts)):
        if not hid:
            lb[i] = ub[i] = c.value
        elif c.primary:
            lb[i], ub[i] = PRIMARY_RANGE
        else:
            lb[i], ub[i] = THRESHOLD, np.inf
    rows, _ = _share_rows(fam, ~pat.shares)
    if rows:
        G = vstack([G, csr_matrix(np.array(rows))]).tocsr()
        lb = np.concatenate([lb, np.full(len(rows), -np.inf)])
        ub = np.concatenate([ub, np.zeros(len(rows))])
    return G, lb, ub


def _range(G, lb, ub, obj: np.ndarray, integer: bool) -> tuple[float, float]:
    """Min and max of obj.x over the attacker's feasible set (inf when nothing published bounds it)."""
    out = []
    for sign in (1, -1):
        # A finite cap keeps HiGHS from the ambiguous "infeasible or unbounded"; reaching it means unbounded.
        r = milp(sign * obj, constraints=LinearConstraint(G, lb, ub), bounds=Bounds(0, UNBOUNDED),
                 integrality=np.ones(len(obj)) if integer else None)
        if r.x is None:
            raise ValueError(f"published figures are inconsistent ({r.message})")
        v = float(sign * r.fun)
        out.append(np.inf if v >= UNBOUNDED / 2 else v)
    return out[0], out[1]


def audit(fam: Family, pat: Pattern, integer: bool = True, primaries_only: bool = False) -> pd.DataFrame:
    """Feasible range of every hidden count given only what is published; `protected` for primaries.

    A primary ("<5") is protected when its range covers 1..4; complements ("c") are
    reported but need no protection of their own.
    """
    G, lb, ub = published_constraints(fam, pat)
    Gc = fam.matrix()
    rows = []
    for i in np.flatnonzero(pat.counts):
        c = fam.counts[i]
        if primaries_only and not c.primary:
            continue
        obj = np.asarray(Gc[i].todense()).ravel()
        lo, hi = _range(G, lb, ub, obj, integer)
        rows.append({"key": c.key, "index": int(i), "value": c.value, "label": "<5" if c.primary else "c",
                     "low": lo, "high": hi,
                     "protected": (lo <= PRIMARY_RANGE[0] + TOL and hi >= PRIMARY_RANGE[1] - TOL) if c.primary else True})
    return pd.DataFrame(rows, columns=["key", "index", "value", "label", "low", "high", "protected"])


def narrowed(report: pd.DataFrame) -> pd.DataFrame:
    """Primary cells whose feasible range no longer covers 1..4."""
    return report[(report["label"] == "<5") & ~report["protected"]]


# --- Secondary suppression ---------------------------------------------------------------------------------


@dataclass
class Protection:
    """A chosen pattern with what it cost and how it was found."""

    pattern: Pattern
    method: str  # "milp" (optimal under the cuts), "heuristic" (too large or no convergence)
    rounds: int
    seconds: float
    complements: int  # counts hidden as "c"
    children_hidden: int  # total of the "c" counts (information lost)
    shares_hidden: int
    capped: int = 0  # primaries that no pattern can give the whole 1..4 (they get the widest possible)
    targets: dict = field(default_factory=dict)  # primary index -> (low, high) its range must reach


def _weights(fam: Family) -> tuple[np.ndarray, np.ndarray]:
    """Cost of hiding each count and share: one per figure, ties broken towards hiding fewer children."""
    total = max(sum(c.value for c in fam.counts), 1)
    wc = np.array([0.0 if c.pseudo else 1 + c.value / (10 * total) for c in fam.counts])
    ws = np.ones(len(fam.shares))
    return wc, ws


def _fixed(fam: Family) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds on the suppression binaries: primaries 1, zeros and kept figures 0."""
    lo = np.array([c.primary or (c.force and c.value > 0) for c in fam.counts], float)
    hi = np.array([0.0 if (c.value == 0 or c.keep) and not c.primary else 1.0 for c in fam.counts])
    slo = np.array([s.primary for s in fam.shares], float)
    return np.concatenate([lo, slo]), np.concatenate([hi, np.ones(len(fam.shares))])


def _line_rows(fam: Family) -> list[np.ndarray]:
    """No published relation (total = sum of parts) may have exactly one hidden member."""
    n = len(fam.counts) + len(fam.shares)
    rows = []
    for total, parts in fam.relations:
        members = sorted({total, *parts})
        if len(members) < 2:
            continue
        for m in members:
            r = np.zeros(n)
            r[members] = 1
            r[m] -= 2  # sum of the others >= hidden(m)
            rows.append(r)
    return rows


def _attacker_lp(fam: Family, pat: Pattern, big: float) -> dict:
    """The attacker's LP relaxation for a pattern (cells bounded by the total), shared by every primary's cut.

    Single-atom counts become bounds on their atom and the rest rows, so HiGHS sees a small LP; the
    bounds' duals come back as marginals just like the rows'.
    """
    G = fam.matrix().tocsr()
    vals = np.array([c.value for c in fam.counts], float)
    plo = np.array([PRIMARY_RANGE[0] if c.primary else (0 if c.pseudo else THRESHOLD) for c in fam.counts], float)
    phi = np.array([PRIMARY_RANGE[1] if c.primary else big for c in fam.counts], float)
    lo = np.where(pat.counts, plo, vals)
    hi = np.where(pat.counts, phi, vals)
    single = np.array([len(c.atoms) == 1 for c in fam.counts], bool)
    atom_of = np.array([c.atoms[0] if len(c.atoms) == 1 else -1 for c in fam.counts])
    xlo, xhi = np.zeros(fam.n_atoms), np.full(fam.n_atoms, np.inf)
    xlo[atom_of[single]] = np.maximum(lo[single], 0)
    xhi[atom_of[single]] = hi[single]
    multi = np.flatnonzero(~single)
    Gm = G[multi].toarray()
    share_rows, share_rhs = _share_rows(fam, ~pat.shares)
    S = np.array(share_rows).reshape(-1, fam.n_atoms)
    shown_shares = np.flatnonzero(~pat.shares & np.array([np.isfinite(x.value) and not x.pinned
                                                          for x in fam.shares], bool))
    return {"G": G, "A": np.vstack([Gm, -Gm, S]), "b": np.concatenate([hi[multi], -lo[multi], share_rhs]),
            "bounds": list(zip(xlo, xhi)), "multi": multi, "single": np.flatnonzero(single), "atom_of": atom_of,
            "shares": shown_shares, "vals": vals, "plo": plo, "phi": phi, "big": big}


def _cut(fam: Family, lp: dict, i: int, upper: bool, target: float) -> tuple[np.ndarray, float] | None:
    """Benders cut from the attacker LP's duals for primary i: coef . (counts, shares) >= rhs; None if protected."""
    obj = lp["G"][i].toarray().ravel()
    r = linprog(-obj if upper else obj, A_ub=lp["A"], b_ub=lp["b"], bounds=lp["bounds"], method="highs")
    if r.status != 0:
        return None
    value = -r.fun if upper else r.fun
    if (upper and value >= target - TOL) or (not upper and value <= target + TOL):
        return None
    n, m = len(fam.counts), len(lp["multi"])
    u, v = np.zeros(n), np.zeros(n)
    y = -r.ineqlin.marginals  # >= 0: how hard each published row holds the attacker back
    u[lp["multi"]], v[lp["multi"]] = y[:m], y[m:2 * m]
    atoms = lp["atom_of"][lp["single"]]
    u[lp["single"]] = -r.upper.marginals[atoms]
    v[lp["single"]] = r.lower.marginals[atoms]
    w = y[2 * m:]
    vals, plo, phi = lp["vals"], lp["plo"], lp["phi"]
    # The dual objective as a function of the hiding decisions s is const + coef . s (weak duality bounds the
    # attacker for every s, so the cut is valid for every pattern, not only this one).
    coef_s = np.zeros(len(fam.shares))
    if len(w):
        coef_s[lp["shares"]] = (w[0::2] + w[1::2]) * lp["big"]
    coef = np.concatenate([u * (phi - vals) + v * (vals - plo), coef_s])
    const = float(u @ vals - v @ vals)
    # Upper: max <= const + coef.s must reach 4. Lower: min >= -(const + coef.s) must reach 1.
    return (coef, target - const) if upper else (coef, -target - const)


def _solve_master(fam: Family, cuts: list, wc, ws, lo, hi, time_limit: float | None,
                  links=()) -> tuple[np.ndarray | None, int]:
    """Cheapest pattern satisfying the line rules, the share links and every cut so far."""
    c = np.concatenate([wc, ws])
    rows = _line_rows(fam)
    n = len(fam.counts)
    for k, idxs in links:  # a shown share gives away what it pins: hidden(count) <= hidden(share)
        for i in idxs:
            r = np.zeros(n + len(fam.shares))
            r[n + k], r[i] = 1, -1
            rows.append(r)
    A = [*rows, *[cut[0] for cut in cuts]]
    lb = [*np.zeros(len(rows)), *[cut[1] for cut in cuts]]
    cons = [LinearConstraint(np.array(A), np.array(lb), np.inf)] if A else []
    r = milp(c, constraints=cons, bounds=Bounds(lo, hi), integrality=np.ones(len(c)),
             options={} if time_limit is None else {"time_limit": time_limit})
    return (None if r.x is None else np.round(r.x).astype(bool)), r.status


def _as_pattern(fam: Family, s: np.ndarray) -> Pattern:
    """Split the master's binaries into counts and shares."""
    n = len(fam.counts)
    return Pattern(s[:n].copy(), s[n:].copy())


def protect(fam: Family, time_limit: float | None = None) -> Protection:
    """Optimal complementary suppression for a family, verified by the integer audit.

    Each primary must keep 1..4; where even hiding every non-zero figure cannot give that
    (e.g. a "<5" total over two "<5" cells caps each at 3), the target is what hiding
    everything would leave, and `Protection.capped` counts those cells.

    No wall-clock limit by default: the pattern must not depend on how busy the machine is, or two
    runs could publish two patterns whose union gives a count back. Only MAX_MILP_ITEMS and
    MAX_ROUNDS (deterministic) send a family to the heuristic.
    """
    start = time.perf_counter()
    if not any(c.primary or c.force for c in fam.counts):
        return _result(fam, Pattern.primary(fam), "milp", 0, start)
    if len(fam.counts) + len(fam.shares) > MAX_MILP_ITEMS:
        return _heuristic(fam, start, "heuristic (family too large for the MILP)")
    targets = {i: PRIMARY_RANGE for i, c in enumerate(fam.counts) if c.primary}
    out = _optimise(fam, targets, start, time_limit)
    if out == "infeasible":
        targets = _structural_targets(fam)
        out = _optimise(fam, targets, start, time_limit)
    if isinstance(out, Protection):
        out.capped = sum(t != PRIMARY_RANGE for t in targets.values())
        out.targets = targets
        return out
    return _heuristic(fam, start, f"heuristic ({out})")


def _structural_targets(fam: Family) -> dict:
    """The widest range each primary can have: its range with every hideable figure hidden, within 1..4."""
    _, hi = _fixed(fam)
    every = Pattern(hi[:len(fam.counts)].astype(bool) | Pattern.primary(fam).counts, np.ones(len(fam.shares), bool))
    rep = audit(fam, every)
    return {int(r["index"]): (max(PRIMARY_RANGE[0], r["low"]), min(PRIMARY_RANGE[1], r["high"]))
            for _, r in rep[rep["label"] == "<5"].iterrows()}


def shortfall(report: pd.DataFrame, targets: dict) -> pd.DataFrame:
    """Primaries whose range falls short of their target (1..4, or the widest possible where capped)."""
    prim = report[report["label"] == "<5"]
    short = [r["low"] > targets.get(r["index"], PRIMARY_RANGE)[0] + TOL
             or r["high"] < targets.get(r["index"], PRIMARY_RANGE)[1] - TOL for _, r in prim.iterrows()]
    return prim[np.array(short, bool)] if len(prim) else prim


def _augment(fam: Family) -> tuple[Family, list]:
    """The family for the MILP: each shown share precise enough to pin its part given its base becomes the
    two counts it gives away (part and rest), linked to the share; the exact share rows stay in the audit."""
    aug = Family(fam.n_atoms, [Count(c.key, c.atoms, c.value, c.primary, c.keep, c.force, c.pseudo)
                               for c in fam.counts],
                 [Share(x.key, x.num, x.base, x.value, x.decimals, x.primary) for x in fam.shares],
                 list(fam.relations), dict(fam._index))
    links = []
    values = np.zeros(fam.n_atoms)
    for c in fam.counts:
        if len(c.atoms) == 1:
            values[c.atoms[0]] = c.value
    for k, x in enumerate(aug.shares):
        if x.primary or not np.isfinite(x.value):
            continue
        base = float(values[x.base].sum())
        half = 0.5 * 10 ** -x.decimals / 100
        if np.floor((x.value / 100 + half) * base) != np.ceil((x.value / 100 - half) * base):
            continue  # coarse enough not to pin the part: leave it to the exact rows
        rest = np.setdiff1d(x.base, x.num)
        idxs = []
        for atoms in (x.num, rest):
            if len(atoms):
                before = len(aug.counts)
                i = aug.add_count(("pinned", x.key), atoms, values[atoms].sum())
                if len(aug.counts) > before:
                    aug.counts[i].primary, aug.counts[i].pseudo = False, True
                idxs.append(i)
        x.pinned = True
        links.append((k, idxs))
    return aug, links


def _integer_short(fam: Family, pat: Pattern, targets: dict) -> bool:
    """Whether whole children narrow any primary below its target: the audit, solving only the sides a
    primary's own value does not already reach, and stopping at the first shortfall."""
    G, lb, ub = published_constraints(fam, pat)
    Gc = fam.matrix()
    for i, (lo, hi) in targets.items():
        if not pat.counts[i]:
            continue
        obj = Gc[i].toarray().ravel()
        for sign, need in ((1, lo), (-1, hi)):
            v = fam.counts[i].value
            if (sign == 1 and v <= need) or (sign == -1 and v >= need):
                continue
            r = milp(sign * obj, constraints=LinearConstraint(G, lb, ub), bounds=Bounds(0, UNBOUNDED),
                     integrality=np.ones(len(obj)))
            got = sign * r.fun if r.x is not None else None
            if got is None or (sign == 1 and got > need + TOL) or (sign == -1 and got < need - TOL):
                return True
    return False


def _optimise(fam: Family, targets: dict, start: float, time_limit: float | None) -> "Protection | str":
    """Master MILP plus attacker cuts until the integer audit passes; a reason string when it cannot."""
    n = len(fam.counts)
    fam, links = _augment(original := fam)
    big = float(max(sum(c.value for c in fam.counts), 1))
    wc, ws = _weights(fam)
    lo, hi = _fixed(fam)
    cuts: list = []
    prev, safe = None, set()
    for rnd in range(1, MAX_ROUNDS + 1):
        left = None if time_limit is None else time_limit - (time.perf_counter() - start)
        if left is not None and left <= 0:
            return "MILP did not finish in time"
        s, status = _solve_master(fam, cuts, wc, ws, lo, hi, left, links)
        if s is None:
            return "infeasible" if status == 2 else "MILP did not finish in time"
        pat = _as_pattern(fam, s)
        lp = _attacker_lp(fam, pat, big)
        # Hiding more never narrows a range, so a side already safe under a subset of this pattern stays safe.
        if prev is None or not (s >= prev).all():
            safe = set()
        new = []
        for i in np.flatnonzero(pat.counts):
            if not fam.counts[i].primary:
                continue
            for k, upper in ((1, True), (0, False)):
                # The true values are feasible, so min <= value and max >= value: a side the value already
                # reaches needs no LP (most "<5" cells are 1s).
                trivially = fam.counts[i].value <= targets[i][0] if k == 0 else fam.counts[i].value >= targets[i][1]
                if not trivially and (i, k) not in safe:
                    cut = _cut(fam, lp, i, upper, targets[i][k])
                    if cut is None:
                        safe.add((i, k))
                    else:
                        new.append(cut)
        prev = s
        published = Pattern(pat.counts[:n], pat.shares)
        if not new and _integer_short(original, published, targets):
            # The LP relaxation passes but whole children do not: forbid this pattern and its subsets.
            new.append((np.concatenate([~pat.counts, ~pat.shares]).astype(float), 1.0))
        if not new:
            return _result(original, published, "milp", rnd, start)
        cuts.extend(new)
    return f"no optimum in {MAX_ROUNDS} rounds"


def _result(fam: Family, pat: Pattern, method: str, rounds: int, start: float) -> Protection:
    """Package a pattern with its cost."""
    comp = [c for c, h in zip(fam.counts, pat.counts) if h and not c.primary]
    return Protection(pat, method, rounds, time.perf_counter() - start, len(comp), int(sum(c.value for c in comp)),
                      int((pat.shares & ~np.array([s.primary for s in fam.shares], bool)).sum()))


def _heuristic(fam: Family, start: float, method: str) -> Protection:
    """Greedy: no relation with one hidden member; then, while the audit finds a narrow primary, hide the
    smallest shown non-zero count sharing a relation with it (or a share over its atoms)."""
    pat = Pattern.primary(fam)
    lo, hi = _fixed(fam)
    can = hi[:len(fam.counts)].astype(bool)
    values = np.array([c.value for c in fam.counts], float)
    for _ in range(10 * max(len(fam.counts), 1)):
        changed = False
        for total, parts in fam.relations:
            members = sorted({total, *parts})
            if pat.counts[members].sum() == 1:
                changed |= _hide_smallest(pat, members, values, can)
        if changed:
            continue
        bad = narrowed(audit(fam, pat, integer=False)) if len(fam.counts) < MAX_MILP_ITEMS else []
        if not len(bad):
            break
        for i in bad["index"]:
            related = {m for t, parts in fam.relations if i in (t, *parts) for m in (t, *parts)}
            changed |= _hide_smallest(pat, sorted(related), values, can)
            atoms = set(fam.counts[i].atoms)
            for k, s in enumerate(fam.shares):
                if not pat.shares[k] and atoms & set(s.base):
                    pat.shares[k] = changed = True
        if not changed:
            break
    return _result(fam, pat, method, 0, start)


def _hide_smallest(pat: Pattern, members, values, can) -> bool:
    """Hide the smallest shown, hideable member; False when there is none."""
    cand = [m for m in members if not pat.counts[m] and can[m]]
    if not cand:
        return False
    pat.counts[min(cand, key=lambda m: values[m])] = True
    return True


# --- Families from published tables ------------------------------------------------------------------------


def from_display(display: pd.DataFrame, values: pd.DataFrame, row_totals: bool = True,
                 col_totals: bool = True) -> tuple[Family, Pattern]:
    """A 2-D table as published ("<5", "c", numbers) with the margins a page shows, for auditing it.

    The true values give the published margins; the audit reads hidden cells only through their labels.
    """
    truth = values.to_numpy(float)
    labels = display.to_numpy(object)
    fam = Family(n_atoms=truth.size)
    t = fam.add_table("t", truth, row_totals, col_totals)
    hidden = np.zeros(len(fam.counts), bool)
    for (i, j), idx in np.ndenumerate(t["cells"]):
        if isinstance(labels[i, j], str):
            hidden[idx] = True
            fam.counts[idx].primary = labels[i, j] == "<5"
    return fam, Pattern(hidden, np.zeros(0, bool))


def matrix_family(values: np.ndarray, row_totals: bool = True, col_totals: bool = True,
                  exempt_rows=()) -> tuple[Family, dict]:
    """A 2-D table with its margins; rows the viewer may see are known to them, so never primary and always shown."""
    values = np.asarray(values, dtype=int)
    fam = Family(n_atoms=values.size)
    t = fam.add_table("m", values, row_totals, col_totals)
    for i, seen in enumerate(exempt_rows):
        if seen:
            for idx in [*t["cells"][i], *(t["rows"][i:i + 1] if t["rows"] else [])]:
                fam.counts[idx].primary = False
                fam.counts[idx].keep = True
    return fam, t


def cube_family(values: np.ndarray, published, exempt_first=()) -> tuple[Family, dict]:
    """An N-way table of children (e.g. LA x age band x sex x placement type) with every margin a reader can pick.

    Each view is a tuple with an index or None (all) per axis; `published(view)` says whether
    readers can see it. Every published view is one count; where a view's finer views over an
    axis are all published, the view is their sum (a relation). Views of a first-axis value in
    `exempt_first` (an LA the viewer may see) are known to the viewer: never primary, always shown.
    Returns the family and {view: count index}.
    """
    values = np.asarray(values, dtype=int)
    fam = Family(n_atoms=values.size)
    grid = np.arange(values.size).reshape(values.shape)
    choices = [[None, *range(n)] for n in values.shape]
    index: dict = {}
    for view in np.ndindex(*[len(c) for c in choices]):
        v = tuple(choices[a][i] for a, i in enumerate(view))
        if not published(v):
            continue
        sel = tuple(slice(None) if x is None else x for x in v)
        index[v] = fam.add_count(("view", v), np.ravel(grid[sel]), values[sel].sum())
        if exempt_first and v[0] is not None and exempt_first[v[0]]:
            fam.counts[index[v]].primary = False
            fam.counts[index[v]].keep = True
    for v, i in index.items():
        for axis, x in enumerate(v):
            if x is None:
                parts = [index.get(v[:axis] + (j,) + v[axis + 1:]) for j in range(values.shape[axis])]
                if all(p is not None for p in parts):
                    fam.relations.append((i, parts))
    return fam, index


def atoms_of(t: dict, shape: tuple[int, int], rows=None, cols=None) -> np.ndarray:
    """Atom indices of a block of a matrix family's table (rows/cols: index lists or boolean masks, None = all)."""
    grid = np.arange(shape[0] * shape[1]).reshape(shape)
    r = slice(None) if rows is None else rows
    c = slice(None) if cols is None else cols
    return np.asarray(grid[r][:, c] if not isinstance(r, slice) else grid[:, c][r]).ravel()


class Published:
    """An audit built only from what a reader sees: numbers, the labels "<5" and "c", and shares as shown.

    Each figure is a sum of atoms; the same atoms published in two places are one figure
    (a number shown anywhere is known everywhere, "<5" anywhere bounds it to 1..4).
    """

    def __init__(self, n_atoms: int):
        self.fam = Family(n_atoms=n_atoms)
        self.shown: dict[int, object] = {}

    def count(self, key, atoms, shown) -> int:
        """Publish one count as displayed (a number, "<5" or "c")."""
        i = self.fam.add_count(key, atoms, 0)
        prev = self.shown.get(i)
        if not isinstance(shown, str):
            self.shown[i] = int(shown)
        elif prev is None or prev == "c":
            self.shown[i] = shown
        return i

    def share(self, key, num, base, shown, decimals: int = 1) -> None:
        """Publish a percentage as displayed (a number at `decimals` places, or a mark when hidden)."""
        hidden = isinstance(shown, str) or shown is None or not np.isfinite(float(shown))
        self.fam.shares.append(Share(key, np.asarray(num, int), np.asarray(base, int),
                                     np.nan if hidden else float(shown), decimals, hidden))

    def audit(self, integer: bool = True) -> pd.DataFrame:
        """Every hidden count's feasible range from the published figures alone."""
        hidden = np.zeros(len(self.fam.counts), bool)
        for i, v in self.shown.items():
            c = self.fam.counts[i]
            hidden[i] = isinstance(v, str)
            c.primary = v == "<5"
            c.value = 0 if hidden[i] else int(v)
        return audit(self.fam, Pattern(hidden, np.array([s.primary for s in self.fam.shares], bool)), integer)
