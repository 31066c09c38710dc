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

Status AddParticipantRoutes(http::Router& router, Registry& registry,
                            const http::Authorizer& authorizer);

}  // namespace zengen::participants
