#include "sharing/document_routes.h"

#include <fmt/format.h>

#include <cctype>

#include "http/filters.h"
#include "sharing/sharing_routes.h"

namespace zengen::sharing {
namespace {

using http::Request;
using http::Response;

// The body limit of an upload: the largest document and nothing more.
constexpr int64_t kMaxUploadBody = kMaxDocumentBytes;

// The RFC 6266 filename* parameter: UTF-8, percent-encoded.
std::string EncodedFileName(std::string_view name) {
  std::string out;
  for (unsigned char c : name) {
    if (std::isalnum(c) || c == '.' || c == '-' || c == '_') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

}  // namespace

Status AddApplicationDocumentRoutes(http::Router& router, Sharing& sharing, DocumentBlobs& blobs) {
  Sharing* sh = &sharing;
  DocumentBlobs* store = &blobs;
  http::Resolver resolve = http::ResolveWith([sh](const Request& req) {
    return sh->DocumentResource(req.path_params.at("id"), req.path_params.at("kind"),
                                http::RequestActor(req));
  });

  ZG_RETURN_IF_ERROR(router.Add(
      {.method = "PUT",
       .pattern = "/api/v1/applications/{id}/documents/{kind}",
       .action = "application.document.write",
       .resource = "application_document",
       .max_body_bytes = kMaxUploadBody,
       .body_mode = http::BodyMode::kSpooled,
       .handler = http::Wrap([sh, store](Request& req) -> Result<Response> {
         const auto name = req.query.find("file_name");
         if (name == req.query.end() || name->second.empty()) {
           return InvalidArgument("missing_field", "'file_name' is required", "file_name");
         }
         ZG_ASSIGN_OR_RETURN(std::string bytes, http::ReadBodyText(req));
         ZG_ASSIGN_OR_RETURN(
             ApplicationDocument doc,
             sh->PutDocument(req.path_params.at("id"), req.path_params.at("kind"), name->second,
                             bytes, *store, http::RequestActor(req)));
         return Response::Json(201, DocumentJson(doc));
       }),
       .resolve = resolve}));

  ZG_RETURN_IF_ERROR(router.Add(
      {.method = "GET",
       .pattern = "/api/v1/applications/{id}/documents/{kind}",
       .action = "application.document.read",
       .resource = "application_document",
       .handler = http::Wrap([sh, store](Request& req) -> Result<Response> {
         ZG_ASSIGN_OR_RETURN(auto read,
                             sh->ReadDocument(req.path_params.at("id"), req.path_params.at("kind"),
                                              *store, http::RequestActor(req)));
         const ApplicationDocument& doc = read.first;
         const bool pdf = doc.content_type == "application/pdf";
         Response r;
         r.status = 200;
         r.body = std::move(read.second);
         // Only the two types the upload accepted, never one the browser would run.
         r.headers["Content-Type"] = pdf ? "application/pdf" : "text/plain; charset=utf-8";
         r.headers["Content-Disposition"] =
             fmt::format("{}; filename*=UTF-8''{}", pdf ? "inline" : "attachment",
                         EncodedFileName(doc.file_name));
         r.headers["X-Content-Type-Options"] = "nosniff";
         r.headers["Content-Security-Policy"] = "default-src 'none'; sandbox";
         r.headers["Cache-Control"] = "no-store";
         r.headers["X-Document-SHA256"] = doc.sha256;
         return r;
       }),
       .resolve = resolve}));
  return Status::Ok();
}

}  // namespace zengen::sharing
