"""A deterministic, calibrated, entirely SYNTHETIC sample of the audit's input files.

`generate()` returns the frames in the formats of data-contract.md (needs,
homes, short breaks) plus `occupancy` (which LAs use each home's places) and
`truth` (each child's latent cohort, for testing cohort recovery; it is never
part of the needs file). `write_sample()` writes them as CSVs. The same seed
always gives identical frames. Calibration sources are in facts.md; each
module says which figures it reproduces.

Scales: "regional" (the 11 Eastern LAs, about 650 children, 230 homes, Norfolk
short breaks) and "national" (every English upper-tier LA, about 85,000
children, 4,000 homes across England; 100,000 short-break children across the
11 Eastern LAs), which exists for benchmarks and is not calibrated beyond its
sizes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from audit.geography import region
from audit.sample import geo as sample_geo
from audit.sample import homes as sample_homes
from audit.sample import needs as sample_needs
from audit.sample import placements as sample_placements
from audit.sample import shortbreaks as sample_shortbreaks

ROUND_LABEL = "2024 sample"


@dataclass(frozen=True)
class Scale:
    """Sizes and calibration knobs of one sample scale."""

    children: int
    homes: int
    providers: int
    places: int
    home_share: float        # share of homes with audited LAs' children (CCRAG: 28%)
    place_share: float       # share of places held for audited LAs (CCRAG: 247 of 986)
    other_fill: float        # share of remaining places filled by LAs outside the audit
    settings_k2: int         # children's homes outside the frame
    settings_rs: int         # residential schools and care homes
    sb_children: int
    sb_providers: int        # national only; the regional map is modelled in sample_shortbreaks


SCALES = {
    "regional": Scale(children=650, homes=230, providers=113, places=986, home_share=0.28, place_share=0.25,
                      other_fill=0.86, settings_k2=2650, settings_rs=250, sb_children=1700, sb_providers=0),
    "national": Scale(children=85_000, homes=4_000, providers=1_900, places=17_150, home_share=1.0,
                      place_share=0.88, other_fill=0.0, settings_k2=6_000, settings_rs=2_000,
                      sb_children=100_000, sb_providers=2_500),
}

# Gravity model: distance decay for homes in the frame, pull of settings outside it, decay outside.
REACH_KM = 20.0
OWN_LA_BOOST = 4.0
OUTSIDE_PULL = 4.0
OUTSIDE_REACH_KM = 25.0
OUTSIDE_FAR_SHARE = 0.08
SECURE_HOMES = 14  # secure children's homes in England; none in the Eastern region

# Counties with most homes in the region (CCRAG) get more of them than their postcodes alone would.
REGION_HOME_WEIGHT = {"E10000020": 1.5, "E10000029": 1.4, "E10000012": 1.15, "E10000015": 0.9,
                      "E10000003": 0.9}
# How people type some LA names; every variant resolves with region.la_code().
LA_VARIANTS = {"E06000055": ["Bedford", "bedford borough"], "E06000033": ["Southend", "Southend on Sea"],
               "E10000020": ["NORFOLK"], "E10000012": ["essex"], "E06000056": ["central bedfordshire"]}
LA_VARIANT_SHARE = 0.04
ID_PREFIX = {"E06000055": "BED", "E10000003": "CAM", "E06000056": "CBD", "E10000012": "ESS", "E10000015": "HER",
             "E06000032": "LUT", "E10000020": "NFK", "E06000031": "PET", "E06000033": "SOS", "E10000029": "SUF",
             "E06000034": "THU"}

NEEDS_COLUMNS_HEAD = ["child_id", "la", "age", "sex", "home_postcode"]
NEEDS_COLUMNS_TAIL = ["placement_type", "placement_urn", "placement_postcode", "weekly_cost", "dol_order",
                      "foster_suitability", "residential_suitability", "supported_suitability", "cared_alongside"]
HOMES_COLUMNS = ["urn", "name", "provider", "sector", "la", "postcode", "lat", "lon", "places", "ofsted_grade",
                 "needs_met", "weekly_fee"]
FILES = {"needs": "needs.csv", "homes": "homes.csv", "occupancy": "occupancy.csv",
         "shortbreak_providers": "shortbreak_providers.csv", "shortbreak_children": "shortbreak_children.csv",
         "truth": "truth_cohorts.csv"}


def _la_weights(sectors: pd.DataFrame) -> pd.Series:
    """Children in care per LA ~ households (postcodes), half as many again in unitary and urban areas."""
    w = sectors.groupby("la_code")["n_postcodes"].sum().astype(float)
    urban = w.index.str[:3].isin(["E06", "E08", "E09"])
    return w * np.where(urban, 1.5, 1.0)


def _la_labels(rng: np.random.Generator, la_codes: np.ndarray) -> np.ndarray:
    """The LA as a person would type it: region names (a few spelled differently), ONS codes elsewhere."""
    labels = np.array([region.REGION_LAS.get(c, c) for c in la_codes], dtype=object)
    vary = rng.random(len(la_codes)) < LA_VARIANT_SHARE
    for code, variants in LA_VARIANTS.items():
        idx = np.flatnonzero(vary & (la_codes == code))
        labels[idx] = rng.choice(variants, size=idx.size)
    return labels


def _child_ids(rng: np.random.Generator, la_codes: np.ndarray) -> np.ndarray:
    """Pseudonymous references: an LA prefix and a random number, unique across the sample."""
    nums = rng.choice(np.arange(100_000, 1_000_000), size=len(la_codes), replace=False)
    pre = [ID_PREFIX.get(c) or f"{c[:3]}{c[-3:]}" for c in la_codes]
    return np.array([f"{p}-{n}" for p, n in zip(pre, nums)], dtype=object)


def generate(scale: str = "regional", seed: int = 2024) -> dict[str, pd.DataFrame]:
    """All sample frames for a scale; identical for the same seed."""
    cfg = SCALES[scale]
    rng = np.random.default_rng(seed)
    gb = sample_geo.england_sectors()
    regional = scale == "regional"
    home_sectors = sample_geo.region_sectors() if regional else gb

    la_w = _la_weights(home_sectors)
    counts = rng.multinomial(cfg.children, (la_w / la_w.sum()).to_numpy())
    child_la = np.repeat(la_w.index.to_numpy(), counts).astype(object)
    n = len(child_la)

    cohort = sample_needs.draw_cohorts(rng, n)
    present = sample_needs.draw_codes(rng, cohort)
    age = sample_needs.draw_ages(rng, cohort)
    sex = sample_needs.draw_sex(rng, cohort)
    home_loc = sample_geo.draw_sectors_within(rng, home_sectors, child_la)
    home_lat = home_sectors["lat"].to_numpy()[home_loc]
    home_lon = home_sectors["lon"].to_numpy()[home_loc]

    homes = sample_homes.generate_homes(
        rng, home_sectors, pd.Series(counts, index=la_w.index), n_homes=cfg.homes, n_providers=cfg.providers,
        total_places=cfg.places, la_weight=REGION_HOME_WEIGHT if regional else None)
    place = sample_placements.draw_place_types(rng, cohort)
    settings = sample_placements.make_settings(rng, gb, cfg.settings_k2, SECURE_HOMES, cfg.settings_rs,
                                               exclude_region=regional)
    set_xyz = sample_geo.xyz(gb["lat"].to_numpy()[settings.sector], gb["lon"].to_numpy()[settings.sector])
    child_xyz = sample_geo.xyz(home_lat, home_lon)

    slots = sample_placements.serving_slots(rng, homes, home_share=cfg.home_share, place_share=cfg.place_share)
    k2 = np.flatnonzero(place == "K2")
    k2_settings = np.flatnonzero(settings.kind == "K2")
    out_km, _ = sample_geo.nearest(child_xyz[k2], set_xyz[k2_settings], 1)
    placed_home = np.full(n, -1, dtype=np.int64)
    placed_home[k2] = sample_placements.match_to_homes(
        rng, child_xyz[k2], child_la[k2], sample_geo.xyz(homes["lat"], homes["lon"]), homes["la_code"].to_numpy(),
        homes["run_by"].to_numpy(), slots, out_km[:, 0], reach_km=REACH_KM, own_la_boost=OWN_LA_BOOST,
        outside_pull=OUTSIDE_PULL)

    placed_setting = np.full(n, -1, dtype=np.int64)
    for kind, who, reach, far in (("K2", (place == "K2") & (placed_home < 0), OUTSIDE_REACH_KM, OUTSIDE_FAR_SHARE),
                                  ("K1", place == "K1", 150.0, 0.3),
                                  ("RS", np.isin(place, ["R1", "S1"]), 40.0, 0.1)):
        pool = np.flatnonzero(settings.kind == kind)
        idx = np.flatnonzero(who)
        if idx.size:
            placed_setting[idx] = pool[sample_placements.place_in_settings(
                rng, child_xyz[idx], set_xyz[pool], reach_km=reach, far_share=far)]

    in_home = placed_home >= 0
    hp = np.where(in_home, placed_home, 0)
    sp = np.where(in_home, 0, placed_setting)
    gb_sector = gb["sector"].to_numpy()[settings.sector]
    placement_postcode = np.where(in_home, homes["postcode"].to_numpy()[hp], gb_sector[sp])
    placement_urn = np.where(in_home, homes["urn"].to_numpy()[hp], settings.urn[sp])
    home_fee = np.where(in_home, homes["weekly_fee"].to_numpy(float)[hp], np.nan)

    labels = _la_labels(rng, child_la)
    ids = _child_ids(rng, child_la)
    needs = pd.concat([
        pd.DataFrame({"child_id": ids, "la": labels, "age": age, "sex": sex,
                      "home_postcode": home_sectors["sector"].to_numpy()[home_loc]}),
        sample_needs.as_yn(rng, present),
        pd.DataFrame({"placement_type": place, "placement_urn": placement_urn,
                      "placement_postcode": placement_postcode,
                      "weekly_cost": sample_needs.draw_costs(rng, cohort, place, home_fee),
                      "dol_order": sample_needs.draw_dol(rng, cohort)}),
        sample_needs.draw_standard_fields(rng, cohort, age, place == "K2"),
    ], axis=1)

    occ = sample_placements.occupancy(rng, homes, placed_home, child_la, cfg.other_fill)

    # Short breaks are audited for the region only: Norfolk's real map at regional scale, all 11 LAs scaled up
    # (providers spread with the population) for benchmarks.
    reg = sample_geo.region_sectors()
    if regional:
        sb_prov = sample_shortbreaks.providers_norfolk(rng, reg)
        sb_la = np.full(cfg.sb_children, sample_shortbreaks.NORFOLK, dtype=object)
    else:
        sb_prov = sample_shortbreaks.providers_anywhere(rng, reg, cfg.sb_providers)
        w = _la_weights(reg)
        sb_la = np.repeat(w.index.to_numpy(), rng.multinomial(cfg.sb_children, (w / w.sum()).to_numpy())).astype(object)
    sb_children = sample_shortbreaks.children(rng, reg, sb_la, np.array([region.la_name(c) for c in sb_la], dtype=object))

    order = np.argsort(ids, kind="stable")
    needs = needs.iloc[order].reset_index(drop=True)
    truth = pd.DataFrame({"child_id": ids, "la": labels,
                          "cohort": np.asarray(sample_needs.COHORTS, dtype=object)[cohort]}).iloc[order]
    return {
        "needs": needs,
        "homes": homes[HOMES_COLUMNS].copy(),
        "occupancy": occ,
        "shortbreak_providers": sb_prov,
        "shortbreak_children": sb_children.sort_values("child_id").reset_index(drop=True),
        "truth": truth.reset_index(drop=True),
    }


def write_sample(out_dir: Path, scale: str = "regional", seed: int = 2024) -> dict[str, Path]:
    """Write the sample's CSVs (UTF-8) into out_dir and return their paths by frame name."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    for key, frame in generate(scale, seed).items():
        path = out_dir / FILES[key]
        frame.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
        paths[key] = path
    return paths


ENGLAND_LOOKED_AFTER = 83_530  # children looked after in England, 31 March 2024 (facts.md)


def write_903(out_dir: Path, scale: str = "regional", seed: int = 903) -> list[Path]:
    """SSDA903 returns for a written sample (out_dir/needs.csv) into out_dir/ssda903, so its database can forecast.

    At national scale the needs file's 85,000 children are all in residential care, far more than England has;
    a random subset of them becomes the children in residential care, so that with the other placements the
    returns hold about England's 83,530 children looked after on the audit date.
    """
    from audit.sample import ssda903 as sample_903

    needs = pd.read_csv(Path(out_dir) / FILES["needs"], dtype=str, keep_default_na=False).replace({"": None})
    needs = needs[needs["placement_type"].isin(sample_903.RESIDENTIAL)]
    if scale != "regional":
        in_homes = float((needs["placement_type"] == "K2").mean())
        keep = int(round(ENGLAND_LOOKED_AFTER * sample_903.CHILDRENS_HOME_SHARE / in_homes))
        needs = needs.sample(n=min(keep, len(needs)), random_state=seed).sort_index()
    return sample_903.write(Path(out_dir) / "ssda903", sample_903.generate(needs.reset_index(drop=True), seed=seed))
