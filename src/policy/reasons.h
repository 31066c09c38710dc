// The reasons of policy decisions as stable codes (issue 14): Decide writes every reason from
// one of these templates, so a recorded reason (Decision::reason, the audit record's English
// text) maps back to its code and arguments. The audit record keeps both (access::
// RecordDecision puts them in its details), and the security officer's audit view says the
// reason in Japanese or English from the code (web/src/codes.ts policyReasons, checked by
// policy_test against this table).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace zengen::policy {

// A code and its English text: "{name}" marks the argument `name`
// (e.g. "role_allows": "role {role} may {action}").
struct ReasonTemplate {
  std::string_view code;
  std::string_view text;
};
const std::vector<ReasonTemplate>& ReasonCodes();

using ReasonArgs = std::map<std::string, std::string>;

// The English text of a reason: the code's template with its arguments filled in (an unknown
// code gives the code itself).
std::string ReasonText(std::string_view code, const ReasonArgs& args);

struct Reason {
  std::string code;
  ReasonArgs args;
};
// The code and arguments of a reason Decide wrote; nullopt for any other text.
// ReasonText(r->code, r->args) == reason.
std::optional<Reason> ParseReason(std::string_view reason);

}  // namespace zengen::policy
