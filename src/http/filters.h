// The standard filter chain, in order: request id → access audit → authentication → policy.
// Handlers behind it hold only their own logic: the subject is known and the action allowed.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/clock.h"
#include "http/http.h"

namespace zengen::http {

// Takes the client's X-Request-Id when it is 1–64 characters of [A-Za-z0-9._-], otherwise
// makes a random one; echoes it in the response.
class RequestIdFilter final : public Filter {
 public:
  std::optional<Response> OnRequest(Request& req) override;
  void OnResponse(const Request& req, Response& resp) override;
};

// Port: establishes who sent a request from its credentials.
class Authenticator {
 public:
  virtual ~Authenticator() = default;
  // Returns the subject, anonymous when the request carries no credential. A credential that
  // is present but invalid is an error (kUnauthenticated), never a silent downgrade.
  virtual Result<Subject> Authenticate(const Request& req) = 0;
};

// Called with every decision (PolicyFilter) or refused credential (AuthenticationFilter)
// before the request goes further; a failure to record stops the request with its error
// (503 when the audit log is unavailable): nothing is served that was not recorded.
using DecisionRecorder = std::function<Status(const Request& req)>;

class AuthenticationFilter final : public Filter {
 public:
  AuthenticationFilter(std::shared_ptr<Authenticator> a, DecisionRecorder on_refusal = nullptr)
      : authenticator_(std::move(a)), on_refusal_(std::move(on_refusal)) {}
  std::optional<Response> OnRequest(Request& req) override;

 private:
  std::shared_ptr<Authenticator> authenticator_;
  DecisionRecorder on_refusal_;
};

// The one decision per request: resolves the matched route's resource (Route::resolve: its
// owning organisation and live facts, or a collection in the caller's scope), asks
// policy::Decide once, keeps the decision and target on the request and passes them to the
// recorder (one audit record) before anything else. A denial answers 401 to anonymous
// subjects and 403 "access_denied" to authenticated ones, without the reason, which only the
// audit record holds (issue 12 finding 7); refusals use the route's own error shape (refuse).
// A resolver error (unknown id, bad parameter) is answered only when the caller's roles may
// perform the action within its own scope; otherwise the caller gets the denial.
class PolicyFilter final : public Filter {
 public:
  explicit PolicyFilter(DecisionRecorder record = nullptr) : record_(std::move(record)) {}
  std::optional<Response> OnRequest(Request& req) override;

 private:
  DecisionRecorder record_;
};

// The error every policy denial answers with: 403 "access_denied" and a message that names
// nothing about the resource (the reason is in the audit record).
Error AccessDenied();

// A route resolver (Route::resolve) from a module's own lookup of the resource a request
// touches, with its owning organisation, holder and live facts (e.g. Specimens::ReadResource):
// PolicyFilter then decides once on it. The lookup's errors are the resolver's (kNotFound for
// an unknown id, kInvalidArgument naming a bad parameter or body field).
using ResourceLookup = std::function<Result<policy::Resource>(const Request& req)>;
Resolver ResolveWith(ResourceLookup lookup);

// One record per request once the response is known: time, request id, source address,
// subject, method and path, action, decision and reason, status, duration.
// The record goes to a sink (the server log); decisions are audited by the DecisionRecorder.
struct AccessRecord {
  std::string time;
  std::string request_id;
  std::string remote_address;
  std::string subject;
  std::string method;
  std::string path;
  std::string action;
  std::string decision;  // "allow", "deny" or "" when no decision was needed (404)
  std::string reason;
  int status = 0;
  double millis = 0;
};

class AccessAuditFilter final : public Filter {
 public:
  using Sink = std::function<void(const AccessRecord&)>;
  AccessAuditFilter(const Clock& clock, Sink sink) : clock_(clock), sink_(std::move(sink)) {}
  std::optional<Response> OnRequest(Request& req) override;
  void OnResponse(const Request& req, Response& resp) override;

 private:
  const Clock& clock_;
  Sink sink_;
};

// The default sink: one JSON line per request through the logger; lines of refused anonymous
// requests (status >= 400) are limited to 20 a second, with a count of those suppressed.
void LogAccessRecord(const AccessRecord& r);

}  // namespace zengen::http
