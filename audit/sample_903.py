"""SYNTHETIC SSDA903 returns made from the sample's needs file, so the 903 importer has files to read.

Each sample child in residential care gets a looked-after history that ends in
the placement the needs file gives (type, URN, sector), with a placement move
in the last 12 months for an unplanned ending (a breakdown-type
REASON_PLACE_CHANGE) when the child has `placement_breakdown`, missing episodes
when the child has `missing`, an OC2 row with SUBSTANCE_MISUSE when looked
after for a year, and a DoLo row when the child has a DoL order. Other children
in foster care and supported accommodation make the history realistic. Two
returns are written so the importer meets both date formats, an LA column by
name and by code, a YEAR column, a year in the folder name and an episode that
appears in both years. A few postcodes are fake (ZZ99) or malformed on purpose.
Full postcodes are real ONS postcodes drawn at random within the child's sector.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from audit import postcodes, region
from audit.import_903 import BREAKDOWN_REASONS, RESIDENTIAL
from audit.validate import any_la_code

AUDIT_DATE = dt.date(2024, 3, 31)
YEARS = (2023, 2024)
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


def generate(needs: pd.DataFrame, seed: int = 903, other_ratio: float = 4.0, audit_date: dt.date = AUDIT_DATE,
             fake_share: float = 0.02) -> dict[str, pd.DataFrame]:
    """Long tables (with an LA code column) for every child: header, episodes, missing, oc2, uasc, dolo."""
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
                p = rng.choice(np.array(["U4", "U5", "U6", "K2", "H5"], dtype=object), p=[0.35, 0.25, 0.1, 0.2, 0.1])
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
            if last and not res and rng.random() < 0.12:
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


def _year_slice(tables: dict[str, pd.DataFrame], year: int) -> dict[str, pd.DataFrame]:
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
    if year == max(YEARS):
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


def write(out_dir: Path, tables: dict[str, pd.DataFrame]) -> list[Path]:
    """Two years of returns: 2023 with DD/MM/YYYY and LA names, 2024 with ISO dates, ONS codes and a YEAR column."""
    out_dir = Path(out_dir)
    paths = []
    for year in YEARS:
        folder = out_dir / str(year)
        folder.mkdir(parents=True, exist_ok=True)
        latest = year == max(YEARS)
        for table, df in _year_slice(tables, year).items():
            frame = _format(df.sort_values(["la_code", "CHILD"] + (["DECOM"] if table == "episodes" else [])),
                            table, iso=latest, la_as="code" if latest else "name", year=year if latest else None)
            path = folder / f"{table}.csv"
            frame.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
            paths.append(path)
    return paths


def write_sample(out_dir: Path, needs_csv: Path | None = None, seed: int = 903, other_ratio: float = 4.0) -> list[Path]:
    """Write 903 returns for the sample's children (by default sample_data/needs.csv) into out_dir."""
    from audit.paths import SAMPLE_DATA

    needs = pd.read_csv(needs_csv or SAMPLE_DATA / "needs.csv", dtype=str, keep_default_na=False).replace({"": None})
    needs = needs[needs["placement_type"].isin(RESIDENTIAL)].reset_index(drop=True)
    return write(out_dir, generate(needs, seed=seed, other_ratio=other_ratio))
