// The port through which modules report what happened to the audit log (R3.5).
//
// Domain modules (identity, consent, …) depend on this interface only; the audit module
// implements it with the hash-chained log, and tests may use RecordingAuditSink.
#pragma once

#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"

namespace zengen {

namespace storage {
class Transaction;
}  // namespace storage

struct AuditEvent {
  std::string actor;       // user or token id, "anonymous", "cli" or "system"
  std::string source;      // source IP address, or "cli" / "system"
  std::string action;      // e.g. "auth.login", "user.write"
  std::string resource;    // "kind/id" or "kind"
  std::string decision;    // "allow", "deny", or "" for plain events
  std::string reason;      // why, in words
  std::string request_id;  // empty outside requests
  std::string details;     // a JSON object as text ("{}" when nothing more)
};

class AuditSink {
 public:
  virtual ~AuditSink() = default;
  // Records the event durably. A failure means the event was not recorded; callers that
  // changed state should report the failure rather than pretend all is well.
  virtual Status Append(AuditEvent event) = 0;

  // Records the event inside tx, the caller's open write transaction on the metadata store,
  // so that a state change and its record commit or roll back together (a crash between the
  // two cannot leave a change without its record). Call it after the change's statements and
  // before tx->Commit(); on an error abandon tx (the change must not commit unrecorded). The
  // audit log's sink (audit::LogSink) writes the record into tx itself. This default records
  // through Append, for sinks that keep events outside the metadata store (tests, tools): it
  // cannot roll the event back, so a sink writing to the store must override it.
  virtual Status AppendInTransaction(storage::Transaction& tx, AuditEvent event) {
    (void)tx;
    return Append(std::move(event));
  }
};

// Keeps events in memory, for tests.
class RecordingAuditSink final : public AuditSink {
 public:
  Status Append(AuditEvent event) override {
    std::lock_guard lock(mu_);
    events_.push_back(std::move(event));
    return Status::Ok();
  }
  std::vector<AuditEvent> events() const {
    std::lock_guard lock(mu_);
    return events_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<AuditEvent> events_;
};

}  // namespace zengen
