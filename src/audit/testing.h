// Test support for the audit-in-the-transaction contract (AuditSink::AppendInTransaction):
// a sink over the real audit_log table that can be told to fail right after it has written a
// record, and a count of stored records. Header-only; link zengen_audit. Tests only.
#pragma once

#include <atomic>
#include <string>
#include <string_view>
#include <utility>

#include "audit/audit.h"
#include "audit/sink.h"
#include "common/audit_event.h"
#include "common/clock.h"
#include "storage/store.h"

namespace zengen::audit::testing {

// Writes each event to store's audit_log: Append in a transaction of its own, and
// AppendInTransaction inside the caller's. With fail_after_write set, each append writes its
// record and then reports kUnavailable "audit_injected_failure" — the failure a real sink meets
// when its write dies just before the commit. A caller that honours the contract abandons
// its transaction, so neither its change nor the record is stored; a caller that committed
// the change first and appended afterwards is left with a change (and here a record too).
class FailAfterWriteSink final : public AuditSink {
 public:
  FailAfterWriteSink(storage::Store& store, const Clock& clock) : store_(store), clock_(clock) {}

  Status Append(AuditEvent e) override {
    auto tx = store_.Begin(storage::TxMode::kWrite);
    if (!tx.ok()) return tx.error();
    Record r = RecordOf(std::move(e));
    ZG_RETURN_IF_ERROR(audit::AppendInTransaction(store_, **tx, clock_, r));
    ZG_RETURN_IF_ERROR((*tx)->Commit());
    return Injected();
  }
  Status AppendInTransaction(storage::Transaction& tx, AuditEvent e) override {
    Record r = RecordOf(std::move(e));
    ZG_RETURN_IF_ERROR(audit::AppendInTransaction(store_, tx, clock_, r));
    return Injected();
  }

  std::atomic<bool> fail_after_write{true};

 private:
  Status Injected() const {
    if (fail_after_write) return Unavailable("audit_injected_failure", "injected audit failure");
    return Status::Ok();
  }
  storage::Store& store_;
  const Clock& clock_;
};

// How many audit_log records have this action (-1 when the store cannot be read).
inline int64_t CountRecords(storage::Store& store, std::string_view action) {
  auto tx = store.Begin(storage::TxMode::kRead);
  if (!tx.ok()) return -1;
  auto rows = (*tx)->Query("SELECT COUNT(*) FROM audit_log WHERE action = $1",
                           {storage::Text(std::string(action))});
  if (!rows.ok() || rows->empty()) return -1;
  return rows->rows[0].Int(0);
}

}  // namespace zengen::audit::testing
