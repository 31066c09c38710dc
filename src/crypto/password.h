// Password hashing (Argon2id, through libsodium) and the password policy.
//
// Stored hashes are libsodium's self-describing strings ("$argon2id$v=19$m=…,t=…,p=1$salt$hash"),
// so the cost parameters travel with each hash and can be raised later: PasswordNeedsRehash tells
// a login handler when to re-hash with the current cost after a successful verification.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace zengen::crypto {

// Longest password accepted, in bytes. Longer input is refused by CheckPasswordPolicy and
// HashPassword, and never verifies, so a login request cannot make the server hash megabytes.
inline constexpr size_t kMaxPasswordBytes = 1024;
// Shortest password accepted, in Unicode code points (not bytes), so that a passphrase in
// Japanese or another script with multi-byte characters is measured as people count it.
inline constexpr size_t kMinPasswordCodePoints = 12;

// Argon2id cost. The defaults are libsodium's "interactive" limits (crypto_pwhash_OPSLIMIT_
// INTERACTIVE and crypto_pwhash_MEMLIMIT_INTERACTIVE: 2 passes over 64 MiB), suitable for
// logins. Minimal() is libsodium's lowest accepted cost: for tests only, never for real hashes.
struct PasswordCost {
  uint64_t ops_limit = 2;
  size_t mem_limit = size_t{64} << 20;

  static constexpr PasswordCost Minimal() { return {.ops_limit = 1, .mem_limit = 8192}; }
};

// Hashes `password` with Argon2id and a fresh random salt, returning the encoded hash string
// (printable ASCII, at most 127 characters). Fails with kInvalidArgument "password_too_long"
// beyond kMaxPasswordBytes, and with kInternal "password_hash_failed" if libsodium cannot be
// initialised or cannot allocate the memory the cost asks for. Does not apply the policy: call
// CheckPasswordPolicy first when the password is chosen by a person.
Result<std::string> HashPassword(std::string_view password, const PasswordCost& cost = {});

// True iff `password` matches `encoded_hash` from HashPassword (under whatever cost that hash
// was made with). False for a wrong password, a malformed or empty hash, or a password longer
// than kMaxPasswordBytes. Takes as long as the hash's cost demands.
bool VerifyPassword(std::string_view encoded_hash, std::string_view password);

// True iff `encoded_hash` was not made with Argon2id at exactly `cost` (or is malformed), so a
// caller that has just verified the password should store HashPassword(password, cost) instead.
bool PasswordNeedsRehash(std::string_view encoded_hash, const PasswordCost& cost = {});

// Checks a password that a person is choosing. Every failure is kInvalidArgument with field
// "password" and one of these codes:
//   "password_too_short"          fewer than kMinPasswordCodePoints UTF-8 code points;
//   "password_too_long"           more than kMaxPasswordBytes bytes;
//   "password_contains_username"  equal to the username, or containing it when the username has
//                                 at least 3 code points (ASCII letters compared case-blind);
//                                 an empty username skips this check;
//   "password_common"             on the common-password list (case-blind), either as typed or
//                                 after removing any number of trailing ASCII digits and
//                                 punctuation ("Password123!" is refused as "password").
// Code points are counted leniently: every byte that is not a UTF-8 continuation byte counts.
Status CheckPasswordPolicy(std::string_view password, std::string_view username);

// True iff `password` is on the common-password list, with the case folding and trailing
// digit/punctuation stripping described for "password_common" above.
bool IsCommonPassword(std::string_view password);

}  // namespace zengen::crypto
