#include "variants/variants.h"

#include <zstd.h>

#include <algorithm>
#include <fmt/format.h>

namespace zengen::variants {
namespace {

bool Usable(std::string_view allele) {
  if (allele.empty() || allele == "*" || allele == ".") return false;
  if (allele.front() == '<' || allele.find_first_of("[]") != std::string_view::npos) return false;
  return true;
}

// ---- encoding helpers ----

void PutVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void PutBytes(std::string& out, std::string_view b) {
  PutVarint(out, b.size());
  out.append(b);
}

void PutBitmap(std::string& out, const Roaring& r) {
  Roaring copy = r;
  copy.runOptimize();
  std::string buf(copy.getSizeInBytes(true), '\0');
  copy.write(buf.data(), true);
  PutBytes(out, buf);
}

struct In {
  std::string_view b;
  bool bad = false;
  uint64_t Varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (b.empty()) {
        bad = true;
        return 0;
      }
      auto c = static_cast<unsigned char>(b.front());
      b.remove_prefix(1);
      v |= static_cast<uint64_t>(c & 0x7f) << shift;
      if ((c & 0x80) == 0) return v;
    }
    bad = true;
    return 0;
  }
  std::string_view Bytes() {
    uint64_t n = Varint();
    if (bad || n > b.size()) {
      bad = true;
      return {};
    }
    auto out = b.substr(0, n);
    b.remove_prefix(n);
    return out;
  }
  Roaring Bitmap() {
    auto bytes = Bytes();
    if (bad) return {};
    try {
      return Roaring::readSafe(bytes.data(), bytes.size());
    } catch (...) {
      bad = true;
      return {};
    }
  }
};

constexpr std::string_view kMagic = "ZGVC1";
constexpr size_t kMaxDecoded = size_t{1} << 31;  // 2 GiB: no chunk is anywhere near this

}  // namespace

std::vector<SplitAllele> Split(std::string_view chrom, int64_t pos, std::string_view ref,
                               const std::vector<std::string>& alts) {
  std::vector<SplitAllele> out;
  if (!Usable(ref)) return out;
  for (size_t k = 0; k < alts.size(); ++k) {
    std::string_view r = ref;
    std::string_view a = alts[k];
    if (!Usable(a) || a == r) continue;
    int64_t p = pos;
    // Trim the common suffix, then the common prefix, keeping one base in each.
    while (r.size() > 1 && a.size() > 1 && r.back() == a.back()) {
      r.remove_suffix(1);
      a.remove_suffix(1);
    }
    while (r.size() > 1 && a.size() > 1 && r.front() == a.front()) {
      r.remove_prefix(1);
      a.remove_prefix(1);
      ++p;
    }
    out.push_back({Site{std::string(chrom), p, std::string(r), std::string(a)},
                   static_cast<int>(k) + 1});
  }
  return out;
}

std::string Encode(const Chunk& chunk) {
  std::string raw;
  PutBytes(raw, chunk.chrom);
  PutVarint(raw, static_cast<uint64_t>(chunk.start));
  PutVarint(raw, static_cast<uint64_t>(chunk.end));
  PutBitmap(raw, chunk.samples);
  PutVarint(raw, chunk.sites.size());
  int64_t last = chunk.start;
  for (const auto& s : chunk.sites) {
    PutVarint(raw, static_cast<uint64_t>(s.site.pos - last));
    last = s.site.pos;
    PutBytes(raw, s.site.ref);
    PutBytes(raw, s.site.alt);
    PutBitmap(raw, s.het);
    PutBitmap(raw, s.hom);
    PutBitmap(raw, s.nocall);
  }
  std::string out(kMagic);
  PutVarint(out, raw.size());
  size_t bound = ZSTD_compressBound(raw.size());
  size_t head = out.size();
  out.resize(head + bound);
  size_t n = ZSTD_compress(out.data() + head, bound, raw.data(), raw.size(), 3);
  out.resize(head + n);  // ZSTD_compress cannot fail with a bound-sized buffer
  return out;
}

Result<Chunk> Decode(std::string_view bytes) {
  auto bad = [](std::string_view why) {
    return InvalidArgument("bad_chunk", fmt::format("variant chunk: {}", why));
  };
  if (bytes.substr(0, kMagic.size()) != kMagic) return bad("no ZGVC1 magic");
  In head{bytes.substr(kMagic.size())};
  uint64_t raw_size = head.Varint();
  if (head.bad || raw_size > kMaxDecoded) return bad("bad size");
  std::string raw(raw_size, '\0');
  size_t n = ZSTD_decompress(raw.data(), raw.size(), head.b.data(), head.b.size());
  if (ZSTD_isError(n) || n != raw_size) return bad("compressed data is corrupt");
  In in{raw};
  Chunk c;
  c.chrom = std::string(in.Bytes());
  c.start = static_cast<int64_t>(in.Varint());
  c.end = static_cast<int64_t>(in.Varint());
  c.samples = in.Bitmap();
  uint64_t count = in.Varint();
  if (in.bad || count > raw_size) return bad("truncated header");
  int64_t pos = c.start;
  c.sites.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    SiteCalls s;
    pos += static_cast<int64_t>(in.Varint());
    s.site = Site{c.chrom, pos, std::string(in.Bytes()), std::string(in.Bytes())};
    s.het = in.Bitmap();
    s.hom = in.Bitmap();
    s.nocall = in.Bitmap();
    if (in.bad) return bad(fmt::format("site {} is truncated", i + 1));
    c.sites.push_back(std::move(s));
  }
  if (!in.b.empty()) return bad("trailing bytes");
  return c;
}

ChunkBuilder::ChunkBuilder(int64_t chunk_size) : chunk_size_(std::max<int64_t>(chunk_size, 1)) {}

void ChunkBuilder::AddRecord(const hts::GenotypeRecord& record,
                             const std::vector<uint32_t>& sample_index) {
  for (uint32_t s : sample_index) samples_.add(s);
  auto split = Split(record.chrom, record.pos, record.ref, record.alts);
  for (const auto& sa : split) {
    int64_t region = (sa.site.pos - 1) / chunk_size_;
    auto& sites = regions_[{sa.site.chrom, region}];
    auto [it, inserted] = sites.try_emplace(sa.site);
    SiteCalls& calls = it->second;
    if (inserted) calls.site = sa.site;
    for (size_t i = 0; i < record.gt.size() && i < sample_index.size(); ++i) {
      const auto& g = record.gt[i];
      uint32_t idx = sample_index[i];
      if (g[0] < 0 || g[1] < 0) {
        calls.nocall.add(idx);
        continue;
      }
      int copies = (g[0] == sa.allele) + (g[1] == sa.allele);
      if (copies == 1) calls.het.add(idx);
      if (copies == 2) calls.hom.add(idx);
    }
  }
}

Status ChunkBuilder::Add(hts::GenotypeReader& reader, const std::vector<uint32_t>& sample_index) {
  if (reader.samples().size() != sample_index.size()) {
    return InvalidArgument("sample_map_mismatch",
                           fmt::format("the file has {} samples but {} cohort indices were given",
                                       reader.samples().size(), sample_index.size()));
  }
  for (uint32_t s : sample_index) samples_.add(s);
  hts::GenotypeRecord rec;
  for (;;) {
    ZG_ASSIGN_OR_RETURN(bool more, reader.Next(rec));
    if (!more) break;
    AddRecord(rec, sample_index);
  }
  return Status::Ok();
}

std::vector<Chunk> ChunkBuilder::Finish() {
  std::vector<Chunk> out;
  for (auto& [key, sites] : regions_) {
    if (sites.empty()) continue;
    Chunk c;
    c.chrom = key.first;
    c.start = key.second * chunk_size_ + 1;
    c.end = (key.second + 1) * chunk_size_ + 1;
    c.samples = samples_;
    c.sites.reserve(sites.size());
    for (auto& [site, calls] : sites) {
      // A sample both called and a no-call at one site (two records) counts as called.
      calls.nocall -= calls.het;
      calls.nocall -= calls.hom;
      c.sites.push_back(std::move(calls));
    }
    out.push_back(std::move(c));
  }
  regions_.clear();
  return out;
}

namespace {

struct Merged {
  Roaring het, hom, nocall;
};

// The chunks of chrom overlapping [start, end], and per site in range the union of their
// calls; also the union of the batches' samples.
std::map<Site, Merged> MergeRegion(std::span<const Chunk> chunks, std::string_view chrom,
                                   int64_t start, int64_t end, Roaring& batch_samples) {
  std::map<Site, Merged> sites;
  for (const auto& c : chunks) {
    if (c.chrom != chrom || c.end <= start || c.start > end) continue;
    batch_samples |= c.samples;
    auto first = std::lower_bound(c.sites.begin(), c.sites.end(), start,
                                  [](const SiteCalls& s, int64_t p) { return s.site.pos < p; });
    for (auto it = first; it != c.sites.end() && it->site.pos <= end; ++it) {
      Merged& m = sites[it->site];
      m.het |= it->het;
      m.hom |= it->hom;
      m.nocall |= it->nocall;
    }
  }
  return sites;
}

}  // namespace

std::vector<SiteCount> Count(std::span<const Chunk> chunks, std::string_view chrom,
                             int64_t start, int64_t end, const Roaring& allowed) {
  Roaring batch_samples;
  auto sites = MergeRegion(chunks, chrom, start, end, batch_samples);
  const int64_t present = static_cast<int64_t>(batch_samples.and_cardinality(allowed));
  std::vector<SiteCount> out;
  for (auto& [site, m] : sites) {
    SiteCount sc{site};
    sc.het = static_cast<int64_t>(m.het.and_cardinality(allowed));
    sc.hom = static_cast<int64_t>(m.hom.and_cardinality(allowed));
    sc.ac = sc.het + 2 * sc.hom;
    if (sc.ac == 0) continue;
    sc.an = 2 * (present - static_cast<int64_t>(m.nocall.and_cardinality(allowed)));
    out.push_back(std::move(sc));
  }
  return out;
}

std::vector<SiteGenotypes> Genotypes(std::span<const Chunk> chunks, std::string_view chrom,
                                     int64_t start, int64_t end,
                                     const std::vector<uint32_t>& samples) {
  Roaring allowed;
  for (uint32_t s : samples) allowed.add(s);
  Roaring batch_samples;
  auto sites = MergeRegion(chunks, chrom, start, end, batch_samples);
  std::vector<SiteGenotypes> out;
  for (auto& [site, m] : sites) {
    if (m.het.and_cardinality(allowed) + m.hom.and_cardinality(allowed) == 0) continue;
    SiteGenotypes g{site, {}};
    g.genotypes.reserve(samples.size());
    for (uint32_t s : samples) {
      int v = 0;
      if (!batch_samples.contains(s) || m.nocall.contains(s)) v = -1;
      if (m.het.contains(s)) v = 1;
      if (m.hom.contains(s)) v = 2;
      g.genotypes.push_back(v);
    }
    out.push_back(std::move(g));
  }
  return out;
}

}  // namespace zengen::variants
