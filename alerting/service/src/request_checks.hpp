// Private to floodwarn::alerting_service: the checks every request passes
// before the engine sees it (ids, text sizes, filters), and the mapping of the
// engine's ErrorCode onto grpc::Status.
#pragma once

#include <grpcpp/support/status.h>

#include <cstddef>
#include <string>

#include "floodwarn/alerting/types.hpp"
#include "floodwarn/v1/alerts.pb.h"

namespace floodwarn::alerting::service_internal {

inline constexpr std::size_t kMaxIdBytes = 128;
inline constexpr std::size_t kMaxShortText = 1024;
inline constexpr std::size_t kMaxLongText = 8192;
inline constexpr std::size_t kMaxFilterIds = 256;

grpc::Status ToStatus(const Error& e);
grpc::Status Invalid(const std::string& what);
// Ids: 1..128 bytes of [A-Za-z0-9._:-].
grpc::Status CheckId(const std::string& field, const std::string& v, bool required = true);
grpc::Status CheckText(const std::string& field, const std::string& v, std::size_t max);
grpc::Status CheckFilter(const v1::AlertFilter& f);

}  // namespace floodwarn::alerting::service_internal
