// The tamper-evident audit log (issue 3, R3.5 access monitoring, R1.4).
//
// One record per authentication event, policy decision (allow and deny, with the reason),
// state change and file byte range served. Records live in the metadata store's `audit_log`
// table (migration 2) on either backend, are append-only, and form a hash chain:
//
//   seq        1, 2, 3, … without gaps, assigned under the database write lock
//   prev_hash  hash of record seq-1; for seq 1, 64 '0' characters
//   hash       lower-case hex SHA-256 of Canonical(record), defined below
//
// Canonical form (version 1). The SHA-256 input is the ASCII tag "zengen.audit.v1" followed by
// twelve fields, each written as its byte length in decimal ASCII (no sign, no leading zeros,
// "0" for empty), a ':' and the field's bytes, in this fixed order:
//
//   prev_hash, seq, time, actor, source, action, resource, decision, reason, request_id,
//   details
//
// seq is written in decimal ASCII. Every other field is the exact text stored in its column.
// Example: seq 1 with actor "alice" contributes "1:1" and "5:alice". Because every field is
// length-prefixed, no two different records have the same canonical form.
//
// What verification proves: any record altered, any prev_hash altered and any record removed
// from the middle of the chain is detected by Verify. Removing the newest records (truncation)
// is detectable only against a head published earlier, which is why GET /api/v1/audit/head is
// public: outside parties record (seq, hash) and later check that the chain still contains it.
//
// Durability: Log::Append returns only after the record's transaction has committed. With the
// SQLite store (synchronous=FULL) that means the record survives power loss. Group commit
// gathers the records of many concurrent callers into one transaction so that the cost of the
// flush is shared instead of capping throughput.
//
// Several processes may append to one PostgreSQL database: every write transaction takes
// the advisory lock kPostgresLockKey before reading the chain's head, so the chain stays
// linear. On SQLite, BEGIN IMMEDIATE already serialises writers.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "storage/store.h"

namespace zengen::audit {

// The hash that precedes record 1.
inline constexpr std::string_view kGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

// pg_advisory_xact_lock key that serialises audit appends on PostgreSQL ("ZGAUDIT1" in ASCII).
inline constexpr int64_t kPostgresLockKey = 0x5A47415544495431;

struct Record {
  // Filled by the log on append; ignored when given.
  int64_t seq = 0;
  std::string time;  // RFC 3339 UTC with milliseconds, from the log's clock
  std::string prev_hash;
  std::string hash;

  // Filled by the caller.
  std::string actor;       // user/token id, "anonymous" or "system"; required
  std::string source;      // source IP address, or "cli" / "system"
  std::string action;      // policy action or event name, e.g. "auth.login"; required
  std::string resource;    // "kind/id" or "kind"
  std::string decision;    // "allow", "deny" or "" for events without a decision
  std::string reason;      // why the decision was taken, or what happened
  std::string request_id;  // the HTTP request id, "" outside requests
  std::string details;     // a JSON object as text; "" means "{}"
};

// Lower-case hex SHA-256 of the canonical form of r (uses r.prev_hash, r.seq, r.time and the
// caller-filled fields; ignores r.hash).
std::string ComputeHash(const Record& r);

// The canonical byte string that ComputeHash hashes (see the header comment).
std::string Canonical(const Record& r);

// Checks and normalises the caller-filled fields of r in place: actor and action must be
// non-empty, decision one of "allow", "deny", "", every field valid UTF-8 without NUL bytes
// (PostgreSQL would refuse the whole batch otherwise), details a JSON object (rewritten in
// compact form; "" becomes "{}"). Errors: kInvalidArgument naming the field.
Status ValidateRecord(Record& r);

struct Head {
  int64_t seq = 0;  // 0 when the log is empty
  std::string hash = std::string(kGenesisHash);
};

struct Filter {
  // Exact matches; empty means "any".
  std::string actor;
  std::string resource;
  std::string action;
  // Time range, half-open [from, to). RFC 3339 UTC ("…Z") with or without a fraction of a
  // second; normalised to milliseconds and compared as text. Empty means unbounded.
  std::string from;
  std::string to;
  // Cursor: only records with seq > after_seq, in ascending seq.
  int64_t after_seq = 0;
  int limit = 100;  // 1..kMaxQueryLimit
  // The security officer's view (issue 14). decision: "" (any), "allow" or "deny".
  // actor_prefix / action_prefix: records whose actor / action begins with the text (matched
  // literally: % and _ are no wildcards). newest_first: descending seq; the cursor is then
  // before_seq (only records with seq < before_seq; 0 = from the newest) and after_seq is
  // ignored; Page::next_after_seq names the before_seq of the next (older) page.
  std::string decision;
  std::string actor_prefix;
  std::string action_prefix;
  bool newest_first = false;
  int64_t before_seq = 0;
};

inline constexpr int kMaxQueryLimit = 500;

struct Page {
  std::vector<Record> items;
  // The after_seq that fetches the next page; empty when this page is the last.
  std::optional<int64_t> next_after_seq;
};

// Parses an RFC 3339 UTC timestamp "YYYY-MM-DDTHH:MM:SS[.fraction]Z" and returns it with
// exactly three fraction digits (truncated or zero-padded), the form records are stored in.
// Errors: kInvalidArgument "invalid_time" naming field.
Result<std::string> NormaliseTime(std::string_view text, std::string_view field);

struct Options {
  // true: a background writer commits the records of many callers in one transaction.
  // false: each Append commits its own transaction in the caller's thread (the baseline the
  // benchmark compares against).
  bool group_commit = true;
  // A batch is committed as soon as one of these holds: it has max_batch records; max_wait has
  // passed since its first record arrived; it has as many records as the previous batch had
  // (callers block until their record commits, so that number is how many are appending
  // concurrently, and once they are all queued waiting longer only adds latency).
  int max_batch = 256;
  std::chrono::microseconds max_wait = std::chrono::milliseconds(2);
};

// Counters for the benchmark and for monitoring.
struct Stats {
  int64_t records = 0;  // records committed through this Log
  int64_t batches = 0;  // transactions committed through this Log
};

class Log {
 public:
  // Starts the writer thread (group_commit). store and clock must outlive the Log. Errors:
  // kInvalidArgument when max_batch < 1 or max_wait is negative.
  static Result<std::unique_ptr<Log>> Open(storage::Store& store, const Clock& clock,
                                           Options options = {});

  // Commits the records still queued, then stops the writer.
  ~Log();
  Log(const Log&) = delete;
  Log& operator=(const Log&) = delete;

  // Validates r (ValidateRecord), stamps its time, appends it to the chain and blocks until
  // the transaction holding it has committed. On success r has its seq, time, prev_hash and
  // hash. If the database write fails, every caller whose record was in that transaction gets
  // the error and none of those records is in the chain; the log keeps serving later calls.
  // Errors: kInvalidArgument from validation; "audit_log_closed" (kUnavailable) once the Log
  // is being destroyed; the store's errors (kUnavailable, kInternal, …).
  //
  // Must not be called while the calling thread holds a kWrite transaction on the same SQLite
  // store: the writer would wait for that transaction and the caller for the writer. To record
  // a state change atomically with the change itself, use AppendInTransaction instead.
  Status Append(Record& r);
  Status Append(Record&& r) { return Append(r); }

  // The records matching filter, ascending by seq, at most filter.limit of them. Errors:
  // kInvalidArgument naming the field ("limit", "after_seq", "from", "to").
  Result<Page> Query(const Filter& filter);

  // The latest committed record's seq and hash (seq 0 and kGenesisHash when empty).
  Result<Head> GetHead();

  Stats stats() const;

  // The store and clock the log was opened with (for appends inside a caller's transaction).
  storage::Store& store() const { return store_; }
  const Clock& clock() const { return clock_; }

 private:
  struct Slot;
  Log(storage::Store& store, const Clock& clock, Options options);
  void WriterLoop();
  Status WriteBatch(const std::vector<Slot*>& batch);

  storage::Store& store_;
  const Clock& clock_;
  const Options options_;

  mutable std::mutex mu_;
  std::condition_variable work_cv_;  // the writer waits here for records
  std::condition_variable done_cv_;  // callers wait here for their batch to commit
  std::deque<Slot*> queue_;
  size_t batch_target_ = 1;  // commit without waiting once this many records are queued
  bool stopping_ = false;
  Stats stats_;
  std::thread writer_;
};

// Appends r to the chain inside the caller's write transaction tx (TxMode::kWrite on store),
// so that a state change and its audit record commit or roll back together. Validates and
// stamps r like Log::Append; r is durable when the caller commits tx. On PostgreSQL tx then
// holds the audit lock until it ends, so keep such transactions short.
Status AppendInTransaction(storage::Store& store, storage::Transaction& tx, const Clock& clock,
                           Record& r);

// The latest record's seq and hash, read in its own transaction.
Result<Head> ReadHead(storage::Store& store);

// Up to limit records with seq > after_seq, ascending by seq, read in tx. REQUIRES: limit > 0.
Result<std::vector<Record>> ReadRecords(storage::Transaction& tx, int64_t after_seq,
                                        int64_t limit);

struct Problem {
  int64_t seq = 0;
  // "altered": the stored hash does not match the record's content (detail "hash mismatch").
  // "broken_link": prev_hash is not the previous record's stored hash.
  // "missing": seq jumps; seq is the first missing number, detail "gap after N" (and the
  // count and range when more than one record is missing).
  std::string kind;
  std::string detail;
};

struct VerifyReport {
  int64_t records = 0;            // records read
  Head head;                      // the last record read (seq 0 when empty)
  std::vector<Problem> problems;  // in seq order
  bool intact() const { return problems.empty(); }
};

// Recomputes the whole chain in seq order, reading it in pages, and reports every problem.
// After a problem it continues from the stored hash, so each later problem is reported too.
// Right after a gap the prev_hash check is skipped: the missing record's hash is unknown, and
// the gap itself is already reported. Errors: the store's errors only; a broken chain is a
// successful verification with problems.
Result<VerifyReport> Verify(storage::Store& store, int64_t page_size = 1000);

// The `zengen audit verify` command: verifies the chain of store and prints either
//   audit chain intact: N records, head <hash>
// (returns 0) or one line per problem, e.g.
//   record 17: altered (hash mismatch)
//   record 42: missing (gap after 41)
// followed by "audit chain broken: P problems in N records; first broken record: S" (returns
// 1). When the chain cannot be read it prints "audit verify failed: <message>" and returns 2.
int RunVerifyCommand(storage::Store& store, std::ostream& out);

}  // namespace zengen::audit
