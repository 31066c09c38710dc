// The audit log behind the AuditSink port (common/audit_event.h) that the domain modules use.
#pragma once

#include "audit/audit.h"
#include "common/audit_event.h"
#include "storage/store.h"

namespace zengen::audit {

// The record an event becomes (the chain fields are filled on append).
Record RecordOf(AuditEvent e);

// Append goes through the Log (group commit, after the caller's own commit);
// AppendInTransaction writes the record into the caller's write transaction with
// audit::AppendInTransaction, so the change and its record commit or roll back together.
// The transaction must be on the log's store. Thread-safe; log must outlive the sink.
class LogSink final : public AuditSink {
 public:
  explicit LogSink(Log& log) : log_(log) {}
  Status Append(AuditEvent e) override;
  Status AppendInTransaction(storage::Transaction& tx, AuditEvent e) override;

 private:
  Log& log_;
};

}  // namespace zengen::audit
