// Refused requests are counted, not written one by one (issue 13 item 4), and the admission
// parts (rate limits, limited log lines) behave as their contracts say, on a fake clock.
#include "http/refusals.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "http/admission.h"

namespace zengen::http {
namespace {

using namespace std::chrono_literals;

class FailingSink final : public AuditSink {
 public:
  Status Append(AuditEvent event) override {
    if (fail) return Unavailable("audit_unavailable", "down");
    events.push_back(std::move(event));
    return Status::Ok();
  }
  bool fail = false;
  std::vector<AuditEvent> events;
};

Request Refused(std::string address, std::string id, bool authenticated = false) {
  Request req;
  req.remote_address = std::move(address);
  req.request_id = std::move(id);
  req.subject.authenticated = authenticated;
  if (authenticated) req.subject.id = "someone";
  req.decision = policy::Decision{policy::Effect::kDeny, "authentication required", {}};
  return req;
}

class RefusalAggregatorTest : public ::testing::Test {
 protected:
  FakeClock clock_{std::chrono::sys_days{std::chrono::year{2026} / 12 / 6}};
};

TEST_F(RefusalAggregatorTest, AnonymousRefusalsAreOneRecordPerIntervalWithFirstAndLastIds) {
  FailingSink sink;
  int durable = 0;
  RefusalAggregator agg(clock_, sink);
  DecisionRecorder record = agg.Wrap([&durable](const Request&) {
    ++durable;
    return Status::Ok();
  });
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(record(Refused("10.0.0.1", "r" + std::to_string(i))).ok());
    clock_.Advance(1ms);
  }
  ASSERT_TRUE(record(Refused("10.0.0.2", "other")).ok());
  EXPECT_EQ(durable, 0);
  EXPECT_TRUE(sink.events.empty()) << "nothing durable per request";

  ASSERT_TRUE(agg.Flush().ok());
  ASSERT_EQ(sink.events.size(), 1u);
  const AuditEvent& e = sink.events[0];
  EXPECT_EQ(e.action, "access.refusals");
  EXPECT_EQ(e.decision, "deny");
  const auto details = nlohmann::json::parse(e.details);
  EXPECT_EQ(details["refused"], 1001);
  ASSERT_EQ(details["counts"].size(), 2u);
  const auto& first = details["counts"][0];
  EXPECT_EQ(first["address"], "10.0.0.1");
  EXPECT_EQ(first["count"], 1000);
  EXPECT_EQ(first["first_request_id"], "r0");
  EXPECT_EQ(first["last_request_id"], "r999");
  EXPECT_EQ(details["counts"][1]["count"], 1);
  // Nothing counted since: no record.
  ASSERT_TRUE(agg.Flush().ok());
  EXPECT_EQ(sink.events.size(), 1u);
  EXPECT_EQ(agg.total(), 1001);
}

TEST_F(RefusalAggregatorTest, AllowsAndAuthenticatedDenialsStayDurableOneByOne) {
  FailingSink sink;
  int durable = 0;
  RefusalAggregator agg(clock_, sink);
  DecisionRecorder record = agg.Wrap([&durable](const Request&) {
    ++durable;
    return Status::Ok();
  });
  ASSERT_TRUE(record(Refused("10.0.0.1", "a", /*authenticated=*/true)).ok());
  Request allowed = Refused("10.0.0.1", "b");
  allowed.decision = policy::Decision{policy::Effect::kAllow, "public", {}};
  ASSERT_TRUE(record(allowed).ok());
  EXPECT_EQ(durable, 2);
  EXPECT_EQ(agg.total(), 0);
}

TEST_F(RefusalAggregatorTest, FailedFlushKeepsTheCountsForTheNextOne) {
  FailingSink sink;
  RefusalAggregator agg(clock_, sink);
  agg.Count("10.0.0.1", "auth", "r1");
  sink.fail = true;
  EXPECT_FALSE(agg.Flush().ok());
  agg.Count("10.0.0.1", "auth", "r2");
  sink.fail = false;
  ASSERT_TRUE(agg.Flush().ok());
  ASSERT_EQ(sink.events.size(), 1u);
  const auto details = nlohmann::json::parse(sink.events[0].details);
  EXPECT_EQ(details["counts"][0]["count"], 2);
  EXPECT_EQ(details["counts"][0]["first_request_id"], "r1");
  EXPECT_EQ(details["counts"][0]["last_request_id"], "r2");
}

TEST_F(RefusalAggregatorTest, DistinctAddressesBeyondTheBoundShareOneCount) {
  FailingSink sink;
  RefusalAggregator agg(clock_, sink, /*max_keys=*/10);
  for (int i = 0; i < 500; ++i) agg.Count("10.0.1." + std::to_string(i), "auth", "r");
  ASSERT_TRUE(agg.Flush().ok());
  const auto details = nlohmann::json::parse(sink.events[0].details);
  EXPECT_EQ(details["refused"], 500);
  EXPECT_LE(details["counts"].size(), 11u);
}

TEST_F(RefusalAggregatorTest, DestructionFlushesTheLastInterval) {
  FailingSink sink;
  {
    RefusalAggregator agg(clock_, sink);
    agg.StartFlushing(1h);
    agg.Count("10.0.0.1", "auth", "r1");
  }
  ASSERT_EQ(sink.events.size(), 1u);
}

TEST(RateLimiterTest, BurstThenRateAndKeysAreIndependent) {
  FakeClock clock(std::chrono::sys_days{std::chrono::year{2026} / 12 / 6});
  RateLimiter limiter(clock, /*rate=*/2, /*burst=*/3);
  EXPECT_TRUE(limiter.Take("a"));
  EXPECT_TRUE(limiter.Take("a"));
  EXPECT_TRUE(limiter.Take("a"));
  EXPECT_FALSE(limiter.Take("a"));
  EXPECT_TRUE(limiter.Exhausted("a"));
  EXPECT_FALSE(limiter.Exhausted("b"));
  EXPECT_TRUE(limiter.Take("b"));
  clock.Advance(500ms);  // one token back
  EXPECT_FALSE(limiter.Exhausted("a"));
  EXPECT_TRUE(limiter.Take("a"));
  EXPECT_FALSE(limiter.Take("a"));
  RateLimiter off(clock, 0, 0);
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(off.Take("a"));
}

TEST(RateLimiterTest, ManyAddressesStayBounded) {
  FakeClock clock(std::chrono::sys_days{std::chrono::year{2026} / 12 / 6});
  RateLimiter limiter(clock, 1, 1, /*max_keys=*/4);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(limiter.Take("k" + std::to_string(i)));
  // Full and none refilled: newcomers share the overflow bucket.
  EXPECT_TRUE(limiter.Take("new1"));
  EXPECT_FALSE(limiter.Take("new2"));
  clock.Advance(2s);  // every bucket refilled: forgotten, room again
  EXPECT_TRUE(limiter.Take("new3"));
  EXPECT_TRUE(limiter.Take("new4"));
}

TEST(LogLimiterTest, LimitsLinesPerIntervalAndReportsWhatItSuppressed) {
  FakeClock clock(std::chrono::sys_days{std::chrono::year{2026} / 12 / 6});
  LogLimiter limiter(clock, 3, 1s);
  int allowed = 0;
  for (int i = 0; i < 100; ++i) allowed += limiter.Allow().allow ? 1 : 0;
  EXPECT_EQ(allowed, 3);
  clock.Advance(1s);
  const auto v = limiter.Allow();
  EXPECT_TRUE(v.allow);
  EXPECT_EQ(v.suppressed_before, 97);
  EXPECT_EQ(limiter.Allow().suppressed_before, 0);
}

}  // namespace
}  // namespace zengen::http
