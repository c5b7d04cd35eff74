"""The reduce family's stores (``interp.write_block``, ``write_block_density``): without densities
the row loops of ``write_block`` (selects, a few loops per working kind) equal GDAL's per-pixel
write rules (``_convert``, as ``write_block_density`` applies them) at density 1.0, value for value."""

from __future__ import annotations

import numpy as np
import pytest

from raster_core._kernels.interp import WORK_FLOAT32, WORK_FLOAT64, WORK_INT, write_block, write_block_density

SPECIAL = [np.nan, -np.inf, np.inf, -0.0, 0.0, 0.5, -0.5, 1.5, 2.5, -1.5, 254.5, 255.0, 255.5, 256.0, -1e30, 1e30,
           65535.4, 65535.5, -32768.5, 3.4e38, 3.5e38, 1e-45, 7.0, 6.6, 7.4]

F32 = (-3.4028234663852886e38, 3.4028234663852886e38)
F64 = (-1.7976931348623157e308, 1.7976931348623157e308)


def _values(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    v = rng.normal(0, 3e4, shape)
    flat = v.reshape(-1)
    picks = rng.integers(0, flat.size, flat.size // 3)
    flat[picks] = rng.choice(SPECIAL, picks.size)
    return v


@pytest.mark.parametrize(
    ("work_kind", "wrange", "dst_dtype", "collide", "dst_nodata"),
    [
        (WORK_INT, (0.0, 255.0), "uint8", False, np.nan),
        (WORK_INT, (0.0, 255.0), "uint8", True, 0.0),
        (WORK_INT, (0.0, 255.0), "uint8", True, 7.0),
        (WORK_INT, (-32768.0, 32767.0), "uint8", False, np.nan),
        (WORK_FLOAT32, F32, "float32", False, np.nan),
        (WORK_FLOAT32, F32, "uint8", False, 0.0),
        (WORK_FLOAT64, F64, "float32", False, np.nan),
        (WORK_FLOAT64, F64, "uint8", False, np.nan),
    ],
)
def test_stores_without_density_equal_the_per_pixel_rules(work_kind, wrange, dst_dtype, collide, dst_nodata):
    rng = np.random.default_rng(work_kind * 10 + int(collide))
    nb, rows, cols = 2, 7, 53
    values = _values(rng, (nb, rows, cols))
    band_produced = (rng.random((nb, rows, cols)) < 0.7).astype(np.uint8)
    dst_dt = np.dtype(dst_dtype)
    info = np.iinfo(dst_dt) if dst_dt.kind in "iu" else np.finfo(dst_dt)
    start = rng.integers(0, 200, (nb, rows, cols)).astype(dst_dt)
    args = (work_kind, wrange[0], wrange[1], dst_dt.kind in "iu", float(info.min), float(info.max),
            float(dst_nodata), collide)
    fast, fast_prod = start.copy(), np.zeros((rows, cols), dtype=np.bool_)
    write_block(values.copy(), band_produced, fast, *args, fast_prod)
    ref, ref_prod = start.copy(), np.zeros((rows, cols), dtype=np.bool_)
    write_block_density(values.copy(), np.ones((nb, rows, cols)), band_produced, ref, np.ones((1, 1), np.uint8),
                        False, *args, ref_prod)
    assert np.array_equal(fast_prod, band_produced.any(axis=0))
    assert np.array_equal(fast_prod, ref_prod)
    assert fast.tobytes() == ref.tobytes()  # bit for bit (NaN, -0.0)
    assert np.array_equal(fast[band_produced == 0], start[band_produced == 0])  # not produced: kept
