"""The ``raster-core`` command line.

Subcommands are registered in :data:`SUBCOMMANDS`: each entry is a function that receives the
argparse sub-parsers object, adds its parser and sets ``func`` (a callable taking the parsed
arguments and returning an exit code). To add a command, write ``_add_<name>(subparsers)`` and
append it to :data:`SUBCOMMANDS`.

Commands: ``info`` (gdalinfo-like JSON), ``raster`` (:meth:`raster_core.Raster.raster`: warp,
mosaic, clip and scale images into a GeoTIFF/PNG/JPEG), ``stack`` (:meth:`raster_core.Raster.stack`
saved as ``.npy`` or one GeoTIFF per layer, plus the metadata JSON) and ``dltile`` (DLTile keys,
lat/lon, shapes and sub-tiles). Errors print ``raster-core <command>: error: <message>`` and exit
with 1; a failed command writes nothing.

Examples
--------
>>> from raster_core.cli import main
>>> main(["info", "data/byte.tif"])        # doctest: +SKIP
{ "description": "data/byte.tif", "driverShortName": "GTiff", "size": [20, 20], ... }
0
>>> main(["raster", "data/RGB.byte.tif", "--bands", "red", "green", "blue", "--srs", "EPSG:4326",
...       "--resolution", "0.003", "--outfile-basename", "out/rgb_4326"])   # doctest: +SKIP
out/rgb_4326.tif
0
>>> main(["dltile", "from-latlon", "35.691", "-105.944", "--resolution", "10", "--tilesize", "512",
...       "--keys"])                        # doctest: +SKIP
512:0:10.0:13:-17:771
0
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable, Sequence
from typing import Any, cast

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
    from raster_core.geo.transformers import pyproj_transformer

    try:
        tr = pyproj_transformer(crs, "EPSG:4326")
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


# ======================================================================================
# shared helpers of the Raster API commands
# ======================================================================================

_EPILOG_IDS = (
    "An image id is a path to a GeoTIFF (bands '1'..'N', and 'red', 'green', 'blue', 'gray', "
    "'alpha' from the file's colour interpretation and alpha band / internal mask) or, with "
    "--catalog, a catalog id such as 'landsat7-rgb:RGB.byte' (try --catalog data/catalog on the "
    "bundled data). Several ids are mosaicked in order, the last on top."
)


def _fail(command: str, exc: BaseException) -> int:
    print(f"raster-core {command}: error: {exc}", file=sys.stderr)
    return 1


def _jsonable(value: Any) -> Any:
    """Plain JSON types (numpy scalars/arrays -> Python, tuples -> lists, NaN/inf -> strings)."""
    import numpy as np

    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


def _print_json(value: Any, *, compact: bool = False) -> None:
    try:
        print(json.dumps(_jsonable(value), indent=None if compact else 2))
        sys.stdout.flush()
    except BrokenPipeError:  # pragma: no cover - e.g. piped into `head`
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _split_tokens(values: Sequence[str] | None) -> list[str] | None:
    """``["red,green", "blue"]`` / ``["red green blue"]`` -> ``["red", "green", "blue"]``."""
    if values is None:
        return None
    out: list[str] = []
    for v in values:
        out.extend(t for t in v.replace(",", " ").split() if t)
    return out


def _parse_scales(values: Sequence[str] | None) -> list[Any] | None:
    """``["0,4000", "0,4000", "none", "0,1,0,1"]`` -> ``[[0.0, 4000.0], [0.0, 4000.0], None,
    [0.0, 1.0, 0.0, 1.0]]`` (one entry per band; ``none`` leaves a band unscaled)."""
    if values is None:
        return None
    from raster_core.errors import InvalidParameterError

    entries: list[Any] = []
    for v in values:
        for tok in v.replace(";", " ").split():
            if tok.lower() in ("none", "null", "-"):
                entries.append(None)
                continue
            try:
                nums = [float(x) for x in tok.split(",") if x != ""]
            except ValueError:
                raise InvalidParameterError(
                    f"--scales: {tok!r} is not 'min,max' or 'min,max,out_min,out_max' numbers (or 'none')"
                ) from None
            if len(nums) not in (2, 4):
                raise InvalidParameterError(
                    f"--scales: {tok!r} must have 2 or 4 comma-separated numbers (or be 'none')")
            entries.append(nums)
    return entries


def _parse_scaling(values: Sequence[str] | None) -> Any:
    """One mode (``display``) -> the string; several -> a list (``none`` / ``a,b[,c,d]`` allowed)."""
    if values is None:
        return None
    toks = [t for v in values for t in v.split()]
    if len(toks) == 1 and "," not in toks[0]:
        return toks[0]
    out: list[Any] = []
    for tok in toks:
        if tok.lower() in ("none", "null"):
            out.append(None)
        elif "," in tok:
            parts: list[Any] = []
            for x in tok.split(","):
                try:
                    parts.append(float(x))
                except ValueError:
                    parts.append(x)  # "2%"-style percentiles
            out.append(tuple(parts))
        else:
            out.append(tok)
    return out


def _read_geometry_arg(value: str | None) -> str | None:
    """A cutline / shape given as a file path (GeoJSON or WKT text) or literally."""
    if value is None:
        return None
    import os

    if os.path.isfile(value):
        from raster_core.errors import GeometryError

        try:
            with open(value, encoding="utf-8") as f:
                return f.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise GeometryError(f"cannot read the geometry file {value!r}: {exc}") from None
    return value


def _add_request_arguments(p: argparse.ArgumentParser, *, stack: bool = False) -> None:
    """The Raster API parameters shared by ``raster`` and ``stack``."""
    g = p.add_argument_group("bands and values")
    g.add_argument("--bands", nargs="+", metavar="BAND", required=True,
                   help="band names in output order, e.g. --bands red green blue alpha (or '1 2 3'). "
                   "When the last band is 'alpha', images combine only where alpha is 1")
    g.add_argument("--scales", nargs="+", metavar="S0,S1[,D0,D1]",
                   help="one linear scale per band: 'min,max' maps to 0..255, 'min,max,out_min,out_max' "
                   "to that range, 'none' leaves the band as is; e.g. --scales 0,4000 0,4000 0,4000 0,1")
    g.add_argument("--scaling", nargs="+", metavar="MODE",
                   help="derive scales and type from the catalog's band ranges: raw, display, auto, physical "
                   "(one for all bands, or one per band); instead of --scales")
    g.add_argument("--data-type", metavar="TYPE",
                   help="output type: Byte, UInt16, Int16, UInt32, Int32, Float32, Float64 "
                   + ("(default UInt16, as the client's stack)" if stack else
                      "(default: the common native type of the bands)"))
    g = p.add_argument_group("output grid (gdalwarp -t_srs/-tr/-ts/-te/-te_srs/-tap)")
    g.add_argument("--srs", metavar="SRS",
                   help="output CRS: EPSG code (EPSG:4326), PROJ string or WKT (default: the first image's CRS)")
    g.add_argument("--resolution", type=float, metavar="RES",
                   help="pixel size in units of the output CRS (default: the first image's resolution)")
    g.add_argument("--dimensions", nargs=2, type=int, metavar=("WIDTH", "HEIGHT"),
                   help="output size in pixels (instead of --resolution)")
    g.add_argument("--bounds", nargs=4, type=float, metavar=("MINX", "MINY", "MAXX", "MAXY"),
                   help="output extent (default: the union of the images, or the cutline's envelope)")
    g.add_argument("--bounds-srs", metavar="SRS", help="CRS of --bounds (default: the output CRS)")
    g.add_argument("--align-pixels", action="store_true",
                   help="snap the output grid to multiples of the resolution (gdalwarp -tap)")
    g.add_argument("--dltile", metavar="KEY",
                   help="a DLTile key (e.g. 1024:0:60.0:13:-2:64): sets srs, bounds and resolution")
    g = p.add_argument_group("warping and clipping")
    g.add_argument("--resampler", default="near", metavar="NAME",
                   help="near (default), bilinear, cubic, cubicspline, lanczos, average, mode, max, min, med, q1, q3")
    g.add_argument("--cutline", metavar="GEOMETRY",
                   help="clip to a polygon: a GeoJSON or WKT file path, or the GeoJSON/WKT text itself "
                   "(lon/lat unless --cutline-srs is given or the GeoJSON declares a 'crs')")
    g.add_argument("--cutline-srs", metavar="SRS",
                   help="CRS of the cutline's coordinates (gdalwarp -cutline_srs), e.g. EPSG:32618")
    g.add_argument("--cutline-all-touched", action="store_true",
                   help="keep every pixel the cutline touches (GDAL CUTLINE_ALL_TOUCHED)")
    g = p.add_argument_group("images")
    g.add_argument("--catalog", metavar="DIR",
                   help="catalog folder or JSON file for catalog ids (default: $RASTER_CORE_CATALOG, "
                   "else GeoTIFF paths only)")
    g.add_argument("--max-bytes", type=int, metavar="N",
                   help="memory budget in bytes of the output and its working buffers (default 8 GiB, or "
                   "$RASTER_CORE_MAX_BYTES); larger requests are refused before reading anything")
    g.add_argument("--max-pixels", type=int, metavar="N",
                   help="also refuse outputs larger than N values (rows x cols x bands)")
    g.add_argument("--threads", type=int, metavar="N", help="worker threads (default: every core)")


def _request_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "scales": _parse_scales(args.scales),
        "scaling": _parse_scaling(args.scaling),
        "data_type": args.data_type,
        "srs": args.srs,
        "resolution": args.resolution,
        "dimensions": tuple(args.dimensions) if args.dimensions is not None else None,
        "bounds": tuple(args.bounds) if args.bounds is not None else None,
        "bounds_srs": args.bounds_srs,
        "align_pixels": args.align_pixels,
        "dltile": args.dltile,
        "resampler": args.resampler,
        "cutline": _read_geometry_arg(args.cutline),
        "cutline_all_touched": args.cutline_all_touched,
        "cutline_srs": args.cutline_srs,
    }


def _make_raster(args: argparse.Namespace) -> Any:
    from raster_core.api import Raster

    return Raster(args.catalog, max_bytes=args.max_bytes, max_pixels=args.max_pixels, num_threads=args.threads)


class _OutputFolder:
    """Creates the folder of an output path if needed; removes it again (when it is still
    empty) if the command fails, so that a failed command leaves nothing behind."""

    def __init__(self, path: str) -> None:
        import os

        self.folder = os.path.dirname(os.path.abspath(path))
        self.created: list[str] = []
        d = self.folder
        while not os.path.isdir(d):
            self.created.append(d)
            parent = os.path.dirname(d)
            if parent == d:
                break
            d = parent

    def __enter__(self) -> _OutputFolder:
        import os

        from raster_core.errors import RasterWriteError

        if self.created:
            try:
                os.makedirs(self.folder, exist_ok=True)
            except OSError as exc:
                raise RasterWriteError(f"cannot create the output folder {self.folder!r}: {exc}") from None
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        import os

        if exc_type is not None:
            for d in self.created:  # deepest first
                try:
                    os.rmdir(d)
                except OSError:
                    break


def _atomic_write_text(path: str, text: str) -> None:
    from raster_core._atomic import atomic_path

    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        f.write(text)


def _atomic_save_npy(path: str, array: Any) -> None:
    import numpy as np

    from raster_core._atomic import atomic_path

    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.save(f, array, allow_pickle=False)


# ======================================================================================
# raster-core raster
# ======================================================================================


def _cmd_raster(args: argparse.Namespace) -> int:
    from raster_core.errors import RasterCoreError

    try:
        r = _make_raster(args)
        kwargs = _request_kwargs(args)
        basename = args.outfile_basename
        with _OutputFolder(basename if basename is not None else "x"):
            filename, meta = r.raster(args.ids, _split_tokens(args.bands), output_format=args.output_format,
                                      outfile_basename=basename, nodata=args.nodata,
                                      progress=args.progress or None, **kwargs)
    except RasterCoreError as exc:
        return _fail("raster", exc)
    print(filename)
    if args.metadata:
        _print_json(meta, compact=args.compact)
    return 0


def _add_raster(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "raster",
        help="warp, mosaic, clip and scale images into a GeoTIFF, PNG or JPEG (Raster.raster)",
        description="Read one or more images, mosaic them (last on top), warp them to the requested grid, "
        "clip them to a cutline, select and scale bands, and write the result to a file, like the "
        "Descartes Labs Raster.raster(). Prints the file name (and with --metadata the metadata JSON). "
        "The output folder is created if needed and the file is written atomically.",
        epilog=_EPILOG_IDS + " Example: raster-core raster data/RGB.byte.tif --bands red green blue "
        "--srs EPSG:4326 --resolution 0.003 --outfile-basename out/rgb_4326",
    )
    p.add_argument("ids", nargs="+", metavar="ID", help="image ids (GeoTIFF paths or catalog ids)")
    _add_request_arguments(p)
    g = p.add_argument_group("output file")
    g.add_argument("--output-format", default="GTiff", metavar="FORMAT",
                   help="GTiff (default; tiled, DEFLATE, georeferenced), PNG or JPEG (Byte bands only: use "
                   "--data-type Byte with --scales)")
    g.add_argument("--outfile-basename", metavar="PATH",
                   help="output path without extension (.tif/.png/.jpeg is added); default: "
                   "<image>-<bands> in the current folder, or the catalog id")
    g.add_argument("--nodata", type=float, metavar="VALUE",
                   help="value written where the output is masked, and set as the GeoTIFF NoData")
    g.add_argument("--metadata", action="store_true", help="also print the metadata JSON after the file name")
    g.add_argument("--compact", action="store_true", help="single-line metadata JSON")
    g.add_argument("--progress", action="store_true",
                   help="report progress on stderr (a tqdm bar when tqdm is installed, else a plain line)")
    p.set_defaults(func=_cmd_raster)


# ======================================================================================
# raster-core stack
# ======================================================================================


def _stack_inputs(ids: Sequence[str]) -> list[Any]:
    """``a.tif+b.tif`` is one layer mosaicking two images (unless a file has that name)."""
    import os

    out: list[Any] = []
    for item in ids:
        if "+" in item and not os.path.exists(item):
            out.append([p for p in item.split("+") if p])
        else:
            out.append(item)
    return out


def _cmd_stack(args: argparse.Namespace) -> int:
    import os

    import numpy as np

    from raster_core.errors import InvalidParameterError, RasterCoreError, RasterWriteError

    fmt = args.format.lower()
    try:
        if fmt not in ("npy", "gtiff"):
            raise InvalidParameterError(f"--format must be npy or gtiff, got {args.format!r}")
        if args.max_workers is not None and args.max_workers < 1:
            raise InvalidParameterError(f"--max-workers must be a positive integer, got {args.max_workers}")
        r = _make_raster(args)
        kwargs = _request_kwargs(args)
        if kwargs["data_type"] is None:
            del kwargs["data_type"]  # the API's default UInt16 (which warns when it changes the values)
        with _OutputFolder(args.out):
            reqs: list[Any] = []
            arr, metas = r.stack(_stack_inputs(args.ids), _split_tokens(args.bands), order="gdal", masked=True,
                                 max_workers=args.max_workers, progress=args.progress or None,
                                 _layer_requests=reqs, **kwargs)
            data = np.ma.getdata(arr)
            mask = np.ma.getmaskarray(arr)
            if args.nodata is not None and fmt == "npy":
                from raster_core.scaling import cast_like_gdal

                data = data.copy()
                data[mask] = cast_like_gdal(np.array([args.nodata], dtype=np.float64), data.dtype)[0]
                for m in metas:
                    for b in m["bands"]:
                        b["noDataValue"] = float(args.nodata)
            written: list[str] = []
            try:
                if fmt == "npy":
                    layers = data if args.order == "gdal" else data.transpose(0, 2, 3, 1)
                    written.append(args.out + ".npy")
                    _atomic_save_npy(written[-1], np.ascontiguousarray(layers))
                    if args.mask:
                        m4 = mask if args.order == "gdal" else mask.transpose(0, 2, 3, 1)
                        written.append(args.out + ".mask.npy")
                        _atomic_save_npy(written[-1], np.ascontiguousarray(m4))
                else:
                    from raster_core.api import bands_for_file
                    from raster_core.crs import to_affine, to_crs
                    from raster_core.io import write_geotiff

                    width = max(3, len(str(len(metas) - 1)))
                    for i, meta in enumerate(metas):
                        name = f"{args.out}_{i:0{width}d}.tif"
                        crs = to_crs(meta["coordinateSystem"]["wkt"])
                        transform = to_affine(tuple(meta["geoTransform"]))
                        colorinterp = [b["colorInterpretation"].lower() for b in meta["bands"]]
                        # as raster(): the given or carried source nodata where masked, alpha 0/255
                        layer = data[i].copy()
                        nodata = bands_for_file(reqs[i], layer, mask[i], args.nodata)
                        if nodata is not None:
                            for b in meta["bands"]:
                                b["noDataValue"] = float(nodata)
                        write_geotiff(name, layer, crs=crs, transform=transform, nodata=nodata,
                                      colorinterp=colorinterp)
                        written.append(name)
                        meta["files"] = [os.path.basename(name)]
                meta_path = args.out + ".json"
                _atomic_write_text(meta_path, json.dumps(_jsonable(metas), indent=1))
                written.append(meta_path)
            except OSError as exc:
                for w in written:
                    try:
                        os.unlink(w)
                    except OSError:
                        pass
                raise RasterWriteError(f"cannot write the stack to {args.out!r}: {exc}") from None
            except BaseException:
                for w in written:
                    try:
                        os.unlink(w)
                    except OSError:
                        pass
                raise
    except RasterCoreError as exc:
        return _fail("stack", exc)
    for w in written:
        print(w)
    return 0


def _add_stack(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "stack",
        help="one layer per image on a fixed grid, saved as .npy (or one GeoTIFF per layer) + metadata JSON",
        description="Like the Descartes Labs Raster.stack(): every ID becomes one layer of a 4-D array on the "
        "same grid (give --dltile, or --srs, --bounds and --resolution/--dimensions). The array is saved as "
        "OUT.npy, shape (layers, rows, cols, bands) (--order gdal: (layers, bands, rows, cols)), masked pixels "
        "0 or --nodata, with OUT.mask.npy (True = no data) when --mask is given; or with --format gtiff one "
        "GeoTIFF per layer OUT_000.tif, OUT_001.tif, ..., whose masked pixels hold --nodata or, without it, the "
        "source nodata the bands share (as in raster). The per-layer metadata list is written to OUT.json. "
        "Prints the files written.",
        epilog=_EPILOG_IDS + " In stack, 'a.tif+b.tif' makes one layer mosaicking both images. Example: "
        "raster-core stack data/rgbn_suba.tif data/rgbn_subb.tif --bands 1 2 3 --srs EPSG:32618 "
        "--resolution 10 --bounds 792900 2048800 795200 2050200 --out out/rgbn",
    )
    p.add_argument("ids", nargs="+", metavar="ID", help="one image id per layer ('a+b' mosaics a and b)")
    _add_request_arguments(p, stack=True)
    g = p.add_argument_group("output files")
    g.add_argument("--out", required=True, metavar="PATH",
                   help="output path prefix: writes PATH.npy (or PATH_000.tif...) and PATH.json")
    g.add_argument("--format", default="npy", metavar="FORMAT", help="npy (default) or gtiff (one file per layer)")
    g.add_argument("--order", choices=("image", "gdal"), default="image",
                   help="axis order of the .npy: image = (layers, rows, cols, bands) (default, as the API), "
                   "gdal = (layers, bands, rows, cols)")
    g.add_argument("--mask", action="store_true", help="also write PATH.mask.npy (True where there is no data)")
    g.add_argument("--nodata", type=float, metavar="VALUE", help="value written where the output is masked")
    g.add_argument("--max-workers", type=int, metavar="N", help="layers computed in parallel (default: up to 8)")
    g.add_argument("--progress", action="store_true",
                   help="report progress on stderr (a tqdm bar when tqdm is installed, else a plain line)")
    p.set_defaults(func=_cmd_stack)


# ======================================================================================
# raster-core dltile
# ======================================================================================


def _dltile_output(args: argparse.Namespace, tiles: list[Any]) -> None:
    if getattr(args, "keys", False):
        for t in tiles:
            print(t.key)
    elif len(tiles) == 1 and args.dltile_command in ("from-key", "from-latlon"):
        _print_json(tiles[0].feature, compact=args.compact)
    else:
        _print_json({"type": "FeatureCollection", "features": [t.feature for t in tiles]}, compact=args.compact)


def _cmd_dltile(args: argparse.Namespace) -> int:
    from raster_core.dltile import DLTile
    from raster_core.errors import GeometryError, RasterCoreError

    try:
        cmd = args.dltile_command
        if cmd == "from-key":
            tiles = [DLTile.from_key(k) for k in args.key]
        elif cmd == "from-latlon":
            tiles = [DLTile.from_latlon(args.lat, args.lon, resolution=args.resolution, tilesize=args.tilesize,
                                        pad=args.pad)]
        elif cmd == "from-shape":
            text = _read_geometry_arg(args.shape)
            try:
                shape = json.loads(text) if text is not None and text.lstrip()[:1] in ("{", "[") else text
            except ValueError as exc:
                raise GeometryError(f"the shape is not valid GeoJSON: {exc}") from None
            if shape is not None and not isinstance(shape, (dict, list)):
                from raster_core.geometry import read_geometry

                shape = read_geometry(shape, name="shape").geometry
            if args.count:
                print(DLTile.count_from_shape(shape, resolution=args.resolution, tilesize=args.tilesize,
                                              pad=args.pad))
                return 0
            if args.geojson:
                found = list(DLTile.iter_from_shape(shape, resolution=args.resolution, tilesize=args.tilesize,
                                                    pad=args.pad))
                _dltile_output(args, found)
            else:
                for key in DLTile.iter_from_shape(shape, resolution=args.resolution, tilesize=args.tilesize,
                                                  pad=args.pad, keys_only=True):
                    print(key)
            return 0
        else:  # subtile
            tile = DLTile.from_key(args.key)
            subs = cast(list[DLTile], list(tile.subtile(args.subdivide, resolution=args.resolution, pad=args.pad)))
            if args.geojson:
                _dltile_output(args, subs)
            else:
                for t in subs:
                    print(t.key)
            return 0
    except (RasterCoreError, IndexError) as exc:
        return _fail("dltile", exc)
    _dltile_output(args, tiles)
    return 0


def _add_grid_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--resolution", type=float, required=True, help="pixel size in metres")
    p.add_argument("--tilesize", type=int, required=True, help="tile side in pixels (without padding)")
    p.add_argument("--pad", type=int, default=0, help="extra pixels on every side (default 0)")


def _add_dltile(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "dltile",
        help="DLTile helpers: tile from a key, a lat/lon point or a shape, and sub-tiles",
        description="The Descartes Labs DLTile grid: square tiles of TILESIZE pixels of RESOLUTION metres in "
        "UTM zones, named 'tilesize:pad:resolution:zone:ti:tj'. A key works as --dltile in raster/stack.",
        epilog="Examples: raster-core dltile from-key 1024:0:60.0:13:-2:64 ; "
        "raster-core dltile from-latlon 35.691 -105.944 --resolution 10 --tilesize 512 --keys ; "
        "raster-core dltile from-shape area.geojson --resolution 10 --tilesize 512 --count ; "
        "raster-core dltile subtile 2048:0:30.0:15:3:80 8. Run 'raster-core dltile ACTION --help' for details.",
    )
    sub = p.add_subparsers(dest="dltile_command", metavar="ACTION", required=True)

    q = sub.add_parser("from-key", help="print tiles as GeoJSON Features (geometry in lon/lat, grid properties)",
                       description="Print the GeoJSON Feature of a tile key (a FeatureCollection for several "
                       "keys): lon/lat footprint and the properties key, zone, ti, tj, outputBounds, "
                       "geoTransform, cs_code, wkt, proj4...",
                       epilog="Example: raster-core dltile from-key 1024:0:60.0:13:-2:64")
    q.add_argument("key", nargs="+", help="tile key(s), e.g. 1024:0:60.0:13:-2:64")
    q.add_argument("--keys", action="store_true", help="print only the normalised key(s)")
    q.add_argument("--compact", action="store_true", help="single-line JSON")

    q = sub.add_parser("from-latlon", help="the tile containing a lat/lon point",
                       description="Print the tile of the grid (RESOLUTION, TILESIZE, PAD) that contains the "
                       "point, as a GeoJSON Feature (or its key with --keys).",
                       epilog="Example: raster-core dltile from-latlon 35.691 -105.944 --resolution 10 "
                       "--tilesize 512 --keys")
    q.add_argument("lat", type=float, help="latitude in degrees")
    q.add_argument("lon", type=float, help="longitude in degrees")
    _add_grid_args(q)
    q.add_argument("--keys", action="store_true", help="print only the key")
    q.add_argument("--compact", action="store_true", help="single-line JSON")

    q = sub.add_parser("from-shape", help="the tiles intersecting a lon/lat polygon (keys, count or GeoJSON)",
                       description="List the keys (one a line) of the tiles whose footprint intersects a "
                       "lon/lat (multi)polygon; --count prints only their number, --geojson a "
                       "FeatureCollection of the tiles.",
                       epilog="Example: raster-core dltile from-shape '{\"type\": \"Polygon\", \"coordinates\": "
                       "[[[-105.9, 35.6], [-105.8, 35.6], [-105.8, 35.7], [-105.9, 35.6]]]}' --resolution 10 "
                       "--tilesize 512")
    q.add_argument("shape", help="GeoJSON or WKT (a file path or the text itself), lon/lat")
    _add_grid_args(q)
    how = q.add_mutually_exclusive_group()
    how.add_argument("--count", action="store_true", help="print only the number of tiles")
    how.add_argument("--geojson", action="store_true", help="print a GeoJSON FeatureCollection of the tiles")
    q.add_argument("--compact", action="store_true", help="single-line JSON")

    q = sub.add_parser("subtile", help="the SUBDIVIDE x SUBDIVIDE tiles partitioning a tile",
                       description="List the keys of the SUBDIVIDE**2 sub-tiles that exactly partition a tile, "
                       "row-major from the upper-left (--geojson for a FeatureCollection).",
                       epilog="Example: raster-core dltile subtile 2048:0:30.0:15:3:80 8")
    q.add_argument("key", help="tile key")
    q.add_argument("subdivide", type=int, help="number of sub-tiles along each side (divides the tile size)")
    q.add_argument("--resolution", type=float, help="sub-tile resolution (default: the tile's)")
    q.add_argument("--pad", type=int, help="sub-tile padding (default: the tile's)")
    q.add_argument("--geojson", action="store_true", help="print a GeoJSON FeatureCollection")
    q.add_argument("--compact", action="store_true", help="single-line JSON")
    p.set_defaults(func=_cmd_dltile)


def _cmd_warmup(args: argparse.Namespace) -> int:
    from raster_core._warmup import warmup
    from raster_core.errors import RasterCoreError

    def names(value: str | None) -> list[str] | None:
        return None if value is None else [v.strip() for v in value.split(",") if v.strip()]

    try:
        report = warmup(names(args.resamplers), names(args.dtypes), grids=names(args.grids), masks=names(args.masks),
                        processes=args.processes, progress=args.progress)
    except RasterCoreError as exc:
        print(f"raster-core warmup: error: {exc}", file=sys.stderr)
        return 1
    import os

    cache = os.environ.get("NUMBA_CACHE_DIR", "the package's __pycache__ (or the user cache)")
    print(f"raster-core warmup: {report.cases} warps in {report.seconds:.1f} s; kernels cached in {cache}")
    return 0


def _add_warmup(subparsers: Any) -> None:
    from raster_core._warmup import DTYPES, GRIDS, MASKS, RESAMPLERS

    p = subparsers.add_parser(
        "warmup",
        help="compile the warp kernels ahead of use (Docker build, Dask worker start)",
        description="Run one small warp per resampler x data type x grid kind x mask kind, so that Numba "
        "compiles the kernels into its on-disk cache (set NUMBA_CACHE_DIR to choose where) and later "
        "processes start warm.",
    )
    p.add_argument("--resamplers", help=f"comma-separated, default all: {','.join(RESAMPLERS)}")
    p.add_argument("--dtypes", help=f"comma-separated, default all: {','.join(DTYPES)}")
    p.add_argument("--grids", help=f"comma-separated, default all: {','.join(GRIDS)}")
    p.add_argument("--masks", help=f"comma-separated, default all: {','.join(MASKS)}")
    p.add_argument("--processes", type=int, default=1, help="compile in this many processes (default 1)")
    p.add_argument("--progress", action="store_true", help="print progress on stderr")
    p.set_defaults(func=_cmd_warmup)


SUBCOMMANDS: list[Callable[[Any], None]] = [_add_info, _add_raster, _add_stack, _add_dltile, _add_warmup]


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
    try:
        return int(func(args) or 0)
    except BrokenPipeError:  # output piped into e.g. `head`: stop quietly
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
