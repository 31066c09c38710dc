#include "policy/policy.h"

#include <regex>

#include "policy/reasons.h"

#include <algorithm>
#include <map>


namespace zengen::policy {
namespace {

struct Rule {
  bool is_public = false;               // anyone, even anonymous
  std::vector<std::string_view> roles;  // otherwise: an authenticated subject with one of these
  bool any_authenticated = false;       // any authenticated subject, whatever its roles
  bool before_mfa = false;              // allowed before the second factor (enrolment itself)
  // The resource must belong to the subject's own organisation, unless the subject holds a
  // data-center-wide role (data steward, security officer).
  bool own_organisation = false;
  // Serves genome data about a participant: denied when the participant withdrew fully.
  bool live_consent = false;
  // Shared data about one file (resource kind "data_file" with an id): the release tier, group membership, grant
  // and consent decide for these roles (see SharedDataDecision); other roles of the rule
  // (data stewards curating datasets) pass on role and live consent alone.
  std::vector<std::string_view> tier_roles;
};

constexpr std::string_view kSteward = "data_steward";
constexpr std::string_view kSecurity = "security_officer";
constexpr std::string_view kClinician = "clinician";
constexpr std::string_view kSequencer = "sequencing_operator";
constexpr std::string_view kAnalyst = "analyst";
constexpr std::string_view kResearcher = "researcher";
constexpr std::string_view kCommittee = "committee_member";

// The rule table. Reading it answers "who may do what".
const std::map<std::string, Rule, std::less<>>& Rules() {
  static const auto* rules = new std::map<std::string, Rule, std::less<>>{
      {"system.health", {.is_public = true}},
      {"system.version", {.is_public = true}},
      // The web front-end's static files: the same for everyone, holding no data.
      {"system.web", {.is_public = true}},
      {"setting.read", {.is_public = true}},
      {"setting.write", {.roles = {kSteward}}},
      {"storage.read", {.roles = {kSteward}}},  // storage sites' health, migrations (issue 17)
      {"storage.migrate", {.roles = {kSteward}}},  // starting a migration between sites (17)
      // Authentication: logging in is open to all; what follows needs a session.
      {"auth.login", {.is_public = true}},
      {"auth.logout", {.any_authenticated = true, .before_mfa = true}},
      {"auth.session", {.any_authenticated = true, .before_mfa = true}},
      {"mfa.enrol", {.any_authenticated = true, .before_mfa = true}},
      {"mfa.verify", {.any_authenticated = true, .before_mfa = true}},
      // Administration of people and organisations (R1.3).
      {"org.read", {.roles = {kSteward, kSecurity}}},
      {"org.write", {.roles = {kSteward}}},
      {"user.read", {.roles = {kSteward, kSecurity}}},
      {"user.write", {.roles = {kSteward}}},
      // Approving a pending role grant (identity's grant rules decide who may approve which).
      {"role.approve", {.roles = {kSteward, kSecurity}}},
      {"group.read", {.roles = {kSteward, kSecurity}}},
      {"group.write", {.roles = {kSteward}}},
      {"token.read", {.roles = {kSteward, kSecurity}}},
      {"token.write", {.roles = {kSteward}}},
      // A person's own data-access tokens for command-line clients (after MFA).
      {"token.personal", {.any_authenticated = true}},
      // The audit log (R3.5 access monitoring): its head is published, its records are not.
      {"audit.head", {.is_public = true}},
      {"audit.read", {.roles = {kSecurity}}},
      // The public data portal (R4.9): aggregates with small counts suppressed server-side.
      {"portal.read", {.is_public = true}},
      // Participants, consent, clinical data and specimens (R2.1-R2.6, R3.4, R5.1-R5.4).
      // Hospital staff act only on their own hospital's participants: handlers pass the
      // participant's hospital as the resource's organisation.
      {"participant.read", {.roles = {kClinician, kSteward}, .own_organisation = true}},
      {"participant.write", {.roles = {kClinician}, .own_organisation = true}},
      {"icf.read", {.is_public = true}},
      {"icf.write", {.roles = {kSteward}}},
      {"consent.read", {.roles = {kClinician, kSteward}, .own_organisation = true}},
      {"consent.write", {.roles = {kClinician}, .own_organisation = true}},
      {"dictionary.read", {.is_public = true}},
      {"codelist.write", {.roles = {kSteward}}},
      // The loaded codes, for the console's code picker (codes only, never titles).
      {"codelist.read", {.roles = {kClinician, kSteward}}},
      {"clinical.read", {.roles = {kClinician, kSteward}, .own_organisation = true}},
      {"clinical.write", {.roles = {kClinician}, .own_organisation = true}},
      {"clinical.export", {.roles = {kClinician, kSteward}, .own_organisation = true}},
      {"specimen.read",
       {.roles = {kClinician, kSequencer, kAnalyst, kSteward}, .own_organisation = true}},
      {"specimen.write", {.roles = {kClinician}, .own_organisation = true}},
      // Which role may make which custody step is the specimens module's transition table.
      {"specimen.custody",
       {.roles = {kClinician, kSequencer, kAnalyst}, .own_organisation = true}},
      // Analysis orders (issue 12 finding 2): the data centre names the one analysis centre
      // that may take a specimen into custody; the holding facility and the ordered centre
      // read the orders (resource: the specimen's holder, the caller's centre when named).
      {"analysis_order.read",
       {.roles = {kSequencer, kAnalyst, kSteward}, .own_organisation = true}},
      {"analysis_order.write", {.roles = {kSteward}}},
      // Analysis runs (issue 16): the analysis centre analysing the specimen (resource holder)
      // and the data centre's stewards start, follow, cancel and retry runs; the engine's logs
      // are the centre's alone; reference genomes are listed to both.
      {"analysis_run.read", {.roles = {kAnalyst, kSteward}, .own_organisation = true}},
      {"analysis_run.write", {.roles = {kAnalyst, kSteward}, .own_organisation = true}},
      {"analysis_run.log", {.roles = {kAnalyst}, .own_organisation = true}},
      {"analysis_reference.read", {.roles = {kAnalyst, kSteward}}},
      // Names and kinds of the registered organisations (the shipping form's destinations).
      {"org.directory",
       {.roles = {kClinician, kSequencer, kAnalyst, kSteward, kSecurity, kCommittee}}},
      // Sequencing data (R3.5, R3.7-R3.9): the facility holding a specimen opens runs and
      // uploads FASTQ; the analysis centre holding it registers CRAM/VCF. Files are read by
      // the organisations in the chain of custody and by data stewards; their bytes are served
      // re-encrypted for the reader's Crypt4GH key, or decrypted over TLS to the analysis
      // centre that analyses them.
      {"run.read", {.roles = {kSequencer, kSteward}, .own_organisation = true}},
      {"run.write", {.roles = {kSequencer}, .own_organisation = true}},
      {"upload.write", {.roles = {kSequencer, kAnalyst}, .own_organisation = true}},
      {"file.read",
       {.roles = {kSequencer, kAnalyst, kSteward}, .own_organisation = true}},
      {"file.download",
       {.roles = {kSequencer, kAnalyst, kSteward}, .own_organisation = true,
        .live_consent = true}},
      {"file.decrypt", {.roles = {kAnalyst}, .own_organisation = true, .live_consent = true}},
      // GA4GH htsget and DRS (R4.3): service-info is public; objects and their bytes go to
      // those who may read the file, never for a withdrawn participant. Researchers reach
      // files through grants (the sharing module's facts, decided here).
      {"ga4gh.info", {.is_public = true}},
      {"htsget.read",
       {.roles = {kSequencer, kAnalyst, kSteward, kResearcher}, .own_organisation = true,
        .live_consent = true, .tier_roles = {kResearcher}}},
      {"drs.read",
       {.roles = {kSequencer, kAnalyst, kSteward, kResearcher}, .own_organisation = true,
        .live_consent = true, .tier_roles = {kResearcher}}},
      // Return of results and recontact (R1.1, R5.5-R5.7). A finding's organisation is the
      // participant's hospital and its holder the analysis centre that filed it, so both
      // parties (and data stewards) pass; which party makes which step is the findings
      // module's transition table, and a hospital sees a finding only once it was sent.
      {"finding.read", {.roles = {kAnalyst, kClinician, kSteward}, .own_organisation = true}},
      {"finding.write", {.roles = {kAnalyst}, .own_organisation = true}},
      {"finding.transition",
       {.roles = {kAnalyst, kClinician, kSteward}, .own_organisation = true}},
      {"finding.message", {.roles = {kAnalyst, kClinician, kSteward}, .own_organisation = true}},
      // The patient report names the patient: the participant's hospital only.
      {"finding.report", {.roles = {kClinician}, .own_organisation = true}},
      {"finding.configure", {.roles = {kSteward}}},
      {"finding.escalate", {.roles = {kSteward}}},
      // Controlled sharing (R4.3-R4.7): datasets and releases are curated by data stewards and
      // listed to researchers and the committee; researchers apply, the review committee
      // (審査会) comments and votes, approval makes a grant, stewards revoke grants. Which
      // application a caller may see or act on (own applications, conflict of interest) is the
      // sharing module's business; whether shared data may be read is decided here.
      {"dataset.read", {.roles = {kResearcher, kCommittee, kSteward}}},
      {"dataset.write", {.roles = {kSteward}}},
      {"data.access",
       {.roles = {kResearcher, kSteward}, .live_consent = true, .tier_roles = {kResearcher}}},
      {"application.read", {.roles = {kResearcher, kCommittee, kSteward}}},
      {"application.write", {.roles = {kResearcher}}},
      {"application.review", {.roles = {kCommittee}}},
      // An application's documents (ethics approval, protocol, signed agreement; issue 14):
      // the applicant uploads them, the committee and data stewards read them. Which
      // application a caller may see is the sharing module's (the resolver answers 404 for
      // others' applications); other roles are refused here.
      {"application.document.read", {.roles = {kResearcher, kCommittee, kSteward}}},
      {"application.document.write", {.roles = {kResearcher}}},
      {"grant.read", {.roles = {kResearcher, kCommittee, kSteward}}},
      {"grant.revoke", {.roles = {kSteward}}},
      // The cohort variant store (issue 15, R4.1/R4.6): counts, carriers and exports over the
      // samples a caller may see. The access gate decides this action per sample on the
      // sample's file (custody, live consent; for researchers release, grant and purpose).
      {"variants.read",
       {.roles = {kAnalyst, kSteward, kResearcher}, .own_organisation = true,
        .live_consent = true, .tier_roles = {kResearcher}}},
      {"variants.ingest", {.roles = {kSteward}}},
      // Beacon v2: open to everyone; the granularity (boolean, rounded counts, records through
      // the gate) and the query budget are the beacon module's (issue 15).
      {"beacon.read", {.is_public = true}},
  };
  return *rules;
}

bool Contains(const std::vector<std::string>& v, std::string_view x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

using Args = ReasonArgs;

// A decision whose reason is the code's text with args (reasons.h); caller_code as
// Decision::code.
Decision Decided(Effect effect, std::string_view reason_code, const Args& args,
                 std::string caller_code = "") {
  return {effect, ReasonText(reason_code, args), {}, std::move(caller_code)};
}
Decision Deny(std::string_view reason_code, const Args& args, std::string caller_code = "") {
  return Decided(Effect::kDeny, reason_code, args, std::move(caller_code));
}
Decision Allow(std::string_view reason_code, const Args& args) {
  return Decided(Effect::kAllow, reason_code, args);
}

// Shared data for a tier-gated role: group members of the producing research group read in
// every tier; others only from the controlled tier on, with a grant that covers the dataset
// and data type, is in its period and not revoked. In both cases the participant's live
// consent must cover the purpose.
Decision SharedDataDecision(const Subject& subject, const Resource& r, const Context& c) {
  if (r.tier.empty()) return Deny("not_released", {{"kind", r.kind}, {"id", r.id}});
  const bool member = !r.group.empty() && Contains(subject.groups, r.group);
  if (member) {
    if (!r.consent_covers_purpose) {
      return Deny("consent_excludes_group", {{"group", r.group}});
    }
    return Allow("group_member", {{"group", r.group}, {"dataset", r.dataset}});
  }
  if (r.tier == "group_restricted") {
    return Deny("group_restricted", {{"release", r.release}, {"group", r.group}});
  }
  if (r.tier != "controlled" && r.tier != "public_aggregates") {
    return Deny("unknown_tier", {{"tier", r.tier}});
  }
  if (!c.grant) return Deny("no_grant", {{"dataset", r.dataset}});
  const Grant& g = *c.grant;
  if (!g.holder.empty() && g.holder != subject.id) {
    return Deny("grant_other_holder", {{"grant", g.id}});
  }
  if (g.revoked) return Deny("grant_revoked", {{"grant", g.id}});
  if (c.now < g.starts_at) return Deny("grant_not_started", {{"grant", g.id}});
  if (c.now >= g.expires_at) return Deny("grant_expired", {{"grant", g.id}});
  if (!Contains(g.datasets, r.dataset)) {
    return Deny("grant_excludes_dataset", {{"grant", g.id}, {"dataset", r.dataset}});
  }
  if (!Contains(g.data_types, r.data_type)) {
    return Deny("grant_excludes_data_type", {{"grant", g.id}, {"data_type", r.data_type}});
  }
  if (!r.consent_covers_purpose) {
    return Deny("consent_excludes_purpose", {{"purpose", g.purpose}, {"grant", g.id}});
  }
  return Allow("grant_allows",
               {{"grant", g.id}, {"dataset", r.dataset}, {"data_type", r.data_type}});
}

}  // namespace

bool Subject::HasRole(std::string_view role) const {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

Decision Decide(const Subject& subject, std::string_view action, const Resource& resource,
                const Context& context) {
  const auto& rules = Rules();
  const auto it = rules.find(action);
  if (it == rules.end()) {
    return Deny("no_rule", {{"action", std::string(action)}});
  }
  const Rule& rule = it->second;
  if (rule.is_public) return Allow("public_action", {});
  if (!subject.authenticated) {
    return Deny("authentication_required",
                {{"action", std::string(action)}, {"kind", resource.kind}});
  }
  if (subject.scoped &&
      std::find(subject.scope.begin(), subject.scope.end(), action) == subject.scope.end()) {
    return Deny("scope_exceeded", {{"action", std::string(action)}}, "scope_exceeded");
  }
  if (!subject.mfa && !rule.before_mfa) {
    return Deny("mfa_required", {{"action", std::string(action)}}, "mfa_required");
  }
  // Shared data about one file (the access gate fills the release, grant and consent facts
  // as a "data_file" resource) for a subject whose only role of the rule is tier-gated: the
  // release tier and grant decide, across organisations (a grant crosses them by design).
  bool shared_data = false;
  if (!rule.tier_roles.empty() && resource.kind == "data_file" && !resource.id.empty()) {
    bool other_role = false;
    for (auto role : rule.roles) {
      const bool tiered = std::find(rule.tier_roles.begin(), rule.tier_roles.end(), role) !=
                          rule.tier_roles.end();
      other_role = other_role || (!tiered && subject.HasRole(role));
    }
    for (auto role : rule.tier_roles) shared_data = shared_data || subject.HasRole(role);
    shared_data = shared_data && !other_role;
  }
  if (rule.own_organisation && !shared_data) {
    // An organisation-scoped resource without an owner is a caller's mistake, and reading it
    // as "unscoped" once exported every hospital's records (issue 12 finding 1): deny.
    if (resource.organisation.empty()) {
      return Deny("no_owner", {{"kind", resource.kind}, {"action", std::string(action)}});
    }
    if (!DataCenterWide(subject) && resource.organisation != subject.organisation &&
        (resource.holder.empty() || resource.holder != subject.organisation)) {
      return Deny("other_organisation", {{"kind", resource.kind}});
    }
  }
  if (rule.live_consent && resource.withdrawn) {
    return Deny("consent_withdrawn", {{"kind", resource.kind}, {"id", resource.id}});
  }
  if (rule.any_authenticated) return Allow("any_authenticated", {});
  if (shared_data) return SharedDataDecision(subject, resource, context);
  for (auto role : rule.roles) {
    if (subject.HasRole(role)) {
      return Allow("role_allows", {{"role", std::string(role)}, {"action", std::string(action)}});
    }
  }
  return Deny("no_role", {{"action", std::string(action)}});
}

bool DataCenterWide(const Subject& subject) {
  return subject.HasRole(kSteward) || subject.HasRole(kSecurity);
}

std::string ScopeOf(const Subject& subject) {
  return DataCenterWide(subject) ? std::string(kEveryOrganisation) : subject.organisation;
}

std::optional<RuleView> DescribeRule(std::string_view action) {
  const auto& rules = Rules();
  const auto it = rules.find(action);
  if (it == rules.end()) return std::nullopt;
  const Rule& r = it->second;
  RuleView v{.is_public = r.is_public,
             .any_authenticated = r.any_authenticated,
             .before_mfa = r.before_mfa,
             .own_organisation = r.own_organisation,
             .live_consent = r.live_consent,
             .roles = {},
             .tier_roles = {}};
  for (auto role : r.roles) v.roles.emplace_back(role);
  for (auto role : r.tier_roles) v.tier_roles.emplace_back(role);
  return v;
}

std::vector<std::string> KnownActions() {
  std::vector<std::string> out;
  for (const auto& [name, rule] : Rules()) out.push_back(name);
  return out;
}

const std::vector<ReasonTemplate>& ReasonCodes() {
  // The English texts are the ones the audit log has always recorded.
  static const auto* codes = new std::vector<ReasonTemplate>{
      {"no_rule", "no rule allows action '{action}'"},
      {"public_action", "public action"},
      {"authentication_required", "'{action}' on {kind} requires authentication"},
      {"scope_exceeded", "the token's scope does not include '{action}'"},
      {"mfa_required", "'{action}' requires a second factor; enrol and confirm TOTP first"},
      {"no_owner",
       "{kind} names no owning organisation for the organisation-scoped action '{action}'"},
      {"other_organisation", "{kind} belongs to another organisation"},
      {"consent_withdrawn", "the participant of {kind} {id} has withdrawn consent"},
      {"any_authenticated", "any authenticated subject"},
      {"role_allows", "role {role} may {action}"},
      {"no_role", "none of the subject's roles may '{action}'"},
      {"not_released", "{kind} {id} is in no release"},
      {"consent_excludes_group",
       "the participant's consent does not cover research by group {group}"},
      {"group_member", "member of research group {group} that produced dataset {dataset}"},
      {"group_restricted", "release {release} is group-restricted (embargo) to research group {group}"},
      {"unknown_tier", "unknown release tier '{tier}'"},
      {"no_grant", "no grant covers dataset {dataset}"},
      {"grant_other_holder", "grant {grant} is held by someone else"},
      {"grant_revoked", "grant {grant} was revoked"},
      {"grant_not_started", "grant {grant} has not started"},
      {"grant_expired", "grant {grant} has expired"},
      {"grant_excludes_dataset", "grant {grant} does not cover dataset {dataset}"},
      {"grant_excludes_data_type", "grant {grant} does not cover data type {data_type}"},
      {"consent_excludes_purpose",
       "the participant's consent does not cover the purpose {purpose} of grant {grant}"},
      {"grant_allows", "grant {grant} covers dataset {dataset} ({data_type})"},
  };
  return *codes;
}

std::string ReasonText(std::string_view code, const ReasonArgs& args) {
  for (const auto& t : ReasonCodes()) {
    if (t.code != code) continue;
    std::string out;
    std::string_view text = t.text;
    while (!text.empty()) {
      const size_t open = text.find('{');
      const size_t close = open == std::string_view::npos ? open : text.find('}', open);
      if (close == std::string_view::npos) {
        out += text;
        break;
      }
      out += text.substr(0, open);
      const auto arg = args.find(std::string(text.substr(open + 1, close - open - 1)));
      if (arg != args.end()) out += arg->second;
      text.remove_prefix(close + 1);
    }
    return out;
  }
  return std::string(code);
}

namespace {

// Each template as an anchored pattern whose groups are its arguments, in template order.
struct ReasonPattern {
  std::string_view code;
  std::vector<std::string> names;
  std::regex re;
};

const std::vector<ReasonPattern>& ReasonPatterns() {
  static const auto* patterns = [] {
    auto* out = new std::vector<ReasonPattern>();
    static const std::regex special(R"([.^$|()\[\]{}*+?\\])");
    for (const auto& t : ReasonCodes()) {
      ReasonPattern p{t.code, {}, {}};
      std::string source = "^";
      std::string_view text = t.text;
      while (!text.empty()) {
        const size_t open = text.find('{');
        const size_t close = open == std::string_view::npos ? open : text.find('}', open);
        const std::string literal(text.substr(0, open == std::string_view::npos ? text.size()
                                                                                : open));
        source += std::regex_replace(literal, special, "\\$&");
        if (close == std::string_view::npos) break;
        p.names.emplace_back(text.substr(open + 1, close - open - 1));
        source += "(.*?)";
        text.remove_prefix(close + 1);
      }
      p.re = std::regex(source + "$");
      out->push_back(std::move(p));
    }
    return out;
  }();
  return *patterns;
}

}  // namespace

std::optional<Reason> ParseReason(std::string_view reason) {
  const std::string text(reason);
  for (const auto& p : ReasonPatterns()) {
    std::smatch m;
    if (!std::regex_match(text, m, p.re)) continue;
    Reason r{std::string(p.code), {}};
    for (size_t i = 0; i < p.names.size(); ++i) r.args[p.names[i]] = m[i + 1].str();
    // Two templates could match one text only through arguments that spell another
    // template's words; the round trip keeps the parse exact.
    if (ReasonText(r.code, r.args) == reason) return r;
  }
  return std::nullopt;
}

}  // namespace zengen::policy
