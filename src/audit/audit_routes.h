// HTTP routes of the audit log (R3.5 access monitoring).
//
//   GET /api/v1/audit       action "audit.read" (security officers), resource "audit".
//       Query parameters, all optional: actor, resource, action (exact matches), from, to
//       (RFC 3339 UTC, half-open range [from, to)), after_seq (cursor, ≥ 0), limit (1–500,
//       default 100). Answers {"items":[record…], "next_after_seq": N | null} in ascending seq;
//       each record carries all columns, details as a JSON object. An invalid or unknown
//       parameter answers 400 with the parameter's name in error.field (a misspelt filter must
//       not silently widen the result).
//   GET /api/v1/audit/head  action "audit.head" (public), resource "audit".
//       Answers {"seq": N, "hash": "<64 hex>", "signed": {…} | null}: the chain's newest record
//       (seq 0 and 64 zeros when empty) and the latest signed checkpoint (checkpoint.h):
//       {"tree_size", "root_hash", "timestamp", "public_key", "signature", "previous_size",
//       "consistency"} with hashes, key and signature in hex, so that outside parties can
//       record signed heads and later prove that the log still extends them. "signed" is null
//       until the first checkpoint (or when the server runs without a checkpointer).
#pragma once

#include "audit/audit.h"
#include "audit/checkpoint.h"
#include "common/result.h"
#include "http/http.h"

namespace zengen::audit {

// Registers both routes on router. log and checkpoints (may be null) must outlive the router.
Status AddAuditRoutes(http::Router& router, Log& log, const Checkpointer* checkpoints = nullptr);

// The JSON form of a record as the API returns it.
nlohmann::json RecordJson(const Record& r);

}  // namespace zengen::audit
