// Fixture shared by findings_test.cc and findings_routes_test.cc: the module-test fixture
// (tests/support/module_fixture.h: a scratch database on one backend, fake clock, audit
// recorder) with organisations of every party, the default ICFs, participants with chosen
// consents, and helpers that drive a finding into any state. Tests only.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "consent/consent.h"
#include "findings/findings.h"
#include "participants/participants.h"
#include "support/module_fixture.h"

namespace zengen::findings::testing {

using ::zengen::testing::Person;

inline const Actor kAn1 = Person("an-1", "ac-1", "analyst");
inline const Actor kAn2 = Person("an-2", "ac-1", "analyst");  // the second pair of eyes
inline const Actor kAn3 = Person("an-3", "ac-2", "analyst");  // another analysis centre
inline const Actor kAnSeq = Person("an-seq", "seq-1", "analyst");  // not at an AC
inline const Actor kClinA = Person("clin-a", "hosp-a", "clinician");
inline const Actor kClinB = Person("clin-b", "hosp-b", "clinician");
inline const Actor kSteward = Person("steward", "dc", "data_steward");

class FindingsFixture : public ::zengen::testing::ModuleTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(OpenStore({{"hosp-a", "hospital"},
                                       {"hosp-b", "hospital"},
                                       {"seq-1", "sequencing_facility"},
                                       {"ac-1", "analysis_center"},
                                       {"ac-2", "analysis_center"},
                                       {"dc", "data_center"}}));
    ASSERT_TRUE(consent::EnsureDefaultIcf(*store_, clock_).ok());
    registry_ = std::make_unique<participants::Registry>(*store_, clock_, audit_,
                                                         std::string(32, 'k'));
    ledger_ = std::make_unique<consent::Ledger>(*store_, clock_, audit_);
    findings_ = std::make_unique<Findings>(*store_, clock_, audit_, *ledger_);
  }

  void TearDown() override {
    findings_.reset();
    ledger_.reset();
    registry_.reset();
    store_.reset();
  }

  // Records that `centre` took custody `analysed` of a specimen of the participant (what the
  // custody steps leave behind; only such a centre files findings about the participant).
  void MarkAnalysed(const std::string& pid, const std::string& centre) {
    auto tx = store_->Begin(storage::TxMode::kWrite);
    ASSERT_TRUE(tx.ok());
    const std::string sp = "SP-" + pid + "-" + centre;
    ASSERT_TRUE((*tx)
                    ->Exec("INSERT INTO specimens (id, participant_id, tumour_normal, "
                           "specimen_type, preservation, collection_date, state, holder_id, "
                           "created_by, created_at) VALUES ($1, $2, 'normal', 'blood', 'EDTA', "
                           "'2026-01-10', 'analysed', $3, 'test', '2026-01-10T00:00:00Z')",
                           {storage::Text(sp), storage::Text(pid), storage::Text(centre)})
                    .ok());
    ASSERT_TRUE((*tx)
                    ->Exec("INSERT INTO custody_events (specimen_id, seq, from_state, to_state, "
                           "organisation_id, user_id, time, note) VALUES ($1, 1, 'qc_passed', "
                           "'analysed', $2, 'test', '2026-01-10T00:00:00Z', '{}')",
                           {storage::Text(sp), storage::Text(centre)})
                    .ok());
    ASSERT_TRUE((*tx)->Commit().ok());
  }

  // Registers a participant at hosp-a with a consent: every item permitted (C11 with a
  // designated relative) except the overrides. An empty override map value means "no consent".
  // ac-1 analysed a specimen of the participant unless `analysed` is false.
  std::string NewParticipant(const std::map<std::string, std::string>& overrides = {},
                             bool with_consent = true, bool analysed = true) {
    const std::string local = "MRN-" + std::to_string(++participants_);
    auto r = registry_->Register({"hosp-a", local, "cancer", "lung", "2026-01-10"}, "test", "cli",
                                 "");
    EXPECT_TRUE(r.ok()) << r.error().message;
    const std::string pid = r.ok() ? r->participant.id : "";
    if (analysed && !pid.empty()) MarkAnalysed(pid, "ac-1");
    if (!with_consent) return pid;
    consent::ConsentInput in;
    in.kind = "initial";
    in.icf_version = "1.0";
    in.language = "ja";
    in.signed_date = "2026-11-20";
    for (const auto& item : consent::DefaultCatalogue("cancer")) in.decisions[item.code] = "permit";
    for (const auto& [k, v] : overrides) in.decisions[k] = v;
    in.details = {{"signer", "self"}, {"method", "paper"}};
    if (in.decisions["C11"] == "permit") {
      in.details["designated_relative"] = {{"name", "Hanako"}, {"contact", "+81-3-0000-0000"}};
    }
    auto c = ledger_->Record(pid, in, {"clin-a", "cli", ""});
    EXPECT_TRUE(c.ok()) << c.error().message;
    return pid;
  }

  // Changes one consent item (a modification at the hospital).
  void Modify(const std::string& pid, const std::string& item, const std::string& decision) {
    auto cur = ledger_->Current(pid);
    ASSERT_TRUE(cur.ok());
    consent::ConsentInput in;
    in.kind = "modification";
    in.icf_version = cur->current->icf_version;
    in.language = cur->current->icf_language;
    in.decisions = cur->current->decisions;
    in.decisions[item] = decision;
    in.signed_date = "2026-11-20";
    in.details = cur->current->details;
    in.details.erase("withdrawal");
    auto r = ledger_->Record(pid, in, {"clin-a", "cli", ""});
    ASSERT_TRUE(r.ok()) << r.error().message;
  }

  void Withdraw(const std::string& pid, const std::string& level) {
    auto r = ledger_->Withdraw(pid, {level, "2026-11-20", "test"}, {"clin-a", "cli", ""});
    ASSERT_TRUE(r.ok()) << r.error().message;
  }

  NewFinding Germline(const std::string& pid, const std::string& category = "secondary") {
    return {pid, "BRCA2", "NM_000059.4:c.5946del", "germline", category, "pathogenic",
            "PVS1, PM2; segregates in family", ""};
  }
  NewFinding Somatic(const std::string& pid) {
    return {pid, "EGFR", "NM_005228.5:c.2573T>G", "somatic", "primary", "pathogenic",
            "L858R; sensitising to EGFR TKIs", ""};
  }

  std::string File(const NewFinding& n) {
    auto r = findings_->File(n, kAn1);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? r->finding.id : "";
  }

  Result<FindingDetail> Do(const std::string& id, const std::string& event, const Actor& actor,
                           StepInput in = {}) {
    in.event = event;
    return findings_->Step(id, in, actor);
  }

  std::string StateOf(const std::string& id) {
    auto d = findings_->Get(id);
    return d.ok() ? d->finding.state : "error: " + d.error().message;
  }

  // Moves a finding along the canonical path (consent permitting) until it is in `state`.
  // Supported: every open state except consent_check (never at rest) and
  // ask_preference_via_sh (needs an undecided participant: use DriveToAsk).
  void DriveTo(const std::string& id, const std::string& state) {
    struct Step {
      std::string event;
      Actor actor;
      StepInput in;
    };
    const bool germline = findings_->Get(id)->finding.origin == "germline";
    std::vector<std::pair<std::string, Step>> path = {
        {"detected", {"classify", kAn1, {}}},
        {"triaged", {"submit_review", kAn1, {}}},
        {"expert_review", {"approve", kAn2, {}}},
        {"sent_to_sh", {"acknowledge", kClinA, {}}},
        {"sh_review", {"start_contact", kClinA, {}}},
        {"contacting", {"reached", kClinA, {.via = "participant"}}},
        {"pre_disclosure_counselling",
         {germline ? "order_confirmatory_test" : "disclose", kClinA, {}}},
        {"confirmatory_test", {"test_positive", kClinA, {}}},
        {"disclosed", {"start_follow_up", kClinA, {}}},
        {"follow_up", {"close_returned", kClinA, {}}},
    };
    bool started = false;
    for (const auto& [from, step] : path) {
      const std::string now = StateOf(id);
      if (now == state) return;
      if (!started && now != from) continue;  // already past this step
      started = true;
      ASSERT_EQ(now, from) << "driving " << id << " to " << state;
      // The clock moves before each step, so the finding entered its state "now".
      clock_.Advance(std::chrono::hours(1));
      auto r = Do(id, step.event, step.actor, step.in);
      ASSERT_TRUE(r.ok()) << step.event << ": " << r.error().code << " " << r.error().message;
    }
    ASSERT_EQ(StateOf(id), state);
  }

  std::unique_ptr<participants::Registry> registry_;
  std::unique_ptr<consent::Ledger> ledger_;
  std::unique_ptr<Findings> findings_;
  int participants_ = 0;
};

}  // namespace zengen::findings::testing
