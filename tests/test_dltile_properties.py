"""DLTile properties (hypothesis) and scale: from_shape against a brute-force
reference of the client's set definition, coverage, partitions, streaming memory."""

from __future__ import annotations

import math
import os
import pickle
import tracemalloc

import numpy as np
import pytest
import shapely
import shapely.geometry as sgeom
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from raster_core import DLTile
from raster_core.dltile import _client_footprint, lon_to_zone, lonlat_to_utm, utm_to_lonlat

POLE = 9997964.943
# DLTILE_EXAMPLES=500 for a longer local search
# (filter_too_much: star polygons are drawn and then filtered for validity and tile count; a
# run that draws many rejects fails the health check without any assertion failing)
SETTINGS = settings(max_examples=int(os.environ.get("DLTILE_EXAMPLES", "40")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

RESOLUTIONS = st.sampled_from([0.5, 1.0, 1.5, 2.5, 10.0, 15.0, 30.0, 60.0, 960.0])
TILESIZES = st.sampled_from([1, 16, 64, 100, 128, 256, 500, 512, 1024, 2048, 4096])


# ---------------------------------------------------------------- reference


def brute_force_keys(geom, resolution: float, tilesize: int, pad: int, *, polar: bool = False) -> set[str]:
    """Every tile (zone, ti, tj) whose lon/lat footprint intersects the shape part in
    its zone strip, tested one by one (dl-raster-spec §3.8 "Set definition").

    Candidates: tiles within 3 tiles (1 tile + 100 m with ``polar``) of the shape's UTM
    extent. Near the poles the client's footprint of a tile whose top corners lie beyond
    the pole northing folds over the pole and can meet far-away shapes; like the client
    (which prunes with the buffered UTM shape), only nearby tiles are candidates there.
    """
    width = resolution * tilesize
    out: set[str] = set()
    min_lon, _, max_lon, _ = geom.bounds
    zmin = max(1, 1 + math.floor((min_lon + 180.0) / 6.0))
    zmax = min(60, 1 + math.floor((max_lon + 180.0) / 6.0))
    for zone in range(zmin, zmax + 1):
        pz = geom.intersection(sgeom.box(6 * zone - 186.0, -90, 6 * zone - 180.0, 90))
        polys = [p for p in shapely.get_parts(pz) if isinstance(p, sgeom.Polygon) and not p.is_empty]
        if not polys:
            continue
        pz = shapely.union_all(polys)
        xy = shapely.get_coordinates(shapely.segmentize(pz, 0.01 if polar else 0.005))
        e, n = lonlat_to_utm(xy[:, 0], xy[:, 1], zone)
        m = width + 100.0 if polar else 3 * width + 1000.0
        # candidate columns: tiles meeting the easting band [166000, 834000] that holds the zone strip
        ti = np.arange(
            max(math.floor((e.min() - m - 5e5) / width), math.floor(-334000 / width)),
            min(math.floor((e.max() + m - 5e5) / width), math.ceil(334000 / width) - 1) + 1,
        )
        # candidate rows: not entirely beyond a pole
        tj = np.arange(
            max(math.floor((n.min() - m) / width), math.floor(-POLE / width)),
            min(math.floor((n.max() + m) / width), math.ceil(POLE / width) - 1) + 1,
        )
        TI, TJ = (a.ravel() for a in np.meshgrid(ti, tj))
        if polar:
            hits = [
                (i, j)
                for i, j in zip(TI, TJ, strict=True)
                if _client_footprint(zone, int(i), int(j), width).intersects(pz)
            ]
        else:
            x0 = 5e5 + TI * width
            y0 = TJ * width
            xs = np.stack([x0, x0 + width, x0 + width, x0, x0], axis=1)
            ys = np.stack([y0, y0, y0 + width, y0 + width, y0], axis=1)
            lon, lat = utm_to_lonlat(xs, ys, zone)
            quads = shapely.polygons(np.stack([lon, lat], axis=-1))
            mask = shapely.intersects(quads, pz)
            # tiles holding a pole or straddling the antimeridian: the client's special footprints
            special = ((x0 <= 5e5) & (x0 + width >= 5e5) & (np.abs(y0 + width / 2) + width / 2 >= POLE)) | (
                np.ptp(lon, axis=1) > 180
            )
            for k in np.flatnonzero(special):
                mask[k] = _client_footprint(zone, int(TI[k]), int(TJ[k]), width).intersects(pz)
            hits = list(zip(TI[mask], TJ[mask], strict=True))
        out.update(DLTile(tilesize, pad, resolution, zone, int(i), int(j)).key for i, j in hits)
    return out


@st.composite
def star_polygons(draw, lat_range=(-83.5, 83.5), lon_range=(-179.5, 179.5)):
    lon = draw(st.floats(*lon_range))
    lat = draw(st.floats(*lat_range))
    radius = draw(st.floats(0.002, 1.5))
    n = draw(st.integers(3, 9))
    angles = np.sort(np.array(draw(st.lists(st.floats(0, 2 * np.pi), min_size=n, max_size=n, unique=True))))
    radii = np.array(draw(st.lists(st.floats(0.2, 1.0), min_size=n, max_size=n))) * radius
    xs = np.clip(lon + radii * np.cos(angles) / max(math.cos(math.radians(lat)), 0.2), -180, 180)
    ys = np.clip(lat + radii * np.sin(angles), -90, 90)
    poly = sgeom.Polygon(np.column_stack([xs, ys]))
    # no (near-)degenerate slivers: GEOS overlays collapse them to lines, which are
    # dropped when the shape is clipped to the zone strips (as in the client)
    assume(poly.is_valid and poly.area > 0 and shapely.minimum_clearance(poly) > 1e-6 * radius)
    return poly


def _tile_count_ok(poly, resolution, tilesize, limit=1500):
    w = resolution * tilesize
    if w > 300e3:
        return False
    minx, miny, maxx, maxy = poly.bounds
    dx = (maxx - minx) * 111e3 * max(math.cos(math.radians((miny + maxy) / 2)), 0.05)
    dy = (maxy - miny) * 111e3
    return (dx / w + 2) * (dy / w + 2) <= limit


# ---------------------------------------------------------------- from_shape


@SETTINGS
@given(star_polygons(), RESOLUTIONS, TILESIZES, st.integers(0, 16))
def test_from_shape_is_the_exact_set(poly, resolution, tilesize, pad):
    assume(_tile_count_ok(poly, resolution, tilesize))
    keys = DLTile.from_shape(poly, resolution, tilesize, pad, keys_only=True)
    assert len(keys) == len(set(keys))
    assert set(keys) == brute_force_keys(poly, resolution, tilesize, pad)
    assert DLTile.count_from_shape(poly, resolution, tilesize, pad) == len(keys)


@SETTINGS
@given(star_polygons(), RESOLUTIONS, TILESIZES, st.randoms(use_true_random=False))
def test_from_shape_covers_and_never_misses(poly, resolution, tilesize, rnd):
    assume(_tile_count_ok(poly, resolution, tilesize, limit=800))
    tiles = DLTile.from_shape(poly, resolution, tilesize, 0)
    assert tiles
    width = resolution * tilesize
    # the footprint: corner quadrilateral, split at the antimeridian (the client's utm_box_to_lonlat)
    feet = [_client_footprint(t.zone, t.ti, t.tj, width) for t in tiles]
    # every tile meets the shape, within 1e-12 degrees: GEOS's overlay nodes edges that close
    # together (hypothesis drew an edge rising from latitude 0 to 5e-324 along a row of tiles
    # whose edge is the equator: the overlay made them touch, so one more tile was listed)
    assert all(shapely.dwithin(np.array(feet), poly, 1e-12))
    # every point of the shape lies in some tile
    tree = shapely.STRtree(feet)
    minx, miny, maxx, maxy = poly.bounds
    points = [sgeom.Point(rnd.uniform(minx, maxx), rnd.uniform(miny, maxy)) for _ in range(200)]
    points = [p for p in points if poly.contains(p)][:40] + [sgeom.Point(c) for c in poly.exterior.coords]
    for p in points:
        assert len(tree.query(p, predicate="intersects")) > 0, p
    # tiles of one zone never overlap (UTM squares: areas add up to the area of the union)
    by_zone: dict[int, list] = {}
    for t in tiles:
        by_zone.setdefault(t.zone, []).append(sgeom.box(*t.bounds_unpadded))
    for boxes in by_zone.values():
        area = sum(b.area for b in boxes)
        assert shapely.union_all(boxes).area == pytest.approx(area, rel=1e-9)


@settings(max_examples=15, deadline=None)
@given(
    star_polygons(lat_range=(84.0, 89.9)),
    st.sampled_from([(100.0, 500), (1000.0, 100), (30.0, 2048), (250.0, 256)]),
)
def test_from_shape_polar_rows(poly, grid):
    resolution, tilesize = grid
    assume(_tile_count_ok(poly, resolution, tilesize, limit=600))
    keys = DLTile.from_shape(poly, resolution, tilesize, 0, keys_only=True)
    assert len(keys) == len(set(keys))
    assert set(keys) == brute_force_keys(poly, resolution, tilesize, 0, polar=True)


@settings(max_examples=15, deadline=None)
@given(star_polygons(lat_range=(-89.9, -84.0)), st.sampled_from([(100.0, 500), (1000.0, 100)]))
def test_from_shape_south_polar_rows(poly, grid):
    resolution, tilesize = grid
    assume(_tile_count_ok(poly, resolution, tilesize, limit=600))
    keys = DLTile.from_shape(poly, resolution, tilesize, 0, keys_only=True)
    assert set(keys) == brute_force_keys(poly, resolution, tilesize, 0, polar=True)


def test_from_shape_multipart_dedup_and_holes():
    outer = sgeom.box(-106.0, 39.0, -104.0, 40.0)
    hole = sgeom.box(-105.5, 39.3, -104.5, 39.7)
    donut = outer.difference(hole)
    keys = set(DLTile.from_shape(donut, 30, 512, 0, keys_only=True))
    assert keys == brute_force_keys(donut, 30, 512, 0)
    assert len(keys) < len(DLTile.from_shape(outer, 30, 512, 0, keys_only=True))
    # overlapping parts: union, no duplicates
    a, b = sgeom.box(-105, 39, -104, 40), sgeom.box(-104.5, 39.5, -103.5, 40.5)
    keys = DLTile.from_shape([a, b], 60, 1024, 0, keys_only=True)
    assert len(keys) == len(set(keys))
    assert set(keys) == brute_force_keys(shapely.union(a, b), 60, 1024, 0)


def test_colorado_30m_2048px():
    colorado = sgeom.box(-109.05, 36.99, -102.04, 41.0)
    keys = DLTile.from_shape(colorado, 30, 2048, 16, keys_only=True)
    assert set(keys) == brute_force_keys(colorado, 30, 2048, 16)
    assert {DLTile.from_key(k).zone for k in keys} == {12, 13}


# ---------------------------------------------------------------- single tiles


@SETTINGS
@given(
    st.floats(-90, 90),
    st.floats(-180, 180),
    RESOLUTIONS,
    TILESIZES,
    st.integers(0, 64),
)
def test_from_latlon_contains_point(lat, lon, resolution, tilesize, pad):
    t = DLTile.from_latlon(lat, lon, resolution, tilesize, pad)
    e, n = lonlat_to_utm(lon, lat, t.zone)
    xmin, ymin, xmax, ymax = t.bounds_unpadded
    assert xmin <= float(e) < xmax and ymin <= float(n) < ymax
    assert DLTile.from_key(t.key) == t
    assert pickle.loads(pickle.dumps(t)) == t
    if abs(lat) < 80 and tilesize >= 16 and abs(lon) < 179:
        # with a quarter-tile pad the lon/lat corner polygon contains the point, unless the padded
        # tile reaches across the antimeridian (its corners then wrap, as the client's do), or the
        # tile is over 1000 km wide: its straight lon/lat edges then stray far from the UTM square
        # (tilesize 4096 at 960 m, lat 67, lon 0: the point lies outside the corner polygon)
        padded = t.assign(tilesize // 4).geometry
        west, _, east, _ = padded.bounds
        if east - west < 180.0 and tilesize * resolution <= 1e6:
            assert padded.contains(sgeom.Point(lon, lat))
        # the pixel holding the point, and back to its centre
        (row,), (col,) = t.latlon_to_rowcol(lat, lon)
        # floor of the continuous position: inside the tile, except for a point on a tile
        # edge where floating point may put it in the neighbouring pixel row/column
        crow = (tilesize * (t.tj + 1) + pad) - float(n) / resolution
        ccol = (float(e) - 5e5) / resolution - (tilesize * t.ti - pad)
        for idx, cont in ((row, crow), (col, ccol)):
            assert idx == math.floor(cont)
            assert 0 <= idx < t.tile_extent or min(abs(cont), abs(cont - t.tile_extent)) < 1e-6
        (clat,), (clon,) = t.rowcol_to_latlon(row, col)
        ce, cn = lonlat_to_utm(clon, clat, t.zone)
        assert abs(float(ce) - float(e)) <= 0.5 * resolution + 1e-3
        assert abs(float(cn) - float(n)) <= 0.5 * resolution + 1e-3


@SETTINGS
@given(
    TILESIZES,
    st.integers(0, 300),
    st.integers(1, 10**7).map(lambda k: k / 1000.0),
    st.integers(1, 60),
    st.integers(-10**6, 10**6),
    st.integers(-10**7, 10**7),
)
def test_key_roundtrip(tilesize, pad, resolution, zone, ti, tj):
    t = DLTile(tilesize, pad, resolution, zone, ti, tj)
    u = DLTile.from_key(t.key)
    assert u == t and hash(u) == hash(t) and u.key == t.key
    assert (u.tilesize, u.pad, u.resolution, u.zone, u.ti, u.tj) == (tilesize, pad, resolution, zone, ti, tj)
    assert pickle.loads(pickle.dumps(t)) == t


@SETTINGS
@given(
    st.sampled_from([(2048, 8), (2048, 2), (1024, 4), (512, 16), (100, 5), (64, 64), (6, 3)]),
    st.sampled_from([1.0, 10.0, 30.0, 0.5]),
    st.integers(1, 60),
    st.integers(-40, 40),
    st.integers(-1000, 1000),
    st.booleans(),
)
def test_subtiles_partition_parent(ts_sub, resolution, zone, ti, tj, new_res):
    tilesize, sub = ts_sub
    parent = DLTile(tilesize, 7, resolution, zone, ti, tj)
    res2 = resolution / 2 if new_res else None
    subs = list(parent.subtile(sub, resolution=res2))
    assert len(subs) == sub * sub == len(set(subs))
    assert all(s.zone == zone and s.pad == 7 for s in subs)
    pxmin, pymin, pxmax, pymax = parent.bounds_unpadded
    boxes = [s.bounds_unpadded for s in subs]
    assert min(b[0] for b in boxes) == pxmin and max(b[2] for b in boxes) == pxmax
    assert min(b[1] for b in boxes) == pymin and max(b[3] for b in boxes) == pymax
    w = (pxmax - pxmin) / sub
    for b in boxes:
        assert b[2] - b[0] == pytest.approx(w) and b[3] - b[1] == pytest.approx(w)
    # distinct grid cells of equal size tiling the parent's square: an exact partition
    cells = {(round((b[0] - pxmin) / w), round((b[1] - pymin) / w)) for b in boxes}
    assert cells == {(i, j) for i in range(sub) for j in range(sub)}
    # and each sub-tile maps back to the parent
    for s in subs[:: max(1, len(subs) // 7)]:
        (lat,), (lon,) = s.rowcol_to_latlon(s.tile_extent // 2, s.tile_extent // 2)
        # (when the sub-tile lies inside its zone strip, below the polar latitudes)
        if lon_to_zone(lon) == zone and abs(lat) < 84 and max(abs(pymin), abs(pymax)) < 9.3e6:
            assert DLTile.from_latlon(lat, lon, resolution, tilesize, 7) == parent


# ---------------------------------------------------------------- scale


def _peak_bytes(gen) -> tuple[int, int]:
    tracemalloc.start()
    try:
        n = 0
        for _ in gen:
            n += 1
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return n, peak


def test_iter_from_shape_streams():
    shape = sgeom.box(10.0, 0.0, 20.0, 10.0)  # two zones
    # same shape, 16x the tiles: the peak memory of the iteration does not follow the count
    n_small, peak_small = _peak_bytes(DLTile.iter_from_shape(shape, 20, 1024, 0, keys_only=True))
    n_large, peak_large = _peak_bytes(DLTile.iter_from_shape(shape, 5, 1024, 0, keys_only=True))
    assert n_large > 14 * n_small > 2_000
    assert peak_large < 2 * peak_small + 200_000
    # a list of the keys alone would take > 70 bytes per key
    assert peak_large < 40 * n_large
    n_obj, peak_obj = _peak_bytes(DLTile.iter_from_shape(shape, 5, 1024, 0))
    assert n_obj == n_large and peak_obj < 2 * peak_small + 200_000
    assert DLTile.count_from_shape(shape, 5, 1024) == n_large
