#include "http/body_spool.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include <fmt/format.h>

#include "crypto/crypt4gh.h"
#include "crypto/crypto.h"

namespace zengen::http {
namespace {

namespace c4gh = crypto::crypt4gh;

// Ciphertext read back per step: a few Crypt4GH segments (64 KiB of plaintext each).
constexpr size_t kReadBack = size_t{256} << 10;

// The open spool file; closing it (the last owner going) removes it for good.
class SpoolFile {
 public:
  SpoolFile(int fd, std::atomic<int>* live) : fd_(fd), live_(live) {
    if (live_ != nullptr) ++*live_;
  }
  ~SpoolFile() {
    ::close(fd_);
    if (live_ != nullptr) --*live_;
  }
  SpoolFile(const SpoolFile&) = delete;
  SpoolFile& operator=(const SpoolFile&) = delete;
  int fd() const { return fd_; }

 private:
  const int fd_;
  std::atomic<int>* const live_;
};

// O_TMPFILE where the file system has it; else a fresh 0600 name, unlinked at once. Either
// way no name is left behind, even by a process killed mid-request.
int OpenUnnamed(const std::filesystem::path& dir) {
  int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0) return fd;
  if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) return -1;
  const auto path = dir / ("body-" + crypto::ToHex(crypto::RandomBytes(8)));
  fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0) ::unlink(path.c_str());
  return fd;
}

class SpoolReader final : public BodyReader {
 public:
  SpoolReader(std::shared_ptr<SpoolFile> file, int64_t plain_bytes, int64_t file_bytes,
              c4gh::Decryptor decryptor)
      : file_(std::move(file)), plain_bytes_(plain_bytes), file_bytes_(file_bytes),
        decryptor_(std::move(decryptor)) {}

  int64_t size() const override { return plain_bytes_; }

  Result<std::string> Read(size_t max_bytes) override {
    if (failure_) return *failure_;
    max_bytes = std::max<size_t>(max_bytes, 1);
    while (pending_.size() - pending_at_ < 1 && !finished_) {
      if (auto st = Fill(); !st.ok()) {
        failure_ = st.error();
        return *failure_;
      }
    }
    const size_t n = std::min(max_bytes, pending_.size() - pending_at_);
    std::string piece = pending_.substr(pending_at_, n);
    pending_at_ += n;
    delivered_ += static_cast<int64_t>(n);
    if (pending_at_ == pending_.size()) {
      pending_.clear();
      pending_at_ = 0;
    }
    return piece;
  }

 private:
  // Decrypts the next ciphertext step into pending_, or ends the body.
  Status Fill() {
    if (read_at_ >= file_bytes_) {
      auto rest = decryptor_.Finish();
      if (!rest.ok()) return Unreadable(rest.error().code);
      pending_ = std::move(*rest);
      pending_at_ = 0;
      finished_ = true;
      if (delivered_ + static_cast<int64_t>(pending_.size()) != plain_bytes_) {
        return Unreadable("length");
      }
      return Status::Ok();
    }
    const size_t want = static_cast<size_t>(
        std::min<int64_t>(static_cast<int64_t>(kReadBack), file_bytes_ - read_at_));
    std::string cipher(want, '\0');
    size_t got = 0;
    while (got < want) {
      const ssize_t n = ::pread(file_->fd(), cipher.data() + got, want - got,
                                static_cast<off_t>(read_at_ + static_cast<int64_t>(got)));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return Unreadable(n < 0 ? std::strerror(errno) : "short file");
      got += static_cast<size_t>(n);
    }
    read_at_ += static_cast<int64_t>(want);
    auto plain = decryptor_.Update(cipher);
    if (!plain.ok()) return Unreadable(plain.error().code);
    pending_ = std::move(*plain);
    pending_at_ = 0;
    return Status::Ok();
  }

  static Error Unreadable(std::string_view why) {
    return Unavailable("body_unreadable",
                       fmt::format("the request body could not be read back ({})", why));
  }

  std::shared_ptr<SpoolFile> file_;
  const int64_t plain_bytes_;
  const int64_t file_bytes_;
  c4gh::Decryptor decryptor_;
  int64_t read_at_ = 0;
  int64_t delivered_ = 0;
  std::string pending_;
  size_t pending_at_ = 0;
  bool finished_ = false;
  std::optional<Error> failure_;
};

}  // namespace

struct BodySpool::State {
  std::shared_ptr<SpoolFile> file;
  c4gh::KeyPair keys;  // this body's only; never written anywhere
  std::optional<c4gh::Encryptor> encryptor;
  int64_t plain_bytes = 0;
  int64_t file_bytes = 0;
  bool finished = false;

  Status WriteAll(std::string_view cipher) {
    while (!cipher.empty()) {
      const ssize_t n = ::write(file->fd(), cipher.data(), cipher.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        return Unavailable("body_spool_failed",
                           fmt::format("cannot keep the request body: {}",
                                       n < 0 ? std::strerror(errno) : "disk full"));
      }
      cipher.remove_prefix(static_cast<size_t>(n));
      file_bytes += n;
    }
    return Status::Ok();
  }
};

BodySpool::BodySpool(std::unique_ptr<State> state) : state_(std::move(state)) {}
BodySpool::~BodySpool() = default;

Result<std::unique_ptr<BodySpool>> BodySpool::Create(const std::filesystem::path& directory,
                                                     std::atomic<int>* live) {
  const int fd = OpenUnnamed(directory);
  if (fd < 0) {
    return Unavailable("body_spool_unavailable",
                       fmt::format("cannot keep the request body: {}", std::strerror(errno)));
  }
  auto state = std::make_unique<State>();
  state->file = std::make_shared<SpoolFile>(fd, live);
  state->keys = c4gh::GenerateKeyPair();
  auto enc = c4gh::Encryptor::Create(state->keys.secret_key, {state->keys.public_key});
  if (!enc.ok()) return enc.error();
  state->encryptor.emplace(std::move(*enc));
  return std::unique_ptr<BodySpool>(new BodySpool(std::move(state)));
}

Status BodySpool::Append(std::string_view bytes) {
  if (bytes.empty()) return Status::Ok();
  state_->plain_bytes += static_cast<int64_t>(bytes.size());
  return state_->WriteAll(state_->encryptor->Update(bytes));
}

Result<std::shared_ptr<BodyReader>> BodySpool::Finish() {
  State& s = *state_;
  s.finished = true;
  ZG_RETURN_IF_ERROR(s.WriteAll(s.encryptor->Finish()));
  auto dec = c4gh::Decryptor::Create(s.keys.secret_key);
  if (!dec.ok()) return dec.error();
  return std::shared_ptr<BodyReader>(
      std::make_shared<SpoolReader>(s.file, s.plain_bytes, s.file_bytes, std::move(*dec)));
}

int64_t BodySpool::size() const { return state_->plain_bytes; }

}  // namespace zengen::http
