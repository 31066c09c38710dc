// The executor port: runs one CWL workflow invocation to its end under an existing workflow
// engine (issue 16; R3.3 uniform analysis, R3.10 supercomputer first). Zengen owns runs,
// inputs, outputs, provenance and policy; the engine owns steps, their order, retries and
// resumption. Two adapters:
//
//   - local: `cwltool` on this machine (the embedded default, used by `zengen demo`);
//   - slurm, mode per_step: `toil-cwl-runner --batchSystem slurm`, whose leader runs here and
//     submits every step as a Slurm job, then polls squeue/scontrol (no slurmdbd: sacct is not
//     needed);
//   - slurm, mode per_run (configuration value `slurm_allocation`): the whole run is ONE Slurm
//     job (`sbatch --parsable`) whose batch script runs `cwltool` on the allocated node, in the
//     run's scratch directory (which the nodes share). Zengen polls `scontrol show job`, tails
//     the engine's log from scratch, reads the engine's output object from scratch and cancels
//     with `scancel`. It saves Toil's fixed cost per run on Slurm (leader bookkeeping, a worker
//     start and a scheduling cycle per step) and loses per-step resource requests and the
//     spreading of one run's steps over several nodes.
//
// Both run the same workflow file unchanged. A job's engine process runs in its own process
// group with the scratch directory as its working directory; its log (stderr, ANSI colours
// removed) is streamed line by line to the caller, its stdout is the engine's output object.
//
// The bounded process pool is the caller's (analysis::Runs starts at most `workers` jobs at a
// time); an Executor itself is stateless and thread-safe.
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace zengen::analysis {

struct Job {
  std::string run_id;               // names the job in the engine's logs and on Slurm
  std::filesystem::path workflow;   // the pipeline's top-level .cwl
  std::filesystem::path inputs;     // the job order (JSON) in the scratch directory
  std::filesystem::path scratch;    // per-run directory (0700); outputs go to scratch/out
  int threads = 1;
};

struct JobResult {
  int exit_code = 0;           // the engine's exit status; 128+N when killed by signal N
  bool cancelled = false;      // stopped because `cancel` became true
  nlohmann::json outputs;      // the engine's CWL output object (null unless exit_code == 0)
  std::string node;            // where the steps ran (host name; the Slurm node list)
  std::string job_id;          // per_run: the run's Slurm job id; empty otherwise
};

class Executor {
 public:
  virtual ~Executor() = default;
  // "local" | "slurm".
  virtual std::string name() const = 0;
  // How the executor maps a run onto its scheduler: "" (local), "per_step" or "per_run" (slurm).
  virtual std::string mode() const { return ""; }
  // After a restart: stops whatever the scheduler still runs for `run_id` (the run itself is
  // marked interrupted by the caller). A no-op for the local executor, whose engine stopped
  // with the server's process group.
  virtual void Abandon(const std::string& run_id) { (void)run_id; }
  // The engine and its version, e.g. "cwltool 3.1.20230209161050".
  virtual std::string EngineVersion() const = 0;
  // Runs the job to its end. on_line receives each line of the engine's log, in order, from the
  // calling thread. When `cancel` becomes true the engine's process group is sent SIGTERM, then
  // SIGKILL after a grace period, and (slurm) the run's Slurm jobs are cancelled; the result
  // then has cancelled = true. Errors: kInternal "spawn_failed" when the engine cannot be
  // started. A failing workflow is not an error: exit_code says so and the log says why.
  virtual Result<JobResult> Run(const Job& job,
                                const std::function<void(std::string_view line)>& on_line,
                                const std::atomic<bool>& cancel) = 0;
};

// Where a File output of the engine's output object lies on this machine: cwltool gives
// "path", toil only "location" (a file:// URL). Empty when neither is there.
std::string OutputFilePath(const nlohmann::json& file);

// cwltool on this machine. `program` is the cwltool executable (tests may pass a wrapper).
std::unique_ptr<Executor> LocalExecutor(std::string program = "cwltool");
// toil-cwl-runner with the slurm batch system; SLURM_CONF comes from the environment.
std::unique_ptr<Executor> SlurmExecutor(std::string program = "toil-cwl-runner");
// cwltool inside one Slurm allocation per run (mode per_run). `program` is the cwltool
// executable as the allocated node sees it (tests may pass a wrapper); SLURM_CONF comes from
// the environment. The allocation asks for the maximum over the pipeline's steps of their
// declared ResourceRequirement (coresMin, ramMin in any .cwl beside the workflow), at least the
// run's threads and 2 GiB, the same floor the per_step mode gives each step.
std::unique_ptr<Executor> SlurmAllocationExecutor(std::string program = "cwltool");
// The adapter named by configuration: "local", "slurm" (per_step) or "slurm_allocation"
// (per_run). Errors: kInvalidArgument
// "invalid_executor" (field "analysis_executor").
Result<std::unique_ptr<Executor>> MakeExecutor(std::string_view name);

// Runs argv to its end (no shell), returns its stdout and exit status (for tool versions).
// Errors: kInternal "spawn_failed".
struct CommandOutput {
  int exit_code = 0;
  std::string out;  // stdout and stderr together
};
Result<CommandOutput> RunCommand(const std::vector<std::string>& argv);

}  // namespace zengen::analysis
