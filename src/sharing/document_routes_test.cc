// An application's documents (issue 14) over the routes with a real blob store: the applicant
// uploads, the server computes the SHA-256 and stores the bytes encrypted (Crypt4GH, never the
// plaintext on disk); the committee, the applicant and data stewards read them once submitted,
// nobody else; documents of a submitted application are immutable; bad input is refused naming
// the field; every request is decided once on the application's real owner.
#include "sharing/document_routes.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "blobs/local_store.h"
#include "crypto/crypt4gh.h"
#include "crypto/crypto.h"
#include "http/filters.h"
#include "sharing/document_blobs.h"
#include "sharing/sharing_routes.h"
#include "sharing/sharing_test_support.h"

namespace zengen::sharing {
namespace {

namespace fs = std::filesystem;
using http::Request;
using http::Response;
using nlohmann::json;

const Actor kSequencer = testing::Person("seq-op", "seq-1", "sequencing_operator");
const Actor kOtherAcademic = testing::Person("res-o", "other-univ", "researcher");

// "Bearer <user>" → the fixture's people, second factor passed.
class TableAuthenticator final : public http::Authenticator {
 public:
  Result<http::Subject> Authenticate(const Request& req) override {
    const std::string a = req.Header("Authorization");
    for (const Actor* p : {&testing::kSteward, &testing::kResearcher, &testing::kMember,
                           &testing::kIndustry, &testing::kCommittee1, &testing::kCommittee2,
                           &testing::kCommittee3, &kSequencer, &kOtherAcademic}) {
      if (a == "Bearer " + p->user) return testing::SubjectOf(*p);
    }
    return http::Subject{};
  }
};

// A tiny valid PDF (one empty page), with a marker that must never reach the disk in clear.
std::string TinyPdf(const std::string& marker) {
  return "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
         "2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
         "3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n% " +
         marker + "\ntrailer<</Root 1 0 R>>\n%%EOF\n";
}

struct Decision {
  std::string action;
  std::string resource;  // kind/id
  std::string organisation;
  bool allowed = false;
};

class DocumentRoutesTest : public testing::SharingFixture {
 protected:
  void SetUp() override {
    SharingFixture::SetUp();
    dir_ = fs::temp_directory_path() / ("zg-docs-" + crypto::ToHex(crypto::RandomBytes(6)));
    std::vector<blobs::Root> roots;
    for (const char* name : {"hot1", "hot2"}) {
      fs::create_directories(dir_ / name);
      roots.push_back({name, dir_ / name, "hot", "JP"});
    }
    auto bs = blobs::LocalStore::Create(
        {.roots = std::move(roots), .allowed_jurisdictions = {"JP"}, .replicas = 2}, *store_,
        clock_, audit_);
    ASSERT_TRUE(bs.ok()) << bs.error().message;
    blobs_ = std::move(*bs);
    const auto dc = crypto::crypt4gh::GenerateKeyPair();
    documents_ = std::make_unique<EncryptedDocumentBlobs>(
        *blobs_, genomefiles::UploadKeys{dc.secret_key, dc.public_key});
    http::Router router;
    ASSERT_TRUE(AddSharingRoutes(router, *sharing_, clock_).ok());
    ASSERT_TRUE(AddApplicationDocumentRoutes(router, *sharing_, *documents_).ok());
    pipeline_ = std::make_unique<http::Pipeline>(std::move(router));
    pipeline_->AddFilter(std::make_unique<http::RequestIdFilter>());
    pipeline_->AddFilter(
        std::make_unique<http::AuthenticationFilter>(std::make_shared<TableAuthenticator>()));
    pipeline_->AddFilter(std::make_unique<http::PolicyFilter>([this](const Request& r) {
      decisions_.push_back({r.route->action, r.resolved->resource.kind + "/" +
                                                 r.resolved->resource.id,
                            r.resolved->resource.organisation, r.decision->allowed()});
      return Status::Ok();
    }));
  }
  void TearDown() override {
    pipeline_.reset();
    documents_.reset();
    blobs_.reset();
    SharingFixture::TearDown();
    fs::remove_all(dir_);
  }

  Response Call(const std::string& method, const std::string& target, const Actor& who,
                const std::string& body = "", const std::string& type = "") {
    Request req;
    req.method = method;
    EXPECT_TRUE(http::ParseTarget(target, req).ok()) << target;
    req.headers["Authorization"] = "Bearer " + who.user;
    req.body = body;
    if (!type.empty()) req.headers["Content-Type"] = type;
    req.remote_address = "10.0.0.9";
    decisions_.clear();
    Response r = pipeline_->Handle(req, pipeline_->router().Find(req.method, req.path));
    EXPECT_EQ(decisions_.size(), 1u) << method << " " << target << " as " << who.user;
    return r;
  }
  Response Upload(const std::string& app, const std::string& kind, const std::string& bytes,
                  const Actor& who = testing::kResearcher,
                  const std::string& name = "%E5%80%AB%E7%90%86%E5%AF%A9%E6%9F%BB.pdf") {
    return Call("PUT", "/api/v1/applications/" + app + "/documents/" + kind + "?file_name=" + name,
                who, bytes, "application/pdf");
  }
  static json J(const Response& r) { return json::parse(r.body); }

  // A draft of the academic researcher (univ).
  std::string Draft() {
    auto c = sharing_->CreateApplication(Application(Dataset({NewParticipant()})),
                                         testing::kResearcher);
    EXPECT_TRUE(c.ok()) << c.error().message;
    return c.ok() ? c->application.id : "";
  }

  // Every stored copy's bytes, concatenated.
  std::string StoredBytes() {
    std::string all;
    for (const auto& e : fs::recursive_directory_iterator(dir_)) {
      if (!e.is_regular_file()) continue;
      std::ifstream in(e.path(), std::ios::binary);
      all.append(std::istreambuf_iterator<char>(in), {});
    }
    return all;
  }

  fs::path dir_;
  std::unique_ptr<blobs::LocalStore> blobs_;
  std::unique_ptr<EncryptedDocumentBlobs> documents_;
  std::unique_ptr<http::Pipeline> pipeline_;
  std::vector<Decision> decisions_;
};

TEST_P(DocumentRoutesTest, TheApplicantUploadsEncryptedAndTheCommitteeReadsTheSameBytes) {
  const std::string id = Draft();
  const std::string pdf = TinyPdf("ETHICS-R2026-099-CLEARTEXT-MARKER");
  Response up = Upload(id, "ethics_approval", pdf);
  ASSERT_EQ(up.status, 201) << up.body;
  EXPECT_EQ(J(up)["sha256"], crypto::Sha256Hex(pdf));  // computed by the server
  EXPECT_EQ(J(up)["size"], static_cast<int64_t>(pdf.size()));
  EXPECT_EQ(J(up)["content_type"], "application/pdf");
  EXPECT_EQ(J(up)["file_name"], "倫理審査.pdf");
  EXPECT_FALSE(J(up).contains("blob_id"));
  ASSERT_EQ(decisions_[0].action, "application.document.write");
  EXPECT_EQ(decisions_[0].resource, "application_document/" + id + "/ethics_approval");
  EXPECT_EQ(decisions_[0].organisation, "univ");  // the application's real owner
  // The upload is audited with the change, naming the fingerprint.
  const auto events = audit_.events();
  ASSERT_TRUE(std::any_of(events.begin(), events.end(), [&](const AuditEvent& e) {
    return e.action == "application.document.write" &&
           e.resource == "application_document/" + id + "/ethics_approval" &&
           json::parse(e.details)["sha256"] == crypto::Sha256Hex(pdf);
  }));
  // Stored encrypted: two copies on disk, neither holds the plaintext.
  const std::string disk = StoredBytes();
  EXPECT_GT(disk.size(), 2 * pdf.size());
  EXPECT_EQ(disk.find("ETHICS-R2026-099-CLEARTEXT-MARKER"), std::string::npos);
  EXPECT_EQ(disk.find("%PDF-"), std::string::npos);
  // The fingerprint is recorded on the application; a protocol goes with it.
  Response detail = Call("GET", "/api/v1/applications/" + id, testing::kResearcher);
  EXPECT_EQ(J(detail)["ethics"]["sha256"], crypto::Sha256Hex(pdf));
  EXPECT_EQ(J(detail)["ethics"]["file_name"], "倫理審査.pdf");
  ASSERT_EQ(Upload(id, "protocol", "研究計画書\n目的: 胚細胞系列バリアント\n", testing::kResearcher,
                   "protocol.txt")
                .status,
            201);
  ASSERT_EQ(J(Call("GET", "/api/v1/applications/" + id, testing::kResearcher))["documents"].size(),
            2u);
  // A draft is not before the committee yet.
  EXPECT_EQ(Call("GET", "/api/v1/applications/" + id + "/documents/ethics_approval",
                 testing::kCommittee1)
                .status,
            404);
  ASSERT_EQ(Call("POST", "/api/v1/applications/" + id + "/submit", testing::kResearcher).status,
            200);

  for (const Actor* who : {&testing::kCommittee1, &testing::kCommittee3, &testing::kSteward,
                           &testing::kResearcher}) {
    Response r = Call("GET", "/api/v1/applications/" + id + "/documents/ethics_approval", *who);
    ASSERT_EQ(r.status, 200) << who->user << " " << r.body;
    EXPECT_EQ(r.body, pdf) << who->user;
    EXPECT_EQ(r.headers["Content-Type"], "application/pdf");
    EXPECT_EQ(r.headers["X-Content-Type-Options"], "nosniff");
    EXPECT_EQ(r.headers["Content-Disposition"],
              "inline; filename*=UTF-8''%E5%80%AB%E7%90%86%E5%AF%A9%E6%9F%BB.pdf");
    EXPECT_EQ(r.headers["X-Document-SHA256"], crypto::Sha256Hex(pdf));
    ASSERT_EQ(decisions_.size(), 1u);
    EXPECT_EQ(decisions_[0].action, "application.document.read");
    EXPECT_TRUE(decisions_[0].allowed);
  }
  Response text = Call("GET", "/api/v1/applications/" + id + "/documents/protocol",
                       testing::kCommittee2);
  ASSERT_EQ(text.status, 200);
  EXPECT_EQ(text.headers["Content-Type"], "text/plain; charset=utf-8");
  EXPECT_TRUE(text.headers["Content-Disposition"].starts_with("attachment;"));
  EXPECT_EQ(Call("GET", "/api/v1/applications/" + id + "/documents/signed_agreement",
                 testing::kCommittee1)
                .status,
            404);
}

// Insiders: nobody but the applicant, the committee and stewards reads a document.
TEST_P(DocumentRoutesTest, OnlyTheApplicantTheCommitteeAndStewardsReadADocument) {
  const std::string id = Draft();
  ASSERT_EQ(Upload(id, "ethics_approval", TinyPdf("x")).status, 201);
  ASSERT_EQ(Call("POST", "/api/v1/applications/" + id + "/submit", testing::kResearcher).status,
            200);
  const std::string path = "/api/v1/applications/" + id + "/documents/ethics_approval";
  // Another role altogether: the policy refuses (403), decided once and recorded as a denial.
  Response seq = Call("GET", path, kSequencer);
  EXPECT_EQ(seq.status, 403);
  EXPECT_FALSE(decisions_[0].allowed);
  EXPECT_EQ(seq.body.find("%PDF"), std::string::npos);
  // Other researchers, of the same organisation or another: the application is not theirs.
  for (const Actor* who : {&testing::kMember, &kOtherAcademic, &testing::kIndustry}) {
    Response r = Call("GET", path, *who);
    EXPECT_EQ(r.status, 404) << who->user;
    EXPECT_EQ(J(r)["error"]["code"], "application_not_found") << who->user;
  }
  // A document of another application: the industry researcher's own draft id does not open
  // the academic one's, nor does an id that does not exist.
  auto other = sharing_->CreateApplication(Application(Dataset({NewParticipant()})),
                                           testing::kIndustry);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(Call("GET",
                 "/api/v1/applications/" + other->application.id + "/documents/ethics_approval",
                 testing::kResearcher)
                .status,
            404);
  EXPECT_EQ(Call("GET", "/api/v1/applications/AP-NONE/documents/ethics_approval",
                 testing::kCommittee1)
                .status,
            404);
  // Uploads: the committee may not (403 by the policy); another researcher may not (404).
  EXPECT_EQ(Upload(id, "protocol", "x\n", testing::kCommittee1).status, 403);
  EXPECT_EQ(Upload(other->application.id, "protocol", "x\n", testing::kResearcher).status, 404);
  EXPECT_EQ(Upload(other->application.id, "protocol", "x\n", kSequencer).status, 403);
}

TEST_P(DocumentRoutesTest, ASubmittedApplicationsDocumentsAreImmutable) {
  const std::string id = Draft();
  const std::string first = TinyPdf("first");
  ASSERT_EQ(Upload(id, "ethics_approval", TinyPdf("draft")).status, 201);
  ASSERT_EQ(Upload(id, "ethics_approval", first).status, 201);  // a draft's may be replaced
  ASSERT_EQ(Call("POST", "/api/v1/applications/" + id + "/submit", testing::kResearcher).status,
            200);
  Response again = Upload(id, "ethics_approval", TinyPdf("after submission"));
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(J(again)["error"]["code"], "document_immutable");
  EXPECT_EQ(Upload(id, "protocol", TinyPdf("new kind")).status, 409);
  Response r = Call("GET", "/api/v1/applications/" + id + "/documents/ethics_approval",
                    testing::kCommittee1);
  EXPECT_EQ(r.body, first);
  EXPECT_EQ(J(Call("GET", "/api/v1/applications/" + id, testing::kCommittee1))["ethics"]["sha256"],
            crypto::Sha256Hex(first));
}

TEST_P(DocumentRoutesTest, BadDocumentsAreRefusedNamingTheFieldAndNothingIsStored) {
  const std::string id = Draft();
  struct Case {
    std::string kind, bytes, name;
    int status;
    std::string code, field;
  };
  const std::vector<Case> cases = {
      {"ethics_approval", "<html><script>alert(1)</script></html>", "a.pdf", 400, "", ""},
      {"ethics_approval", std::string("\x89PNG\r\n\x1a\n", 8), "a.png", 415, "document_type",
       "file"},
      {"ethics_approval", "", "a.pdf", 400, "document_empty", "file"},
      {"ethics_approval", TinyPdf("x"), "", 400, "missing_field", "file_name"},
      {"ethics_approval", TinyPdf("x"), "..%2Fetc%2Fpasswd", 400, "invalid_file_name",
       "file_name"},
      {"consent_form", TinyPdf("x"), "a.pdf", 404, "document_kind_not_found", "kind"},
      {"protocol", std::string(static_cast<size_t>(kMaxDocumentBytes) + 1, 'a'), "big.txt", 413,
       "document_too_large", "file"},
  };
  for (const auto& c : cases) {
    Response r = Upload(id, c.kind, c.bytes, testing::kResearcher, c.name);
    if (c.code.empty()) {
      // HTML is text: accepted only as text/plain, served as such, never as HTML.
      ASSERT_EQ(r.status, 201) << r.body;
      EXPECT_EQ(J(r)["content_type"], "text/plain");
      continue;
    }
    EXPECT_EQ(r.status, c.status) << c.code << " " << r.body;
    EXPECT_EQ(J(r)["error"]["code"], c.code);
    EXPECT_EQ(J(r)["error"]["field"], c.field) << c.code;
  }
  // Only the HTML-as-text upload was kept: one document, served as plain text.
  auto d = sharing_->GetApplication(id, testing::kResearcher);
  ASSERT_EQ(d->documents.size(), 1u);
  EXPECT_EQ(d->documents[0].content_type, "text/plain");
  Response html = Call("GET", "/api/v1/applications/" + id + "/documents/ethics_approval",
                       testing::kResearcher);
  EXPECT_EQ(html.headers["Content-Type"], "text/plain; charset=utf-8");
  EXPECT_TRUE(html.headers["Content-Disposition"].starts_with("attachment;"));
}

TEST(DocumentTypeTest, PdfByItsMagicTextByItsEncoding) {
  EXPECT_EQ(SniffDocumentType("%PDF-1.7\n"), "application/pdf");
  EXPECT_EQ(SniffDocumentType("倫理審査 承認\r\n\tOK"), "text/plain");
  EXPECT_EQ(SniffDocumentType(" %PDF-1.7"), "text/plain");
  EXPECT_EQ(SniffDocumentType(std::string("a\0b", 3)), "");
  EXPECT_EQ(SniffDocumentType("\xc3\x28"), "");          // a broken sequence
  EXPECT_EQ(SniffDocumentType("\xe5\x80"), "");          // cut short
  EXPECT_EQ(SniffDocumentType("\xc0\xaf"), "");          // overlong '/'
  EXPECT_EQ(SniffDocumentType("\xed\xa0\x80"), "");      // a surrogate
  EXPECT_EQ(SniffDocumentType("\x1b[31m"), "");          // terminal escapes
  EXPECT_EQ(SniffDocumentType(""), "");
}

// The port with a failure injected between the object's write and the transaction that
// records it: Put stores through the real adapter, then changes the application (as a
// concurrent request would), so the recording transaction fails. Discard is counted, and
// succeeds unless told otherwise.
class ChangingBlobs final : public DocumentBlobs {
 public:
  ChangingBlobs(DocumentBlobs& real, storage::Store& store, std::string app, bool discard_ok)
      : real_(real), store_(store), app_(std::move(app)), discard_ok_(discard_ok) {}
  Result<std::string> Put(std::string_view bytes) override {
    ZG_ASSIGN_OR_RETURN(std::string id, real_.Put(bytes));
    put.push_back(id);
    ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kWrite));
    ZG_RETURN_IF_ERROR(tx->Exec("UPDATE applications SET version = version + 1 WHERE id = $1",
                                {storage::Text(app_)})
                           .status());
    ZG_RETURN_IF_ERROR(tx->Commit());
    return id;
  }
  Result<std::string> Get(std::string_view id) override { return real_.Get(id); }
  Status Discard(std::string_view id) override {
    discarded.emplace_back(id);
    return discard_ok_ ? Status::Ok() : real_.Discard(id);
  }
  std::vector<std::string> put, discarded;

 private:
  DocumentBlobs& real_;
  storage::Store& store_;
  std::string app_;
  bool discard_ok_;
};

// Crash point: the object is written before the transaction; when the transaction fails the
// object is discarded and the outcome audited with its blob id (the real adapter cannot delete
// from the blob store: then the record says it was left unreferenced). No row, no fingerprint.
TEST_P(DocumentRoutesTest, AFailedRecordingDiscardsTheStoredObjectAndAuditsIt) {
  for (const bool discard_ok : {true, false}) {
    const std::string id = Draft();
    ChangingBlobs port(*documents_, *store_, id, discard_ok);
    auto r = sharing_->PutDocument(id, "ethics_approval", "ethics.pdf", TinyPdf("X"), port,
                                   testing::kResearcher);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, "concurrent_change");
    ASSERT_EQ(port.put.size(), 1u);
    EXPECT_EQ(port.discarded, port.put) << "the unreferenced object is discarded";
    const auto events = audit_.events();
    const auto it = std::find_if(events.begin(), events.end(), [&](const AuditEvent& e) {
      return e.resource == "application_document/" + id + "/ethics_approval";
    });
    ASSERT_NE(it, events.end());
    EXPECT_EQ(it->reason, discard_ok ? "document object discarded"
                                     : "document object left unreferenced");
    const json details = json::parse(it->details);
    EXPECT_EQ(details["blob"], port.put[0]);
    EXPECT_EQ(details["error"], "concurrent_change");
    EXPECT_EQ(details.contains("discard_error"), !discard_ok);
    auto detail = sharing_->GetApplication(id, testing::kResearcher);
    ASSERT_TRUE(detail.ok());
    EXPECT_TRUE(detail->documents.empty());
    EXPECT_NE(detail->application.ethics["file_name"], "ethics.pdf");  // the draft's own
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, DocumentRoutesTest,
                         ::testing::ValuesIn(storage::TestBackends()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace zengen::sharing
