// Submitted clinical values for other modules (issue 12: modules stop reading other modules'
// tables). Sharing counts a release's participants by enumerated clinical fields for its
// public aggregates; it asks here instead of reading clinical_records and parsing their JSON.
//
// Tables read: clinical_records (owned).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "storage/store.h"

namespace zengen::clinical {

// A top-level field of a clinical category (e.g. {"diagnosis", "stage_group"}).
struct FieldRef {
  std::string category;
  std::string code;
};

// For each of `fields`, in order: the value of `code` in the participant's latest SUBMITTED
// version of `category`, or nullopt when the participant has no submitted version of the
// category, the version lacks the code, or its value is not a string (drafts never count).
// Reads inside the caller's transaction. Errors: store errors.
Result<std::vector<std::optional<std::string>>> LatestSubmittedValues(
    storage::Transaction& tx, std::string_view participant_id, const std::vector<FieldRef>& fields);

}  // namespace zengen::clinical
