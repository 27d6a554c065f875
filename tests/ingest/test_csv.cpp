// CSV decoder and ISO 8601 times: header, per-line errors (line and byte
// offset) while good lines survive, missing values, unit conversion.
#include <gtest/gtest.h>

#include <cmath>
#include <ctime>

#include "floodwarn/ingest/csv.hpp"

namespace fi = floodwarn::ingest;

namespace {

fi::TimePoint Utc(int y, int mo, int d, int h = 0, int mi = 0, int s = 0) {
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  return fi::TimePoint(std::chrono::seconds(timegm(&tm)));
}

}  // namespace

TEST(IsoTime, ParsesOffsetsAndFractions) {
  EXPECT_EQ(*fi::ParseIsoTime("2024-01-05T13:15:00Z"), Utc(2024, 1, 5, 13, 15));
  EXPECT_EQ(*fi::ParseIsoTime("2024-01-05T13:15:00+01:00"), Utc(2024, 1, 5, 12, 15));
  EXPECT_EQ(*fi::ParseIsoTime("2024-01-05 13:15-0530"), Utc(2024, 1, 5, 18, 45));
  EXPECT_EQ(*fi::ParseIsoTime("2024-02-29T00:00:00.25Z"),
            Utc(2024, 2, 29) + std::chrono::milliseconds(250));
  // 2022-07-18T16:45:00+02:00 is the PEGELONLINE example (NOTES §5.1)
  EXPECT_EQ(*fi::ParseIsoTime("2022-07-18T16:45:00+02:00"), Utc(2022, 7, 18, 14, 45));
  std::string why;
  EXPECT_FALSE(fi::ParseIsoTime("2024-01-05T13:15:00", &why));
  EXPECT_NE(why.find("offset"), std::string::npos);
  EXPECT_FALSE(fi::ParseIsoTime("2023-02-29T00:00Z"));  // not a leap year
  EXPECT_FALSE(fi::ParseIsoTime("2024-01-05T24:00Z"));
  EXPECT_FALSE(fi::ParseIsoTime("2024-01-05T13:15:00Zjunk"));
  EXPECT_FALSE(fi::ParseIsoTime("05.01.2024 13:15"));
  EXPECT_EQ(fi::FormatIsoTime(Utc(2024, 1, 5, 13, 15)), "2024-01-05T13:15:00Z");
  EXPECT_EQ(fi::FormatIsoTime(Utc(1969, 12, 31, 23, 59, 59) + std::chrono::milliseconds(5)),
            "1969-12-31T23:59:59.005Z");
}

TEST(Csv, DecodesGoodLinesAndReportsBadOnes) {
  const std::string text =
      "\xEF\xBB\xBF# exported by hand\n"                  // 1
      "station_id,time,value,unit\n"                      // 2
      "kyll-kordel,2024-01-05T13:15:00+01:00,212.4,cm\n"  // 3
      "kyll-kordel,2024-01-05T13:30:00+01:00,2.13,m\n"    // 4 converted to cm
      "kyll-kordel,2024-01-05T13:45:00+01:00,,cm\n"       // 5 missing
      "kyll-kordel,2024-01-05T14:00:00,213,cm\n"          // 6 no offset
      "kyll-kordel,2024-01-05T14:15:00Z,abc,cm\n"         // 7 bad value
      "kyll kordel,2024-01-05T14:15:00Z,1,cm\n"           // 8 bad id
      "kyll-kordel,2024-01-05T14:30:00Z,1\n"              // 9 3 fields
      "unknown,2024-01-05T14:45:00Z,1,cm\n"               // 10 not in registry
      "kyll-kordel,2024-01-05T15:00:00Z,5,m3/s\n"         // 11 wrong unit
      "\n"                                                // 12
      "trier-q,2024-01-05T15:00:00Z,850,m\xC2\xB3/s\r\n"  // 13
      "kyll-kordel,2024-01-05T15:15:00Z,1e999,cm\n";      // 14 not finite
  fi::Station a;
  a.id = "kyll-kordel";
  a.unit = "cm";
  fi::Station b;
  b.id = "trier-q";
  b.unit = "m3/s";
  b.kind = fi::Quantity::kDischarge;
  const fi::StationRegistry reg({a, b});
  fi::CsvOptions opt;
  opt.stations = &reg;
  const fi::DecodeResult r = fi::DecodeCsv(text, "data/x.csv", opt);
  ASSERT_EQ(r.readings.size(), 4u);
  EXPECT_EQ(r.readings[0].observed, Utc(2024, 1, 5, 12, 15));
  EXPECT_DOUBLE_EQ(r.readings[0].value, 212.4);
  EXPECT_EQ(r.readings[0].source, "csv:x.csv");
  EXPECT_EQ(r.readings[0].flag, fi::QcFlag::kNotEvaluated);
  EXPECT_NEAR(r.readings[1].value, 213.0, 1e-9);
  EXPECT_EQ(r.readings[1].unit, "cm");
  EXPECT_EQ(r.readings[2].flag, fi::QcFlag::kMissing);
  EXPECT_TRUE(std::isnan(r.readings[2].value));
  EXPECT_EQ(r.readings[3].station_id, "trier-q");
  EXPECT_EQ(r.readings[3].quantity, fi::Quantity::kDischarge);
  EXPECT_DOUBLE_EQ(r.readings[3].value, 850);
  const std::size_t lines[] = {6, 7, 8, 9, 10, 11, 14};
  ASSERT_EQ(r.errors.size(), 7u);
  for (std::size_t k = 0; k < 7; ++k) {
    EXPECT_EQ(r.errors[k].line, lines[k]) << r.errors[k].message;
    std::size_t off = 0;
    for (std::size_t l = 1; l < lines[k]; ++l) off = text.find('\n', off) + 1;
    EXPECT_EQ(r.errors[k].offset, off);
    EXPECT_EQ(r.errors[k].source, "data/x.csv");
  }
  EXPECT_NE(r.errors[0].message.find("offset"), std::string::npos);
  EXPECT_NE(r.errors[4].message.find("not in the station registry"), std::string::npos);
  EXPECT_NE(r.errors[5].message.find("cannot be converted"), std::string::npos);
}

TEST(Csv, HeaderIsRequired) {
  fi::DecodeResult r = fi::DecodeCsv("station,time,value\na,2024-01-01T00:00Z,1\n", "h.csv", {});
  EXPECT_TRUE(r.readings.empty());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].line, 1u);
  EXPECT_NE(r.errors[0].message.find("station_id,time,value"), std::string::npos);
  r = fi::DecodeCsv("", "empty.csv", {});
  ASSERT_EQ(r.errors.size(), 1u);
  // Without a registry any well-formed id is accepted; the quantity follows the unit.
  r = fi::DecodeCsv("station_id,time,value\nrr1,2024-01-01T00:00Z,0.4\n", "n.csv", {});
  ASSERT_EQ(r.readings.size(), 1u);
  EXPECT_EQ(r.readings[0].unit, "");
}
