#include "storage/sqlite/sqlite_store.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <charconv>
#include <chrono>
#include <mutex>
#include <thread>
#include <string>
#include <unordered_map>
#include <vector>

#include "storage/connection_pool.h"
#include "storage/migrations.h"
#include "storage/store_errors.h"

namespace zengen::storage {
namespace {

constexpr int kBusyTimeoutMs = 5000;
// Prepared statements kept per connection. The program's statements are a fixed set of texts
// (a few hundred); texts built at run time (IN lists of varying length) beyond the bound are
// prepared and finalised each time, so the cache cannot grow without bound.
constexpr size_t kStatementCacheSize = 512;

// A statement in use. An uncached one is finalised when released; a cached one is reset and
// its bindings cleared, ready for the next use of the same text on the same connection.
struct StmtDeleter {
  bool cached = false;
  void operator()(sqlite3_stmt* s) const {
    if (!cached) {
      sqlite3_finalize(s);
      return;
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
  }
};
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtDeleter>;

// One pooled connection and its statements, keyed by their SQL text. Used by one transaction
// at a time (the pool hands it out exclusively); a statement is used by one call at a time
// because Exec and Query finish stepping before they return.
struct Connection {
  sqlite3* db = nullptr;
  std::unordered_map<std::string, sqlite3_stmt*> statements;
  ~Connection() {
    for (auto& [sql, stmt] : statements) sqlite3_finalize(stmt);
    if (db != nullptr) sqlite3_close_v2(db);
  }
};

// Converts the error state of db after a call that returned rc.
Error SqliteError(sqlite3* db, int rc) {
  const std::string msg = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
    return Conflict("unique_violation", msg);
  }
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
      return InvalidArgument("constraint_violation", msg);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Unavailable("database_busy", msg);
    default:
      return Internal("sql_error", msg);
  }
}

// Runs sql (no parameters, no result rows wanted) directly on a connection.
Status ExecRaw(sqlite3* db, const char* sql) {
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return SqliteError(db, rc);
  return Status::Ok();
}

// Binds params to the $N placeholders of stmt. Every placeholder must name a supplied
// parameter and every parameter must be used, as PostgreSQL also insists.
Status Bind(sqlite3_stmt* stmt, std::span<const Value> params) {
  std::vector<bool> used(params.size(), false);
  const int count = sqlite3_bind_parameter_count(stmt);
  for (int i = 1; i <= count; ++i) {
    const char* name = sqlite3_bind_parameter_name(stmt, i);
    size_t n = 0;
    const std::string_view sv = name != nullptr ? name : "";
    bool ok = sv.size() >= 2 && sv[0] == '$';
    if (ok) {
      auto [ptr, ec] = std::from_chars(sv.data() + 1, sv.data() + sv.size(), n);
      ok = ec == std::errc() && ptr == sv.data() + sv.size() && n >= 1 && n <= params.size();
    }
    if (!ok) {
      return Internal("sql_error",
                      fmt::format("placeholder {} does not name one of the {} parameters given",
                                  name != nullptr ? name : "?", params.size()));
    }
    used[n - 1] = true;
    const Value& v = params[n - 1];
    int rc = SQLITE_OK;
    if (const auto* p = std::get_if<int64_t>(&v)) {
      rc = sqlite3_bind_int64(stmt, i, *p);
    } else if (const auto* p = std::get_if<double>(&v)) {
      rc = sqlite3_bind_double(stmt, i, *p);
    } else if (const auto* p = std::get_if<std::string>(&v)) {
      rc = sqlite3_bind_text64(stmt, i, p->data(), p->size(), SQLITE_TRANSIENT, SQLITE_UTF8);
    } else {
      rc = sqlite3_bind_null(stmt, i);
    }
    if (rc != SQLITE_OK) return SqliteError(sqlite3_db_handle(stmt), rc);
  }
  for (size_t i = 0; i < used.size(); ++i) {
    if (!used[i]) {
      return Internal("sql_error",
                      fmt::format("parameter ${} is not used by the statement", i + 1));
    }
  }
  return Status::Ok();
}

Value ColumnValue(sqlite3_stmt* stmt, int i) {
  switch (sqlite3_column_type(stmt, i)) {
    case SQLITE_INTEGER:
      return sqlite3_column_int64(stmt, i);
    case SQLITE_FLOAT:
      return sqlite3_column_double(stmt, i);
    case SQLITE_TEXT: {
      const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
      return std::string(text, sqlite3_column_bytes(stmt, i));
    }
    case SQLITE_BLOB: {
      const auto* blob = static_cast<const char*>(sqlite3_column_blob(stmt, i));
      const int size = sqlite3_column_bytes(stmt, i);
      return size > 0 ? std::string(blob, size) : std::string();
    }
    default:
      return std::monostate{};
  }
}

class SqliteStore;

class SqliteTransaction final : public Transaction {
 public:
  SqliteTransaction(SqliteStore* store, Connection* conn, std::unique_lock<std::mutex> write_lock)
      : store_(store), conn_(conn), db_(conn->db), write_lock_(std::move(write_lock)) {}
  ~SqliteTransaction() override;

  Result<int64_t> Exec(std::string_view sql, std::span<const Value> params) override;
  Result<Rows> Query(std::string_view sql, std::span<const Value> params) override;
  Status Commit() override;

 private:
  // Prepares the single statement in sql (or takes it from the connection's cache) and binds
  // params.
  Result<StmtPtr> PrepareOne(std::string_view sql, std::span<const Value> params);
  Error Fail(Error e) {
    aborted_ = true;
    return e;
  }
  void Finish();

  SqliteStore* store_;
  Connection* conn_;
  sqlite3* db_;
  std::unique_lock<std::mutex> write_lock_;
  bool finished_ = false;
  bool aborted_ = false;
};

class SqliteStore final : public Store {
 public:
  Status OpenConnections(const OpenOptions& options) {
    for (int i = 0; i < options.pool_size; ++i) {
      sqlite3* db = nullptr;
      const int rc = sqlite3_open_v2(options.location.c_str(), &db,
                                     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
      if (db != nullptr) {
        all_.push_back(std::make_unique<Connection>());
        all_.back()->db = db;
      }
      if (rc != SQLITE_OK) {
        return Unavailable("database_unavailable",
                           fmt::format("cannot open SQLite database {}: {}", options.location,
                                       db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
      }
      sqlite3_extended_result_codes(db, 1);
      sqlite3_busy_timeout(db, kBusyTimeoutMs);
      // Switching a new database to WAL needs an exclusive lock, and SQLite does not run the
      // busy handler for it: when several processes open a new database at once, retry.
      Status s;
      for (int attempt = 0; attempt < 100; ++attempt) {
        s = ExecRaw(db,
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                    "PRAGMA foreign_keys=ON;");
        if (s.ok() || s.error().message.find("locked") == std::string::npos) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      if (!s.ok()) {
        return Unavailable("database_unavailable",
                           fmt::format("cannot set up SQLite database {}: {}", options.location,
                                       s.error().message));
      }
      pool_.Release(all_.back().get());
    }
    return Status::Ok();
  }

  Backend backend() const override { return Backend::kSqlite; }

  Result<std::unique_ptr<Transaction>> Begin(TxMode mode) override {
    std::unique_lock<std::mutex> write_lock;
    if (mode == TxMode::kWrite) write_lock = std::unique_lock(write_mu_);
    Connection* conn = pool_.Acquire();
    const Status s =
        ExecRaw(conn->db, mode == TxMode::kWrite ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED");
    if (!s.ok()) {
      pool_.Release(conn);
      return s.error();
    }
    return std::unique_ptr<Transaction>(
        std::make_unique<SqliteTransaction>(this, conn, std::move(write_lock)));
  }

  Status Ping() override {
    Connection* conn = pool_.Acquire();
    const Status s = ExecRaw(conn->db, "SELECT 1");
    pool_.Release(conn);
    return s;
  }

  Result<int> SchemaVersion() override {
    auto tx = Begin(TxMode::kRead);
    if (!tx.ok()) return tx.error();
    return ReadSchemaVersion(**tx, Backend::kSqlite);
  }

  void Release(Connection* conn) { pool_.Release(conn); }

 private:
  std::vector<std::unique_ptr<Connection>> all_;
  ConnectionPool<Connection*> pool_;
  // why: writers wait here rather than in SQLite's busy handler, which polls with sleeps and
  // can starve a writer past the busy timeout under contention.
  std::mutex write_mu_;
};

SqliteTransaction::~SqliteTransaction() {
  if (!finished_) {
    if (sqlite3_get_autocommit(db_) == 0) {
      (void)ExecRaw(db_, "ROLLBACK");
    }
    Finish();
  }
}

void SqliteTransaction::Finish() {
  finished_ = true;
  store_->Release(conn_);
  if (write_lock_.owns_lock()) write_lock_.unlock();
}

Result<StmtPtr> SqliteTransaction::PrepareOne(std::string_view sql, std::span<const Value> params) {
  const std::string key(sql);
  if (auto hit = conn_->statements.find(key); hit != conn_->statements.end()) {
    StmtPtr stmt(hit->second, StmtDeleter{.cached = true});
    ZG_RETURN_IF_ERROR(Bind(stmt.get(), params));
    return stmt;
  }
  const bool keep = conn_->statements.size() < kStatementCacheSize;
  sqlite3_stmt* raw = nullptr;
  const char* tail = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              keep ? SQLITE_PREPARE_PERSISTENT : 0, &raw, &tail);
  StmtPtr stmt(raw);
  if (rc != SQLITE_OK) return SqliteError(db_, rc);
  if (stmt == nullptr) return Internal("sql_error", "empty statement");
  const char* end = sql.data() + sql.size();
  if (tail != nullptr && tail < end) {
    sqlite3_stmt* extra = nullptr;
    rc = sqlite3_prepare_v2(db_, tail, static_cast<int>(end - tail), &extra, nullptr);
    StmtPtr extra_stmt(extra);
    if (rc != SQLITE_OK) return SqliteError(db_, rc);
    if (extra_stmt != nullptr) {
      return Internal("sql_error",
                      "several statements are allowed only in Exec without parameters");
    }
  }
  if (keep) {
    // why: cached only once known to be a single statement; from here on the cache owns it.
    conn_->statements.emplace(key, stmt.get());
    stmt.get_deleter().cached = true;
  }
  ZG_RETURN_IF_ERROR(Bind(stmt.get(), params));
  return stmt;
}

Result<int64_t> SqliteTransaction::Exec(std::string_view sql, std::span<const Value> params) {
  if (finished_) return Internal("sql_error", "transaction already finished");
  if (aborted_) return TransactionAbortedError();
  if (!params.empty()) {
    auto stmt = PrepareOne(sql, params);
    if (!stmt.ok()) return Fail(stmt.error());
    int rc;
    while ((rc = sqlite3_step(stmt->get())) == SQLITE_ROW) {
    }
    if (rc != SQLITE_DONE) return Fail(SqliteError(db_, rc));
    return static_cast<int64_t>(sqlite3_changes64(db_));
  }
  // why: migrations pass several statements in one text; run them one after another.
  const char* cur = sql.data();
  const char* end = sql.data() + sql.size();
  int64_t changes = 0;
  while (cur < end) {
    sqlite3_stmt* raw = nullptr;
    const char* tail = nullptr;
    int rc = sqlite3_prepare_v2(db_, cur, static_cast<int>(end - cur), &raw, &tail);
    StmtPtr stmt(raw);
    if (rc != SQLITE_OK) return Fail(SqliteError(db_, rc));
    if (stmt == nullptr) break;  // only whitespace or comments remain
    const Status bound = Bind(stmt.get(), {});
    if (!bound.ok()) return Fail(bound.error());
    while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    }
    if (rc != SQLITE_DONE) return Fail(SqliteError(db_, rc));
    changes = sqlite3_changes64(db_);
    cur = tail;
  }
  return changes;
}

Result<Rows> SqliteTransaction::Query(std::string_view sql, std::span<const Value> params) {
  if (finished_) return Internal("sql_error", "transaction already finished");
  if (aborted_) return TransactionAbortedError();
  auto stmt = PrepareOne(sql, params);
  if (!stmt.ok()) return Fail(stmt.error());
  sqlite3_stmt* s = stmt->get();
  Rows rows;
  // why: the columns are read after the first step. A cached statement whose tables changed
  // since it was prepared (e.g. `SELECT *` after ALTER TABLE) is recompiled by that step, and
  // only then reports its current columns.
  int rc = sqlite3_step(s);
  const int ncols = sqlite3_column_count(s);
  rows.columns.reserve(ncols);
  for (int i = 0; i < ncols; ++i) rows.columns.emplace_back(sqlite3_column_name(s, i));
  for (; rc == SQLITE_ROW; rc = sqlite3_step(s)) {
    std::vector<Value> cols;
    cols.reserve(ncols);
    for (int i = 0; i < ncols; ++i) cols.push_back(ColumnValue(s, i));
    rows.rows.emplace_back(std::move(cols));
  }
  if (rc != SQLITE_DONE) return Fail(SqliteError(db_, rc));
  return rows;
}

Status SqliteTransaction::Commit() {
  if (finished_) return Internal("sql_error", "transaction already finished");
  Status s = aborted_ ? Status(TransactionAbortedError()) : ExecRaw(db_, "COMMIT");
  if (!s.ok() && sqlite3_get_autocommit(db_) == 0) (void)ExecRaw(db_, "ROLLBACK");
  Finish();
  return s;
}

}  // namespace

Result<std::unique_ptr<Store>> OpenSqliteStore(const OpenOptions& options) {
  auto store = std::make_unique<SqliteStore>();
  ZG_RETURN_IF_ERROR(store->OpenConnections(options));
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace zengen::storage
