// Raster I/O and resampling through GDAL: GeoTIFF, ESRI ASCII, NetCDF and any
// other raster format the installed GDAL reads.
//
// GDAL stays an implementation detail: nothing here includes a GDAL header.
// All functions are safe to call from several threads at once (each call
// opens its own datasets; GDAL's error state is per thread). GDAL's own
// printing to stderr is silenced during these calls; its message is carried in
// the RasterError instead.
#pragma once

#include <string>

#include "floodwarn/grids/raster.hpp"

namespace floodwarn::grids {

// Reads band `band` (1-based) of any raster GDAL can open: a GeoTIFF, an ESRI
// ASCII grid, a NetCDF variable (`NETCDF:"file.nc":var`, or a plain file name
// when the file holds a single raster variable), ...
//
// The result carries the geotransform, the band's nodata value (if any) and
// the CRS as WKT2 (2019) ("" when the file has none). Throws RasterError naming
// the file and what was expected when the file is missing or not a raster,
// the band does not exist, the file has no geotransform, or the geotransform
// is rotated/sheared or not north-up (Raster stores row 0 as the north row).
RasterD ReadRaster(const std::string& path, int band = 1);

// How ResampleTo computes a target cell from the source cells:
//  kNearest   value of the source cell containing the target cell centre. For
//             classes, masks and ids, and for exact refinements of a grid.
//  kBilinear  bilinear interpolation between the four nearest source cell
//             centres (GDAL widens the kernel when coarsening). For smooth
//             fields (a DEM) onto a finer or shifted grid; reproduces linear
//             surfaces exactly.
//  kAverage   area-weighted mean of the source cells overlapping the target
//             cell. For coarsening a DEM or a depth field: keeps the mean
//             elevation, so storage volumes are preserved.
enum class Resample { kNearest, kBilinear, kAverage };

// Resamples `src` onto the grid `target` (cols x rows) in `target_crs_wkt`.
// When both the source and the target CRS are known and differ, the data are
// reprojected; when either is unknown ("") both grids are taken to be in the
// same coordinates. Source nodata cells (the sentinel or NaN) are ignored;
// target cells that no source data reach become nodata. The result's nodata
// is the source's sentinel, or -9999 (or another value absent from the data)
// when the source has none; its CRS is `target_crs_wkt`, or the source's when
// that is empty. Throws RasterError on an invalid CRS or a GDAL failure.
RasterD ResampleTo(const RasterD& src, const GeoTransform& target, int cols, int rows,
                   const std::string& target_crs_wkt, Resample method);

// Writes a Float64 GeoTIFF (tiled 256x256, DEFLATE with the floating-point
// predictor) with the geotransform, nodata and CRS of `r`. Values round-trip
// exactly. Written to `path + ".tmp"` and renamed, so a half-written file
// never looks like a result. Throws RasterError naming the file on failure.
void WriteGeoTiff(const std::string& path, const RasterD& r);

// True when two CRS WKT strings describe the same CRS (OGRSpatialReference::
// IsSame, so WKT1 and WKT2 of the same CRS compare equal). "" means unknown:
// two unknown CRSs compare equal, unknown vs known does not. Throws
// RasterError when a non-empty string is not a CRS. Besides WKT, both here
// and in ResampleTo, a CRS may be given as anything OGRSpatialReference::
// SetFromUserInput takes without file or network access (e.g. "EPSG:25832").
bool SameCrs(const std::string& wkt_a, const std::string& wkt_b);

}  // namespace floodwarn::grids
