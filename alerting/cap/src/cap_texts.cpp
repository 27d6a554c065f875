// Generated German and English texts for CAP <info> blocks. The level
// descriptions follow the Bavarian Meldestufen (the LHP maps the other
// states' schemes onto the same four steps) and the DWD heavy-rain warning
// levels; docs/alerting/CAP.md shows them side by side.
#include "cap_texts.hpp"

#include <chrono>
#include <cmath>
#include <string>

#include <fmt/format.h>

namespace floodwarn::alerting::cap_texts {
namespace {

bool De(Lang l) { return l == Lang::kDe; }

int ClampLevel(Level l) { return l < 1 ? 1 : (l > 4 ? 4 : l); }

std::string ValueWithUnit(double v, const std::string& unit, Lang lang) {
  std::string s = FormatNumber(v, lang);
  if (!unit.empty() && std::isfinite(v)) s += " " + unit;
  return s;
}

// The place a rain or manual warning is about: the area, else the subject.
std::string PlaceName(const Alert& a) {
  if (!a.area.name.empty()) return a.area.name;
  return SubjectName(a);
}

// --- what a level means --------------------------------------------------

const char* WaterLevelMeaning(Level level, Lang lang) {
  static const char* const kDe[] = {
      "Bei Meldestufe 1 kommt es stellenweise zu kleinen Ausuferungen.",
      "Bei Meldestufe 2 können land- und forstwirtschaftliche Flächen überflutet sein; auf "
      "Haupt- und Gemeindestraßen sind leichte Verkehrsbehinderungen möglich.",
      "Bei Meldestufe 3 können einzelne bebaute Grundstücke oder Keller überflutet sein; "
      "überörtliche Verkehrsverbindungen können gesperrt werden.",
      "Bei Meldestufe 4 können bebaute Gebiete in größerem Umfang überflutet sein.",
  };
  static const char* const kEn[] = {
      "At warning level 1 there is minor overbank flow in places.",
      "At warning level 2 farmland and woodland may be flooded; minor disruption on main and "
      "local roads is possible.",
      "At warning level 3 individual built-up plots or cellars may be flooded; regional roads "
      "may be closed.",
      "At warning level 4 built-up areas may be flooded on a larger scale.",
  };
  return (De(lang) ? kDe : kEn)[ClampLevel(level) - 1];
}

const char* FloodInstruction(Level level, Lang lang) {
  static const char* const kDe[] = {
      "Verfolgen Sie die Entwicklung im Radio, in Warn-Apps und bei der "
      "Hochwasservorhersagezentrale. Halten Sie sich von Uferbereichen fern.",
      "Bereiten Sie sich auf Hochwasser vor: Bringen Sie Fahrzeuge, Wertgegenstände und "
      "Gefahrstoffe aus überflutungsgefährdeten Bereichen in Sicherheit. Meiden Sie überflutete "
      "Wege und Straßen.",
      "Betreten Sie keine Keller, Tiefgaragen oder Unterführungen in Gewässernähe. Bringen Sie "
      "Fahrzeuge aus Überflutungsbereichen in Sicherheit. Fahren oder gehen Sie nie durch "
      "überflutete Straßen. Folgen Sie den Anweisungen der Einsatzkräfte.",
      "Lebensgefahr in überfluteten Bereichen. Halten Sie sich nicht in Kellern oder Tiefgaragen "
      "auf und suchen Sie höher gelegene Stockwerke oder Gebiete auf. Fahren oder gehen Sie nie "
      "durch überflutete Straßen. Folgen Sie unbedingt den Anweisungen der Behörden und "
      "Einsatzkräfte.",
  };
  static const char* const kEn[] = {
      "Follow the situation on the radio, in warning apps and at the flood forecasting centre. "
      "Stay away from river banks.",
      "Prepare for flooding: move vehicles, valuables and hazardous substances out of areas at "
      "risk. Avoid flooded paths and roads.",
      "Do not enter cellars, underground car parks or underpasses near the water. Move vehicles "
      "out of flood-prone areas. Never drive or walk through flooded roads. Follow the "
      "instructions of the emergency services.",
      "Danger to life in flooded areas. Do not stay in cellars or underground car parks; move to "
      "higher floors or higher ground. Never drive or walk through flooded roads. Follow the "
      "instructions of the authorities and emergency services without fail.",
  };
  return (De(lang) ? kDe : kEn)[ClampLevel(level) - 1];
}

// DWD heavy-rain events: level 2 STARKREGEN, 3 HEFTIGER STARKREGEN,
// 4 EXTREM HEFTIGER STARKREGEN (level 1 has no DWD heavy-rain class).
const char* RainEvent(Level level, Lang lang) {
  static const char* const kDe[] = {"Starkregen", "Starkregen", "Heftiger Starkregen",
                                    "Extrem heftiger Starkregen"};
  static const char* const kEn[] = {"Heavy rain", "Heavy rain", "Very heavy rain",
                                    "Extremely heavy rain"};
  return (De(lang) ? kDe : kEn)[ClampLevel(level) - 1];
}

const char* RainLevelName(Level level, Lang lang) {
  static const char* const kDe[] = {"Wetterwarnung", "markanten Wetterwarnung", "Unwetterwarnung",
                                    "Warnung vor extremem Unwetter"};
  static const char* const kEn[] = {"weather warning", "warning of significant weather",
                                    "severe weather warning", "warning of extreme weather"};
  return (De(lang) ? kDe : kEn)[ClampLevel(level) - 1];
}

const char* RainInstruction(Level level, Lang lang) {
  static const char* const kDe[] = {
      "Rechnen Sie mit überfluteten Straßen und Unterführungen sowie mit Wasser in Kellern. "
      "Meiden Sie Unterführungen und tief liegende Bereiche.",
      "Heftiger Starkregen kann Keller, Tiefgaragen und Unterführungen innerhalb von Minuten "
      "fluten: Betreten Sie diese nicht. Schließen Sie Kellerfenster und Lichtschächte und "
      "sichern Sie Gegenstände im Freien. Fahren oder gehen Sie nie durch überflutete Straßen.",
      "Lebensgefahr durch Sturzfluten. Betreten Sie keine Keller, Tiefgaragen oder "
      "Unterführungen und suchen Sie höher gelegene Stockwerke auf. Halten Sie sich von "
      "Bachläufen und Senken fern. Folgen Sie den Anweisungen der Behörden und Einsatzkräfte.",
  };
  static const char* const kEn[] = {
      "Expect flooded roads and underpasses and water in cellars. Avoid underpasses and "
      "low-lying areas.",
      "Very heavy rain can flood cellars, underground car parks and underpasses within minutes: "
      "do not enter them. Close cellar windows and light wells and secure objects outdoors. "
      "Never drive or walk through flooded roads.",
      "Danger to life from flash floods. Do not enter cellars, underground car parks or "
      "underpasses; move to higher floors. Keep away from streams and hollows. Follow the "
      "instructions of the authorities and emergency services.",
  };
  const int i = ClampLevel(level) <= 2 ? 0 : ClampLevel(level) - 2;
  return (De(lang) ? kDe : kEn)[i];
}

// --- per rule kind ---------------------------------------------------------

InfoTexts Raised(Lang lang, const Alert& a, const TextTimes& times) {
  const bool de = De(lang);
  const std::string s = SubjectName(a);
  const int lv = a.level;
  const std::string val = ValueWithUnit(a.value, a.unit, lang);
  const std::string thr = ValueWithUnit(a.threshold, a.unit, lang);
  InfoTexts t;
  switch (a.kind) {
    case RuleKind::kWaterLevel:
      t.event = de ? "Hochwasser" : "Flood";
      t.headline = de ? fmt::format("Hochwasser Meldestufe {}: {}", lv, s)
                      : fmt::format("Flood warning level {}: {}", lv, s);
      t.description =
          de ? fmt::format(
                   "{}: Der Wasserstand beträgt {} und hat die Meldestufe {} ({}) erreicht "
                   "oder überschritten. {}",
                   s, val, lv, thr, WaterLevelMeaning(lv, lang))
             : fmt::format(
                   "{}: the water level is {} and has reached or exceeded warning level "
                   "{} ({}). {}",
                   s, val, lv, thr, WaterLevelMeaning(lv, lang));
      t.instruction = FloodInstruction(lv, lang);
      break;
    case RuleKind::kRateOfRise:
      t.event = de ? "Hochwasser" : "Flood";
      t.headline = de ? fmt::format("Schnell steigender Wasserstand (Stufe {}): {}", lv, s)
                      : fmt::format("Rapidly rising water level (level {}): {}", lv, s);
      t.description =
          de ? fmt::format(
                   "{}: Der Wasserstand steigt schnell, um {} (Schwelle der Stufe {}: {}). "
                   "Ein weiterer Anstieg ist möglich.",
                   s, val, lv, thr)
             : fmt::format(
                   "{}: the water level is rising fast, by {} (threshold of level {}: {}). "
                   "It may continue to rise.",
                   s, val, lv, thr);
      t.instruction = FloodInstruction(lv, lang);
      break;
    case RuleKind::kRainfall: {
      const std::string place = PlaceName(a);
      t.event = RainEvent(lv, lang);
      t.headline = de ? fmt::format("{} (Warnstufe {}): {}", t.event, lv, place)
                      : fmt::format("{} (warning level {}): {}", t.event, lv, place);
      t.description =
          de ? fmt::format(
                   "{}: Gemessene Niederschlagsmenge {} (Schwelle der Warnstufe {}: {}). "
                   "Das entspricht einer {} nach den Schwellen des Deutschen "
                   "Wetterdienstes; die Warnung beruht auf eigenen Messungen.",
                   place, val, lv, thr, RainLevelName(lv, lang))
             : fmt::format(
                   "{}: measured rainfall {} (threshold of warning level {}: {}). This "
                   "corresponds to a {} by the thresholds of the German Weather Service "
                   "(DWD); the warning is based on our own measurements.",
                   place, val, lv, thr, RainLevelName(lv, lang));
      t.instruction = RainInstruction(lv, lang);
      break;
    }
    case RuleKind::kForecastDepth: {
      // "Unterführung: über 0,3 m erwartet um 14:35 (in 40 Min.)": the onset
      // and the lead time first, for whoever has to act before it.
      std::string when;
      if (!times.onset_local.empty()) {
        const long minutes =
            std::chrono::duration_cast<std::chrono::minutes>(a.onset - times.sent).count();
        when = minutes > 0 ? (de ? fmt::format(" um {} (in {} Min.)", times.onset_local, minutes)
                                 : fmt::format(" at {}, in {} min", times.onset_local, minutes))
                           : (de ? fmt::format(" seit {}", times.onset_local)
                                 : fmt::format(" since {}", times.onset_local));
      }
      t.event = de ? "Hochwasser (Vorhersage)" : "Flood (forecast)";
      t.headline =
          de ? fmt::format("Hochwasser erwartet (Stufe {}): {} über {}{}", lv, s, thr, when)
             : fmt::format("Flooding expected (level {}): {} above {}{}", lv, s, thr, when);
      t.description =
          de ? fmt::format(
                   "{}: Die Hochwasservorhersage (Modellrechnung) erwartet eine "
                   "Wassertiefe von {}; die Schwelle der Stufe {} liegt bei {}{}. Dies ist "
                   "eine Vorhersage, keine Messung: Zeitpunkt und Ausmaß sind unsicher.",
                   s, val, lv, thr,
                   when.empty() ? "" : fmt::format(" und wird voraussichtlich{} erreicht", when))
             : fmt::format(
                   "{}: the flood forecast (model run) expects a water depth of {}; the "
                   "threshold of level {} is {}{}. This is a forecast, not a measurement: "
                   "timing and extent are uncertain.",
                   s, val, lv, thr,
                   when.empty() ? "" : fmt::format(" and is expected to be reached{}", when));
      t.instruction = FloodInstruction(lv, lang);
      break;
    }
    case RuleKind::kForecastOutage:
      t.event = de ? "Ausfall Hochwasservorhersage" : "Flood forecast outage";
      t.headline = de ? std::string("Hochwasservorhersage nicht verfügbar")
                      : std::string("Flood forecast unavailable");
      t.description =
          de ? fmt::format(
                   "Die Hochwasservorhersage liefert keine aktuelle Berechnung ({}). "
                   "Vorhersagewarnungen sind unbekannt – das ist keine Entwarnung. Warnungen "
                   "auf Grundlage gemessener Pegel gehen weiter.",
                   a.reason)
             : fmt::format(
                   "The flood forecast has no current model run ({}). Forecast warnings are "
                   "unknown, not 'all clear'. Warnings based on measured gauge levels go on.",
                   a.reason);
      t.instruction = de ? "Verfolgen Sie die Lage über die Pegel, den Niederschlagsradar und die "
                           "Hochwasservorhersagezentrale; benachrichtigen Sie den technischen "
                           "Dienst."
                         : "Follow the situation through the gauges, the rain radar and the flood "
                           "forecasting centre; notify technical support.";
      break;
    case RuleKind::kSensorOutage:
      t.event = de ? "Ausfall Messstelle" : "Gauge outage";
      t.headline = de ? fmt::format("Messstelle ausgefallen: {}", s)
                      : fmt::format("Gauge not reporting: {}", s);
      t.description = de ? fmt::format(
                               "Die Messstelle {} liefert keine aktuellen Daten. Ihre Werte sind "
                               "unbekannt – das ist keine Entwarnung. Warnungen, die auf dieser "
                               "Messstelle beruhen, können ausbleiben.",
                               s)
                         : fmt::format(
                               "The gauge {} is not reporting: its readings are unknown, not 'all "
                               "clear'. Warnings based on this gauge may not be issued.",
                               s);
      t.instruction = de ? "Verfolgen Sie die Lage über andere Quellen: benachbarte Pegel, die "
                           "Hochwasservorhersagezentrale, Radio und Warn-Apps."
                         : "Follow the situation through other sources: neighbouring gauges, the "
                           "flood forecasting centre, the radio and warning apps.";
      break;
    case RuleKind::kManual: {
      const std::string place = PlaceName(a);
      t.event = de ? "Hochwasser" : "Flood";
      t.headline = de ? fmt::format("Hochwasserwarnung Stufe {}: {}", lv, place)
                      : fmt::format("Flood warning level {}: {}", lv, place);
      t.description =
          de ? fmt::format("Die Leitstelle warnt vor Hochwasser der Stufe {} für {}.", lv, place)
             : fmt::format("The control centre warns of level {} flooding for {}.", lv, place);
      t.instruction = FloodInstruction(lv, lang);
      const std::string& h = de ? a.headline_de : a.headline_en;
      const std::string& d = de ? a.description_de : a.description_en;
      const std::string& i = de ? a.instruction_de : a.instruction_en;
      if (!h.empty()) t.headline = h;
      if (!d.empty()) t.description = d;
      if (!i.empty()) t.instruction = i;
      break;
    }
  }
  // A rule's own instruction (configured per rule in the rules file, e.g.
  // "close the railway underpass") comes first, before the generic advice of
  // the level. Operator texts of manual alerts were used above; an outage has
  // nothing local to add.
  if (a.kind != RuleKind::kManual && a.kind != RuleKind::kSensorOutage &&
      a.kind != RuleKind::kForecastOutage) {
    const std::string& local = de ? a.instruction_de : a.instruction_en;
    if (!local.empty()) t.instruction = local + " " + t.instruction;
  }
  return t;
}

InfoTexts AllClear(Lang lang, const Alert& a) {
  const bool de = De(lang);
  const std::string s = SubjectName(a);
  InfoTexts t = Raised(lang, a, {});  // keeps the event
  if (a.kind == RuleKind::kSensorOutage) {
    t.headline = de ? fmt::format("Messstelle meldet wieder: {}", s)
                    : fmt::format("Gauge reporting again: {}", s);
    t.description = de ? fmt::format(
                             "Die Messstelle {} liefert wieder Daten. Warnungen auf "
                             "Grundlage dieser Messstelle sind wieder möglich.",
                             s)
                       : fmt::format(
                             "The gauge {} is reporting again. Warnings based on this "
                             "gauge can be issued again.",
                             s);
    t.instruction.clear();
    return t;
  }
  if (a.kind == RuleKind::kForecastOutage) {
    t.headline = de ? std::string("Hochwasservorhersage wieder verfügbar")
                    : std::string("Flood forecast available again");
    t.description = de ? std::string(
                             "Die Hochwasservorhersage rechnet wieder; "
                             "Vorhersagewarnungen sind wieder möglich.")
                       : std::string(
                             "The flood forecast is running again; forecast warnings "
                             "can be issued again.");
    t.instruction.clear();
    return t;
  }
  const std::string place =
      (a.kind == RuleKind::kRainfall || a.kind == RuleKind::kManual) ? PlaceName(a) : s;
  t.headline = de ? fmt::format("Entwarnung: {}", place) : fmt::format("All clear: {}", place);
  t.description = de ? fmt::format("Die Warnung für {} ist aufgehoben.", place)
                     : fmt::format("The warning for {} has been lifted.", place);
  const bool measured = a.kind == RuleKind::kWaterLevel || a.kind == RuleKind::kRateOfRise ||
                        a.kind == RuleKind::kRainfall;
  if (measured && std::isfinite(a.value)) {
    t.description +=
        de ? fmt::format(" Aktueller Messwert: {}.", ValueWithUnit(a.value, a.unit, lang))
           : fmt::format(" Current reading: {}.", ValueWithUnit(a.value, a.unit, lang));
  }
  t.instruction = de ? "Bleiben Sie vorsichtig: Ufer, Keller, Straßen und Unterführungen können "
                       "noch überflutet, verschlammt oder beschädigt sein. Betreten Sie "
                       "überflutete Keller erst, wenn der Strom abgeschaltet ist."
                     : "Stay careful: banks, cellars, roads and underpasses may still be flooded, "
                       "muddy or damaged. Do not enter flooded cellars until the power has been "
                       "switched off.";
  return t;
}

}  // namespace

std::string SubjectName(const Alert& a) {
  if (!a.subject_name.empty()) return a.subject_name;
  if (!a.station_id.empty()) return a.station_id;
  if (!a.subject.empty()) return a.subject;
  if (!a.area.name.empty()) return a.area.name;
  return a.id;
}

std::string FormatNumber(double v, Lang lang) {
  if (!std::isfinite(v)) return De(lang) ? "unbekannt" : "unknown";
  std::string s = fmt::format("{:.2f}", v);
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  if (s == "-0") s = "0";
  if (De(lang)) {
    for (char& c : s)
      if (c == '.') c = ',';
  }
  return s;
}

InfoTexts MakeTexts(Lang lang, CapMsgType type, const Alert& alert, const TextTimes& times) {
  InfoTexts t = type == CapMsgType::kCancel ? AllClear(lang, alert) : Raised(lang, alert, times);
  const bool de = De(lang);
  if (type == CapMsgType::kUpdate) t.headline = (de ? "Aktualisierung: " : "Update: ") + t.headline;
  if (alert.mode == Mode::kExercise) {
    t.headline = (de ? "ÜBUNG: " : "EXERCISE: ") + t.headline;
  } else if (alert.mode == Mode::kTest) {
    t.headline = "TEST: " + t.headline;
  }
  return t;
}

}  // namespace floodwarn::alerting::cap_texts
