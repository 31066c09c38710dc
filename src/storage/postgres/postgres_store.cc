#include "storage/postgres/postgres_store.h"

#include <fmt/format.h>
#include <libpq-fe.h>

#include <charconv>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "storage/connection_pool.h"
#include "storage/migrations.h"
#include "storage/store_errors.h"

namespace zengen::storage {
namespace {

// Type OIDs from pg_type.h, which is not part of the client headers.
constexpr Oid kBoolOid = 16;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kFloat4Oid = 700;
constexpr Oid kFloat8Oid = 701;

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

void IgnoreNotice(void* /*arg*/, const char* /*message*/) {}

std::string TrimmedMessage(const char* msg) {
  std::string s = msg != nullptr ? msg : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

bool Succeeded(const PGresult* res) {
  if (res == nullptr) return false;
  const ExecStatusType st = PQresultStatus(res);
  return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

bool ConnectionBroken(PGconn* conn) { return PQstatus(conn) != CONNECTION_OK; }

// Converts a failed result (or a missing one) into an Error.
Error PgError(PGconn* conn, const PGresult* res) {
  const char* state_c = res != nullptr ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  const std::string_view state = state_c != nullptr ? state_c : "";
  std::string msg = TrimmedMessage(res != nullptr ? PQresultErrorMessage(res) : "");
  if (msg.empty()) msg = TrimmedMessage(PQerrorMessage(conn));
  if (ConnectionBroken(conn) || state.starts_with("08") || state.starts_with("57P")) {
    return Unavailable("database_unavailable", msg);
  }
  if (state == "23505") return Conflict("unique_violation", msg);
  if (state.starts_with("23")) return InvalidArgument("constraint_violation", msg);
  // why: deadlocks, serialisation failures and lock timeouts are transient; the caller retries.
  if (state == "40001" || state == "40P01" || state == "55P03") {
    return Unavailable("database_busy", msg);
  }
  return Internal("sql_error", msg);
}

Value CellValue(const PGresult* res, int row, int col) {
  if (PQgetisnull(res, row, col)) return std::monostate{};
  const char* text = PQgetvalue(res, row, col);
  const int len = PQgetlength(res, row, col);
  switch (PQftype(res, col)) {
    case kInt2Oid:
    case kInt4Oid:
    case kInt8Oid: {
      int64_t v = 0;
      std::from_chars(text, text + len, v);
      return v;
    }
    case kFloat4Oid:
    case kFloat8Oid:
      // why: strtod also understands PostgreSQL's "Infinity", "-Infinity" and "NaN".
      return std::strtod(text, nullptr);
    case kBoolOid:
      return static_cast<int64_t>(len > 0 && text[0] == 't' ? 1 : 0);
    default:
      return std::string(text, len);
  }
}

// Runs sql with no parameters; on a broken connection resets it once and retries. Only for
// statements that are safe to repeat outside a transaction (BEGIN, SELECT 1).
ResultPtr ExecRetrying(PGconn* conn, const char* sql) {
  if (ConnectionBroken(conn)) PQreset(conn);
  ResultPtr res(PQexec(conn, sql));
  if (!Succeeded(res.get()) && ConnectionBroken(conn)) {
    PQreset(conn);
    res.reset(PQexec(conn, sql));
  }
  return res;
}

class PostgresStore;

class PostgresTransaction final : public Transaction {
 public:
  PostgresTransaction(PostgresStore* store, PGconn* conn) : store_(store), conn_(conn) {}
  ~PostgresTransaction() override;

  Result<int64_t> Exec(std::string_view sql, std::span<const Value> params) override;
  Result<Rows> Query(std::string_view sql, std::span<const Value> params) override;
  Status Commit() override;

 private:
  // Runs one statement through the extended protocol (single statement, $N parameters).
  ResultPtr RunParams(std::string_view sql, std::span<const Value> params);
  Error Fail(const PGresult* res) {
    aborted_ = true;
    return PgError(conn_, res);
  }
  void Finish();

  PostgresStore* store_;
  PGconn* conn_;
  bool finished_ = false;
  bool aborted_ = false;
};

class PostgresStore final : public Store {
 public:
  ~PostgresStore() override {
    for (PGconn* conn : all_) PQfinish(conn);
  }

  Status Connect(const OpenOptions& options) {
    // why: without a connect timeout an unreachable host would block for minutes; a timeout
    // given in the URL overrides this default because the URL is expanded after it.
    const char* keys[] = {"connect_timeout", "fallback_application_name", "dbname", nullptr};
    const char* values[] = {"10", "zengen", options.location.c_str(), nullptr};
    for (int i = 0; i < options.pool_size; ++i) {
      PGconn* conn = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
      if (conn == nullptr) return Unavailable("database_unavailable", "libpq out of memory");
      all_.push_back(conn);
      if (ConnectionBroken(conn)) {
        return Unavailable(
            "database_unavailable",
            fmt::format("cannot connect to PostgreSQL: {}", TrimmedMessage(PQerrorMessage(conn))));
      }
      PQsetNoticeProcessor(conn, IgnoreNotice, nullptr);
      pool_.Release(conn);
    }
    return Status::Ok();
  }

  Backend backend() const override { return Backend::kPostgres; }

  Result<std::unique_ptr<Transaction>> Begin(TxMode /*mode*/) override {
    PGconn* conn = pool_.Acquire();
    ResultPtr res = ExecRetrying(conn, "BEGIN ISOLATION LEVEL READ COMMITTED");
    if (!Succeeded(res.get())) {
      Error e = PgError(conn, res.get());
      pool_.Release(conn);
      return e;
    }
    return std::unique_ptr<Transaction>(std::make_unique<PostgresTransaction>(this, conn));
  }

  Status Ping() override {
    PGconn* conn = pool_.Acquire();
    ResultPtr res = ExecRetrying(conn, "SELECT 1");
    Status s = Succeeded(res.get()) ? Status::Ok() : Status(PgError(conn, res.get()));
    pool_.Release(conn);
    return s;
  }

  Result<int> SchemaVersion() override {
    auto tx = Begin(TxMode::kRead);
    if (!tx.ok()) return tx.error();
    return ReadSchemaVersion(**tx, Backend::kPostgres);
  }

  void Release(PGconn* conn) { pool_.Release(conn); }

 private:
  std::vector<PGconn*> all_;
  ConnectionPool<PGconn*> pool_;
};

PostgresTransaction::~PostgresTransaction() {
  if (!finished_) {
    if (!ConnectionBroken(conn_) && PQtransactionStatus(conn_) != PQTRANS_IDLE) {
      ResultPtr(PQexec(conn_, "ROLLBACK"));
    }
    Finish();
  }
}

void PostgresTransaction::Finish() {
  finished_ = true;
  store_->Release(conn_);
}

ResultPtr PostgresTransaction::RunParams(std::string_view sql, std::span<const Value> params) {
  std::vector<std::string> texts(params.size());
  std::vector<const char*> values(params.size(), nullptr);
  for (size_t i = 0; i < params.size(); ++i) {
    const Value& v = params[i];
    if (const auto* p = std::get_if<int64_t>(&v)) {
      texts[i] = std::to_string(*p);
    } else if (const auto* p = std::get_if<double>(&v)) {
      // why: "{}" is the shortest text that reads back as the same double.
      texts[i] = fmt::format("{}", *p);
    } else if (const auto* p = std::get_if<std::string>(&v)) {
      texts[i] = *p;
    } else {
      continue;  // NULL stays nullptr
    }
    values[i] = texts[i].c_str();
  }
  const std::string query(sql);
  return ResultPtr(PQexecParams(conn_, query.c_str(), static_cast<int>(params.size()), nullptr,
                                values.data(), nullptr, nullptr, /*resultFormat=*/0));
}

Result<int64_t> PostgresTransaction::Exec(std::string_view sql, std::span<const Value> params) {
  if (finished_) return Internal("sql_error", "transaction already finished");
  if (aborted_) return TransactionAbortedError();
  ResultPtr res;
  if (params.empty()) {
    // why: the simple protocol accepts several statements in one text, which migrations need.
    res.reset(PQexec(conn_, std::string(sql).c_str()));
  } else {
    res = RunParams(sql, params);
  }
  if (!Succeeded(res.get())) return Fail(res.get());
  const char* tuples = PQcmdTuples(res.get());
  int64_t n = 0;
  std::from_chars(tuples, tuples + std::strlen(tuples), n);
  return n;
}

Result<Rows> PostgresTransaction::Query(std::string_view sql, std::span<const Value> params) {
  if (finished_) return Internal("sql_error", "transaction already finished");
  if (aborted_) return TransactionAbortedError();
  ResultPtr res = RunParams(sql, params);
  if (!Succeeded(res.get())) return Fail(res.get());
  Rows rows;
  const int ncols = PQnfields(res.get());
  const int nrows = PQntuples(res.get());
  rows.columns.reserve(ncols);
  for (int c = 0; c < ncols; ++c) rows.columns.emplace_back(PQfname(res.get(), c));
  rows.rows.reserve(nrows);
  for (int r = 0; r < nrows; ++r) {
    std::vector<Value> cols;
    cols.reserve(ncols);
    for (int c = 0; c < ncols; ++c) cols.push_back(CellValue(res.get(), r, c));
    rows.rows.emplace_back(std::move(cols));
  }
  return rows;
}

Status PostgresTransaction::Commit() {
  if (finished_) return Internal("sql_error", "transaction already finished");
  Status s;
  if (aborted_) {
    s = TransactionAbortedError();
  } else {
    ResultPtr res(PQexec(conn_, "COMMIT"));
    if (!Succeeded(res.get())) {
      s = PgError(conn_, res.get());
    } else if (std::strcmp(PQcmdStatus(res.get()), "COMMIT") != 0) {
      // why: COMMIT of a transaction the server already aborted reports ROLLBACK, not an error.
      s = TransactionAbortedError();
    }
  }
  if (!s.ok() && !ConnectionBroken(conn_) && PQtransactionStatus(conn_) != PQTRANS_IDLE) {
    ResultPtr(PQexec(conn_, "ROLLBACK"));
  }
  Finish();
  return s;
}

}  // namespace

Result<std::unique_ptr<Store>> OpenPostgresStore(const OpenOptions& options) {
  auto store = std::make_unique<PostgresStore>();
  ZG_RETURN_IF_ERROR(store->Connect(options));
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace zengen::storage
