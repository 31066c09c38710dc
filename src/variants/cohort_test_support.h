// A cohort variant store on a scratch metadata database (SQLite, or PostgreSQL when the test
// environment gives one) and a two-root local blob store, with Crypt4GH-sealed chunks: the
// fixture of the store's tests (variants_test) and of the region rebuild jobs' tests
// (tests/region_rebuild_test). Header-only; the test links zengen_variants, zengen_crypto and
// zengen_storage_testing.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "blobs/local_store.h"
#include "common/clock.h"
#include "crypto/crypt4gh.h"
#include "crypto/crypto.h"
#include "storage/testing.h"
#include "variants/cohort.h"

namespace zengen::variants {

class CohortFixture : public ::testing::TestWithParam<std::string> {
 protected:
  using Path = std::filesystem::path;
  CohortFixture() : clock_(std::chrono::sys_days{std::chrono::year{2026} / 12 / 7}) {}

  void SetUp() override {
    auto db = storage::ScratchDatabase::Create(GetParam());
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_.emplace(std::move(*db));
    auto store = storage::OpenStore({.location = db_->location(), .pool_size = 4});
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_ = std::move(*store);
    ASSERT_TRUE(storage::SeedOrganisations(*store_, {{"hosp-a", "hospital"}}).ok());
    dir_ = std::filesystem::temp_directory_path() / ("zg-cohort-" + crypto::ToHex(crypto::RandomBytes(6)));
    std::vector<blobs::Root> roots;
    for (const char* r : {"hot1", "hot2"}) {
      std::filesystem::create_directories(dir_ / r);
      roots.push_back({.name = r, .path = dir_ / r, .tier = "hot", .jurisdiction = "JP"});
    }
    auto blobs = blobs::LocalStore::Create(
        {.roots = roots, .allowed_jurisdictions = {"JP"}, .replicas = 2}, *store_, clock_, audit_);
    ASSERT_TRUE(blobs.ok()) << blobs.error().message;
    blobs_ = std::move(*blobs);
    const std::string secret = crypto::RandomBytes(32);
    auto pub = crypto::crypt4gh::PublicKeyFromSecret(secret);
    ASSERT_TRUE(pub.ok());
    ChunkSealer sealer{
        .seal = [secret, pub = *pub](std::string_view plain) {
          return crypto::crypt4gh::Encrypt(plain, secret, {pub});
        },
        .open = [secret](std::string_view sealed) {
          return crypto::crypt4gh::Decrypt(sealed, secret);
        }};
    cohort_ = std::make_unique<Cohort>(*store_, *blobs_, sealer, clock_, audit_,
                                       Cohort::Options{.chunk_size = 50000});
  }
  void TearDown() override {
    cohort_.reset();
    blobs_.reset();
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  void AddParticipant(const std::string& id) {
    auto tx = store_->Begin(storage::TxMode::kWrite);
    ASSERT_TRUE(tx.ok());
    auto r = (*tx)->Exec(
        "INSERT INTO participants (id, hospital_id, local_id, program, disease_category, "
        "index_date, created_by, created_at) VALUES ($1, 'hosp-a', $1, 'cancer', 'lung', "
        "'2026-01-01', 'test', '2026-01-01T00:00:00Z')",
        {storage::Text(id)});
    ASSERT_TRUE(r.ok()) << r.error().message;
    ASSERT_TRUE((*tx)->Commit().ok());
  }

  int64_t CountRows(const std::string& table) {
    auto tx = store_->Begin(storage::TxMode::kRead);
    EXPECT_TRUE(tx.ok());
    auto rows = (*tx)->Query("SELECT COUNT(*) FROM " + table);
    EXPECT_TRUE(rows.ok());
    return rows->rows[0].Int(0);
  }

  // Live chunks per region start.
  std::map<int64_t, int64_t> LiveChunks() {
    std::map<int64_t, int64_t> out;
    auto loads = cohort_->CrowdedRegions(1, 1000);
    EXPECT_TRUE(loads.ok());
    if (loads.ok()) {
      for (const auto& l : *loads) out[l.start] = l.chunks;
    }
    return out;
  }

  SourceFile Source(const std::string& file_id, const Path& path,
                    const std::vector<uint32_t>& indices) {
    SourceFile src{.file_id = file_id, .path = path, .participants = {}};
    for (uint32_t i : indices) src.participants[fmt::format("S{}", i)] = fmt::format("P{}", i);
    return src;
  }

  FakeClock clock_;
  RecordingAuditSink audit_;
  std::optional<storage::ScratchDatabase> db_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<blobs::LocalStore> blobs_;
  std::unique_ptr<Cohort> cohort_;
  Path dir_;
  const Actor actor_{.user = "steward1", .organisation = "dc", .roles = {}, .source = "test",
                     .request_id = ""};
};

}  // namespace zengen::variants
