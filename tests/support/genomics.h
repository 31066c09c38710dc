// Small genomics inputs for end-to-end tests: generated FASTQ and gzip.
#pragma once

#include <string>

namespace zengen::testing {

// `reads` Illumina-like records of 120 bases, quality 'F', CASAVA comment for `mate`;
// `name_offset` shifts the read names (a mate that does not match).
std::string Fastq(int reads, int mate, int name_offset = 0);
// One gzip member holding `plain`.
std::string Gzip(const std::string& plain);
// The whole content of a file ("" when it cannot be read).
std::string ReadFileBytes(const std::string& path);

}  // namespace zengen::testing
