// The zengen command: init, serve, demo, and administration (org, user, audit).
#include <charconv>
#include <termios.h>
#include <unistd.h>

#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <stop_token>
#include <thread>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "access/access.h"
#include "app/cohort_wiring.h"
#include "app/region_rebuild.h"
#include "blobs/storage_routes.h"
#include "analysis/analysis.h"
#include "analysis/analysis_routes.h"
#include "analysis/registry.h"
#include "app/demo.h"
#include "app/operator_token.h"
#include "app/runtime.h"
#include "ga4gh/ga4gh_routes.h"
#include "genomefiles/file_routes.h"
#include "sequencing/upload_routes.h"
#include "app/system_routes.h"
#include "audit/audit_routes.h"
#include "audit/checkpoint.h"
#include "common/clock.h"
#include "common/config.h"
#include "crypto/crypto.h"
#include "http/filters.h"
#include "http/server.h"
#include "identity/identity_routes.h"
#include "clinical/clinical_routes.h"
#include "consent/consent_routes.h"
#include "fhir/fhir.h"
#include "findings/findings_routes.h"
#include "sharing/sharing_routes.h"
#include "sharing/dataset_clinical.h"
#include "sharing/document_blobs.h"
#include "sharing/document_routes.h"
#include "clinical/research_view.h"
#include "participants/participants_routes.h"
#include "portal/portal.h"
#include "specimens/analysis_orders_routes.h"
#include "specimens/specimens_routes.h"
#include "storage/migrations.h"
#include "storage/store.h"
#include "web/web.h"

namespace fs = std::filesystem;

namespace zengen::app {
namespace {

constexpr const char* kOperatorTokenHash = "keys/operator-token.sha256";
// Demo only: the plaintext token, so that `zengen demo` can show it again on every start.
constexpr const char* kDemoTokenFile = "demo-operator-token.txt";
// How often `serve` applies the findings' SLA timers and consent reconciliation. The timers
// count days, so minutes of delay do not matter; the sweep is cheap (open findings only).
constexpr std::chrono::seconds kFindingsSweepInterval{300};
// How often `serve` records the release tier moves that came due (sharing::Sharing::Tick).
// Access decisions read the tier from the release's dates, so the sweep only persists and
// audits the moves; a minute keeps the portal's calendar and the audit log close to the date.
constexpr std::chrono::seconds kSharingSweepInterval{60};
// How often `serve` expires open uploads past their lifetime (days): an hour is close enough.
constexpr std::chrono::seconds kUploadExpirySweepInterval{3600};
const identity::Actor kCliActor{"cli", "cli", ""};

int Fail(const Error& e) {
  std::cerr << "zengen: " << e.message;
  if (!e.field.empty()) std::cerr << " (" << e.field << ")";
  std::cerr << " [" << e.code << "]\n";
  return 1;
}

struct InitOptions {
  fs::path data_dir;
  std::string database = "zengen.db";
  std::string listen = "127.0.0.1:8443";
};

// Creates the data directory. Returns the operator token (shown once).
Result<std::string> Init(const InitOptions& o) {
  if (fs::exists(o.data_dir / "zengen.conf")) {
    return Conflict("already_initialised",
                    fmt::format("{} already holds a data directory", o.data_dir.string()));
  }
  std::error_code ec;
  fs::create_directories(o.data_dir / "tls", ec);
  if (!ec) fs::create_directories(o.data_dir / "keys", ec);
  if (ec) {
    return Internal("mkdir_failed",
                    fmt::format("cannot create {}: {}", o.data_dir.string(), ec.message()));
  }
  fs::permissions(o.data_dir / "keys", fs::perms::owner_all, ec);
  // The default storage roots of zengen.conf; production points them at separate disks.
  for (const char* root : {"blobs/hot1", "blobs/hot2", "blobs/cold1", "blobs/cold2"}) {
    fs::create_directories(o.data_dir / root, ec);
    if (ec) {
      return Internal("mkdir_failed", fmt::format("cannot create {}: {}",
                                                  (o.data_dir / root).string(), ec.message()));
    }
  }
  {
    std::ofstream conf(o.data_dir / "zengen.conf");
    conf << DefaultConfigText(o.database, o.listen);
    if (!conf) return Internal("write_failed", "cannot write zengen.conf");
  }
  ZG_ASSIGN_OR_RETURN(Config config, LoadConfig(o.data_dir));
  ZG_RETURN_IF_ERROR(crypto::WriteSelfSignedCertificate(
      config.Resolve(config.tls_certificate), config.Resolve(config.tls_private_key),
      {"localhost", "127.0.0.1", "::1"}, 825));
  ZG_RETURN_IF_ERROR(crypto::WriteSecretFile(config.Resolve(config.pseudonym_key),
                                             crypto::ToHex(crypto::RandomBytes(32)) + "\n"));
  ZG_RETURN_IF_ERROR(crypto::WriteSecretFile(config.Resolve(config.storage_master_key),
                                             crypto::ToHex(crypto::RandomBytes(32)) + "\n"));
  ZG_ASSIGN_OR_RETURN(std::string token, CreateOperatorToken(config.Resolve(kOperatorTokenHash)));
  ZG_ASSIGN_OR_RETURN(auto rt, Runtime::Open(o.data_dir));
  ZG_RETURN_IF_ERROR(rt->audit_sink->Append({.actor = "cli",
                                             .source = "cli",
                                             .action = "system.init",
                                             .resource = "data_center",
                                             .reason = "data directory created",
                                             .details = "{}"}));
  return token;
}

// Writes one audit record per decision: the policy filter's (about the resolved resource) or
// a refused credential's. Liveness and version probes carry no data and no subject;
// recording them would bury the log in load-balancer noise.
Status RecordDecision(AuditSink& sink, const http::Request& req) {
  if (req.route != nullptr && req.route->action.starts_with("system.")) return Status::Ok();
  // A login's record is the identity module's (who, and how the password check went); the
  // login route's public decision beside it would record each login twice (issue 14).
  if (req.route != nullptr && req.route->action == "auth.login" && req.decision &&
      req.decision->allowed()) {
    return Status::Ok();
  }
  const policy::Decision decision =
      req.decision.value_or(policy::Decision{policy::Effect::kDeny, "", {}});
  if (req.route != nullptr && req.resolved) {
    return access::RecordDecision(sink, req, req.route->action, *req.resolved, decision);
  }
  http::Target request_only;
  request_only.resource = {req.route ? req.route->resource : "request", ""};
  return access::RecordDecision(sink, req, req.route ? req.route->action : "auth.credential",
                                request_only, decision);
}

// What the routes hold on to besides the runtime; lives as long as the router.
struct Wiring {
  explicit Wiring(Runtime& r)
      : fhir_sources{*r.participants, *r.consents, *r.clinical},
        gate(*r.files, *r.consents, *r.sharing),
        analysis_orders(*r.store, r.clock, *r.audit_sink),
        cohort(MakeCohort(r)),
        // Everything public is published through one disclosure control
        // (portal/suppression.h): the portal asks sharing for the released participants and
        // the public releases' counts.
        public_sources{
            .calendar = [&r] { return r.sharing->ReleaseCalendar(); },
            .released_participants = [&r] { return r.sharing->ReleasedParticipants(); },
            .public_release_counts = [&r]() -> Result<std::vector<portal::ReleaseCounts>> {
              ZG_ASSIGN_OR_RETURN(auto all, r.sharing->AllPublicAggregates());
              std::vector<portal::ReleaseCounts> out;
              for (auto& a : all) {
                out.push_back({a.release_id, a.participants, std::move(a.by_disease),
                               std::move(a.by_field)});
              }
              return out;
            }} {
    // Uniform analysis (issue 16): runs on this site's executor (analysis_executor), inputs
    // decrypted into per-run scratch directories, outputs through the genome-file registry.
    const fs::path dir = r.config.Resolve("analysis");
    analysis_registry = std::make_unique<analysis::Registry>(
        *r.store, r.clock, *r.audit_sink, *r.blobs, *r.specimens, *r.uploads, dir / "registry");
    auto executor = analysis::MakeExecutor(r.config.analysis_executor);
    std::error_code ec;
    analysis_runs = std::make_unique<analysis::Runs>(
        *r.store, r.clock, *r.audit_sink, *r.specimens, gate, *analysis_registry,
        executor.ok() ? std::move(*executor) : analysis::LocalExecutor(),
        analysis::Options{
            .pipelines_dir = analysis::FindPipelines(
                r.config.pipelines_dir.empty() ? fs::path() : r.config.Resolve(r.config.pipelines_dir),
                fs::read_symlink("/proc/self/exe", ec)),
            .references_dir = dir / "references",
            .scratch_dir = dir / "scratch",
            .workers = static_cast<int>(r.config.analysis_workers),
            .threads = static_cast<int>(r.config.analysis_threads),
            .auto_start_reference = r.config.analysis_auto_start_reference});
  }
  Wiring(const Wiring&) = delete;
  Wiring& operator=(const Wiring&) = delete;

  fhir::Sources fhir_sources;
  // The one gate for genome files: it resolves every "file" route's resource with its facts
  // (custody, live consent, and for researchers release, tier and grant), so the policy
  // filter decides once and writes one record; a sample of a joint file is decided by the
  // same gate.
  access::Gate gate;
  specimens::AnalysisOrders analysis_orders;
  // The cohort variant store: every answer over the samples the gate allows per request.
  std::unique_ptr<variants::Cohort> cohort;
  portal::SharingSources public_sources;
  // Set once the port is bound, before the first request is served.
  std::string public_url;
  // Uniform analysis: the registry as runs use it, and the runs (workers start with Serve).
  std::unique_ptr<analysis::Registry> analysis_registry;
  std::unique_ptr<analysis::Runs> analysis_runs;
  // An application's documents (issue 14), kept encrypted in the blob store.
  std::unique_ptr<sharing::EncryptedDocumentBlobs> documents;
  // Storage migrations started from the console (issue 17); stopped before the runtime goes.
  std::unique_ptr<blobs::MigrationJobs> storage_jobs;
};

// Every route of the server but the web front-end's (which goes last: its fallback answers
// every path no other route matched).
Status AddAllRoutes(http::Router& router, Runtime& r, Wiring& w,
                    const audit::Checkpointer* checkpoints = nullptr) {
  router.SetResolver("file", w.gate.FileResolver());
  // An application's documents (issue 14): stored like genome files, read by the committee.
  w.documents = std::make_unique<sharing::EncryptedDocumentBlobs>(*r.blobs, r.files->keys());
  ZG_RETURN_IF_ERROR(sharing::AddApplicationDocumentRoutes(router, *r.sharing, *w.documents));
  // Storage sites (issue 17): /readyz shows each site's reachability; stewards see the rest.
  auto storage_sites = [&r]() -> nlohmann::json {
    nlohmann::json out = nlohmann::json::array();
    auto sites = r.blobs->Health();
    if (!sites.ok()) return out;
    for (const auto& h : *sites) {
      out.push_back({{"name", h.name},
                     {"reachable", h.reachable},
                     {"latency_ms", static_cast<double>(h.latency_us) / 1000.0}});
    }
    return out;
  };
  // Migrations started from the steward's console run in the background, one at a time.
  w.storage_jobs = std::make_unique<blobs::MigrationJobs>(*r.blobs, r.clock, *r.audit_sink);
  for (auto st : {AddSystemRoutes(router, *r.store, r.clock, storage_sites),
                  blobs::AddStorageRoutes(router, *r.blobs, *w.storage_jobs),
                  identity::AddIdentityRoutes(router, *r.identity),
                  audit::AddAuditRoutes(router, *r.audit_log, checkpoints),
                  participants::AddParticipantRoutes(router, *r.participants),
                  consent::AddConsentRoutes(router, *r.consents),
                  specimens::AddSpecimenRoutes(router, *r.specimens),
                  specimens::AddAnalysisOrderRoutes(router, w.analysis_orders),
                  specimens::AddOrganisationDirectoryRoute(router, *r.identity),
                  findings::AddFindingRoutes(router, *r.findings, r.clock),
                  // The clinical CSV export leaves out fully withdrawn participants (issue 12).
                  clinical::AddClinicalRoutes(
                      router, *r.clinical,
                      [&r](std::string_view id) -> Result<bool> {
                        ZG_ASSIGN_OR_RETURN(auto st, r.consents->CurrentState(id));
                        return st == consent::State::kWithdrawnFull;
                      }),
                  // The clinician's worklist: clinical completeness with the consent state.
                  clinical::AddWorklistRoute(
                      router, *r.clinical,
                      [&r](std::string_view id) -> Result<std::string> {
                        ZG_ASSIGN_OR_RETURN(auto state, r.consents->CurrentState(id));
                        return std::string(consent::StateName(state));
                      }),
                  fhir::AddFhirRoutes(router, w.fhir_sources, r.clock),
                  // Runs and uploads, then genome files: every route resolved to its real
                  // owner (files by the access gate), decided once by the policy filter.
                  sequencing::AddUploadRoutes(router, *r.uploads),
                  genomefiles::AddFileRoutes(router, *r.files, *r.blobs, w.gate),
                  sharing::AddSharingRoutes(
                      router, *r.sharing, r.clock,
                      [&r, &w](std::string_view id, std::string_view field) -> Result<nlohmann::json> {
                        ZG_ASSIGN_OR_RETURN(auto figures, portal::ComputePublicFigures(
                                                              *r.store, w.public_sources, r.clock));
                        return portal::ReleaseAggregatesJson(figures, id, field);
                      }),
                  portal::AddPortalRoutes(router, *r.store, r.clock, w.public_sources),
                  ga4gh::AddGa4ghRoutes(router, {*r.files, *r.blobs,
                                                 [&w] { return w.public_url; }}),
                  // The cohort variant store and Beacon v2 (issue 15).
                  AddCohortRoutes(router, r, w.gate, *w.cohort,
                                  [&w] { return w.public_url; }),
                  analysis::AddAnalysisRoutes(router, *w.analysis_runs),
                  // The researcher's clinical view of a dataset (issue 14): the gate picks the
                  // participants; clinical::ResearchView the fields (never_public removed).
                  sharing::AddDatasetClinicalRoute(
                      router, *r.sharing, *r.audit_sink,
                      [&r](std::string_view id) -> Result<nlohmann::json> {
                        ZG_ASSIGN_OR_RETURN(auto p, r.clinical->Participant(id));
                        std::map<std::string, std::vector<clinical::Record>> history;
                        for (const auto& c : r.clinical->dictionary().categories) {
                          ZG_ASSIGN_OR_RETURN(history[c.code], r.clinical->History(id, c.code));
                        }
                        return nlohmann::json{
                            {"program", p.program},
                            {"clinical",
                             clinical::ResearchView(r.clinical->dictionary(), history)}};
                      })}) {
    ZG_RETURN_IF_ERROR(st);
  }
  return Status::Ok();
}

// `zengen reference add`: registers a reference genome for analysis runs.
int AddReference(const fs::path& data_dir, const std::string& name, const fs::path& fasta) {
  auto rt = Runtime::Open(data_dir, "cli");
  if (!rt.ok()) return Fail(rt.error());
  Wiring wiring(**rt);
  auto ref = wiring.analysis_runs->RegisterReference(name, fs::absolute(fasta),
                                                     {"cli", "", {}, "cli", ""});
  if (!ref.ok()) return Fail(ref.error());
  std::cout << fmt::format("{}\t{}\n", ref->name, ref->sha256);
  return 0;
}

// `zengen demo --analyse`: registers the demo's reference (once) and sets the per-site
// automatic start, so the germline pipeline runs in the background on every specimen that
// passed QC once the server serves; the console shows the runs' progress.
Status EnableDemoAnalysis(const fs::path& demo_dir) {
  constexpr const char* kName = "demo-synthetic";
  {
    ZG_ASSIGN_OR_RETURN(auto rt, Runtime::Open(demo_dir, "cli"));
    Wiring wiring(*rt);
    ZG_ASSIGN_OR_RETURN(auto refs, wiring.analysis_runs->ListReferences());
    if (refs.empty()) {
      const fs::path fasta = demo_dir / "demo-reference.fa";
      std::ofstream(fasta) << DemoReferenceFasta();
      ZG_RETURN_IF_ERROR(wiring.analysis_runs
                             ->RegisterReference(kName, fs::absolute(fasta), {"cli", "", {}, "cli", ""})
                             .status());
      fs::remove(fasta);
    }
    if (!rt->config.analysis_auto_start_reference.empty()) return Status::Ok();
  }
  std::ofstream(demo_dir / "zengen.conf", std::ios::app)
      << "\n# zengen demo --analyse\nanalysis_auto_start_reference = " << kName << "\n";
  return Status::Ok();
}

// `zengen routes`: the route table as the server builds it (method, pattern, action, resource
// kind; tab-separated), for the route matrix test and for reviewers.
int PrintRoutes(const fs::path& data_dir) {
  auto rt = Runtime::Open(data_dir, "cli");
  if (!rt.ok()) return Fail(rt.error());
  Wiring wiring(**rt);
  http::Router router;
  if (auto st = AddAllRoutes(router, **rt, wiring); !st.ok()) return Fail(st.error());
  const web::StaticSite site = web::StaticSite::Unavailable("listing routes only");
  if (auto st = web::AddWebRoutes(router, site); !st.ok()) return Fail(st.error());
  for (const auto& route : router.routes()) {
    std::cout << fmt::format("{}\t{}\t{}\t{}\n", route->method, route->pattern, route->action,
                             route->resource);
  }
  return 0;
}

// Serves a data directory until SIGTERM/SIGINT. on_ready runs once the port is bound.
int Serve(const fs::path& data_dir, const std::string& listen_override,
          const std::function<void(const std::string& url)>& on_ready) {
  auto rt = Runtime::Open(data_dir);
  if (!rt.ok()) return Fail(rt.error());
  Runtime& r = **rt;
  if (!listen_override.empty()) r.config.listen = listen_override;

  auto operator_auth = OperatorTokenAuthenticator::Load(r.config.Resolve(kOperatorTokenHash));
  if (!operator_auth.ok()) return Fail(operator_auth.error());

  // Signed heads of the audit log, anchored outside the database (docs/security.md).
  auto checkpoints = audit::Checkpointer::Open(
      *r.store, r.clock,
      {.key_file = r.config.Resolve(std::string(audit::kSigningKeyFile)),
       .heads_file = r.config.Resolve(std::string(audit::kHeadsFile)),
       .syslog = true});
  if (!checkpoints.ok()) return Fail(checkpoints.error());

  AuditSink& sink = *r.audit_sink;
  Wiring wiring(r);
  http::Router router;
  if (auto st = AddAllRoutes(router, r, wiring, checkpoints->get()); !st.ok()) return Fail(st.error());
  // The front-end last: its fallback route answers every path no other route matched.
  std::error_code exe_ec;
  const fs::path web_root = web::FindWebRoot(
      r.config.web_root.empty() ? fs::path() : r.config.Resolve(r.config.web_root),
      fs::read_symlink("/proc/self/exe", exe_ec));
  auto loaded = web_root.empty()
                    ? Result<web::StaticSite>(NotFound(
                          "web_root_missing",
                          "no web front-end found; build it (npm run build in web/) or set "
                          "web_root in zengen.conf"))
                    : web::StaticSite::Load(web_root);
  if (!loaded.ok() && !r.config.web_root.empty()) return Fail(loaded.error());
  if (!loaded.ok()) spdlog::warn("web front-end not served: {}", loaded.error().message);
  const web::StaticSite site =
      loaded.ok() ? std::move(*loaded) : web::StaticSite::Unavailable(loaded.error().message);
  if (loaded.ok()) spdlog::info("web front-end: {} files from {}", site.file_count(), web_root.string());
  if (auto st = web::AddWebRoutes(router, site); !st.ok()) return Fail(st.error());
  // Refused anonymous requests are counted and recorded once per interval (issue 13).
  http::RefusalAggregator refusals(r.clock, sink);
  refusals.StartFlushing(std::chrono::milliseconds(r.config.refusal_record_interval_ms));
  auto record =
      refusals.Wrap([&sink](const http::Request& req) { return RecordDecision(sink, req); });
  http::Pipeline pipeline(std::move(router));
  pipeline.AddFilter(std::make_unique<http::RequestIdFilter>());
  pipeline.AddFilter(std::make_unique<http::AccessAuditFilter>(r.clock, http::LogAccessRecord));
  pipeline.AddFilter(std::make_unique<identity::StaleSessionCookieFilter>());
  pipeline.AddFilter(std::make_unique<http::AuthenticationFilter>(
      std::make_shared<identity::RequestAuthenticator>(
          *r.identity, std::shared_ptr<http::Authenticator>(std::move(*operator_auth))),
      record));
  pipeline.AddFilter(std::make_unique<http::PolicyFilter>(record));

  http::ServerOptions opt;
  const Config& c = r.config;
  opt.listen = c.listen;
  opt.tls_certificate = c.Resolve(c.tls_certificate);
  opt.tls_private_key = c.Resolve(c.tls_private_key);
  opt.threads = c.threads;
  opt.worker_threads = c.worker_threads;
  opt.max_connections = c.max_connections;
  opt.max_connections_per_address = static_cast<int>(c.max_connections_per_address);
  opt.reserved_connections = static_cast<int>(c.reserved_connections);
  opt.max_header_bytes = c.max_header_bytes;
  opt.max_body_bytes = c.max_body_bytes;
  opt.body_memory_budget_bytes = c.body_memory_budget_bytes;
  // Spooled request bodies (upload chunks, imports; issue 13 item 2): unnamed, encrypted files
  // in the data directory, never in a memory-backed /tmp.
  opt.spool_directory = c.data_dir / "spool";
  opt.handshake_timeout_ms = c.handshake_timeout_ms;
  opt.header_timeout_ms = c.header_timeout_ms;
  opt.refusals_per_second_per_address = static_cast<double>(c.refusals_per_second_per_address);
  opt.refusal_burst_per_address = static_cast<double>(c.refusal_burst_per_address);
  opt.requests_per_second_per_address = static_cast<double>(c.requests_per_second_per_address);
  opt.request_burst_per_address = static_cast<double>(c.request_burst_per_address);
  opt.refusals = &refusals;
  opt.clock = &r.clock;
  opt.read_timeout_ms = c.read_timeout_ms;
  opt.idle_timeout_ms = c.idle_timeout_ms;
  opt.shutdown_grace_ms = c.shutdown_grace_ms;
  auto server = http::Server::Create(opt, pipeline);
  if (!server.ok()) return Fail(server.error());
  wiring.public_url = PublicBaseUrl(c, (*server)->port());

  std::string host = c.listen.substr(0, c.listen.rfind(':'));
  if (host == "0.0.0.0" || host == "[::]") host = "localhost";
  const std::string url = fmt::format("https://{}:{}", host, (*server)->port());
  spdlog::info("database: {} (schema version {})", storage::BackendName(r.store->backend()),
               storage::LatestSchemaVersion());
  // The first line on stdout names the URL; scripts and tests read it to find the port.
  std::cout << "zengen: serving " << url << std::endl;
  if (on_ready) on_ready(url);
  // The findings sweep runs beside the server and stops before the runtime closes.
  std::jthread sweeper([&r](std::stop_token stop) {
    std::mutex mu;
    std::condition_variable_any cv;
    std::unique_lock lock(mu);
    while (true) {
      cv.wait_for(lock, stop, kFindingsSweepInterval, [] { return false; });
      if (stop.stop_requested()) break;
      auto s = r.findings->Tick();
      if (!s.ok()) {
        spdlog::warn("findings sweep failed: {} [{}]", s.error().message, s.error().code);
      } else if (s->escalated + s->unreachable + s->consent_moves > 0) {
        spdlog::info("findings sweep: {} escalated, {} unreachable, {} moved by consent",
                     s->escalated, s->unreachable, s->consent_moves);
      }
    }
  });
  // The release-tier sweep: embargoes that ended become controlled, audited.
  std::jthread tiers([&r](std::stop_token stop) {
    std::mutex mu;
    std::condition_variable_any cv;
    std::unique_lock lock(mu);
    while (true) {
      auto s = r.sharing->Tick(r.clock.Now());
      if (!s.ok()) {
        spdlog::warn("release tier sweep failed: {} [{}]", s.error().message, s.error().code);
      } else if (s->to_controlled + s->to_public_aggregates > 0) {
        spdlog::info("release tier sweep: {} became controlled, {} public aggregates",
                     s->to_controlled, s->to_public_aggregates);
      }
      cv.wait_for(lock, stop, kSharingSweepInterval, [] { return false; });
      if (stop.stop_requested()) break;
    }
  });
  // Upload expiry (issue 13): open uploads past their lifetime are closed and their staged
  // chunks removed, at start (the recovery pass) and then every kUploadExpirySweepInterval.
  std::jthread upload_expiry([&r](std::stop_token stop) {
    std::mutex mu;
    std::condition_variable_any cv;
    std::unique_lock lock(mu);
    while (true) {
      cv.wait_for(lock, stop, kUploadExpirySweepInterval, [] { return false; });
      if (stop.stop_requested()) break;
      auto n = r.uploads->ExpireStale();
      if (!n.ok()) {
        spdlog::warn("upload expiry sweep failed: {} [{}]", n.error().message, n.error().code);
      } else if (*n > 0) {
        spdlog::info("upload expiry sweep: {} uploads expired", *n);
      }
    }
  });
  // The cohort variant store's ingest job (issue 15): registered VCF/BCF files join the cohort.
  std::jthread variant_ingest = StartVariantIngestJob(r, *wiring.cohort);
  // Analysis runs left running by a previous process fail ("interrupted"); workers start.
  if (auto st = wiring.analysis_runs->Recover(); !st.ok()) return Fail(st.error());
  wiring.analysis_runs->StartWorkers();
  (*checkpoints)->Start(audit::kCheckpointInterval);
  (*server)->Run();
  sweeper.request_stop();
  tiers.request_stop();
  upload_expiry.request_stop();
  sweeper.join();
  tiers.join();
  upload_expiry.join();
  variant_ingest.request_stop();
  if (variant_ingest.joinable()) variant_ingest.join();
  server->reset();
  wiring.analysis_runs.reset();  // stops the analysis workers while the store is open
  refusals.Stop();  // the last interval's refusal counts, while the audit log is open
  checkpoints->reset();  // signs a last head
  rt->reset();  // flushes the audit log, then closes every database connection
  spdlog::info("stopped cleanly");
  return 0;
}

// Reads a password: the first line of stdin, or, on a terminal, typed twice without echo.
Result<std::string> ReadPassword() {
  if (!::isatty(STDIN_FILENO)) {
    std::string line;
    if (!std::getline(std::cin, line)) {
      return InvalidArgument("missing_password", "no password on standard input", "password");
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
  }
  termios old{};
  ::tcgetattr(STDIN_FILENO, &old);
  termios quiet = old;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  std::string a, b;
  std::cerr << "password: " << std::flush;
  std::getline(std::cin, a);
  std::cerr << "\nagain: " << std::flush;
  std::getline(std::cin, b);
  std::cerr << "\n";
  ::tcsetattr(STDIN_FILENO, TCSANOW, &old);
  if (a != b) return InvalidArgument("password_mismatch", "the passwords differ", "password");
  return a;
}

void PrintUser(const identity::User& u) {
  std::cout << fmt::format("{}\t{}\t{}\t{}\t{}{}{}\n", u.id, u.organisation,
                           fmt::join(u.roles, ","), u.email, u.mfa_enrolled ? "mfa" : "no-mfa",
                           u.disabled ? "\tdisabled" : "", u.locked ? "\tlocked" : "");
}

}  // namespace
}  // namespace zengen::app

int main(int argc, char** argv) {
  using namespace zengen;
  // A peer that vanishes mid-write must cost one connection, never the process.
  std::signal(SIGPIPE, SIG_IGN);
  // Logs go to stderr so that stdout carries only what scripts read.
  spdlog::set_default_logger(spdlog::stderr_color_mt("zengen"));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);

  CLI::App cli{"Zengen: the data center of a national whole-genome program"};
  // ADDRESS:PORT with a port in 0..65535 (0: any free port), checked while parsing: a bad value is a usage error
  // before anything is created or written (no cohort built, nothing left in a config file).
  const CLI::Validator listen_address(
      [](std::string& value) -> std::string {
        auto colon = value.rfind(':');
        if (colon == std::string::npos || colon == 0) return "expected ADDRESS:PORT";
        std::string_view port(value);
        port.remove_prefix(colon + 1);
        int n = 0;
        auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), n);
        if (ec != std::errc() || end != port.data() + port.size() || n < 0 || n > 65535) {
          return "the port must be a number from 0 (any free port) to 65535";
        }
        return "";
      },
      "ADDRESS:PORT");
  cli.require_subcommand(1);
  cli.set_version_flag("--version", ZENGEN_VERSION);

  app::InitOptions init_opt;
  auto* init = cli.add_subcommand("init", "Create a data directory (config, TLS, keys, database)");
  init->add_option("--data", init_opt.data_dir, "Data directory to create")->required();
  init->add_option("--database", init_opt.database,
                   "SQLite file (relative to the data directory) or postgres:// URL");
  init->add_option("--listen", init_opt.listen, "Address:port to serve on")
      ->check(listen_address);

  fs::path data_dir;
  std::string serve_listen;
  auto* serve = cli.add_subcommand("serve", "Serve a data directory over HTTPS");
  serve->add_option("--data", data_dir, "Data directory")->required();
  serve->add_option("--listen", serve_listen, "Address:port, overriding the config file")
      ->check(listen_address);

  fs::path demo_dir = "zengen-demo";
  std::string demo_listen = "127.0.0.1:8443";
  auto* demo = cli.add_subcommand("demo", "Create (if absent) and serve a demo data center");
  demo->add_option("--data", demo_dir, "Data directory")->capture_default_str();
  bool demo_analyse = false;
  demo->add_flag("--analyse", demo_analyse,
                 "Run the germline pipeline (local executor) in the background on the "
                 "specimens that passed QC");
  demo->add_option("--listen", demo_listen, "Address:port")
      ->capture_default_str()
      ->check(listen_address);

  // Administration on a data directory (the server may be running: the store is shared).
  identity::Organisation org;
  auto* org_cmd = cli.add_subcommand("org", "Organisations")->require_subcommand(1);
  auto* org_add = org_cmd->add_subcommand("add", "Add an organisation");
  auto* org_list = org_cmd->add_subcommand("list", "List organisations");
  for (auto* c : {org_add, org_list}) c->add_option("--data", data_dir, "Data directory")->required();
  org_add->add_option("--id", org.id, "Short id, e.g. kyoto-univ-hospital")->required();
  org_add->add_option("--name", org.name, "Display name")->required();
  org_add->add_option("--kind", org.kind, "hospital|sequencing_facility|analysis_center|"
                                          "data_center|academic|industry")->required();
  org_add->add_option("--jurisdiction", org.jurisdiction, "ISO 3166-1 alpha-2, e.g. JP")
      ->required();

  identity::NewUser user;
  std::string user_id;
  bool password_stdin = false;
  auto* user_cmd = cli.add_subcommand("user", "Users")->require_subcommand(1);
  auto* user_add = user_cmd->add_subcommand("add", "Add a user (password from stdin or prompt)");
  auto* user_list = user_cmd->add_subcommand("list", "List users");
  auto* user_disable = user_cmd->add_subcommand("disable", "Disable a user and end its sessions");
  auto* user_reset = user_cmd->add_subcommand("reset-mfa", "Remove a user's second factor");
  auto* user_unlock = user_cmd->add_subcommand("unlock", "Clear a lockout");
  auto* user_enable = user_cmd->add_subcommand("enable", "Let a disabled user log in again");
  auto* user_role = user_cmd->add_subcommand("role", "A user's roles")->require_subcommand(1);
  auto* user_role_add = user_role->add_subcommand("add", "Give a user one more role");
  auto* user_role_remove = user_role->add_subcommand("remove", "Take a held role away");
  for (auto* c : {user_add, user_list, user_disable, user_reset, user_unlock, user_enable,
                  user_role_add, user_role_remove}) {
    c->add_option("--data", data_dir, "Data directory")->required();
  }
  // An action on an account says why, as in the console (AdminReason): kept in its audit record.
  std::string user_reason, user_role_name;
  for (auto* c : {user_disable, user_reset, user_unlock, user_enable, user_role_add,
                  user_role_remove}) {
    c->add_option("--id", user_id, "User id")->required();
    c->add_option("--reason", user_reason, "Why (required; at most 1000 bytes; audited)")
        ->required();
  }
  for (auto* c : {user_role_add, user_role_remove}) {
    c->add_option("--role", user_role_name, "Role")->required();
  }
  user_add->add_option("--id", user.id, "Login name")->required();
  user_add->add_option("--org", user.organisation, "Organisation id")->required();
  user_add->add_option("--name", user.display_name, "Display name")->required();
  user_add->add_option("--email", user.email, "E-mail address")->required();
  user_add->add_option("--role", user.roles, "Role (repeatable)")->required();
  user_add->add_flag("--password-stdin", password_stdin,
                     "Read the password from the first line of standard input");

  std::string import_category, import_file, codes_system, codes_file;
  auto* import_cmd = cli.add_subcommand("import", "Bulk imports")->require_subcommand(1);
  auto* import_clinical = import_cmd->add_subcommand(
      "clinical", "Import a clinical CSV (one category); any invalid row: nothing is written");
  import_clinical->add_option("--data", data_dir, "Data directory")->required();
  import_clinical->add_option("--category", import_category,
                              "Category (default: the file name, e.g. diagnosis.csv)");
  import_clinical->add_option("file", import_file, "CSV file")->required();
  auto* codes_cmd = cli.add_subcommand("codes", "Licensed code lists")->require_subcommand(1);
  auto* codes_load = codes_cmd->add_subcommand(
      "load", "Load a code list (one code per line; titles after a tab are ignored)");
  codes_load->add_option("--data", data_dir, "Data directory")->required();
  codes_load->add_option("--system", codes_system, "Code system, e.g. icd10")->required();
  codes_load->add_option("file", codes_file, "Code list file")->required();

  auto* storage_cmd = cli.add_subcommand("storage", "Genome-file storage")->require_subcommand(1);
  auto* storage_scrub = storage_cmd->add_subcommand(
      "scrub", "Re-read every stored copy; repair corrupt or missing copies from good ones");
  storage_scrub->add_option("--data", data_dir, "Data directory")->required();
  // Storage sites (issue 17): quick scrub, migration between sites and its progress.
  bool scrub_quick = false;
  storage_scrub->add_flag("--quick", scrub_quick,
                          "Check presence and size only (stat, S3 HEAD) instead of every byte");
  std::string migrate_from, migrate_to;
  int64_t migrate_limit = 0;
  bool migrate_move = false;
  int64_t migrate_grace_hours = 168;
  auto* storage_migrate = storage_cmd->add_subcommand(
      "migrate", "Copy (or move) every object's copy from one site to another, verified");
  storage_migrate->add_option("--data", data_dir, "Data directory")->required();
  storage_migrate->add_option("--from", migrate_from, "Site to copy from")->required();
  storage_migrate->add_option("--to", migrate_to, "Site to copy to")->required();
  storage_migrate->add_option("--limit", migrate_limit, "Objects to copy in this run (0: all)")
      ->check(CLI::NonNegativeNumber);
  storage_migrate->add_flag("--move", migrate_move,
                            "Retire the copy at --from once the grace period has passed");
  storage_migrate->add_option("--grace-hours", migrate_grace_hours,
                              "Move: hours the old copy stays after the new one (default 168)")
      ->check(CLI::NonNegativeNumber);
  auto* storage_migrations =
      storage_cmd->add_subcommand("migrations", "Show every migration and its progress");
  storage_migrations->add_option("--data", data_dir, "Data directory")->required();

  auto* findings_cmd =
      cli.add_subcommand("findings", "Return of results")->require_subcommand(1);
  auto* findings_tick = findings_cmd->add_subcommand(
      "tick", "Apply the SLA timers and consent re-checks to every open finding now");
  findings_tick->add_option("--data", data_dir, "Data directory")->required();

  auto* sharing_cmd =
      cli.add_subcommand("sharing", "Controlled sharing")->require_subcommand(1);
  auto* sharing_tick = sharing_cmd->add_subcommand(
      "tick", "Apply the release tier moves that are due now (embargo ends, public aggregates)");
  sharing_tick->add_option("--data", data_dir, "Data directory")->required();

  // The cohort variant store (issue 15).
  std::string variants_file_id;
  fs::path genes_file;
  bool genes_synthetic = false;
  auto* variants_cmd =
      cli.add_subcommand("variants", "The cohort variant store")->require_subcommand(1);
  auto* variants_ingest = variants_cmd->add_subcommand(
      "ingest", "Add a registered VCF/BCF to the cohort (new chunks; nothing is re-merged)");
  variants_ingest->add_option("--data", data_dir, "Data directory")->required();
  variants_ingest->add_option("file_id", variants_file_id, "Registered file id (FL-…)")->required();
  auto* variants_genes = variants_cmd->add_subcommand(
      "load-genes", "Replace the gene table from a GTF or GFF3 file (rows of feature 'gene')");
  variants_genes->add_option("--data", data_dir, "Data directory")->required();
  auto* genes_source = variants_genes->add_option("file", genes_file, "GTF or GFF3 file");
  variants_genes->add_flag("--synthetic", genes_synthetic,
                           "Load the small synthetic table of the demo instead")
      ->excludes(genes_source);
  // The portal's allele frequencies per public release and consent class (issue 15).
  auto* variants_aggregate = variants_cmd->add_subcommand(
      "aggregate", "Compute the portal's allele frequencies of released data now");
  variants_aggregate->add_option("--data", data_dir, "Data directory")->required();
  // Region rebuilds (issue 15): merge a region's chunks of many batches into one, as a job.
  std::string rebuild_chrom, rebuild_reason, rebuild_executor;
  int64_t rebuild_start = 1, rebuild_end = 0, rebuild_min_chunks = 2, rebuild_limit = 1000;
  auto* variants_rebuild = variants_cmd->add_subcommand(
      "rebuild", "Merge the chunks of crowded regions (or of --region) into one chunk each");
  variants_rebuild->add_option("--data", data_dir, "Data directory")->required();
  variants_rebuild->add_option("--chrom", rebuild_chrom,
                               "Rebuild every chunk region of this contig overlapping --start..--end");
  variants_rebuild->add_option("--start", rebuild_start, "1-based (default 1)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 40));
  variants_rebuild->add_option("--end", rebuild_end, "1-based, inclusive (default --start)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 40));
  variants_rebuild->add_option("--min-chunks", rebuild_min_chunks,
                               "Only regions with at least this many live chunks (default 2)");
  variants_rebuild->add_option("--limit", rebuild_limit, "Without --chrom: at most this many regions");
  variants_rebuild->add_option("--executor", rebuild_executor,
                               "in_process or analysis (default: variants_rebuild_executor)")
      ->check(CLI::IsMember({"in_process", "analysis"}));
  variants_rebuild->add_option("--reason", rebuild_reason, "Why (kept in the audit record)")
      ->required();
  // The merge step of a rebuild job (pipelines/variant-rebuild): no data directory is read.
  fs::path merge_out;
  std::vector<fs::path> merge_inputs;
  auto* variants_merge = variants_cmd->add_subcommand(
      "merge-chunks", "Merge variant chunk files (ZGVC1) of one region into one (a rebuild job's step)");
  variants_merge->add_option("--out", merge_out, "Merged chunk file (created)")->required();
  variants_merge->add_option("chunks", merge_inputs, "Chunk files")->required();
  // Uniform analysis: reference genomes are registered from the command line (the FASTA is
  // read from the server's own disks).
  std::string reference_name;
  fs::path reference_fasta;
  auto* reference_cmd =
      cli.add_subcommand("reference", "Reference genomes for analysis")->require_subcommand(1);
  auto* reference_add = reference_cmd->add_subcommand(
      "add", "Register a reference genome: copies the FASTA, builds its .fai and bwa index");
  reference_add->add_option("--data", data_dir, "Data directory")->required();
  reference_add->add_option("name", reference_name, "Name, [A-Za-z0-9._-]")->required();
  reference_add->add_option("fasta", reference_fasta, "FASTA file")->required();

  auto* routes_cmd = cli.add_subcommand(
      "routes", "List every route with its policy action and resource kind (tab-separated)");
  routes_cmd->add_option("--data", data_dir, "Data directory")->required();

  auto* audit_cmd = cli.add_subcommand("audit", "The audit log")->require_subcommand(1);
  auto* audit_verify = audit_cmd->add_subcommand("verify", "Recompute the hash chain");
  audit_verify->add_option("--data", data_dir, "Data directory")->required();
  fs::path audit_against;
  audit_verify->add_option("--against", audit_against,
                           "Heads file: also prove that the log extends every signed head in it");

  // Usage errors exit 1 like every other error (docs/operations.md); --help and --version 0.
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cli.exit(e) == 0 ? 0 : 1;
  }

  if (*init) {
    auto token = app::Init(init_opt);
    if (!token.ok()) return app::Fail(token.error());
    std::cout << "zengen: initialised " << fs::absolute(init_opt.data_dir).string() << "\n"
              << "operator token (shown once; keep it safe): " << *token << "\n";
    return 0;
  }
  if (*serve) return app::Serve(data_dir, serve_listen, nullptr);
  if (*routes_cmd) return app::PrintRoutes(data_dir);
  if (*variants_merge) {
    if (auto st = app::MergeChunkFiles(merge_inputs, merge_out); !st.ok()) return app::Fail(st.error());
    return 0;
  }
  if (*reference_add) return app::AddReference(data_dir, reference_name, reference_fasta);
  if (*demo) {
    if (!fs::exists(demo_dir / "zengen.conf")) {
      app::InitOptions o{.data_dir = demo_dir, .listen = demo_listen};
      auto token = app::Init(o);
      if (!token.ok()) return app::Fail(token.error());
      if (auto st = crypto::WriteSecretFile(demo_dir / app::kDemoTokenFile, *token + "\n");
          !st.ok()) {
        return app::Fail(st.error());
      }
      auto rt = app::Runtime::Open(demo_dir);
      if (!rt.ok()) return app::Fail(rt.error());
      std::cout << "zengen: loading the synthetic demo cohort..." << std::endl;
      auto seeded = app::SeedDemo(**rt);
      if (!seeded.ok()) return app::Fail(seeded.error());
      std::cout << fmt::format(
          "zengen: demo cohort: {} organisations, {} users, {} participants, {} consents "
          "({} withdrawals), {} clinical records, {} specimens; {} sequencing runs, {} FASTQ "
          "files, {} CRAM/VCF files, {} interrupted uploads; {} findings; {} access "
          "applications\n",
          seeded->organisations, seeded->users, seeded->participants, seeded->consents,
          seeded->withdrawals, seeded->clinical_records, seeded->specimens, seeded->runs,
          seeded->fastq_files, seeded->analysis_files, seeded->open_uploads, seeded->findings,
          seeded->applications);
    }
    std::string token;
    std::ifstream(demo_dir / app::kDemoTokenFile) >> token;
    std::vector<std::pair<std::string, std::string>> enrolment_codes;
    {
      auto rt = app::Runtime::Open(demo_dir);
      if (!rt.ok()) return app::Fail(rt.error());
      auto codes = app::IssueDemoEnrolmentCodes(**rt);
      if (!codes.ok()) return app::Fail(codes.error());
      enrolment_codes = std::move(*codes);
      // The cohort variant store (issue 15): genes and the demo's VCFs.
      auto ingested = app::SeedDemoCohort(**rt);
      if (!ingested.ok()) return app::Fail(ingested.error());
      if (*ingested > 0) std::cout << fmt::format("cohort: {} VCF files ingested\n", *ingested);
    }
    if (demo_analyse) {  // uniform analysis in the demo (issue 16)
      if (auto st = app::EnableDemoAnalysis(demo_dir); !st.ok()) return app::Fail(st.error());
    }
    return app::Serve(demo_dir, demo_listen, [&](const std::string& url) {
      std::cout << "\nZengen demo data center\n"
                << "  data directory : " << fs::absolute(demo_dir).string() << "\n"
                << "  health         : curl -k " << url << "/healthz\n"
                << "  version        : curl -k " << url << "/api/v1/version\n"
                << "  audit head     : curl -k " << url << "/api/v1/audit/head\n"
                << "  operator token : " << token << "\n"
                << "  try            : curl -k -H 'Authorization: Bearer " << token << "' "
                << url << "/api/v1/admin/users\n"
                << "  demo users     : password '" << app::kDemoPassword
                << "'; each enrols a TOTP authenticator at first login with its one-time "
                   "enrolment code\n";
      for (const auto& u : app::DemoUsers()) {
        std::string code = "(enrolled)";
        for (const auto& [user, c] : enrolment_codes) {
          if (user == u.id) code = "enrolment code " + c;
        }
        std::cout << fmt::format("                   {:<20} {:<22} {:<22} {}\n", u.id, u.role,
                                 u.organisation, code);
      }
      std::cout << "  log in         : curl -k -c jar -H 'Content-Type: application/json' -d "
                   "'{\"username\":\"dr-kanto\",\"password\":\""
                << app::kDemoPassword << "\"}' " << url << "/api/v1/auth/login\n"
                << "The certificate is self-signed (hence -k). Stop with Ctrl-C.\n"
                << std::flush;
    });
  }

  auto rt = app::Runtime::Open(data_dir, "cli");
  if (!rt.ok()) return app::Fail(rt.error());
  identity::Identity& id = *(*rt)->identity;
  if (*org_add) {
    auto r = id.CreateOrganisation(org, app::kCliActor);
    if (!r.ok()) return app::Fail(r.error());
    std::cout << "organisation " << r->id << " added\n";
  } else if (*org_list) {
    auto r = id.ListOrganisations();
    if (!r.ok()) return app::Fail(r.error());
    for (const auto& o : *r) {
      std::cout << fmt::format("{}\t{}\t{}\t{}\n", o.id, o.kind, o.jurisdiction, o.name);
    }
  } else if (*user_add) {
    (void)password_stdin;  // the password comes from stdin either way; the flag documents it
    auto pw = app::ReadPassword();
    if (!pw.ok()) return app::Fail(pw.error());
    user.password = *pw;
    auto r = id.CreateUser(user, identity::Grantor::Console(), app::kCliActor);
    if (!r.ok()) return app::Fail(r.error());
    auto code = id.IssueEnrolmentCode(r->id, identity::Grantor::Console(), app::kCliActor);
    if (!code.ok()) return app::Fail(code.error());
    std::cout << "user " << r->id << " added; the second factor is enrolled at first login with "
              << "the one-time enrolment code " << code->code << " (give it to them in person)\n";
  } else if (*user_list) {
    auto r = id.ListUsers();
    if (!r.ok()) return app::Fail(r.error());
    for (const auto& u : *r) app::PrintUser(u);
  } else if (*user_disable || *user_reset || *user_unlock || *user_enable || *user_role_add ||
             *user_role_remove) {
    identity::Actor actor = app::kCliActor;
    auto reason = identity::AdminReasonText(user_reason);
    if (!reason.ok()) return app::Fail(reason.error());
    actor.reason = *reason;
    const identity::Grantor console = identity::Grantor::Console();
    Status st = *user_disable   ? id.DisableUser(user_id, actor)
                : *user_reset   ? id.ResetMfa(user_id, actor)
                : *user_unlock  ? id.Unlock(user_id, actor)
                : *user_enable  ? id.EnableUser(user_id, actor)
                : *user_role_add ? id.GrantRole(user_id, user_role_name, console, actor).status()
                                 : id.RevokeRole(user_id, user_role_name, console, actor);
    if (!st.ok()) return app::Fail(st.error());
    std::cout << "user " << user_id << ": done\n";
  } else if (*import_clinical) {
    std::vector<clinical::RowProblem> problems;
    auto r = clinical::ImportCsvFile(*(*rt)->clinical, import_category, import_file, &problems);
    if (!r.ok()) {
      for (const auto& p : problems) {
        std::cerr << fmt::format("row {}: {}: {} ({})\n", p.row, p.field, p.message.en, p.code);
      }
      std::cerr << "zengen: nothing was imported\n";
      return app::Fail(r.error());
    }
    std::cout << fmt::format("imported {} rows\n", r->rows);
  } else if (*codes_load) {
    auto r = clinical::LoadCodeListFile(*(*rt)->clinical, codes_system, codes_file);
    if (!r.ok()) return app::Fail(r.error());
    std::cout << fmt::format("loaded {} codes for {}\n", *r, codes_system);
  } else if (*storage_scrub) {
    return blobs::RunScrubCommand(*(*rt)->blobs, std::cout, {.full = !scrub_quick});
  } else if (*storage_migrate) {
    auto p = (*rt)->blobs->Migrate({.from = migrate_from,
                                    .to = migrate_to,
                                    .move = migrate_move,
                                    .limit = migrate_limit,
                                    .grace = std::chrono::hours(migrate_grace_hours)});
    if (!p.ok()) return app::Fail(p.error());
    std::cout << blobs::FormatMigration(*p);
    return p->failed == 0 ? 0 : 1;
  } else if (*storage_migrations) {
    auto all = (*rt)->blobs->Migrations();
    if (!all.ok()) return app::Fail(all.error());
    for (const auto& p : *all) std::cout << blobs::FormatMigration(p);
  } else if (*findings_tick) {
    auto s = (*rt)->findings->Tick();
    if (!s.ok()) return app::Fail(s.error());
    std::cout << fmt::format("checked {} open findings: {} escalated, {} unreachable, {} moved "
                             "by consent\n",
                             s->checked, s->escalated, s->unreachable, s->consent_moves);
  } else if (*variants_ingest) {
    auto cohort = app::MakeCohort(**rt);
    auto r = app::IngestVariantFile(**rt, *cohort, variants_file_id, {.user = "cli", .organisation = "", .roles = {}, .source = "cli", .request_id = ""});
    if (!r.ok()) return app::Fail(r.error());
    std::cout << fmt::format("file {} is batch {}: {} samples, {} records, {} sites, {} chunks\n",
                             variants_file_id, r->batch_id, r->samples, r->records, r->sites,
                             r->chunks);
  } else if (*variants_rebuild) {
    auto reason = identity::AdminReasonText(rebuild_reason);
    if (!reason.ok()) return app::Fail(reason.error());
    if (!rebuild_executor.empty()) (*rt)->config.variants_rebuild_executor = rebuild_executor;
    auto cohort = app::MakeCohort(**rt);
    auto job = app::MakeRebuildJob(**rt);
    if (!job.ok()) return app::Fail(job.error());
    const Actor cli_actor{.user = "cli", .organisation = "", .roles = {}, .source = "cli",
                          .request_id = ""};
    // The regions that hold something to merge (never every boundary of a range, which may be
    // huge), those overlapping --chrom/--start/--end when given.
    const int64_t size = cohort->chunk_size();
    const int64_t end = std::max(rebuild_end, rebuild_start);
    auto crowded = cohort->CrowdedRegions(std::max<int64_t>(rebuild_min_chunks, 2),
                                          rebuild_chrom.empty() ? rebuild_limit : INT32_MAX);
    if (!crowded.ok()) return app::Fail(crowded.error());
    std::vector<variants::RegionLoad> regions;
    for (auto& r : *crowded) {
      if (!rebuild_chrom.empty() &&
          (r.chrom != rebuild_chrom || r.start > end || r.start + size <= rebuild_start)) {
        continue;
      }
      regions.push_back(std::move(r));
    }
    const auto pass = app::RebuildRegions(
        *cohort, *job, regions, cli_actor, *reason,
        [&job](const variants::RegionLoad& region, const Result<variants::RebuildReport>& r) {
          if (!r.ok()) {
            std::cerr << fmt::format("{}:{}: {} [{}]\n", region.chrom, region.start,
                                     r.error().message, r.error().code);
          } else if (!r->merged_id.empty()) {
            std::cout << fmt::format("{}:{}-{}: {} chunks merged into {} ({} sites, {} samples, "
                                     "{})\n",
                                     r->chrom, r->start, r->end - 1, r->chunks_in, r->merged_id,
                                     r->sites, r->samples, job->executor);
          }
        });
    return pass.failed == 0 ? 0 : 1;
  } else if (*variants_aggregate) {
    auto cohort = app::MakeCohort(**rt);
    auto f = app::MakeFrequencies(**rt, *cohort)->Compute(
        {.user = "cli", .organisation = "", .roles = {}, .source = "cli", .request_id = ""});
    if (!f.ok()) return app::Fail(f.error());
    std::cout << fmt::format("computation {}: {} sites over {} public releases\n", f->id,
                             f->sites, f->releases);
  } else if (*variants_genes) {
    if (genes_file.empty() && !genes_synthetic) {
      std::cerr << "zengen: variants load-genes needs a FILE or --synthetic\n";
      return 1;
    }
    std::vector<variants::GeneInterval> genes = variants::SyntheticGenes();
    if (!genes_synthetic) {
      std::ifstream in(genes_file);
      if (!in) {
        std::cerr << "zengen: cannot read " << genes_file.string() << "\n";
        return 1;
      }
      auto parsed = variants::ParseGeneTable(in);
      if (!parsed.ok()) return app::Fail(parsed.error());
      genes = std::move(*parsed);
    }
    auto cohort = app::MakeCohort(**rt);
    if (auto st = cohort->LoadGenes(genes, {.user = "cli", .organisation = "", .roles = {}, .source = "cli", .request_id = ""}); !st.ok()) {
      return app::Fail(st.error());
    }
    std::cout << fmt::format("{} genes loaded\n", genes.size());
  } else if (*sharing_tick) {
    auto s = (*rt)->sharing->Tick((*rt)->clock.Now());
    if (!s.ok()) return app::Fail(s.error());
    std::cout << fmt::format("checked {} releases: {} became controlled, {} public aggregates\n",
                             s->checked, s->to_controlled, s->to_public_aggregates);
  } else if (*audit_verify) {
    if (!audit_against.empty()) {
      return audit::RunVerifyAgainstCommand(
          *(*rt)->store, (*rt)->config.Resolve(std::string(audit::kSigningKeyFile)),
          audit_against, std::cout);
    }
    return audit::RunVerifyCommand(*(*rt)->store, std::cout);
  }
  return 0;
}
