// Routes every deployment has: liveness, readiness, version, and the data center's public
// settings (program name and the like; never secrets).
#pragma once

#include <functional>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "common/clock.h"
#include "http/http.h"
#include "storage/store.h"

namespace zengen::app {

// Registers GET /healthz, GET /readyz, GET /api/v1/version, GET /api/v1/settings,
// GET /api/v1/settings/{key} and PUT /api/v1/settings/{key} on router. store and clock must outlive it.
// storage_sites, when set, gives /readyz each storage site's reachability and probe latency
// (names only: the steward's /api/v1/storage/sites has the rest); a site that is down makes
// the answer "degraded" but still 200, as reads fall back to other copies.
Status AddSystemRoutes(http::Router& router, storage::Store& store, const Clock& clock,
                       std::function<nlohmann::json()> storage_sites = {});

}  // namespace zengen::app
