"""Reference tables every database starts with: LAs, districts, towns, sectors, taxonomy."""

from __future__ import annotations

import duckdb
import pandas as pd

from audit import taxonomy
from audit.paths import GEODATA
from audit.geography.region import REGION_LAS


def load_reference(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)load the reference tables inside the caller's transaction."""
    las = pd.DataFrame({"la_code": list(REGION_LAS), "la_name": list(REGION_LAS.values()), "in_region": True})
    districts = pd.read_csv(GEODATA / "districts.csv", dtype=str)
    towns = pd.read_csv(GEODATA / "towns.csv")
    sectors = pd.read_csv(GEODATA / "postcode_sectors.csv")
    need_codes = taxonomy.load().replace({"placements_standard_field": {"": None}})
    for table, df, cols in [
        ("las", las, "la_code, la_name, in_region"),
        ("districts", districts, "district_code, district_name, la_code"),
        ("towns", towns, "town_id, name, lat, lon, district_code, la_code"),
        ("postcode_sectors", sectors, "sector, district_code, la_code, lat, lon, n_postcodes"),
        ("need_codes", need_codes, "code, category, category_label, label, placements_standard_field, ord"),
    ]:
        con.register("_ref", df)
        con.execute(f"DELETE FROM {table}")
        con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _ref")
        con.unregister("_ref")
