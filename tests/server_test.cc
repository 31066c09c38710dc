// End-to-end tests of `zengen serve` over HTTPS on both metadata backends (issue 2).
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "storage/store.h"
#include "support/zengen_process.h"

namespace zengen::testing {
namespace {

class ServerTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    server_ = ZengenServer::Start(GetParam(), {"read_timeout_ms = 1500", "idle_timeout_ms = 3000",
                                               "max_connections = 8", "reserved_connections = 0",
                                               "max_body_bytes = 65536"});
    ASSERT_NE(server_, nullptr);
  }
  std::map<std::string, std::string> Auth() const {
    return {{"Authorization", "Bearer " + server_->operator_token()},
            {"Content-Type", "application/json"}};
  }
  void ExpectStillServing() {
    auto r = server_->Request("GET", "/healthz");
    ASSERT_TRUE(r.has_value()) << "server stopped serving\n" << server_->Log();
    EXPECT_EQ(r->status, 200);
  }
  std::unique_ptr<ZengenServer> server_;
};

TEST_P(ServerTest, HealthReadinessAndVersion) {
  auto h = server_->Request("GET", "/healthz");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  EXPECT_EQ(h->Json()["status"], "ok");
  EXPECT_EQ(h->headers["content-type"], "application/json");
  EXPECT_FALSE(h->headers["x-request-id"].empty());
  EXPECT_EQ(h->headers["strict-transport-security"], "max-age=63072000; includeSubDomains");
  EXPECT_EQ(h->headers["x-content-type-options"], "nosniff");

  auto r = server_->Request("GET", "/readyz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->Json()["database"], GetParam());

  auto v = server_->Request("GET", "/api/v1/version");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->status, 200);
  EXPECT_EQ(v->Json()["name"], "zengen");
  EXPECT_GE(v->Json()["schema_version"].get<int>(), 1);
}

TEST_P(ServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  auto c = server_->Connect();
  ASSERT_TRUE(c);
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(c->Send(BuildRequest("GET", "/healthz", {{"X-Request-Id", "req-" + std::to_string(i)}})));
    auto r = c->Read();
    ASSERT_TRUE(r) << "request " << i;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->headers["x-request-id"], "req-" + std::to_string(i));
  }
}

TEST_P(ServerTest, UnknownRouteIs404AndWrongMethodIs405) {
  auto r = server_->Request("GET", "/api/v1/nothing-here");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(r->ErrorCode(), "route_not_found");
  auto m = server_->Request("DELETE", "/healthz");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->status, 405);
  EXPECT_EQ(m->ErrorField(), "method");
}

TEST_P(ServerTest, OversizedHeaderGets431AndServerKeepsServing) {
  auto c = server_->Connect();
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->Send(BuildRequest("GET", "/healthz", {{"X-Padding", std::string(40000, 'a')}})));
  auto r = c->Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 431);
  EXPECT_EQ(r->ErrorCode(), "header_too_large");
  EXPECT_TRUE(c->ClosedByPeer(3000));
  ExpectStillServing();
}

TEST_P(ServerTest, OversizedBodyGets413WithoutBeingRead) {
  auto c = server_->Connect();
  ASSERT_TRUE(c);
  // The settings route takes at most 16 KiB; announce 10 MB and send none of it.
  auto headers = Auth();
  headers["Content-Length"] = "10000000";
  ASSERT_TRUE(c->Send(BuildRequest("PUT", "/api/v1/settings/program_name", headers)));
  auto r = c->Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(r->ErrorCode(), "body_too_large");
  EXPECT_EQ(r->ErrorField(), "body");
  ExpectStillServing();
}

TEST_P(ServerTest, ChunkedBodyOverTheLimitGets413) {
  auto c = server_->Connect();
  ASSERT_TRUE(c);
  auto headers = Auth();
  headers["Transfer-Encoding"] = "chunked";
  std::string chunk(8000, 'x');
  std::string body;
  for (int i = 0; i < 4; ++i) body += "1f40\r\n" + chunk + "\r\n";
  body += "0\r\n\r\n";
  ASSERT_TRUE(c->Send(BuildRequest("PUT", "/api/v1/settings/program_name", headers, body)));
  auto r = c->Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  ExpectStillServing();
}

TEST_P(ServerTest, InvalidJsonGets400NamingTheFieldAndWritesNothing) {
  auto bad = server_->Request("PUT", "/api/v1/settings/program_name", Auth(), "{\"value\": ");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(bad->ErrorCode(), "invalid_json");
  EXPECT_EQ(bad->ErrorField(), "body");

  auto wrong_type = server_->Request("PUT", "/api/v1/settings/program_name", Auth(), "{\"value\": 5}");
  ASSERT_TRUE(wrong_type);
  EXPECT_EQ(wrong_type->status, 400);
  EXPECT_EQ(wrong_type->ErrorField(), "value");

  auto bad_key = server_->Request("PUT", "/api/v1/settings/Bad-Key", Auth(), "{\"value\": \"x\"}");
  ASSERT_TRUE(bad_key);
  EXPECT_EQ(bad_key->status, 400);
  EXPECT_EQ(bad_key->ErrorField(), "key");

  auto media = server_->Request("PUT", "/api/v1/settings/program_name",
                                {{"Authorization", "Bearer " + server_->operator_token()},
                                 {"Content-Type", "text/plain"}},
                                "{\"value\": \"x\"}");
  ASSERT_TRUE(media);
  EXPECT_EQ(media->status, 415);

  auto get = server_->Request("GET", "/api/v1/settings/program_name");
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 404) << "a rejected request must not have written anything";
}

TEST_P(ServerTest, SettingsNeedTheOperatorTokenToWrite) {
  const std::string body = R"({"value": "全ゲノム解析等実行計画"})";
  auto anon = server_->Request("PUT", "/api/v1/settings/program_name",
                               {{"Content-Type", "application/json"}}, body);
  ASSERT_TRUE(anon);
  EXPECT_EQ(anon->status, 401);
  EXPECT_EQ(anon->ErrorCode(), "authentication_required");

  auto forged = server_->Request("PUT", "/api/v1/settings/program_name",
                                 {{"Authorization", "Bearer zgo_forged"},
                                  {"Content-Type", "application/json"}},
                                 body);
  ASSERT_TRUE(forged);
  EXPECT_EQ(forged->status, 401);
  EXPECT_EQ(forged->ErrorCode(), "invalid_credentials");

  auto ok = server_->Request("PUT", "/api/v1/settings/program_name", Auth(), body);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200) << ok->body;

  auto get = server_->Request("GET", "/api/v1/settings/program_name");
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 200);
  EXPECT_EQ(get->Json()["value"], "全ゲノム解析等実行計画");
  auto list = server_->Request("GET", "/api/v1/settings");
  ASSERT_TRUE(list);
  EXPECT_EQ(list->Json()["items"].size(), 1u);
}

TEST_P(ServerTest, MalformedRequestLineGets400) {
  auto c = server_->Connect();
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->Send("THIS IS NOT HTTP\r\n\r\n"));
  auto r = c->Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(r->ErrorCode(), "malformed_request");
  auto t = server_->Request("GET", "/a%zz");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->status, 400);
  EXPECT_EQ(t->ErrorField(), "target");
  ExpectStillServing();
}

TEST_P(ServerTest, SilentConnectionIsClosedWhileOthersAreServed) {
  auto silent = server_->Connect();
  ASSERT_TRUE(silent);
  ExpectStillServing();  // served while the silent connection is open
  // read_timeout_ms = 1500 in this test's configuration.
  EXPECT_TRUE(silent->ClosedByPeer(5000));
  ExpectStillServing();
}

TEST_P(ServerTest, PlainHttpOnTheTlsPortIsDropped) {
  const int fd = ConnectTcp(server_->port());
  ASSERT_GE(fd, 0);
  const std::string req = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(::write(fd, req.data(), req.size()), static_cast<ssize_t>(req.size()));
  char buf[512];
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ssize_t n;
  std::string got;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) got.append(buf, static_cast<size_t>(n));
  EXPECT_EQ(got.find("200 OK"), std::string::npos);
  EXPECT_TRUE(n == 0 || (n < 0 && errno == ECONNRESET)) << "connection was not closed";
  ::close(fd);
  ExpectStillServing();
}

TEST_P(ServerTest, ConnectionsOverTheLimitAreRefused) {
  std::vector<std::unique_ptr<TlsConnection>> held;
  for (int i = 0; i < 8; ++i) {
    held.push_back(server_->Connect());
    ASSERT_TRUE(held.back()) << "connection " << i;
  }
  EXPECT_EQ(server_->Connect(), nullptr) << "the 9th connection should be refused";
  held.clear();
  // Closed connections free their slots.
  for (int i = 0; i < 50; ++i) {
    if (server_->Request("GET", "/healthz")) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ExpectStillServing();
}

TEST_P(ServerTest, SigtermFinishesTheRequestInFlightThenStops) {
  auto c = server_->Connect();
  ASSERT_TRUE(c);
  const std::string body = R"({"value": "finished during shutdown"})";
  auto headers = Auth();
  headers["Content-Length"] = std::to_string(body.size());
  std::string req = BuildRequest("PUT", "/api/v1/settings/shutdown_check", headers);
  ASSERT_TRUE(c->Send(req + body.substr(0, 5)));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  std::thread term([&] { EXPECT_EQ(server_->Terminate(), 0) << server_->Log(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  // New connections are no longer accepted once draining has begun.
  EXPECT_EQ(server_->Connect(), nullptr);
  ASSERT_TRUE(c->Send(body.substr(5)));
  auto r = c->Read();
  term.join();
  ASSERT_TRUE(r) << server_->Log();
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->headers["connection"], "close");
  EXPECT_NE(server_->Log().find("stopped cleanly"), std::string::npos) << server_->Log();
}

INSTANTIATE_TEST_SUITE_P(Backends, ServerTest, ::testing::ValuesIn(storage::TestBackends()),
                         [](const auto& info) { return info.param; });

// A database migrated by a newer zengen is refused with a clear message.
TEST(ServerStartTest, RefusesDatabaseNewerThanTheBinary) {
  for (const auto& backend : storage::TestBackends()) {
    auto server = ZengenServer::Start(backend);
    ASSERT_TRUE(server);
    ASSERT_EQ(server->Terminate(), 0);
    std::string location = (server->data_dir() / "zengen.db").string();
    {
      std::ifstream conf(server->data_dir() / "zengen.conf");
      std::string line;
      while (std::getline(conf, line)) {
        if (line.starts_with("database = postgres")) location = line.substr(11);
      }
    }
    auto store = storage::OpenStore({.location = location, .pool_size = 1, .migrate = false});
    ASSERT_TRUE(store.ok()) << store.error().message;
    {
      auto tx = (*store)->Begin(storage::TxMode::kWrite);
      ASSERT_TRUE(tx.ok());
      ASSERT_TRUE((*tx)->Exec("INSERT INTO schema_migrations (version, name, applied_at) "
                              "VALUES (9999, 'from the future', '2030-01-01T00:00:00Z')")
                      .ok());
      ASSERT_TRUE((*tx)->Commit().ok());
    }
    store->reset();
    auto serve = RunCommand({ZengenBinary(), "serve", "--data", server->data_dir().string()});
    EXPECT_NE(serve.exit_code, 0) << backend;
    EXPECT_NE(serve.output.find("schema_too_new"), std::string::npos) << serve.output;
  }
}

TEST(CommandLineTest, InitRefusesAnExistingDataDirectoryAndWritesPrivateKeys) {
  auto server = ZengenServer::Start("sqlite");
  ASSERT_TRUE(server);
  auto again = RunCommand({ZengenBinary(), "init", "--data", server->data_dir().string()});
  EXPECT_NE(again.exit_code, 0);
  EXPECT_NE(again.output.find("already_initialised"), std::string::npos);
  for (const char* key : {"keys/pseudonym.key", "keys/storage-master.key", "tls/server.key",
                          "keys/operator-token.sha256"}) {
    auto perms = std::filesystem::status(server->data_dir() / key).permissions();
    EXPECT_EQ(perms, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write)
        << key;
  }
}

TEST(CommandLineTest, BadListenAddressIsAUsageErrorBeforeAnythingIsWritten) {
  auto scratch = std::filesystem::temp_directory_path() /
                 ("zengen-cli-" + std::to_string(::getpid()));
  std::filesystem::remove_all(scratch);
  for (const char* listen : {"127.0.0.1:99999", "127.0.0.1:-1", "127.0.0.1:", "nonsense",
                             ":8443", "127.0.0.1:84x3"}) {
    // demo would build a whole cohort before serving; a bad port must stop it first.
    auto demo = RunCommand({ZengenBinary(), "demo", "--data", (scratch / "demo").string(),
                            "--listen", listen});
    EXPECT_EQ(demo.exit_code, 1) << listen << ": " << demo.output;
    EXPECT_NE(demo.output.find("--listen"), std::string::npos) << demo.output;
    EXPECT_FALSE(std::filesystem::exists(scratch / "demo")) << listen;
    auto init = RunCommand({ZengenBinary(), "init", "--data", (scratch / "init").string(),
                            "--listen", listen});
    EXPECT_EQ(init.exit_code, 1) << listen;
    EXPECT_FALSE(std::filesystem::exists(scratch / "init")) << listen;
  }
  std::filesystem::remove_all(scratch);
}

TEST(CommandLineTest, UsageErrorsExitOneAndHelpExitsZero) {
  EXPECT_EQ(RunCommand({ZengenBinary(), "no-such-command"}).exit_code, 1);
  EXPECT_EQ(RunCommand({ZengenBinary(), "serve"}).exit_code, 1);  // --data is required
  EXPECT_EQ(RunCommand({ZengenBinary(), "init", "--data", "x", "--unknown-flag"}).exit_code, 1);
  EXPECT_EQ(RunCommand({ZengenBinary(), "--help"}).exit_code, 0);
  EXPECT_EQ(RunCommand({ZengenBinary(), "--version"}).exit_code, 0);
}

TEST(CommandLineTest, StorageScrubRunsOnAFreshDataDirectory) {
  auto server = ZengenServer::Start("sqlite");
  ASSERT_TRUE(server);
  ASSERT_EQ(server->Terminate(), 0);
  for (const char* root : {"blobs/hot1", "blobs/hot2", "blobs/cold1", "blobs/cold2"}) {
    EXPECT_TRUE(std::filesystem::is_directory(server->data_dir() / root)) << root;
  }
  auto scrub = RunCommand({ZengenBinary(), "storage", "scrub", "--data", server->data_dir().string()});
  EXPECT_EQ(scrub.exit_code, 0) << scrub.output;
  {
    std::ofstream conf(server->data_dir() / "zengen.conf", std::ios::app);
    conf << "blob_roots = far:hot:US:blobs/hot1;hot2:hot:JP:blobs/hot2\n";
  }
  // A root outside the allowed jurisdictions is accepted as configuration (it is never used
  // for placement; blobs_test covers that), so commands still start.
  auto scrub_again = RunCommand({ZengenBinary(), "storage", "scrub", "--data", server->data_dir().string()});
  EXPECT_EQ(scrub_again.exit_code, 0) << scrub_again.output;
}

TEST(CommandLineTest, ServeWithABrokenConfigSaysWhichLine) {
  auto server = ZengenServer::Start("sqlite");
  ASSERT_TRUE(server);
  ASSERT_EQ(server->Terminate(), 0);
  {
    std::ofstream conf(server->data_dir() / "zengen.conf", std::ios::app);
    conf << "max_conections = 5\n";
  }
  auto serve = RunCommand({ZengenBinary(), "serve", "--data", server->data_dir().string()});
  EXPECT_NE(serve.exit_code, 0);
  EXPECT_NE(serve.output.find("max_conections"), std::string::npos) << serve.output;
}

}  // namespace
}  // namespace zengen::testing
