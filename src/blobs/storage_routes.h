// The storage routes of the data steward's console (issue 17): each site's health, the
// progress of migrations between sites, and starting a migration. Decided by the policy filter
// (data stewards: "storage.read" to look, "storage.migrate" to start) and audited there.
//
//   GET  /api/v1/storage/sites        {"items": [SiteHealth as JSON]}
//   GET  /api/v1/storage/migrations   {"items": [MigrationProgress as JSON, with "done" 0..1],
//                                      "job": the console's job of this process or null}
//   POST /api/v1/storage/migrations   {"from", "to", "reason", "limit"?: n ≥ 0 (0: all),
//                                      "move"?: bool, "grace_hours"?: 0..87600 (default 168)}
//                                     → 202 {"job": …}: the migration runs in the background
//                                     (MigrationJobs). 400 naming the field (missing, wrong
//                                     type, unknown site, same site, tier mismatch, a site
//                                     outside the allowed jurisdictions, a blank reason); 409
//                                     "migration_running" while a job runs.
#pragma once

#include <nlohmann/json.hpp>

#include "blobs/local_store.h"
#include "blobs/migration_jobs.h"
#include "common/result.h"
#include "http/http.h"

namespace zengen::blobs {

nlohmann::json SiteHealthJson(const SiteHealth& h);
nlohmann::json MigrationJson(const MigrationProgress& p);
nlohmann::json MigrationJobJson(const MigrationJob& j);

// store and jobs must outlive the router.
Status AddStorageRoutes(http::Router& router, LocalStore& store, MigrationJobs& jobs);

}  // namespace zengen::blobs
