#include "audit/audit_routes.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <optional>

#include "crypto/crypto.h"

#include "http/filters.h"
#include "storage/testing.h"

namespace zengen::audit {
namespace {

using http::Request;
using http::Response;
using nlohmann::json;
using namespace std::chrono_literals;

class RoleAuthenticator final : public http::Authenticator {
 public:
  Result<http::Subject> Authenticate(const Request& req) override {
    const std::string a = req.Header("Authorization");
    if (a.empty()) return http::Subject{};
    if (a == "Bearer officer") {
      return http::Subject{.authenticated = true,
                           .id = "o",
                           .organisation = "dc",
                           .roles = {"security_officer"},
                           .mfa = true};
    }
    if (a == "Bearer steward") {
      return http::Subject{.authenticated = true,
                           .id = "s",
                           .organisation = "dc",
                           .roles = {"data_steward"},
                           .mfa = true};
    }
    return Unauthenticated("invalid_credentials", "unknown token");
  }
};

class AuditRoutesTest : public ::testing::Test {
 protected:
  AuditRoutesTest() : clock_(std::chrono::sys_days{std::chrono::year{2026} / 11 / 24}) {}

  void SetUp() override {
    auto db = storage::ScratchDatabase::Create("sqlite");
    ASSERT_TRUE(db.ok());
    db_.emplace(std::move(db).value());
    auto store = storage::OpenStore({.location = db_->location()});
    ASSERT_TRUE(store.ok());
    store_ = std::move(store).value();
    auto log = Log::Open(*store_, clock_);
    ASSERT_TRUE(log.ok());
    log_ = std::move(log).value();

    http::Router router;
    ASSERT_TRUE(AddAuditRoutes(router, *log_).ok());
    pipeline_ = std::make_unique<http::Pipeline>(std::move(router));
    pipeline_->AddFilter(std::make_unique<http::RequestIdFilter>());
    pipeline_->AddFilter(
        std::make_unique<http::AuthenticationFilter>(std::make_shared<RoleAuthenticator>()));
    pipeline_->AddFilter(std::make_unique<http::PolicyFilter>());
  }

  void Add(std::string actor, std::string action) {
    clock_.Advance(1000ms);
    Record r;
    r.actor = std::move(actor);
    r.action = std::move(action);
    r.resource = "file/f1";
    r.decision = "allow";
    r.details = R"({"range":"0-99"})";
    ASSERT_TRUE(log_->Append(r).ok());
  }

  Response Get(const std::string& target, const std::string& auth = "Bearer officer") {
    Request req;
    req.method = "GET";
    EXPECT_TRUE(http::ParseTarget(target, req).ok()) << target;
    if (!auth.empty()) req.headers["Authorization"] = auth;
    return pipeline_->Handle(req, pipeline_->router().Find(req.method, req.path));
  }

  FakeClock clock_;
  std::optional<storage::ScratchDatabase> db_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<Log> log_;
  std::unique_ptr<http::Pipeline> pipeline_;
};

TEST_F(AuditRoutesTest, HeadIsPublic) {
  Response empty = Get("/api/v1/audit/head", "");
  ASSERT_EQ(empty.status, 200) << empty.body;
  EXPECT_EQ(json::parse(empty.body),
            json({{"seq", 0}, {"hash", std::string(64, '0')}, {"signed", nullptr}}));
  Add("alice", "file.read");
  const json head = json::parse(Get("/api/v1/audit/head", "").body);
  EXPECT_EQ(head["seq"], 1);
  EXPECT_EQ(head["hash"], log_->GetHead()->hash);
}

TEST_F(AuditRoutesTest, HeadPublishesTheLatestSignedCheckpoint) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("zengen-audit-routes-" + crypto::ToHex(crypto::RandomBytes(6)));
  auto checkpoints = Checkpointer::Open(
      *store_, clock_, {.key_file = dir / "audit.key", .heads_file = dir / "heads.jsonl"});
  ASSERT_TRUE(checkpoints.ok()) << checkpoints.error().message;
  http::Router router;
  ASSERT_TRUE(AddAuditRoutes(router, *log_, checkpoints->get()).ok());
  pipeline_ = std::make_unique<http::Pipeline>(std::move(router));
  pipeline_->AddFilter(
      std::make_unique<http::AuthenticationFilter>(std::make_shared<RoleAuthenticator>()));
  pipeline_->AddFilter(std::make_unique<http::PolicyFilter>());
  EXPECT_TRUE(json::parse(Get("/api/v1/audit/head", "").body)["signed"].is_null());

  Add("alice", "file.read");
  Add("bob", "file.read");
  auto latest = (*checkpoints)->Checkpoint();
  ASSERT_TRUE(latest.ok());
  const json head = json::parse(Get("/api/v1/audit/head", "").body);
  const json& s = head["signed"];
  EXPECT_EQ(s["tree_size"], 2);
  EXPECT_FALSE(s.contains("compact_range"));
  auto parsed = ParseHead(s.dump());
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_TRUE(SignatureValid(*parsed, (*checkpoints)->public_key()));
  checkpoints->reset();
  std::filesystem::remove_all(dir);
}

TEST_F(AuditRoutesTest, RecordsAreForSecurityOfficersOnly) {
  Add("alice", "file.read");
  EXPECT_EQ(Get("/api/v1/audit", "").status, 401);
  EXPECT_EQ(Get("/api/v1/audit", "Bearer steward").status, 403);
  Response ok = Get("/api/v1/audit");
  ASSERT_EQ(ok.status, 200) << ok.body;
  const json body = json::parse(ok.body);
  ASSERT_EQ(body["items"].size(), 1u);
  const json& item = body["items"][0];
  EXPECT_EQ(item["seq"], 1);
  EXPECT_EQ(item["actor"], "alice");
  EXPECT_EQ(item["time"], "2026-11-24T00:00:01.000Z");
  EXPECT_EQ(item["details"], json({{"range", "0-99"}}));
  EXPECT_EQ(item["prev_hash"], std::string(64, '0'));
  EXPECT_EQ(item["hash"].get<std::string>().size(), 64u);
  EXPECT_TRUE(body["next_after_seq"].is_null());
}

TEST_F(AuditRoutesTest, FiltersAndPagesThroughQueryParameters) {
  Add("alice", "file.read");   // 1, 00:00:01
  Add("bob", "file.read");     // 2, 00:00:02
  Add("alice", "auth.login");  // 3, 00:00:03
  Add("alice", "file.read");   // 4, 00:00:04
  const auto seqs = [](const json& body) {
    std::vector<int64_t> out;
    for (const auto& item : body["items"]) out.push_back(item["seq"].get<int64_t>());
    return out;
  };
  using V = std::vector<int64_t>;
  json page = json::parse(Get("/api/v1/audit?actor=alice&limit=2").body);
  EXPECT_EQ(seqs(page), (V{1, 3}));
  EXPECT_EQ(page["next_after_seq"], 3);
  page = json::parse(Get("/api/v1/audit?actor=alice&limit=2&after_seq=3").body);
  EXPECT_EQ(seqs(page), (V{4}));
  EXPECT_TRUE(page["next_after_seq"].is_null());
  page = json::parse(Get("/api/v1/audit?action=file.read&resource=file%2Ff1").body);
  EXPECT_EQ(seqs(page), (V{1, 2, 4}));
  page =
      json::parse(Get("/api/v1/audit?from=2026-11-24T00:00:02Z&to=2026-11-24T00:00:04.000Z").body);
  EXPECT_EQ(seqs(page), (V{2, 3}));
}

// Issue 14: the security officer's view lists newest first, filters on the decision on the
// server (so a page of denials is full, not a page of everything with the allows hidden), and
// searches actors and actions by prefix (literally: "_" is no wildcard).
TEST_F(AuditRoutesTest, NewestFirstDecisionAndPrefixFilters) {
  Add("alice", "file.read");         // 1
  Add("bob", "file.read");           // 2
  Add("alice", "auth.login");        // 3
  Add("alice", "file.read");         // 4
  Add("al_ice", "file.write");       // 5
  {
    Record r;
    r.actor = "mallory";
    r.action = "file.read";
    r.resource = "file/f1";
    r.decision = "deny";
    r.reason = "no grant";
    clock_.Advance(1000ms);
    ASSERT_TRUE(log_->Append(r).ok());  // 6
  }
  const auto seqs = [](const json& body) {
    std::vector<int64_t> out;
    for (const auto& item : body["items"]) out.push_back(item["seq"].get<int64_t>());
    return out;
  };
  using V = std::vector<int64_t>;
  json page = json::parse(Get("/api/v1/audit?order=desc&limit=4").body);
  EXPECT_EQ(seqs(page), (V{6, 5, 4, 3}));
  EXPECT_EQ(page["next_before_seq"], 3);
  page = json::parse(Get("/api/v1/audit?order=desc&limit=4&before_seq=3").body);
  EXPECT_EQ(seqs(page), (V{2, 1}));
  EXPECT_TRUE(page["next_before_seq"].is_null());
  page = json::parse(Get("/api/v1/audit?decision=deny&limit=1").body);
  EXPECT_EQ(seqs(page), (V{6}));
  EXPECT_TRUE(page["next_after_seq"].is_null());
  page = json::parse(Get("/api/v1/audit?decision=allow&order=desc&limit=1").body);
  EXPECT_EQ(seqs(page), (V{5}));
  page = json::parse(Get("/api/v1/audit?action_prefix=file.&actor_prefix=al").body);
  EXPECT_EQ(seqs(page), (V{1, 4, 5}));
  page = json::parse(Get("/api/v1/audit?actor_prefix=al_").body);
  EXPECT_EQ(seqs(page), (V{5})) << "the underscore is matched literally";
  page = json::parse(Get("/api/v1/audit?action_prefix=auth").body);
  EXPECT_EQ(seqs(page), (V{3}));
  for (const auto& [query, field] : std::vector<std::pair<std::string, std::string>>{
           {"decision=maybe", "decision"}, {"order=up", "order"}, {"before_seq=0", "before_seq"}}) {
    Response r = Get("/api/v1/audit?" + query);
    EXPECT_EQ(r.status, 400) << query;
    EXPECT_EQ(json::parse(r.body)["error"]["field"], field) << query;
  }
}

TEST_F(AuditRoutesTest, InvalidParametersAnswer400NamingTheField) {
  for (const auto& [query, field] : std::vector<std::pair<std::string, std::string>>{
           {"limit=0", "limit"},
           {"limit=abc", "limit"},
           {"limit=501", "limit"},
           {"limit=", "limit"},
           {"limit=10x", "limit"},
           {"after_seq=-1", "after_seq"},
           {"after_seq=99999999999999999999", "after_seq"},
           {"from=yesterday", "from"},
           {"to=2026-11-24", "to"},
           {"actr=alice", "actr"}}) {
    Response r = Get("/api/v1/audit?" + query);
    EXPECT_EQ(r.status, 400) << query;
    EXPECT_EQ(json::parse(r.body)["error"]["field"], field) << query;
  }
}

}  // namespace
}  // namespace zengen::audit
