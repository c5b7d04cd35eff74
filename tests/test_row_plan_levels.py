"""The row plans recorded level by level in NumPy equal the compiled recording they replace."""

from __future__ import annotations

import numpy as np
import pyproj
from hypothesis import given, settings
from hypothesis import strategies as st

from raster_core.transform import WarpTransformer
from tests import _old_transform as old

# (source CRS, destination CRS, anchor lon/lat, base resolutions of source and destination)
SCENARIOS = [
    ("EPSG:32632", "EPSG:4326", (9.2, 48.1), 30.0, 0.0003),
    ("EPSG:32632", "EPSG:3035", (9.2, 48.1), 30.0, 30.0),
    ("EPSG:3857", "EPSG:32633", (15.3, 52.0), 40.0, 30.0),
    ("EPSG:4326", "EPSG:3413", (-45.0, 75.0), 0.01, 1000.0),
    ("EPSG:4326", "+proj=ortho +lat_0=40 +lon_0=10", (10.0, 40.0), 0.5, 60000.0),
    ("EPSG:32632", "EPSG:32632", (9.2, 48.1), 30.0, 30.0),
    ("EPSG:4326", "EPSG:3857", (179.5, 10.0), 0.01, 1000.0),
]


def _transformers(scenario, factor, rot, off, tol):
    src, dst, (lon, lat), sres, dres = scenario
    sx, sy = pyproj.Transformer.from_crs("EPSG:4326", src, always_xy=True).transform(lon, lat)
    dx, dy = pyproj.Transformer.from_crs("EPSG:4326", dst, always_xy=True).transform(lon, lat)
    src_gt = (sx - 500 * sres, sres, 0.0, sy + 500 * sres, 0.0, -sres)
    r = dres * factor
    dst_gt = (dx - off[0] * r, r, rot * r, dy + off[1] * r, rot * r, -r)
    args = (src, src_gt, dst, dst_gt)
    return WarpTransformer(*args, tolerance=tol), old.WarpTransformer(*args, tolerance=tol)


def _same_plan(new, ref):
    for name in ("_ptr", "_f_col", "_f_xy", "_p_int", "_p_flt", "_e_col", "_e_xy", "_e_ok"):
        np.testing.assert_array_equal(getattr(new, name), getattr(ref, name), err_msg=name)
        assert getattr(new, name).dtype == getattr(ref, name).dtype, name
    # one compiled signature of the fill kernel: C-contiguous 1-D arrays
    assert all(a.ndim == 1 and a.flags.c_contiguous for a in (*new.f, *new.p, *new.e))


@settings(max_examples=60, deadline=None)
@given(scenario=st.sampled_from(SCENARIOS), factor=st.floats(0.2, 40.0), rot=st.sampled_from([0.0, 0.02, -0.3]),
       off=st.tuples(st.floats(-800, 800), st.floats(-800, 800)), w=st.integers(6, 2500),
       rows=st.integers(1, 30), corner=st.sampled_from([0.0, 0.5]), tol=st.sampled_from([0.125, 0.01, 1.0, 2.0]),
       win=st.tuples(st.integers(-5, 600), st.integers(-5, 600), st.integers(1, 900), st.integers(1, 900)),
       cols=st.tuples(st.integers(0, 2500), st.integers(0, 2500)))
def test_row_plan_equals_the_compiled_recording(scenario, factor, rot, off, w, rows, corner, tol, win, cols):
    t, t_old = _transformers(scenario, factor, rot, off, tol)
    xs = np.arange(w) + corner
    ys = np.arange(rows) * 7.0 + corner
    plan = t.row_plan(xs, ys)
    ref = t_old.row_plan(xs, ys)
    assert (plan is None) == (ref is None)
    if plan is None:
        return
    _same_plan(plan, ref)
    window = (float(win[0]), float(win[1]), float(win[0] + win[2]), float(win[1] + win[3]))
    c0, c1 = min(cols[0], w - 1), max(min(cols[1], w), min(cols[0], w - 1) + 1)
    assert plan.add_exact_retries(t, ys, window, c0, c1) == ref.add_exact_retries(t_old, ys, window, c0, c1)
    _same_plan(plan, ref)
    for got, want in zip(plan.fill(0, rows, 0, w), ref.fill(0, rows, 0, w), strict=True):
        np.testing.assert_array_equal(got, want)
    for inverse in (False, True):
        for got, want in zip(t.transform_rows(xs, ys, inverse=inverse), t_old.transform_rows(xs, ys, inverse=inverse),
                             strict=True):
            np.testing.assert_array_equal(got, want)
