// Consent: versioned informed-consent forms (ICF), the per-participant consent ledger, the
// data-use profile derived from it, and the Permits decision every downstream use asks
// (R5.1-R5.4; domain: clinical-and-consent.md §5, ga4gh.md §6).
//
// ICF documents are versioned per program and language (`icf_versions`); each pins an item
// catalogue (C01-C15, class MANDATORY | OPT_OUT | OPT_IN, DUO mapping). A participant's consent
// is a chain of `consent_records` rows (seq 1, 2, …; each supersedes the previous one); the
// highest seq is current. Rows are only ever inserted: the whole history stays queryable.
//
// Lifecycle (TransitionTable() is the single source of truth, tested row by row). Every
// (state, event) pair not listed is refused with kConflict "invalid_consent_transition":
//
//   none                  + initial                → active
//   active                + modification           → active
//   active                + reconsent              → active
//   active                + withdrawal:no_contact  → withdrawn_no_contact
//   active                + withdrawal:no_new_data → withdrawn_no_new_data
//   active                + withdrawal:full        → withdrawn_full
//   withdrawn_no_contact  + modification           → active (restores contact)
//   withdrawn_no_contact  + reconsent              → active
//   withdrawn_no_contact  + withdrawal:no_new_data → withdrawn_no_new_data
//   withdrawn_no_contact  + withdrawal:full        → withdrawn_full
//   withdrawn_no_new_data + modification           → withdrawn_no_new_data
//   withdrawn_no_new_data + reconsent              → active
//   withdrawn_no_new_data + withdrawal:full        → withdrawn_full
//   withdrawn_full        : terminal
//
// Withdrawal levels are ordered no_contact < no_new_data < full and only become stricter.
// A no_contact withdrawal forces C09-C13 (findings return, relative, recontact) to deny in the new
// record; those decisions are carried forward, so a later no_new_data withdrawal still allows no
// contact. A modification from withdrawn_no_contact is how a participant restores contact (the
// state becomes active); a modification from withdrawn_no_new_data may change OPT_* items but the
// no-new-data withdrawal stays in force (only signing a newer ICF, a reconsent, lifts it). Full
// withdrawal is terminal. To add no-contact to a no-new-data withdrawal, a modification denies
// C09-C13.
//
// Guards beyond the table: initial/reconsent name an ICF of the participant's program; a
// modification keeps the current ICF version (any language of it) and cannot change a
// MANDATORY item; a reconsent needs a strictly newer version (the language may differ).
//
// Thread safety: Ledger and Permits are thread-safe (the Store is); nothing is cached.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/audit_event.h"
#include "common/clock.h"
#include "common/result.h"
#include "storage/store.h"

namespace zengen::consent {

// ---- ICF catalogue --------------------------------------------------------------------------

enum class ItemClass { kMandatory, kOptOut, kOptIn };
std::string_view ItemClassName(ItemClass c);  // "MANDATORY" | "OPT_OUT" | "OPT_IN"
std::optional<ItemClass> ParseItemClass(std::string_view s);

struct IcfItem {
  std::string code;  // "C01" … "C15"
  ItemClass item_class = ItemClass::kOptIn;
  std::string label_ja;
  std::string label_en;
  // DUO shorthand this item maps to, or "". Permission codes (GRU, HMB, DS) and CC apply when
  // the item is permitted; restriction codes apply when it is not: NCU (industry use denied →
  // NCU and NPU) and GS (overseas deposit denied). See DeriveProfile.
  std::string duo;
};

struct IcfVersion {
  std::string program;         // cancer | rare_disease
  std::string version;         // dotted numbers, e.g. "1.0", "1.2.1"
  std::string language;        // ja | en
  std::string effective_date;  // YYYY-MM-DD
  std::vector<IcfItem> items;
  std::string created_by;
  std::string created_at;
};

// The program's default catalogue (C01-C15). Classes differ by program: C04 (broad future
// research) is MANDATORY for cancer and OPT_OUT for rare disease, C05 (industry use) and C06
// (overseas deposit) MANDATORY for cancer and OPT_OUT for rare disease. Empty for an unknown
// program.
std::vector<IcfItem> DefaultCatalogue(std::string_view program);

// Checks a catalogue: at least one item, codes unique and of the form [A-Z][0-9]{2}, DUO
// shorthand empty or known, the label of `language` present (≤ 1000 bytes each).
// Errors: kInvalidArgument naming the field, e.g. "items[3].code".
Status ValidateCatalogue(const std::vector<IcfItem>& items, std::string_view language);

nlohmann::json IcfJson(const IcfVersion& icf);
nlohmann::json CatalogueJson(const std::vector<IcfItem>& items);
// Parses the `items` array of an ICF (API body or stored column). Errors name the field.
Result<std::vector<IcfItem>> ParseCatalogue(const nlohmann::json& items);

// Seeds ICF "1.0" of both programs in ja and en when absent. Idempotent and safe to run
// concurrently at every start, on both backends.
Status EnsureDefaultIcf(storage::Store& store, const Clock& clock);

// True when dotted version a is older than b ("1.9" < "1.10" < "2").
bool VersionLess(std::string_view a, std::string_view b);

// ---- Consent records and lifecycle ---------------------------------------------------------

enum class State { kNone, kActive, kWithdrawnNoContact, kWithdrawnNoNewData, kWithdrawnFull };
enum class Event {
  kInitial,
  kModification,
  kReconsent,
  kWithdrawNoContact,
  kWithdrawNoNewData,
  kWithdrawFull,
};
std::string_view StateName(State s);  // none, active, withdrawn_no_contact, …
// initial, modification, reconsent, withdrawal:no_contact, withdrawal:no_new_data, withdrawal:full
std::string_view EventName(Event e);

struct Transition {
  State from;
  Event event;
  State to;
};
// Every allowed transition; a (state, event) pair not listed is refused.
std::span<const Transition> TransitionTable();
// The state after event, or kConflict "invalid_consent_transition" naming state and event.
Result<State> Next(State from, Event event);

struct ConsentRecord {
  std::string id;
  std::string participant_id;
  int64_t seq = 0;
  std::string kind;              // initial | modification | reconsent | withdrawal
  std::string withdrawal_level;  // level in force after this record: "" | no_contact | …
  std::string icf_version;
  std::string icf_language;
  std::map<std::string, std::string> decisions;  // code -> permit | deny | undecided
  nlohmann::json details = nlohmann::json::object();
  std::string signed_date;
  std::string supersedes;  // "" for the first record
  std::string recorded_by;
  std::string recorded_at;

  State state() const;  // the state this record puts the participant in
};

// What the caller gives for initial, modification and reconsent.
struct ConsentInput {
  std::string kind;  // initial | modification | reconsent
  std::string icf_version;
  std::string language;
  std::map<std::string, std::string> decisions;
  std::string signed_date;  // YYYY-MM-DD, not in the future
  // {signer: self | legal_representative | self_plus_representative, method: paper |
  //  electronic, representative: {name, relationship: parent | spouse | child | sibling |
  //  guardian | other} (required unless signer is self), designated_relative?: {name, contact}
  //  (C11), preferred_channel?: hospital | app | post (C15), assent?: bool, note?: string}
  nlohmann::json details = nlohmann::json::object();
};

struct WithdrawalInput {
  std::string level;  // no_contact | no_new_data | full
  std::string signed_date;
  std::string reason;  // free text, ≤ 2000 bytes, may be empty
};

struct Actor {
  std::string id;          // user or token id
  std::string source;      // IP address or "cli"
  std::string request_id;  // empty outside requests
};

// ---- Data-use profile and Permits ----------------------------------------------------------

struct DataUseProfile {
  bool any_use = false;          // false without a consent or after full withdrawal
  std::string withdrawal_level;  // "" | no_contact | no_new_data | full
  std::string primary;           // GRU | HMB | DS | "" (no use)
  std::string disease;           // DS only: the participant's disease category
  std::vector<std::string>
      duo;  // shorthand codes: primary first, then modifiers (NCU, NPU, GS, CC)
  bool linkage_allowed = false;                  // C07, not withdrawn from new data
  bool new_data_allowed = false;                 // not withdrawn from new data
  bool additional_samples_allowed = false;       // C08 and new data allowed
  bool recontact_allowed = false;                // C12 or C13, not withdrawn from contact
  bool recontact_new_studies = false;            // C12
  bool recontact_reinterpretation = false;       // C13
  bool primary_findings_return = false;          // C09
  std::string secondary_findings = "undecided";  // want | dont_want | undecided (C10)
  bool designated_relative = false;              // C11 permitted and a contact recorded
  bool residual_sample_storage = false;          // C14
};

// The profile of a record (nullopt: no consent → no use). disease is the participant's disease
// category, used for DS. Only an explicit "permit" grants anything; "undecided" counts as deny.
DataUseProfile DeriveProfile(const std::optional<ConsentRecord>& current,
                             const std::vector<IcfItem>& catalogue, std::string_view disease);
nlohmann::json ProfileJson(const DataUseProfile& p);
// DUO:00000xx for a shorthand, or "" when unknown.
std::string_view DuoId(std::string_view shorthand);

struct Purpose {
  enum class Kind {
    kResearch,
    kLinkage,
    kNewData,
    kRecontact,
    kPrimaryFindings,
    kSecondaryFindings,
  };
  Kind kind = Kind::kResearch;
  // Research only: GRU (general, incl. population/ancestry), HMB (health research) or DS
  // (research on `disease`).
  std::string category = "HMB";
  std::string disease;
  bool commercial = false;  // commercial purpose or a for-profit requester
  bool overseas = false;    // data leave the country
  bool methods_development = false;
  // Recontact only: false = a new study or trial (C12), true = a re-interpreted result (C13).
  bool reinterpretation = false;
};
std::optional<Purpose::Kind> ParsePurposeKind(std::string_view s);

struct Decision {
  bool allowed = false;
  std::string reason;
};

// Decides a purpose against a profile (the DUO matching rules of ga4gh.md §6.2 for research).
// DS matches only the same disease term: no ontology is loaded yet, so "an ancestor of X"
// matching is not possible and the conservative answer is no.
Decision Match(const DataUseProfile& profile, const Purpose& purpose);

// Reads the participant's current consent live from the store (no caching: a withdrawal takes
// effect for the very next call) and decides. No consent record → never permitted.
// Errors: kNotFound "participant_not_found"; kInvalidArgument for a malformed purpose; store
// errors.
Result<Decision> Permits(storage::Store& store, std::string_view participant_id,
                         const Purpose& purpose);

// An HL7 FHIR R4 Consent resource for one record (scope research, patient Patient/<pseudonym>,
// policy = the ICF version, one nested provision per decided item). `current` says whether the
// record is the participant's current one (superseded records are "inactive").
nlohmann::json FhirConsent(const ConsentRecord& record, const IcfVersion& icf, bool current);

nlohmann::json RecordJson(const ConsentRecord& r);

// ---- The ledger ----------------------------------------------------------------------------

struct ConsentStatus {
  std::string participant_id;
  std::string program;
  State state = State::kNone;
  std::optional<ConsentRecord> current;
  DataUseProfile profile;
  std::vector<ConsentRecord> history;  // oldest first
};

struct WithdrawalResult {
  ConsentRecord record;
  // Downstream holders (recipients of releases, grants, passports) to notify of the
  // withdrawal. Always empty today: no data sharing exists yet, so nothing has been released
  // to anyone; the release module fills it when it is built.
  std::vector<std::string> notify;
};

class Ledger {
 public:
  Ledger(storage::Store& store, const Clock& clock, AuditSink& audit);

  storage::Store& store() { return store_; }

  // Data steward registers a new ICF version. Errors: kInvalidArgument naming the field;
  // kConflict "icf_version_exists".
  Result<IcfVersion> RegisterIcfVersion(const IcfVersion& icf, const Actor& actor);
  // All versions (without catalogue), ordered by program, version, language.
  Result<std::vector<IcfVersion>> ListIcfVersions();
  // Errors: kNotFound "icf_not_found".
  Result<IcfVersion> GetIcf(std::string_view program, std::string_view version,
                            std::string_view language);

  // Records an initial consent, a modification or a reconsent. Errors: kNotFound
  // "participant_not_found" / "icf_not_found"; kInvalidArgument naming the field
  // ("decisions.C99", "signed_date", "details.signer", …), "mandatory_item_denied" naming the
  // item; kConflict "invalid_consent_transition" or a guard's code.
  Result<ConsentRecord> Record(std::string_view participant_id, const ConsentInput& in,
                               const Actor& actor);
  // Records a withdrawal. Errors as Record.
  Result<WithdrawalResult> Withdraw(std::string_view participant_id, const WithdrawalInput& in,
                                    const Actor& actor);
  // Current state, record, profile and full history. Errors: kNotFound.
  Result<ConsentStatus> Current(std::string_view participant_id);
  // The current state alone, from the latest record (one indexed read, no history, no ICF):
  // for access decisions made per request (issue 12, the access gate). kNone when the
  // participant has no record, or is unknown.
  Result<State> CurrentState(std::string_view participant_id);
  // How many consent records were ever appended (records are never changed or removed): the
  // number changes whenever any participant's consent changes, so a precomputed public figure
  // (variants' portal frequencies) can tell that it is stale.
  Result<int64_t> Changes();

 private:
  Result<ConsentRecord> Append(std::string_view participant_id, Event event, const ConsentInput& in,
                               const std::string& reason, const Actor& actor);

  storage::Store& store_;
  const Clock& clock_;
  AuditSink& audit_;
};

}  // namespace zengen::consent
