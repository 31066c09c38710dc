// The metadata-store port: transactions over a relational database.
//
// Domain modules speak SQL through this interface; two adapters implement it: SQLite (WAL,
// the embedded default, sqlite/) and PostgreSQL 15 (postgres/). SQL passed here must be the
// common subset both understand; parameters are written $1, $2, … in both dialects. Where the
// dialects differ (DDL), migrations carry one text per backend (migrations.h).
//
// Every write happens inside a Transaction. A Transaction that is destroyed without Commit()
// rolls back, so an early error return leaves no partial write.
//
// Thread safety: Store is thread-safe (it hands out pooled connections). A Transaction belongs
// to one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/result.h"

namespace zengen::storage {

enum class Backend { kSqlite, kPostgres };
std::string_view BackendName(Backend b);

// A SQL value. Blobs are not used: binary data is stored hex- or base64-encoded as text so that
// both dialects agree on it.
using Value = std::variant<std::monostate, int64_t, double, std::string>;

// Convenience constructors so call sites read naturally: {Int(5), Text("x"), Null()}.
inline Value Null() { return std::monostate{}; }
inline Value Int(int64_t v) { return v; }
inline Value Text(std::string v) { return v; }

class Row {
 public:
  explicit Row(std::vector<Value> cols) : cols_(std::move(cols)) {}
  size_t size() const { return cols_.size(); }
  bool IsNull(size_t i) const { return std::holds_alternative<std::monostate>(cols_.at(i)); }
  // Integer value of column i. Text holding an integer is converted (PostgreSQL numeric types
  // arrive as text); NULL gives 0.
  int64_t Int(size_t i) const;
  double Double(size_t i) const;
  // Text value of column i; integers are formatted; NULL gives "".
  std::string Text(size_t i) const;
  const Value& at(size_t i) const { return cols_.at(i); }

 private:
  std::vector<Value> cols_;
};

struct Rows {
  std::vector<std::string> columns;
  std::vector<Row> rows;
  bool empty() const { return rows.empty(); }
  size_t size() const { return rows.size(); }
};

enum class TxMode {
  kRead,   // reads only (SQLite: BEGIN DEFERRED)
  kWrite,  // will write; takes the write lock up front (SQLite: BEGIN IMMEDIATE) so that two
           // writers never deadlock upgrading from read to write
};

class Transaction {
 public:
  virtual ~Transaction() = default;
  // Runs a statement; returns the number of rows changed. Errors: kConflict with code
  // "unique_violation" for a UNIQUE/PRIMARY KEY clash, kInvalidArgument "constraint_violation"
  // for other constraint failures, kUnavailable when the database cannot be reached, kInternal
  // for SQL errors (bugs). A failed statement aborts the transaction (PostgreSQL semantics,
  // mirrored on SQLite): later calls fail with kInternal "transaction_aborted", so abandon it.
  // Several ';'-separated statements are allowed only when params is empty (migrations).
  virtual Result<int64_t> Exec(std::string_view sql, std::span<const Value> params = {}) = 0;
  Result<int64_t> Exec(std::string_view sql, std::initializer_list<Value> params) {
    return Exec(sql, std::span<const Value>(params.begin(), params.size()));
  }
  // Runs a query and returns all its rows. Errors as Exec.
  virtual Result<Rows> Query(std::string_view sql, std::span<const Value> params = {}) = 0;
  Result<Rows> Query(std::string_view sql, std::initializer_list<Value> params) {
    return Query(sql, std::span<const Value>(params.begin(), params.size()));
  }
  // Makes every change durable. After Commit (successful or not) the transaction is finished;
  // a failed Commit has rolled back.
  virtual Status Commit() = 0;
};

class Store {
 public:
  virtual ~Store() = default;
  virtual Backend backend() const = 0;
  // Starts a transaction on a pooled connection; blocks while all connections are busy.
  virtual Result<std::unique_ptr<Transaction>> Begin(TxMode mode) = 0;
  // Cheap round trip to the database (readiness probe).
  virtual Status Ping() = 0;
  // Highest migration version applied.
  virtual Result<int> SchemaVersion() = 0;
};

struct OpenOptions {
  // SQLite file path, or a postgres:// / postgresql:// URL.
  std::string location;
  int pool_size = 4;
  // Apply pending migrations (the default). Tests may open without to inspect a raw database.
  bool migrate = true;
};

// Opens the store named by options.location, then brings its schema up to date. Fails with
// code "schema_too_new" when the database has a migration this binary does not know, so an old
// binary never writes into a newer schema.
Result<std::unique_ptr<Store>> OpenStore(const OpenOptions& options);

}  // namespace zengen::storage
