// The variant store's genotype level against bcftools on the same input files: for random
// cohorts (single-sample VCFs and a joint VCF, multi-allelic sites, no-calls), random regions
// and random allowed-sample subsets, the genotypes and AC/AN equal
//   bcftools merge -0 -m none | bcftools norm -m -any | bcftools view -r R -s S -c1 |
//   bcftools +fill-tags -t AC,AN
// Chunks go through Encode/Decode on the way, so the stored form is what is queried.
#include "variants/variants.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "blobs/local_store.h"
#include "common/clock.h"
#include "crypto/crypt4gh.h"
#include "crypto/crypto.h"
#include "storage/testing.h"
#include "variants/cohort.h"
#include "variants/cohort_test_support.h"

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

class RandomCohort {
 public:
  // sparse: each sample carries about 1 % of the pool's sites (not 17 %), so a single-sample
  // file often has no site in a whole chunk region.
  RandomCohort(uint32_t seed, const fs::path& dir, bool sparse = false)
      : rng_(seed), dir_(dir), sparse_(sparse) {
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
    if (r < (sparse_ ? 0.985 : 0.80)) return "0/0";
    if (r < (sparse_ ? 0.99 : 0.83)) return "./.";
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

  // A single-sample VCF: records only where the sample is not 0/0. A rare one carries about
  // 1 % of the pool's sites, whatever the cohort's own rate.
  fs::path Single(uint32_t index, bool rare = false) {
    const bool was = sparse_;
    sparse_ = sparse_ || rare;
    std::string name = fmt::format("S{}", index);
    std::string text = Header({name});
    for (const auto& s : pool_) {
      Gt g = RandomGt(s);
      if (g != "0/0") text += Record(s, {g});
    }
    sparse_ = was;
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
  bool sparse_ = false;
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
  int64_t compared = 0, with_nocalls = 0, multi_allelic = 0, absent_from_region = 0;
  for (auto [seed, sparse] : {std::pair{1u, false}, {2u, false}, {3u, false}, {4u, true}, {5u, true}}) {
    SCOPED_TRACE(fmt::format("seed {}{}", seed, sparse ? " (sparse)" : ""));
    RandomCohort cohort(seed, dir / std::to_string(seed), sparse);
    // Batch 1: ten single-sample files; batch 2: a joint VCF of eight; batch 3: six singles.
    std::vector<std::pair<fs::path, std::vector<uint32_t>>> b1, b2, b3;
    for (uint32_t i = 0; i < 10; ++i) b1.push_back({cohort.Single(i), {i}});
    b2.push_back({cohort.Joint("joint", {10, 11, 12, 13, 14, 15, 16, 17}), {10, 11, 12, 13, 14, 15, 16, 17}});
    for (uint32_t i = 18; i < 24; ++i) b3.push_back({cohort.Single(i), {i}});
    std::vector<Chunk> chunks;
    for (auto* batch : {&b1, &b2, &b3}) {
      if (sparse && batch != &b2) {  // each single-sample file its own batch, as the server does
        for (auto& file : *batch) {
          for (auto& c : Ingest({file})) chunks.push_back(std::move(c));
        }
        continue;
      }
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
      // Allowed samples whose batch has no chunk in the region: homozygous reference there.
      Roaring in_region;
      for (const auto& c : chunks) {
        if (c.end > start && c.start <= end) in_region |= c.samples;
      }
      absent_from_region += static_cast<int64_t>((allowed - in_region).cardinality());
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
  // Some allowed samples had no chunk in the queried region (their file has no site there).
  EXPECT_GT(absent_from_region, 10);
  fs::remove_all(dir);
}

// Region rebuilds: one chunk merged from many single-sample batches (rare and common files,
// some with no site in a region) answers as its parts for random regions and allowed sets.
TEST(VariantStoreTest, AMergedChunkAnswersAsItsPartsForEveryAllowedSet) {
  fs::path dir = fs::temp_directory_path() / fmt::format("zengen-merge-{}", ::getpid());
  fs::remove_all(dir);
  RandomCohort cohort(7, dir);
  std::vector<Chunk> parts;
  for (uint32_t i = 0; i < 40; ++i) {
    for (auto& c : Ingest({{cohort.Single(i, /*rare=*/i % 3 == 0), {i}}})) parts.push_back(std::move(c));
  }
  for (auto& c : Ingest({{cohort.Joint("joint", {40, 41, 42, 43}), {40, 41, 42, 43}}})) {
    parts.push_back(std::move(c));
  }
  std::map<int64_t, std::vector<Chunk>> by_region;
  for (const auto& c : parts) by_region[c.start].push_back(c);
  std::vector<Chunk> merged;
  for (auto& [start, chunks] : by_region) {
    auto m = Merge(chunks);
    ASSERT_TRUE(m.ok()) << m.error().message;
    EXPECT_EQ(Fingerprint(chunks), Fingerprint(std::span<const Chunk>(&*m, 1)));
    auto back = Decode(Encode(*m));  // stored and read back as any chunk
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(Encode(*back), Encode(*m));
    merged.push_back(std::move(*back));
  }
  ASSERT_GT(by_region.size(), 2u);
  int64_t sites = 0;
  for (int q = 0; q < 40; ++q) {
    int64_t start = std::uniform_int_distribution<int64_t>(1, kLength - 1)(cohort.rng());
    int64_t end = std::min<int64_t>(kLength, start + std::uniform_int_distribution<int64_t>(1, 120000)(cohort.rng()));
    Roaring allowed;
    std::vector<uint32_t> subset;
    const double p = q % 4 == 0 ? 1.0 : 0.3;
    for (uint32_t i = 0; i < 44; ++i) {
      if (std::uniform_real_distribution<double>(0, 1)(cohort.rng()) < p) {
        allowed.add(i);
        subset.push_back(i);
      }
    }
    SCOPED_TRACE(fmt::format("region {}-{}, {} samples", start, end, subset.size()));
    auto a = Count(parts, kContig, start, end, allowed);
    auto b = Count(merged, kContig, start, end, allowed);
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i].site, b[i].site);
      EXPECT_EQ(std::tuple(a[i].ac, a[i].an, a[i].het, a[i].hom),
                std::tuple(b[i].ac, b[i].an, b[i].het, b[i].hom)) << a[i].site.pos;
    }
    auto ea = CountEvery(parts, kContig, start, end, allowed);
    auto eb = CountEvery(merged, kContig, start, end, allowed);
    ASSERT_EQ(ea.size(), eb.size());
    for (size_t i = 0; i < ea.size(); ++i) EXPECT_EQ(ea[i].an, eb[i].an);
    auto ga = Genotypes(parts, kContig, start, end, subset);
    auto gb = Genotypes(merged, kContig, start, end, subset);
    ASSERT_EQ(ga.size(), gb.size());
    for (size_t i = 0; i < ga.size(); ++i) EXPECT_EQ(ga[i].genotypes, gb[i].genotypes);
    sites += static_cast<int64_t>(a.size());
  }
  EXPECT_GT(sites, 500);
  // Two views of one batch, or chunks of two regions, are not merged.
  const auto& first = by_region.begin()->second;
  std::vector<Chunk> twice = {first[0], first[0]};
  auto dup = Merge(twice);
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code, "overlapping_batches");
  std::vector<Chunk> two_regions = {by_region.begin()->second[0], std::next(by_region.begin())->second[0]};
  auto mixed = Merge(two_regions);
  ASSERT_FALSE(mixed.ok());
  EXPECT_EQ(mixed.error().code, "region_mismatch");
  EXPECT_FALSE(Merge(std::vector<Chunk>{}).ok());
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

// A small batch is also counted from fixed-width bitsets: for random batches at random offsets
// of the sample space (1 to 8 words wide) and random allowed sets, the counts equal those of the
// member lists (the same chunk with its fixed-width form dropped). A batch wider than
// kFixedWords words has none.
TEST(VariantStoreTest, FixedWidthCountsEqualTheMemberListCounts) {
  std::mt19937 rng(11);
  for (int round = 0; round < 40; ++round) {
    const uint32_t offset = std::uniform_int_distribution<uint32_t>(0, 2000)(rng);
    const uint32_t n = std::uniform_int_distribution<uint32_t>(1, 64 * kFixedWords - 64)(rng);
    std::vector<uint32_t> index(n);
    for (uint32_t i = 0; i < n; ++i) index[i] = offset + i;
    ChunkBuilder b(1000);
    for (int64_t pos = 1; pos < 3000; pos += 7) {
      hts::GenotypeRecord r{"chr1", pos, "A", {"C"}, {}};
      const double af = std::uniform_real_distribution<double>(0, 0.5)(rng);
      std::uniform_real_distribution<double> u(0, 1);
      for (uint32_t i = 0; i < n; ++i) {
        if (u(rng) < 0.02) {
          r.gt.push_back({-1, -1});
        } else {
          r.gt.push_back({u(rng) < af ? 1 : 0, u(rng) < af ? 1 : 0});
        }
      }
      b.AddRecord(r, index);
    }
    auto chunks = b.Finish();
    ASSERT_FALSE(chunks.empty());
    Roaring allowed;
    for (uint32_t v = 0; v < offset + n + 100; ++v) {
      if (rng() % 3 == 0) allowed.add(v);
    }
    auto plain = chunks;
    for (auto& c : plain) {
      ASSERT_GT(c.fixed_words, 0u) << n << " samples from " << offset;
      c.fixed_words = 0;
      c.fixed.clear();
    }
    auto fast = Count(chunks, "chr1", 1, 3000, allowed);
    auto slow = Count(plain, "chr1", 1, 3000, allowed);
    ASSERT_EQ(fast.size(), slow.size());
    for (size_t i = 0; i < fast.size(); ++i) {
      EXPECT_EQ(fast[i].site, slow[i].site);
      EXPECT_EQ(fast[i].ac, slow[i].ac) << fast[i].site.pos;
      EXPECT_EQ(fast[i].an, slow[i].an) << fast[i].site.pos;
      EXPECT_EQ(fast[i].het, slow[i].het) << fast[i].site.pos;
      EXPECT_EQ(fast[i].hom, slow[i].hom) << fast[i].site.pos;
    }
  }
  ChunkBuilder wide(1000);
  std::vector<uint32_t> index(64 * kFixedWords + 1);
  for (uint32_t i = 0; i < index.size(); ++i) index[i] = i;
  hts::GenotypeRecord r{"chr1", 10, "A", {"C"}, std::vector<std::array<int, 2>>(index.size())};
  r.gt[0] = {0, 1};
  wide.AddRecord(r, index);
  auto chunks = wide.Finish();
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_EQ(chunks[0].fixed_words, 0u);
}

// A random reference rich in homopolymers and short tandem repeats (where indels can be
// written in several places), as an indexed FASTA in dir.
std::string RepeatReference(std::mt19937& rng, size_t length) {
  const char* bases = "ACGT";
  std::string seq;
  while (seq.size() < length) {
    const int kind = static_cast<int>(rng() % 3);
    if (kind == 0) {
      seq += bases[rng() % 4];
    } else {
      std::string unit;
      const size_t unit_len = kind == 1 ? 1 : 2 + rng() % 3;
      for (size_t i = 0; i < unit_len; ++i) unit += bases[rng() % 4];
      const size_t copies = 2 + rng() % 6;
      for (size_t i = 0; i < copies; ++i) seq += unit;
    }
  }
  seq.resize(length);
  return seq;
}

// Left-alignment equals bcftools norm -f on random indels (deletions and insertions of repeat
// units and random bases, written anywhere in their repeat, some multi-allelic).
TEST(VariantStoreTest, LeftAlignmentEqualsBcftoolsNormOnRandomIndels) {
  const char* seed_env = std::getenv("ZENGEN_VARIANTS_SEED");
  const uint32_t seed = seed_env ? static_cast<uint32_t>(std::stoul(seed_env)) : 5;
  std::mt19937 rng(seed);
  const fs::path dir = fs::temp_directory_path() / ("zg-norm-" + crypto::ToHex(crypto::RandomBytes(6)));
  fs::create_directories(dir);
  const std::string seq = RepeatReference(rng, 20000);
  {
    std::ofstream fa(dir / "ref.fa");
    fa << ">chrN\n";
    for (size_t i = 0; i < seq.size(); i += 60) fa << seq.substr(i, 60) << "\n";
  }
  Shell(fmt::format("samtools faidx {}", (dir / "ref.fa").string()));
  auto reference = OpenFastaReference(dir / "ref.fa");
  ASSERT_TRUE(reference.ok()) << reference.error().message;
  // Records at increasing positions (bcftools wants them sorted), one per position.
  std::ofstream vcf(dir / "in.vcf");
  vcf << "##fileformat=VCFv4.2\n##contig=<ID=chrN,length=" << seq.size()
      << ">\n##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">\n"
         "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS\n";
  std::set<Site> ours;
  int moved = 0;
  const char* bases = "ACGT";
  auto random_alt = [&](int64_t pos) {  // pos is 1-based; seq[pos - 1] is its base
    const size_t k = 1 + rng() % 6;
    const int kind = static_cast<int>(rng() % 3);
    std::string ref, alt;
    if (kind == 0) {  // a deletion of the next k bases
      ref = seq.substr(static_cast<size_t>(pos - 1), k + 1);
      alt = ref.substr(0, 1);
    } else if (kind == 1) {  // an insertion repeating the next k bases
      ref = seq.substr(static_cast<size_t>(pos - 1), 1);
      alt = ref + seq.substr(static_cast<size_t>(pos), k);
    } else {  // an insertion of random bases
      ref = seq.substr(static_cast<size_t>(pos - 1), 1);
      alt = ref;
      for (size_t i = 0; i < k; ++i) alt += bases[rng() % 4];
    }
    return std::pair{ref, alt};
  };
  for (int64_t pos = 20; pos < static_cast<int64_t>(seq.size()) - 40; pos += 15 + rng() % 30) {
    auto [ref, alt] = random_alt(pos);
    std::vector<std::string> alts = {alt};
    if (rng() % 5 == 0) {  // a second allele on the same REF: a shorter deletion or an insertion
      if (ref.size() > 2) {
        alts.push_back(ref.substr(0, 1) + ref.substr(1 + 1 + rng() % (ref.size() - 2)));
      } else {
        alts.push_back(ref + bases[rng() % 4] + ref.substr(1));
      }
    }
    std::vector<std::string> uniq;
    for (const auto& a : alts) {
      if (a != ref && std::find(uniq.begin(), uniq.end(), a) == uniq.end()) uniq.push_back(a);
    }
    if (uniq.empty()) continue;
    std::string joined;
    for (const auto& a : uniq) joined += (joined.empty() ? "" : ",") + a;
    vcf << fmt::format("chrN\t{}\t.\t{}\t{}\t.\tPASS\t.\tGT\t0/1\n", pos, ref, joined);
    for (const auto& sa : Split("chrN", pos, ref, uniq, *reference)) {
      ours.insert(sa.site);
      moved += sa.site.pos < pos ? 1 : 0;
    }
  }
  vcf.close();
  const std::string out = Shell(fmt::format(
      "bcftools norm -f {} -m -any {} 2>/dev/null | bcftools query -f '%CHROM\\t%POS\\t%REF\\t%ALT\\n'",
      (dir / "ref.fa").string(), (dir / "in.vcf").string()));
  std::set<Site> theirs;
  std::istringstream in(out);
  std::string chrom, ref, alt;
  int64_t pos = 0;
  while (in >> chrom >> pos >> ref >> alt) theirs.insert(Site{chrom, pos, ref, alt});
  EXPECT_GT(moved, 20) << "the random indels must exercise the moving";
  EXPECT_EQ(ours, theirs);
  for (const auto& s : ours) {
    if (!theirs.contains(s)) ADD_FAILURE() << "ours only: " << s.pos << " " << s.ref << ">" << s.alt;
  }
  for (const auto& s : theirs) {
    if (!ours.contains(s)) ADD_FAILURE() << "bcftools only: " << s.pos << " " << s.ref << ">" << s.alt;
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
}

// The same deletion written at two places of a repeat in two files (two batches) is one site
// when the reference is known, and two without it.
TEST(VariantStoreTest, TheSameIndelWrittenTwoWaysInTwoFilesIsOneSite) {
  // chrR: GGCAAAAT at 1..8; deleting one A is 3:CA>C (leftmost) or 6:AA>A.
  const std::string seq = "GGCAAAATGCGTACGT";
  const ReferenceBases reference = [&](std::string_view chrom, int64_t start, int64_t end) {
    if (chrom != "chrR" || start < 1) return std::string();
    const auto from = static_cast<size_t>(start - 1);
    if (from >= seq.size()) return std::string();
    return seq.substr(from, static_cast<size_t>(end - start + 1));
  };
  auto build = [&](const ReferenceBases& ref) {
    ChunkBuilder one(1000, ref), two(1000, ref);
    one.AddRecord({"chrR", 3, "CA", {"C"}, {{0, 1}}}, {0});
    two.AddRecord({"chrR", 6, "AA", {"A"}, {{1, 1}}}, {1});
    auto chunks = one.Finish();
    for (auto& c : two.Finish()) chunks.push_back(std::move(c));
    return chunks;
  };
  Roaring both;
  both.add(0);
  both.add(1);
  const auto aligned = build(reference);
  auto counts = Count(aligned, "chrR", 1, 16, both);
  ASSERT_EQ(counts.size(), 1u);
  EXPECT_EQ(counts[0].site, (Site{"chrR", 3, "CA", "C"}));
  EXPECT_EQ(counts[0].ac, 3);
  EXPECT_EQ(counts[0].an, 4);
  const auto plain = build({});
  EXPECT_EQ(Count(plain, "chrR", 1, 16, both).size(), 2u);
  // A REF that does not match the reference is left as written.
  EXPECT_EQ(LeftAlign(Site{"chrR", 7, "GA", "G"}, reference), (Site{"chrR", 7, "GA", "G"}));
}


// ---- The store: chunks in the blob store, their index in the metadata store --------------

// AC and AN per site from bcftools on a merged, split file for a region and samples.
std::map<Site, std::pair<int64_t, int64_t>> BcftoolsCounts(const fs::path& merged, int64_t start,
                                                           int64_t end, const std::string& names) {
  std::string text = Shell(fmt::format(
      "bcftools view -r {}:{}-{} -s {} -c1 {} -Ou | bcftools +fill-tags -Ou -- -t AC,AN | "
      "bcftools query -f '%POS\\t%REF\\t%ALT\\t%AC\\t%AN\\n'",
      kContig, start, end, names, merged.string()));
  std::map<Site, std::pair<int64_t, int64_t>> out;
  std::istringstream lines(text);
  std::string pos, ref, alt, ac, an;
  while (lines >> pos >> ref >> alt >> ac >> an) {
    out[Site{kContig, std::stoll(pos), ref, alt}] = {std::stoll(ac), std::stoll(an)};
  }
  return out;
}

class CohortStoreTest : public CohortFixture {
 protected:
  // Random regions × random allowed subsets of the `n` samples S0..S{n-1} (participants
  // P0..): the store's counts equal bcftools' on `merged`. Returns the sites compared.
  int64_t ExpectAnswersAsBcftools(std::mt19937& rng, const fs::path& merged, uint32_t n,
                                  int queries) {
    auto samples = cohort_->Samples();
    EXPECT_TRUE(samples.ok());
    if (!samples.ok()) return 0;
    std::map<std::string, uint32_t> bit_of;  // participant -> bit
    for (const auto& s : *samples) bit_of[s.participant_id] = s.bit;
    int64_t compared = 0;
    for (int q = 0; q < queries; ++q) {
      int64_t start = std::uniform_int_distribution<int64_t>(1, kLength - 1)(rng);
      int64_t len = q % 3 == 0 ? kLength : std::uniform_int_distribution<int64_t>(1, 80000)(rng);
      int64_t end = std::min<int64_t>(kLength, start + len);
      std::string names;
      Roaring allowed;
      for (uint32_t i = 0; i < n; ++i) {
        if (std::uniform_real_distribution<double>(0, 1)(rng) >= 0.4) continue;
        names += (names.empty() ? "" : ",") + fmt::format("S{}", i);
        allowed.add(bit_of.at(fmt::format("P{}", i)));
      }
      if (names.empty()) {
        names = "S0";
        allowed.add(bit_of.at("P0"));
      }
      SCOPED_TRACE(fmt::format("region {}-{}, samples {}", start, end, names));
      auto chunks = cohort_->Chunks(kContig, start, end);
      EXPECT_TRUE(chunks.ok()) << chunks.error().message;
      if (!chunks.ok()) return compared;
      auto counts = Count(*chunks, kContig, start, end, allowed);
      auto expected = BcftoolsCounts(merged, start, end, names);
      EXPECT_EQ(counts.size(), expected.size());
      for (const auto& c : counts) {
        auto it = expected.find(c.site);
        EXPECT_NE(it, expected.end()) << c.site.pos << " " << c.site.ref << ">" << c.site.alt;
        if (it == expected.end()) continue;
        EXPECT_EQ(c.ac, it->second.first) << c.site.pos;
        EXPECT_EQ(c.an, it->second.second) << c.site.pos;
        ++compared;
      }
    }
    return compared;
  }

  void Merge(const std::string& inputs, const fs::path& merged) {
    Shell(fmt::format("bcftools merge -0 -m none {} -Ou | bcftools norm -m -any -Oz -o {} "
                      "2>/dev/null && bcftools index -f {}",
                      inputs, merged.string(), merged.string()));
  }
};

// Issue 15 "Done when", correctness: files ingested one at a time (incremental: no batch is
// re-read or rewritten) and read back from the blob store answer as bcftools merge on the same
// files, for random regions and random allowed subsets, on both metadata backends.
TEST_P(CohortStoreTest, IngestedFilesAnswerAsBcftoolsMergeForRandomRegionsAndSubsets) {
  RandomCohort cohort(11, dir_ / "vcf");
  std::vector<std::pair<fs::path, std::vector<uint32_t>>> files;
  for (uint32_t i = 0; i < 6; ++i) files.push_back({cohort.Single(i), {i}});
  files.push_back({cohort.Joint("joint", {6, 7, 8, 9}), {6, 7, 8, 9}});
  // Three rare files: often no site in a whole chunk region, where they are still 0/0.
  for (uint32_t i = 10; i < 13; ++i) files.push_back({cohort.Single(i, /*rare=*/true), {i}});
  for (uint32_t i = 0; i < 13; ++i) AddParticipant(fmt::format("P{}", i));
  std::string inputs;
  int64_t chunks_written = 0;
  for (size_t f = 0; f < files.size(); ++f) {
    SourceFile src{.file_id = fmt::format("FL-{}", f), .path = files[f].first, .participants = {}};
    for (uint32_t i : files[f].second) src.participants[fmt::format("S{}", i)] = fmt::format("P{}", i);
    const int64_t before = CountRows("variant_chunks");
    auto report = cohort_->Ingest(src, actor_);
    ASSERT_TRUE(report.ok()) << report.error().message;
    EXPECT_EQ(report->samples, static_cast<int64_t>(files[f].second.size()));
    // Incremental: this ingest added exactly its own chunks and touched no earlier row.
    EXPECT_EQ(CountRows("variant_chunks") - before, report->chunks);
    chunks_written += report->chunks;
    inputs += " " + files[f].first.string();
  }
  EXPECT_EQ(CountRows("variant_batches"), 10);
  EXPECT_GT(chunks_written, 20);
  int ingests = 0;
  for (const auto& e : audit_.events()) ingests += e.action == "variants.ingest";
  EXPECT_EQ(ingests, 10);

  auto samples = cohort_->Samples();
  ASSERT_TRUE(samples.ok());
  ASSERT_EQ(samples->size(), 13u);
  const fs::path merged = dir_ / "merged.vcf.gz";
  Merge(inputs, merged);
  EXPECT_GT(ExpectAnswersAsBcftools(cohort.rng(), merged, 13, 10), 100);
}

// Issue 15, incremental: a region rebuild merges a region's chunks of many batches into one;
// answers stay those of bcftools merge before and after, files ingested after a rebuild stay
// live beside the merged chunk, and a second rebuild merges the merged chunk with them.
TEST_P(CohortStoreTest, RebuiltRegionsAnswerAsBcftoolsMergeAndLaterFilesStayLive) {
  RandomCohort cohort(12, dir_ / "vcf");
  std::vector<std::pair<fs::path, std::vector<uint32_t>>> files;
  for (uint32_t i = 0; i < 5; ++i) files.push_back({cohort.Single(i, /*rare=*/i % 2 == 1), {i}});
  files.push_back({cohort.Joint("joint", {5, 6, 7}), {5, 6, 7}});
  for (uint32_t i = 8; i < 12; ++i) files.push_back({cohort.Single(i, /*rare=*/i % 2 == 0), {i}});
  for (uint32_t i = 0; i < 12; ++i) AddParticipant(fmt::format("P{}", i));
  const MergeJob in_process = InProcessMergeJob();
  auto rebuild_all = [&] {
    int64_t rebuilt = 0;
    auto crowded = cohort_->CrowdedRegions(2, 100);
    EXPECT_TRUE(crowded.ok());
    for (const auto& r : *crowded) {
      auto report = cohort_->RebuildRegion(r.chrom, r.start, in_process, "in_process", actor_,
                                           "test rebuild");
      EXPECT_TRUE(report.ok()) << report.error().message;
      if (!report.ok()) continue;
      EXPECT_EQ(report->chunks_in, r.chunks);
      EXPECT_FALSE(report->merged_id.empty());
      ++rebuilt;
    }
    return rebuilt;
  };
  std::string inputs;
  for (size_t f = 0; f < 6; ++f) {
    ASSERT_TRUE(cohort_->Ingest(Source(fmt::format("FL-{}", f), files[f].first, files[f].second),
                                actor_).ok());
    inputs += " " + files[f].first.string();
  }
  const fs::path first = dir_ / "first.vcf.gz";
  Merge(inputs, first);
  EXPECT_GT(ExpectAnswersAsBcftools(cohort.rng(), first, 8, 6), 50);
  const int64_t regions = static_cast<int64_t>(LiveChunks().size());
  EXPECT_EQ(rebuild_all(), regions) << "every region had several batches";
  for (const auto& [start, n] : LiveChunks()) EXPECT_EQ(n, 1) << start;
  EXPECT_GT(ExpectAnswersAsBcftools(cohort.rng(), first, 8, 6), 50);

  // Later files: their chunks are live beside the merged ones; answers include them.
  for (size_t f = 6; f < files.size(); ++f) {
    ASSERT_TRUE(cohort_->Ingest(Source(fmt::format("FL-{}", f), files[f].first, files[f].second),
                                actor_).ok());
    inputs += " " + files[f].first.string();
  }
  const fs::path all = dir_ / "all.vcf.gz";
  Merge(inputs, all);
  EXPECT_GT(ExpectAnswersAsBcftools(cohort.rng(), all, 12, 6), 50);
  EXPECT_GT(rebuild_all(), 0);
  for (const auto& [start, n] : LiveChunks()) EXPECT_EQ(n, 1) << start;
  EXPECT_GT(ExpectAnswersAsBcftools(cohort.rng(), all, 12, 6), 50);
  // Nothing to merge in a region of one live chunk; every rebuild audited.
  auto again = cohort_->RebuildRegion(kContig, 1, in_process, "in_process", actor_, "");
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->merged_id.empty());
  int audited = 0;
  for (const auto& e : audit_.events()) {
    if (e.action != "variants.rebuild") continue;
    ++audited;
    EXPECT_EQ(e.reason, "test rebuild");
    EXPECT_NE(e.details.find("\"replaced\""), std::string::npos);
  }
  EXPECT_GE(audited, regions + 1);
}

// A rebuild records nothing unless its job answered with exactly its inputs, and never hides a
// batch ingested or a rebuild made while the job ran.
TEST_P(CohortStoreTest, ARebuildIsRecordedOnlyWhenItsJobAnswersWithItsInputs) {
  RandomCohort cohort(13, dir_ / "vcf");
  for (uint32_t i = 0; i < 5; ++i) AddParticipant(fmt::format("P{}", i));
  std::string inputs;
  for (uint32_t i = 0; i < 3; ++i) {
    const fs::path path = cohort.Single(i);
    ASSERT_TRUE(cohort_->Ingest(Source(fmt::format("FL-{}", i), path, {i}), actor_).ok());
    inputs += " " + path.string();
  }
  const auto before = LiveChunks();
  ASSERT_GE(before.at(1), 3);
  const MergeJob in_process = InProcessMergeJob();
  auto expect_unchanged = [&](const Result<RebuildReport>& r, const std::string& code) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, code);
    EXPECT_EQ(LiveChunks(), before);
    EXPECT_EQ(CountRows("variant_merged_chunks"), 0);
  };
  // Not a region start; a job that fails; jobs that lose a call, drop a sample, add one, or
  // answer for another region.
  expect_unchanged(cohort_->RebuildRegion(kContig, 2, in_process, "in_process", actor_, ""),
                   "invalid_region");
  expect_unchanged(cohort_->RebuildRegion(kContig, 1,
                                          [](const std::vector<Chunk>&, std::string_view) -> Result<Chunk> {
                                            return Internal("engine_failed", "the job failed");
                                          },
                                          "local", actor_, ""),
                   "engine_failed");
  const std::vector<std::function<void(Chunk&)>> corruptions = {
      [](Chunk& c) {  // one call fewer (a het member dropped)
        for (auto& s : c.sites) {
          if (s.het.n > 0) {
            s.het.n -= 1;
            return;
          }
        }
      },
      [](Chunk& c) { c.samples.remove(c.samples.minimum()); },
      [](Chunk& c) { c.samples.add(4000); },
      [](Chunk& c) { c.start += 50000; c.end += 50000; },
      [](Chunk& c) {  // a call moved to another sample of the batch
        for (auto& s : c.sites) {
          if (s.hom.n > 0) {
            uint32_t& m = c.members[s.hom.at];
            m = m == 0 ? 1 : 0;
            return;
          }
        }
      }};
  for (size_t k = 0; k < corruptions.size(); ++k) {
    SCOPED_TRACE(fmt::format("corruption {}", k));
    expect_unchanged(cohort_->RebuildRegion(kContig, 1,
                                            [&](const std::vector<Chunk>& chunks, std::string_view) {
                                              auto merged = variants::Merge(chunks);
                                              if (merged.ok()) corruptions[k](*merged);
                                              return merged;
                                            },
                                            "local", actor_, ""),
                     "rebuild_mismatch");
  }
  // Each failing or lying job is an audit record naming its code; the refused region is not.
  std::vector<std::string> failures;
  for (const auto& e : audit_.events()) {
    if (e.action == "variants.rebuild_failed") failures.push_back(e.reason.substr(0, e.reason.find(':')));
  }
  EXPECT_EQ(failures, (std::vector<std::string>{"engine_failed", "rebuild_mismatch", "rebuild_mismatch",
                                                "rebuild_mismatch", "rebuild_mismatch",
                                                "rebuild_mismatch"}));
  // A file ingested while the job runs stays live beside the merged chunk.
  const fs::path late = cohort.Single(3);
  auto r = cohort_->RebuildRegion(kContig, 1,
                                  [&](const std::vector<Chunk>& chunks, std::string_view) {
                                    EXPECT_TRUE(cohort_->Ingest(Source("FL-3", late, {3}), actor_).ok());
                                    return variants::Merge(chunks);
                                  },
                                  "local", actor_, "");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(LiveChunks().at(1), 2) << "the merged chunk and the late file's";
  inputs += " " + late.string();
  const fs::path merged = dir_ / "merged.vcf.gz";
  Merge(inputs, merged);
  EXPECT_GT(ExpectAnswersAsBcftools(cohort.rng(), merged, 4, 6), 20);
  // Two rebuilds of one region at once: the one that records first stands, the other records
  // nothing.
  const fs::path later = cohort.Single(4);
  ASSERT_TRUE(cohort_->Ingest(Source("FL-4", later, {4}), actor_).ok());
  Result<RebuildReport> inner = Internal("not_run", "");
  auto outer = cohort_->RebuildRegion(kContig, 1,
                                      [&](const std::vector<Chunk>& chunks, std::string_view) {
                                        inner = cohort_->RebuildRegion(kContig, 1, in_process,
                                                                       "in_process", actor_, "");
                                        return variants::Merge(chunks);
                                      },
                                      "local", actor_, "");
  ASSERT_TRUE(inner.ok()) << inner.error().message;
  ASSERT_FALSE(outer.ok());
  EXPECT_EQ(outer.error().code, "region_changed");
  EXPECT_EQ(LiveChunks().at(1), 1);
  inputs += " " + later.string();
  const fs::path five = dir_ / "five.vcf.gz";
  Merge(inputs, five);
  EXPECT_GT(ExpectAnswersAsBcftools(cohort.rng(), five, 5, 6), 20);
}

// Left-alignment at ingest: the same deletion written at two places of a repeat in two
// registered files is one site of the store (counts and site ids) when the files' reference is
// given, on both metadata backends.
TEST_P(CohortStoreTest, TheSameIndelFromTwoFilesIsOneSiteWhenTheReferenceIsKnown) {
  const std::string seq = "GGCAAAATGCGTACGTTTGACCA";
  {
    std::ofstream fa(dir_ / "ref.fa");
    fa << ">chrR\n" << seq << "\n";
  }
  Shell(fmt::format("samtools faidx {}", (dir_ / "ref.fa").string()));
  auto reference = OpenFastaReference(dir_ / "ref.fa");
  ASSERT_TRUE(reference.ok()) << reference.error().message;
  EXPECT_FALSE(OpenFastaReference(dir_ / "missing.fa").ok());
  auto write = [&](const std::string& name, const std::string& record) {
    const fs::path path = dir_ / (name + ".vcf");
    std::ofstream out(path);
    out << "##fileformat=VCFv4.2\n##contig=<ID=chrR,length=23>\n"
           "##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">\n"
           "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t"
        << name << "\n" << record << "\n";
    return path;
  };
  AddParticipant("P0");
  AddParticipant("P1");
  const fs::path a = write("S0", "chrR\t3\trs1\tCA\tC\t.\tPASS\t.\tGT\t0/1");
  const fs::path b = write("S1", "chrR\t6\t.\tAAT\tAT\t.\tPASS\t.\tGT\t1/1");
  ASSERT_TRUE(cohort_->Ingest({.file_id = "FL-A", .path = a, .participants = {{"S0", "P0"}},
                               .reference = *reference}, actor_).ok());
  ASSERT_TRUE(cohort_->Ingest({.file_id = "FL-B", .path = b, .participants = {{"S1", "P1"}},
                               .reference = *reference}, actor_).ok());
  auto chunks = cohort_->Chunks("chrR", 1, 23);
  ASSERT_TRUE(chunks.ok()) << chunks.error().message;
  Roaring both;
  both.add(0);
  both.add(1);
  auto counts = Count(*chunks, "chrR", 1, 23, both);
  ASSERT_EQ(counts.size(), 1u);
  EXPECT_EQ(counts[0].site, (Site{"chrR", 3, "CA", "C"}));
  EXPECT_EQ(counts[0].ac, 3);
  auto ids = cohort_->SiteIds("chrR", 1, 23);
  ASSERT_TRUE(ids.ok());
  ASSERT_EQ(ids->size(), 1u);
  EXPECT_EQ(ids->begin()->second, "rs1");
}

// Chunks reach the blob store only as ciphertext (they follow it to every root and site).
TEST_P(CohortStoreTest, StoredChunksAreSealed) {
  RandomCohort cohort(5, dir_ / "vcf");
  AddParticipant("P0");
  auto report = cohort_->Ingest({.file_id = "FL-1", .path = cohort.Single(0),
                                 .participants = {{"S0", "P0"}}},
                                actor_);
  ASSERT_TRUE(report.ok()) << report.error().message;
  auto tx = store_->Begin(storage::TxMode::kRead);
  ASSERT_TRUE(tx.ok());
  auto rows = (*tx)->Query("SELECT blob_id FROM variant_chunks");
  ASSERT_TRUE(rows.ok());
  ASSERT_FALSE(rows->empty());
  for (const auto& r : rows->rows) {
    auto reader = blobs_->Open(r.Text(0));
    ASSERT_TRUE(reader.ok());
    auto head = (*reader)->ReadAt(0, 8);
    ASSERT_TRUE(head.ok());
    EXPECT_EQ(*head, "crypt4gh");
  }
}

TEST_P(CohortStoreTest, AFileIsIngestedOnceAndEverySampleMustNameAParticipant) {
  RandomCohort cohort(6, dir_ / "vcf");
  AddParticipant("P0");
  const fs::path joint = cohort.Joint("joint", {0, 1});
  auto unmapped = cohort_->Ingest({.file_id = "FL-1", .path = joint,
                                   .participants = {{"S0", "P0"}}},
                                  actor_);
  ASSERT_FALSE(unmapped.ok());
  EXPECT_EQ(unmapped.error().code, "sample_not_mapped");
  EXPECT_NE(unmapped.error().message.find("S1"), std::string::npos);
  EXPECT_EQ(CountRows("variant_batches"), 0);
  EXPECT_EQ(CountRows("variant_samples"), 0);

  AddParticipant("P1");
  SourceFile src{.file_id = "FL-1", .path = joint, .participants = {{"S0", "P0"}, {"S1", "P1"}}};
  ASSERT_TRUE(cohort_->Ingest(src, actor_).ok());
  const int64_t chunks = CountRows("variant_chunks");
  auto again = cohort_->Ingest(src, actor_);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, "already_ingested");
  EXPECT_EQ(CountRows("variant_samples"), 2);
  EXPECT_EQ(CountRows("variant_chunks"), chunks);
}

TEST_P(CohortStoreTest, TheGeneTableIsReplacedAsAWholeAndAudited) {
  ASSERT_TRUE(cohort_->LoadGenes(SyntheticGenes(), actor_).ok());
  auto g = cohort_->Gene("ZGV1");
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->chrom, "chrV");
  ASSERT_TRUE(cohort_->LoadGenes({{"ONLY", "chr9", 10, 20}}, actor_).ok());
  EXPECT_EQ(cohort_->Gene("ZGV1").error().code, "gene_not_found");
  EXPECT_EQ(cohort_->Gene("ONLY")->end, 20);
  EXPECT_EQ(audit_.events().back().action, "variants.genes");
}

// Automatic ingest (IngestQueue): queued files are ingested by the job; a file that fails
// leaves nothing in the variant tables, is visible with its error and an audit record, is not
// retried before its backoff and is ingested once it can be; queueing twice, or a file a
// steward ingested meanwhile, never makes a second batch.
TEST_P(CohortStoreTest, TheIngestJobIngestsQueuedFilesRetriesFailuresAndNeverIngestsTwice) {
  RandomCohort cohort(5, dir_ / "vcf");
  std::map<std::string, SourceFile> files;
  for (uint32_t i = 0; i < 3; ++i) {
    AddParticipant(fmt::format("P{}", i));
    const std::string id = fmt::format("FL-{}", i);
    files[id] = {.file_id = id, .path = cohort.Single(i),
                 .participants = {{fmt::format("S{}", i), fmt::format("P{}", i)}}};
  }
  // FL-1 is not readable yet (its registration's working copy is damaged).
  const fs::path good = files["FL-1"].path;
  files["FL-1"].path = dir_ / "damaged.vcf";
  std::ofstream(files["FL-1"].path) << "not a VCF\n";
  int calls = 0;
  IngestQueue queue(*store_, clock_, audit_,
                    [&](std::string_view id) -> Result<IngestReport> {
                      ++calls;
                      return cohort_->Ingest(files.at(std::string(id)), actor_);
                    },
                    {.first_retry = std::chrono::seconds(30), .max_retry = std::chrono::seconds(100)});
  auto added = queue.Enqueue({"FL-0", "FL-1"});
  ASSERT_TRUE(added.ok()) << added.error().message;
  EXPECT_EQ(*added, 2);
  auto t1 = queue.RunDue();
  ASSERT_TRUE(t1.ok()) << t1.error().message;
  EXPECT_EQ(t1->ingested, 1);
  EXPECT_EQ(t1->failed, 1);
  EXPECT_EQ(CountRows("variant_batches"), 1);
  EXPECT_EQ(CountRows("variant_samples"), 1) << "the failed file left nothing behind";
  auto failed = queue.List("failed", 10);
  ASSERT_TRUE(failed.ok());
  ASSERT_EQ(failed->size(), 1u);
  EXPECT_EQ((*failed)[0].file_id, "FL-1");
  EXPECT_EQ((*failed)[0].attempts, 1);
  EXPECT_NE((*failed)[0].last_error.find("unreadable_vcf"), std::string::npos)
      << (*failed)[0].last_error;
  int audited = 0;
  for (const auto& e : audit_.events()) audited += e.action == "variants.ingest_failed";
  EXPECT_EQ(audited, 1);

  // Not due before the backoff; queueing again changes nothing.
  EXPECT_EQ(*queue.Enqueue({"FL-0", "FL-1"}), 0);
  calls = 0;
  auto t2 = queue.RunDue();
  ASSERT_TRUE(t2.ok());
  EXPECT_EQ(calls, 0);
  // Still failing after the first backoff: the next wait doubles (60 s), then is capped (100 s).
  clock_.Advance(std::chrono::seconds(30));
  ASSERT_TRUE(queue.RunDue().ok());
  EXPECT_EQ(calls, 1);
  clock_.Advance(std::chrono::seconds(59));
  ASSERT_TRUE(queue.RunDue().ok());
  EXPECT_EQ(calls, 1);
  clock_.Advance(std::chrono::seconds(1));
  ASSERT_TRUE(queue.RunDue().ok());
  EXPECT_EQ(calls, 2);
  EXPECT_EQ((*queue.List("failed", 10))[0].attempts, 3);
  // Repaired: the next due attempt ingests it.
  files["FL-1"].path = good;
  clock_.Advance(std::chrono::seconds(100));
  auto t3 = queue.RunDue();
  ASSERT_TRUE(t3.ok());
  EXPECT_EQ(t3->ingested, 1);
  EXPECT_TRUE(queue.List("failed", 10)->empty());
  EXPECT_EQ(CountRows("variant_batches"), 2);

  // A steward ingests FL-2 by hand after it was queued: the job marks it done with that batch.
  ASSERT_EQ(*queue.Enqueue({"FL-2"}), 1);
  auto manual = cohort_->Ingest(files["FL-2"], actor_);
  ASSERT_TRUE(manual.ok());
  auto t4 = queue.RunDue();
  ASSERT_TRUE(t4.ok());
  EXPECT_EQ(t4->already, 1);
  EXPECT_EQ(t4->ingested, 0);
  EXPECT_EQ(CountRows("variant_batches"), 3);
  auto done = queue.List("done", 10);
  ASSERT_TRUE(done.ok());
  ASSERT_EQ(done->size(), 3u);
  bool found = false;
  for (const auto& j : *done) found = found || (j.file_id == "FL-2" && j.batch_id == manual->batch_id);
  EXPECT_TRUE(found);
  calls = 0;
  ASSERT_TRUE(queue.RunDue().ok());
  EXPECT_EQ(calls, 0) << "done jobs never run again";
}

INSTANTIATE_TEST_SUITE_P(Backends, CohortStoreTest,
                         ::testing::ValuesIn(storage::TestBackends()));

TEST(GeneTableTest, ReadsGtfAndGff3AndNamesTheBadLine) {
  std::istringstream gtf(
      "#!genome-build test\n"
      "chr1\tsrc\tgene\t11869\t14409\t.\t+\t.\tgene_id \"G1\"; gene_name \"DDX11L1\";\n"
      "chr1\tsrc\texon\t11869\t12227\t.\t+\t.\tgene_id \"G1\"; gene_name \"DDX11L1\";\n"
      "chr2\tsrc\tgene\t100\t200\t.\t-\t.\tgene_id \"G2\";\n");
  auto genes = ParseGeneTable(gtf);
  ASSERT_TRUE(genes.ok()) << genes.error().message;
  ASSERT_EQ(genes->size(), 2u);
  EXPECT_EQ((*genes)[0].name, "DDX11L1");
  EXPECT_EQ((*genes)[0].start, 11869);
  EXPECT_EQ((*genes)[1].name, "G2");
  std::istringstream gff("##gff-version 3\nchr3\tsrc\tgene\t5\t9\t.\t+\t.\tID=gene:X;Name=ABC\n");
  genes = ParseGeneTable(gff);
  ASSERT_TRUE(genes.ok());
  EXPECT_EQ((*genes)[0].name, "ABC");
  std::istringstream bad("chr1\tsrc\tgene\t10\t5\t.\t+\t.\tgene_name \"X\";\n");
  EXPECT_EQ(ParseGeneTable(bad).error().field, "line 1");
  std::istringstream dup(
      "chr1\tsrc\tgene\t1\t5\t.\t+\t.\tgene_name \"X\";\nchr1\tsrc\tgene\t6\t9\t.\t+\t.\tgene_name \"X\";\n");
  EXPECT_EQ(ParseGeneTable(dup).error().field, "line 2");
  std::istringstream none("chr1\tsrc\texon\t1\t5\t.\t+\t.\tgene_name \"X\";\n");
  EXPECT_EQ(ParseGeneTable(none).error().code, "empty_gene_table");
}

}  // namespace
}  // namespace zengen::variants
