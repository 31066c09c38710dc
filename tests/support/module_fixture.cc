#include "support/module_fixture.h"

#include <fmt/format.h>

#include "participants/participants.h"

namespace zengen::testing {

std::chrono::system_clock::time_point TestNow() {
  return std::chrono::sys_days{std::chrono::year{2026} / 11 / 24};
}

Actor Person(std::string user, std::string organisation, std::string role) {
  return {std::move(user), std::move(organisation), {std::move(role)}, "10.0.0.1", "req-1"};
}

Result<http::Subject> PeopleAuthenticator::Authenticate(const http::Request& req) {
  const std::string a = req.Header("Authorization");
  if (a.empty()) return http::Subject{};
  const auto it = a.rfind("Bearer ", 0) == 0 ? people_.find(a.substr(7)) : people_.end();
  if (it == people_.end()) return Unauthenticated("invalid_credentials", "unknown token");
  return http::Subject{.authenticated = true,
                       .id = it->first,
                       .organisation = it->second.first,
                       .roles = {it->second.second},
                       .mfa = true};
}

void ModuleTest::OpenStore(const std::vector<std::pair<std::string, std::string>>& organisations,
                           int pool_size) {
  auto db = storage::ScratchDatabase::Create(GetParam());
  ASSERT_TRUE(db.ok()) << db.error().message;
  db_.emplace(std::move(*db));
  auto store = storage::OpenStore({.location = db_->location(), .pool_size = pool_size});
  ASSERT_TRUE(store.ok()) << store.error().message;
  store_ = std::move(*store);
  const Status seeded = storage::SeedOrganisations(*store_, organisations);
  ASSERT_TRUE(seeded.ok()) << seeded.error().message;
}

std::string ModuleTest::RegisterParticipant(const std::string& local_id,
                                            const std::string& hospital,
                                            const std::string& index_date) {
  participants::Registry registry(*store_, clock_, audit_, std::string(32, 'k'));
  auto p = registry.Register({hospital, local_id, "cancer", "lung", index_date}, "clin-a", "cli",
                             "");
  EXPECT_TRUE(p.ok()) << p.error().message;
  return p.ok() ? p->participant.id : "";
}

void ModuleTest::Serve(http::Router router, People people, http::DecisionRecorder record) {
  pipeline_ = std::make_unique<http::Pipeline>(std::move(router));
  pipeline_->AddFilter(std::make_unique<http::RequestIdFilter>());
  pipeline_->AddFilter(std::make_unique<http::AuthenticationFilter>(
      std::make_shared<PeopleAuthenticator>(std::move(people))));
  pipeline_->AddFilter(std::make_unique<http::PolicyFilter>(std::move(record)));
}

http::Response ModuleTest::Call(const std::string& method, const std::string& target,
                                const std::string& user, const std::string& body,
                                const std::string& content_type) {
  http::Request req;
  req.method = method;
  EXPECT_TRUE(http::ParseTarget(target, req).ok()) << target;
  if (!user.empty()) req.headers["Authorization"] = "Bearer " + user;
  req.body = body;
  if (!body.empty()) req.headers["Content-Type"] = content_type;
  req.remote_address = "10.0.0.9";
  return pipeline_->Handle(req, pipeline_->router().Find(req.method, req.path));
}

std::string ModuleTest::DecisionText(const http::Request& req) {
  const policy::Resource& r = req.resolved->resource;
  return fmt::format("{} {}/{} {}", req.route->action, r.kind, r.id,
                     req.decision->allowed() ? "allow" : "deny");
}

}  // namespace zengen::testing
