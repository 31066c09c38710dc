// Cryptographic primitives used across Zengen, on OpenSSL 3.
//
// This header: randomness, hashing, hex, secret files, and the self-signed TLS certificate that
// `zengen init` generates. Beside it: password.h (Argon2id and the password policy), totp.h
// (second-factor codes and base32) and tokens.h (session/machine tokens, recovery codes).
// Later issues add Crypt4GH and keyed pseudonyms.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace zengen::crypto {

// n bytes from the operating system's CSPRNG (OpenSSL RAND_bytes). Aborts if the generator
// fails, since continuing without randomness would be unsafe.
std::string RandomBytes(size_t n);

// Lower-case hexadecimal of bytes, and back. FromHex fails on odd length or non-hex input.
std::string ToHex(std::string_view bytes);
Result<std::string> FromHex(std::string_view hex);

// SHA-256 digest (32 raw bytes) and its hex form.
std::string Sha256(std::string_view data);
std::string Sha256Hex(std::string_view data);

// Compares two byte strings in time independent of where they differ.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// Writes a fresh ECDSA P-256 private key and a self-signed X.509 certificate for local use,
// valid for `days`, with subjectAltName entries for each name (DNS names or IP addresses).
// The key file is created with mode 0600. Fails if either file cannot be written.
Status WriteSelfSignedCertificate(const std::filesystem::path& cert_path,
                                  const std::filesystem::path& key_path,
                                  const std::vector<std::string>& names, int days);

// Writes `content` to a new file readable only by its owner (mode 0600). Refuses to overwrite
// an existing file: secret keys are never replaced by accident.
Status WriteSecretFile(const std::filesystem::path& path, std::string_view content);

}  // namespace zengen::crypto
