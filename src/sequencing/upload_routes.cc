#include "sequencing/upload_routes.h"

#include <algorithm>

#include <fmt/format.h>

#include "http/route_params.h"

namespace zengen::sequencing {
namespace {

using http::PathParam;
using http::QueryParam;
using http::RequestActor;
using http::Request;
using http::Response;
using genomefiles::DataFileJson;
using http::Wrap;
using nlohmann::json;

// A run named by {id}: the participant's hospital and the run's facility (Uploads::RunResource).
// An unknown or empty id is kNotFound "run_not_found", answered only to callers whose role may
// read runs in their own scope; everyone else gets the denial.
http::Resolver RunResolver(Uploads& uploads) {
  return [&uploads](const Request& req) -> Result<http::Target> {
    const std::string id = PathParam(req, "id");
    if (id.empty()) return NotFound("run_not_found", "no run ''");
    ZG_ASSIGN_OR_RETURN(policy::Resource r, uploads.RunResource(id));
    return http::Target{.resource = std::move(r)};
  };
}

// An upload named by {id}: the participant's hospital and the uploader's organisation
// (Uploads::UploadResource). Unknown or empty ids as for RunResolver ("upload_not_found").
http::Resolver UploadResolver(Uploads& uploads) {
  return [&uploads](const Request& req) -> Result<http::Target> {
    const std::string id = PathParam(req, "id");
    if (id.empty()) return NotFound("upload_not_found", "no upload ''");
    ZG_ASSIGN_OR_RETURN(policy::Resource r, uploads.UploadResource(id));
    return http::Target{.resource = std::move(r)};
  };
}

// Something the caller creates in its own organisation (a run, an upload). The body, which
// names the specimen or run, is read only after the decision, so the decision is on the
// caller's role in its own organisation; Uploads then refuses a specimen the caller's
// organisation does not hold or another facility's run (403 "not_specimen_holder" /
// "not_run_facility", domain rules of custody recorded with the change they refuse).
http::Resolver NewInOwnOrganisation(std::string kind) {
  return [kind = std::move(kind)](const Request& req) -> Result<http::Target> {
    const std::string& org = req.subject.organisation;
    return http::Target{.resource = {kind, "", org, org}};
  };
}

// The runs of one facility: ?organisation= or the caller's own.
Result<http::Target> RunListTarget(const Request& req) {
  std::string org = QueryParam(req, "organisation");
  if (org.empty()) org = req.subject.organisation;
  return http::Target{.resource = {"run", "", org, org}};
}

}  // namespace

Status AddUploadRoutes(http::Router& router, Uploads& uploads) {
  Uploads* up = &uploads;
  // Every route is decided once, before its handler, by the policy filter on what these
  // resolvers find: the handlers hold no access logic.
  const http::Resolver run = RunResolver(uploads);
  const http::Resolver upload = UploadResolver(uploads);
  const http::Resolver new_run = NewInOwnOrganisation("run");
  const http::Resolver new_upload = NewInOwnOrganisation("upload");

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "POST",
      .pattern = "/api/v1/runs",
      .action = "run.write",
      .resource = "run",
      .max_body_bytes = kMaxJsonBodyBytes,
      .handler = Wrap([up](Request& req) -> Result<Response> {
        ZG_ASSIGN_OR_RETURN(json body, http::ParseJsonBody(req));
        ZG_RETURN_IF_ERROR(http::OnlyFields(
            body, {"specimen_id", "instrument_model", "flowcell", "library", "layout"}));
        NewRun n;
        ZG_ASSIGN_OR_RETURN(n.specimen_id, http::JsonString(body, "specimen_id", true));
        ZG_ASSIGN_OR_RETURN(n.instrument_model, http::JsonString(body, "instrument_model", true));
        ZG_ASSIGN_OR_RETURN(n.flowcell, http::JsonString(body, "flowcell", true));
        ZG_ASSIGN_OR_RETURN(n.library, http::JsonString(body, "library", true));
        ZG_ASSIGN_OR_RETURN(n.layout, http::JsonString(body, "layout", true));
        ZG_ASSIGN_OR_RETURN(Run run, up->CreateRun(n, RequestActor(req)));
        json j = RunJson(run);
        j["files"] = json::array();
        return Response::Json(201, j);
      }),
      .resolve = new_run,
  }));

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "GET",
      .pattern = "/api/v1/runs",
      .action = "run.read",
      .resource = "run",
      .handler = Wrap([up](Request& req) -> Result<Response> {
        // The organisation the decision was about (RunListTarget).
        ZG_ASSIGN_OR_RETURN(auto runs, up->ListRuns(req.resolved->resource.organisation));
        json items = json::array();
        for (const auto& r : runs) items.push_back(RunJson(r));
        return Response::Json(200, json{{"items", items}});
      }),
      .resolve = RunListTarget,
  }));

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "GET",
      .pattern = "/api/v1/runs/{id}",
      .action = "run.read",
      .resource = "run",
      .handler = Wrap([up](Request& req) -> Result<Response> {
        const std::string& id = req.path_params.at("id");
        ZG_ASSIGN_OR_RETURN(Run run, up->GetRun(id));
        ZG_ASSIGN_OR_RETURN(auto files, up->files().ListRunFiles(id));
        json j = RunJson(run);
        json list = json::array();
        for (const auto& f : files) list.push_back(DataFileJson(f));
        j["files"] = std::move(list);
        // Open uploads, with the chunks still missing, so an interrupted upload can resume.
        ZG_ASSIGN_OR_RETURN(auto open, up->ListOpenRunUploads(id));
        json uploads = json::array();
        for (const auto& u : open) {
          ZG_ASSIGN_OR_RETURN(UploadProgress p, up->Get(u.id));
          uploads.push_back(UploadJson(p));
        }
        j["open_uploads"] = std::move(uploads);
        return Response::Json(200, j);
      }),
      .resolve = run,
  }));

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "POST",
      .pattern = "/api/v1/uploads",
      .action = "upload.write",
      .resource = "upload",
      .max_body_bytes = kMaxJsonBodyBytes,
      .handler = Wrap([up](Request& req) -> Result<Response> {
        ZG_ASSIGN_OR_RETURN(json body, http::ParseJsonBody(req));
        ZG_RETURN_IF_ERROR(http::OnlyFields(body, {"kind", "run_id", "read", "specimen_id",
                                                   "derived_from", "sample_map", "file_name",
                                                   "size", "sha256", "chunk_size"}));
        NewUpload n;
        ZG_ASSIGN_OR_RETURN(n.kind, http::JsonString(body, "kind", true));
        ZG_ASSIGN_OR_RETURN(n.run_id, http::JsonString(body, "run_id", false));
        ZG_ASSIGN_OR_RETURN(int64_t read, http::JsonInt(body, "read", false, 0));
        if (read < 0 || read > 2) {
          return InvalidArgument("invalid_read", "'read' must be 1 or 2", "read");
        }
        n.read = static_cast<int>(read);
        ZG_ASSIGN_OR_RETURN(n.specimen_id, http::JsonString(body, "specimen_id", false));
        ZG_ASSIGN_OR_RETURN(n.derived_from, http::JsonStringList(body, "derived_from", false));
        if (const auto m = body.find("sample_map"); m != body.end() && !m->is_null()) {
          if (!m->is_object()) {
            return InvalidArgument("invalid_type", "'sample_map' must map sample names to "
                                   "participant ids", "sample_map");
          }
          for (const auto& [sample, pid] : m->items()) {
            if (!pid.is_string()) {
              return InvalidArgument("invalid_type", "'sample_map' values must be strings",
                                     "sample_map");
            }
            n.sample_map[sample] = pid.get<std::string>();
          }
        }
        ZG_ASSIGN_OR_RETURN(n.file_name, http::JsonString(body, "file_name", true));
        ZG_ASSIGN_OR_RETURN(n.size, http::JsonInt(body, "size", true));
        ZG_ASSIGN_OR_RETURN(n.sha256, http::JsonString(body, "sha256", true));
        ZG_ASSIGN_OR_RETURN(n.chunk_size,
                            http::JsonInt(body, "chunk_size", false, kDefaultChunkSize));
        ZG_ASSIGN_OR_RETURN(Upload u, up->Create(n, RequestActor(req)));
        ZG_ASSIGN_OR_RETURN(UploadProgress p, up->Get(u.id));
        return Response::Json(201, UploadJson(p));
      }),
      .resolve = new_upload,
  }));

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "PUT",
      .pattern = "/api/v1/uploads/{id}/chunks/{index}",
      .action = "upload.write",
      .resource = "upload",
      .max_body_bytes = kMaxChunkSize,
      .body_mode = http::BodyMode::kSpooled,
      .handler = Wrap([up](Request& req) -> Result<Response> {
        const std::string& id = req.path_params.at("id");
        if (const std::string ct = req.Header("Content-Type");
            !ct.empty() && ct.rfind("application/octet-stream", 0) != 0) {
          return Error{ErrorKind::kUnsupportedMediaType, "unsupported_media_type",
                       "chunks are sent as application/octet-stream", "Content-Type"};
        }
        const std::string& index_text = req.path_params.at("index");
        int64_t index = -1;
        if (!index_text.empty() && index_text.size() <= 12 &&
            std::all_of(index_text.begin(), index_text.end(),
                        [](unsigned char c) { return std::isdigit(c); })) {
          index = std::stoll(index_text);
        }
        if (index < 0) {
          return InvalidArgument("invalid_chunk_index", "the chunk index must be a number",
                                 "index");
        }
        // The body was spooled (up to 64 MiB): sealed into the staging area a piece at a time.
        ZG_RETURN_IF_ERROR(up->PutChunk(id, index, http::BodySize(req), http::BodyPieces(req),
                                        RequestActor(req)));
        Response r;
        r.status = 204;
        return r;
      }),
      .resolve = upload,
  }));

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "GET",
      .pattern = "/api/v1/uploads/{id}",
      .action = "upload.write",
      .resource = "upload",
      .handler = Wrap([up](Request& req) -> Result<Response> {
        ZG_ASSIGN_OR_RETURN(UploadProgress p, up->Get(req.path_params.at("id")));
        return Response::Json(200, UploadJson(p));
      }),
      .resolve = upload,
  }));

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "POST",
      .pattern = "/api/v1/uploads/{id}/complete",
      .action = "upload.write",
      .resource = "upload",
      .max_body_bytes = kMaxJsonBodyBytes,
      .handler = Wrap([up](Request& req) -> Result<Response> {
        const std::string& id = req.path_params.at("id");
        ZG_ASSIGN_OR_RETURN(Completion c, up->Complete(id, RequestActor(req)));
        json j{{"upload", UploadJson({c.upload, {}, {}})},
               {"file", DataFileJson(c.file)},
               {"run", c.run ? RunJson(*c.run) : json(nullptr)},
               {"custody", c.custody}};
        return Response::Json(200, j);
      }),
      .resolve = upload,
  }));
  return Status::Ok();
}

}  // namespace zengen::sequencing
