// Time-based one-time passwords (RFC 6238: HMAC-SHA-1, 30-second steps, T0 = 0) for the second
// factor, and the RFC 4648 base32 encoding in which authenticator apps exchange their secrets.
//
// Secrets are raw bytes everywhere in this API; base32 appears only at the edge, in OtpauthUri
// and wherever a person types or reads a secret.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace zengen::crypto {

inline constexpr int64_t kTotpStepSeconds = 30;
inline constexpr int kTotpDigits = 6;

// RFC 4648 base32 (alphabet A-Z2-7), upper-case and without '=' padding.
std::string Base32Encode(std::string_view bytes);

// Decodes base32 case-insensitively, ignoring spaces and '=' wherever they appear. Fails with
// kInvalidArgument "invalid_base32" on any other character outside the alphabet, or when the
// number of symbols cannot end a base32 string (1, 3 or 6 modulo 8).
Result<std::string> Base32Decode(std::string_view text);

// A fresh 160-bit TOTP secret (20 random bytes), the size RFC 4226 recommends for HMAC-SHA-1.
std::string NewTotpSecret();

// The RFC 6238 time step containing `unix_seconds`: floor(unix_seconds / 30).
int64_t TotpStep(int64_t unix_seconds);

// The code for `secret` at `unix_seconds`: `digits` decimal digits with leading zeros.
// `digits` is clamped to 1..9; authenticator apps use 6 (the default) and RFC 6238's test
// vectors use 8.
std::string TotpCode(std::string_view secret, int64_t unix_seconds, int digits = kTotpDigits);

// Checks a 6-digit code typed by a user. Returns the time step it belongs to when `code` is
// exactly six ASCII digits and equals the code of some step in TotpStep(unix_seconds) ± window
// that is greater than `last_used_step`; otherwise nullopt. The caller must store the returned
// step as the new `last_used_step` (atomically with accepting the login), which makes a code,
// and any code older than it, unusable a second time. Pass a negative value such as -1 when no
// code has been used yet. `window` is clamped to 0..10; the default 1 tolerates 30 seconds of
// clock skew either way. Codes are compared in constant time and every step in the window is
// computed, so timing does not reveal which step matched. When several steps match, the
// earliest acceptable one is returned.
std::optional<int64_t> VerifyTotp(std::string_view secret, std::string_view code,
                                  int64_t unix_seconds, int64_t last_used_step, int window = 1);

// The provisioning URI that authenticator apps read from a QR code (Key Uri Format):
//   otpauth://totp/ISSUER:ACCOUNT?secret=BASE32&issuer=ISSUER&algorithm=SHA1&digits=6&period=30
// Issuer and account are UTF-8 and percent-encoded (everything but A-Z a-z 0-9 - . _ ~, so
// '@', ':', spaces and non-ASCII bytes become %XX); the secret is raw bytes, base32-encoded here.
// An empty issuer leaves out both the "ISSUER:" label prefix and the issuer parameter.
std::string OtpauthUri(std::string_view issuer, std::string_view account, std::string_view secret);

}  // namespace zengen::crypto
