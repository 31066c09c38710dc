// The variant store's genotype level against bcftools on the same input files: for random
// cohorts (single-sample VCFs and a joint VCF, multi-allelic sites, no-calls), random regions
// and random allowed-sample subsets, the genotypes and AC/AN equal
//   bcftools merge -0 -m none | bcftools norm -m -any | bcftools view -r R -s S -c1 |
//   bcftools +fill-tags -t AC,AN
// Chunks go through Encode/Decode on the way, so the stored form is what is queried.
#include "variants/variants.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace zengen::variants {
namespace {

namespace fs = std::filesystem;

std::string Shell(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int rc = ::pclose(p);
  EXPECT_EQ(rc, 0) << cmd;
  return out;
}

struct PoolSite {
  int64_t pos;
  std::string ref;
  std::vector<std::string> alts;
};

// Genotype as VCF text for a pool site: allele indices, or "./.".
using Gt = std::string;

constexpr const char* kContig = "chrV";
constexpr int64_t kLength = 200000;

class Cohort {
 public:
  Cohort(uint32_t seed, const fs::path& dir) : rng_(seed), dir_(dir) {
    fs::create_directories(dir_);
    const char* bases = "ACGT";
    std::uniform_int_distribution<int> base(0, 3);
    std::set<int64_t> used;
    std::uniform_int_distribution<int64_t> where(10, kLength - 20);
    while (pool_.size() < 300) {
      int64_t pos = where(rng_);
      if (used.count(pos) || used.count(pos - 1) || used.count(pos + 1)) continue;
      used.insert(pos);
      PoolSite s{pos, std::string(1, bases[base(rng_)]), {}};
      int kind = std::uniform_int_distribution<int>(0, 9)(rng_);
      auto other = [&](const std::string& not_this) {
        std::string b;
        do b = std::string(1, bases[base(rng_)]);
        while (b == not_this);
        return b;
      };
      if (kind < 6) {
        s.alts = {other(s.ref)};
      } else if (kind < 8) {  // multi-allelic SNV
        std::string a = other(s.ref);
        std::string b;
        do b = other(s.ref);
        while (b == a);
        s.alts = {a, b};
      } else if (kind == 8) {  // insertion
        s.alts = {s.ref + bases[base(rng_)] + bases[base(rng_)]};
      } else {  // deletion of two bases
        s.ref += std::string(1, bases[base(rng_)]) + bases[base(rng_)];
        s.alts = {s.ref.substr(0, 1)};
      }
      pool_.push_back(s);
    }
    std::sort(pool_.begin(), pool_.end(), [](auto& a, auto& b) { return a.pos < b.pos; });
  }

  // A random genotype for one sample at one pool site: mostly 0/0.
  Gt RandomGt(const PoolSite& s) {
    double r = std::uniform_real_distribution<double>(0, 1)(rng_);
    if (r < 0.80) return "0/0";
    if (r < 0.83) return "./.";
    int n = static_cast<int>(s.alts.size());
    std::uniform_int_distribution<int> allele(0, n);
    int a = allele(rng_), b = allele(rng_);
    if (a == 0 && b == 0) b = 1;
    if (a > b) std::swap(a, b);
    return fmt::format("{}/{}", a, b);
  }

  std::string Header(const std::vector<std::string>& samples) {
    std::string h = "##fileformat=VCFv4.2\n";
    h += fmt::format("##contig=<ID={},length={}>\n", kContig, kLength);
    h += "##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">\n";
    h += "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT";
    for (const auto& s : samples) h += "\t" + s;
    return h + "\n";
  }

  std::string Record(const PoolSite& s, const std::vector<Gt>& gts) {
    std::string alts;
    for (size_t i = 0; i < s.alts.size(); ++i) alts += (i ? "," : "") + s.alts[i];
    std::string line = fmt::format("{}\t{}\t.\t{}\t{}\t.\tPASS\t.\tGT", kContig, s.pos, s.ref, alts);
    for (const auto& g : gts) line += "\t" + g;
    return line + "\n";
  }

  fs::path Write(const std::string& name, const std::string& text) {
    fs::path plain = dir_ / (name + ".vcf");
    std::ofstream(plain) << text;
    fs::path gz = dir_ / (name + ".vcf.gz");
    Shell(fmt::format("bcftools view -Oz -o {} {} && bcftools index -f {}", gz.string(),
                    plain.string(), gz.string()));
    return gz;
  }

  // A single-sample VCF: records only where the sample is not 0/0.
  fs::path Single(uint32_t index) {
    std::string name = fmt::format("S{}", index);
    std::string text = Header({name});
    for (const auto& s : pool_) {
      Gt g = RandomGt(s);
      if (g != "0/0") text += Record(s, {g});
    }
    return Write(name, text);
  }

  fs::path Joint(const std::string& name, const std::vector<uint32_t>& indices) {
    std::vector<std::string> names;
    for (uint32_t i : indices) names.push_back(fmt::format("S{}", i));
    std::string text = Header(names);
    for (const auto& s : pool_) {
      std::vector<Gt> gts;
      bool any = false;
      for (size_t k = 0; k < indices.size(); ++k) {
        gts.push_back(RandomGt(s));
        any = any || gts.back() != "0/0";
      }
      if (any) text += Record(s, gts);
    }
    return Write(name, text);
  }

  std::mt19937& rng() { return rng_; }

 private:
  std::mt19937 rng_;
  fs::path dir_;
  std::vector<PoolSite> pool_;
};

std::vector<Chunk> Ingest(const std::vector<std::pair<fs::path, std::vector<uint32_t>>>& batch) {
  ChunkBuilder b(50000);
  for (const auto& [path, indices] : batch) {
    auto reader = hts::GenotypeReader::Open(path);
    EXPECT_TRUE(reader.ok());
    if (!reader.ok()) return {};
    auto st = b.Add(**reader, indices);
    EXPECT_TRUE(st.ok());
  }
  std::vector<Chunk> stored;
  for (const auto& c : b.Finish()) {
    auto back = Decode(Encode(c));
    EXPECT_TRUE(back.ok());
    if (back.ok()) stored.push_back(std::move(*back));
  }
  return stored;
}

int GtValue(const std::string& gt) {
  if (gt.find('.') != std::string::npos) return -1;
  return (gt[0] == '1') + (gt[2] == '1');
}

TEST(VariantStoreTest, CountsAndGenotypesEqualBcftoolsOnRandomCohorts) {
  fs::path dir = fs::temp_directory_path() / fmt::format("zengen-variants-{}", ::getpid());
  fs::remove_all(dir);
  int64_t compared = 0, with_nocalls = 0, multi_allelic = 0;
  for (uint32_t seed : {1u, 2u, 3u}) {
    SCOPED_TRACE(fmt::format("seed {}", seed));
    Cohort cohort(seed, dir / std::to_string(seed));
    // Batch 1: ten single-sample files; batch 2: a joint VCF of eight; batch 3: six singles.
    std::vector<std::pair<fs::path, std::vector<uint32_t>>> b1, b2, b3;
    for (uint32_t i = 0; i < 10; ++i) b1.push_back({cohort.Single(i), {i}});
    b2.push_back({cohort.Joint("joint", {10, 11, 12, 13, 14, 15, 16, 17}), {10, 11, 12, 13, 14, 15, 16, 17}});
    for (uint32_t i = 18; i < 24; ++i) b3.push_back({cohort.Single(i), {i}});
    std::vector<Chunk> chunks;
    for (auto* batch : {&b1, &b2, &b3}) {
      for (auto& c : Ingest(*batch)) chunks.push_back(std::move(c));
    }
    ASSERT_GT(chunks.size(), 6u) << "several regions per batch";

    std::string inputs;
    for (auto* batch : {&b1, &b2, &b3}) {
      for (auto& [p, _] : *batch) inputs += " " + p.string();
    }
    fs::path merged = dir / std::to_string(seed) / "merged.vcf.gz";
    Shell(fmt::format("bcftools merge -0 -m none {} -Ou | bcftools norm -m -any -Oz -o {} 2>/dev/null "
                    "&& bcftools index -f {}",
                    inputs, merged.string(), merged.string()));

    for (int q = 0; q < 12; ++q) {
      int64_t start = std::uniform_int_distribution<int64_t>(1, kLength - 1)(cohort.rng());
      int64_t len = q % 3 == 0 ? kLength : std::uniform_int_distribution<int64_t>(1, 80000)(cohort.rng());
      int64_t end = std::min<int64_t>(kLength, start + len);
      std::vector<uint32_t> subset;
      for (uint32_t i = 0; i < 24; ++i) {
        if (std::uniform_real_distribution<double>(0, 1)(cohort.rng()) < 0.3) subset.push_back(i);
      }
      if (subset.empty()) subset.push_back(static_cast<uint32_t>(q));
      SCOPED_TRACE(fmt::format("region {}-{}, {} samples", start, end, subset.size()));
      std::string names;
      Roaring allowed;
      for (uint32_t i : subset) {
        names += (names.empty() ? "" : ",") + fmt::format("S{}", i);
        allowed.add(i);
      }
      std::string text = Shell(fmt::format(
          "bcftools view -r {}:{}-{} -s {} -c1 {} -Ou | bcftools +fill-tags -Ou -- -t AC,AN | "
          "bcftools query -f '%POS\\t%REF\\t%ALT\\t%AC\\t%AN[\\t%GT]\\n'",
          kContig, start, end, names, merged.string()));
      // bcftools lists samples in the merged file's order, which is S0..S23 here, so the
      // subset's order (ascending) matches.
      std::map<Site, std::pair<std::pair<int64_t, int64_t>, std::vector<int>>> expected;
      std::istringstream lines(text);
      std::string line;
      while (std::getline(lines, line)) {
        std::istringstream f(line);
        std::string pos, ref, alt, ac, an, gt;
        f >> pos >> ref >> alt >> ac >> an;
        std::vector<int> gts;
        while (f >> gt) gts.push_back(GtValue(gt));
        expected[Site{kContig, std::stoll(pos), ref, alt}] = {{std::stoll(ac), std::stoll(an)}, gts};
      }
      auto counts = Count(chunks, kContig, start, end, allowed);
      auto genotypes = Genotypes(chunks, kContig, start, end, subset);
      ASSERT_EQ(counts.size(), expected.size());
      ASSERT_EQ(genotypes.size(), expected.size());
      for (size_t i = 0; i < counts.size(); ++i) {
        auto it = expected.find(counts[i].site);
        ASSERT_NE(it, expected.end()) << counts[i].site.pos << " " << counts[i].site.ref << ">"
                                      << counts[i].site.alt;
        EXPECT_EQ(counts[i].ac, it->second.first.first) << counts[i].site.pos;
        EXPECT_EQ(counts[i].an, it->second.first.second) << counts[i].site.pos;
        EXPECT_EQ(genotypes[i].site, counts[i].site);
        EXPECT_EQ(genotypes[i].genotypes, it->second.second) << counts[i].site.pos;
        ++compared;
        with_nocalls += counts[i].an < 2 * static_cast<int64_t>(subset.size()) ? 1 : 0;
        multi_allelic += i > 0 && counts[i].site.pos == counts[i - 1].site.pos ? 1 : 0;
      }
    }
  }
  // The comparison covered real work: many sites, some with no-calls, some split.
  EXPECT_GT(compared, 500);
  EXPECT_GT(with_nocalls, 10);
  EXPECT_GT(multi_allelic, 10);
  fs::remove_all(dir);
}

TEST(VariantStoreTest, SplitTrimsAndSkipsSymbolicAlleles) {
  auto s = Split("c", 100, "ACT", {"A", "ATT", "<DEL>", "*", "GCT"});
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].site, (Site{"c", 100, "ACT", "A"}));
  EXPECT_EQ(s[0].allele, 1);
  EXPECT_EQ(s[1].site, (Site{"c", 101, "C", "T"}));  // ACT>ATT is C>T one base on
  EXPECT_EQ(s[1].allele, 2);
  EXPECT_EQ(s[2].site, (Site{"c", 100, "A", "G"}));
  EXPECT_EQ(s[2].allele, 5);
}

TEST(VariantStoreTest, DecodeRefusesEveryTruncationAndCorruption) {
  ChunkBuilder b(1000);
  hts::GenotypeRecord r{"chr1", 10, "A", {"C", "G"}, {{0, 1}, {1, 2}, {-1, -1}, {2, 2}}};
  b.AddRecord(r, {0, 1, 2, 3});
  auto chunks = b.Finish();
  ASSERT_EQ(chunks.size(), 1u);
  std::string enc = Encode(chunks[0]);
  ASSERT_TRUE(Decode(enc).ok());
  for (size_t n = 0; n < enc.size(); ++n) {
    EXPECT_FALSE(Decode(enc.substr(0, n)).ok()) << "truncated to " << n;
  }
  std::mt19937 rng(7);
  int refused = 0;
  for (int i = 0; i < 2000; ++i) {
    std::string bad = enc;
    bad[std::uniform_int_distribution<size_t>(0, bad.size() - 1)(rng)] ^=
        static_cast<char>(1 + std::uniform_int_distribution<int>(0, 254)(rng));
    auto d = Decode(bad);  // must never crash; a flip that still decodes is allowed
    refused += d.ok() ? 0 : 1;
  }
  EXPECT_GT(refused, 0);
}

TEST(VariantStoreTest, CountsFollowTheAllowedSetWithoutRebuilding) {
  ChunkBuilder b(1000);
  // Four samples; sample 3 withdraws: the next count simply leaves it out of `allowed`.
  b.AddRecord({"chr1", 10, "A", {"C"}, {{0, 1}, {1, 1}, {0, 0}, {1, 1}}}, {0, 1, 2, 3});
  auto chunks = b.Finish();
  Roaring all;
  for (uint32_t i = 0; i < 4; ++i) all.add(i);
  auto before = Count(chunks, "chr1", 1, 1000, all);
  ASSERT_EQ(before.size(), 1u);
  EXPECT_EQ(before[0].ac, 5);
  EXPECT_EQ(before[0].an, 8);
  Roaring consented = all;
  consented.remove(3);
  auto after = Count(chunks, "chr1", 1, 1000, consented);
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].ac, 3);
  EXPECT_EQ(after[0].an, 6);
  EXPECT_EQ(after[0].hom, 1);
  Roaring only_ref;
  only_ref.add(2);
  EXPECT_TRUE(Count(chunks, "chr1", 1, 1000, only_ref).empty()) << "AC 0 sites are not listed";
}

}  // namespace
}  // namespace zengen::variants
