#include "clinical/fhir.h"

#include <chrono>

#include <fmt/format.h>

#include "participants/participants.h"

namespace zengen::clinical {
namespace {

constexpr const char* kLocal = "urn:zengen:clinical";

class Builder {
 public:
  Builder(const Dictionary& d, std::string_view pid, std::string_view index_date)
      : d_(d), pid_(pid), index_date_(index_date) {}

  std::string Id(std::string_view kind) {
    std::string base;
    for (char c : pid_) base.push_back(std::isalnum(static_cast<unsigned char>(c)) ? c : '-');
    return fmt::format("{}-{}-{}", base, kind, ++n_);
  }
  json Subject() const { return {{"reference", "Patient/" + pid_}}; }

  std::string System(std::string_view code_system) const {
    const CodeSystem* cs = d_.FindSystem(code_system);
    return cs && !cs->uri.empty() ? cs->uri : std::string(kLocal) + ":" + std::string(code_system);
  }

  // Sets <prefix>DateTime (or the element named as given) from a relative day.
  void Time(json& target, const std::string& element, const json& day) const {
    if (!day.is_number_integer()) return;
    const int64_t d = day.get<int64_t>();
    json ext = json::array({{{"url", kRelativeDayExtension}, {"valueInteger", d}}});
    if (!index_date_.empty() && participants::ValidDate(index_date_)) {
      const std::string s(index_date_);
      const std::chrono::year_month_day ymd{
          std::chrono::year{std::stoi(s.substr(0, 4))},
          std::chrono::month{static_cast<unsigned>(std::stoi(s.substr(5, 2)))},
          std::chrono::day{static_cast<unsigned>(std::stoi(s.substr(8, 2)))}};
      const std::chrono::year_month_day out{std::chrono::sys_days{ymd} + std::chrono::days{d}};
      target[element] = fmt::format("{:04}-{:02}-{:02}", static_cast<int>(out.year()),
                                    static_cast<unsigned>(out.month()),
                                    static_cast<unsigned>(out.day()));
      target["_" + element] = {{"extension", ext}};
    } else {
      target["_" + element] = {{"extension", ext}};
    }
  }

  json Coding(const std::string& system, const json& code) const {
    if (!code.is_string()) return nullptr;
    const std::string c = code.get<std::string>();
    if (d_.IsNullFlavour(c)) {
      return {{"system", "http://terminology.hl7.org/CodeSystem/v3-NullFlavor"}, {"code", c}};
    }
    return {{"system", system}, {"code", c}};
  }

  json Concept(const std::string& system, const json& code, std::string text = "") const {
    json cc = json::object();
    if (json c = Coding(system, code); !c.is_null()) cc["coding"] = json::array({c});
    if (!text.empty()) cc["text"] = text;
    return cc;
  }

  json Local(std::string_view field, const json& value) const {
    return Concept(std::string(kLocal) + ":" + std::string(field), value);
  }

  const Dictionary& d_;
  std::string pid_;
  std::string_view index_date_;
  int n_ = 0;
};

const json& At(const json& o, const char* key) {
  static const json kNull;
  if (!o.is_object()) return kNull;
  const auto it = o.find(key);
  return it == o.end() ? kNull : *it;
}

std::string Str(const json& v) { return v.is_string() ? v.get<std::string>() : ""; }

}  // namespace

std::vector<json> FhirResources(const Dictionary& dict, std::string_view participant_id,
                                const std::vector<Record>& records, std::string_view index_date) {
  Builder b(dict, participant_id, index_date);
  std::vector<json> out;
  for (const auto& r : records) {
    const json& d = r.data;
    if (r.category == "diagnosis") {
      json c = {{"resourceType", "Condition"}, {"id", b.Id("condition")}, {"subject", b.Subject()}};
      c["category"] = json::array({b.Concept(
          "http://terminology.hl7.org/CodeSystem/condition-category", "encounter-diagnosis")});
      if (At(d, "morphology").is_string() || At(d, "topography").is_string()) {
        json code = json::object();
        code["coding"] = json::array();
        if (json m = b.Coding(b.System("icdo3_morphology"), At(d, "morphology")); !m.is_null()) {
          code["coding"].push_back(m);
        }
        if (json i = b.Coding(b.System("icd10"), At(d, "icd10")); !i.is_null()) {
          code["coding"].push_back(i);
        }
        c["code"] = code;
        if (At(d, "topography").is_string()) {
          c["bodySite"] = json::array({b.Concept(b.System("icdo3_topography"), At(d, "topography"))});
        }
        b.Time(c, "onsetDateTime", At(d, "dx_day"));
        if (At(d, "stage_group").is_string()) {
          c["stage"] = json::array({{{"summary", {{"text", Str(At(d, "stage_group"))}}}}});
        }
      } else if (At(d, "clinical_dx").is_string()) {
        c["code"] = b.Concept(b.System(Str(At(d, "clinical_dx_system"))), At(d, "clinical_dx"));
        const std::string st = Str(At(d, "dx_status"));
        const std::string vs = st == "confirmed"     ? "confirmed"
                               : st == "provisional" ? "provisional"
                                                     : "unconfirmed";
        c["verificationStatus"] = b.Concept(
            "http://terminology.hl7.org/CodeSystem/condition-ver-status", vs);
        if (At(d, "onset_age").is_number_integer()) {
          c["onsetAge"] = {{"value", At(d, "onset_age")},
                           {"unit", "a"},
                           {"system", "http://unitsofmeasure.org"},
                           {"code", "a"}};
        }
      } else {
        continue;
      }
      out.push_back(std::move(c));
    } else if (r.category == "treatment") {
      for (const auto& s : At(d, "surgery").is_array() ? At(d, "surgery") : json::array()) {
        json p = {{"resourceType", "Procedure"},
                  {"id", b.Id("surgery")},
                  {"status", "completed"},
                  {"subject", b.Subject()},
                  {"category", b.Concept(std::string(kLocal) + ":procedure", "surgery", "Surgery")},
                  {"code", {{"text", Str(At(s, "procedure"))}}}};
        b.Time(p, "performedDateTime", At(s, "day"));
        if (At(s, "residual").is_string()) {
          p["outcome"] = b.Local("residual", At(s, "residual"));
        }
        out.push_back(std::move(p));
      }
      for (const auto& s : At(d, "radiotherapy").is_array() ? At(d, "radiotherapy") : json::array()) {
        json p = {{"resourceType", "Procedure"},
                  {"id", b.Id("radiotherapy")},
                  {"status", "completed"},
                  {"subject", b.Subject()},
                  {"category", b.Concept(std::string(kLocal) + ":procedure", "radiotherapy",
                                         "Radiotherapy")},
                  {"code", b.Local("modality", At(s, "modality"))}};
        json period = json::object();
        b.Time(period, "start", At(s, "start_day"));
        b.Time(period, "end", At(s, "end_day"));
        if (!period.empty()) p["performedPeriod"] = period;
        if (At(s, "target").is_string()) {
          p["bodySite"] = json::array({b.Concept(b.System("icdo3_topography"), At(s, "target"))});
        }
        if (At(s, "total_gy").is_number()) {
          p["note"] = json::array({{{"text", fmt::format("total dose {} Gy in {} fractions",
                                                          At(s, "total_gy").dump(),
                                                          At(s, "fractions").dump())}}});
        }
        out.push_back(std::move(p));
      }
      if (Str(At(d, "hsct_given")) == "yes") {
        json p = {{"resourceType", "Procedure"},
                  {"id", b.Id("hsct")},
                  {"status", "completed"},
                  {"subject", b.Subject()},
                  {"category", b.Concept(std::string(kLocal) + ":procedure", "hsct",
                                         "Haematopoietic stem-cell transplant")},
                  {"code", b.Local("hsct_type", At(d, "hsct_type"))}};
        b.Time(p, "performedDateTime", At(d, "hsct_day"));
        out.push_back(std::move(p));
      }
      for (const auto& l : At(d, "drug_lines").is_array() ? At(d, "drug_lines") : json::array()) {
        const std::string stop = Str(At(l, "stop_reason"));
        json m = {{"resourceType", "MedicationStatement"},
                  {"id", b.Id("medication")},
                  {"status", stop == "ongoing" ? "active" : stop.empty() ? "unknown" : "completed"},
                  {"subject", b.Subject()}};
        json med = {{"text", Str(At(l, "regimen_name"))}};
        for (const auto& drug : At(l, "drugs").is_array() ? At(l, "drugs") : json::array()) {
          if (json c = b.Coding(b.System("atc"), At(drug, "atc")); !c.is_null()) {
            med["coding"].push_back(c);
          }
          if (json c = b.Coding(b.System("yj"), At(drug, "yj_code")); !c.is_null()) {
            med["coding"].push_back(c);
          }
        }
        m["medicationCodeableConcept"] = med;
        json period = json::object();
        b.Time(period, "start", At(l, "start_day"));
        b.Time(period, "end", At(l, "end_day"));
        if (!period.empty()) m["effectivePeriod"] = period;
        m["extension"] = json::array(
            {{{"url", std::string(kLocal) + ":line-number"}, {"valueInteger", At(l, "line_no")}}});
        if (At(l, "intent").is_string()) {
          m["category"] = b.Local("intent", At(l, "intent"));
        }
        out.push_back(std::move(m));
      }
    } else if (r.category == "background") {
      if (At(d, "ecog_ps").is_string()) {
        json o = {{"resourceType", "Observation"},
                  {"id", b.Id("ecog")},
                  {"status", "final"},
                  {"subject", b.Subject()},
                  {"code", b.Concept("http://loinc.org", "89247-1", "ECOG performance status")}};
        const std::string v = Str(At(d, "ecog_ps"));
        if (v.size() == 1 && v[0] >= '0' && v[0] <= '5') {
          o["valueInteger"] = v[0] - '0';
        } else {
          o["dataAbsentReason"] = b.Concept(
              "http://terminology.hl7.org/CodeSystem/data-absent-reason", "unknown");
        }
        out.push_back(std::move(o));
      }
      if (At(d, "smoking").is_string()) {
        out.push_back({{"resourceType", "Observation"},
                       {"id", b.Id("smoking")},
                       {"status", "final"},
                       {"subject", b.Subject()},
                       {"code", b.Concept("http://loinc.org", "72166-2", "Tobacco smoking status")},
                       {"valueCodeableConcept", b.Local("smoking", At(d, "smoking"))}});
      }
    } else if (r.category == "course") {
      for (const auto& x : At(d, "responses").is_array() ? At(d, "responses") : json::array()) {
        out.push_back({{"resourceType", "Observation"},
                       {"id", b.Id("bor")},
                       {"status", "final"},
                       {"subject", b.Subject()},
                       {"code", b.Concept(std::string(kLocal), "bor", "Best overall response")},
                       {"method", b.Local("bor_criteria", At(x, "bor_criteria"))},
                       {"valueCodeableConcept", b.Local("recist", At(x, "bor"))},
                       {"extension", json::array({{{"url", std::string(kLocal) + ":line-number"},
                                                   {"valueInteger", At(x, "line_no")}}})}});
      }
      for (const auto& x : At(d, "adverse_events").is_array() ? At(d, "adverse_events")
                                                              : json::array()) {
        json code = {{"text", Str(At(x, "ctcae_term"))}};
        if (json c = b.Coding(b.System("meddra_llt"), At(x, "meddra_llt")); !c.is_null()) {
          code["coding"] = json::array({c});
        }
        json o = {{"resourceType", "Observation"},
                  {"id", b.Id("ae")},
                  {"status", "final"},
                  {"subject", b.Subject()},
                  {"category", json::array({b.Concept(std::string(kLocal), "adverse_event",
                                                      "Adverse event")})},
                  {"code", code},
                  {"valueCodeableConcept",
                   b.Concept(std::string(kLocal) + ":ctcae-grade", At(x, "grade"),
                             "CTCAE v" + Str(At(x, "ctcae_version")) + " grade " +
                                 Str(At(x, "grade")))}};
        b.Time(o, "effectiveDateTime", At(x, "onset_day"));
        out.push_back(std::move(o));
      }
    }
  }
  return out;
}

}  // namespace zengen::clinical
