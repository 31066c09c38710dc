// Uniform analysis end to end (issue 16) against the real zengen binary on both metadata
// backends: a sequencing facility uploads a QC-passing FASTQ pair of a small synthetic genome,
// the ordered analysis centre starts a germline run over HTTPS, the server's local executor
// (cwltool) runs the pipeline, and the registered CRAM and VCF are read back through htsget by
// samtools and bcftools; the run's provenance document comes with the output, the custody is
// `analysed`, and every step and output is in the audit log. Another centre sees nothing.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <fmt/format.h>

#include "crypto/crypto.h"
#include "sequencing/synthetic.h"
#include "storage/store.h"
#include "support/browser.h"
#include "support/genomics.h"
#include "support/server_fixture.h"

namespace zengen::testing {
namespace {

namespace fs = std::filesystem;
namespace syn = sequencing::synthetic;
using nlohmann::json;
using namespace std::chrono_literals;
constexpr const char* kPassword = "analysis-test-passphrase-2026";

class AnalysisE2eTest : public ServerTest {
 protected:
  void SetUp() override {
    work_ = fs::temp_directory_path() / ("zg-analysis-e2e-" + crypto::ToHex(crypto::RandomBytes(6)));
    fs::create_directories(work_);
    // A 30 kb contig and a homozygous haplotype with an SNV every 997 bases.
    ref_ = syn::MakeReference(2727, 30000);
    syn::Reference hap = ref_;
    for (int64_t p = 500; p < 29500; p += 997) {
      char& c = hap.sequence[static_cast<size_t>(p)];
      c = c == 'A' ? 'G' : c == 'C' ? 'T' : c == 'G' ? 'A' : 'C';
      snvs_.push_back(p + 1);
    }
    reads_ = syn::MakeReads(hap, 11, 1500, 150, false, "HE2E");
    std::ofstream(work_ / "ref.fa") << ref_.Fasta();
    const fs::path fasta = work_ / "ref.fa";
    StartServer({}, [fasta](const fs::path& dir) {
      const auto r = RunCommand({ZengenBinary(), "reference", "add", "--data", dir.string(),
                                 "synthetic-30k", fasta.string()});
      EXPECT_EQ(r.exit_code, 0) << r.output;
    });
    ASSERT_NE(server_, nullptr);
    ASSERT_NO_FATAL_FAILURE(AddOrganisations({{"hosp-a", "hospital"},
                                              {"seq-1", "sequencing_facility"},
                                              {"ana-1", "analysis_center"},
                                              {"ana-2", "analysis_center"}}));
    ASSERT_NO_FATAL_FAILURE(AddPerson("dr-a", "hosp-a", "clinician", kPassword, clinician_));
    seq_token_ = Token("seq-1", "sequencing_operator",
                       {"specimen.custody", "run.write", "upload.write"});
    const std::vector<std::string> analyst = {"analysis_run.write", "analysis_run.read",
                                              "analysis_run.log", "file.read", "htsget.read"};
    ana_token_ = Token("ana-1", "analyst", analyst);
    other_token_ = Token("ana-2", "analyst", analyst);

    ASSERT_NO_FATAL_FAILURE(EnrolAndShip(clinician_, "MRN-16", "seq-1", participant_, specimen_));
    const std::string custody = "/api/v1/specimens/" + specimen_ + "/custody";
    for (const char* to : {"received", "library_prepared"}) {
      ASSERT_EQ(Call(seq_token_, "POST", custody, json{{"to", to}})->status, 200) << to;
    }
    auto run = Call(seq_token_, "POST", "/api/v1/runs",
                    {{"specimen_id", specimen_}, {"instrument_model", "NovaSeq X"},
                     {"flowcell", "HE2E"}, {"library", "L1"}, {"layout", "paired"}});
    ASSERT_EQ(run->status, 201) << run->body;
    Upload(seq_token_, {{"kind", "fastq"}, {"run_id", run->Json()["id"]}, {"read", 1},
                        {"file_name", "R1.fastq.gz"}},
           syn::Gzip(reads_.r1));
    const json r2 = Upload(seq_token_, {{"kind", "fastq"}, {"run_id", run->Json()["id"]},
                                        {"read", 2}, {"file_name", "R2.fastq.gz"}},
                           syn::Gzip(reads_.r2));
    ASSERT_EQ(r2["run"]["status"], "qc_passed") << r2.dump();
    ASSERT_EQ(AsOperator(*server_, "POST", "/api/v1/analysis-orders",
                         {{"specimen_id", specimen_}, {"centre", "ana-1"}})->status, 201);
    std::ofstream(work_ / "token") << ana_token_;
    chmod((work_ / "token").c_str(), 0600);
  }

  void TearDown() override {
    server_.reset();
    std::error_code ec;
    fs::remove_all(work_, ec);
  }

  // Runs a client with the analysis centre's token file and the server's certificate.
  CommandResult Client(std::vector<std::string> argv) {
    std::vector<std::string> full = {"/usr/bin/env",
                                     "HTS_AUTH_LOCATION=" + (work_ / "token").string(),
                                     "CURL_CA_BUNDLE=" + server_->ca_cert().string()};
    full.insert(full.end(), argv.begin(), argv.end());
    return RunCommand(full);
  }
  std::string Url(const std::string& path) const {
    return fmt::format("https://127.0.0.1:{}{}", server_->port(), path);
  }

  int64_t AuditCount(const std::string& action, const std::string& resource) {
    auto store = storage::OpenStore({.location = server_->DatabaseLocation(), .migrate = false});
    EXPECT_TRUE(store.ok());
    auto tx = (*store)->Begin(storage::TxMode::kRead);
    auto rows = (*tx)->Query("SELECT COUNT(*) FROM audit_log WHERE action = $1 AND resource = $2",
                             {storage::Text(action), storage::Text(resource)});
    EXPECT_TRUE(rows.ok());
    return rows.ok() ? rows->rows[0].Int(0) : -1;
  }

  fs::path work_;
  syn::Reference ref_;
  syn::Reads reads_;
  std::vector<int64_t> snvs_;  // 1-based
  Browser clinician_{nullptr};
  std::string seq_token_, ana_token_, other_token_;
  std::string participant_, specimen_;
};

TEST_P(AnalysisE2eTest, AGermlineRunRegistersEncryptedOutputsReadableThroughHtsget) {
  // Another centre may not start it; the ordered one may.
  auto refused = Call(other_token_, "POST", "/api/v1/analysis/runs",
                      {{"specimen_id", specimen_}, {"reference", "synthetic-30k"}});
  EXPECT_EQ(refused->status, 403) << refused->body;
  auto bad = Call(ana_token_, "POST", "/api/v1/analysis/runs",
                  {{"specimen_id", specimen_}, {"reference", "GRCh99"}});
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(bad->Json()["error"]["field"], "reference") << bad->body;
  auto started = Call(ana_token_, "POST", "/api/v1/analysis/runs",
                      {{"specimen_id", specimen_}, {"reference", "synthetic-30k"}});
  ASSERT_EQ(started->status, 201) << started->body;
  const std::string run = started->Json()["id"];
  EXPECT_EQ(started->Json()["executor"], "local");

  json got;
  for (int i = 0; i < 3000; ++i) {
    got = Call(ana_token_, "GET", "/api/v1/analysis/runs/" + run)->Json();
    const std::string state = got["state"];
    if (state != "queued" && state != "running") break;
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_EQ(got["state"], "succeeded") << got.dump() << server_->Log();
  EXPECT_EQ(got["step"], 3);
  EXPECT_EQ(got["steps"], 3);
  ASSERT_EQ(got["outputs"].size(), 2u);

  // Listed to its centre with step k of n, not to the other centre; logs for the centre.
  const json mine = Call(ana_token_, "GET", "/api/v1/analysis/runs")->Json();
  ASSERT_EQ(mine["items"].size(), 1u);
  EXPECT_EQ(Call(other_token_, "GET", "/api/v1/analysis/runs")->Json()["items"].size(), 0u);
  EXPECT_EQ(Call(other_token_, "GET", "/api/v1/analysis/runs/" + run)->status, 403);
  auto log = Call(ana_token_, "GET", "/api/v1/analysis/runs/" + run + "/log");
  ASSERT_EQ(log->status, 200);
  EXPECT_NE(log->Json()["log"].get<std::string>().find("[step align]"), std::string::npos);

  // Custody moved to the centre.
  auto sp = clinician_.Send("GET", "/api/v1/specimens/" + specimen_);
  EXPECT_EQ(sp->Json()["state"], "analysed") << sp->body;
  EXPECT_EQ(sp->Json()["holder"], "ana-1");

  std::string cram, vcf;
  for (const auto& id : got["outputs"]) {
    auto f = Call(ana_token_, "GET", "/api/v1/files/" + id.get<std::string>());
    ASSERT_EQ(f->status, 200) << f->body;
    const json file = f->Json();
    (file["kind"] == "cram" ? cram : vcf) = id;
    EXPECT_EQ(file["derived_from"], got["inputs"]);
    EXPECT_EQ(AuditCount("analysis.output", "file/" + id.get<std::string>()), 1);
    // The provenance document comes with the output.
    auto prov = Call(ana_token_, "GET", "/api/v1/files/" + id.get<std::string>() + "/provenance");
    ASSERT_EQ(prov->status, 200) << prov->body;
    EXPECT_NE(prov->body.find(file["sha256"].get<std::string>()), std::string::npos);
    EXPECT_NE(prov->body.find("cwltool"), std::string::npos);
  }
  ASSERT_FALSE(cram.empty());
  ASSERT_FALSE(vcf.empty());
  EXPECT_EQ(AuditCount("analysis.step", "analysis_run/" + run), 6);

  // samtools and bcftools read the outputs back through htsget.
  const std::string ref = (work_ / "ref.fa").string();
  const auto reads = Client({"/usr/bin/samtools", "view", "-c", "--reference", ref,
                             Url("/ga4gh/htsget/v1/reads/" + cram + "?format=CRAM")});
  ASSERT_EQ(reads.exit_code, 0) << reads.output;
  EXPECT_GT(std::stoll(reads.output), 2800) << reads.output;
  const auto region = Client({"/usr/bin/samtools", "view", "-c", "--reference", ref,
                              Url("/ga4gh/htsget/v1/reads/" + cram + "?format=CRAM&referenceName=chrZ&start=0&end=10000")});
  ASSERT_EQ(region.exit_code, 0) << region.output;
  // Whole containers: a 30 kb genome's reads fit in one, so the slice may be everything.
  EXPECT_GT(std::stoll(region.output), 0);
  EXPECT_LE(std::stoll(region.output), std::stoll(reads.output));
  const auto calls = Client({"/usr/bin/bcftools", "query", "-f", "%POS[ %GT]\\n",
                             Url("/ga4gh/htsget/v1/variants/" + vcf)});
  ASSERT_EQ(calls.exit_code, 0) << calls.output;
  int found = 0;
  for (int64_t p : snvs_) found += calls.output.find(fmt::format("{} 1/1\n", p)) != std::string::npos;
  EXPECT_GE(found, static_cast<int>(snvs_.size()) - 2) << calls.output;
}

INSTANTIATE_TEST_SUITE_P(Backends, AnalysisE2eTest, ::testing::ValuesIn(storage::TestBackends()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace zengen::testing
