#include "storage/migrations.h"

#include <gtest/gtest.h>

#include <optional>
#include <thread>

#include "storage/testing.h"

namespace zengen::storage {
namespace {

TEST(MigrationsTest, VersionsAreContiguousFromOne) {
  int expected = 1;
  for (const Migration& m : AllMigrations()) {
    EXPECT_EQ(m.version, expected) << m.name;
    EXPECT_FALSE(m.name.empty());
    EXPECT_FALSE(m.sqlite_sql.empty()) << m.name;
    EXPECT_FALSE(m.postgres_sql.empty()) << m.name;
    ++expected;
  }
  EXPECT_EQ(LatestSchemaVersion(), expected - 1);
  EXPECT_GE(LatestSchemaVersion(), 1);
}

class MigrateTest : public ::testing::TestWithParam<std::string> {};

TEST_P(MigrateTest, ConcurrentMigratorsAgree) {
  auto db = ScratchDatabase::Create(GetParam());
  ASSERT_TRUE(db.ok()) << db.error().message;
  Status results[3];
  {
    std::vector<std::thread> threads;
    for (Status& result : results) {
      threads.emplace_back([&result, location = db->location()] {
        auto store = OpenStore({.location = location, .pool_size = 1});
        result = store.status();
      });
    }
    for (auto& t : threads) t.join();
  }
  for (const Status& s : results)
    EXPECT_TRUE(s.ok()) << s.error().code << ": " << s.error().message;
  auto store = OpenStore({.location = db->location(), .migrate = false});
  ASSERT_TRUE(store.ok());
  auto tx = (*store)->Begin(TxMode::kRead);
  ASSERT_TRUE(tx.ok());
  auto rows = (*tx)->Query("SELECT count(*) FROM schema_migrations");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->rows.at(0).Int(0), LatestSchemaVersion());
}

INSTANTIATE_TEST_SUITE_P(Backends, MigrateTest, ::testing::ValuesIn(TestBackends()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace zengen::storage
