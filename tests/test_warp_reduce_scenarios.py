"""The reduce family against GDAL on what the warp parity scenarios do not cover: source alpha,
every data type with nodata in the data and the dst-nodata collision rule, and mosaics into a
destination that is not reset (``init_dest_nodata=False``).

The reduce rows of ``benchmarks.ops.OPS`` on every scenario of ``tests.test_warp_parity.SCENARIOS``
(real files x CRS pairs) are run by ``tests/test_warp_parity.py::test_parity_with_gdal``, with the
op table's thresholds (identical >= 99.9 % for mode/min/max/med/q1/q3, within 1 DN / 1e-4 relative
for average/rms/sum, masks >= 99.9 %).
"""

from __future__ import annotations

import numpy as np
import pytest
from affine import Affine

pytest.importorskip("rasterio")

from benchmarks.ops import OPS, compare, run_ours, run_reference  # noqa: E402
from tests import test_warp_parity as P  # noqa: E402

REDUCE_OPS = ["average", "rms", "mode", "max", "min", "med", "q1", "q3", "sum"]


def test_every_reduce_op_runs_on_every_parity_scenario() -> None:
    """The scenarios x reduce ops are parity cases of tests/test_warp_parity.py (run there once)."""
    wanted = {(sid, op) for sid in P.SCENARIOS if sid not in P._DEVIATION_ONLY for op in REDUCE_OPS}
    assert len(wanted) >= 9 * 12  # 12 scenarios from data/ alone, 15 with ../shared/data
    assert wanted <= set(P.PARITY_CASES), sorted(wanted - set(P.PARITY_CASES))


@pytest.mark.parametrize("op_name", REDUCE_OPS)
def test_reduce_parity_src_alpha(op_name: str) -> None:
    """src_alpha (RGBA orthophoto): density is binary for the average family, blended for sum."""
    op = OPS[op_name]
    src, tf, crs, _ = P._load("riotiler_cog_rgba.tif")
    dtf, shape = P._default_grid(src, tf, crs, "EPSG:4326", maxpx=150)
    kw = dict(src_transform=tf, src_crs=crs, dst_transform=dtf, dst_crs="EPSG:4326", dst_shape=shape)
    ours = run_ours(op, src, src_alpha=4, **kw)
    ref = run_reference(op, src, src_alpha=4, **kw)
    ag = compare(op, ours, ref, None)
    assert ag.value_agree >= op.threshold, ag


def _int16_mode_minus_one_pixels(ours, ref, nodata):
    """GDAL 3.10 drops an Int16 mode of -1 (GDAL_DEVIATIONS): those pixels, and only those, differ."""
    dev = (ours == -1) & (ref == nodata)
    return dev


@pytest.mark.parametrize("dtype", ["uint8", "int16", "uint16", "int32", "float32", "float64"])
@pytest.mark.parametrize("op_name", REDUCE_OPS)
def test_reduce_parity_dtypes_and_collision(dtype: str, op_name: str) -> None:
    """Rounding, clamping and the 3.10 dst-nodata collision rule per dtype, nodata in the data."""
    op = OPS[op_name]
    rng = np.random.default_rng(7)
    info = np.iinfo(dtype) if np.dtype(dtype).kind in "iu" else None
    lo, hi = (max(info.min, -50), min(info.max, 300)) if info else (-50, 300)
    src = rng.integers(lo, hi, size=(1, 60, 70)).astype(dtype)
    src[0, 10:14, 10:30] = 10  # values that collide with dst nodata 10
    src[0, 30:33, :] = 7  # source nodata
    if dtype == "int16" and op_name == "mode":
        src[0, 40:44, 40:50] = -1  # a block whose mode is -1 (GDAL 3.10 drops it)
    kw = dict(src_transform=Affine(10, 0, 1000, 0, -10, 5000), src_crs="EPSG:3857",
              dst_transform=Affine(23.3, 0, 1003, 0, -23.3, 4997), dst_crs="EPSG:3857", dst_shape=(25, 29),
              src_nodata=7, dst_nodata=10)
    ours = run_ours(op, src, **kw)
    ref = run_reference(op, src, **kw)
    if dtype == "int16" and op_name == "mode":
        dev = _int16_mode_minus_one_pixels(ours, ref, 10)
        assert dev.sum() >= 1  # the deviation is exercised...
        ref = np.where(dev, ours, ref)  # ...and is the only difference
    ag = compare(op, ours, ref, 10)
    assert ag.mask_agree >= 0.999 and ag.value_agree >= op.threshold, ag
    if np.dtype(dtype).kind in "iu" and op_name in ("mode", "min", "max", "med", "q1", "q3"):
        np.testing.assert_array_equal(ours, ref)


@pytest.mark.parametrize("op_name", ["average", "mode", "max", "sum"])
def test_reduce_parity_mosaic_init_dest_false(op_name: str) -> None:
    """init_dest_nodata=False: four tiles warped into one grid keep earlier data where later is nodata."""
    import rasterio.crs
    import rasterio.warp as rw
    from rasterio.enums import Resampling

    from raster_core.warp import reproject

    op = OPS[op_name]
    base, tf, crs, nd = P._load("RGB.byte.tif")
    crs = "EPSG:32618"
    dtf, shape = P._default_grid(base, tf, crs, "EPSG:4326", maxpx=120)
    ours = np.zeros((3, *shape), np.uint8)
    ref = np.zeros((3, *shape), np.uint8)
    for i, name in enumerate(["rgb1.tif", "rgb2.tif", "rgb3.tif", "rgb4.tif"]):
        src, stf, _, _ = P._load(name)
        reproject(src, ours, src_transform=stf, src_crs=crs, dst_transform=dtf, dst_crs="EPSG:4326",
                  resampling=op.resampling, src_nodata=0, dst_nodata=0, init_dest_nodata=(i == 0), num_threads=1)
        rw.reproject(src, ref, src_transform=stf, src_crs=rasterio.crs.CRS.from_string(crs), dst_transform=dtf,
                     dst_crs=rasterio.crs.CRS.from_string("EPSG:4326"), resampling=Resampling[op.rio_resampling],
                     src_nodata=0, dst_nodata=0, init_dest_nodata=(i == 0), warp_mem_limit=4096,
                     SRC_FILL_RATIO_HEURISTICS="NO")
    ag = compare(op, ours, ref, 0)
    assert ag.mask_agree >= 0.999 and ag.value_agree >= op.threshold, ag
