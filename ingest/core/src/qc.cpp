// QC tests (see qc.hpp).
#include "floodwarn/ingest/qc.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "floodwarn/common/time.hpp"

namespace floodwarn::ingest {
namespace {

int Severity(QcFlag f) {
  switch (f) {
    case QcFlag::kNotEvaluated:
      return 0;
    case QcFlag::kPass:
      return 1;
    case QcFlag::kSuspect:
      return 2;
    case QcFlag::kFail:
      return 3;
    case QcFlag::kMissing:
      return 4;
  }
  return 0;
}

QcOutcome Pass() { return {QcFlag::kPass, ""}; }
QcOutcome NotRun() { return {QcFlag::kNotEvaluated, ""}; }

bool Usable(const Reading& r) {
  return r.flag != QcFlag::kFail && r.flag != QcFlag::kMissing && std::isfinite(r.value);
}

// Formats a number without trailing noise ("812", "0.25").
std::string Num(double v) { return fmt::format("{:.6g}", v); }

}  // namespace

QcFlag WorseFlag(QcFlag a, QcFlag b) { return Severity(a) >= Severity(b) ? a : b; }

QcOutcome GrossRangeTest(double value, const QcParams& p) {
  if (!p.gross_min && !p.gross_max) return NotRun();
  if (p.gross_min && value < *p.gross_min)
    return {QcFlag::kFail, fmt::format("gross_range: {} below the sensor minimum {}", Num(value),
                                       Num(*p.gross_min))};
  if (p.gross_max && value > *p.gross_max)
    return {QcFlag::kFail, fmt::format("gross_range: {} above the sensor maximum {}", Num(value),
                                       Num(*p.gross_max))};
  return Pass();
}

QcOutcome ClimatologyTest(double value, const QcParams& p) {
  if (!p.climate_min && !p.climate_max) return NotRun();
  if (p.climate_min && value < *p.climate_min)
    return {QcFlag::kSuspect, fmt::format("climatology: {} below the plausible minimum {}",
                                          Num(value), Num(*p.climate_min))};
  if (p.climate_max && value > *p.climate_max)
    return {QcFlag::kSuspect, fmt::format("climatology: {} above the plausible maximum {}",
                                          Num(value), Num(*p.climate_max))};
  return Pass();
}

QcOutcome ClimatologyTest(double value, TimePoint t, const QcParams& p) {
  if (!p.climate_monthly_min && !p.climate_monthly_max) return ClimatologyTest(value, p);
  const int month = static_cast<int>(common::ToCivil(t).date.month);  // 1..12, UTC
  QcParams monthly = p;
  if (p.climate_monthly_min) monthly.climate_min = (*p.climate_monthly_min)[month - 1];
  if (p.climate_monthly_max) monthly.climate_max = (*p.climate_monthly_max)[month - 1];
  QcOutcome o = ClimatologyTest(value, monthly);
  if (!o.reason.empty()) o.reason += fmt::format(" (month {})", month);
  return o;
}

QcOutcome SpikeTest(double prev, double value, double next, const QcParams& p) {
  if (!p.spike_suspect && !p.spike_fail) return NotRun();
  const double dev = std::abs(value - 0.5 * (prev + next));
  if (p.spike_fail && dev > *p.spike_fail)
    return {QcFlag::kFail, fmt::format("spike: {} off the mean of its neighbours (fail above {})",
                                       Num(dev), Num(*p.spike_fail))};
  if (p.spike_suspect && dev > *p.spike_suspect)
    return {QcFlag::kSuspect,
            fmt::format("spike: {} off the mean of its neighbours (suspect above {})", Num(dev),
                        Num(*p.spike_suspect))};
  return Pass();
}

QcOutcome RateOfChangeTest(double prev, TimePoint prev_time, double value, TimePoint time,
                           const QcParams& p) {
  if (!p.max_rate_per_hour) return NotRun();
  const double hours = std::chrono::duration<double>(time - prev_time).count() / 3600.0;
  if (!(hours > 0)) return NotRun();
  const double rate = std::abs(value - prev) / hours;
  if (rate > *p.max_rate_per_hour)
    return {QcFlag::kSuspect, fmt::format("rate_of_change: {} per hour (max {})", Num(rate),
                                          Num(*p.max_rate_per_hour))};
  return Pass();
}

QcOutcome FlatLineTest(const std::vector<double>& previous, double value, const QcParams& p,
                       bool is_rain) {
  if (p.flat_suspect_count == 0 && p.flat_fail_count == 0) return NotRun();
  if (is_rain && std::abs(value) <= p.flat_epsilon) return NotRun();  // dry weather
  int run = 1;
  for (auto it = previous.rbegin(); it != previous.rend(); ++it) {
    if (!(std::abs(*it - value) <= p.flat_epsilon)) break;
    ++run;
  }
  if (p.flat_fail_count > 0 && run >= p.flat_fail_count)
    return {QcFlag::kFail, fmt::format("flat_line: {} consecutive values within {} (fail at {})",
                                       run, Num(p.flat_epsilon), p.flat_fail_count)};
  if (p.flat_suspect_count > 0 && run >= p.flat_suspect_count)
    return {QcFlag::kSuspect,
            fmt::format("flat_line: {} consecutive values within {} (suspect at {})", run,
                        Num(p.flat_epsilon), p.flat_suspect_count)};
  return Pass();
}

QcOutcome MissingTest(const Reading& r) {
  if (r.flag == QcFlag::kMissing || !std::isfinite(r.value)) return {QcFlag::kMissing, "missing"};
  return Pass();
}

void ApplyQc(std::vector<Reading>& batch, const Station& station,
             const std::vector<Reading>& history) {
  std::stable_sort(batch.begin(), batch.end(),
                   [](const Reading& a, const Reading& b) { return a.observed < b.observed; });
  const QcParams& p = station.qc;
  const bool rain = station.kind == Quantity::kRainfall;
  // Usable values before the batch (for rate, flat line and spike context).
  std::vector<double> prev_values;
  std::vector<TimePoint> prev_times;
  for (const Reading& h : history)
    if (Usable(h)) {
      prev_values.push_back(h.value);
      prev_times.push_back(h.observed);
    }
  const std::size_t keep =
      static_cast<std::size_t>(std::max(p.flat_fail_count, p.flat_suspect_count)) + 2;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    Reading& r = batch[i];
    const QcOutcome miss = MissingTest(r);
    if (miss.flag == QcFlag::kMissing) {
      r.flag = QcFlag::kMissing;
      r.reason = miss.reason;
      continue;
    }
    QcFlag flag = QcFlag::kNotEvaluated;
    std::vector<std::string> reasons;
    auto take = [&](const QcOutcome& o) {
      flag = WorseFlag(flag, o.flag);
      if (!o.reason.empty()) reasons.push_back(o.reason);
    };
    take(GrossRangeTest(r.value, p));
    const bool gross_fail = flag == QcFlag::kFail;
    take(ClimatologyTest(r.value, r.observed, p));
    if (!gross_fail && !prev_values.empty()) {
      take(RateOfChangeTest(prev_values.back(), prev_times.back(), r.value, r.observed, p));
      // Spike: needs the next usable reading of the batch (not gross-failed).
      for (std::size_t j = i + 1; j < batch.size(); ++j) {
        const Reading& n = batch[j];
        if (MissingTest(n).flag == QcFlag::kMissing) continue;
        if (GrossRangeTest(n.value, p).flag == QcFlag::kFail) continue;
        take(SpikeTest(prev_values.back(), r.value, n.value, p));
        break;
      }
    }
    if (!gross_fail) take(FlatLineTest(prev_values, r.value, p, rain));
    r.flag = flag;
    r.reason.clear();
    for (const auto& s : reasons) r.reason += (r.reason.empty() ? "" : "; ") + s;
    if (flag != QcFlag::kFail) {
      prev_values.push_back(r.value);
      prev_times.push_back(r.observed);
      if (prev_values.size() > 4 * keep) {
        prev_values.erase(prev_values.begin(), prev_values.end() - static_cast<long>(keep));
        prev_times.erase(prev_times.begin(), prev_times.end() - static_cast<long>(keep));
      }
    }
  }
}

void ApplyQcByStation(std::vector<Reading>& batch, const StationRegistry& stations,
                      const QcHistoryFn& history) {
  std::stable_sort(batch.begin(), batch.end(), [](const Reading& a, const Reading& b) {
    return a.station_id != b.station_id ? a.station_id < b.station_id : a.observed < b.observed;
  });
  std::vector<Reading> out;
  out.reserve(batch.size());
  for (std::size_t i = 0; i < batch.size();) {
    std::size_t j = i;
    while (j < batch.size() && batch[j].station_id == batch[i].station_id) ++j;
    std::vector<Reading> group(std::make_move_iterator(batch.begin() + static_cast<long>(i)),
                               std::make_move_iterator(batch.begin() + static_cast<long>(j)));
    if (const Station* st = stations.Find(group.front().station_id)) {
      const std::vector<Reading> h =
          history ? history(st->id, group.front().observed) : std::vector<Reading>{};
      ApplyQc(group, *st, h);
    }
    for (auto& r : group) out.push_back(std::move(r));
    i = j;
  }
  batch = std::move(out);
}

StaleStatus StaleCheck(std::optional<TimePoint> last_observed, TimePoint now,
                       std::chrono::seconds expected_interval, double factor) {
  StaleStatus s;
  const auto minutes = [](auto d) {
    return std::chrono::duration_cast<std::chrono::minutes>(d).count();
  };
  if (!last_observed) {
    s.stale = true;
    s.reason = fmt::format("no reading yet (expected every {} min)", minutes(expected_interval));
    return s;
  }
  s.age = std::chrono::duration_cast<std::chrono::milliseconds>(now - *last_observed);
  const auto limit = StaleLimit(expected_interval, factor);
  if (s.age > limit) {
    s.stale = true;
    s.reason = fmt::format("no reading for {} min (expected every {} min)", minutes(s.age),
                           minutes(expected_interval));
  }
  return s;
}

}  // namespace floodwarn::ingest
