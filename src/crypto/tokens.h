// Bearer secrets: session and machine tokens, and second-factor recovery codes.
//
// The server stores only TokenHash of a secret and looks it up by that hash; the secret itself
// is shown to its owner once.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace zengen::crypto {

// A new bearer token: `prefix` + "_" + 64 lower-case hex digits (32 random bytes, 256 bits).
// The prefix names the token's kind ("zgs" for sessions, "zgt" for machine tokens, say) so
// that leaked tokens can be recognised by secret scanners and in logs; it should be a short
// lower-case ASCII word without '_'.
std::string NewToken(std::string_view prefix);

// The value to store and index for a token: lower-case hex SHA-256 of its bytes (64 chars).
// Equal tokens give equal hashes, so lookups need no per-row salt. Not for passwords.
std::string TokenHash(std::string_view token);

// `n` fresh recovery codes of the form "xxxx-xxxx-xxxx", drawn uniformly from the 31 lower-case
// letters and digits that cannot be confused with one another (no 0, o, 1, l or i): about 59
// bits each. A negative `n` gives none. Store TokenHash(NormaliseRecoveryCode(code)).
std::vector<std::string> NewRecoveryCodes(int n = 10);

// The canonical form of a recovery code as typed: ASCII letters lower-cased, and spaces, tabs
// and dashes removed, so "ABCD EFGH-jkmn" and "abcd-efgh-jkmn" agree. Other characters are
// kept (and the code will then simply not match).
std::string NormaliseRecoveryCode(std::string_view code);

}  // namespace zengen::crypto
