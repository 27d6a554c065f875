// A 2D raster with a north-up geotransform and a nodata mask.
//
// Storage is row-major with row 0 the northernmost row, as in ESRI ASCII grids
// and GDAL. Cell (col, row) covers
//   x in [x_west + col*cell_width,  x_west + (col+1)*cell_width)
//   y in (y_north - (row+1)*cell_height, y_north - row*cell_height]
#pragma once

#include <cmath>
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace floodwarn::grids {

struct GeoTransform {
  double x_west = 0.0;       // x of the west edge of column 0 (m)
  double y_north = 0.0;      // y of the north edge of row 0 (m)
  double cell_width = 1.0;   // > 0 (m)
  double cell_height = 1.0;  // > 0 (m); rows go southwards

  double CellCenterX(int col) const { return x_west + (col + 0.5) * cell_width; }
  double CellCenterY(int row) const { return y_north - (row + 0.5) * cell_height; }
  // Column/row of the cell containing (x, y); may be outside [0, n).
  int ColumnOf(double x) const { return static_cast<int>(std::floor((x - x_west) / cell_width)); }
  int RowOf(double y) const { return static_cast<int>(std::floor((y_north - y) / cell_height)); }
  bool SameGrid(const GeoTransform& o, double tol = 1e-9) const;
};

// Thrown for malformed raster files; the message names the file and line.
class RasterError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

template <class T>
class Raster {
 public:
  Raster() = default;
  Raster(int cols, int rows, const GeoTransform& gt, T fill = T{})
      : cols_(cols), rows_(rows), gt_(gt), data_(static_cast<std::size_t>(cols) * rows, fill) {
    if (cols <= 0 || rows <= 0) throw std::invalid_argument("Raster: cols and rows must be > 0");
  }

  int cols() const { return cols_; }
  int rows() const { return rows_; }
  std::size_t size() const { return data_.size(); }
  const GeoTransform& geo() const { return gt_; }
  GeoTransform& geo() { return gt_; }

  T& operator()(int col, int row) { return data_[Index(col, row)]; }
  const T& operator()(int col, int row) const { return data_[Index(col, row)]; }
  std::vector<T>& data() { return data_; }
  const std::vector<T>& data() const { return data_; }

  // Nodata: the file's sentinel value. A cell is nodata when it equals the
  // sentinel or is NaN.
  // Coordinate reference system as WKT ("" = unknown, e.g. from ESRI ASCII).
  const std::string& crs_wkt() const { return crs_wkt_; }
  void set_crs_wkt(std::string wkt) { crs_wkt_ = std::move(wkt); }

  const std::optional<double>& nodata() const { return nodata_; }
  void set_nodata(std::optional<double> v) { nodata_ = v; }
  bool IsNodata(int col, int row) const {
    const double v = static_cast<double>((*this)(col, row));
    return std::isnan(v) || (nodata_ && v == *nodata_);
  }
  std::size_t CountNodata() const {
    std::size_t n = 0;
    for (int r = 0; r < rows_; ++r)
      for (int c = 0; c < cols_; ++c) n += IsNodata(c, r) ? 1 : 0;
    return n;
  }

 private:
  std::size_t Index(int col, int row) const {
    return static_cast<std::size_t>(row) * static_cast<std::size_t>(cols_) +
           static_cast<std::size_t>(col);
  }
  int cols_ = 0;
  int rows_ = 0;
  GeoTransform gt_;
  std::optional<double> nodata_;
  std::string crs_wkt_;
  std::vector<T> data_;
};

using RasterD = Raster<double>;

// ESRI ASCII grid (.asc): header keys ncols, nrows, xllcorner|xllcenter,
// yllcorner|yllcenter, cellsize (or dx/dy), optional NODATA_value, then rows
// north to south. Throws RasterError naming the file, line and problem.
RasterD ReadAsciiGrid(const std::string& path);
// Writes with full round-trip precision by default. Written to a temporary name
// and renamed, so a half-written file never looks like a result.
void WriteAsciiGrid(const std::string& path, const RasterD& raster, int significant_digits = 17);

}  // namespace floodwarn::grids
