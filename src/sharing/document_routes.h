// HTTP face of an application's documents (issue 14; Sharing::PutDocument, ReadDocument):
//
//   PUT /api/v1/applications/{id}/documents/{kind}?file_name=   application.document.write
//       body: the document's bytes (PDF or UTF-8 plain text, ≤ kMaxDocumentBytes), any
//       Content-Type (the server looks at the bytes); 201 with the document's record
//       {kind, file_name, content_type, size, sha256, uploaded_by, uploaded_at}.
//   GET /api/v1/applications/{id}/documents/{kind}              application.document.read
//       the bytes, Content-Type application/pdf (Content-Disposition inline) or
//       text/plain; charset=utf-8 (attachment), X-Content-Type-Options: nosniff, a sandboxing
//       Content-Security-Policy, Cache-Control: no-store, X-Document-SHA256. Never HTML.
//
// Both routes are resolved by Sharing::DocumentResource (the application's owner; 404 when the
// caller may not see the application) and decided once by the policy filter, whose record is
// the read's audit record; an upload also writes its own record with the change.
#pragma once

#include "http/http.h"
#include "sharing/sharing.h"

namespace zengen::sharing {

// `blobs` must outlive the router.
Status AddApplicationDocumentRoutes(http::Router& router, Sharing& sharing, DocumentBlobs& blobs);

}  // namespace zengen::sharing
