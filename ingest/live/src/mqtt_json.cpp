#include "floodwarn/ingest/mqtt_json.hpp"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "floodwarn/common/iso8601.hpp"
#include "json_split.hpp"

namespace floodwarn::ingest {
namespace {

using nlohmann::json;

bool ParseQuantity(const std::string& s, Quantity& q) {
  if (s == "water_level") {
    q = Quantity::kWaterLevel;
  } else if (s == "discharge") {
    q = Quantity::kDischarge;
  } else if (s == "rainfall") {
    q = Quantity::kRainfall;
  } else {
    return false;
  }
  return true;
}

// Decodes one object; returns an empty string on success, else what is wrong.
std::string DecodeObject(const json& j, TimePoint received, const std::string& source_tag,
                         Reading& r) {
  if (!j.is_object()) return fmt::format("expected a JSON object, got {}", j.type_name());
  bool has_station = false, has_time = false, has_value = false, has_unit = false;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& key = it.key();
    const json& v = it.value();
    if (key == "station") {
      if (!v.is_string() || v.get_ref<const std::string&>().empty())
        return "\"station\": expected a non-empty string";
      r.station_id = v.get<std::string>();
      has_station = true;
    } else if (key == "time") {
      if (!v.is_string()) return "\"time\": expected an ISO 8601 string";
      std::string err;
      const std::string& text = v.get_ref<const std::string&>();
      auto t = common::ParseIso8601(text, common::Iso8601Options::Feed(), &err);
      if (!t) return fmt::format("\"time\": timestamp '{}': {}", text, err);
      r.observed = *t;
      has_time = true;
    } else if (key == "value") {
      if (v.is_null()) {
        r.value = std::numeric_limits<double>::quiet_NaN();
        r.flag = QcFlag::kMissing;
      } else if (v.is_number()) {
        r.value = v.get<double>();
        if (!std::isfinite(r.value)) return "\"value\": not a finite number";
      } else {
        return fmt::format("\"value\": expected a number or null, got {}", v.type_name());
      }
      has_value = true;
    } else if (key == "unit") {
      if (!v.is_string() || v.get_ref<const std::string&>().empty())
        return "\"unit\": expected a non-empty string such as \"cm\"";
      r.unit = v.get<std::string>();
      has_unit = true;
    } else if (key == "quantity") {
      if (!v.is_string() || !ParseQuantity(v.get<std::string>(), r.quantity))
        return "\"quantity\": expected \"water_level\", \"discharge\" or \"rainfall\"";
    } else {
      return fmt::format("unknown key \"{}\" (expected station, time, value, unit, quantity)", key);
    }
  }
  if (!has_station) return "missing key \"station\"";
  if (!has_time) return "missing key \"time\"";
  if (!has_value) return "missing key \"value\"";
  if (!has_unit) return "missing key \"unit\"";
  r.source = source_tag;
  r.received = received;
  return {};
}

}  // namespace

DecodeResult DecodeMqttJson(std::string_view payload, const std::string& source, TimePoint received,
                            const std::string& source_tag) {
  DecodeResult out;
  const detail::JsonSplit split = detail::SplitTopLevel(payload);
  for (const detail::JsonPiece& piece : split.pieces) {
    Reading r;
    std::string err;
    try {
      const json j = json::parse(piece.text.begin(), piece.text.end());
      err = DecodeObject(j, received, source_tag, r);
    } catch (const json::parse_error& e) {
      out.errors.push_back({source, 0, piece.offset + (e.byte > 0 ? e.byte - 1 : 0),
                            fmt::format("malformed JSON: {}", e.what())});
      continue;
    } catch (const json::exception& e) {  // e.g. a number too large for a double
      out.errors.push_back({source, 0, piece.offset, fmt::format("bad JSON value: {}", e.what())});
      continue;
    }
    if (!err.empty()) {
      out.errors.push_back({source, 0, piece.offset, err});
      continue;
    }
    out.readings.push_back(std::move(r));
  }
  if (!split.error.empty()) out.errors.push_back({source, 0, split.error_offset, split.error});
  return out;
}

}  // namespace floodwarn::ingest
