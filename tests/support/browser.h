// A browser-like HTTPS client for tests: keeps the session cookie and CSRF token, logs in and
// enrols TOTP like a person would.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "support/zengen_process.h"

namespace zengen::testing {

std::string TotpNow(const std::string& secret, int64_t offset_steps = 0);

struct Browser {
  const ZengenServer* server = nullptr;
  std::string cookie;
  std::string csrf;

  std::optional<HttpResponse> Send(const std::string& method, const std::string& path,
                                   const nlohmann::json& body = nullptr);
  // Password login; true on 200.
  bool Login(const std::string& user, const std::string& password, const std::string& totp = "");
  // Login, TOTP enrolment and confirmation; returns the TOTP secret ("" on failure).
  std::string LoginAndEnrol(const std::string& user, const std::string& password);
};

// Makes `id` a security officer of `organisation` the only way the grant rules allow over
// HTTPS: a data steward ("<id>-sponsor", created for this) asks and the operator approves.
bool AddSecurityOfficer(const ZengenServer& server, const std::string& id,
                        const std::string& organisation, const std::string& password);

// Calls the admin API with the server's operator token.
std::optional<HttpResponse> AsOperator(const ZengenServer& server, const std::string& method,
                                       const std::string& path,
                                       const nlohmann::json& body = nullptr);

}  // namespace zengen::testing
