#include "findings/findings.h"

#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <optional>
#include <set>

#include "audit/testing.h"
#include "findings/acmg_sf.h"
#include "findings/findings_test_support.h"

namespace zengen::findings {
namespace {

using namespace std::chrono_literals;
using testing::kAn1;
using testing::kAn2;
using testing::kAn3;
using testing::kAnSeq;
using testing::kClinA;
using testing::kClinB;
using testing::kSteward;

// ---- pure: the table, guards, consent evaluation --------------------------------------------

TEST(TransitionTableTest, RowsAreWellFormedAndEveryStateIsReachable) {
  std::set<std::pair<std::string, std::string>> seen;
  for (const auto& t : TransitionTable()) {
    SCOPED_TRACE(std::string(t.from) + " -" + std::string(t.event) + "-> " + std::string(t.to));
    EXPECT_TRUE(IsState(t.from));
    EXPECT_TRUE(IsState(t.to));
    EXPECT_FALSE(IsTerminal(t.from)) << "terminal states have no way out";
    EXPECT_TRUE(seen.insert({std::string(t.from), std::string(t.event)}).second) << "duplicate";
    EXPECT_EQ(FindTransition(t.from, t.event), &t);
    EXPECT_FALSE(t.description.empty());
  }
  for (auto s : kStates) {
    if (IsTerminal(s)) {
      EXPECT_TRUE(EventsFrom(s).empty()) << s;
      continue;
    }
    EXPECT_NE(FindTransition(s, "withdraw"), nullptr) << s << ": full withdrawal closes it";
    EXPECT_NE(FindTransition(s, "reclassify"), nullptr) << s;
  }
  for (auto s : kGatedStates) {
    EXPECT_NE(FindTransition(s, "consent_revoked"), nullptr) << s;
    EXPECT_NE(FindTransition(s, "consent_reopened"), nullptr) << s;
  }
  std::set<std::string> reached = {"detected"};
  std::deque<std::string> queue = {"detected"};
  while (!queue.empty()) {
    const std::string s = queue.front();
    queue.pop_front();
    for (const auto& t : TransitionTable()) {
      if (t.from == s && reached.insert(std::string(t.to)).second) {
        queue.emplace_back(t.to);
      }
    }
  }
  for (auto s : kStates) EXPECT_TRUE(reached.count(std::string(s))) << s << " is unreachable";
}

consent::ConsentStatus StatusOf(consent::State state, std::map<std::string, std::string> d,
                              bool relative = false) {
  consent::ConsentStatus s;
  s.state = state;
  if (state != consent::State::kNone) {
    consent::ConsentRecord r;
    r.decisions = std::move(d);
    s.current = r;
  }
  s.profile.designated_relative = relative;
  return s;
}

TEST(EvaluateConsentTest, TheGoverningItemDecidesUnlessWithdrawn) {
  using S = consent::State;
  struct Case {
    std::string category;
    consent::ConsentStatus status;
    Verdict want;
    std::string item;
  };
  const std::vector<Case> cases = {
      {"secondary", StatusOf(S::kActive, {{"C10", "permit"}}), Verdict::kPermit, "C10"},
      {"secondary", StatusOf(S::kActive, {{"C10", "deny"}}), Verdict::kDeny, "C10"},
      {"secondary", StatusOf(S::kActive, {{"C10", "undecided"}}), Verdict::kUndecided, "C10"},
      {"secondary", StatusOf(S::kActive, {}), Verdict::kUndecided, "C10"},
      {"secondary", StatusOf(S::kActive, {{"C09", "deny"}, {"C10", "permit"}}), Verdict::kPermit,
       "C10"},
      {"primary", StatusOf(S::kActive, {{"C09", "permit"}, {"C10", "deny"}}), Verdict::kPermit,
       "C09"},
      {"primary", StatusOf(S::kActive, {{"C09", "deny"}}), Verdict::kDeny, "C09"},
      {"reinterpretation", StatusOf(S::kActive, {{"C13", "permit"}}), Verdict::kPermit, "C13"},
      {"reinterpretation", StatusOf(S::kActive, {{"C13", "deny"}}), Verdict::kDeny, "C13"},
      {"secondary", StatusOf(S::kWithdrawnNoContact, {{"C10", "permit"}}), Verdict::kDeny, "C10"},
      {"secondary", StatusOf(S::kWithdrawnNoNewData, {{"C10", "permit"}}), Verdict::kPermit,
       "C10"},
      {"primary", StatusOf(S::kWithdrawnFull, {{"C09", "permit"}}), Verdict::kWithdrawn, "C09"},
      {"primary", StatusOf(S::kNone, {}), Verdict::kDeny, "C09"},
  };
  for (const auto& c : cases) {
    const ConsentView v = EvaluateConsent(c.category, c.status);
    EXPECT_EQ(v.verdict, c.want) << c.category << " " << v.reason;
    EXPECT_EQ(v.item, c.item);
    EXPECT_FALSE(v.reason.empty());
  }
  EXPECT_TRUE(EvaluateConsent("primary", StatusOf(S::kActive, {}, true)).designated_relative);
}

TEST(GuardTest, EveryGuardHoldsAndFailsAsSpecified) {
  const auto now = std::chrono::sys_days{std::chrono::year{2026} / 11 / 24};
  struct Case {
    Guard guard;
    std::function<void(Finding&, ConsentView&, StepInput&, std::string&)> set;
    std::string code;  // "" = the guard holds
  };
  const auto none = [](Finding&, ConsentView&, StepInput&, std::string&) {};
  const std::vector<Case> cases = {
      {Guard::kNone, none, ""},
      {Guard::kFourEyes, none, ""},
      {Guard::kFourEyes, [](Finding&, ConsentView&, StepInput&, std::string& u) { u = "an-1"; },
       "four_eyes_required"},
      {Guard::kReportable, none, ""},
      {Guard::kReportable,
       [](Finding& f, ConsentView&, StepInput&, std::string&) { f.classification = "benign"; },
       "not_reportable"},
      {Guard::kReportable,
       [](Finding& f, ConsentView&, StepInput&, std::string&) {
         f.classification = "uncertain_significance";
       },
       "not_reportable"},
      {Guard::kReportable,
       [](Finding& f, ConsentView&, StepInput&, std::string&) {
         f.category = "primary";
         f.classification = "uncertain_significance";
       },
       ""},
      {Guard::kConsentPermits, none, ""},
      {Guard::kConsentPermits,
       [](Finding&, ConsentView& c, StepInput&, std::string&) { c.verdict = Verdict::kDeny; },
       "consent_not_permitted"},
      {Guard::kConsentDenies,
       [](Finding&, ConsentView& c, StepInput&, std::string&) { c.verdict = Verdict::kDeny; },
       ""},
      {Guard::kConsentDenies, none, "consent_not_denied"},
      {Guard::kConsentUndecided,
       [](Finding&, ConsentView& c, StepInput&, std::string&) {
         c.verdict = Verdict::kUndecided;
       },
       ""},
      {Guard::kConsentUndecided, none, "consent_not_undecided"},
      {Guard::kConsentKnown, none, ""},
      {Guard::kConsentKnown,
       [](Finding&, ConsentView& c, StepInput&, std::string&) {
         c.verdict = Verdict::kUndecided;
       },
       "consent_still_undecided"},
      {Guard::kFullWithdrawal,
       [](Finding&, ConsentView& c, StepInput&, std::string&) {
         c.verdict = Verdict::kWithdrawn;
       },
       ""},
      {Guard::kFullWithdrawal, none, "not_withdrawn"},
      {Guard::kGermline, none, ""},
      {Guard::kGermline,
       [](Finding& f, ConsentView&, StepInput&, std::string&) { f.origin = "somatic"; },
       "not_germline"},
      {Guard::kSomatic, none, "confirmation_required"},
      {Guard::kSomatic,
       [](Finding& f, ConsentView&, StepInput&, std::string&) { f.origin = "somatic"; }, ""},
      {Guard::kContactAttempts, none, "too_few_contact_attempts"},
      {Guard::kContactAttempts,
       [](Finding& f, ConsentView&, StepInput&, std::string&) { f.contact_attempts = 3; }, ""},
      {Guard::kContactWindowOver, none, "contact_window_open"},
      {Guard::kContactWindowOver,
       [](Finding& f, ConsentView&, StepInput&, std::string&) {
         f.state_since = "2026-08-26T00:00:00.000Z";  // 90 days before
       },
       ""},
      {Guard::kSlaOverdue, none, "sla_not_overdue"},
      {Guard::kSlaOverdue,
       [](Finding& f, ConsentView&, StepInput&, std::string&) {
         f.state_since = "2026-11-10T00:00:00.001Z";  // a millisecond short of 14 days
       },
       "sla_not_overdue"},
      {Guard::kSlaOverdue,
       [](Finding& f, ConsentView&, StepInput&, std::string&) {
         f.state_since = "2026-11-10T00:00:00.000Z";
       },
       ""},
      {Guard::kSiteDecline, none, ""},
      {Guard::kSiteDecline,
       [](Finding&, ConsentView& c, StepInput& in, std::string&) {
         in.reason_code = "patient_deceased";
         c.designated_relative = true;
       },
       "designated_relative_exists"},
      {Guard::kSiteDecline,
       [](Finding&, ConsentView&, StepInput& in, std::string&) {
         in.reason_code = "patient_deceased";
       },
       ""},
      {Guard::kContactVia, none, ""},
      {Guard::kContactVia,
       [](Finding&, ConsentView&, StepInput& in, std::string&) {
         in.via = "designated_relative";
       },
       "no_designated_relative"},
      {Guard::kContactVia,
       [](Finding&, ConsentView& c, StepInput& in, std::string&) {
         in.via = "designated_relative";
         c.designated_relative = true;
       },
       ""},
  };
  std::set<Guard> covered;
  for (const auto& c : cases) {
    Finding f;
    f.filed_by = "an-1";
    f.origin = "germline";
    f.category = "secondary";
    f.classification = "likely_pathogenic";
    f.state_since = "2026-11-23T00:00:00.000Z";
    ConsentView cv{Verdict::kPermit, "C10", "test", false};
    StepInput in;
    std::string user = "an-2";
    c.set(f, cv, in, user);
    const GuardContext gc{&f, cv, user, now, Settings{}, &in};
    const Status st = CheckGuard(c.guard, gc);
    SCOPED_TRACE(std::string(GuardName(c.guard)) + " expecting '" + c.code + "'");
    if (c.code.empty()) {
      EXPECT_TRUE(st.ok()) << st.error().message;
    } else {
      ASSERT_FALSE(st.ok());
      EXPECT_EQ(st.error().code, c.code);
    }
    covered.insert(c.guard);
  }
  for (const auto& t : TransitionTable()) {
    EXPECT_TRUE(covered.count(t.guard)) << "no case for guard " << GuardName(t.guard);
  }
}

TEST(ForcedByConsentTest, ConsentMovesOpenFindingsOnly) {
  struct Case {
    std::string state;
    Verdict verdict;
    std::string event;  // "" = nothing forced
  };
  const std::vector<Case> cases = {
      {"detected", Verdict::kDeny, ""},
      {"expert_review", Verdict::kUndecided, ""},
      {"expert_review", Verdict::kWithdrawn, "withdraw"},
      {"consent_check", Verdict::kPermit, "consent_permits"},
      {"consent_check", Verdict::kDeny, "consent_denies"},
      {"consent_check", Verdict::kUndecided, "consent_undecided"},
      {"ask_preference_via_sh", Verdict::kUndecided, ""},
      {"ask_preference_via_sh", Verdict::kPermit, "preference_known"},
      {"ask_preference_via_sh", Verdict::kDeny, "preference_known"},
      {"sent_to_sh", Verdict::kPermit, ""},
      {"contacting", Verdict::kDeny, "consent_revoked"},
      {"follow_up", Verdict::kUndecided, "consent_reopened"},
      {"confirmatory_test", Verdict::kWithdrawn, "withdraw"},
      {"closed_returned", Verdict::kWithdrawn, ""},
      {"reclassified", Verdict::kDeny, ""},
  };
  for (const auto& c : cases) {
    Finding f;
    f.state = c.state;
    const Transition* t = ForcedByConsent(f, {c.verdict, "C10", "", false});
    EXPECT_EQ(t == nullptr ? "" : std::string(t->event), c.event)
        << c.state << " " << VerdictName(c.verdict);
  }
}

TEST(AcmgSfTest, VersionsHaveThePublishedGeneCounts) {
  const std::map<std::string, size_t> counts = {{"3.0", 73}, {"3.1", 78}, {"3.2", 81},
                                                {"3.3", 84}};
  for (const auto& v : AcmgSfVersions()) {
    EXPECT_EQ(v.genes.size(), counts.at(std::string(v.version))) << v.version;
    EXPECT_TRUE(std::is_sorted(v.genes.begin(), v.genes.end()));
    EXPECT_EQ(std::adjacent_find(v.genes.begin(), v.genes.end()), v.genes.end());
  }
  EXPECT_TRUE(InAcmgSf("3.2", "CALM1"));
  EXPECT_FALSE(InAcmgSf("3.1", "CALM1"));
  EXPECT_TRUE(InAcmgSf("3.3", "PLN"));
  EXPECT_FALSE(InAcmgSf("3.2", "CFTR"));
  EXPECT_FALSE(InAcmgSf("9.9", "BRCA1"));
  EXPECT_NE(FindAcmgSf(kDefaultAcmgSfVersion), nullptr);
}

// ---- with a store ---------------------------------------------------------------------------

class FindingsTest : public testing::FindingsFixture {};

TEST_P(FindingsTest, FilesAFindingInDetectedWithItsAcmgVersion) {
  const std::string pid = NewParticipant();
  auto r = findings_->File(Germline(pid), kAn1);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->finding.id.substr(0, 3), "FD-");
  EXPECT_EQ(r->finding.state, "detected");
  EXPECT_EQ(r->finding.acmg_sf_version, "3.2");
  EXPECT_EQ(r->finding.hospital, "hosp-a");
  EXPECT_EQ(r->finding.analysis_center, "ac-1");
  EXPECT_FALSE(r->finding.sent_to_hospital);
  ASSERT_EQ(r->history.size(), 1u);
  EXPECT_EQ(r->history[0].event, "file");
  EXPECT_EQ(audit_.events().back().action, "finding.write");
  auto primary = findings_->File(Somatic(pid), kAn1);
  ASSERT_TRUE(primary.ok());
  EXPECT_EQ(primary->finding.acmg_sf_version, "");
}

TEST_P(FindingsTest, FilingRejectsBadInputNamingTheFieldAndWritesNothing) {
  const std::string pid = NewParticipant();
  struct Case {
    std::function<void(NewFinding&)> change;
    std::string field;
    std::string code;
  };
  const std::vector<Case> cases = {
      {[](NewFinding& n) { n.gene = ""; }, "gene", "invalid_gene"},
      {[](NewFinding& n) { n.gene = "brca2"; }, "gene", "invalid_gene"},
      {[](NewFinding& n) { n.gene = "BRCA2; DROP"; }, "gene", "invalid_gene"},
      {[](NewFinding& n) { n.variant = "c.5946del"; }, "variant", "invalid_variant"},
      {[](NewFinding& n) { n.variant = "NM_000059.4:c.59 46del"; }, "variant", "invalid_variant"},
      {[](NewFinding& n) { n.origin = "inherited"; }, "origin", "invalid_origin"},
      {[](NewFinding& n) { n.category = "incidental"; }, "category", "invalid_category"},
      {[](NewFinding& n) { n.classification = "P"; }, "classification", "invalid_classification"},
      {[](NewFinding& n) { n.evidence = ""; }, "evidence", "missing_field"},
      {[](NewFinding& n) { n.evidence = std::string(kMaxTextBytes + 1, 'x'); }, "evidence",
       "value_too_long"},
      {[](NewFinding& n) { n.acmg_sf_version = "9.9"; }, "acmg_sf_version",
       "invalid_acmg_sf_version"},
      {[](NewFinding& n) { n.acmg_sf_version = "3.0"; }, "acmg_sf_version",
       "acmg_sf_version_not_active"},
      {[](NewFinding& n) { n.gene = "CFTR"; }, "gene", "gene_not_in_acmg_sf"},
      {[](NewFinding& n) { n.origin = "somatic"; }, "origin", "secondary_must_be_germline"},
      {[](NewFinding& n) { n.classification = "uncertain_significance"; }, "classification",
       "secondary_must_be_pathogenic"},
      {[](NewFinding& n) {
         n.category = "primary";
         n.acmg_sf_version = "3.2";
       },
       "acmg_sf_version", "unexpected_field"},
  };
  for (const auto& c : cases) {
    NewFinding n = Germline(pid);
    c.change(n);
    auto r = findings_->File(n, kAn1);
    ASSERT_FALSE(r.ok()) << c.code;
    EXPECT_EQ(r.error().code, c.code) << r.error().message;
    EXPECT_EQ(r.error().field, c.field) << c.code;
  }
  NewFinding unknown = Germline("ZG-NOPE");  // no centre analysed an unknown participant
  EXPECT_EQ(findings_->File(unknown, kAn1).error().code, "not_participant_analyst");
  EXPECT_TRUE(findings_->List(kSteward, "", "")->empty()) << "nothing was written";
  // A germline finding outside the list is fine as a primary finding.
  NewFinding primary = Germline(pid, "primary");
  primary.gene = "CFTR";
  EXPECT_TRUE(findings_->File(primary, kAn1).ok());
}

TEST_P(FindingsTest, TheConfiguredAcmgVersionDecidesWhatIsSecondary) {
  const std::string pid = NewParticipant();
  NewFinding calm = Germline(pid);
  calm.gene = "CALM1";  // added in v3.2
  EXPECT_TRUE(findings_->File(calm, kAn1).ok());
  auto set = findings_->PutSettings({"3.1", 14, 90}, kSteward);
  ASSERT_TRUE(set.ok()) << set.error().message;
  EXPECT_EQ(audit_.events().back().action, "finding.configure");
  EXPECT_EQ(findings_->File(calm, kAn1).error().code, "gene_not_in_acmg_sf");
  auto ok = findings_->File(Germline(pid), kAn1);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->finding.acmg_sf_version, "3.1");
  EXPECT_EQ(findings_->PutSettings({"4.0", 14, 90}, kSteward).error().field, "acmg_sf_version");
  EXPECT_EQ(findings_->PutSettings({"3.2", 0, 90}, kSteward).error().field, "ack_sla_days");
  EXPECT_EQ(findings_->PutSettings({"3.2", 14, 0}, kSteward).error().field,
            "contact_window_days");
  EXPECT_EQ(findings_->GetSettings()->acmg_sf_version, "3.1");
}

TEST_P(FindingsTest, OnlyAnalystsOfAnAnalysisCentreFileAndNotForWithdrawnParticipants) {
  const std::string pid = NewParticipant();
  for (const Actor& a : {kAnSeq, kClinA, kSteward}) {
    auto r = findings_->File(Germline(pid), a);
    ASSERT_FALSE(r.ok()) << a.user;
    EXPECT_EQ(r.error().code, "not_analysis_center");
    EXPECT_EQ(audit_.events().back().decision, "deny");
  }
  Withdraw(pid, "full");
  EXPECT_EQ(findings_->File(Germline(pid), kAn1).error().code, "participant_withdrawn");
}

// Issue 12 finding 3: a centre that did not analyse the participant's specimens is refused
// before consent is looked at, with one answer whatever the participant's consent (or
// existence); on the old code the answers differed (201 with the consent verdict, 409
// participant_withdrawn, 404).
TEST_P(FindingsTest, AStrangerCentreIsRefusedAlikeWhateverTheConsent) {
  const std::string permits = NewParticipant();
  const std::string denies = NewParticipant({{"C10", "deny"}});
  const std::string unconsented = NewParticipant({}, /*with_consent=*/false);
  const std::string withdrawn = NewParticipant();
  Withdraw(withdrawn, "full");
  std::optional<Error> first;
  for (const std::string& pid : {permits, denies, unconsented, withdrawn, std::string("ZG-NOPE")}) {
    SCOPED_TRACE(pid);
    auto r = findings_->File(Germline(pid), kAn3);  // ac-2 analysed none of them
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, ErrorKind::kPermissionDenied);
    EXPECT_EQ(r.error().code, "not_participant_analyst");
    EXPECT_EQ(audit_.events().back().decision, "deny");
    EXPECT_EQ(audit_.events().back().action, "finding.write");
    if (!first) first = r.error();
    EXPECT_EQ(r.error().message, first->message);
    EXPECT_EQ(r.error().field, first->field);
  }
  EXPECT_TRUE(findings_->List(kSteward, "", "")->empty()) << "nothing was written";
  // ac-1 analysed them: its answers follow the consent as before.
  EXPECT_TRUE(findings_->File(Germline(permits), kAn1).ok());
  EXPECT_EQ(findings_->File(Germline(withdrawn), kAn1).error().code, "participant_withdrawn");
  // Having analysed another participant is not enough; having analysed this one is.
  const std::string fresh = NewParticipant({}, true, /*analysed=*/false);
  EXPECT_EQ(findings_->File(Germline(fresh), kAn1).error().code, "not_participant_analyst");
  MarkAnalysed(fresh, "ac-2");
  EXPECT_EQ(findings_->File(Germline(fresh), kAn1).error().code, "not_participant_analyst");
  EXPECT_TRUE(findings_->File(Germline(fresh), kAn3).ok());
}

// Every row a person makes: refused to a party the row does not name, applied for the one it
// does, landing in the row's target state.
TEST_P(FindingsTest, EveryPersonRowAppliesForItsPartyOnly) {
  int rows = 0;
  for (const auto& t : TransitionTable()) {
    if (t.party == Party::kSystem || t.event == "withdraw" || t.event == "reclassify") continue;
    SCOPED_TRACE(std::string(t.from) + " -" + std::string(t.event) + "-> " + std::string(t.to));
    ++rows;
    const bool somatic = t.event == "disclose";
    const std::string pid =
        NewParticipant(t.from == "ask_preference_via_sh" ? std::map<std::string, std::string>{
                                                               {"C10", "undecided"}}
                                                         : std::map<std::string, std::string>{});
    const std::string id = File(somatic ? Somatic(pid) : Germline(pid));
    if (t.from == "ask_preference_via_sh") {
      DriveTo(id, "expert_review");
      ASSERT_TRUE(Do(id, "approve", kAn2).ok());
    } else if (t.from == "escalated") {
      DriveTo(id, "sent_to_sh");
      clock_.Advance(std::chrono::days{15});
      ASSERT_TRUE(findings_->Tick().ok());
    } else if (t.from == "unreachable") {
      DriveTo(id, "contacting");
      for (int i = 0; i < kMinContactAttempts; ++i) ASSERT_TRUE(Do(id, "contact_attempt", kClinA).ok());
      ASSERT_TRUE(Do(id, "unreachable", kClinA).ok());
    } else {
      DriveTo(id, std::string(t.from));
    }
    ASSERT_EQ(StateOf(id), t.from);
    if (t.guard == Guard::kContactAttempts) {
      for (int i = 0; i < kMinContactAttempts; ++i) ASSERT_TRUE(Do(id, "contact_attempt", kClinA).ok());
    }
    StepInput in;
    if (t.needs_reason) in.reason = "documented reason";
    if (t.needs_reason_code) in.reason_code = "clinical_judgement";
    if (t.needs_decision) in.decision = "want";
    if (t.needs_via) in.via = "participant";
    const Actor right = t.party == Party::kAnalysisCentre ? (t.guard == Guard::kFourEyes ? kAn2 : kAn1)
                        : t.party == Party::kHospital     ? kClinA
                                                          : kSteward;
    const Actor wrong = t.party == Party::kDataCentre ? kClinA : kSteward;
    auto refused = Do(id, std::string(t.event), wrong, in);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code, "wrong_party") << refused.error().message;
    EXPECT_EQ(audit_.events().back().decision, "deny");
    if (t.party == Party::kAnalysisCentre) {
      auto other_ac = Do(id, std::string(t.event), kAn3, in);
      ASSERT_FALSE(other_ac.ok());
      EXPECT_EQ(other_ac.error().code, "finding_not_found") << "another AC never sees it";
    }
    const int64_t attempts = findings_->Get(id)->finding.contact_attempts;
    auto r = Do(id, std::string(t.event), right, in);
    ASSERT_TRUE(r.ok()) << r.error().code << ": " << r.error().message;
    // Entering consent_check is settled at once: this participant permits return.
    EXPECT_EQ(r->finding.state, t.to == "consent_check" ? "sent_to_sh" : std::string(t.to));
    bool recorded = false;
    for (const auto& e : r->history) {
      recorded = recorded || (e.event == t.event && e.from == t.from && e.to == t.to);
    }
    EXPECT_TRUE(recorded);
    if (t.event == "contact_attempt") {
      EXPECT_EQ(r->finding.contact_attempts, attempts + 1);
    }
    if (t.event == "contact_updated") {
      EXPECT_EQ(r->finding.contact_attempts, 0);
    }
    // The row is not there twice: the same event again is refused.
    if (t.from != t.to) {
      auto again = Do(id, std::string(t.event), right, in);
      ASSERT_FALSE(again.ok());
      EXPECT_TRUE(again.error().code == "invalid_transition" ||
                  again.error().code == "wrong_party" ||
                  again.error().code == "finding_not_found")
          << again.error().code;
    }
  }
  EXPECT_EQ(rows, 22);
}

TEST_P(FindingsTest, TheConsentCheckRowsFollowTheGoverningItem) {
  struct Case {
    std::map<std::string, std::string> consent;
    std::string category;
    std::string want;
    bool hospital_sees;
  };
  const std::vector<Case> cases = {
      {{}, "secondary", "sent_to_sh", true},
      {{{"C10", "deny"}}, "secondary", "closed_by_preference", false},
      {{{"C10", "undecided"}}, "secondary", "ask_preference_via_sh", true},
      {{{"C09", "deny"}}, "primary", "closed_by_preference", false},
      {{{"C10", "deny"}}, "primary", "sent_to_sh", true},
      {{{"C13", "deny"}}, "reinterpretation", "closed_by_preference", false},
      {{{"C13", "undecided"}}, "reinterpretation", "ask_preference_via_sh", true},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.category + " -> " + c.want);
    const std::string pid = NewParticipant(c.consent);
    const std::string id = File(Germline(pid, c.category));
    DriveTo(id, "expert_review");
    auto r = Do(id, "approve", kAn2);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->finding.state, c.want);
    EXPECT_EQ(r->finding.sent_to_hospital, c.hospital_sees);
    EXPECT_EQ(r->history.back().party, "system");
    EXPECT_EQ(findings_->List(kClinA, "", pid)->size(), c.hospital_sees ? 1u : 0u);
  }
  // No consent at all: never sent.
  const std::string none = NewParticipant({}, /*with_consent=*/false);
  const std::string id = File(Germline(none, "primary"));
  DriveTo(id, "expert_review");
  EXPECT_EQ(Do(id, "approve", kAn2)->finding.state, "closed_by_preference");
}

TEST_P(FindingsTest, ADeclinedSecondaryFindingNeverReachesTheHospital) {
  // Declined before: closed at the consent check, invisible to the hospital.
  const std::string declined = NewParticipant({{"C10", "deny"}});
  const std::string a = File(Germline(declined));
  DriveTo(a, "expert_review");
  ASSERT_TRUE(Do(a, "approve", kAn2).ok());
  EXPECT_EQ(StateOf(a), "closed_by_preference");
  EXPECT_TRUE(findings_->List(kClinA, "", "")->empty());
  EXPECT_EQ(Do(a, "acknowledge", kClinA).error().code, "finding_not_found");
  EXPECT_EQ(findings_->Post(a, {.type = "question", .body = "?"}, kClinA).error().code,
            "finding_not_found");
  auto closed = findings_->Get(a);
  ASSERT_TRUE(closed.ok());
  for (const auto& e : closed->history) EXPECT_NE(e.party, "hospital");

  // Declines while the hospital has it: the next step stops it before any contact.
  const std::string later = NewParticipant();
  const std::string b = File(Germline(later));
  DriveTo(b, "sh_review");
  Modify(later, "C10", "deny");
  auto r = Do(b, "start_contact", kClinA);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "consent_changed");
  EXPECT_EQ(StateOf(b), "closed_by_preference");
  EXPECT_EQ(Do(b, "start_contact", kClinA).error().code, "invalid_transition");

  // No-contact withdrawal during contacting: stopped too.
  const std::string quiet = NewParticipant();
  const std::string c = File(Germline(quiet));
  DriveTo(c, "contacting");
  Withdraw(quiet, "no_contact");
  EXPECT_EQ(Do(c, "reached", kClinA, {.via = "participant"}).error().code, "consent_changed");
  EXPECT_EQ(StateOf(c), "closed_by_preference");
}

TEST_P(FindingsTest, AFullWithdrawalClosesTheFindingAsWithdrawnFromEveryOpenState) {
  for (std::string_view state :
       {"detected", "triaged", "expert_review", "ask_preference_via_sh", "sent_to_sh",
        "escalated", "sh_review", "contacting", "unreachable", "pre_disclosure_counselling",
        "confirmatory_test", "disclosed", "follow_up"}) {
    SCOPED_TRACE(state);
    const bool ask = state == "ask_preference_via_sh";
    const std::string pid = NewParticipant(ask ? std::map<std::string, std::string>{{"C10", "undecided"}}
                                               : std::map<std::string, std::string>{});
    const std::string id = File(Germline(pid));
    if (ask) {
      DriveTo(id, "expert_review");
      ASSERT_TRUE(Do(id, "approve", kAn2).ok());
    } else if (state == "escalated") {
      DriveTo(id, "sent_to_sh");
      clock_.Advance(std::chrono::days{15});
      ASSERT_TRUE(findings_->Tick().ok());
    } else if (state == "unreachable") {
      DriveTo(id, "contacting");
      clock_.Advance(std::chrono::days{91});
      ASSERT_TRUE(findings_->Tick().ok());
    } else {
      DriveTo(id, std::string(state));
    }
    ASSERT_EQ(StateOf(id), state);
    Withdraw(pid, "full");
    // Whoever acts next finds it closed.
    const std::vector<std::string> events = EventsFrom(state);
    auto r = Do(id, events.front(), kSteward);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, "consent_changed") << r.error().message;
    auto d = findings_->Get(id);
    EXPECT_EQ(d->finding.state, "closed_withdrawn");
    EXPECT_EQ(d->history.back().event, "withdraw");
    EXPECT_EQ(d->history.back().party, "system");
  }
  // The sweep closes it without anyone acting.
  const std::string pid = NewParticipant();
  const std::string id = File(Germline(pid));
  DriveTo(id, "contacting");
  Withdraw(pid, "full");
  auto tick = findings_->Tick();
  ASSERT_TRUE(tick.ok());
  EXPECT_EQ(tick->consent_moves, 1);
  EXPECT_EQ(StateOf(id), "closed_withdrawn");
  EXPECT_EQ(audit_.events().back().action, "finding.transition");
  EXPECT_EQ(audit_.events().back().actor, "system");
}

TEST_P(FindingsTest, ConsentChangesInGatedStatesCloseOrReopen) {
  for (std::string_view state : kGatedStates) {
    SCOPED_TRACE(state);
    for (const std::string decision : {"deny", "undecided"}) {
      const std::string pid = NewParticipant();
      const std::string id = File(Germline(pid));
      if (state == "escalated") {
        DriveTo(id, "sent_to_sh");
        clock_.Advance(std::chrono::days{15});
        ASSERT_TRUE(findings_->Tick().ok());
      } else if (state == "unreachable") {
        DriveTo(id, "contacting");
        clock_.Advance(std::chrono::days{91});
        ASSERT_TRUE(findings_->Tick().ok());
      } else {
        DriveTo(id, std::string(state));
      }
      ASSERT_EQ(StateOf(id), state);
      Modify(pid, "C10", decision);
      ASSERT_TRUE(findings_->Tick().ok());
      auto d = findings_->Get(id);
      EXPECT_EQ(d->finding.state,
                decision == "deny" ? "closed_by_preference" : "ask_preference_via_sh");
      EXPECT_EQ(d->history.back().event,
                decision == "deny" ? "consent_revoked" : "consent_reopened");
    }
  }
}

TEST_P(FindingsTest, APreferenceRecordedDuringRecontactBecomesAConsentRecord) {
  const std::string pid = NewParticipant({{"C10", "undecided"}});
  const std::string id = File(Germline(pid));
  DriveTo(id, "expert_review");
  ASSERT_EQ(Do(id, "approve", kAn2)->finding.state, "ask_preference_via_sh");
  EXPECT_EQ(Do(id, "record_preference", kClinA).error().field, "decision");
  EXPECT_EQ(Do(id, "record_preference", kClinA, {.decision = "maybe"}).error().field, "decision");
  EXPECT_EQ(Do(id, "record_preference", kClinA, {.decision = "want", .via = "participant"})
                .error()
                .code,
            "unexpected_field");
  EXPECT_EQ(ledger_->Current(pid)->history.size(), 1u) << "nothing recorded for bad input";
  auto r = Do(id, "record_preference", kClinA, {.decision = "want"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->finding.state, "sent_to_sh");
  auto consent = ledger_->Current(pid);
  ASSERT_EQ(consent->history.size(), 2u);
  EXPECT_EQ(consent->current->kind, "modification");
  EXPECT_EQ(consent->current->decisions.at("C10"), "permit");
  EXPECT_EQ(consent->current->details.value("note", ""), "recontact about finding " + id);

  // The patient declines at counselling: consent C10 deny, finding closed by preference.
  DriveTo(id, "pre_disclosure_counselling");
  auto declined = Do(id, "patient_declines", kClinA);
  ASSERT_TRUE(declined.ok()) << declined.error().message;
  EXPECT_EQ(declined->finding.state, "closed_by_preference");
  EXPECT_EQ(ledger_->Current(pid)->current->decisions.at("C10"), "deny");
  EXPECT_EQ(ledger_->Current(pid)->history.size(), 3u);

  // A preference known meanwhile (recorded through the consent pages) frees an asking finding.
  const std::string p2 = NewParticipant({{"C10", "undecided"}});
  const std::string id2 = File(Germline(p2));
  DriveTo(id2, "expert_review");
  ASSERT_TRUE(Do(id2, "approve", kAn2).ok());
  Modify(p2, "C10", "permit");
  ASSERT_TRUE(findings_->Tick().ok());
  EXPECT_EQ(StateOf(id2), "sent_to_sh");
}

TEST_P(FindingsTest, GuardsAreCheckedWithTheStore) {
  const std::string pid = NewParticipant();
  const std::string id = File(Germline(pid));
  DriveTo(id, "expert_review");
  auto self = Do(id, "approve", kAn1);
  EXPECT_EQ(self.error().code, "four_eyes_required");
  EXPECT_EQ(audit_.events().back().decision, "deny");
  EXPECT_EQ(Do(id, "reject", kAn1, {.reason = "x"}).error().code, "four_eyes_required");
  EXPECT_EQ(Do(id, "reject", kAn2).error().field, "reason");

  NewFinding benign = Somatic(pid);
  benign.classification = "likely_benign";
  const std::string b = File(benign);
  DriveTo(b, "triaged");
  EXPECT_EQ(Do(b, "submit_review", kAn1).error().code, "not_reportable");

  DriveTo(id, "contacting");
  EXPECT_EQ(Do(id, "unreachable", kClinA).error().code, "too_few_contact_attempts");
  EXPECT_EQ(Do(id, "reached", kClinA).error().field, "via");
  EXPECT_EQ(Do(id, "reached", kClinA, {.via = "cousin"}).error().field, "via");
  DriveTo(id, "pre_disclosure_counselling");
  EXPECT_EQ(Do(id, "disclose", kClinA).error().code, "confirmation_required");

  const std::string s = File(Somatic(pid));
  DriveTo(s, "pre_disclosure_counselling");
  EXPECT_EQ(Do(s, "order_confirmatory_test", kClinA).error().code, "not_germline");

  // The designated relative (C11) decides both site_decline and contact through a relative.
  const std::string withrel = File(Germline(pid));
  DriveTo(withrel, "sh_review");
  EXPECT_EQ(Do(withrel, "site_decline", kClinA).error().field, "reason_code");
  EXPECT_EQ(Do(withrel, "site_decline", kClinA, {.reason_code = "bored"}).error().field,
            "reason_code");
  EXPECT_EQ(Do(withrel, "site_decline", kClinA, {.reason_code = "patient_deceased"}).error().code,
            "designated_relative_exists");
  ASSERT_TRUE(Do(withrel, "start_contact", kClinA).ok());
  EXPECT_EQ(Do(withrel, "reached", kClinA, {.via = "designated_relative"})->finding.state,
            "pre_disclosure_counselling");

  const std::string norel_p = NewParticipant({{"C11", "deny"}});
  const std::string norel = File(Germline(norel_p));
  DriveTo(norel, "contacting");
  EXPECT_EQ(Do(norel, "reached", kClinA, {.via = "designated_relative"}).error().code,
            "no_designated_relative");
  const std::string dead = File(Germline(norel_p));
  DriveTo(dead, "sh_review");
  auto closed = Do(dead, "site_decline", kClinA, {.reason = "died 2026-10", .reason_code = "patient_deceased"});
  ASSERT_TRUE(closed.ok()) << closed.error().message;
  EXPECT_EQ(closed->finding.state, "closed_site_decision");
  EXPECT_EQ(closed->history.back().reason, "died 2026-10");

  EXPECT_EQ(Do(id, "no_such_event", kClinA).error().code, "invalid_event");
  EXPECT_EQ(Do("FD-NOPE", "classify", kAn1).error().code, "finding_not_found");
  EXPECT_EQ(Do(id, "classify", kAn1).error().code, "invalid_transition");
  EXPECT_EQ(Do(id, "escalate", kClinA).error().code, "invalid_transition");
  EXPECT_EQ(Do(id, "test_positive", kClinA, {.reason = std::string(kMaxReasonBytes + 1, 'x')})
                .error()
                .field,
            "reason");
}

TEST_P(FindingsTest, EscalationFollowsTheFakeClock) {
  const std::string pid = NewParticipant();
  const std::string id = File(Germline(pid));
  DriveTo(id, "sent_to_sh");
  clock_.Advance(std::chrono::days{14} - 1ms);
  auto t1 = findings_->Tick();
  ASSERT_TRUE(t1.ok());
  EXPECT_EQ(t1->escalated, 0);
  EXPECT_EQ(StateOf(id), "sent_to_sh");
  EXPECT_EQ(Do(id, "escalate", kSteward).error().code, "wrong_party")
      << "the timer, not a person, escalates";
  clock_.Advance(1ms);
  auto t2 = findings_->Tick();
  ASSERT_TRUE(t2.ok());
  EXPECT_EQ(t2->escalated, 1);
  EXPECT_EQ(StateOf(id), "escalated");
  auto messages = findings_->Messages(id);
  ASSERT_EQ(messages->size(), 1u);
  EXPECT_EQ((*messages)[0].type, "status");
  EXPECT_EQ((*messages)[0].party, "data_center");
  EXPECT_EQ(findings_->Tick()->escalated, 0) << "escalates once";

  // The data centre re-sends: the timer restarts from now.
  clock_.Advance(std::chrono::days{3});
  ASSERT_TRUE(Do(id, "resend", kSteward).ok());
  clock_.Advance(std::chrono::days{13});
  EXPECT_EQ(findings_->Tick()->escalated, 0);
  clock_.Advance(std::chrono::days{1});
  EXPECT_EQ(findings_->Tick()->escalated, 1);
  ASSERT_TRUE(Do(id, "acknowledge", kClinA).ok()) << "a late acknowledgement is accepted";
  EXPECT_EQ(StateOf(id), "sh_review");

  // A shorter SLA takes effect for findings already waiting.
  ASSERT_TRUE(findings_->PutSettings({"3.2", 2, 30}, kSteward).ok());
  const std::string id2 = File(Germline(pid));
  DriveTo(id2, "sent_to_sh");
  clock_.Advance(std::chrono::days{2});
  EXPECT_EQ(findings_->Tick()->escalated, 1);

  // The contact window: unreachable by itself once it passes.
  const std::string id3 = File(Germline(pid));
  DriveTo(id3, "contacting");
  clock_.Advance(std::chrono::days{29});
  EXPECT_EQ(findings_->Tick()->unreachable, 0);
  clock_.Advance(std::chrono::days{1});
  EXPECT_EQ(findings_->Tick()->unreachable, 1);
  EXPECT_EQ(StateOf(id3), "unreachable");
  ASSERT_TRUE(Do(id3, "contact_updated", kClinA).ok());
  EXPECT_EQ(StateOf(id3), "contacting");
}

TEST_P(FindingsTest, MessagesAreThreadedAuditedAndHaveReadReceipts) {
  const std::string pid = NewParticipant();
  const std::string id = File(Germline(pid));
  auto q = findings_->Post(id, {.type = "question", .body = "家族歴は? / family history?"}, kAn1);
  ASSERT_TRUE(q.ok()) << q.error().message;
  EXPECT_EQ(q->party, "analysis_center");
  EXPECT_EQ(q->thread_id, q->id);
  EXPECT_EQ(audit_.events().back().action, "finding.message");
  // Not sent yet: the hospital cannot see or post.
  EXPECT_EQ(findings_->Post(id, {.type = "note", .body = "x"}, kClinA).error().code,
            "finding_not_found");
  DriveTo(id, "sh_review");
  auto a = findings_->Post(id, {.type = "answer", .body = "母: 乳癌", .in_reply_to = q->id},
                           kClinA);
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->thread_id, q->id);
  EXPECT_EQ(a->party, "hospital");
  auto words = findings_->Post(
      id, {.type = "question", .body = "Will my children be affected?", .from_patient = true},
      kClinA);
  ASSERT_TRUE(words.ok());
  EXPECT_EQ(words->party, "patient");
  EXPECT_EQ(findings_->Post(id, {.type = "note", .body = "x", .from_patient = true}, kAn1)
                .error()
                .code,
            "wrong_party");
  auto dc = findings_->Post(id, {.type = "note", .body = "SLA ok", .recipient = "hospital"},
                            kSteward);
  ASSERT_TRUE(dc.ok());
  EXPECT_EQ(dc->party, "data_center");
  EXPECT_EQ(findings_->Post(id, {.type = "note", .body = "x"}, kAn3).error().code,
            "finding_not_found");

  struct Bad {
    NewMessage m;
    std::string field;
  };
  const std::vector<Bad> bad = {
      {{.type = "gossip", .body = "x"}, "type"},
      {{.type = "note", .body = ""}, "body"},
      {{.type = "note", .body = std::string(kMaxTextBytes + 1, 'x')}, "body"},
      {{.type = "note", .body = "x", .recipient = "patient"}, "recipient"},
      {{.type = "note", .body = "x", .in_reply_to = "MS-NOPE"}, "in_reply_to"},
      {{.type = "preference_change", .body = "x"}, "decision"},
      {{.type = "preference_change", .body = "x", .decision = "perhaps"}, "decision"},
      {{.type = "note", .body = "x", .decision = "want"}, "decision"},
  };
  for (const auto& b : bad) {
    auto r = findings_->Post(id, b.m, kClinA);
    ASSERT_FALSE(r.ok()) << b.field;
    EXPECT_EQ(r.error().field, b.field) << r.error().message;
  }
  ASSERT_EQ(findings_->Messages(id)->size(), 4u) << "bad input wrote nothing";

  // Read receipts per user.
  auto list = findings_->Messages(id);
  EXPECT_EQ((*list)[0].read_by.size(), 1u) << "the sender has read it";
  EXPECT_EQ(findings_->MarkRead(id, 2, kAn2).value(), 2);
  EXPECT_EQ(findings_->MarkRead(id, 0, kAn2).value(), 2);
  EXPECT_EQ(findings_->MarkRead(id, 0, kAn2).value(), 0);
  EXPECT_EQ(findings_->MarkRead(id, -1, kAn2).error().field, "up_to_seq");
  list = findings_->Messages(id);
  EXPECT_EQ((*list)[0].read_by.size(), 2u);
  EXPECT_EQ((*list)[0].read_by[1].user, "an-2");
  EXPECT_EQ((*list)[0].read_by[1].organisation, "ac-1");

  // A preference change in the thread becomes a consent record and stops the finding.
  auto change = findings_->Post(
      id, {.type = "preference_change", .body = "知りたくない / does not want to know",
           .decision = "dont_want"},
      kClinA);
  ASSERT_TRUE(change.ok()) << change.error().message;
  EXPECT_EQ(change->party, "patient");
  EXPECT_FALSE(change->consent_record_id.empty());
  auto consent = ledger_->Current(pid);
  EXPECT_EQ(consent->current->id, change->consent_record_id);
  EXPECT_EQ(consent->current->decisions.at("C10"), "deny");
  EXPECT_EQ(StateOf(id), "closed_by_preference");
  EXPECT_EQ(findings_->Post(id, {.type = "preference_change", .body = "x", .decision = "want"},
                            kClinA)
                .error()
                .code,
            "finding_closed");
}

TEST_P(FindingsTest, ReclassificationMakesALinkedNewFinding) {
  const std::string pid = NewParticipant();
  const std::string open = File(Germline(pid));
  DriveTo(open, "sh_review");
  EXPECT_EQ(findings_->Reclassify(open, {"benign", "ClinVar 2026"}, kAn3).error().code,
            "finding_not_found");
  EXPECT_EQ(findings_->Reclassify(open, {"benign", "ClinVar 2026"}, kClinA).error().code,
            "wrong_party");
  EXPECT_EQ(findings_->Reclassify(open, {"benignish", "x"}, kAn1).error().field,
            "classification");
  EXPECT_EQ(findings_->Reclassify(open, {"benign", ""}, kAn1).error().field, "evidence");
  auto fresh = findings_->Reclassify(open, {"likely_benign", "ClinVar 2026: benign"}, kAn1);
  ASSERT_TRUE(fresh.ok()) << fresh.error().message;
  EXPECT_EQ(fresh->finding.state, "detected");
  EXPECT_EQ(fresh->finding.category, "reinterpretation");
  EXPECT_EQ(fresh->finding.supersedes, open);
  auto old = findings_->Get(open);
  EXPECT_EQ(old->finding.state, "reclassified");
  EXPECT_EQ(old->finding.superseded_by, fresh->finding.id);
  EXPECT_EQ(findings_->Reclassify(open, {"benign", "again"}, kAn1).error().code,
            "already_reclassified");

  const std::string done = File(Germline(pid));
  DriveTo(done, "closed_returned");
  auto later = findings_->Reclassify(done, {"uncertain_significance", "new evidence"}, kAn1);
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(StateOf(done), "closed_returned") << "a closed finding stays closed, but linked";
  EXPECT_EQ(findings_->Get(done)->finding.superseded_by, later->finding.id);
}

TEST_P(FindingsTest, ListsWhatEachPartyMaySee) {
  const std::string pid = NewParticipant();
  const std::string sent = File(Germline(pid));
  DriveTo(sent, "sent_to_sh");
  const std::string internal = File(Somatic(pid));
  MarkAnalysed(pid, "ac-2");
  auto other = findings_->File(Somatic(pid), kAn3);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(findings_->List(kAn1, "", "")->size(), 2u);
  EXPECT_EQ(findings_->List(kAn3, "", "")->size(), 1u);
  EXPECT_EQ(findings_->List(kClinA, "", "")->size(), 1u);
  EXPECT_EQ(findings_->List(kClinB, "", "")->size(), 0u);
  EXPECT_EQ(findings_->List(kSteward, "", "")->size(), 3u);
  EXPECT_EQ(findings_->List(kSteward, "detected", "")->size(), 2u);
  EXPECT_EQ(findings_->List(kSteward, "nonsense", "").error().field, "state");
  EXPECT_EQ(findings_->List(kSteward, "", "ZG-NOPE")->size(), 0u);
  using V = std::vector<std::string>;
  auto d = findings_->Get(sent);
  EXPECT_EQ(findings_->AllowedEvents(d->finding, kClinA), V{"acknowledge"});
  EXPECT_EQ(findings_->AllowedEvents(d->finding, kAn1), V{});
  EXPECT_EQ(findings_->AllowedEvents(findings_->Get(internal)->finding, kAn1), V{"classify"});
}

// Filing, a transition, a message and the settings commit with their audit records
// (AuditSink::AppendInTransaction): when the record's write fails, nothing is stored.
TEST_P(FindingsTest, AChangeAndItsAuditRecordCommitTogetherOrNotAtAll) {
  audit::testing::FailAfterWriteSink sink(*store_, clock_);
  Findings faulty(*store_, clock_, sink, *ledger_);
  const auto count = [&](const char* sql) {
    auto tx = store_->Begin(storage::TxMode::kRead);
    return (*tx)->Query(sql)->rows[0].Int(0);
  };
  const std::string pid = NewParticipant();

  EXPECT_EQ(faulty.File(Germline(pid), kAn1).error().code, "audit_injected_failure");
  EXPECT_EQ(count("SELECT COUNT(*) FROM findings"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM finding_events"), 0);

  const std::string id = File(Germline(pid));
  EXPECT_EQ(faulty.Step(id, {.event = "classify"}, kAn1).error().code, "audit_injected_failure");
  EXPECT_EQ(StateOf(id), "detected");
  EXPECT_EQ(count("SELECT COUNT(*) FROM finding_events"), 1);
  EXPECT_EQ(faulty.Post(id, {.type = "question", .body = "?"}, kAn1).error().code,
            "audit_injected_failure");
  EXPECT_EQ(count("SELECT COUNT(*) FROM finding_messages"), 0);
  EXPECT_EQ(faulty.PutSettings({"3.1", 14, 90}, kSteward).error().code, "audit_injected_failure");
  EXPECT_EQ(findings_->GetSettings()->acmg_sf_version, Settings{}.acmg_sf_version);
  for (const char* action :
       {"finding.write", "finding.transition", "finding.message", "finding.configure"}) {
    EXPECT_EQ(audit::testing::CountRecords(*store_, action), 0) << action;
  }

  sink.fail_after_write = false;
  ASSERT_TRUE(faulty.Step(id, {.event = "classify"}, kAn1).ok());
  EXPECT_EQ(StateOf(id), "triaged");
  EXPECT_EQ(audit::testing::CountRecords(*store_, "finding.transition"), 1);
}

INSTANTIATE_TEST_SUITE_P(Backends, FindingsTest, ::testing::ValuesIn(storage::TestBackends()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace zengen::findings
