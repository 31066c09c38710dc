// Checks of enumerated text fields that the modules' input validation shares, and the error
// that names the refused field. Header-only; no I/O.
#pragma once

#include <algorithm>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/result.h"

namespace zengen {

// Whether `v` is one of `values`, a module's array of allowed spellings (e.g. kOrigins).
template <size_t N>
bool OneOf(const std::string_view (&values)[N], std::string_view v) {
  return std::find(std::begin(values), std::end(values), v) != std::end(values);
}

// Whether the list `v` holds `x` (a user's roles, a request's fields).
inline bool Contains(const std::vector<std::string>& v, std::string_view x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

// The allowed spellings as "a, b, c", in array order, for the message of a refusal.
template <size_t N>
std::string ListOf(const std::string_view (&values)[N]) {
  return fmt::format("{}", fmt::join(values, ", "));
}

// The refusal of a field's value: kInvalidArgument (400) with code "invalid_<field>", naming
// `field`, with `message` for people (the web front-end turns the code into ja/en text).
inline Error BadField(const std::string& field, std::string message) {
  return InvalidArgument("invalid_" + field, std::move(message), field);
}

// `v` without the white space people type around free text: ASCII white space and U+3000
// IDEOGRAPHIC SPACE (what Japanese input methods type for a space). A required free-text
// field (a reason, an abstract) whose trimmed value is empty counts as missing.
inline std::string_view TrimBlank(std::string_view v) {
  constexpr std::string_view kAscii = " \t\r\n\v\f";
  constexpr std::string_view kIdeographicSpace = "\xE3\x80\x80";
  for (bool trimmed = true; trimmed && !v.empty();) {
    trimmed = false;
    if (kAscii.find(v.front()) != std::string_view::npos) {
      v.remove_prefix(1), trimmed = true;
    } else if (v.starts_with(kIdeographicSpace)) {
      v.remove_prefix(kIdeographicSpace.size()), trimmed = true;
    }
  }
  for (bool trimmed = true; trimmed && !v.empty();) {
    trimmed = false;
    if (kAscii.find(v.back()) != std::string_view::npos) {
      v.remove_suffix(1), trimmed = true;
    } else if (v.ends_with(kIdeographicSpace)) {
      v.remove_suffix(kIdeographicSpace.size()), trimmed = true;
    }
  }
  return v;
}

}  // namespace zengen
