// The HTTPS server: a Boost.Beast adapter that feeds requests into a Pipeline.
//
// TLS 1.2+ only, HTTP/1.1 with keep-alive, one C++20 coroutine per connection on a pool of
// I/O threads. The pipeline (filters and handlers) runs on a separate pool of worker threads,
// because handlers block on the database and on the durable audit record of their decision;
// the connection's coroutine waits for it without holding an I/O thread. Hard limits protect it from bad or hostile clients:
//   - more than max_connections open connections: new ones are closed at once;
//   - TLS handshake longer than handshake_timeout_ms: closed;
//   - a request (headers and body) not received whole within read_timeout_ms, or a keep-alive
//     connection idle longer than idle_timeout_ms: closed;
//   - request line + headers over max_header_bytes: 431 and close;
//   - body over the route's limit (or max_body_bytes): 413 and close, without reading it;
//   - a request that is not valid HTTP/1.1: 400 and close.
// Errors are JSON {"error":{"code","message","field"}}. The server keeps serving others.
//
// Shutdown (Shutdown() or SIGTERM/SIGINT): stop accepting, close idle connections, let
// requests in flight finish (up to shutdown_grace_ms), then Run() returns.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "common/result.h"
#include "http/http.h"

namespace zengen::http {

struct ServerOptions {
  std::string listen = "127.0.0.1:8443";  // host:port, [v6]:port; port 0 picks a free one
  std::filesystem::path tls_certificate;  // PEM chain
  std::filesystem::path tls_private_key;  // PEM
  int threads = 2;          // I/O threads: TLS and HTTP parsing
  int worker_threads = 16;  // threads that run the pipeline; they may block (database, audit)
  int max_connections = 256;
  int64_t max_header_bytes = 16 * 1024;
  int64_t max_body_bytes = 1024 * 1024;
  int64_t handshake_timeout_ms = 10000;
  int64_t read_timeout_ms = 10000;
  int64_t idle_timeout_ms = 30000;
  int64_t shutdown_grace_ms = 20000;
  bool handle_signals = true;  // SIGTERM and SIGINT start a graceful shutdown
};

class Server {
 public:
  // Loads the TLS material and binds the listening socket. Errors: "tls_config" when the
  // certificate or key cannot be loaded, "listen_failed" when the address cannot be bound,
  // "invalid_listen" when it cannot be parsed.
  static Result<std::unique_ptr<Server>> Create(const ServerOptions& options,
                                                const Pipeline& pipeline);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The bound port (useful when listening on port 0).
  uint16_t port() const;
  // Serves until shut down; returns once in-flight requests have finished or the grace period
  // ran out. Call once.
  void Run();
  // Starts a graceful shutdown. Thread-safe; may be called before or during Run().
  void Shutdown();

 private:
  class Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace zengen::http
