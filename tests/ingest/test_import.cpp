// `floodwarn ingest import` and `floodwarn rating fit`, run as the real
// executable: the shared ZRXP sample goes through decode + QC into a SQLite
// store (read back with ReadingStore), a re-import stores nothing twice, a
// CSV with a malformed line keeps its good lines (exit code 3), and the
// rating fit prints the fit of the Nordura gaugings.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string>

#include "floodwarn/ingest/reading_store.hpp"
#include "test_support.hpp"

namespace fi = floodwarn::ingest;

namespace {

using CmdResult = floodwarn::testing::CommandResult;

CmdResult Floodwarn(const std::string& args) {
  return floodwarn::testing::RunCommand(std::string(FLOODWARN_EXE) + " " + args);
}

void Write(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

fi::TimePoint T(long seconds) { return fi::TimePoint(std::chrono::seconds(seconds)); }

// yyyyMMddHHmmss in UTC, as a ZRXP block with TZUTC0 writes it.
std::string ZrxpTime(fi::TimePoint t) {
  const std::time_t s =
      std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y%m%d%H%M%S", &tm);
  return buf;
}

}  // namespace

TEST(IngestImport, ZrxpThroughQcIntoTheStore) {
  FLOODWARN_REQUIRE_SHARED(zrx, "reference/zrxp_gauge_K-Greim_excerpt_jackieleng.zrx");
  const std::string dir = floodwarn::testing::MakeTempDir("ingest_import");
  // Station in cm (the file is in M: converted); sensor maximum 225 cm, so
  // the five 2.26 m readings at the start fail the gross-range test.
  Write(dir + "/stations.toml", R"(
[[station]]
id = "greim"
kind = "water_level"
unit = "cm"
expected_interval = "15min"
location = { lat = 47.0, lon = 13.0 }
[station.qc]
gross_max = 225
)");
  const std::string db = dir + "/readings.db";
  CmdResult r = Floodwarn("ingest import " + zrx + " --station-id greim --stations " + dir +
                          "/stations.toml --store " + db);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("96 readings (91 pass, 5 fail)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("stored 96 new, 0 already present"), std::string::npos) << r.output;
  {
    fi::ReadingStore store(db);
    EXPECT_EQ(store.Count(), 96u);
    // 20000101000000 (UTC+1) = 1999-12-31T23:00:00Z = 946681200 s
    const auto rs = store.Query("greim", T(946681200), T(946681200 + 96 * 900));
    ASSERT_EQ(rs.size(), 96u);
    EXPECT_DOUBLE_EQ(rs[0].value, 226.0);
    EXPECT_EQ(rs[0].unit, "cm");
    EXPECT_EQ(rs[0].flag, fi::QcFlag::kFail);
    EXPECT_NE(rs[0].reason.find("gross_range"), std::string::npos);
    EXPECT_EQ(rs[5].flag, fi::QcFlag::kPass);
    EXPECT_DOUBLE_EQ(rs[95].value, 211.0);
    EXPECT_EQ(rs[0].source, "zrxp:zrxp_gauge_K-Greim_excerpt_jackieleng.zrx");
  }
  // Importing the same file again stores nothing twice.
  r = Floodwarn("ingest import " + zrx + " --station-id greim --stations " + dir +
                "/stations.toml --store " + db);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("stored 0 new, 96 already present"), std::string::npos) << r.output;
  EXPECT_EQ(fi::ReadingStore(db).Count(), 96u);
}

// Issue #12: forecast rows are forecast runs (issue time, valid time), never
// readings. A gauge whose last observation is two hours old is stale even
// when the same file carries a forecast for it that runs six hours into the
// future: the store's readings end at the last observation, Query / Latest
// never return a forecast value, and `floodwarn stations` (the staleness
// check over the store) sees the last observation.
TEST(IngestImport, ForecastRowsNeverCountAsReadings) {
  using std::chrono::minutes;
  const std::string dir = floodwarn::testing::MakeTempDir("ingest_import_forecast");
  const auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(fi::Clock::now());
  // Last observation on a quarter hour about two hours ago; stale limit 2 x 15 min.
  const fi::TimePoint last_obs =
      fi::TimePoint(std::chrono::floor<minutes>(now.time_since_epoch()) -
                    std::chrono::floor<minutes>(now.time_since_epoch()) % minutes(15)) -
      std::chrono::hours(2);
  const fi::TimePoint issued = last_obs;
  std::string zrx =
      "#SANRkyll|*|SNAMEKyll, Kordel|*|\n"
      "#TZUTC0|*|CUNITcm|*|RINVAL-777|*|\n";
  for (int k = 3; k >= 0; --k)
    zrx += ZrxpTime(last_obs - minutes(15 * k)) + " " + std::to_string(120 + 3 - k) + "\n";
  zrx +=
      "#SANRkyll|*|SNAMEKyll, Kordel|*|REXCHANGEkyll_fc|*|\n"
      "#TZUTC0|*|CUNITcm|*|RINVAL-777|*|\n"
      "#LAYOUT(timestamp,forecast,member,value)|*|\n";
  for (int k = 1; k <= 32; ++k)  // 8 h ahead of the issue time: 6 h into the future
    zrx += ZrxpTime(issued) + " " + ZrxpTime(issued + minutes(15 * k)) + " AVG " +
           std::to_string(500 + k) + "\n";
  Write(dir + "/kyll.zrx", zrx);
  Write(dir + "/stations.toml", R"(
[[station]]
id = "kyll"
kind = "water_level"
unit = "cm"
expected_interval = "15min"
location = { lat = 49.8365, lon = 6.6331 }
)");
  const std::string db = dir + "/readings.db";
  const std::string common = dir + "/kyll.zrx --stations " + dir + "/stations.toml --store " + db;

  // Without the flag the forecast rows are skipped and said so.
  CmdResult r = Floodwarn("ingest import " + common);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("kyll.zrx: 4 readings ("), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("32 forecast rows not imported"), std::string::npos) << r.output;

  // With it they are stored, but not as readings: as one forecast run.
  r = Floodwarn("ingest import " + common + " --include-forecasts");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("kyll.zrx: 4 readings ("), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("stored 0 new, 4 already present"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("kyll.zrx: 32 forecast rows of 1 forecast run, kept apart from the "
                          "readings; stored as forecasts 32 new, 0 already present"),
            std::string::npos)
      << r.output;
  EXPECT_EQ(r.output.find("not imported"), std::string::npos) << r.output;
  {
    fi::ReadingStore store(db);
    EXPECT_EQ(store.ForecastCount(), 32u);
    const auto runs = store.QueryForecast("kyll", issued, issued + std::chrono::seconds(1));
    ASSERT_EQ(runs.size(), 1u);
    EXPECT_EQ(runs[0].issued, issued);
    EXPECT_EQ(runs[0].member, "AVG");
    EXPECT_EQ(runs[0].unit, "cm");
    EXPECT_EQ(runs[0].source, "zrxp:kyll.zrx");
    ASSERT_EQ(runs[0].values.size(), 32u);
    EXPECT_EQ(runs[0].values.front().valid, issued + minutes(15));
    EXPECT_DOUBLE_EQ(runs[0].values.front().value, 501.0);
    EXPECT_EQ(runs[0].values.back().valid, issued + minutes(15 * 32));
    EXPECT_DOUBLE_EQ(runs[0].values.back().value, 532.0);
    EXPECT_GT(runs[0].values.back().valid, now);  // the run reaches into the future ...
    EXPECT_EQ(store.Count(), 4u);
    const auto all = store.Query("kyll", T(0), now + std::chrono::hours(24 * 365));
    ASSERT_EQ(all.size(), 4u);
    EXPECT_EQ(all.back().observed, last_obs);
    for (const auto& rd : all) {
      EXPECT_LE(rd.observed, last_obs);
      EXPECT_LT(rd.value, 500.0) << "a forecast value came back as a reading";
    }
    const auto latest = store.Latest("kyll");
    ASSERT_TRUE(latest.has_value());
    EXPECT_EQ(latest->observed, last_obs);
    EXPECT_DOUBLE_EQ(latest->value, 123.0);
    const auto usable = store.LatestUsable("kyll");
    EXPECT_TRUE(!usable || usable->observed <= last_obs);  // ... the readings do not
  }
  // The staleness check over the store sees the two-hour-old observation.
  r = Floodwarn("stations --store " + db + " --stations " + dir + "/stations.toml --fail-on-stale");
  EXPECT_EQ(r.exit_code, 4) << r.output;
  EXPECT_NE(r.output.find("STALE"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("in future"), std::string::npos) << r.output;

  // Importing the forecast again stores nothing twice.
  r = Floodwarn("ingest import " + common + " --include-forecasts");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("stored as forecasts 0 new, 32 already present"), std::string::npos)
      << r.output;
  EXPECT_EQ(fi::ReadingStore(db).ForecastCount(), 32u);
}

TEST(IngestImport, CsvWithAMalformedLineKeepsTheGoodOnes) {
  const std::string dir = floodwarn::testing::MakeTempDir("ingest_import_csv");
  Write(dir + "/r.csv",
        "station_id,time,value,unit\n"
        "g1,2024-05-01T10:00:00+02:00,12.5,cm\n"
        "g1,2024-05-01T10:15:00,13.0,cm\n"
        "g1,2024-05-01T10:30:00+02:00,13.5,cm\n");
  const std::string db = dir + "/r.db";
  const CmdResult r = Floodwarn("ingest import " + dir + "/r.csv --store " + db);
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_NE(r.output.find("r.csv:3: (byte 64)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("offset"), std::string::npos) << r.output;
  fi::ReadingStore store(db);
  EXPECT_EQ(store.Count(), 2u);
  const auto latest = store.Latest("g1");
  ASSERT_TRUE(latest.has_value());
  EXPECT_EQ(latest->observed, T(1714552200));          // 2024-05-01T08:30:00Z
  EXPECT_EQ(latest->flag, fi::QcFlag::kNotEvaluated);  // no registry: no QC
}

TEST(IngestImport, UsageErrors) {
  const std::string dir = floodwarn::testing::MakeTempDir("ingest_import_bad");
  Write(dir + "/x.txt", "hello\n");
  CmdResult r = Floodwarn("ingest import " + dir + "/x.txt");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("unknown format"), std::string::npos) << r.output;
  Write(dir + "/s.toml", "[[station]]\nid = \"a\"\nkindd = \"rainfall\"\n");
  Write(dir + "/a.csv", "station_id,time,value\n");
  r = Floodwarn("ingest import " + dir + "/a.csv --stations " + dir + "/s.toml");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("s.toml:3: station 'a': station[0].kindd: unknown key"),
            std::string::npos)
      << r.output;
}

TEST(RatingFitCommand, PrintsTheFitAndResiduals) {
  const std::string dir = floodwarn::testing::MakeTempDir("rating_fit");
  // Q = 3 (h - 0.5)^2 exactly: the fit must return it.
  std::string csv = "h,q\n";
  for (double h : {0.8, 1.0, 1.3, 1.7, 2.2, 2.8, 3.5})
    csv += std::to_string(h) + "," + std::to_string(3 * (h - 0.5) * (h - 0.5)) + "\n";
  Write(dir + "/pairs.csv", csv);
  CmdResult r = Floodwarn("rating fit " + dir + "/pairs.csv");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("a    = 3\n"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("b    = 2\n"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("h0   = 0.5\n"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("R2   = 1.000000"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("[[station.rating.segment]]"), std::string::npos) << r.output;
  r = Floodwarn("rating fit " + dir + "/pairs.csv --h0 0.5");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("h0   = 0.5 (given)"), std::string::npos) << r.output;
  Write(dir + "/bad.csv", "stage;q\n");
  r = Floodwarn("rating fit " + dir + "/bad.csv");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("bad.csv:1: expected"), std::string::npos) << r.output;
}
