// Validation of one category record against the data dictionary (R2.4): every problem is
// reported, each with the path of the offending field, a stable code, a message key for the
// UI and ja/en messages that say what is allowed.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "clinical/dictionary.h"

namespace zengen::clinical {

// kDraft checks everything except "required" (a draft may be incomplete but never wrong);
// kSubmit checks everything.
enum class Mode { kDraft, kSubmit };

// Problem codes: required, not_in_list, out_of_range, wrong_type, bad_format,
// not_allowed_here (a field whose condition is false), unknown_field, unknown_code (a code not
// in the loaded code list), unknown_category.
struct Problem {
  std::string path;         // e.g. "drug_lines[1].stop_reason"; "" for the whole record
  std::string code;
  std::string message_key;  // "clinical.problem.<code>"
  Text message;
};
json ProblemJson(const Problem& p);
json ProblemsJson(const std::vector<Problem>& ps);

// The code lists the operator has loaded (table code_lists), by system. A system without a
// list is checked by format only.
class CodeLists {
 public:
  void Set(std::string system, std::set<std::string, std::less<>> codes) {
    lists_[std::move(system)] = std::move(codes);
  }
  bool Loaded(std::string_view system) const { return lists_.find(system) != lists_.end(); }
  // REQUIRES: Loaded(system)
  bool Contains(std::string_view system, std::string_view code) const {
    const auto it = lists_.find(system);
    return it != lists_.end() && it->second.contains(code);
  }
  size_t size(std::string_view system) const {
    const auto it = lists_.find(system);
    return it == lists_.end() ? 0 : it->second.size();
  }
  // Up to limit codes of system matching query, for the console's code picker: codes that
  // start with the query (letters compared without case) in code order, then codes that
  // contain it elsewhere. An empty query gives the first codes. Empty when not Loaded.
  std::vector<std::string> Search(std::string_view system, std::string_view query,
                                  size_t limit) const;

 private:
  std::map<std::string, std::set<std::string, std::less<>>, std::less<>> lists_;
};

// Validates data (a JSON object: field code -> value; lists as arrays of objects) of the
// category for a participant in program (cancer | rare_disease). Returns every problem, in
// dictionary order; empty means valid.
std::vector<Problem> Validate(const Dictionary& dict, std::string_view category, const json& data,
                              std::string_view program, Mode mode, const CodeLists& code_lists);

// Required top-level fields that apply (condition true) and how many of them are filled (a
// null flavour counts as filled: "unknown" is an answer). A required list is filled when it
// has min_items items (at least one).
struct Completeness {
  int filled = 0;
  int applicable = 0;
  bool complete() const { return filled == applicable; }
};
Completeness ComputeCompleteness(const Category& category, const json& data,
                                 std::string_view program);

// The dictionary's plausibility checks (Dictionary::checks), the same the console runs
// (web/src/console/Clinical.tsx runChecks), for a write of category (issue 14). records holds
// the current data of every category of the participant, the record being written included
// (category code -> data object; missing categories are empty). Values are rel_day numbers
// (days from index_date) or date strings (YYYY-MM-DD, converted to days from index_date); null
// flavours and other non-dates take part in no check. today is the server's date (YYYY-MM-DD).
//
// Returns one problem per offending value of category (path relative to the category, as
// Validate's: "drug_lines[1].end_day") for each check of severity "error" that fails; warnings
// never refuse a write and are not returned. Problem code "implausible", message_key
// "clinical.check.<check code>", message the check's ja/en text. not_in_future applies in
// both modes (a draft may be incomplete, never wrong); the cross-field checks (order,
// birth_year_age) at submission, as in the console. A failing check whose offending values all
// lie in other categories is not this write's problem and is not returned.
struct CheckDates {
  std::string_view index_date;
  std::string_view today;
};
std::vector<Problem> RunChecks(const Dictionary& dict, std::string_view category,
                               const std::map<std::string, json, std::less<>>& records,
                               const CheckDates& dates, Mode mode);

}  // namespace zengen::clinical
