// Internal to the blob store: how one copy is written, read, checked and removed at one site.
// LocalStore (local_store.h) holds one SiteIo per configured site and works only through this
// interface, so every guarantee of the port (verified copies, nothing half-stored, fallback
// reads, scrub and repair) holds for local directories and S3 buckets alike.
//
//   kind "local"  a directory: temporary file, fsync, re-read and hash, rename, fsync the
//                 directory (the layout of local_store.h).
//   kind "s3"     a bucket: the copy streams into a multipart upload (s3::MultipartWriter,
//                 part_size parts, each with its payload SHA-256, which the server checks);
//                 Finish completes the upload and HEADs the object: its size and its multipart
//                 ETag (MD5 of the parts' MD5s, computed while streaming) must match what was
//                 sent; with read_back the object is also fetched and its SHA-256 compared.
//                 Discard aborts the upload, or deletes the completed key. No byte of the copy
//                 touches the local disk.
//
// Error codes of Check: "missing" (no such file/key), "site_unavailable" (directory absent,
// gateway unreachable: not checked, never written into), "unreadable" (anything else).
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>
#include <memory>
#include <string>
#include <string_view>


#include "blobs/blobs.h"
#include "common/clock.h"
#include "crypto/sha256_stream.h"
#include "common/result.h"

namespace zengen::blobs::internal {

// Streaming SHA-256: the project's one (crypto/sha256_stream.h).
using crypto::Sha256Stream;

struct CopyDigest {
  std::string sha256;  // empty when not hashed (quick check)
  int64_t size = 0;
};

class CopySink {
 public:
  virtual ~CopySink() = default;
  virtual Status Write(std::string_view bytes) = 0;
  // Puts the copy durably at its final key and checks it against what was written (sha256 and
  // size of the whole stream). Returns the version id ("" unless an S3 versioned bucket).
  // Errors: kUnavailable "blob_write_failed" / "blob_verify_failed"; the copy is then
  // discarded.
  virtual Result<std::string> Finish(const std::string& sha256, int64_t size,
                                     bool read_back) = 0;
  // Removes what this sink wrote (temporary file, unfinished upload, or the finished copy).
  // Best effort; idempotent. Destroying a sink neither kept nor discarded discards it.
  virtual void Discard() = 0;
  // The finished copy is recorded: the sink lets go of it (no later Discard).
  virtual void Keep() = 0;
};

class CopySource {
 public:
  virtual ~CopySource() = default;
  // Exactly n bytes from offset (the caller bounds n by the object's size). Errors:
  // kUnavailable "site_unreachable" when the site did not answer (connection refused or
  // reset, timeout, HTTP 5xx after the retries): nothing is known about the copy itself;
  // kUnavailable "blob_read_failed" otherwise (an I/O error, fewer bytes than recorded).
  virtual Result<std::string> ReadAt(int64_t offset, size_t n) = 0;
};

class SiteIo {
 public:
  explicit SiteIo(Root site) : site_(std::move(site)) {}
  virtual ~SiteIo() = default;
  const Root& site() const { return site_; }
  // Whether new copies may be placed here now, and a free-space figure to rank sites by
  // (local: bytes available; S3: unknown, ranked after local sites with space).
  virtual bool Usable(uint64_t& free_bytes) = 0;
  // Starts a copy of object `id` at key.
  virtual Result<std::unique_ptr<CopySink>> Begin(const std::string& id, const std::string& key,
                                                  const Clock& clock) = 0;
  // Opens the copy for reading when it is present with the given size. version_id (S3
  // versioned buckets): that version, so that a later write to the key behind the store's
  // back never changes what is served; empty: the key's current content. Errors:
  // kUnavailable "copy_length_differs" when the site answered with a copy of another length
  // (the copy is bad); "site_unreachable" as CopySource; "blob_read_failed" otherwise.
  virtual Result<std::unique_ptr<CopySource>> Open(const std::string& key, int64_t size,
                                                   const std::string& version_id) = 0;
  // Presence and size; with full, the SHA-256 of every byte. Error codes in the file comment.
  virtual Result<CopyDigest> Check(const std::string& key, bool full,
                                   const std::string& version_id) = 0;
  // Removes the copy of an object that was never recorded (and unfinished writes of it).
  // Returns how many objects or files went.
  virtual int64_t RemoveUnrecorded(const std::string& id, const std::string& key) = 0;
  // Whether the site answers now: a local directory is present; an S3 bucket answers a HEAD
  // (of a key that need not exist) with the configured credentials. Errors name what failed.
  virtual Status Probe() = 0;
  // Removes one recorded copy (after it was retired from the metadata). Removing an absent
  // copy succeeds. Errors: the site's (e.g. s3_access_denied for a locked version).
  virtual Status Remove(const std::string& key, const std::string& version_id) = 0;
  // Removes unfinished writes (temporary files, incomplete uploads) older than cutoff.
  virtual int64_t RemoveStaleWrites(std::chrono::system_clock::time_point cutoff) = 0;
  // Every object key at the site that looks like a blob copy ("ab/cd/blob_…"); used to list
  // orphans. Errors: the site's.
  virtual Result<std::vector<std::string>> ListKeys() = 0;

 protected:
  Root site_;
};

// For kind "local" (site.path) and kind "s3" (endpoint, bucket, keys; credentials already
// loaded). Errors: kInvalidArgument "invalid_blob_store_config".
Result<std::unique_ptr<SiteIo>> MakeSiteIo(const Root& site);

// Reads "ACCESS_KEY SECRET_KEY" from a credentials file that must be a regular file of mode
// 0600 (or 0400) owned by the current user. Errors: kInvalidArgument
// "invalid_blob_store_config" naming the file and what is wrong (never its content).
Status LoadCredentials(Root& site);

// The blob-store layout's relative key of an object: "ab/cd/<id>".
std::string KeyOf(std::string_view id);
bool ValidBlobId(std::string_view id);

}  // namespace zengen::blobs::internal
