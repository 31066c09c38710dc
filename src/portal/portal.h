// The public data portal's aggregates (R4.9): the program's progress — enrolled, consented,
// specimens received, sequenced, QC passed, analysed, released — counted per participant and
// broken down by month (also by quarter and cumulatively), program, disease category and
// facility; and, published at the same time, the aggregates of every public release.
//
// Every figure the portal and the release aggregates publish goes through one disclosure
// control (portal/suppression.h): counts are rounded down to bands of ten, 0–9 shows as "<10",
// and the whole publication is audited together so that no count from 1 to 9 can be derived
// from any combination of published figures. The browser only ever sees protected figures.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/result.h"
#include "http/http.h"
#include "portal/suppression.h"
#include "storage/store.h"

namespace zengen::portal {

// The stages of progress, in program order.
const std::vector<std::string>& Stages();
// Which stage is a subset of which ([whole, part] by index into Stages()): the stages form a
// funnel — a participant counts at a stage only once it has reached every stage above it in
// this tree — enrolled ⊇ consented ⊇ specimens received ⊇ sequenced ⊇ QC passed ⊇ analysed,
// and consented ⊇ released.
const std::vector<std::pair<size_t, size_t>>& Nesting();

// One participant's attributes and how far it has come (index i of reached ↔ Stages()[i]).
struct ParticipantProgress {
  std::string month;             // YYYY-MM of the index (enrolment) date
  std::string program;           // cancer | rare_disease
  std::string disease_category;  // e.g. lung, rd_epilepsy
  std::string facility;          // the registering hospital's organisation id
  std::vector<bool> reached;
};

// Reads every participant's progress from the participants, consent and specimen tables (the
// portal is a read model across those modules). `released` holds the participants whose data
// are in a released dataset (the sharing module says which); a participant counts as released
// only while consented. Each stage is then cut to the funnel (Nesting).
Result<std::vector<ParticipantProgress>> ReadProgress(storage::Store& store,
                                                      const std::set<std::string>& released = {});

// The true counts behind one public release's aggregates, as the sharing module computes them.
struct ReleaseCounts {
  std::string release_id;
  int64_t participants = 0;
  std::map<std::string, int64_t> by_disease;
  // "category.field" → value → participants; every value of the field's dictionary appears
  // (zero or not), so the set of keys says nothing.
  std::map<std::string, std::map<std::string, int64_t>> by_field;
};

// Everything published at the same time, protected together.
struct PublicFigures {
  // GET /api/v1/portal/progress (docs/api.md).
  nlohmann::json progress;
  // Per release id: {"participants", "by_disease_category", "by_field": {field: {value: …}}},
  // each count in its published form.
  std::map<std::string, nlohmann::json> releases;
};

// Builds and protects the whole publication. facility_names maps organisation id → name for
// every hospital (all are listed, empty or not).
PublicFigures Publish(const std::vector<ParticipantProgress>& participants,
                      const std::map<std::string, std::string>& facility_names,
                      const std::vector<ReleaseCounts>& releases, const std::string& generated_at);

// The published document of GET /api/v1/releases/{id}/aggregates[?field=]. Errors: kNotFound
// "release_not_found" when the release has no public aggregates in `figures`.
Result<nlohmann::json> ReleaseAggregatesJson(const PublicFigures& figures,
                                             std::string_view release_id, std::string_view field);

// The public release calendar: {"tiers":[…],"items":[{id, dataset_id, title{ja,en}, program,
// tier, release_date, embargo_months, embargo_until, public_aggregates_date}]} (the sharing
// module provides it; the portal does not depend on sharing).
using ReleaseCalendar = std::function<Result<nlohmann::json>()>;

// What the portal asks the sharing module (wired in app/main.cc; each may be null: no releases).
struct SharingSources {
  ReleaseCalendar calendar;
  // Participants whose data are in a dataset released by today.
  std::function<Result<std::set<std::string>>()> released_participants;
  // The true counts of every release whose aggregates are public.
  std::function<Result<std::vector<ReleaseCounts>>()> public_release_counts;
};

// Reads everything and publishes it (Publish) as of clock.Now().
Result<PublicFigures> ComputePublicFigures(storage::Store& store, const SharingSources& sources,
                                           const Clock& clock);

// Registers GET /api/v1/portal/progress and GET /api/v1/portal/releases (action portal.read,
// public). store, clock and sources must outlive the router.
Status AddPortalRoutes(http::Router& router, storage::Store& store, const Clock& clock,
                       SharingSources sources = {});

}  // namespace zengen::portal
