"""Hostile and corrupt TIFFs: limits before allocation, read right or refuse (GDAL is the oracle).

The files are valid TIFFs written with tifffile, then edited at the byte level
(:mod:`tests._tiff_edit`) the way the mutation fuzzer does.
"""

from __future__ import annotations

import io
import json
import math
import struct
import subprocess
import sys
import textwrap
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
import tifffile
from hypothesis import given, settings
from hypothesis import strategies as st

import raster_core
from raster_core.crs import inv_geotransform, to_affine
from raster_core.errors import (
    OutputTooLargeError,
    RasterCoreError,
    RasterReadError,
    ReadTooLargeError,
    TransformError,
)
from raster_core.io.tiff_checks import parse_gdal_nodata, read_limits, set_read_limits
from tests import _fuzz
from tests._tiff_edit import ifd_entries, set_tag
from tests.conftest import ROOT

rasterio = pytest.importorskip("rasterio")


def _tiff(dtype="uint8", shape=(16, 16), **kw) -> bytearray:
    buf = io.BytesIO()
    data = (np.arange(int(np.prod(shape))) % 200).astype(dtype).reshape(shape)
    tifffile.imwrite(buf, data, **kw)
    return bytearray(buf.getvalue())


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    p = tmp_path / f"{name}.tif"
    p.write_bytes(bytes(data))
    return p


def _gdal_read(path: Path):
    """rasterio's pixels, or None when GDAL refuses to open or read the file."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with rasterio.open(path) as ds:
                return ds.read()
        except rasterio.errors.RasterioError:
            return None


def _ours(path: Path):
    with raster_core.open(path) as ds:
        return ds.read()


def _entry_values(data: bytes, tag: int) -> list:
    return list(next(e for e in ifd_entries(data)[0] if e.tag == tag).values(data))


def _huge_tile_tiff() -> bytes:
    """208 bytes: one deflate tile that claims 10^6 x 10^6 pixels."""
    n = 10**6
    entries = [(256, 4, n), (257, 4, n), (258, 3, 8), (259, 3, 8), (262, 3, 1), (277, 3, 1), (322, 4, n),
               (323, 4, n), (324, 4, 134), (325, 4, 74)]
    ifd = struct.pack("<H", len(entries)) + b"".join(struct.pack("<HHII", t, typ, 1, v) for t, typ, v in entries)
    data = b"II*\x00" + struct.pack("<I", 8) + ifd + struct.pack("<I", 0)
    data += zlib.compress(b"\0" * 4096).ljust(74, b"\0")
    assert len(data) == 208
    return data


# ----------------------------------------------------------------------------- limits
@pytest.mark.parametrize("segment_limit", [None, 10**13])
def test_208_byte_tiff_claiming_1e12_pixels_is_refused_fast_and_small(tmp_path, segment_limit):
    """Refused at open by the per-tile limit, or (tile limit raised) by the per-read limit."""
    path = _write(tmp_path, "huge", _huge_tile_tiff())
    small = _write(tmp_path, "small", _tiff())
    code = textwrap.dedent(
        f"""
        import json, time
        import raster_core
        raster_core.open({str(small)!r}).read()  # imports (numpy, tifffile, codecs) are not timed
        t0 = time.perf_counter()
        errors = []
        for call in ("read", "read_masks", "dataset_mask"):
            try:
                with raster_core.open({str(path)!r}) as ds:
                    getattr(ds, call)()
                errors.append(None)
            except Exception as exc:
                errors.append([type(exc).__name__, isinstance(exc, raster_core.RasterReadError), str(exc)])
        seconds = time.perf_counter() - t0
        # peak resident set of this process image (ru_maxrss would include the parent's at fork)
        with open("/proc/self/status") as f:
            rss = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM:"))
        print(json.dumps({{"errors": errors, "seconds": seconds, "rss": rss}}))
        """
    )
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "RASTER_CORE_MAX_READ_BYTES": "1"}  # no longer read
    if segment_limit:
        env["RASTER_CORE_MAX_SEGMENT_BYTES"] = str(segment_limit)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=str(ROOT), env=env,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout.strip().splitlines()[-1])
    for err in res["errors"]:
        assert err is not None and err[1], res
        assert ("MAX_SEGMENT_BYTES" if segment_limit is None else "RASTER_CORE_MAX_BYTES") in err[2]
        if segment_limit is not None:  # the whole-read budget, typed both ways
            assert err[0] == "ReadTooLargeError", err
    assert res["seconds"] < 1.0, res
    assert res["rss"] < 200 * 2**20, res


def test_read_limit_is_configurable_and_checked_before_allocating(tmp_path, monkeypatch):
    path = _write(tmp_path, "small", _tiff(shape=(64, 64)))
    old = read_limits()
    monkeypatch.setenv("RASTER_CORE_MAX_BYTES", str(64 * 64))  # the one whole-read budget
    try:
        with raster_core.open(path) as ds:
            assert ds.read(1).shape == (64, 64)
            with pytest.raises(ReadTooLargeError, match="RASTER_CORE_MAX_BYTES") as err:
                ds.read(window=(0, 0, 65, 64), boundless=True)
            assert isinstance(err.value, RasterReadError) and isinstance(err.value, OutputTooLargeError)
            with pytest.raises(OutputTooLargeError):  # 10^14 bytes, all outside the file: the call's budget
                ds.read(window=(-(10**7), 0, 10**7, 10**7), boundless=True)
            with pytest.raises(ReadTooLargeError, match="RASTER_CORE_MAX_BYTES"):
                ds.read_masks(window=(0, 0, 10**6, 10**6), boundless=True)
        set_read_limits(segment_bytes=100)
        with pytest.raises(RasterReadError, match="MAX_SEGMENT_BYTES"):
            raster_core.open(path)
    finally:
        set_read_limits()
    assert read_limits() == old
    with pytest.raises(raster_core.InvalidParameterError):
        set_read_limits(segment_bytes=0)


def test_one_size_check_per_read(tmp_path, ovr_mask_tif, monkeypatch):
    """The whole-read budget is checked once per read (the per-segment limit at open)."""
    from raster_core import limits
    from raster_core.io import tiff_checks

    # one budget for whole reads: the reader's own per-read limit is gone
    assert not hasattr(tiff_checks, "check_read_size") and not hasattr(read_limits(), "read_bytes")

    calls: list[int] = []
    real = limits.check_bytes

    def counting(n_bytes, max_bytes, **kw):
        calls.append(n_bytes)
        return real(n_bytes, max_bytes, **kw)

    monkeypatch.setattr(limits, "check_bytes", counting)
    with raster_core.open(ovr_mask_tif) as ds:
        for kw in ({}, {"window": (3, 5, 40, 30)}, {"window": (-5, -5, 40, 30), "boundless": True},
                   {"overview_level": 1}):
            calls.clear()
            ds.read(**kw)
            assert len(calls) == 1, kw
        for level in (None, 0):  # a mask read is one read too (these levels have their own mask IFD)
            calls.clear()
            ds.read_masks(overview_level=level)
            assert len(calls) == 1
        calls.clear()
        ds.read_masks(overview_level=1)  # no mask IFD: the full-resolution mask it decimates is checked too
        assert calls == [24 * 24, 96 * 96]


def test_each_overview_and_mask_ifd_is_checked_once(ovr_mask_tif, monkeypatch):
    from raster_core.io import geotiff

    seen: list[int] = []
    real = geotiff.check_page

    def counting(page, index):
        seen.append(index)
        return real(page, index)

    monkeypatch.setattr(geotiff, "check_page", counting)
    with raster_core.open(ovr_mask_tif) as ds:
        assert ds.overview_count == 2 and ds._mask_main is not None
    assert sorted(seen) == [0, 1, 2, 3, 4]  # main, 2 overviews, mask, mask overview: once each


@pytest.fixture(scope="module")
def ovr_mask_tif(tmp_path_factory) -> Path:
    """A tiled int16 COG-like file: main IFD, 2 overviews, a mask and the mask's overview."""
    paths = _fuzz.synthetic_tiffs(tmp_path_factory.mktemp("synthetic"))
    return next(p for p in paths if p.name == "syn_tiled_i16_ovr_mask.tif")


@pytest.mark.parametrize("ifd", [1, 2, 3, 4])  # the overviews and the masks, not only the main IFD
def test_every_ifd_byte_count_is_checked_against_the_file_size(tmp_path, ovr_mask_tif, ifd):
    data = ovr_mask_tif.read_bytes()
    with raster_core.open(ovr_mask_tif) as ds:  # the intact file opens, with its overviews and mask
        assert ds.overviews(1) == [2, 4] and "per_dataset" in ds.mask_flags[0]
    counts = list(next(e for e in ifd_entries(data)[ifd] if e.tag == 325).values(data))
    bad = _write(tmp_path, f"bad{ifd}", set_tag(data, ifd, 325, 4, [2**32 - 1] + counts[1:]))
    with pytest.raises(RasterReadError, match="past the end"):
        raster_core.open(bad)
    with warnings.catch_warnings():  # GDAL opens the file but cannot read that IFD
        warnings.simplefilter("ignore")
        with rasterio.open(bad) as ds:
            with pytest.raises(rasterio.errors.RasterioError):
                if ifd in (1, 2):
                    ds.read(1, out_shape=(ds.height // 2 ** ifd, ds.width // 2 ** ifd))
                else:
                    ds.dataset_mask(out_shape=(ds.height // 2 ** (ifd - 3), ds.width // 2 ** (ifd - 3)))


def test_tiles_of_2_31_pixels_and_more_are_refused(tmp_path):
    data = _tiff(shape=(64, 64), tile=(32, 32))
    for side in (46341, 65536):  # 2^31+ and 2^32 pixels in one tile
        bad = set_tag(set_tag(data, 0, 322, 4, [side]), 0, 323, 4, [side])
        with pytest.raises(RasterReadError, match="MAX_SEGMENT_BYTES"):
            _ours(_write(tmp_path, f"tile{side}", bad))


# ----------------------------------------------------------------------------- geotransforms
def _georef(scale=None, matrix=None) -> bytearray:
    data = _tiff()
    if scale is not None:
        data = set_tag(data, 0, 33550, 12, list(scale))
        data = set_tag(data, 0, 33922, 12, [0.0, 0.0, 0.0, 100.0, 200.0, 0.0])
    if matrix is not None:
        data = set_tag(data, 0, 34264, 12, list(matrix))
    return data


_NAN, _INF = float("nan"), float("inf")


@pytest.mark.parametrize(
    "scale, matrix",
    [
        ((_NAN, 30.0, 0.0), None),
        ((30.0, _INF, 0.0), None),
        ((5e-324, 30.0, 0.0), None),
        ((30.0, -5e-324, 0.0), None),
        (None, (1.0, 2.0, 0, 10.0, 2.0, 4.0, 0, 20.0, 0, 0, 1, 0, 0, 0, 0, 1)),  # singular
        (None, (_NAN, 0, 0, 10.0, 0, -1.0, 0, 20.0, 0, 0, 1, 0, 0, 0, 0, 1)),
        (None, (0.0, 0, 0, 10.0, 0, 0.0, 0, 20.0, 0, 0, 1, 0, 0, 0, 0, 1)),  # zero scales
    ],
)
def test_corrupt_geotransform_is_refused_at_open(tmp_path, scale, matrix):
    path = _write(tmp_path, "gt", _georef(scale, matrix))
    with pytest.raises(RasterReadError, match="geotransform"):
        raster_core.open(path)


def test_zero_pixel_scale_is_ignored_as_gdal_does(tmp_path):
    """GDAL skips a ModelPixelScale with a zero member: the tiepoint becomes a GCP."""
    path = _write(tmp_path, "zero", _georef(scale=(0.0, 30.0, 0.0)))
    with rasterio.open(path) as theirs, raster_core.open(path) as ours:
        assert tuple(ours.transform) == tuple(theirs.transform)
        assert [(g.row, g.col, g.x, g.y) for g in ours.gcps[0]] == [(g.row, g.col, g.x, g.y) for g in theirs.gcps[0]]


def test_to_affine_refuses_a_transform_without_finite_inverse():
    with pytest.raises(TransformError, match="finite inverse"):
        to_affine((0.0, 5e-324, 0.0, 0.0, 0.0, -1.0))
    assert to_affine((0.0, 1e-300, 0.0, 0.0, 0.0, -1.0)).a == 1e-300


_FINITE = st.floats(allow_nan=False, allow_infinity=False)


@settings(max_examples=300, deadline=None)
@given(st.tuples(_FINITE, _FINITE | st.sampled_from([0.0, 5e-324, 1e-300]), _FINITE | st.just(0.0), _FINITE,
                 _FINITE | st.just(0.0), _FINITE | st.sampled_from([0.0, -5e-324, -1e-300])))
def test_to_affine_accepts_exactly_what_inv_geotransform_inverts(gt):
    """One invertibility rule: the transform's inverse as the warper computes it, all finite."""
    try:
        inverse_ok = all(math.isfinite(v) for v in inv_geotransform(gt))
    except TransformError:
        inverse_ok = False
    try:
        to_affine(gt)
        accepted = True
    except TransformError:
        accepted = False
    assert accepted == inverse_ok


# ----------------------------------------------------------------------------- read right or refuse
def _refused_by_gdal() -> dict[str, bytearray]:
    u8, u16 = _tiff(rowsperstrip=4), _tiff("uint16")
    z16 = _tiff("int16", compression="zlib", predictor=2)
    rgb = _tiff(shape=(16, 16, 3))
    zs = _tiff(compression="zlib", rowsperstrip=4)
    offs = _entry_values(u8, 273)
    zoffs = _entry_values(zs, 273)
    zcnts = _entry_values(zs, 279)
    return {
        "ccitt3_on_8bit": set_tag(u8, 0, 259, 3, [3]),
        "ccitt4_on_8bit": set_tag(u8, 0, 259, 3, [4]),
        "ccittrle_on_8bit": set_tag(u8, 0, 259, 3, [2]),
        "ccitt4_on_16bit": set_tag(u16, 0, 259, 3, [4]),
        "float_predictor_on_int16": set_tag(z16, 0, 317, 3, [3]),
        "predictor_4": set_tag(z16, 0, 317, 3, [4]),
        "planar_config_0": set_tag(rgb, 0, 284, 3, [0]),
        "planar_config_3": set_tag(rgb, 0, 284, 3, [3]),
        "sample_format_0": set_tag(u16, 0, 339, 3, [0]),
        "bits_per_sample_0": set_tag(u16, 0, 258, 3, [0]),
        "byte_counts_as_double": set_tag(u8, 0, 279, 12, [64.0] * 4),
        "image_length_as_double": set_tag(u8, 0, 257, 12, [16.0]),
        "negative_image_length": set_tag(u8, 0, 257, 8, [-16]),
        "width_0": set_tag(u8, 0, 256, 3, [0]),
        "length_0": set_tag(u8, 0, 257, 3, [0]),
        "offset_past_end": set_tag(u8, 0, 273, 4, [10**6] + offs[1:]),
        "deflate_strip_at_offset_0": set_tag(zs, 0, 273, 4, [0] + zoffs[1:]),
        "deflate_strip_too_short": set_tag(zs, 0, 279, 4, [3] + zcnts[1:]),
        "rows_per_strip_with_two_values": set_tag(u8, 0, 278, 3, [4, 4]),
        "negative_rows_per_strip": set_tag(u8, 0, 278, 8, [-4]),
        "min_sample_value_as_float": set_tag(u8, 0, 280, 11, [0.0]),
        "bits_per_sample_values_past_the_end": _with_count(u16, 258, 2**32 - 1),
    }


def _with_count(data: bytearray, tag: int, count: int) -> bytearray:
    out = bytearray(data)
    entry = next(e for e in ifd_entries(out)[0] if e.tag == tag)
    struct.pack_into(entry.order + "I", out, entry.pos + 4, count)
    return out


@pytest.mark.parametrize("name", sorted(_refused_by_gdal()))
def test_files_gdal_refuses_are_refused(tmp_path, name):
    path = _write(tmp_path, name, _refused_by_gdal()[name])
    assert _gdal_read(path) is None, "GDAL reads this file: the case is not a refusal"
    with pytest.raises(RasterCoreError) as info:
        _ours(path)
    assert isinstance(info.value, (OSError, ValueError, NotImplementedError))


def _read_by_gdal() -> dict[str, bytearray]:
    u8, u16 = _tiff(rowsperstrip=4), _tiff("uint16")
    offs = _entry_values(u8, 273)
    return {
        "zero_offset_read_at_0": set_tag(u8, 0, 273, 4, [0] + offs[1:]),  # GDAL reads the header bytes
        "all_zero_offsets": set_tag(u8, 0, 273, 4, [0] * 4),
        "all_zero_byte_counts": set_tag(u8, 0, 279, 4, [0] * 4),  # sparse: zeros
        "one_zero_byte_count": set_tag(u8, 0, 279, 4, [0, 64, 64, 64]),
        "predictor_2_uncompressed_ignored": set_tag(u16, 0, 317, 3, [2]),
        "predictor_3_uncompressed_ignored": set_tag(u16, 0, 317, 3, [3]),
        "predictor_2_packbits_ignored": set_tag(_tiff("uint16", compression="packbits"), 0, 317, 3, [2]),
        "offsets_as_slong": set_tag(u8, 0, 273, 9, offs),
        "image_length_as_sshort": set_tag(u8, 0, 257, 8, [16]),
        "sample_format_void": set_tag(u16, 0, 339, 3, [4]),
        "twelve_bits": set_tag(u16, 0, 258, 3, [12]),
    }


@pytest.mark.parametrize("name", sorted(_read_by_gdal()))
def test_files_gdal_reads_give_gdal_pixels(tmp_path, name):
    path = _write(tmp_path, name, _read_by_gdal()[name])
    theirs = _gdal_read(path)
    assert theirs is not None
    ours = _ours(path)
    assert ours.dtype == theirs.dtype and np.array_equal(ours, theirs)


def test_gdal_tags_of_the_wrong_type_are_ignored_as_gdal_does(tmp_path):
    data = set_tag(_tiff("int16"), 0, 42113, 9, [-9999])  # GDAL_NODATA as SLONG, not ASCII
    path = _write(tmp_path, "nd_slong", data)
    with rasterio.open(path) as theirs, raster_core.open(path) as ours:
        assert ours.nodata is None and theirs.nodata is None


def test_ycbcr_without_jpeg_is_refused(tmp_path):
    """GDAL converts it to RGB through libtiff's RGBA interface; we refuse instead of returning YCbCr."""
    data = set_tag(_tiff(shape=(16, 16, 3)), 0, 262, 3, [6])
    assert _gdal_read(_write(tmp_path, "ycbcr", data)) is not None
    with pytest.raises(raster_core.UnsupportedFeatureError, match="YCbCr"):
        _ours(tmp_path / "ycbcr.tif")


def test_tile_length_without_tile_width_is_refused(tmp_path):
    """libtiff then takes the strips for tiles and GDAL returns other pixels: refused."""
    data = _tiff(rowsperstrip=4)
    path = _write(tmp_path, "tl", set_tag(data, 0, 323, 3, [2]))
    assert not np.array_equal(_gdal_read(path), _ours(_write(tmp_path, "intact", data)))
    with pytest.raises(RasterReadError, match="tile tags"):
        _ours(path)


def test_one_strip_with_byte_count_0_is_refused(tmp_path):
    """libtiff guesses the size of such a strip; we refuse instead of returning zeros."""
    data = _tiff()
    path = _write(tmp_path, "strip0", set_tag(data, 0, 279, 4, [0]))
    with pytest.raises(RasterReadError, match="byte count of 0"):
        _ours(path)


def test_colormap_of_the_wrong_size_is_dropped_like_gdal(tmp_path):
    data = set_tag(set_tag(_tiff(), 0, 262, 3, [3]), 0, 320, 3, list(range(7)))
    path = _write(tmp_path, "cmap7", data)
    with rasterio.open(path) as theirs, raster_core.open(path) as ours:
        assert ours.colorinterp == tuple(c.name for c in theirs.colorinterp) == ("gray",)
        with pytest.raises(ValueError):
            theirs.colormap(1)
        with pytest.raises(raster_core.InvalidParameterError):
            ours.colormap(1)
        assert np.array_equal(ours.read(), theirs.read())
    # 4-bit palette data cannot fall back to gray: refused
    four = set_tag(set_tag(_tiff(), 0, 258, 3, [4]), 0, 262, 3, [3])
    with pytest.raises(RasterReadError, match="ColorMap"):
        raster_core.open(_write(tmp_path, "cmap4", set_tag(four, 0, 320, 3, list(range(7)))))


@pytest.mark.parametrize("ifd", [1, 2])
def test_ifd_of_width_0_ends_the_chain_as_in_gdal(tmp_path, ovr_mask_tif, ifd):
    """GDAL stops scanning at an IFD libtiff refuses: later overviews and masks are not seen."""
    bad = _write(tmp_path, "ovr0", set_tag(ovr_mask_tif.read_bytes(), ifd, 256, 3, [0]))
    with rasterio.open(bad) as theirs, raster_core.open(bad) as ours:
        assert ours.overviews(1) == theirs.overviews(1) == [2, 4][: ifd - 1]
        assert ours.mask_flags[0] == {"nodata"} and theirs.mask_flag_enums[0] == [rasterio.enums.MaskFlags.nodata]
        assert np.array_equal(ours.dataset_mask(), theirs.dataset_mask())


def test_complex_sample_format_is_a_typed_error(tmp_path):
    for sf in (5, 6):
        data = set_tag(_tiff("uint32"), 0, 339, 3, [sf])
        with pytest.raises(RasterCoreError):
            _ours(_write(tmp_path, f"sf{sf}", data))


def test_strip_offsets_stored_as_floats_are_refused(tmp_path):
    data = _tiff(rowsperstrip=4)
    offs = _entry_values(data, 273)
    for typ in (11, 12):
        bad = set_tag(data, 0, 273, typ, [float(o) for o in offs])
        with pytest.raises(RasterReadError, match="StripOffsets"):
            _ours(_write(tmp_path, f"offs{typ}", bad))


# ----------------------------------------------------------------------------- GDAL_NODATA
_NODATA_STRINGS = [
    "abc", "-nan", "nan", "NaN", "NAN", "+nan", "inf", "-inf", "+inf", "INF", "Infinity", "infinity", "-Infinity",
    "infabc", "nanx", "nan(123)", "1e400", "-1e400", "1e-400", "0x10", " 5", "\t5", "5 ", "5abc", "１２", "1,5",
    "1.5,3", ",5", "+5", "+-5", "1.#QNAN", "-1.#QNAN", "-1.#IND", "1.#INF", "-1.#INF", "1.#SNAN", " ", "1e", ".5",
    "e5", "- 5", "--5", "1_000", "3.4028235e38", "3.5e38", "-9999", "255.5", "256", "-1", "-0", "\xa05", "1d5",
]


@pytest.fixture(scope="module")
def nodata_bases() -> dict[str, bytearray]:
    return {dt: _tiff(dt) for dt in ("uint8", "int16", "float32", "float64")}


@pytest.mark.parametrize("dtype", ["uint8", "int16", "float32", "float64"])
def test_gdal_nodata_is_parsed_as_gdal_parses_it(tmp_path, nodata_bases, dtype):
    mismatches = []
    for k, text in enumerate(_NODATA_STRINGS):
        path = _write(tmp_path, f"nd{k}", set_tag(nodata_bases[dtype], 0, 42113, 2, text.encode("utf-8") + b"\0"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with rasterio.open(path) as theirs:
                expected = theirs.nodata
        with raster_core.open(path) as ours:
            got = ours.nodata
        both_nan = got is not None and expected is not None and math.isnan(got) and math.isnan(expected)
        if not (got == expected or both_nan):
            mismatches.append((text, got, expected))
    assert not mismatches


def test_parse_gdal_nodata_examples():
    assert parse_gdal_nodata(b"", "uint8") is None
    assert parse_gdal_nodata(b" ", "uint8") == 0.0
    assert parse_gdal_nodata("1,5", "float64") == 1.5
    assert math.isnan(parse_gdal_nodata(b"nan\0garbage", "float64"))
    assert parse_gdal_nodata(b"0.1", "float32") == float(np.float32(0.1))


# ----------------------------------------------------------------------------- codec safety
def test_corrupt_lzw_tiles_do_not_corrupt_the_heap(tmp_path):
    """rgbn.tif (LZW) with every tile offset pointing into another tile's stream.

    imagecodecs' LZW decoder, given an output size, overran its buffer on these streams and
    the process died a few tiles later (found by the fuzzer); the reader refuses them instead.
    """
    from tests.conftest import data_file

    data = data_file("rgbn.tif").read_bytes()
    offsets = next(e for e in ifd_entries(data)[0] if e.tag == 324).values(data)
    bad = _write(tmp_path, "lzw", set_tag(data, 0, 324, 4, [247450] * len(offsets)))
    code = textwrap.dedent(
        f"""
        import raster_core
        refused = 0
        for _ in range(20):
            try:
                with raster_core.open({str(bad)!r}) as ds:
                    ds.read(num_threads=1)
            except raster_core.RasterReadError:
                refused += 1
        print(refused)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=str(ROOT),
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "20"


@pytest.mark.parametrize("photometric", [1, 3])  # MinIsBlack, and a palette whose ColorMap is unusable
def test_extra_samples_follow_the_base_samples_as_in_gdal(tmp_path, photometric):
    """4 samples, one ExtraSamples value: GDAL counts it from band 2 when the base is one gray band."""
    data = _tiff("uint8", shape=(16, 16, 4), photometric="rgb", extrasamples=(2,))
    data = set_tag(data, 0, 262, 3, [photometric])
    path = _write(tmp_path, f"extra{photometric}", data)
    with rasterio.open(path) as theirs, raster_core.open(path) as ours:
        expected = ("gray", "alpha", "undefined", "undefined")
        assert ours.colorinterp == tuple(c.name for c in theirs.colorinterp) == expected
        assert np.array_equal(ours.dataset_mask(), theirs.dataset_mask())


def test_first_ifd_is_the_image_whatever_its_subfile_type(tmp_path, ovr_mask_tif):
    bad = _write(tmp_path, "sft", set_tag(ovr_mask_tif.read_bytes(), 0, 254, 4, [5]))
    with rasterio.open(bad) as theirs, raster_core.open(bad) as ours:
        assert ours.shape == theirs.shape == (96, 96)
        assert np.array_equal(ours.read(), theirs.read())


def test_unused_ifd_that_libtiff_refuses_ends_the_chain(tmp_path, ovr_mask_tif):
    """An overview with SamplesPerPixel 0: GDAL sees neither it nor the IFDs after it (the masks)."""
    bad = _write(tmp_path, "spp0", set_tag(ovr_mask_tif.read_bytes(), 2, 277, 3, [0]))
    with rasterio.open(bad) as theirs, raster_core.open(bad) as ours:
        assert ours.overviews(1) == theirs.overviews(1) == [2]
        assert np.array_equal(ours.dataset_mask(), theirs.dataset_mask())
