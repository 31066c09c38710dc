#include "genomefiles/object.h"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "crypto/crypto.h"
#include "crypto/sha256_stream.h"

namespace zengen::genomefiles {
namespace {

namespace c4gh = crypto::crypt4gh;

// Stored objects are read in whole Crypt4GH segments (16 × 64 KiB of plaintext, about 1 MiB),
// so that every byte handed on has been authenticated.
constexpr size_t kSegmentsPerPiece = 16;

using crypto::Sha256Stream;

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

// ---- PlainReader ---------------------------------------------------------------------------

namespace {

// Faults of a copy's bytes (another copy may be good), as opposed to faults of the request.
bool IsCopyFault(const Error& e) {
  return e.code == "crypt4gh_mac_mismatch" || e.code == "crypt4gh_truncated" ||
         e.code == "blob_read_failed" || e.code == "blob_truncated" || e.code == "not_crypt4gh" ||
         e.code == "invalid_crypt4gh_header" || e.code == "no_crypt4gh_packet_for_key" ||
         e.code == "unsupported_crypt4gh_version";
}

}  // namespace

PlainReader::PlainReader(PlainReader&&) noexcept = default;
PlainReader& PlainReader::operator=(PlainReader&&) noexcept = default;
PlainReader::~PlainReader() = default;

Result<PlainReader> PlainReader::Open(blobs::BlobStore& blobs, std::string_view blob_id,
                                      const UploadKeys& keys) {
  ZG_ASSIGN_OR_RETURN(auto reader, blobs.Open(blob_id));
  PlainReader p;
  p.blobs_ = &blobs;
  p.blob_id_ = std::string(blob_id);
  p.plain_size_ = reader->info().plaintext_size;
  p.secret_ = keys.secret_key;
  // why (issue 13 item 9): a copy whose header is damaged must not hide a good one.
  if (Status s = p.UseCopy(std::move(reader)); !s.ok()) {
    if (!IsCopyFault(s.error())) return s.error();
    ZG_RETURN_IF_ERROR(p.SwitchCopy(s.error()));
  }
  return p;
}

Status PlainReader::UseCopy(std::unique_ptr<blobs::Reader> reader) {
  reader_ = std::move(reader);
  pass_.reset();
  pass_next_ = -1;
  stored_size_ = reader_->info().size;
  std::string prefix;
  size_t header_len = 0;
  while (header_len == 0) {
    ZG_ASSIGN_OR_RETURN(std::string piece,
                        reader_->ReadAt(static_cast<int64_t>(prefix.size()), 64 * 1024));
    if (piece.empty()) return Internal("crypt4gh_truncated", "stored object ends in its header");
    prefix += piece;
    ZG_ASSIGN_OR_RETURN(header_len, c4gh::HeaderLength(prefix));
  }
  header_ = prefix.substr(0, header_len);
  data_offset_ = static_cast<int64_t>(header_len);
  return Status::Ok();
}

Status PlainReader::SwitchCopy(const Error& why) {
  const std::string root = reader_->root();
  // why: the alert is best effort; serving the good copy matters more than recording it.
  (void)blobs_->ReportBadCopy(blob_id_, root, why.code + ": " + why.message);
  bad_roots_.push_back(root);
  for (;;) {
    auto next = blobs_->OpenExcept(blob_id_, bad_roots_);
    if (!next.ok()) {
      return Unavailable("no_good_copy",
                         fmt::format("{} failed on root {} ({}) and no other good copy is left",
                                     blob_id_, root, why.code));
    }
    Status s = UseCopy(std::move(*next));
    if (s.ok() || !IsCopyFault(s.error())) return s;
    (void)blobs_->ReportBadCopy(blob_id_, reader_->root(), s.error().code + ": " + s.error().message);
    bad_roots_.push_back(reader_->root());
  }
}

Result<std::string> PlainReader::Read(int64_t start, int64_t end) {
  for (;;) {
    auto out = ReadFromCopy(start, end, nullptr);
    if (out.ok() || !IsCopyFault(out.error())) return out;
    ZG_RETURN_IF_ERROR(SwitchCopy(out.error()));
  }
}

Result<PlainReader::Segments> PlainReader::ReadSegments(int64_t first, int64_t count) {
  for (;;) {
    auto out = SegmentsFromCopy(first, count);
    if (out.ok() || !IsCopyFault(out.error())) return out;
    ZG_RETURN_IF_ERROR(SwitchCopy(out.error()));
  }
}

Result<std::string> PlainReader::ReadFromCopy(int64_t start, int64_t end, std::string* stored) {
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
  int64_t at = data_offset_ + static_cast<int64_t>(span.offset);
  const int64_t stop = span.length ? std::min(stored_size_, at + static_cast<int64_t>(*span.length))
                                   : stored_size_;
  while (at < stop) {
    ZG_ASSIGN_OR_RETURN(std::string piece,
                        reader_->ReadAt(at, static_cast<size_t>(std::min<int64_t>(stop - at, 1 << 20))));
    if (piece.empty()) break;
    at += static_cast<int64_t>(piece.size());
    ZG_ASSIGN_OR_RETURN(std::string plain, dec.Update(piece));
    if (stored != nullptr) *stored += piece;
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

Result<PlainReader::Segments> PlainReader::SegmentsFromCopy(int64_t first, int64_t count) {
  const auto seg = static_cast<int64_t>(c4gh::kSegmentSize);
  const auto cseg = static_cast<int64_t>(c4gh::kCipherSegmentSize);
  Segments out;
  if (first < 0 || count < 0) {
    return InvalidArgument("invalid_range", fmt::format("segments {}+{}", first, count));
  }
  const int64_t at = data_offset_ + first * cseg;
  if (count == 0 || first * seg >= plain_size_ || at >= stored_size_) return out;
  const int64_t stop = std::min(stored_size_, at + count * cseg);
  if (!pass_ || pass_next_ != first) {
    c4gh::DecryptOptions opts;
    opts.start = static_cast<uint64_t>(first * seg);
    opts.data_begins_at_range = true;
    ZG_ASSIGN_OR_RETURN(auto dec, c4gh::Decryptor::Create(secret_, opts));
    pass_ = std::make_unique<c4gh::Decryptor>(std::move(dec));
    pass_next_ = -1;
    ZG_ASSIGN_OR_RETURN(std::string none, pass_->Update(header_));
    (void)none;  // a header yields no plaintext
  }
  pass_next_ = -1;  // until this batch is whole
  ZG_ASSIGN_OR_RETURN(out.stored, reader_->ReadAt(at, static_cast<size_t>(stop - at)));
  if (static_cast<int64_t>(out.stored.size()) != stop - at) {
    return Internal("blob_truncated", "stored object ends early");
  }
  ZG_ASSIGN_OR_RETURN(out.plain, pass_->Update(out.stored));
  if (stop == stored_size_) {
    ZG_ASSIGN_OR_RETURN(std::string rest, pass_->Finish());
    out.plain += rest;
    pass_.reset();
  } else {
    pass_next_ = first + count;
  }
  return out;
}

// ---- OpenObjectStream ----------------------------------------------------------------------

Result<ObjectStream> OpenObjectStream(blobs::BlobStore& blobs, std::string_view blob_id,
                                      const UploadKeys& keys,
                                      std::string_view recipient_public_key) {
  ZG_ASSIGN_OR_RETURN(PlainReader opened, PlainReader::Open(blobs, blob_id, keys));
  auto reader = std::make_shared<PlainReader>(std::move(opened));
  auto next_segment = std::make_shared<int64_t>(0);
  const auto per_piece = static_cast<int64_t>(kSegmentsPerPiece);
  ObjectStream out;
  if (recipient_public_key.empty()) {
    out.length = reader->size();
    out.next = [reader, next_segment, per_piece]() -> Result<std::string> {
      ZG_ASSIGN_OR_RETURN(PlainReader::Segments s, reader->ReadSegments(*next_segment, per_piece));
      *next_segment += per_piece;
      return std::move(s.plain);
    };
    return out;
  }
  // Header re-encryption: re-wrap the header's packets for the recipient, then pass the
  // encrypted segments through as stored (each authenticated first).
  ZG_ASSIGN_OR_RETURN(std::string wrapped,
                      c4gh::ReencryptHeader(reader->header(), keys.secret_key,
                                            {std::string(recipient_public_key)}, keys.secret_key));
  out.length = static_cast<int64_t>(wrapped.size()) + reader->stored_size() -
               static_cast<int64_t>(reader->header().size());
  auto first = std::make_shared<std::string>(std::move(wrapped));
  out.next = [reader, next_segment, per_piece, first]() -> Result<std::string> {
    if (!first->empty()) return std::exchange(*first, std::string());
    ZG_ASSIGN_OR_RETURN(PlainReader::Segments s, reader->ReadSegments(*next_segment, per_piece));
    *next_segment += per_piece;
    return std::move(s.stored);
  };
  return out;
}

}  // namespace zengen::genomefiles
