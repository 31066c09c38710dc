#include "audit/checkpoint.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "crypto/crypto.h"
#include "storage/testing.h"

namespace zengen::audit {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

std::string Describe(const Error& e) { return e.code + ": " + e.message; }

class CheckpointTest : public ::testing::TestWithParam<std::string> {
 protected:
  CheckpointTest()
      : clock_(std::chrono::sys_days{std::chrono::year{2026} / 12 / 6} + 23h),
        dir_(fs::temp_directory_path() / ("zengen-checkpoint-" + crypto::ToHex(crypto::RandomBytes(8)))) {}

  void SetUp() override {
    fs::create_directories(dir_);
    auto db = storage::ScratchDatabase::Create(GetParam());
    ASSERT_TRUE(db.ok()) << Describe(db.error());
    db_.emplace(std::move(db).value());
    auto store = storage::OpenStore({.location = db_->location(), .pool_size = 4});
    ASSERT_TRUE(store.ok()) << Describe(store.error());
    store_ = std::move(store).value();
    auto log = Log::Open(*store_, clock_);
    ASSERT_TRUE(log.ok());
    log_ = std::move(log).value();
  }

  void TearDown() override {
    log_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }

  CheckpointOptions Options() const {
    return {.key_file = dir_ / "keys" / "audit-signing.key", .heads_file = dir_ / "heads.jsonl"};
  }

  Result<std::unique_ptr<Checkpointer>> Open() { return Checkpointer::Open(*store_, clock_, Options()); }

  std::unique_ptr<Checkpointer> MustOpen() {
    auto c = Open();
    EXPECT_TRUE(c.ok()) << Describe(c.error());
    return c.ok() ? std::move(c).value() : nullptr;
  }

  void AppendMany(int n) {
    for (int i = 0; i < n; ++i) {
      clock_.Advance(1s);
      Record r;
      r.actor = "alice";
      r.source = "192.0.2.7";
      r.action = "file.read";
      r.resource = "file/" + std::to_string(i);
      r.decision = i % 7 == 0 ? "deny" : "allow";
      r.reason = "test";
      ASSERT_TRUE(log_->Append(r).ok());
    }
  }

  SignedHead MustCheckpoint(Checkpointer& c) {
    clock_.Advance(1s);
    auto h = c.Checkpoint();
    EXPECT_TRUE(h.ok()) << Describe(h.error());
    return h.ok() ? std::move(h).value() : SignedHead{};
  }

  void MustExec(std::string_view sql, std::initializer_list<storage::Value> params = {}) {
    auto tx = store_->Begin(storage::TxMode::kWrite);
    ASSERT_TRUE(tx.ok()) << Describe(tx.error());
    auto n = (*tx)->Exec(sql, params);
    ASSERT_TRUE(n.ok()) << sql << " → " << Describe(n.error());
    ASSERT_TRUE((*tx)->Commit().ok());
  }

  std::vector<Record> AllRecords() {
    auto tx = store_->Begin(storage::TxMode::kRead);
    EXPECT_TRUE(tx.ok());
    auto records = ReadRecords(**tx, 0, 1'000'000);
    EXPECT_TRUE(records.ok());
    return records.ok() ? std::move(records).value() : std::vector<Record>{};
  }

  // What an attacker with write access to the database does: replaces the whole log with
  // records, renumbered 1, 2, … and re-chained so that the plain chain check passes.
  void RewriteLog(std::vector<Record> records) {
    auto tx = store_->Begin(storage::TxMode::kWrite);
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE((*tx)->Exec("DELETE FROM audit_log").ok());
    std::string prev(kGenesisHash);
    int64_t seq = 0;
    for (Record& r : records) {
      r.seq = ++seq;
      r.prev_hash = prev;
      r.hash = ComputeHash(r);
      prev = r.hash;
      auto n = (*tx)->Exec(
          "INSERT INTO audit_log (seq, time, actor, source, action, resource, decision, reason, "
          "request_id, details, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
          "$11, $12)",
          {storage::Int(r.seq), storage::Text(r.time), storage::Text(r.actor),
           storage::Text(r.source), storage::Text(r.action), storage::Text(r.resource),
           storage::Text(r.decision), storage::Text(r.reason), storage::Text(r.request_id),
           storage::Text(r.details), storage::Text(r.prev_hash), storage::Text(r.hash)});
      ASSERT_TRUE(n.ok()) << Describe(n.error());
    }
    ASSERT_TRUE((*tx)->Commit().ok());
  }

  // Runs `audit verify` (the plain chain) and `audit verify --against` and returns both exit
  // codes and the second's output.
  struct Outcome {
    int chain = -1;
    int against = -1;
    std::string output;
  };
  Outcome VerifyBoth() {
    Outcome o;
    std::ostringstream chain_out, against_out;
    o.chain = RunVerifyCommand(*store_, chain_out);
    o.against = RunVerifyAgainstCommand(*store_, Options().key_file, Options().heads_file,
                                        against_out);
    o.output = against_out.str();
    return o;
  }

  FakeClock clock_;
  fs::path dir_;
  std::optional<storage::ScratchDatabase> db_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<Log> log_;
};

TEST_P(CheckpointTest, CreatesTheKeyFileOwnerOnlyAndSignsVerifiableHeads) {
  AppendMany(5);
  auto c = MustOpen();
  ASSERT_NE(c, nullptr);
  struct stat st {};
  ASSERT_EQ(::stat(Options().key_file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(Options().key_file.parent_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);

  const SignedHead h = MustCheckpoint(*c);
  EXPECT_EQ(h.tree_size, 5);
  EXPECT_TRUE(SignatureValid(h, c->public_key()));
  SignedHead forged = h;
  forged.tree_size = 4;
  EXPECT_FALSE(SignatureValid(forged, c->public_key()));
  ASSERT_EQ(::stat(Options().heads_file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  // The root is the Merkle root over the records' canonical forms.
  merkle::CompactRange tree;
  for (const Record& r : AllRecords()) tree.Append(merkle::LeafHash(Canonical(r)));
  EXPECT_EQ(h.root_hash, tree.Root());

  // No growth, no new head; the file round-trips.
  EXPECT_EQ(MustCheckpoint(*c).timestamp, h.timestamp);
  auto heads = ReadHeadsFile(Options().heads_file);
  ASSERT_TRUE(heads.ok()) << Describe(heads.error());
  ASSERT_EQ(heads->size(), 1u);
  EXPECT_EQ(HeadJson(heads->front()), HeadJson(h));
}

TEST_P(CheckpointTest, AValidLogWithManyHeadsPasses) {
  auto c = MustOpen();
  ASSERT_NE(c, nullptr);
  MustCheckpoint(*c);  // the empty tree
  for (int i = 0; i < 25; ++i) {
    AppendMany(i % 4 == 3 ? 0 : 1 + i);
    MustCheckpoint(*c);
  }
  auto heads = ReadHeadsFile(Options().heads_file);
  ASSERT_TRUE(heads.ok());
  EXPECT_GT(heads->size(), 15u);
  for (size_t i = 1; i < heads->size(); ++i) {
    const SignedHead& prev = (*heads)[i - 1];
    const SignedHead& h = (*heads)[i];
    EXPECT_EQ(h.previous_size, prev.tree_size);
    EXPECT_TRUE(merkle::VerifyConsistency(prev.tree_size, h.tree_size, prev.root_hash,
                                          h.root_hash, h.consistency))
        << "head " << i + 1;
  }
  AppendMany(3);  // records newer than the last head are fine
  const Outcome o = VerifyBoth();
  EXPECT_EQ(o.chain, 0);
  EXPECT_EQ(o.against, 0) << o.output;
  EXPECT_NE(o.output.find(fmt::format("audit log extends all {} signed heads", heads->size())),
            std::string::npos)
      << o.output;
}

TEST_P(CheckpointTest, DeletingAMiddleRecordAndRecomputingTheChainIsDetected) {
  auto c = MustOpen();
  AppendMany(40);
  MustCheckpoint(*c);
  AppendMany(20);
  MustCheckpoint(*c);
  c.reset();
  std::vector<Record> records = AllRecords();
  records.erase(records.begin() + 29);  // seq 30
  RewriteLog(records);
  const Outcome o = VerifyBoth();
  EXPECT_EQ(o.chain, 0) << "the plain chain check cannot see this rewrite";
  EXPECT_EQ(o.against, 1);
  EXPECT_NE(o.output.find("audit log does not extend head 1 (tree size 40"), std::string::npos)
      << o.output;
}

TEST_P(CheckpointTest, TruncatingTheNewestRecordsIsDetected) {
  auto c = MustOpen();
  AppendMany(30);
  MustCheckpoint(*c);
  AppendMany(10);
  MustCheckpoint(*c);
  c.reset();
  MustExec("DELETE FROM audit_log WHERE seq > 35");
  const Outcome o = VerifyBoth();
  EXPECT_EQ(o.chain, 0) << "the plain chain check cannot see a truncation";
  EXPECT_EQ(o.against, 1);
  EXPECT_NE(o.output.find("audit log does not extend head 2 (tree size 40"), std::string::npos)
      << o.output;
  EXPECT_NE(o.output.find("holds only 35 records"), std::string::npos) << o.output;
  // The server refuses to sign over a log shorter than its last head.
  auto reopened = Open();
  ASSERT_FALSE(reopened.ok());
  EXPECT_EQ(reopened.error().code, "audit_log_truncated");
}

TEST_P(CheckpointTest, ModifyingARecordIsDetectedEvenWithTheChainRecomputed) {
  auto c = MustOpen();
  AppendMany(12);
  MustCheckpoint(*c);
  AppendMany(12);
  MustCheckpoint(*c);
  c.reset();
  std::vector<Record> records = AllRecords();
  records[15].decision = records[15].decision == "deny" ? "allow" : "deny";  // seq 16
  RewriteLog(records);
  Outcome o = VerifyBoth();
  EXPECT_EQ(o.chain, 0);
  EXPECT_EQ(o.against, 1);
  EXPECT_NE(o.output.find("audit log does not extend head 2 (tree size 24"), std::string::npos)
      << o.output;
  EXPECT_EQ(o.output.find("head 1 (tree size 12"), std::string::npos) << o.output;

  // Altering without recomputing: both checks see it.
  MustExec("UPDATE audit_log SET reason = 'edited' WHERE seq = 3");
  o = VerifyBoth();
  EXPECT_EQ(o.chain, 1);
  EXPECT_EQ(o.against, 1);
  EXPECT_NE(o.output.find("audit log does not extend head 1 (tree size 12"), std::string::npos)
      << o.output;
}

TEST_P(CheckpointTest, ARestartResumesFromTheHeadsFileWithAConsistencyProof) {
  auto c = MustOpen();
  AppendMany(9);
  const SignedHead first = MustCheckpoint(*c);
  c.reset();
  AppendMany(14);
  c = MustOpen();
  ASSERT_NE(c, nullptr);
  ASSERT_TRUE(c->Latest().has_value());
  EXPECT_EQ(c->Latest()->tree_size, 9);
  const SignedHead second = MustCheckpoint(*c);
  EXPECT_EQ(second.tree_size, 23);
  EXPECT_EQ(second.previous_size, 9);
  EXPECT_TRUE(merkle::VerifyConsistency(9, 23, first.root_hash, second.root_hash,
                                        second.consistency));
  EXPECT_EQ(VerifyBoth().against, 0);
}

TEST_P(CheckpointTest, AForgedOrForeignHeadIsNamed) {
  auto c = MustOpen();
  AppendMany(4);
  MustCheckpoint(*c);
  AppendMany(4);
  SignedHead second = MustCheckpoint(*c);
  c.reset();
  // A head signed with another key, appended by someone who rewrote the file.
  const auto other = crypto::ed25519::Generate();
  second.tree_size = 7;
  second.public_key = other.public_key;
  second.signature = crypto::ed25519::Sign(other, SignedBody(second));
  std::ofstream(Options().heads_file, std::ios::app) << HeadJson(second).dump() << "\n";
  const Outcome o = VerifyBoth();
  EXPECT_EQ(o.against, 1);
  EXPECT_NE(o.output.find("audit log does not extend head 3 (tree size 7"), std::string::npos)
      << o.output;
  EXPECT_NE(o.output.find("signature does not verify"), std::string::npos) << o.output;
  // The server does not resume from a head it did not sign.
  auto reopened = Open();
  ASSERT_FALSE(reopened.ok());
  EXPECT_EQ(reopened.error().code, "head_signature_invalid");
}

TEST_P(CheckpointTest, ATornLastLineIsIgnoredAndAMalformedLineIsNamed) {
  auto c = MustOpen();
  AppendMany(3);
  MustCheckpoint(*c);
  c.reset();
  std::ofstream(Options().heads_file, std::ios::app) << R"({"tree_size":)";
  auto heads = ReadHeadsFile(Options().heads_file);
  ASSERT_TRUE(heads.ok()) << Describe(heads.error());
  EXPECT_EQ(heads->size(), 1u);
  EXPECT_EQ(VerifyBoth().against, 0);
  std::ofstream(Options().heads_file, std::ios::app) << "\n";
  heads = ReadHeadsFile(Options().heads_file);
  ASSERT_FALSE(heads.ok());
  EXPECT_NE(heads.error().message.find("line 2"), std::string::npos) << heads.error().message;
  EXPECT_EQ(VerifyBoth().against, 2);
}

TEST_P(CheckpointTest, ThePeriodicThreadSignsOnceMoreWhenStopped) {
  auto c = MustOpen();
  AppendMany(6);
  c->Start(std::chrono::hours(1));
  c.reset();  // stop: one last checkpoint
  auto heads = ReadHeadsFile(Options().heads_file);
  ASSERT_TRUE(heads.ok());
  ASSERT_EQ(heads->size(), 1u);
  EXPECT_EQ(heads->front().tree_size, 6);
}

INSTANTIATE_TEST_SUITE_P(Backends, CheckpointTest, ::testing::ValuesIn(storage::TestBackends()),
                         [](const auto& info) { return info.param; });

TEST(ParseHeadTest, RefusesMalformedFields) {
  EXPECT_FALSE(ParseHead("[]").ok());
  EXPECT_FALSE(ParseHead(R"({"tree_size":-1})").ok());
  SignedHead h;
  h.tree_size = 2;
  h.root_hash = std::string(32, 'r');
  h.timestamp = "2026-12-06T23:00:00.000Z";
  h.public_key = std::string(32, 'k');
  h.signature = std::string(64, 's');
  ASSERT_TRUE(ParseHead(HeadJson(h).dump()).ok());
  auto j = HeadJson(h);
  j["root_hash"] = "abcd";
  auto bad = ParseHead(j.dump());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, "root_hash");
  j = HeadJson(h);
  j["timestamp"] = "yesterday";
  EXPECT_FALSE(ParseHead(j.dump()).ok());
}

}  // namespace
}  // namespace zengen::audit
