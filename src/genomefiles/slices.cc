#include "genomefiles/slices.h"

#include <htslib/bgzf.h>
#include <htslib/hts.h>
#include <htslib/kstring.h>
#include <htslib/sam.h>
#include <htslib/tbx.h>
#include <htslib/vcf.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <unordered_map>

#include <fmt/format.h>

#include "crypto/crypt4gh.h"
#include "crypto/crypto.h"
#include "hts/hts.h"

namespace zengen::genomefiles {
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

// `eof` is the file's end-of-file marker range: it is appended to a prefix, so that htslib,
// which checks the marker on opening, takes the prefix for a whole file and does not warn.
Result<HeaderInfo> ReadHeader(PlainReader& plain, const std::string& format, ByteRange eof) {
  ZG_ASSIGN_OR_RETURN(const std::string marker, plain.Read(eof.start, eof.end));
  for (int64_t want = int64_t{1} << 20;; want *= 4) {
    const int64_t n = std::min(want, plain.size());
    ZG_ASSIGN_OR_RETURN(std::string prefix, plain.Read(0, n));
    if (n < plain.size()) prefix += marker;
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

// The header alone, re-compressed into BGZF blocks of its own (issue 12): the stored header's
// last block usually holds the first records too, so serving the stored blocks [0, header.end)
// answers a header request with records. Decompresses the stored blocks of `header`, keeps the
// bytes before the header's end (end_voffset: the block's offset << 16 | the offset inside it)
// and compresses them again, BGZF_BLOCK_SIZE bytes per block as htslib writes them.
Result<std::string> RecompressHeader(PlainReader& plain, ByteRange header, ByteRange eof,
                                     int64_t end_voffset) {
  ZG_ASSIGN_OR_RETURN(std::string stored, plain.Read(header.start, header.end));
  ZG_ASSIGN_OR_RETURN(std::string marker, plain.Read(eof.start, eof.end));
  ZG_ASSIGN_OR_RETURN(MemFile mem, MemFile::Create("zg-header-blocks", stored + marker));
  std::unique_ptr<BGZF, decltype(&bgzf_close)> in(bgzf_open(mem.path().c_str(), "r"),
                                                  &bgzf_close);
  if (!in) return Internal("stored_file_unreadable", "the header's blocks cannot be read");
  const int64_t last = end_voffset >> 16;
  const int64_t inside = end_voffset & 0xffff;
  std::string text;
  for (;;) {
    if (bgzf_read_block(in.get()) != 0) {
      return Internal("stored_file_unreadable", "the header's blocks cannot be read");
    }
    if (in->block_length == 0 || in->block_address > last) break;
    const int64_t take = in->block_address < last ? in->block_length
                                                   : std::min<int64_t>(inside, in->block_length);
    text.append(static_cast<const char*>(in->uncompressed_block), static_cast<size_t>(take));
    if (in->block_address == last) break;
  }
  constexpr int kDefaultLevel = -1;  // zlib's default compression level
  std::string out;
  std::string block(BGZF_MAX_BLOCK_SIZE, '\0');
  for (size_t at = 0; at < text.size(); at += BGZF_BLOCK_SIZE) {
    size_t len = block.size();
    const size_t n = std::min<size_t>(BGZF_BLOCK_SIZE, text.size() - at);
    if (bgzf_compress(block.data(), &len, text.data() + at, n, kDefaultLevel) != 0) {
      return Internal("compress_failed", "cannot compress the header");
    }
    out.append(block.data(), len);
  }
  return out;
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

// ---- Decoded facts of a stored file, and their cache --------------------------------------

namespace {

// What planning needs from a stored file's header and index. Immutable once loaded, except
// the index query state and the BGZF block lengths looked up so far (both under mu).
struct FileFacts {
  std::string format;
  ByteRange header;
  int64_t header_end_voffset = 0;  // BGZF formats: the virtual offset just after the header
  ByteRange eof;
  std::vector<std::string> references;
  std::vector<std::string> samples;
  std::vector<CraiEntry> crai;
  std::vector<int64_t> containers;  // CRAM container offsets, ascending, unique
  std::unique_ptr<hts_idx_t, IdxFree> idx;
  std::unique_ptr<tbx_t, TbxFree> tbx;
  size_t bytes = 0;  // the decrypted index's size: the cache's budget unit
  std::mutex mu;
  std::map<int64_t, int64_t> block_len;
};

Result<std::shared_ptr<FileFacts>> LoadFacts(blobs::BlobStore& blobs,
                                            const UploadKeys& keys,
                                            const DataFile& file) {
  auto f = std::make_shared<FileFacts>();
  f->format = FormatOf(file.kind);
  const bool cram = f->format == "CRAM";
  ZG_ASSIGN_OR_RETURN(PlainReader plain, PlainReader::Open(blobs, file.blob_id, keys));
  const int64_t eof_len = cram ? 38 : 28;
  if (plain.size() < eof_len) return Internal("stored_file_unreadable", "stored file too short");
  f->eof = {plain.size() - eof_len, plain.size()};
  ZG_ASSIGN_OR_RETURN(HeaderInfo hdr, ReadHeader(plain, f->format, f->eof));
  f->references = hdr.references;
  f->samples = hdr.samples;

  // The index, decrypted into memory.
  if (file.index_blob_id.empty()) return Internal("index_missing", "the stored file has no index");
  ZG_ASSIGN_OR_RETURN(PlainReader index_plain, PlainReader::Open(blobs, file.index_blob_id, keys));
  ZG_ASSIGN_OR_RETURN(std::string index_bytes, index_plain.Read(0, index_plain.size()));
  f->bytes = index_bytes.size() + 4096;
  ZG_ASSIGN_OR_RETURN(MemFile index_mem, MemFile::Create("zg-index", index_bytes));

  if (cram) {
    ZG_ASSIGN_OR_RETURN(f->crai, ParseCrai(index_mem.path()));
    int64_t first = f->eof.start;
    for (const auto& e : f->crai) {
      first = std::min(first, e.container);
      f->containers.push_back(e.container);
    }
    std::sort(f->containers.begin(), f->containers.end());
    f->containers.erase(std::unique(f->containers.begin(), f->containers.end()),
                        f->containers.end());
    f->header = {0, first};
    return f;
  }
  f->header_end_voffset = hdr.end_voffset;
  const int64_t c = hdr.end_voffset >> 16;
  const int64_t u = hdr.end_voffset & 0xffff;
  int64_t end = c;
  if (u != 0) {  // the header ends inside a block: that block goes with the header
    ZG_ASSIGN_OR_RETURN(int64_t len, BgzfBlockLength(plain, c));
    end = c + len;
  }
  f->header = {0, end};
  if (f->format == "VCF") {
    f->tbx.reset(tbx_index_load2(index_mem.path().c_str(), index_mem.path().c_str()));
    if (!f->tbx) return Internal("index_unreadable", "cannot load the tabix index");
  } else {
    f->idx.reset(hts_idx_load2(index_mem.path().c_str(), index_mem.path().c_str()));
    if (!f->idx) return Internal("index_unreadable", "cannot load the index");
  }
  return f;
}

}  // namespace

struct SliceCache::Impl {
  using Key = std::string;
  struct Entry {
    std::shared_ptr<FileFacts> facts;
    std::list<Key>::iterator lru;
  };
  size_t max_bytes;
  mutable std::mutex mu;
  std::list<Key> lru;  // most recent first
  std::unordered_map<Key, Entry> entries;
  Stats stats;

  std::shared_ptr<FileFacts> Get(const Key& key) {
    std::lock_guard lock(mu);
    auto it = entries.find(key);
    if (it == entries.end()) {
      ++stats.misses;
      return nullptr;
    }
    ++stats.hits;
    lru.splice(lru.begin(), lru, it->second.lru);
    return it->second.facts;
  }

  void Put(const Key& key, std::shared_ptr<FileFacts> facts) {
    std::lock_guard lock(mu);
    if (entries.count(key)) return;  // another ticket loaded it meanwhile
    lru.push_front(key);
    stats.bytes += facts->bytes;
    entries.emplace(key, Entry{std::move(facts), lru.begin()});
    while (stats.bytes > max_bytes && entries.size() > 1) {
      auto victim = entries.find(lru.back());
      stats.bytes -= victim->second.facts->bytes;
      entries.erase(victim);
      lru.pop_back();
    }
    stats.entries = entries.size();
  }
};

SliceCache::SliceCache(size_t max_bytes) : impl_(std::make_unique<Impl>()) {
  impl_->max_bytes = max_bytes;
}
SliceCache::~SliceCache() = default;

SliceCache::Stats SliceCache::stats() const {
  std::lock_guard lock(impl_->mu);
  Stats s = impl_->stats;
  s.entries = impl_->entries.size();
  return s;
}

// ---- PlanSlice ---------------------------------------------------------------------------

Result<SlicePlan> PlanSlice(blobs::BlobStore& blobs, const UploadKeys& keys,
                            const DataFile& file, const std::vector<Region>& regions,
                            bool header_only, SliceCache* cache) {
  const std::string key = file.blob_id + "/" + file.index_blob_id;
  std::shared_ptr<FileFacts> f = cache ? cache->impl_->Get(key) : nullptr;
  if (!f) {
    ZG_ASSIGN_OR_RETURN(f, LoadFacts(blobs, keys, file));
    if (cache) cache->impl_->Put(key, f);
  }
  SlicePlan plan;
  plan.format = f->format;
  plan.header = f->header;
  plan.eof = f->eof;
  plan.references = f->references;
  plan.samples = f->samples;
  const bool cram = plan.format == "CRAM";
  const bool reads = plan.format == "BAM" || cram;
  if (header_only) {
    if (!cram && (f->header_end_voffset & 0xffff) != 0) {
      ZG_ASSIGN_OR_RETURN(PlainReader p, PlainReader::Open(blobs, file.blob_id, keys));
      ZG_ASSIGN_OR_RETURN(plan.header_alone,
                          RecompressHeader(p, plan.header, plan.eof, f->header_end_voffset));
    }
    return plan;
  }

  if (regions.empty()) {
    plan.body.push_back({plan.header.end, plan.eof.start});
    Merge(plan.body);
    return plan;
  }

  // Container ends for CRAM: the next container's offset, or the EOF container.
  auto container_end = [&](int64_t start) {
    auto it = std::upper_bound(f->containers.begin(), f->containers.end(), start);
    return it == f->containers.end() ? plan.eof.start : *it;
  };
  // BGZF block lengths: remembered per file, read (one segment decrypted) the first time.
  std::optional<PlainReader> plain;
  auto block_len = [&](int64_t at) -> Result<int64_t> {
    if (auto it = f->block_len.find(at); it != f->block_len.end()) return it->second;
    if (!plain) {
      ZG_ASSIGN_OR_RETURN(PlainReader p, PlainReader::Open(blobs, file.blob_id, keys));
      plain.emplace(std::move(p));
    }
    ZG_ASSIGN_OR_RETURN(int64_t len, BgzfBlockLength(*plain, at));
    f->block_len[at] = len;
    return len;
  };

  std::lock_guard lock(f->mu);  // index iterators and block_len
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
      if (f->tbx) tid = tbx_name2id(f->tbx.get(), r.reference.c_str());
      if (tid < 0) continue;  // declared in the header but without records
    }
    const int64_t beg = r.start.value_or(0);
    const int64_t end = r.end.value_or(HTS_POS_MAX);
    if (cram) {
      for (const auto& e : f->crai) {
        const bool match = tid == HTS_IDX_NOCOOR
                               ? e.seq == -1
                               : e.seq == tid && e.start <= end && e.start + e.span > beg;
        if (match) plan.body.push_back({e.container, container_end(e.container)});
      }
      continue;
    }
    hts_idx_t* index = f->tbx ? f->tbx->idx : f->idx.get();
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
        ZG_ASSIGN_OR_RETURN(int64_t len, block_len(cend));
        cend += len;
      }
      plan.body.push_back({std::max(cstart, plan.header.end), std::min(cend, plan.eof.start)});
    }
  }
  Merge(plan.body);
  return plan;
}

// ---- Sample subsets ------------------------------------------------------------------------

// Made in memory-backed
// scratch space (/dev/shm when present) and streamed from there: the plaintext goes to the
// scratch file piece by piece, htslib writes the subset beside it, and the response reads that
// in 1 MiB pieces. The scratch folder goes when the response is dropped (sent or abandoned),
// so the server's heap holds one piece at a time whatever the file's size.
Result<ObjectStream> SubsetSamples(blobs::BlobStore& blobs, const UploadKeys& keys,
                                   const DataFile& f, const std::vector<std::string>& keep) {
  namespace fs = std::filesystem;
  struct Scratch {
    fs::path dir;
    std::ifstream out;
    ~Scratch() {
      out.close();
      std::error_code e;
      fs::remove_all(dir, e);
    }
  };
  auto scratch = std::make_shared<Scratch>();
  const fs::path root = fs::exists("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
  scratch->dir = root / ("zengen-subset-" + crypto::ToHex(crypto::RandomBytes(8)));
  std::error_code ec;
  fs::create_directory(scratch->dir, ec);
  if (ec) return Internal("scratch_unavailable", "cannot create scratch space");
  fs::permissions(scratch->dir, fs::perms::owner_all, ec);
  const std::string ext = f.kind == "bcf" ? ".bcf" : ".vcf.gz";
  const fs::path in_path = scratch->dir / ("in" + ext);
  {
    ZG_ASSIGN_OR_RETURN(PlainReader plain,
                        PlainReader::Open(blobs, f.blob_id, keys));
    std::ofstream in(in_path, std::ios::binary);
    for (int64_t at = 0; at < plain.size();) {
      ZG_ASSIGN_OR_RETURN(std::string piece,
                          plain.Read(at, std::min<int64_t>(plain.size(), at + (int64_t{1} << 20))));
      if (piece.empty()) return Internal("blob_truncated", "stored object ends early");
      at += static_cast<int64_t>(piece.size());
      in.write(piece.data(), static_cast<std::streamsize>(piece.size()));
    }
    if (!in) return Internal("scratch_unavailable", "cannot write scratch space");
  }
  ZG_ASSIGN_OR_RETURN(hts::HtsFileInfo info,
                      hts::SubsetSamples(in_path, scratch->dir / ("out" + ext), keep));
  fs::remove(in_path, ec);
  const auto size = fs::file_size(info.output, ec);
  if (ec) return Internal("scratch_unavailable", "cannot read scratch space");
  scratch->out.open(info.output, std::ios::binary);
  if (!scratch->out) return Internal("scratch_unavailable", "cannot read scratch space");
  ObjectStream r;
  r.length = static_cast<int64_t>(size);
  r.next = [scratch]() -> Result<std::string> {
    std::string piece(size_t{1} << 20, '\0');
    scratch->out.read(piece.data(), static_cast<std::streamsize>(piece.size()));
    piece.resize(static_cast<size_t>(scratch->out.gcount()));
    if (piece.empty() && scratch->out.bad()) {
      return Internal("scratch_unavailable", "cannot read scratch space");
    }
    return piece;
  };
  return r;
}

}  // namespace zengen::genomefiles
