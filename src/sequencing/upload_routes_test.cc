// Runs and uploads over the filter chain (issue 12): every request is decided once, before its
// handler, on the run's or upload's real owners, and writes exactly one decision record.
#include "sequencing/upload_routes.h"

#include <gtest/gtest.h>

#include "sequencing/routes_testing.h"

namespace zengen::sequencing {
namespace {

using nlohmann::json;
using testing::RoutesTest;

class UploadRoutesTest : public RoutesTest {
 protected:
  // Runs the call and checks it wrote exactly one decision record, about `resource` with
  // `decision`; returns the response.
  http::Response One(const std::string& method, const std::string& target, const std::string& user,
                     const std::string& resource, const std::string& decision,
                     const std::string& body = "",
                     const std::string& content_type = "application/json") {
    http::Response r;
    const auto records = RecordsOf([&] { r = Call(method, target, user, body, content_type); });
    EXPECT_EQ(records.size(), 1u) << method << " " << target << " as " << user;
    if (!records.empty()) {
      EXPECT_EQ(records.front().resource, resource) << method << " " << target << " as " << user;
      EXPECT_EQ(records.front().decision, decision) << method << " " << target << " as " << user;
    }
    return r;
  }
};

TEST_P(UploadRoutesTest, EachRequestIsDecidedOnceOnTheRunsOrUploadsRealOwner) {
  const std::string p = participants_[0];
  const std::string specimen = PreparedSpecimen(p, "seq-1", "op-1");
  const json run_body = {{"specimen_id", specimen}, {"instrument_model", "NovaSeq X"},
                         {"flowcell", "HFLOWCELL"}, {"library", "L1"}, {"layout", "single"}};
  auto created = One("POST", "/api/v1/runs", "op-1", "run", "allow", run_body.dump());
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string run = json::parse(created.body)["id"];
  // Another facility opening a run on a specimen it does not hold: custody refuses it.
  EXPECT_EQ(One("POST", "/api/v1/runs", "op-2", "run", "allow", run_body.dump()).status, 403);

  EXPECT_EQ(One("GET", "/api/v1/runs", "op-1", "run", "allow").status, 200);
  auto one = One("GET", "/api/v1/runs/" + run, "op-1", "run/" + run, "allow");
  EXPECT_EQ(one.status, 200) << one.body;
  // Another facility's run: denied on its real owner, which the record names.
  const auto denied = RecordsOf([&] {
    EXPECT_EQ(Call("GET", "/api/v1/runs/" + run, "op-2").status, 403);
  });
  ASSERT_EQ(denied.size(), 1u);
  EXPECT_EQ(denied.front().decision, "deny");
  const json details = json::parse(denied.front().details);
  EXPECT_EQ(details.value("organisation", ""), "hosp-a");
  EXPECT_EQ(details.value("holder", ""), "seq-1");
  EXPECT_EQ(One("GET", "/api/v1/runs/" + run, "steward", "run/" + run, "allow").status, 200);
  EXPECT_EQ(One("GET", "/api/v1/runs/" + run, "clin-a", "run/" + run, "deny").status, 403);

  const std::string bytes = FastqGz(1);
  const json upload_body = {{"kind", "fastq"}, {"run_id", run}, {"read", 1},
                            {"file_name", "R1.fastq.gz"}, {"size", bytes.size()},
                            {"sha256", crypto::Sha256Hex(bytes)}, {"chunk_size", 8 << 20}};
  // Another facility's run: the upload is refused by the run's facility rule, nothing opens.
  auto foreign = One("POST", "/api/v1/uploads", "op-2", "upload", "allow", upload_body.dump());
  EXPECT_EQ(foreign.status, 403) << foreign.body;
  auto opened = One("POST", "/api/v1/uploads", "op-1", "upload", "allow", upload_body.dump());
  ASSERT_EQ(opened.status, 201) << opened.body;
  const std::string upload = json::parse(opened.body)["id"];
  const std::string u = "upload/" + upload;

  EXPECT_EQ(One("GET", "/api/v1/uploads/" + upload, "op-2", u, "deny").status, 403);
  EXPECT_EQ(One("PUT", "/api/v1/uploads/" + upload + "/chunks/0", "op-2", u, "deny", bytes,
                "application/octet-stream")
                .status,
            403);
  EXPECT_EQ(One("POST", "/api/v1/uploads/" + upload + "/complete", "op-2", u, "deny").status,
            403);
  EXPECT_EQ(One("PUT", "/api/v1/uploads/" + upload + "/chunks/0", "an-1", u, "deny", bytes,
                "application/octet-stream")
                .status,
            403);
  // Nothing the refused callers sent was staged.
  auto progress = One("GET", "/api/v1/uploads/" + upload, "op-1", u, "allow");
  ASSERT_EQ(progress.status, 200);
  EXPECT_EQ(json::parse(progress.body)["missing"], json::array({0}));
  EXPECT_EQ(One("PUT", "/api/v1/uploads/" + upload + "/chunks/0", "op-1", u, "allow", bytes,
                "application/octet-stream")
                .status,
            204);
  auto done = One("POST", "/api/v1/uploads/" + upload + "/complete", "op-1", u, "allow");
  EXPECT_EQ(done.status, 200) << done.body;
  // The run with its file, still one decision.
  auto with_file = One("GET", "/api/v1/runs/" + run, "op-1", "run/" + run, "allow");
  EXPECT_EQ(json::parse(with_file.body)["files"].size(), 1u);
}

TEST_P(UploadRoutesTest, UnknownIdsAre404OnlyToRoleHoldersAndAnEmptyOrganisationMeansOwn) {
  // An unknown id tells a caller nothing it may not know: a role holder learns it is unknown,
  // anyone else is denied, and either way one record is written.
  EXPECT_EQ(One("GET", "/api/v1/runs/RUN-NONE", "op-2", "run/RUN-NONE", "allow").status, 404);
  EXPECT_EQ(One("GET", "/api/v1/runs/RUN-NONE", "clin-a", "run/RUN-NONE", "deny").status, 403);
  EXPECT_EQ(One("GET", "/api/v1/runs/RUN-NONE", "an-1", "run/RUN-NONE", "deny").status, 403);
  EXPECT_EQ(One("GET", "/api/v1/uploads/UP-NONE", "op-2", "upload/UP-NONE", "allow").status, 404);
  EXPECT_EQ(One("GET", "/api/v1/uploads/UP-NONE", "clin-a", "upload/UP-NONE", "deny").status,
            403);
  EXPECT_EQ(One("POST", "/api/v1/uploads/UP-NONE/complete", "clin-a", "upload/UP-NONE", "deny")
                .status,
            403);

  // An empty id (a route matched by hand: the router never captures an empty segment) is
  // unknown, not a collection.
  for (const auto& [user, status] : std::vector<std::pair<std::string, int>>{
           {"op-1", 404}, {"clin-a", 403}}) {
    http::Request req;
    req.method = "GET";
    ASSERT_TRUE(http::ParseTarget("/api/v1/runs/x", req).ok());
    req.headers["Authorization"] = "Bearer " + user;
    auto match = pipeline_->router().Find("GET", "/api/v1/runs/x");
    ASSERT_NE(match.route, nullptr);
    match.params["id"] = "";
    EXPECT_EQ(pipeline_->Handle(req, match).status, status) << user;
  }

  const std::string s1 = PreparedSpecimen(participants_[0], "seq-1", "op-1");
  const std::string s2 = PreparedSpecimen(participants_[0], "seq-2", "op-2");
  const std::string r1 = OpenRun(s1, "op-1");
  const std::string r2 = OpenRun(s2, "op-2");
  // ?organisation= with no value is the caller's own facility, never every facility.
  for (const char* target : {"/api/v1/runs?organisation=", "/api/v1/runs"}) {
    auto own = One("GET", target, "op-1", "run", "allow");
    ASSERT_EQ(own.status, 200);
    const json items = json::parse(own.body)["items"];
    ASSERT_EQ(items.size(), 1u) << target;
    EXPECT_EQ(items[0]["id"], r1) << target;
  }
  EXPECT_EQ(One("GET", "/api/v1/runs?organisation=seq-2", "op-1", "run", "deny").status, 403);
  auto by_steward = One("GET", "/api/v1/runs?organisation=seq-2", "steward", "run", "allow");
  ASSERT_EQ(by_steward.status, 200);
  EXPECT_EQ(json::parse(by_steward.body)["items"][0]["id"], r2);
}

INSTANTIATE_TEST_SUITE_P(Backends, UploadRoutesTest,
                         ::testing::ValuesIn(storage::TestBackends()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace zengen::sequencing
