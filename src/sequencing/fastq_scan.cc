#include "sequencing/fastq_scan.h"

#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#define ZG_SCAN_AVX2 1
#endif

namespace zengen::sequencing::scan {

uint64_t HashName(std::string_view name) {
  const char* s = name.data();
  size_t n = name.size();
  uint64_t h = 0xcbf29ce484222325ull ^ (n * 0x100000001b3ull);
  auto mix = [](uint64_t x) {
    x *= 0xff51afd7ed558ccdull;
    return x ^ (x >> 32);
  };
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, s, 8);
    h = mix(h ^ w);
    s += 8;
    n -= 8;
  }
  if (n > 0) {
    uint64_t w = 0;
    std::memcpy(&w, s, n);
    h = mix(h ^ w ^ 0x80);
  }
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}

#ifdef ZG_SCAN_AVX2
namespace {

#define ZG_AVX2 __attribute__((target("avx2,bmi,popcnt")))

// kTail + 32 - k: a 32-byte mask whose first k bytes are 0xff.
alignas(64) constexpr unsigned char kTail[64] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

ZG_AVX2 inline __m256i Load(const unsigned char* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}
ZG_AVX2 inline __m256i Splat(char c) { return _mm256_set1_epi8(c); }
ZG_AVX2 inline uint32_t Bits(__m256i v) { return static_cast<uint32_t>(_mm256_movemask_epi8(v)); }
ZG_AVX2 inline uint32_t Low(unsigned k) { return k >= 32 ? 0xffffffffu : (1u << k) - 1; }

// One regular record at p (p < end), or 0 when the record is not regular/complete.
ZG_AVX2 size_t ScanOne(const unsigned char* p, const unsigned char* end, Totals& t) {
  if (p[0] != '@') return 0;
  // Header: the first control or non-ASCII byte (tab excepted) must be its newline; the name
  // ends at the first space or tab.
  const unsigned char* h = p + 1;
  const __m256i c1f = Splat(0x1f);
  size_t hlen = 0, name_len = 0;
  bool have_name = false;
  for (size_t off = 0;; off += 32) {
    if (h + off + 32 > end || static_cast<int64_t>(off) > t.max_header) return 0;
    __m256i b = Load(h + off);
    __m256i ctrl =
        _mm256_or_si256(_mm256_andnot_si256(_mm256_cmpeq_epi8(b, Splat('\t')),
                                            _mm256_cmpeq_epi8(_mm256_min_epu8(b, c1f), b)),
                        _mm256_cmpeq_epi8(b, Splat(0x7f)));
    // Bytes >= 0x80 stop the scan too: the general parser checks that the header is UTF-8.
    uint32_t cm = Bits(ctrl) | Bits(b);
    uint32_t sm =
        Bits(_mm256_or_si256(_mm256_cmpeq_epi8(b, Splat(' ')), _mm256_cmpeq_epi8(b, Splat('\t'))));
    if (!have_name) {
      uint32_t before = cm ? (cm & (0u - cm)) - 1 : 0xffffffffu;
      if (sm & before) {
        name_len = off + static_cast<size_t>(__builtin_ctz(sm));
        have_name = true;
      }
    }
    if (cm) {
      unsigned at = static_cast<unsigned>(__builtin_ctz(cm));
      if (h[off + at] != '\n') return 0;
      hlen = off + at;
      break;
    }
  }
  if (static_cast<int64_t>(hlen) > t.max_header) return 0;
  if (!have_name) name_len = hlen;
  if (name_len >= 2 && h[name_len - 2] == '/' &&
      (h[name_len - 1] == '1' || h[name_len - 1] == '2')) {
    name_len -= 2;
  }
  if (name_len == 0) return 0;

  // Sequence: upper-case ACGTN up to the newline.
  const unsigned char* s = h + hlen + 1;
  size_t slen = 0;
  uint64_t gc = 0, nn = 0;
  for (size_t off = 0;; off += 32) {
    if (s + off + 32 > end) return 0;
    __m256i b = Load(s + off);
    __m256i cg =
        _mm256_or_si256(_mm256_cmpeq_epi8(b, Splat('C')), _mm256_cmpeq_epi8(b, Splat('G')));
    __m256i nb = _mm256_cmpeq_epi8(b, Splat('N'));
    __m256i ok = _mm256_or_si256(
        _mm256_or_si256(cg, nb),
        _mm256_or_si256(_mm256_cmpeq_epi8(b, Splat('A')), _mm256_cmpeq_epi8(b, Splat('T'))));
    uint32_t nl = Bits(_mm256_cmpeq_epi8(b, Splat('\n')));
    uint32_t valid = nl ? (nl & (0u - nl)) - 1 : 0xffffffffu;
    if ((Bits(ok) & valid) != valid) return 0;
    gc += static_cast<uint64_t>(__builtin_popcount(Bits(cg) & valid));
    nn += static_cast<uint64_t>(__builtin_popcount(Bits(nb) & valid));
    if (nl) {
      slen = off + static_cast<size_t>(__builtin_ctz(nl));
      break;
    }
  }
  if (slen == 0 || static_cast<int64_t>(slen) >= t.len_counts_size) return 0;

  // '+' line: bare, or repeating the header exactly.
  const unsigned char* plus = s + slen + 1;
  if (plus + 2 > end || plus[0] != '+') return 0;
  const unsigned char* q;
  if (plus[1] == '\n') {
    q = plus + 2;
  } else {
    if (plus + 2 + hlen > end || plus[1 + hlen] != '\n' || std::memcmp(plus + 1, h, hlen) != 0) {
      return 0;
    }
    q = plus + 2 + hlen;
  }

  // Quality: slen bytes in '!'..'~', then a newline; every 32-byte load stays before end.
  if (q + ((slen + 32) & ~size_t{31}) > end || q[slen] != '\n') return 0;
  const __m256i lo = Splat('!'), hi = Splat('~'), q30c = Splat('!' + 30);
  uint32_t bad = 0;
  uint64_t q30 = 0;
  __m256i sad = _mm256_setzero_si256();
  for (size_t off = 0; off < slen; off += 32) {
    size_t k = slen - off < 32 ? slen - off : 32;
    __m256i keep = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kTail + 32 - k));
    __m256i b = Load(q + off);
    uint32_t in = Low(static_cast<unsigned>(k));
    __m256i inside = _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_max_epu8(b, lo), b),
                                      _mm256_cmpeq_epi8(_mm256_min_epu8(b, hi), b));
    bad |= ~Bits(inside) & in;
    q30 += static_cast<uint64_t>(
        __builtin_popcount(Bits(_mm256_cmpeq_epi8(_mm256_max_epu8(b, q30c), b)) & in));
    sad = _mm256_add_epi64(sad, _mm256_sad_epu8(_mm256_and_si256(_mm256_sub_epi8(b, lo), keep),
                                                _mm256_setzero_si256()));
  }
  if (bad) return 0;
  // Per-position sums, only once the record is known to be valid.
  const size_t tracked = static_cast<size_t>(
      t.max_tracked < static_cast<int64_t>(slen) ? t.max_tracked : static_cast<int64_t>(slen));
  for (size_t off = 0; off < tracked; off += 32) {
    size_t k = tracked - off < 32 ? tracked - off : 32;
    __m256i phred =
        _mm256_and_si256(_mm256_sub_epi8(Load(q + off), lo),
                         _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kTail + 32 - k)));
    __m256i* acc = reinterpret_cast<__m256i*>(t.pos16 + off);
    _mm256_storeu_si256(acc, _mm256_add_epi16(_mm256_loadu_si256(acc),
                                              _mm256_cvtepu8_epi16(_mm256_castsi256_si128(phred))));
    _mm256_storeu_si256(acc + 1,
                        _mm256_add_epi16(_mm256_loadu_si256(acc + 1),
                                         _mm256_cvtepu8_epi16(_mm256_extracti128_si256(phred, 1))));
  }
  uint64_t qsum = static_cast<uint64_t>(_mm256_extract_epi64(sad, 0)) +
                  static_cast<uint64_t>(_mm256_extract_epi64(sad, 1)) +
                  static_cast<uint64_t>(_mm256_extract_epi64(sad, 2)) +
                  static_cast<uint64_t>(_mm256_extract_epi64(sad, 3));

  t.name_digest =
      FoldName(t.name_digest, std::string_view(reinterpret_cast<const char*>(h), name_len));
  ++t.reads;
  t.bases += static_cast<int64_t>(slen);
  t.gc += gc;
  t.n += nn;
  t.q30 += q30;
  t.qual_sum += qsum;
  ++t.len_counts[slen];
  ++t.pos16_records;
  return static_cast<size_t>(q + slen + 1 - p);
}

ZG_AVX2 size_t ScanAvx2(const unsigned char* p, const unsigned char* end, Totals& t) {
  const unsigned char* start = p;
  while (p < end && t.pos16_records < kPos16FlushEvery) {
    size_t used = ScanOne(p, end, t);
    if (used == 0) break;
    p += used;
  }
  return static_cast<size_t>(p - start);
}

}  // namespace
#endif

ScanFn RegularRecordScanner() {
#ifdef ZG_SCAN_AVX2
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt")) return &ScanAvx2;
#endif
  return nullptr;
}

}  // namespace zengen::sequencing::scan
