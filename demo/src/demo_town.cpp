// The demo town generator: closed-form terrain, a street grid, perimeter
// blocks and a railway with an underpass. Every random choice comes from a
// hash of fixed integers (splitmix64), never from a stateful generator or a
// standard distribution, so the output is the same on every platform.
#include "floodwarn/demo/demo_town.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "floodwarn/common/atomic_file.hpp"
#include "floodwarn/grids/raster.hpp"

namespace floodwarn::demo {
namespace {

namespace fs = std::filesystem;

// Bump when the generated files change, so old folders are regenerated.
constexpr const char* kVersionLine =
    "# floodwarn demo town v3 (written by `floodwarn demo`; delete this folder to regenerate)";

// Grid: 1400 x 720 cells of 2 m = 2.8 km x 1.44 km (1.008 M cells, the
// 1-2 M the demo issue asks for). The time step is set by the river and the
// flooded underpass (about 0.1 s at 2 m), so one hour of event is ~37 000
// steps (docs/PERFORMANCE.md, "The demo town", has the measured run time).
constexpr int kCols = 1400;
constexpr int kRows = 720;
constexpr double kCell = 2.0;
// Fictitious coordinates in the style of ETRS89 / UTM zone 32N (m).
constexpr double kXWest = 356000.0;
constexpr double kYSouth = 5595000.0;
constexpr double kWidth = kCols * kCell;
constexpr double kHeight = kRows * kCell;
constexpr double kNodata = -9999.0;
constexpr double kPi = 3.14159265358979323846;

constexpr double kEndS = 3600.0;  // simulated duration (s)
constexpr std::uint64_t kSeed = 0x466c6f6f64ULL;

// River: bed falls 2 m/km eastwards; trapezoidal channel 12 m at the bottom,
// banks 1.8 m high over 4 m on each side (bankfull about 50 m3/s).
constexpr double kBedWest = 100.0;
constexpr double kBedSlope = 0.002;
constexpr double kChannelHalfBottom = 6.0;
constexpr double kChannelHalfTop = 10.0;
constexpr double kBankHeight = 1.8;
constexpr double kManningRiver = 0.03;
constexpr double kBaseFlow = 4.0;  // m3/s

// Town on the north bank. Streets are given in (lx, d): lx metres east of
// the west edge, d metres north of the river's centre line (so E-W streets
// follow the river's bends, as old towns do).
constexpr double kStreetHalf = 4.0;
const double kEwStreets[] = {60.0, 130.0, 200.0, 270.0, 390.0};
// North-south streets every 110 m from 250 m to 2340 m (the old town in the
// west, newer quarters to the east).
const double kNsStreets[] = {250.0,  360.0,  470.0,  580.0,  690.0,  800.0,  910.0,
                             1020.0, 1130.0, 1240.0, 1350.0, 1460.0, 1570.0, 1680.0,
                             1790.0, 1900.0, 2010.0, 2120.0, 2230.0, 2340.0};
constexpr double kTownWest = 250.0;
constexpr double kTownEast = 2340.0;
constexpr double kRailD = 330.0;  // railway embankment centre line
constexpr double kRailHeight = 4.0;
constexpr double kRailHalfTop = 5.0;
constexpr double kRailHalfBase = 11.0;
constexpr double kUnderpassX = 580.0;  // the N-S street that passes under the railway
constexpr double kUnderpassDepth = 2.8;
constexpr double kUnderpassFlat = 15.0;  // half length of the deepest part
constexpr double kUnderpassRamp = 30.0;  // length of each ramp
// Culverts (Durchlaesse) under the railway, 4 m wide at ground level, where
// the brooks from the northern hillside pass the embankment; without them
// the embankment would dam the hillside's runoff into a lake along the valley.
const double kCulverts[] = {140.0, 415.0, 745.0, 1075.0, 1405.0, 1735.0, 2065.0, 2395.0, 2725.0};
constexpr double kCulvertHalf = 2.0;
// Special blocks (west street, south street of the block).
constexpr double kSchoolBlockX = 360.0;
constexpr double kSchoolBlockD = 60.0;
constexpr double kHospitalBlockX = 800.0;
constexpr double kHospitalBlockD = 200.0;
constexpr double kGaugeX = 150.0;

enum class Land { kGrass, kForest, kRiver, kStreet, kPaved, kGarden, kRail, kBuilding };

double Manning(Land l) {
  switch (l) {
    case Land::kGrass:
      return 0.035;
    case Land::kForest:
      return 0.08;
    case Land::kRiver:
      return kManningRiver;
    case Land::kStreet:
      return 0.015;
    case Land::kPaved:
      return 0.016;
    case Land::kGarden:
      return 0.045;
    case Land::kRail:
      return 0.04;
    case Land::kBuilding:
      break;
  }
  return kNodata;
}

std::uint64_t SplitMix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::uint64_t Hash(std::uint64_t a, std::uint64_t b = 0, std::uint64_t c = 0, std::uint64_t d = 0) {
  std::uint64_t h = SplitMix64(kSeed ^ a);
  h = SplitMix64(h ^ b);
  h = SplitMix64(h ^ c);
  return SplitMix64(h ^ d);
}

// In [0, 1).
double Unit(std::uint64_t h) { return static_cast<double>(h >> 11) * (1.0 / 9007199254740992.0); }

double Clamp01(double v) { return std::min(1.0, std::max(0.0, v)); }
double SmoothStep(double e0, double e1, double x) {
  const double t = Clamp01((x - e0) / (e1 - e0));
  return t * t * (3.0 - 2.0 * t);
}
// Smooth max(0, x - x0) over a width w.
double SoftRamp(double x, double x0, double w) {
  const double s = (x - x0) / w;
  return s > 30.0 ? x - x0 : w * std::log1p(std::exp(s));
}

double RiverCentreY(double lx) {
  const double taper = SmoothStep(0.0, 150.0, lx) * SmoothStep(0.0, 150.0, kWidth - lx);
  return 480.0 + 25.0 * std::sin(2.0 * kPi * lx / 700.0 + 0.3) * taper;
}
double RiverBed(double lx) { return kBedWest - kBedSlope * lx; }

// Gentle undulations (a few decimetres) from a fixed set of plane waves.
struct Wave {
  double kx, ky, phase, amp;
};
std::vector<Wave> MakeWaves() {
  std::vector<Wave> w;
  for (std::uint64_t k = 0; k < 8; ++k) {
    const double len = 70.0 + 330.0 * Unit(Hash(1, k));
    const double dir = 2.0 * kPi * Unit(Hash(2, k));
    w.push_back({2.0 * kPi / len * std::cos(dir), 2.0 * kPi / len * std::sin(dir),
                 2.0 * kPi * Unit(Hash(3, k)), 0.03 + 0.05 * Unit(Hash(4, k))});
  }
  return w;
}

// Natural ground (no river channel, streets or railway) at distance d north
// of the river's centre line.
double Ground(double lx, double d) {
  const double bank = RiverBed(lx) + kBankHeight;
  if (d >= 0.0) {
    // Floodplain (0.6 %), town terrace from 80 m (1.5 %), wooded hill from 420 m (12 %).
    return bank + 0.006 * d + 0.009 * SoftRamp(d, 80.0, 20.0) + 0.105 * SoftRamp(d, 420.0, 25.0);
  }
  const double e = -d;  // south: floodplain meadows, then a steep wooded hill
  return bank + 0.004 * e + 0.146 * SoftRamp(e, 110.0, 25.0);
}

bool InRange(double v, double lo, double hi) { return v >= lo && v <= hi; }

struct Cell {
  double z = 0.0;
  Land land = Land::kGrass;
  double depth = 0.0;  // initial water depth
};

class Town {
 public:
  Town() : waves_(MakeWaves()) {
    // Normal depth of the base flow in the channel (bisection on Manning's formula).
    const double side = (kChannelHalfTop - kChannelHalfBottom) / kBankHeight;
    double lo = 0.0, hi = kBankHeight;
    for (int it = 0; it < 60; ++it) {
      const double h = 0.5 * (lo + hi);
      const double a = h * (2.0 * kChannelHalfBottom + side * h);
      const double p = 2.0 * kChannelHalfBottom + 2.0 * h * std::sqrt(1.0 + side * side);
      const double q = a * std::pow(a / p, 2.0 / 3.0) * std::sqrt(kBedSlope) / kManningRiver;
      (q < kBaseFlow ? lo : hi) = h;
    }
    normal_depth_ = 0.5 * (lo + hi);
  }

  Cell At(double lx, double ly) const {
    const double d = ly - RiverCentreY(lx);
    Cell c;
    c.z = Ground(lx, d) + Noise(lx, ly);
    c.land = (d < -130.0 || d > 430.0) ? Land::kForest : Land::kGrass;

    if (std::abs(d) < kChannelHalfTop) {
      const double bed = RiverBed(lx);
      const double t =
          Clamp01((std::abs(d) - kChannelHalfBottom) / (kChannelHalfTop - kChannelHalfBottom));
      c.z = std::min(c.z, bed + kBankHeight * t);
      c.land = Land::kRiver;
      c.depth = std::max(0.0, bed + normal_depth_ - c.z);
      return c;
    }

    // Railway embankment along the whole valley, with the underpass.
    const double rd = std::abs(d - kRailD);
    const bool underpass_street = std::abs(lx - kUnderpassX) <= kStreetHalf;
    if (underpass_street && rd < kUnderpassFlat + kUnderpassRamp) {
      // Ramps from the street level down to a bottom that is level with the
      // ground under the railway minus kUnderpassDepth, dished by 10 cm
      // towards the middle so the middle is the lowest point.
      const double reach = kUnderpassFlat + kUnderpassRamp;
      const double centre_ly = RiverCentreY(lx) + kRailD;
      const double bottom = Ground(lx, kRailD) + Noise(lx, centre_ly) - 0.15 - kUnderpassDepth -
                            0.1 * (1.0 - rd / reach);
      const double t = Clamp01((reach - rd) / kUnderpassRamp);
      c.z = (1.0 - t) * (c.z - 0.15) + t * bottom;
      c.land = Land::kStreet;
      return c;
    }
    const bool culvert = std::any_of(std::begin(kCulverts), std::end(kCulverts),
                                     [&](double x) { return std::abs(lx - x) <= kCulvertHalf; });
    if (rd < kRailHalfBase && culvert) {
      c.z -= 0.3;  // the brook's bed through the culvert
      c.land = Land::kGrass;
      return c;
    }
    if (rd < kRailHalfBase) {
      c.z += kRailHeight * Clamp01((kRailHalfBase - rd) / (kRailHalfBase - kRailHalfTop));
      c.land = Land::kRail;
      return c;
    }

    if (IsStreet(lx, d)) {
      c.z -= 0.15;  // kerb: streets lie a little below the pavements and gardens
      c.land = Land::kStreet;
      return c;
    }
    c.land = BlockLand(lx, d, c.land);
    return c;
  }

  double normal_depth() const { return normal_depth_; }

  // Gentle undulations, faded out towards the river channel.
  double Noise(double lx, double ly) const {
    double n = 0.0;
    for (const Wave& w : waves_) n += w.amp * std::sin(w.kx * lx + w.ky * ly + w.phase);
    const double d = std::abs(ly - RiverCentreY(lx));
    return n * SmoothStep(kChannelHalfTop, kChannelHalfTop + 25.0, d);
  }

 private:
  static bool IsStreet(double lx, double d) {
    const bool south_of_rail = d < kRailD;
    // Riverside road along the valley floor, from near the west edge to past the town.
    if (std::abs(d - kEwStreets[0]) <= kStreetHalf && InRange(lx, 150.0, kTownEast + 80.0))
      return true;
    for (double s : kEwStreets)
      if (std::abs(d - s) <= kStreetHalf &&
          InRange(lx, kTownWest - kStreetHalf, kTownEast + kStreetHalf))
        return true;
    for (double e : kNsStreets) {
      if (std::abs(lx - e) > kStreetHalf) continue;
      if (south_of_rail && InRange(d, kEwStreets[0], kRailD - kRailHalfBase)) return true;
      if (!south_of_rail &&
          InRange(d, kRailD + kRailHalfBase, kEwStreets[std::size(kEwStreets) - 1]))
        return true;
    }
    return false;
  }

  // Land inside a block of the town, `outside` where the point is in no block.
  static Land BlockLand(double lx, double d, Land outside) {
    int bx = -1, by = -1;
    const int n_ns = static_cast<int>(std::size(kNsStreets));
    const int n_ew = static_cast<int>(std::size(kEwStreets));
    for (int k = 0; k + 1 < n_ns; ++k)
      if (lx > kNsStreets[k] && lx < kNsStreets[k + 1]) bx = k;
    for (int k = 0; k + 1 < n_ew; ++k)
      if (d > kEwStreets[k] && d < kEwStreets[k + 1]) by = k;
    if (bx < 0 || by < 0) return outside;
    const double x0 = kNsStreets[bx] + kStreetHalf, x1 = kNsStreets[bx + 1] - kStreetHalf;
    if (kEwStreets[by] < kRailD && kEwStreets[by + 1] > kRailD) return outside;  // the railway
    const double d0 = kEwStreets[by] + kStreetHalf, d1 = kEwStreets[by + 1] - kStreetHalf;
    const double u = lx - x0, v = d - d0, uw = x1 - x0, vw = d1 - d0;

    if (kNsStreets[bx] == kSchoolBlockX && kEwStreets[by] == kSchoolBlockD) {
      // Primary school: a U-shaped building open to the south around its yard.
      const bool north_wing = InRange(v, vw - 20.0, vw - 4.0) && InRange(u, 6.0, uw - 6.0);
      const bool west_wing = InRange(u, 6.0, 22.0) && InRange(v, 10.0, vw - 4.0);
      const bool east_wing = InRange(u, uw - 22.0, uw - 6.0) && InRange(v, 10.0, vw - 4.0);
      return (north_wing || west_wing || east_wing) ? Land::kBuilding : Land::kPaved;
    }
    if (kNsStreets[bx] == kHospitalBlockX && kEwStreets[by] == kHospitalBlockD) {
      // Hospital: a large main building with a forecourt and ambulance drive to the south.
      if (InRange(u, 10.0, uw - 10.0) && InRange(v, 30.0, vw - 8.0)) return Land::kBuilding;
      if (InRange(u, 40.0, 70.0) && InRange(v, 20.0, 30.0)) return Land::kBuilding;  // entrance
      return v < 30.0 ? Land::kPaved : Land::kGarden;
    }

    // Perimeter block: houses 12 m deep, 3 m behind the street, on lots of
    // 18 m; about one lot in five is empty, some neighbours leave a 2 m gap.
    const double m = std::min(std::min(u, uw - u), std::min(v, vw - v));
    if (m < 3.0 || m >= 15.0) return Land::kGarden;
    int side;
    double t;
    if (m == v) {
      side = 0, t = u;
    } else if (m == vw - v) {
      side = 1, t = u;
    } else if (m == u) {
      side = 2, t = v;
    } else {
      side = 3, t = v;
    }
    const auto lot = static_cast<std::uint64_t>(std::floor(t / 18.0));
    const std::uint64_t h =
        Hash(10 + static_cast<std::uint64_t>(bx), static_cast<std::uint64_t>(by),
             static_cast<std::uint64_t>(side), lot);
    if ((h & 7u) < 2u) return Land::kGarden;                         // empty lot
    if (std::fmod(t, 18.0) < 2.0 && (h & 8u)) return Land::kGarden;  // gap to the neighbour
    return Land::kBuilding;
  }

  std::vector<Wave> waves_;
  double normal_depth_ = 0.0;
};

grids::GeoTransform Geo() {
  grids::GeoTransform g;
  g.x_west = kXWest;
  g.y_north = kYSouth + kHeight;
  g.cell_width = kCell;
  g.cell_height = kCell;
  return g;
}

// A point in town coordinates (lx east of the west edge, d north of the river).
PointOfInterest Poi(std::string name, std::string label, std::string kind, double lx, double d) {
  PointOfInterest p;
  p.name = std::move(name);
  p.label = std::move(label);
  p.kind = std::move(kind);
  // Snap to a cell centre so the point is unambiguous.
  const double ly = RiverCentreY(lx) + d;
  p.x = kXWest + (std::floor(lx / kCell) + 0.5) * kCell;
  p.y = kYSouth + (std::floor(ly / kCell) + 0.5) * kCell;
  return p;
}

std::vector<PointOfInterest> Points() {
  const double school_u = kSchoolBlockX + 55.0;
  const double hospital_u = kHospitalBlockX + 55.0;
  return {
      // The school's gate on the riverside road (the way children come and go).
      Poi("school", "Primary school (gate)", "school", school_u, kSchoolBlockD),
      Poi("hospital", "Hospital (ambulance entrance)", "hospital", hospital_u,
          kHospitalBlockD + 4.0 + 12.0),
      Poi("underpass", "Railway underpass", "underpass", kUnderpassX, kRailD),
      Poi("river_gauge", "River gauge", "gauge", kGaugeX, 0.0),
  };
}

std::string Csv(const std::vector<double>& v) {
  std::string s;
  for (double x : v) s += (s.empty() ? "" : ", ") + fmt::format("{}", x);
  return s;
}

// Rain: 60 mm in 1 h (DWD "extreme heavy rain" class, > 40 mm/h): ramps up
// over 10 min to 80 mm/h, holds 30 min, falls to 0 over 20 min.
const std::vector<double> kRainTimes = {0.0, 600.0, 2400.0, 3600.0};
const std::vector<double> kRainRates = {0.0, 80.0, 80.0, 0.0};
// River flood wave at the west edge: base flow 4 m3/s, peak 80 m3/s at
// 30 min (bankfull is about 50 m3/s).
const std::vector<double> kFloodTimes = {0.0, 600.0, 1800.0, 2700.0, 4500.0};
const std::vector<double> kFloodQ = {kBaseFlow, 8.0, 80.0, 60.0, 20.0};

std::string ConfigText(const DemoTown& town) {
  const double yc = kYSouth + RiverCentreY(0.0);
  std::string s;
  s += kVersionLine;
  s += "\n";
  s += fmt::format(
      "#\n"
      "# Auenbach, a fictitious small German valley town ({} x {} cells of {} m,\n"
      "# {:.1f} km x {:.1f} km), made by floodwarn's demo generator. Event: {}.\n"
      "# Coordinates are fictitious (metres, in the style of ETRS89 / UTM 32N).\n"
      "\n"
      "title = \"Auenbach demo town: {}\"\n"
      "\n"
      "[domain]\n"
      "dem = \"dem.asc\"                     # buildings are nodata (walls)\n"
      "manning = \"manning.asc\"             # streets 0.015, river 0.03, grass 0.035, forest "
      "0.08\n"
      "initial_depth = \"initial_depth.asc\" # the river at base flow ({} m3/s)\n"
      "\n"
      "[time]\n"
      "end = {}                # s\n"
      "output_interval = 900.0   # snapshots every 15 min\n"
      "cfl = 0.5\n"
      "\n"
      "[rain]                    # 60 mm in 1 h (DWD class: extreme heavy rain)\n"
      "times = [{}]\n"
      "rates_mm_per_h = [{}]\n"
      "\n"
      "[[boundary]]              # the river flood enters at the west edge\n"
      "name = \"river_upstream\"\n"
      "edge = \"west\"\n"
      "kind = \"inflow\"\n"
      "from = {}\n"
      "to = {}\n"
      "times = [{}]\n"
      "discharge = [{}]          # m3/s\n"
      "\n"
      "[[boundary]]              # everything leaves at the east edge\n"
      "name = \"downstream\"\n"
      "edge = \"east\"\n"
      "kind = \"outflow\"\n"
      "\n"
      "[output]\n"
      "dir = \"results\"\n"
      "point_interval = 60.0\n",
      kCols, kRows, kCell, kWidth / 1000.0, kHeight / 1000.0, town.event, town.event, kBaseFlow,
      kEndS, Csv(kRainTimes), Csv(kRainRates), yc - kChannelHalfBottom, yc + kChannelHalfBottom,
      Csv(kFloodTimes), Csv(kFloodQ));
  for (const PointOfInterest& p : town.points) {
    s += fmt::format("\n[[output.point]]           # {}\nname = \"{}\"\nx = {}\ny = {}\n", p.label,
                     p.name, p.x, p.y);
  }
  return s;
}

}  // namespace

DemoTown DescribeDemoTown(const std::string& dir) {
  DemoTown t;
  t.dir = dir;
  t.config_path = (fs::path(dir) / "demo_town.toml").string();
  t.initial_depth_path = (fs::path(dir) / "initial_depth.asc").string();
  t.name = "Auenbach";
  t.event = "cloudburst 60 mm in 1 h + river flood (peak 80 m3/s)";
  t.cols = kCols;
  t.rows = kRows;
  t.cell_size = kCell;
  t.end_s = kEndS;
  t.points = Points();
  return t;
}

DemoTown GenerateDemoTown(const std::string& dir) {
  DemoTown town = DescribeDemoTown(dir);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw std::runtime_error(fmt::format("cannot create {}: {}", dir, ec.message()));
  // The config goes last: a folder with a current config is complete.
  fs::remove(town.config_path, ec);

  const Town gen;
  const grids::GeoTransform geo = Geo();
  grids::RasterD dem(kCols, kRows, geo, kNodata), manning(kCols, kRows, geo, kNodata),
      depth(kCols, kRows, geo, 0.0);
  for (auto* r : {&dem, &manning, &depth}) r->set_nodata(kNodata);
  for (int row = 0; row < kRows; ++row) {
    const double ly = geo.CellCenterY(row) - kYSouth;
    for (int col = 0; col < kCols; ++col) {
      const double lx = geo.CellCenterX(col) - kXWest;
      const Cell c = gen.At(lx, ly);
      if (c.land == Land::kBuilding) {
        depth(col, row) = kNodata;
        continue;
      }
      // Round to mm / 0.1 mm so the text files are short and exact.
      dem(col, row) = std::round(c.z * 1000.0) / 1000.0;
      manning(col, row) = Manning(c.land);
      depth(col, row) = std::round(c.depth * 10000.0) / 10000.0;
    }
  }
  const fs::path d(dir);
  grids::WriteAsciiGrid((d / "dem.asc").string(), dem, 7);
  grids::WriteAsciiGrid((d / "manning.asc").string(), manning, 5);
  grids::WriteAsciiGrid((d / "initial_depth.asc").string(), depth, 5);
  common::WriteFileAtomic(town.config_path, ConfigText(town));
  return town;
}

bool DemoTownIsComplete(const std::string& dir) {
  const fs::path d(dir);
  std::error_code ec;
  for (const char* f : {"dem.asc", "manning.asc", "initial_depth.asc", "demo_town.toml"})
    if (!fs::is_regular_file(d / f, ec)) return false;
  std::ifstream in(d / "demo_town.toml");
  std::string first;
  std::getline(in, first);
  return first == kVersionLine;
}

}  // namespace floodwarn::demo
