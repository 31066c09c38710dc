// HTTP face of analysis runs (issue 16).
//
//   POST /api/v1/analysis/runs              analysis_run.write {specimen_id, reference,
//                                           pipeline?, version?} (201): start a run
//   GET  /api/v1/analysis/runs              analysis_run.read  the runs of the caller's centre
//                                           (every centre for data stewards), with step k of n
//   GET  /api/v1/analysis/runs/{id}         analysis_run.read  one run with its steps
//   GET  /api/v1/analysis/runs/{id}/log     analysis_run.log   the engine's log and per-step
//                                           logs (the analysis centre only)
//   POST /api/v1/analysis/runs/{id}/cancel  analysis_run.write
//   POST /api/v1/analysis/runs/{id}/retry   analysis_run.write (a failed run)
//   GET  /api/v1/analysis/runs/{id}/provenance analysis_run.read  RO-Crate/PROV JSON-LD
//   GET  /api/v1/files/{id}/provenance      file.read          the same, for an output file
//   GET  /api/v1/analysis/references        analysis_reference.read  registered references
//
// A run's routes resolve {"analysis_run", id, the participant's hospital, the centre}, so the
// policy admits the centre's analysts and data stewards; starting and listing are decided in
// the caller's scope and the module checks the ordered centre itself.
#pragma once

#include "analysis/analysis.h"
#include "http/http.h"

namespace zengen::analysis {

nlohmann::json RunJson(const Run& r);

Status AddAnalysisRoutes(http::Router& router, Runs& runs);

}  // namespace zengen::analysis
