#include "http/admission.h"

#include <algorithm>

namespace zengen::http {

RateLimiter::RateLimiter(const Clock& clock, double rate, double burst, size_t max_keys)
    : clock_(clock), rate_(rate), burst_(std::max(burst, 1.0)), max_keys_(max_keys) {
  overflow_.tokens = burst_;
  overflow_.updated = clock_.Now();
}

void RateLimiter::Refill(Bucket& b, std::chrono::system_clock::time_point now) const {
  if (now > b.updated) {
    const double seconds = std::chrono::duration<double>(now - b.updated).count();
    b.tokens = std::min(burst_, b.tokens + seconds * rate_);
  }
  b.updated = now;
}

RateLimiter::Bucket& RateLimiter::Get(std::string_view key,
                                      std::chrono::system_clock::time_point now) {
  if (auto it = buckets_.find(key); it != buckets_.end()) return it->second;
  if (buckets_.size() >= max_keys_) {
    // Full buckets carry no information: a fresh one would look the same.
    for (auto it = buckets_.begin(); it != buckets_.end();) {
      Refill(it->second, now);
      it = it->second.tokens >= burst_ ? buckets_.erase(it) : std::next(it);
    }
    if (buckets_.size() >= max_keys_) return overflow_;
  }
  return buckets_.emplace(std::string(key), Bucket{burst_, now}).first->second;
}

bool RateLimiter::Take(std::string_view key) {
  if (rate_ <= 0) return true;
  const auto now = clock_.Now();
  std::lock_guard lock(mu_);
  Bucket& b = Get(key, now);
  Refill(b, now);
  if (b.tokens < 1) return false;
  b.tokens -= 1;
  return true;
}

bool RateLimiter::Exhausted(std::string_view key) {
  if (rate_ <= 0) return false;
  const auto now = clock_.Now();
  std::lock_guard lock(mu_);
  auto it = buckets_.find(key);
  Bucket* b = it != buckets_.end() ? &it->second : nullptr;
  if (b == nullptr) return false;
  Refill(*b, now);
  return b->tokens < 1;
}

LogLimiter::LogLimiter(const Clock& clock, int per_interval, std::chrono::milliseconds interval)
    : clock_(clock), per_interval_(per_interval), interval_(interval) {}

LogLimiter::Verdict LogLimiter::Allow() {
  const auto now = clock_.Now();
  std::lock_guard lock(mu_);
  if (now - window_start_ >= interval_ || now < window_start_) {
    window_start_ = now;
    in_window_ = 0;
  }
  if (in_window_ >= per_interval_) {
    ++suppressed_;
    return {};
  }
  ++in_window_;
  Verdict v{true, suppressed_};
  suppressed_ = 0;
  return v;
}

}  // namespace zengen::http
