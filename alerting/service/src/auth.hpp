// Per-call authentication (bearer token -> principal + role) and role checks.
// Private to the service. Tokens are kept only as SHA-256 hashes.
#pragma once

#include <grpcpp/grpcpp.h>

#include <string>
#include <unordered_map>
#include <vector>

#include "floodwarn/alerting/service.hpp"

namespace floodwarn::alerting {

struct Principal {
  std::string name;
  Role role = Role::kSubscriber;
};

class Authenticator {
 public:
  explicit Authenticator(const std::vector<TokenGrant>& grants);

  // OK and `out` filled, or UNAUTHENTICATED (no/unknown token, certificate
  // mismatch) or PERMISSION_DENIED (role below `required`). `failure` gets a
  // short metric label when the call is refused.
  grpc::Status Check(const grpc::ServerContextBase& ctx, Role required, Principal* out,
                     std::string* failure) const;

 private:
  std::unordered_map<std::string, TokenGrant> by_hash_;
};

}  // namespace floodwarn::alerting
