// serve.toml [forecast] (docs/FORECAST.md): a good table loads with its
// values, and every documented error names the file, the line and the key.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "floodwarn/common/config_error.hpp"
#include "floodwarn/common/toml_reader.hpp"
#include "floodwarn/forecast/loop.hpp"
#include "floodwarn/ingest/stations.hpp"
#include "test_support.hpp"

namespace floodwarn {
namespace {

class ForecastConfigTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = testing::MakeTempDir("floodwarn_fcfg"); }
  common::TomlFile Write(const std::string& body) {
    const std::string path = dir_ + "/serve.toml";
    std::ofstream(path) << body;
    return common::ReadTomlFile(path, "service config");
  }
  static std::string Good() {
    return R"(
[forecast]
scenario = "town/town.toml"
interval = "10m"
lead_time = "2h"
output_interval = "5m"
zones = "zones.geojson"
zone_depths = [0.2, 0.5]
rain_stations = ["rain_1"]
[[forecast.inflow]]
station = "river_q"
boundary = "river"
forecast = "recession"
recession_time = "3h"
base_flow = 1.5
[[forecast.point]]
id = "underpass"
x = 315.0
y = 215.0
)";
  }
  // Loads `body` and expects a ConfigError whose message names `key` and `also`.
  void ExpectError(const std::string& body, const std::string& key, const std::string& also) {
    const common::TomlFile f = Write(body);
    try {
      forecast::ParseForecastConfig(f);
      ADD_FAILURE() << "no error for " << key;
    } catch (const common::ConfigError& e) {
      const std::string m = e.what();
      EXPECT_NE(m.find(f.path), std::string::npos) << m;
      EXPECT_NE(m.find(key), std::string::npos) << "expected '" << key << "' in: " << m;
      EXPECT_NE(m.find(also), std::string::npos) << "expected '" << also << "' in: " << m;
    }
  }
  std::string dir_;
};

TEST_F(ForecastConfigTest, AGoodTableLoadsWithItsValues) {
  const auto c = forecast::ParseForecastConfig(Write(Good()));
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->scenario, dir_ + "/town/town.toml");
  EXPECT_EQ(c->state_dir, dir_ + "/forecast");
  EXPECT_EQ(c->interval.count(), 600);
  EXPECT_EQ(c->lead_time.count(), 7200);
  EXPECT_EQ(c->zones_file, dir_ + "/zones.geojson");
  EXPECT_EQ(c->zone_depths, (std::vector<double>{0.2, 0.5}));
  ASSERT_EQ(c->inflows.size(), 1u);
  EXPECT_TRUE(c->inflows[0].recession);
  EXPECT_EQ(c->inflows[0].recession_time.count(), 10800);
  EXPECT_DOUBLE_EQ(c->inflows[0].base_flow, 1.5);
  ASSERT_EQ(c->points.size(), 1u);
  EXPECT_EQ(c->points[0].id, "underpass");
  // No [forecast]: no loop.
  EXPECT_FALSE(forecast::ParseForecastConfig(Write("[other]\nx = 1\n")).has_value());
}

TEST_F(ForecastConfigTest, EveryErrorNamesTheKey) {
  const std::string g = Good();
  auto with = [&](const std::string& from, const std::string& to) {
    std::string s = g;
    const auto at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return s.replace(at, from.size(), to);
  };
  ExpectError(with("scenario = \"town/town.toml\"\n", ""), "forecast.scenario", "required");
  ExpectError(with("interval = \"10m\"", "interval = 600"), "forecast.interval", "\"600s\"");
  ExpectError(with("interval = \"10m\"", "interval = \"7m\""), "forecast.output_interval",
              "whole multiple");
  ExpectError(with("lead_time = \"2h\"", "lead_time = \"5m\"\nanalysis_lag = \"10m\""),
              "forecast.analysis_lag", "shorter");
  ExpectError(with("zone_depths = [0.2, 0.5]", "zone_depths = [0.5, 0.2]"), "forecast.zone_depths",
              "increasing");
  ExpectError(with("boundary = \"river\"", "boundary = \"river\"\ninflow = \"pipe\""),
              "forecast.inflow[0].boundary", "either");
  ExpectError(with("forecast = \"recession\"", "forecast = \"guess\""),
              "forecast.inflow[0].forecast", "persistence");
  ExpectError(with("lead_time = \"2h\"", "lead_time = \"2h\"\nleadtime = \"1h\""),
              "forecast.leadtime", "unknown");
  ExpectError("[forecast]\nscenario = \"t.toml\"\nrain_stations = [\"r\"]\n", "forecast.point",
              "about");
  ExpectError("[forecast]\nscenario = \"t.toml\"\nzones = \"z.geojson\"\n", "forecast.inflow",
              "no forcing");
}

TEST_F(ForecastConfigTest, StationsMustBeRegisteredAndMeasureWhatTheyDrive) {
  const auto c = forecast::ParseForecastConfig(Write(Good()));
  ASSERT_TRUE(c.has_value());
  ingest::Station q;
  q.id = "river_q";
  q.kind = ingest::Quantity::kDischarge;
  ingest::Station rain;
  rain.id = "rain_1";
  rain.kind = ingest::Quantity::kRainfall;
  EXPECT_NO_THROW(forecast::CheckForecastStations(*c, ingest::StationRegistry({q, rain})));
  try {
    forecast::CheckForecastStations(*c, ingest::StationRegistry({q}));
    ADD_FAILURE() << "an unregistered rain gauge passed";
  } catch (const common::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("rain_1"), std::string::npos) << e.what();
  }
  rain.kind = ingest::Quantity::kWaterLevel;
  EXPECT_THROW(forecast::CheckForecastStations(*c, ingest::StationRegistry({q, rain})),
               common::ConfigError);
}

}  // namespace
}  // namespace floodwarn
