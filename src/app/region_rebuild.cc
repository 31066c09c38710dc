#include "app/region_rebuild.h"

#include <atomic>
#include <deque>
#include <fstream>
#include <iterator>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "analysis/analysis.h"
#include "crypto/crypto.h"

namespace zengen::app {
namespace fs = std::filesystem;

namespace {

Result<std::string> ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return InvalidArgument("unreadable_chunk", fmt::format("cannot read {}", path.string()),
                           "chunks");
  }
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Removes a directory when it goes out of scope.
struct RemoveOnExit {
  fs::path dir;
  ~RemoveOnExit() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

}  // namespace

variants::MergeJob ExecutorMergeJob(analysis::Executor& executor, ExecutorMergeOptions o) {
  return [&executor, o](const std::vector<variants::Chunk>& chunks,
                        std::string_view job) -> Result<variants::Chunk> {
    std::error_code ec;
    fs::create_directories(o.scratch_dir, ec);
    const fs::path dir = o.scratch_dir / fmt::format("VR-{}", job);
    if (!fs::create_directory(dir, ec) || ec) {
      return Internal("write_failed", fmt::format("cannot create {}", dir.string()));
    }
    RemoveOnExit cleanup{dir};
    fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
    fs::create_directories(dir / "in", ec);
    fs::create_directories(dir / "out", ec);
    fs::create_directories(dir / "tmp", ec);
    nlohmann::json order = {{"zengen", o.zengen.string()}, {"chunks", nlohmann::json::array()}};
    for (size_t i = 0; i < chunks.size(); ++i) {
      const fs::path p = dir / "in" / fmt::format("{:06}.zgvc", i);
      ZG_RETURN_IF_ERROR(crypto::WriteSecretFile(p, variants::Encode(chunks[i])));
      order["chunks"].push_back({{"class", "File"}, {"path", p.string()}});
    }
    ZG_RETURN_IF_ERROR(crypto::WriteSecretFile(dir / "job.json", order.dump()));
    std::deque<std::string> tail;  // the log's last lines, for the error
    std::atomic<bool> cancel{false};
    ZG_ASSIGN_OR_RETURN(
        analysis::JobResult result,
        executor.Run({.run_id = std::string(job), .workflow = o.workflow,
                      .inputs = dir / "job.json", .scratch = dir, .threads = 1},
                     [&tail](std::string_view line) {
                       tail.emplace_back(line.substr(0, 400));
                       if (tail.size() > 8) tail.pop_front();
                     },
                     cancel));
    const std::string where =
        result.exit_code == 0 && result.outputs.is_object() && result.outputs.contains("merged")
            ? analysis::OutputFilePath(result.outputs["merged"])
            : "";
    if (where.empty()) {
      std::string log;
      for (const auto& l : tail) log += (log.empty() ? "" : " | ") + l;
      return Internal("rebuild_job_failed",
                      fmt::format("the merge job {} on the {} executor exited with {} and gave "
                                  "no chunk: {}",
                                  job, executor.name(), result.exit_code, log));
    }
    ZG_ASSIGN_OR_RETURN(std::string bytes, ReadAll(where));
    return variants::Decode(bytes);
  };
}

Status MergeChunkFiles(const std::vector<fs::path>& inputs, const fs::path& out) {
  std::vector<variants::Chunk> chunks;
  chunks.reserve(inputs.size());
  for (const auto& p : inputs) {
    ZG_ASSIGN_OR_RETURN(std::string bytes, ReadAll(p));
    auto c = variants::Decode(bytes);
    if (!c.ok()) {
      return InvalidArgument(c.error().code, fmt::format("{}: {}", p.string(), c.error().message),
                             "chunks");
    }
    chunks.push_back(std::move(*c));
  }
  ZG_ASSIGN_OR_RETURN(variants::Chunk merged, variants::Merge(chunks));
  return crypto::WriteSecretFile(out, variants::Encode(merged));
}

Result<RebuildJob> MakeRebuildJob(Runtime& r) {
  RebuildJob job;
  if (r.config.variants_rebuild_executor != "analysis") {
    job.merge = variants::InProcessMergeJob();
    job.executor = "in_process";
    return job;
  }
  ZG_ASSIGN_OR_RETURN(job.engine, analysis::MakeExecutor(r.config.analysis_executor));
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  const fs::path pipelines = analysis::FindPipelines(
      r.config.pipelines_dir.empty() ? fs::path() : r.config.Resolve(r.config.pipelines_dir), self);
  job.executor = r.config.analysis_executor;
  job.merge = ExecutorMergeJob(*job.engine,
                               {.workflow = pipelines / "variant-rebuild" / "1.0.0" / "merge.cwl",
                                .scratch_dir = r.config.Resolve("analysis") / "scratch",
                                .zengen = self});
  return job;
}

RebuildPass RebuildRegions(variants::Cohort& cohort, const RebuildJob& job,
                           const std::vector<variants::RegionLoad>& regions, const Actor& actor,
                           const std::string& reason, const OnRebuilt& on_rebuilt,
                           std::stop_token stop) {
  RebuildPass pass;
  for (const auto& region : regions) {
    if (stop.stop_requested()) break;
    auto report = cohort.RebuildRegion(region.chrom, region.start, job.merge, job.executor, actor,
                                       reason);
    if (on_rebuilt) on_rebuilt(region, report);
    if (!report.ok()) {
      ++pass.failed;
    } else if (!report->merged_id.empty()) {
      ++pass.regions;
      pass.chunks += report->chunks_in;
    }
  }
  return pass;
}

Result<RebuildPass> RebuildCrowdedRegions(variants::Cohort& cohort, const RebuildJob& job,
                                          int64_t min_chunks, int64_t limit, const Actor& actor,
                                          const std::string& reason, std::stop_token stop) {
  ZG_ASSIGN_OR_RETURN(auto regions, cohort.CrowdedRegions(std::max<int64_t>(min_chunks, 2), limit));
  return RebuildRegions(
      cohort, job, regions, actor, reason,
      [](const variants::RegionLoad& region, const Result<variants::RebuildReport>& outcome) {
        if (outcome.ok()) return;
        spdlog::warn("region rebuild {}:{} failed: {} [{}]", region.chrom, region.start,
                     outcome.error().message, outcome.error().code);
      },
      stop);
}

void RemoveStaleMergeScratch(const fs::path& scratch_dir) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(scratch_dir, ec)) {
    if (e.path().filename().string().rfind("VR-", 0) == 0) fs::remove_all(e.path(), ec);
  }
}

}  // namespace zengen::app
