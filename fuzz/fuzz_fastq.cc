// FASTQ ingest: the vectorised scanner, the general parser and chunked feeding must agree.
//
// Input: two bytes that seed the chunk sizes, then the upload (plain or gzip FASTQ). The same
// upload is ingested three ways — whole with the scanner, whole with the general parser only,
// and fed in pseudo-random pieces (1..97 bytes, on one or two threads) — and the three
// outcomes must be identical: the same error code naming the same record (or gzip member), or
// the same report. Any divergence aborts (issue 13: a rejection must not depend on how the
// bytes arrived).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "sequencing/fastq.h"

namespace {

using zengen::Result;
using zengen::sequencing::FastqIngest;
using zengen::sequencing::FastqOptions;
using zengen::sequencing::FastqReport;

std::string Describe(const Result<FastqReport>& r) {
  // why: an error must not depend on how the bytes arrived in its code and in what it names
  // (the record, or the gzip member), which is the message up to its first ':'; the excerpt
  // of the offending line after it may be cut at a chunk boundary.
  if (!r.ok()) {
    const std::string& m = r.error().message;
    return "error " + r.error().code + ": " + m.substr(0, m.find(':'));
  }
  const FastqReport& x = *r;
  std::string out = "ok reads=" + std::to_string(x.reads) + " bases=" + std::to_string(x.bases) +
                    " gc=" + std::to_string(x.gc_bases) + " n=" + std::to_string(x.n_bases) +
                    " q30=" + std::to_string(x.q30_bases) +
                    " min=" + std::to_string(x.min_length) + " max=" + std::to_string(x.max_length) +
                    " fastq_bytes=" + std::to_string(x.fastq_bytes) +
                    " members=" + std::to_string(x.gzip_members) +
                    " digest=" + std::to_string(x.name_digest) + " first=" + x.first_read_name +
                    " instrument=" + x.instrument_id + " sha256=" + x.sha256_hex +
                    " mean_q=" + std::to_string(x.mean_quality) + " positions=";
  for (double q : x.per_position_mean_quality) out += std::to_string(q) + ",";
  out += " lengths=";
  for (const auto& [len, n] : x.length_histogram) {
    out += std::to_string(len) + ":" + std::to_string(n) + ",";
  }
  return out;
}

void Expect(const Result<FastqReport>& a, const Result<FastqReport>& b, const char* what) {
  const std::string da = Describe(a), db = Describe(b);
  if (da == db) return;
  std::fprintf(stderr, "FASTQ divergence (%s):\n  %s\n  %s\n", what, da.c_str(), db.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  uint32_t state = data[0] | (static_cast<uint32_t>(data[1]) << 8);
  const std::string_view upload(reinterpret_cast<const char*>(data) + 2, size - 2);

  FastqOptions base;
  base.compute_md5 = false;
  base.max_header_bytes = 200;  // small, so that the fuzzer reaches the limit
  base.max_tracked_length = 64;

  FastqOptions scan = base;
  scan.vector_scan = true;
  const auto whole_scan = zengen::sequencing::IngestFastq(upload, scan);

  FastqOptions general = base;
  general.vector_scan = false;
  const auto whole_general = zengen::sequencing::IngestFastq(upload, general);
  Expect(whole_scan, whole_general, "scanner vs general parser");

  FastqOptions chunked_options = scan;
  chunked_options.threads = (state & 1) != 0 ? 2 : 1;
  FastqIngest chunked(chunked_options);
  size_t at = 0;
  zengen::Status fed = zengen::Status::Ok();
  while (at < upload.size() && fed.ok()) {
    state = state * 1103515245u + 12345u;
    const size_t n = std::min<size_t>(upload.size() - at, 1 + (state >> 16) % 97);
    fed = chunked.Feed(upload.substr(at, n));
    at += n;
  }
  const auto pieces = chunked.Finish();
  Expect(whole_scan, pieces, "whole vs chunked");
  return 0;
}
