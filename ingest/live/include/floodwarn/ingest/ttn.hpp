// The Things Stack (TTN) v3 uplink messages, as its MQTT server publishes
// them on v3/{application id}@{tenant}/devices/{device id}/up, and our own
// decoder for the Dragino LDDS75 ultrasonic distance sensor (docs/ingest/LIVE.md,
// "TTN v3 and the Dragino LDDS75").
//
// We decode frm_payload ourselves rather than trusting decoded_payload: the
// vendor decoder in TheThingsNetwork/lorawan-devices assigns the battery word
// to the distance (NOTES-alerting-ingest.md §5.4).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "floodwarn/ingest/decode.hpp"

namespace floodwarn::ingest {

// One LDDS75 uplink on fPort 2 (data sheet layout, big-endian):
//   bytes 0-1  battery: (word & 0x3FFF) mV
//   bytes 2-3  distance, mm; 0 = no sensor, < 20 = invalid reading
//   byte  4    interrupt flag            (optional, present in 8-byte frames)
//   bytes 5-6  DS18B20 temperature, signed, 0.1 degC (optional)
//   byte  7    sensor flag                (optional)
struct Ldds75Frame {
  int battery_mv = 0;
  int distance_mm = 0;
  bool distance_valid = false;  // false when distance < 20 mm (incl. 0: no sensor)
  std::optional<int> interrupt_flag;
  std::optional<double> temperature_c;
  std::optional<int> sensor_flag;
};

// Returns nullopt (and a reason in `error`) when the frame is too short.
std::optional<Ldds75Frame> DecodeLdds75(const std::vector<std::uint8_t>& bytes,
                                        std::string* error = nullptr);

// Standard base64 (RFC 4648, with padding), as TTN encodes frm_payload.
std::optional<std::vector<std::uint8_t>> DecodeBase64(std::string_view text);

// How one LoRaWAN device becomes a station.
struct TtnDevice {
  std::string station_id;
  std::string model = "ldds75";  // only model supported so far
  // Height of the sensor face above gauge zero, mm. Versioned: a remount
  // gets a new entry in the station registry; here the current value.
  double mount_height_mm = 0.0;
  std::string unit = "cm";  // unit of the produced level: "mm", "cm" or "m"
};

struct TtnConfig {
  std::map<std::string, TtnDevice> devices;  // by end_device_ids.device_id
  bool ignore_unknown_devices = false;       // otherwise an unknown device is a decode error
};

// Decodes one uplink message. Messages on other fPorts (configuration
// replies) produce neither readings nor errors. An invalid distance produces
// a reading with flag kMissing (the gauge reported, but no level): the
// station is alive but the value must not be used.
DecodeResult DecodeTtnUplink(std::string_view payload, const std::string& source,
                             const TtnConfig& config, TimePoint received,
                             const std::string& source_tag = "ttn");

}  // namespace floodwarn::ingest
