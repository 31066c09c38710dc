// Genome-file routes over the filter chain (issue 12): each request is decided once on the
// access gate's facts and writes one decision record; a participant's file listing is decided
// once as a whole and shows exactly the rows its record names.
#include "genomefiles/file_routes.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "sequencing/routes_testing.h"

namespace zengen::genomefiles {
namespace {

using nlohmann::json;

class FileRoutesTest : public sequencing::testing::RoutesTest {
 protected:
  void SetUp() override {
    RoutesTest::SetUp();
    if (HasFatalFailure()) return;
    // Participant P0 has a FASTQ sequenced at seq-1 and another at seq-2 (two specimens, each
    // still held by its facility); participant P1 has no file.
    for (const auto& [facility, op] : std::vector<std::pair<std::string, std::string>>{
             {"seq-1", "op-1"}, {"seq-2", "op-2"}}) {
      const std::string run = OpenRun(PreparedSpecimen(participants_[0], facility, op), op);
      const std::string bytes = FastqGz(static_cast<unsigned>(files_.size() + 1));
      files_.push_back(SendAndComplete(OpenUpload(run, op, bytes), op, bytes));
      ASSERT_FALSE(files_.back().empty());
    }
  }

  // The listing's items (ids) and its one record.
  struct Listing {
    int status = 0;
    std::vector<std::string> ids;
    std::vector<AuditEvent> records;
  };
  Listing List(const std::string& participant, const std::string& user) {
    Listing out;
    out.records = RecordsOf([&] {
      auto r = Call("GET", "/api/v1/participants/" + participant + "/files", user);
      out.status = r.status;
      if (r.status == 200) {
        const json body = json::parse(r.body);
        for (const auto& item : body["items"]) out.ids.push_back(item["id"]);
        std::sort(out.ids.begin(), out.ids.end());  // the registry's order ties on the clock
      }
    });
    return out;
  }

  static std::vector<std::string> Sorted(std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
  }

  std::vector<std::string> files_;  // P0's FASTQ at seq-1, then at seq-2
};

TEST_P(FileRoutesTest, AListingIsDecidedOnceAndShowsOnlyTheRowsItsRecordNames) {
  const std::string p = participants_[0];
  for (const auto& [user, expect] : std::vector<std::pair<std::string, std::vector<std::string>>>{
           {"op-1", {files_[0]}}, {"op-2", {files_[1]}}, {"steward", Sorted(files_)}}) {
    const Listing l = List(p, user);
    EXPECT_EQ(l.status, 200) << user;
    EXPECT_EQ(l.ids, expect) << user;
    ASSERT_EQ(l.records.size(), 1u) << user;  // one decision, however many rows
    EXPECT_EQ(l.records[0].decision, "allow");
    EXPECT_EQ(l.records[0].resource, "participant/" + p);
    const json d = json::parse(l.records[0].details);
    auto named = d["files"].get<std::vector<std::string>>();
    std::sort(named.begin(), named.end());
    EXPECT_EQ(named, expect) << user;
    EXPECT_EQ(d["files_listed"], expect.size()) << user;
    EXPECT_EQ(d["files_registered"], 2) << user;
  }
  // None of the participant's files is in the caller's custody, or the role reads no files:
  // one denial.
  for (const char* user : {"an-1", "clin-a"}) {
    const Listing l = List(p, user);
    EXPECT_EQ(l.status, 403) << user;
    ASSERT_EQ(l.records.size(), 1u) << user;
    EXPECT_EQ(l.records[0].decision, "deny") << user;
  }
  // No file at all, or no such participant: a facility cannot tell it from another's files;
  // the data centre sees an empty listing.
  for (const std::string& who : {participants_[1], std::string("PT-NONE")}) {
    EXPECT_EQ(List(who, "op-1").status, 403) << who;
    const Listing l = List(who, "steward");
    EXPECT_EQ(l.status, 200) << who;
    EXPECT_TRUE(l.ids.empty()) << who;
    EXPECT_EQ(l.records.size(), 1u) << who;
  }
}

TEST_P(FileRoutesTest, EachFileRequestIsDecidedOnceOnTheGatesFacts) {
  const std::string f = files_[0];
  const auto pk = crypto::crypt4gh::GenerateKeyPair();
  // The body line of a Crypt4GH public key file is the base64 of the key.
  const std::string pem = crypto::crypt4gh::FormatPublicKey(pk.public_key);
  const auto begin = pem.find('\n') + 1;
  const std::string key = pem.substr(begin, pem.find('\n', begin) - begin);
  struct Case {
    std::string target, user, decision;
    int status;
  };
  for (const Case& c : std::vector<Case>{
           {"/api/v1/files/" + f, "op-1", "allow", 200},
           {"/api/v1/files/" + f, "steward", "allow", 200},
           {"/api/v1/files/" + f, "op-2", "deny", 403},
           {"/api/v1/files/" + f, "clin-a", "deny", 403},
           {"/api/v1/files/" + f + "/content?public_key=" + key, "op-1", "allow", 200},
           {"/api/v1/files/" + f + "/content?public_key=" + key, "op-2", "deny", 403},
           {"/api/v1/files/" + f + "/content", "op-1", "allow", 400},
           {"/api/v1/files/" + f + "/plaintext", "op-1", "deny", 403},
           {"/api/v1/files/" + f + "/plaintext", "an-2", "deny", 403},
       }) {
    http::Response r;
    const auto records = RecordsOf([&] { r = Call("GET", c.target, c.user); });
    EXPECT_EQ(r.status, c.status) << c.target << " as " << c.user << ": " << r.body;
    ASSERT_EQ(records.size(), 1u) << c.target << " as " << c.user;
    EXPECT_EQ(records[0].resource, "file/" + f) << c.target;
    EXPECT_EQ(records[0].decision, c.decision) << c.target << " as " << c.user;
    if (r.status == 200 && c.target.find("/content") != std::string::npos) {
      EXPECT_EQ(r.headers["Content-Type"], std::string(kCrypt4ghMediaType));
      EXPECT_GT(r.content_length, 0);
    }
  }
  // An unknown file: 404 to a role that reads files, denied to others.
  EXPECT_EQ(Call("GET", "/api/v1/files/DF-NONE", "op-2").status, 404);
  EXPECT_EQ(Call("GET", "/api/v1/files/DF-NONE", "clin-a").status, 403);
}

INSTANTIATE_TEST_SUITE_P(Backends, FileRoutesTest, ::testing::ValuesIn(storage::TestBackends()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace zengen::genomefiles
