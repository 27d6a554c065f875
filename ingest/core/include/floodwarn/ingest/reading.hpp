// Readings and ingest events: the types that cross from ingest/ to its
// consumers (the reading store, the forcing builders, the alerting service).
// Header-only on purpose, so that alerting/ can depend on these types without
// linking the ingest sources (ARCHITECTURE.md: alerting depends on
// "proto (+ ingest types)").
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "floodwarn/common/time.hpp"

namespace floodwarn::ingest {

// The project's one time type (milliseconds since 1970-01-01 UTC).
using Clock = common::Clock;
using TimePoint = common::TimePoint;

// QARTOD-style quality flag. The numeric values are QARTOD's (ioos_qc):
// 1 pass, 2 not evaluated, 3 suspect, 4 fail, 9 missing.
enum class QcFlag : std::uint8_t {
  kPass = 1,
  kNotEvaluated = 2,
  kSuspect = 3,
  kFail = 4,
  kMissing = 9,
};

enum class Quantity : std::uint8_t {
  kWaterLevel,  // stage, in the station's unit (cm above gauge zero, or m)
  kDischarge,   // m3/s
  kRainfall,    // precipitation depth over the reading's interval, mm
};

// One observation of one station, after decoding and QC.
struct Reading {
  std::string station_id;
  TimePoint observed{};  // phenomenon time (UTC)
  double value = 0.0;    // NaN when flag == kMissing
  std::string unit;      // as stored, e.g. "cm", "m", "m3/s", "mm"
  Quantity quantity = Quantity::kWaterLevel;
  QcFlag flag = QcFlag::kNotEvaluated;
  std::string reason;    // which QC test set the flag, e.g. "spike", empty on pass
  std::string source;    // e.g. "mqtt", "pegelonline", "zrxp:file.zrx"
  TimePoint received{};  // when ingest received it (UTC)
};

// Health of a station: ok, stale (no reading for longer than its stale limit,
// stations.hpp StaleLimit) or failing (it reports, but nothing usable). The
// one set of health states: ingest decides them, the alerting engine acts on
// them (a dead gauge is never "no flood").
enum class StationHealth : std::uint8_t { kOk, kStale, kFailing };

struct StationHealthEvent {
  std::string station_id;
  StationHealth health = StationHealth::kOk;
  TimePoint at{};
  TimePoint last_reading{};  // observed time of the last usable reading (epoch if none)
  std::string reason;        // e.g. "no reading for 47 min (expected every 15 min)"
};

// Consumers of ingest events (in-process). Called after the reading is
// durable in the store. Implementations must not block for long.
class IngestSubscriber {
 public:
  virtual ~IngestSubscriber() = default;
  virtual void OnReading(const Reading& reading) = 0;
  virtual void OnStationHealth(const StationHealthEvent& event) = 0;
};

inline const char* ToString(QcFlag f) {
  switch (f) {
    case QcFlag::kPass:
      return "pass";
    case QcFlag::kNotEvaluated:
      return "not_evaluated";
    case QcFlag::kSuspect:
      return "suspect";
    case QcFlag::kFail:
      return "fail";
    case QcFlag::kMissing:
      return "missing";
  }
  return "unknown";
}

inline const char* ToString(StationHealth h) {
  switch (h) {
    case StationHealth::kOk:
      return "ok";
    case StationHealth::kStale:
      return "stale";
    case StationHealth::kFailing:
      return "failing";
  }
  return "unknown";
}

inline const char* ToString(Quantity q) {
  switch (q) {
    case Quantity::kWaterLevel:
      return "water_level";
    case Quantity::kDischarge:
      return "discharge";
    case Quantity::kRainfall:
      return "rainfall";
  }
  return "unknown";
}

}  // namespace floodwarn::ingest
