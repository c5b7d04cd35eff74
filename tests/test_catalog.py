"""Catalog: JSON folders, STAC, and GeoTIFF paths as image ids (checked against rasterio)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from raster_core.bands import Band
from raster_core.catalog import CATALOG_FILENAME, Catalog, Image, Product, default_catalog, file_product
from raster_core.errors import CatalogError, NotFoundError, RasterReadError
from tests.conftest import DATA, data_file

CATALOG_DIR = DATA / "catalog"
STAC_DIR = CATALOG_DIR / "stac"

rasterio = pytest.importorskip("rasterio")


# ----------------------------------------------------------------------------- file ids
@pytest.mark.parametrize("name", sorted(p.name for p in DATA.glob("*.tif")))
def test_file_product_matches_rasterio(name):
    """Bands "1".."N" with the file's types, nodata and colour interpretation (as GDAL
    reports them), colour aliases, and "alpha" exactly when GDAL sees an alpha band or a
    per-dataset mask."""
    path = data_file(name)
    product = file_product(path)
    with rasterio.open(path) as ds:
        names = [str(i) for i in range(1, ds.count + 1)]
        assert list(product.bands)[: ds.count] == names
        for i, n in enumerate(names):
            b = product.bands[n]
            assert b.band_index == i + 1 and b.mask is None
            assert b.data_type.lower() == {"uint8": "byte"}.get(ds.dtypes[i], ds.dtypes[i])
            gdal_nodata = ds.nodata
            assert (b.nodata is None) == (gdal_nodata is None)
            if gdal_nodata is not None and gdal_nodata == gdal_nodata:
                assert b.nodata == gdal_nodata
            assert b.colorinterp == ds.colorinterp[i].name
        for ci in ("red", "green", "blue", "gray"):
            expected = [str(i + 1) for i, c in enumerate(ds.colorinterp) if c.name == ci]
            assert product.aliases.get(ci) == (expected[0] if expected else None)
        # every image has an alpha band: its GDAL mask (alpha band, internal mask, nodata, or all valid)
        assert "alpha" in product.bands and product.bands["alpha"].mask == "dataset"
    if "alpha" in product.bands:
        a = product.bands["alpha"]
        assert a.mask == "dataset" and a.band_index is None and a.type == "mask" and a.data_range == (0, 1)
        assert a.is_alpha


def test_path_is_an_image_id(tmp_path):
    cat = Catalog()
    ref = cat.resolve(str(data_file("RGB.byte.tif")))
    assert ref.id == str(data_file("RGB.byte.tif"))
    assert ref.product.aliases == {"red": "1", "green": "2", "blue": "3"}
    assert ref.path_of(ref.product.bands["1"]) == os.path.abspath(data_file("RGB.byte.tif"))
    assert len(cat) == 0  # resolving a path does not add it
    with pytest.raises(NotFoundError, match="'nope.tif' does not exist in the catalog and is not a file"):
        cat.resolve("nope.tif")
    with pytest.raises(NotFoundError, match="is a directory"):
        cat.resolve(str(tmp_path))
    not_tiff = tmp_path / "x.tif"
    not_tiff.write_text("hello")
    with pytest.raises(RasterReadError):
        cat.resolve(str(not_tiff))
    empty = tmp_path / "empty.tif"
    empty.write_bytes(b"")
    with pytest.raises(RasterReadError):
        cat.resolve(str(empty))
    for bad in ("", None, 3):
        with pytest.raises(NotFoundError):
            cat.resolve(bad)


def test_resolve_many():
    cat = Catalog()
    one = str(data_file("byte.tif"))
    assert [r.id for r in cat.resolve_many(one)] == [one]
    assert [r.id for r in cat.resolve_many([one, one])] == [one, one]
    with pytest.raises(NotFoundError, match="empty"):
        cat.resolve_many([])
    with pytest.raises(NotFoundError, match="Iterable"):
        cat.resolve_many(5)


# ----------------------------------------------------------------------------- JSON catalog
def test_bundled_catalog_opens_and_resolves():
    cat = Catalog.open(CATALOG_DIR)
    assert {"landsat7-rgb", "sentinel2-tci", "sentinel2-b01", "riotiler-cog", "swiss-dem"} <= set(cat.products)
    for image in cat.images():
        ref = cat.resolve(image.id)
        for band in ref.product.bands.values():
            path = ref.path_of(band)
            assert Path(path).is_file(), path
            with rasterio.open(path) as ds:
                if band.band_index is not None:
                    assert band.band_index <= ds.count
                    assert band.data_type.lower() == {"uint8": "byte"}.get(ds.dtypes[0], ds.dtypes[0])
                    if band.nodata is not None:
                        assert ds.nodata == band.nodata
    rgb = cat.resolve("landsat7-rgb:RGB.byte").product
    assert list(rgb.bands) == ["red", "green", "blue", "alpha"]
    assert rgb.bands["alpha"].mask == "dataset"
    b01 = cat.get_product("sentinel2-b01").bands["coastal-aerosol"]
    assert (b01.data_range, b01.display_range, b01.physical_range) == ((0, 10000), (300, 5000), (0.0, 1.0))


def test_bundled_catalog_is_up_to_date():
    """data/catalog/build_catalog.py regenerates exactly the committed JSON."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_catalog", CATALOG_DIR / "build_catalog.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    built = module.build().to_dict(root=CATALOG_DIR.resolve())
    committed = json.loads((CATALOG_DIR / CATALOG_FILENAME).read_text())
    assert built == committed


def test_save_and_reopen_round_trip(tmp_path):
    cat = Catalog(tmp_path / "cat")
    prod = cat.add_product(
        id="s2", title="S2",
        bands=[
            {"name": "red", "type": "spectral", "data_type": "UInt16", "data_range": [0, 10000],
             "display_range": [0, 4000], "physical_range": [0.0, 1.0], "file": "B04", "band_index": 1, "nodata": 0},
            {"name": "nir", "type": "spectral", "data_type": "UInt16", "data_range": [0, 10000], "file": "B08",
             "wavelength": 0.842},
            {"name": "alpha", "type": "mask", "data_type": "Byte", "data_range": [0, 1], "file": "B04",
             "mask": "dataset"},
        ],
    )
    assert prod.bands["nir"].properties == {"wavelength": 0.842}
    tif = str(data_file("titiler_B01.tif"))
    cat.add_image("scene-1", {"B04": tif, "B08": tif}, "s2", acquired="2020-05-18T10:00:00Z", cloud_fraction=0.1)
    file = cat.save()
    assert file == tmp_path / "cat" / CATALOG_FILENAME
    assert not [p for p in file.parent.iterdir() if p.name.startswith(".catalog-")]  # no temp files left
    doc = json.loads(file.read_text())
    assert doc["images"][0]["files"]["B04"] == os.path.relpath(tif, tmp_path / "cat")  # stored relative
    again = Catalog.open(tmp_path / "cat")
    ref = again.resolve("scene-1")
    assert ref.image.acquired == "2020-05-18T10:00:00Z"
    assert ref.image.properties == {"cloud_fraction": 0.1}
    assert ref.path_of(ref.product.bands["nir"]) == os.path.abspath(tif)
    assert again.products["s2"].bands == cat.products["s2"].bands
    # the same through the file path, and save() elsewhere as a .json file
    assert Catalog.open(file).resolve("scene-1").id == "scene-1"
    other = again.save(tmp_path / "elsewhere" / "mine.json")
    assert Catalog.open(other).resolve("scene-1").path_of(ref.product.bands["red"]) == os.path.abspath(tif)


def test_save_is_atomic(tmp_path, monkeypatch):
    cat = Catalog(tmp_path)
    cat.add_image("a", data_file("byte.tif"))
    cat.save()
    before = (tmp_path / CATALOG_FILENAME).read_text()
    cat.add_image("b", data_file("byte.tif"))

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        cat.save()
    monkeypatch.undo()
    assert (tmp_path / CATALOG_FILENAME).read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [CATALOG_FILENAME]


def test_add_image_derives_product_from_file():
    cat = Catalog()
    im = cat.add_image("tci", data_file("titiler_TCI.tif"))
    assert im.product == "tci:product"
    ref = cat.resolve("tci")
    assert ref.product.aliases["red"] == "1" and ref.product.bands["1"].nodata == 0
    cat.add_image("tci2", [data_file("titiler_TCI.tif")], product="tci:product")
    assert cat.resolve("tci2").product is ref.product
    assert [i.id for i in cat.images(product="tci:product")] == ["tci", "tci2"]
    cat.remove_image("tci2")
    assert "tci2" not in cat
    with pytest.raises(NotFoundError):
        cat.remove_image("tci2")
    with pytest.raises(NotFoundError):
        cat.get_image("zzz")
    with pytest.raises(NotFoundError):
        cat.get_product("zzz")


@pytest.mark.parametrize(
    "doc, message",
    [
        ({"raster_core_catalog": 99}, "unsupported catalog version"),
        ({"raster_core_catalog": 1, "products": [{"id": "p", "bands": []}]}, "has no bands"),
        ({"raster_core_catalog": 1, "products": [{"id": "p", "bands": [{"name": "a", "type": "weird"}]}]},
         "type must be one of"),
        ({"raster_core_catalog": 1, "products": [{"id": "p", "bands": [{"name": "a", "data_type": "Int64"}]}]},
         "invalid band"),
        ({"raster_core_catalog": 1, "products": [{"id": "p", "bands": [{"name": "a", "data_range": [0]}]}]},
         "pair"),
        ({"raster_core_catalog": 1, "products": [{"id": "p", "bands": [{"name": "a", "band_index": 0}]}]},
         "band_index"),
        ({"raster_core_catalog": 1, "products": [{"id": "p", "bands": [{"name": "a"}, {"name": "a"}]}]},
         "duplicate band"),
        ({"raster_core_catalog": 1, "products": [{"id": "p", "bands": [{"name": "a"}]}],
          "images": [{"id": "i", "product": "p", "files": {"0": "x.tif"}, "acquired": "yesterday"}]}, "ISO 8601"),
        ({"type": "Feature", "id": "x", "assets": {}}, "no raster assets"),
        ({"type": "Banana"}, "not a STAC document"),
    ],
)
def test_malformed_catalogs(tmp_path, doc, message):
    f = tmp_path / "c.json"
    f.write_text(json.dumps(doc))
    with pytest.raises(CatalogError, match=message):
        Catalog.open(f)


def test_open_errors(tmp_path):
    with pytest.raises(NotFoundError):
        Catalog.open(tmp_path / "missing")
    with pytest.raises(CatalogError, match="no raster-core-catalog.json"):
        Catalog.open(tmp_path)
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(CatalogError, match="cannot read"):
        Catalog.open(tmp_path / "bad.json")
    with pytest.raises(CatalogError, match="no path"):
        Catalog().save()
    with pytest.raises(NotFoundError, match="product 'nope'"):
        Catalog(images=[Image(id="i", product="nope", files="x.tif")])
    with pytest.raises(CatalogError, match="unknown band"):
        Product(id="p", bands={"a": Band("a")}, aliases={"b": "c"})


# ----------------------------------------------------------------------------- STAC
def test_stac_catalog_links_items_and_bands():
    cat = Catalog.open(STAC_DIR)
    assert len(cat) == 1
    ref = cat.resolve("S2_T34S_fixture")
    p = ref.product
    assert p.id == "sentinel-2-l1c"
    assert list(p.bands) == ["B04", "B03", "B02", "coastal", "alpha"]  # the thumbnail is not a band
    assert p.aliases == {"red": "B04", "green": "B03", "blue": "B02", "B01": "coastal"}
    red = p.bands["B04"]
    assert (red.file, red.band_index, red.data_type, red.nodata, red.colorinterp) == ("visual", 1, "Byte", 0.0, "red")
    assert red.properties["center_wavelength"] == 0.665
    coastal = p.bands["coastal"]
    assert coastal.data_type == "UInt16" and coastal.data_range == (0, 10000)
    assert coastal.physical_range == (0.0, 1.0)  # raster:bands scale 0.0001 applied to data_range
    assert ref.path_of(coastal) == str(data_file("titiler_B01.tif").resolve())
    assert ref.path_of(p.bands["B02"]) == str(data_file("titiler_TCI.tif").resolve())
    assert ref.image.crs == "EPSG:32634" and ref.image.acquired == "2019-01-01T09:00:00Z"
    with rasterio.open(ref.path_of(red)) as ds:  # the STAC description agrees with the file
        assert ds.count == 3 and ds.crs.to_epsg() == 32634 and ds.nodata == red.nodata


def test_stac_item_dict_item_collection_and_proj(tmp_path):
    item = json.loads((STAC_DIR / "sentinel-2-l1c" / "S2_T34S_fixture" / "S2_T34S_fixture.json").read_text())
    item = dict(item, id="from-dict", collection=None)
    item["properties"] = dict(item["properties"], **{"proj:transform": [600.0, 0.0, 699960.0, 0.0, -600.0, 3600000.0],
                                                     "proj:shape": [183, 183]})
    cat = Catalog.from_stac({"type": "FeatureCollection", "features": [item]},
                            path=STAC_DIR / "sentinel-2-l1c" / "S2_T34S_fixture")
    ref = cat.resolve("from-dict")
    assert ref.product.id == "stac:from-dict"
    assert ref.image.geotransform == (699960.0, 600.0, 0.0, 3600000.0, 0.0, -600.0)
    assert ref.image.shape == (183, 183)
    # hrefs of an in-memory dict resolve against `base`
    cat2 = Catalog()
    cat2.add_stac(item, base=STAC_DIR / "sentinel-2-l1c" / "S2_T34S_fixture")
    assert cat2.resolve("from-dict").path_of(ref.product.bands["coastal"]) == str(
        data_file("titiler_B01.tif").resolve())
    # a STAC-loaded catalog saves to the raster_core format and reopens identically
    saved = cat2.save(tmp_path)
    again = Catalog.open(saved.parent).resolve("from-dict")
    assert again.product.bands == ref.product.bands
    assert again.path_of(again.product.bands["B04"]) == str(data_file("titiler_TCI.tif").resolve())


def test_default_catalog(monkeypatch):
    import raster_core.catalog as mod

    monkeypatch.setattr(mod, "_default", None)
    monkeypatch.setenv("RASTER_CORE_CATALOG", str(CATALOG_DIR))
    assert "landsat7-rgb:RGB.byte" in default_catalog()
    monkeypatch.setattr(mod, "_default", None)
    monkeypatch.delenv("RASTER_CORE_CATALOG")
    assert len(default_catalog()) == 0
    monkeypatch.setattr(mod, "_default", None)


def test_no_gdal_imported():
    import subprocess
    import sys

    code = ("import sys, raster_core.catalog, raster_core.bands, raster_core.scaling, raster_core.metadata, "
            "raster_core.mosaic, raster_core.api; assert 'rasterio' not in sys.modules and 'osgeo' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


# ----------------------------------------------------------------------------- property test
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_:", min_size=1, max_size=12)
_num = st.one_of(st.integers(-10**6, 10**6), st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False))
_range = st.one_of(st.none(), st.tuples(_num, _num))
_band = st.builds(
    dict,
    type=st.sampled_from(["spectral", "mask", "class", "microwave", "generic"]),
    data_type=st.sampled_from(["Byte", "UInt16", "Int16", "UInt32", "Int32", "Float32", "Float64"]),
    data_range=_range, display_range=_range, physical_range=_range,
    nodata=st.one_of(st.none(), _num, st.just(float("nan"))),
    colorinterp=st.sampled_from([None, "red", "green", "blue", "gray", "alpha", "undefined"]),
    file=st.sampled_from(["0", "B04", "x"]),
    band_index=st.integers(1, 40),
    description=st.one_of(st.none(), st.text(max_size=20)),
    properties=st.dictionaries(st.sampled_from(["tags", "wavelength", "vendor"]),
                               st.one_of(st.integers(), st.text(max_size=5), st.lists(st.text(max_size=3), max_size=3)),
                               max_size=2),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bands=st.dictionaries(_names, _band, min_size=1, max_size=5),
       image_ids=st.lists(_names, min_size=1, max_size=3, unique=True),
       acquired=st.one_of(st.none(), st.datetimes().map(lambda d: d.isoformat())))
def test_round_trip_property(tmp_path_factory, bands, image_ids, acquired):
    folder = tmp_path_factory.mktemp("cat")
    product = Product(id="p", bands={n: Band(name=n, **d) for n, d in bands.items()})
    cat = Catalog(folder, products=[product])
    for i, image_id in enumerate(image_ids):
        cat._add_image_obj(Image(id=image_id, product="p", files={"0": str(folder / f"f{i}.tif"),
                                                                  "B04": "/abs/b04.tif", "x": "s3://bucket/x.tif"},
                                 acquired=acquired))
    cat.save()
    again = Catalog.open(folder)
    got = again.get_product("p")
    assert list(got.bands) == list(product.bands)
    for name, b in product.bands.items():
        g = got.bands[name]
        if b.nodata is not None and b.nodata != b.nodata:
            assert g.nodata != g.nodata
            b = Band.from_dict({**b.to_dict(), "nodata": None})
            g = Band.from_dict({**g.to_dict(), "nodata": None})
        assert g == b
    for image_id in image_ids:
        im = again.get_image(image_id)
        assert im.files["B04"] == "/abs/b04.tif" and im.files["x"] == "s3://bucket/x.tif"
        assert im.files["0"].startswith(str(folder.resolve())) and im.acquired == acquired


# ----------------------------------------------------------------------------- URL schemes
@pytest.mark.parametrize("path, remote", [
    ("https://example.com/a.tif", True), ("HTTP://example.com/a.tif", True), ("s3://bucket/key.tif", True),
    ("/data/a.tif", False), ("data/a.tif", False), ("file:///data/a.tif", False), ("C:\\data\\a.tif", False),
    ("C:/data/a.tif", False), ("landsat:scene:1", False), ("sentinel-2:L1C", False),
])
def test_one_definition_of_remote_paths(path, remote):
    from raster_core import catalog
    from raster_core.io.sources import is_remote

    assert is_remote(path) is remote
    assert catalog._is_remote(path) is remote  # the catalog asks the reader's definition


@pytest.mark.parametrize("url", ["gs://bucket/a.tif", "az://container/a.tif", "ftp://host/a.tif"])
def test_unsupported_url_schemes_are_typed_errors_naming_the_scheme(url):
    import raster_core
    from raster_core.errors import UnsupportedFeatureError, UnsupportedSchemeError

    scheme = url.split(":", 1)[0]
    for call in (lambda: Catalog().resolve(url), lambda: file_product(url), lambda: raster_core.open(url),
                 lambda: Catalog.from_stac(url)):
        with pytest.raises(UnsupportedSchemeError, match=rf"'{scheme}'.*store=") as err:
            call()
        assert isinstance(err.value, UnsupportedFeatureError) and isinstance(err.value, RasterReadError)
        assert url in str(err.value)


def test_an_id_with_colons_is_not_a_url():
    with pytest.raises(NotFoundError, match="does not exist in the catalog"):
        Catalog().resolve("landsat:scene:1")


def test_an_unsupported_url_in_a_catalog_is_kept_and_refused_when_read(tmp_path):
    """Loading a catalog never reads its files: a gs:// asset is kept as written, and reading it names the scheme."""
    import raster_core
    from raster_core.errors import UnsupportedSchemeError

    item = {"type": "Feature", "stac_version": "1.0.0", "id": "gcs-item", "geometry": None, "bbox": None,
            "properties": {"datetime": "2020-01-01T00:00:00Z"},
            "links": [{"rel": "child", "href": "gs://bucket/child.json"}],  # a local document stays offline
            "assets": {"b1": {"href": "gs://bucket/b1.tif", "type": "image/tiff; application=geotiff",
                              "eo:bands": [{"name": "b1"}]}}}
    (tmp_path / "item.json").write_text(json.dumps(item))
    cat = Catalog.from_stac(tmp_path / "item.json")
    assert cat.get_image("gcs-item").files["b1"] == "gs://bucket/b1.tif"
    cat.save(tmp_path / "saved")
    again = Catalog.open(tmp_path / "saved")
    assert again.get_image("gcs-item").files["b1"] == "gs://bucket/b1.tif"
    with pytest.raises(UnsupportedSchemeError, match="'gs'"):
        raster_core.Raster(again).ndarray("gcs-item", bands=["b1"], resolution=1.0)
