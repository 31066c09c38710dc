// The clinical data dictionary (R2.1, R2.4, R2.5): six categories of fields, each with ja/en
// labels and definitions, a type, unit, range, controlled values, a required flag, a
// never-public flag and a condition saying when the field applies. The dictionary is data
// (dictionary/clinical-v1.json, embedded at build time) and this file is its one interpreter:
// the validator, the importer, completeness and the UI (through GET /api/v1/dictionary) all
// read the same rules, and conditions are evaluated by one engine (Applies).
//
// Licensed terminologies (ICD-10, ICD-O-3, MedDRA) are never part of the dictionary: code
// fields name a code system, whose FORMAT is checked always and whose MEMBERSHIP is checked
// only when the operator has loaded a code list for it (records.h LoadCodeList).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace zengen::clinical {

using nlohmann::json;

struct Text {
  std::string ja;
  std::string en;
};

// One controlled value of an enum field (or a null flavour).
struct Value {
  std::string code;
  Text label;
  Text definition;
};

// When a field applies. A small language, written in the dictionary as JSON:
//   {"field": "hsct_given", "equals": "yes"}     the field's value equals a string
//   {"field": "qc_status", "in": ["fail", "x"]}  the field's value is one of these
//   {"program": "rare_disease"}                  the participant's program
//   {"all": [c, …]}, {"any": [c, …]}, {"not": c}
// A field reference looks in the same list item first, then at the record's top level. A
// field that is absent or not a string never equals anything.
struct Condition {
  enum class Kind { kFieldIn, kProgram, kAll, kAny, kNot };
  Kind kind = Kind::kAll;
  std::string field;
  std::vector<std::string> values;  // kFieldIn (equals is an in of one), kProgram
  std::vector<Condition> children;  // kAll, kAny, kNot (one child)
};

enum class FieldType { kEnum, kInt, kDecimal, kDate, kRelDay, kString, kBool, kCode, kList };
std::string_view TypeName(FieldType t);

struct Field {
  std::string code;
  Text label;
  Text definition;
  FieldType type = FieldType::kString;
  std::string unit;
  std::optional<double> min;  // int, decimal, rel_day: value range; list: not used
  std::optional<double> max;
  std::vector<Value> values;  // enum
  std::string value_set;      // enum: the named value set the values came from, if any
  bool required = false;
  bool never_public = false;
  bool null_flavours = false;  // a NullFlavor code (UNK, ASKU, …) may stand for the value
  std::optional<Condition> condition;
  std::string system;       // code: the code system
  std::string system_from;  // code: a sibling enum field whose value names the system
  std::string format;       // string: a built-in format (MatchesFormat)
  size_t max_length = 1000;  // string
  std::vector<Field> subfields;  // list: the fields of each item
  size_t min_items = 0;          // list
  size_t max_items = 200;        // list

  const Value* FindValue(std::string_view v) const;
  const Field* FindSubfield(std::string_view c) const;
};

struct Category {
  std::string code;
  Text label;
  Text definition;
  std::vector<Field> fields;
  const Field* FindField(std::string_view c) const;
};

struct CodeSystem {
  std::string code;  // e.g. icd10
  Text label;
  std::string format;  // built-in format name
  bool licensed = false;
  std::string uri;  // FHIR system URI
};

// A plausibility check across fields and categories (the dictionary's "checks"). A path is
// "category.field" or "category.list[].field" and names a date-like field (rel_day, date) or,
// for birth_year_age, an int. Kinds:
//   not_in_future   no date or rel_day (from the index date) after today
//   birth_year_age  |index year - birth_year - age| <= 1, and the birth year not in the future
//   order           every value at a `before` path <= every value at an `after` path (with
//                   same_row: only values in the same row of one list are compared)
// Severity "error" stops submission in the console; "warning" is shown. The console evaluates
// the checks over all six categories (web/src/console/Clinical.tsx runChecks).
struct Check {
  std::string code;
  std::string kind;      // not_in_future | birth_year_age | order
  std::string severity;  // error | warning
  std::vector<std::string> before;
  std::vector<std::string> after;
  bool same_row = false;
  std::string birth_year;  // birth_year_age
  std::string age;         // birth_year_age
  Text message;
};

struct Dictionary {
  std::string version;
  std::vector<Category> categories;
  std::vector<Check> checks;
  std::vector<Value> null_flavours;
  std::vector<CodeSystem> code_systems;
  json source;  // the dictionary as loaded, served to the UI

  const Category* FindCategory(std::string_view c) const;
  const CodeSystem* FindSystem(std::string_view c) const;
  bool IsNullFlavour(std::string_view v) const;
};

// Parses and checks a dictionary. Errors: kInvalidArgument "invalid_dictionary" naming the JSON
// path of the first defect (malformed JSON, unknown type, enum without values, a condition or
// system_from naming an unknown field, an unknown code system or format, duplicates, a check of
// an unknown kind or severity or naming a path that is no date field, …).
Result<Dictionary> LoadDictionary(std::string_view json_text);

// The dictionary compiled into the binary (dictionary/clinical-v1.json).
std::string_view EmbeddedDictionaryJson();
// The embedded dictionary, parsed once. Its validity is a build-time test
// (dictionary_test.cc); if it were invalid this aborts at first use with the error.
const Dictionary& BuiltinDictionary();

// The one condition engine. item is the list item (or the record) holding the field;
// record is the whole category record.
bool Applies(const Condition& c, const json& item, const json& record, std::string_view program);

// The field a check path ("category.field" or "category.list[].field") names, or nullptr.
// list_code receives the list's code for a path into a list ("" otherwise).
const Field* FieldAtCheckPath(const Dictionary& d, std::string_view path, std::string* list_code);
inline bool Applies(const Field& f, const json& item, const json& record,
                    std::string_view program) {
  return !f.condition || Applies(*f.condition, item, record, program);
}

// Built-in syntactic formats: tnm_t, tnm_n, tnm_m (TNM category syntax), stage_group,
// icd10, icdo3_topography (C00.0–C80.9), icdo3_morphology (NNNN/B), meddra_llt (8 digits),
// hpo (HP:NNNNNNN), orpha, mondo, omim, nanbyo, yj, atc, gene_symbol, facility_code,
// pseudonym. Unknown format names never match.
bool MatchesFormat(std::string_view format, std::string_view value);
bool KnownFormat(std::string_view format);
// A human description of a format, for messages ("like T1a, T2, Tis or TX").
Text FormatHint(std::string_view format);

}  // namespace zengen::clinical
