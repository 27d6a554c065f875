// Private to floodwarn::alerting_service: small helpers the server and the
// metrics endpoint share.
#pragma once

#include <string>

namespace floodwarn::alerting::service_internal {

// "127.0.0.1:0" + 43125 -> "127.0.0.1:43125".
inline std::string WithPort(const std::string& listen, int port) {
  return listen.substr(0, listen.rfind(':') + 1) + std::to_string(port);
}

}  // namespace floodwarn::alerting::service_internal
