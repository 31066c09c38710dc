#include "clinical/clinical_routes.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include <fmt/format.h>

#include "clinical/synthetic.h"
#include "storage/testing.h"

namespace zengen::clinical {
namespace {

using http::Request;
using http::Response;

class TokenAuthenticator final : public http::Authenticator {
 public:
  Result<http::Subject> Authenticate(const Request& req) override {
    const std::string a = req.Header("Authorization");
    if (a.empty()) return http::Subject{};
    auto subject = [](std::string id, std::string org, std::string role) {
      return http::Subject{.authenticated = true, .id = std::move(id),
                           .organisation = std::move(org), .roles = {std::move(role)},
                           .mfa = true};
    };
    if (a == "Bearer clin-h1") return subject("dr-1", "h1", "clinician");
    if (a == "Bearer clin-h2") return subject("dr-2", "h2", "clinician");
    if (a == "Bearer steward") return subject("st", "dc", "data_steward");
    if (a == "Bearer analyst") return subject("an", "h1", "analyst");
    return Unauthenticated("invalid_credentials", "unknown token");
  }
};

class ClinicalRoutesTest : public ::testing::TestWithParam<std::string> {
 protected:
  ClinicalRoutesTest() : clock_(std::chrono::sys_days{std::chrono::year{2026} / 11 / 24}) {}

  void SetUp() override {
    auto db = storage::ScratchDatabase::Create(GetParam());
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_.emplace(std::move(db).value());
    auto store = storage::OpenStore({.location = db_->location()});
    ASSERT_TRUE(store.ok());
    store_ = std::move(store).value();
    {
      auto tx = store_->Begin(storage::TxMode::kWrite);
      ASSERT_TRUE(tx.ok());
      for (const char* h : {"h1", "h2"}) {
        ASSERT_TRUE((*tx)->Exec("INSERT INTO organisations (id, name, kind, jurisdiction, "
                                "created_at) VALUES ($1, $1, 'hospital', 'JP', 'x')",
                                {storage::Text(h)})
                        .ok());
      }
      int i = 0;
      for (const char* h : {"h1", "h1", "h2"}) {
        ASSERT_TRUE((*tx)->Exec("INSERT INTO participants (id, hospital_id, local_id, program, "
                                "disease_category, index_date, created_by, created_at) VALUES "
                                "($1, $2, $1, 'cancer', 'lung', '2025-04-01', 't', 'x')",
                                {storage::Text(fmt::format("P{}", i++)), storage::Text(h)})
                        .ok());
      }
      ASSERT_TRUE((*tx)->Commit().ok());
    }
    clinical_ = std::make_unique<ClinicalStore>(*store_, clock_, audit_);
    http::Router router;
    ASSERT_TRUE(AddClinicalRoutes(router, *clinical_,
                                  [this](std::string_view id) -> Result<bool> {
                                    return withdrawn_.count(std::string(id)) > 0;
                                  })
                    .ok());
    ASSERT_TRUE(AddWorklistRoute(router, *clinical_, [this](std::string_view id) {
                  const auto it = consent_.find(std::string(id));
                  return Result<std::string>(it == consent_.end() ? "none" : it->second);
                }).ok());
    pipeline_ = std::make_unique<http::Pipeline>(std::move(router));
    pipeline_->AddFilter(std::make_unique<http::RequestIdFilter>());
    pipeline_->AddFilter(
        std::make_unique<http::AuthenticationFilter>(std::make_shared<TokenAuthenticator>()));
    // The one decision per request (issue 12), as the audit recorder sees it.
    pipeline_->AddFilter(std::make_unique<http::PolicyFilter>([this](const Request& r) {
      decisions_.push_back(r.route->action + " " + r.resolved->resource.id + "@" +
                           r.resolved->resource.organisation + " " +
                           (r.decision->allowed() ? "allow" : "deny"));
      return Status::Ok();
    }));
  }
  void TearDown() override {
    pipeline_.reset();
    clinical_.reset();
    store_.reset();
  }

  Response Call(const std::string& method, const std::string& target, const std::string& auth,
                std::string body = "", std::string content_type = "application/json") {
    Request req;
    req.method = method;
    EXPECT_TRUE(http::ParseTarget(target, req).ok()) << target;
    if (!auth.empty()) req.headers["Authorization"] = "Bearer " + auth;
    if (!body.empty()) req.headers["Content-Type"] = content_type;
    req.body = std::move(body);
    req.remote_address = "10.0.0.9";
    return pipeline_->Handle(req, pipeline_->router().Find(req.method, req.path));
  }

  FakeClock clock_;
  RecordingAuditSink audit_;
  std::map<std::string, std::string> consent_ = {{"P0", "active"}, {"P2", "active"}};
  std::optional<storage::ScratchDatabase> db_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<ClinicalStore> clinical_;
  std::unique_ptr<http::Pipeline> pipeline_;
  std::vector<std::string> decisions_;
  std::set<std::string> withdrawn_;  // participants the consent module reports fully withdrawn
};

TEST_P(ClinicalRoutesTest, DictionaryIsPublic) {
  Response r = Call("GET", "/api/v1/dictionary", "");
  ASSERT_EQ(r.status, 200) << r.body;
  const json d = json::parse(r.body);
  EXPECT_EQ(d["version"], "1.0");
  EXPECT_EQ(d["categories"].size(), 6u);
  EXPECT_EQ(d["categories"][0]["label"]["ja"], "症例基本情報");
}

TEST_P(ClinicalRoutesTest, DraftSubmitHistoryAndOverview) {
  Response put = Call("PUT", "/api/v1/participants/P0/clinical/treatment", "clin-h1",
                      R"({"data":{"hsct_given":"yes"}})");
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(json::parse(put.body)["record"]["version"], 1);
  // The category view lists what is still missing.
  Response get = Call("GET", "/api/v1/participants/P0/clinical/treatment", "clin-h1");
  ASSERT_EQ(get.status, 200) << get.body;
  const json g = json::parse(get.body);
  EXPECT_EQ(g["record"]["status"], "draft");
  EXPECT_EQ(g["completeness"]["filled"], 1);
  EXPECT_EQ(g["completeness"]["applicable"], 4);
  EXPECT_EQ(g["problems"].size(), 3u);
  // Submitting it: 400 with every problem.
  Response bad = Call("POST", "/api/v1/participants/P0/clinical/treatment/submit", "clin-h1");
  ASSERT_EQ(bad.status, 400) << bad.body;
  const json b = json::parse(bad.body);
  EXPECT_EQ(b["error"]["code"], "validation_failed");
  EXPECT_EQ(b["error"]["field"], "hsct_day");
  ASSERT_EQ(b["problems"].size(), 3u);
  EXPECT_EQ(b["problems"][1]["path"], "hsct_type");
  EXPECT_EQ(b["problems"][1]["code"], "required");
  EXPECT_FALSE(b["problems"][1]["message"]["ja"].get<std::string>().empty());
  Response ok = Call("POST", "/api/v1/participants/P0/clinical/treatment/submit", "clin-h1",
                     R"({"data":{"hsct_given":"no"}})");
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(json::parse(ok.body)["record"]["status"], "submitted");
  Response no_reason = Call("PUT", "/api/v1/participants/P0/clinical/treatment", "clin-h1",
                            R"({"data":{"hsct_given":"unknown"}})");
  EXPECT_EQ(no_reason.status, 400);
  EXPECT_EQ(json::parse(no_reason.body)["error"]["code"], "reason_required");
  Response hist = Call("GET", "/api/v1/participants/P0/clinical/treatment/history", "steward");
  ASSERT_EQ(hist.status, 200) << hist.body;
  EXPECT_EQ(json::parse(hist.body)["versions"].size(), 2u);
  Response all = Call("GET", "/api/v1/participants/P0/clinical", "clin-h1");
  ASSERT_EQ(all.status, 200) << all.body;
  const json a = json::parse(all.body);
  ASSERT_EQ(a["categories"].size(), 6u);
  EXPECT_EQ(a["categories"][4]["status"], "submitted");
  EXPECT_EQ(a["categories"][4]["complete"], true);
  EXPECT_EQ(a["categories"][0]["status"], "empty");
  EXPECT_EQ(Call("GET", "/api/v1/participants/P0/clinical/nope", "clin-h1").status, 404);
  EXPECT_EQ(Call("GET", "/api/v1/participants/P9/clinical", "clin-h1").status, 404);
}

TEST_P(ClinicalRoutesTest, NestingBombIs400AndNothingIsWritten) {
  // Issue 13 item 1: a body nested 200,000 levels overflowed the stack (the handler copied it).
  constexpr int kLevels = 200000;
  const std::string bomb =
      "{\"data\":" + std::string(kLevels, '[') + std::string(kLevels, ']') + "}";
  Response r = Call("PUT", "/api/v1/participants/P0/clinical/treatment", "clin-h1", bomb);
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(json::parse(r.body)["error"]["code"], "json_too_deep");
  Response get = Call("GET", "/api/v1/participants/P0/clinical/treatment", "clin-h1");
  ASSERT_EQ(get.status, 200) << get.body;
  EXPECT_TRUE(json::parse(get.body)["record"].is_null());
}

TEST_P(ClinicalRoutesTest, AnotherHospitalsClinicianIsRefused) {
  const json data = {{"data", {{"hsct_given", "no"}}}};
  EXPECT_EQ(Call("PUT", "/api/v1/participants/P0/clinical/treatment", "clin-h2", data.dump()).status,
            403);
  // One decision for the request, about the participant's real hospital (no second decision in
  // the handler).
  EXPECT_EQ(decisions_, std::vector<std::string>{"clinical.write P0@h1 deny"});
  EXPECT_EQ(Call("GET", "/api/v1/participants/P0/clinical", "clin-h2").status, 403);
  EXPECT_EQ(Call("GET", "/api/v1/participants/P0/clinical/treatment/history", "clin-h2").status,
            403);
  EXPECT_EQ(Call("GET", "/api/v1/participants/P0/fhir", "clin-h2").status, 403);
  EXPECT_EQ(Call("GET", "/api/v1/participants/P0/clinical", "analyst").status, 403);
  EXPECT_EQ(Call("GET", "/api/v1/participants/P0/clinical", "").status, 401);
  // Stewards read but do not write.
  EXPECT_EQ(Call("GET", "/api/v1/participants/P0/clinical", "steward").status, 200);
  EXPECT_EQ(Call("PUT", "/api/v1/participants/P0/clinical/treatment", "steward", data.dump()).status,
            403);
  EXPECT_EQ(Call("GET", "/api/v1/clinical/export/treatment?hospital=h1", "clin-h2").status, 403);
  // An empty ?hospital= is every hospital, never "unscoped" (issue 12 finding 1): a clinician
  // is refused, a steward exports all.
  EXPECT_EQ(Call("GET", "/api/v1/clinical/export/treatment?hospital=", "clin-h1").status, 403);
  EXPECT_EQ(Call("GET", "/api/v1/clinical/export/treatment", "steward").status, 200);
  EXPECT_EQ(decisions_.back(), "clinical.export treatment@* allow");
  // Clinicians import into their own hospital only; stewards do not write.
  EXPECT_EQ(Call("POST", "/api/v1/clinical/import/treatment", "steward",
                 "participant_id,hsct_given,surgery\n", "text/csv").status,
            403);
  // An unknown participant is 404 to a role that may ask, 403 to one that may not.
  EXPECT_EQ(Call("GET", "/api/v1/participants/P9/clinical", "clin-h1").status, 404);
  EXPECT_EQ(Call("GET", "/api/v1/participants/P9/clinical", "analyst").status, 403);
}

TEST_P(ClinicalRoutesTest, ImportExportAndFhir) {
  // P2 belongs to h2: the whole file is refused and that row reported.
  const std::string header = "participant_id,hsct_given,surgery\n";
  Response bad = Call("POST", "/api/v1/clinical/import/treatment", "clin-h1",
                      header + "P0,no,\nP2,no,\n", "text/csv");
  ASSERT_EQ(bad.status, 400) << bad.body;
  const json b = json::parse(bad.body);
  EXPECT_EQ(b["error"]["code"], "import_rejected");
  ASSERT_EQ(b["problems"].size(), 1u);
  EXPECT_EQ(b["problems"][0]["row"], 3);
  EXPECT_EQ(b["problems"][0]["code"], "wrong_hospital");
  EXPECT_EQ(Call("POST", "/api/v1/clinical/import/treatment", "clin-h1", header,
                 "application/json").status,
            415);
  const std::string surgery =
      R"("[{""day"":3,""procedure"":""lobectomy"",""intent"":""curative"",""residual"":""R0""}]")";
  Response ok = Call("POST", "/api/v1/clinical/import/treatment", "clin-h1",
                     header + "P0,no," + surgery + "\nP1,unknown,\n", "text/csv");
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(json::parse(ok.body)["rows"], 2);
  Response csv = Call("GET", "/api/v1/clinical/export/treatment", "clin-h1");
  ASSERT_EQ(csv.status, 200) << csv.body;
  EXPECT_NE(csv.body.find("P0,"), std::string::npos);
  EXPECT_NE(csv.body.find("lobectomy"), std::string::npos);
  EXPECT_EQ(std::count(csv.body.begin(), csv.body.end(), '\n'), 3);
  const std::string other = Call("GET", "/api/v1/clinical/export/treatment", "clin-h2").body;
  EXPECT_EQ(std::count(other.begin(), other.end(), '\n'), 1);  // header only
  Response fhir = Call("GET", "/api/v1/participants/P0/fhir", "clin-h1");
  ASSERT_EQ(fhir.status, 200) << fhir.body;
  const json f = json::parse(fhir.body);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0]["resourceType"], "Procedure");
  EXPECT_EQ(f[0]["performedDateTime"], "2025-04-04");
  // A steward gets relative days only.
  const json fs = json::parse(Call("GET", "/api/v1/participants/P0/fhir", "steward").body);
  EXPECT_FALSE(fs[0].contains("performedDateTime"));
}

// Issue 12 (found by the consent property test): the CSV export listed a participant who had
// withdrawn fully, which the FHIR cohort export already leaves out.
TEST_P(ClinicalRoutesTest, ExportLeavesOutFullyWithdrawnParticipants) {
  const std::string header = "participant_id,hsct_given,surgery\n";
  ASSERT_EQ(Call("POST", "/api/v1/clinical/import/treatment", "clin-h1",
                 header + "P0,no,\nP1,unknown,\n", "text/csv")
                .status,
            200);
  withdrawn_.insert("P1");
  Response csv = Call("GET", "/api/v1/clinical/export/treatment", "clin-h1");
  ASSERT_EQ(csv.status, 200) << csv.body;
  EXPECT_NE(csv.body.find("\nP0,"), std::string::npos) << csv.body;
  EXPECT_EQ(csv.body.find("P1"), std::string::npos) << csv.body;
}

TEST_P(ClinicalRoutesTest, CodeListsAreForStewards) {
  EXPECT_EQ(Call("PUT", "/api/v1/code-lists/icd10", "clin-h1", "C34.1\n", "text/plain").status,
            403);
  Response ok = Call("PUT", "/api/v1/code-lists/icd10", "steward", "C34.1\nE11.9\n", "text/plain");
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(json::parse(ok.body)["codes"], 2);
  Response bad = Call("PUT", "/api/v1/code-lists/icd10", "steward", "C34.1\nlung\n", "text/plain");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(json::parse(bad.body)["error"]["field"], "line 2");
}

// Issue 14: the code picker reads the loaded codes (clinicians and stewards only).
TEST_P(ClinicalRoutesTest, CodePickerSearchesTheLoadedList) {
  Response none = Call("GET", "/api/v1/code-lists/icd10?q=C34", "clin-h1");
  ASSERT_EQ(none.status, 200) << none.body;
  EXPECT_EQ(json::parse(none.body)["loaded"], false);
  EXPECT_EQ(json::parse(none.body)["codes"], json::array());
  ASSERT_EQ(Call("PUT", "/api/v1/code-lists/icd10", "steward", "C34.1\nC34.9\nE11.9\n",
                 "text/plain")
                .status,
            200);
  Response r = Call("GET", "/api/v1/code-lists/icd10?q=c34&limit=5", "clin-h1");
  ASSERT_EQ(r.status, 200) << r.body;
  const json j = json::parse(r.body);
  EXPECT_EQ(j["loaded"], true);
  EXPECT_EQ(j["size"], 3);
  EXPECT_EQ(j["codes"], json::parse(R"(["C34.1", "C34.9"])"));
  EXPECT_EQ(json::parse(Call("GET", "/api/v1/code-lists/icd10?limit=1", "steward").body)["codes"],
            json::parse(R"(["C34.1"])"));
  EXPECT_EQ(Call("GET", "/api/v1/code-lists/icd10", "analyst").status, 403);
  EXPECT_EQ(Call("GET", "/api/v1/code-lists/icd10", "").status, 401);
  Response unknown = Call("GET", "/api/v1/code-lists/snomed", "clin-h1");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(json::parse(unknown.body)["error"]["field"], "system");
  EXPECT_EQ(Call("GET", "/api/v1/code-lists/icd10?limit=0", "clin-h1").status, 400);
}

// Issue 14: the dictionary's plausibility checks ran only in the browser, so the API stored a
// drug line ending before it starts, a death before the diagnosis and dates in the future.
// The server now refuses them with 400 naming the field, ja/en, and writes nothing.
TEST_P(ClinicalRoutesTest, ImplausibleRecordsAreRefusedNamingTheField) {
  const std::string line =
      R"({"line_no":1,"intent":"adjuvant","regimen_name":"CBDCA+PTX","stop_reason":"completed",)";
  Response r = Call("POST", "/api/v1/participants/P0/clinical/treatment/submit", "clin-h1",
                    R"({"data":{"hsct_given":"no","drug_lines":[)" + line +
                        R"("start_day":30,"end_day":20}]}})");
  ASSERT_EQ(r.status, 400) << r.body;
  json j = json::parse(r.body);
  EXPECT_EQ(j["error"]["code"], "validation_failed");
  EXPECT_EQ(j["error"]["field"], "drug_lines[0].end_day");
  ASSERT_EQ(j["problems"].size(), 2u);
  EXPECT_EQ(j["problems"][0]["code"], "implausible");
  EXPECT_EQ(j["problems"][0]["message_key"], "clinical.check.drug_line_start_before_end");
  EXPECT_EQ(j["problems"][0]["message"]["ja"], "薬物療法の終了日が開始日より前です");
  EXPECT_EQ(j["problems"][0]["message"]["en"], "A drug therapy line ends before it starts");
  EXPECT_TRUE(json::parse(Call("GET", "/api/v1/participants/P0/clinical/treatment", "clin-h1")
                              .body)["record"]
                  .is_null());
  // The same line the right way round is accepted.
  ASSERT_EQ(Call("POST", "/api/v1/participants/P0/clinical/treatment/submit", "clin-h1",
                 R"({"data":{"hsct_given":"no","drug_lines":[)" + line +
                     R"("start_day":20,"end_day":30}]}})")
                .status,
            200);

  // Across categories: a death before the treatment already stored.
  r = Call("PUT", "/api/v1/participants/P0/clinical/course", "clin-h1",
           R"({"data":{"vital_status":"dead","death_day":25}})");
  ASSERT_EQ(r.status, 200) << "cross-field checks wait for submission: " << r.body;
  r = Call("POST", "/api/v1/participants/P0/clinical/course/submit", "clin-h1",
           R"({"data":{"disease_status":"worsened","vital_status":"dead","last_contact_day":25,)"
           R"("death_day":25,"cause_of_death":"index_cancer"}})");
  ASSERT_EQ(r.status, 400) << r.body;
  j = json::parse(r.body);
  EXPECT_EQ(j["error"]["field"], "death_day");
  EXPECT_EQ(j["problems"][0]["message_key"], "clinical.check.events_before_death");

  // A date after today (2026-11-24 = day 602 of the index date 2025-04-01), even in a draft.
  r = Call("PUT", "/api/v1/participants/P1/clinical/course", "clin-h1",
           R"({"data":{"last_contact_day":603}})");
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(json::parse(r.body)["error"]["field"], "last_contact_day");
  EXPECT_EQ(json::parse(r.body)["problems"][0]["message_key"],
            "clinical.check.dates_not_in_future");
  EXPECT_EQ(Call("PUT", "/api/v1/participants/P1/clinical/course", "clin-h1",
                 R"({"data":{"last_contact_day":602}})")
                .status,
            200);
}

// Issue 14: the hospital's worklist — completeness per category and consent actions due.
TEST_P(ClinicalRoutesTest, WorklistShowsTheHospitalsMissingCategoriesAndConsentActions) {
  const Dictionary& d = BuiltinDictionary();
  for (const auto& c : d.categories) {
    ASSERT_EQ(Call("POST", "/api/v1/participants/P0/clinical/" + c.code + "/submit", "clin-h1",
                   json{{"data", SyntheticRecord(d, c.code, "cancer", 7, true, "2025-04-01")}}
                       .dump())
                  .status,
              200)
        << c.code;
  }
  ASSERT_EQ(Call("PUT", "/api/v1/participants/P1/clinical/course", "clin-h1",
                 R"({"data":{"vital_status":"alive"}})")
                .status,
            200);
  Response r = Call("GET", "/api/v1/clinical/worklist", "clin-h1");
  ASSERT_EQ(r.status, 200) << r.body;
  json j = json::parse(r.body);
  ASSERT_EQ(j["total"], 2);  // P0 and P1 of h1; never h2's P2
  EXPECT_EQ(j["items"][0]["participant_id"], "P0");
  EXPECT_EQ(j["items"][0]["local_id"], "P0");
  EXPECT_EQ(j["items"][0]["complete"], 6);
  EXPECT_EQ(j["items"][0]["consent"], "active");
  EXPECT_EQ(j["items"][0]["due"], json::array());
  EXPECT_EQ(j["items"][1]["complete"], 0);
  EXPECT_EQ(j["items"][1]["due"], json::parse(R"(["record_consent", "complete_categories"])"));
  const json course = j["items"][1]["categories"][5];
  EXPECT_EQ(course["category"], "course");
  EXPECT_EQ(course["status"], "draft");
  EXPECT_EQ(course["filled"], 1);
  EXPECT_GT(course["applicable"].get<int>(), 1);

  j = json::parse(Call("GET", "/api/v1/clinical/worklist?filter=consent_due", "clin-h1").body);
  ASSERT_EQ(j["total"], 1);
  EXPECT_EQ(j["items"][0]["participant_id"], "P1");
  j = json::parse(
      Call("GET", "/api/v1/clinical/worklist?sort=least_complete&limit=1", "clin-h1").body);
  EXPECT_EQ(j["total"], 2);
  ASSERT_EQ(j["items"].size(), 1u);
  EXPECT_EQ(j["items"][0]["participant_id"], "P1");
  // A participant who withdrew from new data is flagged, no longer asked for categories.
  consent_["P1"] = "withdrawn_full";
  j = json::parse(Call("GET", "/api/v1/clinical/worklist?filter=withdrawn", "clin-h1").body);
  ASSERT_EQ(j["total"], 1);
  EXPECT_EQ(j["items"][0]["due"], json::parse(R"(["withdrawn"])"));
  // A steward sees every hospital, without the hospitals' local ids.
  j = json::parse(Call("GET", "/api/v1/clinical/worklist", "steward").body);
  EXPECT_EQ(j["total"], 3);
  EXPECT_FALSE(j["items"][2].contains("local_id"));
  EXPECT_EQ(Call("GET", "/api/v1/clinical/worklist", "analyst").status, 403);
  Response bad = Call("GET", "/api/v1/clinical/worklist?filter=late", "clin-h1");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(json::parse(bad.body)["error"]["field"], "filter");
}

INSTANTIATE_TEST_SUITE_P(Backends, ClinicalRoutesTest,
                         ::testing::ValuesIn(storage::TestBackends()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace zengen::clinical
