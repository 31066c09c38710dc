#pragma once
// Quoting for POSIX shell command lines built by the project (batch scripts, test helpers).

#include <string>
#include <string_view>

namespace zengen {

// `s` as one POSIX shell word: single quotes, an embedded quote closed, escaped and reopened.
// Any byte string is safe, including empty (→ '').
inline std::string ShellQuote(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

}  // namespace zengen
