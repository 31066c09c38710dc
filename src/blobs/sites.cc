#include "blobs/sites.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

#include <fmt/format.h>

#include "crypto/crypto.h"
#include "s3/s3_client.h"

namespace zengen::blobs::internal {

bool ValidBlobId(std::string_view id) {
  return id.size() == 37 && id.starts_with("blob_") &&
         std::all_of(id.begin() + 5, id.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

std::string KeyOf(std::string_view id) {
  std::string_view hex = id.substr(5);
  return fmt::format("{}/{}/{}", hex.substr(0, 2), hex.substr(2, 2), id);
}

namespace {

namespace fs = std::filesystem;

constexpr size_t kIoChunk = 1 << 20;
constexpr mode_t kFileMode = 0600;
constexpr mode_t kDirMode = 0700;

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
  int Close() {
    if (fd_ < 0) return 0;
    int rc = ::close(std::exchange(fd_, -1));
    return rc == 0 ? 0 : errno;
  }

 private:
  int fd_ = -1;
};

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

// Errors carry code "missing" (ENOENT) or "unreadable".
Result<CopyDigest> HashFile(const fs::path& p, bool full) {
  Fd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    int err = errno;
    if (err == ENOENT) return NotFound("missing", "file not found");
    return Unavailable("unreadable", fmt::format("open: {}", ErrnoText(err)));
  }
  CopyDigest out;
  if (!full) {
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
      return Unavailable("unreadable", fmt::format("stat: {}", ErrnoText(errno)));
    }
    out.size = st.st_size;
    return out;
  }
  Sha256Stream sha;
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
  out.sha256 = sha.HexFinal();
  return out;
}

// Creates <root>/<rel> (never the root itself) and fsyncs each parent of a new directory.
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

bool IsTempName(std::string_view name) {
  return name.starts_with(".blob_") && name.find(".tmp-") != std::string_view::npos;
}

// ---- local directory ----

class LocalSink final : public CopySink {
 public:
  LocalSink(const Root& site, fs::path dir, fs::path tmp, fs::path final_path, Fd fd)
      : site_(site), dir_(std::move(dir)), tmp_(std::move(tmp)),
        final_(std::move(final_path)), fd_(std::move(fd)) {}
  ~LocalSink() override {
    if (!done_) Discard();
  }
  Status Write(std::string_view bytes) override {
    if (int err = WriteAll(fd_.get(), bytes); err != 0) return WriteFailed(tmp_, "write", err);
    return Status::Ok();
  }
  Result<std::string> Finish(const std::string& sha256, int64_t size, bool) override {
    if (::fsync(fd_.get()) != 0) return Fail(WriteFailed(tmp_, "fsync", errno));
    if (int err = fd_.Close(); err != 0) return Fail(WriteFailed(tmp_, "close", err));
    // Read back what is on disk (by path, so a vanished file or root is noticed).
    auto h = HashFile(tmp_, true);
    if (!h.ok()) {
      return Fail(Unavailable("blob_verify_failed",
                              fmt::format("copy on root {} cannot be read back: {}", site_.name,
                                          h.error().message)));
    }
    if (h->sha256 != sha256 || h->size != size) {
      return Fail(Unavailable(
          "blob_verify_failed",
          fmt::format("copy on root {} does not match what was written", site_.name)));
    }
    if (::rename(tmp_.c_str(), final_.c_str()) != 0) {
      return Fail(WriteFailed(final_, "rename", errno));
    }
    renamed_ = true;
    if (int err = FsyncPath(dir_); err != 0) return Fail(WriteFailed(dir_, "fsync", err));
    return std::string();
  }
  void Discard() override {
    done_ = true;
    fd_.Close();
    ::unlink(tmp_.c_str());
    if (renamed_) ::unlink(final_.c_str());
    FsyncPath(dir_);  // best effort: the removal made durable
  }
  void Keep() override { done_ = true; }

 private:
  Error Fail(Error e) {
    Discard();
    return e;
  }
  const Root& site_;
  fs::path dir_, tmp_, final_;
  Fd fd_;
  bool renamed_ = false;
  bool done_ = false;
};

class LocalSource final : public CopySource {
 public:
  LocalSource(std::string site, fs::path path, Fd fd)
      : site_(std::move(site)), path_(std::move(path)), fd_(std::move(fd)) {}
  Result<std::string> ReadAt(int64_t offset, size_t want) override {
    std::string out(want, '\0');
    size_t got = 0;
    while (got < want) {
      ssize_t r = ::pread(fd_.get(), out.data() + got, want - got,
                          static_cast<off_t>(offset + static_cast<int64_t>(got)));
      if (r < 0) {
        if (errno == EINTR) continue;
        return Unavailable("blob_read_failed",
                           fmt::format("read {} on root {}: {}", path_.filename().string(),
                                       site_, ErrnoText(errno)));
      }
      if (r == 0) {
        return Unavailable("blob_read_failed",
                           fmt::format("copy {} on root {} is shorter than recorded",
                                       path_.filename().string(), site_));
      }
      got += static_cast<size_t>(r);
    }
    return out;
  }

 private:
  std::string site_;
  fs::path path_;
  Fd fd_;
};

class LocalSiteIo final : public SiteIo {
 public:
  using SiteIo::SiteIo;

  bool Usable(uint64_t& free_bytes) override {
    std::error_code ec;
    if (!fs::is_directory(site_.path, ec)) return false;
    auto space = fs::space(site_.path, ec);
    if (ec) return false;
    free_bytes = space.available;
    return true;
  }

  Result<std::unique_ptr<CopySink>> Begin(const std::string& id, const std::string& key,
                                          const Clock&) override {
    fs::path rel(key);
    ZG_RETURN_IF_ERROR(MakeFanOut(site_.path, rel.parent_path()));
    fs::path dir = site_.path / rel.parent_path();
    fs::path tmp = dir / fmt::format(".{}.tmp-{}", id, crypto::ToHex(crypto::RandomBytes(4)));
    Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, kFileMode));
    if (!fd.valid()) return WriteFailed(tmp, "create", errno);
    return std::unique_ptr<CopySink>(
        std::make_unique<LocalSink>(site_, dir, tmp, site_.path / rel, std::move(fd)));
  }

  Result<std::unique_ptr<CopySource>> Open(const std::string& key, int64_t size,
                                           const std::string&) override {
    fs::path p = site_.path / key;
    Fd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return Unavailable("blob_read_failed", ErrnoText(errno));
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return Unavailable("blob_read_failed", ErrnoText(errno));
    if (st.st_size != size) {
      return Unavailable("copy_length_differs",
                         fmt::format("copy on root {} has {} bytes, {} recorded", site_.name,
                                     st.st_size, size));
    }
    return std::unique_ptr<CopySource>(
        std::make_unique<LocalSource>(site_.name, std::move(p), std::move(fd)));
  }

  Result<CopyDigest> Check(const std::string& key, bool full, const std::string&) override {
    std::error_code ec;
    if (!fs::is_directory(site_.path, ec)) {
      return Unavailable("site_unavailable", "root directory absent (not mounted?)");
    }
    return HashFile(site_.path / key, full);
  }

  int64_t RemoveUnrecorded(const std::string& id, const std::string& key) override {
    const fs::path dir = (site_.path / key).parent_path();
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) return 0;
    std::vector<fs::path> victims;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (name == id || name.starts_with("." + id + ".tmp-")) victims.push_back(it->path());
    }
    int64_t removed = 0;
    for (const auto& v : victims) {
      std::error_code rec;
      if (fs::remove(v, rec)) ++removed;
    }
    if (!victims.empty()) FsyncPath(dir);
    return removed;
  }

  Status Probe() override {
    std::error_code ec;
    if (!fs::is_directory(site_.path, ec)) {
      return Unavailable("site_unavailable", "root directory absent (not mounted?)");
    }
    return Status::Ok();
  }

  Status Remove(const std::string& key, const std::string&) override {
    fs::path p = site_.path / key;
    if (::unlink(p.c_str()) != 0 && errno != ENOENT) return WriteFailed(p, "unlink", errno);
    FsyncPath(p.parent_path());
    return Status::Ok();
  }

  int64_t RemoveStaleWrites(std::chrono::system_clock::time_point cutoff) override {
    int64_t removed = 0;
    std::error_code ec;
    if (!fs::is_directory(site_.path, ec)) return 0;
    fs::recursive_directory_iterator it(site_.path, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
      if (it.depth() > 2) {
        it.disable_recursion_pending();
        continue;
      }
      if (!IsTempName(it->path().filename().string())) continue;
      struct stat st {};
      if (::stat(it->path().c_str(), &st) != 0) continue;
      std::error_code fec;
      if (std::chrono::system_clock::from_time_t(st.st_mtim.tv_sec) <= cutoff &&
          fs::remove(it->path(), fec)) {
        ++removed;
      }
    }
    return removed;
  }

  Result<std::vector<std::string>> ListKeys() override {
    std::vector<std::string> out;
    std::error_code ec;
    if (!fs::is_directory(site_.path, ec)) return out;
    fs::recursive_directory_iterator it(site_.path, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
      if (it.depth() > 2) {
        it.disable_recursion_pending();
        continue;
      }
      std::error_code fec;
      if (!it->is_regular_file(fec)) continue;
      if (!ValidBlobId(it->path().filename().string())) continue;
      out.push_back(fs::relative(it->path(), site_.path, fec).generic_string());
    }
    std::sort(out.begin(), out.end());
    return out;
  }
};

// ---- S3 bucket ----

// The site did not answer: refused, reset or timed-out connections and HTTP 5xx, after the
// client's retries (s3_client.h). Nothing is then known about the copy itself.
bool TransportFailure(const Error& e) { return e.code == "s3_unavailable"; }

Error SiteError(const Root& site, std::string_view code, std::string_view what, const Error& e) {
  return Unavailable(std::string(code),
                     fmt::format("site {} ({}/{}): {}: {}: {}", site.name, site.endpoint,
                                 site.bucket, what, e.code, e.message));
}

class S3Sink final : public CopySink {
 public:
  S3Sink(const Root& site, s3::S3Client& client, std::string key,
         std::unique_ptr<s3::MultipartWriter> writer, std::string lock_mode,
         std::string retain_until)
      : site_(site), client_(client), key_(std::move(key)), writer_(std::move(writer)),
        lock_mode_(std::move(lock_mode)), retain_until_(std::move(retain_until)) {}
  ~S3Sink() override {
    if (!done_) Discard();
  }
  Status Write(std::string_view bytes) override {
    Status s = writer_->Write(bytes);
    if (!s.ok()) return SiteError(site_, "blob_write_failed", "upload", s.error());
    return Status::Ok();
  }
  Result<std::string> Finish(const std::string& sha256, int64_t size, bool read_back) override {
    auto put = writer_->Commit();
    if (!put.ok()) return Fail(SiteError(site_, "blob_write_failed", "complete", put.error()));
    completed_ = true;
    version_id_ = put->version_id;
    auto head = client_.Head(site_.bucket, key_, version_id_);
    if (!head.ok()) {
      return Fail(SiteError(site_, "blob_verify_failed", "head after upload", head.error()));
    }
    if (version_id_.empty()) version_id_ = head->version_id;
    if (!lock_mode_.empty()) {
      // why: RGW 16 ignores the lock headers of CreateMultipartUpload; the retention is put
      // on the completed version itself, and checked.
      Status locked =
          client_.SetRetention(site_.bucket, key_, version_id_, lock_mode_, retain_until_);
      if (!locked.ok()) {
        return Fail(SiteError(site_, "blob_write_failed", "set retention", locked.error()));
      }
      auto again = client_.Head(site_.bucket, key_, version_id_);
      if (!again.ok() || again->lock_mode != lock_mode_) {
        return Fail(Unavailable("blob_write_failed",
                                fmt::format("site {} did not lock the copy ({})", site_.name,
                                            again.ok() ? again->lock_mode : again.error().message)));
      }
    }
    if (head->size != size || head->etag != writer_->ExpectedEtag()) {
      return Fail(Unavailable(
          "blob_verify_failed",
          fmt::format("copy at site {} does not match what was sent (size {} vs {}, ETag {} vs "
                      "{})",
                      site_.name, head->size, size, head->etag, writer_->ExpectedEtag())));
    }
    if (read_back) {
      Sha256Stream sha;
      int64_t got = 0;
      Status s = client_.Get(
          site_.bucket, key_, 0,
          [&](std::string_view piece) {
            sha.Update(piece);
            got += static_cast<int64_t>(piece.size());
            return true;
          },
          version_id_);
      if (!s.ok()) return Fail(SiteError(site_, "blob_verify_failed", "read back", s.error()));
      if (got != size || sha.HexFinal() != sha256) {
        return Fail(Unavailable("blob_verify_failed",
                                fmt::format("copy at site {} read back differs from what was "
                                            "written",
                                            site_.name)));
      }
    }
    return version_id_;
  }
  void Discard() override {
    if (done_) return;
    done_ = true;
    if (!completed_) {
      writer_->Abort();
    } else {
      // A locked version cannot be deleted (that is the point of the lock); it then stays
      // as an unreferenced version until its retention ends.
      (void)client_.Delete(site_.bucket, key_, version_id_);
    }
  }
  void Keep() override { done_ = true; }

 private:
  Error Fail(Error e) {
    Discard();
    return e;
  }
  const Root& site_;
  s3::S3Client& client_;
  std::string key_;
  std::unique_ptr<s3::MultipartWriter> writer_;
  std::string lock_mode_, retain_until_;
  std::string version_id_;
  bool completed_ = false;
  bool done_ = false;
};

// Ranged GETs with a read-ahead window, so that a reader asking for small pieces in order
// makes one request per window, not one per piece.
class S3Source final : public CopySource {
 public:
  static constexpr int64_t kWindow = 4 << 20;
  S3Source(const Root& site, s3::S3Client& client, std::string key, int64_t size,
           std::string version_id)
      : site_(site), client_(client), key_(std::move(key)), size_(size),
        version_id_(std::move(version_id)) {}
  Result<std::string> ReadAt(int64_t offset, size_t n) override {
    const int64_t end = offset + static_cast<int64_t>(n);
    if (offset >= window_start_ && end <= window_start_ + static_cast<int64_t>(window_.size())) {
      return window_.substr(static_cast<size_t>(offset - window_start_), n);
    }
    int64_t want = std::min(std::max<int64_t>(static_cast<int64_t>(n), kWindow), size_ - offset);
    auto got = client_.GetRange(site_.bucket, key_, offset, want, version_id_);
    if (!got.ok()) {
      return SiteError(site_, TransportFailure(got.error()) ? "site_unreachable" : "blob_read_failed",
                       "ranged get", got.error());
    }
    if (static_cast<int64_t>(got->size()) < static_cast<int64_t>(n)) {
      return Unavailable("blob_read_failed",
                         fmt::format("copy {} at site {} is shorter than recorded", key_,
                                     site_.name));
    }
    window_ = std::move(*got);
    window_start_ = offset;
    return window_.substr(0, n);
  }

 private:
  const Root& site_;
  s3::S3Client& client_;
  std::string key_;
  int64_t size_;
  std::string version_id_;
  std::string window_;
  int64_t window_start_ = -1;
};

class S3SiteIo final : public SiteIo {
 public:
  S3SiteIo(Root site, std::unique_ptr<s3::S3Client> client,
           std::unique_ptr<s3::S3Client> probe_client)
      : SiteIo(std::move(site)), client_(std::move(client)),
        probe_client_(std::move(probe_client)) {}

  bool Usable(uint64_t& free_bytes) override {
    free_bytes = std::numeric_limits<uint64_t>::max();  // an object store does not fill up
    return true;
  }

  Result<std::unique_ptr<CopySink>> Begin(const std::string&, const std::string& key,
                                          const Clock& clock) override {
    s3::PutOptions po{.content_type = "application/octet-stream"};
    if (!site_.object_lock.empty()) {
      po.lock_mode = site_.object_lock;
      po.retain_until = FormatRfc3339(clock.Now() + std::chrono::days(site_.retention_days));
    }
    auto w = s3::MultipartWriter::Start(*client_, site_.bucket, key, site_.part_size, po);
    if (!w.ok()) return SiteError(site_, "blob_write_failed", "start upload", w.error());
    return std::unique_ptr<CopySink>(
        std::make_unique<S3Sink>(site_, *client_, key, std::move(*w), po.lock_mode,
                                 po.retain_until));
  }

  Result<std::unique_ptr<CopySource>> Open(const std::string& key, int64_t size,
                                           const std::string& version_id) override {
    auto head = client_->Head(site_.bucket, key, version_id);
    if (!head.ok()) {
      return SiteError(site_, TransportFailure(head.error()) ? "site_unreachable" : "blob_read_failed",
                       "head", head.error());
    }
    if (head->size != size) {
      return Unavailable("copy_length_differs",
                         fmt::format("copy {} at site {} has {} bytes, {} recorded", key,
                                     site_.name, head->size, size));
    }
    return std::unique_ptr<CopySource>(std::make_unique<S3Source>(site_, *client_, key, size, version_id));
  }

  Result<CopyDigest> Check(const std::string& key, bool full,
                           const std::string& version_id) override {
    auto head = client_->Head(site_.bucket, key, version_id);
    if (!head.ok()) return Classify(head.error());
    CopyDigest out{.size = head->size};
    if (!full) return out;
    Sha256Stream sha;
    int64_t got = 0;
    Status s = client_->Get(
        site_.bucket, key, 0,
        [&](std::string_view piece) {
          sha.Update(piece);
          got += static_cast<int64_t>(piece.size());
          return true;
        },
        version_id);
    if (!s.ok()) return Classify(s.error());
    out.size = got;
    out.sha256 = sha.HexFinal();
    return out;
  }

  int64_t RemoveUnrecorded(const std::string&, const std::string& key) override {
    int64_t removed = 0;
    if (auto ups = client_->ListMultipart(site_.bucket, key); ups.ok()) {
      for (const auto& u : *ups) {
        if (u.key == key && client_->AbortMultipart(site_.bucket, key, u.upload_id).ok()) {
          ++removed;
        }
      }
    }
    if (client_->Head(site_.bucket, key).ok() && client_->Delete(site_.bucket, key).ok()) {
      ++removed;
    }
    return removed;
  }

  Status Probe() override {
    auto head = probe_client_->Head(site_.bucket, "zengen-health-probe");
    if (head.ok() || head.error().code == "s3_no_such_key") return Status::Ok();
    return Classify(head.error());
  }

  Status Remove(const std::string& key, const std::string& version_id) override {
    Status s = client_->Delete(site_.bucket, key, version_id);
    if (!s.ok()) return SiteError(site_, "blob_remove_failed", "delete", s.error());
    return Status::Ok();
  }

  int64_t RemoveStaleWrites(std::chrono::system_clock::time_point cutoff) override {
    auto ups = client_->ListMultipart(site_.bucket, "");
    if (!ups.ok()) return 0;
    const std::string before = FormatRfc3339(cutoff);
    int64_t removed = 0;
    for (const auto& u : *ups) {
      // RFC 3339 UTC timestamps of one format compare as strings; a missing one counts as old.
      if (u.initiated.substr(0, 19) > before.substr(0, 19)) continue;
      if (client_->AbortMultipart(site_.bucket, u.key, u.upload_id).ok()) ++removed;
    }
    return removed;
  }

  Result<std::vector<std::string>> ListKeys() override {
    auto all = client_->List(site_.bucket, "");
    if (!all.ok()) return SiteError(site_, "site_unavailable", "list", all.error());
    std::vector<std::string> out;
    for (const auto& e : *all) {
      size_t slash = e.key.rfind('/');
      if (ValidBlobId(slash == std::string::npos ? e.key : e.key.substr(slash + 1))) {
        out.push_back(e.key);
      }
    }
    return out;
  }

 private:
  Error Classify(const Error& e) const {
    if (e.code == "s3_no_such_key") return NotFound("missing", "object not found");
    if (e.code == "s3_unavailable" || e.code == "s3_no_such_bucket" ||
        e.code == "s3_access_denied") {
      return Unavailable("site_unavailable",
                         fmt::format("site {} unreachable or refusing: {}: {}", site_.name,
                                     e.code, e.message));
    }
    return Unavailable("unreadable", fmt::format("{}: {}", e.code, e.message));
  }
  std::unique_ptr<s3::S3Client> client_;
  std::unique_ptr<s3::S3Client> probe_client_;  // one attempt, short timeouts
};

}  // namespace

Status LoadCredentials(Root& site) {
  if (site.kind != "s3" || !site.access_key.empty()) return Status::Ok();
  auto bad = [&](std::string_view what) {
    return InvalidArgument("invalid_blob_store_config",
                           fmt::format("site {}: credentials file {} {}", site.name,
                                       site.credentials_file.string(), what),
                           "blob_s3_sites");
  };
  if (site.credentials_file.empty()) return bad("is not set");
  struct stat st {};
  if (::stat(site.credentials_file.c_str(), &st) != 0) return bad("cannot be read");
  if (!S_ISREG(st.st_mode)) return bad("is not a regular file");
  if ((st.st_mode & 0077) != 0) {
    return bad(fmt::format("has mode {:o}; it must be 0600 (owner only)", st.st_mode & 0777));
  }
  std::ifstream in(site.credentials_file);
  std::string access, secret, extra;
  in >> access >> secret >> extra;
  if (access.empty() || secret.empty() || !extra.empty()) {
    return bad("must hold exactly \"ACCESS_KEY SECRET_KEY\"");
  }
  site.access_key = std::move(access);
  site.secret_key = std::move(secret);
  return Status::Ok();
}

Result<std::unique_ptr<SiteIo>> MakeSiteIo(const Root& site) {
  if (site.kind == "local") return std::unique_ptr<SiteIo>(std::make_unique<LocalSiteIo>(site));
  if (site.kind != "s3") {
    return InvalidArgument("invalid_blob_store_config",
                           fmt::format("site {}: kind must be local or s3", site.name));
  }
  auto client = s3::S3Client::Create({.endpoint = site.endpoint,
                                      .region = site.region,
                                      .access_key = site.access_key,
                                      .secret_key = site.secret_key,
                                      .connect_timeout = std::chrono::milliseconds(3000),
                                      .max_attempts = 3,
                                      .backoff_base = std::chrono::milliseconds(50),
                                      .backoff_cap = std::chrono::milliseconds(1000)});
  if (!client.ok()) {
    return InvalidArgument("invalid_blob_store_config",
                           fmt::format("site {}: {}", site.name, client.error().message));
  }
  auto probe = s3::S3Client::Create({.endpoint = site.endpoint,
                                     .region = site.region,
                                     .access_key = site.access_key,
                                     .secret_key = site.secret_key,
                                     .connect_timeout = std::chrono::milliseconds(1000),
                                     .stall_timeout = std::chrono::milliseconds(2000),
                                     .max_attempts = 1});
  if (!probe.ok()) {
    return InvalidArgument("invalid_blob_store_config",
                           fmt::format("site {}: {}", site.name, probe.error().message));
  }
  return std::unique_ptr<SiteIo>(
      std::make_unique<S3SiteIo>(site, std::move(*client), std::move(*probe)));
}

}  // namespace zengen::blobs::internal
