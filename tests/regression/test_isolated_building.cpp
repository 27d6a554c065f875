// Dam break against an isolated building: the UCL flume experiment of
// Soares-Frazao & Zech (2007), "Experimental study of dam-break flow against
// an isolated obstacle", J. Hydraulic Research 45 sup1, 27-36 (also UK EA
// benchmark test 6A, Neelz & Pender 2013). Measured depths at gauges G1-G6.
//
// Data: ../shared/validation/isolated_building_soares2007/ (gauge depths at
// 0.01 s for 30 s, gauge positions in the paper's frame: flume x = x + 7.55,
// y = y + 1.80).
//
// Set-up decisions (geometry from the shared README / the paper):
//  - 0.1 m cells; the grid starts at x = -0.05 so that cell faces fall on the
//    dam walls' faces (x = 6.75 and 7.55) and the gate edges (y = 1.3, 2.3).
//    The reservoir is then 6.80 m long instead of 6.75 m (+0.7 % volume, well
//    inside the 0.15 m uncertainty of the reservoir length in the sources).
//    The flume ends at x = 35.75 (free outflow; the wave reaches it only
//    after the gauges' 30 s of record matter little).
//  - dam walls and the building are inactive cells (centre inside the
//    polygon); the reservoir's side slopes z = 0.155/0.34 (0.34 - y) and
//    0.155/0.34 (y - 3.26) apply for x < 6.75 (the shared README's reading;
//    SWALS' example applies them along the whole flume).
//  - initial level 0.40 m upstream of x = 6.75 and 0.02 m downstream (the
//    paper's thin downstream layer, also SWALS' and the EA test's set-up);
//    the gauges, which read 0 at t = 0 downstream, are compared as measured.
//  - Manning n = 0.010 (paper); walls on all sides but the downstream end.
//  - depths sampled every 0.1 s for 30 s (the length of the record).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "checked.hpp"
#include "floodwarn/solver/solver.hpp"
#include "test_support.hpp"
#include "validation_io.hpp"

namespace {

namespace fs = floodwarn::solver;
namespace fv = floodwarn::validation;

struct Pt {
  double x, y;
};

bool InPolygon(const std::vector<Pt>& poly, double x, double y) {
  bool inside = false;
  for (std::size_t a = 0, b = poly.size() - 1; a < poly.size(); b = a++) {
    if ((poly[a].y > y) != (poly[b].y > y) &&
        x < (poly[b].x - poly[a].x) * (y - poly[a].y) / (poly[b].y - poly[a].y) + poly[a].x)
      inside = !inside;
  }
  return inside;
}

// Downstream initial depth (m): the paper's thin layer.
constexpr double kDownstreamDepth = 0.02;

struct GaugeResult {
  std::string name;
  double rmse = 0;
  double t_arrival_model = NAN;
  double t_arrival_measured = NAN;
};

std::vector<GaugeResult> RunIsolatedBuilding(const std::string& gauges_h,
                                             const std::string& positions) {
  fs::Domain d;
  d.dx = d.dy = 0.1;
  d.x_west = -0.05;
  d.y_south = 0.0;
  d.nx = 358;
  d.ny = 36;
  const std::size_t n = static_cast<std::size_t>(d.nx) * d.ny;
  d.bed.assign(n, 0.0);
  d.active.assign(n, 1);
  d.manning = {0.010};  // Soares-Frazao & Zech (2007)
  const std::vector<Pt> building = {
      {10.99, 1.75}, {11.340697, 2.469035}, {11.700215, 2.293687}, {11.349518, 1.574652}};
  fs::HostState init;
  init.h.assign(n, 0.0);
  for (int j = 0; j < d.ny; ++j) {
    for (int i = 0; i < d.nx; ++i) {
      const double x = d.CellX(i), y = d.CellY(j);
      const std::size_t k = d.Index(i, j);
      const bool dam = x >= 6.75 && x <= 7.55 && (y <= 1.3 || y >= 2.3);
      if (dam || InPolygon(building, x, y)) d.active[k] = 0;
      if (x < 6.75) {
        if (y < 0.34) d.bed[k] = 0.155 / 0.34 * (0.34 - y);
        if (y > 3.26) d.bed[k] = 0.155 / 0.34 * (y - 3.26);
        init.h[k] = std::max(0.0, 0.40 - d.bed[k]);
      } else {
        init.h[k] = kDownstreamDepth;
      }
    }
  }
  fs::Solver s(d, floodwarn::testing::Checked());
  s.SetState(init);
  fs::BoundarySegment out;
  out.edge = fs::Edge::kEast;
  out.kind = fs::BoundaryKind::kOutflow;
  out.name = "downstream";
  s.SetBoundaries({out});

  const auto measured = fv::ReadTable(gauges_h);
  const auto pts = fv::ReadNamedPoints(positions);
  std::vector<std::size_t> cells;
  for (const auto& p : pts) {
    int i = 0, j = 0;
    if (!d.CellOf(p.x + 7.55, p.y + 1.80, i, j)) throw std::runtime_error("gauge outside grid");
    cells.push_back(d.Index(i, j));
  }

  const double dt_sample = 0.1, t_end = 30.0;
  std::vector<double> times;
  std::vector<std::vector<double>> model(pts.size());
  for (int k = 0; k <= static_cast<int>(std::lround(t_end / dt_sample)); ++k) {
    const double t = k * dt_sample;
    if (k > 0) s.AdvanceTo(t);
    const auto h = s.Download().h;
    times.push_back(t);
    for (std::size_t g = 0; g < pts.size(); ++g) model[g].push_back(h[cells[g]]);
  }

  const auto& tm = measured.Column("t");
  std::vector<GaugeResult> out_results;
  for (std::size_t g = 0; g < pts.size(); ++g) {
    const auto& hm = measured.Column(pts[g].name);
    std::vector<double> ref;
    for (double t : times) ref.push_back(fv::Interpolate(tm, hm, t));
    GaugeResult r;
    r.name = pts[g].name;
    r.rmse = fv::Compare(model[g], ref).rmse;
    // Arrival: the depth first rises 0.01 m above its value at t = 0 (works
    // for the wet model bed and the zeroed downstream gauges alike). G6 sits
    // in the reservoir, where the level falls; it has no arrival.
    if (ref.front() < 0.1) {
      auto rise = [](std::vector<double> v) {
        const double v0 = v.front();
        for (double& x : v) x -= v0;
        return v;
      };
      r.t_arrival_model = fv::ArrivalTime(times, rise(model[g]), 0.01);
      r.t_arrival_measured = fv::ArrivalTime(times, rise(ref), 0.01);
    }
    std::printf(
        "%s: RMSE %.4f m, arrival model %.2f s measured %.2f s; h(5 s) %.3f/%.3f, "
        "h(20 s) %.3f/%.3f (model/measured)\n",
        r.name.c_str(), r.rmse, r.t_arrival_model, r.t_arrival_measured, model[g][50], ref[50],
        model[g][200], ref[200]);
    out_results.push_back(r);
  }
  const auto& mb = s.mass_balance();
  std::printf("mass balance: relative error %.2e, net out %.3f m3\n", mb.RelativeError(),
              mb.BoundaryNetOut());
  return out_results;
}

// Tolerances:
//  - RMSE per gauge <= 0.05 m over 0-30 s. Published models reach RMSEs of
//    about 0.02-0.05 m at these gauges: Soares-Frazao & Zech (2007) compare
//    several first- and second-order finite-volume codes whose curves depart
//    from the measurements by a few cm after the bore passes, and the EA
//    benchmark (Neelz & Pender 2013, test 6A) finds a spread of several cm
//    between packages at 0.1 m resolution, partly because shock positions
//    move with friction and resolution (G2, behind the jump that forms
//    upstream of the building, is the most sensitive; SWALS' example notes
//    the same). A first-order scheme sits at the upper end of that range.
//  - travel time of the front between gauges (G1->G3, G2->G4, G1->G5) within
//    0.3 s of the measured one: 0.3 s is ~0.6 m of bore travel (6 cells),
//    and the gauges are sampled at 0.1 s.
//  - absolute arrival within 1.0 s. The measured fronts reach G1-G5 0.83-0.89 s
//    earlier than this model at every gauge. They cannot be reproduced from
//    rest at t = 0 by any shallow-water model: G2 (3.45 m from the dam face)
//    is reached at 0.83 s, i.e. at 4.2 m/s on average, faster than the tip of
//    a dam break on a DRY bed, 2 sqrt(g 0.4) = 3.96 m/s, and twice the speed
//    of the Stoker bore into the 0.02 m layer (2.09 m/s, which the model
//    matches: 3.45 m in 1.67 s). We read this as a time-origin offset of the
//    record (clock started after the gate began to open); the travel times
//    between gauges, which do not depend on the origin, agree within 0.05 s.
//    1.0 s bounds that offset; a slower front (e.g. excess friction) fails it.
constexpr double kRmseTol = 0.05;
constexpr double kTravelTol = 0.3;
constexpr double kArrivalTol = 1.0;

TEST(IsolatedBuilding, GaugeDepths) {
  FLOODWARN_REQUIRE_SHARED(h, "validation/isolated_building_soares2007/building_gauges_h.txt");
  FLOODWARN_REQUIRE_SHARED(p, "validation/isolated_building_soares2007/gauges_positions.txt");
  const auto results = RunIsolatedBuilding(h, p);
  ASSERT_EQ(results.size(), 6u);
  for (const auto& r : results) {
    EXPECT_LE(r.rmse, kRmseTol) << r.name;  // see kRmseTol: Soares-Frazao & Zech 2007, EA 6A
    if (!std::isnan(r.t_arrival_measured)) {
      ASSERT_FALSE(std::isnan(r.t_arrival_model)) << r.name << ": the wave never arrives";
      // see kArrivalTol: time origin of the record
      EXPECT_LE(std::abs(r.t_arrival_model - r.t_arrival_measured), kArrivalTol) << r.name;
    }
  }
  // Travel times between gauges (G1 = 0, G2 = 1, ...).
  for (auto [a, b] : {std::pair{0, 2}, std::pair{1, 3}, std::pair{0, 4}}) {
    const auto& ra = results[a];
    const auto& rb = results[b];
    const double model = rb.t_arrival_model - ra.t_arrival_model;
    const double measured = rb.t_arrival_measured - ra.t_arrival_measured;
    std::printf("travel %s->%s: model %.2f s, measured %.2f s\n", ra.name.c_str(), rb.name.c_str(),
                model, measured);
    EXPECT_LE(std::abs(model - measured), kTravelTol)  // see kTravelTol: 0.6 m of bore travel
        << ra.name << "->" << rb.name;
  }
}

}  // namespace
