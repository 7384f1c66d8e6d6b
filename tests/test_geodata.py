"""The committed geodata: boundaries that match the region, towns in the right districts, working look-ups."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

from audit.geography import geo
from audit.geography.region import PUBLISHED_AREA_KM2, REGION_LAS

SMALL_LAS = {"E06000032", "E06000033"}  # Luton and Southend-on-Sea: edge errors weigh more on small areas


def test_45_districts_and_11_las_with_region_codes():
    d, la = geo.districts(), geo.las()
    assert len(d) == 45 and d["district_code"].is_unique
    assert sorted(la["la_code"]) == sorted(REGION_LAS)
    assert set(d["la_code"]) == set(REGION_LAS)
    assert (la.set_index("la_code")["la_name"] == pd.Series(REGION_LAS)).all()


def test_geometries_are_non_empty_valid_wgs84_polygons():
    for gdf in (geo.districts(), geo.las()):
        assert gdf.crs.to_epsg() == 4326
        assert not gdf.is_empty.any()
        assert gdf.is_valid.all()
        assert set(gdf.geom_type) <= {"Polygon", "MultiPolygon"}
        minx, miny, maxx, maxy = gdf.total_bounds
        assert -1.0 < minx and maxx < 2.0 and 51.3 < miny and maxy < 53.1  # East of England


def test_districts_tile_without_overlaps_and_las_are_their_union():
    d, la = geo.districts(), geo.las()
    assert shapely.coverage_is_valid(d.geometry.to_numpy())
    d_area = d.to_crs(27700).area.groupby(d["la_code"].to_numpy()).sum()
    la_area = la.to_crs(27700).set_index("la_code").area
    np.testing.assert_allclose(d_area.reindex(la_area.index), la_area, rtol=1e-3)


@pytest.mark.parametrize("la_code", sorted(PUBLISHED_AREA_KM2))
def test_la_area_close_to_published(la_code):
    la = geo.las().to_crs(27700).set_index("la_code")
    area_km2 = la.loc[la_code].geometry.area / 1e6
    tolerance = 0.20 if la_code in SMALL_LAS else 0.15
    assert abs(area_km2 / PUBLISHED_AREA_KM2[la_code] - 1) <= tolerance, (la_code, area_km2)


def test_geojson_small_enough_for_a_browser():
    size = sum((geo.GEODATA_DIR / f).stat().st_size for f in ("districts.geojson", "las.geojson"))
    assert size < 500_000


@pytest.mark.parametrize(("name", "district"), [
    ("Fakenham", "E07000147"),        # North Norfolk
    ("Swaffham", "E07000143"),        # Breckland
    ("Thetford", "E07000143"),        # Breckland
    ("Downham Market", "E07000146"),  # King's Lynn and West Norfolk
    ("King's Lynn", "E07000146"),
    ("Great Yarmouth", "E07000145"),
    ("Lowestoft", "E07000244"),       # East Suffolk
])
def test_market_towns_present_in_their_district(name, district):
    t = geo.towns()
    row = t[t["name"] == name]
    assert len(row) == 1, name
    assert row["district_code"].iat[0] == district


def test_dereham_present_in_breckland():
    t = geo.towns()
    dereham = t[t["name"].str.contains("Dereham")]
    assert len(dereham) == 1 and dereham["district_code"].iat[0] == "E07000143"


def test_towns_are_unique_inside_their_district_and_labelled_consistently():
    t, d = geo.towns(), geo.districts()
    assert t["town_id"].is_unique and len(t) > 300
    assert (geo.district_of_points(t["lat"], t["lon"]) == t["district_code"].to_numpy()).all()
    names = d.set_index("district_code")
    assert (t["district_name"].to_numpy() == names.loc[t["district_code"], "district_name"].to_numpy()).all()
    assert (t["la_code"].to_numpy() == names.loc[t["district_code"], "la_code"].to_numpy()).all()
    assert not t.duplicated(["name", "district_code"]).any()


def test_every_la_has_towns():
    assert set(geo.towns()["la_code"]) == set(REGION_LAS)


def test_haversine_one_degree_of_latitude_and_norwich_cambridge():
    # One degree along a meridian is pi*R/180 on the sphere.
    assert geo.haversine_km(52.0, 0.5, 53.0, 0.5) == pytest.approx(np.pi * geo.EARTH_RADIUS_KM / 180)
    # Norwich to Cambridge city centres, against the WGS84 ellipsoid (pyproj), straight line ~93 km.
    from pyproj import Geod

    _, _, metres = Geod(ellps="WGS84").inv(1.2974, 52.6309, 0.1218, 52.2053)
    km = geo.haversine_km(52.6309, 1.2974, 52.2053, 0.1218)
    assert km == pytest.approx(metres / 1000, rel=0.005)
    assert 90 < km < 95


def test_haversine_is_vectorised():
    lat = np.array([52.0, 52.0, np.nan])
    out = geo.haversine_km(lat, 0.0, 52.0, np.array([0.0, 1.0, 1.0]))
    assert out.shape == (3,) and out[0] == 0.0 and 60 < out[1] < 70 and np.isnan(out[2])


def test_geocode_sectors_known_unknown_and_full_postcodes():
    s = pd.Series(["NR21 8", "nr218ab", "ZZ99 9", None, "BT1 1"], index=[10, 11, 12, 13, 14])
    out = geo.geocode_sectors(s)
    assert list(out.index) == [10, 11, 12, 13, 14]
    assert list(out.columns) == ["lat", "lon", "district_code"]
    fakenham = geo.towns().set_index("name").loc["Fakenham"]
    for i in (10, 11):
        assert out.at[i, "district_code"] == "E07000147"
        assert geo.haversine_km(out.at[i, "lat"], out.at[i, "lon"], fakenham["lat"], fakenham["lon"]) < 3
    assert out.loc[[12, 13], ["lat", "lon"]].isna().all().all()
    assert out.loc[[12, 13], "district_code"].isna().all()
    # Belfast: Northern Ireland's Irish Grid references must land in Belfast, not the Irish Sea.
    assert geo.haversine_km(out.at[14, "lat"], out.at[14, "lon"], 54.597, -5.930) < 2


def test_region_sectors_are_in_the_region_and_in_the_gb_table():
    s, gb = geo.sectors(), geo.sectors_gb()
    assert len(s) > 1000 and s["sector"].is_unique
    assert set(s["district_code"]) <= set(geo.districts()["district_code"])
    assert set(s["la_code"]) == set(REGION_LAS)
    assert set(s["sector"]) <= set(gb["sector"])
    assert gb["sector"].is_unique and len(gb) > 10_000
    assert gb["lat"].between(49.0, 61.0).all() and gb["lon"].between(-8.5, 2.0).all()


def test_district_of_points_inside_outside_and_missing():
    out = geo.district_of_points([52.6286, 52.2053, 52.7, np.nan, 51.5074], [1.2950, 0.1218, 2.5, 1.0, -0.1278])
    assert out[0] == "E07000148"  # Norwich
    assert out[1] == "E07000008"  # Cambridge
    assert all(pd.isna(v) for v in out[2:])  # North Sea, missing, London


def test_rebuild_reproduces_the_committed_counts(tmp_path):
    from audit.geography.build import build_geodata

    lines: list[str] = []
    summary = build_geodata(tmp_path, progress=lines.append)
    assert lines and summary["districts"] == 45 and summary["las"] == 11
    assert summary["sectors"] == len(geo.sectors())
    assert summary["sectors_gb"] == len(geo.sectors_gb())
    assert summary["towns"] == len(geo.towns())
    assert summary["bytes"]["districts.geojson"] + summary["bytes"]["las.geojson"] < 500_000
