// HTTP routes of the clinical module (R2.1–R2.6). Every participant route asks the Authorizer
// with the participant's hospital as the resource's organisation, so a clinician sees and
// writes only their own hospital's participants; data stewards read across hospitals.
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
#include "http/filters.h"
#include "http/http.h"

namespace zengen::clinical {

inline constexpr int64_t kImportMaxBytes = 64ll << 20;

// Whether a participant withdrew fully (the consent module's live state): the CSV export
// leaves such participants out, as the FHIR cohort export does (issue 12, the consent property
// test found the CSV export still listing them).
using WithdrawnCheck = std::function<Result<bool>(std::string_view participant_id)>;

Status AddClinicalRoutes(http::Router& router, ClinicalStore& clinical,
                         const http::Authorizer& authorizer, WithdrawnCheck withdrawn);

}  // namespace zengen::clinical
