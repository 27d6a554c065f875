#include "json_split.hpp"

#include <fmt/format.h>

namespace floodwarn::ingest::detail {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view Trim(std::string_view s, std::size_t& offset) {
  while (!s.empty() && IsSpace(s.front())) {
    s.remove_prefix(1);
    ++offset;
  }
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

JsonSplit SplitTopLevel(std::string_view text) {
  JsonSplit out;
  std::size_t start = 0;
  while (start < text.size() && IsSpace(text[start])) ++start;
  if (start == text.size()) {
    out.error = "empty payload";
    return out;
  }
  if (text[start] != '[') {
    std::size_t off = start;
    const std::string_view piece = Trim(text.substr(start), off);
    out.pieces.push_back({off, piece});
    return out;
  }
  out.is_array = true;
  int depth = 0;
  std::string open;  // the brackets still open, innermost last
  bool in_string = false, escape = false;
  std::size_t piece_start = start + 1;
  for (std::size_t i = start; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escape)
        escape = false;
      else if (c == '\\')
        escape = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '[':
      case '{':
        ++depth;
        open.push_back(c);
        break;
      case ']':
      case '}':
        if (open.empty() || open.back() != (c == ']' ? '[' : '{')) {
          out.error =
              fmt::format("'{}' does not close the open '{}'", c, open.empty() ? ' ' : open.back());
          out.error_offset = i;
          return out;
        }
        open.pop_back();
        --depth;
        if (depth == 0) {
          // end of the top-level array
          std::size_t off = piece_start;
          auto piece = Trim(text.substr(piece_start, i - piece_start), off);
          if (!piece.empty() || !out.pieces.empty()) out.pieces.push_back({off, piece});
          std::size_t rest = i + 1;
          while (rest < text.size() && IsSpace(text[rest])) ++rest;
          if (rest != text.size()) {
            out.error = "unexpected characters after the top-level array";
            out.error_offset = rest;
          }
          return out;
        }
        if (depth < 0) {
          out.error = "unbalanced brackets";
          out.error_offset = i;
          return out;
        }
        break;
      case ',':
        if (depth == 1) {
          std::size_t off = piece_start;
          const std::string_view piece = Trim(text.substr(piece_start, i - piece_start), off);
          out.pieces.push_back({off, piece});
          piece_start = i + 1;
        }
        break;
      default:
        break;
    }
  }
  out.error = in_string ? "unterminated string" : "unterminated array";
  out.error_offset = text.size();
  // keep the complete pieces before the truncation; the tail is the error
  return out;
}

}  // namespace floodwarn::ingest::detail

namespace floodwarn::ingest::detail {

std::optional<JsonPiece> FindTopLevelMember(std::string_view text, std::string_view key) {
  std::size_t i = 0;
  auto skip_ws = [&] {
    while (i < text.size() && IsSpace(text[i])) ++i;
  };
  // Ends at the closing quote of the string starting at text[i] == '"'.
  auto skip_string = [&]() -> bool {
    for (++i; i < text.size(); ++i) {
      if (text[i] == '\\') {
        ++i;
      } else if (text[i] == '"') {
        ++i;
        return true;
      }
    }
    return false;
  };
  // Skips one value; returns false on broken structure.
  auto skip_value = [&]() -> bool {
    int depth = 0;
    std::string open;
    while (i < text.size()) {
      const char c = text[i];
      if (c == '"') {
        if (!skip_string()) return false;
        if (depth == 0) return true;
        continue;
      }
      if (c == '{' || c == '[') {
        ++depth;
        open.push_back(c);
      } else if (c == '}' || c == ']') {
        if (depth == 0) return true;                              // end of the enclosing object
        if (open.back() != (c == ']' ? '[' : '{')) return false;  // mismatched
        open.pop_back();
        --depth;
        if (depth == 0) {
          ++i;
          return true;
        }
      } else if (depth == 0 && (c == ',')) {
        return true;
      }
      ++i;
    }
    return depth == 0;
  };
  skip_ws();
  if (i >= text.size() || text[i] != '{') return std::nullopt;
  ++i;
  for (;;) {
    skip_ws();
    if (i >= text.size() || text[i] != '"') return std::nullopt;
    const std::size_t key_start = i + 1;
    if (!skip_string()) return std::nullopt;
    const std::string_view k = text.substr(key_start, i - 1 - key_start);
    skip_ws();
    if (i >= text.size() || text[i] != ':') return std::nullopt;
    ++i;
    skip_ws();
    const std::size_t value_start = i;
    if (!skip_value()) return std::nullopt;
    if (k == key) {
      std::size_t off = value_start;
      const std::string_view v = Trim(text.substr(value_start, i - value_start), off);
      return JsonPiece{off, v};
    }
    skip_ws();
    if (i >= text.size() || text[i] != ',') return std::nullopt;
    ++i;
  }
}

}  // namespace floodwarn::ingest::detail
