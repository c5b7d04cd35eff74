"""The reduce family on the warp parity scenarios (tests/test_warp_parity.py) and op table.

Every scenario of ``tests.test_warp_parity.SCENARIOS`` (real files x CRS pairs: UTM -> 4326/3857,
4326 -> UTM, polar stereographic, equal area, rotated sources, same-CRS x2.5 and /3.3) crossed
with the reduce-family rows of ``benchmarks.ops.OPS``, through ``run_ours`` (raster_core.reproject)
and ``run_reference`` (rasterio/GDAL 3.10, one chunk), with the acceptance thresholds of the op
table (identical >= 99.9 % for mode/min/max/med/q1/q3, within 1 DN / 1e-4 relative for
average/rms/sum, masks >= 99.9 %).
"""

from __future__ import annotations

import pytest

pytest.importorskip("rasterio")

from benchmarks.ops import OPS, compare, run_ours, run_reference  # noqa: E402
from tests import test_warp_parity as P  # noqa: E402

REDUCE_OPS = ["average", "rms", "mode", "max", "min", "med", "q1", "q3", "sum"]
CASES = [(sid, op) for sid in P.SCENARIOS if sid not in P._DEVIATION_ONLY for op in REDUCE_OPS]


@pytest.mark.parametrize(("sid", "op_name"), CASES)
def test_reduce_parity_on_scenarios(sid: str, op_name: str) -> None:
    op = OPS[op_name]
    sc = P._get(sid)
    ours = run_ours(op, **sc)
    ref = run_reference(op, **sc)
    agreement = compare(op, ours, ref, sc["dst_nodata"])
    assert agreement.ok(op), (sid, op_name, agreement)
