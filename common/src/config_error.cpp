#include "floodwarn/common/config_error.hpp"

#include <utility>

namespace floodwarn::common {

ConfigError::ConfigError(const std::string& message) : std::runtime_error(message) {}

ConfigError::ConfigError(std::string file, int line, std::string key, std::string detail,
                         std::string context)
    : std::runtime_error(Format(file, line, key, detail, context)),
      file_(std::move(file)),
      line_(line),
      key_(std::move(key)),
      detail_(std::move(detail)),
      context_(std::move(context)) {}

std::string ConfigError::Format(const std::string& file, int line, const std::string& key,
                                const std::string& detail, const std::string& context) {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line);
  if (!context.empty()) out += ": " + context;
  if (!key.empty()) out += ": " + key;
  return out + ": " + detail;
}

}  // namespace floodwarn::common
