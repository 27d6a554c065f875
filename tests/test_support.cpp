#include "test_support.hpp"

#include <cstdlib>
#include <filesystem>
#include <random>

namespace floodwarn::testing {
namespace fs = std::filesystem;

std::optional<std::string> SharedDir() {
  const char* env = std::getenv("FLOODWARN_SHARED");
  fs::path p = env && *env ? fs::path(env) : fs::path(FLOODWARN_SHARED_DEFAULT);
  std::error_code ec;
  if (fs::is_directory(p, ec)) return p.string();
  return std::nullopt;
}

std::optional<std::string> SharedFile(const std::string& relative) {
  auto dir = SharedDir();
  if (!dir) return std::nullopt;
  fs::path p = fs::path(*dir) / relative;
  std::error_code ec;
  if (fs::exists(p, ec)) return p.string();
  return std::nullopt;
}

std::string SourceDir() { return FLOODWARN_SOURCE_DIR; }
std::string BinaryDir() { return FLOODWARN_BINARY_DIR; }

std::string MakeTempDir(const std::string& prefix) {
  std::random_device rd;
  for (int attempt = 0; attempt < 100; ++attempt) {
    fs::path p = fs::temp_directory_path() / (prefix + "_" + std::to_string(rd()));
    std::error_code ec;
    if (fs::create_directory(p, ec)) return p.string();
  }
  throw std::runtime_error("cannot create a temporary directory");
}

}  // namespace floodwarn::testing
