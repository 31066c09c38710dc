// The identity module's directory reads for other modules (issue 12: modules stop reading
// other modules' tables). Organisations, research groups and their members are identity's
// tables; participants, specimens, analysis orders, findings, sharing and the portal ask here
// instead of querying them.
//
// Each read takes the caller's transaction, so that it sees exactly what the caller's
// transaction sees (a registration checks the hospital in the same transaction as it inserts).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "storage/store.h"

namespace zengen::identity {

// The kind of the organisation with this id (hospital, sequencing_facility, analysis_center,
// data_center, academic, industry), or "" when no organisation has it. Errors: store errors.
Result<std::string> OrganisationKind(storage::Transaction& tx, std::string_view id);
// The display name of the organisation, or "" when none has this id. Errors: store errors.
Result<std::string> OrganisationName(storage::Transaction& tx, std::string_view id);
// The display name of the user with this login name, or "" when none has it (the patient
// report names the clinician who printed it). Errors: store errors.
Result<std::string> UserDisplayName(storage::Transaction& tx, std::string_view id);
// Id → name of every organisation of a kind. Errors: store errors.
Result<std::map<std::string, std::string>> OrganisationsOfKind(storage::Transaction& tx,
                                                               std::string_view kind);

// Whether a research group with this id exists. Errors: store errors.
Result<bool> ResearchGroupExists(storage::Transaction& tx, std::string_view id);
// The research groups the user belongs to, ordered by id. Errors: store errors.
Result<std::vector<std::string>> ResearchGroupsOf(storage::Transaction& tx,
                                                  std::string_view user);

}  // namespace zengen::identity
