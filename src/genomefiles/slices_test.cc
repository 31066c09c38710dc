// PlanSlice over real stored (Crypt4GH, two copies) BAM files, with and without SliceCache.
#include "genomefiles/slices.h"

#include <gtest/gtest.h>
#include <htslib/sam.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "blobs/local_store.h"
#include "crypto/crypt4gh.h"
#include "crypto/crypto.h"
#include "sequencing/synthetic.h"
#include "storage/testing.h"

namespace zengen::genomefiles {
namespace {

namespace fs = std::filesystem;
namespace c4gh = crypto::crypt4gh;
namespace synthetic = sequencing::synthetic;

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class SlicesTest : public ::testing::Test {
 protected:
  SlicesTest() : clock_(std::chrono::sys_days{std::chrono::year{2026} / 11 / 24}) {}

  void SetUp() override {
    auto db = storage::ScratchDatabase::Create("sqlite");
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_.emplace(std::move(*db));
    auto store = storage::OpenStore({.location = db_->location(), .pool_size = 2});
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_ = std::move(*store);
    dir_ = fs::temp_directory_path() / ("zg-slices-" + crypto::ToHex(crypto::RandomBytes(6)));
    std::vector<blobs::Root> roots;
    for (const char* name : {"hot1", "hot2"}) {
      fs::create_directories(dir_ / name);
      roots.push_back({name, dir_ / name, "hot", "JP"});
    }
    auto bs = blobs::LocalStore::Create(
        {.roots = std::move(roots), .allowed_jurisdictions = {"JP"}, .replicas = 2}, *store_,
        clock_, audit_);
    ASSERT_TRUE(bs.ok()) << bs.error().message;
    blobs_ = std::move(*bs);
    const auto dc = c4gh::GenerateKeyPair();
    keys_ = {dc.secret_key, dc.public_key};
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Store(const std::string& plain, const std::string& kind) {
    auto enc = c4gh::Encryptor::Create(keys_.secret_key, {keys_.public_key});
    EXPECT_TRUE(enc.ok());
    auto w = blobs_->Create({.kind = kind});
    EXPECT_TRUE(w.ok()) << w.error().message;
    EXPECT_TRUE((*w)->Write(enc->Update(plain)).ok());
    EXPECT_TRUE((*w)->Write(enc->Finish()).ok());
    auto info = (*w)->Commit(crypto::Sha256Hex(plain), static_cast<int64_t>(plain.size()));
    EXPECT_TRUE(info.ok()) << info.error().message;
    return info->id;
  }

  // A coordinate-sorted BAM of `pairs` read pairs with its BAI, stored as a data file would be.
  DataFile StoreBam(uint64_t seed, int pairs) {
    const auto ref = synthetic::MakeReference(seed, 2'000'000);
    const auto reads = synthetic::MakeReads(ref, seed, pairs, 150, false);
    const fs::path bam = dir_ / ("f" + std::to_string(seed) + ".bam");
    EXPECT_TRUE(synthetic::WriteBam(ref, reads, "ZG-TEST", bam).ok());
    EXPECT_EQ(sam_index_build(bam.c_str(), 0), 0);
    DataFile f;
    f.id = "FL-" + std::to_string(seed);
    f.kind = "bam";
    f.blob_id = Store(ReadAll(bam), "bam");
    f.index_blob_id = Store(ReadAll(bam.string() + ".bai"), "bam");
    return f;
  }

  FakeClock clock_;
  RecordingAuditSink audit_;
  std::optional<storage::ScratchDatabase> db_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<blobs::LocalStore> blobs_;
  UploadKeys keys_;
  fs::path dir_;
};

void ExpectSamePlan(const SlicePlan& a, const SlicePlan& b) {
  EXPECT_EQ(a.format, b.format);
  EXPECT_EQ(a.header.start, b.header.start);
  EXPECT_EQ(a.header.end, b.header.end);
  EXPECT_EQ(a.eof.start, b.eof.start);
  EXPECT_EQ(a.eof.end, b.eof.end);
  ASSERT_EQ(a.body.size(), b.body.size());
  for (size_t i = 0; i < a.body.size(); ++i) {
    EXPECT_EQ(a.body[i].start, b.body[i].start);
    EXPECT_EQ(a.body[i].end, b.body[i].end);
  }
  EXPECT_EQ(a.references, b.references);
  EXPECT_EQ(a.samples, b.samples);
}

TEST_F(SlicesTest, CachedPlansEqualFreshOnesAndRepeatedTicketsHitTheCache) {
  const auto f = StoreBam(7, 20000);
  SliceCache cache;
  const std::vector<std::vector<Region>> asks = {
      {},                                                            // whole file
      {{"chrZ", 500'000, 600'000}},                                  // one region
      {{"chrZ", 100'000, 150'000}, {"chrZ", 1'200'000, 1'300'000}},  // two
      {{"chrZ", 100'000, 150'000}},                                  // again: edge lengths cached
  };
  for (const auto& regions : asks) {
    auto fresh = PlanSlice(*blobs_, keys_, f, regions, false);
    auto cached = PlanSlice(*blobs_, keys_, f, regions, false, &cache);
    ASSERT_TRUE(fresh.ok()) << fresh.error().message;
    ASSERT_TRUE(cached.ok()) << cached.error().message;
    ExpectSamePlan(*fresh, *cached);
    if (!regions.empty()) {
      EXPECT_FALSE(cached->body.empty());
      EXPECT_LT(cached->body.back().end - cached->body.front().start,
                cached->eof.start - cached->header.end);  // a real slice
    }
  }
  auto header = PlanSlice(*blobs_, keys_, f, {}, true, &cache);
  ASSERT_TRUE(header.ok());
  EXPECT_TRUE(header->body.empty());
  EXPECT_EQ(header->samples, std::vector<std::string>{"ZG-TEST"});
  const auto stats = cache.stats();
  EXPECT_EQ(stats.misses, 1);
  EXPECT_EQ(stats.hits, 4);
  EXPECT_EQ(stats.entries, 1u);
  // Errors are answered from the cached facts too.
  auto unknown = PlanSlice(*blobs_, keys_, f, {{"chr1", 0, 10}}, false, &cache);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, "NotFound");
}

TEST_F(SlicesTest, LeastRecentlyUsedFileGoesWhenTheBudgetIsFull) {
  const auto a = StoreBam(11, 3000);
  const auto b = StoreBam(12, 3000);
  SliceCache cache(/*max_bytes=*/1);  // room for one entry only
  ASSERT_TRUE(PlanSlice(*blobs_, keys_, a, {}, true, &cache).ok());
  ASSERT_TRUE(PlanSlice(*blobs_, keys_, b, {}, true, &cache).ok());
  EXPECT_EQ(cache.stats().entries, 1u);
  ASSERT_TRUE(PlanSlice(*blobs_, keys_, b, {}, true, &cache).ok());  // b stayed
  ASSERT_TRUE(PlanSlice(*blobs_, keys_, a, {}, true, &cache).ok());  // a was evicted
  const auto stats = cache.stats();
  EXPECT_EQ(stats.hits, 1);
  EXPECT_EQ(stats.misses, 3);
}

}  // namespace
}  // namespace zengen::genomefiles
