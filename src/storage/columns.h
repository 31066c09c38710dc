// Column helpers shared by the modules that store JSON and optional text in their tables
// (genomefiles' file registry, sequencing's uploads and runs): how a value is written to a
// column and read back. Pure functions; no database access.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "storage/store.h"

namespace zengen::storage {

// JSON text of data that may hold bytes from a file (read names, htslib summaries): invalid
// UTF-8 is replaced (U+FFFD) instead of throwing. Compact, no indentation.
std::string SafeDump(const nlohmann::json& j);

// The strings of a JSON array stored as text, in order. Non-string elements are skipped; text
// that is not a JSON array (empty, corrupt, an object) gives an empty list. Never throws.
std::vector<std::string> ParseStringList(const std::string& text);

// The JSON value stored as text; null for empty or unparsable text. Never throws.
nlohmann::json ParseJsonOrNull(const std::string& text);

// An optional text column: NULL for the empty string, the text otherwise.
Value OptText(const std::string& s);

}  // namespace zengen::storage
