// The audit record of a policy decision keeps the reason's stable code and arguments beside
// its English text (issue 14: the audit view says the reason in Japanese from the code).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <vector>

#include "access/access.h"
#include "policy/policy.h"

namespace zengen::access {
namespace {

class Events final : public AuditSink {
 public:
  Status Append(AuditEvent e) override {
    events.push_back(std::move(e));
    return {};
  }
  std::vector<AuditEvent> events;
};

TEST(RecordDecisionTest, TheRecordKeepsTheReasonCodeAndItsArguments) {
  http::Request req;
  req.method = "GET";
  req.path = "/api/v1/participants/ZG-1";
  req.subject = {.authenticated = true, .id = "dr-a", .organisation = "hosp-b",
                 .roles = {"clinician"}, .mfa = true};
  http::Target target{.resource = {"participant", "ZG-1", "hosp-a", ""}};
  const policy::Decision d =
      policy::Decide(req.subject, "participant.read", target.resource, {});
  ASSERT_FALSE(d.allowed());
  Events sink;
  ASSERT_TRUE(RecordDecision(sink, req, "participant.read", target, d).ok());
  ASSERT_EQ(sink.events.size(), 1u);
  const AuditEvent& e = sink.events[0];
  EXPECT_EQ(e.decision, "deny");
  EXPECT_EQ(e.reason, "participant belongs to another organisation");
  const auto details = nlohmann::json::parse(e.details);
  EXPECT_EQ(details["reason_code"], "other_organisation");
  EXPECT_EQ(details["reason_args"], (nlohmann::json{{"kind", "participant"}}));

  req.subject.organisation = "hosp-a";
  const policy::Decision allowed =
      policy::Decide(req.subject, "participant.read", target.resource, {});
  ASSERT_TRUE(RecordDecision(sink, req, "participant.read", target, allowed).ok());
  const auto allow_details = nlohmann::json::parse(sink.events[1].details);
  EXPECT_EQ(allow_details["reason_code"], "role_allows");
  EXPECT_EQ(allow_details["reason_args"],
            (nlohmann::json{{"role", "clinician"}, {"action", "participant.read"}}));
  EXPECT_EQ(sink.events[1].reason, "role clinician may participant.read");
}

}  // namespace
}  // namespace zengen::access
