#include "clinical/cohort_filter.h"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace zengen::clinical {
namespace {

using nlohmann::json;

bool ParseBand(std::string_view band, int64_t& lo, int64_t& hi) {
  const auto dash = band.find('-');
  if (dash == std::string_view::npos || dash == 0 || dash > 2) return false;
  auto digits = [](std::string_view s, int64_t& out) {
    if (s.empty() || s.size() > 3) return false;
    out = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return false;
      out = out * 10 + (c - '0');
    }
    return true;
  };
  if (!digits(band.substr(0, dash), lo)) return false;
  if (dash + 1 == band.size()) {
    hi = 1000;  // "90-": 90 and over
    return true;
  }
  return digits(band.substr(dash + 1), hi) && hi >= lo;
}

std::string StringField(const json& data, const char* key) {
  auto it = data.find(key);
  return it != data.end() && it->is_string() ? it->get<std::string>() : "";
}

std::optional<int64_t> IntField(const json& data, const char* key) {
  auto it = data.find(key);
  if (it == data.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<int64_t>();
}

}  // namespace

Result<CohortFilter> ParseCohortFilter(const std::map<std::string, std::string>& query) {
  CohortFilter f;
  auto get = [&](const char* k) {
    auto it = query.find(k);
    return it == query.end() ? std::string() : it->second;
  };
  auto bad = [](const char* field, const std::string& why) {
    return InvalidArgument("invalid_parameter", fmt::format("{}: {}", field, why), field);
  };
  f.diagnosis = get("diagnosis");
  if (f.diagnosis.size() > 8 ||
      !std::all_of(f.diagnosis.begin(), f.diagnosis.end(),
                   [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '.'; })) {
    return bad("diagnosis", "an ICD-10 code or its prefix, e.g. C34");
  }
  f.stage = get("stage");
  if (f.stage.size() > 8 ||
      !std::all_of(f.stage.begin(), f.stage.end(),
                   [](char c) { return std::isalnum(static_cast<unsigned char>(c)); })) {
    return bad("stage", "a stage group or its prefix, e.g. III");
  }
  f.sex = get("sex");
  if (!f.sex.empty() && f.sex != "male" && f.sex != "female" && f.sex != "other" &&
      f.sex != "unknown") {
    return bad("sex", "male, female, other or unknown");
  }
  f.age_band = get("age_band");
  int64_t lo = 0, hi = 0;
  if (!f.age_band.empty() && !ParseBand(f.age_band, lo, hi)) {
    return bad("age_band", "LOW-HIGH in years, e.g. 50-59, or 90- for 90 and over");
  }
  return f;
}

Result<std::vector<ClinicalSummary>> Summaries(storage::Store& store,
                                               const std::set<std::string>& participants) {
  std::map<std::string, ClinicalSummary> out;
  for (const auto& p : participants) out[p].participant_id = p;
  if (participants.empty()) return std::vector<ClinicalSummary>{};
  ZG_ASSIGN_OR_RETURN(auto tx, store.Begin(storage::TxMode::kRead));
  // The latest submitted version of the three categories that carry the facts.
  ZG_ASSIGN_OR_RETURN(
      auto rows,
      tx->Query("SELECT r.participant_id, r.category, r.data FROM clinical_records r "
                "WHERE r.status = 'submitted' AND r.category IN ('case_basics', 'diagnosis', "
                "'course') AND r.version = (SELECT MAX(v.version) FROM clinical_records v "
                "WHERE v.participant_id = r.participant_id AND v.category = r.category AND "
                "v.status = 'submitted')"));
  for (const auto& r : rows.rows) {
    auto it = out.find(r.Text(0));
    if (it == out.end()) continue;
    ClinicalSummary& s = it->second;
    const json data = json::parse(r.Text(2), nullptr, /*allow_exceptions=*/false);
    if (!data.is_object()) continue;
    const std::string category = r.Text(1);
    if (category == "case_basics") {
      s.sex = StringField(data, "sex");
      s.age_at_enrolment = IntField(data, "age_at_enrolment");
    } else if (category == "diagnosis") {
      s.icd10 = StringField(data, "icd10");
      s.stage_group = StringField(data, "stage_group");
    } else {
      s.vital_status = StringField(data, "vital_status");
      s.death_event = s.vital_status == "dead";
      s.survival_days = s.death_event ? IntField(data, "death_day") : IntField(data, "last_contact_day");
      s.progression_day = IntField(data, "progression_day");
    }
  }
  std::vector<ClinicalSummary> list;
  list.reserve(out.size());
  for (auto& [_, s] : out) list.push_back(std::move(s));
  return list;
}

bool Matches(const ClinicalSummary& s, const CohortFilter& f) {
  if (!f.diagnosis.empty() && s.icd10.rfind(f.diagnosis, 0) != 0) return false;
  if (!f.stage.empty()) {
    // Roman numerals are not prefixes of each other: "I" matches IA and IB, never II or IV.
    if (s.stage_group.rfind(f.stage, 0) != 0) return false;
    const std::string rest = s.stage_group.substr(f.stage.size());
    if (!rest.empty() && (rest[0] == 'I' || rest[0] == 'V')) return false;
  }
  if (!f.sex.empty() && s.sex != f.sex) return false;
  if (!f.age_band.empty()) {
    int64_t lo = 0, hi = 0;
    if (!ParseBand(f.age_band, lo, hi) || !s.age_at_enrolment) return false;
    if (*s.age_at_enrolment < lo || *s.age_at_enrolment > hi) return false;
  }
  return true;
}

}  // namespace zengen::clinical
