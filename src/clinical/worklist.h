// The clinician's worklist (issue 14, R2.3): every participant of a hospital with the
// completeness of each clinical category and the consent state, so that missing categories and
// consent actions due are found without opening each participant.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "clinical/dictionary.h"
#include "common/result.h"
#include "storage/store.h"

namespace zengen::clinical {

// The consent state name of a participant (consent::StateName: none, active,
// withdrawn_no_contact, withdrawn_no_new_data, withdrawn_full), from the consent module.
using ConsentStateFn = std::function<Result<std::string>(std::string_view participant_id)>;

struct WorklistCategory {
  std::string category;
  std::string status;  // empty | draft | submitted
  int filled = 0;
  int applicable = 0;
};

struct WorklistRow {
  std::string participant_id;
  std::string hospital;
  std::string local_id;
  std::string program;
  std::string disease_category;
  std::string index_date;
  std::string consent;                      // a consent state name
  std::vector<WorklistCategory> categories;  // in dictionary order
  int complete = 0;                         // categories submitted and complete
  // What the hospital should do next: "record_consent" (no consent yet), "withdrawn" (new
  // data must not be entered: no_new_data or full withdrawal), "complete_categories" (some
  // category not submitted or incomplete); empty when nothing is due.
  std::vector<std::string> due;
};

enum class WorklistFilter { kAll, kDue, kIncomplete, kConsentDue, kWithdrawn };
enum class WorklistSort { kParticipant, kLeastComplete, kIndexDate };

struct WorklistQuery {
  std::string hospital;  // a hospital id, or "*" (policy::kEveryOrganisation) for all
  WorklistFilter filter = WorklistFilter::kAll;
  WorklistSort sort = WorklistSort::kParticipant;
  int64_t limit = 50;
  int64_t offset = 0;
};

struct WorklistPage {
  std::vector<WorklistRow> rows;
  int64_t total = 0;  // rows matching the filter, before paging
};

// The page of the worklist. Completeness is ComputeCompleteness of each category's current
// version; the consent state comes from consent_state. Errors: the store's and consent_state's.
Result<WorklistPage> Worklist(storage::Store& store, const Dictionary& dict,
                              const ConsentStateFn& consent_state, const WorklistQuery& query);

}  // namespace zengen::clinical
