// Station registry: parsing, validation messages (file, line, station, key),
// versioned gauge zeros and ratings, the example registry under configs/.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "floodwarn/ingest/stations.hpp"
#include "test_support.hpp"

namespace fi = floodwarn::ingest;
using namespace std::chrono_literals;

namespace {

const char* kGood = R"(
[[station]]
id = "kyll-01"
name = "Kyll / Brücke Nord"
kind = "water_level"
unit = "cm"
expected_interval = "15min"
location = { lat = 50.05, lon = 6.62 }

[[station.gauge_zero]]
value = 250.12
unit = "m NHN"
valid_from = 2000-01-01T00:00:00Z

[[station.gauge_zero]]
value = 250.02
unit = "m NHN"
valid_from = 2021-07-20T12:00:00+02:00

[station.qc]
gross_min = 0
gross_max = 800
climate_min = 20
climate_max = 600
spike_suspect = 30
spike_fail = 80
max_rate_per_hour = 120
flat_suspect_count = 3
flat_fail_count = 5
flat_epsilon = 0.5
climate_monthly_max = [300, 300, 400, 400, 400, 500, 500, 500, 400, 400, 300, 300]

[[station.rating]]
valid_from = 2000-01-01
valid_to = 2021-07-15T00:00:00Z
max_gauged_stage = 350
[[station.rating.segment]]
h_min = 10
h_max = 120
a = 0.02
b = 1.6
h0 = 10
[[station.rating.segment]]
h_min = 120
h_max = 900
a = 0.05
b = 1.45
h0 = 25

[[station]]
id = "rain-bitburg"
kind = "rainfall"
unit = "mm"
expected_interval = "1h"
location = { x = 325000.0, y = 5540000.0, epsg = 25832 }
)";

fi::TimePoint Utc(int y, int mo, int d, int h = 0, int mi = 0) {
  // days from civil, independent of the code under test
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  return fi::TimePoint(std::chrono::seconds(timegm(&tm)));
}

std::string ErrorOf(const std::string& text) {
  try {
    fi::ParseStations(text, "st.toml");
  } catch (const fi::StationConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST(Stations, ParsesAllFields) {
  const fi::StationRegistry reg = fi::ParseStations(kGood, "st.toml");
  ASSERT_EQ(reg.size(), 2u);
  const fi::Station* s = reg.Find("kyll-01");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->name, "Kyll / Brücke Nord");
  EXPECT_EQ(s->kind, fi::Quantity::kWaterLevel);
  EXPECT_EQ(s->unit, "cm");
  EXPECT_EQ(s->expected_interval, 900s);
  EXPECT_DOUBLE_EQ(*s->location.lat, 50.05);
  ASSERT_EQ(s->gauge_zeros.size(), 2u);
  // 2021-07-20T12:00:00+02:00 is 10:00 UTC
  EXPECT_EQ(s->gauge_zeros[1].valid_from, Utc(2021, 7, 20, 10));
  EXPECT_DOUBLE_EQ(*s->qc.gross_max, 800);
  EXPECT_EQ(s->qc.flat_fail_count, 5);
  ASSERT_TRUE(s->qc.climate_monthly_max.has_value());
  EXPECT_DOUBLE_EQ((*s->qc.climate_monthly_max)[5], 500);
  EXPECT_DOUBLE_EQ(s->qc.stale_factor, 2.0);  // default
  ASSERT_EQ(s->ratings.size(), 1u);
  EXPECT_EQ(s->ratings[0].segments.size(), 2u);
  EXPECT_EQ(s->ratings[0].valid_from, Utc(2000, 1, 1));
  const fi::Station* r = reg.Find("rain-bitburg");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->name, "rain-bitburg");  // defaults to the id
  EXPECT_EQ(r->expected_interval, 3600s);
  EXPECT_EQ(r->location.epsg, 25832);
  EXPECT_EQ(reg.Find("nope"), nullptr);
}

TEST(Stations, GaugeZeroAndRatingPickedByObservationTime) {
  const fi::StationRegistry reg = fi::ParseStations(kGood, "st.toml");
  const fi::Station& s = *reg.Find("kyll-01");
  EXPECT_EQ(s.GaugeZeroAt(Utc(1999, 12, 31, 23, 59)), nullptr);
  EXPECT_DOUBLE_EQ(s.GaugeZeroAt(Utc(2000, 1, 1))->value, 250.12);
  EXPECT_DOUBLE_EQ(s.GaugeZeroAt(Utc(2021, 7, 20, 9, 59))->value, 250.12);
  EXPECT_DOUBLE_EQ(s.GaugeZeroAt(Utc(2021, 7, 20, 10, 0))->value, 250.02);
  EXPECT_NE(s.RatingAt(Utc(2021, 7, 14, 23, 59)), nullptr);
  EXPECT_EQ(s.RatingAt(Utc(2021, 7, 15)), nullptr);  // valid_to is exclusive
}

TEST(Stations, ProjectedLocationToWgs84) {
  // EPSG:25832 (UTM 32N) easting 500000 is the central meridian 9 E; northing
  // 5540000 m at k0 = 0.9996 is about 50.0 N (5540000 / 0.9996 = 5542217 m of
  // meridian arc; the GRS80 arc to 50 N is 5540847 m, 1 minute = 1853 m).
  fi::Location loc;
  loc.x = 500000.0;
  loc.y = 5540000.0;
  loc.epsg = 25832;
  auto ll = fi::ToWgs84(loc);
  ASSERT_TRUE(ll.has_value());
  EXPECT_NEAR(ll->second, 9.0, 1e-9);
  EXPECT_NEAR(ll->first, 50.0 + (5542217.0 - 5540847.0) / 1853.8 / 60.0, 1e-4);
  loc.epsg = 999999;
  EXPECT_FALSE(fi::ToWgs84(loc).has_value());
}

TEST(Stations, UnknownKeyNamesFileLineStationAndKey) {
  std::string text = kGood;
  text.replace(text.find("flat_epsilon = 0.5"), 18, "flat_epsilom = 0.5");
  const std::string e = ErrorOf(text);
  EXPECT_NE(e.find("st.toml:30:"), std::string::npos) << e;
  EXPECT_NE(e.find("station 'kyll-01'"), std::string::npos) << e;
  EXPECT_NE(e.find("station[0].qc.flat_epsilom"), std::string::npos) << e;
  EXPECT_NE(e.find("unknown key"), std::string::npos) << e;
}

TEST(Stations, ValidationErrors) {
  auto with = [](const std::string& from, const std::string& to) {
    std::string t = kGood;
    const auto p = t.find(from);
    EXPECT_NE(p, std::string::npos) << from;
    t.replace(p, from.size(), to);
    return ErrorOf(t);
  };
  EXPECT_NE(with("kind = \"rainfall\"", "kind = \"rain\"").find("expected water_level"),
            std::string::npos);
  EXPECT_NE(with("unit = \"cm\"", "unit = \"m3/s\"").find("station[0].unit"), std::string::npos);
  EXPECT_NE(with("\"15min\"", "\"15 minutes\"").find("expected_interval"), std::string::npos);
  EXPECT_NE(with("gross_max = 800", "gross_max = -1").find("gross_max"), std::string::npos);
  EXPECT_NE(with("lat = 50.05", "lat = 95.0").find("outside [-90, 90]"), std::string::npos);
  EXPECT_NE(with("h_min = 120", "h_min = 130").find("contiguous"), std::string::npos);
  EXPECT_NE(with("b = 1.6", "b = 0").find("segment[0].b"), std::string::npos);
  EXPECT_NE(with("300, 300]", "300]").find("12 numbers"), std::string::npos);
  EXPECT_NE(with("valid_from = 2021-07-20T12:00:00+02:00", "valid_from = 1990-01-01T00:00:00Z")
                .find("ascending"),
            std::string::npos);
  EXPECT_NE(
      with("valid_from = 2000-01-01T00:00:00Z", "valid_from = 2000-01-01T00:00:00").find("offset"),
      std::string::npos);
  EXPECT_NE(with("id = \"rain-bitburg\"", "id = \"kyll-01\"").find("duplicate"), std::string::npos);
  EXPECT_NE(with("id = \"rain-bitburg\"", "id = \"rain bitburg\"").find("station[1].id"),
            std::string::npos);
  EXPECT_NE(with(", epsg = 25832", "").find("x, y and epsg"), std::string::npos);
  // A rating on a rain gauge is a mistake.
  std::string t = kGood;
  t += "[[station.rating]]\nvalid_from = 2000-01-01\n";
  EXPECT_NE(ErrorOf(t).find("needs a water_level"), std::string::npos);
  EXPECT_NE(ErrorOf("[[station]]\nid = \"x\"\nkind = ").find("st.toml:3: TOML syntax error"),
            std::string::npos);
}

TEST(Stations, ExampleRegistryLoads) {
  const std::string path = floodwarn::testing::SourceDir() + "/configs/ingest/stations.toml";
  const fi::StationRegistry reg = fi::LoadStations(path);
  EXPECT_GE(reg.size(), 3u);
  for (const auto& s : reg.stations()) {
    EXPECT_TRUE(fi::ToWgs84(s.location).has_value()) << s.id;
    EXPECT_GT(s.expected_interval.count(), 0) << s.id;
  }
}

TEST(Stations, Durations) {
  EXPECT_EQ(*fi::ParseDuration("15min"), 900s);
  EXPECT_EQ(*fi::ParseDuration("2h"), 7200s);
  EXPECT_EQ(*fi::ParseDuration("1d"), 86400s);
  EXPECT_FALSE(fi::ParseDuration("0s"));
  EXPECT_FALSE(fi::ParseDuration("15"));
  EXPECT_FALSE(fi::ParseDuration("min"));
  EXPECT_FALSE(fi::ParseDuration("1.5h"));
  // The one grammar of every config (docs/DURATIONS.md): the rules file's
  // spellings too, in whole seconds.
  EXPECT_EQ(*fi::ParseDuration("15m"), 900s);
  EXPECT_EQ(*fi::ParseDuration("1h30m"), 5400s);
  EXPECT_EQ(*fi::ParseDuration("2000ms"), 2s);
  EXPECT_FALSE(fi::ParseDuration("1500ms"));
}
