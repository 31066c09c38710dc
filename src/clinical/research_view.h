// The researcher's view of a participant's clinical data (issue 14, R4.3): what a grant holder
// or a member of the producing research group sees next to the participant's files.
//
// ResearchView(dict, history) takes, per category, the versions of one participant's records
// (any order) and returns, for each category with a submitted version, the newest submitted
// version with every field the dictionary marks never_public removed (top-level fields and the
// subfields of list items): {"<category>": {"version", "dictionary_version", "data"}}.
// Drafts are never shown (a draft is the hospital's unfinished work). Dates are already days
// from the index date (rel_day): nothing identifying is added. Fields the dictionary no longer
// knows are dropped too (a field is shown only when the dictionary says it may be).
//
// Who may call it is decided elsewhere (sharing::AddDatasetClinicalRoute asks the gate which
// participants the caller may see); this is a pure function.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "clinical/dictionary.h"
#include "clinical/records.h"

namespace zengen::clinical {

json ResearchView(const Dictionary& dict,
                  const std::map<std::string, std::vector<Record>>& history_by_category);

// The shown fields of one category's data object (never_public and unknown fields removed).
json PublicFields(const Category& category, const json& data);

}  // namespace zengen::clinical
