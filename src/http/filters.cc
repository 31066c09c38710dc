#include "http/filters.h"

#include <chrono>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "crypto/crypto.h"
#include "http/admission.h"
#include "http/route_params.h"

namespace zengen::http {
namespace {

bool ValidRequestId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// More lines per second than this of refused anonymous requests are counted, not written.
constexpr int kRefusedLinesPerSecond = 20;

Response Refuse(const Request& req, const Error& e) {
  if (req.route != nullptr && req.route->refuse) return req.route->refuse(e);
  return Response::FromError(e);
}

}  // namespace

std::optional<Response> RequestIdFilter::OnRequest(Request& req) {
  const std::string given = req.Header("X-Request-Id");
  req.request_id = ValidRequestId(given) ? given : crypto::ToHex(crypto::RandomBytes(12));
  return std::nullopt;
}

void RequestIdFilter::OnResponse(const Request& req, Response& resp) {
  resp.headers["X-Request-Id"] = req.request_id;
}

std::optional<Response> AuthenticationFilter::OnRequest(Request& req) {
  auto subject = authenticator_->Authenticate(req);
  if (!subject.ok()) {
    req.decision = policy::Decision{policy::Effect::kDeny, subject.error().message, {}};
    if (on_refusal_) {
      if (auto st = on_refusal_(req); !st.ok()) return Response::FromError(st.error());
    }
    Response r = Refuse(req, subject.error());
    r.headers["WWW-Authenticate"] = "Bearer";
    return r;
  }
  req.subject = std::move(*subject);
  return std::nullopt;
}

Error AccessDenied() {
  return PermissionDenied("access_denied",
                          "access denied: the reason is recorded in the audit log under this "
                          "request's id");
}


std::optional<Response> PolicyFilter::OnRequest(Request& req) {
  if (req.route == nullptr) return std::nullopt;  // 404/405 follow; nothing to decide
  auto resolved = req.route->resolve ? req.route->resolve(req)
                                     : Unscoped(req.route->resource)(req);
  std::optional<Error> resolve_error;
  Target target;
  if (resolved.ok()) {
    target = std::move(*resolved);
  } else {
    // Whether the caller may ask at all, decided on role within its own scope: only then does
    // it learn that the id is unknown or a parameter is wrong.
    resolve_error = resolved.error();
    const std::string scope = policy::ScopeOf(req.subject);
    target.resource = {req.route->resource, ResourceIdParam(req), scope, scope};
  }
  policy::Subject subject = req.subject;
  subject.groups.insert(subject.groups.end(), target.groups.begin(), target.groups.end());
  policy::Context context{req.remote_address, "", target.grant, target.now};
  if (auto it = req.query.find("purpose"); it != req.query.end()) context.purpose = it->second;
  req.decision = policy::Decide(subject, req.route->action, target.resource, context);
  req.resolved = std::move(target);
  if (record_) {
    if (auto st = record_(req); !st.ok()) return Response::FromError(st.error());
  }
  if (!req.decision->allowed()) {
    // The reason (which grant, which release, a participant's withdrawal) goes only to the
    // audit record: a refusal tells the caller nothing it may not know (issue 12 finding 7).
    if (!req.subject.authenticated) {
      Response r = Refuse(req, Unauthenticated("authentication_required",
                                               "this action requires authentication"));
      r.headers["WWW-Authenticate"] = "Bearer";
      return r;
    }
    // About the caller's own credential (no second factor yet, a token's scope): it may know.
    if (!req.decision->code.empty()) {
      return Refuse(req, PermissionDenied(req.decision->code, req.decision->reason));
    }
    return Refuse(req, AccessDenied());
  }
  if (resolve_error) return Refuse(req, *resolve_error);
  return std::nullopt;
}

Resolver ResolveWith(ResourceLookup lookup) {
  return [lookup = std::move(lookup)](const Request& req) -> Result<Target> {
    Target t;
    ZG_ASSIGN_OR_RETURN(t.resource, lookup(req));
    return t;
  };
}

std::optional<Response> AccessAuditFilter::OnRequest(Request& /*req*/) {
  // The duration is measured from req.received: the two halves of the pipeline may run on
  // different threads, with the body read in between.
  return std::nullopt;
}

void AccessAuditFilter::OnResponse(const Request& req, Response& resp) {
  AccessRecord r;
  r.time = FormatRfc3339(clock_.Now());
  r.request_id = req.request_id;
  r.remote_address = req.remote_address;
  r.subject = req.subject.authenticated ? req.subject.id : "anonymous";
  r.method = req.method;
  r.path = req.path;
  r.action = req.route ? req.route->action : "";
  if (req.decision) {
    r.decision = req.decision->allowed() ? "allow" : "deny";
    r.reason = req.decision->reason;
  }
  r.status = resp.status;
  r.millis =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - req.received)
          .count();
  sink_(r);
}

void LogAccessRecord(const AccessRecord& r) {
  // Refused anonymous requests are what a hostile client repeats at line rate: their lines are
  // limited (the audit log keeps their complete count, see refusals.h); every other line is
  // written.
  if (r.status >= 400 && r.subject == "anonymous") {
    static const SystemClock clock;
    static LogLimiter limiter(clock, kRefusedLinesPerSecond, std::chrono::seconds(1));
    const auto v = limiter.Allow();
    if (!v.allow) return;
    if (v.suppressed_before > 0) {
      spdlog::info("access: {} lines of refused anonymous requests suppressed",
                   v.suppressed_before);
    }
  }
  nlohmann::json j = {{"time", r.time},     {"request_id", r.request_id},
                      {"remote", r.remote_address}, {"subject", r.subject},
                      {"method", r.method}, {"path", r.path},
                      {"action", r.action}, {"decision", r.decision},
                      {"reason", r.reason}, {"status", r.status},
                      {"ms", r.millis}};
  spdlog::info("access {}", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

}  // namespace zengen::http
