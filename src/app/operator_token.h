// The operator token: the bearer credential `zengen init` creates for the data steward who
// installs a data center, until identity (users, MFA, scoped API tokens) takes over.
// Only its SHA-256 is stored (keys/operator-token.sha256, mode 0600).
#pragma once

#include <filesystem>
#include <string>

#include "http/filters.h"

namespace zengen::app {

// Creates a new random token, stores its hash at path and returns the token (shown once).
Result<std::string> CreateOperatorToken(const std::filesystem::path& hash_path);

class OperatorTokenAuthenticator final : public http::Authenticator {
 public:
  // Reads the stored hash. Fails when the file is missing or malformed.
  static Result<std::unique_ptr<OperatorTokenAuthenticator>> Load(
      const std::filesystem::path& hash_path);
  // Anonymous without an Authorization header; the data steward "operator" for the right
  // bearer token; kUnauthenticated "invalid_credentials" for any other credential.
  Result<http::Subject> Authenticate(const http::Request& req) override;

 private:
  explicit OperatorTokenAuthenticator(std::string hash) : hash_(std::move(hash)) {}
  std::string hash_;  // raw SHA-256 of the token
};

}  // namespace zengen::app
