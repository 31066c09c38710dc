// Test fixture for the HTTP faces of sequencing and the genome-file registry
// (sequencing/upload_routes.h, genomefiles/file_routes.h): the routes wired as the server wires
// them (the access gate resolves "file" routes) behind the standard filter chain, on a scratch
// database of either backend, with a real blob store and the real Crypt4GH code. Every policy
// decision (the filter's and any the gate takes inside a handler) goes to decisions(), so a
// test can count the records one request writes. Built on the module-test fixture
// (tests/support/module_fixture.h).
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <random>

#include <fmt/format.h>

#include "access/access.h"
#include "blobs/local_store.h"
#include "consent/consent.h"
#include "crypto/crypt4gh.h"
#include "crypto/crypto.h"
#include "genomefiles/file_routes.h"
#include "http/filters.h"
#include "sequencing/synthetic.h"
#include "sequencing/upload.h"
#include "sequencing/upload_routes.h"
#include "sharing/sharing.h"
#include "specimens/specimens.h"
#include "support/module_fixture.h"

namespace zengen::sequencing::testing {

// Bearer tokens of the tests: user → (organisation, role).
inline const ::zengen::testing::People kPeople = {
    {"clin-a", {"hosp-a", "clinician"}},     {"op-1", {"seq-1", "sequencing_operator"}},
    {"op-2", {"seq-2", "sequencing_operator"}}, {"an-1", {"ac-1", "analyst"}},
    {"an-2", {"ac-2", "analyst"}},          {"steward", {"dc", "data_steward"}},
};

class RoutesTest : public ::zengen::testing::ModuleTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(OpenStore({{"hosp-a", "hospital"},
                                       {"seq-1", "sequencing_facility"},
                                       {"seq-2", "sequencing_facility"},
                                       {"ac-1", "analysis_center"},
                                       {"ac-2", "analysis_center"},
                                       {"dc", "data_center"}}));
    for (const char* mrn : {"MRN-1", "MRN-2"}) {
      participants_.push_back(RegisterParticipant(mrn));
      ASSERT_FALSE(participants_.back().empty());
    }
    specimens_ = std::make_unique<specimens::Specimens>(*store_, clock_, audit_);
    dir_ = std::filesystem::temp_directory_path() /
           ("zg-routes-" + crypto::ToHex(crypto::RandomBytes(6)));
    std::vector<blobs::Root> roots;
    for (const auto& [name, tier] : std::vector<std::pair<std::string, std::string>>{
             {"hot1", "hot"}, {"hot2", "hot"}, {"cold1", "cold"}, {"cold2", "cold"}}) {
      std::filesystem::create_directories(dir_ / name);
      roots.push_back({name, dir_ / name, tier, "JP"});
    }
    auto bs = blobs::LocalStore::Create(
        {.roots = std::move(roots), .allowed_jurisdictions = {"JP"}, .replicas = 2}, *store_,
        clock_, audit_);
    ASSERT_TRUE(bs.ok()) << bs.error().message;
    blobs_ = std::move(*bs);
    const auto dc = crypto::crypt4gh::GenerateKeyPair();
    uploads_ = std::make_unique<Uploads>(*store_, clock_, audit_, *blobs_, *specimens_,
                                         dir_ / "staging",
                                         genomefiles::UploadKeys{dc.secret_key, dc.public_key});
    ledger_ = std::make_unique<consent::Ledger>(*store_, clock_, audit_);
    sharing_ = std::make_unique<sharing::Sharing>(*store_, clock_, audit_, *ledger_);
    gate_ = std::make_unique<access::Gate>(uploads_->files(), *ledger_, *sharing_);

    // As app/main.cc wires them.
    http::Router router;
    router.SetResolver("file", gate_->FileResolver());
    ASSERT_TRUE(AddUploadRoutes(router, *uploads_).ok());
    ASSERT_TRUE(genomefiles::AddFileRoutes(router, uploads_->files(), *blobs_, *gate_).ok());
    Serve(std::move(router), kPeople, [this](const http::Request& req) {
      return access::RecordDecision(decisions_, req, req.route->action, *req.resolved,
                                    *req.decision);
    });
  }

  void TearDown() override {
    pipeline_.reset();
    gate_.reset();
    uploads_.reset();
    blobs_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // The decision records written while `call` ran.
  std::vector<AuditEvent> RecordsOf(const std::function<void()>& call) {
    const size_t before = decisions_.events().size();
    call();
    auto all = decisions_.events();
    return {all.begin() + static_cast<std::ptrdiff_t>(before), all.end()};
  }

  // A specimen of participant `p` shipped to `facility` and library-prepared there.
  std::string PreparedSpecimen(const std::string& p, const std::string& facility,
                               const std::string& op) {
    const specimens::Actor clin{"clin-a", "hosp-a", {"clinician"}, "10.0.0.1", "req"};
    const specimens::Actor fac{op, facility, {"sequencing_operator"}, "10.0.0.1", "req"};
    auto s = specimens_->Register({p, "normal", "blood", "EDTA", "2026-06-02", ""}, clin);
    EXPECT_TRUE(s.ok()) << s.error().message;
    EXPECT_TRUE(specimens_->Custody(s->id, {"shipped", "", facility}, clin).ok());
    for (const char* to : {"received", "library_prepared"}) {
      auto r = specimens_->Custody(s->id, {to, "", ""}, fac);
      EXPECT_TRUE(r.ok()) << to << ": " << r.error().message;
    }
    return s->id;
  }

  // Opens a run over HTTP as `op` and returns its id.
  std::string OpenRun(const std::string& specimen, const std::string& op) {
    auto r = Call("POST", "/api/v1/runs", op,
                  nlohmann::json{{"specimen_id", specimen}, {"instrument_model", "NovaSeq X"},
                                 {"flowcell", "HFLOWCELL"}, {"library", "L1"},
                                 {"layout", "single"}}
                      .dump());
    EXPECT_EQ(r.status, 201) << r.body;
    return nlohmann::json::parse(r.body).value("id", "");
  }

  // Opens a FASTQ upload of read 1 of `run` over HTTP (one chunk) and returns its id.
  std::string OpenUpload(const std::string& run, const std::string& op,
                         const std::string& bytes) {
    auto r = Call("POST", "/api/v1/uploads", op,
                  nlohmann::json{{"kind", "fastq"}, {"run_id", run}, {"read", 1},
                                 {"file_name", "R1.fastq.gz"},
                                 {"size", bytes.size()}, {"sha256", crypto::Sha256Hex(bytes)},
                                 {"chunk_size", 8 << 20}}
                      .dump());
    EXPECT_EQ(r.status, 201) << r.body;
    return nlohmann::json::parse(r.body).value("id", "");
  }

  // A small gzip FASTQ of single reads.
  static std::string FastqGz(unsigned seed) {
    std::mt19937 rng(seed);
    std::string out;
    for (int i = 0; i < 2000; ++i) {
      out += fmt::format("@A00123:8:HFLOWCELL:1:1101:{}:{} 1:N:0:ACGTACGT\n", 1000 + i, 2000 + i);
      for (int j = 0; j < 100; ++j) out += "ACGT"[rng() % 4];
      out += "\n+\n" + std::string(100, 'F') + "\n";
    }
    return synthetic::Gzip(out);
  }

  // Sends the one chunk and completes; returns the registered file's id.
  std::string SendAndComplete(const std::string& upload, const std::string& op,
                              const std::string& bytes) {
    auto put = Call("PUT", "/api/v1/uploads/" + upload + "/chunks/0", op, bytes,
                    "application/octet-stream");
    EXPECT_EQ(put.status, 204) << put.body;
    auto done = Call("POST", "/api/v1/uploads/" + upload + "/complete", op);
    EXPECT_EQ(done.status, 200) << done.body;
    return nlohmann::json::parse(done.body)["file"].value("id", "");
  }

  RecordingAuditSink decisions_;  // access decisions (audit_ holds the modules' own records)
  std::vector<std::string> participants_;
  std::unique_ptr<specimens::Specimens> specimens_;
  std::filesystem::path dir_;
  std::unique_ptr<blobs::BlobStore> blobs_;
  std::unique_ptr<Uploads> uploads_;
  std::unique_ptr<consent::Ledger> ledger_;
  std::unique_ptr<sharing::Sharing> sharing_;
  std::unique_ptr<access::Gate> gate_;
};

}  // namespace zengen::sequencing::testing
