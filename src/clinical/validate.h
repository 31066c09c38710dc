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

}  // namespace zengen::clinical
