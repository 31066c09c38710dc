#include "identity/identity_routes.h"

#include <fmt/format.h>

#include "common/field_checks.h"
#include "crypto/crypto.h"
#include "http/route_params.h"

namespace zengen::identity {
namespace {

using http::Request;
using http::Response;
using nlohmann::json;

json UserJson(const User& u) {
  return {{"id", u.id},
          {"organisation", u.organisation},
          {"display_name", u.display_name},
          {"email", u.email},
          {"roles", u.roles},
          {"pending_roles", u.pending_roles},
          {"disabled", u.disabled},
          {"mfa_enrolled", u.mfa_enrolled},
          {"locked", u.locked},
          {"created_at", u.created_at}};
}

json GrantJson(const RoleGrant& g) {
  return {{"id", g.id},
          {"user", g.user},
          {"role", g.role},
          {"requested_by", g.requested_by},
          {"requested_at", g.requested_at},
          {"state", g.state},
          {"approved_by", g.approved_by.empty() ? json(nullptr) : json(g.approved_by)},
          {"approved_at", g.approved_at.empty() ? json(nullptr) : json(g.approved_at)}};
}

json TokenJson(const ApiToken& t) {
  return {{"id", t.id},
          {"name", t.name},
          {"organisation", t.organisation},
          {"role", t.role},
          {"actions", t.actions},
          {"created_by", t.created_by},
          {"created_at", t.created_at},
          {"expires_ms", t.expires_ms},
          {"revoked", t.revoked},
          {"user", t.user.empty() ? json(nullptr) : json(t.user)}};
}

// Handlers return Result<Response>; errors become the standard error body.
using http::Wrap;

std::string SessionCookie(const std::string& value, bool clear) {
  return fmt::format("{}={}; Path=/; HttpOnly; Secure; SameSite=Strict{}", kSessionCookie, value,
                     clear ? "; Max-Age=0" : "");
}

Result<Session> SessionOf(Identity& identity, const Request& req) {
  const std::string token = CookieValue(req.Header("Cookie"), kSessionCookie);
  if (token.empty()) {
    return Unauthenticated("session_required", "this needs a browser session; log in first");
  }
  return identity.AuthenticateSession(token);
}

// The JSON body of an action whose only field is its reason; an empty body is an empty object,
// so that it is answered "reason" missing.
Result<json> BodyOrEmpty(const Request& req) {
  if (req.body.empty()) return json::object();
  return http::ParseJsonBody(req);
}

}  // namespace

Result<std::string> AdminReason(const json& body) {
  ZG_ASSIGN_OR_RETURN(std::string reason, http::JsonString(body, "reason", true, kMaxReasonBytes));
  return AdminReasonText(reason);
}

Result<std::string> AdminReasonText(std::string_view reason) {
  if (reason.size() > kMaxReasonBytes) {
    return InvalidArgument("value_too_long",
                           fmt::format("'reason' exceeds {} bytes", kMaxReasonBytes), "reason");
  }
  const std::string_view v = TrimBlank(reason);
  if (v.empty()) {
    return InvalidArgument("missing_field", "'reason' is required: say why", "reason");
  }
  return std::string(v);
}

std::string CookieValue(std::string_view header, std::string_view name) {
  size_t i = 0;
  while (i < header.size()) {
    const size_t end = std::min(header.find(';', i), header.size());
    std::string_view part = header.substr(i, end - i);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    const size_t eq = part.find('=');
    if (eq != std::string_view::npos && part.substr(0, eq) == name) {
      return std::string(part.substr(eq + 1));
    }
    i = end + 1;
  }
  return "";
}

Result<http::Subject> RequestAuthenticator::Authenticate(const Request& req) {
  const std::string auth = req.Header("Authorization");
  if (!auth.empty()) {
    constexpr std::string_view kBearer = "Bearer ";
    if (auth.starts_with(kBearer) && auth.substr(kBearer.size()).starts_with("zgt_")) {
      return identity_.AuthenticateApiToken(auth.substr(kBearer.size()));
    }
    if (!fallback_) return Unauthenticated("invalid_credentials", "the bearer token is not valid");
    ZG_ASSIGN_OR_RETURN(http::Subject s, fallback_->Authenticate(req));
    if (GrantorOf(s).is_operator) {
      // Break-glass: no use of the operator token goes unrecorded (issue 12 finding 4).
      ZG_RETURN_IF_ERROR(identity_.RecordBreakGlass({s.id, req.remote_address, req.request_id},
                                                    req.method, req.path));
    }
    return s;
  }
  // Logging in needs no session: a stale cookie left by an expired one must not stand in the
  // way of a new login (issue 13 item 11), nor a live one (the new session replaces it).
  if (req.route != nullptr && req.route->action == "auth.login") return http::Subject{};
  const std::string cookie = CookieValue(req.Header("Cookie"), kSessionCookie);
  if (cookie.empty()) return http::Subject{};
  ZG_ASSIGN_OR_RETURN(Session s, identity_.AuthenticateSession(cookie));
  if (req.method != "GET" && req.method != "HEAD" && req.method != "OPTIONS") {
    const std::string csrf = req.Header("X-CSRF-Token");
    if (csrf.empty()) {
      return PermissionDenied("csrf_token_missing",
                              "state-changing requests of a session need X-CSRF-Token");
    }
    if (!crypto::ConstantTimeEquals(csrf, s.csrf_token)) {
      return PermissionDenied("csrf_token_invalid", "X-CSRF-Token does not match the session");
    }
  }
  return s.subject;
}

void StaleSessionCookieFilter::OnResponse(const Request& req, Response& resp) {
  if (resp.status != 401 || resp.headers.count("Set-Cookie")) return;
  if (CookieValue(req.Header("Cookie"), kSessionCookie).empty()) return;
  const json body = json::parse(resp.body, nullptr, /*allow_exceptions=*/false);
  const auto error = body.is_object() ? body.find("error") : body.end();
  if (error == body.end() || !error->is_object()) return;
  const std::string code = error->value("code", std::string());
  if (code == "session_expired" || code == "session_invalid") {
    resp.headers["Set-Cookie"] = SessionCookie("", true);
  }
}

Status AddIdentityRoutes(http::Router& router, Identity& identity) {
  Identity* id = &identity;
  // ---- authentication
  ZG_RETURN_IF_ERROR(router.Add(
      {.method = "POST",
       .pattern = "/api/v1/auth/login",
       .action = "auth.login",
       .resource = "session",
       .max_body_bytes = 8192,
       .handler = Wrap([id](Request& req) -> Result<Response> {
         ZG_ASSIGN_OR_RETURN(json body, http::ParseJsonBody(req));
         ZG_ASSIGN_OR_RETURN(std::string user, http::JsonString(body, "username", true, 64));
         ZG_ASSIGN_OR_RETURN(std::string password, http::JsonString(body, "password", true, 1024));
         ZG_ASSIGN_OR_RETURN(std::string totp, http::JsonString(body, "totp", false, 16));
         ZG_ASSIGN_OR_RETURN(LoginResult r, id->Login(user, password, totp, http::ActorAs<Actor>(req)));
         const char* next = r.mfa_passed ? "done" : r.mfa_enrolled ? "verify_mfa" : "enrol_mfa";
         Response resp = Response::Json(200, {{"user", UserJson(r.user)},
                                              {"csrf_token", r.csrf_token},
                                              {"mfa_passed", r.mfa_passed},
                                              {"mfa_enrolled", r.mfa_enrolled},
                                              {"next", next}});
         resp.headers["Set-Cookie"] = SessionCookie(r.session_token, false);
         return resp;
       })}));
  ZG_RETURN_IF_ERROR(router.Add({.method = "POST",
                                 .pattern = "/api/v1/auth/logout",
                                 .action = "auth.logout",
                                 .resource = "session",
                                 .handler = Wrap([id](Request& req) -> Result<Response> {
                                   ZG_ASSIGN_OR_RETURN(Session s, SessionOf(*id, req));
                                   ZG_RETURN_IF_ERROR(id->Logout(s, http::ActorAs<Actor>(req)));
                                   Response resp = Response::Json(200, {{"logged_out", true}});
                                   resp.headers["Set-Cookie"] = SessionCookie("", true);
                                   return resp;
                                 })}));
  ZG_RETURN_IF_ERROR(router.Add({.method = "GET",
                                 .pattern = "/api/v1/auth/session",
                                 .action = "auth.session",
                                 .resource = "session",
                                 .handler = Wrap([id](Request& req) -> Result<Response> {
                                   json j = {{"user", req.subject.id},
                                             {"organisation", req.subject.organisation},
                                             {"roles", req.subject.roles},
                                             {"mfa_passed", req.subject.mfa}};
                                   auto s = SessionOf(*id, req);
                                   if (s.ok()) {
                                     j["csrf_token"] = s->csrf_token;
                                     j["mfa_enrolled"] = s->mfa_enrolled;
                                   }
                                   return Response::Json(200, j);
                                 })}));
  ZG_RETURN_IF_ERROR(router.Add(
      {.method = "POST",
       .pattern = "/api/v1/auth/mfa/enrol",
       .action = "mfa.enrol",
       .resource = "session",
       .max_body_bytes = 4096,
       .handler = Wrap([id](Request& req) -> Result<Response> {
         // The one-time code an administrator issued out of band (issue 12 finding 8): the
         // password alone does not enrol a second factor.
         ZG_ASSIGN_OR_RETURN(json body, http::ParseJsonBody(req));
         ZG_RETURN_IF_ERROR(http::OnlyFields(body, {"enrolment_code"}));
         ZG_ASSIGN_OR_RETURN(std::string code, http::JsonString(body, "enrolment_code", true, 64));
         ZG_ASSIGN_OR_RETURN(Session s, SessionOf(*id, req));
         ZG_ASSIGN_OR_RETURN(TotpEnrolment e, id->BeginTotpEnrolment(s, code, http::ActorAs<Actor>(req)));
         return Response::Json(200, {{"secret", e.secret_base32}, {"otpauth_uri", e.otpauth_uri}});
       })}));
  ZG_RETURN_IF_ERROR(
      router.Add({.method = "POST",
                  .pattern = "/api/v1/auth/mfa/confirm",
                  .action = "mfa.enrol",
                  .resource = "session",
                  .max_body_bytes = 4096,
                  .handler = Wrap([id](Request& req) -> Result<Response> {
                    ZG_ASSIGN_OR_RETURN(json body, http::ParseJsonBody(req));
                    ZG_ASSIGN_OR_RETURN(std::string code, http::JsonString(body, "code", true, 16));
                    ZG_ASSIGN_OR_RETURN(Session s, SessionOf(*id, req));
                    ZG_ASSIGN_OR_RETURN(auto codes, id->ConfirmTotp(s, code, http::ActorAs<Actor>(req)));
                    return Response::Json(200, {{"mfa_passed", true}, {"recovery_codes", codes}});
                  })}));
  ZG_RETURN_IF_ERROR(router.Add(
      {.method = "POST",
       .pattern = "/api/v1/auth/mfa/verify",
       .action = "mfa.verify",
       .resource = "session",
       .max_body_bytes = 4096,
       .handler = Wrap([id](Request& req) -> Result<Response> {
         ZG_ASSIGN_OR_RETURN(json body, http::ParseJsonBody(req));
         ZG_ASSIGN_OR_RETURN(std::string code, http::JsonString(body, "code", false, 16));
         ZG_ASSIGN_OR_RETURN(std::string recovery,
                             http::JsonString(body, "recovery_code", false, 64));
         if (code.empty() == recovery.empty()) {
           return InvalidArgument("missing_field",
                                  "give exactly one of 'code' and "
                                  "'recovery_code'",
                                  "code");
         }
         ZG_ASSIGN_OR_RETURN(Session s, SessionOf(*id, req));
         ZG_RETURN_IF_ERROR(id->VerifySecondFactor(s, code, recovery, http::ActorAs<Actor>(req)));
         return Response::Json(200, {{"mfa_passed", true}});
       })}));

  // ---- administration
  ZG_RETURN_IF_ERROR(router.Add({.method = "GET",
                                 .pattern = "/api/v1/admin/organisations",
                                 .action = "org.read",
                                 .resource = "organisation",
                                 .handler = Wrap([id](Request&) -> Result<Response> {
                                   ZG_ASSIGN_OR_RETURN(auto orgs, id->ListOrganisations());
                                   json items = json::array();
                                   for (const auto& o : orgs) {
                                     items.push_back({{"id", o.id},
                                                      {"name", o.name},
                                                      {"kind", o.kind},
                                                      {"jurisdiction", o.jurisdiction},
                                                      {"created_at", o.created_at}});
                                   }
                                   return Response::Json(200, {{"items", items}});
                                 })}));
  ZG_RETURN_IF_ERROR(router.Add(
      {.method = "POST",
       .pattern = "/api/v1/admin/organisations",
       .action = "org.write",
       .resource = "organisation",
       .max_body_bytes = 8192,
       .handler = Wrap([id](Request& req) -> Result<Response> {
         ZG_ASSIGN_OR_RETURN(json body, http::ParseJsonBody(req));
         Organisation o;
         ZG_ASSIGN_OR_RETURN(o.id, http::JsonString(body, "id", true, 64));
         ZG_ASSIGN_OR_RETURN(o.name, http::JsonString(body, "name", true, 200));
         ZG_ASSIGN_OR_RETURN(o.kind, http::JsonString(body, "kind", true, 64));
         ZG_ASSIGN_OR_RETURN(o.jurisdiction, http::JsonString(body, "jurisdiction", true, 8));
         ZG_ASSIGN_OR_RETURN(Organisation c, id->CreateOrganisation(o, http::ActorAs<Actor>(req)));
         return Response::Json(201, {{"id", c.id},
                                     {"name", c.name},
                                     {"kind", c.kind},
                                     {"jurisdiction", c.jurisdiction},
                                     {"created_at", c.created_at}});
       })}));
  ZG_RETURN_IF_ERROR(router.Add({.method = "GET",
                                 .pattern = "/api/v1/admin/users",
                                 .action = "user.read",
                                 .resource = "user",
                                 .handler = Wrap([id](Request&) -> Result<Response> {
                                   ZG_ASSIGN_OR_RETURN(auto users, id->ListUsers());
                                   json items = json::array();
                                   for (const auto& u : users) items.push_back(UserJson(u));
                                   return Response::Json(200, {{"items", items}});
                                 })}));
  ZG_RETURN_IF_ERROR(router.Add({.method = "GET",
                                 .pattern = "/api/v1/admin/users/{id}",
                                 .action = "user.read",
                                 .resource = "user",
                                 .handler = Wrap([id](Request& req) -> Result<Response> {
                                   ZG_ASSIGN_OR_RETURN(User u,
                                                       id->GetUser(req.path_params.at("id")));
                                   return Response::Json(200, UserJson(u));
                                 })}));
  ZG_RETURN_IF_ERROR(router.Add(
      {.method = "POST",
       .pattern = "/api/v1/admin/users",
       .action = "user.write",
       .resource = "user",
       .max_body_bytes = 8192,
       .handler = Wrap([id](Request& req) -> Result<Response> {
         ZG_ASSIGN_OR_RETURN(json body, http::ParseJsonBody(req));
         NewUser u;
         ZG_ASSIGN_OR_RETURN(u.id, http::JsonString(body, "id", true, 64));
         ZG_ASSIGN_OR_RETURN(u.organisation, http::JsonString(body, "organisation", true, 64));
         ZG_ASSIGN_OR_RETURN(u.display_name, http::JsonString(body, "display_name", true, 200));
         ZG_ASSIGN_OR_RETURN(u.email, http::JsonString(body, "email", true, 254));
         ZG_ASSIGN_OR_RETURN(u.roles, http::JsonStringList(body, "roles", true));
         ZG_ASSIGN_OR_RETURN(u.password, http::JsonString(body, "password", true, 1024));
         ZG_ASSIGN_OR_RETURN(User c, id->CreateUser(u, GrantorOf(req.subject), http::ActorAs<Actor>(req)));
         return Response::Json(201, UserJson(c));
       })}));
  ZG_RETURN_IF_ERROR(router.Add(
      {.method = "POST",
       .pattern = "/api/v1/admin/users/{id}/roles",
       .action = "user.write",
       .resource = "user",
       .max_body_bytes = 4096,
       .handler = Wrap([id](Request& req) -> Result<Response> {
         ZG_ASSIGN_OR_RETURN(json body, http::ParseJsonBody(req));
         ZG_RETURN_IF_ERROR(http::OnlyFields(body, {"role", "reason"}));
         ZG_ASSIGN_OR_RETURN(std::string role, http::JsonString(body, "role", true, 64));
         Actor actor = http::ActorAs<Actor>(req);
         ZG_ASSIGN_OR_RETURN(actor.reason, AdminReason(body));
         ZG_ASSIGN_OR_RETURN(User u, id->GrantRole(req.path_params.at("id"), role,
                                                   GrantorOf(req.subject), actor));
         return Response::Json(200, UserJson(u));
       })}));
  ZG_RETURN_IF_ERROR(router.Add(
      {.method = "POST",
       .pattern = "/api/v1/admin/users/{id}/roles/{role}/remove",
       .action = "user.write",
       .resource = "user",
       .max_body_bytes = 8192,
       .handler = Wrap([id](Request& req) -> Result<Response> {
         ZG_ASSIGN_OR_RETURN(json body, BodyOrEmpty(req));
         ZG_RETURN_IF_ERROR(http::OnlyFields(body, {"reason"}));
         Actor actor = http::ActorAs<Actor>(req);
         ZG_ASSIGN_OR_RETURN(actor.reason, AdminReason(body));
         ZG_RETURN_IF_ERROR(id->RevokeRole(req.path_params.at("id"), req.path_params.at("role"),
                                           GrantorOf(req.subject), actor));
         ZG_ASSIGN_OR_RETURN(User u, id->GetUser(req.path_params.at("id")));
         return Response::Json(200, UserJson(u));
       })}));
  ZG_RETURN_IF_ERROR(router.Add({.method = "POST",
                                 .pattern = "/api/v1/admin/users/{id}/enrolment-code",
                                 .action = "user.write",
                                 .resource = "user",
                                 .handler = Wrap([id](Request& req) -> Result<Response> {
                                   ZG_ASSIGN_OR_RETURN(EnrolmentCode c,
                                                       id->IssueEnrolmentCode(
                                                           req.path_params.at("id"),
                                                           GrantorOf(req.subject), http::ActorAs<Actor>(req)));
                                   return Response::Json(201, {{"user", req.path_params.at("id")},
                                                               {"enrolment_code", c.code},
                                                               {"expires_ms", c.expires_ms}});
                                 })}));
  ZG_RETURN_IF_ERROR(router.Add({.method = "GET",
                                 .pattern = "/api/v1/admin/role-grants",
                                 .action = "user.read",
                                 .resource = "user",
                                 .handler = Wrap([id](Request& req) -> Result<Response> {
                                   const bool all =
                                       req.query.count("state") && req.query.at("state") == "all";
                                   ZG_ASSIGN_OR_RETURN(auto grants, id->ListRoleGrants(!all));
                                   json items = json::array();
                                   for (const auto& g : grants) items.push_back(GrantJson(g));
                                   return Response::Json(200, {{"items", items}});
                                 })}));
  ZG_RETURN_IF_ERROR(router.Add({.method = "POST",
                                 .pattern = "/api/v1/admin/role-grants/{id}/approve",
                                 .action = "role.approve",
                                 .resource = "role_grant",
                                 .handler = Wrap([id](Request& req) -> Result<Response> {
                                   ZG_ASSIGN_OR_RETURN(
                                       RoleGrant g,
                                       id->ApproveRoleGrant(req.path_params.at("id"),
                                                            GrantorOf(req.subject), http::ActorAs<Actor>(req)));
                                   return Response::Json(200, GrantJson(g));
                                 })}));
  for (const auto& [verb, fn] :
       std::vector<std::pair<std::string, Status (Identity::*)(std::string_view, const Actor&)>>{
           {"disable", &Identity::DisableUser},
           {"enable", &Identity::EnableUser},
           {"reset-mfa", &Identity::ResetMfa},
           {"unlock", &Identity::Unlock}}) {
    ZG_RETURN_IF_ERROR(router.Add(
        {.method = "POST",
         .pattern = "/api/v1/admin/users/{id}/" + verb,
         .action = "user.write",
         .resource = "user",
         .max_body_bytes = 8192,
         .handler = Wrap([id, fn = fn, verb = verb](Request& req) -> Result<Response> {
           // Every action on an account says why; nothing changes without a reason.
           ZG_ASSIGN_OR_RETURN(json body, BodyOrEmpty(req));
           ZG_RETURN_IF_ERROR(http::OnlyFields(body, {"reason"}));
           Actor actor = http::ActorAs<Actor>(req);
           ZG_ASSIGN_OR_RETURN(actor.reason, AdminReason(body));
           if (verb == "reset-mfa") {
             // Whoever resets a second factor could steer the next enrolment.
             ZG_RETURN_IF_ERROR(id->CheckMayAdminister(
                 req.path_params.at("id"), GrantorOf(req.subject), actor, "user.write"));
           }
           ZG_RETURN_IF_ERROR((id->*fn)(req.path_params.at("id"), actor));
           ZG_ASSIGN_OR_RETURN(User u, id->GetUser(req.path_params.at("id")));
           return Response::Json(200, UserJson(u));
         })}));
  }
  ZG_RETURN_IF_ERROR(
      router.Add({.method = "GET",
                  .pattern = "/api/v1/admin/groups",
                  .action = "group.read",
                  .resource = "group",
                  .handler = Wrap([id](Request&) -> Result<Response> {
                    ZG_ASSIGN_OR_RETURN(auto groups, id->ListGroups());
                    json items = json::array();
                    for (const auto& g : groups) {
                      items.push_back({{"id", g.id}, {"name", g.name}, {"members", g.members}});
                    }
                    return Response::Json(200, {{"items", items}});
                  })}));
  ZG_RETURN_IF_ERROR(router.Add(
      {.method = "POST",
       .pattern = "/api/v1/admin/groups",
       .action = "group.write",
       .resource = "group",
       .max_body_bytes = 8192,
       .handler = Wrap([id](Request& req) -> Result<Response> {
         ZG_ASSIGN_OR_RETURN(json body, http::ParseJsonBody(req));
         ZG_ASSIGN_OR_RETURN(std::string gid, http::JsonString(body, "id", true, 64));
         ZG_ASSIGN_OR_RETURN(std::string name, http::JsonString(body, "name", true, 200));
         ZG_ASSIGN_OR_RETURN(Group g, id->CreateGroup(gid, name, http::ActorAs<Actor>(req)));
         return Response::Json(201, {{"id", g.id}, {"name", g.name}, {"members", g.members}});
       })}));
  ZG_RETURN_IF_ERROR(router.Add(
      {.method = "POST",
       .pattern = "/api/v1/admin/groups/{id}/members",
       .action = "group.write",
       .resource = "group",
       .max_body_bytes = 4096,
       .handler = Wrap([id](Request& req) -> Result<Response> {
         ZG_ASSIGN_OR_RETURN(json body, http::ParseJsonBody(req));
         ZG_ASSIGN_OR_RETURN(std::string user, http::JsonString(body, "user", true, 64));
         ZG_RETURN_IF_ERROR(id->AddGroupMember(req.path_params.at("id"), user, http::ActorAs<Actor>(req)));
         return Response::Json(200, {{"group", req.path_params.at("id")}, {"user", user}});
       })}));
  ZG_RETURN_IF_ERROR(router.Add(
      {.method = "POST",
       .pattern = "/api/v1/admin/groups/{id}/members/{user}/remove",
       .action = "group.write",
       .resource = "group",
       .handler = Wrap([id](Request& req) -> Result<Response> {
         const std::string& user = req.path_params.at("user");
         ZG_RETURN_IF_ERROR(id->RemoveGroupMember(req.path_params.at("id"), user, http::ActorAs<Actor>(req)));
         return Response::Json(200, {{"group", req.path_params.at("id")}, {"user", user}});
       })}));
  ZG_RETURN_IF_ERROR(router.Add({.method = "GET",
                                 .pattern = "/api/v1/admin/tokens",
                                 .action = "token.read",
                                 .resource = "token",
                                 .handler = Wrap([id](Request&) -> Result<Response> {
                                   ZG_ASSIGN_OR_RETURN(auto tokens, id->ListApiTokens());
                                   json items = json::array();
                                   for (const auto& t : tokens) items.push_back(TokenJson(t));
                                   return Response::Json(200, {{"items", items}});
                                 })}));
  ZG_RETURN_IF_ERROR(router.Add(
      {.method = "POST",
       .pattern = "/api/v1/admin/tokens",
       .action = "token.write",
       .resource = "token",
       .max_body_bytes = 8192,
       .handler = Wrap([id](Request& req) -> Result<Response> {
         ZG_ASSIGN_OR_RETURN(json body, http::ParseJsonBody(req));
         NewApiToken t;
         ZG_ASSIGN_OR_RETURN(t.name, http::JsonString(body, "name", true, 200));
         ZG_ASSIGN_OR_RETURN(t.organisation, http::JsonString(body, "organisation", true, 64));
         ZG_ASSIGN_OR_RETURN(t.role, http::JsonString(body, "role", true, 64));
         ZG_ASSIGN_OR_RETURN(t.actions, http::JsonStringList(body, "actions", true));
         if (auto it = body.find("days"); it != body.end()) {
           if (!it->is_number_integer()) {
             return InvalidArgument("invalid_type", "'days' must be an integer", "days");
           }
           t.days = static_cast<int>(std::clamp<int64_t>(it->get<int64_t>(), -1, 100000));
         }
         ZG_ASSIGN_OR_RETURN(auto created,
                             id->CreateApiToken(t, GrantorOf(req.subject), http::ActorAs<Actor>(req)));
         json j = TokenJson(created.second);
         j["token"] = created.first;
         return Response::Json(201, j);
       })}));
  // Personal data-access tokens (the signed-in person's own).
  ZG_RETURN_IF_ERROR(router.Add(
      {.method = "POST",
       .pattern = "/api/v1/auth/tokens",
       .action = "token.personal",
       .resource = "token",
       .max_body_bytes = 8192,
       .handler = Wrap([id](Request& req) -> Result<Response> {
         ZG_ASSIGN_OR_RETURN(json body, http::ParseJsonBody(req));
         ZG_RETURN_IF_ERROR(http::OnlyFields(body, {"name", "actions", "days"}));
         ZG_ASSIGN_OR_RETURN(std::string name, http::JsonString(body, "name", true, 200));
         ZG_ASSIGN_OR_RETURN(auto actions, http::JsonStringList(body, "actions", true));
         ZG_ASSIGN_OR_RETURN(int64_t days, http::JsonInt(body, "days", false, 30));
         ZG_ASSIGN_OR_RETURN(
             auto created,
             id->CreatePersonalToken(req.subject, name, actions,
                                     static_cast<int>(std::clamp<int64_t>(days, -1, 100000)),
                                     http::ActorAs<Actor>(req)));
         json j = TokenJson(created.second);
         j["token"] = created.first;
         return Response::Json(201, j);
       })}));
  ZG_RETURN_IF_ERROR(router.Add({.method = "GET",
                                 .pattern = "/api/v1/auth/tokens",
                                 .action = "token.personal",
                                 .resource = "token",
                                 .handler = Wrap([id](Request& req) -> Result<Response> {
                                   ZG_ASSIGN_OR_RETURN(auto tokens,
                                                       id->ListPersonalTokens(req.subject.id));
                                   json items = json::array();
                                   for (const auto& t : tokens) items.push_back(TokenJson(t));
                                   return Response::Json(200, {{"items", items}});
                                 })}));
  ZG_RETURN_IF_ERROR(router.Add(
      {.method = "POST",
       .pattern = "/api/v1/auth/tokens/{id}/revoke",
       .action = "token.personal",
       .resource = "token",
       .handler = Wrap([id](Request& req) -> Result<Response> {
         ZG_RETURN_IF_ERROR(
             id->RevokePersonalToken(req.subject.id, req.path_params.at("id"), http::ActorAs<Actor>(req)));
         return Response::Json(200, {{"id", req.path_params.at("id")}, {"revoked", true}});
       })}));
  return router.Add(
      {.method = "POST",
       .pattern = "/api/v1/admin/tokens/{id}/revoke",
       .action = "token.write",
       .resource = "token",
       .handler = Wrap([id](Request& req) -> Result<Response> {
         ZG_RETURN_IF_ERROR(id->RevokeApiToken(req.path_params.at("id"), http::ActorAs<Actor>(req)));
         return Response::Json(200, {{"id", req.path_params.at("id")}, {"revoked", true}});
       })});
}

}  // namespace zengen::identity
