// End-to-end tests of participants, consent and specimen custody over HTTPS, on both metadata
// backends (issue 4): hospitals stay apart, a withdrawal takes effect on the very next answer,
// custody moves across organisations step by step.
#include <gtest/gtest.h>

#include <set>

#include "storage/store.h"
#include "support/browser.h"

namespace zengen::testing {
namespace {

using nlohmann::json;
constexpr const char* kPassword = "cohort-test-passphrase-2026";

class CohortTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    server_ = ZengenServer::Start(GetParam());
    ASSERT_NE(server_, nullptr);
    for (const auto& [id, kind] : std::vector<std::pair<std::string, std::string>>{
             {"hosp-a", "hospital"}, {"hosp-b", "hospital"}, {"seq-1", "sequencing_facility"},
             {"ana-1", "analysis_center"}}) {
      ASSERT_EQ(AsOperator(*server_, "POST", "/api/v1/admin/organisations",
                           {{"id", id}, {"name", id}, {"kind", kind}, {"jurisdiction", "JP"}})
                    ->status,
                201);
    }
    for (const auto& [user, org, role] : std::vector<std::tuple<std::string, std::string, std::string>>{
             {"dr-a", "hosp-a", "clinician"}, {"dr-b", "hosp-b", "clinician"},
             {"seq-op", "seq-1", "sequencing_operator"}, {"ana", "ana-1", "analyst"}}) {
      auto r = AsOperator(*server_, "POST", "/api/v1/admin/users",
                          {{"id", user}, {"organisation", org}, {"display_name", user},
                           {"email", user + "@example.org"}, {"roles", {role}},
                           {"password", kPassword}});
      ASSERT_EQ(r->status, 201) << r->body;
      Browser b{server_.get()};
      ASSERT_FALSE(b.LoginAndEnrol(user, kPassword).empty()) << user;
      browsers_[user] = b;
    }
  }
  Browser& As(const std::string& user) { return browsers_.at(user); }

  std::string Register(const std::string& local_id) {
    auto r = As("dr-a").Send("POST", "/api/v1/participants",
                             {{"local_id", local_id}, {"program", "cancer"},
                              {"disease_category", "lung"}, {"index_date", "2026-03-02"}});
    EXPECT_TRUE(r && (r->status == 201 || r->status == 200)) << (r ? r->body : "no answer");
    return r->Json()["participant"]["id"];
  }

  std::unique_ptr<ZengenServer> server_;
  std::map<std::string, Browser> browsers_;
};

TEST_P(CohortTest, RegistrationIsIdempotentAndHospitalsStayApart) {
  const std::string id = Register("MRN-77");
  auto again = As("dr-a").Send("POST", "/api/v1/participants",
                               {{"local_id", "MRN-77"}, {"program", "cancer"},
                                {"disease_category", "lung"}, {"index_date", "2026-03-02"}});
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200);
  EXPECT_EQ(again->Json()["participant"]["id"], id);
  EXPECT_EQ(As("dr-b").Send("GET", "/api/v1/participants/" + id)->status, 403);
  EXPECT_EQ(As("dr-b").Send("GET", "/api/v1/participants/" + id + "/consents")->status, 403);
  auto bad = As("dr-a").Send("POST", "/api/v1/participants",
                             {{"local_id", "MRN-78"}, {"program", "cancer"},
                              {"disease_category", "lung"}, {"index_date", "2026-02-30"}});
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(bad->ErrorField(), "index_date");
}

TEST_P(CohortTest, WithdrawalTakesEffectOnTheVeryNextAnswer) {
  const std::string id = Register("MRN-1");
  auto icf = As("dr-a").Send("GET", "/api/v1/icf/cancer/1.0/ja");
  ASSERT_TRUE(icf);
  ASSERT_EQ(icf->status, 200) << icf->body;
  json decisions = json::object();
  const json items = icf->Json()["items"];
  for (const auto& item : items) decisions[item["code"].get<std::string>()] = "permit";
  decisions["C11"] = "deny";
  auto consent = As("dr-a").Send("POST", "/api/v1/participants/" + id + "/consents",
                                 {{"kind", "initial"}, {"icf_version", "1.0"}, {"language", "ja"},
                                  {"decisions", decisions}, {"signed_date", "2026-03-02"},
                                  {"details", {{"signer", "self"}, {"method", "paper"}}}});
  ASSERT_TRUE(consent);
  ASSERT_EQ(consent->status, 201) << consent->body;
  const std::string permits = "/api/v1/participants/" + id + "/permits?purpose=research&category=GRU";
  auto before = As("dr-a").Send("GET", permits);
  ASSERT_TRUE(before);
  ASSERT_EQ(before->status, 200) << before->body;
  EXPECT_EQ(before->Json()["allowed"], true) << before->body;
  auto w = As("dr-a").Send("POST", "/api/v1/participants/" + id + "/withdrawal",
                           {{"level", "full"}, {"signed_date", "2026-04-01"}, {"reason", "test"}});
  ASSERT_TRUE(w);
  ASSERT_EQ(w->status, 201) << w->body;
  auto after = As("dr-a").Send("GET", permits);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->Json()["allowed"], false) << after->body;
  auto again = As("dr-a").Send("POST", "/api/v1/participants/" + id + "/consents",
                               {{"kind", "modification"}, {"icf_version", "1.0"},
                                {"language", "ja"}, {"decisions", decisions},
                                {"signed_date", "2026-04-02"},
                                {"details", {{"signer", "self"}, {"method", "paper"}}}});
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 409) << "a full withdrawal is final";
  auto history = As("dr-a").Send("GET", "/api/v1/participants/" + id + "/consents");
  ASSERT_TRUE(history);
  EXPECT_EQ(history->Json()["history"].size(), 2u) << "nothing is deleted";
}

TEST_P(CohortTest, CustodyMovesAcrossOrganisationsStepByStep) {
  const std::string id = Register("MRN-2");
  auto sp = As("dr-a").Send("POST", "/api/v1/participants/" + id + "/specimens",
                            {{"tumour_normal", "tumour"}, {"specimen_type", "solid_tissue"},
                             {"preservation", "FFPE"}, {"collection_date", "2026-03-02"}});
  ASSERT_TRUE(sp);
  ASSERT_EQ(sp->status, 201) << sp->body;
  const std::string sid = sp->Json()["id"];
  const std::string custody = "/api/v1/specimens/" + sid + "/custody";
  auto skip = As("dr-a").Send("POST", custody, {{"to", "sequenced"}});
  ASSERT_TRUE(skip);
  EXPECT_EQ(skip->status, 409);
  EXPECT_EQ(skip->ErrorCode(), "invalid_transition");
  EXPECT_EQ(As("seq-op").Send("GET", "/api/v1/specimens/" + sid)->status, 403)
      << "the facility sees the specimen only once it is on its way";
  ASSERT_EQ(As("dr-a").Send("POST", custody, {{"to", "shipped"}, {"destination", "seq-1"}})->status, 200);
  for (const char* to : {"received", "library_prepared", "sequenced", "qc_passed"}) {
    auto r = As("seq-op").Send("POST", custody, {{"to", to}});
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << to << ": " << r->body;
  }
  auto queue = As("seq-op").Send("GET", "/api/v1/specimens?holder=seq-1");
  ASSERT_TRUE(queue);
  EXPECT_EQ(queue->status, 200) << queue->body;
  auto back = As("seq-op").Send("POST", custody, {{"to", "received"}});
  EXPECT_EQ(back->status, 409) << "no step backwards from qc_passed";
  ASSERT_EQ(AsOperator(*server_, "POST", "/api/v1/analysis-orders",
                       {{"specimen_id", sid}, {"centre", "ana-1"}})->status, 201);
  auto done = As("ana").Send("POST", custody, {{"to", "analysed"}});
  ASSERT_TRUE(done);
  EXPECT_EQ(done->status, 200) << done->body;
  auto detail = As("dr-a").Send("GET", "/api/v1/specimens/" + sid);
  ASSERT_TRUE(detail);
  EXPECT_EQ(detail->Json()["state"], "analysed") << detail->body;
  EXPECT_EQ(detail->Json()["history"].size(), 7u) << detail->body;
  EXPECT_EQ(As("dr-b").Send("GET", "/api/v1/specimens/" + sid)->status, 403);
}

TEST_P(CohortTest, ClinicalDraftSubmitAndFhirBundle) {
  const std::string id = Register("MRN-3");
  const std::string base = "/api/v1/participants/" + id + "/clinical/background";
  auto impossible = As("dr-a").Send("PUT", base, {{"data", {{"height_cm", 900}}}, {"reason", ""}});
  ASSERT_TRUE(impossible);
  EXPECT_EQ(impossible->status, 400) << impossible->body;
  EXPECT_EQ(impossible->Json()["problems"][0]["path"], "height_cm") << impossible->body;
  auto draft = As("dr-a").Send("PUT", base, {{"data", {{"height_cm", 170}}}, {"reason", ""}});
  ASSERT_TRUE(draft);
  EXPECT_EQ(draft->status, 200) << draft->body;
  auto submit = As("dr-a").Send("POST", base + "/submit", {{"reason", ""}});
  ASSERT_TRUE(submit);
  EXPECT_EQ(submit->status, 400) << "a draft missing required fields cannot be submitted";
  EXPECT_GE(submit->Json()["problems"].size(), 1u) << submit->body;
  EXPECT_EQ(As("dr-b").Send("GET", base)->status, 403);
  auto bundle = As("dr-a").Send("GET", "/api/v1/participants/" + id + "/fhir/bundle");
  ASSERT_TRUE(bundle);
  ASSERT_EQ(bundle->status, 200) << bundle->body;
  const json b = bundle->Json();
  EXPECT_EQ(b["resourceType"], "Bundle");
  EXPECT_EQ(b["entry"][0]["resource"]["resourceType"], "Patient");
  EXPECT_EQ(b["entry"][0]["resource"]["id"], id);
  EXPECT_EQ(bundle->body.find("MRN-3"), std::string::npos) << "the local id never leaves";
}

// Issue 12 finding 1: a clinician's cohort export and listing never reach another hospital's
// participants, whatever ?hospital= says (missing, empty, another hospital, every hospital).
TEST_P(CohortTest, CohortExportStaysInTheCallersHospital) {
  const std::string own = Register("MRN-10");
  auto theirs = As("dr-b").Send("POST", "/api/v1/participants",
                                {{"local_id", "MRN-20"}, {"program", "cancer"},
                                 {"disease_category", "lung"}, {"index_date", "2026-03-02"}});
  ASSERT_TRUE(theirs && theirs->status == 201);
  const std::string other = theirs->Json()["participant"]["id"];
  auto patients = [](const HttpResponse& r) {
    std::set<std::string> ids;
    const json b = r.Json();
    for (const auto& e : b.value("entry", json::array())) {
      if (e["resource"]["resourceType"] == "Patient") ids.insert(e["resource"]["id"].get<std::string>());
    }
    return ids;
  };
  auto missing = As("dr-a").Send("GET", "/api/v1/fhir/bundle");
  ASSERT_TRUE(missing);
  ASSERT_EQ(missing->status, 200) << missing->body;
  EXPECT_EQ(patients(*missing), std::set<std::string>{own});
  auto empty = As("dr-a").Send("GET", "/api/v1/fhir/bundle?hospital=");
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->status, 400) << empty->body;
  EXPECT_EQ(empty->ErrorField(), "hospital");
  EXPECT_EQ(empty->body.find(other), std::string::npos);
  for (const char* h : {"hosp-b", "*", "%2A"}) {
    auto cross = As("dr-a").Send("GET", std::string("/api/v1/fhir/bundle?hospital=") + h);
    ASSERT_TRUE(cross);
    EXPECT_EQ(cross->status, 403) << h << ": " << cross->body;
    EXPECT_EQ(cross->ErrorCode(), "access_denied") << h;
    EXPECT_EQ(cross->body.find(other), std::string::npos) << h;
  }
  auto list = As("dr-a").Send("GET", "/api/v1/participants");
  ASSERT_TRUE(list && list->status == 200);
  const json items = list->Json()["items"];
  ASSERT_EQ(items.size(), 1u) << list->body;
  EXPECT_EQ(items[0]["id"], own);
  EXPECT_EQ(As("dr-a").Send("GET", "/api/v1/participants/" + other + "/fhir/bundle")->status, 403);
  // The refusals were decided on the other hospital and recorded with the reason.
  auto store = storage::OpenStore({.location = server_->DatabaseLocation(), .migrate = false});
  ASSERT_TRUE(store.ok()) << store.error().message;
  auto tx = (*store)->Begin(storage::TxMode::kRead);
  ASSERT_TRUE(tx.ok());
  auto denied = (*tx)->Query(
      "SELECT reason, details FROM audit_log WHERE action = 'clinical.export' AND decision = "
      "'deny' ORDER BY seq");
  ASSERT_TRUE(denied.ok());
  ASSERT_GE(denied->rows.size(), 3u);
  EXPECT_NE(denied->rows[0].Text(0).find("another organisation"), std::string::npos)
      << denied->rows[0].Text(0);
  EXPECT_NE(denied->rows[0].Text(1).find("hosp-b"), std::string::npos) << denied->rows[0].Text(1);
}

INSTANTIATE_TEST_SUITE_P(Backends, CohortTest, ::testing::ValuesIn(storage::TestBackends()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace zengen::testing
