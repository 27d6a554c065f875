// The bundled demo town ("floodwarn demo"): a fictitious small German valley
// town, Auenbach, generated deterministically from closed-form shapes and a
// fixed seed (nothing is downloaded). A river runs west to east through a
// valley with a floodplain; the old town lies on the north bank with streets,
// perimeter blocks of buildings (nodata cells = walls), a school and a
// hospital; a railway embankment north of the town has one road underpass (a
// local depression). The event: a DWD "extreme" cloudburst (60 mm in 1 h,
// uniform) together with a river flood entering through the west edge;
// everything leaves through the east edge.
//
// Files written into the folder (each to a temporary name, then renamed;
// demo_town.toml last, so its presence means the set is complete):
//   dem.asc, manning.asc, initial_depth.asc, demo_town.toml
// The config uses only the keys documented in docs/CONFIG.md and writes its
// results into `results/` next to itself.
#pragma once

#include <string>
#include <vector>

namespace floodwarn::demo {

struct PointOfInterest {
  std::string name;   // output point name in the config (no spaces)
  std::string label;  // for people: "Primary school"
  std::string kind;   // "school", "hospital", "underpass", "gauge"
  double x = 0.0;     // m, the DEM's coordinates
  double y = 0.0;
};

struct DemoTown {
  std::string dir;          // the folder, as given
  std::string config_path;  // <dir>/demo_town.toml
  // <dir>/initial_depth.asc: the river at base flow (the cells wet at the start)
  std::string initial_depth_path;
  std::string name;   // "Auenbach"
  std::string event;  // one line for people, e.g. for a map subtitle
  int cols = 0;       // grid
  int rows = 0;
  double cell_size = 0.0;  // m
  double end_s = 0.0;      // simulated duration
  std::vector<PointOfInterest> points;
};

// The town's description (grid, event, points of interest) without writing
// anything; config_path is <dir>/demo_town.toml.
DemoTown DescribeDemoTown(const std::string& dir);

// Writes the demo town into `dir` (created if needed; existing files of the
// set are replaced). Deterministic: the same bytes on every run and machine.
// Throws std::runtime_error on I/O errors.
DemoTown GenerateDemoTown(const std::string& dir);

// True when `dir` holds a complete demo town written by this version of the
// generator (all files present, the config's version line matches).
bool DemoTownIsComplete(const std::string& dir);

}  // namespace floodwarn::demo
