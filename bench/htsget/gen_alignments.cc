// Writes a coordinate-sorted synthetic BAM for bench/htsget:
//   gen_alignments PAIRS OUT.bam SAMPLE
// PAIRS read pairs of 150 bases over one 50 Mb synthetic contig "chrZ" (zengen's demo
// generator, sequencing/synthetic.h), Illumina-like names and binned qualities.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "sequencing/synthetic.h"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: gen_alignments PAIRS OUT.bam SAMPLE\n");
    return 2;
  }
  const long pairs = std::atol(argv[1]);
  if (pairs < 1 || pairs > 20000000) {
    std::fprintf(stderr, "PAIRS must be 1..20000000\n");
    return 2;
  }
  namespace syn = zengen::sequencing::synthetic;
  const syn::Reference ref = syn::MakeReference(42, 50000000);
  const syn::Reads reads = syn::MakeReads(ref, 7, static_cast<int>(pairs), 150, false);
  const auto st = syn::WriteBam(ref, reads, argv[3], argv[2]);
  if (!st.ok()) {
    std::fprintf(stderr, "%s\n", st.error().message.c_str());
    return 1;
  }
  return 0;
}
