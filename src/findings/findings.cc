#include "findings/findings.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>

#include "common/field_checks.h"
#include "crypto/crypto.h"
#include "crypto/ids.h"
#include "findings/acmg_sf.h"
#include "identity/directory.h"
#include "participants/participants.h"
#include "specimens/analysis_orders.h"

namespace zengen::findings {
namespace {

using nlohmann::json;
using storage::Int;
using storage::Null;
using storage::Text;
using namespace std::chrono_literals;

using crypto::NewId;

// Parses FormatRfc3339 output (YYYY-MM-DDTHH:MM:SS.mmmZ, or without milliseconds).
std::chrono::system_clock::time_point ParseTime(const std::string& s) {
  if (s.size() < 19) return {};
  const int y = std::stoi(s.substr(0, 4));
  const unsigned mo = std::stoul(s.substr(5, 2)), d = std::stoul(s.substr(8, 2));
  const int h = std::stoi(s.substr(11, 2)), mi = std::stoi(s.substr(14, 2)),
            se = std::stoi(s.substr(17, 2));
  int ms = 0;
  if (s.size() >= 23 && s[19] == '.') ms = std::stoi(s.substr(20, 3));
  const std::chrono::sys_days day{std::chrono::year{y} / std::chrono::month{mo} /
                                  std::chrono::day{d}};
  return day + std::chrono::hours{h} + std::chrono::minutes{mi} + std::chrono::seconds{se} +
         std::chrono::milliseconds{ms};
}

constexpr const char* kSelect =
    "SELECT f.id, f.participant_id, p.hospital_id, f.analysis_center_id, f.gene, f.variant, "
    "f.origin, f.category, f.classification, f.evidence, f.acmg_sf_version, f.state, "
    "f.state_since, f.contact_attempts, f.sent_to_hospital, f.supersedes, f.superseded_by, "
    "f.filed_by, f.filed_at, f.version "
    "FROM findings f JOIN participants p ON p.id = f.participant_id ";

Finding FromRow(const storage::Row& r) {
  Finding f;
  f.id = r.Text(0);
  f.participant_id = r.Text(1);
  f.hospital = r.Text(2);
  f.analysis_center = r.Text(3);
  f.gene = r.Text(4);
  f.variant = r.Text(5);
  f.origin = r.Text(6);
  f.category = r.Text(7);
  f.classification = r.Text(8);
  f.evidence = r.Text(9);
  f.acmg_sf_version = r.Text(10);
  f.state = r.Text(11);
  f.state_since = r.Text(12);
  f.contact_attempts = r.Int(13);
  f.sent_to_hospital = r.Int(14) != 0;
  f.supersedes = r.IsNull(15) ? "" : r.Text(15);
  f.superseded_by = r.IsNull(16) ? "" : r.Text(16);
  f.filed_by = r.Text(17);
  f.filed_at = r.Text(18);
  f.version = r.Int(19);
  return f;
}

Result<Finding> ReadFinding(storage::Transaction& tx, std::string_view id) {
  ZG_ASSIGN_OR_RETURN(auto rows,
                      tx.Query(std::string(kSelect) + "WHERE f.id = $1", {Text(std::string(id))}));
  if (rows.empty()) return NotFound("finding_not_found", fmt::format("no finding '{}'", id));
  return FromRow(rows.rows[0]);
}

Result<std::vector<Event>> ReadHistory(storage::Transaction& tx, std::string_view id) {
  ZG_ASSIGN_OR_RETURN(auto rows,
                      tx.Query("SELECT seq, event, from_state, to_state, party, organisation_id, "
                               "user_id, time, reason, details FROM finding_events "
                               "WHERE finding_id = $1 ORDER BY seq",
                               {Text(std::string(id))}));
  std::vector<Event> out;
  for (const auto& r : rows.rows) {
    out.push_back({r.Int(0), r.Text(1), r.Text(2), r.Text(3), r.Text(4), r.Text(5), r.Text(6),
                   r.Text(7), r.Text(8), r.Text(9)});
  }
  return out;
}

Status CheckText(const std::string& value, const std::string& field, size_t max,
                 bool required) {
  if (required && value.empty()) {
    return InvalidArgument("missing_field", fmt::format("'{}' is required", field), field);
  }
  if (value.size() > max) {
    return InvalidArgument("value_too_long", fmt::format("'{}' exceeds {} bytes", field, max),
                           field);
  }
  return Status::Ok();
}

bool ValidGene(const std::string& g) {
  static const std::regex re("^[A-Z0-9][A-Za-z0-9-]{0,29}$");
  return std::regex_match(g, re);
}

// reference:type.description, e.g. NM_007294.4:c.68_69del or NC_000017.11:g.43124028del.
bool ValidHgvs(const std::string& v) {
  static const std::regex re(
      R"(^(NM_|NR_|NC_|NG_|NP_|LRG_|ENST|ENSP)[A-Za-z0-9_.()]+:[cgmnrp]\.[^\s]{1,200}$)");
  return v.size() <= 300 && std::regex_match(v, re);
}

bool Open(std::string_view state) { return IsState(state) && !IsTerminal(state); }

std::string Kind(storage::Transaction& tx, const std::string& org) {
  auto kind = identity::OrganisationKind(tx, org);
  return kind.ok() ? *kind : "";
}

Party PartyOf(const Finding& f, const Actor& a) {
  if (a.user == "system" && a.source == "system") return Party::kSystem;
  if (a.HasRole("analyst") && a.organisation == f.analysis_center) return Party::kAnalysisCentre;
  if (a.HasRole("clinician") && a.organisation == f.hospital) return Party::kHospital;
  if (a.HasRole("data_steward")) return Party::kDataCentre;
  return Party::kAny;  // no party of this finding
}

bool PartyMayAct(Party row, Party actor) {
  if (actor == Party::kAny) return false;
  return row == Party::kAny || row == actor;
}

}  // namespace

bool IsState(std::string_view s) { return OneOf(kStates, s); }
bool IsTerminal(std::string_view s) { return OneOf(kTerminalStates, s); }
bool IsGated(std::string_view s) { return OneOf(kGatedStates, s); }

std::string_view PartyName(Party p) {
  switch (p) {
    case Party::kAnalysisCentre:
      return "analysis_center";
    case Party::kDataCentre:
      return "data_center";
    case Party::kHospital:
      return "hospital";
    case Party::kSystem:
      return "system";
    case Party::kAny:
      return "any";
  }
  return "";
}

std::string_view GuardName(Guard g) {
  switch (g) {
    case Guard::kNone: return "none";
    case Guard::kFourEyes: return "four_eyes";
    case Guard::kReportable: return "reportable";
    case Guard::kConsentPermits: return "consent_permits";
    case Guard::kConsentDenies: return "consent_denies";
    case Guard::kConsentUndecided: return "consent_undecided";
    case Guard::kConsentKnown: return "consent_known";
    case Guard::kFullWithdrawal: return "full_withdrawal";
    case Guard::kGermline: return "germline";
    case Guard::kSomatic: return "somatic";
    case Guard::kContactAttempts: return "contact_attempts";
    case Guard::kContactWindowOver: return "contact_window_over";
    case Guard::kSlaOverdue: return "sla_overdue";
    case Guard::kSiteDecline: return "site_decline";
    case Guard::kContactVia: return "contact_via";
  }
  return "";
}

const std::vector<Transition>& TransitionTable() {
  using P = Party;
  using G = Guard;
  static const auto* table = [] {
    auto* t = new std::vector<Transition>{
        {"detected", "classify", "triaged", P::kAnalysisCentre, G::kNone, false, false, false,
         false, "the analysis centre triages the detected variant"},
        {"triaged", "not_reportable", "closed_not_reportable", P::kAnalysisCentre, G::kNone, true,
         false, false, false, "triage finds nothing to return"},
        {"triaged", "submit_review", "expert_review", P::kAnalysisCentre, G::kReportable, false,
         false, false, false, "a reportable finding goes to the expert panel"},
        {"expert_review", "approve", "consent_check", P::kAnalysisCentre, G::kFourEyes, false,
         false, false, false, "a second analyst approves validity and actionability"},
        {"expert_review", "reject", "closed_not_reportable", P::kAnalysisCentre, G::kFourEyes,
         true, false, false, false, "a second analyst rejects it"},
        {"consent_check", "consent_permits", "sent_to_sh", P::kSystem, G::kConsentPermits, false,
         false, false, false, "consent permits return: sent to the specimen-collecting hospital"},
        {"consent_check", "consent_denies", "closed_by_preference", P::kSystem, G::kConsentDenies,
         false, false, false, false, "consent does not permit return: closed, nobody contacted"},
        {"consent_check", "consent_undecided", "ask_preference_via_sh", P::kSystem,
         G::kConsentUndecided, false, false, false, false,
         "the participant has not decided: the hospital asks"},
        {"ask_preference_via_sh", "record_preference", "consent_check", P::kHospital, G::kNone,
         false, false, true, false,
         "the hospital records the participant's answer as a new consent record"},
        {"ask_preference_via_sh", "preference_known", "consent_check", P::kSystem,
         G::kConsentKnown, false, false, false, false,
         "the consent was decided meanwhile: check it again"},
        {"sent_to_sh", "acknowledge", "sh_review", P::kHospital, G::kNone, false, false, false,
         false, "the hospital acknowledges receipt"},
        {"sent_to_sh", "escalate", "escalated", P::kSystem, G::kSlaOverdue, false, false, false,
         false, "no acknowledgement within the SLA: escalated to the data centre"},
        {"escalated", "resend", "sent_to_sh", P::kDataCentre, G::kNone, false, false, false,
         false, "the data centre sends it again (the SLA timer restarts)"},
        {"escalated", "acknowledge", "sh_review", P::kHospital, G::kNone, false, false, false,
         false, "the hospital acknowledges late"},
        {"sh_review", "site_decline", "closed_site_decision", P::kHospital, G::kSiteDecline,
         false, true, false, false, "the hospital decides not to contact (reason coded)"},
        {"sh_review", "start_contact", "contacting", P::kHospital, G::kNone, false, false, false,
         false, "the hospital starts contacting the participant"},
        {"contacting", "contact_attempt", "contacting", P::kHospital, G::kNone, false, false,
         false, false, "an attempt to reach the participant failed"},
        {"contacting", "reached", "pre_disclosure_counselling", P::kHospital, G::kContactVia,
         false, false, false, true, "the participant (or designated relative) was reached"},
        {"contacting", "unreachable", "unreachable", P::kHospital, G::kContactAttempts, false,
         false, false, false, "the participant cannot be reached"},
        {"contacting", "contact_window_expired", "unreachable", P::kSystem,
         G::kContactWindowOver, false, false, false, false,
         "the contact window passed without reaching the participant"},
        {"unreachable", "contact_updated", "contacting", P::kHospital, G::kNone, false, false,
         false, false, "new contact details: contacting again"},
        {"pre_disclosure_counselling", "patient_declines", "closed_by_preference", P::kHospital,
         G::kNone, false, false, false, false,
         "the participant declines now (recorded as a consent change)"},
        {"pre_disclosure_counselling", "order_confirmatory_test", "confirmatory_test",
         P::kHospital, G::kGermline, false, false, false, false,
         "germline: a clinical confirmatory test comes before disclosure"},
        {"pre_disclosure_counselling", "disclose", "disclosed", P::kHospital, G::kSomatic, false,
         false, false, false, "somatic: disclosed after counselling"},
        {"confirmatory_test", "test_positive", "disclosed", P::kHospital, G::kNone, false, false,
         false, false, "confirmed: disclosed"},
        {"confirmatory_test", "test_negative", "disclosed_not_confirmed", P::kHospital, G::kNone,
         false, false, false, false, "not confirmed: disclosed as not confirmed"},
        {"disclosed", "start_follow_up", "follow_up", P::kHospital, G::kNone, false, false, false,
         false, "referral, cascade testing of relatives"},
        {"follow_up", "close_returned", "closed_returned", P::kHospital, G::kNone, false, false,
         false, false, "returned and followed up"},
    };
    for (auto s : kGatedStates) {
      t->push_back({s, "consent_revoked", "closed_by_preference", P::kSystem, G::kConsentDenies,
                    false, false, false, false,
                    "the live consent no longer permits return: closed"});
      t->push_back({s, "consent_reopened", "ask_preference_via_sh", P::kSystem,
                    G::kConsentUndecided, false, false, false, false,
                    "the participant is undecided again: the hospital asks"});
    }
    for (auto s : kStates) {
      if (IsTerminal(s)) continue;
      t->push_back({s, "withdraw", "closed_withdrawn", P::kAny, G::kFullWithdrawal, false, false,
                    false, false, "the participant withdrew fully"});
    }
    for (auto s : kStates) {
      if (IsTerminal(s)) continue;
      t->push_back({s, "reclassify", "reclassified", P::kAnalysisCentre, G::kNone, false, false,
                    false, false, "new evidence: a re-interpretation replaces it"});
    }
    return t;
  }();
  return *table;
}

const Transition* FindTransition(std::string_view from, std::string_view event) {
  for (const auto& t : TransitionTable()) {
    if (t.from == from && t.event == event) return &t;
  }
  return nullptr;
}

std::vector<std::string> EventsFrom(std::string_view from) {
  std::vector<std::string> out;
  for (const auto& t : TransitionTable()) {
    if (t.from == from) out.emplace_back(t.event);
  }
  return out;
}

std::string_view VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kPermit: return "permit";
    case Verdict::kDeny: return "deny";
    case Verdict::kUndecided: return "undecided";
    case Verdict::kWithdrawn: return "withdrawn";
  }
  return "";
}

std::string_view GoverningItem(std::string_view category) {
  if (category == "secondary") return "C10";
  if (category == "reinterpretation") return "C13";
  return "C09";
}

ConsentView EvaluateConsent(std::string_view category, const consent::ConsentStatus& status) {
  ConsentView v;
  v.item = std::string(GoverningItem(category));
  v.designated_relative = status.profile.designated_relative;
  if (status.state == consent::State::kWithdrawnFull) {
    v.verdict = Verdict::kWithdrawn;
    v.reason = "the participant withdrew fully";
    return v;
  }
  if (!status.current) {
    v.verdict = Verdict::kDeny;
    v.reason = "no consent is recorded";
    return v;
  }
  if (status.state == consent::State::kWithdrawnNoContact) {
    v.verdict = Verdict::kDeny;
    v.reason = "the participant withdrew from contact";
    return v;
  }
  const auto it = status.current->decisions.find(v.item);
  const std::string d = it == status.current->decisions.end() ? "undecided" : it->second;
  if (d == "permit") {
    v.verdict = Verdict::kPermit;
  } else if (d == "deny") {
    v.verdict = Verdict::kDeny;
  } else {
    v.verdict = Verdict::kUndecided;
  }
  v.reason = fmt::format("consent item {} is {}", v.item, d);
  return v;
}

Actor SystemActor() { return {"system", "", {}, "system", ""}; }

Status CheckGuard(Guard g, const GuardContext& c) {
  const Finding& f = *c.finding;
  const auto consent_error = [&](std::string code, std::string_view wanted) -> Status {
    return Conflict(std::move(code),
                    fmt::format("needs consent {} for {}; {} ({})", wanted, c.consent.item,
                                VerdictName(c.consent.verdict), c.consent.reason));
  };
  switch (g) {
    case Guard::kNone:
      return Status::Ok();
    case Guard::kFourEyes:
      if (c.actor_user == f.filed_by) {
        return PermissionDenied("four_eyes_required",
                                "expert review needs a second analyst: the one who filed the "
                                "finding cannot approve or reject it");
      }
      return Status::Ok();
    case Guard::kReportable:
      if (f.classification == "benign" || f.classification == "likely_benign") {
        return Conflict("not_reportable", "(likely) benign variants are not returned");
      }
      if (f.category == "secondary" && f.classification != "pathogenic" &&
          f.classification != "likely_pathogenic") {
        return Conflict("not_reportable",
                        "secondary findings are returned only when pathogenic or likely "
                        "pathogenic");
      }
      return Status::Ok();
    case Guard::kConsentPermits:
      return c.consent.verdict == Verdict::kPermit ? Status::Ok()
                                                   : consent_error("consent_not_permitted",
                                                                   "permit");
    case Guard::kConsentDenies:
      return c.consent.verdict == Verdict::kDeny ? Status::Ok()
                                                 : consent_error("consent_not_denied", "deny");
    case Guard::kConsentUndecided:
      return c.consent.verdict == Verdict::kUndecided
                 ? Status::Ok()
                 : consent_error("consent_not_undecided", "undecided");
    case Guard::kConsentKnown:
      return c.consent.verdict == Verdict::kPermit || c.consent.verdict == Verdict::kDeny
                 ? Status::Ok()
                 : consent_error("consent_still_undecided", "decided");
    case Guard::kFullWithdrawal:
      return c.consent.verdict == Verdict::kWithdrawn
                 ? Status::Ok()
                 : Conflict("not_withdrawn", "the participant has not withdrawn fully");
    case Guard::kGermline:
      return f.origin == "germline"
                 ? Status::Ok()
                 : Conflict("not_germline", "a confirmatory test is for germline findings; "
                                            "disclose somatic findings directly");
    case Guard::kSomatic:
      return f.origin == "somatic"
                 ? Status::Ok()
                 : Conflict("confirmation_required",
                            "a germline research result needs a clinical confirmatory test "
                            "before disclosure");
    case Guard::kContactAttempts:
      return f.contact_attempts >= kMinContactAttempts
                 ? Status::Ok()
                 : Conflict("too_few_contact_attempts",
                            fmt::format("{} contact attempts recorded; {} are needed before the "
                                        "participant counts as unreachable",
                                        f.contact_attempts, kMinContactAttempts));
    case Guard::kContactWindowOver: {
      const auto since = ParseTime(f.state_since);
      return c.now - since >= std::chrono::days{c.settings.contact_window_days}
                 ? Status::Ok()
                 : Conflict("contact_window_open", "the contact window has not passed");
    }
    case Guard::kSlaOverdue: {
      const auto since = ParseTime(f.state_since);
      return c.now - since >= std::chrono::days{c.settings.ack_sla_days}
                 ? Status::Ok()
                 : Conflict("sla_not_overdue", "the acknowledgement SLA has not passed");
    }
    case Guard::kSiteDecline:
      if (c.input != nullptr && c.input->reason_code == "patient_deceased" &&
          c.consent.designated_relative) {
        return Conflict("designated_relative_exists",
                        "the participant designated a relative for disclosure (C11): contact "
                        "the relative instead of closing");
      }
      return Status::Ok();
    case Guard::kContactVia:
      if (c.input != nullptr && c.input->via == "designated_relative" &&
          !c.consent.designated_relative) {
        return Conflict("no_designated_relative",
                        "the participant has not designated a relative for disclosure (C11)");
      }
      return Status::Ok();
  }
  return Internal("unknown_guard", "unknown guard");
}

const Transition* ForcedByConsent(const Finding& f, const ConsentView& c) {
  if (!Open(f.state)) return nullptr;
  if (c.verdict == Verdict::kWithdrawn) return FindTransition(f.state, "withdraw");
  if (f.state == "consent_check") {
    switch (c.verdict) {
      case Verdict::kPermit:
        return FindTransition(f.state, "consent_permits");
      case Verdict::kDeny:
        return FindTransition(f.state, "consent_denies");
      default:
        return FindTransition(f.state, "consent_undecided");
    }
  }
  if (f.state == "ask_preference_via_sh" && c.verdict != Verdict::kUndecided) {
    return FindTransition(f.state, "preference_known");
  }
  if (IsGated(f.state)) {
    if (c.verdict == Verdict::kDeny) return FindTransition(f.state, "consent_revoked");
    if (c.verdict == Verdict::kUndecided) return FindTransition(f.state, "consent_reopened");
  }
  return nullptr;
}

Findings::Findings(storage::Store& store, const Clock& clock, AuditSink& audit,
                   consent::Ledger& ledger)
    : store_(store), clock_(clock), audit_(audit), ledger_(ledger) {}

Status Findings::AuditDenial(const Actor& actor, const std::string& resource, const Error& e,
                             std::string action) {
  return audit_.Append({.actor = actor.user,
                        .source = actor.source,
                        .action = std::move(action),
                        .resource = resource,
                        .decision = "deny",
                        .reason = e.message,
                        .request_id = actor.request_id,
                        .details = json{{"code", e.code}, {"organisation", actor.organisation}}
                                       .dump()});
}

Result<ConsentView> Findings::Consent(const Finding& f) {
  ZG_ASSIGN_OR_RETURN(consent::ConsentStatus status, ledger_.Current(f.participant_id));
  return EvaluateConsent(f.category, status);
}

Result<Settings> Findings::GetSettings() {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(auto rows, tx->Query("SELECT key, value FROM findings_settings"));
  Settings s;
  for (const auto& r : rows.rows) {
    const std::string key = r.Text(0), value = r.Text(1);
    if (key == "acmg_sf_version") s.acmg_sf_version = value;
    if (key == "ack_sla_days") s.ack_sla_days = std::stoll(value);
    if (key == "contact_window_days") s.contact_window_days = std::stoll(value);
  }
  return s;
}

Result<Settings> Findings::PutSettings(const Settings& s, const Actor& actor) {
  if (FindAcmgSf(s.acmg_sf_version) == nullptr) {
    std::vector<std::string_view> known;
    for (const auto& v : AcmgSfVersions()) known.push_back(v.version);
    return BadField("acmg_sf_version", fmt::format("unknown ACMG SF version '{}'; known: {}",
                                                   s.acmg_sf_version, fmt::join(known, ", ")));
  }
  if (s.ack_sla_days < 1 || s.ack_sla_days > 365) {
    return BadField("ack_sla_days", "ack_sla_days must be 1-365");
  }
  if (s.contact_window_days < 1 || s.contact_window_days > 3650) {
    return BadField("contact_window_days", "contact_window_days must be 1-3650");
  }
  ZG_ASSIGN_OR_RETURN(Settings before, GetSettings());
  const std::string now = FormatRfc3339(clock_.Now());
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kWrite));
  for (const auto& [key, value] :
       std::vector<std::pair<std::string, std::string>>{
           {"acmg_sf_version", s.acmg_sf_version},
           {"ack_sla_days", std::to_string(s.ack_sla_days)},
           {"contact_window_days", std::to_string(s.contact_window_days)}}) {
    ZG_RETURN_IF_ERROR(tx->Exec(
        "INSERT INTO findings_settings (key, value, updated_by, updated_at) "
        "VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO UPDATE SET value = excluded.value, "
        "updated_by = excluded.updated_by, updated_at = excluded.updated_at",
        {Text(key), Text(value), Text(actor.user), Text(now)}));
  }
  ZG_RETURN_IF_ERROR(audit_.AppendInTransaction(
      *tx, {.actor = actor.user,
            .source = actor.source,
            .action = "finding.configure",
            .resource = "findings_settings",
            .reason = "findings settings changed",
            .request_id = actor.request_id,
            .details = json{{"before",
                             {{"acmg_sf_version", before.acmg_sf_version},
                              {"ack_sla_days", before.ack_sla_days},
                              {"contact_window_days", before.contact_window_days}}},
                            {"after",
                             {{"acmg_sf_version", s.acmg_sf_version},
                              {"ack_sla_days", s.ack_sla_days},
                              {"contact_window_days", s.contact_window_days}}}}
                           .dump()}));
  ZG_RETURN_IF_ERROR(tx->Commit());
  return s;
}

Result<FindingDetail> Findings::File(const NewFinding& n, const Actor& actor) {
  if (!ValidGene(n.gene)) {
    return BadField("gene", "gene must be an HGNC symbol, e.g. BRCA2");
  }
  if (!ValidHgvs(n.variant)) {
    return BadField("variant",
                    "variant must be HGVS with a versioned reference, e.g. "
                    "NM_000059.4:c.5946del");
  }
  if (!OneOf(kOrigins, n.origin)) {
    return BadField("origin", fmt::format("origin must be one of: {}", ListOf(kOrigins)));
  }
  if (!OneOf(kCategories, n.category)) {
    return BadField("category", fmt::format("category must be one of: {}", ListOf(kCategories)));
  }
  if (!OneOf(kClassifications, n.classification)) {
    return BadField("classification", fmt::format("classification must be one of: {}",
                                                  ListOf(kClassifications)));
  }
  ZG_RETURN_IF_ERROR(CheckText(n.evidence, "evidence", kMaxTextBytes, true));
  if (n.category != "secondary" && !n.acmg_sf_version.empty()) {
    return InvalidArgument("unexpected_field",
                           "acmg_sf_version is recorded for secondary findings only",
                           "acmg_sf_version");
  }
  ZG_ASSIGN_OR_RETURN(Settings settings, GetSettings());
  std::string acmg;
  if (n.category == "secondary") {
    if (n.origin != "germline") {
      return Conflict("secondary_must_be_germline",
                      "secondary findings are germline findings (ACMG SF)", "origin");
    }
    if (n.classification != "pathogenic" && n.classification != "likely_pathogenic") {
      return Conflict("secondary_must_be_pathogenic",
                      "secondary findings are filed only when pathogenic or likely pathogenic",
                      "classification");
    }
    acmg = n.acmg_sf_version.empty() ? settings.acmg_sf_version : n.acmg_sf_version;
    if (FindAcmgSf(acmg) == nullptr) {
      return BadField("acmg_sf_version", fmt::format("unknown ACMG SF version '{}'", acmg));
    }
    if (acmg != settings.acmg_sf_version) {
      return Conflict("acmg_sf_version_not_active",
                      fmt::format("ACMG SF v{} is in force, not v{}", settings.acmg_sf_version,
                                  acmg),
                      "acmg_sf_version");
    }
    if (!InAcmgSf(acmg, n.gene)) {
      return Conflict("gene_not_in_acmg_sf",
                      fmt::format("{} is not on the ACMG SF v{} list: it cannot be filed as a "
                                  "secondary finding",
                                  n.gene, acmg),
                      "gene");
    }
  }

  // Who may file comes first, before anything about the participant is looked at: a centre
  // that did not analyse this participant's specimens gets the same answer whether the
  // participant exists, consented or withdrew (issue 12 finding 3).
  {
    ZG_ASSIGN_OR_RETURN(auto check, store_.Begin(storage::TxMode::kRead));
    std::optional<Error> refusal;
    if (!actor.HasRole("analyst") || Kind(*check, actor.organisation) != "analysis_center") {
      refusal = PermissionDenied("not_analysis_center",
                                 "findings are filed by analysts of an analysis centre");
    } else {
      ZG_ASSIGN_OR_RETURN(const bool analysed,
                          specimens::AnalysedBy(*check, n.participant_id, actor.organisation));
      if (!analysed) {
        refusal = PermissionDenied("not_participant_analyst",
                                   "findings are filed only by the analysis centre that "
                                   "analysed one of the participant's specimens");
      }
    }
    if (refusal) {
      check.reset();
      const Status st =
          AuditDenial(actor, "participant/" + n.participant_id, *refusal, "finding.write");
      if (!st.ok()) return st.error();
      return *refusal;
    }
  }

  // Consent is read before the write transaction: the ledger takes transactions of its own.
  ZG_ASSIGN_OR_RETURN(auto consent_status, ledger_.Current(n.participant_id));
  if (consent_status.state == consent::State::kWithdrawnFull) {
    return Conflict("participant_withdrawn",
                    "the participant withdrew fully: no new findings are filed");
  }

  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kWrite));
  ZG_RETURN_IF_ERROR(participants::HospitalOf(*tx, n.participant_id));
  const std::string id = NewId("FD-");
  const std::string now = FormatRfc3339(clock_.Now());
  ZG_RETURN_IF_ERROR(tx->Exec(
      "INSERT INTO findings (id, participant_id, analysis_center_id, gene, variant, origin, "
      "category, classification, evidence, acmg_sf_version, state, state_since, "
      "contact_attempts, sent_to_hospital, supersedes, superseded_by, filed_by, filed_at, "
      "version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'detected', $11, 0, 0, NULL, "
      "NULL, $12, $11, 1)",
      {Text(id), Text(n.participant_id), Text(actor.organisation), Text(n.gene), Text(n.variant),
       Text(n.origin), Text(n.category), Text(n.classification), Text(n.evidence), Text(acmg),
       Text(now), Text(actor.user)}));
  ZG_RETURN_IF_ERROR(tx->Exec(
      "INSERT INTO finding_events (finding_id, seq, event, from_state, to_state, party, "
      "organisation_id, user_id, time, reason, details) "
      "VALUES ($1, 1, 'file', '', 'detected', 'analysis_center', $2, $3, $4, '', $5)",
      {Text(id), Text(actor.organisation), Text(actor.user), Text(now),
       Text(json{{"acmg_sf_version", acmg}}.dump())}));
  ZG_RETURN_IF_ERROR(audit_.AppendInTransaction(*tx, {.actor = actor.user,
                                                      .source = actor.source,
                                                      .action = "finding.write",
                                                      .resource = "finding/" + id,
                                                      .decision = "allow",
                                                      .reason = "filed",
                                                      .request_id = actor.request_id,
                                                      .details = json{
                                                          {"participant", n.participant_id},
                                                          {"gene", n.gene},
                                                          {"category", n.category},
                                                          {"origin", n.origin},
                                                          {"acmg_sf_version",
                                                           acmg}}.dump()}));
  ZG_RETURN_IF_ERROR(tx->Commit());
  return Get(id);
}

Result<FindingDetail> Findings::Get(std::string_view id) {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(Finding f, ReadFinding(*tx, id));
  ZG_ASSIGN_OR_RETURN(auto history, ReadHistory(*tx, id));
  return FindingDetail{std::move(f), std::move(history)};
}

Result<Finding> Findings::Find(std::string_view id) {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  return ReadFinding(*tx, id);
}

Result<std::string> Findings::LocalId(std::string_view participant_id) {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(auto rows, tx->Query("SELECT local_id FROM participants WHERE id = $1",
                                           {Text(std::string(participant_id))}));
  if (rows.empty()) return NotFound("participant_not_found", "no such participant");
  return rows.rows[0].Text(0);
}

Result<std::string> Findings::OrganisationName(std::string_view id) {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  return identity::OrganisationName(*tx, id);
}

Result<std::string> Findings::UserDisplayName(std::string_view id) {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  return identity::UserDisplayName(*tx, id);
}

bool Findings::Visible(const Finding& f, const Actor& actor) const {
  switch (PartyOf(f, actor)) {
    case Party::kAnalysisCentre:
    case Party::kDataCentre:
    case Party::kSystem:
      return true;
    case Party::kHospital:
      return f.sent_to_hospital;
    case Party::kAny:
      return false;
  }
  return false;
}

std::vector<std::string> Findings::AllowedEvents(const Finding& f, const Actor& actor) const {
  std::vector<std::string> out;
  const Party p = PartyOf(f, actor);
  for (const auto& t : TransitionTable()) {
    // Withdrawal is applied by the system from the live consent; reclassify has its own route.
    if (t.from != f.state || t.party == Party::kSystem || t.event == "withdraw" ||
        t.event == "reclassify") {
      continue;
    }
    if (!PartyMayAct(t.party, p)) continue;
    // Guards that depend only on the finding and the actor are checked here, so no button is
    // offered that the step would refuse; consent, time and input guards are decided when the
    // step is made.
    switch (t.guard) {
      case Guard::kFourEyes:
      case Guard::kReportable:
      case Guard::kGermline:
      case Guard::kSomatic:
      case Guard::kContactAttempts: {
        GuardContext gc;
        gc.finding = &f;
        gc.actor_user = actor.user;
        if (!CheckGuard(t.guard, gc).ok()) continue;
        break;
      }
      default:
        break;
    }
    out.emplace_back(t.event);
  }
  return out;
}

Result<std::vector<Finding>> Findings::List(const Actor& actor, std::string_view state,
                                            std::string_view participant) {
  if (!state.empty() && !IsState(state)) {
    return InvalidArgument("invalid_state",
                           fmt::format("'state' must be one of: {}", ListOf(kStates)), "state");
  }
  std::string where;
  std::vector<storage::Value> params;
  const auto add = [&](const std::string& clause, std::string value) {
    where += (where.empty() ? "WHERE " : " AND ") + fmt::format(fmt::runtime(clause),
                                                                 params.size() + 1);
    params.push_back(Text(std::move(value)));
  };
  if (actor.HasRole("data_steward")) {
    // every finding
  } else if (actor.HasRole("analyst")) {
    add("f.analysis_center_id = ${}", actor.organisation);
  } else if (actor.HasRole("clinician")) {
    add("p.hospital_id = ${}", actor.organisation);
    where += " AND f.sent_to_hospital = 1";
  } else {
    return std::vector<Finding>{};
  }
  if (!state.empty()) add("f.state = ${}", std::string(state));
  if (!participant.empty()) add("f.participant_id = ${}", std::string(participant));
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(auto rows, tx->Query(std::string(kSelect) + where +
                                               " ORDER BY f.filed_at, f.id",
                                           params));
  std::vector<Finding> out;
  for (const auto& r : rows.rows) out.push_back(FromRow(r));
  return out;
}

Result<std::string> Findings::RecordPreference(const Finding& f, std::string_view decision,
                                               const Actor& actor) {
  ZG_ASSIGN_OR_RETURN(consent::ConsentStatus status, ledger_.Current(f.participant_id));
  if (!status.current) {
    return Conflict("no_consent", "the participant has no consent record to modify");
  }
  const consent::ConsentRecord& cur = *status.current;
  consent::ConsentInput in;
  in.kind = "modification";
  in.icf_version = cur.icf_version;
  in.language = cur.icf_language;
  in.decisions = cur.decisions;
  in.decisions[std::string(GoverningItem(f.category))] = decision == "want" ? "permit" : "deny";
  in.signed_date = FormatRfc3339(clock_.Now()).substr(0, 10);
  in.details = cur.details;
  in.details.erase("withdrawal");  // the withdrawal is state, not a detail of the new record
  in.details["note"] = fmt::format("recontact about finding {}", f.id);
  const consent::Actor ca{actor.user, actor.source, actor.request_id};
  ZG_ASSIGN_OR_RETURN(consent::ConsentRecord rec, ledger_.Record(f.participant_id, in, ca));
  return rec.id;
}

Result<FindingDetail> Findings::Apply(const Finding& f, const Transition& t, const StepInput& in,
                                      const Actor& actor, const ConsentView& consent) {
  std::string consent_record;
  if (t.needs_decision) {
    ZG_ASSIGN_OR_RETURN(consent_record, RecordPreference(f, in.decision, actor));
  } else if (t.event == "patient_declines") {
    ZG_ASSIGN_OR_RETURN(consent_record, RecordPreference(f, "dont_want", actor));
  }
  const std::string now = FormatRfc3339(clock_.Now());
  const bool same_state = t.from == t.to;
  int64_t attempts = f.contact_attempts;
  if (t.event == "contact_attempt") ++attempts;
  if (t.event == "contact_updated") attempts = 0;
  const bool sent = f.sent_to_hospital || t.to == "sent_to_sh" || t.to == "ask_preference_via_sh";
  const std::string party(t.party == Party::kAny ? PartyName(PartyOf(f, actor)) : PartyName(t.party));
  json details{{"consent", {{"item", consent.item},
                            {"verdict", VerdictName(consent.verdict)},
                            {"reason", consent.reason}}}};
  if (!in.reason_code.empty()) details["reason_code"] = in.reason_code;
  if (!in.decision.empty()) details["decision"] = in.decision;
  if (!in.via.empty()) details["via"] = in.via;
  if (!consent_record.empty()) details["consent_record"] = consent_record;

  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kWrite));
  ZG_ASSIGN_OR_RETURN(
      const int64_t changed,
      tx->Exec("UPDATE findings SET state = $1, state_since = $2, contact_attempts = $3, "
               "sent_to_hospital = $4, version = version + 1 WHERE id = $5 AND version = $6",
               {Text(std::string(t.to)), Text(same_state ? f.state_since : now), Int(attempts),
                Int(sent ? 1 : 0), Text(f.id), Int(f.version)}));
  if (changed != 1) {
    return Conflict("concurrent_change",
                    fmt::format("finding {} changed while this step was being made; reload "
                                "and try again",
                                f.id));
  }
  ZG_ASSIGN_OR_RETURN(auto seq_rows, tx->Query("SELECT COALESCE(MAX(seq), 0) FROM "
                                               "finding_events WHERE finding_id = $1",
                                               {Text(f.id)}));
  const int64_t seq = seq_rows.rows[0].Int(0) + 1;
  auto inserted = tx->Exec(
      "INSERT INTO finding_events (finding_id, seq, event, from_state, to_state, party, "
      "organisation_id, user_id, time, reason, details) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
      {Text(f.id), Int(seq), Text(std::string(t.event)), Text(f.state), Text(std::string(t.to)),
       Text(party), Text(actor.organisation), Text(actor.user), Text(now), Text(in.reason),
       Text(details.dump())});
  if (!inserted.ok()) {
    if (inserted.error().code == "unique_violation") {
      return Conflict("concurrent_change", "the finding changed meanwhile; reload and retry");
    }
    return inserted.error();
  }
  if (t.event == "escalate") {
    // Every party hears of the escalation in the finding's thread.
    ZG_ASSIGN_OR_RETURN(auto mseq, tx->Query("SELECT COALESCE(MAX(seq), 0) FROM "
                                             "finding_messages WHERE finding_id = $1",
                                             {Text(f.id)}));
    const std::string mid = NewId("MS-");
    ZG_RETURN_IF_ERROR(tx->Exec(
        "INSERT INTO finding_messages (id, finding_id, seq, thread_id, in_reply_to, party, "
        "organisation_id, user_id, recipient, type, body, consent_record_id, created_at) "
        "VALUES ($1, $2, $3, $1, NULL, 'data_center', '', 'system', 'all', 'status', $4, NULL, "
        "$5)",
        {Text(mid), Text(f.id), Int(mseq.rows[0].Int(0) + 1),
         Text("病院からの受領確認が期限を過ぎました。/ The hospital has not acknowledged this "
              "finding within the SLA; escalated to the data centre."),
         Text(now)}));
  }
  ZG_RETURN_IF_ERROR(audit_.AppendInTransaction(
      *tx, {.actor = actor.user,
            .source = actor.source,
            .action = "finding.transition",
            .resource = "finding/" + f.id,
            .decision = "allow",
            .reason = fmt::format("{}: {} -> {}", t.event, f.state, t.to),
            .request_id = actor.request_id,
            .details = json{{"event", t.event},
                            {"from", f.state},
                            {"to", t.to},
                            {"party", party},
                            {"organisation", actor.organisation},
                            {"details", details}}
                           .dump()}));
  ZG_RETURN_IF_ERROR(tx->Commit());
  return Get(f.id);
}

Result<bool> Findings::Reconcile(Finding& f) {
  bool moved = false;
  // preference_known → consent_check → a consent_check row: at most three forced steps.
  for (int i = 0; i < 4; ++i) {
    ZG_ASSIGN_OR_RETURN(ConsentView c, Consent(f));
    const Transition* t = ForcedByConsent(f, c);
    if (t == nullptr) break;
    StepInput in{.event = std::string(t->event), .reason = c.reason};
    ZG_ASSIGN_OR_RETURN(FindingDetail d, Apply(f, *t, in, SystemActor(), c));
    f = d.finding;
    moved = true;
  }
  return moved;
}

Result<FindingDetail> Findings::Step(std::string_view id, const StepInput& in,
                                     const Actor& actor) {
  bool known = false;
  for (const auto& t : TransitionTable()) known = known || t.event == in.event;
  if (!known || in.event == "reclassify") {
    return InvalidArgument("invalid_event",
                           fmt::format("unknown event '{}'; see /api/v1/findings-table",
                                       in.event),
                           "event");
  }
  ZG_RETURN_IF_ERROR(CheckText(in.reason, "reason", kMaxReasonBytes, false));
  const std::string resource = "finding/" + std::string(id);
  ZG_ASSIGN_OR_RETURN(FindingDetail d, Get(id));
  Finding f = d.finding;
  if (!Visible(f, actor)) return NotFound("finding_not_found", fmt::format("no finding '{}'", id));

  // Consent is re-checked before every step: it may have changed since the last one.
  const std::string before = f.state;
  ZG_ASSIGN_OR_RETURN(const bool moved, Reconcile(f));
  if (moved) {
    return Conflict("consent_changed",
                    fmt::format("the participant's consent changed: finding {} moved from '{}' "
                                "to '{}' before '{}' could be applied",
                                f.id, before, f.state, in.event));
  }
  const Transition* t = FindTransition(f.state, in.event);
  if (t == nullptr) {
    const auto next = AllowedEvents(f, actor);
    return Conflict("invalid_transition",
                    fmt::format("finding {} is '{}'; '{}' is not possible now; your next events: "
                                "{}",
                                f.id, f.state, in.event,
                                next.empty() ? "none" : fmt::format("{}", fmt::join(next, ", "))),
                    "event");
  }
  const Party p = PartyOf(f, actor);
  if (!PartyMayAct(t->party, p) || t->party == Party::kSystem) {
    Error e = PermissionDenied(
        "wrong_party", fmt::format("'{}' on a '{}' finding is made by the {}", t->event, f.state,
                                   PartyName(t->party)));
    const Status st = AuditDenial(actor, resource, e);
    return st.ok() ? e : st.error();
  }
  // Inputs the row needs, and nothing it does not.
  const auto need = [](bool needed, const std::string& value, const std::string& field,
                       std::string_view event) -> Status {
    if (needed && value.empty()) {
      return InvalidArgument("missing_field", fmt::format("'{}' needs '{}'", event, field), field);
    }
    if (!needed && !value.empty()) {
      return InvalidArgument("unexpected_field",
                             fmt::format("'{}' takes no '{}'", event, field), field);
    }
    return Status::Ok();
  };
  if (t->needs_reason) ZG_RETURN_IF_ERROR(need(true, in.reason, "reason", t->event));
  ZG_RETURN_IF_ERROR(need(t->needs_reason_code, in.reason_code, "reason_code", t->event));
  ZG_RETURN_IF_ERROR(need(t->needs_decision, in.decision, "decision", t->event));
  ZG_RETURN_IF_ERROR(need(t->needs_via, in.via, "via", t->event));
  if (t->needs_reason_code && !OneOf(kSiteDeclineReasons, in.reason_code)) {
    return BadField("reason_code", fmt::format("reason_code must be one of: {}",
                                               ListOf(kSiteDeclineReasons)));
  }
  if (t->needs_decision && in.decision != "want" && in.decision != "dont_want") {
    return BadField("decision", "decision must be want or dont_want");
  }
  if (t->needs_via && in.via != "participant" && in.via != "designated_relative") {
    return BadField("via", "via must be participant or designated_relative");
  }
  ZG_ASSIGN_OR_RETURN(ConsentView consent, Consent(f));
  ZG_ASSIGN_OR_RETURN(Settings settings, GetSettings());
  const GuardContext gc{&f, consent, actor.user, clock_.Now(), settings, &in};
  if (Status g = CheckGuard(t->guard, gc); !g.ok()) {
    if (g.error().kind == ErrorKind::kPermissionDenied) {
      const Status st = AuditDenial(actor, resource, g.error());
      if (!st.ok()) return st.error();
    }
    return g.error();
  }
  ZG_ASSIGN_OR_RETURN(FindingDetail out, Apply(f, *t, in, actor, consent));
  // Entering consent_check, or a preference just recorded, is settled at once.
  Finding after = out.finding;
  ZG_ASSIGN_OR_RETURN(const bool settled, Reconcile(after));
  if (settled) return Get(id);
  return out;
}

Result<FindingDetail> Findings::Reclassify(std::string_view id, const Reclassification& r,
                                           const Actor& actor) {
  if (!OneOf(kClassifications, r.classification)) {
    return BadField("classification", fmt::format("classification must be one of: {}",
                                                  ListOf(kClassifications)));
  }
  ZG_RETURN_IF_ERROR(CheckText(r.evidence, "evidence", kMaxTextBytes, true));
  ZG_ASSIGN_OR_RETURN(FindingDetail d, Get(id));
  const Finding old = d.finding;
  if (!Visible(old, actor)) return NotFound("finding_not_found", "no such finding");
  if (PartyOf(old, actor) != Party::kAnalysisCentre) {
    Error e = PermissionDenied("wrong_party",
                               "only the analysis centre that filed a finding re-interprets it");
    const Status st = AuditDenial(actor, "finding/" + old.id, e);
    return st.ok() ? e : st.error();
  }
  if (!old.superseded_by.empty()) {
    return Conflict("already_reclassified",
                    fmt::format("finding {} was already re-interpreted by {}", old.id,
                                old.superseded_by));
  }
  NewFinding n{old.participant_id, old.gene,          old.variant, old.origin,
               "reinterpretation", r.classification, r.evidence,  ""};
  ZG_ASSIGN_OR_RETURN(FindingDetail fresh, File(n, actor));
  const std::string now = FormatRfc3339(clock_.Now());
  {
    ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kWrite));
    ZG_RETURN_IF_ERROR(tx->Exec("UPDATE findings SET supersedes = $1 WHERE id = $2",
                                {Text(old.id), Text(fresh.finding.id)}));
    ZG_RETURN_IF_ERROR(tx->Exec("UPDATE findings SET superseded_by = $1, version = version + 1 "
                                "WHERE id = $2",
                                {Text(fresh.finding.id), Text(old.id)}));
    ZG_RETURN_IF_ERROR(tx->Commit());
  }
  if (Open(old.state)) {
    ZG_ASSIGN_OR_RETURN(FindingDetail cur, Get(old.id));
    const Transition* t = FindTransition(cur.finding.state, "reclassify");
    if (t != nullptr) {
      ZG_ASSIGN_OR_RETURN(ConsentView c, Consent(cur.finding));
      StepInput in{.event = "reclassify",
                   .reason = fmt::format("re-interpreted as {}", fresh.finding.id)};
      ZG_ASSIGN_OR_RETURN(FindingDetail moved, Apply(cur.finding, *t, in, actor, c));
      (void)moved;
    }
  }
  return Get(fresh.finding.id);
}

Result<Message> Findings::Post(std::string_view finding_id, const NewMessage& m,
                               const Actor& actor) {
  if (!OneOf(kMessageTypes, m.type)) {
    return BadField("type", fmt::format("type must be one of: {}", ListOf(kMessageTypes)));
  }
  ZG_RETURN_IF_ERROR(CheckText(m.body, "body", kMaxTextBytes, true));
  if (m.recipient != "all" && m.recipient != "analysis_center" && m.recipient != "data_center" &&
      m.recipient != "hospital") {
    return BadField("recipient",
                    "recipient must be all, analysis_center, data_center or hospital");
  }
  if (m.type == "preference_change") {
    if (m.decision != "want" && m.decision != "dont_want") {
      return m.decision.empty()
                 ? InvalidArgument("missing_field", "a preference_change needs 'decision'",
                                   "decision")
                 : BadField("decision", "decision must be want or dont_want");
    }
  } else if (!m.decision.empty()) {
    return InvalidArgument("unexpected_field", "'decision' belongs to preference_change only",
                           "decision");
  }
  ZG_ASSIGN_OR_RETURN(FindingDetail d, Get(finding_id));
  const Finding& f = d.finding;
  if (!Visible(f, actor)) return NotFound("finding_not_found", "no such finding");
  const Party p = PartyOf(f, actor);
  if ((m.from_patient || m.type == "preference_change") && p != Party::kHospital) {
    Error e = PermissionDenied("wrong_party",
                               "the patient's words and preference changes are recorded by the "
                               "participant's hospital");
    const Status st = AuditDenial(actor, "finding/" + f.id, e);
    return st.ok() ? e : st.error();
  }
  if (m.type == "preference_change" && !Open(f.state)) {
    return Conflict("finding_closed", "the finding is closed; record the change as consent");
  }
  std::string consent_record;
  if (m.type == "preference_change") {
    ZG_ASSIGN_OR_RETURN(consent_record, RecordPreference(f, m.decision, actor));
  }
  const std::string now = FormatRfc3339(clock_.Now());
  Message out;
  out.id = NewId("MS-");
  out.finding_id = f.id;
  out.party = m.from_patient || m.type == "preference_change" ? "patient"
                                                               : std::string(PartyName(p));
  out.organisation = actor.organisation;
  out.user = actor.user;
  out.recipient = m.recipient;
  out.type = m.type;
  out.body = m.body;
  out.in_reply_to = m.in_reply_to;
  out.consent_record_id = consent_record;
  out.created_at = now;
  {
    ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kWrite));
    out.thread_id = out.id;
    if (!m.in_reply_to.empty()) {
      ZG_ASSIGN_OR_RETURN(auto parent, tx->Query("SELECT thread_id FROM finding_messages "
                                                 "WHERE id = $1 AND finding_id = $2",
                                                 {Text(m.in_reply_to), Text(f.id)}));
      if (parent.empty()) {
        return BadField("in_reply_to", "in_reply_to names no message of this finding");
      }
      out.thread_id = parent.rows[0].Text(0);
    }
    ZG_ASSIGN_OR_RETURN(auto mseq, tx->Query("SELECT COALESCE(MAX(seq), 0) FROM "
                                             "finding_messages WHERE finding_id = $1",
                                             {Text(f.id)}));
    out.seq = mseq.rows[0].Int(0) + 1;
    auto inserted = tx->Exec(
        "INSERT INTO finding_messages (id, finding_id, seq, thread_id, in_reply_to, party, "
        "organisation_id, user_id, recipient, type, body, consent_record_id, created_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        {Text(out.id), Text(f.id), Int(out.seq), Text(out.thread_id),
         out.in_reply_to.empty() ? Null() : Text(out.in_reply_to), Text(out.party),
         Text(out.organisation), Text(out.user), Text(out.recipient), Text(out.type),
         Text(out.body), consent_record.empty() ? Null() : Text(consent_record), Text(now)});
    if (!inserted.ok()) {
      if (inserted.error().code == "unique_violation") {
        return Conflict("concurrent_change", "another message was posted at once; retry");
      }
      return inserted.error();
    }
    // The sender has read their own message.
    ZG_RETURN_IF_ERROR(tx->Exec("INSERT INTO finding_message_reads (message_id, user_id, "
                                "organisation_id, read_at) VALUES ($1, $2, $3, $4)",
                                {Text(out.id), Text(actor.user), Text(actor.organisation),
                                 Text(now)}));
    ZG_RETURN_IF_ERROR(audit_.AppendInTransaction(
        *tx, {.actor = actor.user,
              .source = actor.source,
              .action = "finding.message",
              .resource = "finding/" + f.id,
              .decision = "allow",
              .reason = fmt::format("{} message from {}", out.type, out.party),
              .request_id = actor.request_id,
              .details = json{{"message", out.id},
                              {"seq", out.seq},
                              {"thread", out.thread_id},
                              {"recipient", out.recipient},
                              {"consent_record", consent_record}}
                             .dump()}));
    ZG_RETURN_IF_ERROR(tx->Commit());
  }
  out.read_by.push_back({actor.user, actor.organisation, now});
  if (!consent_record.empty()) {
    // The new consent may stop (or free) the finding at once.
    ZG_ASSIGN_OR_RETURN(FindingDetail latest, Get(f.id));
    Finding cur = latest.finding;
    ZG_ASSIGN_OR_RETURN(const bool moved, Reconcile(cur));
    (void)moved;
  }
  return out;
}

Result<std::vector<Message>> Findings::Messages(std::string_view finding_id) {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(Finding f, ReadFinding(*tx, finding_id));
  ZG_ASSIGN_OR_RETURN(
      auto rows,
      tx->Query("SELECT id, seq, thread_id, in_reply_to, party, organisation_id, user_id, "
                "recipient, type, body, consent_record_id, created_at FROM finding_messages "
                "WHERE finding_id = $1 ORDER BY seq",
                {Text(f.id)}));
  ZG_ASSIGN_OR_RETURN(
      auto reads,
      tx->Query("SELECT r.message_id, r.user_id, r.organisation_id, r.read_at "
                "FROM finding_message_reads r JOIN finding_messages m ON m.id = r.message_id "
                "WHERE m.finding_id = $1 ORDER BY r.read_at, r.user_id",
                {Text(f.id)}));
  std::vector<Message> out;
  for (const auto& r : rows.rows) {
    Message m;
    m.id = r.Text(0);
    m.finding_id = f.id;
    m.seq = r.Int(1);
    m.thread_id = r.Text(2);
    m.in_reply_to = r.IsNull(3) ? "" : r.Text(3);
    m.party = r.Text(4);
    m.organisation = r.Text(5);
    m.user = r.Text(6);
    m.recipient = r.Text(7);
    m.type = r.Text(8);
    m.body = r.Text(9);
    m.consent_record_id = r.IsNull(10) ? "" : r.Text(10);
    m.created_at = r.Text(11);
    for (const auto& rr : reads.rows) {
      if (rr.Text(0) == m.id) m.read_by.push_back({rr.Text(1), rr.Text(2), rr.Text(3)});
    }
    out.push_back(std::move(m));
  }
  return out;
}

Result<int64_t> Findings::MarkRead(std::string_view finding_id, int64_t up_to_seq,
                                   const Actor& actor) {
  if (up_to_seq < 0) return BadField("up_to_seq", "up_to_seq must be 0 (all) or positive");
  ZG_ASSIGN_OR_RETURN(FindingDetail d, Get(finding_id));
  if (!Visible(d.finding, actor)) return NotFound("finding_not_found", "no such finding");
  const std::string now = FormatRfc3339(clock_.Now());
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kWrite));
  ZG_ASSIGN_OR_RETURN(
      auto unread,
      tx->Query("SELECT m.id FROM finding_messages m WHERE m.finding_id = $1 AND "
                "($2 = 0 OR m.seq <= $2) AND NOT EXISTS (SELECT 1 FROM finding_message_reads r "
                "WHERE r.message_id = m.id AND r.user_id = $3) ORDER BY m.seq",
                {Text(d.finding.id), Int(up_to_seq), Text(actor.user)}));
  for (const auto& r : unread.rows) {
    ZG_RETURN_IF_ERROR(tx->Exec("INSERT INTO finding_message_reads (message_id, user_id, "
                                "organisation_id, read_at) VALUES ($1, $2, $3, $4)",
                                {Text(r.Text(0)), Text(actor.user), Text(actor.organisation),
                                 Text(now)}));
  }
  const auto count = static_cast<int64_t>(unread.rows.size());
  if (count > 0) {
    ZG_RETURN_IF_ERROR(audit_.AppendInTransaction(
        *tx,
        {.actor = actor.user,
         .source = actor.source,
         .action = "finding.message",
         .resource = "finding/" + d.finding.id,
         .decision = "allow",
         .reason = "read receipt",
         .request_id = actor.request_id,
         .details =
             json{{"read", count}, {"up_to_seq", up_to_seq}, {"organisation", actor.organisation}}
                 .dump()}));
  }
  ZG_RETURN_IF_ERROR(tx->Commit());
  return count;
}

Result<TickSummary> Findings::Tick() {
  TickSummary s;
  ZG_ASSIGN_OR_RETURN(Settings settings, GetSettings());
  std::vector<std::string> ids;
  {
    ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
    ZG_ASSIGN_OR_RETURN(auto rows, tx->Query("SELECT id, state FROM findings ORDER BY id"));
    for (const auto& r : rows.rows) {
      if (Open(r.Text(1))) ids.push_back(r.Text(0));
    }
  }
  for (const auto& id : ids) {
    ++s.checked;
    ZG_ASSIGN_OR_RETURN(FindingDetail d, Get(id));
    Finding f = d.finding;
    ZG_ASSIGN_OR_RETURN(const bool moved, Reconcile(f));
    if (moved) {
      ++s.consent_moves;
      continue;
    }
    for (std::string_view event : {"escalate", "contact_window_expired"}) {
      const Transition* t = FindTransition(f.state, event);
      if (t == nullptr) continue;
      ZG_ASSIGN_OR_RETURN(ConsentView c, Consent(f));
      const GuardContext gc{&f, c, "system", clock_.Now(), settings, nullptr};
      if (!CheckGuard(t->guard, gc).ok()) continue;
      StepInput in{.event = std::string(event),
                   .reason = event == "escalate"
                                 ? fmt::format("not acknowledged within {} days",
                                               settings.ack_sla_days)
                                 : fmt::format("not reached within {} days",
                                               settings.contact_window_days)};
      auto applied = Apply(f, *t, in, SystemActor(), c);
      if (!applied.ok()) {
        if (applied.error().code == "concurrent_change") continue;  // someone acted: fine
        return applied.error();
      }
      if (event == "escalate") ++s.escalated;
      if (event == "contact_window_expired") ++s.unreachable;
    }
  }
  return s;
}

}  // namespace zengen::findings
