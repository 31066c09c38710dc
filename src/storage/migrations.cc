#include "storage/migrations.h"

#include <fmt/format.h>

#include "common/clock.h"

namespace zengen::storage {
namespace {

constexpr std::string_view kCreateMigrationsTable = R"sql(
CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at TEXT NOT NULL
))sql";

// Serialises migrators in different processes. SQLite needs nothing: BEGIN IMMEDIATE already
// takes the database write lock. PostgreSQL would otherwise let two processes race on
// CREATE TABLE or apply the same migration twice.
Status LockForMigration(Transaction& tx, Backend backend) {
  if (backend != Backend::kPostgres) return Status::Ok();
  // why: an arbitrary fixed key ("zengen" in ASCII) that no other code uses.
  auto r = tx.Query("SELECT pg_advisory_xact_lock(134576062555502)");
  return r.status();
}

Status CheckTable() {
  int expected = 1;
  for (const Migration& m : AllMigrations()) {
    if (m.version != expected) {
      return Internal("bad_migration_table",
                      fmt::format("migration {} ({}) is out of sequence; expected version {}",
                                  m.version, m.name, expected));
    }
    ++expected;
  }
  return Status::Ok();
}

Status CheckNotTooNew(int current, int latest) {
  if (current <= latest) return Status::Ok();
  return Conflict("schema_too_new",
                  fmt::format("database schema is at version {} but this zengen knows only up to "
                              "{}; upgrade zengen before serving this database",
                              current, latest));
}

}  // namespace

int LatestSchemaVersion() {
  auto all = AllMigrations();
  return all.empty() ? 0 : all.back().version;
}

Result<int> ReadSchemaVersion(Transaction& tx, Backend backend) {
  // why: probing with a failing SELECT would abort a PostgreSQL transaction, so ask the catalog.
  auto exists = backend == Backend::kPostgres
                    ? tx.Query("SELECT to_regclass('schema_migrations') IS NOT NULL")
                    : tx.Query(
                          "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                          "name = 'schema_migrations'");
  if (!exists.ok()) return exists.error();
  if (exists->rows.empty() || exists->rows[0].Int(0) == 0) return 0;
  auto max = tx.Query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
  if (!max.ok()) return max.error();
  return static_cast<int>(max->rows.at(0).Int(0));
}

Status Migrate(Store& store) {
  ZG_RETURN_IF_ERROR(CheckTable());
  const Backend backend = store.backend();
  const int latest = LatestSchemaVersion();
  {
    auto tx = store.Begin(TxMode::kWrite);
    if (!tx.ok()) return tx.error();
    ZG_RETURN_IF_ERROR(LockForMigration(**tx, backend));
    ZG_RETURN_IF_ERROR((*tx)->Exec(kCreateMigrationsTable));
    auto current = ReadSchemaVersion(**tx, backend);
    if (!current.ok()) return current.error();
    ZG_RETURN_IF_ERROR(CheckNotTooNew(*current, latest));
    ZG_RETURN_IF_ERROR((*tx)->Commit());
    if (*current == latest) return Status::Ok();
  }
  SystemClock clock;
  for (const Migration& m : AllMigrations()) {
    auto tx = store.Begin(TxMode::kWrite);
    if (!tx.ok()) return tx.error();
    ZG_RETURN_IF_ERROR(LockForMigration(**tx, backend));
    // why: re-read under the lock; another process may have migrated meanwhile.
    auto current = ReadSchemaVersion(**tx, backend);
    if (!current.ok()) return current.error();
    ZG_RETURN_IF_ERROR(CheckNotTooNew(*current, latest));
    if (*current >= m.version) continue;  // the transaction rolls back; nothing was written
    const std::string_view sql = backend == Backend::kPostgres ? m.postgres_sql : m.sqlite_sql;
    auto applied = (*tx)->Exec(sql);
    if (!applied.ok()) {
      Error e = applied.error();
      e.message = fmt::format("migration {} ({}) failed: {}", m.version, m.name, e.message);
      return e;
    }
    ZG_RETURN_IF_ERROR(
        (*tx)->Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                    {Int(m.version), Text(std::string(m.name)), Text(FormatRfc3339(clock.Now()))}));
    ZG_RETURN_IF_ERROR((*tx)->Commit());
  }
  return Status::Ok();
}

}  // namespace zengen::storage
