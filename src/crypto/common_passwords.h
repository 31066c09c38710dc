// Internal to the crypto module: lookup in the common-password list (common_passwords.cc).
// Callers outside src/crypto use IsCommonPassword or CheckPasswordPolicy (password.h).
#pragma once

#include <cstddef>
#include <string_view>

namespace zengen::crypto {

// True iff `lower_case` is exactly an entry of the list. The caller folds case and strips
// suffixes; this does neither.
bool IsListedCommonPassword(std::string_view lower_case);

// Number of entries on the list.
size_t CommonPasswordCount();

}  // namespace zengen::crypto
