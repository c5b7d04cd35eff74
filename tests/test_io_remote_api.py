"""A URL is an image id everywhere a path is: Raster API, CLI, catalog images, STAC by URL."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

import raster_core
from raster_core.catalog import Catalog
from raster_core.cli import main
from raster_core.io.tiff_header import HEADER_CACHE
from tests._http_server import RangeServer
from tests.conftest import data_file

pytestmark = pytest.mark.shared_data

NAMES = ["riotiler_mosaic_cog1.tif", "riotiler_mosaic_cog2.tif", "rgbn_suba.tif"]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A folder of COGs and STAC documents (item, collection with relative links), served over HTTP."""
    root = tmp_path_factory.mktemp("site")
    (root / "cogs").mkdir()
    for name in NAMES:
        shutil.copy(data_file(name), root / "cogs" / name)
    (root / "stac" / "items").mkdir(parents=True)
    item_ids = []
    for k, name in enumerate(NAMES[:2]):
        item = {
            "type": "Feature", "stac_version": "1.0.0", "id": f"mosaic-{k + 1}", "collection": "mosaic",
            "geometry": None, "bbox": None, "properties": {"datetime": f"2020-01-0{k + 1}T00:00:00Z"},
            "links": [{"rel": "collection", "href": "../collection.json"}],
            "assets": {"data": {"href": f"../../cogs/{name}", "type": "image/tiff; application=geotiff"}},
        }
        (root / "stac" / "items" / f"mosaic-{k + 1}.json").write_text(json.dumps(item))
        item_ids.append(item["id"])
    collection = {
        "type": "Collection", "stac_version": "1.0.0", "id": "mosaic", "description": "two COGs",
        "license": "proprietary", "extent": {}, "links": [
            {"rel": "item", "href": f"items/{i}.json"} for i in item_ids]}
    (root / "stac" / "collection.json").write_text(json.dumps(collection))
    with RangeServer(root) as srv:
        yield srv


@pytest.fixture(autouse=True)
def no_cached_headers():
    HEADER_CACHE.clear()
    yield
    HEADER_CACHE.clear()


def test_top_level_open_of_a_url(site):
    with raster_core.open(site.url("cogs/rgbn_suba.tif")) as ds, raster_core.open(data_file("rgbn_suba.tif")) as lo:
        np.testing.assert_array_equal(ds.read(), lo.read())


def test_raster_ndarray_stack_and_raster_take_urls(site, tmp_path, monkeypatch):
    urls = [site.url(f"cogs/{n}") for n in NAMES[:2]]
    paths = [str(data_file(n)) for n in NAMES[:2]]
    kw = {"bands": ["1", "2", "3"], "resolution": 0.001, "srs": "EPSG:4326", "order": "gdal"}
    r = raster_core.Raster()
    arr, meta = r.ndarray(urls, **kw)
    ref, _ = r.ndarray(paths, **kw)
    np.testing.assert_array_equal(arr, ref)
    x0, dx, _, y0, _, dy = meta["geoTransform"]
    w, h = meta["size"]
    bounds = (x0, y0 + dy * h, x0 + dx * w, y0)
    st_arr, _ = r.stack(urls, bounds=bounds, **kw)
    st_ref, _ = r.stack(paths, bounds=bounds, **kw)
    np.testing.assert_array_equal(st_arr, st_ref)
    monkeypatch.chdir(tmp_path)
    name, _ = r.raster(urls[0], bands=["1"], resolution=0.001, srs="EPSG:4326")
    out = tmp_path / "riotiler_mosaic_cog1-1.tif"  # named after the URL's file, in the current folder
    assert out.exists() and name.endswith("riotiler_mosaic_cog1-1.tif")
    with raster_core.open(out) as written:
        one, _ = r.ndarray(paths[0], bands=["1"], resolution=0.001, srs="EPSG:4326", order="gdal")
        valid = ~np.ma.getmaskarray(one)[0]
        np.testing.assert_array_equal(written.read(1)[valid], np.ma.getdata(one)[0][valid])


def test_cli_info_and_raster_with_a_url(site, tmp_path, capsys):
    url = site.url("cogs/rgbn_suba.tif")
    assert main(["info", url]) == 0
    assert "276" in capsys.readouterr().out
    out = tmp_path / "cli.tif"
    assert main(["raster", url, "--bands", "1", "2", "--outfile-basename", str(tmp_path / "cli")]) == 0
    with raster_core.open(out) as written, raster_core.open(data_file("rgbn_suba.tif")) as lo:
        np.testing.assert_array_equal(written.read(), lo.read([1, 2]))


def test_catalog_image_with_url_files(site):
    cat = Catalog()
    cat.add_image("scene", files=site.url("cogs/rgbn_suba.tif"), product="rgbn")
    arr, _ = raster_core.Raster(cat).ndarray("scene", bands=["1"], order="gdal")
    with raster_core.open(data_file("rgbn_suba.tif")) as lo:
        np.testing.assert_array_equal(arr[0], lo.read(1))


def test_stac_item_and_collection_by_url_with_relative_hrefs(site):
    cat = Catalog.from_stac(site.url("stac/items/mosaic-1.json"))
    assert cat.get_image("mosaic-1").files["data"] == site.url("cogs/riotiler_mosaic_cog1.tif")
    cat = Catalog()
    assert sorted(cat.add_stac(site.url("stac/collection.json"))) == ["mosaic-1", "mosaic-2"]
    arr, _ = raster_core.Raster(cat).ndarray(["mosaic-1", "mosaic-2"], bands=["data"], resolution=0.001,
                                             srs="EPSG:4326", order="gdal")
    ref, _ = raster_core.Raster().ndarray([str(data_file(n)) for n in NAMES[:2]], bands=["1"], resolution=0.001,
                                          srs="EPSG:4326", order="gdal")
    np.testing.assert_array_equal(arr, ref)


def test_local_stac_document_never_follows_remote_links(site, tmp_path):
    doc = {"type": "Collection", "stac_version": "1.0.0", "id": "c", "description": "", "license": "x",
           "extent": {}, "links": [{"rel": "item", "href": site.url("stac/items/mosaic-1.json")}]}
    (tmp_path / "collection.json").write_text(json.dumps(doc))
    site.stats.reset()
    assert Catalog().add_stac(tmp_path / "collection.json") == []
    assert site.stats.requests == 0


def test_readme_cloud_examples_run_against_a_local_server():
    """The ```python blocks of README's "Reading from the cloud", with ``base`` a local server URL."""
    import doctest
    import re
    import warnings

    from tests.conftest import DATA, ROOT

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = re.search(r"^## Reading from the cloud\n(.*?)(?=^## |\Z)", text, flags=re.S | re.M)
    assert section, "README.md has no '## Reading from the cloud' section"
    blocks = re.findall(r"^```python\n(.*?)^```", section.group(1), flags=re.S | re.M)
    assert blocks
    with RangeServer(DATA) as srv:
        globs = {"__name__": "readme_cloud", "base": f"http://127.0.0.1:{srv.port}"}
        test = doctest.DocTestParser().get_doctest("\n".join(blocks), globs, "README cloud", "README.md", 0)
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        failures: list[str] = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            runner.run(test, out=failures.append)
        assert runner.failures == 0, "".join(failures)
        assert srv.stats.requests >= 2
