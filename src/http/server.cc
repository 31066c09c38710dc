#include "http/server.h"

#include <openssl/ssl.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "http/admission.h"
#include "http/body_spool.h"

namespace zengen::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using Stream = beast::ssl_stream<beast::tcp_stream>;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// What the drain logic needs to know about a live connection. Touched only on the
// connection's strand, except `busy`, which is atomic.
struct Connection {
  Stream* stream = nullptr;  // null once the session has ended
  std::atomic<bool> busy{false};
  asio::any_io_executor executor;
  std::string address;         // the peer's IP address
  bool authenticated = false;  // a request on it authenticated; guarded by the server's mutex
};

// Bytes held against a cap by all connections (bodies in memory, spooled bodies on disk), with
// the most ever held at once. Lock-free: reservations race only on the counter.
class Gauge {
 public:
  // Reserves n bytes; false (reserving nothing) when the total would exceed cap.
  bool Reserve(int64_t n, int64_t cap) {
    int64_t cur = now_.load();
    do {
      if (cur + n > cap) return false;
    } while (!now_.compare_exchange_weak(cur, cur + n));
    int64_t peak = peak_.load();
    while (cur + n > peak && !peak_.compare_exchange_weak(peak, cur + n)) {
    }
    return true;
  }
  void Release(int64_t n) { now_ -= n; }
  int64_t now() const { return now_.load(); }
  int64_t peak() const { return peak_.load(); }

 private:
  std::atomic<int64_t> now_{0};
  std::atomic<int64_t> peak_{0};
};

// A spooled body is read from the connection in pieces of this size (within
// kSpooledBodyMemoryBytes with the encryptor's and the TLS layer's buffers).
constexpr size_t kSpoolPiece = size_t{64} << 10;

Result<tcp::endpoint> ParseListen(const std::string& listen) {
  std::string host, port;
  if (listen.starts_with("[")) {
    const auto close = listen.find("]:");
    if (close == std::string::npos) {
      return InvalidArgument("invalid_listen", "expected [address]:port", "listen");
    }
    host = listen.substr(1, close - 1);
    port = listen.substr(close + 2);
  } else {
    const auto colon = listen.rfind(':');
    if (colon == std::string::npos) {
      return InvalidArgument("invalid_listen", "expected address:port", "listen");
    }
    host = listen.substr(0, colon);
    port = listen.substr(colon + 1);
  }
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
  if (ec) {
    return InvalidArgument("invalid_listen", fmt::format("'{}' is not an IP address", host),
                           "listen");
  }
  int p = -1;
  try {
    size_t used = 0;
    p = std::stoi(port, &used);
    if (used != port.size()) p = -1;
  } catch (const std::exception&) {
  }
  if (p < 0 || p > 65535) {
    return InvalidArgument("invalid_listen", fmt::format("'{}' is not a port", port), "listen");
  }
  return tcp::endpoint(addr, static_cast<uint16_t>(p));
}

// TLS 1.2: Mozilla's "intermediate" suites (ECDHE key exchange, AEAD only: no CBC, no static
// RSA), in the server's order of preference. DHE suites are left out: they would need
// configured parameters. TLS 1.3 suites are all AEAD.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
constexpr const char* kTls13Suites =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";

// Status line and headers of a response, with the defaults that hold for every answer.
template <class Body>
void SetHead(bhttp::response<Body>& res, const Response& r, bool keep_alive) {
  for (const auto& [k, v] : r.headers) res.set(k, v);
  res.set(bhttp::field::server, "zengen");
  // Defaults that hold for every answer unless the handler chose otherwise.
  auto set_default = [&](std::string_view name, std::string_view v) {
    if (res.find(name) == res.end()) res.set(name, v);
  };
  set_default("Cache-Control", "no-store");
  set_default("Strict-Transport-Security", "max-age=63072000; includeSubDomains");
  set_default("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
  res.set("X-Content-Type-Options", "nosniff");
  res.set("X-Frame-Options", "DENY");
  res.set("Referrer-Policy", "no-referrer");
  res.keep_alive(keep_alive);
}

bhttp::response<bhttp::string_body> ToBeast(const Response& r, unsigned version, bool keep_alive,
                                            bool head) {
  bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(r.status), version};
  SetHead(res, r, keep_alive);
  if (head) {
    res.content_length(r.body.size());
  } else {
    res.body() = r.body;
    res.prepare_payload();
  }
  return res;
}

}  // namespace

class Server::Impl {
 public:
  Impl(const ServerOptions& o, const Pipeline& p)
      : opt_(o), pipeline_(p), clock_(o.clock != nullptr ? *o.clock : system_clock_),
        refusal_limiter_(clock_, o.refusals_per_second_per_address, o.refusal_burst_per_address),
        request_limiter_(clock_, o.requests_per_second_per_address, o.request_burst_per_address),
        refusal_log_(clock_, 10, std::chrono::seconds(1)), ioc_(o.threads),
        workers_(static_cast<size_t>(o.worker_threads)), tls_(ssl::context::tls_server),
        acceptor_(ioc_), signals_(ioc_), grace_timer_(ioc_) {}

  Status Init() {
    try {
      tls_.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                       ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
      SSL_CTX* ctx = tls_.native_handle();
      SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
      // The server's order decides, and clients cannot renegotiate or compress.
      SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION |
                                   SSL_OP_NO_COMPRESSION);
      if (SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1 ||
          SSL_CTX_set_ciphersuites(ctx, kTls13Suites) != 1) {
        return Internal("tls_config", "the TLS cipher lists were refused by OpenSSL");
      }
      tls_.use_certificate_chain_file(opt_.tls_certificate.string());
      tls_.use_private_key_file(opt_.tls_private_key.string(), ssl::context::pem);
    } catch (const boost::system::system_error& e) {
      return InvalidArgument("tls_config",
                             fmt::format("cannot load TLS certificate {} / key {}: {}",
                                         opt_.tls_certificate.string(),
                                         opt_.tls_private_key.string(), e.what()));
    }
    spool_dir_ = opt_.spool_directory;
    if (spool_dir_.empty()) {
      std::error_code tec;
      spool_dir_ = std::filesystem::temp_directory_path(tec);
      if (tec) spool_dir_ = "/tmp";
    } else {
      std::error_code sec;
      std::filesystem::create_directories(spool_dir_, sec);
      if (!sec) {
        std::filesystem::permissions(spool_dir_, std::filesystem::perms::owner_all,
                                     std::filesystem::perm_options::replace, sec);
      }
      if (sec) {
        return Unavailable("spool_unavailable",
                           fmt::format("cannot prepare the body spool directory {}: {}",
                                       spool_dir_.string(), sec.message()));
      }
    }
    auto ep = ParseListen(opt_.listen);
    if (!ep.ok()) return ep.error();
    boost::system::error_code ec;
    acceptor_.open(ep->protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(*ep, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return Unavailable("listen_failed",
                         fmt::format("cannot listen on {}: {}", opt_.listen, ec.message()));
    }
    if (opt_.handle_signals) {
      // Registered here, before anyone learns the port, so that a SIGTERM arriving before
      // Run() is queued rather than killing the process.
      signals_.add(SIGTERM, ec);
      if (!ec) signals_.add(SIGINT, ec);
      if (ec) return Internal("signal_setup", ec.message());
    }
    return Status::Ok();
  }

  uint16_t port() const { return acceptor_.local_endpoint().port(); }

  void Run() {
    asio::co_spawn(ioc_, Accept(), asio::detached);
    if (opt_.handle_signals) {
      signals_.async_wait([this](const boost::system::error_code& ec, int sig) {
        if (ec) return;
        spdlog::info("received signal {}; finishing requests in flight", sig);
        BeginDrain();
      });
    }
    std::vector<std::thread> extra;
    for (int i = 1; i < opt_.threads; ++i) extra.emplace_back([this] { ioc_.run(); });
    ioc_.run();
    for (auto& t : extra) t.join();
    workers_.join();
  }

  void Shutdown() {
    asio::post(ioc_, [this] { BeginDrain(); });
  }

  ServerStats stats() const {
    std::lock_guard lock(mu_);
    ServerStats st;
    st.open_connections = static_cast<int>(conns_.size());
    st.authenticated_connections = authenticated_;
    st.refused_connections = refused_connections_;
    st.body_bytes_reserved = body_memory_.now();
    st.body_bytes_reserved_peak = body_memory_.peak();
    st.spooled_bodies = spooled_live_.load();
    st.spool_bytes_reserved = spool_disk_.now();
    st.spool_bytes_reserved_peak = spool_disk_.peak();
    return st;
  }

 private:
  void BeginDrain() {
    if (draining_.exchange(true)) return;
    boost::system::error_code ec;
    acceptor_.close(ec);
    signals_.cancel(ec);
    std::vector<std::shared_ptr<Connection>> conns;
    {
      std::lock_guard lock(mu_);
      conns.assign(conns_.begin(), conns_.end());
    }
    for (auto& c : conns) {
      // Idle keep-alive connections wait for a request that no longer matters: cancel them.
      // Busy ones finish their request and then see draining_.
      asio::post(c->executor, [c] {
        if (c->stream != nullptr && !c->busy) beast::get_lowest_layer(*c->stream).cancel();
      });
    }
    if (active_ == 0) {
      ioc_.stop();
      return;
    }
    grace_timer_.expires_after(std::chrono::milliseconds(opt_.shutdown_grace_ms));
    grace_timer_.async_wait([this](const boost::system::error_code& e) {
      if (e) return;
      spdlog::warn("shutdown grace period over; {} connections cut", active_.load());
      ioc_.stop();
    });
  }

  // Admits a new connection against the limits, or says why not (an empty string: admitted).
  std::string AdmitConnection(const std::shared_ptr<Connection>& conn) {
    std::lock_guard lock(mu_);
    const int open = static_cast<int>(conns_.size());
    const int reserved = std::clamp(opt_.reserved_connections, 0, opt_.max_connections - 1);
    std::string refusal;
    if (per_address_[conn->address] >= opt_.max_connections_per_address) {
      refusal = "connection_limit_per_address";
    } else if (open >= opt_.max_connections) {
      refusal = "connection_limit";
    } else if (open - authenticated_ >= opt_.max_connections - reserved) {
      refusal = "connection_limit_unauthenticated";
    }
    if (!refusal.empty()) {
      if (per_address_[conn->address] == 0) per_address_.erase(conn->address);
      ++refused_connections_;
      return refusal;
    }
    ++per_address_[conn->address];
    conns_.insert(conn);
    ++active_;
    return refusal;
  }

  void MarkAuthenticated(Connection& conn) {
    std::lock_guard lock(mu_);
    if (conn.authenticated) return;
    conn.authenticated = true;
    ++authenticated_;
  }

  void SessionEnded(const std::shared_ptr<Connection>& c) {
    {
      std::lock_guard lock(mu_);
      conns_.erase(c);
      if (auto it = per_address_.find(c->address); it != per_address_.end() && --it->second <= 0) {
        per_address_.erase(it);
      }
      if (c->authenticated) --authenticated_;
    }
    if (--active_ == 0 && draining_) ioc_.stop();
  }

  // A refusal by the server itself: counted for the audit log, and a log line unless too many.
  void NoteRefusal(const std::string& address, std::string_view reason) {
    if (opt_.refusals != nullptr) opt_.refusals->Count(address, fmt::format("server: {}", reason), "");
    const auto v = refusal_log_.Allow();
    if (!v.allow) return;
    if (v.suppressed_before > 0) {
      spdlog::warn("{} refusal lines suppressed (counted in the audit log)", v.suppressed_before);
    }
    spdlog::warn("refused {}: {}", address, reason);
  }

  // Reserves n bytes of the body memory budget; false when it would be exceeded.
  bool ReserveBody(int64_t n) { return body_memory_.Reserve(n, opt_.body_memory_budget_bytes); }
  void ReleaseBody(int64_t n) { body_memory_.Release(n); }

  asio::awaitable<void> Accept() {
    while (!draining_) {
      auto strand = asio::make_strand(ioc_);
      auto [ec, socket] = co_await acceptor_.async_accept(strand, kTuple);
      if (ec) {
        if (ec == asio::error::operation_aborted || !acceptor_.is_open()) break;
        // Out of descriptors and similar: pause instead of spinning.
        spdlog::warn("accept failed: {}", ec.message());
        asio::steady_timer t(ioc_, std::chrono::milliseconds(50));
        co_await t.async_wait(kTuple);
        continue;
      }
      auto conn = std::make_shared<Connection>();
      conn->executor = socket.get_executor();
      {
        boost::system::error_code rec;
        auto ep = socket.remote_endpoint(rec);
        if (!rec) conn->address = ep.address().to_string();
      }
      if (const std::string refusal = AdmitConnection(conn); !refusal.empty()) {
        NoteRefusal(conn->address, refusal);
        boost::system::error_code ignored;
        socket.close(ignored);
        continue;
      }
      asio::co_spawn(conn->executor, Session(std::move(socket), conn), asio::detached);
    }
  }

  // Writes an answer of the server's own (not of the pipeline) and closes: in the lingering
  // way when the client may still be sending a body the server did not read.
  asio::awaitable<void> Refuse(Stream& stream, const Response& resp, unsigned version,
                               bool body_pending) {
    auto res = ToBeast(resp, version == 0 ? 11 : version, false, false);
    beast::get_lowest_layer(stream).expires_after(std::chrono::milliseconds(opt_.read_timeout_ms));
    auto [wec, wn] = co_await bhttp::async_write(stream, res, kTuple);
    if (!wec && body_pending) co_await Linger(stream);
  }

  asio::awaitable<void> Reject(Stream& stream, const Error& e, unsigned version,
                               bool body_pending) {
    const Response resp = Response::FromError(e);
    co_await Refuse(stream, resp, version, body_pending);
  }

  // Lingering close: the answer is written; stop sending (FIN), then read and discard what the
  // client still sends, so that closing with unread data does not reset the connection and
  // destroy the answer in the client's buffers before it reads it. The TLS layer is bypassed:
  // the discarded bytes are never decrypted. Bounded by linger_bytes and linger_ms.
  asio::awaitable<void> Linger(Stream& stream) {
    auto& lowest = beast::get_lowest_layer(stream);
    boost::system::error_code ec;
    lowest.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) co_return;
    lowest.expires_after(std::chrono::milliseconds(opt_.linger_ms));
    std::array<char, 16384> scratch;
    int64_t drained = 0;
    while (drained < opt_.linger_bytes) {
      auto [rec, n] = co_await lowest.async_read_some(asio::buffer(scratch), kTuple);
      if (rec) break;
      drained += static_cast<int64_t>(n);
    }
  }

  asio::awaitable<void> Session(tcp::socket socket, std::shared_ptr<Connection> conn) {
    Stream stream(beast::tcp_stream(std::move(socket)), tls_);
    conn->stream = &stream;
    co_await Serve(stream, conn);
    conn->stream = nullptr;
    SessionEnded(conn);
  }

  // Runs the pipeline's first half (filters on the headers) or its second (the handler), on a
  // worker unless the route runs inline (liveness and version answers: a thread hop would cost
  // more than the work).
  asio::awaitable<Pipeline::Admission> AdmitOnWorker(Request* req, const Router::Match* match) {
    if (match->route != nullptr && match->route->runs_inline) co_return AdmitGuarded(req, match);
    auto work = asio::co_spawn(workers_.get_executor(), AdmitTask(req, match),
                               asio::use_awaitable);
    co_return co_await std::move(work);
  }
  asio::awaitable<Pipeline::Admission> AdmitTask(Request* req, const Router::Match* match) {
    co_return AdmitGuarded(req, match);
  }

  Pipeline::Admission AdmitGuarded(Request* req, const Router::Match* match) {
    try {
      return pipeline_.Admit(*req, *match);
    } catch (const std::exception& e) {
      spdlog::error("request {}: unhandled exception in a filter: {}", req->request_id, e.what());
    }
    Pipeline::Admission a;
    a.stopped = Response::FromError(Internal("internal_error", "internal error; see server log"));
    return a;
  }

  asio::awaitable<Response> CompleteOnWorker(Request* req, const Router::Match* match,
                                             Pipeline::Admission* admission) {
    if (match->route != nullptr && match->route->runs_inline) {
      co_return CompleteGuarded(req, match, admission);
    }
    auto work = asio::co_spawn(workers_.get_executor(), CompleteTask(req, match, admission),
                               asio::use_awaitable);
    co_return co_await std::move(work);
  }
  asio::awaitable<Response> CompleteTask(Request* req, const Router::Match* match,
                                         Pipeline::Admission* admission) {
    co_return CompleteGuarded(req, match, admission);
  }

  Response CompleteGuarded(Request* req, const Router::Match* match,
                           Pipeline::Admission* admission) {
    try {
      return pipeline_.Complete(*req, *match, std::move(*admission));
    } catch (const std::exception& e) {
      spdlog::error("request {}: unhandled exception: {}", req->request_id, e.what());
    }
    return Response::FromError(Internal("internal_error", "internal error; see server log"));
  }

  asio::awaitable<void> Serve(Stream& stream, const std::shared_ptr<Connection>& conn) {
    const std::string& remote = conn->address;
    auto& lowest = beast::get_lowest_layer(stream);
    lowest.expires_after(std::chrono::milliseconds(opt_.handshake_timeout_ms));
    auto [hs_ec] = co_await stream.async_handshake(ssl::stream_base::server, kTuple);
    if (hs_ec) co_return;

    beast::flat_buffer buffer;
    bool first = true;
    bool keep_alive = true;
    while (keep_alive && !draining_) {
      bhttp::request_parser<bhttp::string_body> parser;
      parser.header_limit(static_cast<uint32_t>(opt_.max_header_bytes));
      // The body limit depends on the route, known only once the header is in.
      parser.body_limit(boost::none);
      lowest.expires_after(
          std::chrono::milliseconds(first ? opt_.header_timeout_ms : opt_.idle_timeout_ms));
      first = false;
      conn->busy = false;
      auto [ec, n] = co_await bhttp::async_read_header(stream, buffer, parser, kTuple);
      conn->busy = true;
      // Errors are built as named locals before co_await: GCC 12 mishandles temporaries with
      // destructors inside co_await expressions (double destruction).
      if (ec == bhttp::error::header_limit) {
        const Error e{ErrorKind::kHeaderTooLarge, "header_too_large",
                      fmt::format("request line and headers exceed {} bytes",
                                  opt_.max_header_bytes),
                      "headers"};
        NoteRefused(conn, e.code);
        co_await Reject(stream, e, 11, true);
        co_return;
      }
      if (ec) {
        if (IsParseError(ec)) {
          const Error e = InvalidArgument(
              "malformed_request", fmt::format("not a valid HTTP/1.1 request: {}", ec.message()));
          NoteRefused(conn, e.code);
          co_await Reject(stream, e, 11, true);
        }
        co_return;  // timeout, end of stream, cancelled by drain, TLS failure: just close
      }
      const auto& header = parser.get();
      const unsigned version = header.version();
      const bool body_pending = !parser.is_done();
      Request req;
      req.received = std::chrono::steady_clock::now();
      req.method = std::string(header.method_string());
      req.target = std::string(header.target());
      req.remote_address = remote;
      if (auto st = ParseTarget(req.target, req); !st.ok()) {
        NoteRefused(conn, st.error().code);
        co_await Reject(stream, st.error(), version, body_pending);
        co_return;
      }
      const auto match = pipeline_.router().Find(req.method, req.path);
      int64_t limit = opt_.max_body_bytes;
      if (match.route != nullptr && match.route->max_body_bytes >= 0) {
        limit = match.route->max_body_bytes;
      }
      const auto too_large = Error{ErrorKind::kTooLarge, "body_too_large",
                                   fmt::format("request body exceeds {} bytes", limit), "body"};
      const auto declared = parser.content_length();
      if (declared && *declared > static_cast<uint64_t>(limit)) {
        NoteRefused(conn, too_large.code);
        co_await Reject(stream, too_large, version, body_pending);
        co_return;
      }
      for (const auto& field : header) {
        req.headers[std::string(field.name_string())] = std::string(field.value());
      }
      keep_alive = header.keep_alive() && !draining_;
      const bool head = req.method == "HEAD";

      // First half: authentication and policy on the headers alone.
      auto admitting = AdmitOnWorker(&req, &match);
      Pipeline::Admission admission = co_await std::move(admitting);
      if (req.subject.authenticated) MarkAuthenticated(*conn);
      // An address that keeps being refused waits, unless the request (or its connection)
      // authenticated: authenticated clients keep their capacity behind a hostile neighbour.
      if (!req.subject.authenticated && !conn->authenticated &&
          (refusal_limiter_.Exhausted(remote) || !request_limiter_.Take(remote))) {
        Response limited = Response::FromError(
            Error{ErrorKind::kTooManyRequests, "rate_limited",
                  "too many refused requests from this address; retry later", "address"});
        limited.headers["Retry-After"] = "1";
        admission.stopped = std::move(limited);
        NoteRefusal(remote, "rate_limited");
      }

      // The body, for admitted requests only, within the memory budget. A spooled route's body
      // goes to disk as it arrives and holds only kSpooledBodyMemoryBytes of the budget; its
      // length is held against the spool budget instead.
      const bool spooled =
          match.route != nullptr && match.route->body_mode == BodyMode::kSpooled;
      int64_t reserved = 0;
      int64_t spool_reserved = 0;
      bool close_after = false;  // the body was not read: linger, then close
      if (body_pending && !admission.stopped) {
        const int64_t length = declared ? static_cast<int64_t>(*declared) : limit;
        const int64_t need = spooled ? kSpooledBodyMemoryBytes : length;
        bool admitted = ReserveBody(need);
        if (admitted && spooled && !spool_disk_.Reserve(length, opt_.spool_budget_bytes)) {
          ReleaseBody(need);
          admitted = false;
        }
        if (!admitted) {
          Response busy = Response::FromError(
              Unavailable("server_busy", "the server holds too many request bodies; retry"));
          busy.headers["Retry-After"] = "1";
          admission.stopped = std::move(busy);
          NoteRefusal(remote, "server_busy");
        } else if (spooled) {
          reserved = need;
          spool_reserved = length;
          lowest.expires_after(std::chrono::milliseconds(opt_.read_timeout_ms));
          auto spooling = SpoolBody(stream, buffer, parser, limit, &req);
          const SpoolOutcome got = co_await std::move(spooling);
          if (got.gone) {
            // Timeout or the client went away: nobody to answer. The spool is already gone.
            ReleaseBody(reserved);
            spool_disk_.Release(spool_reserved);
            co_return;
          }
          if (got.error) {
            admission.stopped = Response::FromError(*got.error);
            close_after = true;
          }
        } else {
          reserved = need;
          parser.body_limit(static_cast<uint64_t>(limit));
          lowest.expires_after(std::chrono::milliseconds(opt_.read_timeout_ms));
          auto [bec, bn] = co_await bhttp::async_read(stream, buffer, parser, kTuple);
          if (bec == bhttp::error::body_limit) {
            admission.stopped = Response::FromError(too_large);
          } else if (bec && IsParseError(bec)) {
            admission.stopped = Response::FromError(InvalidArgument(
                "malformed_request", fmt::format("malformed request body: {}", bec.message())));
          } else if (bec) {
            // Timeout or the client went away: nobody to answer.
            ReleaseBody(reserved);
            co_return;
          }
          if (!bec) req.body = std::move(parser.get().body());
          close_after = static_cast<bool>(bec);
        }
      }
      if (admission.stopped && body_pending && req.body.empty() && !req.body_reader) {
        close_after = true;
      }
      // A drain that began while the body arrived ends the connection after this answer.
      keep_alive = keep_alive && !close_after && !draining_;

      // Second half: the handler (unless stopped) and the filters' OnResponse.
      auto completing = CompleteOnWorker(&req, &match, &admission);
      Response resp = co_await std::move(completing);
      req.body.clear();
      req.body.shrink_to_fit();
      req.body_reader.reset();  // closes a spooled body's file, which removes it
      ReleaseBody(reserved);
      spool_disk_.Release(spool_reserved);
      if (!conn->authenticated && resp.status >= 400 && resp.status < 500 && resp.status != 429) {
        refusal_limiter_.Take(remote);
      }
      if (close_after) {
        co_await Refuse(stream, resp, version, true);
        co_return;
      }
      if (resp.body_source) {
        auto streamed = WriteStreamed(stream, &resp, version, keep_alive, head);
        const bool complete = co_await std::move(streamed);
        if (!complete) co_return;
        continue;
      }
      auto res = ToBeast(resp, version, keep_alive, head);
      lowest.expires_after(std::chrono::milliseconds(opt_.read_timeout_ms));
      auto [wec, wn] = co_await bhttp::async_write(stream, res, kTuple);
      if (wec) co_return;
    }
    lowest.expires_after(std::chrono::seconds(2));
    co_await stream.async_shutdown(kTuple);
  }

  struct SpoolOutcome {
    bool gone = false;           // timeout or the client went away: close without answering
    std::optional<Error> error;  // answer it, then close (the body was not read whole)
  };

  // Reads the body of a spooled route a piece at a time into a BodySpool (issue 13 item 2)
  // and sets req->body_reader, or says why not. Whatever happens, the spool file is gone once
  // nothing refers to it: on failure at once, on success with the request.
  asio::awaitable<SpoolOutcome> SpoolBody(Stream& stream, beast::flat_buffer& buffer,
                                          bhttp::request_parser<bhttp::string_body>& header_parser,
                                          int64_t limit, Request* req) {
    SpoolOutcome out;
    auto created = BodySpool::Create(spool_dir_, &spooled_live_);
    if (!created.ok()) {
      spdlog::error("request body spool: {}", created.error().message);
      out.error = created.error();
      co_return out;
    }
    std::unique_ptr<BodySpool> spool = std::move(*created);
    // The header is in; the body goes through a fixed buffer instead of a growing string.
    bhttp::request_parser<bhttp::buffer_body> parser{std::move(header_parser)};
    parser.body_limit(static_cast<uint64_t>(limit));
    std::string piece(kSpoolPiece, '\0');
    while (!parser.is_done()) {
      parser.get().body().data = piece.data();
      parser.get().body().size = piece.size();
      auto [ec, n] = co_await bhttp::async_read_some(stream, buffer, parser, kTuple);
      if (ec == bhttp::error::need_buffer) ec = {};
      if (ec == bhttp::error::body_limit) {
        out.error = Error{ErrorKind::kTooLarge, "body_too_large",
                          fmt::format("request body exceeds {} bytes", limit), "body"};
        co_return out;
      }
      if (ec && IsParseError(ec)) {
        out.error = InvalidArgument("malformed_request",
                                    fmt::format("malformed request body: {}", ec.message()));
        co_return out;
      }
      if (ec) {
        out.gone = true;
        co_return out;
      }
      const size_t got = piece.size() - parser.get().body().size;
      if (auto st = spool->Append(std::string_view(piece.data(), got)); !st.ok()) {
        spdlog::error("request body spool: {}", st.error().message);
        out.error = st.error();
        co_return out;
      }
    }
    auto reader = spool->Finish();
    if (!reader.ok()) {
      spdlog::error("request body spool: {}", reader.error().message);
      out.error = reader.error();
      co_return out;
    }
    req->body_reader = std::move(*reader);
    co_return out;
  }

  // A request refused by the server before the pipeline saw it: counted like the pipeline's
  // refusals for the address's rate limit, and for the audit log.
  void NoteRefused(const std::shared_ptr<Connection>& conn, std::string_view code) {
    if (!conn->authenticated) refusal_limiter_.Take(conn->address);
    NoteRefusal(conn->address, code);
  }

  // Sends a response whose body comes from resp->body_source: the headers with its
  // Content-Length, then each piece as the worker pool produces it. Returns false when the
  // connection must close (write error, source error, or a source that broke its length).
  asio::awaitable<bool> WriteStreamed(Stream& stream, Response* resp, unsigned version,
                                      bool keep_alive, bool head) {
    auto& lowest = beast::get_lowest_layer(stream);
    bhttp::response<bhttp::empty_body> res{static_cast<bhttp::status>(resp->status), version};
    SetHead(res, *resp, keep_alive);
    res.content_length(static_cast<uint64_t>(std::max<int64_t>(resp->content_length, 0)));
    bhttp::response_serializer<bhttp::empty_body> sr{res};
    lowest.expires_after(std::chrono::milliseconds(opt_.read_timeout_ms));
    auto [hec, hn] = co_await bhttp::async_write_header(stream, sr, kTuple);
    if (hec) co_return false;
    if (head) co_return true;
    int64_t sent = 0;
    for (;;) {
      std::optional<Error> failure;
      auto next = asio::co_spawn(workers_.get_executor(), NextPiece(resp, &failure),
                                 asio::use_awaitable);
      std::string piece = co_await std::move(next);
      if (failure) {
        spdlog::error("streamed body failed after {} of {} bytes: {}: {}", sent,
                      resp->content_length, failure->code, failure->message);
        co_return false;
      }
      if (piece.empty()) break;
      sent += static_cast<int64_t>(piece.size());
      if (sent > resp->content_length) break;
      lowest.expires_after(std::chrono::milliseconds(opt_.read_timeout_ms));
      auto [wec, wn] = co_await asio::async_write(stream, asio::buffer(piece), kTuple);
      if (wec) co_return false;
    }
    if (sent != resp->content_length) {
      spdlog::error("streamed body gave {} bytes, declared {}", sent, resp->content_length);
      co_return false;
    }
    co_return true;
  }

  // The next piece of a streamed body, on a worker thread; sets *failure instead on error.
  asio::awaitable<std::string> NextPiece(Response* resp, std::optional<Error>* failure) {
    try {
      Result<std::string> piece = resp->body_source();
      if (piece.ok()) co_return std::move(*piece);
      *failure = piece.error();
    } catch (const std::exception& e) {
      *failure = Internal("internal_error", e.what());
    }
    co_return std::string();
  }

  static bool IsParseError(const boost::system::error_code& ec) {
    // Beast reports both malformed input and ordinary ends of a connection in its own
    // category; only the former deserves a 400.
    return ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category() &&
           ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message;
  }

  ServerOptions opt_;
  const Pipeline& pipeline_;
  SystemClock system_clock_;
  const Clock& clock_;
  RateLimiter refusal_limiter_;
  RateLimiter request_limiter_;
  LogLimiter refusal_log_;
  asio::io_context ioc_;
  asio::thread_pool workers_;
  ssl::context tls_;
  tcp::acceptor acceptor_;
  asio::signal_set signals_;
  asio::steady_timer grace_timer_;
  std::atomic<int> active_{0};
  std::atomic<bool> draining_{false};
  Gauge body_memory_;  // bodies held in memory (spooled ones: their buffers)
  Gauge spool_disk_;   // spooled bodies on disk (their declared or limit length)
  std::atomic<int> spooled_live_{0};
  std::filesystem::path spool_dir_;
  mutable std::mutex mu_;
  std::set<std::shared_ptr<Connection>> conns_;
  std::map<std::string, int> per_address_;
  int authenticated_ = 0;
  int64_t refused_connections_ = 0;
};

Result<std::unique_ptr<Server>> Server::Create(const ServerOptions& options,
                                               const Pipeline& pipeline) {
  auto impl = std::make_unique<Impl>(options, pipeline);
  ZG_RETURN_IF_ERROR(impl->Init());
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Server::~Server() = default;
uint16_t Server::port() const { return impl_->port(); }
void Server::Run() { impl_->Run(); }
void Server::Shutdown() { impl_->Shutdown(); }
ServerStats Server::stats() const { return impl_->stats(); }

}  // namespace zengen::http
