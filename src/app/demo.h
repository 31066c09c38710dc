// The synthetic cohort `zengen demo` loads into a fresh data directory: organisations of every
// kind, one user per role, and participants across cancer types and rare diseases with varied
// consent, clinical records and specimens. Everything is generated from a fixed seed, so two
// demo directories hold the same cohort; nothing is read from outside the repository.
#pragma once

#include <string>
#include <vector>

#include "app/runtime.h"

namespace zengen::app {

inline constexpr const char* kDemoPassword = "zengen-demo-passphrase";

struct DemoUser {
  std::string id;
  std::string organisation;
  std::string role;
};

// The demo's accounts, all with kDemoPassword; each enrols TOTP at first login.
const std::vector<DemoUser>& DemoUsers();

struct DemoSummary {
  int organisations = 0;
  int users = 0;
  int participants = 0;
  int consents = 0;
  int withdrawals = 0;
  int clinical_records = 0;
  int specimens = 0;
  int findings = 0;
};

// Loads the cohort. REQUIRES: a fresh data directory (the organisations must not exist).
Result<DemoSummary> SeedDemo(Runtime& rt, int participants = 240);

}  // namespace zengen::app
