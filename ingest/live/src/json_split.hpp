// Splits a JSON text into its top-level values (internal to ingest/): the
// elements of a top-level array, or the single top-level value. Only the
// structure is scanned (strings, escapes, nesting); each piece is then parsed
// on its own, so one broken element does not take its neighbours with it.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace floodwarn::ingest::detail {

struct JsonPiece {
  std::size_t offset = 0;  // byte offset in the whole text
  std::string_view text;
};

struct JsonSplit {
  bool is_array = false;
  std::vector<JsonPiece> pieces;
  std::string error;  // non-empty when the structure itself is broken
  std::size_t error_offset = 0;
};

JsonSplit SplitTopLevel(std::string_view text);

}  // namespace floodwarn::ingest::detail

namespace floodwarn::ingest::detail {

// The raw text (and byte offset) of member `key` of the top-level JSON
// object in `text`, without parsing the rest; nullopt when the text is not
// an object or has no such member. Keys are compared as written (no escapes).
std::optional<JsonPiece> FindTopLevelMember(std::string_view text, std::string_view key);

}  // namespace floodwarn::ingest::detail
