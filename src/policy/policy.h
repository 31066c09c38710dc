// The single policy decision point (R1.3 least privilege).
//
// Every route, exporter and job asks Decide before touching data; nothing else grants access.
// Deny by default: an action missing from the rule table is denied. The rules cover roles,
// public actions, organisation scope and live consent (a fully withdrawn participant's genome
// data is served to nobody); grants and release tiers join through this same function.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace zengen::policy {

// Who asks. Anonymous until authentication proves otherwise.
struct Subject {
  bool authenticated = false;
  std::string id;                  // user or token id; empty when anonymous
  std::string organisation;        // organisation id; empty when none
  std::vector<std::string> roles;  // role names, see kRoles
  // The credential passed a second factor (a browser session after TOTP), or is a machine
  // credential that needs none (API token, operator token). Without it a person may only
  // enrol a second factor (R3.5 strong authentication).
  bool mfa = false;
  // Machine tokens are limited to these actions; empty for people (their roles decide).
  bool scoped = false;
  std::vector<std::string> scope;

  bool HasRole(std::string_view role) const;
};

// The roles of architecture.md §1.
inline constexpr std::string_view kRoles[] = {
    "clinician",         "sequencing_operator", "analyst",         "researcher",
    "committee_member",  "data_steward",        "security_officer",
};

struct Resource {
  std::string kind;          // e.g. "system", "setting", "participant"
  std::string id;            // empty for collections
  std::string organisation;  // owning organisation (a participant's hospital), when known
  std::string holder;        // organisation holding it now (a specimen at a sequencer), if any
  // The participant the resource is about has withdrawn fully (consent state): genome data
  // about them is not served to anyone (R5.1 live consent).
  bool withdrawn = false;
};

struct Context {
  std::string remote_address;
  std::string purpose;  // DUO-coded purpose of use, when data access is asked for
};

enum class Effect { kAllow, kDeny };

struct Decision {
  Effect effect = Effect::kDeny;
  std::string reason;                    // why, for the audit record and the error message
  std::vector<std::string> obligations;  // e.g. "audit_bytes" (later issues)
  bool allowed() const { return effect == Effect::kAllow; }
};

// Decides whether subject may perform action on resource in context. Pure: the same inputs
// always give the same decision; it never throws.
Decision Decide(const Subject& subject, std::string_view action, const Resource& resource,
                const Context& context);

// Every action the rule table knows, for the table-driven tests and documentation.
std::vector<std::string> KnownActions();

}  // namespace zengen::policy
