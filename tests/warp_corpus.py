"""A saved corpus of warps, to prove that a change of the engine leaves its results bit-identical.

``save`` runs a fixed list of warps (seeded random grids: same-CRS axis-aligned grids with
partial edges, off-grid origins, up/down factors, plus a few reprojections) and stores every
result; ``compare`` runs them again with the engine on ``PYTHONPATH`` and reports every array that
differs in any bit. Typical use: save with the previous commit's package, compare with the new::

    git archive HEAD~1 raster_core | tar -x -C /tmp/old
    PYTHONPATH=/tmp/old python -m tests.warp_corpus save /tmp/corpus.npz
    PYTHONPATH=$PWD python -m tests.warp_corpus compare /tmp/corpus.npz

Examples
--------
>>> cases = corpus_cases(3)
>>> len(cases) >= 3 and {"method", "dtype", "dst_shape"} <= set(cases[0])
True
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import numpy as np

SAME_CRS = "EPSG:32632"
SRC_TF = (400000.0, 30.0, 0.0, 5400000.0, 0.0, -30.0)

# (method, dtype) pairs of the axis-aligned separable path (each pair costs a Numba compile per
# engine: extend the list when a change touches other paths)
COMBOS = [
    ("bilinear", "uint16"), ("cubic", "uint16"), ("cubicspline", "uint16"), ("lanczos", "uint16"),
    ("cubic", "float32"),
]
#: ``--full``: every interpolating resampler x every dtype, and the reducing resamplers on two dtypes
FULL_COMBOS = [
    (m, d) for m in ("near", "bilinear", "cubic", "cubicspline", "lanczos")
    for d in ("uint8", "int16", "uint16", "float32", "float64")
] + [(m, d) for m in ("average", "rms", "sum", "mode", "min", "max", "med", "q1", "q3") for d in ("uint8", "float32")]
#: source mask kinds: none, nodata value, alpha band (partial densities), explicit validity mask
MASKS = ("none", "nodata", "alpha", "mask")


def _source(shape: tuple[int, int], dtype: str, rng: np.random.Generator) -> np.ndarray:
    dt = np.dtype(dtype)
    if dt.kind == "f":
        a = rng.normal(100.0, 50.0, shape).astype(dt)
        a[rng.random(shape) < 0.001] = np.nan
        return a
    info = np.iinfo(dt)
    return rng.integers(info.min, int(info.max) + 1, shape, dtype=dt)


def corpus_cases(per_combo: int = 6, seed: int = 20261207, full: bool = False) -> list[dict[str, Any]]:
    """The warps of the corpus: ``per_combo`` random grids per (method, dtype), seeded.

    Most are same-CRS and axis-aligned (factor 0.4 to 5, destinations whose last rows/columns
    reach past the source edge, origins off the source grid), one in three has a dst nodata,
    one in five is a reprojection to EPSG:3035 or EPSG:4326. ``full``: every resampler and dtype
    (:data:`FULL_COMBOS`), each case with a source mask kind of :data:`MASKS` in turn.
    """
    rng = np.random.default_rng(seed)
    cases = []
    for method, dtype in FULL_COMBOS if full else COMBOS:
        for _ in range(per_combo):
            h, w = (int(v) for v in rng.integers(40, 400, 2))
            factor = float(rng.uniform(0.4, 5.0))
            fy = factor * float(rng.uniform(0.9, 1.1))
            res_x, res_y = 30.0 * factor, 30.0 * fy
            # origin: on, near or off the source grid; extent: inside, flush or past the edges
            ox = SRC_TF[0] + 30.0 * float(rng.choice([0.0, rng.uniform(-3, 3), float(rng.integers(-2, 3))]))
            oy = SRC_TF[3] - 30.0 * float(rng.choice([0.0, rng.uniform(-3, 3), float(rng.integers(-2, 3))]))
            cover = float(rng.uniform(0.6, 1.15))
            dst_shape = (max(1, int(h * 30.0 / res_y * cover)), max(1, int(w * 30.0 / res_x * cover)))
            dst_tf = (ox, res_x, 0.0, oy, 0.0, -res_y)
            dst_crs = SAME_CRS
            if rng.random() < 0.2:
                dst_crs = str(rng.choice(["EPSG:3035", "EPSG:4326"]))
                dst_tf = None
                dst_shape = None
            cases.append(dict(
                method=method, dtype=dtype, src_shape=(h, w), seed=int(rng.integers(1 << 31)),
                dst_tf=dst_tf, dst_shape=dst_shape, dst_crs=dst_crs,
                dst_nodata=(0 if np.dtype(dtype).kind in "iu" else -9999.0) if rng.random() < 1 / 3 else None,
                bands=int(rng.choice([1, 1, 2])),
                mask=MASKS[len(cases) % len(MASKS)] if full else "none",
            ))
    return cases


def run_case(case: dict[str, Any]) -> np.ndarray:
    """One warp of the corpus with the ``raster_core`` found on ``sys.path`` (2 threads)."""
    from raster_core.warp import reproject

    rng = np.random.default_rng(case["seed"])
    src = np.stack([_source(case["src_shape"], case["dtype"], rng) for _ in range(case["bands"])])
    kw: dict[str, Any] = {}
    mask = case.get("mask", "none")
    if mask == "nodata":
        nodata = src.flat[0]
        src[:, ::7, ::5] = nodata
        kw["src_nodata"] = float(nodata)
    elif mask == "alpha":
        top = {"uint16": 65535, "int16": 32767}.get(src.dtype.name, 255)
        alpha = np.full(src.shape[1:], top, dtype=src.dtype)
        alpha[:, : src.shape[2] // 3] = 0
        alpha[::3, src.shape[2] // 3: src.shape[2] // 2] = top // 3
        src = np.concatenate([src, alpha[None]])
        kw["src_alpha"] = src.shape[0]
    elif mask == "mask":
        kw["src_mask"] = rng.random(src.shape[1:]) > 0.05
    if case["dst_tf"] is not None:
        kw.update(dst_transform=case["dst_tf"], dst_shape=tuple(case["dst_shape"]))
    out, _ = reproject(src, src_transform=SRC_TF, src_crs=SAME_CRS, dst_crs=case["dst_crs"],
                       resampling=case["method"], dst_nodata=case["dst_nodata"], num_threads=2, **kw)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("action", choices=["save", "compare"])
    ap.add_argument("path")
    ap.add_argument("--per-combo", type=int, default=6)
    ap.add_argument("--full", action="store_true", help="every resampler x dtype x mask kind")
    args = ap.parse_args(argv)
    cases = corpus_cases(args.per_combo, full=args.full)
    if args.action == "save":
        np.savez_compressed(args.path, **{f"case{k}": run_case(c) for k, c in enumerate(cases)})
        print(f"saved {len(cases)} warps to {args.path}")
        return 0
    saved = np.load(args.path)
    bad = 0
    for k, case in enumerate(cases):
        new = run_case(case)
        old = saved[f"case{k}"]
        same = old.shape == new.shape and old.dtype == new.dtype and old.tobytes() == new.tobytes()
        if not same:
            bad += 1
            print(f"DIFFERENT case{k}: {case}")
    print(f"{len(cases) - bad}/{len(cases)} warps bit-identical")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
