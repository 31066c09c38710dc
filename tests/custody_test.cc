// End-to-end tests over HTTPS against the real zengen binary, on both metadata backends, of the
// analysis assignment (issue 12 findings 2 and 3) and the facility's incoming shipments (issue
// 14), tried as a malicious insider would: an analyst of another analysis centre (`eve`, at
// ana-2) tries to take a specimen ordered from ana-1, to read its FASTQ, to read or make orders,
// and to file a finding about a participant it never analysed, hoping to learn the consent
// verdict from the answer.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "crypto/crypto.h"
#include "support/browser.h"
#include "support/genomics.h"

namespace zengen::testing {
namespace {

using nlohmann::json;
constexpr const char* kPassword = "custody-test-passphrase-2026";

class CustodyE2eTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    server_ = ZengenServer::Start(GetParam());
    ASSERT_NE(server_, nullptr);
    for (const auto& [id, kind] : std::vector<std::pair<std::string, std::string>>{
             {"hosp-a", "hospital"},
             {"seq-1", "sequencing_facility"},
             {"seq-2", "sequencing_facility"},
             {"ana-1", "analysis_center"},
             {"ana-2", "analysis_center"}}) {
      ASSERT_EQ(AsOperator(*server_, "POST", "/api/v1/admin/organisations",
                           {{"id", id}, {"name", id}, {"kind", kind}, {"jurisdiction", "JP"}})
                    ->status,
                201);
    }
    for (const auto& [user, org, role] :
         std::vector<std::tuple<std::string, std::string, std::string>>{
             {"dr-a", "hosp-a", "clinician"},
             {"op", "seq-1", "sequencing_operator"},
             {"op-2", "seq-2", "sequencing_operator"},
             {"ana", "ana-1", "analyst"},
             {"eve", "ana-2", "analyst"}}) {
      auto r = AsOperator(*server_, "POST", "/api/v1/admin/users",
                          {{"id", user}, {"organisation", org}, {"display_name", user},
                           {"email", user + "@example.org"}, {"roles", {role}},
                           {"password", kPassword}});
      ASSERT_EQ(r->status, 201) << r->body;
      Browser b{server_.get()};
      ASSERT_FALSE(b.LoginAndEnrol(user, kPassword).empty()) << user;
      browsers_[user] = b;
    }
    auto t = AsOperator(*server_, "POST", "/api/v1/admin/tokens",
                        {{"name", "sequencer"}, {"organisation", "seq-1"},
                         {"role", "sequencing_operator"},
                         {"actions", {"run.write", "upload.write", "specimen.read"}},
                         {"days", 7}});
    ASSERT_EQ(t->status, 201) << t->body;
    seq_token_ = t->Json()["token"];
  }

  Browser& As(const std::string& user) { return browsers_.at(user); }

  std::string Participant(const std::string& local_id, bool consent = true) {
    auto p = As("dr-a").Send("POST", "/api/v1/participants",
                             {{"local_id", local_id}, {"program", "cancer"},
                              {"disease_category", "lung"}, {"index_date", "2026-03-02"}});
    EXPECT_TRUE(p && p->status == 201) << (p ? p->body : "no answer");
    const std::string id = p->Json()["participant"]["id"];
    if (!consent) return id;
    auto icf = As("dr-a").Send("GET", "/api/v1/icf/cancer/1.0/ja");
    json decisions = json::object();
    const json items = icf->Json()["items"];
    for (const auto& item : items) {
      decisions[item["code"].get<std::string>()] = "permit";
    }
    decisions["C11"] = "deny";
    auto c = As("dr-a").Send("POST", "/api/v1/participants/" + id + "/consents",
                             {{"kind", "initial"}, {"icf_version", "1.0"}, {"language", "ja"},
                              {"decisions", decisions}, {"signed_date", "2026-03-02"},
                              {"details", {{"signer", "self"}, {"method", "paper"}}}});
    EXPECT_TRUE(c && c->status == 201) << (c ? c->body : "no answer");
    return id;
  }

  // A specimen of the participant, shipped to seq-1 and moved on by the facility through
  // `steps` (e.g. received … qc_passed).
  std::string Specimen(const std::string& participant, const std::vector<std::string>& steps) {
    auto sp = As("dr-a").Send("POST", "/api/v1/participants/" + participant + "/specimens",
                              {{"tumour_normal", "tumour"}, {"specimen_type", "solid_tissue"},
                               {"preservation", "FFPE"}, {"collection_date", "2026-03-02"}});
    EXPECT_TRUE(sp && sp->status == 201) << (sp ? sp->body : "no answer");
    const std::string id = sp->Json()["id"];
    EXPECT_EQ(Step("dr-a", id, {{"to", "shipped"}, {"destination", "seq-1"}})->status, 200);
    for (const auto& to : steps) {
      auto r = Step("op", id, {{"to", to}});
      EXPECT_EQ(r->status, 200) << to << ": " << r->body;
    }
    return id;
  }

  std::optional<HttpResponse> Step(const std::string& user, const std::string& specimen,
                                   const json& body) {
    return As(user).Send("POST", "/api/v1/specimens/" + specimen + "/custody", body);
  }
  std::optional<HttpResponse> Order(const std::string& specimen, const std::string& centre) {
    return AsOperator(*server_, "POST", "/api/v1/analysis-orders",
                      {{"specimen_id", specimen}, {"centre", centre}});
  }

  std::optional<HttpResponse> Api(const std::string& method, const std::string& path,
                                  const json& body = nullptr) {
    std::map<std::string, std::string> h = {{"Authorization", "Bearer " + seq_token_}};
    if (!body.is_null()) h["Content-Type"] = "application/json";
    return server_->Request(method, path, h, body.is_null() ? "" : body.dump());
  }

  // Sequences a library_prepared specimen: one single-end FASTQ that passes QC (custody moves
  // to sequenced and qc_passed). Returns the FASTQ's file id.
  std::string Sequence(const std::string& specimen) {
    auto run = Api("POST", "/api/v1/runs",
                   {{"specimen_id", specimen}, {"instrument_model", "NovaSeq X"},
                    {"flowcell", "HCUSTODY"}, {"library", "L1"}, {"layout", "single"}});
    EXPECT_EQ(run->status, 201) << run->body;
    const std::string bytes = Gzip(Fastq(1500, 1));
    auto u = Api("POST", "/api/v1/uploads",
                 {{"kind", "fastq"}, {"run_id", run->Json()["id"]}, {"read", 1},
                  {"file_name", "R1.fastq.gz"}, {"size", bytes.size()},
                  {"sha256", crypto::Sha256Hex(bytes)}, {"chunk_size", 8 << 20}});
    EXPECT_EQ(u->status, 201) << u->body;
    const std::string id = u->Json()["id"];
    auto put = server_->Request("PUT", fmt::format("/api/v1/uploads/{}/chunks/0", id),
                                {{"Authorization", "Bearer " + seq_token_},
                                 {"Content-Type", "application/octet-stream"}},
                                bytes);
    EXPECT_EQ(put->status, 204) << put->body;
    auto done = Api("POST", "/api/v1/uploads/" + id + "/complete");
    EXPECT_EQ(done->status, 200) << done->body;
    EXPECT_EQ(done->Json()["run"]["status"], "qc_passed") << done->body;
    return done->Json()["file"]["id"];
  }

  std::unique_ptr<ZengenServer> server_;
  std::map<std::string, Browser> browsers_;
  std::string seq_token_;
};

// Issue 12 finding 2. On the old code eve's custody step succeeded (200), ana-2 became the
// holder and read the FASTQ in plaintext; the order routes did not exist.
TEST_P(CustodyE2eTest, OnlyTheOrderedCentreTakesCustodyAndReadsTheFastq) {
  const std::string pid = Participant("MRN-1");
  const std::string sp = Specimen(pid, {"received", "library_prepared"});
  const std::string fastq = Sequence(sp);
  const std::string plaintext = "/api/v1/files/" + fastq + "/plaintext";
  const std::string custody = "/api/v1/specimens/" + sp + "/custody";

  // Before any order nobody takes the specimen on.
  EXPECT_EQ(Step("eve", sp, {{"to", "analysed"}})->status, 403);
  EXPECT_EQ(Step("ana", sp, {{"to", "analysed"}})->status, 403);
  // Orders are the data centre's: an analyst cannot order for its own centre.
  EXPECT_EQ(As("eve").Send("POST", "/api/v1/analysis-orders",
                           {{"specimen_id", sp}, {"centre", "ana-2"}})
                ->status,
            403);
  // Bad orders are refused naming the field; a centre of the wrong kind is refused.
  for (const auto& [body, field] : std::vector<std::pair<json, std::string>>{
           {json{{"centre", "ana-1"}}, "specimen_id"},
           {json{{"specimen_id", ""}, {"centre", "ana-1"}}, "specimen_id"},
           {json{{"specimen_id", sp}}, "centre"},
           {json{{"specimen_id", sp}, {"centre", "seq-1"}}, "centre"},
           {json{{"specimen_id", sp}, {"centre", "hosp-a"}}, "centre"}}) {
    auto r = AsOperator(*server_, "POST", "/api/v1/analysis-orders", body);
    EXPECT_EQ(r->status, 400) << body.dump() << r->body;
    EXPECT_EQ(r->ErrorField(), field) << body.dump();
  }
  EXPECT_EQ(Order("SP-0000000000000000", "ana-1")->status, 404);
  auto order = Order(sp, "ana-1");
  ASSERT_EQ(order->status, 201) << order->body;

  // The facility and the ordered centre see the order; eve sees neither it nor the specimen.
  const std::string orders = "/api/v1/analysis-orders?specimen_id=" + sp;
  for (const char* user : {"op", "ana"}) {
    auto r = As(user).Send("GET", orders);
    ASSERT_EQ(r->status, 200) << user << r->body;
    EXPECT_EQ(r->Json()["items"][0]["centre"], "ana-1") << user;
  }
  EXPECT_EQ(As("eve").Send("GET", orders)->status, 403);
  EXPECT_EQ(As("eve").Send("GET", "/api/v1/analysis-orders?specimen_id=")->status, 400);
  EXPECT_EQ(As("eve").Send("GET", "/api/v1/specimens/" + sp)->status, 403);
  EXPECT_TRUE(As("eve").Send("GET", "/api/v1/shipments/incoming")->Json()["items"].empty());
  auto mine = As("ana").Send("GET", "/api/v1/shipments/incoming");
  ASSERT_EQ(mine->status, 200) << mine->body;
  ASSERT_EQ(mine->Json()["items"].size(), 1u);
  EXPECT_EQ(mine->Json()["items"][0]["id"], sp);

  // eve is refused the custody step and the FASTQ, in plaintext and re-encrypted.
  auto stolen = Step("eve", sp, {{"to", "analysed"}});
  EXPECT_EQ(stolen->status, 403) << stolen->body;
  EXPECT_EQ(As("eve").Send("GET", plaintext)->status, 403);
  EXPECT_EQ(As("ana").Send("GET", plaintext)->status, 403) << "inputs come with custody";

  auto taken = Step("ana", sp, {{"to", "analysed"}});
  ASSERT_EQ(taken->status, 200) << taken->body;
  EXPECT_EQ(taken->Json()["holder"], "ana-1");
  EXPECT_EQ(As("ana").Send("GET", "/api/v1/analysis-orders?specimen_id=" + sp)
                ->Json()["items"][0]["state"],
            "started");
  auto bytes = As("ana").Send("GET", plaintext);
  ASSERT_EQ(bytes->status, 200) << bytes->body;
  EXPECT_FALSE(bytes->body.empty());
  // Replays: the same step again changes nothing, for the centre and for eve.
  EXPECT_EQ(Step("ana", sp, {{"to", "analysed"}})->status, 409);
  EXPECT_EQ(Step("eve", sp, {{"to", "analysed"}})->status, 403);
  EXPECT_EQ(As("eve").Send("GET", plaintext)->status, 403);
  EXPECT_EQ(As("eve").Send("GET", "/api/v1/files/" + fastq + "/content?public_key=" +
                                      std::string(43, 'A') + "=")
                ->status,
            403);
  auto history = As("dr-a").Send("GET", "/api/v1/specimens/" + sp);
  EXPECT_EQ(history->Json()["history"].back()["organisation"], "ana-1");
  EXPECT_EQ(history->Json()["history"].size(), 7u) << "one analysed step, no more";
}

TEST_P(CustodyE2eTest, ACancelledOrderLetsNoCentreIn) {
  const std::string pid = Participant("MRN-2");
  const std::string sp =
      Specimen(pid, {"received", "library_prepared", "sequenced", "qc_passed"});
  auto order = Order(sp, "ana-2");
  ASSERT_EQ(order->status, 201) << order->body;
  const std::string cancel =
      "/api/v1/analysis-orders/" + order->Json()["id"].get<std::string>() + "/cancel";
  auto no_reason = AsOperator(*server_, "POST", cancel, json::object());
  EXPECT_EQ(no_reason->status, 400);
  EXPECT_EQ(no_reason->ErrorField(), "reason");
  EXPECT_EQ(As("eve").Send("POST", cancel, {{"reason", "keep it"}})->status, 403);
  EXPECT_EQ(As("op").Send("POST", cancel, {{"reason", "keep it"}})->status, 403);
  ASSERT_EQ(AsOperator(*server_, "POST", cancel, {{"reason", "reassigned"}})->status, 200);
  EXPECT_EQ(AsOperator(*server_, "POST", cancel, {{"reason", "again"}})->status, 409);
  EXPECT_EQ(Step("eve", sp, {{"to", "analysed"}})->status, 403);
  EXPECT_EQ(Step("ana", sp, {{"to", "analysed"}})->status, 403);
  ASSERT_EQ(Order(sp, "ana-1")->status, 201);
  EXPECT_EQ(Step("eve", sp, {{"to", "analysed"}})->status, 403);
  EXPECT_EQ(Step("ana", sp, {{"to", "analysed"}})->status, 200);
}

// Issue 12 finding 3. On the old code eve filed a finding about a participant she never
// analysed (201, with the consent verdict in the answer) and learned a withdrawal from the
// 409 participant_withdrawn.
TEST_P(CustodyE2eTest, AStrangerCentreCannotFileAFindingNorLearnTheConsent) {
  const std::string consented = Participant("MRN-3");
  const std::string withdrawn = Participant("MRN-4");
  const std::string unconsented = Participant("MRN-5", /*consent=*/false);
  for (const std::string& pid : {consented, withdrawn, unconsented}) {
    const std::string sp =
        Specimen(pid, {"received", "library_prepared", "sequenced", "qc_passed"});
    ASSERT_EQ(Order(sp, "ana-1")->status, 201);
    ASSERT_EQ(Step("ana", sp, {{"to", "analysed"}})->status, 200);
  }
  auto w = As("dr-a").Send("POST", "/api/v1/participants/" + withdrawn + "/withdrawal",
                           {{"level", "full"}, {"signed_date", "2026-04-01"}, {"reason", "test"}});
  ASSERT_EQ(w->status, 201) << w->body;
  const auto finding = [](const std::string& pid) {
    return json{{"participant_id", pid},     {"gene", "EGFR"},
                {"variant", "NM_005228.5:c.2573T>G"}, {"origin", "somatic"},
                {"category", "primary"},     {"classification", "pathogenic"},
                {"evidence", "L858R"}};
  };
  std::optional<json> first;
  for (const std::string& pid :
       {consented, withdrawn, unconsented, std::string("ZG-0000000000000000")}) {
    auto r = As("eve").Send("POST", "/api/v1/findings", finding(pid));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 403) << pid << ": " << r->body;
    json e = r->Json()["error"];
    e.erase("request_id");
    if (!first) first = e;
    EXPECT_EQ(e, *first) << "the refusal must not depend on the participant";
  }
  EXPECT_EQ(first->value("code", ""), "not_participant_analyst");
  // The centre that analysed them files, and only then does consent answer.
  EXPECT_EQ(As("ana").Send("POST", "/api/v1/findings", finding(consented))->status, 201);
  auto gone = As("ana").Send("POST", "/api/v1/findings", finding(withdrawn));
  EXPECT_EQ(gone->status, 409);
  EXPECT_EQ(gone->ErrorCode(), "participant_withdrawn");
  EXPECT_TRUE(As("eve").Send("GET", "/api/v1/findings")->Json()["items"].empty());
}

// Issue 14: the destination facility lists, reads and receives or rejects what was shipped to
// it; the ship form's destination picker lists the registered facilities.
TEST_P(CustodyE2eTest, TheFacilityReceivesOrRejectsIncomingShipments) {
  const std::string pid = Participant("MRN-6");
  const std::string a = Specimen(pid, {});
  const std::string b = Specimen(pid, {});
  auto incoming = As("op").Send("GET", "/api/v1/shipments/incoming");
  ASSERT_EQ(incoming->status, 200) << incoming->body;
  ASSERT_EQ(incoming->Json()["items"].size(), 2u);
  EXPECT_EQ(incoming->Json()["items"][0]["destination"], "seq-1");
  EXPECT_TRUE(As("op-2").Send("GET", "/api/v1/shipments/incoming")->Json()["items"].empty());
  EXPECT_EQ(As("op").Send("GET", "/api/v1/specimens/" + a)->status, 200);
  EXPECT_EQ(As("op-2").Send("GET", "/api/v1/specimens/" + a)->status, 403);
  EXPECT_EQ(Step("op", a, {{"to", "received"}})->status, 200);
  auto missing = Step("op", b, {{"to", "rejected"}});
  EXPECT_EQ(missing->status, 400);
  EXPECT_EQ(missing->ErrorField(), "note");
  EXPECT_EQ(Step("op-2", b, {{"to", "rejected"}, {"note", "not ours"}})->status, 403);
  auto rejected = Step("op", b, {{"to", "rejected"}, {"note", "container leaked"}});
  ASSERT_EQ(rejected->status, 200) << rejected->body;
  EXPECT_EQ(rejected->Json()["holder"], "hosp-a");
  EXPECT_TRUE(As("op").Send("GET", "/api/v1/shipments/incoming")->Json()["items"].empty());
  EXPECT_EQ(Step("dr-a", b, {{"to", "shipped"}, {"destination", "seq-2"}})->status, 200);
  EXPECT_EQ(As("op-2").Send("GET", "/api/v1/shipments/incoming")->Json()["items"].size(), 1u);

  auto orgs = As("dr-a").Send("GET", "/api/v1/organisations?kind=sequencing_facility");
  ASSERT_EQ(orgs->status, 200) << orgs->body;
  EXPECT_EQ(orgs->Json()["items"],
            json::array({{{"id", "seq-1"}, {"name", "seq-1"}, {"kind", "sequencing_facility"}},
                         {{"id", "seq-2"}, {"name", "seq-2"}, {"kind", "sequencing_facility"}}}));
  EXPECT_EQ(As("dr-a").Send("GET", "/api/v1/organisations?kind=x")->status, 400);
}

INSTANTIATE_TEST_SUITE_P(Backends, CustodyE2eTest, ::testing::ValuesIn(storage::TestBackends()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace zengen::testing
