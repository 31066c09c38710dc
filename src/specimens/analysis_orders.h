// Analysis orders: which analysis centre analyses a specimen (R1.3 least privilege, R3.4).
//
// The data centre assigns the analysis of a specimen to one named analysis-centre
// organisation. Only that centre may then take custody (the custody step qc_passed ->
// analysed, specimens.h) and so, as the specimen's holder, read its inputs (FASTQ). Without an
// open order no centre may take custody; a centre without an order is refused (403) whatever
// state the specimen is in.
//
// An order is made in one of two ways (its `basis`):
//   - "steward": a data steward orders it (Create), for a specimen in any state before
//     `analysed` (an order may be made ahead of QC);
//   - "program_rule": a data steward sets a rule "specimens of program P are analysed by
//     centre C" (SetRule); when a specimen of P passes QC and has no open order, the custody
//     step to qc_passed makes the order in the same transaction.
//
// Order states, a table like every state machine here (OrderTable()):
//
//   open --(the ordered centre takes custody: qc_passed -> analysed)--> started
//   open --(a data steward cancels it, with a reason)--> cancelled
//
// `started` and `cancelled` are terminal; after a cancellation a new order may be made. At most
// one order per specimen is open (a unique index makes a concurrent second order fail with
// kConflict "order_exists").
//
// Who sees orders: data stewards all; the organisation holding the specimen (the sequencing
// facility, until custody moves) all orders of the specimen; an analysis centre the orders that
// name it. Every creation, cancellation and refusal is an audit record (actions
// analysis_order.write / analysis_order.rule; the start is part of the custody step's record).
//
// Thread-safe: all state lives in the metadata store; each call is one transaction.
#pragma once

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

inline constexpr std::string_view kOrderStates[] = {"open", "started", "cancelled"};
inline constexpr std::string_view kPrograms[] = {"cancer", "rare_disease"};
inline constexpr size_t kMaxReasonBytes = 2000;

struct OrderTransition {
  std::string_view from;
  std::string_view to;
  std::string_view event;  // "start" | "cancel"
  std::string_view role;   // the role that makes the step
  std::string_view description;
};
// The order state machine, one row per allowed step.
const std::vector<OrderTransition>& OrderTable();

struct AnalysisOrder {
  std::string id;  // AO- and 16 upper-case hex characters
  std::string specimen_id;
  std::string centre;  // the analysis centre's organisation id
  std::string state;   // one of kOrderStates
  std::string basis;   // "steward" | "program_rule"
  std::string ordered_by;
  std::string ordered_at;
  std::string closed_by;  // who started or cancelled it; empty while open
  std::string closed_at;
  std::string reason;  // the cancellation's reason
};

struct NewOrder {
  std::string specimen_id;
  std::string centre;
};

struct ProgramRule {
  std::string program;  // one of kPrograms
  std::string centre;
  std::string set_by;
  std::string set_at;
};

// ---- Used by Specimens inside its own transactions ------------------------------------------

// The open order of a specimen, if any (state "" when there is none).
Result<AnalysisOrder> OpenOrder(storage::Transaction& tx, std::string_view specimen_id);
// Moves the specimen's open order for `centre` to started. Errors: kConflict
// "concurrent_change" when no such open order exists any more.
Status StartOrder(storage::Transaction& tx, std::string_view specimen_id, std::string_view centre,
                  std::string_view user, std::string_view now);
// For a specimen that just passed QC: when it has no open order and its participant's program
// has a rule, makes the order (basis program_rule) and returns it; otherwise state "".
Result<AnalysisOrder> OrderByRule(storage::Transaction& tx, std::string_view specimen_id,
                                  std::string_view user, std::string_view now);
// The audit event of a new order (by a steward or a program rule); `reason` says which.
AuditEvent OrderedEvent(const AnalysisOrder& order, const Actor& actor, std::string_view reason);
// Whether `organisation` took custody `analysed` of any specimen of the participant (it
// analysed that participant). False for an unknown participant.
Result<bool> AnalysedBy(storage::Transaction& tx, std::string_view participant_id,
                        std::string_view organisation);

class AnalysisOrders {
 public:
  AnalysisOrders(storage::Store& store, const Clock& clock, AuditSink& audit);

  // Orders the analysis of a specimen by a centre (basis "steward"). Checks, in order: input
  // (kInvalidArgument "missing_field" naming specimen_id / centre), the actor (kPermissionDenied
  // "not_data_steward", audited), the specimen (kNotFound "specimen_not_found"), the centre
  // (kInvalidArgument "invalid_centre", field "centre": not a registered analysis centre), the
  // specimen's state (kConflict "invalid_specimen_state" when analysed), an open order
  // (kConflict "order_exists").
  Result<AnalysisOrder> Create(const NewOrder& n, const Actor& actor);
  // Cancels an open order. Errors: kInvalidArgument "missing_field" / "value_too_long" (field
  // reason); kPermissionDenied "not_data_steward" (audited); kNotFound "order_not_found";
  // kConflict "invalid_transition" unless it is open (a started order is not cancelled: the
  // centre already holds the specimen).
  Result<AnalysisOrder> Cancel(std::string_view id, std::string_view reason, const Actor& actor);
  // Errors: kNotFound "order_not_found".
  Result<AnalysisOrder> Get(std::string_view id);
  // The orders of one specimen that `viewer` may see (see the header comment), oldest first.
  // Errors: kNotFound "specimen_not_found".
  Result<std::vector<AnalysisOrder>> ListForSpecimen(std::string_view specimen_id,
                                                     const policy::Subject& viewer);

  // The policy resource for orders of a specimen: {"analysis_order", specimen id, the
  // specimen's holder, the subject's organisation when an order of the specimen names it}.
  // Errors: kNotFound "specimen_not_found".
  Result<policy::Resource> SpecimenOrdersResource(std::string_view specimen_id,
                                                  const policy::Subject& subject);

  // Program rules. SetRule errors: kInvalidArgument "invalid_program" / "invalid_centre";
  // kPermissionDenied "not_data_steward". ClearRule errors: as SetRule, and kNotFound
  // "rule_not_found".
  Result<ProgramRule> SetRule(std::string_view program, std::string_view centre,
                              const Actor& actor);
  Status ClearRule(std::string_view program, const Actor& actor);
  Result<std::vector<ProgramRule>> ListRules();

 private:
  Error Deny(const Actor& actor, std::string action, std::string resource, Error e);

  storage::Store& store_;
  const Clock& clock_;
  AuditSink& audit_;
};

// Questions other modules ask about specimens and their orders inside their own transaction
// (issue 12: a module runs SQL only on its own tables; scripts/check-table-ownership.py).

// A specimen a centre may analyse: qc_passed with an open order, or already analysed.
struct AnalysisCandidate {
  std::string specimen_id;
  std::string participant_id;
  std::string tumour_normal;  // "tumour" | "normal"
  std::string state;          // "qc_passed" | "analysed"
  std::string centre;         // the open order's centre (qc_passed) or the holder (analysed)
};
// The specimens in qc_passed with an open order to `centre` and those in analysed held by
// `centre`; kEveryOrganisation ("*") for every centre. Ordered by participant, then id.
// Errors: store errors.
Result<std::vector<AnalysisCandidate>> AnalysisCandidates(storage::Transaction& tx,
                                                          std::string_view centre);
// How many of the participant's specimens `holder` holds in `state`. Errors: store errors.
Result<int64_t> CountHeldInState(storage::Transaction& tx, std::string_view participant_id,
                                 std::string_view holder, std::string_view state);

}  // namespace zengen::specimens
