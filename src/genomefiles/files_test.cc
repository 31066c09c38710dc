// The registry of stored genome files on its own: what Record writes is what the readers
// return, samples keep their column order, and the policy resource names the participant's
// hospital and the specimen's current holder.
#include "genomefiles/files.h"

#include <gtest/gtest.h>

#include <optional>

#include "common/audit_event.h"
#include "common/clock.h"
#include "participants/participants.h"
#include "specimens/specimens.h"
#include "storage/testing.h"

namespace zengen::genomefiles {
namespace {

const specimens::Actor kClin{"clin-a", "hosp-a", {"clinician"}, "10.0.0.1", "req-1"};
const specimens::Actor kOp1{"op-1", "seq-1", {"sequencing_operator"}, "10.0.0.1", "req-1"};

class FilesTest : public ::testing::TestWithParam<std::string> {
 protected:
  FilesTest() : clock_(std::chrono::sys_days{std::chrono::year{2026} / 12 / 7}) {}

  void SetUp() override {
    auto db = storage::ScratchDatabase::Create(GetParam());
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_.emplace(std::move(*db));
    auto store = storage::OpenStore({.location = db_->location(), .pool_size = 2});
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_ = std::move(*store);
    ASSERT_TRUE(storage::SeedOrganisations(
                    *store_, {{"hosp-a", "hospital"}, {"seq-1", "sequencing_facility"}})
                    .ok());
    participants::Registry registry(*store_, clock_, audit_, std::string(32, 'k'));
    for (const char* mrn : {"MRN-1", "MRN-2"}) {
      auto p = registry.Register({"hosp-a", mrn, "cancer", "lung", "2026-06-01"}, "clin-a", "cli",
                                 "");
      ASSERT_TRUE(p.ok()) << p.error().message;
      participants_.push_back(p->participant.id);
    }
    specimens_ = std::make_unique<specimens::Specimens>(*store_, clock_, audit_);
    auto s = specimens_->Register(
        {participants_[0], "tumour", "solid_tissue", "FFPE", "2026-06-02", ""}, kClin);
    ASSERT_TRUE(s.ok()) << s.error().message;
    specimen_ = s->id;
    files_ = std::make_unique<Files>(*store_, *specimens_, UploadKeys{"secret", "public"});
  }

  DataFile File(std::string kind) {
    DataFile f;
    f.id = NewFileId();
    f.kind = std::move(kind);
    f.specimen_id = specimen_;
    f.participant_id = participants_[0];
    f.file_name = "G1." + f.kind;
    f.blob_id = "BL-" + f.id;
    f.index_blob_id = f.kind == "fastq" ? "" : "BL-I-" + f.id;
    f.index_kind = f.kind == "fastq" ? "" : "csi";
    f.uploaded_sha256 = std::string(64, 'a');
    f.uploaded_size = 10;
    f.sha256 = std::string(64, 'b');
    f.size = 12;
    f.report = nlohmann::json{{"samples", nlohmann::json::array()}};
    f.created_by = "an-1";
    f.created_at = "2026-12-07T00:00:00Z";
    return f;
  }

  // Records f as a producer would, its blob rows standing in for stored blobs.
  Status Record(const DataFile& f, const std::vector<FileSample>& samples = {}) {
    ZG_ASSIGN_OR_RETURN(auto tx, store_->Begin(storage::TxMode::kWrite));
    for (const std::string& id : {f.blob_id, f.index_blob_id}) {
      if (id.empty()) continue;
      ZG_RETURN_IF_ERROR(tx->Exec(
          "INSERT INTO blobs (id, kind, tier, media_type, size, stored_sha256, plaintext_sha256, "
          "plaintext_size, replicas, created_at) SELECT $1, 'other', 'hot', 'x', 1, 'a', 'a', 1, "
          "2, 't' WHERE NOT EXISTS (SELECT 1 FROM blobs WHERE id = $1)",
          {storage::Text(id)}));
    }
    ZG_RETURN_IF_ERROR(Files::Record(*tx, f, samples));
    return tx->Commit();
  }

  FakeClock clock_;
  RecordingAuditSink audit_;
  std::optional<storage::ScratchDatabase> db_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<specimens::Specimens> specimens_;
  std::unique_ptr<Files> files_;
  std::vector<std::string> participants_;
  std::string specimen_;
};

TEST_P(FilesTest, WhatIsRecordedIsWhatIsReadBack) {
  DataFile joint = File("bcf");
  joint.derived_from = {"FL-0000000000000001"};
  joint.report = nlohmann::json{{"samples", {participants_[1], participants_[0]}}};
  const auto samples = SamplesOf(joint.report, /*sample_mapped=*/true, participants_[0]);
  ASSERT_TRUE(Record(joint, samples).ok());
  auto back = files_->GetFile(joint.id);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(DataFileJson(*back), DataFileJson([&] {
              DataFile expected = joint;
              expected.hospital = "hosp-a";  // joined from the participant
              return expected;
            }()));
  // Column order kept; each sample is its own participant's.
  auto got = files_->FileSamples(joint.id);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ((*got)[0].sample, participants_[1]);
  EXPECT_EQ((*got)[0].participant_id, participants_[1]);
  EXPECT_EQ((*got)[1].participant_id, participants_[0]);
  // A single-sample file's sample is the specimen's participant, whatever it is called.
  const auto single = SamplesOf(nlohmann::json{{"samples", {"ZG-PSEUDO"}}}, false, "P-1");
  ASSERT_EQ(single.size(), 1u);
  EXPECT_EQ(single[0].sample, "ZG-PSEUDO");
  EXPECT_EQ(single[0].participant_id, "P-1");

  DataFile other = File("vcf");
  ASSERT_TRUE(Record(other).ok());
  auto listed = files_->ListFiles(participants_[0]);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 2u);
  EXPECT_TRUE(files_->ListFiles(participants_[1])->empty());
  EXPECT_TRUE(files_->FileSamples(other.id)->empty());
  // A second row with the same id is refused, and nothing of it stays.
  EXPECT_FALSE(Record(other).ok());
  EXPECT_EQ(files_->ListFiles(participants_[0])->size(), 2u);

  auto missing = files_->GetFile("FL-NONE");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, "file_not_found");
}

TEST_P(FilesTest, RunFilesAndMateReportsComeByReadNumber) {
  {
    auto tx = store_->Begin(storage::TxMode::kWrite);
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE((*tx)->Exec("INSERT INTO sequencing_runs (id, specimen_id, organisation, "
                            "instrument_model, flowcell, library, layout, status, "
                            "non_standard_instrument, created_by, created_at) VALUES ('RUN-1', "
                            "$1, 'seq-1', 'NovaSeq 6000', 'F', 'L', 'paired', 'open', 0, 'op-1', "
                            "'t')",
                            {storage::Text(specimen_)})
                    .ok());
    ASSERT_TRUE((*tx)->Commit().ok());
  }
  for (int read : {2, 1}) {
    DataFile f = File("fastq");
    f.run_id = "RUN-1";
    f.read = read;
    f.report = nlohmann::json{{"reads", 100 * read}};
    ASSERT_TRUE(Record(f).ok());
  }
  auto run = files_->ListRunFiles("RUN-1");
  ASSERT_TRUE(run.ok());
  ASSERT_EQ(run->size(), 2u);
  EXPECT_EQ((*run)[0].read, 1);
  EXPECT_EQ((*run)[1].read, 2);
  auto mates = files_->MateReports("RUN-1", 1);
  ASSERT_TRUE(mates.ok());
  ASSERT_EQ(mates->size(), 1u);
  EXPECT_EQ((*mates)[0]["reads"], 200);
  auto tx = store_->Begin(storage::TxMode::kRead);
  ASSERT_TRUE(tx.ok());
  EXPECT_EQ(*Files::RunReadFile(**tx, "RUN-1", 2), (*run)[1].id);
  EXPECT_EQ(*Files::RunReadFile(**tx, "RUN-1", 3), "");
}

TEST_P(FilesTest, TheResourceNamesTheHospitalAndTheCurrentHolder) {
  const DataFile f = File("cram");
  ASSERT_TRUE(Record(f).ok());
  auto before = files_->FileResource(f.id);
  ASSERT_TRUE(before.ok()) << before.error().message;
  EXPECT_EQ(before->kind, "file");
  EXPECT_EQ(before->id, f.id);
  EXPECT_EQ(before->organisation, "hosp-a");
  EXPECT_EQ(before->holder, "hosp-a");
  ASSERT_TRUE(specimens_->Custody(specimen_, {"shipped", "", "seq-1"}, kClin).ok());
  ASSERT_TRUE(specimens_->Custody(specimen_, {"received", "", ""}, kOp1).ok());
  auto after = files_->FileResource(f.id);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->organisation, "hosp-a");
  EXPECT_EQ(after->holder, "seq-1");
  EXPECT_EQ(files_->FileResource("FL-NONE").error().code, "file_not_found");
}

INSTANTIATE_TEST_SUITE_P(Backends, FilesTest, ::testing::ValuesIn(storage::TestBackends()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace zengen::genomefiles
