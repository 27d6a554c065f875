// The TOML reader every config uses: errors name file, line and key, typed
// errors carry them as fields, durations in the one grammar.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <string>

#include "floodwarn/common/toml_reader.hpp"
#include "test_support.hpp"

namespace {

namespace common = floodwarn::common;
using common::ConfigError;
using common::TomlContext;
using std::chrono::milliseconds;
using std::chrono::seconds;

// A config kind's own error type, as the libraries declare theirs.
class KindError : public ConfigError {
 public:
  using ConfigError::ConfigError;
};
// One that only takes a message (std::runtime_error style).
class PlainError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

template <typename E>
E Caught(const std::function<void()>& f) {
  try {
    f();
  } catch (const E& e) {
    return e;
  }
  ADD_FAILURE() << "nothing thrown";
  return E("");
}

TEST(TomlReader, ErrorsCarryFileLineAndKey) {
  const auto f = common::ParseTomlText("a = 1\n\n[t]\nx = \"s\"\n", "dir/c.toml");
  EXPECT_EQ(f.path, "dir/c.toml");
  EXPECT_EQ(f.base_dir, "dir");
  const TomlContext<KindError> ctx(f);
  const toml::table& t = *common::GetTable(ctx, f.root, "", "t");
  const KindError e = Caught<KindError>([&] { common::GetNumber(ctx, t, "t", "x"); });
  EXPECT_STREQ(e.what(), "dir/c.toml:4: t.x: expected a number, got a string");
  EXPECT_EQ(e.file(), "dir/c.toml");
  EXPECT_EQ(e.line(), 4);
  EXPECT_EQ(e.key(), "t.x");
  EXPECT_EQ(e.detail(), "expected a number, got a string");
  // A missing key is reported at its table; without a node there is no line.
  const KindError m = Caught<KindError>([&] { common::RequireString(ctx, t, "t", "name"); });
  EXPECT_STREQ(m.what(), "dir/c.toml:3: t.name: required key is missing (a non-empty string)");
  const KindError n = Caught<KindError>([&] { ctx.Fail("tls", nullptr, "required"); });
  EXPECT_STREQ(n.what(), "dir/c.toml: tls: required");
  EXPECT_EQ(n.line(), 0);
}

TEST(TomlReader, ContextAndPlainErrorTypes) {
  const auto f = common::ParseTomlText("[[station]]\nid = \"k1\"\nkindd = 1\n", "st.toml");
  TomlContext<PlainError> ctx(f);
  ctx.SetContext("station 'k1'");
  const toml::table& s = *common::GetTableArray(ctx, f.root, "", "station")->get(0)->as_table();
  const PlainError e = Caught<PlainError>([&] { common::CheckKeys(ctx, s, "station[0]", {"id"}); });
  EXPECT_STREQ(e.what(),
               "st.toml:3: station 'k1': station[0].kindd: unknown key (expected one of: id)");
}

TEST(TomlReader, SyntaxErrorsAndUnreadableFiles) {
  const KindError e =
      Caught<KindError>([] { common::ParseTomlText<KindError>("a = 1\nb = [\n", "x.toml"); });
  EXPECT_EQ(std::string(e.what()).rfind("x.toml:", 0), 0u) << e.what();
  EXPECT_NE(std::string(e.what()).find("TOML syntax error"), std::string::npos) << e.what();
  EXPECT_GT(e.line(), 0);
  const std::string dir = floodwarn::testing::MakeTempDir("toml_reader");
  const ConfigError r =
      Caught<ConfigError>([&] { common::ReadTomlFile(dir + "/nope.toml", "rules file"); });
  EXPECT_NE(std::string(r.what()).find(dir + "/nope.toml: cannot open the rules file: No such"),
            std::string::npos)
      << r.what();
  std::ofstream(dir + "/ok.toml") << "k = 1\n";
  const auto ok = common::ReadTomlFile(dir + "/ok.toml");
  EXPECT_EQ(ok.root["k"].value<int>(), 1);
  EXPECT_EQ(ok.base_dir, dir);
}

TEST(TomlReader, ResolvesPathsAgainstTheConfigFolder) {
  const TomlContext<> ctx("/etc/fw/serve.toml");
  EXPECT_EQ(ctx.Resolve("rules.toml"), "/etc/fw/rules.toml");
  EXPECT_EQ(ctx.Resolve("../data/./x.db"), "/etc/data/x.db");
  EXPECT_EQ(ctx.Resolve("/var/x.db"), "/var/x.db");
  EXPECT_EQ(ctx.Resolve(""), "");
  const TomlContext<> other("serve.toml", "/srv");
  EXPECT_EQ(other.Resolve("a/b"), "/srv/a/b");
}

TEST(TomlReader, TypedFields) {
  const auto f = common::ParseTomlText(
      "i = 7\nbig = 70000\nf = 0.5\ninf = inf\nb = true\ns = \"x\"\nlist = [\"a\", \"\"]\n"
      "mixed = [\"a\", 1]\nempty = []\n[[tabs]]\nk = 1\n",
      "f.toml");
  const TomlContext<> ctx(f);
  const toml::table& r = f.root;
  EXPECT_EQ(common::GetInteger(ctx, r, "", "i", 0, 10), 7);
  EXPECT_FALSE(common::GetInteger(ctx, r, "", "absent", 0, 10));
  const ConfigError range =
      Caught<ConfigError>([&] { common::GetInteger(ctx, r, "", "big", 1, 65535); });
  EXPECT_STREQ(range.what(),
               "f.toml:2: big: expected an integer 1..65535, got 70000 (out of range)");
  EXPECT_THROW(common::GetInteger(ctx, r, "", "f", 0, 1), ConfigError);
  EXPECT_EQ(common::GetNumber(ctx, r, "", "i"), 7.0);
  EXPECT_THROW(common::GetNumber(ctx, r, "", "inf"), ConfigError);
  EXPECT_EQ(common::GetNumberIn(ctx, r, "", "f", 0.0, 0.9), 0.5);
  EXPECT_THROW(common::GetNumberIn(ctx, r, "", "f", 0.6, 0.9), ConfigError);
  EXPECT_EQ(common::GetBool(ctx, r, "", "b"), true);
  EXPECT_THROW(common::GetBool(ctx, r, "", "s"), ConfigError);
  EXPECT_EQ(common::GetStringArray(ctx, r, "", "list"), (std::vector<std::string>{"a", ""}));
  EXPECT_THROW(common::GetStringArray(ctx, r, "", "mixed"), ConfigError);
  EXPECT_EQ(common::GetTableArray(ctx, r, "", "tabs")->size(), 1u);
  EXPECT_THROW(common::GetTableArray(ctx, r, "", "empty"), ConfigError);
  EXPECT_TRUE(common::GetTableArray(ctx, r, "", "empty", /*allow_empty=*/true)->empty());
  EXPECT_THROW(common::GetTableArray(ctx, r, "", "list", true), ConfigError);
  EXPECT_THROW(common::GetTable(ctx, r, "", "nope", /*required=*/true), ConfigError);
}

TEST(TomlReader, DurationsInTheOneGrammar) {
  const auto f = common::ParseTomlText(
      "a = \"15min\"\nb = \"15m\"\nc = \"1h30m\"\nd = 15\ne = \"15 minutes\"\nz = \"0s\"\n"
      "ms = \"1500ms\"\n",
      "d.toml");
  const TomlContext<> ctx(f);
  const toml::table& r = f.root;
  EXPECT_EQ(common::GetDuration(ctx, r, "", "a"), milliseconds(900000));
  EXPECT_EQ(common::GetDuration(ctx, r, "", "b"), milliseconds(900000));
  EXPECT_EQ(common::GetDuration(ctx, r, "", "c"), milliseconds(5400000));
  EXPECT_EQ(common::GetDuration(ctx, r, "", "z"), milliseconds(0));
  auto error = [&](const char* key, milliseconds min = milliseconds(0),
                   milliseconds step = milliseconds(1)) {
    return std::string(
        Caught<ConfigError>([&] { common::GetDuration(ctx, r, "", key, min, step); }).what());
  };
  EXPECT_EQ(error("d"),
            "d.toml:4: d: expected a duration string such as \"90s\", \"15m\" (or \"15min\"), "
            "\"1h30m\", \"2d\", got a number (a duration needs its unit, e.g. \"15s\")");
  EXPECT_NE(error("e").find("d.toml:5: e: expected a duration such as"), std::string::npos);
  EXPECT_EQ(error("z", milliseconds(1)), "d.toml:6: z: expected a positive duration");
  EXPECT_EQ(error("a", std::chrono::hours(1)),
            "d.toml:1: a: \"15min\" is shorter than the minimum 1h");
  EXPECT_EQ(error("ms", milliseconds(0), seconds(1)),
            "d.toml:7: ms: \"1500ms\" is not a whole multiple of 1s");
}

}  // namespace
