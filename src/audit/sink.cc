#include "audit/sink.h"

#include <utility>

namespace zengen::audit {

Record RecordOf(AuditEvent e) {
  Record r;
  r.actor = std::move(e.actor);
  r.source = std::move(e.source);
  r.action = std::move(e.action);
  r.resource = std::move(e.resource);
  r.decision = std::move(e.decision);
  r.reason = std::move(e.reason);
  r.request_id = std::move(e.request_id);
  r.details = std::move(e.details);
  return r;
}

Status LogSink::Append(AuditEvent e) {
  Record r = RecordOf(std::move(e));
  return log_.Append(r);
}

Status LogSink::AppendInTransaction(storage::Transaction& tx, AuditEvent e) {
  Record r = RecordOf(std::move(e));
  return audit::AppendInTransaction(log_.store(), tx, log_.clock(), r);
}

}  // namespace zengen::audit
