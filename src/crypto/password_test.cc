#include "crypto/password.h"

#include <gtest/gtest.h>

#include <string>

#include "crypto/common_passwords.h"

namespace zengen::crypto {
namespace {

// Tests hash at libsodium's minimum cost; the default (64 MiB, ~0.3 s) is exercised once.
const PasswordCost kFast = PasswordCost::Minimal();

TEST(PasswordHashTest, RoundTripsAndRefusesWrongPassword) {
  auto hash = HashPassword("correct horse battery staple", kFast);
  ASSERT_TRUE(hash.ok()) << hash.error().message;
  EXPECT_EQ(hash->rfind("$argon2id$", 0), 0u) << *hash;
  EXPECT_TRUE(VerifyPassword(*hash, "correct horse battery staple"));
  EXPECT_FALSE(VerifyPassword(*hash, "correct horse battery stapler"));
  EXPECT_FALSE(VerifyPassword(*hash, "Correct horse battery staple"));
  EXPECT_FALSE(VerifyPassword(*hash, ""));
}

TEST(PasswordHashTest, DefaultCostIsInteractiveArgon2id) {
  auto hash = HashPassword("one hash at the real cost");
  ASSERT_TRUE(hash.ok()) << hash.error().message;
  EXPECT_NE(hash->find("$m=65536,t=2,p=1$"), std::string::npos) << *hash;
  EXPECT_TRUE(VerifyPassword(*hash, "one hash at the real cost"));
  EXPECT_FALSE(PasswordNeedsRehash(*hash));
}

TEST(PasswordHashTest, SaltsEachHash) {
  auto a = HashPassword("the same password", kFast);
  auto b = HashPassword("the same password", kFast);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
  EXPECT_TRUE(VerifyPassword(*b, "the same password"));
}

TEST(PasswordHashTest, HandlesNonAsciiAndEmbeddedNul) {
  const std::string japanese = "\u3053\u3093\u306b\u3061\u306f\u4e16\u754c";
  auto hash = HashPassword(japanese, kFast);
  ASSERT_TRUE(hash.ok());
  EXPECT_TRUE(VerifyPassword(*hash, japanese));
  const std::string with_nul("abc\0def", 7);
  auto nul_hash = HashPassword(with_nul, kFast);
  ASSERT_TRUE(nul_hash.ok());
  EXPECT_TRUE(VerifyPassword(*nul_hash, with_nul));
  EXPECT_FALSE(VerifyPassword(*nul_hash, "abc"));
}

TEST(PasswordHashTest, RejectsMalformedHashesAndOverlongPasswords) {
  EXPECT_FALSE(VerifyPassword("", "password"));
  EXPECT_FALSE(VerifyPassword("not a hash", "password"));
  EXPECT_FALSE(VerifyPassword(std::string(200, '$'), "password"));
  auto hash = HashPassword("some password", kFast);
  ASSERT_TRUE(hash.ok());
  EXPECT_FALSE(VerifyPassword(hash->substr(0, hash->size() - 4), "some password"));
  EXPECT_FALSE(VerifyPassword(*hash + std::string(1, '\0') + "x", "some password"));

  const std::string too_long(kMaxPasswordBytes + 1, 'a');
  auto refused = HashPassword(too_long, kFast);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "password_too_long");
  EXPECT_TRUE(HashPassword(std::string(kMaxPasswordBytes, 'a'), kFast).ok());
}

TEST(PasswordHashTest, NeedsRehashWhenCostDiffers) {
  auto hash = HashPassword("rehash me please", kFast);
  ASSERT_TRUE(hash.ok());
  EXPECT_FALSE(PasswordNeedsRehash(*hash, kFast));
  EXPECT_TRUE(PasswordNeedsRehash(*hash));  // the interactive default is stronger
  EXPECT_TRUE(PasswordNeedsRehash("garbage"));
}

void ExpectPolicyError(std::string_view password, std::string_view username,
                       std::string_view code) {
  SCOPED_TRACE(std::string(password));
  const Status s = CheckPasswordPolicy(password, username);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().kind, ErrorKind::kInvalidArgument);
  EXPECT_EQ(s.error().code, code);
  EXPECT_EQ(s.error().field, "password");
  EXPECT_FALSE(s.error().message.empty());
}

TEST(PasswordPolicyTest, AcceptsReasonablePasswords) {
  EXPECT_TRUE(CheckPasswordPolicy("correct horse battery staple", "alice").ok());
  EXPECT_TRUE(CheckPasswordPolicy("Vq7#mLp2!xRz", "alice").ok());
  EXPECT_TRUE(CheckPasswordPolicy(std::string(kMaxPasswordBytes, 'q'), "alice").ok());
  EXPECT_TRUE(CheckPasswordPolicy("correct horse battery staple", "").ok());
}

TEST(PasswordPolicyTest, CountsCodePointsNotBytes) {
  // 12 code points (36 bytes): "ゲノム解析は楽しいですね".
  const std::string twelve =
      "\u30b2\u30ce\u30e0\u89e3\u6790\u306f\u697d\u3057\u3044\u3067\u3059\u306d";
  ASSERT_EQ(twelve.size(), 36u);
  EXPECT_TRUE(CheckPasswordPolicy(twelve, "taro").ok());
  // 11 code points (33 bytes, more than 12) is still too short.
  ExpectPolicyError(twelve.substr(0, 33), "taro", "password_too_short");
  ExpectPolicyError("abcdefghijk", "", "password_too_short");  // 11 ASCII characters
  ExpectPolicyError("", "", "password_too_short");
}

TEST(PasswordPolicyTest, RefusesOverlongPasswords) {
  ExpectPolicyError(std::string(kMaxPasswordBytes + 1, 'q'), "alice", "password_too_long");
  // 342 three-byte characters: 1,026 bytes.
  std::string japanese;
  for (int i = 0; i < 342; ++i) japanese += "\u3042";
  ExpectPolicyError(japanese, "alice", "password_too_long");
}

TEST(PasswordPolicyTest, RefusesUsername) {
  ExpectPolicyError("alice.wonderland", "alice.wonderland", "password_contains_username");
  ExpectPolicyError("Alice.Wonderland", "alice.wonderland", "password_contains_username");
  ExpectPolicyError("my name is ALICE and I sequence", "alice", "password_contains_username");
  ExpectPolicyError("bob-bob-bob-bob", "Bob", "password_contains_username");
  // Usernames shorter than three characters are not searched for inside passwords.
  EXPECT_TRUE(CheckPasswordPolicy("a quiet genomic evening", "al").ok());
}

TEST(PasswordPolicyTest, RefusesCommonPasswords) {
  for (const char* common : {"password1234", "qwertyuiop123", "123456789012", "iloveyou1234",
                             "PASSWORD1234", "Password123!", "password123456!!", "welcome2024!!",
                             "ZenGen2025!!", "genome123456", "letmein12345", "Qwerty123456",
                             "trustno1!!!!", "p@ssw0rd1234", "111111111111", "Dragon2024!!"}) {
    ExpectPolicyError(common, "someone", "password_common");
  }
  // Stripping only removes trailing digits and punctuation, not letters or inner characters.
  EXPECT_TRUE(CheckPasswordPolicy("passwordless genomics", "someone").ok());
  EXPECT_TRUE(CheckPasswordPolicy("123 password", "someone").ok());
}

TEST(PasswordPolicyTest, CommonListIsSubstantialAndMatchesItself) {
  EXPECT_GE(CommonPasswordCount(), 300u);
  for (const char* entry : {"password1234", "qwertyuiop123", "123456789012", "iloveyou1234",
                            "zengen", "genome", "letmein", "admin", "qwerty", "welcome"}) {
    EXPECT_TRUE(IsListedCommonPassword(entry)) << entry;
    EXPECT_TRUE(IsCommonPassword(entry)) << entry;
  }
  EXPECT_FALSE(IsListedCommonPassword("Password"));  // the list is lower-case; callers fold
  EXPECT_TRUE(IsCommonPassword("Password"));
  EXPECT_FALSE(IsCommonPassword("tangerine kettle ferry"));
  EXPECT_FALSE(IsCommonPassword(""));
}

}  // namespace
}  // namespace zengen::crypto
