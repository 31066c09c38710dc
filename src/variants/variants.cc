#include "variants/variants.h"

#include <htslib/faidx.h>
#include <zstd.h>

#include <algorithm>
#include <queue>
#include <bit>
#include <cctype>
#include <memory>
#include <unordered_map>
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

// Every set as a count and delta-coded members (zstd packs it best). A delta of 0 after the
// first member would repeat a member: Decode refuses it.
void PutList(std::string& out, std::span<const uint32_t> members) {
  PutVarint(out, members.size());
  uint32_t last = 0;
  for (uint32_t v : members) {
    PutVarint(out, v - last);
    last = v;
  }
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
  // Appends a delta-coded sorted list to pool; returns its size (bad on a malformed list).
  uint32_t List(std::vector<uint32_t>& pool) {
    uint64_t n = Varint();
    if (bad || n == 0) return 0;
    if (n > b.size()) {  // every member takes at least one byte
      bad = true;
      return 0;
    }
    uint64_t v = 0;
    for (uint64_t i = 0; i < n; ++i) {
      const uint64_t delta = Varint();
      v += delta;
      if (bad || v > UINT32_MAX || (i > 0 && delta == 0)) {
        bad = true;
        return 0;
      }
      pool.push_back(static_cast<uint32_t>(v));
    }
    return static_cast<uint32_t>(n);
  }
  Roaring Bitmap() {
    std::vector<uint32_t> m;
    const uint32_t n = List(m);
    Roaring r;
    if (!bad && n > 0) r.addMany(n, m.data());
    return r;
  }
};

constexpr std::string_view kMagic = "ZGVC1";
constexpr size_t kMaxDecoded = size_t{1} << 31;  // 2 GiB: no chunk is anywhere near this

}  // namespace

Result<ReferenceBases> OpenFastaReference(const std::filesystem::path& fasta) {
  std::shared_ptr<faidx_t> fai(fai_load(fasta.c_str()), [](faidx_t* f) {
    if (f != nullptr) fai_destroy(f);
  });
  if (fai == nullptr) {
    return InvalidArgument("unreadable_reference",
                           fmt::format("cannot read the indexed FASTA {}", fasta.filename().string()));
  }
  return ReferenceBases([fai](std::string_view chrom, int64_t start, int64_t end) {
    std::string out;
    const std::string name(chrom);
    if (start < 1 || end < start || !faidx_has_seq(fai.get(), name.c_str())) return out;
    hts_pos_t len = 0;
    char* seq = faidx_fetch_seq64(fai.get(), name.c_str(), start - 1, end - 1, &len);
    if (seq == nullptr) return out;
    if (len > 0) out.assign(seq, static_cast<size_t>(len));
    std::free(seq);
    for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
  });
}

Site LeftAlign(Site site, const ReferenceBases& reference) {
  if (!reference || site.ref.size() == site.alt.size()) return site;
  auto upper = [](std::string s) {
    for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
  };
  std::string r = upper(site.ref), a = upper(site.alt);
  const auto len = static_cast<int64_t>(r.size());
  if (reference(site.chrom, site.pos, site.pos + len - 1) != r) return site;
  int64_t p = site.pos;
  // Reference bases [window_start, p - 1], fetched in growing windows as the indel moves left.
  std::string window;
  int64_t window_start = p;
  auto base_before = [&](int64_t at) -> int {  // the base at position at - 1, or -1
    if (at <= 1) return -1;
    if (at - 1 < window_start) {
      const int64_t from = std::max<int64_t>(1, at - 1 - 255);
      window = reference(site.chrom, from, at - 1);
      window_start = from;
      if (static_cast<int64_t>(window.size()) != at - from) return -1;
    }
    return static_cast<unsigned char>(window[static_cast<size_t>(at - 1 - window_start)]);
  };
  // Tan, Abecasis and Kang (2015): drop a common last base; when an allele becomes empty,
  // extend both with the base to the left; until neither applies.
  while (true) {
    bool changed = false;
    if (!r.empty() && !a.empty() && r.back() == a.back()) {
      r.pop_back();
      a.pop_back();
      changed = true;
    }
    if (r.empty() || a.empty()) {
      const int b = base_before(p);
      if (b < 0) return site;  // at the contig's start: leave the site as written
      r.insert(r.begin(), static_cast<char>(b));
      a.insert(a.begin(), static_cast<char>(b));
      --p;
      changed = true;
    }
    if (!changed) break;
  }
  while (r.size() > 1 && a.size() > 1 && r.front() == a.front()) {
    r.erase(r.begin());
    a.erase(a.begin());
    ++p;
  }
  site.pos = p;
  site.ref = std::move(r);
  site.alt = std::move(a);
  return site;
}

std::vector<SplitAllele> Split(std::string_view chrom, int64_t pos, std::string_view ref,
                               const std::vector<std::string>& alts,
                               const ReferenceBases& reference) {
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
    Site site{std::string(chrom), p, std::string(r), std::string(a)};
    if (reference) site = LeftAlign(std::move(site), reference);
    out.push_back({std::move(site), static_cast<int>(k) + 1});
  }
  return out;
}

namespace {

// A dense form pays off when the set has more members than words in its span: one AND and
// popcount per word against one membership test per member.
void MakeDense(Chunk& chunk, CallSet& c) {
  c.words = 0;
  if (c.n < 2) return;
  const auto m = chunk.Members(c);
  const uint32_t lo = m.front() / 64, hi = m.back() / 64;
  if (hi - lo + 1 >= c.n) return;
  c.base = lo;
  c.words_at = static_cast<uint32_t>(chunk.words.size());
  c.words = hi - lo + 1;
  chunk.words.resize(chunk.words.size() + c.words, 0);
  uint64_t* w = chunk.words.data() + c.words_at;
  for (uint32_t v : chunk.Members(c)) w[v / 64 - lo] |= uint64_t{1} << (v % 64);
}

// The fixed-width bitsets of a small batch (Chunk::fixed). The span covers the batch's samples
// and every member (a decoded chunk may name members outside its batch: they count as in the
// other forms).
void MakeFixed(Chunk& chunk) {
  chunk.fixed.clear();
  chunk.fixed_base = 0;
  chunk.fixed_words = 0;
  if (chunk.sites.empty()) return;
  uint32_t lo = UINT32_MAX, hi = 0;
  if (!chunk.samples.isEmpty()) {
    lo = chunk.samples.minimum();
    hi = chunk.samples.maximum();
    if (hi / 64 - lo / 64 + 1 > kFixedWords) return;  // wide already: skip the members' scan
  }
  for (uint32_t v : chunk.members) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  if (lo > hi) return;  // no sample and no member: nothing to count
  const uint32_t span = hi / 64 - lo / 64 + 1;
  if (span > kFixedWords) return;
  const uint32_t w = std::bit_ceil(span);
  chunk.fixed_base = lo / 64;
  chunk.fixed_words = w;
  chunk.fixed.assign(chunk.sites.size() * 3 * w, 0);
  uint64_t* out = chunk.fixed.data();
  for (const auto& s : chunk.sites) {
    for (const CallSet* c : {&s.het, &s.hom, &s.nocall}) {
      for (uint32_t v : chunk.Members(*c)) out[v / 64 - chunk.fixed_base] |= uint64_t{1} << (v % 64);
      out += w;
    }
  }
}

}  // namespace

void Prepare(Chunk& chunk) {
  chunk.words.clear();
  for (auto& s : chunk.sites) {
    MakeDense(chunk, s.het);
    MakeDense(chunk, s.hom);
    s.nocall.words = 0;
  }
  MakeFixed(chunk);
}

std::string Encode(const Chunk& chunk) {
  std::string raw;
  PutBytes(raw, chunk.chrom);
  PutVarint(raw, static_cast<uint64_t>(chunk.start));
  PutVarint(raw, static_cast<uint64_t>(chunk.end));
  {
    std::vector<uint32_t> samples(chunk.samples.cardinality());
    chunk.samples.toUint32Array(samples.data());
    PutList(raw, samples);
  }
  PutVarint(raw, chunk.sites.size());
  int64_t last = chunk.start;
  for (const auto& s : chunk.sites) {
    PutVarint(raw, static_cast<uint64_t>(s.site.pos - last));
    last = s.site.pos;
    PutBytes(raw, s.site.ref);
    PutBytes(raw, s.site.alt);
    PutList(raw, chunk.Members(s.het));
    PutList(raw, chunk.Members(s.hom));
    PutList(raw, chunk.Members(s.nocall));
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
  c.members.reserve(raw_size / 2);
  auto list = [&](CallSet& cs) {
    cs.at = static_cast<uint32_t>(c.members.size());
    cs.n = in.List(c.members);
  };
  for (uint64_t i = 0; i < count; ++i) {
    SiteCalls s;
    pos += static_cast<int64_t>(in.Varint());
    s.site.chrom = c.chrom;
    s.site.pos = pos;
    s.site.ref = in.Bytes();
    s.site.alt = in.Bytes();
    list(s.het);
    list(s.hom);
    list(s.nocall);
    if (in.bad) return bad(fmt::format("site {} is truncated", i + 1));
    if (i > 0 && !(c.sites.back().site < s.site)) {
      return bad(fmt::format("site {} is out of order", i + 1));
    }
    c.sites.push_back(std::move(s));
  }
  if (!in.b.empty()) return bad("trailing bytes");
  Prepare(c);
  return c;
}

ChunkBuilder::ChunkBuilder(int64_t chunk_size, ReferenceBases reference)
    : chunk_size_(std::max<int64_t>(chunk_size, 1)), reference_(std::move(reference)) {}

void ChunkBuilder::AddRecord(const hts::GenotypeRecord& record,
                             const std::vector<uint32_t>& sample_index) {
  for (uint32_t s : sample_index) samples_.add(s);
  auto split = Split(record.chrom, record.pos, record.ref, record.alts, reference_);
  for (const auto& sa : split) {
    int64_t region = (sa.site.pos - 1) / chunk_size_;
    auto& sites = regions_[{sa.site.chrom, region}];
    Calls& calls = sites[sa.site];
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
    auto put = [&c](const Roaring& r) {
      CallSet cs;
      cs.at = static_cast<uint32_t>(c.members.size());
      cs.n = static_cast<uint32_t>(r.cardinality());
      c.members.resize(c.members.size() + cs.n);
      r.toUint32Array(c.members.data() + cs.at);
      return cs;
    };
    for (auto& [site, calls] : sites) {
      // A sample both called and a no-call at one site (two records) counts as called.
      calls.nocall -= calls.het;
      calls.nocall -= calls.hom;
      SiteCalls sc;
      sc.site = site;
      sc.het = put(calls.het);
      sc.hom = put(calls.hom);
      sc.nocall = put(calls.nocall);
      c.sites.push_back(std::move(sc));
    }
    Prepare(c);
    out.push_back(std::move(c));
  }
  regions_.clear();
  return out;
}

Result<Chunk> Merge(std::span<const Chunk> chunks) {
  if (chunks.empty()) return InvalidArgument("no_chunks", "nothing to merge");
  const Chunk& first = chunks.front();
  uint64_t listed = 0;
  Chunk out;
  out.chrom = first.chrom;
  out.start = first.start;
  out.end = first.end;
  for (const Chunk& c : chunks) {
    if (c.chrom != first.chrom || c.start != first.start || c.end != first.end) {
      return InvalidArgument("region_mismatch",
                             fmt::format("chunk {}:{}-{} is not region {}:{}-{}", c.chrom, c.start,
                                         c.end, first.chrom, first.start, first.end));
    }
    out.samples |= c.samples;
    listed += c.samples.cardinality();
  }
  if (out.samples.cardinality() != listed) {
    return InvalidArgument("overlapping_batches", "two of the chunks share a sample");
  }
  // A k-way walk over the chunks' sorted sites; each site's sets are the union of the holders'.
  struct Cursor {
    const Chunk* chunk;
    size_t at;
  };
  std::vector<Cursor> cursors;
  size_t total_sites = 0, total_members = 0;
  for (const Chunk& c : chunks) {
    if (!c.sites.empty()) cursors.push_back({&c, 0});
    total_sites += c.sites.size();
    total_members += c.members.size();
  }
  out.sites.reserve(total_sites);
  out.members.reserve(total_members);
  auto later = [](const Cursor& a, const Cursor& b) {
    return b.chunk->sites[b.at].site < a.chunk->sites[a.at].site;
  };
  std::priority_queue<Cursor, std::vector<Cursor>, decltype(later)> heap(later, std::move(cursors));
  std::vector<std::pair<const Chunk*, const SiteCalls*>> holders;
  while (!heap.empty()) {
    holders.clear();
    const Site site = heap.top().chunk->sites[heap.top().at].site;
    while (!heap.empty() && heap.top().chunk->sites[heap.top().at].site == site) {
      Cursor cur = heap.top();
      heap.pop();
      holders.emplace_back(cur.chunk, &cur.chunk->sites[cur.at]);
      if (++cur.at < cur.chunk->sites.size()) heap.push(cur);
    }
    SiteCalls merged;
    merged.site = site;
    for (CallSet SiteCalls::*kind : {&SiteCalls::het, &SiteCalls::hom, &SiteCalls::nocall}) {
      CallSet& set = merged.*kind;
      set.at = static_cast<uint32_t>(out.members.size());
      for (const auto& [chunk, calls] : holders) {
        const auto m = chunk->Members(calls->*kind);
        out.members.insert(out.members.end(), m.begin(), m.end());
      }
      set.n = static_cast<uint32_t>(out.members.size() - set.at);
      // Each holder's run is sorted and the batches are disjoint: sorting the concatenation
      // gives the sorted union.
      if (holders.size() > 1) std::sort(out.members.begin() + set.at, out.members.end());
    }
    out.sites.push_back(std::move(merged));
  }
  Prepare(out);
  return out;
}

namespace {

uint64_t Mix(uint64_t x) {  // splitmix64's finaliser
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

}  // namespace

uint64_t Fingerprint(std::span<const Chunk> chunks) {
  uint64_t sum = 0;
  for (const Chunk& c : chunks) {
    const uint64_t region = Mix(std::hash<std::string>{}(c.chrom) ^ Mix(static_cast<uint64_t>(c.start)));
    for (uint32_t s : c.samples) sum += Mix(region ^ Mix(s));
    for (const SiteCalls& sc : c.sites) {
      const uint64_t site = Mix(region ^ Mix(static_cast<uint64_t>(sc.site.pos)) ^
                                Mix(std::hash<std::string>{}(sc.site.ref) * 3 +
                                    std::hash<std::string>{}(sc.site.alt)));
      uint64_t kind = 1;
      for (const CallSet* set : {&sc.het, &sc.hom, &sc.nocall}) {
        const uint64_t k = Mix(site + kind++);
        for (uint32_t m : c.Members(*set)) sum += Mix(k ^ (uint64_t{m} << 8));
      }
    }
  }
  return sum;
}

namespace {

// Walks the sites of chrom in [start, end] across the chunks of every batch, in site order,
// calling fn(site, the (chunk, calls) of each batch holding it). Batches hold disjoint
// samples, so counts over them add up; nothing is copied. One batch (the common case of a
// joint cohort, and every region one batch alone covers) walks its sites directly.
struct Held {
  const Chunk* chunk;
  const SiteCalls* calls;
};

// run(chunk, first, stop), when given, is offered each chunk's run of sites in the common
// case (no two batches' chunks overlap in position) and returns true when it handled the run
// itself; otherwise fn is called per site.
struct NoRun {
  bool operator()(const Chunk&, const SiteCalls*, const SiteCalls*) const { return false; }
};

template <typename Fn, typename Run = NoRun>
void ForEachSite(std::span<const Chunk> chunks, std::string_view chrom, int64_t start,
                 int64_t end, Fn&& fn, Run&& run = {}) {
  struct Cursor {
    const Chunk* chunk;
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
    if (first != last) cursors.push_back({&c, &*first, &*first + (last - first)});
  }
  std::vector<Held> here;
  // Chunks of one batch cover disjoint regions: walk them in region order while no two
  // cursors overlap in position.
  std::sort(cursors.begin(), cursors.end(), [](const Cursor& a, const Cursor& b) {
    return a.at->site.pos < b.at->site.pos;
  });
  bool disjoint = true;
  for (size_t i = 1; i < cursors.size(); ++i) {
    disjoint = disjoint && (cursors[i - 1].stop - 1)->site.pos < cursors[i].at->site.pos;
  }
  if (disjoint) {
    here.resize(1);
    for (const auto& cur : cursors) {
      if (run(*cur.chunk, cur.at, cur.stop)) continue;
      for (const SiteCalls* s = cur.at; s != cur.stop; ++s) {
        here[0] = {cur.chunk, s};
        fn(s->site, std::span<const Held>(here));
      }
    }
    return;
  }
  while (!cursors.empty()) {
    const Site* min = &cursors[0].at->site;
    for (const auto& cur : cursors) {
      if (cur.at->site < *min) min = &cur.at->site;
    }
    here.clear();
    for (const auto& cur : cursors) {
      if (cur.at->site == *min) here.push_back({cur.chunk, cur.at});
    }
    fn(*min, std::span<const Held>(here));  // before the cursors move on: min points into a chunk
    for (const Held& h : here) {
      for (auto& cur : cursors) {
        if (cur.at == h.calls) ++cur.at;
      }
    }
    std::erase_if(cursors, [](const Cursor& c) { return c.at == c.stop; });
  }
}

// The allowed set as a bit array over the cohort's index space.
std::vector<uint64_t> BitArray(const Roaring& allowed) {
  std::vector<uint64_t> bits(allowed.isEmpty() ? 0 : allowed.maximum() / 64 + 1, 0);
  for (uint32_t v : allowed) bits[v / 64] |= uint64_t{1} << (v % 64);
  return bits;
}

// |set ∧ allowed|: a word-wise AND and popcount for a dense set, else one test per member.
// why: Debian's x86-64 baseline has no POPCNT instruction, so std::popcount is a library call
// there; a clone for CPUs with POPCNT is picked at load time.
#if defined(__x86_64__) && defined(__GNUC__)
[[gnu::target_clones("popcnt", "default")]]
#endif
int64_t AllowedIn(const Chunk& chunk, const CallSet& c, const std::vector<uint64_t>& bits) {
  int64_t n = 0;
  if (c.words != 0) {
    const uint64_t* w = chunk.words.data() + c.words_at;
    const size_t stop = std::min<size_t>(bits.size(), size_t{c.base} + c.words);
    for (size_t i = c.base; i < stop; ++i) n += std::popcount(w[i - c.base] & bits[i]);
    return n;
  }
  const uint32_t* m = chunk.members.data() + c.at;
  const size_t size = bits.size();
  for (uint32_t i = 0; i < c.n; ++i) {
    const uint32_t v = m[i];
    const size_t word = v / 64;
    n += word < size ? static_cast<int64_t>(bits[word] >> (v % 64) & 1) : 0;
  }
  return n;
}

// Counts a run of sites [first, stop) of a chunk with fixed-width bitsets of W words, given
// the allowed bits of the same W words: per site 3·W ANDs and popcounts, no call and no branch
// on the sets' sizes.
template <uint32_t W>
[[gnu::always_inline]] inline void CountFixed(const Chunk& c, size_t first, size_t stop,
                                              const uint64_t* allowed, int64_t present,
                                              std::vector<SiteCount>& out) {
  const uint64_t* f = c.fixed.data() + first * 3 * W;
  for (size_t i = first; i < stop; ++i, f += 3 * W) {
    int64_t het = 0, hom = 0;
    for (uint32_t k = 0; k < W; ++k) {
      het += std::popcount(f[k] & allowed[k]);
      hom += std::popcount(f[W + k] & allowed[k]);
    }
    if (het + hom == 0) continue;
    int64_t nocall = 0;
    for (uint32_t k = 0; k < W; ++k) nocall += std::popcount(f[2 * W + k] & allowed[k]);
    out.emplace_back(c.sites[i].site, het + 2 * hom, 2 * (present - nocall), het, hom);
  }
}

// why: as AllowedIn; one dispatch per run of sites, not per set.
#if defined(__x86_64__) && defined(__GNUC__)
[[gnu::target_clones("popcnt", "default")]]
#endif
void CountFixedRun(const Chunk& c, size_t first, size_t stop, const std::vector<uint64_t>& bits,
                   int64_t present, std::vector<SiteCount>& out) {
  uint64_t allowed[kFixedWords] = {};
  for (uint32_t k = 0; k < c.fixed_words; ++k) {
    const size_t word = size_t{c.fixed_base} + k;
    allowed[k] = word < bits.size() ? bits[word] : 0;
  }
  switch (c.fixed_words) {
    case 1: CountFixed<1>(c, first, stop, allowed, present, out); break;
    case 2: CountFixed<2>(c, first, stop, allowed, present, out); break;
    case 4: CountFixed<4>(c, first, stop, allowed, present, out); break;
    case 8: CountFixed<8>(c, first, stop, allowed, present, out); break;
    default: break;  // MakeFixed makes no other width
  }
}

// How many sites the chunks of chrom hold in [start, end] (a site in two batches counts twice).
size_t SitesInRange(std::span<const Chunk> chunks, std::string_view chrom, int64_t start,
                    int64_t end) {
  size_t n = 0;
  for (const auto& c : chunks) {
    if (c.chrom != chrom || c.end <= start || c.start > end) continue;
    auto first = std::lower_bound(c.sites.begin(), c.sites.end(), start,
                                  [](const SiteCalls& s, int64_t p) { return s.site.pos < p; });
    auto last = std::upper_bound(first, c.sites.end(), end,
                                 [](int64_t p, const SiteCalls& s) { return p < s.site.pos; });
    n += static_cast<size_t>(last - first);
  }
  return n;
}

}  // namespace

std::vector<SiteCount> Count(std::span<const Chunk> chunks, std::string_view chrom,
                             int64_t start, int64_t end, const Roaring& allowed) {
  // Every allowed sample is a cohort sample: called at every site (bcftools merge -0), also
  // where its batch has no chunk in the region.
  const int64_t present = static_cast<int64_t>(allowed.cardinality());
  // The allowed set as bits, built once per query: O(1) membership and word-wise AND.
  const std::vector<uint64_t> bits = BitArray(allowed);
  std::vector<SiteCount> out;
  out.reserve(SitesInRange(chunks, chrom, start, end));
  ForEachSite(chunks, chrom, start, end,
              [&](const Site& site, std::span<const Held> calls) __attribute__((always_inline)) {
    int64_t het = 0, hom = 0, nocall = 0;
    for (const Held& h : calls) {
      het += AllowedIn(*h.chunk, h.calls->het, bits);
      hom += AllowedIn(*h.chunk, h.calls->hom, bits);
    }
    if (het + 2 * hom == 0) return;
    for (const Held& h : calls) nocall += AllowedIn(*h.chunk, h.calls->nocall, bits);
    out.emplace_back(site, het + 2 * hom, 2 * (present - nocall), het, hom);
  }, [&](const Chunk& c, const SiteCalls* first, const SiteCalls* stop) {
    if (c.fixed_words == 0) return false;
    CountFixedRun(c, static_cast<size_t>(first - c.sites.data()),
                  static_cast<size_t>(stop - c.sites.data()), bits, present, out);
    return true;
  });
  return out;
}

std::vector<SiteCount> CountEvery(std::span<const Chunk> chunks, std::string_view chrom,
                                  int64_t start, int64_t end, const Roaring& allowed) {
  const int64_t present = static_cast<int64_t>(allowed.cardinality());
  const std::vector<uint64_t> bits = BitArray(allowed);
  std::vector<SiteCount> out;
  out.reserve(SitesInRange(chunks, chrom, start, end));
  ForEachSite(chunks, chrom, start, end, [&](const Site& site, std::span<const Held> calls) {
    int64_t het = 0, hom = 0, nocall = 0;
    for (const Held& h : calls) {
      het += AllowedIn(*h.chunk, h.calls->het, bits);
      hom += AllowedIn(*h.chunk, h.calls->hom, bits);
      nocall += AllowedIn(*h.chunk, h.calls->nocall, bits);
    }
    out.emplace_back(site, het + 2 * hom, 2 * (present - nocall), het, hom);
  });
  return out;
}

std::vector<SiteGenotypes> Genotypes(std::span<const Chunk> chunks, std::string_view chrom,
                                     int64_t start, int64_t end,
                                     const std::vector<uint32_t>& samples) {
  Roaring allowed;
  for (uint32_t s : samples) allowed.add(s);
  const std::vector<uint64_t> bits = BitArray(allowed);
  // Each sample's slot in `samples` (a sample listed twice keeps its first slot and copies it).
  std::unordered_map<uint32_t, size_t> slot;
  for (size_t i = 0; i < samples.size(); ++i) slot.emplace(samples[i], i);
  const std::vector<int> base(samples.size(), 0);  // not listed at a site: homozygous reference
  std::vector<SiteGenotypes> out;
  ForEachSite(chunks, chrom, start, end, [&](const Site& site, std::span<const Held> calls) {
    int64_t carriers = 0;
    for (const Held& h : calls) {
      carriers += AllowedIn(*h.chunk, h.calls->het, bits) + AllowedIn(*h.chunk, h.calls->hom, bits);
    }
    if (carriers == 0) return;
    SiteGenotypes g{site, base};
    auto mark = [&](const Chunk& c, const CallSet& cs, int value) {
      for (uint32_t v : c.Members(cs)) {
        if (auto it = slot.find(v); it != slot.end()) g.genotypes[it->second] = value;
      }
    };
    // A no-call, then het, then hom: a later kind wins, as for one record.
    for (const Held& h : calls) mark(*h.chunk, h.calls->nocall, -1);
    for (const Held& h : calls) mark(*h.chunk, h.calls->het, 1);
    for (const Held& h : calls) mark(*h.chunk, h.calls->hom, 2);
    if (slot.size() != samples.size()) {
      for (size_t i = 0; i < samples.size(); ++i) g.genotypes[i] = g.genotypes[slot.at(samples[i])];
    }
    out.push_back(std::move(g));
  });
  return out;
}

}  // namespace zengen::variants
