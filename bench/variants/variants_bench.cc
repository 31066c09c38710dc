// Cohort variant store benchmark (issue 15): builds a synthetic cohort, stores it as Zengen
// variant chunks, and times consent-filtered queries on them. bench/variants/run.sh runs it
// twice: `generate` writes the cohort as a joint VCF (for bcftools and Savvy, the anchors, and
// optionally one VCF per sample), then `query` reads it back through the real ingest path
// (hts::GenotypeReader -> ChunkBuilder -> Encode/Decode) and prints figures; `savvy` times the
// same whole-chromosome allele count with libsavvy on a SAV file of the same cohort.
//
//   variants_bench generate DIR SAMPLES LENGTH [SINGLES]
//   variants_bench query DIR SAMPLES LENGTH SUBSET_FILE
//   variants_bench savvy FILE.sav SUBSET_FILE
//   variants_bench singles DIR SAMPLES LENGTH SUBSET_FILE   (the S<i>.bcf files; region rebuilds)
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <tuple>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <iostream>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
// libsavvy's own headers trip GCC's maybe-uninitialized check; they are not ours to change.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <savvy/reader.hpp>
#pragma GCC diagnostic pop

#include "hts/genotypes.h"
#include "variants/variants.h"

namespace fs = std::filesystem;
using namespace zengen;

namespace {

constexpr const char* kContig = "chrB";

double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// Precise CPU time of this process (getrusage may tick in milliseconds).
double ProcessCpu() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

int Generate(const fs::path& dir, int samples, int64_t length, int singles) {
  fs::create_directories(dir);
  std::mt19937_64 rng(42);
  const char* bases = "ACGT";
  std::ofstream joint(dir / "cohort.vcf");
  std::string header = fmt::format(
      "##fileformat=VCFv4.2\n##contig=<ID={},length={}>\n"
      "##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">\n"
      "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT",
      kContig, length);
  joint << header;
  for (int s = 0; s < samples; ++s) joint << "\tS" << s;
  joint << "\n";
  std::vector<std::ofstream> single;
  for (int s = 0; s < singles; ++s) {
    single.emplace_back(dir / fmt::format("S{}.vcf", s));
    single.back() << header << "\tS" << s << "\n";
  }
  // About one site per 100 bp; allele frequencies log-uniform from 1/(2N) to 0.5, so most
  // sites are rare, as in a sequenced population.
  std::uniform_real_distribution<double> u(0, 1);
  std::string line;
  int64_t sites = 0;
  const double lo = std::log(1.0 / (2.0 * samples));
  const double hi = std::log(0.5);
  for (int64_t pos = 50; pos < length - 50; pos += 1 + static_cast<int64_t>(u(rng) * 198)) {
    double af = std::exp(lo + (hi - lo) * u(rng));
    int r = static_cast<int>(u(rng) * 4);
    int a = (r + 1 + static_cast<int>(u(rng) * 3)) % 4;
    line = fmt::format("{}\t{}\t.\t{}\t{}\t.\tPASS\t.\tGT", kContig, pos, bases[r], bases[a]);
    bool any = false;
    for (int s = 0; s < samples; ++s) {
      int g = (u(rng) < af) + (u(rng) < af);
      const char* gt = g == 0 ? "0/0" : g == 1 ? "0/1" : "1/1";
      line += '\t';
      line += gt;
      if (g > 0) any = true;
      if (s < singles && g > 0) {
        single[s] << fmt::format("{}\t{}\t.\t{}\t{}\t.\tPASS\t.\tGT\t{}\n", kContig, pos, bases[r],
                                 bases[a], gt);
      }
    }
    if (!any) continue;
    joint << line << "\n";
    ++sites;
  }
  std::cout << fmt::format("generated {} sites x {} samples over {} bp\n", sites, samples, length);
  return 0;
}

std::vector<uint32_t> ReadSubset(const fs::path& file) {
  std::vector<uint32_t> out;
  std::ifstream in(file);
  std::string name;
  while (in >> name) out.push_back(static_cast<uint32_t>(std::stoul(name.substr(1))));
  return out;
}

// A region query decodes the chunks it needs from their stored bytes (as a server reading them
// from the blob store would, minus the I/O), then counts. Median wall and CPU seconds per
// repetition (on a shared machine the wall time also counts the time the process waited for a
// core, the CPU time does not) and the sites with AC > 0.
std::tuple<double, double, size_t> TimeRegion(const std::vector<variants::Chunk>& chunks,
                                              const std::vector<std::string>& encoded,
                                              int64_t start, int64_t span, int repeats,
                                              const Roaring& allowed) {
  std::vector<double> wall, cpu;
  size_t n = 0;
  const int64_t end = start + span - 1;
  for (int r = 0; r < repeats; ++r) {
    double w = Now(), c = ProcessCpu();
    std::vector<variants::Chunk> needed;
    for (size_t i = 0; i < chunks.size(); ++i) {
      if (chunks[i].end > start && chunks[i].start <= end) {
        needed.push_back(std::move(*variants::Decode(encoded[i])));
      }
    }
    auto counts = variants::Count(needed, kContig, start, end, allowed);
    wall.push_back(Now() - w);
    cpu.push_back(ProcessCpu() - c);
    n = counts.size();
  }
  std::sort(wall.begin(), wall.end());
  std::sort(cpu.begin(), cpu.end());
  return {wall[wall.size() / 2], cpu[cpu.size() / 2], n};
}

// Region rebuilds: each single-sample file ingested as its own batch (as the server does),
// region queries over the per-file chunks, then every region merged into one chunk
// (variants::Merge, what a rebuild job runs) and the same queries again. The AC of every
// listed site must agree before and after.
int Singles(const fs::path& dir, int samples, int64_t length, const fs::path& subset_file) {
  const char* chunk_env = std::getenv("CHUNK");
  const int64_t chunk_size = chunk_env ? std::stoll(chunk_env) : 100'000;
  std::vector<variants::Chunk> chunks;
  std::vector<std::string> encoded;
  double w0 = Now();
  for (int i = 0; i < samples; ++i) {
    auto reader = hts::GenotypeReader::Open(dir / fmt::format("S{}.bcf", i));
    if (!reader.ok()) {
      std::cerr << reader.error().message << "\n";
      return 1;
    }
    variants::ChunkBuilder builder(chunk_size);
    if (auto st = builder.Add(**reader, {static_cast<uint32_t>(i)}); !st.ok()) {
      std::cerr << st.error().message << "\n";
      return 1;
    }
    for (auto& c : builder.Finish()) {
      encoded.push_back(variants::Encode(c));
      chunks.push_back(std::move(c));
    }
  }
  const double ingest_wall = Now() - w0;
  std::cout << fmt::format("zengen singles ingest: {} files as {} batches, {} chunks, {:.2f} s "
                           "wall, {:.0f} samples/hour\n",
                           samples, samples, chunks.size(), ingest_wall,
                           samples / ingest_wall * 3600);
  Roaring allowed;
  for (uint32_t s : ReadSubset(subset_file)) allowed.add(s);
  allowed.runOptimize();
  std::map<int64_t, std::pair<double, double>> before;  // span -> median wall, CPU seconds
  int64_t ac_before = 0;
  for (const auto& c : variants::Count(chunks, kContig, 1, length, allowed)) ac_before += c.ac;
  for (int64_t span : {int64_t{10'000}, int64_t{1'000'000}}) {
    auto [median, cpu, n] = TimeRegion(chunks, encoded, length / 3, span, 11, allowed);
    std::cout << fmt::format("zengen singles region {} bp, one chunk per file: {:.6f} s median, "
                             "{:.6f} CPU-s median, {} sites with AC>0\n",
                             span, median, cpu, n);
    before[span] = {median, cpu};
  }
  // The rebuild: every region's chunks merged into one, then encoded (stored form).
  std::map<int64_t, std::vector<variants::Chunk>> by_region;
  for (auto& c : chunks) by_region[c.start].push_back(std::move(c));
  chunks.clear();
  encoded.clear();
  double mw = Now(), mc = ProcessCpu();
  for (auto& [start, parts] : by_region) {
    auto merged = variants::Merge(parts);
    if (!merged.ok()) {
      std::cerr << merged.error().message << "\n";
      return 1;
    }
    encoded.push_back(variants::Encode(*merged));
    chunks.push_back(std::move(*merged));
  }
  const double merge_wall = Now() - mw, merge_cpu = ProcessCpu() - mc;
  std::cout << fmt::format("zengen rebuild: {} regions merged in {:.3f} s wall, {:.3f} CPU-s "
                           "({:.4f} s per region)\n",
                           by_region.size(), merge_wall, merge_cpu,
                           merge_wall / static_cast<double>(by_region.size()));
  int64_t ac_after = 0;
  for (const auto& c : variants::Count(chunks, kContig, 1, length, allowed)) ac_after += c.ac;
  std::cout << fmt::format("zengen rebuild check: AC sum {} before, {} after: {}\n", ac_before,
                           ac_after, ac_before == ac_after ? "equal" : "DIFFERENT");
  for (int64_t span : {int64_t{10'000}, int64_t{1'000'000}}) {
    auto [median, cpu, n] = TimeRegion(chunks, encoded, length / 3, span, 21, allowed);
    const auto [bw, bc] = before.at(span);
    std::cout << fmt::format("zengen singles region {} bp, after the rebuild: {:.6f} s median, "
                             "{:.6f} CPU-s median, {} sites with AC>0; {:.1f}x faster, {:.1f}x "
                             "less CPU than before\n",
                             span, median, cpu, n, bw / median, bc / cpu);
  }
  return ac_before == ac_after ? 0 : 1;
}

int Query(const fs::path& dir, int samples, int64_t length, const fs::path& subset_file) {
  // Ingest through the real path.
  double c0 = CpuSeconds(), w0 = Now();
  auto reader = hts::GenotypeReader::Open(dir / "cohort.bcf");
  if (!reader.ok()) {
    std::cerr << reader.error().message << "\n";
    return 1;
  }
  std::vector<uint32_t> index(static_cast<size_t>(samples));
  for (int i = 0; i < samples; ++i) index[i] = static_cast<uint32_t>(i);
  const char* chunk_env = std::getenv("CHUNK");
  const int64_t chunk_size = chunk_env ? std::stoll(chunk_env) : 100'000;
  variants::ChunkBuilder builder(chunk_size);
  if (auto st = builder.Add(**reader, index); !st.ok()) {
    std::cerr << st.error().message << "\n";
    return 1;
  }
  std::vector<std::string> encoded;
  int64_t stored_bytes = 0, sites = 0;
  for (const auto& c : builder.Finish()) {
    encoded.push_back(variants::Encode(c));
    stored_bytes += static_cast<int64_t>(encoded.back().size());
    sites += static_cast<int64_t>(c.sites.size());
  }
  double ingest_cpu = CpuSeconds() - c0, ingest_wall = Now() - w0;
  std::vector<variants::Chunk> chunks;
  for (const auto& e : encoded) chunks.push_back(*variants::Decode(e));
  const double genotypes = static_cast<double>(sites) * samples;
  std::cout << fmt::format("zengen ingest: {} sites, {:.2f} s wall, {:.0f} samples/hour\n", sites,
                           ingest_wall, samples / ingest_wall * 3600);
  std::cout << fmt::format("zengen storage: {} bytes, {:.4f} bytes/genotype ({} chunks of {} bp)\n",
                           stored_bytes, stored_bytes / genotypes, encoded.size(), chunk_size);
  (void)ingest_cpu;

  Roaring allowed;
  for (uint32_t s : ReadSubset(subset_file)) allowed.add(s);
  allowed.runOptimize();
  for (int64_t span : {int64_t{10'000}, int64_t{1'000'000}}) {
    auto [median, cpu, n] = TimeRegion(chunks, encoded, length / 3, span, 21, allowed);
    std::cout << fmt::format("zengen region {} bp: {:.6f} s median (chunk decode + count), "
                             "{:.6f} CPU-s median, {} sites with AC>0\n",
                             span, median, cpu, n);
  }
  // Whole-chromosome AF: genotypes per CPU second.
  double c1 = CpuSeconds();
  int reps = 0;
  size_t listed = 0;
  while (CpuSeconds() - c1 < 1.0 || reps < 3) {
    listed = variants::Count(chunks, kContig, 1, length, allowed).size();
    ++reps;
  }
  double cpu = (CpuSeconds() - c1) / reps;
  std::cout << fmt::format("zengen whole-chromosome AF: {:.4f} CPU-s, {:.3e} genotypes/s/core ({} sites listed)\n",
                           cpu, genotypes / cpu, listed);
  return 0;
}

int Savvy(const fs::path& sav, const fs::path& subset_file) {
  double c0 = CpuSeconds();
  savvy::reader f(sav.string());
  const int64_t total_samples = static_cast<int64_t>(f.samples().size());
  // The subset as a per-sample flag, applied to the sparse GT entries. (Savvy 2.1's own
  // subset_samples gave allele counts that disagree with bcftools on these files.)
  std::vector<char> allowed(static_cast<size_t>(total_samples), 0);
  for (uint32_t s : ReadSubset(subset_file)) {
    if (s < allowed.size()) allowed[s] = 1;
  }
  int64_t records = 0, ac_sum = 0;
  savvy::variant var;
  savvy::compressed_vector<std::int8_t> gt;
  while (f >> var) {
    var.get_format("GT", gt);
    const size_t ploidy = total_samples ? gt.size() / static_cast<size_t>(total_samples) : 1;
    for (auto it = gt.begin(); it != gt.end(); ++it) {
      if (*it > 0 && allowed[it.offset() / ploidy]) ++ac_sum;
    }
    ++records;
  }
  double cpu = CpuSeconds() - c0;
  std::cout << fmt::format("savvy whole-chromosome AF: {:.4f} CPU-s, {:.3e} genotypes/s/core (AC sum {})\n",
                           cpu, static_cast<double>(records) * total_samples / cpu, ac_sum);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> a(argv + 1, argv + argc);
  if (a.size() >= 4 && a[0] == "generate") {
    return Generate(a[1], std::stoi(a[2]), std::stoll(a[3]), a.size() > 4 ? std::stoi(a[4]) : 0);
  }
  if (a.size() == 5 && a[0] == "query") return Query(a[1], std::stoi(a[2]), std::stoll(a[3]), a[4]);
  if (a.size() == 3 && a[0] == "savvy") return Savvy(a[1], a[2]);
  if (a.size() == 5 && a[0] == "singles") return Singles(a[1], std::stoi(a[2]), std::stoll(a[3]), a[4]);
  std::cerr << "usage: variants_bench generate DIR SAMPLES LENGTH [SINGLES] | query DIR SAMPLES "
               "LENGTH SUBSET_FILE | savvy FILE.sav SUBSET_FILE | singles DIR SAMPLES LENGTH SUBSET_FILE\n";
  return 1;
}
