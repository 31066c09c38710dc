// Small admission-control parts of the server, kept apart from Beast so they can be tested with
// a fake clock: per-address token buckets (the request-rate limit, compare nginx limit_req) and
// a limiter for log lines that an attacker could otherwise repeat at line rate.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "common/clock.h"

namespace zengen::http {

// Token buckets keyed by client address: each key holds up to `burst` tokens and regains `rate`
// per second. Thread-safe. At most max_keys addresses are tracked; when full, buckets that
// have refilled completely are forgotten first, and if none has, the key shares one overflow
// bucket (so a flood of distinct addresses cannot grow memory without bound).
class RateLimiter {
 public:
  // rate <= 0 disables the limiter: Take always succeeds.
  RateLimiter(const Clock& clock, double rate, double burst, size_t max_keys = 65536);

  // Takes one token from key's bucket; false when it is empty.
  bool Take(std::string_view key);
  // Whether key's bucket is empty now (takes nothing).
  bool Exhausted(std::string_view key);
  bool enabled() const { return rate_ > 0; }

 private:
  struct Bucket {
    double tokens = 0;
    std::chrono::system_clock::time_point updated;
  };
  Bucket& Get(std::string_view key, std::chrono::system_clock::time_point now);
  void Refill(Bucket& b, std::chrono::system_clock::time_point now) const;

  const Clock& clock_;
  const double rate_;
  const double burst_;
  const size_t max_keys_;
  std::mutex mu_;
  std::map<std::string, Bucket, std::less<>> buckets_;
  Bucket overflow_;
};

// Lets at most `per_interval` lines of one kind through per interval; the first line allowed
// in a new interval reports how many were suppressed in the ones before. Thread-safe.
class LogLimiter {
 public:
  LogLimiter(const Clock& clock, int per_interval, std::chrono::milliseconds interval);

  struct Verdict {
    bool allow = false;
    int64_t suppressed_before = 0;  // lines dropped since the last one allowed
  };
  Verdict Allow();

 private:
  const Clock& clock_;
  const int per_interval_;
  const std::chrono::milliseconds interval_;
  std::mutex mu_;
  std::chrono::system_clock::time_point window_start_;
  int in_window_ = 0;
  int64_t suppressed_ = 0;
};

}  // namespace zengen::http
