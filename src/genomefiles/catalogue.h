// The file registry's answers for other modules (issue 12: modules stop reading other modules'
// tables). data_files belongs to genomefiles; sharing (dataset membership, file access), the
// demo and the cohort wiring ask here instead of querying it.
//
// Each read takes the caller's transaction, so that it sees exactly what the caller's
// transaction sees (a dataset change checks the files in the same transaction as it writes).
// A small library of its own (zengen_file_catalogue: storage only), so that a module asking
// about files does not link the object reader and htslib.
//
// Tables read: data_files (owned), participants (the reference table: the file's hospital).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "storage/store.h"

namespace zengen::genomefiles {

// What other modules need to know of a registered file.
struct CatalogueEntry {
  std::string id;
  std::string kind;  // fastq | cram | bam | vcf | bcf
  std::string participant_id;
  std::string hospital;  // the participant's hospital (the policy owner of the file)
  std::string file_name;
  int64_t size = 0;    // plaintext bytes stored
  std::string sha256;  // of the stored plaintext
  std::string created_at;  // RFC 3339, UTC, when the file was registered
  bool operator==(const CatalogueEntry&) const = default;
};

// The registered files among `ids`, ordered by id; an id naming no file is left out (duplicates
// count once). Errors: store errors.
Result<std::vector<CatalogueEntry>> CatalogueEntries(storage::Transaction& tx,
                                                     std::span<const std::string> ids);
// The files of one participant, ordered by id (none: empty). Errors: store errors.
Result<std::vector<CatalogueEntry>> CatalogueOfParticipant(storage::Transaction& tx,
                                                           std::string_view participant_id);
// Every file whose kind is one of `kinds`, ordered by participant id, then id. Errors: store
// errors.
Result<std::vector<CatalogueEntry>> CatalogueOfKinds(storage::Transaction& tx,
                                                     std::span<const std::string> kinds);
// The files whose kind is one of `kinds` registered in (after, up_to] (created_at, RFC 3339 as
// FormatRfc3339 writes it, compared as text; after "" means from the first), ordered by
// created_at, then id: a reader that keeps `up_to` as its next `after` reads each file once,
// at a cost proportional to the new files (index data_files_created). Errors: store errors.
Result<std::vector<CatalogueEntry>> CatalogueOfKindsCreated(storage::Transaction& tx,
                                                            std::span<const std::string> kinds,
                                                            std::string_view after,
                                                            std::string_view up_to);

}  // namespace zengen::genomefiles
