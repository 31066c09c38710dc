#include "app/cohort_wiring.h"

#include <condition_variable>
#include <mutex>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <map>
#include <set>

#include "analysis/analysis.h"
#include "app/region_rebuild.h"
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
  // Each file's own reference (variants/references.h): its analysis run's, its header's, or
  // the site-wide FASTA; opened per ingest (the reader is not shared between ingests).
  variants::ReferenceSources references{
      .run_reference = [&r](std::string_view id) { return analysis::ReferenceOfOutput(*r.store, id); },
      .registered = [&r](std::string_view name) {
        return analysis::RegisteredReferenceFasta(*r.store, name);
      },
      .site_fasta = r.config.variants_reference_fasta.empty()
                        ? std::filesystem::path()
                        : r.config.Resolve(r.config.variants_reference_fasta)};
  return variants::IngestRegisteredFile(cohort, *r.files, *r.blobs,
                                        r.config.data_dir / "staging", file_id, actor, references);
}

variants::ClassMembership ConsentClassesOf(const consent::DataUseProfile& profile) {
  consent::Purpose research{.kind = consent::Purpose::Kind::kResearch,
                            .category = "DS",
                            .disease = profile.disease};
  consent::Purpose commercial = research;
  commercial.commercial = true;
  variants::ClassMembership out;
  out.research = consent::Match(profile, research).allowed;
  out.commercial = out.research && consent::Match(profile, commercial).allowed;
  return out;
}

std::shared_ptr<variants::PublicFrequencies> MakeFrequencies(Runtime& r,
                                                             variants::Cohort& cohort) {
  variants::FrequencySources sources{
      .public_releases = [&r] { return r.sharing->PublicReleaseFiles("vcf"); },
      .classes = [&r](const std::string& participant) -> Result<variants::ClassMembership> {
        ZG_ASSIGN_OR_RETURN(consent::ConsentStatus status, r.consents->Current(participant));
        return ConsentClassesOf(status.profile);
      },
      .consent_changes = [&r] { return r.consents->Changes(); }};
  return std::make_shared<variants::PublicFrequencies>(*r.store, cohort, r.clock, *r.audit_sink,
                                                       std::move(sources),
                                                       variants::PublicFrequencies::Options{});
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

Result<VariantSweep> SweepVariantIngest(Runtime& r, variants::IngestQueue& queue,
                                        std::chrono::seconds min_age, VariantSweepCursor& cursor) {
  const bool full = cursor.after.empty() || cursor.passes % kFullSweepEvery == kFullSweepEvery - 1;
  const std::string up_to = FormatRfc3339(r.clock.Now() - min_age);
  std::vector<std::string> files;
  {
    ZG_ASSIGN_OR_RETURN(auto tx, r.store->Begin(storage::TxMode::kRead));
    const std::vector<std::string> kinds = {"vcf", "bcf"};
    ZG_ASSIGN_OR_RETURN(auto entries, genomefiles::CatalogueOfKindsCreated(
                                          *tx, kinds, full ? "" : cursor.after, up_to));
    for (const auto& e : entries) files.push_back(e.id);
  }
  ZG_RETURN_IF_ERROR(queue.Enqueue(files).status());
  if (up_to > cursor.after) cursor.after = up_to;
  ++cursor.passes;
  VariantSweep out;
  out.read = static_cast<int64_t>(files.size());
  ZG_ASSIGN_OR_RETURN(out.tick, queue.RunDue());
  return out;
}

std::jthread StartVariantIngestJob(Runtime& r, variants::Cohort& cohort) {
  const std::chrono::seconds every{r.config.variants_auto_ingest_seconds};
  if (every.count() <= 0) return {};
  return std::jthread([&r, &cohort, every](std::stop_token stop) {
    auto queue = MakeIngestQueue(r, cohort);
    auto frequencies = MakeFrequencies(r, cohort);
    const Actor job{.user = "variants-frequencies-job", .organisation = "", .roles = {},
                    .source = "job", .request_id = ""};
    const Actor rebuilder{.user = "variants-rebuild-job", .organisation = "", .roles = {},
                          .source = "job", .request_id = ""};
    // Merge jobs a crash interrupted left their scratch directories: nothing reads them.
    RemoveStaleMergeScratch(r.config.Resolve("analysis") / "scratch");
    auto rebuild = MakeRebuildJob(r);
    if (!rebuild.ok()) {
      spdlog::warn("region rebuilds are off: {} [{}]", rebuild.error().message, rebuild.error().code);
    }
    bool rebuild_due = true;  // the first pass catches up with what the last run left
    VariantSweepCursor cursor;
    std::mutex mu;
    std::condition_variable_any cv;
    std::unique_lock lock(mu);
    while (true) {
      cv.wait_for(lock, stop, every, [] { return false; });
      if (stop.stop_requested()) break;
      auto t = SweepVariantIngest(r, *queue, every, cursor);
      if (!t.ok()) {
        spdlog::warn("variant ingest job failed: {} [{}]", t.error().message, t.error().code);
      } else if (t->tick.ingested + t->tick.failed > 0) {
        spdlog::info("variant ingest job: {} files ingested, {} failed (retried later)",
                     t->tick.ingested, t->tick.failed);
      }
      // Regions crowded by single-sample files are merged into one chunk each.
      if (t.ok() && t->tick.ingested > 0) rebuild_due = true;
      if (rebuild_due && rebuild.ok() && r.config.variants_rebuild_chunks > 0) {
        auto p = RebuildCrowdedRegions(
            cohort, *rebuild, r.config.variants_rebuild_chunks, kRebuildsPerPass, rebuilder,
            fmt::format("automatic: the region held at least {} chunks",
                        r.config.variants_rebuild_chunks),
            stop);
        if (!p.ok()) {
          spdlog::warn("region rebuild job failed: {} [{}]", p.error().message, p.error().code);
        } else if (p->regions + p->failed > 0) {
          spdlog::info("region rebuild job: {} regions merged ({} chunks), {} failed", p->regions,
                       p->chunks, p->failed);
        }
        // A full pass leaves more for the next; otherwise wait for the next ingest.
        rebuild_due = p.ok() && p->regions + p->failed >= kRebuildsPerPass;
      }
      // The portal's frequencies follow ingests, consent changes and releases made public.
      if (auto f = frequencies->Refresh(job); !f.ok()) {
        spdlog::warn("portal frequencies job failed: {} [{}]", f.error().message, f.error().code);
      } else if (f->computed) {
        spdlog::info("portal frequencies computed: {} sites, {} public releases", f->sites,
                     f->releases);
      }
    }
  });
}

Result<std::string> RequestGrant(Runtime& r, const http::Request& req) {
  const auto named = req.query.find("grant");
  if (named != req.query.end() && named->second.empty()) {
    return InvalidArgument("invalid_parameter",
                           "grant: the id of one of your grants (or leave the parameter out)",
                           "grant");
  }
  std::vector<sharing::GrantRecord> active;
  if (req.subject.authenticated && !req.subject.id.empty()) {
    ZG_ASSIGN_OR_RETURN(auto grants, r.sharing->ListGrants(http::RequestActor(req)));
    const auto now = r.clock.Now();
    for (auto& g : grants) {
      if (g.holder == req.subject.id && g.StatusAt(now) == "active") active.push_back(std::move(g));
    }
  }
  if (named != req.query.end()) {
    const std::string& id = named->second;
    for (const auto& g : active) {
      if (g.id == id) return id;
    }
    // Why, for the audit log only: the caller learns nothing about other people's grants.
    std::string why = "not a grant of the caller (unknown, or another's)";
    if (req.subject.authenticated) {
      ZG_ASSIGN_OR_RETURN(auto visible, r.sharing->ListGrants(http::RequestActor(req)));
      for (const auto& g : visible) {
        if (g.id != id) continue;
        why = g.holder != req.subject.id ? "held by " + g.holder
                                         : "not active (" + g.StatusAt(r.clock.Now()) + ")";
      }
    }
    ZG_RETURN_IF_ERROR(r.audit_sink->Append(
        {.actor = req.subject.authenticated ? req.subject.id : "anonymous",
         .source = req.remote_address,
         .action = "variants.grant",
         .resource = "grant/" + id.substr(0, 64),
         .decision = "deny",
         .reason = fmt::format("grant named for a cohort query: {}", why),
         .request_id = req.request_id}));
    return Error{ErrorKind::kPermissionDenied, "grant_not_usable",
                 "grant: not an active grant of yours", "grant"};
  }
  if (active.size() > 1) {
    std::string ids;
    for (const auto& g : active) ids += (ids.empty() ? "" : ", ") + g.id;
    return InvalidArgument(
        "grant_required",
        fmt::format("grant: you hold {} active grants ({}); name the one this query is for",
                    active.size(), ids),
        "grant");
  }
  return std::string();
}

Result<variants::SampleDecisions> GateDecidesSamples(
    Runtime& r, access::Gate& gate, const http::Request& req,
    const std::vector<variants::CohortSample>& samples) {
  variants::SampleDecisions out;
  ZG_ASSIGN_OR_RETURN(out.grant, RequestGrant(r, req));
  std::map<std::string, genomefiles::DataFile> files;
  std::map<std::pair<std::string, std::string>, bool> decided;  // (file, participant)
  out.allowed.reserve(samples.size());
  for (const auto& sample : samples) {
    auto key = std::pair{sample.file_id, sample.participant_id};
    auto known = decided.find(key);
    if (known == decided.end()) {
      auto file = files.find(sample.file_id);
      if (file == files.end()) {
        ZG_ASSIGN_OR_RETURN(auto f, r.files->GetFile(sample.file_id));
        file = files.emplace(sample.file_id, std::move(f)).first;
      }
      ZG_ASSIGN_OR_RETURN(http::Target t,
                          gate.FileTarget(req.subject, "variants.read", file->second,
                                          sample.participant_id, out.grant));
      policy::Subject subject = req.subject;
      subject.groups.insert(subject.groups.end(), t.groups.begin(), t.groups.end());
      const bool allowed =
          policy::Decide(subject, "variants.read", t.resource,
                         {req.remote_address, "", t.grant, t.now})
              .allowed();
      known = decided.emplace(std::move(key), allowed).first;
    }
    out.allowed.push_back(known->second);
  }
  return out;
}

Status AddCohortRoutes(http::Router& router, Runtime& r, access::Gate& gate,
                       variants::Cohort& cohort, std::function<std::string()> public_url) {
  ZG_RETURN_IF_ERROR(variants::AddVariantRoutes(
      router,
      {.cohort = cohort,
       .store = *r.store,
       .allowed = [&r, &gate](const http::Request& req,
                              const std::vector<variants::CohortSample>& samples) {
         return GateDecidesSamples(r, gate, req, samples);
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
  // The portal's allele frequencies of released data (public; issue 15).
  ZG_RETURN_IF_ERROR(variants::AddFrequencyRoutes(router, MakeFrequencies(r, cohort), cohort));
  return beacon::AddBeaconRoutes(
      router,
      {.cohort = cohort,
       .samples = [&r, &gate, &cohort](const http::Request& req,
                                       beacon::Tier tier) -> Result<variants::SampleSet> {
         if (tier == beacon::Tier::kRecord) {
           ZG_ASSIGN_OR_RETURN(auto all, cohort.Samples());
           auto decided = GateDecidesSamples(r, gate, req, all);
           // Several grants and none named: no record-level answer (the registered one).
           if (!decided.ok() && decided.error().code == "grant_required") {
             return variants::SampleSet{.bits = {}, .participant = {},
                                        .considered = static_cast<int64_t>(all.size())};
           }
           ZG_RETURN_IF_ERROR(decided.status());
           variants::SampleSet set;
           set.considered = static_cast<int64_t>(all.size());
           for (size_t i = 0; i < all.size(); ++i) {
             if (!decided->allowed[i]) continue;
             set.bits.add(all[i].bit);
             set.participant[all[i].bit] = all[i].participant_id;
           }
           return set;
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
