// The live forecast loop (loop.hpp): plans cycles from the reading store, runs
// each in a child process, carries the analysis state between cycles.
#include "floodwarn/forecast/loop.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "floodwarn/common/atomic_file.hpp"
#include "floodwarn/common/iso8601.hpp"
#include "floodwarn/forecast/child.hpp"
#include "floodwarn/ingest/forcing.hpp"
#include "floodwarn/ingest/reading_store.hpp"
#include "floodwarn/ingest/stations.hpp"

namespace floodwarn::forecast {
namespace {

namespace fs = std::filesystem;
using std::chrono::duration_cast;
using std::chrono::seconds;

std::int64_t EpochSeconds(TimePoint t) {
  return duration_cast<seconds>(t.time_since_epoch()).count();
}
// The multiple of `step` at or before t.
TimePoint Floor(TimePoint t, seconds step) {
  const std::int64_t s = EpochSeconds(t), k = step.count();
  const std::int64_t floored = (s >= 0 ? s / k : (s - k + 1) / k) * k;
  return TimePoint(seconds(floored));
}

std::string Iso(TimePoint t) { return common::FormatIso8601(t); }

// The loop's memory across restarts (state_dir/state.json): the model's
// epoch and the analysis checkpoint to continue from.
struct LoopState {
  std::optional<TimePoint> epoch;
  std::string checkpoint;        // "" = none yet
  double checkpoint_time = 0.0;  // model s
};

LoopState ReadState(const std::string& path) {
  LoopState s;
  std::ifstream in(path);
  if (!in) return s;
  try {
    const nlohmann::json j = nlohmann::json::parse(in);
    s.epoch = TimePoint(seconds(j.at("epoch_s").get<std::int64_t>()));
    s.checkpoint = j.value("checkpoint", "");
    s.checkpoint_time = j.value("checkpoint_time", 0.0);
  } catch (const std::exception& e) {
    spdlog::warn("event=forecast_state_unreadable file={} error=\"{}\" (spinning up anew)", path,
                 e.what());
    return LoopState{};
  }
  return s;
}

void WriteState(const std::string& path, const LoopState& s) {
  nlohmann::json j;
  j["epoch"] = s.epoch ? Iso(*s.epoch) : "";
  j["epoch_s"] = s.epoch ? EpochSeconds(*s.epoch) : 0;
  j["checkpoint"] = s.checkpoint;
  j["checkpoint_time"] = s.checkpoint_time;
  common::WriteFileAtomic(path, j.dump(2) + "\n");
}

// Usable readings of a station in [from, to].
std::vector<ingest::Reading> Usable(const ingest::ReadingStore& store, const std::string& id,
                                    TimePoint from, TimePoint to) {
  std::vector<ingest::Reading> out;
  for (auto& r : store.Query(id, from, to + std::chrono::milliseconds(1)))
    if (ingest::UsableForForcing(r)) out.push_back(std::move(r));
  return out;
}

// Level in m above the gauge zero's datum.
std::optional<double> LevelAboveDatum(const ingest::Station& st, const ingest::Reading& r) {
  const ingest::GaugeZero* zero = st.GaugeZeroAt(r.observed);
  const double scale = r.unit == "cm" ? 0.01 : r.unit == "m" ? 1.0 : std::nan("");
  if (!std::isfinite(scale)) return std::nullopt;
  return (zero ? zero->value : 0.0) + r.value * scale;
}

}  // namespace

std::string CycleId(TimePoint issue) {
  std::string iso = Iso(issue);  // 2026-12-07T14:05:00Z
  iso.erase(std::remove(iso.begin(), iso.end(), '-'), iso.end());
  iso.erase(std::remove(iso.begin(), iso.end(), ':'), iso.end());
  return iso;  // 20261207T140500Z
}

struct ForecastLoop::Impl {
  ForecastConfig cfg;
  const ingest::StationRegistry& stations;
  const ingest::ReadingStore& store;
  ForecastSink& sink;
  Options opt;
  mutable std::mutex mu;  // guards latest and state
  CycleStatus latest;
  LoopState state;
  std::thread thread;
  std::mutex wake_mu;
  std::condition_variable wake;
  bool stop = false;
  std::atomic<bool> cancel{false};  // kills a running cycle on Stop()

  Impl(ForecastConfig c, const ingest::StationRegistry& s, const ingest::ReadingStore& r,
       ForecastSink& k, Options o)
      : cfg(std::move(c)), stations(s), store(r), sink(k), opt(std::move(o)) {}

  std::string StatePath() const { return (fs::path(cfg.state_dir) / "state.json").string(); }

  // The stale limit of a forcing gauge: three of its reporting intervals.
  seconds StaleAfter(const ingest::Station& st) const { return 3 * st.expected_interval; }

  CycleSpec Plan(TimePoint now, std::string* missing) const {
    missing->clear();
    const TimePoint issue = Floor(now, cfg.interval);
    const TimePoint analysis_end = Floor(issue - cfg.analysis_lag, cfg.output_interval);
    LoopState st;
    {
      std::lock_guard<std::mutex> lock(mu);
      st = state;
    }
    // Continue from the last analysis, or spin up anew.
    bool warm = st.epoch && !st.checkpoint.empty() && fs::exists(st.checkpoint);
    if (warm) {
      const TimePoint ck = *st.epoch + duration_cast<TimePoint::duration>(
                                           std::chrono::duration<double>(st.checkpoint_time));
      warm = ck <= analysis_end && issue - ck <= cfg.max_gap + cfg.analysis_lag;
    }
    const TimePoint epoch = warm ? *st.epoch : analysis_end - cfg.warm_up;
    auto model_s = [&](TimePoint t) { return std::chrono::duration<double>(t - epoch).count(); };

    CycleSpec s;
    s.cycle_id = CycleId(issue);
    s.scenario = cfg.scenario;
    s.epoch = Iso(epoch);
    s.start_checkpoint = warm ? st.checkpoint : "";
    s.start_time = warm ? st.checkpoint_time : 0.0;
    s.analysis_end = model_s(analysis_end);
    s.analysis_checkpoint =
        (fs::path(cfg.state_dir) / "analysis" / ("analysis_" + s.cycle_id + ".h5")).string();
    s.issue_time = model_s(issue);
    s.forecast_end = s.issue_time + static_cast<double>(cfg.lead_time.count());
    s.output_interval = static_cast<double>(cfg.output_interval.count());
    s.points = cfg.points;
    s.zones_file = cfg.zones_file;
    s.zones_id_field = cfg.zones_id_field;
    s.zone_depths = cfg.zone_depths;
    s.out_dir = (fs::path(cfg.state_dir) / "cycles" / s.cycle_id).string();
    s.check_conservation = cfg.check_conservation;

    const TimePoint from =
        epoch + duration_cast<TimePoint::duration>(std::chrono::duration<double>(s.start_time)) -
        std::chrono::hours(1);
    std::vector<std::string> problems;
    auto station = [&](const std::string& id) -> const ingest::Station* {
      const ingest::Station* p = stations.Find(id);
      if (p == nullptr) problems.push_back(fmt::format("station '{}' is not registered", id));
      return p;
    };
    auto stale = [&](const ingest::Station& st, const std::vector<ingest::Reading>& rs) {
      if (!rs.empty() && issue - rs.back().observed <= StaleAfter(st)) return false;
      problems.push_back(
          fmt::format("forcing gauge {} has no usable reading {} (stale after {} min)", st.id,
                      rs.empty() ? "in the window" : "since " + Iso(rs.back().observed),
                      StaleAfter(st).count() / 60));
      return true;
    };

    // Inflows: the hydrograph up to now, then persistence or a recession.
    for (const auto& in : cfg.inflows) {
      const ingest::Station* st = station(in.station);
      if (st == nullptr) continue;
      const auto rs = Usable(store, in.station, from, issue);
      if (stale(*st, rs)) continue;
      const ingest::Hydrograph hy = ingest::InflowHydrograph(*st, rs);
      Series q;
      for (const auto& p : hy.points) {
        if (!q.t.empty() && model_s(p.t) <= q.t.back()) continue;
        q.t.push_back(model_s(p.t));
        q.v.push_back(p.discharge);
      }
      if (q.t.empty()) {
        problems.push_back(fmt::format("inflow gauge {}: no discharge (rating curve?)", st->id));
        continue;
      }
      const double t_last = q.t.back(), q_last = q.v.back();
      for (double t = t_last + s.output_interval; t < s.forecast_end + s.output_interval;
           t += s.output_interval) {
        const double lead = t - t_last;
        const double v =
            in.recession ? in.base_flow +
                               (q_last - in.base_flow) *
                                   std::exp(-lead / static_cast<double>(in.recession_time.count()))
                         : q_last;
        q.t.push_back(t);
        q.v.push_back(v);
      }
      if (!in.boundary.empty())
        s.boundaries[in.boundary] = q;
      else
        s.inflows[in.inflow] = q;
    }
    // Levels: the observed level, then persistence.
    for (const auto& lv : cfg.levels) {
      const ingest::Station* st = station(lv.station);
      if (st == nullptr) continue;
      const auto rs = Usable(store, lv.station, from, issue);
      if (stale(*st, rs)) continue;
      Series l;
      for (const auto& r : rs) {
        const auto v = LevelAboveDatum(*st, r);
        if (!v || (!l.t.empty() && model_s(r.observed) <= l.t.back())) continue;
        l.t.push_back(model_s(r.observed));
        l.v.push_back(*v);
      }
      if (l.t.empty()) {
        problems.push_back(fmt::format("level gauge {}: no level in m or cm", st->id));
        continue;
      }
      l.t.push_back(s.forecast_end + s.output_interval);
      l.v.push_back(l.v.back());
      s.boundaries[lv.boundary] = l;
    }
    // Rain: the mean rate of the rain gauges (each reading is the depth over
    // its station's interval), then a decaying persistence of the last rate.
    if (!cfg.rain_stations.empty()) {
      std::map<double, std::pair<double, int>> at;  // model s (interval midpoint) -> sum, count
      TimePoint last_obs{};
      bool any_fresh = false;
      for (const auto& id : cfg.rain_stations) {
        const ingest::Station* st = station(id);
        if (st == nullptr) continue;
        const auto rs = Usable(store, id, from, issue);
        if (!rs.empty() && issue - rs.back().observed <= StaleAfter(*st)) {
          any_fresh = true;
          last_obs = std::max(last_obs, rs.back().observed);
        }
        const double hours = static_cast<double>(st->expected_interval.count()) / 3600.0;
        for (const auto& r : rs) {
          const double mid = model_s(r.observed) - 0.5 * hours * 3600.0;
          auto& cell = at[mid];
          cell.first += r.value / hours;  // mm/h
          cell.second += 1;
        }
      }
      if (!any_fresh) {
        problems.push_back(
            fmt::format("no rain gauge ({}) has a usable reading in its last three intervals",
                        fmt::join(cfg.rain_stations, ", ")));
      } else {
        Series r;
        for (const auto& [t, sc] : at) {
          r.t.push_back(t);
          r.v.push_back(sc.first / sc.second);
        }
        const double t_last = r.t.back(), r_last = r.v.back();
        for (double t = std::max(t_last, model_s(last_obs)) + s.output_interval;
             t < s.forecast_end + s.output_interval; t += s.output_interval) {
          r.t.push_back(t);
          r.v.push_back(ingest::NowcastValue(r_last, seconds(static_cast<std::int64_t>(t - t_last)),
                                             cfg.rain_decay));
        }
        s.rain_mm_per_h = r;
      }
    }
    // Skill: observed levels at gauges inside the model.
    for (const auto& id : cfg.skill_stations) {
      const ingest::Station* st = station(id);
      if (st == nullptr || !st->location.x || !st->location.y) continue;
      CycleSpec::Gauge g{id, *st->location.x, *st->location.y, {}};
      for (const auto& r : Usable(store, id, from, issue)) {
        const auto v = LevelAboveDatum(*st, r);
        if (!v || (!g.observed_level.t.empty() && model_s(r.observed) <= g.observed_level.t.back()))
          continue;
        g.observed_level.t.push_back(model_s(r.observed));
        g.observed_level.v.push_back(*v);
      }
      if (!g.observed_level.t.empty()) s.gauges.push_back(std::move(g));
    }
    if (!problems.empty()) {
      *missing = fmt::format("{}", fmt::join(problems, "; "));
      s.cycle_id.clear();
    }
    return s;
  }

  void Publish(const CycleStatus& st) {
    std::lock_guard<std::mutex> lock(mu);
    latest = st;
  }

  CycleStatus Run(TimePoint now) {
    CycleStatus status;
    const TimePoint issue = Floor(now, cfg.interval);
    status.cycle_id = CycleId(issue);
    status.issue = issue;
    std::string missing;
    const CycleSpec spec = Plan(now, &missing);
    if (spec.cycle_id.empty()) {
      status.status = "no_forcing";
      status.reason = "forcing missing: " + missing;
      spdlog::warn("event=forecast_unavailable cycle={} reason=\"{}\"", status.cycle_id,
                   status.reason);
      Publish(status);
      sink.OnForecastUnavailable(status.cycle_id, issue, status.reason);
      return status;
    }
    std::error_code ec;
    fs::create_directories(spec.out_dir, ec);
    fs::create_directories(fs::path(spec.analysis_checkpoint).parent_path(), ec);
    const std::string spec_path = (fs::path(spec.out_dir) / "cycle.json").string();
    WriteCycleSpec(spec_path, spec);
    const seconds limit = cfg.timeout.count() > 0 ? cfg.timeout : cfg.interval;
    const auto wall_limit = std::chrono::milliseconds(static_cast<std::int64_t>(
        1000.0 * static_cast<double>(limit.count()) / std::max(opt.clock_speed, 1e-9)));
    spdlog::info("event=forecast_cycle_start cycle={} start={} warm={} issue={}", spec.cycle_id,
                 spec.start_time, !spec.start_checkpoint.empty(), spec.issue_time);
    const ChildOutcome child =
        RunChild({opt.executable, "forecast", "run", spec_path},
                 (fs::path(spec.out_dir) / "cycle.log").string(), wall_limit, &cancel);
    if (child.cancelled) {
      status.status = "failed";
      status.reason = "stopped: the service is shutting down";
      Publish(status);
      return status;
    }
    status.duration_s = child.wall_s;
    const std::string result_path = (fs::path(spec.out_dir) / "result.json").string();
    std::optional<CycleResult> result;
    if (!child.timed_out && fs::exists(result_path)) {
      try {
        result = ReadCycleResult(result_path);
      } catch (const std::exception& e) {
        spdlog::error("event=forecast_result_unreadable cycle={} error=\"{}\"", spec.cycle_id,
                      e.what());
      }
    }
    // The analysis is kept whenever it was written, also when the forecast failed.
    if (result && result->analysis_written) {
      LoopState next;
      next.epoch = TimePoint(
          seconds(EpochSeconds(issue) - static_cast<std::int64_t>(std::llround(spec.issue_time))));
      next.checkpoint = spec.analysis_checkpoint;
      next.checkpoint_time = spec.analysis_end;
      {
        std::lock_guard<std::mutex> lock(mu);
        state = next;
      }
      WriteState(StatePath(), next);
    }
    if (child.timed_out) {
      status.status = "late";
      status.reason = fmt::format("cycle {} not done within {} s of model time ({}); stopped",
                                  spec.cycle_id, limit.count(), child.Describe());
    } else if (!result) {
      status.status = "failed";
      status.reason =
          fmt::format("the model process ended without a result ({}); see {}", child.Describe(),
                      (fs::path(spec.out_dir) / "cycle.log").string());
    } else if (result->status != "ok") {
      status.status = "failed";
      status.reason = result->error;
    } else {
      status.status = "ok";
      status.lead_time_reached_s = result->lead_time_reached;
      status.result = result;
      status.epoch = TimePoint(
          seconds(EpochSeconds(issue) - static_cast<std::int64_t>(std::llround(spec.issue_time))));
    }
    Publish(status);
    if (status.status == "ok") {
      spdlog::info(
          "event=forecast_cycle_done cycle={} wall_s={:.1f} lead_time_reached_s={} steps={}",
          spec.cycle_id, child.wall_s, result->lead_time_reached, result->steps);
      sink.OnForecast(*result, status.epoch);
    } else {
      spdlog::error("event=forecast_unavailable cycle={} status={} reason=\"{}\"", spec.cycle_id,
                    status.status, status.reason);
      sink.OnForecastUnavailable(spec.cycle_id, issue, status.reason);
    }
    Prune();
    return status;
  }

  // Keeps the newest keep_cycles cycle folders and analysis checkpoints
  // (never the one state.json names).
  void Prune() {
    for (const char* sub : {"cycles", "analysis"}) {
      const fs::path dir = fs::path(cfg.state_dir) / sub;
      std::error_code ec;
      if (!fs::is_directory(dir, ec)) continue;
      std::vector<fs::path> entries;
      for (const auto& e : fs::directory_iterator(dir, ec)) entries.push_back(e.path());
      std::sort(entries.begin(), entries.end());
      if (entries.size() <= cfg.keep_cycles) continue;
      std::string keep;
      {
        std::lock_guard<std::mutex> lock(mu);
        keep = state.checkpoint;
      }
      for (std::size_t k = 0; k + cfg.keep_cycles < entries.size(); ++k)
        if (entries[k].string() != keep) fs::remove_all(entries[k], ec);
    }
  }

  void Loop() {
    // A cycle at once (forecasts as soon as possible after a start), then at
    // every multiple of the interval.
    TimePoint next = opt.clock();
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(wake_mu);
        while (!stop && opt.clock() < next) wake.wait_for(lock, std::chrono::milliseconds(50));
        if (stop) return;
      }
      const TimePoint now = opt.clock();
      try {
        Run(now);
      } catch (const std::exception& e) {
        spdlog::error("event=forecast_loop_error error=\"{}\"", e.what());
        sink.OnForecastUnavailable(CycleId(Floor(now, cfg.interval)), Floor(now, cfg.interval),
                                   std::string("the forecast loop failed: ") + e.what());
      }
      next = Floor(now, cfg.interval) + cfg.interval;
    }
  }
};

ForecastLoop::ForecastLoop(ForecastConfig config, const ingest::StationRegistry& stations,
                           const ingest::ReadingStore& store, ForecastSink& sink, Options options)
    : impl_(std::make_unique<Impl>(std::move(config), stations, store, sink, std::move(options))) {
  if (!impl_->opt.clock)
    impl_->opt.clock = [] {
      return std::chrono::time_point_cast<TimePoint::duration>(std::chrono::system_clock::now());
    };
  if (impl_->opt.executable.empty()) impl_->opt.executable = SelfExecutable();
  std::error_code ec;
  fs::create_directories(impl_->cfg.state_dir, ec);
  if (ec)
    throw std::runtime_error(fmt::format("forecast.state_dir {}: cannot create: {}",
                                         impl_->cfg.state_dir, ec.message()));
  impl_->state = ReadState(impl_->StatePath());
}

ForecastLoop::~ForecastLoop() { Stop(); }

void ForecastLoop::Start() {
  if (impl_->thread.joinable()) return;
  impl_->stop = false;
  impl_->cancel = false;
  impl_->thread = std::thread([this] { impl_->Loop(); });
}

void ForecastLoop::Stop() {
  {
    std::lock_guard<std::mutex> lock(impl_->wake_mu);
    impl_->stop = true;
  }
  impl_->cancel = true;
  impl_->wake.notify_all();
  if (impl_->thread.joinable()) impl_->thread.join();
}

CycleStatus ForecastLoop::RunCycle(TimePoint now) { return impl_->Run(now); }

CycleStatus ForecastLoop::latest() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->latest;
}

CycleSpec ForecastLoop::Plan(TimePoint now, std::string* missing_forcing) const {
  return impl_->Plan(now, missing_forcing);
}

}  // namespace floodwarn::forecast
