// Internal to floodwarn::alerting cap: the generated German and English texts
// of a CAP <info> (docs/alerting/CAP.md lists them).
#pragma once

#include <string>

#include "floodwarn/alerting/cap.hpp"
#include "floodwarn/alerting/types.hpp"

namespace floodwarn::alerting::cap_texts {

enum class Lang { kDe, kEn };

struct InfoTexts {
  std::string event;
  std::string headline;  // before the 160-character limit is applied
  std::string description;
  std::string instruction;  // may be empty (then no <instruction>)
};

// When the message is sent and the local time of a forecast's onset, for
// the texts of forecast alerts ("expected at 14:35, in 40 min").
struct TextTimes {
  TimePoint sent{};
  std::string onset_local;  // "14:35" in the profile's local time; "" = no onset
};

// Texts for one language. Manual alerts use the operator's texts from
// `alert` where set (not on Cancel: the all-clear is always generated).
// Exercise and Test messages get an "ÜBUNG:"/"EXERCISE:" or "TEST:" prefix.
InfoTexts MakeTexts(Lang lang, CapMsgType type, const Alert& alert, const TextTimes& times = {});

// The name the texts use for the alert's subject (subject_name, station id,
// subject, area name, in that order of preference).
std::string SubjectName(const Alert& alert);

// A number for people: at most 2 decimals, trailing zeros dropped, decimal
// comma in German; "unbekannt"/"unknown" for NaN or infinity.
std::string FormatNumber(double v, Lang lang);

}  // namespace floodwarn::alerting::cap_texts
