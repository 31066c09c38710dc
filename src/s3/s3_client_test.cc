// S3Client against a real Ceph RGW (never a fake S3 server: those accept wrong signatures and
// wrong payload hashes). ZENGEN_TEST_S3="ENDPOINT ACCESS SECRET" names the gateway that
// scripts/test.sh started; without it the tests skip, unless ZENGEN_REQUIRE_S3=1, which makes
// its absence a failure (CI sets it).
#include "s3/s3_client.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <cstdlib>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include "crypto/crypto.h"

namespace zengen::s3 {
namespace {

struct Gateway {
  std::string endpoint, access, secret;
};

std::optional<Gateway> TestGateway() {
  const char* v = std::getenv("ZENGEN_TEST_S3");
  if (v == nullptr || *v == '\0') return std::nullopt;
  std::istringstream in(v);
  Gateway g;
  in >> g.endpoint >> g.access >> g.secret;
  if (g.secret.empty()) return std::nullopt;
  return g;
}

class S3ClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto g = TestGateway();
    if (!g) {
      const char* req = std::getenv("ZENGEN_REQUIRE_S3");
      if (req != nullptr && std::string(req) == "1") {
        FAIL() << "ZENGEN_REQUIRE_S3=1 but ZENGEN_TEST_S3 is not set";
      }
      GTEST_SKIP() << "no Ceph RGW for tests (set ZENGEN_TEST_S3)";
    }
    gw_ = *g;
    auto c = S3Client::Create({.endpoint = gw_.endpoint, .access_key = gw_.access,
                               .secret_key = gw_.secret, .backoff_base = std::chrono::milliseconds(5)});
    ASSERT_TRUE(c.ok()) << c.error().message;
    client_ = std::move(*c);
    bucket_ = "t-" + crypto::ToHex(crypto::RandomBytes(6));
    auto made = client_->CreateBucket(bucket_);
    ASSERT_TRUE(made.ok()) << made.error().message;
  }
  Gateway gw_;
  std::unique_ptr<S3Client> client_;
  std::string bucket_;
};

TEST_F(S3ClientTest, PutHeadGetRangeListDelete) {
  std::string data = crypto::RandomBytes(100000);
  auto put = client_->Put(bucket_, "a/b/one", data);
  ASSERT_TRUE(put.ok()) << put.error().message;
  EXPECT_FALSE(put->etag.empty());
  auto head = client_->Head(bucket_, "a/b/one");
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->size, 100000);
  EXPECT_EQ(head->etag, put->etag);
  auto mid = client_->GetRange(bucket_, "a/b/one", 4096, 5000);
  ASSERT_TRUE(mid.ok());
  EXPECT_EQ(*mid, data.substr(4096, 5000));
  auto tail = client_->GetRange(bucket_, "a/b/one", 99990, 100);
  ASSERT_TRUE(tail.ok());
  EXPECT_EQ(*tail, data.substr(99990));
  std::string streamed;
  ASSERT_TRUE(client_->Get(bucket_, "a/b/one", 10, [&](std::string_view p) {
                       streamed.append(p);
                       return true;
                     }).ok());
  EXPECT_EQ(streamed, data.substr(10));
  ASSERT_TRUE(client_->Put(bucket_, "a/c", "x").ok());
  ASSERT_TRUE(client_->Put(bucket_, "z", "y").ok());
  auto listed = client_->List(bucket_, "a/");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].key, "a/b/one");
  EXPECT_EQ((*listed)[0].size, 100000);
  EXPECT_EQ((*listed)[1].key, "a/c");
  ASSERT_TRUE(client_->Delete(bucket_, "a/c").ok());
  EXPECT_TRUE(client_->Delete(bucket_, "a/c").ok()) << "deleting an absent key succeeds";
  auto gone = client_->Head(bucket_, "a/c");
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code, "s3_no_such_key");
  auto past = client_->GetRange(bucket_, "a/b/one", 100000, 10);
  ASSERT_FALSE(past.ok());
  EXPECT_EQ(past.error().code, "s3_range_not_satisfiable");
}

TEST_F(S3ClientTest, WrongSecretIsRefusedAtOnceAndNeverRetried) {
  auto bad = S3Client::Create({.endpoint = gw_.endpoint, .access_key = gw_.access,
                               .secret_key = gw_.secret + "x"});
  ASSERT_TRUE(bad.ok());
  auto r = (*bad)->Put(bucket_, "k", "data");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "s3_access_denied");
  EXPECT_EQ(r.error().message.find(gw_.secret), std::string::npos) << "no secret in messages";
  EXPECT_EQ((*bad)->stats().requests, 1);
  EXPECT_EQ((*bad)->stats().retries, 0);
  EXPECT_FALSE(client_->Head(bucket_, "k").ok()) << "nothing was stored";
}

TEST_F(S3ClientTest, WrongPayloadHashIsRefusedAndNothingIsStored) {
  PutOptions o;
  o.declared_sha256_for_tests = crypto::Sha256Hex("something else");
  auto r = client_->Put(bucket_, "k", "the real bytes", o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "s3_bad_request");
  EXPECT_NE(r.error().message.find("XAmzContentSHA256Mismatch"), std::string::npos)
      << r.error().message;
  EXPECT_EQ(client_->stats().retries, 0);
  EXPECT_FALSE(client_->Head(bucket_, "k").ok());
}

TEST_F(S3ClientTest, MissingBucketAndBadNamesAreNamed) {
  auto r = client_->Put("no-such-bucket-" + crypto::ToHex(crypto::RandomBytes(4)), "k", "v");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "s3_no_such_bucket");
  const int64_t sent = client_->stats().requests;
  for (const char* key : {"", "/abs", "a//b", "a/../b", "sp ace", "q?x", "percent%2F"}) {
    auto k = client_->Put(bucket_, key, "v");
    ASSERT_FALSE(k.ok()) << key;
    EXPECT_EQ(k.error().code, "s3_bad_key") << key;
    EXPECT_EQ(k.error().field, "key");
  }
  EXPECT_EQ(client_->stats().requests, sent) << "bad keys never reach the server";
  EXPECT_FALSE(S3Client::Create({.endpoint = "ftp://x", .access_key = "a", .secret_key = "b"}).ok());
  EXPECT_FALSE(S3Client::Create({.endpoint = "http://x/path", .access_key = "a", .secret_key = "b"}).ok());
  EXPECT_FALSE(S3Client::Create({.endpoint = "http://x", .access_key = "", .secret_key = "b"}).ok());
}

TEST_F(S3ClientTest, MultipartWriterStreamsPartsAndCommits) {
  const int64_t part = MultipartWriter::kMinPartSize;
  std::string data = crypto::RandomBytes(static_cast<size_t>(2 * part + 12345));
  auto w = MultipartWriter::Start(*client_, bucket_, "big/object", part);
  ASSERT_TRUE(w.ok()) << w.error().message;
  // Uneven writes across part boundaries.
  size_t at = 0;
  for (size_t step : {1u, 4096u, 5u << 20, 777u}) {
    ASSERT_TRUE((*w)->Write(std::string_view(data).substr(at, step)).ok());
    at += step;
  }
  ASSERT_TRUE((*w)->Write(std::string_view(data).substr(at)).ok());
  auto pending = client_->ListMultipart(bucket_, "big/");
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ((*pending)[0].upload_id, (*w)->upload_id());
  EXPECT_FALSE(client_->Head(bucket_, "big/object").ok()) << "not visible before Commit";
  auto done = (*w)->Commit();
  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_FALSE(done->etag.empty());
  auto head = client_->Head(bucket_, "big/object");
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->size, static_cast<int64_t>(data.size()));
  std::string back;
  ASSERT_TRUE(client_->Get(bucket_, "big/object", 0, [&](std::string_view p) {
                       back.append(p);
                       return true;
                     }).ok());
  EXPECT_EQ(crypto::Sha256Hex(back), crypto::Sha256Hex(data));
  EXPECT_EQ(head->etag, (*w)->ExpectedEtag());
  auto after = client_->ListMultipart(bucket_, "big/");
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->empty());

  // One Write of the whole object (its whole parts sent from the caller's bytes) stores the
  // same bytes under the same multipart ETag rule.
  auto one = MultipartWriter::Start(*client_, bucket_, "big/one-write", part);
  ASSERT_TRUE(one.ok());
  ASSERT_TRUE((*one)->Write(data).ok());
  ASSERT_TRUE((*one)->Commit().ok());
  std::string one_back;
  ASSERT_TRUE(client_->Get(bucket_, "big/one-write", 0, [&](std::string_view p) {
                       one_back.append(p);
                       return true;
                     }).ok());
  EXPECT_EQ(crypto::Sha256Hex(one_back), crypto::Sha256Hex(data));
  auto one_head = client_->Head(bucket_, "big/one-write");
  ASSERT_TRUE(one_head.ok());
  EXPECT_EQ(one_head->etag, (*one)->ExpectedEtag());

  // With the writer's own MD5 check every part's ETag is compared as it is acknowledged.
  auto checked = MultipartWriter::Start(*client_, bucket_, "big/checked", part,
                                        {.check_part_md5 = true}, 1);
  ASSERT_TRUE(checked.ok());
  ASSERT_TRUE((*checked)->Write(data).ok());
  ASSERT_TRUE((*checked)->Commit().ok());
  auto checked_head = client_->Head(bucket_, "big/checked");
  ASSERT_TRUE(checked_head.ok());
  EXPECT_EQ(checked_head->etag, (*checked)->ExpectedEtag());
}

TEST_F(S3ClientTest, AnAbandonedMultipartWriterLeavesNothing) {
  {
    auto w = MultipartWriter::Start(*client_, bucket_, "gone", MultipartWriter::kMinPartSize);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Write(crypto::RandomBytes(6 << 20)).ok());  // one part sent
  }  // destroyed without Commit
  auto pending = client_->ListMultipart(bucket_, "");
  ASSERT_TRUE(pending.ok());
  EXPECT_TRUE(pending->empty());
  EXPECT_FALSE(client_->Head(bucket_, "gone").ok());
  EXPECT_FALSE(MultipartWriter::Start(*client_, bucket_, "x", 1024).ok());
  // Unfinished uploads left by a crashed process are listed and can be aborted.
  auto id = client_->CreateMultipart(bucket_, "crashed");
  ASSERT_TRUE(id.ok());
  auto listed = client_->ListMultipart(bucket_, "");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  ASSERT_TRUE(client_->AbortMultipart(bucket_, "crashed", *id).ok());
  EXPECT_TRUE(client_->AbortMultipart(bucket_, "crashed", *id).ok()) << "idempotent";
  EXPECT_TRUE(client_->ListMultipart(bucket_, "")->empty());
}

TEST_F(S3ClientTest, ObjectLockRefusesDeletingALockedVersion) {
  std::string locked = bucket_ + "-lock";
  ASSERT_TRUE(client_->CreateBucket(locked, /*object_lock=*/true).ok());
  ASSERT_TRUE(client_->SetDefaultRetention(locked, "COMPLIANCE", 1).ok());
  PutOptions o;
  o.lock_mode = "COMPLIANCE";
  o.retain_until = "2099-01-01T00:00:00Z";
  auto put = client_->Put(locked, "fastq/locked", "bytes", o);
  ASSERT_TRUE(put.ok()) << put.error().message;
  ASSERT_FALSE(put->version_id.empty()) << "lock buckets are versioned";
  auto head = client_->Head(locked, "fastq/locked");
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->lock_mode, "COMPLIANCE");
  auto del = client_->Delete(locked, "fastq/locked", put->version_id);
  ASSERT_FALSE(del.ok());
  EXPECT_EQ(del.error().code, "s3_access_denied");
  auto still = client_->GetRange(locked, "fastq/locked", 0, 5);
  ASSERT_TRUE(still.ok());
  EXPECT_EQ(*still, "bytes");
}

// A server that answers 503 a given number of times, then closes: proves the retry and
// back-off path without a fake S3 (RGW cannot be made to answer 5xx on demand).
class FlakyServer {
 public:
  explicit FlakyServer(int failures, int status) : failures_(failures), status_(status) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    ::listen(fd_, 16);
    thread_ = std::thread([this] { Serve(); });
  }
  ~FlakyServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  int port() const { return port_; }
  int seen() const { return seen_; }

 private:
  void Serve() {
    while (!stop_) {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      char buf[65536];
      ssize_t n = ::recv(c, buf, sizeof buf, 0);
      (void)n;
      ++seen_;
      std::string reply;
      if (seen_ <= failures_) {
        reply = "HTTP/1.1 " + std::to_string(status_) +
                " X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      } else {
        reply = "HTTP/1.1 200 OK\r\nETag: \"e\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      }
      (void)::send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
      ::close(c);
    }
  }
  int fd_;
  int port_;
  int failures_, status_;
  std::atomic<int> seen_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

TEST(S3RetryTest, ServerErrorsAreRetriedWithBackoffThenSucceed) {
  FlakyServer server(2, 503);
  auto c = S3Client::Create({.endpoint = "http://127.0.0.1:" + std::to_string(server.port()),
                             .access_key = "a", .secret_key = "b",
                             .backoff_base = std::chrono::milliseconds(1)});
  ASSERT_TRUE(c.ok());
  auto r = (*c)->Put("bucket", "key", "v");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(server.seen(), 3);
  EXPECT_EQ((*c)->stats().retries, 2);
}

TEST(S3RetryTest, RetriesEndAfterMaxAttemptsAsUnavailable) {
  FlakyServer server(100, 500);
  auto c = S3Client::Create({.endpoint = "http://127.0.0.1:" + std::to_string(server.port()),
                             .access_key = "a", .secret_key = "b", .max_attempts = 4,
                             .backoff_base = std::chrono::milliseconds(1)});
  ASSERT_TRUE(c.ok());
  auto r = (*c)->Head("bucket", "key");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "s3_unavailable");
  EXPECT_EQ(server.seen(), 4);
}

TEST(S3RetryTest, ClientErrorsAreNeverRetried) {
  FlakyServer server(100, 400);
  auto c = S3Client::Create({.endpoint = "http://127.0.0.1:" + std::to_string(server.port()),
                             .access_key = "a", .secret_key = "b",
                             .backoff_base = std::chrono::milliseconds(1)});
  ASSERT_TRUE(c.ok());
  auto r = (*c)->Head("bucket", "key");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "s3_bad_request");
  EXPECT_EQ(server.seen(), 1);
}

TEST(S3RetryTest, ARefusedConnectionIsRetriedThenUnavailable) {
  int port;
  {
    FlakyServer s(0, 200);
    port = s.port();
  }  // closed: connections are refused
  auto c = S3Client::Create({.endpoint = "http://127.0.0.1:" + std::to_string(port),
                             .access_key = "a", .secret_key = "b", .max_attempts = 3,
                             .backoff_base = std::chrono::milliseconds(1)});
  ASSERT_TRUE(c.ok());
  auto r = (*c)->Head("bucket", "key");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "s3_unavailable");
  EXPECT_EQ((*c)->stats().requests, 3);
}

// A loopback server that speaks just enough of the multipart protocol to watch how the writer
// sends its parts: it holds each part's answer until `hold` parts are open at once (or, as a
// guard against a writer that never opens that many, until 20 s have passed), and records the
// most parts it saw open together and whether each part's declared payload SHA-256 was the
// SHA-256 of its body. Not an S3 server: the signature is not checked (the RGW tests do that).
class PartServer {
 public:
  explicit PartServer(int hold) : hold_(hold) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    ::listen(fd_, 16);
    acceptor_ = std::thread([this] {
      for (;;) {
        int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0) return;
        std::lock_guard lock(mu_);
        workers_.emplace_back([this, c] { Handle(c); });
      }
    });
  }
  ~PartServer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    acceptor_.join();
    std::lock_guard lock(mu_);
    for (auto& t : workers_) t.join();
  }
  int port() const { return port_; }
  int max_open() const { return max_open_; }
  int parts() const { return parts_; }
  int bad_hashes() const { return bad_hashes_; }

 private:
  static std::string Md5Hex(std::string_view d) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_Digest(d.data(), d.size(), md, &n, EVP_md5(), nullptr);
    return crypto::ToHex(std::string_view(reinterpret_cast<const char*>(md), n));
  }
  static std::string HeaderValue(const std::string& head, const std::string& name) {
    std::string lower = head;
    for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    auto at = lower.find("\r\n" + name + ":");
    if (at == std::string::npos) return "";
    at += name.size() + 3;
    auto end = head.find("\r\n", at);
    std::string v = head.substr(at, end - at);
    while (!v.empty() && v.front() == ' ') v.erase(0, 1);
    return v;
  }
  void Handle(int c) {
    std::string in;
    char buf[1 << 16];
    auto read_more = [&] {
      ssize_t n = ::recv(c, buf, sizeof buf, 0);
      if (n <= 0) return false;
      in.append(buf, static_cast<size_t>(n));
      return true;
    };
    for (;;) {  // one request after another on this connection
      size_t end;
      while ((end = in.find("\r\n\r\n")) == std::string::npos) {
        if (!read_more()) return ::close(c), void();
      }
      std::string head = in.substr(0, end + 2);
      in.erase(0, end + 4);
      const size_t length = std::stoul("0" + HeaderValue(head, "content-length"));
      if (!HeaderValue(head, "expect").empty()) {
        (void)::send(c, "HTTP/1.1 100 Continue\r\n\r\n", 25, MSG_NOSIGNAL);
      }
      while (in.size() < length) {
        if (!read_more()) return ::close(c), void();
      }
      std::string body = in.substr(0, length);
      in.erase(0, length);
      std::string reply_body, extra;
      if (head.rfind("POST", 0) == 0 && head.find("?uploads") != std::string::npos) {
        reply_body = "<InitiateMultipartUploadResult><UploadId>u1</UploadId>"
                     "</InitiateMultipartUploadResult>";
      } else if (head.rfind("PUT", 0) == 0 && head.find("partNumber=") != std::string::npos) {
        if (HeaderValue(head, "x-amz-content-sha256") != crypto::Sha256Hex(body)) ++bad_hashes_;
        std::unique_lock lock(mu_);
        ++parts_;
        ++open_;
        max_open_ = std::max(max_open_.load(), open_);
        cv_.notify_all();
        cv_.wait_for(lock, std::chrono::seconds(20), [&] { return open_ >= hold_ || released_; });
        released_ = open_ >= hold_ || released_;
        --open_;
        if (open_ == 0) released_ = false;
        extra = "ETag: \"" + Md5Hex(body) + "\"\r\n";
      } else if (head.rfind("POST", 0) == 0) {
        reply_body = "<CompleteMultipartUploadResult></CompleteMultipartUploadResult>";
      } else if (head.rfind("HEAD", 0) == 0) {
        extra = "ETag: \"e-1\"\r\n";
      }
      std::string reply = (head.rfind("DELETE", 0) == 0 ? "HTTP/1.1 204 No Content\r\n"
                                                        : "HTTP/1.1 200 OK\r\n") +
                          extra + "Content-Length: " + std::to_string(reply_body.size()) +
                          "\r\n\r\n" + reply_body;
      if (head.rfind("HEAD", 0) == 0) {
        reply = "HTTP/1.1 200 OK\r\n" + extra + "Content-Length: 0\r\n\r\n";
      }
      (void)::send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
    }
  }
  int fd_;
  int port_;
  const int hold_;
  std::mutex mu_;
  std::condition_variable cv_;
  int open_ = 0;
  bool released_ = false;
  std::atomic<int> max_open_{0}, parts_{0}, bad_hashes_{0};
  std::vector<std::thread> workers_;
  std::thread acceptor_;
};

TEST(S3MultipartPipelineTest, TwoPartsAreInFlightAtOnceEachWithItsOwnPayloadHash) {
  PartServer server(2);
  auto c = S3Client::Create({.endpoint = "http://127.0.0.1:" + std::to_string(server.port()),
                             .access_key = "a", .secret_key = "b"});
  ASSERT_TRUE(c.ok());
  const int64_t part = MultipartWriter::kMinPartSize;
  auto w = MultipartWriter::Start(**c, "bucket", "key", part, {}, 2);
  ASSERT_TRUE(w.ok()) << w.error().message;
  const std::string data = crypto::RandomBytes(static_cast<size_t>(4 * part));
  for (size_t at = 0; at < data.size(); at += 1 << 20) {
    ASSERT_TRUE((*w)->Write(std::string_view(data).substr(at, 1 << 20)).ok());
  }
  auto done = (*w)->Commit();
  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_EQ(server.parts(), 4);
  EXPECT_EQ(server.max_open(), 2) << "a part is uploaded while the previous one is in flight";
  EXPECT_EQ(server.bad_hashes(), 0) << "each part's payload hash is the SHA-256 of its bytes";
  EXPECT_NE((*w)->ExpectedEtag(), "");
}

TEST(S3MultipartPipelineTest, InFlightIsBounded) {
  PartServer server(3);  // would hold every part until three are open
  auto c = S3Client::Create({.endpoint = "http://127.0.0.1:" + std::to_string(server.port()),
                             .access_key = "a", .secret_key = "b"});
  ASSERT_TRUE(c.ok());
  const int64_t part = MultipartWriter::kMinPartSize;
  EXPECT_EQ(MultipartWriter::Start(**c, "bucket", "key", part, {}, 0).error().code,
            "s3_bad_in_flight");
  auto w = MultipartWriter::Start(**c, "bucket", "key", part, {}, 3);
  ASSERT_TRUE(w.ok()) << w.error().message;
  const std::string data = crypto::RandomBytes(static_cast<size_t>(6 * part));
  for (size_t at = 0; at < data.size(); at += 1 << 20) {
    ASSERT_TRUE((*w)->Write(std::string_view(data).substr(at, 1 << 20)).ok());
  }
  ASSERT_TRUE((*w)->Commit().ok());
  EXPECT_EQ(server.parts(), 6);
  EXPECT_EQ(server.max_open(), 3);
}

// One Write holding whole parts (a mapped file) sends them straight from the caller's bytes,
// the default three at once, each with the SHA-256 of its own bytes; Write returns only once
// they are acknowledged, so the caller may reuse its buffer at once.
TEST(S3MultipartPipelineTest, OneWriteOfWholePartsSendsThemFromTheCallersBytes) {
  PartServer server(3);  // holds every part until three are open
  auto c = S3Client::Create({.endpoint = "http://127.0.0.1:" + std::to_string(server.port()),
                             .access_key = "a", .secret_key = "b"});
  ASSERT_TRUE(c.ok());
  const int64_t part = MultipartWriter::kMinPartSize;
  auto w = MultipartWriter::Start(**c, "bucket", "key", part);
  ASSERT_TRUE(w.ok()) << w.error().message;
  std::string data = crypto::RandomBytes(static_cast<size_t>(6 * part + 1000));
  ASSERT_TRUE((*w)->Write(data).ok());
  EXPECT_EQ(server.parts(), 6) << "every whole part is acknowledged before Write returns";
  std::fill(data.begin(), data.end(), '\0');  // the caller reuses its buffer
  ASSERT_TRUE((*w)->Commit().ok());
  EXPECT_EQ(server.parts(), 7);
  EXPECT_EQ(server.max_open(), MultipartWriter::kDefaultInFlight);
  EXPECT_EQ(server.bad_hashes(), 0) << "each part's payload hash is the SHA-256 of its bytes";
}

}  // namespace
}  // namespace zengen::s3
