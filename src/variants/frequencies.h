// Allele frequencies of released data for the public portal (issue 15; R5.1, R4.9, R1.3):
// per variant site, AC and AN per public release and per consent class, precomputed by a job
// and published through the portal's one disclosure control (portal/suppression.h).
//
// What counts. A release counts once its tier is public_aggregates (sharing: past its embargo
// and its public-aggregates date); its samples are the cohort samples of the VCF/BCF files the
// release covers whose participant the release covers. Each sample then counts in a consent
// class by its participant's live consent (consent::Match on the profile):
//   research    every research purpose: the participant's consent is in force for research
//               (not fully withdrawn; the participants the release's public counts count)
//   commercial  commercial research allowed: research, and the consent permits a commercial
//               purpose (no NCU/NPU; DUO matching as for an industry grant)
// so commercial ⊆ research in every release.
//
// Computations. Compute reads the cohort's chunks contig by contig (windows of
// Options::window bases), counts every class of every release (CountEvery: AC and AN of
// each class at every site any class carries) and replaces the previous computation in one
// transaction (tables variant_af_computations, variant_public_af): a reader sees the old
// rows or the new ones, never a mixture. Each computation records its freshness key: the
// number of consent changes (consent::Ledger::Changes), of batches in the cohort and the
// public releases with their files, read BEFORE the counts.
//
// Never a withdrawn participant. Published() compares the current freshness key with the
// stored one before every answer and, when they differ (a withdrawal or any consent change, an
// ingest, a release reaching the public tier), computes again before answering: the very next
// answer after a withdrawal excludes the participant. The server also refreshes in the
// background (after each ingest pass), and `zengen variants aggregate` computes on demand.
//
// Publication. The true counts never leave the server. Per site, every figure of the page
// (AC and AN of each release × class) is one portal::Publication with the relations a reader
// knows or could learn — research ⊇ commercial, and release A ⊇ release B wherever B's samples
// of a class are among A's (a later release of the same dataset) — so that no count 1..9 can be
// derived by differencing two classes or two releases. Published forms: bands of ten, "<10",
// or "x" (withheld). AF is published only from the published bands (their mid-points), never
// from the exact counts, so it reveals nothing the bands do not; exact frequencies are for
// grant holders (GET /api/v1/variants/counts).
//
// Thread safety: thread-safe; computations are serialised by one mutex per process (the
// server's job and its route may hold different objects). A computation run by the CLI while
// the server computes too is serialised by the metadata store only: the later commit wins.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/actor.h"
#include "common/audit_event.h"
#include "common/clock.h"
#include "common/result.h"
#include "http/http.h"
#include "storage/store.h"
#include "variants/cohort.h"

namespace zengen::variants {

// The consent classes, in published order.
const std::vector<std::string>& ConsentClasses();  // research, commercial

struct ClassMembership {
  bool research = false;
  bool commercial = false;
};

struct FrequencySources {
  // Release id → [(file id, participant id)] of the VCF/BCF files of every release in the
  // public_aggregates tier now (sharing::Sharing::PublicReleaseFiles).
  std::function<Result<std::map<std::string, std::vector<std::pair<std::string, std::string>>>>()>
      public_releases;
  // The classes the participant's live consent puts them in.
  std::function<Result<ClassMembership>(const std::string& participant_id)> classes;
  // A number that changes with every consent change (consent::Ledger::Changes).
  std::function<Result<int64_t>()> consent_changes;
};

struct FrequencyComputation {
  std::string id;  // "AF-" + 16 upper-case hex; "" when none was ever computed
  std::string freshness;
  int64_t sites = 0;
  int64_t releases = 0;
  std::string computed_at;
  bool computed = false;  // this call computed it (Refresh: false when it was fresh)
};

class PublicFrequencies {
 public:
  struct Options {
    int64_t window = 10'000'000;  // bases of chunks read at once
  };
  // Every reference must outlive the object.
  PublicFrequencies(storage::Store& store, Cohort& cohort, const Clock& clock, AuditSink& audit,
                    FrequencySources sources, Options options);

  // The freshness key now (see the header comment).
  Result<std::string> Freshness();
  // Computes and replaces the current computation (audit "variants.frequencies").
  Result<FrequencyComputation> Compute(const Actor& actor);
  // Computes only when the current computation is stale (or there is none).
  Result<FrequencyComputation> Refresh(const Actor& actor);
  // The current computation (id "" when none).
  Result<FrequencyComputation> Current();

  // The published answer for chrom:[start, end] (1-based, inclusive), sites in position order,
  // page (1-based) of page_size sites; refreshes first when stale. `region` is echoed.
  Result<nlohmann::json> Published(std::string_view chrom, int64_t start, int64_t end,
                                   int64_t page, int64_t page_size, nlohmann::json region);

 private:
  storage::Store& store_;
  Cohort& cohort_;
  const Clock& clock_;
  AuditSink& audit_;
  FrequencySources sources_;
  Options options_;
};

// One site's counts: per (release id, class) the true AC and AN.
struct SiteCells {
  std::map<std::pair<std::string, std::string>, std::pair<int64_t, int64_t>> cells;
  // People carrying the allele (het + hom-alt) per (release, class); a missing entry is 0.
  std::map<std::pair<std::string, std::string>, int64_t> carriers;
};
// The published cells of one site: [{release, class, ac, an, af}] with ac and an in their
// published forms (portal::ShownJson) and af from the bands' mid-points (null unless both are
// numbers). `nested` lists (outer, inner) release pairs where inner's samples are among
// outer's in every class. Deterministic; depends only on the bands.
nlohmann::json PublishSite(const SiteCells& site, const std::vector<std::string>& releases,
                           const std::vector<std::pair<std::string, std::string>>& nested);

// Registers GET /api/v1/portal/variant-frequencies (action portal.read, public): gene, or
// chrom + start + end (at most kMaxPublicRegion bases); page (≥ 1, default 1), page_size
// (1-200, default 50). 400 naming the field for a bad one (portal_region_too_large for a
// wider region); 404 gene_not_found.
inline constexpr int64_t kMaxPublicRegion = 1'000'000;
// `cohort` must outlive the router.
Status AddFrequencyRoutes(http::Router& router, std::shared_ptr<PublicFrequencies> frequencies,
                          Cohort& cohort);

}  // namespace zengen::variants
