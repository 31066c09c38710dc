// Fixture shared by specimens_test.cc and analysis_orders_test.cc: a scratch database on one
// backend with organisations of every kind, one participant at hosp-a, Specimens and
// AnalysisOrders, and a helper that drives a specimen into any custody state. Tests only.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "participants/participants.h"
#include "specimens/analysis_orders.h"
#include "specimens/specimens.h"
#include "storage/testing.h"

namespace zengen::specimens::testing {

using namespace std::chrono_literals;

inline Actor Person(std::string user, std::string org, std::string role) {
  return {std::move(user), std::move(org), {std::move(role)}, "10.0.0.1", "req-1"};
}

// Organisations and people shared by the module and route tests.
inline const Actor kClinA = Person("clin-a", "hosp-a", "clinician");
inline const Actor kClinB = Person("clin-b", "hosp-b", "clinician");
inline const Actor kOp1 = Person("op-1", "seq-1", "sequencing_operator");
inline const Actor kOp2 = Person("op-2", "seq-2", "sequencing_operator");
inline const Actor kAn1 = Person("an-1", "ac-1", "analyst");
inline const Actor kAn2 = Person("an-2", "ac-2", "analyst");
// An analyst, but not at an analysis centre.
inline const Actor kAnSeq = Person("an-seq", "seq-1", "analyst");
inline const Actor kSteward = Person("steward", "dc", "data_steward");

class SpecimensTest : public ::testing::TestWithParam<std::string> {
 protected:
  SpecimensTest() : clock_(std::chrono::sys_days{std::chrono::year{2026} / 11 / 24}) {}

  void SetUp() override {
    auto db = storage::ScratchDatabase::Create(GetParam());
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_.emplace(std::move(*db));
    auto store = storage::OpenStore({.location = db_->location(), .pool_size = 4});
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_ = std::move(*store);
    ASSERT_TRUE(storage::SeedOrganisations(*store_, {{"hosp-a", "hospital"},
                                                     {"hosp-b", "hospital"},
                                                     {"seq-1", "sequencing_facility"},
                                                     {"seq-2", "sequencing_facility"},
                                                     {"ac-1", "analysis_center"},
                                                     {"ac-2", "analysis_center"},
                                                     {"dc", "data_center"}})
                    .ok());
    participants::Registry registry(*store_, clock_, audit_, std::string(32, 'k'));
    auto p =
        registry.Register({"hosp-a", "MRN-1", "cancer", "lung", "2026-06-01"}, "clin-a", "cli", "");
    ASSERT_TRUE(p.ok()) << p.error().message;
    participant_ = p->participant.id;
    specimens_ = std::make_unique<Specimens>(*store_, clock_, audit_);
    orders_ = std::make_unique<AnalysisOrders>(*store_, clock_, audit_);
  }

  NewSpecimen Valid() const {
    return {participant_, "tumour", "solid_tissue", "FFPE", "2026-06-02", "biopsy"};
  }

  std::string Register() {
    auto s = specimens_->Register(Valid(), kClinA);
    EXPECT_TRUE(s.ok()) << s.error().message;
    return s.ok() ? s->id : "";
  }

  // The actor the table expects for a step on the canonical path (shipped to seq-1).
  static Actor RightActor(const Transition& t) {
    if (t.role == "clinician") return kClinA;
    if (t.role == "analyst") return kAn1;
    return kOp1;
  }
  static CustodyStep StepTo(std::string_view to) {
    return {std::string(to), to == "rejected" ? "tube broken in transit" : "",
            to == "shipped" ? "seq-1" : ""};
  }

  // Registers a specimen and moves it along the canonical path into `state`. On reaching
  // qc_passed the data steward orders its analysis by ac-1 (so kAn1 may take it on).
  std::string DriveTo(std::string_view state) {
    static const std::vector<std::string> kPathPassed = {
        "collected", "shipped",   "received", "library_prepared",
        "sequenced", "qc_passed", "analysed"};
    std::vector<std::string> path = kPathPassed;
    if (state == "qc_failed") {
      path = {"collected", "shipped", "received", "library_prepared", "sequenced", "qc_failed"};
    } else if (state == "rejected") {
      path = {"collected", "shipped", "rejected"};
    }
    const std::string id = Register();
    for (size_t i = 1; i < path.size() && path[i - 1] != state; ++i) {
      const Transition* t = FindTransition(path[i - 1], path[i]);
      EXPECT_NE(t, nullptr);
      clock_.Advance(60s);
      auto r = specimens_->Custody(id, StepTo(path[i]), RightActor(*t));
      EXPECT_TRUE(r.ok()) << path[i] << ": " << r.error().message;
      if (path[i] == "qc_passed") {
        auto o = orders_->Create({id, "ac-1"}, kSteward);
        EXPECT_TRUE(o.ok()) << o.error().message;
      }
    }
    EXPECT_EQ(specimens_->Get(id)->specimen.state, state);
    return id;
  }

  FakeClock clock_;
  RecordingAuditSink audit_;
  std::optional<storage::ScratchDatabase> db_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<Specimens> specimens_;
  std::unique_ptr<AnalysisOrders> orders_;
  std::string participant_;
};

}  // namespace zengen::specimens::testing
