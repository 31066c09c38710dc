// Vectorised scanner for regular FASTQ records: the fast path of the FASTQ parser (fastq.cc).
//
// A regular record is the common case of every modern sequencer: four lines, each complete in
// the buffer —
//   "@" name [" " or "\t" comment] — ASCII, no control character other than tab, at most max_header
//                                    bytes after the '@', a non-empty name (after dropping a
//                                    trailing "/1" or "/2");
//   sequence                       — one line of 1..len_counts_size-1 upper-case A C G T N;
//   "+" alone or "+" + the exact header text;
//   quality                        — exactly as long as the sequence, all in '!'..'~'.
// ScanRegularRecords consumes such records from the front of [p, end) and adds them to Totals
// exactly as the general state-machine parser would. It stops, without touching Totals for
// that record, at the first record that is not regular or not complete in the buffer (or whose
// 32-byte loads would pass `end`), and returns the bytes consumed; the general parser then
// takes that record — so every error, and every unusual but valid form (wrapped lines,
// IUPAC codes, lower case, "+name", zero-length or very long reads, a final record without a
// newline), keeps exactly one implementation, the general parser's.
//
// Per-position quality sums go to 16-bit counters (pos16) that the caller folds into its
// 64-bit sums: the scanner returns when pos16_records reaches kPos16FlushEvery, before any
// counter can overflow (93 * 600 < 65536).
//
// Dispatch: RegularRecordScanner() returns the AVX2 scanner when the CPU has AVX2 (checked once
// at run time; the binary itself stays baseline x86-64), otherwise nullptr and the general
// parser takes every record.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace zengen::sequencing::scan {

// FNV-style 64-bit hash of a read name, eight bytes at a time; the pair check compares the
// running digest of R1 and R2 names (FastqReport::name_digest), so both parsers must use it.
uint64_t HashName(std::string_view name);

// Folds one read name into a file's running name digest (order-sensitive).
inline uint64_t FoldName(uint64_t digest, std::string_view name) {
  return digest * 0x9e3779b97f4a7c15ull + HashName(name) + 1;
}

constexpr int kPos16FlushEvery = 600;

struct Totals {
  // Limits (set once by the caller).
  int64_t max_header = 0;         // bytes after '@'
  int64_t max_tracked = 0;        // positions with per-position sums
  int64_t* len_counts = nullptr;  // reads by length, for lengths < len_counts_size
  int64_t len_counts_size = 0;
  uint16_t* pos16 = nullptr;  // >= RoundUp(max_tracked, 32) + 32 zeroed counters
  // Accumulated.
  int64_t reads = 0;
  int64_t bases = 0;
  uint64_t gc = 0, n = 0, q30 = 0, qual_sum = 0;  // qual_sum: sum of Phred scores
  uint64_t name_digest = 0;
  int pos16_records = 0;  // records added to pos16 since the caller last folded it
};

using ScanFn = size_t (*)(const unsigned char* p, const unsigned char* end, Totals& t);

// The scanner for this CPU, or nullptr when none applies.
ScanFn RegularRecordScanner();

}  // namespace zengen::sequencing::scan
