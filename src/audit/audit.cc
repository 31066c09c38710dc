#include "audit/audit.h"

#include <cstdint>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <exception>
#include <nlohmann/json.hpp>
#include <span>
#include <utility>

#include "crypto/crypto.h"

namespace zengen::audit {
namespace {

using storage::Int;
using storage::Text;
using storage::Value;

constexpr std::string_view kCanonicalTag = "zengen.audit.v1";
constexpr size_t kMaxFieldBytes = 4096;
constexpr size_t kMaxDetailsBytes = 64 * 1024;
// why: 64 rows × 12 columns = 768 parameters, under every SQLite build's variable limit (999
// before 3.32) and well under PostgreSQL's 65535, while still saving most round trips.
constexpr size_t kInsertChunk = 64;

constexpr std::string_view kColumns =
    "seq, time, actor, source, action, resource, decision, reason, request_id, details, "
    "prev_hash, hash";

void AppendField(std::string& out, std::string_view field) {
  out += std::to_string(field.size());
  out += ':';
  out += field;
}

bool ValidUtf8WithoutNul(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == 0) return false;
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len = 0;
    uint32_t cp = 0;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // why: overlong encodings, UTF-16 surrogates and code points past U+10FFFF are invalid
    // UTF-8, and PostgreSQL refuses them.
    static constexpr std::array<uint32_t, 5> kMinForLen = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMinForLen[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

Record FromRow(const storage::Row& row) {
  Record r;
  r.seq = row.Int(0);
  r.time = row.Text(1);
  r.actor = row.Text(2);
  r.source = row.Text(3);
  r.action = row.Text(4);
  r.resource = row.Text(5);
  r.decision = row.Text(6);
  r.reason = row.Text(7);
  r.request_id = row.Text(8);
  r.details = row.Text(9);
  r.prev_hash = row.Text(10);
  r.hash = row.Text(11);
  return r;
}

void ClearChainFields(std::span<Record* const> records) {
  for (Record* r : records) {
    r->seq = 0;
    r->prev_hash.clear();
    r->hash.clear();
  }
}

Result<Head> ReadHeadIn(storage::Transaction& tx) {
  auto rows = tx.Query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1");
  if (!rows.ok()) return rows.error();
  if (rows->empty()) return Head{};
  return Head{.seq = rows->rows[0].Int(0), .hash = rows->rows[0].Text(1)};
}

// Chains and inserts records (already validated) inside tx. When stamp is given, each record's
// time is taken after the lock, so that time order follows seq order. On error the records'
// chain fields are cleared and tx must be abandoned.
Status WriteRecords(storage::Backend backend, storage::Transaction& tx,
                    std::span<Record* const> records, const Clock* stamp) {
  if (records.empty()) return Status::Ok();
  if (backend == storage::Backend::kPostgres) {
    // why: several server processes may append to one database; the lock makes reading the
    // head and inserting after it atomic with respect to them (released at commit/rollback).
    auto locked = tx.Query(fmt::format("SELECT pg_advisory_xact_lock({})", kPostgresLockKey));
    if (!locked.ok()) return locked.error();
  }
  auto head = ReadHeadIn(tx);
  if (!head.ok()) return head.error();
  int64_t seq = head->seq;
  std::string prev = head->hash;
  const std::string now = stamp != nullptr ? FormatRfc3339(stamp->Now()) : std::string();
  for (Record* r : records) {
    if (stamp != nullptr) r->time = now;
    r->seq = ++seq;
    r->prev_hash = prev;
    r->hash = ComputeHash(*r);
    prev = r->hash;
  }
  std::vector<Value> params;
  for (size_t start = 0; start < records.size(); start += kInsertChunk) {
    const size_t n = std::min(kInsertChunk, records.size() - start);
    std::string sql = fmt::format("INSERT INTO audit_log ({}) VALUES ", kColumns);
    params.clear();
    params.reserve(n * 12);
    for (size_t i = 0; i < n; ++i) {
      const Record& r = *records[start + i];
      const size_t base = i * 12;
      sql += i == 0 ? "(" : ", (";
      for (size_t c = 1; c <= 12; ++c) {
        if (c > 1) sql += ", ";
        sql += fmt::format("${}", base + c);
      }
      sql += ')';
      params.insert(params.end(),
                    {Int(r.seq), Text(r.time), Text(r.actor), Text(r.source), Text(r.action),
                     Text(r.resource), Text(r.decision), Text(r.reason), Text(r.request_id),
                     Text(r.details), Text(r.prev_hash), Text(r.hash)});
    }
    auto inserted = tx.Exec(sql, params);
    if (!inserted.ok()) {
      ClearChainFields(records);
      return inserted.error();
    }
  }
  return Status::Ok();
}

// Runs WriteRecords in a transaction of its own and commits it.
Status CommitRecords(storage::Store& store, std::span<Record* const> records, const Clock* stamp) {
  auto tx = store.Begin(storage::TxMode::kWrite);
  if (!tx.ok()) return tx.error();
  if (Status s = WriteRecords(store.backend(), **tx, records, stamp); !s.ok()) return s;
  if (Status s = (*tx)->Commit(); !s.ok()) {
    ClearChainFields(records);
    return s;
  }
  return Status::Ok();
}

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int Number(std::string_view s) {
  int n = 0;
  for (char c : s) n = n * 10 + (c - '0');
  return n;
}

}  // namespace

std::string Canonical(const Record& r) {
  std::string out(kCanonicalTag);
  out.reserve(256 + r.details.size() + r.reason.size());
  AppendField(out, r.prev_hash);
  AppendField(out, std::to_string(r.seq));
  AppendField(out, r.time);
  AppendField(out, r.actor);
  AppendField(out, r.source);
  AppendField(out, r.action);
  AppendField(out, r.resource);
  AppendField(out, r.decision);
  AppendField(out, r.reason);
  AppendField(out, r.request_id);
  AppendField(out, r.details);
  return out;
}

std::string ComputeHash(const Record& r) { return crypto::Sha256Hex(Canonical(r)); }

Status ValidateRecord(Record& r) {
  if (r.actor.empty()) return InvalidArgument("missing_field", "actor is required", "actor");
  if (r.action.empty()) return InvalidArgument("missing_field", "action is required", "action");
  if (r.decision != "allow" && r.decision != "deny" && !r.decision.empty()) {
    return InvalidArgument("invalid_decision", "decision must be 'allow', 'deny' or empty",
                           "decision");
  }
  const std::pair<std::string_view, const std::string*> fields[] = {
      {"actor", &r.actor},           {"source", &r.source},     {"action", &r.action},
      {"resource", &r.resource},     {"decision", &r.decision}, {"reason", &r.reason},
      {"request_id", &r.request_id}, {"details", &r.details},
  };
  for (const auto& [name, value] : fields) {
    const size_t limit = name == "details" ? kMaxDetailsBytes : kMaxFieldBytes;
    if (value->size() > limit) {
      return InvalidArgument("field_too_long", fmt::format("{} exceeds {} bytes", name, limit),
                             std::string(name));
    }
    if (!ValidUtf8WithoutNul(*value)) {
      return InvalidArgument("invalid_text",
                             fmt::format("{} must be UTF-8 text without NUL bytes", name),
                             std::string(name));
    }
  }
  if (r.details.empty()) {
    r.details = "{}";
  } else {
    const auto j = nlohmann::json::parse(r.details, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) {
      return InvalidArgument("invalid_details", "details must be a JSON object", "details");
    }
    r.details = j.dump();
  }
  return Status::Ok();
}

Result<std::string> NormaliseTime(std::string_view text, std::string_view field) {
  const auto bad = [&] {
    return InvalidArgument(
        "invalid_time",
        fmt::format("{} must be an RFC 3339 UTC time such as 2026-11-24T19:30:00.000Z", field),
        std::string(field));
  };
  // YYYY-MM-DDTHH:MM:SS
  if (text.size() < 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' ||
      text[16] != ':' || text.back() != 'Z') {
    return bad();
  }
  const std::string_view year = text.substr(0, 4), month = text.substr(5, 2),
                         day = text.substr(8, 2), hour = text.substr(11, 2),
                         minute = text.substr(14, 2), second = text.substr(17, 2);
  for (auto part : {year, month, day, hour, minute, second}) {
    if (!AllDigits(part)) return bad();
  }
  if (Number(month) < 1 || Number(month) > 12 || Number(day) < 1 || Number(day) > 31 ||
      Number(hour) > 23 || Number(minute) > 59 || Number(second) > 60) {
    return bad();
  }
  std::string fraction;
  const std::string_view rest = text.substr(19, text.size() - 20);  // between seconds and Z
  if (!rest.empty()) {
    if (rest[0] != '.' || rest.size() > 10 || !AllDigits(rest.substr(1))) return bad();
    fraction = std::string(rest.substr(1));
  }
  fraction.resize(3, '0');
  return fmt::format("{}.{}Z", text.substr(0, 19), fraction.substr(0, 3));
}

// ---------------------------------------------------------------------------------------------
// Log

struct Log::Slot {
  Record* record = nullptr;
  std::chrono::steady_clock::time_point enqueued;
  Status status;
  bool done = false;
};

Log::Log(storage::Store& store, const Clock& clock, Options options)
    : store_(store), clock_(clock), options_(options) {}

Result<std::unique_ptr<Log>> Log::Open(storage::Store& store, const Clock& clock, Options options) {
  if (options.max_batch < 1) {
    return InvalidArgument("invalid_option", "max_batch must be at least 1", "max_batch");
  }
  if (options.max_wait.count() < 0) {
    return InvalidArgument("invalid_option", "max_wait must not be negative", "max_wait");
  }
  std::unique_ptr<Log> log(new Log(store, clock, options));
  if (options.group_commit) log->writer_ = std::thread([l = log.get()] { l->WriterLoop(); });
  return log;
}

Log::~Log() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  if (writer_.joinable()) writer_.join();
}

Status Log::Append(Record& r) {
  ZG_RETURN_IF_ERROR(ValidateRecord(r));
  if (!options_.group_commit) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return Unavailable("audit_log_closed", "the audit log is shutting down");
    }
    Record* one[] = {&r};
    ZG_RETURN_IF_ERROR(CommitRecords(store_, one, &clock_));
    std::lock_guard lock(mu_);
    ++stats_.records;
    ++stats_.batches;
    return Status::Ok();
  }

  Slot slot{.record = &r, .enqueued = std::chrono::steady_clock::now()};
  std::unique_lock lock(mu_);
  if (stopping_) return Unavailable("audit_log_closed", "the audit log is shutting down");
  // why: stamped under the queue lock, so that within this process time order is seq order.
  r.time = FormatRfc3339(clock_.Now());
  queue_.push_back(&slot);
  // why: the writer needs waking only for a batch's first record or when the batch reaches its
  // target; otherwise it is either waiting with a deadline or busy committing.
  if (queue_.size() == 1 || queue_.size() == batch_target_) work_cv_.notify_one();
  done_cv_.wait(lock, [&] { return slot.done; });
  return slot.status;
}

void Log::WriterLoop() {
  std::unique_lock lock(mu_);
  std::vector<Slot*> batch;
  const auto max_batch = static_cast<size_t>(options_.max_batch);
  for (;;) {
    work_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping with nothing left to commit
    if (!stopping_ && queue_.size() < batch_target_) {
      const auto deadline = queue_.front()->enqueued + options_.max_wait;
      work_cv_.wait_until(lock, deadline,
                          [&] { return stopping_ || queue_.size() >= batch_target_; });
    }
    const size_t n = std::min(queue_.size(), max_batch);
    // why: callers block until their record commits, so the size of this batch is the number
    // of callers appending right now; once that many are queued again, waiting longer would
    // only add latency. A smaller crowd costs at most one max_wait before the target follows.
    batch_target_ = std::max<size_t>(n, 1);
    batch.assign(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
    lock.unlock();
    const Status status = WriteBatch(batch);
    lock.lock();
    if (status.ok()) {
      stats_.records += static_cast<int64_t>(batch.size());
      ++stats_.batches;
    }
    for (Slot* s : batch) {
      s->status = status;
      s->done = true;
    }
    done_cv_.notify_all();
  }
}

Status Log::WriteBatch(const std::vector<Slot*>& batch) {
  std::vector<Record*> records;
  records.reserve(batch.size());
  for (Slot* s : batch) records.push_back(s->record);
  // why: an exception escaping the writer thread would terminate the server and strand every
  // waiting caller; turn it into an error they all receive.
  try {
    return CommitRecords(store_, records, nullptr);
  } catch (const std::exception& e) {
    ClearChainFields(records);
    return Internal("audit_write_failed", fmt::format("audit writer failed: {}", e.what()));
  }
}

Stats Log::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

Result<Page> Log::Query(const Filter& filter) {
  if (filter.limit < 1 || filter.limit > kMaxQueryLimit) {
    return InvalidArgument("invalid_limit",
                           fmt::format("limit must be between 1 and {}", kMaxQueryLimit), "limit");
  }
  if (filter.after_seq < 0) {
    return InvalidArgument("invalid_after_seq", "after_seq must not be negative", "after_seq");
  }
  if (!filter.decision.empty() && filter.decision != "allow" && filter.decision != "deny") {
    return InvalidArgument("invalid_decision", "decision must be allow or deny", "decision");
  }
  if (filter.before_seq < 0) {
    return InvalidArgument("invalid_before_seq", "before_seq must not be negative", "before_seq");
  }
  std::string sql = fmt::format("SELECT {} FROM audit_log WHERE seq {} $1", kColumns,
                                filter.newest_first ? "<" : ">");
  std::vector<Value> params = {
      Int(filter.newest_first ? (filter.before_seq > 0 ? filter.before_seq : INT64_MAX)
                              : filter.after_seq)};
  const auto add = [&](std::string_view condition, std::string value) {
    params.push_back(Text(std::move(value)));
    sql += fmt::format(" AND {} ${}", condition, params.size());
  };
  if (!filter.actor.empty()) add("actor =", filter.actor);
  if (!filter.resource.empty()) add("resource =", filter.resource);
  if (!filter.action.empty()) add("action =", filter.action);
  if (!filter.decision.empty()) add("decision =", filter.decision);
  // Prefixes match literally: LIKE's wildcards in the text are escaped.
  const auto like_prefix = [](std::string_view text) {
    std::string out;
    for (char c : text) {
      if (c == '%' || c == '_' || c == '!') out += '!';
      out += c;
    }
    return out + "%";
  };
  for (auto [column, prefix] : {std::pair{"actor", &filter.actor_prefix},
                                std::pair{"action", &filter.action_prefix}}) {
    if (prefix->empty()) continue;
    params.push_back(Text(like_prefix(*prefix)));
    sql += fmt::format(" AND {} LIKE ${} ESCAPE '!'", column, params.size());
  }
  if (!filter.from.empty()) {
    auto from = NormaliseTime(filter.from, "from");
    if (!from.ok()) return from.error();
    add("time >=", std::move(from).value());
  }
  if (!filter.to.empty()) {
    auto to = NormaliseTime(filter.to, "to");
    if (!to.ok()) return to.error();
    add("time <", std::move(to).value());
  }
  // why: one row more than asked tells whether a next page exists without a second query.
  sql += fmt::format(" ORDER BY seq{} LIMIT {}", filter.newest_first ? " DESC" : "",
                     filter.limit + 1);

  auto tx = store_.Begin(storage::TxMode::kRead);
  if (!tx.ok()) return tx.error();
  auto rows = (*tx)->Query(sql, params);
  if (!rows.ok()) return rows.error();
  Page page;
  const size_t limit = static_cast<size_t>(filter.limit);
  for (size_t i = 0; i < rows->size() && i < limit; ++i) {
    page.items.push_back(FromRow(rows->rows[i]));
  }
  if (rows->size() > limit) page.next_after_seq = page.items.back().seq;
  return page;
}

Result<Head> Log::GetHead() { return ReadHead(store_); }

Status AppendInTransaction(storage::Store& store, storage::Transaction& tx, const Clock& clock,
                           Record& r) {
  ZG_RETURN_IF_ERROR(ValidateRecord(r));
  Record* one[] = {&r};
  return WriteRecords(store.backend(), tx, one, &clock);
}

Result<Head> ReadHead(storage::Store& store) {
  auto tx = store.Begin(storage::TxMode::kRead);
  if (!tx.ok()) return tx.error();
  return ReadHeadIn(**tx);
}

Result<std::vector<Record>> ReadRecords(storage::Transaction& tx, int64_t after_seq,
                                        int64_t limit) {
  auto rows = tx.Query(
      fmt::format("SELECT {} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT {}", kColumns, limit),
      {Int(after_seq)});
  if (!rows.ok()) return rows.error();
  std::vector<Record> out;
  out.reserve(rows->size());
  for (const auto& row : rows->rows) out.push_back(FromRow(row));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Verification

Result<VerifyReport> Verify(storage::Store& store, int64_t page_size) {
  if (page_size < 1) {
    return InvalidArgument("invalid_page_size", "page_size must be at least 1", "page_size");
  }
  // why: one read transaction gives a consistent view on SQLite; on PostgreSQL each page sees
  // the latest commits, which is harmless because appends only ever add after the head.
  auto tx = store.Begin(storage::TxMode::kRead);
  if (!tx.ok()) return tx.error();
  const std::string sql = fmt::format(
      "SELECT {} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT {}", kColumns, page_size);
  VerifyReport report;
  int64_t prev_seq = 0;
  std::string prev_hash(kGenesisHash);
  for (;;) {
    auto rows = (*tx)->Query(sql, {Int(prev_seq)});
    if (!rows.ok()) return rows.error();
    for (const auto& row : rows->rows) {
      const Record r = FromRow(row);
      ++report.records;
      const bool gap = r.seq != prev_seq + 1;
      if (gap) {
        const int64_t first = prev_seq + 1, last = r.seq - 1;
        report.problems.push_back({first, "missing",
                                   first == last
                                       ? fmt::format("gap after {}", prev_seq)
                                       : fmt::format("gap after {}, {} records through {}",
                                                     prev_seq, last - first + 1, last)});
      }
      if (!gap && r.prev_hash != prev_hash) {
        report.problems.push_back(
            {r.seq, "broken_link",
             prev_seq == 0
                 ? std::string("prev_hash of the first record is not 64 zeros")
                 : fmt::format("prev_hash does not match the hash of record {}", prev_seq)});
      }
      if (ComputeHash(r) != r.hash) {
        report.problems.push_back({r.seq, "altered", "hash mismatch"});
      }
      // why: continuing from the stored hash keeps one tampered record from making every
      // later record look broken, so later problems stand out on their own.
      prev_seq = r.seq;
      prev_hash = r.hash;
    }
    if (rows->size() < static_cast<size_t>(page_size)) break;
  }
  report.head = {.seq = prev_seq, .hash = prev_hash};
  return report;
}

int RunVerifyCommand(storage::Store& store, std::ostream& out) {
  auto report = Verify(store);
  if (!report.ok()) {
    out << "audit verify failed: " << report.error().message << "\n";
    return 2;
  }
  if (report->intact()) {
    out << fmt::format("audit chain intact: {} records, head {}\n", report->records,
                       report->head.hash);
    return 0;
  }
  for (const Problem& p : report->problems) {
    out << fmt::format("record {}: {} ({})\n", p.seq, p.kind, p.detail);
  }
  out << fmt::format("audit chain broken: {} problems in {} records; first broken record: {}\n",
                     report->problems.size(), report->records, report->problems.front().seq);
  return 1;
}

}  // namespace zengen::audit
