#include "storage/store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <optional>
#include <thread>

#include "storage/migrations.h"
#include "storage/testing.h"

namespace zengen::storage {
namespace {

std::string Describe(const Error& e) { return e.code + ": " + e.message; }

class StoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto db = ScratchDatabase::Create(GetParam());
    ASSERT_TRUE(db.ok()) << Describe(db.error());
    db_.emplace(std::move(db).value());
    auto store = Open();
    ASSERT_TRUE(store.ok()) << Describe(store.error());
    store_ = std::move(store).value();
  }

  Result<std::unique_ptr<Store>> Open(bool migrate = true, int pool_size = 4) {
    return OpenStore({.location = db_->location(), .pool_size = pool_size, .migrate = migrate});
  }

  std::unique_ptr<Transaction> MustBegin(TxMode mode = TxMode::kWrite) {
    auto tx = store_->Begin(mode);
    EXPECT_TRUE(tx.ok()) << Describe(tx.error());
    return tx.ok() ? std::move(tx).value() : nullptr;
  }

  // Runs sql in its own committed write transaction.
  void MustExec(std::string_view sql, std::initializer_list<Value> params = {}) {
    auto tx = MustBegin();
    ASSERT_NE(tx, nullptr);
    auto r = tx->Exec(sql, params);
    ASSERT_TRUE(r.ok()) << sql << " → " << Describe(r.error());
    const Status s = tx->Commit();
    ASSERT_TRUE(s.ok()) << Describe(s.error());
  }

  Rows MustQuery(std::string_view sql, std::initializer_list<Value> params = {}) {
    auto tx = MustBegin(TxMode::kRead);
    if (tx == nullptr) return {};
    auto r = tx->Query(sql, params);
    EXPECT_TRUE(r.ok()) << sql << " → " << Describe(r.error());
    return r.ok() ? std::move(r).value() : Rows{};
  }

  int64_t Count(std::string_view table) {
    Rows rows = MustQuery(std::string("SELECT count(*) FROM ") + std::string(table));
    return rows.empty() ? -1 : rows.rows[0].Int(0);
  }

  // Declared before store_ so that the store closes before the database is dropped.
  std::optional<ScratchDatabase> db_;
  std::unique_ptr<Store> store_;
};

TEST_P(StoreTest, ReportsItsBackend) { EXPECT_EQ(BackendName(store_->backend()), GetParam()); }

TEST_P(StoreTest, RoundTripsEveryValueTypeAndNull) {
  MustExec("CREATE TABLE v (id INTEGER PRIMARY KEY, i BIGINT, d DOUBLE PRECISION, t TEXT, n TEXT)");
  const std::string text = "héllo 'quoted' \"double\" \\ ; $1 ✓";
  MustExec("INSERT INTO v (id, i, d, t, n) VALUES ($1, $2, $3, $4, $5)",
           {Int(1), Int(std::numeric_limits<int64_t>::max()), 3.25, Text(text), Null()});
  MustExec("INSERT INTO v (id, i, d, t, n) VALUES ($1, $2, $3, $4, $5)",
           {Int(2), Int(std::numeric_limits<int64_t>::min()), -1.5e300, Text(""), Null()});
  MustExec("INSERT INTO v (id, i, d, t, n) VALUES ($1, $2, $3, $4, $5)",
           {Int(3), Null(), 0.1, Null(), Text("x")});

  Rows rows = MustQuery("SELECT id, i, d, t, n FROM v ORDER BY id");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows.columns, (std::vector<std::string>{"id", "i", "d", "t", "n"}));

  const Row& r1 = rows.rows[0];
  EXPECT_EQ(std::get<int64_t>(r1.at(0)), 1);
  EXPECT_EQ(std::get<int64_t>(r1.at(1)), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(std::get<double>(r1.at(2)), 3.25);
  EXPECT_EQ(std::get<std::string>(r1.at(3)), text);
  EXPECT_TRUE(r1.IsNull(4));

  const Row& r2 = rows.rows[1];
  EXPECT_EQ(r2.Int(1), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(r2.Double(2), -1.5e300);
  EXPECT_FALSE(r2.IsNull(3));  // the empty string is not NULL
  EXPECT_EQ(r2.Text(3), "");

  const Row& r3 = rows.rows[2];
  EXPECT_TRUE(r3.IsNull(1));
  EXPECT_EQ(r3.Int(1), 0);
  EXPECT_EQ(r3.Double(2), 0.1);
  EXPECT_TRUE(r3.IsNull(3));
  EXPECT_EQ(r3.Text(3), "");
  EXPECT_EQ(r3.Text(4), "x");
}

TEST_P(StoreTest, ParametersCanRepeatAndAppearOutOfOrder) {
  MustExec("CREATE TABLE p (a BIGINT, b TEXT, c BIGINT)");
  MustExec("INSERT INTO p (b, a, c) VALUES ($2, $1, $1)", {Int(7), Text("seven")});
  Rows rows = MustQuery("SELECT a, b, c FROM p WHERE b = $2 AND a = $1 AND c = $1",
                        {Int(7), Text("seven")});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows.rows[0].Int(0), 7);
  EXPECT_EQ(rows.rows[0].Text(1), "seven");
  EXPECT_EQ(rows.rows[0].Int(2), 7);
}

// The SQLite adapter keeps prepared statements per connection: a text used again must see its
// new parameters, recover from a failed binding, follow a schema change, and stay correct past
// the cache's bound.
TEST_P(StoreTest, RepeatedStatementsSeeTheirNewParametersAndTheCurrentSchema) {
  MustExec("CREATE TABLE r (a BIGINT, b TEXT)");
  for (int i = 0; i < 5; ++i) {
    MustExec("INSERT INTO r (a, b) VALUES ($1, $2)", {Int(i), Text(std::to_string(i * 10))});
  }
  for (int i = 0; i < 5; ++i) {
    Rows rows = MustQuery("SELECT b FROM r WHERE a = $1", {Int(i)});
    ASSERT_EQ(rows.size(), 1u) << i;
    EXPECT_EQ(rows.rows[0].Text(0), std::to_string(i * 10));
  }
  {
    auto tx = MustBegin(TxMode::kRead);
    ASSERT_NE(tx, nullptr);
    EXPECT_FALSE(tx->Query("SELECT b FROM r WHERE a = $1", {Int(1), Int(2)}).ok());
  }
  Rows again = MustQuery("SELECT b FROM r WHERE a = $1", {Int(3)});
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again.rows[0].Text(0), "30");
  EXPECT_EQ(MustQuery("SELECT * FROM r WHERE a = $1", {Int(4)}).columns.size(), 2u);
  MustExec("ALTER TABLE r ADD COLUMN c TEXT");
  Rows wider = MustQuery("SELECT * FROM r WHERE a = $1", {Int(4)});
  EXPECT_EQ(wider.columns.size(), 3u);
  for (int k = 0; k < 600; ++k) {
    Rows rows =
        MustQuery("SELECT a FROM r WHERE a = $1 AND " + std::to_string(k) + " >= 0", {Int(k % 5)});
    ASSERT_EQ(rows.size(), 1u) << k;
    EXPECT_EQ(rows.rows[0].Int(0), k % 5);
  }
  Rows first = MustQuery("SELECT a FROM r WHERE a = $1 AND 0 >= 0", {Int(2)});
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first.rows[0].Int(0), 2);
}

TEST_P(StoreTest, ExecReturnsRowsChanged) {
  MustExec("CREATE TABLE c (k TEXT PRIMARY KEY, n BIGINT NOT NULL)");
  auto tx = MustBegin();
  for (const char* k : {"a", "b", "c"}) {
    auto r = tx->Exec("INSERT INTO c (k, n) VALUES ($1, 0)", {Text(k)});
    ASSERT_TRUE(r.ok()) << Describe(r.error());
    EXPECT_EQ(*r, 1);
  }
  auto updated = tx->Exec("UPDATE c SET n = n + $1", {Int(2)});
  ASSERT_TRUE(updated.ok()) << Describe(updated.error());
  EXPECT_EQ(*updated, 3);
  auto none = tx->Exec("DELETE FROM c WHERE k = $1", {Text("zzz")});
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, 0);
  ASSERT_TRUE(tx->Commit().ok());
  Rows sum = MustQuery("SELECT SUM(n) FROM c");
  ASSERT_EQ(sum.size(), 1u);
  EXPECT_EQ(sum.rows[0].Int(0), 6);  // PostgreSQL returns numeric (as text) here
}

TEST_P(StoreTest, ExecRunsSeveralStatementsWithoutParameters) {
  MustExec(
      "CREATE TABLE m1 (x BIGINT); CREATE TABLE m2 (y TEXT);\n"
      "INSERT INTO m1 (x) VALUES (1); INSERT INTO m2 (y) VALUES ('a'); -- trailing comment\n");
  EXPECT_EQ(Count("m1"), 1);
  EXPECT_EQ(Count("m2"), 1);
}

TEST_P(StoreTest, TransactionDestroyedWithoutCommitLeavesNothing) {
  {
    auto tx = MustBegin();
    ASSERT_TRUE(tx->Exec("INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, 't')",
                         {Text("k"), Text("v")})
                    .ok());
    auto seen = tx->Query("SELECT value FROM settings WHERE key = $1", {Text("k")});
    ASSERT_TRUE(seen.ok());
    EXPECT_EQ(seen->size(), 1u);  // visible inside the transaction
  }
  EXPECT_EQ(Count("settings"), 0);
}

TEST_P(StoreTest, UniqueViolationIsConflict) {
  MustExec("INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, 't')",
           {Text("dup"), Text("1")});
  auto tx = MustBegin();
  auto r = tx->Exec("INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, 't')",
                    {Text("dup"), Text("2")});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kConflict);
  EXPECT_EQ(r.error().code, "unique_violation");
}

TEST_P(StoreTest, OtherConstraintViolationIsInvalidArgument) {
  auto tx = MustBegin();
  auto r = tx->Exec("INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, 't')",
                    {Text("k"), Null()});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kInvalidArgument);
  EXPECT_EQ(r.error().code, "constraint_violation");
}

TEST_P(StoreTest, FailedSecondStatementLeavesNoPartialWrite) {
  MustExec("INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, 't')",
           {Text("dup"), Text("1")});
  {
    auto tx = MustBegin();
    ASSERT_TRUE(tx->Exec("INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, 't')",
                         {Text("first"), Text("1")})
                    .ok());
    auto second = tx->Exec("INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, 't')",
                           {Text("dup"), Text("2")});
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.error().code, "unique_violation");
    // abandoned: destroyed without Commit
  }
  Rows rows = MustQuery("SELECT key, value FROM settings ORDER BY key");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows.rows[0].Text(0), "dup");
  EXPECT_EQ(rows.rows[0].Text(1), "1");
}

TEST_P(StoreTest, StatementFailureAbortsTheTransaction) {
  MustExec("INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, 't')",
           {Text("dup"), Text("1")});
  auto tx = MustBegin();
  ASSERT_TRUE(tx->Exec("INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, 't')",
                       {Text("a"), Text("1")})
                  .ok());
  ASSERT_FALSE(tx->Exec("INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, 't')",
                        {Text("dup"), Text("2")})
                   .ok());
  auto later = tx->Query("SELECT count(*) FROM settings");
  ASSERT_FALSE(later.ok());
  EXPECT_EQ(later.error().code, "transaction_aborted");
  const Status commit = tx->Commit();
  ASSERT_FALSE(commit.ok());
  EXPECT_EQ(commit.error().code, "transaction_aborted");
  tx.reset();
  EXPECT_EQ(Count("settings"), 1);
}

TEST_P(StoreTest, SqlErrorIsInternal) {
  auto tx = MustBegin(TxMode::kRead);
  auto r = tx->Query("SELECT no_such_column FROM settings");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kInternal);
  EXPECT_EQ(r.error().code, "sql_error");
  EXPECT_FALSE(r.error().message.empty());
}

TEST_P(StoreTest, CommitFinishesTheTransaction) {
  auto tx = MustBegin();
  ASSERT_TRUE(tx->Exec("INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, 't')",
                       {Text("k"), Text("v")})
                  .ok());
  ASSERT_TRUE(tx->Commit().ok());
  EXPECT_FALSE(tx->Commit().ok());
  EXPECT_FALSE(tx->Exec("DELETE FROM settings").ok());
  tx.reset();
  EXPECT_EQ(Count("settings"), 1);
}

TEST_P(StoreTest, MigrationsAreRecordedAndNotReapplied) {
  auto version = store_->SchemaVersion();
  ASSERT_TRUE(version.ok()) << Describe(version.error());
  EXPECT_EQ(*version, LatestSchemaVersion());

  Rows before =
      MustQuery("SELECT version, name, applied_at FROM schema_migrations ORDER BY version");
  ASSERT_EQ(before.size(), static_cast<size_t>(LatestSchemaVersion()));
  EXPECT_EQ(before.rows[0].Int(0), 1);
  EXPECT_EQ(before.rows[0].Text(1), "settings");
  const std::string applied_at = before.rows[0].Text(2);
  EXPECT_EQ(applied_at.size(), std::string("2026-11-24T19:30:00.123Z").size()) << applied_at;
  EXPECT_EQ(applied_at.back(), 'Z');

  MustExec("INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, 't')",
           {Text("keep"), Text("me")});
  store_.reset();
  auto reopened = Open();
  ASSERT_TRUE(reopened.ok()) << Describe(reopened.error());
  store_ = std::move(reopened).value();
  Rows after =
      MustQuery("SELECT version, name, applied_at FROM schema_migrations ORDER BY version");
  ASSERT_EQ(after.size(), before.size());
  EXPECT_EQ(after.rows[0].Text(2), applied_at);
  EXPECT_EQ(Count("settings"), 1);
}

TEST_P(StoreTest, OpenWithoutMigrateLeavesSchemaAlone) {
  auto db = ScratchDatabase::Create(GetParam());
  ASSERT_TRUE(db.ok()) << Describe(db.error());
  {
    auto raw = OpenStore({.location = db->location(), .migrate = false});
    ASSERT_TRUE(raw.ok()) << Describe(raw.error());
    auto version = (*raw)->SchemaVersion();
    ASSERT_TRUE(version.ok()) << Describe(version.error());
    EXPECT_EQ(*version, 0);
    const Status s = Migrate(**raw);
    ASSERT_TRUE(s.ok()) << Describe(s.error());
    EXPECT_EQ((*raw)->SchemaVersion().value(), LatestSchemaVersion());
  }
}

TEST_P(StoreTest, NewerSchemaIsRefused) {
  const int future = LatestSchemaVersion() + 4;
  MustExec("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
           {Int(future), Text("from_the_future"), Text("2030-01-01T00:00:00.000Z")});
  store_.reset();
  auto reopened = Open();
  ASSERT_FALSE(reopened.ok());
  EXPECT_EQ(reopened.error().kind, ErrorKind::kConflict);
  EXPECT_EQ(reopened.error().code, "schema_too_new");
  EXPECT_NE(reopened.error().message.find(std::to_string(future)), std::string::npos)
      << reopened.error().message;

  // Opening without migrating still works, e.g. for inspection.
  auto raw = Open(/*migrate=*/false);
  ASSERT_TRUE(raw.ok()) << Describe(raw.error());
  EXPECT_EQ((*raw)->SchemaVersion().value(), future);
}

TEST_P(StoreTest, Ping) {
  const Status s = store_->Ping();
  EXPECT_TRUE(s.ok()) << Describe(s.error());
}

TEST_P(StoreTest, ConcurrentWriteTransactionsAllSucceed) {
  MustExec("CREATE TABLE events (id INTEGER PRIMARY KEY, writer BIGINT NOT NULL, n BIGINT)");
  constexpr int kPerThread = 200;
  std::atomic<int> failures{0};
  std::string first_error;
  std::mutex error_mu;
  auto writer = [&](int w) {
    for (int i = 0; i < kPerThread; ++i) {
      auto tx = store_->Begin(TxMode::kWrite);
      Status s = tx.status();
      if (s.ok()) {
        auto r = (*tx)->Exec("INSERT INTO events (id, writer, n) VALUES ($1, $2, $3)",
                             {Int(w * 100000 + i), Int(w), Int(i)});
        s = r.ok() ? (*tx)->Commit() : r.status();
      }
      if (!s.ok()) {
        ++failures;
        std::lock_guard lock(error_mu);
        if (first_error.empty()) first_error = Describe(s.error());
      }
    }
  };
  std::thread a(writer, 1);
  std::thread b(writer, 2);
  a.join();
  b.join();
  EXPECT_EQ(failures.load(), 0) << first_error;
  EXPECT_EQ(Count("events"), 2 * kPerThread);
}

TEST_P(StoreTest, BeginWaitsForAFreeConnection) {
  auto opened = Open(/*migrate=*/true, /*pool_size=*/1);
  ASSERT_TRUE(opened.ok()) << Describe(opened.error());
  std::unique_ptr<Store> store = std::move(opened).value();
  auto held = store->Begin(TxMode::kRead);
  ASSERT_TRUE(held.ok());
  std::atomic<bool> started{false};
  std::thread other([&] {
    auto tx = store->Begin(TxMode::kRead);
    EXPECT_TRUE(tx.ok());
    started = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(started.load());
  held.value().reset();
  other.join();
  EXPECT_TRUE(started.load());
}

TEST_P(StoreTest, BrokenPostgresConnectionIsReset) {
  if (GetParam() != "postgres") GTEST_SKIP() << "PostgreSQL only";
  auto opened = Open(/*migrate=*/false, /*pool_size=*/1);
  ASSERT_TRUE(opened.ok()) << Describe(opened.error());
  std::unique_ptr<Store> store = std::move(opened).value();
  {
    auto tx = store->Begin(TxMode::kRead);
    ASSERT_TRUE(tx.ok());
    auto killed = (*tx)->Query("SELECT pg_terminate_backend(pg_backend_pid())");
    ASSERT_FALSE(killed.ok());
    EXPECT_EQ(killed.error().kind, ErrorKind::kUnavailable) << Describe(killed.error());
  }
  const Status ping = store->Ping();
  EXPECT_TRUE(ping.ok()) << Describe(ping.error());
  auto tx = store->Begin(TxMode::kRead);
  ASSERT_TRUE(tx.ok()) << Describe(tx.error());
  EXPECT_TRUE((*tx)->Query("SELECT 1").ok());
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest, ::testing::ValuesIn(TestBackends()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

TEST(RowTest, AccessorsConvert) {
  Row row({Int(42), 2.5, Text("17"), Null(), Text("12.0"), Text("abc")});
  EXPECT_EQ(row.size(), 6u);
  EXPECT_EQ(row.Int(0), 42);
  EXPECT_EQ(row.Text(0), "42");
  EXPECT_EQ(row.Double(0), 42.0);
  EXPECT_EQ(row.Double(1), 2.5);
  EXPECT_EQ(row.Int(1), 2);
  EXPECT_EQ(row.Text(1), "2.5");
  EXPECT_EQ(row.Int(2), 17);
  EXPECT_EQ(row.Double(2), 17.0);
  EXPECT_TRUE(row.IsNull(3));
  EXPECT_EQ(row.Int(3), 0);
  EXPECT_EQ(row.Double(3), 0.0);
  EXPECT_EQ(row.Text(3), "");
  EXPECT_EQ(row.Int(4), 12);
  EXPECT_EQ(row.Int(5), 0);
}

TEST(BackendNameTest, Names) {
  EXPECT_EQ(BackendName(Backend::kSqlite), "sqlite");
  EXPECT_EQ(BackendName(Backend::kPostgres), "postgres");
}

TEST(OpenStoreTest, UnreachablePostgresIsUnavailable) {
  for (const char* url : {"postgres://postgres@127.0.0.1:1/postgres",
                          "postgresql://postgres@127.0.0.1:1/postgres?connect_timeout=5"}) {
    auto store = OpenStore({.location = url});
    ASSERT_FALSE(store.ok()) << url;
    EXPECT_EQ(store.error().kind, ErrorKind::kUnavailable) << url;
    EXPECT_EQ(store.error().code, "database_unavailable") << url;
  }
}

TEST(OpenStoreTest, UnopenableSqliteFileIsUnavailable) {
  auto store = OpenStore({.location = "/nonexistent-zengen-dir/sub/zengen.db"});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().kind, ErrorKind::kUnavailable);
}

TEST(OpenStoreTest, RejectsBadOptions) {
  auto empty = OpenStore({.location = ""});
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().kind, ErrorKind::kInvalidArgument);
  auto db = ScratchDatabase::Create("sqlite");
  ASSERT_TRUE(db.ok());
  auto no_pool = OpenStore({.location = db->location(), .pool_size = 0});
  ASSERT_FALSE(no_pool.ok());
  EXPECT_EQ(no_pool.error().code, "invalid_pool_size");
}

TEST(SqliteStoreTest, BlobsComeBackAsBytes) {
  auto db = ScratchDatabase::Create("sqlite");
  ASSERT_TRUE(db.ok());
  auto store = OpenStore({.location = db->location()});
  ASSERT_TRUE(store.ok()) << Describe(store.error());
  auto tx = (*store)->Begin(TxMode::kRead);
  ASSERT_TRUE(tx.ok());
  auto rows = (*tx)->Query("SELECT X'00FF41'");
  ASSERT_TRUE(rows.ok()) << Describe(rows.error());
  EXPECT_EQ(rows->rows.at(0).Text(0), std::string("\x00\xff"
                                                  "A",
                                                  3));
}

TEST(SqliteStoreTest, UnknownPlaceholderIsAnError) {
  auto db = ScratchDatabase::Create("sqlite");
  ASSERT_TRUE(db.ok());
  auto store = OpenStore({.location = db->location()});
  ASSERT_TRUE(store.ok());
  auto tx = (*store)->Begin(TxMode::kRead);
  ASSERT_TRUE(tx.ok());
  EXPECT_FALSE((*tx)->Query("SELECT $2", {Int(1)}).ok());
}

TEST(SqliteStoreTest, ScratchDirectoryIsRemoved) {
  std::string location;
  {
    auto db = ScratchDatabase::Create("sqlite");
    ASSERT_TRUE(db.ok());
    location = db->location();
    ScratchDatabase moved = std::move(db).value();
    auto store = OpenStore({.location = moved.location()});
    ASSERT_TRUE(store.ok());
  }
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::path(location).parent_path()));
}

TEST(TestingTest, PostgresUrlWithDatabase) {
  EXPECT_EQ(PostgresUrlWithDatabase("postgres://u@h:5/postgres", "zt_1"), "postgres://u@h:5/zt_1");
  EXPECT_EQ(PostgresUrlWithDatabase("postgres://u@h:5", "zt_1"), "postgres://u@h:5/zt_1");
  EXPECT_EQ(PostgresUrlWithDatabase("postgresql://u:p@h/db?sslmode=disable", "zt_1"),
            "postgresql://u:p@h/zt_1?sslmode=disable");
  EXPECT_EQ(PostgresUrlWithDatabase("postgres://h?x=1", "zt_1"), "postgres://h/zt_1?x=1");
}

}  // namespace
}  // namespace zengen::storage
