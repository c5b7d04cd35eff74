"""GeoTIFF GeoKeys <-> :class:`pyproj.CRS`, the way GDAL interprets them.

Reading follows GDAL's GeoTIFF driver (``gt_wkt_srs.cpp``) in spirit:

* an EPSG ``ProjectedCSTypeGeoKey`` / ``GeographicTypeGeoKey`` wins;
* an ``ESRI PE String = <WKT>`` in ``PCSCitationGeoKey`` (or ``GTCitationGeoKey``) is
  taken as the WKT of the CRS;
* otherwise a user-defined CRS is built from the geographic keys (datum, ellipsoid,
  prime meridian, names from the ``GCS Name = ...|Datum = ...|`` citation) and the
  projection keys (an EPSG conversion code in ``ProjectionGeoKey``, or
  ``ProjCoordTransGeoKey`` plus its parameters).

Writing emits EPSG keys when the CRS has an EPSG code, otherwise user-defined keys with the
full WKT in an ``ESRI PE String`` citation (which GDAL reads back as that WKT).

Examples
--------
>>> from raster_core.io.geokeys import crs_from_geokeys
>>> crs_from_geokeys({"GTModelTypeGeoKey": 1, "ProjectedCSTypeGeoKey": 32618}).to_epsg()
32618
"""

from __future__ import annotations

import math
import re
from typing import Any, overload

import pyproj

from raster_core.errors import CRSError

__all__ = ["crs_from_geokeys", "geokeys_from_crs", "GEOKEY_IDS"]

USER_DEFINED = 32767

# GeoKey ids (GeoTIFF 1.1 spec) by name
GEOKEY_IDS: dict[str, int] = {
    "GTModelTypeGeoKey": 1024,
    "GTRasterTypeGeoKey": 1025,
    "GTCitationGeoKey": 1026,
    "GeographicTypeGeoKey": 2048,
    "GeogCitationGeoKey": 2049,
    "GeogGeodeticDatumGeoKey": 2050,
    "GeogPrimeMeridianGeoKey": 2051,
    "GeogLinearUnitsGeoKey": 2052,
    "GeogLinearUnitSizeGeoKey": 2053,
    "GeogAngularUnitsGeoKey": 2054,
    "GeogAngularUnitSizeGeoKey": 2055,
    "GeogEllipsoidGeoKey": 2056,
    "GeogSemiMajorAxisGeoKey": 2057,
    "GeogSemiMinorAxisGeoKey": 2058,
    "GeogInvFlatteningGeoKey": 2059,
    "GeogAzimuthUnitsGeoKey": 2060,
    "GeogPrimeMeridianLongGeoKey": 2061,
    "GeogTOWGS84GeoKey": 2062,
    "ProjectedCSTypeGeoKey": 3072,
    "PCSCitationGeoKey": 3073,
    "ProjectionGeoKey": 3074,
    "ProjCoordTransGeoKey": 3075,
    "ProjLinearUnitsGeoKey": 3076,
    "ProjLinearUnitSizeGeoKey": 3077,
    "ProjStdParallel1GeoKey": 3078,
    "ProjStdParallel2GeoKey": 3079,
    "ProjNatOriginLongGeoKey": 3080,
    "ProjNatOriginLatGeoKey": 3081,
    "ProjFalseEastingGeoKey": 3082,
    "ProjFalseNorthingGeoKey": 3083,
    "ProjFalseOriginLongGeoKey": 3084,
    "ProjFalseOriginLatGeoKey": 3085,
    "ProjFalseOriginEastingGeoKey": 3086,
    "ProjFalseOriginNorthingGeoKey": 3087,
    "ProjCenterLongGeoKey": 3088,
    "ProjCenterLatGeoKey": 3089,
    "ProjCenterEastingGeoKey": 3090,
    "ProjCenterNorthingGeoKey": 3091,
    "ProjScaleAtNatOriginGeoKey": 3092,
    "ProjScaleAtCenterGeoKey": 3093,
    "ProjAzimuthAngleGeoKey": 3094,
    "ProjStraightVertPoleLongGeoKey": 3095,
    "ProjRectifiedGridAngleGeoKey": 3096,
    "VerticalCSTypeGeoKey": 4096,
    "VerticalCitationGeoKey": 4097,
    "VerticalDatumGeoKey": 4098,
    "VerticalUnitsGeoKey": 4099,
}
GEOKEY_NAMES = {v: k for k, v in GEOKEY_IDS.items()}

# linear unit codes -> (WKT name, metres)
_LINEAR_UNITS = {
    9001: ("metre", 1.0),
    9002: ("foot", 0.3048),
    9003: ("US survey foot", 0.3048006096012192),
    9005: ("Clarke's foot", 0.3047972654),
    9014: ("fathom", 1.8288),
    9030: ("nautical mile", 1852.0),
    9036: ("kilometre", 1000.0),
}
# angular unit codes -> (WKT name, radians)
_ANGULAR_UNITS = {
    9101: ("radian", 1.0),
    9102: ("degree", 0.0174532925199433),
    9103: ("arc-minute", 0.000290888208665722),
    9104: ("arc-second", 4.84813681109536e-06),
    9105: ("grad", 0.015707963267949),
    9106: ("gon", 0.015707963267949),
}


@overload
def _num(keys: dict[str, Any], *names: str, default: float) -> float: ...
@overload
def _num(keys: dict[str, Any], *names: str, default: None = None) -> float | None: ...
def _num(keys: dict[str, Any], *names: str, default: float | None = None) -> float | None:
    for n in names:
        v = keys.get(n)
        if v is not None:
            if isinstance(v, (tuple, list)):
                v = v[0]
            return float(v)
    return default


def _code(keys: dict[str, Any], name: str) -> int | None:
    v = keys.get(name)
    if v is None:
        return None
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


def _str(keys: dict[str, Any], name: str) -> str | None:
    v = keys.get(name)
    if v is None:
        return None
    s = str(v).strip().strip("\x00").strip("|").strip()
    return s or None


def _q(s: str) -> str:
    return s.replace('"', "'")


def _parse_gcs_citation(cit: str | None) -> dict[str, str]:
    """``'GCS Name = X|Datum = Y|Ellipsoid = Z|Primem = W|'`` -> dict (GDAL's citation style)."""
    out: dict[str, str] = {}
    if not cit:
        return out
    if "=" not in cit:
        out["gcs"] = cit
        return out
    for part in cit.split("|"):
        if "=" in part:
            k, v = part.split("=", 1)
            k, v = k.strip().lower(), v.strip()
            if k.startswith("gcs name"):
                out["gcs"] = v
            elif k.startswith("datum"):
                out["datum"] = v
            elif k.startswith("ellipsoid"):
                out["ellipsoid"] = v
            elif k.startswith("primem"):
                out["primem"] = v
            elif k.startswith("au"):
                out["au"] = v
    return out


def _esri_pe_wkt(keys: dict[str, Any]) -> str | None:
    for name in ("PCSCitationGeoKey", "GTCitationGeoKey", "GeogCitationGeoKey"):
        cit = keys.get(name)
        if cit and "ESRI PE String = " in str(cit):
            return str(cit).split("ESRI PE String = ", 1)[1].strip().strip("\x00")
    return None


def _geogcs_wkt(keys: dict[str, Any]) -> str:
    """WKT1 GEOGCS of the geographic keys (EPSG code or user-defined)."""
    code = _code(keys, "GeographicTypeGeoKey")
    if code is not None and code != USER_DEFINED:
        try:
            return pyproj.CRS.from_epsg(code).to_wkt("WKT1_GDAL")
        except pyproj.exceptions.CRSError as exc:
            raise CRSError(f"unknown GeographicTypeGeoKey EPSG code {code}: {exc}") from None
    cit = _parse_gcs_citation(_str(keys, "GeogCitationGeoKey"))
    datum_code = _code(keys, "GeogGeodeticDatumGeoKey")
    ell_code = _code(keys, "GeogEllipsoidGeoKey")
    a = _num(keys, "GeogSemiMajorAxisGeoKey")
    rf = _num(keys, "GeogInvFlatteningGeoKey")
    b = _num(keys, "GeogSemiMinorAxisGeoKey")
    datum_wkt: str | None = None
    if datum_code is not None and datum_code != USER_DEFINED:
        try:
            datum = pyproj.crs.Datum.from_epsg(datum_code)
            ell = datum.ellipsoid
            if ell is not None:
                ell_name, a0, rf0 = ell.name, ell.semi_major_metre, ell.inverse_flattening
            else:  # a datum ensemble (e.g. WGS 84): its ellipsoid is in the JSON
                ej = datum.to_json_dict().get("ellipsoid") or {}
                ell_name = ej.get("name", "unknown")
                a0 = float(ej["semi_major_axis"])
                rf0 = float(ej.get("inverse_flattening", 0.0))
            datum_name = datum.name.replace(" ensemble", "")
            datum_wkt = (
                f'DATUM["{_q(datum_name)}",SPHEROID["{_q(ell_name)}",{a0!r},{rf0!r}],'
                f'AUTHORITY["EPSG","{datum_code}"]]'
            )
        except (pyproj.exceptions.CRSError, KeyError, TypeError, ValueError):
            datum_wkt = None
    if datum_wkt is None:
        ell_name = cit.get("ellipsoid", "unnamed")
        if ell_code is not None and ell_code != USER_DEFINED:
            try:
                ell = pyproj.crs.Ellipsoid.from_epsg(ell_code)
                ell_name = ell.name
                if a is None:
                    a = ell.semi_major_metre
                if rf is None and b is None:
                    rf = ell.inverse_flattening
            except pyproj.exceptions.CRSError:
                pass
        if a is None:  # no ellipsoid at all: WGS 84's, as libgeotiff's defaults give
            a, rf, ell_name = 6378137.0, 298.257223563, cit.get("ellipsoid", "WGS 84")
        if rf is None:
            rf = 0.0 if (b is None or b == a) else a / (a - b)
        auth = f',AUTHORITY["EPSG","{ell_code}"]' if ell_code and ell_code != USER_DEFINED else ""
        towgs = keys.get("GeogTOWGS84GeoKey")
        tw = ""
        if towgs is not None:
            vals = [float(v) for v in (towgs if isinstance(towgs, (list, tuple)) else [towgs])]
            if len(vals) in (3, 7):
                vals = vals + [0.0] * (7 - len(vals))
                tw = ",TOWGS84[" + ",".join(_fmt(v) for v in vals) + "]"
        datum_wkt = (
            f'DATUM["{_q(cit.get("datum", "unknown"))}",SPHEROID["{_q(ell_name)}",{a!r},{rf!r}{auth}]{tw}]'
        )
    pm_long = _num(keys, "GeogPrimeMeridianLongGeoKey", default=0.0) or 0.0
    pm_code = _code(keys, "GeogPrimeMeridianGeoKey")
    pm_name = cit.get("primem", "Greenwich" if pm_long == 0.0 else "unnamed")
    if pm_code is not None and pm_code not in (USER_DEFINED, 8901):
        try:
            pm = pyproj.crs.PrimeMeridian.from_epsg(pm_code)
            pm_name, pm_long = pm.name, pm.longitude
        except pyproj.exceptions.CRSError:
            pass
    au_code = _code(keys, "GeogAngularUnitsGeoKey") or 9102
    au_name, au_rad = _ANGULAR_UNITS.get(au_code, ("degree", 0.0174532925199433))
    if au_code not in _ANGULAR_UNITS and _num(keys, "GeogAngularUnitSizeGeoKey"):
        au_name, au_rad = "unknown", float(_num(keys, "GeogAngularUnitSizeGeoKey"))  # type: ignore[arg-type]
    return (
        f'GEOGCS["{_q(cit.get("gcs", "unknown"))}",{datum_wkt},PRIMEM["{_q(pm_name)}",{_fmt(pm_long)}],'
        f'UNIT["{au_name}",{au_rad!r}]]'
    )


def _fmt(v: float) -> str:
    if float(v).is_integer() and abs(v) < 1e15:
        return str(int(v))
    return repr(float(v))


def _projection_wkt(keys: dict[str, Any], lin_to_m: float) -> tuple[str, list[tuple[str, float]]]:
    """(WKT1 PROJECTION name, [(parameter, value)]) from ProjCoordTransGeoKey + parameters."""
    ct = _code(keys, "ProjCoordTransGeoKey")
    fe = _num(keys, "ProjFalseEastingGeoKey", "ProjCenterEastingGeoKey", "ProjFalseOriginEastingGeoKey", default=0.0)
    fn = _num(keys, "ProjFalseNorthingGeoKey", "ProjCenterNorthingGeoKey", "ProjFalseOriginNorthingGeoKey", default=0.0)
    nat_lat = _num(keys, "ProjNatOriginLatGeoKey", "ProjFalseOriginLatGeoKey", "ProjCenterLatGeoKey", default=0.0)
    nat_lon = _num(keys, "ProjNatOriginLongGeoKey", "ProjFalseOriginLongGeoKey", "ProjCenterLongGeoKey", default=0.0)
    scale = _num(keys, "ProjScaleAtNatOriginGeoKey", "ProjScaleAtCenterGeoKey", default=1.0)
    sp1 = _num(keys, "ProjStdParallel1GeoKey")
    sp2 = _num(keys, "ProjStdParallel2GeoKey")
    fe_fn = [("false_easting", fe), ("false_northing", fn)]
    if ct == 1:  # Transverse Mercator
        return "Transverse_Mercator", [("latitude_of_origin", nat_lat), ("central_meridian", nat_lon),
                                       ("scale_factor", scale), *fe_fn]
    if ct == 2:  # TM modified Alaska
        return "Transverse_Mercator", [("latitude_of_origin", nat_lat), ("central_meridian", nat_lon),
                                       ("scale_factor", scale), *fe_fn]
    if ct == 7:  # Mercator
        if sp1 is not None and sp1 != 0.0:
            return "Mercator_2SP", [("standard_parallel_1", sp1), ("central_meridian", nat_lon), *fe_fn]
        return "Mercator_1SP", [("latitude_of_origin", nat_lat), ("central_meridian", nat_lon),
                                ("scale_factor", scale), *fe_fn]
    if ct == 8:  # LCC 2SP
        lat0 = _num(keys, "ProjFalseOriginLatGeoKey", "ProjNatOriginLatGeoKey", "ProjCenterLatGeoKey", default=0.0)
        lon0 = _num(keys, "ProjFalseOriginLongGeoKey", "ProjNatOriginLongGeoKey", "ProjCenterLongGeoKey", default=0.0)
        fe2 = _num(keys, "ProjFalseOriginEastingGeoKey", "ProjFalseEastingGeoKey", default=0.0)
        fn2 = _num(keys, "ProjFalseOriginNorthingGeoKey", "ProjFalseNorthingGeoKey", default=0.0)
        return "Lambert_Conformal_Conic_2SP", [("standard_parallel_1", sp1 or 0.0), ("standard_parallel_2", sp2 or 0.0),
                                               ("latitude_of_origin", lat0), ("central_meridian", lon0),
                                               ("false_easting", fe2), ("false_northing", fn2)]
    if ct == 9:  # LCC 1SP
        return "Lambert_Conformal_Conic_1SP", [("latitude_of_origin", nat_lat), ("central_meridian", nat_lon),
                                               ("scale_factor", scale), *fe_fn]
    if ct == 10:  # Lambert azimuthal equal area
        lat = _num(keys, "ProjCenterLatGeoKey", "ProjNatOriginLatGeoKey", default=0.0)
        lon = _num(keys, "ProjCenterLongGeoKey", "ProjNatOriginLongGeoKey", default=0.0)
        return "Lambert_Azimuthal_Equal_Area", [("latitude_of_center", lat), ("longitude_of_center", lon), *fe_fn]
    if ct == 11:  # Albers
        lat = _num(keys, "ProjNatOriginLatGeoKey", "ProjFalseOriginLatGeoKey", "ProjCenterLatGeoKey", default=0.0)
        lon = _num(keys, "ProjNatOriginLongGeoKey", "ProjFalseOriginLongGeoKey", "ProjCenterLongGeoKey", default=0.0)
        return "Albers_Conic_Equal_Area", [("standard_parallel_1", sp1 or 0.0), ("standard_parallel_2", sp2 or 0.0),
                                           ("latitude_of_center", lat), ("longitude_of_center", lon), *fe_fn]
    if ct == 12:  # Azimuthal equidistant
        lat = _num(keys, "ProjCenterLatGeoKey", "ProjNatOriginLatGeoKey", default=0.0)
        lon = _num(keys, "ProjCenterLongGeoKey", "ProjNatOriginLongGeoKey", default=0.0)
        return "Azimuthal_Equidistant", [("latitude_of_center", lat), ("longitude_of_center", lon), *fe_fn]
    if ct == 13:  # Equidistant conic
        lat = _num(keys, "ProjCenterLatGeoKey", "ProjNatOriginLatGeoKey", "ProjFalseOriginLatGeoKey", default=0.0)
        lon = _num(keys, "ProjCenterLongGeoKey", "ProjNatOriginLongGeoKey", "ProjFalseOriginLongGeoKey", default=0.0)
        return "Equidistant_Conic", [("standard_parallel_1", sp1 or 0.0), ("standard_parallel_2", sp2 or 0.0),
                                     ("latitude_of_center", lat), ("longitude_of_center", lon), *fe_fn]
    if ct == 14:  # Stereographic
        lat = _num(keys, "ProjCenterLatGeoKey", "ProjNatOriginLatGeoKey", default=0.0)
        lon = _num(keys, "ProjCenterLongGeoKey", "ProjNatOriginLongGeoKey", default=0.0)
        return "Stereographic", [
            ("latitude_of_origin", lat), ("central_meridian", lon), ("scale_factor", scale), *fe_fn
        ]
    if ct == 15:  # Polar stereographic
        lon = _num(keys, "ProjStraightVertPoleLongGeoKey", "ProjNatOriginLongGeoKey", default=0.0)
        params = [("latitude_of_origin", nat_lat), ("central_meridian", lon)]
        if abs(abs(nat_lat or 0.0) - 90.0) < 1e-12 or scale != 1.0:
            params.append(("scale_factor", scale))
        return "Polar_Stereographic", [*params, *fe_fn]
    if ct == 16:  # Oblique stereographic
        return "Oblique_Stereographic", [("latitude_of_origin", nat_lat), ("central_meridian", nat_lon),
                                         ("scale_factor", scale), *fe_fn]
    if ct == 17:  # Equirectangular
        lat = _num(keys, "ProjCenterLatGeoKey", "ProjNatOriginLatGeoKey", default=0.0)
        lon = _num(keys, "ProjCenterLongGeoKey", "ProjNatOriginLongGeoKey", default=0.0)
        return "Equirectangular", [("latitude_of_origin", lat), ("central_meridian", lon),
                                   ("standard_parallel_1", sp1 or 0.0), *fe_fn]
    if ct == 18:  # Cassini-Soldner
        return "Cassini_Soldner", [("latitude_of_origin", nat_lat), ("central_meridian", nat_lon), *fe_fn]
    if ct == 20:  # Polyconic
        return "Polyconic", [("latitude_of_origin", nat_lat), ("central_meridian", nat_lon), *fe_fn]
    if ct == 21:  # Orthographic
        lat = _num(keys, "ProjCenterLatGeoKey", "ProjNatOriginLatGeoKey", default=0.0)
        lon = _num(keys, "ProjCenterLongGeoKey", "ProjNatOriginLongGeoKey", default=0.0)
        return "Orthographic", [("latitude_of_origin", lat), ("central_meridian", lon), *fe_fn]
    if ct == 24:  # Sinusoidal
        lon = _num(keys, "ProjCenterLongGeoKey", "ProjNatOriginLongGeoKey", default=0.0)
        return "Sinusoidal", [("longitude_of_center", lon), *fe_fn]
    if ct == 26:  # Van der Grinten
        return "VanDerGrinten", [("central_meridian", nat_lon), *fe_fn]
    if ct in (3, 4, 5):  # Hotine oblique Mercator (variant B / A)
        lat = _num(keys, "ProjCenterLatGeoKey", "ProjNatOriginLatGeoKey", default=0.0)
        lon = _num(keys, "ProjCenterLongGeoKey", "ProjNatOriginLongGeoKey", default=0.0)
        az = _num(keys, "ProjAzimuthAngleGeoKey", default=0.0)
        rect = _num(keys, "ProjRectifiedGridAngleGeoKey", default=az)
        name = "Hotine_Oblique_Mercator_Azimuth_Center" if ct == 3 else "Hotine_Oblique_Mercator"
        return name, [("latitude_of_center", lat), ("longitude_of_center", lon), ("azimuth", az),
                      ("rectified_grid_angle", rect), ("scale_factor", scale), *fe_fn]
    raise CRSError(f"unsupported GeoTIFF ProjCoordTransGeoKey {ct!r}")


def crs_from_geokeys(keys: dict[str, Any]) -> pyproj.CRS | None:
    """Build the CRS GDAL would report for a GeoKey directory.

    Parameters
    ----------
    keys : dict
        GeoKey name -> value (as ``tifffile.TiffPage.geotiff_tags`` gives them).

    Returns
    -------
    pyproj.CRS or None
        ``None`` when the keys define no CRS.

    Raises
    ------
    CRSError
        When the keys describe a CRS that cannot be built.

    Examples
    --------
    >>> crs_from_geokeys({"GTModelTypeGeoKey": 2, "GeographicTypeGeoKey": 4326}).to_epsg()
    4326
    """
    keys = {GEOKEY_NAMES.get(k, k) if isinstance(k, int) else k: v for k, v in keys.items()}
    model = _code(keys, "GTModelTypeGeoKey")
    pcs = _code(keys, "ProjectedCSTypeGeoKey")
    gcs = _code(keys, "GeographicTypeGeoKey")
    try:
        if pcs is not None and pcs != USER_DEFINED and model != 2:
            return pyproj.CRS.from_epsg(pcs)
        wkt = _esri_pe_wkt(keys)
        if wkt:
            return pyproj.CRS.from_wkt(wkt)
        if model == 2 or (model is None and pcs is None and gcs is not None):
            if gcs is not None and gcs != USER_DEFINED:
                return pyproj.CRS.from_epsg(gcs)
            return pyproj.CRS.from_wkt(_geogcs_wkt(keys))
        if model in (1, USER_DEFINED) or pcs is not None:
            if (
                pcs is None
                and _code(keys, "ProjectionGeoKey") is None
                and _code(keys, "ProjCoordTransGeoKey") is None
            ):
                if gcs is not None or keys.get("GeogSemiMajorAxisGeoKey") is not None:
                    return pyproj.CRS.from_wkt(_geogcs_wkt(keys))
                return None
            return pyproj.CRS.from_wkt(_projcs_wkt(keys))
    except pyproj.exceptions.CRSError as exc:
        raise CRSError(f"cannot build a CRS from the GeoKeys: {exc}") from None
    return None


def _projcs_wkt(keys: dict[str, Any]) -> str:
    geogcs = _geogcs_wkt(keys)
    lu_code = _code(keys, "ProjLinearUnitsGeoKey") or 9001
    if lu_code in _LINEAR_UNITS:
        lu_name, lu_m = _LINEAR_UNITS[lu_code]
    elif _num(keys, "ProjLinearUnitSizeGeoKey"):
        lu_name, lu_m = "unknown", float(_num(keys, "ProjLinearUnitSizeGeoKey"))  # type: ignore[arg-type]
    else:
        lu_name, lu_m = "metre", 1.0
    name = _str(keys, "PCSCitationGeoKey") or _str(keys, "GTCitationGeoKey") or "unnamed"
    if "=" in name and "|" in name:  # GDAL-style "PCS Name = X|..." citation
        for part in name.split("|"):
            if "=" in part and part.split("=", 1)[0].strip().lower().startswith("pcs name"):
                name = part.split("=", 1)[1].strip()
                break
    proj_code = _code(keys, "ProjectionGeoKey")
    if proj_code is not None and proj_code != USER_DEFINED:
        try:
            op = pyproj.crs.CoordinateOperation.from_epsg(proj_code)
        except pyproj.exceptions.CRSError as exc:
            raise CRSError(f"unknown ProjectionGeoKey EPSG code {proj_code}: {exc}") from None
        conv_json = op.to_json_dict()
        geog = pyproj.CRS.from_wkt(geogcs)
        base = geog.source_crs if geog.is_bound and geog.source_crs is not None else geog
        crs = pyproj.crs.ProjectedCRS(conversion=conv_json, geodetic_crs=base, name=name)
        wkt = _replace_geogcs(crs.to_wkt("WKT1_GDAL"), geogcs)  # keeps a TOWGS84 of the keys
        if lu_code != 9001:
            wkt = re.sub(r'UNIT\["metre",1(,AUTHORITY\["EPSG","9001"\])?\](?=,AXIS|\]$|,AUTHORITY)',
                         f'UNIT["{lu_name}",{lu_m!r}]', wkt)
        return wkt
    proj_name, params = _projection_wkt(keys, lu_m)
    ptxt = ",".join(f'PARAMETER["{p}",{_fmt(v)}]' for p, v in params)
    return f'PROJCS["{_q(name)}",{geogcs},PROJECTION["{proj_name}"],{ptxt},UNIT["{lu_name}",{_fmt(lu_m)}]]'


def _replace_geogcs(projcs_wkt: str, geogcs: str) -> str:
    """Replace the GEOGCS[...] node of a WKT1 PROJCS by ``geogcs``."""
    start = projcs_wkt.find("GEOGCS[")
    if start < 0:
        return projcs_wkt
    depth = 0
    for i in range(start + 6, len(projcs_wkt)):
        ch = projcs_wkt[i]
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
            if depth == 0:
                return projcs_wkt[:start] + geogcs + projcs_wkt[i + 1 :]
    return projcs_wkt


# --------------------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------------------


def geokeys_from_crs(crs: pyproj.CRS) -> list[tuple[int, Any]]:
    """GeoKeys ``[(key id, value)]`` (``GTRasterTypeGeoKey`` = PixelIsArea) for a CRS.

    EPSG codes are written as such; any other CRS is written as user-defined keys whose
    ``PCSCitationGeoKey`` carries the full WKT (``ESRI PE String = <WKT1_GDAL>``), which
    GDAL (and :func:`crs_from_geokeys`) read back as that exact WKT.

    Examples
    --------
    >>> dict(geokeys_from_crs(pyproj.CRS.from_epsg(4326)))[2048]
    4326
    """
    ids = GEOKEY_IDS
    keys: list[tuple[int, Any]] = [(ids["GTRasterTypeGeoKey"], 1)]
    epsg = _exact_epsg(crs)
    if crs.is_geographic:
        keys.append((ids["GTModelTypeGeoKey"], 2))
        if epsg is not None:
            keys.append((ids["GeographicTypeGeoKey"], epsg))
            keys.append((ids["GeogCitationGeoKey"], crs.name))
        else:
            keys += _user_geog_keys(crs)
        return sorted(keys)
    if not crs.is_projected:
        raise CRSError(f"cannot write CRS {crs.name!r} to GeoTIFF GeoKeys: neither geographic nor projected")
    if epsg is not None:
        keys.append((ids["GTModelTypeGeoKey"], 1))
        keys.append((ids["ProjectedCSTypeGeoKey"], epsg))
        keys.append((ids["GTCitationGeoKey"], crs.name))
        return sorted(keys)
    # user-defined model type + WKT in the PCS citation: what GDAL reads back as that WKT
    keys.append((ids["GTModelTypeGeoKey"], USER_DEFINED))
    keys.append((ids["GTCitationGeoKey"], crs.name or "unnamed"))
    # WKT1_GDAL, as GDAL itself writes it (PROJ-only parameters such as +sweep travel in its
    # EXTENSION["PROJ4", ...] node); GDAL and crs_from_geokeys read back the same CRS.
    wkt = crs.to_wkt("WKT1_GDAL")
    if not wkt:
        raise CRSError(f"CRS {crs.name!r} cannot be expressed as WKT1 for a GeoTIFF")
    keys.append((ids["PCSCitationGeoKey"], "ESRI PE String = " + wkt))
    keys += _user_geog_keys(crs.geodetic_crs or crs)
    unit = crs.axis_info[0].unit_conversion_factor if crs.axis_info else 1.0
    if unit == 1.0:
        keys.append((ids["ProjLinearUnitsGeoKey"], 9001))
    else:
        keys.append((ids["ProjLinearUnitsGeoKey"], USER_DEFINED))
        keys.append((ids["ProjLinearUnitSizeGeoKey"], float(unit)))
    return sorted(keys)


def _exact_epsg(crs: pyproj.CRS) -> int | None:
    """EPSG code only when the CRS *is* that EPSG CRS (authority given, or equal to it)."""
    if crs.is_bound:  # a CRS with its own TOWGS84: never a plain EPSG CRS (and identifying it is slow)
        return None
    auth = crs.to_authority(min_confidence=100)
    if auth is None or auth[0] != "EPSG":
        return None
    code = int(auth[1])
    try:
        ref = pyproj.CRS.from_epsg(code)
    except pyproj.exceptions.CRSError:
        return None
    if ref.equals(crs, ignore_axis_order=True):
        return code
    return None


def _user_geog_keys(geog: pyproj.CRS) -> list[tuple[int, Any]]:
    ids = GEOKEY_IDS
    ell = geog.ellipsoid
    datum = geog.datum
    pm = geog.prime_meridian
    if ell is None:
        raise CRSError(f"CRS {geog.name!r} has no ellipsoid")
    rf = ell.inverse_flattening
    if not math.isfinite(rf):
        rf = 0.0
    cit = (
        f"GCS Name = {geog.name}|Datum = {datum.name if datum else 'unknown'}|"
        f"Ellipsoid = {ell.name}|Primem = {pm.name if pm else 'Greenwich'}|"
    )
    extra: list[tuple[int, Any]] = []
    m = re.search(r"TOWGS84\[([^\]]*)\]", geog.to_wkt("WKT1_GDAL") or "")
    if m:
        vals = tuple(float(v) for v in m.group(1).split(","))
        if len(vals) == 7 and not any(vals[3:]):
            vals = vals[:3]
        extra.append((ids["GeogTOWGS84GeoKey"], vals))
    return extra + [
        (ids["GeographicTypeGeoKey"], USER_DEFINED),
        (ids["GeogCitationGeoKey"], cit),
        (ids["GeogGeodeticDatumGeoKey"], USER_DEFINED),
        (ids["GeogAngularUnitsGeoKey"], 9102),
        (ids["GeogEllipsoidGeoKey"], USER_DEFINED),
        (ids["GeogSemiMajorAxisGeoKey"], float(ell.semi_major_metre)),
        (ids["GeogInvFlatteningGeoKey"], float(rf)),
        (ids["GeogPrimeMeridianLongGeoKey"], float(pm.longitude if pm else 0.0)),
    ]
