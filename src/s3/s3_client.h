// A client for one S3-compatible object store (Ceph RGW on premises, a domestic cloud bucket
// later): the transport under the blob store's S3 sites (R3.8, R4.8).
//
// Built on libcurl's own AWS Signature Version 4 signing (no AWS SDK is packaged in Debian).
// Every request carries x-amz-content-sha256: the SHA-256 of the body for PUT/POST, so the
// server verifies the payload it stored; of the empty string for requests without a body.
// Path-style addressing (endpoint/bucket/key).
//
// Keys: 1–1024 bytes of [A-Za-z0-9._/-] without "//", a leading '/' or a "." / ".." segment
// (what the blob store writes); anything else is refused with kInvalidArgument "s3_bad_key"
// before a request is made, so the signed path is always the sent path.
//
// Retries: a request that fails with a connection error, a timeout, a reset, or an HTTP 5xx is
// retried up to Options::max_attempts times in all, waiting an exponential back-off with full
// jitter (base · 2^attempt, capped). A 4xx is never retried: it is the caller's (or the
// credentials') fault and answers at once.
//
// Errors (code, kind): "s3_bad_key" kInvalidArgument; "s3_no_such_bucket", "s3_no_such_key",
// "s3_no_such_upload" kNotFound; "s3_access_denied" kPermissionDenied (403: wrong secret,
// signature, or a locked object); "s3_bad_request" kInvalidArgument (other 4xx, the server's
// S3 error code in the message, e.g. XAmzContentSHA256Mismatch); "s3_unavailable"
// kUnavailable (retries exhausted on 5xx or transport errors). Messages name the operation,
// bucket and key; they never contain the secret.
//
// Thread safety: an S3Client is thread-safe; requests run on the caller's thread over a pool
// of reused connections (one libcurl handle per request in flight).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace zengen::s3 {

struct Options {
  std::string endpoint;    // "http://127.0.0.1:7480" or "https://s3.example.jp"; no path
  std::string region = "us-east-1";  // the SigV4 scope's region
  std::string access_key;
  std::string secret_key;
  std::string ca_file;     // PEM bundle for https endpoints; empty: the system's
  std::chrono::milliseconds connect_timeout{5000};
  // Abort a transfer that moves fewer than 1 byte/s for this long (a stalled server), rather
  // than bounding the whole request, which may be a 64 MiB part on a slow link.
  std::chrono::milliseconds stall_timeout{30000};
  int max_attempts = 5;
  std::chrono::milliseconds backoff_base{100};
  std::chrono::milliseconds backoff_cap{5000};
};

struct ObjectHead {
  int64_t size = 0;
  std::string etag;        // without quotes
  std::string version_id;  // empty when the bucket is not versioned
  std::string lock_mode;   // "COMPLIANCE" | "GOVERNANCE" | ""
  std::string retain_until;  // RFC 3339 as the server sent it, or ""
};

struct PutOptions {
  std::string content_type;  // empty: application/octet-stream
  // Object Lock: "COMPLIANCE" or "GOVERNANCE" with a retain-until date (RFC 3339, UTC).
  std::string lock_mode;
  std::string retain_until;
  // Test hook: sent instead of the body's real SHA-256 (to prove the server checks it).
  std::string declared_sha256_for_tests;
};

struct PutResult {
  std::string etag;
  std::string version_id;
};

struct ObjectEntry {
  std::string key;
  int64_t size = 0;
  std::string etag;
};

struct MultipartUpload {
  std::string key;
  std::string upload_id;
  std::string initiated;  // RFC 3339
};

struct CompletedPart {
  int number = 0;  // 1..10000
  std::string etag;
};

// Counters for tests and the storage health view.
struct Stats {
  int64_t requests = 0;  // HTTP requests sent, retries included
  int64_t retries = 0;
  int64_t bytes_sent = 0;
  int64_t bytes_received = 0;
};

class S3Client {
 public:
  // Fails with kInvalidArgument "s3_bad_endpoint" when the endpoint is not http(s)://host[:port],
  // and "s3_no_credentials" when a key is missing.
  static Result<std::unique_ptr<S3Client>> Create(Options options);
  ~S3Client();
  S3Client(const S3Client&) = delete;
  S3Client& operator=(const S3Client&) = delete;

  // Creates a bucket; object_lock creates it with Object Lock enabled (versioning follows).
  // An existing bucket owned by the same user is not an error.
  Status CreateBucket(std::string_view bucket, bool object_lock = false);
  // Sets the bucket's default retention (COMPLIANCE|GOVERNANCE, days) for Object Lock buckets.
  Status SetDefaultRetention(std::string_view bucket, std::string_view mode, int days);

  // Puts an Object Lock retention on one version of a key (PutObjectRetention). Used after a
  // multipart upload: RGW 16 ignores the lock headers of CreateMultipartUpload. Shortening a
  // COMPLIANCE retention is refused by the server (kPermissionDenied "s3_access_denied").
  Status SetRetention(std::string_view bucket, std::string_view key, std::string_view version_id,
                      std::string_view mode, std::string_view retain_until);

  Result<PutResult> Put(std::string_view bucket, std::string_view key, std::string_view bytes,
                        const PutOptions& options = {});
  // version_id (here and in the reads below): that version of the key; empty: the latest.
  Result<ObjectHead> Head(std::string_view bucket, std::string_view key,
                          std::string_view version_id = {});
  // Up to n bytes from offset (fewer at the end). offset beyond the end: kInvalidArgument
  // "s3_range_not_satisfiable".
  Result<std::string> GetRange(std::string_view bucket, std::string_view key, int64_t offset,
                               int64_t n, std::string_view version_id = {});
  // Streams the whole object (or from offset) to sink in pieces as they arrive. A sink that
  // returns false stops the transfer (kUnavailable "s3_aborted_by_reader"). Not retried once
  // bytes have reached the sink.
  Status Get(std::string_view bucket, std::string_view key, int64_t offset,
             const std::function<bool(std::string_view)>& sink,
             std::string_view version_id = {});
  // Every key under prefix, in key order (follows continuation tokens).
  Result<std::vector<ObjectEntry>> List(std::string_view bucket, std::string_view prefix);
  // Deletes a key (or one version of it). Deleting an absent key succeeds (S3 semantics).
  Status Delete(std::string_view bucket, std::string_view key, std::string_view version_id = {});

  Result<std::string> CreateMultipart(std::string_view bucket, std::string_view key,
                                      const PutOptions& options = {});
  Result<std::string> UploadPart(std::string_view bucket, std::string_view key,
                                 std::string_view upload_id, int part_number,
                                 std::string_view bytes);
  Result<PutResult> CompleteMultipart(std::string_view bucket, std::string_view key,
                                      std::string_view upload_id,
                                      const std::vector<CompletedPart>& parts);
  Status AbortMultipart(std::string_view bucket, std::string_view key,
                        std::string_view upload_id);
  Result<std::vector<MultipartUpload>> ListMultipart(std::string_view bucket,
                                                     std::string_view prefix);

  Stats stats() const;

  struct Impl;

 private:
  explicit S3Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Writes one object as a multipart upload while the bytes stream in: parts of part_size bytes
// are sent as they fill (S3's minimum part size is 5 MiB, except the last part), one part in
// flight on a background task while the next one fills, so a whole FASTQ never sits on local
// disk or in memory (at most 2 × part_size bytes; an upload error surfaces at the next Write
// or Commit). Commit completes the upload; Abort (or
// destruction without Commit) aborts it, leaving no object and no stored parts. An object of
// fewer than part_size bytes is sent as one part all the same.
class MultipartWriter {
 public:
  static constexpr int64_t kDefaultPartSize = 64LL << 20;
  static constexpr int64_t kMinPartSize = 5LL << 20;
  // part_size below kMinPartSize is refused (kInvalidArgument "s3_part_too_small").
  static Result<std::unique_ptr<MultipartWriter>> Start(S3Client& client, std::string bucket,
                                                        std::string key,
                                                        int64_t part_size = kDefaultPartSize,
                                                        const PutOptions& options = {});
  ~MultipartWriter();
  Status Write(std::string_view bytes);
  Result<PutResult> Commit();
  void Abort();
  int64_t bytes_written() const { return written_; }
  // The ETag S3 gives a multipart object made of exactly the parts sent: hex MD5 of the
  // concatenated binary MD5s of the parts, "-", the number of parts. Valid after Commit; the
  // caller compares it with a HEAD of the object to know the store holds what was sent. Each
  // part's own ETag (its MD5) is already checked as it is acknowledged (kUnavailable
  // "s3_part_etag_mismatch" otherwise).
  std::string ExpectedEtag() const;
  const std::string& upload_id() const { return upload_id_; }

 private:
  MultipartWriter(S3Client& client, std::string bucket, std::string key, int64_t part_size,
                  std::string upload_id);
  Status Flush();
  Status SendPart(int number);  // runs on the in-flight task
  Status Wait();                // for the part in flight; aborts the upload on its error
  S3Client& client_;
  std::string bucket_, key_;
  int64_t part_size_;
  std::string upload_id_;
  std::string buffer_;   // the part being filled
  std::string sending_;  // the part in flight (owned by inflight_ until it is waited for)
  std::future<Status> inflight_;
  std::vector<CompletedPart> parts_;
  std::string part_md5s_;  // binary MD5 of each part sent, concatenated
  int64_t written_ = 0;
  bool finished_ = false;
};

}  // namespace zengen::s3
