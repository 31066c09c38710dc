#include "blobs/local_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include "crypto/crypto.h"

namespace zengen::blobs {
namespace {

namespace fs = std::filesystem;
using storage::Int;
using storage::Text;
using storage::TxMode;

constexpr size_t kIoChunk = 1 << 20;
// Owner only, whatever the umask (open/mkdir can only narrow these).
constexpr mode_t kFileMode = 0600;
constexpr mode_t kDirMode = 0700;
constexpr std::string_view kDefaultMediaType = "application/octet-stream";

// Streaming SHA-256 over OpenSSL EVP.
class Sha256Stream {
 public:
  Sha256Stream() : ctx_(EVP_MD_CTX_new()) {
    if (ctx_ == nullptr || EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) != 1) std::abort();
  }
  ~Sha256Stream() { EVP_MD_CTX_free(ctx_); }
  Sha256Stream(const Sha256Stream&) = delete;
  Sha256Stream& operator=(const Sha256Stream&) = delete;
  void Update(std::string_view data) {
    if (EVP_DigestUpdate(ctx_, data.data(), data.size()) != 1) std::abort();
  }
  // Lower-case hex digest. Call once.
  std::string FinishHex() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(ctx_, md, &len) != 1) std::abort();
    return crypto::ToHex(std::string_view(reinterpret_cast<const char*>(md), len));
  }

 private:
  EVP_MD_CTX* ctx_;
};

std::string ErrnoText(int err) { return std::strerror(err); }

Error WriteFailed(const fs::path& p, std::string_view what, int err) {
  return Unavailable("blob_write_failed",
                     fmt::format("{} {}: {}", what, p.string(), ErrnoText(err)));
}

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      Close();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  ~Fd() { Close(); }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Returns errno of a failed close, 0 otherwise.
  int Close() {
    if (fd_ < 0) return 0;
    int rc = ::close(std::exchange(fd_, -1));
    return rc == 0 ? 0 : errno;
  }

 private:
  int fd_ = -1;
};

// Writes all of data; returns 0 or errno.
int WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return 0;
}

int FsyncPath(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno;
  int rc = ::fsync(fd) == 0 ? 0 : errno;
  ::close(fd);
  return rc;
}

// The digest and length of a file as it is on disk now.
struct FileHash {
  std::string sha256;
  int64_t size = 0;
};
// Errors carry code "missing" (ENOENT) or "unreadable" with errno text.
Result<FileHash> HashFile(const fs::path& p) {
  Fd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    int err = errno;
    if (err == ENOENT) return NotFound("missing", "file not found");
    return Unavailable("unreadable", fmt::format("open: {}", ErrnoText(err)));
  }
  Sha256Stream sha;
  FileHash out;
  std::string buf(kIoChunk, '\0');
  for (;;) {
    ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Unavailable("unreadable", fmt::format("read: {}", ErrnoText(errno)));
    }
    if (n == 0) break;
    sha.Update(std::string_view(buf.data(), static_cast<size_t>(n)));
    out.size += n;
  }
  out.sha256 = sha.FinishHex();
  return out;
}

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

// "ab/cd" for blob_abcd…: spreads objects over 65 536 directories.
fs::path FanOut(std::string_view id) {
  std::string_view hex = id.substr(5);
  return fs::path(std::string(hex.substr(0, 2))) / std::string(hex.substr(2, 2));
}

bool ValidBlobId(std::string_view id) {
  return id.size() == 37 && id.starts_with("blob_") && IsLowerHex(id.substr(5));
}

// Creates <root>/<fan-out> (never the root itself) and fsyncs each parent of a new directory.
Status MakeFanOut(const fs::path& root, const fs::path& rel) {
  fs::path dir = root;
  for (const auto& part : rel) {
    fs::path parent = dir;
    dir /= part;
    if (::mkdir(dir.c_str(), kDirMode) == 0) {
      if (int err = FsyncPath(parent); err != 0) return WriteFailed(parent, "fsync", err);
    } else if (errno != EEXIST) {
      return WriteFailed(dir, "mkdir", errno);
    }
  }
  return Status::Ok();
}

fs::path TempPath(const fs::path& dir, std::string_view id) {
  return dir / fmt::format(".{}.tmp-{}", id, crypto::ToHex(crypto::RandomBytes(4)));
}

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
                      tx.Query("SELECT root, path, sha256, verified_at, status FROM blob_copies "
                               "WHERE blob_id = $1 ORDER BY root",
                               {Text(b.id)}));
  for (const auto& c : copies.rows) {
    b.copies.push_back({.root = c.Text(0),
                        .path = c.Text(1),
                        .sha256 = c.Text(2),
                        .verified_at = c.Text(3),
                        .status = c.Text(4)});
  }
  return b;
}

// Writes a verified replacement for a copy from a good source: temporary file, fsync,
// re-read and compare, rename over the final path, fsync the directory.
Status RepairCopy(const fs::path& source, const fs::path& root, std::string_view rel_path,
                  std::string_view id, const std::string& expected_sha256, int64_t size) {
  fs::path rel(std::string{rel_path});
  ZG_RETURN_IF_ERROR(MakeFanOut(root, rel.parent_path()));
  fs::path final_path = root / rel;
  fs::path dir = final_path.parent_path();
  fs::path tmp = TempPath(dir, id);
  Fd in(::open(source.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in.valid()) return WriteFailed(source, "open", errno);
  Fd out(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, kFileMode));
  if (!out.valid()) return WriteFailed(tmp, "create", errno);
  auto fail = [&](Error e) -> Status {
    out.Close();
    ::unlink(tmp.c_str());
    return e;
  };
  std::string buf(kIoChunk, '\0');
  for (;;) {
    ssize_t n = ::read(in.get(), buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(WriteFailed(source, "read", errno));
    }
    if (n == 0) break;
    if (int err = WriteAll(out.get(), std::string_view(buf.data(), static_cast<size_t>(n)));
        err != 0) {
      return fail(WriteFailed(tmp, "write", err));
    }
  }
  if (::fsync(out.get()) != 0) return fail(WriteFailed(tmp, "fsync", errno));
  if (int err = out.Close(); err != 0) return fail(WriteFailed(tmp, "close", err));
  auto check = HashFile(tmp);
  if (!check.ok()) return fail(WriteFailed(tmp, "re-read", EIO));
  if (check->sha256 != expected_sha256 || check->size != size) {
    return fail(Unavailable("blob_verify_failed",
                            fmt::format("replacement {} does not match the recorded SHA-256",
                                        tmp.string())));
  }
  if (::rename(tmp.c_str(), final_path.c_str()) != 0) {
    return fail(WriteFailed(final_path, "rename", errno));
  }
  if (int err = FsyncPath(dir); err != 0) return WriteFailed(dir, "fsync", err);
  return Status::Ok();
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

// ---------------------------------------------------------------------------------------------
// Writer

class LocalWriter final : public Writer {
 public:
  struct Slot {
    const Root* root;
    fs::path dir;
    fs::path tmp;
    fs::path final_path;
    Fd fd;
    bool renamed = false;
  };

  LocalWriter(LocalStore& store, BlobInfo info, std::string expected_plain)
      : store_(store), info_(std::move(info)), expected_plain_(std::move(expected_plain)) {}
  ~LocalWriter() override { Abort(); }
  const std::string& id() const override { return info_.id; }

  // Creates the temporary files; on error removes those already created.
  Status Open(const std::vector<const Root*>& roots) {
    fs::path rel = FanOut(info_.id);
    for (const Root* r : roots) {
      Status s = MakeFanOut(r->path, rel);
      if (!s.ok()) return Fail(s.error());
      Slot slot{.root = r, .dir = r->path / rel};
      slot.tmp = TempPath(slot.dir, info_.id);
      slot.final_path = slot.dir / info_.id;
      slot.fd = Fd(::open(slot.tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, kFileMode));
      if (!slot.fd.valid()) return Fail(WriteFailed(slot.tmp, "create", errno));
      slots_.push_back(std::move(slot));
    }
    return Status::Ok();
  }

  Status Write(std::string_view bytes) override {
    if (finished_) return Finished();
    for (auto& s : slots_) {
      if (int err = WriteAll(s.fd.get(), bytes); err != 0) {
        return Fail(WriteFailed(s.tmp, "write", err));
      }
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
    info_.stored_sha256 = sha_.FinishHex();
    info_.size = size_;
    info_.plaintext_sha256 = plain;
    info_.plaintext_size = plaintext_size;

    // 1. Durable temporary copies.
    for (auto& s : slots_) {
      if (::fsync(s.fd.get()) != 0) return Fail(WriteFailed(s.tmp, "fsync", errno));
      if (int err = s.fd.Close(); err != 0) return Fail(WriteFailed(s.tmp, "close", err));
    }
    // 2. Read back what is on disk (by path, so a vanished file or root is noticed).
    for (auto& s : slots_) {
      auto h = HashFile(s.tmp);
      if (!h.ok()) {
        return Fail(Unavailable("blob_verify_failed",
                                fmt::format("copy on root {} cannot be read back: {}",
                                            s.root->name, h.error().message)));
      }
      if (h->sha256 != info_.stored_sha256 || h->size != size_) {
        return Fail(Unavailable("blob_verify_failed",
                                fmt::format("copy on root {} does not match what was written",
                                            s.root->name)));
      }
    }
    // 3. Into place, and the directory entries made durable.
    for (auto& s : slots_) {
      if (::rename(s.tmp.c_str(), s.final_path.c_str()) != 0) {
        return Fail(WriteFailed(s.final_path, "rename", errno));
      }
      s.renamed = true;
      if (int err = FsyncPath(s.dir); err != 0) return Fail(WriteFailed(s.dir, "fsync", err));
    }
    // 4. Recorded in one transaction: only now is the object stored.
    const std::string now = FormatRfc3339(store_.clock_.Now());
    info_.created_at = now;
    info_.copies.clear();
    for (const auto& s : slots_) {
      info_.copies.push_back({.root = s.root->name,
                              .path = (FanOut(info_.id) / info_.id).generic_string(),
                              .sha256 = info_.stored_sha256,
                              .verified_at = now,
                              .status = "ok"});
    }
    std::sort(info_.copies.begin(), info_.copies.end(),
              [](const CopyInfo& a, const CopyInfo& b) { return a.root < b.root; });
    Status recorded = Record();
    if (!recorded.ok()) return Fail(recorded.error());
    finished_ = true;
    slots_.clear();  // the files are the object now; Abort must not touch them
    if (!store_.options_.audit_in_transaction) {
      ZG_RETURN_IF_ERROR(store_.audit_.Append(WriteEvent()));
    }
    return info_;
  }

  void Abort() override {
    for (auto& s : slots_) {
      s.fd.Close();
      ::unlink(s.tmp.c_str());
      if (s.renamed) ::unlink(s.final_path.c_str());
    }
    for (auto& s : slots_) FsyncPath(s.dir);  // best effort: the removal made durable
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
          "INSERT INTO blob_copies (blob_id, root, path, sha256, verified_at, status) "
          "VALUES ($1, $2, $3, $4, $5, $6)",
          {Text(info_.id), Text(c.root), Text(c.path), Text(c.sha256), Text(c.verified_at),
           Text(c.status)}));
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
  LocalReader(BlobInfo info, std::string root, Fd fd)
      : info_(std::move(info)), root_(std::move(root)), fd_(std::move(fd)) {}
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
    std::string out(want, '\0');
    size_t got = 0;
    while (got < want) {
      ssize_t r = ::pread(fd_.get(), out.data() + got, want - got,
                          static_cast<off_t>(offset + static_cast<int64_t>(got)));
      if (r < 0) {
        if (errno == EINTR) continue;
        return Unavailable("blob_read_failed",
                           fmt::format("read {} on root {}: {}", info_.id, root_,
                                       ErrnoText(errno)));
      }
      if (r == 0) {
        return Unavailable("blob_read_failed",
                           fmt::format("copy of {} on root {} is shorter than recorded",
                                       info_.id, root_));
      }
      got += static_cast<size_t>(r);
    }
    return out;
  }

 private:
  BlobInfo info_;
  std::string root_;
  Fd fd_;
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// LocalStore

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
  std::set<std::string> names;
  for (const auto& r : options.roots) {
    if (!ValidRootName(r.name)) return bad(fmt::format("bad root name \"{}\"", r.name));
    if (!names.insert(r.name).second) return bad(fmt::format("duplicate root \"{}\"", r.name));
    if (!ValidTier(r.tier)) return bad(fmt::format("root {}: bad tier \"{}\"", r.name, r.tier));
    if (!ValidJurisdiction(r.jurisdiction)) {
      return bad(fmt::format("root {}: bad jurisdiction \"{}\"", r.name, r.jurisdiction));
    }
    if (!r.path.is_absolute()) return bad(fmt::format("root {}: path not absolute", r.name));
  }
  return std::unique_ptr<LocalStore>(new LocalStore(std::move(options), store, clock, audit));
}

bool LocalStore::Allowed(const Root& root) const {
  const auto& a = options_.allowed_jurisdictions;
  return std::find(a.begin(), a.end(), root.jurisdiction) != a.end();
}

const Root* LocalStore::FindRoot(std::string_view name) const {
  for (const auto& r : options_.roots) {
    if (r.name == name) return &r;
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

  // Placement: allowed jurisdiction, right tier, directory present; most free space first.
  std::vector<std::pair<uintmax_t, const Root*>> candidates;
  for (const auto& r : options_.roots) {
    if (r.tier != tier || !Allowed(r)) continue;
    std::error_code ec;
    if (!fs::is_directory(r.path, ec)) continue;
    auto space = fs::space(r.path, ec);
    if (ec) continue;
    candidates.emplace_back(space.available, &r);
  }
  if (static_cast<int>(candidates.size()) < options_.replicas) {
    return Unavailable(
        "insufficient_roots",
        fmt::format("{} copies required but only {} usable {} root(s) in allowed "
                    "jurisdictions ({})",
                    options_.replicas, candidates.size(), tier,
                    fmt::join(options_.allowed_jurisdictions, ", ")));
  }
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<const Root*> chosen;
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
    const Root* root = FindRoot(c.root);
    if (root == nullptr) continue;
    Fd fd(::open((root->path / c.path).c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) continue;
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || st.st_size != info.size) continue;
    std::string root_name = c.root;
    return std::unique_ptr<Reader>(
        std::make_unique<LocalReader>(std::move(info), std::move(root_name), std::move(fd)));
  }
  return Unavailable("no_healthy_copy",
                     fmt::format("no readable copy of {} with the recorded length", blob_id));
}

Status LocalStore::ReportBadCopy(std::string_view blob_id, std::string_view root,
                                 std::string_view detail) {
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
  const fs::path rel = FanOut(blob_id);
  for (const auto& root : options_.roots) {
    const fs::path dir = root.path / rel;
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) continue;
    std::vector<fs::path> victims;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (name == blob_id || name.starts_with("." + std::string(blob_id) + ".tmp-")) {
        victims.push_back(it->path());
      }
    }
    for (const auto& v : victims) {
      std::error_code rec;
      if (fs::remove(v, rec)) ++removed;
    }
    if (!victims.empty()) FsyncPath(dir);
  }
  return removed;
}

int64_t LocalStore::RemoveInterruptedWrites(std::chrono::seconds min_age) {
  const auto cutoff = std::chrono::system_clock::now() - min_age;
  int64_t removed = 0;
  for (const auto& root : options_.roots) {
    std::error_code ec;
    if (!fs::is_directory(root.path, ec)) continue;
    fs::recursive_directory_iterator it(root.path, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
      if (it.depth() > 2) {
        it.disable_recursion_pending();
        continue;
      }
      const std::string name = it->path().filename().string();
      if (!name.starts_with(".blob_") || name.find(".tmp-") == std::string::npos) continue;
      struct stat st {};
      if (::stat(it->path().c_str(), &st) != 0) continue;
      std::error_code fec;
      if (std::chrono::system_clock::from_time_t(st.st_mtim.tv_sec) <= cutoff &&
          fs::remove(it->path(), fec)) {
        ++removed;
      }
    }
  }
  return removed;
}

Result<ScrubBlob> LocalStore::ScrubOne(const BlobInfo& blob, ScrubReport& report) {
  struct State {
    const CopyInfo* copy;
    const Root* root = nullptr;
    std::string problem;  // "", "corrupt", "missing", "root_unavailable"
    std::string detail;
  };
  std::vector<State> states;
  const fs::path* good = nullptr;
  fs::path good_path;
  for (const auto& c : blob.copies) {
    State s{.copy = &c, .root = FindRoot(c.root)};
    std::error_code ec;
    if (s.root == nullptr) {
      s.problem = "root_unavailable";
      s.detail = "root not configured";
    } else if (!fs::is_directory(s.root->path, ec)) {
      s.problem = "root_unavailable";
      s.detail = "root directory absent (not mounted?)";
    } else {
      auto h = HashFile(s.root->path / c.path);
      if (!h.ok()) {
        s.problem = h.error().code == "missing" ? "missing" : "corrupt";
        s.detail = h.error().message;
      } else if (h->size != blob.size) {
        s.problem = "corrupt";
        s.detail = fmt::format("size {} instead of {}", h->size, blob.size);
      } else if (h->sha256 != blob.stored_sha256) {
        s.problem = "corrupt";
        s.detail = "SHA-256 differs from the recorded one";
      } else if (good == nullptr) {
        good_path = s.root->path / c.path;
        good = &good_path;
      }
    }
    states.push_back(std::move(s));
  }

  const std::string now = FormatRfc3339(clock_.Now());
  ScrubBlob out{.blob_id = blob.id, .outcome = "ok"};
  std::vector<AuditEvent> events;
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(TxMode::kWrite));
  for (auto& s : states) {
    ScrubCopy rc{.root = s.copy->root, .path = s.copy->path, .detail = s.detail};
    std::string status = "ok";
    bool verified = false;
    if (s.problem.empty()) {
      rc.action = "ok";
      verified = true;
      ++report.copies_ok;
    } else if (s.problem == "root_unavailable") {
      rc.action = "root_unavailable";
      status = s.copy->status;
      ++report.root_unavailable;
      if (out.outcome == "ok") out.outcome = "unchecked";
    } else {
      Status repaired = Status(Internal("no_good_copy", "no good copy to repair from"));
      if (good != nullptr) {
        repaired = RepairCopy(*good, s.root->path, s.copy->path, blob.id, blob.stored_sha256,
                              blob.size);
      }
      if (repaired.ok()) {
        rc.action = s.problem == "missing" ? "restored_missing" : "repaired_corrupt";
        verified = true;
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
        status = s.problem;
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
    if (verified) {
      ZG_RETURN_IF_ERROR(tx->Exec(
          "UPDATE blob_copies SET status = 'ok', verified_at = $1, sha256 = $2 "
          "WHERE blob_id = $3 AND root = $4",
          {Text(now), Text(blob.stored_sha256), Text(blob.id), Text(s.copy->root)}));
    } else if (status != s.copy->status) {
      ZG_RETURN_IF_ERROR(tx->Exec(
          "UPDATE blob_copies SET status = $1 WHERE blob_id = $2 AND root = $3",
          {Text(status), Text(blob.id), Text(s.copy->root)}));
    }
    out.copies.push_back(std::move(rc));
  }
  ZG_RETURN_IF_ERROR(tx->Commit());
  for (auto& e : events) ZG_RETURN_IF_ERROR(audit_.Append(std::move(e)));
  return out;
}

Result<ScrubReport> LocalStore::Scrub() {
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
      ZG_ASSIGN_OR_RETURN(ScrubBlob entry, ScrubOne(blob, report));
      report.entries.push_back(std::move(entry));
    }
  }
  ZG_RETURN_IF_ERROR(SweepRoots(report));
  return report;
}

Status LocalStore::SweepRoots(ScrubReport& report) {
  const auto cutoff = clock_.Now() - std::chrono::hours(24);
  for (const auto& root : options_.roots) {
    std::error_code ec;
    if (!fs::is_directory(root.path, ec)) continue;
    fs::recursive_directory_iterator it(root.path, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
      if (it.depth() > 2) {
        it.disable_recursion_pending();
        continue;
      }
      std::error_code fec;
      if (!it->is_regular_file(fec)) continue;
      std::string name = it->path().filename().string();
      if (name.starts_with(".blob_") && name.find(".tmp-") != std::string::npos) {
        struct stat st {};
        if (::stat(it->path().c_str(), &st) != 0) continue;
        auto when = std::chrono::system_clock::from_time_t(st.st_mtim.tv_sec);
        if (when < cutoff && fs::remove(it->path(), fec)) ++report.stale_temps_removed;
      } else if (ValidBlobId(name)) {
        std::string rel = fs::relative(it->path(), root.path, fec).generic_string();
        ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(TxMode::kRead));
        ZG_ASSIGN_OR_RETURN(auto rows, tx->Query("SELECT 1 FROM blob_copies WHERE blob_id = $1 "
                                                 "AND root = $2",
                                                 {Text(name), Text(root.name)}));
        if (rows.empty()) report.orphans.push_back(root.name + ":" + rel);
      }
    }
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------

int RunScrubCommand(BlobStore& store, std::ostream& out) {
  auto report = store.Scrub();
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
