// Audit-log append throughput: group commit against one durable transaction per record.
//
//   audit_bench [--threads=8] [--records=4000] [--max-batch=256] [--max-wait-us=2000]
//
// For each backend (SQLite in a fresh temporary directory, which TMPDIR chooses; PostgreSQL in
// a fresh database on the server named by the DATABASE environment variable, when set) and each
// mode (group commit, then per-record) it appends `records` records from `threads` threads to
// an empty log, verifies the chain, and prints appends/s, Append latency, the mean number of
// records per committed transaction and the ratio group / per-record.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "audit/audit.h"
#include "common/clock.h"
#include "storage/store.h"
#include "storage/testing.h"

namespace zengen::audit {
namespace {

struct Config {
  int threads = 8;
  int records = 4000;
  int max_batch = 256;
  int max_wait_us = 2000;
};

struct Outcome {
  double seconds = 0;
  double appends_per_second = 0;
  double mean_batch = 0;
  double p50_ms = 0;
  double p99_ms = 0;
};

bool ParseFlag(std::string_view arg, std::string_view name, int min, int max, int* out) {
  const std::string prefix = fmt::format("--{}=", name);
  if (!arg.starts_with(prefix)) return false;
  const std::string value(arg.substr(prefix.size()));
  char* end = nullptr;
  const long v = std::strtol(value.c_str(), &end, 10);
  if (value.empty() || *end != '\0' || v < min || v > max) {
    std::cerr << fmt::format("audit_bench: --{} must be an integer in [{}, {}]\n", name, min, max);
    std::exit(2);
  }
  *out = static_cast<int>(v);
  return true;
}

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  const auto k = static_cast<size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

Result<Outcome> RunOnce(const std::string& backend, const Config& config, bool group) {
  // why: each mode gets an empty database of its own, so neither run inherits the other's
  // table size or WAL; ScratchDatabase also drops it afterwards.
  auto db = storage::ScratchDatabase::Create(backend);
  if (!db.ok()) return db.error();
  SystemClock clock;
  Outcome outcome;
  {
    auto store = storage::OpenStore({.location = db->location(), .pool_size = 4});
    if (!store.ok()) return store.error();
    auto log = Log::Open(**store, clock,
                         {.group_commit = group,
                          .max_batch = config.max_batch,
                          .max_wait = std::chrono::microseconds(config.max_wait_us)});
    if (!log.ok()) return log.error();

    std::vector<std::vector<double>> latencies(config.threads);
    std::vector<std::optional<Error>> errors(config.threads);
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    for (int t = 0; t < config.threads; ++t) {
      const int n = config.records / config.threads + (t < config.records % config.threads);
      threads.emplace_back([&, t, n] {
        for (int i = 0; i < n; ++i) {
          Record r;
          r.actor = fmt::format("user{}", t);
          r.source = "192.0.2.10";
          r.action = "file.read";
          r.resource = fmt::format("file/F{:06}", i);
          r.decision = "allow";
          r.reason = "grant G1 covers the dataset";
          r.request_id = fmt::format("bench-{}-{}", t, i);
          r.details = fmt::format(R"({{"range":[{},{}]}})", i * 65536, i * 65536 + 65535);
          const auto t0 = std::chrono::steady_clock::now();
          const Status s = (*log)->Append(r);
          const auto t1 = std::chrono::steady_clock::now();
          if (!s.ok()) {
            errors[t] = s.error();
            return;
          }
          latencies[t].push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
        }
      });
    }
    for (auto& th : threads) th.join();
    outcome.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    for (const auto& e : errors) {
      if (e) return *e;
    }
    const Stats stats = (*log)->stats();
    outcome.appends_per_second = static_cast<double>(stats.records) / outcome.seconds;
    outcome.mean_batch = static_cast<double>(stats.records) / static_cast<double>(stats.batches);
    std::vector<double> all;
    for (const auto& v : latencies) all.insert(all.end(), v.begin(), v.end());
    outcome.p50_ms = Percentile(all, 0.50);
    outcome.p99_ms = Percentile(all, 0.99);

    auto report = Verify(**store);
    if (!report.ok()) return report.error();
    if (!report->intact() || report->records != config.records) {
      return Internal("bench_chain_broken",
                      fmt::format("chain check failed: {} records, {} problems", report->records,
                                  report->problems.size()));
    }
  }
  return outcome;
}

int Main(int argc, char** argv) {
  Config config;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (!ParseFlag(arg, "threads", 1, 512, &config.threads) &&
        !ParseFlag(arg, "records", 1, 10'000'000, &config.records) &&
        !ParseFlag(arg, "max-batch", 1, 100'000, &config.max_batch) &&
        !ParseFlag(arg, "max-wait-us", 0, 10'000'000, &config.max_wait_us)) {
      std::cerr << "usage: audit_bench [--threads=8] [--records=4000] [--max-batch=256] "
                   "[--max-wait-us=2000]   (env DATABASE=postgres://… adds PostgreSQL)\n";
      return 2;
    }
  }
  std::vector<std::string> backends = {"sqlite"};
  if (const char* url = std::getenv("DATABASE"); url != nullptr && *url != '\0') {
    // why: ScratchDatabase creates (and drops) its database on the server this names.
    setenv("ZENGEN_TEST_POSTGRES_URL", url, 1);
    backends.push_back("postgres");
  }
  std::cout << fmt::format(
      "audit_bench: {} records from {} threads per run; group commit max_batch {}, max_wait "
      "{} us; SQLite synchronous=FULL\n",
      config.records, config.threads, config.max_batch, config.max_wait_us);
  std::cout << fmt::format("{:<9} {:<11} {:>8} {:>9} {:>11} {:>9} {:>9} {:>11}\n", "backend",
                           "mode", "records", "seconds", "appends/s", "p50 ms", "p99 ms",
                           "mean batch");
  for (const std::string& backend : backends) {
    std::optional<Outcome> group_outcome;
    for (const bool group : {true, false}) {
      auto outcome = RunOnce(backend, config, group);
      if (!outcome.ok()) {
        std::cerr << fmt::format("audit_bench: {} {}: {}: {}\n", backend,
                                 group ? "group" : "per-record", outcome.error().code,
                                 outcome.error().message);
        return 1;
      }
      std::cout << fmt::format(
          "{:<9} {:<11} {:>8} {:>9.3f} {:>11.0f} {:>9.2f} {:>9.2f} {:>11.1f}\n", backend,
          group ? "group" : "per-record", config.records, outcome->seconds,
          outcome->appends_per_second, outcome->p50_ms, outcome->p99_ms, outcome->mean_batch);
      if (group) {
        group_outcome = *outcome;
      } else {
        std::cout << fmt::format("{:<9} ratio group/per-record: {:.1f}x\n", backend,
                                 group_outcome->appends_per_second / outcome->appends_per_second);
      }
    }
  }
  return 0;
}

}  // namespace
}  // namespace zengen::audit

int main(int argc, char** argv) { return zengen::audit::Main(argc, argv); }
