// End-to-end tests of sequencing uploads over HTTPS against the real zengen binary, on both
// metadata backends (issue 5): a facility's API token uploads a FASTQ pair in chunks, the run
// passes QC and custody moves; the file comes back re-encrypted for a reader's key and
// decrypts to the original bytes; every malformed FASTQ is refused with its reason while the
// server keeps serving; a full withdrawal stops delivery on the very next request.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <filesystem>
#include <fstream>

#include "crypto/crypt4gh.h"
#include "crypto/crypt4gh_python.h"
#include "crypto/crypto.h"
#include "support/browser.h"
#include "support/genomics.h"
#include "support/server_fixture.h"

namespace zengen::testing {
namespace {

using nlohmann::json;
constexpr const char* kPassword = "upload-test-passphrase-2026";
constexpr int64_t kChunk = 64 * 1024;
constexpr int64_t kLargestChunk = int64_t{64} << 20;  // sequencing::kMaxChunkSize

std::string Base64(const std::string& raw) {
  // The body line of a Crypt4GH public key file is the base64 of the key.
  const std::string file = crypto::crypt4gh::FormatPublicKey(raw);
  const auto begin = file.find('\n') + 1;
  return file.substr(begin, file.find('\n', begin) - begin);
}

class UploadE2eTest : public ServerTest {
 protected:
  // Lines appended to the server's zengen.conf.
  virtual std::vector<std::string> ConfigLines() const { return {}; }

  void SetUp() override {
    StartServer(ConfigLines());
    ASSERT_NE(server_, nullptr);
    ASSERT_NO_FATAL_FAILURE(AddOrganisations({{"hosp-a", "hospital"},
                                              {"seq-1", "sequencing_facility"},
                                              {"ana-1", "analysis_center"}}));
    for (const auto& [user, org, role] :
         std::vector<std::tuple<std::string, std::string, std::string>>{
             {"dr-a", "hosp-a", "clinician"}, {"ana", "ana-1", "analyst"}}) {
      ASSERT_NO_FATAL_FAILURE(AddPerson(user, org, role, kPassword, browsers_[user]));
    }
    // The sequencing facility's machine credential.
    token_ = Token("seq-1", "sequencing_operator",
                   {"specimen.custody", "specimen.read", "run.write", "run.read", "upload.write",
                    "file.read", "file.download"},
                   "sequencer-uploader");
    ASSERT_FALSE(token_.empty());

    auto p = As("dr-a").Send("POST", "/api/v1/participants",
                             {{"local_id", "MRN-9"}, {"program", "cancer"},
                              {"disease_category", "lung"}, {"index_date", "2026-03-02"}});
    ASSERT_TRUE(p && p->status == 201) << (p ? p->body : "no answer");
    participant_ = p->Json()["participant"]["id"];
    auto sp = As("dr-a").Send("POST", "/api/v1/participants/" + participant_ + "/specimens",
                              {{"tumour_normal", "tumour"}, {"specimen_type", "solid_tissue"},
                               {"preservation", "FFPE"}, {"collection_date", "2026-03-02"}});
    ASSERT_TRUE(sp && sp->status == 201) << (sp ? sp->body : "no answer");
    specimen_ = sp->Json()["id"];
    const std::string custody = "/api/v1/specimens/" + specimen_ + "/custody";
    ASSERT_EQ(As("dr-a").Send("POST", custody, {{"to", "shipped"}, {"destination", "seq-1"}})->status,
              200);
    for (const char* to : {"received", "library_prepared"}) {
      auto r = Api("POST", custody, json{{"to", to}});
      ASSERT_EQ(r->status, 200) << to << ": " << r->body;
    }
  }

  Browser& As(const std::string& user) { return browsers_.at(user); }

  std::optional<HttpResponse> Api(const std::string& method, const std::string& path,
                                  const json& body = nullptr) {
    return Call(token_, method, path, body);
  }

  std::string OpenRun(const std::string& layout) {
    auto r = Api("POST", "/api/v1/runs",
                 {{"specimen_id", specimen_}, {"instrument_model", "NovaSeq 6000"},
                  {"flowcell", "HFLOWCELL"}, {"library", "LIB-1"}, {"layout", layout}});
    EXPECT_TRUE(r && r->status == 201) << (r ? r->body : "no answer");
    return r ? r->Json().value("id", "") : "";
  }

  // Opens an upload and sends its chunks in reverse order; returns the upload id.
  std::string SendFile(const std::string& run, int read, const std::string& bytes,
                       const std::string& declared_sha = "") {
    auto u = Api("POST", "/api/v1/uploads",
                 {{"kind", "fastq"}, {"run_id", run}, {"read", read},
                  {"file_name", fmt::format("S1_R{}.fastq.gz", read)},
                  {"size", bytes.size()},
                  {"sha256", declared_sha.empty() ? crypto::Sha256Hex(bytes) : declared_sha},
                  {"chunk_size", kChunk}});
    EXPECT_TRUE(u && u->status == 201) << (u ? u->body : "no answer");
    if (!u || u->status != 201) return "";
    const std::string id = u->Json()["id"];
    const int64_t chunks = u->Json()["chunks"];
    for (int64_t i = chunks - 1; i >= 0; --i) {
      auto r = server_->Request(
          "PUT", fmt::format("/api/v1/uploads/{}/chunks/{}", id, i),
          {{"Authorization", "Bearer " + token_}, {"Content-Type", "application/octet-stream"}},
          bytes.substr(static_cast<size_t>(i * kChunk), static_cast<size_t>(kChunk)));
      EXPECT_TRUE(r && r->status == 204) << (r ? r->body : "no answer");
    }
    return id;
  }

  std::map<std::string, Browser> browsers_;
  std::string token_;
  std::string participant_;
  std::string specimen_;
};

TEST_P(UploadE2eTest, PairUploadIngestsPassesQcAndDownloadsReencrypted) {
  const std::string run = OpenRun("paired");
  const std::string r1 = Gzip(Fastq(3000, 1));
  const std::string r2 = Gzip(Fastq(3000, 2));

  // An interrupted upload: completion before the last chunk answers 409 and resumes.
  auto u1 = Api("POST", "/api/v1/uploads",
                {{"kind", "fastq"}, {"run_id", run}, {"read", 1}, {"file_name", "S1_R1.fastq.gz"},
                 {"size", r1.size()}, {"sha256", crypto::Sha256Hex(r1)}, {"chunk_size", kChunk}});
  ASSERT_EQ(u1->status, 201) << u1->body;
  const std::string id1 = u1->Json()["id"];
  const int64_t chunks = u1->Json()["chunks"];
  ASSERT_GE(chunks, 2);
  auto put = [&](int64_t i) {
    return server_->Request("PUT", fmt::format("/api/v1/uploads/{}/chunks/{}", id1, i),
                            {{"Authorization", "Bearer " + token_},
                             {"Content-Type", "application/octet-stream"}},
                            r1.substr(static_cast<size_t>(i * kChunk), kChunk));
  };
  for (int64_t i = 1; i < chunks; ++i) ASSERT_EQ(put(i)->status, 204);
  auto early = Api("POST", "/api/v1/uploads/" + id1 + "/complete");
  ASSERT_EQ(early->status, 409) << early->body;
  EXPECT_EQ(early->ErrorCode(), "chunks_missing");
  EXPECT_EQ(Api("GET", "/api/v1/uploads/" + id1)->Json()["missing"], json::array({0}));
  ASSERT_EQ(put(0)->status, 204);
  auto c1 = Api("POST", "/api/v1/uploads/" + id1 + "/complete");
  ASSERT_EQ(c1->status, 200) << c1->body;
  EXPECT_EQ(c1->Json()["run"]["status"], "open");

  auto c2 = Api("POST", "/api/v1/uploads/" + SendFile(run, 2, r2) + "/complete");
  ASSERT_EQ(c2->status, 200) << c2->body;
  const json done = c2->Json();
  EXPECT_EQ(done["run"]["status"], "qc_passed") << done.dump();
  EXPECT_EQ(done["custody"], json::array({"sequenced", "qc_passed"}));
  EXPECT_EQ(done["file"]["report"]["reads"], 3000);
  EXPECT_EQ(As("dr-a").Send("GET", "/api/v1/specimens/" + specimen_)->Json()["state"], "qc_passed");
  const std::string file2 = done["file"]["id"];

  // Two copies on disk, Crypt4GH, never the plaintext.
  auto meta = Api("GET", "/api/v1/files/" + file2);
  ASSERT_EQ(meta->status, 200) << meta->body;
  EXPECT_EQ(meta->Json()["uploaded_sha256"], crypto::Sha256Hex(r2));

  const auto reader = crypto::crypt4gh::GenerateKeyPair();
  auto dl = Api("GET", "/api/v1/files/" + file2 + "/content?public_key=" + Base64(reader.public_key));
  ASSERT_EQ(dl->status, 200) << dl->body;
  EXPECT_EQ(dl->headers["content-type"], "application/vnd.ga4gh.crypt4gh");
  auto plain = crypto::crypt4gh::Decrypt(dl->body, reader.secret_key);
  ASSERT_TRUE(plain.ok()) << plain.error().message;
  EXPECT_TRUE(*plain == r2) << "re-encrypted download must decrypt to the uploaded bytes";
  // And so does an independent implementation (PyNaCl, Debian's python3-nacl).
  {
    const auto dir = std::filesystem::temp_directory_path() /
                     ("zg-c4gh-" + crypto::ToHex(crypto::RandomBytes(6)));
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "in.c4gh", std::ios::binary) << dl->body;
    const auto py = crypto::testing::RunPython(
        crypto::testing::kCrypt4ghDecryptPy,
        {crypto::ToHex(reader.secret_key), (dir / "in.c4gh").string(), (dir / "out").string()});
    EXPECT_EQ(py.exit_code, 0) << py.output;
    EXPECT_TRUE(ReadFileBytes((dir / "out").string()) == r2) << "PyNaCl disagrees";
    std::filesystem::remove_all(dir);
  }
  // The facility's token may not ask for plaintext; a malformed key is a 400 naming it.
  EXPECT_EQ(Api("GET", "/api/v1/files/" + file2 + "/plaintext")->status, 403);
  auto badkey = Api("GET", "/api/v1/files/" + file2 + "/content?public_key=abc");
  EXPECT_EQ(badkey->status, 400);
  EXPECT_EQ(badkey->ErrorField(), "public_key");
  EXPECT_EQ(As("dr-a").Send("GET", "/api/v1/files/" + file2)->status, 403)
      << "hospitals do not read genome files";

  // A full withdrawal: the very next download is refused.
  auto icf = As("dr-a").Send("GET", "/api/v1/icf/cancer/1.0/ja");
  json decisions = json::object();
  const json items = icf->Json()["items"];
  for (const auto& item : items) decisions[item["code"].get<std::string>()] = "permit";
  decisions["C11"] = "deny";
  ASSERT_EQ(As("dr-a").Send("POST", "/api/v1/participants/" + participant_ + "/consents",
                            {{"kind", "initial"}, {"icf_version", "1.0"}, {"language", "ja"},
                             {"decisions", decisions}, {"signed_date", "2026-03-02"},
                             {"details", {{"signer", "self"}, {"method", "paper"}}}})
                ->status,
            201);
  ASSERT_EQ(Api("GET", "/api/v1/files/" + file2 + "/content?public_key=" +
                           Base64(reader.public_key))->status,
            200);
  ASSERT_EQ(As("dr-a").Send("POST", "/api/v1/participants/" + participant_ + "/withdrawal",
                            {{"level", "full"}, {"signed_date", "2026-04-01"}, {"reason", "test"}})
                ->status,
            201);
  auto refused = Api("GET", "/api/v1/files/" + file2 + "/content?public_key=" +
                                Base64(reader.public_key));
  EXPECT_EQ(refused->status, 403) << refused->body;
}

TEST_P(UploadE2eTest, MalformedFastqIsRefusedWithItsReasonWhileTheServerServes) {
  const std::string good = Fastq(40, 1);
  std::string crlf = good;
  crlf.replace(crlf.find('\n'), 1, "\r\n");
  std::string mismatch = good;
  mismatch.replace(mismatch.find("\n+\n") + 3, 1, "");
  std::string bad_char = good;
  bad_char[bad_char.find('\n') + 3] = '!';
  const std::string gz = Gzip(good);
  const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
      {"crlf", crlf, "fastq_crlf"},
      {"length mismatch", mismatch, "fastq_length_mismatch"},
      {"bad character", bad_char, "fastq_bad_sequence"},
      {"truncated gzip", gz.substr(0, gz.size() - 30), "gzip_truncated"},
      {"empty after inflate", Gzip(""), "fastq_empty"},
      {"multi-megabyte header", "@" + std::string(2 << 20, 'h') + "\nACGT\n+\nFFFF\n",
       "fastq_header_too_long"},
      {"fixture quality_mismatch",
       ReadFileBytes(ZENGEN_FIXTURES_DIR "/bio-data-zoo/fastq/bad/quality_mismatch.fastq"), ""},
      {"fixture truncated_halfway",
       ReadFileBytes(ZENGEN_FIXTURES_DIR "/bio-data-zoo/fastq/bad/truncated_halfway.fastq"), ""},
      {"fixture truncated_clean",
       ReadFileBytes(ZENGEN_FIXTURES_DIR "/bio-data-zoo/fastq/bad/truncated_clean.fastq"), ""},
  };
  for (const auto& [what, bytes, code] : cases) {
    SCOPED_TRACE(what);
    const std::string run = OpenRun("single");
    const std::string id = SendFile(run, 1, bytes);
    auto r = Api("POST", "/api/v1/uploads/" + id + "/complete");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << r->body;
    ASSERT_FALSE(bytes.empty());
    if (!code.empty()) {
      EXPECT_EQ(r->ErrorCode(), code) << r->body;
    } else {
      EXPECT_TRUE(r->ErrorCode().starts_with("fastq_")) << r->body;
    }
    EXPECT_EQ(Api("GET", "/api/v1/uploads/" + id)->Json()["status"], "rejected");
    EXPECT_EQ(server_->Request("GET", "/healthz")->status, 200);
  }
  // An empty file cannot even be announced; a wrong checksum rejects the upload.
  const std::string run = OpenRun("single");
  auto empty = Api("POST", "/api/v1/uploads",
                   {{"kind", "fastq"}, {"run_id", run}, {"read", 1}, {"file_name", "e.fq"},
                    {"size", 0}, {"sha256", crypto::Sha256Hex("")}});
  EXPECT_EQ(empty->status, 400);
  EXPECT_EQ(empty->ErrorField(), "size");
  const std::string lying = SendFile(run, 1, gz, crypto::Sha256Hex("other"));
  auto mismatch_sha = Api("POST", "/api/v1/uploads/" + lying + "/complete");
  EXPECT_EQ(mismatch_sha->ErrorCode(), "checksum_mismatch");
  // Malformed requests: unknown field, wrong chunk size, wrong media type.
  auto unknown = Api("POST", "/api/v1/uploads", {{"kind", "fastq"}, {"colour", "blue"}});
  EXPECT_EQ(unknown->status, 400);
  EXPECT_EQ(unknown->ErrorField(), "colour");
  const std::string open = SendFile(run, 1, gz);
  auto wrong_size = server_->Request("PUT", "/api/v1/uploads/" + open + "/chunks/0",
                                     {{"Authorization", "Bearer " + token_},
                                      {"Content-Type", "application/octet-stream"}},
                                     "tiny");
  EXPECT_EQ(wrong_size->status, 400);
  EXPECT_EQ(wrong_size->ErrorCode(), "invalid_chunk_size");
  auto wrong_type = server_->Request("PUT", "/api/v1/uploads/" + open + "/chunks/0",
                                     {{"Authorization", "Bearer " + token_},
                                      {"Content-Type", "text/plain"}},
                                     gz);
  EXPECT_EQ(wrong_type->status, 415);
  // After all of it, a good file still goes through.
  auto ok = Api("POST", "/api/v1/uploads/" + open + "/complete");
  EXPECT_EQ(ok->status, 200) << ok->body;
}

INSTANTIATE_TEST_SUITE_P(Backends, UploadE2eTest,
                         ::testing::ValuesIn(storage::TestBackends()),
                         [](const auto& info) { return info.param; });

// Issue 13 item 2: a chunk of the largest size (64 MiB) with a body memory budget of a quarter
// of it. Held whole in memory, it was refused (503 server_busy); spooled, it holds 1 MiB of the
// budget, and it is staged a piece at a time.
class LargeChunkUploadTest : public UploadE2eTest {
 protected:
  std::vector<std::string> ConfigLines() const override {
    return {"body_memory_budget_bytes = 16777216", "read_timeout_ms = 300000"};
  }

  // One request on a fresh connection, with a long wait for the answer (64 MiB on a busy
  // machine).
  std::optional<HttpResponse> Slow(const std::string& method, const std::string& path,
                                   const std::string& body = "") {
    auto c = server_->Connect();
    if (!c) return std::nullopt;
    std::map<std::string, std::string> h = {{"Authorization", "Bearer " + token_}};
    if (!body.empty()) h["Content-Type"] = "application/octet-stream";
    if (!c->Send(BuildRequest(method, path, h, body))) return std::nullopt;
    return c->Read(300000);
  }
};

TEST_P(LargeChunkUploadTest, LimitSizedChunkIsSpooledStagedAndStoredIntact) {
  const std::string run = OpenRun("single");
  int reads = 230000;
  std::string fastq = Fastq(reads, 1);
  while (static_cast<int64_t>(fastq.size()) <= kLargestChunk) {
    fastq += Fastq(10000, 1, reads);
    reads += 10000;
  }
  auto u = Api("POST", "/api/v1/uploads",
               {{"kind", "fastq"}, {"run_id", run}, {"read", 1}, {"file_name", "S1_R1.fastq"},
                {"size", fastq.size()}, {"sha256", crypto::Sha256Hex(fastq)},
                {"chunk_size", kLargestChunk}});
  ASSERT_TRUE(u && u->status == 201) << (u ? u->body : "no answer");
  const std::string id = u->Json()["id"];
  ASSERT_EQ(u->Json()["chunks"], 2);
  const auto chunk = [&](int i) {
    const size_t at = static_cast<size_t>(i * kLargestChunk);
    return fastq.substr(at, static_cast<size_t>(kLargestChunk));
  };
  for (int i : {0, 1}) {
    auto r = Slow("PUT", fmt::format("/api/v1/uploads/{}/chunks/{}", id, i), chunk(i));
    ASSERT_TRUE(r) << "no answer to chunk " << i << "; server log:\n" << server_->Log();
    ASSERT_EQ(r->status, 204) << "chunk " << i << ": " << r->body;
  }
  // The spool keeps nothing once the requests are answered (its files never had a name).
  EXPECT_TRUE(std::filesystem::is_empty(server_->data_dir() / "spool"));
  auto done = Slow("POST", "/api/v1/uploads/" + id + "/complete");
  ASSERT_TRUE(done) << "no answer to complete; running: " << server_->Running()
                    << "; server log:\n" << server_->Log();
  ASSERT_EQ(done->status, 200) << done->body;
  EXPECT_EQ(done->Json()["file"]["report"]["reads"], reads);
  EXPECT_EQ(done->Json()["file"]["uploaded_sha256"], crypto::Sha256Hex(fastq));
  const std::string file = done->Json()["file"]["id"];
  const auto reader = crypto::crypt4gh::GenerateKeyPair();
  auto dl = Slow("GET", "/api/v1/files/" + file + "/content?public_key=" + Base64(reader.public_key));
  ASSERT_TRUE(dl);
  ASSERT_EQ(dl->status, 200) << dl->body;
  auto plain = crypto::crypt4gh::Decrypt(dl->body, reader.secret_key);
  ASSERT_TRUE(plain.ok()) << plain.error().message;
  EXPECT_TRUE(*plain == fastq) << "the stored file must decrypt to the uploaded bytes";
}

INSTANTIATE_TEST_SUITE_P(Backends, LargeChunkUploadTest,
                         ::testing::ValuesIn(storage::TestBackends()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace zengen::testing
