"""Band descriptors and band-list resolution for the Raster API.

A :class:`Band` describes one band of a product (what the catalog knows about it: type,
data type, ranges, nodata, colour interpretation) and where its pixels live in an image
(``file`` key and 1-based ``band_index``, or ``mask="dataset"`` for an alpha band derived
from the file's GDAL mask). :func:`resolve_bands` turns a requested band list and a list of
images into a :class:`BandPlan`: per image, the ``(path, band index)`` to read for every
output band, plus what the mosaic and the metadata need (alpha semantics, default type).

Examples
--------
>>> from raster_core.bands import Band, normalize_band_names
>>> normalize_band_names("red green blue alpha")
('red', 'green', 'blue', 'alpha')
>>> Band("alpha", type="mask", data_type="Byte", data_range=(0, 1), band_index=None, mask="dataset").is_alpha
True
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from raster_core.errors import BandError, CatalogError
from raster_core.scaling import DATA_TYPE_RANGES, common_data_type, parse_data_type

__all__ = [
    "BAND_TYPES",
    "Band",
    "BandSource",
    "BandPlan",
    "normalize_band_names",
    "check_alpha_position",
    "prepare_mask_alpha",
    "resolve_bands",
    "with_name",
    "dataset_alpha_band",
]

#: Band types of the catalog (v2 names plus the v1 ``other``/``derived``).
BAND_TYPES = ("spectral", "mask", "class", "microwave", "generic", "other", "derived")

#: GDAL colour interpretation names (lower case, as raster_core.io reports them).
_COLORINTERPS = (
    "undefined", "gray", "palette", "red", "green", "blue", "alpha", "hue", "saturation",
    "lightness", "cyan", "magenta", "yellow", "black", "ycbcr_y", "ycbcr_cb", "ycbcr_cr",
)


def _range(value: Any, what: str) -> tuple[float, float] | None:
    if value is None:
        return None
    try:
        lo, hi = value
    except (TypeError, ValueError):
        raise CatalogError(f"{what} must be a pair [low, high], got {value!r}") from None
    for v in (lo, hi):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise CatalogError(f"{what} must hold two finite numbers, got {value!r}")
    return (lo, hi)


@dataclass(frozen=True)
class Band:
    """One band of a product, as the catalog describes it.

    Parameters
    ----------
    name
        The band's name (``"red"``, ``"nir"``, ``"alpha"``, ``"1"``...).
    type
        ``spectral``, ``mask``, ``class``, ``microwave``, ``generic`` (or v1 ``other``).
    data_type
        GDAL type name of the stored pixels (``Byte`` ... ``Float64``).
    data_range, display_range, physical_range
        On-disk value range, the range to stretch to 0-255 for display, and the physical
        quantity ``data_range`` represents (for example reflectance ``(0, 1)``).
    nodata
        The stored nodata value, or ``None``.
    colorinterp
        GDAL colour interpretation (``red``, ``green``, ``blue``, ``gray``, ``alpha``...).
    file
        Key of the image file holding the band (images may have one file per band).
    band_index
        1-based band index in that file; ``None`` for a derived band (see ``mask``).
    mask
        ``"dataset"`` for a 0/1 band derived from the file's GDAL mask (its alpha band,
        internal mask, or nodata in every band): how an ``alpha`` band is read.
    description
        Free text.
    processing_levels
        Optional processing levels (spec §2.8).
    properties
        Any other catalog property (``tags``, ``wavelength``, ``vendor_name``...).

    Examples
    --------
    >>> b = Band("red", data_type="UInt16", data_range=(0, 10000), display_range=(0, 4000),
    ...          physical_range=(0.0, 1.0), colorinterp="red")
    >>> b.describe()["default_range"]
    [0, 4000]
    """

    name: str
    type: str = "spectral"
    data_type: str = "UInt16"
    data_range: tuple[float, float] | None = None
    display_range: tuple[float, float] | None = None
    physical_range: tuple[float, float] | None = None
    nodata: float | None = None
    colorinterp: str | None = None
    file: str = "0"
    band_index: int | None = 1
    mask: str | None = None
    description: str | None = None
    processing_levels: Mapping[str, Any] | None = None
    properties: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise CatalogError(f"a band needs a non-empty string name, got {self.name!r}")
        if self.type not in BAND_TYPES:
            raise CatalogError(f"band {self.name!r}: type must be one of {', '.join(BAND_TYPES)}, got {self.type!r}")
        object.__setattr__(self, "data_type", parse_data_type(self.data_type, allow_none=False))
        for attr in ("data_range", "display_range", "physical_range"):
            object.__setattr__(self, attr, _range(getattr(self, attr), f"band {self.name!r} {attr}"))
        if self.nodata is not None:
            if isinstance(self.nodata, bool) or not isinstance(self.nodata, (int, float)):
                raise CatalogError(f"band {self.name!r}: nodata must be a number, got {self.nodata!r}")
        if self.colorinterp is not None:
            ci = str(self.colorinterp).lower()
            if ci not in _COLORINTERPS:
                raise CatalogError(f"band {self.name!r}: unknown colorinterp {self.colorinterp!r}")
            object.__setattr__(self, "colorinterp", ci)
        object.__setattr__(self, "file", str(self.file))
        if self.mask is not None:
            if self.mask != "dataset":
                raise CatalogError(f"band {self.name!r}: mask must be 'dataset' or None, got {self.mask!r}")
            object.__setattr__(self, "band_index", None)
        elif self.band_index is None or isinstance(self.band_index, bool) or int(self.band_index) != self.band_index \
                or self.band_index < 1:
            raise CatalogError(f"band {self.name!r}: band_index must be an integer >= 1, got {self.band_index!r}")
        else:
            object.__setattr__(self, "band_index", int(self.band_index))
        object.__setattr__(self, "properties", dict(self.properties or {}))

    # ------------------------------------------------------------------ derived facts
    @property
    def is_alpha(self) -> bool:
        """True for an alpha band: named ``alpha`` or with colour interpretation alpha."""
        return self.name == "alpha" or self.colorinterp == "alpha"

    @property
    def effective_data_range(self) -> tuple[float, float]:
        """``data_range``, else the mask range (0, 1) or the data type's default range."""
        if self.data_range is not None:
            return self.data_range
        if self.type == "mask":
            return (0, 1)
        return DATA_TYPE_RANGES[self.data_type]

    def scaling_properties(self) -> dict[str, Any]:
        """The dict :func:`raster_core.scaling.properties_for_band` reads."""
        dr = self.effective_data_range
        return {
            "name": self.name,
            "type": self.type,
            "data_type": self.data_type,
            "data_range": dr,
            "display_range": self.display_range or dr,
            "physical_range": self.physical_range or dr,
            "processing_levels": self.processing_levels,
        }

    def describe(self) -> dict[str, Any]:
        """The band's catalog properties as the metadata ``description`` dict (spec §1.6):
        both the v1 keys (``dtype``, ``default_range``) and the v2 ones (``data_type``,
        ``display_range``)."""
        dr = list(self.effective_data_range)
        disp = list(self.display_range) if self.display_range else dr
        phys = list(self.physical_range) if self.physical_range else dr
        out: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "dtype": self.data_type,
            "data_type": self.data_type,
            "data_range": dr,
            "default_range": disp,
            "display_range": disp,
            "physical_range": phys,
            "nodata": self.nodata,
        }
        if self.colorinterp:
            out["color"] = self.colorinterp.capitalize()
        if self.description:
            out["description"] = self.description
        for k, v in self.properties.items():
            out.setdefault(k, v)
        return out

    # ------------------------------------------------------------------ JSON
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (only the set fields)."""
        out: dict[str, Any] = {"name": self.name, "type": self.type, "data_type": self.data_type}
        for key in ("data_range", "display_range", "physical_range"):
            v = getattr(self, key)
            if v is not None:
                out[key] = list(v)
        for key in ("nodata", "colorinterp", "description"):
            v = getattr(self, key)
            if v is not None:
                out[key] = None if (isinstance(v, float) and math.isnan(v)) else v
        if isinstance(self.nodata, float) and math.isnan(self.nodata):
            out["nodata"] = "nan"
        out["file"] = self.file
        if self.mask is not None:
            out["mask"] = self.mask
        else:
            out["band_index"] = self.band_index
        if self.processing_levels:
            out["processing_levels"] = dict(self.processing_levels)
        if self.properties:
            out["properties"] = dict(self.properties)
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], *, name: str | None = None) -> Band:
        """Build a band from a catalog dict (v2 keys, or v1 ``dtype``/``default_range``).

        Unknown keys go to ``properties``.

        Raises
        ------
        CatalogError
            When the dict is not a valid band.
        """
        if not isinstance(d, Mapping):
            raise CatalogError(f"a band must be a JSON object, got {d!r}")
        known = {
            "name", "type", "data_type", "dtype", "data_range", "display_range", "default_range",
            "physical_range", "nodata", "colorinterp", "color", "file", "band_index", "mask",
            "description", "processing_levels", "properties",
        }
        nodata = d.get("nodata")
        if isinstance(nodata, str):
            try:
                nodata = float(nodata)
            except ValueError:
                raise CatalogError(f"band nodata must be a number, got {nodata!r}") from None
        props = dict(d.get("properties") or {})
        props.update({k: v for k, v in d.items() if k not in known})
        color = d.get("colorinterp") or d.get("color")
        try:
            return cls(
                name=str(name or d.get("name") or ""),
                type=d.get("type") or "spectral",
                data_type=d.get("data_type") or d.get("dtype") or "UInt16",
                data_range=d.get("data_range"),
                display_range=d.get("display_range") or d.get("default_range"),
                physical_range=d.get("physical_range"),
                nodata=nodata,
                colorinterp=color.lower() if isinstance(color, str) else None,
                file=str(d.get("file", "0")),
                band_index=d.get("band_index", 1) if d.get("mask") is None else None,
                mask=d.get("mask"),
                description=d.get("description"),
                processing_levels=d.get("processing_levels"),
                properties=props,
            )
        except CatalogError:
            raise
        except Exception as exc:  # DataTypeError etc. -> one catalog error type
            raise CatalogError(f"invalid band {d.get('name')!r}: {exc}") from None


@dataclass(frozen=True)
class BandSource:
    """Where one output band of one image is read from.

    ``index`` is the 1-based band of ``path``; ``None`` means the file's dataset mask as a
    0/1 band (an ``alpha`` band).
    """

    path: str
    index: int | None
    band: Band

    @property
    def is_mask(self) -> bool:
        return self.index is None


@dataclass(frozen=True)
class BandPlan:
    """The resolved band list of a Raster call (picklable, no open files).

    Attributes
    ----------
    names
        Requested band names, in output order.
    bands
        The first image's :class:`Band` for every output band (metadata descriptions).
    sources
        ``sources[i][b]``: the :class:`BandSource` of output band ``b`` for image ``i``.
    alpha_last
        The last band is an alpha band: mosaic and masking follow spec §2.4.
    data_type
        Default output type: the common type of the requested bands of every image (§2.7).
    products
        Product id of every image.
    """

    names: tuple[str, ...]
    bands: tuple[Band, ...]
    sources: tuple[tuple[BandSource, ...], ...]
    alpha_last: bool
    data_type: str
    products: tuple[str, ...]

    @property
    def nodata(self) -> tuple[tuple[float | None, ...], ...]:
        """Per image, per output band: the band's nodata value (``None`` for masks)."""
        return tuple(tuple(None if s.is_mask else s.band.nodata for s in srcs) for srcs in self.sources)


def normalize_band_names(bands: Any) -> tuple[str, ...]:
    """Requested bands as a tuple of names.

    Accepts a list/tuple of names (ints become strings: ``1`` -> ``"1"``) or one string of
    space-separated names.

    Raises
    ------
    BandError
        When no band is given or an entry is not a name.

    Examples
    --------
    >>> normalize_band_names(["red", 2])
    ('red', '2')
    """
    if bands is None:
        raise BandError("bands is required: give a list of band names, e.g. ['red', 'green', 'blue', 'alpha']")
    if isinstance(bands, str):
        names = bands.split()
    elif isinstance(bands, Iterable) and not isinstance(bands, (bytes, Mapping)):
        names = []
        for b in bands:
            if isinstance(b, bool) or not isinstance(b, (str, int)):
                raise BandError(f"band names must be strings, got {b!r}")
            if isinstance(b, int):
                b = str(b)
            if not b.strip():
                raise BandError("band names must be non-empty strings")
            names.append(b.strip())
    else:
        raise BandError(f"bands must be a list of band names, got {bands!r}")
    if not names:
        raise BandError("bands is required: give at least one band name, e.g. ['red', 'green', 'blue', 'alpha']")
    return tuple(names)


def check_alpha_position(names: Sequence[str], alpha_name: str = "alpha") -> None:
    """Raise when ``alpha_name`` is requested but not as the last band (spec §2.4).

    >>> check_alpha_position(["red", "alpha"])
    >>> check_alpha_position(["alpha", "red"])
    Traceback (most recent call last):
    ...
    raster_core.errors.BandError: Alpha must be the last band in order to reduce rasterization errors
    """
    if alpha_name in names and list(names).index(alpha_name) != len(names) - 1:
        raise BandError("Alpha must be the last band in order to reduce rasterization errors")


def prepare_mask_alpha(
    names: Sequence[str],
    product_bands: Mapping[str, Mapping[str, Any]],
    mask_alpha: bool | str | None = None,
) -> tuple[tuple[str, ...], str | None, bool]:
    """The catalog's ``mask_alpha`` rule (spec §2.5): which band masks, and whether it is
    appended to the request and dropped from the result.

    Parameters
    ----------
    names
        Requested band names.
    product_bands
        ``{product id: {band name: band}}`` of every image's product.
    mask_alpha
        ``None`` (mask with ``alpha`` iff every product has it), a band name, or a bool.

    Returns
    -------
    (names, alpha_band, drop_alpha)
        ``alpha_band`` is ``None`` when not masking by alpha.

    Raises
    ------
    BandError
        ``"Cannot mask alpha: no alpha band for the product 'p'. Try setting 'mask_alpha=False'."``,
        ``"Alpha must be the last band in order to reduce rasterization errors"``,
        ``"'mask_alpha' must be None, a band name, or a bool."``.
    """
    names = tuple(names)
    alpha = "alpha"
    if mask_alpha is None:
        use = bool(product_bands) and all(alpha in bands for bands in product_bands.values())
    elif isinstance(mask_alpha, str):
        alpha, use = mask_alpha, True
    elif isinstance(mask_alpha, bool):
        use = mask_alpha
    else:
        raise BandError("'mask_alpha' must be None, a band name, or a bool.")
    if not use:
        return names, None, False
    for product, bands in product_bands.items():
        if alpha not in bands:
            raise BandError(
                f"Cannot mask alpha: no {alpha} band for the product '{product}'. Try setting 'mask_alpha=False'."
            )
    if alpha not in names:
        return names + (alpha,), alpha, True
    check_alpha_position(names, alpha)
    return names, alpha, False


def _lookup(bands: Mapping[str, Band], aliases: Mapping[str, str], name: str) -> Band | None:
    if name in bands:
        return bands[name]
    if name in aliases:
        return bands.get(aliases[name])
    folded = name.lower()
    for key, band in bands.items():
        if key.lower() == folded:
            return band
    for key, target in aliases.items():
        if key.lower() == folded:
            return bands.get(target)
    return None


def resolve_bands(images: Sequence[Any], bands: Any) -> BandPlan:
    """Resolve requested band names against every image of a Raster call.

    Parameters
    ----------
    images
        Resolved images (:class:`raster_core.catalog.ImageRef`, or anything with
        ``id``, ``product`` (with ``id``, ``bands``, ``aliases``) and ``path_of(band)``).
    bands
        Requested band names (see :func:`normalize_band_names`). Band names match exactly,
        then through the product's aliases (colour names), then case-insensitively.

    Returns
    -------
    BandPlan

    Raises
    ------
    BandError
        For an empty request, or ``"Invalid bands: band 'x' is not available"`` (with
        ``" in product 'p'"`` when several products are involved), listing the available names.

    Examples
    --------
    >>> from raster_core.catalog import Catalog
    >>> plan = resolve_bands([Catalog().resolve("data/RGB.byte.tif")], ["red", "3"])  # doctest: +SKIP
    >>> [(s.index) for s in plan.sources[0]]                                          # doctest: +SKIP
    [1, 3]
    """
    names = normalize_band_names(bands)
    if not images:
        raise BandError("no images to read bands from")
    products = {img.product.id for img in images}
    multi = len(products) > 1
    sources: list[tuple[BandSource, ...]] = []
    first: tuple[Band, ...] = ()
    types: list[str] = []
    for n_img, img in enumerate(images):
        product = img.product
        row = []
        for name in names:
            band = _lookup(product.bands, getattr(product, "aliases", {}) or {}, name)
            if band is None:
                where = f" in product '{product.id}'" if multi else ""
                avail = ", ".join(list(product.bands) + [a for a in (getattr(product, "aliases", {}) or {})])
                raise BandError(f"Invalid bands: band '{name}' is not available{where} (available: {avail})")
            row.append(BandSource(img.path_of(band), band.band_index, band))
            types.append(band.data_type)
        if n_img == 0:
            first = tuple(s.band for s in row)
        sources.append(tuple(row))
    alpha_last = all(srcs[-1].band.is_alpha for srcs in sources)
    data_type = common_data_type(types)
    assert data_type is not None
    return BandPlan(
        names=names,
        bands=first,
        sources=tuple(sources),
        alpha_last=alpha_last,
        data_type=data_type,
        products=tuple(img.product.id for img in images),
    )


def with_name(band: Band, name: str) -> Band:
    """A copy of ``band`` under another name."""
    return replace(band, name=name)


def dataset_alpha_band(file_key: str) -> Band:
    """The ``alpha`` band every image has: 1 where the GDAL mask of the file ``file_key`` is
    valid (its alpha band, internal mask, nodata in every band, or everywhere), else 0.

    Examples
    --------
    >>> dataset_alpha_band("0").mask, dataset_alpha_band("0").data_range
    ('dataset', (0, 1))
    """
    return Band(
        name="alpha",
        type="mask",
        data_type="Byte",
        data_range=(0, 1),
        colorinterp="alpha",
        file=file_key,
        band_index=None,
        mask="dataset",
        description="1 where the file's mask (alpha band, internal mask or nodata) is valid, else 0",
    )
