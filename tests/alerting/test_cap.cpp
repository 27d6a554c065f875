// CAP 1.2 writer and rule checks: what a receiver reads from our messages,
// and that CheckCapRules catches the defects the XSD lets through.
#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "floodwarn/alerting/cap.hpp"
#include "test_cap_support.hpp"
#include "test_support.hpp"

namespace floodwarn::alerting {
namespace {

using namespace captest;
using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

std::string Joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += x + "\n";
  return s;
}

std::size_t CodePoints(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

// ---------------------------------------------------------------- times

TEST(CapTime, FormatsWithNumericOffsetNeverZ) {
  // Epoch values from `date -u -d <iso> +%s`.
  EXPECT_EQ(FormatCapTime(T0(), 60), "2026-11-22T10:15:00+01:00");
  EXPECT_EQ(FormatCapTime(T0(), 0), "2026-11-22T09:15:00+00:00");
  EXPECT_EQ(FormatCapTime(T0(), 120), "2026-11-22T11:15:00+02:00");
  EXPECT_EQ(FormatCapTime(T0(), 330), "2026-11-22T14:45:00+05:30");
  // Date rolls back across midnight and the year with a negative offset.
  const TimePoint ny(seconds(1767232800));  // 2026-01-01T02:00:00Z
  EXPECT_EQ(FormatCapTime(ny, -300), "2025-12-31T21:00:00-05:00");
  const TimePoint leap(seconds(1835479800));  // 2028-02-29T23:30:00Z
  EXPECT_EQ(FormatCapTime(leap, 60), "2028-03-01T00:30:00+01:00");
  EXPECT_EQ(FormatCapTime(leap, 0), "2028-02-29T23:30:00+00:00");
}

TEST(CapTime, DropsMillisecondsTowardsThePast) {
  EXPECT_EQ(FormatCapTime(T0() + milliseconds(999), 60), "2026-11-22T10:15:00+01:00");
  // Before 1970 the truncation must still go down, not towards zero.
  EXPECT_EQ(FormatCapTime(TimePoint(milliseconds(-500)), 0), "1969-12-31T23:59:59+00:00");
}

TEST(CapTime, ParseIsTheInverseOfFormat) {
  for (int off : {-720, -300, 0, 60, 120, 330, 840}) {
    for (long long s : {0LL, 951782400LL /*2000-02-29*/, 1795338900LL, 4102444799LL}) {
      const TimePoint t{seconds(s)};
      const auto back = ParseCapTime(FormatCapTime(t, off));
      ASSERT_TRUE(back.has_value()) << FormatCapTime(t, off);
      EXPECT_EQ(back->time_since_epoch().count(), s * 1000) << FormatCapTime(t, off);
    }
  }
}

TEST(CapTime, ParseRejectsWhatCapForbids) {
  EXPECT_TRUE(ParseCapTime("2025-07-15T06:30:00+02:00"));
  EXPECT_TRUE(ParseCapTime("2026-09-01T14:57:23-00:00"));
  EXPECT_FALSE(ParseCapTime("2025-07-15T06:30:00Z"));
  EXPECT_FALSE(ParseCapTime("2025-07-15T06:30:00.5+02:00"));
  EXPECT_FALSE(ParseCapTime("2025-07-15 06:30:00+02:00"));
  EXPECT_FALSE(ParseCapTime("2025-13-15T06:30:00+02:00"));
  EXPECT_FALSE(ParseCapTime("2026-02-29T06:30:00+02:00"));  // not a leap year
  EXPECT_FALSE(ParseCapTime("2025-07-15T24:00:00+02:00"));
  EXPECT_FALSE(ParseCapTime("2025-07-15T06:30:00+15:00"));
  EXPECT_FALSE(ParseCapTime("2025-07-15T06:30:00+0200"));
  // Same instant in two notations.
  EXPECT_EQ(*ParseCapTime("2025-07-15T06:30:00+02:00"), *ParseCapTime("2025-07-15T04:30:00-00:00"));
}

TEST(CapTime, EuSummerTimeSwitchesAtOneUtcOnTheLastSundays) {
  CapProfile p;
  p.utc_offset_minutes = 60;
  p.eu_summer_time = true;
  // Instants from `date -u -d <iso> +%s`; local times as `TZ=Europe/Berlin date` shows them.
  const TimePoint before_spring(seconds(1774745999));  // 2026-03-29T00:59:59Z
  EXPECT_EQ(FormatCapTime(p, before_spring), "2026-03-29T01:59:59+01:00");
  EXPECT_EQ(FormatCapTime(p, before_spring + seconds(1)), "2026-03-29T03:00:00+02:00");
  const TimePoint before_autumn(seconds(1792889999));  // 2026-10-25T00:59:59Z
  EXPECT_EQ(FormatCapTime(p, before_autumn), "2026-10-25T02:59:59+02:00");
  EXPECT_EQ(FormatCapTime(p, before_autumn + seconds(1)), "2026-10-25T02:00:00+01:00");
  EXPECT_EQ(FormatCapTime(p, T0()), "2026-11-22T10:15:00+01:00");
  p.eu_summer_time = false;
  EXPECT_EQ(FormatCapTime(p, before_spring + seconds(1)), "2026-03-29T02:00:00+01:00");
}

TEST(CapTime, EuSummerTimeAgreesWithTheTzDatabaseForBerlin) {
  if (!std::ifstream("/usr/share/zoneinfo/Europe/Berlin").good())
    GTEST_SKIP() << "no tzdata for Europe/Berlin on this machine";
  const char* old = std::getenv("TZ");
  const std::string saved = old ? old : "";
  setenv("TZ", "Europe/Berlin", 1);
  tzset();
  CapProfile p;
  p.utc_offset_minutes = 60;
  p.eu_summer_time = true;
  int checked = 0;
  // Every 30 minutes from 2024-01-01 to 2031-01-01 (covers 14 switches).
  for (std::int64_t s = 1704067200; s < 1924992000; s += 1800, ++checked) {
    const std::time_t tt = static_cast<std::time_t>(s);
    std::tm tm{};
    localtime_r(&tt, &tm);
    ASSERT_EQ(CapUtcOffsetAt(p, TimePoint(seconds(s))), tm.tm_gmtoff / 60) << "at " << s;
  }
  if (old)
    setenv("TZ", saved.c_str(), 1);
  else
    unsetenv("TZ");
  tzset();
  EXPECT_GT(checked, 100000);
}

TEST(CapTime, ReferencesRepeatTheOriginalOffsetAcrossTheSwitch) {
  CapProfile p = Profile();
  p.eu_summer_time = true;
  Alert a = MakeAlert(RuleKind::kWaterLevel, 2);
  CapMessage first = FirstMessage(p, a);
  first.sent = TimePoint(seconds(1792889999 - 1800));  // 02:29:59+02:00 summer time
  CapDoc d1(ToCapXml(p, first, a));
  a.messages.push_back({p.sender, first.identifier, first.sent});
  CapMessage cancel;
  cancel.identifier = MakeCapIdentifier(p, a, 1);
  cancel.sent = TimePoint(seconds(1792889999 + 3600));  // winter time by now
  cancel.msg_type = CapMsgType::kCancel;
  cancel.references = a.messages;
  CapDoc d2(ToCapXml(p, cancel, a));
  EXPECT_EQ(d1.One("/c:alert/c:sent"), "2026-10-25T02:29:59+02:00");
  EXPECT_EQ(d2.One("/c:alert/c:sent"), "2026-10-25T02:59:59+01:00");
  EXPECT_EQ(d2.One("/c:alert/c:references"),
            p.sender + "," + first.identifier + ",2026-10-25T02:29:59+02:00");
}

TEST(CapProfileCheck, NamesEachBadSetting) {
  EXPECT_TRUE(CheckCapProfile(Profile()).empty());
  CapProfile p = Profile();
  p.sender = "leitstelle talstadt";
  p.web = "www.example.de/pegel";  // no scheme
  p.utc_offset_minutes = 15 * 60;
  p.default_validity = Duration::zero();
  const auto problems = CheckCapProfile(p);
  EXPECT_EQ(problems.size(), 4u) << Joined(problems);
}

// ---------------------------------------------------------------- identifiers

TEST(CapIdentifier, OnlySafeCharactersEvenFromHostileInput) {
  CapProfile p = Profile();
  p.sender = "ops team@kreis,example.de<&>";
  Alert a = MakeAlert(RuleKind::kWaterLevel, 2);
  a.id = "fw 7c1e/2a90,ä";
  const std::string id = MakeCapIdentifier(p, a, 3);
  for (char c : id) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
    EXPECT_TRUE(ok) << "character '" << c << "' in " << id;
  }
  EXPECT_EQ(id.substr(id.size() - 2), ".3");
}

TEST(CapIdentifier, StableAcrossRestartsAndUniquePerAlertAndMessage) {
  const Alert a = MakeAlert(RuleKind::kWaterLevel, 2);
  // A restarted process builds the profile afresh: same inputs, same identifier.
  EXPECT_EQ(MakeCapIdentifier(Profile(), a, 0), MakeCapIdentifier(Profile(), a, 0));
  EXPECT_EQ(MakeCapIdentifier(Profile(), a, 0), "hochwasser.talstadt.example.de.fw.7c1e2a90.0");
  std::set<std::string> seen;
  for (const char* alert_id : {"fw.1", "fw.2", "fw.11", "fw.1.1"}) {
    Alert b = a;
    b.id = alert_id;
    for (std::size_t n = 0; n < 12; ++n) seen.insert(MakeCapIdentifier(Profile(), b, n));
  }
  // "fw.1" message 11 and "fw.1.1" message 1 must not collide either.
  EXPECT_EQ(seen.size(), 4u * 12u) << "identifiers collide";
}

// ---------------------------------------------------------------- the alert header

TEST(CapXml, AlertHeaderCarriesIdentitySenderTimeStatusAndScope) {
  const CapProfile p = Profile();
  const Alert a = MakeAlert(RuleKind::kWaterLevel, 3);
  const CapMessage m = FirstMessage(p, a);
  CapDoc d(ToCapXml(p, m, a));
  EXPECT_EQ(d.One("/c:alert/c:identifier"), m.identifier);
  EXPECT_EQ(d.One("/c:alert/c:sender"), "hochwasser@talstadt.example.de");
  EXPECT_EQ(d.One("/c:alert/c:sent"), "2026-11-22T10:15:00+01:00");
  EXPECT_EQ(d.One("/c:alert/c:status"), "Actual");
  EXPECT_EQ(d.One("/c:alert/c:msgType"), "Alert");
  EXPECT_EQ(d.One("/c:alert/c:scope"), "Public");
  EXPECT_EQ(d.One("/c:alert/c:incidents"), "HW-2026-11-TALSTADT");
  EXPECT_EQ(d.Count("/c:alert/c:references"), 0u);
  EXPECT_EQ(d.Count("/c:alert/c:note"), 0u);
  // One German and one English info, nothing else.
  EXPECT_EQ(d.All("/c:alert/c:info/c:language"), (std::vector<std::string>{"de-DE", "en-GB"}));
}

TEST(CapXml, ModeBecomesStatusAndExerciseNamesTheExerciseInNote) {
  const CapProfile p = Profile();
  Alert a = MakeAlert(RuleKind::kWaterLevel, 2, Mode::kExercise);
  CapMessage m = FirstMessage(p, a);
  m.note = "Stabsrahmenübung HW-Talstadt-2026";
  {
    CapDoc d(ToCapXml(p, m, a));
    EXPECT_EQ(d.One("/c:alert/c:status"), "Exercise");
    EXPECT_NE(d.One("/c:alert/c:note").find("Stabsrahmenübung HW-Talstadt-2026"),
              std::string::npos);
    EXPECT_EQ(d.One(std::string(kDe) + "/c:headline").rfind("ÜBUNG: ", 0), 0u);
    EXPECT_EQ(d.One(std::string(kEn) + "/c:headline").rfind("EXERCISE: ", 0), 0u);
  }
  m.note.clear();  // still a note: an exercise message must say so
  EXPECT_NE(CapDoc(ToCapXml(p, m, a)).One("/c:alert/c:note").find("EXERCISE"), std::string::npos);
  a.mode = Mode::kTest;
  {
    CapDoc d(ToCapXml(p, m, a));
    EXPECT_EQ(d.One("/c:alert/c:status"), "Test");
    EXPECT_NE(d.One("/c:alert/c:note").find("disregard"), std::string::npos);
    EXPECT_EQ(d.One(std::string(kEn) + "/c:headline").rfind("TEST: ", 0), 0u);
  }
}

// ---------------------------------------------------------------- references

TEST(CapXml, UpdateAndCancelReferenceEveryEarlierMessageExactly) {
  const CapProfile p = Profile();
  Alert a = MakeAlert(RuleKind::kWaterLevel, 2);
  const CapMessage first = FirstMessage(p, a);
  CapDoc d1(ToCapXml(p, first, a));
  a.messages.push_back({p.sender, first.identifier, first.sent});

  a.level = 3;
  CapMessage upd;
  upd.identifier = MakeCapIdentifier(p, a, 1);
  upd.sent = Minutes(40) + milliseconds(250);
  upd.msg_type = CapMsgType::kUpdate;
  upd.references = a.messages;
  CapDoc d2(ToCapXml(p, upd, a));
  EXPECT_EQ(d2.One("/c:alert/c:msgType"), "Update");
  // Triple read back from the FIRST message's own XML, not recomputed.
  const std::string t1 = d1.One("/c:alert/c:sender") + "," + d1.One("/c:alert/c:identifier") + "," +
                         d1.One("/c:alert/c:sent");
  EXPECT_EQ(d2.One("/c:alert/c:references"), t1);
  EXPECT_NE(d2.One("/c:alert/c:identifier"), d1.One("/c:alert/c:identifier"));
  a.messages.push_back({p.sender, upd.identifier, upd.sent});

  CapMessage cancel;
  cancel.identifier = MakeCapIdentifier(p, a, 2);
  cancel.sent = Minutes(300);
  cancel.msg_type = CapMsgType::kCancel;
  cancel.references = a.messages;
  CapDoc d3(ToCapXml(p, cancel, a));
  const std::string t2 = d2.One("/c:alert/c:sender") + "," + d2.One("/c:alert/c:identifier") + "," +
                         d2.One("/c:alert/c:sent");
  EXPECT_EQ(d3.One("/c:alert/c:references"), t1 + " " + t2);
  EXPECT_EQ(d3.One("/c:alert/c:incidents"), d1.One("/c:alert/c:incidents"));

  // A caller that leaves msg.references empty still gets the alert's chain.
  cancel.references.clear();
  EXPECT_EQ(CapDoc(ToCapXml(p, cancel, a)).One("/c:alert/c:references"), t1 + " " + t2);
}

// ---------------------------------------------------------------- mapping tables

TEST(CapXml, LevelMapsToSeverityAndResponse) {
  const CapProfile p = Profile();
  const char* severity[] = {"Minor", "Moderate", "Severe", "Extreme"};
  const std::vector<std::vector<std::string>> response = {
      {"Monitor"}, {"Prepare"}, {"Prepare", "Avoid"}, {"Avoid", "Prepare"}};
  for (Level l = 1; l <= 4; ++l) {
    const Alert a = MakeAlert(RuleKind::kWaterLevel, l);
    CapDoc d(ToCapXml(p, FirstMessage(p, a), a));
    for (const char* info : {kDe, kEn}) {
      EXPECT_EQ(d.One(std::string(info) + "/c:severity"), severity[l - 1]) << "level " << l;
      EXPECT_EQ(d.All(std::string(info) + "/c:responseType"), response[l - 1]) << "level " << l;
      EXPECT_EQ(d.Param(info, "parameter", "level"), std::to_string(l));
      // An automated rule never orders an evacuation.
      EXPECT_EQ(d.Count(std::string(info) + "/c:responseType[.='Evacuate' or .='Shelter']"), 0u);
    }
  }
}

TEST(CapXml, ObservedForecastOutageAndAllClearDifferInUrgencyAndCertainty) {
  const CapProfile p = Profile();
  struct Case {
    RuleKind kind;
    CapMsgType type;
    const char* category;
    const char* urgency;
    const char* certainty;
    const char* severity;  // at level 3
  };
  const Case cases[] = {
      {RuleKind::kWaterLevel, CapMsgType::kAlert, "Met", "Immediate", "Observed", "Severe"},
      {RuleKind::kRateOfRise, CapMsgType::kAlert, "Met", "Immediate", "Observed", "Severe"},
      {RuleKind::kRainfall, CapMsgType::kAlert, "Met", "Immediate", "Observed", "Severe"},
      {RuleKind::kForecastDepth, CapMsgType::kAlert, "Met", "Expected", "Likely", "Severe"},
      {RuleKind::kManual, CapMsgType::kAlert, "Met", "Immediate", "Likely", "Severe"},
      {RuleKind::kSensorOutage, CapMsgType::kAlert, "Infra", "Unknown", "Unknown", "Unknown"},
      {RuleKind::kForecastOutage, CapMsgType::kAlert, "Infra", "Unknown", "Unknown", "Unknown"},
      {RuleKind::kWaterLevel, CapMsgType::kCancel, "Met", "Past", "Observed", "Minor"},
      {RuleKind::kForecastDepth, CapMsgType::kCancel, "Met", "Past", "Observed", "Minor"},
  };
  for (const Case& c : cases) {
    Alert a = MakeAlert(c.kind, 3);
    CapMessage m = FirstMessage(p, a);
    m.msg_type = c.type;
    if (c.type == CapMsgType::kCancel) m.references = {{p.sender, "x.0", Minutes(-60)}};
    CapDoc d(ToCapXml(p, m, a));
    const std::string what = std::string(ToString(c.kind)) + "/" + ToString(c.type);
    for (const char* info : {kDe, kEn}) {
      EXPECT_EQ(d.All(std::string(info) + "/c:category"), std::vector<std::string>{c.category})
          << what;
      EXPECT_EQ(d.One(std::string(info) + "/c:urgency"), c.urgency) << what;
      EXPECT_EQ(d.One(std::string(info) + "/c:certainty"), c.certainty) << what;
      EXPECT_EQ(d.One(std::string(info) + "/c:severity"), c.severity) << what;
      if (c.type == CapMsgType::kCancel) {
        EXPECT_EQ(d.All(std::string(info) + "/c:responseType"),
                  std::vector<std::string>{"AllClear"})
            << what;
      }
      EXPECT_EQ(d.Param(info, "eventCode", "floodwarn:kind"), ToString(c.kind)) << what;
    }
  }
}

TEST(CapXml, EventNamesPerRuleKindAndRainLevel) {
  const CapProfile p = Profile();
  auto events = [&](RuleKind k, Level l) {
    const Alert a = MakeAlert(k, l);
    CapDoc d(ToCapXml(p, FirstMessage(p, a), a));
    return std::make_pair(d.One(std::string(kDe) + "/c:event"),
                          d.One(std::string(kEn) + "/c:event"));
  };
  EXPECT_EQ(events(RuleKind::kWaterLevel, 2),
            std::make_pair(std::string("Hochwasser"), std::string("Flood")));
  EXPECT_EQ(events(RuleKind::kRainfall, 2).first, "Starkregen");
  EXPECT_EQ(events(RuleKind::kRainfall, 3).first, "Heftiger Starkregen");
  EXPECT_EQ(events(RuleKind::kRainfall, 4).first, "Extrem heftiger Starkregen");
  EXPECT_EQ(events(RuleKind::kRainfall, 4).second, "Extremely heavy rain");
  EXPECT_EQ(events(RuleKind::kSensorOutage, 1).first, "Ausfall Messstelle");
  EXPECT_EQ(events(RuleKind::kForecastOutage, 1),
            std::make_pair(std::string("Ausfall Hochwasservorhersage"),
                           std::string("Flood forecast outage")));
}

// Issue #12: a forecast warning says when the water is expected and how long
// that leaves, in the profile's local time (+01:00 here), first thing in the
// headline; sent 10:15 local, onset 40 min later.
TEST(CapXml, ForecastHeadlineNamesTheOnsetAndTheLeadTime) {
  const CapProfile p = Profile();
  Alert a = MakeAlert(RuleKind::kForecastDepth, 3);
  a.onset = Minutes(40);
  CapDoc d(ToCapXml(p, FirstMessage(p, a), a));
  const std::string de = d.One(std::string(kDe) + "/c:headline");
  const std::string en = d.One(std::string(kEn) + "/c:headline");
  EXPECT_NE(de.find("um 10:55 (in 40 Min.)"), std::string::npos) << de;
  EXPECT_NE(en.find("at 10:55, in 40 min"), std::string::npos) << en;
  EXPECT_NE(en.find("Unterführung Bahnhofstraße"), std::string::npos) << en;
  EXPECT_EQ(d.One(std::string(kEn) + "/c:onset"), "2026-11-22T10:55:00+01:00");
  // Without an onset no time is invented.
  a.onset = TimePoint{};
  CapDoc none(ToCapXml(p, FirstMessage(p, a), a));
  EXPECT_EQ(none.One(std::string(kEn) + "/c:headline").find(" in "), std::string::npos);
}

TEST(CapXml, ExpiresIsSentPlusValidityUnlessTheAlertSaysLater) {
  const CapProfile p = Profile();  // 6 h validity, +01:00
  Alert a = MakeAlert(RuleKind::kWaterLevel, 2);
  const CapMessage m = FirstMessage(p, a);
  EXPECT_EQ(CapDoc(ToCapXml(p, m, a)).One(std::string(kDe) + "/c:expires"),
            "2026-11-22T16:15:00+01:00");
  a.expires = T0() + hours(12);
  EXPECT_EQ(CapDoc(ToCapXml(p, m, a)).One(std::string(kEn) + "/c:expires"),
            "2026-11-22T22:15:00+01:00");
  a.expires = T0() + hours(1);  // earlier than the default: the default wins
  EXPECT_EQ(CapDoc(ToCapXml(p, m, a)).One(std::string(kEn) + "/c:expires"),
            "2026-11-22T16:15:00+01:00");
  // onset = when the condition was first met (10 minutes before sent).
  EXPECT_EQ(CapDoc(ToCapXml(p, m, a)).One(std::string(kDe) + "/c:onset"),
            "2026-11-22T10:05:00+01:00");
  // A forecast without an expected time gives no onset rather than a wrong
  // one; with one, onset is that time (not when the forecast came in).
  Alert f = MakeAlert(RuleKind::kForecastDepth, 2);
  EXPECT_EQ(CapDoc(ToCapXml(p, FirstMessage(p, f), f)).Count(std::string(kDe) + "/c:onset"), 0u);
  f.onset = T0() + minutes(95);
  CapDoc fd(ToCapXml(p, FirstMessage(p, f), f));
  EXPECT_EQ(fd.One(std::string(kDe) + "/c:onset"), "2026-11-22T11:50:00+01:00");
  EXPECT_EQ(fd.One(std::string(kEn) + "/c:onset"), "2026-11-22T11:50:00+01:00");
}

TEST(CapXml, ParametersCarryStationValueAndThreshold) {
  const CapProfile p = Profile();
  const Alert a = MakeAlert(RuleKind::kWaterLevel, 3);
  CapDoc d(ToCapXml(p, FirstMessage(p, a), a));
  EXPECT_EQ(d.Param(kDe, "parameter", "station"), "talstadt");
  EXPECT_EQ(d.Param(kDe, "parameter", "value"), "412");
  EXPECT_EQ(d.Param(kDe, "parameter", "threshold"), "390");
  EXPECT_EQ(d.Param(kDe, "parameter", "unit"), "cm");
  EXPECT_EQ(d.Param(kDe, "parameter", "alert"), "fw.7c1e2a90");
  EXPECT_EQ(d.Param(kEn, "eventCode", "floodwarn:rule"), "talstadt-stage");
  // An outage has no reading to report.
  const Alert o = MakeAlert(RuleKind::kSensorOutage, 1);
  CapDoc od(ToCapXml(p, FirstMessage(p, o), o));
  EXPECT_EQ(od.Param(kDe, "parameter", "value"), "<missing>");
}

// ---------------------------------------------------------------- texts

TEST(CapTexts, WaterLevelTextsNameStationValueAndLevelInBothLanguages) {
  const CapProfile p = Profile();
  const Alert a = MakeAlert(RuleKind::kWaterLevel, 3);
  CapDoc d(ToCapXml(p, FirstMessage(p, a), a));
  EXPECT_EQ(d.One(std::string(kDe) + "/c:headline"), "Hochwasser Meldestufe 3: Pegel Talstadt");
  EXPECT_EQ(d.One(std::string(kEn) + "/c:headline"), "Flood warning level 3: Pegel Talstadt");
  const std::string de = d.One(std::string(kDe) + "/c:description");
  EXPECT_NE(de.find("412 cm"), std::string::npos) << de;
  EXPECT_NE(de.find("Meldestufe 3 (390 cm)"), std::string::npos) << de;
  EXPECT_NE(d.One(std::string(kEn) + "/c:instruction").find("Never drive or walk through flooded"),
            std::string::npos);
  EXPECT_NE(d.One(std::string(kDe) + "/c:instruction").find("Keller"), std::string::npos);
}

// The rules file's per-rule instruction (e.g. close the underpass) leads the
// instruction, followed by the generic advice of the level; the all-clear
// does not repeat it.
TEST(CapTexts, RuleInstructionLeadsTheGenericAdvice) {
  const CapProfile p = Profile();
  Alert a = MakeAlert(RuleKind::kForecastDepth, 3);
  a.instruction_de = "Bahnunterführung sperren.";
  a.instruction_en = "Close the railway underpass.";
  CapDoc d(ToCapXml(p, FirstMessage(p, a), a));
  const std::string de = d.One(std::string(kDe) + "/c:instruction");
  const std::string en = d.One(std::string(kEn) + "/c:instruction");
  EXPECT_EQ(de.rfind("Bahnunterführung sperren. ", 0), 0u) << de;
  EXPECT_EQ(en.rfind("Close the railway underpass. ", 0), 0u) << en;
  EXPECT_NE(en.find("Never drive or walk through flooded"), std::string::npos) << en;
}

TEST(CapTexts, GermanNumbersUseADecimalComma) {
  const CapProfile p = Profile();
  const Alert a = MakeAlert(RuleKind::kForecastDepth, 2);  // 0.45 m
  CapDoc d(ToCapXml(p, FirstMessage(p, a), a));
  EXPECT_NE(d.One(std::string(kDe) + "/c:description").find("0,45 m"), std::string::npos);
  EXPECT_NE(d.One(std::string(kEn) + "/c:description").find("0.45 m"), std::string::npos);
  EXPECT_NE(d.One(std::string(kEn) + "/c:description").find("forecast, not a measurement"),
            std::string::npos);
  EXPECT_EQ(d.Param(kDe, "parameter", "value"), "0.45");  // machines get a dot
}

TEST(CapTexts, SensorOutageSaysUnknownIsNotAllClear) {
  const CapProfile p = Profile();
  const Alert a = MakeAlert(RuleKind::kSensorOutage, 1);
  CapDoc d(ToCapXml(p, FirstMessage(p, a), a));
  EXPECT_NE(d.One(std::string(kEn) + "/c:description")
                .find("not reporting: its readings are unknown, not 'all clear'"),
            std::string::npos);
  EXPECT_NE(d.One(std::string(kDe) + "/c:description").find("keine Entwarnung"), std::string::npos);
}

TEST(CapTexts, AllClearIsGeneratedAndUpdateIsMarked) {
  const CapProfile p = Profile();
  Alert a = MakeAlert(RuleKind::kManual, 4);
  a.headline_de = "Deichbruch droht – Unterstadt sofort räumen";
  CapMessage m = FirstMessage(p, a);
  m.msg_type = CapMsgType::kCancel;
  m.references = {{p.sender, "x.0", Minutes(-60)}};
  CapDoc d(ToCapXml(p, m, a));
  // The operator's alarm text must not be repeated in the all-clear.
  EXPECT_EQ(d.One(std::string(kDe) + "/c:headline"), "Entwarnung: Talstadt, Unterstadt");
  EXPECT_EQ(d.One(std::string(kEn) + "/c:headline"), "All clear: Talstadt, Unterstadt");
  m.msg_type = CapMsgType::kUpdate;
  const Alert w = MakeAlert(RuleKind::kWaterLevel, 4);
  EXPECT_EQ(CapDoc(ToCapXml(p, m, w)).One(std::string(kEn) + "/c:headline"),
            "Update: Flood warning level 4: Pegel Talstadt");
}

TEST(CapTexts, ManualAlertKeepsOperatorTextExactlyAndFallsBackPerField) {
  const CapProfile p = Profile();
  Alert a = MakeAlert(RuleKind::kManual, 3);
  a.headline_de = "Deich \"Nord\" <gefährdet> & Straße 'Am Fluss' gesperrt";
  a.description_de = "Zeile 1\nZeile 2: Öl & Schlamm > 30 cm";
  a.instruction_de = "Meiden Sie die Uferstraße.";
  a.headline_en = "Dike \"North\" <at risk> & road 'Am Fluss' closed";
  // description_en / instruction_en left empty: generated English, not German.
  const std::string xml = ToCapXml(p, FirstMessage(p, a), a);
  CapDoc d(xml);
  EXPECT_EQ(d.One(std::string(kDe) + "/c:headline"), a.headline_de);
  EXPECT_EQ(d.One(std::string(kDe) + "/c:description"), a.description_de);
  EXPECT_EQ(d.One(std::string(kDe) + "/c:instruction"), a.instruction_de);
  EXPECT_EQ(d.One(std::string(kEn) + "/c:headline"), a.headline_en);
  EXPECT_EQ(d.One(std::string(kEn) + "/c:description"),
            "The control centre warns of level 3 flooding for Talstadt, Unterstadt.");
  EXPECT_NE(d.One(std::string(kEn) + "/c:instruction").find("Do not enter cellars"),
            std::string::npos);
  // Escaped in the raw text, not just parseable.
  EXPECT_NE(xml.find("&lt;gefährdet&gt; &amp; Straße"), std::string::npos);
  EXPECT_TRUE(CheckCapRules(xml).empty()) << Joined(CheckCapRules(xml));
}

TEST(CapTexts, ControlCharactersAndBrokenUtf8NeverBreakTheMessage) {
  const CapProfile p = Profile();
  Alert a = MakeAlert(RuleKind::kManual, 2);
  a.headline_de = std::string("Warnung\x01\x07 Pegel\x1b[31m") + "\xC3" + " Ende";
  a.description_de = "Tab\tund\nZeilen\x7f bleiben";
  const std::string xml = ToCapXml(p, FirstMessage(p, a), a);
  CapDoc d(xml);  // throws if not well-formed
  EXPECT_EQ(d.One(std::string(kDe) + "/c:headline"), "Warnung Pegel[31m\xEF\xBF\xBD Ende");
  EXPECT_EQ(d.One(std::string(kDe) + "/c:description"), "Tab\tund\nZeilen bleiben");
  // A headline is one line (SMS-like channels, sirens' displays).
  a.headline_de = "  Erste Zeile\r\n\tzweite   Zeile\n";
  EXPECT_EQ(CapDoc(ToCapXml(p, FirstMessage(p, a), a)).One(std::string(kDe) + "/c:headline"),
            "Erste Zeile zweite Zeile");
}

TEST(CapTexts, HeadlinesAreCutTo160CharactersNotBytes) {
  const CapProfile p = Profile();
  Alert a = MakeAlert(RuleKind::kWaterLevel, 2);
  a.subject_name.clear();
  for (int i = 0; i < 200; ++i) a.subject_name += "ä";
  const std::string xml = ToCapXml(p, FirstMessage(p, a), a);
  CapDoc d(xml);
  for (const char* info : {kDe, kEn}) {
    const std::string h = d.One(std::string(info) + "/c:headline");
    EXPECT_EQ(CodePoints(h), 160u) << h;
    EXPECT_EQ(h.substr(h.size() - 3), "\xE2\x80\xA6");  // ends with an ellipsis
  }
  EXPECT_TRUE(CheckCapRules(xml).empty()) << Joined(CheckCapRules(xml));
}

// ---------------------------------------------------------------- area

TEST(CapArea, PolygonCircleAndArsAreWrittenAsCapWantsThem) {
  const CapProfile p = Profile();
  const Alert a = MakeAlert(RuleKind::kWaterLevel, 2);
  CapDoc d(ToCapXml(p, FirstMessage(p, a), a));
  const std::string area = std::string(kDe) + "/c:area";
  EXPECT_EQ(d.One(area + "/c:areaDesc"), "Talstadt, Unterstadt");
  EXPECT_EQ(d.One(area + "/c:polygon"), "49.9,6.42 49.9,6.52 49.83,6.52 49.83,6.42 49.9,6.42");
  EXPECT_EQ(d.One(area + "/c:circle"), "49.867,6.47 2.5");
  EXPECT_EQ(d.Param(area, "geocode", "ARS"), "072320000000");
  EXPECT_EQ(d.Param(area, "geocode", "AGS"), "<missing>");
  EXPECT_EQ(d.Param(area, "geocode", "floodwarn:area"), "unterstadt");
}

TEST(CapArea, EightDigitKeyIsAnAgsAndGeocodeOnlyIsFlagged) {
  const CapProfile p = Profile();
  Alert a = MakeAlert(RuleKind::kWaterLevel, 2);
  a.area.polygon.clear();
  a.area.circle.reset();
  a.area.ars = "07232108";
  const std::string xml = ToCapXml(p, FirstMessage(p, a), a);
  CapDoc d(xml);
  EXPECT_EQ(d.Param(std::string(kDe) + "/c:area", "geocode", "AGS"), "07232108");
  EXPECT_EQ(d.Count(std::string(kDe) + "/c:area/c:polygon"), 0u);
  const auto problems = CheckCapRules(xml);
  ASSERT_EQ(problems.size(), 2u) << Joined(problems);  // one per info
  EXPECT_NE(problems[0].find("no polygon or circle"), std::string::npos);
  EXPECT_EQ(CheckCapArea(a.area).size(), 1u);
}

TEST(CapArea, OpenPolygonIsClosedAndInvalidGeometryIsLeftOut) {
  const CapProfile p = Profile();
  Alert a = MakeAlert(RuleKind::kWaterLevel, 2);
  a.area.polygon = {{49.9, 6.42}, {49.9, 6.52}, {49.83, 6.52}, {49.83, 6.42}};  // open
  CapDoc d(ToCapXml(p, FirstMessage(p, a), a));
  EXPECT_EQ(d.One(std::string(kDe) + "/c:area/c:polygon"),
            "49.9,6.42 49.9,6.52 49.83,6.52 49.83,6.42 49.9,6.42");
  auto problems = CheckCapArea(a.area);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("not closed"), std::string::npos);

  a.area.polygon = {{49.9, 6.42}, {49.9, 6.52}};  // cannot become a polygon
  a.area.circle = std::make_pair(GeoPoint{49.867, 6.47}, 0.0);
  a.area.ars = "0723210";  // 7 digits: neither AGS nor ARS
  const std::string xml = ToCapXml(p, FirstMessage(p, a), a);
  CapDoc d2(xml);
  EXPECT_EQ(d2.Count("//c:polygon"), 0u);
  EXPECT_EQ(d2.Count("//c:circle"), 0u);
  EXPECT_EQ(d2.Count("//c:geocode[c:valueName='ARS' or c:valueName='AGS']"), 0u);
  problems = CheckCapArea(a.area);
  EXPECT_EQ(problems.size(), 3u) << Joined(problems);  // polygon, circle, key
  for (const auto& s : problems) EXPECT_NE(s.find("area 'unterstadt'"), std::string::npos) << s;
}

// ---------------------------------------------------------------- CheckCapRules

TEST(CapRules, AllOurMessageKindsPass) {
  const CapProfile p = Profile();
  for (RuleKind k :
       {RuleKind::kWaterLevel, RuleKind::kRateOfRise, RuleKind::kRainfall, RuleKind::kForecastDepth,
        RuleKind::kSensorOutage, RuleKind::kManual, RuleKind::kForecastOutage}) {
    for (Mode mode : {Mode::kActual, Mode::kExercise, Mode::kTest}) {
      for (CapMsgType t : {CapMsgType::kAlert, CapMsgType::kUpdate, CapMsgType::kCancel}) {
        Alert a = MakeAlert(k, 3, mode);
        CapMessage m = FirstMessage(p, a);
        m.msg_type = t;
        if (t != CapMsgType::kAlert) m.references = {{p.sender, "x.0", Minutes(-60)}};
        const auto problems = CheckCapRules(ToCapXml(p, m, a));
        EXPECT_TRUE(problems.empty())
            << ToString(k) << " " << ToString(mode) << " " << ToString(t) << ":\n"
            << Joined(problems);
      }
    }
  }
}

// The same defects in our own output (runs without ../shared).
TEST(CapRules, CatchesDefectsInOurOwnOutput) {
  const CapProfile p = Profile();
  Alert a = MakeAlert(RuleKind::kWaterLevel, 3);
  a.area.circle.reset();
  a.messages = {{p.sender, MakeCapIdentifier(p, a, 0), Minutes(-30)}};
  CapMessage m = FirstMessage(p, a);
  m.identifier = MakeCapIdentifier(p, a, 1);
  m.msg_type = CapMsgType::kUpdate;
  m.references = a.messages;
  const std::string xml = ToCapXml(p, m, a);
  ASSERT_TRUE(CheckCapRules(xml).empty()) << Joined(CheckCapRules(xml));
  const std::string poly = "49.9,6.42 49.9,6.52 49.83,6.52 49.83,6.42 49.9,6.42";
  const std::string ref =
      "hochwasser@talstadt.example.de,hochwasser.talstadt.example.de."
      "fw.7c1e2a90.0,2026-11-22T09:45:00+01:00";
  struct Variant {
    std::string from, to, needle;
    std::size_t count;  // one per info for area/headline defects
  };
  const Variant variants[] = {
      {poly, "49.9,6.42 49.9,6.52 49.83,6.52 49.83,6.42", "not closed", 2},
      {poly, "49.9,6.42 49.9,6.52 49.9,6.42", "3 points", 2},
      {"<identifier>hochwasser.talstadt", "<identifier>hochwasser talstadt", "identifier", 1},
      {ref, "hochwasser.talstadt.example.de.fw.7c1e2a90.0,2026-11-22T09:45:00+01:00",
       "not a sender,identifier,sent triple", 1},
      {"<sent>2026-11-22T10:15:00+01:00</sent>", "<sent>2026-11-22T09:15:00Z</sent>", "'Z'", 1},
      {"<references>" + ref + "</references>", "", "without <references>", 1},
  };
  for (const Variant& v : variants) {
    std::string broken = xml;
    std::size_t n = 0;
    for (auto pos = broken.find(v.from); pos != std::string::npos;
         pos = broken.find(v.from, pos + v.to.size()), ++n)
      broken.replace(pos, v.from.size(), v.to);
    ASSERT_EQ(n, v.count) << "fixture does not contain '" << v.from << "' as expected";
    const auto problems = CheckCapRules(broken);
    ASSERT_EQ(problems.size(), v.count) << v.needle << ":\n" << Joined(problems);
    for (const auto& s : problems) EXPECT_NE(s.find(v.needle), std::string::npos) << s;
  }
}

class CapRulesOnShared : public ::testing::Test {
 protected:
  std::string alert_, cancel_, oasis_;
  void Load(const std::string& a, const std::string& c, const std::string& o) {
    alert_ = ReadFile(a);
    cancel_ = ReadFile(c);
    oasis_ = ReadFile(o);
  }
  // Exactly one problem, and it contains `needle`.
  static void ExpectOne(const std::string& xml, const std::string& needle) {
    const auto problems = CheckCapRules(xml);
    ASSERT_EQ(problems.size(), 1u) << "expected one problem about '" << needle << "', got:\n"
                                   << Joined(problems);
    EXPECT_NE(problems[0].find(needle), std::string::npos) << problems[0];
  }
};

TEST_F(CapRulesOnShared, SamplesPassAndEachDefectIsCaught) {
  FLOODWARN_REQUIRE_SHARED(a, "reference/synthetic_de_flood_gauge_alert_EXERCISE.xml");
  FLOODWARN_REQUIRE_SHARED(c, "reference/synthetic_de_flood_gauge_cancel_EXERCISE.xml");
  FLOODWARN_REQUIRE_SHARED(o, "reference/cap12_oasis_appendixA2_severe_thunderstorm.xml");
  Load(a, c, o);
  EXPECT_TRUE(CheckCapRules(alert_).empty()) << Joined(CheckCapRules(alert_));
  EXPECT_TRUE(CheckCapRules(cancel_).empty()) << Joined(CheckCapRules(cancel_));
  EXPECT_TRUE(CheckCapRules(oasis_).empty()) << Joined(CheckCapRules(oasis_));

  const std::string poly = "49.900,6.420 49.900,6.520 49.830,6.520 49.830,6.420 49.900,6.420";
  ExpectOne(ReplaceOnce(alert_, poly, "49.900,6.420 49.900,6.520 49.830,6.520 49.830,6.420"),
            "not closed");
  ExpectOne(ReplaceOnce(alert_, poly, "49.900,6.420 49.900,6.520 49.900,6.420"), "3 points");
  ExpectOne(ReplaceOnce(alert_, poly, "95.000,6.420 49.900,6.520 49.830,6.520 95.000,6.420"),
            "out of range");
  ExpectOne(
      ReplaceOnce(alert_, "<circle>49.867,6.470 2.5</circle>", "<circle>49.867,6.470 0</circle>"),
      "radius");
  ExpectOne(ReplaceOnce(alert_, "<identifier>de.example.fews.2025-07-15T0630",
                        "<identifier>de.example.fews 2025-07-15T0630"),
            "identifier");
  ExpectOne(
      ReplaceOnce(alert_, "<sender>warnung@kreis.example.de", "<sender>warnung@kreis,example.de"),
      "sender");
  ExpectOne(ReplaceOnce(alert_, "<sent>2025-07-15T06:30:00+02:00</sent>",
                        "<sent>2025-07-15T04:30:00Z</sent>"),
            "'Z'");
  ExpectOne(ReplaceOnce(alert_, "<onset>2025-07-15T06:15:00+02:00</onset>",
                        "<onset>2025-07-15T06:15:00.250+02:00</onset>"),
            "not a CAP time");
  ExpectOne(ReplaceOnce(alert_, "<expires>2025-07-15T12:30:00+02:00</expires>",
                        "<expires>2025-07-15T06:00:00+02:00</expires>"),
            "not after sent");
  ExpectOne(ReplaceOnce(alert_, "<value>072320000000</value>", "<value>07232000000</value>"),
            "not 12 digits");
  ExpectOne(ReplaceOnce(alert_, "<note>UEBUNG / EXERCISE - synthetic sample</note>", ""),
            "Exercise without");
  ExpectOne(ReplaceOnce(alert_, "<msgType>Alert</msgType>", "<msgType>Update</msgType>"),
            "without <references>");
  ExpectOne(
      ReplaceOnce(alert_,
                  "<polygon>" + poly + "</polygon>\n      <circle>49.867,6.470 2.5</circle>", ""),
      "no polygon or circle");
  ExpectOne(ReplaceOnce(alert_, "Hochwasser an der Pruem: Pegel Holsthum ueber Meldestufe 3",
                        std::string(161, 'H')),
            "161 characters");

  const std::string ref =
      "warnung@kreis.example.de,de.example.fews.2025-07-15T0630.PRUEM-HOLSTHUM.W.0001,"
      "2025-07-15T06:30:00+02:00";
  ExpectOne(ReplaceOnce(cancel_, ref, "de.example.fews.2025-07-15T0630.PRUEM-HOLSTHUM.W.0001"),
            "not a sender,identifier,sent triple");
  ExpectOne(ReplaceOnce(cancel_, ref,
                        "warnung@kreis.example.de,de.example.fews.2025-07-15T0630.PRUEM-HOLSTHUM.W."
                        "0001,2025-07-15T04:30:00Z"),
            "'Z'");
  ExpectOne(ReplaceOnce(cancel_, "<references>" + ref + "</references>", ""),
            "without <references>");
  // Two triples, both fine: still passes.
  EXPECT_TRUE(CheckCapRules(ReplaceOnce(cancel_, ref, ref + " " + ref)).empty());

  EXPECT_EQ(CheckCapRules("<alert>").size(), 1u);
  EXPECT_NE(CheckCapRules("<alert>")[0].find("not well-formed"), std::string::npos);
  EXPECT_NE(
      CheckCapRules("<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.1\"/>")[0].find("namespace"),
      std::string::npos);
}

}  // namespace
}  // namespace floodwarn::alerting
