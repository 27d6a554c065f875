// Series file readers the solver cannot have itself (solver/ may not depend on
// ingest/): ZRXP gauge series as scenario hydrographs and boundary levels.
#include "series_readers.hpp"

#include <fmt/format.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <limits>
#include <stdexcept>
#include <string>

#include "floodwarn/ingest/zrxp.hpp"
#include "floodwarn/scenario/scenario.hpp"

namespace floodwarn::apps {
namespace {

// "FILE.zrx" or "FILE.zrx#SANR": the block of that station number (or the only
// block). Rows in time order; a missing value (RINVAL) or a decode error is an
// error naming the file and line: a scenario hydrograph must not have silent gaps.
scenario::SeriesFile ReadZrxpSeries(const std::string& path, const std::string& selector) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(fmt::format("{}: cannot open", path));
  const std::string bytes((std::istreambuf_iterator<char>(in)), {});
  const ingest::ZrxpFile file = ingest::ParseZrxp(bytes, path);
  if (!file.errors.empty()) {
    const auto& e = file.errors.front();
    throw std::runtime_error(fmt::format("{}:{}: {} ({} malformed line(s) in all)", path, e.line,
                                         e.message, file.errors.size()));
  }
  const ingest::ZrxpBlock* block = nullptr;
  std::string numbers;
  for (const auto& b : file.blocks) {
    numbers += (numbers.empty() ? "" : ", ") + (b.station_number.empty() ? "?" : b.station_number);
    if (selector.empty() ? file.blocks.size() == 1 : b.station_number == selector) {
      if (block != nullptr)
        throw std::runtime_error(
            fmt::format("{}: more than one block with SANR {}", path, selector));
      block = &b;
    }
  }
  if (block == nullptr)
    throw std::runtime_error(
        selector.empty()
            ? fmt::format("{} holds {} series (SANR {}): name one as {}#SANR", path,
                          file.blocks.size(), numbers, path)
            : fmt::format("{}: no series with SANR {} (the file has {})", path, selector, numbers));
  if (!block->tz_valid)
    throw std::runtime_error(
        fmt::format("{}:{}: unknown time zone in the block header", path, block->first_line));
  scenario::SeriesFile out;
  out.unit = block->unit;
  for (const auto& row : block->rows) {
    if (row.forecast) continue;  // forecast layouts: observations only
    const double t = std::chrono::duration<double>(row.time.time_since_epoch()).count();
    out.epoch_s.push_back(t);
    out.values.push_back(row.missing ? std::numeric_limits<double>::quiet_NaN() : row.value);
    out.lines.push_back(row.line);
  }
  return out;
}

}  // namespace

scenario::SeriesReaders SeriesReaders() {
  return {{"zrx", ReadZrxpSeries}, {"zrxp", ReadZrxpSeries}};
}

}  // namespace floodwarn::apps
