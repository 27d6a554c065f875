// The calendar and the ISO 8601 parser/formatter of floodwarn::common: round
// trips, leap years, offsets, and what each preset refuses. Expected instants
// are from `date -u -d <iso> +%s` (an independent implementation).
#include <gtest/gtest.h>

#include <string>

#include "floodwarn/common/iso8601.hpp"
#include "floodwarn/common/time.hpp"

namespace {

using floodwarn::common::CivilFromDays;
using floodwarn::common::CivilToTime;
using floodwarn::common::DaysFromCivil;
using floodwarn::common::DaysInMonth;
using floodwarn::common::FormatIso8601;
using floodwarn::common::IsLeapYear;
using floodwarn::common::Iso8601Format;
using floodwarn::common::Iso8601Options;
using floodwarn::common::ParseIso8601;
using floodwarn::common::TimePoint;
using floodwarn::common::ToCivil;
using floodwarn::common::WeekdayFromDays;
using std::chrono::milliseconds;
using std::chrono::seconds;

TimePoint At(long long epoch_s, long long ms = 0) {
  return TimePoint(seconds(epoch_s)) + milliseconds(ms);
}

TEST(Calendar, LeapYearsAndMonthLengths) {
  EXPECT_TRUE(IsLeapYear(2024));
  EXPECT_TRUE(IsLeapYear(2000));
  EXPECT_FALSE(IsLeapYear(1900));
  EXPECT_FALSE(IsLeapYear(2100));
  EXPECT_FALSE(IsLeapYear(2023));
  EXPECT_EQ(DaysInMonth(2024, 2), 29);
  EXPECT_EQ(DaysInMonth(2023, 2), 28);
  EXPECT_EQ(DaysInMonth(1900, 2), 28);
  EXPECT_EQ(DaysInMonth(2000, 2), 29);
  EXPECT_EQ(DaysInMonth(2024, 4), 30);
  EXPECT_EQ(DaysInMonth(2024, 12), 31);
}

TEST(Calendar, DaysFromCivilAndBack) {
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(1969, 12, 31), -1);
  EXPECT_EQ(DaysFromCivil(2024, 1, 1), 19723);
  EXPECT_EQ(DaysFromCivil(2000, 3, 1) * 86400, 951868800);
  EXPECT_EQ(DaysFromCivil(1900, 3, 1) * 86400, -2203891200LL);
  EXPECT_EQ(DaysFromCivil(1, 1, 1) * 86400, -62135596800LL);
  // Every day from 1600 to 2400 goes there and back, one day apart.
  std::int64_t prev = DaysFromCivil(1599, 12, 31);
  for (std::int64_t y = 1600; y <= 2400; ++y) {
    for (unsigned m = 1; m <= 12; ++m) {
      for (unsigned d = 1; d <= static_cast<unsigned>(DaysInMonth(y, m)); ++d) {
        const std::int64_t n = DaysFromCivil(y, m, d);
        ASSERT_EQ(n, prev + 1) << y << "-" << m << "-" << d;
        const auto c = CivilFromDays(n);
        ASSERT_EQ(c.year, y);
        ASSERT_EQ(c.month, m);
        ASSERT_EQ(c.day, d);
        prev = n;
      }
    }
  }
  EXPECT_EQ(WeekdayFromDays(0), 4u);                          // 1970-01-01: Thursday
  EXPECT_EQ(WeekdayFromDays(DaysFromCivil(2024, 1, 1)), 1u);  // Monday
  EXPECT_EQ(WeekdayFromDays(-1), 3u);
}

TEST(Calendar, ToCivilRoundsDownBeforeTheEpoch) {
  const auto c = ToCivil(At(-1, 995));  // 1969-12-31T23:59:59.995Z
  EXPECT_EQ(c.date.year, 1969);
  EXPECT_EQ(c.date.month, 12u);
  EXPECT_EQ(c.date.day, 31u);
  EXPECT_EQ(c.hour, 23);
  EXPECT_EQ(c.minute, 59);
  EXPECT_EQ(c.second, 59);
  EXPECT_EQ(c.millisecond, 995);
}

TEST(Calendar, CivilToTimeChecksTheDate) {
  EXPECT_EQ(*CivilToTime(2024, 2, 29, 12, 34, 56, 0, 0), At(1709210096));
  EXPECT_EQ(*CivilToTime(2024, 2, 29, 13, 34, 56, 250, 60), At(1709210096, 250));
  EXPECT_FALSE(CivilToTime(2023, 2, 29, 0, 0, 0, 0, 0));
  EXPECT_FALSE(CivilToTime(2024, 4, 31, 0, 0, 0, 0, 0));
  EXPECT_FALSE(CivilToTime(2024, 13, 1, 0, 0, 0, 0, 0));
  EXPECT_FALSE(CivilToTime(2024, 1, 1, 24, 0, 0, 0, 0));
  EXPECT_FALSE(CivilToTime(2024, 1, 1, 0, 0, 60, 0, 0));
  EXPECT_FALSE(CivilToTime(0, 1, 1, 0, 0, 0, 0, 0));
  EXPECT_FALSE(CivilToTime(2024, 1, 1, 0, 0, 0, 1000, 0));
}

TEST(Iso8601, FormatsUtcOffsetsAndFractions) {
  EXPECT_EQ(FormatIso8601(At(1709210096)), "2024-02-29T12:34:56Z");
  EXPECT_EQ(FormatIso8601(At(1709210096, 7)), "2024-02-29T12:34:56.007Z");
  EXPECT_EQ(FormatIso8601(At(-1, 5)), "1969-12-31T23:59:59.005Z");
  EXPECT_EQ(FormatIso8601(At(253402300799)), "9999-12-31T23:59:59Z");
  Iso8601Format f;
  f.fraction = Iso8601Format::Fraction::kMillis;
  EXPECT_EQ(FormatIso8601(At(0), f), "1970-01-01T00:00:00.000Z");
  f.fraction = Iso8601Format::Fraction::kNone;
  EXPECT_EQ(FormatIso8601(At(-1, 500), f), "1969-12-31T23:59:59Z");  // rounded down
  f.separator = ' ';
  f.zone = Iso8601Format::Zone::kNone;
  EXPECT_EQ(FormatIso8601(At(1709210096, 999), f), "2024-02-29 12:34:56");
  f.separator = 'T';
  f.zone = Iso8601Format::Zone::kOffset;
  f.utc_offset_minutes = 60;
  EXPECT_EQ(FormatIso8601(At(1795338900), f), "2026-11-22T10:15:00+01:00");
  f.utc_offset_minutes = -300;
  EXPECT_EQ(FormatIso8601(At(1795338900), f), "2026-11-22T04:15:00-05:00");
  f.utc_offset_minutes = 0;
  EXPECT_EQ(FormatIso8601(At(1795338900), f), "2026-11-22T09:15:00+00:00");
  // Across a leap day: 2028-02-29T23:30Z is 2028-03-01 at +01:00.
  f.utc_offset_minutes = 60;
  const TimePoint leap = *CivilToTime(2028, 2, 29, 23, 30, 0, 0, 0);
  EXPECT_EQ(FormatIso8601(leap, f), "2028-03-01T00:30:00+01:00");
}

TEST(Iso8601, RoundTripsEveryPresetsOwnOutput) {
  Iso8601Format cap;
  cap.fraction = Iso8601Format::Fraction::kNone;
  cap.zone = Iso8601Format::Zone::kOffset;
  for (long long s = -86400LL * 800; s < 86400LL * 366 * 60; s += 86400LL * 7 + 3599) {
    const TimePoint t = At(s, s % 1000 < 0 ? 0 : s % 1000);
    const std::string text = FormatIso8601(t);
    ASSERT_EQ(ParseIso8601(text, Iso8601Options::Feed()), t) << text;
    ASSERT_EQ(ParseIso8601(text, Iso8601Options::File()), t) << text;
    for (int off : {-720, -330, 0, 60, 120, 345, 840}) {
      cap.utc_offset_minutes = off;
      const std::string c = FormatIso8601(At(s), cap);
      ASSERT_EQ(ParseIso8601(c, Iso8601Options::Cap()), At(s)) << c;
    }
  }
}

TEST(Iso8601, FeedAcceptsOffsetsFractionsAndLeapSeconds) {
  const auto o = Iso8601Options::Feed();
  const TimePoint t = At(1709210096);  // 2024-02-29T12:34:56Z
  EXPECT_EQ(ParseIso8601("2024-02-29T12:34:56Z", o), t);
  EXPECT_EQ(ParseIso8601("2024-02-29t12:34:56z", o), t);
  EXPECT_EQ(ParseIso8601("2024-02-29 13:34:56+01:00", o), t);
  EXPECT_EQ(ParseIso8601("2024-02-29T07:34:56-0500", o), t);
  EXPECT_EQ(ParseIso8601("2024-02-29T12:34:56.25Z", o), t + milliseconds(250));
  EXPECT_EQ(ParseIso8601("2024-02-29T12:34:56,123456789Z", o), t + milliseconds(123));
  EXPECT_EQ(ParseIso8601("2024-02-29T12:34:60Z", o), t + seconds(3));  // read as :59
  EXPECT_EQ(ParseIso8601("2024-02-29T12:34:56+23:59", o), t - std::chrono::minutes(23 * 60 + 59));
  std::string why;
  EXPECT_FALSE(ParseIso8601("2024-02-29T12:34:56", o, &why));
  EXPECT_NE(why.find("offset"), std::string::npos) << why;
  EXPECT_FALSE(ParseIso8601("2024-02-29T12:34Z", o, &why));  // seconds required
  EXPECT_NE(why.find("hh:mm:ss"), std::string::npos) << why;
  EXPECT_FALSE(ParseIso8601("2024-02-29T12:34:56+01", o));  // offset minutes required
  EXPECT_FALSE(ParseIso8601("2024-02-29T12:34:56+24:00", o, &why));
  EXPECT_NE(why.find("offset out of range"), std::string::npos) << why;
  EXPECT_FALSE(ParseIso8601("2024-02-29T12:34:56.Z", o, &why));
  EXPECT_NE(why.find("decimal point"), std::string::npos) << why;
}

TEST(Iso8601, FileAcceptsMinutesAndHourOffsetsWithinFourteenHours) {
  const auto o = Iso8601Options::File();
  const TimePoint t = At(1709210040);  // 2024-02-29T12:34:00Z
  EXPECT_EQ(ParseIso8601("2024-02-29T12:34Z", o), t);
  EXPECT_EQ(ParseIso8601("2024-02-29 14:34+02", o), t);
  EXPECT_EQ(ParseIso8601("2024-02-29T07:04-0530", o), t);
  EXPECT_EQ(ParseIso8601("2024-02-29T12:34:00.5Z", o), t + milliseconds(500));
  std::string why;
  EXPECT_FALSE(ParseIso8601("2024-02-29T12:34+15:00", o, &why));
  EXPECT_NE(why.find("offset out of range"), std::string::npos) << why;
  EXPECT_FALSE(ParseIso8601("2024-02-29T12:34+02:", o));
  EXPECT_FALSE(ParseIso8601("2024-02-29T12:34:60Z", o));  // no leap second in files
  EXPECT_FALSE(ParseIso8601("2024-02-29T12:34.5Z", o));   // a fraction needs seconds
}

TEST(Iso8601, UtcSecondsRefusesEverythingButUtc) {
  const auto o = Iso8601Options::UtcSeconds();
  const TimePoint t = At(1709210096);
  EXPECT_EQ(ParseIso8601("2024-02-29T12:34:56Z", o), t);
  EXPECT_EQ(ParseIso8601("2024-02-29T12:34:56+00:00", o), t);
  EXPECT_EQ(ParseIso8601("2024-02-29T12:34:56-00:00", o), t);
  for (const char* bad :
       {"2024-02-29T12:34:56", "2024-02-29T12:34:56z", "2024-02-29 12:34:56Z",
        "2024-02-29t12:34:56Z", "2024-02-29T12:34Z", "2024-02-29T12:34:56.5Z",
        "2024-02-29T12:34:56+01:00", "2024-02-29T12:34:56+0000", "2024-02-29T12:34:56+00",
        "2023-02-29T12:34:56Z", "2024-02-30T00:00:00Z", "24-02-29T12:34:56Z"})
    EXPECT_FALSE(ParseIso8601(bad, o)) << bad;
}

TEST(Iso8601, CapIsOffsetOnly) {
  const auto o = Iso8601Options::Cap();
  EXPECT_EQ(ParseIso8601("2026-11-22T10:15:00+01:00", o), At(1795338900));
  EXPECT_EQ(ParseIso8601("2026-11-22T23:15:00+14:00", o), At(1795338900));
  EXPECT_EQ(ParseIso8601("2026-11-21T21:15:00-12:00", o), At(1795338900));
  for (const char* bad :
       {"2026-11-22T09:15:00Z", "2026-11-22T10:15:00+0100", "2026-11-22T10:15:00+01",
        "2026-11-22T10:15:00.5+01:00", "2026-11-22 10:15:00+01:00", "2026-11-22T10:15+01:00",
        "2026-11-22T10:15:00+14:30", "2026-11-22T10:15:00+15:00", "2026-11-22T10:15:60+01:00",
        "2026-11-22T10:15:00+01:60", " 2026-11-22T10:15:00+01:00"})
    EXPECT_FALSE(ParseIso8601(bad, o)) << bad;
}

TEST(Iso8601, UtcOrNaiveRefusesOffsets) {
  const auto o = Iso8601Options::UtcOrNaive();
  const TimePoint t = At(1709210096);
  EXPECT_EQ(ParseIso8601("2024-02-29T12:34:56", o), t);
  EXPECT_EQ(ParseIso8601("2024-02-29 12:34:56Z", o), t);
  EXPECT_EQ(ParseIso8601("2024-02-29T12:34:56z", o), t);
  std::string why;
  EXPECT_FALSE(ParseIso8601("2024-02-29T12:34:56+01:00", o, &why));
  EXPECT_NE(why.find("not an offset"), std::string::npos) << why;
  EXPECT_FALSE(ParseIso8601("2024-02-29t12:34:56", o));
}

TEST(Iso8601, BadInputsSayWhatWasExpected) {
  const auto o = Iso8601Options::File();
  auto why = [&](const char* text) {
    std::string w;
    EXPECT_FALSE(ParseIso8601(text, o, &w)) << text;
    return w;
  };
  EXPECT_NE(why("").find("YYYY-MM-DD"), std::string::npos);
  EXPECT_NE(why("05.01.2024 13:15").find("YYYY-MM-DD"), std::string::npos);
  EXPECT_NE(why("2024-01-05").find("'T'"), std::string::npos);
  EXPECT_NE(why("2024-01-05T13").find("hh:mm"), std::string::npos);
  EXPECT_NE(why("2024-13-05T13:00Z").find("month"), std::string::npos);
  EXPECT_NE(why("2023-02-29T13:00Z").find("2023-02 has 28 days"), std::string::npos);
  EXPECT_NE(why("2024-01-05T24:00Z").find("time of day"), std::string::npos);
  EXPECT_NE(why("2024-01-05T13:00Zjunk").find("unexpected characters"), std::string::npos);
  EXPECT_NE(why("2024-01-05T13:00Q").find("Z or an offset"), std::string::npos);
}

}  // namespace
