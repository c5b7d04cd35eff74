"""Reading over HTTP(S): parity with local reads, request budgets, faults, concurrency.

Everything runs against :class:`tests._http_server.RangeServer` on 127.0.0.1, and against
GDAL's ``/vsicurl/`` (rasterio) as the oracle.
"""

from __future__ import annotations

import dataclasses
import math
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import raster_core
from raster_core.errors import RasterReadError, RemoteAccessError, RemoteNotFoundError
from raster_core.io import sources
from raster_core.io.tiff_header import HEADER_CACHE
from tests._http_server import RangeServer
from tests.conftest import SHARED_DATA, data_file, shared_tifs

pytestmark = pytest.mark.shared_data


@pytest.fixture(scope="module")
def server():
    if not shared_tifs():
        pytest.skip("../shared/data is absent")
    with RangeServer(SHARED_DATA) as srv:
        yield srv


@pytest.fixture(autouse=True)
def fresh(server):
    """Every test starts with no cached header, no faults, zeroed counters, default tunables."""
    old = sources.remote_options()
    HEADER_CACHE.clear()
    server.reset()
    yield
    sources.configure(**dataclasses.asdict(old))
    server.reset()
    HEADER_CACHE.clear()


def _same(a, b) -> bool:
    return a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))


def assert_same_dataset(local, remote) -> None:
    for key, value in local.profile.items():
        assert _same(value, remote.profile[key]), key
    for attr in ("colorinterp", "descriptions", "mask_flags", "scales", "offsets", "block_shapes",
                 "geotransform", "overview_count", "photometric"):
        assert getattr(local, attr) == getattr(remote, attr), attr
    assert local.gcps[0] == remote.gcps[0]
    assert local.overviews(1) == remote.overviews(1)
    if local.colorinterp[0] == "palette":
        assert local.colormap(1) == remote.colormap(1)


def assert_same_pixels(local, remote) -> None:
    np.testing.assert_array_equal(local.read(), remote.read())
    np.testing.assert_array_equal(local.dataset_mask(), remote.dataset_mask())
    for level in range(local.overview_count):
        np.testing.assert_array_equal(local.read(overview_level=level), remote.read(overview_level=level))
        np.testing.assert_array_equal(local.dataset_mask(overview_level=level),
                                      remote.dataset_mask(overview_level=level))


# ---------------------------------------------------------------------- acceptance 1: parity
@pytest.mark.parametrize("path", shared_tifs(), ids=lambda p: p.name)
def test_every_shared_file_reads_identically_over_http(server, path):
    with raster_core.open(path) as local, raster_core.open(server.url(path.name)) as remote:
        assert remote.name == server.url(path.name)
        assert_same_dataset(local, remote)
        assert_same_pixels(local, remote)


_WINDOW_FILES = ["riotiler_cog.tif", "rgbn.tif", "RGB.byte.tif", "titiler_TCI.tif", "riotiler_cog_rgba.tif"]


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_random_windows_and_band_subsets_match_local(server, data):
    name = data.draw(st.sampled_from(_WINDOW_FILES))
    path = data_file(name)
    server.faults.ignore_range = data.draw(st.booleans())  # ranges cut from the kept whole object too
    with raster_core.open(path) as local, raster_core.open(server.url(name)) as remote:
        level = data.draw(st.sampled_from([None, *range(local.overview_count)]))
        h, w = local.shape if level is None else local.overview_shape(level)
        c0 = data.draw(st.integers(0, w - 1))
        r0 = data.draw(st.integers(0, h - 1))
        win = (c0, r0, data.draw(st.integers(1, w - c0)), data.draw(st.integers(1, h - r0)))
        bands = data.draw(st.lists(st.integers(1, local.count), min_size=1, max_size=local.count, unique=True))
        np.testing.assert_array_equal(local.read(bands, window=win, overview_level=level),
                                      remote.read(bands, window=win, overview_level=level))
        np.testing.assert_array_equal(local.dataset_mask(window=win, overview_level=level),
                                      remote.dataset_mask(window=win, overview_level=level))


@pytest.mark.parametrize("name", ["riotiler_cog.tif", "rgbn.tif", "titiler_dem.tif", "world.rgb.tif"])
def test_gdal_vsicurl_reads_the_same_pixels(server, name):
    rasterio = pytest.importorskip("rasterio")
    url = server.url(name)
    with rasterio.Env(GDAL_DISABLE_READDIR_ON_OPEN="EMPTY_DIR"), rasterio.open(f"/vsicurl/{url}") as g, \
            raster_core.open(url) as d:
        np.testing.assert_array_equal(d.read(), g.read())
        np.testing.assert_array_equal(d.dataset_mask(), g.dataset_mask())
        assert d.crs == g.crs
        assert d.transform.almost_equals(g.transform)
        assert d.overviews(1) == g.overviews(1)
        for level in range(d.overview_count):
            np.testing.assert_array_equal(
                d.read(1, overview_level=level),
                g.read(1, out_shape=d.overview_shape(level)))


# ---------------------------------------------------------------------- acceptance 2: budgets
def test_open_and_metadata_is_one_request_and_reopen_is_none(server):
    url = server.url("riotiler_cog.tif")
    with raster_core.open(url) as ds:
        _ = (ds.profile, ds.crs, ds.transform, ds.overviews(1), ds.mask_flags, ds.colorinterp, ds.bounds)
    assert server.stats.requests == 1
    assert server.stats.bytes <= sources.remote_options().header_bytes
    with raster_core.open(url) as ds:
        assert ds.shape == (2667, 2658)
    assert server.stats.requests == 1


def test_header_larger_than_the_first_request_grows_by_doubling(server):
    sources.configure(header_bytes=1024)
    url = server.url("titiler_above_cog.tif")  # 31 bands x 6 levels of tile tables: far over 1 KiB
    with raster_core.open(url) as remote, raster_core.open(data_file("titiler_above_cog.tif")) as local:
        assert_same_dataset(local, remote)
    ranges = [(s, e) for _, s, e in server.stats.ranges]
    assert ranges[0] == (0, 1024)
    prefix = 1024
    for s, e in ranges[1:]:  # each request continues the prefix and at least doubles it
        assert s == prefix and e - s >= prefix
        prefix = e
    assert len(ranges) <= 1 + math.ceil(math.log2(prefix / 1024))


def test_window_of_a_512_tiled_cog_takes_at_most_4_requests(server):
    url = server.url("riotiler_cog_int16.tif")
    with raster_core.open(url) as ds, raster_core.open(data_file("riotiler_cog_int16.tif")) as local:
        assert ds.block_shapes[0] == (512, 512)
        for win in [(0, 0, 512, 512), (700, 900, 512, 512), (2658 - 512, 2667 - 512, 512, 512)]:
            server.stats.reset()
            np.testing.assert_array_equal(ds.read(window=win), local.read(window=win))
            assert 1 <= server.stats.requests <= 4


@pytest.mark.parametrize("cap", [64 * 1024, 1 << 20])
def test_full_read_requests_bounded_by_bytes_over_cap(server, cap):
    sources.configure(max_request_bytes=cap, merge_gap=1 << 20)
    name = "riotiler_mosaic_cog1.tif"
    with raster_core.open(server.url(name)) as ds, raster_core.open(data_file(name)) as local:
        server.stats.reset()
        np.testing.assert_array_equal(ds.read(), local.read())
        lv = ds._main
        data_bytes = sum(c for o, c in zip(lv.offsets, lv.bytecounts, strict=True) if c)
        span = max(o + c for o, c in zip(lv.offsets, lv.bytecounts, strict=True)) - min(lv.offsets)
        assert server.stats.requests <= math.ceil(span / cap) + 1
        assert server.stats.bytes >= data_bytes


def test_overview_read_touches_only_that_overviews_bytes(server):
    name = "riotiler_cog.tif"
    with raster_core.open(server.url(name)) as ds:
        full = [(o, o + c) for o, c in zip(ds._main.offsets, ds._main.bytecounts, strict=True) if c]
        for level in range(ds.overview_count):
            server.stats.reset()
            ds.read(overview_level=level)
            lv = ds._overviews[level]
            lo = min(lv.offsets)
            hi = max(o + c for o, c in zip(lv.offsets, lv.bytecounts, strict=True))
            for _, s, e in server.stats.ranges:
                assert lo <= s and e <= hi
                assert not any(s < fe and fs < e for fs, fe in full)


def test_ndarray_at_16x_coarser_resolution_fetches_under_20_percent(server):
    name = "riotiler_cog.tif"
    local = data_file(name)
    with raster_core.open(local) as ds:
        res = ds.res[0] * 16
        size = local.stat().st_size
    url = server.url(name)
    raster_core.open(url).close()  # the header request is not what this budget is about
    server.stats.reset()
    arr, meta = raster_core.Raster().ndarray(url, bands=["1"], resolution=res, order="gdal")
    assert server.stats.bytes < 0.2 * size
    ref, _ = raster_core.Raster().ndarray(str(local), bands=["1"], resolution=res, order="gdal")
    np.testing.assert_array_equal(arr, ref)


# ---------------------------------------------------------------------- acceptance 3: faults
def test_503_on_every_third_request_still_gives_identical_pixels(server):
    sources.configure(retry_backoff=0.01, max_request_bytes=64 * 1024)
    server.faults.fail_every = 3
    name = "riotiler_mosaic_cog2.tif"
    with raster_core.open(server.url(name)) as remote, raster_core.open(data_file(name)) as local:
        assert_same_pixels(local, remote)
    assert server.stats.requests > 6


def test_truncated_bodies_raise_a_read_error_naming_url_and_range(server):
    sources.configure(retry_backoff=0.01, max_retries=2, read_timeout=2)
    url = server.url("riotiler_cog.tif")
    ds = raster_core.open(url)
    server.faults.truncate_every = 1
    t0 = time.monotonic()
    with pytest.raises(RasterReadError, match=r"riotiler_cog\.tif.*bytes \d+-\d+") as err:
        ds.read(window=(0, 0, 256, 256))
    assert time.monotonic() - t0 < 5
    assert "3 attempts" in str(err.value)
    ds.close()


def test_stalled_server_raises_within_the_timeout(server):
    sources.configure(read_timeout=0.3, connect_timeout=0.3, max_retries=1, retry_backoff=0.01)
    url = server.url("byte.tif")
    server.faults.stall = True
    t0 = time.monotonic()
    with pytest.raises(RasterReadError, match=r"byte\.tif.*bytes 0-"):
        raster_core.open(url)
    assert time.monotonic() - t0 < 2.5


def test_403_and_404_are_typed_errors_naming_the_url(server):
    server.faults.status["private.tif"] = 403
    with pytest.raises(RemoteAccessError, match=r"private\.tif.*403") as err:
        raster_core.open(server.url("private.tif"))
    assert isinstance(err.value, PermissionError) and isinstance(err.value, RasterReadError)
    with pytest.raises(RemoteNotFoundError, match=r"missing\.tif.*404") as err:
        raster_core.open(server.url("missing.tif"))
    assert isinstance(err.value, FileNotFoundError)
    assert server.stats.requests == 2  # no retry of a definite answer


def test_server_ignoring_range_still_reads_right(server):
    server.faults.ignore_range = True
    with raster_core.open(server.url("storml_elev.tif")) as remote, \
            raster_core.open(data_file("storml_elev.tif")) as local:
        assert_same_pixels(local, remote)


def test_eight_threads_reading_one_remote_dataset_agree(server):
    name = "riotiler_cog.tif"
    with raster_core.open(data_file(name)) as local:
        wins = [(c, r, 300, 300) for c in range(0, 2300, 450) for r in range(0, 2300, 900)]
        expected = [local.read(1, window=w) for w in wins]
    with raster_core.open(server.url(name)) as ds, ThreadPoolExecutor(8) as pool:
        got = list(pool.map(lambda w: ds.read(1, window=w), wins * 2))
    for a, b in zip(expected * 2, got, strict=True):
        np.testing.assert_array_equal(a, b)


def test_object_replaced_on_the_server_is_detected_at_the_next_read(server, tmp_path):
    shutil.copy(data_file("rgbn.tif"), tmp_path / "x.tif")  # pixels beyond the kept 64 KiB prefix
    with RangeServer(tmp_path) as srv:
        url = srv.url("x.tif")
        raster_core.open(url).close()
        cached = raster_core.open(url)  # from the header cache: no request
        time.sleep(0.01)
        shutil.copy(data_file("storml_tcc.tif"), tmp_path / "x.tif")
        with pytest.raises(RasterReadError, match="changed"):
            cached.read()
        with raster_core.open(url) as fresh, raster_core.open(data_file("storml_tcc.tif")) as local:
            np.testing.assert_array_equal(fresh.read(), local.read())


def test_pickled_remote_dataset_reopens_by_url(server):
    import pickle

    with raster_core.open(server.url("rgbn.tif")) as ds:
        clone = pickle.loads(pickle.dumps(ds))
        np.testing.assert_array_equal(clone.read(window=(10, 10, 50, 40)), ds.read(window=(10, 10, 50, 40)))
        clone.close()


def test_store_objects_fsspec_and_obstore(server):
    fsspec = pytest.importorskip("fsspec")
    name = "rgbn_suba.tif"
    fs = fsspec.filesystem("memory")
    fs.pipe(f"/bucket/{name}", data_file(name).read_bytes())
    with raster_core.open(f"/bucket/{name}", store=fs) as remote, raster_core.open(data_file(name)) as local:
        assert_same_dataset(local, remote)
        assert_same_pixels(local, remote)
    obstore = pytest.importorskip("obstore")
    from obstore.store import LocalStore

    store = LocalStore(str(SHARED_DATA))
    with raster_core.open(name, store=store) as remote, raster_core.open(data_file(name)) as local:
        assert_same_pixels(local, remote)
    with pytest.raises(RemoteNotFoundError):
        raster_core.open("missing.tif", store=store)
    del obstore


# ---------------------------------------------------------------------- review mends
def test_server_ignoring_range_sends_the_object_once_per_open(server):
    """A 200 to a ranged GET is the whole object: it is kept and every later range is cut from it."""
    server.faults.ignore_range = True
    name = "riotiler_cog.tif"  # tiled, with overviews and several requests per full read
    size = data_file(name).stat().st_size
    sources.configure(max_request_bytes=64 * 1024, merge_gap=0)  # many requests per read if ranges were honoured
    with raster_core.open(server.url(name)) as remote, raster_core.open(data_file(name)) as local:
        assert_same_pixels(local, remote)
        np.testing.assert_array_equal(remote.read(1, window=(100, 200, 300, 50)),
                                      local.read(1, window=(100, 200, 300, 50)))
    assert server.stats.requests == 1
    assert server.stats.bytes == size
    # a second open (header cached) reading with concurrent requests still downloads it once
    server.stats.reset()
    with raster_core.open(server.url(name)) as remote, raster_core.open(data_file(name)) as local:
        np.testing.assert_array_equal(remote.read(), local.read())
        np.testing.assert_array_equal(remote.read(overview_level=0), local.read(overview_level=0))
    assert server.stats.requests == 1
    assert server.stats.bytes == size


def test_server_ignoring_range_for_an_object_over_the_byte_limit_is_refused(server, monkeypatch):
    server.faults.ignore_range = True
    name = "riotiler_cog.tif"
    monkeypatch.setenv("RASTER_CORE_MAX_BYTES", str(100_000))  # the object is 799760 bytes
    with pytest.raises(RasterReadError, match=r"riotiler_cog\.tif.*ignores Range.*RASTER_CORE_MAX_BYTES"):
        raster_core.open(server.url(name))
    assert server.stats.requests == 1  # refused at once, not retried


@pytest.mark.parametrize("ignore_range", [False, True])
def test_empty_object_is_a_typed_error_at_once(tmp_path, ignore_range):
    (tmp_path / "empty.tif").write_bytes(b"")
    with RangeServer(tmp_path) as srv:
        srv.faults.ignore_range = ignore_range
        url = srv.url("empty.tif")
        t0 = time.monotonic()
        with pytest.raises(RasterReadError, match=r"empty\.tif.*empty object \(0 bytes\)"):
            raster_core.open(url)
        assert time.monotonic() - t0 < 1.0
        assert srv.stats.requests == 1  # not retried as a short body
        with pytest.raises(RasterReadError, match=r"empty\.tif.*empty object"):
            sources.read_object(url)


def test_growing_the_network_pool_retires_the_old_threads():
    def net_threads() -> int:
        return sum(t.name.startswith("raster_core_net") for t in threading.enumerate())

    base = max(sources._net_pool_size, 1)
    sizes = [base + k for k in range(1, 6)]
    gate = threading.Event()
    old = sources._net_executor(sizes[0])
    in_flight = old.submit(lambda: gate.wait(5) and "done")  # work running when the pool is replaced
    for n in sizes:
        pool = sources._net_executor(n)
        list(pool.map(lambda _: time.sleep(0.02), range(n)))  # start all n threads
    assert pool is not old
    gate.set()
    assert in_flight.result(timeout=5) == "done"  # work of a retired pool finishes
    deadline = time.monotonic() + 5
    while net_threads() > sizes[-1] and time.monotonic() < deadline:
        time.sleep(0.02)
    assert net_threads() <= sizes[-1]  # were sum(sizes) threads before the pools were shut down


def test_header_cache_is_bounded_by_bytes():
    from raster_core.io.tiff_header import HeaderCache

    cache = HeaderCache(max_entries=256, max_bytes=1000)
    for k in range(5):
        cache.put(f"u{k}", 10, None, {"k": k}, nbytes=300)
    assert cache.nbytes <= 1000 and len(cache) == 3
    assert cache.get("u0") is None and cache.get("u4") is not None
    cache.put("huge", 10, None, {}, nbytes=5000)  # larger than the whole cache: not kept
    assert cache.get("huge") is None and cache.nbytes <= 1000
    cache.put("u4", 10, None, {"k": 4}, nbytes=100)  # a replaced entry's bytes are not counted twice
    assert cache.nbytes == 700
    cache.clear()
    assert cache.nbytes == 0 and len(cache) == 0


def test_header_cache_byte_budget_from_the_environment(server, monkeypatch):
    names = ["riotiler_cog.tif", "rgbn.tif", "riotiler_mosaic_cog1.tif", "titiler_dem.tif"]
    sizes = {}
    for name in names:  # measure each header's size with the default budget
        HEADER_CACHE.clear()
        raster_core.open(server.url(name)).close()
        sizes[name] = HEADER_CACHE.nbytes
        assert sizes[name] > 0
    budget = sizes[names[-1]] + sizes[names[-2]]
    monkeypatch.setenv("RASTER_CORE_HEADER_CACHE_BYTES", str(budget))
    HEADER_CACHE.clear()
    for name in names:
        raster_core.open(server.url(name)).close()
        assert HEADER_CACHE.nbytes <= budget
    server.stats.reset()
    raster_core.open(server.url(names[-1])).close()  # the most recent headers stay
    assert server.stats.requests == 0
    raster_core.open(server.url(names[0])).close()  # the oldest was dropped for the budget
    assert server.stats.requests == 1


def test_a_206_without_content_range_is_refused_at_once(server):
    server.faults.omit_content_range = True  # the bytes sent cannot be told from other bytes
    with pytest.raises(RasterReadError, match=r"rgbn\.tif.*bytes 0-65535.*206 without a Content-Range"):
        raster_core.open(server.url("rgbn.tif"))
    assert server.stats.requests == 1


def test_a_server_that_honours_range_again_is_read_by_ranges(server):
    name = "riotiler_cog.tif"
    url = server.url(name)
    server.faults.ignore_range = True
    raster_core.open(url).close()  # remembered: this URL answered with the whole object
    server.reset()
    with raster_core.open(url) as remote, raster_core.open(data_file(name)) as local:
        assert server.stats.requests == 0  # header from the cache
        win = (0, 0, 256, 256)
        np.testing.assert_array_equal(remote.read(window=win), local.read(window=win))
        assert server.stats.requests == 1  # the first range alone, kept: not asked twice
        np.testing.assert_array_equal(remote.read(overview_level=0), local.read(overview_level=0))
    assert server.stats.bytes < 0.5 * data_file(name).stat().st_size  # ranges, not the whole object
    HEADER_CACHE.clear()
    server.stats.reset()
    raster_core.open(url).close()
    assert server.stats.requests == 1  # the first request of an open is not repeated either


@pytest.mark.parametrize("variable", ["RASTER_CORE_HEADER_CACHE_BYTES", "RASTER_CORE_MAX_BYTES",
                                      "RASTER_CORE_MERGE_GAP"])
def test_a_bad_setting_is_named_not_taken_for_a_bad_file(server, monkeypatch, variable):
    monkeypatch.setenv(variable, "lots")
    monkeypatch.setattr(sources, "_options", None)  # the remote options are read from the environment again
    with pytest.raises(raster_core.InvalidParameterError, match=variable) as err:
        raster_core.open(server.url("byte.tif"))
    assert not isinstance(err.value, RasterReadError)
    assert server.stats.requests == 0
