"""Measure a generated sample against the published figures it is calibrated to (facts.md).

Run `python -m audit.sample.calibration` to print the figures and generation
times of both scales.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from audit import taxonomy
from audit.geography import region
from audit.sample import geo as sample_geo

MILES_20_KM = 32.187


def _categories(needs: pd.DataFrame) -> pd.DataFrame:
    """Child x category booleans from Y/N/blank code columns (blank = not present)."""
    tax = taxonomy.load()
    codes = needs[tax["code"]].fillna("").astype(str).apply(lambda s: s.str.upper().eq("Y"))
    return codes.T.groupby(tax.set_index("code")["category"].reindex(codes.columns).to_numpy(), sort=False).any().T


def placement_km(needs: pd.DataFrame) -> np.ndarray:
    """Home-to-placement distance per child from sector centroids (England-wide table)."""
    gb = sample_geo.england_sectors().set_index("sector")
    reg = sample_geo.region_sectors().set_index("sector")
    lat = pd.concat([reg["lat"], gb["lat"][~gb.index.isin(reg.index)]])
    lon = pd.concat([reg["lon"], gb["lon"][~gb.index.isin(reg.index)]])
    return sample_geo.haversine_km(needs["home_postcode"].map(lat), needs["home_postcode"].map(lon),
                                   needs["placement_postcode"].map(lat), needs["placement_postcode"].map(lon))


def placement_la(needs: pd.DataFrame) -> pd.Series:
    """Upper-tier LA code of each placement's sector (region geodata first, then England)."""
    gb = sample_geo.england_sectors()
    lut = dict(zip(gb["sector"], gb["la_code"]))
    lut.update(dict(zip(sample_geo.region_sectors()["sector"], sample_geo.region_sectors()["la_code"])))
    return needs["placement_postcode"].map(lut)


def measure(frames: dict[str, pd.DataFrame]) -> dict[str, float]:
    """The calibration figures of a sample, each comparable to a published one."""
    needs, homes, occ = frames["needs"], frames["homes"], frames["occupancy"]
    cats = _categories(needs)
    n_cat = cats.sum(axis=1)
    la = needs["la"].map(lambda v: region.la_code(v) or v)
    km = placement_km(needs)
    eastern = occ[occ["la"].map(lambda v: region.la_code(v) is not None)]
    in_region_urns = set(homes["urn"])
    sbc = frames["shortbreak_children"]
    out = {
        "children": len(needs),
        "homes": len(homes),
        "providers": homes["provider"].nunique(),
        "places": int(homes["places"].sum()),
        "eastern_places": int(eastern["places_used"].sum()),
        "eastern_place_share": eastern["places_used"].sum() / homes["places"].sum(),
        "homes_with_eastern_share": eastern["urn"].nunique() / len(homes),
        "occupancy_rate": occ["places_used"].sum() / homes["places"].sum(),
        "good_or_outstanding": homes["ofsted_grade"].isin(["Good", "Outstanding"]).mean(),
        "fee_mean": homes["weekly_fee"].mean(),
        "fee_mean_voluntary": homes.loc[homes["sector"] == "Voluntary", "weekly_fee"].mean(),
        "fee_mean_private": homes.loc[homes["sector"] == "Private", "weekly_fee"].mean(),
        "fee_10k_share": (homes["weekly_fee"] >= 10_000).mean(),
        "children_in_region_homes": int(needs["placement_urn"].isin(in_region_urns).sum()),
        "aged_13_17": needs["age"].between(13, 17).mean(),
        "outside_own_la": (placement_la(needs) != la).mean(),
        "over_20_miles": (km > MILES_20_KM).mean(),
        "mean_categories": n_cat.mean(),
        "four_plus": (n_cat >= 4).mean(),
        "more_than_one": (n_cat > 1).mean(),
        "max_categories": int(n_cat.max()),
        **{f"prev_{c}": cats[c].mean() for c in cats.columns},
        "exploitation_either": (cats["sexual_exploitation"] | cats["criminal_exploitation"]).mean(),
        "rto_physical": needs["rto_physical"].eq("Y").mean(),
        "mh_given_rto": (cats["mental_health"] & cats["risk_to_others"]).sum() / cats["risk_to_others"].sum(),
        "rto_given_mh": (cats["mental_health"] & cats["risk_to_others"]).sum() / cats["mental_health"].sum(),
        "blank_cells": needs[taxonomy.codes()].eq("").to_numpy().mean(),
        "cost_mean": needs["weekly_cost"].mean(),
        "cost_10k_share": (needs["weekly_cost"] >= 10_000).mean(),
        "dol_share": needs["dol_order"].eq("Y").mean(),
        "k2_share": needs["placement_type"].eq("K2").mean(),
        "sb_children": len(sbc),
        "sb_semh": sbc["primary_need"].eq("SEMH").mean(),
        "sb_asd": sbc["primary_need"].eq("ASD").mean(),
        "sb_providers": len(frames["shortbreak_providers"]),
    }
    return out


def main() -> None:
    """Print both scales' generation time and the regional calibration figures."""
    from audit.sample.generate import generate

    sample_geo.england_sectors()  # geography is loaded once per process; time it separately
    for scale in ("regional", "national"):
        t = time.perf_counter()
        frames = generate(scale)
        dt = time.perf_counter() - t
        print(f"{scale}: generated in {dt:.2f} s; rows: " + ", ".join(f"{k}={len(v)}" for k, v in frames.items()))
        if scale == "regional":
            for k, v in measure(frames).items():
                print(f"  {k:28s} {v:,.3f}" if isinstance(v, float) else f"  {k:28s} {v:,}")


if __name__ == "__main__":
    main()
