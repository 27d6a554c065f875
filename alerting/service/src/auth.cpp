#include "auth.hpp"

#include <fmt/format.h>

#include <cctype>

namespace floodwarn::alerting {

namespace {
constexpr std::size_t kMaxTokenBytes = 4096;

bool StartsWithBearer(const std::string& v) {
  static const char kScheme[] = "bearer ";
  if (v.size() < sizeof(kScheme) - 1) return false;
  for (std::size_t i = 0; i + 1 < sizeof(kScheme); ++i)
    if (std::tolower(static_cast<unsigned char>(v[i])) != kScheme[i]) return false;
  return true;
}
}  // namespace

Authenticator::Authenticator(const std::vector<TokenGrant>& grants) {
  for (const TokenGrant& g : grants) by_hash_[g.sha256_hex] = g;
}

grpc::Status Authenticator::Check(const grpc::ServerContextBase& ctx, Role required, Principal* out,
                                  std::string* failure) const {
  const auto& md = ctx.client_metadata();
  const auto range = md.equal_range("authorization");
  if (range.first == range.second) {
    *failure = "missing_token";
    return {grpc::StatusCode::UNAUTHENTICATED, "missing 'authorization: Bearer <token>' metadata"};
  }
  if (std::next(range.first) != range.second) {
    *failure = "malformed_token";
    return {grpc::StatusCode::UNAUTHENTICATED, "more than one authorization header"};
  }
  const std::string value(range.first->second.data(), range.first->second.size());
  if (!StartsWithBearer(value) || value.size() > kMaxTokenBytes) {
    *failure = "malformed_token";
    return {grpc::StatusCode::UNAUTHENTICATED, "authorization metadata must be 'Bearer <token>'"};
  }
  std::size_t start = 7;
  while (start < value.size() && value[start] == ' ') ++start;
  const auto it = by_hash_.find(TokenSha256Hex(value.substr(start)));
  if (it == by_hash_.end()) {
    *failure = "unknown_token";
    return {grpc::StatusCode::UNAUTHENTICATED, "unknown token"};
  }
  const TokenGrant& g = it->second;
  if (!g.client_cn.empty()) {
    const auto auth = ctx.auth_context();
    bool match = false;
    if (auth != nullptr)
      for (const auto& cn : auth->FindPropertyValues("x509_common_name"))
        if (std::string(cn.data(), cn.size()) == g.client_cn) match = true;
    if (!match) {
      *failure = "certificate_mismatch";
      return {grpc::StatusCode::UNAUTHENTICATED,
              "this token is bound to another client certificate"};
    }
  }
  out->name = g.principal;
  out->role = g.role;
  if (static_cast<int>(g.role) < static_cast<int>(required)) {
    *failure = "permission_denied";
    return {grpc::StatusCode::PERMISSION_DENIED,
            fmt::format("principal '{}' has role {}, this call needs {}", g.principal,
                        ToString(g.role), ToString(required))};
  }
  return grpc::Status::OK;
}

}  // namespace floodwarn::alerting
