// The HTTPS server: a Boost.Beast adapter that feeds requests into a Pipeline.
//
// TLS 1.2 (AEAD suites only, in the server's order) and TLS 1.3, HTTP/1.1 with keep-alive, one
// C++20 coroutine per connection on a pool of I/O threads. The pipeline (filters and handlers)
// runs on a separate pool of worker threads, because handlers block on the database and on the
// durable audit record of their decision; the connection's coroutine waits for it without
// holding an I/O thread.
//
// A request is admitted in two steps (issue 13): once its headers are in, the filters
// (authentication, policy) run on them alone; only an admitted request has its body read, and
// only while the bodies held in memory by all connections stay within body_memory_budget_bytes.
// So an anonymous client can make the server hold its headers (max_header_bytes) but never its
// body.
//
// Hard limits protect it from bad or hostile clients:
//   - a connection from an address that already has max_connections_per_address open, or when
//     max_connections are open, or when max_connections - reserved_connections are open and
//     have not authenticated: closed at once (the reserve keeps room for established,
//     authenticated clients);
//   - TLS handshake longer than handshake_timeout_ms, or the first request's headers not in
//     within header_timeout_ms: closed;
//   - a body not received whole within read_timeout_ms, or a keep-alive connection idle longer
//     than idle_timeout_ms: closed;
//   - request line + headers over max_header_bytes: 431 and close;
//   - body over the route's limit (or max_body_bytes): 413 and close, without reading it;
//   - bodies over the memory budget: 503 "server_busy" with Retry-After, without reading it;
//   - the body of a route with BodyMode::kSpooled is never held whole in memory: it goes, a
//     64 KiB piece at a time, into an unnamed file in spool_directory, encrypted under a key
//     that exists only in memory (http/body_spool.h); such a request holds 1 MiB of the memory
//     budget whatever its size, and its length of spool_budget_bytes (else 503 "server_busy");
//     the file is gone when the request ends, however it ends;
//   - an address whose requests were refused (4xx) more than refusal_burst_per_address times,
//     beyond refusals_per_second_per_address: 429 "rate_limited" with Retry-After for requests
//     that do not authenticate, before the body or the handler (compare nginx limit_req);
//     authenticated requests are never limited by their address;
//   - a request that is not valid HTTP/1.1: 400 and close.
// When the server answers without reading a body the client is still sending, it closes in
// the lingering way: it half-closes, then reads and discards (at most linger_bytes, for at most
// linger_ms) so that the client reads the answer instead of a reset.
// Errors are JSON {"error":{"code","message","field"}}. The server keeps serving others.
//
// Shutdown (Shutdown() or SIGTERM/SIGINT): stop accepting, close idle connections, let
// requests in flight finish (up to shutdown_grace_ms), then Run() returns.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "common/clock.h"
#include "common/result.h"
#include "http/http.h"
#include "http/refusals.h"

namespace zengen::http {

// What a request to a route with BodyMode::kSpooled holds of the body memory budget while its
// body arrives, whatever the body's size: the piece read from the connection, the encryptor's
// pending segment and its output, the parser's and the TLS layer's buffers.
inline constexpr int64_t kSpooledBodyMemoryBytes = int64_t{1} << 20;

struct ServerOptions {
  std::string listen = "127.0.0.1:8443";  // host:port, [v6]:port; port 0 picks a free one
  std::filesystem::path tls_certificate;  // PEM chain
  std::filesystem::path tls_private_key;  // PEM
  int threads = 2;          // I/O threads: TLS and HTTP parsing
  int worker_threads = 16;  // threads that run the pipeline; they may block (database, audit)
  int max_connections = 256;
  int max_connections_per_address = 64;
  int reserved_connections = 32;  // of max_connections, for connections that authenticated
  int64_t max_header_bytes = 16 * 1024;
  int64_t max_body_bytes = 1024 * 1024;
  int64_t body_memory_budget_bytes = int64_t{256} << 20;  // bodies held by all connections
  // Where routes with BodyMode::kSpooled keep their bodies while the request lasts (created
  // owner-only if missing); empty: the system's temporary directory.
  std::filesystem::path spool_directory;
  // Spooled bodies on disk at once, counted at their declared length (the route's limit when
  // chunked); beyond it: 503 "server_busy".
  int64_t spool_budget_bytes = int64_t{16} << 30;
  int64_t handshake_timeout_ms = 5000;
  int64_t header_timeout_ms = 5000;  // the first request's headers, after the handshake
  int64_t read_timeout_ms = 10000;
  int64_t idle_timeout_ms = 30000;
  int64_t shutdown_grace_ms = 20000;
  int64_t linger_ms = 2000;
  int64_t linger_bytes = int64_t{4} << 20;
  // Refused requests (4xx) allowed per address: a burst, then this many a second. <= 0: off.
  double refusals_per_second_per_address = 50;
  double refusal_burst_per_address = 200;
  // Every request on connections that have not authenticated, per address. <= 0: off.
  double requests_per_second_per_address = 0;
  double request_burst_per_address = 0;
  bool handle_signals = true;  // SIGTERM and SIGINT start a graceful shutdown
  // Where the server counts the connections and requests it refuses itself (may be null).
  RefusalAggregator* refusals = nullptr;
  const Clock* clock = nullptr;  // for the rate limits; null: the system clock
};

// Counters for tests and figures.
struct ServerStats {
  int open_connections = 0;
  int authenticated_connections = 0;
  int64_t refused_connections = 0;
  int64_t body_bytes_reserved = 0;       // bodies held in memory now
  int64_t body_bytes_reserved_peak = 0;  // the most ever held at once
  int spooled_bodies = 0;                 // spool files open now (see BodySpool)
  int64_t spool_bytes_reserved = 0;       // spooled bodies on disk now
  int64_t spool_bytes_reserved_peak = 0;  // the most ever spooled at once
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
  ServerStats stats() const;

 private:
  class Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace zengen::http
