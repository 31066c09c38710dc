#include "blobs/local_store.h"

#include <sys/stat.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <future>
#include <optional>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "blobs/sites.h"
#include "crypto/crypto.h"

namespace zengen::blobs {
namespace {

namespace fs = std::filesystem;
using internal::CopySink;
using internal::CopySource;
using internal::KeyOf;
using internal::Sha256Stream;
using internal::SiteIo;
using internal::ValidBlobId;
using storage::Int;
using storage::Text;
using storage::TxMode;

constexpr size_t kIoChunk = 1 << 20;
constexpr std::string_view kDefaultMediaType = "application/octet-stream";

bool IsLowerHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool ValidRootName(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

bool ValidJurisdiction(std::string_view s) {
  return s.size() == 2 && std::all_of(s.begin(), s.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

bool ValidTier(std::string_view t) { return t == "hot" || t == "cold"; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  for (;;) {
    size_t i = s.find(sep);
    out.push_back(s.substr(0, i));
    if (i == std::string_view::npos) break;
    s.remove_prefix(i + 1);
  }
  return out;
}

std::string NewBlobId() { return "blob_" + crypto::ToHex(crypto::RandomBytes(16)); }

constexpr const char* kBlobColumns =
    "id, kind, tier, media_type, size, stored_sha256, plaintext_sha256, plaintext_size, "
    "created_at";

Result<BlobInfo> LoadBlob(storage::Transaction& tx, std::string_view id) {
  ZG_ASSIGN_OR_RETURN(auto rows,
                      tx.Query(fmt::format("SELECT {} FROM blobs WHERE id = $1", kBlobColumns),
                               {Text(std::string(id))}));
  if (rows.empty()) return NotFound("blob_not_found", fmt::format("no blob {}", id));
  const auto& r = rows.rows[0];
  BlobInfo b{.id = r.Text(0),
             .kind = r.Text(1),
             .tier = r.Text(2),
             .media_type = r.Text(3),
             .size = r.Int(4),
             .stored_sha256 = r.Text(5),
             .plaintext_sha256 = r.Text(6),
             .plaintext_size = r.Int(7),
             .created_at = r.Text(8)};
  ZG_ASSIGN_OR_RETURN(auto copies,
                      tx.Query("SELECT root, path, sha256, verified_at, status, "
                               "COALESCE(size, -1), COALESCE(version_id, '') FROM blob_copies "
                               "WHERE blob_id = $1 ORDER BY root",
                               {Text(b.id)}));
  for (const auto& c : copies.rows) {
    b.copies.push_back({.root = c.Text(0),
                        .path = c.Text(1),
                        .sha256 = c.Text(2),
                        .verified_at = c.Text(3),
                        .status = c.Text(4),
                        .size = c.Int(5) < 0 ? b.size : c.Int(5),
                        .version_id = c.Text(6)});
  }
  return b;
}

// Streams a copy from a good source to a site, verified against the recorded digest (the
// target is read back). Returns the new copy's version id.
Result<std::string> CopyBetweenSites(CopySource& source, SiteIo& target, const BlobInfo& blob,
                                     const std::string& key, const Clock& clock) {
  ZG_ASSIGN_OR_RETURN(auto sink, target.Begin(blob.id, key, clock));
  Sha256Stream sha;
  for (int64_t off = 0; off < blob.size;) {
    size_t n = static_cast<size_t>(std::min<int64_t>(kIoChunk, blob.size - off));
    auto piece = source.ReadAt(off, n);
    if (!piece.ok()) {
      sink->Discard();
      return piece.error();
    }
    sha.Update(*piece);
    Status s = sink->Write(*piece);
    if (!s.ok()) {
      sink->Discard();
      return s.error();
    }
    off += static_cast<int64_t>(n);
  }
  if (sha.HexFinal() != blob.stored_sha256) {
    sink->Discard();
    return Unavailable("blob_verify_failed",
                       fmt::format("source copy of {} does not match the recorded SHA-256",
                                   blob.id));
  }
  ZG_ASSIGN_OR_RETURN(std::string version, sink->Finish(blob.stored_sha256, blob.size, true));
  sink->Keep();
  return version;
}

}  // namespace

bool IsKnownKind(std::string_view kind) {
  return std::find(std::begin(kKinds), std::end(kKinds), kind) != std::end(kKinds);
}

std::string DefaultTier(std::string_view kind) { return kind == "fastq" ? "cold" : "hot"; }

Result<std::vector<Root>> ParseRoots(std::string_view spec, const fs::path& base_dir) {
  std::vector<Root> out;
  std::set<std::string> names;
  for (std::string_view entry : Split(spec, ';')) {
    entry = Trim(entry);
    if (entry.empty()) continue;
    auto bad = [&](std::string_view why) {
      return InvalidArgument("invalid_blob_roots",
                             fmt::format("root entry \"{}\": {} (expected "
                                         "name:tier:jurisdiction:path)",
                                         entry, why),
                             "blob_roots");
    };
    std::vector<std::string_view> f;
    std::string_view rest = entry;
    for (int i = 0; i < 3; ++i) {
      size_t c = rest.find(':');
      if (c == std::string_view::npos) return bad("too few fields");
      f.push_back(Trim(rest.substr(0, c)));
      rest.remove_prefix(c + 1);
    }
    f.push_back(Trim(rest));
    if (!ValidRootName(f[0])) return bad("name must be 1-64 of [a-z0-9_-]");
    if (!names.insert(std::string(f[0])).second) return bad("duplicate name");
    if (!ValidTier(f[1])) return bad("tier must be hot or cold");
    if (!ValidJurisdiction(f[2])) return bad("jurisdiction must be an ISO 3166 code like JP");
    if (f[3].empty()) return bad("empty path");
    fs::path p(std::string{f[3]});
    if (p.is_relative()) p = base_dir / p;
    out.push_back({.name = std::string(f[0]),
                   .path = p.lexically_normal(),
                   .tier = std::string(f[1]),
                   .jurisdiction = std::string(f[2])});
  }
  if (out.empty()) {
    return InvalidArgument("invalid_blob_roots", "no storage roots configured", "blob_roots");
  }
  return out;
}

Result<std::vector<std::string>> ParseJurisdictions(std::string_view spec) {
  std::vector<std::string> out;
  for (std::string_view j : Split(spec, ',')) {
    j = Trim(j);
    if (j.empty()) continue;
    if (!ValidJurisdiction(j)) {
      return InvalidArgument("invalid_allowed_jurisdictions",
                             fmt::format("\"{}\" is not an ISO 3166-1 alpha-2 code like JP", j),
                             "allowed_jurisdictions");
    }
    if (std::find(out.begin(), out.end(), j) == out.end()) out.emplace_back(j);
  }
  if (out.empty()) {
    return InvalidArgument("invalid_allowed_jurisdictions",
                           "at least one jurisdiction must be allowed", "allowed_jurisdictions");
  }
  return out;
}

Result<std::vector<Root>> ParseS3Sites(std::string_view spec, const fs::path& base_dir) {
  std::vector<Root> out;
  std::set<std::string> names;
  for (std::string_view entry : Split(spec, ';')) {
    entry = Trim(entry);
    if (entry.empty()) continue;
    auto bad = [&](std::string_view why) {
      return InvalidArgument("invalid_blob_s3_sites",
                             fmt::format("S3 site entry \"{}\": {}", entry, why),
                             "blob_s3_sites");
    };
    Root site{.kind = "s3"};
    std::set<std::string> seen;
    for (std::string_view tok : Split(entry, ' ')) {
      tok = Trim(tok);
      if (tok.empty()) continue;
      size_t eq = tok.find('=');
      if (eq == std::string_view::npos) return bad(fmt::format("\"{}\" is not key=value", tok));
      std::string key(tok.substr(0, eq));
      std::string value(tok.substr(eq + 1));
      if (!seen.insert(key).second) return bad(fmt::format("{} given twice", key));
      if (key == "name") {
        site.name = value;
      } else if (key == "tier") {
        site.tier = value;
      } else if (key == "jurisdiction") {
        site.jurisdiction = value;
      } else if (key == "organisation") {
        site.organisation = value;
      } else if (key == "endpoint") {
        site.endpoint = value;
      } else if (key == "bucket") {
        site.bucket = value;
      } else if (key == "region") {
        site.region = value;
      } else if (key == "credentials") {
        fs::path p(value);
        site.credentials_file = (p.is_relative() ? base_dir / p : p).lexically_normal();
      } else if (key == "part_size_mib" || key == "retention_days") {
        int64_t n = 0;
        auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
        if (ec != std::errc() || ptr != value.data() + value.size() || n < 1 || n > 36500) {
          return bad(fmt::format("{} must be a positive integer", key));
        }
        if (key == "part_size_mib") {
          if (n < 5 || n > 5120) return bad("part_size_mib must be 5..5120");
          site.part_size = n << 20;
        } else {
          site.retention_days = static_cast<int>(n);
        }
      } else if (key == "object_lock") {
        if (value != "compliance" && value != "governance") {
          return bad("object_lock must be compliance or governance");
        }
        site.object_lock = value == "compliance" ? "COMPLIANCE" : "GOVERNANCE";
      } else {
        return bad(fmt::format("unknown key {}", key));
      }
    }
    if (!ValidRootName(site.name)) return bad("name must be 1-64 of [a-z0-9_-]");
    if (!names.insert(site.name).second) return bad("duplicate name");
    if (!ValidTier(site.tier)) return bad("tier must be hot or cold");
    if (!ValidJurisdiction(site.jurisdiction)) {
      return bad("jurisdiction must be an ISO 3166 code like JP");
    }
    if (!site.endpoint.starts_with("http://") && !site.endpoint.starts_with("https://")) {
      return bad("endpoint must be http(s)://host[:port]");
    }
    if (site.bucket.empty()) return bad("bucket missing");
    if (site.credentials_file.empty()) return bad("credentials file missing");
    if (!site.object_lock.empty() && site.retention_days == 0) {
      return bad("object_lock needs retention_days");
    }
    out.push_back(std::move(site));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Writer

class LocalWriter final : public Writer {
 public:
  struct Slot {
    SiteIo* site;
    std::unique_ptr<CopySink> sink;
    std::string version_id;
  };

  LocalWriter(LocalStore& store, BlobInfo info, std::string expected_plain)
      : store_(store), info_(std::move(info)), expected_plain_(std::move(expected_plain)) {}
  ~LocalWriter() override { Abort(); }
  const std::string& id() const override { return info_.id; }

  // Starts a copy at each site; on error discards those already started.
  Status Open(const std::vector<SiteIo*>& sites) {
    const std::string key = KeyOf(info_.id);
    for (SiteIo* site : sites) {
      auto sink = site->Begin(info_.id, key, store_.clock_);
      if (!sink.ok()) return Fail(sink.error());
      slots_.push_back({.site = site, .sink = std::move(*sink)});
    }
    return Status::Ok();
  }

  Status Write(std::string_view bytes) override {
    if (finished_) return Finished();
    for (auto& s : slots_) {
      Status w = s.sink->Write(bytes);
      if (!w.ok()) return Fail(w.error());
    }
    sha_.Update(bytes);
    size_ += static_cast<int64_t>(bytes.size());
    return Status::Ok();
  }

  Result<BlobInfo> Commit(std::string_view plaintext_sha256, int64_t plaintext_size) override {
    if (finished_) return Finished();
    std::string plain(plaintext_sha256);
    std::transform(plain.begin(), plain.end(), plain.begin(),
                   [](char c) { return c >= 'A' && c <= 'F' ? static_cast<char>(c + 32) : c; });
    if (plain.size() != 64 || !IsLowerHex(plain)) {
      return Fail(InvalidArgument("invalid_plaintext_sha256",
                                  "plaintext SHA-256 must be 64 hex digits", "plaintext_sha256"));
    }
    if (!expected_plain_.empty() && expected_plain_ != plain) {
      return Fail(InvalidArgument("plaintext_sha256_mismatch",
                                  "plaintext SHA-256 differs from the one announced at Create",
                                  "plaintext_sha256"));
    }
    if (plaintext_size < 0) {
      return Fail(InvalidArgument("invalid_plaintext_size", "plaintext size must be >= 0",
                                  "plaintext_size"));
    }
    info_.stored_sha256 = sha_.HexFinal();
    info_.size = size_;
    info_.plaintext_sha256 = plain;
    info_.plaintext_size = plaintext_size;

    // 1. Every copy durable at its key and checked against the bytes written (local: re-read
    //    from disk; S3: size and multipart ETag of the stored object). The copies finish side
    //    by side (each sink owns its file or upload; nothing is shared), so the wait is the
    //    slowest copy's — a local fsync and read-back overlap the upload's last parts — not
    //    their sum. All are waited for before any failure is returned; Fail discards them all.
    std::vector<std::future<Result<std::string>>> others;
    for (size_t i = 1; i < slots_.size(); ++i) {
      others.push_back(std::async(std::launch::async,
                                  [sink = slots_[i].sink.get(), sha = info_.stored_sha256,
                                   size = size_] { return sink->Finish(sha, size, false); }));
    }
    std::vector<Result<std::string>> versions;
    if (!slots_.empty()) versions.push_back(slots_[0].sink->Finish(info_.stored_sha256, size_, false));
    for (auto& f : others) versions.push_back(f.get());
    for (size_t i = 0; i < versions.size(); ++i) {
      if (!versions[i].ok()) return Fail(versions[i].error());
      slots_[i].version_id = std::move(*versions[i]);
    }
    // 2. Recorded in one transaction: only now is the object stored.
    const std::string now = FormatRfc3339(store_.clock_.Now());
    info_.created_at = now;
    info_.copies.clear();
    for (const auto& s : slots_) {
      info_.copies.push_back({.root = s.site->site().name,
                              .path = KeyOf(info_.id),
                              .sha256 = info_.stored_sha256,
                              .verified_at = now,
                              .status = "ok",
                              .size = size_,
                              .version_id = s.version_id});
    }
    std::sort(info_.copies.begin(), info_.copies.end(),
              [](const CopyInfo& a, const CopyInfo& b) { return a.root < b.root; });
    Status recorded = Record();
    if (!recorded.ok()) return Fail(recorded.error());
    finished_ = true;
    for (auto& s : slots_) s.sink->Keep();  // the copies are the object now
    slots_.clear();
    if (!store_.options_.audit_in_transaction) {
      ZG_RETURN_IF_ERROR(store_.audit_.Append(WriteEvent()));
    }
    return info_;
  }

  void Abort() override {
    for (auto& s : slots_) s.sink->Discard();
    slots_.clear();
    finished_ = true;
  }

 private:
  Status Record() {
    ZG_ASSIGN_OR_RETURN(auto tx, store_.store_.Begin(TxMode::kWrite));
    ZG_RETURN_IF_ERROR(tx->Exec(
        "INSERT INTO blobs (id, kind, tier, media_type, size, stored_sha256, plaintext_sha256, "
        "plaintext_size, replicas, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        {Text(info_.id), Text(info_.kind), Text(info_.tier), Text(info_.media_type),
         Int(info_.size), Text(info_.stored_sha256), Text(info_.plaintext_sha256),
         Int(info_.plaintext_size), Int(static_cast<int64_t>(info_.copies.size())),
         Text(info_.created_at)}));
    for (const auto& c : info_.copies) {
      ZG_RETURN_IF_ERROR(tx->Exec(
          "INSERT INTO blob_copies (blob_id, root, path, sha256, verified_at, status, size, "
          "version_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
          {Text(info_.id), Text(c.root), Text(c.path), Text(c.sha256), Text(c.verified_at),
           Text(c.status), Int(c.size), Text(c.version_id)}));
    }
    if (store_.options_.audit_in_transaction) {
      ZG_RETURN_IF_ERROR(store_.options_.audit_in_transaction(*tx, WriteEvent()));
    }
    return tx->Commit();
  }

  AuditEvent WriteEvent() const {
    std::vector<std::string> roots;
    for (const auto& c : info_.copies) roots.push_back(c.root);
    return {.actor = store_.options_.actor,
            .source = "system",
            .action = "blob.write",
            .resource = "blob/" + info_.id,
            .reason = "stored",
            .details = fmt::format(R"({{"kind":"{}","tier":"{}","size":{},"roots":["{}"]}})",
                                   info_.kind, info_.tier, info_.size,
                                   fmt::join(roots, "\",\""))};
  }

  Error Fail(Error e) {
    Abort();
    failed_ = e;
    return e;
  }
  Error Finished() const {
    if (failed_) return *failed_;
    return Conflict("writer_finished", "the writer was already committed or aborted");
  }

  LocalStore& store_;
  BlobInfo info_;
  std::string expected_plain_;
  std::vector<Slot> slots_;
  Sha256Stream sha_;
  int64_t size_ = 0;
  bool finished_ = false;
  std::optional<Error> failed_;
};

// ---------------------------------------------------------------------------------------------
// Reader

namespace {

class LocalReader final : public Reader {
 public:
  // unreachable: called when a read finds the site not answering (before the error returns).
  LocalReader(BlobInfo info, std::string root, std::unique_ptr<CopySource> source,
              std::function<void()> unreachable)
      : info_(std::move(info)), root_(std::move(root)), source_(std::move(source)),
        unreachable_(std::move(unreachable)) {}
  const BlobInfo& info() const override { return info_; }
  const std::string& root() const override { return root_; }

  Result<std::string> ReadAt(int64_t offset, size_t n) override {
    if (offset < 0 || offset > info_.size) {
      return InvalidArgument("range_out_of_bounds",
                             fmt::format("offset {} outside 0..{}", offset, info_.size),
                             "offset");
    }
    size_t want = static_cast<size_t>(
        std::min<int64_t>(static_cast<int64_t>(std::min<size_t>(n, INT64_MAX)),
                          info_.size - offset));
    if (want == 0) return std::string();
    auto got = source_->ReadAt(offset, want);
    if (!got.ok() && got.error().code == "site_unreachable") {
      // why: the port's readers know one read error (they fall back on it); which kind it was
      // is noted for ReportBadCopy, so that a site that is down never marks its copy corrupt.
      unreachable_();
      return Unavailable("blob_read_failed", got.error().message);
    }
    return got;
  }

 private:
  BlobInfo info_;
  std::string root_;
  std::unique_ptr<CopySource> source_;
  std::function<void()> unreachable_;
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// LocalStore

LocalStore::LocalStore(LocalStoreOptions options, storage::Store& store, const Clock& clock,
                       AuditSink& audit)
    : options_(std::move(options)), store_(store), clock_(clock), audit_(audit) {}

LocalStore::~LocalStore() = default;

Result<std::unique_ptr<LocalStore>> LocalStore::Create(LocalStoreOptions options,
                                                       storage::Store& store,
                                                       const Clock& clock, AuditSink& audit) {
  auto bad = [](std::string msg) {
    return InvalidArgument("invalid_blob_store_config", std::move(msg));
  };
  if (options.replicas < 2) return bad("replicas must be at least 2 (R3.9)");
  if (options.allowed_jurisdictions.empty()) return bad("no allowed jurisdictions");
  for (const auto& j : options.allowed_jurisdictions) {
    if (!ValidJurisdiction(j)) return bad(fmt::format("bad allowed jurisdiction \"{}\"", j));
  }
  std::set<std::string> names, places;
  for (auto& r : options.roots) {
    if (!ValidRootName(r.name)) return bad(fmt::format("bad root name \"{}\"", r.name));
    if (!names.insert(r.name).second) return bad(fmt::format("duplicate root \"{}\"", r.name));
    if (!ValidTier(r.tier)) return bad(fmt::format("root {}: bad tier \"{}\"", r.name, r.tier));
    if (!ValidJurisdiction(r.jurisdiction)) {
      return bad(fmt::format("root {}: bad jurisdiction \"{}\"", r.name, r.jurisdiction));
    }
    std::string place;
    if (r.kind == "local") {
      if (!r.path.is_absolute()) return bad(fmt::format("root {}: path not absolute", r.name));
      place = "local:" + r.path.lexically_normal().string();
    } else if (r.kind == "s3") {
      if (r.endpoint.empty() || r.bucket.empty()) {
        return bad(fmt::format("site {}: endpoint and bucket are required", r.name));
      }
      if (r.part_size < (5LL << 20)) return bad(fmt::format("site {}: part size below 5 MiB", r.name));
      if (!r.object_lock.empty() && (r.object_lock != "COMPLIANCE" && r.object_lock != "GOVERNANCE")) {
        return bad(fmt::format("site {}: object lock must be COMPLIANCE or GOVERNANCE", r.name));
      }
      if (!r.object_lock.empty() && r.retention_days < 1) {
        return bad(fmt::format("site {}: object lock needs a retention of at least a day", r.name));
      }
      ZG_RETURN_IF_ERROR(internal::LoadCredentials(r));
      place = "s3:" + r.endpoint + "/" + r.bucket;
    } else {
      return bad(fmt::format("site {}: kind must be local or s3", r.name));
    }
    // why: copies count only at distinct sites; two names for one place would make one copy
    // look like two.
    if (!places.insert(place).second) {
      return bad(fmt::format("site {}: same place as another site ({})", r.name, place));
    }
  }
  std::unique_ptr<LocalStore> out(new LocalStore(std::move(options), store, clock, audit));
  for (const auto& r : out->options_.roots) {
    ZG_ASSIGN_OR_RETURN(auto io, internal::MakeSiteIo(r));
    out->sites_.push_back(std::move(io));
  }
  return out;
}

bool LocalStore::Allowed(const Root& root) const {
  const auto& a = options_.allowed_jurisdictions;
  return std::find(a.begin(), a.end(), root.jurisdiction) != a.end();
}

SiteIo* LocalStore::FindSite(std::string_view name) const {
  for (const auto& s : sites_) {
    if (s->site().name == name) return s.get();
  }
  return nullptr;
}

Result<std::unique_ptr<Writer>> LocalStore::Create(const PutRequest& request) {
  if (!IsKnownKind(request.kind)) {
    return InvalidArgument("invalid_kind",
                           fmt::format("kind must be one of {}", fmt::join(kKinds, ", ")),
                           "kind");
  }
  std::string tier = request.tier.empty() ? DefaultTier(request.kind) : request.tier;
  if (!ValidTier(tier)) return InvalidArgument("invalid_tier", "tier must be hot or cold", "tier");
  std::string expected;
  if (!request.plaintext_sha256.empty()) {
    expected = request.plaintext_sha256;
    std::transform(expected.begin(), expected.end(), expected.begin(),
                   [](char c) { return c >= 'A' && c <= 'F' ? static_cast<char>(c + 32) : c; });
    if (expected.size() != 64 || !IsLowerHex(expected)) {
      return InvalidArgument("invalid_plaintext_sha256",
                             "plaintext SHA-256 must be 64 hex digits", "plaintext_sha256");
    }
  }

  // Placement: right tier, allowed jurisdiction, site usable; most free space first (an
  // object store counts as unlimited). Each copy at a different site.
  std::vector<std::pair<uint64_t, SiteIo*>> candidates;
  std::vector<std::string> refused;
  for (const auto& s : sites_) {
    const Root& r = s->site();
    if (r.tier != tier) continue;
    if (!Allowed(r)) {
      refused.push_back(fmt::format("{}: jurisdiction {} is not in allowed_jurisdictions (R1.2)",
                                    r.name, r.jurisdiction));
      continue;
    }
    uint64_t free_bytes = 0;
    if (!s->Usable(free_bytes)) {
      refused.push_back(fmt::format("{}: directory absent (not mounted?)", r.name));
      continue;
    }
    candidates.emplace_back(free_bytes, s.get());
  }
  if (static_cast<int>(candidates.size()) < options_.replicas) {
    return Unavailable(
        "insufficient_roots",
        fmt::format("{} copies required but only {} usable {} site(s) in allowed "
                    "jurisdictions ({}){}{}",
                    options_.replicas, candidates.size(), tier,
                    fmt::join(options_.allowed_jurisdictions, ", "),
                    refused.empty() ? "" : "; refused: ", fmt::join(refused, "; ")));
  }
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<SiteIo*> chosen;
  for (int i = 0; i < options_.replicas; ++i) chosen.push_back(candidates[i].second);

  BlobInfo info{.id = NewBlobId(),
                .kind = request.kind,
                .tier = tier,
                .media_type = request.media_type.empty() ? std::string(kDefaultMediaType)
                                                         : request.media_type};
  auto writer = std::make_unique<LocalWriter>(*this, std::move(info), std::move(expected));
  ZG_RETURN_IF_ERROR(writer->Open(chosen));
  return std::unique_ptr<Writer>(std::move(writer));
}

Result<BlobInfo> LocalStore::Stat(std::string_view blob_id) {
  if (!ValidBlobId(blob_id)) return NotFound("blob_not_found", fmt::format("no blob {}", blob_id));
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(TxMode::kRead));
  return LoadBlob(*tx, blob_id);
}

Result<std::unique_ptr<Reader>> LocalStore::Open(std::string_view blob_id) {
  return OpenExcept(blob_id, {});
}

Result<std::unique_ptr<Reader>> LocalStore::OpenExcept(
    std::string_view blob_id, const std::vector<std::string>& skip_roots) {
  ZG_ASSIGN_OR_RETURN(BlobInfo info, Stat(blob_id));
  for (const auto& c : info.copies) {
    if (c.status != "ok") continue;
    if (std::find(skip_roots.begin(), skip_roots.end(), c.root) != skip_roots.end()) continue;
    SiteIo* site = FindSite(c.root);
    if (site == nullptr) continue;
    auto source = site->Open(c.path, info.size, c.version_id);
    if (!source.ok()) {
      // The site answered with a copy of another length: that copy is bad (scrub repairs it).
      // A site that does not answer, or a missing copy, is only skipped here.
      if (source.error().code == "copy_length_differs") {
        (void)ReportBadCopy(blob_id, c.root, source.error().code + ": " + source.error().message);
      }
      continue;
    }
    std::string root_name = c.root;
    return std::unique_ptr<Reader>(std::make_unique<LocalReader>(
        std::move(info), root_name, std::move(*source),
        [this, id = std::string(blob_id), root_name] { NoteUnreachable(id, root_name); }));
  }
  return Unavailable("no_healthy_copy",
                     fmt::format("no readable copy of {} with the recorded length", blob_id));
}

void LocalStore::NoteUnreachable(const std::string& blob_id, const std::string& root) {
  std::lock_guard lock(unreachable_mu_);
  // why: a note is taken back by the reader's report right after; the bound only stops notes
  // of readers that never report from piling up.
  if (unreachable_.size() >= 1024) unreachable_.clear();
  unreachable_.emplace(blob_id, root);
}

Status LocalStore::ReportBadCopy(std::string_view blob_id, std::string_view root,
                                 std::string_view detail) {
  // A site that does not answer says nothing about the copy: its state stays as it is, the
  // reader falls back, and the health view shows the site down (issue 17).
  bool unreachable = false;
  {
    std::lock_guard lock(unreachable_mu_);
    unreachable = unreachable_.erase({std::string(blob_id), std::string(root)}) > 0;
  }
  if (!unreachable) {
    SiteIo* site = FindSite(root);
    unreachable = site != nullptr && !site->Probe().ok();
  }
  if (unreachable) {
    spdlog::warn("blob {}: site {} did not answer a read ({}); the copy is kept as it is, reads "
                 "continue from another copy",
                 blob_id, root, detail);
    return audit_.Append({.actor = options_.actor,
                          .source = "system",
                          .action = "blob.site_unreachable",
                          .resource = "blob/" + std::string(blob_id),
                          .reason = fmt::format("site {} did not answer a read: {}", root, detail),
                          .details = nlohmann::json{{"root", root}, {"detail", detail}}.dump(
                              -1, ' ', false, nlohmann::json::error_handler_t::replace)});
  }
  int64_t marked = 0;
  {
    ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(TxMode::kWrite));
    ZG_ASSIGN_OR_RETURN(marked, tx->Exec("UPDATE blob_copies SET status = 'corrupt' WHERE "
                                         "blob_id = $1 AND root = $2 AND status = 'ok'",
                                         {Text(std::string(blob_id)), Text(std::string(root))}));
    ZG_RETURN_IF_ERROR(tx->Commit());
  }
  if (marked == 0) return Status::Ok();  // already reported (or unknown): one alert per copy
  spdlog::error("blob {}: copy on root {} is bad ({}); reads continue from another copy, "
                "`zengen storage scrub` repairs it",
                blob_id, root, detail);
  return audit_.Append({.actor = options_.actor,
                        .source = "system",
                        .action = "blob.copy_corrupt",
                        .resource = "blob/" + std::string(blob_id),
                        .reason = fmt::format("copy on root {} failed a read: {}", root, detail),
                        .details = nlohmann::json{{"root", root}, {"detail", detail}}.dump(
                            -1, ' ', false, nlohmann::json::error_handler_t::replace)});
}

Result<int64_t> LocalStore::RemoveUnrecorded(std::string_view blob_id) {
  if (!ValidBlobId(blob_id)) return int64_t{0};
  auto recorded = Stat(blob_id);
  if (recorded.ok()) return int64_t{0};
  if (recorded.error().kind != ErrorKind::kNotFound) return recorded.error();
  int64_t removed = 0;
  const std::string id(blob_id);
  for (const auto& s : sites_) removed += s->RemoveUnrecorded(id, KeyOf(id));
  return removed;
}

int64_t LocalStore::RemoveInterruptedWrites(std::chrono::seconds min_age) {
  const auto cutoff = std::chrono::system_clock::now() - min_age;
  int64_t removed = 0;
  for (const auto& s : sites_) removed += s->RemoveStaleWrites(cutoff);
  return removed;
}

Result<ScrubBlob> LocalStore::ScrubOne(const BlobInfo& blob, const ScrubOptions& options,
                                       ScrubReport& report) {
  struct State {
    const CopyInfo* copy;
    SiteIo* site = nullptr;
    std::string problem;  // "", "corrupt", "missing", "root_unavailable"
    std::string detail;
  };
  std::vector<State> states;
  for (const auto& c : blob.copies) {
    State s{.copy = &c, .site = FindSite(c.root)};
    if (s.site == nullptr) {
      s.problem = "root_unavailable";
      s.detail = "root not configured";
    } else {
      auto h = s.site->Check(c.path, options.full, c.version_id);
      if (!h.ok()) {
        const std::string& code = h.error().code;
        s.problem = code == "missing" ? "missing"
                    : code == "site_unavailable" ? "root_unavailable"
                                                 : "corrupt";
        s.detail = h.error().message;
      } else if (h->size != blob.size) {
        s.problem = "corrupt";
        s.detail = fmt::format("size {} instead of {}", h->size, blob.size);
      } else if (options.full && h->sha256 != blob.stored_sha256) {
        s.problem = "corrupt";
        s.detail = "SHA-256 differs from the recorded one";
      }
    }
    states.push_back(std::move(s));
  }
  // Sources for repairs: every copy that passed. In quick mode a copy of the right size may
  // still be corrupt; CopyBetweenSites hashes what it copies, so the next source is tried.
  std::vector<const State*> goods;
  for (const auto& s : states) {
    if (s.problem.empty()) goods.push_back(&s);
  }

  const std::string now = FormatRfc3339(clock_.Now());
  ScrubBlob out{.blob_id = blob.id, .outcome = "ok"};
  std::vector<AuditEvent> events;
  struct Update {
    std::string root, status, version_id;
    bool verified = false, new_version = false;
  };
  std::vector<Update> updates;
  for (auto& s : states) {
    ScrubCopy rc{.root = s.copy->root, .path = s.copy->path, .detail = s.detail};
    Update u{.root = s.copy->root, .status = s.copy->status};
    if (s.problem.empty()) {
      rc.action = "ok";
      // Quick mode saw presence and size only: the content is not re-verified.
      u.verified = options.full;
      if (options.full) u.status = "ok";
      ++report.copies_ok;
    } else if (s.problem == "root_unavailable") {
      rc.action = "root_unavailable";
      ++report.root_unavailable;
      if (out.outcome == "ok") out.outcome = "unchecked";
    } else {
      Result<std::string> repaired = Internal("no_good_copy", "no good copy to repair from");
      for (const State* good : goods) {
        auto source = good->site->Open(good->copy->path, blob.size, good->copy->version_id);
        repaired = source.ok() ? CopyBetweenSites(**source, *s.site, blob, s.copy->path, clock_)
                               : Result<std::string>(source.error());
        if (repaired.ok()) break;
      }
      if (repaired.ok()) {
        rc.action = s.problem == "missing" ? "restored_missing" : "repaired_corrupt";
        u.verified = true;
        u.status = "ok";
        u.new_version = true;
        u.version_id = *repaired;
        ++(s.problem == "missing" ? report.restored_missing : report.repaired_corrupt);
        if (out.outcome != "unrecoverable") out.outcome = "repaired";
        events.push_back({.actor = options_.actor,
                          .source = "system",
                          .action = "blob.repair",
                          .resource = "blob/" + blob.id,
                          .reason = fmt::format("{} copy on root {}: {}", s.problem,
                                                s.copy->root, s.detail),
                          .details = fmt::format(R"({{"root":"{}","action":"{}"}})",
                                                 s.copy->root, rc.action)});
      } else {
        rc.action = "unrecoverable";
        rc.detail = fmt::format("{}; {}", s.detail, repaired.error().message);
        u.status = s.problem;
        ++report.unrecoverable;
        out.outcome = "unrecoverable";
        events.push_back({.actor = options_.actor,
                          .source = "system",
                          .action = "blob.unrecoverable",
                          .resource = "blob/" + blob.id,
                          .reason = fmt::format("{} copy on root {}: {}", s.problem,
                                                s.copy->root, rc.detail),
                          .details = fmt::format(R"({{"root":"{}","problem":"{}"}})",
                                                 s.copy->root, s.problem)});
      }
    }
    updates.push_back(std::move(u));
    out.copies.push_back(std::move(rc));
  }
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(TxMode::kWrite));
  for (size_t i = 0; i < updates.size(); ++i) {
    const Update& u = updates[i];
    if (u.verified) {
      ZG_RETURN_IF_ERROR(tx->Exec(
          "UPDATE blob_copies SET status = 'ok', verified_at = $1, sha256 = $2, size = $3 "
          "WHERE blob_id = $4 AND root = $5",
          {Text(now), Text(blob.stored_sha256), Int(blob.size), Text(blob.id), Text(u.root)}));
    } else if (u.status != states[i].copy->status) {
      ZG_RETURN_IF_ERROR(tx->Exec(
          "UPDATE blob_copies SET status = $1 WHERE blob_id = $2 AND root = $3",
          {Text(u.status), Text(blob.id), Text(u.root)}));
    }
    if (u.new_version) {
      ZG_RETURN_IF_ERROR(tx->Exec(
          "UPDATE blob_copies SET version_id = $1 WHERE blob_id = $2 AND root = $3",
          {Text(u.version_id), Text(blob.id), Text(u.root)}));
    }
  }
  ZG_RETURN_IF_ERROR(tx->Commit());
  for (auto& e : events) ZG_RETURN_IF_ERROR(audit_.Append(std::move(e)));
  return out;
}

Result<ScrubReport> LocalStore::Scrub(const ScrubOptions& options) {
  ScrubReport report;
  std::string after;
  for (;;) {
    std::vector<std::string> ids;
    {
      ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(TxMode::kRead));
      ZG_ASSIGN_OR_RETURN(auto rows, tx->Query("SELECT id FROM blobs WHERE id > $1 "
                                               "ORDER BY id LIMIT 256",
                                               {Text(after)}));
      for (const auto& r : rows.rows) ids.push_back(r.Text(0));
    }
    if (ids.empty()) break;
    after = ids.back();
    for (const auto& id : ids) {
      ZG_ASSIGN_OR_RETURN(BlobInfo blob, Stat(id));
      ++report.blobs;
      ZG_ASSIGN_OR_RETURN(ScrubBlob entry, ScrubOne(blob, options, report));
      report.entries.push_back(std::move(entry));
    }
  }
  ZG_RETURN_IF_ERROR(SweepRoots(report));
  return report;
}

Status LocalStore::SweepRoots(ScrubReport& report) {
  const auto cutoff = clock_.Now() - std::chrono::hours(24);
  for (const auto& s : sites_) {
    report.stale_temps_removed += s->RemoveStaleWrites(cutoff - std::chrono::seconds(1));
    auto keys = s->ListKeys();
    if (!keys.ok()) continue;  // an unreachable site is reported by the copies it holds
    for (const auto& key : *keys) {
      std::string id = key.substr(key.rfind('/') + 1);
      ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(TxMode::kRead));
      ZG_ASSIGN_OR_RETURN(auto rows, tx->Query("SELECT 1 FROM blob_copies WHERE blob_id = $1 "
                                               "AND root = $2",
                                               {Text(id), Text(s->site().name)}));
      if (rows.empty()) report.orphans.push_back(s->site().name + ":" + key);
    }
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// Migration between sites

Status LocalStore::Event(storage::Transaction& tx, AuditEvent e, std::vector<AuditEvent>& after) {
  if (options_.audit_in_transaction) return options_.audit_in_transaction(tx, std::move(e));
  after.push_back(std::move(e));
  return Status::Ok();
}

Status LocalStore::CheckMigration(const MigrateOptions& o) const {
  SiteIo* from = FindSite(o.from);
  SiteIo* to = FindSite(o.to);
  if (from == nullptr) {
    return InvalidArgument("unknown_site", fmt::format("no configured site {}", o.from), "from");
  }
  if (to == nullptr) {
    return InvalidArgument("unknown_site", fmt::format("no configured site {}", o.to), "to");
  }
  if (o.from == o.to) return InvalidArgument("same_site", "from and to are the same site", "to");
  if (from->site().tier != to->site().tier) {
    return InvalidArgument("tier_mismatch",
                           fmt::format("site {} is {} but site {} is {}", o.from,
                                       from->site().tier, o.to, to->site().tier),
                           "to");
  }
  if (!Allowed(to->site())) {
    return InvalidArgument(
        "jurisdiction_not_allowed",
        fmt::format("site {} is in jurisdiction {}, which is not in allowed_jurisdictions ({}) "
                    "(R1.2)",
                    o.to, to->site().jurisdiction, fmt::join(options_.allowed_jurisdictions, ", ")),
        "to");
  }
  return Status::Ok();
}

Result<MigrationProgress> LocalStore::Migrate(const MigrateOptions& o) {
  ZG_RETURN_IF_ERROR(CheckMigration(o));
  SiteIo* from = FindSite(o.from);
  SiteIo* to = FindSite(o.to);
  auto stopping = [&o] { return o.stop != nullptr && o.stop->load(); };
  const std::string mode = o.move ? "move" : "copy";
  std::string id;
  std::vector<AuditEvent> after;
  {
    const std::string now = FormatRfc3339(clock_.Now());
    ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(TxMode::kWrite));
    ZG_ASSIGN_OR_RETURN(auto rows,
                        tx->Query("SELECT id FROM blob_migrations WHERE from_site = $1 AND "
                                  "to_site = $2 AND mode = $3 AND state = 'running'",
                                  {Text(o.from), Text(o.to), Text(mode)}));
    if (!rows.empty()) {
      id = rows.rows[0].Text(0);
    } else {
      id = "mig_" + crypto::ToHex(crypto::RandomBytes(8));
      ZG_RETURN_IF_ERROR(tx->Exec(
          "INSERT INTO blob_migrations (id, from_site, to_site, mode, grace_seconds, state, "
          "created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'running', $6, $6)",
          {Text(id), Text(o.from), Text(o.to), Text(mode), Int(o.grace.count()), Text(now)}));
      ZG_RETURN_IF_ERROR(Event(*tx,
                               {.actor = options_.actor,
                                .source = "system",
                                .action = "blob.migrate_start",
                                .resource = "blob_migration/" + id,
                                .reason = fmt::format("{} copies from site {} to site {}", mode,
                                                      o.from, o.to)},
                               after));
    }
    // Objects stored since the migration started join it.
    ZG_RETURN_IF_ERROR(tx->Exec(
        "INSERT INTO blob_migration_items (migration_id, blob_id, state, detail, retire_after, "
        "old_path, old_version, updated_at) SELECT $1, c.blob_id, 'pending', '', '', '', '', $2 "
        "FROM blob_copies c WHERE c.root = $3 AND NOT EXISTS (SELECT 1 FROM "
        "blob_migration_items i WHERE i.migration_id = $1 AND i.blob_id = c.blob_id)",
        {Text(id), Text(now), Text(o.from)}));
    ZG_RETURN_IF_ERROR(tx->Commit());
  }
  for (auto& e : after) ZG_RETURN_IF_ERROR(audit_.Append(std::move(e)));

  // Copy phase: pending objects, and those that failed before, once each per run.
  int64_t done = 0;
  std::string cursor;
  while ((o.limit == 0 || done < o.limit) && !stopping()) {
    std::vector<std::string> batch;
    {
      ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(TxMode::kRead));
      ZG_ASSIGN_OR_RETURN(auto rows,
                          tx->Query("SELECT blob_id FROM blob_migration_items WHERE "
                                    "migration_id = $1 AND state IN ('pending', 'failed') AND "
                                    "blob_id > $2 ORDER BY blob_id LIMIT 64",
                                    {Text(id), Text(cursor)}));
      for (const auto& r : rows.rows) batch.push_back(r.Text(0));
    }
    if (batch.empty()) break;
    cursor = batch.back();
    for (const auto& blob_id : batch) {
      if ((o.limit != 0 && done >= o.limit) || stopping()) break;
      ZG_RETURN_IF_ERROR(MigrateOne(id, blob_id, *from, *to, o));
      ++done;
    }
  }

  // Retire phase (move): copies whose grace has passed, and removals a crash interrupted.
  if (o.move) {
    const std::string now = FormatRfc3339(clock_.Now());
    std::vector<std::pair<std::string, std::string>> due;
    {
      ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(TxMode::kRead));
      ZG_ASSIGN_OR_RETURN(auto rows,
                          tx->Query("SELECT blob_id, state FROM blob_migration_items WHERE "
                                    "migration_id = $1 AND ((state = 'retire_due' AND "
                                    "retire_after <= $2) OR state = 'retiring') ORDER BY blob_id",
                                    {Text(id), Text(now)}));
      for (const auto& r : rows.rows) due.emplace_back(r.Text(0), r.Text(1));
    }
    for (const auto& [blob_id, state] : due) {
      if (stopping()) break;
      ZG_RETURN_IF_ERROR(RetireOne(id, blob_id, state, *from));
    }
  }

  ZG_ASSIGN_OR_RETURN(MigrationProgress p, Progress(id));
  const bool finished =
      p.pending + p.failed + p.retire_due + p.retiring == 0;
  if (finished && p.state != "done") {
    ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(TxMode::kWrite));
    ZG_RETURN_IF_ERROR(tx->Exec(
        "UPDATE blob_migrations SET state = 'done', updated_at = $1 WHERE id = $2",
        {Text(FormatRfc3339(clock_.Now())), Text(id)}));
    ZG_RETURN_IF_ERROR(tx->Commit());
    p.state = "done";
  }
  return p;
}

Status LocalStore::MigrateOne(const std::string& migration_id, const std::string& blob_id,
                              SiteIo& from, SiteIo& to, const MigrateOptions& o) {
  const std::string now = FormatRfc3339(clock_.Now());
  const std::string next = o.move ? "retire_due" : "copied";
  const std::string retire_after =
      o.move ? FormatRfc3339(clock_.Now() + o.grace) : std::string();
  auto set_state = [&](storage::Transaction& tx, const std::string& state,
                       const std::string& detail) {
    return tx.Exec(
        "UPDATE blob_migration_items SET state = $1, detail = $2, retire_after = $3, "
        "updated_at = $4 WHERE migration_id = $5 AND blob_id = $6",
        {Text(state), Text(detail), Text(state == "retire_due" ? retire_after : ""), Text(now),
         Text(migration_id), Text(blob_id)});
  };
  auto fail = [&](const std::string& detail) -> Status {
    ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(TxMode::kWrite));
    ZG_RETURN_IF_ERROR(set_state(*tx, "failed", detail));
    return tx->Commit();
  };
  ZG_ASSIGN_OR_RETURN(BlobInfo blob, Stat(blob_id));
  const CopyInfo* at_from = nullptr;
  const CopyInfo* at_to = nullptr;
  for (const auto& c : blob.copies) {
    if (c.root == from.site().name) at_from = &c;
    if (c.root == to.site().name) at_to = &c;
  }
  std::vector<AuditEvent> after;
  if (at_to != nullptr) {
    // Already there (a run stopped after recording it, or placed there at ingest).
    if (at_to->status != "ok") {
      return fail(fmt::format("the copy at {} is {}; run `zengen storage scrub`", to.site().name,
                              at_to->status));
    }
    ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(TxMode::kWrite));
    ZG_RETURN_IF_ERROR(set_state(*tx, at_from == nullptr ? "retired" : next, ""));
    return tx->Commit();
  }
  if (at_from == nullptr) {
    // Its copy at `from` is gone already (retired by another run): nothing to move.
    ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(TxMode::kWrite));
    ZG_RETURN_IF_ERROR(set_state(*tx, "retired", ""));
    return tx->Commit();
  }
  // Source: the copy at `from` when good, else any good copy.
  std::vector<const CopyInfo*> sources;
  if (at_from->status == "ok") sources.push_back(at_from);
  for (const auto& c : blob.copies) {
    if (&c != at_from && c.status == "ok") sources.push_back(&c);
  }
  std::string last_error = "no good copy to read from";
  for (const CopyInfo* src : sources) {
    SiteIo* site = FindSite(src->root);
    if (site == nullptr) continue;
    auto source = site->Open(src->path, blob.size, src->version_id);
    if (!source.ok()) {
      last_error = source.error().message;
      continue;
    }
    // Copied, read back at the target and checked against the recorded size and SHA-256.
    auto version = CopyBetweenSites(**source, to, blob, KeyOf(blob.id), clock_);
    if (!version.ok()) {
      last_error = version.error().message;
      continue;
    }
    auto tx = store_.Begin(TxMode::kWrite);
    Status recorded = tx.ok() ? Status::Ok() : Status(tx.error());
    if (recorded.ok()) {
      recorded = (*tx)->Exec(
          "INSERT INTO blob_copies (blob_id, root, path, sha256, verified_at, status, size, "
          "version_id) VALUES ($1, $2, $3, $4, $5, 'ok', $6, $7)",
          {Text(blob.id), Text(to.site().name), Text(KeyOf(blob.id)), Text(blob.stored_sha256),
           Text(now), Int(blob.size), Text(*version)}).status();
    }
    if (recorded.ok()) recorded = set_state(**tx, next, "").status();
    if (recorded.ok()) {
      recorded = Event(**tx,
                       {.actor = options_.actor,
                        .source = "system",
                        .action = "blob.migrate_copy",
                        .resource = "blob/" + blob.id,
                        .reason = fmt::format("copied from site {} to site {}, read back and "
                                              "verified",
                                              src->root, to.site().name),
                        .details = fmt::format(R"({{"migration":"{}","from":"{}","to":"{}"}})",
                                               migration_id, src->root, to.site().name)},
                       after);
    }
    if (recorded.ok()) recorded = (*tx)->Commit();
    if (!recorded.ok()) {
      (void)to.Remove(KeyOf(blob.id), *version);  // never recorded: not a copy
      return recorded.error();
    }
    for (auto& e : after) ZG_RETURN_IF_ERROR(audit_.Append(std::move(e)));
    return Status::Ok();
  }
  return fail(last_error);
}

Status LocalStore::RetireOne(const std::string& migration_id, const std::string& blob_id,
                             const std::string& state, SiteIo& from) {
  const std::string now = FormatRfc3339(clock_.Now());
  std::string path, version;
  std::vector<AuditEvent> after;
  if (state == "retire_due") {
    ZG_ASSIGN_OR_RETURN(BlobInfo blob, Stat(blob_id));
    const CopyInfo* old = nullptr;
    int others_ok = 0;
    for (const auto& c : blob.copies) {
      if (c.root == from.site().name) {
        old = &c;
      } else if (c.status == "ok") {
        ++others_ok;
      }
    }
    ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(TxMode::kWrite));
    if (old == nullptr) {
      ZG_RETURN_IF_ERROR(tx->Exec(
          "UPDATE blob_migration_items SET state = 'retired', updated_at = $1 WHERE "
          "migration_id = $2 AND blob_id = $3",
          {Text(now), Text(migration_id), Text(blob_id)}));
      return tx->Commit();
    }
    if (others_ok < options_.replicas) {
      // why: retiring would leave fewer good copies than required (R3.9).
      ZG_RETURN_IF_ERROR(tx->Exec(
          "UPDATE blob_migration_items SET state = 'failed', detail = $1, updated_at = $2 "
          "WHERE migration_id = $3 AND blob_id = $4",
          {Text(fmt::format("retiring the copy at {} would leave {} good copies, {} required",
                            from.site().name, others_ok, options_.replicas)),
           Text(now), Text(migration_id), Text(blob_id)}));
      return tx->Commit();
    }
    path = old->path;
    version = old->version_id;
    ZG_RETURN_IF_ERROR(tx->Exec("DELETE FROM blob_copies WHERE blob_id = $1 AND root = $2",
                                {Text(blob_id), Text(from.site().name)}));
    ZG_RETURN_IF_ERROR(tx->Exec(
        "UPDATE blob_migration_items SET state = 'retiring', old_path = $1, old_version = $2, "
        "updated_at = $3 WHERE migration_id = $4 AND blob_id = $5",
        {Text(path), Text(version), Text(now), Text(migration_id), Text(blob_id)}));
    ZG_RETURN_IF_ERROR(Event(*tx,
                             {.actor = options_.actor,
                              .source = "system",
                              .action = "blob.migrate_retire",
                              .resource = "blob/" + blob_id,
                              .reason = fmt::format("copy at site {} retired", from.site().name),
                              .details = fmt::format(R"({{"migration":"{}","site":"{}"}})",
                                                     migration_id, from.site().name)},
                             after));
    ZG_RETURN_IF_ERROR(tx->Commit());
    for (auto& e : after) ZG_RETURN_IF_ERROR(audit_.Append(std::move(e)));
  } else {
    ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(TxMode::kRead));
    ZG_ASSIGN_OR_RETURN(auto rows,
                        tx->Query("SELECT old_path, old_version FROM blob_migration_items "
                                  "WHERE migration_id = $1 AND blob_id = $2",
                                  {Text(migration_id), Text(blob_id)}));
    if (rows.empty()) return Status::Ok();
    path = rows.rows[0].Text(0);
    version = rows.rows[0].Text(1);
  }
  // The copy is out of the metadata: no new reader can open it. Now it goes from the site.
  Status removed = from.Remove(path, version);
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(TxMode::kWrite));
  ZG_RETURN_IF_ERROR(tx->Exec(
      "UPDATE blob_migration_items SET state = $1, detail = $2, updated_at = $3 WHERE "
      "migration_id = $4 AND blob_id = $5",
      {Text(removed.ok() ? "retired" : "retiring"),
       Text(removed.ok() ? "" : removed.error().message), Text(now), Text(migration_id),
       Text(blob_id)}));
  return tx->Commit();
}

Result<MigrationProgress> LocalStore::Progress(const std::string& migration_id) {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(auto rows,
                      tx->Query("SELECT id, from_site, to_site, mode, state, created_at, "
                                "updated_at FROM blob_migrations WHERE id = $1",
                                {Text(migration_id)}));
  if (rows.empty()) {
    return NotFound("migration_not_found", fmt::format("no migration {}", migration_id));
  }
  const auto& r = rows.rows[0];
  MigrationProgress p{.id = r.Text(0), .from = r.Text(1), .to = r.Text(2), .mode = r.Text(3),
                      .state = r.Text(4), .created_at = r.Text(5), .updated_at = r.Text(6)};
  ZG_ASSIGN_OR_RETURN(auto counts,
                      tx->Query("SELECT state, COUNT(*) FROM blob_migration_items WHERE "
                                "migration_id = $1 GROUP BY state",
                                {Text(migration_id)}));
  for (const auto& c : counts.rows) {
    const std::string state = c.Text(0);
    const int64_t n = c.Int(1);
    p.total += n;
    if (state == "pending") p.pending = n;
    if (state == "copied") p.copied = n;
    if (state == "retire_due") p.retire_due = n;
    if (state == "retiring") p.retiring = n;
    if (state == "retired") p.retired = n;
    if (state == "failed") p.failed = n;
  }
  ZG_ASSIGN_OR_RETURN(auto failures,
                      tx->Query("SELECT blob_id, detail FROM blob_migration_items WHERE "
                                "migration_id = $1 AND (state = 'failed' OR (state = "
                                "'retiring' AND detail <> '')) ORDER BY blob_id LIMIT 20",
                                {Text(migration_id)}));
  for (const auto& f : failures.rows) p.failures.push_back(f.Text(0) + ": " + f.Text(1));
  return p;
}

Result<std::vector<SiteHealth>> LocalStore::Health() {
  std::vector<SiteHealth> out;
  for (const auto& s : sites_) {
    const Root& r = s->site();
    SiteHealth h{.name = r.name, .kind = r.kind, .tier = r.tier, .jurisdiction = r.jurisdiction,
                 .organisation = r.organisation};
    const auto start = std::chrono::steady_clock::now();
    Status probe = s->Probe();
    h.latency_us = std::chrono::duration_cast<std::chrono::microseconds>(
                       std::chrono::steady_clock::now() - start)
                       .count();
    h.reachable = probe.ok();
    if (!probe.ok()) h.detail = probe.error().message;
    ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(TxMode::kRead));
    ZG_ASSIGN_OR_RETURN(
        auto rows,
        tx->Query("SELECT COUNT(*), COALESCE(SUM(COALESCE(c.size, b.size)), 0), "
                  "COALESCE(SUM(CASE WHEN c.status = 'ok' THEN 0 ELSE 1 END), 0) "
                  "FROM blob_copies c JOIN blobs b ON b.id = c.blob_id WHERE c.root = $1",
                  {Text(r.name)}));
    h.objects = rows.rows[0].Int(0);
    h.bytes = rows.rows[0].Int(1);
    h.bad_copies = rows.rows[0].Int(2);
    out.push_back(std::move(h));
  }
  return out;
}

Result<std::vector<MigrationProgress>> LocalStore::Migrations() {
  std::vector<std::string> ids;
  {
    ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(TxMode::kRead));
    ZG_ASSIGN_OR_RETURN(auto rows, tx->Query("SELECT id FROM blob_migrations ORDER BY "
                                             "created_at DESC, id LIMIT 100"));
    for (const auto& r : rows.rows) ids.push_back(r.Text(0));
  }
  std::vector<MigrationProgress> out;
  for (const auto& id : ids) {
    ZG_ASSIGN_OR_RETURN(auto p, Progress(id));
    out.push_back(std::move(p));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

std::string FormatMigration(const MigrationProgress& p) {
  std::string out = fmt::format(
      "{} {} {} -> {}: {}; {} objects: {} pending, {} copied, {} awaiting retirement, {} "
      "retiring, {} retired, {} failed\n",
      p.id, p.mode, p.from, p.to, p.state, p.total, p.pending, p.copied, p.retire_due,
      p.retiring, p.retired, p.failed);
  for (const auto& f : p.failures) out += "  " + f + "\n";
  return out;
}

int RunScrubCommand(BlobStore& store, std::ostream& out, const ScrubOptions& options) {
  auto report = store.Scrub(options);
  if (!report.ok()) {
    out << "scrub failed: " << report.error().code << ": " << report.error().message << "\n";
    return 2;
  }
  for (const auto& b : report->entries) {
    for (const auto& c : b.copies) {
      if (c.action == "ok") continue;
      out << fmt::format("{} {} {} {}{}\n", b.blob_id, c.root, c.action, c.path,
                         c.detail.empty() ? "" : " (" + c.detail + ")");
    }
  }
  for (const auto& o : report->orphans) out << "orphan (no metadata, left in place): " << o << "\n";
  if (report->stale_temps_removed > 0) {
    out << fmt::format("removed {} stale temporary file(s)\n", report->stale_temps_removed);
  }
  out << fmt::format(
      "scrub: {} blobs; copies ok {}, repaired corrupt {}, restored missing {}, "
      "unrecoverable {}, root unavailable {}\n",
      report->blobs, report->copies_ok, report->repaired_corrupt, report->restored_missing,
      report->unrecoverable, report->root_unavailable);
  return report->healthy() ? 0 : 1;
}

}  // namespace zengen::blobs
