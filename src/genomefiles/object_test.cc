// The one stored-object reader (PlainReader, and OpenObjectStream on it) over real stored
// Crypt4GH blobs with two copies: exact lengths, range reads, segment reads, and the fallback
// from a bad copy (issue 13 item 9) for range reads and streams alike.
#include "genomefiles/object.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <optional>

#include "blobs/local_store.h"
#include "common/audit_event.h"
#include "common/clock.h"
#include "crypto/crypt4gh.h"
#include "crypto/crypto.h"
#include "storage/testing.h"

namespace zengen::genomefiles {
namespace {

namespace fs = std::filesystem;
namespace c4gh = crypto::crypt4gh;

void FlipByte(const fs::path& file, int64_t at) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(at);
  char c = 0;
  f.get(c);
  f.seekp(at);
  f.put(static_cast<char>(c ^ 0x20));
}

std::string Pattern(int64_t size, int seed) {
  std::string plain(static_cast<size_t>(size), '\0');
  for (size_t i = 0; i < plain.size(); ++i) {
    plain[i] = static_cast<char>(i * static_cast<size_t>(seed) + i / 977);
  }
  return plain;
}

class StoredObjectTest : public ::testing::TestWithParam<std::string> {
 protected:
  StoredObjectTest() : clock_(std::chrono::sys_days{std::chrono::year{2026} / 12 / 7}) {}

  void SetUp() override {
    auto db = storage::ScratchDatabase::Create(GetParam());
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_.emplace(std::move(*db));
    auto store = storage::OpenStore({.location = db_->location(), .pool_size = 2});
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_ = std::move(*store);
    dir_ = fs::temp_directory_path() / ("zg-object-" + crypto::ToHex(crypto::RandomBytes(6)));
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
  void TearDown() override {
    blobs_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }

  // Stores plaintext through EncryptedBlob (kind cram: hot tier, two copies).
  blobs::BlobInfo StorePlain(const std::string& plain) {
    auto blob = EncryptedBlob::Create(*blobs_, keys_, "cram");
    EXPECT_TRUE(blob.ok()) << blob.error().message;
    EXPECT_TRUE(blob->Write(plain).ok());
    auto info = blob->Commit();
    EXPECT_TRUE(info.ok()) << info.error().message;
    EXPECT_EQ(info->plaintext_sha256, crypto::Sha256Hex(plain));
    return *info;
  }

  fs::path CopyPath(const blobs::BlobInfo& info, size_t i) const {
    return dir_ / info.copies[i].root / info.copies[i].path;
  }

  int Alerts() const {
    int alerts = 0;
    for (const auto& e : audit_.events()) alerts += e.action == "blob.copy_corrupt";
    return alerts;
  }

  // Every piece of a delivery stream, checked against the length it declared up front (the
  // HTTP Content-Length).
  std::string DrainBlob(const std::string& blob_id, const std::string& pk) {
    auto stream = OpenObjectStream(*blobs_, blob_id, keys_, pk);
    EXPECT_TRUE(stream.ok()) << stream.error().message;
    if (!stream.ok()) return "";
    std::string out;
    for (;;) {
      auto piece = stream->next();
      EXPECT_TRUE(piece.ok()) << piece.error().message;
      if (!piece.ok() || piece->empty()) break;
      out += *piece;
    }
    EXPECT_EQ(static_cast<int64_t>(out.size()), stream->length);
    return out;
  }

  FakeClock clock_;
  RecordingAuditSink audit_;
  std::optional<storage::ScratchDatabase> db_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<blobs::LocalStore> blobs_;
  UploadKeys keys_;
  fs::path dir_;
};

// Moved from sequencing's upload tests with OpenObjectStream.
TEST_P(StoredObjectTest, DeliveryStreamsDeclareTheirExactLengthAtSegmentBoundaries) {
  const auto reader = c4gh::GenerateKeyPair();
  const int64_t seg = static_cast<int64_t>(c4gh::kSegmentSize);
  for (int64_t size : {int64_t{1}, seg - 1, seg, seg + 1, 3 * seg, 17 * seg + 5}) {
    SCOPED_TRACE("plaintext " + std::to_string(size));
    const std::string plain = Pattern(size, 7);
    const blobs::BlobInfo info = StorePlain(plain);
    EXPECT_TRUE(DrainBlob(info.id, "") == plain);  // decrypted delivery
    const std::string wrapped = DrainBlob(info.id, reader.public_key);
    auto back = c4gh::Decrypt(wrapped, reader.secret_key);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_TRUE(*back == plain);
  }
}

// Range reads and segment reads in any order give the plaintext (the sequential pass of
// ReadSegments is only a saving, never a different answer).
TEST_P(StoredObjectTest, RangeAndSegmentReadsInAnyOrderGiveThePlaintext) {
  const int64_t seg = static_cast<int64_t>(c4gh::kSegmentSize);
  const std::string plain = Pattern(9 * seg + 321, 11);
  const blobs::BlobInfo info = StorePlain(plain);
  auto reader = PlainReader::Open(*blobs_, info.id, keys_);
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  EXPECT_EQ(reader->size(), static_cast<int64_t>(plain.size()));
  EXPECT_EQ(reader->stored_size(), info.size);
  for (int64_t first : {int64_t{0}, int64_t{2}, int64_t{4}, int64_t{1}, int64_t{3}, int64_t{9},
                        int64_t{5}, int64_t{7}, int64_t{10}}) {
    SCOPED_TRACE("segments from " + std::to_string(first));
    auto s = reader->ReadSegments(first, 2);
    ASSERT_TRUE(s.ok()) << s.error().message;
    const int64_t start = std::min<int64_t>(first * seg, static_cast<int64_t>(plain.size()));
    EXPECT_TRUE(s->plain == plain.substr(static_cast<size_t>(start),
                                         static_cast<size_t>(2 * seg)));
    // The stored bytes are the segments' ciphertext exactly as on disk.
    std::ifstream copy(CopyPath(info, 0), std::ios::binary);
    copy.seekg(static_cast<std::streamoff>(reader->header().size()) +
               first * static_cast<int64_t>(c4gh::kCipherSegmentSize));
    std::string on_disk(s->stored.size(), '\0');
    copy.read(on_disk.data(), static_cast<std::streamsize>(on_disk.size()));
    EXPECT_TRUE(on_disk == s->stored);
  }
  auto middle = reader->Read(seg - 10, 3 * seg + 10);
  ASSERT_TRUE(middle.ok()) << middle.error().message;
  EXPECT_TRUE(*middle == plain.substr(static_cast<size_t>(seg - 10), static_cast<size_t>(2 * seg + 20)));
  auto bad = reader->Read(5, 4);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, "invalid_range");
}

// Moved from slices' tests with PlainReader. Regression (issue 13 item 9): with one byte
// flipped in the first copy, htsget blocks failed (crypt4gh_mac_mismatch) although the second
// copy was good.
TEST_P(StoredObjectTest, RangeReadsContinueFromAGoodCopyAndFlagTheBadOne) {
  const std::string plain = Pattern(5 * static_cast<int64_t>(c4gh::kSegmentSize) + 77, 13);
  const blobs::BlobInfo info = StorePlain(plain);
  FlipByte(CopyPath(info, 0), info.size - 1000);
  auto reader = PlainReader::Open(*blobs_, info.id, keys_);
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  auto tail = reader->Read(4 * static_cast<int64_t>(c4gh::kSegmentSize),
                           static_cast<int64_t>(plain.size()));
  ASSERT_TRUE(tail.ok()) << tail.error().message;
  EXPECT_TRUE(*tail == plain.substr(4 * c4gh::kSegmentSize));
  EXPECT_EQ(blobs_->Stat(info.id)->copies[0].status, "corrupt");
  EXPECT_EQ(Alerts(), 1);
  // With the second copy bad too, the read fails instead of returning short or wrong bytes.
  FlipByte(CopyPath(info, 1), info.size - 1000);
  auto again = PlainReader::Open(*blobs_, info.id, keys_);
  ASSERT_TRUE(again.ok()) << again.error().message;
  auto broken = again->Read(0, static_cast<int64_t>(plain.size()));
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.error().code, "no_good_copy");
}

// Moved from sequencing's upload tests with OpenObjectStream. Regression (issue 13 item 9):
// one byte flipped in the first copy made every read fail (crypt4gh_mac_mismatch) although the
// second copy was good.
TEST_P(StoredObjectTest, StreamsContinueFromAGoodCopyFlagTheBadOneAndNeverEndShort) {
  const std::string plain = Pattern(40 * static_cast<int64_t>(c4gh::kSegmentSize) + 123, 31);
  const blobs::BlobInfo info = StorePlain(plain);
  ASSERT_EQ(info.copies.size(), 2u);
  const fs::path first = CopyPath(info, 0);
  const fs::path second = CopyPath(info, 1);
  // Segment 21 of copy 1: after the first piece of 16 segments was delivered.
  FlipByte(first, info.size - static_cast<int64_t>(19 * c4gh::kCipherSegmentSize) + 500);

  EXPECT_TRUE(DrainBlob(info.id, "") == plain);
  auto after = blobs_->Stat(info.id);
  EXPECT_EQ(after->copies[0].status, "corrupt");
  EXPECT_EQ(after->copies[1].status, "ok");
  EXPECT_EQ(Alerts(), 1);
  // Re-encrypted delivery authenticates what it passes on, so it too is whole.
  const auto reader = c4gh::GenerateKeyPair();
  auto back = c4gh::Decrypt(DrainBlob(info.id, reader.public_key), reader.secret_key);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_TRUE(*back == plain);
  // Scrub repairs the flagged copy from the good one.
  auto scrub = blobs_->Scrub();
  ASSERT_TRUE(scrub.ok());
  EXPECT_EQ(scrub->repaired_corrupt, 1);
  EXPECT_EQ(blobs_->Stat(info.id)->copies[0].status, "ok");

  // Both copies bad: the stream fails instead of ending early with a clean "".
  FlipByte(first, info.size - 100);
  FlipByte(second, info.size - 100);
  for (const std::string& pk : {std::string(), reader.public_key}) {
    {  // as before the first delivery met the damage
      auto tx = store_->Begin(storage::TxMode::kWrite);
      ASSERT_TRUE((*tx)->Exec("UPDATE blob_copies SET status = 'ok'").ok());
      ASSERT_TRUE((*tx)->Commit().ok());
    }
    auto stream = OpenObjectStream(*blobs_, info.id, keys_, pk);
    ASSERT_TRUE(stream.ok()) << stream.error().message;
    int64_t delivered = 0;
    std::optional<Error> failure;
    for (;;) {
      auto piece = stream->next();
      if (!piece.ok()) {
        failure = piece.error();
        break;
      }
      if (piece->empty()) break;
      delivered += static_cast<int64_t>(piece->size());
    }
    ASSERT_TRUE(failure.has_value()) << "delivered " << delivered << " of " << stream->length;
    EXPECT_EQ(failure->code, "no_good_copy");
    EXPECT_LT(delivered, stream->length);
  }
}

// One reader, one fallback: a copy whose Crypt4GH header is damaged is skipped by range reads
// as it was by download streams. (Before the readers were merged, PlainReader::Open failed on
// such a copy — htsget answered an error — while OpenObjectStream went on from the other.)
TEST_P(StoredObjectTest, ACopyWithADamagedHeaderIsSkippedByRangeReadsAndStreamsAlike) {
  const std::string plain = Pattern(3 * static_cast<int64_t>(c4gh::kSegmentSize) + 5, 17);
  const blobs::BlobInfo info = StorePlain(plain);
  FlipByte(CopyPath(info, 0), 2);  // inside the magic "crypt4gh"
  auto reader = PlainReader::Open(*blobs_, info.id, keys_);
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  auto all = reader->Read(0, reader->size());
  ASSERT_TRUE(all.ok()) << all.error().message;
  EXPECT_TRUE(*all == plain);
  EXPECT_EQ(blobs_->Stat(info.id)->copies[0].status, "corrupt");
  EXPECT_EQ(Alerts(), 1);
  EXPECT_TRUE(DrainBlob(info.id, "") == plain);
  // Both headers damaged: no good copy, said as such.
  FlipByte(CopyPath(info, 1), 2);
  {
    auto tx = store_->Begin(storage::TxMode::kWrite);
    ASSERT_TRUE((*tx)->Exec("UPDATE blob_copies SET status = 'ok'").ok());
    ASSERT_TRUE((*tx)->Commit().ok());
  }
  auto none = PlainReader::Open(*blobs_, info.id, keys_);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, "no_good_copy");
}

INSTANTIATE_TEST_SUITE_P(Backends, StoredObjectTest, ::testing::ValuesIn(storage::TestBackends()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace zengen::genomefiles
