// PEGELONLINE decoders (pure; the poller is in pegelonline.cpp).
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "floodwarn/common/iso8601.hpp"
#include "floodwarn/ingest/pegelonline.hpp"
#include "json_split.hpp"

namespace floodwarn::ingest {
namespace {

using nlohmann::json;

// {"timestamp": ISO, "value": number, ...}; other keys (trend, states) are
// allowed: the API adds fields over time.
std::string DecodeMeasurement(const json& j, const PegelonlineSeries& series, TimePoint received,
                              Reading& r) {
  if (!j.is_object()) return fmt::format("expected a measurement object, got {}", j.type_name());
  auto ts = j.find("timestamp");
  if (ts == j.end() || !ts->is_string()) return "missing \"timestamp\" (ISO 8601 string)";
  std::string err;
  const std::string& text = ts->get_ref<const std::string&>();
  auto t = common::ParseIso8601(text, common::Iso8601Options::Feed(), &err);
  if (!t) return fmt::format("\"timestamp\": timestamp '{}': {}", text, err);
  auto v = j.find("value");
  if (v == j.end() || !v->is_number()) return "missing or non-numeric \"value\"";
  r.station_id = series.station_id;
  r.observed = *t;
  r.value = v->get<double>();
  r.unit = series.unit;
  r.quantity = series.quantity;
  r.source = "pegelonline";
  r.received = received;
  return {};
}

void DecodeOne(std::string_view text, std::size_t offset, const std::string& source,
               const PegelonlineSeries& series, TimePoint received, DecodeResult& out) {
  try {
    const json j = json::parse(text.begin(), text.end());
    Reading r;
    const std::string err = DecodeMeasurement(j, series, received, r);
    if (err.empty())
      out.readings.push_back(std::move(r));
    else
      out.errors.push_back({source, 0, offset, err});
  } catch (const json::parse_error& e) {
    out.errors.push_back({source, 0, offset + (e.byte > 0 ? e.byte - 1 : 0),
                          fmt::format("malformed JSON: {}", e.what())});
  } catch (const json::exception& e) {
    out.errors.push_back({source, 0, offset, fmt::format("bad JSON value: {}", e.what())});
  }
}

}  // namespace

DecodeResult DecodePegelonlineMeasurements(std::string_view text, const std::string& source,
                                           const PegelonlineSeries& series, TimePoint received) {
  DecodeResult out;
  const auto split = detail::SplitTopLevel(text);
  if (!split.is_array && split.error.empty()) {
    out.errors.push_back({source, 0, split.pieces.empty() ? 0 : split.pieces[0].offset,
                          "expected a JSON array of measurements"});
    return out;
  }
  for (const auto& piece : split.pieces)
    DecodeOne(piece.text, piece.offset, source, series, received, out);
  if (!split.error.empty()) out.errors.push_back({source, 0, split.error_offset, split.error});
  return out;
}

DecodeResult DecodePegelonlineCurrent(std::string_view text, const std::string& source,
                                      const PegelonlineSeries& series, TimePoint received) {
  DecodeResult out;
  DecodeOne(text, 0, source, series, received, out);
  return out;
}

}  // namespace floodwarn::ingest
