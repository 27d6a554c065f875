// The one duration grammar of the config files (docs/DURATIONS.md).
#include <gtest/gtest.h>

#include <string>

#include "floodwarn/common/duration.hpp"

namespace {

using floodwarn::common::FormatDuration;
using floodwarn::common::ParseDuration;
using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

TEST(Duration, EverySpellingInUse) {
  // rules files and [service] ("15m"), station registries and [ingest] ("15min")
  EXPECT_EQ(ParseDuration("90s"), milliseconds(seconds(90)));
  EXPECT_EQ(ParseDuration("15m"), milliseconds(minutes(15)));
  EXPECT_EQ(ParseDuration("15min"), milliseconds(minutes(15)));
  EXPECT_EQ(ParseDuration("2h"), milliseconds(hours(2)));
  EXPECT_EQ(ParseDuration("1d"), milliseconds(hours(24)));
  EXPECT_EQ(ParseDuration("250ms"), milliseconds(250));
  EXPECT_EQ(ParseDuration("900s"), milliseconds(seconds(900)));
  EXPECT_EQ(ParseDuration("1h30m"), milliseconds(minutes(90)));
  EXPECT_EQ(ParseDuration("1h30min"), milliseconds(minutes(90)));
  EXPECT_EQ(ParseDuration("1m30s"), milliseconds(seconds(90)));
  EXPECT_EQ(ParseDuration("1d2h3m4s5ms"), milliseconds(93784005));
  EXPECT_EQ(ParseDuration("0s"), milliseconds(0));
  EXPECT_EQ(ParseDuration("007m"), milliseconds(minutes(7)));
  EXPECT_EQ(ParseDuration("999999999d"), milliseconds(hours(24LL * 999999999)));
}

TEST(Duration, RefusesWhatIsNotInTheGrammar) {
  for (const char* bad : {"", "15", "m", "min", "1x", "1.5h", "-5m", "+5m", "5 m", " 5m", "5m ",
                          "1h30", "5mins", "5M", "5sec", "1e3s", "1234567890s"})
    EXPECT_FALSE(ParseDuration(bad)) << bad;
  std::string why;
  EXPECT_FALSE(ParseDuration("15", &why));
  EXPECT_NE(why.find("\"15s\""), std::string::npos) << why;
  EXPECT_NE(why.find("\"15m\""), std::string::npos) << why;
  EXPECT_FALSE(ParseDuration("5sec", &why));
  EXPECT_NE(why.find("unknown unit"), std::string::npos) << why;
  std::string sixty_times;  // 60 x 999999999 days: more than int64 milliseconds hold
  for (int k = 0; k < 60; ++k) sixty_times += "999999999d";
  EXPECT_FALSE(ParseDuration(sixty_times, &why));
  EXPECT_EQ(why, "too long");
}

TEST(Duration, FormatsTheShortestSpellingAndRoundTrips) {
  EXPECT_EQ(FormatDuration(minutes(90)), "1h30m");
  EXPECT_EQ(FormatDuration(hours(6)), "6h");
  EXPECT_EQ(FormatDuration(milliseconds(0)), "0s");
  EXPECT_EQ(FormatDuration(milliseconds(93784005)), "1d2h3m4s5ms");
  EXPECT_EQ(FormatDuration(-minutes(5)), "-5m");
  for (long long ms : {1LL, 999LL, 1000LL, 61000LL, 3600000LL, 86400000LL, 90061001LL})
    EXPECT_EQ(ParseDuration(FormatDuration(milliseconds(ms))), milliseconds(ms)) << ms;
}

}  // namespace
