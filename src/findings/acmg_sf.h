// The ACMG SF list: the minimum list of genes in which pathogenic and likely pathogenic germline
// variants are reported as secondary findings (shared/docs/domain/clinical-and-consent.md §6).
//
// Versioned data compiled into the binary (the domain document's codebase rule: "ACMG SF gene
// symbols with citation" are compiled in). Each version records its year, citation and HGNC
// symbols. Which version is in force is configuration (findings::Settings, default kDefault);
// every secondary finding records the version it was filed under.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace zengen::findings {

struct AcmgSfVersion {
  std::string_view version;   // "3.0" … "3.3"
  int year = 0;
  std::string_view citation;  // where the list is published
  std::vector<std::string_view> genes;  // HGNC symbols, sorted
};

// v3.2 is the default: its gene list is verified against the publication in the domain
// document; the v3.3 additions are marked there as still to be verified.
inline constexpr std::string_view kDefaultAcmgSfVersion = "3.2";

// Every known version, oldest first.
const std::vector<AcmgSfVersion>& AcmgSfVersions();
// The version, or nullptr when unknown.
const AcmgSfVersion* FindAcmgSf(std::string_view version);
// True when gene is on the list of version (false for an unknown version).
bool InAcmgSf(std::string_view version, std::string_view gene);

}  // namespace zengen::findings
