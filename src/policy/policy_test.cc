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
  return {.authenticated = true, .id = "u1", .organisation = "o1", .roles = {who}};
}

TEST(PolicyTest, EveryRoleAndActionCell) {
  std::vector<std::string> subjects = {"anonymous"};
  for (auto r : kRoles) subjects.emplace_back(r);
  const std::map<std::string, std::vector<std::string>> allowed_for = {
      {"system.health", subjects},
      {"system.version", subjects},
      {"setting.read", subjects},
      {"setting.write", {"data_steward"}},
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
  Subject s{.authenticated = false, .id = "", .organisation = "", .roles = {"data_steward"}};
  EXPECT_FALSE(Decide(s, "setting.write", {"setting", "x"}, {}).allowed());
}

}  // namespace
}  // namespace zengen::policy
