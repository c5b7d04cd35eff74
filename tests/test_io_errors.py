"""Bad files raise RasterReadError naming the file; raster_core imports without GDAL."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

import raster_core
from tests.conftest import ROOT, data_file


def _assert_read_error(path):
    with pytest.raises(raster_core.RasterReadError) as info:
        with raster_core.open(path) as ds:
            ds.read()
    assert os.path.basename(str(path)) in str(info.value)
    assert isinstance(info.value, OSError)


def test_missing_file(tmp_path):
    _assert_read_error(tmp_path / "nope.tif")


def test_empty_file(tmp_path):
    p = tmp_path / "empty.tif"
    p.write_bytes(b"")
    _assert_read_error(p)


def test_not_a_tiff(tmp_path):
    p = tmp_path / "text.tif"
    p.write_text("this is not a TIFF at all\n" * 10)
    _assert_read_error(p)
    png = tmp_path / "img.tif"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
    _assert_read_error(png)


def test_directory(tmp_path):
    _assert_read_error(tmp_path)


@pytest.mark.parametrize("name", ["riotiler_cog.tif", "RGB.byte.tif", "titiler_dem.tif"])
@pytest.mark.parametrize("fraction", [0.001, 0.3, 0.9])
def test_truncated_file(tmp_path, name, fraction):
    src = data_file(name).read_bytes()
    p = tmp_path / f"trunc_{name}"
    p.write_bytes(src[: max(8, int(len(src) * fraction))])
    _assert_read_error(p)


def test_bad_path_type():
    with pytest.raises(raster_core.RasterReadError):
        raster_core.open(12345)


def test_closed_dataset():
    ds = raster_core.open(data_file("byte.tif"))
    ds.close()
    with pytest.raises(raster_core.RasterReadError):
        ds.read()


def test_import_without_gdal():
    code = textwrap.dedent(
        f"""
        import sys
        class Blocker:
            def find_spec(self, name, path=None, target=None):
                if name.split('.')[0] in ('rasterio', 'osgeo', 'fiona'):
                    raise ImportError('blocked: ' + name)
                return None
        sys.meta_path.insert(0, Blocker())
        import raster_core
        import raster_core.io, raster_core.cli
        ds = raster_core.open({str(data_file('byte.tif'))!r})
        assert ds.read().shape == (1, 20, 20)
        assert ds.crs.to_epsg() == 26711
        bad = [m for m in sys.modules if m.split('.')[0] in ('rasterio', 'osgeo')]
        assert not bad, bad
        print('ok')
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=str(ROOT), timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
