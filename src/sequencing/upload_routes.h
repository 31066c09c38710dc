// HTTP face of sequencing runs, resumable uploads and stored files (R3.5, R3.7–R3.9).
//
//   POST /api/v1/runs                       run.write     open a run {specimen_id,
//                                                         instrument_model, flowcell, library,
//                                                         layout} (201)
//   GET  /api/v1/runs?organisation=         run.read      a facility's runs (default: own)
//   GET  /api/v1/runs/{id}                  run.read      one run with its files
//   POST /api/v1/uploads                    upload.write  open an upload (201): FASTQ {kind,
//                                                         run_id, read, file_name, size,
//                                                         sha256, chunk_size?}; analysis files
//                                                         {kind, specimen_id, derived_from, …}
//   PUT  /api/v1/uploads/{id}/chunks/{i}    upload.write  one chunk, application/octet-stream
//                                                         (204); any order, retries overwrite
//   GET  /api/v1/uploads/{id}               upload.write  status, chunks present and missing
//   POST /api/v1/uploads/{id}/complete      upload.write  ingest and store (200), or reject
//                                                         (4xx naming the reason; 409
//                                                         chunks_missing leaves it resumable)
//   GET  /api/v1/files/{id}                 file.read     metadata, QC report, linkage
//   GET  /api/v1/participants/{id}/files    file.read     a participant's files
//   GET  /api/v1/files/{id}/content         file.download the object as Crypt4GH re-encrypted
//        ?public_key=<base64 X25519 key>                  for the caller's key (header
//        &part=data|index                                 re-encryption only)
//   GET  /api/v1/files/{id}/plaintext       file.decrypt  the plaintext over TLS (the analysis
//        ?part=data|index                                 centre that analyses it)
//
// Every handler asks the Authorizer about the concrete resource ({"run"|"upload"|"file", id,
// the participant's hospital, the holder}); file contents are decided before the handler by
// the policy filter on the access gate's facts (the "file" resolver, access/access.h), which
// carry the participant's live consent (policy denies a fully withdrawn participant's data). Downloads stream: the body
// goes out in ~1 MiB pieces read from the blob store as the client takes them, with an exact
// Content-Length, so an object of any size is served in constant memory; a piece that fails
// (a tampered segment, a copy lost mid-way) closes the connection short of that length.
#pragma once

#include "consent/consent.h"
#include "http/filters.h"
#include "http/http.h"
#include "sequencing/upload.h"

namespace zengen::sequencing {

inline constexpr int64_t kMaxJsonBodyBytes = 16 * 1024;

Status AddUploadRoutes(http::Router& router, Uploads& uploads, blobs::BlobStore& blobs,
                       consent::Ledger& consents, const http::Authorizer& authorizer);

}  // namespace zengen::sequencing
