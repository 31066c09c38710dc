#include "policy/policy.h"
#include "policy/reasons.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <set>

namespace zengen::policy {
namespace {

// One row per (subject kind, action): the whole table of who may do what.
struct Cell {
  std::string subject;  // "anonymous" or a role name
  std::string action;
  bool allowed;
};

Subject MakeSubject(const std::string& who) {
  if (who == "anonymous") return {};
  return {.authenticated = true, .id = "u1", .organisation = "o1", .roles = {who}, .mfa = true};
}

TEST(PolicyTest, GenomeDataOfAWithdrawnParticipantIsServedToNobody) {
  const Subject analyst{.authenticated = true, .id = "a", .organisation = "ac-1",
                        .roles = {"analyst"}, .mfa = true};
  const Subject steward{.authenticated = true, .id = "s", .organisation = "dc",
                        .roles = {"data_steward"}, .mfa = true};
  Resource file{"file", "FL-1", "hosp-a", "ac-1"};
  EXPECT_TRUE(Decide(analyst, "file.download", file, {}).allowed());
  EXPECT_TRUE(Decide(analyst, "file.decrypt", file, {}).allowed());
  file.withdrawn = true;
  for (const auto* action : {"file.download", "file.decrypt"}) {
    const Decision d = Decide(analyst, action, file, {});
    EXPECT_FALSE(d.allowed()) << action;
    EXPECT_NE(d.reason.find("withdrawn"), std::string::npos) << d.reason;
    EXPECT_FALSE(Decide(steward, action, file, {}).allowed()) << action;
  }
  // Metadata stays readable (the file exists; its bytes are what withdrawal stops).
  EXPECT_TRUE(Decide(analyst, "file.read", file, {}).allowed());
  // Another analysis centre never gets the bytes.
  file.withdrawn = false;
  const Subject other{.authenticated = true, .id = "b", .organisation = "ac-2",
                      .roles = {"analyst"}, .mfa = true};
  EXPECT_FALSE(Decide(other, "file.download", file, {}).allowed());
}

TEST(PolicyTest, EveryRoleAndActionCell) {
  std::vector<std::string> subjects = {"anonymous"};
  for (auto r : kRoles) subjects.emplace_back(r);
  std::vector<std::string> people(subjects.begin() + 1, subjects.end());
  const std::map<std::string, std::vector<std::string>> allowed_for = {
      {"system.health", subjects},
      {"system.version", subjects},
      {"system.web", subjects},
      {"portal.read", subjects},
      {"setting.read", subjects},
      {"setting.write", {"data_steward"}},
      {"storage.read", {"data_steward"}},
      {"storage.migrate", {"data_steward"}},
      {"auth.login", subjects},
      {"auth.logout", people},
      {"auth.session", people},
      {"mfa.enrol", people},
      {"mfa.verify", people},
      {"org.read", {"data_steward", "security_officer"}},
      {"org.write", {"data_steward"}},
      {"user.read", {"data_steward", "security_officer"}},
      {"user.write", {"data_steward"}},
      {"role.approve", {"data_steward", "security_officer"}},
      {"group.read", {"data_steward", "security_officer"}},
      {"group.write", {"data_steward"}},
      {"token.read", {"data_steward", "security_officer"}},
      {"token.write", {"data_steward"}},
      {"token.personal", people},
      {"audit.head", subjects},
      {"audit.read", {"security_officer"}},
      {"participant.read", {"clinician", "data_steward"}},
      {"participant.write", {"clinician"}},
      {"icf.read", subjects},
      {"icf.write", {"data_steward"}},
      {"consent.read", {"clinician", "data_steward"}},
      {"consent.write", {"clinician"}},
      {"dictionary.read", subjects},
      {"codelist.write", {"data_steward"}},
      {"codelist.read", {"clinician", "data_steward"}},
      {"clinical.read", {"clinician", "data_steward"}},
      {"clinical.write", {"clinician"}},
      {"clinical.export", {"clinician", "data_steward"}},
      {"specimen.read", {"clinician", "sequencing_operator", "analyst", "data_steward"}},
      {"specimen.write", {"clinician"}},
      {"specimen.custody", {"clinician", "sequencing_operator", "analyst"}},
      {"analysis_order.read", {"sequencing_operator", "analyst", "data_steward"}},
      {"analysis_order.write", {"data_steward"}},
      {"analysis_run.read", {"analyst", "data_steward"}},
      {"analysis_run.write", {"analyst", "data_steward"}},
      {"analysis_run.log", {"analyst"}},
      {"analysis_reference.read", {"analyst", "data_steward"}},
      {"org.directory", {"clinician", "sequencing_operator", "analyst", "data_steward",
                         "security_officer", "committee_member"}},
      {"run.read", {"sequencing_operator", "data_steward"}},
      {"run.write", {"sequencing_operator"}},
      {"upload.write", {"sequencing_operator", "analyst"}},
      {"file.read", {"sequencing_operator", "analyst", "data_steward"}},
      {"file.download", {"sequencing_operator", "analyst", "data_steward"}},
      {"file.decrypt", {"analyst"}},
      {"ga4gh.info", subjects},
      {"htsget.read", {"sequencing_operator", "analyst", "data_steward", "researcher"}},
      {"drs.read", {"sequencing_operator", "analyst", "data_steward", "researcher"}},
      {"finding.read", {"analyst", "clinician", "data_steward"}},
      {"finding.write", {"analyst"}},
      {"finding.transition", {"analyst", "clinician", "data_steward"}},
      {"finding.message", {"analyst", "clinician", "data_steward"}},
      {"finding.report", {"clinician"}},
      {"finding.configure", {"data_steward"}},
      {"finding.escalate", {"data_steward"}},
      {"dataset.read", {"researcher", "committee_member", "data_steward"}},
      {"dataset.write", {"data_steward"}},
      {"data.access", {"researcher", "data_steward"}},
      {"application.read", {"researcher", "committee_member", "data_steward"}},
      {"application.write", {"researcher"}},
      {"application.review", {"committee_member"}},
      {"application.document.read", {"researcher", "committee_member", "data_steward"}},
      {"application.document.write", {"researcher"}},
      {"grant.read", {"researcher", "committee_member", "data_steward"}},
      {"grant.revoke", {"data_steward"}},
      {"variants.read", {"analyst", "data_steward", "researcher"}},
      {"variants.ingest", {"data_steward"}},
      {"beacon.read", subjects},
  };
  ASSERT_EQ(KnownActions().size(), allowed_for.size()) << "a rule was added without a test row";
  for (const auto& action : KnownActions()) {
    const auto& ok = allowed_for.at(action);
    for (const auto& who : subjects) {
      const bool expect = std::find(ok.begin(), ok.end(), who) != ok.end();
      const Decision d = Decide(MakeSubject(who), action, {"system", "", "o1"}, {});
      EXPECT_EQ(d.allowed(), expect) << who << " / " << action << ": " << d.reason;
      EXPECT_FALSE(d.reason.empty());
    }
  }
}

// Issue 12 finding 1: an organisation-scoped resource that arrives without an organisation is
// denied to everyone (it once exported every hospital's records as "unscoped"); a collection
// over every organisation says so ("*") and passes only for data-center-wide roles.
TEST(PolicyTest, OrganisationScopedResourceWithoutOrganisationIsDenied) {
  for (const auto& action : KnownActions()) {
    const auto rule = DescribeRule(action);
    ASSERT_TRUE(rule.has_value());
    if (!rule->own_organisation) continue;
    for (auto role : kRoles) {
      const Decision d = Decide(MakeSubject(std::string(role)), action, {"participant", ""}, {});
      EXPECT_FALSE(d.allowed()) << role << " / " << action;
      Subject no_org = MakeSubject(std::string(role));
      no_org.organisation.clear();
      EXPECT_FALSE(Decide(no_org, action, {"participant", "p1", ""}, {}).allowed())
          << role << " / " << action;
    }
  }
  const Subject clinician = MakeSubject("clinician");
  const Subject steward = MakeSubject("data_steward");
  const Resource every{"participant", "", std::string(kEveryOrganisation)};
  EXPECT_FALSE(Decide(clinician, "clinical.export", every, {}).allowed());
  EXPECT_TRUE(Decide(steward, "clinical.export", every, {}).allowed());
  EXPECT_TRUE(Decide(clinician, "clinical.export", {"participant", "", "o1"}, {}).allowed());
  EXPECT_EQ(ScopeOf(clinician), "o1");
  EXPECT_EQ(ScopeOf(steward), kEveryOrganisation);
}

TEST(PolicyTest, UnknownActionIsDeniedEvenToEveryRole) {
  Subject all{.authenticated = true, .id = "u", .organisation = "o", .roles = {}};
  for (auto r : kRoles) all.roles.emplace_back(r);
  const Decision d = Decide(all, "participant.delete_everything", {"participant", "p1"}, {});
  EXPECT_FALSE(d.allowed());
  EXPECT_NE(d.reason.find("no rule"), std::string::npos);
}

TEST(PolicyTest, RoleWithoutAuthenticationIsNotEnough) {
  Subject s{.authenticated = false, .id = "", .organisation = "", .roles = {"data_steward"},
            .mfa = true};
  EXPECT_FALSE(Decide(s, "setting.write", {"setting", "x"}, {}).allowed());
}

TEST(PolicyTest, WithoutSecondFactorOnlyEnrolmentIsAllowed) {
  Subject s = MakeSubject("data_steward");
  s.mfa = false;
  for (const auto& action : KnownActions()) {
    const bool expect = action == "mfa.enrol" || action == "mfa.verify" || action == "auth.logout" ||
                        action == "auth.session" || action == "system.health" ||
                        action == "system.version" || action == "setting.read" ||
                        action == "auth.login" || action == "audit.head" ||
                        action == "icf.read" || action == "dictionary.read" ||
                        action == "system.web" || action == "portal.read" ||
                        action == "ga4gh.info" || action == "beacon.read";
    EXPECT_EQ(Decide(s, action, {"x", ""}, {}).allowed(), expect) << action;
  }
}

TEST(PolicyTest, HospitalStaffActOnlyOnTheirOwnHospitalsParticipants) {
  const Subject clinician = MakeSubject("clinician");  // organisation o1
  EXPECT_TRUE(Decide(clinician, "clinical.write", {"participant", "p1", "o1"}, {}).allowed());
  const Decision other = Decide(clinician, "clinical.write", {"participant", "p2", "o2"}, {});
  EXPECT_FALSE(other.allowed());
  EXPECT_NE(other.reason.find("another organisation"), std::string::npos);
  // A sequencing facility sees the specimens it holds, not the hospital's others.
  Subject sequencer = MakeSubject("sequencing_operator");
  sequencer.organisation = "seq1";
  EXPECT_TRUE(Decide(sequencer, "specimen.read", {"specimen", "s1", "o1", "seq1"}, {}).allowed());
  EXPECT_FALSE(Decide(sequencer, "specimen.read", {"specimen", "s2", "o1", "seq2"}, {}).allowed());
  // The data steward works across organisations.
  EXPECT_TRUE(Decide(MakeSubject("data_steward"), "clinical.read", {"participant", "p2", "o2"}, {})
                  .allowed());
}

TEST(PolicyTest, AFindingIsTheHospitalsAndTheFilingAnalysisCentresOnly) {
  const Resource finding{"finding", "FD-1", "hosp1", "ac1"};
  Subject analyst = MakeSubject("analyst");
  analyst.organisation = "ac1";
  Subject clinician = MakeSubject("clinician");
  clinician.organisation = "hosp1";
  EXPECT_TRUE(Decide(analyst, "finding.transition", finding, {}).allowed());
  EXPECT_TRUE(Decide(clinician, "finding.transition", finding, {}).allowed());
  EXPECT_TRUE(Decide(clinician, "finding.report", finding, {}).allowed());
  EXPECT_FALSE(Decide(analyst, "finding.report", finding, {}).allowed());
  analyst.organisation = "ac2";
  clinician.organisation = "hosp2";
  EXPECT_FALSE(Decide(analyst, "finding.read", finding, {}).allowed());
  EXPECT_FALSE(Decide(clinician, "finding.read", finding, {}).allowed());
  EXPECT_TRUE(Decide(MakeSubject("data_steward"), "finding.message", finding, {}).allowed());
  EXPECT_FALSE(Decide(MakeSubject("data_steward"), "finding.report", finding, {}).allowed());
}

TEST(PolicyTest, TokenScopeLimitsActionsEvenWithTheRole) {
  Subject token = MakeSubject("data_steward");
  token.scoped = true;
  token.scope = {"setting.write"};
  EXPECT_TRUE(Decide(token, "setting.write", {"setting", "a"}, {}).allowed());
  const Decision d = Decide(token, "user.write", {"user", "u"}, {});
  EXPECT_FALSE(d.allowed());
  EXPECT_NE(d.reason.find("scope"), std::string::npos);
}

// Decisions about shared data (one file of a dataset) across tier, group, grant and consent.
struct SharedRow {
  std::string name;
  Subject subject;
  Resource resource;
  std::optional<Grant> grant;
  std::chrono::system_clock::time_point now;
  bool allowed;
  std::string reason_has;
};

std::vector<SharedRow> SharedDataRows() {
  using std::chrono::hours;
  const auto t0 = std::chrono::sys_days{std::chrono::year{2027} / 1 / 1};
  Subject researcher = MakeSubject("researcher");
  researcher.id = "r1";
  Subject member = researcher;
  member.groups = {"grp-1"};
  const Subject steward = MakeSubject("data_steward");
  const Grant grant{.id = "GR-1", .holder = "r1", .datasets = {"DS-1"},
                    .data_types = {"cram", "vcf"}, .purpose = "HMB",
                    .starts_at = t0 - hours(24), .expires_at = t0 + hours(24)};
  auto file = [](std::string tier) {
    Resource r{"data_file", "FL-1", "hosp", ""};
    r.dataset = "DS-1";
    r.release = "RL-1";
    r.tier = std::move(tier);
    r.group = "grp-1";
    r.data_type = "cram";
    r.consent_covers_purpose = true;
    return r;
  };
  Grant revoked = grant;
  revoked.revoked = true;
  Grant other_holder = grant;
  other_holder.holder = "r2";
  Resource fastq = file("controlled");
  fastq.data_type = "fastq";
  Resource other_ds = file("controlled");
  other_ds.dataset = "DS-2";
  Resource not_covered = file("controlled");
  not_covered.consent_covers_purpose = false;
  Resource withdrawn = file("controlled");
  withdrawn.withdrawn = true;
  Resource member_not_covered = file("group_restricted");
  member_not_covered.consent_covers_purpose = false;
  Resource unknown_tier = file("secret");
  return {
      {"group member in embargo", member, file("group_restricted"), {}, t0, true, "member"},
      {"group member after embargo", member, file("controlled"), {}, t0, true, "member"},
      {"group member, consent does not cover", member, member_not_covered, {}, t0, false,
       "consent"},
      {"grant holder during embargo", researcher, file("group_restricted"), grant, t0, false,
       "group-restricted"},
      {"controlled with grant", researcher, file("controlled"), grant, t0, true, "GR-1"},
      {"public aggregates keep controlled access", researcher, file("public_aggregates"), grant,
       t0, true, "GR-1"},
      {"controlled without grant", researcher, file("controlled"), {}, t0, false, "no grant"},
      {"revoked grant", researcher, file("controlled"), revoked, t0, false, "revoked"},
      {"expired grant at its end", researcher, file("controlled"), grant, t0 + hours(24), false,
       "expired"},
      {"one millisecond before the end", researcher, file("controlled"), grant,
       t0 + hours(24) - std::chrono::milliseconds(1), true, "GR-1"},
      {"before the start", researcher, file("controlled"), grant, t0 - hours(25), false,
       "not started"},
      {"someone else's grant", researcher, file("controlled"), other_holder, t0, false,
       "someone else"},
      {"data type not granted", researcher, fastq, grant, t0, false, "data type"},
      {"dataset not granted", researcher, other_ds, grant, t0, false, "does not cover dataset"},
      {"consent does not cover the purpose", researcher, not_covered, grant, t0, false,
       "consent"},
      {"withdrawn participant", researcher, withdrawn, grant, t0, false, "withdrawn"},
      {"not released", researcher, file(""), grant, t0, false, "no release"},
      {"steward curates any tier", steward, file("group_restricted"), {}, t0, true, "role"},
      {"steward never sees the withdrawn", steward, withdrawn, {}, t0, false, "withdrawn"},
      {"unknown tier", researcher, unknown_tier, grant, t0, false, "unknown release tier"},
  };
}


// data.access about one file: tier × group membership × grant × consent, one row per case.
TEST(PolicyTest, SharedDataCombinesTierGroupGrantAndLiveConsent) {
  const std::vector<SharedRow> rows = SharedDataRows();
  for (const auto& row : rows) {
    Context c;
    c.grant = row.grant;
    c.now = row.now;
    const Decision d = Decide(row.subject, "data.access", row.resource, c);
    EXPECT_EQ(d.allowed(), row.allowed) << row.name << ": " << d.reason;
    EXPECT_NE(d.reason.find(row.reason_has), std::string::npos) << row.name << ": " << d.reason;
  }
}

// Every reason Decide gives carries a stable code from ReasonCodes() and its arguments, and
// its English text is the code's template filled in (the audit view says it in Japanese from
// the code); every code of the table is reachable.
TEST(PolicyTest, EveryReasonHasAStableCodeAndItsText) {
  std::vector<Decision> decisions;
  std::vector<std::string> subjects = {"anonymous"};
  for (auto role : kRoles) subjects.emplace_back(role);
  for (const auto& who : subjects) {
    for (const auto& action : KnownActions()) {
      decisions.push_back(Decide(MakeSubject(who), action, {"participant", "P1", "o1", ""}, {}));
      decisions.push_back(Decide(MakeSubject(who), action, {"participant", "P1", "o2", ""}, {}));
      decisions.push_back(Decide(MakeSubject(who), action, {"participant", "P1", "", ""}, {}));
      Resource withdrawn{"participant", "P1", "o1", ""};
      withdrawn.withdrawn = true;
      decisions.push_back(Decide(MakeSubject(who), action, withdrawn, {}));
      Subject before_mfa = MakeSubject(who);
      before_mfa.mfa = false;
      decisions.push_back(Decide(before_mfa, action, {"participant", "P1", "o1", ""}, {}));
      Subject token = MakeSubject(who);
      token.scoped = true;
      decisions.push_back(Decide(token, action, {"participant", "P1", "o1", ""}, {}));
    }
    decisions.push_back(Decide(MakeSubject(who), "no.such.action", {"x", "1", "o1", ""}, {}));
  }
  for (const auto& row : SharedDataRows()) {
    Context c;
    c.grant = row.grant;
    c.now = row.now;
    decisions.push_back(Decide(row.subject, "data.access", row.resource, c));
  }
  std::set<std::string> seen;
  std::set<std::string> known;
  for (const auto& t : ReasonCodes()) {
    EXPECT_TRUE(known.insert(std::string(t.code)).second) << "duplicate code " << t.code;
  }
  for (const Decision& d : decisions) {
    const std::optional<Reason> r = ParseReason(d.reason);
    ASSERT_TRUE(r.has_value()) << "no code for: " << d.reason;
    EXPECT_TRUE(known.contains(r->code)) << r->code;
    EXPECT_EQ(d.reason, ReasonText(r->code, r->args));
    EXPECT_EQ(d.reason.find('{'), std::string::npos) << d.reason;
    seen.insert(r->code);
  }
  for (const auto& code : known) EXPECT_TRUE(seen.contains(code)) << "never given: " << code;
  // Each template parses back to its own code and arguments, even ones holding pattern
  // characters (arguments are identifiers, without spaces).
  for (const auto& t : ReasonCodes()) {
    ReasonArgs args;
    for (const char* name : {"action", "kind", "id", "role", "group", "dataset", "release",
                             "tier", "grant", "data_type", "purpose"}) {
      args[name] = std::string(name) + "(x.*)[{y}]";  // identifiers: no spaces
    }
    const std::string text = ReasonText(t.code, args);
    const std::optional<Reason> r = ParseReason(text);
    ASSERT_TRUE(r.has_value()) << text;
    EXPECT_EQ(r->code, t.code) << text;
    for (const auto& [name, value] : r->args) EXPECT_EQ(value, args[name]) << t.code;
  }
  EXPECT_FALSE(ParseReason("the server was busy").has_value());
  const std::optional<Reason> role = ParseReason("role clinician may participant.read");
  ASSERT_TRUE(role.has_value());
  EXPECT_EQ(role->code, "role_allows");
  EXPECT_EQ(role->args, (ReasonArgs{{"role", "clinician"}, {"action", "participant.read"}}));
  // The recorded English text is unchanged.
  EXPECT_EQ(ReasonText("role_allows", {{"role", "clinician"}, {"action", "participant.read"}}),
            "role clinician may participant.read");
  EXPECT_EQ(ReasonText("grant_allows", {{"grant", "GR-1"}, {"dataset", "DS-1"},
                                        {"data_type", "cram"}}),
            "grant GR-1 covers dataset DS-1 (cram)");
}

// The console says every reason code in Japanese and English: web/src/codes.ts has a
// policyReasons entry for each (the audit view's table).
TEST(PolicyTest, TheConsoleHasJapaneseAndEnglishTextForEveryReasonCode) {
  std::ifstream in(std::string(ZENGEN_SOURCE_DIR) + "/web/src/codes.ts");
  ASSERT_TRUE(in) << "web/src/codes.ts";
  const std::string codes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t table = codes.find("export const policyReasons");
  ASSERT_NE(table, std::string::npos);
  const size_t end = codes.find("\n};", table);
  ASSERT_NE(end, std::string::npos);
  const std::string block = codes.substr(table, end - table);
  for (const auto& t : ReasonCodes()) {
    const size_t at = block.find("\n  " + std::string(t.code) + ": { ja: ");
    EXPECT_NE(at, std::string::npos) << t.code;
    if (at == std::string::npos) continue;
    const size_t line_end = block.find('\n', at + 1);
    EXPECT_NE(block.substr(at, line_end - at).find(" en: "), std::string::npos) << t.code;
  }
}

}  // namespace
}  // namespace zengen::policy
