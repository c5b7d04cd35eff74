"""Generate the README's figures (docs/figures/*.png) with the Raster API on the bundled data.

Run from anywhere (needs the ``plot`` extra, i.e. matplotlib)::

    python docs/make_figures.py            # every figure
    python docs/make_figures.py srs masks  # some of them

Each figure mirrors one example of the README's "Examples" section, with the same calls. The
PNGs are quantised to a small palette so that each stays well under 60 KB.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
FIGURES = ROOT / "docs" / "figures"
MAX_BYTES = 60_000

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:  # pragma: no cover - depends on the environment
    sys.exit("docs/make_figures.py needs matplotlib: pip install 'raster-core[plot]'")

from raster_core import DLTile, Raster  # noqa: E402

raster = Raster(ROOT / "data" / "catalog")


# ----------------------------------------------------------------------------- helpers
def rgba(arr: np.ndarray) -> np.ndarray:
    """(rows, cols, 3 or 4) array -> float RGBA for imshow: a last alpha band (0/1 or 0/255)
    and a mask both make pixels transparent."""
    data = np.ma.getdata(arr).astype(np.float64)
    mask = np.ma.getmaskarray(arr)
    rgb = data[..., :3]
    hi = 255.0 if rgb.max() > 1 else 1.0
    rgb = np.clip(rgb / hi, 0, 1)
    alpha = np.ones(rgb.shape[:2])
    if data.shape[-1] == 4:
        alpha = (data[..., 3] > 0).astype(np.float64)
    alpha[mask[..., :3].all(axis=-1)] = 0.0
    return np.dstack([rgb, alpha])


def gray(arr: np.ndarray, band: int = 0) -> np.ma.MaskedArray:
    return np.ma.MaskedArray(np.ma.getdata(arr)[..., band], mask=np.ma.getmaskarray(arr)[..., band])


def panels(images: list[tuple[str, Callable[[plt.Axes], None]]], name: str, *, width: float = 7.2,
           height: float = 2.7) -> Path:
    fig, axes = plt.subplots(1, len(images), figsize=(width, height), dpi=80)
    axes = np.atleast_1d(axes)
    for ax, (title, draw) in zip(axes, images, strict=True):
        ax.set_facecolor("#d9d9d9")  # transparent (masked) pixels show grey
        draw(ax)
        ax.set_title(title, fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return save(fig, name)


def show(img: np.ndarray, **kw) -> Callable[[plt.Axes], None]:
    return lambda ax: ax.imshow(img, interpolation="nearest", **kw)


def save(fig: plt.Figure, name: str) -> Path:
    from PIL import Image

    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    buf.seek(0)
    path = FIGURES / f"{name}.png"
    img = Image.open(buf).convert("RGB")
    for colors in (128, 64, 32):
        out = io.BytesIO()
        img.quantize(colors=colors, method=Image.Quantize.MEDIANCUT).save(out, format="PNG", optimize=True)
        if out.tell() <= MAX_BYTES:
            break
    tmp = path.with_suffix(".png.tmp")
    tmp.write_bytes(out.getvalue())
    os.replace(tmp, path)
    print(f"{path.relative_to(ROOT)}  {path.stat().st_size / 1000:.1f} KB")
    return path


# ----------------------------------------------------------------------------- figures
def fig_ndarray() -> Path:
    arr, meta = raster.ndarray("landsat7-rgb:RGB.byte", bands=["red", "green", "blue", "alpha"], resolution=600)
    return panels([("landsat7-rgb:RGB.byte, 600 m, red green blue alpha", show(rgba(arr)))], "ndarray",
                  width=4.0, height=3.9)


def fig_stack() -> Path:
    tile = DLTile.from_latlon(18.5148, -72.215, resolution=8, tilesize=128, pad=0)
    stack, _ = raster.stack(["rgbn:rgbn_suba", "rgbn:rgbn_subb"], dltile=tile.key,
                            bands=["red", "green", "blue", "alpha"], data_type="Byte", masked=False)
    return panels([(f"layer {i}: {sid}", show(rgba(layer))) for i, (sid, layer) in
                   enumerate(zip(["rgbn:rgbn_suba", "rgbn:rgbn_subb"], stack, strict=True))],
                  "stack", width=6.0, height=3.3)


def fig_mosaic() -> Path:
    scene_ids = ["rgbn:rgbn_suba", "rgbn:rgbn_subb"]
    params = dict(bands=["red", "green", "blue", "alpha"], resolution=10, masked=False)
    m1, _ = raster.ndarray(scene_ids, **params)
    m2, _ = raster.ndarray(list(reversed(scene_ids)), **params)
    differ = (m1 != m2).any(axis=-1)
    return panels([("[suba, subb]: subb on top", show(rgba(m1))), ("[subb, suba]: suba on top", show(rgba(m2))),
                   ("pixels that differ (the overlap)", show(differ, cmap="gray", vmin=0, vmax=1))], "mosaic",
                  width=7.6, height=2.2)


def fig_bands() -> Path:
    vis, _ = raster.ndarray("rgbn:rgbn_suba", bands=["red", "green", "blue", "alpha"], resolution=10)
    fc, _ = raster.ndarray("rgbn:rgbn_suba", bands=["nir", "red", "green", "alpha"], resolution=10)
    return panels([("red green blue", show(rgba(vis))), ("nir red green", show(rgba(fc)))], "bands",
                  width=6.0, height=2.6)


def fig_scales() -> Path:
    sr = "landsat8-sr:LC08_20200829_B4"
    full, _ = raster.ndarray(sr, bands=["red", "alpha"], scales=[[7273, 43636], [0, 1]], data_type="Byte")
    stretched, _ = raster.ndarray(sr, bands=["red", "alpha"], scales=[[7755, 13282], [0, 1]], data_type="Byte")
    dont, _ = raster.ndarray(sr, bands=["red", "alpha"], data_type="Byte", masked=False)
    kw = dict(cmap="gray", vmin=0, vmax=255)
    return panels([("scales [7273, 43636]", show(gray(full), **kw)),
                   ("scales [7755, 13282]", show(gray(stretched), **kw)),
                   ("no scales (don't do this)", show(dont[..., 0], **kw))], "scales", width=7.2, height=2.4)


def fig_cutline() -> Path:
    geometry = {"type": "Polygon", "coordinates": [[[-78.6, 24.0], [-77.2, 23.9], [-77.9, 25.0], [-78.6, 24.0]]]}
    params = dict(bands=["red", "green", "blue", "alpha"], resolution=600)
    clipped, _ = raster.ndarray("landsat7-rgb:RGB.byte", cutline=geometry, **params)
    unclipped, _ = raster.ndarray("landsat7-rgb:RGB.byte", cutline=None, **params)
    return panels([("cutline=geometry", show(rgba(clipped))), ("cutline=None", show(rgba(unclipped)))], "cutline",
                  width=6.0, height=2.9)


def fig_srs() -> Path:
    params = dict(bands=["red", "green", "blue", "alpha"])
    native, _ = raster.ndarray("landsat7-rgb:RGB.byte", resolution=600, **params)
    wgs84, _ = raster.ndarray("landsat7-rgb:RGB.byte", srs="EPSG:4326", resolution=0.005, **params)
    polar, _ = raster.ndarray("landsat7-rgb:RGB.byte", srs="EPSG:3995", resolution=600, **params)
    return panels([("native (UTM 18N)", show(rgba(native))), ("EPSG:4326", show(rgba(wgs84))),
                   ("EPSG:3995", show(rgba(polar)))], "srs", width=7.2, height=2.6)


def fig_all_touched() -> Path:
    geometry = {"type": "Polygon", "coordinates": [[
        [23.755174, 31.95939], [23.758345, 31.959321], [23.758426, 31.962025],
        [23.755255, 31.962094], [23.755174, 31.95939]]]}
    params = dict(bands=["coastal-aerosol"], srs="EPSG:3857", resolution=100.0, cutline=geometry,
                  bounds=(23.755174, 31.959321, 23.758426, 31.962094), bounds_srs="EPSG:4326")
    arr, _ = raster.ndarray("sentinel2-b01:titiler_B01", **params)
    arr_at, _ = raster.ndarray("sentinel2-b01:titiler_B01", cutline_all_touched=True, **params)
    kw = dict(cmap="viridis", vmin=1900, vmax=2600)
    return panels([("cutline_all_touched=False", show(gray(arr), **kw)),
                   ("cutline_all_touched=True", show(gray(arr_at), **kw))], "all_touched", width=4.4, height=2.4)


def fig_resampler() -> Path:
    resamplers = ["near", "bilinear", "cubic"]
    arrs = [raster.ndarray("landsat7-rgb:RGB.byte", bands=["red", "green", "blue"], resampler=r, resolution=60,
                           bounds=(186000, 2728000, 192000, 2734000))[0] for r in resamplers]
    return panels([(r, show(rgba(a))) for r, a in zip(resamplers, arrs, strict=True)], "resampler",
                  width=7.2, height=2.6)


def fig_masks() -> Path:
    arr, _ = raster.ndarray("landsat7-rgb:RGB.byte", bands=["red", "green", "blue", "alpha"], resolution=1200)
    plain, _ = raster.ndarray("landsat7-rgb:RGB.byte", bands=["red", "green", "blue"], resolution=1200,
                              masked=False)
    return panels([("arr.mask[..., 0] (white: no data)", show(arr.mask[..., 0], cmap="gray", vmin=0, vmax=1)),
                   ("masked=False: masked pixels are 0", show(plain))], "masks", width=6.0, height=2.9)


FIGURES_BY_NAME: dict[str, Callable[[], Path]] = {
    "ndarray": fig_ndarray,
    "stack": fig_stack,
    "mosaic": fig_mosaic,
    "bands": fig_bands,
    "scales": fig_scales,
    "cutline": fig_cutline,
    "srs": fig_srs,
    "all_touched": fig_all_touched,
    "resampler": fig_resampler,
    "masks": fig_masks,
}


def main(names: list[str]) -> int:
    unknown = [n for n in names if n not in FIGURES_BY_NAME]
    if unknown:
        print(f"unknown figure(s) {unknown}; choose from {sorted(FIGURES_BY_NAME)}", file=sys.stderr)
        return 2
    FIGURES.mkdir(parents=True, exist_ok=True)
    for name in names or list(FIGURES_BY_NAME):
        path = FIGURES_BY_NAME[name]()
        if path.stat().st_size > MAX_BYTES:
            print(f"warning: {path.name} is over {MAX_BYTES} bytes", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
