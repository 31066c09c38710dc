// The registry's answers for other modules (catalogue.h) agree with what was recorded: by id
// (unknown ids left out, duplicates once), by participant and by kind, in the promised order,
// each with the participant's hospital.
#include "genomefiles/catalogue.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <utility>

#include "common/audit_event.h"
#include "common/clock.h"
#include "genomefiles/files.h"
#include "participants/participants.h"
#include "specimens/specimens.h"
#include "storage/testing.h"

namespace zengen::genomefiles {
namespace {

const specimens::Actor kClin{"clin-a", "hosp-a", {"clinician"}, "10.0.0.1", "req-1"};

class CatalogueTest : public ::testing::TestWithParam<std::string> {
 protected:
  CatalogueTest() : clock_(std::chrono::sys_days{std::chrono::year{2026} / 12 / 7}) {}

  void SetUp() override {
    auto db = storage::ScratchDatabase::Create(GetParam());
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_.emplace(std::move(*db));
    auto store = storage::OpenStore({.location = db_->location(), .pool_size = 2});
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_ = std::move(*store);
    ASSERT_TRUE(storage::SeedOrganisations(*store_, {{"hosp-a", "hospital"}}).ok());
    participants::Registry registry(*store_, clock_, audit_, std::string(32, 'k'));
    specimens::Specimens specimens(*store_, clock_, audit_);
    for (const char* mrn : {"MRN-1", "MRN-2"}) {
      auto p = registry.Register({"hosp-a", mrn, "cancer", "lung", "2026-06-01"}, "clin-a", "cli",
                                 "");
      ASSERT_TRUE(p.ok()) << p.error().message;
      auto s = specimens.Register(
          {p->participant.id, "tumour", "solid_tissue", "FFPE", "2026-06-02", ""}, kClin);
      ASSERT_TRUE(s.ok()) << s.error().message;
      participants_.push_back(p->participant.id);
      specimens_.push_back(s->id);
    }
  }

  // Records a file of participant i as a producer would, its blob row standing in.
  std::string Record(size_t i, const std::string& kind, int64_t size) {
    DataFile f;
    f.id = NewFileId();
    f.kind = kind;
    f.specimen_id = specimens_[i];
    f.participant_id = participants_[i];
    f.file_name = "G." + kind;
    f.blob_id = "BL-" + f.id;
    f.index_kind = "";
    f.uploaded_sha256 = std::string(64, 'a');
    f.sha256 = std::string(64, 'b');
    f.size = size;
    f.report = nlohmann::json::object();
    f.created_by = "an-1";
    f.created_at = "2026-12-07T00:00:00Z";
    auto tx = store_->Begin(storage::TxMode::kWrite);
    EXPECT_TRUE(tx.ok());
    EXPECT_TRUE((*tx)->Exec("INSERT INTO blobs (id, kind, tier, media_type, size, stored_sha256, "
                            "plaintext_sha256, plaintext_size, replicas, created_at) VALUES ($1, "
                            "'other', 'hot', 'x', 1, 'a', 'a', 1, 2, 't')",
                            {storage::Text(f.blob_id)})
                    .ok());
    EXPECT_TRUE(Files::Record(**tx, f).ok());
    EXPECT_TRUE((*tx)->Commit().ok());
    return f.id;
  }

  static std::vector<std::string> Ids(const std::vector<CatalogueEntry>& entries) {
    std::vector<std::string> out;
    for (const auto& e : entries) out.push_back(e.id);
    return out;
  }

  FakeClock clock_;
  RecordingAuditSink audit_;
  std::optional<storage::ScratchDatabase> db_;
  std::unique_ptr<storage::Store> store_;
  std::vector<std::string> participants_, specimens_;
};

TEST_P(CatalogueTest, AnswersWhatWasRecorded) {
  const std::string a = Record(0, "cram", 10), b = Record(0, "vcf", 20), c = Record(1, "vcf", 30),
                    d = Record(1, "fastq", 40);
  auto tx = store_->Begin(storage::TxMode::kRead);
  ASSERT_TRUE(tx.ok());

  const std::vector<std::string> ask = {c, "FL-NONE", a, c};
  auto by_id = CatalogueEntries(**tx, ask);
  ASSERT_TRUE(by_id.ok()) << by_id.error().message;
  std::vector<std::string> want = {a, c};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(Ids(*by_id), want);
  for (const auto& e : *by_id) {
    EXPECT_EQ(e.hospital, "hosp-a");
    EXPECT_EQ(e.sha256, std::string(64, 'b'));
    EXPECT_EQ(e.participant_id, e.id == a ? participants_[0] : participants_[1]);
    EXPECT_EQ(e.size, e.id == a ? 10 : 30);
    EXPECT_EQ(e.kind, e.id == a ? "cram" : "vcf");
    EXPECT_EQ(e.file_name, e.id == a ? "G.cram" : "G.vcf");
  }
  EXPECT_TRUE(CatalogueEntries(**tx, std::vector<std::string>{})->empty());

  auto mine = CatalogueOfParticipant(**tx, participants_[0]);
  ASSERT_TRUE(mine.ok());
  want = {a, b};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(Ids(*mine), want);
  EXPECT_TRUE(CatalogueOfParticipant(**tx, "ZG-NOBODY")->empty());

  const std::vector<std::string> kinds = {"vcf", "fastq"};
  auto of_kinds = CatalogueOfKinds(**tx, kinds);
  ASSERT_TRUE(of_kinds.ok());
  // Ordered by participant, then id.
  std::vector<std::pair<std::string, std::string>> expected = {
      {participants_[0], b}, {participants_[1], c}, {participants_[1], d}};
  std::sort(expected.begin(), expected.end());
  std::vector<std::pair<std::string, std::string>> got;
  for (const auto& e : *of_kinds) got.emplace_back(e.participant_id, e.id);
  EXPECT_EQ(got, expected);
}

TEST_P(CatalogueTest, ManyIdsAreAnsweredInBatches) {
  // More ids than one statement carries: every registered one comes back once.
  std::vector<std::string> ask;
  const std::string a = Record(0, "cram", 1);
  for (int i = 0; i < 1200; ++i) ask.push_back("FL-MISSING-" + std::to_string(i));
  ask.push_back(a);
  auto tx = store_->Begin(storage::TxMode::kRead);
  ASSERT_TRUE(tx.ok());
  auto got = CatalogueEntries(**tx, ask);
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(Ids(*got), std::vector<std::string>{a});
}

INSTANTIATE_TEST_SUITE_P(Backends, CatalogueTest, ::testing::ValuesIn(storage::TestBackends()));

}  // namespace
}  // namespace zengen::genomefiles
