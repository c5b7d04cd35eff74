"""The per-pixel separable kernel checks a kernel row's taps with one look-up in the runs of valid
pixels (``interp.valid_runs``); its results equal those of the per-tap checks bit for bit."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from raster_core._kernels.args import DestArgs, KernelArgs, SourceArgs, StoreArgs
from raster_core._kernels.interp import _separable_kernel, first_taps, valid_runs
from raster_core.resampling import METHOD_CODES


def _warp(src: np.ndarray, valid: np.ndarray, runs: np.ndarray | None, X: np.ndarray, Y: np.ndarray, method: str,
          scale: float, yscale: float | None = None, dens: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    R = {"bilinear": 1, "cubic": 2, "cubicspline": 2, "lanczos": 3}[method]
    yscale = scale if yscale is None else yscale
    radius = math.ceil(R / scale) if scale < 1 else R
    yradius = math.ceil(R / yscale) if yscale < 1 else R
    H, W = valid.shape
    source = SourceArgs(src, valid, True, dens if dens is not None else np.ones((1, 1), np.float32), dens is not None,
                        0, 0, 0, 0, H, W, runs if runs is not None else valid, runs is not None)
    kernel = KernelArgs(METHOD_CODES[method], scale, yscale, radius, yradius, False, False)
    store = StoreArgs(0, -np.inf, np.inf, False, -np.inf, np.inf, np.nan, False)
    dst = np.full((src.shape[0], *X.shape), -1.0)
    produced = np.zeros(X.shape, np.bool_)
    assert first_taps(METHOD_CODES[method], False, radius, yradius)[0] <= 0
    dest = DestArgs(dst, 0, np.ones((1, 1), np.uint8), False, produced)
    _separable_kernel(1)(source, kernel, X, Y, np.ones(X.shape, np.bool_), dest, store)
    return dst, produced


@settings(max_examples=40, deadline=None)
@given(method=st.sampled_from(["bilinear", "cubic", "cubicspline", "lanczos"]), scale=st.sampled_from([1.0, 0.45, 0.3]),
       holes=st.floats(0.0, 0.3), seed=st.integers(0, 2**16))
def test_runs_equal_per_tap_checks(method: str, scale: float, holes: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    H, W = 40, 47
    src = (rng.random((1, H, W)) * 1000).astype(np.float64)
    valid = (rng.random((H, W)) >= holes).astype(np.uint8)
    valid[rng.integers(0, H), :] = 0  # a whole invalid row
    runs = np.empty((H, W), np.uint8)
    valid_runs(valid, runs)
    X, Y = np.meshgrid(rng.random(23) * W, rng.random(19) * H)
    by_runs, prod_runs = _warp(src, valid, runs, X, Y, method, scale)
    by_taps, prod_taps = _warp(src, valid, None, X, Y, method, scale)
    np.testing.assert_array_equal(by_runs, by_taps)
    np.testing.assert_array_equal(prod_runs, prod_taps)
    assert prod_runs.any()


def test_runs_are_capped() -> None:
    valid = np.ones((2, 600), np.uint8)
    valid[1, 300] = 0
    runs = np.empty_like(valid)
    valid_runs(valid, runs)
    assert runs[0, 0] == 255 and runs[0, -1] == 1 and runs[1, 299] == 1 and runs[1, 300] == 0
    assert runs[1, 301] == 255 and runs[1, 599] == 1


@settings(max_examples=30, deadline=None)
@given(scales=st.sampled_from([(1.0, 1.0), (0.45, 0.45), (1.0, 0.45), (0.3, 1.0)]), holes=st.floats(0.0, 0.3),
       seed=st.integers(0, 2**16))
def test_lanczos_fused_sums_equal_flat_sums(scales: tuple[float, float], holes: float, seed: int) -> None:
    """Masked lanczos takes the first band's sum in the loop of its weight totals, and kernel rows of
    valid taps without per-tap tests; with densities (1.0 on valid pixels: the same totals) it takes
    GDAL's flat sums tap by tap. Every band, by either path, with or without the runs, is the same."""
    rng = np.random.default_rng(seed)
    H, W = 36, 41
    src = (rng.random((3, H, W)) * 1000).astype(np.float64)
    valid = (rng.random((H, W)) >= holes).astype(np.uint8)
    valid[:, rng.integers(0, W)] = 0  # a whole invalid column
    runs = np.empty((H, W), np.uint8)
    valid_runs(valid, runs)
    X, Y = np.meshgrid(rng.random(21) * W, rng.random(17) * H)
    fused, prod = _warp(src, valid, runs, X, Y, "lanczos", *scales)
    per_tap, prod_taps = _warp(src, valid, None, X, Y, "lanczos", *scales)
    flat, prod_flat = _warp(src, valid, None, X, Y, "lanczos", *scales, dens=valid.astype(np.float32))
    np.testing.assert_array_equal(fused, per_tap)
    np.testing.assert_array_equal(fused, flat)
    np.testing.assert_array_equal(prod, prod_taps)
    np.testing.assert_array_equal(prod, prod_flat)
    for b in range(1, 3):  # a later band equals the same band warped as the first
        alone, _ = _warp(src[b:b + 1].copy(), valid, runs, X, Y, "lanczos", *scales)
        np.testing.assert_array_equal(fused[b], alone[0])
    assert prod.any()
