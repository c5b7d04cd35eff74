"""The client-side planning of raster_core.load on many STAC items: the bulk STAC import
(one product per collection layout), the footprints of many files at once, the output grid
planned from STAC ``proj:*`` without headers, and the chunk -> sources index. Each is checked
against the per-item path it replaces."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import raster_core
from raster_core.api import Raster
from raster_core.catalog import Catalog

X0, Y0, RES, SIZE = 500000.0, 4000000.0, 10.0, 64


def _item(path: str, i: int, col: int, row: int, **asset_extra) -> dict:
    tf = (X0 + col * RES, RES, 0.0, Y0 - row * RES, 0.0, -RES)
    return {
        "type": "Feature", "stac_version": "1.0.0", "id": f"scene-{i}", "collection": "synthetic",
        "geometry": None,
        "properties": {"datetime": f"2021-01-0{i % 3 + 1}T12:00:00Z", "proj:epsg": 32633,
                       "proj:shape": [SIZE, SIZE], "proj:transform": [RES, 0.0, tf[0], 0.0, -RES, tf[3]]},
        "assets": {"B1": {"href": path, "type": "image/tiff; application=geotiff", "roles": ["data"],
                          "raster:bands": [{"data_type": "uint16", "nodata": 0}], **asset_extra}},
        "links": [],
    }


@pytest.fixture(scope="module")
def collection(tmp_path_factory):
    from raster_core.io import write_geotiff

    folder = tmp_path_factory.mktemp("stac_planning")
    rng = np.random.default_rng(3)
    items = []
    for i in range(12):
        col, row = (int(v) for v in rng.integers(0, 400 - SIZE, 2))
        data = rng.integers(1, 60000, (1, SIZE, SIZE), dtype=np.uint16)
        path = folder / f"s{i}.tif"
        write_geotiff(path, data, crs="EPSG:32633", transform=(X0 + col * RES, RES, 0.0, Y0 - row * RES, 0.0, -RES),
                      nodata=0, blocksize=32)
        items.append(_item(str(path), i, col, row))
    return items


# --------------------------------------------------------------------------- the bulk STAC import
def _one_by_one(items):
    cat = Catalog()
    for it in items:
        cat.add_stac(it)
    return cat


def test_bulk_stac_import_equals_item_by_item_import(collection):
    items = copy.deepcopy(collection)
    # a layout change within the collection (merged into its product), an item of its own
    # product (no collection), a relative href and a repeated id (the last one wins)
    items[3]["assets"]["B1"]["raster:bands"] = [{"data_type": "uint16", "nodata": 7, "scale": 2}]
    items[4]["assets"]["QA"] = {"href": "qa.tif", "roles": ["data"], "raster:bands": [{"data_type": "uint8"}]}
    del items[5]["collection"]
    items[6]["assets"]["B1"]["href"] = "relative/s6.tif"
    items[7]["id"] = items[2]["id"]
    for k in (8, 9):  # assets with grids of their own (the item's, and one that is not)
        items[k]["assets"]["B1"]["proj:shape"] = [SIZE + k - 8, SIZE]
        items[k]["assets"]["B1"]["proj:transform"] = items[k]["properties"]["proj:transform"]
    bulk = Catalog()
    bulk.add_stac({"type": "FeatureCollection", "features": items})
    assert bulk.to_dict() == _one_by_one(items).to_dict()
    assert bulk.resolve("scene-0").product is bulk.resolve("scene-1").product is bulk.resolve("scene-9").product
    assert bulk.resolve("scene-8").image.shape == (SIZE, SIZE) and bulk.resolve("scene-9").image.shape is None
    assert set(bulk.products["synthetic"].bands) == {"B1", "QA", "alpha"}


def test_bulk_stac_import_keeps_equal_looking_layouts_apart(collection):
    # nodata 0 vs 0.5 and a data type that differs only by case give different bands
    a, b, c = (copy.deepcopy(collection[k]) for k in range(3))
    b["collection"] = c["collection"] = "other"
    b["assets"]["B1"]["raster:bands"] = [{"data_type": "uint16", "nodata": 0.5}]
    c["assets"]["B1"]["raster:bands"] = [{"data_type": "UINT16", "nodata": 0}]
    c["id"] = "scene-c"
    for items in ([a, b, c], [a, c, b]):
        bulk = Catalog()
        bulk.add_stac({"type": "FeatureCollection", "features": items})
        assert bulk.to_dict() == _one_by_one(items).to_dict()


# --------------------------------------------------------------------------- footprints
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(src_epsg=st.sampled_from([32633, 32632, 3857, 4326]), n=st.integers(1, 5), data=st.data(),
       halo=st.sampled_from([2, 3, 4, 6]))
def test_footprints_of_many_files_equal_one_file_at_a_time(src_epsg, n, data, halo):
    from raster_core.api import _footprint_window
    from raster_core.grid import GeoBox
    from raster_core.loader import _footprint_boxes
    from raster_core.transform import WarpTransformer

    gb = GeoBox("EPSG:32633", (X0, 30.0, 0.0, Y0, 0.0, -30.0), width=200, height=150)
    if src_epsg == 4326:
        ox, oy, px = 14.9, 36.15, 0.0005
    elif src_epsg == 3857:
        ox, oy, px = 1.66e6, 4.32e6, 25.0
    else:
        ox, oy, px = (X0 if src_epsg == 32633 else 1.04e6), Y0 + 500, 10.0
    gts, shapes = [], []
    for _ in range(n):
        dx = data.draw(st.floats(-2000, 8000)) * px / 10
        dy = data.draw(st.floats(-2000, 6000)) * px / 10
        scale = data.draw(st.sampled_from([0.5, 1.0, 3.0, 7.0]))
        gts.append((ox + dx, px * scale, 0.0, oy - dy, 0.0, -px * scale))
        shapes.append((data.draw(st.integers(1, 300)), data.draw(st.integers(1, 300))))
    boxes, same = _footprint_boxes(f"EPSG:{src_epsg}", np.array(gts), np.array(shapes, dtype=float),
                                   np.full(n, float(halo)), gb)
    assert same == (src_epsg == 32633)
    for k in range(n):
        t = WarpTransformer(f"EPSG:{src_epsg}", gts[k], gb.crs, gb.transform)
        r0, r1, c0, c1 = _footprint_window(t, shapes[k], (gb.height, gb.width), halo=halo)
        assert boxes[k].tolist() == [c0, r0, c1, r1]


# --------------------------------------------------------------------------- the grid from proj:*
@pytest.mark.parametrize("grid", [
    dict(srs="EPSG:32633", resolution=10.0, bounds=(X0, Y0 - 4000, X0 + 4000, Y0)),
    dict(srs="EPSG:32633", resolution=(17.0, 13.0), bounds=(X0 + 3.3, Y0 - 3999, X0 + 3801, Y0 - 7.7),
         align_pixels=True),
    dict(srs="EPSG:32633", dimensions=(123, 77), bounds=(X0, Y0 - 4000, X0 + 4000, Y0)),
    dict(srs="EPSG:4326", resolution=0.0004, bounds=(15.0, 36.08, 15.05, 36.12)),
    dict(srs="EPSG:32633", resolution=20.0, bounds=(15.0, 36.08, 15.05, 36.12), bounds_srs="EPSG:4326"),
])
def test_grid_from_stac_proj_equals_the_grid_from_headers(collection, grid, monkeypatch):
    from raster_core import loader

    paths = [it["assets"]["B1"]["href"] for it in collection]
    by_path = raster_core.load(paths, ["1"], chunks={"y": 64, "x": 64}, **grid)
    opened = []
    import raster_core.api as api

    real_open = api._open
    monkeypatch.setattr(api, "_open", lambda p: opened.append(p) or real_open(p))
    planned = loader._stac_grid
    grids = []
    monkeypatch.setattr(loader, "_stac_grid", lambda *a: grids.append(planned(*a)) or grids[-1])
    loader._STAC_GRIDS.clear()
    by_stac = raster_core.load(collection, ["B1"], chunks={"y": 64, "x": 64}, **grid)
    assert grids and grids[0] is not None  # planned from proj:*
    # a later load with the same parameters and first image takes the grid already planned
    assert raster_core.load(collection, ["B1"], chunks={"y": 64, "x": 64}, **grid).sizes == by_stac.sizes
    assert grids[-1] is grids[0]
    assert opened == []  # no header read on the client
    for coord in ("x", "y"):
        assert by_stac[coord].values.tolist() == by_path[coord].values.tolist()
    assert by_stac.spatial_ref.attrs == by_path.spatial_ref.attrs
    np.testing.assert_array_equal(by_stac.compute(scheduler="sync").values, by_path.compute(scheduler="sync").values)


# --------------------------------------------------------------------------- chunk -> sources
@pytest.mark.parametrize("dense_max", [0, 1 << 15], ids=["strtree", "dense"])
@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_chunk_sources_are_the_boxes_that_overlap_each_chunk(data, dense_max):
    from raster_core._dask import chunk_bounds, chunk_sources

    ys = data.draw(st.lists(st.integers(1, 40), min_size=1, max_size=5))
    xs = data.draw(st.lists(st.integers(1, 40), min_size=1, max_size=5))
    ts = data.draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    n = data.draw(st.integers(0, 8))
    boxes = np.array([sorted(data.draw(st.lists(st.integers(0, 120), min_size=2, max_size=2)))
                      + sorted(data.draw(st.lists(st.integers(0, 120), min_size=2, max_size=2)))
                      for _ in range(n)], dtype=float).reshape(-1, 4)[:, [0, 2, 1, 3]]
    steps = np.array([data.draw(st.integers(0, sum(ts) - 1)) for _ in range(n)], dtype=np.int64)
    t, y, x, s = chunk_sources(boxes, steps, (ts, ys, xs), dense_max=dense_max)
    got = set(zip(t.tolist(), y.tolist(), x.tolist(), s.tolist(), strict=True))
    tb, yb, xb = chunk_bounds(ts), chunk_bounds(ys), chunk_bounds(xs)
    want = set()
    for k, (c0, r0, c1, r1) in enumerate(boxes):
        ti = int(np.searchsorted(tb, steps[k], side="right") - 1)
        for yi in range(len(ys)):
            for xi in range(len(xs)):
                if max(c0, xb[xi]) < min(c1, xb[xi + 1]) and max(r0, yb[yi]) < min(r1, yb[yi + 1]):
                    want.add((ti, yi, xi, k))
    assert got == want
    keys = list(zip(t.tolist(), y.tolist(), x.tolist(), s.tolist(), strict=True))
    assert keys == sorted(keys)


_EDGE = st.one_of(st.floats(0, 120, allow_nan=False), st.integers(0, 12).map(lambda k: 10.0 * k),
                  st.tuples(st.integers(0, 12), st.sampled_from([-2e-6, -1e-6, -5e-7, 5e-7, 1e-6, 2e-6]))
                  .map(lambda p: 10.0 * p[0] + p[1]))


@settings(max_examples=150, deadline=None)
@given(boxes=st.lists(st.tuples(_EDGE, _EDGE, _EDGE, _EDGE), max_size=10),
       sizes=st.lists(st.integers(1, 30), min_size=1, max_size=5))
def test_chunk_sources_direct_pairs_equal_the_strtree_query(boxes, sizes):
    """Fractional boxes and edges a hair from a chunk border: the direct test of every pair
    gives the STRtree query's pairs exactly."""
    from raster_core._dask import chunk_sources

    b = np.array([(min(c0, c1), min(r0, r1), max(c0, c1), max(r0, r1)) for c0, r0, c1, r1 in boxes],
                 dtype=float).reshape(-1, 4)
    steps = np.zeros(len(b), dtype=np.int64)
    chunks = ((1,), tuple(sizes), tuple(reversed(sizes)))
    tree = chunk_sources(b, steps, chunks, dense_max=0)
    dense = chunk_sources(b, steps, chunks, dense_max=1 << 30)
    for got, want in zip(dense, tree, strict=True):
        np.testing.assert_array_equal(got, want)


# --------------------------------------------------------------------------- file plans kept across loads
def test_file_plans_are_kept_across_loads_until_the_file_changes(tmp_path, monkeypatch):
    import raster_core.api as api
    from raster_core.io import write_geotiff

    path = tmp_path / "one.tif"
    tf = (X0, RES, 0.0, Y0, 0.0, -RES)
    write_geotiff(path, np.full((1, 50, 50), 3, np.uint16), crs="EPSG:32633", transform=tf, nodata=0)
    planned = []
    real = api.plan_file
    monkeypatch.setattr(api, "plan_file", lambda *a: planned.append(a[0]) or real(*a))
    kw = dict(srs="EPSG:32633", resolution=RES, bounds=(X0, Y0 - 800, X0 + 800, Y0), chunks={"y": 20, "x": 20})

    def compute(raster=None, **extra):
        return (raster or Raster()).load([str(path)], ["1"], **kw, **extra).compute(scheduler="sync").values

    first = compute()
    assert planned == [str(path)] and first[0, 0, :50, :50].min() == 3
    assert (compute() == first).all() and planned == [str(path)]  # a new load: the plan is reused
    assert (compute(resampler="bilinear") == first).all() and len(planned) == 2  # another resampler: planned
    assert (compute(Raster(reference_paths=True)) == first).all() and len(planned) == 3  # other paths: planned
    write_geotiff(path, np.full((1, 60, 60), 9, np.uint16), crs="EPSG:32633", transform=tf, nodata=0)
    changed = compute()
    assert len(planned) == 4 and changed[0, 0, :60, :60].min() == 9 and changed[0, 0, 60:, :].max() == 0


# --------------------------------------------------------------------------- the DataArray
@pytest.mark.parametrize("crs,tf", [("EPSG:32633", (X0, 10.0, 0.0, Y0, 0.0, -10.0)),
                                    ("EPSG:4326", (14.9, 0.001, 0.0, 36.2, 0.0, -0.001))])
@pytest.mark.parametrize("fill", [None, np.uint16(0), np.float32(np.nan)])
def test_dataarray_equals_xarrays_own_construction(crs, tf, fill):
    import dask.array as dsa
    import xarray as xr

    from raster_core.grid import GeoBox
    from raster_core.xr import pixel_centres, spatial_ref_attrs, to_dataarray

    gb = GeoBox(crs, tf, width=7, height=5)
    times = np.array(["2021-01-02", "NaT"], dtype="datetime64[ns]")
    data = dsa.zeros((2, 3, 5, 7), chunks=(1, 3, 2, 4), dtype=np.uint16)
    got = to_dataarray(data, gb, times=times, bands=["red", "nir08", "alpha"], fill_value=fill)
    # the same DataArray made by xarray from plain values
    x, y = pixel_centres(gb)
    geo = crs == "EPSG:4326"
    want = xr.DataArray(data, dims=("time", "band", "y", "x"), coords={
        "time": times, "band": np.array(["red", "nir08", "alpha"]),
        "y": ("y", y, {"axis": "Y", "standard_name": "latitude" if geo else "projection_y_coordinate"}),
        "x": ("x", x, {"axis": "X", "standard_name": "longitude" if geo else "projection_x_coordinate"}),
        "spatial_ref": xr.Variable((), np.int64(0), spatial_ref_attrs(gb))},
        attrs={"grid_mapping": "spatial_ref", **({} if fill is None else {"_FillValue": fill, "nodata": fill})})
    want.name = None
    xr.testing.assert_identical(got, want)
    for dim in ("time", "band", "y", "x"):
        assert got.indexes[dim].equals(want.indexes[dim]) and got[dim].dtype == want[dim].dtype
    got.x.attrs["changed"] = 1  # the coordinates are the DataArray's own
    again = to_dataarray(data, gb, times=times, bands=["a", "b", "c"], fill_value=fill)
    assert "changed" not in again.x.attrs
    # DataArrays of one grid share its (immutable) indexes: their values cannot be written
    assert again.indexes["x"] is got.indexes["x"]
    for dim in ("time", "band", "y", "x"):
        assert not got[dim].values.flags.writeable
        with pytest.raises(ValueError):
            got[dim].values[0] = got[dim].values[-1]
    assert got.sel(x=x[3], y=y[1], method="nearest").shape == (2, 3)


def test_dataarray_of_the_wrong_shape_is_refused():
    from raster_core.errors import ShapeError
    from raster_core.grid import GeoBox
    from raster_core.xr import to_dataarray

    gb = GeoBox("EPSG:32633", (X0, 10.0, 0.0, Y0, 0.0, -10.0), width=7, height=5)
    with pytest.raises(ShapeError, match=r"\(1, 1, 7, 5\)"):
        to_dataarray(np.zeros((1, 1, 7, 5)), gb, times=np.array(["2021-01-02"], "M8[ns]"), bands=["a"],
                     fill_value=None)


def test_items_of_several_files_reach_every_chunk_their_files_reach(tmp_path):
    from raster_core.api import Raster
    from raster_core.catalog import Catalog
    from raster_core.io import write_geotiff

    rng = np.random.default_rng(5)
    items = []
    for i, (col_a, col_b) in enumerate([(0, 90), (40, 5)]):
        assets = {}
        for key, col, size in (("B1", col_a, 30), ("B2", col_b, 45)):
            path = tmp_path / f"{key}_{i}.tif"
            tf = (X0 + col * RES, RES, 0.0, Y0 - 7 * i * RES, 0.0, -RES)
            write_geotiff(path, rng.integers(1, 999, (1, size, size), dtype=np.uint16), crs="EPSG:32633",
                          transform=tf, nodata=0)
            assets[key] = {"href": str(path), "type": "image/tiff; application=geotiff", "roles": ["data"],
                           "raster:bands": [{"data_type": "uint16", "nodata": 0}],
                           # STAC: an asset's own grid overrides the item's (B1's repeats it)
                           "proj:shape": [size, size], "proj:transform": [RES, 0.0, tf[0], 0.0, -RES, tf[3]]}
        item = _item(str(tmp_path / f"B1_{i}.tif"), i, col_a, 7 * i)
        item["properties"]["proj:shape"] = [30, 30]  # the item's grid is B1's
        item["assets"] = assets
        items.append(item)
    cat = Catalog.from_stac({"type": "FeatureCollection", "features": items})
    # the item's grid does not describe B2's file: it is not used (the headers are)
    assert cat.resolve(items[0]["id"]).image.geotransform is None
    same = copy.deepcopy(items[0])
    del same["assets"]["B2"]
    same["id"] = "b1-only"
    assert Catalog.from_stac(same).resolve("b1-only").image.geotransform is not None
    # an asset of the item's extent with finer pixels: the item's grid still stands for it
    finer = copy.deepcopy(same)
    t = finer["assets"]["B1"]["proj:transform"]
    finer["assets"]["B2"] = dict(finer["assets"]["B1"], **{"proj:shape": [60, 60],
                                                           "proj:transform": [RES / 2, 0.0, t[2], 0.0, -RES / 2, t[5]]})
    assert Catalog.from_stac(finer).resolve("b1-only").image.geotransform is not None
    finer["assets"]["B2"]["proj:shape"] = [15, 15]  # coarser pixels, same extent: not
    finer["assets"]["B2"]["proj:transform"] = [RES * 2, 0.0, t[2], 0.0, -RES * 2, t[5]]
    assert Catalog.from_stac(finer).resolve("b1-only").image.geotransform is None
    kw = dict(srs="EPSG:32633", resolution=RES, bounds=(X0, Y0 - 800, X0 + 1400, Y0))
    expected = Raster(Catalog.from_stac({"type": "FeatureCollection", "features": items})).stack(
        [[it["id"] for it in items]], bands=["B1", "B2"], order="gdal", **kw)[0]
    for chunks in ({"y": 16, "x": 16}, {"y": 7, "x": 50}):
        got = raster_core.load([items], ["B1", "B2"], chunks=chunks, **kw).compute(scheduler="sync")
        np.testing.assert_array_equal(got.values, expected.filled(0))
        assert np.ma.count(expected[0, 1]) > np.ma.count(expected[0, 0]) > 0


# --------------------------------------------------------------------------- time steps
_TIMES = st.lists(st.one_of(st.none(), st.integers(-10**17, 10**17)), min_size=1, max_size=12)


@given(groups=st.lists(_TIMES, min_size=1, max_size=5))
@settings(max_examples=150, deadline=None)
def test_step_times_and_painter_order_follow_the_times(groups):
    """The time coordinate is each group's earliest time (NaT when none has one) and the items
    of a group paint in time order, NaT last, ties in input order: as NumPy's own comparisons
    of the times say."""
    from raster_core.loader import _group, _step_times

    nat = np.datetime64("NaT", "ns")

    def when(v):
        return nat if v is None else np.datetime64(v, "ns")

    entries = [[(f"{g}-{i}", None, when(v)) for i, v in enumerate(vals)] for g, vals in enumerate(groups)]
    times = _step_times(entries)
    for got, g in zip(times, entries, strict=True):
        real = [t for _, _, t in g if not np.isnat(t)]
        assert (np.isnat(got) and not real) or got == min(real)
    flat = [[e] for g in entries for e in g]
    by_time = _group(flat, "time")
    for g in by_time:
        assert len({None if np.isnat(t) else t.astype(np.int64).item() for _, _, t in g}) == 1
    keys = [g[0][2] for g in by_time]
    assert keys == sorted(keys, key=lambda t: (np.isnat(t), t if not np.isnat(t) else 0))
    order = _group([[e for g in entries for e in g]], None)  # explicit groups are left as given
    assert order[0] == [e for g in entries for e in g]
    one = _group([[e] for e in entries[0]], lambda _: 0)[0]  # one group: painter's order by time
    ranks = [(np.isnat(t), 0 if np.isnat(t) else t.astype(np.int64).item()) for _, _, t in one]
    assert ranks == sorted(ranks)
    assert [e[0] for e in one] == [e[0] for e in sorted(entries[0], key=lambda e: (
        np.isnat(e[2]), 0 if np.isnat(e[2]) else e[2].astype(np.int64).item()))]


@settings(max_examples=200, deadline=None)
@given(shape=st.tuples(st.integers(1, 5), st.integers(1, 4), st.integers(1, 3000), st.integers(1, 3000)),
       sizes=st.tuples(st.sampled_from([1, 2, 3, 7, -1]), st.one_of(st.integers(1, 3100), st.just(-1)),
                       st.one_of(st.integers(1, 3100), st.just(-1))))
def test_chunk_sizes_are_dasks_own(shape, sizes):
    """Explicit chunk sizes are normalized as Dask's ``normalize_chunks`` does."""
    from dask.array.core import normalize_chunks

    from raster_core.loader import _normalize_chunks

    spec = {"time": sizes[0], "y": sizes[1], "x": sizes[2]}
    want = normalize_chunks((sizes[0], -1, sizes[1], sizes[2]), shape=shape, dtype=np.uint16)
    assert _normalize_chunks(spec, shape, np.dtype(np.uint16)) == want
