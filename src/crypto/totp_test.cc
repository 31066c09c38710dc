#include "crypto/totp.h"

#include <gtest/gtest.h>

#include <string>

namespace zengen::crypto {
namespace {

// RFC 6238 Appendix B uses the ASCII seed "12345678901234567890" for HMAC-SHA-1.
const std::string kRfcSecret = "12345678901234567890";

TEST(TotpTest, MatchesRfc6238Sha1Vectors) {
  const struct {
    int64_t time;
    const char* code;
  } kVectors[] = {
      {59, "94287082"},         {1111111109, "07081804"}, {1111111111, "14050471"},
      {1234567890, "89005924"}, {2000000000, "69279037"}, {20000000000, "65353130"},
  };
  for (const auto& v : kVectors) {
    SCOPED_TRACE(v.time);
    EXPECT_EQ(TotpCode(kRfcSecret, v.time, 8), v.code);
    // The 6-digit code is the same number modulo 10^6, i.e. the last six digits.
    EXPECT_EQ(TotpCode(kRfcSecret, v.time), std::string(v.code).substr(2));
  }
}

TEST(TotpTest, CodeIsConstantWithinAStep) {
  // 1111111110 = 30 * 37037037 starts a step.
  EXPECT_EQ(TotpCode(kRfcSecret, 1111111110), TotpCode(kRfcSecret, 1111111139));
  EXPECT_NE(TotpCode(kRfcSecret, 1111111139), TotpCode(kRfcSecret, 1111111140));
  EXPECT_NE(TotpCode(kRfcSecret, 1111111109), TotpCode(kRfcSecret, 1111111110));
  EXPECT_EQ(TotpStep(59), 1);
  EXPECT_EQ(TotpStep(60), 2);
  EXPECT_EQ(TotpStep(-1), -1);
}

TEST(Base32Test, EncodesRfc4648VectorsWithoutPadding) {
  EXPECT_EQ(Base32Encode(""), "");
  EXPECT_EQ(Base32Encode("f"), "MY");
  EXPECT_EQ(Base32Encode("fo"), "MZXQ");
  EXPECT_EQ(Base32Encode("foo"), "MZXW6");
  EXPECT_EQ(Base32Encode("foob"), "MZXW6YQ");
  EXPECT_EQ(Base32Encode("fooba"), "MZXW6YTB");
  EXPECT_EQ(Base32Encode("foobar"), "MZXW6YTBOI");
}

TEST(Base32Test, DecodesRfc4648VectorsWithAndWithoutPadding) {
  const std::pair<const char*, const char*> kVectors[] = {
      {"", ""},
      {"f", "MY======"},
      {"fo", "MZXQ===="},
      {"foo", "MZXW6==="},
      {"foob", "MZXW6YQ="},
      {"fooba", "MZXW6YTB"},
      {"foobar", "MZXW6YTBOI======"},
  };
  for (const auto& [plain, encoded] : kVectors) {
    SCOPED_TRACE(encoded);
    auto padded = Base32Decode(encoded);
    ASSERT_TRUE(padded.ok());
    EXPECT_EQ(*padded, plain);
    auto bare = Base32Decode(Base32Encode(plain));
    ASSERT_TRUE(bare.ok());
    EXPECT_EQ(*bare, plain);
  }
}

TEST(Base32Test, DecodeIgnoresCaseAndSpacesAndRejectsOtherCharacters) {
  auto loose = Base32Decode("mzxw 6ytb oi");
  ASSERT_TRUE(loose.ok());
  EXPECT_EQ(*loose, "foobar");
  for (const char* bad : {"MZXW1", "MZXW0", "MZ-XW", "MZXW6\n", "MZXW6YTBO", "M"}) {
    SCOPED_TRACE(bad);
    auto r = Base32Decode(bad);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, "invalid_base32");
  }
}

TEST(Base32Test, RoundTripsRandomSecrets) {
  for (int i = 0; i < 20; ++i) {
    const std::string secret = NewTotpSecret();
    ASSERT_EQ(secret.size(), 20u);
    EXPECT_EQ(Base32Encode(secret).size(), 32u);
    auto back = Base32Decode(Base32Encode(secret));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, secret);
  }
  EXPECT_NE(NewTotpSecret(), NewTotpSecret());
}

TEST(TotpTest, VerifyAcceptsWindowOfOneStepEitherWay) {
  const int64_t now = 1'700'000'000;
  const int64_t step = TotpStep(now);
  for (int offset : {-1, 0, 1}) {
    SCOPED_TRACE(offset);
    const std::string code = TotpCode(kRfcSecret, now + offset * 30);
    EXPECT_EQ(VerifyTotp(kRfcSecret, code, now, -1), step + offset);
  }
  for (int offset : {-2, 2}) {
    SCOPED_TRACE(offset);
    const std::string code = TotpCode(kRfcSecret, now + offset * 30);
    EXPECT_EQ(VerifyTotp(kRfcSecret, code, now, -1), std::nullopt);
    // A wider window takes them.
    EXPECT_EQ(VerifyTotp(kRfcSecret, code, now, -1, 2), step + offset);
  }
  EXPECT_EQ(VerifyTotp(kRfcSecret, TotpCode(kRfcSecret, now + 30), now, -1, 0), std::nullopt);
}

TEST(TotpTest, VerifyRefusesReplayAndOlderSteps) {
  const int64_t now = 1'700'000'000;
  const std::string code = TotpCode(kRfcSecret, now);
  auto used = VerifyTotp(kRfcSecret, code, now, -1);
  ASSERT_TRUE(used.has_value());
  // The same code again, even a few seconds later within the same or the next step.
  EXPECT_EQ(VerifyTotp(kRfcSecret, code, now, *used), std::nullopt);
  EXPECT_EQ(VerifyTotp(kRfcSecret, code, now + 30, *used), std::nullopt);
  // The previous step's code is older than the one used and is refused too.
  EXPECT_EQ(VerifyTotp(kRfcSecret, TotpCode(kRfcSecret, now - 30), now, *used), std::nullopt);
  // The next step's code is still good.
  EXPECT_EQ(VerifyTotp(kRfcSecret, TotpCode(kRfcSecret, now + 30), now + 30, *used), *used + 1);
}

TEST(TotpTest, VerifyRefusesMalformedAndWrongCodes) {
  const int64_t now = 1'700'000'000;
  const std::string code = TotpCode(kRfcSecret, now);
  ASSERT_EQ(code.size(), 6u);
  EXPECT_EQ(VerifyTotp(kRfcSecret, code.substr(0, 5), now, -1), std::nullopt);
  EXPECT_EQ(VerifyTotp(kRfcSecret, code + "0", now, -1), std::nullopt);
  EXPECT_EQ(VerifyTotp(kRfcSecret, " " + code.substr(1), now, -1), std::nullopt);
  EXPECT_EQ(VerifyTotp(kRfcSecret, "12345a", now, -1), std::nullopt);
  EXPECT_EQ(VerifyTotp(kRfcSecret, "-12345", now, -1), std::nullopt);
  EXPECT_EQ(VerifyTotp(kRfcSecret, "", now, -1), std::nullopt);
  // Full-width digits are digits to Unicode but not to this check.
  EXPECT_EQ(VerifyTotp(kRfcSecret, "\uff11\uff12\uff13\uff14\uff15\uff16", now, -1), std::nullopt);
  // The 8-digit form of a valid code is not accepted either.
  EXPECT_EQ(VerifyTotp(kRfcSecret, TotpCode(kRfcSecret, now, 8), now, -1), std::nullopt);
  const std::string wrong = code == "000000" ? "000001" : "000000";
  EXPECT_EQ(VerifyTotp(kRfcSecret, wrong, now, -1), std::nullopt);
  EXPECT_EQ(VerifyTotp(NewTotpSecret(), code, now, -1), std::nullopt);
}

TEST(TotpTest, OtpauthUriPercentEncodesIssuerAndAccount) {
  EXPECT_EQ(OtpauthUri("Zengen", "alice", "foobar"),
            "otpauth://totp/Zengen:alice?secret=MZXW6YTBOI&issuer=Zengen&algorithm=SHA1&digits=6&"
            "period=30");
  // "@" and spaces; "国立" is E5 9B BD E7 AB 8B in UTF-8; ':' and '&' in the issuer must not
  // break the label or the query.
  EXPECT_EQ(OtpauthUri("Zengen Lab: A&B", "\u56fd\u7acb.taro@example.jp", "f"),
            "otpauth://totp/Zengen%20Lab%3A%20A%26B:%E5%9B%BD%E7%AB%8B.taro%40example.jp"
            "?secret=MY&issuer=Zengen%20Lab%3A%20A%26B&algorithm=SHA1&digits=6&period=30");
  EXPECT_EQ(OtpauthUri("", "bob", "f"),
            "otpauth://totp/bob?secret=MY&algorithm=SHA1&digits=6&period=30");
}

}  // namespace
}  // namespace zengen::crypto
