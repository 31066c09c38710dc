#include "analysis/executor.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace zengen::analysis {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int kPollMillis = 200;
constexpr int kExitPollMillis = 10;
// How long an engine gets to stop its children after SIGTERM before SIGKILL.
constexpr auto kTermGrace = std::chrono::seconds(5);

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

// Streams the child's stderr as lines until it exits; kills its group on cancel. Returns the
// wait status.
int Follow(Child c, const std::function<void(std::string_view)>& on_line,
           const std::atomic<bool>& cancel, const std::function<void()>& on_cancel,
           bool& cancelled) {
  std::string pending;
  bool open_fd = true;
  bool termed = false;
  std::chrono::steady_clock::time_point term_at;
  auto flush_lines = [&](bool all) {
    size_t start = 0;
    for (size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
      on_line(StripAnsi(std::string_view(pending).substr(start, nl - start)));
    }
    pending.erase(0, start);
    if (all && !pending.empty()) {
      on_line(StripAnsi(pending));
      pending.clear();
    }
  };
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
    const std::string tmp = (job.scratch / "tmp").string() + "/";
    // why --no-compute-checksum: cwltool would SHA-1 every step's outputs (the trimmed FASTQ,
    // the CRAM) for checksums Zengen never reads; it hashes what it registers itself (SHA-256).
    return {program_,
            "--no-container",
            "--no-compute-checksum",
            "--outdir", (job.scratch / "out").string(),
            "--tmpdir-prefix", tmp,
            "--tmp-outdir-prefix", tmp,
            job.workflow.string(),
            job.inputs.string()};
  }
};

class ToilSlurmExecutor final : public EngineExecutor {
 public:
  explicit ToilSlurmExecutor(std::string program) : EngineExecutor("slurm", std::move(program)) {}

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
  void OnCancel(const Job& job) override {
    auto q = RunCommand({"squeue", "-h", "-o", "%i %k"});
    if (!q.ok()) return;
    std::istringstream lines(q->out);
    for (std::string id, comment; lines >> id >> comment;) {
      if (comment == "zengen-" + job.run_id) (void)RunCommand({"scancel", id});
    }
  }
  std::string Node(const Job&) const override {
    auto n = RunCommand({"sinfo", "-h", "-o", "%N"});
    return n.ok() && n->exit_code == 0 ? FirstLine(n->out) : "";
  }
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

Result<std::unique_ptr<Executor>> MakeExecutor(std::string_view name) {
  if (name == "local" || name.empty()) return LocalExecutor();
  if (name == "slurm") return SlurmExecutor();
  return InvalidArgument("invalid_executor", "analysis_executor must be 'local' or 'slurm'",
                         "analysis_executor");
}

}  // namespace zengen::analysis
