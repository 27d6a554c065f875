// SensorThings Observations decoder (pure; the poller is in sensorthings.cpp).
#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>

#include "floodwarn/common/iso8601.hpp"
#include "floodwarn/ingest/sensorthings.hpp"
#include "json_split.hpp"

namespace floodwarn::ingest {
namespace {

using nlohmann::json;

std::string DecodeObservation(const json& j, const SensorThingsDatastream& ds, TimePoint received,
                              Reading& r) {
  if (!j.is_object()) return fmt::format("expected an Observation object, got {}", j.type_name());
  auto pt = j.find("phenomenonTime");
  if (pt == j.end() || !pt->is_string()) return "missing \"phenomenonTime\"";
  std::string text = pt->get<std::string>();
  const auto slash = text.find('/');
  if (slash != std::string::npos) text = text.substr(slash + 1);  // interval: its end
  std::string err;
  auto t = common::ParseIso8601(text, common::Iso8601Options::Feed(), &err);
  if (!t) return fmt::format("\"phenomenonTime\": timestamp '{}': {}", text, err);
  auto res = j.find("result");
  if (res == j.end()) return "missing \"result\"";
  r.station_id = ds.station_id;
  r.observed = *t;
  r.unit = ds.unit;
  r.quantity = ds.quantity;
  r.source = "sensorthings";
  r.received = received;
  if (res->is_null()) {
    r.value = std::numeric_limits<double>::quiet_NaN();
    r.flag = QcFlag::kMissing;
  } else if (res->is_number()) {
    r.value = res->get<double>();
    if (!std::isfinite(r.value)) return "\"result\": not a finite number";
  } else {
    return fmt::format("\"result\": expected a number or null, got {}", res->type_name());
  }
  return {};
}

}  // namespace

SensorThingsPage DecodeSensorThingsObservations(std::string_view text, const std::string& source,
                                                const SensorThingsDatastream& ds,
                                                TimePoint received) {
  SensorThingsPage page;
  DecodeResult& out = page.decoded;
  // The collection envelope must parse; the elements are decoded one by one
  // so that one bad Observation does not hide the others.
  json envelope;
  std::optional<DecodeError> envelope_error;
  try {
    envelope = json::parse(text.begin(), text.end());
  } catch (const json::exception& e) {
    // The document is malformed: that is an error in any case. Still decode
    // what the raw structure allows: maybe only one element is broken.
    std::size_t offset = 0;
    if (const auto* pe = dynamic_cast<const json::parse_error*>(&e))
      offset = pe->byte > 0 ? pe->byte - 1 : 0;
    envelope_error = DecodeError{source, 0, offset, fmt::format("malformed JSON: {}", e.what())};
    if (!detail::FindTopLevelMember(text, "value")) {
      out.errors.push_back(*envelope_error);
      return page;
    }
  }
  if (!envelope.is_null()) {
    if (!envelope.is_object()) {
      out.errors.push_back({source, 0, 0, "expected an Observations collection object"});
      return page;
    }
    auto next = envelope.find("@iot.nextLink");
    if (next != envelope.end() && next->is_string()) page.next_link = next->get<std::string>();
  }
  auto member = detail::FindTopLevelMember(text, "value");
  if (!member) {
    out.errors.push_back({source, 0, 0, "no \"value\" array in the Observations collection"});
    return page;
  }
  const auto split = detail::SplitTopLevel(member->text);
  if (!split.is_array) {
    out.errors.push_back({source, 0, member->offset, "\"value\" is not an array"});
    return page;
  }
  for (const auto& piece : split.pieces) {
    const std::size_t offset = member->offset + piece.offset;
    try {
      const json j = json::parse(piece.text.begin(), piece.text.end());
      Reading r;
      const std::string err = DecodeObservation(j, ds, received, r);
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
  if (!split.error.empty())
    out.errors.push_back({source, 0, member->offset + split.error_offset, split.error});
  else if (envelope_error && out.errors.empty())  // not explained by a bad element
    out.errors.push_back(*envelope_error);
  return page;
}

}  // namespace floodwarn::ingest
