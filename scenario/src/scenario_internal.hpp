// What the files of the scenario library share (private): the config error
// context, the TOML field readers, the series and raster inputs on the DEM's
// grid, the one adapter between solver fields (row j = 0 south) and north-up
// rasters, the section parsers, the checkpoint adapters and the output
// helpers. One .cpp file per concept (see docs/ARCHITECTURE.md).
#pragma once

#include <fmt/format.h>

#include <toml++/toml.h>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "floodwarn/common/toml_reader.hpp"
#include "floodwarn/grids/cf_netcdf.hpp"
#include "floodwarn/grids/checkpoint_file.hpp"
#include "floodwarn/grids/gdal_io.hpp"
#include "floodwarn/grids/raster.hpp"
#include "floodwarn/impacts/summary.hpp"
#include "floodwarn/scenario/model.hpp"
#include "floodwarn/scenario/scenario.hpp"
#include "floodwarn/solver/solver.hpp"

namespace floodwarn::scenario {

using solver::Real;
using solver::SolverState;

// ---------------------------------------------------------------------------
// Error context (context.cpp): every message names the config file, the key
// and the line.

class Ctx : public common::TomlContext<ConfigError> {
 public:
  Ctx(std::string file, const SeriesReaders& readers)
      : TomlContext(std::move(file)),
        dir_(std::filesystem::path(this->file()).parent_path()),
        readers_(readers) {}

  // A path from the config, relative to the config file's folder.
  std::string Resolve(const std::string& p) const {
    std::filesystem::path path(p);
    if (path.is_absolute() || dir_.empty()) return path.lexically_normal().string();
    return (dir_ / path).lexically_normal().string();
  }

  // Readers for series files in formats the scenario does not read itself,
  // by lower-case extension (LoadScenario's argument).
  const SeriesReaders& readers() const { return readers_; }

  // [time] start as seconds since the epoch (set once [time] is parsed).
  void set_start_epoch(double e) const { start_epoch_ = e; }
  std::optional<double> start_epoch() const { return start_epoch_; }

 private:
  std::filesystem::path dir_;
  const SeriesReaders& readers_;
  mutable std::optional<double> start_epoch_;
};

using common::AsNumber;
using common::CheckKeys;
using common::GetNumber;
using common::GetString;
using common::GetTable;
using common::GetTableArray;
using common::Join;
using common::RequireNumber;
using common::TypeName;

std::vector<double> AsNumberArray(const Ctx& ctx, const toml::node& n, const std::string& key);
void CheckStrictlyIncreasing(const Ctx& ctx, const std::vector<double>& t, const std::string& key,
                             const toml::node* node, const std::string& where = "");

// ---------------------------------------------------------------------------
// Time series (series_input.cpp): a number (constant), a string (CSV file
// `time_s,<column>`, or a file of a registered format) or an array of values
// with a sibling `times` array.

struct SeriesRules {
  const char* value_column;  // CSV column name
  bool non_negative;
  double scale;                    // multiplies the values (unit conversion)
  std::vector<std::string> units;  // accepted unit spellings of a series file ("" = any)
};

// Reads the series under `key` of table `t` (with optional sibling `times`).
// `used_times` is set when the sibling `times` was consumed.
TimeSeries ParseSeries(const Ctx& ctx, const toml::table& t, const std::string& prefix,
                       const char* key, const SeriesRules& rules, bool& used_times);

// ---------------------------------------------------------------------------
// Rasters on the DEM's grid and the adapter between solver fields and
// north-up rasters (grid_adapter.cpp).

grids::RasterD LoadRaster(const Ctx& ctx, const std::string& key, const toml::node* node,
                          const std::string& path);
// The raster on the DEM's grid. Another CRS is an error (a DEM and its
// parameters in different CRSs is almost always a mistake in the model
// setup). Another grid in the same CRS is resampled onto the DEM's grid with
// `method` (bilinear for continuous fields such as depths, nearest for
// per-class values such as Manning n), with a warning; DEM cells that the
// raster does not cover are an error.
// `r` on the DEM's grid: returned as is, or resampled (with a warning unless
// `warn_key` is empty). `fail` reports an error and must throw.
using FailFn = std::function<void(const std::string&)>;
grids::RasterD OnDemGridOr(const FailFn& fail_fn, const std::string& warn_key,
                           const grids::RasterD& r, const grids::RasterD& dem,
                           const std::string& path, grids::Resample method);
grids::RasterD OnDemGrid(const Ctx& ctx, const std::string& key, const toml::node* node,
                         const grids::RasterD& r, const grids::RasterD& dem,
                         const std::string& path, grids::Resample method);
// A number, or a raster path on the DEM's grid; returns per solver cell values
// (nodata cells of the raster as NaN).
std::vector<double> NumberOrRaster(const Ctx& ctx, const toml::node& n, const std::string& key,
                                   const grids::RasterD& dem, bool& uniform,
                                   grids::Resample method);
// "column c, row r (x = .., y = ..)" of solver cell (i, j), in raster terms.
std::string CellText(const Domain& d, int i, int j);

// ---------------------------------------------------------------------------
// Sections of the config.

// domain.cpp
grids::RasterD ParseDomain(const Ctx& ctx, const toml::table& t, const toml::table& root,
                           ScenarioConfig& cfg);
void ParseInfiltration(const Ctx& ctx, const toml::table& t, const grids::RasterD& dem,
                       ScenarioConfig& cfg);
// settings.cpp: [time], [solver], [output], and the points of the model
std::vector<double> Expand(double step, double end, bool with_zero);
void ParseTime(const Ctx& ctx, const toml::table& t, ScenarioConfig& cfg);
void ParseSolver(const Ctx& ctx, const toml::table& t, ScenarioConfig& cfg);
void ParseOutput(const Ctx& ctx, const toml::table* t, ScenarioConfig& cfg);
void LocatePoint(const Ctx& ctx, const std::string& key, const toml::node* node,
                 const ScenarioConfig& cfg, double x, double y, int& i, int& j);
void CheckName(const Ctx& ctx, const std::string& key, const toml::node* node,
               const std::string& name);
// forcing.cpp: [rain], [[inflow]], [[boundary]]
void ParseRain(const Ctx& ctx, const toml::table& t, const grids::RasterD& dem,
               ScenarioConfig& cfg);
void ParseInflows(const Ctx& ctx, const toml::array& a, ScenarioConfig& cfg);
void ParseBoundaries(const Ctx& ctx, const toml::array& a, ScenarioConfig& cfg);

// ---------------------------------------------------------------------------
// Checkpoints (checkpoint.cpp): `what` names where the file came from in
// messages ("--restart", "forecast cycle").

grids::CheckpointData ToCheckpoint(const ScenarioConfig& cfg, const SolverState& st);
SolverState FromCheckpoint(const ScenarioConfig& cfg, const std::string& path,
                           const std::string& what);

// ---------------------------------------------------------------------------
// Outputs (outputs.cpp).

// Whether the ledger closes to the precision's documented tolerance
// (docs/SOLVER.md, "Mass balance"): 1e-10 in double; in float, where every
// step rounds the depths to float and the stored volume random-walks,
// max(1e-4, 1e-6 sqrt(steps)).
bool MassBalanceCloses(const MassBalance& mb, long steps);
// Nothing silent: a ledger that does not close is a warning with the way to
// find the cell; the check's findings in warn mode are logged once at the end.
void LogConservation(ConservationCheck mode, const RunResult& r);
// A snapshot at time t: depth_<t>s.asc, u_<t>s.asc, v_<t>s.asc and a frame
// of results.nc; the files written are added to `files`.
void WriteSnapshot(const ScenarioConfig& cfg, const solver::HostState& state, double t,
                   const std::string& out_dir, grids::CfNetcdfWriter& nc,
                   std::vector<std::string>& files);
// The maps of the maxima (max depth, speed, arrival time; hazard rating and
// class) as ESRI ASCII and GeoTIFF and into results.nc; returns what they
// mean (impacts::Summarize).
impacts::FloodSummary WriteFinalMaps(const ScenarioConfig& cfg, const solver::Solver& solver,
                                     const std::string& out_dir, grids::CfNetcdfWriter& nc,
                                     std::vector<std::string>& files);
// Removes the files a run writes (results, maps, snapshots, points.csv,
// summary.json, their temporary files) from `dir`; checkpoints stay (a
// restart may read them). Throws std::runtime_error naming a file it cannot
// remove.
void RemoveEarlierOutputs(const std::string& dir);
// points.csv: the rows sampled so far (time, depth per point).
void WritePointsCsv(const std::string& path, const ScenarioConfig& cfg,
                    const std::vector<std::vector<double>>& rows);
// summary.json of a run (docs/CONFIG.md), listing result.files.
void WriteSummary(const std::string& path, const ScenarioConfig& cfg, const RunResult& result,
                  std::size_t active_cells, const impacts::FloodSummary& flood);

}  // namespace floodwarn::scenario
