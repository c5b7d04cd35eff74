"""Reading ``s3://`` URLs from a real S3 endpoint: moto's server on 127.0.0.1.

The test files are uploaded with boto3; the reader finds the endpoint through
``AWS_ENDPOINT_URL`` as a user would. GDAL's ``/vsis3/`` is the oracle.
"""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import raster_core
from raster_core.catalog import Catalog
from raster_core.errors import RasterReadError, RemoteAccessError, RemoteNotFoundError
from raster_core.io.sources import S3Source
from raster_core.io.tiff_header import HEADER_CACHE
from tests.conftest import data_file, shared_tifs
from tests.test_io_remote import assert_same_dataset, assert_same_pixels

pytestmark = pytest.mark.shared_data
BUCKET = "raster-core-test"


@pytest.fixture(scope="module")
def s3_endpoint():
    pytest.importorskip("moto.server")
    boto3 = pytest.importorskip("boto3")
    if not shared_tifs():
        pytest.skip("../shared/data is absent")
    from moto.server import ThreadedMotoServer

    mp = pytest.MonkeyPatch()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    for k in ("AWS_PROFILE", "AWS_NO_SIGN_REQUEST", "AWS_REQUEST_PAYER", "AWS_ENDPOINT_URL_S3"):
        mp.delenv(k, raising=False)
    mp.setenv("AWS_ENDPOINT_URL", endpoint)
    mp.setenv("AWS_ACCESS_KEY_ID", "testing")
    mp.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    mp.setenv("AWS_REGION", "us-east-1")
    mp.setenv("AWS_EC2_METADATA_DISABLED", "true")  # never ask a metadata service off this machine
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    for path in shared_tifs():
        client.upload_file(str(path), BUCKET, f"data/{path.name}")
    client.upload_file(str(data_file("byte.tif")), BUCKET, "public/byte.tif", ExtraArgs={"ACL": "public-read"})
    item = {
        "type": "Feature", "stac_version": "1.0.0", "id": "cog-item",
        "geometry": None, "bbox": None, "properties": {"datetime": "2020-01-01T00:00:00Z"},
        "links": [],
        "assets": {"visual": {"href": "../data/riotiler_cog.tif", "type": "image/tiff; application=geotiff"}},
    }
    client.put_object(Bucket=BUCKET, Key="items/cog-item.json", Body=json.dumps(item).encode())
    yield endpoint
    mp.undo()
    server.stop()


@pytest.fixture(autouse=True)
def no_cached_headers():
    HEADER_CACHE.clear()
    yield
    HEADER_CACHE.clear()


@pytest.mark.parametrize("path", shared_tifs(), ids=lambda p: p.name)
def test_every_shared_file_reads_identically_over_s3(s3_endpoint, path):
    with raster_core.open(path) as local, raster_core.open(f"s3://{BUCKET}/data/{path.name}") as remote:
        assert_same_dataset(local, remote)
        assert_same_pixels(local, remote)


@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_random_windows_over_s3(s3_endpoint, data):
    name = data.draw(st.sampled_from(["riotiler_cog.tif", "rgbn.tif", "riotiler_cog_rgb_mask.tif"]))
    with raster_core.open(data_file(name)) as local, raster_core.open(f"s3://{BUCKET}/data/{name}") as remote:
        h, w = local.shape
        c0, r0 = data.draw(st.integers(0, w - 1)), data.draw(st.integers(0, h - 1))
        win = (c0, r0, data.draw(st.integers(1, w - c0)), data.draw(st.integers(1, h - r0)))
        bands = data.draw(st.lists(st.integers(1, local.count), min_size=1, max_size=local.count, unique=True))
        np.testing.assert_array_equal(local.read(bands, window=win), remote.read(bands, window=win))
        np.testing.assert_array_equal(local.dataset_mask(window=win), remote.dataset_mask(window=win))


def test_gdal_vsis3_reads_the_same_pixels(s3_endpoint):
    rasterio = pytest.importorskip("rasterio")
    name = "riotiler_cog_int16.tif"
    hostport = s3_endpoint.split("://", 1)[1]
    with rasterio.Env(AWS_S3_ENDPOINT=hostport, AWS_HTTPS="NO", AWS_VIRTUAL_HOSTING="FALSE",
                      GDAL_DISABLE_READDIR_ON_OPEN="EMPTY_DIR"), \
            rasterio.open(f"/vsis3/{BUCKET}/data/{name}") as g, \
            raster_core.open(f"s3://{BUCKET}/data/{name}") as d:
        np.testing.assert_array_equal(d.read(), g.read())
        np.testing.assert_array_equal(d.read(1, overview_level=1), g.read(1, out_shape=d.overview_shape(1)))
        assert d.crs == g.crs


def test_missing_key_and_bucket_are_not_found_errors(s3_endpoint):
    with pytest.raises(RemoteNotFoundError, match="s3://raster-core-test/data/nope.tif"):
        raster_core.open(f"s3://{BUCKET}/data/nope.tif")
    with pytest.raises(RemoteNotFoundError, match="s3://no-such-bucket/x.tif"):
        raster_core.open("s3://no-such-bucket/x.tif")


def test_signing_anonymous_and_requester_pays_headers(s3_endpoint, monkeypatch):
    signed = S3Source(f"s3://{BUCKET}/data/byte.tif")._headers(0, 10)
    assert signed["Range"] == "bytes=0-9"
    assert signed["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=testing/")
    monkeypatch.setenv("AWS_NO_SIGN_REQUEST", "YES")
    monkeypatch.setenv("AWS_REQUEST_PAYER", "requester")
    src = S3Source(f"s3://{BUCKET}/public/byte.tif")
    anonymous = src._headers(0, 10)
    assert "Authorization" not in anonymous and anonymous["x-amz-request-payer"] == "requester"
    with raster_core.open(f"s3://{BUCKET}/public/byte.tif") as remote, raster_core.open(data_file("byte.tif")) as local:
        np.testing.assert_array_equal(remote.read(), local.read())  # a public object, no credentials sent
    with pytest.raises(RemoteAccessError, match=r"s3://raster-core-test/data/byte\.tif.*403.*AWS_NO_SIGN_REQUEST"):
        raster_core.open(f"s3://{BUCKET}/data/byte.tif")  # a private object, anonymously


def test_profile_from_the_shared_config_files(s3_endpoint, monkeypatch, tmp_path):
    (tmp_path / "credentials").write_text("[reader]\naws_access_key_id = PROFILEKEY\naws_secret_access_key = s\n")
    (tmp_path / "config").write_text("[profile reader]\nregion = eu-west-3\n")
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_PROFILE", "reader")
    src = S3Source(f"s3://{BUCKET}/data/byte.tif")
    assert src.region == "eu-west-3"
    assert "Credential=PROFILEKEY/" in src._headers(0, 10)["Authorization"]
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    src = S3Source("s3://my-bucket/a b.tif")
    assert src.url == "https://my-bucket.s3.eu-west-3.amazonaws.com/a%20b.tif"
    # a bucket in another region answers with its region: the next request is signed for it, sent there
    assert src._follow({"x-amz-bucket-region": "us-west-2"}) and src.region == "us-west-2"
    assert src.url == "https://my-bucket.s3.us-west-2.amazonaws.com/a%20b.tif"
    assert "/us-west-2/s3/aws4_request" in src._headers(0, 1)["Authorization"]
    assert not src._follow({"x-amz-bucket-region": "us-west-2"})


def test_raster_api_and_stac_item_on_s3(s3_endpoint):
    url = f"s3://{BUCKET}/data/riotiler_cog.tif"
    kw = {"bands": ["1"], "resolution": 2000.0, "srs": "EPSG:3857", "order": "gdal"}
    arr, meta = raster_core.Raster().ndarray(url, **kw)
    ref, _ = raster_core.Raster().ndarray(str(data_file("riotiler_cog.tif")), **kw)
    np.testing.assert_array_equal(arr, ref)
    cat = Catalog.from_stac(f"s3://{BUCKET}/items/cog-item.json")
    assert cat.get_image("cog-item").files["visual"] == url
    arr2, _ = raster_core.Raster(cat).ndarray("cog-item", bands=["visual"], resolution=2000.0, srs="EPSG:3857",
                                               order="gdal")
    np.testing.assert_array_equal(arr2, ref)


def test_empty_object_is_a_typed_error_at_once(s3_endpoint):
    import boto3

    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    client.put_object(Bucket=BUCKET, Key="data/empty.tif", Body=b"")
    t0 = time.monotonic()
    with pytest.raises(RasterReadError, match=r"s3://raster-core-test/data/empty\.tif.*empty object \(0 bytes\)"):
        raster_core.open(f"s3://{BUCKET}/data/empty.tif")
    assert time.monotonic() - t0 < 1.0  # no retries of a "short body"
