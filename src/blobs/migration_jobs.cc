#include "blobs/migration_jobs.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace zengen::blobs {

MigrationJobs::MigrationJobs(LocalStore& store, const Clock& clock, AuditSink& audit)
    : store_(store), clock_(clock), audit_(audit) {}

MigrationJobs::~MigrationJobs() {
  stop_ = true;
  Wait();
}

void MigrationJobs::Wait() {
  std::thread t;
  {
    std::lock_guard lock(mu_);
    t = std::move(thread_);
  }
  if (t.joinable()) t.join();
}

std::optional<MigrationJob> MigrationJobs::Current() const {
  std::lock_guard lock(mu_);
  return job_;
}

Status MigrationJobs::Start(MigrateOptions options, const Actor& actor,
                            const std::string& reason) {
  if (options.limit < 0) {
    return InvalidArgument("invalid_limit", "limit must be 0 (every object) or more", "limit");
  }
  ZG_RETURN_IF_ERROR(store_.CheckMigration(options));
  std::lock_guard lock(mu_);
  if (job_ && job_->running) {
    return Conflict("migration_running",
                    fmt::format("a migration from {} to {} started by {} at {} is running; wait "
                                "for it to finish",
                                job_->from, job_->to, job_->started_by, job_->started_at));
  }
  // The previous job's thread has finished its run (running is false): reap it.
  if (thread_.joinable()) thread_.join();
  MigrationJob job{.running = true,
                   .from = options.from,
                   .to = options.to,
                   .mode = options.move ? "move" : "copy",
                   .limit = options.limit,
                   .started_by = actor.user,
                   .reason = reason,
                   .started_at = FormatRfc3339(clock_.Now())};
  ZG_RETURN_IF_ERROR(audit_.Append(
      {.actor = actor.user,
       .source = actor.source,
       .action = "storage.migrate_start",
       .resource = "storage",
       .reason = reason,
       .request_id = actor.request_id,
       .details = nlohmann::json{{"from", job.from},
                                 {"to", job.to},
                                 {"mode", job.mode},
                                 {"limit", job.limit},
                                 {"grace_seconds", options.grace.count()}}
                      .dump()}));
  job_ = job;
  stop_ = false;
  options.stop = &stop_;
  thread_ = std::thread([this, options = std::move(options)] { Run(options); });
  return Status::Ok();
}

void MigrationJobs::Run(MigrateOptions options) {
  auto progress = store_.Migrate(options);
  MigrationJob done;
  {
    std::lock_guard lock(mu_);
    job_->running = false;
    job_->finished_at = FormatRfc3339(clock_.Now());
    if (progress.ok()) {
      job_->migration_id = progress->id;
    } else {
      job_->error = progress.error().code + ": " + progress.error().message;
    }
    done = *job_;
  }
  const std::string outcome = !progress.ok()                      ? "failed"
                              : progress->state == "done"         ? "done"
                              : stop_                             ? "stopped"
                                                                  : "ran";
  if (!progress.ok()) {
    spdlog::error("storage migration {} -> {} failed: {}", done.from, done.to, done.error);
  }
  nlohmann::json details{{"from", done.from}, {"to", done.to}, {"outcome", outcome}};
  if (progress.ok()) {
    details["migration"] = progress->id;
    details["copied"] = progress->copied;
    details["retired"] = progress->retired;
    details["failed"] = progress->failed;
    details["pending"] = progress->pending;
  }
  Status recorded = audit_.Append(
      {.actor = "system",
       .source = "system",
       .action = "storage.migrate_end",
       .resource = progress.ok() ? "blob_migration/" + progress->id : "storage",
       .reason = progress.ok() ? fmt::format("migration started by {} {}", done.started_by, outcome)
                               : done.error,
       .details = details.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)});
  if (!recorded.ok()) {
    spdlog::error("storage migration {} -> {}: its end was not recorded: {}", done.from, done.to,
                  recorded.error().message);
  }
}

}  // namespace zengen::blobs
