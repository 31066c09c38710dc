#include "app/cohort_wiring.h"

#include <condition_variable>
#include <mutex>

#include <spdlog/spdlog.h>
#include <set>

#include "audit/audit.h"
#include "crypto/crypt4gh.h"
#include "genomefiles/catalogue.h"
#include "policy/policy.h"

namespace zengen::app {

std::unique_ptr<variants::Cohort> MakeCohort(Runtime& r) {
  const genomefiles::UploadKeys keys = r.files->keys();
  variants::ChunkSealer sealer{
      .seal = [keys](std::string_view plain) {
        return crypto::crypt4gh::Encrypt(plain, keys.secret_key, {keys.public_key});
      },
      .open = [keys](std::string_view sealed) {
        return crypto::crypt4gh::Decrypt(sealed, keys.secret_key);
      }};
  variants::Cohort::Options options;
  options.audit_in_transaction = [store = r.store.get(), clock = &r.clock](
                                     storage::Transaction& tx, AuditEvent e) {
    audit::Record rec;
    rec.actor = std::move(e.actor);
    rec.source = std::move(e.source);
    rec.action = std::move(e.action);
    rec.resource = std::move(e.resource);
    rec.decision = std::move(e.decision);
    rec.reason = std::move(e.reason);
    rec.request_id = std::move(e.request_id);
    rec.details = std::move(e.details);
    return audit::AppendInTransaction(*store, tx, *clock, rec);
  };
  return std::make_unique<variants::Cohort>(*r.store, *r.blobs, std::move(sealer), r.clock,
                                            *r.audit_sink, std::move(options));
}

Result<variants::IngestReport> IngestVariantFile(Runtime& r, variants::Cohort& cohort,
                                                 std::string_view file_id, const Actor& actor) {
  return variants::IngestRegisteredFile(cohort, *r.files, *r.blobs,
                                        r.config.data_dir / "staging", file_id, actor);
}

Result<int64_t> SeedDemoCohort(Runtime& r) {
  auto cohort = MakeCohort(r);
  const Actor demo{.user = "demo", .organisation = "", .roles = {}, .source = "cli",
                   .request_id = ""};
  if (!cohort->Gene("ZGZ1").ok()) {
    ZG_RETURN_IF_ERROR(cohort->LoadGenes(variants::SyntheticGenes(), demo));
  }
  // The VCF/BCF files (asked of genomefiles) that are not batches yet (asked of the cohort).
  std::set<std::string> files;
  {
    ZG_ASSIGN_OR_RETURN(auto tx, r.store->Begin(storage::TxMode::kRead));
    const std::vector<std::string> kinds = {"vcf", "bcf"};
    ZG_ASSIGN_OR_RETURN(auto entries, genomefiles::CatalogueOfKinds(*tx, kinds));
    for (const auto& e : entries) files.insert(e.id);
  }
  ZG_ASSIGN_OR_RETURN(auto samples, cohort->Samples());
  for (const auto& s : samples) files.erase(s.file_id);
  int64_t ingested = 0;
  for (const auto& id : files) {
    auto report = IngestVariantFile(r, *cohort, id, demo);
    // A batch without samples is not in the sample index; it is ingested all the same.
    if (!report.ok() && report.error().code == "already_ingested") continue;
    ZG_RETURN_IF_ERROR(report.status());
    ++ingested;
  }
  return ingested;
}

std::unique_ptr<variants::IngestQueue> MakeIngestQueue(Runtime& r, variants::Cohort& cohort) {
  const Actor job{.user = "variants-ingest-job", .organisation = "", .roles = {},
                  .source = "job", .request_id = ""};
  return std::make_unique<variants::IngestQueue>(
      *r.store, r.clock, *r.audit_sink,
      [&r, &cohort, job](std::string_view file_id) {
        return IngestVariantFile(r, cohort, file_id, job);
      },
      variants::IngestQueue::Options{});
}

Result<variants::IngestQueue::Tick> SweepVariantIngest(Runtime& r, variants::IngestQueue& queue,
                                                       std::chrono::seconds min_age) {
  // The VCF/BCF files registered at least min_age ago (asked of genomefiles); the queue
  // leaves out the ones it holds or the cohort already has (Enqueue is idempotent).
  std::vector<std::string> files;
  {
    ZG_ASSIGN_OR_RETURN(auto tx, r.store->Begin(storage::TxMode::kRead));
    const std::vector<std::string> kinds = {"vcf", "bcf"};
    ZG_ASSIGN_OR_RETURN(auto entries, genomefiles::CatalogueOfKinds(*tx, kinds));
    const std::string cutoff = FormatRfc3339(r.clock.Now() - min_age);
    for (const auto& e : entries) {
      if (e.created_at <= cutoff) files.push_back(e.id);
    }
  }
  ZG_RETURN_IF_ERROR(queue.Enqueue(files).status());
  return queue.RunDue();
}

std::jthread StartVariantIngestJob(Runtime& r, variants::Cohort& cohort) {
  const std::chrono::seconds every{r.config.variants_auto_ingest_seconds};
  if (every.count() <= 0) return {};
  return std::jthread([&r, &cohort, every](std::stop_token stop) {
    auto queue = MakeIngestQueue(r, cohort);
    std::mutex mu;
    std::condition_variable_any cv;
    std::unique_lock lock(mu);
    while (true) {
      cv.wait_for(lock, stop, every, [] { return false; });
      if (stop.stop_requested()) break;
      auto t = SweepVariantIngest(r, *queue, every);
      if (!t.ok()) {
        spdlog::warn("variant ingest job failed: {} [{}]", t.error().message, t.error().code);
      } else if (t->ingested + t->failed > 0) {
        spdlog::info("variant ingest job: {} files ingested, {} failed (retried later)",
                     t->ingested, t->failed);
      }
    }
  });
}

Result<bool> GateAllowsSample(Runtime& r, access::Gate& gate, const http::Request& req,
                              const variants::CohortSample& sample) {
  ZG_ASSIGN_OR_RETURN(auto file, r.files->GetFile(sample.file_id));
  ZG_ASSIGN_OR_RETURN(http::Target t, gate.FileTarget(req.subject, "variants.read", file,
                                                      sample.participant_id));
  policy::Subject subject = req.subject;
  subject.groups.insert(subject.groups.end(), t.groups.begin(), t.groups.end());
  return policy::Decide(subject, "variants.read", t.resource,
                        {req.remote_address, "", t.grant, t.now})
      .allowed();
}

Status AddCohortRoutes(http::Router& router, Runtime& r, access::Gate& gate,
                       variants::Cohort& cohort, std::function<std::string()> public_url) {
  ZG_RETURN_IF_ERROR(variants::AddVariantRoutes(
      router,
      {.cohort = cohort,
       .store = *r.store,
       .allowed = [&r, &gate](const http::Request& req, const variants::CohortSample& s) {
         return GateAllowsSample(r, gate, req, s);
       },
       .ingest = [&r, &cohort](std::string_view file_id, const Actor& actor) {
         return IngestVariantFile(r, cohort, file_id, actor);
       },
       .ingest_jobs = [&r](std::string_view state, int64_t limit) {
         // Listing needs no ingest function: a queue that only reads.
         variants::IngestQueue q(*r.store, r.clock, *r.audit_sink, nullptr, {});
         return q.List(state, limit);
       },
       .audit = *r.audit_sink}));
  return beacon::AddBeaconRoutes(
      router,
      {.cohort = cohort,
       .samples = [&r, &gate, &cohort](const http::Request& req,
                                       beacon::Tier tier) -> Result<variants::SampleSet> {
         if (tier == beacon::Tier::kRecord) {
           return variants::SelectSamples(cohort, [&](const variants::CohortSample& s) {
             return GateAllowsSample(r, gate, req, s);
           });
         }
         ZG_ASSIGN_OR_RETURN(auto released, r.sharing->ReleasedParticipants());
         return variants::SelectSamples(cohort,
                                        [&](const variants::CohortSample& s) -> Result<bool> {
                                          return released.contains(s.participant_id);
                                        });
       },
       .store = *r.store,
       .clock = r.clock,
       .audit = *r.audit_sink,
       .budget = kBeaconBudget,
       .public_url = std::move(public_url)});
}

}  // namespace zengen::app
