#include "analysis/executor.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "common/shell.h"

namespace zengen::analysis {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int kPollMillis = 200;
constexpr int kExitPollMillis = 10;
// How long an engine gets to stop its children after SIGTERM before SIGKILL.
constexpr auto kTermGrace = std::chrono::seconds(5);
// per_run: how often the engine's log and exit file in scratch are read (a file read: cheap,
// and a step's end reaches the early sanitising without delay), every how many of those reads
// the run's Slurm job is asked about (one scontrol call: once a second), and how long a
// cancelled job may take to leave before the run is given up as cancelled anyway.
constexpr int kSlurmPollMillis = 50;
constexpr int kSchedulerQueryEvery = 20;
constexpr auto kCancelWait = std::chrono::seconds(60);

std::string StripAnsi(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\x1b' && i + 1 < s.size() && s[i + 1] == '[') {
      i += 2;
      while (i < s.size() && !(s[i] >= '@' && s[i] <= '~')) ++i;
      continue;
    }
    out += s[i];
  }
  return out;
}

std::string HostName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "";
  return buf;
}

struct Child {
  pid_t pid = -1;
  int err_fd = -1;  // the engine's stderr (its log)
};

// Starts argv in a new process group, cwd `dir`, stdout to `stdout_path`, stderr to a pipe.
Result<Child> Spawn(const std::vector<std::string>& argv, const fs::path& dir,
                    const fs::path& stdout_path, bool merge_stdout = false,
                    const std::vector<std::string>& extra_env = {}) {
  // Built before fork: the child only calls async-signal-safe functions.
  std::vector<std::string> env_strings = extra_env;
  for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return Internal("spawn_failed", "pipe failed");
  const pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return Internal("spawn_failed", "fork failed");
  }
  if (pid == 0) {
    setpgid(0, 0);
    if (!dir.empty() && chdir(dir.c_str()) != 0) _exit(126);
    const int out = merge_stdout ? fds[1]
                                 : open(stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (out < 0) _exit(126);
    dup2(out, 1);
    dup2(fds[1], 2);
    const int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, 0);
    execvpe(args[0], args.data(), envp.data());
    _exit(127);
  }
  setpgid(pid, pid);  // also from the parent, so a kill before the child's setpgid reaches it
  close(fds[1]);
  return Child{pid, fds[0]};
}

// Hands each complete line of `pending` to on_line without its colour codes and keeps the
// partial last line for the next call (hands it on too, when `all`).
void HandOnLines(std::string& pending, bool all,
                 const std::function<void(std::string_view)>& on_line) {
  size_t start = 0;
  for (size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
    on_line(StripAnsi(std::string_view(pending).substr(start, nl - start)));
  }
  pending.erase(0, start);
  if (all && !pending.empty()) {
    on_line(StripAnsi(pending));
    pending.clear();
  }
}

// Streams the child's stderr as lines until it exits; kills its group on cancel. Returns the
// wait status.
int Follow(Child c, const std::function<void(std::string_view)>& on_line,
           const std::atomic<bool>& cancel, const std::function<void()>& on_cancel,
           bool& cancelled) {
  std::string pending;
  bool open_fd = true;
  bool termed = false;
  std::chrono::steady_clock::time_point term_at;
  auto flush_lines = [&](bool all) { HandOnLines(pending, all, on_line); };
  int status = 0;
  for (;;) {
    if (open_fd) {
      pollfd p{c.err_fd, POLLIN, 0};
      if (poll(&p, 1, kPollMillis) > 0) {
        char buf[8192];
        const ssize_t n = read(c.err_fd, buf, sizeof buf);
        if (n > 0) {
          pending.append(buf, static_cast<size_t>(n));
          flush_lines(false);
        } else if (n == 0) {
          open_fd = false;
        }
      }
    } else {
      // why: the log closes when the engine exits; its exit status follows at once.
      usleep(kExitPollMillis * 1000);
    }
    if (cancel.load() && !termed) {
      termed = true;
      cancelled = true;
      term_at = std::chrono::steady_clock::now();
      kill(-c.pid, SIGTERM);
      if (on_cancel) on_cancel();
    }
    if (termed && std::chrono::steady_clock::now() - term_at > kTermGrace) {
      kill(-c.pid, SIGKILL);
    }
    const pid_t w = waitpid(c.pid, &status, WNOHANG);
    if (w == c.pid) break;
  }
  // Drain what the engine wrote before it ended; children left in the group are stopped.
  if (open_fd) {
    fcntl(c.err_fd, F_SETFL, O_NONBLOCK);
    char buf[8192];
    for (ssize_t n; (n = read(c.err_fd, buf, sizeof buf)) > 0;) pending.append(buf, size_t(n));
  }
  flush_lines(true);
  close(c.err_fd);
  kill(-c.pid, SIGKILL);
  return status;
}

int ExitCode(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

json ReadJson(const fs::path& p) {
  std::ifstream f(p);
  std::stringstream ss;
  ss << f.rdbuf();
  return json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
}

std::string FirstLine(const std::string& s) { return s.substr(0, s.find('\n')); }

// cwltool's command line for a job: every file it writes stays in the run's scratch directory.
std::vector<std::string> CwltoolArgv(const std::string& program, const Job& job) {
  const std::string tmp = (job.scratch / "tmp").string() + "/";
  // why --no-compute-checksum: cwltool would SHA-1 every step's outputs (the trimmed FASTQ,
  // the CRAM) for checksums Zengen never reads; it hashes what it registers itself (SHA-256).
  return {program,
          "--no-container",
          "--no-compute-checksum",
          "--outdir", (job.scratch / "out").string(),
          "--tmpdir-prefix", tmp,
          "--tmp-outdir-prefix", tmp,
          job.workflow.string(),
          job.inputs.string()};
}

// The Slurm jobs carrying comment zengen-<run_id>, cancelled with scancel (squeue only: no
// accounting database).
void CancelRunJobs(const std::string& run_id) {
  auto q = RunCommand({"squeue", "-h", "-o", "%i %k"});
  if (!q.ok()) return;
  std::istringstream lines(q->out);
  for (std::string id, comment; lines >> id >> comment;) {
    if (comment == "zengen-" + run_id) (void)RunCommand({"scancel", id});
  }
}

class EngineExecutor : public Executor {
 public:
  EngineExecutor(std::string name, std::string program)
      : program_(std::move(program)), name_(std::move(name)) {
    auto v = RunCommand({program_, "--version"});
    version_ = v.ok() ? FirstLine(v->out) : program_ + " (version unknown)";
  }
  std::string name() const override { return name_; }
  std::string EngineVersion() const override { return version_; }

  Result<JobResult> Run(const Job& job, const std::function<void(std::string_view)>& on_line,
                        const std::atomic<bool>& cancel) override {
    const fs::path out_json = job.scratch / "engine-output.json";
    ZG_ASSIGN_OR_RETURN(Child c, Spawn(Argv(job), job.scratch, out_json, false, Env(job)));
    JobResult r;
    const int status = Follow(c, on_line, cancel, [this, &job] { OnCancel(job); }, r.cancelled);
    r.exit_code = ExitCode(status);
    if (r.exit_code == 0 && !r.cancelled) r.outputs = ReadJson(out_json);
    r.node = Node(job);
    return r;
  }

 protected:
  virtual std::vector<std::string> Argv(const Job& job) const = 0;
  virtual std::vector<std::string> Env(const Job&) const { return {}; }
  virtual void OnCancel(const Job&) {}
  virtual std::string Node(const Job&) const { return HostName(); }
  const std::string program_;

 private:
  std::string name_;
  std::string version_;
};

class CwltoolExecutor final : public EngineExecutor {
 public:
  explicit CwltoolExecutor(std::string program) : EngineExecutor("local", std::move(program)) {}

 private:
  std::vector<std::string> Argv(const Job& job) const override {
    return CwltoolArgv(program_, job);
  }
};

class ToilSlurmExecutor final : public EngineExecutor {
 public:
  explicit ToilSlurmExecutor(std::string program) : EngineExecutor("slurm", std::move(program)) {}
  std::string mode() const override { return "per_step"; }
  void Abandon(const std::string& run_id) override { CancelRunJobs(run_id); }

 private:
  std::vector<std::string> Argv(const Job& job) const override {
    // Every engine file stays in the run's scratch directory: the job store, Toil's work
    // directory (and the Slurm jobs' stdout/stderr), and cwltool's step directories, which
    // would otherwise default to /tmp (the prefix is taken as is: "tmp/eng-" makes
    // tmp/eng-XXXXXX).
    const std::string prefix = (job.scratch / "tmp" / "eng-").string();
    return {program_,
            "--batchSystem", "slurm",
            "--jobStore", "file:" + (job.scratch / "jobstore").string(),
            "--workDir", (job.scratch / "tmp").string(),
            "--outdir", (job.scratch / "out").string(),
            // why --bypass-file-store: the scratch directory is on the file system the Slurm
            // nodes share (the job store there already requires it), so each step reads its
            // inputs and writes its outputs in place instead of Toil copying every
            // intermediate file (trimmed FASTQ, CRAM) into its job store and out again; the
            // align step's CRAM and .crai then sit side by side in scratch, where Zengen
            // sanitises the CRAM while the call step runs (analysis.cc, EarlyOutputs).
            "--bypass-file-store",
            "--tmpdir-prefix", prefix,
            "--tmp-outdir-prefix", prefix,
            "--disableCaching",
            // why: Toil would SHA-1 every final output (the CRAM) for checksums Zengen never
            // reads; it hashes what it registers itself (SHA-256).
            "--no-compute-checksum",
            "--retryCount", "1",
            // why: the default waits long between scheduler queries; a query every 2 s costs
            // the scheduler little and keeps short steps from idling.
            "--statePollingWait", "2",
            "--defaultCores", std::to_string(job.threads),
            "--defaultMemory", "2G",
            job.workflow.string(),
            job.inputs.string()};
  }
  // why: the Slurm jobs carry the run id in their comment, so a cancellation finds them with
  // squeue alone (no accounting database).
  std::vector<std::string> Env(const Job& job) const override {
    return {"TOIL_SLURM_ARGS=--comment=zengen-" + job.run_id};
  }
  void OnCancel(const Job& job) override { CancelRunJobs(job.run_id); }
  std::string Node(const Job&) const override {
    auto n = RunCommand({"sinfo", "-h", "-o", "%N"});
    return n.ok() && n->exit_code == 0 ? FirstLine(n->out) : "";
  }
};



// The largest `key: N` over the .cwl files in `dir` (0 when none declares it).
int64_t MaxDeclared(const fs::path& dir, std::string_view key) {
  int64_t best = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.path().extension() != ".cwl") continue;
    std::ifstream f(e.path());
    for (std::string line; std::getline(f, line);) {
      const size_t at = line.find(std::string(key) + ":");
      if (at == std::string::npos) continue;
      const std::string rest = line.substr(at + key.size() + 1);
      char* end = nullptr;
      const long long v = std::strtoll(rest.c_str(), &end, 10);
      if (end != rest.c_str() && v > best) best = v;
    }
  }
  return best;
}

// A Slurm job's state as `scontrol show job -o` reports it.
struct SlurmJobState {
  bool gone = false;      // the controller no longer knows the job
  std::string state;      // PENDING, RUNNING, COMPLETED, CANCELLED, ...
  std::string node_list;  // empty until it runs
  std::string exit_code;  // "status:signal"
};

std::string Field(const std::string& line, std::string_view key) {
  const std::string k = " " + std::string(key) + "=";
  size_t at = (" " + line).find(k);
  if (at == std::string::npos) return "";
  at += k.size() - 1;  // in `line` (the leading space was added)
  const size_t end = line.find(' ', at);
  return line.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

std::optional<SlurmJobState> QueryJob(const std::string& id) {
  auto q = RunCommand({"scontrol", "show", "job", "-o", id});
  if (!q.ok()) return std::nullopt;
  SlurmJobState s;
  if (q->exit_code != 0) {
    if (q->out.find("Invalid job id") != std::string::npos) {
      s.gone = true;
      return s;
    }
    return std::nullopt;  // the controller did not answer: ask again later
  }
  s.state = Field(q->out, "JobState");
  s.node_list = Field(q->out, "NodeList");
  if (s.node_list == "(null)") s.node_list.clear();
  s.exit_code = Field(q->out, "ExitCode");
  return s;
}

bool Finished(const SlurmJobState& s) {
  static const std::set<std::string, std::less<>> kEnded = {
      "COMPLETED", "FAILED",   "CANCELLED", "TIMEOUT",       "NODE_FAIL",
      "PREEMPTED", "BOOT_FAIL", "DEADLINE", "OUT_OF_MEMORY", "SPECIAL_EXIT"};
  return s.gone || kEnded.contains(s.state);
}

// The engine's log as a file in scratch that grows: each call hands on the complete lines
// written since the previous one (all of it, the last partial line too, when `all`).
class LogTail {
 public:
  explicit LogTail(fs::path path) : path_(std::move(path)) {}
  void Read(const std::function<void(std::string_view)>& on_line, bool all) {
    std::ifstream f(path_, std::ios::binary);
    if (f) {
      f.seekg(static_cast<std::streamoff>(offset_));
      char buf[8192];
      while (f.read(buf, sizeof buf) || f.gcount() > 0) {
        pending_.append(buf, static_cast<size_t>(f.gcount()));
        offset_ += static_cast<uint64_t>(f.gcount());
      }
    }
    HandOnLines(pending_, all, on_line);
  }

 private:
  fs::path path_;
  uint64_t offset_ = 0;
  std::string pending_;
};

class SlurmAllocation final : public Executor {
 public:
  explicit SlurmAllocation(std::string program) : program_(std::move(program)) {
    auto v = RunCommand({program_, "--version"});
    version_ = v.ok() ? FirstLine(v->out) : program_ + " (version unknown)";
  }
  std::string name() const override { return "slurm"; }
  std::string mode() const override { return "per_run"; }
  std::string EngineVersion() const override { return version_; }
  void Abandon(const std::string& run_id) override { CancelRunJobs(run_id); }

  Result<JobResult> Run(const Job& job, const std::function<void(std::string_view)>& on_line,
                        const std::atomic<bool>& cancel) override {
    const fs::path out_json = job.scratch / "engine-output.json";
    const fs::path exit_file = job.scratch / "engine-exit";
    const fs::path log = job.scratch / "engine.log";
    const fs::path script = job.scratch / "run.sbatch";
    {
      // The batch script: the engine's stdout is its output object; its exit status is
      // written last (renamed into place), so Zengen knows the engine ended and how without
      // an accounting database.
      std::string cmd;
      for (const auto& a : CwltoolArgv(program_, job)) cmd += ShellQuote(a) + " ";
      std::ofstream f(script);
      f << "#!/bin/sh\n"
        << "cd " << ShellQuote(job.scratch.string()) << " || exit 126\n"
        << cmd << "> " << ShellQuote(out_json.string()) << "\n"
        << "echo $? > " << ShellQuote(exit_file.string() + ".tmp") << " && mv "
        << ShellQuote(exit_file.string() + ".tmp") << " " << ShellQuote(exit_file.string())
        << "\n";
      if (!f) return Internal("spawn_failed", "cannot write the batch script");
    }
    fs::permissions(script, fs::perms::owner_all, fs::perm_options::replace);
    const fs::path dir = job.workflow.parent_path();
    const int64_t cores = std::max<int64_t>(job.threads, MaxDeclared(dir, "coresMin"));
    const int64_t mem_mib = std::max<int64_t>(2048, MaxDeclared(dir, "ramMin"));
    auto sub = RunCommand({"sbatch", "--parsable", "--job-name=zengen-" + job.run_id,
                           "--comment=zengen-" + job.run_id, "--nodes=1", "--ntasks=1",
                           fmt::format("--cpus-per-task={}", cores),
                           fmt::format("--mem={}M", mem_mib), "--chdir=" + job.scratch.string(),
                           "--output=" + (job.scratch / "slurm.out").string(),
                           "--error=" + log.string(), script.string()});
    if (!sub.ok()) return sub.error();
    const std::string id = FirstLine(sub->out).substr(0, FirstLine(sub->out).find(';'));
    if (sub->exit_code != 0 || id.empty() ||
        id.find_first_not_of("0123456789") != std::string::npos) {
      on_line("sbatch: " + sub->out);
      return Internal("spawn_failed", "sbatch refused the run's job: " + FirstLine(sub->out));
    }
    on_line(fmt::format("slurm: run submitted as job {} ({} cores, {} MiB)", id, cores, mem_mib));
    JobResult r;
    r.job_id = id;
    LogTail tail(log);
    SlurmJobState last;
    bool scancelled = false;
    std::chrono::steady_clock::time_point cancelled_at;
    int64_t polls = 0;
    for (;;) {
      tail.Read(on_line, false);
      if (cancel.load() && !scancelled) {
        scancelled = true;
        r.cancelled = true;
        cancelled_at = std::chrono::steady_clock::now();
        (void)RunCommand({"scancel", id});
      }
      // The exit file is the batch script's last act: the engine has ended and its log and
      // output object are complete.
      if (fs::exists(exit_file)) break;
      if (polls++ % (scancelled ? 4 : kSchedulerQueryEvery) == 0) {
        if (auto s = QueryJob(id)) {
          if (!s->node_list.empty()) r.node = s->node_list;
          if (!s->gone) last = *s;
          if (Finished(*s)) break;
        }
      }
      if (scancelled && std::chrono::steady_clock::now() - cancelled_at > kCancelWait) break;
      usleep(kSlurmPollMillis * 1000);
    }
    tail.Read(on_line, true);
    if (r.node.empty()) {
      // A run shorter than a query interval: the controller still knows where it ran.
      if (auto s = QueryJob(id)) r.node = s->node_list;
    }
    std::ifstream ef(exit_file);
    int code = -1;
    if (ef >> code) {
      r.exit_code = code;
    } else {
      // Ended without the engine's status: cancelled, killed, out of time or memory.
      r.exit_code = last.state == "CANCELLED" ? 128 + SIGTERM : 1;
      on_line(fmt::format("slurm: job {} ended {} (exit code {}) before the engine reported "
                          "its status",
                          id, last.state.empty() ? "unknown" : last.state, last.exit_code));
    }
    if (r.exit_code == 0 && !r.cancelled) r.outputs = ReadJson(out_json);
    return r;
  }

 private:
  const std::string program_;
  std::string version_;
};

}  // namespace

Result<CommandOutput> RunCommand(const std::vector<std::string>& argv) {
  ZG_ASSIGN_OR_RETURN(Child c, Spawn(argv, {}, {}, /*merge_stdout=*/true));
  std::atomic<bool> never{false};
  CommandOutput out;
  bool cancelled = false;
  const int status = Follow(
      c, [&out](std::string_view line) { out.out.append(line).append("\n"); }, never, {},
      cancelled);
  out.exit_code = ExitCode(status);
  return out;
}

std::unique_ptr<Executor> LocalExecutor(std::string program) {
  return std::make_unique<CwltoolExecutor>(std::move(program));
}

std::unique_ptr<Executor> SlurmExecutor(std::string program) {
  return std::make_unique<ToilSlurmExecutor>(std::move(program));
}

std::unique_ptr<Executor> SlurmAllocationExecutor(std::string program) {
  return std::make_unique<SlurmAllocation>(std::move(program));
}

Result<std::unique_ptr<Executor>> MakeExecutor(std::string_view name) {
  if (name == "local" || name.empty()) return LocalExecutor();
  if (name == "slurm") return SlurmExecutor();
  if (name == "slurm_allocation") return SlurmAllocationExecutor();
  return InvalidArgument("invalid_executor",
                         "analysis_executor must be 'local', 'slurm' or 'slurm_allocation'",
                         "analysis_executor");
}

std::string OutputFilePath(const nlohmann::json& file) {
  if (!file.is_object()) return "";
  std::string where = file.value("path", "");
  if (where.empty()) where = file.value("location", "");
  if (where.rfind("file://", 0) == 0) where = where.substr(7);
  return where;
}

}  // namespace zengen::analysis
