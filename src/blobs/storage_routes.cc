#include "blobs/storage_routes.h"

#include "identity/identity_routes.h"

namespace zengen::blobs {

using http::Request;
using http::Response;
using nlohmann::json;

json SiteHealthJson(const SiteHealth& h) {
  return {{"name", h.name},
          {"kind", h.kind},
          {"tier", h.tier},
          {"jurisdiction", h.jurisdiction},
          {"organisation", h.organisation.empty() ? json(nullptr) : json(h.organisation)},
          {"reachable", h.reachable},
          {"latency_ms", static_cast<double>(h.latency_us) / 1000.0},
          {"detail", h.detail.empty() ? json(nullptr) : json(h.detail)},
          {"objects", h.objects},
          {"bytes", h.bytes},
          {"bad_copies", h.bad_copies}};
}

json MigrationJson(const MigrationProgress& p) {
  const int64_t finished = p.copied + p.retired;
  return {{"id", p.id},
          {"from", p.from},
          {"to", p.to},
          {"mode", p.mode},
          {"state", p.state},
          {"created_at", p.created_at},
          {"updated_at", p.updated_at},
          {"total", p.total},
          {"pending", p.pending},
          {"copied", p.copied},
          {"retire_due", p.retire_due},
          {"retiring", p.retiring},
          {"retired", p.retired},
          {"failed", p.failed},
          {"done", p.total == 0 ? 1.0
                                : static_cast<double>(finished) / static_cast<double>(p.total)},
          {"failures", p.failures}};
}

json MigrationJobJson(const MigrationJob& j) {
  auto or_null = [](const std::string& v) { return v.empty() ? json(nullptr) : json(v); };
  return {{"running", j.running},
          {"from", j.from},
          {"to", j.to},
          {"mode", j.mode},
          {"limit", j.limit},
          {"started_by", j.started_by},
          {"reason", j.reason},
          {"started_at", j.started_at},
          {"finished_at", or_null(j.finished_at)},
          {"migration_id", or_null(j.migration_id)},
          {"error", or_null(j.error)}};
}

namespace {

// POST /api/v1/storage/migrations: the body checked field by field before anything starts.
Result<Response> StartMigration(Request& req, MigrationJobs& jobs) {
  ZG_ASSIGN_OR_RETURN(json body, http::ParseJsonBody(req));
  ZG_RETURN_IF_ERROR(
      http::OnlyFields(body, {"from", "to", "limit", "move", "grace_hours", "reason"}));
  MigrateOptions o;
  ZG_ASSIGN_OR_RETURN(o.from, http::JsonString(body, "from", true, 64));
  ZG_ASSIGN_OR_RETURN(o.to, http::JsonString(body, "to", true, 64));
  ZG_ASSIGN_OR_RETURN(o.limit, http::JsonInt(body, "limit", false, 0));
  if (o.limit < 0) {
    return InvalidArgument("invalid_limit", "limit must be 0 (every object) or more", "limit");
  }
  if (body.contains("move") && !body["move"].is_null()) {
    if (!body["move"].is_boolean()) {
      return InvalidArgument("invalid_type", "'move' must be true or false", "move");
    }
    o.move = body["move"].get<bool>();
  }
  ZG_ASSIGN_OR_RETURN(int64_t grace_hours, http::JsonInt(body, "grace_hours", false, 168));
  if (grace_hours < 0 || grace_hours > 87600) {
    return InvalidArgument("invalid_grace_hours", "grace_hours must be 0..87600", "grace_hours");
  }
  o.grace = std::chrono::hours(grace_hours);
  ZG_ASSIGN_OR_RETURN(std::string reason, identity::AdminReason(body));
  ZG_RETURN_IF_ERROR(jobs.Start(o, http::RequestActor(req), reason));
  auto job = jobs.Current();
  return Response::Json(202, {{"job", job ? MigrationJobJson(*job) : json(nullptr)}});
}

}  // namespace

Status AddStorageRoutes(http::Router& router, LocalStore& store, MigrationJobs& jobs) {
  ZG_RETURN_IF_ERROR(router.Add(
      {.method = "GET", .pattern = "/api/v1/storage/sites", .action = "storage.read",
       .resource = "storage", .handler = [&store](Request&) {
         auto sites = store.Health();
         if (!sites.ok()) return Response::FromError(sites.error());
         json items = json::array();
         for (const auto& h : *sites) items.push_back(SiteHealthJson(h));
         return Response::Json(200, {{"items", items}});
       }}));
  ZG_RETURN_IF_ERROR(router.Add(
      {.method = "GET", .pattern = "/api/v1/storage/migrations", .action = "storage.read",
       .resource = "storage", .handler = [&store, &jobs](Request&) {
         auto all = store.Migrations();
         if (!all.ok()) return Response::FromError(all.error());
         json items = json::array();
         for (const auto& p : *all) items.push_back(MigrationJson(p));
         auto job = jobs.Current();
         return Response::Json(
             200, {{"items", items}, {"job", job ? MigrationJobJson(*job) : json(nullptr)}});
       }}));
  return router.Add({.method = "POST",
                     .pattern = "/api/v1/storage/migrations",
                     .action = "storage.migrate",
                     .resource = "storage",
                     .max_body_bytes = 8192,
                     .handler = http::Wrap([&jobs](Request& req) -> Result<Response> {
                       return StartMigration(req, jobs);
                     })});
}

}  // namespace zengen::blobs
