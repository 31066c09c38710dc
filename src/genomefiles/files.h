// The registry of stored genome files (R3.7–R3.9; issue 12 "genomefiles"): one row per stored
// file (FASTQ, CRAM, BAM, VCF, BCF) with its linkage to specimen, participant and run, the blob
// ids of the file and its index, what was uploaded and what was stored, and, for multi-sample
// VCF/BCF, whose each sample is.
//
// Files are registered by the modules that produce them (sequencing's upload completion today)
// through Record, inside the producer's transaction, so that the file row commits with the
// producer's own state change and audit records or not at all. Rows are never changed or
// deleted here.
//
// Tables owned: data_files, file_samples. Read: participants (the participant's hospital, the
// policy owner of a file). The specimen's holder comes from specimens::Specimens.
//
// Thread safety: thread-safe (every call runs in its own transaction, or the caller's).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "genomefiles/object.h"
#include "policy/policy.h"
#include "specimens/specimens.h"
#include "storage/store.h"

namespace zengen::genomefiles {

// A stored, registered data file.
struct DataFile {
  std::string id;  // "FL-" + 16 upper-case hex
  std::string kind;
  std::string specimen_id;
  std::string participant_id;
  std::string hospital;   // the participant's hospital (policy owner)
  std::string run_id;     // fastq
  int read = 0;           // fastq
  std::string file_name;
  std::string blob_id;
  std::string index_blob_id;  // analysis files: the index (crai, bai, tbi, csi)
  std::string index_kind;     // "crai" | "bai" | "tbi" | "csi" | ""
  std::string uploaded_sha256;
  std::string uploaded_md5;   // fastq
  int64_t uploaded_size = 0;
  std::string sha256;  // of the stored plaintext (the sanitised file for analysis files)
  int64_t size = 0;    // plaintext bytes stored
  nlohmann::json report;  // fastq: QC report; analysis files: htslib summary
  std::vector<std::string> derived_from;
  std::string created_by;
  std::string created_at;
};

// One sample of a file and whose it is.
struct FileSample {
  std::string sample;
  std::string participant_id;
};

nlohmann::json DataFileJson(const DataFile& f);

// A new file id: "FL-" + 16 upper-case hex.
std::string NewFileId();

// Whose each sample of a sanitised analysis file is, in the file's column order: the
// sanitiser's summary lists the samples (already renamed); with a sample map each sample is
// the participant pseudonym it was renamed to, otherwise every sample is `participant_id`'s.
std::vector<FileSample> SamplesOf(const nlohmann::json& summary, bool sample_mapped,
                                  std::string_view participant_id);

class Files {
 public:
  // Every reference must outlive the registry. keys: the data center's Crypt4GH key pair, under
  // which every registered file's blobs are stored.
  Files(storage::Store& store, specimens::Specimens& specimens, UploadKeys keys);

  // Errors: kNotFound "file_not_found".
  Result<DataFile> GetFile(std::string_view file_id);
  // Files about one participant, oldest first.
  Result<std::vector<DataFile>> ListFiles(std::string_view participant_id);
  // The samples of a file and whose they are, in column order (empty for FASTQ, CRAM, BAM).
  Result<std::vector<FileSample>> FileSamples(std::string_view file_id);
  // The FASTQ files of one run, by read number.
  Result<std::vector<DataFile>> ListRunFiles(std::string_view run_id);
  // The FASTQ reports of a run's files other than read `read` (the mate of a paired run).
  Result<std::vector<nlohmann::json>> MateReports(std::string_view run_id, int read);

  // The policy resource {"file", id, the participant's hospital, the specimen's holder}.
  // Errors: kNotFound.
  Result<policy::Resource> FileResource(std::string_view file_id);
  // The same for a file already loaded (no second read of the file row).
  Result<policy::Resource> FileResource(const DataFile& file);

  // Inside the caller's transaction (checks of a producer that must see the registry as its
  // own write transaction does): the file, or kNotFound "file_not_found"; the id of the file
  // already stored for read `read` of a run, or "" when there is none.
  static Result<DataFile> GetFileIn(storage::Transaction& tx, std::string_view file_id);
  static Result<std::string> RunReadFile(storage::Transaction& tx, std::string_view run_id,
                                         int read);

  // Registers a stored file and its samples in the caller's transaction (the producer's audit
  // records go into the same transaction). f.blob_id (and f.index_blob_id when set) must be
  // stored blobs. Errors: the store's (a duplicate id is a constraint error).
  static Status Record(storage::Transaction& tx, const DataFile& f,
                       const std::vector<FileSample>& samples = {});

  const UploadKeys& keys() const { return keys_; }

 private:
  storage::Store& store_;
  specimens::Specimens& specimens_;
  UploadKeys keys_;
};

}  // namespace zengen::genomefiles
