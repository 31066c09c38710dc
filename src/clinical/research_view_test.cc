#include "clinical/research_view.h"

#include <gtest/gtest.h>

namespace zengen::clinical {
namespace {

Record Version(std::string category, int64_t version, std::string status, json data) {
  Record r;
  r.participant_id = "ZG-1";
  r.category = std::move(category);
  r.version = version;
  r.status = std::move(status);
  r.dictionary_version = "clinical-v1";
  r.data = std::move(data);
  return r;
}

// Issue 14: a researcher sees the clinical fields next to the files, never a never_public one
// (birth year, the hospital's site code, free-text remarks, the testing laboratory inside a
// list item), and never a hospital's unfinished draft.
TEST(ResearchViewTest, NewestSubmittedVersionWithoutNeverPublicFields) {
  const Dictionary& d = BuiltinDictionary();
  std::map<std::string, std::vector<Record>> h;
  h["case_basics"] = {
      Version("case_basics", 1, "submitted",
              {{"sex", "female"}, {"birth_year", 1960}, {"site_code", "H-77"},
               {"age_at_enrolment", 65}, {"remarks", "seen at the east wing"}}),
      Version("case_basics", 2, "submitted",
              {{"sex", "female"}, {"birth_year", 1960}, {"age_at_enrolment", 66},
               {"no_such_field", "kept out"}}),
      Version("case_basics", 3, "draft", {{"sex", "male"}, {"age_at_enrolment", 1}}),
  };
  h["background"] = {Version(
      "background", 1, "submitted",
      {{"prior_genetic_test",
        {{{"method", "panel"}, {"gene_region", "BRCA1"}, {"lab", "Lab of Hospital A"}}}}})};
  h["diagnosis"] = {Version("diagnosis", 1, "draft", {{"dx_day", -3}})};
  const json v = ResearchView(d, h);
  ASSERT_TRUE(v.contains("case_basics")) << v.dump();
  EXPECT_EQ(v["case_basics"]["version"], 2);
  EXPECT_EQ(v["case_basics"]["data"], (json{{"sex", "female"}, {"age_at_enrolment", 66}}));
  EXPECT_EQ(v["background"]["data"]["prior_genetic_test"],
            (json::array({{{"method", "panel"}, {"gene_region", "BRCA1"}}})));
  EXPECT_FALSE(v.contains("diagnosis")) << "a draft is never shown";
  EXPECT_EQ(v.dump().find("H-77"), std::string::npos);
  EXPECT_EQ(v.dump().find("Lab of Hospital A"), std::string::npos);
  EXPECT_EQ(v.dump().find("1960"), std::string::npos);
}

}  // namespace
}  // namespace zengen::clinical
