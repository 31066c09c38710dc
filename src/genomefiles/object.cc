#include "genomefiles/object.h"

#include <openssl/evp.h>

#include <algorithm>
#include <optional>
#include <utility>

#include <fmt/format.h>

#include "crypto/crypto.h"

namespace zengen::genomefiles {
namespace {

namespace c4gh = crypto::crypt4gh;

// Stored objects are read in whole Crypt4GH segments (16 × 64 KiB of plaintext, about 1 MiB),
// so that every byte handed on has been authenticated.
constexpr size_t kSegmentsPerPiece = 16;

// Incremental SHA-256 over OpenSSL EVP.
class Sha256Stream {
 public:
  Sha256Stream() : ctx_(EVP_MD_CTX_new(), EVP_MD_CTX_free) {
    EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr);
  }
  void Update(std::string_view b) { EVP_DigestUpdate(ctx_.get(), b.data(), b.size()); }
  std::string HexFinal() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_DigestFinal_ex(ctx_.get(), md, &n);
    return crypto::ToHex(std::string_view(reinterpret_cast<const char*>(md), n));
  }

 private:
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx_;
};

}  // namespace

// ---- EncryptedBlob -------------------------------------------------------------------------

struct EncryptedBlob::Impl {
  Impl(std::unique_ptr<blobs::Writer> w, c4gh::Encryptor e)
      : writer(std::move(w)), enc(std::move(e)) {}
  std::unique_ptr<blobs::Writer> writer;
  c4gh::Encryptor enc;
  Sha256Stream sha;
  int64_t size = 0;
};

EncryptedBlob::EncryptedBlob(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EncryptedBlob::EncryptedBlob(EncryptedBlob&&) noexcept = default;
EncryptedBlob& EncryptedBlob::operator=(EncryptedBlob&&) noexcept = default;
EncryptedBlob::~EncryptedBlob() = default;

Result<EncryptedBlob> EncryptedBlob::Create(blobs::BlobStore& store, const UploadKeys& keys,
                                            std::string kind) {
  blobs::PutRequest req;
  req.kind = std::move(kind);
  req.media_type = std::string(kCrypt4ghMediaType);
  ZG_ASSIGN_OR_RETURN(auto writer, store.Create(req));
  ZG_ASSIGN_OR_RETURN(auto enc, c4gh::Encryptor::Create(keys.secret_key, {keys.public_key}));
  return EncryptedBlob(std::make_unique<Impl>(std::move(writer), std::move(enc)));
}

const std::string& EncryptedBlob::id() const { return impl_->writer->id(); }

Status EncryptedBlob::Write(std::string_view plain) {
  impl_->sha.Update(plain);
  impl_->size += static_cast<int64_t>(plain.size());
  const std::string c = impl_->enc.Update(plain);
  return c.empty() ? Status::Ok() : impl_->writer->Write(c);
}

Result<blobs::BlobInfo> EncryptedBlob::Commit() {
  ZG_RETURN_IF_ERROR(impl_->writer->Write(impl_->enc.Finish()));
  return impl_->writer->Commit(impl_->sha.HexFinal(), impl_->size);
}

// ---- PlainReader -------------------------------------------------------------------------

Result<PlainReader> PlainReader::Open(blobs::BlobStore& blobs, std::string_view blob_id,
                                      const UploadKeys& keys) {
  ZG_ASSIGN_OR_RETURN(auto reader, blobs.Open(blob_id));
  PlainReader p;
  p.blobs_ = &blobs;
  p.blob_id_ = std::string(blob_id);
  p.plain_size_ = reader->info().plaintext_size;
  p.secret_ = keys.secret_key;
  ZG_RETURN_IF_ERROR(p.UseCopy(std::move(reader)));
  return p;
}

Status PlainReader::UseCopy(std::unique_ptr<blobs::Reader> reader) {
  std::string prefix;
  size_t header_len = 0;
  while (header_len == 0) {
    ZG_ASSIGN_OR_RETURN(std::string piece,
                        reader->ReadAt(static_cast<int64_t>(prefix.size()), 64 * 1024));
    if (piece.empty()) return Internal("crypt4gh_truncated", "stored object ends in its header");
    prefix += piece;
    ZG_ASSIGN_OR_RETURN(header_len, c4gh::HeaderLength(prefix));
  }
  header_ = prefix.substr(0, header_len);
  data_offset_ = static_cast<int64_t>(header_len);
  reader_ = std::shared_ptr<blobs::Reader>(std::move(reader));
  return Status::Ok();
}

Result<std::string> PlainReader::Read(int64_t start, int64_t end) {
  // why (issue 13 item 9): one bad replica must not block reads while another is good.
  for (;;) {
    auto out = ReadFromCopy(start, end);
    if (out.ok() || out.error().kind == ErrorKind::kInvalidArgument) return out;
    const Error& e = out.error();
    const bool copy_fault = e.code == "crypt4gh_mac_mismatch" || e.code == "crypt4gh_truncated" ||
                            e.code == "blob_read_failed" ||
                            e.code == "no_crypt4gh_packet_for_key";
    if (!copy_fault || blobs_ == nullptr) return out;
    const std::string root = reader_->root();
    (void)blobs_->ReportBadCopy(blob_id_, root, e.code + ": " + e.message);
    bad_roots_.push_back(root);
    auto next = blobs_->OpenExcept(blob_id_, bad_roots_);
    if (!next.ok()) {
      return Unavailable("no_good_copy",
                         fmt::format("{} failed on root {} ({}) and no other good copy is left",
                                     blob_id_, root, e.code));
    }
    ZG_RETURN_IF_ERROR(UseCopy(std::move(*next)));
  }
}

Result<std::string> PlainReader::ReadFromCopy(int64_t start, int64_t end) {
  end = std::min(end, plain_size_);
  if (start < 0 || start > end) {
    return InvalidArgument("invalid_range", fmt::format("range {}-{} is out of bounds", start, end));
  }
  if (start == end) return std::string();
  const c4gh::DataSpan span =
      c4gh::DataSpanForRange(static_cast<uint64_t>(start), static_cast<uint64_t>(end));
  c4gh::DecryptOptions opts;
  opts.start = static_cast<uint64_t>(start);
  opts.end = static_cast<uint64_t>(end);
  opts.data_begins_at_range = true;
  ZG_ASSIGN_OR_RETURN(auto dec, c4gh::Decryptor::Create(secret_, opts));
  std::string out;
  ZG_ASSIGN_OR_RETURN(std::string first, dec.Update(header_));
  out = std::move(first);
  const int64_t cipher_total = reader_->info().size;
  int64_t at = data_offset_ + static_cast<int64_t>(span.offset);
  const int64_t stop = span.length ? std::min(cipher_total, at + static_cast<int64_t>(*span.length))
                                   : cipher_total;
  while (at < stop) {
    ZG_ASSIGN_OR_RETURN(std::string piece,
                        reader_->ReadAt(at, static_cast<size_t>(std::min<int64_t>(stop - at, 1 << 20))));
    if (piece.empty()) break;
    at += static_cast<int64_t>(piece.size());
    ZG_ASSIGN_OR_RETURN(std::string plain, dec.Update(piece));
    if (out.empty()) {
      out = std::move(plain);  // the common case: one piece, no copy
    } else {
      out += plain;
    }
  }
  ZG_ASSIGN_OR_RETURN(std::string rest, dec.Finish());
  out += rest;
  return out;
}

// ---- OpenObjectStream ----------------------------------------------------------------------

namespace {

// Plaintext length of a Crypt4GH data part of `payload` bytes written without edit lists.
int64_t PlaintextLength(int64_t payload) {
  const auto seg = static_cast<int64_t>(c4gh::kCipherSegmentSize);
  const auto overhead = static_cast<int64_t>(c4gh::kCipherSegmentSize - c4gh::kSegmentSize);
  const int64_t rem = payload % seg;
  return payload / seg * static_cast<int64_t>(c4gh::kSegmentSize) +
         (rem > overhead ? rem - overhead : 0);
}

}  // namespace

namespace {

// One delivery's position in a stored object, and the copy it reads from. Every byte is
// authenticated (decrypted) before it is handed on; a copy that fails is reported and the
// delivery continues from another copy at the same segment.
struct Delivery {
  blobs::BlobStore* blobs = nullptr;
  std::string blob_id;
  std::string secret;
  std::unique_ptr<blobs::Reader> reader;
  std::vector<std::string> bad_roots;  // copies that failed this delivery
  std::optional<c4gh::Decryptor> dec;
  std::string header;  // the stored Crypt4GH header
  int64_t size = 0;    // stored bytes
  int64_t off = 0;     // stored offset of the next segment to read (segment-aligned)
  bool done = false;

  // Reads and checks the header of the current copy, and positions the decryptor at off (0:
  // the first segment).
  Status Start() {
    std::string prefix;
    size_t header_len = 0;
    while (header_len == 0) {
      ZG_ASSIGN_OR_RETURN(std::string piece,
                          reader->ReadAt(static_cast<int64_t>(prefix.size()), 64 * 1024));
      if (piece.empty()) return Internal("crypt4gh_truncated", "stored object ends in its header");
      prefix += piece;
      ZG_ASSIGN_OR_RETURN(header_len, c4gh::HeaderLength(prefix));
    }
    header = prefix.substr(0, header_len);
    if (off == 0) off = static_cast<int64_t>(header_len);
    const auto seg = static_cast<int64_t>(c4gh::kCipherSegmentSize);
    c4gh::DecryptOptions opts;
    opts.start = static_cast<uint64_t>((off - static_cast<int64_t>(header_len)) / seg) *
                 c4gh::kSegmentSize;
    opts.data_begins_at_range = true;
    ZG_ASSIGN_OR_RETURN(auto d, c4gh::Decryptor::Create(secret, opts));
    dec.emplace(std::move(d));
    ZG_ASSIGN_OR_RETURN(std::string none, dec->Update(header));
    (void)none;  // a header yields no plaintext
    return Status::Ok();
  }

  // The current copy failed with `why`: reports it and continues from another copy.
  Status SwitchCopy(const Error& why) {
    const std::string root = reader->root();
    // why: the alert is best effort; serving the good copy matters more than recording it.
    (void)blobs->ReportBadCopy(blob_id, root, why.code + ": " + why.message);
    bad_roots.push_back(root);
    auto next = blobs->OpenExcept(blob_id, bad_roots);
    if (!next.ok()) {
      return Unavailable("no_good_copy",
                         fmt::format("{} failed on root {} ({}) and no other good copy is left",
                                     blob_id, root, why.code));
    }
    reader = std::move(*next);
    return Start();
  }

  // Opens the object from its first good copy.
  Status Open() {
    for (;;) {
      Status s = Start();
      if (s.ok()) return s;
      if (!IsCopyFault(s.error())) return s;
      ZG_RETURN_IF_ERROR(SwitchCopy(s.error()));
    }
  }

  // Faults of a copy's bytes (another copy may be good), as opposed to faults of the request.
  static bool IsCopyFault(const Error& e) {
    return e.code == "crypt4gh_mac_mismatch" || e.code == "crypt4gh_truncated" ||
           e.code == "blob_read_failed" || e.code == "not_crypt4gh" ||
           e.code == "invalid_crypt4gh_header" || e.code == "no_crypt4gh_packet_for_key" ||
           e.code == "unsupported_crypt4gh_version";
  }

  // The next whole segments: their stored bytes and their plaintext (the final piece includes
  // what Finish returns). Empty stored bytes at the end.
  struct Piece {
    std::string stored;
    std::string plain;
  };
  Result<Piece> Next() {
    while (!done) {
      if (off >= size) {
        done = true;
        break;
      }
      const size_t want = kSegmentsPerPiece * c4gh::kCipherSegmentSize;
      auto stored = reader->ReadAt(off, want);
      if (!stored.ok()) {
        if (!IsCopyFault(stored.error())) return stored.error();
        ZG_RETURN_IF_ERROR(SwitchCopy(stored.error()));
        continue;
      }
      if (stored->empty()) return Internal("blob_truncated", "stored object ends early");
      const bool last = off + static_cast<int64_t>(stored->size()) >= size;
      auto plain = dec->Update(*stored);
      Result<std::string> tail = std::string();
      if (plain.ok() && last) tail = dec->Finish();
      if (!plain.ok() || !tail.ok()) {
        const Error e = !plain.ok() ? plain.error() : tail.error();
        if (!IsCopyFault(e)) return e;
        ZG_RETURN_IF_ERROR(SwitchCopy(e));
        continue;
      }
      off += static_cast<int64_t>(stored->size());
      done = last;
      return Piece{std::move(*stored), *plain + *tail};
    }
    return Piece{};
  }
};

}  // namespace

Result<ObjectStream> OpenObjectStream(blobs::BlobStore& blobs, std::string_view blob_id,
                                      const UploadKeys& keys,
                                      std::string_view recipient_public_key) {
  auto st = std::make_shared<Delivery>();
  st->blobs = &blobs;
  st->blob_id = std::string(blob_id);
  st->secret = keys.secret_key;
  ZG_ASSIGN_OR_RETURN(st->reader, blobs.Open(blob_id));
  st->size = st->reader->info().size;
  ZG_RETURN_IF_ERROR(st->Open());
  const auto header_len = static_cast<int64_t>(st->header.size());
  ObjectStream out;
  if (recipient_public_key.empty()) {
    out.length = PlaintextLength(st->size - header_len);
    out.next = [st]() -> Result<std::string> {
      for (;;) {
        ZG_ASSIGN_OR_RETURN(Delivery::Piece piece, st->Next());
        if (piece.stored.empty() || !piece.plain.empty()) return std::move(piece.plain);
      }
    };
    return out;
  }
  // Header re-encryption: re-wrap the header's packets for the recipient, then pass the
  // encrypted segments through as stored (each authenticated first).
  ZG_ASSIGN_OR_RETURN(std::string wrapped,
                      c4gh::ReencryptHeader(st->header, keys.secret_key,
                                            {std::string(recipient_public_key)}, keys.secret_key));
  out.length = static_cast<int64_t>(wrapped.size()) + st->size - header_len;
  auto first = std::make_shared<std::string>(std::move(wrapped));
  out.next = [st, first]() -> Result<std::string> {
    if (!first->empty()) return std::exchange(*first, std::string());
    ZG_ASSIGN_OR_RETURN(Delivery::Piece piece, st->Next());
    return std::move(piece.stored);
  };
  return out;
}

}  // namespace zengen::genomefiles
