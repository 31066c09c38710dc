// End-to-end tests of htsget and DRS against the real zengen binary on both metadata backends,
// with the real clients: samtools and bcftools read region slices through ticket URLs (token
// via HTS_AUTH_LOCATION, the server's certificate via CURL_CA_BUNDLE) and their records equal
// a local samtools view / bcftools view -r of the same region; a withdrawal stops tickets,
// blocks and DRS on the very next request.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "crypto/crypto.h"
#include "support/browser.h"
#include "storage/store.h"
#include "support/genomics.h"
#include "support/server_fixture.h"

namespace zengen::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
constexpr const char* kPassword = "htsget-test-passphrase-2026";
const fs::path kFixtures = ZENGEN_FIXTURES_DIR;

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

class HtsgetTest : public ServerTest {
 protected:
  // Lines appended to the server's zengen.conf (HtsgetFromRgwTest adds an S3 site).
  virtual std::vector<std::string> ServerConfig() { return {}; }
  // Reads in the run's FASTQ (HtsgetRgwCutTest needs one larger than the RGW reader's window).
  virtual int FastqReads() const { return 1500; }

  void SetUp() override {
    StartServer(ServerConfig());
    ASSERT_NE(server_, nullptr);
    ASSERT_NO_FATAL_FAILURE(AddOrganisations({{"hosp-a", "hospital"},
                                              {"seq-1", "sequencing_facility"},
                                              {"ana-1", "analysis_center"},
                                              {"ana-2", "analysis_center"}}));
    ASSERT_NO_FATAL_FAILURE(AddPerson("dr-a", "hosp-a", "clinician", kPassword, clinician_));
    seq_token_ = Token("seq-1", "sequencing_operator",
                       {"specimen.custody", "run.write", "upload.write"});
    ana_token_ = Token("ana-1", "analyst",
                       {"specimen.custody", "upload.write", "file.read", "htsget.read", "drs.read"});
    other_token_ = Token("ana-2", "analyst", {"htsget.read", "drs.read"});

    ASSERT_NO_FATAL_FAILURE(EnrolAndShip(clinician_, "MRN-77", "seq-1", participant_, specimen_));
    const std::string& specimen = specimen_;
    const std::string custody = "/api/v1/specimens/" + specimen + "/custody";
    for (const char* to : {"received", "library_prepared"}) {
      ASSERT_EQ(Call(seq_token_, "POST", custody, json{{"to", to}})->status, 200) << to;
    }
    auto run = Call(seq_token_, "POST", "/api/v1/runs",
                    {{"specimen_id", specimen}, {"instrument_model", "NovaSeq X"},
                     {"flowcell", "HFLOWCELL"}, {"library", "L1"}, {"layout", "single"}});
    ASSERT_EQ(run->status, 201) << run->body;
    const json fq = Upload(seq_token_, {{"kind", "fastq"}, {"run_id", run->Json()["id"]},
                                        {"read", 1}, {"file_name", "R1.fastq.gz"}},
                           Gzip(Fastq(FastqReads(), 1)));
    ASSERT_EQ(fq["run"]["status"], "qc_passed") << fq.dump();
    fq_id_ = fq["file"]["id"];
    ASSERT_EQ(AsOperator(*server_, "POST", "/api/v1/analysis-orders",
                         {{"specimen_id", specimen}, {"centre", "ana-1"}})->status, 201);
    ASSERT_EQ(Call(ana_token_, "POST", custody, json{{"to", "analysed"}})->status, 200);

    bam_local_ = kFixtures / "htsget/reads/htsnexus_test_NA12878.bam";
    bcf_local_ = kFixtures / "single-sample-bcf/G1.bcf";
    const json bam = Upload(ana_token_, {{"kind", "bam"}, {"specimen_id", specimen},
                                         {"derived_from", {fq["file"]["id"]}},
                                         {"file_name", "NA12878.bam"}},
                            ReadFileBytes(bam_local_.string()));
    bam_id_ = bam["file"]["id"];
    const json bcf = Upload(ana_token_, {{"kind", "bcf"}, {"specimen_id", specimen},
                                         {"derived_from", {fq["file"]["id"]}},
                                         {"file_name", "G1.bcf"}},
                            ReadFileBytes(bcf_local_.string()));
    bcf_id_ = bcf["file"]["id"];
    cram_local_ = kFixtures / "htsget/reads/htsnexus_test_NA12878.cram";
    const json cram = Upload(ana_token_, {{"kind", "cram"}, {"specimen_id", specimen},
                                          {"derived_from", {fq["file"]["id"]}},
                                          {"file_name", "NA12878.cram"}},
                             ReadFileBytes(cram_local_.string()));
    cram_id_ = cram["file"]["id"];

    work_ = fs::temp_directory_path() / ("zg-htsget-" + crypto::ToHex(crypto::RandomBytes(6)));
    fs::create_directories(work_);
    std::ofstream(work_ / "token") << ana_token_;
    chmod((work_ / "token").c_str(), 0600);
  }

  void TearDown() override {
    std::error_code ec;
    fs::remove_all(work_, ec);
  }

  // Another participant of hosp-a with consent and a specimen the analysis centre ana-1 analyses
  // (custody moved by hand, without files). Returns the participant id.
  std::string AnalysedParticipant(const std::string& local_id) {
    auto p = clinician_.Send("POST", "/api/v1/participants",
                             {{"local_id", local_id}, {"program", "cancer"},
                              {"disease_category", "lung"}, {"index_date", "2026-03-02"}});
    EXPECT_TRUE(p && p->status == 201);
    const std::string pid = p->Json()["participant"]["id"];
    auto icf = clinician_.Send("GET", "/api/v1/icf/cancer/1.0/ja");
    json decisions = json::object();
    const json items = icf->Json()["items"];
    for (const auto& item : items) decisions[item["code"].get<std::string>()] = "permit";
    decisions["C11"] = "deny";
    EXPECT_EQ(clinician_.Send("POST", "/api/v1/participants/" + pid + "/consents",
                              {{"kind", "initial"}, {"icf_version", "1.0"}, {"language", "ja"},
                               {"decisions", decisions}, {"signed_date", "2026-03-02"},
                               {"details", {{"signer", "self"}, {"method", "paper"}}}})
                  ->status,
              201);
    auto sp = clinician_.Send("POST", "/api/v1/participants/" + pid + "/specimens",
                              {{"tumour_normal", "normal"}, {"specimen_type", "blood"},
                               {"preservation", "EDTA"}, {"collection_date", "2026-03-02"}});
    const std::string custody = "/api/v1/specimens/" + sp->Json()["id"].get<std::string>() + "/custody";
    EXPECT_EQ(clinician_.Send("POST", custody, {{"to", "shipped"}, {"destination", "seq-1"}})->status, 200);
    for (const char* to : {"received", "library_prepared", "sequenced", "qc_passed"}) {
      EXPECT_EQ(Call(seq_token_, "POST", custody, json{{"to", to}})->status, 200) << to;
    }
    EXPECT_EQ(AsOperator(*server_, "POST", "/api/v1/analysis-orders",
                         {{"specimen_id", sp->Json()["id"]}, {"centre", "ana-1"}})->status, 201);
    EXPECT_EQ(Call(ana_token_, "POST", custody, json{{"to", "analysed"}})->status, 200);
    return pid;
  }

  // A GET with a chosen request id, to find its audit records.
  std::optional<HttpResponse> Refused(const std::string& token, const std::string& path,
                                      const std::string& request_id) {
    return server_->Request("GET", path, {{"Authorization", "Bearer " + token},
                                          {"X-Request-Id", request_id}});
  }
  // The audit records of one request id: how many, and their reasons joined.
  std::vector<std::string> AuditRows(const std::string& request_id) {
    auto store = storage::OpenStore({.location = server_->DatabaseLocation(), .migrate = false});
    EXPECT_TRUE(store.ok());
    if (!store.ok()) return {};
    auto tx = (*store)->Begin(storage::TxMode::kRead);
    auto rows = (*tx)->Query("SELECT reason FROM audit_log WHERE request_id = $1 ORDER BY seq",
                             {storage::Text(request_id)});
    EXPECT_TRUE(rows.ok());
    std::vector<std::string> out;
    for (const auto& r : rows->rows) out.push_back(r.Text(0));
    return out;
  }
  int AuditCount(const std::string& request_id) {
    return static_cast<int>(AuditRows(request_id).size());
  }
  std::string AuditReasons(const std::string& request_id) {
    std::string all;
    for (const auto& r : AuditRows(request_id)) all += r + "\n";
    return all;
  }

  std::string Url(const std::string& path) const {
    return fmt::format("https://127.0.0.1:{}{}", server_->port(), path);
  }

  // Runs a client with the token file and the server's certificate.
  CommandResult Client(std::vector<std::string> argv) {
    std::vector<std::string> full = {"/usr/bin/env",
                                     "HTS_AUTH_LOCATION=" + (work_ / "token").string(),
                                     "CURL_CA_BUNDLE=" + server_->ca_cert().string()};
    full.insert(full.end(), argv.begin(), argv.end());
    return RunCommand(full);
  }

  Browser clinician_{nullptr};
  std::string seq_token_, ana_token_, other_token_;
  std::string participant_, specimen_, fq_id_, bam_id_, bcf_id_, cram_id_;
  fs::path bam_local_, bcf_local_, cram_local_, work_;
};

TEST_P(HtsgetTest, SamtoolsReadsRegionSlicesEqualToALocalView) {
  // The local truth: the fixture, indexed in the scratch folder.
  fs::copy_file(bam_local_, work_ / "local.bam");
  ASSERT_EQ(RunCommand({"/usr/bin/samtools", "index", (work_ / "local.bam").string()}).exit_code, 0);
  const std::string region = "11:5005001-5009000";
  const auto local = RunCommand({"/usr/bin/samtools", "view", (work_ / "local.bam").string(), region});
  ASSERT_EQ(local.exit_code, 0) << local.output;
  ASSERT_GT(Lines(local.output).size(), 10u);

  // Through htsget: samtools fetches the ticket, then every block; regions go in the URL.
  const std::string url = Url("/ga4gh/htsget/v1/reads/" + bam_id_ +
                              "?format=BAM&referenceName=11&start=5005000&end=5009000");
  const auto slice = Client({"/usr/bin/samtools", "view", "-b", "-o", (work_ / "slice.bam").string(), url});
  ASSERT_EQ(slice.exit_code, 0) << slice.output;
  ASSERT_EQ(RunCommand({"/usr/bin/samtools", "index", (work_ / "slice.bam").string()}).exit_code, 0);
  const auto remote = RunCommand({"/usr/bin/samtools", "view", (work_ / "slice.bam").string(), region});
  EXPECT_EQ(Lines(remote.output), Lines(local.output));
  // A real slice: far fewer records than the file holds, none from the other reference.
  const auto sliced = RunCommand({"/usr/bin/samtools", "view", "-c", (work_ / "slice.bam").string()});
  const auto total = RunCommand({"/usr/bin/samtools", "view", "-c", bam_local_.string()});
  EXPECT_LT(std::stoll(sliced.output), std::stoll(total.output) / 4) << sliced.output;
  EXPECT_EQ(Lines(RunCommand({"/usr/bin/samtools", "view", (work_ / "slice.bam").string(), "20"}).output)
                .size(),
            0u);

  // The whole file: every record.
  const auto whole = Client({"/usr/bin/samtools", "view", "-c", Url("/ga4gh/htsget/v1/reads/" + bam_id_)});
  ASSERT_EQ(whole.exit_code, 0) << whole.output;
  EXPECT_EQ(std::stoll(whole.output), std::stoll(total.output));

  // class=header: the sanitised header, with the pseudonym as sample.
  const auto header =
      Client({"/usr/bin/samtools", "view", "-H", Url("/ga4gh/htsget/v1/reads/" + bam_id_ + "?class=header")});
  ASSERT_EQ(header.exit_code, 0) << header.output;
  EXPECT_NE(header.output.find("SM:" + participant_), std::string::npos) << header.output;
  EXPECT_EQ(header.output.find("SM:NA12878"), std::string::npos);
  EXPECT_EQ(header.output.find("@CO"), std::string::npos);
}

TEST_P(HtsgetTest, PostTicketWithSeveralRegionsAssemblesAFileSamtoolsReads) {
  fs::copy_file(bam_local_, work_ / "local.bam");
  ASSERT_EQ(RunCommand({"/usr/bin/samtools", "index", (work_ / "local.bam").string()}).exit_code, 0);
  const std::vector<std::string> regions = {"11:5005001-5006000", "11:5008001-5009000",
                                            "20:59001-60000"};
  const auto local =
      RunCommand({"/usr/bin/samtools", "view", (work_ / "local.bam").string(), regions[0],
                  regions[1], regions[2]});
  ASSERT_EQ(local.exit_code, 0) << local.output;
  ASSERT_GT(Lines(local.output).size(), 10u);

  // htsget 1.3 POST: the regions in a JSON body; the ticket is followed as a client would.
  auto ticket = Call(ana_token_, "POST", "/ga4gh/htsget/v1/reads/" + bam_id_,
                     json{{"format", "BAM"},
                          {"regions", json::array({{{"referenceName", "11"},
                                                    {"start", 5005000},
                                                    {"end", 5006000}},
                                                   {{"referenceName", "11"},
                                                    {"start", 5008000},
                                                    {"end", 5009000}},
                                                   {{"referenceName", "20"},
                                                    {"start", 59000},
                                                    {"end", 60000}}})}});
  ASSERT_TRUE(ticket);
  ASSERT_EQ(ticket->status, 200) << ticket->body;
  EXPECT_EQ(ticket->Json()["htsget"]["format"], "BAM");
  std::string assembled;
  const json urls = ticket->Json()["htsget"]["urls"];
  ASSERT_GE(urls.size(), 3u);  // header, body ranges, EOF
  for (const auto& u : urls) {
    const std::string url = u["url"];
    ASSERT_EQ(url.rfind("https://127.0.0.1", 0), 0u) << url;
    std::map<std::string, std::string> headers;
    for (const auto& [k, v] : u["headers"].items()) headers[k] = v.get<std::string>();
    auto block = server_->Request("GET", url.substr(url.find('/', 8)), headers);
    ASSERT_TRUE(block);
    ASSERT_EQ(block->status, 200) << url;
    EXPECT_EQ(block->headers["content-length"], std::to_string(block->body.size()));
    assembled += block->body;
  }
  {
    std::ofstream out(work_ / "post.bam", std::ios::binary);
    out << assembled;
  }
  const auto indexed = RunCommand({"/usr/bin/samtools", "index", (work_ / "post.bam").string()});
  ASSERT_EQ(indexed.exit_code, 0) << indexed.output;
  const auto remote = RunCommand({"/usr/bin/samtools", "view", (work_ / "post.bam").string(),
                                  regions[0], regions[1], regions[2]});
  ASSERT_EQ(remote.exit_code, 0) << remote.output;
  EXPECT_EQ(Lines(remote.output), Lines(local.output));
  const auto sliced = RunCommand({"/usr/bin/samtools", "view", "-c", (work_ / "post.bam").string()});
  const auto total = RunCommand({"/usr/bin/samtools", "view", "-c", bam_local_.string()});
  EXPECT_LT(std::stoll(sliced.output), std::stoll(total.output) / 4) << sliced.output;

  // An empty body asks for the whole file.
  auto whole = Call(ana_token_, "POST", "/ga4gh/htsget/v1/reads/" + bam_id_, json::object());
  ASSERT_EQ(whole->status, 200) << whole->body;
  EXPECT_EQ(whole->Json()["htsget"]["format"], "BAM");

  // Malformed requests: htsget's error names, and nothing else changes.
  const std::string path = "/ga4gh/htsget/v1/reads/" + bam_id_;
  struct Case {
    std::string target, body, error;
    int status;
  };
  const std::vector<Case> cases = {
      {path + "?format=BAM", "{}", "InvalidInput", 400},
      {path, "[1,2]", "InvalidInput", 400},
      {path, "{\"regions\":", "InvalidInput", 400},
      {path, R"({"regions":[]})", "InvalidInput", 400},
      {path, R"({"regions":[{"start":5}]})", "InvalidInput", 400},
      {path, R"({"regions":[{"referenceName":"11","start":-5}]})", "InvalidInput", 400},
      {path, R"({"regions":[{"referenceName":"11","start":10,"end":5}]})", "InvalidRange", 400},
      {path, R"({"regions":[{"referenceName":"*","start":1}]})", "InvalidInput", 400},
      {path, R"({"regions":[{"referenceName":"11","colour":"red"}]})", "InvalidInput", 400},
      {path, R"({"class":"header","regions":[{"referenceName":"11"}]})", "InvalidInput", 400},
      {path, R"({"fields":["QNAME","BOGUS"]})", "InvalidInput", 400},
      {path, R"({"tags":["NM"],"notags":["NM"]})", "InvalidInput", 400},
      {path, R"({"format":"CRAM"})", "UnsupportedFormat", 400},
      {path, R"({"format":7})", "InvalidInput", 400},
      {path, R"({"regions":[{"referenceName":"nosuchchr"}]})", "NotFound", 404},
      {path, "{\"fields\":[\"" + std::string(100 * 1024, 'Q') + "\"]}", "PayloadTooLarge", 413},
  };
  for (const auto& c : cases) {
    auto r = server_->Request("POST", c.target,
                              {{"Authorization", "Bearer " + ana_token_},
                               {"Content-Type", "application/json"}},
                              c.body);
    ASSERT_TRUE(r) << c.body.substr(0, 60);
    EXPECT_EQ(r->status, c.status) << c.body.substr(0, 60) << ": " << r->body;
    EXPECT_EQ(r->Json()["htsget"]["error"], c.error) << c.body.substr(0, 60) << ": " << r->body;
  }
  // Another analysis centre is refused on POST as on GET.
  auto other = Call(other_token_, "POST", path, json::object());
  EXPECT_EQ(other->status, 403);
  EXPECT_EQ(other->Json()["htsget"]["error"], "PermissionDenied") << other->body;
}

TEST_P(HtsgetTest, SamtoolsReadsCramContainerSlices) {
  fs::copy_file(cram_local_, work_ / "local.cram");
  ASSERT_EQ(RunCommand({"/usr/bin/samtools", "index", (work_ / "local.cram").string()}).exit_code, 0);
  const std::string region = "11:5005001-5009000";
  const auto local = RunCommand({"/usr/bin/samtools", "view", (work_ / "local.cram").string(), region});
  ASSERT_EQ(local.exit_code, 0) << local.output;
  ASSERT_GT(Lines(local.output).size(), 10u);
  const std::string url = Url("/ga4gh/htsget/v1/reads/" + cram_id_ +
                              "?format=CRAM&referenceName=11&start=5005000&end=5009000");
  const auto slice =
      Client({"/usr/bin/samtools", "view", "-C", "-o", (work_ / "slice.cram").string(), url});
  ASSERT_EQ(slice.exit_code, 0) << slice.output;
  ASSERT_EQ(RunCommand({"/usr/bin/samtools", "index", (work_ / "slice.cram").string()}).exit_code, 0);
  const auto remote = RunCommand({"/usr/bin/samtools", "view", (work_ / "slice.cram").string(), region});
  EXPECT_EQ(Lines(remote.output), Lines(local.output));
  const auto whole = Client({"/usr/bin/samtools", "view", "-c",
                             Url("/ga4gh/htsget/v1/reads/" + cram_id_ + "?format=CRAM")});
  const auto total = RunCommand({"/usr/bin/samtools", "view", "-c", cram_local_.string()});
  ASSERT_EQ(whole.exit_code, 0) << whole.output;
  EXPECT_EQ(std::stoll(whole.output), std::stoll(total.output));
}

TEST_P(HtsgetTest, BcftoolsReadsRegionSlicesEqualToALocalView) {
  const std::string region = "1:1-5000000";
  const auto local = RunCommand({"/usr/bin/bcftools", "view", "-H", "-r", region, bcf_local_.string()});
  ASSERT_EQ(local.exit_code, 0) << local.output;
  ASSERT_GT(Lines(local.output).size(), 3u);
  const std::string url = Url("/ga4gh/htsget/v1/variants/" + bcf_id_ +
                              "?format=BCF&referenceName=1&start=0&end=5000000");
  const auto slice = Client({"/usr/bin/bcftools", "view", "-Ob", "-o", (work_ / "slice.bcf").string(), url});
  ASSERT_EQ(slice.exit_code, 0) << slice.output;
  ASSERT_EQ(RunCommand({"/usr/bin/bcftools", "index", (work_ / "slice.bcf").string()}).exit_code, 0);
  const auto remote =
      RunCommand({"/usr/bin/bcftools", "view", "-H", "-r", region, (work_ / "slice.bcf").string()});
  EXPECT_EQ(Lines(remote.output), Lines(local.output));
  const auto samples = Client({"/usr/bin/bcftools", "query", "-l", url});
  EXPECT_EQ(Lines(samples.output), std::vector<std::string>{participant_}) << samples.output;
}

// Issue 12: a BCF's header and first records share a BGZF block, so class=header once
// answered with records. The header is now re-compressed into blocks of its own.
TEST_P(HtsgetTest, BcfHeaderRequestReturnsTheHeaderOnly) {
  const std::string url = Url("/ga4gh/htsget/v1/variants/" + bcf_id_ + "?format=BCF&class=header");
  const auto local = RunCommand({"/usr/bin/bcftools", "view", "-h", bcf_local_.string()});
  ASSERT_EQ(local.exit_code, 0) << local.output;
  const auto header = Client({"/usr/bin/bcftools", "view", "-h", url});
  ASSERT_EQ(header.exit_code, 0) << header.output;
  EXPECT_NE(header.output.find("#CHROM"), std::string::npos) << header.output;
  EXPECT_NE(header.output.find(participant_), std::string::npos) << header.output;
  // The whole header-only response read as a file: no record in it.
  const auto records = Client({"/usr/bin/bcftools", "view", "-H", url});
  ASSERT_EQ(records.exit_code, 0) << records.output;
  EXPECT_EQ(Lines(records.output), std::vector<std::string>{}) << records.output;
  // The ticket itself: one header URL, then the EOF block, both class "header".
  auto ticket = Call(ana_token_, "GET", "/ga4gh/htsget/v1/variants/" + bcf_id_ +
                                         "?format=BCF&class=header");
  ASSERT_EQ(ticket->status, 200) << ticket->body;
  const json urls = ticket->Json()["htsget"]["urls"];
  ASSERT_EQ(urls.size(), 2u) << urls.dump();
  EXPECT_NE(urls[0]["url"].get<std::string>().find("class=header"), std::string::npos);
  for (const auto& u : urls) EXPECT_EQ(u["class"], "header") << u.dump();
  // The same file's regions still begin with the stored header range.
  const auto slice = Client({"/usr/bin/bcftools", "view", "-H",
                             Url("/ga4gh/htsget/v1/variants/" + bcf_id_ +
                                 "?format=BCF&referenceName=1&start=0&end=5000000")});
  ASSERT_EQ(slice.exit_code, 0) << slice.output;
  EXPECT_FALSE(Lines(slice.output).empty());
  // A header block with a range is refused.
  auto bad = Call(ana_token_, "GET", "/ga4gh/htsget/v1/blocks/" + bcf_id_ + "?class=header&start=0");
  EXPECT_EQ(bad->status, 400) << bad->body;
  EXPECT_EQ(bad->Json()["htsget"]["error"], "InvalidInput");
}

TEST_P(HtsgetTest, ErrorsHaveHtsgetShapeAndCodes) {
  auto info = server_->Request("GET", "/ga4gh/htsget/v1/variants/service-info");
  ASSERT_EQ(info->status, 200);
  EXPECT_EQ(info->Json()["type"]["artifact"], "htsget");
  EXPECT_EQ(info->Json()["htsget"]["formats"], json::array({"VCF", "BCF"}));
  auto ticket = Call(ana_token_, "GET", "/ga4gh/htsget/v1/reads/" + bam_id_);
  ASSERT_EQ(ticket->status, 200) << ticket->body;
  EXPECT_EQ(ticket->headers["content-type"], "application/vnd.ga4gh.htsget.v1.3.0+json; charset=utf-8");
  const json ticket_urls = ticket->Json()["htsget"]["urls"];  // a named copy: the loop outlives
  ASSERT_GE(ticket_urls.size(), 3u);                           // Json()'s temporary otherwise
  for (const auto& u : ticket_urls) {
    EXPECT_TRUE(u.contains("headers")) << u.dump();
    EXPECT_TRUE(u["url"].get<std::string>().starts_with("https://"));
  }
  const std::vector<std::tuple<std::string, int, std::string>> cases = {
      {"/ga4gh/htsget/v1/reads/FL-NONE", 404, "NotFound"},
      {"/ga4gh/htsget/v1/variants/" + bam_id_, 404, "NotFound"},
      {"/ga4gh/htsget/v1/reads/" + bam_id_ + "?format=CRAM", 400, "UnsupportedFormat"},
      {"/ga4gh/htsget/v1/reads/" + bam_id_ + "?format=VCF", 400, "UnsupportedFormat"},
      {"/ga4gh/htsget/v1/reads/" + bam_id_ + "?referenceName=11&start=9&end=5", 400, "InvalidRange"},
      {"/ga4gh/htsget/v1/reads/" + bam_id_ + "?start=5", 400, "InvalidInput"},
      {"/ga4gh/htsget/v1/reads/" + bam_id_ + "?class=header&referenceName=11", 400, "InvalidInput"},
      {"/ga4gh/htsget/v1/reads/" + bam_id_ + "?class=body", 400, "InvalidInput"},
      {"/ga4gh/htsget/v1/reads/" + bam_id_ + "?referenceName=11&start=-1", 400, "InvalidInput"},
      {"/ga4gh/htsget/v1/reads/" + bam_id_ + "?referenceName=*&start=1", 400, "InvalidInput"},
      {"/ga4gh/htsget/v1/reads/" + bam_id_ + "?tags=NM,MD&notags=MD", 400, "InvalidInput"},
      {"/ga4gh/htsget/v1/reads/" + bam_id_ + "?fields=QNAME,BOGUS", 400, "InvalidInput"},
      {"/ga4gh/htsget/v1/reads/" + bam_id_ + "?referenceName=chrNope", 404, "NotFound"},
      {"/ga4gh/htsget/v1/reads/" + bam_id_ + "?colour=red", 400, "InvalidInput"},
      {"/ga4gh/htsget/v1/blocks/" + bam_id_ + "?start=10&end=5", 400, "InvalidRange"},
  };
  for (const auto& [path, status, type] : cases) {
    auto r = Call(ana_token_, "GET", path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, status) << path << ": " << r->body;
    EXPECT_EQ(r->Json()["htsget"]["error"], type) << path << ": " << r->body;
  }
  // Another analysis centre: PermissionDenied, in htsget's shape.
  auto other = Call(other_token_, "GET", "/ga4gh/htsget/v1/reads/" + bam_id_);
  EXPECT_EQ(other->status, 403);
  EXPECT_EQ(other->Json()["htsget"]["error"], "PermissionDenied") << other->body;
  EXPECT_EQ(server_->Request("GET", "/healthz")->status, 200);
}

// Issue 12 finding 6: a forged Host header never decides where tickets and access URLs point
// (the client would send its token there); they are built from the configured public URL.
TEST_P(HtsgetTest, TicketAndAccessUrlsUseTheConfiguredBaseNotTheHostHeader) {
  const std::string base = fmt::format("https://127.0.0.1:{}", server_->port());
  const std::map<std::string, std::string> forged = {{"Authorization", "Bearer " + ana_token_},
                                                     {"Host", "attacker.example"}};
  auto ticket = server_->Request("GET", "/ga4gh/htsget/v1/reads/" + bam_id_, forged);
  ASSERT_EQ(ticket->status, 200) << ticket->body;
  const json urls = ticket->Json()["htsget"]["urls"];
  ASSERT_FALSE(urls.empty());
  for (const auto& u : urls) {
    EXPECT_TRUE(u["url"].get<std::string>().starts_with(base + "/ga4gh/htsget/v1/blocks/"))
        << u.dump();
  }
  EXPECT_EQ(ticket->body.find("attacker"), std::string::npos) << ticket->body;
  auto access = server_->Request("GET", "/ga4gh/drs/v1/objects/" + cram_id_ + "/access/https",
                                 forged);
  ASSERT_EQ(access->status, 200) << access->body;
  EXPECT_TRUE(access->Json()["url"].get<std::string>().starts_with(base + "/")) << access->body;
  auto obj = server_->Request("GET", "/ga4gh/drs/v1/objects/" + cram_id_, forged);
  ASSERT_EQ(obj->status, 200) << obj->body;
  EXPECT_EQ(obj->body.find("attacker"), std::string::npos) << obj->body;
  EXPECT_EQ(obj->Json()["self_uri"], fmt::format("drs://127.0.0.1:{}/{}", server_->port(), cram_id_));
  // Issue 12 (GA4GH): the DRS htsget link names the stored format, so it works as given
  // (without it htsget's default BAM is refused for a CRAM with UnsupportedFormat).
  std::string htsget_url;
  const json methods = obj->Json()["access_methods"];  // a named copy outlives the loop
  for (const auto& m : methods) {
    if (m["type"] == "htsget") htsget_url = m["access_url"]["url"];
  }
  EXPECT_EQ(htsget_url, base + "/ga4gh/htsget/v1/reads/" + cram_id_ + "?format=CRAM");
  auto via_link = Call(ana_token_, "GET", htsget_url.substr(base.size()));
  ASSERT_TRUE(via_link);
  EXPECT_EQ(via_link->status, 200) << via_link->body;
  EXPECT_EQ(via_link->Json()["htsget"]["format"], "CRAM");
  auto options = server_->Request("OPTIONS", "/ga4gh/drs/v1/objects/x", {{"Host", "attacker.example"}});
  EXPECT_EQ(options->Json()["bearer_auth_issuers"], json::array({base}));

  // A configured public_url is used as it stands (behind a proxy), whatever the Host says.
  auto proxied = ZengenServer::Start(GetParam(), {"public_url = https://zengen.example.jp/"});
  ASSERT_NE(proxied, nullptr);
  auto o2 = proxied->Request("OPTIONS", "/ga4gh/drs/v1/objects/x", {{"Host", "attacker.example"}});
  ASSERT_TRUE(o2);
  EXPECT_EQ(o2->Json()["bearer_auth_issuers"], json::array({"https://zengen.example.jp"}));
}

TEST_P(HtsgetTest, WithdrawalStopsTicketsBlocksAndDrsOnTheNextRequest) {
  auto drs = Call(ana_token_, "GET", "/ga4gh/drs/v1/objects/" + bcf_id_);
  ASSERT_EQ(drs->status, 200) << drs->body;
  const json obj = drs->Json();
  EXPECT_EQ(obj["id"], bcf_id_);
  EXPECT_TRUE(obj["self_uri"].get<std::string>().starts_with("drs://"));
  EXPECT_EQ(obj["checksums"][0]["type"], "sha-256");
  auto access = Call(ana_token_, "GET", "/ga4gh/drs/v1/objects/" + bcf_id_ + "/access/https");
  ASSERT_EQ(access->status, 200) << access->body;
  // The access URL gives the sanitised file, whose SHA-256 is the DRS checksum.
  const std::string url = access->Json()["url"];
  auto bytes = Call(ana_token_, "GET", url.substr(url.find("/ga4gh/")));
  ASSERT_EQ(bytes->status, 200);
  EXPECT_EQ(crypto::Sha256Hex(bytes->body), obj["checksums"][0]["checksum"]);
  // Authorisation discovery needs no token and answers alike for any id.
  for (const std::string& id : {bcf_id_, std::string("FL-NONE")}) {
    auto options = server_->Request("OPTIONS", "/ga4gh/drs/v1/objects/" + id);
    ASSERT_TRUE(options);
    EXPECT_EQ(options->status, 200) << options->body;
    EXPECT_EQ(options->Json()["drs_object_id"], id);
    EXPECT_EQ(options->Json()["supported_types"], json::array({"BearerAuth"}));
  }

  auto ticket = Call(ana_token_, "GET", "/ga4gh/htsget/v1/variants/" + bcf_id_ + "?format=BCF");
  ASSERT_EQ(ticket->status, 200);
  const std::string block = ticket->Json()["htsget"]["urls"][0]["url"];
  const std::string block_path = block.substr(block.find("/ga4gh/"));
  ASSERT_EQ(Call(ana_token_, "GET", block_path)->status, 200);
  // Issue 12, the one gate: one block request, one policy decision, one audit record (the
  // resolver gathered custody and live consent; the handler decides nothing again).
  ASSERT_EQ(Refused(ana_token_, block_path, "block-once-1")->status, 200);
  EXPECT_EQ(AuditCount("block-once-1"), 1);
  ASSERT_EQ(Refused(ana_token_, "/ga4gh/drs/v1/objects/" + bcf_id_, "drs-once-1")->status, 200);
  EXPECT_EQ(AuditCount("drs-once-1"), 1);

  ASSERT_EQ(clinician_.Send("POST", "/api/v1/participants/" + participant_ + "/withdrawal",
                            {{"level", "full"}, {"signed_date", "2026-04-01"}, {"reason", "test"}})
                ->status,
            201);
  auto t2 = Call(ana_token_, "GET", "/ga4gh/htsget/v1/variants/" + bcf_id_ + "?format=BCF");
  EXPECT_EQ(t2->status, 403);
  EXPECT_EQ(t2->Json()["htsget"]["error"], "PermissionDenied");
  auto b2 = Refused(ana_token_, block_path, "block-withdrawn-1");
  EXPECT_EQ(b2->status, 403);
  EXPECT_EQ(b2->Json()["htsget"]["error"], "PermissionDenied") << b2->body;
  EXPECT_EQ(AuditCount("block-withdrawn-1"), 1);
  EXPECT_NE(AuditReasons("block-withdrawn-1").find("withdrawn"), std::string::npos);
  auto d2 = Call(ana_token_, "GET", "/ga4gh/drs/v1/objects/" + bcf_id_);
  EXPECT_EQ(d2->status, 403);
  EXPECT_EQ(d2->Json()["status_code"], 403);
  EXPECT_EQ(d2->body.find("withdr"), std::string::npos) << d2->body;
  // Issue 12 (GA4GH): refusals of the filter chain are in the protocols' own shapes too.
  auto anon_htsget = server_->Request("GET", block_path);
  EXPECT_EQ(anon_htsget->status, 401);
  EXPECT_EQ(anon_htsget->Json()["htsget"]["error"], "InvalidAuthentication") << anon_htsget->body;
  auto bad_token = server_->Request("GET", "/ga4gh/drs/v1/objects/" + bcf_id_,
                                    {{"Authorization", "Bearer zg_forged"}});
  EXPECT_EQ(bad_token->status, 401);
  EXPECT_EQ(bad_token->Json()["status_code"], 401) << bad_token->body;
  EXPECT_TRUE(bad_token->Json().contains("msg")) << bad_token->body;
}

TEST_P(HtsgetTest, JointVcfServesOnlyTheSamplesWhoseConsentHolds) {
  const std::string p2 = AnalysedParticipant("MRN-78");
  const std::string p3 = AnalysedParticipant("MRN-79");
  const fs::path local = kFixtures / "htsget/variants/spec-v4.3.vcf.gz";
  // Sample names that are not the participants' are refused before anything is stored.
  auto bad = Call(ana_token_, "POST", "/api/v1/uploads",
                  {{"kind", "vcf"}, {"specimen_id", specimen_}, {"derived_from", {fq_id_}},
                   {"sample_map", {{"NA00001", participant_}, {"NA00002", "ZG-NONE"}}},
                   {"file_name", "joint.vcf.gz"}, {"size", 10}, {"sha256", std::string(64, 'a')}});
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(bad->ErrorField(), "sample_map");
  const json joint = Upload(ana_token_,
                            {{"kind", "vcf"}, {"specimen_id", specimen_}, {"derived_from", {fq_id_}},
                             {"sample_map", {{"NA00001", participant_}, {"NA00002", p2},
                                             {"NA00003", p3}}},
                             {"file_name", "joint.vcf.gz"}},
                            ReadFileBytes(local.string()));
  const std::string id = joint["file"]["id"];
  const std::string url = Url("/ga4gh/htsget/v1/variants/" + id);
  auto all = Client({"/usr/bin/bcftools", "query", "-l", url});
  ASSERT_EQ(all.exit_code, 0) << all.output;
  EXPECT_EQ(Lines(all.output), (std::vector<std::string>{participant_, p2, p3}));
  // Issue 12: the samples are selected by the gate with the file's one decision, so a request
  // on a joint file writes one audit record, not one more per sample.
  ASSERT_EQ(Refused(ana_token_, "/ga4gh/htsget/v1/variants/" + id, "joint-ticket-1")->status, 200);
  EXPECT_EQ(AuditCount("joint-ticket-1"), 1);
  ASSERT_EQ(Refused(ana_token_, "/ga4gh/drs/v1/objects/" + id, "joint-drs-1")->status, 200);
  EXPECT_EQ(AuditCount("joint-drs-1"), 1);

  ASSERT_EQ(clinician_.Send("POST", "/api/v1/participants/" + p2 + "/withdrawal",
                            {{"level", "full"}, {"signed_date", "2026-04-01"}, {"reason", "test"}})
                ->status,
            201);
  auto rest = Client({"/usr/bin/bcftools", "query", "-l", url});
  ASSERT_EQ(rest.exit_code, 0) << rest.output;
  EXPECT_EQ(Lines(rest.output), (std::vector<std::string>{participant_, p3}));
  // The genotypes are those of NA00001 and NA00003, and every record is there.
  const auto want = RunCommand({"/usr/bin/bcftools", "query", "-f", "%POS[\\t%GT]\\n", "-s",
                                "NA00001,NA00003", local.string()});
  const auto got = Client({"/usr/bin/bcftools", "query", "-f", "%POS[\\t%GT]\\n", url});
  EXPECT_EQ(Lines(got.output), Lines(want.output));
  EXPECT_EQ(Lines(got.output).size(), 5u);
  // The stored bytes (which still hold the withdrawn column) are no longer offered raw.
  auto obj = Call(ana_token_, "GET", "/ga4gh/drs/v1/objects/" + id);
  ASSERT_EQ(obj->status, 200);
  EXPECT_EQ(obj->Json()["access_methods"].size(), 1u);
  EXPECT_EQ(Call(ana_token_, "GET", "/ga4gh/drs/v1/objects/" + id + "/access/https")->status, 404);
  EXPECT_EQ(Call(ana_token_, "GET", "/ga4gh/htsget/v1/blocks/" + id + "?start=0&end=100")->status,
            403);
  ASSERT_EQ(Refused(ana_token_, "/ga4gh/htsget/v1/blocks/" + id + "?view=visible",
                    "joint-visible-1")->status,
            200);
  EXPECT_EQ(AuditCount("joint-visible-1"), 1);
}

// A date `days` from today (UTC), YYYY-MM-DD.
std::string DateFromToday(int days) {
  const auto d = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now()) +
                 std::chrono::days(days);
  const std::chrono::year_month_day ymd{d};
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
}

TEST_P(HtsgetTest, ResearcherReadsThroughAGrantUntilItExpiresOrIsRevoked) {
  for (const auto& [org, kind] : std::vector<std::pair<std::string, std::string>>{
           {"univ", "academic"}, {"dc", "data_center"}}) {
    ASSERT_EQ(AsOperator(*server_, "POST", "/api/v1/admin/organisations",
                         {{"id", org}, {"name", org}, {"kind", kind}, {"jurisdiction", "JP"}})
                  ->status,
              201);
  }
  ASSERT_EQ(AsOperator(*server_, "POST", "/api/v1/admin/groups",
                       {{"id", "grp-wgs"}, {"name", "WGS group"}})->status, 201);
  const std::string steward = Token("dc", "data_steward",
                                    {"dataset.write", "dataset.read", "grant.revoke", "grant.read"});
  // The researcher is a person: signs in with TOTP, applies, and makes a personal token for
  // samtools (an organisation token could not hold the grant).
  auto ru = AsOperator(*server_, "POST", "/api/v1/admin/users",
                       {{"id", "res-a"}, {"organisation", "univ"}, {"display_name", "res-a"},
                        {"email", "res-a@example.org"}, {"roles", {"researcher"}},
                        {"password", kPassword}});
  ASSERT_EQ(ru->status, 201) << ru->body;
  Browser person{server_.get()};
  ASSERT_FALSE(person.LoginAndEnrol("res-a", kPassword).empty());
  auto pt = person.Send("POST", "/api/v1/auth/tokens",
                        {{"name", "samtools"}, {"actions", {"htsget.read", "drs.read", "data.access"}}, {"days", 7}});
  ASSERT_EQ(pt->status, 201) << pt->body;
  const std::string researcher = pt->Json()["token"];
  // A token cannot make tokens, nor do what its person may not.
  EXPECT_EQ(Call(researcher, "POST", "/api/v1/auth/tokens",
                 {{"name", "x"}, {"actions", {"htsget.read"}}})->status, 403);
  auto beyond = person.Send("POST", "/api/v1/auth/tokens",
                            {{"name", "x"}, {"actions", {"user.write"}}});
  EXPECT_EQ(beyond->status, 400);
  EXPECT_EQ(beyond->ErrorField(), "actions");
  const std::string com1 = Token("dc", "committee_member", {"application.review", "application.read"});
  const std::string com2 = Token("dc", "committee_member", {"application.review", "application.read"});
  // Before any grant: the researcher is refused, in htsget's shape.
  std::ofstream(work_ / "token", std::ios::trunc) << researcher;
  auto none = Call(researcher, "GET", "/ga4gh/htsget/v1/reads/" + cram_id_ + "?format=CRAM");
  EXPECT_EQ(none->status, 403);
  EXPECT_EQ(none->Json()["htsget"]["error"], "PermissionDenied");

  auto ds = Call(steward, "POST", "/api/v1/datasets",
                 {{"name_ja", "肺がん"}, {"name_en", "Lung"}, {"program", "cancer"},
                  {"group_id", "grp-wgs"}});
  ASSERT_EQ(ds->status, 201) << ds->body;
  const std::string dataset = ds->Json()["id"];
  ASSERT_EQ(Call(steward, "POST", "/api/v1/datasets/" + dataset + "/files",
                 {{"participant_ids", {participant_}}})->status, 200);
  auto rel = Call(steward, "POST", "/api/v1/datasets/" + dataset + "/releases",
                  {{"release_date", DateFromToday(0)}, {"embargo_months", 0}});
  ASSERT_EQ(rel->status, 201) << rel->body;
  ASSERT_EQ(rel->Json()["tier"], "controlled");
  auto app = person.Send("POST", "/api/v1/applications",
                  {{"title", "肺がんの体細胞変異"}, {"purpose", {{"primary", "HMB"}}},
                   {"datasets", {dataset}},
                   {"ethics", {{"file_name", "irb.pdf"}, {"sha256", std::string(64, 'e')}, {"size", 10}}},
                   {"abstract", "a"}, {"principal_investigator", "p"}, {"data_security_plan", "s"},
                   {"start_date", DateFromToday(0)}, {"end_date", DateFromToday(365)}});
  ASSERT_EQ(app->status, 201) << app->body;
  const std::string aid = app->Json()["id"];
  ASSERT_EQ(person.Send("POST", "/api/v1/applications/" + aid + "/submit")->status, 200);
  for (const auto& member : {com1, com2}) {
    auto v = Call(member, "POST", "/api/v1/applications/" + aid + "/votes", {{"vote", "approve"}});
    ASSERT_EQ(v->status, 201) << v->body;
  }
  auto decided = Call(com1, "POST", "/api/v1/applications/" + aid + "/decision");
  ASSERT_EQ(decided->status, 200) << decided->body;
  const std::string grant = decided->Json()["grant"]["id"];

  // With the grant: samtools reads a region slice through the ticket.
  auto direct = Call(researcher, "GET", "/ga4gh/htsget/v1/reads/" + cram_id_ + "?format=CRAM");
  ASSERT_EQ(direct->status, 200) << direct->body;
  const std::string url = Url("/ga4gh/htsget/v1/reads/" + cram_id_ +
                              "?format=CRAM&referenceName=11&start=5005000&end=5009000");
  auto slice = Client({"/usr/bin/samtools", "view", "-c", url});
  ASSERT_EQ(slice.exit_code, 0) << slice.output;
  EXPECT_GT(std::stoll(slice.output), 10);
  EXPECT_EQ(Call(researcher, "GET", "/ga4gh/drs/v1/objects/" + cram_id_)->status, 200);
  // Issue 12, the one gate: a researcher's block request is decided once and audited once.
  const std::string rblock = direct->Json()["htsget"]["urls"][0]["url"];
  auto rb = Refused(researcher, rblock.substr(rblock.find("/ga4gh/")), "res-block-1");
  ASSERT_EQ(rb->status, 200);
  EXPECT_EQ(AuditCount("res-block-1"), 1);

  // Expiry: the grant's end moved into the past, as time passing would do.
  auto store = storage::OpenStore({.location = server_->DatabaseLocation(), .migrate = false});
  ASSERT_TRUE(store.ok()) << store.error().message;
  auto set_expiry = [&](const std::string& when) {
    auto tx = (*store)->Begin(storage::TxMode::kWrite);
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE((*tx)->Exec("UPDATE grants SET expires_at = $1 WHERE id = $2",
                            {storage::Text(when), storage::Text(grant)}).ok());
    ASSERT_TRUE((*tx)->Commit().ok());
  };
  auto original = [&] {
    auto tx = (*store)->Begin(storage::TxMode::kRead);
    return (*tx)->Query("SELECT expires_at FROM grants WHERE id = $1", {storage::Text(grant)})
        ->rows.front().Text(0);
  }();
  set_expiry("2020-01-01T00:00:00Z");
  auto expired = Refused(researcher, "/ga4gh/htsget/v1/reads/" + cram_id_ + "?format=CRAM",
                         "res-expired");
  EXPECT_EQ(expired->status, 403);
  EXPECT_EQ(expired->Json()["htsget"]["error"], "PermissionDenied") << expired->body;
  // Issue 12 finding 7: the refusal names no grant, dataset or release and does not say why;
  // the audit record does.
  for (const std::string& secret : {std::string("expired"), grant, dataset, std::string("RL-")}) {
    EXPECT_EQ(expired->body.find(secret), std::string::npos) << secret << ": " << expired->body;
  }
  EXPECT_NE(AuditReasons("res-expired").find("expired"), std::string::npos);
  set_expiry(original);
  ASSERT_EQ(Call(researcher, "GET", "/ga4gh/htsget/v1/reads/" + cram_id_ + "?format=CRAM")->status,
            200);

  // Revocation: the very next ticket is refused.
  ASSERT_EQ(Call(steward, "POST", "/api/v1/grants/" + grant + "/revoke", {{"reason", "audit"}})->status,
            200);
  auto revoked = Refused(researcher, "/ga4gh/htsget/v1/reads/" + cram_id_ + "?format=CRAM",
                         "res-revoked");
  EXPECT_EQ(revoked->status, 403);
  EXPECT_EQ(revoked->Json()["htsget"]["error"], "PermissionDenied");
  for (const std::string& secret : {std::string("revoked"), grant, dataset}) {
    EXPECT_EQ(revoked->body.find(secret), std::string::npos) << secret << ": " << revoked->body;
  }
  EXPECT_NE(AuditReasons("res-revoked").find("revoked"), std::string::npos);
  auto access = Refused(researcher, "/api/v1/shared-files/" + cram_id_ + "/access", "res-access");
  ASSERT_EQ(access->status, 200) << access->body;
  EXPECT_EQ(access->Json()["allowed"], false);
  EXPECT_EQ(access->Json()["reason"], "access_denied");
  for (const std::string& secret : {std::string("revoked"), grant, dataset}) {
    EXPECT_EQ(access->body.find(secret), std::string::npos) << secret << ": " << access->body;
  }

  // A withdrawal is not revealed to the researcher either (only the audit record says it).
  ASSERT_EQ(clinician_.Send("POST", "/api/v1/participants/" + participant_ + "/withdrawal",
                            {{"level", "full"}, {"signed_date", "2026-04-01"}, {"reason", "test"}})
                ->status,
            201);
  for (const std::string& path : {"/ga4gh/htsget/v1/reads/" + cram_id_ + "?format=CRAM",
                                 "/ga4gh/drs/v1/objects/" + cram_id_}) {
    auto withdrawn = Refused(researcher, path, "res-withdrawn");
    EXPECT_EQ(withdrawn->status, 403) << path;
    EXPECT_EQ(withdrawn->body.find("withdr"), std::string::npos) << withdrawn->body;
    EXPECT_EQ(withdrawn->body.find(participant_), std::string::npos) << withdrawn->body;
  }
  EXPECT_NE(AuditReasons("res-withdrawn").find("withdrawn"), std::string::npos);
}


// Issue 15: the cohort variant store answers over the samples the gate allows per request. A
// joint VCF ingested into the cohort; after one participant's full withdrawal the very next
// counts, carriers, export and Beacon records leave that participant out; another analysis
// centre sees none.
TEST_P(HtsgetTest, CohortQueriesLeaveOutAWithdrawnParticipantOnTheNextRequest) {
  const std::string p2 = AnalysedParticipant("MRN-88");
  const std::string p3 = AnalysedParticipant("MRN-89");
  const json joint = Upload(ana_token_,
                            {{"kind", "vcf"}, {"specimen_id", specimen_}, {"derived_from", {fq_id_}},
                             {"sample_map", {{"NA00001", participant_}, {"NA00002", p2},
                                             {"NA00003", p3}}},
                             {"file_name", "joint.vcf.gz"}},
                            ReadFileBytes((kFixtures / "htsget/variants/spec-v4.3.vcf.gz").string()));
  ASSERT_EQ(AsOperator(*server_, "POST", "/api/v1/admin/organisations",
                       {{"id", "dc"}, {"name", "dc"}, {"kind", "data_center"},
                        {"jurisdiction", "JP"}})->status, 201);
  const std::string steward = Token("dc", "data_steward", {"variants.ingest", "variants.read"});
  auto ingest = Call(steward, "POST", "/api/v1/variants/ingest", {{"file_id", joint["file"]["id"]}});
  ASSERT_EQ(ingest->status, 201) << ingest->body;
  EXPECT_EQ(ingest->Json()["samples"], 3);
  EXPECT_EQ(Call(steward, "POST", "/api/v1/variants/ingest", {{"file_id", joint["file"]["id"]}})
                ->status, 409);
  EXPECT_EQ(Call(steward, "POST", "/api/v1/variants/ingest", {{"file_id", bam_id_}})->ErrorField(),
            "file_id");

  const std::string analyst = Token("ana-1", "analyst", {"variants.read"});
  const std::string site = "/api/v1/variants/counts?chrom=20&start=14370&end=14370";
  const std::string carriers = "/api/v1/variants/carriers?chrom=20&pos=14370&ref=G&alt=A";
  // 20:14370 G>A: NA00001 0|0, NA00002 1|0, NA00003 1/1.
  auto before = server_->Request("GET", site, {{"Authorization", "Bearer " + analyst},
                                               {"X-Request-Id", "cohort-before"}});
  ASSERT_EQ(before->status, 200) << before->body;
  ASSERT_EQ(before->Json()["sites"].size(), 1u) << before->body;
  EXPECT_EQ(before->Json()["sites"][0]["ac"], 3);
  EXPECT_EQ(before->Json()["sites"][0]["an"], 6);
  EXPECT_EQ(before->Json()["sites"][0]["id"], "rs6054257");
  // One record for the route's decision, one for the query with what it counted.
  EXPECT_EQ(AuditCount("cohort-before"), 2);
  EXPECT_NE(AuditReasons("cohort-before").find("3 of 3 samples allowed"), std::string::npos)
      << AuditReasons("cohort-before");
  auto c1 = Call(analyst, "GET", carriers);
  ASSERT_EQ(c1->status, 200) << c1->body;
  EXPECT_EQ(c1->Json()["carriers"],
            json::parse(fmt::format(R"([{{"participant_id":"{}","genotype":"het"}},)"
                                    R"({{"participant_id":"{}","genotype":"hom"}}])", p2, p3)));
  const std::string beacon =
      "/ga4gh/beacon/v2/g_variants?referenceName=20&start=14369&referenceBases=G&"
      "alternateBases=A&requestedGranularity=record";
  auto b1 = Call(steward, "GET", beacon);
  ASSERT_EQ(b1->status, 200) << b1->body;
  ASSERT_EQ(b1->Json()["meta"]["returnedGranularity"], "record") << b1->body;
  EXPECT_EQ(b1->Json()["response"]["resultSets"][0]["results"][0]["caseLevelData"].size(), 2u);
  // Nothing is released: the public's answer counts no sample.
  auto anonymous = server_->Request("GET", beacon);
  ASSERT_EQ(anonymous->status, 200) << anonymous->body;
  EXPECT_EQ(anonymous->Json()["responseSummary"]["exists"], false);
  auto e1 = Call(analyst, "GET", "/api/v1/variants/export?chrom=20&start=1&end=2000000&format=csv");
  ASSERT_EQ(e1->status, 200) << e1->body;
  EXPECT_NE(e1->body.find(p2), std::string::npos);

  ASSERT_EQ(clinician_.Send("POST", "/api/v1/participants/" + p2 + "/withdrawal",
                            {{"level", "full"}, {"signed_date", "2026-04-01"}, {"reason", "test"}})
                ->status,
            201);
  auto after = Call(analyst, "GET", site);
  ASSERT_EQ(after->status, 200) << after->body;
  EXPECT_EQ(after->Json()["samples"], 2);
  EXPECT_EQ(after->Json()["sites"][0]["ac"], 2);
  EXPECT_EQ(after->Json()["sites"][0]["an"], 4);
  auto c2 = Call(analyst, "GET", carriers);
  EXPECT_EQ(c2->Json()["carriers"].size(), 1u) << c2->body;
  EXPECT_EQ(c2->body.find(p2), std::string::npos) << c2->body;
  auto b2 = Call(steward, "GET", beacon);
  ASSERT_EQ(b2->status, 200) << b2->body;
  EXPECT_EQ(b2->Json()["response"]["resultSets"][0]["results"][0]["caseLevelData"].size(), 1u);
  EXPECT_EQ(b2->body.find(p2), std::string::npos) << b2->body;
  auto e2 = Call(analyst, "GET", "/api/v1/variants/export?chrom=20&start=1&end=2000000");
  ASSERT_EQ(e2->status, 200);
  EXPECT_EQ(e2->Json()["participants"].size(), 2u);
  EXPECT_EQ(e2->body.find(p2), std::string::npos) << e2->body;

  // Another analysis centre passes the route (its role may query) but counts nobody's samples.
  const std::string other = Token("ana-2", "analyst", {"variants.read"});
  auto none = Call(other, "GET", site);
  ASSERT_EQ(none->status, 200) << none->body;
  EXPECT_EQ(none->Json()["samples"], 0);
  EXPECT_TRUE(none->Json()["sites"].empty());
  // Clinical filters narrow the samples (nobody here has a submitted clinical record).
  auto filtered = Call(analyst, "GET", site + "&sex=female");
  ASSERT_EQ(filtered->status, 200) << filtered->body;
  EXPECT_EQ(filtered->Json()["samples"], 0);
  // Bad parameters are 400s naming the parameter.
  EXPECT_EQ(Call(analyst, "GET", "/api/v1/variants/counts?chrom=20&start=10&end=5")->ErrorField(),
            "end");
  EXPECT_EQ(Call(analyst, "GET", "/api/v1/variants/counts")->ErrorField(), "chrom");
  EXPECT_EQ(Call(analyst, "GET", site + "&age_band=old")->ErrorField(), "age_band");
}

// Issue 17: the hot copies at a local site and on a Ceph RGW (blob_s3_sites); with every local
// hot copy gone, htsget reads the slices from the RGW and they equal the local view, and each
// DRS access URL gives the object's bytes (size and SHA-256 as DRS announces them).
class HtsgetFromRgwTest : public HtsgetTest {
 protected:
  std::vector<std::string> ServerConfig() override { return config_; }
  void SetUp() override {
    const char* gw = std::getenv("ZENGEN_TEST_S3");
    if (gw == nullptr || *gw == '\0') {
      const char* req = std::getenv("ZENGEN_REQUIRE_S3");
      if (req != nullptr && std::string(req) == "1") FAIL() << "ZENGEN_TEST_S3 is not set";
      GTEST_SKIP() << "no Ceph RGW for tests (set ZENGEN_TEST_S3)";
    }
    std::istringstream in(gw);
    std::string endpoint, access, secret;
    in >> endpoint >> access >> secret;
    const std::string bucket = "htsget-" + crypto::ToHex(crypto::RandomBytes(5));
    const auto made = RunCommand(
        {"/usr/bin/curl", "-fsS", "-X", "PUT", "--aws-sigv4", "aws:amz:us-east-1:s3", "--user",
         access + ":" + secret, "-H",
         "x-amz-content-sha256: "
         "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
         endpoint + "/" + bucket});
    ASSERT_EQ(made.exit_code, 0) << made.output;
    cred_dir_ = fs::temp_directory_path() / ("zg-cred-" + crypto::ToHex(crypto::RandomBytes(6)));
    fs::create_directories(cred_dir_);
    std::ofstream(cred_dir_ / "rgw.cred") << access << " " << secret << "\n";
    ASSERT_EQ(chmod((cred_dir_ / "rgw.cred").c_str(), 0600), 0);
    config_ = {"blob_roots = hot1:hot:JP:blobs/hot1;cold1:cold:JP:blobs/cold1;"
               "cold2:cold:JP:blobs/cold2",
               "blob_s3_sites = name=rgw tier=hot jurisdiction=JP endpoint=" + endpoint +
                   " bucket=" + bucket + " credentials=" + (cred_dir_ / "rgw.cred").string()};
    HtsgetTest::SetUp();
  }
  void TearDown() override {
    HtsgetTest::TearDown();
    std::error_code ec;
    fs::remove_all(cred_dir_, ec);
  }
  std::vector<std::string> config_;
  fs::path cred_dir_;
};

TEST_P(HtsgetFromRgwTest, SlicesComeFromTheRgwWhenTheLocalCopiesAreGone) {
  // Every hot object (the BAM, the BCF, the CRAM and their indexes) is on hot1 and the RGW.
  const fs::path hot1 = server_->data_dir() / "blobs/hot1";
  size_t removed = 0;
  for (const auto& e : fs::recursive_directory_iterator(hot1)) {
    if (e.is_regular_file() && e.path().filename().string().starts_with("blob_")) ++removed;
  }
  ASSERT_GE(removed, 3u);
  fs::remove_all(hot1);
  fs::create_directories(hot1);

  fs::copy_file(bam_local_, work_ / "local.bam");
  ASSERT_EQ(RunCommand({"/usr/bin/samtools", "index", (work_ / "local.bam").string()}).exit_code, 0);
  const std::string region = "11:5005001-5009000";
  const auto local = RunCommand({"/usr/bin/samtools", "view", (work_ / "local.bam").string(), region});
  ASSERT_EQ(local.exit_code, 0) << local.output;
  ASSERT_GT(Lines(local.output).size(), 10u);
  const std::string url = Url("/ga4gh/htsget/v1/reads/" + bam_id_ +
                              "?format=BAM&referenceName=11&start=5005000&end=5009000");
  const auto slice = Client({"/usr/bin/samtools", "view", "-b", "-o", (work_ / "slice.bam").string(), url});
  ASSERT_EQ(slice.exit_code, 0) << slice.output << server_->Log();
  ASSERT_EQ(RunCommand({"/usr/bin/samtools", "index", (work_ / "slice.bam").string()}).exit_code, 0);
  const auto remote = RunCommand({"/usr/bin/samtools", "view", (work_ / "slice.bam").string(), region});
  EXPECT_EQ(Lines(remote.output), Lines(local.output));
  // The whole file: every record, from the RGW.
  const auto whole = Client({"/usr/bin/samtools", "view", "-c", Url("/ga4gh/htsget/v1/reads/" + bam_id_)});
  ASSERT_EQ(whole.exit_code, 0) << whole.output;
  const auto total = RunCommand({"/usr/bin/samtools", "view", "-c", bam_local_.string()});
  EXPECT_EQ(std::stoll(whole.output), std::stoll(total.output));
  // DRS too: each object's access URL gives, from the RGW, bytes of the DRS size whose SHA-256
  // is the DRS checksum.
  for (const std::string& id : {bam_id_, cram_id_, bcf_id_}) {
    SCOPED_TRACE(id);
    auto drs = Call(ana_token_, "GET", "/ga4gh/drs/v1/objects/" + id);
    ASSERT_EQ(drs->status, 200) << drs->body;
    const json obj = drs->Json();
    ASSERT_EQ(obj["checksums"][0]["type"], "sha-256");
    auto access = Call(ana_token_, "GET", "/ga4gh/drs/v1/objects/" + id + "/access/https");
    ASSERT_EQ(access->status, 200) << access->body;
    const std::string url = access->Json()["url"];
    auto bytes = Call(ana_token_, "GET", url.substr(url.find("/ga4gh/")));
    ASSERT_EQ(bytes->status, 200) << bytes->body << server_->Log();
    EXPECT_EQ(static_cast<int64_t>(bytes->body.size()), obj["size"].get<int64_t>());
    EXPECT_EQ(crypto::Sha256Hex(bytes->body), obj["checksums"][0]["checksum"]);
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, HtsgetFromRgwTest, ::testing::ValuesIn(storage::TestBackends()),
                         [](const auto& info) { return info.param; });

INSTANTIATE_TEST_SUITE_P(Backends, HtsgetTest, ::testing::ValuesIn(storage::TestBackends()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace zengen::testing

namespace zengen::testing {
namespace {

// A loopback TCP relay in front of the gateway that a test can cut: after CutAfter(budget) it
// passes budget more bytes from the gateway, then closes every connection and its listening
// socket, so the transfer in progress breaks and new connections are refused, as when the
// gateway stops or its port is blocked.
class CuttableRelay {
 public:
  explicit CuttableRelay(int upstream_port) : upstream_port_(upstream_port) {
    // why: CLOEXEC, or the zengen child started later inherits the socket and keeps the port
    // open (connections then hang in its backlog instead of being refused).
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::listen(listener_, 64) != 0) {
      throw std::runtime_error("relay: cannot listen");
    }
    socklen_t len = sizeof a;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { Loop(); });
  }
  ~CuttableRelay() {
    stop_ = true;
    thread_.join();
    Cut();
  }
  int port() const { return port_; }
  void CutAfter(int64_t bytes) { budget_ = bytes; }
  bool cut() const { return cut_; }
  // After a cut: listens again on the same port and relays without limit (the gateway is back).
  bool Restore() {
    thread_.join();
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port_));
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::listen(listener_, 64) != 0) {
      return false;
    }
    upstream_.clear();
    budget_ = -1;
    cut_ = false;
    thread_ = std::thread([this] { Loop(); });
    return true;
  }

 private:
  void Cut() {
    for (auto& [a, b] : peer_) ::close(a);
    peer_.clear();
    if (listener_ >= 0) ::close(listener_);
    listener_ = -1;
    cut_ = true;
  }
  static bool SendAll(int fd, const char* p, size_t n) {
    while (n > 0) {
      ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
      if (w <= 0) return false;
      p += w;
      n -= static_cast<size_t>(w);
    }
    return true;
  }
  void Drop(int fd) {
    const int other = peer_.at(fd);
    ::close(fd);
    ::close(other);
    peer_.erase(fd);
    peer_.erase(other);
  }
  void Loop() {
    std::vector<char> buf(256 << 10);
    while (!stop_ && !cut_) {
      std::vector<pollfd> fds = {{listener_, POLLIN, 0}};
      for (const auto& [fd, other] : peer_) fds.push_back({fd, POLLIN, 0});
      if (::poll(fds.data(), fds.size(), 50) <= 0) continue;
      if (fds[0].revents & POLLIN) {
        int c = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
        int u = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(static_cast<uint16_t>(upstream_port_));
        if (c >= 0 && ::connect(u, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
          peer_[c] = u;
          peer_[u] = c;
          upstream_.insert(u);
        } else {
          if (c >= 0) ::close(c);
          ::close(u);
        }
      }
      for (size_t i = 1; i < fds.size() && !cut_; ++i) {
        if (fds[i].revents == 0 || !peer_.contains(fds[i].fd)) continue;
        const int from = fds[i].fd;
        ssize_t n = ::recv(from, buf.data(), buf.size(), 0);
        if (n <= 0) {
          upstream_.erase(from);
          upstream_.erase(peer_.at(from));
          Drop(from);
          continue;
        }
        size_t pass = static_cast<size_t>(n);
        const int64_t budget = budget_;
        const bool from_gateway = upstream_.contains(from);
        if (from_gateway && budget >= 0) pass = std::min<size_t>(pass, static_cast<size_t>(budget));
        if (!SendAll(peer_.at(from), buf.data(), pass)) {
          upstream_.erase(from);
          upstream_.erase(peer_.at(from));
          Drop(from);
          continue;
        }
        if (from_gateway && budget >= 0) {
          budget_ = budget - static_cast<int64_t>(pass);
          if (budget_ == 0) Cut();
        }
      }
    }
  }

  int upstream_port_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<int64_t> budget_{-1};  // gateway bytes still passed; -1: no limit
  std::atomic<bool> stop_{false}, cut_{false};
  std::map<int, int> peer_;  // each end of a relayed connection to the other
  std::set<int> upstream_;   // the ends connected to the gateway
  std::thread thread_;
};

// Issue 17: the RGW goes away while a reader streams an object from it. The run's FASTQ (cold)
// is on the local site cold1 and on the RGW; with cold1's copy gone the RGW is the only copy.
// Cut after the first window of the object has been read from the gateway, a download
// (/api/v1/files/{id}/plaintext; DRS serves through the same stream) that has started is aborted (the client sees fewer bytes than the declared length, never a
// complete-looking 200); asked again with the gateway gone, the reader gets a clear error
// before any byte; the server keeps answering. The copy on the RGW is not marked corrupt (the
// site was unreachable): once the gateway is back it serves the object whole again.
class HtsgetRgwCutTest : public HtsgetTest {
 protected:
  int FastqReads() const override { return 130000; }
  std::vector<std::string> ServerConfig() override { return config_; }
  void SetUp() override {
    const char* gw = std::getenv("ZENGEN_TEST_S3");
    if (gw == nullptr || *gw == '\0') {
      const char* req = std::getenv("ZENGEN_REQUIRE_S3");
      if (req != nullptr && std::string(req) == "1") FAIL() << "ZENGEN_TEST_S3 is not set";
      GTEST_SKIP() << "no Ceph RGW for tests (set ZENGEN_TEST_S3)";
    }
    std::istringstream in(gw);
    std::string endpoint, access, secret;
    in >> endpoint >> access >> secret;
    const std::string bucket = "rgwcut-" + crypto::ToHex(crypto::RandomBytes(5));
    const auto made = RunCommand(
        {"/usr/bin/curl", "-fsS", "-X", "PUT", "--aws-sigv4", "aws:amz:us-east-1:s3", "--user",
         access + ":" + secret, "-H",
         "x-amz-content-sha256: "
         "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
         endpoint + "/" + bucket});
    ASSERT_EQ(made.exit_code, 0) << made.output;
    relay_ = std::make_unique<CuttableRelay>(std::stoi(endpoint.substr(endpoint.rfind(':') + 1)));
    cred_dir_ = fs::temp_directory_path() / ("zg-cred-" + crypto::ToHex(crypto::RandomBytes(6)));
    fs::create_directories(cred_dir_);
    std::ofstream(cred_dir_ / "rgw.cred") << access << " " << secret << "\n";
    ASSERT_EQ(chmod((cred_dir_ / "rgw.cred").c_str(), 0600), 0);
    config_ = {"blob_roots = hot1:hot:JP:blobs/hot1;hot2:hot:JP:blobs/hot2;cold1:cold:JP:blobs/cold1",
               fmt::format("blob_s3_sites = name=rgw tier=cold jurisdiction=JP "
                           "endpoint=http://127.0.0.1:{} bucket={} credentials={}",
                           relay_->port(), bucket, (cred_dir_ / "rgw.cred").string())};
    HtsgetTest::SetUp();
  }
  void TearDown() override {
    HtsgetTest::TearDown();
    relay_.reset();
    std::error_code ec;
    fs::remove_all(cred_dir_, ec);
  }
  std::vector<std::string> config_;
  fs::path cred_dir_;
  std::unique_ptr<CuttableRelay> relay_;
};

TEST_P(HtsgetRgwCutTest, ACutMidDownloadAbortsTheResponseAndTheServerKeepsServing) {
  const fs::path cold1 = server_->data_dir() / "blobs/cold1";
  fs::remove_all(cold1);
  fs::create_directories(cold1);
  const std::string url = Url("/api/v1/files/" + fq_id_ + "/plaintext");
  const std::string token = Token("ana-1", "analyst", {"file.read", "file.decrypt"});
  auto download = [&](const fs::path& out) {
    return RunCommand({"/usr/bin/curl", "-sS", "--cacert", server_->ca_cert().string(), "-H",
                       "Authorization: Bearer " + token, "-o", out.string(), "-w",
                       "%{http_code}", url});
  };
  // Whole through the relay first: the copy on the RGW is good.
  const auto whole = download(work_ / "whole");
  ASSERT_EQ(whole.exit_code, 0) << whole.output;
  ASSERT_EQ(whole.output, "200") << ReadFileBytes((work_ / "whole").string());
  const auto size = static_cast<int64_t>(fs::file_size(work_ / "whole"));
  // Larger than the RGW reader's 4 MiB window and the cut below, so the cut falls in the
  // second window, after bytes of the first were sent.
  ASSERT_GT(size, 5LL << 20);

  relay_->CutAfter(9LL << 19);  // 4.5 MiB: inside the second window
  const auto cut = download(work_ / "cut");
  EXPECT_TRUE(relay_->cut());
  // 18: curl's "partial file": the body ended before its Content-Length.
  EXPECT_EQ(cut.exit_code, 18) << cut.output << server_->Log();
  // The status line was 200 (curl prints its error on stderr, then the -w code).
  EXPECT_TRUE(cut.output.ends_with("200")) << cut.output;
  ASSERT_TRUE(fs::exists(work_ / "cut"));
  const auto got = static_cast<int64_t>(fs::file_size(work_ / "cut"));
  EXPECT_GT(got, 0);
  EXPECT_LT(got, size);

  // The gateway is gone now: the next read fails before its first byte, with a clear error.
  auto again = Call(token, "GET", "/api/v1/files/" + fq_id_ + "/plaintext");
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->status, 503) << again->body;
  EXPECT_EQ(again->ErrorCode(), "no_healthy_copy") << again->body;
  // An unreachable site is not a corrupt copy: the steward sees the site down and no bad copy.
  auto sites = AsOperator(*server_, "GET", "/api/v1/storage/sites");
  ASSERT_TRUE(sites && sites->status == 200);
  const json site_items = sites->Json()["items"];
  for (const auto& site : site_items) {
    if (site["name"] != "rgw") continue;
    EXPECT_EQ(site["reachable"], false) << site.dump();
    EXPECT_EQ(site["bad_copies"], 0) << site.dump();
  }
  // The gateway is back: the same copy serves the whole object again.
  ASSERT_TRUE(relay_->Restore());
  const auto back = download(work_ / "back");
  ASSERT_EQ(back.exit_code, 0) << back.output;
  EXPECT_EQ(back.output, "200");
  EXPECT_EQ(ReadFileBytes((work_ / "back").string()), ReadFileBytes((work_ / "whole").string()));
  // And the server keeps serving what it can.
  auto meta = Call(ana_token_, "GET", "/ga4gh/drs/v1/objects/" + bam_id_);
  EXPECT_EQ(meta->status, 200) << meta->body;
  const auto bam = Call(ana_token_, "GET", "/ga4gh/drs/v1/objects/" + bam_id_ + "/access/https");
  ASSERT_EQ(bam->status, 200) << bam->body;
  const std::string bam_url = bam->Json()["url"];
  auto bytes = Call(ana_token_, "GET", bam_url.substr(bam_url.find("/ga4gh/")));
  EXPECT_EQ(bytes->status, 200);
  EXPECT_EQ(crypto::Sha256Hex(bytes->body), meta->Json()["checksums"][0]["checksum"]);
}

INSTANTIATE_TEST_SUITE_P(Backends, HtsgetRgwCutTest, ::testing::ValuesIn(storage::TestBackends()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace zengen::testing
