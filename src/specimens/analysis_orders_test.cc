#include "specimens/analysis_orders.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "audit/testing.h"
#include "specimens/specimens_test_support.h"

namespace zengen::specimens {
namespace {

using namespace testing;

class AnalysisOrdersTest : public SpecimensTest {
 protected:
  // A specimen that passed QC with no order (DriveTo would order it from ac-1).
  std::string PassedWithoutOrder() {
    const std::string id = DriveTo("sequenced");
    auto r = specimens_->Custody(id, StepTo("qc_passed"), kOp1);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return id;
  }
  std::string OpenOrderCentre(const std::string& specimen) {
    auto tx = store_->Begin(storage::TxMode::kRead);
    EXPECT_TRUE(tx.ok());
    auto o = OpenOrder(**tx, specimen);
    EXPECT_TRUE(o.ok());
    return o->centre;
  }
  int Audited(std::string_view action, std::string_view decision) {
    int n = 0;
    for (const auto& e : audit_.events()) n += e.action == action && e.decision == decision;
    return n;
  }
};

TEST(OrderTableTest, OpenIsTheOnlyStateWithStepsAndBothAreListed) {
  ASSERT_EQ(OrderTable().size(), 2u);
  for (const auto& t : OrderTable()) {
    EXPECT_EQ(t.from, "open");
    EXPECT_FALSE(t.description.empty());
  }
  EXPECT_EQ(OrderTable()[0].to, "started");
  EXPECT_EQ(OrderTable()[1].to, "cancelled");
}

// Issue 12 finding 2: only the ordered centre takes custody and so becomes the holder.
TEST_P(AnalysisOrdersTest, OnlyTheOrderedCentreTakesCustodyAndTheOrderStarts) {
  const std::string id = PassedWithoutOrder();
  // Without an order nobody may take it on, not even a real analysis centre.
  for (const Actor& a : {kAn1, kAn2}) {
    auto r = specimens_->Custody(id, StepTo("analysed"), a);
    ASSERT_FALSE(r.ok()) << a.user;
    EXPECT_EQ(r.error().code, "wrong_organisation") << a.user;
  }
  auto order = orders_->Create({id, "ac-2"}, kSteward);
  ASSERT_TRUE(order.ok()) << order.error().message;
  EXPECT_EQ(order->state, "open");
  EXPECT_EQ(order->basis, "steward");
  EXPECT_EQ(order->id.substr(0, 3), "AO-");
  auto other = specimens_->Custody(id, StepTo("analysed"), kAn1);
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().kind, ErrorKind::kPermissionDenied);
  EXPECT_EQ(other.error().code, "wrong_organisation");
  EXPECT_EQ(audit_.events().back().decision, "deny");
  EXPECT_EQ(specimens_->Get(id)->specimen.holder, "seq-1");

  auto taken = specimens_->Custody(id, StepTo("analysed"), kAn2);
  ASSERT_TRUE(taken.ok()) << taken.error().message;
  EXPECT_EQ(taken->specimen.holder, "ac-2");
  auto started = orders_->Get(order->id);
  EXPECT_EQ(started->state, "started");
  EXPECT_EQ(started->closed_by, "an-2");
  EXPECT_EQ(OpenOrderCentre(id), "");
  // A replay of the step changes nothing, for the centre and for anyone else.
  for (const Actor& a : {kAn2, kAn1}) {
    auto again = specimens_->Custody(id, StepTo("analysed"), a);
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error().code, "invalid_transition");
  }
  EXPECT_EQ(specimens_->Get(id)->history.size(), 7u);
}

TEST_P(AnalysisOrdersTest, ACancelledOrderNoLongerLetsTheCentreIn) {
  const std::string id = DriveTo("qc_passed");  // ordered from ac-1
  auto list = orders_->ListForSpecimen(id, {.organisation = "dc", .roles = {"data_steward"}});
  ASSERT_EQ(list->size(), 1u);
  auto cancelled = orders_->Cancel((*list)[0].id, "wrong centre for this program", kSteward);
  ASSERT_TRUE(cancelled.ok()) << cancelled.error().message;
  EXPECT_EQ(cancelled->state, "cancelled");
  EXPECT_EQ(cancelled->reason, "wrong centre for this program");
  auto r = specimens_->Custody(id, StepTo("analysed"), kAn1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "wrong_organisation");
  policy::Subject an{.authenticated = true, .id = "an-1", .organisation = "ac-1"};
  EXPECT_EQ(specimens_->CustodyResource(id, "analysed", an)->holder, "");
  // A new order after the cancellation is allowed.
  ASSERT_TRUE(orders_->Create({id, "ac-2"}, kSteward).ok());
  EXPECT_TRUE(specimens_->Custody(id, StepTo("analysed"), kAn2).ok());
}

TEST_P(AnalysisOrdersTest, CreateChecksInputStewardCentreStateAndDuplicates) {
  const std::string id = DriveTo("received");
  EXPECT_EQ(orders_->Create({"", "ac-1"}, kSteward).error().field, "specimen_id");
  EXPECT_EQ(orders_->Create({id, ""}, kSteward).error().field, "centre");
  for (const Actor& a : {kClinA, kOp1, kAn1, kAn2}) {
    auto r = orders_->Create({id, a.organisation}, a);
    ASSERT_FALSE(r.ok()) << a.user;
    EXPECT_EQ(r.error().code, "not_data_steward") << a.user;
    EXPECT_EQ(audit_.events().back().action, "analysis_order.write");
    EXPECT_EQ(audit_.events().back().decision, "deny");
  }
  EXPECT_EQ(orders_->Create({"SP-NOPE", "ac-1"}, kSteward).error().code, "specimen_not_found");
  // The centre must be a registered analysis centre: a facility, a hospital, the data
  // centre or an unknown id is refused naming the field.
  for (const char* bad : {"seq-1", "hosp-a", "dc", "nowhere"}) {
    auto r = orders_->Create({id, bad}, kSteward);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, "invalid_centre") << bad;
    EXPECT_EQ(r.error().field, "centre");
  }
  auto first = orders_->Create({id, "ac-1"}, kSteward);  // ahead of QC
  ASSERT_TRUE(first.ok()) << first.error().message;
  auto second = orders_->Create({id, "ac-2"}, kSteward);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, "order_exists");
  EXPECT_EQ(Audited("analysis_order.write", "allow"), 1);
  const std::string done = DriveTo("analysed");
  EXPECT_EQ(orders_->Create({done, "ac-2"}, kSteward).error().code, "invalid_specimen_state");
}

TEST_P(AnalysisOrdersTest, ConcurrentOrdersForOneSpecimenMakeOne) {
  const std::string id = PassedWithoutOrder();
  std::atomic<int> ok{0}, exists{0}, other{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      auto r = orders_->Create({id, i % 2 ? "ac-1" : "ac-2"}, kSteward);
      if (r.ok()) {
        ++ok;
      } else if (r.error().code == "order_exists" || r.error().code == "concurrent_change" ||
                 r.error().kind == ErrorKind::kConflict) {
        ++exists;
      } else {
        ++other;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 1);
  EXPECT_EQ(exists.load(), 3);
  EXPECT_EQ(other.load(), 0);
}

TEST_P(AnalysisOrdersTest, CancelNeedsAStewardAReasonAndAnOpenOrder) {
  const std::string id = DriveTo("qc_passed");
  const std::string order = orders_->ListForSpecimen(id, {.roles = {"data_steward"}})->at(0).id;
  EXPECT_EQ(orders_->Cancel(order, "", kSteward).error().field, "reason");
  EXPECT_EQ(orders_->Cancel(order, std::string(kMaxReasonBytes + 1, 'r'), kSteward).error().code,
            "value_too_long");
  auto by_centre = orders_->Cancel(order, "we are busy", kAn1);
  EXPECT_EQ(by_centre.error().code, "not_data_steward");
  EXPECT_EQ(audit_.events().back().decision, "deny");
  EXPECT_EQ(orders_->Cancel("AO-NOPE", "typo", kSteward).error().code, "order_not_found");
  ASSERT_TRUE(specimens_->Custody(id, StepTo("analysed"), kAn1).ok());
  auto late = orders_->Cancel(order, "too late", kSteward);
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code, "invalid_transition");
  EXPECT_EQ(orders_->Get(order)->state, "started");

  const std::string id2 = DriveTo("qc_passed");
  const std::string order2 = orders_->ListForSpecimen(id2, {.roles = {"data_steward"}})->at(0).id;
  ASSERT_TRUE(orders_->Cancel(order2, "duplicate sample", kSteward).ok());
  EXPECT_EQ(orders_->Cancel(order2, "again", kSteward).error().code, "invalid_transition");
  EXPECT_EQ(Audited("analysis_order.write", "allow"), 3);  // two orders made, one cancelled
}

TEST_P(AnalysisOrdersTest, TheHolderSeesEveryOrderACentreOnlyItsOwn) {
  const std::string id = PassedWithoutOrder();
  const std::string a = orders_->Create({id, "ac-2"}, kSteward)->id;
  ASSERT_TRUE(orders_->Cancel(a, "reassigned", kSteward).ok());
  clock_.Advance(60s);  // oldest first
  const std::string b = orders_->Create({id, "ac-1"}, kSteward)->id;
  const auto ids = [&](const policy::Subject& s) {
    std::vector<std::string> out;
    auto list = orders_->ListForSpecimen(id, s);
    EXPECT_TRUE(list.ok());
    for (const auto& o : *list) out.push_back(o.id);
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(ids({.organisation = "seq-1", .roles = {"sequencing_operator"}}), (V{a, b}));
  EXPECT_EQ(ids({.organisation = "dc", .roles = {"data_steward"}}), (V{a, b}));
  EXPECT_EQ(ids({.organisation = "ac-1", .roles = {"analyst"}}), (V{b}));
  EXPECT_EQ(ids({.organisation = "ac-2", .roles = {"analyst"}}), (V{a}));
  EXPECT_EQ(ids({.organisation = "seq-2", .roles = {"sequencing_operator"}}), V{});
  EXPECT_EQ(ids({.organisation = "hosp-b", .roles = {"clinician"}}), V{});
  // The policy resource names the holder, and the caller's centre only when an order names it.
  policy::Subject ac1{.organisation = "ac-1"}, seq2{.organisation = "seq-2"};
  auto r = orders_->SpecimenOrdersResource(id, ac1);
  EXPECT_EQ(r->organisation, "seq-1");
  EXPECT_EQ(r->holder, "ac-1");
  EXPECT_EQ(orders_->SpecimenOrdersResource(id, seq2)->holder, "");
  EXPECT_EQ(orders_->SpecimenOrdersResource("SP-NOPE", ac1).error().code, "specimen_not_found");
}

TEST_P(AnalysisOrdersTest, AProgramRuleOrdersTheAnalysisWhenQcPasses) {
  EXPECT_EQ(orders_->SetRule("oncology", "ac-2", kSteward).error().field, "program");
  EXPECT_EQ(orders_->SetRule("cancer", "seq-1", kSteward).error().field, "centre");
  EXPECT_EQ(orders_->SetRule("cancer", "ac-2", kAn2).error().code, "not_data_steward");
  ASSERT_TRUE(orders_->SetRule("rare_disease", "ac-1", kSteward).ok());
  ASSERT_TRUE(orders_->SetRule("cancer", "ac-2", kSteward).ok());  // the participant's program
  ASSERT_EQ(orders_->ListRules()->size(), 2u);

  const std::string id = PassedWithoutOrder();
  EXPECT_EQ(OpenOrderCentre(id), "ac-2");
  auto made = orders_->ListForSpecimen(id, {.roles = {"data_steward"}});
  ASSERT_EQ(made->size(), 1u);
  EXPECT_EQ((*made)[0].basis, "program_rule");
  EXPECT_EQ((*made)[0].ordered_by, "op-1");
  EXPECT_EQ(audit_.events().back().action, "analysis_order.write");
  EXPECT_EQ(specimens_->Custody(id, StepTo("analysed"), kAn1).error().code, "wrong_organisation");
  EXPECT_TRUE(specimens_->Custody(id, StepTo("analysed"), kAn2).ok());

  // An order made ahead of QC wins over the rule.
  const std::string early = DriveTo("sequenced");
  ASSERT_TRUE(orders_->Create({early, "ac-1"}, kSteward).ok());
  ASSERT_TRUE(specimens_->Custody(early, StepTo("qc_passed"), kOp1).ok());
  EXPECT_EQ(OpenOrderCentre(early), "ac-1");

  ASSERT_TRUE(orders_->ClearRule("cancer", kSteward).ok());
  EXPECT_EQ(orders_->ClearRule("cancer", kSteward).error().code, "rule_not_found");
  EXPECT_EQ(OpenOrderCentre(PassedWithoutOrder()), "");
}

TEST_P(AnalysisOrdersTest, IncomingListsShipmentsToMeAndOrdersForMe) {
  const std::string shipped = DriveTo("shipped");  // to seq-1
  const std::string passed = DriveTo("qc_passed");  // ordered from ac-1
  const std::string received = DriveTo("received");
  const auto ids = [&](const std::string& org) {
    std::vector<std::string> out;
    auto list = specimens_->Incoming(org);
    EXPECT_TRUE(list.ok());
    for (const auto& s : *list) out.push_back(s.id);
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(ids("seq-1"), V{shipped});
  EXPECT_EQ(specimens_->Incoming("seq-1")->at(0).destination, "seq-1");
  EXPECT_EQ(ids("seq-2"), V{});
  EXPECT_EQ(ids("ac-1"), V{passed});
  EXPECT_EQ(ids("ac-2"), V{});
  EXPECT_EQ(ids("hosp-a"), V{});
  EXPECT_EQ(ids(""), V{});
  ASSERT_TRUE(specimens_->Custody(passed, StepTo("analysed"), kAn1).ok());
  EXPECT_EQ(ids("ac-1"), V{});
  (void)received;
}

TEST_P(AnalysisOrdersTest, TheDestinationRejectsWithAReasonAndTheHospitalShipsAgain) {
  const std::string id = DriveTo("shipped");
  auto no_reason = specimens_->Custody(id, {"rejected", "", ""}, kOp1);
  ASSERT_FALSE(no_reason.ok());
  EXPECT_EQ(no_reason.error().kind, ErrorKind::kInvalidArgument);
  EXPECT_EQ(no_reason.error().field, "note");
  EXPECT_EQ(specimens_->Custody(id, StepTo("rejected"), kOp2).error().code, "wrong_organisation");
  EXPECT_EQ(specimens_->Custody(id, StepTo("rejected"), kClinA).error().code, "wrong_role");
  auto rejected = specimens_->Custody(id, StepTo("rejected"), kOp1);
  ASSERT_TRUE(rejected.ok()) << rejected.error().message;
  EXPECT_EQ(rejected->specimen.state, "rejected");
  EXPECT_EQ(rejected->specimen.holder, "hosp-a");
  EXPECT_EQ(rejected->specimen.destination, "");
  EXPECT_EQ(rejected->history.back().note, "tube broken in transit");
  EXPECT_EQ(rejected->history.back().organisation, "seq-1");
  EXPECT_TRUE(specimens_->Incoming("seq-1")->empty());
  // The facility cannot receive what it refused; the hospital ships again, elsewhere.
  EXPECT_EQ(specimens_->Custody(id, StepTo("received"), kOp1).error().code,
            "invalid_transition");
  EXPECT_EQ(specimens_->Custody(id, {"shipped", "", "seq-2"}, kClinB).error().code,
            "wrong_organisation");
  auto again = specimens_->Custody(id, {"shipped", "new tube", "seq-2"}, kClinA);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->specimen.destination, "seq-2");
  EXPECT_EQ(specimens_->Incoming("seq-2")->size(), 1u);
  EXPECT_TRUE(specimens_->Custody(id, StepTo("received"), kOp2).ok());
}

TEST_P(AnalysisOrdersTest, ReadResourceAdmitsTheDestinationAndTheOrderedCentre) {
  const std::string id = DriveTo("shipped");
  const policy::Subject seq1{.organisation = "seq-1"}, seq2{.organisation = "seq-2"},
      ac1{.organisation = "ac-1"}, ac2{.organisation = "ac-2"};
  EXPECT_EQ(specimens_->ReadResource(id, seq1)->holder, "seq-1");
  EXPECT_EQ(specimens_->ReadResource(id, seq2)->holder, "hosp-a");
  EXPECT_EQ(specimens_->ReadResource(id, seq1)->organisation, "hosp-a");
  const std::string passed = DriveTo("qc_passed");
  EXPECT_EQ(specimens_->ReadResource(passed, ac1)->holder, "ac-1");
  EXPECT_EQ(specimens_->ReadResource(passed, ac2)->holder, "seq-1");
  EXPECT_EQ(specimens_->ReadResource("SP-NOPE", ac1).error().code, "specimen_not_found");
}

TEST_P(AnalysisOrdersTest, AnalysedByNamesOnlyTheCentreThatTookCustody) {
  const std::string id = DriveTo("analysed");
  auto tx = store_->Begin(storage::TxMode::kRead);
  ASSERT_TRUE(tx.ok());
  EXPECT_TRUE(*AnalysedBy(**tx, participant_, "ac-1"));
  EXPECT_FALSE(*AnalysedBy(**tx, participant_, "ac-2"));
  EXPECT_FALSE(*AnalysedBy(**tx, participant_, "seq-1"));
  EXPECT_FALSE(*AnalysedBy(**tx, "ZG-NOPE", "ac-1"));
  (void)id;
}

// Orders, cancellations and program rules commit with their audit records or not at all.
TEST_P(AnalysisOrdersTest, AnOrderChangeAndItsAuditRecordCommitTogetherOrNotAtAll) {
  audit::testing::FailAfterWriteSink sink(*store_, clock_);
  AnalysisOrders faulty(*store_, clock_, sink);
  const auto records = [&](std::string_view action) {
    return audit::testing::CountRecords(*store_, action);
  };
  const policy::Subject steward{.roles = {"data_steward"}};
  const std::string id = DriveTo("qc_passed");  // ordered for ac-1 by the steward
  const std::string order = orders_->ListForSpecimen(id, steward)->at(0).id;

  EXPECT_EQ(faulty.Cancel(order, "wrong centre", kSteward).error().code, "audit_injected_failure");
  EXPECT_EQ(orders_->Get(order)->state, "open");
  ASSERT_TRUE(orders_->Cancel(order, "wrong centre", kSteward).ok());

  EXPECT_EQ(faulty.Create({id, "ac-2"}, kSteward).error().code, "audit_injected_failure");
  EXPECT_EQ(orders_->ListForSpecimen(id, steward)->size(), 1u);  // the cancelled one only

  EXPECT_EQ(faulty.SetRule("cancer", "ac-2", kSteward).error().code, "audit_injected_failure");
  EXPECT_TRUE(orders_->ListRules()->empty());
  ASSERT_TRUE(orders_->SetRule("cancer", "ac-2", kSteward).ok());
  EXPECT_EQ(faulty.ClearRule("cancer", kSteward).error().code, "audit_injected_failure");
  EXPECT_EQ(orders_->ListRules()->size(), 1u);
  EXPECT_EQ(records("analysis_order.write"), 0);
  EXPECT_EQ(records("analysis_order.rule"), 0);

  sink.fail_after_write = false;
  ASSERT_TRUE(faulty.Create({id, "ac-2"}, kSteward).ok());
  ASSERT_TRUE(faulty.ClearRule("cancer", kSteward).ok());
  EXPECT_EQ(records("analysis_order.write"), 1);
  EXPECT_EQ(records("analysis_order.rule"), 1);
}

INSTANTIATE_TEST_SUITE_P(Backends, AnalysisOrdersTest, ::testing::ValuesIn(storage::TestBackends()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace zengen::specimens
