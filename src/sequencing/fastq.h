// One-pass streaming FASTQ ingest: hashing, gzip inflate, record validation and QC.
//
// The caller pushes the uploaded bytes (gzip or plain, any chunk sizes) into FastqIngest::Feed
// and calls Finish once. In the same pass the ingest
//   (a) hashes the uploaded bytes as received (SHA-256 always, MD5 unless disabled) and hands
//       them to an optional sink (where the caller encrypts and stores them);
//   (b) detects gzip by its magic bytes (1f 8b) and inflates it incrementally with ISA-L;
//       multi-member gzip and BGZF (a series of members) are accepted; a truncated stream, a
//       corrupt member, a bad CRC/length trailer or trailing non-gzip bytes are rejected;
//   (c) parses records across arbitrary chunk boundaries without buffering lines: only the
//       current header (bounded by max_header_bytes) is copied;
//   (d) validates every record and stops at the first invalid one;
//   (e) accumulates QC (see FastqReport).
//
// Accepted FASTQ (the rules are deliberately strict; a data-center archive stores only what
// downstream tools read without guessing):
//   - Records: "@name[ comment]", sequence, "+[text]", quality. Wrapped (multi-line) records
//     are accepted as the Sanger format defines them: sequence lines run until a line that
//     starts with '+'; quality lines run until the quality is as long as the sequence (so a
//     quality line may start with '@' or '+'). A line that would make the quality longer
//     than the sequence is a length mismatch; a sequence continuation line starting with a
//     non-base character is a missing '+' line (fastq_missing_plus).
//   - Header: starts with '@'; the name (up to the first space or tab) is non-empty; the whole
//     line is at most max_header_bytes (64 KiB by default) — a longer line is rejected as soon
//     as the limit is crossed, without buffering it. No control characters other than tab;
//     valid UTF-8 (a byte that is not, e.g. Latin-1 or a corrupted name, is fastq_header_not_utf8
//     naming the record: the name goes into JSON reports and downstream SAM files).
//   - Sequence alphabet: IUPAC nucleotide codes in upper or lower case
//     (A C G T U N R Y K M S W B D H V, and '.' is NOT accepted). GC counts G/C/g/c and
//     S (strong, G or C) is not counted; N rate counts N/n. Zero-length reads are accepted.
//   - '+' line: "+" alone, or "+" followed by exactly the header text or its first word
//     (with or without the /1 /2 suffix); anything else is fastq_plus_mismatch.
//   - Quality: Phred+33, characters '!'..'~' (Q0–Q93; Illumina uses at most 'J'/Q41 but the
//     Sanger format allows the full printable range, and PacBio/ONT files use it); length must
//     equal the sequence length.
//   - Line endings: LF only. A carriage return anywhere (CRLF files) is rejected with code
//     fastq_crlf, so that stored bytes and checksums are canonical for every downstream tool.
//   - The last record may lack its final newline if its quality is complete. Anything after the
//     last complete record (a blank line, a partial record) is rejected as truncated.
//   - An empty upload, or a gzip stream that inflates to nothing, is rejected (fastq_empty).
//
// Every error names the 1-based record number: code + message, e.g.
//   fastq_length_mismatch "record 1234: quality length 99 differs from sequence length 100".
// Gzip errors name the member (its number and the upload offset where it starts) instead.
//
// Deterministic rejection (issue 13 item 13): the error (code and message) depends only on the
// bytes, never on how they were chunked or on the thread count. The first offending byte of the
// decompressed stream decides among FASTQ errors. In gzip input a FASTQ error counts only once
// the member holding it has passed its CRC-32/length trailer: until then the member keeps
// inflating (without parsing), and a gzip error in that member (corrupt or truncated) wins —
// how much of a corrupt member inflates before its corruption shows depends on the chunking.
//
// The sink sees bytes BEFORE the file is known to be valid: on any error the caller must
// delete what the sink stored (R: nothing of an invalid file stays stored).
//
// Threads: with FastqOptions::threads == 2, Feed (the caller's thread) hashes and calls the
// sink, and a worker thread inflates, parses and computes QC; Feed hands it copies of the
// uploaded bytes in 256 KiB buffers through a bounded queue (at most 8 in flight, so memory
// stays constant). The sink is always called on the caller's thread. Results and error
// precedence are identical to threads == 1 (errors are reported in stream order); a decoding
// error reaches the caller at its next Feed or at Finish.
//
// Not thread-safe: one FastqIngest is fed from one thread at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace zengen::sequencing {

struct FastqOptions {
  // Receives every uploaded byte (compressed as uploaded), in order, before it is parsed.
  // An error from the sink aborts the ingest with that error.
  std::function<Status(std::string_view)> sink;
  // 1: everything on the calling thread. 2: parsing/QC on a worker thread.
  int threads = 1;
  bool compute_md5 = true;
  // Longest accepted header line, excluding '@' and the newline.
  int64_t max_header_bytes = 64 * 1024;
  // Per-position mean quality is tracked for positions 1..max_tracked_length; the length
  // histogram is exact for every length.
  int64_t max_tracked_length = 1000;
  // Regular records (fastq_scan.h) go through the vectorised scanner when the CPU allows;
  // false makes the general parser read every record (tests compare the two).
  bool vector_scan = true;
};

struct FastqReport {
  bool gzip = false;
  int64_t gzip_members = 0;        // 0 for plain input
  int64_t uploaded_bytes = 0;      // bytes fed (what was hashed)
  int64_t fastq_bytes = 0;         // uncompressed FASTQ bytes
  std::string sha256_hex;          // of the uploaded bytes
  std::string md5_hex;             // of the uploaded bytes; empty if compute_md5 was false

  int64_t reads = 0;
  int64_t bases = 0;
  int64_t q30_bases = 0;           // quality >= 30 ('?')
  int64_t gc_bases = 0;            // G, C, g, c
  int64_t n_bases = 0;             // N, n
  double mean_quality = 0;         // mean Phred over all bases
  double q30_fraction = 0;         // q30_bases / bases
  double gc_fraction = 0;          // gc_bases / bases (denominator includes N, as fastp does)
  double n_rate = 0;               // n_bases / bases
  int64_t min_length = 0;
  int64_t max_length = 0;
  // [i] = mean quality at 1-based position i+1 over reads at least that long; covers
  // positions up to min(max_length, max_tracked_length).
  std::vector<double> per_position_mean_quality;
  std::map<int64_t, int64_t> length_histogram;  // read length -> reads

  std::string first_read_name;     // normalised (see NormaliseReadName)
  // Instrument id from the first read name in Illumina CASAVA 1.8 form
  // (instrument:run:flowcell:lane:tile:x:y); empty otherwise.
  std::string instrument_id;
  // Order-dependent 64-bit rolling hash of all normalised read names: equal for two files whose
  // names agree pairwise (collisions on a mismatch have probability ~2^-64).
  uint64_t name_digest = 0;
};

// Read name used for pairing: the header up to the first space or tab, without a trailing
// "/1" or "/2". "@r7/1 BC:Z:x" and "@r7/2" both give "r7".
std::string_view NormaliseReadName(std::string_view header_without_at);

class FastqIngest {
 public:
  explicit FastqIngest(FastqOptions options = {});
  ~FastqIngest();
  FastqIngest(const FastqIngest&) = delete;
  FastqIngest& operator=(const FastqIngest&) = delete;

  // Consumes the next uploaded bytes. After the first error every call returns that error.
  Status Feed(std::string_view bytes);
  // Ends the input. Returns the report of a valid file or the first error. Call once.
  Result<FastqReport> Finish();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// Convenience: ingests a whole in-memory upload in one call.
Result<FastqReport> IngestFastq(std::string_view bytes, FastqOptions options = {});

// Paired files: same read count and the same normalised names in the same order (compared
// through FastqReport::name_digest, so the names need not be kept). Errors:
// pair_read_count_mismatch, pair_name_mismatch.
Status CheckPair(const FastqReport& r1, const FastqReport& r2);

struct QcThresholds {
  double min_mean_quality = 0;
  double min_q30_fraction = 0;
  double max_n_rate = 1;
  int64_t min_reads = 1;
  int64_t min_bases = 0;
  double min_gc_fraction = 0;
  double max_gc_fraction = 1;
  // Instrument models accepted as standard (compared case-insensitively, trimmed).
  std::vector<std::string> standard_instruments;
};

struct QcVerdict {
  bool pass = true;
  std::vector<std::string> reasons;  // one line per failed threshold, empty when pass
  std::string instrument_model;      // as recorded for the run
  // R3.5-5: the model is empty or not in standard_instruments. Flags the run for review;
  // it does not by itself fail QC.
  bool non_standard_instrument = false;
};

bool IsStandardInstrument(std::string_view model, const std::vector<std::string>& standard);

// Applies the thresholds to a report (for paired runs pass each file, or a merged report).
QcVerdict Evaluate(const FastqReport& report, const QcThresholds& thresholds,
                   std::string_view instrument_model = {});

}  // namespace zengen::sequencing
