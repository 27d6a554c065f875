// Units of readings (private to floodwarn_ingest_files): normalisation of the
// spellings found in files, and conversion factors between compatible units.
#pragma once

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>

#include "floodwarn/ingest/reading.hpp"

namespace floodwarn::ingest::detail {

// "M" -> "m", "m³/s" -> "m3/s", "CM" -> "cm", "l/s" stays; "" stays "".
inline std::string NormalizeUnit(std::string_view u) {
  std::string s;
  for (std::size_t i = 0; i < u.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(u[i]);
    if (c == 0xC2 && i + 1 < u.size() && static_cast<unsigned char>(u[i + 1]) == 0xB3) {
      s.push_back('3');  // UTF-8 superscript three
      ++i;
    } else if (c == 0xB3) {
      s.push_back('3');  // Latin-1 superscript three
    } else if (c != ' ') {
      s.push_back(static_cast<char>(std::tolower(c)));
    }
  }
  if (s == "m^3/s" || s == "m3s-1" || s == "cumec" || s == "m3/sec") return "m3/s";
  return s;
}

// Factor f with value_in_to = value_in_from * f, for compatible units.
inline std::optional<double> UnitFactor(const std::string& from, const std::string& to) {
  auto len = [](const std::string& u) -> std::optional<double> {
    if (u == "m") return 1.0;
    if (u == "cm") return 0.01;
    if (u == "mm") return 0.001;
    return std::nullopt;
  };
  auto flow = [](const std::string& u) -> std::optional<double> {
    if (u == "m3/s") return 1.0;
    if (u == "l/s") return 0.001;
    return std::nullopt;
  };
  if (from == to) return 1.0;
  if (len(from) && len(to)) return *len(from) / *len(to);
  if (flow(from) && flow(to)) return *flow(from) / *flow(to);
  return std::nullopt;
}

inline Quantity GuessQuantity(const std::string& unit) {
  if (unit == "mm" || unit == "mm/h") return Quantity::kRainfall;
  if (unit == "m3/s" || unit == "l/s") return Quantity::kDischarge;
  return Quantity::kWaterLevel;
}

}  // namespace floodwarn::ingest::detail
