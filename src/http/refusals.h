// A complete record of refused requests without one durable write per request (issue 13 item 4).
//
// Anonymous and bad-credential requests are what an attacker can send at line rate; writing each
// as its own audit record let one client grow the database by megabytes a second. Instead each
// refusal is counted in memory per (source address, reason) with its first and last request id
// and time, and every interval the counts are written as ONE audit record
// (action "access.refusals"). A refused request serves nothing, so nothing is served that was
// not recorded; what a crash can lose is the counts of the current interval (stated in
// docs/security.md). Decisions that allow, and denials of authenticated subjects, still go to
// the durable recorder one by one.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include "common/audit_event.h"
#include "common/clock.h"
#include "http/filters.h"

namespace zengen::http {

class RefusalAggregator {
 public:
  // At most max_keys (address, reason) pairs are kept per interval; further pairs are counted
  // under the address "*" so that the total stays exact while memory stays bounded.
  RefusalAggregator(const Clock& clock, AuditSink& sink, size_t max_keys = 4096);
  // Stop(), unless already stopped.
  ~RefusalAggregator();
  RefusalAggregator(const RefusalAggregator&) = delete;
  RefusalAggregator& operator=(const RefusalAggregator&) = delete;

  // Counts one refusal. Thread-safe, never blocks on I/O.
  void Count(std::string_view address, std::string_view reason, std::string_view request_id);

  // Writes the interval's counts as one audit record and starts a new interval; nothing is
  // written when nothing was counted. On a write failure the counts are kept for the next try
  // and the error is returned.
  Status Flush();

  // Flushes every `interval` on a thread of its own until Stop().
  void StartFlushing(std::chrono::milliseconds interval);

  // Stops the flushing thread and flushes what was counted (the last interval). Call it before
  // the audit sink closes; later counts are kept in memory only. Idempotent.
  void Stop();

  // A DecisionRecorder for the filters: a denial of an unauthenticated request (a refused
  // credential, or anonymous access to a protected route) is counted here; every other
  // decision goes to `durable`, as before.
  DecisionRecorder Wrap(DecisionRecorder durable);

  // Refusals counted since construction (all intervals), for tests and figures.
  int64_t total() const;

 private:
  struct Entry {
    int64_t count = 0;
    std::string first_request_id, last_request_id;
    std::chrono::system_clock::time_point first, last;
  };

  const Clock& clock_;
  AuditSink& sink_;
  const size_t max_keys_;
  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, Entry> entries_;
  std::chrono::system_clock::time_point interval_start_;
  int64_t total_ = 0;
  bool stopped_ = false;
  std::jthread flusher_;
};

}  // namespace zengen::http
