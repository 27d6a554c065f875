// Request checks of the gRPC service (request_checks.hpp).
#include "request_checks.hpp"

#include <fmt/format.h>

namespace floodwarn::alerting::service_internal {

grpc::Status ToStatus(const Error& e) {
  switch (e.code) {
    case ErrorCode::kOk:
      return grpc::Status::OK;
    case ErrorCode::kInvalidArgument:
      return {grpc::StatusCode::INVALID_ARGUMENT, e.message};
    case ErrorCode::kNotFound:
      return {grpc::StatusCode::NOT_FOUND, e.message};
    case ErrorCode::kAlreadyExists:
      return {grpc::StatusCode::ALREADY_EXISTS, e.message};
    case ErrorCode::kFailedPrecondition:
      return {grpc::StatusCode::FAILED_PRECONDITION, e.message};
    case ErrorCode::kPermissionDenied:
      return {grpc::StatusCode::PERMISSION_DENIED, e.message};
    case ErrorCode::kUnavailable:
      return {grpc::StatusCode::UNAVAILABLE, e.message};
    case ErrorCode::kInternal:
      return {grpc::StatusCode::INTERNAL, e.message};
  }
  return {grpc::StatusCode::INTERNAL, e.message};
}

grpc::Status Invalid(const std::string& what) { return {grpc::StatusCode::INVALID_ARGUMENT, what}; }

// Ids: 1..128 bytes of [A-Za-z0-9._:-].
grpc::Status CheckId(const std::string& field, const std::string& v, bool required) {
  if (v.empty()) return required ? Invalid(field + " is required") : grpc::Status::OK;
  if (v.size() > kMaxIdBytes)
    return Invalid(fmt::format("{} is longer than {} bytes", field, kMaxIdBytes));
  for (char c : v) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-' || c == ':';
    if (!ok) return Invalid(field + " may contain only A-Z a-z 0-9 . _ : -");
  }
  return grpc::Status::OK;
}

grpc::Status CheckText(const std::string& field, const std::string& v, std::size_t max) {
  if (v.size() > max) return Invalid(fmt::format("{} is longer than {} bytes", field, max));
  return grpc::Status::OK;
}

grpc::Status CheckFilter(const v1::AlertFilter& f) {
  if (f.area_ids_size() > static_cast<int>(kMaxFilterIds) ||
      f.station_ids_size() > static_cast<int>(kMaxFilterIds))
    return Invalid(fmt::format("filter: at most {} area ids and {} station ids", kMaxFilterIds,
                               kMaxFilterIds));
  for (const auto& a : f.area_ids())
    if (auto s = CheckId("filter.area_ids", a); !s.ok()) return s;
  for (const auto& a : f.station_ids())
    if (auto s = CheckId("filter.station_ids", a); !s.ok()) return s;
  if (f.min_level() < 0 || f.min_level() > 4)
    return Invalid(fmt::format("filter.min_level {} is out of range 0..4", f.min_level()));
  return grpc::Status::OK;
}

}  // namespace floodwarn::alerting::service_internal
