// The researcher's clinical view of a dataset (issue 14, R4.3): per participant the caller may
// see, the clinical fields next to the files.
//
//   GET /api/v1/datasets/{id}/clinical?purpose=   dataset.read
//     → {"dataset_id", "items": [{"participant_id", "program", "files": [{id, kind, data_type,
//        file_name, size}], "clinical": {"<category>": {version, dictionary_version, data}}}]}
//
// Who is listed is decided by the gate, never here: the participants are exactly those with
// at least one file the caller may read now (Sharing::VisibleFiles, which asks policy::Decide
// "data.access" per file: release tier, group membership, grant with its datasets, data types
// and purpose, the participant's live consent). So a grant holder sees the participants their
// grant covers, a withdrawn or non-covered participant is absent, and a researcher without a
// grant sees nobody. The clinical data come from the ResearchClinical port (wired to
// clinical::ResearchView: newest submitted version, never_public fields removed, dates as days
// from the index date). Every answer is one audit record (action "clinical.research_read",
// resource dataset/<id>, decision allow, details: the participants shown); an unknown dataset
// is 404 dataset_not_found.
#pragma once

#include <functional>
#include <string_view>

#include "common/audit_event.h"
#include "http/http.h"
#include "sharing/sharing.h"

namespace zengen::sharing {

// participant pseudonym → {"program", "clinical": {...}} (clinical::ResearchView's object).
using ResearchClinical =
    std::function<Result<nlohmann::json>(std::string_view participant_id)>;

Status AddDatasetClinicalRoute(http::Router& router, Sharing& sharing, AuditSink& audit,
                               ResearchClinical clinical);

}  // namespace zengen::sharing
