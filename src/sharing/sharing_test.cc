#include "sharing/sharing.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "audit/testing.h"
#include "sharing/sharing_test_support.h"

namespace zengen::sharing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::kCommittee1;
using testing::kCommittee2;
using testing::kCommittee3;
using testing::kCommitteeUniv;
using testing::kHospitalStaff;
using testing::kIndustry;
using testing::kMember;
using testing::kResearcher;
using testing::kSteward;
using testing::SubjectOf;

// ---- pure tables --------------------------------------------------------------------------------

TEST(TierTableTest, EveryRowAndNothingElse) {
  struct Row {
    std::string from, event, to;
    bool allowed;
  };
  const std::vector<Row> rows = {
      {"", "release", "group_restricted", true},
      {"group_restricted", "embargo_passed", "controlled", true},
      {"controlled", "aggregates_due", "public_aggregates", true},
      {"group_restricted", "aggregates_due", "", false},  // never skips the controlled tier
      {"controlled", "embargo_passed", "", false},
      {"public_aggregates", "embargo_passed", "", false},  // no way back
      {"public_aggregates", "aggregates_due", "", false},
      {"controlled", "release", "", false},
  };
  for (const auto& r : rows) {
    const TierTransition* t = FindTierTransition(r.from, r.event);
    EXPECT_EQ(t != nullptr, r.allowed) << r.from << " " << r.event;
    if (t != nullptr) {
      EXPECT_EQ(t->to, r.to);
    }
  }
  EXPECT_EQ(TierTable().size(), 3u);
}

TEST(TierTableTest, EmbargoEndAndTierAt) {
  struct Row {
    std::string date;
    int64_t months;
    std::string end;  // "" = error
  };
  const std::vector<Row> rows = {
      {"2026-11-24", 24, "2028-11-24T00:00:00.000Z"},
      {"2026-01-31", 1, "2026-02-28T00:00:00.000Z"},  // clamped to the month's end
      {"2024-02-29", 12, "2025-02-28T00:00:00.000Z"},
      {"2026-11-24", 0, "2026-11-24T00:00:00.000Z"},
      {"2026-13-01", 1, ""},
      {"2026-02-30", 1, ""},
      {"26-11-24", 1, ""},
      {"2026-11-24", -1, ""},
      {"2026-11-24", kMaxEmbargoMonths + 1, ""},
  };
  for (const auto& r : rows) {
    auto end = EmbargoEnd(r.date, r.months);
    EXPECT_EQ(end.ok(), !r.end.empty()) << r.date << " + " << r.months;
    if (end.ok()) {
      EXPECT_EQ(FormatRfc3339(*end), r.end) << r.date;
    }
  }
  Release rel;
  rel.controlled_at = "2028-11-24T00:00:00.000Z";
  rel.public_aggregates_at = "2029-01-01T00:00:00.000Z";
  const auto at = std::chrono::sys_days{std::chrono::year{2028} / 11 / 24};
  EXPECT_EQ(TierAt(rel, at - 1ms), "group_restricted");
  EXPECT_EQ(TierAt(rel, at), "controlled");
  EXPECT_EQ(TierAt(rel, std::chrono::sys_days{std::chrono::year{2029} / 1 / 1}),
            "public_aggregates");
}

TEST(TrackRulesTest, WhatEachTrackMustProvide) {
  const json ethics = {{"file_name", "a.pdf"}, {"sha256", testing::kSha}, {"size", 1}};
  const json agreement = testing::AgreementJson();
  const json fee = testing::FeeJson();
  const json none = json::object();
  struct Row {
    std::string track;
    json ethics, agreement, fee;
    std::vector<std::string> missing;
  };
  const std::vector<Row> rows = {
      {"academic", ethics, none, none, {}},
      {"academic", none, none, none, {"ethics_approval"}},
      {"academic", none, agreement, fee, {"ethics_approval"}},
      {"industry", ethics, agreement, fee, {}},
      {"industry", ethics, none, none, {"signed_agreement", "fee_record"}},
      {"industry", none, agreement, none, {"ethics_approval", "fee_record"}},
      {"industry", ethics, agreement, none, {"fee_record"}},
      {"hospital", ethics, agreement, fee, {"track"}},
  };
  for (const auto& r : rows) {
    EXPECT_EQ(MissingRequirements(r.track, r.ethics, r.agreement, r.fee), r.missing) << r.track;
  }
  EXPECT_FALSE(FindTrack("academic")->for_profit);
  EXPECT_TRUE(FindTrack("industry")->for_profit);
}

// DUO matching rules of ga4gh.md §6.2, through the application's purpose and track.
TEST(PrescreenRulesTest, DuoMatchingOfApplicationPurposes) {
  auto profile = [](std::string primary, std::vector<std::string> mods = {},
                    std::string disease = "") {
    consent::DataUseProfile p;
    p.any_use = true;
    p.primary = primary;
    p.disease = std::move(disease);
    p.duo = {primary};
    for (auto& m : mods) p.duo.push_back(m);
    return p;
  };
  auto purpose = [](std::string primary, std::string disease = "", bool commercial = false,
                    bool methods = false, bool ancestry = false) {
    Purpose p;
    p.primary = std::move(primary);
    p.disease = std::move(disease);
    p.commercial = commercial;
    p.methods_development = methods;
    p.ancestry = ancestry;
    return p;
  };
  consent::DataUseProfile withdrawn;
  withdrawn.withdrawal_level = "full";
  struct Row {
    std::string name;
    consent::DataUseProfile profile;
    Purpose purpose;
    std::string track;
    bool covered;
  };
  const std::vector<Row> rows = {
      {"HMB research on GRU consent", profile("GRU"), purpose("HMB"), "academic", true},
      {"HMB research on HMB consent", profile("HMB"), purpose("HMB"), "academic", true},
      {"GRU research needs GRU", profile("HMB"), purpose("GRU"), "academic", false},
      {"disease research on GRU", profile("GRU"), purpose("DS", "lung"), "academic", true},
      {"disease research on HMB", profile("HMB"), purpose("DS", "lung"), "academic", true},
      {"disease research on the same DS", profile("DS", {}, "lung"), purpose("DS", "lung"),
       "academic", true},
      {"disease research on another DS", profile("DS", {}, "breast"), purpose("DS", "lung"),
       "academic", false},
      {"ancestry (POA) on GRU", profile("GRU"), purpose("POA"), "academic", true},
      {"ancestry (POA) excluded by HMB", profile("HMB"), purpose("POA"), "academic", false},
      {"ancestry flag excluded by HMB", profile("HMB"), purpose("HMB", "", false, false, true),
       "academic", false},
      {"methods development on GRU with NMDS", profile("GRU", {"NMDS"}),
       purpose("HMB", "", false, true), "academic", true},
      {"methods development without NMDS", profile("HMB"), purpose("HMB", "", false, true),
       "academic", true},
      {"methods development with NMDS", profile("HMB", {"NMDS"}),
       purpose("HMB", "", false, true), "academic", false},
      {"commercial purpose, NCU", profile("GRU", {"NCU", "NPU"}), purpose("HMB", "", true),
       "academic", false},
      {"commercial purpose, no NCU/NPU", profile("GRU"), purpose("HMB", "", true), "academic",
       true},
      {"industry requester, NCU", profile("GRU", {"NCU", "NPU"}), purpose("HMB"), "industry",
       false},
      {"industry requester, NPU only", profile("GRU", {"NPU"}), purpose("HMB"), "industry",
       false},
      {"industry requester, neither", profile("GRU"), purpose("HMB"), "industry", true},
      {"academic, non-commercial, NCU", profile("GRU", {"NCU", "NPU"}), purpose("HMB"),
       "academic", true},
      {"withdrawn fully", withdrawn, purpose("HMB"), "academic", false},
  };
  for (const auto& r : rows) {
    EXPECT_EQ(consent::Match(r.profile, ToConsentPurpose(r.purpose, r.track)).allowed, r.covered)
        << r.name;
  }
}

TEST(CommitteeRuleTest, TallyOfLatestVotes) {
  struct Row {
    std::string name;
    std::vector<Ballot> ballots;
    Outcome outcome;
  };
  const std::vector<Row> rows = {
      {"no votes", {}, Outcome::kPending},
      {"one approval", {{"a", "dc", "approve"}}, Outcome::kPending},
      {"two approvals", {{"a", "dc", "approve"}, {"b", "dc", "approve"}}, Outcome::kApproved},
      {"abstentions do not count",
       {{"a", "dc", "approve"}, {"b", "dc", "abstain"}, {"c", "dc", "abstain"}},
       Outcome::kPending},
      {"a tie rejects", {{"a", "dc", "approve"}, {"b", "dc", "reject"}}, Outcome::kRejected},
      {"majority approves",
       {{"a", "dc", "approve"}, {"b", "dc", "approve"}, {"c", "dc", "reject"}},
       Outcome::kApproved},
      {"majority rejects",
       {{"a", "dc", "reject"}, {"b", "dc", "reject"}, {"c", "dc", "approve"}},
       Outcome::kRejected},
      {"the latest vote of a member counts",
       {{"a", "dc", "reject"}, {"b", "dc", "approve"}, {"a", "dc", "approve"}},
       Outcome::kApproved},
      {"one member voting twice is one vote", {{"a", "dc", "approve"}, {"a", "dc", "approve"}},
       Outcome::kPending},
      {"conflicted votes are not counted",
       {{"a", "univ", "approve"}, {"b", "dc", "approve"}}, Outcome::kPending},
  };
  for (const auto& r : rows) {
    const Tally t = TallyVotes(r.ballots, "univ");
    EXPECT_EQ(t.outcome, r.outcome) << r.name << ": " << t.reason;
    EXPECT_FALSE(t.reason.empty());
  }
  EXPECT_EQ(TallyVotes({{"a", "univ", "approve"}}, "univ").conflicted, 1);
}

TEST(ApplicationValidationTest, MalformedApplicationsNameTheField) {
  NewApplication ok;
  ok.title = "t";
  ok.datasets = {"DS-1"};
  ok.data_types = {"cram", "vcf"};
  ok.start_date = "2026-11-01";
  ok.end_date = "2027-10-31";
  ASSERT_TRUE(ValidateApplication(ok).ok());
  struct Row {
    std::string field;
    std::function<void(NewApplication&)> mutate;
  };
  const std::vector<Row> rows = {
      {"title", [](auto& a) { a.title = ""; }},
      {"title", [](auto& a) { a.title = std::string(501, 'x'); }},
      {"datasets", [](auto& a) { a.datasets = {}; }},
      {"datasets[1]", [](auto& a) { a.datasets = {"DS-1", "DS-1"}; }},
      {"data_types[0]", [](auto& a) { a.data_types = {"bam"}; }},
      {"data_types[1]", [](auto& a) { a.data_types = {"cram", "cram"}; }},
      {"fastq_justification", [](auto& a) { a.data_types = {"fastq"}; }},
      {"fastq_justification", [](auto& a) { a.fastq_justification = "why"; }},
      {"ethics.sha256",
       [](auto& a) { a.ethics = {{"file_name", "x.pdf"}, {"sha256", "abc"}, {"size", 1}}; }},
      {"ethics.size",
       [](auto& a) { a.ethics = {{"file_name", "x.pdf"}, {"sha256", testing::kSha}}; }},
      {"ethics.file_name", [](auto& a) { a.ethics = {{"sha256", testing::kSha}, {"size", 1}}; }},
      {"ethics.body", [](auto& a) { a.ethics = {{"body", "x"}}; }},
      {"agreement.signed_on", [](auto& a) { a.agreement = {{"sha256", testing::kSha}}; }},
      {"fee.amount_jpy",
       [](auto& a) { a.fee = {{"invoice_no", "1"}, {"amount_jpy", 0}, {"paid_on", "2026-01-01"}}; }},
      {"start_date", [](auto& a) { a.start_date = "2026-02-30"; }},
      {"end_date", [](auto& a) { a.end_date = ""; }},
      {"end_date", [](auto& a) { a.end_date = "2026-10-31"; }},
      {"end_date", [](auto& a) { a.end_date = "2032-11-01"; }},
  };
  for (const auto& r : rows) {
    NewApplication a = ok;
    r.mutate(a);
    const Status s = ValidateApplication(a);
    ASSERT_FALSE(s.ok()) << r.field;
    EXPECT_EQ(s.error().kind, ErrorKind::kInvalidArgument) << r.field;
    EXPECT_EQ(s.error().field, r.field) << s.error().message;
  }
  for (const auto& [bad, field] : std::vector<std::pair<json, std::string>>{
           {json::object(), "purpose.primary"},
           {{{"primary", "XYZ"}}, "purpose.primary"},
           {{{"primary", "DS"}}, "purpose.disease"},
           {{{"primary", "HMB"}, {"disease", "lung"}}, "purpose.disease"},
           {{{"primary", "HMB"}, {"commercial", "yes"}}, "purpose.commercial"},
           {{{"primary", "HMB"}, {"colour", "red"}}, "purpose.colour"},
           {json::array(), "purpose"}}) {
    auto p = ParsePurpose(bad);
    ASSERT_FALSE(p.ok()) << bad.dump();
    EXPECT_EQ(p.error().field, field) << bad.dump();
  }
}

// ---- on both backends ------------------------------------------------------------------------

class SharingTest : public testing::SharingFixture {};

TEST_P(SharingTest, EmbargoEndsAtTheDateNotAMillisecondBeforeAndTheMoveIsAudited) {
  const std::string p1 = NewParticipant();
  const std::string ds = Dataset({p1});  // released 2026-11-24, 24 months
  auto rel = sharing_->GetRelease(release_);
  ASSERT_TRUE(rel.ok());
  EXPECT_EQ(rel->release.controlled_at, "2028-11-24T00:00:00.000Z");
  EXPECT_EQ(rel->tier_now, "group_restricted");
  NewApplication a = Application(ds);
  const std::string grant = Approved(a, kResearcher);
  ASSERT_FALSE(grant.empty());
  // The grant must outlast the embargo for this test.
  {
    auto tx = store_->Begin(storage::TxMode::kWrite);
    ASSERT_TRUE((*tx)->Exec("UPDATE grants SET expires_at = '2030-01-01T00:00:00.000Z'").ok());
    ASSERT_TRUE((*tx)->Commit().ok());
  }
  // During the embargo: the producing group sees the file, the grant holder does not.
  auto member = sharing_->FileAccessFor(SubjectOf(kMember), Cram(p1));
  ASSERT_TRUE(member.ok());
  EXPECT_TRUE(member->decision.allowed()) << member->decision.reason;
  EXPECT_EQ(member->tier, "group_restricted");
  auto holder = sharing_->FileAccessFor(SubjectOf(kResearcher), Cram(p1));
  ASSERT_TRUE(holder.ok());
  EXPECT_FALSE(holder->decision.allowed());
  EXPECT_NE(holder->decision.reason.find("group-restricted"), std::string::npos);

  const auto due = std::chrono::sys_days{std::chrono::year{2028} / 11 / 24};
  clock_.Advance(std::chrono::duration_cast<std::chrono::milliseconds>(due - clock_.Now()) - 1ms);
  auto before = sharing_->Tick(clock_.Now());
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(before->to_controlled, 0);
  EXPECT_EQ(sharing_->GetRelease(release_)->release.tier, "group_restricted");
  EXPECT_FALSE(sharing_->FileAccessFor(SubjectOf(kResearcher), Cram(p1))->decision.allowed());

  clock_.Advance(1ms);
  ASSERT_EQ(clock_.Now(), due);
  auto at = sharing_->Tick(clock_.Now());
  ASSERT_TRUE(at.ok());
  EXPECT_EQ(at->to_controlled, 1);
  auto after = sharing_->GetRelease(release_);
  EXPECT_EQ(after->release.tier, "controlled");
  EXPECT_EQ(after->release.tier_since, "2028-11-24T00:00:00.000Z");
  ASSERT_EQ(after->history.size(), 2u);
  EXPECT_EQ(after->history[1].event, "embargo_passed");
  EXPECT_EQ(after->history[1].from, "group_restricted");
  EXPECT_EQ(after->history[1].to, "controlled");
  const auto events = audit_.events();
  const bool audited = std::any_of(events.begin(), events.end(), [&](const AuditEvent& e) {
    return e.action == "release.tier" && e.resource == "release/" + release_ &&
           e.actor == "system" && e.reason.find("controlled") != std::string::npos;
  });
  EXPECT_TRUE(audited);
  auto now_holder = sharing_->FileAccessFor(SubjectOf(kResearcher), Cram(p1));
  EXPECT_TRUE(now_holder->decision.allowed()) << now_holder->decision.reason;
  EXPECT_EQ(now_holder->grant_id, grant);
  // A second tick changes nothing.
  EXPECT_EQ(sharing_->Tick(clock_.Now())->to_controlled, 0);
}

TEST_P(SharingTest, PublicAggregatesFollowAndNeverPublicFieldsStayOut) {
  const std::string p1 = NewParticipant();
  auto d = sharing_->CreateDataset({"a", "a", "cancer", "grp-1", ""}, kSteward);
  ASSERT_TRUE(d.ok());
  ASSERT_TRUE(sharing_->AddFiles(d->id, {{p1}, {}, false}, kSteward).ok());
  auto bad = sharing_->CreateRelease(d->id, {"2026-11-24", 1, "2026-12-01"}, kSteward);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, "public_aggregates_date");
  auto r = sharing_->CreateRelease(d->id, {"2026-11-24", 1, "2027-01-01"}, kSteward);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(sharing_->PublicAggregates(r->release.id, "").error().code, "not_public");
  clock_.Advance(std::chrono::hours(24 * 60));  // past both dates: both moves in one tick
  auto t = sharing_->Tick(clock_.Now());
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->to_controlled, 1);
  EXPECT_EQ(t->to_public_aggregates, 1);
  EXPECT_EQ(sharing_->GetRelease(r->release.id)->history.size(), 3u);
  auto agg = sharing_->PublicAggregates(r->release.id, "case_basics.sex");
  ASSERT_TRUE(agg.ok()) << agg.error().message;
  EXPECT_EQ(agg->participants, 1);
  EXPECT_EQ(agg->by_disease.at("lung"), 1);
  auto secret = sharing_->PublicAggregates(r->release.id, "case_basics.birth_year");
  ASSERT_FALSE(secret.ok());
  EXPECT_EQ(secret.error().code, "never_public_field");
  EXPECT_EQ(sharing_->PublicAggregates(r->release.id, "case_basics.nothing").error().field,
            "field");
  // Every value of the field is counted, zero or not, so the list of keys says nothing.
  EXPECT_GE(agg->by_value.size(), 3u);
  EXPECT_EQ(agg->by_value.at("not_recorded"), 1);
  // The portal's disclosure control gets every public release with every public enum field.
  auto all = sharing_->AllPublicAggregates();
  ASSERT_TRUE(all.ok()) << all.error().message;
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].release_id, r->release.id);
  EXPECT_TRUE((*all)[0].by_field.contains("case_basics.sex"));
  EXPECT_FALSE((*all)[0].by_field.contains("case_basics.birth_year"));
  // Issue 14: the portal's released stage comes from here.
  auto released = sharing_->ReleasedParticipants();
  ASSERT_TRUE(released.ok()) << released.error().message;
  EXPECT_EQ(*released, std::set<std::string>{p1});
}

TEST_P(SharingTest, FastqOnlyOnRequest) {
  const std::string p1 = NewParticipant();
  auto d = sharing_->CreateDataset({"a", "a", "cancer", "grp-1", ""}, kSteward);
  ASSERT_TRUE(d.ok());
  auto added = sharing_->AddFiles(d->id, {{p1}, {}, false}, kSteward);
  ASSERT_TRUE(added.ok());
  EXPECT_EQ(added->added.size(), 2u);  // CRAM and VCF
  EXPECT_EQ(added->skipped, std::vector<std::string>{Fastq(p1)});
  auto refused = sharing_->AddFiles(d->id, {{}, {Fastq(p1)}, false}, kSteward);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "fastq_not_requested");
  EXPECT_EQ(refused.error().field, "file_ids[0]");
  auto fastq = sharing_->AddFiles(d->id, {{}, {Fastq(p1)}, true}, kSteward);
  ASSERT_TRUE(fastq.ok());
  EXPECT_EQ(fastq->added, std::vector<std::string>{Fastq(p1)});
  // Nothing half-done on error: an unknown participant adds nothing.
  auto d2 = sharing_->CreateDataset({"b", "b", "cancer", "grp-1", ""}, kSteward);
  auto partial = sharing_->AddFiles(d2->id, {{p1, "ZG-NONE"}, {}, false}, kSteward);
  ASSERT_FALSE(partial.ok());
  EXPECT_EQ(partial.error().field, "participant_ids[1]");
  EXPECT_EQ(sharing_->CreateRelease(d2->id, {"2026-11-24", 0, ""}, kSteward).error().code,
            "dataset_empty");
  // The program must match; the group must exist.
  const std::string rare = NewParticipant("rare_disease");
  EXPECT_EQ(sharing_->AddFiles(d->id, {{rare}, {}, false}, kSteward).error().code,
            "program_mismatch");
  EXPECT_EQ(sharing_->CreateDataset({"a", "a", "cancer", "grp-x", ""}, kSteward).error().code,
            "group_not_found");
  EXPECT_EQ(sharing_->CreateDataset({"a", "a", "dental", "grp-1", ""}, kSteward).error().field,
            "program");
}

TEST_P(SharingTest, WithdrawalRemovesAParticipantFromEveryAnswerAtOnce) {
  const std::string p1 = NewParticipant();
  const std::string p2 = NewParticipant();
  const std::string ds = Dataset({p1, p2}, "cancer", 0);  // controlled today
  ASSERT_FALSE(Approved(Application(ds), kResearcher).empty());
  const auto subject = SubjectOf(kResearcher);
  auto files = sharing_->VisibleFiles(subject, ds);
  ASSERT_TRUE(files.ok());
  EXPECT_EQ(files->size(), 4u);
  EXPECT_EQ(*sharing_->VisibleParticipants(subject, ds, {p2, p1, "ZG-NOBODY", p1}),
            (std::vector<std::string>{p2, p1}));
  EXPECT_TRUE(sharing_->FileAccessFor(subject, Vcf(p1))->decision.allowed());

  Withdraw(p1);
  files = sharing_->VisibleFiles(subject, ds);
  ASSERT_TRUE(files.ok());
  EXPECT_EQ(files->size(), 2u);
  for (const auto& f : *files) EXPECT_EQ(f.participant_id, p2);
  EXPECT_EQ(*sharing_->VisibleParticipants(subject, ds, {p1, p2}), std::vector<std::string>{p2});
  for (const auto& id : {Cram(p1), Vcf(p1)}) {
    auto a = sharing_->FileAccessFor(subject, id);
    ASSERT_TRUE(a.ok());
    EXPECT_FALSE(a->decision.allowed());
    EXPECT_NE(a->decision.reason.find("withdrawn"), std::string::npos) << a->decision.reason;
  }
  // Nobody sees them, not the producing group nor a data steward.
  EXPECT_FALSE(sharing_->FileAccessFor(SubjectOf(kMember), Cram(p1))->decision.allowed());
  EXPECT_FALSE(sharing_->FileAccessFor(SubjectOf(kSteward), Cram(p1))->decision.allowed());
  EXPECT_EQ(sharing_->VisibleFiles(SubjectOf(kSteward), ds)->size(), 2u);
  // The pre-screen counts them as withdrawn.
  auto pre = sharing_->PrescreenPurpose(Purpose{}, "academic", {ds});
  ASSERT_TRUE(pre.ok());
  EXPECT_EQ((*pre)[0].participants, 2);
  EXPECT_EQ((*pre)[0].covered, 1);
  EXPECT_EQ((*pre)[0].withdrawn, 1);
}

TEST_P(SharingTest, ConsentThatDoesNotCoverTheGrantsPurposeHidesTheParticipant) {
  // Rare disease: industry use (C05) is opt-out; p1 opted out.
  const std::string p1 = NewParticipant("rare_disease", {{"C05", "deny"}});
  const std::string p2 = NewParticipant("rare_disease");
  const std::string ds = Dataset({p1, p2}, "rare_disease", 0);
  NewApplication a = Application(ds);
  a.agreement = Agreement();
  a.fee = Fee();
  ASSERT_FALSE(Approved(a, kIndustry).empty());
  auto pre = sharing_->PrescreenPurpose(a.purpose, "industry", {ds});
  ASSERT_TRUE(pre.ok());
  EXPECT_EQ((*pre)[0].covered, 1);
  EXPECT_EQ((*pre)[0].not_covered, 1);
  const auto industry = SubjectOf(kIndustry);
  EXPECT_EQ(*sharing_->VisibleParticipants(industry, ds, {p1, p2}), std::vector<std::string>{p2});
  auto denied = sharing_->FileAccessFor(industry, Cram(p1));
  EXPECT_FALSE(denied->decision.allowed());
  EXPECT_NE(denied->decision.reason.find("consent"), std::string::npos);
  // The same participant is visible to an academic, non-commercial grant.
  ASSERT_FALSE(Approved(Application(ds), kResearcher).empty());
  EXPECT_EQ(sharing_->VisibleParticipants(SubjectOf(kResearcher), ds, {p1, p2})->size(), 2u);
}

TEST_P(SharingTest, ExpiredAndRevokedGrantsAreDeniedOnTheNextCall) {
  const std::string p1 = NewParticipant();
  const std::string ds = Dataset({p1}, "cancer", 0);
  const std::string academic = Approved(Application(ds), kResearcher);
  NewApplication ia = Application(ds);
  ia.agreement = Agreement();
  ia.fee = Fee();
  const std::string industry = Approved(ia, kIndustry);
  ASSERT_FALSE(academic.empty());
  ASSERT_FALSE(industry.empty());
  EXPECT_TRUE(sharing_->FileAccessFor(SubjectOf(kIndustry), Cram(p1))->decision.allowed());
  // Revoked by a steward: the very next call is denied.
  auto revoked = sharing_->Revoke(industry, "agreement breached", kSteward);
  ASSERT_TRUE(revoked.ok());
  EXPECT_EQ(revoked->StatusAt(clock_.Now()), "revoked");
  auto r = sharing_->FileAccessFor(SubjectOf(kIndustry), Cram(p1));
  EXPECT_FALSE(r->decision.allowed());
  EXPECT_NE(r->decision.reason.find("revoked"), std::string::npos) << r->decision.reason;
  EXPECT_TRUE(sharing_->VisibleFiles(SubjectOf(kIndustry), ds)->empty());
  EXPECT_EQ(sharing_->Revoke(industry, "again", kSteward).error().code, "already_revoked");
  EXPECT_EQ(sharing_->Revoke(industry, "", kSteward).error().field, "reason");
  // Expiry: the grant ends with 2027-10-31 (exclusive 2027-11-01T00:00Z).
  const auto end = std::chrono::sys_days{std::chrono::year{2027} / 11 / 1};
  clock_.Advance(std::chrono::duration_cast<std::chrono::milliseconds>(end - clock_.Now()) - 1ms);
  EXPECT_TRUE(sharing_->FileAccessFor(SubjectOf(kResearcher), Cram(p1))->decision.allowed());
  clock_.Advance(1ms);
  auto e = sharing_->FileAccessFor(SubjectOf(kResearcher), Cram(p1));
  EXPECT_FALSE(e->decision.allowed());
  EXPECT_NE(e->decision.reason.find("expired"), std::string::npos) << e->decision.reason;
  EXPECT_TRUE(sharing_->VisibleFiles(SubjectOf(kResearcher), ds)->empty());
  // Listing grants: each researcher their own, the committee all.
  EXPECT_EQ(sharing_->ListGrants(kResearcher)->size(), 1u);
  EXPECT_EQ(sharing_->ListGrants(kCommittee1)->size(), 2u);
}

TEST_P(SharingTest, GrantCoversOnlyItsDataTypesDatasetsAndPurposeHint) {
  const std::string p1 = NewParticipant();
  const std::string ds = Dataset({p1}, "cancer", 0);
  const std::string other = Dataset({p1}, "cancer", 0);
  NewApplication a = Application(ds);
  a.data_types = {"vcf"};
  ASSERT_FALSE(Approved(a, kResearcher).empty());
  const auto s = SubjectOf(kResearcher);
  EXPECT_FALSE(sharing_->FileAccessFor(s, Cram(p1))->decision.allowed());
  auto vcf = sharing_->FileAccessFor(s, Vcf(p1));
  EXPECT_TRUE(vcf->decision.allowed());
  EXPECT_EQ(vcf->dataset_id, ds);
  EXPECT_TRUE(sharing_->VisibleFiles(s, other)->empty());
  EXPECT_TRUE(sharing_->FileAccessFor(s, Vcf(p1), "HMB")->decision.allowed());
  EXPECT_FALSE(sharing_->FileAccessFor(s, Vcf(p1), "GRU")->decision.allowed());
  // A file in no dataset is not shared; an unknown file is not found.
  const std::string p2 = NewParticipant();
  auto unshared = sharing_->FileAccessFor(s, Cram(p2));
  ASSERT_TRUE(unshared.ok());
  EXPECT_FALSE(unshared->decision.allowed());
  EXPECT_EQ(sharing_->FileAccessFor(s, "FL-NONE").error().code, "file_not_found");
  EXPECT_EQ(sharing_->VisibleFiles(s, "DS-NONE").error().code, "dataset_not_found");
  // Roles without data.access see nothing.
  EXPECT_FALSE(sharing_->FileAccessFor(SubjectOf(kCommittee1), Vcf(p1))->decision.allowed());
}

TEST_P(SharingTest, ApplicationTracksCommitteeAndGrantInOneTransaction) {
  const std::string p1 = NewParticipant();
  const std::string ds = Dataset({p1}, "cancer", 0);
  // Not an academic or industry organisation.
  EXPECT_EQ(sharing_->CreateApplication(Application(ds), kHospitalStaff).error().code,
            "organisation_not_eligible");
  NewApplication bad = Application(ds);
  bad.datasets = {"DS-NONE"};
  EXPECT_EQ(sharing_->CreateApplication(bad, kResearcher).error().field, "datasets[0]");

  // Industry: ethics alone is not enough.
  NewApplication ia = Application(ds);
  auto created = sharing_->CreateApplication(ia, kIndustry);
  ASSERT_TRUE(created.ok());
  EXPECT_EQ(created->application.track, "industry");
  EXPECT_EQ(created->application.data_types, (std::vector<std::string>{"cram", "vcf"}));
  EXPECT_EQ(created->missing, (std::vector<std::string>{"signed_agreement", "fee_record"}));
  const std::string iid = created->application.id;
  auto refused = sharing_->Submit(iid, kIndustry);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "requirements_missing");
  EXPECT_EQ(refused.error().field, "agreement");
  // Drafts are the applicant's own.
  EXPECT_EQ(sharing_->GetApplication(iid, kCommittee1).error().code, "application_not_found");
  EXPECT_EQ(sharing_->GetApplication(iid, kResearcher).error().code, "application_not_found");
  EXPECT_EQ(sharing_->Submit(iid, kResearcher).error().code, "application_not_found");
  EXPECT_EQ(sharing_->Withdraw(iid, "", kIndustry)->application.state, "withdrawn");
  EXPECT_EQ(sharing_->Withdraw(iid, "", kIndustry).error().code, "invalid_transition");

  // Academic: ethics approval suffices.
  auto ac = sharing_->CreateApplication(Application(ds), kResearcher);
  ASSERT_TRUE(ac.ok());
  const std::string id = ac->application.id;
  // A draft is not before the committee at all.
  EXPECT_EQ(sharing_->Vote(id, "approve", "", kCommittee1).error().code, "application_not_found");
  ASSERT_TRUE(sharing_->Submit(id, kResearcher).ok());
  EXPECT_EQ(sharing_->Submit(id, kResearcher).error().code, "invalid_transition");
  EXPECT_EQ(sharing_->ListApplications(kCommittee1)->size(), 2u);  // all but drafts
  EXPECT_EQ(sharing_->ListApplications(kResearcher)->size(), 1u);  // own only
  // Pre-screen of the application.
  auto pre = sharing_->Prescreen(id, kResearcher);
  ASSERT_TRUE(pre.ok());
  EXPECT_EQ((*pre)[0].covered, 1);
  // Committee: conflict of interest, roles, votes, comments.
  EXPECT_EQ(sharing_->Vote(id, "approve", "", kCommitteeUniv).error().code,
            "conflict_of_interest");
  EXPECT_EQ(sharing_->Comment(id, "x", kCommitteeUniv).error().code, "conflict_of_interest");
  EXPECT_EQ(sharing_->Vote(id, "approve", "", kSteward).error().code, "not_committee");
  EXPECT_EQ(sharing_->Vote(id, "maybe", "", kCommittee1).error().field, "vote");
  EXPECT_EQ(sharing_->Comment(id, "", kCommittee1).error().field, "body");
  ASSERT_TRUE(sharing_->Comment(id, "倫理審査の承認番号を確認しました", kCommittee1).ok());
  ASSERT_TRUE(sharing_->Vote(id, "reject", "period too long", kCommittee1).ok());
  ASSERT_TRUE(sharing_->Vote(id, "approve", "", kCommittee2).ok());
  // 1:1 would reject; the first member changes their vote, a third abstains.
  ASSERT_TRUE(sharing_->Vote(id, "approve", "clarified", kCommittee1).ok());
  ASSERT_TRUE(sharing_->Vote(id, "abstain", "", kCommittee3).ok());
  EXPECT_EQ(sharing_->ListGrants(kSteward)->size(), 0u);
  auto decided = sharing_->DecideApplication(id, kCommittee3);
  ASSERT_TRUE(decided.ok()) << decided.error().message;
  EXPECT_EQ(decided->application.state, "approved");
  EXPECT_EQ(decided->tally.approve, 2);
  EXPECT_EQ(decided->tally.abstain, 1);
  ASSERT_TRUE(decided->grant.has_value());
  EXPECT_EQ(decided->grant->holder, kResearcher.user);
  EXPECT_EQ(decided->grant->starts_at, "2026-11-01T00:00:00.000Z");
  EXPECT_EQ(decided->grant->expires_at, "2027-11-01T00:00:00.000Z");
  // The whole history is kept: created, submitted, comment, 4 votes, decision.
  std::vector<std::string> kinds;
  for (const auto& e : decided->history) kinds.push_back(e.kind);
  EXPECT_EQ(kinds, (std::vector<std::string>{"created", "submitted", "comment", "vote", "vote",
                                             "vote", "vote", "decision"}));
  EXPECT_EQ(sharing_->DecideApplication(id, kCommittee1).error().code, "not_under_review");
  EXPECT_EQ(sharing_->Withdraw(id, "", kResearcher).error().code, "invalid_transition");

  // No quorum: a decision is refused while pending; a rejection makes no grant.
  auto second = sharing_->CreateApplication(Application(ds), kResearcher);
  ASSERT_TRUE(sharing_->Submit(second->application.id, kResearcher).ok());
  ASSERT_TRUE(sharing_->Vote(second->application.id, "reject", "目的が不明確", kCommittee1).ok());
  EXPECT_EQ(sharing_->DecideApplication(second->application.id, kCommittee1).error().code,
            "no_quorum");
  ASSERT_TRUE(sharing_->Vote(second->application.id, "reject", "期間が長すぎる", kCommittee2).ok());
  auto rejected = sharing_->DecideApplication(second->application.id, kCommittee1);
  ASSERT_TRUE(rejected.ok());
  EXPECT_EQ(rejected->application.state, "rejected");
  EXPECT_FALSE(rejected->grant.has_value());
  EXPECT_EQ(sharing_->ListGrants(kSteward)->size(), 1u);
  // Audited: decisions and the grant.
  const auto events = audit_.events();
  EXPECT_TRUE(std::any_of(events.begin(), events.end(), [](const AuditEvent& e) {
    return e.action == "grant.create";
  }));
}

// Issue 14: a reject vote names its reason; an application carries an abstract, its principal
// investigator, collaborators and a data-security plan, the three first required to submit.
TEST_P(SharingTest, ARejectNeedsAReasonAndSubmissionNeedsThePlan) {
  const std::string ds = Dataset({NewParticipant()});
  NewApplication a = Application(ds);
  for (auto [field, clear] : std::vector<std::pair<std::string, std::string NewApplication::*>>{
           {"abstract", &NewApplication::abstract_text},
           {"principal_investigator", &NewApplication::principal_investigator},
           {"data_security_plan", &NewApplication::data_security_plan}}) {
    // Empty, or white space only (ASCII and the ideographic space), is missing.
    for (const std::string& value : {std::string(), std::string("\xE3\x80\x80 ")}) {
      NewApplication partial = a;
      partial.*clear = value;
      auto draft = sharing_->CreateApplication(partial, kResearcher);
      ASSERT_TRUE(draft.ok()) << draft.error().message;  // a draft may lack it
      auto refused = sharing_->Submit(draft->application.id, kResearcher);
      ASSERT_FALSE(refused.ok()) << field;
      EXPECT_EQ(refused.error().kind, ErrorKind::kInvalidArgument) << field;
      EXPECT_EQ(refused.error().code, "missing_field") << field;
      EXPECT_EQ(refused.error().field, field);
    }
  }
  NewApplication long_pi = a;
  long_pi.principal_investigator = std::string(201, 'x');
  EXPECT_EQ(sharing_->CreateApplication(long_pi, kResearcher).error().field,
            "principal_investigator");
  NewApplication empty_collaborator = a;
  empty_collaborator.collaborators = {"a", ""};
  EXPECT_EQ(sharing_->CreateApplication(empty_collaborator, kResearcher).error().field,
            "collaborators[1]");

  auto created = sharing_->CreateApplication(a, kResearcher);
  ASSERT_TRUE(created.ok());
  const std::string id = created->application.id;
  ASSERT_TRUE(sharing_->Submit(id, kResearcher).ok());
  auto read = sharing_->GetApplication(id, kCommittee1);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->application.abstract_text, a.abstract_text);
  EXPECT_EQ(read->application.principal_investigator, a.principal_investigator);
  EXPECT_EQ(read->application.collaborators, a.collaborators);
  EXPECT_EQ(read->application.data_security_plan, a.data_security_plan);

  auto no_reason = sharing_->Vote(id, "reject", "", kCommittee1);
  ASSERT_FALSE(no_reason.ok());
  EXPECT_EQ(no_reason.error().code, "missing_field");
  EXPECT_EQ(no_reason.error().field, "reason");
  EXPECT_EQ(sharing_->GetApplication(id, kCommittee1)->history.size(), 2u);  // nothing recorded
  // White space only (ASCII and the ideographic space Japanese input types) is no reason.
  auto blank_reason = sharing_->Vote(id, "reject", " \xE3\x80\x80\t", kCommittee1);
  ASSERT_FALSE(blank_reason.ok());
  EXPECT_EQ(blank_reason.error().field, "reason");
  EXPECT_EQ(sharing_->GetApplication(id, kCommittee1)->history.size(), 2u);
  ASSERT_TRUE(sharing_->Vote(id, "reject", "保管計画が不十分", kCommittee1).ok());
  ASSERT_TRUE(sharing_->Vote(id, "approve", "", kCommittee2).ok());  // approval needs none
}

TEST_P(SharingTest, EmbargoSettingPerProgram) {
  EXPECT_EQ(*sharing_->EmbargoMonths("cancer"), kDefaultEmbargoMonths);
  ASSERT_TRUE(sharing_->SetEmbargoMonths("rare_disease", 12, kSteward).ok());
  EXPECT_EQ(*sharing_->EmbargoMonths("rare_disease"), 12);
  EXPECT_EQ(sharing_->SetEmbargoMonths("rare_disease", 0, kSteward).error().field,
            "embargo_months");
  EXPECT_EQ(sharing_->SetEmbargoMonths("x", 3, kSteward).error().field, "program");
  const std::string p = NewParticipant("rare_disease");
  auto d = sharing_->CreateDataset({"a", "a", "rare_disease", "grp-1", ""}, kSteward);
  ASSERT_TRUE(sharing_->AddFiles(d->id, {{p}, {}, false}, kSteward).ok());
  auto r = sharing_->CreateRelease(d->id, {"2026-11-24", std::nullopt, ""}, kSteward);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->release.embargo_months, 12);
  EXPECT_EQ(r->release.controlled_at, "2027-11-24T00:00:00.000Z");
}

// Datasets and settings commit with their audit records (AuditSink::AppendInTransaction):
// when the record's write fails, neither the change nor the record is stored.
TEST_P(SharingTest, AChangeAndItsAuditRecordCommitTogetherOrNotAtAll) {
  audit::testing::FailAfterWriteSink sink(*store_, clock_);
  Sharing faulty(*store_, clock_, sink, *ledger_);
  EXPECT_EQ(faulty.CreateDataset({"a", "a", "cancer", "grp-1", ""}, kSteward).error().code,
            "audit_injected_failure");
  EXPECT_TRUE(sharing_->ListDatasets()->empty());
  EXPECT_EQ(faulty.SetEmbargoMonths("cancer", 12, kSteward).error().code,
            "audit_injected_failure");
  EXPECT_EQ(*sharing_->EmbargoMonths("cancer"), kDefaultEmbargoMonths);
  EXPECT_EQ(audit::testing::CountRecords(*store_, "dataset.write"), 0);

  sink.fail_after_write = false;
  ASSERT_TRUE(faulty.CreateDataset({"a", "a", "cancer", "grp-1", ""}, kSteward).ok());
  EXPECT_EQ(sharing_->ListDatasets()->size(), 1u);
  EXPECT_EQ(audit::testing::CountRecords(*store_, "dataset.write"), 1);
}

INSTANTIATE_TEST_SUITE_P(Backends, SharingTest, ::testing::ValuesIn(storage::TestBackends()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace zengen::sharing
