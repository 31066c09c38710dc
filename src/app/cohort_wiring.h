// The cohort variant store and Beacon v2 (issue 15) wired on a runtime: the store on the
// runtime's metadata and blob stores, the ingest of registered files, the demo's cohort, and
// the routes with the access gate deciding per sample.
#pragma once

#include <chrono>
#include <functional>
#include <thread>
#include <memory>
#include <string>
#include <string_view>

#include "access/access.h"
#include "app/runtime.h"
#include "beacon/beacon.h"
#include "http/http.h"
#include "consent/consent.h"
#include "variants/cohort.h"
#include "variants/frequencies.h"
#include "variants/variants_routes.h"

namespace zengen::app {

// Regions the ingest job rebuilds at most per pass (variants_rebuild_chunks).
inline constexpr int64_t kRebuildsPerPass = 64;

// Beacon v2 variant queries per day: far below the thousands a membership attack needs.
inline constexpr beacon::Budget kBeaconBudget{.per_user = 500, .per_address = 200};

// The store: chunks sealed with Crypt4GH for the data centre's key, each ingest recorded with
// its audit record in one transaction.
std::unique_ptr<variants::Cohort> MakeCohort(Runtime& r);

// Adds a registered VCF/BCF to the cohort (working copy under the data directory's staging/),
// its indels left-aligned against the reference it names (variants/references.h: the analysis
// run's registered reference, else its header's ##reference among the registered ones, else
// config.variants_reference_fasta when set); a reference not registered or whose contigs are
// not the file's refuses the file; an unreadable FASTA fails the ingest ("unreadable_reference").
Result<variants::IngestReport> IngestVariantFile(Runtime& r, variants::Cohort& cohort,
                                                 std::string_view file_id, const Actor& actor);

// The consent classes of the portal's frequencies (variants/frequencies.h) for one
// participant's live consent profile, by DUO matching (consent::Match): research when some
// non-commercial research purpose matches (GRU, HMB, or DS for the participant's own disease),
// commercial when the same purpose made commercial matches too (no NCU/NPU).
variants::ClassMembership ConsentClassesOf(const consent::DataUseProfile& profile);

// The portal's allele frequencies on the runtime: the public releases' VCF/BCF files from
// sharing, each participant's classes from the live consent ledger, its changes counted by it.
std::shared_ptr<variants::PublicFrequencies> MakeFrequencies(Runtime& r,
                                                             variants::Cohort& cohort);

// The demo's cohort: the synthetic gene table (when absent) and every registered VCF/BCF not
// yet ingested. Returns how many files were ingested.
Result<int64_t> SeedDemoCohort(Runtime& r);

// Automatic ingest (issue 15): the queue on the runtime's store, ingesting through
// IngestVariantFile as the ingest job.
std::unique_ptr<variants::IngestQueue> MakeIngestQueue(Runtime& r, variants::Cohort& cohort);

// Where the ingest job's reading of the file catalogue stands: the created_at up to which it
// has read (RFC 3339; "" before the first pass) and how many passes it made.
struct VariantSweepCursor {
  std::string after;
  int64_t passes = 0;
};
// Every kFullSweepEvery-th pass reads the whole catalogue again (a file whose registration
// committed more than min_age after its created_at would otherwise be missed; Enqueue's
// idempotence makes the repeat harmless).
inline constexpr int64_t kFullSweepEvery = 360;

struct VariantSweep {
  int64_t read = 0;  // catalogue entries this pass read (and handed to the queue)
  variants::IngestQueue::Tick tick;
};

// One pass of the ingest job: reads the VCF/BCF files registered since the cursor and at least
// `min_age` ago (the whole catalogue on the first pass and every kFullSweepEvery-th), hands
// them to the queue (which leaves out those it holds or the cohort has), advances the cursor,
// then runs the due jobs. A pass costs in proportion to the files registered since the last.
Result<VariantSweep> SweepVariantIngest(Runtime& r, variants::IngestQueue& queue,
                                        std::chrono::seconds min_age, VariantSweepCursor& cursor);

// Starts the ingest job beside the server: every config.variants_auto_ingest_seconds (0:
// returns a thread that is not joinable); after a pass that ingested files (and after the
// first) it rebuilds up to kRebuildsPerPass regions holding at least
// config.variants_rebuild_chunks live chunks (app/region_rebuild.h; 0: off), then refreshes the
// portal's allele frequencies when they are stale (a consent change, an ingest, a release made
// public). The caller stops and joins it before the runtime closes.
std::jthread StartVariantIngestJob(Runtime& r, variants::Cohort& cohort);

// The grant a request's cohort answers are for (issue 15; variants_routes.h "Naming the
// grant"): the `grant` query parameter when given (it must be an active grant the caller
// holds), else "" when the caller holds at most one active grant. Errors: kInvalidArgument
// "invalid_parameter" (empty grant=), "grant_required" (several active grants, none named);
// kPermissionDenied "grant_not_usable" (not the caller's, unknown, expired, revoked or not
// started: one answer for all, the audit log's "variants.grant" denial says which).
Result<std::string> RequestGrant(Runtime& r, const http::Request& req);

// The access gate's decisions for the cohort's samples on one request: the same facts and
// policy decision as for reading each sample's file ("variants.read") for the request's grant
// (RequestGrant), without an audit record of its own (the query's record covers every
// sample). Taken once per request: each file is read once and each (file, participant) pair
// decided once, however many samples or chunks name them.
Result<variants::SampleDecisions> GateDecidesSamples(
    Runtime& r, access::Gate& gate, const http::Request& req,
    const std::vector<variants::CohortSample>& samples);

// The variant store's routes, the portal's allele frequencies and Beacon v2's. Public and registered Beacon answers are over
// the released participants' samples; records and the console's queries over the samples the
// gate allows. Beacon takes no grant parameter: a caller holding several active grants gets no
// record-level Beacon answer (the registered one instead), never one over several grants.
Status AddCohortRoutes(http::Router& router, Runtime& r, access::Gate& gate,
                       variants::Cohort& cohort, std::function<std::string()> public_url);

}  // namespace zengen::app
