// The port that validates and sanitises analysis outputs (CRAM, BAM, VCF, BCF) before they are
// stored as genome files, and its htslib adapter (hts_sanitiser.cc over src/hts).
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace zengen::genomefiles {

// What the sanitiser made of a staged analysis file.
struct SanitisedFile {
  std::filesystem::path data;   // the sanitised file
  std::filesystem::path index;  // its index
  std::string index_kind;       // crai | bai | tbi | csi
  nlohmann::json summary;       // records, samples, contigs, dropped header items, …
};
// Reads `input` (of the declared kind), writes the sanitised file and index under `work_dir`,
// with every sample renamed to `pseudonym`. Errors name the reason (kInvalidArgument).
// With a non-empty sample_map every sample is renamed through it instead.
using AnalysisSanitiser = std::function<Result<SanitisedFile>(
    std::string_view kind, const std::filesystem::path& input,
    const std::filesystem::path& work_dir, std::string_view pseudonym,
    const std::map<std::string, std::string>& sample_map)>;

// The htslib adapter of AnalysisSanitiser (hts::Sanitise): the detected format must be the
// declared kind (kInvalidArgument "kind_mismatch"); a file must hold one sample (renamed to the
// pseudonym), none, or exactly the samples of the sample map; CRAM is read and written against
// `reference` when one is given.
AnalysisSanitiser HtsSanitiser(std::filesystem::path reference = {});

}  // namespace zengen::genomefiles
