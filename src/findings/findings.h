// Findings: return of results and recontact (R1.1, R5.3-R5.7; domain:
// shared/docs/domain/clinical-and-consent.md §6-§7).
//
// An analyst of an analysis centre (AC) files a finding for a participant (pseudonym only: the
// AC never sees identity, R5.6). The finding then moves along the per-finding state machine of
// the domain document. TransitionTable() is the single source of truth; each row names the
// state it leaves, the event, the state it enters, the party that may make it and a guard.
// Everything not in the table is refused.
//
//   detected -classify-> triaged -submit_review-> expert_review -approve-> consent_check
//   triaged -not_reportable-> closed_not_reportable;  expert_review -reject-> closed_not_reportable
//   consent_check -consent_permits-> sent_to_sh | -consent_denies-> closed_by_preference
//                 -consent_undecided-> ask_preference_via_sh -record_preference-> consent_check
//   sent_to_sh -acknowledge-> sh_review;  sent_to_sh -escalate (SLA)-> escalated -resend-> sent_to_sh
//   sh_review -site_decline-> closed_site_decision | -start_contact-> contacting
//   contacting -reached-> pre_disclosure_counselling | -unreachable-> unreachable
//              -contact_updated-> contacting
//   pre_disclosure_counselling -patient_declines-> closed_by_preference
//              -order_confirmatory_test (germline)-> confirmatory_test
//              -disclose (somatic)-> disclosed
//   confirmatory_test -test_positive-> disclosed | -test_negative-> disclosed_not_confirmed
//   disclosed -start_follow_up-> follow_up -close_returned-> closed_returned
//   any open state -withdraw (full withdrawal)-> closed_withdrawn
//   any open state -reclassify-> reclassified (a new finding in detected, linked to the old)
//
// Decisions recorded here:
//   - Consent is re-checked at every transition, not only at the consent check. Before any
//     requested step the finding is reconciled with the participant's live consent
//     (Reconcile): a full withdrawal closes it as withdrawn; once approved (sent_to_sh …
//     follow_up), a consent that now denies the return closes it by preference, and one that is
//     undecided again sends it back to ask_preference_via_sh. The consent_check rows are applied
//     by the system as soon as a finding enters consent_check. If reconciling moved the finding,
//     the requested step is refused with kConflict "consent_changed".
//   - Which consent item governs return: C09 for primary findings, C10 for secondary findings,
//     C13 for re-interpretations. A no-contact withdrawal denies all three (consent module).
//     No consent record at all denies.
//   - Expert review is four-eyes: the analyst who approves or rejects is not the one who filed.
//   - Secondary findings: germline only, classified pathogenic or likely pathogenic, in a gene
//     on the configured ACMG SF version, which the finding records.
//   - The hospital sees a finding only once it has been sent to it (ask_preference_via_sh or
//     sent_to_sh reached once): before that it is the AC's working material.
//   - SLA: a finding left in sent_to_sh longer than Settings::ack_sla_days escalates by itself
//     (Tick), with a status message to every party; the data centre re-sends it (resetting the
//     timer) or the hospital acknowledges it. A finding left in contacting longer than
//     Settings::contact_window_days becomes unreachable by itself; the hospital may declare it
//     unreachable after kMinContactAttempts recorded attempts.
//   - A preference the patient states during recontact (record_preference, patient_declines,
//     or a preference_change message) becomes a new consent record through the consent
//     Ledger's modification path, recorded before the finding moves: if the finding step then
//     loses a race, the patient's stated preference still stands, as it should.
//
// Thread-safe: all state lives in the metadata store. A step updates the finding with
// `WHERE version = <the version read>`, so of two concurrent steps only one applies; the other
// gets kConflict "concurrent_change". Every state change is audited ("finding.transition",
// "finding.write", "finding.message", "finding.configure").
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/actor.h"
#include "common/audit_event.h"
#include "common/clock.h"
#include "common/result.h"
#include "consent/consent.h"
#include "policy/policy.h"
#include "storage/store.h"

namespace zengen::findings {

inline constexpr std::string_view kStates[] = {
    "detected",         "triaged",         "expert_review",
    "consent_check",    "ask_preference_via_sh", "sent_to_sh",
    "escalated",        "sh_review",       "contacting",
    "unreachable",      "pre_disclosure_counselling", "confirmatory_test",
    "disclosed",        "follow_up",       "closed_not_reportable",
    "closed_by_preference", "closed_site_decision", "disclosed_not_confirmed",
    "closed_returned",  "closed_withdrawn", "reclassified"};
inline constexpr std::string_view kTerminalStates[] = {
    "closed_not_reportable", "closed_by_preference", "closed_site_decision",
    "disclosed_not_confirmed", "closed_returned", "closed_withdrawn", "reclassified"};
// States after the expert panel approved and the consent check let it through: here a consent
// that no longer permits return stops the finding.
inline constexpr std::string_view kGatedStates[] = {
    "sent_to_sh", "escalated", "sh_review", "contacting", "unreachable",
    "pre_disclosure_counselling", "confirmatory_test", "disclosed", "follow_up"};
inline constexpr std::string_view kOrigins[] = {"somatic", "germline"};
inline constexpr std::string_view kCategories[] = {"primary", "secondary", "reinterpretation"};
inline constexpr std::string_view kClassifications[] = {
    "pathogenic", "likely_pathogenic", "uncertain_significance", "likely_benign", "benign"};
inline constexpr std::string_view kSiteDeclineReasons[] = {
    "patient_deceased", "clinical_judgement", "patient_lost_to_follow_up", "other"};
inline constexpr std::string_view kMessageTypes[] = {"question", "answer", "preference_change",
                                                     "ack",      "status", "note"};
inline constexpr std::string_view kParties[] = {"analysis_center", "data_center", "hospital",
                                                "patient"};
inline constexpr int kMinContactAttempts = 3;
inline constexpr size_t kMaxTextBytes = 4000;
inline constexpr size_t kMaxReasonBytes = 2000;

bool IsState(std::string_view s);
bool IsTerminal(std::string_view state);
bool IsGated(std::string_view state);

// Who may make a step.
enum class Party {
  kAnalysisCentre,  // an analyst of the analysis centre that filed the finding
  kDataCentre,      // a data steward
  kHospital,        // a clinician of the participant's hospital
  kSystem,          // Zengen itself (consent reconciliation, SLA timers)
  kAny,             // any of the above
};
std::string_view PartyName(Party p);

enum class Guard {
  kNone,
  kFourEyes,            // the actor did not file the finding
  kReportable,          // classification worth returning (P/LP for secondary; not (L)B)
  kConsentPermits,      // the governing consent item permits return
  kConsentDenies,       // it denies (or the participant withdrew from contact)
  kConsentUndecided,    // it is undecided
  kConsentKnown,        // it is no longer undecided
  kFullWithdrawal,      // the participant withdrew fully
  kGermline,            // origin germline (a confirmatory clinical test comes first)
  kSomatic,             // origin somatic
  kContactAttempts,     // at least kMinContactAttempts recorded attempts
  kContactWindowOver,   // in contacting longer than the contact window
  kSlaOverdue,          // in sent_to_sh longer than the acknowledgement SLA
  kSiteDecline,         // "patient_deceased" only when no designated relative (C11)
  kContactVia,          // via designated_relative only when one is designated (C11)
};
std::string_view GuardName(Guard g);

struct Transition {
  std::string_view from;
  std::string_view event;
  std::string_view to;
  Party party = Party::kHospital;
  Guard guard = Guard::kNone;
  bool needs_reason = false;       // free-text reason required
  bool needs_reason_code = false;  // one of kSiteDeclineReasons
  bool needs_decision = false;     // want | dont_want: becomes a consent record
  bool needs_via = false;          // participant | designated_relative
  std::string_view description;
};

// The whole state machine, one row per allowed step (wildcard rows expanded per state).
const std::vector<Transition>& TransitionTable();
// The row for (from, event), or nullptr.
const Transition* FindTransition(std::string_view from, std::string_view event);
// Events the table allows from a state, in table order (all parties).
std::vector<std::string> EventsFrom(std::string_view from);

// ---- consent ---------------------------------------------------------------------------------

enum class Verdict { kPermit, kDeny, kUndecided, kWithdrawn };
std::string_view VerdictName(Verdict v);

struct ConsentView {
  Verdict verdict = Verdict::kDeny;
  std::string item;    // governing item: C09 | C10 | C13
  std::string reason;  // in words, for the audit record and the parties
  bool designated_relative = false;  // C11 permitted with a contact recorded
};

// The item that governs return for a category: C09, C10 or C13.
std::string_view GoverningItem(std::string_view category);
// Evaluates the participant's live consent status for a finding of `category`. Pure.
ConsentView EvaluateConsent(std::string_view category, const consent::ConsentStatus& status);

// ---- records ---------------------------------------------------------------------------------

using Actor = ::zengen::Actor;  // common/actor.h
// The actor of automatic steps (reconciliation, SLA timers).
Actor SystemActor();

struct Finding {
  std::string id;  // FD- and 16 upper-case hex characters
  std::string participant_id;
  std::string hospital;         // the participant's hospital
  std::string analysis_center;  // the filing organisation
  std::string gene;
  std::string variant;  // HGVS
  std::string origin;
  std::string category;
  std::string classification;
  std::string evidence;
  std::string acmg_sf_version;  // secondary findings; "" otherwise
  std::string state;
  std::string state_since;  // RFC 3339
  int64_t contact_attempts = 0;
  bool sent_to_hospital = false;
  std::string supersedes;     // the finding this one re-interprets, or ""
  std::string superseded_by;  // the re-interpretation of this one, or ""
  std::string filed_by;
  std::string filed_at;
  int64_t version = 0;
};

struct Event {
  int64_t seq = 0;  // 1 is the filing
  std::string event;
  std::string from;
  std::string to;
  std::string party;
  std::string organisation;
  std::string user;
  std::string time;
  std::string reason;
  std::string details;  // JSON object: consent verdict, reason code, decision, …
};

struct FindingDetail {
  Finding finding;
  std::vector<Event> history;
};

struct NewFinding {
  std::string participant_id;
  std::string gene;            // HGNC symbol
  std::string variant;         // HGVS, e.g. NM_007294.4:c.68_69del
  std::string origin;          // kOrigins
  std::string category;        // kCategories
  std::string classification;  // kClassifications
  std::string evidence;        // 1..kMaxTextBytes
  std::string acmg_sf_version;  // secondary only; empty = the configured version
};

struct StepInput {
  std::string event;
  std::string reason;
  std::string reason_code;  // site_decline
  std::string decision;     // record_preference: want | dont_want
  std::string via;          // reached: participant | designated_relative
};

struct Reclassification {
  std::string classification;
  std::string evidence;
};

struct Settings {
  std::string acmg_sf_version = "3.2";
  int64_t ack_sla_days = 14;
  int64_t contact_window_days = 90;
};

struct Message {
  std::string id;
  std::string finding_id;
  int64_t seq = 0;
  std::string thread_id;  // the first message of its thread
  std::string in_reply_to;
  std::string party;  // kParties
  std::string organisation;
  std::string user;
  std::string recipient;  // analysis_center | data_center | hospital | all
  std::string type;       // kMessageTypes
  std::string body;
  std::string consent_record_id;  // preference_change: the consent record it made
  std::string created_at;
  struct Read {
    std::string user;
    std::string organisation;
    std::string read_at;
  };
  std::vector<Read> read_by;
};

struct NewMessage {
  std::string type;
  std::string body;
  std::string recipient = "all";
  std::string in_reply_to;
  bool from_patient = false;  // the hospital records the patient's words
  std::string decision;       // preference_change: want | dont_want
};

struct TickSummary {
  int64_t checked = 0;
  int64_t escalated = 0;
  int64_t unreachable = 0;
  int64_t consent_moves = 0;  // steps forced by the live consent (incl. withdrawals)
};

// The inputs of a guard. Pure data, so guards are testable without a store.
struct GuardContext {
  const Finding* finding = nullptr;
  ConsentView consent;
  std::string actor_user;
  std::chrono::system_clock::time_point now;
  Settings settings;
  const StepInput* input = nullptr;
};
// Ok when the guard holds; otherwise the error to answer with (kConflict with a guard code,
// kPermissionDenied "four_eyes_required").
Status CheckGuard(Guard g, const GuardContext& c);

// The step consent forces on a finding, if any (withdraw, consent_* rows). Pure.
const Transition* ForcedByConsent(const Finding& f, const ConsentView& c);

class Findings {
 public:
  Findings(storage::Store& store, const Clock& clock, AuditSink& audit, consent::Ledger& ledger);

  // Files a finding in state detected. Errors: kInvalidArgument naming the field;
  // kPermissionDenied "not_analysis_center" (not an analyst of an analysis centre) or
  // "not_participant_analyst" (the centre took custody `analysed` of none of the participant's
  // specimens), both audited and decided before the participant's existence or consent is
  // looked at; kNotFound "participant_not_found";
  // kConflict "participant_withdrawn", "gene_not_in_acmg_sf", "acmg_sf_version_not_active",
  // "secondary_must_be_germline", "secondary_must_be_pathogenic".
  Result<FindingDetail> File(const NewFinding& n, const Actor& actor);

  // Makes one step. See the header comment for the order of checks. Errors: kInvalidArgument
  // ("invalid_event", "missing_field", "unexpected_field", "invalid_<field>"); kNotFound
  // "finding_not_found"; kConflict "invalid_transition", "consent_changed", a guard's code,
  // "concurrent_change"; kPermissionDenied "wrong_party", "four_eyes_required".
  Result<FindingDetail> Step(std::string_view id, const StepInput& in, const Actor& actor);

  // Re-interprets a finding: a new finding in detected (category reinterpretation) linked to
  // the old one, which becomes reclassified if still open. Errors as File and Step.
  Result<FindingDetail> Reclassify(std::string_view id, const Reclassification& r,
                                   const Actor& actor);

  // Errors: kNotFound "finding_not_found".
  Result<FindingDetail> Get(std::string_view id);
  // The finding without its history: one row read (what a route's resolver decides on).
  // Errors: kNotFound "finding_not_found".
  Result<Finding> Find(std::string_view id);
  // Findings visible to the actor: an analysis centre's own, a hospital's sent ones, all for a
  // data steward. Optional filters by state and participant. Ordered by filing time, then id.
  Result<std::vector<Finding>> List(const Actor& actor, std::string_view state,
                                    std::string_view participant);
  // The participant's hospital-local patient id (for the hospital's own staff only).
  Result<std::string> LocalId(std::string_view participant_id);
  // An organisation's display name ("" when unknown).
  Result<std::string> OrganisationName(std::string_view id);
  // The display name of a user ("" when unknown), for the report's contact line.
  Result<std::string> UserDisplayName(std::string_view id);

  // Whether the actor may see the finding at all (a hospital only once it was sent).
  bool Visible(const Finding& f, const Actor& actor) const;
  // The events the actor's party may make now, in table order.
  std::vector<std::string> AllowedEvents(const Finding& f, const Actor& actor) const;

  Result<ConsentView> Consent(const Finding& f);

  // Messages. Errors: kNotFound "finding_not_found" (also when not visible); kInvalidArgument
  // naming the field; kPermissionDenied "wrong_party" (patient words and preference changes
  // come from the hospital only).
  Result<Message> Post(std::string_view finding_id, const NewMessage& m, const Actor& actor);
  Result<std::vector<Message>> Messages(std::string_view finding_id);
  // Marks the finding's messages up to seq (0: all) read by the actor; returns how many were
  // newly marked.
  Result<int64_t> MarkRead(std::string_view finding_id, int64_t up_to_seq, const Actor& actor);

  Result<Settings> GetSettings();
  // Errors: kInvalidArgument naming the field (unknown ACMG SF version, days out of range).
  Result<Settings> PutSettings(const Settings& s, const Actor& actor);

  // Applies consent reconciliation and the SLA timers to every open finding.
  Result<TickSummary> Tick();


 private:
  Result<FindingDetail> Apply(const Finding& f, const Transition& t, const StepInput& in,
                              const Actor& actor, const ConsentView& consent);
  // Applies forced consent steps until none applies; returns whether the state changed.
  Result<bool> Reconcile(Finding& f);
  Result<std::string> RecordPreference(const Finding& f, std::string_view decision,
                                       const Actor& actor);
  Status AuditDenial(const Actor& actor, const std::string& resource, const Error& e,
                     std::string action = "finding.transition");

  storage::Store& store_;
  const Clock& clock_;
  AuditSink& audit_;
  consent::Ledger& ledger_;
};

}  // namespace zengen::findings
