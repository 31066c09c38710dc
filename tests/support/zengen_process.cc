#include "support/zengen_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

namespace zengen::testing {
namespace fs = std::filesystem;

std::string ZengenBinary() { return ZENGEN_BINARY; }

CommandResult RunCommand(const std::vector<std::string>& argv, const std::string& stdin_text) {
  int out[2], in[2];
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(in, O_CLOEXEC) != 0) return {};
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    ::dup2(out[1], 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(out[1]);
  ::close(in[0]);
  // Small inputs fit the pipe buffer, so writing before reading cannot deadlock.
  if (!stdin_text.empty()) {
    [[maybe_unused]] auto n = ::write(in[1], stdin_text.data(), stdin_text.size());
  }
  ::close(in[1]);
  CommandResult r;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(out[0], buf, sizeof buf)) > 0) r.output.append(buf, static_cast<size_t>(n));
  ::close(out[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::unique_ptr<ZengenServer> ZengenServer::Start(
    const std::string& backend, const std::vector<std::string>& config_lines,
    const std::function<void(const std::filesystem::path& data_dir)>& before_serve) {
  std::unique_ptr<ZengenServer> s(new ZengenServer());
  char tmpl[] = "/tmp/zg-it-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return nullptr;
  const fs::path root = tmpl;
  s->data_dir_ = root / "data";
  std::string database = "zengen.db";
  if (backend != "sqlite") {
    auto db = storage::ScratchDatabase::Create(backend);
    if (!db.ok()) {
      ADD_FAILURE() << "cannot create a " << backend << " database: " << db.error().message;
      return nullptr;
    }
    database = db->location();
    s->database_.emplace(std::move(*db));
  }
  auto init = RunCommand({ZengenBinary(), "init", "--data", s->data_dir_.string(), "--listen",
                          "127.0.0.1:0", "--database", database});
  if (init.exit_code != 0) {
    ADD_FAILURE() << "zengen init failed: " << init.output;
    return nullptr;
  }
  const auto pos = init.output.find("zgo_");
  if (pos == std::string::npos) {
    ADD_FAILURE() << "zengen init printed no operator token: " << init.output;
    return nullptr;
  }
  s->token_ = init.output.substr(pos, init.output.find('\n', pos) - pos);
  {
    std::ofstream conf(s->data_dir_ / "zengen.conf", std::ios::app);
    conf << "\n# test overrides\n";
    for (const auto& line : config_lines) conf << line << "\n";
  }
  if (before_serve) before_serve(s->data_dir_);
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return nullptr;
  const std::string log_path = (root / "server.log").string();
  s->pid_ = ::fork();
  if (s->pid_ == 0) {
    // The server must not outlive a test binary that crashed or timed out.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::dup2(out[1], 1);
    const int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(log, 2);
    const std::string bin = ZengenBinary(), dir = s->data_dir_.string();
    ::execl(bin.c_str(), bin.c_str(), "serve", "--data", dir.c_str(), nullptr);
    ::_exit(127);
  }
  ::close(out[1]);
  // Read the first stdout line: "zengen: serving https://127.0.0.1:PORT".
  std::string line;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (line.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    pollfd p{out[0], POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    char c[256];
    const ssize_t n = ::read(out[0], c, sizeof c);
    if (n <= 0) break;
    line.append(c, static_cast<size_t>(n));
  }
  ::close(out[0]);
  const auto colon = line.rfind(':');
  if (line.find("zengen: serving https://") == std::string::npos || colon == std::string::npos) {
    ADD_FAILURE() << "zengen serve did not start; stdout: " << line << "\nlog:\n" << s->Log();
    return nullptr;
  }
  s->port_ = static_cast<uint16_t>(std::stoi(line.substr(colon + 1)));
  return s;
}

ZengenServer::~ZengenServer() {
  if (pid_ > 0 && Running()) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  if (!data_dir_.empty()) {
    std::error_code ec;
    fs::remove_all(data_dir_.parent_path(), ec);
  }
}

bool ZengenServer::Running() {
  if (pid_ <= 0) return false;
  int status = 0;
  const pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == 0) return true;
  pid_ = -1;
  return false;
}

int ZengenServer::Terminate(int timeout_ms) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
  return -1;
}

std::string ZengenServer::DatabaseLocation() const {
  return database_ ? database_->location() : (data_dir_ / "zengen.db").string();
}

std::string ZengenServer::Log() const {
  std::ifstream f(data_dir_.parent_path() / "server.log");
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::optional<HttpResponse> ZengenServer::Request(
    const std::string& method, const std::string& target,
    const std::map<std::string, std::string>& headers, const std::string& body) const {
  auto c = Connect();
  if (!c || !c->Send(BuildRequest(method, target, headers, body))) return std::nullopt;
  return c->Read();
}

}  // namespace zengen::testing
