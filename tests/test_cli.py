"""raster-core info: gdalinfo-like JSON, checked against rasterio."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest

from raster_core.cli import build_parser, main
from tests._io_helpers import rio_crs_to_pyproj, rio_open
from tests.conftest import ROOT, data_file


@pytest.mark.parametrize(
    "name", ["RGB.byte.tif", "riotiler_cog.tif", "south-up.tif", "storml_tcc.tif", "rasterstats_slope.tif"])
def test_info_matches_rasterio(capsys, name):
    path = data_file(name)
    assert main(["info", str(path)]) == 0
    info = json.loads(capsys.readouterr().out)
    with rio_open(path) as g:
        assert info["size"] == [g.width, g.height]
        assert np.allclose(info["geoTransform"], g.transform.to_gdal(), atol=1e-9, rtol=0)
        assert len(info["bands"]) == g.count
        gcrs = rio_crs_to_pyproj(g.crs)
        assert info["coordinateSystem"]["epsg"] in (None, gcrs.to_epsg())
        import pyproj

        assert pyproj.CRS.from_wkt(info["coordinateSystem"]["wkt"]).equals(gcrs, ignore_axis_order=True)
        ul = info["cornerCoordinates"]["upperLeft"]
        assert ul == pytest.approx(list(g.transform @ (0, 0)))
        lr = info["cornerCoordinates"]["lowerRight"]
        assert lr == pytest.approx(list(g.transform @ (g.width, g.height)))
        for b, band in enumerate(info["bands"], start=1):
            assert band["dtype"] == g.dtypes[b - 1]
            assert band["colorInterpretation"].lower() == g.colorinterp[b - 1].name
            assert [o["factor"] for o in band["overviews"]] == g.overviews(b)
            if g.nodata is None:
                assert "noDataValue" not in band
            elif math.isnan(g.nodata):
                assert band["noDataValue"] == "nan"
            else:
                assert band["noDataValue"] == g.nodata


def test_info_error_exit_code(tmp_path, capsys):
    assert main(["info", str(tmp_path / "missing.tif")]) == 1
    assert "missing.tif" in capsys.readouterr().err


def test_no_command_prints_help(capsys):
    assert main([]) == 2


def test_parser_has_info_subcommand():
    p = build_parser()
    args = p.parse_args(["info", "x.tif"])
    assert args.command == "info" and callable(args.func)


def test_console_entry_point_runs():
    out = subprocess.run(
        [sys.executable, "-m", "raster_core.cli", "info", "--compact", str(data_file("byte.tif"))],
        capture_output=True, text=True, cwd=str(ROOT), timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["size"] == [20, 20]
