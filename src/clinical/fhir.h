// HL7 FHIR R4 resources from a participant's clinical records (R2.6): Condition (diagnosis),
// Procedure (surgery, radiotherapy, HSCT), MedicationStatement (drug lines) and Observation
// (ECOG, smoking, best overall response, adverse events). The caller assembles the Bundle with
// Patient and Consent.
//
// Times: records hold days relative to the index date. Each timed element carries the
// extension urn:zengen:fhir:relative-day (valueInteger); when index_date (YYYY-MM-DD) is given,
// the absolute date is filled in as well (identified zone only).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "clinical/dictionary.h"
#include "clinical/records.h"

namespace zengen::clinical {

inline constexpr std::string_view kRelativeDayExtension = "urn:zengen:fhir:relative-day";

std::vector<json> FhirResources(const Dictionary& dict, std::string_view participant_id,
                                const std::vector<Record>& records,
                                std::string_view index_date = "");

}  // namespace zengen::clinical
