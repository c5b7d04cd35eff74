"""Band-list resolution and alpha rules (spec §2.4, §2.5)."""

from __future__ import annotations

import os
import pickle

import pytest

from raster_core.bands import (
    Band,
    check_alpha_position,
    normalize_band_names,
    prepare_mask_alpha,
    resolve_bands,
)
from raster_core.catalog import Catalog
from raster_core.errors import BandError, CatalogError
from tests.conftest import DATA, data_file


@pytest.fixture(scope="module")
def cat():
    return Catalog.open(DATA / "catalog")


def test_normalize_band_names():
    assert normalize_band_names(["red", "green"]) == ("red", "green")
    assert normalize_band_names("red green  blue") == ("red", "green", "blue")
    assert normalize_band_names([1, "2"]) == ("1", "2")
    assert normalize_band_names(("vv", "vh", "vv")) == ("vv", "vh", "vv")  # repeats allowed (guide)
    for bad, msg in ((None, "bands is required"), ([], "at least one"), ("", "at least one"),
                     ([1.5], "strings"), ([True], "strings"), ([" "], "non-empty"), (5, "list of band names"),
                     ({"red": 1}, "list of band names")):
        with pytest.raises(BandError, match=msg):
            normalize_band_names(bad)


def test_resolve_catalog_bands(cat):
    refs = [cat.resolve("landsat7-rgb:RGB.byte")]
    plan = resolve_bands(refs, ["red", "green", "blue", "alpha"])
    assert plan.names == ("red", "green", "blue", "alpha")
    src = plan.sources[0]
    assert [s.index for s in src] == [1, 2, 3, None]
    assert all(s.path == os.path.abspath(data_file("RGB.byte.tif")) for s in src)
    assert src[3].is_mask and not src[0].is_mask
    assert plan.alpha_last and plan.data_type == "Byte"
    assert plan.nodata == ((0, 0, 0, None),)
    assert [b.name for b in plan.bands] == ["red", "green", "blue", "alpha"]
    assert pickle.loads(pickle.dumps(plan)) == plan  # plans are picklable (Dask later)
    # alias by band number, any order, repeats; alpha not last is an ordinary band here
    plan2 = resolve_bands(refs, ["3", "alpha", "1", "3"])
    assert [s.index for s in plan2.sources[0]] == [3, None, 1, 3] and not plan2.alpha_last


def test_resolve_file_id_bands():
    ref = Catalog().resolve(str(data_file("riotiler_cog_rgba.tif")))
    plan = resolve_bands([ref], ["red", "Green", "BLUE", "4", "alpha"])
    assert [s.index for s in plan.sources[0]] == [1, 2, 3, 4, None]
    assert plan.alpha_last
    ref_mask = Catalog().resolve(str(data_file("riotiler_cog_rgb_mask.tif")))
    assert resolve_bands([ref_mask], ["alpha"]).sources[0][0].is_mask
    ref_nodata = Catalog().resolve(str(data_file("RGB.byte.tif")))  # alpha from its nodata
    assert resolve_bands([ref_nodata], ["red", "alpha"]).sources[0][1].is_mask
    with pytest.raises(BandError, match="band 'alfa' is not available \\(available: 1, 2, 3, alpha, red"):
        resolve_bands([ref_nodata], ["red", "alfa"])


def test_mosaic_of_products_and_default_type(cat):
    refs = [cat.resolve("landsat7-rgb:rgb1"), cat.resolve("landsat7-rgb:rgb2")]
    plan = resolve_bands(refs, ["red", "alpha"])
    assert len(plan.sources) == 2 and plan.sources[1][0].path.endswith("rgb2.tif")
    assert plan.products == ("landsat7-rgb", "landsat7-rgb")
    # different products: default type is the common type of every image's bands (spec §2.7)
    mixed = [cat.resolve("landsat7-rgb:RGB.byte"), cat.resolve("sentinel2-b01:titiler_B01")]
    with pytest.raises(BandError, match="Invalid bands: band 'red' is not available in product 'sentinel2-b01'"):
        resolve_bands(mixed, ["red"])
    plan = resolve_bands([cat.resolve("swiss-dem:titiler_dem"), cat.resolve("landfire-elevation:storml")],
                         ["elevation", "alpha"])
    assert plan.data_type == "Float32" and plan.alpha_last
    plan = resolve_bands([cat.resolve("landsat8-sr:LC08_20200829_B4"), cat.resolve("landfire-elevation:storml")],
                         ["alpha"])
    assert plan.data_type == "Byte"
    with pytest.raises(BandError, match="no images"):
        resolve_bands([], ["red"])


def test_alpha_must_be_last():
    check_alpha_position(["red", "alpha"])
    check_alpha_position(["red"])
    with pytest.raises(BandError, match="^Alpha must be the last band in order to reduce rasterization errors$"):
        check_alpha_position(["alpha", "red"])


def test_prepare_mask_alpha(cat):
    rgb = {"landsat7-rgb": cat.get_product("landsat7-rgb").bands}
    assert prepare_mask_alpha(["red"], rgb) == (("red", "alpha"), "alpha", True)
    assert prepare_mask_alpha(["red", "alpha"], rgb) == (("red", "alpha"), "alpha", False)
    assert prepare_mask_alpha(["red"], rgb, False) == (("red",), None, False)
    assert prepare_mask_alpha(["red"], rgb, "red") == (("red",), "red", False)
    with pytest.raises(BandError, match="Alpha must be the last band"):
        prepare_mask_alpha(["alpha", "red"], rgb)
    no_alpha = {"p": {"x": Band("x")}}
    assert prepare_mask_alpha(["x"], no_alpha) == (("x",), None, False)  # None: only if every product has it
    with pytest.raises(BandError, match="Cannot mask alpha: no alpha band for the product 'p'. "
                                        "Try setting 'mask_alpha=False'."):
        prepare_mask_alpha(["x"], no_alpha, True)
    with pytest.raises(BandError, match="'mask_alpha' must be None, a band name, or a bool."):
        prepare_mask_alpha(["x"], no_alpha, 1)


def test_band_validation_and_round_trip():
    b = Band("red", data_type="uint16", data_range=[0, 10000], display_range=(0, 4000), physical_range=(0, 1),
             colorinterp="Red", nodata=0, properties={"tags": ["spectral"]})
    assert b.data_type == "UInt16" and b.colorinterp == "red" and b.data_range == (0, 10000)
    assert Band.from_dict(b.to_dict()) == b
    d = b.describe()
    assert d["dtype"] == "UInt16" and d["default_range"] == [0, 4000] and d["physical_range"] == [0, 1]
    assert d["tags"] == ["spectral"] and d["color"] == "Red"
    v1 = Band.from_dict({"name": "nir", "dtype": "UInt16", "default_range": [0, 4000], "data_range": [0, 10000],
                         "vendor_order": 8})
    assert v1.display_range == (0, 4000) and v1.properties == {"vendor_order": 8}
    nan = Band("t", data_type="Float32", nodata=float("nan"))
    back = Band.from_dict(nan.to_dict())
    assert back.nodata != back.nodata  # NaN survives JSON as "nan"
    for kwargs, msg in (({"type": "bogus"}, "type must be"), ({"data_range": (0, float("inf"))}, "finite"),
                        ({"band_index": 0}, "band_index"), ({"mask": "alpha"}, "mask must be"),
                        ({"colorinterp": "ultraviolet"}, "colorinterp"), ({"nodata": "x"}, "nodata")):
        with pytest.raises(CatalogError, match=msg):
            Band("x", **kwargs)
    with pytest.raises(CatalogError):
        Band("")
    assert Band("m", type="mask").effective_data_range == (0, 1)
    assert Band("f", data_type="Float32").effective_data_range == (0.0, 1.0)
