#include "crypto/totp.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>

#include "crypto/crypto.h"

namespace zengen::crypto {
namespace {

constexpr char kBase32Alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

int Base32Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a';
  if (c >= '2' && c <= '7') return c - '2' + 26;
  return -1;
}

// RFC 4226 section 5.3: HMAC-SHA-1 over the big-endian counter, then dynamic truncation to a
// 31-bit number.
uint32_t Hotp(std::string_view secret, uint64_t counter) {
  std::array<unsigned char, 8> message;
  for (int i = 7; i >= 0; --i) {
    message[i] = static_cast<unsigned char>(counter & 0xff);
    counter >>= 8;
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int mac_len = 0;
  // OpenSSL reads a null key pointer as "no key supplied" rather than as an empty key, and an
  // empty string_view may have a null data(); always pass a real pointer.
  static const char kEmpty = 0;
  const char* key = secret.empty() ? &kEmpty : secret.data();
  HMAC(EVP_sha1(), key, static_cast<int>(secret.size()), message.data(), message.size(), mac.data(),
       &mac_len);
  const int offset = mac[19] & 0x0f;
  return (static_cast<uint32_t>(mac[offset] & 0x7f) << 24) |
         (static_cast<uint32_t>(mac[offset + 1]) << 16) |
         (static_cast<uint32_t>(mac[offset + 2]) << 8) | static_cast<uint32_t>(mac[offset + 3]);
}

std::string FormatCode(uint32_t value, int digits) {
  std::string out(static_cast<size_t>(digits), '0');
  for (int i = digits - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  return out;
}

// REQUIRES: 1 <= digits <= 9. A negative step (before 1970) is used as its two's-complement
// counter; such codes are never issued in practice but stay well defined.
std::string CodeAtStep(std::string_view secret, int64_t step, int digits) {
  uint32_t modulus = 1;
  for (int i = 0; i < digits; ++i) modulus *= 10;
  return FormatCode(Hotp(secret, static_cast<uint64_t>(step)) % modulus, digits);
}

bool IsSixAsciiDigits(std::string_view code) {
  return code.size() == static_cast<size_t>(kTotpDigits) &&
         std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string PercentEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace

std::string Base32Encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 8 + 4) / 5);
  uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 5) {
      out.push_back(kBase32Alphabet[(buffer >> (bits - 5)) & 31]);
      bits -= 5;
    }
  }
  if (bits > 0) out.push_back(kBase32Alphabet[(buffer << (5 - bits)) & 31]);
  return out;
}

Result<std::string> Base32Decode(std::string_view text) {
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  size_t symbols = 0;
  for (char c : text) {
    if (c == ' ' || c == '=') continue;
    const int v = Base32Value(c);
    if (v < 0) return InvalidArgument("invalid_base32", "not a base32 character");
    ++symbols;
    buffer = (buffer << 5) | static_cast<uint32_t>(v);
    bits += 5;
    if (bits >= 8) {
      out.push_back(static_cast<char>((buffer >> (bits - 8)) & 0xff));
      bits -= 8;
    }
  }
  // Whole bytes come from 0, 2, 4, 5 or 7 trailing symbols; other counts mean a truncated or
  // mangled string, which would otherwise decode to a different secret without complaint.
  const size_t rest = symbols % 8;
  if (rest == 1 || rest == 3 || rest == 6) {
    return InvalidArgument("invalid_base32", "base32 string has an impossible length");
  }
  return out;
}

std::string NewTotpSecret() { return RandomBytes(20); }

int64_t TotpStep(int64_t unix_seconds) {
  // Floor rather than truncation toward zero, so steps stay 30 seconds wide before 1970 too.
  int64_t step = unix_seconds / kTotpStepSeconds;
  if (unix_seconds % kTotpStepSeconds < 0) --step;
  return step;
}

std::string TotpCode(std::string_view secret, int64_t unix_seconds, int digits) {
  return CodeAtStep(secret, TotpStep(unix_seconds), std::clamp(digits, 1, 9));
}

std::optional<int64_t> VerifyTotp(std::string_view secret, std::string_view code,
                                  int64_t unix_seconds, int64_t last_used_step, int window) {
  if (!IsSixAsciiDigits(code)) return std::nullopt;
  window = std::clamp(window, 0, 10);
  const int64_t now = TotpStep(unix_seconds);
  std::optional<int64_t> match;
  // Every candidate is computed and compared even after a match, so the time taken does not
  // depend on which step (if any) the code belongs to.
  // Offsets rather than absolute bounds, so that steps near the ends of int64_t cannot overflow.
  for (int offset = -window; offset <= window; ++offset) {
    const int64_t step = now + offset;
    const bool equal = ConstantTimeEquals(CodeAtStep(secret, step, kTotpDigits), code);
    if (equal && step > last_used_step && !match) match = step;
  }
  return match;
}

std::string OtpauthUri(std::string_view issuer, std::string_view account, std::string_view secret) {
  const std::string enc_issuer = PercentEncode(issuer);
  std::string uri = "otpauth://totp/";
  if (!issuer.empty()) uri += enc_issuer + ":";
  uri += PercentEncode(account) + "?secret=" + Base32Encode(secret);
  if (!issuer.empty()) uri += "&issuer=" + enc_issuer;
  uri += "&algorithm=SHA1&digits=6&period=30";
  return uri;
}

}  // namespace zengen::crypto
