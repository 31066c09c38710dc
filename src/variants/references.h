// Each VCF/BCF is left-aligned against the reference it was registered with (issue 15).
//
// Which reference a file names, in this order:
//   1. the reference genome of the analysis run that produced it (the analysis module's
//      registry records each run's reference by name and checksum);
//   2. otherwise its header's ##reference line: the value's file name (any directory or URL
//      prefix removed), which must be a registered reference's name, or that name followed by
//      a FASTA suffix (.fa, .fasta, .fna, each optionally .gz): "##reference=GRCh38.fa" names
//      the registered "GRCh38";
//   3. a file that names none — or whose ##reference names no registered reference (many
//      published VCFs name a FASTA this site never registered; `unregistered` keeps the value
//      for the audit record) — is left-aligned against the site-wide FASTA
//      (variants_reference_fasta) when one is configured, and only split and trimmed otherwise.
// A file made by an analysis run whose reference is no longer registered is refused
// (kInvalidArgument "reference_not_registered", field "reference"), and so is one whose
// header's contigs are not the named registered reference's (kInvalidArgument "reference_contig_mismatch" naming the contig, field
// "reference"): a contig of the header missing from the reference, or with another length.
// The ingest queue records the refusal on the file's job ("code: message") and retries it
// later (a reference registered meanwhile is then found).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "variants/variants.h"

namespace zengen::variants {

// What a VCF/BCF header says about its reference.
struct HeaderReference {
  std::map<std::string, int64_t> contigs;  // ##contig ID → length (-1 when not given)
  std::string reference;                   // the ##reference value, "" when none
};
// Errors: kInvalidArgument "unreadable_vcf".
Result<HeaderReference> ReadHeaderReference(const std::filesystem::path& vcf);

// The contigs of an indexed FASTA (its .fai): name → length. Errors: kInvalidArgument
// "unreadable_reference".
Result<std::map<std::string, int64_t>> FastaContigs(const std::filesystem::path& fasta);

// The registered reference name a ##reference value designates among `registered`, or "".
// `value`'s file name is compared with each name and with each name plus a FASTA suffix.
std::string MatchReferenceName(std::string_view value,
                               const std::function<bool(std::string_view)>& registered);

struct ReferenceSources {
  // The reference name of the analysis run that produced the file ("" when none did).
  std::function<Result<std::string>(std::string_view file_id)> run_reference;
  // A registered reference's indexed FASTA by name (nullopt when no such reference).
  std::function<Result<std::optional<std::filesystem::path>>(std::string_view name)> registered;
  // The site-wide FASTA for files that name none (empty: none).
  std::filesystem::path site_fasta;
};

struct ChosenReference {
  std::string name;    // the registered name ("" for the site-wide FASTA or none)
  std::string source;  // "analysis_run" | "header" | "site" | "" (none: no left-alignment)
  std::string unregistered;  // a ##reference value naming no registered reference ("" none)
  ReferenceBases bases;
};

// Chooses the reference of the file at `vcf` (see the header comment) and opens it.
Result<ChosenReference> ChooseReference(const std::filesystem::path& vcf, std::string_view file_id,
                                        const ReferenceSources& sources);

}  // namespace zengen::variants
