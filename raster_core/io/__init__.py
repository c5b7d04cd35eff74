"""GeoTIFF / COG reading and writing, and PNG / JPEG output, without GDAL.

Examples
--------
>>> from raster_core.io import open, write_geotiff, write_image
>>> callable(open) and callable(write_geotiff) and callable(write_image)
True
"""

from __future__ import annotations

from raster_core.io.geotiff import Dataset, GroundControlPoint, Window, open
from raster_core.io.images import write_image
from raster_core.io.write import write_geotiff

__all__ = ["open", "Dataset", "GroundControlPoint", "Window", "write_geotiff", "write_image"]
