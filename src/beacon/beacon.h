// GA4GH Beacon v2 over the cohort variant store (issue 15; R4.6, R4.9, R1.3, R5.1), at
// /ga4gh/beacon/v2: the informational endpoints (/, /info, /service-info, /configuration,
// /map, /entry_types, /filtering_terms, /datasets) and genomic-variant queries (/g_variants,
// GET and POST; sequence, range, bracket and gene queries).
//
// Granularity by tier. Who may see what is decided here, not chosen by the caller; a
// requested granularity is a ceiling:
//   - anonymous callers get boolean answers, over the released samples (participants in a
//     released dataset whose live consent holds: the portal's "released" set);
//   - registered callers (signed in with the second factor, or machine credentials) get
//     counts over the same samples, through the one disclosure control
//     (portal/suppression.h): the count is rounded down to its band of ten and a band below
//     ten is never shown (the answer falls back to boolean);
//   - record level goes only to callers the access gate allows samples to (grant holders,
//     analysts of the holding centre, data stewards): per variant the AC/AN/AF over those
//     samples and the carriers' pseudonyms and zygosity (caseLevelData). A caller asking for
//     records with no such samples gets the registered answer.
// Each result set (the one dataset, the cohort) answers on its own at every granularity.
//
// Budget. Every g_variants query (allowed or refused for budget) counts against the caller's
// user id (when authenticated) and source address in the current UTC day (table
// beacon_query_budget); query N+1 of a day is refused with 429 and a Beacon error naming the
// limit and when it resets. Every query is an audit record ("beacon.query": tier, returned
// granularity, the query, the answer's size, the budget left).
//
// Responses follow the Beacon v2 framework schemas (checked with ajv in tests/beacon);
// receivedRequestSummary.requestParameters is omitted (the framework types every value as an
// object, so echoing strings would not validate).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "common/audit_event.h"
#include "common/clock.h"
#include "common/result.h"
#include "http/http.h"
#include "storage/store.h"
#include "variants/cohort.h"
#include "variants/variants_routes.h"

namespace zengen::beacon {

enum class Tier { kPublic, kRegistered, kRecord };

struct Budget {
  int64_t per_user = 1000;     // g_variants queries per authenticated user per UTC day
  int64_t per_address = 1000;  // per source address per UTC day (anonymous and authenticated)
};

struct Sources {
  variants::Cohort& cohort;
  // The samples a request's answer is computed over, for the tier (kPublic and kRegistered:
  // the released samples; kRecord: those the gate allows the caller).
  std::function<Result<variants::SampleSet>(const http::Request&, Tier)> samples;
  storage::Store& store;  // the budget
  const Clock& clock;
  AuditSink& audit;
  Budget budget;
  // The public base URL (for the welcome URL); may be empty.
  std::function<std::string()> public_url;
};

Status AddBeaconRoutes(http::Router& router, Sources sources);

}  // namespace zengen::beacon
