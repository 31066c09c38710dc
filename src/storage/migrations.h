// Schema migrations: an ordered list of DDL steps, applied once each and recorded in the table
// schema_migrations(version, name, applied_at).
//
// To change the schema, append a Migration to the table in migrations_sql.cc with the next
// version number. Never edit or reorder a migration that has shipped: databases in the field
// have already applied it.
#pragma once

#include <span>
#include <string_view>

#include "common/result.h"
#include "storage/store.h"

namespace zengen::storage {

struct Migration {
  int version;  // 1, 2, 3, … without gaps
  std::string_view name;
  // DDL for each dialect; may hold several statements separated by ';'.
  std::string_view sqlite_sql;
  std::string_view postgres_sql;
};

// Every migration this binary knows, in ascending version order (migrations_sql.cc).
std::span<const Migration> AllMigrations();

// The highest version in AllMigrations().
int LatestSchemaVersion();

// Brings the schema up to LatestSchemaVersion(). Each pending migration runs in its own write
// transaction together with its schema_migrations row, so a failure leaves the database at the
// last complete version. Safe to run from several processes at once. Fails with kConflict
// "schema_too_new" when the database holds a version this binary does not know.
Status Migrate(Store& store);

// Highest applied version as seen by tx, 0 when schema_migrations does not exist yet. Used by
// the adapters to implement Store::SchemaVersion.
Result<int> ReadSchemaVersion(Transaction& tx, Backend backend);

}  // namespace zengen::storage
