// AnalysisSanitiser on htslib: the adapter between the producers of genome files and src/hts.
#include <fmt/format.h>

#include "hts/hts.h"
#include "genomefiles/sanitiser.h"

namespace zengen::genomefiles {

AnalysisSanitiser HtsSanitiser(std::filesystem::path reference) {
  return [reference = std::move(reference)](
             std::string_view kind, const std::filesystem::path& input,
             const std::filesystem::path& work_dir, std::string_view pseudonym,
             const std::map<std::string, std::string>& sample_map) -> Result<SanitisedFile> {
    hts::SanitiseOptions opts;
    opts.pseudonym = std::string(pseudonym);
    opts.sample_map = sample_map;
    opts.reference = reference;
    const std::string ext = kind == "vcf" ? "vcf.gz" : std::string(kind);
    const std::filesystem::path out = work_dir / ("sanitised." + ext);
    ZG_ASSIGN_OR_RETURN(hts::HtsFileInfo info, hts::Sanitise(input, out, opts));
    const std::string detected = hts::FormatName(info.format);
    if (detected != kind) {
      std::error_code ec;
      std::filesystem::remove(info.output, ec);
      std::filesystem::remove(info.index, ec);
      return InvalidArgument("kind_mismatch",
                             fmt::format("the file is {}, but the upload declared {}", detected,
                                         kind),
                             "kind");
    }
    nlohmann::json contigs = nlohmann::json::array();
    for (const auto& c : info.contigs) contigs.push_back({{"name", c.name}, {"length", c.length}});
    SanitisedFile s;
    s.data = info.output;
    s.index = info.index;
    const std::string index_ext = info.index.extension().string();
    s.index_kind = index_ext.empty() ? std::string() : index_ext.substr(1);
    s.summary = {{"format", detected},
                 {"records", info.records},
                 {"samples", info.samples},
                 {"contigs", contigs},
                 {"dropped_header_items", info.dropped},
                 {"warnings", info.warnings}};
    return s;
  };
}

}  // namespace zengen::genomefiles
