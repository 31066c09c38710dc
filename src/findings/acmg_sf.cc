#include "findings/acmg_sf.h"

#include <algorithm>

namespace zengen::findings {
namespace {

// ACMG SF v3.0 (Miller et al., Genet Med 2021;23:1381-1390): 73 genes.
std::vector<std::string_view> V30() {
  return {
      // Cancer phenotypes (28)
      "APC", "BMPR1A", "BRCA1", "BRCA2", "MAX", "MEN1", "MLH1", "MSH2", "MSH6", "MUTYH", "NF2",
      "PALB2", "PMS2", "PTEN", "RB1", "RET", "SDHAF2", "SDHB", "SDHC", "SDHD", "SMAD4", "STK11",
      "TMEM127", "TP53", "TSC1", "TSC2", "VHL", "WT1",
      // Cardiovascular phenotypes (33)
      "ACTA2", "ACTC1", "APOB", "CASQ2", "COL3A1", "DSC2", "DSG2", "DSP", "FBN1", "FLNC", "KCNH2",
      "KCNQ1", "LDLR", "LMNA", "MYBPC3", "MYH11", "MYH7", "MYL2", "MYL3", "PCSK9", "PKP2",
      "PRKAG2", "RYR2", "SCN5A", "SMAD3", "TGFBR1", "TGFBR2", "TMEM43", "TNNI3", "TNNT2", "TPM1",
      "TRDN", "TTN",
      // Inborn errors of metabolism (4)
      "BTD", "GAA", "GLA", "OTC",
      // Miscellaneous (8)
      "ACVRL1", "ATP7B", "CACNA1S", "ENG", "HFE", "HNF1A", "RPE65", "RYR1"};
}

std::vector<std::string_view> Plus(std::vector<std::string_view> base,
                                   std::initializer_list<std::string_view> added) {
  base.insert(base.end(), added.begin(), added.end());
  std::sort(base.begin(), base.end());
  return base;
}

}  // namespace

const std::vector<AcmgSfVersion>& AcmgSfVersions() {
  static const auto* versions = [] {
    auto v30 = Plus(V30(), {});
    auto v31 = Plus(v30, {"BAG3", "DES", "RBM20", "TNNC1", "TTR"});
    auto v32 = Plus(v31, {"CALM1", "CALM2", "CALM3"});
    auto v33 = Plus(v32, {"ABCD1", "CYP27A1", "PLN"});
    return new std::vector<AcmgSfVersion>{
        {"3.0", 2021, "Miller DT et al. Genet Med 2021;23:1381-1390", std::move(v30)},
        {"3.1", 2022, "Miller DT et al. Genet Med 2022;24:1407-1414", std::move(v31)},
        {"3.2", 2023, "Miller DT et al. Genet Med 2023;25:100866", std::move(v32)},
        {"3.3", 2025, "ACMG SF v3.3 (2025)", std::move(v33)},
    };
  }();
  return *versions;
}

const AcmgSfVersion* FindAcmgSf(std::string_view version) {
  for (const auto& v : AcmgSfVersions()) {
    if (v.version == version) return &v;
  }
  return nullptr;
}

bool InAcmgSf(std::string_view version, std::string_view gene) {
  const AcmgSfVersion* v = FindAcmgSf(version);
  return v != nullptr && std::binary_search(v->genes.begin(), v->genes.end(), gene);
}

}  // namespace zengen::findings
