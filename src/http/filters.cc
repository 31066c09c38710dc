#include "http/filters.h"

#include <chrono>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "crypto/crypto.h"
#include "http/admission.h"

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
    Response r = Response::FromError(subject.error());
    r.headers["WWW-Authenticate"] = "Bearer";
    return r;
  }
  req.subject = std::move(*subject);
  return std::nullopt;
}

std::optional<Response> PolicyFilter::OnRequest(Request& req) {
  if (req.route == nullptr) return std::nullopt;  // 404/405 follow; nothing to decide
  policy::Resource resource{req.route->resource, ""};
  if (auto it = req.path_params.find("id"); it != req.path_params.end()) resource.id = it->second;
  if (auto it = req.path_params.find("key"); it != req.path_params.end()) resource.id = it->second;
  policy::Context context{req.remote_address, req.query.count("purpose") ? req.query["purpose"] : ""};
  req.decision = policy::Decide(req.subject, req.route->action, resource, context);
  if (record_) {
    if (auto st = record_(req); !st.ok()) return Response::FromError(st.error());
  }
  if (req.decision->allowed()) return std::nullopt;
  if (!req.subject.authenticated) {
    Response r = Response::FromError(Unauthenticated("authentication_required",
                                                     req.decision->reason));
    r.headers["WWW-Authenticate"] = "Bearer";
    return r;
  }
  return Response::FromError(PermissionDenied("forbidden", req.decision->reason));
}

Status Authorizer::Check(const Request& req, std::string_view action,
                         const policy::Resource& resource) const {
  policy::Context context{req.remote_address, ""};
  if (auto it = req.query.find("purpose"); it != req.query.end()) context.purpose = it->second;
  const policy::Decision d = policy::Decide(req.subject, action, resource, context);
  if (record_) ZG_RETURN_IF_ERROR(record_(req, action, resource, d));
  if (d.allowed()) return Status::Ok();
  return PermissionDenied("forbidden", d.reason);
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
