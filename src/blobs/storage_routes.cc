#include "blobs/storage_routes.h"

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

Status AddStorageRoutes(http::Router& router, LocalStore& store) {
  ZG_RETURN_IF_ERROR(router.Add(
      {.method = "GET", .pattern = "/api/v1/storage/sites", .action = "storage.read",
       .resource = "storage", .handler = [&store](Request&) {
         auto sites = store.Health();
         if (!sites.ok()) return Response::FromError(sites.error());
         json items = json::array();
         for (const auto& h : *sites) items.push_back(SiteHealthJson(h));
         return Response::Json(200, {{"items", items}});
       }}));
  return router.Add(
      {.method = "GET", .pattern = "/api/v1/storage/migrations", .action = "storage.read",
       .resource = "storage", .handler = [&store](Request&) {
         auto all = store.Migrations();
         if (!all.ok()) return Response::FromError(all.error());
         json items = json::array();
         for (const auto& p : *all) items.push_back(MigrationJson(p));
         return Response::Json(200, {{"items", items}});
       }});
}

}  // namespace zengen::blobs
