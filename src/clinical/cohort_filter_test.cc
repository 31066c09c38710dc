// Clinical facts for cohort queries (issue 15): the latest SUBMITTED version counts (a newer
// draft does not), filters match whole stage numerals, and bad filters name their parameter.
#include "clinical/cohort_filter.h"

#include <gtest/gtest.h>

#include "storage/testing.h"

namespace zengen::clinical {
namespace {

using storage::Int;
using storage::Text;

class CohortFilterTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto db = storage::ScratchDatabase::Create(GetParam());
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_.emplace(std::move(*db));
    auto store = storage::OpenStore({.location = db_->location(), .pool_size = 2});
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_ = std::move(*store);
    ASSERT_TRUE(storage::SeedOrganisations(*store_, {{"hosp-a", "hospital"}}).ok());
    for (const char* p : {"P1", "P2", "P3"}) {
      Exec("INSERT INTO participants (id, hospital_id, local_id, program, disease_category, "
           "index_date, created_by, created_at) VALUES ($1, 'hosp-a', $1, 'cancer', 'lung', "
           "'2026-01-01', 't', 't')",
           {Text(p)});
    }
  }
  void Exec(const std::string& sql, std::initializer_list<storage::Value> params) {
    auto tx = store_->Begin(storage::TxMode::kWrite);
    ASSERT_TRUE(tx.ok());
    auto r = (*tx)->Exec(sql, params);
    ASSERT_TRUE(r.ok()) << r.error().message;
    ASSERT_TRUE((*tx)->Commit().ok());
  }
  void Record(const std::string& p, const std::string& category, int version,
              const std::string& status, const std::string& data) {
    Exec("INSERT INTO clinical_records (participant_id, category, version, status, "
         "dictionary_version, data, changed_by, changed_at, reason) VALUES ($1, $2, $3, $4, "
         "'1', $5, 't', 't', '')",
         {Text(p), Text(category), Int(version), Text(status), Text(data)});
  }
  std::optional<storage::ScratchDatabase> db_;
  std::unique_ptr<storage::Store> store_;
};

TEST_P(CohortFilterTest, SummariesReadTheLatestSubmittedVersion) {
  Record("P1", "case_basics", 1, "submitted", R"({"sex":"female","age_at_enrolment":54})");
  Record("P1", "case_basics", 2, "draft", R"({"sex":"male","age_at_enrolment":80})");
  Record("P1", "diagnosis", 1, "submitted", R"({"icd10":"C34.1","stage_group":"IIIA"})");
  Record("P1", "course", 1, "submitted",
         R"({"vital_status":"dead","death_day":400,"last_contact_day":390,"progression_day":200})");
  Record("P2", "case_basics", 1, "submitted", R"({"sex":"male","age_at_enrolment":90})");
  Record("P2", "diagnosis", 1, "submitted", R"({"icd10":"C18.7","stage_group":"IV"})");
  Record("P2", "course", 1, "submitted", R"({"vital_status":"alive","last_contact_day":700})");
  auto s = Summaries(*store_, {"P1", "P2", "P3"});
  ASSERT_TRUE(s.ok()) << s.error().message;
  ASSERT_EQ(s->size(), 3u);
  const ClinicalSummary& p1 = (*s)[0];
  EXPECT_EQ(p1.sex, "female");
  EXPECT_EQ(p1.age_at_enrolment, 54);
  EXPECT_EQ(p1.stage_group, "IIIA");
  EXPECT_TRUE(p1.death_event);
  EXPECT_EQ(p1.survival_days, 400);
  EXPECT_EQ(p1.progression_day, 200);
  EXPECT_FALSE((*s)[1].death_event);
  EXPECT_EQ((*s)[1].survival_days, 700);
  EXPECT_TRUE((*s)[2].sex.empty()) << "no submitted record: only the id";

  auto f = [](std::map<std::string, std::string> q) { return *ParseCohortFilter(q); };
  EXPECT_TRUE(Matches(p1, f({{"diagnosis", "C34"}, {"stage", "III"}, {"sex", "female"},
                             {"age_band", "50-59"}})));
  EXPECT_FALSE(Matches(p1, f({{"stage", "I"}})));  // I is not a prefix of III
  EXPECT_FALSE(Matches(p1, f({{"stage", "II"}})));
  EXPECT_FALSE(Matches(p1, f({{"age_band", "60-69"}})));
  EXPECT_TRUE(Matches((*s)[1], f({{"age_band", "90-"}, {"stage", "IV"}})));
  EXPECT_FALSE(Matches((*s)[2], f({{"sex", "male"}})));
  EXPECT_TRUE(Matches((*s)[2], f({})));
}

INSTANTIATE_TEST_SUITE_P(Backends, CohortFilterTest, ::testing::ValuesIn(storage::TestBackends()));

TEST(CohortFilterParseTest, BadFiltersNameTheirParameter) {
  EXPECT_EQ(ParseCohortFilter({{"sex", "x"}}).error().field, "sex");
  EXPECT_EQ(ParseCohortFilter({{"age_band", "old"}}).error().field, "age_band");
  EXPECT_EQ(ParseCohortFilter({{"age_band", "60-50"}}).error().field, "age_band");
  EXPECT_EQ(ParseCohortFilter({{"stage", "III A"}}).error().field, "stage");
  EXPECT_EQ(ParseCohortFilter({{"diagnosis", "C34;--"}}).error().field, "diagnosis");
  EXPECT_TRUE(ParseCohortFilter({{"diagnosis", "C34.1"}, {"age_band", "0-9"}}).ok());
}

}  // namespace
}  // namespace zengen::clinical
