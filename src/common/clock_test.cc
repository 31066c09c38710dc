#include "common/clock.h"

#include <gtest/gtest.h>

namespace zengen {
namespace {

TEST(ClockTest, FormatsRfc3339InUtcWithMillis) {
  const std::chrono::system_clock::time_point t{std::chrono::milliseconds(1795651200123)};
  EXPECT_EQ(FormatRfc3339(t), "2026-11-26T00:00:00.123Z");
}

TEST(ClockTest, FakeClockMovesOnlyWhenAdvanced) {
  FakeClock c{std::chrono::system_clock::time_point{std::chrono::seconds(100)}};
  EXPECT_EQ(c.NowUnixMillis(), 100000);
  c.Advance(std::chrono::milliseconds(1500));
  EXPECT_EQ(c.NowUnixMillis(), 101500);
}

}  // namespace
}  // namespace zengen
