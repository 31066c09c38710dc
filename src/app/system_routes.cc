#include "app/system_routes.h"

#include <fmt/format.h>

#include "common/clock.h"
#include "storage/migrations.h"

namespace zengen::app {
namespace {

using http::Request;
using http::Response;
using nlohmann::json;

constexpr size_t kMaxSettingValue = 4096;

bool ValidSettingKey(std::string_view k) {
  if (k.empty() || k.size() > 64 || !(k[0] >= 'a' && k[0] <= 'z')) return false;
  for (char c : k) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

json SettingJson(const storage::Row& row) {
  return {{"key", row.Text(0)}, {"value", row.Text(1)}, {"updated_at", row.Text(2)}};
}

}  // namespace

Status AddSystemRoutes(http::Router& router, storage::Store& store, const Clock& clock,
                       std::function<nlohmann::json()> storage_sites) {
  ZG_RETURN_IF_ERROR(router.Add({.method = "GET", .pattern = "/healthz",
                                 .action = "system.health", .resource = "system",
                                 .runs_inline = true, .handler = [](Request&) {
                                   return Response::Json(200, {{"status", "ok"}});
                                 }}));
  ZG_RETURN_IF_ERROR(router.Add(
      {.method = "GET", .pattern = "/readyz", .action = "system.health", .resource = "system",
       .handler = [&store, storage_sites](Request&) {
         if (auto st = store.Ping(); !st.ok()) {
           return Response::Json(503, {{"status", "unavailable"},
                                       {"database", storage::BackendName(store.backend())},
                                       {"reason", st.error().message}});
         }
         json out = {{"status", "ready"}, {"database", storage::BackendName(store.backend())}};
         if (storage_sites) {
           json sites = storage_sites();
           bool all = true;
           for (const auto& s : sites) all = all && s.value("reachable", false);
           out["storage"] = all ? "ok" : "degraded";
           out["sites"] = std::move(sites);
         }
         return Response::Json(200, out);
       }}));
  ZG_RETURN_IF_ERROR(router.Add(
      {.method = "GET", .pattern = "/api/v1/version", .action = "system.version",
       .resource = "system", .runs_inline = true, .handler = [](Request&) {
         return Response::Json(200, {{"name", "zengen"},
                                     {"version", ZENGEN_VERSION},
                                     {"api", "v1"},
                                     {"schema_version", storage::LatestSchemaVersion()}});
       }}));
  ZG_RETURN_IF_ERROR(router.Add(
      {.method = "GET", .pattern = "/api/v1/settings", .action = "setting.read",
       .resource = "setting", .handler = [&store](Request&) {
         auto tx = store.Begin(storage::TxMode::kRead);
         if (!tx.ok()) return Response::FromError(tx.error());
         auto rows = (*tx)->Query("SELECT key, value, updated_at FROM settings ORDER BY key");
         if (!rows.ok()) return Response::FromError(rows.error());
         json items = json::array();
         for (const auto& row : rows->rows) items.push_back(SettingJson(row));
         return Response::Json(200, {{"items", items}});
       }}));
  ZG_RETURN_IF_ERROR(router.Add(
      {.method = "GET", .pattern = "/api/v1/settings/{key}", .action = "setting.read",
       .resource = "setting", .handler = [&store](Request& req) {
         const std::string& key = req.path_params.at("key");
         auto tx = store.Begin(storage::TxMode::kRead);
         if (!tx.ok()) return Response::FromError(tx.error());
         auto rows = (*tx)->Query("SELECT key, value, updated_at FROM settings WHERE key = $1",
                                  {storage::Text(key)});
         if (!rows.ok()) return Response::FromError(rows.error());
         if (rows->empty()) {
           return Response::FromError(
               NotFound("setting_not_found", fmt::format("no setting named '{}'", key)));
         }
         return Response::Json(200, SettingJson(rows->rows[0]));
       }}));
  return router.Add(
      {.method = "PUT", .pattern = "/api/v1/settings/{key}", .action = "setting.write",
       .resource = "setting", .max_body_bytes = 16 * 1024, .handler = [&store, &clock](Request& req) {
         const std::string& key = req.path_params.at("key");
         if (!ValidSettingKey(key)) {
           return Response::FromError(InvalidArgument(
               "invalid_setting_key",
               "a setting key is 1-64 characters of a-z, 0-9 and _, starting with a letter",
               "key"));
         }
         auto body = ParseJsonBody(req);
         if (!body.ok()) return Response::FromError(body.error());
         const auto it = body->find("value");
         if (it == body->end()) {
           return Response::FromError(
               InvalidArgument("missing_field", "'value' is required", "value"));
         }
         if (!it->is_string()) {
           return Response::FromError(
               InvalidArgument("invalid_type", "'value' must be a string", "value"));
         }
         const std::string value = it->get<std::string>();
         if (value.size() > kMaxSettingValue) {
           return Response::FromError(InvalidArgument(
               "value_too_long", fmt::format("'value' exceeds {} bytes", kMaxSettingValue),
               "value"));
         }
         const std::string now = FormatRfc3339(clock.Now());
         auto tx = store.Begin(storage::TxMode::kWrite);
         if (!tx.ok()) return Response::FromError(tx.error());
         auto n = (*tx)->Exec(
             "INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3) "
             "ON CONFLICT (key) DO UPDATE SET value = excluded.value, "
             "updated_at = excluded.updated_at",
             {storage::Text(key), storage::Text(value), storage::Text(now)});
         if (!n.ok()) return Response::FromError(n.error());
         if (auto st = (*tx)->Commit(); !st.ok()) return Response::FromError(st.error());
         return Response::Json(200, {{"key", key}, {"value", value}, {"updated_at", now}});
       }});
}

}  // namespace zengen::app
