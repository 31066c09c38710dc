#include <gtest/gtest.h>

#include <fmt/format.h>

#include "clinical/dictionary.h"
#include "clinical/validate.h"

namespace zengen::clinical {
namespace {

const Dictionary& D() { return BuiltinDictionary(); }

TEST(DictionaryTest, EmbeddedDictionaryLoads) {
  auto d = LoadDictionary(EmbeddedDictionaryJson());
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->version, "1.0");
  std::vector<std::string> codes;
  for (const auto& c : d->categories) {
    codes.push_back(c.code);
    EXPECT_GE(c.fields.size(), 6u) << c.code;
  }
  EXPECT_EQ(codes, (std::vector<std::string>{"case_basics", "specimen", "background", "diagnosis",
                                             "treatment", "course"}));
  std::vector<std::string> nf;
  for (const auto& v : d->null_flavours) nf.push_back(v.code);
  EXPECT_EQ(nf, (std::vector<std::string>{"UNK", "ASKU", "NA", "NASK", "NI"}));
}

// Every enum of the dictionary with more than two values offers a way to say "unknown" unless
// its values are exhaustive by nature; this lists the ones that do, as a review aid.
TEST(DictionaryTest, EveryFieldHasBothLanguagesAndDefinitions) {
  std::function<void(const std::vector<Field>&)> check = [&](const std::vector<Field>& fs) {
    for (const auto& f : fs) {
      EXPECT_FALSE(f.label.ja.empty() || f.label.en.empty() || f.definition.ja.empty() ||
                   f.definition.en.empty())
          << f.code;
      for (const auto& v : f.values) EXPECT_FALSE(v.definition.ja.empty()) << f.code << v.code;
      check(f.subfields);
    }
  };
  for (const auto& c : D().categories) check(c.fields);
}

struct BadDictCase {
  std::string name;
  std::string text;
  std::string path_part;
};

TEST(DictionaryTest, MalformedDictionariesAreRefusedWithAPath) {
  const std::string head =
      R"({"version":"1","null_flavours":[{"code":"UNK","label":{"ja":"不明","en":"Unknown"},)"
      R"("definition":{"ja":"不明","en":"Unknown"}}],"code_systems":[],"categories":[{"code":"c",)"
      R"("label":{"ja":"c","en":"c"},"definition":{"ja":"c","en":"c"},"fields":[)";
  const std::string lbl = R"("label":{"ja":"x","en":"x"},"definition":{"ja":"x","en":"x"})";
  const std::vector<BadDictCase> cases = {
      {"not json", "{", "(text)"},
      {"no version", R"({"categories":[]})", "version"},
      {"bad type", head + R"({"code":"a",)" + lbl + R"(,"type":"float"}]}]})", "(a)"},
      {"enum without values", head + R"({"code":"a",)" + lbl + R"(,"type":"enum"}]}]})", "(a)"},
      {"unknown key", head + R"({"code":"a",)" + lbl + R"(,"type":"int","colour":1}]}]})", "colour"},
      {"min above max", head + R"({"code":"a",)" + lbl + R"(,"type":"int","min":5,"max":1}]}]})",
       "(a)"},
      {"unknown system", head + R"({"code":"a",)" + lbl + R"(,"type":"code","system":"x"}]}]})",
       "(a)"},
      {"condition on unknown field",
       head + R"({"code":"a",)" + lbl + R"(,"type":"int","condition":{"field":"zz","equals":"y"}}]}]})",
       "a"},
      {"bad condition", head + R"({"code":"a",)" + lbl + R"(,"type":"int","condition":{"x":1}}]}]})",
       "condition"},
      {"missing ja", head + R"({"code":"a","label":{"en":"x"},"type":"int"}]}]})", "label"},
      {"list without subfields", head + R"({"code":"a",)" + lbl + R"(,"type":"list"}]}]})", "(a)"},
  };
  for (const auto& c : cases) {
    auto d = LoadDictionary(c.text);
    ASSERT_FALSE(d.ok()) << c.name;
    EXPECT_EQ(d.error().code, "invalid_dictionary") << c.name;
    EXPECT_NE(d.error().message.find(c.path_part), std::string::npos)
        << c.name << ": " << d.error().message;
  }
}

// The plausibility checks of the embedded dictionary name real date fields, and a check naming
// anything else (no such field, a text field, rows of two lists compared row by row, an unknown
// kind or severity) is refused with its path.
TEST(DictionaryTest, PlausibilityChecksNameDateFields) {
  std::vector<std::string> codes;
  for (const auto& c : D().checks) codes.push_back(c.code);
  EXPECT_EQ(codes, (std::vector<std::string>{"dates_not_in_future", "birth_year_matches_age",
                                             "diagnosis_before_treatment",
                                             "drug_line_start_before_end",
                                             "radiotherapy_start_before_end",
                                             "events_before_death"}));
  std::string list;
  const Field* f = FieldAtCheckPath(D(), "treatment.drug_lines[].start_day", &list);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->type, FieldType::kRelDay);
  EXPECT_EQ(list, "drug_lines");
  EXPECT_EQ(FieldAtCheckPath(D(), "course.death_day", &list)->code, "death_day");
  EXPECT_EQ(list, "");
  EXPECT_EQ(FieldAtCheckPath(D(), "course.nope", nullptr), nullptr);
  EXPECT_EQ(FieldAtCheckPath(D(), "treatment.drug_lines[].drugs[].generic_name", nullptr), nullptr);

  nlohmann::json base = nlohmann::json::parse(EmbeddedDictionaryJson());
  const auto order = [](nlohmann::json before, nlohmann::json after, bool same_row) {
    return nlohmann::json{{"code", "x"},
                          {"kind", "order"},
                          {"severity", "error"},
                          {"same_row", same_row},
                          {"before", std::move(before)},
                          {"after", std::move(after)},
                          {"message", {{"ja", "x"}, {"en", "x"}}}};
  };
  const std::vector<std::pair<nlohmann::json, std::string>> bad = {
      {order({"course.nope"}, {"course.death_day"}, false), "checks[0].before[0]"},
      {order({"case_basics.remarks"}, {"course.death_day"}, false), "string field"},
      {order({"treatment.drug_lines[].start_day"}, {"treatment.radiotherapy[].end_day"}, true),
       "same_row"},
      {order({"diagnosis.dx_day"}, {"course.death_day"}, true), "same_row"},
      {order(nlohmann::json::array(), {"course.death_day"}, false), "before"},
      {{{"code", "x"}, {"kind", "fortune"}, {"severity", "error"},
        {"message", {{"ja", "x"}, {"en", "x"}}}}, "kind"},
      {{{"code", "x"}, {"kind", "not_in_future"}, {"severity", "loud"},
        {"message", {{"ja", "x"}, {"en", "x"}}}}, "severity"},
      {{{"code", "x"}, {"kind", "birth_year_age"}, {"severity", "error"},
        {"birth_year", "case_basics.enrolment_day"}, {"age", "case_basics.age_at_enrolment"},
        {"message", {{"ja", "x"}, {"en", "x"}}}}, "birth_year"},
  };
  for (const auto& [check, part] : bad) {
    nlohmann::json d = base;
    d["checks"] = nlohmann::json::array({check});
    auto r = LoadDictionary(d.dump());
    ASSERT_FALSE(r.ok()) << check.dump();
    EXPECT_NE(r.error().message.find(part), std::string::npos) << r.error().message;
  }
}

struct FormatCase {
  std::string format;
  std::string value;
  bool ok;
};

TEST(DictionaryTest, Formats) {
  const std::vector<FormatCase> cases = {
      {"tnm_t", "T1a", true},   {"tnm_t", "T2", true},      {"tnm_t", "Tis", true},
      {"tnm_t", "TX", true},    {"tnm_t", "T0", true},      {"tnm_t", "T1mi", true},
      {"tnm_t", "T4b", true},   {"tnm_t", "T5", false},     {"tnm_t", "t1", false},
      {"tnm_t", "N1", false},   {"tnm_t", "T1a ", false},   {"tnm_n", "N2", true},
      {"tnm_n", "NX", true},    {"tnm_n", "N1mi", true},    {"tnm_n", "N4", false},
      {"tnm_m", "M1c", true},   {"tnm_m", "M0", true},      {"tnm_m", "MX", true},
      {"tnm_m", "M2", false},   {"icdo3_topography", "C00.0", true},
      {"icdo3_topography", "C80.9", true},  {"icdo3_topography", "C81.0", false},
      {"icdo3_topography", "C34", false},   {"icdo3_morphology", "8140/3", true},
      {"icdo3_morphology", "8140/4", false}, {"icdo3_morphology", "814/3", false},
      {"icd10", "C34.1", true}, {"icd10", "E11", true},     {"icd10", "U07.1", false},
      {"meddra_llt", "10028813", true},     {"meddra_llt", "1002881", false},
      {"hpo", "HP:0001250", true},          {"hpo", "HP:12345", false},
      {"stage_group", "IIIA", true},        {"stage_group", "IA1", true},
      {"stage_group", "V", false},          {"unknown_format", "x", false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(MatchesFormat(c.format, c.value), c.ok) << c.format << " " << c.value;
  }
}

// One row per rule kind: the data, the mode, whether code lists are loaded, and the expected
// problems as "path:code" in dictionary order.
struct RuleCase {
  std::string name;
  std::string category;
  std::string program;
  std::string data;
  Mode mode;
  std::vector<std::string> expected;
  bool load_lists = false;
};

std::string Base(const std::string& category, const std::string& program) {
  if (category == "case_basics") {
    return R"({"role":"proband","sex":"female","age_at_enrolment":50,"enrolment_day":0)";
  }
  if (category == "treatment") return R"({"hsct_given":"no")";
  if (category == "course") return R"({"disease_status":"stable","vital_status":"alive","last_contact_day":100)";
  if (category == "background" && program == "cancer") {
    return R"({"height_cm":160.5,"weight_kg":55,"ecog_ps":"1","smoking":"never","alcohol":"never")";
  }
  if (category == "specimen") {
    return R"({"tumor_normal":"germline_normal","specimen_type":"blood","preservation":"EDTA","collection_method":"venipuncture","collection_day":3,"assay":"WGS","qc_status":"pass")";
  }
  return "{";
}

TEST(ValidateTest, EveryRuleKind) {
  const auto S = Mode::kSubmit;
  const auto Dr = Mode::kDraft;
  const std::vector<RuleCase> cases = {
      {"valid case basics", "case_basics", "cancer", Base("case_basics", "") + "}", S, {}},
      {"required missing", "case_basics", "cancer", R"({"role":"proband"})", S,
       {"sex:required", "age_at_enrolment:required", "enrolment_day:required"}},
      {"draft skips required", "case_basics", "cancer", R"({"role":"proband"})", Dr, {}},
      {"draft still checks values", "case_basics", "cancer", R"({"role":"aunt"})", Dr,
       {"role:not_in_list"}},
      {"enum wrong type", "case_basics", "cancer", Base("case_basics", "") + R"(,"karyotypic_sex":1})",
       S, {"karyotypic_sex:wrong_type"}},
      {"int wrong type", "case_basics", "cancer",
       R"({"role":"proband","sex":"male","age_at_enrolment":"fifty","enrolment_day":0})", S,
       {"age_at_enrolment:wrong_type"}},
      {"int not a fraction", "case_basics", "cancer",
       R"({"role":"proband","sex":"male","age_at_enrolment":50.5,"enrolment_day":0})", S,
       {"age_at_enrolment:wrong_type"}},
      {"int out of range", "case_basics", "cancer",
       R"({"role":"proband","sex":"male","age_at_enrolment":91,"enrolment_day":0})", S,
       {"age_at_enrolment:out_of_range"}},
      {"null flavour accepted", "case_basics", "cancer",
       R"({"role":"proband","sex":"male","age_at_enrolment":"ASKU","enrolment_day":0})", S, {}},
      {"null flavour not offered", "case_basics", "cancer",
       R"({"role":"proband","sex":"male","age_at_enrolment":40,"enrolment_day":"UNK"})", S,
       {"enrolment_day:wrong_type"}},
      {"rel_day range", "case_basics", "cancer",
       R"({"role":"proband","sex":"male","age_at_enrolment":40,"enrolment_day":40000})", S,
       {"enrolment_day:out_of_range"}},
      {"string format", "case_basics", "cancer", Base("case_basics", "") + R"(,"site_code":"12345"})",
       S, {"site_code:bad_format"}},
      {"string length", "case_basics", "cancer",
       Base("case_basics", "") + R"(,"remarks":")" + std::string(2001, 'x') + "\"}", S,
       {"remarks:out_of_range"}},
      {"unknown field", "case_basics", "cancer", Base("case_basics", "") + R"(,"shoe_size":42})", S,
       {"shoe_size:unknown_field"}},
      {"program condition false", "case_basics", "cancer",
       Base("case_basics", "") + R"(,"family_pid":"F1"})", S, {"family_pid:not_allowed_here"}},
      {"program condition true", "case_basics", "rare_disease",
       Base("case_basics", "") + R"(,"family_pid":"F1"})", S, {}},
      {"decimal", "background", "cancer",
       R"({"height_cm":"tall","weight_kg":301,"ecog_ps":"5","smoking":"never","alcohol":"never"})", S,
       {"height_cm:wrong_type", "weight_kg:out_of_range", "ecog_ps:not_in_list"}},
      {"condition in: applies", "background", "cancer",
       Base("background", "cancer") + R"(,"smoking":"former","pack_years":20})", S, {}},
      {"condition in: does not apply", "background", "cancer",
       Base("background", "cancer") + R"(,"pack_years":20})", S, {"pack_years:not_allowed_here"}},
      {"rare disease requires lists", "background", "rare_disease",
       R"({"height_cm":100,"weight_kg":20,"smoking":"never","alcohol":"never","consanguinity":"no"})",
       S, {"phenotype:required", "prior_genetic_test:required"}},
      {"ecog only for cancer", "background", "rare_disease",
       R"({"height_cm":100,"weight_kg":20,"smoking":"never","alcohol":"never","consanguinity":"no","ecog_ps":"0",)"
       R"("phenotype":[{"hpo":"HP:0001250","status":"observed","onset":"HP:0003593"}],)"
       R"("prior_genetic_test":[{"method":"panel","result":"negative"}]})",
       S, {"ecog_ps:not_allowed_here"}},
      {"list subfields", "background", "cancer",
       Base("background", "cancer") +
           R"(,"past_history":[{"condition":"E11","status":"active"},{"condition":"E11x","onset_age":-1,"x":1},{}]})",
       S,
       {"past_history[1].x:unknown_field", "past_history[1].condition:bad_format",
        "past_history[1].onset_age:out_of_range", "past_history[2].condition:required"}},
      {"list wrong type", "background", "cancer", Base("background", "cancer") + R"(,"comorbidity":{}})",
       S, {"comorbidity:wrong_type"}},
      {"list item wrong type", "background", "cancer",
       Base("background", "cancer") + R"(,"comorbidity":[1]})", S, {"comorbidity[0]:wrong_type"}},
      {"code system from sibling", "background", "cancer",
       Base("background", "cancer") +
           R"(,"family_history":[{"relationship":"MTH","condition_system":"hpo","condition":"C50.9"},)"
           R"({"relationship":"FTH","condition_system":"icd10","condition":"C50.9","deceased":"yes"},)"
           R"({"relationship":"SIS","condition":"C50.9"}]})",
       S,
       {"family_history[0].condition:bad_format", "family_history[2].condition_system:required",
        "family_history[2].condition:not_allowed_here"}},
      {"code format licensed, no list loaded", "specimen", "cancer",
       R"({"tumor_normal":"tumor","specimen_type":"solid_tissue","preservation":"FFPE","collection_method":"biopsy",)"
       R"("collection_day":0,"site":"C34.1","lesion_type":"primary","pre_treatment_state":"treatment_naive",)"
       R"("tumor_cell_pct":40,"fixation_h":24,"assay":"WGS","qc_status":"pass"})",
       S, {}},
      {"code list loaded: membership", "specimen", "cancer",
       R"({"tumor_normal":"tumor","specimen_type":"solid_tissue","preservation":"FFPE","collection_method":"biopsy",)"
       R"("collection_day":0,"site":"C34.1","lesion_type":"primary","pre_treatment_state":"treatment_naive",)"
       R"("tumor_cell_pct":40,"assay":"WGS","qc_status":"pass"})",
       S, {"site:unknown_code"}, true},
      {"code list loaded: member", "specimen", "cancer",
       R"({"tumor_normal":"tumor","specimen_type":"solid_tissue","preservation":"FFPE","collection_method":"biopsy",)"
       R"("collection_day":0,"site":"C50.9","lesion_type":"primary","pre_treatment_state":"treatment_naive",)"
       R"("tumor_cell_pct":"UNK","assay":"WGS","qc_status":"pass"})",
       S, {}, true},
      {"condition on tumour", "specimen", "cancer",
       Base("specimen", "cancer") + R"(,"site":"C34.1","fixation_h":2})", S,
       {"site:not_allowed_here", "fixation_h:not_allowed_here"}},
      {"condition in values", "specimen", "cancer", Base("specimen", "cancer") + R"(,"qc_status":"fail"})",
       S, {"qc_fail_reason:required"}},
      {"tnm syntax", "diagnosis", "cancer",
       R"({"dx_day":0,"topography":"C34.1","morphology":"8140/3","laterality":"left","staging_system":"UICC_TNM",)"
       R"("stage_basis":"p","t_category":"T5","n_category":"NX","m_category":"M1c","stage_group":"IVB"})",
       S, {"t_category:bad_format"}},
      {"tnm not required without TNM", "diagnosis", "cancer",
       R"({"dx_day":0,"topography":"C34.1","morphology":"8140/3","laterality":"left","staging_system":"FIGO"})",
       S, {}},
      {"tnm null flavour", "diagnosis", "cancer",
       R"({"dx_day":0,"topography":"UNK","morphology":"8140/3","laterality":"left","staging_system":"AJCC",)"
       R"("stage_basis":"c","t_category":"UNK","n_category":"N0","m_category":"M0"})",
       S, {}},
      {"rd diagnosis", "diagnosis", "rare_disease",
       R"({"clinical_dx_system":"orpha","clinical_dx":"ORPHA:558","dx_status":"confirmed","onset_age":3,)"
       R"("genetic_dx":[{"gene":"FBN1","hgvs":"NM_000138.5:c.1A>G","acmg_class":"LP"}],"dx_day":0})",
       S, {"dx_day:not_allowed_here"}},
      {"bool and nested lists", "treatment", "cancer",
       R"({"hsct_given":"no","drug_lines":[{"line_no":1,"intent":"adjuvant","regimen_name":"CAPOX","start_day":10,)"
       R"("stop_reason":"completed","in_trial":"no","drugs":[{"generic_name":"oxaliplatin","atc":"L01XA03"},{"atc":"1"}]}]})",
       S, {"drug_lines[0].drugs[1].atc:bad_format", "drug_lines[0].drugs[1].generic_name:required",
           "drug_lines[0].in_trial:wrong_type"}},
      {"hsct condition true", "treatment", "cancer", R"({"hsct_given":"yes","hsct_type":"allogeneic"})",
       S, {"hsct_day:required", "hsct_donor:required", "hsct_source:required"}},
      {"hsct condition false", "treatment", "cancer", R"({"hsct_given":"no","hsct_type":"autologous"})",
       S, {"hsct_type:not_allowed_here"}},
      {"all-condition false", "treatment", "cancer",
       R"({"hsct_given":"yes","hsct_day":5,"hsct_type":"autologous","hsct_source":"PBSC","hsct_donor":"unrelated"})",
       S, {"hsct_donor:not_allowed_here"}},
      {"recist and ctcae", "course", "cancer",
       Base("course", "") +
           R"(,"responses":[{"line_no":1,"bor":"CR","bor_criteria":"RECIST1.1","bor_confirmed":true},)"
           R"({"line_no":2,"bor":"MR","bor_criteria":"RECIST1.1"}],)"
           R"("adverse_events":[{"ctcae_term":"Neutrophil count decreased","ctcae_version":"5.0","grade":"2","meddra_llt":"1234"}]})",
       S, {"responses[1].bor:not_in_list", "adverse_events[0].meddra_llt:bad_format",
           "adverse_events[0].grade:not_in_list"}},
      {"death fields", "course", "cancer",
       R"({"disease_status":"worsened","vital_status":"dead","last_contact_day":300,"death_day":"UNK"})",
       S, {"cause_of_death:required"}},
      {"not an object", "course", "cancer", "[]", S, {":wrong_type"}},
      {"unknown category", "nope", "cancer", "{}", S, {":unknown_category"}},
  };
  CodeLists lists;
  lists.Set("icdo3_topography", {"C50.9", "C18.7"});
  for (const auto& c : cases) {
    const json data = json::parse(c.data);
    const auto problems =
        Validate(D(), c.category, data, c.program, c.mode, c.load_lists ? lists : CodeLists());
    std::vector<std::string> got;
    for (const auto& p : problems) {
      got.push_back(p.path + ":" + p.code);
      EXPECT_FALSE(p.message.ja.empty() || p.message.en.empty()) << c.name;
      EXPECT_EQ(p.message_key, "clinical.problem." + p.code);
    }
    EXPECT_EQ(got, c.expected) << c.name;
  }
}

TEST(ValidateTest, MessagesSayWhatIsAllowed) {
  const auto ps = Validate(D(), "case_basics", json::parse(R"({"sex":"x","age_at_enrolment":99})"),
                           "cancer", Mode::kDraft, CodeLists());
  ASSERT_EQ(ps.size(), 2u);
  EXPECT_NE(ps[0].message.en.find("male, female, other, unknown"), std::string::npos);
  EXPECT_NE(ps[1].message.en.find("between 0 and 90 year"), std::string::npos);
  EXPECT_NE(ps[1].message.ja.find("0〜90"), std::string::npos);
}

TEST(ValidateTest, Completeness) {
  const Category* c = D().FindCategory("treatment");
  EXPECT_EQ(ComputeCompleteness(*c, json::object(), "cancer").applicable, 1);
  const auto yes = ComputeCompleteness(*c, json::parse(R"({"hsct_given":"yes","hsct_day":1})"),
                                       "cancer");
  EXPECT_EQ(yes.applicable, 4);  // hsct_given, day, type, source (donor needs allogeneic)
  EXPECT_EQ(yes.filled, 2);
  const Category* b = D().FindCategory("background");
  const auto rd = ComputeCompleteness(*b, json::parse(R"({"height_cm":"UNK","phenotype":[]})"),
                                      "rare_disease");
  EXPECT_EQ(rd.applicable, 7);
  EXPECT_EQ(rd.filled, 1);
}

}  // namespace
}  // namespace zengen::clinical
