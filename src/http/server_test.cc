// The HTTPS server in process: streamed bodies (Response::body_source) over real TLS.
#include "http/server.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "crypto/crypto.h"
#include "support/tls_client.h"

namespace zengen::http {
namespace {

namespace fs = std::filesystem;
using zengen::testing::BuildRequest;
using zengen::testing::TlsConnection;

constexpr int64_t kPiece = int64_t{1} << 20;

// Deterministic content: byte i of the body.
char ByteAt(int64_t i) { return static_cast<char>((i * 131 + (i >> 12)) & 0xff); }

std::string Expected(int64_t size) {
  std::string s(static_cast<size_t>(size), '\0');
  for (int64_t i = 0; i < size; ++i) s[static_cast<size_t>(i)] = ByteAt(i);
  return s;
}

class StreamingServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("zg-http-" + crypto::ToHex(crypto::RandomBytes(6)));
    fs::create_directories(dir_);
    ASSERT_TRUE(
        crypto::WriteSelfSignedCertificate(dir_ / "cert.pem", dir_ / "key.pem", {"127.0.0.1"}, 2)
            .ok());
    Router router;
    // `size` bytes in 1 MiB pieces, counting the pieces produced so far.
    auto add = [&](std::string pattern, int64_t declared, int64_t size, int fail_after) {
      ASSERT_TRUE(router
                      .Add({.method = "GET",
                            .pattern = pattern,
                            .action = "system.health",
                            .resource = "system",
                            .handler =
                                [this, declared, size, fail_after](Request&) {
                                  Response r;
                                  r.headers["Content-Type"] = "application/octet-stream";
                                  r.content_length = declared;
                                  r.body_source =
                                      [this, size, fail_after,
                                       at = int64_t{0}]() mutable -> Result<std::string> {
                                    if (fail_after >= 0 && produced_ >= fail_after) {
                                      return Internal("blob_truncated", "copy lost");
                                    }
                                    if (at >= size) return std::string();
                                    const int64_t n = std::min(kPiece, size - at);
                                    std::string piece(static_cast<size_t>(n), '\0');
                                    for (int64_t i = 0; i < n; ++i) {
                                      piece[static_cast<size_t>(i)] = ByteAt(at + i);
                                    }
                                    at += n;
                                    ++produced_;
                                    return piece;
                                  };
                                  return r;
                                }})
                      .ok());
    };
    add("/big", 40 * kPiece, 40 * kPiece, -1);
    add("/odd", 3 * kPiece + 17, 3 * kPiece + 17, -1);
    add("/fails", 8 * kPiece, 8 * kPiece, 2);
    add("/overruns", 10, 5 * kPiece, -1);
    add("/short", 5 * kPiece, 2 * kPiece, -1);
    ASSERT_TRUE(router
                    .Add({.method = "GET",
                          .pattern = "/small",
                          .action = "system.health",
                          .resource = "system",
                          .handler = [](Request&) { return Response::Text(200, "ok"); }})
                    .ok());
    pipeline_ = std::make_unique<Pipeline>(std::move(router));
    ServerOptions o;
    o.listen = "127.0.0.1:0";
    o.tls_certificate = dir_ / "cert.pem";
    o.tls_private_key = dir_ / "key.pem";
    o.worker_threads = 4;
    o.handle_signals = false;
    o.shutdown_grace_ms = 2000;
    auto server = Server::Create(o, *pipeline_);
    ASSERT_TRUE(server.ok()) << server.error().message;
    server_ = std::move(*server);
    thread_ = std::thread([this] { server_->Run(); });
  }

  void TearDown() override {
    if (server_) server_->Shutdown();
    if (thread_.joinable()) thread_.join();
    fs::remove_all(dir_);
  }

  std::unique_ptr<TlsConnection> Connect() {
    return TlsConnection::Connect(server_->port(), dir_ / "cert.pem");
  }

  void ExpectStillServing() {
    auto c = Connect();
    ASSERT_TRUE(c);
    ASSERT_TRUE(c->Send(BuildRequest("GET", "/small")));
    auto r = c->Read();
    ASSERT_TRUE(r) << "server stopped serving";
    EXPECT_EQ(r->body, "ok");
  }

  fs::path dir_;
  std::unique_ptr<Pipeline> pipeline_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  std::atomic<int> produced_{0};
};

TEST_F(StreamingServerTest, BodyArrivesWholeWithItsLengthAndIsProducedAsTheClientReads) {
  auto c = Connect();
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->Send(BuildRequest("GET", "/big")));
  // The client reads nothing yet: the server must stop producing once the socket is full,
  // instead of building the 40 MiB body in memory.
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  EXPECT_LT(produced_.load(), 30);
  auto r = c->Read(20000);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->headers["content-length"], std::to_string(40 * kPiece));
  EXPECT_EQ(r->headers["x-content-type-options"], "nosniff");
  EXPECT_EQ(r->body.size(), static_cast<size_t>(40 * kPiece));
  EXPECT_TRUE(r->body == Expected(40 * kPiece));
  EXPECT_EQ(produced_.load(), 40);
  // The connection stays usable after a streamed answer.
  ASSERT_TRUE(c->Send(BuildRequest("GET", "/odd")));
  auto odd = c->Read(20000);
  ASSERT_TRUE(odd);
  EXPECT_TRUE(odd->body == Expected(3 * kPiece + 17));
  ASSERT_TRUE(c->Send(BuildRequest("GET", "/small")));
  auto small = c->Read();
  ASSERT_TRUE(small);
  EXPECT_EQ(small->body, "ok");
}

TEST_F(StreamingServerTest, SourceErrorClosesTheConnectionShortOfTheLength) {
  auto c = Connect();
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->Send(BuildRequest("GET", "/fails")));
  EXPECT_FALSE(c->Read(10000).has_value());  // headers and 2 MiB, then the close
  ExpectStillServing();
}

TEST_F(StreamingServerTest, SourceThatBreaksItsDeclaredLengthIsCutOff) {
  for (const char* path : {"/overruns", "/short"}) {
    SCOPED_TRACE(path);
    auto c = Connect();
    ASSERT_TRUE(c);
    ASSERT_TRUE(c->Send(BuildRequest("GET", path)));
    EXPECT_FALSE(c->Read(10000).has_value());
    EXPECT_TRUE(c->ClosedByPeer(3000));
  }
  ExpectStillServing();
}

// Issue 13: bounded resources before authentication, connection and rate limits, lingering
// 413s and the TLS settings, against a server with a stand-in authentication filter.
class TokenFilter final : public Filter {
 public:
  std::optional<Response> OnRequest(Request& req) override {
    if (req.Header("Authorization") == "Bearer good") {
      req.subject.authenticated = true;
      req.subject.id = "tester";
      return std::nullopt;
    }
    if (req.path == "/small") return std::nullopt;
    return Response::FromError(Unauthenticated("authentication_required", "a token is required"));
  }
};

constexpr int64_t kUploadLimit = int64_t{1} << 20;
// The spooled route's limit, and the size of the large bodies sent to it.
constexpr int64_t kStreamLimit = int64_t{32} << 20;

// The spooled route's handler: reads the body in 1 MiB pieces and checks every byte against
// ByteAt; answers "<length> <wrong bytes>", or 400 "refused_here" after the first piece when
// the request says X-Refuse (a handler that refuses a body it has partly read).
Response CheckSpooledBody(Request& req) {
  auto next = BodyPieces(req, size_t{1} << 20);
  int64_t at = 0;
  int64_t wrong = 0;
  for (;;) {
    auto piece = next();
    if (!piece.ok()) return Response::FromError(piece.error());
    if (piece->empty()) break;
    for (const char c : *piece) {
      if (c != ByteAt(at)) ++wrong;
      ++at;
    }
    if (!req.Header("X-Refuse").empty()) {
      return Response::FromError(InvalidArgument("refused_here", "refused by the test", "body"));
    }
  }
  return Response::Text(200, std::to_string(at) + " " + std::to_string(wrong));
}

// Sends `size` bytes of ByteAt content in 1 MiB pieces (never the whole body at once).
bool SendPattern(TlsConnection& c, int64_t size) {
  std::string piece;
  for (int64_t at = 0; at < size; at += kPiece) {
    const int64_t n = std::min(kPiece, size - at);
    piece.resize(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) piece[static_cast<size_t>(i)] = ByteAt(at + i);
    if (!c.Send(piece)) return false;
  }
  return true;
}

// The process's peak resident set (VmHWM), in bytes.
int64_t PeakRssBytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
  }
  return -1;
}

// Open descriptors of this process on files in `dir`, live or deleted (an unnamed spool file
// reads as "DIR/#123 (deleted)" or "DIR/body-… (deleted)").
int OpenFilesIn(const fs::path& dir) {
  int n = 0;
  for (const auto& e : fs::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    const fs::path target = fs::read_symlink(e.path(), ec);
    if (!ec && target.string().rfind(dir.string() + "/", 0) == 0) ++n;
  }
  return n;
}

class HardenedServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("zg-hard-" + crypto::ToHex(crypto::RandomBytes(6)));
    fs::create_directories(dir_);
    ASSERT_TRUE(
        crypto::WriteSelfSignedCertificate(dir_ / "cert.pem", dir_ / "key.pem", {"127.0.0.1"}, 2)
            .ok());
    Router router;
    ASSERT_TRUE(router
                    .Add({.method = "GET",
                          .pattern = "/small",
                          .action = "system.health",
                          .resource = "system",
                          .handler = [](Request&) { return Response::Text(200, "ok"); }})
                    .ok());
    ASSERT_TRUE(router
                    .Add({.method = "POST",
                          .pattern = "/upload",
                          .action = "upload.write",
                          .resource = "upload",
                          .max_body_bytes = kUploadLimit,
                          .handler =
                              [](Request& req) {
                                return Response::Text(200, std::to_string(req.body.size()));
                              }})
                    .ok());
    ASSERT_TRUE(router
                    .Add({.method = "POST",
                          .pattern = "/stream",
                          .action = "upload.write",
                          .resource = "upload",
                          .max_body_bytes = kStreamLimit,
                          .body_mode = BodyMode::kSpooled,
                          .handler = CheckSpooledBody})
                    .ok());
    pipeline_ = std::make_unique<Pipeline>(std::move(router));
    pipeline_->AddFilter(std::make_unique<TokenFilter>());
    options_.listen = "127.0.0.1:0";
    options_.tls_certificate = dir_ / "cert.pem";
    options_.tls_private_key = dir_ / "key.pem";
    options_.worker_threads = 4;
    options_.handle_signals = false;
    options_.shutdown_grace_ms = 2000;
    options_.read_timeout_ms = 3000;
    options_.spool_directory = dir_ / "spool";
  }

  void Start() {
    auto server = Server::Create(options_, *pipeline_);
    ASSERT_TRUE(server.ok()) << server.error().message;
    server_ = std::move(*server);
    thread_ = std::thread([this] { server_->Run(); });
  }

  void TearDown() override {
    if (server_) server_->Shutdown();
    if (thread_.joinable()) thread_.join();
    fs::remove_all(dir_);
  }

  std::unique_ptr<TlsConnection> Connect(const zengen::testing::ConnectOptions& o = {}) {
    return TlsConnection::Connect(server_->port(), dir_ / "cert.pem", o);
  }

  static std::string Upload(int64_t content_length, bool authenticated) {
    std::map<std::string, std::string> h = {{"Content-Length", std::to_string(content_length)}};
    if (authenticated) h["Authorization"] = "Bearer good";
    return BuildRequest("POST", "/upload", h);
  }

  void ExpectServed(const std::string& source) {
    auto c = Connect({.source_address = source});
    ASSERT_TRUE(c) << "no connection from " << source;
    ASSERT_TRUE(c->Send(BuildRequest("GET", "/small")));
    auto r = c->Read();
    ASSERT_TRUE(r) << "no answer from " << source;
    EXPECT_EQ(r->status, 200);
  }

  fs::path dir_;
  ServerOptions options_;
  std::unique_ptr<Pipeline> pipeline_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
};

TEST_F(HardenedServerTest, AnonymousLargeBodyIsRefusedOnItsHeadersBeforeAnyBodyByte) {
  // Issue 13 item 2: the body was read whole, up to the route's limit, before authentication.
  // Here no body byte is ever sent: the answer can only come from the headers.
  options_.body_memory_budget_bytes = 64 << 20;
  Start();
  auto c = Connect();
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->Send(Upload(kUploadLimit, false)));
  auto r = c->Read();
  ASSERT_TRUE(r) << "no answer before the body";
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(r->ErrorCode(), "authentication_required");
  // It may send its body now: it is discarded while the connection closes, never held.
  c->Send(std::string(256 << 10, 'x'));
  EXPECT_TRUE(c->ClosedByPeer(5000));
  EXPECT_EQ(server_->stats().body_bytes_reserved_peak, 0);
  ExpectServed("127.0.0.1");
}

TEST_F(HardenedServerTest, BodiesBeyondTheMemoryBudgetAreRefusedWith503) {
  options_.body_memory_budget_bytes = kUploadLimit + kUploadLimit / 2;
  Start();
  auto first = Connect();
  ASSERT_TRUE(first);
  const std::string body(static_cast<size_t>(kUploadLimit), 'b');
  ASSERT_TRUE(first->Send(Upload(kUploadLimit, true) + body.substr(0, 1000)));
  // The first request holds its reservation while its body trickles in.
  for (int i = 0; i < 200 && server_->stats().body_bytes_reserved == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(server_->stats().body_bytes_reserved, kUploadLimit);
  auto second = Connect();
  ASSERT_TRUE(second);
  second->Send(Upload(kUploadLimit, true) + body);
  auto busy = second->Read();
  ASSERT_TRUE(busy);
  EXPECT_EQ(busy->status, 503);
  EXPECT_EQ(busy->ErrorCode(), "server_busy");
  EXPECT_EQ(busy->headers["retry-after"], "1");
  ASSERT_TRUE(first->Send(body.substr(1000)));
  auto ok = first->Read();
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(ok->body, std::to_string(kUploadLimit));
  EXPECT_LE(server_->stats().body_bytes_reserved_peak, options_.body_memory_budget_bytes);
  EXPECT_EQ(server_->stats().body_bytes_reserved, 0);
}

TEST_F(HardenedServerTest, EightLimitSizedSpooledBodiesHoldABoundedBufferEach) {
  // Issue 13 item 2: a body was read whole, up to the route's limit, into memory. A budget
  // smaller than one body refused every such upload with 503 (or, larger, let eight of them
  // pin 8 × 32 MiB). Spooled, each holds kSpooledBodyMemoryBytes while its body arrives.
  options_.body_memory_budget_bytes = 16 << 20;
  options_.read_timeout_ms = 120000;
  options_.worker_threads = 8;
  Start();
  const int64_t rss_before = PeakRssBytes();
  ASSERT_GT(rss_before, 0);
  constexpr int kClients = 8;
  std::vector<std::string> answers(kClients);
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] {
      auto c = Connect();
      if (!c) return;
      if (!c->Send(BuildRequest("POST", "/stream",
                                {{"Authorization", "Bearer good"},
                                 {"Content-Length", std::to_string(kStreamLimit)}}))) {
        return;
      }
      if (!SendPattern(*c, kStreamLimit)) return;
      auto r = c->Read(120000);
      if (r) answers[static_cast<size_t>(i)] = std::to_string(r->status) + ": " + r->body;
    });
  }
  for (auto& t : clients) t.join();
  for (int i = 0; i < kClients; ++i) {
    EXPECT_EQ(answers[static_cast<size_t>(i)], "200: " + std::to_string(kStreamLimit) + " 0")
        << "client " << i;
  }
  const ServerStats st = server_->stats();
  EXPECT_LE(st.body_bytes_reserved_peak, kClients * kSpooledBodyMemoryBytes);
  EXPECT_GE(st.spool_bytes_reserved_peak, kStreamLimit);
  EXPECT_EQ(st.body_bytes_reserved, 0);
  EXPECT_EQ(st.spool_bytes_reserved, 0);
  EXPECT_EQ(st.spooled_bodies, 0);
  // Not only the server's own accounting: the process (clients included) never grew by more
  // than two bodies' worth while 8 × 32 MiB went through it.
  EXPECT_LT(PeakRssBytes() - rss_before, 2 * kStreamLimit);
  EXPECT_EQ(OpenFilesIn(options_.spool_directory), 0);
}

TEST_F(HardenedServerTest, SpooledBodyLeavesNothingBehindHoweverTheRequestEnds) {
  // Issue 13 item 2: spooled bodies are removed when the request ends, whatever the outcome.
  Start();
  const fs::path spool = options_.spool_directory;
  auto nothing_left = [&](const char* when) {
    for (int i = 0; i < 500 && (server_->stats().open_connections > 0 ||
                                server_->stats().spooled_bodies > 0);
         ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_EQ(server_->stats().spooled_bodies, 0) << when;
    EXPECT_EQ(OpenFilesIn(spool), 0) << when;
    EXPECT_TRUE(fs::is_empty(spool)) << when;
    EXPECT_EQ(server_->stats().spool_bytes_reserved, 0) << when;
    EXPECT_EQ(server_->stats().body_bytes_reserved, 0) << when;
  };
  const std::map<std::string, std::string> auth = {{"Authorization", "Bearer good"}};
  const int64_t size = 3 * kPiece + 5;
  {
    auto c = Connect();
    ASSERT_TRUE(c);
    auto h = auth;
    h["Content-Length"] = std::to_string(size);
    ASSERT_TRUE(c->Send(BuildRequest("POST", "/stream", h)));
    ASSERT_TRUE(SendPattern(*c, size));
    auto r = c->Read();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, std::to_string(size) + " 0");
  }
  nothing_left("after success");
  {
    auto c = Connect();
    ASSERT_TRUE(c);
    auto h = auth;
    h["Content-Length"] = std::to_string(size);
    h["X-Refuse"] = "1";
    ASSERT_TRUE(c->Send(BuildRequest("POST", "/stream", h)));
    ASSERT_TRUE(SendPattern(*c, size));
    auto r = c->Read();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400);
    EXPECT_EQ(r->ErrorCode(), "refused_here");
  }
  nothing_left("after the handler's 4xx");
  {
    // Chunked, so the limit is found only while the body arrives.
    auto c = Connect();
    ASSERT_TRUE(c);
    auto h = auth;
    h["Transfer-Encoding"] = "chunked";
    ASSERT_TRUE(c->Send(BuildRequest("POST", "/stream", h)));
    const std::string chunk = fmt::format("{:x}\r\n{}\r\n", kPiece,
                                          std::string(static_cast<size_t>(kPiece), 'c'));
    for (int64_t sent = 0; sent <= kStreamLimit; sent += kPiece) {
      if (!c->Send(chunk)) break;  // the server answered and closed: the answer counts
    }
    auto r = c->Read();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 413);
    EXPECT_EQ(r->ErrorCode(), "body_too_large");
  }
  nothing_left("after a 413 mid-body");
  {
    auto c = Connect();
    ASSERT_TRUE(c);
    auto h = auth;
    h["Content-Length"] = std::to_string(8 * kPiece);
    ASSERT_TRUE(c->Send(BuildRequest("POST", "/stream", h)));
    ASSERT_TRUE(SendPattern(*c, kPiece));
    // The body is being spooled now, and the checks above can see it.
    for (int i = 0; i < 500 && server_->stats().spooled_bodies == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_EQ(server_->stats().spooled_bodies, 1);
    EXPECT_EQ(OpenFilesIn(spool), 1);
    EXPECT_TRUE(fs::is_empty(spool)) << "the spool file has no name";
  }  // the client goes away mid-body
  nothing_left("after the client went away mid-body");
  ExpectServed("127.0.0.1");
}

TEST_F(HardenedServerTest, TooLargeAnswerArrivesEveryTime) {
  // Issue 13 item 6: the 413 was destroyed by the reset in 3 of 5 tries at 200 KB over.
  Start();
  const std::string body(static_cast<size_t>(kUploadLimit + 200 * 1000), 'x');
  int received = 0;
  for (int i = 0; i < 5; ++i) {
    auto c = Connect();
    ASSERT_TRUE(c);
    c->Send(Upload(static_cast<int64_t>(body.size()), true) + body);  // may fail: the answer counts
    auto r = c->Read();
    if (r && r->status == 413 && r->ErrorCode() == "body_too_large") ++received;
  }
  EXPECT_EQ(received, 5);
  ExpectServed("127.0.0.1");
}

TEST_F(HardenedServerTest, IdleConnectionsFromOneAddressDoNotLockOutAnother) {
  // Issue 13 item 3: 260 idle TCP connections locked everyone out (default limits here).
  Start();
  std::vector<int> idle;
  for (int i = 0; i < 300; ++i) {
    const int fd = zengen::testing::ConnectTcp(server_->port(), "127.0.0.2");
    ASSERT_GE(fd, 0) << "connection " << i;
    idle.push_back(fd);
  }
  ExpectServed("127.0.0.1");
  const ServerStats st = server_->stats();
  EXPECT_LE(st.open_connections, options_.max_connections_per_address + 1);
  EXPECT_GE(st.refused_connections, 300 - options_.max_connections_per_address);
  for (int fd : idle) ::close(fd);
}

TEST_F(HardenedServerTest, AddressThatKeepsBeingRefusedIsRateLimitedAlone) {
  options_.refusals_per_second_per_address = 0.001;
  options_.refusal_burst_per_address = 5;
  Start();
  // A connection that authenticated before the address was limited.
  auto known = Connect({.source_address = "127.0.0.2"});
  ASSERT_TRUE(known);
  ASSERT_TRUE(known->Send(Upload(0, true)));
  auto before = known->Read();
  ASSERT_TRUE(before);
  EXPECT_EQ(before->status, 200);
  auto c = Connect({.source_address = "127.0.0.2"});
  ASSERT_TRUE(c);
  std::vector<int> statuses;
  for (int i = 0; i < 8; ++i) {
    ASSERT_TRUE(c->Send(Upload(0, false)));
    auto r = c->Read();
    ASSERT_TRUE(r) << "request " << i;
    statuses.push_back(r->status);
    if (r->status == 429) {
      EXPECT_EQ(r->ErrorCode(), "rate_limited");
      EXPECT_EQ(r->headers["retry-after"], "1");
    }
  }
  EXPECT_EQ(statuses, (std::vector<int>{401, 401, 401, 401, 401, 429, 429, 429}));
  // Another address is answered as usual, refused or not.
  auto other = Connect({.source_address = "127.0.0.1"});
  ASSERT_TRUE(other);
  ASSERT_TRUE(other->Send(Upload(0, false)));
  auto r = other->Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  ExpectServed("127.0.0.1");
  // The authenticated connection from the limited address is not limited, nor a new one that
  // authenticates.
  ASSERT_TRUE(known->Send(Upload(0, true)));
  auto after = known->Read();
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 200);
  auto fresh = Connect({.source_address = "127.0.0.2"});
  ASSERT_TRUE(fresh);
  ASSERT_TRUE(fresh->Send(Upload(0, true)));
  auto served = fresh->Read();
  ASSERT_TRUE(served);
  EXPECT_EQ(served->status, 200);
}

TEST_F(HardenedServerTest, TlsOffersOnlyAeadSuitesInTheServersOrder) {
  // Issue 13 item 12: TLS 1.2 offered CBC suites in the client's order.
  Start();
  for (const char* cbc : {"ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA384",
                          "ECDHE-ECDSA-AES128-SHA256"}) {
    EXPECT_EQ(Connect({.tls12_ciphers = cbc}), nullptr) << cbc << " was accepted";
  }
  auto c = Connect({.tls12_ciphers = "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256"});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->cipher(), "ECDHE-ECDSA-AES128-GCM-SHA256");
  ASSERT_TRUE(c->Send(BuildRequest("GET", "/small")));
  auto r = c->Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->headers["strict-transport-security"], "max-age=63072000; includeSubDomains");
  auto modern = Connect();
  ASSERT_TRUE(modern);
  EXPECT_EQ(modern->cipher(), "TLS_AES_128_GCM_SHA256");
}

}  // namespace
}  // namespace zengen::http
