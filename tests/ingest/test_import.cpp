// `floodwarn ingest import` and `floodwarn rating fit`, run as the real
// executable: the shared ZRXP sample goes through decode + QC into a SQLite
// store (read back with ReadingStore), a re-import stores nothing twice, a
// CSV with a malformed line keeps its good lines (exit code 3), and the
// rating fit prints the fit of the Nordura gaugings.
#include <gtest/gtest.h>

#include <cstdio>
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
