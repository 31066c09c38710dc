// The schema history. Append new migrations at the end; never edit shipped ones.
#include <array>

#include "storage/migrations.h"

namespace zengen::storage {
namespace {

constexpr std::array kMigrations = {
    Migration{
        .version = 1,
        .name = "settings",
        .sqlite_sql = R"sql(
CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
)sql",
        .postgres_sql = R"sql(
CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
)sql",
    },
};

}  // namespace

std::span<const Migration> AllMigrations() { return kMigrations; }

}  // namespace zengen::storage
