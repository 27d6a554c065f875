// Forcing: IDW rain fields (hand-computed weights), rain gauges located
// through their CRS, inflow hydrographs through the rating, the nowcast.
#include <gtest/gtest.h>

#include <cmath>

#include "floodwarn/ingest/forcing.hpp"

namespace fi = floodwarn::ingest;
namespace gr = floodwarn::grids;
using namespace std::chrono_literals;

namespace {

gr::GeoTransform Grid(double x_west, double y_north, double cell) {
  gr::GeoTransform gt;
  gt.x_west = x_west;
  gt.y_north = y_north;
  gt.cell_width = gt.cell_height = cell;
  return gt;
}

fi::Reading R(const std::string& id, int minutes, double v, fi::QcFlag f = fi::QcFlag::kPass) {
  fi::Reading r;
  r.station_id = id;
  r.observed = fi::TimePoint(std::chrono::minutes(minutes));
  r.value = v;
  r.flag = f;
  return r;
}

}  // namespace

TEST(Forcing, IdwHandComputed) {
  // 4 x 1 cells of 1 m, centres at x = 0.5, 1.5, 2.5, 3.5 (y = 0.5).
  const auto gt = Grid(0, 1, 1);
  const std::vector<fi::GaugePoint> g = {{0.5, 0.5, 10.0}, {3.5, 0.5, 2.0}};
  const gr::RasterD f = fi::IdwField(g, gt, 4, 1, "");
  EXPECT_DOUBLE_EQ(f(0, 0), 10.0);  // on the gauge
  EXPECT_DOUBLE_EQ(f(3, 0), 2.0);
  // x = 1.5: distances 1 and 2 -> weights 1 and 1/4 -> (10 + 2/4) / 1.25 = 8.4
  EXPECT_DOUBLE_EQ(f(1, 0), 8.4);
  // x = 2.5: distances 2 and 1 -> (10/4 + 2) / 1.25 = 3.6
  EXPECT_DOUBLE_EQ(f(2, 0), 3.6);
  fi::IdwOptions o;
  o.power = 1;
  EXPECT_NEAR(fi::IdwField(g, gt, 4, 1, "", o)(1, 0), (10.0 + 2.0 / 2) / 1.5, 1e-12);
  o.max_distance = 1.5;  // only the nearer gauge counts, farther cells see none
  const gr::RasterD m = fi::IdwField({{0.5, 0.5, 10.0}}, gt, 4, 1, "", o);
  EXPECT_DOUBLE_EQ(m(1, 0), 10.0);
  EXPECT_TRUE(std::isnan(m(2, 0)));
  EXPECT_TRUE(std::isnan(fi::IdwField({}, gt, 4, 1, "")(0, 0)));
}

TEST(Forcing, RainGaugesFromReadings) {
  // Two hourly gauges given in EPSG:25832, a grid in the same CRS: 4 mm in
  // the hour -> 4 mm/h; a failed reading of a third gauge is not used.
  fi::Station a, b, c;
  a.id = "a";
  b.id = "b";
  c.id = "c";
  for (fi::Station* s : {&a, &b, &c}) {
    s->kind = fi::Quantity::kRainfall;
    s->unit = "mm";
    s->expected_interval = 3600s;
    s->location.epsg = 25832;
    s->location.y = 5500500;
  }
  a.location.x = 300500;
  b.location.x = 303500;
  c.location.x = 301500;
  const fi::StationRegistry reg({a, b, c});
  const std::vector<fi::Reading> rs = {R("a", 60, 4.0), R("b", 60, 1.0),
                                       R("c", 60, 50.0, fi::QcFlag::kFail), R("a", 120, 99)};
  const auto gt = Grid(300000, 5501000, 1000);
  const gr::RasterD f =
      fi::RainGaugeField(reg, rs, fi::TimePoint(std::chrono::minutes(30)), gt, 4, 1, "EPSG:25832");
  EXPECT_NEAR(f(0, 0), 4.0, 1e-9);
  EXPECT_NEAR(f(3, 0), 1.0, 1e-9);
  EXPECT_NEAR(f(1, 0), (4.0 + 1.0 / 4) / 1.25, 1e-9);  // the failed 50 mm is ignored
  // At t = 60 min the reading observed at 60 (interval (0, 60]) still applies.
  EXPECT_NEAR(fi::RainGaugeField(reg, rs, fi::TimePoint(60min), gt, 4, 1, "EPSG:25832")(0, 0), 4.0,
              1e-9);
  // A lat/lon gauge onto a UTM grid: 9 E on the central meridian of zone 32.
  fi::Station d = a;
  d.location = {};
  d.location.lat = 50.0;
  d.location.lon = 9.0;
  const fi::StationRegistry reg2({d});
  const auto gt2 = Grid(499500, 5540000, 1000);  // one cell around x = 500000
  const gr::RasterD g2 =
      fi::RainGaugeField(reg2, {R("a", 60, 2.0)}, fi::TimePoint(30min), gt2, 1, 200, "EPSG:25832");
  EXPECT_NEAR(g2(0, 0), 2.0, 1e-9);
}

TEST(Forcing, InflowHydrographThroughTheRating) {
  fi::Station s;
  s.id = "w";
  s.kind = fi::Quantity::kWaterLevel;
  s.unit = "cm";
  fi::RatingCurve c;
  c.max_gauged_stage = 300;
  c.segments.push_back({0, 1000, 0.01, 2.0, 10});
  s.ratings.push_back(c);
  std::vector<fi::Reading> rs = {R("w", 30, 110), R("w", 0, 60), R("w", 15, 70, fi::QcFlag::kFail),
                                 R("w", 45, 310, fi::QcFlag::kSuspect), R("other", 0, 1)};
  for (auto& r : rs) r.unit = "cm";
  const fi::Hydrograph h = fi::InflowHydrograph(s, rs);
  ASSERT_EQ(h.points.size(), 3u);
  EXPECT_EQ(h.points[0].t, fi::TimePoint(0min));
  EXPECT_DOUBLE_EQ(h.points[0].discharge, 0.01 * 50 * 50);  // 25 m3/s
  EXPECT_DOUBLE_EQ(h.points[1].discharge, 0.01 * 100 * 100);
  EXPECT_DOUBLE_EQ(h.points[2].discharge, 0.01 * 300 * 300);
  EXPECT_TRUE(h.points[2].extrapolated);
  ASSERT_EQ(h.warnings.size(), 1u);  // the failed reading
  EXPECT_NE(h.warnings[0].find("fail"), std::string::npos);
  // A discharge station in l/s.
  fi::Station q;
  q.id = "q";
  q.kind = fi::Quantity::kDischarge;
  q.unit = "l/s";
  fi::Reading r = R("q", 0, 2500);
  r.unit = "l/s";
  EXPECT_DOUBLE_EQ(fi::InflowHydrograph(q, {r}).points.at(0).discharge, 2.5);
}

TEST(Forcing, NowcastDecays) {
  EXPECT_DOUBLE_EQ(fi::NowcastValue(10, 0s, 3600s), 10);
  EXPECT_NEAR(fi::NowcastValue(10, 3600s, 3600s), 10 / std::exp(1.0), 1e-12);
  EXPECT_NEAR(fi::NowcastValue(10, 7200s, 3600s), 10 / std::exp(2.0), 1e-12);
  EXPECT_DOUBLE_EQ(fi::NowcastValue(10, 7200s, 0s), 10);  // pure persistence
  gr::RasterD r(2, 1, Grid(0, 1, 1), 8.0);
  r(1, 0) = -9999;
  r.set_nodata(-9999.0);
  const gr::RasterD n = fi::NowcastRain(r, 1800s, 1800s);
  EXPECT_NEAR(n(0, 0), 8 / std::exp(1.0), 1e-12);
  EXPECT_EQ(n(1, 0), -9999);  // nodata stays nodata
}
