#include "consent/consent_routes.h"

#include <gtest/gtest.h>

#include "consent/consent_test_support.h"
#include "http/filters.h"

namespace zengen::consent {
namespace {

using http::Request;
using http::Response;
using nlohmann::json;

class RoleAuthenticator final : public http::Authenticator {
 public:
  Result<http::Subject> Authenticate(const Request& req) override {
    const std::string a = req.Header("Authorization");
    if (a.empty()) return http::Subject{};
    const auto subject = [](std::string id, std::string org, std::string role) {
      return http::Subject{.authenticated = true,
                           .id = std::move(id),
                           .organisation = std::move(org),
                           .roles = {std::move(role)},
                           .mfa = true};
    };
    if (a == "Bearer clin-a") return subject("clin-a", "hosp-a", "clinician");
    if (a == "Bearer clin-b") return subject("clin-b", "hosp-b", "clinician");
    if (a == "Bearer steward") return subject("stew", "dc", "data_steward");
    return Unauthenticated("invalid_credentials", "unknown token");
  }
};

class ConsentRoutesTest : public testing::StoreFixture {
 protected:
  void SetUp() override {
    StoreFixture::SetUp();
    if (HasFatalFailure()) return;
    http::Router router;
    ASSERT_TRUE(AddConsentRoutes(router, *ledger_).ok());
    pipeline_ = std::make_unique<http::Pipeline>(std::move(router));
    pipeline_->AddFilter(std::make_unique<http::RequestIdFilter>());
    pipeline_->AddFilter(
        std::make_unique<http::AuthenticationFilter>(std::make_shared<RoleAuthenticator>()));
    // The one decision per request (issue 12), as the audit recorder sees it.
    pipeline_->AddFilter(std::make_unique<http::PolicyFilter>([this](const Request& r) {
      decisions_.push_back(r.route->action + " " + r.resolved->resource.id + "@" +
                           r.resolved->resource.organisation + " " +
                           (r.decision->allowed() ? "allow" : "deny"));
      return Status::Ok();
    }));
    participant_ = NewParticipant("route-1");
  }

  Response Send(const std::string& method, const std::string& target, const std::string& auth,
                const json& body = nullptr) {
    Request req;
    req.method = method;
    EXPECT_TRUE(http::ParseTarget(target, req).ok()) << target;
    if (!auth.empty()) req.headers["Authorization"] = "Bearer " + auth;
    if (!body.is_null()) {
      req.body = body.dump();
      req.headers["Content-Type"] = "application/json";
    }
    return pipeline_->Handle(req, pipeline_->router().Find(req.method, req.path));
  }

  static json ConsentBody() {
    json decisions = json::object();
    for (const auto& [k, v] : AllPermit()) decisions[k] = v;
    return {{"kind", "initial"},      {"icf_version", "1.0"},        {"language", "ja"},
            {"decisions", decisions}, {"signed_date", "2026-11-20"}, {"details", Details()}};
  }

  std::string Path(const std::string& suffix) {
    return "/api/v1/participants/" + participant_ + suffix;
  }

  std::vector<std::string> decisions_;
  std::string participant_;
};

TEST_P(ConsentRoutesTest, IcfIsPublicToReadAndStewardsRegister) {
  Response list = Send("GET", "/api/v1/icf", "");
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(json::parse(list.body)["items"].size(), 4u);
  Response one = Send("GET", "/api/v1/icf/rare_disease/1.0/en", "");
  ASSERT_EQ(one.status, 200) << one.body;
  const json icf = json::parse(one.body);
  ASSERT_EQ(icf["items"].size(), 15u);
  EXPECT_EQ(icf["items"][3]["class"], "OPT_OUT");
  EXPECT_EQ(Send("GET", "/api/v1/icf/cancer/4.0/en", "").status, 404);

  json body = {{"program", "cancer"},
               {"version", "1.1"},
               {"language", "en"},
               {"effective_date", "2026-12-01"},
               {"items", icf["items"]}};
  EXPECT_EQ(Send("POST", "/api/v1/icf", "", body).status, 401);
  EXPECT_EQ(Send("POST", "/api/v1/icf", "clin-a", body).status, 403);
  json bad = body;
  bad["items"][0]["class"] = "SOMETIMES";
  Response r = Send("POST", "/api/v1/icf", "steward", bad);
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(json::parse(r.body)["error"]["field"], "items[0].class");
  Response created = Send("POST", "/api/v1/icf", "steward", body);
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(json::parse(created.body)["created_by"], "stew");
  EXPECT_EQ(Send("POST", "/api/v1/icf", "steward", body).status, 409);
}

TEST_P(ConsentRoutesTest, ClinicianRecordsConsentForOwnHospitalOnly) {
  EXPECT_EQ(Send("POST", Path("/consents"), "clin-b", ConsentBody()).status, 403);
  // One decision per request, about the participant's real hospital (issue 12: no second
  // decision inside the handler).
  EXPECT_EQ(decisions_,
            std::vector<std::string>{"consent.write " + participant_ + "@hosp-a deny"});
  EXPECT_EQ(Send("POST", Path("/consents"), "steward", ConsentBody()).status, 403);
  EXPECT_EQ(Send("POST", Path("/consents"), "", ConsentBody()).status, 401);
  EXPECT_EQ(Send("POST", "/api/v1/participants/ZG-NONE/consents", "clin-a", ConsentBody()).status,
            404);
  // An unknown id tells a caller whose roles may not write consents nothing: 403, not 404.
  EXPECT_EQ(Send("POST", "/api/v1/participants/ZG-NONE/consents", "steward", ConsentBody()).status,
            403);
  decisions_.clear();
  Response r = Send("POST", Path("/consents"), "clin-a", ConsentBody());
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(decisions_,
            std::vector<std::string>{"consent.write " + participant_ + "@hosp-a allow"});
  const json created = json::parse(r.body);
  EXPECT_EQ(created["state"], "active");
  EXPECT_EQ(created["record"]["seq"], 1);
  EXPECT_EQ(created["profile"]["duo"], json({"GRU", "CC"}));

  EXPECT_EQ(Send("GET", Path("/consents"), "clin-b").status, 403);
  for (const char* who : {"clin-a", "steward"}) {
    Response g = Send("GET", Path("/consents"), who);
    ASSERT_EQ(g.status, 200) << g.body;
    const json s = json::parse(g.body);
    EXPECT_EQ(s["state"], "active");
    EXPECT_EQ(s["history"].size(), 1u);
    EXPECT_EQ(s["current"]["decisions"]["C01"], "permit");
    EXPECT_EQ(s["fhir"]["resourceType"], "Consent");
  }
  // The audit event names the participant and the request.
  ASSERT_FALSE(audit_.events().empty());
  EXPECT_EQ(audit_.events().back().resource, "participant/" + participant_);
  EXPECT_EQ(audit_.events().back().actor, "clin-a");
  EXPECT_FALSE(audit_.events().back().request_id.empty());
}

TEST_P(ConsentRoutesTest, BadInputAnswers400NamingTheField) {
  const auto field_of = [&](const json& body) {
    Response r = Send("POST", Path("/consents"), "clin-a", body);
    EXPECT_EQ(r.status, 400) << r.body;
    return json::parse(r.body)["error"]["field"].get<std::string>();
  };
  json b = ConsentBody();
  b["decisions"]["C99"] = "permit";
  EXPECT_EQ(field_of(b), "decisions.C99");
  b = ConsentBody();
  b["decisions"]["C02"] = "deny";
  EXPECT_EQ(field_of(b), "decisions.C02");
  b = ConsentBody();
  b.erase("signed_date");
  EXPECT_EQ(field_of(b), "signed_date");
  b = ConsentBody();
  b["signed_date"] = "2027-01-01";
  EXPECT_EQ(field_of(b), "signed_date");
  b = ConsentBody();
  b["decisions"] = "all";
  EXPECT_EQ(field_of(b), "decisions");
  b = ConsentBody();
  b["details"]["method"] = "fax";
  EXPECT_EQ(field_of(b), "details.method");
  b = ConsentBody();
  b["kind"] = 3;
  EXPECT_EQ(field_of(b), "kind");

  Response w = Send("POST", Path("/withdrawal"), "clin-a",
                    {{"level", "partial"}, {"signed_date", "2026-11-24"}});
  ASSERT_EQ(w.status, 400);
  EXPECT_EQ(json::parse(w.body)["error"]["field"], "level");
  Response p = Send("GET", Path("/permits?purpose=selling"), "clin-a");
  ASSERT_EQ(p.status, 400);
  EXPECT_EQ(json::parse(p.body)["error"]["field"], "purpose");
  p = Send("GET", Path("/permits?purpose=research&commercial=perhaps"), "clin-a");
  ASSERT_EQ(p.status, 400);
  EXPECT_EQ(json::parse(p.body)["error"]["field"], "commercial");
  // Write routes take at most 64 KiB.
  for (const auto& route : pipeline_->router().routes()) {
    if (route->method == "POST") {
      EXPECT_EQ(route->max_body_bytes, 64 * 1024) << route->pattern;
    }
  }
}

TEST_P(ConsentRoutesTest, WithdrawalReturnsNotifyAndTakesEffectAtOnce) {
  ASSERT_EQ(Send("POST", Path("/consents"), "clin-a", ConsentBody()).status, 201);
  Response before = Send("GET", Path("/permits?purpose=recontact"), "clin-a");
  ASSERT_EQ(before.status, 200) << before.body;
  EXPECT_TRUE(json::parse(before.body)["allowed"]);
  EXPECT_EQ(Send("POST", Path("/withdrawal"), "clin-b",
                 {{"level", "no_contact"}, {"signed_date", "2026-11-24"}})
                .status,
            403);
  Response w = Send("POST", Path("/withdrawal"), "clin-a",
                    {{"level", "no_contact"}, {"signed_date", "2026-11-24"}, {"reason", "asked"}});
  ASSERT_EQ(w.status, 201) << w.body;
  const json wj = json::parse(w.body);
  EXPECT_EQ(wj["notify"], json::array());
  EXPECT_EQ(wj["state"], "withdrawn_no_contact");
  Response after = Send("GET", Path("/permits?purpose=recontact"), "clin-a");
  EXPECT_FALSE(json::parse(after.body)["allowed"]);
  Response research =
      Send("GET", Path("/permits?purpose=research&category=DS&disease=lung"), "steward");
  EXPECT_TRUE(json::parse(research.body)["allowed"]) << research.body;
  Response commercial =
      Send("GET", Path("/permits?purpose=research&commercial=true&overseas=true"), "clin-a");
  EXPECT_TRUE(json::parse(commercial.body)["allowed"]);  // cancer: C05/C06 are mandatory

  ASSERT_EQ(Send("POST", Path("/withdrawal"), "clin-a",
                 {{"level", "full"}, {"signed_date", "2026-11-24"}})
                .status,
            201);
  json again = ConsentBody();
  again["kind"] = "modification";
  Response refused = Send("POST", Path("/consents"), "clin-a", again);
  ASSERT_EQ(refused.status, 409) << refused.body;
  EXPECT_EQ(json::parse(refused.body)["error"]["code"], "invalid_consent_transition");
  const json s = json::parse(Send("GET", Path("/consents"), "clin-a").body);
  EXPECT_EQ(s["state"], "withdrawn_full");
  EXPECT_EQ(s["history"].size(), 3u);
  EXPECT_FALSE(s["profile"]["any_use"]);
  EXPECT_EQ(s["fhir"]["status"], "inactive");
}

INSTANTIATE_TEST_SUITE_P(Backends, ConsentRoutesTest, ::testing::ValuesIn(storage::TestBackends()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace zengen::consent
