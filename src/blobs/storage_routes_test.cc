// Starting a migration from the steward's console (issue 17): POST /api/v1/storage/migrations
// checks every field before anything starts (a reason is required, as for the other
// administrative actions), runs the migration in the background one at a time (409 while one
// runs), shows it in GET /api/v1/storage/migrations, records who started it and why, and is
// resumable as `zengen storage migrate` is. Both metadata backends.
#include "blobs/storage_routes.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>

#include "crypto/crypto.h"
#include "http/filters.h"
#include "storage/testing.h"

namespace zengen::blobs {
namespace {

namespace fs = std::filesystem;
using http::Request;
using http::Response;
using nlohmann::json;

class StewardAuthenticator final : public http::Authenticator {
 public:
  Result<http::Subject> Authenticate(const Request& req) override {
    if (req.Header("Authorization") == "analyst") {
      return http::Subject{.authenticated = true, .id = "an-1", .organisation = "ac-1",
                           .roles = {"analyst"}, .mfa = true};
    }
    return http::Subject{.authenticated = true, .id = "steward", .organisation = "dc",
                         .roles = {"data_steward"}, .mfa = true};
  }
};

// Records every event; while held, the store's "blob.migrate_start" waits until released, so
// that a test can act while a background migration is certainly running.
class GatedSink final : public AuditSink {
 public:
  Status Append(AuditEvent e) override {
    if (e.action == "blob.migrate_start") {
      std::unique_lock lock(mu_);
      if (hold_) {
        held_ = true;
        cv_.notify_all();
        cv_.wait(lock, [this] { return !hold_; });
      }
    }
    return events_.Append(std::move(e));
  }
  void Hold() {
    std::lock_guard lock(mu_);
    hold_ = true;
    held_ = false;
  }
  void WaitHeld() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return held_; });
  }
  void Release() {
    std::lock_guard lock(mu_);
    hold_ = false;
    cv_.notify_all();
  }
  std::vector<AuditEvent> events() const { return events_.events(); }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool hold_ = false, held_ = false;
  RecordingAuditSink events_;
};

class StorageRoutesTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto db = storage::ScratchDatabase::Create(GetParam());
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_.emplace(std::move(*db));
    auto store = storage::OpenStore({.location = db_->location(), .pool_size = 4});
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_ = std::move(*store);
    dir_ = fs::temp_directory_path() / ("zg-storage-routes-" + crypto::ToHex(crypto::RandomBytes(6)));
    for (const char* r : {"hot1", "hot2", "hot3", "cold1", "cold2"}) fs::create_directories(dir_ / r);
    // Three objects on hot1 and hot2; then hot3 joins, empty.
    ASSERT_NO_FATAL_FAILURE(OpenBlobs({"hot1", "hot2"}));
    for (int i = 0; i < 3; ++i) {
      auto w = blobs_->Create({.kind = "cram"});
      ASSERT_TRUE(w.ok());
      ASSERT_TRUE((*w)->Write(crypto::RandomBytes(1000 + i)).ok());
      auto info = (*w)->Commit(crypto::Sha256Hex("x"), 1);
      ASSERT_TRUE(info.ok()) << info.error().message;
      ids_.push_back(info->id);
    }
    ASSERT_NO_FATAL_FAILURE(OpenBlobs({"hot1", "hot2", "hot3"}));
  }
  void TearDown() override {
    pipeline_.reset();
    jobs_.reset();
    blobs_.reset();
    store_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void OpenBlobs(const std::vector<std::string>& hot) {
    pipeline_.reset();
    jobs_.reset();
    blobs_.reset();
    std::vector<Root> roots;
    for (const auto& h : hot) roots.push_back({.name = h, .path = dir_ / h, .tier = "hot", .jurisdiction = "JP"});
    roots.push_back({.name = "cold1", .path = dir_ / "cold1", .tier = "cold", .jurisdiction = "JP"});
    roots.push_back({.name = "cold2", .path = dir_ / "cold2", .tier = "cold", .jurisdiction = "JP"});
    auto b = LocalStore::Create({.roots = roots, .allowed_jurisdictions = {"JP"}, .replicas = 2},
                                *store_, clock_, audit_);
    ASSERT_TRUE(b.ok()) << b.error().message;
    blobs_ = std::move(*b);
    jobs_ = std::make_unique<MigrationJobs>(*blobs_, clock_, audit_);
    http::Router router;
    ASSERT_TRUE(AddStorageRoutes(router, *blobs_, *jobs_).ok());
    pipeline_ = std::make_unique<http::Pipeline>(std::move(router));
    pipeline_->AddFilter(
        std::make_unique<http::AuthenticationFilter>(std::make_shared<StewardAuthenticator>()));
    pipeline_->AddFilter(std::make_unique<http::PolicyFilter>());
  }

  Response Call(const std::string& method, const std::string& path, const json& body = nullptr,
                const std::string& who = "steward") {
    Request req;
    req.method = method;
    req.headers["Authorization"] = who;
    EXPECT_TRUE(http::ParseTarget(path, req).ok()) << path;
    if (!body.is_null()) {
      req.body = body.dump();
      req.headers["Content-Type"] = "application/json";
    }
    return pipeline_->Handle(req, pipeline_->router().Find(req.method, req.path));
  }
  Response Start(const json& body, const std::string& who = "steward") {
    return Call("POST", "/api/v1/storage/migrations", body, who);
  }
  int Count(std::string_view action) {
    int n = 0;
    for (const auto& e : audit_.events()) n += e.action == action;
    return n;
  }
  int64_t Migrations() {
    auto tx = store_->Begin(storage::TxMode::kRead);
    EXPECT_TRUE(tx.ok());
    return (*tx)->Query("SELECT COUNT(*) FROM blob_migrations")->rows[0].Int(0);
  }

  std::optional<storage::ScratchDatabase> db_;
  std::unique_ptr<storage::Store> store_;
  FakeClock clock_{std::chrono::sys_days{std::chrono::year{2026} / 12 / 7}};
  GatedSink audit_;
  fs::path dir_;
  std::unique_ptr<LocalStore> blobs_;
  std::unique_ptr<MigrationJobs> jobs_;
  std::unique_ptr<http::Pipeline> pipeline_;
  std::vector<std::string> ids_;
};

TEST_P(StorageRoutesTest, EveryFieldIsCheckedBeforeAnythingStarts) {
  const json good = {{"from", "hot1"}, {"to", "hot3"}, {"reason", "new array"}};
  struct Case {
    json patch;
    std::string code, field;
  };
  const std::vector<Case> cases = {
      {{{"reason", nullptr}}, "missing_field", "reason"},
      {{{"reason", " \t\u3000 "}}, "missing_field", "reason"},
      {{{"reason", std::string(1001, 'r')}}, "value_too_long", "reason"},
      {{{"from", nullptr}}, "missing_field", "from"},
      {{{"from", "nowhere"}}, "unknown_site", "from"},
      {{{"to", "hot1"}}, "same_site", "to"},
      {{{"to", "cold1"}}, "tier_mismatch", "to"},
      {{{"to", 7}}, "invalid_type", "to"},
      {{{"limit", -1}}, "invalid_limit", "limit"},
      {{{"move", "yes"}}, "invalid_type", "move"},
      {{{"grace_hours", 87601}}, "invalid_grace_hours", "grace_hours"},
      {{{"colour", "red"}}, "unknown_field", "colour"},
  };
  for (const auto& c : cases) {
    json body = good;
    for (const auto& [k, v] : c.patch.items()) {
      if (v.is_null()) {
        body.erase(k);
      } else {
        body[k] = v;
      }
    }
    Response r = Start(body);
    EXPECT_EQ(r.status, 400) << body.dump() << " " << r.body;
    const json err = json::parse(r.body)["error"];
    EXPECT_EQ(err["code"], c.code) << body.dump();
    EXPECT_EQ(err["field"], c.field) << body.dump();
  }
  // Only a data steward may start one (the policy's answer, recorded by the filter).
  EXPECT_EQ(Start(good, "analyst").status, 403);
  EXPECT_EQ(Migrations(), 0);
  EXPECT_EQ(Count("storage.migrate_start"), 0);
  EXPECT_FALSE(jobs_->Current().has_value());
}

TEST_P(StorageRoutesTest, AMigrationRunsInTheBackgroundOneAtATimeAudited) {
  audit_.Hold();
  Response r = Start({{"from", "hot1"}, {"to", "hot3"}, {"reason", "  hot1 goes out of service  "}});
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(json::parse(r.body)["job"]["running"], true);
  audit_.WaitHeld();  // the job is inside Migrate now
  // One at a time: a second start is refused, whatever its sites, and records nothing.
  Response again = Start({{"from", "hot2"}, {"to", "hot3"}, {"reason", "also"}});
  EXPECT_EQ(again.status, 409) << again.body;
  EXPECT_EQ(json::parse(again.body)["error"]["code"], "migration_running");
  Response during = Call("GET", "/api/v1/storage/migrations");
  ASSERT_EQ(during.status, 200);
  EXPECT_EQ(json::parse(during.body)["job"]["running"], true);
  EXPECT_EQ(json::parse(during.body)["job"]["started_by"], "steward");
  audit_.Release();
  jobs_->Wait();

  const json after = json::parse(Call("GET", "/api/v1/storage/migrations").body);
  const json job = after["job"];
  EXPECT_EQ(job["running"], false);
  EXPECT_EQ(job["error"], nullptr);
  ASSERT_EQ(after["items"].size(), 1u);
  const json m = after["items"][0];
  EXPECT_EQ(job["migration_id"], m["id"]);
  EXPECT_EQ(m["from"], "hot1");
  EXPECT_EQ(m["to"], "hot3");
  EXPECT_EQ(m["state"], "done");
  EXPECT_EQ(m["copied"], 3);
  EXPECT_EQ(m["failed"], 0);
  for (const auto& id : ids_) {
    auto st = blobs_->Stat(id);
    ASSERT_TRUE(st.ok());
    ASSERT_EQ(st->copies.size(), 3u) << id;
    EXPECT_EQ(st->copies[2].root, "hot3");
    EXPECT_EQ(st->copies[2].status, "ok");
  }
  // Who started it and why, before it ran; its end; the objects' own records.
  std::vector<AuditEvent> starts;
  for (const auto& e : audit_.events()) {
    if (e.action == "storage.migrate_start") starts.push_back(e);
  }
  ASSERT_EQ(starts.size(), 1u);
  EXPECT_EQ(starts[0].actor, "steward");
  EXPECT_EQ(starts[0].reason, "hot1 goes out of service");
  EXPECT_EQ(json::parse(starts[0].details)["to"], "hot3");
  EXPECT_EQ(Count("storage.migrate_end"), 1);
  EXPECT_EQ(Count("blob.migrate_copy"), 3);
  // Another may start now.
  EXPECT_EQ(Start({{"from", "hot2"}, {"to", "hot3"}, {"reason", "after"}}).status, 202);
  jobs_->Wait();
}

// Resumable as the command is: a run limited to one object leaves the migration running; the
// next start of the same sites continues it (the same migration) to the end.
TEST_P(StorageRoutesTest, AStartedMigrationIsContinuedByTheNextStart) {
  ASSERT_EQ(Start({{"from", "hot1"}, {"to", "hot3"}, {"limit", 1}, {"reason", "try one"}}).status,
            202);
  jobs_->Wait();
  json first = json::parse(Call("GET", "/api/v1/storage/migrations").body)["items"];
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0]["state"], "running");
  EXPECT_EQ(first[0]["copied"], 1);
  EXPECT_EQ(first[0]["pending"], 2);
  ASSERT_EQ(Start({{"from", "hot1"}, {"to", "hot3"}, {"reason", "the rest"}}).status, 202);
  jobs_->Wait();
  json second = json::parse(Call("GET", "/api/v1/storage/migrations").body)["items"];
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0]["id"], first[0]["id"]);
  EXPECT_EQ(second[0]["state"], "done");
  EXPECT_EQ(second[0]["copied"], 3);
  EXPECT_EQ(Count("storage.migrate_start"), 2);
}

INSTANTIATE_TEST_SUITE_P(Backends, StorageRoutesTest,
                         ::testing::ValuesIn(storage::TestBackends()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace zengen::blobs
