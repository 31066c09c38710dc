// HTTP face of consent: ICF versions and each participant's consent ledger.
//
//   GET  /api/v1/icf                                      icf.read     list ICF versions
//   GET  /api/v1/icf/{program}/{version}/{language}       icf.read     one ICF with its catalogue
//   POST /api/v1/icf                                      icf.write    register a version
//   GET  /api/v1/participants/{id}/consents               consent.read  state, current, profile,
//                                                                       history (+ FHIR with
//                                                                       ?format=fhir)
//   POST /api/v1/participants/{id}/consents               consent.write initial | modification |
//                                                                       reconsent
//   POST /api/v1/participants/{id}/withdrawal             consent.write withdrawal → notify list
//   GET  /api/v1/participants/{id}/permits?purpose=…      consent.read  a Permits decision
//
// Participant routes decide per resource with the participant's hospital as its organisation
// (404 "participant_not_found" before any decision, 403 for another hospital's clinician).
#pragma once

#include "consent/consent.h"
#include "http/filters.h"
#include "http/http.h"

namespace zengen::consent {

// Largest JSON body the write routes take.
inline constexpr int64_t kMaxConsentBodyBytes = 64 * 1024;

// Registers the routes above. ledger and authorizer must outlive the router.
Status AddConsentRoutes(http::Router& router, Ledger& ledger, const http::Authorizer& authorizer);

}  // namespace zengen::consent
