// The HTTPS server in process: streamed bodies (Response::body_source) over real TLS.
#include "http/server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>

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

}  // namespace
}  // namespace zengen::http
