// Validation and sanitisation of analysis outputs (CRAM, BAM, VCF, BCF) on htslib
// (issue 5; requirements R3.3 standard formats, R3.5 data sanitisation, R3.7).
//
// An analysis center registers a file produced from a participant's FASTQ. Before it is
// stored, Sanitise
//   (1) detects the format with htslib: CRAM, BAM, VCF (BGZF, gzip or plain text) or BCF.
//       Anything else (SAM text, FASTQ, FASTA, indexes, Crypt4GH, garbage) is refused with
//       unsupported_format, an empty file with empty_file;
//   (2) checks that a BGZF file (BAM, VCF.gz, BCF) or a CRAM 3 file ends with its EOF block
//       (truncated_file), reads the header (bad_header) and decodes EVERY record
//       (malformed_record, "record N: <reason>", N 1-based). VCF/BCF records are fully
//       unpacked and are strict: a record that uses a contig, INFO, FORMAT or FILTER not
//       declared in the header, or has too few columns, is refused (htslib only warns);
//   (3) rewrites the header (see "Header sanitisation" below);
//   (4) writes the records unchanged in the same format — CRAM stays CRAM (encoded against
//       `reference` when given, otherwise without reference: sequences stored verbatim, so
//       the output never depends on a reference server), BAM stays BAM, VCF is written
//       BGZF-compressed, BCF stays BCF — then builds the index beside it (CRAM .crai, BAM .bai,
//       VCF .tbi, BCF .csi) and checks that the index loads;
//   (5) returns what it found (HtsFileInfo), including the SHA-256 of the output.
//
// Output: written as "<output>.partial" (and "<output>.partial.<ext>") and renamed into place
// (index first, then data) only when everything succeeded. On any failure nothing is left
// behind: neither output, index, nor the partial files. An existing output or index is never
// overwritten (output_exists).
//
// Samples. SAM family: the distinct @RG SM values in header order. VCF/BCF: the sample
// columns. Renaming: when sample_map is non-empty every sample must be a key of it
// (unmapped_sample, message = the sample name); otherwise a file with exactly one sample gets
// `pseudonym` (pseudonym_required if empty) and a file with several is refused
// (sample_map_required). A file with no sample (sites-only VCF, BAM without SM) needs neither.
// New names must match [A-Za-z0-9._-]{1,128} (invalid_pseudonym); in VCF/BCF two samples may
// not get the same name (duplicate_sample).
//
// Header sanitisation (each item removed or rewritten is counted in HtsFileInfo::dropped
// under its kind):
//   SAM family
//     @RG SM        rewritten to the pseudonym                                  (—)
//     @RG DS        removed: free text, often a study or sample description   "rg_description"
//     @CO           removed: free text, paths and names                        "comment"
//     @PG CL        removed: command lines carry paths and names               "pg_command_line"
//     @PG other     any field but ID, PN, VN, PP removed (DS, user tags)       "pg_field"
//     @SQ UR        removed when it is a local path (absolute or file://);
//                   public URLs (http, https, ftp) are kept                   "reference_path"
//   VCF/BCF
//     sample columns rewritten (pseudonyms)                                      (—)
//     ##<key>=...   where key contains "command" in any case
//                   (##commandline, ##bcftools_viewCommand, ##GATKCommandLine) "command_line"
//     ##SAMPLE, ##PEDIGREE removed (they name samples and describe them)      "sample_metadata"
//     ##source      removed only when its value contains a path ('/' or '\')   "source_path";
//                   a plain program name ("##source=myCaller1.0") is kept
//     ##reference   a local path is reduced to its file name
//                   (file:///seq/refs/hs37d5.fa -> hs37d5.fa), keeping the assembly but not
//                   the directory; public URLs are kept                         "reference_path"
//   Record contents are never changed. In BAM/CRAM the @RG ID values stay as they are (the
//   records' RG:Z tags refer to them), so an ID that embeds the original sample name remains;
//   HtsFileInfo::warnings names every header line that still contains an original sample name.
//
// CRAM reading uses `reference` when given. The decoder never follows @SQ UR paths of the
// input (a path chosen by the uploader). Without `reference`, a CRAM whose reference is not
// embedded makes htslib look the reference up by M5 through REF_PATH/REF_CACHE (by default a
// public server); operators set REF_PATH (docs/operations.md), and a slice that cannot be
// decoded is malformed_record. When decoding, htslib regenerates MD/NM tags; a CRAM written
// without a reference stores them.
// CRAM writing with `reference`: htslib always records the reference's absolute path in the
// output's @SQ UR (and M5), so keep reference files under a path that names only the assembly.
//
// Errors (all InvalidArgument unless noted): input_not_found (NotFound), empty_file,
// unsupported_format, truncated_file, bad_header, malformed_record, unsorted_file (records
// not coordinate-sorted, so not indexable: SAM family and BCF in header contig order with
// unplaced reads last, VCF with each contig's records together), bad_reference (the
// reference FASTA cannot be loaded), pseudonym_required, sample_map_required,
// unmapped_sample, invalid_pseudonym, duplicate_sample, output_exists (Conflict),
// write_failed and index_failed (Internal).
//
// Thread safety: stateless; calls on different files may run concurrently. htslib writes its
// own diagnostics to stderr.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "common/result.h"

namespace zengen::hts {

enum class HtsFormat { kBam, kCram, kVcf, kBcf };

// "bam", "cram", "vcf", "bcf".
const char* FormatName(HtsFormat format);

struct SanitiseOptions {
  // The participant pseudonym, used when the file holds exactly one sample.
  std::string pseudonym;
  // Original sample name -> new name; required when the file holds several samples.
  std::map<std::string, std::string> sample_map;
  // Reference FASTA (with its .fai beside it, or htslib builds one) used to read and write
  // CRAM. Ignored for other formats.
  std::filesystem::path reference;
};

struct Contig {
  std::string name;
  int64_t length = 0;  // 0 when the header does not state it (VCF ##contig without length)
  bool operator==(const Contig&) const = default;
};

struct HtsFileInfo {
  HtsFormat format = HtsFormat::kBam;
  int64_t records = 0;
  std::vector<std::string> samples;   // after renaming, in header order
  std::vector<Contig> contigs;        // from the header, in header order
  std::map<std::string, int64_t> dropped;  // kind (see above) -> lines or fields removed
  std::vector<std::string> warnings;       // residual mentions of original sample names
  std::filesystem::path output;
  std::filesystem::path index;
  std::string sha256_hex;  // of the output file
};

// Validates `input`, writes the sanitised copy to `output` and its index beside it (`output`
// + ".crai" / ".bai" / ".tbi" / ".csi"). See the file comment for the rules and errors.
// REQUIRES: output's directory exists.
Result<HtsFileInfo> Sanitise(const std::filesystem::path& input,
                             const std::filesystem::path& output,
                             const SanitiseOptions& options);

// The sample names in the header of a CRAM/BAM/VCF/BCF file (distinct @RG SM values for the
// SAM family, the sample columns for VCF/BCF). Reads the header only; the same format errors
// as Sanitise. `reference` as in SanitiseOptions.
Result<std::vector<std::string>> ReadSamples(const std::filesystem::path& path,
                                             const std::filesystem::path& reference = {});

// VCF/BCF only (others: unsupported_format): validates `input` like Sanitise and writes to
// `output` (same format; VCF as BGZF) only the sample columns named in `keep_samples`, in the
// order given there, then indexes it as Sanitise does. Every name must be a sample of the
// input (unknown_sample), at most once (duplicate_sample). The header is copied unchanged apart from the sample columns, and
// INFO fields are not recomputed (AC/AN still describe all the input's samples). An empty
// `keep_samples` gives a sites-only file. Output, index and failure rules as Sanitise.
Result<HtsFileInfo> SubsetSamples(const std::filesystem::path& input,
                                  const std::filesystem::path& output,
                                  const std::vector<std::string>& keep_samples);

}  // namespace zengen::hts
