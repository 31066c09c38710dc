// Ed25519 signatures (RFC 8032) on libsodium, for the signed heads of the audit log.
//
// Keys are kept as raw bytes: a 32-byte seed (the secret; libsodium expands it to its 64-byte
// secret key) and a 32-byte public key. A key file holds the seed as 64 lower-case hex digits
// and a newline; it is created with mode 0600 and never overwritten.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "common/result.h"

namespace zengen::crypto::ed25519 {

inline constexpr size_t kSeedBytes = 32;
inline constexpr size_t kPublicKeyBytes = 32;
inline constexpr size_t kSignatureBytes = 64;

struct KeyPair {
  std::string seed;        // 32 bytes, secret
  std::string public_key;  // 32 bytes
};

// A fresh key pair from the operating system's CSPRNG.
KeyPair Generate();

// The key pair of a 32-byte seed. Errors: kInvalidArgument "key_malformed" for another length.
Result<KeyPair> FromSeed(std::string_view seed);

// The 64-byte detached signature of message. REQUIRES: key came from Generate or FromSeed.
std::string Sign(const KeyPair& key, std::string_view message);

// true when signature is a valid Ed25519 signature of message under public_key. Any length
// mismatch is simply false.
bool Verify(std::string_view public_key, std::string_view message, std::string_view signature);

// Reads the key file at path. Errors: kNotFound "key_missing" when it does not exist;
// kInvalidArgument "key_malformed" when it does not hold 64 hex digits.
Result<KeyPair> LoadKeyFile(const std::filesystem::path& path);

// Reads the key file at path, or, when it does not exist, creates it (mode 0600, parent
// directory created with mode 0700 if absent) with a fresh key. Errors: kInvalidArgument
// "key_malformed" when the file does not hold 64 hex digits; kInternal when it cannot be
// created or read.
Result<KeyPair> LoadOrCreateKeyFile(const std::filesystem::path& path);

}  // namespace zengen::crypto::ed25519
