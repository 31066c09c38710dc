#include "ga4gh/slices.h"

#include <htslib/bgzf.h>
#include <htslib/hts.h>
#include <htslib/kstring.h>
#include <htslib/sam.h>
#include <htslib/tbx.h>
#include <htslib/vcf.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <sstream>

#include <fmt/format.h>

#include "crypto/crypt4gh.h"

namespace zengen::ga4gh {
namespace {

namespace c4gh = crypto::crypt4gh;

// An anonymous in-memory file htslib can open by path (/proc/self/fd/N).
class MemFile {
 public:
  static Result<MemFile> Create(std::string_view name, std::string_view bytes) {
    const int fd = memfd_create(std::string(name).c_str(), MFD_CLOEXEC);
    if (fd < 0) return Internal("memfd_failed", "cannot create an in-memory working file");
    MemFile f(fd);
    size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
      if (n <= 0) return Internal("memfd_failed", "cannot fill an in-memory working file");
      done += static_cast<size_t>(n);
    }
    return f;
  }
  MemFile(MemFile&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  MemFile& operator=(MemFile&&) = delete;
  ~MemFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  std::string path() const { return fmt::format("/proc/self/fd/{}", fd_); }

 private:
  explicit MemFile(int fd) : fd_(fd) {}
  int fd_ = -1;
};

struct HtsCloser {
  void operator()(htsFile* f) const { hts_close(f); }
};
struct SamHdrFree {
  void operator()(sam_hdr_t* h) const { sam_hdr_destroy(h); }
};
struct BcfHdrFree {
  void operator()(bcf_hdr_t* h) const { bcf_hdr_destroy(h); }
};
struct IdxFree {
  void operator()(hts_idx_t* i) const { hts_idx_destroy(i); }
};
struct TbxFree {
  void operator()(tbx_t* t) const { tbx_destroy(t); }
};
struct ItrFree {
  void operator()(hts_itr_t* i) const { hts_itr_destroy(i); }
};

std::string FormatOf(std::string_view kind) {
  if (kind == "cram") return "CRAM";
  if (kind == "bam") return "BAM";
  if (kind == "vcf") return "VCF";
  return "BCF";
}

void Merge(std::vector<ByteRange>& ranges) {
  std::sort(ranges.begin(), ranges.end(),
            [](const ByteRange& a, const ByteRange& b) { return a.start < b.start; });
  std::vector<ByteRange> out;
  for (const auto& r : ranges) {
    if (r.end <= r.start) continue;
    if (!out.empty() && r.start <= out.back().end) {
      out.back().end = std::max(out.back().end, r.end);
    } else {
      out.push_back(r);
    }
  }
  ranges = std::move(out);
}

// Header facts read from a decrypted prefix of the file.
struct HeaderInfo {
  int64_t end_voffset = 0;  // BGZF virtual offset just after the header
  std::vector<std::string> references;
  std::vector<std::string> samples;
  std::unique_ptr<sam_hdr_t, SamHdrFree> sam;
  std::unique_ptr<bcf_hdr_t, BcfHdrFree> bcf;
};

Result<HeaderInfo> ReadHeader(PlainReader& plain, const std::string& format) {
  for (int64_t want = int64_t{1} << 20;; want *= 4) {
    const int64_t n = std::min(want, plain.size());
    ZG_ASSIGN_OR_RETURN(std::string prefix, plain.Read(0, n));
    ZG_ASSIGN_OR_RETURN(MemFile mem, MemFile::Create("zg-header", prefix));
    std::unique_ptr<htsFile, HtsCloser> fp(hts_open(mem.path().c_str(), "r"));
    HeaderInfo h;
    bool ok = false;
    if (fp) {
      if (format == "BAM" || format == "CRAM") {
        h.sam.reset(sam_hdr_read(fp.get()));
        if (h.sam) {
          ok = true;
          for (int i = 0; i < sam_hdr_nref(h.sam.get()); ++i) {
            h.references.emplace_back(sam_hdr_tid2name(h.sam.get(), i));
          }
          kstring_t ks = KS_INITIALIZE;
          const int rg = sam_hdr_count_lines(h.sam.get(), "RG");
          for (int i = 0; i < rg; ++i) {
            if (sam_hdr_find_tag_pos(h.sam.get(), "RG", i, "SM", &ks) == 0) {
              std::string sm(ks.s, ks.l);
              if (std::find(h.samples.begin(), h.samples.end(), sm) == h.samples.end()) {
                h.samples.push_back(sm);
              }
            }
          }
          ks_free(&ks);
          if (format == "BAM") h.end_voffset = bgzf_tell(fp->fp.bgzf);
        }
      } else {
        h.bcf.reset(bcf_hdr_read(fp.get()));
        if (h.bcf) {
          ok = true;
          int nseq = 0;
          const char** names = bcf_hdr_seqnames(h.bcf.get(), &nseq);
          for (int i = 0; i < nseq; ++i) h.references.emplace_back(names[i]);
          free(names);
          for (int i = 0; i < bcf_hdr_nsamples(h.bcf.get()); ++i) {
            h.samples.emplace_back(h.bcf->samples[i]);
          }
          h.end_voffset = bgzf_tell(fp->fp.bgzf);
        }
      }
    }
    if (ok) return h;
    if (n >= plain.size()) {
      return Internal("stored_file_unreadable", "the stored file's header cannot be read");
    }
  }
}

// Compressed length of the BGZF block starting at plaintext offset `at`.
Result<int64_t> BgzfBlockLength(PlainReader& plain, int64_t at) {
  ZG_ASSIGN_OR_RETURN(std::string h, plain.Read(at, at + 18));
  if (h.size() < 18 || static_cast<unsigned char>(h[0]) != 0x1f ||
      static_cast<unsigned char>(h[1]) != 0x8b || h[12] != 'B' || h[13] != 'C') {
    return Internal("stored_file_unreadable", fmt::format("no BGZF block at offset {}", at));
  }
  const int bsize = static_cast<unsigned char>(h[16]) | (static_cast<unsigned char>(h[17]) << 8);
  return static_cast<int64_t>(bsize) + 1;
}

struct CraiEntry {
  int seq = 0;
  int64_t start = 0;  // 1-based
  int64_t span = 0;
  int64_t container = 0;
};

Result<std::vector<CraiEntry>> ParseCrai(const std::string& path) {
  BGZF* z = bgzf_open(path.c_str(), "r");
  if (!z) return Internal("index_unreadable", "cannot open the CRAM index");
  std::string text;
  char buf[65536];
  ssize_t n;
  while ((n = bgzf_read(z, buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
  bgzf_close(z);
  if (n < 0) return Internal("index_unreadable", "cannot read the CRAM index");
  std::vector<CraiEntry> out;
  std::istringstream in(text);
  CraiEntry e;
  int64_t slice_offset = 0, slice_size = 0;
  while (in >> e.seq >> e.start >> e.span >> e.container >> slice_offset >> slice_size) {
    out.push_back(e);
  }
  return out;
}

}  // namespace

// ---- PlainReader -------------------------------------------------------------------------

Result<PlainReader> PlainReader::Open(blobs::BlobStore& blobs, std::string_view blob_id,
                                      const sequencing::UploadKeys& keys) {
  ZG_ASSIGN_OR_RETURN(auto reader, blobs.Open(blob_id));
  PlainReader p;
  p.plain_size_ = reader->info().plaintext_size;
  p.secret_ = keys.secret_key;
  std::string prefix;
  size_t header_len = 0;
  while (header_len == 0) {
    ZG_ASSIGN_OR_RETURN(std::string piece,
                        reader->ReadAt(static_cast<int64_t>(prefix.size()), 64 * 1024));
    if (piece.empty()) return Internal("crypt4gh_truncated", "stored object ends in its header");
    prefix += piece;
    ZG_ASSIGN_OR_RETURN(header_len, c4gh::HeaderLength(prefix));
  }
  p.header_ = prefix.substr(0, header_len);
  p.data_offset_ = static_cast<int64_t>(header_len);
  p.reader_ = std::shared_ptr<blobs::Reader>(std::move(reader));
  return p;
}

Result<std::string> PlainReader::Read(int64_t start, int64_t end) {
  end = std::min(end, plain_size_);
  if (start < 0 || start > end) {
    return InvalidArgument("invalid_range", fmt::format("range {}-{} is out of bounds", start, end));
  }
  if (start == end) return std::string();
  const c4gh::DataSpan span =
      c4gh::DataSpanForRange(static_cast<uint64_t>(start), static_cast<uint64_t>(end));
  c4gh::DecryptOptions opts;
  opts.start = static_cast<uint64_t>(start);
  opts.end = static_cast<uint64_t>(end);
  opts.data_begins_at_range = true;
  ZG_ASSIGN_OR_RETURN(auto dec, c4gh::Decryptor::Create(secret_, opts));
  std::string out;
  ZG_ASSIGN_OR_RETURN(std::string first, dec.Update(header_));
  out = std::move(first);
  const int64_t cipher_total = reader_->info().size;
  int64_t at = data_offset_ + static_cast<int64_t>(span.offset);
  const int64_t stop = span.length ? std::min(cipher_total, at + static_cast<int64_t>(*span.length))
                                   : cipher_total;
  while (at < stop) {
    ZG_ASSIGN_OR_RETURN(std::string piece,
                        reader_->ReadAt(at, static_cast<size_t>(std::min<int64_t>(stop - at, 1 << 20))));
    if (piece.empty()) break;
    at += static_cast<int64_t>(piece.size());
    ZG_ASSIGN_OR_RETURN(std::string plain, dec.Update(piece));
    if (out.empty()) {
      out = std::move(plain);  // the common case: one piece, no copy
    } else {
      out += plain;
    }
  }
  ZG_ASSIGN_OR_RETURN(std::string rest, dec.Finish());
  out += rest;
  return out;
}

// ---- PlanSlice ---------------------------------------------------------------------------

Result<SlicePlan> PlanSlice(blobs::BlobStore& blobs, const sequencing::UploadKeys& keys,
                            const sequencing::DataFile& file, const std::vector<Region>& regions,
                            bool header_only) {
  SlicePlan plan;
  plan.format = FormatOf(file.kind);
  const bool cram = plan.format == "CRAM";
  const bool reads = plan.format == "BAM" || cram;
  ZG_ASSIGN_OR_RETURN(PlainReader plain, PlainReader::Open(blobs, file.blob_id, keys));
  const int64_t eof_len = cram ? 38 : 28;
  if (plain.size() < eof_len) return Internal("stored_file_unreadable", "stored file too short");
  plan.eof = {plain.size() - eof_len, plain.size()};
  ZG_ASSIGN_OR_RETURN(HeaderInfo hdr, ReadHeader(plain, plan.format));
  plan.references = hdr.references;
  plan.samples = hdr.samples;

  // The index, decrypted into memory.
  if (file.index_blob_id.empty()) return Internal("index_missing", "the stored file has no index");
  ZG_ASSIGN_OR_RETURN(PlainReader index_plain, PlainReader::Open(blobs, file.index_blob_id, keys));
  ZG_ASSIGN_OR_RETURN(std::string index_bytes, index_plain.Read(0, index_plain.size()));
  ZG_ASSIGN_OR_RETURN(MemFile index_mem, MemFile::Create("zg-index", index_bytes));

  std::vector<CraiEntry> crai;
  if (cram) {
    ZG_ASSIGN_OR_RETURN(crai, ParseCrai(index_mem.path()));
    int64_t first = plan.eof.start;
    for (const auto& e : crai) first = std::min(first, e.container);
    plan.header = {0, first};
  } else {
    const int64_t c = hdr.end_voffset >> 16;
    const int64_t u = hdr.end_voffset & 0xffff;
    int64_t end = c;
    if (u != 0) {  // the header ends inside a block: that block goes with the header
      ZG_ASSIGN_OR_RETURN(int64_t len, BgzfBlockLength(plain, c));
      end = c + len;
    }
    plan.header = {0, end};
  }
  if (header_only) return plan;

  if (regions.empty()) {
    plan.body.push_back({plan.header.end, plan.eof.start});
    Merge(plan.body);
    return plan;
  }

  // Container ends for CRAM: the next container's offset, or the EOF container.
  std::vector<int64_t> containers;
  for (const auto& e : crai) containers.push_back(e.container);
  std::sort(containers.begin(), containers.end());
  containers.erase(std::unique(containers.begin(), containers.end()), containers.end());
  auto container_end = [&](int64_t start) {
    auto it = std::upper_bound(containers.begin(), containers.end(), start);
    return it == containers.end() ? plan.eof.start : *it;
  };

  std::unique_ptr<hts_idx_t, IdxFree> idx;
  std::unique_ptr<tbx_t, TbxFree> tbx;
  if (!cram) {
    if (plan.format == "VCF") {
      tbx.reset(tbx_index_load2(index_mem.path().c_str(), index_mem.path().c_str()));
      if (!tbx) return Internal("index_unreadable", "cannot load the tabix index");
    } else {
      idx.reset(hts_idx_load2(index_mem.path().c_str(), index_mem.path().c_str()));
      if (!idx) return Internal("index_unreadable", "cannot load the index");
    }
  }

  for (const auto& r : regions) {
    int tid = -1;
    if (r.reference == "*") {
      if (!reads) return InvalidArgument("InvalidInput", "referenceName '*' is for reads only");
      tid = HTS_IDX_NOCOOR;
    } else {
      auto it = std::find(plan.references.begin(), plan.references.end(), r.reference);
      if (it == plan.references.end()) {
        return NotFound("NotFound", fmt::format("reference '{}' is not in this file", r.reference));
      }
      tid = static_cast<int>(it - plan.references.begin());
      if (tbx) tid = tbx_name2id(tbx.get(), r.reference.c_str());
      if (tid < 0) continue;  // declared in the header but without records
    }
    const int64_t beg = r.start.value_or(0);
    const int64_t end = r.end.value_or(HTS_POS_MAX);
    if (cram) {
      for (const auto& e : crai) {
        const bool match = tid == HTS_IDX_NOCOOR
                               ? e.seq == -1
                               : e.seq == tid && e.start <= end && e.start + e.span > beg;
        if (match) plan.body.push_back({e.container, container_end(e.container)});
      }
      continue;
    }
    hts_idx_t* index = tbx ? tbx->idx : idx.get();
    std::unique_ptr<hts_itr_t, ItrFree> itr(hts_itr_query(index, tid, beg, end, nullptr));
    if (!itr) return Internal("index_query_failed", "the index query failed");
    if (tid == HTS_IDX_NOCOOR) {
      if (itr->curr_off != 0) plan.body.push_back({static_cast<int64_t>(itr->curr_off >> 16), plan.eof.start});
      continue;
    }
    for (int i = 0; i < itr->n_off; ++i) {
      const auto u = static_cast<int64_t>(itr->off[i].u);
      const auto v = static_cast<int64_t>(itr->off[i].v);
      const int64_t cstart = u >> 16;
      int64_t cend = v >> 16;
      if ((v & 0xffff) != 0) {
        ZG_ASSIGN_OR_RETURN(int64_t len, BgzfBlockLength(plain, cend));
        cend += len;
      }
      plan.body.push_back({std::max(cstart, plan.header.end), std::min(cend, plan.eof.start)});
    }
  }
  Merge(plan.body);
  return plan;
}

}  // namespace zengen::ga4gh
