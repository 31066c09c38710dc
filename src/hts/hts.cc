#include "hts/hts.h"

#include <htslib/bgzf.h>
#include <htslib/cram.h>
#include <htslib/hts.h>
#include <htslib/kseq.h>
#include <htslib/kstring.h>
#include <htslib/sam.h>
#include <htslib/tbx.h>
#include <htslib/vcf.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <set>
#include <string_view>
#include <system_error>
#include <utility>

#include "crypto/crypto.h"

namespace zengen::hts {
namespace {

namespace fs = std::filesystem;

struct HtsFileCloser {
  void operator()(htsFile* f) const { hts_close(f); }
};
struct SamHdrDeleter {
  void operator()(sam_hdr_t* h) const { sam_hdr_destroy(h); }
};
struct BcfHdrDeleter {
  void operator()(bcf_hdr_t* h) const { bcf_hdr_destroy(h); }
};
struct BamDeleter {
  void operator()(bam1_t* b) const { bam_destroy1(b); }
};
struct BcfDeleter {
  void operator()(bcf1_t* b) const { bcf_destroy(b); }
};
struct IdxDeleter {
  void operator()(hts_idx_t* i) const { hts_idx_destroy(i); }
};
struct TbxDeleter {
  void operator()(tbx_t* t) const { tbx_destroy(t); }
};
using HtsFilePtr = std::unique_ptr<htsFile, HtsFileCloser>;
using SamHdrPtr = std::unique_ptr<sam_hdr_t, SamHdrDeleter>;
using BcfHdrPtr = std::unique_ptr<bcf_hdr_t, BcfHdrDeleter>;
using BamPtr = std::unique_ptr<bam1_t, BamDeleter>;
using BcfPtr = std::unique_ptr<bcf1_t, BcfDeleter>;

// kstring_t owned for the scope.
struct KString {
  kstring_t ks = KS_INITIALIZE;
  KString() = default;
  KString(const KString&) = delete;
  KString& operator=(const KString&) = delete;
  ~KString() { ks_free(&ks); }
  std::string str() const { return ks.s ? std::string(ks.s, ks.l) : std::string(); }
};

bool IsSamFamily(HtsFormat f) { return f == HtsFormat::kBam || f == HtsFormat::kCram; }

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    const size_t at = s.find(sep, start);
    out.push_back(s.substr(start, at == std::string_view::npos ? std::string_view::npos
                                                                : at - start));
    if (at == std::string_view::npos) break;
    start = at + 1;
  }
  return out;
}

std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> lines;
  for (std::string_view line : Split(text, '\n')) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool IsPublicUrl(std::string_view v) {
  const std::string l = Lower(v);
  return StartsWith(l, "http://") || StartsWith(l, "https://") || StartsWith(l, "ftp://");
}

// A value that names a file on some machine: "file://…", an absolute Unix path, a Windows
// path, or a relative path with directories.
bool IsLocalPath(std::string_view v) {
  if (IsPublicUrl(v)) return false;
  return StartsWith(Lower(v), "file:") || v.find('/') != std::string_view::npos ||
         v.find('\\') != std::string_view::npos;
}

std::string_view BaseName(std::string_view v) {
  const size_t at = v.find_last_of("/\\");
  return at == std::string_view::npos ? v : v.substr(at + 1);
}

bool ValidNewName(std::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  return std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '.' || c == '_' || c == '-';
  });
}

// Maps each original sample name to its new name (see the header comment for the rules).
Result<std::map<std::string, std::string>> ResolveNames(const std::vector<std::string>& samples,
                                                        const SanitiseOptions& options,
                                                        bool names_must_be_unique) {
  std::map<std::string, std::string> renamed;
  if (!options.sample_map.empty()) {
    for (const std::string& s : samples) {
      auto it = options.sample_map.find(s);
      if (it == options.sample_map.end()) return InvalidArgument("unmapped_sample", s);
      renamed[s] = it->second;
    }
  } else if (samples.size() == 1) {
    if (options.pseudonym.empty()) {
      return InvalidArgument("pseudonym_required",
                             "the file holds one sample and no pseudonym was given");
    }
    renamed[samples[0]] = options.pseudonym;
  } else if (samples.size() > 1) {
    return InvalidArgument("sample_map_required",
                           "the file holds " + std::to_string(samples.size()) +
                               " samples; a sample_map naming each is required");
  }
  std::set<std::string> seen;
  for (const auto& [old_name, new_name] : renamed) {
    if (!ValidNewName(new_name)) {
      return InvalidArgument("invalid_pseudonym",
                             "new sample names must match [A-Za-z0-9._-]{1,128}");
    }
    if (names_must_be_unique && !seen.insert(new_name).second) {
      return InvalidArgument("duplicate_sample",
                             "two samples would both be named '" + new_name + "'");
    }
  }
  return renamed;
}

// Names a remaining header line that still contains an original sample name, without
// repeating that name (warnings are logged and stored).
void WarnResiduals(std::string_view line, std::string_view kind,
                   const std::vector<std::string>& originals,
                   const std::map<std::string, std::string>& renamed,
                   std::vector<std::string>& warnings) {
  for (size_t i = 0; i < originals.size(); ++i) {
    const std::string& name = originals[i];
    if (name.size() < 3 || renamed.at(name) == name) continue;
    if (line.find(name) != std::string_view::npos) {
      warnings.push_back(std::string(kind) + " line still contains original sample name #" +
                         std::to_string(i + 1));
    }
  }
}

struct SanitisedHeader {
  std::string text;
  std::vector<std::string> samples;  // new names
  std::map<std::string, int64_t> dropped;
  std::vector<std::string> warnings;
};

// Distinct @RG SM values in header order.
std::vector<std::string> SamSamples(std::string_view text) {
  std::vector<std::string> samples;
  for (std::string_view line : Lines(text)) {
    if (!StartsWith(line, "@RG\t")) continue;
    for (std::string_view field : Split(line, '\t')) {
      if (StartsWith(field, "SM:")) {
        std::string sm(field.substr(3));
        if (std::find(samples.begin(), samples.end(), sm) == samples.end()) {
          samples.push_back(std::move(sm));
        }
      }
    }
  }
  return samples;
}

Result<SanitisedHeader> SanitiseSamHeader(std::string_view text,
                                          const SanitiseOptions& options) {
  const std::vector<std::string> originals = SamSamples(text);
  ZG_ASSIGN_OR_RETURN(auto renamed, ResolveNames(originals, options, false));
  SanitisedHeader out;
  for (const std::string& s : originals) {
    const std::string& n = renamed.at(s);
    if (std::find(out.samples.begin(), out.samples.end(), n) == out.samples.end()) {
      out.samples.push_back(n);
    }
  }
  for (std::string_view line : Lines(text)) {
    if (StartsWith(line, "@CO")) {
      ++out.dropped["comment"];
      continue;
    }
    const std::vector<std::string_view> fields = Split(line, '\t');
    const std::string_view type = fields[0];
    std::string rebuilt(type);
    for (size_t i = 1; i < fields.size(); ++i) {
      const std::string_view f = fields[i];
      const std::string_view tag = f.substr(0, 3);
      std::string kept(f);
      if (type == "@RG" && tag == "SM:") {
        kept = "SM:" + renamed.at(std::string(f.substr(3)));
      } else if (type == "@RG" && tag == "DS:") {
        ++out.dropped["rg_description"];
        continue;
      } else if (type == "@PG" && tag == "CL:") {
        ++out.dropped["pg_command_line"];
        continue;
      } else if (type == "@PG" && tag != "ID:" && tag != "PN:" && tag != "VN:" &&
                 tag != "PP:") {
        ++out.dropped["pg_field"];
        continue;
      } else if (type == "@SQ" && tag == "UR:" && IsLocalPath(f.substr(3))) {
        ++out.dropped["reference_path"];
        continue;
      }
      rebuilt += '\t';
      rebuilt += kept;
    }
    WarnResiduals(rebuilt, type, originals, renamed, out.warnings);
    out.text += rebuilt;
    out.text += '\n';
  }
  return out;
}

// The key of a "##key=value" line.
std::string_view MetaKey(std::string_view line) {
  std::string_view rest = line.substr(2);
  return rest.substr(0, rest.find('='));
}

Result<SanitisedHeader> SanitiseVcfHeader(std::string_view text,
                                          const std::vector<std::string>& originals,
                                          const SanitiseOptions& options) {
  ZG_ASSIGN_OR_RETURN(auto renamed, ResolveNames(originals, options, true));
  SanitisedHeader out;
  for (const std::string& s : originals) out.samples.push_back(renamed.at(s));
  for (std::string_view line : Lines(text)) {
    if (StartsWith(line, "#CHROM")) {
      std::vector<std::string_view> cols = Split(line, '\t');
      std::string rebuilt;
      for (size_t i = 0; i < cols.size(); ++i) {
        if (i) rebuilt += '\t';
        rebuilt += i >= 9 ? renamed.at(std::string(cols[i])) : std::string(cols[i]);
      }
      out.text += rebuilt + '\n';
      continue;
    }
    if (!StartsWith(line, "##")) continue;  // bcf_hdr_format writes nothing else
    const std::string_view key = MetaKey(line);
    const std::string_view value =
        line.size() > key.size() + 3 ? line.substr(key.size() + 3) : std::string_view();
    const std::string lkey = Lower(key);
    if (lkey.find("command") != std::string::npos) {
      ++out.dropped["command_line"];
      continue;
    }
    if (key == "SAMPLE" || key == "PEDIGREE") {
      ++out.dropped["sample_metadata"];
      continue;
    }
    if (key == "source" && (value.find('/') != std::string_view::npos ||
                            value.find('\\') != std::string_view::npos)) {
      ++out.dropped["source_path"];
      continue;
    }
    std::string kept(line);
    if (key == "reference" && IsLocalPath(value)) {
      kept = "##reference=" + std::string(BaseName(value));
      ++out.dropped["reference_path"];
    }
    WarnResiduals(kept, "##" + std::string(key), originals, renamed, out.warnings);
    out.text += kept + '\n';
  }
  return out;
}

// ---- Input -----------------------------------------------------------------------------

struct Input {
  HtsFilePtr fp;
  HtsFormat format = HtsFormat::kBam;
};

std::string Describe(const htsFormat* fmt) {
  char* d = hts_format_description(fmt);
  std::string s = d ? d : "unknown";
  free(d);  // NOLINT: allocated by htslib with malloc
  return s;
}

Result<Input> OpenInput(const fs::path& path, const fs::path& reference) {
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st)) return NotFound("input_not_found", path.string() + " does not exist");
  if (!fs::is_regular_file(st)) {
    return InvalidArgument("unsupported_format", path.string() + " is not a regular file");
  }
  if (fs::file_size(path, ec) == 0 && !ec) {
    return InvalidArgument("empty_file", path.string() + " is empty");
  }
  Input in;
  in.fp.reset(hts_open(path.c_str(), "r"));
  if (!in.fp) {
    return InvalidArgument("unsupported_format",
                           path.string() + " could not be opened as a genomics file");
  }
  const htsFormat* fmt = hts_get_format(in.fp.get());
  switch (fmt->format) {
    case bam:
      in.format = HtsFormat::kBam;
      break;
    case cram:
      in.format = HtsFormat::kCram;
      break;
    case vcf:
      in.format = HtsFormat::kVcf;
      break;
    case bcf:
      in.format = HtsFormat::kBcf;
      break;
    default:
      return InvalidArgument("unsupported_format",
                             "expected CRAM, BAM, VCF or BCF, found " + Describe(fmt));
  }
  if (fmt->compression == bgzf && in.fp->is_bgzf && bgzf_check_EOF(in.fp->fp.bgzf) == 0) {
    return InvalidArgument("truncated_file", "the BGZF EOF block is missing");
  }
  if (in.format == HtsFormat::kCram) {
    if (fmt->version.major < 3) {
      return InvalidArgument("unsupported_format", "CRAM before version 3.0 is not accepted");
    }
    if (cram_check_EOF(in.fp->fp.cram) == 0) {
      return InvalidArgument("truncated_file", "the CRAM EOF container is missing");
    }
    if (!reference.empty() && hts_set_fai_filename(in.fp.get(), reference.c_str()) != 0) {
      return InvalidArgument("bad_reference", "cannot load the reference " + reference.string());
    }
  }
  return in;
}

std::string ReadErrorReason(int r) {
  switch (r) {
    case -2:
      return "truncated or corrupt data (or a CRAM slice whose reference was not given)";
    case -4:
      return "invalid record (bad reference id, position, length or fields)";
    default:
      return "htslib could not decode it (error " + std::to_string(r) + ")";
  }
}

std::string BcfErrReason(int errcode) {
  std::vector<std::string> parts;
  if (errcode & BCF_ERR_CTG_UNDEF) parts.push_back("contig not defined in the header");
  if (errcode & BCF_ERR_TAG_UNDEF) parts.push_back("INFO/FORMAT/FILTER tag not defined in the header");
  if (errcode & BCF_ERR_NCOLS) parts.push_back("wrong number of columns");
  if (errcode & BCF_ERR_LIMITS) parts.push_back("value out of htslib's limits");
  if (errcode & BCF_ERR_CHAR) parts.push_back("invalid character");
  if (errcode & BCF_ERR_CTG_INVALID) parts.push_back("invalid contig name");
  if (errcode & BCF_ERR_TAG_INVALID) parts.push_back("invalid tag");
  std::string s;
  for (const std::string& p : parts) s += (s.empty() ? "" : "; ") + p;
  return s.empty() ? "error " + std::to_string(errcode) : s;
}

// ---- Output ----------------------------------------------------------------------------

const char* IndexSuffix(HtsFormat f) {
  switch (f) {
    case HtsFormat::kBam:
      return ".bai";
    case HtsFormat::kCram:
      return ".crai";
    case HtsFormat::kVcf:
      return ".tbi";
    case HtsFormat::kBcf:
      return ".csi";
  }
  return "";
}

const char* WriteMode(HtsFormat f) {
  switch (f) {
    case HtsFormat::kBam:
      return "wb";
    case HtsFormat::kCram:
      return "wc";
    case HtsFormat::kVcf:
      return "wz";
    case HtsFormat::kBcf:
      return "wb";
  }
  return "";
}

// The output being written: partial names until Commit links them into place. Removes
// whatever it created unless committed.
class PartialOutput {
 public:
  PartialOutput(fs::path output, HtsFormat format)
      : output_(std::move(output)),
        index_(output_.string() + IndexSuffix(format)),
        tmp_(output_.string() + ".partial-" + crypto::ToHex(crypto::RandomBytes(6))),
        tmp_index_(tmp_.string() + IndexSuffix(format)) {}
  PartialOutput(const PartialOutput&) = delete;
  PartialOutput& operator=(const PartialOutput&) = delete;
  ~PartialOutput() {
    std::error_code ec;
    fs::remove(tmp_, ec);
    fs::remove(tmp_index_, ec);
    if (!committed_) {
      for (const fs::path& p : linked_) fs::remove(p, ec);
    }
  }

  const fs::path& output() const { return output_; }
  const fs::path& index() const { return index_; }
  const fs::path& tmp() const { return tmp_; }
  const fs::path& tmp_index() const { return tmp_index_; }

  Status CheckFree() const {
    std::error_code ec;
    for (const fs::path& p : {output_, index_}) {
      if (fs::exists(fs::symlink_status(p, ec))) {
        return Conflict("output_exists", p.string() + " already exists");
      }
    }
    return Status::Ok();
  }

  // Hard links never replace an existing file, so a concurrent writer cannot be clobbered.
  Status Commit() {
    for (const auto& [from, to] : {std::pair{tmp_index_, index_}, std::pair{tmp_, output_}}) {
      std::error_code ec;
      fs::create_hard_link(from, to, ec);
      if (ec) {
        return ec == std::errc::file_exists
                   ? Status(Conflict("output_exists", to.string() + " already exists"))
                   : Status(Internal("write_failed", "cannot create " + to.string() + ": " +
                                                         ec.message()));
      }
      linked_.push_back(to);
    }
    committed_ = true;
    return Status::Ok();
  }

 private:
  fs::path output_, index_, tmp_, tmp_index_;
  std::vector<fs::path> linked_;
  bool committed_ = false;
};

Result<std::string> Sha256File(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Internal("write_failed", "cannot read back " + path.string());
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(),
                                                              &EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  std::vector<char> buf(1 << 16);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<size_t>(in.gcount()));
  }
  if (in.bad()) return Internal("write_failed", "cannot read back " + path.string());
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_DigestFinal_ex(ctx.get(), md, &n);
  return crypto::ToHex(std::string_view(reinterpret_cast<char*>(md), n));
}

Result<HtsFilePtr> OpenOutput(const PartialOutput& out, HtsFormat format,
                              const fs::path& reference) {
  HtsFilePtr fp(hts_open(out.tmp().c_str(), WriteMode(format)));
  if (!fp) return Internal("write_failed", "cannot create " + out.tmp().string());
  if (format == HtsFormat::kCram) {
    // Without a reference the sequences are stored verbatim rather than fetched from a
    // reference server by MD5.
    const int r = reference.empty() ? hts_set_opt(fp.get(), CRAM_OPT_NO_REF, 1)
                                    : hts_set_fai_filename(fp.get(), reference.c_str());
    if (r != 0) {
      return InvalidArgument("bad_reference", "cannot load the reference " + reference.string());
    }
  }
  return fp;
}

Status CloseOutput(HtsFilePtr fp, const PartialOutput& out) {
  if (hts_close(fp.release()) != 0) {
    return Internal("write_failed", "cannot finish writing " + out.tmp().string());
  }
  return Status::Ok();
}

// Builds the index of the partial output, checks that it loads, hashes the output and links
// both into place.
Status IndexHashCommit(HtsFormat format, PartialOutput& out, HtsFileInfo& info) {
  const char* fn = out.tmp().c_str();
  const char* fnidx = out.tmp_index().c_str();
  int r = 0;
  switch (format) {
    case HtsFormat::kBam:
    case HtsFormat::kCram:
      r = sam_index_build3(fn, fnidx, 0, 1);
      break;
    case HtsFormat::kVcf:
      r = bcf_index_build3(fn, fnidx, 0, 1);  // min_shift 0: tabix
      break;
    case HtsFormat::kBcf:
      r = bcf_index_build3(fn, fnidx, 14, 1);  // CSI with htslib's default granularity
      break;
  }
  if (r == -1) {
    return InvalidArgument("unsorted_file",
                           "htslib could not index the output: records are not sorted by "
                           "coordinate");
  }
  if (r != 0) return Internal("index_failed", "building the index failed (" + std::to_string(r) + ")");

  bool loads = false;
  if (IsSamFamily(format)) {
    HtsFilePtr fp(hts_open(fn, "r"));
    if (fp) {
      std::unique_ptr<hts_idx_t, IdxDeleter> idx(sam_index_load2(fp.get(), fn, fnidx));
      loads = idx != nullptr;
    }
  } else if (format == HtsFormat::kVcf) {
    std::unique_ptr<tbx_t, TbxDeleter> idx(tbx_index_load2(fn, fnidx));
    loads = idx != nullptr;
  } else {
    std::unique_ptr<hts_idx_t, IdxDeleter> idx(bcf_index_load2(fn, fnidx));
    loads = idx != nullptr;
  }
  if (!loads) return Internal("index_failed", "the index just built does not load");

  ZG_ASSIGN_OR_RETURN(info.sha256_hex, Sha256File(out.tmp()));
  ZG_RETURN_IF_ERROR(out.Commit());
  info.output = out.output();
  info.index = out.index();
  return Status::Ok();
}

// ---- Records ---------------------------------------------------------------------------

// Tracks coordinate order so that an unsorted file is refused with its record number (the
// index could not be built otherwise). SAM family and BCF: contigs in header order, unplaced
// (tid -1) last. VCF text (tabix): each contig's records contiguous.
class OrderCheck {
 public:
  explicit OrderCheck(bool header_order) : header_order_(header_order) {}
  // True when (tid, pos) may follow the previous record.
  bool Next(int tid, int64_t pos) {
    const int64_t key = tid < 0 ? INT32_MAX : tid;
    bool ok = true;
    if (started_ && key == last_tid_) {
      ok = key == INT32_MAX || pos >= last_pos_;
    } else if (started_) {
      ok = header_order_ ? last_tid_ < key : !seen_.contains(key);
    }
    seen_.insert(key);
    started_ = true;
    last_tid_ = key;
    last_pos_ = pos;
    return ok;
  }

 private:
  bool header_order_;
  bool started_ = false;
  int64_t last_tid_ = -1;
  int64_t last_pos_ = -1;
  std::set<int64_t> seen_;
};

Status Unsorted(int64_t n) {
  return InvalidArgument("unsorted_file", "record " + std::to_string(n) +
                                              ": out of coordinate order (files must be "
                                              "coordinate-sorted to be indexed)");
}

Result<int64_t> CopySamRecords(htsFile* in, sam_hdr_t* hin, htsFile* out, sam_hdr_t* hout) {
  BamPtr b(bam_init1());
  OrderCheck order(true);
  int64_t n = 0;
  int r = 0;
  while ((r = sam_read1(in, hin, b.get())) >= 0) {
    ++n;
    if (!order.Next(b->core.tid, b->core.pos)) return Unsorted(n);
    if (sam_write1(out, hout, b.get()) < 0) {
      return Internal("write_failed", "record " + std::to_string(n) + ": write failed");
    }
  }
  if (r < -1) {
    return InvalidArgument("malformed_record",
                           "record " + std::to_string(n + 1) + ": " + ReadErrorReason(r));
  }
  return n;
}

// Reads, validates and writes every VCF/BCF record; `transform` adapts each record to the
// output header.
Result<int64_t> CopyVcfRecords(htsFile* in, bcf_hdr_t* hin, htsFile* out, bcf_hdr_t* hout,
                               HtsFormat format,
                               const std::function<Status(bcf1_t*)>& transform) {
  BcfPtr rec(bcf_init());
  OrderCheck order(format == HtsFormat::kBcf);
  int64_t n = 0;
  int r = 0;
  const int nsamples = bcf_hdr_nsamples(hin);
  // VCF text is read line by line here (as bcf_read would) so that the column count can be
  // checked: htslib accepts a line that stops early and fails only when writing it.
  const bool text = format == HtsFormat::kVcf;
  const size_t expected_columns = nsamples ? 9 + static_cast<size_t>(nsamples) : 8;
  while ((r = text ? hts_getline(in, KS_SEP_LINE, &in->line) : bcf_read(in, hin, rec.get())) >=
         0) {
    ++n;
    const std::string where = "record " + std::to_string(n) + ": ";
    if (text) {
      const std::string_view line(in->line.s, in->line.l);
      const size_t columns = static_cast<size_t>(std::count(line.begin(), line.end(), '\t')) + 1;
      if (columns != expected_columns && !(nsamples == 0 && columns == 9)) {
        return InvalidArgument("malformed_record", where + "expected " +
                                                       std::to_string(expected_columns) +
                                                       " columns, found " +
                                                       std::to_string(columns));
      }
      if (vcf_parse(&in->line, hin, rec.get()) != 0) {
        return InvalidArgument("malformed_record",
                               where + "cannot be parsed: " + BcfErrReason(rec->errcode));
      }
    }
    if (rec->errcode) {
      return InvalidArgument("malformed_record", where + BcfErrReason(rec->errcode));
    }
    if (bcf_unpack(rec.get(), BCF_UN_ALL) != 0 || rec->errcode) {
      return InvalidArgument("malformed_record",
                             where + "cannot be unpacked: " + BcfErrReason(rec->errcode));
    }
    if (!order.Next(rec->rid, rec->pos)) return Unsorted(n);
    ZG_RETURN_IF_ERROR(transform(rec.get()));
    if (bcf_write(out, hout, rec.get()) < 0) {
      return Internal("write_failed", where + "write failed");
    }
  }
  if (r < -1) {
    return InvalidArgument("malformed_record",
                           "record " + std::to_string(n + 1) + ": " + ReadErrorReason(r));
  }
  return n;
}

std::vector<Contig> SamContigs(const sam_hdr_t* h) {
  std::vector<Contig> contigs;
  for (int i = 0; i < sam_hdr_nref(h); ++i) {
    contigs.push_back({sam_hdr_tid2name(h, i), static_cast<int64_t>(sam_hdr_tid2len(h, i))});
  }
  return contigs;
}

std::vector<Contig> VcfContigs(const bcf_hdr_t* h) {
  std::vector<Contig> contigs;
  for (int i = 0; i < h->n[BCF_DT_CTG]; ++i) {
    Contig c{h->id[BCF_DT_CTG][i].key, 0};
    bcf_hrec_t* hrec = bcf_hdr_get_hrec(h, BCF_HL_CTG, "ID", c.name.c_str(), nullptr);
    if (hrec) {
      const int k = bcf_hrec_find_key(hrec, "length");
      if (k >= 0) c.length = std::strtoll(hrec->vals[k], nullptr, 10);
    }
    contigs.push_back(std::move(c));
  }
  return contigs;
}

std::vector<std::string> VcfSamples(const bcf_hdr_t* h) {
  std::vector<std::string> samples;
  for (int i = 0; i < bcf_hdr_nsamples(h); ++i) samples.emplace_back(h->samples[i]);
  return samples;
}

Result<SamHdrPtr> ReadSamHeader(htsFile* fp) {
  SamHdrPtr h(sam_hdr_read(fp));
  if (!h) return InvalidArgument("bad_header", "the SAM header cannot be read");
  return h;
}

Result<BcfHdrPtr> ReadVcfHeader(htsFile* fp) {
  BcfHdrPtr h(bcf_hdr_read(fp));
  if (!h) return InvalidArgument("bad_header", "the VCF header cannot be read");
  return h;
}

Result<HtsFileInfo> SanitiseSam(Input& in, PartialOutput& out, const SanitiseOptions& options) {
  ZG_ASSIGN_OR_RETURN(SamHdrPtr hin, ReadSamHeader(in.fp.get()));
  const char* text = sam_hdr_str(hin.get());
  if (!text) return InvalidArgument("bad_header", "the SAM header cannot be read");
  if (in.format == HtsFormat::kCram) {
    // The CRAM decoder falls back to opening the file named by @SQ UR when it needs a
    // reference. An uploaded header must not make the server open (and build a .fai beside)
    // a path of the uploader's choosing, so the decoder's own copy loses its UR tags.
    sam_hdr_t* decoder_header = cram_fd_get_header(in.fp->fp.cram);
    for (int i = 0; decoder_header && i < sam_hdr_nref(decoder_header); ++i) {
      const char* name = sam_hdr_tid2name(decoder_header, i);
      sam_hdr_remove_tag_id(decoder_header, "SQ", "SN", name, "UR");  // -1: none there
    }
  }
  ZG_ASSIGN_OR_RETURN(SanitisedHeader sh,
                      SanitiseSamHeader(std::string_view(text, sam_hdr_length(hin.get())),
                                        options));
  SamHdrPtr hout(sam_hdr_parse(sh.text.size(), sh.text.c_str()));
  if (!hout) return InvalidArgument("bad_header", "the sanitised SAM header does not parse");
  HtsFileInfo info;
  info.contigs = SamContigs(hin.get());
  if (SamContigs(hout.get()) != info.contigs) {
    return InvalidArgument("bad_header",
                           "the header's @SQ lines disagree with its reference list");
  }
  info.format = in.format;
  info.samples = std::move(sh.samples);
  info.dropped = std::move(sh.dropped);
  info.warnings = std::move(sh.warnings);

  ZG_ASSIGN_OR_RETURN(HtsFilePtr fp, OpenOutput(out, in.format, options.reference));
  if (sam_hdr_write(fp.get(), hout.get()) != 0) {
    return Internal("write_failed", "writing the header failed");
  }
  ZG_ASSIGN_OR_RETURN(info.records,
                      CopySamRecords(in.fp.get(), hin.get(), fp.get(), hout.get()));
  ZG_RETURN_IF_ERROR(CloseOutput(std::move(fp), out));
  ZG_RETURN_IF_ERROR(IndexHashCommit(in.format, out, info));
  return info;
}

Result<HtsFileInfo> SanitiseVcf(Input& in, PartialOutput& out, const SanitiseOptions& options) {
  ZG_ASSIGN_OR_RETURN(BcfHdrPtr hin, ReadVcfHeader(in.fp.get()));
  KString ks;
  if (bcf_hdr_format(hin.get(), 0, &ks.ks) != 0) {
    return InvalidArgument("bad_header", "the VCF header cannot be formatted");
  }
  ZG_ASSIGN_OR_RETURN(SanitisedHeader sh,
                      SanitiseVcfHeader(ks.str(), VcfSamples(hin.get()), options));
  BcfHdrPtr hout(bcf_hdr_init("r"));
  if (!hout || bcf_hdr_parse(hout.get(), sh.text.data()) != 0) {
    return InvalidArgument("bad_header", "the sanitised VCF header does not parse");
  }
  HtsFileInfo info;
  info.format = in.format;
  info.contigs = VcfContigs(hout.get());
  info.samples = std::move(sh.samples);
  info.dropped = std::move(sh.dropped);
  info.warnings = std::move(sh.warnings);

  ZG_ASSIGN_OR_RETURN(HtsFilePtr fp, OpenOutput(out, in.format, {}));
  if (bcf_hdr_write(fp.get(), hout.get()) != 0) {
    return Internal("write_failed", "writing the header failed");
  }
  // The output header is parsed from text, so its dictionary ids may differ from a BCF
  // input's IDX= ids; bcf_translate maps them (and is a no-op when they agree).
  auto translate = [&](bcf1_t* rec) -> Status {
    if (bcf_translate(hout.get(), hin.get(), rec) != 0) {
      return InvalidArgument("malformed_record", "a record cannot be mapped to the header");
    }
    return Status::Ok();
  };
  ZG_ASSIGN_OR_RETURN(info.records, CopyVcfRecords(in.fp.get(), hin.get(), fp.get(),
                                                   hout.get(), in.format, translate));
  ZG_RETURN_IF_ERROR(CloseOutput(std::move(fp), out));
  ZG_RETURN_IF_ERROR(IndexHashCommit(in.format, out, info));
  return info;
}

}  // namespace

const char* FormatName(HtsFormat format) {
  switch (format) {
    case HtsFormat::kBam:
      return "bam";
    case HtsFormat::kCram:
      return "cram";
    case HtsFormat::kVcf:
      return "vcf";
    case HtsFormat::kBcf:
      return "bcf";
  }
  return "";
}

Result<HtsFileInfo> Sanitise(const fs::path& input, const fs::path& output,
                             const SanitiseOptions& options) {
  ZG_ASSIGN_OR_RETURN(Input in, OpenInput(input, options.reference));
  PartialOutput out(output, in.format);
  ZG_RETURN_IF_ERROR(out.CheckFree());
  return IsSamFamily(in.format) ? SanitiseSam(in, out, options)
                                : SanitiseVcf(in, out, options);
}

Result<std::vector<std::string>> ReadSamples(const fs::path& path, const fs::path& reference) {
  ZG_ASSIGN_OR_RETURN(Input in, OpenInput(path, reference));
  if (IsSamFamily(in.format)) {
    ZG_ASSIGN_OR_RETURN(SamHdrPtr h, ReadSamHeader(in.fp.get()));
    const char* text = sam_hdr_str(h.get());
    if (!text) return InvalidArgument("bad_header", "the SAM header cannot be read");
    return SamSamples(std::string_view(text, sam_hdr_length(h.get())));
  }
  ZG_ASSIGN_OR_RETURN(BcfHdrPtr h, ReadVcfHeader(in.fp.get()));
  return VcfSamples(h.get());
}

Result<HtsFileInfo> SubsetSamples(const fs::path& input, const fs::path& output,
                                  const std::vector<std::string>& keep_samples) {
  ZG_ASSIGN_OR_RETURN(Input in, OpenInput(input, {}));
  if (IsSamFamily(in.format)) {
    return InvalidArgument("unsupported_format", "sample subsetting is for VCF and BCF only");
  }
  PartialOutput out(output, in.format);
  ZG_RETURN_IF_ERROR(out.CheckFree());
  ZG_ASSIGN_OR_RETURN(BcfHdrPtr hin, ReadVcfHeader(in.fp.get()));
  const std::vector<std::string> all = VcfSamples(hin.get());
  std::vector<char*> names;
  for (const std::string& s : keep_samples) {
    if (std::find(all.begin(), all.end(), s) == all.end()) {
      return InvalidArgument("unknown_sample", s);
    }
    if (std::count(keep_samples.begin(), keep_samples.end(), s) > 1) {
      return InvalidArgument("duplicate_sample", s + " is named twice");
    }
    names.push_back(const_cast<char*>(s.c_str()));  // htslib's API is not const-correct
  }
  std::vector<int> imap(all.size());
  BcfHdrPtr hout(bcf_hdr_subset(hin.get(), static_cast<int>(names.size()), names.data(),
                                imap.data()));
  if (!hout) return InvalidArgument("bad_header", "the header cannot be subset");
  const int kept = bcf_hdr_nsamples(hout.get());
  HtsFileInfo info;
  info.format = in.format;
  info.samples = VcfSamples(hout.get());
  info.contigs = VcfContigs(hout.get());

  ZG_ASSIGN_OR_RETURN(HtsFilePtr fp, OpenOutput(out, in.format, {}));
  if (bcf_hdr_write(fp.get(), hout.get()) != 0) {
    return Internal("write_failed", "writing the header failed");
  }
  auto subset = [&](bcf1_t* rec) -> Status {
    if (bcf_subset(hout.get(), rec, kept, imap.data()) != 0) {
      return InvalidArgument("malformed_record", "a record cannot be subset");
    }
    return Status::Ok();
  };
  ZG_ASSIGN_OR_RETURN(info.records, CopyVcfRecords(in.fp.get(), hin.get(), fp.get(),
                                                   hout.get(), in.format, subset));
  ZG_RETURN_IF_ERROR(CloseOutput(std::move(fp), out));
  ZG_RETURN_IF_ERROR(IndexHashCommit(in.format, out, info));
  return info;
}

}  // namespace zengen::hts
