// HTTP face of identity: login and second factor for people, administration for data
// stewards, and the Authenticator that turns credentials into a policy::Subject.
#pragma once

#include <memory>

#include "http/filters.h"
#include "http/http.h"
#include "identity/identity.h"

namespace zengen::identity {

inline constexpr const char* kSessionCookie = "zg_session";

// Credentials, in order:
//   Authorization: Bearer zgt_…  → an API token (scoped, expiring);
//   Authorization: Bearer …      → the fallback authenticator (the operator token), if any;
//   (a use of the operator token is recorded in the audit log as break_glass first;)
//   Cookie: zg_session=…         → a browser session, except on the login route, which ignores
//                                  it (a stale cookie must not block a new login). Requests
//                                  other than GET/HEAD/OPTIONS on
//                                  a session must carry X-CSRF-Token equal to the session's
//                                  token: 403 "csrf_token_missing" / "csrf_token_invalid".
// No credential → anonymous. A bad credential → 401, never anonymous.
class RequestAuthenticator final : public http::Authenticator {
 public:
  RequestAuthenticator(Identity& identity, std::shared_ptr<http::Authenticator> fallback)
      : identity_(identity), fallback_(std::move(fallback)) {}
  Result<http::Subject> Authenticate(const http::Request& req) override;

 private:
  Identity& identity_;
  std::shared_ptr<http::Authenticator> fallback_;
};

// Clears the browser's session cookie (Set-Cookie with Max-Age=0) on a 401 that says the
// session it carried has expired or is invalid, so that the browser is not stuck with a cookie
// that refuses every request (issue 13 item 11). Add it before the AuthenticationFilter.
class StaleSessionCookieFilter final : public http::Filter {
 public:
  std::optional<http::Response> OnRequest(http::Request&) override { return std::nullopt; }
  void OnResponse(const http::Request& req, http::Response& resp) override;
};

// The value of one cookie from a Cookie header, or "".
std::string CookieValue(std::string_view cookie_header, std::string_view name);

// An administrator's reason for an action on an account (disable, enable, reset-mfa, unlock,
// roles), from the body's "reason": required and not only white space (ASCII or the
// ideographic space U+3000) — 400 "missing_field" naming "reason" — and at most
// kMaxReasonBytes bytes ("value_too_long"); "invalid_type" if not a string. Returned with
// surrounding white space removed. Checked before anything changes.
inline constexpr size_t kMaxReasonBytes = 1000;
Result<std::string> AdminReason(const nlohmann::json& body);
// The same rule for a reason given as text (the command line's --reason): kInvalidArgument
// "value_too_long" or "missing_field", both naming "reason"; the trimmed text otherwise.
Result<std::string> AdminReasonText(std::string_view reason);

// Registers /api/v1/auth/* and /api/v1/admin/{organisations,users,groups,tokens}.
Status AddIdentityRoutes(http::Router& router, Identity& identity);

}  // namespace zengen::identity
