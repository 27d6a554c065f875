// Private to floodwarn::alerting_cap: text as it goes into a CAP message:
// valid UTF-8 without control characters, one-line headlines, XML escapes,
// CAP-safe identifiers.
#pragma once

#include <cstddef>
#include <string>

namespace floodwarn::alerting::cap_internal {

// Clean text (valid UTF-8, no control characters), at most `max_chars` code
// points; a cut text ends with an ellipsis.
std::string CleanText(const std::string& s, std::size_t max_chars = 0);
std::size_t CountCodePoints(const std::string& s);
// Headlines go to one-line displays and SMS-like channels: line breaks and
// tabs become single spaces, leading/trailing blanks are dropped.
std::string OneLine(const std::string& s);
// CleanText, then the XML escapes (a CR as &#13;, which a parser would drop).
std::string XmlEscape(const std::string& raw);
// Characters outside [A-Za-z0-9._-] become "_XX" (hex of the byte).
std::string CapSafe(const std::string& s);
bool AllDigits(const std::string& s);
// Without leading and trailing blanks (space, tab, CR, LF).
std::string Trim(const std::string& s);

}  // namespace floodwarn::alerting::cap_internal
