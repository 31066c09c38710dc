// HTTP routes of the clinical module (R2.1–R2.6). Every participant route is resolved to the
// participant (participants::ParticipantResolver), so the one policy decision (PolicyFilter)
// has the participant's hospital as the resource's organisation: a clinician sees and writes
// only their own hospital's participants; data stewards read across hospitals. The import and
// export routes are resolved to the category within the scope they act on (import: the
// caller's; export: ?hospital= or the caller's, every hospital "*" for a steward naming none).
// Handlers hold no access logic: they act on the scope that was decided.
//
//   GET  /api/v1/dictionary                                    dictionary.read (public)
//   GET  /api/v1/participants/{id}/clinical                    clinical.read
//   GET  /api/v1/participants/{id}/clinical/{category}         clinical.read
//   PUT  /api/v1/participants/{id}/clinical/{category}         clinical.write  {data, reason}
//   POST /api/v1/participants/{id}/clinical/{category}/submit  clinical.write  {data?, reason}
//   GET  /api/v1/participants/{id}/clinical/{category}/history clinical.read
//   GET  /api/v1/participants/{id}/fhir                        clinical.export
//   POST /api/v1/clinical/import/{category}[?reason=…]         clinical.write  text/csv
//   GET  /api/v1/clinical/export/{category}[?hospital=H]       clinical.export → text/csv
//        (fully withdrawn participants left out)
//   PUT  /api/v1/code-lists/{system}                           codelist.write  text/plain
//
// Validation failures answer 400 {"error":{code,message,field},"problems":[…]}: for records
// each problem is {path, code, message_key, message:{ja,en}}; for imports
// {row, participant_id, field, code, message_key, message}.
#pragma once

#include <functional>
#include <string_view>

#include "clinical/records.h"
#include "clinical/worklist.h"
#include "http/filters.h"
#include "http/http.h"

namespace zengen::clinical {

inline constexpr int64_t kImportMaxBytes = 64ll << 20;

// Whether a participant withdrew fully (the consent module's live state): the CSV export
// leaves such participants out, as the FHIR cohort export does (issue 12, the consent property
// test found the CSV export still listing them).
using WithdrawnCheck = std::function<Result<bool>(std::string_view participant_id)>;

Status AddClinicalRoutes(http::Router& router, ClinicalStore& clinical, WithdrawnCheck withdrawn);

// GET /api/v1/clinical/worklist[?filter=F&sort=S&limit=N&offset=M]   clinical.read
// The worklist of the caller's scope (their hospital; every hospital for a data steward):
// {items: [{participant_id, hospital, local_id (own hospital only), program,
// disease_category, index_date, consent, complete, due: [...], categories: [{category, status,
// filled, applicable}]}], total, limit, offset}. filter: all | due | incomplete | consent_due
// | withdrawn; sort: participant | least_complete | index_date (newest first). Unknown values
// are 400 naming the parameter.
Status AddWorklistRoute(http::Router& router, ClinicalStore& clinical,
                        ConsentStateFn consent_state);

}  // namespace zengen::clinical
