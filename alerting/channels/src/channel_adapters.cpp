// What each adapter sends for an event: siren signals, EU-Alert/DE-Alert
// cell broadcasts, webhook JSON / CAP. Message formats: docs/alerting/CHANNELS.md.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "channel_internal.hpp"
#include "floodwarn/alerting/channels.hpp"
#include "floodwarn/alerting/json_codec.hpp"

namespace floodwarn::alerting {

namespace {

using nlohmann::json;

std::string KeyPrefix(const ChannelConfig& c, const Alert& a) {
  return "floodwarn:" + c.name + ":" + a.id;
}

std::string Summary(const AlertEvent& e, const std::string& what) {
  return fmt::format("alert={} seq={} kind={} level={} mode={} {}", e.alert.id, e.sequence,
                     ToString(e.kind), e.alert.level, ToString(e.alert.mode), what);
}

bool Notifiable(const Alert& a) { return !a.silenced && !a.suppressed; }

// --- UTF-8 / GSM 03.38 -----------------------------------------------------------

std::vector<char32_t> DecodeUtf8(const std::string& s) {
  std::vector<char32_t> out;
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    int len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || i + len > s.size()) {
      out.push_back(U'?');  // invalid byte: replaced, never passed on
      ++i;
      continue;
    }
    char32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
    bool ok = true;
    for (int k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) ok = false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    out.push_back(ok ? cp : U'?');
    i += ok ? len : 1;
  }
  return out;
}

std::string EncodeUtf8(const std::vector<char32_t>& cps) {
  std::string out;
  for (char32_t cp : cps) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  return out;
}

// Septets of one character in the GSM 03.38 default alphabet (1), its
// extension table (2, escape + character), or 0 when not representable.
int GsmSeptets(char32_t c) {
  static const std::u32string kBasic =
      U"@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
      U"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  static const std::u32string kExtension = U"\f^{}\\[~]|€";
  if (kBasic.find(c) != std::u32string::npos) return 1;
  if (kExtension.find(c) != std::u32string::npos) return 2;
  return 0;
}

bool IsSpace(char32_t c) { return c == U' ' || c == U'\n' || c == U'\r' || c == U'\t'; }

}  // namespace

CbsText FitCellBroadcastText(const std::string& text, int pages) {
  pages = std::clamp(pages, 1, 15);
  const auto cps = DecodeUtf8(text);
  CbsText out;
  out.gsm7 = std::all_of(cps.begin(), cps.end(), [](char32_t c) { return GsmSeptets(c) > 0; });
  auto units_of = [&](char32_t c) -> std::size_t {
    return out.gsm7 ? static_cast<std::size_t>(GsmSeptets(c)) : (c > 0xFFFF ? 2u : 1u);
  };
  out.limit = static_cast<std::size_t>(pages) * (out.gsm7 ? 93u : 41u);
  std::size_t total = 0;
  for (char32_t c : cps) total += units_of(c);
  if (total <= out.limit) {
    out.text = EncodeUtf8(cps);
    out.units = total;
    return out;
  }
  // Too long: cut on a word boundary and mark the cut. "..." keeps a GSM-7
  // text in GSM-7 (the ellipsis character is not in the alphabet).
  const std::vector<char32_t> ellipsis =
      out.gsm7 ? std::vector<char32_t>{U'.', U'.', U'.'} : std::vector<char32_t>{U'…'};
  const std::size_t budget = out.limit - (out.gsm7 ? 3 : 1);
  std::size_t used = 0, end = 0;
  while (end < cps.size() && used + units_of(cps[end]) <= budget) used += units_of(cps[end++]);
  std::size_t cut = end;
  if (!IsSpace(cps[end])) {  // inside a word: back off to the last space
    std::size_t k = end;
    while (k > 0 && !IsSpace(cps[k - 1])) --k;
    if (k > end / 2) cut = k;  // a single huge "word" is cut hard instead
  }
  while (cut > 0 && IsSpace(cps[cut - 1])) --cut;
  std::vector<char32_t> kept(cps.begin(), cps.begin() + static_cast<std::ptrdiff_t>(cut));
  kept.insert(kept.end(), ellipsis.begin(), ellipsis.end());
  out.units = 0;
  for (char32_t c : kept) out.units += units_of(c);
  out.text = EncodeUtf8(kept);
  out.truncated = true;
  return out;
}

CbsIds CellBroadcastIdsFor(Level level, Mode mode) {
  if (mode == Mode::kTest) return {4398, 4399};      // EU-Test / State-Local WEA Test
  if (mode == Mode::kExercise) return {4381, 4394};  // EU-Exercise / CMAS Exercise
  if (level >= 4) return {4372, 4385};               // EU-Alert Level 2: Extreme
  if (level == 3) return {4378, 4391};               // EU-Alert Level 3: Severe
  return {4396, 4397};                               // EU-Alert Level 4: EU-Info
}

// --- siren -----------------------------------------------------------------------

SirenAdapter::SirenAdapter(ChannelConfig config) : Channel(std::move(config)) {}

Plan SirenAdapter::PlanFor(const AlertEvent& e, const DeliveredLookup& delivered) const {
  Plan plan;
  const Alert& a = e.alert;
  if (IsOperational(a)) return plan;  // Routes() filters them too; planned directly, still none
  const auto groups = config_.siren_groups.find(a.area.id);
  if (groups == config_.siren_groups.end()) {
    spdlog::info("event=siren_no_groups channel={} alert={} area={}", config_.name, a.id,
                 a.area.id);
    return plan;
  }
  const std::string prefix = KeyPrefix(config_, a);

  std::string key, signal, exercise_of;
  if (a.mode == Mode::kTest) {
    // Test mode never sounds a warning: one "test" signal per alert level.
    if (e.kind == EventKind::kResolved || !Notifiable(a)) return plan;
    key = fmt::format("{}:test:L{}", prefix, a.level);
    if (delivered(key)) return plan;
    signal = "test";
  } else {
    if (a.mode == Mode::kExercise && config_.exercise_siren == ExerciseSiren::kNone) return plan;
    // An exercise marker has its own keys: it never stands in for a real run.
    const bool marker =
        a.mode == Mode::kExercise && config_.exercise_siren == ExerciseSiren::kMarker;
    const std::string warn_stem = marker ? "exercise_warning" : "warning";
    auto warned_at_or_above = [&](Level from) {
      for (Level l = std::max<Level>(from, 1); l <= 4; ++l)
        if (delivered(fmt::format("{}:{}:L{}", prefix, warn_stem, l))) return true;
      return false;
    };
    if (e.kind == EventKind::kRaised || e.kind == EventKind::kUpdated) {
      // One warning run per (alert, level); none for a repeat or a downgrade.
      if (!Notifiable(a) || a.level < config_.min_level || warned_at_or_above(a.level)) return plan;
      key = fmt::format("{}:{}:L{}", prefix, warn_stem, a.level);
      signal = marker ? "exercise" : "warning";
      exercise_of = marker ? "warning" : "";
    } else if (e.kind == EventKind::kResolved) {
      // All-clear only where a warning was sounded for this alert, and once.
      key = fmt::format("{}:{}", prefix, marker ? "exercise_all_clear" : "all_clear");
      if (!warned_at_or_above(1) || delivered(key)) return plan;
      signal = marker ? "exercise" : "all_clear";
      exercise_of = marker ? "all_clear" : "";
    } else {
      return plan;
    }
  }

  const std::string tone = signal == "warning"     ? "rising_falling"
                           : signal == "all_clear" ? "continuous"
                           : signal == "test"      ? "test"
                                                   : "none";
  json body = {{"signal", signal},
               {"tone", tone},
               {"duration_s", signal == "test"       ? 12
                              : signal == "exercise" ? 0
                                                     : 60},
               {"groups", groups->second},
               {"alert_id", a.id},
               {"level", a.level},
               {"mode", ToString(a.mode)},
               {"area_id", a.area.id},
               {"area_name", a.area.name},
               {"cap_identifier", e.cap_identifier},
               {"sequence", e.sequence},
               {"issued_at", ChannelTime(e.at)},
               {"idempotency_key", key}};
  if (!exercise_of.empty()) body["exercise_of"] = exercise_of;
  Delivery d;
  d.idempotency_key = key;
  d.event = e;
  d.content_type = "application/json";
  d.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  d.summary = Summary(e, fmt::format("signal={} groups={}", signal,
                                     fmt::join(groups->second.begin(), groups->second.end(), ",")));
  plan.deliveries.push_back(std::move(d));
  return plan;
}

// --- cell broadcast --------------------------------------------------------------

namespace {

std::string Join(std::initializer_list<std::string> parts, const std::string& sep) {
  std::string out;
  for (const auto& p : parts) {
    if (p.empty()) continue;
    if (!out.empty()) out += sep;
    out += p;
  }
  return out;
}

std::string CbText(const Alert& a, bool german, bool all_clear) {
  const std::string where = a.area.name.empty() ? a.subject_name : a.area.name;
  std::string prefix;
  if (a.mode == Mode::kTest) prefix = german ? "TEST - keine Gefahr. " : "TEST - no danger. ";
  if (a.mode == Mode::kExercise) prefix = german ? "ÜBUNG - " : "EXERCISE - ";
  if (all_clear) {
    const std::string head = german ? fmt::format("ENTWARNUNG Hochwasser für {}", where)
                                    : fmt::format("ALL CLEAR flood for {}", where);
    return prefix + head + "\n" +
           (german ? "Die Hochwassergefahr ist vorüber. Folgen Sie weiter den Hinweisen der "
                     "Behörden."
                   : "The flood danger has passed. Keep following the authorities' advice.");
  }
  std::string head = german ? a.headline_de : a.headline_en;
  if (head.empty())
    head = german ? fmt::format("HOCHWASSERWARNUNG Stufe {} für {}", a.level, where)
                  : fmt::format("FLOOD WARNING level {} for {}", a.level, where);
  std::string desc = german ? a.description_de : a.description_en;
  if (desc.empty()) desc = a.reason;
  std::string instr = german ? a.instruction_de : a.instruction_en;
  if (instr.empty() && a.level >= 3)
    instr = german ? "Meiden Sie Keller, Tiefgaragen und Unterführungen. Folgen Sie den "
                     "Anweisungen der Behörden."
                   : "Stay out of cellars, underground car parks and underpasses. Follow the "
                     "instructions of the authorities.";
  return prefix + head + "\n" + Join({desc, instr}, " ");
}

}  // namespace

CellBroadcastAdapter::CellBroadcastAdapter(ChannelConfig config) : Channel(std::move(config)) {}

Plan CellBroadcastAdapter::PlanFor(const AlertEvent& e, const DeliveredLookup& delivered) const {
  Plan plan;
  const Alert& a = e.alert;
  if (IsOperational(a)) return plan;  // Routes() filters them too; planned directly, still none
  const std::string prefix = KeyPrefix(config_, a);
  auto broadcast_key = [&](const std::string& cap_id, std::uint64_t seq) {
    return cap_id.empty() ? fmt::format("{}:broadcast:s{}", prefix, seq)
                          : fmt::format("{}:broadcast:{}", prefix, cap_id);
  };

  bool cancel = false;
  std::string key;
  if (e.kind == EventKind::kRaised || e.kind == EventKind::kUpdated) {
    if (!Notifiable(a) || a.level < config_.min_level) return plan;
    key = broadcast_key(e.cap_identifier, e.sequence);
  } else if (e.kind == EventKind::kResolved) {
    // Cancel (and all-clear text) only where this alert was broadcast.
    bool broadcast = false;
    for (const auto& m : a.messages)
      if (m.identifier != e.cap_identifier && delivered(broadcast_key(m.identifier, 0)))
        broadcast = true;
    if (!broadcast) return plan;
    cancel = true;
    key = prefix + ":cancel";
  } else {
    return plan;
  }

  const bool has_polygon = a.area.polygon.size() >= 4;
  if (!has_polygon && !a.area.circle) {
    plan.problems.push_back(fmt::format(
        "alert {} area '{}' has neither a polygon nor a circle: no cells to broadcast to", a.id,
        a.area.id));
    return plan;
  }

  const CbsIds ids = cancel && a.mode == Mode::kActual ? CellBroadcastIdsFor(1, Mode::kActual)
                                                       : CellBroadcastIdsFor(a.level, a.mode);
  json messages = json::array();
  bool truncated = false;
  for (const bool german : {true, false}) {
    const CbsText t = FitCellBroadcastText(CbText(a, german, cancel), config_.max_pages);
    truncated = truncated || t.truncated;
    messages.push_back({{"language", german ? "de" : "en"},
                        {"message_identifier", german ? ids.primary : ids.additional_language},
                        {"text", t.text},
                        {"encoding", t.gsm7 ? "GSM-7" : "UCS-2"},
                        {"length", t.units},
                        {"limit", t.limit},
                        {"truncated", t.truncated}});
  }
  json body = {{"action", cancel ? "cancel" : "broadcast"},
               {"alert_id", a.id},
               {"level", a.level},
               {"mode", ToString(a.mode)},
               {"cap_identifier", e.cap_identifier},
               {"sequence", e.sequence},
               {"issued_at", ChannelTime(e.at)},
               {"expires", ChannelTime(a.expires)},
               {"area", ToJson(a.area, JsonForm::kChannel)},
               {"messages", std::move(messages)},
               {"idempotency_key", key}};
  if (truncated)
    spdlog::warn("event=cell_broadcast_truncated channel={} alert={} key={}", config_.name, a.id,
                 key);
  Delivery d;
  d.idempotency_key = key;
  d.event = e;
  d.content_type = "application/json";
  d.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  d.summary =
      Summary(e, fmt::format("action={} message_identifier={}/{}", cancel ? "cancel" : "broadcast",
                             ids.primary, ids.additional_language));
  plan.deliveries.push_back(std::move(d));
  return plan;
}

// --- webhook ---------------------------------------------------------------------

WebhookAdapter::WebhookAdapter(ChannelConfig config) : Channel(std::move(config)) {}

Plan WebhookAdapter::PlanFor(const AlertEvent& e, const DeliveredLookup& /*delivered*/) const {
  Plan plan;
  Delivery d;
  d.idempotency_key =
      fmt::format("{}:{}:{}", KeyPrefix(config_, e.alert), ToString(e.kind),
                  e.cap_identifier.empty() ? fmt::format("s{}", e.sequence) : e.cap_identifier);
  d.event = e;
  if (config_.format == WebhookFormat::kCap) {
    if (e.cap_xml.empty()) return plan;  // only raised/updated/resolved carry CAP
    d.content_type = "application/cap+xml";
    d.body = e.cap_xml;
  } else {
    // The event in the channel form of the one JSON encoder (json_codec.hpp).
    json body = ToJson(e, JsonForm::kChannel);
    body["idempotency_key"] = d.idempotency_key;
    d.content_type = "application/json";
    d.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  }
  d.summary =
      Summary(e, fmt::format("format={}", config_.format == WebhookFormat::kCap ? "cap" : "json"));
  plan.deliveries.push_back(std::move(d));
  return plan;
}

}  // namespace floodwarn::alerting
