// The fixture module tests share (src/<module>/..._test.cc): a scratch database of the test
// parameter's backend with organisations seeded, a fake clock at TestNow(), an audit recorder,
// the tests' people as actors and bearer tokens, and for route tests the standard filter chain
// (request id, authentication, the one policy decision) in front of a router, driven without
// sockets. Tests only; it needs no server binary (tests/support/server_fixture.h is the HTTPS
// one). Module fixtures (specimens_test_support.h, findings_test_support.h,
// sequencing/routes_testing.h) build on it and add their module's objects.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/actor.h"
#include "common/audit_event.h"
#include "common/clock.h"
#include "http/filters.h"
#include "http/http.h"
#include "storage/store.h"
#include "storage/testing.h"

namespace zengen::testing {

// The fixed "now" module tests start at: 2026-11-24T00:00:00Z.
std::chrono::system_clock::time_point TestNow();

// `user` of `organisation` with the one `role`, acting from 10.0.0.1 in request "req-1".
Actor Person(std::string user, std::string organisation, std::string role);

// Bearer token (the user's id) → (organisation, role).
using People = std::map<std::string, std::pair<std::string, std::string>>;

// "Authorization: Bearer <user>" → the subject `people` names (second factor passed); no
// header → an unauthenticated subject; another scheme or an unknown user → 401
// "invalid_credentials".
class PeopleAuthenticator final : public http::Authenticator {
 public:
  explicit PeopleAuthenticator(People people) : people_(std::move(people)) {}
  Result<http::Subject> Authenticate(const http::Request& req) override;

 private:
  const People people_;
};

class ModuleTest : public ::testing::TestWithParam<std::string> {
 protected:
  ModuleTest() : clock_(TestNow()) {}

  // Opens store_ on a new scratch database of GetParam()'s backend (migrated, `pool_size`
  // connections) and seeds `organisations` (id, kind) in Japan. A failure is fatal to the
  // test (callers wrap the call in ASSERT_NO_FATAL_FAILURE).
  void OpenStore(const std::vector<std::pair<std::string, std::string>>& organisations,
                 int pool_size = 4);

  // Registers cancer/lung participant `local_id` at `hospital` with `index_date`, by clin-a
  // from the CLI, through a participants::Registry recording to audit_; returns its pseudonym
  // ("" and a test failure when refused).
  std::string RegisterParticipant(const std::string& local_id,
                                  const std::string& hospital = "hosp-a",
                                  const std::string& index_date = "2026-06-01");

  // Serves `router` behind the standard chain as app/main.cc orders it: RequestIdFilter,
  // AuthenticationFilter over `people` (PeopleAuthenticator), PolicyFilter handing every
  // decision to `record`.
  void Serve(http::Router router, People people, http::DecisionRecorder record);

  // One request through the chain Serve built: `method` `target` (path and query), bearer
  // `user` (no Authorization header when ""), `body` with `content_type` when not empty, from
  // 10.0.0.9. REQUIRES: Serve was called.
  http::Response Call(const std::string& method, const std::string& target,
                      const std::string& user, const std::string& body = "",
                      const std::string& content_type = "application/json");

  // A decision as route tests list it: "<action> <kind>/<id> allow|deny", e.g.
  // "finding.read finding/FD-1 deny". REQUIRES: req was decided (resolved and decision set).
  static std::string DecisionText(const http::Request& req);

  FakeClock clock_;
  RecordingAuditSink audit_;  // the modules' own records
  std::optional<storage::ScratchDatabase> db_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<http::Pipeline> pipeline_;
};

}  // namespace zengen::testing
