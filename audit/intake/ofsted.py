"""Import children's homes from Ofsted's providers list (CSV or XLSX), in the column names of any release.

Ofsted's list is national and covers every kind of social care provider; the
import keeps registered children's homes (including secure children's homes and
residential special schools registered as homes) in the Eastern region, and
leaves out closed or resigned registrations. Ofsted withholds children's home
addresses: a home with a postcode is placed at its sector's centre, one with
only its local authority at the LA's centre (location_precision 'la'), and the
import says how many.

Registration categories of need -> needs taxonomy (OFSTED_NEEDS). Ofsted says
which children a home may accept, not what it specialises in, so the mapping
is deliberately narrow:

- Emotional and behavioural difficulties -> risk to others (physical
  aggression), going missing, self-harm, and emotional dysregulation and trauma
  (mental health): the needs homes registered for EBD are set up to manage.
- Mental disorders -> every mental health code, self-harm and suicidal ideation.
- Learning difficulty -> learning disability, autism and ADHD (Ofsted has no
  separate category for neurodevelopmental conditions).
- Physical disabilities -> physical disability or health condition needing care.
- Sensory impairment -> communication, language or sensory needs.
- Present alcohol problems, Present drug problems -> drug or alcohol misuse.

Sexually harmful behaviour, fire-setting, harm to animals, offending, sexual and
criminal exploitation, placement breakdown and being out of education have no
Ofsted category: homes loaded from the list are never counted as meeting them.
Use the contract homes file (needs_met) for what a home is staffed to meet.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from audit.geography import geo
from audit.geography import postcodes
from audit.geography import region
from audit.db import Database
from audit.intake.needs import checksum, record_import
from audit.intake.problems import ImportFailed, Problem
from audit.intake.readers import norm_header, read_table
from audit.intake.validate import any_la_code, name_problems

Progress = Callable[[float, str], None]

CATEGORIES = ["Emotional and behavioural difficulties", "Mental disorders", "Sensory impairment",
              "Present alcohol problems", "Present drug problems", "Learning difficulty", "Physical disabilities"]
OFSTED_NEEDS: dict[str, list[str]] = {
    "Emotional and behavioural difficulties": ["rto_physical", "missing", "self_harm", "mh_emotional", "mh_trauma"],
    "Mental disorders": ["mh_diagnosed", "mh_emotional", "mh_trauma", "mh_eating", "self_harm", "suicidal"],
    "Sensory impairment": ["dis_communication"],
    "Present alcohol problems": ["substance"],
    "Present drug problems": ["substance"],
    "Learning difficulty": ["dis_learning", "nd_autism", "nd_adhd"],
    "Physical disabilities": ["dis_physical"],
}
# Ofsted's own abbreviations of the categories, as some extracts list them.
ABBREVIATIONS = {"ebd": "Emotional and behavioural difficulties", "md": "Mental disorders",
                 "si": "Sensory impairment", "alc": "Present alcohol problems", "dru": "Present drug problems",
                 "ld": "Learning difficulty", "pd": "Physical disabilities"}

# Column names seen in different releases of the list (normalised), most specific first.
COLUMN_VARIANTS: dict[str, list[str]] = {
    "urn": ["urn", "provider_urn", "social_care_urn", "setting_urn", "ofsted_urn"],
    "provider_type": ["provider_type", "provision_type", "type_of_provision", "setting_type"],
    "provider_subtype": ["provider_subtype", "provision_subtype", "sub_type"],
    "name": ["setting_name", "provider_name", "name", "home_name"],
    "owner": ["owner_name", "organisation_name", "organisation_which_owns_the_provider", "registered_provider",
              "provider_owner", "owner"],
    "sector": ["sector", "provider_sector", "ownership"],
    "la": ["local_authority", "local_authority_name", "la", "la_name"],
    "places": ["max_users", "number_of_registered_places", "registered_places", "maximum_users",
               "number_of_places", "places", "max_places"],
    "grade": ["latest_overall_effectiveness_grade_from_last_full_inspection", "overall_effectiveness",
              "overall_experiences_and_progress_of_children_and_young_people",
              "latest_full_inspection_overall_effectiveness", "latest_overall_effectiveness", "ofsted_grade"],
    "status": ["registration_status", "provider_status", "status"],
    "postcode": ["postcode", "setting_postcode", "provider_postcode", "post_code"],
    "lat": ["latitude", "lat"],
    "lon": ["longitude", "lon", "long"],
    "categories": ["registration_categories", "categories_of_need", "registered_categories", "reg_categories"],
}
CLOSED = ("closed", "resigned", "cancelled", "refused", "inactive", "withdrawn")
GRADES = {"1": "Outstanding", "2": "Good", "3": "Requires improvement", "4": "Inadequate"}
SECTORS = {"local authority": "Local authority", "private": "Private", "voluntary": "Voluntary"}


def _noop(fraction: float, text: str) -> None:
    """Progress sink for callers that do not show progress."""


def mapping_table() -> pd.DataFrame:
    """The Ofsted category -> need code mapping, for the Data page and documentation."""
    from audit import taxonomy

    labels = taxonomy.code_labels()
    return pd.DataFrame([{"Ofsted registration category": cat, "need code": c, "need": labels[c]}
                         for cat, codes in OFSTED_NEEDS.items() for c in codes])


def find_columns(columns: list[str]) -> dict[str, str]:
    """Our field -> the file's column, trying each release's spelling."""
    cols = list(columns)
    out = {}
    for field_name, variants in COLUMN_VARIANTS.items():
        hit = next((v for v in variants if v in cols), None)
        if hit:
            out[field_name] = hit
    return out


def category_columns(columns: list[str]) -> dict[str, str]:
    """Ofsted category -> the file's one-column-per-category column, when the list is laid out that way."""
    out = {}
    for cat in CATEGORIES:
        key = norm_header(cat)
        abbr = next(a for a, c in ABBREVIATIONS.items() if c == cat)
        hit = next((c for c in columns if key in c), None) or next(
            (c for c in columns if c in (abbr, f"reg_cat_{abbr}", f"category_{abbr}")), None)
        if hit:
            out[cat] = hit
    return out


def _categories_from_text(cell: str) -> list[str]:
    """Categories named in one cell ('EBD; Learning difficulty' or full names)."""
    found = []
    for token in filter(None, (t.strip() for t in re.split(r"[;,|/\n]+", str(cell)))):
        key = norm_header(token)
        cat = ABBREVIATIONS.get(key) or next((c for c in CATEGORIES if norm_header(c) == key or norm_header(c) in key), None)
        if cat and cat not in found:
            found.append(cat)
    return found


def _ticked(s: pd.Series) -> pd.Series:
    """A category column's cell means 'registered' when it is Y/yes/true/X or a positive number."""
    low = s.str.strip().str.lower()
    num = pd.to_numeric(low, errors="coerce")
    return low.isin(["y", "yes", "true", "x", "registered"]) | (num > 0)


def _grade(s: pd.Series) -> pd.Series:
    """Ofsted's wording ('Requires improvement to be good', '2') -> the contract's grades."""
    low = s.str.strip().str.lower()
    out = pd.Series(None, index=s.index, dtype=object)
    out[low.isin(GRADES)] = low[low.isin(GRADES)].map(GRADES)
    for word, grade in (("outstanding", "Outstanding"), ("requires improvement", "Requires improvement"),
                        ("inadequate", "Inadequate"), ("not yet inspected", "Not yet inspected")):
        out[low.str.contains(word, regex=False) & out.isna()] = grade
    out[(low == "good") | (low.str.startswith("good") & out.isna())] = "Good"
    return out


def _la_centres() -> dict[str, tuple[float, float]]:
    """A point inside each region LA, for homes Ofsted gives only an LA for."""
    las = geo.las()
    pts = las.geometry.representative_point()
    return {c: (p.y, p.x) for c, p in zip(las["la_code"], pts)}


def parse(path: str | Path, label: str | None = None, region_only: bool = True) -> tuple[pd.DataFrame, pd.DataFrame, list[Problem]]:
    """Read an Ofsted providers list; return homes, the needs they meet, and warnings."""
    label = label or Path(path).name
    raw = read_table(path, required={"urn"}, label=label)
    cols = find_columns(list(raw.columns))
    problems: list[Problem] = []
    header_row = int(raw.attrs.get("header_row", 1))
    for need in ("urn", "places"):
        if need not in cols:
            problems.append(Problem(label, header_row, need, None,
                                    f"no column for {need} (tried: {', '.join(COLUMN_VARIANTS[need])})"))
    if problems:
        raise ImportFailed(problems)
    df = raw
    n_all = len(df)
    keep = pd.Series(True, index=df.index)
    if "provider_type" in cols or "provider_subtype" in cols:
        homes_re = "children_s_home|childrens_home|secure_children|secure_unit"
        kind = df[cols.get("provider_type", cols.get("provider_subtype"))].map(norm_header)
        is_home = kind.str.contains(homes_re, regex=True)
        if "provider_type" in cols and "provider_subtype" in cols:
            # Residential special schools dual-registered as children's homes say so in the subtype.
            sub = df[cols["provider_subtype"]].map(norm_header)
            is_home |= kind.str.contains("residential_special_school") & sub.str.contains(homes_re, regex=True)
        keep &= is_home
        if (~is_home).any():
            problems.append(Problem(label, None, cols.get("provider_type"), None,
                                    f"{int((~is_home).sum()):,} providers that are not children's homes left out", "warning"))
    if "status" in cols:
        closed = df[cols["status"]].str.lower().str.contains("|".join(CLOSED), regex=True)
        if (closed & keep).any():
            problems.append(Problem(label, None, cols["status"], None,
                                    f"{int((closed & keep).sum()):,} closed or resigned homes left out", "warning"))
        keep &= ~closed
    la_code = df[cols["la"]].map(any_la_code) if "la" in cols else pd.Series(None, index=df.index, dtype=object)
    # Location: lat/lon, else postcode sector centre, else the LA's centre.
    lat = pd.to_numeric(df[cols["lat"]], errors="coerce") if "lat" in cols else pd.Series(np.nan, index=df.index)
    lon = pd.to_numeric(df[cols["lon"]], errors="coerce") if "lon" in cols else pd.Series(np.nan, index=df.index)
    precision = pd.Series(np.where(lat.notna() & lon.notna(), "point", None), index=df.index, dtype=object)
    sector = df[cols["postcode"]].map(postcodes.sector_of) if "postcode" in cols else pd.Series(None, index=df.index, dtype=object)
    need = precision.isna() & sector.notna()
    if need.any():
        loc = geo.geocode_sectors(sector[need])
        lat[need], lon[need] = loc["lat"].to_numpy(float), loc["lon"].to_numpy(float)
        precision[need & lat.notna()] = "sector"
    centres = _la_centres()
    by_la = precision.isna() & la_code.isin(list(centres))
    if by_la.any():
        lat[by_la] = la_code[by_la].map(lambda c: centres[c][0])
        lon[by_la] = la_code[by_la].map(lambda c: centres[c][1])
        precision[by_la] = "la"
    district = pd.Series(geo.district_of_points(lat.to_numpy(float), lon.to_numpy(float)), index=df.index)
    district_la = region.district_la()
    home_la = district.map(district_la).fillna(la_code)
    if region_only:
        in_region = home_la.isin(list(region.REGION_LAS))
        if (keep & ~in_region).any():
            problems.append(Problem(label, None, cols.get("la"), None,
                                    f"{int((keep & ~in_region).sum()):,} children's homes outside the Eastern region left out",
                                    "warning"))
        keep &= in_region
    urn = df[cols["urn"]].str.upper().str.replace(r"\s+", "", regex=True)
    places = pd.to_numeric(df[cols["places"]], errors="coerce")
    for idx in df.index[keep & (urn == "")]:
        problems.append(Problem(label, int(df.at[idx, "_row"]), cols["urn"], "", "a children's home with no URN"))
    bad_places = keep & (places.isna() | (places < 0) | (places > 200) | (places != np.floor(places.fillna(0))))
    for idx in df.index[bad_places][:200]:
        problems.append(Problem(label, int(df.at[idx, "_row"]), cols["places"], df.at[idx, cols["places"]],
                                "must be the number of registered places (a whole number from 0 to 200)"))
    unlocated = keep & lat.isna()
    for idx in df.index[unlocated][:200]:
        problems.append(Problem(label, int(df.at[idx, "_row"]), cols.get("postcode", cols.get("la")),
                                df.at[idx, cols["la"]] if "la" in cols else None,
                                "cannot be located: no postcode, coordinates or Eastern-region LA"))
    dup = keep & urn.duplicated(keep="first") & (urn != "")
    for idx in df.index[dup][:200]:
        problems.append(Problem(label, int(df.at[idx, "_row"]), cols["urn"], urn.at[idx], "this URN appears more than once"))
    for field in ("name", "owner"):  # names reach maps and tables: no markup or control characters in them
        if field in cols:
            problems += name_problems(df.loc[keep, cols[field]], df.loc[keep, "_row"], label, cols[field])
    if any(p.severity == "error" for p in problems):
        raise ImportFailed(problems)
    if not keep.any():
        raise ImportFailed(problems + [Problem(label, None, None, None,
                                               f"none of the {n_all:,} rows is a registered children's home in the Eastern region")])
    n_la = int((keep & (precision == "la")).sum())
    if n_la:
        problems.append(Problem(label, None, cols.get("la"), None,
                                f"{n_la:,} homes have no postcode (Ofsted withholds children's home addresses): "
                                "placed at the centre of their LA, so distances to them are approximate", "warning"))
    # Registration categories, from one column per category or one column listing them.
    cat_cols = category_columns(list(df.columns))
    regs: list[list[str]] = [[] for _ in range(len(df))]
    for cat, col in cat_cols.items():
        for i in np.flatnonzero(_ticked(df[col]).to_numpy()):
            regs[i].append(cat)
    if "categories" in cols:
        for i, cell in enumerate(df[cols["categories"]]):
            regs[i] += [c for c in _categories_from_text(cell) if c not in regs[i]]
    if not cat_cols and "categories" not in cols:
        problems.append(Problem(label, None, None, None, "the list has no registration categories: the homes' needs met "
                                "are left empty", "warning"))
    sector_val = df[cols["sector"]].str.strip().str.lower().map(SECTORS) if "sector" in cols else None
    grade = _grade(df[cols["grade"]]) if "grade" in cols else None
    idx = np.flatnonzero(keep.to_numpy())
    homes = pd.DataFrame({
        "urn": urn.to_numpy()[idx],
        "name": df[cols["name"]].to_numpy()[idx] if "name" in cols else urn.to_numpy()[idx],
        "provider": df[cols["owner"]].to_numpy()[idx] if "owner" in cols else None,
        "sector": sector_val.to_numpy()[idx] if sector_val is not None else None,
        "la_code": home_la.to_numpy()[idx], "district_code": district.to_numpy()[idx],
        "postcode_sector": sector.to_numpy()[idx],
        "lat": lat.to_numpy(float)[idx], "lon": lon.to_numpy(float)[idx],
        "places": places.to_numpy()[idx].astype(int),
        "ofsted_grade": grade.to_numpy()[idx] if grade is not None else None,
        "weekly_fee": np.nan, "source": "ofsted", "location_precision": precision.to_numpy()[idx],
        "registration": ["; ".join(regs[i]) or None for i in idx],
    })
    homes["name"] = homes["name"].where(homes["name"].astype(str).str.strip() != "", homes["urn"])
    pairs = [(homes.at[k, "urn"], code) for k, i in enumerate(idx) for cat in regs[i] for code in OFSTED_NEEDS[cat]]
    home_needs = pd.DataFrame(pairs, columns=["urn", "code"]).drop_duplicates()
    return homes, home_needs, problems


def load(db: Database, path: str | Path, *, mode: str = "replace", region_only: bool = True,
         source_name: str | None = None, progress: Progress = _noop) -> dict:
    """Load homes from an Ofsted list: replace the homes table, or update/add homes by URN (mode='update')."""
    if mode not in ("replace", "update"):
        raise ValueError("mode must be 'replace' or 'update'")
    label = source_name or Path(path).name
    progress(0.1, "Reading the Ofsted providers list")
    homes, home_needs, problems = parse(path, label, region_only)
    warnings = [p for p in problems if p.severity == "warning"]
    progress(0.6, "Writing homes")
    with db.write() as con:
        con.register("_h", homes)
        con.register("_hn", home_needs)
        if mode == "replace":
            con.execute("DELETE FROM home_needs")
            con.execute("DELETE FROM homes")
            con.execute(f"INSERT INTO homes ({', '.join(homes.columns)}) SELECT * FROM _h")
            con.execute("INSERT INTO home_needs SELECT DISTINCT urn, code FROM _hn")
        else:
            # Ofsted is the authority on registration, places and grade; the contract file's location,
            # fee and needs met (what a home is staffed for) are kept where they exist.
            con.execute("""UPDATE homes SET places = _h.places, ofsted_grade = coalesce(_h.ofsted_grade, homes.ofsted_grade),
                           registration = _h.registration, provider = coalesce(homes.provider, _h.provider),
                           sector = coalesce(_h.sector, homes.sector), name = coalesce(homes.name, _h.name)
                           FROM _h WHERE homes.urn = _h.urn""")
            con.execute(f"INSERT INTO homes ({', '.join(homes.columns)}) SELECT * FROM _h WHERE urn NOT IN (SELECT urn FROM homes)")
            con.execute("INSERT INTO home_needs SELECT DISTINCT urn, code FROM _hn "
                        "WHERE urn NOT IN (SELECT DISTINCT urn FROM home_needs)")
        con.unregister("_h")
        con.unregister("_hn")
        record_import(con, "ofsted", label, checksum(path), len(homes), len(warnings), f"mode {mode}")
    progress(1.0, "Done")
    return {"homes": len(homes), "places": int(homes["places"].sum()), "warnings": warnings,
            "by_precision": homes["location_precision"].value_counts().to_dict()}
