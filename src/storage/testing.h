// Test support for code that uses the store: which backends to run against, and throwaway
// databases. Library zengen_storage_testing; link it only into tests.
//
// Environment:
//   ZENGEN_TEST_POSTGRES_URL  admin URL of a running PostgreSQL server's "postgres" database
//                             (scripts/postgres-test-server.sh prints one). When set, tests
//                             also run against PostgreSQL.
//   ZENGEN_REQUIRE_POSTGRES=1 PostgreSQL runs are mandatory: without the URL, every
//                             PostgreSQL-parameterised test fails instead of being left out.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "storage/store.h"

namespace zengen::storage {

// Backend names to parameterise tests over: "sqlite", plus "postgres" when the URL is set or
// PostgreSQL is required.
std::vector<std::string> TestBackends();

// A fresh, empty database that is deleted when the object is destroyed.
class ScratchDatabase {
 public:
  // backend is "sqlite" (a database file in a new temporary directory) or "postgres" (a new
  // database zt_<random hex> on the ZENGEN_TEST_POSTGRES_URL server). Errors: kUnavailable
  // when PostgreSQL is required but not configured or unreachable.
  static Result<ScratchDatabase> Create(std::string_view backend);

  ScratchDatabase(ScratchDatabase&& other) noexcept;
  ScratchDatabase& operator=(ScratchDatabase&& other) noexcept;
  ScratchDatabase(const ScratchDatabase&) = delete;
  ScratchDatabase& operator=(const ScratchDatabase&) = delete;
  // Deletes the database. Every Store on it should be closed first.
  ~ScratchDatabase();

  // What to put in OpenOptions::location.
  std::string location() const { return location_; }

 private:
  ScratchDatabase() = default;
  void Destroy();

  std::string location_;
  std::string temp_dir_;   // sqlite: the directory holding the file
  std::string admin_url_;  // postgres: where to issue DROP DATABASE
  std::string db_name_;    // postgres: the database name
};

// Inserts organisations (id, kind) in one transaction, each named by its id, in Japan: the
// fixture most module tests start from.
Status SeedOrganisations(Store& store,
                         const std::vector<std::pair<std::string, std::string>>& id_kind);

// Replaces the database name in a postgres:// URL, keeping user, host, port and options.
std::string PostgresUrlWithDatabase(std::string_view url, std::string_view database);

}  // namespace zengen::storage
