// The series file readers of ingest/ (ZRXP) for the scenario loader.
#pragma once

#include "floodwarn/scenario/scenario.hpp"

namespace floodwarn::apps {

// "zrx" and "zrxp": ZRXP hydrographs in scenarios (docs/CONFIG.md).
scenario::SeriesReaders SeriesReaders();

}  // namespace floodwarn::apps
