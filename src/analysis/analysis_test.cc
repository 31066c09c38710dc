// Analysis runs (issue 16) on both metadata backends, with the real blob store, Crypt4GH, the
// htslib sanitiser and the access gate: the run table row by row, the admission rules (ordered
// centre, withdrawn participant), and whole runs through the real engine (cwltool) on a small
// synthetic genome: registered encrypted CRAM + VCF with provenance, a step killed with
// SIGKILL (failed with its log, then retried), a cancellation (no scratch, no output).
// With ZENGEN_TEST_SLURM_CONF set (scripts/test.sh starts a single-node cluster), the same
// end-to-end run goes through toil-cwl-runner on Slurm.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "analysis/analysis.h"
#include "analysis/registry.h"
#include "analysis/slurm_test_support.h"
#include "blobs/local_store.h"
#include "consent/consent.h"
#include "consent/consent_test_support.h"
#include "crypto/crypt4gh.h"
#include "crypto/crypto.h"
#include "participants/participants.h"
#include "sequencing/synthetic.h"
#include "sequencing/upload.h"
#include "sharing/sharing.h"
#include "specimens/analysis_orders.h"
#include "storage/testing.h"

namespace zengen::analysis {
namespace {

namespace fs = std::filesystem;
namespace syn = sequencing::synthetic;
using namespace std::chrono_literals;
using nlohmann::json;

Actor Person(std::string user, std::string org, std::string role) {
  return {std::move(user), std::move(org), {std::move(role)}, "10.0.0.1", "req-1"};
}
const Actor kClin = Person("clin-a", "hosp-a", "clinician");
const Actor kOp1 = Person("op-1", "seq-1", "sequencing_operator");
const Actor kAn1 = Person("an-1", "ac-1", "analyst");
const Actor kAn2 = Person("an-2", "ac-2", "analyst");
const Actor kSteward = Person("steward", "dc", "data_steward");
const Actor kCli{"cli", "", {}, "cli", ""};

std::string Slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// The sample genome: a random 30 kb contig and a homozygous haplotype with an SNV every 997
// bases, from which the reads are drawn (so the calls are known).
struct Genome {
  syn::Reference ref;
  syn::Reference hap;
  std::vector<int64_t> snvs;  // 0-based positions
};
Genome MakeGenome() {
  Genome g;
  g.ref = syn::MakeReference(1616, 30000);
  g.hap = g.ref;
  for (int64_t p = 500; p < 29500; p += 997) {
    char& c = g.hap.sequence[static_cast<size_t>(p)];
    c = c == 'A' ? 'G' : c == 'C' ? 'T' : c == 'G' ? 'A' : 'C';
    g.snvs.push_back(p);
  }
  return g;
}

// A test engine: behaves as the CWL engine would, without one. Writes outputs made by the
// synthetic module; `mode` "succeed", "fail" (the first step fails) or "block" (until
// cancelled). Records what it saw of the scratch directory.
class FakeExecutor final : public Executor {
 public:
  explicit FakeExecutor(const Genome& g) : genome_(g) {}
  std::string name() const override { return "local"; }
  std::string EngineVersion() const override { return "fake-engine 1"; }
  Result<JobResult> Run(const Job& job, const std::function<void(std::string_view)>& on_line,
                        const std::atomic<bool>& cancel) override {
    struct stat st {};
    seen_scratch_mode = ::stat(job.scratch.c_str(), &st) == 0 ? (st.st_mode & 0777) : 0;
    seen_inputs.clear();
    for (const auto& e : fs::directory_iterator(job.scratch / "in")) {
      seen_inputs.push_back(e.path().filename().string());
    }
    seen_scratch = job.scratch;
    JobResult r;
    on_line("INFO [workflow ] start");
    on_line("INFO [step trim] start");
    on_line("INFO [job trim] fastp -i reads_1.fastq.gz");
    if (mode == "fail") {
      on_line("ERROR [job trim] Job error: killed");
      on_line("WARNING [step trim] completed permanentFail");
      r.exit_code = 1;
      return r;
    }
    if (mode == "block") {
      started = true;
      while (!cancel.load()) std::this_thread::sleep_for(20ms);
      r.cancelled = true;
      r.exit_code = 143;
      return r;
    }
    on_line("INFO [step trim] completed success");
    for (const char* s : {"align", "call"}) {
      on_line(fmt::format("INFO [step {}] start", s));
      on_line(fmt::format("INFO [step {}] completed success", s));
    }
    const syn::Reads reads = syn::MakeReads(genome_.hap, 5, 1000, 100, false);
    const fs::path out = job.scratch / "out";
    fs::create_directories(out);
    if (!syn::WriteCram(genome_.ref, reads, "S1", out / "S1.cram").ok()) return r;
    std::ofstream(out / "S1.vcf") << syn::MakeVcf(genome_.ref, 5, 10, "S1");
    r.outputs = {{"cram", {{"path", (out / "S1.cram").string()}}},
                 {"vcf", {{"path", (out / "S1.vcf").string()}}}};
    std::ifstream in(job.inputs);
    const json order = json::parse(in, nullptr, false);
    if (order.is_object() && order.contains("tumour_reads_1")) {  // the somatic pipeline
      if (!syn::WriteCram(genome_.ref, reads, "N1", out / "N1.cram").ok()) return r;
      r.outputs = {{"tumour_cram", {{"path", (out / "S1.cram").string()}}},
                   {"normal_cram", {{"path", (out / "N1.cram").string()}}},
                   {"vcf", {{"path", (out / "S1.vcf").string()}}}};
    }
    r.node = "test-node";
    return r;
  }

  std::string mode = "succeed";
  std::atomic<bool> started{false};
  unsigned seen_scratch_mode = 0;
  std::vector<std::string> seen_inputs;
  fs::path seen_scratch;

 private:
  const Genome& genome_;
};

class AnalysisTest : public ::testing::TestWithParam<std::string> {
 protected:
  AnalysisTest() : clock_(std::chrono::sys_days{std::chrono::year{2026} / 11 / 24}) {}

  void SetUp() override {
    auto db = storage::ScratchDatabase::Create(GetParam());
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_.emplace(std::move(*db));
    auto store = storage::OpenStore({.location = db_->location(), .pool_size = 4});
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_ = std::move(*store);
    ASSERT_TRUE(storage::SeedOrganisations(*store_, {{"hosp-a", "hospital"},
                                                     {"seq-1", "sequencing_facility"},
                                                     {"ac-1", "analysis_center"},
                                                     {"ac-2", "analysis_center"},
                                                     {"dc", "data_center"}})
                    .ok());
    ASSERT_TRUE(consent::EnsureDefaultIcf(*store_, clock_).ok());
    participants::Registry registry(*store_, clock_, audit_, std::string(32, 'k'));
    auto p = registry.Register({"hosp-a", "MRN-1", "cancer", "lung", "2026-06-01"}, "clin-a",
                               "cli", "");
    ASSERT_TRUE(p.ok()) << p.error().message;
    participant_ = p->participant.id;
    specimens_ = std::make_unique<specimens::Specimens>(*store_, clock_, audit_);
    ASSERT_TRUE(specimens::AnalysisOrders(*store_, clock_, audit_)
                    .SetRule("cancer", "ac-1", kSteward)
                    .ok());
    dir_ = fs::temp_directory_path() / ("zg-analysis-" + crypto::ToHex(crypto::RandomBytes(6)));
    std::vector<blobs::Root> roots;
    for (const auto& [name, tier] : std::vector<std::pair<std::string, std::string>>{
             {"hot1", "hot"}, {"hot2", "hot"}, {"cold1", "cold"}, {"cold2", "cold"}}) {
      fs::create_directories(dir_ / name);
      roots.push_back({name, dir_ / name, tier, "JP"});
    }
    auto bs = blobs::LocalStore::Create(
        {.roots = std::move(roots), .allowed_jurisdictions = {"JP"}, .replicas = 2}, *store_,
        clock_, audit_);
    ASSERT_TRUE(bs.ok()) << bs.error().message;
    blobs_ = std::move(*bs);
    const auto dc = crypto::crypt4gh::GenerateKeyPair();
    uploads_ = std::make_unique<sequencing::Uploads>(
        *store_, clock_, audit_, *blobs_, *specimens_, dir_ / "staging",
        genomefiles::UploadKeys{dc.secret_key, dc.public_key}, sequencing::DefaultQcThresholds(),
        genomefiles::HtsSanitiser());
    ledger_ = std::make_unique<consent::Ledger>(*store_, clock_, audit_);
    sharing_ = std::make_unique<sharing::Sharing>(*store_, clock_, audit_, *ledger_);
    gate_ = std::make_unique<access::Gate>(uploads_->files(), *ledger_, *sharing_);
    registry_ = std::make_unique<Registry>(*store_, clock_, audit_, *blobs_, *specimens_,
                                           *uploads_, dir_ / "registry");
    ASSERT_TRUE(ledger_->Record(participant_,
                                {"initial", "1.0", "ja",
                                 consent::testing::StoreFixture::AllPermit(), "2026-11-20",
                                 consent::testing::StoreFixture::Details()},
                                {"clin-a", "127.0.0.1", ""})
                    .ok());
    std::ofstream(dir_ / "ref-input.fa") << genome_.ref.Fasta();
  }

  void TearDown() override {
    runs_.reset();
    registry_.reset();
    gate_.reset();
    sharing_.reset();
    ledger_.reset();
    uploads_.reset();
    blobs_.reset();
    specimens_.reset();
    store_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void MakeRuns(std::unique_ptr<Executor> executor, std::string auto_start_reference = "") {
    runs_ = std::make_unique<Runs>(*store_, clock_, audit_, *specimens_, *gate_, *registry_,
                                   std::move(executor),
                                   Options{.pipelines_dir = fs::path(ZENGEN_SOURCE_DIR) / "pipelines",
                                           .references_dir = dir_ / "references",
                                           .scratch_dir = dir_ / "scratch",
                                           .workers = 1,
                                           .threads = 1,
                                           .auto_start_reference = auto_start_reference});
    auto ref = runs_->RegisterReference("synthetic-30k", dir_ / "ref-input.fa", kCli);
    ASSERT_TRUE(ref.ok()) << ref.error().message;
    ASSERT_TRUE(runs_->Recover().ok());
    runs_->StartWorkers();
  }
  FakeExecutor* Fake() {
    auto f = std::make_unique<FakeExecutor>(genome_);
    FakeExecutor* raw = f.get();
    MakeRuns(std::move(f));
    return raw;
  }

  void Upload(sequencing::NewUpload n, const std::string& bytes) {
    n.size = static_cast<int64_t>(bytes.size());
    n.sha256 = crypto::Sha256Hex(bytes);
    n.chunk_size = sequencing::kMinChunkSize;
    auto u = uploads_->Create(n, kOp1);
    ASSERT_TRUE(u.ok()) << u.error().message;
    for (int64_t i = 0; i < u->chunks(); ++i) {
      ASSERT_TRUE(uploads_->PutChunk(u->id, i,
                                     std::string_view(bytes).substr(
                                         static_cast<size_t>(i * u->chunk_size),
                                         static_cast<size_t>(u->ChunkLength(i))),
                                     kOp1)
                      .ok());
    }
    auto c = uploads_->Complete(u->id, kOp1);
    ASSERT_TRUE(c.ok()) << c.error().message;
  }

  // A specimen of the participant sequenced at seq-1 whose paired FASTQ passed QC (ordered to
  // ac-1 by the program rule), its reads drawn from `hap` (the germline haplotype by default).
  std::string QcPassedSpecimen(const std::string& tumour_normal = "normal",
                               const syn::Reference* hap = nullptr, uint64_t seed = 7,
                               std::string participant = "") {
    if (participant.empty()) participant = participant_;
    auto s = specimens_->Register(
        {participant, tumour_normal, tumour_normal == "tumour" ? "solid_tissue" : "blood",
         tumour_normal == "tumour" ? "fresh_frozen" : "EDTA", "2026-06-02", ""},
        kClin);
    EXPECT_TRUE(s.ok());
    const std::string id = s->id;
    for (const auto& [to, who, dest] :
         std::vector<std::tuple<std::string, Actor, std::string>>{
             {"shipped", kClin, "seq-1"}, {"received", kOp1, ""}, {"library_prepared", kOp1, ""}}) {
      auto st = specimens_->Custody(id, {to, "", dest}, who);
      EXPECT_TRUE(st.ok()) << to << ": " << st.error().message;
    }
    auto run = uploads_->CreateRun({id, "NovaSeq X", "HANALYSIS", "LIB-1", "paired"}, kOp1);
    EXPECT_TRUE(run.ok()) << run.error().message;
    const syn::Reads reads =
        syn::MakeReads(hap != nullptr ? *hap : genome_.hap, seed, 1500, 150, false, "HANALYSIS");
    sequencing::NewUpload n;
    n.kind = "fastq";
    n.run_id = run->id;
    n.read = 1;
    n.file_name = "S_R1.fastq.gz";
    Upload(n, syn::Gzip(reads.r1));
    n.read = 2;
    n.file_name = "S_R2.fastq.gz";
    Upload(n, syn::Gzip(reads.r2));
    EXPECT_EQ(specimens_->Get(id)->specimen.state, "qc_passed");
    return id;
  }

  int64_t Count(const std::string& sql) {
    auto tx = store_->Begin(storage::TxMode::kRead);
    auto rows = (*tx)->Query(sql);
    EXPECT_TRUE(rows.ok()) << rows.error().message;
    return rows.ok() ? rows->rows[0].Int(0) : -1;
  }
  int64_t AuditCount(const std::string& action, const std::string& resource) {
    return Count(fmt::format("SELECT COUNT(*) FROM audit_log WHERE action = '{}' AND resource = "
                             "'{}'", action, resource));
  }
  std::vector<genomefiles::DataFile> AnalysisFiles() {
    std::vector<genomefiles::DataFile> out;
    auto files = uploads_->files().ListFiles(participant_);
    EXPECT_TRUE(files.ok());
    if (!files.ok()) return out;
    for (const auto& f : files.value()) {
      if (f.kind != "fastq") out.push_back(f);
    }
    return out;
  }
  bool ScratchEmpty() {
    for (const auto& e : fs::directory_iterator(dir_ / "scratch")) {
      if (e.path().filename().string().rfind("AR-", 0) == 0) return false;
    }
    return true;
  }

  Genome genome_ = MakeGenome();
  FakeClock clock_;
  RecordingAuditSink audit_;
  std::optional<storage::ScratchDatabase> db_;
  std::unique_ptr<storage::Store> store_;
  std::string participant_;
  fs::path dir_;
  std::unique_ptr<specimens::Specimens> specimens_;
  std::unique_ptr<blobs::LocalStore> blobs_;
  std::unique_ptr<sequencing::Uploads> uploads_;
  std::unique_ptr<consent::Ledger> ledger_;
  std::unique_ptr<sharing::Sharing> sharing_;
  std::unique_ptr<access::Gate> gate_;
  std::unique_ptr<Registry> registry_;
  std::unique_ptr<Runs> runs_;
};

// ---- the run table, row by row ------------------------------------------------------------

TEST(RunTableTest, EveryStateAndEventIsDecidedByTheTable) {
  const std::set<std::pair<std::string, std::string>> allowed = {
      {"queued", "take"},     {"queued", "cancel"},   {"running", "succeed"},
      {"running", "fail"},    {"running", "cancel"},  {"running", "interrupt"},
      {"failed", "retry"}};
  for (std::string_view from : kRunStates) {
    for (std::string_view event : {"take", "succeed", "fail", "cancel", "retry", "interrupt"}) {
      const RunTransition* t = FindRunTransition(from, event);
      EXPECT_EQ(t != nullptr, allowed.count({std::string(from), std::string(event)}) == 1)
          << from << " " << event;
    }
  }
  EXPECT_EQ(RunTable().size(), allowed.size());
  EXPECT_EQ(FindRunTransition("queued", "take")->to, "running");
  EXPECT_EQ(FindRunTransition("failed", "retry")->to, "queued");
  EXPECT_EQ(FindRunTransition("running", "interrupt")->to, "failed");
}

// ---- admission --------------------------------------------------------------------------------

TEST_P(AnalysisTest, OnlyTheOrderedCentreOrTheDataCentreStartsARun) {
  Fake()->mode = "block";
  const std::string sp = QcPassedSpecimen();
  auto other = runs_->Start({sp, "germline", "1.0.0", "synthetic-30k"}, kAn2);
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().code, "not_ordered_centre");
  EXPECT_EQ(specimens_->Get(sp)->specimen.state, "qc_passed");  // nothing moved
  auto clinician = runs_->Start({sp, "germline", "1.0.0", "synthetic-30k"}, kClin);
  EXPECT_EQ(clinician.error().code, "not_ordered_centre");
  EXPECT_EQ(Count("SELECT COUNT(*) FROM analysis_runs"), 0);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_log WHERE action = 'analysis_run.write' AND "
                  "decision = 'deny'"), 2);

  auto bad_ref = runs_->Start({sp, "germline", "1.0.0", "GRCh99"}, kAn1);
  EXPECT_EQ(bad_ref.error().field, "reference");
  auto bad_pipeline = runs_->Start({sp, "germline", "9.9.9", "synthetic-30k"}, kAn1);
  EXPECT_EQ(bad_pipeline.error().field, "pipeline");

  // The data centre's steward starts it for the ordered centre, which takes custody.
  auto run = runs_->Start({sp, "germline", "1.0.0", "synthetic-30k"}, kSteward);
  ASSERT_TRUE(run.ok()) << run.error().message;
  EXPECT_EQ(run->centre, "ac-1");
  const auto after = specimens_->Get(sp)->specimen;
  EXPECT_EQ(after.state, "analysed");
  EXPECT_EQ(after.holder, "ac-1");
  auto second = runs_->Start({sp, "germline", "1.0.0", "synthetic-30k"}, kAn1);
  EXPECT_EQ(second.error().code, "run_active");
  ASSERT_TRUE(runs_->Cancel(run->id, kAn1).ok());
  ASSERT_TRUE(runs_->WaitIdleForTest(60s));
}

// zengen demo --analyse (analysis_auto_start_reference): a specimen that passed QC with an open
// order starts a germline run by itself, once, at the ordered centre; one without an order
// waits.
TEST_P(AnalysisTest, AnOrderedSpecimenThatPassedQcStartsItsRunByItselfOnce) {
  const std::string ordered = QcPassedSpecimen();
  const std::string unordered = QcPassedSpecimen("normal", nullptr, 8);
  auto orders = specimens::AnalysisOrders(*store_, clock_, audit_);
  auto listed = orders.ListForSpecimen(unordered, {.authenticated = true, .id = "steward",
                                                   .organisation = "dc",
                                                   .roles = {"data_steward"}});
  ASSERT_TRUE(listed.ok());
  for (const auto& o : *listed) {
    if (o.state == "open") {
      ASSERT_TRUE(orders.Cancel(o.id, "test: no order", kSteward).ok());
    }
  }
  MakeRuns(std::make_unique<FakeExecutor>(genome_), "synthetic-30k");
  for (int i = 0; i < 600 && Count("SELECT COUNT(*) FROM analysis_runs") == 0; ++i) {
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(runs_->WaitIdleForTest(60s));
  std::this_thread::sleep_for(1500ms);  // a further pass of the workers starts nothing more
  ASSERT_TRUE(runs_->WaitIdleForTest(60s));
  EXPECT_EQ(Count("SELECT COUNT(*) FROM analysis_runs"), 1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM analysis_runs WHERE specimen_id = '" + ordered +
                  "' AND pipeline = 'germline' AND reference_name = 'synthetic-30k'"),
            1);
  EXPECT_EQ(specimens_->Get(ordered)->specimen.holder, "ac-1");
  EXPECT_EQ(specimens_->Get(unordered)->specimen.state, "qc_passed");
}

TEST_P(AnalysisTest, AWithdrawnParticipantIsRefusedBeforeAnythingMoves) {
  Fake();
  const std::string sp = QcPassedSpecimen();
  ASSERT_TRUE(ledger_->Withdraw(participant_, {"full", "2026-11-23", ""}, {"clin-a", "x", ""})
                  .ok());
  auto run = runs_->Start({sp, "germline", "1.0.0", "synthetic-30k"}, kAn1);
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.error().code, "participant_withdrawn");
  EXPECT_EQ(specimens_->Get(sp)->specimen.state, "qc_passed");
  EXPECT_EQ(Count("SELECT COUNT(*) FROM analysis_runs"), 0);
  EXPECT_EQ(AuditCount("analysis_run.write", "specimen/" + sp), 1);
}

TEST_P(AnalysisTest, AWithdrawalWhileQueuedFailsTheRunBeforeAnyInputIsDecrypted) {
  FakeExecutor* fake = Fake();
  const std::string sp = QcPassedSpecimen();
  // Queue it while the only worker is busy with another specimen's blocked run.
  fake->mode = "block";
  const std::string busy = QcPassedSpecimen();
  auto first = runs_->Start({busy, "germline", "1.0.0", "synthetic-30k"}, kAn1);
  ASSERT_TRUE(first.ok());
  while (!fake->started.load()) std::this_thread::sleep_for(10ms);
  auto run = runs_->Start({sp, "germline", "1.0.0", "synthetic-30k"}, kAn1);
  ASSERT_TRUE(run.ok()) << run.error().message;
  ASSERT_TRUE(ledger_->Withdraw(participant_, {"full", "2026-11-23", ""}, {"clin-a", "x", ""})
                  .ok());
  fake->seen_inputs.clear();
  ASSERT_TRUE(runs_->Cancel(first->id, kAn1).ok());
  ASSERT_TRUE(runs_->WaitIdleForTest(60s));
  auto got = runs_->Get(run->id);
  EXPECT_EQ(got->state, "failed");
  EXPECT_EQ(got->error["code"], "participant_withdrawn");
  EXPECT_TRUE(fake->seen_inputs.empty());
  EXPECT_TRUE(ScratchEmpty());
}

// ---- tumour/normal pairs ------------------------------------------------------------------

TEST_P(AnalysisTest, APairRunIsRefusedNamingTheFieldBeforeAnythingMoves) {
  Fake();
  const std::string tumour = QcPassedSpecimen("tumour");
  const std::string normal = QcPassedSpecimen("normal");
  auto start = [&](const std::string& t, const std::string& n, std::string pipeline = "somatic",
                   std::string version = "1.1.0") {
    return runs_->Start({t, pipeline, version, "synthetic-30k", n}, kAn1);
  };
  auto missing = start(tumour, "");
  EXPECT_EQ(missing.error().code, "missing_field");
  EXPECT_EQ(missing.error().field, "normal_specimen_id");
  auto germline = start(tumour, normal, "germline", "1.0.0");
  EXPECT_EQ(germline.error().code, "unexpected_field");
  EXPECT_EQ(germline.error().field, "normal_specimen_id");
  auto twice = start(tumour, tumour);
  EXPECT_EQ(twice.error().code, "pair_same_specimen");
  EXPECT_EQ(twice.error().kind, ErrorKind::kInvalidArgument);
  EXPECT_EQ(twice.error().field, "normal_specimen_id");
  auto swapped = start(normal, tumour);
  EXPECT_EQ(swapped.error().code, "pair_not_tumour_normal");
  EXPECT_EQ(swapped.error().field, "specimen_id");

  // Another participant's normal.
  participants::Registry registry(*store_, clock_, audit_, std::string(32, 'k'));
  auto other = registry.Register({"hosp-a", "MRN-2", "cancer", "lung", "2026-06-01"}, "clin-a",
                                 "cli", "");
  ASSERT_TRUE(other.ok()) << other.error().message;
  ASSERT_TRUE(ledger_->Record(other->participant.id,
                              {"initial", "1.0", "ja",
                               consent::testing::StoreFixture::AllPermit(), "2026-11-20",
                               consent::testing::StoreFixture::Details()},
                              {"clin-a", "127.0.0.1", ""})
                  .ok());
  const std::string foreign = QcPassedSpecimen("normal", nullptr, 8, other->participant.id);
  auto mismatch = start(tumour, foreign);
  EXPECT_EQ(mismatch.error().code, "pair_participant_mismatch");
  EXPECT_EQ(mismatch.error().field, "normal_specimen_id");

  // A normal ordered to another centre: not the run's centre's to analyse.
  specimens::AnalysisOrders orders(*store_, clock_, audit_);
  std::string order_id;
  {
    auto tx = store_->Begin(storage::TxMode::kRead);
    ASSERT_TRUE(tx.ok());
    auto order = specimens::OpenOrder(**tx, normal);
    ASSERT_TRUE(order.ok());
    order_id = order->id;
  }
  ASSERT_FALSE(order_id.empty());
  ASSERT_TRUE(orders.Cancel(order_id, "to the second centre", kSteward).ok());
  ASSERT_TRUE(orders.Create({normal, "ac-2"}, kSteward).ok());
  auto unordered = start(tumour, normal);
  EXPECT_EQ(unordered.error().code, "specimen_not_ordered");
  EXPECT_EQ(unordered.error().kind, ErrorKind::kInvalidArgument);
  EXPECT_EQ(unordered.error().field, "normal_specimen_id");
  EXPECT_EQ(AuditCount("analysis_run.write", "specimen/" + normal), 1);

  // A withdrawn participant: refused (audited) for the pair too.
  const std::string normal2 = QcPassedSpecimen("normal", nullptr, 9);
  ASSERT_TRUE(ledger_->Withdraw(participant_, {"full", "2026-11-23", ""}, {"clin-a", "x", ""})
                  .ok());
  auto withdrawn = start(tumour, normal2);
  EXPECT_EQ(withdrawn.error().code, "participant_withdrawn");
  // A state of the participant, not a fault of the request: 409 as findings answer it.
  EXPECT_EQ(withdrawn.error().kind, ErrorKind::kConflict);
  EXPECT_EQ(withdrawn.error().field, "specimen_id");

  // Nothing moved: no run, every specimen still qc_passed.
  EXPECT_EQ(Count("SELECT COUNT(*) FROM analysis_runs"), 0);
  for (const auto& id : {tumour, normal, normal2, foreign}) {
    EXPECT_EQ(specimens_->Get(id)->specimen.state, "qc_passed") << id;
  }
}

// Issue 16, second reading: a refusal about the normal's own FASTQ named specimen_id (the
// tumour's field) on the old code.
TEST_P(AnalysisTest, ARefusalAboutTheNormalsFastqNamesTheNormalsField) {
  Fake();
  const std::string tumour = QcPassedSpecimen("tumour");
  // A normal whose QC passed on a single-end run: no paired FASTQ to analyse.
  auto s = specimens_->Register({participant_, "normal", "blood", "EDTA", "2026-06-02", ""}, kClin);
  ASSERT_TRUE(s.ok());
  for (const auto& [to, who, dest] : std::vector<std::tuple<std::string, Actor, std::string>>{
           {"shipped", kClin, "seq-1"}, {"received", kOp1, ""}, {"library_prepared", kOp1, ""}}) {
    ASSERT_TRUE(specimens_->Custody(s->id, {to, "", dest}, who).ok()) << to;
  }
  auto seq = uploads_->CreateRun({s->id, "NovaSeq X", "HANALYSIS", "LIB-2", "single"}, kOp1);
  ASSERT_TRUE(seq.ok()) << seq.error().message;
  sequencing::NewUpload n;
  n.kind = "fastq";
  n.run_id = seq->id;
  n.read = 1;
  n.file_name = "N_R1.fastq.gz";
  Upload(n, syn::Gzip(syn::MakeReads(genome_.hap, 11, 1500, 150, false, "HANALYSIS").r1));
  ASSERT_EQ(specimens_->Get(s->id)->specimen.state, "qc_passed");
  auto refused = runs_->Start({tumour, "somatic", "1.1.0", "synthetic-30k", s->id}, kAn1);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "no_qc_passed_fastq");
  EXPECT_EQ(refused.error().kind, ErrorKind::kConflict);
  EXPECT_EQ(refused.error().field, "normal_specimen_id");
  EXPECT_EQ(Count("SELECT COUNT(*) FROM analysis_runs"), 0);
}

// Issue 16 crash point: on the old code the normal moved to analysed in its own step before the
// tumour's and before the run was recorded, so a failure between them left the normal analysed
// with no run. Now the run is recorded first (custody pending, not taken by a worker) and the
// restart applies the moves the crash left undone.
TEST_P(AnalysisTest, APairRunStoppedBetweenItsCustodyMovesGoesAheadAfterARestart) {
  Fake();
  const std::string tumour = QcPassedSpecimen("tumour");
  const std::string normal = QcPassedSpecimen("normal", nullptr, 9);
  runs_->SetCrashPointForTest([](std::string_view point) {
    return point == "between_custody_moves";
  });
  auto crashed = runs_->Start({tumour, "somatic", "1.1.0", "synthetic-30k", normal}, kAn1);
  ASSERT_FALSE(crashed.ok());
  EXPECT_EQ(crashed.error().code, "injected_crash");
  // The failure struck between the two moves: the run that claims both specimens is recorded.
  EXPECT_EQ(specimens_->Get(normal)->specimen.state, "analysed");
  EXPECT_EQ(specimens_->Get(tumour)->specimen.state, "qc_passed");
  EXPECT_EQ(Count("SELECT COUNT(*) FROM analysis_runs WHERE state = 'queued' AND "
                  "custody_pending = 1 AND specimen_id = '" + tumour + "' AND "
                  "normal_specimen_id = '" + normal + "'"),
            1);
  // A second start of the pair is refused while that run holds them.
  auto again = runs_->Start({tumour, "somatic", "1.1.0", "synthetic-30k", normal}, kAn1);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, "run_active");
  // The process restarts: Recover applies the tumour's move, and the run goes ahead.
  runs_.reset();
  runs_ = std::make_unique<Runs>(*store_, clock_, audit_, *specimens_, *gate_, *registry_,
                                 std::make_unique<FakeExecutor>(genome_),
                                 Options{.pipelines_dir = fs::path(ZENGEN_SOURCE_DIR) / "pipelines",
                                         .references_dir = dir_ / "references",
                                         .scratch_dir = dir_ / "scratch"});
  ASSERT_TRUE(runs_->Recover().ok());
  for (const auto& id : {tumour, normal}) {
    const auto d = specimens_->Get(id);
    EXPECT_EQ(d->specimen.state, "analysed") << id;
    EXPECT_EQ(d->specimen.holder, "ac-1") << id;
  }
  EXPECT_EQ(Count("SELECT COUNT(*) FROM analysis_runs WHERE custody_pending = 1"), 0);
  runs_->StartWorkers();
  ASSERT_TRUE(runs_->WaitIdleForTest(120s));
  EXPECT_EQ(Count("SELECT COUNT(*) FROM analysis_runs WHERE state = 'succeeded'"), 1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_log WHERE action = 'analysis.run.custody'"), 1);
}

// The registry takes an output sanitised while the engine ran only for the very same bytes: a
// different file is sanitised as usual, and both give what sanitising at registration gives.
TEST_P(AnalysisTest, AnOutputSanitisedEarlyIsTakenOnlyForTheSameBytes) {
  Fake();
  const std::string sp = QcPassedSpecimen();
  ASSERT_TRUE(specimens_->Custody(sp, {"analysed", "", ""}, kAn1).ok());
  auto pair = registry_->QcPassedPair(participant_, sp);
  ASSERT_TRUE(pair.ok());
  const std::vector<std::string> from = {(*pair)[0].id, (*pair)[1].id};
  const fs::path ref = dir_ / "references" / "synthetic-30k" / "ref.fa";
  const fs::path a = dir_ / "a.cram", b = dir_ / "b.cram";
  ASSERT_TRUE(syn::WriteCram(genome_.ref, syn::MakeReads(genome_.hap, 5, 1000, 100, false), "S1", a)
                  .ok());
  ASSERT_TRUE(syn::WriteCram(genome_.ref, syn::MakeReads(genome_.hap, 6, 900, 100, false), "S1", b)
                  .ok());
  auto early = registry_->Presanitise("cram", a, participant_, ref, dir_ / "early");
  ASSERT_TRUE(early.ok()) << early.error().message;
  ASSERT_TRUE(fs::exists(early->file.data));
  auto sha = [](const fs::path& p) { return *FileSha256(p); };
  const std::string early_sanitised = sha(early->file.data);
  // Another file: not taken (the early files stay), sanitised as usual.
  auto other = registry_->RegisterOutput("cram", sp, from, b, "b.cram", ref, sha(b), kAn1,
                                         &*early);
  ASSERT_TRUE(other.ok()) << other.error().message;
  EXPECT_TRUE(fs::exists(early->file.data));
  auto plain = registry_->RegisterOutput("cram", sp, from, b, "b2.cram", ref, sha(b), kAn1);
  ASSERT_TRUE(plain.ok()) << plain.error().message;
  EXPECT_EQ(other->sha256, plain->sha256);
  EXPECT_NE(other->sha256, early_sanitised);
  // The same bytes: taken (moved into the registry's staging), the same stored plaintext as
  // sanitising at registration.
  auto taken = registry_->RegisterOutput("cram", sp, from, a, "a.cram", ref, sha(a), kAn1,
                                         &*early);
  ASSERT_TRUE(taken.ok()) << taken.error().message;
  EXPECT_FALSE(fs::exists(early->file.data));
  EXPECT_EQ(taken->sha256, early_sanitised);
  auto again = registry_->RegisterOutput("cram", sp, from, a, "a2.cram", ref, sha(a), kAn1);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->sha256, taken->sha256);
}

TEST_P(AnalysisTest, APairRunRegistersBothCramsAndTheSomaticVcfLinkedToTheirFastq) {
  FakeExecutor* fake = Fake();
  const std::string tumour = QcPassedSpecimen("tumour");
  const std::string normal = QcPassedSpecimen("normal", nullptr, 8);
  // The start form's list: both, for the ordered centre (and the data centre) only.
  auto ids = [&](std::string_view centre) {
    std::vector<std::string> out;
    auto list = runs_->Candidates(centre);
    EXPECT_TRUE(list.ok());
    if (list.ok()) {
      for (const auto& c : *list) out.push_back(c.specimen_id + ":" + c.tumour_normal);
    }
    std::sort(out.begin(), out.end());
    return out;
  };
  std::vector<std::string> both = {tumour + ":tumour", normal + ":normal"};
  std::sort(both.begin(), both.end());
  EXPECT_EQ(ids("ac-1"), both);
  EXPECT_EQ(ids(policy::kEveryOrganisation), both);
  EXPECT_TRUE(ids("ac-2").empty());
  auto run = runs_->Start({tumour, "somatic", "1.1.0", "synthetic-30k", normal}, kAn1);
  ASSERT_TRUE(run.ok()) << run.error().message;
  EXPECT_TRUE(ids("ac-1").empty());  // both are busy with the run
  EXPECT_EQ(run->normal_specimen_id, normal);
  EXPECT_EQ(run->steps_total, 5);
  ASSERT_EQ(run->inputs.size(), 4u);
  for (const auto& id : {tumour, normal}) {
    const auto sp = specimens_->Get(id)->specimen;
    EXPECT_EQ(sp.state, "analysed") << id;
    EXPECT_EQ(sp.holder, "ac-1") << id;
  }
  // The normal is busy with this run: no second run may take it.
  EXPECT_EQ(runs_->Start({normal, "germline", "1.0.0", "synthetic-30k"}, kAn1).error().code,
            "run_active");
  ASSERT_TRUE(runs_->WaitIdleForTest(120s));
  auto got = runs_->Get(run->id);
  ASSERT_EQ(got->state, "succeeded") << got->error.dump();
  EXPECT_EQ(fake->seen_inputs.size(), 4u);
  EXPECT_EQ(ids("ac-1"), both);  // analysed and held by ac-1, free again
  EXPECT_TRUE(ScratchEmpty());
  ASSERT_EQ(got->outputs.size(), 3u);
  const std::vector<std::string> tumour_fastq(got->inputs.begin(), got->inputs.begin() + 2);
  const std::vector<std::string> normal_fastq(got->inputs.begin() + 2, got->inputs.end());
  std::map<std::string, genomefiles::DataFile> by_id;
  for (const auto& f : AnalysisFiles()) by_id[f.id] = f;
  ASSERT_EQ(by_id.size(), 3u);
  const auto& tumour_cram = by_id.at(got->outputs[0]);
  const auto& normal_cram = by_id.at(got->outputs[1]);
  const auto& vcf = by_id.at(got->outputs[2]);
  EXPECT_EQ(tumour_cram.kind, "cram");
  EXPECT_EQ(tumour_cram.specimen_id, tumour);
  EXPECT_EQ(tumour_cram.derived_from, tumour_fastq);
  EXPECT_EQ(normal_cram.kind, "cram");
  EXPECT_EQ(normal_cram.specimen_id, normal);
  EXPECT_EQ(normal_cram.derived_from, normal_fastq);
  EXPECT_EQ(vcf.kind, "vcf");
  EXPECT_EQ(vcf.specimen_id, tumour);
  EXPECT_EQ(vcf.derived_from, got->inputs);  // the somatic calls come from both pairs
  auto prov = runs_->Provenance(run->id);
  ASSERT_TRUE(prov.ok());
  for (const auto& id : got->inputs) {
    EXPECT_NE(prov->dump().find("zengen:file/" + id), std::string::npos) << id;
  }
}

// ---- whole runs with the test engine ------------------------------------------------------

TEST_P(AnalysisTest, ASucceededRunRegistersEncryptedOutputsWithProvenanceAndAudit) {
  FakeExecutor* fake = Fake();
  const std::string sp = QcPassedSpecimen();
  auto run = runs_->Start({sp, "germline", "1.0.0", "synthetic-30k"}, kAn1);
  ASSERT_TRUE(run.ok()) << run.error().message;
  ASSERT_TRUE(runs_->WaitIdleForTest(120s));
  auto got = runs_->Get(run->id);
  ASSERT_EQ(got->state, "succeeded") << got->error.dump();
  EXPECT_EQ(got->steps_done, 3);
  EXPECT_EQ(got->steps_total, 3);
  for (const auto& s : got->steps) EXPECT_EQ(s.state, "succeeded") << s.name;
  EXPECT_EQ(fake->seen_scratch_mode, 0700u);
  EXPECT_EQ(fake->seen_inputs.size(), 2u);
  EXPECT_FALSE(fs::exists(fake->seen_scratch));
  EXPECT_TRUE(ScratchEmpty());

  const auto files = AnalysisFiles();
  ASSERT_EQ(files.size(), 2u);
  ASSERT_EQ(got->outputs.size(), 2u);
  for (const auto& f : files) {
    EXPECT_EQ(f.specimen_id, sp);
    EXPECT_EQ(f.derived_from, got->inputs);
    EXPECT_FALSE(f.index_blob_id.empty()) << f.kind;
    // Stored as Crypt4GH, never as plaintext.
    auto reader = blobs_->Open(f.blob_id);
    ASSERT_TRUE(reader.ok());
    EXPECT_EQ(*(*reader)->ReadAt(0, 8), "crypt4gh");
    EXPECT_EQ(AuditCount("analysis.output", "file/" + f.id), 1);
  }
  EXPECT_EQ(AuditCount("analysis.step", "analysis_run/" + run->id), 6);
  EXPECT_EQ(AuditCount("analysis.run.state", "analysis_run/" + run->id), 2);
  EXPECT_EQ(specimens_->Get(sp)->specimen.state, "analysed");

  auto prov = runs_->Provenance(run->id);
  ASSERT_TRUE(prov.ok());
  const std::string text = prov->dump();
  for (const auto& needle :
       {std::string("https://w3id.org/ro/crate/1.1/context"), std::string("prov:wasGeneratedBy"),
        std::string("fake-engine 1"), got->reference_sha256, files[0].sha256, files[1].sha256,
        std::string("\"germline\""), std::string("1.0.0"), std::string("test-node")}) {
    EXPECT_NE(text.find(needle), std::string::npos) << needle;
  }
  auto by_file = runs_->RunOfOutput(files[0].id);
  ASSERT_TRUE(by_file.ok());
  EXPECT_EQ(by_file->id, run->id);
}

TEST_P(AnalysisTest, AFailedStepFailsTheRunWithItsLogAndARetrySucceeds) {
  FakeExecutor* fake = Fake();
  fake->mode = "fail";
  const std::string sp = QcPassedSpecimen();
  auto run = runs_->Start({sp, "germline", "1.0.0", "synthetic-30k"}, kAn1);
  ASSERT_TRUE(run.ok());
  ASSERT_TRUE(runs_->WaitIdleForTest(60s));
  auto got = runs_->Get(run->id);
  ASSERT_EQ(got->state, "failed");
  EXPECT_EQ(got->error["code"], "engine_failed");
  ASSERT_EQ(got->steps.size(), 3u);
  EXPECT_EQ(got->steps[0].name, "trim");
  EXPECT_EQ(got->steps[0].state, "failed");
  EXPECT_NE(got->steps[0].log.find("Job error: killed"), std::string::npos);
  EXPECT_EQ(got->steps[1].state, "pending");
  EXPECT_NE(runs_->Log(run->id)->find("permanentFail"), std::string::npos);
  EXPECT_TRUE(AnalysisFiles().empty());
  EXPECT_TRUE(ScratchEmpty());
  EXPECT_EQ(runs_->Cancel(run->id, kAn1).error().code, "invalid_transition");

  fake->mode = "succeed";
  auto retried = runs_->Retry(run->id, kAn1);
  ASSERT_TRUE(retried.ok()) << retried.error().message;
  EXPECT_EQ(retried->attempt, 2);
  ASSERT_TRUE(runs_->WaitIdleForTest(120s));
  got = runs_->Get(run->id);
  EXPECT_EQ(got->state, "succeeded") << got->error.dump();
  EXPECT_EQ(AnalysisFiles().size(), 2u);
  EXPECT_EQ(runs_->Retry(run->id, kAn1).error().code, "invalid_transition");
}

TEST_P(AnalysisTest, ACancelledRunLeavesNoScratchAndNoOutput) {
  FakeExecutor* fake = Fake();
  fake->mode = "block";
  const std::string sp = QcPassedSpecimen();
  auto run = runs_->Start({sp, "germline", "1.0.0", "synthetic-30k"}, kAn1);
  ASSERT_TRUE(run.ok());
  while (!fake->started.load()) std::this_thread::sleep_for(10ms);
  EXPECT_TRUE(fs::exists(fake->seen_scratch / "in"));
  ASSERT_TRUE(runs_->Cancel(run->id, kAn1).ok());
  ASSERT_TRUE(runs_->WaitIdleForTest(60s));
  EXPECT_EQ(runs_->Get(run->id)->state, "cancelled");
  EXPECT_FALSE(fs::exists(fake->seen_scratch));
  EXPECT_TRUE(ScratchEmpty());
  EXPECT_TRUE(AnalysisFiles().empty());
  EXPECT_EQ(Count("SELECT COUNT(*) FROM analysis_run_outputs"), 0);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM uploads WHERE kind <> 'fastq'"), 0);
}

TEST_P(AnalysisTest, ARunLeftRunningByADeadProcessIsFailedAtStartAndItsScratchRemoved) {
  FakeExecutor* fake = Fake();
  fake->mode = "block";
  const std::string sp = QcPassedSpecimen();
  auto run = runs_->Start({sp, "germline", "1.0.0", "synthetic-30k"}, kAn1);
  ASSERT_TRUE(run.ok());
  while (!fake->started.load()) std::this_thread::sleep_for(10ms);
  const fs::path scratch = fake->seen_scratch;
  // The process "dies": workers stop without finishing the run (state stays running).
  fs::create_directories(dir_ / "keep");
  fs::copy(scratch, dir_ / "keep" / scratch.filename(), fs::copy_options::recursive);
  runs_.reset();
  fs::copy(dir_ / "keep" / scratch.filename(), scratch, fs::copy_options::recursive);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM analysis_runs WHERE state = 'running'"), 1);
  runs_ = std::make_unique<Runs>(*store_, clock_, audit_, *specimens_, *gate_, *registry_,
                                 std::make_unique<FakeExecutor>(genome_),
                                 Options{.pipelines_dir = fs::path(ZENGEN_SOURCE_DIR) / "pipelines",
                                         .references_dir = dir_ / "references",
                                         .scratch_dir = dir_ / "scratch"});
  ASSERT_TRUE(runs_->Recover().ok());
  auto got = runs_->Get(run->id);
  EXPECT_EQ(got->state, "failed");
  EXPECT_EQ(got->error["code"], "interrupted");
  EXPECT_FALSE(fs::exists(scratch));
}

// ---- the real engine ------------------------------------------------------------------------

// Reads a registered file's plaintext into `dest`.
void Plaintext(blobs::BlobStore& blobs, const genomefiles::UploadKeys& keys,
               const std::string& blob, const fs::path& dest) {
  auto s = genomefiles::OpenObjectStream(blobs, blob, keys, "");
  ASSERT_TRUE(s.ok()) << s.error().message;
  std::ofstream out(dest, std::ios::binary);
  for (;;) {
    auto piece = s->next();
    ASSERT_TRUE(piece.ok());
    if (piece->empty()) break;
    out << *piece;
  }
}

std::string Shell(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  pclose(p);
  return out;
}

class EngineTest : public AnalysisTest {
 protected:
  // A directory of tool wrappers put first on the engine's PATH: `fastp` blocks (printing its
  // pid into `blocked`) on the first call, and is the real fastp afterwards.
  fs::path Wrappers() {
    const fs::path bin = dir_ / "bin";
    fs::create_directories(bin);
    const std::string real_fastp = Shell("command -v fastp | tr -d '\\n'");
    std::ofstream(bin / "fastp") << fmt::format(
        "#!/bin/sh\nif [ ! -e '{0}/blocked' ]; then echo $$ > '{0}/blocked.tmp'; "
        "mv '{0}/blocked.tmp' '{0}/blocked'; exec sleep 600; fi\nexec {1} \"$@\"\n",
        dir_.string(), real_fastp);
    std::ofstream(bin / "engine") << fmt::format(
        "#!/bin/sh\nPATH='{}':$PATH exec \"$ZENGEN_TEST_ENGINE\" \"$@\"\n", bin.string());
    fs::permissions(bin / "fastp", fs::perms::owner_all);
    fs::permissions(bin / "engine", fs::perms::owner_all);
    return bin;
  }
  // Starts a germline run under `engine` ("cwltool" or "toil-cwl-runner", through the
  // Wrappers) on the executor `make` builds, and waits until its trim step blocks: the run's
  // id and the blocked step's pid. Call under ASSERT_NO_FATAL_FAILURE.
  void StartBlockedRun(const char* engine, std::unique_ptr<Executor> (*make)(std::string),
                       std::string& run_id, pid_t& step) {
    Wrappers();
    ASSERT_EQ(::setenv("ZENGEN_TEST_ENGINE", engine, 1), 0);
    MakeRuns(make((dir_ / "bin" / "engine").string()));
    const std::string sp = QcPassedSpecimen();
    auto run = runs_->Start({sp, "germline", "1.0.0", "synthetic-30k"}, kAn1);
    ASSERT_TRUE(run.ok()) << run.error().message;
    run_id = run->id;
    step = WaitBlocked();
    ASSERT_GT(step, 0);
  }
  pid_t WaitBlocked() {
    const fs::path f = dir_ / "blocked";
    for (int i = 0; i < 1200 && !fs::exists(f); ++i) std::this_thread::sleep_for(100ms);
    return static_cast<pid_t>(std::atoi(Slurp(f).c_str()));
  }

  void EndToEnd() {
    const std::string sp = QcPassedSpecimen();
    auto run = runs_->Start({sp, "germline", "1.0.0", "synthetic-30k"}, kAn1);
    ASSERT_TRUE(run.ok()) << run.error().message;
    last_run_ = run->id;
    ASSERT_TRUE(runs_->WaitIdleForTest(600s));
    auto got = runs_->Get(run->id);
    ASSERT_EQ(got->state, "succeeded") << got->error.dump() << *runs_->Log(run->id);
    ASSERT_EQ(got->steps.size(), 3u);
    for (const auto& step : got->steps) {
      EXPECT_EQ(step.state, "succeeded") << step.name;  // as the engine's log reported it
      EXPECT_FALSE(step.started_at.empty()) << step.name;
    }
    EXPECT_EQ(AuditCount("analysis.step", "analysis_run/" + run->id), 6);
    EXPECT_TRUE(ScratchEmpty());
    const auto files = AnalysisFiles();
    ASSERT_EQ(files.size(), 2u);
    const fs::path ref = dir_ / "references" / "synthetic-30k" / "ref.fa";
    for (const auto& f : files) {
      EXPECT_EQ(f.derived_from, got->inputs);
      const fs::path plain = dir_ / ("plain." + f.kind);
      Plaintext(*blobs_, uploads_->keys(), f.blob_id, plain);
      if (f.kind == "cram") {
        const std::string n = Shell(fmt::format("samtools view -c -T '{}' '{}'", ref.string(),
                                                plain.string()));
        EXPECT_GT(std::atoi(n.c_str()), 2500) << n;
        // The read group names the participant's pseudonym, not the run's sample name.
        EXPECT_NE(Shell(fmt::format("samtools view -H '{}'", plain.string())).find(participant_),
                  std::string::npos);
      } else {
        // Every spiked SNV is called (homozygous alternate, 1-based positions).
        const std::string calls = Shell(fmt::format(
            "bcftools query -f '%POS[ %GT]\\n' '{}' 2>&1", plain.string()));
        int found = 0;
        for (int64_t p : genome_.snvs) {
          found += calls.find(fmt::format("{} 1/1\n", p + 1)) != std::string::npos;
        }
        EXPECT_GE(found, static_cast<int>(genome_.snvs.size()) - 2) << calls;
      }
    }
    auto prov = runs_->Provenance(run->id);
    ASSERT_TRUE(prov.ok());
    const std::string text = prov->dump();
    EXPECT_NE(text.find(runs_->executor().EngineVersion()), std::string::npos);
    EXPECT_NE(text.find("samtools"), std::string::npos);
    // On either engine the CRAM was sanitised while the call step ran (the registry took that
    // result): Toil on Slurm leaves the align step's CRAM and .crai side by side in scratch.
    bool early = false;
    for (const auto& node : (*prov)["@graph"]) {
      if (node.contains("zengen:phases")) {
        early = node["zengen:phases"].value("early_sanitised:cram", 0) == 1;
      }
    }
    EXPECT_TRUE(early) << text;
  }
  std::string last_run_;  // EndToEnd's run
};

TEST_P(EngineTest, CwltoolRunsTheGermlinePipelineEndToEnd) {
  MakeRuns(LocalExecutor());
  EndToEnd();
}

// A tumour/normal pair through the real engine: the tumour carries somatic SNVs beside the
// germline ones; the registered somatic VCF (read back decrypted) holds somatic sites and no
// germline one, each CRAM is linked to its own FASTQ pair and the VCF to all four.
TEST_P(EngineTest, CwltoolRunsATumourNormalPairEndToEnd) {
  if (GetParam() != "sqlite") GTEST_SKIP() << "runs on the sqlite backend only";
  MakeRuns(LocalExecutor());
  syn::Reference tumour_hap = genome_.hap;
  std::set<int64_t> somatic;  // 1-based
  for (int64_t p = 700; p < 29500; p += 1301) {
    if (std::find(genome_.snvs.begin(), genome_.snvs.end(), p) != genome_.snvs.end()) continue;
    char& c = tumour_hap.sequence[static_cast<size_t>(p)];
    c = c == 'A' ? 'G' : c == 'C' ? 'T' : c == 'G' ? 'A' : 'C';
    somatic.insert(p + 1);
  }
  const std::string tumour = QcPassedSpecimen("tumour", &tumour_hap, 21);
  const std::string normal = QcPassedSpecimen("normal", nullptr, 22);
  auto run = runs_->Start({tumour, "somatic", "1.1.0", "synthetic-30k", normal}, kAn1);
  ASSERT_TRUE(run.ok()) << run.error().message;
  ASSERT_TRUE(runs_->WaitIdleForTest(600s));
  auto got = runs_->Get(run->id);
  ASSERT_EQ(got->state, "succeeded") << got->error.dump() << *runs_->Log(run->id);
  for (const auto& step : got->steps) EXPECT_EQ(step.state, "succeeded") << step.name;
  EXPECT_EQ(got->steps.size(), 5u);
  EXPECT_TRUE(ScratchEmpty());
  ASSERT_EQ(got->outputs.size(), 3u);
  std::map<std::string, genomefiles::DataFile> by_id;
  for (const auto& f : AnalysisFiles()) by_id[f.id] = f;
  ASSERT_EQ(by_id.size(), 3u);
  EXPECT_EQ(by_id.at(got->outputs[0]).specimen_id, tumour);
  EXPECT_EQ(by_id.at(got->outputs[1]).specimen_id, normal);
  EXPECT_EQ(by_id.at(got->outputs[0]).derived_from,
            std::vector<std::string>(got->inputs.begin(), got->inputs.begin() + 2));
  EXPECT_EQ(by_id.at(got->outputs[1]).derived_from,
            std::vector<std::string>(got->inputs.begin() + 2, got->inputs.end()));
  const auto& vcf = by_id.at(got->outputs[2]);
  EXPECT_EQ(vcf.derived_from, got->inputs);
  const fs::path plain = dir_ / "somatic.vcf.gz";
  Plaintext(*blobs_, uploads_->keys(), vcf.blob_id, plain);
  const std::string calls =
      Shell(fmt::format("bcftools query -f '%POS\n' '{}' 2>&1", plain.string()));
  std::set<int64_t> called;
  std::istringstream lines(calls);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty()) called.insert(std::stoll(line));
  }
  size_t found = 0;
  for (int64_t p : somatic) found += called.count(p);
  // ~15x per specimen: the depth filters (10 reads) lose a few sites, never most of them.
  EXPECT_GE(found * 2, somatic.size()) << calls;
  for (int64_t p : genome_.snvs) EXPECT_EQ(called.count(p + 1), 0u) << "germline SNV " << p + 1;
  // One sample: the tumour's, under the participant's pseudonym.
  const std::string samples = Shell(fmt::format("bcftools query -l '{}'", plain.string()));
  EXPECT_EQ(samples.find(normal), std::string::npos) << samples;
  EXPECT_EQ(std::count(samples.begin(), samples.end(), '\n'), 1) << samples;
}

TEST_P(EngineTest, AStepKilledWithSigkillFailsTheRunWithItsLogAndARetrySucceeds) {
  std::string run_id;
  pid_t step = 0;
  ASSERT_NO_FATAL_FAILURE(StartBlockedRun("cwltool", LocalExecutor, run_id, step));
  ASSERT_EQ(::kill(step, SIGKILL), 0);
  ASSERT_TRUE(runs_->WaitIdleForTest(300s));
  auto got = runs_->Get(run_id);
  ASSERT_EQ(got->state, "failed");
  EXPECT_EQ(got->error["code"], "engine_failed");
  EXPECT_EQ(got->steps[0].state, "failed");
  EXPECT_NE(got->steps[0].log.find("trim"), std::string::npos);
  EXPECT_NE(runs_->Log(run_id)->find("permanentFail"), std::string::npos);
  EXPECT_TRUE(ScratchEmpty());
  EXPECT_TRUE(AnalysisFiles().empty());

  ASSERT_TRUE(runs_->Retry(run_id, kAn1).ok());
  ASSERT_TRUE(runs_->WaitIdleForTest(600s));
  got = runs_->Get(run_id);
  EXPECT_EQ(got->state, "succeeded") << *runs_->Log(run_id);
  EXPECT_EQ(AnalysisFiles().size(), 2u);
}

TEST_P(EngineTest, ACancelledCwltoolRunStopsItsStepsAndLeavesNothing) {
  std::string run_id;
  pid_t step = 0;
  ASSERT_NO_FATAL_FAILURE(StartBlockedRun("cwltool", LocalExecutor, run_id, step));
  ASSERT_TRUE(runs_->Cancel(run_id, kAn1).ok());
  ASSERT_TRUE(runs_->WaitIdleForTest(120s));
  EXPECT_EQ(runs_->Get(run_id)->state, "cancelled");
  EXPECT_TRUE(ScratchEmpty());
  EXPECT_TRUE(AnalysisFiles().empty());
  // The blocked step was stopped with its engine (its process group).
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    gone = ::kill(step, 0) != 0 ||
           Slurp(fmt::format("/proc/{}/stat", step)).find(") Z ") != std::string::npos;
    if (!gone) std::this_thread::sleep_for(100ms);
  }
  EXPECT_TRUE(gone);
}

TEST_P(EngineTest, ToilOnSlurmRunsTheSameGermlinePipelineEndToEnd) {
  if (!SlurmUp()) GTEST_SKIP() << kNoSlurm;
  // One backend is enough: the executor does not touch the metadata store, and a Slurm run
  // costs about a minute.
  if (GetParam() != "sqlite") GTEST_SKIP() << "runs on the sqlite backend only";
  MakeRuns(SlurmExecutor());
  EXPECT_EQ(runs_->executor().name(), "slurm");
  EndToEnd();
}

// The Slurm jobs of a run (by the comment the executor gives them), as "id state" lines.
std::vector<std::string> RunJobs(const std::string& run_id) {
  std::vector<std::string> ids;
  auto q = RunCommand({"squeue", "-h", "-o", "%i %k"});
  if (!q.ok()) return ids;
  std::istringstream lines(q->out);
  for (std::string id, comment; lines >> id >> comment;) {
    if (comment == "zengen-" + run_id) ids.push_back(id);
  }
  return ids;
}

// Cancels with scancel the one Slurm job the run has now (exactly one, or a failure).
void ScancelItsOneJob(const std::string& run_id) {
  const auto jobs = RunJobs(run_id);
  ASSERT_EQ(jobs.size(), 1u) << "expected exactly one Slurm job of run " << run_id;
  ASSERT_EQ(RunCommand({"scancel", jobs[0]})->exit_code, 0);
}

// A step's Slurm job cancelled with scancel while the run is going (the step blocks until then):
// Toil retries the job (--retryCount 1; the wrapper is the real fastp the second time) and the
// run succeeds, or the run fails with the step's log. Either way no scratch is left, no Slurm
// job of the run remains and nothing is half-registered (both outputs or none).
TEST_P(EngineTest, AStepJobCancelledWithScancelIsRetriedOrFailsWithItsLog) {
  if (!SlurmUp()) GTEST_SKIP() << kNoSlurm;
  if (GetParam() != "sqlite") GTEST_SKIP() << "runs on the sqlite backend only";
  std::string run_id;
  pid_t step = 0;
  // Then the trim step is running inside its Slurm job.
  ASSERT_NO_FATAL_FAILURE(StartBlockedRun("toil-cwl-runner", SlurmExecutor, run_id, step));
  ASSERT_NO_FATAL_FAILURE(ScancelItsOneJob(run_id));  // the blocked step's job
  ASSERT_TRUE(runs_->WaitIdleForTest(600s));
  auto got = runs_->Get(run_id);
  const std::string log = *runs_->Log(run_id);
  if (got->state == "succeeded") {
    EXPECT_EQ(AnalysisFiles().size(), 2u);
    EXPECT_EQ(got->outputs.size(), 2u);
  } else {
    ASSERT_EQ(got->state, "failed") << log;
    EXPECT_EQ(got->error["code"], "engine_failed");
    EXPECT_EQ(got->steps[0].state, "failed");
    EXPECT_NE(log.find("trim"), std::string::npos) << log;
    EXPECT_TRUE(AnalysisFiles().empty());
    EXPECT_EQ(Count("SELECT COUNT(*) FROM analysis_run_outputs"), 0);
  }
  // The engine saw the cancelled job fail (and then retried it or gave up).
  EXPECT_NE(log.find("Job failed with exit value"), std::string::npos) << log;
  std::cout << "scancel: the run ended " << got->state << " (attempt " << got->attempt << ")\n";
  EXPECT_TRUE(ScratchEmpty());
  EXPECT_TRUE(RunJobs(run_id).empty());
}

// ---- one Slurm allocation per run (mode per_run) -------------------------------------------

// The configuration's names map to the adapters and their modes (no cluster needed: building
// an executor only asks the engine for its version).
TEST(ExecutorTest, ConfigurationNamesTheExecutorAndItsSlurmMode) {
  auto local = MakeExecutor("local");
  ASSERT_TRUE(local.ok());
  EXPECT_EQ((*local)->name(), "local");
  EXPECT_EQ((*local)->mode(), "");
  auto per_step = MakeExecutor("slurm");
  ASSERT_TRUE(per_step.ok());
  EXPECT_EQ((*per_step)->name(), "slurm");
  EXPECT_EQ((*per_step)->mode(), "per_step");
  auto per_run = MakeExecutor("slurm_allocation");
  ASSERT_TRUE(per_run.ok());
  EXPECT_EQ((*per_run)->name(), "slurm");
  EXPECT_EQ((*per_run)->mode(), "per_run");
  auto bad = MakeExecutor("pbs");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, "invalid_executor");
  EXPECT_EQ(bad.error().field, "analysis_executor");
}

// The germline pipeline as one Slurm job: outputs registered (EndToEnd), and the provenance
// names the executor, its mode, the node and the run's job.
TEST_P(EngineTest, OneSlurmAllocationPerRunRunsTheGermlinePipelineEndToEnd) {
  if (!SlurmUp()) GTEST_SKIP() << kNoSlurm;
  if (GetParam() != "sqlite") GTEST_SKIP() << "runs on the sqlite backend only";
  MakeRuns(SlurmAllocationExecutor());
  EXPECT_EQ(runs_->executor().name(), "slurm");
  EXPECT_EQ(runs_->executor().mode(), "per_run");
  EndToEnd();
  ASSERT_FALSE(last_run_.empty());
  auto prov = runs_->Provenance(last_run_);
  ASSERT_TRUE(prov.ok());
  bool found = false;
  for (const auto& node : (*prov)["@graph"]) {
    if (!node.contains("zengen:executorMode")) continue;
    found = true;
    EXPECT_EQ(node["zengen:executor"], "slurm");
    EXPECT_EQ(node["zengen:executorMode"], "per_run");
    EXPECT_FALSE(node["zengen:node"].get<std::string>().empty());
    const std::string job = node["zengen:slurmJob"].get<std::string>();
    EXPECT_FALSE(job.empty());
    EXPECT_NE(runs_->Log(last_run_)->find("submitted as job " + job), std::string::npos);
  }
  EXPECT_TRUE(found) << prov->dump();
}

// The run's job cancelled with scancel while its first step blocks: the run fails with the
// engine's log and the scheduler's reason (no retry in this mode: the whole run would start
// again, which is the analyst's Retry), no scratch, no job and nothing registered.
TEST_P(EngineTest, TheRunsAllocationCancelledWithScancelFailsTheRunWithItsLog) {
  if (!SlurmUp()) GTEST_SKIP() << kNoSlurm;
  if (GetParam() != "sqlite") GTEST_SKIP() << "runs on the sqlite backend only";
  std::string run_id;
  pid_t step = 0;
  // Then the trim step is running inside the run's allocation.
  ASSERT_NO_FATAL_FAILURE(StartBlockedRun("cwltool", SlurmAllocationExecutor, run_id, step));
  ASSERT_NO_FATAL_FAILURE(ScancelItsOneJob(run_id));  // the run's allocation
  ASSERT_TRUE(runs_->WaitIdleForTest(300s));
  auto got = runs_->Get(run_id);
  const std::string log = *runs_->Log(run_id);
  ASSERT_EQ(got->state, "failed") << log;
  EXPECT_EQ(got->error["code"], "engine_failed");
  EXPECT_NE(log.find("[step trim] start"), std::string::npos) << log;  // the engine's own log
  EXPECT_NE(log.find("ended CANCELLED"), std::string::npos) << log;
  EXPECT_TRUE(ScratchEmpty());
  EXPECT_TRUE(AnalysisFiles().empty());
  EXPECT_EQ(Count("SELECT COUNT(*) FROM analysis_run_outputs"), 0);
  EXPECT_TRUE(RunJobs(run_id).empty());
}

// Cancelled through Zengen: the run's job is scancel'ed, the run ends cancelled, no scratch.
TEST_P(EngineTest, ACancelledRunOnItsAllocationLeavesNoJobAndNoScratch) {
  if (!SlurmUp()) GTEST_SKIP() << kNoSlurm;
  if (GetParam() != "sqlite") GTEST_SKIP() << "runs on the sqlite backend only";
  std::string run_id;
  pid_t step = 0;
  ASSERT_NO_FATAL_FAILURE(StartBlockedRun("cwltool", SlurmAllocationExecutor, run_id, step));
  ASSERT_EQ(RunJobs(run_id).size(), 1u);
  ASSERT_TRUE(runs_->Cancel(run_id, kAn1).ok());
  ASSERT_TRUE(runs_->WaitIdleForTest(120s));
  EXPECT_EQ(runs_->Get(run_id)->state, "cancelled");
  EXPECT_TRUE(ScratchEmpty());
  EXPECT_TRUE(AnalysisFiles().empty());
  EXPECT_TRUE(RunJobs(run_id).empty());
}

// After a restart, a run recorded running whose job is still in the queue is failed
// (interrupted) and its job cancelled: its scratch is wiped, so the job could not finish it.
TEST_P(EngineTest, ARestartCancelsTheSlurmJobOfAnInterruptedRun) {
  if (!SlurmUp()) GTEST_SKIP() << kNoSlurm;
  if (GetParam() != "sqlite") GTEST_SKIP() << "runs on the sqlite backend only";
  FakeExecutor* fake = Fake();
  fake->mode = "block";
  const std::string sp = QcPassedSpecimen();
  auto run = runs_->Start({sp, "germline", "1.0.0", "synthetic-30k"}, kAn1);
  ASSERT_TRUE(run.ok());
  while (!fake->started.load()) std::this_thread::sleep_for(10ms);
  runs_.reset();  // the process "dies" with the run recorded running
  // The run's allocation, still queued or running on the cluster.
  auto sub = RunCommand({"sbatch", "--parsable", "--comment=zengen-" + run->id,
                         "--output=/dev/null", "--wrap=sleep 600"});
  ASSERT_TRUE(sub.ok());
  ASSERT_EQ(sub->exit_code, 0) << sub->out;
  ASSERT_EQ(RunJobs(run->id).size(), 1u);
  runs_ = std::make_unique<Runs>(*store_, clock_, audit_, *specimens_, *gate_, *registry_,
                                 SlurmAllocationExecutor(),
                                 Options{.pipelines_dir = fs::path(ZENGEN_SOURCE_DIR) / "pipelines",
                                         .references_dir = dir_ / "references",
                                         .scratch_dir = dir_ / "scratch"});
  ASSERT_TRUE(runs_->Recover().ok());
  EXPECT_EQ(runs_->Get(run->id)->error["code"], "interrupted");
  EXPECT_TRUE(ScratchEmpty());
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    gone = RunJobs(run->id).empty();
    if (!gone) std::this_thread::sleep_for(100ms);
  }
  EXPECT_TRUE(gone);
  for (const auto& id : RunJobs(run->id)) (void)RunCommand({"scancel", id});
}

// The somatic pipeline 1.0.0 on its own under cwltool: a normal with germline SNVs, a tumour
// with the same plus somatic ones; exactly the somatic ones are called (tumour 1/1, normal 0/0).
TEST(SomaticPipelineTest, CallsTheTumourOnlyVariantsAndNotTheGermlineOnes) {
  const fs::path dir =
      fs::temp_directory_path() / ("zg-somatic-" + crypto::ToHex(crypto::RandomBytes(6)));
  fs::create_directories(dir);
  const Genome g = MakeGenome();  // the normal: the reference with germline SNVs
  syn::Reference tumour = g.hap;
  std::set<int64_t> somatic;
  for (int64_t p = 700; p < 29500; p += 1301) {
    if (std::find(g.snvs.begin(), g.snvs.end(), p) != g.snvs.end()) continue;
    char& c = tumour.sequence[static_cast<size_t>(p)];
    c = c == 'A' ? 'G' : c == 'C' ? 'T' : c == 'G' ? 'A' : 'C';
    somatic.insert(p + 1);
  }
  std::ofstream(dir / "ref.fa") << g.ref.Fasta();
  ASSERT_EQ(RunCommand({"samtools", "faidx", (dir / "ref.fa").string()})->exit_code, 0);
  ASSERT_EQ(RunCommand({"bwa", "index", (dir / "ref.fa").string()})->exit_code, 0);
  // ~30x each, so that the depth filters (10 reads in either sample) hold nearly everywhere.
  const syn::Reads t = syn::MakeReads(tumour, 21, 3000, 150, false, "HTUMOUR");
  const syn::Reads n = syn::MakeReads(g.hap, 22, 3000, 150, false, "HNORMAL");
  std::ofstream(dir / "t1.fq.gz", std::ios::binary) << syn::Gzip(t.r1);
  std::ofstream(dir / "t2.fq.gz", std::ios::binary) << syn::Gzip(t.r2);
  std::ofstream(dir / "n1.fq.gz", std::ios::binary) << syn::Gzip(n.r1);
  std::ofstream(dir / "n2.fq.gz", std::ios::binary) << syn::Gzip(n.r2);
  auto file = [&](const char* name) { return json{{"class", "File"}, {"path", (dir / name).string()}}; };
  std::ofstream(dir / "job.json") << json{{"tumour_reads_1", file("t1.fq.gz")},
                                          {"tumour_reads_2", file("t2.fq.gz")},
                                          {"normal_reads_1", file("n1.fq.gz")},
                                          {"normal_reads_2", file("n2.fq.gz")},
                                          {"reference", file("ref.fa")},
                                          {"tumour_sample", "T1"},
                                          {"normal_sample", "N1"},
                                          {"threads", 1}}
                                         .dump();
  const auto run = RunCommand(
      {"cwltool", "--outdir", (dir / "out").string(), "--tmpdir-prefix", (dir / "tmp").string() + "/",
       (fs::path(ZENGEN_SOURCE_DIR) / "pipelines/somatic/1.0.0/somatic.cwl").string(),
       (dir / "job.json").string()});
  ASSERT_EQ(run->exit_code, 0) << run->out;
  const auto calls = RunCommand({"bcftools", "query", "-f", "%POS[ %GT]\n",
                                 (dir / "out" / "T1.somatic.vcf.gz").string()});
  ASSERT_EQ(calls->exit_code, 0) << calls->out;
  std::set<int64_t> called;
  std::istringstream lines(calls->out);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty()) called.insert(std::stoll(line));
    EXPECT_NE(line.find(" 0/0"), std::string::npos) << line;  // the normal is reference
  }
  size_t found = 0;
  for (int64_t p : somatic) found += called.count(p);
  EXPECT_GE(found + 1, somatic.size()) << calls->out;  // at most one somatic SNV missed
  for (int64_t p : g.snvs) EXPECT_EQ(called.count(p + 1), 0u) << "germline SNV called at " << p + 1;
  std::error_code ec;
  fs::remove_all(dir, ec);
}

INSTANTIATE_TEST_SUITE_P(Backends, AnalysisTest, ::testing::ValuesIn(storage::TestBackends()),
                         [](const auto& info) { return info.param; });
INSTANTIATE_TEST_SUITE_P(Backends, EngineTest, ::testing::ValuesIn(storage::TestBackends()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace zengen::analysis
