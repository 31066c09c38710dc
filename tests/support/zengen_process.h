// Runs the real `zengen` binary for integration tests: `zengen init` into a temporary data
// directory on the chosen backend, then `zengen serve` on port 0 as a child process.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "storage/testing.h"
#include "support/tls_client.h"

namespace zengen::testing {

// Runs a command, returning its exit status and everything it wrote to stdout and stderr.
struct CommandResult {
  int exit_code = -1;
  std::string output;
};
// stdin_text is written to its standard input (then closed).
CommandResult RunCommand(const std::vector<std::string>& argv, const std::string& stdin_text = "");

// Path of the zengen binary under test.
std::string ZengenBinary();

class ZengenServer {
 public:
  // Initialises a data directory on backend ("sqlite" or "postgres"), appends config_lines to
  // its zengen.conf (later keys override earlier ones) and starts `zengen serve`. Test
  // failures are reported through GoogleTest; returns null when start-up failed.
  // before_serve, when given, runs on the initialised data directory before the server starts
  // (e.g. to load the demo cohort in-process).
  static std::unique_ptr<ZengenServer> Start(
      const std::string& backend, const std::vector<std::string>& config_lines = {},
      const std::function<void(const std::filesystem::path& data_dir)>& before_serve = nullptr);
  ~ZengenServer();

  uint16_t port() const { return port_; }
  const std::filesystem::path& data_dir() const { return data_dir_; }
  const std::string& operator_token() const { return token_; }
  std::filesystem::path ca_cert() const { return data_dir_ / "tls/server.crt"; }
  // Opens a new TLS connection to the server (null on failure).
  std::unique_ptr<TlsConnection> Connect() const { return TlsConnection::Connect(port_, ca_cert()); }
  // One request on a fresh connection.
  std::optional<HttpResponse> Request(const std::string& method, const std::string& target,
                                      const std::map<std::string, std::string>& headers = {},
                                      const std::string& body = "") const;
  // Sends SIGTERM and waits up to timeout for the process; returns its exit code, or -1 if it
  // had to be killed.
  int Terminate(int timeout_ms = 15000);
  bool Running();
  // The server's log (stderr) so far.
  std::string Log() const;
  // Path of the database for raw inspection: the SQLite file or the PostgreSQL URL.
  std::string DatabaseLocation() const;

 private:
  ZengenServer() = default;
  std::optional<storage::ScratchDatabase> database_;
  std::filesystem::path data_dir_;
  std::string token_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace zengen::testing
