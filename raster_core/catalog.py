"""A local image catalog for the Raster API: products, bands and images as plain JSON.

A :class:`Catalog` maps image ids to images of products. A product defines bands
(:class:`~raster_core.bands.Band`: type, data type, ranges, nodata, colour interpretation,
file key and band index); an image has an id, a product, its file(s) and an acquisition
time. It lives in a folder as one JSON file (``raster-core-catalog.json``, written
atomically by :meth:`Catalog.save`) and can also be read from STAC: Items, ItemCollections,
and Catalogs/Collections whose links lead to Items (``eo:bands``, ``raster:bands``,
``proj:*``, assets).

Without a catalog entry, **a path to a GeoTIFF is an image id**: its bands are named
``"1"`` .. ``"N"``, and also ``"red"``, ``"green"``, ``"blue"``, ``"gray"`` by colour
interpretation, and ``"alpha"`` (0/1, from the file's mask) when it has an alpha band or an
internal mask.

Examples
--------
>>> from raster_core.catalog import Catalog
>>> cat = Catalog.open("data/catalog")                         # doctest: +SKIP
>>> ref = cat.resolve("landsat7-rgb:RGB.byte")                 # doctest: +SKIP
>>> list(ref.product.bands)                                    # doctest: +SKIP
['red', 'green', 'blue', 'alpha']
"""

from __future__ import annotations

import datetime as _dt
import functools
import json
import math
import os
import re
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union
from urllib.parse import urlparse

from raster_core._atomic import atomic_path
from raster_core.bands import Band, dataset_alpha_band
from raster_core.errors import CatalogError, NotFoundError, RasterReadError
from raster_core.scaling import DATA_TYPE_RANGES, data_type_of

__all__ = [
    "CATALOG_FILENAME",
    "Product",
    "Image",
    "ImageRef",
    "Catalog",
    "file_product",
    "default_catalog",
]

#: Name of the catalog file inside a catalog folder.
CATALOG_FILENAME = "raster-core-catalog.json"
_FORMAT_KEY = "raster_core_catalog"
_FORMAT_VERSION = 1

PathLike = Union[str, "os.PathLike[str]"]


# ======================================================================================
# products and images
# ======================================================================================


@dataclass
class Product:
    """A product: an ordered set of named bands shared by its images.

    ``aliases`` maps extra names to band names (for example a STAC ``common_name`` or a
    colour name: ``{"red": "B04"}``).
    """

    id: str
    bands: dict[str, Band]
    title: str | None = None
    description: str | None = None
    aliases: dict[str, str] = field(default_factory=dict)
    properties: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id:
            raise CatalogError(f"a product needs a non-empty string id, got {self.id!r}")
        if not self.bands:
            raise CatalogError(f"product {self.id!r} has no bands")
        for name, band in self.bands.items():
            if band.name != name:
                raise CatalogError(f"product {self.id!r}: band stored as {name!r} is named {band.name!r}")
        for alias, target in self.aliases.items():
            if target not in self.bands:
                raise CatalogError(f"product {self.id!r}: alias {alias!r} refers to unknown band {target!r}")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id}
        if self.title:
            out["title"] = self.title
        if self.description:
            out["description"] = self.description
        out["bands"] = [b.to_dict() for b in self.bands.values()]
        if self.aliases:
            out["aliases"] = dict(self.aliases)
        if self.properties:
            out["properties"] = dict(self.properties)
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Product:
        if not isinstance(d, Mapping) or "id" not in d:
            raise CatalogError(f"a product must be a JSON object with an 'id', got {d!r}")
        raw = d.get("bands")
        if isinstance(raw, Mapping):
            bands = [Band.from_dict(v, name=k) for k, v in raw.items()]
        elif isinstance(raw, list):
            bands = [Band.from_dict(v) for v in raw]
        else:
            raise CatalogError(f"product {d['id']!r}: 'bands' must be a list or an object")
        by_name: dict[str, Band] = {}
        for b in bands:
            if b.name in by_name:
                raise CatalogError(f"product {d['id']!r}: duplicate band name {b.name!r}")
            by_name[b.name] = b
        return cls(
            id=str(d["id"]),
            bands=by_name,
            title=d.get("title"),
            description=d.get("description"),
            aliases=dict(d.get("aliases") or {}),
            properties=dict(d.get("properties") or {}),
        )


@functools.lru_cache(maxsize=4096)
def _iso_text(value: str) -> str:
    """An ISO 8601 date/time text, checked and stripped (cached: many images share times)."""
    text = value.strip()
    try:
        _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            _dt.date.fromisoformat(text)
        except ValueError:
            raise CatalogError(f"acquired must be an ISO 8601 date/time, got {value!r}") from None
    return text


def _iso_time(value: Any) -> str | None:
    """Validate an acquisition time and return it as ISO 8601 text."""
    if value is None:
        return None
    if isinstance(value, _dt.datetime):
        return value.isoformat()
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return _iso_text(value)
    raise CatalogError(f"acquired must be an ISO 8601 string or a datetime, got {value!r}")


@dataclass
class Image:
    """An image: an id, its product, its file(s) by key, and when it was acquired.

    ``files`` maps a file key (the ``file`` of the product's bands) to a path. Relative
    paths are relative to the catalog folder. Optional georeferencing from STAC
    (``crs``, GDAL ``geotransform``, ``shape`` = (rows, cols)) is informative: the pixels
    and their georeferencing are always read from the files.
    """

    id: str
    product: str
    files: dict[str, str]
    acquired: str | None = None
    crs: str | None = None
    geotransform: tuple[float, ...] | None = None
    shape: tuple[int, int] | None = None
    geometry: dict[str, Any] | None = None
    properties: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id:
            raise CatalogError(f"an image needs a non-empty string id, got {self.id!r}")
        if not isinstance(self.product, str) or not self.product:
            raise CatalogError(f"image {self.id!r} needs a product id")
        self.files = _normalize_files(self.files, self.id)
        self.acquired = _iso_time(self.acquired)

    def to_dict(self, root: Path | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "product": self.product}
        out["files"] = {k: _relative(v, root) for k, v in self.files.items()}
        if self.acquired:
            out["acquired"] = self.acquired
        for key in ("crs", "geometry"):
            v = getattr(self, key)
            if v is not None:
                out[key] = v
        if self.geotransform is not None:
            out["geotransform"] = list(self.geotransform)
        if self.shape is not None:
            out["shape"] = list(self.shape)
        if self.properties:
            out["properties"] = dict(self.properties)
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], root: Path | None = None) -> Image:
        if not isinstance(d, Mapping) or "id" not in d or "product" not in d:
            raise CatalogError(f"an image must be a JSON object with 'id' and 'product', got {d!r}")
        files = _normalize_files(d.get("files", d.get("file")), str(d["id"]))
        gt = d.get("geotransform")
        shape = d.get("shape")
        return cls(
            id=str(d["id"]),
            product=str(d["product"]),
            files={k: _absolute(v, root) for k, v in files.items()},
            acquired=d.get("acquired"),
            crs=d.get("crs"),
            geotransform=tuple(float(v) for v in gt) if gt else None,
            shape=(int(shape[0]), int(shape[1])) if shape else None,
            geometry=d.get("geometry"),
            properties=dict(d.get("properties") or {}),
        )


def _normalize_files(files: Any, image_id: str) -> dict[str, str]:
    if type(files) is dict and files and all(type(k) is str and type(v) is str for k, v in files.items()):
        return dict(files)  # already keys and paths as text (STAC items): a copy
    if isinstance(files, (str, os.PathLike)):
        return {"0": os.fspath(files)}
    if isinstance(files, Mapping):
        out = {str(k): os.fspath(v) for k, v in files.items()}
    elif isinstance(files, Iterable):
        out = {str(i): os.fspath(v) for i, v in enumerate(files)}
    else:
        raise CatalogError(f"image {image_id!r}: files must be a path, a list of paths or an object, got {files!r}")
    if not out:
        raise CatalogError(f"image {image_id!r} has no files")
    return out


def _is_remote(path: str) -> bool:
    """:func:`raster_core.io.sources.is_remote` (read remotely; an unsupported scheme raises), imported
    at first use: the catalog loads without the reader."""
    from raster_core.io.sources import is_remote

    return is_remote(path)


def _is_url(path: str) -> bool:
    """A ``scheme://`` reference other than ``file://`` (by :func:`raster_core.io.sources.url_scheme`):
    kept as written, never joined to a folder. Whether it can be read is decided when it is read."""
    from raster_core.io.sources import url_scheme

    return url_scheme(path) not in (None, "file")


def _url_join(base: str, href: str) -> str:
    """``href`` resolved against the URL of the document holding it (any scheme, s3:// too)."""
    from urllib.parse import urljoin

    scheme = urlparse(base).scheme
    if scheme in ("http", "https"):
        return urljoin(base, href)
    joined = urljoin("http" + base[len(scheme):], href)  # urljoin only knows relative http URLs
    return scheme + joined[len("http"):]


def _absolute(path: str, root: Path | str | None) -> str:
    if _is_url(path):
        return path
    if isinstance(root, str) and _is_url(root):
        return _url_join(root, path)
    if path.startswith("file://"):
        path = urlparse(path).path
    p = Path(path)
    if not p.is_absolute() and root is not None:
        p = root / p
    return os.path.normpath(str(p))


def _relative(path: str, root: Path | None) -> str:
    if root is None or _is_url(path):
        return path
    try:
        rel = os.path.relpath(path, root)
    except ValueError:  # another drive (Windows)
        return path
    return rel.replace(os.sep, "/")


@dataclass(frozen=True)
class ImageRef:
    """A resolved image id: the image and its product (what the Raster API works on)."""

    image: Image
    product: Product

    @property
    def id(self) -> str:
        return self.image.id

    def path_of(self, band: Band) -> str:
        """Path of the file holding ``band``.

        Raises
        ------
        CatalogError
            When the image has no file under the band's file key.
        """
        try:
            return self.image.files[band.file]
        except KeyError:
            if len(self.image.files) == 1 and band.file == "0":
                return next(iter(self.image.files.values()))
            raise CatalogError(
                f"image {self.image.id!r} has no file {band.file!r} for band {band.name!r} "
                f"(files: {', '.join(self.image.files)})"
            ) from None

    @property
    def paths(self) -> tuple[str, ...]:
        """Every file of the image (first one first)."""
        return tuple(self.image.files.values())


# ======================================================================================
# products derived from files ("a path to a GeoTIFF is an image id")
# ======================================================================================

_COLOR_ALIASES = ("red", "green", "blue", "gray")
_file_cache: dict[tuple[str, int, int], Product] = {}
_file_cache_lock = threading.Lock()


def _open_dataset(path: str) -> Any:
    from raster_core import io as rc_io  # the GDAL-free reader

    return rc_io.open(path)


def _band_range(data_type: str) -> tuple[float, float]:
    return DATA_TYPE_RANGES[data_type]


def file_product(path: PathLike, *, product_id: str | None = None, file_key: str = "0") -> Product:
    """The product a GeoTIFF defines by itself (bands ``"1"``..``"N"`` plus colour aliases).

    Band ``"k"`` is the file's band k (data type, nodata, colour interpretation and
    description from the file). ``red``/``green``/``blue``/``gray`` are aliases of the first
    band with that colour interpretation. ``alpha`` is a 0/1 mask band (``mask="dataset"``:
    the file's GDAL mask: its alpha band, internal mask, nodata, or all valid).

    Raises
    ------
    RasterReadError
        When the file is missing or not a readable GeoTIFF.

    Examples
    --------
    >>> p = file_product("data/RGB.byte.tif")                     # doctest: +SKIP
    >>> list(p.bands), p.aliases                                  # doctest: +SKIP
    (['1', '2', '3'], {'red': '1', 'green': '2', 'blue': '3'})
    """
    path = os.fspath(path)
    if _is_remote(path):  # the reader caches the header per URL and checks size/ETag at reads
        key = (path, 0, 0)
        pid = product_id or path
    else:
        try:
            st = os.stat(path)
        except OSError as exc:
            raise RasterReadError(f"cannot read {path!r}: {exc.strerror or exc}") from None
        key = (os.path.abspath(path), st.st_mtime_ns, st.st_size)
        pid = product_id or f"file:{os.path.abspath(path)}"
    with _file_cache_lock:
        cached = _file_cache.get(key)
    if cached is None:
        with _open_dataset(path) as ds:
            cached = _product_from_dataset(ds, pid, file_key)
        with _file_cache_lock:
            if len(_file_cache) > 512:
                _file_cache.clear()
            _file_cache[key] = cached
    if cached.id != pid or any(b.file != file_key for b in cached.bands.values()):
        return Product(
            id=pid,
            bands={n: _rekey(b, file_key) for n, b in cached.bands.items()},
            title=cached.title,
            aliases=dict(cached.aliases),
            properties=dict(cached.properties),
        )
    return cached


def _rekey(band: Band, file_key: str) -> Band:
    from dataclasses import replace

    return replace(band, file=file_key)


def _product_from_dataset(ds: Any, product_id: str, file_key: str) -> Product:
    count = int(ds.count)
    dtypes = list(getattr(ds, "dtypes", None) or [ds.dtype] * count)
    colorinterp = [str(c).lower() for c in (getattr(ds, "colorinterp", None) or ["undefined"] * count)]
    descriptions = list(getattr(ds, "descriptions", None) or [None] * count)
    nodata = getattr(ds, "nodata", None)
    scales = list(getattr(ds, "scales", None) or [1.0] * count)
    offsets = list(getattr(ds, "offsets", None) or [0.0] * count)
    bands: dict[str, Band] = {}
    aliases: dict[str, str] = {}
    for i in range(count):
        name = str(i + 1)
        dt = data_type_of(dtypes[i])
        ci = colorinterp[i] if i < len(colorinterp) else "undefined"
        dr = _band_range(dt)
        phys = None
        s, o = float(scales[i]), float(offsets[i])
        if (s, o) != (1.0, 0.0) and dt not in ("Float32", "Float64"):
            phys = (dr[0] * s + o, dr[1] * s + o)
        btype = "mask" if ci == "alpha" else ("class" if ci == "palette" else "spectral")
        bands[name] = Band(
            name=name,
            type=btype,
            data_type=dt,
            data_range=dr,
            physical_range=phys,
            nodata=None if nodata is None else float(nodata),
            colorinterp=ci if ci in _known_ci() else "undefined",
            file=file_key,
            band_index=i + 1,
            description=descriptions[i] if i < len(descriptions) else None,
        )
        if ci in _COLOR_ALIASES and ci not in aliases:
            aliases[ci] = name
    bands["alpha"] = dataset_alpha_band(file_key)
    return Product(
        id=product_id,
        bands=bands,
        title=os.path.basename(ds.name) if getattr(ds, "name", None) else None,
        aliases=aliases,
    )


def _known_ci() -> tuple[str, ...]:
    from raster_core.bands import _COLORINTERPS

    return _COLORINTERPS


# ======================================================================================
# STAC
# ======================================================================================

_STAC_DATA_TYPES = {
    "uint8": "Byte", "uint16": "UInt16", "int16": "Int16", "uint32": "UInt32", "int32": "Int32",
    "float32": "Float32", "float64": "Float64", "int8": "Int16", "int64": "Float64", "uint64": "Float64",
    "float16": "Float32",
}
_RASTER_MEDIA = ("image/tiff", "image/vnd.stac.geotiff", "application/x-geotiff")
_MASK_ROLES = {"data-mask", "mask", "alpha"}


def _stac_nodata(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, str):
        v = value.strip().lower()
        if v in ("nan", "inf", "-inf"):
            return float(v)
        raise CatalogError(f"invalid STAC nodata {value!r}")
    return float(value)


def _is_raster_asset(key: str, asset: Mapping[str, Any]) -> bool:
    media = str(asset.get("type") or "").lower()
    roles = set(asset.get("roles") or [])
    if roles & {"thumbnail", "overview", "metadata"} and not roles & {"data"}:
        return False
    if "eo:bands" in asset or "raster:bands" in asset or "bands" in asset:
        return True
    if any(m in media for m in _RASTER_MEDIA):
        return True
    return str(asset.get("href", "")).lower().endswith((".tif", ".tiff"))


def _stac_product_and_image(item: Mapping[str, Any], base: Path | str | None,
                            products: dict[str, tuple[Product, tuple[str, ...]]] | None = None,
                            ) -> tuple[Product, Image]:
    """The product and image of a STAC item. ``products``: a cache of products (and their
    raster asset keys) by the signature of what they are made from
    (:func:`_stac_product_signature`), for many items of one collection."""
    if item.get("type") != "Feature" or "assets" not in item or "id" not in item:
        raise CatalogError("not a STAC Item (needs type 'Feature', 'id' and 'assets')")
    props = item.get("properties") or {}
    assets = item["assets"]
    if not isinstance(assets, Mapping):
        raise CatalogError(f"STAC item {item['id']!r}: 'assets' must be an object")
    sig = None if products is None else _stac_product_signature(item, props, assets)
    cached = None if products is None else products.get(sig)  # type: ignore[arg-type]
    if cached is None:
        keys = tuple(k for k, asset in assets.items() if isinstance(asset, Mapping) and _is_raster_asset(k, asset)
                     and isinstance(asset.get("href"), str))
    else:
        keys = cached[1]  # the signature holds everything that decides which assets are rasters
    if base is None:
        files = {k: _absolute_fast(assets[k]["href"]) for k in keys}
    else:
        files = {k: _absolute(assets[k]["href"], base) for k in keys}
    if cached is not None:
        product = cached[0]
    else:
        product = _stac_product(item, props, assets)
        if products is not None:
            products[sig] = (product, keys)  # type: ignore[index]
    datetime_ = props.get("datetime") or props.get("start_datetime")
    crs, gt, shape = _stac_grid(props)
    if gt is not None or shape is not None:
        # an asset with a grid of its own (STAC: asset fields override the item's) that does
        # not fit the item's: the item's grid does not describe every file (their headers will)
        for k in keys:
            asset = assets[k]
            if any(f in asset for f in _PROJ_GRID_FIELDS) and not _grid_covers((crs, gt, shape),
                                                                             _stac_grid({**props, **asset})):
                gt = shape = None
                break
    keep = {k: v for k, v in props.items() if k not in ("datetime", "eo:bands")}
    image = Image(
        id=str(item["id"]),
        product=product.id,
        files=files,
        acquired=datetime_,
        crs=crs,
        geotransform=gt,
        shape=shape,  # type: ignore[arg-type]
        geometry=item.get("geometry"),
        properties=keep,
    )
    return product, image


_PROJ_GRID_FIELDS = ("proj:epsg", "proj:code", "proj:wkt2", "proj:transform", "proj:shape")


def _stac_grid(fields: Mapping[str, Any]) -> tuple[str | None, tuple[float, ...] | None, tuple[int, ...] | None]:
    """``(crs, GDAL geotransform, (rows, cols))`` of STAC projection fields (``None`` where absent).

    Examples
    --------
    >>> _stac_grid({"proj:epsg": 32633, "proj:shape": [2, 3], "proj:transform": [10, 0, 500000, 0, -10, 4e6]})
    ('EPSG:32633', (500000.0, 10.0, 0.0, 4000000.0, 0.0, -10.0), (2, 3))
    """
    crs = None
    if fields.get("proj:epsg"):
        crs = f"EPSG:{int(fields['proj:epsg'])}"
    elif fields.get("proj:code"):
        crs = str(fields["proj:code"])
    elif fields.get("proj:wkt2"):
        crs = str(fields["proj:wkt2"])
    gt = None
    if fields.get("proj:transform"):
        t = [float(v) for v in fields["proj:transform"]]
        if len(t) >= 6:
            gt = (t[2], t[0], t[1], t[5], t[3], t[4])  # STAC/Affine order -> GDAL order
    shape = tuple(int(v) for v in fields["proj:shape"]) if fields.get("proj:shape") else None
    return crs, gt, shape


def _grid_covers(item: tuple[Any, Any, Any], asset: tuple[Any, Any, Any]) -> bool:
    """Whether the item's grid may stand for an asset's in a load's planning: the same CRS and
    extent (north-up), and pixels no larger than the item's (a footprint planned with the
    item's pixels then reaches at least as far as the asset's kernels do).

    Examples
    --------
    >>> item = ("EPSG:32634", (699960.0, 600.0, 0.0, 3600000.0, 0.0, -600.0), (183, 183))
    >>> _grid_covers(item, ("EPSG:32634", (699960.0, 100.0, 0.0, 3600000.0, 0.0, -100.0), (1098, 1098)))
    True
    >>> _grid_covers(item, ("EPSG:32634", (699960.0, 600.0, 0.0, 3600000.0, 0.0, -600.0), (180, 183)))
    False
    """
    if item == asset:
        return True
    (crs, gt, shape), (acrs, agt, ashape) = item, asset
    if crs != acrs or gt is None or agt is None or shape is None or ashape is None:
        return False
    if gt[2] or gt[4] or agt[2] or agt[4]:
        return False
    tol = 1e-6 * max(abs(gt[1]), abs(gt[5]))
    ext = (gt[0], gt[3], gt[0] + shape[1] * gt[1], gt[3] + shape[0] * gt[5])
    aext = (agt[0], agt[3], agt[0] + ashape[1] * agt[1], agt[3] + ashape[0] * agt[5])
    return (all(abs(a - b) <= tol for a, b in zip(ext, aext, strict=True))
            and abs(agt[1]) <= abs(gt[1]) and abs(agt[5]) <= abs(gt[5]))


def _absolute_fast(href: str) -> str:
    """:func:`_absolute` of an asset href without a base: an absolute POSIX path without a
    colon is only normalized (the common case, without building a ``Path``)."""
    if href.startswith("/") and ":" not in href and os.sep == "/":
        return os.path.normpath(href)
    return _absolute(href, None)


def _stac_product_signature(item: Mapping[str, Any], props: Mapping[str, Any], assets: Mapping[str, Any]) -> str:
    """Everything :func:`_stac_product` reads from an item, as text: equal signatures make
    equal products (asset hrefs count only through what :func:`_is_raster_asset` sees)."""
    parts: list[Any] = []
    for key, asset in assets.items():
        if isinstance(asset, Mapping):
            href = asset.get("href")
            tiff = isinstance(href, str) and href.lower().endswith((".tif", ".tiff"))
            fields = {**asset, "href": (isinstance(href, str), tiff)}
            for name in [f for f in fields if f.startswith("proj:")]:
                del fields[name]  # an asset's own grid (which varies by item) makes no band
            parts.append((key, fields))
        else:
            parts.append((key, asset))
    return repr((item.get("collection") or ("stac:", item["id"]), props.get("eo:bands"),
                 "sar:polarizations" in props, parts))


def _stac_product(item: Mapping[str, Any], props: Mapping[str, Any], assets: Mapping[str, Any]) -> Product:
    item_eo = props.get("eo:bands") or []
    bands: dict[str, Band] = {}
    aliases: dict[str, str] = {}
    files: dict[str, str] = {}
    for key, asset in assets.items():
        if not isinstance(asset, Mapping) or not _is_raster_asset(key, asset):
            continue
        href = asset.get("href")
        if not isinstance(href, str):
            continue
        files[key] = href
        # STAC 1.1 "bands" merges eo:bands and raster:bands
        eo = list(asset.get("eo:bands") or [])
        rb = list(asset.get("raster:bands") or [])
        common = list(asset.get("bands") or [])
        if not eo and not rb and common:
            eo = rb = common
        if not eo and not rb and item_eo and "eo:bands" in str(asset.get("roles", "")):
            eo = item_eo
        n = max(len(eo), len(rb), 1)
        roles = set(asset.get("roles") or [])
        classes = asset.get("classification:classes")
        for i in range(n):
            e = eo[i] if i < len(eo) else {}
            r = rb[i] if i < len(rb) else {}
            if n == 1:
                name = key
            else:
                name = str(e.get("name") or f"{key}_{i + 1}")
            if name in bands:
                name = f"{key}_{name}"
            stac_dtype = r.get("data_type") or e.get("data_type")
            dt = _STAC_DATA_TYPES.get(str(stac_dtype).lower(), "UInt16") if stac_dtype else "UInt16"
            stats = r.get("statistics") or {}
            if "minimum" in stats and "maximum" in stats:
                dr: tuple[float, float] = (stats["minimum"], stats["maximum"])
            else:
                dr = DATA_TYPE_RANGES[dt]
            scale = r.get("scale", 1.0)
            offset = r.get("offset", 0.0)
            phys = None
            if (scale, offset) != (1.0, 0.0) and scale is not None:
                phys = (dr[0] * float(scale) + float(offset or 0.0), dr[1] * float(scale) + float(offset or 0.0))
            if roles & _MASK_ROLES:
                btype = "mask"
            elif classes or e.get("classification:classes") or r.get("classification:classes"):
                btype = "class"
            elif "sar:polarizations" in asset or "sar:polarizations" in props:
                btype = "microwave"
            else:
                btype = "spectral"
            extra: dict[str, Any] = {}
            for k in ("common_name", "center_wavelength", "full_width_half_max", "solar_illumination"):
                if e.get(k) is not None:
                    extra[k] = e[k]
            for k in ("unit", "spatial_resolution", "scale", "offset", "bits_per_sample"):
                if r.get(k) is not None:
                    extra[k] = r[k]
            if e.get("name") and e.get("name") != name:
                extra["vendor_band_name"] = e["name"]
            ci = None
            cn = e.get("common_name")
            if cn in ("red", "green", "blue"):
                ci = cn
            bands[name] = Band(
                name=name,
                type=btype,
                data_type=dt,
                data_range=dr,
                physical_range=phys,
                nodata=_stac_nodata(r.get("nodata", asset.get("nodata"))),
                colorinterp=ci,
                file=key,
                band_index=i + 1,
                description=e.get("description") or asset.get("title"),
                properties=extra,
            )
            for alias in (cn, e.get("name")):
                if alias and alias not in bands and alias not in aliases:
                    aliases[alias] = name
    if not bands:
        raise CatalogError(f"STAC item {item['id']!r} has no raster assets")
    if "alpha" not in bands and "alpha" not in aliases:
        bands["alpha"] = dataset_alpha_band(next(iter(files)))
    aliases = {a: t for a, t in aliases.items() if a not in bands}
    product_id = str(item.get("collection") or f"stac:{item['id']}")
    return Product(id=product_id, bands=bands, title=product_id, aliases=aliases)


def _read_json(path: Path | str) -> Any:
    if isinstance(path, str) and _is_remote(path):
        from raster_core.io.sources import read_object

        try:
            return json.loads(read_object(path))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CatalogError(f"cannot read catalog JSON {path!r}: {exc}") from None
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise NotFoundError(f"catalog file {str(path)!r} does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CatalogError(f"cannot read catalog JSON {str(path)!r}: {exc}") from None


# ======================================================================================
# the catalog
# ======================================================================================


class Catalog:
    """Products and images by id, plus the "a GeoTIFF path is an image id" rule.

    Parameters
    ----------
    path
        Folder (or file) the catalog is saved to; ``None`` for an in-memory catalog.
    products, images
        Initial content.

    Examples
    --------
    >>> cat = Catalog()
    >>> ref = cat.resolve("data/RGB.byte.tif")                      # doctest: +SKIP
    >>> sorted(ref.product.aliases)                                 # doctest: +SKIP
    ['blue', 'green', 'red']
    >>> cat.add_image("scene-1", files="data/RGB.byte.tif", product="rgb")   # doctest: +SKIP
    >>> cat.resolve("scene-1").product.id                           # doctest: +SKIP
    'rgb'
    """

    def __init__(
        self,
        path: PathLike | None = None,
        *,
        products: Iterable[Product] = (),
        images: Iterable[Image] = (),
    ) -> None:
        self.path: Path | None = Path(path) if path is not None else None
        self._products: dict[str, Product] = {}
        self._images: dict[str, Image] = {}
        self._lock = threading.RLock()
        for p in products:
            self.add_product(p)
        for im in images:
            self._add_image_obj(im)

    # ------------------------------------------------------------------ opening
    @classmethod
    def open(cls, path: PathLike) -> Catalog:
        """Open a catalog folder or file.

        A folder holds ``raster-core-catalog.json``, or a STAC ``catalog.json`` /
        ``collection.json``. A file is a raster_core catalog JSON or any STAC document
        (Item, ItemCollection, Catalog, Collection; local links are followed).

        Raises
        ------
        NotFoundError
            When the path does not exist.
        CatalogError
            When the JSON is not a catalog.
        """
        p = Path(path).resolve()
        if p.is_dir():
            own = p / CATALOG_FILENAME
            if own.exists():
                return cls._from_own(own, folder=p)
            for name in ("catalog.json", "collection.json"):
                if (p / name).exists():
                    cat = cls(p)
                    cat.add_stac(p / name)
                    return cat
            raise CatalogError(f"no {CATALOG_FILENAME}, catalog.json or collection.json in {str(p)!r}")
        if not p.exists():
            raise NotFoundError(f"catalog {str(p)!r} does not exist")
        doc = _read_json(p)
        if isinstance(doc, Mapping) and _FORMAT_KEY in doc:
            return cls._from_own(p, folder=p.parent, doc=doc)
        cat = cls(p.parent)
        cat.add_stac(p)
        return cat

    @classmethod
    def _from_own(cls, file: Path, *, folder: Path, doc: Any = None) -> Catalog:
        doc = _read_json(file) if doc is None else doc
        if not isinstance(doc, Mapping) or _FORMAT_KEY not in doc:
            raise CatalogError(f"{str(file)!r} is not a raster_core catalog")
        if doc[_FORMAT_KEY] != _FORMAT_VERSION:
            raise CatalogError(f"{str(file)!r}: unsupported catalog version {doc[_FORMAT_KEY]!r}")
        cat = cls(folder)
        for pd in doc.get("products") or []:
            cat.add_product(Product.from_dict(pd))
        for im in doc.get("images") or []:
            cat._add_image_obj(Image.from_dict(im, root=folder))
        return cat

    @classmethod
    def from_stac(cls, *sources: Any, path: PathLike | None = None) -> Catalog:
        """A catalog of STAC documents (dicts or paths; see :meth:`add_stac`)."""
        cat = cls(path)
        for s in sources:
            cat.add_stac(s)
        return cat

    # ------------------------------------------------------------------ STAC
    def add_stac(self, source: Any, *, base: PathLike | None = None) -> list[str]:
        """Add STAC content: an Item, ItemCollection, Catalog or Collection (a dict, a path to
        its JSON, or its ``http(s)://`` / ``s3://`` URL). Links of Catalogs/Collections to
        children and items are followed (remote links only from a remote document; a
        Collection's ``items`` link and an ItemCollection's ``next`` links too). Asset hrefs
        are resolved against the document's folder or URL (or ``base``).

        Returns the ids of the images added.

        Raises
        ------
        CatalogError
            For JSON that is not STAC, or an Item without raster assets.
        """
        seen: set[str] = set()
        if base is not None and not (isinstance(base, str) and _is_url(base)):
            base = Path(base)
        return self._add_stac(source, base, seen, {})

    def _add_stac(self, source: Any, base: Path | str | None, seen: set[str],
                  products: dict[str, tuple[Product, tuple[str, ...]]] | None = None) -> list[str]:
        products = {} if products is None else products
        if isinstance(source, str) and _is_remote(source):
            if source in seen:
                return []
            seen.add(source)
            doc = _read_json(source)
            base = source
        elif isinstance(source, (str, os.PathLike)) and not (
                isinstance(source, str) and source.lstrip().startswith("{")):
            path = Path(source)
            key = str(path.resolve())
            if key in seen:
                return []
            seen.add(key)
            doc = _read_json(path)
            base = path.parent
        elif isinstance(source, str):
            try:
                doc = json.loads(source)
            except json.JSONDecodeError as exc:
                raise CatalogError(f"invalid STAC JSON: {exc}") from None
        else:
            doc = source
        if not isinstance(doc, Mapping):
            raise CatalogError("a STAC document must be a JSON object")
        kind = doc.get("type")
        added: list[str] = []
        if kind == "Feature":
            return [self._add_stac_item(doc, base, products)]
        remote_doc = isinstance(base, str)
        if kind == "FeatureCollection":
            for feat in doc.get("features") or []:
                if type(feat) is dict and feat.get("type") == "Feature":
                    added.append(self._add_stac_item(feat, base, products))
                else:
                    added += self._add_stac(feat, base, seen, products)
            if remote_doc:
                added += self._follow_links(doc, base, seen, ("next",))
            return added
        if kind in ("Catalog", "Collection") or "stac_version" in doc:
            rels = ("item", "child", "items") if remote_doc else ("item", "child")
            return added + self._follow_links(doc, base, seen, rels)
        raise CatalogError(f"not a STAC document (type {kind!r})")

    def _add_stac_item(self, doc: Mapping[str, Any], base: Path | str | None,
                       products: dict[str, tuple[Product, tuple[str, ...]]]) -> str:
        """Add one STAC Item (merging its product into the catalog's); its image id."""
        product, image = _stac_product_and_image(doc, base, products)
        with self._lock:
            existing = self._products.get(product.id)
            if existing is product:
                pass  # an earlier item of this call made the same product: nothing to merge
            elif existing is None:
                self._products[product.id] = product
            else:
                merged = dict(existing.bands)
                for n, b in product.bands.items():
                    merged.setdefault(n, b)
                aliases = {**product.aliases, **existing.aliases}
                self._products[product.id] = Product(
                    id=existing.id, bands=merged, title=existing.title, description=existing.description,
                    aliases={a: t for a, t in aliases.items() if t in merged and a not in merged},
                    properties=existing.properties,
                )
            self._images[image.id] = image
        return image.id

    # ------------------------------------------------------------------ editing
    def add_product(self, product: Product | Mapping[str, Any] | None = None, **kwargs: Any) -> Product:
        """Add (or replace) a product: a :class:`Product`, a dict, or keyword arguments
        (``id=..., bands=[{...}, ...]``)."""
        if product is None:
            product = Product.from_dict(kwargs)
        elif isinstance(product, Mapping):
            product = Product.from_dict(product)
        if not isinstance(product, Product):
            raise CatalogError(f"not a product: {product!r}")
        with self._lock:
            self._products[product.id] = product
        return product

    def _add_image_obj(self, image: Image) -> None:
        with self._lock:
            if image.product not in self._products:
                raise NotFoundError(f"image {image.id!r}: product {image.product!r} is not in the catalog")
            self._images[image.id] = image

    def add_image(
        self,
        id: str,  # noqa: A002 - the catalog's field name
        files: PathLike | Sequence[PathLike] | Mapping[str, PathLike],
        product: str | None = None,
        *,
        acquired: Any = None,
        **properties: Any,
    ) -> Image:
        """Add (or replace) an image.

        Parameters
        ----------
        id
            The image id used by the Raster API.
        files
            One path, a list of paths (keys ``"0"``, ``"1"``...), or ``{file key: path}``
            matching the ``file`` of the product's bands. Relative paths are taken relative
            to the current directory.
        product
            Product id. When it is not in the catalog (or ``None``), a product is derived
            from the first file (see :func:`file_product`) under that id (default:
            ``"<id>:product"``).
        acquired
            Acquisition time (ISO 8601 string or datetime).
        **properties
            Extra properties stored with the image (``cloud_fraction=0.1``...).

        Raises
        ------
        RasterReadError
            When a product has to be derived and the file is unreadable.
        CatalogError
            For invalid arguments.
        """
        file_map = {k: os.path.abspath(v) if not _is_remote(v) else v for k, v in _normalize_files(files, id).items()}
        pid = product or f"{id}:product"
        with self._lock:
            if pid not in self._products:
                first_key, first_path = next(iter(file_map.items()))
                self._products[pid] = file_product(first_path, product_id=pid, file_key=first_key)
            image = Image(id=id, product=pid, files=file_map, acquired=acquired, properties=dict(properties))
            self._images[id] = image
        return image

    def remove_image(self, id: str) -> None:  # noqa: A002
        """Remove an image (NotFoundError when absent)."""
        with self._lock:
            if id not in self._images:
                raise NotFoundError(f"'{id}' is not in the catalog")
            del self._images[id]

    # ------------------------------------------------------------------ queries
    @property
    def products(self) -> dict[str, Product]:
        """Products by id (a copy)."""
        return dict(self._products)

    def images(self, product: str | None = None) -> list[Image]:
        """Images, optionally of one product, sorted by acquisition time then id."""
        ims = [im for im in self._images.values() if product is None or im.product == product]
        return sorted(ims, key=lambda im: (im.acquired or "", im.id))

    def get_product(self, id: str) -> Product:  # noqa: A002
        try:
            return self._products[id]
        except KeyError:
            raise NotFoundError(f"product '{id}' is not in the catalog") from None

    def get_image(self, id: str) -> Image:  # noqa: A002
        try:
            return self._images[id]
        except KeyError:
            raise NotFoundError(f"'{id}' is not in the catalog") from None

    def __contains__(self, id: object) -> bool:
        return id in self._images

    def __len__(self) -> int:
        return len(self._images)

    def __iter__(self) -> Iterator[Image]:
        return iter(self.images())

    def _follow_links(self, doc: Mapping[str, Any], base: Path | str | None, seen: set[str],
                      rels: tuple[str, ...]) -> list[str]:
        added: list[str] = []
        for link in doc.get("links") or []:
            if not isinstance(link, Mapping) or link.get("rel") not in rels:
                continue
            href = link.get("href")
            if not isinstance(href, str):
                continue
            target = _absolute(href, base)
            if _is_url(target):
                if isinstance(base, str):  # a local document never makes us go online
                    added += self._add_stac(target, target, seen)
            elif Path(target).exists():
                added += self._add_stac(Path(target), Path(target).parent, seen)
        return added

    def __repr__(self) -> str:
        where = f" at {str(self.path)!r}" if self.path else ""
        return f"<Catalog{where}: {len(self._products)} products, {len(self._images)} images>"

    def resolve(self, image_id: Any) -> ImageRef:
        """The image (and product) an id refers to.

        A catalog id first; else a path to an existing GeoTIFF (relative to the current
        directory, then to the catalog folder), which is its own product.

        Raises
        ------
        NotFoundError
            ``"'x' does not exist in the catalog and is not a file"``.
        RasterReadError
            When the path exists but is not a readable GeoTIFF.
        """
        if isinstance(image_id, os.PathLike):
            image_id = os.fspath(image_id)
        if not isinstance(image_id, str) or not image_id:
            raise NotFoundError(f"an image id must be a non-empty string, got {image_id!r}")
        image = self._images.get(image_id)
        if image is not None:
            return ImageRef(image, self._products[image.product])
        if _is_remote(image_id):
            product = file_product(image_id)
            return ImageRef(Image(id=image_id, product=product.id, files={"0": image_id}), product)
        candidates = [Path(image_id)]
        if self.path is not None and not Path(image_id).is_absolute():
            candidates.append((self.path if self.path.is_dir() else self.path.parent) / image_id)
        for cand in candidates:
            if cand.is_file():
                path = os.path.abspath(cand)
                product = file_product(path)
                return ImageRef(Image(id=image_id, product=product.id, files={"0": path}), product)
            if cand.exists():
                raise NotFoundError(f"'{image_id}' is not an image: {str(cand)!r} is a directory")
        raise NotFoundError(f"'{image_id}' does not exist in the catalog and is not a file")

    def resolve_many(self, inputs: Any) -> list[ImageRef]:
        """Resolve one id or a list of ids (spec §1.3: a ``str`` becomes ``[str]``).

        Raises
        ------
        NotFoundError
            For an unknown id, or an empty list.
        """
        if isinstance(inputs, (str, os.PathLike)):
            inputs = [inputs]
        elif not isinstance(inputs, Iterable):
            raise NotFoundError(f"Inputs must be a Iterable, instead got '{type(inputs).__name__}'")
        ids = list(inputs)
        if not ids:
            raise NotFoundError("no image ids given (inputs is empty)")
        return [self.resolve(i) for i in ids]

    # ------------------------------------------------------------------ saving
    def to_dict(self, root: Path | None = None) -> dict[str, Any]:
        """The catalog as the JSON document :meth:`save` writes."""
        return {
            _FORMAT_KEY: _FORMAT_VERSION,
            "products": [p.to_dict() for p in self._products.values()],
            "images": [im.to_dict(root) for im in self._images.values()],
        }

    def save(self, path: PathLike | None = None) -> Path:
        """Write the catalog atomically (temporary file + rename) and return the file path.

        ``path`` (or the catalog's own path) is a folder (the file is
        ``raster-core-catalog.json`` inside it, created if needed) or a ``.json`` file.
        File paths are stored relative to the folder.

        Raises
        ------
        CatalogError
            When the catalog has no path.
        """
        target = Path(path) if path is not None else self.path
        if target is None:
            raise CatalogError("this catalog has no path: call save(path)")
        if target.suffix.lower() == ".json" and not target.is_dir():
            folder, file = target.parent, target
        else:
            folder, file = target, target / CATALOG_FILENAME
        folder.mkdir(parents=True, exist_ok=True)
        with self._lock:
            doc = self.to_dict(root=folder.resolve())
        text = _compact_lists(json.dumps(doc, indent=1, allow_nan=False, default=_json_default))
        with atomic_path(file, fsync=True) as tmp, open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.write("\n")
        self.path = folder
        return file


_NUMBER_LIST = re.compile(r"\[\s*(-?[\d.eE+-]+(?:,\s*-?[\d.eE+-]+)*)\s*\]")


def _compact_lists(text: str) -> str:
    """Put short lists of numbers (ranges, transforms) on one line."""
    return _NUMBER_LIST.sub(lambda m: "[" + ", ".join(v.strip() for v in m.group(1).split(",")) + "]", text)


def _json_default(value: Any) -> Any:
    if isinstance(value, (tuple, set, frozenset)):
        return list(value)
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    raise TypeError(f"not JSON serialisable: {value!r}")


_default: Catalog | None = None


def default_catalog() -> Catalog:
    """The catalog used when none is given: ``$RASTER_CORE_CATALOG`` if set, else an empty
    catalog (GeoTIFF paths still work as image ids)."""
    global _default
    if _default is None:
        env = os.environ.get("RASTER_CORE_CATALOG")
        _default = Catalog.open(env) if env else Catalog()
    return _default
