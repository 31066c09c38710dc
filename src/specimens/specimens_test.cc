#include "specimens/specimens.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <thread>

#include "audit/testing.h"
#include "specimens/specimens_test_support.h"

namespace zengen::specimens {
namespace {

using namespace std::chrono_literals;
using namespace testing;

TEST(CustodyTableTest, ListsEveryAllowedStepOnceBetweenKnownStates) {
  EXPECT_EQ(CustodyTable().size(), 10u);
  for (const auto& t : CustodyTable()) {
    SCOPED_TRACE(std::string(t.from) + " -> " + std::string(t.to));
    EXPECT_TRUE(IsState(t.from));
    EXPECT_TRUE(IsState(t.to));
    EXPECT_EQ(FindTransition(t.from, t.to), &t);
    EXPECT_FALSE(t.description.empty());
    EXPECT_EQ(t.needs_destination, t.to == "shipped");
    EXPECT_EQ(t.needs_note, t.to == "rejected");
  }
  using V = std::vector<std::string>;
  EXPECT_EQ(AllowedNext("sequenced"), (V{"qc_passed", "qc_failed"}));
  EXPECT_EQ(AllowedNext("qc_failed"), (V{"received"}));
  EXPECT_EQ(AllowedNext("analysed"), V{});
  EXPECT_EQ(AllowedNext("shipped"), (V{"received", "rejected"}));
  EXPECT_EQ(AllowedNext("rejected"), (V{"shipped"}));
}

TEST_P(SpecimensTest, RegistersCollectedAtTheHospitalWithAFirstCustodyEvent) {
  auto s = specimens_->Register(Valid(), kClinA);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->id.substr(0, 3), "SP-");
  EXPECT_EQ(s->id.size(), 19u);
  EXPECT_EQ(s->state, "collected");
  EXPECT_EQ(s->holder, "hosp-a");
  EXPECT_EQ(s->hospital, "hosp-a");
  auto d = specimens_->Get(s->id);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->specimen.preservation, "FFPE");
  ASSERT_EQ(d->history.size(), 1u);
  EXPECT_EQ(d->history[0].from, "");
  EXPECT_EQ(d->history[0].to, "collected");
  EXPECT_EQ(d->history[0].organisation, "hosp-a");
  EXPECT_EQ(d->history[0].user, "clin-a");
  EXPECT_EQ(d->history[0].note, "biopsy");
  EXPECT_EQ(d->history[0].time, "2026-11-24T00:00:00.000Z");
  EXPECT_NE(Register(), s->id);
  const auto events = audit_.events();
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().action, "specimen.write");
  EXPECT_EQ(events.back().resource.substr(0, 12), "specimen/SP-");
}

TEST_P(SpecimensTest, RegistrationRejectsBadInputNamingTheField) {
  struct Case {
    std::function<void(NewSpecimen&)> change;
    std::string field;
  };
  const std::vector<Case> cases = {
      {[](NewSpecimen& n) { n.tumour_normal = "tumor"; }, "tumour_normal"},
      {[](NewSpecimen& n) { n.specimen_type = "urine"; }, "specimen_type"},
      {[](NewSpecimen& n) { n.preservation = "ffpe"; }, "preservation"},
      {[](NewSpecimen& n) { n.collection_date = "2026-02-30"; }, "collection_date"},
      {[](NewSpecimen& n) { n.collection_date = "2026/06/02"; }, "collection_date"},
      {[](NewSpecimen& n) { n.collection_date = "2026-11-25"; }, "collection_date"},  // future
      {[](NewSpecimen& n) { n.collection_date = "2016-05-31"; }, "collection_date"},  // > 10 y
      {[](NewSpecimen& n) { n.note = std::string(kMaxNoteBytes + 1, 'x'); }, "note"},
  };
  for (const auto& c : cases) {
    NewSpecimen n = Valid();
    c.change(n);
    auto r = specimens_->Register(n, kClinA);
    ASSERT_FALSE(r.ok()) << c.field;
    EXPECT_EQ(r.error().kind, ErrorKind::kInvalidArgument) << c.field;
    EXPECT_EQ(r.error().field, c.field) << r.error().message;
  }
  // The bounds themselves are accepted: today, and exactly ten years before the index date.
  for (const char* date : {"2026-11-24", "2016-06-01"}) {
    NewSpecimen n = Valid();
    n.collection_date = date;
    EXPECT_TRUE(specimens_->Register(n, kClinA).ok()) << date;
  }
  NewSpecimen unknown = Valid();
  unknown.participant_id = "ZG-NOPE";
  EXPECT_EQ(specimens_->Register(unknown, kClinA).error().code, "participant_not_found");
}

TEST_P(SpecimensTest, OnlyAClinicianOfTheParticipantsHospitalRegisters) {
  for (const Actor& a : {kClinB, kOp1, kSteward, Person("x", "hosp-a", "data_steward")}) {
    auto r = specimens_->Register(Valid(), a);
    ASSERT_FALSE(r.ok()) << a.user;
    EXPECT_EQ(r.error().kind, ErrorKind::kPermissionDenied) << a.user;
    EXPECT_EQ(r.error().code, "not_participant_hospital");
  }
  EXPECT_EQ(audit_.events().back().decision, "deny");
  EXPECT_TRUE(specimens_->ListForParticipant(participant_)->empty());
}

// Every (from, to) pair of the nine states: the table's rows succeed with the right person,
// every other pair is refused as invalid_transition whoever asks.
TEST_P(SpecimensTest, EveryPairOfStatesFollowsTheTable) {
  int allowed = 0;
  for (auto from : kStates) {
    for (auto to : kStates) {
      SCOPED_TRACE(std::string(from) + " -> " + std::string(to));
      const std::string id = DriveTo(from);
      const Transition* t = FindTransition(from, to);
      if (t != nullptr) {
        ++allowed;
        const std::string holder_before = specimens_->Get(id)->specimen.holder;
        auto r = specimens_->Custody(id, StepTo(to), RightActor(*t));
        ASSERT_TRUE(r.ok()) << r.error().message;
        EXPECT_EQ(r->specimen.state, to);
        const std::string expected_holder = t->holder_after == NewHolder::kUnchanged ? holder_before
                                            : t->holder_after == NewHolder::kDestination
                                                ? "seq-1"
                                                : RightActor(*t).organisation;
        EXPECT_EQ(r->specimen.holder, expected_holder);
        continue;
      }
      for (const Actor& a : {kClinA, kOp1, kAn1, kSteward}) {
        CustodyStep step = StepTo(to);
        auto r = specimens_->Custody(id, step, a);
        ASSERT_FALSE(r.ok()) << a.user;
        EXPECT_EQ(r.error().kind, ErrorKind::kConflict);
        EXPECT_EQ(r.error().code, "invalid_transition");
        EXPECT_NE(r.error().message.find("'" + std::string(from) + "'"), std::string::npos)
            << r.error().message;
        EXPECT_NE(r.error().message.find("'" + std::string(to) + "'"), std::string::npos);
        const auto next = AllowedNext(from);
        for (const auto& n : next) {
          EXPECT_NE(r.error().message.find(n), std::string::npos) << r.error().message;
        }
        if (next.empty()) {
          EXPECT_NE(r.error().message.find("none"), std::string::npos);
        }
      }
      EXPECT_EQ(specimens_->Get(id)->specimen.state, from);
    }
  }
  EXPECT_EQ(allowed, static_cast<int>(CustodyTable().size()));
}

// Per row of the table, everyone but the right role at the right organisation is refused.
TEST_P(SpecimensTest, WrongRoleOrOrganisationIsRefusedForEveryStep) {
  const std::vector<Actor> everyone = {kClinA, kClinB, kOp1, kOp2, kAn1, kAn2, kAnSeq, kSteward};
  for (const auto& t : CustodyTable()) {
    SCOPED_TRACE(std::string(t.from) + " -> " + std::string(t.to));
    const std::string id = DriveTo(t.from);
    for (const Actor& a : everyone) {
      const bool right_role = a.HasRole(t.role);
      bool right_org = false;
      switch (t.acting) {
        case ActingOrganisation::kHolder:
          right_org = a.organisation == specimens_->Get(id)->specimen.holder;
          break;
        case ActingOrganisation::kDestination:
          right_org = a.organisation == "seq-1";
          break;
        case ActingOrganisation::kOrderedCentre:
          right_org = a.organisation == "ac-1";  // DriveTo orders the analysis by ac-1
          break;
      }
      if (right_role && right_org) continue;
      auto r = specimens_->Custody(id, StepTo(t.to), a);
      ASSERT_FALSE(r.ok()) << a.user;
      EXPECT_EQ(r.error().kind, ErrorKind::kPermissionDenied) << a.user;
      EXPECT_EQ(r.error().code, right_role ? "wrong_organisation" : "wrong_role") << a.user;
      EXPECT_EQ(audit_.events().back().decision, "deny");
      EXPECT_EQ(audit_.events().back().action, "specimen.custody");
    }
    EXPECT_EQ(specimens_->Get(id)->specimen.state, t.from);
  }
  // Another analysis centre may not take on a specimen ordered from ac-1 (issue 12 finding
  // 2: on the old table any centre could, and became the holder).
  const std::string id = DriveTo("qc_passed");
  auto r = specimens_->Custody(id, StepTo("analysed"), kAn2);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "wrong_organisation");
  EXPECT_EQ(r.error().message.find("ac-1"), std::string::npos) << "names the ordered centre";
  EXPECT_EQ(specimens_->Get(id)->specimen.holder, "seq-1");
}

TEST_P(SpecimensTest, ShippingNeedsASequencingFacilityAsDestination) {
  const std::string id = Register();
  auto missing = specimens_->Custody(id, {"shipped", "", ""}, kClinA);
  EXPECT_EQ(missing.error().code, "missing_field");
  EXPECT_EQ(missing.error().field, "destination");
  for (const char* bad : {"hosp-b", "ac-1", "nowhere"}) {
    auto r = specimens_->Custody(id, {"shipped", "", bad}, kClinA);
    EXPECT_EQ(r.error().code, "invalid_destination") << bad;
    EXPECT_EQ(r.error().field, "destination");
  }
  ASSERT_TRUE(specimens_->Custody(id, {"shipped", "courier 42", "seq-2"}, kClinA).ok());
  auto d = specimens_->Get(id);
  EXPECT_EQ(d->specimen.destination, "seq-2");
  EXPECT_EQ(d->specimen.holder, "hosp-a");
  // Only seq-2 may receive it; a destination on another step is refused.
  EXPECT_EQ(specimens_->Custody(id, StepTo("received"), kOp1).error().code, "wrong_organisation");
  auto extra = specimens_->Custody(id, {"received", "", "seq-2"}, kOp2);
  EXPECT_EQ(extra.error().code, "unexpected_field");
  auto ok = specimens_->Custody(id, StepTo("received"), kOp2);
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->specimen.holder, "seq-2");
  EXPECT_EQ(ok->specimen.destination, "");
  EXPECT_EQ(specimens_->Custody(id, {"bogus", "", ""}, kOp2).error().field, "to");
  EXPECT_EQ(
      specimens_->Custody(id, {"library_prepared", std::string(kMaxNoteBytes + 1, 'n'), ""}, kOp2)
          .error()
          .field,
      "note");
  EXPECT_EQ(specimens_->Custody("SP-NOPE", StepTo("shipped"), kClinA).error().code,
            "specimen_not_found");
}

TEST_P(SpecimensTest, HolderMovesAndHistoryRecordsWhoWhereAndWhen) {
  const std::string id = DriveTo("analysed");
  auto d = specimens_->Get(id);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->specimen.holder, "ac-1");
  struct Want {
    const char* from;
    const char* to;
    const char* org;
    const char* user;
  };
  const std::vector<Want> want = {{"", "collected", "hosp-a", "clin-a"},
                                  {"collected", "shipped", "hosp-a", "clin-a"},
                                  {"shipped", "received", "seq-1", "op-1"},
                                  {"received", "library_prepared", "seq-1", "op-1"},
                                  {"library_prepared", "sequenced", "seq-1", "op-1"},
                                  {"sequenced", "qc_passed", "seq-1", "op-1"},
                                  {"qc_passed", "analysed", "ac-1", "an-1"}};
  ASSERT_EQ(d->history.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE(i);
    const auto& e = d->history[i];
    EXPECT_EQ(e.seq, static_cast<int64_t>(i + 1));
    EXPECT_EQ(e.from, want[i].from);
    EXPECT_EQ(e.to, want[i].to);
    EXPECT_EQ(e.organisation, want[i].org);
    EXPECT_EQ(e.user, want[i].user);
    EXPECT_EQ(e.time, fmt::format("2026-11-24T00:{:02d}:00.000Z", i));
    EXPECT_EQ(e.destination, i == 1 ? "seq-1" : "");
  }
  // Re-sequencing after a failed QC goes back to received at the same facility.
  const std::string failed = DriveTo("qc_failed");
  auto again = specimens_->Custody(failed, {"received", "new library", ""}, kOp1);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->specimen.holder, "seq-1");
  EXPECT_EQ(again->history.back().note, "new library");
}

TEST_P(SpecimensTest, ConcurrentStepsFromTheSameStateApplyOnce) {
  const std::string id = DriveTo("sequenced");
  for (int round = 0; round < 3; ++round) {
    const std::string sid = round == 0 ? id : DriveTo("sequenced");
    std::atomic<int> ok{0}, conflict{0}, other{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 6; ++i) {
      threads.emplace_back([&, i] {
        auto r = specimens_->Custody(sid, StepTo(i % 2 ? "qc_passed" : "qc_failed"), kOp1);
        if (r.ok()) {
          ++ok;
        } else if (r.error().kind == ErrorKind::kConflict) {
          ++conflict;
        } else {
          ++other;
        }
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(ok.load(), 1);
    EXPECT_EQ(conflict.load(), 5);
    EXPECT_EQ(other.load(), 0);
    EXPECT_EQ(specimens_->Get(sid)->history.size(), 6u);  // registration + 4 + one QC result
  }
}

TEST_P(SpecimensTest, QueriesByParticipantHolderAndState) {
  const std::string a = DriveTo("received");
  const std::string b = DriveTo("sequenced");
  const std::string c = Register();
  auto mine = specimens_->ListForParticipant(participant_);
  ASSERT_TRUE(mine.ok());
  EXPECT_EQ(mine->size(), 3u);
  auto queue = specimens_->ListHeldBy("seq-1");
  ASSERT_TRUE(queue.ok());
  ASSERT_EQ(queue->size(), 2u);
  auto received = specimens_->ListHeldBy("seq-1", "received");
  ASSERT_EQ(received->size(), 1u);
  EXPECT_EQ((*received)[0].id, a);
  EXPECT_TRUE(specimens_->ListHeldBy("seq-2")->empty());
  EXPECT_EQ(specimens_->ListHeldBy("hosp-a")->at(0).id, c);
  EXPECT_EQ(specimens_->ListHeldBy("seq-1", "done").error().field, "state");
  auto counts = specimens_->CountByState();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->size(), 9u);
  EXPECT_EQ(counts->at("collected"), 1);
  EXPECT_EQ(counts->at("received"), 1);
  EXPECT_EQ(counts->at("sequenced"), 1);
  EXPECT_EQ(counts->at("analysed"), 0);
  EXPECT_EQ(specimens_->CountByState("seq-1")->at("collected"), 0);
  EXPECT_EQ(specimens_->ListForParticipant("ZG-NOPE").error().code, "participant_not_found");
  (void)b;
}

TEST_P(SpecimensTest, ResourcesNameHospitalAndTheOrganisationThatMayAct) {
  const std::string id = Register();
  ASSERT_TRUE(specimens_->Custody(id, StepTo("shipped"), kClinA).ok());
  auto r = specimens_->SpecimenResource(id);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->organisation, "hosp-a");
  EXPECT_EQ(r->holder, "hosp-a");
  policy::Subject op{.authenticated = true, .id = "op-1", .organisation = "seq-1"};
  EXPECT_EQ(specimens_->CustodyResource(id, "received", op)->holder, "seq-1");
  EXPECT_EQ(specimens_->CustodyResource(id, "sequenced", op)->holder, "seq-1");  // in transit
  EXPECT_EQ(specimens_->ParticipantResource(participant_)->organisation, "hosp-a");
  const std::string passed = DriveTo("qc_passed");
  policy::Subject an{.authenticated = true, .id = "an-1", .organisation = "ac-1"};
  // The step to analysed is the ordered centre's, whoever asks.
  EXPECT_EQ(specimens_->CustodyResource(passed, "analysed", an)->holder, "ac-1");
  EXPECT_EQ(specimens_->CustodyResource(passed, "analysed", op)->holder, "ac-1");
  policy::Subject an2{.authenticated = true, .id = "an-2", .organisation = "ac-2"};
  EXPECT_EQ(specimens_->CustodyResource(passed, "analysed", an2)->holder, "ac-1");
}

// A registration, a custody step and the analysis order a program rule makes at QC pass commit
// together with their audit records (AuditSink::AppendInTransaction): when the record's write
// fails, neither the change nor the record is stored.
TEST_P(SpecimensTest, AChangeAndItsAuditRecordCommitTogetherOrNotAtAll) {
  audit::testing::FailAfterWriteSink sink(*store_, clock_);
  Specimens faulty(*store_, clock_, sink);
  const auto records = [&](std::string_view action) {
    return audit::testing::CountRecords(*store_, action);
  };

  auto registered = faulty.Register(Valid(), kClinA);
  ASSERT_FALSE(registered.ok());
  EXPECT_EQ(registered.error().code, "audit_injected_failure");
  EXPECT_TRUE(specimens_->ListForParticipant(participant_)->empty());
  EXPECT_EQ(records("specimen.write"), 0);

  const std::string id = Register();
  auto shipped = faulty.Custody(id, StepTo("shipped"), kClinA);
  ASSERT_FALSE(shipped.ok());
  EXPECT_EQ(shipped.error().code, "audit_injected_failure");
  auto d = specimens_->Get(id);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->specimen.state, "collected");
  EXPECT_EQ(d->history.size(), 1u);
  EXPECT_EQ(records("specimen.custody"), 0);

  // QC pass under a program rule: the step, the order it makes and both records, or nothing.
  ASSERT_TRUE(orders_->SetRule("cancer", "ac-1", kSteward).ok());
  const std::string seq = DriveTo("sequenced");
  auto passed = faulty.Custody(seq, StepTo("qc_passed"), kOp1);
  ASSERT_FALSE(passed.ok());
  EXPECT_EQ(specimens_->Get(seq)->specimen.state, "sequenced");
  EXPECT_TRUE(orders_->ListForSpecimen(seq, {.roles = {"data_steward"}})->empty());
  EXPECT_EQ(records("specimen.custody"), 0);
  EXPECT_EQ(records("analysis_order.write"), 0);

  // With the sink healthy the same steps commit, each with its record.
  sink.fail_after_write = false;
  ASSERT_TRUE(faulty.Custody(id, StepTo("shipped"), kClinA).ok());
  EXPECT_EQ(records("specimen.custody"), 1);
  ASSERT_TRUE(faulty.Custody(seq, StepTo("qc_passed"), kOp1).ok());
  EXPECT_EQ(records("specimen.custody"), 2);
  EXPECT_EQ(records("analysis_order.write"), 1);
  EXPECT_EQ(orders_->ListForSpecimen(seq, {.roles = {"data_steward"}})->size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Backends, SpecimensTest, ::testing::ValuesIn(storage::TestBackends()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace zengen::specimens
