// HTTP face of specimens: registration, custody steps, queries and the custody table.
//
//   POST /api/v1/participants/{id}/specimens  specimen.write   register (201)
//   GET  /api/v1/participants/{id}/specimens  specimen.read    a participant's specimens
//   GET  /api/v1/specimens/{id}               specimen.read    one specimen with its history
//                                                              (also for the destination of
//                                                              a shipment in transit and the
//                                                              centre of an open order)
//   POST /api/v1/specimens/{id}/custody       specimen.custody {to, note?, destination?}
//   GET  /api/v1/specimens?holder=&state=     specimen.read    specimens an organisation holds
//                                                              (default: the caller's own)
//   GET  /api/v1/shipments/incoming           specimen.read    specimens shipped to the
//                                                              caller's organisation, and
//                                                              qc_passed ones with an open
//                                                              analysis order for it
//   GET  /api/v1/specimen-counts?holder=      specimen.read    counts by state (of one holder,
//                                                              or of all for a data steward)
//   GET  /api/v1/custody-table                specimen.read    the transition table
//
// Every handler asks the Authorizer about the concrete resource ({"participant"|"specimen", id,
// the participant's hospital, the holder}) before acting; Specimens then applies the custody
// table's own role and organisation guards. Bodies are JSON objects of at most 16 KiB; bad
// input answers 400 naming the field.
#pragma once

#include "http/filters.h"
#include "http/http.h"
#include "specimens/specimens.h"

namespace zengen::specimens {

inline constexpr int64_t kMaxBodyBytes = 16 * 1024;

Status AddSpecimenRoutes(http::Router& router, Specimens& specimens,
                         const http::Authorizer& authorizer);

}  // namespace zengen::specimens
