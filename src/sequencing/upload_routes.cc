#include "sequencing/upload_routes.h"

#include <algorithm>

#include <fmt/format.h>

#include "crypto/crypt4gh.h"

namespace zengen::sequencing {
namespace {

using http::RequestActor;
using http::Request;
using http::Response;
using genomefiles::DataFile;
using genomefiles::DataFileJson;
using http::Wrap;
using nlohmann::json;

std::string Query(const Request& req, const std::string& name) {
  const auto it = req.query.find(name);
  return it == req.query.end() ? std::string() : it->second;
}

// The recipient key: base64 of 32 bytes (the body of a Crypt4GH public key file), from the
// public_key query parameter or the Crypt4GH-Public-Key header.
Result<std::string> RecipientKey(const Request& req) {
  std::string b64 = Query(req, "public_key");
  if (b64.empty()) b64 = req.Header("Crypt4GH-Public-Key");
  if (b64.empty()) return std::string();
  std::replace(b64.begin(), b64.end(), ' ', '+');  // '+' decoded as a space in a query
  auto key = crypto::crypt4gh::ParsePublicKey("-----BEGIN CRYPT4GH PUBLIC KEY-----\n" + b64 +
                                              "\n-----END CRYPT4GH PUBLIC KEY-----\n");
  if (!key.ok()) {
    return InvalidArgument("invalid_public_key",
                           "'public_key' must be the base64 of a 32-byte X25519 public key",
                           "public_key");
  }
  return *key;
}

}  // namespace

Status AddUploadRoutes(http::Router& router, Uploads& uploads, blobs::BlobStore& blobs,
                       consent::Ledger& consents, const http::Authorizer& authorizer) {
  const http::Authorizer* authz = &authorizer;
  Uploads* up = &uploads;
  blobs::BlobStore* bs = &blobs;
  (void)consents;  // file contents are decided by the access gate before the handler

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "POST",
      .pattern = "/api/v1/runs",
      .action = "run.write",
      .resource = "run",
      .max_body_bytes = kMaxJsonBodyBytes,
      .handler = Wrap([up, authz](Request& req) -> Result<Response> {
        ZG_ASSIGN_OR_RETURN(json body, http::ParseJsonBody(req));
        ZG_RETURN_IF_ERROR(http::OnlyFields(
            body, {"specimen_id", "instrument_model", "flowcell", "library", "layout"}));
        NewRun n;
        ZG_ASSIGN_OR_RETURN(n.specimen_id, http::JsonString(body, "specimen_id", true));
        ZG_ASSIGN_OR_RETURN(n.instrument_model, http::JsonString(body, "instrument_model", true));
        ZG_ASSIGN_OR_RETURN(n.flowcell, http::JsonString(body, "flowcell", true));
        ZG_ASSIGN_OR_RETURN(n.library, http::JsonString(body, "library", true));
        ZG_ASSIGN_OR_RETURN(n.layout, http::JsonString(body, "layout", true));
        ZG_RETURN_IF_ERROR(authz->Check(req, "run.write",
                                        {"run", "", req.subject.organisation,
                                         req.subject.organisation}));
        ZG_ASSIGN_OR_RETURN(Run run, up->CreateRun(n, RequestActor(req)));
        json j = RunJson(run);
        j["files"] = json::array();
        return Response::Json(201, j);
      }),
  }));

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "GET",
      .pattern = "/api/v1/runs",
      .action = "run.read",
      .resource = "run",
      .handler = Wrap([up, authz](Request& req) -> Result<Response> {
        std::string org = Query(req, "organisation");
        if (org.empty()) org = req.subject.organisation;
        ZG_RETURN_IF_ERROR(authz->Check(req, "run.read", {"run", "", org, org}));
        ZG_ASSIGN_OR_RETURN(auto runs, up->ListRuns(org));
        json items = json::array();
        for (const auto& r : runs) items.push_back(RunJson(r));
        return Response::Json(200, json{{"items", items}});
      }),
  }));

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "GET",
      .pattern = "/api/v1/runs/{id}",
      .action = "run.read",
      .resource = "run",
      .handler = Wrap([up, authz](Request& req) -> Result<Response> {
        const std::string& id = req.path_params.at("id");
        ZG_ASSIGN_OR_RETURN(auto resource, up->RunResource(id));
        ZG_RETURN_IF_ERROR(authz->Check(req, "run.read", resource));
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
  }));

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "POST",
      .pattern = "/api/v1/uploads",
      .action = "upload.write",
      .resource = "upload",
      .max_body_bytes = kMaxJsonBodyBytes,
      .handler = Wrap([up, authz](Request& req) -> Result<Response> {
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
        policy::Resource resource{"upload", "", req.subject.organisation,
                                  req.subject.organisation};
        if (!n.run_id.empty()) {
          auto run = up->RunResource(n.run_id);
          if (run.ok()) resource = {"upload", "", run->organisation, run->holder};
        }
        ZG_RETURN_IF_ERROR(authz->Check(req, "upload.write", resource));
        ZG_ASSIGN_OR_RETURN(Upload u, up->Create(n, RequestActor(req)));
        ZG_ASSIGN_OR_RETURN(UploadProgress p, up->Get(u.id));
        return Response::Json(201, UploadJson(p));
      }),
  }));

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "PUT",
      .pattern = "/api/v1/uploads/{id}/chunks/{index}",
      .action = "upload.write",
      .resource = "upload",
      .max_body_bytes = kMaxChunkSize,
      .body_mode = http::BodyMode::kSpooled,
      .handler = Wrap([up, authz](Request& req) -> Result<Response> {
        const std::string& id = req.path_params.at("id");
        ZG_ASSIGN_OR_RETURN(auto resource, up->UploadResource(id));
        ZG_RETURN_IF_ERROR(authz->Check(req, "upload.write", resource));
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
  }));

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "GET",
      .pattern = "/api/v1/uploads/{id}",
      .action = "upload.write",
      .resource = "upload",
      .handler = Wrap([up, authz](Request& req) -> Result<Response> {
        const std::string& id = req.path_params.at("id");
        ZG_ASSIGN_OR_RETURN(auto resource, up->UploadResource(id));
        ZG_RETURN_IF_ERROR(authz->Check(req, "upload.write", resource));
        ZG_ASSIGN_OR_RETURN(UploadProgress p, up->Get(id));
        return Response::Json(200, UploadJson(p));
      }),
  }));

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "POST",
      .pattern = "/api/v1/uploads/{id}/complete",
      .action = "upload.write",
      .resource = "upload",
      .max_body_bytes = kMaxJsonBodyBytes,
      .handler = Wrap([up, authz](Request& req) -> Result<Response> {
        const std::string& id = req.path_params.at("id");
        ZG_ASSIGN_OR_RETURN(auto resource, up->UploadResource(id));
        ZG_RETURN_IF_ERROR(authz->Check(req, "upload.write", resource));
        ZG_ASSIGN_OR_RETURN(Completion c, up->Complete(id, RequestActor(req)));
        json j{{"upload", UploadJson({c.upload, {}, {}})},
               {"file", DataFileJson(c.file)},
               {"run", c.run ? RunJson(*c.run) : json(nullptr)},
               {"custody", c.custody}};
        return Response::Json(200, j);
      }),
  }));

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "GET",
      .pattern = "/api/v1/files/{id}",
      .action = "file.read",
      .resource = "file",
      .handler = Wrap([up, authz](Request& req) -> Result<Response> {
        const std::string& id = req.path_params.at("id");
        ZG_ASSIGN_OR_RETURN(auto resource, up->files().FileResource(id));
        ZG_RETURN_IF_ERROR(authz->Check(req, "file.read", resource));
        ZG_ASSIGN_OR_RETURN(DataFile f, up->files().GetFile(id));
        return Response::Json(200, DataFileJson(f));
      }),
  }));

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "GET",
      .pattern = "/api/v1/participants/{id}/files",
      .action = "file.read",
      .resource = "participant",
      .handler = Wrap([up, authz](Request& req) -> Result<Response> {
        const std::string& pid = req.path_params.at("id");
        ZG_ASSIGN_OR_RETURN(auto files, up->files().ListFiles(pid));
        // One decision per file: a facility sees the files of specimens it holds.
        json items = json::array();
        bool any_denied = false;
        for (const auto& f : files) {
          ZG_ASSIGN_OR_RETURN(auto resource, up->files().FileResource(f));
          if (authz->Check(req, "file.read", resource).ok()) {
            items.push_back(DataFileJson(f));
          } else {
            any_denied = true;
          }
        }
        if (items.empty() && any_denied) {
          return PermissionDenied("forbidden", "none of this participant's files is yours");
        }
        if (files.empty()) {
          ZG_RETURN_IF_ERROR(
              authz->Check(req, "file.read", {"participant", pid, "*", "*"}));
        }
        return Response::Json(200, json{{"items", items}});
      }),
  }));

  // Both deliveries share one handler; `decrypt` picks the plaintext one.
  auto deliver = [up, bs](Request& req, bool decrypt) -> Result<Response> {
    const std::string action = decrypt ? "file.decrypt" : "file.download";
    const std::string& id = req.path_params.at("id");
    ZG_ASSIGN_OR_RETURN(DataFile f, up->files().GetFile(id));
    // Decided before the handler, once, by the policy filter on the access gate's facts (the
    // "file" resolver: custody holder and live consent).
    const std::string part = Query(req, "part").empty() ? "data" : Query(req, "part");
    if (part != "data" && part != "index") {
      return InvalidArgument("invalid_parameter", "'part' must be data or index", "part");
    }
    const std::string blob = part == "data" ? f.blob_id : f.index_blob_id;
    if (blob.empty()) return NotFound("index_not_found", fmt::format("{} has no index", id));
    std::string key;
    if (!decrypt) {
      ZG_ASSIGN_OR_RETURN(key, RecipientKey(req));
      if (key.empty()) {
        return InvalidArgument("missing_field",
                               "'public_key' (base64 of your Crypt4GH X25519 public key) is "
                               "required",
                               "public_key");
      }
    }
    ZG_ASSIGN_OR_RETURN(genomefiles::ObjectStream stream,
                        genomefiles::OpenObjectStream(*bs, blob, up->keys(), key));
    Response r;
    r.headers["Content-Type"] =
        decrypt ? "application/octet-stream" : std::string(genomefiles::kCrypt4ghMediaType);
    r.content_length = stream.length;
    r.body_source = std::move(stream.next);
    const std::string name = part == "index" ? f.file_name + "." + f.index_kind : f.file_name;
    r.headers["Content-Disposition"] =
        fmt::format("attachment; filename=\"{}{}\"", name, decrypt ? "" : ".c4gh");
    r.headers["Cache-Control"] = "no-store";
    return r;
  };

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "GET",
      .pattern = "/api/v1/files/{id}/content",
      .action = "file.download",
      .resource = "file",
      .handler = Wrap([deliver](Request& req) { return deliver(req, false); }),
  }));

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "GET",
      .pattern = "/api/v1/files/{id}/plaintext",
      .action = "file.decrypt",
      .resource = "file",
      .handler = Wrap([deliver](Request& req) { return deliver(req, true); }),
  }));
  return Status::Ok();
}

}  // namespace zengen::sequencing
