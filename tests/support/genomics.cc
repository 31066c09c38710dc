#include "support/genomics.h"

#include <fstream>
#include <iterator>
#include <random>

#include <fmt/format.h>

#include "sequencing/synthetic.h"

namespace zengen::testing {

std::string Fastq(int reads, int mate, int name_offset) {
  std::mt19937 rng(7 + mate);
  std::string out;
  for (int i = 0; i < reads; ++i) {
    out += fmt::format("@A00123:8:HFLOWCELL:1:1101:{}:{} {}:N:0:ACGTACGT\n", 1000 + i + name_offset,
                       2000 + i, mate);
    for (int j = 0; j < 120; ++j) out += "ACGT"[rng() % 4];
    out += "\n+\n" + std::string(120, 'F') + "\n";
  }
  return out;
}

std::string Gzip(const std::string& plain) { return sequencing::synthetic::Gzip(plain); }

std::string ReadFileBytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

}  // namespace zengen::testing
