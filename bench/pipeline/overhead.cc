// The Zengen side of bench/pipeline/run.sh (issue 16): orchestration overhead of an analysis
// run against the same tool commands run by hand.
//
//   overhead reads HAP1.fa HAP2.fa COVERAGE SEED OUTDIR
//       writes OUTDIR/r1.fq.gz and OUTDIR/r2.fq.gz: 150 bp pairs drawn from both haplotypes
//       (synthetic module: Illumina-like names and qualities that pass QC), COVERAGE x in all.
//   overhead run EXECUTOR REF.fa R1 R2 PIPELINES_DIR WORKDIR THREADS OUT.vcf.gz
//       registers the pair as a QC-passed sequencing run in a scratch Zengen (SQLite, local
//       blob store, Crypt4GH), then times one germline run on EXECUTOR (local | slurm |
//       slurm_allocation) from the request to `succeeded`: input decryption into scratch, the
//       engine, sanitising, encrypting and registering the outputs. Prints one
//       "zengen_phase NAME SECONDS" line per phase of the run's provenance (zengen:phases),
//       then "zengen_run_seconds S", and writes the registered VCF's plaintext to OUT.vcf.gz
//       for the accuracy comparison.
#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>

#include <fmt/format.h>

#include "access/access.h"
#include "analysis/analysis.h"
#include "analysis/registry.h"
#include "blobs/local_store.h"
#include "consent/consent.h"
#include "crypto/crypt4gh.h"
#include "crypto/crypto.h"
#include "participants/participants.h"
#include "sequencing/synthetic.h"
#include "sequencing/upload.h"
#include "sharing/sharing.h"
#include "specimens/analysis_orders.h"
#include "storage/store.h"

namespace zengen::bench {
namespace {

namespace fs = std::filesystem;
namespace syn = sequencing::synthetic;

int Die(const std::string& what) {
  std::cerr << "overhead: " << what << "\n";
  return 1;
}
int Die(const Error& e) { return Die(e.code + ": " + e.message); }

std::string Slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

syn::Reference ReadFasta(const fs::path& p) {
  std::ifstream f(p);
  syn::Reference r;
  for (std::string line; std::getline(f, line);) {
    if (line.empty()) continue;
    if (line[0] == '>') {
      r.name = line.substr(1, line.find_first_of(" \t") - 1);
    } else {
      r.sequence += line;
    }
  }
  return r;
}

int Reads(char** argv) {
  const syn::Reference h1 = ReadFasta(argv[0]);
  const syn::Reference h2 = ReadFasta(argv[1]);
  const int coverage = std::atoi(argv[2]);
  const uint64_t seed = std::strtoull(argv[3], nullptr, 10);
  const fs::path out = argv[4];
  const int pairs = static_cast<int>(static_cast<int64_t>(h1.sequence.size()) * coverage / 300 / 2);
  const syn::Reads a = syn::MakeReads(h1, seed * 2 + 1, pairs, 150, false, "HBENCHHP1");
  const syn::Reads b = syn::MakeReads(h2, seed * 2 + 2, pairs, 150, false, "HBENCHHP2");
  std::ofstream(out / "r1.fq.gz", std::ios::binary) << syn::Gzip(a.r1 + b.r1);
  std::ofstream(out / "r2.fq.gz", std::ios::binary) << syn::Gzip(a.r2 + b.r2);
  return 0;
}

Status Upload(sequencing::Uploads& up, sequencing::NewUpload n, const std::string& bytes,
              const Actor& actor) {
  n.size = static_cast<int64_t>(bytes.size());
  n.sha256 = crypto::Sha256Hex(bytes);
  n.chunk_size = sequencing::kMaxChunkSize;
  ZG_ASSIGN_OR_RETURN(auto u, up.Create(n, actor));
  for (int64_t i = 0; i < u.chunks(); ++i) {
    ZG_RETURN_IF_ERROR(up.PutChunk(u.id, i,
                                   std::string_view(bytes).substr(
                                       static_cast<size_t>(i * u.chunk_size),
                                       static_cast<size_t>(u.ChunkLength(i))),
                                   actor));
  }
  return up.Complete(u.id, actor).status();
}

int Run(char** argv) {
  const std::string executor_name = argv[0];
  const fs::path ref = argv[1], r1 = argv[2], r2 = argv[3], pipelines = argv[4];
  const fs::path work = argv[5];
  const int threads = std::atoi(argv[6]);
  const fs::path out_vcf = argv[7];
  fs::create_directories(work);
  SystemClock clock;
  RecordingAuditSink audit;
  auto store = storage::OpenStore({.location = (work / "zengen.db").string(), .pool_size = 4});
  if (!store.ok()) return Die(store.error());
  storage::Store& st = **store;
  {
    auto tx = st.Begin(storage::TxMode::kWrite);
    for (const char* org : {"hosp-a:hospital", "seq-1:sequencing_facility", "ac-1:analysis_center"}) {
      const std::string s = org;
      const auto colon = s.find(':');
      if (!(*tx)->Exec("INSERT INTO organisations (id, name, kind, jurisdiction, created_at) "
                       "VALUES ($1, $1, $2, 'JP', '2026-01-01T00:00:00Z')",
                       {storage::Text(s.substr(0, colon)), storage::Text(s.substr(colon + 1))})
               .ok()) {
        return Die("organisations");
      }
    }
    if (!(*tx)->Commit().ok()) return Die("organisations");
  }
  if (auto s = consent::EnsureDefaultIcf(st, clock); !s.ok()) return Die(s.error());
  participants::Registry registry(st, clock, audit, std::string(32, 'k'));
  auto p = registry.Register({"hosp-a", "MRN-B", "cancer", "lung", "2026-06-01"}, "clin", "cli", "");
  if (!p.ok()) return Die(p.error());
  const std::string pid = p->participant.id;
  consent::Ledger ledger(st, clock, audit);
  std::map<std::string, std::string> decisions;
  for (const auto& item : consent::DefaultCatalogue("cancer")) decisions[item.code] = "permit";
  decisions["C11"] = "deny";
  if (auto c = ledger.Record(pid, {"initial", "1.0", "ja", decisions, "2026-11-20",
                                   {{"signer", "self"}, {"method", "paper"}}},
                             {"clin", "cli", ""});
      !c.ok()) {
    return Die(c.error());
  }
  specimens::Specimens specimens(st, clock, audit);
  const Actor clin{"clin", "hosp-a", {"clinician"}, "cli", ""};
  const Actor op{"op", "seq-1", {"sequencing_operator"}, "cli", ""};
  const Actor an{"an", "ac-1", {"analyst"}, "cli", ""};
  const Actor steward{"steward", "dc", {"data_steward"}, "cli", ""};
  if (auto r = specimens::AnalysisOrders(st, clock, audit).SetRule("cancer", "ac-1", steward);
      !r.ok()) {
    return Die(r.error());
  }
  auto sp = specimens.Register({pid, "normal", "blood", "EDTA", "2026-06-02", ""}, clin);
  if (!sp.ok()) return Die(sp.error());
  for (const auto& [to, who, dest] : std::vector<std::tuple<std::string, Actor, std::string>>{
           {"shipped", clin, "seq-1"}, {"received", op, ""}, {"library_prepared", op, ""}}) {
    if (auto s = specimens.Custody(sp->id, {to, "", dest}, who); !s.ok()) return Die(s.error());
  }
  std::vector<blobs::Root> roots;
  for (const char* name : {"hot1", "hot2", "cold1", "cold2"}) {
    fs::create_directories(work / name);
    roots.push_back({name, work / name, std::string(name).substr(0, 3) == "hot" ? "hot" : "cold",
                     "JP"});
  }
  auto blobs = blobs::LocalStore::Create(
      {.roots = roots, .allowed_jurisdictions = {"JP"}, .replicas = 2}, st, clock, audit);
  if (!blobs.ok()) return Die(blobs.error());
  const auto keys = crypto::crypt4gh::GenerateKeyPair();
  sequencing::Uploads uploads(st, clock, audit, **blobs, specimens, work / "staging",
                              {keys.secret_key, keys.public_key},
                              sequencing::DefaultQcThresholds(), genomefiles::HtsSanitiser());
  auto run = uploads.CreateRun({sp->id, "NovaSeq X", "HBENCH", "LIB-B", "paired"}, op);
  if (!run.ok()) return Die(run.error());
  sequencing::NewUpload n;
  n.kind = "fastq";
  n.run_id = run->id;
  n.read = 1;
  n.file_name = "r1.fq.gz";
  if (auto s = Upload(uploads, n, Slurp(r1), op); !s.ok()) return Die(s.error());
  n.read = 2;
  n.file_name = "r2.fq.gz";
  if (auto s = Upload(uploads, n, Slurp(r2), op); !s.ok()) return Die(s.error());
  sharing::Sharing sharing(st, clock, audit, ledger);
  access::Gate gate(uploads.files(), ledger, sharing);
  analysis::Registry files(st, clock, audit, **blobs, specimens, uploads, work / "registry");
  auto executor = analysis::MakeExecutor(executor_name);
  if (!executor.ok()) return Die(executor.error());
  analysis::Runs runs(st, clock, audit, specimens, gate, files, std::move(*executor),
                      {.pipelines_dir = pipelines,
                       .references_dir = work / "references",
                       .scratch_dir = work / "scratch",
                       .workers = 1,
                       .threads = threads});
  if (auto g = runs.RegisterReference("bench", ref, {"cli", "", {}, "cli", ""}); !g.ok()) {
    return Die(g.error());
  }
  runs.StartWorkers();
  const auto t0 = std::chrono::steady_clock::now();
  auto started = runs.Start({sp->id, "germline", "1.0.0", "bench"}, an);
  if (!started.ok()) return Die(started.error());
  if (!runs.WaitIdleForTest(std::chrono::seconds(6 * 3600))) return Die("run did not end");
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  auto got = runs.Get(started->id);
  if (!got.ok() || got->state != "succeeded") {
    std::cerr << (got.ok() ? got->error.dump() : "") << "\n" << *runs.Log(started->id) << "\n";
    return Die("run failed");
  }
  for (const auto& id : got->outputs) {
    auto f = uploads.files().GetFile(id);
    if (!f.ok() || f->kind != "vcf") continue;
    auto stream = genomefiles::OpenObjectStream(**blobs, f->blob_id, uploads.keys(), "");
    if (!stream.ok()) return Die(stream.error());
    std::ofstream out(out_vcf, std::ios::binary);
    for (;;) {
      auto piece = stream->next();
      if (!piece.ok()) return Die(piece.error());
      if (piece->empty()) break;
      out << *piece;
    }
  }
  // Zengen's phases (seconds), from the run's provenance document.
  if (auto prov = runs.Provenance(started->id); prov.ok()) {
    for (const auto& node : (*prov)["@graph"]) {
      if (!node.contains("zengen:phases")) continue;
      for (const auto& [name, s] : node["zengen:phases"].items()) {
        std::cout << "zengen_phase " << name << " " << s.dump() << "\n";
      }
    }
  }
  std::cout << fmt::format("zengen_run_seconds {:.1f}\n", seconds);
  return 0;
}

}  // namespace
}  // namespace zengen::bench

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "reads" && argc == 7) return zengen::bench::Reads(argv + 2);
  if (mode == "run" && argc == 10) return zengen::bench::Run(argv + 2);
  std::cerr << "usage: overhead reads HAP1.fa HAP2.fa COVERAGE SEED OUTDIR\n"
               "       overhead run EXECUTOR REF.fa R1 R2 PIPELINES_DIR WORKDIR THREADS OUT.vcf.gz\n";
  return 1;
}
