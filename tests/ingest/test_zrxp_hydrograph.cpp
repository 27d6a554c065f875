// A recorded gauge series in ZRXP as a scenario's inflow hydrograph, through
// the real `floodwarn simulate` (the CLI registers the ZRXP reader of ingest/
// with the scenario loader). External truth: the hydrograph's integral,
// computed here from the values and times written into the file, must equal
// the inflow volume in the run's mass balance (summary.json).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "test_support.hpp"

namespace floodwarn {
namespace {

testing::CommandResult Floodwarn(const std::string& args) {
  return testing::RunCommand(std::string("'") + FLOODWARN_EXE + "' " + args);
}

double JsonNumber(const std::string& json, const std::string& key) {
  const auto k = json.find("\"" + key + "\"");
  if (k == std::string::npos) return std::nan("");
  return std::strtod(json.c_str() + json.find(':', k) + 1, nullptr);
}

// A 20 x 10 box of 10 m cells, flat, closed (walls): everything that flows
// in stays; the inflow point in the middle.
void WriteCase(const std::string& dir, const std::string& discharge_key,
               const std::string& start = "2024-06-01T10:00:00Z") {
  std::ofstream(dir + "/dem.asc") << [] {
    std::string s = "ncols 20\nnrows 10\nxllcorner 0\nyllcorner 0\ncellsize 10\n";
    for (int r = 0; r < 10; ++r) {
      for (int c = 0; c < 20; ++c) s += "0 ";
      s += "\n";
    }
    return s;
  }();
  std::ofstream(dir + "/case.toml") << "[domain]\ndem = \"dem.asc\"\nmanning = 0.03\n"
                                    << "[time]\nend = 3600.0\noutput_interval = 3600.0\n"
                                    << (start.empty() ? "" : "start = \"" + start + "\"\n")
                                    << "[[inflow]]\nname = \"gauge\"\nx = 100.0\ny = 50.0\n"
                                    << "discharge = \"" << discharge_key << "\"\n";
}

// Two blocks: a water level (cm) and the discharge (m3/s) of gauge 4711, in
// local winter time (UTC+1): 11:00 local = 10:00 UTC = simulation time 0.
void WriteZrxp(const std::string& path, const std::string& q_rows) {
  std::ofstream(path) << "#REXCHANGE4711_W|*|RINVAL-777|*|\n"
                         "#SANR4710|*|SNAMEAuenbach Br\xfc"
                         "cke|*|CNAMEW|*|CUNITcm|*|\n"
                         "#TZUTC+1|*|\n"
                         "20240601110000 120\n"
                         "20240601120000 180\n"
                         "#REXCHANGE4711_Q|*|RINVAL-777|*|\n"
                         "#SANR4711|*|SNAMEAuenbach Br\xfc"
                         "cke|*|CNAMEQ|*|CUNITm3/s|*|\n"
                         "#TZUTC+1|*|\n"
                      << q_rows;
}

TEST(ZrxpHydrograph, InflowVolumeEqualsTheRecordedSeries) {
  const std::string dir = testing::MakeTempDir("floodwarn_zrxp_inflow");
  // 10:00-11:00 UTC: 0 -> 4 m3/s at 10:20, 4 until 10:40, -> 1 m3/s at 11:00.
  WriteZrxp(dir + "/gauge.zrx",
            "20240601104000 0\n20240601110000 0\n20240601112000 4\n20240601114000 4\n"
            "20240601120000 1\n20240601121500 1\n");
  WriteCase(dir, "gauge.zrx#4711");
  const testing::CommandResult r =
      Floodwarn("simulate " + dir + "/case.toml --quiet --output-dir " + dir + "/out");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // Trapezoids over [0, 3600] s: 1200 s ramp 0->4 (2400 m3), 1200 s at 4
  // (4800 m3), 1200 s ramp 4->1 (3000 m3) = 10,200 m3.
  const double expected = 0.5 * 4 * 1200 + 4 * 1200 + 0.5 * (4 + 1) * 1200;
  const std::string summary = testing::ReadText(dir + "/out/summary.json");
  EXPECT_NEAR(JsonNumber(summary, "inflow_in_m3"), expected, 1e-6 * expected) << summary;
}

TEST(ZrxpHydrograph, ErrorsNameTheFileAndWhatIsWrong) {
  const std::string dir = testing::MakeTempDir("floodwarn_zrxp_inflow_bad");
  WriteZrxp(dir + "/gauge.zrx", "20240601110000 1\n20240601112000 -777\n20240601114000 2\n");
  struct Case {
    std::string key, start, expect;
  };
  for (const Case& c : {
           // a file with two series needs the station number
           Case{"gauge.zrx", "2024-06-01T10:00:00Z", "name one as"},
           Case{"gauge.zrx#9999", "2024-06-01T10:00:00Z", "no series with SANR 9999"},
           // the water level block is in cm, not m3/s
           Case{"gauge.zrx#4710", "2024-06-01T10:00:00Z", "expected m3/s"},
           // RINVAL inside the series: an error, never a silent gap
           Case{"gauge.zrx#4711", "2024-06-01T10:00:00Z", "missing"},
           // absolute times need the scenario's start time
           Case{"gauge.zrx#4711", "", "time.start"},
       }) {
    SCOPED_TRACE(c.key + " start=" + c.start);
    WriteCase(dir, c.key, c.start);
    const testing::CommandResult r =
        Floodwarn("simulate " + dir + "/case.toml --quiet --output-dir " + dir + "/out");
    EXPECT_NE(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("gauge.zrx"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find(c.expect), std::string::npos) << r.output;
  }
}

}  // namespace
}  // namespace floodwarn
