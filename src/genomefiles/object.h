// Stored Crypt4GH objects: writing a genome file's plaintext into a blob encrypted for the data
// center's key (EncryptedBlob), and reading it back (PlainReader: plaintext byte ranges;
// OpenObjectStream: the whole object, plaintext or re-encrypted for a recipient).
//
// Every stored genome file (FASTQ, CRAM, BAM, VCF, BCF and their indexes) is one blob holding
// one Crypt4GH stream for the data center's own key pair, written without edit lists.
//
// Reading falls back from a bad copy (issue 13 item 9): when a copy's bytes fail (a segment's
// MAC does not match, the header does not parse, the copy cannot be read) the copy is reported
// (blobs::BlobStore::ReportBadCopy: marked corrupt, the operator alerted) and the read goes on
// from another copy at the same offset; when no good copy is left the read fails with
// kUnavailable "no_good_copy". Faults of the request (a range out of bounds) never switch copy.
//
// Thread safety: a PlainReader or an ObjectStream belongs to one thread at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "blobs/blobs.h"
#include "common/result.h"
#include "crypto/crypt4gh.h"

namespace zengen::genomefiles {

inline constexpr std::string_view kCrypt4ghMediaType = "application/vnd.ga4gh.crypt4gh";

struct UploadKeys {
  std::string secret_key;  // data center Crypt4GH secret (writer and reader), 32 bytes
  std::string public_key;  // its public key (the recipient of everything stored)
};

// Streams plaintext into a Crypt4GH blob for the data center's own key. The blob's id is known
// from Create on, so a caller can record its intent to store it before Commit.
class EncryptedBlob {
 public:
  // Errors: the blob store's Create, crypt4gh errors.
  static Result<EncryptedBlob> Create(blobs::BlobStore& store, const UploadKeys& keys,
                                      std::string kind);
  EncryptedBlob(EncryptedBlob&&) noexcept;
  EncryptedBlob& operator=(EncryptedBlob&&) noexcept;
  ~EncryptedBlob();
  const std::string& id() const;
  // Errors: the writer's.
  Status Write(std::string_view plain);
  // Ends the stream and commits the blob under the plaintext's SHA-256 and size.
  Result<blobs::BlobInfo> Commit();

 private:
  struct Impl;
  explicit EncryptedBlob(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// THE reader of stored Crypt4GH objects: plaintext byte ranges (htsget blocks, slice planning)
// and whole segments as stored (the download streams below), both authenticated, both falling
// back from a bad copy as the header comment says.
class PlainReader {
 public:
  // Opens the object from its first good copy (a copy whose header fails is reported and the
  // next one tried). Errors: the blob store's (blob_not_found, no_healthy_copy); kUnavailable
  // "no_good_copy" when every copy's header failed.
  static Result<PlainReader> Open(blobs::BlobStore& blobs, std::string_view blob_id,
                                  const UploadKeys& keys);
  PlainReader(PlainReader&&) noexcept;
  PlainReader& operator=(PlainReader&&) noexcept;
  ~PlainReader();
  // Plaintext bytes of the object.
  int64_t size() const { return plain_size_; }
  // Plaintext bytes [start, end) (end clamped to size). Errors: kInvalidArgument
  // "invalid_range" when start > end or start > size; kUnavailable "no_good_copy" when every
  // copy failed; crypt4gh errors.
  Result<std::string> Read(int64_t start, int64_t end);

  // The stored Crypt4GH header (identical on every copy).
  const std::string& header() const { return header_; }
  // Stored bytes of the object (header and data).
  int64_t stored_size() const { return stored_size_; }
  // Data segments [first, first + count) (clamped to the object's end): the bytes as stored and
  // their plaintext, every segment authenticated before it is returned. Empty at or past the
  // end. Successive calls that continue where the previous one stopped reuse one decryption
  // (one header key exchange per sequential pass). Errors as Read.
  struct Segments {
    std::string stored;
    std::string plain;
  };
  Result<Segments> ReadSegments(int64_t first, int64_t count);

 private:
  PlainReader() = default;
  // One attempt on the current copy; `stored`, when set, receives the stored bytes read.
  Result<std::string> ReadFromCopy(int64_t start, int64_t end, std::string* stored);
  Result<Segments> SegmentsFromCopy(int64_t first, int64_t count);
  // Reports the current copy bad (why) and continues from another one.
  Status SwitchCopy(const Error& why);
  Status UseCopy(std::unique_ptr<blobs::Reader> reader);
  blobs::BlobStore* blobs_ = nullptr;
  std::string blob_id_;
  std::vector<std::string> bad_roots_;
  std::unique_ptr<blobs::Reader> reader_;
  std::string header_;  // the Crypt4GH header
  int64_t data_offset_ = 0;
  int64_t plain_size_ = 0;
  int64_t stored_size_ = 0;
  std::string secret_;
  // The sequential pass of ReadSegments: its decryptor and the next segment it expects.
  std::unique_ptr<crypto::crypt4gh::Decryptor> pass_;
  int64_t pass_next_ = -1;
};

// A stored Crypt4GH object delivered re-encrypted for `recipient_public_key` (header
// re-encryption only: the data segments are sent as stored, each authenticated first), or
// decrypted when recipient_public_key is empty; read through PlainReader::ReadSegments. next() returns pieces of about 1 MiB, then "" at the end;
// length is the exact number of bytes it yields (objects are written without edit lists).
// Memory stays at one piece whatever the object's size. A decryption failure (a tampered
// segment) is an error from next().
struct ObjectStream {
  int64_t length = 0;
  std::function<Result<std::string>()> next;
};
Result<ObjectStream> OpenObjectStream(blobs::BlobStore& blobs, std::string_view blob_id,
                                      const UploadKeys& keys,
                                      std::string_view recipient_public_key);

}  // namespace zengen::genomefiles
