#include "json_split.hpp"

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
        break;
      case ']':
      case '}':
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
