// Routes every deployment has: liveness, readiness, version, and the data center's public
// settings (program name and the like; never secrets).
#pragma once

#include "common/result.h"
#include "common/clock.h"
#include "http/http.h"
#include "storage/store.h"

namespace zengen::app {

// Registers GET /healthz, GET /readyz, GET /api/v1/version, GET /api/v1/settings,
// GET /api/v1/settings/{key} and PUT /api/v1/settings/{key} on router. store and clock must outlive it.
Status AddSystemRoutes(http::Router& router, storage::Store& store, const Clock& clock);

}  // namespace zengen::app
