// HTTP face of the participant registry.
#pragma once

#include "http/filters.h"
#include "http/http.h"
#include "participants/participants.h"

namespace zengen::participants {

// POST /api/v1/participants            register (a clinician, for their own hospital)
// GET  /api/v1/participants            list: a hospital's staff see their own participants,
//                                      the data steward all (without local ids)
// GET  /api/v1/participants/{id}       one participant; the local id only for its hospital
// The resolver of routes about one participant ({id}): the participant's hospital is the
// resource's organisation, so the one policy decision is about the real owner. Errors:
// kNotFound "participant_not_found".
http::Resolver ParticipantById(Registry& registry);

// The same resolver for another module's routes about one participant ({id} path parameter:
// specimens, consents, clinical records), with the module's own way of asking the participant's
// hospital (`hospital_of`, whose errors — kNotFound for an unknown id — the resolver returns).
// An empty {id} is kNotFound "participant_not_found" without asking.
using HospitalLookup = std::function<Result<std::string>(std::string_view participant_id)>;
http::Resolver ParticipantResolver(HospitalLookup hospital_of);

// POST registers into the caller's own hospital (http::CallerScope decided it); the listing is
// the caller's scope.
Status AddParticipantRoutes(http::Router& router, Registry& registry);

}  // namespace zengen::participants
