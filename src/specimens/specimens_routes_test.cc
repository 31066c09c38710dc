#include "specimens/specimens_routes.h"

#include <gtest/gtest.h>

#include "identity/identity.h"
#include "specimens/analysis_orders_routes.h"
#include "support/module_fixture.h"

namespace zengen::specimens {
namespace {

using http::Request;
using http::Response;
using nlohmann::json;

// Bearer tokens of the tests: user → (organisation, role).
const zengen::testing::People kPeople = {
    {"clin-a", {"hosp-a", "clinician"}},
    {"clin-b", {"hosp-b", "clinician"}},
    {"op-1", {"seq-1", "sequencing_operator"}},
    {"op-2", {"seq-2", "sequencing_operator"}},
    {"an-1", {"ac-1", "analyst"}},
    {"an-2", {"ac-2", "analyst"}},
    {"steward", {"dc", "data_steward"}},
    {"researcher", {"univ", "researcher"}},
};

class SpecimenRoutesTest : public zengen::testing::ModuleTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(OpenStore({{"hosp-a", "hospital"},
                                       {"hosp-b", "hospital"},
                                       {"seq-1", "sequencing_facility"},
                                       {"seq-2", "sequencing_facility"},
                                       {"ac-1", "analysis_center"},
                                       {"ac-2", "analysis_center"},
                                       {"univ", "academic"},
                                       {"dc", "data_center"}},
                                      /*pool_size=*/2));
    participant_ = RegisterParticipant("MRN-1");
    ASSERT_FALSE(participant_.empty());
    specimens_ = std::make_unique<Specimens>(*store_, clock_, audit_);
    orders_ = std::make_unique<AnalysisOrders>(*store_, clock_, audit_);
    identity_ = std::make_unique<identity::Identity>(*store_, clock_, audit_);
    http::Router router;
    ASSERT_TRUE(AddSpecimenRoutes(router, *specimens_).ok());
    ASSERT_TRUE(AddAnalysisOrderRoutes(router, *orders_).ok());
    ASSERT_TRUE(AddOrganisationDirectoryRoute(router, *identity_).ok());
    // The one decision per request (issue 12), as the audit recorder receives it.
    Serve(std::move(router), kPeople, [this](const Request& req) {
      decisions_.push_back(DecisionText(req));
      return Status::Ok();
    });
  }

  Response Call(const std::string& method, const std::string& target, const std::string& user,
                const std::string& body = "") {
    const size_t before = decisions_.size();
    Response r = ModuleTest::Call(method, target, user, body);
    // Every request of these routes is decided exactly once: one audit record, no second
    // decision in a handler (issue 12).
    EXPECT_EQ(decisions_.size(), before + 1) << method << " " << target;
    return r;
  }

  std::string RegisterOne() {
    Response r = Call("POST", "/api/v1/participants/" + participant_ + "/specimens", "clin-a",
                      R"({"tumour_normal":"normal","specimen_type":"blood",)"
                      R"("preservation":"EDTA","collection_date":"2026-06-01"})");
    EXPECT_EQ(r.status, 201) << r.body;
    return json::parse(r.body).value("id", "");
  }

  Response Step(const std::string& id, const std::string& user, const json& body) {
    return Call("POST", "/api/v1/specimens/" + id + "/custody", user, body.dump());
  }

  static std::string ErrorField(const Response& r) {
    return json::parse(r.body)["error"].value("field", "");
  }

  std::unique_ptr<Specimens> specimens_;
  std::unique_ptr<AnalysisOrders> orders_;
  std::unique_ptr<identity::Identity> identity_;
  std::vector<std::string> decisions_;
  std::string participant_;
};

TEST_P(SpecimenRoutesTest, HospitalRegistersAndReadsItsSpecimens) {
  const std::string id = RegisterOne();
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(decisions_.back(), "specimen.write participant/" + participant_ + " allow");
  Response list = Call("GET", "/api/v1/participants/" + participant_ + "/specimens", "clin-a");
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(json::parse(list.body)["items"][0]["id"], id);
  Response one = Call("GET", "/api/v1/specimens/" + id, "clin-a");
  ASSERT_EQ(one.status, 200) << one.body;
  const json body = json::parse(one.body);
  EXPECT_EQ(body["state"], "collected");
  EXPECT_EQ(body["holder"], "hosp-a");
  EXPECT_EQ(body["allowed_next"], json({"shipped"}));
  EXPECT_EQ(body["history"].size(), 1u);
  EXPECT_EQ(Call("GET", "/api/v1/specimens/SP-NOPE", "clin-a").status, 404);
  EXPECT_EQ(Call("GET", "/api/v1/specimens/" + id, "").status, 401);
}

TEST_P(SpecimenRoutesTest, AnotherHospitalsClinicianIsForbidden) {
  const std::string id = RegisterOne();
  const std::string reg = R"({"tumour_normal":"normal","specimen_type":"blood",)"
                          R"("preservation":"EDTA","collection_date":"2026-06-01"})";
  EXPECT_EQ(
      Call("POST", "/api/v1/participants/" + participant_ + "/specimens", "clin-b", reg).status,
      403);
  EXPECT_EQ(decisions_.back(), "specimen.write participant/" + participant_ + " deny");
  EXPECT_EQ(Call("GET", "/api/v1/participants/" + participant_ + "/specimens", "clin-b").status,
            403);
  EXPECT_EQ(Call("GET", "/api/v1/specimens/" + id, "clin-b").status, 403);
  EXPECT_EQ(Step(id, "clin-b", {{"to", "shipped"}, {"destination", "seq-1"}}).status, 403);
  EXPECT_EQ(Call("GET", "/api/v1/specimens/" + id, "op-1").status, 403);  // not there yet
  EXPECT_EQ(Call("GET", "/api/v1/specimens/" + id, "steward").status, 200);
}

// Issue 12: the cases the handlers used to decide a second time are decided once, by the
// route's resolver and PolicyFilter, on the item's real owner.
TEST_P(SpecimenRoutesTest, EachRouteIsDecidedOnceOnTheRealOwner) {
  const std::string id = RegisterOne();
  // Another organisation's specimen: refused, and the decision names the specimen itself.
  EXPECT_EQ(Call("GET", "/api/v1/specimens/" + id, "clin-b").status, 403);
  EXPECT_EQ(decisions_.back(), "specimen.read specimen/" + id + " deny");
  EXPECT_EQ(Call("GET", "/api/v1/specimens/" + id, "clin-a").status, 200);
  EXPECT_EQ(decisions_.back(), "specimen.read specimen/" + id + " allow");
  // An unknown id: 404 to a role that may read specimens, 403 to a stranger (who learns
  // nothing, not even that the id is unknown); the same for a custody step, whose body is
  // judged only for those admitted.
  EXPECT_EQ(Call("GET", "/api/v1/specimens/SP-NOPE", "op-1").status, 404);
  EXPECT_EQ(Call("GET", "/api/v1/specimens/SP-NOPE", "researcher").status, 403);
  EXPECT_EQ(Step("SP-NOPE", "clin-a", {{"to", "shipped"}}).status, 404);
  EXPECT_EQ(Step("SP-NOPE", "researcher", {{"to", "shipped"}}).status, 403);
  EXPECT_EQ(Step(id, "researcher", json::object()).status, 403);
  EXPECT_EQ(Step(id, "clin-b", json::object()).status, 403);  // another hospital's specimen
  EXPECT_EQ(Call("GET", "/api/v1/participants/ZG-NOPE/specimens", "researcher").status, 403);
  // The holder's listing: its own, not another's; an empty holder names nobody (400 to those
  // who may list, 403 to strangers), never "everyone".
  EXPECT_EQ(Call("GET", "/api/v1/specimens?holder=hosp-a", "clin-a").status, 200);
  EXPECT_EQ(Call("GET", "/api/v1/specimens?holder=hosp-a", "clin-b").status, 403);
  EXPECT_EQ(decisions_.back(), "specimen.read specimen/ deny");
  EXPECT_EQ(Call("GET", "/api/v1/specimens?holder=hosp-a", "steward").status, 200);
  EXPECT_EQ(ErrorField(Call("GET", "/api/v1/specimens?holder=", "clin-a")), "holder");
  EXPECT_EQ(Call("GET", "/api/v1/specimens?holder=", "researcher").status, 403);
  // Counts of every holder are for data-center-wide roles; of one holder, for that holder.
  EXPECT_EQ(Call("GET", "/api/v1/specimen-counts", "clin-a").status, 403);
  EXPECT_EQ(Call("GET", "/api/v1/specimen-counts", "steward").status, 200);
  EXPECT_EQ(Call("GET", "/api/v1/specimen-counts?holder=hosp-a", "clin-a").status, 200);
  EXPECT_EQ(Call("GET", "/api/v1/specimen-counts?holder=hosp-a", "clin-b").status, 403);
  // The orders of a specimen: the parameter is required (400 naming it) for those who may
  // read orders; a stranger is refused first.
  EXPECT_EQ(ErrorField(Call("GET", "/api/v1/analysis-orders", "op-1")), "specimen_id");
  EXPECT_EQ(Call("GET", "/api/v1/analysis-orders", "clin-a").status, 403);
  EXPECT_EQ(Call("GET", "/api/v1/analysis-orders?specimen_id=" + id, "an-2").status, 403);
  EXPECT_EQ(Call("GET", "/api/v1/analysis-orders?specimen_id=" + id, "steward").status, 200);
}

TEST_P(SpecimenRoutesTest, DestinationFacilitySeesTheSpecimenInItsQueueAfterReceipt) {
  const std::string id = RegisterOne();
  Response shipped =
      Step(id, "clin-a", {{"to", "shipped"}, {"destination", "seq-1"}, {"note", "courier 42"}});
  ASSERT_EQ(shipped.status, 200) << shipped.body;
  EXPECT_EQ(json::parse(shipped.body)["destination"], "seq-1");
  EXPECT_EQ(Step(id, "op-2", {{"to", "received"}}).status, 403);
  Response wrong = Step(id, "op-1", {{"to", "sequenced"}});
  EXPECT_EQ(wrong.status, 409) << wrong.body;
  EXPECT_EQ(json::parse(wrong.body)["error"]["code"], "invalid_transition");
  EXPECT_TRUE(
      json::parse(Call("GET", "/api/v1/specimens?holder=seq-1", "op-1").body)["items"].empty());
  Response received = Step(id, "op-1", {{"to", "received"}});
  ASSERT_EQ(received.status, 200) << received.body;
  EXPECT_EQ(json::parse(received.body)["holder"], "seq-1");

  Response queue = Call("GET", "/api/v1/specimens?holder=seq-1&state=received", "op-1");
  ASSERT_EQ(queue.status, 200) << queue.body;
  ASSERT_EQ(json::parse(queue.body)["items"].size(), 1u);
  EXPECT_EQ(json::parse(queue.body)["items"][0]["id"], id);
  Response own = Call("GET", "/api/v1/specimens", "op-1");  // defaults to the caller's own
  EXPECT_EQ(json::parse(own.body)["items"].size(), 1u);
  EXPECT_EQ(Call("GET", "/api/v1/specimens?holder=seq-1", "op-2").status, 403);
  EXPECT_TRUE(json::parse(Call("GET", "/api/v1/specimens", "op-2").body)["items"].empty());
  EXPECT_EQ(Call("GET", "/api/v1/specimens/" + id, "op-1").status, 200);
  EXPECT_EQ(Call("GET", "/api/v1/specimens/" + id, "op-2").status, 403);
  // The hospital still reads its specimen wherever it is.
  EXPECT_EQ(Call("GET", "/api/v1/specimens/" + id, "clin-a").status, 200);

  for (const char* to : {"library_prepared", "sequenced", "qc_passed"}) {
    ASSERT_EQ(Step(id, "op-1", {{"to", to}}).status, 200) << to;
  }
  ASSERT_EQ(Call("POST", "/api/v1/analysis-orders", "steward",
                 json({{"specimen_id", id}, {"centre", "ac-1"}}).dump())
                .status,
            201);
  Response analysed = Step(id, "an-1", {{"to", "analysed"}});
  ASSERT_EQ(analysed.status, 200) << analysed.body;
  EXPECT_EQ(json::parse(analysed.body)["holder"], "ac-1");
  EXPECT_EQ(json::parse(analysed.body)["history"].size(), 7u);

  Response counts = Call("GET", "/api/v1/specimen-counts?holder=ac-1", "an-1");
  ASSERT_EQ(counts.status, 200) << counts.body;
  EXPECT_EQ(json::parse(counts.body)["counts"]["analysed"], 1);
  EXPECT_EQ(Call("GET", "/api/v1/specimen-counts", "an-1").status, 403);
  EXPECT_EQ(Call("GET", "/api/v1/specimen-counts", "steward").status, 200);

  // Every change reached the audit sink.
  int custody = 0;
  for (const auto& e : audit_.events()) {
    if (e.action == "specimen.custody" && e.decision == "allow") {
      ++custody;
      EXPECT_EQ(e.resource, "specimen/" + id);
    }
  }
  EXPECT_EQ(custody, 6);
}

TEST_P(SpecimenRoutesTest, BadInputNamesTheField) {
  const std::string path = "/api/v1/participants/" + participant_ + "/specimens";
  const auto field = [&](const std::string& body) {
    Response r = Call("POST", path, "clin-a", body);
    EXPECT_EQ(r.status, 400) << r.body;
    return ErrorField(r);
  };
  EXPECT_EQ(field(R"({"specimen_type":"blood","preservation":"EDTA",)"
                  R"("collection_date":"2026-06-01"})"),
            "tumour_normal");
  EXPECT_EQ(field(R"({"tumour_normal":"normal","specimen_type":"urine","preservation":"EDTA",)"
                  R"("collection_date":"2026-06-01"})"),
            "specimen_type");
  EXPECT_EQ(field(R"({"tumour_normal":"normal","specimen_type":"blood","preservation":"EDTA",)"
                  R"("collection_date":"2030-01-01"})"),
            "collection_date");
  EXPECT_EQ(field(R"({"tumour_normal":"normal","specimen_type":"blood","preservation":7,)"
                  R"("collection_date":"2026-06-01"})"),
            "preservation");
  EXPECT_EQ(field(R"({"tumour_normal":"normal","specimen_type":"blood","preservation":"EDTA",)"
                  R"("collection_date":"2026-06-01","colour":"red"})"),
            "colour");
  EXPECT_EQ(Call("POST", path, "clin-a", "{not json").status, 400);
  EXPECT_EQ(Call("POST", "/api/v1/participants/ZG-NOPE/specimens", "clin-a", "{}").status, 404);

  const std::string id = RegisterOne();
  EXPECT_EQ(ErrorField(Step(id, "clin-a", json::object())), "to");
  EXPECT_EQ(ErrorField(Step(id, "clin-a", {{"to", "shipped"}})), "destination");
  EXPECT_EQ(ErrorField(Step(id, "clin-a", {{"to", "shipped"}, {"destination", "hosp-b"}})),
            "destination");
  EXPECT_EQ(ErrorField(Step(id, "clin-a", {{"to", "gone"}})), "to");
  EXPECT_EQ(ErrorField(Call("GET", "/api/v1/specimens?state=gone", "op-1")), "state");
  for (const auto& r : pipeline_->router().routes()) {
    if (r->method == "POST") {
      EXPECT_EQ(r->max_body_bytes, kMaxBodyBytes) << r->pattern;
    }
  }
}

TEST_P(SpecimenRoutesTest, CustodyTableIsListed) {
  Response r = Call("GET", "/api/v1/custody-table", "op-2");
  ASSERT_EQ(r.status, 200) << r.body;
  const json body = json::parse(r.body);
  EXPECT_EQ(body["states"].size(), 9u);
  ASSERT_EQ(body["transitions"].size(), CustodyTable().size());
  EXPECT_EQ(body["transitions"][0],
            json({{"from", "collected"},
                  {"to", "shipped"},
                  {"role", "clinician"},
                  {"acting_organisation", "holder"},
                  {"holder_after", "unchanged"},
                  {"needs_destination", true},
                  {"needs_note", false},
                  {"description", std::string(CustodyTable()[0].description)}}));
  EXPECT_EQ(Call("GET", "/api/v1/custody-table", "").status, 401);
}

// Issue 12 finding 2 over the HTTP face: the data centre orders the analysis by ac-1; ac-2
// is refused the custody step and the order list, the holder and ac-1 read the orders.
TEST_P(SpecimenRoutesTest, AnalysisOrdersDecideWhichCentreTakesCustody) {
  const std::string id = RegisterOne();
  ASSERT_EQ(Step(id, "clin-a", {{"to", "shipped"}, {"destination", "seq-1"}}).status, 200);
  for (const char* to : {"received", "library_prepared", "sequenced", "qc_passed"}) {
    ASSERT_EQ(Step(id, "op-1", {{"to", to}}).status, 200) << to;
  }
  const auto order = [&](const std::string& user, const json& body) {
    return Call("POST", "/api/v1/analysis-orders", user, body.dump());
  };
  // Nobody takes it on before an order exists.
  EXPECT_EQ(Step(id, "an-1", {{"to", "analysed"}}).status, 403);
  EXPECT_EQ(order("op-1", {{"specimen_id", id}, {"centre", "ac-1"}}).status, 403);
  EXPECT_EQ(order("an-1", {{"specimen_id", id}, {"centre", "ac-1"}}).status, 403);
  EXPECT_EQ(ErrorField(order("steward", {{"centre", "ac-1"}})), "specimen_id");
  EXPECT_EQ(ErrorField(order("steward", {{"specimen_id", id}})), "centre");
  EXPECT_EQ(ErrorField(order("steward", {{"specimen_id", id}, {"centre", ""}})), "centre");
  EXPECT_EQ(ErrorField(order("steward", {{"specimen_id", id}, {"centre", "seq-1"}})), "centre");
  EXPECT_EQ(ErrorField(order("steward", {{"specimen_id", id}, {"centre", "ac-1"}, {"x", 1}})),
            "x");
  EXPECT_EQ(order("steward", {{"specimen_id", "SP-NOPE"}, {"centre", "ac-1"}}).status, 404);
  Response made = order("steward", {{"specimen_id", id}, {"centre", "ac-1"}});
  ASSERT_EQ(made.status, 201) << made.body;
  const json o = json::parse(made.body);
  EXPECT_EQ(o["centre"], "ac-1");
  EXPECT_EQ(o["state"], "open");
  EXPECT_EQ(o["closed_at"], nullptr);
  EXPECT_EQ(order("steward", {{"specimen_id", id}, {"centre", "ac-2"}}).status, 409);

  const std::string list = "/api/v1/analysis-orders?specimen_id=" + id;
  EXPECT_EQ(ErrorField(Call("GET", "/api/v1/analysis-orders", "op-1")), "specimen_id");
  EXPECT_EQ(ErrorField(Call("GET", "/api/v1/analysis-orders?specimen_id=", "op-1")),
            "specimen_id");
  for (const char* user : {"op-1", "an-1", "steward"}) {
    Response r = Call("GET", list, user);
    ASSERT_EQ(r.status, 200) << user << r.body;
    EXPECT_EQ(json::parse(r.body)["items"].size(), 1u) << user;
  }
  for (const char* user : {"an-2", "op-2", "clin-a", "clin-b", "researcher"}) {
    EXPECT_EQ(Call("GET", list, user).status, 403) << user;
  }
  // The ordered centre sees the specimen before it takes custody; another centre does not.
  EXPECT_EQ(Call("GET", "/api/v1/specimens/" + id, "an-1").status, 200);
  EXPECT_EQ(Call("GET", "/api/v1/specimens/" + id, "an-2").status, 403);
  Response incoming = Call("GET", "/api/v1/shipments/incoming", "an-1");
  ASSERT_EQ(incoming.status, 200) << incoming.body;
  EXPECT_EQ(json::parse(incoming.body)["items"][0]["id"], id);
  EXPECT_TRUE(json::parse(Call("GET", "/api/v1/shipments/incoming", "an-2").body)["items"].empty());

  Response stolen = Step(id, "an-2", {{"to", "analysed"}});
  EXPECT_EQ(stolen.status, 403) << stolen.body;
  EXPECT_EQ(decisions_.back(), "specimen.custody specimen/" + id + " deny");
  Response taken = Step(id, "an-1", {{"to", "analysed"}});
  ASSERT_EQ(taken.status, 200) << taken.body;
  EXPECT_EQ(json::parse(taken.body)["holder"], "ac-1");
  EXPECT_EQ(Step(id, "an-1", {{"to", "analysed"}}).status, 409);  // replay
  EXPECT_EQ(Step(id, "an-2", {{"to", "analysed"}}).status, 403);  // replay by another
  Response after = Call("GET", list, "an-1");
  EXPECT_EQ(json::parse(after.body)["items"][0]["state"], "started");

  // Cancelling: a reason is required, and only an open order is cancelled.
  const std::string cancel = "/api/v1/analysis-orders/" + o["id"].get<std::string>() + "/cancel";
  EXPECT_EQ(ErrorField(Call("POST", cancel, "steward", "{}")), "reason");
  EXPECT_EQ(ErrorField(Call("POST", cancel, "steward", R"({"reason":""})")), "reason");
  EXPECT_EQ(Call("POST", cancel, "an-1", R"({"reason":"busy"})").status, 403);
  EXPECT_EQ(Call("POST", cancel, "steward", R"({"reason":"late"})").status, 409);
  EXPECT_EQ(Call("POST", "/api/v1/analysis-orders/AO-NOPE/cancel", "steward",
                 R"({"reason":"typo"})")
                .status,
            404);
}

// Issue 14: the destination facility lists and reads a shipment in transit, receives it or
// rejects it with a reason; the hospital may ship a rejected specimen again.
TEST_P(SpecimenRoutesTest, TheDestinationListsReadsAndRejectsIncomingShipments) {
  const std::string id = RegisterOne();
  EXPECT_TRUE(json::parse(Call("GET", "/api/v1/shipments/incoming", "op-1").body)["items"].empty());
  ASSERT_EQ(Step(id, "clin-a", {{"to", "shipped"}, {"destination", "seq-1"}}).status, 200);
  Response incoming = Call("GET", "/api/v1/shipments/incoming", "op-1");
  ASSERT_EQ(incoming.status, 200) << incoming.body;
  const json items = json::parse(incoming.body)["items"];
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0]["id"], id);
  EXPECT_EQ(items[0]["destination"], "seq-1");
  EXPECT_EQ(items[0]["allowed_next"], json({"received", "rejected"}));
  EXPECT_TRUE(json::parse(Call("GET", "/api/v1/shipments/incoming", "op-2").body)["items"].empty());
  EXPECT_EQ(Call("GET", "/api/v1/shipments/incoming", "").status, 401);
  EXPECT_EQ(Call("GET", "/api/v1/specimens/" + id, "op-1").status, 200);
  EXPECT_EQ(Call("GET", "/api/v1/specimens/" + id, "op-2").status, 403);

  EXPECT_EQ(ErrorField(Step(id, "op-1", {{"to", "rejected"}})), "note");
  EXPECT_EQ(ErrorField(Step(id, "op-1", {{"to", "rejected"}, {"note", ""}})), "note");
  EXPECT_EQ(Step(id, "op-2", {{"to", "rejected"}, {"note", "not ours"}}).status, 403);
  Response rejected = Step(id, "op-1", {{"to", "rejected"}, {"note", "haemolysed"}});
  ASSERT_EQ(rejected.status, 200) << rejected.body;
  EXPECT_EQ(json::parse(rejected.body)["holder"], "hosp-a");
  EXPECT_EQ(json::parse(rejected.body)["history"].back()["note"], "haemolysed");
  EXPECT_EQ(Step(id, "op-1", {{"to", "rejected"}, {"note", "again"}}).status, 403);
  EXPECT_EQ(Call("GET", "/api/v1/specimens/" + id, "op-1").status, 403);
  EXPECT_TRUE(json::parse(Call("GET", "/api/v1/shipments/incoming", "op-1").body)["items"].empty());
  ASSERT_EQ(Step(id, "clin-a", {{"to", "shipped"}, {"destination", "seq-2"}}).status, 200);
  EXPECT_EQ(json::parse(Call("GET", "/api/v1/shipments/incoming", "op-2").body)["items"].size(),
            1u);
  EXPECT_EQ(Step(id, "op-2", {{"to", "received"}}).status, 200);
}

TEST_P(SpecimenRoutesTest, TheOrganisationDirectoryGivesIdNameAndKind) {
  Response all = Call("GET", "/api/v1/organisations", "clin-a");
  ASSERT_EQ(all.status, 200) << all.body;
  EXPECT_EQ(json::parse(all.body)["items"].size(), 8u);
  Response seq = Call("GET", "/api/v1/organisations?kind=sequencing_facility", "clin-a");
  ASSERT_EQ(seq.status, 200) << seq.body;
  const json items = json::parse(seq.body)["items"];
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0], json({{"id", "seq-1"}, {"name", "seq-1"}, {"kind", "sequencing_facility"}}));
  for (const char* kind : {"analysis_centre", "analysis_center"}) {
    Response ac = Call("GET", std::string("/api/v1/organisations?kind=") + kind, "op-1");
    EXPECT_EQ(json::parse(ac.body)["items"].size(), 2u) << kind;
  }
  EXPECT_EQ(ErrorField(Call("GET", "/api/v1/organisations?kind=lab", "clin-a")), "kind");
  EXPECT_EQ(Call("GET", "/api/v1/organisations", "").status, 401);
  EXPECT_EQ(Call("GET", "/api/v1/organisations", "researcher").status, 403);
}

INSTANTIATE_TEST_SUITE_P(Backends, SpecimenRoutesTest, ::testing::ValuesIn(storage::TestBackends()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace zengen::specimens
