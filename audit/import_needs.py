"""Import one audit round of needs profiles (data contract section 1) atomically."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from audit import geo, postcodes, taxonomy
from audit.db import Database
from audit.problems import ImportFailed, Problem
from audit.readers import read_table
from audit.validate import Column, check, choice, duplicates, flag, integer, la, number, postcode, text, unknown_columns

Progress = Callable[[float, str], None]

PLACE_CODES = (
    ["A3", "A4", "A5", "A6", "H5", "K1", "K2", "K3", "P1", "P2", "P3", "R1", "R2", "R3", "R5", "S1",
     "T0", "T1", "T2", "T3", "T4", "U1", "U2", "U3", "U4", "U5", "U6", "Z1", "Z11", "Z12", "Z13", "Z14"]
)
SUITABILITY = ["Preferred", "Suitable but not preferred", "Unsuitable", "Not specified"]
CARED_ALONGSIDE = [
    "Solo placement recommended", "With other children recommended", "Only with other older children",
    "Only with other younger children", "No preference",
]


def specs() -> list[Column]:
    """The needs-profile columns of the data contract, with how each is checked."""
    cols = [
        Column("child_id", text(64), "must be a short pseudonymous reference, not a formula", required=True, blank_ok=False),
        Column("la", la(), "is not one of the 11 Eastern-region LAs (use the ONS code or name)", required=True, blank_ok=False),
        Column("age", integer(0, 25), "must be a whole number of years from 0 to 25", required=True, blank_ok=False),
    ]
    cols += [Column(code, flag(), "must be Y or N (or yes/no, 1/0, true/false); blank means not recorded", required=True)
             for code in taxonomy.codes()]
    cols += [
        Column("sex", choice({"m": "M", "male": "M", "f": "F", "female": "F", "x": "X", "u": "U", "unknown": "U"}),
               "must be M, F, X or U"),
        Column("home_postcode", postcode(), "is not a valid postcode or sector (e.g. 'NR21 8'); location left blank", severity="warning"),
        Column("placement_type", choice({c.lower(): c for c in PLACE_CODES}), "is not an SSDA903 PLACE code (e.g. K2)"),
        Column("placement_urn", text(20), "must be the home's Ofsted URN"),
        Column("placement_postcode", postcode(), "is not a valid postcode or sector; location left blank", severity="warning"),
        Column("weekly_cost", number(0, 100_000), "must be a weekly cost in pounds from 0 to 100,000"),
        Column("dol_order", flag(), "must be Y or N"),
        Column("foster_suitability", choice(SUITABILITY), "must be one of: " + "; ".join(SUITABILITY)),
        Column("residential_suitability", choice(SUITABILITY), "must be one of: " + "; ".join(SUITABILITY)),
        Column("supported_suitability", choice(SUITABILITY), "must be one of: " + "; ".join(SUITABILITY)),
        Column("cared_alongside", choice(CARED_ALONGSIDE), "must be one of: " + "; ".join(CARED_ALONGSIDE)),
    ]
    return cols


@dataclass
class NeedsImport:
    """What an import loaded, for the summary screen and the CLI."""

    round_label: str
    rows: int
    by_la: pd.DataFrame
    blanks: pd.Series
    warnings: list[Problem] = field(default_factory=list)


def _checksum(path: Path) -> str:
    """SHA-256 of the file as received, so a round can be traced to its source."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _locate(norm: pd.Series) -> pd.DataFrame:
    """Sector, lat/lon and district for each postcode; full postcodes geocode precisely, sectors to centroids."""
    sector = norm.map(postcodes.sector_of)
    loc = geo.geocode_sectors(sector)
    full = norm.notna() & (norm.str.len() > sector.str.len())
    if full.any():
        exact = postcodes.geocode(norm[full])
        ok = exact["lat"].notna()
        loc.loc[exact.index[ok], ["lat", "lon", "district_code"]] = exact.loc[ok, ["lat", "lon", "district_code"]].to_numpy()
    loc["sector"] = sector
    return loc


def parse(path: str | Path, label: str | None = None, progress: Progress | None = None) -> tuple[pd.DataFrame, list[Problem]]:
    """Read and check a needs file; raise ImportFailed listing every error found."""
    progress = progress or (lambda f, t: None)
    label = label or Path(path).name
    progress(0.05, "Reading file")
    raw = read_table(path, required={"child_id", "la", "age"}, label=label)
    if raw.empty:
        raise ImportFailed([Problem(label, None, None, None, "the file has a header but no rows of data")])
    progress(0.2, f"Checking {len(raw):,} rows")
    cols = specs()
    df, problems = check(raw, cols, label)
    problems += unknown_columns(raw, cols, label)
    if df.empty:
        raise ImportFailed(problems)
    problems += duplicates(df.assign(child_id=df["child_id"]), ["la", "child_id"], label)
    if any(p.severity == "error" for p in problems):
        raise ImportFailed(problems)
    return df, problems


def _children_frame(df: pd.DataFrame, homes: pd.DataFrame, district_la: dict[str, str]) -> pd.DataFrame:
    """Turn checked rows into the children table: locations, distances, placement LA."""
    home = _locate(df["home_postcode"]) if "home_postcode" in df else None
    out = pd.DataFrame({
        "child_id": df["child_id"], "la_code": df["la"], "age": df["age"].astype(int),
        "sex": df.get("sex"),
    })
    if home is not None:
        out["home_sector"], out["home_district_code"] = home["sector"], home["district_code"]
        out["home_lat"], out["home_lon"] = home["lat"], home["lon"]
    for c in ["placement_type", "placement_urn", "weekly_cost", "dol_order", "foster_suitability",
              "residential_suitability", "supported_suitability", "cared_alongside"]:
        out[c] = df[c] if c in df else None
    place = _locate(df["placement_postcode"]) if "placement_postcode" in df else pd.DataFrame(
        {"sector": None, "lat": np.nan, "lon": np.nan, "district_code": None}, index=df.index)
    # A known URN locates the placement even without a postcode.
    if "placement_urn" in df and not homes.empty:
        h = homes.set_index("urn").reindex(df["placement_urn"])
        known = h["lat"].notna().to_numpy()
        place.loc[known, ["lat", "lon", "district_code"]] = h.loc[known, ["lat", "lon", "district_code"]].to_numpy()
        place.loc[known & place["sector"].isna().to_numpy(), "sector"] = h.loc[known & place["sector"].isna().to_numpy(), "postcode_sector"].to_numpy()
    out["placement_sector"] = place["sector"]
    out["placement_lat"], out["placement_lon"] = place["lat"].astype(float), place["lon"].astype(float)
    out["placement_la_code"] = place["district_code"].map(district_la)
    out["placement_in_region"] = out["placement_la_code"].notna().where(place["lat"].notna())
    if home is not None:
        out["distance_km"] = geo.haversine_km(out["home_lat"].to_numpy(float), out["home_lon"].to_numpy(float),
                                              out["placement_lat"].to_numpy(float), out["placement_lon"].to_numpy(float))
    return out


def load(db: Database, path: str | Path, round_label: str, *, audit_date: str | None = None,
         is_sample: bool = False, progress: Progress | None = None, source_name: str | None = None) -> NeedsImport:
    """Check a needs file and replace the round with that label in one transaction."""
    progress = progress or (lambda f, t: None)
    label = source_name or Path(path).name
    if not round_label or not round_label.strip():
        raise ImportFailed([Problem(label, None, None, None, "an audit round label is required (e.g. '2025 Q1')")])
    df, problems = parse(path, label, progress)
    checksum = _checksum(path)
    codes = taxonomy.codes()
    progress(0.5, "Locating homes and placements")
    with db.write() as con:
        homes = con.execute("SELECT urn, lat, lon, district_code, postcode_sector FROM homes").df()
        district_la = dict(con.execute("SELECT district_code, la_code FROM districts").fetchall())
        children = _children_frame(df, homes, district_la)
        progress(0.7, "Writing the round")
        existing = con.execute("SELECT round_id FROM rounds WHERE label = ?", [round_label]).fetchone()
        round_id = existing[0] if existing else (con.execute("SELECT coalesce(max(round_id), 0) + 1 FROM rounds").fetchone()[0])
        for table in ("children", "child_needs", "child_cohorts", "cohort_names", "cohort_fits", "rounds"):
            con.execute(f"DELETE FROM {table} WHERE round_id = ?", [round_id])
        con.execute(
            "INSERT INTO rounds (round_id, label, audit_date, source_file, n_rows, checksum, is_sample) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [round_id, round_label.strip(), audit_date, label, len(children), checksum, is_sample],
        )
        children.insert(0, "round_id", round_id)
        con.register("_children", children)
        con.execute(f"INSERT INTO children ({', '.join(children.columns)}) SELECT * FROM _children")
        needs = df[["child_id", "la"] + codes].melt(id_vars=["child_id", "la"], var_name="code", value_name="present")
        needs.insert(0, "round_id", round_id)
        needs["present"] = needs["present"].astype("boolean")
        con.register("_needs", needs)
        con.execute("INSERT INTO child_needs (round_id, la_code, child_id, code, present) "
                    "SELECT round_id, la, child_id, code, present FROM _needs")
    progress(1.0, "Done")
    by_la = children.groupby("la_code").size().rename("children").reset_index()
    blanks = df[codes].isna().sum()
    return NeedsImport(round_label, len(children), by_la, blanks[blanks > 0], [p for p in problems if p.severity == "warning"])
