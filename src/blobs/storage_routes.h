// The storage routes of the data steward's console (issue 17): each site's health and the
// progress of migrations between sites. Read-only; decided by the policy filter on the action
// "storage.read" (data stewards) and audited there.
//
//   GET /api/v1/storage/sites        {"items": [SiteHealth as JSON]}
//   GET /api/v1/storage/migrations   {"items": [MigrationProgress as JSON, with "done" 0..1]}
#pragma once

#include <nlohmann/json.hpp>

#include "blobs/local_store.h"
#include "common/result.h"
#include "http/http.h"

namespace zengen::blobs {

nlohmann::json SiteHealthJson(const SiteHealth& h);
nlohmann::json MigrationJson(const MigrationProgress& p);

// store must outlive the router.
Status AddStorageRoutes(http::Router& router, LocalStore& store);

}  // namespace zengen::blobs
