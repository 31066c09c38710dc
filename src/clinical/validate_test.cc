#include "clinical/validate.h"

#include <gtest/gtest.h>

#include "clinical/synthetic.h"

namespace zengen::clinical {
namespace {

using Records = std::map<std::string, json, std::less<>>;

// Issue 14: the dictionary's plausibility checks ran only in the browser; the server runs the
// same ones (RunChecks) and names each offending field of the category being written.
const CheckDates kDates{"2025-04-01", "2026-11-24"};  // today is day 602

std::vector<std::string> Paths(const std::vector<Problem>& ps) {
  std::vector<std::string> out;
  for (const auto& p : ps) out.push_back(p.path);
  return out;
}

TEST(RunChecksTest, ADrugLineEndingBeforeItStartsNamesBothDaysOfThatRow) {
  const Records r = {{"treatment", json::parse(R"({"hsct_given":"no","drug_lines":[
      {"start_day": 10, "end_day": 40}, {"start_day": 50, "end_day": 45}]})")}};
  const auto ps = RunChecks(BuiltinDictionary(), "treatment", r, kDates, Mode::kSubmit);
  ASSERT_EQ(ps.size(), 2u);
  EXPECT_EQ(Paths(ps), (std::vector<std::string>{"drug_lines[1].end_day",
                                                 "drug_lines[1].start_day"}));
  EXPECT_EQ(ps[0].code, "implausible");
  EXPECT_EQ(ps[0].message_key, "clinical.check.drug_line_start_before_end");
  EXPECT_EQ(ps[0].message.ja, "薬物療法の終了日が開始日より前です");
  EXPECT_EQ(ps[0].message.en, "A drug therapy line ends before it starts");
  // same_row: line 1's start (10) before line 2's end (45) is no problem, nor 50 after 40.
}

TEST(RunChecksTest, OrderAcrossCategoriesIsTheProblemOfEachCategoryHoldingAnOffendingValue) {
  Records r = {{"diagnosis", json{{"dx_day", 100}}},
               {"treatment", json::parse(R"({"drug_lines":[{"start_day": 20}]})")},
               {"course", json{{"vital_status", "dead"}, {"death_day", 50}}}};
  // dx 100 and nothing else after death 50: the course's death day and the diagnosis day.
  EXPECT_EQ(Paths(RunChecks(BuiltinDictionary(), "course", r, kDates, Mode::kSubmit)),
            std::vector<std::string>{"death_day"});
  EXPECT_EQ(Paths(RunChecks(BuiltinDictionary(), "diagnosis", r, kDates, Mode::kSubmit)),
            std::vector<std::string>{"dx_day"});
  // The treatment (20 < 50) breaks no error check; that it starts before the diagnosis is a
  // warning, which never refuses a write.
  EXPECT_TRUE(RunChecks(BuiltinDictionary(), "treatment", r, kDates, Mode::kSubmit).empty());
  // Cross-field checks wait for submission, as in the console.
  EXPECT_TRUE(RunChecks(BuiltinDictionary(), "course", r, kDates, Mode::kDraft).empty());
  r["diagnosis"]["dx_day"] = 50;  // on the day of death: allowed
  EXPECT_TRUE(RunChecks(BuiltinDictionary(), "course", r, kDates, Mode::kSubmit).empty());
}

TEST(RunChecksTest, DatesAfterTodayAreRefusedEvenInDrafts) {
  Records r = {{"course", json::parse(R"({"last_contact_day": 603,
      "adverse_events":[{"onset_day": 602}, {"onset_day": "UNK"}]})")}};
  for (Mode mode : {Mode::kDraft, Mode::kSubmit}) {
    EXPECT_EQ(Paths(RunChecks(BuiltinDictionary(), "course", r, kDates, mode)),
              std::vector<std::string>{"last_contact_day"});
  }
  r["course"]["last_contact_day"] = 602;  // today
  EXPECT_TRUE(RunChecks(BuiltinDictionary(), "course", r, kDates, Mode::kDraft).empty());
}

TEST(RunChecksTest, BirthYearMustAgreeWithTheAgeAndNotLieInTheFuture) {
  const auto check = [](json basics) {
    return Paths(RunChecks(BuiltinDictionary(), "case_basics", {{"case_basics", basics}}, kDates,
                           Mode::kSubmit));
  };
  const std::vector<std::string> both = {"age_at_enrolment", "birth_year"};
  EXPECT_TRUE(check({{"age_at_enrolment", 60}, {"birth_year", 1965}}).empty());
  EXPECT_TRUE(check({{"age_at_enrolment", 60}, {"birth_year", 1964}}).empty());
  EXPECT_EQ(check({{"age_at_enrolment", 90}, {"birth_year", 2063}}), both);  // the old demo
  EXPECT_EQ(check({{"birth_year", 2027}}), std::vector<std::string>{"birth_year"});
  EXPECT_TRUE(check({{"age_at_enrolment", 60}}).empty());
}

TEST(RunChecksTest, AbsoluteDatesCountFromTheIndexDate) {
  // A date field is compared as days from the index date like a rel_day.
  const Dictionary& d = BuiltinDictionary();
  const Records r = {{"course", json{{"last_contact_day", "2026-11-25"}}}};
  EXPECT_EQ(Paths(RunChecks(d, "course", r, kDates, Mode::kDraft)),
            std::vector<std::string>{"last_contact_day"});
  EXPECT_TRUE(RunChecks(d, "course", {{"course", json{{"last_contact_day", "2026-11-24"}}}},
                        kDates, Mode::kDraft)
                  .empty());
}

// The demo's and the tests' synthetic participants are plausible: every participant's six
// categories together pass every check, on the index date itself.
TEST(RunChecksTest, SyntheticParticipantsPassEveryCheck) {
  const Dictionary& d = BuiltinDictionary();
  for (const char* program : {"cancer", "rare_disease"}) {
    for (uint64_t i = 0; i < 300; ++i) {
      Records r;
      for (size_t c = 0; c < d.categories.size(); ++c) {
        r[d.categories[c].code] =
            SyntheticRecord(d, d.categories[c].code, program, i * 16 + c, true, "2025-04-01");
      }
      for (const auto& c : d.categories) {
        const auto ps = RunChecks(d, c.code, r, {"2025-04-01", "2025-04-01"}, Mode::kSubmit);
        EXPECT_TRUE(ps.empty()) << program << " " << i << " " << c.code << ": " << ps[0].path
                                << " " << ps[0].message_key << "\n"
                                << r[c.code].dump();
        EXPECT_TRUE(Validate(d, c.code, r[c.code], program, Mode::kSubmit, CodeLists()).empty());
      }
    }
  }
}

TEST(CodeListsTest, SearchFindsPrefixesFirstThenCodesContainingTheQuery) {
  CodeLists lists;
  EXPECT_TRUE(lists.Search("icd10", "C", 5).empty());
  lists.Set("icd10", {"A00.1", "C34.1", "C34.9", "D1C3.4", "c34x", "E11.9"});
  EXPECT_EQ(lists.Search("icd10", "c34", 10),
            (std::vector<std::string>{"C34.1", "C34.9", "c34x"}));
  EXPECT_EQ(lists.Search("icd10", "C3", 10),
            (std::vector<std::string>{"C34.1", "C34.9", "c34x", "D1C3.4"}));
  EXPECT_EQ(lists.Search("icd10", "", 2), (std::vector<std::string>{"A00.1", "C34.1"}));
  EXPECT_EQ(lists.Search("icd10", "C3", 1), std::vector<std::string>{"C34.1"});
  EXPECT_TRUE(lists.Search("icd10", "Z", 10).empty());
}

}  // namespace
}  // namespace zengen::clinical
