// Submitted clinical values for other modules: the latest SUBMITTED version of each category
// answers (a newer draft never does), and a missing category, code or non-string value is
// nullopt.
#include "clinical/submitted_values.h"

#include <gtest/gtest.h>

#include <optional>

#include "storage/testing.h"

namespace zengen::clinical {
namespace {

class SubmittedValuesTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto db = storage::ScratchDatabase::Create(GetParam());
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_.emplace(std::move(*db));
    auto store = storage::OpenStore({.location = db_->location()});
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_ = std::move(*store);
    ASSERT_TRUE(storage::SeedOrganisations(*store_, {{"h1", "hospital"}}).ok());
    auto tx = store_->Begin(storage::TxMode::kWrite);
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE((*tx)->Exec("INSERT INTO participants (id, hospital_id, local_id, program, "
                            "disease_category, index_date, created_by, created_at) VALUES ('P1', "
                            "'h1', 'm1', 'cancer', 'lung', '2025-04-01', 't', 't')")
                    .ok());
    ASSERT_TRUE((*tx)->Commit().ok());
  }

  void Version(const std::string& category, int version, const std::string& status,
               const std::string& data) {
    auto tx = store_->Begin(storage::TxMode::kWrite);
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE((*tx)->Exec("INSERT INTO clinical_records (participant_id, category, version, "
                            "status, dictionary_version, data, changed_by, changed_at, reason) "
                            "VALUES ('P1', $1, $2, $3, '1', $4, 't', 't', '')",
                            {storage::Text(category), storage::Int(version),
                             storage::Text(status), storage::Text(data)})
                    .ok());
    ASSERT_TRUE((*tx)->Commit().ok());
  }

  std::vector<std::optional<std::string>> Values(const std::vector<FieldRef>& fields) {
    auto tx = store_->Begin(storage::TxMode::kRead);
    EXPECT_TRUE(tx.ok());
    auto got = LatestSubmittedValues(**tx, "P1", fields);
    EXPECT_TRUE(got.ok()) << got.error().message;
    return got.ok() ? *got : std::vector<std::optional<std::string>>{};
  }

  std::optional<storage::ScratchDatabase> db_;
  std::unique_ptr<storage::Store> store_;
};

TEST_P(SubmittedValuesTest, TheLatestSubmittedVersionAnswers) {
  const std::vector<FieldRef> fields = {{"diagnosis", "stage_group"},
                                        {"case_basics", "sex"},
                                        {"diagnosis", "icd10"},
                                        {"diagnosis", "laterality"}};
  using V = std::vector<std::optional<std::string>>;
  EXPECT_EQ(Values(fields), (V{std::nullopt, std::nullopt, std::nullopt, std::nullopt}));
  EXPECT_TRUE(Values({}).empty());
  Version("diagnosis", 1, "submitted", R"({"stage_group":"II","icd10":"C34.1","laterality":3})");
  Version("diagnosis", 2, "submitted", R"({"stage_group":"IIIA","icd10":"C34.1","laterality":4})");
  Version("diagnosis", 3, "draft", R"({"stage_group":"IV","icd10":"C50"})");  // not submitted
  Version("case_basics", 1, "draft", R"({"sex":"female"})");
  EXPECT_EQ(Values(fields), (V{"IIIA", std::nullopt, "C34.1", std::nullopt}));
  Version("case_basics", 2, "submitted", "not json");
  EXPECT_EQ(Values(fields), (V{"IIIA", std::nullopt, "C34.1", std::nullopt}));
  Version("case_basics", 3, "submitted", R"({"sex":"male"})");
  EXPECT_EQ(Values(fields), (V{"IIIA", "male", "C34.1", std::nullopt}));
}

INSTANTIATE_TEST_SUITE_P(Backends, SubmittedValuesTest,
                         ::testing::ValuesIn(storage::TestBackends()));

}  // namespace
}  // namespace zengen::clinical
