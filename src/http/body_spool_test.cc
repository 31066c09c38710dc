// Spooled request bodies (issue 13 item 2): what goes in comes back, in any piece sizes, from a
// file that has no name, holds no plaintext and is gone with its last owner.
#include "http/body_spool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "crypto/crypto.h"

namespace zengen::http {
namespace {

namespace fs = std::filesystem;

class BodySpoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("zg-spool-" + crypto::ToHex(crypto::RandomBytes(6)));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Descriptors of this process on files in dir_ (deleted or not).
  int OpenFiles() const {
    int n = 0;
    for (const auto& e : fs::directory_iterator("/proc/self/fd")) {
      std::error_code ec;
      const fs::path target = fs::read_symlink(e.path(), ec);
      if (!ec && target.string().rfind(dir_.string() + "/", 0) == 0) ++n;
    }
    return n;
  }

  fs::path dir_;
  std::atomic<int> live_{0};
};

TEST_F(BodySpoolTest, WhatGoesInComesBackInAnyPieceSizes) {
  std::mt19937_64 rng(1313);
  // Around the 64 KiB segment size and the 256 KiB read-back step, and empty.
  for (const size_t size : {size_t{0}, size_t{1}, size_t{65535}, size_t{65536}, size_t{65537},
                            size_t{262144 + 3}, size_t{1000003}}) {
    SCOPED_TRACE(size);
    std::string body(size, '\0');
    for (auto& c : body) c = static_cast<char>(rng());
    auto spool = BodySpool::Create(dir_, &live_);
    ASSERT_TRUE(spool.ok()) << spool.error().message;
    for (size_t at = 0; at < size;) {
      const size_t n = std::min<size_t>(size - at, 1 + rng() % 100000);
      ASSERT_TRUE((*spool)->Append(std::string_view(body).substr(at, n)).ok());
      at += n;
    }
    EXPECT_EQ((*spool)->size(), static_cast<int64_t>(size));
    auto reader = (*spool)->Finish();
    ASSERT_TRUE(reader.ok()) << reader.error().message;
    EXPECT_EQ((*reader)->size(), static_cast<int64_t>(size));
    std::string back;
    for (;;) {
      auto piece = (*reader)->Read(1 + rng() % 300000);
      ASSERT_TRUE(piece.ok()) << piece.error().message;
      if (piece->empty()) break;
      back += *piece;
    }
    EXPECT_TRUE(back == body);
    auto after = (*reader)->Read(10);
    ASSERT_TRUE(after.ok());
    EXPECT_TRUE(after->empty());
  }
  EXPECT_EQ(live_.load(), 0);
}

TEST_F(BodySpoolTest, FileHasNoNameHoldsNoPlaintextAndGoesWithItsLastOwner) {
  const std::string body = std::string(300000, 'A') + "FASTQ-READ-NAME";
  auto spool = BodySpool::Create(dir_, &live_);
  ASSERT_TRUE(spool.ok());
  ASSERT_TRUE((*spool)->Append(body).ok());
  EXPECT_EQ(live_.load(), 1);
  EXPECT_EQ(OpenFiles(), 1);
  EXPECT_TRUE(fs::is_empty(dir_)) << "the spool file has a name";
  // The bytes on disk, read through the descriptor: ciphertext, never the body.
  std::string on_disk;
  for (const auto& e : fs::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    const fs::path target = fs::read_symlink(e.path(), ec);
    if (ec || target.string().rfind(dir_.string() + "/", 0) != 0) continue;
    std::ifstream in(e.path(), std::ios::binary);
    on_disk.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  EXPECT_GE(on_disk.size(), body.size() - 65536);
  EXPECT_EQ(on_disk.find("AAAAAAAAAAAAAAAA"), std::string::npos);
  EXPECT_EQ(on_disk.find("FASTQ-READ-NAME"), std::string::npos);

  auto reader = (*spool)->Finish();
  ASSERT_TRUE(reader.ok());
  spool->reset();
  EXPECT_EQ(live_.load(), 1) << "the reader keeps the file";
  auto piece = (*reader)->Read(16);
  ASSERT_TRUE(piece.ok());
  EXPECT_EQ(*piece, std::string(16, 'A'));
  reader->reset();
  EXPECT_EQ(live_.load(), 0);
  EXPECT_EQ(OpenFiles(), 0);
  EXPECT_TRUE(fs::is_empty(dir_));
}

TEST_F(BodySpoolTest, AbandonedSpoolLeavesNothing) {
  {
    auto spool = BodySpool::Create(dir_, &live_);
    ASSERT_TRUE(spool.ok());
    ASSERT_TRUE((*spool)->Append(std::string(100000, 'x')).ok());
    EXPECT_EQ(OpenFiles(), 1);
  }  // never finished: a request that ended mid-body
  EXPECT_EQ(live_.load(), 0);
  EXPECT_EQ(OpenFiles(), 0);
  EXPECT_TRUE(fs::is_empty(dir_));
}

TEST_F(BodySpoolTest, MissingDirectoryIsAnError) {
  auto spool = BodySpool::Create(dir_ / "absent", &live_);
  ASSERT_FALSE(spool.ok());
  EXPECT_EQ(spool.error().code, "body_spool_unavailable");
  EXPECT_EQ(live_.load(), 0);
}

TEST(BodyPiecesTest, InMemoryBodyComesInPiecesToo) {
  Request req;
  req.body = "0123456789";
  EXPECT_EQ(BodySize(req), 10);
  auto next = BodyPieces(req, 4);
  std::vector<std::string> pieces;
  for (;;) {
    auto p = next();
    ASSERT_TRUE(p.ok());
    if (p->empty()) break;
    pieces.push_back(*p);
  }
  EXPECT_EQ(pieces, (std::vector<std::string>{"0123", "4567", "89"}));
  auto text = ReadBodyText(req);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, "0123456789");
}

}  // namespace
}  // namespace zengen::http
