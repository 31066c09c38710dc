#include "http/server.h"

#include <openssl/ssl.h>

#include <atomic>
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
};

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
  set_default("Strict-Transport-Security", "max-age=31536000");
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
      : opt_(o), pipeline_(p), ioc_(o.threads), workers_(static_cast<size_t>(o.worker_threads)),
        tls_(ssl::context::tls_server), acceptor_(ioc_), signals_(ioc_), grace_timer_(ioc_) {}

  Status Init() {
    try {
      tls_.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                       ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
      SSL_CTX_set_min_proto_version(tls_.native_handle(), TLS1_2_VERSION);
      tls_.use_certificate_chain_file(opt_.tls_certificate.string());
      tls_.use_private_key_file(opt_.tls_private_key.string(), ssl::context::pem);
    } catch (const boost::system::system_error& e) {
      return InvalidArgument("tls_config",
                             fmt::format("cannot load TLS certificate {} / key {}: {}",
                                         opt_.tls_certificate.string(),
                                         opt_.tls_private_key.string(), e.what()));
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

  void SessionEnded(const std::shared_ptr<Connection>& c) {
    {
      std::lock_guard lock(mu_);
      conns_.erase(c);
    }
    if (--active_ == 0 && draining_) ioc_.stop();
  }

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
      if (active_ >= opt_.max_connections) {
        spdlog::warn("connection limit {} reached; refusing a connection", opt_.max_connections);
        boost::system::error_code ignored;
        socket.close(ignored);
        continue;
      }
      ++active_;
      auto conn = std::make_shared<Connection>();
      conn->executor = socket.get_executor();
      {
        std::lock_guard lock(mu_);
        conns_.insert(conn);
      }
      asio::co_spawn(conn->executor, Session(std::move(socket), conn), asio::detached);
    }
  }

  // Writes a response generated by the server itself (not by the pipeline) and closes.
  asio::awaitable<void> Reject(Stream& stream, const Error& e, unsigned version) {
    const Response resp = Response::FromError(e);
    auto res = ToBeast(resp, version == 0 ? 11 : version, false, false);
    beast::get_lowest_layer(stream).expires_after(std::chrono::milliseconds(opt_.read_timeout_ms));
    co_await bhttp::async_write(stream, res, kTuple);
  }

  asio::awaitable<void> Session(tcp::socket socket, std::shared_ptr<Connection> conn) {
    std::string remote;
    {
      boost::system::error_code ec;
      auto ep = socket.remote_endpoint(ec);
      if (!ec) remote = ep.address().to_string();
    }
    Stream stream(beast::tcp_stream(std::move(socket)), tls_);
    conn->stream = &stream;
    co_await Serve(stream, conn, remote);
    conn->stream = nullptr;
    SessionEnded(conn);
  }

  asio::awaitable<void> Serve(Stream& stream, const std::shared_ptr<Connection>& conn,
                              const std::string& remote) {
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
          std::chrono::milliseconds(first ? opt_.read_timeout_ms : opt_.idle_timeout_ms));
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
        co_await Reject(stream, e, 11);
        co_return;
      }
      if (ec) {
        if (IsParseError(ec)) {
          const Error e = InvalidArgument(
              "malformed_request", fmt::format("not a valid HTTP/1.1 request: {}", ec.message()));
          co_await Reject(stream, e, 11);
        }
        co_return;  // timeout, end of stream, cancelled by drain, TLS failure: just close
      }
      const auto& header = parser.get();
      Request req;
      req.method = std::string(header.method_string());
      req.target = std::string(header.target());
      req.remote_address = remote;
      if (auto st = ParseTarget(req.target, req); !st.ok()) {
        co_await Reject(stream, st.error(), header.version());
        co_return;
      }
      const auto match = pipeline_.router().Find(req.method, req.path);
      int64_t limit = opt_.max_body_bytes;
      if (match.route != nullptr && match.route->max_body_bytes >= 0) {
        limit = match.route->max_body_bytes;
      }
      const auto too_large = Error{ErrorKind::kTooLarge, "body_too_large",
                                   fmt::format("request body exceeds {} bytes", limit), "body"};
      if (auto len = parser.content_length(); len && *len > static_cast<uint64_t>(limit)) {
        co_await Reject(stream, too_large, header.version());
        co_return;
      }
      parser.body_limit(static_cast<uint64_t>(limit));
      if (!parser.is_done()) {
        lowest.expires_after(std::chrono::milliseconds(opt_.read_timeout_ms));
        auto [bec, bn] = co_await bhttp::async_read(stream, buffer, parser, kTuple);
        if (bec == bhttp::error::body_limit) {
          co_await Reject(stream, too_large, header.version());
          co_return;
        }
        if (bec) {
          if (IsParseError(bec)) {
            const Error e = InvalidArgument(
                "malformed_request", fmt::format("malformed request body: {}", bec.message()));
            co_await Reject(stream, e, header.version());
          }
          co_return;
        }
      }
      auto message = parser.release();
      for (const auto& field : message) {
        req.headers[std::string(field.name_string())] = std::string(field.value());
      }
      req.body = std::move(message.body());
      keep_alive = message.keep_alive() && !draining_;
      const bool head = req.method == "HEAD";
      Response resp;
      if (match.route != nullptr && match.route->runs_inline) {
        // Liveness and version answers: a thread hop would cost more than the work.
        auto work = HandleOnWorker(&req, &match);
        resp = co_await std::move(work);
      } else {
        // Named before co_await: see the note on GCC 12 above.
        auto work = asio::co_spawn(workers_.get_executor(), HandleOnWorker(&req, &match),
                                   asio::use_awaitable);
        resp = co_await std::move(work);
      }
      if (resp.body_source) {
        auto streamed = WriteStreamed(stream, &resp, message.version(), keep_alive, head);
        const bool complete = co_await std::move(streamed);
        if (!complete) co_return;
        continue;
      }
      auto res = ToBeast(resp, message.version(), keep_alive, head);
      lowest.expires_after(std::chrono::milliseconds(opt_.read_timeout_ms));
      auto [wec, wn] = co_await bhttp::async_write(stream, res, kTuple);
      if (wec) co_return;
    }
    lowest.expires_after(std::chrono::seconds(2));
    co_await stream.async_shutdown(kTuple);
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

  asio::awaitable<Response> HandleOnWorker(Request* req, const Router::Match* match) {
    try {
      co_return pipeline_.Handle(*req, *match);
    } catch (const std::exception& e) {
      spdlog::error("request {}: unhandled exception: {}", req->request_id, e.what());
    }
    co_return Response::FromError(Internal("internal_error", "internal error; see server log"));
  }

  static bool IsParseError(const boost::system::error_code& ec) {
    // Beast reports both malformed input and ordinary ends of a connection in its own
    // category; only the former deserves a 400.
    return ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category() &&
           ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message;
  }

  ServerOptions opt_;
  const Pipeline& pipeline_;
  asio::io_context ioc_;
  asio::thread_pool workers_;
  ssl::context tls_;
  tcp::acceptor acceptor_;
  asio::signal_set signals_;
  asio::steady_timer grace_timer_;
  std::atomic<int> active_{0};
  std::atomic<bool> draining_{false};
  std::mutex mu_;
  std::set<std::shared_ptr<Connection>> conns_;
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

}  // namespace zengen::http
