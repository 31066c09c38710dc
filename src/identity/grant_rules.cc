#include "identity/grant_rules.h"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace zengen::identity {
namespace {

using enum OrgScope;
using enum GrantMode;

constexpr std::string_view kSteward = "data_steward";
constexpr std::string_view kSecurity = "security_officer";
constexpr std::string_view kCommittee = "committee_member";

// Reading this table answers "who may make whom". Roles of a hospital (clinician, researcher
// there) come only from the operator: a data steward who could make a clinician could read
// local patient ids and write consents (finding 4).
constexpr GrantRule kRules[] = {
    {kConsoleGrantor, "clinician", kAny, kDirect},
    {kConsoleGrantor, "researcher", kAny, kDirect},
    {kConsoleGrantor, "sequencing_operator", kAny, kDirect},
    {kConsoleGrantor, "analyst", kAny, kDirect},
    {kConsoleGrantor, kCommittee, kAny, kDirect},
    {kConsoleGrantor, kSteward, kAny, kDirect},
    {kConsoleGrantor, kSecurity, kAny, kDirect},
    {kOperatorGrantor, "clinician", kAny, kDirect},
    {kOperatorGrantor, "researcher", kAny, kDirect},
    {kOperatorGrantor, "sequencing_operator", kAny, kDirect},
    {kOperatorGrantor, "analyst", kAny, kDirect},
    {kOperatorGrantor, kCommittee, kAny, kDirect},
    {kOperatorGrantor, kSteward, kAny, kDirect},
    {kOperatorGrantor, kSecurity, kAny, kSecondPerson},
    {kSteward, kSteward, kOwn, kDirect},
    {kSteward, kSecurity, kOwn, kSecondPerson},
};

// The security officer reads everyone's audit trail, the committee decides who gets data and
// the steward curates and releases it: no two of these in one person.
constexpr std::pair<std::string_view, std::string_view> kForbidden[] = {
    {kSteward, kSecurity},
    {kCommittee, kSecurity},
    {kSteward, kCommittee},
};

bool Has(const std::vector<std::string>& roles, std::string_view role) {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

GrantVerdict Deny(std::string code, std::string reason) {
  return {GrantVerdict::Kind::kDeny, std::move(code), std::move(reason)};
}

}  // namespace

Grantor Grantor::Console(std::string id) {
  return Grantor{.id = std::move(id), .is_console = true};
}

Grantor GrantorOf(const policy::Subject& subject) {
  Grantor g{.id = subject.id, .organisation = subject.organisation, .roles = subject.roles};
  g.is_operator = subject.authenticated && !subject.scoped && subject.id == "operator";
  if (g.is_operator) {
    g.organisation.clear();
    g.roles.clear();
  }
  return g;
}

std::span<const GrantRule> GrantRules() { return kRules; }

std::span<const std::pair<std::string_view, std::string_view>> ForbiddenRoleCombinations() {
  return kForbidden;
}

GrantVerdict DecideGrant(const Grantor& grantor, std::string_view role,
                         std::string_view organisation,
                         const std::vector<std::string>& roles_after) {
  for (const auto& [a, b] : kForbidden) {
    if ((role == a || role == b) && Has(roles_after, a) && Has(roles_after, b)) {
      return Deny("forbidden_role_combination",
                  fmt::format("one person may not hold both {} and {}", a, b));
    }
  }
  std::vector<std::string_view> as;
  if (grantor.is_console) {
    as.push_back(kConsoleGrantor);
  } else if (grantor.is_operator) {
    as.push_back(kOperatorGrantor);
  } else {
    as.assign(grantor.roles.begin(), grantor.roles.end());
  }
  // The most permissive matching rule of the grantor's roles decides.
  bool needs_approval = false;
  for (const auto& rule : kRules) {
    if (rule.role != role || std::find(as.begin(), as.end(), rule.grantor) == as.end()) continue;
    if (rule.scope == kOwn &&
        (grantor.organisation.empty() || organisation != grantor.organisation)) {
      continue;
    }
    if (rule.mode == kDirect) return {GrantVerdict::Kind::kAllow, "", "granted"};
    needs_approval = true;
  }
  if (needs_approval) {
    return {GrantVerdict::Kind::kNeedsApproval, "",
            fmt::format("{} needs a second person's approval", role)};
  }
  const std::string who = grantor.is_operator  ? "the operator"
                          : grantor.is_console ? "the console"
                          : grantor.roles.empty()
                              ? grantor.id
                              : fmt::format("{}", fmt::join(grantor.roles, "+"));
  return Deny("grant_not_allowed", fmt::format("{} may not grant the role {} in organisation {}",
                                               who, role, organisation));
}

GrantVerdict DecideApproval(const Grantor& approver, std::string_view requester,
                            std::string_view grantee) {
  if (approver.id == requester || approver.id == grantee) {
    return Deny("approval_needs_second_person",
                "a grant is approved by a second person: neither its requester nor its grantee");
  }
  if (!approver.is_operator && !Has(approver.roles, kSecurity)) {
    return Deny("approver_not_allowed",
                "only the operator or a security officer approves this grant");
  }
  if (!approver.is_operator && requester != kOperatorGrantor) {
    return Deny("approver_not_allowed",
                "the operator must request or approve a security officer's grant");
  }
  return {GrantVerdict::Kind::kAllow, "", "approved"};
}

GrantVerdict DecideAdminister(const Grantor& grantor, std::string_view organisation,
                              const std::vector<std::string>& roles) {
  if (grantor.is_operator || grantor.is_console) return {GrantVerdict::Kind::kAllow, "", "ok"};
  for (const auto& role : roles) {
    // The account's own roles are already held together; only the grantor's rights matter.
    const GrantVerdict v = DecideGrant(grantor, role, organisation, {role});
    if (v.kind != GrantVerdict::Kind::kAllow) {
      return Deny("grant_not_allowed",
                  fmt::format("administering an account holding {} in {} is for those who may "
                              "grant that role directly",
                              role, organisation));
    }
  }
  if (roles.empty()) {
    return Deny("grant_not_allowed", "an account without roles is administered by the operator");
  }
  return {GrantVerdict::Kind::kAllow, "", "ok"};
}

}  // namespace zengen::identity
