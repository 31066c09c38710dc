#include "genomefiles/file_routes.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "crypto/crypt4gh.h"
#include "genomefiles/object.h"
#include "http/route_params.h"

namespace zengen::genomefiles {
namespace {

using http::QueryParam;
using http::Request;
using http::Response;
using http::Wrap;
using nlohmann::json;

// The recipient key: base64 of 32 bytes (the body of a Crypt4GH public key file), from the
// public_key query parameter or the Crypt4GH-Public-Key header.
Result<std::string> RecipientKey(const Request& req) {
  std::string b64 = QueryParam(req, "public_key");
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

Status AddFileRoutes(http::Router& router, Files& files, blobs::BlobStore& blobs,
                     access::Gate& gate) {
  Files* fs = &files;
  blobs::BlobStore* bs = &blobs;
  // Every route names a file by {id} and is resolved by the gate: the policy filter decides on
  // its facts before the handler runs.
  const http::Resolver file = gate.FileResolver();

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "GET",
      .pattern = "/api/v1/files/{id}",
      .action = "file.read",
      .resource = "file",
      .handler = Wrap([fs](Request& req) -> Result<Response> {
        ZG_ASSIGN_OR_RETURN(DataFile f, fs->GetFile(req.path_params.at("id")));
        return Response::Json(200, DataFileJson(f));
      }),
      .resolve = file,
  }));

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "GET",
      .pattern = "/api/v1/participants/{id}/files",
      .action = "file.read",
      .resource = "participant",
      .handler = Wrap([fs](Request& req) -> Result<Response> {
        // The rows the gate selected and the audit record names (a file registered since is
        // not shown: it was not part of the decision). Data selection, not a decision.
        const auto listed = access::Gate::ListedFileIds(req);
        const std::set<std::string> keep(listed.begin(), listed.end());
        ZG_ASSIGN_OR_RETURN(auto all, fs->ListFiles(req.path_params.at("id")));
        json items = json::array();
        for (const auto& f : all) {
          if (keep.count(f.id) != 0) items.push_back(DataFileJson(f));
        }
        return Response::Json(200, json{{"items", items}});
      }),
      .resolve = gate.ParticipantFilesResolver(),
  }));

  // Both deliveries share one handler; `decrypt` picks the plaintext one.
  auto deliver = [fs, bs](Request& req, bool decrypt) -> Result<Response> {
    const std::string& id = req.path_params.at("id");
    ZG_ASSIGN_OR_RETURN(DataFile f, fs->GetFile(id));
    const std::string part = QueryParam(req, "part").empty() ? "data" : QueryParam(req, "part");
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
    ZG_ASSIGN_OR_RETURN(ObjectStream stream, OpenObjectStream(*bs, blob, fs->keys(), key));
    Response r;
    r.headers["Content-Type"] =
        decrypt ? "application/octet-stream" : std::string(kCrypt4ghMediaType);
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
      .resolve = file,
  }));

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "GET",
      .pattern = "/api/v1/files/{id}/plaintext",
      .action = "file.decrypt",
      .resource = "file",
      .handler = Wrap([deliver](Request& req) { return deliver(req, true); }),
      .resolve = file,
  }));
  return Status::Ok();
}

}  // namespace zengen::genomefiles
