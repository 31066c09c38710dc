// Test fixture shared by consent_test.cc and consent_routes_test.cc: a scratch database on one
// backend with the default ICFs, two hospitals and a participant registry. Tests only.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "common/audit_event.h"
#include "common/clock.h"
#include "consent/consent.h"
#include "participants/participants.h"
#include "storage/store.h"
#include "storage/testing.h"
#include "support/module_fixture.h"

namespace zengen::consent::testing {

using zengen::testing::TestNow;  // 2026-11-24T00:00:00Z

// On the module fixture (tests/support/module_fixture.h): its store (two connections) with the
// hospitals hosp-a and hosp-b, its clock at TestNow() and its audit recorder for the ledger.
class StoreFixture : public zengen::testing::ModuleTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(OpenStore({{"hosp-a", "hospital"}, {"hosp-b", "hospital"}}, 2));
    ASSERT_TRUE(EnsureDefaultIcf(*store_, clock_).ok());
    registry_ = std::make_unique<participants::Registry>(*store_, clock_, participant_audit_,
                                                         std::string(32, 'k'));
    ledger_ = std::make_unique<Ledger>(*store_, clock_, audit_);
  }

  void TearDown() override {
    ledger_.reset();
    registry_.reset();
    store_.reset();
  }

  // Registers a participant and returns its pseudonym.
  std::string NewParticipant(const std::string& local_id, const std::string& program = "cancer",
                             const std::string& hospital = "hosp-a",
                             const std::string& disease = "lung") {
    auto r = registry_->Register({hospital, local_id, program, disease, "2026-01-10"}, "test",
                                 "test", "");
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? r->participant.id : "";
  }

 public:
  // Every item of the program's default catalogue permitted (C11 needs a relative).
  static std::map<std::string, std::string> AllPermit(const std::string& program = "cancer") {
    std::map<std::string, std::string> d;
    for (const auto& item : DefaultCatalogue(program)) d[item.code] = "permit";
    return d;
  }

  static nlohmann::json Details() {
    return {{"signer", "self"},
            {"method", "paper"},
            {"designated_relative", {{"name", "Hanako"}, {"contact", "+81-3-0000-0000"}}},
            {"preferred_channel", "hospital"}};
  }

 protected:
  static ConsentInput Input(const std::string& kind, const std::string& version = "1.0",
                            const std::string& language = "ja",
                            std::map<std::string, std::string> decisions = AllPermit()) {
    return {kind, version, language, std::move(decisions), "2026-11-20", Details()};
  }

  RecordingAuditSink participant_audit_;
  std::unique_ptr<participants::Registry> registry_;
  std::unique_ptr<Ledger> ledger_;
  Actor actor_{"clin-a", "127.0.0.1", "req-1"};
};

}  // namespace zengen::consent::testing
