// HL7 FHIR R4 export (R2.6): Bundles of type "collection" holding, per participant, a
// pseudonymous Patient, the Consent records (the current one active, earlier ones inactive)
// and the clinical resources (Condition, Procedure, MedicationStatement, Observation).
//
// Who may export is the policy's clinical.export decision, per participant (a hospital exports
// its own patients; the data steward any). Cohort bundles leave out participants who withdrew
// fully: their data starts no new use. Absolute dates appear only in the participant's own
// hospital's export; everyone else gets days relative to the index date.
#pragma once

#include <nlohmann/json.hpp>

#include "clinical/records.h"
#include "common/result.h"
#include "consent/consent.h"
#include "http/filters.h"
#include "http/http.h"
#include "participants/participants.h"
#include "participants/participants_routes.h"

namespace zengen::fhir {

struct Sources {
  participants::Registry& participants;
  consent::Ledger& consents;
  clinical::ClinicalStore& clinical;
};

// A pseudonymous Patient: the pseudonym as id and identifier, the hospital as managing
// organisation, the program as an extension. No name, no birth date.
nlohmann::json PatientResource(const participants::Participant& p);

// The resources of one participant, Patient first. with_dates: absolute dates included.
Result<std::vector<nlohmann::json>> ParticipantResources(Sources& s,
                                                         const participants::Participant& p,
                                                         bool with_dates);

// Wraps resources in a Bundle of type collection (fullUrl urn:uuid-free "Type/id" form).
nlohmann::json Bundle(const std::vector<nlohmann::json>& resources, std::string_view timestamp);

// The resolver of the cohort export: the hospital named by ?hospital= (default: the caller's
// own organisation; "*" every hospital, which only data-center-wide roles pass). An empty
// value is refused (400 invalid_parameter, field "hospital"), never read as "all".
http::Resolver CohortResolver();

// GET /api/v1/participants/{id}/fhir/bundle    one participant (decided on its hospital)
// GET /api/v1/fhir/bundle?hospital=H&limit=&offset=   a cohort (own hospital for clinicians)
Status AddFhirRoutes(http::Router& router, Sources& sources, const Clock& clock);

}  // namespace zengen::fhir
