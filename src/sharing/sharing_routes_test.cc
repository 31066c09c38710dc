#include "sharing/sharing_routes.h"

#include <gtest/gtest.h>

#include "portal/attack_testing.h"

#include "sharing/sharing_test_support.h"

namespace zengen::sharing {
namespace {

using http::Request;
using http::Response;
using nlohmann::json;

// "Bearer <user>" → the fixture's people, second factor passed.
class TableAuthenticator final : public http::Authenticator {
 public:
  Result<http::Subject> Authenticate(const Request& req) override {
    const std::string a = req.Header("Authorization");
    if (a.empty()) return http::Subject{};
    for (const Actor* p : {&testing::kSteward, &testing::kResearcher, &testing::kMember,
                           &testing::kIndustry, &testing::kCommittee1, &testing::kCommittee2}) {
      if (a == "Bearer " + p->user) return testing::SubjectOf(*p);
    }
    return Unauthenticated("invalid_credentials", "unknown token");
  }
};

class SharingRoutesTest : public testing::SharingFixture {
 protected:
  void SetUp() override {
    SharingFixture::SetUp();
    http::Router router;
    ASSERT_TRUE(AddSharingRoutes(router, *sharing_, clock_).ok());
    pipeline_ = std::make_unique<http::Pipeline>(std::move(router));
    pipeline_->AddFilter(std::make_unique<http::RequestIdFilter>());
    pipeline_->AddFilter(
        std::make_unique<http::AuthenticationFilter>(std::make_shared<TableAuthenticator>()));
    pipeline_->AddFilter(std::make_unique<http::PolicyFilter>());
  }

  Response Call(const std::string& method, const std::string& target, const std::string& user,
                const std::string& body = "") {
    Request req;
    req.method = method;
    EXPECT_TRUE(http::ParseTarget(target, req).ok()) << target;
    if (!user.empty()) req.headers["Authorization"] = "Bearer " + user;
    req.body = body;
    if (!body.empty()) req.headers["Content-Type"] = "application/json";
    req.remote_address = "10.0.0.9";
    return pipeline_->Handle(req, pipeline_->router().Find(req.method, req.path));
  }
  Response Call(const std::string& method, const std::string& target, const std::string& user,
                const json& body) {
    return Call(method, target, user, body.dump());
  }
  static json J(const Response& r) { return json::parse(r.body); }

  std::unique_ptr<http::Pipeline> pipeline_;
};

TEST_P(SharingRoutesTest, FromDatasetToGrantToConsentFilteredListings) {
  const std::string p1 = NewParticipant();
  const std::string p2 = NewParticipant();
  Response ds = Call("POST", "/api/v1/datasets", "steward",
                     json{{"name_ja", "肺がん"}, {"name_en", "Lung"}, {"program", "cancer"},
                          {"group_id", "grp-1"}});
  ASSERT_EQ(ds.status, 201) << ds.body;
  const std::string id = J(ds)["id"];
  EXPECT_EQ(J(ds)["name"]["ja"], "肺がん");
  Response files = Call("POST", "/api/v1/datasets/" + id + "/files", "steward",
                        json{{"participant_ids", {p1, p2}}});
  ASSERT_EQ(files.status, 200) << files.body;
  EXPECT_EQ(J(files)["added"].size(), 4u);
  Response rel = Call("POST", "/api/v1/datasets/" + id + "/releases", "steward",
                      json{{"release_date", "2026-11-24"}, {"embargo_months", 0}});
  ASSERT_EQ(rel.status, 201) << rel.body;
  EXPECT_EQ(J(rel)["tier"], "controlled");
  EXPECT_EQ(J(rel)["history"].size(), 1u);

  Response app = Call("POST", "/api/v1/applications", "res-a",
                      json{{"title", "研究"},
                           {"purpose", {{"primary", "HMB"}}},
                           {"datasets", {id}},
                           {"ethics", {{"file_name", "irb.pdf"},
                                       {"sha256", testing::kSha},
                                       {"size", 10}}},
                           {"abstract", "研究の概要"},
                           {"principal_investigator", "研究 太郎"},
                           {"collaborators", {"解析 花子"}},
                           {"data_security_plan", "学内サーバーのみ"},
                           {"start_date", "2026-11-01"},
                           {"end_date", "2027-10-31"}});
  ASSERT_EQ(app.status, 201) << app.body;
  const std::string aid = J(app)["id"];
  EXPECT_EQ(J(app)["track"], "academic");
  ASSERT_EQ(Call("POST", "/api/v1/applications/" + aid + "/submit", "res-a").status, 200);
  Response pre = Call("GET", "/api/v1/applications/" + aid + "/prescreen", "res-a");
  ASSERT_EQ(pre.status, 200);
  EXPECT_EQ(J(pre)["items"][0]["covered"], 2);
  // Researchers cannot vote; committee members can.
  EXPECT_EQ(Call("POST", "/api/v1/applications/" + aid + "/votes", "res-a",
                 json{{"vote", "approve"}}).status, 403);
  ASSERT_EQ(Call("POST", "/api/v1/applications/" + aid + "/votes", "com-1",
                 json{{"vote", "approve"}}).status, 201);
  ASSERT_EQ(Call("POST", "/api/v1/applications/" + aid + "/votes", "com-2",
                 json{{"vote", "approve"}, {"reason", "ok"}}).status, 201);
  Response decided = Call("POST", "/api/v1/applications/" + aid + "/decision", "com-1");
  ASSERT_EQ(decided.status, 200) << decided.body;
  EXPECT_EQ(J(decided)["state"], "approved");
  const std::string gid = J(decided)["grant"]["id"];
  EXPECT_EQ(J(decided)["grant"]["status"], "active");

  Response listing = Call("GET", "/api/v1/datasets/" + id + "/files", "res-a");
  ASSERT_EQ(listing.status, 200);
  EXPECT_EQ(J(listing)["items"].size(), 4u);
  Response access = Call("GET", "/api/v1/shared-files/" + Cram(p1) + "/access", "res-a");
  ASSERT_EQ(access.status, 200) << access.body;
  EXPECT_TRUE(J(access)["allowed"].get<bool>());
  EXPECT_EQ(J(access)["grant_id"], gid);

  Withdraw(p1);
  listing = Call("GET", "/api/v1/datasets/" + id + "/files", "res-a");
  EXPECT_EQ(J(listing)["items"].size(), 2u);
  for (const auto& f : J(listing)["items"]) EXPECT_EQ(f["participant_id"], p2);
  Response datasets = Call("GET", "/api/v1/datasets", "res-a");
  ASSERT_EQ(datasets.status, 200);
  EXPECT_EQ(J(datasets)["items"][0]["visible_participants"], 1);
  access = Call("GET", "/api/v1/shared-files/" + Cram(p1) + "/access", "res-a");
  EXPECT_FALSE(J(access)["allowed"].get<bool>());
  EXPECT_TRUE(J(access)["participant_id"].is_null());
  // Issue 12 finding 7: the refusal names no dataset or grant and not the withdrawal.
  EXPECT_EQ(J(access)["reason"], "access_denied");
  EXPECT_TRUE(J(access)["dataset_id"].is_null());
  EXPECT_TRUE(J(access)["grant_id"].is_null());

  // Revocation shows on the next listing.
  ASSERT_EQ(Call("POST", "/api/v1/grants/" + gid + "/revoke", "steward",
                 json{{"reason", "breach"}}).status, 200);
  EXPECT_EQ(J(Call("GET", "/api/v1/datasets/" + id + "/files", "res-a"))["items"].size(), 0u);
  EXPECT_EQ(J(Call("GET", "/api/v1/grants", "res-a"))["items"][0]["status"], "revoked");
}

TEST_P(SharingRoutesTest, MalformedInputNamesTheField) {
  const std::string p1 = NewParticipant();
  const std::string ds = Dataset({p1}, "cancer", 0);
  const json app = {{"title", "t"},
                    {"purpose", {{"primary", "HMB"}}},
                    {"datasets", {ds}},
                    {"start_date", "2026-11-01"},
                    {"end_date", "2027-10-31"}};
  auto with = [&](const std::string& k, json v) {
    json j = app;
    j[k] = std::move(v);
    return j;
  };
  auto without = [&](const std::string& k) {
    json j = app;
    j.erase(k);
    return j;
  };
  struct Row {
    std::string method, path, user;
    std::string body;
    int status;
    std::string field;
  };
  const std::vector<Row> rows = {
      {"POST", "/api/v1/datasets", "steward", "{", 400, ""},
      {"POST", "/api/v1/datasets", "steward", json{{"name_en", "x"}}.dump(), 400, "name_ja"},
      {"POST", "/api/v1/datasets", "steward",
       json{{"name_ja", "x"}, {"name_en", "x"}, {"program", "cancer"}, {"group_id", 5}}.dump(),
       400, "group_id"},
      {"POST", "/api/v1/datasets", "steward",
       json{{"name_ja", "x"}, {"name_en", "x"}, {"program", "cancer"}, {"group_id", "grp-1"},
            {"owner", "me"}}.dump(),
       400, "owner"},
      {"POST", "/api/v1/datasets/" + ds + "/files", "steward",
       json{{"participant_ids", "x"}}.dump(), 400, "participant_ids"},
      {"POST", "/api/v1/datasets/" + ds + "/files", "steward",
       json{{"participant_ids", {1}}}.dump(), 400, "participant_ids[0]"},
      {"POST", "/api/v1/datasets/" + ds + "/files", "steward",
       json{{"file_ids", {p1}}, {"include_fastq", "yes"}}.dump(), 400, "include_fastq"},
      {"POST", "/api/v1/datasets/" + ds + "/releases", "steward",
       json{{"release_date", "2026-02-30"}}.dump(), 400, "release_date"},
      {"POST", "/api/v1/datasets/" + ds + "/releases", "steward",
       json{{"release_date", "2026-11-24"}, {"embargo_months", "24"}}.dump(), 400,
       "embargo_months"},
      {"POST", "/api/v1/datasets/DS-NONE/releases", "steward",
       json{{"release_date", "2026-11-24"}}.dump(), 404, ""},
      {"POST", "/api/v1/applications", "res-a", without("purpose").dump(), 400, "purpose"},
      {"POST", "/api/v1/applications", "res-a", with("purpose", {{"primary", "DS"}}).dump(), 400,
       "purpose.disease"},
      {"POST", "/api/v1/applications", "res-a", with("datasets", "x").dump(), 400, "datasets"},
      {"POST", "/api/v1/applications", "res-a", with("data_types", {"fastq"}).dump(), 400,
       "fastq_justification"},
      {"POST", "/api/v1/applications", "res-a", with("ethics", "irb.pdf").dump(), 400, "ethics"},
      {"POST", "/api/v1/applications", "res-a", with("end_date", "2026-10-01").dump(), 400,
       "end_date"},
      {"POST", "/api/v1/applications", "res-a", with("extra", 1).dump(), 400, "extra"},
      {"POST", "/api/v1/applications", "res-a", with("collaborators", "x").dump(), 400,
       "collaborators"},
      {"POST", "/api/v1/applications", "res-a", with("abstract", 3).dump(), 400, "abstract"},
      {"POST", "/api/v1/applications", "steward", app.dump(), 403, ""},
      {"GET", "/api/v1/applications/AP-NONE", "res-a", "", 404, ""},
      {"POST", "/api/v1/grants/GR-NONE/revoke", "steward", json{{"reason", "x"}}.dump(), 404,
       ""},
      {"POST", "/api/v1/grants/GR-NONE/revoke", "steward", json::object().dump(), 400,
       "reason"},
      {"PUT", "/api/v1/sharing-settings", "steward",
       json{{"program", "cancer"}, {"embargo_months", 0}}.dump(), 400, "embargo_months"},
      {"GET", "/api/v1/datasets", "", "", 401, ""},
      {"POST", "/api/v1/datasets", "res-a", json::object().dump(), 403, ""},
  };
  for (const auto& r : rows) {
    Response resp = Call(r.method, r.path, r.user, r.body);
    EXPECT_EQ(resp.status, r.status) << r.method << " " << r.path << " " << r.body << ": "
                                     << resp.body;
    if (!r.field.empty()) {
      EXPECT_EQ(J(resp)["error"].value("field", ""), r.field) << r.path << " " << r.body;
    }
  }
  // Nothing was written by the refused requests.
  EXPECT_EQ(sharing_->ListApplications(testing::kResearcher)->size(), 0u);
  EXPECT_EQ(sharing_->ListDatasets()->size(), 1u);
}

TEST_P(SharingRoutesTest, PublicAggregatesAndRules) {
  const std::string p1 = NewParticipant();
  auto d = sharing_->CreateDataset({"a", "a", "cancer", "grp-1", ""}, testing::kSteward);
  ASSERT_TRUE(sharing_->AddFiles(d->id, {{p1}, {}, false}, testing::kSteward).ok());
  auto r = sharing_->CreateRelease(d->id, {"2026-11-24", 0, "2026-11-24"}, testing::kSteward);
  ASSERT_TRUE(r.ok()) << r.error().message;
  Response agg = Call("GET", "/api/v1/releases/" + r->release.id + "/aggregates", "");
  ASSERT_EQ(agg.status, 200) << agg.body;
  EXPECT_EQ(J(agg)["participants"], "<10");
  Response secret =
      Call("GET", "/api/v1/releases/" + r->release.id + "/aggregates?field=case_basics.site_code",
           "");
  EXPECT_EQ(secret.status, 403);
  Response rules = Call("GET", "/api/v1/sharing-rules", "res-a");
  ASSERT_EQ(rules.status, 200);
  EXPECT_EQ(J(rules)["tracks"][1]["requirements"].size(), 3u);
  Response tick = Call("POST", "/api/v1/sharing-tick", "steward");
  ASSERT_EQ(tick.status, 200) << tick.body;
  EXPECT_EQ(J(tick)["to_controlled"], 1);
  EXPECT_EQ(J(tick)["to_public_aggregates"], 1);
}

// Issue 12, finding 5: {"lung":12,"sarcoma":"<10"},"participants":13 published the total
// exactly, so sarcoma = 13 - 12 = 1. Through the disclosure control no count from 1 to 9 can be
// derived from the document.
TEST(ReleaseOnlyJsonTest, NoHiddenCellIsASubtractionAway) {
  Aggregates a;
  a.release_id = "RL-1";
  a.participants = 13;
  a.by_disease = {{"lung", 12}, {"sarcoma", 1}};
  a.field = "case_basics.sex";
  a.by_value = {{"female", 7}, {"male", 6}, {"not_recorded", 0}};
  const nlohmann::json doc = ReleaseOnlyJson(a);
  EXPECT_EQ(doc["suppression"]["base"], 10);
  portal::testing::ReaderSystem sys;
  portal::testing::AddReleaseAggregates(sys, {doc});
  const auto ranges = portal::Propagate(sys.start, sys.sums);
  EXPECT_TRUE(portal::testing::Breaches(sys, ranges).empty()) << doc;
  const size_t sarcoma = sys.Find("release.RL-1.by_disease_category.sarcoma");
  ASSERT_LT(sarcoma, sys.names.size());
  EXPECT_LE(ranges[sarcoma].lo, 1);
  EXPECT_GE(ranges[sarcoma].hi, 9);
}

INSTANTIATE_TEST_SUITE_P(Backends, SharingRoutesTest, ::testing::ValuesIn(storage::TestBackends()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace zengen::sharing
