#include "variants/variants.h"

#include <zstd.h>

#include <algorithm>
#include <bit>
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

// Small sets (most sites of a cohort are rare) as a count and delta-coded members; larger ones
// as CRoaring's portable serialisation.
constexpr uint64_t kListMax = UINT32_MAX;  // every set as a delta list: zstd packs it best

void PutBitmap(std::string& out, const Roaring& r) {
  uint64_t n = r.cardinality();
  PutVarint(out, n);
  if (n == 0) return;
  if (n <= kListMax) {
    uint32_t last = 0;
    for (uint32_t v : r) {
      PutVarint(out, v - last);
      last = v;
    }
    return;
  }
  Roaring copy = r;
  copy.runOptimize();
  std::string buf(copy.getSizeInBytes(true), '\0');
  copy.write(buf.data(), true);
  PutBytes(out, buf);
}

struct In {
  std::string_view b;
  bool bad = false;
  std::vector<uint32_t> members;  // scratch for Bitmap
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
    uint64_t n = Varint();
    if (bad || n == 0) return {};
    if (n <= kListMax) {
      if (n > b.size()) {  // every member takes at least one byte
        bad = true;
        return {};
      }
      members.resize(n);
      uint64_t v = 0;
      for (uint64_t i = 0; i < n; ++i) {
        v += Varint();
        if (bad || v > UINT32_MAX) {
          bad = true;
          return {};
        }
        members[i] = static_cast<uint32_t>(v);
      }
      Roaring r;
      r.addMany(n, members.data());
      return r;
    }
    auto bytes = Bytes();
    if (bad) return {};
    try {
      Roaring r = Roaring::readSafe(bytes.data(), bytes.size());
      if (r.cardinality() != n) bad = true;
      return r;
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

namespace {

constexpr uint64_t kDenseMin = 64;  // carriers from which a dense copy pays off

DenseSet ToDense(const Roaring& r) {
  DenseSet d;
  if (r.cardinality() < kDenseMin) return d;
  uint32_t lo = r.minimum() / 64, hi = r.maximum() / 64;
  d.base = lo;
  d.words.assign(hi - lo + 1, 0);
  for (uint32_t v : r) d.words[v / 64 - lo] |= uint64_t{1} << (v % 64);
  return d;
}

}  // namespace

void Prepare(Chunk& chunk) {
  for (auto& s : chunk.sites) {
    s.het_dense = ToDense(s.het);
    s.hom_dense = ToDense(s.hom);
  }
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
  Prepare(c);
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
    Prepare(c);
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

namespace {

// Walks the sites of chrom in [start, end] across the chunks of every batch, in site order,
// calling fn(site, calls of each batch holding it). Batches hold disjoint samples, so counts
// over them add up; nothing is copied.
template <typename Fn>
void ForEachSite(std::span<const Chunk> chunks, std::string_view chrom, int64_t start,
                 int64_t end, Fn&& fn) {
  struct Cursor {
    const SiteCalls* at;
    const SiteCalls* stop;
  };
  std::vector<Cursor> cursors;
  for (const auto& c : chunks) {
    if (c.chrom != chrom || c.end <= start || c.start > end) continue;
    auto first = std::lower_bound(c.sites.begin(), c.sites.end(), start,
                                  [](const SiteCalls& s, int64_t p) { return s.site.pos < p; });
    auto last = std::upper_bound(first, c.sites.end(), end,
                                 [](int64_t p, const SiteCalls& s) { return p < s.site.pos; });
    if (first != last) cursors.push_back({&*first, &*first + (last - first)});
  }
  std::vector<const SiteCalls*> here;
  while (!cursors.empty()) {
    const Site* min = &cursors[0].at->site;
    for (const auto& cur : cursors) {
      if (cur.at->site < *min) min = &cur.at->site;
    }
    here.clear();
    for (const auto& cur : cursors) {
      if (cur.at->site == *min) here.push_back(cur.at);
    }
    fn(*min, here);  // before the cursors move on: min points into a chunk
    for (const SiteCalls* h : here) {
      for (auto& cur : cursors) {
        if (cur.at == h) ++cur.at;
      }
    }
    std::erase_if(cursors, [](const Cursor& c) { return c.at == c.stop; });
  }
}

}  // namespace

std::vector<SiteCount> Count(std::span<const Chunk> chunks, std::string_view chrom,
                             int64_t start, int64_t end, const Roaring& allowed) {
  // Allowed samples present in the region's batches (each batch once, whatever its chunks).
  Roaring batch_samples;
  for (const auto& c : chunks) {
    if (c.chrom == chrom && c.end > start && c.start <= end) batch_samples |= c.samples;
  }
  const int64_t present = static_cast<int64_t>(batch_samples.and_cardinality(allowed));
  // The allowed set as a bit array over the cohort's index space, for O(1) membership and
  // word-wise AND with dense carrier sets.
  std::vector<uint64_t> bits(allowed.isEmpty() ? 0 : allowed.maximum() / 64 + 1, 0);
  for (uint32_t v : allowed) bits[v / 64] |= uint64_t{1} << (v % 64);
  auto allowed_in = [&](const Roaring& sparse, const DenseSet& dense) -> int64_t {
    if (!dense.empty()) {
      int64_t n = 0;
      size_t end_word = std::min(bits.size(), dense.base + dense.words.size());
      for (size_t w = dense.base; w < end_word; ++w) {
        n += std::popcount(dense.words[w - dense.base] & bits[w]);
      }
      return n;
    }
    int64_t n = 0;
    for (uint32_t v : sparse) {
      if (v / 64 < bits.size() && (bits[v / 64] >> (v % 64) & 1)) ++n;
    }
    return n;
  };
  std::vector<SiteCount> out;
  ForEachSite(chunks, chrom, start, end,
              [&](const Site& site, const std::vector<const SiteCalls*>& calls) {
                int64_t het = 0, hom = 0, nocall = 0;
                for (const SiteCalls* c : calls) {
                  het += allowed_in(c->het, c->het_dense);
                  hom += allowed_in(c->hom, c->hom_dense);
                }
                if (het + 2 * hom == 0) return;
                for (const SiteCalls* c : calls) nocall += allowed_in(c->nocall, DenseSet{});
                out.push_back(SiteCount{site, het + 2 * hom, 2 * (present - nocall), het, hom});
              });
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
