// ZRXP decoder: both real sample files (values read by eye from the files and
// summed with awk) and hand-written edge cases (separators, comments, layouts,
// RINVAL, Latin-1, time zones, malformed lines with line and byte offset).
#include <gtest/gtest.h>

#include <cmath>
#include <ctime>

#include "floodwarn/ingest/zrxp.hpp"
#include "test_support.hpp"

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

TEST(Zrxp, SampleMultiSeriesForecast) {
  FLOODWARN_REQUIRE_SHARED(path, "reference/zrxp_multi_ts_forecast_jackieleng.zrx");
  const fi::ZrxpFile f = fi::ParseZrxp(floodwarn::testing::ReadText(path), path);
  EXPECT_TRUE(f.errors.empty());
  ASSERT_EQ(f.blocks.size(), 3u);
  const char* names[] = {"D15-FA-1", "P11-B", "K14A"};
  const char* numbers[] = {"6201", "6203", "6204"};
  const double first[] = {0.35, 0.16, 0.07};
  const double last[] = {1.33, 1.58, 1.52};
  double sum = 0;
  for (int k = 0; k < 3; ++k) {
    const fi::ZrxpBlock& b = f.blocks[static_cast<std::size_t>(k)];
    EXPECT_EQ(b.station_name, names[k]);
    EXPECT_EQ(b.station_number, numbers[k]);
    EXPECT_EQ(b.unit, "mm");
    EXPECT_EQ(b.header.at("REXCHANGE"), std::string(numbers[k]) + "_ENSRRR24");
    ASSERT_TRUE(b.rinval.has_value());
    EXPECT_EQ(*b.rinval, -9999);
    EXPECT_EQ(b.tz_offset_minutes, 0);
    EXPECT_EQ(b.layout, (std::vector<std::string>{"timestamp", "forecast", "member", "value"}));
    ASSERT_EQ(b.rows.size(), 15u);
    EXPECT_DOUBLE_EQ(b.rows.front().value, first[k]);
    EXPECT_DOUBLE_EQ(b.rows.back().value, last[k]);
    EXPECT_EQ(b.rows.front().time, Utc(2019, 4, 29));
    EXPECT_EQ(*b.rows.front().forecast, Utc(2019, 4, 30));
    EXPECT_EQ(*b.rows.back().forecast, Utc(2019, 5, 14));
    EXPECT_EQ(b.rows.front().member, "AVG");
    for (const auto& r : b.rows) sum += r.value;
  }
  EXPECT_NEAR(sum, 60.29, 1e-9);  // awk '!/^#/{s+=$4} END{print s}'
  // Forecasts are not observations: never readings; skipped unless asked
  // for, then forecast values with issue and valid time (issue #12).
  fi::ZrxpReadingOptions opt;
  EXPECT_TRUE(fi::ZrxpToReadings(f, path, opt).readings.empty());
  std::vector<fi::ForecastValue> fc;
  const fi::DecodeResult r = fi::ZrxpToReadings(f, path, opt, &fc);
  EXPECT_TRUE(r.readings.empty());
  EXPECT_TRUE(r.errors.empty());
  ASSERT_EQ(fc.size(), 45u);
  EXPECT_EQ(fc[0].station_id, "6201");
  EXPECT_EQ(fc[0].issued, Utc(2019, 4, 29));
  EXPECT_EQ(fc[0].valid, Utc(2019, 4, 30));
  EXPECT_EQ(fc[14].valid, Utc(2019, 5, 14));
  EXPECT_DOUBLE_EQ(fc[0].value, 0.35);
  EXPECT_EQ(fc[0].unit, "mm");
  EXPECT_EQ(fc[0].quantity, fi::Quantity::kRainfall);  // guessed from "mm"
  EXPECT_EQ(fc[0].member, "AVG");
  EXPECT_EQ(fc[0].source, "zrxp:zrxp_multi_ts_forecast_jackieleng.zrx");
  EXPECT_EQ(fc[0].run_id, "zrxp:zrxp_multi_ts_forecast_jackieleng.zrx#AVG@1556496000");
  EXPECT_EQ(fc[15].station_id, "6203");
}

TEST(Zrxp, SampleRealGaugeExport) {
  FLOODWARN_REQUIRE_SHARED(path, "reference/zrxp_gauge_K-Greim_excerpt_jackieleng.zrx");
  const fi::ZrxpFile f = fi::ParseZrxp(floodwarn::testing::ReadText(path), path);
  EXPECT_TRUE(f.errors.empty()) << f.errors[0].message;
  ASSERT_EQ(f.blocks.size(), 1u);
  const fi::ZrxpBlock& b = f.blocks[0];
  // #TZUTC+1|*|CTYPEn-min-ip|*|CUNITM|*|RINVAL-777|*|RNR-1|*||*|  127 3
  EXPECT_EQ(b.tz_offset_minutes, 60);
  EXPECT_EQ(b.unit, "M");
  EXPECT_EQ(*b.rinval, -777);
  EXPECT_EQ(b.header.at("CTYPE"), "n-min-ip");
  EXPECT_EQ(b.header.at("RNR"), "-1");
  EXPECT_TRUE(b.station_number.empty());
  ASSERT_EQ(b.rows.size(), 96u);
  // 20000101000000 2.26 (UTC+1) -> 1999-12-31 23:00 UTC; last 20000101234500 2.11.
  EXPECT_EQ(b.rows.front().time, Utc(1999, 12, 31, 23));
  EXPECT_DOUBLE_EQ(b.rows.front().value, 2.26);
  EXPECT_EQ(b.rows.back().time, Utc(2000, 1, 1, 22, 45));
  EXPECT_DOUBLE_EQ(b.rows.back().value, 2.11);
  EXPECT_EQ(b.rows[5].line, 7u);
  double sum = 0;
  for (std::size_t i = 0; i < b.rows.size(); ++i) {
    sum += b.rows[i].value;
    EXPECT_FALSE(b.rows[i].missing);
    if (i > 0) {
      EXPECT_EQ(b.rows[i].time - b.rows[i - 1].time, std::chrono::minutes(15));
    }
  }
  EXPECT_NEAR(sum, 209.44, 1e-9);  // awk 'NR>1{s+=$2} END{print s}'
  // No SANR: without a default station id the block is an error, with one it decodes.
  fi::ZrxpReadingOptions opt;
  fi::DecodeResult r = fi::ZrxpToReadings(f, path, opt);
  EXPECT_TRUE(r.readings.empty());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].message.find("SANR"), std::string::npos);
  opt.default_station_id = "greim";
  r = fi::ZrxpToReadings(f, path, opt);
  ASSERT_EQ(r.readings.size(), 96u);
  EXPECT_EQ(r.readings[0].unit, "m");
  EXPECT_EQ(r.readings[0].quantity, fi::Quantity::kWaterLevel);
  EXPECT_EQ(r.readings[0].flag, fi::QcFlag::kNotEvaluated);
  EXPECT_EQ(r.readings[0].source, "zrxp:zrxp_gauge_K-Greim_excerpt_jackieleng.zrx");
  // A registry station in cm gets its readings converted from CUNIT M.
  fi::Station st;
  st.id = "greim";
  st.unit = "cm";
  fi::StationRegistry reg({st});
  opt.stations = &reg;
  r = fi::ZrxpToReadings(f, path, opt);
  ASSERT_EQ(r.readings.size(), 96u);
  EXPECT_EQ(r.readings[0].unit, "cm");
  EXPECT_NEAR(r.readings[0].value, 226.0, 1e-9);
}

TEST(Zrxp, EdgeCases) {
  // Two blocks, `;*;` separators, comments, a layout with status and remark,
  // RINVAL, a Latin-1 station name (0xF6 = o umlaut), unknown keys, empty fields,
  // extra columns, and malformed lines between good ones.
  std::string text =
      "##ZRXP export, generated by hand\n"                              // 1
      "#ZRXPVERSION3014.03|*|ZRXPCREATORtest|*|\n"                      // 2
      "#SANR2741|*|SNAMEK\xF6ln|*|SWATERRhein|*|CNAMEW|*|CUNITcm|*|\n"  // 3
      "#RINVAL-777|*|TZUTC+1|*|XFOObar|*||*|\n"                         // 4
      "#LAYOUT(timestamp,value,status,remark)|*|\n"                     // 5
      "20230101000000 512 41 \"ok\"\n"                                  // 6
      "20230101001500 -777 255 \"sensor off\"\n"                        // 7
      "2023010100300 513 41\n"                                          // 8 bad ts
      "20230101004500 abc 41\n"                                         // 9 bad value
      "20230231000000 514 41\n"                                         // 10 bad date
      "20230101010000\n"                                                // 11 too few
      "## a comment inside the data\n"                                  // 12
      "20230101011500 515.5 41 \"remark with spaces\" 99 extra\n"       // 13
      "#SANR9;*;CUNITmm;*;TZUTC0;*;\n"                                  // 14
      "20230101000000 0.2\n"                                            // 15
      "20230101010000   1.4   \n";                                      // 16
  const fi::ZrxpFile f = fi::ParseZrxp(text, "edge.zrx");
  ASSERT_EQ(f.blocks.size(), 2u);
  const fi::ZrxpBlock& a = f.blocks[0];
  EXPECT_EQ(a.station_name, "K\xC3\xB6ln");  // UTF-8
  EXPECT_EQ(a.header.at("SWATER"), "Rhein");
  EXPECT_EQ(a.header.at("XFOO"), "bar");  // unknown key kept
  ASSERT_EQ(a.rows.size(), 3u);
  EXPECT_EQ(a.rows[0].time, Utc(2022, 12, 31, 23));
  EXPECT_EQ(*a.rows[0].status, 41);
  EXPECT_EQ(a.rows[0].remark, "ok");
  EXPECT_TRUE(a.rows[1].missing);
  EXPECT_TRUE(std::isnan(a.rows[1].value));
  EXPECT_EQ(a.rows[1].remark, "sensor off");
  EXPECT_DOUBLE_EQ(a.rows[2].value, 515.5);
  EXPECT_EQ(a.rows[2].remark, "remark with spaces");
  EXPECT_EQ(a.rows[2].line, 13u);
  const fi::ZrxpBlock& b = f.blocks[1];
  EXPECT_EQ(b.station_number, "9");
  EXPECT_EQ(b.unit, "mm");
  EXPECT_EQ(b.tz_offset_minutes, 0);
  ASSERT_EQ(b.rows.size(), 2u);
  EXPECT_DOUBLE_EQ(b.rows[1].value, 1.4);
  // Errors: line numbers and byte offsets of lines 8-11.
  ASSERT_EQ(f.errors.size(), 4u);
  const std::size_t lines[] = {8, 9, 10, 11};
  for (int k = 0; k < 4; ++k) {
    const fi::DecodeError& e = f.errors[static_cast<std::size_t>(k)];
    EXPECT_EQ(e.source, "edge.zrx");
    EXPECT_EQ(e.line, lines[k]);
    // the offset is where the line starts in the file
    std::size_t off = 0;
    for (std::size_t l = 1; l < e.line; ++l) off = text.find('\n', off) + 1;
    EXPECT_EQ(e.offset, off) << e.message;
  }
  EXPECT_NE(f.errors[0].message.find("yyyyMMddHHmmss"), std::string::npos);
  EXPECT_NE(f.errors[1].message.find("'abc'"), std::string::npos);
  EXPECT_NE(f.errors[3].message.find("columns"), std::string::npos);
  // Readings: the RINVAL value becomes a kMissing reading.
  const fi::DecodeResult r = fi::ZrxpToReadings(f, "dir/edge.zrx", {});
  ASSERT_EQ(r.readings.size(), 5u);
  EXPECT_EQ(r.readings[1].flag, fi::QcFlag::kMissing);
  EXPECT_EQ(r.readings[0].station_id, "2741");
  EXPECT_EQ(r.readings[3].station_id, "9");
  EXPECT_EQ(r.readings[3].quantity, fi::Quantity::kRainfall);
  EXPECT_EQ(r.readings[0].source, "zrxp:edge.zrx");
  EXPECT_EQ(r.errors.size(), 4u);
}

TEST(Zrxp, CrLfAndUnknownTimeZone) {
  const std::string text =
      "#SANR1|*|TZXYZ|*|\r\n20230101000000 1\r\n#SANR2|*|TZUTC-05:30|*|\r\n"
      "20230101000000 2\r\n";
  const fi::ZrxpFile f = fi::ParseZrxp(text, "tz.zrx");
  ASSERT_EQ(f.blocks.size(), 2u);
  EXPECT_TRUE(f.blocks[0].rows.empty());  // unknown TZ: rows are not guessed
  ASSERT_EQ(f.errors.size(), 1u);
  EXPECT_EQ(f.errors[0].line, 1u);
  EXPECT_NE(f.errors[0].message.find("XYZ"), std::string::npos);
  ASSERT_EQ(f.blocks[1].rows.size(), 1u);
  EXPECT_EQ(f.blocks[1].rows[0].time, Utc(2023, 1, 1, 5, 30));
  EXPECT_DOUBLE_EQ(f.blocks[1].rows[0].value, 2);
}

TEST(Zrxp, TimeZones) {
  EXPECT_EQ(*fi::ParseZrxpTimeZone("UTC"), 0);
  EXPECT_EQ(*fi::ParseZrxpTimeZone("UTC0"), 0);
  EXPECT_EQ(*fi::ParseZrxpTimeZone("UTC+1"), 60);
  EXPECT_EQ(*fi::ParseZrxpTimeZone("UTC+01:00"), 60);
  EXPECT_EQ(*fi::ParseZrxpTimeZone("utc-12"), -720);
  EXPECT_EQ(*fi::ParseZrxpTimeZone("MEZ"), 60);
  EXPECT_EQ(*fi::ParseZrxpTimeZone("MESZ"), 120);
  EXPECT_FALSE(fi::ParseZrxpTimeZone("UTC+25"));
  EXPECT_FALSE(fi::ParseZrxpTimeZone("Europe/Berlin"));
  EXPECT_FALSE(fi::ParseZrxpTimeZone("UTC+1x"));
}

TEST(Zrxp, Latin1Conversion) {
  EXPECT_EQ(fi::Latin1ToUtf8IfNeeded("Pegel"), "Pegel");
  EXPECT_EQ(fi::Latin1ToUtf8IfNeeded("Stra\xDF"
                                     "e"),
            "Stra\xC3\x9F"
            "e");
  EXPECT_EQ(fi::Latin1ToUtf8IfNeeded("K\xC3\xB6ln"), "K\xC3\xB6ln");  // already UTF-8
}
