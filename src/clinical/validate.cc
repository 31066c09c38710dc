#include "clinical/validate.h"

#include <chrono>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <optional>

#include <fmt/format.h>

#include "participants/participants.h"

namespace zengen::clinical {
namespace {

class Validator {
 public:
  Validator(const Dictionary& d, std::string_view program, Mode mode, const CodeLists& lists,
            std::vector<Problem>& out)
      : d_(d), program_(program), mode_(mode), lists_(lists), out_(out) {}

  void Object(const std::vector<Field>& fields, const json& item, const json& record,
              const std::string& prefix) {
    if (!item.is_object()) {
      Add(prefix, "wrong_type", "この項目はオブジェクト（JSON object）で入力してください",
          "this must be a JSON object of fields");
      return;
    }
    for (auto it = item.begin(); it != item.end(); ++it) {
      bool known = false;
      for (const auto& f : fields) {
        if (f.code == it.key()) known = true;
      }
      if (!known) {
        Add(Join(prefix, it.key()), "unknown_field", "データ辞書にない項目です",
            "this field is not in the data dictionary");
      }
    }
    for (const auto& f : fields) {
      const std::string path = Join(prefix, f.code);
      const auto it = item.find(f.code);
      const bool present = it != item.end() && !it->is_null();
      const bool applies = Applies(f, item, record, program_);
      if (!applies) {
        if (present) {
          Add(path, "not_allowed_here",
              "この条件では入力できない項目です（適用条件を満たしていません）",
              "this field does not apply here: its condition is not met");
        }
        continue;
      }
      if (!present) {
        if (f.required && mode_ == Mode::kSubmit) {
          Add(path, "required", "必須項目です。値または「不明」を選んでください",
              "this field is required; enter a value or choose unknown");
        }
        continue;
      }
      One(f, *it, item, record, path);
    }
  }

 private:
  static std::string Join(const std::string& prefix, const std::string& code) {
    return prefix.empty() ? code : prefix + "." + code;
  }

  void Add(std::string path, std::string code, std::string ja, std::string en) {
    out_.push_back({std::move(path), code, "clinical.problem." + code,
                    {std::move(ja), std::move(en)}});
  }

  static std::string Num(double v) {
    if (v == std::floor(v) && std::fabs(v) < 1e15) return fmt::format("{}", static_cast<int64_t>(v));
    return fmt::format("{}", v);
  }

  void Range(const Field& f, double v, const std::string& path) {
    if ((f.min && v < *f.min) || (f.max && v > *f.max)) {
      const std::string unit = f.unit.empty() ? "" : " " + f.unit;
      Add(path, "out_of_range",
          fmt::format("{}〜{}{} の範囲で入力してください", Num(f.min.value_or(-1e300)),
                      Num(f.max.value_or(1e300)), unit),
          fmt::format("must be between {} and {}{}", Num(f.min.value_or(-1e300)),
                      Num(f.max.value_or(1e300)), unit));
    }
  }

  std::string Codes(const Field& f) const {
    std::string s;
    for (const auto& v : f.values) s += (s.empty() ? "" : ", ") + v.code;
    return s;
  }

  void One(const Field& f, const json& v, const json& item, const json& record,
           const std::string& path) {
    if (f.null_flavours && v.is_string() && d_.IsNullFlavour(v.get_ref<const std::string&>())) {
      return;
    }
    const std::string nf = f.null_flavours ? " (or UNK, ASKU, NA, NASK, NI)" : "";
    const std::string nf_ja = f.null_flavours ? "（または UNK, ASKU, NA, NASK, NI）" : "";
    switch (f.type) {
      case FieldType::kEnum:
        if (!v.is_string()) {
          Add(path, "wrong_type", "選択肢のコード（文字列）で入力してください: " + Codes(f),
              "must be one of the listed codes (a string): " + Codes(f));
        } else if (!f.FindValue(v.get_ref<const std::string&>())) {
          Add(path, "not_in_list", "選択肢にない値です。使える値: " + Codes(f),
              "not a listed value; allowed: " + Codes(f));
        }
        return;
      case FieldType::kInt:
      case FieldType::kRelDay:
        if (!v.is_number_integer()) {
          Add(path, "wrong_type", "整数で入力してください" + nf_ja,
              f.type == FieldType::kRelDay ? "must be a whole number of days" + nf
                                           : "must be a whole number" + nf);
        } else {
          Range(f, static_cast<double>(v.get<int64_t>()), path);
        }
        return;
      case FieldType::kDecimal:
        if (!v.is_number()) {
          Add(path, "wrong_type", "数値で入力してください" + nf_ja, "must be a number" + nf);
        } else {
          Range(f, v.get<double>(), path);
        }
        return;
      case FieldType::kBool:
        if (!v.is_boolean()) {
          Add(path, "wrong_type", "true または false で入力してください",
              "must be true or false");
        }
        return;
      case FieldType::kDate:
        if (!v.is_string()) {
          Add(path, "wrong_type", "YYYY-MM-DD 形式の文字列で入力してください",
              "must be a date string YYYY-MM-DD");
        } else if (!participants::ValidDate(v.get_ref<const std::string&>())) {
          Add(path, "bad_format", "実在する日付を YYYY-MM-DD で入力してください",
              "must be a real date written YYYY-MM-DD");
        }
        return;
      case FieldType::kString: {
        if (!v.is_string()) {
          Add(path, "wrong_type", "文字列で入力してください" + nf_ja, "must be text" + nf);
          return;
        }
        const auto& s = v.get_ref<const std::string&>();
        if (s.empty() || s.size() > f.max_length) {
          Add(path, "out_of_range",
              fmt::format("1〜{} バイトの文字列で入力してください", f.max_length),
              fmt::format("must be 1 to {} bytes of text", f.max_length));
        } else if (!f.format.empty() && !MatchesFormat(f.format, s)) {
          const Text hint = FormatHint(f.format);
          Add(path, "bad_format", hint.ja + "で入力してください" + nf_ja,
              "must be " + hint.en + nf);
        }
        return;
      }
      case FieldType::kCode: {
        std::string system = f.system;
        if (!f.system_from.empty()) {
          const auto it = item.find(f.system_from);
          if (it == item.end() || !it->is_string() ||
              !d_.FindSystem(it->get_ref<const std::string&>())) {
            Add(path, "not_allowed_here",
                fmt::format("先に {} でコード体系を選んでください", f.system_from),
                fmt::format("choose the code system in {} first", f.system_from));
            return;
          }
          system = it->get<std::string>();
        }
        const CodeSystem* cs = d_.FindSystem(system);
        if (!v.is_string()) {
          Add(path, "wrong_type", cs->label.ja + " のコード（文字列）で入力してください" + nf_ja,
              "must be a " + cs->label.en + " code (a string)" + nf);
          return;
        }
        const auto& s = v.get_ref<const std::string&>();
        if (!MatchesFormat(cs->format, s)) {
          const Text hint = FormatHint(cs->format);
          Add(path, "bad_format", hint.ja + "で入力してください" + nf_ja,
              "must be " + hint.en + nf);
        } else if (lists_.Loaded(system) && !lists_.Contains(system, s)) {
          Add(path, "unknown_code",
              fmt::format("読み込まれた {} コード表にないコードです", cs->label.ja),
              fmt::format("not a code of the loaded {} code list", cs->label.en));
        }
        return;
      }
      case FieldType::kList: {
        if (!v.is_array()) {
          Add(path, "wrong_type", "行の配列（JSON array）で入力してください",
              "must be an array of rows (a JSON array of objects)");
          return;
        }
        if (v.size() < f.min_items || v.size() > f.max_items) {
          if (v.size() < f.min_items && mode_ == Mode::kDraft) {
            // too few rows is a completeness question; drafts may have them
          } else {
            Add(path, v.size() < f.min_items ? "required" : "out_of_range",
                fmt::format("{}〜{} 行で入力してください", f.min_items, f.max_items),
                fmt::format("must have {} to {} rows", f.min_items, f.max_items));
          }
        }
        for (size_t i = 0; i < v.size(); ++i) {
          Object(f.subfields, v[i], record, fmt::format("{}[{}]", path, i));
        }
        return;
      }
    }
  }

  const Dictionary& d_;
  std::string_view program_;
  Mode mode_;
  const CodeLists& lists_;
  std::vector<Problem>& out_;
};

bool Filled(const Field& f, const json& v) {
  if (v.is_null()) return false;
  if (f.type == FieldType::kList) {
    return v.is_array() && v.size() >= std::max<size_t>(1, f.min_items);
  }
  return true;
}

// Days since 1970-01-01 of a real date YYYY-MM-DD, or nullopt.
std::optional<int64_t> EpochDays(std::string_view date) {
  if (!participants::ValidDate(date)) return std::nullopt;
  const auto num = [&](size_t at, size_t n) {
    int v = 0;
    for (size_t i = at; i < at + n; ++i) v = v * 10 + (date[i] - '0');
    return v;
  };
  const std::chrono::year_month_day ymd{std::chrono::year{num(0, 4)},
                                        std::chrono::month{static_cast<unsigned>(num(5, 2))},
                                        std::chrono::day{static_cast<unsigned>(num(8, 2))}};
  return std::chrono::sys_days{ymd}.time_since_epoch().count();
}

// One value at a check path: its row in the list (-1 at the top level), its path relative to
// the category and its day from the index date.
struct DayValue {
  int64_t row = -1;
  std::string path;
  int64_t day = 0;
};

class CheckRunner {
 public:
  CheckRunner(const std::map<std::string, json, std::less<>>& records, const CheckDates& dates)
      : records_(records) {
    index_ = EpochDays(dates.index_date);
    today_ = EpochDays(dates.today);
    if (dates.today.size() >= 4) today_year_ = std::atoi(std::string(dates.today.substr(0, 4)).c_str());
    if (dates.index_date.size() >= 4) {
      index_year_ = std::atoi(std::string(dates.index_date.substr(0, 4)).c_str());
    }
  }

  // Days from the index date of a date-like value (rel_day number or date string).
  std::optional<int64_t> Day(const json& v) const {
    if (v.is_number_integer()) return v.get<int64_t>();
    if (v.is_number_float()) return static_cast<int64_t>(std::floor(v.get<double>()));
    if (v.is_string() && index_) {
      if (auto d = EpochDays(v.get_ref<const std::string&>())) return *d - *index_;
    }
    return std::nullopt;
  }

  static std::optional<double> Number(const json& v) {
    if (v.is_number()) return v.get<double>();
    return std::nullopt;
  }

  // The values at "category.field" or "category.list[].field".
  std::vector<DayValue> At(std::string_view path, std::string* category) const {
    std::vector<DayValue> out;
    const size_t dot = path.find('.');
    if (dot == std::string_view::npos) return out;
    *category = std::string(path.substr(0, dot));
    const std::string_view rest = path.substr(dot + 1);
    const auto rec = records_.find(*category);
    if (rec == records_.end() || !rec->second.is_object()) return out;
    const json& data = rec->second;
    const size_t list_end = rest.find("[].");
    if (list_end == std::string_view::npos) {
      const auto it = data.find(std::string(rest));
      if (it != data.end()) {
        if (auto day = Day(*it)) out.push_back({-1, std::string(rest), *day});
      }
      return out;
    }
    const std::string list(rest.substr(0, list_end));
    const std::string field(rest.substr(list_end + 3));
    const auto rows = data.find(list);
    if (rows == data.end() || !rows->is_array()) return out;
    for (size_t i = 0; i < rows->size(); ++i) {
      const json& row = (*rows)[i];
      if (!row.is_object()) continue;
      const auto it = row.find(field);
      if (it == row.end()) continue;
      if (auto day = Day(*it)) {
        out.push_back({static_cast<int64_t>(i), fmt::format("{}[{}].{}", list, i, field), *day});
      }
    }
    return out;
  }

  // Paths (relative to category) of the values of category that break check c.
  std::set<std::string> Offending(const Check& c, std::string_view category) const {
    std::set<std::string> bad;
    if (c.kind == "order") {
      struct Tagged {
        std::string category;
        DayValue v;
      };
      auto gather = [&](const std::vector<std::string>& paths) {
        std::vector<Tagged> out;
        for (const auto& p : paths) {
          std::string cat;
          for (auto& v : At(p, &cat)) out.push_back({cat, std::move(v)});
        }
        return out;
      };
      const auto before = gather(c.before);
      const auto after = gather(c.after);
      for (const auto& a : after) {
        for (const auto& b : before) {
          if (c.same_row && a.v.row != b.v.row) continue;
          if (b.v.day <= a.v.day) continue;
          if (a.category == category) bad.insert(a.v.path);
          if (b.category == category) bad.insert(b.v.path);
        }
      }
    } else if (c.kind == "birth_year_age") {
      const auto top = [&](std::string_view path, std::string* cat) -> std::optional<double> {
        const size_t dot = path.find('.');
        if (dot == std::string_view::npos) return std::nullopt;
        *cat = std::string(path.substr(0, dot));
        const auto rec = records_.find(*cat);
        if (rec == records_.end() || !rec->second.is_object()) return std::nullopt;
        const auto it = rec->second.find(std::string(path.substr(dot + 1)));
        return it == rec->second.end() ? std::nullopt : Number(*it);
      };
      std::string by_cat;
      std::string age_cat;
      const auto by = top(c.birth_year, &by_cat);
      const auto age = top(c.age, &age_cat);
      if (by && ((today_year_ > 0 && *by > today_year_) ||
                 (age && index_year_ > 0 && std::fabs(index_year_ - *by - *age) > 1))) {
        if (by_cat == category) bad.insert(c.birth_year.substr(c.birth_year.find('.') + 1));
        if (age && age_cat == category) bad.insert(c.age.substr(c.age.find('.') + 1));
      }
    }
    return bad;
  }

  // Every date-like value of fields (recursively) after today.
  void Future(const std::vector<Field>& fields, const json& item, const std::string& prefix,
              std::set<std::string>& bad) const {
    if (!item.is_object() || !today_ || !index_) return;
    for (const auto& f : fields) {
      const auto it = item.find(f.code);
      if (it == item.end()) continue;
      const std::string path = prefix.empty() ? f.code : prefix + "." + f.code;
      if (f.type == FieldType::kList && it->is_array()) {
        for (size_t i = 0; i < it->size(); ++i) {
          Future(f.subfields, (*it)[i], fmt::format("{}[{}]", path, i), bad);
        }
      } else if (f.type == FieldType::kRelDay || f.type == FieldType::kDate) {
        if (auto day = Day(*it); day && *day > *today_ - *index_) bad.insert(path);
      }
    }
  }

 private:
  const std::map<std::string, json, std::less<>>& records_;
  std::optional<int64_t> index_;
  std::optional<int64_t> today_;
  int today_year_ = 0;
  int index_year_ = 0;
};

}  // namespace

std::vector<std::string> CodeLists::Search(std::string_view system, std::string_view query,
                                           size_t limit) const {
  std::vector<std::string> out;
  const auto it = lists_.find(system);
  if (it == lists_.end() || limit == 0) return out;
  const auto lower = [](std::string_view s) {
    std::string l(s);
    for (char& c : l) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return l;
  };
  const std::string q = lower(query);
  std::vector<std::string> inside;
  for (const auto& code : it->second) {
    const std::string l = lower(code);
    const size_t at = l.find(q);
    if (at == 0) {
      out.push_back(code);
      if (out.size() == limit) return out;
    } else if (at != std::string::npos && inside.size() < limit) {
      inside.push_back(code);
    }
  }
  for (auto& code : inside) {
    if (out.size() == limit) break;
    out.push_back(std::move(code));
  }
  return out;
}

std::vector<Problem> RunChecks(const Dictionary& dict, std::string_view category,
                               const std::map<std::string, json, std::less<>>& records,
                               const CheckDates& dates, Mode mode) {
  std::vector<Problem> out;
  const Category* cat = dict.FindCategory(category);
  if (!cat) return out;
  const CheckRunner runner(records, dates);
  for (const auto& c : dict.checks) {
    if (c.severity != "error") continue;
    std::set<std::string> bad;
    if (c.kind == "not_in_future") {
      const auto rec = records.find(category);
      if (rec != records.end()) runner.Future(cat->fields, rec->second, "", bad);
    } else if (mode == Mode::kSubmit) {
      bad = runner.Offending(c, category);
    }
    for (const auto& path : bad) {
      out.push_back({path, "implausible", "clinical.check." + c.code, c.message});
    }
  }
  return out;
}

json ProblemJson(const Problem& p) {
  return {{"path", p.path},
          {"code", p.code},
          {"message_key", p.message_key},
          {"message", {{"ja", p.message.ja}, {"en", p.message.en}}}};
}

json ProblemsJson(const std::vector<Problem>& ps) {
  json out = json::array();
  for (const auto& p : ps) out.push_back(ProblemJson(p));
  return out;
}

std::vector<Problem> Validate(const Dictionary& dict, std::string_view category, const json& data,
                              std::string_view program, Mode mode, const CodeLists& code_lists) {
  std::vector<Problem> out;
  const Category* cat = dict.FindCategory(category);
  if (!cat) {
    out.push_back({"", "unknown_category", "clinical.problem.unknown_category",
                   {"データ辞書にないカテゴリです", "no such category in the data dictionary"}});
    return out;
  }
  Validator(dict, program, mode, code_lists, out).Object(cat->fields, data, data, "");
  return out;
}

Completeness ComputeCompleteness(const Category& category, const json& data,
                                 std::string_view program) {
  Completeness c;
  if (!data.is_object()) return c;
  for (const auto& f : category.fields) {
    if (!f.required || !Applies(f, data, data, program)) continue;
    ++c.applicable;
    const auto it = data.find(f.code);
    if (it != data.end() && Filled(f, *it)) ++c.filled;
  }
  return c;
}

}  // namespace zengen::clinical
