#include "hts/genotypes.h"

#include <fmt/format.h>
#include <htslib/vcf.h>

namespace zengen::hts {
namespace {

class HtsGenotypeReader final : public GenotypeReader {
 public:
  HtsGenotypeReader(htsFile* file, bcf_hdr_t* header) : file_(file), header_(header) {
    rec_ = bcf_init();
    for (int i = 0; i < bcf_hdr_nsamples(header_); ++i) samples_.emplace_back(header_->samples[i]);
  }
  ~HtsGenotypeReader() override {
    free(gt_);
    bcf_destroy(rec_);
    bcf_hdr_destroy(header_);
    hts_close(file_);
  }
  const std::vector<std::string>& samples() const override { return samples_; }

  Result<bool> Next(GenotypeRecord& out) override {
    int rc = bcf_read(file_, header_, rec_);
    if (rc == -1) return false;
    ++n_;
    if (rc < 0 || rec_->errcode != 0 || bcf_unpack(rec_, BCF_UN_STR | BCF_UN_FMT) != 0) {
      return InvalidArgument("malformed_record", fmt::format("record {}: cannot be decoded", n_));
    }
    const char* chrom = bcf_seqname(header_, rec_);
    if (chrom == nullptr) {
      return InvalidArgument("malformed_record", fmt::format("record {}: unknown contig", n_));
    }
    out.chrom = chrom;
    out.pos = rec_->pos + 1;
    out.id = rec_->d.id != nullptr ? rec_->d.id : ".";
    out.ref = rec_->n_allele > 0 ? rec_->d.allele[0] : "";
    out.alts.clear();
    for (int i = 1; i < rec_->n_allele; ++i) out.alts.emplace_back(rec_->d.allele[i]);
    const size_t ns = samples_.size();
    out.gt.assign(ns, {GenotypeRecord::kMissing, GenotypeRecord::kMissing});
    int n = bcf_get_genotypes(header_, rec_, &gt_, &gt_cap_);
    if (n <= 0 || ns == 0) return true;
    const int ploidy = n / static_cast<int>(ns);
    for (size_t s = 0; s < ns; ++s) {
      for (int k = 0; k < 2; ++k) {
        if (k >= ploidy) {
          out.gt[s][k] = GenotypeRecord::kAbsent;
          continue;
        }
        int32_t v = gt_[s * ploidy + k];
        if (v == bcf_int32_vector_end) {
          out.gt[s][k] = GenotypeRecord::kAbsent;
        } else if (bcf_gt_is_missing(v)) {
          out.gt[s][k] = GenotypeRecord::kMissing;
        } else {
          int a = bcf_gt_allele(v);
          if (a < 0 || a >= rec_->n_allele) {
            return InvalidArgument("malformed_record",
                                   fmt::format("record {}: allele index {} out of range", n_, a));
          }
          out.gt[s][k] = a;
        }
      }
    }
    return true;
  }

 private:
  htsFile* file_;
  bcf_hdr_t* header_;
  bcf1_t* rec_;
  int32_t* gt_ = nullptr;
  int gt_cap_ = 0;
  int64_t n_ = 0;
  std::vector<std::string> samples_;
};

}  // namespace

Result<std::unique_ptr<GenotypeReader>> GenotypeReader::Open(const std::filesystem::path& path) {
  htsFile* f = hts_open(path.c_str(), "r");
  if (f == nullptr) {
    return InvalidArgument("unreadable_vcf", fmt::format("{}: cannot open", path.filename().string()));
  }
  const htsFormat* fmt = hts_get_format(f);
  if (fmt->category != variant_data) {
    hts_close(f);
    return InvalidArgument("unreadable_vcf", fmt::format("{}: not VCF or BCF", path.filename().string()));
  }
  bcf_hdr_t* h = bcf_hdr_read(f);
  if (h == nullptr) {
    hts_close(f);
    return InvalidArgument("unreadable_vcf", fmt::format("{}: bad header", path.filename().string()));
  }
  return std::unique_ptr<GenotypeReader>(new HtsGenotypeReader(f, h));
}

}  // namespace zengen::hts
