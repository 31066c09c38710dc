// Region rebuilds of the cohort variant store run as jobs (issue 15: "a rebuild of one region
// is a job that can run on the analysis executor (Slurm) when present"; R3.10).
//
// variants::Cohort::RebuildRegion merges a region's live chunks by a MergeJob and checks its
// answer; this file gives the two jobs and the job that chooses the regions:
//   - in process: variants::Merge in the server (the default: a region's merge is a few
//     milliseconds to seconds of memory-bound work, less than a scheduler's start-up);
//   - on the analysis executor (config `variants_rebuild_executor = analysis`): the chunks are
//     written in plaintext to a fresh scratch directory (0700, files 0600, as an analysis run's
//     decrypted inputs), the CWL tool pipelines/variant-rebuild/1.0.0/merge.cwl runs
//     `zengen variants merge-chunks` under the site's engine (cwltool here; Toil submitting the
//     step to Slurm, or one Slurm allocation), its output is read back and decoded, and the
//     scratch directory is removed whatever the outcome. The node must see the scratch
//     directory and the zengen executable at the same paths (as for analysis runs).
#pragma once

#include <filesystem>
#include <functional>
#include <stop_token>
#include <string>
#include <vector>

#include "analysis/executor.h"
#include "app/runtime.h"
#include "variants/cohort.h"

namespace zengen::app {

struct ExecutorMergeOptions {
  std::filesystem::path workflow;     // pipelines/variant-rebuild/1.0.0/merge.cwl
  std::filesystem::path scratch_dir;  // the job's directory is scratch_dir/VR-<job>
  std::filesystem::path zengen;       // the executable the step runs
};

// The merge as a job on `executor` (which must outlive the job). Errors: kInternal
// "rebuild_job_failed" naming the exit status and the log's last lines when the engine fails
// or gives no output; "bad_chunk" when its output does not decode; the executor's errors.
variants::MergeJob ExecutorMergeJob(analysis::Executor& executor, ExecutorMergeOptions options);

// `zengen variants merge-chunks`: reads ZGVC1 chunks, merges them (variants::Merge) and writes
// the result. Errors: kInvalidArgument "unreadable_chunk" naming the file; Decode's and
// Merge's errors; kInternal "write_failed".
Status MergeChunkFiles(const std::vector<std::filesystem::path>& inputs,
                       const std::filesystem::path& out);

// The rebuild job of a runtime: where merges run (config variants_rebuild_executor) and how
// crowded a region must be (config variants_rebuild_chunks).
struct RebuildJob {
  variants::MergeJob merge;
  std::string executor;  // in_process | local | slurm | slurm_allocation
  std::unique_ptr<analysis::Executor> engine;  // when merges run on the analysis executor
};
Result<RebuildJob> MakeRebuildJob(Runtime& r);

struct RebuildPass {
  int64_t regions = 0;  // regions merged
  int64_t chunks = 0;   // live chunks they replaced
  int64_t failed = 0;
};
// Each region's outcome as it ends (a report whose merged_id is "" merged nothing).
using OnRebuilt = std::function<void(const variants::RegionLoad& region,
                                     const Result<variants::RebuildReport>& outcome)>;
// Rebuilds the given regions one after the other. A failing region is counted (and given to
// `on_rebuilt`), the others go on; when `stop` is requested no further region is started (the
// one running finishes).
RebuildPass RebuildRegions(variants::Cohort& cohort, const RebuildJob& job,
                           const std::vector<variants::RegionLoad>& regions, const Actor& actor,
                           const std::string& reason, const OnRebuilt& on_rebuilt = {},
                           std::stop_token stop = {});
// The ingest job's pass: at most `limit` regions holding at least `min_chunks` (at least 2)
// live chunks, most crowded first; failures logged.
Result<RebuildPass> RebuildCrowdedRegions(variants::Cohort& cohort, const RebuildJob& job,
                                          int64_t min_chunks, int64_t limit, const Actor& actor,
                                          const std::string& reason,
                                          std::stop_token stop = {});

// Removes the directories merge jobs left in scratch_dir when the process running them died
// (called when the server's ingest job starts; no job of this server runs then).
void RemoveStaleMergeScratch(const std::filesystem::path& scratch_dir);

}  // namespace zengen::app
