#include "sequencing/fastq.h"

#include "sequencing/fastq_scan.h"

#include <isa-l/igzip_lib.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cstdio>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>

namespace zengen::sequencing {
namespace {

std::string Hex(const unsigned char* p, unsigned n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(2 * n, '0');
  for (unsigned i = 0; i < n; ++i) {
    out[2 * i] = kDigits[p[i] >> 4];
    out[2 * i + 1] = kDigits[p[i] & 15];
  }
  return out;
}

class Digest {
 public:
  explicit Digest(const EVP_MD* md) : ctx_(EVP_MD_CTX_new()) {
    EVP_DigestInit_ex(ctx_, md, nullptr);
  }
  ~Digest() { EVP_MD_CTX_free(ctx_); }
  Digest(const Digest&) = delete;
  Digest& operator=(const Digest&) = delete;
  void Update(std::string_view b) { EVP_DigestUpdate(ctx_, b.data(), b.size()); }
  std::string FinalHex() {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    EVP_DigestFinal_ex(ctx_, out, &n);
    return Hex(out, n);
  }

 private:
  EVP_MD_CTX* ctx_;
};

std::string Printable(std::string_view s, size_t max = 40) {
  std::string out;
  for (char c : s.substr(0, max)) {
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f) {
      out += c;
    } else {
      static constexpr char kDigits[] = "0123456789abcdef";
      out += "\\x";
      out += kDigits[u >> 4];
      out += kDigits[u & 15];
    }
  }
  if (s.size() > max) out += "...";
  return out;
}

std::string CharName(unsigned char c) {
  if (c == '\r') return "carriage return";
  if (c >= 0x20 && c < 0x7f) return std::string("'") + static_cast<char>(c) + "'";
  return "byte " + Printable(std::string_view(reinterpret_cast<const char*>(&c), 1));
}

// Offset of the first byte that does not belong to a well-formed UTF-8 sequence (RFC 3629: no
// overlong forms, no surrogates, nothing above U+10FFFF), or npos.
size_t FirstInvalidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len = 0;
    unsigned char lo = 0x80, hi = 0xbf;  // allowed range of the second byte
    if (c >= 0xc2 && c <= 0xdf) {
      len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      if (c == 0xe0) lo = 0xa0;
      if (c == 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      if (c == 0xf0) lo = 0x90;
      if (c == 0xf4) hi = 0x8f;
    } else {
      return i;
    }
    if (i + len > s.size()) return i;
    const auto c1 = static_cast<unsigned char>(s[i + 1]);
    if (c1 < lo || c1 > hi) return i;
    for (size_t k = 2; k < len; ++k) {
      const auto ck = static_cast<unsigned char>(s[i + k]);
      if (ck < 0x80 || ck > 0xbf) return i;
    }
    i += len;
  }
  return std::string_view::npos;
}

// Byte classes of the sequence alphabet.
constexpr std::array<bool, 256> MakeSeqTable() {
  std::array<bool, 256> t{};
  for (char c : std::string_view("ACGTUNRYKMSWBDHV")) {
    t[static_cast<unsigned char>(c)] = true;
    t[static_cast<unsigned char>(c - 'A' + 'a')] = true;
  }
  return t;
}
constexpr std::array<bool, 256> kSeqOk = MakeSeqTable();

constexpr unsigned char kQualMin = '!';
constexpr unsigned char kQualMax = '~';
constexpr unsigned char kQ30 = '!' + 30;

// ---------------------------------------------------------------------------------------------
// Record parser: a state machine over line fragments. A fragment is the part of a line that
// lies in one buffer; the per-line state (lengths, header text) carries across buffers.
class Parser {
 public:
  explicit Parser(const FastqOptions& o)
      : max_header_(o.max_header_bytes),
        max_tracked_(o.max_tracked_length),
        pos_sum_(static_cast<size_t>(o.max_tracked_length), 0),
        len_counts_(static_cast<size_t>(o.max_tracked_length) + 1, 0),
        pos16_(static_cast<size_t>((o.max_tracked_length + 31) / 32 * 32 + 32), 0),
        scan_(o.vector_scan ? scan::RegularRecordScanner() : nullptr) {
    header_.reserve(256);
    t_.max_header = max_header_;
    t_.max_tracked = max_tracked_;
    t_.len_counts = len_counts_.data();
    t_.len_counts_size = static_cast<int64_t>(len_counts_.size());
    t_.pos16 = pos16_.data();
  }
  Parser(const Parser&) = delete;
  Parser& operator=(const Parser&) = delete;

  bool failed() const { return error_.has_value(); }
  const Error& error() const { return *error_; }

  // Parses the next uncompressed bytes. Returns false once an error is recorded.
  bool Consume(std::string_view data) {
    if (error_) return false;
    bytes_ += static_cast<int64_t>(data.size());
    const char* p = data.data();
    const char* end = p + data.size();
    while (p < end) {
      if (scan_ && state_ == kHeader && at_line_start_ && t_.reads > 0) {
        // Regular records in bulk; the state machine below takes whatever the scanner leaves.
        for (;;) {
          size_t used = scan_(reinterpret_cast<const unsigned char*>(p),
                              reinterpret_cast<const unsigned char*>(end), t_);
          p += used;
          if (t_.pos16_records < scan::kPos16FlushEvery) break;
          FoldPositions();
        }
        if (p == end) break;
      }
      const char* nl = static_cast<const char*>(std::memchr(p, '\n', end - p));
      const char* frag_end = nl ? nl : end;
      if (!Fragment(reinterpret_cast<const unsigned char*>(p),
                    static_cast<size_t>(frag_end - p))) {
        return false;
      }
      if (!nl) break;
      if (!EndLine()) return false;
      p = nl + 1;
    }
    return true;
  }

  // Called at end of input. Returns false (with error set) if the data ends mid-record.
  bool End() {
    if (error_) return false;
    if (state_ == kQual && qual_len_ == seq_len_) {
      // Last record without a final newline.
      return EndLine();
    }
    if (state_ == kHeader && at_line_start_) {
      if (t_.reads == 0) {
        return Fail("fastq_empty", "the FASTQ holds no records");
      }
      return true;
    }
    const char* where = state_ == kHeader                              ? "header line"
                        : state_ == kSeq && at_line_start_ && seq_lines_ > 0 ? "'+' line"
                        : state_ == kSeq                                   ? "sequence line"
                        : state_ == kPlus ? "'+' line"
                                          : "quality line";
    std::string detail;
    if (state_ == kQual) {
      detail = " (quality length " + std::to_string(qual_len_) +
               " differs from sequence length " + std::to_string(seq_len_) + ")";
    }
    return Fail("fastq_truncated",
                std::string("file ends inside the record, in its ") + where + detail);
  }

  void Fill(FastqReport& r) const {
    r.fastq_bytes = bytes_;
    r.reads = t_.reads;
    r.bases = t_.bases;
    r.gc_bases = static_cast<int64_t>(t_.gc);
    r.n_bases = static_cast<int64_t>(t_.n);
    r.q30_bases = static_cast<int64_t>(t_.q30);
    uint64_t qsum = t_.qual_sum;
    if (t_.bases > 0) {
      double b = static_cast<double>(t_.bases);
      r.mean_quality = static_cast<double>(qsum) / b;
      r.q30_fraction = static_cast<double>(r.q30_bases) / b;
      r.gc_fraction = static_cast<double>(r.gc_bases) / b;
      r.n_rate = static_cast<double>(r.n_bases) / b;
    }
    for (size_t len = 0; len < len_counts_.size(); ++len) {
      if (len_counts_[len] > 0) r.length_histogram[static_cast<int64_t>(len)] = len_counts_[len];
    }
    for (const auto& [len, n] : long_counts_) r.length_histogram[len] += n;
    if (!r.length_histogram.empty()) {
      r.min_length = r.length_histogram.begin()->first;
      r.max_length = r.length_histogram.rbegin()->first;
    }
    // Reads covering position i (0-based) = reads with length > i.
    int64_t tracked = std::min<int64_t>(r.max_length, max_tracked_);
    r.per_position_mean_quality.assign(static_cast<size_t>(tracked), 0.0);
    int64_t covering = 0;
    for (const auto& [len, n] : long_counts_) covering += n;
    for (int64_t len = static_cast<int64_t>(len_counts_.size()) - 1; len > tracked; --len) {
      covering += len_counts_[static_cast<size_t>(len)];
    }
    for (int64_t i = tracked - 1; i >= 0; --i) {
      covering += len_counts_[static_cast<size_t>(i + 1)];
      if (covering > 0) {
        r.per_position_mean_quality[static_cast<size_t>(i)] =
            static_cast<double>(pos_sum_[static_cast<size_t>(i)] + pos16_[static_cast<size_t>(i)]) /
            static_cast<double>(covering);
      }
    }
    r.first_read_name = first_name_;
    r.instrument_id = instrument_id_;
    r.name_digest = t_.name_digest;
  }

 private:
  enum State { kHeader, kSeq, kPlus, kQual };

  int64_t record() const { return t_.reads + 1; }

  bool Fail(std::string code, std::string message) {
    error_ = InvalidArgument(std::move(code),
                             "record " + std::to_string(record()) + ": " + message);
    return false;
  }

  bool Fragment(const unsigned char* p, size_t n) {
    if (n == 0) return true;
    bool line_start = at_line_start_;
    at_line_start_ = false;
    switch (state_) {
      case kHeader: {
        if (line_start) {
          if (p[0] != '@') {
            if (p[0] == '\r') return FailCr();
            return Fail("fastq_bad_header",
                        "expected a header line starting with '@', found a line starting with " +
                            CharName(p[0]));
          }
          ++p;
          --n;
        }
        if (static_cast<int64_t>(header_.size() + n) > max_header_) {
          return Fail("fastq_header_too_long",
                      "header line longer than " + std::to_string(max_header_) + " bytes");
        }
        header_.append(reinterpret_cast<const char*>(p), n);
        return true;
      }
      case kSeq: {
        if (line_start && !kSeqOk[p[0]]) {
          if (p[0] == '+') {  // the '+' line ends the (possibly wrapped) sequence
            state_ = kPlus;
            at_line_start_ = true;
            return Fragment(p, n);
          }
          if (seq_lines_ > 0) {
            if (p[0] == '\r') return FailCr();
            return Fail("fastq_missing_plus",
                        "expected '+' line after the sequence, found a line starting with " +
                            CharName(p[0]));
          }
        }
        // Counters instead of a byte histogram: no store-to-load chain on runs of one base.
        // Fast path (vectorisable): upper-case ACGTN only. Anything else takes the table path.
        bool ok = true;
        uint64_t gc = 0, nn = 0, other = 0;
        for (size_t i = 0; i < n; ++i) {
          unsigned char c = p[i];
          gc += (c == 'G') | (c == 'C');
          nn += c == 'N';
          other += (c != 'A') & (c != 'C') & (c != 'G') & (c != 'T') & (c != 'N');
        }
        if (other != 0) {
          gc = nn = 0;
          for (size_t i = 0; i < n; ++i) {
            unsigned char c = p[i] | 0x20;
            gc += (c == 'g') | (c == 'c');
            nn += c == 'n';
            ok &= kSeqOk[p[i]];
          }
        }
        t_.gc += gc;
        t_.n += nn;
        if (!ok) {
          for (size_t i = 0; i < n; ++i) {
            if (!kSeqOk[p[i]]) {
              if (p[i] == '\r') return FailCr();
              return Fail("fastq_bad_sequence",
                          "invalid character " + CharName(p[i]) + " in sequence at position " +
                              std::to_string(seq_len_ + static_cast<int64_t>(i) + 1));
            }
          }
        }
        seq_len_ += static_cast<int64_t>(n);
        return true;
      }
      case kPlus: {
        if (line_start) {
          if (p[0] != '+') {
            if (p[0] == '\r') return FailCr();
            return Fail("fastq_missing_plus", "expected '+' line after the sequence");
          }
          ++p;
          --n;
        }
        if (static_cast<int64_t>(plus_.size() + n) > max_header_) {
          return Fail("fastq_plus_mismatch", "'+' line does not repeat the header");
        }
        plus_.append(reinterpret_cast<const char*>(p), n);
        return true;
      }
      case kQual: {
        int64_t pos = qual_len_;
        if (qual_line_start_len_ > 0 && pos + static_cast<int64_t>(n) > seq_len_) {
          // A continuation line that overflows: the quality ended on the previous line. The
          // bytes before the overflow are checked first, so that the error is the one the first
          // offending byte gives whatever the fragment boundaries (issue 13 item 13).
          const auto fits = static_cast<size_t>(std::max<int64_t>(0, seq_len_ - pos));
          for (size_t i = 0; i < fits; ++i) {
            if (static_cast<unsigned char>(p[i] - kQualMin) > kQualMax - kQualMin) {
              return FailBadQuality(p[i], pos + static_cast<int64_t>(i));
            }
          }
          return FailLengthMismatch(qual_line_start_len_);
        }
        // Vectorisable reductions (binned qualities repeat one character for long runs).
        unsigned bad = 0;
        uint64_t sum = 0, q30 = 0;
        for (size_t i = 0; i < n; ++i) {
          unsigned char c = p[i];
          bad |= static_cast<unsigned char>(c - kQualMin) > kQualMax - kQualMin;
          sum += c;
          q30 += c >= kQ30;
        }
        bool ok = bad == 0;
        t_.qual_sum += sum - static_cast<uint64_t>(n) * kQualMin;
        t_.q30 += q30;
        if (!ok) {
          for (size_t i = 0; i < n; ++i) {
            if (static_cast<unsigned char>(p[i] - kQualMin) > kQualMax - kQualMin) {
              return FailBadQuality(p[i], pos + static_cast<int64_t>(i));
            }
          }
        }
        if (pos < max_tracked_) {
          size_t lim = static_cast<size_t>(std::min<int64_t>(max_tracked_ - pos, n));
          uint64_t* sums = pos_sum_.data() + pos;
          for (size_t i = 0; i < lim; ++i) sums[i] += p[i] - kQualMin;
        }
        qual_len_ += static_cast<int64_t>(n);
        return true;
      }
    }
    return true;
  }

  bool EndLine() {
    bool empty_line = at_line_start_;
    at_line_start_ = true;
    switch (state_) {
      case kHeader: {
        if (empty_line) {
          return Fail("fastq_bad_header", "empty line where a header line was expected");
        }
        if (!header_.empty() && header_.back() == '\r') return FailCr();
        for (char c : header_) {
          auto u = static_cast<unsigned char>(c);
          if ((u < 0x20 && c != '\t') || u == 0x7f) {
            if (c == '\r') return FailCr();
            return Fail("fastq_bad_header", "control character " + CharName(u) + " in header");
          }
        }
        if (const size_t bad = FirstInvalidUtf8(header_); bad != std::string::npos) {
          return Fail("fastq_header_not_utf8",
                      "header is not valid UTF-8 (" +
                          CharName(static_cast<unsigned char>(header_[bad])) + " at column " +
                          std::to_string(bad + 2) + ")");
        }
        std::string_view name = NormaliseReadName(header_);
        if (name.empty() || header_[0] == ' ' || header_[0] == '\t') {
          return Fail("fastq_bad_header", "header has an empty read name");
        }
        if (t_.reads == 0) {
          first_name_ = std::string(name);
          int colons = static_cast<int>(std::count(name.begin(), name.end(), ':'));
          if (colons >= 6) instrument_id_ = std::string(name.substr(0, name.find(':')));
        }
        t_.name_digest = scan::FoldName(t_.name_digest, name);
        state_ = kSeq;
        seq_len_ = 0;
        seq_lines_ = 0;
        return true;
      }
      case kSeq:
        ++seq_lines_;  // wrapped sequence continues until a line starting with '+'
        return true;
      case kPlus: {
        if (empty_line) {
          return Fail("fastq_missing_plus",
                      "expected '+' line after the sequence, found an empty line");
        }
        if (!plus_.empty()) {
          if (plus_.back() == '\r') return FailCr();
          if (plus_ != header_ && plus_ != NormaliseReadName(header_) &&
              plus_ != header_.substr(0, header_.find_first_of(" \t"))) {
            return Fail("fastq_plus_mismatch", "'+' line text '" + Printable(plus_) +
                                                   "' does not repeat the header");
          }
          plus_.clear();
        }
        state_ = kQual;
        qual_len_ = 0;
        return true;
      }
      case kQual: {
        if (qual_len_ < seq_len_) {  // wrapped quality continues on the next line
          qual_line_start_len_ = qual_len_;
          return true;
        }
        if (qual_len_ > seq_len_) {
          return FailLengthMismatch(qual_line_start_len_ > 0 ? qual_line_start_len_ : qual_len_);
        }
        qual_line_start_len_ = 0;
        ++t_.reads;
        t_.bases += seq_len_;
        if (seq_len_ < static_cast<int64_t>(len_counts_.size())) {
          ++len_counts_[static_cast<size_t>(seq_len_)];
        } else {
          ++long_counts_[seq_len_];
        }
        header_.clear();
        state_ = kHeader;
        return true;
      }
    }
    return true;
  }

  // Moves the scanner's 16-bit per-position sums into the 64-bit ones.
  void FoldPositions() {
    for (size_t i = 0; i < pos_sum_.size(); ++i) pos_sum_[i] += pos16_[i];
    std::fill(pos16_.begin(), pos16_.end(), uint16_t{0});
    t_.pos16_records = 0;
  }

  bool FailLengthMismatch(int64_t qual_len) {
    return Fail("fastq_length_mismatch", "quality length " + std::to_string(qual_len) +
                                             " differs from sequence length " +
                                             std::to_string(seq_len_));
  }

  // offset: 0-based position of the byte in the record's quality.
  bool FailBadQuality(unsigned char c, int64_t offset) {
    if (c == '\r') return FailCr();
    return Fail("fastq_bad_quality", "invalid quality character " + CharName(c) +
                                         " at position " + std::to_string(offset + 1) +
                                         " (allowed: '!'..'~', Phred+33)");
  }

  bool FailCr() {
    return Fail("fastq_crlf",
                "carriage return found: CRLF (Windows) line endings are not accepted; "
                "convert the file to LF line endings");
  }

  static std::string_view AsView(const unsigned char* p, size_t n) {
    return {reinterpret_cast<const char*>(p), n};
  }

  const int64_t max_header_;
  const int64_t max_tracked_;
  State state_ = kHeader;
  bool at_line_start_ = true;
  std::string header_;
  std::string plus_;
  int64_t seq_len_ = 0;
  int64_t qual_len_ = 0;
  int64_t seq_lines_ = 0;
  int64_t qual_line_start_len_ = 0;
  int64_t bytes_ = 0;
  std::vector<uint64_t> pos_sum_;
  std::vector<int64_t> len_counts_;
  std::map<int64_t, int64_t> long_counts_;
  std::vector<uint16_t> pos16_;  // the scanner's per-position sums, folded every 600 records
  scan::ScanFn scan_;
  scan::Totals t_;
  std::string first_name_;
  std::string instrument_id_;
  std::optional<Error> error_;
};

// ---------------------------------------------------------------------------------------------
// Bounded queue of uploaded bytes between the feeding thread and the decoding thread.
struct Chunk {
  std::string data;
  bool end = false;
};

class ChunkQueue {
 public:
  explicit ChunkQueue(size_t capacity) : capacity_(capacity) {}
  void Push(Chunk c) {
    std::unique_lock lock(mu_);
    not_full_.wait(lock, [&] { return q_.size() < capacity_; });
    q_.push_back(std::move(c));
    not_empty_.notify_one();
  }
  Chunk Pop() {
    std::unique_lock lock(mu_);
    not_empty_.wait(lock, [&] { return !q_.empty(); });
    Chunk c = std::move(q_.front());
    q_.pop_front();
    not_full_.notify_one();
    return c;
  }
  // Recycled buffers, so steady state allocates nothing.
  std::string TakeFree() {
    std::lock_guard lock(mu_);
    if (free_.empty()) return {};
    std::string s = std::move(free_.back());
    free_.pop_back();
    return s;
  }
  void GiveFree(std::string s) {
    std::lock_guard lock(mu_);
    if (free_.size() < capacity_ + 2) free_.push_back(std::move(s));
  }

 private:
  const size_t capacity_;
  std::mutex mu_;
  std::condition_variable not_full_, not_empty_;
  std::deque<Chunk> q_;
  std::vector<std::string> free_;
};

constexpr size_t kOutBuffer = 256 * 1024;  // inflated bytes handed to the parser at a time
constexpr size_t kInBuffer = 256 * 1024;   // uploaded bytes per queue entry (threads == 2)
constexpr size_t kQueueDepth = 8;
// why: the inflater's verdict on a damaged stream depends on where its input calls end (given
// the whole tail at once it names the bad symbol; given it in pieces it may wait for bits that
// never come and the stream reads as truncated). Compressed bytes therefore reach it in slices
// fixed by their offset in the upload, never by how they arrived.
constexpr size_t kInflateSlice = 64 * 1024;

}  // namespace

std::string_view NormaliseReadName(std::string_view h) {
  size_t sp = h.find_first_of(" \t");
  std::string_view name = h.substr(0, sp);
  if (name.size() >= 2 && name[name.size() - 2] == '/' &&
      (name.back() == '1' || name.back() == '2')) {
    name.remove_suffix(2);
  }
  return name;
}

// ---------------------------------------------------------------------------------------------
class FastqIngest::Impl {
 public:
  explicit Impl(FastqOptions o)
      : opts_(std::move(o)), sha_(EVP_sha256()), md5_(EVP_md5()), parser_(opts_) {
    if (opts_.threads >= 2) {
      queue_ = std::make_unique<ChunkQueue>(kQueueDepth);
      worker_ = std::thread([this] { WorkerLoop(); });
    }
  }
  ~Impl() { StopWorker(); }

  // Caller's thread: hashes, sink, then the bytes go to Decode (inline, or on the worker).
  Status Feed(std::string_view bytes) {
    if (error_) return *error_;
    if (finished_) return Fail(Internal("fastq_finished", "Feed after Finish"));
    if (bytes.empty()) return Status::Ok();
    uploaded_ += static_cast<int64_t>(bytes.size());
    sha_.Update(bytes);
    if (opts_.compute_md5) md5_.Update(bytes);
    if (opts_.sink) {
      Status s = opts_.sink(bytes);
      if (!s.ok()) return Fail(s.error());
    }
    if (!queue_) {
      if (!Decode(bytes)) return Fail(*decode_error_);
      return Status::Ok();
    }
    while (!bytes.empty()) {  // bounded pieces, so memory stays constant
      if (worker_failed_.load(std::memory_order_acquire)) {
        StopWorker();  // join before reading the worker's error
        return Fail(*decode_error_);
      }
      size_t n = std::min(bytes.size(), kInBuffer);
      std::string buf = queue_->TakeFree();
      buf.assign(bytes.data(), n);
      queue_->Push(Chunk{std::move(buf), false});
      bytes.remove_prefix(n);
    }
    return Status::Ok();
  }

  Result<FastqReport> Finish() {
    if (finished_) return Internal("fastq_finished", "Finish called twice");
    finished_ = true;
    StopWorker();  // every queued byte decoded; the decode state is ours again
    if (decode_error_) return *decode_error_;  // earlier in the stream than anything below
    if (error_) return *error_;
    if (mode_ == Mode::kUnknown && !sniff_.empty()) {
      mode_ = Mode::kPlain;
      std::string first = std::move(sniff_);
      if (!Process(first)) return *decode_error_;
    }
    if (!FlushSlices()) return *decode_error_;
    if (mode_ == Mode::kGzip && !member_done_) {
      return InvalidArgument("gzip_truncated",
                             "gzip stream truncated: " + MemberName() + " ends without its trailer");
    }
    if (uploaded_ == 0) return InvalidArgument("fastq_empty", "the upload is empty (0 bytes)");
    if (!parser_.End()) return parser_.error();
    FastqReport r;
    r.gzip = mode_ == Mode::kGzip;
    r.gzip_members = members_;
    r.uploaded_bytes = uploaded_;
    r.sha256_hex = sha_.FinalHex();
    if (opts_.compute_md5) r.md5_hex = md5_.FinalHex();
    parser_.Fill(r);
    return r;
  }

 private:
  enum class Mode { kUnknown, kPlain, kGzip };

  Status Fail(Error e) {
    if (!error_) error_ = std::move(e);
    return *error_;
  }

  // Decoding side (the worker's thread when threads == 2): format sniffing, inflate, parse.
  // Returns false once decode_error_ is set; later calls do nothing.
  bool Decode(std::string_view bytes) {
    if (decode_error_) return false;
    if (mode_ == Mode::kUnknown) {
      sniff_.append(bytes);
      if (sniff_.size() < 2 && sniff_[0] == '\x1f') return true;
      mode_ = (sniff_.size() >= 2 && sniff_[0] == '\x1f' && sniff_[1] == '\x8b') ? Mode::kGzip
                                                                                : Mode::kPlain;
      if (mode_ == Mode::kGzip) isal_inflate_init(&inflate_);
      std::string first = std::move(sniff_);
      return mode_ == Mode::kGzip ? InflateInSlices(first) : Process(first);
    }
    return mode_ == Mode::kGzip ? InflateInSlices(bytes) : Process(bytes);
  }

  // Hands compressed bytes to Process in kInflateSlice pieces aligned to the upload's start;
  // the remainder waits in stage_ for more bytes or for FlushSlices at the end.
  bool InflateInSlices(std::string_view bytes) {
    if (!stage_.empty()) {
      const size_t take = std::min(kInflateSlice - stage_.size(), bytes.size());
      stage_.append(bytes.substr(0, take));
      bytes.remove_prefix(take);
      if (stage_.size() < kInflateSlice) return true;
      if (!Process(stage_)) return false;
      stage_.clear();
    }
    while (bytes.size() >= kInflateSlice) {
      if (!Process(bytes.substr(0, kInflateSlice))) return false;
      bytes.remove_prefix(kInflateSlice);
    }
    stage_.assign(bytes);
    return true;
  }

  bool FlushSlices() {
    if (decode_error_) return false;
    if (mode_ != Mode::kGzip || stage_.empty()) return true;
    std::string last = std::move(stage_);
    stage_.clear();
    return Process(last);
  }

  bool Parse(std::string_view data) {
    if (parser_.Consume(data)) return true;
    decode_error_ = parser_.error();
    return false;
  }

  bool Process(std::string_view in) {
    if (mode_ == Mode::kPlain) {
      out_total_ += static_cast<int64_t>(in.size());
      return Parse(in);
    }
    inflate_.next_in = reinterpret_cast<uint8_t*>(const_cast<char*>(in.data()));
    inflate_.avail_in = static_cast<uint32_t>(in.size());
    if (out_.size() < kOutBuffer) out_.resize(kOutBuffer);
    for (;;) {
      if (member_done_) {
        if (inflate_.avail_in == 0) return true;
        // Another gzip member (multi-member gzip, BGZF blocks).
        uint8_t* next = inflate_.next_in;
        uint32_t avail = inflate_.avail_in;
        isal_inflate_reset(&inflate_);
        inflate_.next_in = next;
        inflate_.avail_in = avail;
        member_done_ = false;
        member_start_ = compressed_in_;
      }
      inflate_.crc_flag = ISAL_GZIP;
      inflate_.next_out = reinterpret_cast<uint8_t*>(out_.data());
      inflate_.avail_out = static_cast<uint32_t>(out_.size());
      const uint32_t avail_before = inflate_.avail_in;
      int rc = isal_inflate(&inflate_);
      compressed_in_ += avail_before - inflate_.avail_in;
      size_t produced = out_.size() - inflate_.avail_out;
      if (produced > 0) {
        out_total_ += static_cast<int64_t>(produced);
        // why: how much of a corrupt member inflates before the corruption is detected depends
        // on how its bytes arrived, so a FASTQ error counts only once its member has passed its
        // CRC; until then the member keeps inflating (unparsed) and a gzip error wins.
        if (!member_error_ && !parser_.Consume(std::string_view(out_.data(), produced))) {
          member_error_ = parser_.error();
        }
      }
      if (rc < 0) {
        decode_error_ = GzipError(rc);
        return false;
      }
      if (inflate_.block_state == ISAL_BLOCK_FINISH) {
        ++members_;
        member_done_ = true;
        if (member_error_) {
          decode_error_ = std::move(member_error_);
          return false;
        }
        continue;
      }
      if (inflate_.avail_in == 0 && inflate_.avail_out > 0) return true;
    }
  }

  // Names the member being inflated by its number and where it starts in the upload: both
  // independent of how the bytes arrived (the inflated offset at which a corruption shows is
  // not).
  std::string MemberName() const {
    return "member " + std::to_string(members_ + 1) + " (starting at byte " +
           std::to_string(member_start_) + " of the upload)";
  }

  Error GzipError(int rc) {
    std::string what;
    switch (rc) {
      case ISAL_INVALID_WRAPPER:
        what = members_ > 0 ? "bytes after the last gzip member are not a gzip header"
                            : "invalid gzip header";
        break;
      case ISAL_UNSUPPORTED_METHOD: what = "unsupported compression method"; break;
      case ISAL_INCORRECT_CHECKSUM: what = "CRC-32 or length in the gzip trailer does not match"; break;
      case ISAL_INVALID_BLOCK: what = "invalid deflate block"; break;
      case ISAL_INVALID_SYMBOL: what = "invalid deflate symbol"; break;
      case ISAL_INVALID_LOOKBACK: what = "invalid back-reference distance"; break;
      default: what = "inflate error " + std::to_string(rc); break;
    }
    return InvalidArgument("gzip_corrupt", "corrupt gzip: " + what + " in " + MemberName());
  }

  void WorkerLoop() {
    for (;;) {
      Chunk c = queue_->Pop();
      if (c.end) return;
      if (!decode_error_ && !Decode(c.data)) worker_failed_.store(true, std::memory_order_release);
      queue_->GiveFree(std::move(c.data));
    }
  }

  void StopWorker() {
    if (worker_.joinable()) {
      queue_->Push(Chunk{{}, true});
      worker_.join();
    }
  }

  FastqOptions opts_;
  // Caller's side.
  Digest sha_;
  Digest md5_;
  int64_t uploaded_ = 0;
  bool finished_ = false;
  std::optional<Error> error_;
  std::unique_ptr<ChunkQueue> queue_;
  std::thread worker_;
  std::atomic<bool> worker_failed_{false};
  // Decoding side: touched by the worker between its start and StopWorker, else by the caller.
  Parser parser_;
  Mode mode_ = Mode::kUnknown;
  std::string sniff_;
  inflate_state inflate_{};
  bool member_done_ = false;
  int64_t members_ = 0;
  int64_t out_total_ = 0;
  int64_t compressed_in_ = 0;  // gzip bytes consumed by the inflater
  int64_t member_start_ = 0;   // offset in the upload of the member being inflated
  std::optional<Error> member_error_;  // the parser's error in a member not yet verified
  std::string out_;
  std::string stage_;  // compressed bytes short of the next kInflateSlice boundary
  std::optional<Error> decode_error_;
};

FastqIngest::FastqIngest(FastqOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}
FastqIngest::~FastqIngest() = default;
Status FastqIngest::Feed(std::string_view bytes) { return impl_->Feed(bytes); }
Result<FastqReport> FastqIngest::Finish() { return impl_->Finish(); }

Result<FastqReport> IngestFastq(std::string_view bytes, FastqOptions options) {
  FastqIngest ingest(std::move(options));
  constexpr size_t kStep = 1 << 20;
  for (size_t off = 0; off < bytes.size(); off += kStep) {
    Status s = ingest.Feed(bytes.substr(off, kStep));
    if (!s.ok()) return s.error();
  }
  return ingest.Finish();
}

// ---------------------------------------------------------------------------------------------
Status CheckPair(const FastqReport& r1, const FastqReport& r2) {
  if (r1.reads != r2.reads) {
    return InvalidArgument("pair_read_count_mismatch",
                           "paired files differ in read count: R1 has " +
                               std::to_string(r1.reads) + " reads, R2 has " +
                               std::to_string(r2.reads));
  }
  if (r1.name_digest != r2.name_digest) {
    std::string detail = r1.first_read_name != r2.first_read_name
                             ? " (first reads: '" + Printable(r1.first_read_name, 200) +
                                   "' vs '" + Printable(r2.first_read_name, 200) + "')"
                             : "";
    return InvalidArgument("pair_name_mismatch",
                           "paired files have the same read count but their read names "
                           "(without /1, /2 and comments) differ in at least one position" +
                               detail);
  }
  return Status::Ok();
}

namespace {
std::string Trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}
std::string Fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}
}  // namespace

bool IsStandardInstrument(std::string_view model, const std::vector<std::string>& standard) {
  std::string m = Trimmed(model);
  if (m.empty()) return false;
  return std::any_of(standard.begin(), standard.end(),
                     [&](const std::string& s) { return Trimmed(s) == m; });
}

QcVerdict Evaluate(const FastqReport& r, const QcThresholds& t,
                   std::string_view instrument_model) {
  QcVerdict v;
  auto fail = [&](std::string reason) {
    v.pass = false;
    v.reasons.push_back(std::move(reason));
  };
  if (r.reads < t.min_reads) {
    fail("reads " + std::to_string(r.reads) + " < minimum " + std::to_string(t.min_reads));
  }
  if (r.bases < t.min_bases) {
    fail("bases " + std::to_string(r.bases) + " < minimum " + std::to_string(t.min_bases));
  }
  if (r.mean_quality < t.min_mean_quality) {
    fail("mean quality " + Fixed(r.mean_quality, 2) + " < minimum " +
         Fixed(t.min_mean_quality, 2));
  }
  if (r.q30_fraction < t.min_q30_fraction) {
    fail("Q30 fraction " + Fixed(r.q30_fraction, 4) + " < minimum " +
         Fixed(t.min_q30_fraction, 4));
  }
  if (r.n_rate > t.max_n_rate) {
    fail("N rate " + Fixed(r.n_rate, 6) + " > maximum " + Fixed(t.max_n_rate, 6));
  }
  if (r.gc_fraction < t.min_gc_fraction || r.gc_fraction > t.max_gc_fraction) {
    fail("GC fraction " + Fixed(r.gc_fraction, 4) + " outside [" + Fixed(t.min_gc_fraction, 4) +
         ", " + Fixed(t.max_gc_fraction, 4) + "]");
  }
  v.instrument_model = std::string(instrument_model);
  v.non_standard_instrument = !IsStandardInstrument(instrument_model, t.standard_instruments);
  return v;
}

}  // namespace zengen::sequencing
