// Reading genotypes from VCF/BCF files on htslib, for the cohort variant store (variants/).
//
// GenotypeReader::Open accepts VCF (plain, gzip or BGZF) and BCF. Next() returns one record
// at a time in file order with its alleles and, per sample, the two allele indices of GT
// (kMissing for '.', kAbsent for the second allele of a haploid call). Records without a GT
// field give every sample {kMissing, kMissing}. Errors: kInvalidArgument "unreadable_vcf" when
// the file cannot be opened or its header read, "malformed_record" ("record N: …", N 1-based)
// when a record cannot be decoded; the message never contains sample names.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"

namespace zengen::hts {

struct GenotypeRecord {
  std::string chrom;
  int64_t pos = 0;  // 1-based
  std::string ref;
  std::vector<std::string> alts;
  static constexpr int kMissing = -1;
  static constexpr int kAbsent = -2;
  std::vector<std::array<int, 2>> gt;  // one per sample, in header order
  std::string id = ".";  // the ID column ("." when absent)
};

class GenotypeReader {
 public:
  static Result<std::unique_ptr<GenotypeReader>> Open(const std::filesystem::path& path);
  virtual ~GenotypeReader() = default;
  virtual const std::vector<std::string>& samples() const = 0;
  // Fills out with the next record; false at the end of the file.
  virtual Result<bool> Next(GenotypeRecord& out) = 0;
};

}  // namespace zengen::hts
