#include "http/refusals.h"

#include <condition_variable>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace zengen::http {

RefusalAggregator::RefusalAggregator(const Clock& clock, AuditSink& sink, size_t max_keys)
    : clock_(clock), sink_(sink), max_keys_(max_keys), interval_start_(clock.Now()) {}

RefusalAggregator::~RefusalAggregator() { Stop(); }

void RefusalAggregator::Stop() {
  if (stopped_) return;
  stopped_ = true;
  if (flusher_.joinable()) {
    flusher_.request_stop();
    flusher_.join();
  }
  if (auto st = Flush(); !st.ok()) {
    spdlog::error("refused requests of the last interval not recorded: {}", st.error().message);
  }
}

void RefusalAggregator::Count(std::string_view address, std::string_view reason,
                              std::string_view request_id) {
  const auto now = clock_.Now();
  std::lock_guard lock(mu_);
  ++total_;
  auto key = std::make_pair(std::string(address), std::string(reason));
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    if (entries_.size() >= max_keys_) key.first = "*";
    it = entries_.try_emplace(std::move(key)).first;
  }
  Entry& e = it->second;
  if (e.count++ == 0) {
    e.first = now;
    e.first_request_id = request_id;
  }
  e.last = now;
  e.last_request_id = request_id;
}

Status RefusalAggregator::Flush() {
  std::map<std::pair<std::string, std::string>, Entry> taken;
  std::chrono::system_clock::time_point start;
  const auto end = clock_.Now();
  {
    std::lock_guard lock(mu_);
    if (entries_.empty()) {
      interval_start_ = end;
      return Status::Ok();
    }
    taken.swap(entries_);
    start = interval_start_;
    interval_start_ = end;
  }
  int64_t count = 0;
  std::map<std::string, int> addresses;
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& [key, e] : taken) {
    count += e.count;
    ++addresses[key.first];
    rows.push_back({{"address", key.first},
                    {"reason", key.second},
                    {"count", e.count},
                    {"first", FormatRfc3339(e.first)},
                    {"last", FormatRfc3339(e.last)},
                    {"first_request_id", e.first_request_id},
                    {"last_request_id", e.last_request_id}});
  }
  const nlohmann::json details = {{"from", FormatRfc3339(start)},
                                  {"to", FormatRfc3339(end)},
                                  {"refused", count},
                                  {"counts", rows}};
  Status st = sink_.Append(
      {.actor = "system",
       .source = "server",
       .action = "access.refusals",
       .resource = "request",
       .decision = "deny",
       .reason = fmt::format("{} refused requests from {} addresses", count, addresses.size()),
       .request_id = "",
       .details = details.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)});
  if (!st.ok()) {
    // Put the counts back, merged with what arrived meanwhile, for the next try.
    std::lock_guard lock(mu_);
    for (auto& [key, e] : taken) {
      auto [it, inserted] = entries_.try_emplace(key, e);
      if (inserted) continue;
      Entry& now = it->second;
      now.count += e.count;
      now.first = e.first;
      now.first_request_id = e.first_request_id;
    }
    interval_start_ = start;
  }
  return st;
}

void RefusalAggregator::StartFlushing(std::chrono::milliseconds interval) {
  flusher_ = std::jthread([this, interval](std::stop_token stop) {
    std::mutex mu;
    std::condition_variable_any cv;
    std::unique_lock lock(mu);
    while (!stop.stop_requested()) {
      cv.wait_for(lock, stop, interval, [] { return false; });
      if (stop.stop_requested()) break;
      if (auto st = Flush(); !st.ok()) {
        spdlog::warn("refused requests not recorded yet: {} [{}]", st.error().message,
                     st.error().code);
      }
    }
  });
}

DecisionRecorder RefusalAggregator::Wrap(DecisionRecorder durable) {
  return [this, durable = std::move(durable)](const Request& req) -> Status {
    if (req.decision && !req.decision->allowed() && !req.subject.authenticated) {
      const std::string action = req.route ? req.route->action : "auth.credential";
      Count(req.remote_address, action + ": " + req.decision->reason, req.request_id);
      return Status::Ok();
    }
    return durable ? durable(req) : Status::Ok();
  };
}

int64_t RefusalAggregator::total() const {
  std::lock_guard lock(mu_);
  return total_;
}

}  // namespace zengen::http
