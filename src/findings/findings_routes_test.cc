#include "findings/findings_routes.h"

#include <gtest/gtest.h>

#include "findings/findings_test_support.h"
#include "support/counting_store.h"

namespace zengen::findings {
namespace {

using http::Request;
using http::Response;
using nlohmann::json;

// Bearer tokens of the tests: user → (organisation, role).
const zengen::testing::People kPeople = {
    {"clin-a", {"hosp-a", "clinician"}}, {"clin-b", {"hosp-b", "clinician"}},
    {"an-1", {"ac-1", "analyst"}},       {"an-2", {"ac-1", "analyst"}},
    {"an-3", {"ac-2", "analyst"}},       {"steward", {"dc", "data_steward"}},
    {"op-1", {"seq-1", "sequencing_operator"}},
};

class FindingRoutesTest : public testing::FindingsFixture {
 protected:
  void SetUp() override {
    FindingsFixture::SetUp();
    http::Router router;
    ASSERT_TRUE(AddFindingRoutes(router, *findings_, clock_).ok());
    // The one decision per request (issue 12), as the audit recorder receives it.
    Serve(std::move(router), kPeople, [this](const Request& req) {
      decisions_.push_back(DecisionText(req));
      return Status::Ok();
    });
  }

  Response Call(const std::string& method, const std::string& target, const std::string& user,
                const std::string& body = "") {
    const size_t before = decisions_.size();
    Response r = FindingsFixture::Call(method, target, user, body);
    // Every request of these routes is decided exactly once: one audit record, no second
    // decision in a handler (issue 12).
    EXPECT_EQ(decisions_.size(), before + 1) << method << " " << target;
    return r;
  }

  Response Step(const std::string& id, const std::string& user, const json& body) {
    return Call("POST", "/api/v1/findings/" + id + "/transitions", user, body.dump());
  }

  static json J(const Response& r) { return json::parse(r.body); }
  static std::string ErrorField(const Response& r) {
    return J(r)["error"].value("field", "");
  }
  static std::string ErrorCode(const Response& r) { return J(r)["error"].value("code", ""); }

  std::vector<std::string> decisions_;
};

TEST_P(FindingRoutesTest, OneFindingWalksFromFilingToDisclosureAcrossTheThreeParties) {
  const std::string pid = NewParticipant();
  // Analysis centre files and triages; a second analyst approves.
  Response filed = Call("POST", "/api/v1/findings", "an-1",
                        json{{"participant_id", pid},
                             {"gene", "BRCA2"},
                             {"variant", "NM_000059.4:c.5946del"},
                             {"origin", "germline"},
                             {"category", "secondary"},
                             {"classification", "pathogenic"},
                             {"evidence", "PVS1, PM2"}}
                            .dump());
  ASSERT_EQ(filed.status, 201) << filed.body;
  const json f = J(filed);
  const std::string id = f["id"];
  EXPECT_EQ(f["state"], "detected");
  EXPECT_EQ(f["acmg_sf_version"], "3.2");
  EXPECT_FALSE(f.contains("local_id")) << "the analysis centre never sees identity (R5.6)";
  EXPECT_EQ(f["allowed_events"], json::array({"classify"}));
  EXPECT_EQ(decisions_.back(), "finding.write finding/ allow");

  // The hospital does not see it yet (as if unknown); another hospital is refused; an unknown
  // id is 404 to a role that may read findings and 403 to one that may not.
  EXPECT_EQ(Call("GET", "/api/v1/findings/" + id, "clin-a").status, 404);
  EXPECT_EQ(Call("GET", "/api/v1/findings/" + id, "clin-b").status, 403);
  EXPECT_EQ(decisions_.back(), "finding.read finding/" + id + " deny");
  EXPECT_EQ(Call("GET", "/api/v1/findings/FD-NONE", "an-3").status, 404);
  EXPECT_EQ(Call("GET", "/api/v1/findings/FD-NONE", "op-1").status, 403);
  EXPECT_EQ(Call("GET", "/api/v1/findings/" + id, "an-3").status, 403);
  EXPECT_EQ(J(Call("GET", "/api/v1/findings", "clin-a"))["items"].size(), 0u);

  ASSERT_EQ(Step(id, "an-1", {{"event", "classify"}}).status, 200);
  ASSERT_EQ(Step(id, "an-1", {{"event", "submit_review"}}).status, 200);
  Response self = Step(id, "an-1", {{"event", "approve"}});
  EXPECT_EQ(self.status, 403);
  EXPECT_EQ(ErrorCode(self), "four_eyes_required");
  Response approved = Step(id, "an-2", {{"event", "approve"}});
  ASSERT_EQ(approved.status, 200) << approved.body;
  EXPECT_EQ(J(approved)["state"], "sent_to_sh");
  EXPECT_EQ(J(approved)["consent"]["verdict"], "permit");

  // The hospital now sees it, with its own patient id; another hospital does not.
  Response seen = Call("GET", "/api/v1/findings/" + id, "clin-a");
  ASSERT_EQ(seen.status, 200) << seen.body;
  EXPECT_EQ(J(seen)["local_id"], "MRN-1");
  EXPECT_EQ(J(seen)["allowed_events"], json::array({"acknowledge"}));
  EXPECT_EQ(Call("GET", "/api/v1/findings/" + id, "clin-b").status, 403);
  EXPECT_EQ(Call("GET", "/api/v1/findings/" + id, "an-3").status, 403);
  EXPECT_EQ(Call("GET", "/api/v1/findings/" + id, "op-1").status, 403);
  Response analyst_view = Call("GET", "/api/v1/findings/" + id, "an-1");
  EXPECT_FALSE(J(analyst_view).contains("local_id"));
  EXPECT_EQ(analyst_view.body.find("MRN-1"), std::string::npos);

  // Two-way messages: the AC asks, the hospital answers in the thread, the data centre reads.
  Response q = Call("POST", "/api/v1/findings/" + id + "/messages", "an-1",
                    json{{"type", "question"}, {"body", "家族歴は? / family history?"}}.dump());
  ASSERT_EQ(q.status, 201) << q.body;
  const std::string qid = J(q)["id"];
  Response a = Call("POST", "/api/v1/findings/" + id + "/messages", "clin-a",
                    json{{"type", "answer"}, {"body", "母: 乳癌"}, {"in_reply_to", qid}}.dump());
  ASSERT_EQ(a.status, 201) << a.body;
  EXPECT_EQ(J(a)["thread_id"], qid);
  Response inbox = Call("GET", "/api/v1/findings/" + id + "/messages", "steward");
  ASSERT_EQ(inbox.status, 200);
  EXPECT_EQ(J(inbox)["unread"], 2);
  Response read = Call("POST", "/api/v1/findings/" + id + "/messages/read", "steward", "{}");
  ASSERT_EQ(read.status, 200) << read.body;
  EXPECT_EQ(J(read)["marked_read"], 2);
  inbox = Call("GET", "/api/v1/findings/" + id + "/messages", "steward");
  EXPECT_EQ(J(inbox)["unread"], 0);
  EXPECT_EQ(J(inbox)["items"][0]["read_by"].size(), 2u);

  // The hospital acknowledges, contacts, counsels, confirms and discloses.
  for (const json& step : {json{{"event", "acknowledge"}}, json{{"event", "start_contact"}},
                           json{{"event", "reached"}, {"via", "participant"}},
                           json{{"event", "order_confirmatory_test"}},
                           json{{"event", "test_positive"}}}) {
    Response r = Step(id, "clin-a", step);
    ASSERT_EQ(r.status, 200) << step.dump() << " " << r.body;
  }
  Response disclosed = Call("GET", "/api/v1/findings/" + id, "an-1");
  EXPECT_EQ(J(disclosed)["state"], "disclosed");
  EXPECT_GE(J(disclosed)["history"].size(), 10u);

  // The report: the hospital prints it in both languages; nobody else may.
  Response ja = Call("GET", "/api/v1/findings/" + id + "/report", "clin-a");
  ASSERT_EQ(ja.status, 200) << ja.body;
  EXPECT_EQ(ja.headers["Content-Type"], "text/html; charset=utf-8");
  EXPECT_NE(ja.body.find("ゲノム解析結果のご報告"), std::string::npos);
  EXPECT_NE(ja.body.find("MRN-1"), std::string::npos);
  Response en = Call("GET", "/api/v1/findings/" + id + "/report?lang=en", "clin-a");
  ASSERT_EQ(en.status, 200);
  EXPECT_NE(en.body.find("Confirmed by a clinical test"), std::string::npos);
  EXPECT_EQ(Call("GET", "/api/v1/findings/" + id + "/report?lang=fr", "clin-a").status, 400);
  EXPECT_EQ(Call("GET", "/api/v1/findings/" + id + "/report", "an-1").status, 403);
  // The centre holding the finding is refused by the one decision (the report's resource is
  // the hospital's alone), not by a second check in the handler.
  EXPECT_EQ(decisions_.back(), "finding.report finding/" + id + " deny");
  EXPECT_EQ(Call("GET", "/api/v1/findings/" + id + "/report", "steward").status, 403);
  EXPECT_EQ(Call("GET", "/api/v1/findings/" + id + "/report", "clin-b").status, 403);

  ASSERT_EQ(Step(id, "clin-a", {{"event", "start_follow_up"}}).status, 200);
  Response closed = Step(id, "clin-a", {{"event", "close_returned"}});
  ASSERT_EQ(closed.status, 200);
  EXPECT_EQ(J(closed)["state"], "closed_returned");
  EXPECT_TRUE(J(closed)["terminal"].get<bool>());
}

TEST_P(FindingRoutesTest, BadInputAnswers4xxNamingTheField) {
  const std::string pid = NewParticipant();
  const json good{{"participant_id", pid},
                  {"gene", "BRCA2"},
                  {"variant", "NM_000059.4:c.5946del"},
                  {"origin", "germline"},
                  {"category", "secondary"},
                  {"classification", "pathogenic"},
                  {"evidence", "PVS1"}};
  struct Case {
    std::string body;
    int status;
    std::string field;
  };
  std::vector<Case> cases = {
      {"{", 400, ""},
      {"[]", 400, ""},
      {json{{"gene", "BRCA2"}}.dump(), 400, "participant_id"},
  };
  for (const auto& [k, v] : good.items()) {
    json missing = good;
    missing.erase(k);
    cases.push_back({missing.dump(), 400, k});
    json wrong = good;
    wrong[k] = 7;
    cases.push_back({wrong.dump(), 400, k});
  }
  json extra = good;
  extra["local_id"] = "MRN-1";
  cases.push_back({extra.dump(), 400, "local_id"});
  json cftr = good;
  cftr["gene"] = "CFTR";
  cases.push_back({cftr.dump(), 409, "gene"});
  json bad_variant = good;
  bad_variant["variant"] = "BRCA2 del";
  cases.push_back({bad_variant.dump(), 400, "variant"});
  for (const auto& c : cases) {
    Response r = Call("POST", "/api/v1/findings", "an-1", c.body);
    EXPECT_EQ(r.status, c.status) << c.body << " " << r.body;
    if (!c.field.empty()) {
      EXPECT_EQ(ErrorField(r), c.field) << c.body;
    }
  }
  EXPECT_EQ(J(Call("GET", "/api/v1/findings", "steward"))["items"].size(), 0u)
      << "no partial writes";
  EXPECT_EQ(Call("POST", "/api/v1/findings", "clin-a", good.dump()).status, 403);

  Response filed = Call("POST", "/api/v1/findings", "an-1", good.dump());
  ASSERT_EQ(filed.status, 201);
  const std::string id = J(filed)["id"];
  EXPECT_EQ(ErrorField(Step(id, "an-1", json::object())), "event");
  EXPECT_EQ(ErrorField(Step(id, "an-1", {{"event", 1}})), "event");
  EXPECT_EQ(ErrorField(Step(id, "an-1", {{"event", "classify"}, {"colour", "red"}})), "colour");
  EXPECT_EQ(ErrorCode(Step(id, "an-1", {{"event", "fly"}})), "invalid_event");
  Response wrong_state = Step(id, "an-1", {{"event", "approve"}});
  EXPECT_EQ(wrong_state.status, 409);
  EXPECT_EQ(ErrorCode(wrong_state), "invalid_transition");
  EXPECT_EQ(Step("FD-NOPE", "an-1", {{"event", "classify"}}).status, 404);
  EXPECT_EQ(ErrorField(Step(id, "an-1", {{"event", "classify"}, {"via", "participant"}})), "via");

  const std::string m = "/api/v1/findings/" + id + "/messages";
  EXPECT_EQ(ErrorField(Call("POST", m, "an-1", json{{"body", "x"}}.dump())), "type");
  EXPECT_EQ(ErrorField(Call("POST", m, "an-1", json{{"type", "note"}}.dump())), "body");
  EXPECT_EQ(ErrorField(Call("POST", m, "an-1",
                            json{{"type", "note"}, {"body", "x"}, {"from_patient", "yes"}}.dump())),
            "from_patient");
  EXPECT_EQ(ErrorField(Call("POST", m + "/read", "an-1", json{{"up_to_seq", "1"}}.dump())),
            "up_to_seq");
  EXPECT_EQ(Call("GET", m, "an-1").status, 200);
  EXPECT_EQ(J(Call("GET", m, "an-1"))["items"].size(), 0u);

  EXPECT_EQ(ErrorField(Call("PUT", "/api/v1/findings-settings", "steward",
                            json{{"acmg_sf_version", "2.0"}}.dump())),
            "acmg_sf_version");
  EXPECT_EQ(ErrorField(Call("PUT", "/api/v1/findings-settings", "steward",
                            json{{"ack_sla_days", "ten"}}.dump())),
            "ack_sla_days");
  EXPECT_EQ(Call("PUT", "/api/v1/findings-settings", "an-1", json::object().dump()).status, 403);
  EXPECT_EQ(J(Call("GET", "/api/v1/findings-settings", "an-1"))["ack_sla_days"], 14);
}

TEST_P(FindingRoutesTest, SettingsTableAcmgAndEscalationRoutes) {
  Response put = Call("PUT", "/api/v1/findings-settings", "steward",
                      json{{"acmg_sf_version", "3.3"}, {"ack_sla_days", 7}}.dump());
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(J(put)["acmg_sf_version"], "3.3");
  EXPECT_EQ(J(put)["ack_sla_days"], 7);
  EXPECT_EQ(J(put)["contact_window_days"], 90);
  Response acmg = Call("GET", "/api/v1/acmg-sf", "an-1");
  ASSERT_EQ(acmg.status, 200);
  EXPECT_EQ(J(acmg)["active"], "3.3");
  EXPECT_EQ(J(acmg)["versions"].size(), 4u);
  Response table = Call("GET", "/api/v1/findings-table", "clin-a");
  ASSERT_EQ(table.status, 200);
  EXPECT_EQ(J(table)["transitions"].size(), TransitionTable().size());
  EXPECT_EQ(Call("GET", "/api/v1/findings-table", "op-1").status, 403);
  EXPECT_EQ(Call("GET", "/api/v1/findings-table", "").status, 401);

  const std::string pid = NewParticipant();
  const std::string id = File(Germline(pid));
  DriveTo(id, "sent_to_sh");
  clock_.Advance(std::chrono::days{7});
  EXPECT_EQ(Call("POST", "/api/v1/findings-escalations", "an-1").status, 403);
  Response tick = Call("POST", "/api/v1/findings-escalations", "steward");
  ASSERT_EQ(tick.status, 200) << tick.body;
  EXPECT_EQ(J(tick)["escalated"], 1);
  EXPECT_EQ(J(Call("GET", "/api/v1/findings/" + id, "clin-a"))["state"], "escalated");
  EXPECT_EQ(J(Call("GET", "/api/v1/findings?state=escalated", "steward"))["items"].size(), 1u);
  EXPECT_EQ(ErrorField(Call("GET", "/api/v1/findings?state=bogus", "steward")), "state");
  Response resend = Step(id, "steward", {{"event", "resend"}});
  ASSERT_EQ(resend.status, 200) << resend.body;
  EXPECT_EQ(J(resend)["state"], "sent_to_sh");

  // Reclassification over HTTP.
  Response re = Call("POST", "/api/v1/findings/" + id + "/reclassify", "an-1",
                     json{{"classification", "likely_benign"}, {"evidence", "ClinVar"}}.dump());
  ASSERT_EQ(re.status, 201) << re.body;
  EXPECT_EQ(J(re)["supersedes"], id);
  EXPECT_EQ(J(Call("GET", "/api/v1/findings/" + id, "an-1"))["state"], "reclassified");
  // The report is not available for a finding that is not being returned.
  EXPECT_EQ(Call("GET", "/api/v1/findings/" + id + "/report", "clin-a").status, 409);
}

TEST_P(FindingRoutesTest, APatientPreferenceChangeInTheThreadClosesTheFinding) {
  const std::string pid = NewParticipant();
  const std::string id = File(Germline(pid));
  DriveTo(id, "contacting");
  const std::string m = "/api/v1/findings/" + id + "/messages";
  EXPECT_EQ(Call("POST", m, "an-1",
                 json{{"type", "preference_change"}, {"body", "x"}, {"decision", "dont_want"}}
                     .dump())
                .status,
            403);
  Response change = Call("POST", m, "clin-a",
                         json{{"type", "preference_change"},
                              {"body", "知りたくない"},
                              {"decision", "dont_want"}}
                             .dump());
  ASSERT_EQ(change.status, 201) << change.body;
  EXPECT_EQ(J(change)["party"], "patient");
  EXPECT_FALSE(J(change)["consent_record_id"].is_null());
  EXPECT_EQ(J(Call("GET", "/api/v1/findings/" + id, "clin-a"))["state"], "closed_by_preference");
}

// The resolver of a route about one finding decides on the finding's row alone: one statement,
// however long the finding's history (it loaded the whole history before).
TEST_P(FindingRoutesTest, TheFindingResolverReadsTheFindingsOneRow) {
  const std::string id = File(Germline(NewParticipant()));
  DriveTo(id, "sh_review");  // four events of history
  zengen::testing::CountingStore counting(*store_);
  Findings counted(counting, clock_, audit_, *ledger_);
  const http::Resolver resolve = ResolveFinding(counted, FindingAudience::kParties);
  Request req;
  req.path_params["id"] = id;
  req.subject = {.authenticated = true,
                 .id = "clin-a",
                 .organisation = "hosp-a",
                 .roles = {"clinician"},
                 .mfa = true};
  const auto target = resolve(req);
  ASSERT_TRUE(target.ok()) << target.error().message;
  EXPECT_EQ(counting.statements(), 1);
  EXPECT_EQ(target->resource.kind, "finding");
  EXPECT_EQ(target->resource.id, id);
  EXPECT_EQ(target->resource.organisation, "hosp-a");
  EXPECT_EQ(target->resource.holder, "ac-1");
}

INSTANTIATE_TEST_SUITE_P(Backends, FindingRoutesTest,
                         ::testing::ValuesIn(storage::TestBackends()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace zengen::findings
