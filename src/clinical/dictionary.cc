#include "clinical/dictionary.h"

#include <cstdio>
#include <cstdlib>
#include <regex>

#include <fmt/format.h>

namespace zengen::clinical {
namespace {

Error Bad(const std::string& path, const std::string& what) {
  return InvalidArgument("invalid_dictionary", fmt::format("dictionary {}: {}", path, what),
                         path);
}

struct FormatDef {
  const char* name;
  const char* regex;
  const char* hint_en;
  const char* hint_ja;
};

// Syntax only: membership in a licensed system needs a loaded code list.
constexpr FormatDef kFormats[] = {
    {"tnm_t", R"(T(X|0|a|is(\((DCIS|LCIS|Paget|pu|pd)\))?|[1-4](mi)?([a-d][1-3]?)?)(\(m\)|\([0-9]{1,2}\))?)",
     "a T category like T1a, T2, T4b, Tis or TX", "T1a、T2、T4b、Tis、TX のようなT分類"},
    {"tnm_n", R"(N(X|0(\((i|mol)[+-]\))?|[1-3](mi)?[a-c]?)(\(sn\))?)",
     "an N category like N0, N1mi, N2a or NX", "N0、N1mi、N2a、NX のようなN分類"},
    {"tnm_m", R"(M(X|0|1[a-d]?))", "an M category like M0, M1, M1c or MX",
     "M0、M1、M1c、MX のようなM分類"},
    {"stage_group", R"((0|0a|0is|I|II|III|IV|IS)([A-D][1-3]?)?|occult)",
     "a stage group like 0, IA1, IIB, IIIC or IV", "0、IA1、IIB、IIIC、IV のような病期"},
    {"icd10", R"([A-TV-Z][0-9]{2}(\.[0-9A-Z]{1,4})?)", "an ICD-10 code like C34.1 or E11",
     "C34.1 や E11 のようなICD-10コード"},
    {"icdo3_topography", R"(C([0-7][0-9]|80)\.[0-9])",
     "an ICD-O-3 topography code from C00.0 to C80.9", "C00.0〜C80.9 のICD-O-3局在コード"},
    {"icdo3_morphology", R"([89][0-9]{3}/[012369])",
     "an ICD-O-3 morphology code NNNN/B like 8140/3", "8140/3 のような NNNN/B 形式のICD-O-3形態コード"},
    {"meddra_llt", R"([0-9]{8})", "an 8-digit MedDRA LLT code", "8桁のMedDRA LLTコード"},
    {"hpo", R"(HP:[0-9]{7})", "an HPO term like HP:0001250", "HP:0001250 のようなHPO用語"},
    {"orpha", R"(ORPHA:[0-9]{1,7})", "an ORPHAcode like ORPHA:558", "ORPHA:558 のようなORPHAコード"},
    {"mondo", R"(MONDO:[0-9]{7})", "a MONDO id like MONDO:0007739", "MONDO:0007739 のようなMONDO ID"},
    {"omim", R"([0-9]{6})", "a 6-digit OMIM number", "6桁のOMIM番号"},
    {"nanbyo", R"([1-9][0-9]{0,2})", "a designated intractable disease number 1-999",
     "1〜999 の指定難病告示番号"},
    {"yj", R"([0-9]{4}[0-9A-Z]{8})", "a 12-character YJ code", "12桁のYJコード"},
    {"atc", R"([A-Z]([0-9]{2}([A-Z]([A-Z]([0-9]{2})?)?)?)?)", "a WHO ATC code like L01XC07",
     "L01XC07 のようなATCコード"},
    {"gene_symbol", R"([A-Za-z0-9][A-Za-z0-9.-]{0,29})", "an HGNC gene symbol like BRCA1",
     "BRCA1 のようなHGNC遺伝子記号"},
    {"facility_code", R"([0-9]{10})", "a 10-digit facility code", "10桁の医療機関コード"},
    {"pseudonym", R"([A-Za-z0-9_-]{1,64})", "1-64 letters, digits, - or _",
     "英数字・-・_ の1〜64文字"},
};

const std::map<std::string, std::regex, std::less<>>& Regexes() {
  static const auto* m = [] {
    auto* out = new std::map<std::string, std::regex, std::less<>>();
    for (const auto& f : kFormats) {
      out->emplace(f.name, std::regex(f.regex, std::regex::ECMAScript | std::regex::optimize));
    }
    return out;
  }();
  return *m;
}

const std::set<std::string, std::less<>> kFieldKeys = {
    "code",   "label",       "definition", "type",      "unit",       "min",       "max",
    "values", "value_set",   "required",   "never_public", "null_flavours", "condition",
    "system", "system_from", "format",     "max_length", "subfields", "min_items", "max_items"};

class Loader {
 public:
  explicit Loader(Dictionary& d) : d_(d) {}

  Result<Text> LoadText(const json& j, const std::string& path) {
    if (!j.is_object() || !j.contains("ja") || !j.contains("en") || !j["ja"].is_string() ||
        !j["en"].is_string() || j["ja"].get<std::string>().empty() ||
        j["en"].get<std::string>().empty()) {
      return Bad(path, "must be an object with non-empty strings \"ja\" and \"en\"");
    }
    return Text{j["ja"].get<std::string>(), j["en"].get<std::string>()};
  }

  Result<std::vector<Value>> LoadValues(const json& j, const std::string& path) {
    if (!j.is_array() || j.empty()) return Bad(path, "must be a non-empty array of values");
    std::vector<Value> out;
    std::set<std::string> seen;
    for (size_t i = 0; i < j.size(); ++i) {
      const std::string p = fmt::format("{}[{}]", path, i);
      const json& v = j[i];
      if (!v.is_object() || !v.contains("code") || !v["code"].is_string() ||
          v["code"].get<std::string>().empty()) {
        return Bad(p, "a value needs a non-empty string \"code\"");
      }
      Value val;
      val.code = v["code"].get<std::string>();
      if (!seen.insert(val.code).second) return Bad(p, "duplicate value code " + val.code);
      ZG_ASSIGN_OR_RETURN(val.label, LoadText(v.value("label", json()), p + ".label"));
      ZG_ASSIGN_OR_RETURN(val.definition,
                          LoadText(v.value("definition", json()), p + ".definition"));
      out.push_back(std::move(val));
    }
    return out;
  }

  Result<Condition> LoadCondition(const json& j, const std::string& path) {
    if (!j.is_object() || j.size() == 0) return Bad(path, "a condition must be an object");
    Condition c;
    if (j.contains("all") || j.contains("any")) {
      const bool all = j.contains("all");
      const json& list = all ? j["all"] : j["any"];
      if (j.size() != 1 || !list.is_array() || list.empty()) {
        return Bad(path, "\"all\"/\"any\" takes a non-empty array and nothing else");
      }
      c.kind = all ? Condition::Kind::kAll : Condition::Kind::kAny;
      for (size_t i = 0; i < list.size(); ++i) {
        ZG_ASSIGN_OR_RETURN(Condition child,
                            LoadCondition(list[i], fmt::format("{}.{}[{}]", path,
                                                               all ? "all" : "any", i)));
        c.children.push_back(std::move(child));
      }
      return c;
    }
    if (j.contains("not")) {
      if (j.size() != 1) return Bad(path, "\"not\" stands alone");
      c.kind = Condition::Kind::kNot;
      ZG_ASSIGN_OR_RETURN(Condition child, LoadCondition(j["not"], path + ".not"));
      c.children.push_back(std::move(child));
      return c;
    }
    if (j.contains("program")) {
      if (j.size() != 1 || !j["program"].is_string()) {
        return Bad(path, "\"program\" takes a string and stands alone");
      }
      const std::string p = j["program"].get<std::string>();
      if (p != "cancer" && p != "rare_disease") return Bad(path, "unknown program " + p);
      c.kind = Condition::Kind::kProgram;
      c.values = {p};
      return c;
    }
    if (j.contains("field")) {
      if (j.size() != 2 || !j["field"].is_string() || (!j.contains("equals") && !j.contains("in"))) {
        return Bad(path, "a field condition is {\"field\", \"equals\" | \"in\"}");
      }
      c.kind = Condition::Kind::kFieldIn;
      c.field = j["field"].get<std::string>();
      if (j.contains("equals")) {
        if (!j["equals"].is_string()) return Bad(path, "\"equals\" takes a string");
        c.values = {j["equals"].get<std::string>()};
      } else {
        if (!j["in"].is_array() || j["in"].empty()) return Bad(path, "\"in\" takes strings");
        for (const auto& v : j["in"]) {
          if (!v.is_string()) return Bad(path, "\"in\" takes strings");
          c.values.push_back(v.get<std::string>());
        }
      }
      return c;
    }
    return Bad(path, "unknown condition; use field/equals, field/in, program, all, any, not");
  }

  // Field references of a condition must name a sibling or a top-level field, and the values
  // compared must be values of that field when it is an enum.
  Status CheckCondition(const Condition& c, const std::vector<Field>& siblings,
                        const std::vector<Field>& top, const std::string& path) {
    for (const auto& child : c.children) {
      ZG_RETURN_IF_ERROR(CheckCondition(child, siblings, top, path));
    }
    if (c.kind != Condition::Kind::kFieldIn) return Status::Ok();
    const Field* f = nullptr;
    for (const auto* list : {&siblings, &top}) {
      for (const auto& s : *list) {
        if (s.code == c.field) f = &s;
      }
      if (f) break;
    }
    if (!f) return Bad(path, "condition names unknown field " + c.field);
    if (f->type == FieldType::kEnum) {
      for (const auto& v : c.values) {
        if (!f->FindValue(v)) {
          return Bad(path, fmt::format("condition compares {} with {}, not one of its values",
                                       c.field, v));
        }
      }
    }
    return Status::Ok();
  }

  Result<Field> LoadField(const json& j, const std::string& path, int depth) {
    if (!j.is_object()) return Bad(path, "a field must be an object");
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (!kFieldKeys.contains(it.key())) return Bad(path, "unknown key \"" + it.key() + "\"");
    }
    Field f;
    if (!j.contains("code") || !j["code"].is_string() ||
        !std::regex_match(j["code"].get<std::string>(), std::regex("[a-z][a-z0-9_]{0,62}"))) {
      return Bad(path, "a field needs a \"code\" of [a-z][a-z0-9_]*");
    }
    f.code = j["code"].get<std::string>();
    const std::string p = path + "(" + f.code + ")";
    ZG_ASSIGN_OR_RETURN(f.label, LoadText(j.value("label", json()), p + ".label"));
    ZG_ASSIGN_OR_RETURN(f.definition, LoadText(j.value("definition", json()), p + ".definition"));
    static const std::map<std::string, FieldType> kTypes = {
        {"enum", FieldType::kEnum},     {"int", FieldType::kInt},
        {"decimal", FieldType::kDecimal}, {"date", FieldType::kDate},
        {"rel_day", FieldType::kRelDay}, {"string", FieldType::kString},
        {"bool", FieldType::kBool},     {"code", FieldType::kCode},
        {"list", FieldType::kList}};
    const auto type = kTypes.find(j.value("type", ""));
    if (type == kTypes.end()) {
      return Bad(p, "\"type\" must be enum, int, decimal, date, rel_day, string, bool, code or list");
    }
    f.type = type->second;
    auto boolean = [&](const char* key, bool& out) -> Status {
      if (!j.contains(key)) return Status::Ok();
      if (!j[key].is_boolean()) return Bad(p, fmt::format("\"{}\" must be true or false", key));
      out = j[key].get<bool>();
      return Status::Ok();
    };
    ZG_RETURN_IF_ERROR(boolean("required", f.required));
    ZG_RETURN_IF_ERROR(boolean("never_public", f.never_public));
    ZG_RETURN_IF_ERROR(boolean("null_flavours", f.null_flavours));
    f.unit = j.value("unit", "");
    for (const char* key : {"min", "max"}) {
      if (!j.contains(key)) continue;
      if (!j[key].is_number()) return Bad(p, fmt::format("\"{}\" must be a number", key));
      (std::string_view(key) == "min" ? f.min : f.max) = j[key].get<double>();
    }
    if (f.min && f.max && *f.min > *f.max) return Bad(p, "min exceeds max");
    if (f.type == FieldType::kRelDay) {
      if (!f.min) f.min = -36500;
      if (!f.max) f.max = 36500;
    }
    if (f.type == FieldType::kEnum) {
      if (j.contains("value_set")) {
        f.value_set = j.value("value_set", "");
        const json& sets = d_.source["value_sets"];
        if (!sets.is_object() || !sets.contains(f.value_set)) {
          return Bad(p, "unknown value_set " + f.value_set);
        }
        ZG_ASSIGN_OR_RETURN(f.values, LoadValues(sets[f.value_set], "value_sets." + f.value_set));
      } else {
        ZG_ASSIGN_OR_RETURN(f.values, LoadValues(j.value("values", json()), p + ".values"));
      }
    } else if (j.contains("values") || j.contains("value_set")) {
      return Bad(p, "only enum fields have values");
    }
    if (f.type == FieldType::kCode) {
      f.system = j.value("system", "");
      f.system_from = j.value("system_from", "");
      if (f.system.empty() == f.system_from.empty()) {
        return Bad(p, "a code field names exactly one of \"system\" and \"system_from\"");
      }
      if (!f.system.empty() && !d_.FindSystem(f.system)) {
        return Bad(p, "unknown code system " + f.system);
      }
    }
    if (j.contains("format")) {
      f.format = j.value("format", "");
      if (f.type != FieldType::kString || !KnownFormat(f.format)) {
        return Bad(p, "\"format\" must be a built-in format on a string field");
      }
    }
    if (j.contains("max_length")) {
      if (!j["max_length"].is_number_unsigned()) return Bad(p, "max_length must be a count");
      f.max_length = j["max_length"].get<size_t>();
    }
    if (f.type == FieldType::kList) {
      if (depth >= 2) return Bad(p, "lists nest at most two deep");
      const json& subs = j.value("subfields", json());
      if (!subs.is_array() || subs.empty()) return Bad(p, "a list needs subfields");
      ZG_ASSIGN_OR_RETURN(f.subfields, LoadFields(subs, p + ".subfields", depth + 1));
      if (j.contains("min_items")) f.min_items = j.value("min_items", size_t{0});
      if (j.contains("max_items")) f.max_items = j.value("max_items", size_t{200});
    } else if (j.contains("subfields")) {
      return Bad(p, "only list fields have subfields");
    }
    if (j.contains("condition")) {
      ZG_ASSIGN_OR_RETURN(Condition c, LoadCondition(j["condition"], p + ".condition"));
      f.condition = std::move(c);
    }
    return f;
  }

  Result<std::vector<Field>> LoadFields(const json& j, const std::string& path, int depth) {
    if (!j.is_array() || j.empty()) return Bad(path, "must be a non-empty array of fields");
    std::vector<Field> out;
    std::set<std::string> seen;
    for (size_t i = 0; i < j.size(); ++i) {
      ZG_ASSIGN_OR_RETURN(Field f, LoadField(j[i], fmt::format("{}[{}]", path, i), depth));
      if (!seen.insert(f.code).second) return Bad(path, "duplicate field code " + f.code);
      out.push_back(std::move(f));
    }
    return out;
  }

  // Cross-field checks once a category's fields are all known.
  Status CheckFields(const std::vector<Field>& fields, const std::vector<Field>& top,
                     const std::string& path) {
    for (const auto& f : fields) {
      const std::string p = path + "." + f.code;
      if (f.condition) ZG_RETURN_IF_ERROR(CheckCondition(*f.condition, fields, top, p));
      if (!f.system_from.empty()) {
        const Field* src = nullptr;
        for (const auto& s : fields) {
          if (s.code == f.system_from) src = &s;
        }
        if (!src || src->type != FieldType::kEnum) {
          return Bad(p, "system_from must name a sibling enum field");
        }
        for (const auto& v : src->values) {
          if (!d_.FindSystem(v.code)) return Bad(p, "system_from value is no code system: " + v.code);
        }
      }
      if (f.type == FieldType::kList) ZG_RETURN_IF_ERROR(CheckFields(f.subfields, top, p));
    }
    return Status::Ok();
  }

 private:
  Dictionary& d_;
};

}  // namespace

std::string_view TypeName(FieldType t) {
  switch (t) {
    case FieldType::kEnum: return "enum";
    case FieldType::kInt: return "int";
    case FieldType::kDecimal: return "decimal";
    case FieldType::kDate: return "date";
    case FieldType::kRelDay: return "rel_day";
    case FieldType::kString: return "string";
    case FieldType::kBool: return "bool";
    case FieldType::kCode: return "code";
    case FieldType::kList: return "list";
  }
  return "?";
}

const Value* Field::FindValue(std::string_view v) const {
  for (const auto& x : values) {
    if (x.code == v) return &x;
  }
  return nullptr;
}
const Field* Field::FindSubfield(std::string_view c) const {
  for (const auto& x : subfields) {
    if (x.code == c) return &x;
  }
  return nullptr;
}
const Field* Category::FindField(std::string_view c) const {
  for (const auto& x : fields) {
    if (x.code == c) return &x;
  }
  return nullptr;
}
const Category* Dictionary::FindCategory(std::string_view c) const {
  for (const auto& x : categories) {
    if (x.code == c) return &x;
  }
  return nullptr;
}
const CodeSystem* Dictionary::FindSystem(std::string_view c) const {
  for (const auto& x : code_systems) {
    if (x.code == c) return &x;
  }
  return nullptr;
}
bool Dictionary::IsNullFlavour(std::string_view v) const {
  for (const auto& x : null_flavours) {
    if (x.code == v) return true;
  }
  return false;
}

bool KnownFormat(std::string_view format) { return Regexes().contains(format); }

bool MatchesFormat(std::string_view format, std::string_view value) {
  const auto it = Regexes().find(format);
  if (it == Regexes().end() || value.size() > 64) return false;
  return std::regex_match(value.begin(), value.end(), it->second);
}

Text FormatHint(std::string_view format) {
  for (const auto& f : kFormats) {
    if (format == f.name) return {f.hint_ja, f.hint_en};
  }
  return {"既定の書式", "the expected format"};
}

const Field* FieldAtCheckPath(const Dictionary& d, std::string_view path, std::string* list_code) {
  if (list_code) list_code->clear();
  const size_t dot = path.find('.');
  if (dot == std::string_view::npos) return nullptr;
  const Category* cat = d.FindCategory(path.substr(0, dot));
  if (!cat) return nullptr;
  std::string_view rest = path.substr(dot + 1);
  const size_t list_end = rest.find("[].");
  if (list_end == std::string_view::npos) {
    return rest.find('.') == std::string_view::npos ? cat->FindField(rest) : nullptr;
  }
  const Field* list = cat->FindField(rest.substr(0, list_end));
  if (!list || list->type != FieldType::kList) return nullptr;
  if (list_code) *list_code = list->code;
  const std::string_view sub = rest.substr(list_end + 3);
  if (sub.find('.') != std::string_view::npos || sub.find('[') != std::string_view::npos) {
    return nullptr;
  }
  return list->FindSubfield(sub);
}

namespace {

Status LoadChecks(Dictionary& d, const json& checks) {
  if (!checks.is_array()) return Bad("checks", "must be an array");
  Loader loader(d);
  std::set<std::string> seen;
  for (size_t i = 0; i < checks.size(); ++i) {
    const std::string p = fmt::format("checks[{}]", i);
    const json& j = checks[i];
    if (!j.is_object() || !j.contains("code") || !j["code"].is_string() ||
        j["code"].get<std::string>().empty()) {
      return Bad(p, "needs a non-empty string \"code\"");
    }
    Check c;
    c.code = j["code"].get<std::string>();
    if (!seen.insert(c.code).second) return Bad(p, "duplicate check " + c.code);
    c.kind = j.value("kind", "");
    c.severity = j.value("severity", "");
    if (c.kind != "not_in_future" && c.kind != "birth_year_age" && c.kind != "order") {
      return Bad(p + ".kind", "must be not_in_future, birth_year_age or order");
    }
    if (c.severity != "error" && c.severity != "warning") {
      return Bad(p + ".severity", "must be error or warning");
    }
    ZG_ASSIGN_OR_RETURN(c.message, loader.LoadText(j.value("message", json()), p + ".message"));
    c.same_row = j.value("same_row", false);
    // A path must name a date-like field (an int for birth_year_age).
    const auto path_ok = [&](const json& v, const std::string& at, bool want_int,
                             std::string* list) -> Result<std::string> {
      if (!v.is_string()) return Bad(at, "must be a path string");
      const std::string path = v.get<std::string>();
      const Field* f = FieldAtCheckPath(d, path, list);
      if (!f) return Bad(at, "names no field: " + path);
      const bool date_like = f->type == FieldType::kRelDay || f->type == FieldType::kDate;
      if (want_int ? f->type != FieldType::kInt : !date_like) {
        return Bad(at, fmt::format("{} is a {} field", path, TypeName(f->type)));
      }
      return path;
    };
    if (c.kind == "birth_year_age") {
      std::string list;
      ZG_ASSIGN_OR_RETURN(c.birth_year,
                          path_ok(j.value("birth_year", json()), p + ".birth_year", true, &list));
      if (!list.empty()) return Bad(p + ".birth_year", "must be a top-level field");
      ZG_ASSIGN_OR_RETURN(c.age, path_ok(j.value("age", json()), p + ".age", true, &list));
      if (!list.empty()) return Bad(p + ".age", "must be a top-level field");
    }
    if (c.kind == "order") {
      std::set<std::string> lists;
      for (const char* side : {"before", "after"}) {
        const json& arr = j.value(side, json());
        if (!arr.is_array() || arr.empty()) {
          return Bad(p + "." + side, "must be a non-empty array of paths");
        }
        for (size_t k = 0; k < arr.size(); ++k) {
          std::string list;
          ZG_ASSIGN_OR_RETURN(std::string path,
                              path_ok(arr[k], fmt::format("{}.{}[{}]", p, side, k), false, &list));
          lists.insert(list);
          (std::string_view(side) == "before" ? c.before : c.after).push_back(std::move(path));
        }
      }
      if (c.same_row && (lists.size() != 1 || lists.begin()->empty())) {
        return Bad(p + ".same_row", "needs every path in the same list");
      }
    }
    d.checks.push_back(std::move(c));
  }
  return Status::Ok();
}

}  // namespace

Result<Dictionary> LoadDictionary(std::string_view json_text) {
  Dictionary d;
  try {
    d.source = json::parse(json_text);
  } catch (const json::parse_error& e) {
    return Bad("(text)", fmt::format("not valid JSON at byte {}", e.byte));
  }
  try {
    const json& s = d.source;
    if (!s.is_object()) return Bad("(root)", "must be an object");
    if (!s.contains("version") || !s["version"].is_string() ||
        s["version"].get<std::string>().empty()) {
      return Bad("version", "must be a non-empty string");
    }
    d.version = s["version"].get<std::string>();
    Loader loader(d);
    ZG_ASSIGN_OR_RETURN(d.null_flavours,
                        loader.LoadValues(s.value("null_flavours", json()), "null_flavours"));
    const json& systems = s.value("code_systems", json::array());
    if (!systems.is_array()) return Bad("code_systems", "must be an array");
    for (size_t i = 0; i < systems.size(); ++i) {
      const std::string p = fmt::format("code_systems[{}]", i);
      const json& j = systems[i];
      if (!j.is_object() || !j.contains("code") || !j["code"].is_string()) {
        return Bad(p, "needs a string \"code\"");
      }
      CodeSystem cs;
      cs.code = j["code"].get<std::string>();
      if (d.FindSystem(cs.code)) return Bad(p, "duplicate code system " + cs.code);
      ZG_ASSIGN_OR_RETURN(cs.label, loader.LoadText(j.value("label", json()), p + ".label"));
      cs.format = j.value("format", "");
      if (!KnownFormat(cs.format)) return Bad(p, "unknown format " + cs.format);
      cs.licensed = j.value("licensed", true);
      cs.uri = j.value("uri", "");
      d.code_systems.push_back(std::move(cs));
    }
    const json& cats = s.value("categories", json());
    if (!cats.is_array() || cats.empty()) return Bad("categories", "must be a non-empty array");
    for (size_t i = 0; i < cats.size(); ++i) {
      const std::string p = fmt::format("categories[{}]", i);
      const json& j = cats[i];
      if (!j.is_object() || !j.contains("code") || !j["code"].is_string()) {
        return Bad(p, "needs a string \"code\"");
      }
      Category c;
      c.code = j["code"].get<std::string>();
      if (d.FindCategory(c.code)) return Bad(p, "duplicate category " + c.code);
      ZG_ASSIGN_OR_RETURN(c.label, loader.LoadText(j.value("label", json()), p + ".label"));
      ZG_ASSIGN_OR_RETURN(c.definition,
                          loader.LoadText(j.value("definition", json()), p + ".definition"));
      ZG_ASSIGN_OR_RETURN(c.fields, loader.LoadFields(j.value("fields", json()), p + ".fields", 0));
      ZG_RETURN_IF_ERROR(loader.CheckFields(c.fields, c.fields, p));
      d.categories.push_back(std::move(c));
    }
    ZG_RETURN_IF_ERROR(LoadChecks(d, s.value("checks", json::array())));
  } catch (const json::exception& e) {
    return Bad("(structure)", e.what());
  }
  return d;
}

const Dictionary& BuiltinDictionary() {
  static const Dictionary* d = [] {
    auto r = LoadDictionary(EmbeddedDictionaryJson());
    if (!r.ok()) {
      std::fprintf(stderr, "embedded clinical dictionary is invalid: %s\n",
                   r.error().message.c_str());
      std::abort();
    }
    return new Dictionary(std::move(r).value());
  }();
  return *d;
}

bool Applies(const Condition& c, const json& item, const json& record, std::string_view program) {
  switch (c.kind) {
    case Condition::Kind::kAll:
      for (const auto& ch : c.children) {
        if (!Applies(ch, item, record, program)) return false;
      }
      return true;
    case Condition::Kind::kAny:
      for (const auto& ch : c.children) {
        if (Applies(ch, item, record, program)) return true;
      }
      return false;
    case Condition::Kind::kNot:
      return !Applies(c.children.front(), item, record, program);
    case Condition::Kind::kProgram:
      return program == c.values.front();
    case Condition::Kind::kFieldIn: {
      const json* v = nullptr;
      if (item.is_object()) {
        if (auto it = item.find(c.field); it != item.end()) v = &*it;
      }
      if (!v && record.is_object() && &item != &record) {
        if (auto it = record.find(c.field); it != record.end()) v = &*it;
      }
      if (!v || !v->is_string()) return false;
      const auto& s = v->get_ref<const std::string&>();
      for (const auto& x : c.values) {
        if (x == s) return true;
      }
      return false;
    }
  }
  return false;
}

}  // namespace zengen::clinical
