#include <gtest/gtest.h>

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>

#include "blobs/local_store.h"
#include "crypto/crypto.h"
#include "s3/s3_client.h"
#include "storage/testing.h"

namespace zengen::blobs {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const fs::path& p, std::string_view data) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

// Every regular file below dir (temporary files included).
std::vector<fs::path> FilesUnder(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  if (!fs::exists(dir, ec)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) out.push_back(e.path());
  }
  return out;
}

// Deterministic, incompressible-looking test content.
std::string Pattern(size_t n, uint32_t seed) {
  std::string s(n, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    s[i] = static_cast<char>(x & 0xff);
  }
  return s;
}

std::string PlainSha(std::string_view data) { return crypto::Sha256Hex(data); }

// The Ceph RGW that scripts/test.sh starts: ZENGEN_TEST_S3="ENDPOINT ACCESS SECRET".
struct Gateway {
  std::string endpoint, access, secret;
};
std::optional<Gateway> TestGateway() {
  const char* v = std::getenv("ZENGEN_TEST_S3");
  if (v == nullptr || *v == '\0') return std::nullopt;
  std::istringstream in(v);
  Gateway g;
  in >> g.endpoint >> g.access >> g.secret;
  if (g.secret.empty()) return std::nullopt;
  return g;
}

// The whole suite runs on each database backend and on two layouts of sites:
//   "local"  every site a local directory;
//   "rgw"    hot2, hot3 and cold2 are buckets on the Ceph RGW (5 MiB parts, so that objects
//            of more than 5 MiB are multipart uploads of several parts), the others local.
// Tests address copies through ReadCopy / WriteCopy / RemoveCopy / Leftovers, which act on
// the file or on the bucket "behind the store's back".
using Param = std::tuple<std::string, std::string>;

class BlobsTest : public ::testing::TestWithParam<Param> {
 protected:
  BlobsTest() : clock_(std::chrono::sys_days{std::chrono::year{2026} / 11 / 24}) {}

  void SetUp() override {
    if (Rgw()) {
      auto g = TestGateway();
      if (!g) {
        const char* req = std::getenv("ZENGEN_REQUIRE_S3");
        if (req != nullptr && std::string(req) == "1") {
          FAIL() << "ZENGEN_REQUIRE_S3=1 but ZENGEN_TEST_S3 is not set";
        }
        GTEST_SKIP() << "no Ceph RGW for tests (set ZENGEN_TEST_S3)";
      }
      gw_ = *g;
      auto c = s3::S3Client::Create({.endpoint = gw_.endpoint, .access_key = gw_.access,
                                     .secret_key = gw_.secret});
      ASSERT_TRUE(c.ok()) << c.error().message;
      s3_ = std::move(*c);
      bucket_prefix_ = "zgb-" + crypto::ToHex(crypto::RandomBytes(5));
      for (const char* site : {"hot2", "hot3", "cold2"}) {
        ASSERT_TRUE(s3_->CreateBucket(Bucket(site)).ok());
      }
    }
    auto db = storage::ScratchDatabase::Create(std::get<0>(GetParam()));
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_.emplace(std::move(*db));
    auto store = storage::OpenStore({.location = db_->location(), .pool_size = 4});
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_ = std::move(*store);
    dir_ = fs::temp_directory_path() / ("zg-blobs-" + crypto::ToHex(crypto::RandomBytes(6)));
    for (const char* r : {"hot1", "hot2", "hot3", "cold1", "cold2", "hot-us"}) {
      fs::create_directories(dir_ / r);
    }
  }
  void TearDown() override {
    blobs_.reset();
    store_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  bool Rgw() const { return std::get<1>(GetParam()) == "rgw"; }
  bool IsS3(std::string_view name) const {
    return Rgw() && (name == "hot2" || name == "hot3" || name == "cold2");
  }
  std::string Bucket(std::string_view site) const {
    return bucket_prefix_ + "-" + std::string(site);
  }

  Root R(std::string name, std::string tier, std::string jurisdiction = "JP") {
    if (IsS3(name)) {
      return {.name = name, .tier = tier, .jurisdiction = jurisdiction, .kind = "s3",
              .endpoint = gw_.endpoint, .bucket = Bucket(name), .access_key = gw_.access,
              .secret_key = gw_.secret, .part_size = 5LL << 20};
    }
    return {.name = name, .path = dir_ / name, .tier = tier, .jurisdiction = jurisdiction};
  }

  // Two hot and two cold roots in JP, one hot root in the US; JP allowed; two copies.
  LocalStore& Open(std::vector<Root> roots = {}, int replicas = 2) {
    if (roots.empty()) {
      roots = {R("hot1", "hot"), R("hot2", "hot"), R("cold1", "cold"), R("cold2", "cold"),
               R("hot-us", "hot", "US")};
    }
    blobs_.reset();
    auto s = LocalStore::Create({.roots = std::move(roots),
                                 .allowed_jurisdictions = {"JP"},
                                 .replicas = replicas},
                                *store_, clock_, audit_);
    EXPECT_TRUE(s.ok()) << s.error().message;
    blobs_ = std::move(*s);
    return *blobs_;
  }

  // Stores data streamed in chunks; fails the test on error.
  BlobInfo Put(const std::string& data, std::string kind = "cram", size_t chunk = 65536) {
    auto w = blobs_->Create({.kind = kind});
    EXPECT_TRUE(w.ok()) << w.error().code << ": " << w.error().message;
    if (!w.ok()) return {};
    for (size_t off = 0; off < data.size(); off += chunk) {
      Status s = (*w)->Write(std::string_view(data).substr(off, chunk));
      EXPECT_TRUE(s.ok()) << s.error().message;
    }
    auto info = (*w)->Commit(PlainSha("plain:" + data), static_cast<int64_t>(data.size()) + 6);
    EXPECT_TRUE(info.ok()) << info.error().code << ": " << info.error().message;
    return info.ok() ? *info : BlobInfo{};
  }

  std::string ReadAll(const std::string& id) {
    auto r = blobs_->Open(id);
    EXPECT_TRUE(r.ok()) << r.error().message;
    if (!r.ok()) return "<error>";
    auto all = (*r)->ReadAt(0, static_cast<size_t>((*r)->info().size) + 10);
    EXPECT_TRUE(all.ok());
    return all.ok() ? *all : "<error>";
  }

  int64_t Count(std::string_view table) {
    auto tx = store_->Begin(storage::TxMode::kRead);
    EXPECT_TRUE(tx.ok());
    auto rows = (*tx)->Query(std::string("SELECT COUNT(*) FROM ") + std::string(table));
    EXPECT_TRUE(rows.ok());
    return rows->rows[0].Int(0);
  }

  // "site:status" of each recorded copy of an object, in site order.
  std::vector<std::string> Statuses(const std::string& id) {
    auto st = blobs_->Stat(id);
    EXPECT_TRUE(st.ok());
    std::vector<std::string> out;
    if (st.ok()) {
      for (const auto& c : st->copies) out.push_back(c.root + ":" + c.status);
    }
    return out;
  }

  fs::path CopyPath(const BlobInfo& b, std::string_view root) {
    return dir_ / std::string(root) / b.copies.at(0).path;
  }

  // The bytes of the copy at a site as they are there now ("<absent>" when there is none).
  std::string ReadCopy(const BlobInfo& b, std::string_view site) {
    if (!IsS3(site)) {
      if (!fs::exists(CopyPath(b, site))) return "<absent>";
      return ReadFile(CopyPath(b, site));
    }
    std::string out;
    Status s = s3_->Get(Bucket(site), b.copies.at(0).path, 0, [&](std::string_view p) {
      out.append(p);
      return true;
    });
    return s.ok() ? out : "<absent>";
  }
  // Replaces or removes a copy behind the store's back.
  void WriteCopy(const BlobInfo& b, std::string_view site, std::string_view bytes) {
    if (!IsS3(site)) {
      fs::create_directories(CopyPath(b, site).parent_path());
      return WriteFile(CopyPath(b, site), bytes);
    }
    ASSERT_TRUE(s3_->Put(Bucket(site), b.copies.at(0).path, bytes).ok());
  }
  void RemoveCopy(const BlobInfo& b, std::string_view site) {
    if (!IsS3(site)) {
      ASSERT_TRUE(fs::remove(CopyPath(b, site)));
      return;
    }
    ASSERT_TRUE(s3_->Delete(Bucket(site), b.copies.at(0).path).ok());
  }
  // Everything any site holds: local files (temporary ones included), and per S3 site its
  // objects and unfinished multipart uploads.
  std::vector<std::string> Leftovers() {
    std::vector<std::string> out;
    for (const auto& p : FilesUnder(dir_)) out.push_back(p.string());
    if (Rgw()) {
      for (const char* site : {"hot2", "hot3", "cold2"}) {
        auto objects = s3_->List(Bucket(site), "");
        EXPECT_TRUE(objects.ok());
        if (objects.ok()) {
          for (const auto& o : *objects) out.push_back(std::string(site) + ":" + o.key);
        }
        auto uploads = s3_->ListMultipart(Bucket(site), "");
        EXPECT_TRUE(uploads.ok());
        if (uploads.ok()) {
          for (const auto& u : *uploads) out.push_back(std::string(site) + ":upload:" + u.key);
        }
      }
    }
    return out;
  }
  // Aborts every unfinished upload at an S3 site (the site losing them mid-write).
  void AbortUploadsAt(std::string_view site) {
    auto uploads = s3_->ListMultipart(Bucket(site), "");
    ASSERT_TRUE(uploads.ok());
    ASSERT_FALSE(uploads->empty());
    for (const auto& u : *uploads) {
      ASSERT_TRUE(s3_->AbortMultipart(Bucket(site), u.key, u.upload_id).ok());
    }
  }

  FakeClock clock_;
  RecordingAuditSink audit_;
  std::optional<storage::ScratchDatabase> db_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<LocalStore> blobs_;
  fs::path dir_;
  Gateway gw_;
  std::unique_ptr<s3::S3Client> s3_;
  std::string bucket_prefix_;
};

TEST_P(BlobsTest, RoundTripEmptySmallAndMultiMegabyteStreamed) {
  Open();
  for (const std::string& data : {std::string(), std::string("crypt4gh ciphertext"),
                                  Pattern(5 * 1024 * 1024 + 123, 7)}) {
    BlobInfo info = Put(data);
    ASSERT_FALSE(info.id.empty());
    EXPECT_TRUE(info.id.starts_with("blob_"));
    EXPECT_EQ(info.id.size(), 37u);
    EXPECT_EQ(info.size, static_cast<int64_t>(data.size()));
    EXPECT_EQ(info.stored_sha256, crypto::Sha256Hex(data));
    EXPECT_EQ(info.plaintext_sha256, PlainSha("plain:" + data));
    EXPECT_EQ(info.plaintext_size, static_cast<int64_t>(data.size()) + 6);
    EXPECT_EQ(ReadAll(info.id), data);

    auto stat = blobs_->Stat(info.id);
    ASSERT_TRUE(stat.ok());
    EXPECT_EQ(stat->stored_sha256, info.stored_sha256);
    EXPECT_EQ(stat->plaintext_sha256, info.plaintext_sha256);
    EXPECT_EQ(stat->created_at, "2026-11-24T00:00:00.000Z");
    EXPECT_EQ(stat->media_type, "application/octet-stream");
    ASSERT_EQ(stat->copies.size(), 2u);
  }
  EXPECT_EQ(Count("blobs"), 3);
  EXPECT_EQ(Count("blob_copies"), 6);
  ASSERT_FALSE(audit_.events().empty());
  EXPECT_EQ(audit_.events().back().action, "blob.write");
}

TEST_P(BlobsTest, EveryCopyIsOnADifferentRootAndVerified) {
  Open({R("hot1", "hot"), R("hot2", "hot"), R("hot3", "hot")}, 3);
  std::string data = Pattern(300000, 3);
  BlobInfo info = Put(data, "vcf", 4096);
  ASSERT_EQ(info.copies.size(), 3u);
  std::set<std::string> roots;
  for (const auto& c : info.copies) {
    roots.insert(c.root);
    EXPECT_EQ(c.sha256, crypto::Sha256Hex(data));
    EXPECT_EQ(c.status, "ok");
    EXPECT_EQ(c.verified_at, "2026-11-24T00:00:00.000Z");
    EXPECT_EQ(crypto::Sha256Hex(ReadCopy(info, c.root)), c.sha256) << c.root;
    EXPECT_EQ(c.size, 300000);
    // <root>/<2 hex>/<2 hex>/<id>
    EXPECT_EQ(c.path, info.id.substr(5, 2) + "/" + info.id.substr(7, 2) + "/" + info.id);
  }
  EXPECT_EQ(roots.size(), 3u);
  auto stat = blobs_->Stat(info.id);
  ASSERT_TRUE(stat.ok());
  ASSERT_EQ(stat->copies.size(), 3u);
  for (const auto& c : stat->copies) EXPECT_EQ(c.sha256, info.stored_sha256);
}

TEST_P(BlobsTest, FastqGoesToColdRootsCramAndVcfToHot) {
  Open();
  BlobInfo fq = Put("@r1\nACGT\n+\nIIII\n", "fastq");
  EXPECT_EQ(fq.tier, "cold");
  for (const auto& c : fq.copies) EXPECT_TRUE(c.root.starts_with("cold")) << c.root;
  for (const char* kind : {"cram", "vcf", "bam", "bcf", "other"}) {
    BlobInfo b = Put("x", kind);
    EXPECT_EQ(b.tier, "hot") << kind;
    for (const auto& c : b.copies) EXPECT_TRUE(c.root.starts_with("hot")) << c.root;
  }
  // An explicit tier wins over the kind's default.
  auto w = blobs_->Create({.kind = "cram", .tier = "cold"});
  ASSERT_TRUE(w.ok());
  auto info = (*w)->Commit(PlainSha(""), 0);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->tier, "cold");
  for (const auto& c : info->copies) EXPECT_TRUE(c.root.starts_with("cold"));

  EXPECT_EQ(blobs_->Create({.kind = "fasta"}).error().code, "invalid_kind");
  EXPECT_EQ(blobs_->Create({.kind = "cram", .tier = "warm"}).error().code, "invalid_tier");
}

TEST_P(BlobsTest, PlacementNeverUsesARootOutsideAllowedJurisdictions) {
  Open();  // hot1, hot2 in JP; hot-us in the US
  for (int i = 0; i < 20; ++i) {
    BlobInfo b = Put(Pattern(1000, i), "cram");
    for (const auto& c : b.copies) EXPECT_NE(c.root, "hot-us");
  }
  EXPECT_TRUE(FilesUnder(dir_ / "hot-us").empty());

  // With one JP hot root left, the US root does not make up the number.
  size_t hot1_files = FilesUnder(dir_ / "hot1").size();
  Open({R("hot1", "hot"), R("hot-us", "hot", "US"), R("cold1", "cold"), R("cold2", "cold")});
  auto w = blobs_->Create({.kind = "cram"});
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error().code, "insufficient_roots");
  EXPECT_EQ(w.error().kind, ErrorKind::kUnavailable);
  EXPECT_NE(w.error().message.find("hot"), std::string::npos) << w.error().message;
  EXPECT_NE(w.error().message.find("JP"), std::string::npos) << w.error().message;
  EXPECT_TRUE(FilesUnder(dir_ / "hot-us").empty());
  EXPECT_EQ(FilesUnder(dir_ / "hot1").size(), hot1_files);
}

TEST_P(BlobsTest, TooFewRootsIsAnError) {
  Open({R("hot1", "hot"), R("hot2", "hot"), R("cold1", "cold"), R("cold2", "cold")}, 3);
  auto w = blobs_->Create({.kind = "fastq"});
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error().code, "insufficient_roots");
  EXPECT_NE(w.error().message.find("cold"), std::string::npos) << w.error().message;

  // A root whose directory is absent (unmounted) is not usable, and is never created.
  Open({R("hot1", "hot"), R("gone", "hot")}, 2);
  w = blobs_->Create({.kind = "cram"});
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error().code, "insufficient_roots");
  EXPECT_FALSE(fs::exists(dir_ / "gone"));

  // Configuration errors.
  auto one = LocalStore::Create({.roots = {R("hot1", "hot")}, .allowed_jurisdictions = {"JP"},
                                 .replicas = 1},
                                *store_, clock_, audit_);
  EXPECT_EQ(one.error().code, "invalid_blob_store_config");
  auto none = LocalStore::Create({.roots = {R("hot1", "hot")}, .allowed_jurisdictions = {}},
                                 *store_, clock_, audit_);
  EXPECT_EQ(none.error().code, "invalid_blob_store_config");
  auto dup = LocalStore::Create({.roots = {R("hot1", "hot"), R("hot1", "hot")},
                                 .allowed_jurisdictions = {"JP"}},
                                *store_, clock_, audit_);
  EXPECT_EQ(dup.error().code, "invalid_blob_store_config");
}

TEST_P(BlobsTest, AbortedOrDroppedWriterLeavesNothing) {
  Open();
  {
    auto w = blobs_->Create({.kind = "cram"});
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Write(Pattern(100000, 1)).ok());
    EXPECT_EQ(Leftovers().size(), 2u);  // the two temporary files or unfinished uploads
    (*w)->Abort();
    EXPECT_TRUE(Leftovers().empty());
    EXPECT_FALSE((*w)->Write("more").ok());
    EXPECT_FALSE((*w)->Commit(PlainSha("x"), 1).ok());
  }
  {
    auto w = blobs_->Create({.kind = "fastq"});
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Write(Pattern(100000, 2)).ok());
  }  // destroyed without Commit
  EXPECT_TRUE(Leftovers().empty());
  {
    // A bad plaintext digest at Commit also leaves nothing.
    auto w = blobs_->Create({.kind = "cram"});
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Write("abc").ok());
    auto c = (*w)->Commit("not-a-digest", 3);
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.error().code, "invalid_plaintext_sha256");
  }
  {
    // A digest announced at Create must match the one given at Commit.
    auto w = blobs_->Create({.kind = "cram", .plaintext_sha256 = PlainSha("a")});
    ASSERT_TRUE(w.ok());
    auto c = (*w)->Commit(PlainSha("b"), 1);
    EXPECT_EQ(c.error().code, "plaintext_sha256_mismatch");
  }
  EXPECT_TRUE(Leftovers().empty());
  EXPECT_EQ(Count("blobs"), 0);
  EXPECT_EQ(Count("blob_copies"), 0);
}

TEST_P(BlobsTest, RootRemovedMidWriteStoresNothing) {
  Open();
  auto w = blobs_->Create({.kind = "cram"});
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Write(Pattern(200000, 5)).ok());
  // One of the two hot sites loses the copy before Commit: a directory disappears (a failed
  // mount, a removed disk), or the object store drops the unfinished upload.
  if (IsS3("hot2")) {
    AbortUploadsAt("hot2");
  } else {
    fs::remove_all(dir_ / "hot2");
  }
  (void)(*w)->Write(Pattern(1000, 6));
  auto info = (*w)->Commit(PlainSha("p"), 1);
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.error().kind, ErrorKind::kUnavailable) << info.error().message;
  EXPECT_TRUE(FilesUnder(dir_ / "hot1").empty());
  EXPECT_TRUE(Leftovers().empty());
  EXPECT_EQ(Count("blobs"), 0);
  EXPECT_EQ(Count("blob_copies"), 0);
  // With the root gone, the next object cannot reach two copies.
  if (!IsS3("hot2")) {
    EXPECT_EQ(blobs_->Create({.kind = "cram"}).error().code, "insufficient_roots");
  }
}

TEST_P(BlobsTest, CopyVanishingBeforeVerificationStoresNothing) {
  Open();
  auto w = blobs_->Create({.kind = "cram"});
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Write("data").ok());
  // A temporary copy removed behind the writer's back is caught by the read-back.
  auto temps = FilesUnder(dir_ / "hot1");
  ASSERT_EQ(temps.size(), 1u);
  EXPECT_TRUE(temps[0].filename().string().starts_with(".blob_"));
  EXPECT_NE(temps[0].filename().string().find(".tmp-"), std::string::npos);
  fs::remove(temps[0]);
  auto info = (*w)->Commit(PlainSha("data"), 4);
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.error().code, "blob_verify_failed");
  EXPECT_TRUE(Leftovers().empty());
  EXPECT_EQ(Count("blobs"), 0);
}

TEST_P(BlobsTest, RangeReads) {
  Open();
  std::string data = Pattern(1 << 20, 9);
  BlobInfo info = Put(data, "bam");
  // From each copy in turn (hot2 is an S3 bucket in the rgw layout: ranged GETs).
  for (const auto& skip : {std::vector<std::string>{}, std::vector<std::string>{"hot1"}}) {
  auto r = blobs_->OpenExcept(info.id, skip);
  ASSERT_TRUE(r.ok());
  EXPECT_NE((*r)->root(), skip.empty() ? "" : skip[0]);
  EXPECT_EQ((*r)->info().size, static_cast<int64_t>(data.size()));
  EXPECT_EQ(*(*r)->ReadAt(0, 10), data.substr(0, 10));
  EXPECT_EQ(*(*r)->ReadAt(500000, 70000), data.substr(500000, 70000));
  EXPECT_EQ(*(*r)->ReadAt(static_cast<int64_t>(data.size()) - 5, 100), data.substr(data.size() - 5));
  EXPECT_EQ(*(*r)->ReadAt(static_cast<int64_t>(data.size()), 100), "");
  EXPECT_EQ(*(*r)->ReadAt(7, 0), "");
  auto past = (*r)->ReadAt(static_cast<int64_t>(data.size()) + 1, 1);
  ASSERT_FALSE(past.ok());
  EXPECT_EQ(past.error().code, "range_out_of_bounds");
  EXPECT_EQ((*r)->ReadAt(-1, 1).error().code, "range_out_of_bounds");
  // Pieces in order and out of order, across read-ahead windows.
  for (int64_t off : {int64_t{900000}, int64_t{100}, int64_t{1000000}, int64_t{4096}}) {
    EXPECT_EQ(*(*r)->ReadAt(off, 50000), data.substr(static_cast<size_t>(off), 50000)) << off;
  }
  }

  EXPECT_EQ(blobs_->Open("blob_0123456789abcdef0123456789abcdef").error().code,
            "blob_not_found");
  EXPECT_EQ(blobs_->Open("../etc/passwd").error().code, "blob_not_found");
}

TEST_P(BlobsTest, OpenSkipsAMissingOrTruncatedCopy) {
  Open();
  std::string data = Pattern(10000, 4);
  BlobInfo info = Put(data);
  RemoveCopy(info, info.copies[0].root);
  auto r = blobs_->Open(info.id);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)->root(), info.copies[1].root);
  EXPECT_EQ(*(*r)->ReadAt(0, data.size()), data);
  // Both unusable: no healthy copy.
  WriteCopy(info, info.copies[1].root, "short");
  EXPECT_EQ(blobs_->Open(info.id).error().code, "no_healthy_copy");
}

// The acceptance test: a flipped byte in one copy and a deleted copy, both healed.
TEST_P(BlobsTest, ScrubRepairsAFlippedByteAndRestoresADeletedCopy) {
  Open({R("hot1", "hot"), R("hot2", "hot"), R("hot3", "hot")}, 3);
  std::string a = Pattern(3 * 1024 * 1024 + 17, 11);
  std::string b = Pattern(4096, 12);
  BlobInfo ia = Put(a, "cram");
  BlobInfo ib = Put(b, "vcf");
  BlobInfo ic = Put("untouched", "vcf");

  // Blob a: flip a byte on hot1, delete the copy on hot2. Blob b: delete the copy on hot3.
  {
    std::string bytes = ReadCopy(ia, "hot1");
    bytes[bytes.size() / 2] ^= 0x01;
    WriteCopy(ia, "hot1", bytes);
  }
  RemoveCopy(ia, "hot2");
  RemoveCopy(ib, "hot3");
  size_t audit_before = audit_.events().size();

  clock_.Advance(std::chrono::hours(24));
  std::ostringstream out;
  EXPECT_EQ(RunScrubCommand(*blobs_, out), 0) << out.str();
  EXPECT_NE(out.str().find(ia.id + " hot1 repaired_corrupt"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find(ia.id + " hot2 restored_missing"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find(ib.id + " hot3 restored_missing"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("3 blobs; copies ok 6, repaired corrupt 1, restored missing 2, "
                           "unrecoverable 0"),
            std::string::npos)
      << out.str();

  for (const char* root : {"hot1", "hot2", "hot3"}) {
    EXPECT_EQ(ReadCopy(ia, root), a) << root;
    EXPECT_EQ(ReadCopy(ib, root), b) << root;
  }
  // No temporary file is left from the repairs.
  for (const auto& p : FilesUnder(dir_)) {
    EXPECT_FALSE(p.filename().string().starts_with(".")) << p;
  }
  for (const auto& left : Leftovers()) {
    EXPECT_EQ(left.find(":upload:"), std::string::npos) << left;
  }
  auto stat = blobs_->Stat(ia.id);
  ASSERT_TRUE(stat.ok());
  for (const auto& c : stat->copies) {
    EXPECT_EQ(c.status, "ok");
    EXPECT_EQ(c.verified_at, "2026-11-25T00:00:00.000Z");
  }
  // Every repair is an audit event.
  auto events = audit_.events();
  int repairs = 0;
  for (size_t i = audit_before; i < events.size(); ++i) {
    if (events[i].action == "blob.repair") ++repairs;
  }
  EXPECT_EQ(repairs, 3);

  // A second scrub finds everything in order.
  auto again = blobs_->Scrub();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->blobs, 3);
  EXPECT_EQ(again->copies_ok, 9);
  EXPECT_EQ(again->repaired_corrupt + again->restored_missing + again->unrecoverable, 0);
  EXPECT_TRUE(again->healthy());
  for (const auto& e : again->entries) EXPECT_EQ(e.outcome, "ok") << e.blob_id;
  EXPECT_EQ(ReadAll(ic.id), "untouched");
}

TEST_P(BlobsTest, ScrubReportsUnrecoverableBlobsWithNonZeroExit) {
  Open();
  BlobInfo bad = Put("to be lost", "cram");
  BlobInfo good = Put("fine", "cram");
  WriteCopy(bad, bad.copies[0].root, "tampered!!");
  RemoveCopy(bad, bad.copies[1].root);

  std::ostringstream out;
  EXPECT_EQ(RunScrubCommand(*blobs_, out), 1) << out.str();
  EXPECT_NE(out.str().find(bad.id + " " + bad.copies[0].root + " unrecoverable"),
            std::string::npos)
      << out.str();
  EXPECT_NE(out.str().find("unrecoverable 2"), std::string::npos) << out.str();
  EXPECT_EQ(out.str().find(good.id), std::string::npos) << out.str();

  auto report = blobs_->Scrub();
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->entries.size(), 2u);
  for (const auto& e : report->entries) {
    EXPECT_EQ(e.outcome, e.blob_id == bad.id ? "unrecoverable" : "ok");
  }
  auto stat = blobs_->Stat(bad.id);
  ASSERT_TRUE(stat.ok());
  std::set<std::string> statuses;
  for (const auto& c : stat->copies) statuses.insert(c.status);
  EXPECT_EQ(statuses, (std::set<std::string>{"corrupt", "missing"}));
  EXPECT_EQ(blobs_->Open(bad.id).error().code, "no_healthy_copy");
  bool audited = false;
  for (const auto& e : audit_.events()) audited |= e.action == "blob.unrecoverable";
  EXPECT_TRUE(audited);
  EXPECT_EQ(ReadAll(good.id), "fine");
}

TEST_P(BlobsTest, ScrubNeverWritesIntoAnAbsentRoot) {
  Open();
  BlobInfo info = Put("data", "cram");
  if (IsS3("hot2")) {
    // The gateway of hot2 is down (nothing listens at its endpoint any more), and its copy
    // was lost meanwhile: scrub must not count it missing nor try to write there.
    RemoveCopy(info, "hot2");
    auto roots = blobs_->options().roots;
    for (auto& r : roots) {
      if (r.name == "hot2") r.endpoint = "http://127.0.0.1:9";
    }
    Open(roots);
  } else {
    fs::remove_all(dir_ / "hot2");  // unmounted
  }
  auto report = blobs_->Scrub();
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->root_unavailable, 1);
  EXPECT_FALSE(report->healthy());
  if (IsS3("hot2")) {
    EXPECT_EQ(ReadCopy(info, "hot2"), "<absent>");
  } else {
    EXPECT_FALSE(fs::exists(dir_ / "hot2"));
  }
  std::ostringstream out;
  EXPECT_EQ(RunScrubCommand(*blobs_, out), 1);
  EXPECT_EQ(ReadAll(info.id), "data");
}

TEST_P(BlobsTest, ScrubRemovesStaleTemporaryFilesAndListsOrphans) {
  Open();
  BlobInfo info = Put("kept", "cram");
  fs::path dir = CopyPath(info, "hot1").parent_path();
  // A crashed writer's temporary file (older than a day by the store's clock), one a writer may
  // still be filling (an hour old), and an object file that never reached the metadata store.
  // Modification times are set from the store's clock, so the test holds on any real date.
  auto set_age = [&](const fs::path& p, std::chrono::hours age) {
    auto when = std::chrono::system_clock::to_time_t(clock_.Now() - age);
    struct timespec times[2] = {{when, 0}, {when, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, p.c_str(), times, 0), 0) << p;
  };
  fs::path stale = dir / ("." + info.id.substr(0, 30) + "1234567.tmp-0a0b0c0d");
  fs::path fresh = dir / ("." + info.id.substr(0, 30) + "7654321.tmp-0e0f0a0b");
  WriteFile(stale, "partial");
  WriteFile(fresh, "in progress");
  set_age(stale, std::chrono::hours(25));
  set_age(fresh, std::chrono::hours(1));
  std::string orphan_id = "blob_" + std::string(32, 'e');
  if (IsS3("hot2")) {
    ASSERT_TRUE(s3_->Put(Bucket("hot2"), "ee/ee/" + orphan_id, "orphan").ok());
  } else {
    fs::create_directories(dir_ / "hot2" / "ee" / "ee");
    WriteFile(dir_ / "hot2" / "ee" / "ee" / orphan_id, "orphan");
  }

  auto report = blobs_->Scrub();
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->stale_temps_removed, 1);
  EXPECT_EQ(report->orphans, (std::vector<std::string>{"hot2:ee/ee/" + orphan_id}));
  EXPECT_TRUE(report->healthy());
  if (!IsS3("hot2")) {
    EXPECT_TRUE(fs::exists(dir_ / "hot2" / "ee" / "ee" / orphan_id));
  }
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::exists(fresh));
  std::ostringstream out;
  EXPECT_EQ(RunScrubCommand(*blobs_, out), 0);
  EXPECT_NE(out.str().find("orphan"), std::string::npos) << out.str();
}

// Issue 13 items 7 and 8: at start the temporary files of interrupted writes go, and the
// copies of an object whose commit was never recorded can be removed by its id; recorded
// objects are never touched.
TEST_P(BlobsTest, InterruptedWritesAndUnrecordedObjectsAreRemovedRecordedOnesKept) {
  Open();
  BlobInfo kept = Put("kept", "cram");
  fs::path dir = CopyPath(kept, "hot1").parent_path();
  fs::path temp = dir / ("." + kept.id.substr(0, 30) + "1234567.tmp-0a0b0c0d");
  WriteFile(temp, "crypt4gh partial");
  EXPECT_EQ(blobs_->RemoveInterruptedWrites(std::chrono::seconds(0)), 1);
  EXPECT_FALSE(fs::exists(temp));
  const std::string never = "blob_" + std::string(32, 'd');
  for (const char* root : {"cold1", "cold2"}) {
    if (IsS3(root)) {
      ASSERT_TRUE(s3_->Put(Bucket(root), "dd/dd/" + never, "completed before the process died").ok());
      continue;
    }
    fs::create_directories(dir_ / root / "dd" / "dd");
    WriteFile(dir_ / root / "dd" / "dd" / never, "renamed before the process died");
  }
  auto removed = blobs_->RemoveUnrecorded(never);
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, 2);
  EXPECT_FALSE(fs::exists(dir_ / "cold1" / "dd" / "dd" / never));
  if (IsS3("cold2")) {
    EXPECT_FALSE(s3_->Head(Bucket("cold2"), "dd/dd/" + never).ok());
  }
  EXPECT_EQ(*blobs_->RemoveUnrecorded(kept.id), 0);
  EXPECT_EQ(ReadAll(kept.id), "kept");
}

// Issue 13 item 9: a copy a reader found bad is skipped by later opens, alerted once, and
// repaired by scrub.
TEST_P(BlobsTest, ReportedBadCopyIsSkippedAlertedOnceAndRepairedByScrub) {
  Open();
  BlobInfo b = Put("some stored bytes", "cram");
  const std::string first = b.copies.at(0).root;
  ASSERT_TRUE(blobs_->ReportBadCopy(b.id, first, "crypt4gh_mac_mismatch: segment 0").ok());
  ASSERT_TRUE(blobs_->ReportBadCopy(b.id, first, "crypt4gh_mac_mismatch: segment 0").ok());
  auto r = blobs_->Open(b.id);
  ASSERT_TRUE(r.ok());
  EXPECT_NE((*r)->root(), first);
  EXPECT_FALSE(blobs_->OpenExcept(b.id, {(*r)->root()}).ok());
  int alerts = 0;
  for (const auto& e : audit_.events()) alerts += e.action == "blob.copy_corrupt";
  EXPECT_EQ(alerts, 1);
  auto report = blobs_->Scrub();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->healthy());
  EXPECT_EQ(blobs_->Stat(b.id)->copies.at(0).status, "ok");  // its bytes were good after all
}

// Issue 17, write-once archive: a site that requires Object Lock gives every copy COMPLIANCE
// retention; nobody holding the bucket's keys can delete the recorded version, and a write to
// its key behind the store's back does not change what is served or what scrub verifies.
TEST_P(BlobsTest, WriteOnceSiteLocksCopiesAgainstDeleteAndOverwrite) {
  if (!Rgw()) GTEST_SKIP() << "Object Lock needs the RGW layout";
  // Retention runs from the store's clock; the gateway refuses a date in the past.
  clock_.Advance(std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now() - clock_.Now()));
  const std::string locked = bucket_prefix_ + "-lock";
  ASSERT_TRUE(s3_->CreateBucket(locked, /*object_lock=*/true).ok());
  Root cold2 = R("cold2", "cold");
  cold2.bucket = locked;
  cold2.object_lock = "COMPLIANCE";
  cold2.retention_days = 1;
  Open({R("hot1", "hot"), R("hot2", "hot"), R("cold1", "cold"), cold2});
  const std::string data = Pattern((6 << 20) + 5, 21);  // two parts
  BlobInfo fq = Put(data, "fastq");
  ASSERT_EQ(fq.copies.size(), 2u);
  const CopyInfo& c = fq.copies[1];
  ASSERT_EQ(c.root, "cold2");
  EXPECT_FALSE(c.version_id.empty()) << "a versioned bucket's version id is recorded";
  EXPECT_EQ(blobs_->Stat(fq.id)->copies[1].version_id, c.version_id);
  auto head = s3_->Head(locked, c.path, c.version_id);
  ASSERT_TRUE(head.ok()) << head.error().message;
  EXPECT_EQ(head->lock_mode, "COMPLIANCE");
  EXPECT_FALSE(head->retain_until.empty());
  EXPECT_EQ(head->size, static_cast<int64_t>(data.size()));

  auto del = s3_->Delete(locked, c.path, c.version_id);
  ASSERT_FALSE(del.ok()) << "a locked version must not be deletable";
  EXPECT_EQ(del.error().code, "s3_access_denied");
  // An overwrite makes a new version; the recorded one stays and is what is read.
  ASSERT_TRUE(s3_->Put(locked, c.path, "overwritten behind the store's back").ok());
  auto r = blobs_->OpenExcept(fq.id, {"cold1"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ((*r)->root(), "cold2");
  EXPECT_EQ(*(*r)->ReadAt(0, data.size()), data);
  auto report = blobs_->Scrub();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->healthy());
  EXPECT_EQ(report->repaired_corrupt + report->restored_missing, 0);
  // A CRAM goes to the hot sites, which have no lock.
  BlobInfo cram = Put("cram bytes", "cram");
  for (const auto& cc : cram.copies) EXPECT_TRUE(cc.root.starts_with("hot"));
}

// Issue 17, health: a site that is down makes writes fail at once with an error naming it,
// storing nothing at any site (never fewer copies than required); reads fall back to a copy
// at another site.
TEST_P(BlobsTest, ADownSiteFailsWritesCleanlyWhileReadsFallBack) {
  if (!Rgw()) GTEST_SKIP() << "needs the RGW layout";
  Open({R("hot1", "hot"), R("hot2", "hot"), R("hot3", "hot")});
  const std::string data = Pattern(300000, 8);
  BlobInfo b = Put(data, "cram");
  ASSERT_EQ(b.copies.size(), 2u);
  EXPECT_EQ(b.copies[0].root, "hot2");  // the buckets rank before a disk that can fill up
  EXPECT_EQ(b.copies[1].root, "hot3");
  const int64_t blobs_before = Count("blobs");
  auto before = Leftovers();

  auto roots = blobs_->options().roots;
  for (auto& r : roots) {
    if (r.name == "hot2") r.endpoint = "http://127.0.0.1:9";  // nothing listens there
  }
  Open(roots);
  auto r = blobs_->Open(b.id);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ((*r)->root(), "hot3");
  EXPECT_EQ(*(*r)->ReadAt(0, data.size()), data);

  auto w = blobs_->Create({.kind = "cram"});
  Status failed = w.ok() ? (*w)->Write(data) : Status(w.error());
  if (failed.ok()) failed = Status((*w)->Commit(PlainSha("x"), 1).error());
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, "blob_write_failed");
  EXPECT_EQ(failed.error().kind, ErrorKind::kUnavailable);
  EXPECT_NE(failed.error().message.find("hot2"), std::string::npos) << failed.error().message;
  EXPECT_EQ(Count("blobs"), blobs_before);
  EXPECT_EQ(Leftovers(), before);
  // The health view: hot2 unreachable, named with why; the others reachable with their copies.
  auto health = blobs_->Health();
  ASSERT_TRUE(health.ok());
  ASSERT_EQ(health->size(), 3u);
  for (const auto& h : *health) {
    EXPECT_EQ(h.reachable, h.name != "hot2") << h.name << ": " << h.detail;
    EXPECT_EQ(h.kind, IsS3(h.name) ? "s3" : "local");
    EXPECT_EQ(h.objects, h.name == "hot1" ? 0 : 1) << h.name;
    EXPECT_EQ(h.bytes, h.name == "hot1" ? 0 : 300000) << h.name;
    if (h.name == "hot2") {
      EXPECT_FALSE(h.detail.empty());
    }
  }
}

// A loopback TCP relay in front of the RGW that cuts the gateway off as a dead link would:
// once `cut_after` bytes have gone upstream it drops every open connection, and until
// Restore() it closes each new one at once (the client sees resets and empty replies, which
// it retries and then gives up on). The cut point is a byte count, not a time.
class CutProxy {
 public:
  CutProxy(int upstream_port, int64_t cut_after)
      : upstream_port_(upstream_port), cut_after_(cut_after) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    ::listen(fd_, 64);
    acceptor_ = std::thread([this] {
      for (;;) {
        int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0) return;
        if (cut_) {
          ::close(c);
          continue;
        }
        std::lock_guard lock(mu_);
        relays_.emplace_back([this, c] { Relay(c); });
      }
    });
  }
  ~CutProxy() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    acceptor_.join();
    std::lock_guard lock(mu_);
    for (auto& t : relays_) t.join();
  }
  int port() const { return port_; }
  bool was_cut() const { return was_cut_; }
  void Restore() { cut_ = false; }
  // Cuts the gateway off now, whatever has gone through.
  void Cut() {
    was_cut_ = true;
    cut_ = true;
  }

 private:
  void Relay(int c) {
    int u = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(upstream_port_));
    if (::connect(u, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ::close(u);
      ::close(c);
      return;
    }
    char buf[1 << 16];
    for (;;) {
      if (cut_ || stop_) break;
      pollfd fds[2] = {{c, POLLIN, 0}, {u, POLLIN, 0}};
      if (::poll(fds, 2, 50) < 0) break;
      bool closed = false;
      for (int i = 0; i < 2 && !closed; ++i) {
        if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
        ssize_t n = ::recv(fds[i].fd, buf, sizeof buf, 0);
        if (n <= 0 || ::send(i == 0 ? u : c, buf, static_cast<size_t>(n), MSG_NOSIGNAL) != n) {
          closed = true;
          break;
        }
        if (i == 0 && (sent_ += n) >= cut_after_ && !was_cut_) {
          was_cut_ = true;
          cut_ = true;  // every relay drops its connections on its next turn
        }
      }
      if (closed) break;
    }
    ::close(u);
    ::close(c);
  }
  int fd_, port_;
  const int upstream_port_;
  const int64_t cut_after_;
  std::atomic<int64_t> sent_{0};
  std::atomic<bool> cut_{false}, was_cut_{false}, stop_{false};
  std::mutex mu_;
  std::vector<std::thread> relays_;
  std::thread acceptor_;
};

// Issue 17: the gateway goes away in the middle of a multipart ingest. The write fails with a
// clear error naming the site, no object is recorded and no copy of it stays anywhere (the
// local one is discarded; the RGW never completes the upload); the unfinished upload the
// failed abort could not reach is removed by the scrub's sweep once the gateway is back.
TEST_P(BlobsTest, AGatewayCutOffMidUploadFailsTheIngestCleanly) {
  if (!Rgw()) GTEST_SKIP() << "needs the RGW layout";
  Open({R("hot1", "hot"), R("hot2", "hot")});
  const int64_t blobs_before = Count("blobs");
  const auto before = Leftovers();
  const int port = std::stoi(gw_.endpoint.substr(gw_.endpoint.rfind(':') + 1));
  CutProxy proxy(port, 7 << 20);  // in the second of four 5 MiB parts
  Root cut = R("hot2", "hot");
  cut.endpoint = "http://127.0.0.1:" + std::to_string(proxy.port());
  Open({R("hot1", "hot"), cut});

  const std::string data = crypto::RandomBytes(16 << 20);
  auto w = blobs_->Create({.kind = "cram"});
  ASSERT_TRUE(w.ok()) << w.error().message;
  Status failed = Status::Ok();
  for (size_t at = 0; at < data.size() && failed.ok(); at += 1 << 20) {
    failed = (*w)->Write(std::string_view(data).substr(at, 1 << 20));
  }
  if (failed.ok()) failed = Status((*w)->Commit(PlainSha("x"), 1).error());
  ASSERT_FALSE(failed.ok());
  EXPECT_TRUE(proxy.was_cut());
  EXPECT_EQ(failed.error().code, "blob_write_failed");
  EXPECT_EQ(failed.error().kind, ErrorKind::kUnavailable);
  EXPECT_NE(failed.error().message.find("site hot2"), std::string::npos) << failed.error().message;
  w->reset();

  // Nothing half-stored: no object recorded, no file, no object at the RGW; at most the
  // unfinished upload whose abort could not get through.
  EXPECT_EQ(Count("blobs"), blobs_before);
  EXPECT_EQ(Count("blob_copies"), 0);
  int64_t unfinished = 0;
  for (const auto& left : Leftovers()) {
    if (std::find(before.begin(), before.end(), left) != before.end()) continue;
    EXPECT_TRUE(left.starts_with("hot2:upload:")) << left;
    ++unfinished;
  }
  EXPECT_EQ(unfinished, 1) << "the abort could not reach the gateway";

  // The gateway is back: a day later by the store's clock the sweep aborts the upload, and
  // nothing is left.
  proxy.Restore();
  clock_.Advance(std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now() - clock_.Now() + std::chrono::hours(25)));
  auto report = blobs_->Scrub();
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(report->stale_temps_removed, unfinished);
  EXPECT_EQ(Leftovers(), before);
  // And the site takes the same object whole.
  auto again = blobs_->Create({.kind = "cram"});
  ASSERT_TRUE(again.ok());
  ASSERT_TRUE((*again)->Write(data).ok());
  auto stored = (*again)->Commit(PlainSha("x"), 1);
  ASSERT_TRUE(stored.ok()) << stored.error().message;
  EXPECT_EQ(stored->copies.size(), 2u);
  EXPECT_EQ(ReadCopy(*stored, "hot2"), data);
}

// Issue 17: a site that does not answer is not a corrupt copy. The gateway is cut off while a
// reader streams a copy from it: the read fails, the reader reports it as genome files' readers
// do, and the copy's state stays "ok" (no corrupt alert; a "blob.site_unreachable" event); the
// read continues from the other copy and the health view shows the site down. Once the
// gateway is back the same copy is served again, whole.
TEST_P(BlobsTest, AnUnreachableSiteLeavesItsCopyAsItIsWhileReadsFallBack) {
  if (!Rgw()) GTEST_SKIP() << "needs the RGW layout";
  const int port = std::stoi(gw_.endpoint.substr(gw_.endpoint.rfind(':') + 1));
  CutProxy proxy(port, std::numeric_limits<int64_t>::max());
  Root hot2 = R("hot2", "hot");
  hot2.endpoint = "http://127.0.0.1:" + std::to_string(proxy.port());
  Open({R("hot1", "hot"), hot2, R("hot3", "hot")});
  const std::string data = Pattern((9 << 20) + 3, 17);  // more than two of the reader's windows
  BlobInfo b = Put(data, "cram", 1 << 20);
  ASSERT_EQ(b.copies.size(), 2u);
  ASSERT_EQ(b.copies[0].root, "hot2");

  auto r = blobs_->Open(b.id);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ((*r)->root(), "hot2");
  ASSERT_EQ(*(*r)->ReadAt(0, 1 << 20), data.substr(0, 1 << 20));
  proxy.Cut();
  auto failed = (*r)->ReadAt(6 << 20, 1 << 20);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, "blob_read_failed");  // what the port's readers fall back on
  ASSERT_TRUE(blobs_->ReportBadCopy(b.id, "hot2", failed.error().code + ": " +
                                                      failed.error().message)
                  .ok());
  // The copy is as it was; the operator hears of an unreachable site, not of a corrupt copy.
  EXPECT_EQ(Statuses(b.id), (std::vector<std::string>{"hot2:ok", "hot3:ok"}));
  int corrupt = 0, unreachable = 0;
  for (const auto& e : audit_.events()) {
    corrupt += e.action == "blob.copy_corrupt";
    unreachable += e.action == "blob.site_unreachable";
  }
  EXPECT_EQ(corrupt, 0);
  EXPECT_EQ(unreachable, 1);
  // The reader goes on from the other copy at the same offset.
  auto next = blobs_->OpenExcept(b.id, {"hot2"});
  ASSERT_TRUE(next.ok()) << next.error().message;
  EXPECT_EQ((*next)->root(), "hot3");
  EXPECT_TRUE(*(*next)->ReadAt(6 << 20, 1 << 20) == data.substr(6 << 20, 1 << 20));
  // A new reader skips the silent site without marking anything either.
  auto fresh = blobs_->Open(b.id);
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ((*fresh)->root(), "hot3");
  EXPECT_EQ(Statuses(b.id), (std::vector<std::string>{"hot2:ok", "hot3:ok"}));
  auto health = blobs_->Health();
  ASSERT_TRUE(health.ok());
  for (const auto& h : *health) {
    EXPECT_EQ(h.reachable, h.name != "hot2") << h.name << ": " << h.detail;
    EXPECT_EQ(h.bad_copies, 0) << h.name;
  }
  // The gateway is back: its copy is served again.
  proxy.Restore();
  auto back = blobs_->Open(b.id);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ((*back)->root(), "hot2");
  EXPECT_TRUE(*(*back)->ReadAt(0, data.size()) == data);
}

// Issue 17: a copy whose site answers with wrong bytes is corrupt. Overwritten behind the
// store's back with another length, it is marked corrupt when a reader opens the object (and
// the read comes from the other copy); overwritten with the same length, the reader's failed
// authentication reports it, and it is marked corrupt as well. Scrub repairs both.
TEST_P(BlobsTest, ACopyOverwrittenBehindTheStoresBackIsCorruptAndScrubRepairsIt) {
  Open({R("hot1", "hot"), R("hot2", "hot"), R("hot3", "hot")});
  const std::string data = Pattern(300000, 23);
  BlobInfo shorter = Put(data, "cram");
  BlobInfo flipped = Put(data, "cram");
  const std::string first = shorter.copies.at(0).root;
  const std::string second = shorter.copies.at(1).root;
  WriteCopy(shorter, first, data.substr(0, 1000));
  auto r = blobs_->Open(shorter.id);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ((*r)->root(), second);
  EXPECT_TRUE(*(*r)->ReadAt(0, data.size()) == data);
  EXPECT_EQ(Statuses(shorter.id), (std::vector<std::string>{first + ":corrupt", second + ":ok"}));

  std::string bad = data;
  bad[1234] ^= 0x20;
  WriteCopy(flipped, flipped.copies.at(0).root, bad);
  ASSERT_TRUE(blobs_->ReportBadCopy(flipped.id, flipped.copies.at(0).root,
                                    "crypt4gh_mac_mismatch: segment 0")
                  .ok());
  EXPECT_EQ(Statuses(flipped.id).at(0), flipped.copies.at(0).root + ":corrupt");
  int corrupt = 0;
  for (const auto& e : audit_.events()) {
    corrupt += e.action == "blob.copy_corrupt";
    EXPECT_NE(e.action, "blob.site_unreachable");
  }
  EXPECT_EQ(corrupt, 2);

  clock_.Advance(std::chrono::hours(1));
  auto report = blobs_->Scrub();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->healthy());
  EXPECT_EQ(report->repaired_corrupt, 2);
  EXPECT_TRUE(ReadCopy(shorter, first) == data);
  EXPECT_TRUE(ReadCopy(flipped, flipped.copies.at(0).root) == data);
  for (const auto* b : {&shorter, &flipped}) {
    for (const auto& c : Statuses(b->id)) EXPECT_TRUE(c.ends_with(":ok")) << c;
  }
}

// `zengen storage scrub --quick`: presence and size only (a stat, an S3 HEAD). A deleted copy
// is restored — from a copy whose bytes verify, not from one that merely has the right size —
// while a same-size corruption waits for the full scrub, which repairs it.
TEST_P(BlobsTest, QuickScrubRestoresMissingCopiesFromAVerifiedSource) {
  Open({R("hot1", "hot"), R("hot2", "hot"), R("hot3", "hot")}, 3);
  const std::string data = Pattern(200000, 41);
  BlobInfo b = Put(data, "cram");
  std::string flipped = data;
  flipped[100] ^= 0x01;
  WriteCopy(b, "hot1", flipped);  // same size: quick mode cannot see it
  RemoveCopy(b, "hot2");
  clock_.Advance(std::chrono::hours(1));
  auto quick = blobs_->Scrub({.full = false});
  ASSERT_TRUE(quick.ok());
  EXPECT_EQ(quick->restored_missing, 1);
  EXPECT_EQ(quick->repaired_corrupt, 0);
  EXPECT_EQ(quick->copies_ok, 2);
  EXPECT_TRUE(ReadCopy(b, "hot2") == data) << "restored from hot3, not from the flipped hot1";
  EXPECT_TRUE(ReadCopy(b, "hot1") == flipped);
  auto st = blobs_->Stat(b.id);
  ASSERT_TRUE(st.ok());
  for (const auto& c : st->copies) {
    // Quick mode verified no content: only the restored copy has a new verification time.
    EXPECT_EQ(c.verified_at, c.root == "hot2" ? "2026-11-24T01:00:00.000Z"
                                              : "2026-11-24T00:00:00.000Z") << c.root;
  }
  auto full = blobs_->Scrub();
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(full->repaired_corrupt, 1);
  EXPECT_TRUE(ReadCopy(b, "hot1") == data);
  EXPECT_TRUE(full->healthy());
}

int CountEvents(const RecordingAuditSink& audit, std::string_view action) {
  int n = 0;
  for (const auto& e : audit.events()) n += e.action == action;
  return n;
}

// Issue 17, online migration: every object moved from one site to another and back (in the
// rgw layout between the RGW and a local directory), each new copy read back and verified,
// audited per object, resumable (a limited run, then the rest, over a stale unrecorded copy
// left at the target), the old copy retired only after the grace period, reads served
// throughout.
TEST_P(BlobsTest, MigrationMovesEveryObjectToAnotherSiteAndBack) {
  Open({R("hot1", "hot"), R("hot2", "hot"), R("hot3", "hot"), R("hot-us", "hot", "US"),
        R("cold1", "cold")});
  std::vector<std::pair<BlobInfo, std::string>> objects;
  for (int i = 0; i < 5; ++i) {
    std::string data = Pattern(i == 0 ? (6 << 20) + 1 : 1000 * (i + 1), 30 + i);
    objects.emplace_back(Put(data, "cram"), data);
  }
  // Placement is deterministic here: every object on the same two sites.
  std::set<std::string> used;
  for (const auto& c : objects[0].first.copies) used.insert(c.root);
  ASSERT_EQ(used.size(), 2u);
  std::string empty;
  for (const char* s : {"hot1", "hot2", "hot3"}) {
    if (!used.count(s)) empty = s;
  }
  const std::string from = *used.begin();
  if (Rgw()) {
    EXPECT_TRUE(IsS3(from)) << "the migration leaves the RGW for a local directory";
    EXPECT_FALSE(IsS3(empty));
  }

  // Refusals name the rule.
  EXPECT_EQ(blobs_->Migrate({.from = "nowhere", .to = empty}).error().code, "unknown_site");
  EXPECT_EQ(blobs_->Migrate({.from = from, .to = from}).error().code, "same_site");
  EXPECT_EQ(blobs_->Migrate({.from = from, .to = "cold1"}).error().code, "tier_mismatch");
  auto abroad = blobs_->Migrate({.from = from, .to = "hot-us"});
  ASSERT_FALSE(abroad.ok());
  EXPECT_EQ(abroad.error().code, "jurisdiction_not_allowed");
  EXPECT_NE(abroad.error().message.find("R1.2"), std::string::npos);
  EXPECT_TRUE(FilesUnder(dir_ / "hot-us").empty());

  // A first run limited to two objects.
  auto first = blobs_->Migrate({.from = from, .to = empty, .move = true, .limit = 2,
                                .grace = std::chrono::seconds(0)});
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->total, 5);
  EXPECT_EQ(first->retired, 2);
  EXPECT_EQ(first->pending, 3);
  EXPECT_EQ(first->state, "running");
  for (const auto& [info, data] : objects) EXPECT_TRUE(ReadAll(info.id) == data) << info.id;
  // A copy left at the target by an interrupted run, never recorded: written again.
  const BlobInfo* later = nullptr;
  for (const auto& [info, data] : objects) {
    auto st = blobs_->Stat(info.id);
    ASSERT_TRUE(st.ok());
    for (const auto& c : st->copies) {
      if (c.root == from) later = &info;
    }
  }
  ASSERT_NE(later, nullptr);
  WriteCopy(*later, empty, "stale bytes of an interrupted copy");

  auto rest = blobs_->Migrate({.from = from, .to = empty, .move = true,
                               .grace = std::chrono::seconds(0)});
  ASSERT_TRUE(rest.ok()) << rest.error().message;
  EXPECT_EQ(rest->id, first->id) << "the running migration is resumed";
  EXPECT_EQ(rest->retired, 5);
  EXPECT_EQ(rest->failed, 0) << (rest->failures.empty() ? "" : rest->failures[0]);
  EXPECT_EQ(rest->state, "done");
  for (const auto& [info, data] : objects) {
    auto st = blobs_->Stat(info.id);
    ASSERT_TRUE(st.ok());
    std::set<std::string> roots;
    for (const auto& c : st->copies) {
      roots.insert(c.root);
      EXPECT_EQ(c.status, "ok");
      EXPECT_EQ(c.size, static_cast<int64_t>(data.size()));
    }
    EXPECT_TRUE(roots.count(empty)) << info.id;
    EXPECT_FALSE(roots.count(from)) << info.id;
    EXPECT_EQ(roots.size(), 2u);
    EXPECT_TRUE(ReadCopy(info, empty) == data) << info.id;
    EXPECT_EQ(ReadCopy(info, from), "<absent>");
    EXPECT_TRUE(ReadAll(info.id) == data) << info.id;
  }
  EXPECT_EQ(CountEvents(audit_, "blob.migrate_copy"), 5);
  EXPECT_EQ(CountEvents(audit_, "blob.migrate_retire"), 5);
  // Idempotent: running it again changes nothing.
  auto again = blobs_->Migrate({.from = from, .to = empty, .move = true,
                                .grace = std::chrono::seconds(0)});
  ASSERT_TRUE(again.ok());
  EXPECT_NE(again->id, first->id);
  EXPECT_EQ(again->total, 0);
  EXPECT_EQ(CountEvents(audit_, "blob.migrate_copy"), 5);

  // And back, with a grace period: the old copy stays until it has passed.
  auto back = blobs_->Migrate({.from = empty, .to = from, .move = true,
                               .grace = std::chrono::hours(1)});
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->retire_due, 5);
  EXPECT_EQ(back->state, "running");
  for (const auto& [info, data] : objects) {
    EXPECT_EQ(blobs_->Stat(info.id)->copies.size(), 3u);
    EXPECT_TRUE(ReadCopy(info, empty) == data) << info.id;
  }
  clock_.Advance(std::chrono::hours(2));
  back = blobs_->Migrate({.from = empty, .to = from, .move = true,
                          .grace = std::chrono::hours(1)});
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->retired, 5);
  EXPECT_EQ(back->failed, 0);
  EXPECT_EQ(back->state, "done");
  for (const auto& [info, data] : objects) {
    EXPECT_TRUE(ReadCopy(info, from) == data) << info.id;
    EXPECT_EQ(ReadCopy(info, empty), "<absent>");
  }
  auto report = blobs_->Scrub();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->healthy());
  EXPECT_EQ(report->copies_ok, 10);
  EXPECT_TRUE(report->orphans.empty());
  auto all = blobs_->Migrations();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 3u);
}

// A move never leaves fewer good copies than required: with the only other copy bad, the
// old copy stays and the object is reported.
TEST_P(BlobsTest, MigrationNeverRetiresBelowTheRequiredCopies) {
  Open({R("hot1", "hot"), R("hot2", "hot"), R("hot3", "hot")});
  BlobInfo b = Put("precious", "cram");
  std::set<std::string> used;
  for (const auto& c : b.copies) used.insert(c.root);
  std::string empty;
  for (const char* s : {"hot1", "hot2", "hot3"}) {
    if (!used.count(s)) empty = s;
  }
  const std::string from = *used.begin();
  const std::string other = *used.rbegin();
  auto copied = blobs_->Migrate({.from = from, .to = empty, .move = true,
                                 .grace = std::chrono::hours(1)});
  ASSERT_TRUE(copied.ok());
  EXPECT_EQ(copied->retire_due, 1);
  ASSERT_TRUE(blobs_->ReportBadCopy(b.id, other, "test: bad").ok());
  ASSERT_TRUE(blobs_->ReportBadCopy(b.id, empty, "test: bad").ok());
  clock_.Advance(std::chrono::hours(2));
  auto p = blobs_->Migrate({.from = from, .to = empty, .move = true,
                            .grace = std::chrono::hours(1)});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->failed, 1);
  ASSERT_EQ(p->failures.size(), 1u);
  EXPECT_NE(p->failures[0].find("required"), std::string::npos) << p->failures[0];
  EXPECT_EQ(ReadCopy(b, from), "precious");
  EXPECT_EQ(blobs_->Stat(b.id)->copies.size(), 3u);
}

INSTANTIATE_TEST_SUITE_P(Backends, BlobsTest,
                         ::testing::Combine(::testing::ValuesIn(storage::TestBackends()),
                                            ::testing::Values("local", "rgw")),
                         [](const auto& info) {
                           return std::get<0>(info.param) + "_" + std::get<1>(info.param);
                         });

TEST(ParseRootsTest, ParsesTheDocumentedFormat) {
  auto roots = ParseRoots(
      " hot1:hot:JP:blobs/hot1 ; hot2:hot:JP:/mnt/hot2;cold1:cold:DE:/mnt/c:1;", "/srv/zg");
  ASSERT_TRUE(roots.ok()) << roots.error().message;
  ASSERT_EQ(roots->size(), 3u);
  EXPECT_EQ((*roots)[0].name, "hot1");
  EXPECT_EQ((*roots)[0].path, fs::path("/srv/zg/blobs/hot1"));
  EXPECT_EQ((*roots)[0].tier, "hot");
  EXPECT_EQ((*roots)[0].jurisdiction, "JP");
  EXPECT_EQ((*roots)[1].path, fs::path("/mnt/hot2"));
  EXPECT_EQ((*roots)[2].tier, "cold");
  EXPECT_EQ((*roots)[2].jurisdiction, "DE");
  EXPECT_EQ((*roots)[2].path, fs::path("/mnt/c:1"));
}

TEST(ParseRootsTest, RefusesMalformedEntries) {
  for (const char* spec : {"", ";", "hot1:hot:JP", "hot1:warm:JP:/a", "hot1:hot:jp:/a",
                           "hot1:hot:JPN:/a", "Hot1:hot:JP:/a", "hot1:hot:JP:",
                           "a:hot:JP:/a;a:hot:JP:/b"}) {
    auto roots = ParseRoots(spec, "/srv");
    ASSERT_FALSE(roots.ok()) << spec;
    EXPECT_EQ(roots.error().code, "invalid_blob_roots") << spec;
    EXPECT_EQ(roots.error().field, "blob_roots");
  }
}

TEST(ParseS3SitesTest, ParsesKeyValueEntries) {
  auto sites = ParseS3Sites(
      "name=rgw1 tier=cold jurisdiction=JP endpoint=http://127.0.0.1:7480 bucket=zg-cold "
      "credentials=secrets/rgw1.cred object_lock=compliance retention_days=3650 "
      "part_size_mib=16 organisation=org_dc; name=cloud tier=hot jurisdiction=JP "
      "endpoint=https://s3.example.jp bucket=zg-hot credentials=/etc/zg/cloud.cred "
      "region=jp-east-1",
      "/srv/zg");
  ASSERT_TRUE(sites.ok()) << sites.error().message;
  ASSERT_EQ(sites->size(), 2u);
  const Root& a = (*sites)[0];
  EXPECT_EQ(a.kind, "s3");
  EXPECT_EQ(a.name, "rgw1");
  EXPECT_EQ(a.tier, "cold");
  EXPECT_EQ(a.bucket, "zg-cold");
  EXPECT_EQ(a.credentials_file, fs::path("/srv/zg/secrets/rgw1.cred"));
  EXPECT_EQ(a.object_lock, "COMPLIANCE");
  EXPECT_EQ(a.retention_days, 3650);
  EXPECT_EQ(a.part_size, 16LL << 20);
  EXPECT_EQ(a.organisation, "org_dc");
  EXPECT_EQ((*sites)[1].region, "jp-east-1");
  EXPECT_EQ((*sites)[1].part_size, 64LL << 20);
  EXPECT_TRUE(ParseS3Sites("", "/srv")->empty());
  for (const char* spec :
       {"name=a tier=hot jurisdiction=JP bucket=b credentials=c",  // no endpoint
        "name=a tier=hot jurisdiction=JP endpoint=ftp://x bucket=b credentials=c",
        "name=a tier=warm jurisdiction=JP endpoint=http://x bucket=b credentials=c",
        "name=a tier=hot jurisdiction=JP endpoint=http://x credentials=c",  // no bucket
        "name=a tier=hot jurisdiction=JP endpoint=http://x bucket=b",       // no credentials
        "name=a tier=hot jurisdiction=JP endpoint=http://x bucket=b credentials=c "
        "object_lock=compliance",  // no retention
        "name=a tier=hot jurisdiction=JP endpoint=http://x bucket=b credentials=c part_size_mib=1",
        "name=a tier=hot jurisdiction=JP endpoint=http://x bucket=b credentials=c colour=red",
        "name=a name=b tier=hot jurisdiction=JP endpoint=http://x bucket=b credentials=c"}) {
    auto bad = ParseS3Sites(spec, "/srv");
    ASSERT_FALSE(bad.ok()) << spec;
    EXPECT_EQ(bad.error().code, "invalid_blob_s3_sites") << spec;
    EXPECT_EQ(bad.error().field, "blob_s3_sites");
  }
}

// The keys of an S3 site are read from a file only its owner may read; a wider mode is
// refused before any request, and the message never holds the keys.
TEST(S3SiteConfigTest, CredentialsFileMustBeOwnerOnlyAndSitesDistinct) {
  auto db = storage::ScratchDatabase::Create("sqlite");
  ASSERT_TRUE(db.ok());
  auto store = storage::OpenStore({.location = db->location(), .pool_size = 1});
  ASSERT_TRUE(store.ok());
  FakeClock clock(std::chrono::sys_days{std::chrono::year{2026} / 11 / 24});
  RecordingAuditSink audit;
  fs::path dir = fs::temp_directory_path() / ("zg-cred-" + crypto::ToHex(crypto::RandomBytes(6)));
  fs::create_directories(dir / "hot1");
  fs::path cred = dir / "rgw.cred";
  WriteFile(cred, "AKIAEXAMPLE sekritsekrit\n");
  Root local{.name = "hot1", .path = dir / "hot1", .tier = "hot", .jurisdiction = "JP"};
  Root rgw{.name = "rgw", .tier = "hot", .jurisdiction = "JP", .kind = "s3",
           .endpoint = "http://127.0.0.1:9", .bucket = "b", .credentials_file = cred};
  auto make = [&](std::vector<Root> roots) {
    return LocalStore::Create({.roots = std::move(roots), .allowed_jurisdictions = {"JP"}},
                              **store, clock, audit);
  };
  ASSERT_EQ(::chmod(cred.c_str(), 0644), 0);
  auto wide = make({local, rgw});
  ASSERT_FALSE(wide.ok());
  EXPECT_EQ(wide.error().code, "invalid_blob_store_config");
  EXPECT_NE(wide.error().message.find("0600"), std::string::npos) << wide.error().message;
  EXPECT_EQ(wide.error().message.find("sekrit"), std::string::npos);
  ASSERT_EQ(::chmod(cred.c_str(), 0600), 0);
  auto ok = make({local, rgw});
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ((*ok)->options().roots[1].access_key, "AKIAEXAMPLE");
  // Two names for one bucket (or one directory) would count one copy twice.
  Root again = rgw;
  again.name = "rgw-again";
  EXPECT_EQ(make({local, rgw, again}).error().code, "invalid_blob_store_config");
  Root same_dir = local;
  same_dir.name = "hot1b";
  EXPECT_EQ(make({local, same_dir, rgw}).error().code, "invalid_blob_store_config");
  fs::remove_all(dir);
}

TEST(ParseJurisdictionsTest, ParsesAList) {
  EXPECT_EQ(*ParseJurisdictions("JP"), (std::vector<std::string>{"JP"}));
  EXPECT_EQ(*ParseJurisdictions(" JP, DE ,JP"), (std::vector<std::string>{"JP", "DE"}));
  EXPECT_EQ(ParseJurisdictions("").error().code, "invalid_allowed_jurisdictions");
  EXPECT_EQ(ParseJurisdictions("jp").error().code, "invalid_allowed_jurisdictions");
  EXPECT_EQ(ParseJurisdictions("Japan").error().code, "invalid_allowed_jurisdictions");
}

TEST(KindsTest, DefaultTiers) {
  EXPECT_EQ(DefaultTier("fastq"), "cold");
  EXPECT_EQ(DefaultTier("cram"), "hot");
  EXPECT_EQ(DefaultTier("vcf"), "hot");
  EXPECT_TRUE(IsKnownKind("bcf"));
  EXPECT_FALSE(IsKnownKind("FASTQ"));
}

}  // namespace
}  // namespace zengen::blobs
