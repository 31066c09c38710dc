// Time comes from a port so that expiry, embargo and timeout logic is testable with a fake.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace zengen {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time (UTC) as used for records and expiry.
  virtual std::chrono::system_clock::time_point Now() const = 0;
  int64_t NowUnixMillis() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Now().time_since_epoch())
        .count();
  }
};

class SystemClock final : public Clock {
 public:
  std::chrono::system_clock::time_point Now() const override {
    return std::chrono::system_clock::now();
  }
};

// A clock that moves only when told to. Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(std::chrono::system_clock::time_point start) : now_(start) {}
  std::chrono::system_clock::time_point Now() const override {
    std::lock_guard lock(mu_);
    return now_;
  }
  void Advance(std::chrono::milliseconds d) {
    std::lock_guard lock(mu_);
    now_ += d;
  }

 private:
  mutable std::mutex mu_;
  std::chrono::system_clock::time_point now_;
};

// RFC 3339 UTC with milliseconds, e.g. 2026-11-24T19:30:00.123Z.
std::string FormatRfc3339(std::chrono::system_clock::time_point t);

}  // namespace zengen
