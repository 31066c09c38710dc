// Fixture shared by specimens_test.cc and analysis_orders_test.cc: the module-test fixture
// (tests/support/module_fixture.h: a scratch database on one backend, fake clock, audit
// recorder) with organisations of every kind, one participant at hosp-a, Specimens and
// AnalysisOrders, and a helper that drives a specimen into any custody state. Tests only.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "specimens/analysis_orders.h"
#include "specimens/specimens.h"
#include "support/module_fixture.h"

namespace zengen::specimens::testing {

using namespace std::chrono_literals;

using ::zengen::testing::Person;

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

class SpecimensTest : public ::zengen::testing::ModuleTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(OpenStore({{"hosp-a", "hospital"},
                                       {"hosp-b", "hospital"},
                                       {"seq-1", "sequencing_facility"},
                                       {"seq-2", "sequencing_facility"},
                                       {"ac-1", "analysis_center"},
                                       {"ac-2", "analysis_center"},
                                       {"dc", "data_center"}}));
    participant_ = RegisterParticipant("MRN-1");
    ASSERT_FALSE(participant_.empty());
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

  std::unique_ptr<Specimens> specimens_;
  std::unique_ptr<AnalysisOrders> orders_;
  std::string participant_;
};

}  // namespace zengen::specimens::testing
