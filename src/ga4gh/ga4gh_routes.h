// GA4GH htsget 1.3 and DRS 1.2-compatible endpoints over the stored, encrypted CRAM/BAM/VCF/BCF
// files (R4.3, R4.7; shared/docs/domain/ga4gh.md §1, §3).
//
//   GET /ga4gh/htsget/v1/reads/service-info, /variants/service-info   ga4gh.info (public)
//   GET /ga4gh/htsget/v1/reads/{id}, /variants/{id}                   htsget.read: a ticket
//        ?format=BAM|CRAM|VCF|BCF &class=header &referenceName= &start= &end= &fields= &tags=
//        &notags=
//   POST /ga4gh/htsget/v1/reads/{id}, /variants/{id}                  htsget.read: a ticket for
//        {"format","class","fields","tags","notags",                  several regions at once
//         "regions":[{"referenceName","start","end"}]}  (no query parameters; ≤ 64 KiB body,
//        ≤ 256 regions; the same rules as GET, per region; an empty body is the whole file)
//   GET /ga4gh/htsget/v1/blocks/{id}?start=&end=                      htsget.read: plaintext
//                                                                     bytes [start, end)
//   GET /ga4gh/drs/v1/service-info                                    ga4gh.info (public)
//   GET /ga4gh/drs/v1/objects/{id}                                    drs.read: DrsObject
//   OPTIONS /ga4gh/drs/v1/objects/{id}                                ga4gh.info (public): the
//        authorisation types (BearerAuth; the same answer for every id)
//   GET /ga4gh/drs/v1/objects/{id}/access/{access_id}                 drs.read: AccessURL
//
// Tickets list https URLs served by zengen itself (on the configured public base URL): the header blocks, the body byte ranges
// that hold the records overlapping the region (genomefiles/slices.h), and the EOF marker, each at most
// kMaxBlockBytes. Block answers stream in 1 MiB pieces with an exact Content-Length (the DRS
// https access URL is one block of the whole object, of any size). Every URL carries "headers": the caller's own Authorization header when
// the ticket was asked for with one (htslib forwards ticket headers), otherwise {}. Each block
// request is authenticated and decided again — once: the routes' resource kind is "file",
// whose resolver is the access gate, so the policy filter takes one decision and writes one
// audit record per request (for a multi-sample file the gate also selects the visible samples
// and names them in that record) — and a withdrawal, an
// expired or a revoked grant stops the very next block.
//
// Errors: htsget's {"htsget":{"error","message"}} with its status codes (InvalidInput,
// InvalidRange, UnsupportedFormat 400; InvalidAuthentication 401; PermissionDenied 403;
// NotFound 404), DRS's {"msg","status_code"} — also for the refusals of the filter chain
// (authentication and policy), through each route's Route::refuse.
//
// A requested format must be the stored one (no transcoding): a CRAM is served as CRAM.
#pragma once

#include <functional>

#include "blobs/blobs.h"
#include "http/filters.h"
#include "http/http.h"
#include "genomefiles/files.h"

namespace zengen::ga4gh {

inline constexpr int64_t kMaxBlockBytes = int64_t{64} << 20;

struct Ga4ghSources {
  genomefiles::Files& files;  // the registry, and the key its files are stored under
  blobs::BlobStore& blobs;
  // The configured public base URL (common/config.h PublicBaseUrl), e.g.
  // "https://zengen.example.jp": ticket and access URLs are built from it alone, never from the
  // request's Host header, so a forged Host cannot send the caller's token elsewhere. Read per
  // request (the port is known only once the server is bound).
  std::function<std::string()> public_base_url;
};

Status AddGa4ghRoutes(http::Router& router, Ga4ghSources sources);

}  // namespace zengen::ga4gh
