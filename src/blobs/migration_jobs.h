// Migrations started from the data steward's console (issue 17): the same LocalStore::Migrate
// as `zengen storage migrate`, run on a background thread of the serving process, one at a
// time. Progress is what LocalStore::Migrations() reports (each object's state is recorded as
// it goes), so the console's progress bar moves while the job runs; serving continues.
//
// Resumable as the command is: a job stopped by a shutdown or a crash leaves its migration
// "running", and starting the same from/to/mode again (from the console or the command line)
// continues it where it stopped.
//
// Audit: the start is recorded before the job runs ("storage.migrate_start", the steward, the
// reason, the options); Migrate records the migration and every object's copy and retirement;
// the job's end (done, stopped, or failed with the error) is recorded too
// ("storage.migrate_end").
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "blobs/local_store.h"
#include "common/actor.h"
#include "common/audit_event.h"
#include "common/clock.h"
#include "common/result.h"

namespace zengen::blobs {

// The job of this process: the last one started, running or not.
struct MigrationJob {
  bool running = false;
  std::string from, to, mode;  // mode "copy" | "move"
  int64_t limit = 0;
  std::string started_by, reason, started_at, finished_at;
  std::string migration_id;  // once Migrate has reported it (at the end of the run)
  std::string error;         // "code: message" when the run failed; "" otherwise
};

class MigrationJobs {
 public:
  // store, clock and audit must outlive the object.
  MigrationJobs(LocalStore& store, const Clock& clock, AuditSink& audit);
  // Asks a running job to stop after the object it is copying, and waits for it.
  ~MigrationJobs();
  MigrationJobs(const MigrationJobs&) = delete;
  MigrationJobs& operator=(const MigrationJobs&) = delete;

  // Checks the options as Migrate does, records the start (actor, reason: required, the caller
  // has checked it is not blank) and starts the job. Errors: kConflict "migration_running"
  // when a job runs (nothing recorded); Migrate's kInvalidArgument ones ("unknown_site",
  // "same_site", "tier_mismatch", "jurisdiction_not_allowed", naming the field); kInvalidArgument
  // "invalid_limit" for a negative limit; the audit sink's (then nothing starts).
  Status Start(MigrateOptions options, const Actor& actor, const std::string& reason);
  // The job of this process, if one was started.
  std::optional<MigrationJob> Current() const;
  // Waits until no job runs (tests, shutdown).
  void Wait();

 private:
  void Run(MigrateOptions options);

  LocalStore& store_;
  const Clock& clock_;
  AuditSink& audit_;
  mutable std::mutex mu_;
  std::optional<MigrationJob> job_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
};

}  // namespace zengen::blobs
