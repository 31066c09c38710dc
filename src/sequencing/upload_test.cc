// Runs, resumable uploads, the FASTQ and analysis-file completion paths and downloads, on
// both metadata backends, with the real blob store (replicated directories), the real
// Crypt4GH code and the real htslib sanitiser.
#include "sequencing/upload.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <random>

#include <sys/stat.h>

#include <fmt/format.h>

#include "audit/testing.h"
#include "blobs/local_store.h"
#include "crypto/crypt4gh.h"
#include "crypto/crypto.h"
#include "participants/participants.h"
#include "sequencing/synthetic.h"
#include "specimens/analysis_orders.h"
#include "storage/testing.h"

namespace zengen::sequencing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using specimens::Actor;
using genomefiles::AnalysisSanitiser;
using genomefiles::DataFile;
using genomefiles::HtsSanitiser;
using genomefiles::OpenObjectStream;
using genomefiles::SanitisedFile;
using genomefiles::UploadKeys;
using SeqRun = ::zengen::sequencing::Run;
namespace c4gh = ::zengen::crypto::crypt4gh;

Actor Person(std::string user, std::string org, std::string role) {
  return {std::move(user), std::move(org), {std::move(role)}, "10.0.0.1", "req-1"};
}
const Actor kClin = Person("clin-a", "hosp-a", "clinician");
const Actor kOp1 = Person("op-1", "seq-1", "sequencing_operator");
const Actor kOp2 = Person("op-2", "seq-2", "sequencing_operator");
const Actor kAn1 = Person("an-1", "ac-1", "analyst");

std::string ReadFile(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// `reads` Illumina-like records of length `len`; quality 'F' (Q37) or `quality` when given.
// mate 1 or 2 gives the CASAVA comment; `name_offset` shifts the names (a mismatching mate).
std::string Fastq(int reads, int len, int mate, char quality = 'F', int name_offset = 0,
                  unsigned seed = 1) {
  std::mt19937 rng(seed + static_cast<unsigned>(mate));
  std::string out;
  for (int i = 0; i < reads; ++i) {
    out += fmt::format("@A00123:8:HFLOWCELL:1:1101:{}:{} {}:N:0:ACGTACGT\n", 1000 + i + name_offset,
                       2000 + i, mate);
    for (int j = 0; j < len; ++j) out += "ACGT"[rng() % 4];
    out += "\n+\n";
    out += std::string(static_cast<size_t>(len), quality);
    out += "\n";
  }
  return out;
}

class UploadsTest : public ::testing::TestWithParam<std::string> {
 protected:
  UploadsTest() : clock_(std::chrono::sys_days{std::chrono::year{2026} / 11 / 24}) {}

  void SetUp() override {
    auto db = storage::ScratchDatabase::Create(GetParam());
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_.emplace(std::move(*db));
    auto store = storage::OpenStore({.location = db_->location(), .pool_size = 4});
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_ = std::move(*store);
    {
      auto tx = store_->Begin(storage::TxMode::kWrite);
      ASSERT_TRUE(tx.ok());
      for (const auto& [id, kind] : std::vector<std::pair<std::string, std::string>>{
               {"hosp-a", "hospital"},
               {"seq-1", "sequencing_facility"},
               {"seq-2", "sequencing_facility"},
               {"ac-1", "analysis_center"}}) {
        ASSERT_TRUE((*tx)
                        ->Exec("INSERT INTO organisations (id, name, kind, jurisdiction, "
                               "created_at) VALUES ($1, $1, $2, 'JP', '2026-01-01T00:00:00Z')",
                               {storage::Text(id), storage::Text(kind)})
                        .ok());
      }
      ASSERT_TRUE((*tx)->Commit().ok());
    }
    participants::Registry registry(*store_, clock_, audit_, std::string(32, 'k'));
    auto p = registry.Register({"hosp-a", "MRN-1", "cancer", "lung", "2026-06-01"}, "clin-a",
                               "cli", "");
    ASSERT_TRUE(p.ok()) << p.error().message;
    participant_ = p->participant.id;
    specimens_ = std::make_unique<specimens::Specimens>(*store_, clock_, audit_);
    // The data centre's standing order: specimens passing QC are analysed by ac-1.
    ASSERT_TRUE(specimens::AnalysisOrders(*store_, clock_, audit_)
                    .SetRule("cancer", "ac-1", {"steward", "dc", {"data_steward"}, "cli", ""})
                    .ok());

    dir_ = fs::temp_directory_path() / ("zg-upload-" + crypto::ToHex(crypto::RandomBytes(6)));
    std::vector<blobs::Root> roots;
    for (const auto& [name, tier] : std::vector<std::pair<std::string, std::string>>{
             {"hot1", "hot"}, {"hot2", "hot"}, {"cold1", "cold"}, {"cold2", "cold"}}) {
      fs::create_directories(dir_ / name);
      roots.push_back({name, dir_ / name, tier, "JP"});
    }
    auto bs = blobs::LocalStore::Create(
        {.roots = std::move(roots), .allowed_jurisdictions = {"JP"}, .replicas = 2}, *store_,
        clock_, audit_);
    ASSERT_TRUE(bs.ok()) << bs.error().message;
    blobs_ = std::move(*bs);
    const auto dc = crypto::crypt4gh::GenerateKeyPair();
    uploads_ = std::make_unique<Uploads>(*store_, clock_, audit_, *blobs_, *specimens_,
                                         dir_ / "staging", UploadKeys{dc.secret_key, dc.public_key},
                                         DefaultQcThresholds(), HtsSanitiser());
  }

  void TearDown() override {
    uploads_.reset();
    blobs_.reset();
    specimens_.reset();
    store_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // A specimen moved to `state` along the canonical path (shipped to seq-1).
  std::string Specimen(std::string_view state) {
    auto s = specimens_->Register({participant_, "tumour", "solid_tissue", "FFPE", "2026-06-02", ""},
                                  kClin);
    EXPECT_TRUE(s.ok()) << s.error().message;
    const std::vector<std::pair<std::string, Actor>> path = {
        {"shipped", kClin},   {"received", kOp1},  {"library_prepared", kOp1},
        {"sequenced", kOp1},  {"qc_passed", kOp1}, {"analysed", kAn1}};
    std::string current = "collected";
    for (const auto& [to, actor] : path) {
      if (current == state) break;
      auto r = specimens_->Custody(s->id, {to, "", to == "shipped" ? "seq-1" : ""}, actor);
      EXPECT_TRUE(r.ok()) << to << ": " << r.error().message;
      current = to;
    }
    return s->id;
  }

  SeqRun OpenRun(const std::string& specimen, std::string layout = "paired",
              std::string instrument = "NovaSeq 6000") {
    auto r = uploads_->CreateRun({specimen, instrument, "HFLOWCELL", "LIB-1", layout}, kOp1);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return *r;
  }

  // Opens an upload of `bytes` and sends every chunk (last first, chunk 0 twice).
  Upload Send(NewUpload n, const std::string& bytes, const Actor& actor = kOp1,
              std::vector<int64_t> skip = {}) {
    n.size = static_cast<int64_t>(bytes.size());
    if (n.sha256.empty()) n.sha256 = crypto::Sha256Hex(bytes);
    n.chunk_size = kMinChunkSize;
    auto u = uploads_->Create(n, actor);
    EXPECT_TRUE(u.ok()) << u.error().code << ": " << u.error().message;
    if (!u.ok()) return {};
    for (int64_t i = u->chunks() - 1; i >= 0; --i) {
      if (std::find(skip.begin(), skip.end(), i) != skip.end()) continue;
      const std::string chunk = bytes.substr(static_cast<size_t>(i * u->chunk_size),
                                             static_cast<size_t>(u->ChunkLength(i)));
      EXPECT_TRUE(uploads_->PutChunk(u->id, i, chunk, actor).ok());
    }
    if (u->chunks() > 0 && std::find(skip.begin(), skip.end(), 0) == skip.end()) {
      EXPECT_TRUE(
          uploads_->PutChunk(u->id, 0, bytes.substr(0, static_cast<size_t>(u->ChunkLength(0))), actor)
              .ok());
    }
    return *u;
  }

  NewUpload FastqUpload(const SeqRun& run, int read, std::string name = "") {
    NewUpload n;
    n.kind = "fastq";
    n.run_id = run.id;
    n.read = read;
    n.file_name = name.empty() ? fmt::format("S1_R{}.fastq.gz", read) : name;
    return n;
  }

  int64_t Count(const std::string& table) {
    auto tx = store_->Begin(storage::TxMode::kRead);
    auto rows = (*tx)->Query("SELECT COUNT(*) FROM " + table);
    return rows->rows.front().Int(0);
  }

  // Files on disk under the blob roots (every stored copy, plus any leftover).
  int64_t FilesUnderRoots() {
    int64_t n = 0;
    for (const auto& root : {"hot1", "hot2", "cold1", "cold2"}) {
      for (const auto& e : fs::recursive_directory_iterator(dir_ / root)) {
        if (e.is_regular_file()) ++n;
      }
    }
    return n;
  }

  // Every piece of a delivery stream, checked against the length it declared up front (the
  // HTTP Content-Length).
  std::string DrainBlob(const std::string& blob_id, const std::string& pk) {
    auto stream = OpenObjectStream(*blobs_, blob_id, uploads_->keys(), pk);
    EXPECT_TRUE(stream.ok()) << stream.error().message;
    if (!stream.ok()) return "";
    std::string out;
    for (;;) {
      auto piece = stream->next();
      EXPECT_TRUE(piece.ok()) << piece.error().message;
      if (!piece.ok() || piece->empty()) break;
      out += *piece;
    }
    EXPECT_EQ(static_cast<int64_t>(out.size()), stream->length);
    return out;
  }

  std::string Download(const DataFile& f, const std::string& pk, bool index = false) {
    return DrainBlob(index ? f.index_blob_id : f.blob_id, pk);
  }

  FakeClock clock_;
  RecordingAuditSink audit_;
  std::optional<storage::ScratchDatabase> db_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<specimens::Specimens> specimens_;
  std::unique_ptr<blobs::LocalStore> blobs_;
  std::unique_ptr<Uploads> uploads_;
  std::string participant_;
  fs::path dir_;
};

TEST_P(UploadsTest, PairedRunRoundTripMovesCustodyAndDownloadsByteIdentical) {
  const std::string sp = Specimen("library_prepared");
  const SeqRun run = OpenRun(sp);
  const std::string r1 = synthetic::Gzip(Fastq(5000, 100, 1));
  const std::string r2 = synthetic::Gzip(Fastq(5000, 100, 2));
  ASSERT_GT(r1.size(), static_cast<size_t>(2 * kMinChunkSize));  // several chunks

  const Upload u1 = Send(FastqUpload(run, 1), r1);
  auto c1 = uploads_->Complete(u1.id, kOp1);
  ASSERT_TRUE(c1.ok()) << c1.error().code << ": " << c1.error().message;
  EXPECT_EQ(c1->run->status, "open");  // waits for its mate
  EXPECT_TRUE(c1->custody.empty());
  EXPECT_EQ(c1->file.report["reads"], 5000);
  EXPECT_EQ(c1->file.uploaded_sha256, crypto::Sha256Hex(r1));
  EXPECT_EQ(c1->file.uploaded_md5.size(), 32u);

  const Upload u2 = Send(FastqUpload(run, 2), r2);
  auto c2 = uploads_->Complete(u2.id, kOp1);
  ASSERT_TRUE(c2.ok()) << c2.error().code << ": " << c2.error().message;
  EXPECT_EQ(c2->run->status, "qc_passed");
  EXPECT_EQ(c2->run->verdict["reads"], 10000);
  EXPECT_EQ(c2->custody, (std::vector<std::string>{"sequenced", "qc_passed"}));
  EXPECT_EQ(specimens_->Get(sp)->specimen.state, "qc_passed");

  // Two verified copies of each, in the cold tier, encrypted (not the plaintext).
  for (const auto& c : {*c1, *c2}) {
    auto info = blobs_->Stat(c.file.blob_id);
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info->tier, "cold");
    ASSERT_EQ(info->copies.size(), 2u);
    EXPECT_EQ(info->plaintext_sha256, c.file.uploaded_sha256);
    EXPECT_NE(info->stored_sha256, c.file.uploaded_sha256);
  }
  // Staging is gone.
  EXPECT_FALSE(fs::exists(dir_ / "staging" / u1.id));

  // Re-encrypted for a reader's key, decrypted by the reader: byte-identical.
  const auto reader = crypto::crypt4gh::GenerateKeyPair();
  const std::string enc = Download(c2->file, reader.public_key);
  auto plain = crypto::crypt4gh::Decrypt(enc, reader.secret_key);
  ASSERT_TRUE(plain.ok()) << plain.error().message;
  EXPECT_TRUE(*plain == r2);
  // The data center's own key no longer opens the re-encrypted header.
  EXPECT_FALSE(crypto::crypt4gh::Decrypt(enc, uploads_->keys().secret_key).ok());
  // Decrypted delivery gives the original too.
  EXPECT_TRUE(Download(c1->file, "") == r1);

  auto files = uploads_->files().ListRunFiles(run.id);
  ASSERT_TRUE(files.ok());
  ASSERT_EQ(files->size(), 2u);
  EXPECT_EQ((*files)[0].read, 1);
  EXPECT_EQ((*files)[1].participant_id, participant_);
}

TEST_P(UploadsTest, InterruptedUploadResumesAndReportsMissingChunks) {
  const SeqRun run = OpenRun(Specimen("sequenced"), "single");
  const std::string r1 = synthetic::Gzip(Fastq(3000, 100, 1));
  const Upload u = Send(FastqUpload(run, 1), r1, kOp1, /*skip=*/{1});
  auto progress = uploads_->Get(u.id);
  ASSERT_TRUE(progress.ok());
  EXPECT_EQ(progress->missing, std::vector<int64_t>{1});
  auto open = uploads_->ListOpenRunUploads(run.id);
  ASSERT_TRUE(open.ok());
  ASSERT_EQ(open->size(), 1u);
  EXPECT_EQ(open->front().id, u.id);
  auto early = uploads_->Complete(u.id, kOp1);
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.error().code, "chunks_missing");
  EXPECT_EQ(uploads_->Get(u.id)->upload.status, "open");  // still resumable
  // Bad chunks are refused without harm.
  EXPECT_EQ(uploads_->PutChunk(u.id, 1, "short", kOp1).error().code, "invalid_chunk_size");
  EXPECT_EQ(uploads_->PutChunk(u.id, u.chunks(), "x", kOp1).error().code, "invalid_chunk_index");
  const std::string chunk1 = r1.substr(static_cast<size_t>(u.chunk_size),
                                       static_cast<size_t>(u.ChunkLength(1)));
  const size_t audited = audit_.events().size();
  ASSERT_TRUE(uploads_->PutChunk(u.id, 1, chunk1, kOp1).ok());
  // The staged chunk is an audit record (refused ones were answered without one).
  ASSERT_EQ(audit_.events().size(), audited + 1);
  const AuditEvent staged = audit_.events().back();
  EXPECT_EQ(staged.action, "upload.chunk");
  EXPECT_EQ(staged.resource, "upload/" + u.id);
  EXPECT_EQ(staged.actor, kOp1.user);
  const auto details = nlohmann::json::parse(staged.details);
  EXPECT_EQ(details["index"], 1);
  EXPECT_EQ(details["sha256"], crypto::Sha256Hex(chunk1));
  auto done = uploads_->Complete(u.id, kOp1);
  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_EQ(done->run->status, "qc_passed");
  EXPECT_TRUE(uploads_->ListOpenRunUploads(run.id)->empty());
  EXPECT_EQ(uploads_->Complete(u.id, kOp1).error().code, "upload_not_open");
}

TEST_P(UploadsTest, ChecksumMismatchRejectsAndStoresNothing) {
  const SeqRun run = OpenRun(Specimen("sequenced"), "single");
  const std::string r1 = synthetic::Gzip(Fastq(2000, 100, 1));
  NewUpload n = FastqUpload(run, 1);
  n.sha256 = crypto::Sha256Hex("something else");
  const Upload u = Send(n, r1);
  auto done = uploads_->Complete(u.id, kOp1);
  ASSERT_FALSE(done.ok());
  EXPECT_EQ(done.error().code, "checksum_mismatch");
  EXPECT_EQ(Count("blobs"), 0);
  EXPECT_EQ(Count("data_files"), 0);
  EXPECT_EQ(FilesUnderRoots(), 0);
  EXPECT_FALSE(fs::exists(dir_ / "staging" / u.id));
  auto after = uploads_->Get(u.id);
  EXPECT_EQ(after->upload.status, "rejected");
  EXPECT_EQ(after->upload.error["code"], "checksum_mismatch");
  EXPECT_EQ(uploads_->PutChunk(u.id, 0, "x", kOp1).error().code, "upload_not_open");
  // The read is free again for a correct upload.
  const Upload again = Send(FastqUpload(run, 1), r1);
  EXPECT_TRUE(uploads_->Complete(again.id, kOp1).ok());
}

TEST_P(UploadsTest, MalformedFastqIsRejectedWithItsReasonAndNothingStays) {
  const std::string good = Fastq(50, 100, 1);
  std::string crlf = good;
  crlf.replace(crlf.find('\n'), 1, "\r\n");
  std::string mismatch = good;
  mismatch.replace(mismatch.find("\n+\n") + 3, 1, "");  // one quality char short
  std::string bad_char = good;
  bad_char[bad_char.find('\n') + 5] = 'X';
  const std::string gz = synthetic::Gzip(good);
  const std::string truncated_gz = gz.substr(0, gz.size() - 20);
  const std::string huge_header = "@" + std::string(3 << 20, 'h') + "\nACGT\n+\nFFFF\n";
  const fs::path fixtures = ZENGEN_FIXTURES_DIR;
  const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
      {"crlf", crlf, "fastq_crlf"},
      {"length mismatch", mismatch, "fastq_length_mismatch"},
      {"bad character", bad_char, "fastq_bad_sequence"},
      {"truncated gzip", truncated_gz, "gzip_truncated"},
      {"empty gzip", synthetic::Gzip(""), "fastq_empty"},
      {"multi-megabyte header", huge_header, "fastq_header_too_long"},
      {"fixture quality_mismatch",
       ReadFile(fixtures / "bio-data-zoo/fastq/bad/quality_mismatch.fastq"), ""},
      {"fixture truncated_halfway",
       ReadFile(fixtures / "bio-data-zoo/fastq/bad/truncated_halfway.fastq"), ""},
      {"fixture truncated_clean",
       ReadFile(fixtures / "bio-data-zoo/fastq/bad/truncated_clean.fastq"), ""},
  };
  const std::string sp = Specimen("sequenced");
  for (const auto& [what, bytes, code] : cases) {
    SCOPED_TRACE(what);
    const SeqRun run = OpenRun(sp, "single");
    const Upload u = Send(FastqUpload(run, 1), bytes);
    auto done = uploads_->Complete(u.id, kOp1);
    ASSERT_FALSE(done.ok());
    if (!code.empty()) {
      EXPECT_EQ(done.error().code, code) << done.error().message;
    }
    EXPECT_EQ(done.error().kind, ErrorKind::kInvalidArgument) << done.error().code;
    EXPECT_FALSE(done.error().message.empty());
    EXPECT_EQ(uploads_->Get(u.id)->upload.status, "rejected");
  }
  EXPECT_EQ(Count("blobs"), 0);
  EXPECT_EQ(Count("data_files"), 0);
  EXPECT_EQ(FilesUnderRoots(), 0);
  EXPECT_EQ(specimens_->Get(sp)->specimen.state, "sequenced");  // custody untouched
}

TEST_P(UploadsTest, MismatchedMateIsRejectedAndTheRunWaitsForACorrectOne) {
  const std::string sp = Specimen("sequenced");
  const SeqRun run = OpenRun(sp);
  ASSERT_TRUE(uploads_->Complete(Send(FastqUpload(run, 1), Fastq(1500, 100, 1)).id, kOp1).ok());
  const int64_t blobs_before = Count("blobs");
  auto names = uploads_->Complete(Send(FastqUpload(run, 2), Fastq(1500, 100, 2, 'F', 7)).id, kOp1);
  ASSERT_FALSE(names.ok());
  EXPECT_EQ(names.error().code, "pair_name_mismatch");
  auto count = uploads_->Complete(Send(FastqUpload(run, 2), Fastq(1499, 100, 2)).id, kOp1);
  ASSERT_FALSE(count.ok());
  EXPECT_EQ(count.error().code, "pair_read_count_mismatch");
  EXPECT_EQ(Count("blobs"), blobs_before);
  EXPECT_EQ(uploads_->GetRun(run.id)->status, "open");
  auto ok = uploads_->Complete(Send(FastqUpload(run, 2), Fastq(1500, 100, 2)).id, kOp1);
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->run->status, "qc_passed");
}

TEST_P(UploadsTest, FailedQcMovesCustodyToQcFailedAndFlagsNonStandardInstrument) {
  const std::string sp = Specimen("library_prepared");
  const SeqRun run = OpenRun(sp, "single", "MiSeq");
  EXPECT_TRUE(run.non_standard_instrument);
  auto done = uploads_->Complete(Send(FastqUpload(run, 1), Fastq(2000, 100, 1, '+')).id, kOp1);
  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_EQ(done->run->status, "qc_failed");
  EXPECT_EQ(done->run->verdict["pass"], false);
  EXPECT_TRUE(done->run->verdict["non_standard_instrument"].get<bool>());
  EXPECT_FALSE(done->run->verdict["reasons"].empty());
  EXPECT_EQ(done->custody, (std::vector<std::string>{"sequenced", "qc_failed"}));
  EXPECT_EQ(specimens_->Get(sp)->specimen.state, "qc_failed");
  // The file is kept (it is valid FASTQ); the run is closed.
  EXPECT_EQ(Count("data_files"), 1);
  // A well-formed upload for the closed run is refused because of the run, not the input.
  NewUpload late_upload = FastqUpload(run, 1);
  late_upload.size = 100;
  late_upload.sha256 = std::string(64, 'a');
  late_upload.chunk_size = kMinChunkSize;
  auto late = uploads_->Create(late_upload, kOp1);
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code, "run_not_open");
}

TEST_P(UploadsTest, RunsAndUploadsCheckWhoAndWhenWithSpecificErrors) {
  const std::string sp = Specimen("library_prepared");
  EXPECT_EQ(uploads_->CreateRun({sp, "NovaSeq X", "FC", "L", "paired"}, kOp2).error().code,
            "not_specimen_holder");
  EXPECT_EQ(uploads_->CreateRun({Specimen("received"), "NovaSeq X", "FC", "L", "paired"}, kOp1)
                .error()
                .code,
            "invalid_specimen_state");
  EXPECT_EQ(uploads_->CreateRun({sp, "NovaSeq X", "FC", "L", "triple"}, kOp1).error().field,
            "layout");
  EXPECT_EQ(uploads_->CreateRun({sp, "", "FC", "L", "paired"}, kOp1).error().field,
            "instrument_model");
  EXPECT_EQ(uploads_->CreateRun({"SP-NONE", "NovaSeq X", "FC", "L", "paired"}, kOp1).error().code,
            "specimen_not_found");
  const SeqRun run = OpenRun(sp, "single");
  NewUpload n = FastqUpload(run, 1);
  n.size = 100;
  n.sha256 = std::string(64, 'a');
  EXPECT_EQ(uploads_->Create(n, kOp2).error().code, "not_run_facility");
  n.read = 2;
  EXPECT_EQ(uploads_->Create(n, kOp1).error().field, "read");
  n.read = 1;
  n.sha256 = "xyz";
  EXPECT_EQ(uploads_->Create(n, kOp1).error().field, "sha256");
  n.sha256 = std::string(64, 'a');
  n.file_name = "../etc/passwd";
  EXPECT_EQ(uploads_->Create(n, kOp1).error().field, "file_name");
  n.file_name = "ok.fq";
  n.size = 0;
  EXPECT_EQ(uploads_->Create(n, kOp1).error().field, "size");
  n.size = 100;
  n.chunk_size = 10;
  EXPECT_EQ(uploads_->Create(n, kOp1).error().field, "chunk_size");
  n.chunk_size = kMinChunkSize;
  n.kind = "sam";
  EXPECT_EQ(uploads_->Create(n, kOp1).error().field, "kind");
  n.kind = "fastq";
  ASSERT_TRUE(uploads_->Create(n, kOp1).ok());
  EXPECT_EQ(uploads_->Create(n, kOp1).error().code, "read_taken");
  EXPECT_EQ(uploads_->PutChunk("UP-NONE", 0, "x", kOp1).error().code, "upload_not_found");
}

TEST_P(UploadsTest, AnalysisFileIsSanitisedLinkedAndStoredWithItsIndex) {
  const std::string sp = Specimen("library_prepared");
  const SeqRun run = OpenRun(sp, "single");
  auto fq = uploads_->Complete(Send(FastqUpload(run, 1), Fastq(1500, 100, 1)).id, kOp1);
  ASSERT_TRUE(fq.ok()) << fq.error().message;
  ASSERT_TRUE(specimens_->Custody(sp, {"analysed", "", ""}, kAn1).ok());

  const fs::path fixtures = ZENGEN_FIXTURES_DIR;
  const std::string bcf = ReadFile(fixtures / "single-sample-bcf/G1.bcf");
  ASSERT_FALSE(bcf.empty());
  NewUpload n;
  n.kind = "bcf";
  n.specimen_id = sp;
  n.derived_from = {fq->file.id};
  n.file_name = "G1.bcf";
  // Not from this participant's FASTQ / not a FASTQ id at all.
  NewUpload wrong = n;
  wrong.derived_from = {"FL-NONE"};
  wrong.size = 10;
  wrong.sha256 = std::string(64, 'a');
  EXPECT_EQ(uploads_->Create(wrong, kAn1).error().code, "file_not_found");
  wrong.derived_from = {};
  EXPECT_EQ(uploads_->Create(wrong, kAn1).error().field, "derived_from");
  EXPECT_EQ(uploads_->Create(wrong, kOp1).error().code, "invalid_derived_from");
  // Well-formed, but from the sequencing facility, which does not hold the analysed specimen.
  wrong.derived_from = {fq->file.id};
  EXPECT_EQ(uploads_->Create(wrong, kOp1).error().code, "not_specimen_holder");

  auto done = uploads_->Complete(Send(n, bcf, kAn1).id, kAn1);
  ASSERT_TRUE(done.ok()) << done.error().code << ": " << done.error().message;
  const DataFile& f = done->file;
  EXPECT_EQ(f.kind, "bcf");
  EXPECT_EQ(f.derived_from, std::vector<std::string>{fq->file.id});
  EXPECT_EQ(f.index_kind, "csi");
  EXPECT_EQ(f.report["samples"], nlohmann::json::array({participant_}));
  EXPECT_GT(f.report["records"].get<int64_t>(), 0);
  EXPECT_EQ(blobs_->Stat(f.blob_id)->tier, "hot");
  EXPECT_EQ(blobs_->Stat(f.index_blob_id)->tier, "hot");
  // The stored plaintext is the sanitised file: it names the pseudonym, not G1.
  const std::string plain = Download(f, "");
  EXPECT_EQ(crypto::Sha256Hex(plain), f.sha256);
  EXPECT_NE(f.sha256, f.uploaded_sha256);
  EXPECT_FALSE(Download(f, "", /*index=*/true).empty());

  // A declared kind that is not what the bytes are: rejected, nothing stored.
  const int64_t blobs_before = Count("blobs");
  NewUpload lie = n;
  lie.kind = "cram";
  lie.file_name = "G1.cram";
  auto bad = uploads_->Complete(Send(lie, bcf, kAn1).id, kAn1);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, "kind_mismatch");
  // A malformed VCF: the sanitiser's reason.
  NewUpload vcf = n;
  vcf.kind = "vcf";
  vcf.file_name = "bad.vcf";
  auto broken = uploads_->Complete(
      Send(vcf, ReadFile(fixtures / "bio-data-zoo/vcf/bad/missing_info_field.vcf"), kAn1).id, kAn1);
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.error().kind, ErrorKind::kInvalidArgument);
  EXPECT_EQ(Count("blobs"), blobs_before);
}

// Regression (issue 13 item 5): a read name with a non-UTF-8 byte gave 500 on every
// completion (writing the report as JSON threw), kept the read slot taken and left the blob.
TEST_P(UploadsTest, NonUtf8ReadNameIsAClientErrorNamingTheRecordAndFreesTheRead) {
  const SeqRun run = OpenRun(Specimen("sequenced"), "single");
  std::string bytes = Fastq(1500, 100, 1);
  const size_t third = bytes.find("\n@", bytes.find("\n@") + 1) + 1;  // record 3's header
  bytes.replace(third + 5, 1, "\xff");
  const Upload u = Send(FastqUpload(run, 1), bytes);
  auto done = uploads_->Complete(u.id, kOp1);
  ASSERT_FALSE(done.ok());
  EXPECT_EQ(done.error().kind, ErrorKind::kInvalidArgument);
  EXPECT_EQ(done.error().code, "fastq_header_not_utf8");
  EXPECT_NE(done.error().message.find("record 3:"), std::string::npos) << done.error().message;
  EXPECT_EQ(uploads_->Get(u.id)->upload.status, "rejected");
  EXPECT_EQ(Count("blobs"), 0);
  EXPECT_EQ(FilesUnderRoots(), 0);
  EXPECT_FALSE(fs::exists(dir_ / "staging" / u.id));
  // The read is free: a corrected file completes.
  auto again = uploads_->Complete(Send(FastqUpload(run, 1), Fastq(1500, 100, 1)).id, kOp1);
  ASSERT_TRUE(again.ok()) << again.error().code << ": " << again.error().message;
}

// Regression (issue 12 finding 7, issue 13 item 5): an upload error named the server's
// staging path (the sanitiser's messages name the file they were given).
TEST_P(UploadsTest, UploadErrorsDoNotNameTheStagingPath) {
  const std::string sp = Specimen("library_prepared");
  const SeqRun run = OpenRun(sp, "single");
  auto fq = uploads_->Complete(Send(FastqUpload(run, 1), Fastq(1500, 100, 1)).id, kOp1);
  ASSERT_TRUE(fq.ok()) << fq.error().message;
  ASSERT_TRUE(specimens_->Custody(sp, {"analysed", "", ""}, kAn1).ok());
  AnalysisSanitiser echoing = [](std::string_view, const fs::path& input, const fs::path&,
                                 std::string_view, const std::map<std::string, std::string>&)
      -> Result<SanitisedFile> {
    return InvalidArgument("empty_file", input.string() + " is empty");
  };
  uploads_ = std::make_unique<Uploads>(*store_, clock_, audit_, *blobs_, *specimens_,
                                       dir_ / "staging", uploads_->keys(), DefaultQcThresholds(),
                                       echoing);
  NewUpload n;
  n.kind = "vcf";
  n.specimen_id = sp;
  n.derived_from = {fq->file.id};
  n.file_name = "calls.vcf";
  const Upload u = Send(n, "##fileformat=VCFv4.2\n", kAn1);
  auto done = uploads_->Complete(u.id, kAn1);
  ASSERT_FALSE(done.ok());
  EXPECT_EQ(done.error().code, "empty_file");
  EXPECT_EQ(done.error().message.find(dir_.string()), std::string::npos) << done.error().message;
  EXPECT_EQ(done.error().message, "input.vcf is empty");
  const auto stored = uploads_->Get(u.id)->upload.error;
  EXPECT_EQ(stored["message"], "input.vcf is empty");
}

int Mode(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return static_cast<int>(st.st_mode & 07777);
}

// Regression (issue 13 item 8): staged chunks were plaintext FASTQ in mode 0644 files, and
// blob copies 0640 in 0750 directories.
TEST_P(UploadsTest, StagedChunksAreEncryptedOwnerOnlyAndStoredCopiesTooWhateverTheUmask) {
  const mode_t old_umask = ::umask(0);  // the modes must not come from the umask
  const SeqRun run = OpenRun(Specimen("sequenced"), "single");
  const std::string bytes = Fastq(1500, 100, 1);
  const Upload u = Send(FastqUpload(run, 1), bytes);
  EXPECT_EQ(Mode(dir_ / "staging"), 0700);
  EXPECT_EQ(Mode(dir_ / "staging" / u.id), 0700);
  ASSERT_GT(u.chunks(), 1);
  for (int64_t i = 0; i < u.chunks(); ++i) {
    const fs::path chunk = dir_ / "staging" / u.id / std::to_string(i);
    EXPECT_EQ(Mode(chunk), 0600) << chunk;
    const std::string on_disk = ReadFile(chunk);
    EXPECT_EQ(on_disk.find("A00123:8:HFLOWCELL"), std::string::npos) << "plaintext on disk";
    EXPECT_EQ(on_disk.rfind("crypt4gh", 0), 0u);
  }
  auto done = uploads_->Complete(u.id, kOp1);
  ::umask(old_umask);
  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_FALSE(fs::exists(dir_ / "staging" / u.id));
  auto info = blobs_->Stat(done->file.blob_id);
  ASSERT_TRUE(info.ok());
  for (const auto& c : info->copies) {
    const fs::path copy = dir_ / c.root / c.path;
    EXPECT_EQ(Mode(copy), 0600) << copy;
    EXPECT_EQ(Mode(copy.parent_path()), 0700) << copy.parent_path();
    EXPECT_EQ(Mode(copy.parent_path().parent_path()), 0700);
  }
}

// The audit actions recorded in the database for one resource, in order.
std::vector<std::string> AuditedActions(storage::Store& store, const std::string& resource) {
  auto tx = store.Begin(storage::TxMode::kRead);
  auto rows = (*tx)->Query("SELECT action FROM audit_log WHERE resource = $1 ORDER BY seq",
                           {storage::Text(resource)});
  std::vector<std::string> out;
  for (const auto& r : rows->rows) out.push_back(r.Text(0));
  return out;
}

// Issue 13 item 7: a process killed at any step of a completion (simulated by the crash hook:
// Complete returns at that point and cleans nothing up) leaves a state that the recovery pass
// at the next start finishes: no stuck run, the audit records of every committed change, no
// second blob, no staging left.
TEST_P(UploadsTest, CompletionKilledAtEachStepIsFinishedByTheRecoveryPass) {
  for (const std::string point : {"blob_stored", "file_recorded", "custody_step"}) {
    SCOPED_TRACE(point);
    const std::string sp = Specimen("library_prepared");
    const SeqRun run = OpenRun(sp, "single");
    const Upload u = Send(FastqUpload(run, 1), Fastq(1500, 100, 1));
    // A partial chunk of an interrupted chunk write, and staging of an upload that is gone.
    ASSERT_TRUE(std::ofstream(dir_ / "staging" / u.id / "0.part-deadbeef").put('x'));
    fs::create_directories(dir_ / "staging" / "UP-0000000000000000");
    const int64_t blobs_before = Count("blobs");
    uploads_->SetCrashPointForTest([&](std::string_view at) { return at == point; });
    auto crashed = uploads_->Complete(u.id, kOp1);
    ASSERT_FALSE(crashed.ok());
    ASSERT_EQ(crashed.error().code, "injected_crash");

    // The restart: a new Uploads on the same state, then the recovery pass.
    uploads_ = std::make_unique<Uploads>(*store_, clock_, audit_, *blobs_, *specimens_,
                                         dir_ / "staging", uploads_->keys(),
                                         DefaultQcThresholds(), HtsSanitiser());
    auto rec = uploads_->Recover();
    ASSERT_TRUE(rec.ok()) << rec.error().message;
    EXPECT_TRUE(rec->problems.empty()) << rec->problems.front();
    EXPECT_EQ(rec->completions_finished, point == "blob_stored" ? 1 : 0);
    EXPECT_EQ(rec->custody_finished, point == "blob_stored" ? 0 : 1);

    const SeqRun after = *uploads_->GetRun(run.id);
    EXPECT_EQ(after.status, "qc_passed");
    EXPECT_TRUE(after.verdict.is_object());
    EXPECT_TRUE(after.custody_pending_by.empty());
    EXPECT_EQ(specimens_->Get(sp)->specimen.state, "qc_passed");
    EXPECT_EQ(uploads_->Get(u.id)->upload.status, "complete");
    EXPECT_EQ(Count("blobs"), blobs_before + 1);  // the stored blob adopted, not stored again
    auto files = uploads_->files().ListRunFiles(run.id);
    ASSERT_EQ(files->size(), 1u);
    EXPECT_EQ(Download(files->front(), "").size(), Fastq(1500, 100, 1).size());
    EXPECT_FALSE(fs::exists(dir_ / "staging" / u.id));
    EXPECT_FALSE(fs::exists(dir_ / "staging" / "UP-0000000000000000"));
    EXPECT_EQ(AuditedActions(*store_, "upload/" + u.id),
              (std::vector<std::string>{"upload.create", "upload.complete"}));
    EXPECT_EQ(AuditedActions(*store_, "run/" + run.id),
              (std::vector<std::string>{"run.create", "run.qc"}));
    EXPECT_EQ(AuditedActions(*store_, "file/" + files->front().id),
              (std::vector<std::string>{"file.register"}));
    // Recovering again finds nothing to do.
    auto again = uploads_->Recover();
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->completions_finished + again->custody_finished + again->staging_removed, 0);
  }
}

// Issue 13 item 7: killed between renaming a blob's copies into place and recording it, a
// completion leaves object files that no metadata names; the recovery pass removes them (the
// object was never stored) and the upload completes afterwards.
TEST_P(UploadsTest, RecoveryRemovesTheCopiesOfABlobThatWasNeverRecorded) {
  const SeqRun run = OpenRun(Specimen("sequenced"), "single");
  const Upload u = Send(FastqUpload(run, 1), Fastq(1500, 100, 1));
  const std::string id = "blob_" + crypto::ToHex(crypto::RandomBytes(16));
  {
    auto tx = store_->Begin(storage::TxMode::kWrite);
    ASSERT_TRUE((*tx)->Exec("UPDATE uploads SET pending_blob_id = $1 WHERE id = $2",
                            {storage::Text(id), storage::Text(u.id)})
                    .ok());
    ASSERT_TRUE((*tx)->Commit().ok());
  }
  for (const char* root : {"cold1", "cold2"}) {
    const fs::path dir = dir_ / root / id.substr(5, 2) / id.substr(7, 2);
    fs::create_directories(dir);
    ASSERT_TRUE(std::ofstream(dir / id) << "crypt4gh...");
  }
  ASSERT_EQ(FilesUnderRoots(), 2);
  auto rec = uploads_->Recover();
  ASSERT_TRUE(rec.ok()) << rec.error().message;
  EXPECT_EQ(rec->unrecorded_blob_files_removed, 2);
  EXPECT_EQ(FilesUnderRoots(), 0);
  auto done = uploads_->Complete(u.id, kOp1);
  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_EQ(FilesUnderRoots(), 2);  // the new blob's two copies
}

// Closing note of session 1 (CompleteAnalysis did not record its blob ids before storing): an
// analysis completion killed after storing its file and index blobs, or between the two, left
// stored blobs that no file row named, and the recovery pass (which looked at pending_blob_id
// only) never found them. Now both ids are recorded first: the pass adopts what was committed,
// stores what was not, and every blob belongs to a file.
TEST_P(UploadsTest, AnalysisCompletionKilledAfterStoringLeavesNoUnreferencedBlob) {
  const fs::path fixtures = ZENGEN_FIXTURES_DIR;
  const std::string bcf = ReadFile(fixtures / "single-sample-bcf/G1.bcf");
  ASSERT_FALSE(bcf.empty());
  for (const std::string point : {"analysis_data_stored", "blob_stored"}) {
    SCOPED_TRACE(point);
    const std::string sp = Specimen("library_prepared");
    const SeqRun run = OpenRun(sp, "single");
    auto fq = uploads_->Complete(Send(FastqUpload(run, 1), Fastq(1500, 100, 1)).id, kOp1);
    ASSERT_TRUE(fq.ok()) << fq.error().message;
    ASSERT_TRUE(specimens_->Custody(sp, {"analysed", "", ""}, kAn1).ok());
    NewUpload n;
    n.kind = "bcf";
    n.specimen_id = sp;
    n.derived_from = {fq->file.id};
    n.file_name = "G1.bcf";
    const Upload u = Send(n, bcf, kAn1);
    const int64_t blobs_before = Count("blobs");
    uploads_->SetCrashPointForTest([&](std::string_view at) { return at == point; });
    auto crashed = uploads_->Complete(u.id, kAn1);
    ASSERT_FALSE(crashed.ok());
    ASSERT_EQ(crashed.error().code, "injected_crash");
    // What the dead process left: stored blobs, each recorded on the upload as intended.
    EXPECT_EQ(Count("blobs"), blobs_before + (point == "blob_stored" ? 2 : 1));
    {
      auto tx = store_->Begin(storage::TxMode::kRead);
      ASSERT_TRUE(tx.ok());
      auto rows = (*tx)->Query(
          "SELECT COUNT(*) FROM blobs b WHERE NOT EXISTS (SELECT 1 FROM uploads u WHERE "
          "u.pending_blob_id = b.id OR u.pending_index_blob_id = b.id) AND NOT EXISTS (SELECT "
          "1 FROM data_files f WHERE f.blob_id = b.id OR f.index_blob_id = b.id)");
      ASSERT_TRUE(rows.ok()) << rows.error().message;
      EXPECT_EQ(rows->rows.front().Int(0), 0) << "a stored blob nobody recorded";
    }

    uploads_ = std::make_unique<Uploads>(*store_, clock_, audit_, *blobs_, *specimens_,
                                         dir_ / "staging", uploads_->keys(),
                                         DefaultQcThresholds(), HtsSanitiser());
    auto rec = uploads_->Recover();
    ASSERT_TRUE(rec.ok()) << rec.error().message;
    EXPECT_TRUE(rec->problems.empty()) << rec->problems.front();
    EXPECT_EQ(rec->completions_finished, 1);
    const UploadProgress after = *uploads_->Get(u.id);
    EXPECT_EQ(after.upload.status, "complete");
    EXPECT_EQ(Count("blobs"), blobs_before + 2);  // adopted, never stored twice
    {
      auto tx = store_->Begin(storage::TxMode::kRead);
      ASSERT_TRUE(tx.ok());
      auto rows = (*tx)->Query(
          "SELECT COUNT(*) FROM blobs b WHERE NOT EXISTS (SELECT 1 FROM data_files f WHERE "
          "f.blob_id = b.id OR f.index_blob_id = b.id)");
      ASSERT_TRUE(rows.ok()) << rows.error().message;
      EXPECT_EQ(rows->rows.front().Int(0), 0) << "unreferenced blobs after the recovery pass";
      auto pending = (*tx)->Query(
          "SELECT COUNT(*) FROM uploads WHERE pending_blob_id IS NOT NULL OR "
          "pending_index_blob_id IS NOT NULL");
      EXPECT_EQ(pending->rows.front().Int(0), 0);
    }
    auto file = uploads_->files().GetFile(after.upload.file_id);
    ASSERT_TRUE(file.ok()) << file.error().message;
    EXPECT_EQ(crypto::Sha256Hex(Download(*file, "")), file->sha256);
    EXPECT_FALSE(Download(*file, "", /*index=*/true).empty());
    EXPECT_EQ(AuditedActions(*store_, "upload/" + u.id),
              (std::vector<std::string>{"upload.create", "upload.complete"}));
    uploads_->SetCrashPointForTest({});
  }
}

// Issue 13: open uploads expire. Past its lifetime an upload is closed as `expired` by the
// sweep (at start in the recovery pass, then periodically) or by its next chunk, with an
// upload.expire audit record; its staged chunks go, its read is free, a late chunk or
// completion gets upload_expired.
TEST_P(UploadsTest, OpenUploadsExpireAfterTheirLifetimeFreeTheReadAndRefuseLateChunks) {
  uploads_->SetUploadLifetime(24h);
  const auto expiries = [&] { return audit::testing::CountRecords(*store_, "upload.expire"); };
  const SeqRun run = OpenRun(Specimen("sequenced"), "single");
  const std::string r1 = synthetic::Gzip(Fastq(3000, 100, 1));
  const Upload stale = Send(FastqUpload(run, 1), r1, kOp1, /*skip=*/{1});
  ASSERT_TRUE(fs::exists(dir_ / "staging" / stale.id / "0"));
  const std::string chunk1 =
      r1.substr(static_cast<size_t>(stale.chunk_size), static_cast<size_t>(stale.ChunkLength(1)));
  clock_.Advance(23h);
  EXPECT_EQ(*uploads_->ExpireStale(), 0);
  const SeqRun run2 = OpenRun(Specimen("sequenced"), "single");
  const Upload young = Send(FastqUpload(run2, 1), r1, kOp1, /*skip=*/{1});
  clock_.Advance(1h);

  // The start of the serving process: the recovery pass expires it.
  auto recovered = uploads_->Recover();
  ASSERT_TRUE(recovered.ok()) << recovered.error().message;
  EXPECT_EQ(recovered->uploads_expired, 1);
  auto after = uploads_->Get(stale.id);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->upload.status, "expired");
  EXPECT_EQ(after->upload.error["code"], "upload_expired");
  EXPECT_FALSE(fs::exists(dir_ / "staging" / stale.id));
  EXPECT_TRUE(fs::exists(dir_ / "staging" / young.id / "0"));
  EXPECT_EQ(uploads_->Get(young.id)->upload.status, "open");
  EXPECT_EQ(expiries(), 1);

  // Late: a clear 4xx, nothing staged again, no second record.
  auto late = uploads_->PutChunk(stale.id, 1, chunk1, kOp1);
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code, "upload_expired");
  EXPECT_EQ(late.error().kind, ErrorKind::kConflict);
  EXPECT_FALSE(fs::exists(dir_ / "staging" / stale.id));
  EXPECT_EQ(uploads_->Complete(stale.id, kOp1).error().code, "upload_expired");
  EXPECT_EQ(*uploads_->ExpireStale(), 0);
  EXPECT_EQ(expiries(), 1);

  // The read is free again.
  const Upload again = Send(FastqUpload(run, 1), r1);
  EXPECT_TRUE(uploads_->Complete(again.id, kOp1).ok());

  // Past its lifetime before any sweep: the chunk that arrives closes it on the spot.
  clock_.Advance(24h);
  EXPECT_EQ(uploads_->PutChunk(young.id, 1, chunk1, kOp1).error().code, "upload_expired");
  EXPECT_EQ(uploads_->Get(young.id)->upload.status, "expired");
  EXPECT_FALSE(fs::exists(dir_ / "staging" / young.id));
  EXPECT_EQ(expiries(), 2);
}

INSTANTIATE_TEST_SUITE_P(Backends, UploadsTest, ::testing::ValuesIn(storage::TestBackends()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace zengen::sequencing
