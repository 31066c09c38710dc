#include "app/region_rebuild.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <deque>
#include <fstream>
#include <iterator>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "analysis/analysis.h"

namespace zengen::app {
namespace fs = std::filesystem;

namespace {

// Writes bytes to a new file readable by its owner only.
Status WritePrivate(const fs::path& path, std::string_view bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Internal("write_failed", fmt::format("cannot create {}", path.string()));
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n <= 0) {
      ::close(fd);
      return Internal("write_failed", fmt::format("cannot write {}", path.string()));
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) return Internal("write_failed", fmt::format("cannot write {}", path.string()));
  return Status::Ok();
}

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

variants::MergeJob InProcessMergeJob() {
  return [](const std::vector<variants::Chunk>& chunks, std::string_view) {
    return variants::Merge(chunks);
  };
}

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
      ZG_RETURN_IF_ERROR(WritePrivate(p, variants::Encode(chunks[i])));
      order["chunks"].push_back({{"class", "File"}, {"path", p.string()}});
    }
    ZG_RETURN_IF_ERROR(WritePrivate(dir / "job.json", order.dump()));
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
    std::string where;
    if (result.exit_code == 0 && result.outputs.is_object() && result.outputs.contains("merged")) {
      // cwltool gives "path"; toil only "location" (a file:// URL).
      where = result.outputs["merged"].value("path", "");
      if (where.empty()) where = result.outputs["merged"].value("location", "");
      if (where.rfind("file://", 0) == 0) where = where.substr(7);
    }
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
  return WritePrivate(out, variants::Encode(merged));
}

Result<RebuildJob> MakeRebuildJob(Runtime& r) {
  RebuildJob job;
  if (r.config.variants_rebuild_executor != "analysis") {
    job.merge = InProcessMergeJob();
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

Result<RebuildPass> RebuildCrowdedRegions(variants::Cohort& cohort, const RebuildJob& job,
                                          int64_t min_chunks, int64_t limit, const Actor& actor,
                                          const std::string& reason, std::stop_token stop) {
  RebuildPass pass;
  ZG_ASSIGN_OR_RETURN(auto regions, cohort.CrowdedRegions(std::max<int64_t>(min_chunks, 2), limit));
  for (const auto& region : regions) {
    if (stop.stop_requested()) break;
    auto report = cohort.RebuildRegion(region.chrom, region.start, job.merge, job.executor, actor,
                                       reason);
    if (!report.ok()) {
      ++pass.failed;
      spdlog::warn("region rebuild {}:{} failed: {} [{}]", region.chrom, region.start,
                   report.error().message, report.error().code);
      continue;
    }
    if (report->merged_id.empty()) continue;
    ++pass.regions;
    pass.chunks += report->chunks_in;
  }
  return pass;
}

}  // namespace zengen::app
