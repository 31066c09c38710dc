#include "crypto/tokens.h"

#include <gtest/gtest.h>

#include <cctype>
#include <regex>
#include <set>
#include <string>

#include "crypto/crypto.h"

namespace zengen::crypto {
namespace {

TEST(TokensTest, NewTokenHasPrefixAnd256BitsOfHex) {
  const std::string token = NewToken("zgs");
  EXPECT_TRUE(std::regex_match(token, std::regex("zgs_[0-9a-f]{64}"))) << token;
  EXPECT_NE(NewToken("zgs"), NewToken("zgs"));
}

TEST(TokensTest, TokenHashIsHexSha256OfTheToken) {
  const std::string token = NewToken("zgt");
  EXPECT_EQ(TokenHash(token), Sha256Hex(token));
  EXPECT_EQ(TokenHash(token).size(), 64u);
  EXPECT_EQ(TokenHash(token), TokenHash(token));
  EXPECT_NE(TokenHash(token), TokenHash(NewToken("zgt")));
  // FIPS 180-2 "abc".
  EXPECT_EQ(TokenHash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(TokensTest, RecoveryCodesUseTheUnambiguousAlphabet) {
  const auto codes = NewRecoveryCodes();
  ASSERT_EQ(codes.size(), 10u);
  EXPECT_EQ(std::set<std::string>(codes.begin(), codes.end()).size(), 10u);
  const std::regex shape("[a-hjkmnp-z2-9]{4}-[a-hjkmnp-z2-9]{4}-[a-hjkmnp-z2-9]{4}");
  for (const auto& code : codes) {
    EXPECT_TRUE(std::regex_match(code, shape)) << code;
  }
  EXPECT_EQ(NewRecoveryCodes(3).size(), 3u);
  EXPECT_TRUE(NewRecoveryCodes(0).empty());
  EXPECT_TRUE(NewRecoveryCodes(-1).empty());
}

TEST(TokensTest, RecoveryCodesCoverTheWholeAlphabet) {
  // 1,200 characters from 31 symbols: each symbol is missing with probability about 2e-17.
  std::set<char> seen;
  for (const auto& code : NewRecoveryCodes(100)) {
    for (char c : code) {
      if (c != '-') seen.insert(c);
    }
  }
  EXPECT_EQ(seen.size(), 31u);
  for (char ambiguous : {'0', 'o', '1', 'l', 'i', 'O', 'I'}) EXPECT_EQ(seen.count(ambiguous), 0u);
}

TEST(TokensTest, NormaliseRecoveryCodeAcceptsLooseTyping) {
  EXPECT_EQ(NormaliseRecoveryCode("abcd-efgh-jkmn"), "abcdefghjkmn");
  EXPECT_EQ(NormaliseRecoveryCode("ABCD EFGH-JKMN"), "abcdefghjkmn");
  EXPECT_EQ(NormaliseRecoveryCode(" abcd--efgh  jkmn\t"), "abcdefghjkmn");
  EXPECT_EQ(NormaliseRecoveryCode(""), "");
  for (const auto& code : NewRecoveryCodes(3)) {
    std::string typed = code;
    for (char& c : typed) c = static_cast<char>(c == '-' ? ' ' : std::toupper(c));
    EXPECT_EQ(TokenHash(NormaliseRecoveryCode(typed)), TokenHash(NormaliseRecoveryCode(code)));
  }
}

}  // namespace
}  // namespace zengen::crypto
