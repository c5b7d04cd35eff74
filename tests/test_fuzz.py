"""The mutation fuzzer of the GeoTIFF reader (:mod:`tests._fuzz`), seeded, in CI.

1000+ mutated files (the shared data and synthetic TIFFs), each read through the public
reader in a worker process with time and address-space limits: no untyped exception, crash,
hang or out-of-memory. The long mode is ``benchmarks/fuzz.py``.
"""

from __future__ import annotations

import pytest

from tests import _fuzz
from tests.conftest import HAVE_SHARED

CI_SEED = 20261207
CI_CASES = 1200


def test_fuzz_reader_seeded_cases():
    result = _fuzz.run(CI_SEED, CI_CASES, workers=2, timeout=20.0)
    assert sum(result.counts.values()) == CI_CASES
    assert result.failures == 0, result.problems[:20]
    # the mutations reach past the parser: many files stay readable, many are refused
    assert result.counts["ok"] >= CI_CASES // 10, result.counts
    assert result.counts["typed"] >= CI_CASES // 10, result.counts


@pytest.mark.skipif(not HAVE_SHARED, reason="../shared/data is absent")
def test_fuzz_sources_include_shared_data(tmp_path):
    names = {p.name for p in _fuzz.source_files(tmp_path)}
    assert "RGB.byte.tif" in names and "syn_tiled_i16_ovr_mask.tif" in names


def test_fuzz_cases_are_deterministic(tmp_path):
    sources = _fuzz.source_files(tmp_path)
    for index in (0, 7, 123):
        a, b = _fuzz.make_case(5, index, sources), _fuzz.make_case(5, index, sources)
        assert a.data == b.data and a.steps == b.steps and a.source == b.source
    assert _fuzz.make_case(5, 1, sources).data != _fuzz.make_case(6, 1, sources).data


def test_fuzz_harness_classifies_crash_hang_oom_untyped():
    """The harness itself: a worker that aborts, sleeps, exhausts its memory or raises a builtin."""
    result = _fuzz.run(1, [-1, -2, -3, -4, 0], workers=2, timeout=3.0)
    by_index = {p["index"]: p["outcome"] for p in result.problems}
    assert by_index == {-1: "crash", -2: "hang", -3: "oom", -4: "untyped"}, result.problems
    assert result.counts["ok"] + result.counts["typed"] == 1


def test_fuzz_readable_cases_give_gdal_pixels(tmp_path):
    """Differential: a mutated file we read must be one GDAL reads, with the same pixels.

    JPEG sources are left out (libjpeg builds differ by a few DN, documented in geotiff.py).
    """
    import warnings

    import numpy as np

    rasterio = pytest.importorskip("rasterio")
    import raster_core

    sources = _fuzz.source_files(tmp_path / "synthetic")
    path = tmp_path / "case.tif"
    compared, wrong = 0, []
    for index in range(800):
        case = _fuzz.make_case(CI_SEED + 1, index, sources)
        if case.source in ("goes.tif", "syn_jpeg_ycbcr.tif", "titiler_TCI.tif"):
            continue
        path.write_bytes(case.data)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                with raster_core.open(path) as ds:
                    if ds.width * ds.height * ds.count > 2_000_000:
                        continue
                    ours = ds.read()
            except raster_core.RasterCoreError:
                continue
            try:
                with rasterio.open(path) as theirs_ds:
                    theirs = theirs_ds.read()
            except rasterio.errors.RasterioError as exc:
                wrong.append((index, case.source, case.steps, f"GDAL refuses: {exc}"))
                continue
        compared += 1
        if ours.shape != theirs.shape or not np.array_equal(ours, theirs, equal_nan=True):
            wrong.append((index, case.source, case.steps, "pixels differ"))
    assert compared >= 150, compared
    assert not wrong
