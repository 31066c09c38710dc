// Uniform analysis (issue 16; R3.3 uniform quality, R3.7 FASTQ linked to its CRAM/VCF, R3.10
// supercomputer first, R2.7 genome data only in the isolated area): analysis runs of a
// versioned CWL pipeline on a specimen's QC-passed FASTQ pair, executed by a workflow engine
// behind the Executor port (executor.h), with outputs registered in the genome-file registry.
//
// A run's life is a transition table (RunTable()), tested row by row:
//
//   queued --(a worker takes it)--> running --(engine success, outputs registered)--> succeeded
//     |                               |--(engine failure, registration error)-----> failed
//     +--(cancel)--> cancelled <------+--(cancel)                                      |
//                                                                   queued <--(retry)--+
//
// `succeeded` and `cancelled` are terminal; a failed run may be retried (a new attempt of the
// whole workflow: the engine itself owns step-level retries). A run found `running` when the
// process starts (it died) becomes failed "interrupted" and its scratch directory is wiped.
//
// Who: an analyst of the analysis centre named by the specimen's open analysis order (or the
// centre already holding the analysed specimen), or a data steward (the data centre's
// operator), who starts it for that centre. Starting checks, in order: input; the pipeline and
// the reference exist; the specimen; the centre; a QC-passed paired FASTQ run; the
// participant's live consent through the access gate (withdrawn: refused 409
// participant_withdrawn naming the field, audited, as findings refuse a withdrawn participant).
// When a specimen is still qc_passed the centre takes custody (qc_passed -> analysed) in the
// run's name before a worker takes the run: only the holder may read the FASTQ (the gate's
// rule). Crash point: the run is recorded first, with custody_pending (its claim on the
// specimens), then each specimen moves in its own custody step, then custody_pending clears;
// workers take only runs without it, and Recover applies the moves a crash left undone, so a
// specimen never stays analysed without its run going ahead. A move refused meanwhile (a race)
// cancels the run with the error.
//
// Data path. A worker (at most `workers` at a time: the bounded pool) decrypts the inputs only
// into a per-run scratch directory (0700, files 0600), asks the gate again, runs the engine,
// and registers the CRAM and the VCF.gz through the genome-file registry (registry.h: the
// sanitiser, Crypt4GH encryption, index, linked to the FASTQ and the specimen). The scratch
// directory is removed when the run ends, fails or is cancelled. A cancellation is honoured up
// to the start of registration; from then the run finishes (registration is short), so no
// output is ever half-registered by a cancel.
//
// Audit: analysis.run.start (the request, allow/deny), analysis.run.state (every transition,
// in the transaction of the change), analysis.step (each step's start and end, as the engine
// reports them), analysis.output (each registered output), plus the registry's own records.
//
// Provenance: per run (so per output), a JSON-LD document using the RO-Crate 1.1 context and
// W3C PROV terms: pipeline and version, engine and version, tool versions, parameters,
// reference name and checksum, input and output SHA-256, executor, node, start and end.
//
// Thread safety: thread-safe. All state is in the metadata store; workers are internal threads
// started by StartWorkers and stopped by the destructor.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "access/access.h"
#include "analysis/executor.h"
#include "common/actor.h"
#include "common/audit_event.h"
#include "common/clock.h"
#include "common/result.h"
#include "policy/policy.h"
#include "specimens/specimens.h"
#include "storage/store.h"

namespace zengen::analysis {

class Registry;  // registry.h: the genome-file registry as this module uses it
class EarlyOutputs;  // analysis.cc: outputs sanitised while the engine still runs

inline constexpr std::string_view kRunStates[] = {"queued", "running", "succeeded", "failed",
                                                  "cancelled"};

struct RunTransition {
  std::string_view from;
  std::string_view to;
  std::string_view event;  // "take" | "succeed" | "fail" | "cancel" | "retry" | "interrupt"
  std::string_view by;     // "worker" | "requester" | "recovery"
};
// The run state machine, one row per allowed step.
const std::vector<RunTransition>& RunTable();
const RunTransition* FindRunTransition(std::string_view from, std::string_view event);

// A pipeline known to this server: pipelines/<name>/<version>/<name>.cwl with its steps.
struct Pipeline {
  std::string name;
  std::string version;
  std::vector<std::string> steps;  // in order, for "step k of n"
  // A tumour/normal pair pipeline (somatic): the run names a tumour specimen (specimen_id) and
  // a normal specimen of the same participant (normal_specimen_id).
  bool pair = false;
};
const std::vector<Pipeline>& KnownPipelines();

struct ReferenceGenome {
  std::string name;              // [A-Za-z0-9._-], 1-64
  std::string sha256;            // of the FASTA
  nlohmann::json files;          // {".fa": sha256, ".fa.fai": …, ".fa.bwt": …}
  std::filesystem::path fasta;   // <references_dir>/<name>/ref.fa
  std::string registered_by;
  std::string registered_at;
};

// For readers outside the module (the cohort store left-aligns each VCF against the reference
// it was made with): the reference name of the analysis run that produced file_id ("" when no
// run did), and a registered reference's FASTA by name (nullopt when none is registered).
Result<std::string> ReferenceOfOutput(storage::Store& store, std::string_view file_id);
Result<std::optional<std::filesystem::path>> RegisteredReferenceFasta(storage::Store& store,
                                                                     std::string_view name);

struct Step {
  std::string name;
  std::string state;  // pending | running | succeeded | failed
  std::string started_at;
  std::string ended_at;
  std::string log;    // the engine's lines about this step (tail, at most kMaxLogBytes)
};

struct Run {
  std::string id;  // "AR-" + 16 upper-case hex
  std::string specimen_id;         // the tumour of a pair run
  std::string normal_specimen_id;  // the normal of a pair run; empty otherwise
  std::string participant_id;
  std::string hospital;
  std::string centre;
  std::string pipeline;
  std::string pipeline_version;
  std::string reference;
  std::string reference_sha256;
  std::string executor;
  std::string state;
  int attempt = 1;
  int steps_done = 0;
  int steps_total = 0;
  // FASTQ file ids (read 1, read 2; a pair run: the tumour's then the normal's).
  std::vector<std::string> inputs;
  // Registered file ids (CRAM, VCF; a pair run: tumour CRAM, normal CRAM, somatic VCF).
  std::vector<std::string> outputs;
  nlohmann::json error;              // null, or {"code", "message"}
  std::string node;
  std::string created_by;
  std::string created_at;
  std::string started_at;
  std::string ended_at;
  std::vector<Step> steps;  // of the current attempt (filled by Get)
};

struct NewRun {
  std::string specimen_id;
  std::string pipeline = "germline";
  std::string version = "1.0.0";
  std::string reference;
  std::string normal_specimen_id;  // required by a pair pipeline, refused by the others
};

struct Options {
  std::filesystem::path pipelines_dir;   // the repository's pipelines/ (or an installed copy)
  std::filesystem::path references_dir;  // registered references live here
  std::filesystem::path scratch_dir;     // per-run scratch directories
  int workers = 1;                       // runs executing at once
  int threads = 1;                       // per run
  // Per-site setting: when not empty, a specimen that passed QC and has an open analysis order
  // gets a germline run on this reference by itself (in the ordered centre's name, requested
  // by "system"); workers look for such specimens between runs.
  std::string auto_start_reference;
};

// The pipelines directory: `configured` when set, else the pipelines/ of the source tree the
// binary was built in (the binary's parent or grandparent holds it); empty when none.
std::filesystem::path FindPipelines(const std::filesystem::path& configured,
                                    const std::filesystem::path& binary);

inline constexpr size_t kMaxLogBytes = 64 * 1024;

class Runs {
 public:
  // Every reference must outlive the object. Makes the directories (0700). Does not start
  // workers: call Recover, then StartWorkers.
  Runs(storage::Store& store, const Clock& clock, AuditSink& audit,
       specimens::Specimens& specimens, access::Gate& gate, Registry& registry,
       std::unique_ptr<Executor> executor, Options options);
  ~Runs();
  Runs(const Runs&) = delete;
  Runs& operator=(const Runs&) = delete;

  // Registers a reference genome from a FASTA file: copies it, builds the .fai (samtools
  // faidx) and the bwa index, records every file's SHA-256. Errors: kInvalidArgument
  // "invalid_name" / "invalid_fasta"; kConflict "reference_exists"; kPermissionDenied
  // "not_data_steward" unless the actor is a data steward or "cli"/"system".
  Result<ReferenceGenome> RegisterReference(std::string_view name,
                                            const std::filesystem::path& fasta,
                                            const Actor& actor);
  Result<std::vector<ReferenceGenome>> ListReferences();

  // Starts a run (see the header comment). Errors: kInvalidArgument "missing_field" /
  // "unknown_pipeline" (field pipeline) / "unknown_reference" (field reference);
  // kNotFound "specimen_not_found"; kPermissionDenied "not_ordered_centre" (audited);
  // kConflict "invalid_specimen_state" (not qc_passed or analysed), "no_qc_passed_fastq",
  // "participant_withdrawn" (audited), "run_active" (a queued or running run of the specimen).
  // A pair pipeline (somatic) also checks the normal specimen, each refusal a kInvalidArgument
  // naming the field: "missing_field" (normal_specimen_id), "pair_same_specimen" (the same
  // specimen twice), "pair_participant_mismatch" (another participant's), "pair_not_tumour_normal"
  // (specimen_id is not a tumour or normal_specimen_id not a normal), "specimen_not_ordered"
  // (the run's centre has no open analysis order for the normal and does not hold it; audited);
  // then the normal's state, FASTQ pair and consent as for the tumour. A single-specimen pipeline
  // refuses normal_specimen_id ("unexpected_field"). Both specimens move to analysed (see the
  // header comment: the run is recorded first, custody follows). A refusal about the normal's
  // own FASTQ pair or state names normal_specimen_id.
  Result<Run> Start(const NewRun& n, const Actor& actor);
  // Errors: kNotFound "run_not_found".
  Result<Run> Get(std::string_view id);
  // Runs of one centre (all for kEveryOrganisation), newest first.
  Result<std::vector<Run>> List(std::string_view centre);
  // Cancels a queued or running run. Errors: kNotFound; kConflict "invalid_transition".
  Result<Run> Cancel(std::string_view id, const Actor& actor);
  // Queues a failed run again (attempt + 1). Errors: kNotFound; kConflict
  // "invalid_transition"; the consent and custody checks of Start.
  Result<Run> Retry(std::string_view id, const Actor& actor);
  // Specimens a run may be started for by `centre` (kEveryOrganisation: every centre): those
  // QC-passed with an open analysis order naming it and those it holds analysed, with no queued
  // or running run; oldest participant first. For the console's start form.
  struct Candidate {
    std::string specimen_id;
    std::string participant_id;
    std::string tumour_normal;
    std::string state;
    std::string centre;
  };
  Result<std::vector<Candidate>> Candidates(std::string_view centre);
  // The engine's whole log of the current attempt (tail, kMaxLogBytes).
  Result<std::string> Log(std::string_view id);
  // The provenance document (JSON-LD), once the run succeeded. Errors: kNotFound
  // "run_not_found" / "provenance_not_found".
  Result<nlohmann::json> Provenance(std::string_view id);
  // The run that produced a registered file. Errors: kNotFound "run_not_found".
  Result<Run> RunOfOutput(std::string_view file_id);

  // {"analysis_run", id, hospital, centre}. Errors: kNotFound "run_not_found".
  Result<policy::Resource> RunResource(std::string_view id);

  // Marks runs left `running` by a dead process failed ("interrupted"), applies the custody
  // moves of runs recorded before a crash interrupted them (see Start), and removes every
  // scratch directory (no run is executing before StartWorkers).
  Status Recover();
  // Test hook: when it answers true at a named point ("between_custody_moves": a pair run's
  // normal has moved, the tumour not yet), the operation stops there with kInternal
  // "injected_crash", as if the process died.
  void SetCrashPointForTest(std::function<bool(std::string_view point)> hook) {
    crash_point_ = std::move(hook);
  }
  void StartWorkers();
  // Test hook: blocks until no run is queued or running, or the deadline passes.
  bool WaitIdleForTest(std::chrono::seconds deadline);

  const Executor& executor() const { return *executor_; }

 private:
  struct Fastq;
  Result<Run> Load(storage::Transaction& tx, std::string_view id);
  Result<std::vector<Step>> LoadSteps(storage::Transaction& tx, const Run& r);
  Result<ReferenceGenome> LoadReference(storage::Transaction& tx, std::string_view name);
  // Moves a run along the table inside its own transaction, with its audit record.
  Status Move(const Run& r, std::string_view event, const Actor& actor, const nlohmann::json& set,
              std::string_view reason);
  Status AuditIn(storage::Transaction& tx, const Actor& actor, std::string action,
                 std::string resource, std::string decision, std::string reason,
                 const nlohmann::json& details);
  Status AuditNow(const Actor& actor, std::string action, std::string resource,
                  std::string decision, std::string reason, const nlohmann::json& details);
  // The FASTQ pair and the consent check shared by Start and Retry.
  // Its refusals name `field` (the request field that named the specimen).
  Result<std::vector<std::string>> Admit(const specimens::Specimen& sp, std::string_view centre,
                                         const Actor& actor, std::string_view action,
                                         std::string_view field = "specimen_id");
  static Actor CentreActor(const Actor& requester, std::string_view centre);
  // Moves the run's specimens (the normal, then the tumour) still qc_passed to analysed in the
  // centre's name, each in its own custody step, then clears custody_pending so a worker takes
  // the run. A specimen already analysed by the centre counts as moved. A refused move cancels
  // the run (audited, with the error) and returns the refusal.
  Status ApplyCustody(Run& run, const Actor& requester);
  void Worker();
  // Starts the runs the per-site automatic start asks for (see Options).
  void AutoStart();
  const nlohmann::json& ToolVersionsOnce();
  void Execute(Run run);
  // Runs the engine; returns the outputs to register, or the run's error.
  // `phases` receives the seconds each of Zengen's phases took (see BuildProvenance);
  // `node` where the engine ran, `job_id` the run's Slurm job (per_run mode; else empty).
  Result<nlohmann::json> RunEngine(const Run& run, const std::filesystem::path& scratch,
                                   const Actor& as, std::string& node, std::string& job_id,
                                   nlohmann::json& phases, EarlyOutputs* early);
  void OnLine(const Run& run, std::string_view line, const Actor& as);
  nlohmann::json BuildProvenance(const Run& run, const ReferenceGenome& ref,
                                 const nlohmann::json& inputs, const nlohmann::json& outputs,
                                 const std::string& node, const std::string& job_id,
                                 const std::string& started, const std::string& ended,
                                 const nlohmann::json& phases);
  std::filesystem::path Scratch(const Run& r) const;

  storage::Store& store_;
  const Clock& clock_;
  AuditSink& audit_;
  specimens::Specimens& specimens_;
  access::Gate& gate_;
  Registry& registry_;
  std::unique_ptr<Executor> executor_;
  Options options_;
  std::once_flag tool_versions_once_;
  nlohmann::json tool_versions_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  int busy_ = 0;
  std::map<std::string, std::shared_ptr<std::atomic<bool>>> cancels_;  // running runs
  std::map<std::string, std::string> logs_;                           // running runs' logs
  std::vector<std::thread> workers_;
  std::function<bool(std::string_view)> crash_point_;
  std::mutex auto_mu_;
  std::set<std::string> auto_tried_;  // specimens AutoStart tried (guarded by auto_mu_)
};

}  // namespace zengen::analysis
