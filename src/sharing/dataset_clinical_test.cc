#include "sharing/dataset_clinical.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "sharing/sharing_test_support.h"

namespace zengen::sharing {
namespace {

using http::Request;
using http::Response;
using nlohmann::json;

class DatasetClinicalTest : public testing::SharingFixture {
 protected:
  void SetUp() override {
    SharingFixture::SetUp();
    ASSERT_TRUE(AddDatasetClinicalRoute(router_, *sharing_, audit_,
                                        [this](std::string_view pid) -> Result<json> {
                                          asked_.emplace_back(pid);
                                          return json{{"program", "cancer"},
                                                      {"clinical",
                                                       {{"case_basics",
                                                         {{"data", {{"sex", "female"}}}}}}}};
                                        })
                    .ok());
  }

  // The route as the router would call it, for a signed-in person (the router's own role check
  // is the route matrix's business; this tests who is listed).
  Response Get(const std::string& dataset, const Actor& who) {
    Request req;
    req.method = "GET";
    req.path = "/api/v1/datasets/" + dataset + "/clinical";
    req.request_id = "req-clinical";
    req.subject = testing::SubjectOf(who);
    const http::Route* route = router_.Find(req.method, req.path).route;
    EXPECT_NE(route, nullptr);
    req.path_params["id"] = dataset;
    return route->handler(req);
  }
  static std::vector<std::string> Listed(const Response& r) {
    std::vector<std::string> out;
    const json body = json::parse(r.body);
    for (const auto& i : body["items"]) out.push_back(i["participant_id"]);
    std::sort(out.begin(), out.end());
    return out;
  }

  http::Router router_;
  std::vector<std::string> asked_;
};

// Issue 14: a grant holder sees the clinical fields of exactly the participants whose files the
// gate lets them read — nobody without a grant, nobody withdrawn — and each answer is audited.
TEST_P(DatasetClinicalTest, ListsOnlyParticipantsTheGateLetsTheCallerRead) {
  const std::string p1 = NewParticipant();
  const std::string p2 = NewParticipant();
  const std::string ds = Dataset({p1, p2}, "cancer", 0);

  Response none = Get(ds, testing::kResearcher);
  ASSERT_EQ(none.status, 200) << none.body;
  EXPECT_TRUE(Listed(none).empty()) << none.body;
  EXPECT_TRUE(asked_.empty()) << "no clinical data is read for a caller without access";

  const std::string grant = Approved(Application(ds), testing::kResearcher);
  ASSERT_FALSE(grant.empty());
  Response both = Get(ds, testing::kResearcher);
  ASSERT_EQ(both.status, 200) << both.body;
  std::vector<std::string> all = {p1, p2};
  std::sort(all.begin(), all.end());
  EXPECT_EQ(Listed(both), all);
  const json first = json::parse(both.body)["items"][0];
  EXPECT_EQ(first["clinical"]["case_basics"]["data"]["sex"], "female");
  ASSERT_EQ(first["files"].size(), 2u) << "CRAM and VCF, no FASTQ (not granted)";
  for (const auto& f : first["files"]) EXPECT_NE(f["data_type"], "fastq");

  Withdraw(p1);
  EXPECT_EQ(Listed(Get(ds, testing::kResearcher)), (std::vector<std::string>{p2}));
  // Another organisation's researcher without a grant: nobody.
  EXPECT_TRUE(Listed(Get(ds, testing::kIndustry)).empty());

  int records = 0;
  for (const auto& e : audit_.events()) {
    if (e.action != "clinical.research_read") continue;
    ++records;
    EXPECT_EQ(e.resource, "dataset/" + ds);
    EXPECT_EQ(e.request_id, "req-clinical");
  }
  EXPECT_EQ(records, 4);
  EXPECT_EQ(Get("DS-NONE", testing::kResearcher).status, 404);
}

INSTANTIATE_TEST_SUITE_P(Backends, DatasetClinicalTest,
                         ::testing::ValuesIn(storage::TestBackends()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace zengen::sharing
