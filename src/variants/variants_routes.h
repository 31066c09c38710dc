// HTTP routes of the cohort variant store (issue 15; R4.1, R4.6, R1.3, R5.1) and the ingest of
// registered files.
//
// Every answer is computed over the samples the caller may see NOW: for each sample of the
// cohort, the access gate decides "variants.read" on the sample's registered file and
// participant (custody and live consent; for researchers the release, grant and whether the
// participant's live consent covers the grant's purpose) — the same decision it makes for the
// file itself. The allowed bitmap is then intersected with the participants matching the
// clinical filters (asked of the clinical module), and counts are popcounts of carriers ∧
// allowed. Nothing is precomputed, so a withdrawal or a purpose mismatch takes effect on the
// very next request. Each query writes one "variants.query" audit record (region, filters,
// how many samples were considered and allowed, how many sites or rows were answered).
//
//   GET  /api/v1/variants/counts   region (chrom, start, end) or gene; filters diagnosis,
//                                  stage, sex, age_band → AC, AN, AF, het, hom per site
//   GET  /api/v1/variants/carriers one site (chrom, pos, ref, alt) + filters → the allowed
//                                  carriers' pseudonyms and genotypes
//   GET  /api/v1/variants/export   region or gene + filters, format=csv|json → one row per
//                                  allowed participant: clinical fields for survival analysis
//                                  (days from the index date, death event) and carrier status
//   POST /api/v1/variants/ingest   {file_id}: adds a registered VCF/BCF to the cohort (steward)
//   GET  /api/v1/variants/ingest-queue  state (pending|failed|done, default all), limit
//                                  (1-1000, default 100) → the automatic ingest's jobs with
//                                  attempts and last error (steward; IngestQueue, cohort.h)
//
// Naming the grant (every query route): a researcher holding several live grants names the one
// a query is for with `grant=ID`, and the answer is what that grant alone allows (never the
// union of what several allow); without it, a caller with one live grant (or none) is answered
// as before, and one with several is refused with 400 "grant_required" listing them. An empty
// `grant=` is 400 "invalid_parameter"; a grant that is not the caller's, or no longer active
// (expired, revoked, not started), is 403 "grant_not_usable" (the same answer for an id that
// does not exist), with a denial in the audit log saying which.
//
// Carriers and exports are record-level: the gate only allows a researcher's sample through a
// grant (or as a member of the producing group), so whoever sees a sample here may read it.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "blobs/blobs.h"
#include "common/audit_event.h"
#include "http/http.h"
#include "genomefiles/files.h"
#include "genomefiles/object.h"
#include "storage/store.h"
#include "variants/cohort.h"
#include "variants/references.h"

namespace zengen::variants {

// A set of the cohort's samples: their bits and, for each, the participant pseudonym.
struct SampleSet {
  Roaring bits;
  std::map<uint32_t, std::string> participant;
  int64_t considered = 0;  // samples in the cohort
};
// The samples for which keep says yes (errors of keep are returned).
Result<SampleSet> SelectSamples(Cohort& cohort,
                                const std::function<Result<bool>(const CohortSample&)>& keep);

// The gate's decisions for the cohort's samples on one request (no audit record per sample:
// the query's one record covers every sample), taken once per request for the grant the
// request is for: `allowed` is parallel to the samples given, `grant` names that grant ("" when
// none was named and the caller holds at most one). The decider's errors (e.g. kInvalidArgument
// "grant_required", kPermissionDenied "grant_not_usable", field "grant") are the request's.
struct SampleDecisions {
  std::vector<bool> allowed;
  std::string grant;
};
using SampleDecider = std::function<Result<SampleDecisions>(
    const http::Request& req, const std::vector<CohortSample>& samples)>;

// Adds a registered VCF/BCF (the genome-file registry) to the cohort: the stored
// Crypt4GH object is decrypted into a private temporary directory under work_dir (0700,
// removed afterwards), its samples mapped to participants by the file's sample map (a file
// without one is single-sample: its sample is the file's participant). Errors: kNotFound
// "file_not_found"; kInvalidArgument "not_a_variant_file" (field file_id) for other kinds;
// Cohort::Ingest's errors. The file's indels are left-aligned against the reference it names
// (ChooseReference, references.h: its analysis run's, its header's, or the site-wide FASTA);
// ChooseReference's errors ("reference_not_registered", "reference_contig_mismatch") refuse it.
Result<IngestReport> IngestRegisteredFile(Cohort& cohort, genomefiles::Files& files,
                                          blobs::BlobStore& blobs,
                                          const std::filesystem::path& work_dir,
                                          std::string_view file_id, const Actor& actor,
                                          const ReferenceSources& references = {});

struct RouteDeps {
  Cohort& cohort;
  storage::Store& store;  // the clinical facts (clinical/cohort_filter.h)
  SampleDecider allowed;
  std::function<Result<IngestReport>(std::string_view file_id, const Actor& actor)> ingest;
  std::function<Result<std::vector<IngestJob>>(std::string_view state, int64_t limit)>
      ingest_jobs;
  AuditSink& audit;
};

Status AddVariantRoutes(http::Router& router, RouteDeps deps);

}  // namespace zengen::variants
