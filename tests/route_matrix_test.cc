// The route × role × organisation matrix (issue 12), generated from the router itself and run
// over HTTPS against the real binary on both metadata backends.
//
// `zengen routes` lists every route the server registers. Each must have a row in kRows below,
// which says what its path names: a fixture object with a real owner (a participant of
// hosp-a, its specimen held by ana-1, its run at seq-1, its BAM file) or nothing (a collection or
// an unknown id, decided within the caller's own scope). For every route × every role × the
// owning and another organisation of that role's kind (a researcher without a grant; for
// genome-data routes also after the participant's full withdrawal), the expected answer is
// computed from the policy rule table — policy::Decide on the object's real owner — and compared
// with the server's: a denial must be 403 (401 for nobody here: everyone is signed in), an
// allowed request must not be refused by the policy (not 401, not 403 access_denied). A route
// that is registered but missing from kRows fails the test, so a new route cannot be added
// without saying what it touches.
#include <gtest/gtest.h>

#include <set>
#include <sstream>

#include <fmt/format.h>

#include "crypto/crypto.h"
#include "crypto/totp.h"
#include "policy/policy.h"
#include "storage/store.h"
#include "support/browser.h"
#include "support/genomics.h"
#include "support/server_fixture.h"

namespace zengen::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
constexpr const char* kPassword = "route-matrix-passphrase-2026";
const fs::path kFixtures = ZENGEN_FIXTURES_DIR;

// What a route's path names.
enum class Names {
  kScope,        // a collection or an unknown id: the caller's own scope
  kParticipant,  // the participant P (hosp-a)
  kSpecimen,     // P's specimen (hospital hosp-a, held by ana-1)
  kRun,          // P's run (hospital hosp-a, facility seq-1)
  kFile,         // P's BAM (hospital hosp-a, held by ana-1; P's live consent)
  kPublic,       // public routes: allowed to everyone
  kEvery,        // every organisation at once ("*"): data-center-wide roles only
  kUpload,       // the upload of P's FASTQ (hospital hosp-a, uploaded by seq-1)
  kFacility,     // seq-1's collection (its runs)
};

struct Row {
  std::string method, pattern;
  Names names;
  std::string path;  // with {P} {S} {R} {F} for the fixture ids
  json body = nullptr;
};

// Every registered route. Bodies are empty or minimal: a request the policy allows may fail
// on validation (4xx), which is fine; only the policy's answer is compared.
const std::vector<Row> kRows = {
    {"GET", "/healthz", Names::kPublic, "/healthz"},
    {"GET", "/readyz", Names::kPublic, "/readyz"},
    {"GET", "/api/v1/version", Names::kPublic, "/api/v1/version"},
    {"GET", "/api/v1/settings", Names::kPublic, "/api/v1/settings"},
    {"GET", "/api/v1/settings/{key}", Names::kPublic, "/api/v1/settings/program_name"},
    {"PUT", "/api/v1/settings/{key}", Names::kScope, "/api/v1/settings/none", json::object()},
    {"GET", "/api/v1/storage/sites", Names::kScope, "/api/v1/storage/sites"},
    {"GET", "/api/v1/storage/migrations", Names::kScope, "/api/v1/storage/migrations"},
    {"POST", "/api/v1/storage/migrations", Names::kScope, "/api/v1/storage/migrations",
     json::object()},
    {"POST", "/api/v1/auth/login", Names::kPublic, "/api/v1/auth/login", json::object()},
    {"POST", "/api/v1/auth/logout", Names::kScope, ""},  // ends the session: not probed
    {"GET", "/api/v1/auth/session", Names::kScope, "/api/v1/auth/session"},
    {"POST", "/api/v1/auth/mfa/enrol", Names::kScope, ""},   // would re-enrol: not probed
    {"POST", "/api/v1/auth/mfa/confirm", Names::kScope, "/api/v1/auth/mfa/confirm",
     json::object()},
    {"POST", "/api/v1/auth/mfa/verify", Names::kScope, "/api/v1/auth/mfa/verify",
     json::object()},
    {"GET", "/api/v1/admin/organisations", Names::kScope, "/api/v1/admin/organisations"},
    {"POST", "/api/v1/admin/organisations", Names::kScope, "/api/v1/admin/organisations",
     json::object()},
    {"GET", "/api/v1/admin/users", Names::kScope, "/api/v1/admin/users"},
    {"GET", "/api/v1/admin/users/{id}", Names::kScope, "/api/v1/admin/users/none"},
    {"POST", "/api/v1/admin/users", Names::kScope, "/api/v1/admin/users", json::object()},
    {"POST", "/api/v1/admin/users/{id}/disable", Names::kScope, "/api/v1/admin/users/none/disable"},
    {"POST", "/api/v1/admin/users/{id}/enable", Names::kScope, "/api/v1/admin/users/none/enable"},
    {"POST", "/api/v1/admin/users/{id}/reset-mfa", Names::kScope,
     "/api/v1/admin/users/none/reset-mfa"},
    {"POST", "/api/v1/admin/users/{id}/unlock", Names::kScope, "/api/v1/admin/users/none/unlock"},
    {"POST", "/api/v1/admin/users/{id}/roles/{role}/remove", Names::kScope,
     "/api/v1/admin/users/none/roles/researcher/remove", json::object()},
    {"GET", "/api/v1/admin/groups", Names::kScope, "/api/v1/admin/groups"},
    {"POST", "/api/v1/admin/groups", Names::kScope, "/api/v1/admin/groups", json::object()},
    {"POST", "/api/v1/admin/groups/{id}/members", Names::kScope,
     "/api/v1/admin/groups/none/members", json::object()},
    {"POST", "/api/v1/admin/groups/{id}/members/{user}/remove", Names::kScope,
     "/api/v1/admin/groups/none/members/nobody/remove"},
    {"POST", "/api/v1/admin/users/{id}/roles", Names::kScope, "/api/v1/admin/users/none/roles",
     json::object()},
    {"POST", "/api/v1/admin/users/{id}/enrolment-code", Names::kScope,
     "/api/v1/admin/users/none/enrolment-code", json::object()},
    {"GET", "/api/v1/admin/role-grants", Names::kScope, "/api/v1/admin/role-grants"},
    {"POST", "/api/v1/admin/role-grants/{id}/approve", Names::kScope,
     "/api/v1/admin/role-grants/RG-NONE/approve", json::object()},
    {"GET", "/api/v1/admin/tokens", Names::kScope, "/api/v1/admin/tokens"},
    {"POST", "/api/v1/admin/tokens", Names::kScope, "/api/v1/admin/tokens", json::object()},
    {"POST", "/api/v1/auth/tokens", Names::kScope, "/api/v1/auth/tokens", json::object()},
    {"GET", "/api/v1/auth/tokens", Names::kScope, "/api/v1/auth/tokens"},
    {"POST", "/api/v1/auth/tokens/{id}/revoke", Names::kScope, "/api/v1/auth/tokens/none/revoke"},
    {"POST", "/api/v1/admin/tokens/{id}/revoke", Names::kScope,
     "/api/v1/admin/tokens/none/revoke"},
    {"GET", "/api/v1/audit", Names::kScope, "/api/v1/audit?limit=1"},
    {"GET", "/api/v1/audit/head", Names::kPublic, "/api/v1/audit/head"},
    {"POST", "/api/v1/participants", Names::kScope, "/api/v1/participants", json::object()},
    {"GET", "/api/v1/participants", Names::kScope, "/api/v1/participants"},
    {"GET", "/api/v1/participants/{id}", Names::kParticipant, "/api/v1/participants/{P}"},
    {"GET", "/api/v1/icf", Names::kPublic, "/api/v1/icf"},
    {"GET", "/api/v1/icf/{program}/{version}/{language}", Names::kPublic,
     "/api/v1/icf/cancer/1.0/ja"},
    {"POST", "/api/v1/icf", Names::kScope, "/api/v1/icf", json::object()},
    {"GET", "/api/v1/participants/{id}/consents", Names::kParticipant,
     "/api/v1/participants/{P}/consents"},
    {"POST", "/api/v1/participants/{id}/consents", Names::kParticipant,
     "/api/v1/participants/{P}/consents", json::object()},
    {"POST", "/api/v1/participants/{id}/withdrawal", Names::kParticipant,
     "/api/v1/participants/{P}/withdrawal", json::object()},
    {"GET", "/api/v1/participants/{id}/permits", Names::kParticipant,
     "/api/v1/participants/{P}/permits?purpose=research&category=GRU"},
    {"POST", "/api/v1/participants/{id}/specimens", Names::kParticipant,
     "/api/v1/participants/{P}/specimens", json::object()},
    {"GET", "/api/v1/participants/{id}/specimens", Names::kParticipant,
     "/api/v1/participants/{P}/specimens"},
    {"GET", "/api/v1/specimens/{id}", Names::kSpecimen, "/api/v1/specimens/{S}"},
    // A step the analysed specimen can never take: nothing moves, whoever asks.
    {"POST", "/api/v1/specimens/{id}/custody", Names::kSpecimen, "/api/v1/specimens/{S}/custody",
     json{{"to", "received"}}},
    {"GET", "/api/v1/specimens", Names::kScope, "/api/v1/specimens"},
    {"GET", "/api/v1/shipments/incoming", Names::kScope, "/api/v1/shipments/incoming"},
    {"POST", "/api/v1/analysis-orders", Names::kScope, "/api/v1/analysis-orders", json::object()},
    {"GET", "/api/v1/analysis-orders", Names::kScope, "/api/v1/analysis-orders"},
    {"POST", "/api/v1/analysis-orders/{id}/cancel", Names::kScope,
     "/api/v1/analysis-orders/AO-NONE/cancel", json::object()},
    // Analysis runs (issue 16): unknown run ids, decided in the caller's scope; the provenance
    // of a file that no run produced.
    {"POST", "/api/v1/analysis/runs", Names::kScope, "/api/v1/analysis/runs", json::object()},
    {"GET", "/api/v1/analysis/runs", Names::kScope, "/api/v1/analysis/runs"},
    {"GET", "/api/v1/analysis/runs/{id}", Names::kScope, "/api/v1/analysis/runs/AR-NONE"},
    {"GET", "/api/v1/analysis/runs/{id}/log", Names::kScope, "/api/v1/analysis/runs/AR-NONE/log"},
    {"POST", "/api/v1/analysis/runs/{id}/cancel", Names::kScope,
     "/api/v1/analysis/runs/AR-NONE/cancel", json::object()},
    {"POST", "/api/v1/analysis/runs/{id}/retry", Names::kScope,
     "/api/v1/analysis/runs/AR-NONE/retry", json::object()},
    {"GET", "/api/v1/analysis/runs/{id}/provenance", Names::kScope,
     "/api/v1/analysis/runs/AR-NONE/provenance"},
    {"GET", "/api/v1/files/{id}/provenance", Names::kFile, "/api/v1/files/{F}/provenance"},
    {"GET", "/api/v1/analysis/references", Names::kScope, "/api/v1/analysis/references"},
    {"GET", "/api/v1/analysis/candidates", Names::kScope, "/api/v1/analysis/candidates"},
    {"GET", "/api/v1/analysis-order-rules", Names::kScope, "/api/v1/analysis-order-rules"},
    {"PUT", "/api/v1/analysis-order-rules/{program}", Names::kScope,
     "/api/v1/analysis-order-rules/none", json::object()},
    {"DELETE", "/api/v1/analysis-order-rules/{program}", Names::kScope,
     "/api/v1/analysis-order-rules/none"},
    {"GET", "/api/v1/organisations", Names::kScope, "/api/v1/organisations"},
    // Without ?holder= the counts span every holder.
    {"GET", "/api/v1/specimen-counts", Names::kEvery, "/api/v1/specimen-counts"},
    {"GET", "/api/v1/custody-table", Names::kScope, "/api/v1/custody-table"},
    {"POST", "/api/v1/findings", Names::kScope, "/api/v1/findings", json::object()},
    {"GET", "/api/v1/findings", Names::kScope, "/api/v1/findings"},
    {"GET", "/api/v1/findings/{id}", Names::kScope, "/api/v1/findings/FD-NONE"},
    {"POST", "/api/v1/findings/{id}/transitions", Names::kScope,
     "/api/v1/findings/FD-NONE/transitions", json::object()},
    {"POST", "/api/v1/findings/{id}/reclassify", Names::kScope,
     "/api/v1/findings/FD-NONE/reclassify", json::object()},
    {"GET", "/api/v1/findings/{id}/messages", Names::kScope, "/api/v1/findings/FD-NONE/messages"},
    {"POST", "/api/v1/findings/{id}/messages", Names::kScope, "/api/v1/findings/FD-NONE/messages",
     json::object()},
    {"POST", "/api/v1/findings/{id}/messages/read", Names::kScope,
     "/api/v1/findings/FD-NONE/messages/read", json::object()},
    {"GET", "/api/v1/findings/{id}/report", Names::kScope, "/api/v1/findings/FD-NONE/report"},
    {"GET", "/api/v1/findings-table", Names::kScope, "/api/v1/findings-table"},
    {"GET", "/api/v1/acmg-sf", Names::kScope, "/api/v1/acmg-sf"},
    {"GET", "/api/v1/findings-settings", Names::kScope, "/api/v1/findings-settings"},
    {"PUT", "/api/v1/findings-settings", Names::kScope, "/api/v1/findings-settings",
     json{{"ack_sla_days", -1}}},
    {"POST", "/api/v1/findings-escalations", Names::kScope, "/api/v1/findings-escalations"},
    {"GET", "/api/v1/dictionary", Names::kPublic, "/api/v1/dictionary"},
    {"GET", "/api/v1/participants/{id}/clinical", Names::kParticipant,
     "/api/v1/participants/{P}/clinical"},
    {"GET", "/api/v1/participants/{id}/clinical/{category}", Names::kParticipant,
     "/api/v1/participants/{P}/clinical/background"},
    {"PUT", "/api/v1/participants/{id}/clinical/{category}", Names::kParticipant,
     "/api/v1/participants/{P}/clinical/background", json::object()},
    {"POST", "/api/v1/participants/{id}/clinical/{category}/submit", Names::kParticipant,
     "/api/v1/participants/{P}/clinical/background/submit", json::object()},
    {"GET", "/api/v1/participants/{id}/clinical/{category}/history", Names::kParticipant,
     "/api/v1/participants/{P}/clinical/background/history"},
    {"GET", "/api/v1/participants/{id}/fhir", Names::kParticipant,
     "/api/v1/participants/{P}/fhir"},
    {"POST", "/api/v1/clinical/import/{category}", Names::kScope,
     "/api/v1/clinical/import/background", json::object()},
    {"GET", "/api/v1/clinical/export/{category}", Names::kScope,
     "/api/v1/clinical/export/background"},
    {"GET", "/api/v1/clinical/worklist", Names::kScope, "/api/v1/clinical/worklist"},
    {"PUT", "/api/v1/code-lists/{system}", Names::kScope, "/api/v1/code-lists/icd10",
     json::object()},
    {"GET", "/api/v1/code-lists/{system}", Names::kScope, "/api/v1/code-lists/icd10"},
    {"GET", "/api/v1/participants/{id}/fhir/bundle", Names::kParticipant,
     "/api/v1/participants/{P}/fhir/bundle"},
    {"GET", "/api/v1/fhir/bundle", Names::kScope, "/api/v1/fhir/bundle"},
    {"POST", "/api/v1/runs", Names::kScope, "/api/v1/runs", json::object()},
    {"GET", "/api/v1/runs", Names::kScope, "/api/v1/runs"},
    {"GET", "/api/v1/runs/{id}", Names::kRun, "/api/v1/runs/{R}"},
    {"POST", "/api/v1/uploads", Names::kScope, "/api/v1/uploads", json::object()},
    {"PUT", "/api/v1/uploads/{id}/chunks/{index}", Names::kScope,
     "/api/v1/uploads/UP-NONE/chunks/0"},
    {"GET", "/api/v1/uploads/{id}", Names::kScope, "/api/v1/uploads/UP-NONE"},
    {"POST", "/api/v1/uploads/{id}/complete", Names::kScope, "/api/v1/uploads/UP-NONE/complete"},
    // Decided on the real owner by the routes' resolvers (issue 12): the fixture's upload and
    // seq-1's runs (denied to another facility), an unknown run id (404 only to a role that
    // reads runs in its own scope, 403 to everyone else).
    {"GET", "/api/v1/runs", Names::kFacility, "/api/v1/runs?organisation=seq-1"},
    {"GET", "/api/v1/runs/{id}", Names::kScope, "/api/v1/runs/RUN-NONE"},
    {"GET", "/api/v1/uploads/{id}", Names::kUpload, "/api/v1/uploads/{U}"},
    {"PUT", "/api/v1/uploads/{id}/chunks/{index}", Names::kUpload,
     "/api/v1/uploads/{U}/chunks/0"},
    {"POST", "/api/v1/uploads/{id}/complete", Names::kUpload, "/api/v1/uploads/{U}/complete"},
    {"GET", "/api/v1/files/{id}", Names::kScope, "/api/v1/files/DF-NONE"},
    {"GET", "/api/v1/files/{id}", Names::kFile, "/api/v1/files/{F}"},
    {"GET", "/api/v1/participants/{id}/files", Names::kFile, "/api/v1/participants/{P}/files"},
    {"GET", "/api/v1/files/{id}/content", Names::kFile, "/api/v1/files/{F}/content"},
    {"GET", "/api/v1/files/{id}/plaintext", Names::kFile, "/api/v1/files/{F}/plaintext?part=index"},
    {"GET", "/api/v1/datasets", Names::kScope, "/api/v1/datasets"},
    {"POST", "/api/v1/datasets", Names::kScope, "/api/v1/datasets", json::object()},
    {"GET", "/api/v1/datasets/{id}", Names::kScope, "/api/v1/datasets/DS-NONE"},
    {"POST", "/api/v1/datasets/{id}/files", Names::kScope, "/api/v1/datasets/DS-NONE/files",
     json::object()},
    {"GET", "/api/v1/datasets/{id}/files", Names::kScope, "/api/v1/datasets/DS-NONE/files"},
    // The researcher's clinical view of a dataset (issue 14).
    {"GET", "/api/v1/datasets/{id}/clinical", Names::kScope, "/api/v1/datasets/DS-NONE/clinical"},
    {"POST", "/api/v1/datasets/{id}/releases", Names::kScope, "/api/v1/datasets/DS-NONE/releases",
     json::object()},
    {"GET", "/api/v1/releases", Names::kScope, "/api/v1/releases"},
    {"GET", "/api/v1/releases/{id}", Names::kScope, "/api/v1/releases/RL-NONE"},
    {"GET", "/api/v1/releases/{id}/aggregates", Names::kPublic,
     "/api/v1/releases/RL-NONE/aggregates"},
    {"GET", "/api/v1/sharing-rules", Names::kScope, "/api/v1/sharing-rules"},
    {"GET", "/api/v1/sharing-settings", Names::kScope, "/api/v1/sharing-settings"},
    {"PUT", "/api/v1/sharing-settings", Names::kScope, "/api/v1/sharing-settings", json::object()},
    {"POST", "/api/v1/sharing-tick", Names::kScope, "/api/v1/sharing-tick"},
    {"POST", "/api/v1/applications", Names::kScope, "/api/v1/applications", json::object()},
    {"GET", "/api/v1/applications", Names::kScope, "/api/v1/applications"},
    {"GET", "/api/v1/applications/{id}", Names::kScope, "/api/v1/applications/AP-NONE"},
    {"POST", "/api/v1/applications/{id}/submit", Names::kScope,
     "/api/v1/applications/AP-NONE/submit"},
    {"POST", "/api/v1/applications/{id}/withdraw", Names::kScope,
     "/api/v1/applications/AP-NONE/withdraw", json::object()},
    {"GET", "/api/v1/applications/{id}/prescreen", Names::kScope,
     "/api/v1/applications/AP-NONE/prescreen"},
    {"POST", "/api/v1/applications/{id}/comments", Names::kScope,
     "/api/v1/applications/AP-NONE/comments", json::object()},
    {"POST", "/api/v1/applications/{id}/votes", Names::kScope,
     "/api/v1/applications/AP-NONE/votes", json::object()},
    {"POST", "/api/v1/applications/{id}/decision", Names::kScope,
     "/api/v1/applications/AP-NONE/decision"},
    // An application's documents (issue 14): decided on role; the resolver names the owner.
    {"PUT", "/api/v1/applications/{id}/documents/{kind}", Names::kScope,
     "/api/v1/applications/AP-NONE/documents/ethics_approval?file_name=a.pdf", json::object()},
    {"GET", "/api/v1/applications/{id}/documents/{kind}", Names::kScope,
     "/api/v1/applications/AP-NONE/documents/ethics_approval"},
    {"GET", "/api/v1/grants", Names::kScope, "/api/v1/grants"},
    {"POST", "/api/v1/grants/{id}/revoke", Names::kScope, "/api/v1/grants/GR-NONE/revoke",
     json::object()},
    {"GET", "/api/v1/shared-files/{file}/access", Names::kScope,
     "/api/v1/shared-files/{F}/access"},
    {"GET", "/api/v1/portal/progress", Names::kPublic, "/api/v1/portal/progress"},
    {"GET", "/api/v1/portal/releases", Names::kPublic, "/api/v1/portal/releases"},
    // The portal's allele frequencies of released data (issue 15).
    {"GET", "/api/v1/portal/variant-frequencies", Names::kPublic,
     "/api/v1/portal/variant-frequencies?chrom=chr1&start=1&end=100"},
    {"GET", "/ga4gh/htsget/v1/reads/service-info", Names::kPublic,
     "/ga4gh/htsget/v1/reads/service-info"},
    {"GET", "/ga4gh/htsget/v1/reads/{id}", Names::kFile, "/ga4gh/htsget/v1/reads/{F}"},
    {"POST", "/ga4gh/htsget/v1/reads/{id}", Names::kFile, "/ga4gh/htsget/v1/reads/{F}",
     json::object()},
    {"GET", "/ga4gh/htsget/v1/variants/service-info", Names::kPublic,
     "/ga4gh/htsget/v1/variants/service-info"},
    {"GET", "/ga4gh/htsget/v1/variants/{id}", Names::kFile, "/ga4gh/htsget/v1/variants/{F}"},
    {"POST", "/ga4gh/htsget/v1/variants/{id}", Names::kFile, "/ga4gh/htsget/v1/variants/{F}",
     json::object()},
    {"GET", "/ga4gh/htsget/v1/blocks/{id}", Names::kFile,
     "/ga4gh/htsget/v1/blocks/{F}?start=0&end=10"},
    {"GET", "/ga4gh/drs/v1/service-info", Names::kPublic, "/ga4gh/drs/v1/service-info"},
    {"OPTIONS", "/ga4gh/drs/v1/objects/{id}", Names::kPublic, "/ga4gh/drs/v1/objects/{F}"},
    {"GET", "/ga4gh/drs/v1/objects/{id}", Names::kFile, "/ga4gh/drs/v1/objects/{F}"},
    {"GET", "/ga4gh/drs/v1/objects/{id}/access/{access_id}", Names::kFile,
     "/ga4gh/drs/v1/objects/{F}/access/https"},
    // The cohort variant store (issue 15): collections decided in the caller's scope; the
    // gate then decides per sample inside.
    {"GET", "/api/v1/variants/counts", Names::kScope, "/api/v1/variants/counts"},
    {"GET", "/api/v1/variants/carriers", Names::kScope, "/api/v1/variants/carriers"},
    {"GET", "/api/v1/variants/export", Names::kScope, "/api/v1/variants/export"},
    {"POST", "/api/v1/variants/ingest", Names::kScope, "/api/v1/variants/ingest",
     json::object()},
    {"GET", "/api/v1/variants/ingest-queue", Names::kScope, "/api/v1/variants/ingest-queue"},
    // Beacon v2 (issue 15): public; the granularity and budget are the beacon's business.
    {"GET", "/ga4gh/beacon/v2", Names::kPublic, "/ga4gh/beacon/v2"},
    {"GET", "/ga4gh/beacon/v2/info", Names::kPublic, "/ga4gh/beacon/v2/info"},
    {"GET", "/ga4gh/beacon/v2/service-info", Names::kPublic, "/ga4gh/beacon/v2/service-info"},
    {"GET", "/ga4gh/beacon/v2/configuration", Names::kPublic, "/ga4gh/beacon/v2/configuration"},
    {"GET", "/ga4gh/beacon/v2/map", Names::kPublic, "/ga4gh/beacon/v2/map"},
    {"GET", "/ga4gh/beacon/v2/entry_types", Names::kPublic, "/ga4gh/beacon/v2/entry_types"},
    {"GET", "/ga4gh/beacon/v2/filtering_terms", Names::kPublic, "/ga4gh/beacon/v2/filtering_terms"},
    {"GET", "/ga4gh/beacon/v2/datasets", Names::kPublic, "/ga4gh/beacon/v2/datasets"},
    {"GET", "/ga4gh/beacon/v2/g_variants", Names::kPublic, "/ga4gh/beacon/v2/g_variants?referenceName=20&start=1&end=100"},
    {"POST", "/ga4gh/beacon/v2/g_variants", Names::kPublic, "/ga4gh/beacon/v2/g_variants",
     json::object()},
    {"GET", "/", Names::kPublic, "/"},
    {"GET", "/{path...}", Names::kPublic, "/console"},
};

struct Person {
  std::string user, role, organisation;
  Browser browser;
};

class RouteMatrixTest : public ServerTest {
 protected:
  void SetUp() override {
    StartServer();
    ASSERT_NE(server_, nullptr);
    ASSERT_NO_FATAL_FAILURE(AddOrganisations(
        {{"dc", "data_center"}, {"hosp-a", "hospital"}, {"hosp-b", "hospital"},
         {"seq-1", "sequencing_facility"}, {"seq-2", "sequencing_facility"},
         {"ana-1", "analysis_center"}, {"ana-2", "analysis_center"}, {"univ", "academic"}}));
  }

  // A person of role at org, signed in with a second factor.
  void AddPerson(const std::string& role, const std::string& org) {
    std::string user = role + "-" + org;
    std::replace(user.begin(), user.end(), '_', '-');
    if (role == "security_officer") {
      // Only through the two-person grant (separation of duties, issue 12 finding 4).
      ASSERT_TRUE(AddSecurityOfficer(*server_, user, org, kPassword)) << user;
    } else {
      auto r = AsOperator(*server_, "POST", "/api/v1/admin/users",
                          {{"id", user}, {"organisation", org}, {"display_name", user},
                           {"email", user + "@example.org"}, {"roles", {role}},
                           {"password", kPassword}});
      ASSERT_TRUE(r);
      ASSERT_EQ(r->status, 201) << r->body;
    }
    Person p{user, role, org, Browser{server_.get()}};
    ASSERT_FALSE(p.browser.LoginAndEnrol(user, kPassword).empty()) << user;
    people_.push_back(std::move(p));
  }

  std::vector<Person> people_;
};

std::string Fill(std::string path, const std::map<std::string, std::string>& ids) {
  for (const auto& [key, value] : ids) {
    for (size_t at = path.find(key); at != std::string::npos; at = path.find(key)) {
      path.replace(at, key.size(), value);
    }
  }
  return path;
}

TEST_P(RouteMatrixTest, EveryRouteRoleAndOrganisationAnswersAsThePolicyTableSays) {
  // The route table as the server builds it.
  auto listed = RunCommand({ZengenBinary(), "routes", "--data", server_->data_dir().string()});
  ASSERT_EQ(listed.exit_code, 0) << listed.output;
  std::vector<std::array<std::string, 4>> routes;  // method, pattern, action, kind
  std::istringstream lines(listed.output);
  for (std::string line; std::getline(lines, line);) {
    std::array<std::string, 4> f;
    std::istringstream cols(line);
    for (auto& c : f) std::getline(cols, c, '\t');
    if (f[0].empty() || f[1].empty() || f[0].find(' ') != std::string::npos) continue;
    routes.push_back(f);
  }
  ASSERT_GT(routes.size(), 100u) << listed.output;
  // A route may have several rows (its real object, an unknown id, ...).
  std::map<std::pair<std::string, std::string>, std::vector<const Row*>> table;
  for (const auto& row : kRows) table[{row.method, row.pattern}].push_back(&row);
  for (const auto& r : routes) {
    EXPECT_TRUE(table.count({r[0], r[1]}))
        << "route " << r[0] << " " << r[1] << " (" << r[2]
        << ") is registered but missing from the route matrix's expectation table";
  }
  ASSERT_FALSE(HasFailure());

  // The fixture: participant P of hosp-a with consent and a specimen that went through seq-1
  // to ana-1, which registered a BAM.
  for (const auto& [role, orgs] : std::vector<std::pair<std::string, std::vector<std::string>>>{
           {"clinician", {"hosp-a", "hosp-b"}},
           {"sequencing_operator", {"seq-1", "seq-2"}},
           {"analyst", {"ana-1", "ana-2"}},
           {"researcher", {"univ"}},
           {"committee_member", {"dc"}},
           {"data_steward", {"dc"}},
           {"security_officer", {"dc"}}}) {
    for (const auto& org : orgs) ASSERT_NO_FATAL_FAILURE(AddPerson(role, org));
  }
  Browser& clinician = people_.front().browser;
  auto p = clinician.Send("POST", "/api/v1/participants",
                          {{"local_id", "MRN-1"}, {"program", "cancer"},
                           {"disease_category", "lung"}, {"index_date", "2026-03-02"}});
  ASSERT_TRUE(p && p->status == 201);
  const std::string participant = p->Json()["participant"]["id"];
  auto icf = clinician.Send("GET", "/api/v1/icf/cancer/1.0/ja");
  json decisions = json::object();
  const json items = icf->Json()["items"];
  for (const auto& item : items) decisions[item["code"].get<std::string>()] = "permit";
  decisions["C11"] = "deny";
  ASSERT_EQ(clinician.Send("POST", "/api/v1/participants/" + participant + "/consents",
                           {{"kind", "initial"}, {"icf_version", "1.0"}, {"language", "ja"},
                            {"decisions", decisions}, {"signed_date", "2026-03-02"},
                            {"details", {{"signer", "self"}, {"method", "paper"}}}})
                ->status,
            201);
  auto sp = clinician.Send("POST", "/api/v1/participants/" + participant + "/specimens",
                           {{"tumour_normal", "normal"}, {"specimen_type", "blood"},
                            {"preservation", "EDTA"}, {"collection_date", "2026-03-02"}});
  ASSERT_TRUE(sp && sp->status == 201);
  const std::string specimen = sp->Json()["id"];
  const std::string custody = "/api/v1/specimens/" + specimen + "/custody";
  ASSERT_EQ(clinician.Send("POST", custody, {{"to", "shipped"}, {"destination", "seq-1"}})->status,
            200);
  const std::string seq = Token("seq-1", "sequencing_operator",
                                {"specimen.custody", "run.write", "upload.write"});
  const std::string ana = Token("ana-1", "analyst", {"specimen.custody", "upload.write"});
  for (const char* to : {"received", "library_prepared"}) {
    ASSERT_EQ(Call(seq, "POST", custody, json{{"to", to}})->status, 200) << to;
  }
  auto run = Call(seq, "POST", "/api/v1/runs",
                  {{"specimen_id", specimen}, {"instrument_model", "NovaSeq X"},
                   {"flowcell", "HFLOWCELL"}, {"library", "L1"}, {"layout", "single"}});
  ASSERT_EQ(run->status, 201) << run->body;
  const std::string run_id = run->Json()["id"];
  const json fq = Upload(seq, {{"kind", "fastq"}, {"run_id", run_id}, {"read", 1},
                               {"file_name", "R1.fastq.gz"}},
                         Gzip(Fastq(1500, 1)));
  ASSERT_EQ(fq["run"]["status"], "qc_passed") << fq.dump();
  // The data centre orders the analysis by ana-1, the only centre that may then take it.
  auto order = AsOperator(*server_, "POST", "/api/v1/analysis-orders",
                          {{"specimen_id", specimen}, {"centre", "ana-1"}});
  ASSERT_TRUE(order);
  ASSERT_EQ(order->status, 201) << order->body;
  ASSERT_EQ(Call(ana, "POST", custody, json{{"to", "analysed"}})->status, 200);
  const json bam = Upload(ana, {{"kind", "bam"}, {"specimen_id", specimen},
                                {"derived_from", {fq["file"]["id"]}},
                                {"file_name", "NA12878.bam"}},
                          ReadFileBytes((kFixtures / "htsget/reads/htsnexus_test_NA12878.bam").string()));
  const std::string file = bam["file"]["id"];
  ASSERT_FALSE(file.empty()) << bam.dump();

  const std::map<std::string, std::string> ids = {
      {"{P}", participant}, {"{S}", specimen}, {"{R}", run_id}, {"{F}", file},
      {"{U}", fq["upload"]["id"].get<std::string>()}};
  struct Owner {
    std::string organisation, holder;
  };
  const std::map<Names, Owner> owners = {{Names::kParticipant, {"hosp-a", ""}},
                                         {Names::kSpecimen, {"hosp-a", "ana-1"}},
                                         {Names::kRun, {"hosp-a", "seq-1"}},
                                         {Names::kFile, {"hosp-a", "ana-1"}},
                                         {Names::kUpload, {"hosp-a", "seq-1"}},
                                         {Names::kFacility, {"seq-1", "seq-1"}}};
  // Every route with each of its rows.
  std::vector<std::pair<std::array<std::string, 4>, const Row*>> cases;
  for (const auto& r : routes) {
    for (const Row* row : table.at({r[0], r[1]})) cases.emplace_back(r, row);
  }
  // Runs the matrix; withdrawn: the participant has withdrawn fully (data routes only).
  int cells = 0;
  auto run_matrix = [&](bool withdrawn) {
    for (auto& person : people_) {
      const policy::Subject subject{.authenticated = true, .id = person.user,
                                    .organisation = person.organisation,
                                    .roles = {person.role}, .mfa = true};
      for (const auto& [r, row_in_table] : cases) {
        const Row& row = *row_in_table;
        if (row.path.empty()) continue;
        if (withdrawn && row.names != Names::kFile) continue;
        policy::Resource resource{r[3], "", policy::ScopeOf(subject), policy::ScopeOf(subject)};
        if (row.names == Names::kEvery) {
          resource.organisation = resource.holder = std::string(policy::kEveryOrganisation);
        }
        if (auto it = owners.find(row.names); it != owners.end()) {
          resource = {r[3], "x", it->second.organisation, it->second.holder};
          resource.withdrawn = withdrawn;
        }
        const bool expect = policy::Decide(subject, r[2], resource, {}).allowed();
        auto answer = person.browser.Send(row.method, Fill(row.path, ids), row.body);
        ASSERT_TRUE(answer) << row.method << " " << row.path;
        const std::string what = fmt::format("{} {} as {} of {}{}: {} {}", row.method, row.pattern,
                                             person.role, person.organisation,
                                             withdrawn ? " (withdrawn)" : "", answer->status,
                                             answer->body.substr(0, 200));
        if (expect) {
          EXPECT_NE(answer->status, 401) << "should be allowed: " << what;
          EXPECT_FALSE(answer->status == 403 && answer->body.find("access_denied") != std::string::npos)
              << "should be allowed: " << what;
        } else {
          EXPECT_EQ(answer->status, 403) << "should be denied: " << what;
        }
        ++cells;
      }
    }
  };
  run_matrix(false);
  // The participant withdraws fully: every genome-data route is refused to everyone.
  ASSERT_EQ(clinician.Send("POST", "/api/v1/participants/" + participant + "/withdrawal",
                           {{"level", "full"}, {"signed_date", "2026-04-01"}, {"reason", "test"}})
                ->status,
            201);
  run_matrix(true);
  EXPECT_GT(cells, 1000);
}

INSTANTIATE_TEST_SUITE_P(Backends, RouteMatrixTest, ::testing::ValuesIn(storage::TestBackends()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace zengen::testing
