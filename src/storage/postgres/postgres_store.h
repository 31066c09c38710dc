// The PostgreSQL 15 adapter of the metadata-store port (store.h), over libpq.
//
// Transactions run at READ COMMITTED for both modes. Parameters travel in text format and the
// server infers their types from the statement. Result columns convert by type: int2/int4/int8
// → int64, float4/float8 → double, bool → int64 0/1, everything else (numeric included) → text.
// A statement error aborts the transaction (PostgreSQL semantics); later calls fail until it
// is abandoned.
#pragma once

#include <memory>

#include "common/result.h"
#include "storage/store.h"

namespace zengen::storage {

// Connects options.pool_size times to the postgres:// URL options.location. Does not run
// migrations. Errors: kUnavailable "database_unavailable" when the server cannot be reached or
// refuses the connection.
Result<std::unique_ptr<Store>> OpenPostgresStore(const OpenOptions& options);

}  // namespace zengen::storage
