// A problem in a config file, located: what() reads
//   "FILE:LINE: [CONTEXT: ]KEY: DETAIL"   e.g. "rules.toml:12: rules[0].window: expected ..."
// ("FILE: KEY: DETAIL" when the line is unknown, e.g. a missing key). Each
// config kind may derive its own type (RulesConfigError, StationConfigError,
// ...), so that callers catch exactly the configs they load.
#pragma once

#include <stdexcept>
#include <string>

namespace floodwarn::common {

class ConfigError : public std::runtime_error {
 public:
  // A problem that has no place in a file ("FILE: cannot open ...").
  explicit ConfigError(const std::string& message);
  // line 0: unknown. key or context may be empty.
  ConfigError(std::string file, int line, std::string key, std::string detail,
              std::string context = {});

  const std::string& file() const noexcept { return file_; }
  int line() const noexcept { return line_; }
  const std::string& key() const noexcept { return key_; }
  const std::string& context() const noexcept { return context_; }
  // What was wrong and what was expected, without the location.
  const std::string& detail() const noexcept { return detail_; }

  // The message ConfigError(file, line, key, detail, context) carries.
  static std::string Format(const std::string& file, int line, const std::string& key,
                            const std::string& detail, const std::string& context = {});

 private:
  std::string file_;
  int line_ = 0;
  std::string key_;
  std::string detail_;
  std::string context_;
};

}  // namespace floodwarn::common
