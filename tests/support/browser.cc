#include "support/browser.h"

#include <chrono>

#include "crypto/totp.h"

namespace zengen::testing {

using nlohmann::json;

std::string TotpNow(const std::string& secret, int64_t offset_steps) {
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  return crypto::TotpCode(secret, now + offset_steps * 30);
}

std::optional<HttpResponse> Browser::Send(const std::string& method, const std::string& path,
                                          const json& body) {
  std::map<std::string, std::string> h;
  if (!cookie.empty()) h["Cookie"] = "zg_session=" + cookie;
  if (!csrf.empty()) h["X-CSRF-Token"] = csrf;
  std::string b;
  if (!body.is_null()) {
    h["Content-Type"] = "application/json";
    b = body.dump();
  }
  auto r = server->Request(method, path, h, b);
  if (r && r->headers.count("set-cookie")) {
    const std::string& sc = r->headers["set-cookie"];
    const auto eq = sc.find('='), semi = sc.find(';');
    cookie = sc.substr(eq + 1, semi - eq - 1);
  }
  return r;
}

bool Browser::Login(const std::string& user, const std::string& password,
                    const std::string& totp) {
  json body = {{"username", user}, {"password", password}};
  if (!totp.empty()) body["totp"] = totp;
  auto r = Send("POST", "/api/v1/auth/login", body);
  if (!r || r->status != 200) return false;
  csrf = r->Json()["csrf_token"];
  return true;
}

std::string Browser::LoginAndEnrol(const std::string& user, const std::string& password) {
  // The one-time enrolment code an administrator hands over out of band (issue 12 finding 8).
  auto issued = AsOperator(*server, "POST", "/api/v1/admin/users/" + user + "/enrolment-code");
  if (!issued || issued->status != 201) return "";
  if (!Login(user, password)) return "";
  auto e = Send("POST", "/api/v1/auth/mfa/enrol",
                {{"enrolment_code", issued->Json()["enrolment_code"]}});
  if (!e || e->status != 200) return "";
  auto secret = crypto::Base32Decode(e->Json()["secret"].get<std::string>());
  if (!secret.ok()) return "";
  auto c = Send("POST", "/api/v1/auth/mfa/confirm", {{"code", TotpNow(*secret)}});
  if (!c || c->status != 200) return "";
  return *secret;
}

bool AddSecurityOfficer(const ZengenServer& server, const std::string& id,
                        const std::string& organisation, const std::string& password) {
  // Two people: a data steward asks, the operator approves (identity/grant_rules.h).
  const std::string sponsor = id + "-sponsor";
  auto s = AsOperator(server, "POST", "/api/v1/admin/users",
                      {{"id", sponsor},
                       {"organisation", organisation},
                       {"display_name", sponsor},
                       {"email", sponsor + "@example.org"},
                       {"roles", {"data_steward"}},
                       {"password", password}});
  if (!s || s->status != 201) return false;
  Browser steward{&server};
  if (steward.LoginAndEnrol(sponsor, password).empty()) return false;
  auto u = steward.Send("POST", "/api/v1/admin/users",
                        {{"id", id},
                         {"organisation", organisation},
                         {"display_name", id},
                         {"email", id + "@example.org"},
                         {"roles", {"security_officer"}},
                         {"password", password}});
  if (!u || u->status != 201) return false;
  auto grants = AsOperator(server, "GET", "/api/v1/admin/role-grants");
  if (!grants || grants->status != 200) return false;
  const nlohmann::json items = grants->Json()["items"];
  for (const auto& g : items) {
    if (g["user"] != id) continue;
    auto a = AsOperator(server, "POST",
                        "/api/v1/admin/role-grants/" + g["id"].get<std::string>() + "/approve");
    return a && a->status == 200;
  }
  return false;
}

std::optional<HttpResponse> AsOperator(const ZengenServer& server, const std::string& method,
                                       const std::string& path, const json& body) {
  std::map<std::string, std::string> h = {
      {"Authorization", "Bearer " + server.operator_token()}};
  std::string b;
  if (!body.is_null()) {
    h["Content-Type"] = "application/json";
    b = body.dump();
  }
  return server.Request(method, path, h, b);
}

}  // namespace zengen::testing
