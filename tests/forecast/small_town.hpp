// A small synthetic town for the forecast loop's tests (seconds of wall
// time): 60 x 30 cells of 10 m; a river channel from west to east (an inflow
// boundary "river" on the west edge, free outflow on the east edge), a
// floodplain rising to the north and south, and an underpass (a 1.5 m deep
// depression) north of the river. Zones: the underpass and the northern
// street. Written into a folder by the test.
#pragma once

#include <cmath>
#include <fstream>
#include <string>

namespace floodwarn::testing {

struct SmallTown {
  std::string dir, scenario, zones;
  // Places (cell centres).
  double underpass_x = 315.0, underpass_y = 215.0;
  double gauge_x = 295.0, gauge_y = 115.0;  // in the river channel
};

inline double SmallTownBed(double x, double y) {
  const double channel = std::fabs(y - 120.0) <= 20.0 ? 0.0 : 1.0;  // 1 m banks
  double z = 2.0 - 0.002 * x + channel * (1.0 + 0.004 * std::fabs(y - 120.0));
  if (x >= 300.0 && x <= 330.0 && y >= 200.0 && y <= 230.0) z -= 1.5;  // the underpass
  return z;
}

inline SmallTown WriteSmallTown(const std::string& dir) {
  SmallTown t;
  t.dir = dir;
  {
    std::ofstream dem(dir + "/dem.asc");
    dem << "ncols 60\nnrows 30\nxllcorner 0\nyllcorner 0\ncellsize 10\nNODATA_value -9999\n";
    for (int row = 0; row < 30; ++row) {
      for (int col = 0; col < 60; ++col) {
        const double x = col * 10.0 + 5.0, y = 300.0 - row * 10.0 - 5.0;
        dem << (col ? " " : "") << SmallTownBed(x, y);
      }
      dem << "\n";
    }
  }
  t.scenario = dir + "/town.toml";
  std::ofstream(t.scenario) << R"toml(title = "small town (forecast tests)"
[domain]
dem = "dem.asc"
manning = 0.03
[time]
end = 3600.0
[[boundary]]
name = "river"
edge = "west"
kind = "inflow"
from = 100.0
to = 140.0
discharge = 2.0
[[boundary]]
name = "out"
edge = "east"
kind = "outflow"
[output]
dir = "output"
)toml";
  t.zones = dir + "/zones.geojson";
  std::ofstream(t.zones) << R"({"type": "FeatureCollection", "features": [
{"type": "Feature", "properties": {"id": "underpass"}, "geometry": {"type": "Polygon",
 "coordinates": [[[300, 200], [330, 200], [330, 230], [300, 230], [300, 200]]]}},
{"type": "Feature", "properties": {"id": "north_street"}, "geometry": {"type": "Polygon",
 "coordinates": [[[0, 240], [600, 240], [600, 260], [0, 260], [0, 240]]]}}]}
)";
  return t;
}

}  // namespace floodwarn::testing
