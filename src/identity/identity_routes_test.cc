// The administration routes on accounts require a reason (issue 14): every action on a user
// (disable, enable, reset-mfa, unlock, a further role) says why, the reason is kept in the
// action's audit record, and a request without one changes nothing.
#include "identity/identity_routes.h"

#include <gtest/gtest.h>

#include "identity/identity_test_support.h"

namespace zengen::identity {
namespace {

using http::Request;
using http::Response;
using nlohmann::json;

// Requests come from the data center's steward, signed in with a second factor, or (with
// "Authorization: operator") from the operator, who may administer every account.
class StewardAuthenticator final : public http::Authenticator {
 public:
  Result<http::Subject> Authenticate(const Request& req) override {
    if (req.Header("Authorization") == "operator") {
      return http::Subject{.authenticated = true,
                           .id = "operator",
                           .organisation = "dc",
                           .roles = {"data_steward"},
                           .mfa = true};
    }
    return http::Subject{.authenticated = true,
                         .id = "steward",
                         .organisation = "dc",
                         .roles = {"data_steward"},
                         .mfa = true};
  }
};

class IdentityRoutesTest : public testing::IdentityFixture {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(OpenIdentity());
    http::Router router;
    ASSERT_TRUE(AddIdentityRoutes(router, *identity_).ok());
    pipeline_ = std::make_unique<http::Pipeline>(std::move(router));
    pipeline_->AddFilter(
        std::make_unique<http::AuthenticationFilter>(std::make_shared<StewardAuthenticator>()));
    pipeline_->AddFilter(std::make_unique<http::PolicyFilter>());
  }

  Response Post(const std::string& path, const std::string& body, bool as_operator = false) {
    Request req;
    if (as_operator) req.headers["Authorization"] = "operator";
    req.method = "POST";
    EXPECT_TRUE(http::ParseTarget(path, req).ok()) << path;
    req.body = body;
    if (!body.empty()) req.headers["Content-Type"] = "application/json";
    return pipeline_->Handle(req, pipeline_->router().Find(req.method, req.path));
  }
  // The user as the store holds it, as JSON (every field an action could change).
  json Alice() {
    auto u = identity_->GetUser("alice");
    EXPECT_TRUE(u.ok());
    return {{"roles", u->roles},
            {"pending", u->pending_roles},
            {"disabled", u->disabled},
            {"locked", u->locked},
            {"mfa", u->mfa_enrolled}};
  }
  std::vector<AuditEvent> UserWrites() {
    std::vector<AuditEvent> out;
    for (const auto& e : audit_.events()) {
      if (e.action == "user.write" && e.resource == "user/alice") out.push_back(e);
    }
    return out;
  }

};

// Each action with the body fields it needs besides the reason.
const std::vector<std::pair<std::string, json>> kActions = {
    {"disable", json::object()},         {"enable", json::object()},
    {"reset-mfa", json::object()},       {"unlock", json::object()},
    {"roles", {{"role", "researcher"}}}, {"roles/researcher/remove", json::object()},
};

TEST_P(IdentityRoutesTest, AnActionWithoutAReasonIsRefusedNamingItAndChangesNothing) {
  const json before = Alice();
  const size_t records = UserWrites().size();
  const std::vector<json> reasons = {
      nullptr, "", "   ", " \t\r\n ", "\xE3\x80\x80\xE3\x80\x80", " \xE3\x80\x80\t"};
  for (const auto& [verb, fields] : kActions) {
    const std::string path = "/api/v1/admin/users/alice/" + verb;
    if (fields.empty()) {  // no body at all
      Response r = Post(path, "");
      ASSERT_EQ(r.status, 400) << verb << " " << r.body;
      EXPECT_EQ(json::parse(r.body)["error"]["code"], "missing_field") << verb;
      EXPECT_EQ(json::parse(r.body)["error"]["field"], "reason") << verb;
    }
    for (const json& reason : reasons) {
      json body = fields;
      if (!reason.is_null()) body["reason"] = reason;
      Response r = Post(path, body.dump());
      ASSERT_EQ(r.status, 400) << verb << " " << body.dump() << " " << r.body;
      EXPECT_EQ(json::parse(r.body)["error"]["code"], "missing_field") << verb << body.dump();
      EXPECT_EQ(json::parse(r.body)["error"]["field"], "reason") << verb << body.dump();
    }
    json wrong = fields;
    wrong["reason"] = 42;
    Response r = Post(path, wrong.dump());
    ASSERT_EQ(r.status, 400) << verb << " " << r.body;
    EXPECT_EQ(json::parse(r.body)["error"]["code"], "invalid_type");
    EXPECT_EQ(json::parse(r.body)["error"]["field"], "reason");
  }
  EXPECT_EQ(Alice(), before);
  EXPECT_EQ(UserWrites().size(), records);
}

TEST_P(IdentityRoutesTest, AReasonIsBoundedAtItsLimit) {
  const json before = Alice();
  const size_t records = UserWrites().size();
  for (const auto& [verb, fields] : kActions) {
    json body = fields;
    body["reason"] = std::string(kMaxReasonBytes + 1, 'x');
    Response r = Post("/api/v1/admin/users/alice/" + verb, body.dump());
    ASSERT_EQ(r.status, 400) << verb << " " << r.body;
    EXPECT_EQ(json::parse(r.body)["error"]["code"], "value_too_long");
    EXPECT_EQ(json::parse(r.body)["error"]["field"], "reason");
  }
  EXPECT_EQ(Alice(), before);
  EXPECT_EQ(UserWrites().size(), records);
  // Exactly at the limit is accepted and kept whole.
  const std::string longest(kMaxReasonBytes, 'y');
  Response r = Post("/api/v1/admin/users/alice/unlock", json{{"reason", longest}}.dump(), true);
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(UserWrites().size(), records + 1);
  EXPECT_EQ(json::parse(UserWrites().back().details)["reason"], longest);
}

TEST_P(IdentityRoutesTest, EachActionKeepsItsReasonInItsAuditRecord) {
  for (const auto& [verb, fields] : kActions) {
    const size_t records = UserWrites().size();
    json body = fields;
    const std::string reason = "  \xE3\x80\x80" + verb + " のため（問い合わせ 42）\n";
    body["reason"] = reason;
    Response r = Post("/api/v1/admin/users/alice/" + verb, body.dump(), /*as_operator=*/true);
    ASSERT_EQ(r.status, 200) << verb << " " << r.body;
    const auto writes = UserWrites();
    ASSERT_EQ(writes.size(), records + 1) << verb;
    EXPECT_EQ(json::parse(writes.back().details)["reason"], verb + " のため（問い合わせ 42）")
        << verb;
  }
  EXPECT_FALSE(Alice()["disabled"].get<bool>());     // disabled, then enabled again
  EXPECT_EQ(Alice()["roles"], json({"clinician"}));  // researcher given, then taken away
}

TEST_P(IdentityRoutesTest, ARoleIsRemovedOnlyWhenHeldAndKnown) {
  const json before = Alice();
  Response unknown = Post("/api/v1/admin/users/alice/roles/wizard/remove",
                          json{{"reason", "cleanup"}}.dump(), true);
  ASSERT_EQ(unknown.status, 400) << unknown.body;
  EXPECT_EQ(json::parse(unknown.body)["error"]["field"], "role");
  Response not_held = Post("/api/v1/admin/users/alice/roles/analyst/remove",
                           json{{"reason", "cleanup"}}.dump(), true);
  ASSERT_EQ(not_held.status, 409) << not_held.body;
  EXPECT_EQ(json::parse(not_held.body)["error"]["code"], "role_not_held");
  Response removed = Post("/api/v1/admin/users/alice/roles/clinician/remove",
                          json{{"reason", "moved to another hospital"}}.dump(), true);
  ASSERT_EQ(removed.status, 200) << removed.body;
  EXPECT_EQ(json::parse(removed.body)["roles"], json::array());
  EXPECT_NE(Alice(), before);
  const auto writes = UserWrites();
  EXPECT_EQ(writes.back().reason, "role removed");
  EXPECT_EQ(json::parse(writes.back().details)["role"], "clinician");
  EXPECT_EQ(json::parse(writes.back().details)["reason"], "moved to another hospital");
}

// A steward of the data center may not reset the second factor of a hospital's clinician (the
// grant rules): refused, nothing changed, and the denial keeps the reason that was given.
TEST_P(IdentityRoutesTest, AnotherOrganisationsUserIsRefusedWithTheReasonRecorded) {
  const json before = Alice();
  const size_t records = audit_.events().size();
  Response r = Post("/api/v1/admin/users/alice/reset-mfa", json{{"reason", "lost phone"}}.dump());
  ASSERT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(json::parse(r.body)["error"]["code"], "grant_not_allowed");
  EXPECT_EQ(Alice(), before);
  const auto events = audit_.events();
  ASSERT_EQ(events.size(), records + 1);
  EXPECT_EQ(events.back().decision, "deny");
  EXPECT_EQ(json::parse(events.back().details)["reason"], "lost phone");
  // The same for a role the steward may not give.
  Response role = Post("/api/v1/admin/users/alice/roles",
                       json{{"role", "researcher"}, {"reason", "joins a study"}}.dump());
  ASSERT_EQ(role.status, 403) << role.body;
  EXPECT_EQ(Alice(), before);
  EXPECT_EQ(json::parse(audit_.events().back().details)["reason"], "joins a study");
  // Nor take away a role of an account it may not administer.
  Response remove =
      Post("/api/v1/admin/users/alice/roles/clinician/remove", json{{"reason", "left"}}.dump());
  ASSERT_EQ(remove.status, 403) << remove.body;
  EXPECT_EQ(Alice(), before);
  EXPECT_EQ(audit_.events().back().decision, "deny");
  EXPECT_EQ(json::parse(audit_.events().back().details)["reason"], "left");
}

TEST_P(IdentityRoutesTest, UnknownFieldsAndUnknownUsersAreNamed) {
  Response extra = Post("/api/v1/admin/users/alice/disable",
                        json{{"reason", "left the project"}, {"because", "x"}}.dump());
  ASSERT_EQ(extra.status, 400) << extra.body;
  EXPECT_EQ(json::parse(extra.body)["error"]["field"], "because");
  EXPECT_FALSE(Alice()["disabled"].get<bool>());
  Response nobody =
      Post("/api/v1/admin/users/nobody/disable", json{{"reason", "left the project"}}.dump());
  EXPECT_EQ(nobody.status, 404) << nobody.body;
}

INSTANTIATE_TEST_SUITE_P(Backends, IdentityRoutesTest, ::testing::ValuesIn(storage::TestBackends()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace zengen::identity
