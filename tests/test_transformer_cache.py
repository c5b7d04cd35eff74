"""The transformer factory's cache: one transformer per CRS pair when PROJ has one operation for
it (whatever the area of interest inside its area of use), the same numbers as PROJ's own
transformer for that area, and the most recently used transformers kept."""

from __future__ import annotations

import pickle

import numpy as np
import pyproj
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj.enums import TransformDirection
from pyproj.transformer import AreaOfInterest

from raster_core.geo import transformers
from raster_core.geo.transformers import pyproj_transformer

#: pairs PROJ has a single operation for (a projection and its own geographic CRS)
ONE_OPERATION = [("EPSG:32632", "EPSG:4326"), ("EPSG:4326", "EPSG:32633"), ("EPSG:4326", "EPSG:3857")]


@settings(max_examples=40, deadline=None)
@given(pair=st.sampled_from(ONE_OPERATION), west=st.floats(-170, 160), south=st.floats(-80, 70),
       width=st.floats(1e-3, 10), height=st.floats(1e-3, 10), seed=st.integers(0, 2**31))
def test_one_operation_pairs_share_a_transformer_that_equals_projs(pair, west, south, width, height, seed):
    aoi = (west, south, west + width, south + height)
    ours = pyproj_transformer(*pair, aoi)
    assert ours is pyproj_transformer(*pair, None)  # shared with every other area of interest
    theirs = pyproj.Transformer.from_crs(pyproj.CRS(pair[0]), pyproj.CRS(pair[1]), always_xy=True,
                                         area_of_interest=AreaOfInterest(*aoi))
    rng = np.random.default_rng(seed)
    lon = rng.uniform(aoi[0], aoi[2], 50)
    lat = rng.uniform(aoi[1], aoi[3], 50)
    src_crs = pyproj.CRS(pair[0])
    if src_crs.is_geographic:
        x, y = lon, lat
    else:
        x, y = pyproj.Transformer.from_crs("EPSG:4326", src_crs, always_xy=True).transform(lon, lat)
    fx, fy = ours.transform(x, y)
    np.testing.assert_array_equal(fx, theirs.transform(x, y)[0])
    np.testing.assert_array_equal(fy, theirs.transform(x, y)[1])
    bx, by = ours.transform(fx, fy, direction=TransformDirection.INVERSE)
    ix, iy = theirs.transform(fx, fy, direction=TransformDirection.INVERSE)
    np.testing.assert_array_equal(bx, ix)
    np.testing.assert_array_equal(by, iy)
    assert pickle.loads(pickle.dumps(ours)) is ours


def test_pairs_with_several_operations_get_one_transformer_per_area():
    # ETRS89-LAEA -> WGS 84: PROJ has several operations, so the area decides
    a = pyproj_transformer("EPSG:3035", "EPSG:4326", (5.0, 45.0, 5.3, 45.3))
    b = pyproj_transformer("EPSG:3035", "EPSG:4326", (6.0, 46.0, 6.3, 46.3))
    assert a is not b
    assert a is pyproj_transformer("EPSG:3035", "EPSG:4326", (5.0, 45.0, 5.3, 45.3))


def test_cache_keeps_the_most_recently_used():
    first = (7.0, 48.0, 7.1, 48.1)
    pyproj_transformer("EPSG:32632", "EPSG:4326", first)
    key = (transformers._wkt("EPSG:32632"), transformers._wkt("EPSG:4326"), first)
    for i in range(transformers._TRANSFORMERS_MAX + 100):  # first-in-first-out would drop it
        pyproj_transformer("EPSG:32632", "EPSG:4326", (7.0, 48.0 + 1e-4 * (i + 1), 7.1, 48.1))
        if i % 50 == 0:
            pyproj_transformer("EPSG:32632", "EPSG:4326", first)  # used again: kept
    assert key in transformers._CACHE
    assert len(transformers._CACHE) <= transformers._TRANSFORMERS_MAX


@pytest.mark.parametrize(("src", "dst", "aoi"), [
    ("EPSG:3035", "EPSG:4326", (5.0, 45.0, 5.3, 45.3)),  # one operation within the area
    ("EPSG:27700", "EPSG:4326", (-2.0, 52.0, -1.5, 52.5)),  # several: chosen per point
    ("EPSG:4267", "EPSG:4326", (-100.0, 40.0, -99.0, 41.0)),
    ("EPSG:2056", "EPSG:3035", (7.0, 46.5, 7.3, 46.8)),
    ("EPSG:32633", "EPSG:3857", None),
])
def test_candidates_are_looked_up_only_for_projs_transformers_with_alternatives(src, dst, aoi):
    # the factory skips the candidates' search when PROJ made one operation; the search itself
    # finds a single candidate for exactly those (or none needed)
    s, d = pyproj.CRS(src), pyproj.CRS(dst)
    proj = pyproj.Transformer.from_crs(s, d, always_xy=True, area_of_interest=AreaOfInterest(*aoi) if aoi else None)
    found = transformers._Candidates.build(s, d, aoi)
    assert transformers._one_operation(proj) == (found is None)
    assert pyproj_transformer(src, dst, aoi).candidate_count == (1 if found is None else len(found.transformers))
