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
#include <deque>
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
  // MultipartWriter only: also compute each part's MD5 and compare it with the ETag the store
  // answers (an independent check; the payload SHA-256 the server verifies already refuses
  // altered bytes). Costs one more pass over every byte on the caller's thread.
  bool check_part_md5 = false;
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
  // payload_sha256: the hex SHA-256 of bytes when the caller already has it (the multipart
  // writer hashes while the part fills); empty: computed here. It is sent as
  // x-amz-content-sha256, so a wrong value is refused by the server (s3_bad_request
  // XAmzContentSHA256Mismatch), never stored.
  Result<std::string> UploadPart(std::string_view bucket, std::string_view key,
                                 std::string_view upload_id, int part_number,
                                 std::string_view bytes, std::string_view payload_sha256 = {});
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
// are sent as they fill (S3's minimum part size is 5 MiB, except the last part). Each part's
// SHA-256 (sent as its payload hash, which the server verifies before it stores the part; and,
// with PutOptions::check_part_md5, its MD5, compared with the ETag the store answers) is
// computed on the caller's thread as the bytes arrive, so no pass over a filled part stands
// between two uploads; up to max_in_flight parts are uploaded at once on background tasks, each
// over its own reused connection, while the next one fills. A whole FASTQ never sits on local
// disk, and at most (max_in_flight + 1) × part_size bytes sit in memory; an upload error
// surfaces at the next Write that fills a part, or at Commit. A Write whose bytes hold whole
// parts while no part is being filled (one large buffer, e.g. a mapped file) sends those parts
// straight from the caller's bytes, hashed on their upload tasks, without copying them; such a
// Write returns only once those parts are acknowledged (the bytes are not kept after it). Commit completes the upload;
// Abort (or destruction without Commit) waits for the parts in flight and aborts the upload,
// leaving no object and no stored parts. An object of fewer than part_size bytes is sent as
// one part all the same.
class MultipartWriter {
 public:
  static constexpr int64_t kDefaultPartSize = 64LL << 20;
  static constexpr int64_t kMinPartSize = 5LL << 20;
  static constexpr int kDefaultInFlight = 3;
  // part_size below kMinPartSize is refused (kInvalidArgument "s3_part_too_small");
  // max_in_flight outside 1..16 likewise ("s3_bad_in_flight").
  static Result<std::unique_ptr<MultipartWriter>> Start(S3Client& client, std::string bucket,
                                                        std::string key,
                                                        int64_t part_size = kDefaultPartSize,
                                                        const PutOptions& options = {},
                                                        int max_in_flight = kDefaultInFlight);
  ~MultipartWriter();
  Status Write(std::string_view bytes);
  Result<PutResult> Commit();
  void Abort();
  int64_t bytes_written() const { return written_; }
  // The ETag S3 gives a multipart object made of exactly the parts acknowledged: hex MD5 of
  // the concatenated binary part ETags (their MD5s), "-", the number of parts. Valid after
  // Commit; the caller compares it with a HEAD of the object to know the completed object is
  // those parts, in order. Each part's bytes were verified by the server against the payload
  // SHA-256 sent with it; with check_part_md5 its ETag is also checked against the MD5 computed
  // here as it is acknowledged (kUnavailable "s3_part_etag_mismatch" otherwise). A part ETag
  // that is not 32 hex digits fails the part (kUnavailable "s3_bad_response").
  std::string ExpectedEtag() const;
  const std::string& upload_id() const { return upload_id_; }

 private:
  struct Hashes;  // the running SHA-256 and MD5 of the part being filled
  MultipartWriter(S3Client& client, std::string bucket, std::string key, int64_t part_size,
                  int max_in_flight, bool check_md5, std::string upload_id);
  Status Flush();            // hands the filled part to a background upload
  Status SendBorrowed(std::string_view part);  // a whole part straight from Write's argument
  Status WaitOldest();       // for the oldest part in flight; aborts the upload on its error
  Status WaitAll();
  S3Client& client_;
  std::string bucket_, key_;
  int64_t part_size_;
  int max_in_flight_;
  bool check_md5_;
  std::string upload_id_;
  std::string buffer_;  // the part being filled
  std::unique_ptr<Hashes> hashes_;
  // Parts in flight, oldest first; each task owns its bytes and answers the part's ETag.
  std::deque<std::pair<int, std::future<Result<std::string>>>> inflight_;
  int next_part_ = 1;
  std::vector<CompletedPart> parts_;  // acknowledged parts, in order
  std::string part_md5s_;  // binary ETag (MD5) of each acknowledged part, concatenated
  int64_t written_ = 0;
  bool finished_ = false;
};

}  // namespace zengen::s3
