// Issue 15, the variant ingest job's reading of the file catalogue: a pass reads the VCF/BCF
// files registered since the last pass (a created_at cursor), not every registered file each
// period; the first pass and every kFullSweepEvery-th read them all. On both metadata backends.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "app/cohort_wiring.h"
#include "app/demo.h"
#include "app/runtime.h"
#include "storage/testing.h"
#include "support/zengen_process.h"

namespace zengen::testing {
namespace {

namespace fs = std::filesystem;

class CohortSweepTest : public ::testing::TestWithParam<std::string> {};

TEST_P(CohortSweepTest, APassReadsOnlyTheFilesRegisteredSinceTheLast) {
  auto server = ZengenServer::Start(GetParam(), {}, [&](const fs::path& dir) {
    auto rt = app::Runtime::Open(dir);
    ASSERT_TRUE(rt.ok()) << rt.error().message;
    app::Runtime& r = **rt;
    ASSERT_TRUE(app::SeedDemo(r, 12).ok());
    auto count_variant_files = [&]() -> int64_t {
      auto tx = r.store->Begin(storage::TxMode::kRead);
      auto rows = (*tx)->Query("SELECT COUNT(*) FROM data_files WHERE kind IN ('vcf', 'bcf')");
      return rows.ok() ? rows->rows.at(0).Int(0) : -1;
    };
    const int64_t registered = count_variant_files();
    ASSERT_GT(registered, 0);
    auto cohort = app::MakeCohort(r);
    auto queue = app::MakeIngestQueue(r, *cohort);
    // min_age below zero: every file registered so far is old enough, whatever the clock says.
    const std::chrono::seconds min_age(-3600);
    app::VariantSweepCursor cursor;
    auto first = app::SweepVariantIngest(r, *queue, min_age, cursor);
    ASSERT_TRUE(first.ok()) << first.error().message;
    EXPECT_EQ(first->read, registered);
    ASSERT_FALSE(cursor.after.empty());
    auto second = app::SweepVariantIngest(r, *queue, min_age, cursor);
    ASSERT_TRUE(second.ok()) << second.error().message;
    EXPECT_EQ(second->read, 0) << "nothing was registered since the first pass";
    // One file "registered" after the cursor (its created_at moved past it): the next pass
    // reads that one file only.
    {
      auto tx = r.store->Begin(storage::TxMode::kWrite);
      ASSERT_TRUE(tx.ok());
      auto one = (*tx)->Query("SELECT id FROM data_files WHERE kind IN ('vcf', 'bcf') ORDER BY id");
      ASSERT_TRUE(one.ok());
      const std::string later = cursor.after.substr(0, 10) + "T23:59:59.999Z";
      ASSERT_GT(later, cursor.after);
      ASSERT_TRUE((*tx)->Exec("UPDATE data_files SET created_at = $1 WHERE id = $2",
                              {storage::Text(later), storage::Text(one->rows.at(0).Text(0))})
                      .ok());
      ASSERT_TRUE((*tx)->Commit().ok());
      cursor.after = cursor.after.substr(0, 10) + "T23:59:59.998Z";
    }
    auto third = app::SweepVariantIngest(r, *queue, std::chrono::seconds(-86400 * 2), cursor);
    ASSERT_TRUE(third.ok()) << third.error().message;
    EXPECT_EQ(third->read, 1);
    auto fourth = app::SweepVariantIngest(r, *queue, std::chrono::seconds(-86400 * 2), cursor);
    ASSERT_TRUE(fourth.ok());
    EXPECT_EQ(fourth->read, 0);
    // The periodic full pass reads the whole catalogue again.
    cursor.passes = app::kFullSweepEvery - 1;
    auto full = app::SweepVariantIngest(r, *queue, std::chrono::seconds(-86400 * 2), cursor);
    ASSERT_TRUE(full.ok());
    EXPECT_EQ(full->read, registered);
  });
  ASSERT_NE(server, nullptr);
}

INSTANTIATE_TEST_SUITE_P(Backends, CohortSweepTest, ::testing::ValuesIn(storage::TestBackends()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace zengen::testing
