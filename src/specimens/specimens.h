// Specimens and their chain of custody, from collection through sequencing to analysis (R3.4;
// shared/docs/domain/clinical-and-consent.md §3.2).
//
// A clinician of the participant's hospital registers a specimen; it starts in state
// `collected`, held by that hospital. Custody events then move it along the transition table
// (CustodyTable()): each row names the state it leaves, the state it enters, the role that may
// make the step, which organisation that person must belong to, and where the specimen is held
// afterwards. Everything not in the table is refused.
//
//   collected -> shipped -> received -> library_prepared -> sequenced -> qc_passed -> analysed
//                 ^   |         ^                                      |
//                 |   v         +------ qc_failed <--------------------+
//               rejected           (re-sequencing)
//
// Decisions recorded here:
//   - qc_failed is not a dead end: the facility holding the specimen may send it back to
//     `received` (a new library from the remaining material). Nothing else leaves qc_failed.
//   - `analysed` is terminal, and only reachable from qc_passed.
//   - While a specimen is `shipped` the hospital still holds it; the destination facility is
//     recorded in the shipping event and becomes the holder when it records receipt.
//   - The destination facility may refuse a shipment (shipped -> rejected), giving a reason
//     (`note`, required); the hospital keeps the specimen and may ship it again (rejected ->
//     shipped, to the same or another facility).
//   - Only the analysis centre named by the specimen's open analysis order
//     (analysis_orders.h) may take it on (qc_passed -> analysed); it becomes the holder, and
//     the order becomes `started` in the same transaction. A centre without an order is
//     refused, so it never becomes the holder and never reads the specimen's files.
//   - When a specimen passes QC without an open order and its participant's program has an
//     order rule, the step to qc_passed makes the order (basis program_rule) in the same
//     transaction.
//   - collection_date must be a real date, not after today (UTC, from the Clock) and not more
//     than kMaxYearsBeforeIndex years before the participant's index date: archival FFPE
//     blocks from an earlier diagnosis are legitimate, older dates are almost surely typos.
//   - Registration itself is the first custody event (from "" to collected), so the history
//     shows who collected it, where and when.
//   - The custody_events.note column holds a JSON object {"note": text, "destination": org}
//     ("destination" only on shipping), since the schema has no destination column.
//
// Thread-safe: all state lives in the metadata store; each call is one transaction. A custody
// step updates the specimen with `WHERE state = <the state read>`, so of two concurrent steps
// from the same state only one applies; the other gets kConflict.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/actor.h"
#include "common/audit_event.h"
#include "common/clock.h"
#include "common/result.h"
#include "policy/policy.h"
#include "storage/store.h"

namespace zengen::specimens {

inline constexpr std::string_view kStates[] = {"collected",        "shipped",   "received",
                                               "library_prepared", "sequenced", "qc_passed",
                                               "qc_failed",        "analysed",
                                               "rejected"};
inline constexpr std::string_view kTumourNormal[] = {"tumour", "normal"};
inline constexpr std::string_view kSpecimenTypes[] = {"solid_tissue",   "blood",  "bone_marrow",
                                                      "saliva",         "buccal", "plasma_cfDNA",
                                                      "cultured_cells", "other"};
inline constexpr std::string_view kPreservations[] = {"fresh_frozen", "FFPE", "EDTA", "cfDNA_tube",
                                                      "other"};
inline constexpr int kMaxYearsBeforeIndex = 10;
inline constexpr size_t kMaxNoteBytes = 2000;

bool IsState(std::string_view s);

// Which organisation the person making a step must belong to.
enum class ActingOrganisation {
  kHolder,          // the organisation holding the specimen now
  kDestination,     // the destination recorded when the specimen was shipped
  kOrderedCentre,   // the analysis centre named by the specimen's open analysis order
};

// Who holds the specimen after the step.
enum class NewHolder {
  kUnchanged,
  kDestination,         // the recorded destination (receipt)
  kActingOrganisation,  // the organisation of the person making the step
};

struct Transition {
  std::string_view from;
  std::string_view to;
  std::string_view role;  // the one role that may make this step
  ActingOrganisation acting = ActingOrganisation::kHolder;
  NewHolder holder_after = NewHolder::kUnchanged;
  // The step names a destination organisation, which must be a sequencing_facility.
  bool needs_destination = false;
  std::string_view description;
  // The step needs a reason in `note` (a refusal).
  bool needs_note = false;
};

// The whole custody state machine, one row per allowed step, in process order.
const std::vector<Transition>& CustodyTable();
// The row for from → to, or nullptr when the step is not allowed.
const Transition* FindTransition(std::string_view from, std::string_view to);
// States reachable in one step from `from`, in table order.
std::vector<std::string> AllowedNext(std::string_view from);
std::string_view ActingOrganisationName(ActingOrganisation a);
std::string_view NewHolderName(NewHolder h);

using Actor = ::zengen::Actor;  // common/actor.h

struct Specimen {
  std::string id;  // SP- and 16 upper-case hex characters
  std::string participant_id;
  std::string hospital;  // the participant's hospital (owner for the policy)
  std::string tumour_normal;
  std::string specimen_type;
  std::string preservation;
  std::string collection_date;  // YYYY-MM-DD
  std::string state;
  std::string holder;       // organisation holding it now
  std::string destination;  // while shipped: where it is going; empty otherwise
  std::string created_by;
  std::string created_at;
};

struct CustodyEvent {
  int64_t seq = 0;   // 1, 2, … per specimen; 1 is the registration
  std::string from;  // "" for the registration
  std::string to;
  std::string organisation;  // of the person who made the step
  std::string user;
  std::string time;  // RFC 3339 UTC
  std::string note;
  std::string destination;  // set on shipping events
};

struct SpecimenDetail {
  Specimen specimen;
  std::vector<CustodyEvent> history;  // by seq
};

struct NewSpecimen {
  std::string participant_id;
  std::string tumour_normal;    // one of kTumourNormal
  std::string specimen_type;    // one of kSpecimenTypes
  std::string preservation;     // one of kPreservations
  std::string collection_date;  // see the header comment for the bounds
  std::string note;             // optional, at most kMaxNoteBytes
};

struct CustodyStep {
  std::string to;           // one of kStates
  std::string note;         // optional, at most kMaxNoteBytes
  std::string destination;  // required exactly when the step needs one (shipping)
};

class Specimens {
 public:
  Specimens(storage::Store& store, const Clock& clock, AuditSink& audit);

  // Registers a specimen in state collected, held by the participant's hospital.
  // Errors: kInvalidArgument naming the field (codes invalid_<field>); kNotFound
  // "participant_not_found"; kPermissionDenied "not_participant_hospital" unless actor is a
  // clinician of the participant's hospital.
  Result<Specimen> Register(const NewSpecimen& s, const Actor& actor);

  // Applies one custody step. Checks, in order: input (kInvalidArgument "invalid_to" /
  // "value_too_long"), existence (kNotFound "specimen_not_found"), the table (kConflict
  // "invalid_transition", naming current, requested and allowed next states), the role
  // (kPermissionDenied "wrong_role") and the organisation (kPermissionDenied
  // "wrong_organisation"; for the step to analysed: no open analysis order names the actor's
  // organisation), then the destination (kInvalidArgument "missing_field" /
  // "invalid_destination" / "unexpected_field", field "destination") and a required reason
  // (kInvalidArgument "missing_field", field "note"). A concurrent step that
  // got there first gives kConflict "concurrent_change". Permission refusals are audited with
  // decision "deny"; applied steps with action specimen.custody.
  Result<SpecimenDetail> Custody(std::string_view specimen_id, const CustodyStep& step,
                                 const Actor& actor);

  // Errors: kNotFound "specimen_not_found".
  Result<SpecimenDetail> Get(std::string_view specimen_id);
  // Errors: kNotFound "participant_not_found". Ordered by creation time, then id.
  Result<std::vector<Specimen>> ListForParticipant(std::string_view participant_id);
  // Specimens held by an organisation (a facility's work queue), optionally in one state.
  // Errors: kInvalidArgument "invalid_state" (field "state").
  Result<std::vector<Specimen>> ListHeldBy(std::string_view organisation,
                                           std::string_view state = {});
  // A facility's or centre's incoming work: specimens shipped to `organisation` (state
  // shipped, it is the destination), and specimens in qc_passed with an open analysis order
  // for it. Ordered by creation time, then id.
  Result<std::vector<Specimen>> Incoming(std::string_view organisation);
  // Number of specimens in each state (every state present, zero included); of one holder
  // when holder is not empty.
  Result<std::map<std::string, int64_t>> CountByState(std::string_view holder = {});

  // Policy resources for the routes' resolvers (the one decision, http::PolicyFilter).
  // {"participant", id, hospital, ""}. Errors: kNotFound "participant_not_found".
  Result<policy::Resource> ParticipantResource(std::string_view participant_id);
  // {"specimen", id, hospital, holder}. Errors: kNotFound "specimen_not_found".
  Result<policy::Resource> SpecimenResource(std::string_view specimen_id);
  // As SpecimenResource for reading one specimen, but `holder` is the subject's organisation
  // when it is the destination of the shipment in transit or the centre of the specimen's
  // open analysis order (those may read what they are about to receive).
  Result<policy::Resource> ReadResource(std::string_view specimen_id,
                                        const policy::Subject& subject);
  // As SpecimenResource, but `holder` is the organisation the table lets act next: while the
  // specimen is shipped, the recorded destination (whatever `to` is, so that a wrong step by
  // the destination is answered invalid_transition, not forbidden); for a step to analysed,
  // the centre named by the open analysis order (nobody when there is none); the current
  // holder otherwise. The decisive check is the
  // table's, inside Custody; this lets the own-organisation policy admit the right people.
  Result<policy::Resource> CustodyResource(std::string_view specimen_id, std::string_view to,
                                           const policy::Subject& subject);

 private:
  Status AuditDenial(const Actor& actor, std::string action, std::string resource, const Error& e);

  storage::Store& store_;
  const Clock& clock_;
  AuditSink& audit_;
};

}  // namespace zengen::specimens
