// The SQLite adapter of the metadata-store port (store.h).
//
// Every pooled connection runs in WAL mode with synchronous=FULL, foreign_keys=ON and a
// 5-second busy timeout. FULL syncs the WAL at every commit, so a committed transaction (an
// audit record in particular) survives power loss, not only a process crash; the audit log's
// group commit shares that cost among many records. Write transactions of one Store are
// additionally serialised in process (SQLite admits one writer at a time anyway), so a thread
// must not start a second kWrite transaction while it still holds one: it would wait for
// itself forever.
//
// Statement semantics match the PostgreSQL adapter: once a statement fails, the transaction is
// aborted and every later call on it fails with "transaction_aborted".
#pragma once

#include <memory>

#include "common/result.h"
#include "storage/store.h"

namespace zengen::storage {

// Opens (creating if absent) the database file options.location with options.pool_size
// connections. Does not run migrations. Errors: kUnavailable "database_unavailable" when the
// file cannot be opened.
Result<std::unique_ptr<Store>> OpenSqliteStore(const OpenOptions& options);

}  // namespace zengen::storage
