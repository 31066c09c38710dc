// Issue 15, consent purpose: over HTTPS on both metadata backends, a participant whose consent
// does not cover a grant's purpose is absent from that grant holder's very next cohort counts,
// carriers, export and Beacon records, and present for a holder whose grant's purpose the same
// consent covers. Three rare-disease participants, each with a registered single-sample BCF in
// one released dataset; one of them refused industry use (ICF item C05, DUO NCU). Two
// researchers of one university hold grants on the dataset: one for commercial health research,
// one for non-commercial health research.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "crypto/crypto.h"
#include "storage/store.h"
#include "support/browser.h"
#include "support/genomics.h"

namespace zengen::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
constexpr const char* kPassword = "cohort-purpose-passphrase-2026";

std::string Today() {
  const auto d = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
  const std::chrono::year_month_day ymd{d};
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
}

std::string InAYear() {
  const auto d = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now()) +
                 std::chrono::days(365);
  const std::chrono::year_month_day ymd{d};
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
}

class CohortPurposeTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    // The ingest job every second: the registered files join the cohort by themselves.
    server_ = ZengenServer::Start(GetParam(), {"variants_auto_ingest_seconds = 1"});
    ASSERT_NE(server_, nullptr);
    for (const auto& [id, kind] : std::vector<std::pair<std::string, std::string>>{
             {"hosp-a", "hospital"}, {"seq-1", "sequencing_facility"},
             {"ana-1", "analysis_center"}, {"univ", "academic"}, {"dc", "data_center"}}) {
      ASSERT_EQ(AsOperator(*server_, "POST", "/api/v1/admin/organisations",
                           {{"id", id}, {"name", id}, {"kind", kind}, {"jurisdiction", "JP"}})
                    ->status,
                201);
    }
    ASSERT_EQ(AsOperator(*server_, "POST", "/api/v1/admin/groups",
                         {{"id", "grp-rd"}, {"name", "Rare disease group"}})->status, 201);
    auto u = AsOperator(*server_, "POST", "/api/v1/admin/users",
                        {{"id", "dr-a"}, {"organisation", "hosp-a"}, {"display_name", "dr-a"},
                         {"email", "dr-a@example.org"}, {"roles", {"clinician"}},
                         {"password", kPassword}});
    ASSERT_EQ(u->status, 201) << u->body;
    clinician_.server = server_.get();
    ASSERT_FALSE(clinician_.LoginAndEnrol("dr-a", kPassword).empty());
    seq_token_ = Token("seq-1", "sequencing_operator",
                       {"specimen.custody", "run.write", "upload.write"});
    ana_token_ = Token("ana-1", "analyst", {"specimen.custody", "upload.write"});
    work_ = fs::temp_directory_path() / ("zg-purpose-" + crypto::ToHex(crypto::RandomBytes(6)));
    fs::create_directories(work_);
  }

  void TearDown() override {
    std::error_code ec;
    fs::remove_all(work_, ec);
  }

  std::string Token(const std::string& org, const std::string& role,
                    const std::vector<std::string>& actions) {
    auto t = AsOperator(*server_, "POST", "/api/v1/admin/tokens",
                        {{"name", org + "-" + role}, {"organisation", org}, {"role", role},
                         {"actions", actions}, {"days", 7}});
    EXPECT_EQ(t->status, 201) << t->body;
    return t->Json()["token"];
  }

  std::optional<HttpResponse> Call(const std::string& token, const std::string& method,
                                   const std::string& path, const json& body = nullptr) {
    std::map<std::string, std::string> h = {{"Authorization", "Bearer " + token}};
    if (!body.is_null()) h["Content-Type"] = "application/json";
    return server_->Request(method, path, h, body.is_null() ? "" : body.dump());
  }

  json Upload(const std::string& token, json spec, const std::string& bytes) {
    spec["size"] = bytes.size();
    spec["sha256"] = crypto::Sha256Hex(bytes);
    spec["chunk_size"] = 8 << 20;
    auto u = Call(token, "POST", "/api/v1/uploads", spec);
    EXPECT_EQ(u->status, 201) << u->body;
    const std::string id = u->Json()["id"];
    auto r = server_->Request("PUT", fmt::format("/api/v1/uploads/{}/chunks/0", id),
                              {{"Authorization", "Bearer " + token},
                               {"Content-Type", "application/octet-stream"}},
                              bytes);
    EXPECT_EQ(r->status, 204) << r->body;
    auto c = Call(token, "POST", "/api/v1/uploads/" + id + "/complete");
    EXPECT_EQ(c->status, 200) << c->body;
    return c->Json();
  }

  // A rare-disease participant with consent (industry use refused when `ncu`), sequenced and
  // analysed, with a single-sample BCF of the given records ("POS REF ALT GT" on contig 20).
  // Returns the participant id and the BCF's file id.
  std::pair<std::string, std::string> Participant(const std::string& local_id, bool ncu,
                                                  const std::vector<std::string>& records) {
    auto p = clinician_.Send("POST", "/api/v1/participants",
                             {{"local_id", local_id}, {"program", "rare_disease"},
                              {"disease_category", "neuro"}, {"index_date", "2026-03-02"}});
    EXPECT_TRUE(p && p->status == 201) << (p ? p->body : "");
    const std::string pid = p->Json()["participant"]["id"];
    auto icf = clinician_.Send("GET", "/api/v1/icf/rare_disease/1.0/ja");
    EXPECT_EQ(icf->status, 200) << icf->body;
    json decisions = json::object();
    const json items = icf->Json()["items"];
    for (const auto& item : items) decisions[item["code"].get<std::string>()] = "permit";
    decisions["C11"] = "deny";
    if (ncu) decisions["C05"] = "deny";  // use by industry, incl. drug development (DUO NCU)
    auto consent = clinician_.Send("POST", "/api/v1/participants/" + pid + "/consents",
                                   {{"kind", "initial"}, {"icf_version", "1.0"}, {"language", "ja"},
                                    {"decisions", decisions}, {"signed_date", "2026-03-02"},
                                    {"details", {{"signer", "self"}, {"method", "paper"}}}});
    EXPECT_EQ(consent->status, 201) << consent->body;
    auto sp = clinician_.Send("POST", "/api/v1/participants/" + pid + "/specimens",
                              {{"tumour_normal", "normal"}, {"specimen_type", "blood"},
                               {"preservation", "EDTA"}, {"collection_date", "2026-03-02"}});
    EXPECT_EQ(sp->status, 201) << sp->body;
    const std::string specimen = sp->Json()["id"];
    const std::string custody = "/api/v1/specimens/" + specimen + "/custody";
    EXPECT_EQ(clinician_.Send("POST", custody, {{"to", "shipped"}, {"destination", "seq-1"}})->status,
              200);
    for (const char* to : {"received", "library_prepared"}) {
      EXPECT_EQ(Call(seq_token_, "POST", custody, json{{"to", to}})->status, 200) << to;
    }
    auto run = Call(seq_token_, "POST", "/api/v1/runs",
                    {{"specimen_id", specimen}, {"instrument_model", "NovaSeq X"},
                     {"flowcell", "HFC" + local_id}, {"library", "L1"}, {"layout", "single"}});
    EXPECT_EQ(run->status, 201) << run->body;
    const json fq = Upload(seq_token_, {{"kind", "fastq"}, {"run_id", run->Json()["id"]},
                                        {"read", 1}, {"file_name", "R1.fastq.gz"}},
                           Gzip(Fastq(1500, 1)));
    EXPECT_EQ(AsOperator(*server_, "POST", "/api/v1/analysis-orders",
                         {{"specimen_id", specimen}, {"centre", "ana-1"}})->status, 201);
    EXPECT_EQ(Call(ana_token_, "POST", custody, json{{"to", "analysed"}})->status, 200);

    const fs::path vcf = work_ / (local_id + ".vcf");
    {
      std::ofstream out(vcf);
      out << "##fileformat=VCFv4.2\n##contig=<ID=20,length=64444167>\n"
             "##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">\n"
             "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t"
          << local_id << "\n";
      for (const auto& r : records) {
        std::istringstream in(r);
        std::string pos, ref, alt, gt;
        in >> pos >> ref >> alt >> gt;
        out << fmt::format("20\t{}\t.\t{}\t{}\t50\tPASS\t.\tGT\t{}\n", pos, ref, alt, gt);
      }
    }
    const fs::path bcf = work_ / (local_id + ".bcf");
    auto conv = RunCommand({"/usr/bin/bcftools", "view", "-Ob", "-o", bcf.string(), vcf.string()});
    EXPECT_EQ(conv.exit_code, 0) << conv.output;
    const json file = Upload(ana_token_, {{"kind", "bcf"}, {"specimen_id", specimen},
                                          {"derived_from", {fq["file"]["id"]}},
                                          {"file_name", local_id + ".bcf"}},
                             ReadFileBytes(bcf.string()));
    return {pid, file["file"]["id"]};
  }

  // A researcher of univ (a person with TOTP) holding an approved grant on `dataset` for
  // health research, commercial or not.
  Browser Researcher(const std::string& id, const std::string& dataset, bool commercial) {
    auto ru = AsOperator(*server_, "POST", "/api/v1/admin/users",
                         {{"id", id}, {"organisation", "univ"}, {"display_name", id},
                          {"email", id + "@example.org"}, {"roles", {"researcher"}},
                          {"password", kPassword}});
    EXPECT_EQ(ru->status, 201) << ru->body;
    Browser person{server_.get()};
    EXPECT_FALSE(person.LoginAndEnrol(id, kPassword).empty());
    Apply(person, dataset, commercial);
    return person;
  }

  // An approved grant for `person` on `dataset` for health research, commercial or not;
  // returns its id.
  std::string Apply(Browser& person, const std::string& dataset, bool commercial) {
    auto app = person.Send(
        "POST", "/api/v1/applications",
        {{"title", "希少疾患の遺伝要因"},
         {"purpose", {{"primary", "HMB"}, {"commercial", commercial}}},
         {"datasets", {dataset}},
         {"ethics", {{"file_name", "irb.pdf"}, {"sha256", std::string(64, 'e')}, {"size", 10}}},
         {"abstract", "a"}, {"principal_investigator", "p"}, {"data_security_plan", "s"},
         {"start_date", Today()}, {"end_date", InAYear()}});
    EXPECT_EQ(app->status, 201) << app->body;
    const std::string aid = app->Json()["id"];
    EXPECT_EQ(person.Send("POST", "/api/v1/applications/" + aid + "/submit")->status, 200);
    for (const auto& member : committee_) {
      auto v = Call(member, "POST", "/api/v1/applications/" + aid + "/votes", {{"vote", "approve"}});
      EXPECT_EQ(v->status, 201) << v->body;
    }
    auto decided = Call(committee_[0], "POST", "/api/v1/applications/" + aid + "/decision");
    EXPECT_EQ(decided->status, 200) << decided->body;
    EXPECT_EQ(decided->Json()["grant"]["purpose"]["commercial"], commercial) << decided->body;
    return decided->Json()["grant"]["id"].is_string() ? decided->Json()["grant"]["id"].get<std::string>()
                                                      : std::string();
  }

  std::string Dataset(const std::string& steward, const std::string& name,
                      const std::vector<std::string>& participants) {
    auto ds = Call(steward, "POST", "/api/v1/datasets",
                   {{"name_ja", name}, {"name_en", name}, {"program", "rare_disease"},
                    {"group_id", "grp-rd"}});
    EXPECT_EQ(ds->status, 201) << ds->body;
    const std::string dataset = ds->Json()["id"];
    auto added = Call(steward, "POST", "/api/v1/datasets/" + dataset + "/files",
                      {{"participant_ids", participants}});
    EXPECT_EQ(added->status, 200) << added->body;
    auto rel = Call(steward, "POST", "/api/v1/datasets/" + dataset + "/releases",
                    {{"release_date", Today()}, {"embargo_months", 0}});
    EXPECT_EQ(rel->status, 201) << rel->body;
    return dataset;
  }

  // Waits (bounded) until the ingest job has taken `n` files.
  void AwaitIngest(const std::string& steward, size_t n) {
    json jobs;
    for (int i = 0; i < 240; ++i) {
      auto q = Call(steward, "GET", "/api/v1/variants/ingest-queue?state=done");
      ASSERT_EQ(q->status, 200) << q->body;
      jobs = q->Json()["jobs"];
      if (jobs.size() == n) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    FAIL() << jobs.dump();
  }

  std::vector<std::string> AuditReasons(const std::string& action) {
    auto store = storage::OpenStore({.location = server_->DatabaseLocation(), .migrate = false});
    EXPECT_TRUE(store.ok());
    if (!store.ok()) return {};
    auto tx = (*store)->Begin(storage::TxMode::kRead);
    auto rows = (*tx)->Query("SELECT reason FROM audit_log WHERE action = $1 ORDER BY seq",
                             {storage::Text(action)});
    EXPECT_TRUE(rows.ok());
    std::vector<std::string> out;
    for (const auto& r : rows->rows) out.push_back(r.Text(0));
    return out;
  }

  std::unique_ptr<ZengenServer> server_;
  Browser clinician_{nullptr};
  std::string seq_token_, ana_token_;
  std::vector<std::string> committee_;
  fs::path work_;
};

TEST_P(CohortPurposeTest, AParticipantWhoseConsentExcludesTheGrantsPurposeIsAbsentFromItsAnswers) {
  // 20:1000 C>T: every participant het; 20:2000 G>A: only the participant who refused
  // industry use, hom.
  const auto [p1, f1] = Participant("MRN-1", false, {"1000 C T 0/1", "3000 A G 0/1"});
  const auto [p2, f2] = Participant("MRN-2", false, {"1000 C T 0/1"});
  const auto [ncu, f3] = Participant("MRN-3", true, {"1000 C T 0/1", "2000 G A 1/1"});
  const std::string steward =
      Token("dc", "data_steward", {"variants.ingest", "variants.read", "dataset.write"});
  // Automatic ingest at registration: the job picks the three files up without a request.
  // (A bounded wait for a background job, not a timing assertion.)
  json jobs;
  for (int i = 0; i < 240; ++i) {
    auto q = Call(steward, "GET", "/api/v1/variants/ingest-queue?state=done");
    ASSERT_EQ(q->status, 200) << q->body;
    jobs = q->Json()["jobs"];
    if (jobs.size() == 3) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  ASSERT_EQ(jobs.size(), 3u) << jobs.dump();
  for (const auto& j : jobs) {
    EXPECT_TRUE(j["file_id"] == f1 || j["file_id"] == f2 || j["file_id"] == f3) << j.dump();
    EXPECT_EQ(j["attempts"], 1) << j.dump();
    EXPECT_NE(j["batch_id"], "") << j.dump();
  }
  for (const auto& f : {f1, f2, f3}) {
    auto r = Call(steward, "POST", "/api/v1/variants/ingest", {{"file_id", f}});
    EXPECT_EQ(r->status, 409) << r->body;  // ingested once, by the job
  }
  EXPECT_EQ(Call(steward, "GET", "/api/v1/variants/ingest-queue?state=lost")->status, 400);
  auto ds = Call(steward, "POST", "/api/v1/datasets",
                 {{"name_ja", "希少疾患"}, {"name_en", "Rare disease"}, {"program", "rare_disease"},
                  {"group_id", "grp-rd"}});
  ASSERT_EQ(ds->status, 201) << ds->body;
  const std::string dataset = ds->Json()["id"];
  auto added = Call(steward, "POST", "/api/v1/datasets/" + dataset + "/files",
                    {{"participant_ids", {p1, p2, ncu}}});
  ASSERT_EQ(added->status, 200) << added->body;
  auto rel = Call(steward, "POST", "/api/v1/datasets/" + dataset + "/releases",
                  {{"release_date", Today()}, {"embargo_months", 0}});
  ASSERT_EQ(rel->status, 201) << rel->body;
  ASSERT_EQ(rel->Json()["tier"], "controlled");
  committee_ = {Token("dc", "committee_member", {"application.review", "application.read"}),
                Token("dc", "committee_member", {"application.review", "application.read"})};

  Browser industry = Researcher("res-com", dataset, true);
  Browser academic = Researcher("res-hmb", dataset, false);

  const std::string counts = "/api/v1/variants/counts?chrom=20&start=1&end=5000";
  const std::string carriers = "/api/v1/variants/carriers?chrom=20&pos=1000&ref=C&alt=T";
  const std::string export_ = "/api/v1/variants/export?chrom=20&start=1&end=5000";
  const std::string beacon =
      "/ga4gh/beacon/v2/g_variants?referenceName=20&start=999&referenceBases=C&"
      "alternateBases=T&requestedGranularity=record";
  const std::string beacon_ncu_only =
      "/ga4gh/beacon/v2/g_variants?referenceName=20&start=1999&referenceBases=G&"
      "alternateBases=A&requestedGranularity=record";
  auto site = [](const json& body, int64_t pos) -> json {
    for (const auto& s : body["sites"]) {
      if (s["pos"] == pos) return s;
    }
    return nullptr;
  };

  // The commercial grant: the participant who refused industry use counts nowhere.
  auto c = industry.Send("GET", counts);
  ASSERT_EQ(c->status, 200) << c->body;
  EXPECT_EQ(c->Json()["samples"], 2) << c->body;
  ASSERT_FALSE(site(c->Json(), 1000).is_null()) << c->body;
  EXPECT_EQ(site(c->Json(), 1000)["ac"], 2);
  EXPECT_EQ(site(c->Json(), 1000)["an"], 4);
  EXPECT_TRUE(site(c->Json(), 2000).is_null()) << c->body;  // only the refusing participant's
  EXPECT_FALSE(site(c->Json(), 3000).is_null()) << c->body;
  auto k = industry.Send("GET", carriers);
  ASSERT_EQ(k->status, 200) << k->body;
  EXPECT_EQ(k->Json()["carriers"].size(), 2u) << k->body;
  EXPECT_EQ(k->body.find(ncu), std::string::npos) << k->body;
  auto e = industry.Send("GET", export_);
  ASSERT_EQ(e->status, 200) << e->body;
  EXPECT_EQ(e->Json()["participants"].size(), 2u) << e->body;
  EXPECT_EQ(e->body.find(ncu), std::string::npos) << e->body;
  auto ecsv = industry.Send("GET", export_ + "&format=csv");
  ASSERT_EQ(ecsv->status, 200) << ecsv->body;
  EXPECT_EQ(ecsv->body.find(ncu), std::string::npos) << ecsv->body;
  auto b = industry.Send("GET", beacon);
  ASSERT_EQ(b->status, 200) << b->body;
  ASSERT_EQ(b->Json()["meta"]["returnedGranularity"], "record") << b->body;
  EXPECT_EQ(b->Json()["response"]["resultSets"][0]["results"][0]["caseLevelData"].size(), 2u)
      << b->body;
  EXPECT_EQ(b->body.find(ncu), std::string::npos) << b->body;
  auto bn = industry.Send("GET", beacon_ncu_only);
  ASSERT_EQ(bn->status, 200) << bn->body;
  EXPECT_EQ(bn->body.find(ncu), std::string::npos) << bn->body;
  EXPECT_EQ(bn->Json()["responseSummary"]["exists"], false) << bn->body;  // nobody else carries it

  // The non-commercial grant on the same dataset: the same consent covers it.
  auto ca = academic.Send("GET", counts);
  ASSERT_EQ(ca->status, 200) << ca->body;
  EXPECT_EQ(ca->Json()["samples"], 3) << ca->body;
  EXPECT_EQ(site(ca->Json(), 1000)["ac"], 3);
  EXPECT_EQ(site(ca->Json(), 1000)["an"], 6);
  ASSERT_FALSE(site(ca->Json(), 2000).is_null()) << ca->body;
  EXPECT_EQ(site(ca->Json(), 2000)["ac"], 2);
  auto ka = academic.Send("GET", carriers);
  EXPECT_EQ(ka->Json()["carriers"].size(), 3u) << ka->body;
  EXPECT_NE(ka->body.find(ncu), std::string::npos) << ka->body;
  auto ea = academic.Send("GET", export_);
  EXPECT_EQ(ea->Json()["participants"].size(), 3u) << ea->body;
  auto ba = academic.Send("GET", beacon);
  ASSERT_EQ(ba->Json()["meta"]["returnedGranularity"], "record") << ba->body;
  EXPECT_EQ(ba->Json()["response"]["resultSets"][0]["results"][0]["caseLevelData"].size(), 3u)
      << ba->body;
  EXPECT_NE(ba->body.find(ncu), std::string::npos) << ba->body;

  // A consent modification that now permits industry use takes effect on the very next
  // commercial query.
  auto icf = clinician_.Send("GET", "/api/v1/icf/rare_disease/1.0/ja");
  json decisions = json::object();
  const json items = icf->Json()["items"];
  for (const auto& item : items) decisions[item["code"].get<std::string>()] = "permit";
  decisions["C11"] = "deny";
  auto mod = clinician_.Send("POST", "/api/v1/participants/" + ncu + "/consents",
                             {{"kind", "modification"}, {"icf_version", "1.0"}, {"language", "ja"},
                              {"decisions", decisions}, {"signed_date", Today()},
                              {"details", {{"signer", "self"}, {"method", "paper"}}}});
  ASSERT_EQ(mod->status, 201) << mod->body;
  auto c2 = industry.Send("GET", counts);
  ASSERT_EQ(c2->status, 200) << c2->body;
  EXPECT_EQ(c2->Json()["samples"], 3) << c2->body;
  EXPECT_EQ(site(c2->Json(), 1000)["ac"], 3);
  auto b2 = industry.Send("GET", beacon);
  EXPECT_EQ(b2->Json()["response"]["resultSets"][0]["results"][0]["caseLevelData"].size(), 3u)
      << b2->body;
}

// Naming the grant a query is for: one researcher holds a non-commercial grant on dataset A
// (MRN-1 and MRN-3, who refused industry use) and a commercial grant on dataset B (MRN-2).
// Each grant answers with its own samples; no answer is over the union of both; without a
// grant the query is refused; another's grant, an expired grant and an empty grant= are refused.
TEST_P(CohortPurposeTest, AQueryNamesItsGrantAndIsNeverAnsweredOverSeveralGrants) {
  // 20:1000 C>T: MRN-1 het, MRN-2 het, MRN-3 hom; 20:2000 G>A: MRN-2 only.
  const auto [p1, f1] = Participant("MRN-1", false, {"1000 C T 0/1"});
  const auto [p2, f2] = Participant("MRN-2", false, {"1000 C T 0/1", "2000 G A 0/1"});
  const auto [p3, f3] = Participant("MRN-3", true, {"1000 C T 1/1"});
  const std::string steward =
      Token("dc", "data_steward", {"variants.ingest", "variants.read", "dataset.write"});
  AwaitIngest(steward, 3);
  const std::string a = Dataset(steward, "A", {p1, p3});
  const std::string b = Dataset(steward, "B", {p2});
  committee_ = {Token("dc", "committee_member", {"application.review", "application.read"}),
                Token("dc", "committee_member", {"application.review", "application.read"})};
  Browser both = Researcher("res-two", a, false);
  const std::string ga = [&] {
    auto list = both.Send("GET", "/api/v1/grants");
    EXPECT_EQ(list->status, 200) << list->body;
    return list->Json()["items"][0]["id"].get<std::string>();
  }();
  const std::string gb = Apply(both, b, true);
  ASSERT_FALSE(gb.empty());
  ASSERT_NE(ga, gb);
  Browser other = Researcher("res-other", a, false);
  const std::string other_grant = [&] {
    auto list = other.Send("GET", "/api/v1/grants");
    return list->Json()["items"][0]["id"].get<std::string>();
  }();

  const std::string counts = "/api/v1/variants/counts?chrom=20&start=1&end=5000";
  auto site = [](const json& body, int64_t pos) -> json {
    for (const auto& s : body["sites"]) {
      if (s["pos"] == pos) return s;
    }
    return nullptr;
  };
  // Without a grant: refused, naming the field and the caller's grants.
  auto none = both.Send("GET", counts);
  ASSERT_EQ(none->status, 400) << none->body;
  EXPECT_NE(none->body.find("grant_required"), std::string::npos) << none->body;
  EXPECT_NE(none->body.find(ga), std::string::npos) << none->body;
  for (const std::string path : {"/api/v1/variants/carriers?chrom=20&pos=1000&ref=C&alt=T",
                                 "/api/v1/variants/export?chrom=20&start=1&end=5000"}) {
    EXPECT_EQ(both.Send("GET", path)->status, 400) << path;
  }
  // Grant A (non-commercial): MRN-1 and MRN-3.
  auto ca = both.Send("GET", counts + "&grant=" + ga);
  ASSERT_EQ(ca->status, 200) << ca->body;
  EXPECT_EQ(ca->Json()["samples"], 2) << ca->body;
  EXPECT_EQ(ca->Json()["grant"], ga) << ca->body;
  EXPECT_EQ(site(ca->Json(), 1000)["ac"], 3) << ca->body;
  EXPECT_TRUE(site(ca->Json(), 2000).is_null()) << ca->body;
  auto ka = both.Send("GET", "/api/v1/variants/carriers?chrom=20&pos=1000&ref=C&alt=T&grant=" + ga);
  ASSERT_EQ(ka->status, 200) << ka->body;
  EXPECT_EQ(ka->Json()["carriers"].size(), 2u) << ka->body;
  EXPECT_EQ(ka->body.find(p2), std::string::npos) << ka->body;
  // Grant B (commercial): MRN-2 only.
  auto cb = both.Send("GET", counts + "&grant=" + gb);
  ASSERT_EQ(cb->status, 200) << cb->body;
  EXPECT_EQ(cb->Json()["samples"], 1) << cb->body;
  EXPECT_EQ(site(cb->Json(), 1000)["ac"], 1) << cb->body;
  EXPECT_EQ(site(cb->Json(), 2000)["ac"], 1) << cb->body;
  auto eb = both.Send("GET", "/api/v1/variants/export?chrom=20&start=1&end=5000&grant=" + gb);
  ASSERT_EQ(eb->status, 200) << eb->body;
  ASSERT_EQ(eb->Json()["participants"].size(), 1u) << eb->body;
  EXPECT_EQ(eb->Json()["participants"][0]["participant_id"], p2) << eb->body;
  // Beacon: no grant parameter, so no record-level answer over two grants.
  auto bb = both.Send("GET",
                      "/ga4gh/beacon/v2/g_variants?referenceName=20&start=999&referenceBases=C&"
                      "alternateBases=T&requestedGranularity=record");
  ASSERT_EQ(bb->status, 200) << bb->body;
  EXPECT_NE(bb->Json()["meta"]["returnedGranularity"], "record") << bb->body;
  EXPECT_EQ(bb->body.find(p1), std::string::npos) << bb->body;

  // Insiders: another researcher's grant, an unknown id (the same answer), an empty grant=.
  auto theirs = both.Send("GET", counts + "&grant=" + other_grant);
  EXPECT_EQ(theirs->status, 403) << theirs->body;
  EXPECT_NE(theirs->body.find("grant_not_usable"), std::string::npos) << theirs->body;
  auto unknown = both.Send("GET", counts + "&grant=GR-NOSUCHGRANT");
  EXPECT_EQ(unknown->status, 403) << unknown->body;
  EXPECT_NE(unknown->body.find("grant_not_usable"), std::string::npos) << unknown->body;
  EXPECT_EQ(unknown->body.find(other_grant), std::string::npos) << unknown->body;
  auto empty = both.Send("GET", counts + "&grant=");
  EXPECT_EQ(empty->status, 400) << empty->body;
  EXPECT_NE(empty->body.find("grant"), std::string::npos) << empty->body;
  // An expired grant: its end moved into the past, as time passing would do.
  {
    auto store = storage::OpenStore({.location = server_->DatabaseLocation(), .migrate = false});
    ASSERT_TRUE(store.ok()) << store.error().message;
    auto tx = (*store)->Begin(storage::TxMode::kWrite);
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE((*tx)->Exec("UPDATE grants SET expires_at = $1 WHERE id = $2",
                            {storage::Text("2020-01-01T00:00:00Z"), storage::Text(ga)}).ok());
    ASSERT_TRUE((*tx)->Commit().ok());
  }
  auto expired = both.Send("GET", counts + "&grant=" + ga);
  EXPECT_EQ(expired->status, 403) << expired->body;
  EXPECT_NE(expired->body.find("grant_not_usable"), std::string::npos) << expired->body;
  // One active grant left: answered without naming it, over that grant alone.
  auto one = both.Send("GET", counts);
  ASSERT_EQ(one->status, 200) << one->body;
  EXPECT_EQ(one->Json()["samples"], 1) << one->body;
  const auto reasons = AuditReasons("variants.grant");
  ASSERT_EQ(reasons.size(), 3u);
  EXPECT_NE(reasons[0].find("not a grant of the caller"), std::string::npos) << reasons[0];
  EXPECT_NE(reasons[1].find("not a grant of the caller"), std::string::npos) << reasons[1];
  EXPECT_NE(reasons[2].find("expired"), std::string::npos) << reasons[2];
}

// The portal's allele frequencies over the real wiring (sharing's public releases, the live
// consent ledger), without a login: a release in the public_aggregates tier lists its sites with
// every count "<10"; after the only carrier of 20:2000 G>A withdraws fully, the very next
// answer no longer lists that site (computed again before answering), while 20:1000 stays.
// Bad parameters are 400s naming the field.
TEST_P(CohortPurposeTest, ThePortalFrequenciesOfAPublicReleaseLeaveOutAWithdrawnParticipantAtOnce) {
  const auto [p1, f1] = Participant("MRN-1", false, {"1000 C T 0/1", "3000 A G 0/1"});
  const auto [p2, f2] = Participant("MRN-2", false, {"1000 C T 0/1"});
  const auto [ncu, f3] = Participant("MRN-3", true, {"1000 C T 0/1", "2000 G A 1/1"});
  const std::string steward =
      Token("dc", "data_steward", {"variants.ingest", "variants.read", "dataset.write"});
  AwaitIngest(steward, 3);
  const std::string path = "/api/v1/portal/variant-frequencies?chrom=20&start=1&end=5000";
  auto none = server_->Request("GET", path, {}, "");
  ASSERT_EQ(none->status, 200) << none->body;
  EXPECT_TRUE(none->Json()["sites"].empty()) << "no release is public yet";

  auto ds = Call(steward, "POST", "/api/v1/datasets",
                 {{"name_ja", "希少疾患"}, {"name_en", "Rare disease"}, {"program", "rare_disease"},
                  {"group_id", "grp-rd"}});
  ASSERT_EQ(ds->status, 201) << ds->body;
  const std::string dataset = ds->Json()["id"];
  ASSERT_EQ(Call(steward, "POST", "/api/v1/datasets/" + dataset + "/files",
                 {{"participant_ids", {p1, p2, ncu}}})->status,
            200);
  auto rel = Call(steward, "POST", "/api/v1/datasets/" + dataset + "/releases",
                  {{"release_date", Today()}, {"embargo_months", 0},
                   {"public_aggregates_date", Today()}});
  ASSERT_EQ(rel->status, 201) << rel->body;
  ASSERT_EQ(rel->Json()["tier"], "public_aggregates") << rel->body;

  auto positions = [](const json& body) {
    std::set<int64_t> out;
    for (const auto& s : body["sites"]) out.insert(s["pos"].get<int64_t>());
    return out;
  };
  auto before = server_->Request("GET", path, {}, "");
  ASSERT_EQ(before->status, 200) << before->body;
  const json b = before->Json();
  EXPECT_EQ(positions(b), (std::set<int64_t>{1000, 2000, 3000})) << before->body;
  EXPECT_EQ(b["releases"].size(), 1u);
  for (const auto& s : b["sites"]) {
    ASSERT_EQ(s["cells"].size(), 2u) << s.dump();  // research and commercial
    for (const auto& c : s["cells"]) {
      EXPECT_EQ(c["ac"], "<10") << s.dump();
      EXPECT_TRUE(c["af"].is_null()) << s.dump();
    }
  }

  auto w = clinician_.Send("POST", "/api/v1/participants/" + ncu + "/withdrawal",
                           {{"level", "full"}, {"signed_date", Today()}, {"reason", "asked"}});
  ASSERT_EQ(w->status, 201) << w->body;
  auto after = server_->Request("GET", path, {}, "");
  ASSERT_EQ(after->status, 200) << after->body;
  EXPECT_EQ(positions(after->Json()), (std::set<int64_t>{1000, 3000})) << after->body;
  EXPECT_NE(after->Json()["computed_at"], nullptr);

  for (const auto& [query, field] : std::vector<std::pair<std::string, std::string>>{
           {"", "chrom"},
           {"?chrom=20&end=10", "start"},
           {"?chrom=20&start=1&end=2000001", "end"},
           {"?chrom=20&start=10&end=5", "end"},
           {"?chrom=20&start=1&end=10&page_size=0", "page_size"},
           {"?chrom=20&start=1&end=10&page=0", "page"}}) {
    auto bad = server_->Request("GET", "/api/v1/portal/variant-frequencies" + query, {}, "");
    ASSERT_EQ(bad->status, 400) << query << " " << bad->body;
    EXPECT_EQ(bad->Json()["error"]["field"], field) << query << " " << bad->body;
  }
  EXPECT_EQ(server_->Request("GET", "/api/v1/portal/variant-frequencies?gene=NOPE", {}, "")->status,
            404);
}

INSTANTIATE_TEST_SUITE_P(Backends, CohortPurposeTest,
                         ::testing::ValuesIn(storage::TestBackends()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace zengen::testing
