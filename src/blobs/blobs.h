// The blob-store port: large immutable objects (FASTQ, CRAM, BAM, VCF, BCF, …) kept as N ≥ 2
// verified copies in the allowed jurisdictions (R1.2, R3.7–R3.9).
//
// Adapters: local_store.h (replicated directories on local or network file systems, R3.8
// on-premise first); an S3-compatible adapter joins later behind the same interface.
//
// What the store receives is already encrypted: the ingest pipeline streams Crypt4GH (under the
// data center's key) into a Writer, and gives the SHA-256 and size of the plaintext at Commit.
// The store records, per blob, the SHA-256 of the stored bytes and of each copy.
//
// Lifecycle of an object: Create → Write… → Commit. An object counts as stored only when
// Commit returns a BlobInfo: by then every copy is on stable storage, read back and matched,
// and recorded in the metadata store in one transaction. A Writer that fails, is aborted or is
// destroyed without Commit leaves nothing behind (no file, no metadata row).
//
// Delete is deliberately not offered: genome data is never deleted through this API.
// Withdrawal of consent is enforced by the policy layer; physical erasure, if ever ordered,
// is an operator procedure outside the serving process.
//
// Thread safety: a BlobStore is thread-safe; a Writer or Reader belongs to one thread at a time.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace zengen::blobs {

// A configured storage site (historically a "root"). Every site carries a jurisdiction (R1.2):
// placement never uses a site whose jurisdiction is not allowed. A site is either a local
// directory (kind "local": a disk or a network file system mounted there) or a bucket of an
// S3-compatible object store (kind "s3": Ceph RGW on premises, a domestic cloud bucket). Each
// copy of an object is at a different site.
struct Root {
  std::string name;             // unique slug, e.g. "hot1"; recorded with each copy
  std::filesystem::path path;   // kind "local": absolute directory that must already exist
  std::string tier;             // "hot" | "cold"
  std::string jurisdiction;     // ISO 3166-1 alpha-2, upper case, e.g. "JP"
  std::string kind = "local";   // "local" | "s3"
  std::string organisation;     // the organisation that runs the site (informational)
  // kind "s3" only:
  std::string endpoint;         // "http(s)://host[:port]", path-style addressing
  std::string bucket;           // must exist
  std::string region = "us-east-1";
  std::filesystem::path credentials_file;  // "ACCESS_KEY SECRET_KEY"; mode 0600 or refused
  std::string access_key, secret_key;      // filled from credentials_file (or set by tests)
  int64_t part_size = 64LL << 20;          // multipart part size (≥ 5 MiB)
  // Write-once archive (issue 17): "" or "COMPLIANCE" (or "GOVERNANCE"): every copy written
  // to the site gets that Object Lock mode, retained for retention_days from the write (a
  // site has one tier, so this is the retention of that tier there). The bucket must have
  // Object Lock enabled; a locked copy cannot be deleted or overwritten by anyone holding the
  // bucket's keys before the retention ends.
  std::string object_lock;
  int retention_days = 0;
};
using Site = Root;

// Kinds of object, and the tier each goes to by default: FASTQ is large and rarely read, so it
// goes to the cold tier; everything else to hot (R3.7).
inline constexpr std::string_view kKinds[] = {"fastq", "cram", "bam", "vcf", "bcf", "other"};
bool IsKnownKind(std::string_view kind);
// "cold" for "fastq", "hot" for every other kind.
std::string DefaultTier(std::string_view kind);

struct PutRequest {
  std::string kind;        // one of kKinds
  std::string tier;        // "hot" | "cold"; empty: DefaultTier(kind)
  std::string media_type;  // e.g. "application/vnd.ga4gh.crypt4gh"; empty: octet-stream
  // Optional: when set here and at Commit, the two must agree (a guard for callers that
  // know the digest up front). Commit's argument is what is recorded.
  std::string plaintext_sha256;
};

struct CopyInfo {
  std::string root;         // Root::name (the site)
  std::string path;         // key: relative to the root, e.g. "3f/a0/blob_3fa0…"
  std::string sha256;       // hex SHA-256 of the copy's bytes
  std::string verified_at;  // RFC 3339; when its content was last read back and matched
  std::string status;       // "ok" | "corrupt" | "missing" (the latter two set by Scrub)
  int64_t size = 0;         // bytes of the copy when written or last verified
  std::string version_id;   // S3 version id on a versioned bucket; "" otherwise
};

struct BlobInfo {
  std::string id;  // "blob_" + 32 lower-case hex digits
  std::string kind;
  std::string tier;
  std::string media_type;
  int64_t size = 0;               // bytes stored
  std::string stored_sha256;      // hex SHA-256 of the stored bytes
  std::string plaintext_sha256;   // hex, as given at Commit
  int64_t plaintext_size = 0;
  std::string created_at;         // RFC 3339
  std::vector<CopyInfo> copies;   // ordered by root name
};

class Writer {
 public:
  // Abandons the object unless Commit succeeded (as Abort).
  virtual ~Writer() = default;
  // The object's id, fixed at Create: a caller may record its intent to store the object
  // before Commit, so that a completion interrupted after Commit can find and adopt it.
  virtual const std::string& id() const = 0;
  // Appends bytes to every copy. After an error the writer is finished: every temporary file
  // is already removed and later calls fail.
  virtual Status Write(std::string_view bytes) = 0;
  // Makes the object durable: fsyncs every temporary copy, re-reads each from disk and checks
  // its SHA-256 against the bytes written, renames them into place, fsyncs the directories, and
  // records the blob and its copies in one metadata transaction. plaintext_sha256 is 64 hex
  // digits. On any error every copy is removed and nothing is recorded. Call at most once.
  // A "blob.write" audit event follows the metadata commit; if it cannot be recorded, Commit
  // returns that error although the object is stored (as in the other modules).
  virtual Result<BlobInfo> Commit(std::string_view plaintext_sha256, int64_t plaintext_size) = 0;
  // Removes every temporary copy. Idempotent; a no-op after a successful Commit.
  virtual void Abort() = 0;
};

// Readers of stored Crypt4GH objects (genomefiles::PlainReader, OpenObjectStream) decrypt
// and authenticate what they read. When a segment fails authentication, or a copy cannot be
// read, they call ReportBadCopy and continue from OpenExcept(…, the roots tried so far) at the
// same offset; when no good copy remains the read fails (a streamed response that has started
// is then cut short, never completed with missing bytes).
class Reader {
 public:
  virtual ~Reader() = default;
  virtual const BlobInfo& info() const = 0;
  // The root the bytes are read from.
  virtual const std::string& root() const = 0;
  // Up to n bytes from offset; fewer only at the end of the object. offset == size gives "".
  // Errors: kInvalidArgument "range_out_of_bounds" when offset > size; kUnavailable
  // "blob_read_failed" on an I/O error.
  virtual Result<std::string> ReadAt(int64_t offset, size_t n) = 0;
};

// What Scrub found and did to one copy.
struct ScrubCopy {
  std::string root;
  std::string path;
  // "ok", "repaired_corrupt", "restored_missing", "unrecoverable" (bad and no good copy to
  // repair it from, or the repair failed), "root_unavailable" (root not configured or its
  // directory absent: not checked, never written into).
  std::string action;
  std::string detail;  // what was wrong, in words; empty when ok
};

struct ScrubBlob {
  std::string blob_id;
  std::string outcome;  // "ok" | "repaired" | "unrecoverable" | "unchecked"
  std::vector<ScrubCopy> copies;
};

struct ScrubReport {
  int64_t blobs = 0;
  int64_t copies_ok = 0;
  int64_t repaired_corrupt = 0;
  int64_t restored_missing = 0;
  int64_t unrecoverable = 0;     // copies
  int64_t root_unavailable = 0;  // copies not checked
  std::vector<ScrubBlob> entries;  // every blob, in id order
  // Housekeeping of the roots (local adapter): temporary files older than a day, left by a
  // crashed writer, are removed; object files with no metadata row (a crash between rename
  // and the metadata commit) are listed as "<root>:<path>" and left in place for an operator.
  int64_t stale_temps_removed = 0;
  std::vector<std::string> orphans;
  // True when every copy is (now) good.
  bool healthy() const { return unrecoverable == 0 && root_unavailable == 0; }
};

struct ScrubOptions {
  bool full = true;  // hash every byte of every copy; false: presence and size only
};

class BlobStore {
 public:
  virtual ~BlobStore() = default;
  // Starts a new object. Errors: kInvalidArgument "invalid_kind" / "invalid_tier";
  // kUnavailable "insufficient_roots" when fewer usable roots of the tier (configured,
  // in an allowed jurisdiction, directory present) exist than copies are required;
  // kUnavailable "blob_write_failed" when a temporary file cannot be created.
  virtual Result<std::unique_ptr<Writer>> Create(const PutRequest& request) = 0;
  // Opens a stored object for reading from the first healthy copy (status ok, file present
  // with the recorded length). A copy whose site answers with another length is marked
  // corrupt as by ReportBadCopy; a site that does not answer is skipped, its copy unchanged.
  // Content is not hashed here: that is Scrub's job. Errors:
  // kNotFound "blob_not_found"; kUnavailable "no_healthy_copy".
  virtual Result<std::unique_ptr<Reader>> Open(std::string_view blob_id) = 0;
  // As Open, but never from a copy on one of skip_roots: a reader that met a bad copy
  // continues from another one (issue 13 item 9). Errors as Open.
  virtual Result<std::unique_ptr<Reader>> OpenExcept(std::string_view blob_id,
                                                     const std::vector<std::string>& skip_roots) = 0;
  // A reader found the copy on `root` bad (its bytes fail authentication or cannot be read):
  // the copy is marked "corrupt" so that readers skip it until Scrub repairs it, and the
  // operator is alerted (a "blob.copy_corrupt" audit event and an error log line). Idempotent:
  // a copy already marked is left as it is. When the read failed because the site did not
  // answer (connection refused or reset, timeout, HTTP 5xx: noted by the store's reader), or
  // the site does not answer a probe now, the copy is not marked: its state is unchanged, a
  // "blob.site_unreachable" audit event and a warning are recorded, and the caller falls back
  // to another copy as before (the health view shows the site down). Errors: the metadata
  // store's or the audit sink's.
  virtual Status ReportBadCopy(std::string_view blob_id, std::string_view root,
                               std::string_view detail) = 0;
  // Removes the files of an object that Commit never recorded (a process killed between
  // renaming the copies into place and the metadata commit): by the contract above such an
  // object was never stored. Run by recovery passes for the ids they recorded as intended.
  // Returns how many files were removed; 0 and nothing touched when the object is recorded.
  virtual Result<int64_t> RemoveUnrecorded(std::string_view blob_id) = 0;
  // The recorded metadata of an object. Errors: kNotFound "blob_not_found".
  virtual Result<BlobInfo> Stat(std::string_view blob_id) = 0;
  // Re-reads every copy of every blob at every site and compares it with the recorded SHA-256
  // (full mode; quick mode compares only presence and size: a stat, or an S3 HEAD). A corrupt
  // or missing copy is rewritten from a good copy (local: temporary file, fsync, verify,
  // rename; S3: a new upload, read back and verified) in the same place; verified_at and
  // status are recorded per copy; each repair and each unrecoverable copy is an audit event.
  // Fails only when the metadata store does; problems with copies are in the report.
  virtual Result<ScrubReport> Scrub(const ScrubOptions& options) = 0;
  Result<ScrubReport> Scrub() { return Scrub(ScrubOptions{}); }
};

// `zengen storage scrub`: runs store.Scrub(), prints one line per blob that needed attention
// and a summary to out. Returns 0 when every copy is good afterwards, 1 when any copy is
// unrecoverable or could not be checked, 2 when the scrub itself failed. Orphan files and
// removed temporary files are printed but do not change the exit code.
int RunScrubCommand(BlobStore& store, std::ostream& out, const ScrubOptions& options = {});

}  // namespace zengen::blobs
