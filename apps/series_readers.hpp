// Registers the series file readers of ingest/ (ZRXP) with the scenario loader.
#pragma once

namespace floodwarn::apps {

void RegisterSeriesReaders();

}  // namespace floodwarn::apps
