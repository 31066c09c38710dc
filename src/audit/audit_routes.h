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
//       Answers {"seq": N, "hash": "<64 hex>"} (seq 0 and 64 zeros when empty), so outside
//       parties can record heads and later detect truncation.
#pragma once

#include "audit/audit.h"
#include "common/result.h"
#include "http/http.h"

namespace zengen::audit {

// Registers both routes on router. log must outlive the router.
Status AddAuditRoutes(http::Router& router, Log& log);

// The JSON form of a record as the API returns it.
nlohmann::json RecordJson(const Record& r);

}  // namespace zengen::audit
