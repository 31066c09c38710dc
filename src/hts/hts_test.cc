#include "hts/hts.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace zengen::hts {
namespace {

namespace fs = std::filesystem;

const fs::path kFixtures = ZENGEN_FIXTURES_DIR;

// No CRAM reference is ever looked up by MD5 on a public server from these tests (samtools and
// bcftools inherit this too).
const bool kNoRemoteReferences = [] {
  return ::setenv("REF_PATH", (fs::temp_directory_path() / "zengen-hts-test-no-refs").c_str(),
                  1) == 0;
}();

class TempDir {
 public:
  TempDir() {
    std::string templ = (fs::temp_directory_path() / "hts-test-XXXXXX").string();
    path_ = ::mkdtemp(templ.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const fs::path& path, std::string_view data) {
  std::ofstream out(path, std::ios::binary);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

std::string Quote(const fs::path& p) { return "'" + p.string() + "'"; }

// Runs a shell command and returns its stdout; fails the test if it exits non-zero.
std::string Shell(const std::string& cmd) {
  FILE* pipe = ::popen((cmd + " 2>/dev/null").c_str(), "r");
  EXPECT_NE(pipe, nullptr) << cmd;
  if (!pipe) return {};
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  const int status = ::pclose(pipe);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << cmd;
  return out;
}

int64_t Count(const std::string& cmd) { return std::stoll(Shell(cmd)); }

std::vector<std::string> LinesOf(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

bool IsSam(HtsFormat f) { return f == HtsFormat::kBam || f == HtsFormat::kCram; }

// Record count of a file according to the real samtools/bcftools.
int64_t ToolCount(const fs::path& p, HtsFormat f) {
  return IsSam(f) ? Count("samtools view -c " + Quote(p))
                  : Count("bcftools view -H " + Quote(p) + " | wc -l");
}

// Sample names according to the real tools: @RG SM values, or bcftools query -l.
std::vector<std::string> ToolSamples(const fs::path& p, HtsFormat f) {
  if (!IsSam(f)) return LinesOf(Shell("bcftools query -l " + Quote(p)));
  std::vector<std::string> sm;
  for (const std::string& line : LinesOf(Shell("samtools view -H --no-PG " + Quote(p)))) {
    if (line.rfind("@RG\t", 0) != 0) continue;
    const size_t at = line.find("\tSM:");
    sm.push_back(at == std::string::npos ? "" : line.substr(at + 4, line.find('\t', at + 1) - at - 4));
  }
  return sm;
}

std::string ToolHeader(const fs::path& p, HtsFormat f) {
  return IsSam(f) ? Shell("samtools view -H --no-PG " + Quote(p))
                  : Shell("bcftools view -h --no-version " + Quote(p));
}

struct FixtureCase {
  std::string file;  // under the fixtures directory
  HtsFormat format;
  std::vector<std::string> samples;  // original names
  const char* region;                // for an indexed query
  const char* input_index;           // fixture index of the input, or nullptr
};

void PrintTo(const FixtureCase& c, std::ostream* os) { *os << c.file; }

std::vector<FixtureCase> FixtureCases() {
  std::vector<FixtureCase> cases = {
      {"htsget/reads/htsnexus_test_NA12878.bam", HtsFormat::kBam, {"NA12878"},
       "11:4900000-5000000", "htsget-rs/bam/htsnexus_test_NA12878.bam.bai"},
      {"htsget/reads/htsnexus_test_NA12878.cram", HtsFormat::kCram, {"NA12878"},
       "20:6000000-6050000", "htsget-rs/cram/htsnexus_test_NA12878.cram.crai"},
      {"htsget/variants/spec-v4.3.vcf.gz", HtsFormat::kVcf, {"NA00001", "NA00002", "NA00003"},
       "20:1-1200000", nullptr},
      {"htsget/variants/spec-v4.3.bcf", HtsFormat::kBcf, {"NA00001", "NA00002", "NA00003"},
       "20:1-1200000", nullptr},
      {"htsget-rs/vcf/sample1-bcbio-cancer.vcf.gz", HtsFormat::kVcf, {"S1"}, "chrM:1-1000",
       nullptr},
      {"htsget-rs/bcf/sample1-bcbio-cancer.bcf", HtsFormat::kBcf, {"S1"}, "chrM:1-1000",
       nullptr},
  };
  for (int g = 1; g <= 10; ++g) {
    const std::string name = "G" + std::to_string(g);
    cases.push_back({"single-sample-bcf/" + name + ".bcf", HtsFormat::kBcf, {name},
                     "1:1-30000000", nullptr});
  }
  return cases;
}

std::string Pseudonym(size_t i) { return "ZG-TESTPSEUDONYM" + std::to_string(i); }

class HtsFixtureTest : public testing::TestWithParam<FixtureCase> {};

TEST_P(HtsFixtureTest, SanitisesAndToolsAgree) {
  const FixtureCase& c = GetParam();
  const fs::path input = kFixtures / c.file;
  ASSERT_TRUE(fs::exists(input)) << input;
  TempDir dir;
  const char* ext = c.format == HtsFormat::kVcf ? ".vcf.gz" : c.format == HtsFormat::kBcf ? ".bcf"
                    : c.format == HtsFormat::kBam ? ".bam" : ".cram";
  const fs::path output = dir.path() / (std::string("out") + ext);

  SanitiseOptions options;
  std::vector<std::string> expected;
  if (c.samples.size() == 1) {
    options.pseudonym = Pseudonym(0);
    expected = {Pseudonym(0)};
  } else {
    for (size_t i = 0; i < c.samples.size(); ++i) {
      options.sample_map[c.samples[i]] = Pseudonym(i);
      expected.push_back(Pseudonym(i));
    }
  }
  // The fixture's sample names are what the test expects them to be.
  auto before = ReadSamples(input);
  ASSERT_TRUE(before.ok()) << before.error().message;
  EXPECT_EQ(*before, c.samples);

  auto info = Sanitise(input, output, options);
  ASSERT_TRUE(info.ok()) << info.error().code << ": " << info.error().message;
  EXPECT_EQ(info->format, c.format);
  EXPECT_EQ(info->output, output);
  const char* idx_ext = c.format == HtsFormat::kVcf ? ".tbi" : c.format == HtsFormat::kBcf ? ".csi"
                        : c.format == HtsFormat::kBam ? ".bai" : ".crai";
  EXPECT_EQ(info->index, fs::path(output.string() + idx_ext));
  EXPECT_TRUE(fs::exists(info->index));
  EXPECT_EQ(info->samples, expected);
  EXPECT_FALSE(info->contigs.empty());
  // Nothing but the output and its index is left in the directory.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 2);

  // Record counts: ours, the tools' on the input, the tools' on the output.
  const int64_t input_count = ToolCount(input, c.format);
  EXPECT_GT(input_count, 0);
  EXPECT_EQ(info->records, input_count);
  EXPECT_EQ(ToolCount(output, c.format), input_count);

  // Samples read back with htslib and with the tools.
  auto after = ReadSamples(output);
  ASSERT_TRUE(after.ok()) << after.error().message;
  EXPECT_EQ(*after, expected);
  std::vector<std::string> tool_samples = ToolSamples(output, c.format);
  if (IsSam(c.format)) {
    for (const std::string& s : tool_samples) EXPECT_EQ(s, Pseudonym(0));
    EXPECT_FALSE(tool_samples.empty());
  } else {
    EXPECT_EQ(tool_samples, expected);
  }

  // No comment, command line or original sample name in the header.
  const std::string header = ToolHeader(output, c.format);
  for (const std::string& line : LinesOf(header)) {
    EXPECT_NE(line.rfind("@CO", 0), 0u) << line;
    EXPECT_EQ(line.find("\tCL:"), std::string::npos) << line;
    EXPECT_EQ(line.find("\tDS:"), std::string::npos) << line;
    if (line.rfind("##", 0) == 0) {
      const std::string key = line.substr(2, line.find('=') - 2);
      std::string lower = key;
      for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      EXPECT_EQ(lower.find("command"), std::string::npos) << line;
      EXPECT_EQ(line.find("file:///"), std::string::npos) << line;
    }
    for (const std::string& s : c.samples) {
      if (line.rfind("#CHROM", 0) == 0 || line.rfind("@RG", 0) == 0) {
        EXPECT_EQ(line.find("\t" + s), std::string::npos) << line;
      }
    }
  }
  EXPECT_FALSE(info->dropped.empty());

  // Indexed region query on the output: same answer as the input (through the fixture index,
  // or a streaming filter that needs no index).
  if (IsSam(c.format)) {
    const int64_t out_region = Count("samtools view -c " + Quote(output) + " " + c.region);
    EXPECT_GT(out_region, 0);
    EXPECT_LT(out_region, input_count);
    EXPECT_EQ(out_region, Count("samtools view -c -X " + Quote(input) + " " +
                                Quote(kFixtures / c.input_index) + " " + c.region));
  } else {
    const int64_t out_region =
        Count("bcftools view -H -r " + std::string(c.region) + " " + Quote(output) + " | wc -l");
    EXPECT_GT(out_region, 0);
    EXPECT_EQ(out_region, Count("bcftools view -H -t " + std::string(c.region) + " " +
                                Quote(input) + " | wc -l"));
  }

  // The reported digest is that of the file.
  const std::string sha = Shell("sha256sum " + Quote(output));
  EXPECT_EQ(sha.substr(0, 64), info->sha256_hex);

  // Records are unchanged: the same records in the same order (sample columns aside).
  if (IsSam(c.format)) {
    EXPECT_EQ(Shell("samtools view " + Quote(output) + " | md5sum"),
              Shell("samtools view " + Quote(input) + " | md5sum"));
  } else {
    const std::string fmt = " -f '%CHROM %POS %REF %ALT %QUAL %FILTER %INFO [%GT ]\\n' ";
    EXPECT_EQ(Shell("bcftools query" + fmt + Quote(output) + " | md5sum"),
              Shell("bcftools query" + fmt + Quote(input) + " | md5sum"));
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, HtsFixtureTest, testing::ValuesIn(FixtureCases()),
                         [](const testing::TestParamInfo<FixtureCase>& info) {
                           std::string name = fs::path(info.param.file).filename().string();
                           for (char& ch : name) {
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return name;
                         });

TEST(HtsSanitiseTest, BamHeaderItemsAreCountedByKind) {
  TempDir dir;
  auto info = Sanitise(kFixtures / "htsget/reads/htsnexus_test_NA12878.bam",
                       dir.path() / "out.bam", {.pseudonym = "ZG-ABC"});
  ASSERT_TRUE(info.ok()) << info.error().message;
  // samtools agrees on what the input holds.
  const std::string in_header =
      Shell("samtools view -H --no-PG " + Quote(kFixtures / "htsget/reads/htsnexus_test_NA12878.bam"));
  int64_t co = 0, pg_cl = 0;
  for (const std::string& line : LinesOf(in_header)) {
    co += line.rfind("@CO", 0) == 0;
    pg_cl += line.rfind("@PG", 0) == 0 && line.find("\tCL:") != std::string::npos;
  }
  EXPECT_EQ(co, 3);
  EXPECT_EQ(info->dropped["comment"], co);
  EXPECT_EQ(info->dropped["pg_command_line"], pg_cl);
  EXPECT_EQ(info->dropped["rg_description"], 1);
  EXPECT_EQ(info->dropped.count("reference_path"), 0u);  // the UR values are public ftp URLs
  EXPECT_EQ(info->contigs.size(), 86u);
  EXPECT_EQ(info->contigs[0], (Contig{"1", 249250621}));
  EXPECT_TRUE(info->warnings.empty());
  // @PG chain kept (ID/PN/VN/PP), the read group's other fields kept.
  const std::string out_header = Shell("samtools view -H --no-PG " + Quote(info->output));
  EXPECT_NE(out_header.find("@PG\tID:bwa_sam\tPN:bwa\tPP:bwa_aln_fastq\tVN:0.5.9-r16\n"),
            std::string::npos);
  EXPECT_NE(out_header.find("@RG\tID:SRR098401\tLB:Solexa-51024\tSM:ZG-ABC\tPI:220\tCN:BI\tPL:ILLUMINA\n"),
            std::string::npos);
}

TEST(HtsSanitiseTest, VcfHeaderPathsAndCommandLines) {
  TempDir dir;
  auto info = Sanitise(kFixtures / "single-sample-bcf/G1.bcf", dir.path() / "g1.bcf",
                       {.pseudonym = "ZG-G1"});
  ASSERT_TRUE(info.ok()) << info.error().message;
  // One ##GATKCommandLine and six ##bcftools_viewCommand lines in the fixture.
  EXPECT_EQ(info->dropped["command_line"], 7);
  EXPECT_EQ(info->dropped["reference_path"], 1);
  const std::string header = ToolHeader(info->output, HtsFormat::kBcf);
  EXPECT_NE(header.find("##reference=Homo_sapiens_assembly19.fasta\n"), std::string::npos);
  EXPECT_EQ(header.find("/seq/"), std::string::npos);
  EXPECT_EQ(header.find("HG01762"), std::string::npos);  // was in the GATK command line
  EXPECT_EQ(info->contigs.size(), 85u);
}

TEST(HtsSanitiseTest, KeepsPlainSourceAndPublicReference) {
  TempDir dir;
  auto info = Sanitise(kFixtures / "htsget/variants/spec-v4.3.vcf.gz", dir.path() / "s.vcf.gz",
                       {.sample_map = {{"NA00001", "A"}, {"NA00002", "B"}, {"NA00003", "C"}}});
  ASSERT_TRUE(info.ok()) << info.error().message;
  const std::string header = ToolHeader(info->output, HtsFormat::kVcf);
  EXPECT_NE(header.find("##source=myImputationProgramV3.1\n"), std::string::npos);
  EXPECT_NE(header.find("##reference=1000GenomesPilot-NCBI36.fasta\n"), std::string::npos);
  EXPECT_EQ(info->records, 5);
  EXPECT_EQ(info->samples, (std::vector<std::string>{"A", "B", "C"}));
}

TEST(HtsSanitiseTest, PlainTextVcfWithSampleMetadata) {
  TempDir in;
  WriteFile(in.path() / "calls.vcf",
            "##fileformat=VCFv4.2\n"
            "##source=/home/alice/pipelines/caller.py\n"
            "##reference=file:///home/alice/refs/GRCh38.fa\n"
            "##contig=<ID=1,length=1000>\n"
            "##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">\n"
            "##SAMPLE=<ID=S1,Description=\"tumour of patient Tanaka\">\n"
            "##PEDIGREE=<Derived=S1,Original=S2>\n"
            "##commandline=\"caller --in /home/alice/S1.bam\"\n"
            "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\tS2\n"
            "1\t10\t.\tA\tG\t50\tPASS\t.\tGT\t0/1\t1/1\n"
            "1\t20\t.\tC\tT\t50\tPASS\t.\tGT\t0/0\t0/1\n");
  TempDir dir;
  const fs::path out = dir.path() / "calls.vcf.gz";
  auto info = Sanitise(in.path() / "calls.vcf", out,
                       {.sample_map = {{"S1", "ZG-T"}, {"S2", "ZG-N"}}});
  ASSERT_TRUE(info.ok()) << info.error().code << ": " << info.error().message;
  EXPECT_EQ(info->format, HtsFormat::kVcf);
  EXPECT_EQ(info->records, 2);
  EXPECT_EQ(info->contigs, (std::vector<Contig>{{"1", 1000}}));
  EXPECT_EQ(info->dropped, (std::map<std::string, int64_t>{{"command_line", 1},
                                                           {"reference_path", 1},
                                                           {"sample_metadata", 2},
                                                           {"source_path", 1}}));
  const std::string bytes = ReadFile(out);  // BGZF: gzip with the "BC" extra subfield
  ASSERT_GT(bytes.size(), 16u);
  EXPECT_EQ(bytes.substr(0, 4), std::string("\x1f\x8b\x08\x04", 4));
  EXPECT_EQ(bytes.substr(12, 2), "BC");
  EXPECT_EQ(LinesOf(Shell("bcftools query -l " + Quote(out))),
            (std::vector<std::string>{"ZG-T", "ZG-N"}));
  EXPECT_EQ(Shell("bcftools query -r 1:15-25 -f '%POS [%GT ]\\n' " + Quote(out)), "20 0/0 0/1 \n");
  const std::string header = ToolHeader(out, HtsFormat::kVcf);
  EXPECT_EQ(header.find("alice"), std::string::npos) << header;
  EXPECT_EQ(header.find("Tanaka"), std::string::npos) << header;
  EXPECT_NE(header.find("##reference=GRCh38.fa\n"), std::string::npos) << header;
}

TEST(HtsSanitiseTest, WarnsWhenAReadGroupIdStillNamesTheSample) {
  TempDir in;
  std::string sam = "@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:c1\tLN:1000\n"
                    "@RG\tID:patient-7.L1\tSM:patient-7\n";
  for (int i = 0; i < 5; ++i) {
    sam += "r" + std::to_string(i) + "\t4\tc1\t" + std::to_string(100 + i) +
           "\t0\t*\t*\t0\t0\tACGT\tIIII\tRG:Z:patient-7.L1\n";
  }
  WriteFile(in.path() / "in.sam", sam);
  Shell("samtools view -b -o " + Quote(in.path() / "in.bam") + " " + Quote(in.path() / "in.sam"));
  TempDir dir;
  auto info = Sanitise(in.path() / "in.bam", dir.path() / "out.bam", {.pseudonym = "ZG-P7"});
  ASSERT_TRUE(info.ok()) << info.error().code << ": " << info.error().message;
  EXPECT_EQ(info->records, 5);
  ASSERT_EQ(info->warnings.size(), 1u);
  EXPECT_EQ(info->warnings[0], "@RG line still contains original sample name #1");
  // The ID stays, since every record's RG:Z tag refers to it.
  EXPECT_EQ(Count("samtools view -c -r patient-7.L1 " + Quote(dir.path() / "out.bam")), 5);
}

// ---- Refusals: each has its code and leaves nothing behind --------------------------------

struct Refusal {
  std::string code;
  std::string message;
};

Refusal Refuse(const fs::path& input, const SanitiseOptions& options = {.pseudonym = "ZG-X"},
               const std::string& out_name = "out") {
  TempDir dir;
  auto info = Sanitise(input, dir.path() / out_name, options);
  EXPECT_FALSE(info.ok());
  EXPECT_TRUE(fs::is_empty(dir.path())) << "left behind in " << dir.path();
  if (info.ok()) return {};
  return {info.error().code, info.error().message};
}

TEST(HtsRefuseTest, FixtureTruncatedBam) {
  EXPECT_EQ(Refuse(kFixtures / "bio-data-zoo/bam/bad/truncated.bam").code, "truncated_file");
}

TEST(HtsRefuseTest, SamTextIsNotAccepted) {
  EXPECT_EQ(Refuse(kFixtures / "bio-data-zoo/bam/bad/read_name_longer_than_254.sam").code,
            "unsupported_format");
}

TEST(HtsRefuseTest, FixtureVcfWithUndeclaredInfo) {
  const Refusal r = Refuse(kFixtures / "bio-data-zoo/vcf/bad/missing_info_field.vcf", {});
  EXPECT_EQ(r.code, "malformed_record");
  EXPECT_EQ(r.message.rfind("record 1: ", 0), 0u) << r.message;
}

TEST(HtsRefuseTest, FastqAndIndexesAndCrypt4gh) {
  EXPECT_EQ(Refuse(kFixtures / "fastq-edge/single.fq").code, "unsupported_format");
  EXPECT_EQ(Refuse(kFixtures / "htsget-rs/bam/htsnexus_test_NA12878.bam.bai").code,
            "unsupported_format");
  EXPECT_EQ(Refuse(kFixtures / "htsget/c4gh/spec-v4.3.bcf.c4gh").code, "unsupported_format");
}

TEST(HtsRefuseTest, EmptyAndPlainTextAndMissing) {
  TempDir in;
  WriteFile(in.path() / "empty", "");
  WriteFile(in.path() / "text.txt", "hello, this is not a genome\n");
  EXPECT_EQ(Refuse(kFixtures / "fastq-edge/emptyfile").code, "empty_file");
  EXPECT_EQ(Refuse(in.path() / "empty").code, "empty_file");
  EXPECT_EQ(Refuse(in.path() / "text.txt").code, "unsupported_format");
  EXPECT_EQ(Refuse(in.path() / "nope.bam").code, "input_not_found");
  EXPECT_EQ(Refuse(in.path()).code, "unsupported_format");
}

TEST(HtsRefuseTest, GeneratedTruncatedBam) {
  TempDir in;
  const std::string bam = ReadFile(kFixtures / "htsget/reads/htsnexus_test_NA12878.bam");
  ASSERT_GT(bam.size(), 1'000'000u);
  WriteFile(in.path() / "cut.bam", bam.substr(0, bam.size() - 100));
  EXPECT_EQ(Refuse(in.path() / "cut.bam").code, "truncated_file");
  // Cut in the middle but with the EOF block put back: found by reading the records.
  const std::string eof = bam.substr(bam.size() - 28);
  WriteFile(in.path() / "hole.bam", bam.substr(0, 1'000'000) + eof);
  const Refusal r = Refuse(in.path() / "hole.bam");
  EXPECT_EQ(r.code, "malformed_record");
  EXPECT_EQ(r.message.rfind("record ", 0), 0u) << r.message;
}

TEST(HtsRefuseTest, GeneratedTruncatedCram) {
  TempDir in;
  const std::string cram = ReadFile(kFixtures / "htsget/reads/htsnexus_test_NA12878.cram");
  WriteFile(in.path() / "cut.cram", cram.substr(0, cram.size() - 10));
  EXPECT_EQ(Refuse(in.path() / "cut.cram").code, "truncated_file");
}

const char kVcfHeader[] =
    "##fileformat=VCFv4.2\n"
    "##contig=<ID=1,length=1000>\n"
    "##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">\n"
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\tS2\n";

TEST(HtsRefuseTest, VcfRecordMissingColumns) {
  TempDir in;
  WriteFile(in.path() / "short.vcf", std::string(kVcfHeader) +
                                          "1\t10\t.\tA\tG\t50\tPASS\t.\tGT\t0/1\t1/1\n"
                                          "1\t20\t.\tA\n");
  const Refusal r = Refuse(in.path() / "short.vcf", {.sample_map = {{"S1", "A"}, {"S2", "B"}}},
                           "out.vcf.gz");
  EXPECT_EQ(r.code, "malformed_record");
  EXPECT_EQ(r.message.rfind("record 2: ", 0), 0u) << r.message;
}

TEST(HtsRefuseTest, VcfUndeclaredContigAndUnsorted) {
  TempDir in;
  WriteFile(in.path() / "ctg.vcf", std::string(kVcfHeader) +
                                        "2\t10\t.\tA\tG\t50\tPASS\t.\tGT\t0/1\t1/1\n");
  const SanitiseOptions map = {.sample_map = {{"S1", "A"}, {"S2", "B"}}};
  EXPECT_EQ(Refuse(in.path() / "ctg.vcf", map, "o.vcf.gz").code, "malformed_record");
  WriteFile(in.path() / "unsorted.vcf", std::string(kVcfHeader) +
                                             "1\t20\t.\tA\tG\t50\tPASS\t.\tGT\t0/1\t1/1\n"
                                             "1\t10\t.\tA\tG\t50\tPASS\t.\tGT\t0/1\t1/1\n");
  const Refusal r = Refuse(in.path() / "unsorted.vcf", map, "o.vcf.gz");
  EXPECT_EQ(r.code, "unsorted_file");
  EXPECT_EQ(r.message.rfind("record 2: ", 0), 0u) << r.message;
}

TEST(HtsRefuseTest, SampleNaming) {
  const fs::path multi = kFixtures / "htsget/variants/spec-v4.3.vcf.gz";
  EXPECT_EQ(Refuse(multi, {.pseudonym = "ZG-X"}).code, "sample_map_required");
  const Refusal r = Refuse(multi, {.sample_map = {{"NA00001", "A"}, {"NA00002", "B"}}});
  EXPECT_EQ(r.code, "unmapped_sample");
  EXPECT_EQ(r.message, "NA00003");
  EXPECT_EQ(Refuse(multi, {.sample_map = {{"NA00001", "A"}, {"NA00002", "A"}, {"NA00003", "C"}}})
                .code,
            "duplicate_sample");
  const fs::path single = kFixtures / "htsget-rs/vcf/sample1-bcbio-cancer.vcf.gz";
  EXPECT_EQ(Refuse(single, {}).code, "pseudonym_required");
  EXPECT_EQ(Refuse(single, {.pseudonym = "bad name\t"}).code, "invalid_pseudonym");
  EXPECT_EQ(Refuse(kFixtures / "htsget/reads/htsnexus_test_NA12878.bam", {}).code,
            "pseudonym_required");
}

TEST(HtsRefuseTest, ExistingOutputIsNotOverwritten) {
  TempDir dir;
  const fs::path out = dir.path() / "out.bcf";
  WriteFile(out, "precious");
  auto info = Sanitise(kFixtures / "single-sample-bcf/G2.bcf", out, {.pseudonym = "ZG-X"});
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.error().code, "output_exists");
  EXPECT_EQ(ReadFile(out), "precious");
  EXPECT_FALSE(fs::exists(out.string() + ".csi"));
  // An index in the way counts too, and the data file is not written.
  fs::remove(out);
  WriteFile(out.string() + ".csi", "precious");
  info = Sanitise(kFixtures / "single-sample-bcf/G2.bcf", out, {.pseudonym = "ZG-X"});
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.error().code, "output_exists");
  EXPECT_FALSE(fs::exists(out));
}

// ---- CRAM against an external reference (the fixtures' CRAM embeds its reference) -------

// A 3 kb reference and 40 reads with one mismatch each, as SAM text.
void WriteReferenceAndReads(const fs::path& dir) {
  std::string ref;
  uint32_t x = 12345;
  for (int i = 0; i < 3000; ++i) {
    x = x * 1103515245u + 12345u;
    ref += "ACGT"[(x >> 16) & 3];
  }
  std::string fa = ">chrT\n";
  for (size_t i = 0; i < ref.size(); i += 60) fa += ref.substr(i, 60) + "\n";
  WriteFile(dir / "ref.fa", fa);
  std::string sam =
      "@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:chrT\tLN:3000\n"
      "@RG\tID:rg1\tSM:patient-7\tDS:study of ward 3\n"
      "@PG\tID:bwa\tPN:bwa\tVN:0.7\tCL:bwa mem /home/alice/ref.fa /home/alice/patient-7.fq\n"
      "@CO\tpatient-7 from ward 3\n";
  for (int i = 0; i < 40; ++i) {
    std::string seq = ref.substr(static_cast<size_t>(i) * 60, 100);
    seq[10] = seq[10] == 'A' ? 'C' : 'A';
    sam += "r" + std::to_string(i) + "\t0\tchrT\t" + std::to_string(1 + i * 60) +
           "\t60\t100M\t*\t0\t0\t" + seq + "\t" + std::string(100, 'I') + "\tRG:Z:rg1\n";
  }
  WriteFile(dir / "in.sam", sam);
}

TEST(HtsCramReferenceTest, ReadsAndWritesAgainstTheGivenReference) {
  TempDir in;
  WriteReferenceAndReads(in.path());
  const fs::path ref = in.path() / "ref.fa";
  Shell("samtools view -C -T " + Quote(ref) + " -o " + Quote(in.path() / "in.cram") + " " +
        Quote(in.path() / "in.sam"));
  TempDir dir;
  const fs::path out = dir.path() / "out.cram";
  auto info = Sanitise(in.path() / "in.cram", out, {.pseudonym = "ZG-P7", .reference = ref});
  ASSERT_TRUE(info.ok()) << info.error().code << ": " << info.error().message;
  EXPECT_EQ(info->records, 40);
  EXPECT_EQ(info->dropped["comment"], 1);
  EXPECT_EQ(info->dropped["rg_description"], 1);
  EXPECT_EQ(info->dropped["reference_path"], 1);  // samtools wrote the input's UR
  const std::string t = " -T " + Quote(ref) + " ";
  EXPECT_EQ(Shell("samtools view" + t + Quote(out)), Shell("samtools view" + t + Quote(in.path() / "in.cram")));
  EXPECT_EQ(Count("samtools view -c" + t + Quote(out) + " chrT:1-100"), 2);
  const std::string header = Shell("samtools view -H --no-PG " + Quote(out));
  EXPECT_EQ(header.find("patient-7"), std::string::npos) << header;
  EXPECT_EQ(header.find("alice"), std::string::npos) << header;
  EXPECT_NE(header.find("SM:ZG-P7"), std::string::npos) << header;
  // htslib records the absolute path of the reference it encoded against (documented).
  EXPECT_NE(header.find("\tUR:" + fs::absolute(ref).string()), std::string::npos) << header;
}

TEST(HtsCramReferenceTest, NeverFollowsTheInputsUrPath) {
  TempDir in;
  WriteReferenceAndReads(in.path());
  const fs::path ref = in.path() / "ref.fa";
  Shell("samtools view -C -T " + Quote(ref) + " -o " + Quote(in.path() / "in.cram") + " " +
        Quote(in.path() / "in.sam"));
  // in.cram's @SQ UR names ref.fa, which exists; without the reference option it must not be
  // opened, so the slices cannot be decoded.
  ASSERT_NE(Shell("samtools view -H " + Quote(in.path() / "in.cram")).find("UR:"), std::string::npos);
  const Refusal r = Refuse(in.path() / "in.cram", {.pseudonym = "ZG-P7"}, "out.cram");
  EXPECT_EQ(r.code, "malformed_record");
  EXPECT_EQ(r.message.rfind("record 1: ", 0), 0u) << r.message;
}

// ---- ReadSamples and SubsetSamples ----------------------------------------------------

TEST(HtsReadSamplesTest, HeadersOnly) {
  auto s = ReadSamples(kFixtures / "htsget/reads/htsnexus_test_NA12878.cram");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*s, std::vector<std::string>{"NA12878"});
  s = ReadSamples(kFixtures / "htsget/variants/spec-v4.3.bcf");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*s, (std::vector<std::string>{"NA00001", "NA00002", "NA00003"}));
  s = ReadSamples(kFixtures / "bio-data-zoo/vcf/bad/missing_info_field.vcf");
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->empty());  // sites-only
  EXPECT_EQ(ReadSamples(kFixtures / "fastq-edge/single.fq").error().code, "unsupported_format");
}

TEST(HtsSubsetSamplesTest, KeepsOnlyNamedColumnsLikeBcftools) {
  for (const char* file : {"htsget/variants/spec-v4.3.vcf.gz", "htsget/variants/spec-v4.3.bcf"}) {
    SCOPED_TRACE(file);
    TempDir dir;
    const bool bcf = std::string(file).ends_with(".bcf");
    const fs::path input = kFixtures / file;
    const fs::path out = dir.path() / (bcf ? "sub.bcf" : "sub.vcf.gz");
    auto info = SubsetSamples(input, out, {"NA00003", "NA00001"});
    ASSERT_TRUE(info.ok()) << info.error().message;
    EXPECT_EQ(info->samples, (std::vector<std::string>{"NA00003", "NA00001"}));
    EXPECT_EQ(info->records, 5);
    EXPECT_TRUE(fs::exists(info->index));
    EXPECT_EQ(LinesOf(Shell("bcftools query -l " + Quote(out))), info->samples);
    const std::string fmt = " -f '%CHROM %POS %INFO [%SAMPLE=%GT:%GQ ]\\n' ";
    const std::string ours = Shell("bcftools query" + fmt + Quote(out));
    EXPECT_EQ(ours, Shell("bcftools query -s NA00003,NA00001" + fmt + Quote(input)));
    EXPECT_EQ(ours.find("NA00002"), std::string::npos);
    EXPECT_EQ(Count("bcftools view -H -r 20:1-1200000 " + Quote(out) + " | wc -l"), 3);
  }
}

TEST(HtsSubsetSamplesTest, SitesOnlyAndRefusals) {
  TempDir dir;
  const fs::path input = kFixtures / "htsget/variants/spec-v4.3.bcf";
  auto info = SubsetSamples(input, dir.path() / "sites.bcf", {});
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_TRUE(info->samples.empty());
  EXPECT_EQ(Shell("bcftools query -l " + Quote(dir.path() / "sites.bcf")), "");
  EXPECT_EQ(ToolCount(dir.path() / "sites.bcf", HtsFormat::kBcf), 5);

  TempDir empty;
  auto bad = SubsetSamples(input, empty.path() / "x.bcf", {"NA00001", "nobody"});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, "unknown_sample");
  bad = SubsetSamples(input, empty.path() / "x.bcf", {"NA00001", "NA00001"});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, "duplicate_sample");
  bad = SubsetSamples(kFixtures / "htsget/reads/htsnexus_test_NA12878.bam",
                      empty.path() / "x.bam", {"NA12878"});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, "unsupported_format");
  EXPECT_TRUE(fs::is_empty(empty.path()));
}

}  // namespace
}  // namespace zengen::hts
