#include "policy/policy.h"

#include <gtest/gtest.h>

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
      {"auth.login", subjects},
      {"auth.logout", people},
      {"auth.session", people},
      {"mfa.enrol", people},
      {"mfa.verify", people},
      {"org.read", {"data_steward", "security_officer"}},
      {"org.write", {"data_steward"}},
      {"user.read", {"data_steward", "security_officer"}},
      {"user.write", {"data_steward"}},
      {"group.read", {"data_steward", "security_officer"}},
      {"group.write", {"data_steward"}},
      {"token.read", {"data_steward", "security_officer"}},
      {"token.write", {"data_steward"}},
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
      {"clinical.read", {"clinician", "data_steward"}},
      {"clinical.write", {"clinician"}},
      {"clinical.export", {"clinician", "data_steward"}},
      {"specimen.read", {"clinician", "sequencing_operator", "analyst", "data_steward"}},
      {"specimen.write", {"clinician"}},
      {"specimen.custody", {"clinician", "sequencing_operator", "analyst"}},
  };
  ASSERT_EQ(KnownActions().size(), allowed_for.size()) << "a rule was added without a test row";
  for (const auto& action : KnownActions()) {
    const auto& ok = allowed_for.at(action);
    for (const auto& who : subjects) {
      const bool expect = std::find(ok.begin(), ok.end(), who) != ok.end();
      const Decision d = Decide(MakeSubject(who), action, {"system", ""}, {});
      EXPECT_EQ(d.allowed(), expect) << who << " / " << action << ": " << d.reason;
      EXPECT_FALSE(d.reason.empty());
    }
  }
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
                        action == "system.web" || action == "portal.read";
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

TEST(PolicyTest, TokenScopeLimitsActionsEvenWithTheRole) {
  Subject token = MakeSubject("data_steward");
  token.scoped = true;
  token.scope = {"setting.write"};
  EXPECT_TRUE(Decide(token, "setting.write", {"setting", "a"}, {}).allowed());
  const Decision d = Decide(token, "user.write", {"user", "u"}, {});
  EXPECT_FALSE(d.allowed());
  EXPECT_NE(d.reason.find("scope"), std::string::npos);
}

}  // namespace
}  // namespace zengen::policy
