// Every kind of CAP message we send, validated by the real `xmllint --schema`
// against ../shared/reference/CAP-v1.2.xsd, and by the in-process validator
// (CapSchemaValidator) which must agree with xmllint, including on failures.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "floodwarn/alerting/cap.hpp"
#include "test_cap_support.hpp"
#include "test_support.hpp"

namespace floodwarn::alerting {
namespace {

using namespace captest;

struct RunResult {
  int status = -1;
  std::string output;
};

RunResult RunCommand(const std::string& cmd) {
  RunResult r;
  FILE* f = popen((cmd + " 2>&1").c_str(), "r");
  if (f == nullptr) return r;
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) r.output.append(buf, n);
  const int st = pclose(f);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

bool HaveXmllint() { return std::system("command -v xmllint >/dev/null 2>&1") == 0; }

std::string Joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += x + "\n";
  return s;
}

std::string ReplaceAll(std::string s, const std::string& from, const std::string& to) {
  std::size_t n = 0;
  for (auto p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) {
    s.replace(p, from.size(), to);
    ++n;
  }
  if (n == 0) throw std::runtime_error("'" + from + "' not found");
  return s;
}

struct Named {
  std::string name;
  std::string xml;
};

std::vector<Named> EveryMessageKind() {
  const CapProfile p = Profile();
  std::vector<Named> out;
  for (RuleKind k :
       {RuleKind::kWaterLevel, RuleKind::kRateOfRise, RuleKind::kRainfall, RuleKind::kForecastDepth,
        RuleKind::kSensorOutage, RuleKind::kManual, RuleKind::kForecastOutage}) {
    for (Mode mode : {Mode::kActual, Mode::kExercise, Mode::kTest}) {
      Alert a = MakeAlert(k, k == RuleKind::kRainfall ? 4 : 3, mode);
      // Alert -> Update -> Cancel, each referencing all earlier ones.
      for (CapMsgType t : {CapMsgType::kAlert, CapMsgType::kUpdate, CapMsgType::kCancel}) {
        CapMessage m;
        m.identifier = MakeCapIdentifier(p, a, a.messages.size());
        m.sent = Minutes(30 * static_cast<int>(a.messages.size()));
        m.msg_type = t;
        m.references = a.messages;
        if (mode == Mode::kExercise) m.note = "Übung HW-Talstadt-2026";
        out.push_back({std::string(ToString(k)) + "_" + ToString(mode) + "_" + ToString(t),
                       ToCapXml(p, m, a)});
        a.messages.push_back({p.sender, m.identifier, m.sent});
      }
    }
  }
  // Operator text with markup characters, quotes, umlauts and control bytes.
  Alert manual = MakeAlert(RuleKind::kManual, 4);
  manual.headline_de = "Deich \"Nord\" <gefährdet> & 'Straße' gesperrt\x01";
  manual.description_de = "Öl & Schlamm > 30 cm\nÄußerste Vorsicht";
  manual.instruction_en = "Avoid the <riverside> road & the 'old' bridge";
  out.push_back({"manual_operator_text", ToCapXml(p, FirstMessage(p, manual), manual)});
  // AGS only, no geometry (CheckCapRules flags it; the schema allows it).
  Alert ags = MakeAlert(RuleKind::kWaterLevel, 2);
  ags.area.polygon.clear();
  ags.area.circle.reset();
  ags.area.ars = "07232108";
  out.push_back({"ags_only", ToCapXml(p, FirstMessage(p, ags), ags)});
  // Nothing but a name.
  Alert bare = MakeAlert(RuleKind::kRainfall, 2);
  bare.area = Area{};
  out.push_back({"no_area_at_all", ToCapXml(p, FirstMessage(p, bare), bare)});
  // Offset 0 and negative offsets.
  CapProfile utc = p;
  utc.utc_offset_minutes = 0;
  Alert w = MakeAlert(RuleKind::kWaterLevel, 1);
  out.push_back({"utc_offset", ToCapXml(utc, FirstMessage(utc, w), w)});
  utc.utc_offset_minutes = -300;
  out.push_back({"negative_offset", ToCapXml(utc, FirstMessage(utc, w), w)});
  return out;
}

class CapXmllint : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(HaveXmllint()) << "xmllint not found on PATH: install libxml2-utils "
                                  "(scripts/setup does); the CAP schema tests need it";
  }
  static RunResult Xmllint(const std::string& xsd, const std::string& file) {
    return RunCommand("xmllint --noout --nonet --schema '" + xsd + "' '" + file + "'");
  }
};

TEST_F(CapXmllint, EveryMessageKindValidatesAgainstTheCapSchema) {
  FLOODWARN_REQUIRE_SHARED(xsd, "reference/CAP-v1.2.xsd");
  const std::string dir = floodwarn::testing::MakeTempDir("floodwarn_cap");
  const CapSchemaValidator validator(xsd);
  ASSERT_TRUE(validator.error().empty()) << validator.error();
  const auto messages = EveryMessageKind();
  ASSERT_EQ(messages.size(), 7u * 3u * 3u + 5u);  // 7 rule kinds, 3 modes, 3 types
  for (const Named& m : messages) {
    const std::string file = dir + "/" + m.name + ".xml";
    WriteFile(file, m.xml);
    const RunResult r = Xmllint(xsd, file);
    EXPECT_EQ(r.status, 0) << m.name << ": xmllint says\n" << r.output << "\n" << m.xml;
    EXPECT_NE(r.output.find("validates"), std::string::npos) << m.name << ": " << r.output;
    const auto in_process = validator.Validate(m.xml);
    EXPECT_TRUE(in_process.empty()) << m.name << ":\n" << Joined(in_process);
    // What the schema cannot check: only the geometry-less ones may complain,
    // and only about the missing geometry.
    const auto rules = CheckCapRules(m.xml);
    if (m.name == "ags_only" || m.name == "no_area_at_all") {
      ASSERT_EQ(rules.size(), 2u) << m.name << ":\n" << Joined(rules);
      for (const auto& s : rules) EXPECT_NE(s.find("no polygon or circle"), std::string::npos);
    } else {
      EXPECT_TRUE(rules.empty()) << m.name << ":\n" << Joined(rules);
    }
  }
}

// Whatever an operator or a config puts into the text fields (markup, quotes,
// control bytes, broken UTF-8, very long text), the message stays
// schema-valid and passes CheckCapRules.
TEST_F(CapXmllint, ArbitraryBytesInEveryTextFieldStillValidate) {
  FLOODWARN_REQUIRE_SHARED(xsd, "reference/CAP-v1.2.xsd");
  const CapSchemaValidator validator(xsd);
  ASSERT_TRUE(validator.error().empty()) << validator.error();
  std::mt19937 rng(20261122);  // fixed seed: reproducible
  auto junk = [&rng](std::size_t max_len) {
    static const char kNasty[] = "<>&\"' ,\t\n\r\x01\x1b\x7f";
    std::string s(std::uniform_int_distribution<std::size_t>(0, max_len)(rng), ' ');
    for (char& c : s) {
      const unsigned r = std::uniform_int_distribution<unsigned>(0, 9)(rng);
      if (r < 3)
        c = kNasty[std::uniform_int_distribution<std::size_t>(0, sizeof kNasty - 2)(rng)];
      else if (r < 6)
        c = static_cast<char>(std::uniform_int_distribution<int>(0, 255)(rng));
      else
        c = static_cast<char>(std::uniform_int_distribution<int>('a', 'z')(rng));
    }
    return s;
  };
  const CapProfile p = Profile();
  for (int i = 0; i < 300; ++i) {
    const RuleKind kinds[] = {RuleKind::kWaterLevel,    RuleKind::kRateOfRise,
                              RuleKind::kRainfall,      RuleKind::kForecastDepth,
                              RuleKind::kSensorOutage,  RuleKind::kManual,
                              RuleKind::kForecastOutage};
    Alert a = MakeAlert(kinds[i % 7], 1 + i % 4, static_cast<Mode>(i % 3));
    a.id = junk(40);
    a.rule_id = junk(40);
    a.subject = junk(40);
    a.subject_name = junk(300);
    a.station_id = junk(20);
    a.unit = junk(8);
    a.reason = junk(200);
    a.incident = junk(30);
    a.area.id = junk(20);
    a.area.name = junk(100);
    a.area.ars = junk(12);
    a.headline_de = junk(400);
    a.headline_en = junk(400);
    a.description_de = junk(1000);
    a.description_en = junk(1000);
    a.instruction_de = junk(300);
    a.instruction_en = junk(300);
    CapMessage m;
    m.identifier = MakeCapIdentifier(p, a, 0);
    m.sent = Minutes(i);
    m.msg_type = static_cast<CapMsgType>(i % 3);
    m.note = junk(100);
    if (m.msg_type != CapMsgType::kAlert) m.references = {{p.sender, m.identifier + "x", T0()}};
    const std::string xml = ToCapXml(p, m, a);
    const auto schema = validator.Validate(xml);
    ASSERT_TRUE(schema.empty()) << "iteration " << i << ":\n" << Joined(schema) << xml;
    const auto rules = CheckCapRules(xml);
    ASSERT_TRUE(rules.empty()) << "iteration " << i << ":\n" << Joined(rules) << xml;
  }
}

TEST_F(CapXmllint, BrokenMessagesFailInXmllintAndInProcessAlike) {
  FLOODWARN_REQUIRE_SHARED(xsd, "reference/CAP-v1.2.xsd");
  const std::string dir = floodwarn::testing::MakeTempDir("floodwarn_cap_bad");
  const CapSchemaValidator validator(xsd);
  const CapProfile p = Profile();
  const Alert a = MakeAlert(RuleKind::kWaterLevel, 3);
  const std::string good = ToCapXml(p, FirstMessage(p, a), a);
  const std::vector<Named> bad = {
      {"z_time", ReplaceOnce(good, "<sent>2026-11-22T10:15:00+01:00</sent>",
                             "<sent>2026-11-22T09:15:00Z</sent>")},
      // Strict xs:sequence: severity before urgency is invalid.
      {"order", ReplaceAll(ReplaceAll(good, "<urgency>Immediate</urgency>\n", ""),
                           "<certainty>Observed</certainty>\n",
                           "<certainty>Observed</certainty>\n    <urgency>Immediate</urgency>\n")},
      {"bad_enum", ReplaceOnce(good, "<msgType>Alert</msgType>", "<msgType>Warning</msgType>")},
  };
  for (const Named& m : bad) {
    const std::string file = dir + "/" + m.name + ".xml";
    WriteFile(file, m.xml);
    const RunResult r = Xmllint(xsd, file);
    EXPECT_NE(r.status, 0) << m.name << " passed xmllint:\n" << r.output;
    EXPECT_NE(r.output.find("fails to validate"), std::string::npos) << r.output;
    EXPECT_FALSE(validator.Validate(m.xml).empty()) << m.name << " passed in-process";
  }
  // The problem names the line of <sent> (line 5 of our layout).
  const auto z = validator.Validate(bad[0].xml);
  ASSERT_FALSE(z.empty());
  EXPECT_NE(z[0].find("line 5"), std::string::npos) << z[0];
}

TEST_F(CapXmllint, InProcessValidatorAcceptsTheSharedSamplesAndReportsAMissingSchema) {
  FLOODWARN_REQUIRE_SHARED(xsd, "reference/CAP-v1.2.xsd");
  FLOODWARN_REQUIRE_SHARED(alert, "reference/synthetic_de_flood_gauge_alert_EXERCISE.xml");
  FLOODWARN_REQUIRE_SHARED(cancel, "reference/synthetic_de_flood_gauge_cancel_EXERCISE.xml");
  FLOODWARN_REQUIRE_SHARED(oasis, "reference/cap12_oasis_appendixA2_severe_thunderstorm.xml");
  for (const std::string& f : {alert, cancel, oasis}) {
    EXPECT_TRUE(ValidateCapSchema(ReadFile(f), xsd).empty()) << f;
    EXPECT_EQ(Xmllint(xsd, f).status, 0) << f;
  }
  const CapSchemaValidator missing("/nonexistent/cap.xsd");
  EXPECT_FALSE(missing.error().empty());
  const auto r = missing.Validate(ReadFile(alert));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_NE(r[0].find("/nonexistent/cap.xsd"), std::string::npos) << r[0];
}

}  // namespace
}  // namespace floodwarn::alerting
