#include "http/http.h"

#include <gtest/gtest.h>

#include "common/clock.h"
#include "http/filters.h"

namespace zengen::http {
namespace {

Handler Ok(std::string body) {
  return [body](Request&) { return Response::Text(200, body); };
}

TEST(RouterTest, RefusesRouteWithoutActionOrResource) {
  Router r;
  auto st = r.Add({.method = "GET", .pattern = "/x", .action = "", .resource = "system",
                   .handler = Ok("x")});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "route_incomplete");
  st = r.Add({.method = "GET", .pattern = "/x", .action = "system.health", .resource = "",
              .handler = Ok("x")});
  EXPECT_FALSE(st.ok());
  EXPECT_TRUE(r.routes().empty());
}

// Issue 12: no route can be reached without the one policy decision on a resolved resource.
TEST(RouterTest, RefusesUnknownActionAndUnresolvedKind) {
  Router r;
  auto unknown = r.Add({.method = "GET", .pattern = "/x", .action = "system.read",
                        .resource = "system", .handler = Ok("x")});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, "route_unknown_action");
  // Genome files have no standard resolver: only the access gate may resolve them.
  auto file = r.Add({.method = "GET", .pattern = "/files/{id}", .action = "file.read",
                     .resource = "file", .handler = Ok("x")});
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.error().code, "route_unresolved");
  auto invented = r.Add({.method = "GET", .pattern = "/y", .action = "system.health",
                         .resource = "gizmo", .handler = Ok("x")});
  ASSERT_FALSE(invented.ok());
  EXPECT_EQ(invented.error().code, "route_unresolved");
  EXPECT_TRUE(r.routes().empty());
  // A route's own resolver, or one set for its kind, makes it complete.
  r.SetResolver("file", Unscoped("file"));
  EXPECT_TRUE(r.Add({.method = "GET", .pattern = "/files/{id}", .action = "file.read",
                     .resource = "file", .handler = Ok("x")})
                  .ok());
  EXPECT_TRUE(r.Add({.method = "GET", .pattern = "/y", .action = "system.health",
                     .resource = "gizmo", .handler = Ok("x"), .resolve = Unscoped("gizmo")})
                  .ok());
  for (const auto& route : r.routes()) EXPECT_TRUE(route->resolve);
}

TEST(RouterTest, RefusesDuplicateRoute) {
  Router r;
  Route route{.method = "GET", .pattern = "/x", .action = "system.health", .resource = "system",
              .handler = Ok("")};
  ASSERT_TRUE(r.Add(route).ok());
  auto st = r.Add(route);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "route_duplicate");
}

TEST(RouterTest, MatchesCapturesAndDistinguishes404From405) {
  Router r;
  ASSERT_TRUE(r.Add({.method = "GET", .pattern = "/api/v1/settings/{key}", .action = "setting.read",
                     .resource = "setting", .handler = Ok("")})
                  .ok());
  auto m = r.Find("GET", "/api/v1/settings/program_name");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.params.at("key"), "program_name");
  EXPECT_NE(r.Find("HEAD", "/api/v1/settings/x").route, nullptr);
  auto wrong_method = r.Find("DELETE", "/api/v1/settings/x");
  EXPECT_EQ(wrong_method.route, nullptr);
  EXPECT_TRUE(wrong_method.path_known);
  auto unknown = r.Find("GET", "/api/v1/nothing");
  EXPECT_EQ(unknown.route, nullptr);
  EXPECT_FALSE(unknown.path_known);
  EXPECT_EQ(r.Find("GET", "/api/v1/settings/x/").route, nullptr);
  EXPECT_EQ(r.Find("GET", "/api/v1/settings").route, nullptr);
}

TEST(RouterTest, RestCaptureIsAFallbackTriedLast) {
  Router r;
  ASSERT_TRUE(r.Add({.method = "GET", .pattern = "/api/v1/version", .action = "system.version",
                     .resource = "system", .handler = Ok("")})
                  .ok());
  ASSERT_TRUE(r.Add({.method = "GET", .pattern = "/{path...}", .action = "system.web",
                     .resource = "web", .handler = Ok("")})
                  .ok());
  EXPECT_EQ(r.Find("GET", "/api/v1/version").route->pattern, "/api/v1/version");
  auto deep = r.Find("GET", "/console/participants/ZG-1");
  ASSERT_NE(deep.route, nullptr);
  EXPECT_EQ(deep.params.at("path"), "console/participants/ZG-1");
  EXPECT_EQ(r.Find("GET", "/").route, nullptr);  // needs at least one segment
  // Other methods on fallback paths stay 404, not 405.
  auto post = r.Find("POST", "/api/v1/nothing");
  EXPECT_EQ(post.route, nullptr);
  EXPECT_FALSE(post.path_known);
  EXPECT_TRUE(r.Find("POST", "/api/v1/version").path_known);
}

TEST(ParseTargetTest, DecodesPathAndQuery) {
  Request req;
  ASSERT_TRUE(ParseTarget("/a%20b/c?x=1&y=%E5%85%A8&flag", req).ok());
  EXPECT_EQ(req.path, "/a b/c");
  EXPECT_EQ(req.query.at("x"), "1");
  EXPECT_EQ(req.query.at("y"), "\xE5\x85\xA8");
  EXPECT_EQ(req.query.at("flag"), "");
}

TEST(ParseTargetTest, RejectsMalformedTargets) {
  for (const char* bad : {"http://example.org/x", "/a%zz", "*", "relative", "/a%00b"}) {
    Request req;
    auto st = ParseTarget(bad, req);
    ASSERT_FALSE(st.ok()) << bad;
    EXPECT_EQ(st.error().code, "invalid_target") << bad;
  }
}

TEST(JsonBodyTest, ReportsWhereJsonIsBroken) {
  Request req;
  req.body = R"({"a": 1,,})";
  auto j = ParseJsonBody(req);
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(j.error().code, "invalid_json");
  EXPECT_EQ(j.error().field, "body");
  EXPECT_NE(j.error().message.find("byte"), std::string::npos);
}

TEST(JsonBodyTest, RequiresObjectAndJsonMediaType) {
  Request req;
  req.body = "[1,2]";
  EXPECT_EQ(ParseJsonBody(req).error().code, "json_object_required");
  req.body = "";
  EXPECT_EQ(ParseJsonBody(req).error().code, "invalid_json");
  req.body = "{}";
  req.headers["content-type"] = "text/plain";
  auto j = ParseJsonBody(req);
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(StatusFor(j.error().kind), 415);
  req.headers["Content-Type"] = "application/json; charset=utf-8";
  EXPECT_TRUE(ParseJsonBody(req).ok());
}

TEST(ResponseTest, ErrorBodyShape) {
  Response r = Response::FromError(InvalidArgument("bad_value", "value out of range", "age"));
  EXPECT_EQ(r.status, 400);
  auto j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["error"]["code"], "bad_value");
  EXPECT_EQ(j["error"]["message"], "value out of range");
  EXPECT_EQ(j["error"]["field"], "age");
}

class FixedAuthenticator final : public Authenticator {
 public:
  Result<Subject> Authenticate(const Request& req) override {
    const std::string a = req.Header("Authorization");
    if (a.empty()) return Subject{};
    if (a == "Bearer steward") {
      return Subject{.authenticated = true, .id = "s", .organisation = "dc", .roles = {"data_steward"}, .mfa = true};
    }
    if (a == "Bearer clinician-h1" || a == "Bearer clinician-h2") {
      return Subject{.authenticated = true, .id = "c", .organisation = a.substr(17),
                     .roles = {"clinician"}, .mfa = true};
    }
    if (a == "Bearer researcher") {
      return Subject{.authenticated = true, .id = "r", .organisation = "u", .roles = {"researcher"}, .mfa = true};
    }
    return Unauthenticated("invalid_credentials", "unknown token");
  }
};

class PipelineTest : public ::testing::Test {
 protected:
  PipelineTest() : clock_(std::chrono::system_clock::time_point{}) {
    Router r;
    EXPECT_TRUE(r.Add({.method = "PUT", .pattern = "/settings/{key}", .action = "setting.write",
                       .resource = "setting", .handler = [this](Request& req) {
                         ++handled_;
                         return Response::Text(200, req.path_params.at("key"));
                       }})
                    .ok());
    // A participant of hospital "h2" whose resolver fails for "missing".
    EXPECT_TRUE(r.Add({.method = "GET", .pattern = "/participants/{id}",
                       .action = "participant.read", .resource = "participant",
                       .handler = [this](Request&) {
                         ++handled_;
                         return Response::Text(200, "p");
                       },
                       .resolve = [](const Request& req) -> Result<Target> {
                         if (req.path_params.at("id") == "missing") {
                           return NotFound("participant_not_found", "no participant");
                         }
                         return Target{.resource = {"participant", req.path_params.at("id"),
                                                    "h2", ""}};
                       }})
                    .ok());
    EXPECT_TRUE(r.Add({.method = "GET", .pattern = "/boom", .action = "system.health",
                       .resource = "system", .handler = [](Request&) -> Response {
                         throw std::runtime_error("bug");
                       }})
                    .ok());
    pipeline_ = std::make_unique<Pipeline>(std::move(r));
    pipeline_->AddFilter(std::make_unique<RequestIdFilter>());
    pipeline_->AddFilter(std::make_unique<AccessAuditFilter>(
        clock_, [this](const AccessRecord& rec) { records_.push_back(rec); }));
    pipeline_->AddFilter(
        std::make_unique<AuthenticationFilter>(std::make_shared<FixedAuthenticator>()));
    pipeline_->AddFilter(std::make_unique<PolicyFilter>());
  }

  Response Send(std::string method, std::string path, std::string auth = "") {
    Request req;
    req.method = method;
    EXPECT_TRUE(ParseTarget(path, req).ok());
    if (!auth.empty()) req.headers["Authorization"] = auth;
    return pipeline_->Handle(req, pipeline_->router().Find(req.method, req.path));
  }

  FakeClock clock_;
  std::unique_ptr<Pipeline> pipeline_;
  std::vector<AccessRecord> records_;
  int handled_ = 0;
};

TEST_F(PipelineTest, AnonymousIsAskedToAuthenticate) {
  Response r = Send("PUT", "/settings/a");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(handled_, 0);
  ASSERT_EQ(records_.size(), 1u);
  EXPECT_EQ(records_[0].decision, "deny");
  EXPECT_EQ(records_[0].subject, "anonymous");
  EXPECT_FALSE(r.headers.at("X-Request-Id").empty());
}

TEST_F(PipelineTest, WrongRoleIsForbiddenRightRoleReachesHandler) {
  EXPECT_EQ(Send("PUT", "/settings/a", "Bearer researcher").status, 403);
  EXPECT_EQ(handled_, 0);
  Response ok = Send("PUT", "/settings/a", "Bearer steward");
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, "a");
  EXPECT_EQ(handled_, 1);
  EXPECT_EQ(records_.back().decision, "allow");
  EXPECT_EQ(records_.back().action, "setting.write");
}

// Issue 12 findings 1 and 7: the decision is about the resolved owner, and a refusal says
// nothing about the resource (the reason is only in the decision, for the audit record).
TEST_F(PipelineTest, DecidesOnTheResolvedOwnerAndRefusesWithoutDetail) {
  Response other = Send("GET", "/participants/p1", "Bearer clinician-h1");
  EXPECT_EQ(other.status, 403);
  const auto body = nlohmann::json::parse(other.body);
  EXPECT_EQ(body["error"]["code"], "access_denied");
  EXPECT_EQ(other.body.find("organisation"), std::string::npos) << other.body;
  EXPECT_EQ(records_.back().decision, "deny");
  EXPECT_NE(records_.back().reason.find("another organisation"), std::string::npos);
  EXPECT_EQ(handled_, 0);
  EXPECT_EQ(Send("GET", "/participants/p1", "Bearer clinician-h2").status, 200);
  EXPECT_EQ(handled_, 1);
  // An unknown id is answered only to a caller who may ask: 404 for a clinician, 401 for
  // anonymous, 403 for a role without the action.
  EXPECT_EQ(Send("GET", "/participants/missing", "Bearer clinician-h1").status, 404);
  EXPECT_EQ(Send("GET", "/participants/missing").status, 401);
  EXPECT_EQ(Send("GET", "/participants/missing", "Bearer researcher").status, 403);
}

TEST_F(PipelineTest, InvalidCredentialIsRefusedNotDowngraded) {
  Response r = Send("PUT", "/settings/a", "Bearer forged");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(nlohmann::json::parse(r.body)["error"]["code"], "invalid_credentials");
}

TEST_F(PipelineTest, UnknownRouteAndMethodAreAuditedToo) {
  EXPECT_EQ(Send("GET", "/nope").status, 404);
  EXPECT_EQ(Send("GET", "/settings/a").status, 405);
  EXPECT_EQ(records_.size(), 2u);
  EXPECT_EQ(records_[0].status, 404);
}

TEST_F(PipelineTest, HandlerExceptionBecomes500WithoutDetail) {
  Response r = Send("GET", "/boom");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body.find("bug"), std::string::npos);
}

}  // namespace
}  // namespace zengen::http
