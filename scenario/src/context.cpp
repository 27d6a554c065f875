// The config error context and the shared TOML array readers.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "scenario_internal.hpp"

namespace floodwarn::scenario {

std::vector<double> AsNumberArray(const Ctx& ctx, const toml::node& n, const std::string& key) {
  const toml::array* a = n.as_array();
  if (a == nullptr)
    ctx.Fail(key, &n, fmt::format("expected an array of numbers, got {}", TypeName(n)));
  if (a->empty()) ctx.Fail(key, &n, "expected a non-empty array of numbers");
  std::vector<double> out;
  out.reserve(a->size());
  for (std::size_t k = 0; k < a->size(); ++k)
    out.push_back(AsNumber(ctx, *a->get(k), fmt::format("{}[{}]", key, k)));
  return out;
}

void CheckStrictlyIncreasing(const Ctx& ctx, const std::vector<double>& t, const std::string& key,
                             const toml::node* node, const std::string& where) {
  for (std::size_t k = 1; k < t.size(); ++k) {
    if (!(t[k] > t[k - 1]))
      ctx.Fail(key, node,
               fmt::format("{}times must be strictly increasing (no duplicates): entry {} is {} "
                           "after {}",
                           where, k, t[k], t[k - 1]));
  }
}

}  // namespace floodwarn::scenario
