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
// Every route's resolver names the concrete resource ({"participant"|"specimen", id, the
// participant's hospital, the holder or the organisation that acts next}) and PolicyFilter
// decides once on it, with one audit record; handlers hold no access logic (listings act on the
// scope that was decided). Specimens then applies the custody table's own role and organisation
// guards. An unknown id is 404 to callers whose roles may act in their own scope and 403 to the
// others. Bodies are JSON objects of at most 16 KiB; bad input answers 400 naming the field.
#pragma once

#include "http/filters.h"
#include "http/http.h"
#include "specimens/specimens.h"

namespace zengen::specimens {

inline constexpr int64_t kMaxBodyBytes = 16 * 1024;

// The resolvers of the routes above (each errs as its lookup: kNotFound for an unknown id,
// kInvalidArgument naming a bad parameter or body field):
// a participant's specimens: the participant, owned by its hospital;
http::Resolver SpecimenParticipant(Specimens& specimens);
// one specimen ({id}) to read or to step: Specimens::ReadResource (the destination of a
// shipment in transit and the centre of an open order are its holder to them). For a custody
// step this admits the parties; the custody table inside Specimens::Custody decides which
// party makes which step (the decision precedes the body, so it cannot depend on `to`);
http::Resolver ResolveSpecimen(Specimens& specimens);
// the specimens a holder holds (?holder=, default the caller's organisation; 400 "missing_field"
// naming `holder` when neither is there);
http::Resolver ResolveHolder();
// the counts of one holder (?holder=) or of every holder ("*", data-center-wide roles only).
http::Resolver ResolveCountsScope();

Status AddSpecimenRoutes(http::Router& router, Specimens& specimens);

}  // namespace zengen::specimens
