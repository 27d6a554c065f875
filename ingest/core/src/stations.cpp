// Station registry: TOML -> validated Station structs.
#include "floodwarn/ingest/stations.hpp"

#include <cpl_error.h>
#include <fmt/format.h>
#include <ogr_spatialref.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <initializer_list>
#include <memory>
#include <set>

#include "floodwarn/common/time.hpp"
#include "floodwarn/common/toml_reader.hpp"

namespace floodwarn::ingest {
namespace {

// Error context: the common TOML reader; the station being read is named in
// every message ("FILE:LINE: station 'ID': KEY: what was expected").
using Ctx = common::TomlContext<StationConfigError>;

void SetStation(Ctx& ctx, const std::string& id) {
  ctx.SetContext(id.empty() ? "" : fmt::format("station '{}'", id));
}

using common::CheckKeys;
using common::GetNumber;
using common::GetString;
using common::GetTable;
using common::GetTableArray;
using common::Join;
using common::RequireNumber;
using common::RequireString;

std::optional<int> GetInt(const Ctx& ctx, const toml::table& t, const std::string& prefix,
                          const char* key) {
  const auto v = common::GetInteger(ctx, t, prefix, key, 0, 1000000);
  if (!v) return std::nullopt;
  return static_cast<int>(*v);
}

// A TOML offset date-time (2024-01-01T00:00:00Z), a local date (2024-01-01,
// read as 00:00 UTC), or the same as an ISO 8601 string with an offset.
std::optional<TimePoint> GetTime(const Ctx& ctx, const toml::table& t, const std::string& prefix,
                                 const char* key) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return std::nullopt;
  const std::string k = Join(prefix, key);
  if (const auto* dt = n->as_date_time()) {
    const toml::date_time& v = dt->get();
    if (!v.offset)
      ctx.Fail(k, n, "expected a date-time with a UTC offset (e.g. 2024-01-01T00:00:00Z)");
    auto tp = common::CivilToTime(v.date.year, v.date.month, v.date.day, v.time.hour, v.time.minute,
                                  v.time.second, static_cast<int>(v.time.nanosecond / 1000000),
                                  v.offset->minutes);
    if (!tp) ctx.Fail(k, n, "invalid date-time");
    return tp;
  }
  if (const auto* d = n->as_date()) {
    const toml::date& v = d->get();
    auto tp = common::CivilToTime(v.year, v.month, v.day, 0, 0, 0, 0, 0);
    if (!tp) ctx.Fail(k, n, "invalid date");
    return tp;
  }
  ctx.Fail(k, n, "expected a date (2024-01-01) or a date-time with offset (2024-01-01T00:00:00Z)");
}

bool ValidId(const std::string& id) {
  return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  });
}

Location ParseLocation(const Ctx& ctx, const toml::table& t, const std::string& p) {
  CheckKeys(ctx, t, p, {"lat", "lon", "x", "y", "epsg"});
  Location loc;
  loc.lat = GetNumber(ctx, t, p, "lat");
  loc.lon = GetNumber(ctx, t, p, "lon");
  loc.x = GetNumber(ctx, t, p, "x");
  loc.y = GetNumber(ctx, t, p, "y");
  const bool geo = loc.lat || loc.lon;
  const bool proj = loc.x || loc.y || t.contains("epsg");
  if (geo && proj) ctx.Fail(p, &t, "give either lat/lon (WGS84) or x/y/epsg, not both");
  if (geo) {
    if (!loc.lat || !loc.lon) ctx.Fail(p, &t, "lat and lon must be given together");
    if (*loc.lat < -90 || *loc.lat > 90)
      ctx.Fail(Join(p, "lat"), t.get("lat"), fmt::format("{} outside [-90, 90]", *loc.lat));
    if (*loc.lon < -180 || *loc.lon > 360)
      ctx.Fail(Join(p, "lon"), t.get("lon"), fmt::format("{} outside [-180, 360]", *loc.lon));
  } else if (proj) {
    if (!loc.x || !loc.y || !t.contains("epsg"))
      ctx.Fail(p, &t, "x, y and epsg must be given together");
    loc.epsg = *GetInt(ctx, t, p, "epsg");
    if (loc.epsg <= 0) ctx.Fail(Join(p, "epsg"), t.get("epsg"), "expected a positive EPSG code");
  } else {
    ctx.Fail(p, &t, "expected lat/lon or x/y/epsg");
  }
  return loc;
}

std::optional<std::array<double, 12>> GetMonthly(const Ctx& ctx, const toml::table& t,
                                                 const std::string& prefix, const char* key) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return std::nullopt;
  const toml::array* a = n->as_array();
  if (a == nullptr || a->size() != 12)
    ctx.Fail(Join(prefix, key), n, "expected an array of 12 numbers (January to December)");
  std::array<double, 12> out{};
  for (std::size_t k = 0; k < 12; ++k) {
    const auto v = a->get(k)->value<double>();
    if (!a->get(k)->is_number() || !v || !std::isfinite(*v))
      ctx.Fail(fmt::format("{}[{}]", Join(prefix, key), k), a->get(k), "expected a number");
    out[k] = *v;
  }
  return out;
}

QcParams ParseQc(const Ctx& ctx, const toml::table& t, const std::string& p) {
  CheckKeys(ctx, t, p,
            {"gross_min", "gross_max", "climate_min", "climate_max", "climate_monthly_min",
             "climate_monthly_max", "spike_suspect", "spike_fail", "max_rate_per_hour",
             "flat_suspect_count", "flat_fail_count", "flat_epsilon", "stale_factor"});
  QcParams q;
  q.gross_min = GetNumber(ctx, t, p, "gross_min");
  q.gross_max = GetNumber(ctx, t, p, "gross_max");
  q.climate_min = GetNumber(ctx, t, p, "climate_min");
  q.climate_max = GetNumber(ctx, t, p, "climate_max");
  q.climate_monthly_min = GetMonthly(ctx, t, p, "climate_monthly_min");
  q.climate_monthly_max = GetMonthly(ctx, t, p, "climate_monthly_max");
  if (q.climate_monthly_min && q.climate_monthly_max)
    for (std::size_t m = 0; m < 12; ++m)
      if (!((*q.climate_monthly_min)[m] < (*q.climate_monthly_max)[m]))
        ctx.Fail(Join(p, "climate_monthly_max"), t.get("climate_monthly_max"),
                 fmt::format("month {}: max must be > min", m + 1));
  q.spike_suspect = GetNumber(ctx, t, p, "spike_suspect");
  q.spike_fail = GetNumber(ctx, t, p, "spike_fail");
  q.max_rate_per_hour = GetNumber(ctx, t, p, "max_rate_per_hour");
  q.flat_suspect_count = GetInt(ctx, t, p, "flat_suspect_count").value_or(0);
  q.flat_fail_count = GetInt(ctx, t, p, "flat_fail_count").value_or(0);
  q.flat_epsilon = GetNumber(ctx, t, p, "flat_epsilon").value_or(0.0);
  q.stale_factor = GetNumber(ctx, t, p, "stale_factor").value_or(kDefaultStaleFactor);
  auto order = [&](const std::optional<double>& lo, const std::optional<double>& hi,
                   const char* klo, const char* khi) {
    if (lo && hi && !(*lo < *hi))
      ctx.Fail(Join(p, khi), t.get(khi),
               fmt::format("{} = {} must be > {} = {}", khi, *hi, klo, *lo));
  };
  order(q.gross_min, q.gross_max, "gross_min", "gross_max");
  order(q.climate_min, q.climate_max, "climate_min", "climate_max");
  auto positive = [&](const std::optional<double>& v, const char* k) {
    if (v && !(*v > 0)) ctx.Fail(Join(p, k), t.get(k), fmt::format("{} must be > 0", *v));
  };
  positive(q.spike_suspect, "spike_suspect");
  positive(q.spike_fail, "spike_fail");
  positive(q.max_rate_per_hour, "max_rate_per_hour");
  if (q.spike_suspect && q.spike_fail && !(*q.spike_suspect < *q.spike_fail))
    ctx.Fail(Join(p, "spike_fail"), t.get("spike_fail"), "must be > spike_suspect");
  if (q.flat_suspect_count == 1 || q.flat_fail_count == 1)
    ctx.Fail(Join(p, "flat_suspect_count"), &t, "flat-line counts must be 0 (off) or >= 2");
  if (q.flat_suspect_count && q.flat_fail_count && q.flat_fail_count <= q.flat_suspect_count)
    ctx.Fail(Join(p, "flat_fail_count"), t.get("flat_fail_count"), "must be > flat_suspect_count");
  if (q.flat_epsilon < 0) ctx.Fail(Join(p, "flat_epsilon"), t.get("flat_epsilon"), "must be >= 0");
  if (!(q.stale_factor >= 1.0))
    ctx.Fail(Join(p, "stale_factor"), t.get("stale_factor"), "must be >= 1");
  return q;
}

RatingCurve ParseRating(const Ctx& ctx, const toml::table& t, const std::string& p) {
  CheckKeys(ctx, t, p, {"valid_from", "valid_to", "max_gauged_stage", "segment"});
  RatingCurve rc;
  auto from = GetTime(ctx, t, p, "valid_from");
  if (!from) ctx.Fail(Join(p, "valid_from"), &t, "missing required key (a date-time)");
  rc.valid_from = *from;
  rc.valid_to = GetTime(ctx, t, p, "valid_to");
  if (rc.valid_to && *rc.valid_to <= rc.valid_from)
    ctx.Fail(Join(p, "valid_to"), t.get("valid_to"), "must be after valid_from");
  rc.max_gauged_stage = GetNumber(ctx, t, p, "max_gauged_stage");
  const toml::array* segs = GetTableArray(ctx, t, p, "segment");
  if (segs == nullptr || segs->empty())
    ctx.Fail(Join(p, "segment"), &t, "a rating needs at least one [[...segment]]");
  for (std::size_t k = 0; k < segs->size(); ++k) {
    const toml::table& st = *segs->get(k)->as_table();
    const std::string sp = fmt::format("{}.segment[{}]", p, k);
    CheckKeys(ctx, st, sp, {"h_min", "h_max", "a", "b", "h0"});
    RatingSegment s;
    s.h_min = RequireNumber(ctx, st, sp, "h_min");
    s.h_max = RequireNumber(ctx, st, sp, "h_max");
    s.a = RequireNumber(ctx, st, sp, "a");
    s.b = RequireNumber(ctx, st, sp, "b");
    s.h0 = RequireNumber(ctx, st, sp, "h0");
    if (!(s.h_max > s.h_min)) ctx.Fail(Join(sp, "h_max"), st.get("h_max"), "must be > h_min");
    if (!(s.a > 0)) ctx.Fail(Join(sp, "a"), st.get("a"), "must be > 0");
    if (!(s.b > 0)) ctx.Fail(Join(sp, "b"), st.get("b"), "must be > 0");
    if (s.h0 > s.h_max) ctx.Fail(Join(sp, "h0"), st.get("h0"), "must be <= h_max");
    if (k > 0) {
      const RatingSegment& prev = rc.segments.back();
      if (std::abs(s.h_min - prev.h_max) > 1e-9 * std::max(1.0, std::abs(s.h_min)))
        ctx.Fail(Join(sp, "h_min"), st.get("h_min"),
                 fmt::format("segments must be contiguous: h_min {} != previous h_max {}", s.h_min,
                             prev.h_max));
    }
    rc.segments.push_back(s);
  }
  return rc;
}

Station ParseStation(Ctx& ctx, const toml::table& t, const std::string& p) {
  // The id first, so that every later message names the station.
  if (const toml::node* idn = t.get("id"); idn != nullptr && idn->is_string())
    SetStation(ctx, std::string(idn->as_string()->get()));
  CheckKeys(ctx, t, p,
            {"id", "name", "kind", "unit", "expected_interval", "location", "gauge_zero", "qc",
             "rating"});
  Station s;
  s.id = RequireString(ctx, t, p, "id");
  if (!ValidId(s.id))
    ctx.Fail(Join(p, "id"), t.get("id"),
             fmt::format("'{}': expected 1-64 characters of A-Z a-z 0-9 _ - .", s.id));
  SetStation(ctx, s.id);
  s.source_line = static_cast<int>(t.source().begin.line);
  s.name = GetString(ctx, t, p, "name").value_or(s.id);
  const std::string kind = RequireString(ctx, t, p, "kind");
  bool ok = false;
  s.kind = ParseQuantity(kind, &ok);
  if (!ok)
    ctx.Fail(Join(p, "kind"), t.get("kind"),
             fmt::format("'{}': expected water_level, discharge or rainfall", kind));
  s.unit = RequireString(ctx, t, p, "unit");
  static const std::set<std::string> kUnits[] = {{"cm", "m", "mm"}, {"m3/s", "l/s"}, {"mm"}};
  const auto& allowed = kUnits[static_cast<int>(s.kind)];
  if (!allowed.count(s.unit)) {
    std::string list;
    for (const auto& u : allowed) list += (list.empty() ? "" : ", ") + u;
    ctx.Fail(Join(p, "unit"), t.get("unit"),
             fmt::format("'{}' is not a unit of {} (expected one of: {})", s.unit, kind, list));
  }
  // A duration in whole seconds, > 0 (docs/DURATIONS.md).
  const auto iv = common::GetDuration(ctx, t, p, "expected_interval", std::chrono::seconds(1),
                                      std::chrono::seconds(1));
  if (!iv)
    ctx.Fail(Join(p, "expected_interval"), &t,
             "required key is missing (a duration such as \"15min\" or \"1h\")");
  s.expected_interval = std::chrono::duration_cast<std::chrono::seconds>(*iv);
  const toml::table* loc = GetTable(ctx, t, p, "location");
  if (loc == nullptr) ctx.Fail(Join(p, "location"), &t, "missing required table");
  s.location = ParseLocation(ctx, *loc, Join(p, "location"));
  if (const toml::array* gz = GetTableArray(ctx, t, p, "gauge_zero")) {
    for (std::size_t k = 0; k < gz->size(); ++k) {
      const toml::table& g = *gz->get(k)->as_table();
      const std::string gp = fmt::format("{}.gauge_zero[{}]", p, k);
      CheckKeys(ctx, g, gp, {"value", "unit", "valid_from"});
      GaugeZero z;
      z.value = RequireNumber(ctx, g, gp, "value");
      z.unit = RequireString(ctx, g, gp, "unit");
      auto from = GetTime(ctx, g, gp, "valid_from");
      if (!from) ctx.Fail(Join(gp, "valid_from"), &g, "missing required key (a date-time)");
      z.valid_from = *from;
      if (!s.gauge_zeros.empty() && z.valid_from <= s.gauge_zeros.back().valid_from)
        ctx.Fail(Join(gp, "valid_from"), g.get("valid_from"),
                 "gauge_zero entries must be in ascending valid_from order, without duplicates");
      s.gauge_zeros.push_back(z);
    }
  }
  if (const toml::table* qc = GetTable(ctx, t, p, "qc")) s.qc = ParseQc(ctx, *qc, Join(p, "qc"));
  if (const toml::array* ra = GetTableArray(ctx, t, p, "rating")) {
    if (s.kind != Quantity::kWaterLevel)
      ctx.Fail(Join(p, "rating"), ra, "a rating curve needs a water_level station (stage -> Q)");
    for (std::size_t k = 0; k < ra->size(); ++k) {
      const toml::table& r = *ra->get(k)->as_table();
      const std::string rp = fmt::format("{}.rating[{}]", p, k);
      RatingCurve rc = ParseRating(ctx, r, rp);
      if (!s.ratings.empty()) {
        const RatingCurve& prev = s.ratings.back();
        if (rc.valid_from <= prev.valid_from)
          ctx.Fail(Join(rp, "valid_from"), r.get("valid_from"),
                   "ratings must be in ascending valid_from order");
        if (!prev.valid_to || *prev.valid_to > rc.valid_from)
          ctx.Fail(Join(rp, "valid_from"), r.get("valid_from"),
                   "validity overlaps the previous rating (give the previous one a valid_to "
                   "<= this valid_from)");
      }
      s.ratings.push_back(std::move(rc));
    }
  }
  return s;
}

}  // namespace

Quantity ParseQuantity(const std::string& text, bool* ok) {
  *ok = true;
  if (text == "water_level") return Quantity::kWaterLevel;
  if (text == "discharge") return Quantity::kDischarge;
  if (text == "rainfall") return Quantity::kRainfall;
  *ok = false;
  return Quantity::kWaterLevel;
}

std::optional<std::chrono::seconds> ParseDuration(const std::string& text) {
  const auto d = common::ParseDuration(text);
  if (!d || d->count() <= 0 || d->count() % 1000 != 0) return std::nullopt;
  return std::chrono::duration_cast<std::chrono::seconds>(*d);
}

const GaugeZero* Station::GaugeZeroAt(TimePoint t) const {
  const GaugeZero* best = nullptr;
  for (const auto& z : gauge_zeros)
    if (z.valid_from <= t) best = &z;
  return best;
}

const RatingCurve* Station::RatingAt(TimePoint t) const {
  for (const auto& r : ratings)
    if (r.valid_from <= t && (!r.valid_to || t < *r.valid_to)) return &r;
  return nullptr;
}

const Station* StationRegistry::Find(const std::string& id) const {
  for (const auto& s : stations_)
    if (s.id == id) return &s;
  return nullptr;
}

namespace {

// The registry parsed once (ParseStations, LoadStations).
StationRegistry ParseStationsFile(const common::TomlFile& file) {
  const std::string& source_name = file.path;
  Ctx ctx(file);
  const toml::table& root = file.root;
  CheckKeys(ctx, root, "", {"station"});
  const toml::array* arr = GetTableArray(ctx, root, "", "station");
  std::vector<Station> out;
  if (arr == nullptr) return StationRegistry{};
  std::set<std::string> ids;
  for (std::size_t k = 0; k < arr->size(); ++k) {
    SetStation(ctx, "");
    Station s = ParseStation(ctx, *arr->get(k)->as_table(), fmt::format("station[{}]", k));
    if (!ids.insert(s.id).second)
      ctx.Fail(fmt::format("station[{}].id", k), arr->get(k)->as_table()->get("id"),
               "duplicate station id");
    s.source_file = source_name;
    out.push_back(std::move(s));
  }
  return StationRegistry(std::move(out));
}

}  // namespace

StationRegistry ParseStations(const std::string& toml_text, const std::string& source_name) {
  return ParseStationsFile(common::ParseTomlText<StationConfigError>(toml_text, source_name));
}

StationRegistry LoadStations(const std::string& path) {
  return ParseStationsFile(common::ReadTomlFile<StationConfigError>(path, "station registry"));
}

std::optional<std::pair<double, double>> ToWgs84(const Location& location) {
  if (location.lat && location.lon) return std::make_pair(*location.lat, *location.lon);
  if (!location.x || !location.y) return std::nullopt;
  // GDAL reports an unknown EPSG code on stderr; the caller gets nullopt instead.
  CPLPushErrorHandler(CPLQuietErrorHandler);
  struct PopHandler {
    ~PopHandler() { CPLPopErrorHandler(); }
  } pop;
  OGRSpatialReference src;
  OGRSpatialReference dst;
  if (src.importFromEPSG(location.epsg) != OGRERR_NONE) return std::nullopt;
  dst.importFromEPSG(4326);
  src.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  dst.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  std::unique_ptr<OGRCoordinateTransformation> ct(OGRCreateCoordinateTransformation(&src, &dst));
  if (!ct) return std::nullopt;
  double x = *location.x;
  double y = *location.y;
  if (!ct->Transform(1, &x, &y)) return std::nullopt;
  return std::make_pair(y, x);  // lon/lat order in, (lat, lon) out
}

}  // namespace floodwarn::ingest
