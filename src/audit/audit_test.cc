#include "audit/audit.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "crypto/crypto.h"
#include "storage/testing.h"

namespace zengen::audit {
namespace {

using namespace std::chrono_literals;

std::string Describe(const Error& e) { return e.code + ": " + e.message; }

std::chrono::system_clock::time_point Start() {
  return std::chrono::sys_days{std::chrono::year{2026} / 11 / 24} + 19h + 30min;
}

Record Event(std::string actor, std::string action, std::string resource = "system",
             std::string decision = "allow") {
  Record r;
  r.actor = std::move(actor);
  r.source = "192.0.2.7";
  r.action = std::move(action);
  r.resource = std::move(resource);
  r.decision = std::move(decision);
  r.reason = "test";
  r.request_id = "req-1";
  r.details = R"({"bytes": [0, 1023]})";
  return r;
}

class AuditTest : public ::testing::TestWithParam<std::string> {
 protected:
  AuditTest() : clock_(Start()) {}

  void SetUp() override {
    auto db = storage::ScratchDatabase::Create(GetParam());
    ASSERT_TRUE(db.ok()) << Describe(db.error());
    db_.emplace(std::move(db).value());
    auto store = storage::OpenStore({.location = db_->location(), .pool_size = 4});
    ASSERT_TRUE(store.ok()) << Describe(store.error());
    store_ = std::move(store).value();
  }

  std::unique_ptr<Log> MustOpen(Options options = {}) {
    auto log = Log::Open(*store_, clock_, options);
    EXPECT_TRUE(log.ok()) << Describe(log.error());
    return log.ok() ? std::move(log).value() : nullptr;
  }

  void MustAppend(Log& log, Record r) {
    const Status s = log.Append(r);
    ASSERT_TRUE(s.ok()) << Describe(s.error());
  }

  void MustExec(std::string_view sql, std::initializer_list<storage::Value> params = {}) {
    auto tx = store_->Begin(storage::TxMode::kWrite);
    ASSERT_TRUE(tx.ok()) << Describe(tx.error());
    auto n = (*tx)->Exec(sql, params);
    ASSERT_TRUE(n.ok()) << sql << " → " << Describe(n.error());
    ASSERT_TRUE((*tx)->Commit().ok());
  }

  VerifyReport MustVerify(int64_t page_size = 1000) {
    auto report = Verify(*store_, page_size);
    EXPECT_TRUE(report.ok()) << Describe(report.error());
    return report.ok() ? std::move(report).value() : VerifyReport{};
  }

  // Appends n records, advancing the clock by one second before each.
  void AppendMany(Log& log, int n) {
    for (int i = 0; i < n; ++i) {
      clock_.Advance(1000ms);
      MustAppend(log, Event("alice", "setting.write", "setting/" + std::to_string(i)));
    }
  }

  FakeClock clock_;
  // Declared before store_ so that the store closes before the database is dropped.
  std::optional<storage::ScratchDatabase> db_;
  std::unique_ptr<storage::Store> store_;
};

TEST_P(AuditTest, EmptyLogHasGenesisHeadAndVerifies) {
  auto log = MustOpen();
  auto head = log->GetHead();
  ASSERT_TRUE(head.ok()) << Describe(head.error());
  EXPECT_EQ(head->seq, 0);
  EXPECT_EQ(head->hash, std::string(64, '0'));
  const VerifyReport report = MustVerify();
  EXPECT_TRUE(report.intact());
  EXPECT_EQ(report.records, 0);
  std::ostringstream out;
  EXPECT_EQ(RunVerifyCommand(*store_, out), 0);
  EXPECT_EQ(out.str(), "audit chain intact: 0 records, head " + std::string(64, '0') + "\n");
}

TEST_P(AuditTest, BuildsAHashChain) {
  auto log = MustOpen();
  std::vector<Record> appended;
  for (int i = 0; i < 3; ++i) {
    clock_.Advance(1500ms);
    Record r = Event("alice", "auth.login", "session", i == 1 ? "deny" : "allow");
    ASSERT_TRUE(log->Append(r).ok());
    appended.push_back(r);
  }
  EXPECT_EQ(appended[0].seq, 1);
  EXPECT_EQ(appended[0].prev_hash, std::string(64, '0'));
  EXPECT_EQ(appended[0].time, "2026-11-24T19:30:01.500Z");
  EXPECT_EQ(appended[0].details, R"({"bytes":[0,1023]})");  // normalised to compact form
  for (size_t i = 0; i < appended.size(); ++i) {
    EXPECT_EQ(appended[i].seq, static_cast<int64_t>(i + 1));
    EXPECT_EQ(appended[i].hash, ComputeHash(appended[i]));
    EXPECT_EQ(appended[i].hash.size(), 64u);
    if (i > 0) {
      EXPECT_EQ(appended[i].prev_hash, appended[i - 1].hash);
    }
  }
  auto head = log->GetHead();
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->seq, 3);
  EXPECT_EQ(head->hash, appended[2].hash);

  // What was stored is what was hashed.
  auto page = log->Query({});
  ASSERT_TRUE(page.ok()) << Describe(page.error());
  ASSERT_EQ(page->items.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    const Record& got = page->items[i];
    EXPECT_EQ(got.hash, appended[i].hash);
    EXPECT_EQ(Canonical(got), Canonical(appended[i]));
  }
  EXPECT_EQ(page->items[1].decision, "deny");

  const VerifyReport report = MustVerify();
  EXPECT_TRUE(report.intact());
  EXPECT_EQ(report.records, 3);
  EXPECT_EQ(report.head.hash, appended[2].hash);
  std::ostringstream out;
  EXPECT_EQ(RunVerifyCommand(*store_, out), 0);
  EXPECT_EQ(out.str(), "audit chain intact: 3 records, head " + appended[2].hash + "\n");
}

TEST_P(AuditTest, ConcurrentAppendsFormAGapFreeVerifiableChain) {
  auto log = MustOpen();
  constexpr int kThreads = 4, kPerThread = 200;
  std::vector<std::vector<int64_t>> seqs(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        Record r = Event("user" + std::to_string(t), "file.read", "file/" + std::to_string(i));
        const Status s = log->Append(r);
        if (!s.ok()) {
          ADD_FAILURE() << Describe(s.error());
          return;
        }
        seqs[t].push_back(r.seq);
      }
    });
  }
  for (auto& th : threads) th.join();
  std::set<int64_t> all;
  for (const auto& v : seqs) {
    EXPECT_TRUE(std::is_sorted(v.begin(), v.end()));  // one caller's records keep their order
    all.insert(v.begin(), v.end());
  }
  ASSERT_EQ(all.size(), static_cast<size_t>(kThreads * kPerThread));
  EXPECT_EQ(*all.begin(), 1);
  EXPECT_EQ(*all.rbegin(), kThreads * kPerThread);

  const VerifyReport report = MustVerify(/*page_size=*/97);
  EXPECT_TRUE(report.intact()) << report.problems.size() << " problems, first at "
                               << report.problems.front().seq;
  EXPECT_EQ(report.records, kThreads * kPerThread);
  const Stats stats = log->stats();
  EXPECT_EQ(stats.records, kThreads * kPerThread);
  EXPECT_LT(stats.batches, stats.records) << "group commit never combined two records";
}

TEST_P(AuditTest, CallersQueuedBehindABusyWriterShareOneTransaction) {
  auto log = MustOpen();
  // Hold the audit write lock so that the writer blocks and 100 callers queue up behind it:
  // their records then commit together, more than one INSERT statement (64 rows) carries.
  auto blocker = store_->Begin(storage::TxMode::kWrite);
  ASSERT_TRUE(blocker.ok());
  if (store_->backend() == storage::Backend::kPostgres) {
    ASSERT_TRUE((*blocker)
                    ->Query("SELECT pg_advisory_xact_lock($1)", {storage::Int(kPostgresLockKey)})
                    .ok());
  }
  constexpr int kThreads = 100;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const Status s = log->Append(Event("u" + std::to_string(t), "file.read"));
      if (!s.ok()) ADD_FAILURE() << Describe(s.error());
    });
  }
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(log->stats().records, 0);  // nothing commits while the lock is held
  blocker->reset();                    // roll back, releasing the lock
  for (auto& th : threads) th.join();
  const VerifyReport report = MustVerify();
  EXPECT_TRUE(report.intact());
  EXPECT_EQ(report.records, kThreads);
  EXPECT_LE(log->stats().batches, 3);
}

TEST_P(AuditTest, PerRecordModeCommitsOneTransactionPerRecord) {
  auto log = MustOpen({.group_commit = false});
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) {
        const Status s = log->Append(Event("bob", "auth.login"));
        if (!s.ok()) ADD_FAILURE() << Describe(s.error());
      }
    });
  }
  for (auto& th : threads) th.join();
  const VerifyReport report = MustVerify();
  EXPECT_TRUE(report.intact());
  EXPECT_EQ(report.records, 60);
  EXPECT_EQ(log->stats().batches, 60);
  EXPECT_EQ(log->stats().records, 60);
}

TEST_P(AuditTest, VerifyFindsAnAlteredAndADeletedRecord) {
  {
    auto log = MustOpen();
    AppendMany(*log, 10);
  }
  MustExec("UPDATE audit_log SET reason = $1 WHERE seq = $2",
           {storage::Text("nothing to see"), storage::Int(4)});
  MustExec("DELETE FROM audit_log WHERE seq = $1", {storage::Int(7)});

  for (int64_t page_size : {1000, 3, 1}) {
    const VerifyReport report = MustVerify(page_size);
    ASSERT_EQ(report.problems.size(), 2u) << "page size " << page_size;
    EXPECT_EQ(report.problems[0].seq, 4);
    EXPECT_EQ(report.problems[0].kind, "altered");
    EXPECT_EQ(report.problems[1].seq, 7);
    EXPECT_EQ(report.problems[1].kind, "missing");
    EXPECT_EQ(report.problems[1].detail, "gap after 6");
    EXPECT_EQ(report.records, 9);
    EXPECT_EQ(report.head.seq, 10);
  }
  std::ostringstream out;
  EXPECT_EQ(RunVerifyCommand(*store_, out), 1);
  EXPECT_EQ(out.str(),
            "record 4: altered (hash mismatch)\n"
            "record 7: missing (gap after 6)\n"
            "audit chain broken: 2 problems in 9 records; first broken record: 4\n");
}

TEST_P(AuditTest, VerifyReportsARangeOfMissingRecordsOnceAndAMissingStart) {
  {
    auto log = MustOpen();
    AppendMany(*log, 8);
  }
  MustExec("DELETE FROM audit_log WHERE seq IN (1, 4, 5, 6)");
  const VerifyReport report = MustVerify();
  ASSERT_EQ(report.problems.size(), 2u);
  EXPECT_EQ(report.problems[0].seq, 1);
  EXPECT_EQ(report.problems[0].detail, "gap after 0");
  EXPECT_EQ(report.problems[1].seq, 4);
  EXPECT_EQ(report.problems[1].kind, "missing");
  EXPECT_EQ(report.problems[1].detail, "gap after 3, 3 records through 6");
}

TEST_P(AuditTest, VerifyFindsPrevHashTampering) {
  {
    auto log = MustOpen();
    AppendMany(*log, 6);
  }
  MustExec("UPDATE audit_log SET prev_hash = $1 WHERE seq = $2",
           {storage::Text(std::string(64, 'f')), storage::Int(5)});
  const VerifyReport report = MustVerify();
  ASSERT_EQ(report.problems.size(), 2u);
  for (const Problem& p : report.problems) EXPECT_EQ(p.seq, 5);
  EXPECT_EQ(report.problems[0].kind, "broken_link");
  EXPECT_EQ(report.problems[1].kind, "altered");
}

TEST_P(AuditTest, VerifyFindsARecordRewrittenWithAFreshHash) {
  {
    auto log = MustOpen();
    AppendMany(*log, 6);
  }
  // An attacker who rewrites record 3 and recomputes its hash still breaks record 4's link.
  auto page = Log::Open(*store_, clock_).value()->Query({.after_seq = 2, .limit = 1});
  ASSERT_TRUE(page.ok());
  Record forged = page->items.at(0);
  forged.actor = "mallory";
  forged.hash = ComputeHash(forged);
  MustExec("UPDATE audit_log SET actor = $1, hash = $2 WHERE seq = 3",
           {storage::Text(forged.actor), storage::Text(forged.hash)});
  const VerifyReport report = MustVerify();
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_EQ(report.problems[0].seq, 4);
  EXPECT_EQ(report.problems[0].kind, "broken_link");
  EXPECT_EQ(report.problems[0].detail, "prev_hash does not match the hash of record 3");
}

TEST_P(AuditTest, QueryFiltersAndPaginatesByCursor) {
  auto log = MustOpen();
  // seq 1..6 at 19:30:01 … 19:30:06
  const std::vector<Record> events = {
      Event("alice", "auth.login", "session"), Event("bob", "setting.write", "setting/a"),
      Event("alice", "file.read", "file/f1"),  Event("alice", "setting.write", "setting/a"),
      Event("carol", "file.read", "file/f1"),  Event("alice", "file.read", "file/f2"),
  };
  for (const Record& e : events) {
    clock_.Advance(1000ms);
    MustAppend(*log, e);
  }
  const auto seqs = [&](const Filter& f) {
    auto page = log->Query(f);
    EXPECT_TRUE(page.ok()) << Describe(page.error());
    std::vector<int64_t> out;
    if (page.ok()) {
      for (const Record& r : page->items) out.push_back(r.seq);
    }
    return out;
  };
  using V = std::vector<int64_t>;
  EXPECT_EQ(seqs({.actor = "alice"}), (V{1, 3, 4, 6}));
  EXPECT_EQ(seqs({.action = "file.read"}), (V{3, 5, 6}));
  EXPECT_EQ(seqs({.resource = "setting/a"}), (V{2, 4}));
  EXPECT_EQ(seqs({.actor = "alice", .action = "file.read"}), (V{3, 6}));
  EXPECT_EQ(seqs({.actor = "nobody"}), V{});
  // [from, to): 19:30:02 up to, not including, 19:30:05; "Z" without a fraction is accepted.
  EXPECT_EQ(seqs({.from = "2026-11-24T19:30:02Z", .to = "2026-11-24T19:30:05.000Z"}), (V{2, 3, 4}));
  EXPECT_EQ(seqs({.from = "2026-11-24T19:30:05.5Z"}), (V{6}));

  // Cursor pagination over alice's records, two at a time.
  auto first = log->Query({.actor = "alice", .limit = 2});
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->items.size(), 2u);
  ASSERT_TRUE(first->next_after_seq.has_value());
  EXPECT_EQ(*first->next_after_seq, 3);
  auto second = log->Query({.actor = "alice", .after_seq = 3, .limit = 2});
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->items.size(), 2u);
  EXPECT_EQ(second->items.back().seq, 6);
  EXPECT_FALSE(second->next_after_seq.has_value());  // exactly the last two: no further page
  EXPECT_EQ(seqs({.after_seq = 6}), V{});

  // Invalid filters name their field.
  for (const auto& [f, field] :
       std::vector<std::pair<Filter, std::string>>{{{.limit = 0}, "limit"},
                                                   {{.limit = 501}, "limit"},
                                                   {{.after_seq = -1}, "after_seq"},
                                                   {{.from = "yesterday"}, "from"},
                                                   {{.to = "2026-11-24T19:30:00+01:00"}, "to"}}) {
    auto page = log->Query(f);
    ASSERT_FALSE(page.ok()) << field;
    EXPECT_EQ(page.error().field, field);
    EXPECT_EQ(page.error().kind, ErrorKind::kInvalidArgument);
  }
}

TEST_P(AuditTest, InvalidRecordsAreRefusedAndTheLogKeepsWorking) {
  auto log = MustOpen();
  Record no_actor = Event("", "auth.login");
  EXPECT_EQ(log->Append(no_actor).error().field, "actor");
  Record bad_details = Event("alice", "auth.login");
  bad_details.details = "[1, 2]";
  EXPECT_EQ(log->Append(bad_details).error().field, "details");
  Record bad_text = Event("alice", "auth.login");
  bad_text.resource = "file/\xff\xfe";
  EXPECT_EQ(log->Append(bad_text).error().field, "resource");
  Record nul = Event("alice", "auth.login");
  nul.reason = std::string("a\0b", 3);
  EXPECT_EQ(log->Append(nul).error().field, "reason");
  Record bad_decision = Event("alice", "auth.login", "session", "maybe");
  EXPECT_EQ(log->Append(bad_decision).error().field, "decision");
  Record empty_details = Event("alice", "auth.login");
  empty_details.details = "";
  MustAppend(*log, empty_details);
  auto page = log->Query({});
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0].details, "{}");
  EXPECT_EQ(page->items[0].seq, 1);
}

TEST_P(AuditTest, DatabaseFailureReachesEveryCallerAndNobodyHangs) {
  auto log = MustOpen({.max_batch = 64, .max_wait = 20ms});
  MustAppend(*log, Event("alice", "auth.login"));
  MustExec("DROP TABLE audit_log");
  std::atomic<int> failures = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      Record r = Event("bob", "file.read");
      const Status s = log->Append(r);
      if (!s.ok()) {
        ++failures;
        EXPECT_EQ(r.seq, 0);
        EXPECT_TRUE(r.hash.empty());
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 8);
  EXPECT_FALSE(Verify(*store_).ok());
  std::ostringstream out;
  EXPECT_EQ(RunVerifyCommand(*store_, out), 2);
  EXPECT_EQ(out.str().rfind("audit verify failed: ", 0), 0u) << out.str();
}

TEST_P(AuditTest, AppendInTransactionCommitsOrRollsBackWithTheStateChange) {
  auto log = MustOpen();
  MustAppend(*log, Event("system", "server.start"));
  {
    auto tx = store_->Begin(storage::TxMode::kWrite);
    ASSERT_TRUE(tx.ok());
    Record r = Event("alice", "setting.write", "setting/x");
    ASSERT_TRUE(AppendInTransaction(*store_, **tx, clock_, r).ok());
    EXPECT_EQ(r.seq, 2);
    // dropped without Commit: rolled back
  }
  {
    auto tx = store_->Begin(storage::TxMode::kWrite);
    ASSERT_TRUE(tx.ok());
    Record r = Event("alice", "setting.write", "setting/y");
    ASSERT_TRUE(AppendInTransaction(*store_, **tx, clock_, r).ok());
    EXPECT_EQ(r.seq, 2);
    ASSERT_TRUE((*tx)->Commit().ok());
  }
  MustAppend(*log, Event("system", "server.stop"));
  const VerifyReport report = MustVerify();
  EXPECT_TRUE(report.intact());
  EXPECT_EQ(report.records, 3);
  auto page = log->Query({.resource = "setting/y"});
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0].seq, 2);
}

TEST_P(AuditTest, ASecondLogOnTheSameStoreContinuesTheChain) {
  // Stands in for a second server process: each transaction reads the head under the lock.
  auto a = MustOpen();
  auto b = MustOpen({.group_commit = false});
  std::thread ta([&] {
    for (int i = 0; i < 50; ++i) ASSERT_TRUE(a->Append(Event("a", "file.read")).ok());
  });
  std::thread tb([&] {
    for (int i = 0; i < 50; ++i) ASSERT_TRUE(b->Append(Event("b", "file.read")).ok());
  });
  ta.join();
  tb.join();
  const VerifyReport report = MustVerify();
  EXPECT_TRUE(report.intact());
  EXPECT_EQ(report.records, 100);
}

INSTANTIATE_TEST_SUITE_P(Backends, AuditTest, ::testing::ValuesIn(storage::TestBackends()),
                         [](const auto& info) { return info.param; });

TEST(CanonicalTest, IsLengthPrefixedInFixedOrder) {
  Record r;
  r.seq = 12;
  r.time = "2026-11-24T19:30:00.000Z";
  r.actor = "alice";
  r.action = "auth.login";
  r.details = "{}";
  r.prev_hash = std::string(kGenesisHash);
  EXPECT_EQ(Canonical(r),
            "zengen.audit.v1"
            "64:" +
                std::string(64, '0') +
                "2:12"
                "24:2026-11-24T19:30:00.000Z"
                "5:alice"
                "0:"
                "10:auth.login"
                "0:0:0:0:"
                "2:{}");
  EXPECT_EQ(ComputeHash(r), crypto::Sha256Hex(Canonical(r)));
}

TEST(CanonicalTest, MovingBytesBetweenFieldsChangesTheHash) {
  Record a;
  a.actor = "ab";
  a.source = "c";
  Record b;
  b.actor = "a";
  b.source = "bc";
  EXPECT_NE(ComputeHash(a), ComputeHash(b));
  Record c = a;
  c.seq = 1;
  EXPECT_NE(ComputeHash(a), ComputeHash(c));
}

TEST(NormaliseTimeTest, AcceptsUtcWithAnyFractionAndRefusesTheRest) {
  EXPECT_EQ(NormaliseTime("2026-11-24T19:30:00Z", "from").value(), "2026-11-24T19:30:00.000Z");
  EXPECT_EQ(NormaliseTime("2026-11-24T19:30:00.5Z", "from").value(), "2026-11-24T19:30:00.500Z");
  EXPECT_EQ(NormaliseTime("2026-11-24T19:30:00.123456789Z", "from").value(),
            "2026-11-24T19:30:00.123Z");
  for (const char* bad :
       {"", "2026-11-24", "2026-11-24T19:30:00", "2026-11-24 19:30:00Z", "2026-13-24T19:30:00Z",
        "2026-11-24T24:00:00Z", "2026-11-24T19:30:00.Z", "2026-11-24T19:30:00+00:00",
        "2026-11-24T19:30:00.1234567890Z", "2026-1a-24T19:30:00Z"}) {
    auto t = NormaliseTime(bad, "to");
    ASSERT_FALSE(t.ok()) << bad;
    EXPECT_EQ(t.error().field, "to");
  }
}

TEST(LogOptionsTest, RefusesNonsense) {
  FakeClock clock(Start());
  auto db = storage::ScratchDatabase::Create("sqlite");
  ASSERT_TRUE(db.ok());
  auto store = storage::OpenStore({.location = db->location()});
  ASSERT_TRUE(store.ok());
  EXPECT_EQ(Log::Open(**store, clock, {.max_batch = 0}).error().field, "max_batch");
  EXPECT_EQ(Log::Open(**store, clock, {.max_wait = -1ms}).error().field, "max_wait");
}

}  // namespace
}  // namespace zengen::audit
