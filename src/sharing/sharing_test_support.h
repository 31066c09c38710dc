// Fixture shared by sharing_test.cc and sharing_routes_test.cc: a scratch database on one
// backend with an academic and an industry organisation, researchers, committee members, a
// research group, participants with consents and CRAM/VCF/FASTQ data_files rows. Tests only.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "common/audit_event.h"
#include "common/clock.h"
#include "consent/consent.h"
#include "participants/participants.h"
#include "sharing/sharing.h"
#include "storage/store.h"
#include "storage/testing.h"

namespace zengen::sharing::testing {

inline Actor Person(std::string user, std::string org, std::string role) {
  return {std::move(user), std::move(org), {std::move(role)}, "10.0.0.1", "req-1"};
}

inline const Actor kSteward = Person("steward", "dc", "data_steward");
inline const Actor kResearcher = Person("res-a", "univ", "researcher");    // academic
inline const Actor kMember = Person("member", "univ", "researcher");       // in the group
inline const Actor kIndustry = Person("res-i", "pharma", "researcher");    // industry
inline const Actor kHospitalStaff = Person("clin", "hosp-a", "researcher");  // not eligible
inline const Actor kCommittee1 = Person("com-1", "dc", "committee_member");
inline const Actor kCommittee2 = Person("com-2", "dc", "committee_member");
inline const Actor kCommittee3 = Person("com-3", "other-univ", "committee_member");
inline const Actor kCommitteeUniv = Person("com-u", "univ", "committee_member");  // conflicted

inline policy::Subject SubjectOf(const Actor& a) {
  return {.authenticated = true, .id = a.user, .organisation = a.organisation, .roles = a.roles,
          .mfa = true};
}

inline const std::string kSha = std::string(64, 'a');

inline nlohmann::json AgreementJson() { return {{"signed_on", "2026-11-01"}, {"sha256", kSha}}; }
inline nlohmann::json FeeJson() {
  return {{"invoice_no", "INV-1"}, {"amount_jpy", 500000}, {"paid_on", "2026-11-02"}};
}

class SharingFixture : public ::testing::TestWithParam<std::string> {
 protected:
  SharingFixture() : clock_(std::chrono::sys_days{std::chrono::year{2026} / 11 / 24}) {}

  void Exec(storage::Transaction& tx, const std::string& sql,
            std::initializer_list<storage::Value> params) {
    auto r = tx.Exec(sql, params);
    ASSERT_TRUE(r.ok()) << sql << ": " << r.error().message;
  }

  void SetUp() override {
    auto db = storage::ScratchDatabase::Create(GetParam());
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_.emplace(std::move(*db));
    auto store = storage::OpenStore({.location = db_->location(), .pool_size = 4});
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_ = std::move(*store);
    using storage::Text;
    {
      auto tx = store_->Begin(storage::TxMode::kWrite);
      ASSERT_TRUE(tx.ok());
      for (const auto& [id, kind] : std::vector<std::pair<std::string, std::string>>{
               {"hosp-a", "hospital"},    {"seq-1", "sequencing_facility"},
               {"dc", "data_center"},     {"univ", "academic"},
               {"other-univ", "academic"}, {"pharma", "industry"}}) {
        Exec(**tx,
             "INSERT INTO organisations (id, name, kind, jurisdiction, created_at) VALUES ($1, "
             "$1, $2, 'JP', '2026-01-01T00:00:00Z')",
             {Text(id), Text(kind)});
      }
      for (const Actor* a : {&kSteward, &kResearcher, &kMember, &kIndustry, &kHospitalStaff,
                             &kCommittee1, &kCommittee2, &kCommittee3, &kCommitteeUniv}) {
        Exec(**tx,
             "INSERT INTO users (id, organisation_id, display_name, email, password_hash, "
             "created_at) VALUES ($1, $2, $1, 'x@example.invalid', 'x', '2026-01-01T00:00:00Z')",
             {Text(a->user), Text(a->organisation)});
      }
      Exec(**tx,
           "INSERT INTO research_groups (id, name, created_at) VALUES ('grp-1', '肺がん研究班', "
           "'2026-01-01T00:00:00Z')",
           {});
      Exec(**tx, "INSERT INTO research_group_members (group_id, user_id) VALUES ('grp-1', $1)",
           {Text(kMember.user)});
      ASSERT_TRUE((*tx)->Commit().ok());
    }
    ASSERT_TRUE(consent::EnsureDefaultIcf(*store_, clock_).ok());
    registry_ = std::make_unique<participants::Registry>(*store_, clock_, audit_,
                                                         std::string(32, 'k'));
    ledger_ = std::make_unique<consent::Ledger>(*store_, clock_, audit_);
    sharing_ = std::make_unique<Sharing>(*store_, clock_, audit_, *ledger_);
  }

  void TearDown() override {
    sharing_.reset();
    ledger_.reset();
    registry_.reset();
    store_.reset();
  }

  // A participant of `program` whose consent permits everything except the overrides, with a
  // CRAM, a VCF and a FASTQ file. Returns the pseudonym.
  std::string NewParticipant(const std::string& program = "cancer",
                             const std::map<std::string, std::string>& overrides = {}) {
    const std::string local = "MRN-" + std::to_string(++participants_);
    auto r = registry_->Register({"hosp-a", local, program,
                                  program == "cancer" ? "lung" : "rd_epilepsy", "2026-01-10"},
                                 "test", "cli", "");
    EXPECT_TRUE(r.ok()) << r.error().message;
    const std::string pid = r.ok() ? r->participant.id : "";
    consent::ConsentInput in;
    in.kind = "initial";
    in.icf_version = "1.0";
    in.language = "ja";
    in.signed_date = "2026-11-20";
    for (const auto& item : consent::DefaultCatalogue(program)) in.decisions[item.code] = "permit";
    for (const auto& [k, v] : overrides) in.decisions[k] = v;
    in.details = {{"signer", "self"}, {"method", "paper"}};
    if (in.decisions["C11"] == "permit") {
      in.details["designated_relative"] = {{"name", "Hanako"}, {"contact", "+81-3-0000-0000"}};
    }
    auto c = ledger_->Record(pid, in, {"clin", "cli", ""});
    EXPECT_TRUE(c.ok()) << c.error().message;
    AddFiles(pid);
    return pid;
  }

  void AddFiles(const std::string& pid) {
    using storage::Int;
    using storage::Text;
    auto tx = store_->Begin(storage::TxMode::kWrite);
    ASSERT_TRUE(tx.ok());
    const std::string sp = "SP-" + pid;
    Exec(**tx,
         "INSERT INTO specimens (id, participant_id, tumour_normal, specimen_type, preservation, "
         "collection_date, state, holder_id, created_by, created_at) VALUES ($1, $2, 'normal', "
         "'blood', 'EDTA', '2026-01-10', 'analysed', 'hosp-a', 'test', '2026-01-10T00:00:00Z')",
         {Text(sp), Text(pid)});
    for (const std::string kind : {"cram", "vcf", "fastq"}) {
      const std::string fid = "FL-" + kind + "-" + pid;
      const std::string blob = "blob_" + kind + pid;
      Exec(**tx,
           "INSERT INTO blobs (id, kind, tier, media_type, size, stored_sha256, "
           "plaintext_sha256, plaintext_size, replicas, created_at) VALUES ($1, $2, 'hot', "
           "'application/octet-stream', 10, $3, $3, 10, 1, '2026-01-10T00:00:00Z')",
           {Text(blob), Text(kind), Text(kSha)});
      Exec(**tx,
           "INSERT INTO data_files (id, kind, specimen_id, participant_id, run_id, read_number, "
           "file_name, blob_id, index_blob_id, index_kind, uploaded_sha256, uploaded_md5, "
           "uploaded_size, sha256, size, report, derived_from, created_by, created_at) VALUES "
           "($1, $2, $3, $4, NULL, $5, $6, $7, NULL, '', $8, '', 10, $8, 10, '{}', '[]', 'test', "
           "'2026-01-10T00:00:00Z')",
           {Text(fid), Text(kind), Text(sp), Text(pid), Int(kind == "fastq" ? 1 : 0),
            Text(pid + "." + kind), Text(blob), Text(kSha)});
    }
    ASSERT_TRUE((*tx)->Commit().ok());
  }

  static std::string Cram(const std::string& pid) { return "FL-cram-" + pid; }
  static std::string Vcf(const std::string& pid) { return "FL-vcf-" + pid; }
  static std::string Fastq(const std::string& pid) { return "FL-fastq-" + pid; }

  // A dataset of grp-1 holding the participants' CRAM and VCF, released today.
  std::string Dataset(const std::vector<std::string>& pids, const std::string& program = "cancer",
                      int64_t embargo_months = 24) {
    auto d = sharing_->CreateDataset({"肺がんWGS", "Lung cancer WGS", program, "grp-1", "test"},
                                     kSteward);
    EXPECT_TRUE(d.ok()) << d.error().message;
    auto f = sharing_->AddFiles(d->id, {pids, {}, false}, kSteward);
    EXPECT_TRUE(f.ok()) << f.error().message;
    auto r = sharing_->CreateRelease(d->id, {"2026-11-24", embargo_months, ""}, kSteward);
    EXPECT_TRUE(r.ok()) << r.error().message;
    release_ = r.ok() ? r->release.id : "";
    return d->id;
  }

  NewApplication Application(const std::string& dataset) {
    NewApplication a;
    a.title = "肺がんの胚細胞系列バリアント研究";
    a.purpose.primary = "HMB";
    a.datasets = {dataset};
    a.ethics = {{"file_name", "irb.pdf"}, {"sha256", kSha}, {"size", 1234}};
    a.abstract_text = "肺がん患者の胚細胞系列バリアントの頻度を調べる。";
    a.principal_investigator = "大学 医学研究科 研究 太郎";
    a.collaborators = {"大学 情報学研究科 解析 花子"};
    a.data_security_plan = "隔離された学内サーバーのみで扱う。";
    a.start_date = "2026-11-01";
    a.end_date = "2027-10-31";
    return a;
  }

  static nlohmann::json Agreement() { return AgreementJson(); }
  static nlohmann::json Fee() { return FeeJson(); }

  // Creates, submits, gets two approvals and the decision: returns the grant id.
  std::string Approved(const NewApplication& a, const Actor& applicant) {
    auto c = sharing_->CreateApplication(a, applicant);
    EXPECT_TRUE(c.ok()) << c.error().code << " " << c.error().message;
    if (!c.ok()) return "";
    const std::string id = c->application.id;
    auto s = sharing_->Submit(id, applicant);
    EXPECT_TRUE(s.ok()) << s.error().code << " " << s.error().message;
    EXPECT_TRUE(sharing_->Vote(id, "approve", "", kCommittee1).ok());
    EXPECT_TRUE(sharing_->Vote(id, "approve", "", kCommittee2).ok());
    auto d = sharing_->DecideApplication(id, kCommittee1);
    EXPECT_TRUE(d.ok()) << d.error().code << " " << d.error().message;
    return d.ok() && d->grant ? d->grant->id : "";
  }

  void Withdraw(const std::string& pid, const std::string& level = "full") {
    auto r = ledger_->Withdraw(pid, {level, "2026-11-20", "test"}, {"clin", "cli", ""});
    ASSERT_TRUE(r.ok()) << r.error().message;
  }

  FakeClock clock_;
  RecordingAuditSink audit_;
  std::optional<storage::ScratchDatabase> db_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<participants::Registry> registry_;
  std::unique_ptr<consent::Ledger> ledger_;
  std::unique_ptr<Sharing> sharing_;
  std::string release_;
  int participants_ = 0;
};

}  // namespace zengen::sharing::testing
