#include "floodwarn/ingest/ttn.hpp"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "floodwarn/common/iso8601.hpp"

namespace floodwarn::ingest {
namespace {

using nlohmann::json;

constexpr int kLdds75Port = 2;

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

const json* Find(const json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}

}  // namespace

std::optional<std::vector<std::uint8_t>> DecodeBase64(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::vector<std::uint8_t> out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = text[i + static_cast<std::size_t>(k)];
      if (c == '=') {
        // padding only in the last group, only at its end
        if (i + 4 != text.size() || k < 2) return std::nullopt;
        v[k] = 0;
        ++pad;
      } else {
        if (pad) return std::nullopt;
        v[k] = Base64Value(c);
        if (v[k] < 0) return std::nullopt;
      }
    }
    const std::uint32_t n =
        (static_cast<std::uint32_t>(v[0]) << 18) | (static_cast<std::uint32_t>(v[1]) << 12) |
        (static_cast<std::uint32_t>(v[2]) << 6) | static_cast<std::uint32_t>(v[3]);
    out.push_back(static_cast<std::uint8_t>(n >> 16));
    if (pad < 2) out.push_back(static_cast<std::uint8_t>((n >> 8) & 0xFF));
    if (pad < 1) out.push_back(static_cast<std::uint8_t>(n & 0xFF));
  }
  return out;
}

std::optional<Ldds75Frame> DecodeLdds75(const std::vector<std::uint8_t>& b, std::string* error) {
  if (b.size() < 4) {
    if (error)
      *error = fmt::format("LDDS75 frame of {} bytes, expected at least 4 (battery, distance)",
                           b.size());
    return std::nullopt;
  }
  Ldds75Frame f;
  f.battery_mv = ((b[0] << 8) | b[1]) & 0x3FFF;
  f.distance_mm = (b[2] << 8) | b[3];
  f.distance_valid = f.distance_mm >= 20;
  if (b.size() >= 5) f.interrupt_flag = b[4];
  if (b.size() >= 7) {
    const auto raw = static_cast<std::int16_t>(static_cast<std::uint16_t>((b[5] << 8) | b[6]));
    f.temperature_c = raw / 10.0;
  }
  if (b.size() >= 8) f.sensor_flag = b[7];
  return f;
}

DecodeResult DecodeTtnUplink(std::string_view payload, const std::string& source,
                             const TtnConfig& config, TimePoint received,
                             const std::string& source_tag) {
  DecodeResult out;
  auto fail = [&](std::size_t offset, std::string msg) {
    out.errors.push_back({source, 0, offset, std::move(msg)});
    return out;
  };
  json j;
  try {
    j = json::parse(payload.begin(), payload.end());
  } catch (const json::parse_error& e) {
    return fail(e.byte > 0 ? e.byte - 1 : 0, fmt::format("malformed JSON: {}", e.what()));
  } catch (const json::exception& e) {
    return fail(0, fmt::format("bad JSON value: {}", e.what()));
  }
  const json* ids = Find(j, "end_device_ids");
  const json* device_id = ids ? Find(*ids, "device_id") : nullptr;
  if (!device_id || !device_id->is_string())
    return fail(0, "TTN uplink: missing end_device_ids.device_id");
  const std::string dev = device_id->get<std::string>();
  const json* up = Find(j, "uplink_message");
  if (!up || !up->is_object())
    return fail(0, fmt::format("TTN uplink of device {}: no uplink_message (not an uplink?)", dev));
  // f_port is omitted when 0 (TTS omits zero values): a MAC-only frame.
  const json* port = Find(*up, "f_port");
  if (port && !port->is_number_integer())
    return fail(0, fmt::format("TTN uplink of device {}: f_port is not an integer", dev));
  const int f_port = port ? port->get<int>() : 0;
  auto dit = config.devices.find(dev);
  if (dit == config.devices.end()) {
    if (config.ignore_unknown_devices) return out;
    return fail(
        0, fmt::format("TTN uplink: unknown device \"{}\" (not in the [ttn] device table)", dev));
  }
  const TtnDevice& device = dit->second;
  if (f_port != kLdds75Port) return out;  // not a measurement frame
  const json* frm = Find(*up, "frm_payload");
  if (!frm || !frm->is_string())
    return fail(0, fmt::format("TTN uplink of device {}: missing uplink_message.frm_payload", dev));
  auto bytes = DecodeBase64(frm->get_ref<const std::string&>());
  if (!bytes)
    return fail(0, fmt::format("TTN uplink of device {}: frm_payload is not valid base64", dev));
  std::string err;
  auto frame = DecodeLdds75(*bytes, &err);
  if (!frame) return fail(0, fmt::format("TTN uplink of device {}: {}", dev, err));

  // Observation time: when the network server received the uplink (the
  // LDDS75 does not timestamp its frames).
  const json* at = Find(*up, "received_at");
  if (!at) at = Find(j, "received_at");
  if (!at || !at->is_string())
    return fail(0, fmt::format("TTN uplink of device {}: no received_at", dev));
  const std::string& at_text = at->get_ref<const std::string&>();
  auto observed = common::ParseIso8601(at_text, common::Iso8601Options::Feed(), &err);
  if (!observed)
    return fail(0, fmt::format("TTN uplink of device {}: timestamp '{}': {}", dev, at_text, err));

  double scale;
  if (device.unit == "mm") {
    scale = 1.0;
  } else if (device.unit == "cm") {
    scale = 0.1;
  } else if (device.unit == "m") {
    scale = 0.001;
  } else {
    return fail(0, fmt::format("TTN device {}: unsupported unit \"{}\" (expected mm, cm or m)", dev,
                               device.unit));
  }
  Reading r;
  r.station_id = device.station_id;
  r.observed = *observed;
  r.unit = device.unit;
  r.quantity = Quantity::kWaterLevel;
  r.source = source_tag;
  r.received = received;
  if (frame->distance_valid) {
    r.value = (device.mount_height_mm - frame->distance_mm) * scale;
  } else {
    r.value = std::numeric_limits<double>::quiet_NaN();
    r.flag = QcFlag::kMissing;
    r.reason = frame->distance_mm == 0 ? "ldds75: no sensor" : "ldds75: invalid reading (< 20 mm)";
  }
  out.readings.push_back(std::move(r));
  return out;
}

}  // namespace floodwarn::ingest
