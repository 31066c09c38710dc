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
// Participant routes are resolved to the participant (participants::ParticipantResolver): the
// one policy decision (http::PolicyFilter) is about its hospital, so another hospital's
// clinician gets 403; an unknown participant is 404 "participant_not_found" to those whose roles
// may ask in their own scope, 403 to the others. Handlers hold no access logic.
#pragma once

#include "consent/consent.h"
#include "http/filters.h"
#include "http/http.h"

namespace zengen::consent {

// Largest JSON body the write routes take.
inline constexpr int64_t kMaxConsentBodyBytes = 64 * 1024;

// Registers the routes above. ledger must outlive the router.
Status AddConsentRoutes(http::Router& router, Ledger& ledger);

}  // namespace zengen::consent
