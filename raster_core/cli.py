"""The ``raster-core`` command line.

Subcommands are registered in :data:`SUBCOMMANDS`: each entry is a function that receives the
argparse sub-parsers object, adds its parser and sets ``func`` (a callable taking the parsed
arguments and returning an exit code). To add a command, write ``_add_<name>(subparsers)`` and
append it to :data:`SUBCOMMANDS`.

Examples
--------
>>> from raster_core.cli import main
>>> main(["info", "data/byte.tif"])        # doctest: +SKIP
{ "description": "data/byte.tif", "driverShortName": "GTiff", "size": [20, 20], ... }
0
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["main", "build_parser", "info_dict", "SUBCOMMANDS"]

_GDAL_TYPES = {
    "uint8": "Byte",
    "int8": "Int8",
    "uint16": "UInt16",
    "int16": "Int16",
    "uint32": "UInt32",
    "int32": "Int32",
    "uint64": "UInt64",
    "int64": "Int64",
    "float32": "Float32",
    "float64": "Float64",
    "complex64": "CFloat32",
    "complex128": "CFloat64",
}


def _json_number(v: float | None) -> Any:
    if v is None:
        return None
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return int(v) if float(v).is_integer() and abs(v) < 2**53 else v


def info_dict(path: str) -> dict[str, Any]:
    """gdalinfo-like description of a GeoTIFF (what ``raster-core info`` prints as JSON).

    Examples
    --------
    >>> info_dict("data/byte.tif")["size"]              # doctest: +SKIP
    [20, 20]
    """
    from raster_core.io import open as open_raster

    with open_raster(path) as ds:
        t = ds.transform
        w, h = ds.width, ds.height

        def corner(c: float, r: float) -> list[float]:
            x, y = t @ (c, r)
            return [x, y]

        out: dict[str, Any] = {
            "description": ds.name,
            "driverShortName": "GTiff",
            "driverLongName": "GeoTIFF",
            "size": [w, h],
        }
        if ds.crs is not None:
            out["coordinateSystem"] = {
                "wkt": ds.crs.to_wkt(pretty=True),
                "epsg": ds.crs.to_epsg(),
                "name": ds.crs.name,
            }
        out["geoTransform"] = list(ds.geotransform)
        if ds.gcps[0]:
            gcps, gcrs = ds.gcps
            out["gcps"] = {
                "coordinateSystem": {"wkt": gcrs.to_wkt(pretty=True) if gcrs is not None else ""},
                "gcpList": [
                    {"id": g.id, "info": g.info, "pixel": g.col, "line": g.row, "x": g.x, "y": g.y, "z": g.z}
                    for g in gcps
                ],
            }
        out["metadata"] = {
            "IMAGE_STRUCTURE": {
                "COMPRESSION": (ds.compression or "NONE").upper(),
                "INTERLEAVE": ds.interleave.upper(),
            }
        }
        out["cornerCoordinates"] = {
            "upperLeft": corner(0, 0),
            "lowerLeft": corner(0, h),
            "lowerRight": corner(w, h),
            "upperRight": corner(w, 0),
            "center": corner(w / 2, h / 2),
        }
        out["bounds"] = list(ds.bounds)
        if ds.crs is not None:
            out["wgs84Extent"] = _wgs84_extent(ds.crs, [out["cornerCoordinates"][k] for k in
                                                         ("upperLeft", "lowerLeft", "lowerRight", "upperRight")])
        bands = []
        for b in range(1, ds.count + 1):
            bh, bw = ds.block_shapes[b - 1]
            band: dict[str, Any] = {
                "band": b,
                "block": [bw, bh],
                "type": _GDAL_TYPES.get(ds.dtypes[b - 1], ds.dtypes[b - 1]),
                "dtype": ds.dtypes[b - 1],
                "colorInterpretation": ds.colorinterp[b - 1].capitalize(),
            }
            if ds.descriptions[b - 1]:
                band["description"] = ds.descriptions[b - 1]
            if ds.nodata is not None:
                band["noDataValue"] = _json_number(ds.nodata)
            band["mask"] = {"flags": sorted(f.upper() for f in ds.mask_flags[b - 1])}
            band["overviews"] = [
                {"size": [ds.overview_shape(i)[1], ds.overview_shape(i)[0]], "factor": f}
                for i, f in enumerate(ds.overviews(b))
            ]
            if ds.colorinterp[b - 1] == "palette":
                cmap = ds.colormap(b)
                band["colorTable"] = {
                    "palette": "RGB",
                    "count": len(cmap),
                    "entries": [list(cmap[i]) for i in sorted(cmap)],
                }
            bands.append(band)
        out["bands"] = bands
    return out


def _wgs84_extent(crs: Any, corners: list[list[float]]) -> dict[str, Any] | None:
    """GeoJSON polygon of the corners in lon/lat (None when they do not all project)."""
    import pyproj

    try:
        tr = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
        pts = [list(tr.transform(x, y)) for x, y in corners]
    except Exception:  # pragma: no cover - PROJ failures
        return None
    if not all(math.isfinite(v) for p in pts for v in p):
        return None
    return {"type": "Polygon", "coordinates": [pts + [pts[0]]]}


def _cmd_info(args: argparse.Namespace) -> int:
    from raster_core.errors import RasterCoreError

    try:
        info = info_dict(args.path)
    except RasterCoreError as exc:
        print(f"raster-core info: error: {exc}", file=sys.stderr)
        return 1
    try:
        print(json.dumps(info, indent=None if args.compact else 2))
        sys.stdout.flush()
    except BrokenPipeError:  # e.g. piped into `head`
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def _add_info(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "info",
        help="print a gdalinfo-like JSON description of a GeoTIFF",
        description="Print size, bands, data types, CRS (WKT and EPSG), geotransform, corner "
        "coordinates, nodata, overviews and colour interpretation of a GeoTIFF, as JSON.",
    )
    p.add_argument("path", help="GeoTIFF file")
    p.add_argument("--compact", action="store_true", help="single-line JSON")
    p.set_defaults(func=_cmd_info)


SUBCOMMANDS: list[Callable[[Any], None]] = [_add_info]


def build_parser() -> argparse.ArgumentParser:
    """The ``raster-core`` argument parser with every registered subcommand."""
    from raster_core import __version__

    parser = argparse.ArgumentParser(
        prog="raster-core",
        description="GDAL-free raster warping engine with the Descartes Labs Raster API.",
    )
    parser.add_argument("--version", action="version", version=f"raster-core {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in SUBCOMMANDS:
        add(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 on success).

    Examples
    --------
    >>> main(["--help"])                       # doctest: +SKIP
    """
    parser = build_parser()
    args = parser.parse_args(None if argv is None else list(argv))
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return 2
    return int(func(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
