// Separation of duties as data (issue 12 finding 4; R1.3 least privilege): who may give which
// role to whom, in which organisations, which roles one person may never hold together, and
// which grants need a second person.
//
// Three kinds of grantor exist:
//   - the host console (`zengen user add`, demo seeding): it runs with the data directory's own
//     file permissions and could write the database directly, so it may grant every role; it
//     is how the first security officer of an installation is made;
//   - the operator: the bearer token made by `zengen init`, used over HTTPS as audited
//     break-glass (every request it makes is an audit record marked break_glass). It onboards
//     the people of every organisation, hospitals included; it is the administrator of hospital
//     roles because no standing person of the data center (a data steward) may become a
//     clinician of a hospital;
//   - a person or machine token, with the roles it holds: a data steward may add data stewards
//     of its own organisation, and may propose (never grant) a security officer.
// A security officer is made only with two distinct people, one of them the operator: the
// operator proposes and a security officer approves, or a data steward proposes and the
// operator approves. The grantee never approves their own grant.
//
// The tables are data: GrantRules() and ForbiddenRoleCombinations() are read by DecideGrant and
// printed in docs/security.md; identity_test.cc checks them row by row.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "policy/policy.h"

namespace zengen::identity {

// Who grants.
struct Grantor {
  std::string id;            // user or token id, "operator", or the console's name
  std::string organisation;  // the grantor's organisation ("" for the operator and console)
  std::vector<std::string> roles;
  bool is_operator = false;
  bool is_console = false;

  // The host console (CLI and demo seeding); `id` names it in the audit log.
  static Grantor Console(std::string id = "cli");
};

// The subject of a request as a grantor. The operator is the subject the operator token
// authenticates to: id "operator", not scoped (identity refuses "operator" as a user id).
Grantor GrantorOf(const policy::Subject& subject);

// "operator" and "console" stand for those grantors; other values are role names.
inline constexpr std::string_view kOperatorGrantor = "operator";
inline constexpr std::string_view kConsoleGrantor = "console";

enum class OrgScope {
  kAny,  // in any organisation (whose kind allows the role: RoleAllowedForKind)
  kOwn,  // only in the grantor's own organisation
};

enum class GrantMode {
  kDirect,        // the role is held at once
  kSecondPerson,  // a pending grant until a second person approves (DecideApproval)
};

struct GrantRule {
  std::string_view grantor;  // kOperatorGrantor, kConsoleGrantor or a role of policy::kRoles
  std::string_view role;     // the role given
  OrgScope scope;
  GrantMode mode;
};

// Every (grantor, role) pair that may be granted; anything not listed is refused.
std::span<const GrantRule> GrantRules();

// Pairs of roles one person may never hold together, whoever grants them.
std::span<const std::pair<std::string_view, std::string_view>> ForbiddenRoleCombinations();

struct GrantVerdict {
  enum class Kind { kAllow, kNeedsApproval, kDeny };
  Kind kind = Kind::kDeny;
  std::string code;    // for kDeny: "grant_not_allowed" or "forbidden_role_combination"
  std::string reason;  // in words, for the error message and the audit record

  bool denied() const { return kind == Kind::kDeny; }
};

// May `grantor` give `role` to a holder in `organisation` who would then hold `roles_after`
// (their current and pending roles plus `role`)? Pure. The first matching rule decides; the
// forbidden combinations are checked first and bind every grantor, the console included.
// Whether the organisation's kind admits the role is checked separately (RoleAllowedForKind).
GrantVerdict DecideGrant(const Grantor& grantor, std::string_view role,
                         std::string_view organisation,
                         const std::vector<std::string>& roles_after);

// May `approver` approve a pending grant that `requester` (a grantor id) asked for `grantee`
// (a user id)? Allowed when the approver is the operator or a security officer, is neither the
// requester nor the grantee, and the operator is one of the two. Pure. Denial codes:
// "approval_needs_second_person" (same principal, or the grantee), "approver_not_allowed".
GrantVerdict DecideApproval(const Grantor& approver, std::string_view requester,
                            std::string_view grantee);

// May `grantor` administer an account holding `roles` in `organisation` (issue its MFA
// enrolment code, reset its second factor)? The operator and the console may administer every
// account; anyone else only an account all of whose roles they could grant directly.
GrantVerdict DecideAdminister(const Grantor& grantor, std::string_view organisation,
                              const std::vector<std::string>& roles);

}  // namespace zengen::identity
