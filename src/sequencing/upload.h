// Sequencing runs and resumable uploads, which become stored genome files (R3.5, R3.7–R3.9).
// The registry of stored files, the stored-object reader and the analysis-file sanitiser port
// are genomefiles' (genomefiles/files.h, object.h, sanitiser.h); completion registers the file
// there (genomefiles::Files::Record) in its own transaction.
//
// A sequencing facility opens a run for a specimen it holds (instrument model, flowcell,
// library, layout single|paired), then uploads the run's FASTQ files: each upload is opened
// with the file's name, size and SHA-256; its chunks arrive in any order (a retried chunk
// overwrites the earlier copy); completion streams the chunks in order through FastqIngest
// (validation + QC + hashes, threads 2), Crypt4GH encryption under the data center's key, and a
// blobs::Writer (kind fastq, cold tier). Analysis centres upload CRAM/BAM/VCF/BCF the same way,
// naming the specimen and the FASTQ files they were derived from; completion hands the staged
// file to the AnalysisSanitiser port (htslib validation, header sanitisation, index), then
// encrypts the sanitised file and its index into the hot tier.
//
// Staging: chunk i of upload U is the file <staging_dir>/<U>/<i>, written to a temporary name
// and renamed, so a chunk is either whole or absent. A staged chunk is Crypt4GH-encrypted for
// the data center's key (a fresh session key per chunk): plaintext FASTQ never rests on disk.
// Directories are 0700 and files 0600, set explicitly. Staging is removed when the upload
// completes or is rejected, and by Recover for uploads that ended while the process was down.
//
// Completion is all-or-nothing. On any failure (invalid file, size or checksum mismatch, a
// FASTQ mate that disagrees with the run's other file, a store error) the blob writer is
// aborted, staging is removed and the upload is marked rejected with the error: nothing of the
// file stays stored. "chunks_missing" is the exception: nothing changes and the client resumes.
// Error messages never name the server's staging paths.
//
// Crash safety (issue 13 item 7). A FASTQ completion records the id of the blob it is about to
// store (uploads.pending_blob_id), stores the blob, then commits ONE transaction holding the
// file row, the upload's completion, the run's verdict and their audit records (upload.complete,
// file.register, run.qc through audit::AppendInTransaction). Custody moves follow; the run
// keeps custody_pending_by until they are applied. A process killed at any point leaves either
// an open upload (resumable; a stored blob is adopted by the next completion, not stored
// twice), or a committed completion whose custody Recover applies at start. A failure after
// the blob is stored that is not the file's fault (the database) leaves the upload open.
// An analysis completion does the same with its two blobs (the sanitised file and its index):
// both ids are recorded (pending_blob_id, pending_index_blob_id) before either is stored, and
// the recovery pass removes the copies of a recorded id the store never committed and finishes
// the completion with what it did commit, so no stored blob is left without a file row.
//
// Runs: when the last file of a run is stored (1 for single, 2 for paired; mates must agree
// in read count and names), the QC thresholds decide pass or fail; the run records the verdict
// and whether the instrument is non-standard (R3.5-5), and the specimen's custody moves
// (library_prepared → sequenced if needed, then sequenced → qc_passed | qc_failed) in the
// uploader's name, through specimens::Specimens::Custody and its transition table.
//
// Every state change is an audit record: upload.create, upload.complete, upload.reject,
// run.create, run.qc, file.register — each appended in the transaction of its change
// (audit::AppendInTransaction), so a crash cannot separate them; upload.chunk (a staged file,
// not a database change) goes through the AuditSink after the chunk is in place.
//
// Expiry: an upload still open when its lifetime (SetUploadLifetime, config upload_expiry_s,
// default kDefaultUploadLifetime) has passed since it was opened is closed by ExpireStale —
// at start (Runtime::Open) and periodically while serving — or at once by the next chunk or
// completion that arrives for it: status `expired`, error {"code": "upload_expired"}, an
// upload.expire audit record in the same transaction, then its staged (encrypted) chunks are
// removed. Its run's read slot is free again (only complete files and open uploads hold one).
// A late chunk or completion gets kConflict "upload_expired".
//
// Thread safety: thread-safe. Completions are serialised per object (one mutex), so two
// completions of the same run or upload never interleave; chunk writes run in parallel.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "blobs/blobs.h"
#include "common/audit_event.h"
#include "common/clock.h"
#include "common/result.h"
#include "genomefiles/files.h"
#include "genomefiles/object.h"
#include "genomefiles/sanitiser.h"
#include "sequencing/fastq.h"
#include "specimens/specimens.h"
#include "storage/store.h"

namespace zengen::sequencing {

inline constexpr int64_t kMinChunkSize = int64_t{64} << 10;      // 64 KiB
inline constexpr int64_t kMaxChunkSize = int64_t{64} << 20;      // 64 MiB
inline constexpr int64_t kDefaultChunkSize = int64_t{8} << 20;   // 8 MiB
inline constexpr int64_t kMaxUploadSize = int64_t{1} << 40;      // 1 TiB
inline constexpr std::chrono::seconds kDefaultUploadLifetime = std::chrono::days{7};

inline constexpr std::string_view kUploadKinds[] = {"fastq", "cram", "bam", "vcf", "bcf"};

// Default QC thresholds: at least 1000 reads, mean quality >= 20, Q30 >= 0.5,
// N rate <= 0.05; standard instruments: the program's uniform sequencers (R3.5-5).
QcThresholds DefaultQcThresholds();

struct NewRun {
  std::string specimen_id;
  std::string instrument_model;  // 1-100 printable characters
  std::string flowcell;          // 1-100 printable characters
  std::string library;           // 1-100 printable characters
  std::string layout;            // single | paired
};

struct Run {
  std::string id;  // "RUN-" + 16 upper-case hex
  std::string specimen_id;
  std::string organisation;  // the facility that sequenced it
  std::string instrument_model;
  std::string flowcell;
  std::string library;
  std::string layout;
  std::string status;  // open | qc_passed | qc_failed
  bool non_standard_instrument = false;
  nlohmann::json verdict;  // null while open; {"pass", "reasons", "instrument_model", …}
  std::string created_by;
  std::string created_at;
  std::string completed_at;
  std::string custody_pending_by;  // who completed it, while custody moves are still to apply
};

struct NewUpload {
  std::string kind;          // one of kUploadKinds
  std::string run_id;        // fastq: the run
  int read = 0;              // fastq: 1, or 2 for the mate of a paired run
  std::string specimen_id;   // analysis files: the specimen the file is about
  std::vector<std::string> derived_from;  // analysis files: FASTQ file ids (1..16)
  // Multi-sample VCF/BCF (joint calling): sample name in the file -> participant pseudonym.
  // Every participant must have a specimen the uploader's centre analyses; the named
  // specimen's participant must be one of them. Empty for single-sample files.
  std::map<std::string, std::string> sample_map;
  std::string file_name;     // 1-255 bytes, no '/', '\\' or control characters
  int64_t size = 0;          // 1 .. kMaxUploadSize
  std::string sha256;        // 64 hex digits (lower-cased on input)
  int64_t chunk_size = kDefaultChunkSize;  // kMinChunkSize .. kMaxChunkSize
};

struct Upload {
  std::string id;  // "UP-" + 16 upper-case hex
  std::string kind;
  std::string run_id;
  int read = 0;
  std::string specimen_id;
  std::vector<std::string> derived_from;
  std::map<std::string, std::string> sample_map;
  std::string organisation;
  std::string file_name;
  int64_t size = 0;
  std::string sha256;
  int64_t chunk_size = 0;
  std::string status;   // open | complete | rejected | expired
  std::string file_id;  // when complete
  nlohmann::json error;  // when rejected or expired: {"code", "message"}; else null
  std::string created_by;
  std::string created_at;
  std::string pending_blob_id;  // the blob an interrupted completion may have stored
  int64_t chunks() const { return (size + chunk_size - 1) / chunk_size; }
  // Expected byte length of chunk `index` (0-based).
  int64_t ChunkLength(int64_t index) const;
};

struct UploadProgress {
  Upload upload;
  std::vector<int64_t> present;  // chunk indexes staged, ascending (open uploads only)
  std::vector<int64_t> missing;  // chunk indexes still to send (open uploads only)
};

struct Completion {
  Upload upload;
  genomefiles::DataFile file;
  std::optional<Run> run;           // fastq: the run, with its verdict when it is now complete
  std::vector<std::string> custody;  // custody steps applied, e.g. "sequenced", "qc_passed"
};

nlohmann::json ReportJson(const FastqReport& r);
nlohmann::json VerdictJson(const QcVerdict& v);
nlohmann::json RunJson(const Run& r);
nlohmann::json UploadJson(const UploadProgress& p);

class Uploads {
 public:
  // Every reference must outlive the object; staging_dir is created if absent.
  Uploads(storage::Store& store, const Clock& clock, AuditSink& audit, blobs::BlobStore& blobs,
          specimens::Specimens& specimens, std::filesystem::path staging_dir,
          genomefiles::UploadKeys keys, QcThresholds thresholds = DefaultQcThresholds(),
          genomefiles::AnalysisSanitiser sanitiser = {});

  // Opens a run. Errors: kInvalidArgument naming the field; kNotFound "specimen_not_found";
  // kPermissionDenied "not_specimen_holder" unless the actor is a sequencing operator of the
  // organisation holding the specimen; kConflict "invalid_specimen_state" unless the specimen
  // is library_prepared or sequenced.
  Result<Run> CreateRun(const NewRun& n, const specimens::Actor& actor);
  // Errors: kNotFound "run_not_found".
  Result<Run> GetRun(std::string_view run_id);
  // Runs of one organisation, newest first.
  Result<std::vector<Run>> ListRuns(std::string_view organisation);

  // Opens an upload. Errors: kInvalidArgument naming the field; kNotFound "run_not_found" /
  // "specimen_not_found" / "file_not_found" (a derived_from id); kPermissionDenied
  // "not_run_facility" (fastq: the actor is not of the run's facility) or
  // "not_specimen_holder" (analysis files: the actor's organisation does not hold the
  // specimen); kConflict "run_not_open", "read_taken" (a complete file or an open upload for
  // that read already exists), "invalid_specimen_state" (analysis files need qc_passed or
  // analysed); kInvalidArgument "derived_from_mismatch" when a source is not a FASTQ file of the
  // same participant.
  Result<Upload> Create(const NewUpload& n, const specimens::Actor& actor);
  // Stages chunk `index`, overwriting an earlier copy. Errors: kNotFound "upload_not_found";
  // kConflict "upload_expired" (the upload's lifetime has passed; it is closed now if it was
  // still open), "upload_not_open"; kInvalidArgument "invalid_chunk_index" / "invalid_chunk_size"
  // (length differs from ChunkLength(index)). A staged chunk is audited ("upload.chunk" with
  // its index, length and SHA-256), so a retried or replaced chunk leaves a trace.
  Status PutChunk(std::string_view upload_id, int64_t index, std::string_view bytes,
                  const specimens::Actor& actor);
  // The bytes of a chunk in pieces: each call returns the next piece, "" at the end, or an
  // error.
  using ChunkSource = std::function<Result<std::string>()>;
  // As above, with the chunk read from `source` a piece at a time and sealed as it comes, so
  // that it is never whole in memory (issue 13 item 2: a request body the server spooled).
  // `length` is the length announced for it, checked against ChunkLength(index) before
  // anything is read; a source that then gives another number of bytes fails with
  // "invalid_chunk_size", and a source error is returned as it is; either way nothing is
  // staged and an earlier copy of the chunk stays.
  Status PutChunk(std::string_view upload_id, int64_t index, int64_t length,
                  const ChunkSource& source, const specimens::Actor& actor);
  // Errors: kNotFound "upload_not_found".
  Result<UploadProgress> Get(std::string_view upload_id);
  // Completes an open upload (see the header comment). Errors: kNotFound "upload_not_found";
  // kConflict "upload_expired" (as PutChunk), "upload_not_open"; kConflict "chunks_missing"
  // (nothing changes; the client may resume); kInvalidArgument "size_mismatch" /
  // "checksum_mismatch" / the FastqIngest or sanitiser error / "pair_read_count_mismatch" /
  // "pair_name_mismatch" (upload rejected); store errors (upload rejected).
  Result<Completion> Complete(std::string_view upload_id, const specimens::Actor& actor);

  // The uploads of one run that are still open (to resume), oldest first.
  Result<std::vector<Upload>> ListOpenRunUploads(std::string_view run_id);
  // Policy resources: {"run", id, hospital, facility}, {"upload", id, hospital, uploader's
  // organisation}. Errors: kNotFound.
  Result<policy::Resource> RunResource(std::string_view run_id);
  Result<policy::Resource> UploadResource(std::string_view upload_id);
  const genomefiles::UploadKeys& keys() const { return keys_; }
  // The registry the uploads' files are recorded in.
  genomefiles::Files& files() { return files_; }

  struct RecoveryReport {
    int64_t completions_finished = 0;  // interrupted completions finished with their blob
    int64_t custody_finished = 0;      // runs whose pending custody moves were applied
    int64_t staging_removed = 0;       // staging directories of uploads no longer open
    int64_t temporaries_removed = 0;   // partial chunks and work directories of open uploads
    int64_t unrecorded_blob_files_removed = 0;  // copies of a blob whose commit never recorded it
    int64_t uploads_expired = 0;       // open uploads past their lifetime, closed (ExpireStale)
    std::vector<std::string> problems; // what could not be finished, in words
  };
  // The recovery pass, run at start before serving: finishes the idempotent steps a killed
  // process left (see "Crash safety" above), expires the uploads whose lifetime has passed
  // (ExpireStale) and removes what staging no longer needs. Errors:
  // the store's; problems with single uploads or runs are in the report.
  Result<RecoveryReport> Recover();

  // How long an upload may stay open (see "Expiry" above). REQUIRES: lifetime > 0. Set once,
  // before the object is shared between threads.
  void SetUploadLifetime(std::chrono::seconds lifetime) { lifetime_ = lifetime; }
  std::chrono::seconds upload_lifetime() const { return lifetime_; }
  // Closes every open upload whose lifetime has passed by the clock (see "Expiry" above) and
  // returns how many. Uploads with an interrupted completion (pending_blob_id) are left to
  // Recover, which runs first at start. Errors: the store's (uploads closed before the error
  // stay closed).
  Result<int64_t> ExpireStale();

  // Test hook: when set, completion stops at each named crash point for which it returns true
  // ("blob_stored", "file_recorded", "custody_step"; "analysis_data_stored" between an
  // analysis file's two blobs), as if the process died there (Complete
  // returns kInternal "injected_crash" and cleans nothing up).
  void SetCrashPointForTest(std::function<bool(std::string_view point)> hook);

 private:
  std::filesystem::path ChunkPath(std::string_view id, int64_t index) const;
  Result<Upload> LoadUpload(storage::Transaction& tx, std::string_view id);
  // stored: set once the file's blob is stored (or adopted).
  Result<Completion> CompleteFastq(const Upload& u, const specimens::Actor& actor, bool& stored);
  // Applies the custody moves of a run's recorded verdict and clears custody_pending_by.
  Result<std::vector<std::string>> ApplyCustody(const Run& run, const specimens::Actor& actor);
  // An audit record inside tx, committed with the state change it records.
  Status AuditIn(storage::Transaction& tx, const specimens::Actor& actor, std::string action,
                 std::string resource, std::string reason, const nlohmann::json& details);
  bool Crash(std::string_view point) const;
  // Whether u's lifetime has passed.
  bool PastLifetime(const Upload& u) const;
  // Closes u as expired if it is still open (one transaction with its audit record), then
  // removes its staging. Returns whether this call closed it.
  Result<bool> Expire(const Upload& u);
  // The error a late chunk or completion of an expired upload gets.
  Error ExpiredError(const Upload& u) const;
  // The error without the server's staging paths.
  Error Redact(Error e, std::string_view upload_id) const;
  // stored: set once a blob of the file is stored (or adopted).
  Result<Completion> CompleteAnalysis(const Upload& u, const specimens::Actor& actor,
                                      bool& stored);
  // The index blob an interrupted analysis completion may have stored ("" when none).
  Result<std::string> PendingIndexBlob(std::string_view upload_id);
  Status Reject(const Upload& u, const Error& e, const specimens::Actor& actor);
  Result<Run> FinishRunIfComplete(const Run& run, const specimens::Actor& actor,
                                  std::vector<std::string>& custody);
  Status Audit(const specimens::Actor& actor, std::string action, std::string resource,
               std::string reason, nlohmann::json details);

  storage::Store& store_;
  const Clock& clock_;
  AuditSink& audit_;
  blobs::BlobStore& blobs_;
  specimens::Specimens& specimens_;
  std::filesystem::path staging_dir_;
  genomefiles::UploadKeys keys_;
  genomefiles::Files files_;
  QcThresholds thresholds_;
  genomefiles::AnalysisSanitiser sanitiser_;
  std::function<bool(std::string_view)> crash_point_;
  std::mutex complete_mu_;
  std::chrono::seconds lifetime_ = kDefaultUploadLifetime;
};

}  // namespace zengen::sequencing
