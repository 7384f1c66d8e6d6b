"""Import one audit round of needs profiles (data contract section 1) atomically.

A file is read and checked completely before the database is touched; any
error means nothing is loaded. Loading a file into a round label replaces that
round (or, with keep_other_las, only the round's children of the LAs in the
file, so LAs can send their parts separately). Other rounds are never touched.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from audit import taxonomy
from audit.geography import geo
from audit.intake import geocode
from audit.geography import region
from audit.db import Database
from audit.intake.problems import ImportFailed, Problem
from audit.intake.readers import norm_header, read_table
from audit.intake.validate import (Column, check, choice, duplicates, flag, integer, la, number, postcode, text,
                            unknown_columns)

Progress = Callable[[float, str], None]

# 85,000 children (every looked-after child in England) is about 15 MB as CSV; far bigger is the wrong file.
MAX_BYTES = 40 * 1024 * 1024
EXAMPLE_ID = "example"  # the template's example row, skipped with a warning if left in

PLACE_CODES = (
    ["A3", "A4", "A5", "A6", "H5", "K1", "K2", "K3", "P1", "P2", "P3", "R1", "R2", "R3", "R5", "S1",
     "T0", "T1", "T2", "T3", "T4", "U1", "U2", "U3", "U4", "U5", "U6", "Z1", "Z11", "Z12", "Z13", "Z14"]
)
SUITABILITY = ["Preferred", "Suitable but not preferred", "Unsuitable", "Not specified"]
CARED_ALONGSIDE = [
    "Solo placement recommended", "With other children recommended", "Only with other older children",
    "Only with other younger children", "No preference",
]
SEX = {"m": "M", "male": "M", "1": "M", "f": "F", "female": "F", "2": "F", "x": "X", "u": "U", "unknown": "U"}

# Placements Data Standard v2 fields the template's optional columns follow (also accepted as headers).
STANDARD_FIELDS = {
    "child_id": "childId",
    "dol_order": "deprivationOfLiberty",
    "foster_suitability": "fosterCareSuitability",
    "residential_suitability": "residentialCareSuitability",
    "supported_suitability": "supportedAccommodationSuitability",
    "cared_alongside": "livingCompanions",
    "weekly_cost": "totalWeeklyCost",
    "placement_urn": "providerURN",
    "placement_postcode": "placementLocation",
}
OPTIONAL_COLUMNS = ["sex", "home_postcode", "placement_type", "placement_urn", "placement_postcode", "weekly_cost",
                    "dol_order", "foster_suitability", "residential_suitability", "supported_suitability",
                    "cared_alongside"]


def standard_field(column: str) -> str | None:
    """The Placements Data Standard v2 field a template column corresponds to, if any."""
    if column in STANDARD_FIELDS:
        return STANDARD_FIELDS[column]
    t = taxonomy.load()
    hit = t.loc[t["code"] == column, "placements_standard_field"]
    return (hit.iat[0] or None) if len(hit) else None


def columns() -> list[str]:
    """Every column of the needs template, in order."""
    return ["child_id", "la", "age", "sex", "home_postcode"] + taxonomy.codes() + OPTIONAL_COLUMNS[2:]


def _aliases(name: str) -> tuple[str, ...]:
    """Header spellings accepted for a column: the Placements Data Standard v2 field name."""
    f = standard_field(name)
    return (norm_header(f),) if f else ()


def specs() -> list[Column]:
    """The needs-profile columns of the data contract, with how each is checked."""
    cols = [
        Column("child_id", text(64), "must be a short pseudonymous reference, not a formula", required=True,
               blank_ok=False, aliases=_aliases("child_id")),
        Column("la", la(outside_ok=True), "is not a local authority in England (use the ONS code or name, e.g. Norfolk)",
               required=True, blank_ok=False),
        Column("age", integer(0, 25), "must be a whole number of years from 0 to 25", required=True, blank_ok=False),
    ]
    cols += [Column(code, flag(), "must be Y or N (or yes/no, 1/0, true/false); blank means not recorded",
                    required=True, aliases=_aliases(code))
             for code in taxonomy.codes()]
    cols += [
        Column("sex", choice(SEX), "must be M, F, X or U"),
        Column("home_postcode", postcode(), "is not a valid postcode or sector (e.g. 'NR21 8'); location left blank",
               severity="warning"),
        Column("placement_type", choice({c.lower(): c for c in PLACE_CODES}), "is not an SSDA903 PLACE code (e.g. K2)"),
        Column("placement_urn", text(20), "must be the home's Ofsted URN", aliases=_aliases("placement_urn")),
        Column("placement_postcode", postcode(), "is not a valid postcode or sector; location left blank",
               severity="warning", aliases=_aliases("placement_postcode")),
        Column("weekly_cost", number(0, 100_000), "must be a weekly cost in pounds from 0 to 100,000",
               aliases=_aliases("weekly_cost")),
        Column("dol_order", flag(), "must be Y or N", aliases=_aliases("dol_order")),
        Column("foster_suitability", choice(SUITABILITY), "must be one of: " + "; ".join(SUITABILITY),
               aliases=_aliases("foster_suitability")),
        Column("residential_suitability", choice(SUITABILITY), "must be one of: " + "; ".join(SUITABILITY),
               aliases=_aliases("residential_suitability")),
        Column("supported_suitability", choice(SUITABILITY), "must be one of: " + "; ".join(SUITABILITY),
               aliases=_aliases("supported_suitability")),
        Column("cared_alongside", choice(CARED_ALONGSIDE), "must be one of: " + "; ".join(CARED_ALONGSIDE),
               aliases=_aliases("cared_alongside")),
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
    round_id: int | None = None
    kept_las: list[str] = field(default_factory=list)


def checksum(path: str | Path) -> str:
    """SHA-256 of the file as received, so a round can be traced to its source."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def locate(values: pd.Series) -> pd.DataFrame:
    """Sector, sector-centre lat/lon and district of each postcode or sector, plus exact lat/lon for full postcodes.

    Only the sector and its centre are ever stored; the exact position of a
    full postcode is returned separately (exact_lat/exact_lon) for distances.
    """
    norm = geocode.normalise(values)
    loc = geocode.sector_centres(norm["sector"]).astype({"lat": float, "lon": float})
    loc["sector"] = norm["sector"]
    exact = geocode.geocode(norm["key"])
    loc["exact_lat"], loc["exact_lon"] = exact["lat"].astype(float), exact["lon"].astype(float)
    # The directory's district for the exact postcode beats the sector's main district.
    loc["district_code"] = exact["district_code"].where(exact["district_code"].notna(), loc["district_code"])
    return loc


def _progress_noop(fraction: float, text: str) -> None:
    """Progress sink for callers that do not show progress."""


def parse(path: str | Path, label: str | None = None, progress: Progress | None = None) -> tuple[pd.DataFrame, list[Problem]]:
    """Read and check a needs file; raise ImportFailed listing every error found."""
    progress = progress or _progress_noop
    label = label or Path(path).name
    progress(0.05, "Reading file")
    raw = read_table(path, required={"child_id", "la", "age"}, label=label, max_bytes=MAX_BYTES)
    problems: list[Problem] = []
    if "child_id" in raw:
        example = raw["child_id"].str.lower() == EXAMPLE_ID
        for r in raw.loc[example, "_row"]:
            problems.append(Problem(label, int(r), "child_id", "EXAMPLE", "the template's example row was skipped", "warning"))
        attrs = dict(raw.attrs)
        raw = raw[~example].reset_index(drop=True)
        raw.attrs = attrs
    if raw.empty:
        raise ImportFailed(problems + [Problem(label, None, None, None, "the file has a header but no rows of children")])
    progress(0.2, f"Checking {len(raw):,} rows")
    cols = specs()
    df, found = check(raw, cols, label)
    problems += found + unknown_columns(raw, cols, label)
    if df.empty:
        raise ImportFailed(problems)
    problems += duplicates(df.dropna(subset=["la"]), ["la", "child_id"], label)
    outside = df["la"].notna() & ~df["la"].isin(list(region.REGION_LAS))
    if outside.any():
        n_las = df.loc[outside, "la"].nunique()
        problems.append(Problem(label, None, "la", None,
                                f"{int(outside.sum()):,} children belong to {n_las} LAs outside the Eastern region: "
                                "loaded, and counted in regional totals", "warning"))
    if any(p.severity == "error" for p in problems):
        raise ImportFailed(problems)
    return df, problems


def _children_frame(df: pd.DataFrame, homes: pd.DataFrame, district_la: dict[str, str]) -> pd.DataFrame:
    """Turn checked rows into the children table: sector locations, distances, placement LA."""
    none = pd.Series(None, index=df.index, dtype=object)
    home = locate(df["home_postcode"]) if "home_postcode" in df else None
    out = pd.DataFrame({
        "child_id": df["child_id"], "la_code": df["la"], "age": df["age"].astype(int),
        "sex": df["sex"] if "sex" in df else none,
    })
    if home is not None:
        out["home_sector"], out["home_district_code"] = home["sector"], home["district_code"]
        out["home_lat"], out["home_lon"] = home["lat"], home["lon"]
    for c in ["placement_type", "placement_urn", "weekly_cost", "dol_order", "foster_suitability",
              "residential_suitability", "supported_suitability", "cared_alongside"]:
        out[c] = df[c] if c in df else none
    if "placement_postcode" in df:
        place = locate(df["placement_postcode"])
    else:
        place = pd.DataFrame({"sector": none, "lat": np.nan, "lon": np.nan, "district_code": none,
                              "exact_lat": np.nan, "exact_lon": np.nan}, index=df.index)
    # A known URN locates the placement even without a postcode.
    if "placement_urn" in df and not homes.empty:
        h = homes.drop_duplicates("urn").set_index("urn").reindex(df["placement_urn"])
        known = h["lat"].notna().to_numpy()
        no_pc = place["lat"].isna().to_numpy()
        use = known & no_pc
        place.loc[use, ["lat", "lon", "district_code"]] = h.loc[use, ["lat", "lon", "district_code"]].to_numpy()
        place.loc[use & place["sector"].isna().to_numpy(), "sector"] = h.loc[use & place["sector"].isna().to_numpy(), "postcode_sector"].to_numpy()
    out["placement_sector"] = place["sector"]
    out["placement_lat"], out["placement_lon"] = place["lat"].astype(float), place["lon"].astype(float)
    out["placement_la_code"] = place["district_code"].map(district_la)
    out["placement_in_region"] = out["placement_la_code"].notna().where(place["lat"].notna())
    if home is not None:
        # Exact positions where both ends were full postcodes; sector centroids otherwise.
        hl = home["exact_lat"].fillna(home["lat"]).to_numpy(float)
        hn = home["exact_lon"].fillna(home["lon"]).to_numpy(float)
        pl = place["exact_lat"].fillna(place["lat"]).to_numpy(float)
        pn = place["exact_lon"].fillna(place["lon"]).to_numpy(float)
        # Stored to the whole km: with the stored sectors, an exact distance narrowed a child's home postcode from
        # about 300 candidates to 2 (issue 12); a kilometre is the precision every figure shown needs.
        out["distance_km"] = np.round(geo.haversine_km(hl, hn, pl, pn))
    return out


def blanks_by_column(df: pd.DataFrame) -> pd.Series:
    """How many cells each column of the file left blank (need columns: 'not recorded')."""
    cols = [c for c in columns() if c in df.columns]
    return df[cols].isna().sum().rename("blank")


def record_import(con, kind: str, source: str, digest: str, n_rows: int, n_warnings: int, detail: str = "",
                  round_id: int | None = None) -> None:
    """Append to the import log inside the caller's transaction."""
    next_id = con.execute("SELECT coalesce(max(import_id), 0) + 1 FROM imports").fetchone()[0]
    con.execute("INSERT INTO imports (import_id, kind, round_id, source_file, checksum, n_rows, n_warnings, detail) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [next_id, kind, round_id, source, digest, n_rows, n_warnings, detail])


ROUND_TABLES = ("children", "child_needs", "child_cohorts")
ROUND_FITS = ("cohort_names", "cohort_fits")


def write_round(con, round_label: str, children: pd.DataFrame, needs: pd.DataFrame, *, source: str, digest: str,
                audit_date: str | None, is_sample: bool, source_kind: str, keep_other_las: bool) -> tuple[int, list[str]]:
    """Replace a round (or its LAs' part of it) inside the caller's transaction; return its id and kept LAs.

    needs is wide: la_code, child_id and one boolean column per need code.
    """
    label = round_label.strip()
    existing = con.execute("SELECT round_id, source_file FROM rounds WHERE label = ?", [label]).fetchone()
    round_id = existing[0] if existing else con.execute("SELECT coalesce(max(round_id), 0) + 1 FROM rounds").fetchone()[0]
    las = sorted(children["la_code"].unique())
    kept: list[str] = []
    if existing and keep_other_las:
        kept = [r[0] for r in con.execute(
            "SELECT DISTINCT la_code FROM children WHERE round_id = ? AND la_code NOT IN (SELECT unnest(?::VARCHAR[])) ORDER BY 1",
            [round_id, las]).fetchall()]
        for table in ROUND_TABLES:
            con.execute(f"DELETE FROM {table} WHERE round_id = ? AND la_code IN (SELECT unnest(?::VARCHAR[]))", [round_id, las])
    else:
        for table in ROUND_TABLES:
            con.execute(f"DELETE FROM {table} WHERE round_id = ?", [round_id])
    # Cohorts fitted on the old round no longer describe it.
    con.execute("DELETE FROM child_cohorts WHERE round_id = ?", [round_id])
    for table in ROUND_FITS:
        con.execute(f"DELETE FROM {table} WHERE round_id = ?", [round_id])
    source_file = source
    if kept and existing and existing[1]:
        earlier = [s for s in existing[1].split("; ") if s and s != source]
        source_file = "; ".join(earlier + [source])
    con.execute("DELETE FROM rounds WHERE round_id = ?", [round_id])
    con.execute(
        "INSERT INTO rounds (round_id, label, audit_date, source_file, n_rows, checksum, is_sample, source_kind) "
        "VALUES (?, ?, ?, ?, 0, ?, ?, ?)",
        [round_id, label, audit_date, source_file, digest, is_sample, source_kind],
    )
    children = children.copy()
    children.insert(0, "round_id", round_id)
    con.register("_children", children)
    con.execute(f"INSERT INTO children ({', '.join(children.columns)}) SELECT * FROM _children")
    con.unregister("_children")
    # Unpivoting in DuckDB is far quicker than building 22 rows per child in pandas.
    codes = [c for c in needs.columns if c not in ("la_code", "child_id")]
    con.register("_needs", needs)
    con.execute(f"""INSERT INTO child_needs (round_id, la_code, child_id, code, present)
                    SELECT {int(round_id)}, la_code, child_id, code, present
                    FROM _needs UNPIVOT INCLUDE NULLS (present FOR code IN ({', '.join(codes)}))""")
    con.unregister("_needs")
    con.execute("UPDATE rounds SET n_rows = (SELECT count(*) FROM children WHERE round_id = ?) WHERE round_id = ?",
                [round_id, round_id])
    return round_id, kept


def wide_needs(df: pd.DataFrame, codes: list[str]) -> pd.DataFrame:
    """One row per child: la_code, child_id and every need code (NA when not recorded or not in the file)."""
    out = pd.DataFrame({"la_code": df["la"].to_numpy(object), "child_id": df["child_id"].to_numpy(object)})
    for code in codes:
        out[code] = (df[code].astype("boolean").to_numpy() if code in df
                     else pd.array([pd.NA] * len(df), dtype="boolean"))
    return out


def load(db: Database, path: str | Path, round_label: str, *, audit_date: str | None = None,
         is_sample: bool = False, progress: Progress | None = None, source_name: str | None = None,
         keep_other_las: bool = False) -> NeedsImport:
    """Check a needs file and replace the round with that label in one transaction."""
    progress = progress or _progress_noop
    label = source_name or Path(path).name
    if not round_label or not str(round_label).strip():
        raise ImportFailed([Problem(label, None, None, None, "an audit round label is required (e.g. '2025 Q1')")])
    if audit_date:
        try:
            audit_date = pd.Timestamp(audit_date).date().isoformat()
        except (ValueError, TypeError):
            raise ImportFailed([Problem(label, None, None, audit_date, "the audit date must be a date like 2025-03-31")]) from None
    df, problems = parse(path, label, progress)
    digest = checksum(path)
    codes = taxonomy.codes()
    warnings = [p for p in problems if p.severity == "warning"]
    progress(0.5, "Locating homes and placements")
    needs = wide_needs(df, codes)
    with db.write() as con:
        homes = con.execute("SELECT urn, lat, lon, district_code, postcode_sector FROM homes").df()
        district_la = dict(con.execute("SELECT district_code, la_code FROM districts").fetchall())
        children = _children_frame(df, homes, district_la)
        progress(0.7, "Writing the round")
        round_id, kept = write_round(con, round_label, children, needs, source=label, digest=digest,
                                     audit_date=audit_date, is_sample=is_sample, source_kind="needs",
                                     keep_other_las=keep_other_las)
        record_import(con, "needs", label, digest, len(children), len(warnings), f"round '{round_label.strip()}'",
                      round_id)
    progress(1.0, "Done")
    by_la = children.groupby("la_code").size().rename("children").reset_index()
    by_la.insert(1, "la", by_la["la_code"].map(region.la_name))
    return NeedsImport(round_label.strip(), len(children), by_la, blanks_by_column(df), warnings, round_id, kept)


def delete_round(db: Database, round_label: str) -> int:
    """Delete one audit round and everything derived from it; returns the number of children removed."""
    with db.write() as con:
        hit = con.execute("SELECT round_id FROM rounds WHERE label = ?", [round_label]).fetchone()
        if hit is None:
            raise ImportFailed([Problem("rounds", None, "label", round_label, "no audit round has this label")])
        round_id = hit[0]
        n = con.execute("SELECT count(*) FROM children WHERE round_id = ?", [round_id]).fetchone()[0]
        for table in ROUND_TABLES + ROUND_FITS + ("rounds",):
            con.execute(f"DELETE FROM {table} WHERE round_id = ?", [round_id])
    return int(n)
