// The set-up identity_test and identity_routes_test share, on the module fixture
// (tests/support/module_fixture.h): a scratch store of the test's backend, an Identity with the
// cheapest password hashing, the organisations dc (data center) and hosp-a (hospital) and
// alice, a clinician of hosp-a, each created through Identity by the operator from the command
// line. Tests only.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>

#include "identity/identity.h"
#include "support/module_fixture.h"

namespace zengen::identity::testing {

inline constexpr const char* kPassword = "correct horse battery staple";

class IdentityFixture : public zengen::testing::ModuleTest {
 protected:
  // Opens the store and the Identity (`options` with the cheapest password cost) and creates
  // dc, hosp-a and alice. The clock starts at kStart. A failure is fatal to the test (callers
  // wrap the call in ASSERT_NO_FATAL_FAILURE).
  void OpenIdentity(Options options = {}) {
    clock_.Advance(std::chrono::duration_cast<std::chrono::milliseconds>(
        kStart - zengen::testing::TestNow()));
    ASSERT_NO_FATAL_FAILURE(OpenStore({}, /*pool_size=*/2));
    options.password_cost = crypto::PasswordCost::Minimal();
    identity_ = std::make_unique<Identity>(*store_, clock_, audit_, options);
    ASSERT_TRUE(identity_->CreateOrganisation({"dc", "Data center", "data_center", "JP"}, admin_)
                    .ok());
    ASSERT_TRUE(
        identity_->CreateOrganisation({"hosp-a", "Hospital A", "hospital", "JP"}, admin_).ok());
    ASSERT_TRUE(identity_
                    ->CreateUser(
                        {"alice", "hosp-a", "Alice", "alice@example.org", {"clinician"}, kPassword},
                        Grantor::Console(), admin_)
                    .ok());
  }

  // 2026-11-25T09:46:40Z, where the identity tests have always started.
  static constexpr std::chrono::system_clock::time_point kStart{std::chrono::seconds(1795600000)};

  const Actor admin_{"operator", "cli", ""};
  std::unique_ptr<Identity> identity_;  // destroyed before the store it uses
};

}  // namespace zengen::identity::testing
