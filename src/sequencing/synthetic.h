// Synthetic sequencing data for `zengen demo` (no network, no files from outside): a random
// reference contig, read pairs sampled from it at known positions with Illumina-like names and
// binned qualities, the coordinate-sorted CRAM those reads align to, and a small VCF.
//
// Everything is a pure function of its seed. The CRAM is written by htslib without a
// reference (sequences embedded), so reading it never needs the reference either.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "common/result.h"

namespace zengen::sequencing::synthetic {

struct Reference {
  std::string name;      // e.g. "chrZ"
  std::string sequence;  // upper-case A/C/G/T
  std::string Fasta() const;
};
Reference MakeReference(uint64_t seed, int64_t length, std::string name = "chrZ");

struct Pair {
  std::string name;  // CASAVA 1.8 read name without the comment
  int64_t pos1 = 0;  // 0-based leftmost position of read 1 (forward strand)
  int64_t pos2 = 0;  // 0-based leftmost position of read 2 (reverse strand)
  std::string seq1, qual1;
  std::string seq2, qual2;  // as sequenced (reverse complement of the reference)
};

struct Reads {
  std::vector<Pair> pairs;
  std::string r1;  // FASTQ text of read 1
  std::string r2;  // FASTQ text of read 2
};
// `pairs` pairs of `length`-base reads with inserts of 250–450 bases; binned qualities
// (F/:/,/#) that pass the default QC thresholds, or mostly low ones when low_quality.
Reads MakeReads(const Reference& ref, uint64_t seed, int pairs, int length, bool low_quality,
                const std::string& flowcell = "HDEMOFLOW");

// Writes the reads as a coordinate-sorted CRAM (no reference) with @RG SM = sample.
Status WriteCram(const Reference& ref, const Reads& reads, const std::string& sample,
                 const std::filesystem::path& out);
// The same records as a coordinate-sorted BAM.
Status WriteBam(const Reference& ref, const Reads& reads, const std::string& sample,
                const std::filesystem::path& out);

// A VCF 4.2 text with `variants` heterozygous SNVs for one sample.
std::string MakeVcf(const Reference& ref, uint64_t seed, int variants, const std::string& sample);

// gzip (one member) of `plain`, as a sequencer's .fastq.gz.
std::string Gzip(const std::string& plain);

}  // namespace zengen::sequencing::synthetic
