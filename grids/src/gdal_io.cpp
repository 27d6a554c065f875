// Raster I/O and resampling through GDAL (see gdal_io.hpp), and zone polygons
// through OGR (zones.hpp).
#include "floodwarn/grids/gdal_io.hpp"
#include "floodwarn/grids/zones.hpp"

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_string.h>
#include <cpl_vsi.h>
#include <fmt/format.h>
#include <gdal.h>
#include <gdal_alg.h>
#include <gdal_priv.h>
#include <gdalwarper.h>
#include <ogr_geometry.h>
#include <ogr_spatialref.h>
#include <ogrsf_frmts.h>

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <vector>

#include "floodwarn/common/atomic_file.hpp"

namespace floodwarn::grids {
namespace {

void EnsureGdalRegistered() {
  static std::once_flag once;
  std::call_once(once, [] { GDALAllRegister(); });
}

// For the lifetime of a call into this file: GDAL reports errors to a quiet
// handler (nothing on stderr) and the thread's last error starts cleared, so
// GdalMessage() returns what GDAL said during this call. Both the handler stack
// and the last error are per thread in GDAL.
class QuietGdalErrors {
 public:
  QuietGdalErrors() {
    CPLPushErrorHandler(CPLQuietErrorHandler);
    CPLErrorReset();
  }
  ~QuietGdalErrors() { CPLPopErrorHandler(); }
  QuietGdalErrors(const QuietGdalErrors&) = delete;
  QuietGdalErrors& operator=(const QuietGdalErrors&) = delete;
};

// GDAL's last message, formatted to append to an error text ("" if none).
std::string GdalMessage() {
  const char* msg = CPLGetLastErrorMsg();
  if (msg == nullptr || *msg == '\0') return "";
  return fmt::format(" (GDAL: {})", msg);
}

// Parses a CRS given as WKT (or another definition OGRSpatialReference takes
// without file or network access, e.g. "EPSG:25832"). Axis order is x = east /
// longitude, y = north / latitude, as in our geotransforms.
OGRSpatialReference ParseCrs(const std::string& text, const std::string& what) {
  OGRSpatialReference srs;
  if (srs.SetFromUserInput(text.c_str(), OGRSpatialReference::SET_FROM_USER_INPUT_LIMITATIONS) !=
      OGRERR_NONE) {
    const std::string head = text.size() > 60 ? text.substr(0, 60) + "..." : text;
    throw RasterError(fmt::format("{}: expected a CRS as OGC WKT (or e.g. EPSG:25832), got '{}'{}",
                                  what, head, GdalMessage()));
  }
  srs.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  return srs;
}

// WKT2 (2019) is lossless for every CRS PROJ knows; fall back to GDAL's
// default WKT1 for the rare CRS that cannot be written as WKT2.
std::string ToWkt(const OGRSpatialReference& srs) {
  static const char* const kWkt2[] = {"FORMAT=WKT2_2019", nullptr};
  char* wkt = nullptr;
  OGRErr err = srs.exportToWkt(&wkt, kWkt2);
  if (err != OGRERR_NONE || wkt == nullptr) {
    CPLFree(wkt);
    wkt = nullptr;
    err = srs.exportToWkt(&wkt);
  }
  std::string out = (err == OGRERR_NONE && wkt != nullptr) ? wkt : "";
  CPLFree(wkt);
  return out;
}

void ToGdalGeoTransform(const GeoTransform& gt, double out[6]) {
  out[0] = gt.x_west;
  out[1] = gt.cell_width;
  out[2] = 0.0;
  out[3] = gt.y_north;
  out[4] = 0.0;
  out[5] = -gt.cell_height;
}

// The names of the subdatasets (e.g. NetCDF variables) of a dataset that has
// no bands of its own.
std::vector<std::string> SubdatasetNames(GDALDataset& ds) {
  std::vector<std::string> names;
  CSLConstList md = ds.GetMetadata("SUBDATASETS");
  for (int i = 0; md != nullptr && md[i] != nullptr; ++i) {
    char* key = nullptr;
    const char* value = CPLParseNameValue(md[i], &key);
    if (key != nullptr && value != nullptr) {
      const std::string k = key;
      if (k.size() > 5 && k.compare(k.size() - 5, 5, "_NAME") == 0) names.emplace_back(value);
    }
    CPLFree(key);
  }
  return names;
}

// A MEM dataset with one Float64 band.
GDALDatasetUniquePtr CreateMem(int cols, int rows, const char* role) {
  GDALDriver* mem = GetGDALDriverManager()->GetDriverByName("MEM");
  if (mem == nullptr) throw RasterError("ResampleTo: GDAL has no MEM driver");
  GDALDatasetUniquePtr ds(mem->Create("", cols, rows, 1, GDT_Float64, nullptr));
  if (!ds)
    throw RasterError(fmt::format("ResampleTo: cannot create the {} grid ({} x {} cells){}", role,
                                  cols, rows, GdalMessage()));
  return ds;
}

// A nodata sentinel for ResampleTo: the source's own, or a value that no valid
// source cell holds.
double ChooseSentinel(const RasterD& src) {
  if (src.nodata() && std::isfinite(*src.nodata())) return *src.nodata();
  const double candidates[] = {-9999.0, -99999.0, -1e30, std::numeric_limits<double>::lowest()};
  for (const double c : candidates) {
    bool used = false;
    for (const double v : src.data()) used = used || v == c;
    if (!used) return c;
  }
  return std::numeric_limits<double>::lowest();  // -DBL_MAX is in the data: give up on uniqueness
}

GDALResampleAlg ToGdal(Resample method) {
  switch (method) {
    case Resample::kNearest:
      return GRA_NearestNeighbour;
    case Resample::kBilinear:
      return GRA_Bilinear;
    case Resample::kAverage:
      return GRA_Average;
  }
  throw std::invalid_argument("ResampleTo: unknown Resample method");
}

struct WarpOptionsDeleter {
  void operator()(GDALWarpOptions* o) const { GDALDestroyWarpOptions(o); }
};
struct TransformerDeleter {
  void operator()(void* t) const { GDALDestroyGenImgProjTransformer(t); }
};

}  // namespace

RasterD ReadRaster(const std::string& path, int band) {
  EnsureGdalRegistered();
  QuietGdalErrors quiet;
  GDALDatasetUniquePtr ds(
      GDALDataset::Open(path.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY | GDAL_OF_VERBOSE_ERROR));
  if (!ds) {
    VSIStatBufL st;
    // "NETCDF:"file":var" and "/vsi..." names are not plain files: let GDAL explain those.
    if (path.find(':') == std::string::npos && VSIStatL(path.c_str(), &st) != 0)
      throw RasterError(fmt::format("{}: raster file does not exist", path));
    throw RasterError(fmt::format(
        "{}: cannot open as a raster (expected GeoTIFF, ESRI ASCII grid, NetCDF or another "
        "raster format GDAL reads){}",
        path, GdalMessage()));
  }
  // GDAL reads an ESRI ASCII grid with decimals as Float32; ask for Float64 so
  // the values are the ones in the file, as ReadAsciiGrid gives them.
  if (ds->GetRasterCount() > 0 && ds->GetRasterBand(1)->GetRasterDataType() == GDT_Float32 &&
      EQUAL(ds->GetDriver()->GetDescription(), "AAIGrid")) {
    static const char* const kFloat64[] = {"DATATYPE=Float64", nullptr};
    static const char* const kAaigrid[] = {"AAIGrid", nullptr};
    ds.reset(GDALDataset::Open(path.c_str(),
                               GDAL_OF_RASTER | GDAL_OF_READONLY | GDAL_OF_VERBOSE_ERROR, kAaigrid,
                               kFloat64));
    if (!ds)
      throw RasterError(
          fmt::format("{}: cannot reopen the ESRI ASCII grid as Float64{}", path, GdalMessage()));
  }

  const int band_count = ds->GetRasterCount();
  if (band_count == 0) {
    const std::vector<std::string> subs = SubdatasetNames(*ds);
    if (subs.empty())
      throw RasterError(fmt::format("{}: holds no raster band (expected a raster)", path));
    std::string list;
    for (std::size_t i = 0; i < subs.size() && i < 5; ++i) list += (i ? ", " : "") + subs[i];
    if (subs.size() > 5) list += ", ...";
    throw RasterError(fmt::format(
        "{}: holds {} raster variables, not one raster; name the one to read, one of: {}", path,
        subs.size(), list));
  }
  if (band < 1 || band > band_count)
    throw RasterError(
        fmt::format("{}: band {} requested, but the file has {} band(s) (expected 1..{})", path,
                    band, band_count, band_count));

  double gt[6];
  if (ds->GetGeoTransform(gt) != CE_None)
    throw RasterError(fmt::format(
        "{}: has no geotransform (expected a georeferenced raster with cell size and origin)",
        path));
  if (gt[2] != 0.0 || gt[4] != 0.0)
    throw RasterError(fmt::format(
        "{}: rotated or sheared geotransform (rotation terms {} and {}); expected a north-up grid "
        "without rotation (resample it first, e.g. with gdalwarp)",
        path, gt[2], gt[4]));
  if (!(gt[5] < 0.0))
    throw RasterError(fmt::format(
        "{}: south-up or degenerate raster (cell height {}); expected north-up, i.e. a negative "
        "cell height in the geotransform (flip it first, e.g. with gdalwarp)",
        path, gt[5]));
  if (!(gt[1] > 0.0))
    throw RasterError(fmt::format(
        "{}: cell width {} in the geotransform; expected > 0 (columns running east)", path, gt[1]));

  const int cols = ds->GetRasterXSize();
  const int rows = ds->GetRasterYSize();
  RasterD r(cols, rows, GeoTransform{gt[0], gt[3], gt[1], -gt[5]});
  GDALRasterBand* b = ds->GetRasterBand(band);
  if (b->RasterIO(GF_Read, 0, 0, cols, rows, r.data().data(), cols, rows, GDT_Float64, 0, 0,
                  nullptr) != CE_None)
    throw RasterError(fmt::format("{}: reading band {} ({} x {} cells) failed{}", path, band, cols,
                                  rows, GdalMessage()));

  int has_nodata = 0;
  const double nodata = b->GetNoDataValue(&has_nodata);
  if (has_nodata) r.set_nodata(nodata);

  // Packed data (NetCDF scale_factor/add_offset, ...): unpack valid cells; the
  // nodata sentinel stays as stored.
  int has_scale = 0;
  int has_offset = 0;
  const double scale = b->GetScale(&has_scale);
  const double offset = b->GetOffset(&has_offset);
  if ((has_scale && scale != 1.0) || (has_offset && offset != 0.0)) {
    const double s = has_scale ? scale : 1.0;
    const double o = has_offset ? offset : 0.0;
    for (double& v : r.data())
      if (!std::isnan(v) && !(has_nodata && v == nodata)) v = v * s + o;
  }

  if (const OGRSpatialReference* srs = ds->GetSpatialRef()) r.set_crs_wkt(ToWkt(*srs));
  return r;
}

// Resampling uses GDAL's warper (GDALWarpOperation between two MEM datasets)
// rather than our own interpolation: it is the same code gdalwarp and QGIS
// use, it reprojects, and it handles nodata in every kernel. We drive it
// directly instead of through GDALCreateWarpedVRT or GDALReprojectImage so that
//  - the transformer is exact (no approximating transformer and its default
//    1/8-cell error threshold), so refinements and ramps come out exact, and
//  - source and target nodata are set explicitly (INIT_DEST=NO_DATA), so target
//    cells that no source data reach are nodata rather than 0.
// The kernels themselves are described at `enum class Resample`.
RasterD ResampleTo(const RasterD& src, const GeoTransform& target, int cols, int rows,
                   const std::string& target_crs_wkt, Resample method) {
  if (src.cols() <= 0 || src.rows() <= 0)
    throw std::invalid_argument("ResampleTo: the source raster is empty");
  if (cols <= 0 || rows <= 0)
    throw std::invalid_argument(
        fmt::format("ResampleTo: target size {} x {}; expected cols and rows > 0", cols, rows));
  if (!(target.cell_width > 0.0) || !(target.cell_height > 0.0))
    throw std::invalid_argument(fmt::format("ResampleTo: target cell size {} x {}; expected > 0",
                                            target.cell_width, target.cell_height));
  const GDALResampleAlg alg = ToGdal(method);

  EnsureGdalRegistered();
  QuietGdalErrors quiet;

  std::optional<OGRSpatialReference> src_srs;
  std::optional<OGRSpatialReference> dst_srs;
  if (!src.crs_wkt().empty()) src_srs = ParseCrs(src.crs_wkt(), "ResampleTo: source CRS");
  if (!target_crs_wkt.empty()) dst_srs = ParseCrs(target_crs_wkt, "ResampleTo: target CRS");
  const bool reproject = src_srs && dst_srs && !src_srs->IsSame(&*dst_srs);

  const double sentinel = ChooseSentinel(src);

  GDALDatasetUniquePtr src_ds = CreateMem(src.cols(), src.rows(), "source");
  GDALDatasetUniquePtr dst_ds = CreateMem(cols, rows, "target");
  double src_gt[6];
  double dst_gt[6];
  ToGdalGeoTransform(src.geo(), src_gt);
  ToGdalGeoTransform(target, dst_gt);
  src_ds->SetGeoTransform(src_gt);
  dst_ds->SetGeoTransform(dst_gt);
  // CRSs go on the datasets only when reprojecting: without them the
  // transformer maps through the geotransforms alone.
  if (reproject) {
    src_ds->SetSpatialRef(&*src_srs);
    dst_ds->SetSpatialRef(&*dst_srs);
  }
  src_ds->GetRasterBand(1)->SetNoDataValue(sentinel);
  dst_ds->GetRasterBand(1)->SetNoDataValue(sentinel);

  std::vector<double> values = src.data();
  for (int r = 0; r < src.rows(); ++r)
    for (int c = 0; c < src.cols(); ++c)
      if (src.IsNodata(c, r)) values[static_cast<std::size_t>(r) * src.cols() + c] = sentinel;
  if (src_ds->GetRasterBand(1)->RasterIO(GF_Write, 0, 0, src.cols(), src.rows(), values.data(),
                                         src.cols(), src.rows(), GDT_Float64, 0, 0,
                                         nullptr) != CE_None)
    throw RasterError("ResampleTo: copying the source into GDAL failed" + GdalMessage());

  std::unique_ptr<void, TransformerDeleter> transformer(GDALCreateGenImgProjTransformer2(
      GDALDataset::ToHandle(src_ds.get()), GDALDataset::ToHandle(dst_ds.get()), nullptr));
  if (!transformer)
    throw RasterError("ResampleTo: no transformation from the source to the target grid/CRS" +
                      GdalMessage());

  std::unique_ptr<GDALWarpOptions, WarpOptionsDeleter> wo(GDALCreateWarpOptions());
  wo->hSrcDS = GDALDataset::ToHandle(src_ds.get());
  wo->hDstDS = GDALDataset::ToHandle(dst_ds.get());
  wo->nBandCount = 1;
  wo->panSrcBands = static_cast<int*>(CPLMalloc(sizeof(int)));
  wo->panDstBands = static_cast<int*>(CPLMalloc(sizeof(int)));
  wo->panSrcBands[0] = 1;
  wo->panDstBands[0] = 1;
  wo->padfSrcNoDataReal = static_cast<double*>(CPLMalloc(sizeof(double)));
  wo->padfDstNoDataReal = static_cast<double*>(CPLMalloc(sizeof(double)));
  wo->padfSrcNoDataReal[0] = sentinel;
  wo->padfDstNoDataReal[0] = sentinel;
  wo->eResampleAlg = alg;
  wo->eWorkingDataType = GDT_Float64;
  wo->papszWarpOptions = CSLSetNameValue(wo->papszWarpOptions, "INIT_DEST", "NO_DATA");
  wo->pfnTransformer = GDALGenImgProjTransform;
  wo->pTransformerArg = transformer.get();

  GDALWarpOperation op;
  if (op.Initialize(wo.get()) != CE_None)
    throw RasterError("ResampleTo: GDAL rejected the warp options" + GdalMessage());
  if (op.ChunkAndWarpImage(0, 0, cols, rows) != CE_None)
    throw RasterError("ResampleTo: GDAL warp failed" + GdalMessage());

  RasterD out(cols, rows, target);
  if (dst_ds->GetRasterBand(1)->RasterIO(GF_Read, 0, 0, cols, rows, out.data().data(), cols, rows,
                                         GDT_Float64, 0, 0, nullptr) != CE_None)
    throw RasterError("ResampleTo: reading the result from GDAL failed" + GdalMessage());
  out.set_nodata(sentinel);
  if (dst_srs)
    out.set_crs_wkt(ToWkt(*dst_srs));
  else
    out.set_crs_wkt(src.crs_wkt());
  return out;
}

void WriteGeoTiff(const std::string& path, const RasterD& r) {
  if (r.cols() <= 0 || r.rows() <= 0)
    throw RasterError(fmt::format("{}: cannot write an empty raster as GeoTIFF", path));
  EnsureGdalRegistered();
  QuietGdalErrors quiet;
  GDALDriver* gtiff = GetGDALDriverManager()->GetDriverByName("GTiff");
  if (gtiff == nullptr)
    throw RasterError(
        fmt::format("{}: GDAL has no GTiff driver (expected a GDAL built with it)", path));

  std::optional<OGRSpatialReference> srs;
  if (!r.crs_wkt().empty()) srs = ParseCrs(r.crs_wkt(), path + ": CRS of the raster");

  // GDAL writes the temporary file; it is removed unless committed.
  common::AtomicFile file(path);
  const std::string& tmp = file.temp_path();

  // Float64 keeps every value exactly; the floating-point predictor (3) makes
  // smooth surfaces such as DEMs compress well under DEFLATE. BIGTIFF only when
  // the file could exceed 4 GiB.
  CPLStringList options;
  options.SetNameValue("TILED", "YES");
  options.SetNameValue("BLOCKXSIZE", "256");
  options.SetNameValue("BLOCKYSIZE", "256");
  options.SetNameValue("COMPRESS", "DEFLATE");
  options.SetNameValue("PREDICTOR", "3");
  options.SetNameValue("BIGTIFF", "IF_SAFER");

  GDALDatasetUniquePtr ds(
      gtiff->Create(tmp.c_str(), r.cols(), r.rows(), 1, GDT_Float64, options.List()));
  if (!ds)
    throw RasterError(
        fmt::format("{}: cannot create GeoTIFF (temporary file {}){}", path, tmp, GdalMessage()));
  double gt[6];
  ToGdalGeoTransform(r.geo(), gt);
  if (ds->SetGeoTransform(gt) != CE_None)
    throw RasterError(fmt::format("{}: cannot set the geotransform{}", path, GdalMessage()));
  if (srs && ds->SetSpatialRef(&*srs) != CE_None)
    throw RasterError(fmt::format("{}: cannot set the CRS{}", path, GdalMessage()));
  GDALRasterBand* band = ds->GetRasterBand(1);
  if (r.nodata() && band->SetNoDataValue(*r.nodata()) != CE_None)
    throw RasterError(fmt::format("{}: cannot set nodata {}{}", path, *r.nodata(), GdalMessage()));
  // RasterIO takes a non-const buffer even for writing; GF_Write only reads it.
  if (band->RasterIO(GF_Write, 0, 0, r.cols(), r.rows(), const_cast<double*>(r.data().data()),
                     r.cols(), r.rows(), GDT_Float64, 0, 0, nullptr) != CE_None)
    throw RasterError(
        fmt::format("{}: writing {} x {} cells failed{}", path, r.cols(), r.rows(), GdalMessage()));
  // Closing flushes the compressed tiles; GDAL 3.6 reports failures there only
  // through the error state.
  CPLErrorReset();
  ds.reset();
  if (CPLGetLastErrorType() >= CE_Failure)
    throw RasterError(fmt::format("{}: finishing the GeoTIFF failed{}", path, GdalMessage()));

  try {
    file.Commit();
  } catch (const common::FileError& e) {
    throw RasterError(e.what());
  }
}

bool SameCrs(const std::string& wkt_a, const std::string& wkt_b) {
  if (wkt_a.empty() || wkt_b.empty()) return wkt_a.empty() && wkt_b.empty();
  EnsureGdalRegistered();
  QuietGdalErrors quiet;
  const OGRSpatialReference a = ParseCrs(wkt_a, "SameCrs: first CRS");
  const OGRSpatialReference b = ParseCrs(wkt_b, "SameCrs: second CRS");
  return a.IsSame(&b) != 0;
}

// ---------------------------------------------------------------------------
// Zones (zones.hpp): OGR polygons rasterised onto the model grid.

std::vector<Zone> ReadZones(const std::string& path, const std::string& id_field,
                            const GeoTransform& geo, int cols, int rows,
                            const std::string& grid_crs_wkt, const std::string& layer_name) {
  EnsureGdalRegistered();
  QuietGdalErrors quiet;
  GDALDatasetUniquePtr ds(
      GDALDataset::Open(path.c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY | GDAL_OF_VERBOSE_ERROR));
  if (!ds)
    throw RasterError(fmt::format(
        "{}: cannot open as a vector file of zone polygons (expected GeoJSON, GeoPackage, "
        "Shapefile or another format GDAL/OGR reads){}",
        path, GdalMessage()));
  OGRLayer* layer = layer_name.empty() ? (ds->GetLayerCount() > 0 ? ds->GetLayer(0) : nullptr)
                                       : ds->GetLayerByName(layer_name.c_str());
  if (layer == nullptr)
    throw RasterError(layer_name.empty()
                          ? fmt::format("{}: holds no layer (expected zone polygons)", path)
                          : fmt::format("{}: has no layer '{}'", path, layer_name));
  if (layer->GetLayerDefn()->GetFieldIndex(id_field.c_str()) < 0)
    throw RasterError(
        fmt::format("{}: the zones have no field '{}' (the zone id)", path, id_field));

  // Reproject when both CRSs are known and differ.
  std::unique_ptr<OGRCoordinateTransformation> to_grid;
  const OGRSpatialReference* file_srs = layer->GetSpatialRef();
  if (file_srs != nullptr && !grid_crs_wkt.empty()) {
    OGRSpatialReference src = *file_srs;
    src.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    const OGRSpatialReference dst = ParseCrs(grid_crs_wkt, path + ": the grid's CRS");
    if (!src.IsSame(&dst)) {
      to_grid.reset(OGRCreateCoordinateTransformation(&src, &dst));
      if (!to_grid)
        throw RasterError(fmt::format("{}: cannot transform the zones' CRS to the grid's{}", path,
                                      GdalMessage()));
    }
  }

  // Rasterise each zone's polygons into a byte mask (GDAL's rule without
  // ALL_TOUCHED: a cell is in when its centre is inside), then list the cells.
  std::vector<Zone> zones;
  std::vector<std::vector<std::unique_ptr<OGRGeometry>>> shapes;
  layer->ResetReading();
  for (auto& feature : *layer) {
    const std::string id = feature->GetFieldAsString(id_field.c_str());
    if (id.empty())
      throw RasterError(fmt::format("{}: feature {} has an empty '{}' (every zone needs an id)",
                                    path, feature->GetFID(), id_field));
    const OGRGeometry* g = feature->GetGeometryRef();
    if (g == nullptr || (wkbFlatten(g->getGeometryType()) != wkbPolygon &&
                         wkbFlatten(g->getGeometryType()) != wkbMultiPolygon))
      throw RasterError(
          fmt::format("{}: zone '{}' (feature {}) is not a polygon", path, id, feature->GetFID()));
    std::unique_ptr<OGRGeometry> copy(g->clone());
    if (to_grid && copy->transform(to_grid.get()) != OGRERR_NONE)
      throw RasterError(fmt::format("{}: zone '{}' cannot be reprojected onto the grid{}", path, id,
                                    GdalMessage()));
    std::size_t k = 0;
    while (k < zones.size() && zones[k].id != id) ++k;
    if (k == zones.size()) {
      zones.push_back(Zone{id, {}});
      shapes.emplace_back();
    }
    shapes[k].push_back(std::move(copy));
  }
  if (zones.empty()) throw RasterError(fmt::format("{}: holds no zone polygon", path));

  GDALDriver* mem = GetGDALDriverManager()->GetDriverByName("MEM");
  if (mem == nullptr) throw RasterError("ReadZones: GDAL has no MEM driver");
  const double transform[6] = {geo.x_west, geo.cell_width, 0.0, geo.y_north, 0.0, -geo.cell_height};
  for (std::size_t k = 0; k < zones.size(); ++k) {
    GDALDatasetUniquePtr mask(mem->Create("", cols, rows, 1, GDT_Byte, nullptr));
    if (!mask) throw RasterError(fmt::format("ReadZones: cannot create a mask{}", GdalMessage()));
    mask->SetGeoTransform(const_cast<double*>(transform));
    int band = 1;
    std::vector<OGRGeometryH> handles;
    for (const auto& g : shapes[k]) handles.push_back(OGRGeometry::ToHandle(g.get()));
    std::vector<double> burn(handles.size(), 1.0);  // one value per geometry and band
    if (GDALRasterizeGeometries(mask.get(), 1, &band, static_cast<int>(handles.size()),
                                handles.data(), nullptr, nullptr, burn.data(), nullptr, nullptr,
                                nullptr) != CE_None)
      throw RasterError(
          fmt::format("{}: rasterising zone '{}' failed{}", path, zones[k].id, GdalMessage()));
    std::vector<std::uint8_t> cells(static_cast<std::size_t>(cols) * rows);
    if (mask->GetRasterBand(1)->RasterIO(GF_Read, 0, 0, cols, rows, cells.data(), cols, rows,
                                         GDT_Byte, 0, 0, nullptr) != CE_None)
      throw RasterError(fmt::format("ReadZones: reading the mask back failed{}", GdalMessage()));
    for (std::size_t c = 0; c < cells.size(); ++c)
      if (cells[c] != 0) zones[k].cells.push_back(c);
    if (zones[k].cells.empty())
      throw RasterError(fmt::format(
          "{}: zone '{}' covers no cell centre of the model grid (outside the model, or smaller "
          "than a cell of {} m)",
          path, zones[k].id, geo.cell_width));
  }
  return zones;
}

std::vector<Zone> ZonesFromRaster(const RasterD& ids, const GeoTransform& geo, int cols, int rows,
                                  const std::string& what) {
  if (ids.cols() != cols || ids.rows() != rows || !ids.geo().SameGrid(geo))
    throw RasterError(fmt::format(
        "{}: the zone raster ({} x {} cells) is not on the model grid ({} x {} cells at the "
        "DEM's corner and cell size)",
        what, ids.cols(), ids.rows(), cols, rows));
  std::vector<Zone> zones;
  std::vector<long> zone_number;
  for (int row = 0; row < rows; ++row) {
    for (int col = 0; col < cols; ++col) {
      if (ids.IsNodata(col, row)) continue;
      const double v = ids(col, row);
      if (!std::isfinite(v) || v == 0.0) continue;
      if (v != std::floor(v) || v < 0)
        throw RasterError(fmt::format(
            "{}: zone id {} at column {}, row {} is not a positive integer", what, v, col, row));
      const long n = static_cast<long>(v);
      std::size_t k = 0;
      while (k < zone_number.size() && zone_number[k] != n) ++k;
      if (k == zone_number.size()) {
        zone_number.push_back(n);
        zones.push_back(Zone{std::to_string(n), {}});
      }
      zones[k].cells.push_back(static_cast<std::size_t>(row) * cols + col);
    }
  }
  return zones;
}

}  // namespace floodwarn::grids
