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

TEST(RouterTest, RefusesDuplicateRoute) {
  Router r;
  Route route{.method = "GET", .pattern = "/x", .action = "a", .resource = "b", .handler = Ok("")};
  ASSERT_TRUE(r.Add(route).ok());
  auto st = r.Add(route);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "route_duplicate");
}

TEST(RouterTest, MatchesCapturesAndDistinguishes404From405) {
  Router r;
  ASSERT_TRUE(r.Add({.method = "GET", .pattern = "/api/v1/settings/{key}", .action = "a",
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
  ASSERT_TRUE(r.Add({.method = "GET", .pattern = "/api/v1/version", .action = "a",
                     .resource = "system", .handler = Ok("")})
                  .ok());
  ASSERT_TRUE(r.Add({.method = "GET", .pattern = "/{path...}", .action = "a",
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
