#include "analysis/analysis_routes.h"

#include <fmt/format.h>

#include "http/filters.h"

namespace zengen::analysis {
namespace {

using http::Request;
using http::RequestActor;
using http::Response;
using http::Wrap;
using nlohmann::json;

constexpr int64_t kMaxRunBodyBytes = 16 * 1024;

json OrNull(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }

json StepJson(const Step& s) {
  return {{"name", s.name}, {"state", s.state}, {"started_at", OrNull(s.started_at)},
          {"ended_at", OrNull(s.ended_at)}};
}

http::Resolver RunResolver(Runs* runs) {
  return http::ResolveWith(
      [runs](const Request& req) { return runs->RunResource(req.path_params.at("id")); });
}

}  // namespace

json RunJson(const Run& r) {
  json steps = json::array();
  for (const auto& s : r.steps) steps.push_back(StepJson(s));
  return {{"id", r.id},
          {"specimen_id", r.specimen_id},
          {"normal_specimen_id", OrNull(r.normal_specimen_id)},
          {"participant_id", r.participant_id},
          {"centre", r.centre},
          {"pipeline", r.pipeline},
          {"version", r.pipeline_version},
          {"reference", r.reference},
          {"reference_sha256", r.reference_sha256},
          {"executor", r.executor},
          {"state", r.state},
          {"attempt", r.attempt},
          {"step", r.steps_done},
          {"steps", r.steps_total},
          {"step_detail", steps},
          {"inputs", r.inputs},
          {"outputs", r.outputs},
          {"error", r.error},
          {"node", OrNull(r.node)},
          {"created_by", r.created_by},
          {"created_at", r.created_at},
          {"started_at", OrNull(r.started_at)},
          {"ended_at", OrNull(r.ended_at)}};
}

Status AddAnalysisRoutes(http::Router& router, Runs& runs) {
  Runs* rs = &runs;

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "POST",
      .pattern = "/api/v1/analysis/runs",
      .action = "analysis_run.write",
      .resource = "analysis_run",
      .max_body_bytes = kMaxRunBodyBytes,
      .handler = Wrap([rs](Request& req) -> Result<Response> {
        ZG_ASSIGN_OR_RETURN(json body, http::ParseJsonBody(req));
        ZG_RETURN_IF_ERROR(
            http::OnlyFields(body, {"specimen_id", "normal_specimen_id", "reference", "pipeline",
                                    "version"}));
        NewRun n;
        ZG_ASSIGN_OR_RETURN(n.specimen_id, http::JsonString(body, "specimen_id", true, 64));
        ZG_ASSIGN_OR_RETURN(n.reference, http::JsonString(body, "reference", true, 64));
        ZG_ASSIGN_OR_RETURN(n.normal_specimen_id,
                            http::JsonString(body, "normal_specimen_id", false, 64));
        ZG_ASSIGN_OR_RETURN(std::string pipeline, http::JsonString(body, "pipeline", false, 64));
        ZG_ASSIGN_OR_RETURN(std::string version, http::JsonString(body, "version", false, 32));
        if (!pipeline.empty()) n.pipeline = pipeline;
        if (!version.empty()) n.version = version;
        ZG_ASSIGN_OR_RETURN(Run r, rs->Start(n, RequestActor(req)));
        return Response::Json(201, RunJson(r));
      }),
  }));

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "GET",
      .pattern = "/api/v1/analysis/runs",
      .action = "analysis_run.read",
      .resource = "analysis_run",
      .handler = Wrap([rs](Request& req) -> Result<Response> {
        ZG_ASSIGN_OR_RETURN(auto list, rs->List(policy::ScopeOf(req.subject)));
        json items = json::array();
        for (const auto& r : list) items.push_back(RunJson(r));
        return Response::Json(200, json{{"items", items}});
      }),
  }));

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "GET",
      .pattern = "/api/v1/analysis/runs/{id}",
      .action = "analysis_run.read",
      .resource = "analysis_run",
      .handler = Wrap([rs](Request& req) -> Result<Response> {
        ZG_ASSIGN_OR_RETURN(Run r, rs->Get(req.path_params.at("id")));
        return Response::Json(200, RunJson(r));
      }),
      .resolve = RunResolver(rs),
  }));

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "GET",
      .pattern = "/api/v1/analysis/runs/{id}/log",
      .action = "analysis_run.log",
      .resource = "analysis_run",
      .handler = Wrap([rs](Request& req) -> Result<Response> {
        const std::string id = req.path_params.at("id");
        ZG_ASSIGN_OR_RETURN(Run r, rs->Get(id));
        ZG_ASSIGN_OR_RETURN(std::string log, rs->Log(id));
        json steps = json::array();
        for (const auto& s : r.steps) {
          json j = StepJson(s);
          j["log"] = s.log;
          steps.push_back(j);
        }
        return Response::Json(200, json{{"id", id}, {"attempt", r.attempt}, {"log", log},
                                        {"steps", steps}});
      }),
      .resolve = RunResolver(rs),
  }));

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "POST",
      .pattern = "/api/v1/analysis/runs/{id}/cancel",
      .action = "analysis_run.write",
      .resource = "analysis_run",
      .max_body_bytes = kMaxRunBodyBytes,
      .handler = Wrap([rs](Request& req) -> Result<Response> {
        ZG_ASSIGN_OR_RETURN(Run r, rs->Cancel(req.path_params.at("id"), RequestActor(req)));
        // A running run stops asynchronously: 202 until the worker has stopped the engine.
        return Response::Json(r.state == "running" ? 202 : 200, RunJson(r));
      }),
      .resolve = RunResolver(rs),
  }));

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "POST",
      .pattern = "/api/v1/analysis/runs/{id}/retry",
      .action = "analysis_run.write",
      .resource = "analysis_run",
      .max_body_bytes = kMaxRunBodyBytes,
      .handler = Wrap([rs](Request& req) -> Result<Response> {
        ZG_ASSIGN_OR_RETURN(Run r, rs->Retry(req.path_params.at("id"), RequestActor(req)));
        return Response::Json(200, RunJson(r));
      }),
      .resolve = RunResolver(rs),
  }));

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "GET",
      .pattern = "/api/v1/analysis/runs/{id}/provenance",
      .action = "analysis_run.read",
      .resource = "analysis_run",
      .handler = Wrap([rs](Request& req) -> Result<Response> {
        ZG_ASSIGN_OR_RETURN(json doc, rs->Provenance(req.path_params.at("id")));
        return Response::Text(200, doc.dump(2), "application/ld+json");
      }),
      .resolve = RunResolver(rs),
  }));

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "GET",
      .pattern = "/api/v1/files/{id}/provenance",
      .action = "file.read",
      .resource = "file",
      .handler = Wrap([rs](Request& req) -> Result<Response> {
        ZG_ASSIGN_OR_RETURN(Run r, rs->RunOfOutput(req.path_params.at("id")));
        ZG_ASSIGN_OR_RETURN(json doc, rs->Provenance(r.id));
        return Response::Text(200, doc.dump(2), "application/ld+json");
      }),
  }));

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "GET",
      .pattern = "/api/v1/analysis/candidates",
      .action = "analysis_run.read",
      .resource = "analysis_run",
      .handler = Wrap([rs](Request& req) -> Result<Response> {
        ZG_ASSIGN_OR_RETURN(auto list, rs->Candidates(policy::ScopeOf(req.subject)));
        json items = json::array();
        for (const auto& c : list) {
          items.push_back({{"specimen_id", c.specimen_id}, {"participant_id", c.participant_id},
                           {"tumour_normal", c.tumour_normal}, {"state", c.state},
                           {"centre", c.centre}});
        }
        return Response::Json(200, json{{"items", items}});
      }),
  }));

  return router.Add({
      .method = "GET",
      .pattern = "/api/v1/analysis/references",
      .action = "analysis_reference.read",
      .resource = "analysis_reference",
      .handler = Wrap([rs](Request&) -> Result<Response> {
        ZG_ASSIGN_OR_RETURN(auto refs, rs->ListReferences());
        json items = json::array();
        for (const auto& g : refs) {
          items.push_back({{"name", g.name}, {"sha256", g.sha256}, {"files", g.files},
                           {"registered_by", g.registered_by},
                           {"registered_at", g.registered_at}});
        }
        return Response::Json(200, json{{"items", items}});
      }),
  });
}

}  // namespace zengen::analysis
