#include "app/operator_token.h"

#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "crypto/crypto.h"

namespace zengen::app {

Result<std::string> CreateOperatorToken(const std::filesystem::path& hash_path) {
  const std::string token = "zgo_" + crypto::ToHex(crypto::RandomBytes(24));
  ZG_RETURN_IF_ERROR(crypto::WriteSecretFile(hash_path, crypto::Sha256Hex(token) + "\n"));
  return token;
}

Result<std::unique_ptr<OperatorTokenAuthenticator>> OperatorTokenAuthenticator::Load(
    const std::filesystem::path& hash_path) {
  std::ifstream f(hash_path);
  std::string hex;
  if (!(f >> hex)) {
    return NotFound("operator_token_missing",
                    fmt::format("cannot read the operator token hash at {}", hash_path.string()));
  }
  auto raw = crypto::FromHex(hex);
  if (!raw.ok() || raw->size() != 32) {
    return InvalidArgument("operator_token_malformed",
                           fmt::format("{} does not hold a SHA-256 hex digest", hash_path.string()));
  }
  return std::unique_ptr<OperatorTokenAuthenticator>(new OperatorTokenAuthenticator(*raw));
}

Result<http::Subject> OperatorTokenAuthenticator::Authenticate(const http::Request& req) {
  const std::string auth = req.Header("Authorization");
  if (auth.empty()) return http::Subject{};
  constexpr std::string_view kBearer = "Bearer ";
  if (!auth.starts_with(kBearer)) {
    return Unauthenticated("invalid_credentials", "only Bearer credentials are accepted");
  }
  // Comparing digests keeps the comparison constant-time in the token's length too.
  if (!crypto::ConstantTimeEquals(crypto::Sha256(auth.substr(kBearer.size())), hash_)) {
    return Unauthenticated("invalid_credentials", "the bearer token is not valid");
  }
  return http::Subject{.authenticated = true,
                       .id = "operator",
                       .organisation = "data_center",
                       .roles = {"data_steward"},
                       .mfa = true};
}

}  // namespace zengen::app
