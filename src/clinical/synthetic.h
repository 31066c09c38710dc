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
//
// The records of one participant also pass the dictionary's plausibility checks (RunChecks)
// together, whatever their seeds, on any day from index_date on: every day field is at most
// the index date, and a field that a check orders after another ("order" checks, followed
// transitively) lies in a later window of days than it (issue 14: the demo was implausible).
// The birth year of a birth_year_age check agrees with the age and the index date's year; it
// is left out when index_date is empty.
json SyntheticRecord(const Dictionary& dict, std::string_view category, std::string_view program,
                     uint64_t seed, bool complete, std::string_view index_date = {});

}  // namespace zengen::clinical
