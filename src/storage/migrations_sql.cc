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
    Migration{
        .version = 2,
        .name = "audit_log",
        .sqlite_sql = R"sql(
CREATE TABLE audit_log (
  seq INTEGER PRIMARY KEY,      -- 1, 2, 3, … without gaps; assigned under the write lock
  time TEXT NOT NULL,              -- RFC 3339 UTC with milliseconds
  actor TEXT NOT NULL,             -- user/token id, or 'anonymous', or 'system'
  source TEXT NOT NULL,            -- source IP address, or 'cli' / 'system'
  action TEXT NOT NULL,            -- policy action or event name, e.g. 'auth.login'
  resource TEXT NOT NULL,          -- 'kind/id' or 'kind'
  decision TEXT NOT NULL,          -- 'allow', 'deny' or '' for events without a decision
  reason TEXT NOT NULL,
  request_id TEXT NOT NULL,
  details TEXT NOT NULL,           -- JSON object with event-specific fields
  prev_hash TEXT NOT NULL,         -- hex SHA-256 of the previous record (64 zeros for seq 1)
  hash TEXT NOT NULL               -- hex SHA-256 over prev_hash and this record's content
);
CREATE INDEX audit_log_actor ON audit_log (actor, seq);
CREATE INDEX audit_log_action ON audit_log (action, seq);
CREATE INDEX audit_log_resource ON audit_log (resource, seq);
CREATE INDEX audit_log_time ON audit_log (time, seq);
)sql",
        .postgres_sql = R"sql(
CREATE TABLE audit_log (
  seq BIGINT PRIMARY KEY,      -- 1, 2, 3, … without gaps; assigned under the write lock
  time TEXT NOT NULL,              -- RFC 3339 UTC with milliseconds
  actor TEXT NOT NULL,             -- user/token id, or 'anonymous', or 'system'
  source TEXT NOT NULL,            -- source IP address, or 'cli' / 'system'
  action TEXT NOT NULL,            -- policy action or event name, e.g. 'auth.login'
  resource TEXT NOT NULL,          -- 'kind/id' or 'kind'
  decision TEXT NOT NULL,          -- 'allow', 'deny' or '' for events without a decision
  reason TEXT NOT NULL,
  request_id TEXT NOT NULL,
  details TEXT NOT NULL,           -- JSON object with event-specific fields
  prev_hash TEXT NOT NULL,         -- hex SHA-256 of the previous record (64 zeros for seq 1)
  hash TEXT NOT NULL               -- hex SHA-256 over prev_hash and this record's content
);
CREATE INDEX audit_log_actor ON audit_log (actor, seq);
CREATE INDEX audit_log_action ON audit_log (action, seq);
CREATE INDEX audit_log_resource ON audit_log (resource, seq);
CREATE INDEX audit_log_time ON audit_log (time, seq);
)sql",
    },
};

}  // namespace

std::span<const Migration> AllMigrations() { return kMigrations; }

}  // namespace zengen::storage
