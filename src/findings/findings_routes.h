// HTTP face of findings: filing, steps, messages, the patient report and configuration.
//
//   POST /api/v1/findings                        finding.write      file (201)
//   GET  /api/v1/findings?state=&participant=    finding.read       the caller's findings
//   GET  /api/v1/findings/{id}                   finding.read       one finding with history
//   POST /api/v1/findings/{id}/transitions       finding.transition {event, reason?,
//                                                                    reason_code?, decision?, via?}
//   POST /api/v1/findings/{id}/reclassify        finding.write      {classification, evidence}
//   GET  /api/v1/findings/{id}/messages          finding.read       the thread(s), read receipts
//   POST /api/v1/findings/{id}/messages          finding.message    {type, body, recipient?,
//                                                                    in_reply_to?, from_patient?,
//                                                                    decision?}
//   POST /api/v1/findings/{id}/messages/read     finding.message    {up_to_seq?}
//   GET  /api/v1/findings/{id}/report?lang=ja|en finding.report     printable HTML (hospital)
//   GET  /api/v1/findings-table                  finding.read       the transition table
//   GET  /api/v1/acmg-sf                         finding.read       gene-list versions, active one
//   GET  /api/v1/findings-settings               finding.read
//   PUT  /api/v1/findings-settings               finding.configure  {acmg_sf_version?,
//                                                                    ack_sla_days?,
//                                                                    contact_window_days?}
//   POST /api/v1/findings-escalations            finding.escalate   run the SLA/consent sweep now
//
// Routes about one finding ({id}) are resolved to the concrete resource ({"finding", id, the
// participant's hospital, the analysis centre}: ResolveFinding) and PolicyFilter decides once
// on it, with one audit record; the other routes are decided within the caller's scope
// (http::CallerScope) and act on it. Handlers hold no access logic; Findings then applies the
// table's party and guard checks. A finding the caller's party may not see yet (a hospital
// before it was sent) answers 404, as an unknown id does. The hospital-local patient id appears only in responses to clinicians
// of the participant's hospital (R5.6). Bodies are JSON objects of at most 16 KiB; bad input
// answers 400 naming the field.
#pragma once

#include "findings/findings.h"
#include "http/filters.h"
#include "http/http.h"

namespace zengen::findings {

inline constexpr int64_t kMaxBodyBytes = 16 * 1024;

// Who a finding route's resource admits besides data-center-wide roles: both parties (the
// participant's hospital and the analysis centre that filed it), or the hospital alone (the
// patient report, which names the patient).
enum class FindingAudience { kParties, kHospital };

// The resolver of the routes about one finding ({id}). Errors: kNotFound "finding_not_found"
// for an unknown id, and for a finding the caller's party may not see yet (to the two parties;
// anyone else gets the resource, which the policy refuses).
http::Resolver ResolveFinding(Findings& findings, FindingAudience audience);

Status AddFindingRoutes(http::Router& router, Findings& findings, const Clock& clock);

}  // namespace zengen::findings
