#include "audit/audit_routes.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <iterator>
#include <utility>

#include "http/route_params.h"

namespace zengen::audit {
namespace {

using http::Request;
using http::Response;
using nlohmann::json;

// Parses a decimal integer query parameter in [min, max]; absent leaves *out unchanged.
Status IntParam(const Request& req, const std::string& name, int64_t min, int64_t max,
                int64_t* out) {
  const auto it = req.query.find(name);
  if (it == req.query.end()) return Status::Ok();
  const std::string& text = it->second;
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || v < min || v > max) {
    return InvalidArgument(fmt::format("invalid_{}", name),
                           fmt::format("{} must be an integer between {} and {}", name, min, max),
                           name);
  }
  *out = v;
  return Status::Ok();
}

Result<Filter> ParseFilter(const Request& req) {
  static const char* const kKnown[] = {"actor",  "resource",      "action",   "from",
                                       "to",     "after_seq",     "limit",    "decision",
                                       "actor_prefix", "action_prefix", "order", "before_seq"};
  for (const auto& [name, value] : req.query) {
    if (std::find(std::begin(kKnown), std::end(kKnown), name) == std::end(kKnown)) {
      return InvalidArgument("unknown_parameter", fmt::format("unknown query parameter '{}'", name),
                             name);
    }
  }
  Filter f;
  f.actor = http::QueryParam(req, "actor");
  f.resource = http::QueryParam(req, "resource");
  f.action = http::QueryParam(req, "action");
  for (auto [name, target] : {std::pair{"from", &f.from}, std::pair{"to", &f.to}}) {
    const std::string value = http::QueryParam(req, name);
    if (req.query.contains(name)) {
      auto t = NormaliseTime(value, name);
      if (!t.ok()) return t.error();
      *target = std::move(t).value();
    }
  }
  ZG_RETURN_IF_ERROR(IntParam(req, "after_seq", 0, INT64_MAX, &f.after_seq));
  // The security officer's view (issue 14): decision, prefixes, newest first.
  f.decision = http::QueryParam(req, "decision");
  if (!f.decision.empty() && f.decision != "allow" && f.decision != "deny") {
    return InvalidArgument("invalid_decision", "decision must be allow or deny", "decision");
  }
  f.actor_prefix = http::QueryParam(req, "actor_prefix");
  f.action_prefix = http::QueryParam(req, "action_prefix");
  const std::string order = http::QueryParam(req, "order");
  if (req.query.contains("order") && order != "asc" && order != "desc") {
    return InvalidArgument("invalid_order", "order must be asc or desc", "order");
  }
  f.newest_first = order == "desc";
  ZG_RETURN_IF_ERROR(IntParam(req, "before_seq", 1, INT64_MAX, &f.before_seq));
  int64_t limit = f.limit;
  ZG_RETURN_IF_ERROR(IntParam(req, "limit", 1, kMaxQueryLimit, &limit));
  f.limit = static_cast<int>(limit);
  return f;
}

}  // namespace

json RecordJson(const Record& r) {
  // why: details is stored as JSON object text; if someone has altered it into something that
  // no longer parses, show the raw text rather than hide the record.
  json details = json::parse(r.details, nullptr, /*allow_exceptions=*/false);
  if (details.is_discarded()) details = r.details;
  return {{"seq", r.seq},
          {"time", r.time},
          {"actor", r.actor},
          {"source", r.source},
          {"action", r.action},
          {"resource", r.resource},
          {"decision", r.decision},
          {"reason", r.reason},
          {"request_id", r.request_id},
          {"details", std::move(details)},
          {"prev_hash", r.prev_hash},
          {"hash", r.hash}};
}

Status AddAuditRoutes(http::Router& router, Log& log, const Checkpointer* checkpoints) {
  ZG_RETURN_IF_ERROR(router.Add(
      {.method = "GET",
       .pattern = "/api/v1/audit",
       .action = "audit.read",
       .resource = "audit",
       .handler = [&log](Request& req) {
         auto filter = ParseFilter(req);
         if (!filter.ok()) return Response::FromError(filter.error());
         auto page = log.Query(*filter);
         if (!page.ok()) return Response::FromError(page.error());
         json items = json::array();
         for (const Record& r : page->items) items.push_back(RecordJson(r));
         json next = nullptr;
         if (page->next_after_seq) next = *page->next_after_seq;
         // Newest first, the cursor of the next (older) page is a before_seq.
         if (filter->newest_first) {
           return Response::Json(200, {{"items", std::move(items)},
                                       {"next_after_seq", nullptr},
                                       {"next_before_seq", next}});
         }
         return Response::Json(200, {{"items", std::move(items)}, {"next_after_seq", next}});
       }}));
  return router.Add({.method = "GET",
                     .pattern = "/api/v1/audit/head",
                     .action = "audit.head",
                     .resource = "audit",
                     .handler = [&log, checkpoints](Request&) {
                       auto head = log.GetHead();
                       if (!head.ok()) return Response::FromError(head.error());
                       json signed_head = nullptr;
                       if (checkpoints != nullptr) {
                         if (auto latest = checkpoints->Latest()) {
                           signed_head = HeadJson(*latest);
                           // why: the compact range only serves the server's own restart.
                           signed_head.erase("compact_range");
                         }
                       }
                       return Response::Json(200, {{"seq", head->seq},
                                                   {"hash", head->hash},
                                                   {"signed", std::move(signed_head)}});
                     }});
}

}  // namespace zengen::audit
