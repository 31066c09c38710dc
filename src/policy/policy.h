// The single policy decision point (R1.3 least privilege).
//
// Every route, exporter and job asks Decide before touching data; nothing else grants access.
// Deny by default: an action missing from the rule table is denied. The rules cover roles,
// public actions, organisation scope and live consent (a fully withdrawn participant's genome
// data is served to nobody), and for shared data (action "data.access") the release tier,
// research-group membership, the grant (datasets, data types, period, revocation) and whether
// the participant's live consent covers the grant's purpose. Callers gather those facts (the
// sharing module reads them from the store); Decide alone combines them.
#pragma once

#include <chrono>
#include <optional>
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
  // Research groups (研究班) the subject belongs to; filled by callers that decide about shared
  // data (sharing reads them from research_group_members), empty otherwise.
  std::vector<std::string> groups;

  bool HasRole(std::string_view role) const;
};

// The roles of architecture.md §1.
inline constexpr std::string_view kRoles[] = {
    "clinician",         "sequencing_operator", "analyst",         "researcher",
    "committee_member",  "data_steward",        "security_officer",
};

// The organisation of a collection that spans every organisation (a data steward's listing
// of all hospitals). Only data-center-wide roles pass the organisation check with it.
inline constexpr std::string_view kEveryOrganisation = "*";

struct Resource {
  std::string kind;          // e.g. "system", "setting", "participant"
  std::string id;            // empty for collections
  // The owning organisation (a participant's hospital), or for a collection the organisation
  // it is filtered to (kEveryOrganisation: all). For an organisation-scoped action an empty
  // organisation is DENIED, never read as "unscoped" (issue 12 finding 1): whoever builds the
  // resource must name its owner.
  std::string organisation;
  std::string holder;        // organisation holding it now (a specimen at a sequencer), if any
  // The participant the resource is about has withdrawn fully (consent state): genome data
  // about them is not served to anyone (R5.1 live consent).
  bool withdrawn = false;
  // Shared data (sharing module; action "data.access" on kind "data_file" with an id — other
  // kinds are route-level checks decided on role alone): the dataset and release the file is
  // served through, the
  // release's tier now ("group_restricted" | "controlled" | "public_aggregates"; "" = not
  // released), the research group that produced it, the file's data type ("cram" | "vcf" |
  // "fastq") and whether the participant's live consent covers the purpose asked about (the
  // grant's purpose, or the producing group's health research for group-restricted access).
  std::string dataset;
  std::string release;
  std::string tier;
  std::string group;
  std::string data_type;
  bool consent_covers_purpose = false;
};

// An access grant made by the review committee's approval (sharing module).
struct Grant {
  std::string id;
  std::string holder;                   // the user it was granted to
  std::vector<std::string> datasets;    // dataset ids
  std::vector<std::string> data_types;  // "cram" | "vcf" | "fastq"
  std::string purpose;                  // DUO primary code of the purpose, e.g. "HMB"
  std::chrono::system_clock::time_point starts_at;
  std::chrono::system_clock::time_point expires_at;  // exclusive: expired from this instant on
  bool revoked = false;
};

struct Context {
  std::string remote_address;
  std::string purpose;  // DUO-coded purpose of use, when data access is asked for
  // Shared data: the grant the caller holds for the resource's dataset, if any, and the time
  // of the decision (grant period).
  std::optional<Grant> grant;
  std::chrono::system_clock::time_point now{};
};

enum class Effect { kAllow, kDeny };

struct Decision {
  Effect effect = Effect::kDeny;
  std::string reason;                    // why, for the audit record
  std::vector<std::string> obligations;  // e.g. "audit_bytes" (later issues)
  // Set when the denial is about the caller's own credential, not the resource, so the caller
  // may be told: "mfa_required" (no second factor yet), "scope_exceeded" (the token's actions).
  // Empty otherwise: the refusal then names nothing (the reason stays in the audit record).
  std::string code;
  bool allowed() const { return effect == Effect::kAllow; }
};

// Decides whether subject may perform action on resource in context. Pure: the same inputs
// always give the same decision; it never throws.
Decision Decide(const Subject& subject, std::string_view action, const Resource& resource,
                const Context& context);

// Every action the rule table knows, for the table-driven tests and documentation.
std::vector<std::string> KnownActions();

// A rule of the table as data, for tests generated from it (the route matrix) and
// documentation. Unknown actions give nullopt.
struct RuleView {
  bool is_public = false;
  bool any_authenticated = false;
  bool before_mfa = false;
  bool own_organisation = false;
  bool live_consent = false;
  std::vector<std::string> roles;
  std::vector<std::string> tier_roles;
};
std::optional<RuleView> DescribeRule(std::string_view action);

// Whether the subject's roles reach across organisations (data steward, security officer).
bool DataCenterWide(const Subject& subject);

// The organisation a subject's collection requests are decided for and filtered to:
// kEveryOrganisation for data-center-wide roles, otherwise the subject's own organisation
// ("" when it has none, which the organisation check denies).
std::string ScopeOf(const Subject& subject);

}  // namespace zengen::policy
