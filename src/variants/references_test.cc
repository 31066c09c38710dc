// Each VCF is left-aligned against the reference it was registered with (references.h): two
// registered references that differ where an indel sits put the same record at two different
// leftmost positions; an analysis run's reference comes first, then the header's; a reference
// that is not registered, or whose contigs are not the file's, refuses the file.
#include "variants/references.h"

#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "crypto/crypto.h"

namespace zengen::variants {
namespace {

namespace fs = std::filesystem;

class ReferencesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("zg-refs-" + crypto::ToHex(crypto::RandomBytes(6)));
    fs::create_directories(dir_);
    // refA: a run of four As after C3; refB: T4 then three As. The deletion of one A written
    // at position 6 is leftmost at 3 (CA>C) on refA and at 4 (TA>T) on refB.
    Fasta("refA", "GGCAAAATGCGTACGTTTGACCA");
    Fasta("refB", "GGCTAAATGCGTACGTTTGACCA");
    Fasta("site", "GGCAAAATGCGTACGTTTGACCA");
    sources_.registered = [this](std::string_view name) -> Result<std::optional<fs::path>> {
      if (name == "refA" || name == "refB") return std::optional(dir_ / std::string(name) / "ref.fa");
      return std::optional<fs::path>();
    };
    sources_.run_reference = [this](std::string_view file_id) -> Result<std::string> {
      return file_id == "FL-RUN" ? std::string("refB") : std::string();
    };
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // <dir>/<name>/ref.fa with its .fai (one line of sequence).
  void Fasta(const std::string& name, const std::string& seq) {
    fs::create_directories(dir_ / name);
    const fs::path fa = dir_ / name / "ref.fa";
    std::ofstream(fa) << ">chrR\n" << seq << "\n";
    std::ofstream(fa.string() + ".fai") << fmt::format("chrR\t{}\t6\t{}\t{}\n", seq.size(),
                                                       seq.size(), seq.size() + 1);
  }

  fs::path Vcf(const std::string& name, const std::string& reference_line, int64_t length = 23) {
    const fs::path path = dir_ / (name + ".vcf");
    std::ofstream out(path);
    out << "##fileformat=VCFv4.2\n" << reference_line
        << fmt::format("##contig=<ID=chrR,length={}>\n", length)
        << "##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">\n"
           "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS\n"
           "chrR\t6\t.\tAA\tA\t.\tPASS\t.\tGT\t0/1\n";
    return path;
  }

  // Where the file's deletion lands once left-aligned against its chosen reference.
  Site Aligned(const ChosenReference& chosen) {
    auto split = Split("chrR", 6, "AA", {"A"}, chosen.bases);
    EXPECT_EQ(split.size(), 1u);
    return split.empty() ? Site{} : split[0].site;
  }

  fs::path dir_;
  ReferenceSources sources_;
};

TEST_F(ReferencesTest, EachFileIsLeftAlignedAgainstTheReferenceItNames) {
  auto a = ChooseReference(Vcf("a", "##reference=file:///refs/refA.fa\n"), "FL-A", sources_);
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->name, "refA");
  EXPECT_EQ(a->source, "header");
  EXPECT_EQ(Aligned(*a), (Site{"chrR", 3, "CA", "C"}));

  auto b = ChooseReference(Vcf("b", "##reference=/data/refB.fasta.gz\n"), "FL-B", sources_);
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(b->name, "refB");
  EXPECT_EQ(Aligned(*b), (Site{"chrR", 4, "TA", "T"}));

  // The analysis run's reference comes before the header's.
  auto run = ChooseReference(Vcf("run", "##reference=refA\n"), "FL-RUN", sources_);
  ASSERT_TRUE(run.ok()) << run.error().message;
  EXPECT_EQ(run->name, "refB");
  EXPECT_EQ(run->source, "analysis_run");
  EXPECT_EQ(Aligned(*run), (Site{"chrR", 4, "TA", "T"}));
}

TEST_F(ReferencesTest, AFileNamingNoReferenceFallsBackToTheSiteFasta) {
  auto none = ChooseReference(Vcf("n", ""), "FL-N", sources_);
  ASSERT_TRUE(none.ok()) << none.error().message;
  EXPECT_EQ(none->source, "");
  EXPECT_EQ(Aligned(*none), (Site{"chrR", 6, "AA", "A"})) << "no reference: trimmed only";
  sources_.site_fasta = dir_ / "site" / "ref.fa";
  auto site = ChooseReference(Vcf("n", ""), "FL-N", sources_);
  ASSERT_TRUE(site.ok()) << site.error().message;
  EXPECT_EQ(site->source, "site");
  EXPECT_EQ(Aligned(*site), (Site{"chrR", 3, "CA", "C"}));
}

TEST_F(ReferencesTest, AnUnregisteredReferenceOrOtherContigsRefuseTheFile) {
  sources_.site_fasta = dir_ / "site" / "ref.fa";  // never a fallback for a named reference
  // A header naming no registered reference is treated as naming none (the site FASTA).
  auto unknown = ChooseReference(Vcf("c", "##reference=GRCh99.fa\n"), "FL-C", sources_);
  ASSERT_TRUE(unknown.ok()) << unknown.error().message;
  EXPECT_EQ(unknown->source, "site");
  EXPECT_EQ(unknown->unregistered, "GRCh99.fa");

  auto longer = ChooseReference(Vcf("d", "##reference=refA.fa\n", 24), "FL-D", sources_);
  ASSERT_FALSE(longer.ok());
  EXPECT_EQ(longer.error().code, "reference_contig_mismatch");
  EXPECT_NE(longer.error().message.find("chrR"), std::string::npos);

  // A run whose reference is no longer registered refuses too.
  sources_.registered = [](std::string_view) -> Result<std::optional<fs::path>> {
    return std::optional<fs::path>();
  };
  auto gone = ChooseReference(Vcf("e", ""), "FL-RUN", sources_);
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code, "reference_not_registered");
}

}  // namespace
}  // namespace zengen::variants
