// New record ids for the modules that make their own (sharing's applications, datasets,
// grants, …). Header-only.
#pragma once

#include <cctype>
#include <string>
#include <string_view>

#include "crypto/crypto.h"

namespace zengen::crypto {

// prefix, then 16 upper-case hex digits of 8 random bytes (64 bits), e.g. "APP-3FA0…".
inline std::string NewId(std::string_view prefix) {
  std::string hex = ToHex(RandomBytes(8));
  for (char& c : hex) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return std::string(prefix) + hex;
}

}  // namespace zengen::crypto
