// cycle.json and result.json (nlohmann JSON; errors name the file and field).
#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "floodwarn/common/atomic_file.hpp"
#include "floodwarn/forecast/cycle.hpp"

namespace floodwarn::forecast {
namespace {

using Json = nlohmann::ordered_json;

Json Read(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(fmt::format("{}: cannot open", path));
  try {
    return Json::parse(in);
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("{}: not valid JSON: {}", path, e.what()));
  }
}

// Written to a temporary name and renamed: a reader never sees half a file.
void Write(const std::string& path, const Json& j) {
  common::WriteFileAtomic(path, j.dump(2) + "\n");
}

// Field access that names what is wrong.
class Fields {
 public:
  Fields(const std::string& file, const Json& j, std::string prefix = "")
      : file_(file), j_(j), prefix_(std::move(prefix)) {}
  [[noreturn]] void Fail(const std::string& key, const std::string& what) const {
    throw std::runtime_error(fmt::format("{}: {}{}: {}", file_, prefix_, key, what));
  }
  const Json* Get(const std::string& key) const {
    auto it = j_.find(key);
    return it == j_.end() || it->is_null() ? nullptr : &*it;
  }
  const Json& Need(const std::string& key) const {
    const Json* v = Get(key);
    if (v == nullptr) Fail(key, "missing");
    return *v;
  }
  std::string Str(const std::string& key, const std::string& fallback = "",
                  bool required = false) const {
    const Json* v = required ? &Need(key) : Get(key);
    if (v == nullptr) return fallback;
    if (!v->is_string()) Fail(key, "expected a string");
    return v->get<std::string>();
  }
  double Num(const std::string& key, std::optional<double> fallback = std::nullopt) const {
    const Json* v = fallback ? Get(key) : &Need(key);
    if (v == nullptr) return *fallback;
    if (!v->is_number()) Fail(key, "expected a number");
    const double d = v->get<double>();
    if (!std::isfinite(d)) Fail(key, "expected a finite number");
    return d;
  }
  std::vector<double> Nums(const std::string& key) const {
    const Json& v = Need(key);
    if (!v.is_array()) Fail(key, "expected an array of numbers");
    std::vector<double> out;
    for (std::size_t k = 0; k < v.size(); ++k) {
      if (!v[k].is_number()) Fail(fmt::format("{}[{}]", key, k), "expected a number");
      out.push_back(v[k].get<double>());
    }
    return out;
  }
  Series SeriesAt(const std::string& key) const {
    const Json& v = Need(key);
    if (!v.is_object()) Fail(key, "expected {\"t\": [...], \"v\": [...]}");
    Fields f(file_, v, prefix_ + key + ".");
    Series s{f.Nums("t"), f.Nums("v")};
    if (s.t.size() != s.v.size() || s.t.empty())
      Fail(key, fmt::format("t and v must be non-empty and of one length, got {} and {}",
                            s.t.size(), s.v.size()));
    return s;
  }
  const std::string& file() const { return file_; }
  const std::string& prefix() const { return prefix_; }

 private:
  std::string file_;
  const Json& j_;
  std::string prefix_;
};

Json SeriesJson(const Series& s) { return Json{{"t", s.t}, {"v", s.v}}; }

Json Number(double v) { return std::isfinite(v) ? Json(v) : Json(nullptr); }
Json Numbers(const std::vector<double>& v) {
  Json a = Json::array();
  for (double x : v) a.push_back(Number(x));
  return a;
}
std::vector<double> NumbersBack(const Json& a) {
  std::vector<double> out;
  for (const auto& x : a) out.push_back(x.is_null() ? std::nan("") : x.get<double>());
  return out;
}

}  // namespace

CycleSpec ReadCycleSpec(const std::string& path) {
  const Json j = Read(path);
  const Fields f(path, j);
  if (f.Num("format") != 1) f.Fail("format", "expected 1");
  CycleSpec s;
  s.cycle_id = f.Str("cycle_id", "", true);
  s.scenario = f.Str("scenario", "", true);
  s.epoch = f.Str("epoch", "", true);
  s.start_checkpoint = f.Str("start_checkpoint");
  s.start_time = f.Num("start_time");
  s.analysis_end = f.Num("analysis_end");
  s.analysis_checkpoint = f.Str("analysis_checkpoint", "", true);
  s.issue_time = f.Num("issue_time");
  s.forecast_end = f.Num("forecast_end");
  s.output_interval = f.Num("output_interval");
  if (!(s.start_time <= s.analysis_end && s.analysis_end <= s.issue_time &&
        s.issue_time < s.forecast_end))
    f.Fail("start_time", "expected start_time <= analysis_end <= issue_time < forecast_end");
  if (!(s.output_interval > 0)) f.Fail("output_interval", "expected > 0 s");
  if (const Json* b = f.Get("boundaries")) {
    const Fields fb(path, *b, "boundaries.");
    for (auto it = b->begin(); it != b->end(); ++it) s.boundaries[it.key()] = fb.SeriesAt(it.key());
  }
  if (const Json* b = f.Get("inflows")) {
    const Fields fb(path, *b, "inflows.");
    for (auto it = b->begin(); it != b->end(); ++it) s.inflows[it.key()] = fb.SeriesAt(it.key());
  }
  if (f.Get("rain_mm_per_h")) s.rain_mm_per_h = f.SeriesAt("rain_mm_per_h");
  if (const Json* frames = f.Get("rain_frames")) {
    for (std::size_t k = 0; k < frames->size(); ++k) {
      const Fields ff(path, (*frames)[k], fmt::format("rain_frames[{}].", k));
      s.rain_frames.push_back({ff.Num("t"), ff.Str("file", "", true)});
    }
  }
  if (const Json* pts = f.Get("points")) {
    for (std::size_t k = 0; k < pts->size(); ++k) {
      const Fields fp(path, (*pts)[k], fmt::format("points[{}].", k));
      s.points.push_back({fp.Str("id", "", true), fp.Num("x"), fp.Num("y")});
    }
  }
  s.zones_file = f.Str("zones_file");
  s.zones_id_field = f.Str("zones_id_field", "id");
  if (f.Get("zone_depths")) s.zone_depths = f.Nums("zone_depths");
  if (const Json* gs = f.Get("gauges")) {
    for (std::size_t k = 0; k < gs->size(); ++k) {
      const Fields fg(path, (*gs)[k], fmt::format("gauges[{}].", k));
      s.gauges.push_back(
          {fg.Str("id", "", true), fg.Num("x"), fg.Num("y"), fg.SeriesAt("observed_level")});
    }
  }
  s.out_dir = f.Str("out_dir", "", true);
  if (const Json* c = f.Get("check_conservation")) {
    if (!c->is_boolean()) f.Fail("check_conservation", "expected true or false");
    s.check_conservation = c->get<bool>();
  }
  return s;
}

void WriteCycleSpec(const std::string& path, const CycleSpec& s) {
  Json j;
  j["format"] = 1;
  j["cycle_id"] = s.cycle_id;
  j["scenario"] = s.scenario;
  j["epoch"] = s.epoch;
  j["start_checkpoint"] = s.start_checkpoint;
  j["start_time"] = s.start_time;
  j["analysis_end"] = s.analysis_end;
  j["analysis_checkpoint"] = s.analysis_checkpoint;
  j["issue_time"] = s.issue_time;
  j["forecast_end"] = s.forecast_end;
  j["output_interval"] = s.output_interval;
  Json& b = j["boundaries"] = Json::object();
  for (const auto& [name, series] : s.boundaries) b[name] = SeriesJson(series);
  Json& in = j["inflows"] = Json::object();
  for (const auto& [name, series] : s.inflows) in[name] = SeriesJson(series);
  j["rain_mm_per_h"] = s.rain_mm_per_h ? SeriesJson(*s.rain_mm_per_h) : Json(nullptr);
  Json& frames = j["rain_frames"] = Json::array();
  for (const auto& fr : s.rain_frames) frames.push_back({{"t", fr.t}, {"file", fr.file}});
  Json& pts = j["points"] = Json::array();
  for (const auto& p : s.points) pts.push_back({{"id", p.id}, {"x", p.x}, {"y", p.y}});
  j["zones_file"] = s.zones_file;
  j["zones_id_field"] = s.zones_id_field;
  j["zone_depths"] = s.zone_depths;
  Json& gs = j["gauges"] = Json::array();
  for (const auto& g : s.gauges)
    gs.push_back(
        {{"id", g.id}, {"x", g.x}, {"y", g.y}, {"observed_level", SeriesJson(g.observed_level)}});
  j["out_dir"] = s.out_dir;
  j["check_conservation"] = s.check_conservation;
  Write(path, j);
}

void WriteCycleResult(const std::string& path, const CycleResult& r) {
  Json j;
  j["format"] = 1;
  j["cycle_id"] = r.cycle_id;
  j["status"] = r.status;
  j["error"] = r.error.empty() ? Json(nullptr) : Json(r.error);
  j["epoch"] = r.epoch;
  j["issue_time"] = r.issue_time;
  j["analysis_end"] = r.analysis_end;
  j["model_time"] = r.model_time;
  j["lead_time_reached_s"] = r.lead_time_reached;
  j["analysis_written"] = r.analysis_written;
  j["steps"] = r.steps;
  j["wall_s"] = r.wall_s;
  j["analysis_wall_s"] = r.analysis_wall_s;
  j["forecast_wall_s"] = r.forecast_wall_s;
  j["mass_relative_error"] = Number(r.mass_relative_error);
  auto series = [](const std::vector<impacts::ImpactTracker::Series>& all, bool level) {
    Json a = Json::array();
    for (const auto& s : all) {
      Json o{{"id", s.id}, {"t", Numbers(s.t)}, {"depth", Numbers(s.depth)}};
      if (level) o["level"] = Numbers(s.level);
      a.push_back(std::move(o));
    }
    return a;
  };
  j["points"] = series(r.points, true);
  j["zones"] = series(r.zones, false);
  Json& table = j["zone_table"] = Json::array();
  for (const auto& z : r.zone_table)
    table.push_back({{"id", z.id},
                     {"cells", z.cells},
                     {"area_m2", z.area},
                     {"max_depth_m", z.max_depth},
                     {"max_depth_time", Number(z.max_depth_time)},
                     {"depths_m", z.depths},
                     {"max_area_above_m2", Numbers(z.max_area_above)},
                     {"first_time_above", Numbers(z.first_time_above)}});
  Json& skill = j["skill"] = Json::array();
  for (const auto& s : r.skill)
    skill.push_back({{"gauge", s.gauge},
                     {"samples", s.samples},
                     {"bias_m", Number(s.bias)},
                     {"rmse_m", Number(s.rmse)}});
  j["files"] = r.files;
  Write(path, j);
}

CycleResult ReadCycleResult(const std::string& path) {
  const Json j = Read(path);
  const Fields f(path, j);
  CycleResult r;
  r.cycle_id = f.Str("cycle_id", "", true);
  r.status = f.Str("status", "", true);
  r.error = f.Str("error");
  r.epoch = f.Str("epoch");
  r.issue_time = f.Num("issue_time");
  r.analysis_end = f.Num("analysis_end");
  r.model_time = f.Num("model_time");
  r.lead_time_reached = f.Num("lead_time_reached_s");
  r.analysis_written = j.value("analysis_written", false);
  r.steps = j.value("steps", 0L);
  r.wall_s = f.Num("wall_s", 0.0);
  r.analysis_wall_s = f.Num("analysis_wall_s", 0.0);
  r.forecast_wall_s = f.Num("forecast_wall_s", 0.0);
  r.mass_relative_error = f.Get("mass_relative_error") ? f.Num("mass_relative_error") : 0.0;
  auto series = [&](const char* key, bool level) {
    std::vector<impacts::ImpactTracker::Series> out;
    if (const Json* a = f.Get(key)) {
      for (const auto& o : *a) {
        impacts::ImpactTracker::Series s;
        s.id = o.at("id").get<std::string>();
        s.t = NumbersBack(o.at("t"));
        s.depth = NumbersBack(o.at("depth"));
        if (level) s.level = NumbersBack(o.at("level"));
        out.push_back(std::move(s));
      }
    }
    return out;
  };
  try {
    r.points = series("points", true);
    r.zones = series("zones", false);
    if (const Json* t = f.Get("zone_table")) {
      for (const auto& o : *t) {
        impacts::ImpactTracker::ZoneRow z;
        z.id = o.at("id").get<std::string>();
        z.cells = o.at("cells").get<std::size_t>();
        z.area = o.at("area_m2").get<double>();
        z.max_depth = o.at("max_depth_m").get<double>();
        z.max_depth_time =
            o.at("max_depth_time").is_null() ? std::nan("") : o.at("max_depth_time").get<double>();
        z.depths = o.at("depths_m").get<std::vector<double>>();
        z.max_area_above = NumbersBack(o.at("max_area_above_m2"));
        z.first_time_above = NumbersBack(o.at("first_time_above"));
        r.zone_table.push_back(std::move(z));
      }
    }
    if (const Json* s = f.Get("skill")) {
      for (const auto& o : *s)
        r.skill.push_back({o.at("gauge").get<std::string>(), o.at("samples").get<int>(),
                           o.at("bias_m").is_null() ? std::nan("") : o.at("bias_m").get<double>(),
                           o.at("rmse_m").is_null() ? std::nan("") : o.at("rmse_m").get<double>()});
    }
    if (const Json* fl = f.Get("files")) r.files = fl->get<std::vector<std::string>>();
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(fmt::format("{}: unexpected content: {}", path, e.what()));
  }
  return r;
}

}  // namespace floodwarn::forecast
