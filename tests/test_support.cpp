#include "test_support.hpp"

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <stdexcept>

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

CommandResult RunCommand(const std::string& command) {
  const std::string cmd = command + " 2>&1";
  CommandResult r;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  const int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace floodwarn::testing
