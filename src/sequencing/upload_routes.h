// HTTP face of sequencing runs and resumable uploads (R3.5, R3.7).
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
//
// Genome files (metadata, listings, bytes) are served by genomefiles/file_routes.h.
//
// The handlers hold no access logic (issue 12): each route declares its resolver, and
// http::PolicyFilter decides once on what it finds and writes one audit record before the
// handler runs. A run or upload named by {id} is resolved to its real owners ({"run"|"upload",
// id, the participant's hospital, the run's facility or the uploader's organisation}), so
// another facility's id is denied (403) and an unknown or empty id is 404 only to a caller whose
// role may act in its own scope (403 to everyone else). The run listing is decided on the
// organisation it lists (?organisation=, default the caller's own). Creating a run or upload is
// decided on the caller's role in its own organisation (the body is read after the decision);
// Uploads then refuses a specimen the organisation does not hold or another facility's run.
#pragma once

#include "http/http.h"
#include "sequencing/upload.h"

namespace zengen::sequencing {

inline constexpr int64_t kMaxJsonBodyBytes = 16 * 1024;

// Adds the routes above. `uploads` must outlive the router.
Status AddUploadRoutes(http::Router& router, Uploads& uploads);

}  // namespace zengen::sequencing
