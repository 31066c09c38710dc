#include "participants/participants.h"

#include <gtest/gtest.h>

#include "identity/identity.h"
#include "participants/participants_routes.h"
#include "storage/testing.h"

namespace zengen::participants {
namespace {

TEST(PseudonymTest, StableKeyedAndReadable) {
  const std::string key(32, 'k');
  const std::string a = Pseudonym(key, "hosp-a", "MRN-001");
  EXPECT_EQ(a, Pseudonym(key, "hosp-a", "MRN-001"));
  EXPECT_NE(a, Pseudonym(key, "hosp-b", "MRN-001"));
  EXPECT_NE(a, Pseudonym(std::string(32, 'j'), "hosp-a", "MRN-001"));
  // The separator keeps ("ab", "c") and ("a", "bc") apart.
  EXPECT_NE(Pseudonym(key, "ab", "c"), Pseudonym(key, "a", "bc"));
  ASSERT_EQ(a.size(), 22u);
  EXPECT_TRUE(a.starts_with("ZG-"));
  EXPECT_EQ(a[7], '-');
}

TEST(DateTest, OnlyRealCalendarDates) {
  for (const char* ok : {"2024-02-29", "2000-02-29", "2026-12-31", "1900-01-01"}) {
    EXPECT_TRUE(ValidDate(ok)) << ok;
  }
  for (const char* bad : {"2023-02-29", "1900-02-29", "2026-13-01", "2026-00-10", "2026-04-31",
                          "26-01-01", "2026/01/01", "2026-1-01", "", "abcd-ef-gh"}) {
    EXPECT_FALSE(ValidDate(bad)) << bad;
  }
}

class RegistryTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto db = storage::ScratchDatabase::Create(GetParam());
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_.emplace(std::move(*db));
    auto store = storage::OpenStore({.location = db_->location(), .pool_size = 2});
    ASSERT_TRUE(store.ok());
    store_ = std::move(*store);
    identity::Identity id(*store_, clock_, audit_);
    ASSERT_TRUE(id.CreateOrganisation({"hosp-a", "A", "hospital", "JP"}, {"t", "t", ""}).ok());
    ASSERT_TRUE(id.CreateOrganisation({"hosp-b", "B", "hospital", "JP"}, {"t", "t", ""}).ok());
    ASSERT_TRUE(id.CreateOrganisation({"univ", "U", "academic", "JP"}, {"t", "t", ""}).ok());
    registry_ = std::make_unique<Registry>(*store_, clock_, audit_, std::string(32, 'k'));
  }
  std::optional<storage::ScratchDatabase> db_;
  std::unique_ptr<storage::Store> store_;
  FakeClock clock_{std::chrono::system_clock::time_point{std::chrono::seconds(1795600000)}};
  RecordingAuditSink audit_;
  std::unique_ptr<Registry> registry_;
};

TEST_P(RegistryTest, RegisteringTheSameLocalIdAgainReturnsTheSameParticipant) {
  auto first = registry_->Register({"hosp-a", "MRN-1", "cancer", "lung", "2026-04-01"}, "dr", "ip", "");
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_TRUE(first->created);
  auto again = registry_->Register({"hosp-a", "MRN-1", "cancer", "lung", "2026-04-01"}, "dr", "ip", "");
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->participant.id, first->participant.id);
  auto other = registry_->Register({"hosp-b", "MRN-1", "cancer", "lung", "2026-04-01"}, "dr", "ip", "");
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->participant.id, first->participant.id);
  EXPECT_EQ(registry_->List("*", 10, 0)->size(), 2u);
  EXPECT_EQ(registry_->List("hosp-a", 10, 0)->size(), 1u);
  // Issue 12 finding 1: an empty hospital is refused, never read as "everyone".
  auto unscoped = registry_->List("", 10, 0);
  ASSERT_FALSE(unscoped.ok());
  EXPECT_EQ(unscoped.error().field, "hospital");
  int registrations = 0;
  for (const auto& e : audit_.events()) registrations += e.action == "participant.write";
  EXPECT_EQ(registrations, 2) << "one audit event per registration, none for the repeat";
}

TEST_P(RegistryTest, BadInputNamesTheField) {
  struct Case {
    NewParticipant p;
    std::string field;
  };
  for (const auto& c : std::vector<Case>{
           {{"hosp-a", "", "cancer", "lung", "2026-04-01"}, "local_id"},
           {{"hosp-a", "MRN 1", "cancer", "lung", "2026-04-01"}, "local_id"},
           {{"hosp-a", "M1", "oncology", "lung", "2026-04-01"}, "program"},
           {{"hosp-a", "M1", "cancer", "Lung", "2026-04-01"}, "disease_category"},
           {{"hosp-a", "M1", "cancer", "lung", "2026-02-30"}, "index_date"},
           {{"univ", "M1", "cancer", "lung", "2026-04-01"}, "hospital"}}) {
    auto r = registry_->Register(c.p, "dr", "ip", "");
    ASSERT_FALSE(r.ok()) << c.field;
    EXPECT_EQ(r.error().field, c.field);
  }
  EXPECT_TRUE(registry_->List("*", 10, 0)->empty());
}

TEST_P(RegistryTest, RoutesKeepHospitalsApart) {
  http::Router router;
  ASSERT_TRUE(AddParticipantRoutes(router, *registry_).ok());
  http::Pipeline pipeline(std::move(router));
  // Every decision the one gate makes (issue 12: one decision, one audit record per request).
  std::vector<std::string> decisions;
  pipeline.AddFilter(std::make_unique<http::PolicyFilter>([&](const http::Request& r) {
    decisions.push_back(r.route->action + " " + r.resolved->resource.organisation + " " +
                        (r.decision->allowed() ? "allow" : "deny"));
    return Status::Ok();
  }));
  auto send = [&](const std::string& method, const std::string& target, const std::string& org,
                  const std::string& role, const std::string& body = "") {
    http::Request req;
    req.method = method;
    EXPECT_TRUE(http::ParseTarget(target, req).ok());
    req.body = body;
    req.subject = {.authenticated = true, .id = "u", .organisation = org, .roles = {role},
                   .mfa = true};
    return pipeline.Handle(req, pipeline.router().Find(req.method, req.path));
  };
  auto created = send("POST", "/api/v1/participants", "hosp-a", "clinician",
                      R"({"local_id":"MRN-9","program":"rare_disease","disease_category":"rd_neuromuscular","index_date":"2026-05-01"})");
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(decisions, std::vector<std::string>{"participant.write hosp-a allow"});
  const std::string id = nlohmann::json::parse(created.body)["participant"]["id"];
  // Registration is into the caller's own hospital only: a steward (every hospital in scope,
  // but no clinician role) and a clinician of no organisation are refused by the one decision.
  const std::string again =
      R"({"local_id":"MRN-8","program":"rare_disease","disease_category":"rd_neuromuscular","index_date":"2026-05-01"})";
  EXPECT_EQ(send("POST", "/api/v1/participants", "dc", "data_steward", again).status, 403);
  EXPECT_EQ(send("POST", "/api/v1/participants", "", "clinician", again).status, 403);
  EXPECT_EQ(decisions.size(), 3u);
  auto own = send("GET", "/api/v1/participants/" + id, "hosp-a", "clinician");
  EXPECT_EQ(own.status, 200);
  EXPECT_EQ(nlohmann::json::parse(own.body)["local_id"], "MRN-9");
  EXPECT_EQ(send("GET", "/api/v1/participants/" + id, "hosp-b", "clinician").status, 403);
  auto steward = send("GET", "/api/v1/participants/" + id, "dc", "data_steward");
  EXPECT_EQ(steward.status, 200);
  EXPECT_FALSE(nlohmann::json::parse(steward.body).contains("local_id"));
  EXPECT_EQ(nlohmann::json::parse(send("GET", "/api/v1/participants", "hosp-b", "clinician").body)["items"].size(), 0u);
  EXPECT_EQ(send("GET", "/api/v1/participants", "univ", "researcher").status, 403);
  auto bad = send("POST", "/api/v1/participants", "hosp-a", "clinician", R"({"local_id":"x"})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(send("GET", "/api/v1/participants?limit=0", "hosp-a", "clinician").status, 400);
  EXPECT_EQ(send("GET", "/api/v1/participants/ZG-NONE", "hosp-a", "clinician").status, 404);
  // A data steward lists every hospital; a clinician without an organisation lists nothing
  // (issue 12 finding 1: its scope is empty, which is a denial, not "everyone").
  EXPECT_EQ(nlohmann::json::parse(send("GET", "/api/v1/participants", "dc", "data_steward").body)["items"].size(), 1u);
  auto no_org = send("GET", "/api/v1/participants", "", "clinician");
  EXPECT_EQ(no_org.status, 403) << no_org.body;
  EXPECT_EQ(send("GET", "/api/v1/participants/" + id, "", "clinician").status, 403);
}

INSTANTIATE_TEST_SUITE_P(Backends, RegistryTest, ::testing::ValuesIn(storage::TestBackends()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace zengen::participants
