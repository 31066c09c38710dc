#include "sequencing/synthetic.h"

#include <htslib/sam.h>
#include <zlib.h>

#include <algorithm>
#include <memory>
#include <random>

#include <fmt/format.h>

namespace zengen::sequencing::synthetic {
namespace {

char Complement(char c) {
  switch (c) {
    case 'A': return 'T';
    case 'C': return 'G';
    case 'G': return 'C';
    default: return 'A';
  }
}

std::string ReverseComplement(std::string_view s) {
  std::string out(s.rbegin(), s.rend());
  for (char& c : out) c = Complement(c);
  return out;
}

// Illumina NovaSeq bins: 37 (F), 25 (:), 11 (,), 2 (#).
std::string Qualities(std::mt19937_64& rng, int length, bool low) {
  std::string q(static_cast<size_t>(length), 'F');
  for (int i = 0; i < length; ++i) {
    const auto r = rng() % 100;
    // Quality falls towards the 3' end, as on the instrument.
    const auto tail = static_cast<uint64_t>(i * 10 / std::max(length, 1));
    if (low) {
      q[static_cast<size_t>(i)] = r < 15 ? ':' : r < 70 ? ',' : '#';
    } else {
      q[static_cast<size_t>(i)] = r < 88 - tail ? 'F' : r < 97 ? ':' : ',';
    }
  }
  return q;
}

}  // namespace

std::string Reference::Fasta() const {
  std::string out = ">" + name + "\n";
  for (size_t i = 0; i < sequence.size(); i += 60) out += sequence.substr(i, 60) + "\n";
  return out;
}

Reference MakeReference(uint64_t seed, int64_t length, std::string name) {
  std::mt19937_64 rng(seed);
  Reference r{std::move(name), std::string(static_cast<size_t>(length), 'A')};
  for (auto& c : r.sequence) c = "ACGT"[rng() % 4];
  return r;
}

Reads MakeReads(const Reference& ref, uint64_t seed, int pairs, int length, bool low_quality,
                const std::string& flowcell) {
  std::mt19937_64 rng(seed);
  Reads out;
  const auto ref_len = static_cast<int64_t>(ref.sequence.size());
  for (int i = 0; i < pairs; ++i) {
    Pair p;
    const int64_t insert = 250 + static_cast<int64_t>(rng() % 201);
    p.pos1 = static_cast<int64_t>(rng() % static_cast<uint64_t>(ref_len - insert));
    p.pos2 = p.pos1 + insert - length;
    p.name = fmt::format("A00123:42:{}:{}:{}:{}:{}", flowcell, 1 + i % 4, 1101 + (i / 4) % 8,
                         1000 + (i * 7919) % 30000, 1000 + (i * 104729) % 30000);
    p.seq1 = ref.sequence.substr(static_cast<size_t>(p.pos1), static_cast<size_t>(length));
    p.seq2 = ReverseComplement(
        std::string_view(ref.sequence).substr(static_cast<size_t>(p.pos2), static_cast<size_t>(length)));
    p.qual1 = Qualities(rng, length, low_quality);
    p.qual2 = Qualities(rng, length, low_quality);
    out.r1 += fmt::format("@{} 1:N:0:ACGTACGT+TTGCAGCA\n{}\n+\n{}\n", p.name, p.seq1, p.qual1);
    out.r2 += fmt::format("@{} 2:N:0:ACGTACGT+TTGCAGCA\n{}\n+\n{}\n", p.name, p.seq2, p.qual2);
    out.pairs.push_back(std::move(p));
  }
  return out;
}

namespace {

Status WriteAlignments(const Reference& ref, const Reads& reads, const std::string& sample,
                       const std::filesystem::path& out, bool cram) {
  struct Record {
    int64_t pos;
    std::string line;
  };
  std::vector<Record> records;
  for (const auto& p : reads.pairs) {
    const auto len = p.seq1.size();
    const int64_t tlen = p.pos2 + static_cast<int64_t>(len) - p.pos1;
    // Mate 1 forward (flags 99), mate 2 reverse (147); SAM SEQ is the reference strand.
    records.push_back({p.pos1, fmt::format("{}\t99\t{}\t{}\t60\t{}M\t=\t{}\t{}\t{}\t{}\tRG:Z:rg1",
                                           p.name, ref.name, p.pos1 + 1, len, p.pos2 + 1, tlen,
                                           p.seq1, p.qual1)});
    std::string q2(p.qual2.rbegin(), p.qual2.rend());
    records.push_back({p.pos2, fmt::format("{}\t147\t{}\t{}\t60\t{}M\t=\t{}\t{}\t{}\t{}\tRG:Z:rg1",
                                           p.name, ref.name, p.pos2 + 1, len, p.pos1 + 1, -tlen,
                                           ReverseComplement(p.seq2), q2)});
  }
  std::stable_sort(records.begin(), records.end(),
                   [](const Record& a, const Record& b) { return a.pos < b.pos; });
  std::unique_ptr<samFile, int (*)(samFile*)> fp(sam_open(out.c_str(), cram ? "wc" : "wb"),
                                                 &hts_close);
  if (!fp) return Internal("write_failed", "cannot create the synthetic alignments");
  if (cram) hts_set_opt(fp.get(), CRAM_OPT_NO_REF, 1);
  std::unique_ptr<sam_hdr_t, void (*)(sam_hdr_t*)> hdr(sam_hdr_init(), &sam_hdr_destroy);
  const std::string text = fmt::format(
      "@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:{}\tLN:{}\n@RG\tID:rg1\tSM:{}\tPL:ILLUMINA\tLB:LIB-1\n"
      "@PG\tID:zengen-demo\tPN:zengen\tCL:zengen demo --synthetic\n",
      ref.name, ref.sequence.size(), sample);
  if (sam_hdr_add_lines(hdr.get(), text.c_str(), text.size()) < 0 ||
      sam_hdr_write(fp.get(), hdr.get()) < 0) {
    return Internal("write_failed", "cannot write the synthetic CRAM header");
  }
  std::unique_ptr<bam1_t, void (*)(bam1_t*)> b(bam_init1(), &bam_destroy1);
  kstring_t ks = KS_INITIALIZE;
  for (const auto& r : records) {
    ks.l = 0;
    kputsn(r.line.data(), r.line.size(), &ks);
    if (sam_parse1(&ks, hdr.get(), b.get()) < 0 || sam_write1(fp.get(), hdr.get(), b.get()) < 0) {
      ks_free(&ks);
      return Internal("write_failed", "cannot write a synthetic CRAM record");
    }
  }
  ks_free(&ks);
  if (hts_close(fp.release()) < 0) return Internal("write_failed", "cannot close the file");
  return Status::Ok();
}

}  // namespace

Status WriteCram(const Reference& ref, const Reads& reads, const std::string& sample,
                 const std::filesystem::path& out) {
  return WriteAlignments(ref, reads, sample, out, true);
}

Status WriteBam(const Reference& ref, const Reads& reads, const std::string& sample,
                const std::filesystem::path& out) {
  return WriteAlignments(ref, reads, sample, out, false);
}

std::string MakeVcf(const Reference& ref, uint64_t seed, int variants, const std::string& sample) {
  std::mt19937_64 rng(seed);
  std::vector<int64_t> positions;
  for (int i = 0; i < variants; ++i) {
    positions.push_back(1 + static_cast<int64_t>(rng() % ref.sequence.size()));
  }
  std::sort(positions.begin(), positions.end());
  positions.erase(std::unique(positions.begin(), positions.end()), positions.end());
  std::string out = fmt::format(
      "##fileformat=VCFv4.2\n##contig=<ID={},length={}>\n"
      "##INFO=<ID=DP,Number=1,Type=Integer,Description=\"Read depth\">\n"
      "##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">\n"
      "##FORMAT=<ID=DP,Number=1,Type=Integer,Description=\"Read depth\">\n"
      "##source=zengen-demo\n"
      "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t{}\n",
      ref.name, ref.sequence.size(), sample);
  for (const auto pos : positions) {
    const char r = ref.sequence[static_cast<size_t>(pos - 1)];
    char a = "ACGT"[rng() % 4];
    if (a == r) a = Complement(r);
    const int dp = 20 + static_cast<int>(rng() % 30);
    out += fmt::format("{}\t{}\t.\t{}\t{}\t{}\tPASS\tDP={}\tGT:DP\t{}:{}\n", ref.name, pos, r, a,
                       30 + rng() % 60, dp, rng() % 3 == 0 ? "1/1" : "0/1", dp);
  }
  return out;
}

std::string Gzip(const std::string& plain) {
  z_stream z{};
  deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, plain.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(plain.data()));
  z.avail_in = static_cast<uInt>(plain.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

}  // namespace zengen::sequencing::synthetic
