#include "crypto/crypto.h"
#include "crypto/sha256_stream.h"

#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cstdio>

#include <gtest/gtest.h>

namespace zengen::crypto {
namespace {

TEST(CryptoTest, Sha256MatchesKnownVector) {
  // FIPS 180-2 example "abc".
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(CryptoTest, Sha256StreamEqualsTheDigestOfTheConcatenatedPieces) {
  Sha256Stream empty;
  EXPECT_EQ(empty.HexFinal(), Sha256Hex(""));
  std::string all;
  Sha256Stream pieces;
  for (int i = 0; i < 100; ++i) {
    const std::string piece(static_cast<size_t>(i * 37 % 1000), static_cast<char>('a' + i % 26));
    pieces.Update(piece);
    all += piece;
  }
  Sha256Stream moved = std::move(pieces);
  moved.Update("");
  EXPECT_EQ(moved.HexFinal(), Sha256Hex(all));
  Sha256Stream abc;
  abc.Update("a");
  abc.Update("bc");
  EXPECT_EQ(abc.HexFinal(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(CryptoTest, HexRoundTripsAndRejectsBadInput) {
  const std::string bytes("\x00\x7f\xff\x10", 4);
  EXPECT_EQ(ToHex(bytes), "007fff10");
  auto back = FromHex("007FFF10");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, bytes);
  EXPECT_FALSE(FromHex("abc").ok());
  EXPECT_FALSE(FromHex("zz").ok());
}

TEST(CryptoTest, RandomBytesDiffer) {
  EXPECT_EQ(RandomBytes(32).size(), 32u);
  EXPECT_NE(RandomBytes(32), RandomBytes(32));
}

TEST(CryptoTest, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/zg-crypto-XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

TEST(CryptoTest, SelfSignedCertificateIsValidAndKeyIsPrivate) {
  TempDir dir;
  const auto cert = dir.path() / "c.pem", key = dir.path() / "k.pem";
  ASSERT_TRUE(WriteSelfSignedCertificate(cert, key, {"localhost", "127.0.0.1"}, 30).ok());
  struct stat st {};
  ASSERT_EQ(::stat(key.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  FILE* f = std::fopen(cert.c_str(), "r");
  ASSERT_NE(f, nullptr);
  X509* x = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(X509_check_host(x, "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(x, "127.0.0.1", 0), 1);
  EXPECT_EQ(X509_verify(x, X509_get0_pubkey(x)), 1);
  X509_free(x);
  // Never overwrites an existing key.
  EXPECT_FALSE(WriteSelfSignedCertificate(cert, key, {"localhost"}, 30).ok());
}

TEST(CryptoTest, SecretFileIsOwnerOnlyAndNotOverwritten) {
  TempDir dir;
  const auto p = dir.path() / "s.key";
  ASSERT_TRUE(WriteSecretFile(p, "secret").ok());
  struct stat st {};
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  EXPECT_FALSE(WriteSecretFile(p, "other").ok());
}

}  // namespace
}  // namespace zengen::crypto
