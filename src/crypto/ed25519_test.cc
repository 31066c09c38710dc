#include "crypto/ed25519.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "crypto/crypto.h"

namespace zengen::crypto::ed25519 {
namespace {

// RFC 8032 section 7.1, TEST 1 (empty message).
TEST(Ed25519Test, MatchesRfc8032TestVector) {
  auto seed = FromHex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
  ASSERT_TRUE(seed.ok());
  auto key = FromSeed(*seed);
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(ToHex(key->public_key),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  const std::string sig = Sign(*key, "");
  EXPECT_EQ(ToHex(sig),
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
            "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
  EXPECT_TRUE(Verify(key->public_key, "", sig));
  EXPECT_FALSE(Verify(key->public_key, "x", sig));
  EXPECT_FALSE(Verify(key->public_key, "", sig.substr(1)));
}

TEST(Ed25519Test, KeyFileIsCreatedOnceOwnerOnlyAndReloaded) {
  const auto dir = std::filesystem::temp_directory_path() / ("zengen-ed25519-" + ToHex(RandomBytes(6)));
  const auto path = dir / "keys" / "k.key";
  EXPECT_EQ(LoadKeyFile(path).error().code, "key_missing");
  auto created = LoadOrCreateKeyFile(path);
  ASSERT_TRUE(created.ok());
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto again = LoadOrCreateKeyFile(path);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->public_key, created->public_key);
  std::ofstream(dir / "bad.key") << "not hex\n";
  EXPECT_EQ(LoadKeyFile(dir / "bad.key").error().code, "key_malformed");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace zengen::crypto::ed25519
