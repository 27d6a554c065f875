// Text hygiene for CAP messages (cap_text.hpp).
#include "cap_text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace floodwarn::alerting::cap_internal {
namespace {

void AppendUtf8(std::uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Decodes UTF-8 into code points; an invalid byte becomes U+FFFD.
std::vector<std::uint32_t> DecodeUtf8(const std::string& s) {
  std::vector<std::uint32_t> cps;
  cps.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    std::size_t len = 0;
    std::uint32_t cp = 0;
    std::uint32_t min = 0;
    if (b0 < 0x80) {
      cps.push_back(b0);
      ++i;
      continue;
    } else if ((b0 & 0xE0) == 0xC0) {
      len = 2, cp = b0 & 0x1F, min = 0x80;
    } else if ((b0 & 0xF0) == 0xE0) {
      len = 3, cp = b0 & 0x0F, min = 0x800;
    } else if ((b0 & 0xF8) == 0xF0) {
      len = 4, cp = b0 & 0x07, min = 0x10000;
    }
    bool ok = len != 0 && i + len <= s.size();
    for (std::size_t k = 1; ok && k < len; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xC0) != 0x80) ok = false;
      cp = (cp << 6) | (b & 0x3F);
    }
    if (ok && (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))) ok = false;
    if (!ok) {
      cps.push_back(0xFFFD);
      ++i;
      continue;
    }
    cps.push_back(cp);
    i += len;
  }
  return cps;
}

// XML 1.0 allows tab, LF, CR and most code points; C0/C1 controls, DEL and
// U+FFFE/U+FFFF are dropped (they would make the message ill-formed or carry
// nothing a person can read).
bool KeepCodePoint(std::uint32_t cp) {
  if (cp == 0x09 || cp == 0x0A || cp == 0x0D) return true;
  if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) return false;
  if (cp == 0xFFFE || cp == 0xFFFF) return false;
  return true;
}

bool IsCapSafeChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

}  // namespace

// Clean text (valid UTF-8, no control characters), at most `max_chars` code
// points; a cut text ends with an ellipsis.
std::string CleanText(const std::string& s, std::size_t max_chars) {
  std::vector<std::uint32_t> cps = DecodeUtf8(s);
  cps.erase(
      std::remove_if(cps.begin(), cps.end(), [](std::uint32_t c) { return !KeepCodePoint(c); }),
      cps.end());
  if (max_chars > 0 && cps.size() > max_chars) {
    cps.resize(max_chars - 1);
    while (!cps.empty() && (cps.back() == ' ' || cps.back() == '\n' || cps.back() == '\t'))
      cps.pop_back();
    cps.push_back(0x2026);  // …
  }
  std::string out;
  out.reserve(s.size());
  for (std::uint32_t cp : cps) AppendUtf8(cp, &out);
  return out;
}

std::size_t CountCodePoints(const std::string& s) { return DecodeUtf8(s).size(); }

// Headlines go to one-line displays and SMS-like channels: line breaks and
// tabs become single spaces, leading/trailing blanks are dropped.
std::string OneLine(const std::string& s) {
  std::string out;
  bool blank = false;
  for (char c : s) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      blank = true;
      continue;
    }
    if (blank && !out.empty()) out.push_back(' ');
    blank = false;
    out.push_back(c);
  }
  return out;
}

std::string XmlEscape(const std::string& raw) {
  const std::string s = CleanText(raw);
  std::string out;
  out.reserve(s.size() + 16);
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      case '\r':
        out += "&#13;";  // a literal CR would be normalised away by the parser
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

// Characters outside [A-Za-z0-9._-] become "_XX" (hex of the byte).
std::string CapSafe(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (IsCapSafeChar(c)) {
      out.push_back(c);
    } else {
      out += fmt::format("_{:02X}", static_cast<unsigned char>(c));
    }
  }
  return out;
}

bool AllDigits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string Trim(const std::string& s) {
  const char* ws = " \t\r\n";
  const auto b = s.find_first_not_of(ws);
  if (b == std::string::npos) return {};
  const auto e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

}  // namespace floodwarn::alerting::cap_internal
