// Synthetic clinical records for the demo and for tests: generated from the data dictionary
// alone, so every new field is covered without extra code.
#pragma once

#include <cstdint>
#include <string_view>

#include "clinical/dictionary.h"

namespace zengen::clinical {

// A record of category for a participant in program, the same for the same seed. complete:
// passes Validate in submit mode (without loaded code lists: codes are format-valid samples,
// not drawn from licensed lists). Otherwise an incomplete draft: valid in draft mode with at
// least one required field missing. An unknown category gives an empty object.
json SyntheticRecord(const Dictionary& dict, std::string_view category, std::string_view program,
                     uint64_t seed, bool complete);

}  // namespace zengen::clinical
