// `floodwarn stations`, run as the real executable over a reading store and a
// station registry: a station with a recent reading is "ok", one whose last
// reading is older than stale_factor x expected_interval is STALE, one that
// never reported is STALE (no reading) — a dead gauge is never shown as ok —
// and --fail-on-stale turns that into exit status 4 for monitoring scripts.
#include <gtest/gtest.h>

#include <chrono>
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

std::string Line(const std::string& out, const std::string& id) {
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(id + " ", 0) == 0) return line;
  return "";
}

fi::Reading At(const std::string& id, std::chrono::minutes ago, double value) {
  fi::Reading r;
  r.station_id = id;
  r.observed = std::chrono::time_point_cast<std::chrono::milliseconds>(fi::Clock::now()) - ago;
  r.received = r.observed;
  r.value = value;
  r.unit = "cm";
  r.flag = fi::QcFlag::kPass;
  r.source = "test";
  return r;
}

TEST(StationsCli, FreshOkOldAndSilentStationsAreStale) {
  const std::string dir = floodwarn::testing::MakeTempDir("floodwarn_stations_cli");
  std::ofstream(dir + "/stations.toml") << R"(
[[station]]
id = "fresh"
name = "Pegel Frisch"
kind = "water_level"
unit = "cm"
expected_interval = "15min"
location = { lat = 50.0, lon = 8.0 }
[station.qc]
stale_factor = 3

[[station]]
id = "old"
name = "Pegel Alt"
kind = "water_level"
unit = "cm"
expected_interval = "15min"
location = { lat = 50.1, lon = 8.1 }
[station.qc]
stale_factor = 3

[[station]]
id = "silent"
name = "Pegel Stumm"
kind = "water_level"
unit = "cm"
expected_interval = "15min"
location = { lat = 50.2, lon = 8.2 }
)";
  {
    fi::ReadingStore store(dir + "/readings.db");
    // fresh: 10 min ago (limit 45 min); old: 2 h ago.
    store.Write(
        {At("fresh", std::chrono::minutes(10), 412.0), At("old", std::chrono::minutes(120), 97.5)});
  }
  const std::string args =
      "stations --store " + dir + "/readings.db --stations " + dir + "/stations.toml";
  const CmdResult r = Floodwarn(args);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string fresh = Line(r.output, "fresh"), old = Line(r.output, "old"),
                    silent = Line(r.output, "silent");
  ASSERT_FALSE(fresh.empty()) << r.output;
  EXPECT_NE(fresh.find("412.00"), std::string::npos) << fresh;
  EXPECT_NE(fresh.find("pass"), std::string::npos) << fresh;
  EXPECT_NE(fresh.find(" ok"), std::string::npos) << fresh;
  EXPECT_NE(old.find("97.50"), std::string::npos) << old;
  EXPECT_NE(old.find("STALE"), std::string::npos) << old;
  EXPECT_NE(silent.find("STALE (no reading)"), std::string::npos) << silent;

  const CmdResult strict = Floodwarn(args + " --fail-on-stale");
  EXPECT_EQ(strict.exit_code, 4) << strict.output;
}

}  // namespace
