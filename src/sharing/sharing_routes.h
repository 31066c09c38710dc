// HTTP face of controlled sharing (docs/api.md, "Controlled sharing").
//
//   GET  /api/v1/datasets                          dataset.read       datasets, releases, what the
//                                                                     caller may see (counts)
//   POST /api/v1/datasets                          dataset.write      {name_ja, name_en, program,
//                                                                      group_id, description?}
//   GET  /api/v1/datasets/{id}                     dataset.read       one dataset
//   POST /api/v1/datasets/{id}/files               dataset.write      {participant_ids?, file_ids?,
//                                                                      include_fastq?}
//   GET  /api/v1/datasets/{id}/files?purpose=      dataset.read       the files the caller may
//                                                                     see now (VisibleFiles)
//   POST /api/v1/datasets/{id}/releases            dataset.write      {release_date,
//                                                                      embargo_months?,
//                                                                      public_aggregates_date?}
//   GET  /api/v1/releases?dataset=                 dataset.read       releases with tier now
//   GET  /api/v1/releases/{id}                     dataset.read       one release, tier history
//   GET  /api/v1/releases/{id}/aggregates?field=   portal.read        public counts (tier
//                                                                     public_aggregates only)
//   GET  /api/v1/sharing-rules                     dataset.read       tier table, track rules,
//                                                                     application table, vote rule
//   GET  /api/v1/sharing-settings                  dataset.read       embargo months per program
//   PUT  /api/v1/sharing-settings                  dataset.write      {program, embargo_months}
//   POST /api/v1/sharing-tick                      dataset.write      apply due tier moves now
//   POST /api/v1/applications                      application.write  create a draft
//   GET  /api/v1/applications                      application.read   own / all but drafts
//   GET  /api/v1/applications/{id}                 application.read   detail, history, tally
//   POST /api/v1/applications/{id}/submit          application.write
//   PUT  /api/v1/applications/{id}/documents/{kind} application.document.write  (document_routes.h)
//   GET  /api/v1/applications/{id}/documents/{kind} application.document.read
//   POST /api/v1/applications/{id}/withdraw        application.write  {reason?}
//   GET  /api/v1/applications/{id}/prescreen       application.read   DUO pre-screen per dataset
//   POST /api/v1/applications/{id}/comments        application.review {body}
//   POST /api/v1/applications/{id}/votes           application.review {vote, reason?}
//   POST /api/v1/applications/{id}/decision        application.review apply the decision rule
//   GET  /api/v1/grants                            grant.read         own / all
//   POST /api/v1/grants/{id}/revoke                grant.revoke       {reason}
//   GET  /api/v1/shared-files/{file}/access?purpose= data.access      FileAccessFor the caller
//
// Bodies are JSON objects of at most 64 KiB; unknown fields and bad values answer 400 naming
// the field. Every state change is audited by Sharing; the one access
// decision per request is the route's (its resolver and the policy filter); handlers only
// select what Sharing lets the caller see.
#pragma once

#include <functional>
#include <string_view>

#include "http/filters.h"
#include "http/http.h"
#include "sharing/sharing.h"

namespace zengen::sharing {

inline constexpr int64_t kMaxBodyBytes = 64 * 1024;

// The published document of a release's aggregates, protected together with every other
// public figure (portal::ReleaseAggregatesJson over portal::ComputePublicFigures, wired in
// app/main.cc): (release id, field or "") → JSON.
using PublishedAggregates =
    std::function<Result<nlohmann::json>(std::string_view release_id, std::string_view field)>;

// Without `published`, GET /api/v1/releases/{id}/aggregates protects the release's figures on
// their own (ReleaseOnlyJson): safe by themselves, but not audited against the portal.
Status AddSharingRoutes(http::Router& router, Sharing& sharing, const Clock& clock,
                        PublishedAggregates published = nullptr);

// A release's aggregates published through the disclosure control (portal/suppression.h) as
// the only figures: participants = Σ disease categories = Σ values of the field.
nlohmann::json ReleaseOnlyJson(const Aggregates& a);

// A document's record as the API shows it (never its blob id).
nlohmann::json DocumentJson(const ApplicationDocument& d);

}  // namespace zengen::sharing
