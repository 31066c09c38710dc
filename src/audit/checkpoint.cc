#include "audit/checkpoint.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <numeric>
#include <sstream>
#include <utility>

#include "crypto/crypto.h"

namespace zengen::audit {
namespace {

using nlohmann::json;

constexpr std::string_view kBodyTag = "zengen audit checkpoint v1";
constexpr int64_t kPageSize = 1000;

Error Malformed(std::string_view field, std::string_view what) {
  return InvalidArgument("head_malformed", fmt::format("{} {}", field, what), std::string(field));
}

Result<std::string> HexField(const json& j, std::string_view field, size_t bytes) {
  const auto it = j.find(field);
  if (it == j.end() || !it->is_string()) return Malformed(field, "is missing");
  auto raw = crypto::FromHex(it->get<std::string>());
  if (!raw.ok() || raw->size() != bytes) {
    return Malformed(field, fmt::format("must be {} bytes in hex", bytes));
  }
  return std::move(raw).value();
}

Result<std::vector<std::string>> HashList(const json& j, std::string_view field) {
  const auto it = j.find(field);
  if (it == j.end()) return std::vector<std::string>();
  if (!it->is_array()) return Malformed(field, "must be an array");
  std::vector<std::string> out;
  for (const json& e : *it) {
    if (!e.is_string()) return Malformed(field, "must hold hex hashes");
    auto raw = crypto::FromHex(e.get<std::string>());
    if (!raw.ok() || raw->size() != merkle::kHashBytes) {
      return Malformed(field, "must hold 32-byte hashes in hex");
    }
    out.push_back(std::move(raw).value());
  }
  return out;
}

Result<int64_t> SizeField(const json& j, std::string_view field, bool required) {
  const auto it = j.find(field);
  if (it == j.end()) {
    if (required) return Malformed(field, "is missing");
    return int64_t{0};
  }
  if (!it->is_number_unsigned()) return Malformed(field, "must be a non-negative integer");
  const uint64_t v = it->get<uint64_t>();
  if (v > static_cast<uint64_t>(INT64_MAX)) return Malformed(field, "is out of range");
  return static_cast<int64_t>(v);
}

json HexList(const std::vector<std::string>& hashes) {
  json out = json::array();
  for (const std::string& h : hashes) out.push_back(crypto::ToHex(h));
  return out;
}

// Reads every record with seq > after (in pages) and hands each to f; stops at f's error.
template <typename F>
Status ForEachRecordAfter(storage::Transaction& tx, int64_t after, F&& f) {
  for (;;) {
    auto page = ReadRecords(tx, after, kPageSize);
    if (!page.ok()) return page.error();
    for (const Record& r : *page) {
      ZG_RETURN_IF_ERROR(f(r));
      after = r.seq;
    }
    if (static_cast<int64_t>(page->size()) < kPageSize) return Status::Ok();
  }
}

// Checks that the log still holds seq `size` (the last record of a tree of that size).
Status CheckNotTruncated(storage::Transaction& tx, int64_t size) {
  if (size == 0) return Status::Ok();
  auto last = ReadRecords(tx, size - 1, 1);
  if (!last.ok()) return last.error();
  if (last->empty() || last->front().seq != size) {
    return Internal("audit_log_truncated",
                    fmt::format("the audit log no longer holds record {}, which the last signed "
                                "head covers; run `zengen audit verify --against` on the heads "
                                "file",
                                size));
  }
  return Status::Ok();
}

}  // namespace

std::string SignedBody(const SignedHead& h) {
  return fmt::format("{}\n{}\n{}\n{}\n", kBodyTag, h.tree_size, crypto::ToHex(h.root_hash),
                     h.timestamp);
}

bool SignatureValid(const SignedHead& h, std::string_view public_key) {
  return h.public_key == public_key &&
         crypto::ed25519::Verify(public_key, SignedBody(h), h.signature);
}

json HeadJson(const SignedHead& h) {
  return {{"tree_size", h.tree_size},
          {"root_hash", crypto::ToHex(h.root_hash)},
          {"timestamp", h.timestamp},
          {"public_key", crypto::ToHex(h.public_key)},
          {"signature", crypto::ToHex(h.signature)},
          {"previous_size", h.previous_size},
          {"consistency", HexList(h.consistency)},
          {"compact_range", HexList(h.compact_range)}};
}

Result<SignedHead> ParseHead(std::string_view line) {
  const json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return Malformed("head", "is not a JSON object");
  SignedHead h;
  ZG_ASSIGN_OR_RETURN(h.tree_size, SizeField(j, "tree_size", true));
  ZG_ASSIGN_OR_RETURN(h.root_hash, HexField(j, "root_hash", merkle::kHashBytes));
  const auto ts = j.find("timestamp");
  if (ts == j.end() || !ts->is_string()) return Malformed("timestamp", "is missing");
  auto time = NormaliseTime(ts->get<std::string>(), "timestamp");
  if (!time.ok()) return Malformed("timestamp", "is not an RFC 3339 UTC time");
  h.timestamp = ts->get<std::string>();
  ZG_ASSIGN_OR_RETURN(h.public_key, HexField(j, "public_key", crypto::ed25519::kPublicKeyBytes));
  ZG_ASSIGN_OR_RETURN(h.signature, HexField(j, "signature", crypto::ed25519::kSignatureBytes));
  ZG_ASSIGN_OR_RETURN(h.previous_size, SizeField(j, "previous_size", false));
  ZG_ASSIGN_OR_RETURN(h.consistency, HashList(j, "consistency"));
  ZG_ASSIGN_OR_RETURN(h.compact_range, HashList(j, "compact_range"));
  return h;
}

Result<std::vector<SignedHead>> ReadHeadsFile(const std::filesystem::path& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    return NotFound("heads_file_missing", fmt::format("cannot read {}", path.string()));
  }
  std::stringstream buf;
  buf << f.rdbuf();
  const std::string text = buf.str();
  std::vector<SignedHead> heads;
  size_t start = 0;
  int64_t line_no = 0;
  while (start < text.size()) {
    const size_t end = text.find('\n', start);
    // why: a line without its newline is a write that a crash cut short; its head was never
    // published, so it is not evidence of anything.
    if (end == std::string::npos) break;
    ++line_no;
    auto h = ParseHead(std::string_view(text).substr(start, end - start));
    if (!h.ok()) {
      return InvalidArgument("head_malformed", fmt::format("{} line {}: {}", path.string(),
                                                           line_no, h.error().message));
    }
    heads.push_back(std::move(h).value());
    start = end + 1;
  }
  return heads;
}

std::string LeafOf(const Record& r) { return Canonical(r); }

// ---------------------------------------------------------------------------------------------
// Checkpointer

Checkpointer::Checkpointer(storage::Store& store, const Clock& clock, CheckpointOptions options,
                           crypto::ed25519::KeyPair key)
    : store_(store), clock_(clock), options_(std::move(options)), key_(std::move(key)) {}

Result<std::unique_ptr<Checkpointer>> Checkpointer::Open(storage::Store& store, const Clock& clock,
                                                         CheckpointOptions options) {
  ZG_ASSIGN_OR_RETURN(crypto::ed25519::KeyPair key,
                      crypto::ed25519::LoadOrCreateKeyFile(options.key_file));
  std::unique_ptr<Checkpointer> c(new Checkpointer(store, clock, std::move(options), std::move(key)));
  std::error_code ec;
  std::vector<SignedHead> heads;
  if (std::filesystem::exists(c->options_.heads_file, ec)) {
    auto read = ReadHeadsFile(c->options_.heads_file);
    if (!read.ok()) return Internal("heads_file_invalid", read.error().message);
    heads = std::move(read).value();
  }
  auto tx = store.Begin(storage::TxMode::kRead);
  if (!tx.ok()) return tx.error();
  if (!heads.empty()) {
    const SignedHead& last = heads.back();
    if (!SignatureValid(last, c->key_.public_key)) {
      return Internal("head_signature_invalid",
                      fmt::format("the last head in {} is not signed by {}",
                                  c->options_.heads_file.string(), c->options_.key_file.string()));
    }
    auto range = merkle::CompactRange::FromNodes(last.tree_size, last.compact_range);
    if (!range.ok() || range->Root() != last.root_hash) {
      return Internal("heads_file_invalid",
                      fmt::format("the compact range of the last head in {} does not match its "
                                  "signed root",
                                  c->options_.heads_file.string()));
    }
    ZG_RETURN_IF_ERROR(CheckNotTruncated(**tx, last.tree_size));
    c->tree_ = std::move(range).value();
    c->latest_ = last;
    return c;
  }
  // why: no head has been published yet (first start, or an installation from before heads
  // existed): the tree starts from the records as they are now.
  ZG_RETURN_IF_ERROR(ForEachRecordAfter(**tx, 0, [&](const Record& r) -> Status {
    if (r.seq != c->tree_.size() + 1) {
      return Internal("audit_log_gap", fmt::format("audit record {} is missing", c->tree_.size() + 1));
    }
    c->tree_.Append(merkle::LeafHash(LeafOf(r)));
    return Status::Ok();
  }));
  return c;
}

Checkpointer::~Checkpointer() { Stop(); }

Result<SignedHead> Checkpointer::Checkpoint() {
  std::lock_guard lock(mu_);
  auto tx = store_.Begin(storage::TxMode::kRead);
  if (!tx.ok()) return tx.error();
  ZG_RETURN_IF_ERROR(CheckNotTruncated(**tx, tree_.size()));
  merkle::CompactRange next = tree_;
  std::vector<std::string> new_leaves;
  ZG_RETURN_IF_ERROR(ForEachRecordAfter(**tx, tree_.size(), [&](const Record& r) -> Status {
    if (r.seq != next.size() + 1) {
      return Internal("audit_log_gap", fmt::format("audit record {} is missing", next.size() + 1));
    }
    new_leaves.push_back(merkle::LeafHash(LeafOf(r)));
    next.Append(new_leaves.back());
    return Status::Ok();
  }));
  if (latest_ && new_leaves.empty()) return *latest_;

  SignedHead h;
  h.tree_size = next.size();
  h.root_hash = next.Root();
  h.timestamp = FormatRfc3339(clock_.Now());
  h.public_key = key_.public_key;
  h.signature = crypto::ed25519::Sign(key_, SignedBody(h));
  if (latest_) {
    h.previous_size = tree_.size();
    h.consistency = merkle::ConsistencyProof(tree_, new_leaves);
  }
  h.compact_range = next.nodes();
  ZG_RETURN_IF_ERROR(AppendHead(h));
  tree_ = std::move(next);
  latest_ = h;
  return h;
}

Status Checkpointer::AppendHead(const SignedHead& h) {
  const std::string line = HeadJson(h).dump() + "\n";
  const auto& path = options_.heads_file;
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Internal("heads_file_write_failed",
                    fmt::format("cannot open {}: {}", path.string(), std::strerror(errno)));
  }
  // why: the mode is set explicitly rather than left to the umask.
  ::fchmod(fd, 0600);
  // why: one write() per line, so a crash leaves at most a torn last line, which readers skip.
  const ssize_t n = ::write(fd, line.data(), line.size());
  const bool ok = n == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
  const int saved = errno;
  ::close(fd);
  if (!ok) {
    return Internal("heads_file_write_failed",
                    fmt::format("cannot write {}: {}", path.string(), std::strerror(saved)));
  }
  if (options_.syslog) {
    ::syslog(LOG_AUTHPRIV | LOG_NOTICE, "zengen audit head %s", line.c_str());
  }
  return Status::Ok();
}

std::optional<SignedHead> Checkpointer::Latest() const {
  std::lock_guard lock(mu_);
  return latest_;
}

void Checkpointer::Start(std::chrono::milliseconds interval) {
  std::lock_guard lock(mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this, interval] {
    std::unique_lock lk(mu_);
    for (;;) {
      // why: one checkpoint at start, one per interval, and one more after the stop request,
      // so that the last records the server wrote are covered by a signed head.
      const bool last = stopping_;
      lk.unlock();
      auto h = Checkpoint();
      if (!h.ok()) {
        spdlog::error("audit checkpoint failed: {} [{}]", h.error().message, h.error().code);
      }
      lk.lock();
      if (last) return;
      cv_.wait_for(lk, interval, [&] { return stopping_; });
    }
  });
}

void Checkpointer::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

// ---------------------------------------------------------------------------------------------
// Verification against published heads

Result<AnchorReport> VerifyAgainstHeads(storage::Store& store, std::span<const SignedHead> heads,
                                        std::string_view public_key) {
  AnchorReport report;
  report.heads = static_cast<int64_t>(heads.size());
  std::map<size_t, std::string> problems;  // by head index; the first problem of each head
  const auto add = [&](size_t i, std::string detail) { problems.emplace(i, std::move(detail)); };

  for (size_t i = 0; i < heads.size(); ++i) {
    const SignedHead& h = heads[i];
    if (!SignatureValid(h, public_key)) {
      add(i, "its signature does not verify with the data center's audit key");
      continue;
    }
    if (i == 0) continue;
    const SignedHead& prev = heads[i - 1];
    if (h.tree_size < prev.tree_size) {
      add(i, fmt::format("its tree size is smaller than the previous head's ({})", prev.tree_size));
    } else if (h.previous_size == prev.tree_size &&
               !merkle::VerifyConsistency(prev.tree_size, h.tree_size, prev.root_hash,
                                          h.root_hash, h.consistency)) {
      add(i, "it is not consistent with the previous head (the consistency proof fails)");
    }
  }

  // The log's tree, compared with each head's root when it reaches that head's size.
  std::vector<size_t> order(heads.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return heads[a].tree_size < heads[b].tree_size; });
  size_t next = 0;
  merkle::CompactRange tree;
  const auto compare_due = [&] {
    while (next < order.size() && heads[order[next]].tree_size == tree.size()) {
      if (heads[order[next]].root_hash != tree.Root()) {
        add(order[next],
            fmt::format("the log's first {} records no longer hash to the signed root (a record "
                        "up to seq {} was altered, removed or inserted)",
                        tree.size(), tree.size()));
      }
      ++next;
    }
  };
  compare_due();
  {
    auto tx = store.Begin(storage::TxMode::kRead);
    if (!tx.ok()) return tx.error();
    ZG_RETURN_IF_ERROR(ForEachRecordAfter(**tx, 0, [&](const Record& r) -> Status {
      tree.Append(merkle::LeafHash(LeafOf(r)));
      compare_due();
      return Status::Ok();
    }));
  }
  for (; next < order.size(); ++next) {
    add(order[next], fmt::format("the log holds only {} records, the head covers {} (records "
                                 "were removed)",
                                 tree.size(), heads[order[next]].tree_size));
  }
  report.records = tree.size();
  report.root_hash = tree.Root();
  for (auto& [i, detail] : problems) {
    report.problems.push_back({.line = static_cast<int64_t>(i) + 1,
                               .tree_size = heads[i].tree_size,
                               .timestamp = heads[i].timestamp,
                               .detail = std::move(detail)});
  }
  return report;
}

int RunVerifyAgainstCommand(storage::Store& store, const std::filesystem::path& key_file,
                            const std::filesystem::path& heads_file, std::ostream& out) {
  auto key = crypto::ed25519::LoadKeyFile(key_file);
  if (!key.ok()) {
    out << "audit verify failed: " << key.error().message << "\n";
    return 2;
  }
  auto heads = ReadHeadsFile(heads_file);
  if (!heads.ok()) {
    out << "audit verify failed: " << heads.error().message << "\n";
    return 2;
  }
  const int chain = RunVerifyCommand(store, out);
  if (chain == 2) return 2;
  auto report = VerifyAgainstHeads(store, *heads, key->public_key);
  if (!report.ok()) {
    out << "audit verify failed: " << report.error().message << "\n";
    return 2;
  }
  const auto describe = [](const AnchorProblem& p) {
    return fmt::format("head {} (tree size {}, signed {})", p.line, p.tree_size, p.timestamp);
  };
  if (!report->intact()) {
    for (const AnchorProblem& p : report->problems) {
      out << fmt::format("{}: {}\n", describe(p), p.detail);
    }
    const AnchorProblem& first = report->problems.front();
    out << fmt::format("audit log does not extend {}: {}\n", describe(first), first.detail);
    return 1;
  }
  out << fmt::format("audit log extends all {} signed heads: {} records, tree root {}\n",
                     report->heads, report->records, crypto::ToHex(report->root_hash));
  return chain;
}

}  // namespace zengen::audit
