// Issue 15: a region rebuild of the cohort variant store runs as a job on the analysis
// executor — the CWL tool pipelines/variant-rebuild/1.0.0/merge.cwl under the real cwltool,
// and on the one-node Slurm cluster the test script starts (Toil submitting the step, and one
// allocation per job) — and its answer is recorded only when it holds exactly its inputs.
#include <unistd.h>

#include <filesystem>
#include <map>
#include <fstream>
#include <random>
#include <stop_token>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "analysis/executor.h"
#include "analysis/slurm_test_support.h"
#include "app/region_rebuild.h"
#include "variants/cohort_test_support.h"

namespace zengen::variants {
namespace {

namespace fs = std::filesystem;

using analysis::kNoSlurm;
using analysis::SlurmUp;

class RegionRebuildTest : public CohortFixture {
 protected:
  void SetUp() override {
    CohortFixture::SetUp();
    if (HasFatalFailure()) return;
    // Five single-sample files over three chunk regions (chunks of 50 kb), each its own batch.
    std::mt19937 rng(5);
    for (uint32_t i = 0; i < 5; ++i) {
      AddParticipant(fmt::format("P{}", i));
      const fs::path path = dir_ / fmt::format("S{}.vcf", i);
      std::ofstream out(path);
      out << "##fileformat=VCFv4.2\n##contig=<ID=chrV,length=200000>\n"
             "##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">\n"
             "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS" << i << "\n";
      for (int64_t pos = 1000 + i; pos < 150000; pos += std::uniform_int_distribution<int64_t>(500, 4000)(rng)) {
        out << fmt::format("chrV\t{}\t.\tA\tG\t.\tPASS\t.\tGT\t{}\n", pos, pos % 3 == 0 ? "1/1" : "0/1");
      }
      out.close();
      ASSERT_TRUE(cohort_->Ingest(Source(fmt::format("FL-{}", i), path, {i}), actor_).ok());
    }
    before_ = Answers();
    ASSERT_GT(before_.size(), 100u);
    ASSERT_EQ(LiveChunks().at(1), 5);
  }

  // Every site's AC/AN over every sample, as text.
  std::vector<std::string> Answers() {
    auto chunks = cohort_->Chunks("chrV", 1, 200000);
    EXPECT_TRUE(chunks.ok());
    Roaring all;
    for (uint32_t b = 0; b < 5; ++b) all.add(b);
    std::vector<std::string> out;
    if (!chunks.ok()) return out;
    for (const auto& c : Count(*chunks, "chrV", 1, 200000, all)) {
      out.push_back(fmt::format("{} {} {} {}", c.site.pos, c.site.alt, c.ac, c.an));
    }
    return out;
  }

  MergeJob OnExecutor(analysis::Executor& executor, const fs::path& zengen = ZENGEN_BINARY) {
    return app::ExecutorMergeJob(
        executor, {.workflow = fs::path(ZENGEN_PIPELINES) / "variant-rebuild" / "1.0.0" / "merge.cwl",
                   .scratch_dir = dir_ / "scratch",
                   .zengen = zengen});
  }

  // No job directory is left in scratch.
  void ExpectScratchEmpty() {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir_ / "scratch", ec)) {
      ADD_FAILURE() << "left in scratch: " << e.path().string();
    }
  }

  void RebuildsAllThreeRegions(analysis::Executor& executor, const std::string& name) {
    for (int64_t start : {1, 50001, 100001}) {
      auto r = cohort_->RebuildRegion("chrV", start, OnExecutor(executor), name, actor_, "test");
      ASSERT_TRUE(r.ok()) << r.error().code << ": " << r.error().message;
      EXPECT_EQ(r->chunks_in, 5);
      EXPECT_EQ(r->samples, 5);
    }
    for (const auto& [start, n] : LiveChunks()) EXPECT_EQ(n, 1) << start;
    EXPECT_EQ(Answers(), before_);
    ExpectScratchEmpty();
    int audited = 0;
    for (const auto& e : audit_.events()) {
      if (e.action != "variants.rebuild") continue;
      ++audited;
      EXPECT_NE(e.details.find(fmt::format("\"executor\":\"{}\"", name)), std::string::npos);
    }
    EXPECT_EQ(audited, 3);
  }

  fs::path Script(const std::string& name, const std::string& body) {
    const fs::path p = dir_ / name;
    std::ofstream(p) << "#!/bin/sh\n" << body << "\n";
    fs::permissions(p, fs::perms::owner_all);
    return p;
  }

  std::vector<std::string> before_;
};

TEST_P(RegionRebuildTest, TheMergeRunsAsACwlJobUnderCwltool) {
  auto executor = analysis::LocalExecutor();
  RebuildsAllThreeRegions(*executor, "local");
}

// A job that fails, answers garbage, or answers with fewer inputs than it was given records
// nothing, leaves the region's chunks as they were and no scratch directory.
TEST_P(RegionRebuildTest, AJobThatFailsOrAnswersWronglyRecordsNothing) {
  auto executor = analysis::LocalExecutor();
  const std::map<std::string, std::pair<fs::path, std::string>> jobs = {
      {"exits 3", {Script("fail.sh", "echo merge refused >&2; exit 3"), "rebuild_job_failed"}},
      {"garbage", {Script("garbage.sh", "printf 'ZGVC1 not a chunk' > \"$4\""), "bad_chunk"}},
      // $1 variants, $2 merge-chunks, $3 --out, $4 merged.zgvc, $5… the chunks
      {"first input only", {Script("first.sh", "cp \"$5\" \"$4\""), "rebuild_mismatch"}},
      {"one input dropped",
       {Script("drop.sh", fmt::format("out=\"$4\"; shift 5; exec {} variants merge-chunks --out \"$out\" \"$@\"",
                                      ZENGEN_BINARY)),
        "rebuild_mismatch"}}};
  for (const auto& [what, job] : jobs) {
    SCOPED_TRACE(what);
    auto r = cohort_->RebuildRegion("chrV", 1, OnExecutor(*executor, job.first), "local", actor_, "");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, job.second) << r.error().message;
    EXPECT_EQ(LiveChunks().at(1), 5);
    EXPECT_EQ(CountRows("variant_merged_chunks"), 0);
    ExpectScratchEmpty();
  }
  EXPECT_EQ(Answers(), before_);
  int audited = 0;
  for (const auto& e : audit_.events()) {
    if (e.action != "variants.rebuild_failed") continue;
    ++audited;
    EXPECT_NE(e.details.find("\"executor\":\"local\""), std::string::npos) << e.details;
  }
  EXPECT_EQ(audited, static_cast<int>(jobs.size()));
}

TEST_P(RegionRebuildTest, TheMergeRunsAsAStepToilSubmitsToSlurm) {
  if (!SlurmUp()) GTEST_SKIP() << kNoSlurm;
  auto executor = analysis::SlurmExecutor();
  RebuildsAllThreeRegions(*executor, "slurm");
}

TEST_P(RegionRebuildTest, TheMergeRunsInOneSlurmAllocation) {
  if (!SlurmUp()) GTEST_SKIP() << kNoSlurm;
  auto executor = analysis::SlurmAllocationExecutor();
  RebuildsAllThreeRegions(*executor, "slurm_allocation");
}

// The ingest job's pass: the most crowded regions first, at most `limit`, only those holding at
// least `min_chunks`; a requested stop starts no further region.
TEST_P(RegionRebuildTest, TheIngestJobsPassRebuildsTheCrowdedRegionsUpToItsLimit) {
  const app::RebuildJob job{.merge = InProcessMergeJob(), .executor = "in_process", .engine = {}};
  auto none = app::RebuildCrowdedRegions(*cohort_, job, 6, 64, actor_, "automatic");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->regions, 0);
  std::stop_source stopped;
  stopped.request_stop();
  auto halted = app::RebuildCrowdedRegions(*cohort_, job, 5, 64, actor_, "automatic", stopped.get_token());
  ASSERT_TRUE(halted.ok());
  EXPECT_EQ(halted->regions, 0);
  auto two = app::RebuildCrowdedRegions(*cohort_, job, 5, 2, actor_, "automatic");
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(two->regions, 2);
  EXPECT_EQ(two->chunks, 10);
  EXPECT_EQ(two->failed, 0);
  std::vector<int64_t> live;
  for (const auto& [start, n] : LiveChunks()) live.push_back(n);
  std::sort(live.begin(), live.end());
  EXPECT_EQ(live, (std::vector<int64_t>{1, 1, 5}));
  auto rest = app::RebuildCrowdedRegions(*cohort_, job, 2, 64, actor_, "automatic");
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(rest->regions, 1);
  EXPECT_EQ(Answers(), before_);
}

// The commands an operator types and the step a job runs: `variants rebuild` refuses a missing
// or blank reason, an unknown executor and a start of 0 (naming them), and a range of a
// trillion bases costs nothing (only regions holding chunks are visited); `variants
// merge-chunks` merges well-formed chunks and refuses missing, malformed, oversized and
// overlapping ones and an existing output, each with its code.
TEST(RegionRebuildCliTest, TheCommandsRefuseBadInputNamingIt) {
  const fs::path dir = fs::temp_directory_path() / fmt::format("zg-rebuild-cli-{}", ::getpid());
  fs::remove_all(dir);
  fs::create_directories(dir);
  auto run = [](std::vector<std::string> args) {
    args.insert(args.begin(), ZENGEN_BINARY);
    auto r = analysis::RunCommand(args);
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : analysis::CommandOutput{-1, ""};
  };
  const std::string data = (dir / "data").string();
  ASSERT_EQ(run({"init", "--data", data}).exit_code, 0);
  const auto missing = run({"variants", "rebuild", "--data", data});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.out.find("--reason"), std::string::npos) << missing.out;
  const auto blank = run({"variants", "rebuild", "--data", data, "--reason", " \xE3\x80\x80\t"});
  EXPECT_NE(blank.exit_code, 0);
  EXPECT_NE(blank.out.find("(reason)"), std::string::npos) << blank.out;
  const auto executor = run({"variants", "rebuild", "--data", data, "--reason", "r", "--executor", "slurm"});
  EXPECT_NE(executor.exit_code, 0);
  EXPECT_NE(executor.out.find("--executor"), std::string::npos) << executor.out;
  const auto start = run({"variants", "rebuild", "--data", data, "--reason", "r", "--chrom", "chrV", "--start", "0"});
  EXPECT_NE(start.exit_code, 0);
  EXPECT_NE(start.out.find("--start"), std::string::npos) << start.out;
  const auto wide = run({"variants", "rebuild", "--data", data, "--reason", "r", "--chrom", "chrV",
                         "--end", "1099511627776"});
  EXPECT_EQ(wide.exit_code, 0) << wide.out;

  // Two batches over one region, and what merge-chunks makes of them.
  auto chunk_of = [](uint32_t sample, int64_t pos) {
    ChunkBuilder b(50000);
    b.AddRecord({.chrom = "chrV", .pos = pos, .ref = "A", .alts = {"G"}, .gt = {{0, 1}}, .id = "."},
                {sample});
    return b.Finish().at(0);
  };
  const Chunk a = chunk_of(0, 100), b = chunk_of(1, 200);
  auto write = [&](const std::string& name, std::string_view bytes) {
    std::ofstream(dir / name, std::ios::binary) << bytes;
    return (dir / name).string();
  };
  const std::string fa = write("a.zgvc", Encode(a)), fb = write("b.zgvc", Encode(b));
  const auto merged = run({"variants", "merge-chunks", "--out", (dir / "m.zgvc").string(), fa, fb});
  ASSERT_EQ(merged.exit_code, 0) << merged.out;
  std::ifstream in(dir / "m.zgvc", std::ios::binary);
  const std::string bytes{std::istreambuf_iterator<char>(in), {}};
  auto expected = Merge(std::vector<Chunk>{a, b});
  ASSERT_TRUE(expected.ok());
  EXPECT_EQ(bytes, Encode(*expected));
  const std::map<std::string, std::vector<std::string>> refused = {
      {"unreadable_chunk", {fa, (dir / "absent.zgvc").string()}},
      {"bad_chunk", {fa, write("garbage.zgvc", "ZGVC1 not a chunk")}},
      // A header declaring 2^40 bytes of content: refused before anything is allocated.
      {"bad_chunk ", {write("huge.zgvc", std::string("ZGVC1") + "\x80\x80\x80\x80\x80\x80\x01"), fb}},
      {"overlapping_batches", {fa, fa}},
  };
  int k = 0;
  for (const auto& [code, inputs] : refused) {
    std::vector<std::string> args = {"variants", "merge-chunks", "--out",
                                     (dir / fmt::format("r{}.zgvc", k++)).string()};
    args.insert(args.end(), inputs.begin(), inputs.end());
    const auto r = run(args);
    EXPECT_EQ(r.exit_code, 1) << code << ": " << r.out;
    EXPECT_NE(r.out.find("[" + code.substr(0, code.find(' ')) + "]"), std::string::npos) << r.out;
  }
  const auto exists = run({"variants", "merge-chunks", "--out", (dir / "m.zgvc").string(), fa, fb});
  EXPECT_EQ(exists.exit_code, 1) << exists.out;
  EXPECT_NE(exists.out.find("[file_create_failed]"), std::string::npos) << exists.out;
  fs::remove_all(dir);
}

// One backend: the jobs do not touch the metadata store (the rebuild's recording is tested on
// both in variants_test).
INSTANTIATE_TEST_SUITE_P(Sqlite, RegionRebuildTest, ::testing::Values("sqlite"));

}  // namespace
}  // namespace zengen::variants
