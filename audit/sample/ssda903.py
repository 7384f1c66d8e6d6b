"""SYNTHETIC SSDA903 returns made from the sample's needs file: importer test data and a forecastable history.

Each sample child in residential care gets a looked-after history that ends in
the placement the needs file gives (type, URN, sector), with a placement move
in the last 12 months for an unplanned ending (a breakdown-type
REASON_PLACE_CHANGE) when the child has `placement_breakdown`, missing episodes
when the child has `missing`, an OC2 row with SUBSTANCE_MISUSE when looked
after for a year, and a DoLo row when the child has a DoL order. Other children
in foster care, supported accommodation and with parents are added so that
children's homes hold 11.4% of the children looked after on the audit date
(the published England share, facts.md).

Children who left care before the audit date ("leavers") make five years of
returns (years ending 31 March 2020-2024) add up to a month-end stock per LA
and placement category that follows a calibrated trend: residential +28% over
2020-24 (the published rise in mainstream children's-home places, 10,033 to
12,870), supported accommodation +5% a year, fostering -1% a year, other
placements flat (these three are assumptions, not published figures; England's
total was 83,530 in 2024 and 81,770 in 2025, about flat). Each LA's growth
differs from the regional rate at random (sd 1.5 points a year) and the stock
wanders around its trend (AR(1) noise, about 3% for large stocks, more for small), so forecasts have something
to learn and something to be uncertain about. Leavers have one or two placements, both in one category.

The returns meet both date formats (earlier years DD/MM/YYYY with LA names and
the year only in the folder name; the latest ISO dates, ONS codes and a YEAR
column), and episodes open at a year end appear in both years' returns. A few
postcodes are fake (ZZ99) or malformed on purpose. Full postcodes are real ONS
postcodes drawn at random within the child's sector.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from audit.geography import postcodes
from audit.geography import region
from audit.analysis.forecast import CATEGORY_ORDER, category_of
from audit.intake.ssda903 import BREAKDOWN_REASONS
from audit.placements import RESIDENTIAL
from audit.intake.validate import any_la_code

AUDIT_DATE = dt.date(2024, 3, 31)
YEARS = (2020, 2021, 2022, 2023, 2024)
CHILDRENS_HOME_SHARE = 0.114  # of children looked after, England (facts.md)
# Yearly growth of the month-end stock (log scale): residential from the published +28% in children's-home
# places 2020-24; the others are assumptions (see the module docstring).
GROWTH = {"residential": np.log(1.28) / 4, "supported": np.log(1.05), "fostering": np.log(0.99), "other": 0.0}
LA_GROWTH_SD = 0.015
# The stock wanders around its trend (AR(1) on the log scale): about 3% for large stocks, more for small ones
# (sd of log stock ~ sqrt(0.03^2 + 0.5 / stock), so a stock of 16 moves by about +-3 children).
NOISE_SD, NOISE_SMALL, NOISE_AR = 0.03, 0.5, 0.8
OTHERS_LEFT_SHARE = 0.12  # of the other children: left care during the latest year
BURN_IN_YEARS = 3  # leavers are simulated from this long before the first return so its stock is settled
# Leavers' mean stay in a placement category (days), their places and their ages when they left.
LEAVER_STAY = {"residential": 420, "supported": 300, "fostering": 900, "other": 240}
LEAVER_PLACES = {"residential": (("K2", "S1", "K1", "R1"), (0.87, 0.06, 0.04, 0.03)),
                 "supported": (("H5", "K3", "P2"), (0.6, 0.3, 0.1)),
                 "fostering": (("U4", "U5", "U6", "U1", "U3"), (0.45, 0.25, 0.1, 0.12, 0.08)),
                 "other": (("P1", "R2", "R3", "R5", "Z1"), (0.6, 0.1, 0.1, 0.1, 0.1))}
LEAVER_AGES = {"residential": (12, 18), "supported": (16, 18), "fostering": (1, 18), "other": (1, 18)}
LEAVER_REC = {"residential": ("E8", "E4A", "E13", "E5"), "supported": ("E5", "E8", "E13"),
              "fostering": ("E41", "E45", "E13", "E11", "E17"), "other": ("E13", "E4A", "E8")}
FAKE_HOME = "ZZ99 3VZ"  # the NHS 'no fixed abode' pseudo-postcode: well-formed, not a place
BAD_HOME = "N/K"
PLANNED_REASONS = ("CARPL", "LAREQ", "CLOSE", "PLACE")
OTHER_PLACES = ("U4", "U5", "U6", "U1", "U3", "H5", "K3", "P1")
OTHER_WEIGHTS = (0.38, 0.22, 0.1, 0.12, 0.05, 0.06, 0.04, 0.03)
ETHNIC = ("WBRI", "WBRI", "WBRI", "WOTH", "MWBC", "MOTH", "AIND", "APKN", "BAFR", "BCRB", "OOTH")
COLUMNS = {
    "header": ["CHILD", "SEX", "DOB", "ETHNIC", "UPN", "MOTHER", "MC_DOB"],
    "episodes": ["CHILD", "DECOM", "RNE", "LS", "CIN", "PLACE", "PLACE_PROVIDER", "DEC", "REC",
                 "REASON_PLACE_CHANGE", "HOME_POST", "PL_POST", "URN"],
    "uasc": ["CHILD", "SEX", "DOB", "DUC"],
    "missing": ["CHILD", "DOB", "MISSING", "MIS_START", "MIS_END"],
    "oc2": ["CHILD", "DOB", "SDQ_SCORE", "SDQ_REASON", "CONVICTED", "HEALTH_CHECK", "IMMUNISATIONS", "TEETH_CHECK",
            "HEALTH_ASSESSMENT", "SUBSTANCE_MISUSE", "INTERVENTION_RECEIVED", "INTERVENTION_OFFERED"],
    "dolo": ["CHILD", "DOB", "DOLO_START", "DOLO_END"],
}


class _Postcodes:
    """Draw real full postcodes inside given sectors, reproducibly."""

    def __init__(self, sectors: set[str]):
        d = postcodes.directory()
        d = d[d["sector"].isin(sectors)].sort_values("postcode")
        self.codes = d["postcode"].to_numpy(object)
        g = d.groupby("sector", sort=True).indices
        self.index = {s: np.asarray(ix) for s, ix in g.items()}

    def draw(self, rng: np.random.Generator, sectors: np.ndarray) -> np.ndarray:
        """One postcode per sector given (the sector itself when the directory has none)."""
        out = np.empty(len(sectors), dtype=object)
        u = rng.random(len(sectors))
        for i, s in enumerate(sectors):
            ix = self.index.get(s)
            out[i] = self.codes[ix[int(u[i] * len(ix))]] if ix is not None and len(ix) else s
        return out


def _dob_for_age(rng: np.random.Generator, ages: np.ndarray, on: dt.date) -> np.ndarray:
    """Dates of birth giving exactly these ages on a date."""
    last_birthday = np.array([on.replace(year=on.year - int(a)) if not (on.month == 2 and on.day == 29)
                              else dt.date(on.year - int(a), 2, 28) for a in ages], dtype="datetime64[D]")
    back = rng.integers(0, 364, size=len(ages)).astype("timedelta64[D]")
    return last_birthday - back


def _flag(col: pd.Series) -> np.ndarray:
    """Y/N text (blank = not recorded, treated as no) to booleans."""
    return col.fillna("").astype(str).str.upper().isin(["Y", "YES", "1", "TRUE"]).to_numpy()


def generate(needs: pd.DataFrame, seed: int = 903, other_ratio: float | None = None, audit_date: dt.date = AUDIT_DATE,
             fake_share: float = 0.02, leavers: bool = True, years: tuple[int, ...] = YEARS) -> dict[str, pd.DataFrame]:
    """Long tables (with an LA code column) for every child: header, episodes, missing, oc2, uasc, dolo.

    other_ratio: children in other placements per child in the needs file (None: as many as make children's
    homes 11.4% of those looked after on the audit date). leavers: add the children who left care during the
    years' returns, so their month-end stock follows the calibrated trend (see the module docstring).
    """
    rng = np.random.default_rng(seed)
    d = np.datetime64(audit_date, "D")
    n = len(needs)
    la = needs["la"].map(any_la_code).to_numpy(object)
    child = needs["child_id"].astype(str).str.split("-").str[-1].to_numpy(object)
    ages = pd.to_numeric(needs["age"]).to_numpy(int)
    sexes = needs.get("sex", pd.Series("M", index=needs.index)).map({"M": "1", "F": "2"}).fillna("1").to_numpy(object)
    home_sector = needs["home_postcode"].map(postcodes.sector_of).to_numpy(object)
    place_sector = needs["placement_postcode"].map(postcodes.sector_of).to_numpy(object)
    place = needs["placement_type"].fillna("K2").to_numpy(object)
    urn = needs["placement_urn"].fillna("").astype(str).to_numpy(object)
    breakdown = _flag(needs["placement_breakdown"])
    missing = _flag(needs["missing"])
    substance = _flag(needs["substance"])
    dol = _flag(needs["dol_order"]) if "dol_order" in needs else np.zeros(n, bool)

    # Children in foster care and supported accommodation, from the same LAs and areas.
    if other_ratio is None:
        in_homes = int((place == "K2").sum())
        m = max(int(round((in_homes / CHILDRENS_HOME_SHARE - n) / (1 - OTHERS_LEFT_SHARE))), 0)
    else:
        m = int(round(n * other_ratio))
    pick = rng.integers(0, n, size=m) if n else np.zeros(0, int)
    o_la, o_home = la[pick], home_sector[pick]
    o_age = rng.integers(0, 18, size=m)
    o_child = np.array([f"9{k:07d}" for k in range(m)], dtype=object)
    o_place = rng.choice(np.asarray(OTHER_PLACES, dtype=object), size=m, p=OTHER_WEIGHTS)
    o_sex = rng.choice(np.array(["1", "2"], dtype=object), size=m)

    pcs = _Postcodes({s for s in np.concatenate([home_sector, place_sector]) if s})
    all_child = np.concatenate([child, o_child])
    all_la = np.concatenate([la, o_la])
    all_age = np.concatenate([ages, o_age])
    dob = _dob_for_age(rng, all_age, audit_date)
    home_pc = pcs.draw(rng, np.concatenate([home_sector, o_home]))
    fake = rng.random(len(home_pc))
    home_pc[fake < fake_share] = FAKE_HOME
    home_pc[(fake >= fake_share) & (fake < fake_share * 1.25)] = BAD_HOME
    place_pc = pcs.draw(rng, place_sector)
    other_pc = pcs.draw(rng, np.concatenate([home_sector, o_home]))

    window_start = np.datetime64(pd.Timestamp(audit_date) - pd.DateOffset(years=1), "D")  # as the importer counts
    rows = []
    for i in range(n + m):
        res = i < n
        born = dob[i]
        lifetime = max(int((d - born).astype(int)) - 1, 20)
        days_in_care = int(min(rng.integers(20, 1400), lifetime))
        moved_ago = int(rng.integers(5, 330))
        if res and breakdown[i]:
            # The breakdown needs an earlier placement to break down from.
            days_in_care = min(max(days_in_care, moved_ago + int(rng.integers(30, 400))), lifetime)
        first = d - np.timedelta64(days_in_care, "D")
        n_prev = int(rng.choice([0, 1, 2, 3], p=[0.3, 0.35, 0.2, 0.15])) if days_in_care > 90 else 0
        if res and breakdown[i]:
            last_start = d - np.timedelta64(moved_ago, "D")
            n_prev = max(n_prev, 1)
        elif n_prev:
            last_start = d - np.timedelta64(int(rng.integers(5, max(days_in_care - 30, 6))), "D")
        else:
            last_start = first
        if last_start <= first:
            last_start, n_prev = first, 0
        starts = [first]
        if n_prev > 1:
            span = int((last_start - first).astype(int))
            cuts = sorted(rng.choice(np.arange(1, max(span, 2)), size=min(n_prev - 1, max(span - 1, 1)), replace=False))
            starts += [first + np.timedelta64(int(c), "D") for c in cuts]
        if n_prev:
            starts.append(last_start)
        ls = "C2" if rng.random() < 0.65 else "V2"
        cin = f"N{int(rng.integers(1, 9))}"
        for j, s in enumerate(starts):
            last = j == len(starts) - 1
            if last and res:
                p, pr = place[i], ("PR1" if place[i] == "K1" else rng.choice(["PR4", "PR1", "PR5"], p=[0.72, 0.18, 0.1]))
                pl_post, u = place_pc[i], (urn[i] or "XXXXXXX")
            elif last:
                p = o_place[i - n]
                pr = "PR0" if p == "P1" else rng.choice(["PR1", "PR4", "PR5"], p=[0.6, 0.3, 0.1])
                pl_post, u = other_pc[i], "XXXXXXX" if p.startswith("U") else f"SC{int(rng.integers(100000, 999999))}"
            else:
                # Earlier placements: children now in residential care often came through homes and fostering;
                # children now fostered rarely did (else the past residential stock would outgrow the present).
                p = rng.choice(np.array(["U4", "U5", "U6", "K2", "H5"], dtype=object),
                               p=[0.35, 0.25, 0.1, 0.2, 0.1] if res else [0.45, 0.3, 0.15, 0.02, 0.08])
                pr = rng.choice(["PR1", "PR4"], p=[0.55, 0.45])
                pl_post, u = other_pc[i], "XXXXXXX" if p.startswith("U") else f"SC{int(rng.integers(100000, 999999))}"
            if j == 0:
                rne, reason = "S", ""
            else:
                rne = "P" if rng.random() < 0.85 else "T"
                in_window = s > window_start
                if last and res and breakdown[i]:
                    reason = rng.choice(np.asarray(BREAKDOWN_REASONS, dtype=object), p=[0.45, 0.15, 0.15, 0.15, 0.1])
                elif in_window:
                    reason = rng.choice(np.asarray(PLANNED_REASONS, dtype=object))
                else:
                    reason = rng.choice(np.asarray(PLANNED_REASONS + BREAKDOWN_REASONS, dtype=object))
            end = starts[j + 1] if not last else None
            rec = "X1" if not last else ""
            # Some non-residential children left care before the audit date.
            if last and not res and rng.random() < OTHERS_LEFT_SHARE:
                end = d - np.timedelta64(int(rng.integers(1, max(int((d - s).astype(int)), 2))), "D")
                end = max(end, s + np.timedelta64(1, "D"))
                rec = rng.choice(["E11", "E13", "E41", "E45"])
            rows.append((all_la[i], all_child[i], s, rne, ls, cin, p, pr, end, rec, reason, home_pc[i], pl_post, u))
    eps = pd.DataFrame(rows, columns=["la_code", "CHILD", "DECOM", "RNE", "LS", "CIN", "PLACE", "PLACE_PROVIDER", "DEC",
                                      "REC", "REASON_PLACE_CHANGE", "HOME_POST", "PL_POST", "URN"])
    eps["DECOM"] = pd.to_datetime(eps["DECOM"])
    eps["DEC"] = pd.to_datetime(eps["DEC"])
    header = pd.DataFrame({"la_code": all_la, "CHILD": all_child, "SEX": np.concatenate([sexes, o_sex]),
                           "DOB": pd.to_datetime(dob), "ETHNIC": rng.choice(np.asarray(ETHNIC, dtype=object), size=n + m),
                           "UPN": rng.choice(["UN1", "UN2", "UN3", "UN4", "UN5"], size=n + m), "MOTHER": "", "MC_DOB": ""})
    header.loc[header["SEX"] == "2", "MOTHER"] = np.where(rng.random(int((header["SEX"] == "2").sum())) < 0.02, "1", "0")
    if leavers and len(eps):
        l_eps, l_header = _leavers(rng, eps, all_la, np.concatenate([home_sector, o_home]), pcs, audit_date,
                                   min(years), fake_share)
        eps = pd.concat([eps, l_eps], ignore_index=True)
        header = pd.concat([header, l_header], ignore_index=True)
    first_decom = eps.groupby(["la_code", "CHILD"])["DECOM"].min()

    # Missing episodes: recent ones for children with the need, some older ones (outside the window) for others.
    mrows = []
    for i in range(n):
        k = int(rng.integers(1, 6)) if missing[i] else (1 if rng.random() < 0.2 else 0)
        in_care = int((d - np.datetime64(first_decom[(la[i], child[i])], "D")).astype(int))
        for _ in range(k):
            if missing[i]:
                ago = int(rng.integers(0, max(min(360, in_care), 1)))
            elif in_care > 400:
                ago = int(rng.integers(400, max(min(700, in_care), 401)))
            else:
                continue
            start = d - np.timedelta64(ago, "D")
            mrows.append((la[i], child[i], dob[i], "M" if rng.random() < 0.8 else "A", start,
                          start + np.timedelta64(int(rng.integers(0, 4)), "D")))
    miss = pd.DataFrame(mrows, columns=["la_code", "CHILD", "DOB", "MISSING", "MIS_START", "MIS_END"])
    for c in ("DOB", "MIS_START", "MIS_END"):
        miss[c] = pd.to_datetime(miss[c])

    # OC2: children looked after for 12 months or more at the year end.
    year_ago = pd.Timestamp(audit_date) - pd.DateOffset(years=1)
    fd = np.array([first_decom.get((la[i], child[i])) for i in range(n)], dtype="datetime64[ns]")
    in_oc2 = fd <= np.datetime64(year_ago)
    oc2 = pd.DataFrame({
        "la_code": la[in_oc2], "CHILD": child[in_oc2], "DOB": pd.to_datetime(dob[:n][in_oc2]),
        "SDQ_SCORE": rng.integers(5, 35, size=int(in_oc2.sum())), "SDQ_REASON": "", "CONVICTED": "0",
        "HEALTH_CHECK": "1", "IMMUNISATIONS": "1", "TEETH_CHECK": "1", "HEALTH_ASSESSMENT": "1",
        "SUBSTANCE_MISUSE": np.where(substance[in_oc2], "1", "0"),
        "INTERVENTION_RECEIVED": np.where(substance[in_oc2], "1", ""), "INTERVENTION_OFFERED": np.where(substance[in_oc2], "1", ""),
    })
    older = ages >= 16
    is_uasc = older & (rng.random(n) < 0.12)
    uasc = pd.DataFrame({"la_code": la[is_uasc], "CHILD": child[is_uasc], "SEX": sexes[is_uasc],
                         "DOB": pd.to_datetime(dob[:n][is_uasc])})
    uasc["DUC"] = uasc["DOB"] + pd.DateOffset(years=18)
    dolo = pd.DataFrame({"la_code": la[dol], "CHILD": child[dol], "DOB": pd.to_datetime(dob[:n][dol]),
                         "DOLO_START": pd.to_datetime(d - rng.integers(10, 200, size=int(dol.sum())).astype("timedelta64[D]")),
                         "DOLO_END": pd.NaT})
    ended = (~dol) & (rng.random(n) < 0.02)  # orders that ended before the audit date
    dolo = pd.concat([dolo, pd.DataFrame({
        "la_code": la[ended], "CHILD": child[ended], "DOB": pd.to_datetime(dob[:n][ended]),
        "DOLO_START": pd.to_datetime(d - np.timedelta64(300, "D")), "DOLO_END": pd.to_datetime(d - np.timedelta64(30, "D"))})],
        ignore_index=True)
    return {"header": header, "episodes": eps, "missing": miss, "oc2": oc2, "uasc": uasc, "dolo": dolo}


def month_ends(first: pd.Timestamp, last: pd.Timestamp) -> np.ndarray:
    """Month-end dates (datetime64[D]) from the first month end on or after first, up to last."""
    return pd.date_range(first, last, freq="ME").to_numpy().astype("datetime64[D]")


def stock(eps: pd.DataFrame, ends: np.ndarray, las: np.ndarray) -> np.ndarray:
    """Children in each (LA, category) at each month end, from episodes (LA code, PLACE, DECOM, DEC)."""
    cats = {c: i for i, c in enumerate(CATEGORY_ORDER)}
    la_ix = pd.Index(las).get_indexer(eps["la_code"])
    cat_ix = pd.Series(category_of(eps["PLACE"])).map(cats).to_numpy()
    start = np.searchsorted(ends, eps["DECOM"].to_numpy().astype("datetime64[D]"), side="left")
    dec = eps["DEC"].to_numpy().astype("datetime64[D]")
    stop = np.where(np.isnat(dec), len(ends), np.searchsorted(ends, np.where(np.isnat(dec), ends[-1], dec), side="left"))
    diff = np.zeros((len(las), len(CATEGORY_ORDER), len(ends) + 1))
    ok = (la_ix >= 0) & (stop > start)
    np.add.at(diff, (la_ix[ok], cat_ix[ok], start[ok]), 1)
    np.add.at(diff, (la_ix[ok], cat_ix[ok], stop[ok]), -1)
    return diff.cumsum(axis=2)[:, :, :-1]


def _fill_spells(rng: np.random.Generator, deficit: np.ndarray, ends: np.ndarray, mean_stay: float):
    """Care spells (start, end days) whose count at each month end is the deficit, every one over by the last."""
    ed = ends.astype(np.int64)
    starts: list[np.ndarray] = []
    stops: list[np.ndarray] = []
    act_s = np.zeros(0, np.int64)
    act_e = np.zeros(0, np.int64)
    prev = ed[0] - 31
    for m, me in enumerate(ed):
        keep = act_e > me
        starts.append(act_s[~keep])
        stops.append(act_e[~keep])
        act_s, act_e = act_s[keep], act_e[keep]
        gap = int(deficit[m]) - len(act_s)
        if gap > 0:
            s = rng.integers(prev + 1, me, size=gap)  # before the month end, so the spell counts there
            stay = rng.exponential(mean_stay, size=gap).astype(np.int64) + 7
            act_s = np.concatenate([act_s, s])
            act_e = np.concatenate([act_e, np.maximum(s + stay, me + 1)])
        elif gap < 0:
            # More children than the trend wants: some leave during this month.
            out = rng.choice(len(act_s), size=-gap, replace=False)
            lo = np.maximum(act_s[out], prev) + 1
            e = lo + (rng.random(-gap) * (me + 1 - lo)).astype(np.int64)
            starts.append(act_s[out])
            stops.append(np.minimum(e, me))
            act_s, act_e = np.delete(act_s, out), np.delete(act_e, out)
        prev = me
    starts.append(act_s)
    stops.append(np.minimum(act_e, ed[-1]))
    return np.concatenate(starts), np.concatenate(stops)


def _leavers(rng: np.random.Generator, eps: pd.DataFrame, child_la: np.ndarray, child_sector: np.ndarray,
             pcs: "_Postcodes", audit_date: dt.date, first_year: int, fake_share: float):
    """Episodes and header rows of children who left care, filling each LA and category up to its trend."""
    last = pd.Timestamp(audit_date)
    window = pd.Timestamp(first_year - 1, 4, 1)
    ends = month_ends(window - pd.DateOffset(years=BURN_IN_YEARS), last)
    las = np.array(sorted(set(eps["la_code"])), dtype=object)
    have = stock(eps, ends, las)
    years_back = (ends[-1] - ends).astype(float) / 365.25
    rows = []
    for i, la in enumerate(las):
        for j, cat in enumerate(CATEGORY_ORDER):
            now = have[i, j, -1]
            g = GROWTH[cat] + rng.normal(0, LA_GROWTH_SD)
            noise = np.zeros(len(ends))
            step = np.sqrt(NOISE_SD ** 2 + NOISE_SMALL / max(now, 1.0)) * np.sqrt(1 - NOISE_AR ** 2)
            for t in range(1, len(ends)):
                noise[t] = NOISE_AR * noise[t - 1] + rng.normal(0, step)
            trend = now * np.exp(-g * years_back + noise - noise[-1])
            deficit = np.rint(np.clip(trend - have[i, j], 0, None))
            deficit[-1] = 0
            s, e = _fill_spells(rng, deficit, ends, LEAVER_STAY[cat])
            seen = e >= np.datetime64(window, "D").astype(np.int64)  # spells over before the first return are in none
            rows.append(pd.DataFrame({"la_code": la, "cat": cat, "start": s[seen], "end": e[seen]}))
    sp = pd.concat(rows, ignore_index=True)
    n = len(sp)
    child = np.array([f"8{k:07d}" for k in range(n)], dtype=object)
    start = sp["start"].to_numpy().astype("datetime64[D]")
    end = sp["end"].to_numpy().astype("datetime64[D]")
    cat = sp["cat"].to_numpy(object)
    lo = np.array([LEAVER_AGES[c][0] for c in cat])
    hi = np.array([LEAVER_AGES[c][1] for c in cat])
    age_out = rng.integers(lo, hi)
    dob = end - (age_out * 365.25 + rng.integers(0, 365, size=n)).astype("timedelta64[D]")
    dob = np.minimum(dob, start - np.timedelta64(30, "D"))
    # Home area: that of a child of the same LA in the sample.
    by_la = pd.Series(np.arange(len(child_la))).groupby(child_la).apply(lambda x: x.to_numpy())
    pick = np.array([by_la[la][int(u * len(by_la[la]))] for la, u in zip(sp["la_code"], rng.random(n))])
    sector = child_sector[pick]
    home_pc = pcs.draw(rng, sector)
    fake = rng.random(n)
    home_pc[fake < fake_share] = FAKE_HOME
    home_pc[(fake >= fake_share) & (fake < fake_share * 1.25)] = BAD_HOME
    place_pc = pcs.draw(rng, sector)
    # A third of leavers moved once within their category; the move splits the spell.
    moved = (rng.random(n) < 0.33) & ((end - start).astype(int) > 60)
    cut = start + (rng.random(n) * (end - start).astype(int)).astype("timedelta64[D]")
    cut = np.clip(cut, start + np.timedelta64(1, "D"), end - np.timedelta64(1, "D"))
    place = np.empty(n, dtype=object)
    place2 = np.empty(n, dtype=object)
    rec = np.empty(n, dtype=object)
    for c, (codes, w) in LEAVER_PLACES.items():
        ix = np.flatnonzero(cat == c)
        place[ix] = rng.choice(np.asarray(codes, dtype=object), size=len(ix), p=w)
        place2[ix] = rng.choice(np.asarray(codes, dtype=object), size=len(ix), p=w)
        rec[ix] = rng.choice(np.asarray(LEAVER_REC[c], dtype=object), size=len(ix))
    provider = rng.choice(np.array(["PR1", "PR4", "PR5"], dtype=object), size=n, p=[0.55, 0.35, 0.1])
    provider[place == "P1"] = "PR0"
    urn = np.where(np.char.startswith(place.astype(str), "U"), "XXXXXXX",
                   np.char.add("SC", rng.integers(100000, 999999, size=n).astype(str))).astype(object)
    reason = rng.choice(np.asarray(PLANNED_REASONS + BREAKDOWN_REASONS, dtype=object), size=n)
    ls = np.where(rng.random(n) < 0.65, "C2", "V2").astype(object)
    cin = np.char.add("N", rng.integers(1, 9, size=n).astype(str)).astype(object)
    first = pd.DataFrame({"la_code": sp["la_code"].to_numpy(object), "CHILD": child, "DECOM": start, "RNE": "S",
                          "LS": ls, "CIN": cin, "PLACE": place, "PLACE_PROVIDER": provider,
                          "DEC": np.where(moved, cut, end), "REC": np.where(moved, "X1", rec), "REASON_PLACE_CHANGE": "",
                          "HOME_POST": home_pc, "PL_POST": place_pc, "URN": urn})
    second = first[moved].assign(DECOM=cut[moved], RNE="P", PLACE=place2[moved], DEC=end[moved], REC=rec[moved],
                                 REASON_PLACE_CHANGE=reason[moved])
    l_eps = pd.concat([first, second], ignore_index=True)
    for c in ("DECOM", "DEC"):
        l_eps[c] = pd.to_datetime(l_eps[c])
    sex = rng.choice(np.array(["1", "2"], dtype=object), size=n)
    header = pd.DataFrame({"la_code": sp["la_code"].to_numpy(object), "CHILD": child, "SEX": sex,
                           "DOB": pd.to_datetime(dob), "ETHNIC": rng.choice(np.asarray(ETHNIC, dtype=object), size=n),
                           "UPN": rng.choice(["UN1", "UN2", "UN3", "UN4", "UN5"], size=n), "MOTHER": "0", "MC_DOB": ""})
    header.loc[header["SEX"] == "1", "MOTHER"] = ""
    return l_eps, header


def _year_slice(tables: dict[str, pd.DataFrame], year: int, latest: bool) -> dict[str, pd.DataFrame]:
    """What one year's return (1 April to 31 March) holds, as it was at that year end."""
    lo, hi = pd.Timestamp(year - 1, 4, 1), pd.Timestamp(year, 3, 31)
    e = tables["episodes"]
    e = e[(e["DECOM"] <= hi) & (e["DEC"].isna() | (e["DEC"] >= lo))].copy()
    still_open = e["DEC"] > hi
    e.loc[still_open, ["DEC"]] = pd.NaT
    e.loc[still_open, "REC"] = ""
    kids = set(zip(e["la_code"], e["CHILD"]))
    def who(df):
        return df[[k in kids for k in zip(df["la_code"], df["CHILD"])]] if len(df) else df
    m = tables["missing"]
    out = {"header": who(tables["header"]), "episodes": e,
           "missing": m[(m["MIS_START"] >= lo) & (m["MIS_START"] <= hi)],
           "uasc": who(tables["uasc"])}
    if latest:
        out["oc2"] = who(tables["oc2"])
        out["dolo"] = who(tables["dolo"])
    else:
        o = tables["oc2"]
        first = e.groupby(["la_code", "CHILD"])["DECOM"].min()
        keep = [first.get(k, hi) <= hi - pd.DateOffset(years=1) for k in zip(o["la_code"], o["CHILD"])]
        out["oc2"] = o[keep]
    return out


def _format(df: pd.DataFrame, table: str, iso: bool, la_as: str, year: int | None) -> pd.DataFrame:
    """One table as an LA would send it: dates in one of the two formats, LA as name or code, optional YEAR."""
    out = df.copy()
    for c in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[c]):
            s = out[c].dt.strftime("%Y-%m-%d" if iso else "%d/%m/%Y")
            out[c] = s.where(out[c].notna(), "")
    la = out.pop("la_code")
    cols = COLUMNS[table]
    out = out[cols]
    out.insert(0, "LA", la.map(region.la_name) if la_as == "name" else la)
    if year is not None:
        out.insert(1, "YEAR", year)
    return out


def write(out_dir: Path, tables: dict[str, pd.DataFrame], years: tuple[int, ...] = YEARS) -> list[Path]:
    """One return per year: earlier years with DD/MM/YYYY and LA names, the latest with ISO dates, ONS codes and YEAR."""
    out_dir = Path(out_dir)
    paths = []
    for year in years:
        folder = out_dir / str(year)
        folder.mkdir(parents=True, exist_ok=True)
        latest = year == max(years)
        for table, df in _year_slice(tables, year, latest).items():
            frame = _format(df.sort_values(["la_code", "CHILD"] + (["DECOM"] if table == "episodes" else [])),
                            table, iso=latest, la_as="code" if latest else "name", year=year if latest else None)
            path = folder / f"{table}.csv"
            frame.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
            paths.append(path)
    return paths


def write_sample(out_dir: Path, needs_csv: Path | None = None, seed: int = 903,
                 other_ratio: float | None = None) -> list[Path]:
    """Write 903 returns for the sample's children (by default sample_data/needs.csv) into out_dir."""
    from audit.paths import SAMPLE_DATA

    needs = pd.read_csv(needs_csv or SAMPLE_DATA / "needs.csv", dtype=str, keep_default_na=False).replace({"": None})
    needs = needs[needs["placement_type"].isin(RESIDENTIAL)].reset_index(drop=True)
    return write(out_dir, generate(needs, seed=seed, other_ratio=other_ratio))
