// The fixed X25519 key pair the Crypt4GH fuzz target decrypts with, and that make_seeds uses
// to write its seed streams. Test material only: never a key of a real data center.
#pragma once

#include <string>

namespace zengen::fuzz {

inline std::string Crypt4ghReaderSecret() { return std::string(32, '\x42'); }
inline std::string Crypt4ghWriterSecret() { return std::string(32, '\x17'); }

}  // namespace zengen::fuzz
