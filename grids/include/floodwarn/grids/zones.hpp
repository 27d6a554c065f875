// Zones on a model grid: the places a forecast warning names (a district, an
// underpass, a street), each a set of grid cells. Read from polygons in any
// vector format GDAL/OGR reads (GeoJSON, GeoPackage, Shapefile, ...) or from
// a raster of integer zone ids.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "floodwarn/grids/raster.hpp"

namespace floodwarn::grids {

struct Zone {
  std::string id;
  // Cells of the grid, north-up indices row * cols + col, increasing. Zones
  // may overlap (a district and the underpass inside it).
  std::vector<std::size_t> cells;
};

// Polygons of `path` (its first layer, or `layer` when given): a cell belongs
// to a zone when its centre lies inside one of the zone's polygons; features
// with the same `id_field` value form one zone. When the file and the grid
// both have a CRS and they differ, the polygons are reprojected. Throws
// RasterError naming the file (and the feature) when the file cannot be read,
// the field is missing, an id is empty, a feature is not a polygon, or a zone
// covers no cell centre of the grid.
std::vector<Zone> ReadZones(const std::string& path, const std::string& id_field,
                            const GeoTransform& geo, int cols, int rows,
                            const std::string& grid_crs_wkt, const std::string& layer = "");

// A raster of integer zone ids on the grid itself (same geotransform and
// size): every positive integer is a zone, its id the integer as text; 0,
// nodata and NaN mean no zone. Throws RasterError (naming `what`) on another
// grid or a value that is not an integer.
std::vector<Zone> ZonesFromRaster(const RasterD& ids, const GeoTransform& geo, int cols, int rows,
                                  const std::string& what);

}  // namespace floodwarn::grids
