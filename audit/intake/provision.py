"""Import provision: children's homes, their occupancy by LA, and short-break providers and children."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from audit import taxonomy
from audit.geography import geo
from audit.geography import postcodes
from audit.geography import region
from audit.db import Database
from audit.intake.needs import checksum, record_import
from audit.intake.problems import ImportFailed, Problem
from audit.intake.readers import read_table
from audit.intake.validate import (NAME_MESSAGE, Column, check, choice, duplicates, integer, name, number, postcode, text,
                                   unknown_columns)

Progress = Callable[[float, str], None]

SECTORS = ["Local authority", "Private", "Voluntary"]
GRADES = ["Outstanding", "Good", "Requires improvement", "Inadequate", "Not yet inspected"]
SEN_CODES = ["SPLD", "MLD", "SLD", "PMLD", "SEMH", "SLCN", "HI", "VI", "MSI", "PD", "ASD", "OTH"]
TIERS = ["Universal", "Additional", "Complex", "Specialist"]
SB_TYPES = ["group", "overnight", "community club", "home-based"]
OUTSIDE = "OUTSIDE"


def _noop(fraction: float, text: str) -> None:
    """Progress sink for callers that do not show progress."""


def _coords(df: pd.DataFrame, label: str) -> tuple[pd.DataFrame, list[Problem]]:
    """Lat/lon from lat+lon columns, else from the postcode (sector centroid); a row with neither is an error."""
    lat = df["lat"] if "lat" in df else pd.Series(np.nan, index=df.index)
    lon = df["lon"] if "lon" in df else pd.Series(np.nan, index=df.index)
    sector = df["postcode"].map(postcodes.sector_of) if "postcode" in df else pd.Series(None, index=df.index, dtype=object)
    need = lat.isna() | lon.isna()
    if need.any() and "postcode" in df:
        loc = geo.geocode_sectors(sector[need])
        lat, lon = lat.copy(), lon.copy()
        lat[need], lon[need] = loc["lat"].to_numpy(), loc["lon"].to_numpy()
    problems = [
        Problem(label, int(df.at[i, "_row"]), "postcode", df.at[i, "postcode"] if "postcode" in df else None,
                "no location: give a known postcode, or lat and lon")
        for i in df.index[(lat.isna() | lon.isna()).to_numpy()]
    ]
    district = pd.Series(geo.district_of_points(lat.to_numpy(float), lon.to_numpy(float)), index=df.index)
    return pd.DataFrame({"lat": lat.astype(float), "lon": lon.astype(float), "sector": sector, "district_code": district}), problems


def _needs_tokens(series: pd.Series, label: str, rows: pd.Series, column: str) -> tuple[pd.DataFrame, list[Problem]]:
    """Expand 'code;category;...' cells into (row index, need code) pairs, reporting unknown tokens."""
    pairs, problems = [], []
    for idx, cell in series.items():
        for token in filter(None, (t.strip() for t in str(cell or "").replace(",", ";").split(";"))):
            found = taxonomy.resolve_need(token)
            if not found:
                problems.append(Problem(label, int(rows.at[idx]), column, token, "is not a need code or category of the taxonomy"))
            pairs += [(idx, code) for code in found]
    return pd.DataFrame(pairs, columns=["idx", "code"]).drop_duplicates(), problems


def home_specs() -> list[Column]:
    """Columns of the children's homes file (data contract section 2)."""
    return [
        Column("urn", text(20), "must be the home's Ofsted URN", required=True, blank_ok=False),
        Column("name", name(200), NAME_MESSAGE),
        Column("provider", name(200), NAME_MESSAGE),
        Column("sector", choice(SECTORS), "must be one of: " + "; ".join(SECTORS)),
        Column("la", text(100), "must be an LA name or code"),
        Column("postcode", postcode(), "is not a valid postcode or sector"),
        Column("lat", number(49.0, 61.0), "must be a latitude in England (49 to 61)"),
        Column("lon", number(-8.0, 2.5), "must be a longitude in England (-8 to 2.5)"),
        Column("places", integer(0, 200), "must be a whole number of places from 0 to 200", required=True, blank_ok=False),
        Column("ofsted_grade", choice(GRADES), "must be one of: " + "; ".join(GRADES)),
        Column("needs_met", lambda s: (s, s != s), ""),  # tokens checked separately
        Column("weekly_fee", number(0, 100_000), "must be a weekly fee in pounds from 0 to 100,000"),
    ]


def parse_homes(path: str | Path, label: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame, list[Problem]]:
    """Check a homes file; return the homes table, their needs met, and warnings."""
    label = label or Path(path).name
    raw = read_table(path, required={"urn", "places"}, label=label)
    if raw.empty:
        raise ImportFailed([Problem(label, None, None, None, "the file has a header but no rows of data")])
    cols = home_specs()
    df, problems = check(raw, cols, label)
    problems += unknown_columns(raw, cols, label)
    if df.empty:
        raise ImportFailed(problems)
    problems += duplicates(df, ["urn"], label)
    loc, loc_problems = _coords(df, label)
    problems += loc_problems
    needs, need_problems = _needs_tokens(df.get("needs_met", pd.Series("", index=df.index)), label, df["_row"], "needs_met")
    problems += need_problems
    if any(p.severity == "error" for p in problems):
        raise ImportFailed(problems)
    district_la = region.district_la()
    homes = pd.DataFrame({
        "urn": df["urn"], "name": df.get("name"), "provider": df.get("provider"), "sector": df.get("sector"),
        "la_code": loc["district_code"].map(district_la).fillna(df.get("la", pd.Series(None, index=df.index)).map(region.la_code)),
        "district_code": loc["district_code"], "postcode_sector": loc["sector"],
        "lat": loc["lat"], "lon": loc["lon"], "places": df["places"].astype(int),
        "ofsted_grade": df.get("ofsted_grade"), "weekly_fee": df.get("weekly_fee"),
        "location_precision": np.where(df["lat"].notna() & df["lon"].notna(), "point", "sector")
        if "lat" in df and "lon" in df else "sector",
    })
    home_needs = pd.DataFrame({"urn": df.loc[needs["idx"], "urn"].to_numpy(), "code": needs["code"].to_numpy()})
    return homes, home_needs, problems


def load_homes(db: Database, path: str | Path, source: str = "homes", progress: Progress = _noop,
               source_name: str | None = None) -> dict:
    """Replace the homes table (and the needs they meet) in one transaction."""
    label = source_name or Path(path).name
    progress(0.1, "Checking homes")
    homes, home_needs, warnings = parse_homes(path, label)
    homes["source"] = source
    progress(0.6, "Writing homes")
    with db.write() as con:
        record_import(con, "homes", label, checksum(path), len(homes), len(warnings))
        con.execute("DELETE FROM home_needs")
        con.execute("DELETE FROM homes")
        con.register("_h", homes)
        con.execute(f"INSERT INTO homes ({', '.join(homes.columns)}) SELECT * FROM _h")
        con.register("_hn", home_needs)
        con.execute("INSERT INTO home_needs SELECT DISTINCT urn, code FROM _hn")
    progress(1.0, "Done")
    return {"homes": len(homes), "places": int(homes["places"].sum()), "warnings": warnings}


def load_occupancy(db: Database, path: str | Path, progress: Progress = _noop, source_name: str | None = None) -> dict:
    """Replace which LAs' children occupy which homes' places (LAs outside the region pooled)."""
    label = source_name or Path(path).name
    raw = read_table(path, required={"urn", "la", "places_used"}, label=label)
    cols = [
        Column("urn", text(20), "must be a URN", required=True, blank_ok=False),
        Column("la", text(100), "must be an LA code or name", required=True, blank_ok=False),
        Column("places_used", integer(0, 200), "must be a whole number from 0 to 200", required=True, blank_ok=False),
    ]
    df, problems = check(raw, cols, label)
    problems += unknown_columns(raw, cols, label)
    if any(p.severity == "error" for p in problems):
        raise ImportFailed(problems)
    df["la_code"] = df["la"].map(lambda v: region.la_code(v) or OUTSIDE)
    occ = df.groupby(["urn", "la_code"], as_index=False)["places_used"].sum()
    with db.write() as con:
        known = {r[0] for r in con.execute("SELECT urn FROM homes").fetchall()}
        unknown = sorted(set(occ["urn"]) - known)
        if unknown:
            rows = df.set_index("urn")["_row"]
            raise ImportFailed([Problem(label, int(np.atleast_1d(rows.loc[u])[0]), "urn", u, "is not a home in the homes table (import homes first)") for u in unknown[:200]])
        record_import(con, "occupancy", label, checksum(path), len(occ), len(problems))
        con.execute("DELETE FROM home_occupancy")
        con.register("_o", occ)
        con.execute("INSERT INTO home_occupancy SELECT urn, la_code, places_used FROM _o")
    progress(1.0, "Done")
    return {"rows": len(occ), "places_used": int(occ["places_used"].sum()), "warnings": problems}


def load_shortbreaks(db: Database, providers_path: str | Path, children_path: str | Path, progress: Progress = _noop,
                     source_names: tuple[str, str] | None = None) -> dict:
    """Replace short-break providers and children (data contract section 3) in one transaction."""
    p_label, c_label = source_names or (Path(providers_path).name, Path(children_path).name)
    progress(0.1, "Checking providers")
    raw_p = read_table(providers_path, required={"provider_id", "capacity"}, label=p_label)
    p_cols = [
        Column("provider_id", text(40), "must be an identifier", required=True, blank_ok=False),
        Column("name", name(200), NAME_MESSAGE),
        Column("postcode", postcode(), "is not a valid postcode or sector"),
        Column("lat", number(49.0, 61.0), "must be a latitude in England"),
        Column("lon", number(-8.0, 2.5), "must be a longitude in England"),
        Column("capacity", integer(0, 10_000), "must be a whole number of children a week", required=True, blank_ok=False),
        Column("min_age", integer(0, 25), "must be an age from 0 to 25"),
        Column("max_age", integer(0, 25), "must be an age from 0 to 25"),
        Column("needs_supported", text(200), "must list SEN codes separated by ';'"),
        Column("type", choice(SB_TYPES), "must be one of: " + "; ".join(SB_TYPES)),
    ]
    prov, problems = check(raw_p, p_cols, p_label)
    problems += unknown_columns(raw_p, p_cols, p_label)
    if not prov.empty:
        problems += duplicates(prov, ["provider_id"], p_label)
        loc, loc_problems = _coords(prov, p_label)
        problems += loc_problems
        for idx, cell in prov.get("needs_supported", pd.Series(dtype=object)).items():
            for tok in filter(None, (t.strip().upper() for t in str(cell or "").split(";"))):
                if tok not in SEN_CODES + ["ALL"]:
                    problems.append(Problem(p_label, int(prov.at[idx, "_row"]), "needs_supported", tok, "is not an SEN primary-need code"))
    progress(0.4, "Checking children")
    raw_c = read_table(children_path, required={"child_id", "la", "age"}, label=c_label)
    c_cols = [
        Column("child_id", text(64), "must be a pseudonymous reference", required=True, blank_ok=False),
        Column("la", text(100), "must be an LA code or name", required=True, blank_ok=False),
        Column("age", integer(0, 25), "must be a whole number of years from 0 to 25", required=True, blank_ok=False),
        Column("home_postcode", postcode(), "is not a valid postcode or sector; location left blank", severity="warning"),
        Column("primary_need", choice({c.lower(): c for c in SEN_CODES}), "must be an SEN primary-need code: " + ", ".join(SEN_CODES)),
        Column("tier", choice(TIERS), "must be one of: " + "; ".join(TIERS)),
    ]
    kids, c_problems = check(raw_c, c_cols, c_label)
    problems += c_problems + unknown_columns(raw_c, c_cols, c_label)
    if not kids.empty:
        kids["la_code"] = kids["la"].map(region.la_code)
        for idx in kids.index[kids["la_code"].isna()]:
            problems.append(Problem(c_label, int(kids.at[idx, "_row"]), "la", kids.at[idx, "la"], "is not one of the 11 Eastern-region LAs"))
        problems += duplicates(kids, ["la_code", "child_id"], c_label)
    if any(p.severity == "error" for p in problems) or prov.empty or kids.empty:
        raise ImportFailed(problems or [Problem(p_label, None, None, None, "no rows of data")])
    home = geo.geocode_sectors(kids["home_postcode"].map(postcodes.sector_of)) if "home_postcode" in kids else None
    providers = pd.DataFrame({
        "provider_id": prov["provider_id"], "name": prov.get("name"), "lat": loc["lat"], "lon": loc["lon"],
        "district_code": loc["district_code"], "la_code": loc["district_code"].map(region.district_la()),
        "capacity": prov["capacity"].astype(int), "min_age": prov.get("min_age"), "max_age": prov.get("max_age"),
        "needs_supported": prov.get("needs_supported"), "type": prov.get("type"),
    })
    children = pd.DataFrame({
        "child_id": kids["child_id"], "la_code": kids["la_code"], "age": kids["age"].astype(int),
        "home_sector": kids["home_postcode"].map(postcodes.sector_of) if home is not None else None,
        "home_district_code": home["district_code"] if home is not None else None,
        "lat": home["lat"] if home is not None else np.nan, "lon": home["lon"] if home is not None else np.nan,
        "primary_need": kids.get("primary_need"), "tier": kids.get("tier"),
    })
    progress(0.8, "Writing short breaks")
    with db.write() as con:
        n_warn = sum(p.severity == "warning" for p in problems)
        record_import(con, "shortbreaks", f"{p_label}; {c_label}",
                      f"{checksum(providers_path)};{checksum(children_path)}", len(providers) + len(children), n_warn,
                      f"{len(providers)} providers, {len(children)} children")
        con.execute("DELETE FROM shortbreak_providers")
        con.execute("DELETE FROM shortbreak_children")
        con.register("_p", providers)
        con.execute(f"INSERT INTO shortbreak_providers ({', '.join(providers.columns)}) SELECT * FROM _p")
        con.register("_c", children)
        con.execute(f"INSERT INTO shortbreak_children ({', '.join(children.columns)}) SELECT * FROM _c")
    progress(1.0, "Done")
    return {"providers": len(providers), "children": len(children),
            "warnings": [p for p in problems if p.severity == "warning"]}
