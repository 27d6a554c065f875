// ZRXP decoder (see zrxp.hpp).
#include "floodwarn/ingest/zrxp.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "floodwarn/common/iso8601.hpp"
#include "floodwarn/common/time.hpp"
#include "unit_util.hpp"

namespace floodwarn::ingest {
namespace {

// Keywords of the format (zahnentechnik/zrxp Keywords.php, plus keys seen in
// real files). A field's key is the longest keyword it starts with; an
// unknown field's key is its leading run of capital letters.
constexpr std::array<std::string_view, 36> kKeywords = {
    "SANR",        "SNAME",       "SWATER",      "CDASA",  "CDASANAME",    "CCHANNEL",
    "CCHANNELNO",  "CMW",         "CNAME",       "CNR",    "CUNIT",        "REXCHANGE",
    "RINVAL",      "RTIMELVL",    "XVLID",       "TSPATH", "CTAG",         "CTAGKEY",
    "XTRUNCATE",   "METCODE",     "METERNUMBER", "EDIS",   "TZ",           "ZDATE",
    "ZRXPVERSION", "ZRXPCREATOR", "LAYOUT",      "TASKID", "SOURCESYSTEM", "SOURCEID",
    "CTYPE",       "RNR",         "RSTATE",      "RORPR",  "ZRXPFORMAT",   "CMT"};

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Splits "KEYvalue" into (KEY, value); KEY empty when the field has none.
std::pair<std::string, std::string_view> SplitField(std::string_view f) {
  std::string_view best;
  for (std::string_view k : kKeywords)
    if (f.size() >= k.size() && f.compare(0, k.size(), k) == 0 && k.size() > best.size()) best = k;
  if (best.empty()) {
    std::size_t n = 0;
    while (n < f.size() && f[n] >= 'A' && f[n] <= 'Z') ++n;
    best = f.substr(0, n);
  }
  return {std::string(best), f.substr(best.size())};
}

// Splits a header line's content on `|*|` and `;*;`.
std::vector<std::string_view> SplitHeader(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i + 3 <= s.size() && s[i + 1] == '*' &&
        ((s[i] == '|' && s[i + 2] == '|') || (s[i] == ';' && s[i + 2] == ';'))) {
      out.push_back(s.substr(start, i - start));
      start = i + 3;
      i += 2;
    }
  }
  out.push_back(s.substr(start));
  return out;
}

// Whitespace-separated tokens; a token starting with '"' runs to the next '"'.
bool Tokenize(std::string_view s, std::vector<std::string_view>& out) {
  out.clear();
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    if (i >= s.size()) break;
    if (s[i] == '"') {
      const std::size_t end = s.find('"', i + 1);
      if (end == std::string_view::npos) return false;
      out.push_back(s.substr(i, end - i + 1));
      i = end + 1;
    } else {
      std::size_t j = i;
      while (j < s.size() && s[j] != ' ' && s[j] != '\t') ++j;
      out.push_back(s.substr(i, j - i));
      i = j;
    }
  }
  return true;
}

std::optional<TimePoint> ParseZrxpTimestamp(std::string_view s, int offset_minutes) {
  if (s.size() != 14 && s.size() != 12) return std::nullopt;
  std::size_t p = 0;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (!common::ParseDigits(s, p, 4, y) || !common::ParseDigits(s, p, 2, mo) ||
      !common::ParseDigits(s, p, 2, d) || !common::ParseDigits(s, p, 2, h) ||
      !common::ParseDigits(s, p, 2, mi))
    return std::nullopt;
  if (s.size() == 14 && !common::ParseDigits(s, p, 2, sec)) return std::nullopt;
  return common::CivilToTime(y, mo, d, h, mi, sec, 0, offset_minutes);
}

bool ParseNumber(std::string_view s, double& v) {
  if (s.empty() || s.size() > 64) return false;
  char buf[65];
  std::copy(s.begin(), s.end(), buf);
  buf[s.size()] = '\0';
  char* end = nullptr;
  v = std::strtod(buf, &end);
  return end == buf + s.size() && std::isfinite(v);
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

class Parser {
 public:
  Parser(std::string_view bytes, const std::string& source) : bytes_(bytes), source_(source) {}

  ZrxpFile Run() {
    std::size_t pos = 0;
    std::size_t line = 0;
    while (pos < bytes_.size()) {
      std::size_t end = bytes_.find('\n', pos);
      if (end == std::string_view::npos) end = bytes_.size();
      std::string_view l = bytes_.substr(pos, end - pos);
      if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
      ++line;
      Line(l, line, pos);
      pos = end + 1;
    }
    return std::move(out_);
  }

 private:
  void Error(std::size_t line, std::size_t offset, std::string msg) {
    out_.errors.push_back({source_, line, offset, std::move(msg)});
  }

  ZrxpBlock& NewBlock(std::size_t line) {
    out_.blocks.emplace_back();
    ZrxpBlock& b = out_.blocks.back();
    b.first_line = line;
    b.layout = {"timestamp", "value"};
    in_data_ = false;
    layout_checked_ = false;
    return b;
  }

  void Line(std::string_view l, std::size_t line, std::size_t offset) {
    if (Trim(l).empty()) return;
    if (l.size() >= 2 && l[0] == '#' && l[1] == '#') return;  // comment
    if (l[0] == '#') {
      if (out_.blocks.empty() || in_data_) NewBlock(line);
      Header(l.substr(1), line, offset);
      return;
    }
    if (out_.blocks.empty()) {
      NewBlock(line);
      Error(line, offset, "data line before any ZRXP header (#...|*|): block without metadata");
    }
    in_data_ = true;
    Data(l, line, offset);
  }

  void Header(std::string_view content, std::size_t line, std::size_t offset) {
    ZrxpBlock& b = out_.blocks.back();
    for (std::string_view raw : SplitHeader(content)) {
      const std::string_view f = Trim(raw);
      if (f.empty()) continue;  // empty |*||*| fields are allowed
      auto [key, value_raw] = SplitField(f);
      if (key.empty()) continue;  // free text (e.g. trailing "  127 3"): ignored
      const std::string value = Latin1ToUtf8IfNeeded(value_raw);
      b.header[key] = value;
      if (key == "SANR") b.station_number = std::string(Trim(value));
      if (key == "SNAME") b.station_name = value;
      if (key == "CNAME") b.parameter = value;
      if (key == "CUNIT") b.unit = std::string(Trim(value));
      if (key == "RINVAL") {
        double v;
        if (ParseNumber(Trim(value), v))
          b.rinval = v;
        else
          Error(line, offset, fmt::format("RINVAL '{}': expected a number", value));
      }
      if (key == "TZ") {
        auto tz = ParseZrxpTimeZone(Trim(value));
        if (tz) {
          b.tz_offset_minutes = *tz;
          b.tz_valid = true;
        } else {
          b.tz_valid = false;
          Error(line, offset,
                fmt::format("TZ '{}': unknown time zone (expected UTC, UTC+1, UTC-05:30, MEZ, "
                            "MESZ...); the block's rows are skipped",
                            value));
        }
      }
      if (key == "LAYOUT") {
        std::string_view v = Trim(value);
        if (v.size() < 2 || v.front() != '(' || v.back() != ')') {
          Error(line, offset, fmt::format("LAYOUT '{}': expected (column,column,...)", v));
          continue;
        }
        v = v.substr(1, v.size() - 2);
        std::vector<std::string> cols;
        std::size_t s = 0;
        while (s <= v.size()) {
          std::size_t c = v.find(',', s);
          if (c == std::string_view::npos) c = v.size();
          cols.push_back(Lower(Trim(v.substr(s, c - s))));
          s = c + 1;
        }
        b.layout = cols;
        layout_checked_ = false;
      }
    }
  }

  int Col(const ZrxpBlock& b, std::string_view name) const {
    for (std::size_t i = 0; i < b.layout.size(); ++i)
      if (b.layout[i] == name) return static_cast<int>(i);
    return -1;
  }

  void Data(std::string_view l, std::size_t line, std::size_t offset) {
    ZrxpBlock& b = out_.blocks.back();
    if (!b.tz_valid) return;  // reported once at the TZ header
    const int ct = Col(b, "timestamp");
    const int cv = Col(b, "value");
    if (ct < 0 || cv < 0) {
      if (!layout_checked_)
        Error(line, offset,
              "LAYOUT has no 'timestamp' and 'value' columns; the block's rows are skipped");
      layout_checked_ = true;
      return;
    }
    if (!Tokenize(l, tokens_)) {
      Error(line, offset, "unterminated quoted field");
      return;
    }
    const int cf = Col(b, "forecast");
    const int cm = Col(b, "member");
    int cs = Col(b, "status");
    if (cs < 0) cs = Col(b, "primary_status");
    const int cr = Col(b, "remark");
    const int needed = std::max({ct, cv, cf, cm}) + 1;
    if (static_cast<int>(tokens_.size()) < needed) {
      Error(line, offset,
            fmt::format("expected at least {} columns (LAYOUT {}), got {}", needed,
                        fmt::join(b.layout, ","), tokens_.size()));
      return;
    }
    ZrxpRow row;
    row.line = line;
    auto t = ParseZrxpTimestamp(tokens_[static_cast<std::size_t>(ct)], b.tz_offset_minutes);
    if (!t) {
      Error(line, offset,
            fmt::format("timestamp '{}': expected yyyyMMddHHmmss",
                        Latin1ToUtf8IfNeeded(tokens_[static_cast<std::size_t>(ct)].substr(0, 40))));
      return;
    }
    row.time = *t;
    if (cf >= 0) {
      auto ft = ParseZrxpTimestamp(tokens_[static_cast<std::size_t>(cf)], b.tz_offset_minutes);
      if (!ft) {
        Error(line, offset, "forecast timestamp: expected yyyyMMddHHmmss");
        return;
      }
      row.forecast = ft;
    }
    if (cm >= 0) row.member = Latin1ToUtf8IfNeeded(tokens_[static_cast<std::size_t>(cm)]);
    const std::string_view vs = tokens_[static_cast<std::size_t>(cv)];
    double v;
    if (!ParseNumber(vs, v)) {
      Error(line, offset,
            fmt::format("value '{}': expected a number", Latin1ToUtf8IfNeeded(vs.substr(0, 40))));
      return;
    }
    if (b.rinval && v == *b.rinval) {
      row.missing = true;
      row.value = std::numeric_limits<double>::quiet_NaN();
    } else {
      row.value = v;
    }
    if (cs >= 0 && cs < static_cast<int>(tokens_.size())) {
      double s;
      if (ParseNumber(tokens_[static_cast<std::size_t>(cs)], s) && s == std::floor(s) &&
          std::abs(s) < 1e15)
        row.status = static_cast<long>(s);
    }
    if (cr >= 0 && cr < static_cast<int>(tokens_.size())) {
      std::string_view r = tokens_[static_cast<std::size_t>(cr)];
      if (r.size() >= 2 && r.front() == '"' && r.back() == '"') r = r.substr(1, r.size() - 2);
      row.remark = Latin1ToUtf8IfNeeded(r);
    }
    b.rows.push_back(std::move(row));
  }

  std::string_view bytes_;
  const std::string& source_;
  ZrxpFile out_;
  bool in_data_ = false;
  bool layout_checked_ = false;
  std::vector<std::string_view> tokens_;
};

std::string BaseName(const std::string& path) {
  const auto p = path.find_last_of('/');
  return p == std::string::npos ? path : path.substr(p + 1);
}

}  // namespace

std::string Latin1ToUtf8IfNeeded(std::string_view text) {
  // Valid UTF-8 (which includes plain ASCII) is kept as it is.
  bool valid = true;
  for (std::size_t i = 0; i < text.size() && valid;) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t n = c < 0x80           ? 1
                    : (c >> 5) == 0x6  ? 2
                    : (c >> 4) == 0xE  ? 3
                    : (c >> 3) == 0x1E ? 4
                                       : 0;
    if (n == 0 || (n == 2 && c < 0xC2) || i + n > text.size()) {
      valid = false;
      break;
    }
    for (std::size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) valid = false;
    i += n;
  }
  if (valid) return std::string(text);
  std::string out;
  out.reserve(text.size() + 8);
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x80) {
      out.push_back(ch);
    } else {
      out.push_back(static_cast<char>(0xC0 | (c >> 6)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
  }
  return out;
}

std::optional<int> ParseZrxpTimeZone(std::string_view tz) {
  const std::string t = Lower(tz);
  if (t == "mez" || t == "cet") return 60;
  if (t == "mesz" || t == "cest") return 120;
  std::string_view s = t;
  if (s.rfind("utc", 0) == 0 || s.rfind("gmt", 0) == 0)
    s.remove_prefix(3);
  else
    return std::nullopt;
  if (s.empty() || s == "0" || s == "+0" || s == "-0") return 0;
  int sign = 1;
  if (s[0] == '+' || s[0] == '-') {
    sign = s[0] == '-' ? -1 : 1;
    s.remove_prefix(1);
  }
  int h = 0;
  int m = 0;
  std::size_t p = 0;
  if (s.size() == 1 || s.size() == 2) {
    if (!common::ParseDigits(s, p, static_cast<int>(s.size()), h)) return std::nullopt;
  } else if (s.size() == 5 && s[2] == ':') {
    if (!common::ParseDigits(s, p, 2, h)) return std::nullopt;
    p = 3;
    if (!common::ParseDigits(s, p, 2, m)) return std::nullopt;
  } else if (s.size() == 4) {
    if (!common::ParseDigits(s, p, 2, h) || !common::ParseDigits(s, p, 2, m)) return std::nullopt;
  } else {
    return std::nullopt;
  }
  if (h > 14 || m > 59) return std::nullopt;
  return sign * (h * 60 + m);
}

ZrxpFile ParseZrxp(std::string_view bytes, const std::string& source) {
  return Parser(bytes, source).Run();
}

DecodeResult ZrxpToReadings(const ZrxpFile& file, const std::string& source,
                            const ZrxpReadingOptions& options,
                            std::vector<ForecastValue>* forecasts) {
  DecodeResult out;
  out.errors = file.errors;
  const std::string src = "zrxp:" + BaseName(source);
  for (const ZrxpBlock& b : file.blocks) {
    if (b.rows.empty()) continue;
    const std::string id = b.station_number.empty() ? options.default_station_id : b.station_number;
    if (id.empty()) {
      out.errors.push_back({source, b.first_line, 0,
                            fmt::format("block without SANR (station number) and no default "
                                        "station id given: {} rows skipped",
                                        b.rows.size())});
      continue;
    }
    const Station* st = options.stations ? options.stations->Find(id) : nullptr;
    const std::string file_unit = detail::NormalizeUnit(b.unit);
    std::string unit = file_unit.empty() && st ? st->unit : file_unit;
    double factor = 1.0;
    if (st && !file_unit.empty() && file_unit != st->unit) {
      auto f = detail::UnitFactor(file_unit, st->unit);
      if (!f) {
        out.errors.push_back(
            {source, b.first_line, 0,
             fmt::format("station '{}': CUNIT '{}' cannot be converted to the station's unit "
                         "'{}': {} rows skipped",
                         id, b.unit, st->unit, b.rows.size())});
        continue;
      }
      factor = *f;
      unit = st->unit;
    }
    const Quantity q = st ? st->kind : detail::GuessQuantity(unit);
    for (const ZrxpRow& r : b.rows) {
      if (r.forecast) {  // a forecast is never a reading
        if (!forecasts) continue;
        ForecastValue fv;
        fv.station_id = id;
        fv.issued = r.time;
        fv.valid = *r.forecast;
        fv.value = r.missing ? r.value : r.value * factor;
        fv.unit = unit;
        fv.quantity = q;
        fv.source = src;
        fv.member = r.member;
        const auto issue =
            std::chrono::duration_cast<std::chrono::seconds>(r.time.time_since_epoch()).count();
        fv.run_id = fmt::format("{}#{}@{}", src, r.member, issue);
        forecasts->push_back(std::move(fv));
        continue;
      }
      Reading rd;
      rd.station_id = id;
      rd.observed = r.time;
      rd.value = r.missing ? r.value : r.value * factor;
      rd.unit = unit;
      rd.quantity = q;
      rd.flag = r.missing ? QcFlag::kMissing : QcFlag::kNotEvaluated;
      rd.reason = r.missing ? "missing" : "";
      rd.source = src;
      out.readings.push_back(std::move(rd));
    }
  }
  return out;
}

DecodeResult DecodeZrxp(std::string_view bytes, const std::string& source,
                        const ZrxpReadingOptions& options, std::vector<ForecastValue>* forecasts) {
  return ZrxpToReadings(ParseZrxp(bytes, source), source, options, forecasts);
}

}  // namespace floodwarn::ingest
