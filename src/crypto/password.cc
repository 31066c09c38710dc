#include "crypto/password.h"

#include <sodium.h>

#include <cctype>
#include <string>

#include "crypto/common_passwords.h"

namespace zengen::crypto {
namespace {

// The header states the defaults as numbers so that it need not include <sodium.h> (linked
// privately); these keep the numbers honest.
static_assert(PasswordCost{}.ops_limit == crypto_pwhash_OPSLIMIT_INTERACTIVE);
static_assert(PasswordCost{}.mem_limit == crypto_pwhash_MEMLIMIT_INTERACTIVE);
static_assert(PasswordCost::Minimal().ops_limit == crypto_pwhash_OPSLIMIT_MIN);
static_assert(PasswordCost::Minimal().mem_limit == crypto_pwhash_MEMLIMIT_MIN);
static_assert(crypto_pwhash_STRBYTES == 128);

// A function-local static is initialised exactly once even when several threads arrive
// together, which is what libsodium asks of sodium_init() callers.
bool SodiumReady() {
  static const bool ready = sodium_init() >= 0;
  return ready;
}

std::string LowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

size_t CountCodePoints(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++n;
  }
  return n;
}

bool IsAsciiDigitOrPunct(char c) {
  // std::isdigit/ispunct would depend on the locale; only ASCII is meant.
  return (c >= '0' && c <= '9') || (c >= '!' && c <= '/') || (c >= ':' && c <= '@') ||
         (c >= '[' && c <= '`') || (c >= '{' && c <= '~');
}

Error PolicyError(std::string code, std::string message) {
  return InvalidArgument(std::move(code), std::move(message), "password");
}

}  // namespace

Result<std::string> HashPassword(std::string_view password, const PasswordCost& cost) {
  if (password.size() > kMaxPasswordBytes) {
    return PolicyError("password_too_long", "the password is longer than 1024 bytes");
  }
  if (!SodiumReady()) return Internal("password_hash_failed", "libsodium failed to initialise");
  char encoded[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(encoded, password.data(), password.size(), cost.ops_limit,
                        cost.mem_limit) != 0) {
    return Internal("password_hash_failed",
                    "Argon2id hashing failed (out of memory, or cost outside libsodium's limits)");
  }
  return std::string(encoded);
}

bool VerifyPassword(std::string_view encoded_hash, std::string_view password) {
  if (password.size() > kMaxPasswordBytes || !SodiumReady()) return false;
  // libsodium reads the hash as a C string: an embedded NUL would silently shorten it, and an
  // over-long one cannot have come from HashPassword.
  if (encoded_hash.empty() || encoded_hash.size() >= crypto_pwhash_STRBYTES ||
      encoded_hash.find('\0') != std::string_view::npos) {
    return false;
  }
  const std::string hash(encoded_hash);
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

bool PasswordNeedsRehash(std::string_view encoded_hash, const PasswordCost& cost) {
  if (!SodiumReady() || encoded_hash.size() >= crypto_pwhash_STRBYTES ||
      encoded_hash.find('\0') != std::string_view::npos) {
    return true;
  }
  const std::string hash(encoded_hash);
  // 0 means "Argon2id with exactly these limits"; 1 means other limits; -1 means not an
  // Argon2id hash at all (for example argon2i). Both of the latter call for re-hashing.
  return crypto_pwhash_str_needs_rehash(hash.c_str(), cost.ops_limit, cost.mem_limit) != 0;
}

bool IsCommonPassword(std::string_view password) {
  std::string candidate = LowerAscii(password);
  // Try the password as typed and after each trailing digit or punctuation mark is removed, so
  // that "trustno1!" is caught through "trustno1" and "Welcome2024!" through "welcome".
  while (!candidate.empty()) {
    if (IsListedCommonPassword(candidate)) return true;
    if (!IsAsciiDigitOrPunct(candidate.back())) break;
    candidate.pop_back();
  }
  return false;
}

Status CheckPasswordPolicy(std::string_view password, std::string_view username) {
  if (password.size() > kMaxPasswordBytes) {
    return PolicyError("password_too_long", "the password must be at most 1024 bytes long");
  }
  if (CountCodePoints(password) < kMinPasswordCodePoints) {
    return PolicyError("password_too_short", "the password must be at least 12 characters long");
  }
  if (!username.empty()) {
    const std::string lower_password = LowerAscii(password);
    const std::string lower_username = LowerAscii(username);
    // Containment is only tested for usernames of three or more characters: "al" or "x" would
    // otherwise forbid a large share of good passphrases while adding nothing to security.
    const bool same = lower_password == lower_username;
    const bool contains =
        CountCodePoints(username) >= 3 && lower_password.find(lower_username) != std::string::npos;
    if (same || contains) {
      return PolicyError("password_contains_username",
                         "the password must not contain the username");
    }
  }
  if (IsCommonPassword(password)) {
    return PolicyError("password_common",
                       "this password is too common; choose one that is not on lists of leaked "
                       "passwords");
  }
  return Status::Ok();
}

}  // namespace zengen::crypto
