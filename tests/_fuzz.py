"""Seeded mutation fuzzer of the GeoTIFF reader, run in isolated worker processes.

Each case takes one source TIFF (the files of ../shared/data and synthetic ones written with
tifffile), applies one to three mutations (truncation, bit flips in the header or the data,
IFD entries rewritten: sizes, offsets past the end, byte counts, bits per sample, sample
format, planar configuration, photometric, YCbCr subsampling, compression, predictor, JPEG
tables, colour maps, IFD loops, GeoKey directories and georeferencing, GDAL_NODATA and
GDAL_METADATA garbage, entity-expansion XML), then opens and reads the result through the
public reader (:func:`raster_core.open`, :meth:`Dataset.read`, :meth:`Dataset.read_masks`,
:meth:`Dataset.dataset_mask`, the metadata properties, ``raster-core info``'s ``info_dict``).

Outcomes: ``ok`` (no error), ``typed`` (a ``RasterCoreError``), ``untyped`` (any other
exception), ``oom`` (``MemoryError`` under the worker's address-space limit), ``crash`` (the
worker died) and ``hang`` (no answer within the time limit; the worker is killed). Cases run
in worker processes that each run many cases and are restarted after a crash or hang.

A case is reproducible from ``(seed, index)``::

    python -m tests._fuzz --seed 1 --cases 1000          # a run, counts on stdout
    python -m tests._fuzz --seed 1 --replay 123          # one case, in this process
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import random
import resource
import selectors
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests._tiff_edit import Entry, header, ifd_entries, ifd_offsets, set_tag

ROOT = Path(__file__).resolve().parent.parent
OUTCOMES = ("ok", "typed", "untyped", "crash", "hang", "oom")

# what a worker runs under: reader limits well below the address-space limit, one I/O thread
WORKER_ENV = {
    "RASTER_CORE_MAX_SEGMENT_BYTES": str(64 << 20),
    "RASTER_CORE_MAX_BYTES": str(256 << 20),
    "RASTER_CORE_IO_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "PYTHONWARNINGS": "ignore",
}
ADDRESS_SPACE_MARGIN = 1 << 30  # bytes a worker may map beyond its size after start-up


# ----------------------------------------------------------------------------- sources
def synthetic_tiffs(folder: Path) -> list[Path]:
    """Write the synthetic TIFFs (every layout the reader has a path for) into ``folder``."""
    import numpy as np
    import tifffile

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    geo = {
        33550: ("d", 3, (30.0, 30.0, 0.0)),
        33922: ("d", 6, (0.0, 0.0, 0.0, 440720.0, 3751320.0, 0.0)),
        34735: ("H", 16, (1, 1, 0, 3, 1024, 0, 1, 1, 1025, 0, 1, 1, 3072, 0, 1, 26711)),
    }

    def extratags(nodata: str | None = None, meta: str | None = None) -> list[tuple]:
        tags = [(code, dt, n, v, False) for code, (dt, n, v) in geo.items()]
        if nodata is not None:
            tags.append((42113, "s", 0, nodata, False))
        if meta is not None:
            tags.append((42112, "s", 0, meta, False))
        return tags

    meta = (
        '<GDALMetadata><Item name="DESCRIPTION" sample="0" role="description">b1</Item>'
        '<Item name="SCALE" sample="0" role="scale">0.5</Item>'
        '<Item name="OFFSET" sample="0" role="offset">1</Item></GDALMetadata>'
    )
    out: list[Path] = []

    def write(name: str, writer: Callable[[tifffile.TiffWriter], None], bigtiff: bool = False) -> None:
        path = folder / name
        if not path.exists():
            tmp = path.with_suffix(".part")
            with tifffile.TiffWriter(tmp, bigtiff=bigtiff) as tw:
                writer(tw)
            tmp.replace(path)
        out.append(path)

    u8 = rng.integers(0, 255, (64, 80), dtype=np.uint8)
    i16 = rng.integers(-500, 500, (96, 96), dtype=np.int16)
    f32 = rng.normal(size=(64, 64)).astype(np.float32)
    rgb = rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)
    rgba = rng.integers(0, 65535, (48, 48, 4), dtype=np.uint16)

    write("syn_strip_u8.tif", lambda tw: tw.write(u8, rowsperstrip=8, extratags=extratags("0", meta)))
    write("syn_strip_u8_one.tif", lambda tw: tw.write(u8, extratags=extratags("255")))

    def tiled_ovr_mask(tw: tifffile.TiffWriter) -> None:
        kw = {"tile": (32, 32), "compression": "zlib", "predictor": 2}
        tw.write(i16, extratags=extratags("-9999"), **kw)
        tw.write(i16[::2, ::2], subfiletype=1, **kw)
        tw.write(i16[::4, ::4], subfiletype=1, **kw)
        mask = np.where(i16 > 0, 255, 0).astype(np.uint8)
        tw.write(mask, tile=(32, 32), compression="zlib")  # made masks (SubfileType 4, 5) below
        tw.write(mask[::2, ::2], tile=(32, 32), compression="zlib")

    write("syn_tiled_i16_ovr_mask.tif", tiled_ovr_mask)
    masked = folder / "syn_tiled_i16_ovr_mask.tif"
    if not masked.with_suffix(".done").exists():
        data = set_tag(set_tag(masked.read_bytes(), 3, 254, 4, [4]), 4, 254, 4, [5])
        masked.write_bytes(data)
        masked.with_suffix(".done").write_bytes(b"")
    write("syn_tiled_f32_lzw.tif", lambda tw: tw.write(f32, tile=(32, 32), compression="lzw", predictor=3,
                                                       extratags=extratags("nan")))
    write("syn_planar_rgb_packbits.tif", lambda tw: tw.write(rgb.transpose(2, 0, 1), planarconfig="separate",
                                                            compression="packbits",
                                                            rowsperstrip=16, photometric="rgb", extratags=extratags()))
    palette = ((np.arange(256 * 3).reshape(3, 256) * 85) % 65536).astype(np.uint16)
    write("syn_palette.tif", lambda tw: tw.write(u8, photometric="palette", colormap=palette,
                                                 extratags=extratags("0")))
    write("syn_rgba_u16_tiled.tif", lambda tw: tw.write(rgba, tile=(16, 16), photometric="rgb",
                                                       extrasamples=(2,), compression="zstd", extratags=extratags()))
    write("syn_jpeg_ycbcr.tif", lambda tw: tw.write(rgb, tile=(32, 32), compression="jpeg", photometric="ycbcr",
                                                   subsampling=(2, 2), extratags=extratags()))
    write("syn_bilevel.tif", lambda tw: tw.write(u8 > 128, photometric="minisblack", extratags=extratags()))
    write("syn_bigtiff_f64.tif", lambda tw: tw.write(f32.astype(np.float64), tile=(16, 16), compression="zlib",
                                                    extratags=extratags("-1e300")), bigtiff=True)
    return out


def shared_tifs() -> list[Path]:
    """The files of ../shared/data, found as ``tests/conftest.py`` finds them.

    Not imported from conftest, so that the fuzz workers import no pytest fixtures.
    """
    shared = Path(os.environ.get("RASTER_CORE_SHARED_DATA", ROOT.parent / "shared" / "data"))
    return sorted(shared.glob("*.tif")) if shared.is_dir() else []


def source_files(synthetic_dir: Path) -> list[Path]:
    """The shared data files (when present) followed by the synthetic ones."""
    return shared_tifs() + synthetic_tiffs(synthetic_dir)


# ----------------------------------------------------------------------------- mutations
_SIZES = [0, 1, 2, 3, 7, 255, 65535, 65536, 1 << 20, 10**6, (1 << 31) - 1, 1 << 31, (1 << 32) - 1]
_TAG_VALUES: dict[int, list] = {
    256: _SIZES, 257: _SIZES, 322: _SIZES, 323: _SIZES, 278: _SIZES,
    258: [0, 1, 2, 4, 7, 8, 12, 16, 24, 31, 32, 64, 65, 128, 255],
    277: [0, 1, 2, 3, 4, 5, 255, 65535],
    259: [0, 1, 2, 3, 4, 5, 6, 7, 8, 99, 32773, 32946, 34887, 34925, 50000, 50001, 50002, 65000],
    262: [0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 32844, 34892, 65535],
    284: [0, 1, 2, 3, 65535],
    317: [0, 1, 2, 3, 4, 34892, 65535],
    339: [0, 1, 2, 3, 4, 5, 6, 7, 65535],
    254: [0, 1, 2, 4, 5, 7],
    338: [0, 1, 2, 3, 99],
}
_NODATA = [b"abc", b"-nan", b"nan", b"NAN", b"inf", b"-inf", b"1e400", b"\xef\xbc\x91\xef\xbc\x92", b" ", b"",
           b"1,5", b"0x10", b"1.#QNAN", b"-1.#IND", b"99999999999999999999", b"-9999", b"3.5e38", b"\xff\xfe",
           b"5abc", b"+-5", b"1e-400", b"nan(123)"]
_XML = [
    b"<GDALMetadata><Item name='SCALE' sample='0' role='scale'>abc</Item></GDALMetadata>",
    b"<GDALMetadata><Item name='OFFSET' sample='0' role='offset'>1e999</Item></GDALMetadata>",
    b"<GDALMetadata><Item name='SCALE' sample='99999999999999999999' role='scale'>2</Item></GDALMetadata>",
    b"<GDALMetadata><Item name='COLORINTERP' sample='0' role='colorinterp'>\xff\xfe</Item></GDALMetadata>",
    b"<GDALMetadata><Item name='DESCRIPTION' sample='-1' role='description'>x</Item>",
    b"<?xml version='1.0'?><!DOCTYPE l [<!ENTITY a 'aaaaaaaaaa'><!ENTITY b '&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;'>"
    b"<!ENTITY c '&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;'><!ENTITY d '&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;'>"
    b"<!ENTITY e '&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;'><!ENTITY f '&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;'>"
    b"<!ENTITY g '&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;'><!ENTITY h '&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;'>]>"
    b"<GDALMetadata><Item name='DESCRIPTION' sample='0' role='description'>&h;</Item></GDALMetadata>",
    b"<!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><GDALMetadata><Item name='DESCRIPTION' sample='0' "
    b"role='description'>&e;</Item></GDALMetadata>",
    b"<" * 5000,
]
_FLOATS = [float("nan"), float("inf"), -float("inf"), 0.0, 5e-324, -5e-324, 1e308, -1.0, 1e-300]


@dataclass
class Case:
    """One fuzz case: the source, the mutated bytes and what was done."""

    index: int
    source: str
    data: bytearray
    steps: list[str] = field(default_factory=list)


def _entries(data: bytearray) -> list[Entry]:
    try:
        return [e for ifd in ifd_entries(data) for e in ifd]
    except (ValueError, struct.error, IndexError):
        return []


def _mutate_truncate(rng: random.Random, data: bytearray) -> tuple[bytearray, str]:
    n = len(data)
    cut = rng.choice([rng.randrange(0, min(n, 512)), rng.randrange(0, n), n - rng.randrange(1, min(n, 64) + 1)])
    return data[: max(0, cut)], f"truncate@{cut}"


def _mutate_flip(rng: random.Random, data: bytearray, header_part: bool) -> tuple[bytearray, str]:
    out = bytearray(data)
    if header_part:
        entries = _entries(out)
        spans = [(e.pos, e.pos + (20 if e.big else 12)) for e in entries] or [(0, min(len(out), 64))]
        spans.append((0, min(len(out), 16)))
    else:
        spans = [(0, len(out))]
    flips = []
    for _ in range(rng.choice([1, 1, 2, 4, 8])):
        lo, hi = rng.choice(spans)
        if hi <= lo:
            continue
        pos = rng.randrange(lo, min(hi, len(out)))
        bit = rng.randrange(8)
        out[pos] ^= 1 << bit
        flips.append(f"{pos}.{bit}")
    return out, ("flip_header:" if header_part else "flip_data:") + ",".join(flips)


def _entry_type(entry: Entry, value: int) -> int:
    if value < 0:
        return 9
    return 3 if value < 65536 else (16 if entry.big and value >= 1 << 32 else 4)


def _mutate_entry(rng: random.Random, data: bytearray) -> tuple[bytearray, str]:
    entries = _entries(data)
    if not entries:
        return _mutate_flip(rng, data, True)
    n_ifd = entries[-1].ifd + 1
    ifd = rng.randrange(n_ifd)
    mine = [e for e in entries if e.ifd == ifd]
    kind = rng.choice(["value", "value", "value", "segments", "segments", "geo", "gdal", "type", "count", "jpeg",
                       "colormap", "ycbcr", "sign"])
    size = len(data)
    if kind == "value":
        tag = rng.choice(sorted(_TAG_VALUES))
        value = rng.choice(_TAG_VALUES[tag])
        entry = next((e for e in mine if e.tag == tag), mine[0])
        return set_tag(data, ifd, tag, _entry_type(entry, value), [value]), f"ifd{ifd}:{tag}={value}"
    if kind == "sign":
        tag = rng.choice([256, 257, 322, 323, 278])
        return set_tag(data, ifd, tag, 8, [-rng.choice([1, 16, 32768])]), f"ifd{ifd}:{tag}=negative"
    if kind == "segments":
        tag = rng.choice([273, 279, 324, 325])
        entry = next((e for e in mine if e.tag == tag), None)
        if entry is None:
            tag = {273: 324, 324: 273, 279: 325, 325: 279}[tag]
            entry = next((e for e in mine if e.tag == tag), None)
        if entry is None:
            return _mutate_flip(rng, data, True)
        vals = list(entry.values(data, limit=1 << 16)) or [0]
        how = rng.choice(["one", "all", "double", "float", "count0", "shift"])
        choice = rng.choice([0, 1, size, size + 1, size * 2, (1 << 31), (1 << 32) - 1, rng.randrange(size + 1)])
        if how == "one":
            vals[rng.randrange(len(vals))] = choice
            typ = 16 if entry.big and choice >= 1 << 32 else 4
            return set_tag(data, ifd, tag, typ, vals), f"ifd{ifd}:{tag}[one]={choice}"
        if how == "all":
            return set_tag(data, ifd, tag, 4, [choice] * len(vals)), f"ifd{ifd}:{tag}[all]={choice}"
        if how in ("double", "float"):
            typ = 12 if how == "double" else 11
            return set_tag(data, ifd, tag, typ, [float(v) for v in vals]), f"ifd{ifd}:{tag} as {how}"
        if how == "count0":
            return set_tag(data, ifd, tag, 4, []), f"ifd{ifd}:{tag} empty"
        return set_tag(data, ifd, tag, 4, [v + rng.choice([-1, 1, 7, 4096]) for v in vals]), f"ifd{ifd}:{tag} shift"
    if kind == "geo":
        which = rng.choice(["scale", "tie", "matrix", "keys", "keys"])
        if which == "scale":
            vals = [rng.choice(_FLOATS), rng.choice(_FLOATS + [30.0]), 0.0]
            return set_tag(data, 0, 33550, 12, vals), f"scale={vals}"
        if which == "tie":
            vals = [0.0, 0.0, 0.0, rng.choice(_FLOATS), rng.choice(_FLOATS), 0.0]
            return set_tag(data, 0, 33922, 12, vals), f"tie={vals}"
        if which == "matrix":
            vals = [rng.choice(_FLOATS + [1.0, 30.0]) for _ in range(16)]
            return set_tag(data, 0, 34264, 12, vals), "matrix"
        keys = [1, 1, 0, rng.choice([0, 3, 200, 65535])]
        for _ in range(rng.randrange(0, 6)):
            keys += [rng.choice([1024, 1025, 2048, 2054, 3072, 3073, 3076, 4096, 65535, rng.randrange(65536)]),
                     rng.choice([0, 34735, 34736, 34737, 1]), rng.choice([0, 1, 2, 65535]),
                     rng.choice([0, 1, 2, 4326, 32767, 26711, 65535])]
        return set_tag(data, 0, 34735, 3, keys), f"geokeys={keys}"
    if kind == "gdal":
        if rng.random() < 0.5:
            nd = rng.choice(_NODATA)
            return set_tag(data, 0, 42113, 2, nd + b"\0"), f"nodata={nd!r}"
        xml = rng.choice(_XML)
        return set_tag(data, 0, 42112, 2, xml + b"\0"), f"metadata#{_XML.index(xml)}"
    if kind == "type":
        entry = rng.choice(mine)
        typ = rng.choice([1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 12, 16, 0, 99])
        out = bytearray(data)
        struct.pack_into(entry.order + "H", out, entry.pos + 2, typ)
        return out, f"ifd{ifd}:{entry.tag} type={typ}"
    if kind == "count":
        entry = rng.choice(mine)
        count = rng.choice([0, 2, (1 << 31), (1 << 32) - 1, entry.count * 2 + 1])
        out = bytearray(data)
        struct.pack_into(entry.order + ("Q" if entry.big else "I"), out, entry.pos + 4, count)
        return out, f"ifd{ifd}:{entry.tag} count={count}"
    if kind == "jpeg":
        tables = rng.choice([b"", b"\xff\xd8", b"\xff\xd8\xff\xdb\x00\x43" + bytes(range(67)), b"\x00" * 600])
        out = set_tag(data, ifd, 347, 7, tables or b"\0")
        if rng.random() < 0.5:
            out = set_tag(out, ifd, 259, 3, [7])
        return out, f"ifd{ifd}:jpegtables[{len(tables)}]"
    if kind == "colormap":
        n = rng.choice([7, 3, 768, 765, 3 * 65536, 6])
        return set_tag(set_tag(data, ifd, 320, 3, [rng.randrange(65536) for _ in range(n)]), ifd, 262, 3, [3]), (
            f"ifd{ifd}:colormap[{n}]"
        )
    sub = rng.choice([(1, 1), (2, 2), (4, 4), (3, 3), (0, 0), (8, 8), (2, 1), (4, 1)])
    out = set_tag(data, ifd, 530, 3, list(sub))
    if rng.random() < 0.5:
        out = set_tag(out, ifd, 262, 3, [6])
    return out, f"ifd{ifd}:ycbcr={sub}"


def _mutate_loop(rng: random.Random, data: bytearray) -> tuple[bytearray, str]:
    try:
        order, big, _ = header(data)
        offs = ifd_offsets(data)
    except (ValueError, struct.error):
        return _mutate_flip(rng, data, False)
    if not offs:
        return _mutate_flip(rng, data, False)
    k = rng.randrange(len(offs))
    target = rng.choice(offs[: k + 1] + [len(data) + 10, 1, 8])
    n = struct.unpack_from(order + ("Q" if big else "H"), data, offs[k])[0]
    pos = offs[k] + (8 if big else 2) + n * (20 if big else 12)
    out = bytearray(data)
    struct.pack_into(order + ("Q" if big else "I"), out, pos, target)
    return out, f"ifd{k}.next={target}"


def make_case(seed: int, index: int, sources: list[Path]) -> Case:
    """The mutated file of case ``index`` of run ``seed`` (deterministic)."""
    rng = random.Random(f"{seed}:{index}")
    src = sources[rng.randrange(len(sources))]
    case = Case(index, src.name, bytearray(src.read_bytes()))
    for _ in range(rng.choice([1, 1, 1, 2, 2, 3])):
        kind = rng.choices(["truncate", "flip_header", "flip_data", "entry", "loop"], [10, 15, 8, 60, 7])[0]
        try:
            if kind == "truncate":
                case.data, step = _mutate_truncate(rng, case.data)
            elif kind == "flip_header":
                case.data, step = _mutate_flip(rng, case.data, True)
            elif kind == "flip_data":
                case.data, step = _mutate_flip(rng, case.data, False)
            elif kind == "entry":
                case.data, step = _mutate_entry(rng, case.data)
            else:
                case.data, step = _mutate_loop(rng, case.data)
        except (struct.error, ValueError, IndexError, OverflowError, TypeError):
            # an earlier step left values this one cannot rewrite (floats, too large): flip bits instead
            case.data, step = _mutate_flip(rng, case.data, False)
        case.steps.append(step)
        if len(case.data) < 8:
            break
    return case


# ----------------------------------------------------------------------------- reading
def exercise(path: str, info: bool = False) -> None:
    """Everything a user does with a file: open, metadata, reads of each level, masks.

    ``info`` adds what ``raster-core info`` prints (gdalinfo-like; its CRS look-ups are slow,
    so the worker asks for it on one case in four).
    """
    import raster_core
    from raster_core.cli import info_dict

    if info:
        info_dict(path)

    with raster_core.open(path) as ds:
        _ = (ds.profile, ds.meta, ds.bounds, ds.res, ds.colorinterp, ds.nodata, ds.descriptions, ds.scales,
             ds.offsets, ds.gcps, ds.crs, ds.mask_flags, ds.block_shapes, repr(ds))
        ds.overviews(1)
        if ds.colorinterp[0] == "palette":
            ds.colormap(1)
        win = (0, 0, min(ds.width, 300), min(ds.height, 300))
        if ds.width * ds.height * ds.count <= 1_500_000:
            ds.read()
        ds.read(window=win, masked=True)
        ds.read_masks(window=win)
        ds.dataset_mask(window=win)
        ds.read(1, window=(-4, -4, 16, 16), boundless=True)
        for level in range(ds.overview_count):
            h, w = ds.overview_shape(level)
            ds.read(overview_level=level, window=(0, 0, min(w, 256), min(h, 256)))
            ds.dataset_mask(overview_level=level, window=(0, 0, min(w, 256), min(h, 256)))
            ds.overview_transform(level)


def classify(path: str, action: Callable[[str], None] = exercise) -> tuple[str, str]:
    """Run ``action`` (:func:`exercise`) on ``path`` -> (outcome, detail), letting nothing escape."""
    from raster_core.errors import RasterCoreError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            action(path)
    except RasterCoreError as exc:
        return "typed", f"{type(exc).__name__}"
    except MemoryError as exc:
        return "oom", f"MemoryError: {exc}"[:300]
    except Exception as exc:
        tb = traceback.extract_tb(exc.__traceback__)
        where = "; ".join(f"{Path(f.filename).name}:{f.lineno}" for f in tb[-3:])
        return "untyped", f"{type(exc).__name__}: {exc} [{where}]"[:500]
    return "ok", ""


# ----------------------------------------------------------------------------- worker side
def _vm_size() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _misbehave(index: int) -> Callable[[str], None]:
    """Negative case indexes test the harness: -1 crashes, -2 hangs, -3 runs out of memory, -4 raises."""
    if index == -1:
        os.abort()
    if index == -2:
        time.sleep(3600)
    if index == -3:
        return lambda path: bytearray(1 << 40) and None
    return lambda path: int("not a number") and None


def worker_main(seed: int, synthetic_dir: str) -> None:
    """Read case indexes on stdin, answer one JSON line per case on the original stdout."""
    import logging

    logging.disable(logging.CRITICAL)
    report = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # whatever the library prints goes to stderr, never into the reports
    sources = source_files(Path(synthetic_dir))
    import raster_core  # noqa: F401  (imports before the address-space limit)

    classify(str(sources[0]))  # warm up every path once
    limit = _vm_size() + ADDRESS_SPACE_MARGIN
    resource.setrlimit(resource.RLIMIT_AS, (limit, resource.getrlimit(resource.RLIMIT_AS)[1]))
    work = tempfile.mkdtemp(prefix="raster_core_fuzz_")
    path = os.path.join(work, "case.tif")
    report.write(json.dumps({"ready": True}) + "\n")
    try:
        for line in sys.stdin:
            index = int(line)
            if index < 0:  # the harness' own checks
                action = _misbehave(index)
            else:
                action = functools.partial(exercise, info=index % 4 == 0)
            case = make_case(seed, index, sources)
            with open(path, "wb") as f:
                f.write(case.data)
            outcome, detail = classify(path, action)
            report.write(json.dumps({"index": index, "outcome": outcome, "detail": detail}) + "\n")
    finally:
        try:
            os.remove(path)
            os.rmdir(work)
        except OSError:
            pass


# ----------------------------------------------------------------------------- parent side
@dataclass
class Result:
    """Counts per outcome and the details of every non-ok/typed case."""

    counts: Counter = field(default_factory=Counter)
    problems: list[dict] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failures(self) -> int:
        return sum(self.counts[k] for k in ("untyped", "crash", "hang", "oom"))


class _Worker:
    def __init__(self, seed: int, synthetic_dir: Path, startup_timeout: float, scratch: Path) -> None:
        self.log = tempfile.TemporaryFile()  # the worker's stderr: its last words when it dies
        env = dict(os.environ, **WORKER_ENV)
        env["TMPDIR"] = str(scratch)  # what a killed worker leaves behind is removed with the run
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        self.proc = subprocess.Popen(
            [sys.executable, "-X", "faulthandler", "-m", "tests._fuzz", "--worker", "--seed", str(seed),
             "--synthetic", str(synthetic_dir)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, cwd=str(ROOT), env=env,
            bufsize=0,
        )
        self.buf = b""
        self.case: int | None = None
        self.deadline = 0.0
        msg = self.read_line(time.monotonic() + startup_timeout)
        if not msg or not msg.get("ready"):
            self.kill()
            raise RuntimeError("a fuzz worker did not start")

    def read_line(self, deadline: float) -> dict | None:
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        try:
            while b"\n" not in self.buf:
                left = max(0.0, deadline - time.monotonic())  # past the deadline: take what is there
                if not sel.select(left):
                    return None
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                if not chunk:
                    return None
                self.buf += chunk
        finally:
            sel.close()
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def send(self, index: int, timeout: float) -> None:
        self.case = index
        self.deadline = time.monotonic() + timeout
        self.proc.stdin.write(f"{index}\n".encode())

    def kill(self) -> int | None:
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            return self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover
            return None

    def last_words(self) -> str:
        self.log.seek(0, os.SEEK_END)
        self.log.seek(max(0, self.log.tell() - 1500))
        return self.log.read().decode("utf-8", "replace").strip().replace("\n", " | ")


def run(seed: int, cases: int | list[int], *, workers: int = 2, timeout: float = 10.0,
        synthetic_dir: Path | None = None, progress: Callable[[int], None] | None = None) -> Result:
    """Run cases ``0..cases-1`` (or the listed ones) of ``seed`` on ``workers`` processes; count outcomes."""
    own_dir = synthetic_dir is None
    folder = Path(tempfile.mkdtemp(prefix="raster_core_fuzz_src_")) if own_dir else synthetic_dir
    source_files(folder)  # written once, before the workers read them
    scratch = Path(tempfile.mkdtemp(prefix="raster_core_fuzz_run_"))
    try:
        return _run(seed, cases, workers, timeout, folder, scratch, progress)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        if own_dir:
            shutil.rmtree(folder, ignore_errors=True)


def _run(seed: int, cases: int | list[int], workers: int, timeout: float, folder: Path, scratch: Path,
         progress: Callable[[int], None] | None) -> Result:
    result = Result()
    t0 = time.monotonic()
    todo = list(range(cases) if isinstance(cases, int) else cases)[::-1]
    pool = [_Worker(seed, folder, 120.0, scratch) for _ in range(min(workers, len(todo)))]
    for w in pool:
        if todo:
            w.send(todo.pop(), timeout)
    sel = selectors.DefaultSelector()
    active = {w.proc.stdout.fileno(): w for w in pool}
    for fd, w in active.items():
        sel.register(fd, selectors.EVENT_READ, w)
    done = 0
    while active:
        now = time.monotonic()
        wait = max(0.0, min(w.deadline for w in active.values()) - now)
        events = sel.select(wait)
        finished: list[tuple[_Worker, dict | None]] = []
        for key, _ in events:
            w = key.data
            msg = w.read_line(max(w.deadline, time.monotonic() + 1.0))  # readable: the line is coming
            finished.append((w, msg))
        for w in list(active.values()):
            if w.deadline <= time.monotonic() and all(w is not f for f, _ in finished):
                finished.append((w, None))
        for w, msg in finished:
            index = w.case
            replace = False
            if msg is not None:
                outcome, detail = msg["outcome"], msg["detail"]
            elif w.proc.poll() is None and time.monotonic() >= w.deadline:
                w.kill()
                outcome, detail, replace = "hang", f"no answer in {timeout} s", True
            else:
                try:
                    w.proc.wait(timeout=5)  # it closed its output: let it finish dying
                except subprocess.TimeoutExpired:
                    pass
                rc = w.kill()
                outcome, detail, replace = "crash", f"worker exit code {rc}: {w.last_words()}", True
                if rc is not None and rc < 0 and -rc == 9:
                    outcome = "oom"
            result.counts[outcome] += 1
            if outcome not in ("ok", "typed"):
                result.problems.append({"seed": seed, "index": index, "outcome": outcome, "detail": detail})
            done += 1
            if progress:
                progress(done)
            if replace:
                sel.unregister(w.proc.stdout.fileno())
                del active[w.proc.stdout.fileno()]
                if todo:
                    w = _Worker(seed, folder, 120.0, scratch)
                    active[w.proc.stdout.fileno()] = w
                    sel.register(w.proc.stdout.fileno(), selectors.EVENT_READ, w)
            if todo:
                w.send(todo.pop(), timeout)
            elif not replace:
                sel.unregister(w.proc.stdout.fileno())
                del active[w.proc.stdout.fileno()]
                w.proc.stdin.close()
                w.kill()
    sel.close()
    result.seconds = time.monotonic() - t0
    return result


def replay(seed: int, index: int) -> None:
    """Build and run one case in this process (no isolation), printing what it did."""
    folder = Path(tempfile.gettempdir()) / "raster_core_fuzz_replay"
    case = make_case(seed, index, source_files(folder))
    path = folder / f"case_{seed}_{index}.tif"
    path.write_bytes(case.data)
    print(case.source, case.steps, path)
    print(classify(str(path)))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--cases", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=10.0)
    ap.add_argument("--replay", type=int)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--synthetic", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        worker_main(args.seed, args.synthetic)
        return 0
    if args.replay is not None:
        replay(args.seed, args.replay)
        return 0
    res = run(args.seed, args.cases, workers=args.workers, timeout=args.timeout)
    print(json.dumps({"seed": args.seed, "cases": args.cases, "seconds": round(res.seconds, 1),
                      "counts": {k: res.counts[k] for k in OUTCOMES}}))
    for p in res.problems[:50]:
        print(json.dumps(p))
    return 1 if res.failures else 0


if __name__ == "__main__":
    sys.exit(main())
