#include "variants/references.h"

#include <htslib/faidx.h>
#include <htslib/hts.h>
#include <htslib/vcf.h>

#include <memory>

#include <fmt/format.h>

namespace zengen::variants {

namespace fs = std::filesystem;

Result<HeaderReference> ReadHeaderReference(const fs::path& vcf) {
  std::unique_ptr<htsFile, int (*)(htsFile*)> fp(hts_open(vcf.c_str(), "r"), hts_close);
  if (fp == nullptr) return InvalidArgument("unreadable_vcf", "cannot open the VCF/BCF");
  std::unique_ptr<bcf_hdr_t, void (*)(bcf_hdr_t*)> hdr(bcf_hdr_read(fp.get()), bcf_hdr_destroy);
  if (hdr == nullptr) return InvalidArgument("unreadable_vcf", "cannot read the VCF/BCF header");
  HeaderReference out;
  for (int i = 0; i < hdr->nhrec; ++i) {
    const bcf_hrec_t* rec = hdr->hrec[i];
    if (rec->type == BCF_HL_GEN && rec->key != nullptr && std::string_view(rec->key) == "reference" &&
        rec->value != nullptr) {
      out.reference = rec->value;
    }
    if (rec->type != BCF_HL_CTG) continue;
    std::string id;
    int64_t length = -1;
    for (int k = 0; k < rec->nkeys; ++k) {
      const std::string_view key = rec->keys[k];
      if (key == "ID") id = rec->vals[k];
      if (key == "length") {
        try {
          length = std::stoll(rec->vals[k]);
        } catch (...) {
          length = -1;
        }
      }
    }
    if (!id.empty()) out.contigs[id] = length;
  }
  return out;
}

Result<std::map<std::string, int64_t>> FastaContigs(const fs::path& fasta) {
  std::unique_ptr<faidx_t, void (*)(faidx_t*)> fai(fai_load(fasta.c_str()), fai_destroy);
  if (fai == nullptr) {
    return InvalidArgument("unreadable_reference",
                           fmt::format("cannot read the indexed FASTA {}", fasta.filename().string()));
  }
  std::map<std::string, int64_t> out;
  for (int i = 0; i < faidx_nseq(fai.get()); ++i) {
    const char* name = faidx_iseq(fai.get(), i);
    out[name] = faidx_seq_len(fai.get(), name);
  }
  return out;
}

std::string MatchReferenceName(std::string_view value,
                               const std::function<bool(std::string_view)>& registered) {
  // The file name: after the last '/' (paths and URLs alike) or '\'.
  const size_t slash = value.find_last_of("/\\");
  std::string name(slash == std::string_view::npos ? value : value.substr(slash + 1));
  while (!name.empty() && (name.back() == '>' || name.back() == ' ')) name.pop_back();
  if (name.empty()) return "";
  if (registered(name)) return name;
  std::string stem = name;
  if (stem.size() > 3 && stem.ends_with(".gz")) stem.resize(stem.size() - 3);
  for (std::string_view suffix : {".fa", ".fasta", ".fna"}) {
    if (stem.size() > suffix.size() && stem.ends_with(suffix)) {
      stem.resize(stem.size() - suffix.size());
      if (registered(stem)) return stem;
      break;
    }
  }
  return "";
}

Result<ChosenReference> ChooseReference(const fs::path& vcf, std::string_view file_id,
                                        const ReferenceSources& sources) {
  ChosenReference out;
  if (sources.run_reference) {
    ZG_ASSIGN_OR_RETURN(out.name, sources.run_reference(file_id));
    if (!out.name.empty()) out.source = "analysis_run";
  }
  ZG_ASSIGN_OR_RETURN(HeaderReference header, ReadHeaderReference(vcf));
  if (out.name.empty() && !header.reference.empty()) {
    std::string error;
    const std::string matched = MatchReferenceName(header.reference, [&](std::string_view name) {
      if (!sources.registered) return false;
      auto found = sources.registered(name);
      if (!found.ok()) {
        error = found.error().message;
        return false;
      }
      return found->has_value();
    });
    if (!error.empty()) return Unavailable("reference_lookup_failed", error);
    if (!matched.empty()) {
      out.name = matched;
      out.source = "header";
    } else {
      // why: many published VCFs name the FASTA they were called against by a file name this
      // site never registered; they are treated as naming none (and the audit record says so).
      out.unregistered = header.reference.substr(0, 200);
    }
  }
  fs::path fasta;
  if (!out.name.empty()) {
    std::optional<fs::path> found;
    if (sources.registered) {
      ZG_ASSIGN_OR_RETURN(found, sources.registered(out.name));
    }
    if (!found) {
      return InvalidArgument(
          "reference_not_registered",
          fmt::format("file {} was made against the reference '{}', which is not registered",
                      file_id, out.name),
          "reference");
    }
    fasta = *found;
  } else if (!sources.site_fasta.empty()) {
    fasta = sources.site_fasta;
    out.source = "site";
  } else {
    return out;
  }
  ZG_ASSIGN_OR_RETURN(auto contigs, FastaContigs(fasta));
  if (!out.name.empty()) {
    for (const auto& [contig, length] : header.contigs) {
      auto it = contigs.find(contig);
      if (it == contigs.end() || (length >= 0 && it->second != length)) {
        return InvalidArgument(
            "reference_contig_mismatch",
            fmt::format("file {}: contig {} ({}) is {} in the reference '{}'", file_id, contig,
                        length >= 0 ? fmt::format("length {}", length) : "no length",
                        it == contigs.end() ? "absent" : fmt::format("of length {}", it->second),
                        out.name),
            "reference");
      }
    }
  }
  ZG_ASSIGN_OR_RETURN(out.bases, OpenFastaReference(fasta));
  return out;
}

}  // namespace zengen::variants
