// The genome-file registry as the analysis module uses it: every call this module makes into
// the registry of stored files (today sequencing::Uploads and its helpers) is in registry.cc,
// so a move of the registry touches one file here.
//
// Thread safety: thread-safe (the registry's own guarantees).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "blobs/blobs.h"
#include "genomefiles/sanitiser.h"
#include "common/actor.h"
#include "common/audit_event.h"
#include "common/clock.h"
#include "common/result.h"
#include "sequencing/upload.h"
#include "specimens/specimens.h"
#include "storage/store.h"

namespace zengen::analysis {

// An analysis output sanitised ahead of its registration, while the engine still runs (a CRAM
// whose step has ended while a later step reads it). The sanitiser is a function of the file's
// bytes and its options, so RegisterOutput takes this result instead of sanitising again when
// the file it registers has the same SHA-256, kind, pseudonym and reference; otherwise it
// sanitises as usual. `file` lives in a directory of the run's scratch directory.
struct Presanitised {
  std::string kind;
  std::string input_sha256;
  std::string pseudonym;
  std::filesystem::path reference;
  genomefiles::SanitisedFile file;
};

class Registry {
 public:
  // Every reference must outlive the object; staging_dir holds the registry's staging of the
  // outputs being registered (created 0700).
  Registry(storage::Store& store, const Clock& clock, AuditSink& audit, blobs::BlobStore& blobs,
           specimens::Specimens& specimens, sequencing::Uploads& files,
           std::filesystem::path staging_dir);

  // The FASTQ files (read 1, read 2) of the specimen's newest paired sequencing run whose QC
  // passed. Errors: kConflict "no_qc_passed_fastq".
  Result<std::vector<genomefiles::DataFile>> QcPassedPair(std::string_view participant_id,
                                                         std::string_view specimen_id);
  // Errors: kNotFound "file_not_found".
  Result<genomefiles::DataFile> File(std::string_view file_id);
  // Decrypts a stored file's plaintext into `dest` (created 0600), checking its SHA-256
  // against the registry's. Errors: the blob store's; kInternal "checksum_mismatch".
  Status Decrypt(const genomefiles::DataFile& file, const std::filesystem::path& dest);
  // Sanitises `path` (kind cram | vcf, every sample renamed to `pseudonym`, CRAM against
  // `reference`) into `work_dir` (created 0700) with the registry's sanitiser, for a later
  // RegisterOutput. Reads the file once for its SHA-256 and once to sanitise; stores nothing.
  // Errors: the sanitiser's.
  Result<Presanitised> Presanitise(std::string_view kind, const std::filesystem::path& path,
                                   std::string_view pseudonym,
                                   const std::filesystem::path& reference,
                                   const std::filesystem::path& work_dir);
  // Registers an analysis output (kind cram | vcf) for the specimen, derived from the FASTQ
  // ids, through the registry's upload path (sanitised, indexed, Crypt4GH-encrypted, linked),
  // in the name of `as` (an analyst of the holding centre). CRAM is read against `reference`.
  // `sha256` is the file's (the caller hashed it). `early`, when not null, is a Presanitise of
  // a file: taken (its files moved into the registry's staging) when it matches, see
  // Presanitised. Errors: the registry's (the upload is rejected and nothing stays stored).
  Result<genomefiles::DataFile> RegisterOutput(std::string_view kind, std::string_view specimen_id,
                                              const std::vector<std::string>& derived_from,
                                              const std::filesystem::path& path,
                                              std::string_view file_name,
                                              const std::filesystem::path& reference,
                                              std::string_view sha256, const Actor& as,
                                              const Presanitised* early = nullptr);

 private:
  storage::Store& store_;
  const Clock& clock_;
  AuditSink& audit_;
  blobs::BlobStore& blobs_;
  specimens::Specimens& specimens_;
  sequencing::Uploads& files_;
  std::filesystem::path staging_dir_;
};

// SHA-256 (hex) of a file, streamed. Errors: kInternal "read_failed".
Result<std::string> FileSha256(const std::filesystem::path& path);

}  // namespace zengen::analysis
