#include "crypto/tokens.h"

#include "crypto/crypto.h"

namespace zengen::crypto {
namespace {

constexpr std::string_view kRecoveryAlphabet = "abcdefghjkmnpqrstuvwxyz23456789";
static_assert(kRecoveryAlphabet.size() == 31);

// A uniformly random character of the recovery alphabet. Bytes of 248 and above are
// redrawn, because 256 is not a multiple of 31 and taking them modulo 31 would favour the
// first few characters.
char RandomRecoveryChar() {
  constexpr unsigned kLimit = 256 / kRecoveryAlphabet.size() * kRecoveryAlphabet.size();
  while (true) {
    const auto b = static_cast<unsigned char>(RandomBytes(1)[0]);
    if (b < kLimit) return kRecoveryAlphabet[b % kRecoveryAlphabet.size()];
  }
}

}  // namespace

std::string NewToken(std::string_view prefix) {
  return std::string(prefix) + "_" + ToHex(RandomBytes(32));
}

std::string TokenHash(std::string_view token) {
  // A token carries 256 random bits, so nobody can guess it from its hash however fast the hash
  // is: a slow, salted password hash would only cost CPU on every request and prevent looking
  // tokens up by hash. Recovery codes (~59 bits) are still far beyond online guessing, and
  // their hashes are as private as the rest of the credentials table.
  return Sha256Hex(token);
}

std::vector<std::string> NewRecoveryCodes(int n) {
  std::vector<std::string> codes;
  for (int i = 0; i < n; ++i) {
    std::string code;
    for (int group = 0; group < 3; ++group) {
      if (group > 0) code.push_back('-');
      for (int j = 0; j < 4; ++j) code.push_back(RandomRecoveryChar());
    }
    codes.push_back(std::move(code));
  }
  return codes;
}

std::string NormaliseRecoveryCode(std::string_view code) {
  std::string out;
  out.reserve(code.size());
  for (char c : code) {
    if (c == ' ' || c == '\t' || c == '-') continue;
    out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  return out;
}

}  // namespace zengen::crypto
