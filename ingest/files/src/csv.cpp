// CSV readings decoder and ISO 8601 times (see csv.hpp).
#include "floodwarn/ingest/csv.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <vector>

#include "floodwarn/common/iso8601.hpp"
#include "unit_util.hpp"

namespace floodwarn::ingest {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  return s;
}

std::vector<std::string_view> SplitComma(std::string_view l) {
  std::vector<std::string_view> out;
  std::size_t s = 0;
  while (true) {
    const std::size_t c = l.find(',', s);
    if (c == std::string_view::npos) {
      out.push_back(Trim(l.substr(s)));
      return out;
    }
    out.push_back(Trim(l.substr(s, c - s)));
    s = c + 1;
  }
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string Printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 60))
    out.push_back(std::isprint(static_cast<unsigned char>(c)) ? c : '?');
  return out;
}

bool ValidStationId(std::string_view id) {
  return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  });
}

}  // namespace

std::optional<TimePoint> ParseIsoTime(std::string_view s, std::string* error) {
  return common::ParseIso8601(s, common::Iso8601Options::File(), error);
}

std::string FormatIsoTime(TimePoint t) { return common::FormatIso8601(t); }

DecodeResult DecodeCsv(std::string_view bytes, const std::string& source,
                       const CsvOptions& options) {
  DecodeResult out;
  const auto slash = source.find_last_of('/');
  const std::string src = "csv:" + (slash == std::string::npos ? source : source.substr(slash + 1));
  std::size_t pos = 0;
  if (bytes.substr(0, 3) == "\xEF\xBB\xBF") pos = 3;
  std::size_t line = 0;
  int columns = 0;  // 0 until the header was read
  auto error = [&](std::size_t l, std::size_t off, std::string msg) {
    out.errors.push_back({source, l, off, std::move(msg)});
  };
  while (pos < bytes.size()) {
    std::size_t end = bytes.find('\n', pos);
    if (end == std::string_view::npos) end = bytes.size();
    std::string_view l = bytes.substr(pos, end - pos);
    const std::size_t off = pos;
    pos = end + 1;
    ++line;
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    const std::string_view t = Trim(l);
    if (t.empty() || t[0] == '#') continue;
    const std::vector<std::string_view> f = SplitComma(l);
    if (columns == 0) {
      std::vector<std::string> h;
      for (auto c : f) h.push_back(Lower(c));
      if (h == std::vector<std::string>{"station_id", "time", "value"}) {
        columns = 3;
      } else if (h == std::vector<std::string>{"station_id", "time", "value", "unit"}) {
        columns = 4;
      } else {
        error(line, off,
              fmt::format("expected the header 'station_id,time,value[,unit]', got '{}'; "
                          "nothing decoded",
                          Printable(l)));
        return out;
      }
      continue;
    }
    if (static_cast<int>(f.size()) != columns) {
      error(line, off,
            fmt::format("expected {} comma-separated fields, got {}", columns, f.size()));
      continue;
    }
    Reading r;
    if (!ValidStationId(f[0])) {
      error(line, off,
            fmt::format("station_id '{}': expected 1-64 characters of A-Z a-z 0-9 _ - .",
                        Printable(f[0])));
      continue;
    }
    r.station_id = std::string(f[0]);
    std::string why;
    auto tp = ParseIsoTime(f[1], &why);
    if (!tp) {
      error(line, off, fmt::format("time '{}': {}", Printable(f[1]), why));
      continue;
    }
    r.observed = *tp;
    if (f[2].empty()) {
      r.value = std::numeric_limits<double>::quiet_NaN();
      r.flag = QcFlag::kMissing;
      r.reason = "missing";
    } else {
      const std::string v(f[2]);
      char* e = nullptr;
      r.value = std::strtod(v.c_str(), &e);
      if (e != v.c_str() + v.size() || !std::isfinite(r.value)) {
        error(line, off,
              fmt::format("value '{}': expected a finite number (or empty for missing)",
                          Printable(f[2])));
        continue;
      }
      r.flag = QcFlag::kNotEvaluated;
    }
    r.unit = columns == 4 ? detail::NormalizeUnit(f[3]) : "";
    const Station* st = options.stations ? options.stations->Find(r.station_id) : nullptr;
    if (options.stations && st == nullptr) {
      error(line, off, fmt::format("station '{}' is not in the station registry", r.station_id));
      continue;
    }
    if (st) {
      if (!r.unit.empty() && r.unit != st->unit) {
        auto factor = detail::UnitFactor(r.unit, st->unit);
        if (!factor) {
          error(line, off,
                fmt::format("unit '{}' cannot be converted to station '{}''s unit '{}'",
                            Printable(f[3]), st->id, st->unit));
          continue;
        }
        r.value *= *factor;
      }
      r.unit = st->unit;
      r.quantity = st->kind;
    } else {
      r.quantity = detail::GuessQuantity(r.unit);
    }
    r.source = src;
    out.readings.push_back(std::move(r));
  }
  if (columns == 0 && out.errors.empty())
    error(line, 0, "no header line 'station_id,time,value[,unit]' found");
  return out;
}

}  // namespace floodwarn::ingest
