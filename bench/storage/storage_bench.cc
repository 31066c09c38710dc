// The measurements of bench/storage/run.sh (issue 17), each printed as one line
// "name seconds bytes" for the script to turn into MB/s against its anchors:
//
//   storage_bench put FILE BUCKET KEY     FILE's bytes (mapped, one Write) through
//                                         s3::MultipartWriter (64 MiB parts, each with its payload
//                                         SHA-256, IN_FLIGHT (default 3) at once; PART_MIB
//                                         overrides the part size), then a HEAD
//                                         that checks the multipart ETag
//   storage_bench get BUCKET KEY          the object through S3Client::Get, hashed as scrub does
//   storage_bench ingest DIR SITES MIB    MIB MiB streamed into a blob-store Writer and
//                                         committed; SITES "local" (two directories) or "rgw"
//                                         (a directory and a bucket)
//   storage_bench ingest-fastq DIR SITES FASTQ
//                                         the sequencing ingest's completion pass on a FASTQ(.gz)
//                                         file: read in 4 MiB pieces, validated and QC'd
//                                         (sequencing::FastqIngest, two threads) while its bytes
//                                         are sealed with Crypt4GH (genomefiles::EncryptedBlob)
//                                         into the blob store and committed; SITES as above
//   storage_bench migrate DIR N MIB       N objects of MIB MiB stored on two directories, then
//                                         moved from one of them to the RGW (copy, read back,
//                                         verify, record, retire)
//
// The gateway is ZENGEN_TEST_S3 ("ENDPOINT ACCESS SECRET"); buckets must exist.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include <fmt/format.h>

#include "blobs/local_store.h"
#include "crypto/crypt4gh.h"
#include "crypto/crypto.h"
#include "genomefiles/object.h"
#include "sequencing/fastq.h"
#include "s3/s3_client.h"
#include "storage/store.h"

namespace zengen {
namespace {

namespace fs = std::filesystem;
using Clock_ = std::chrono::steady_clock;

double Since(Clock_::time_point t) {
  return std::chrono::duration<double>(Clock_::now() - t).count();
}

int Fail(const std::string& m) {
  std::cerr << "storage_bench: " << m << "\n";
  return 2;
}

class NullSink final : public AuditSink {
 public:
  Status Append(AuditEvent) override { return Status::Ok(); }
};

int Main(int argc, char** argv) {
  if (argc < 2) return Fail("usage: put|get|ingest|migrate …");
  const std::string cmd = argv[1];
  const char* gw = std::getenv("ZENGEN_TEST_S3");
  if (gw == nullptr) return Fail("ZENGEN_TEST_S3 is not set");
  std::istringstream in(gw);
  std::string endpoint, access, secret;
  in >> endpoint >> access >> secret;
  auto client = s3::S3Client::Create({.endpoint = endpoint, .access_key = access,
                                      .secret_key = secret});
  if (!client.ok()) return Fail(client.error().message);

  if (cmd == "put" && argc == 5) {
    // The file is mapped and handed to one Write, as a caller holding the object in memory
    // would (curl -T, the anchor, reads it from the same page cache).
    int fd = ::open(argv[2], O_RDONLY);
    if (fd < 0) return Fail(fmt::format("cannot open {}", argv[2]));
    struct stat st {};
    ::fstat(fd, &st);
    const auto total = static_cast<int64_t>(st.st_size);
    void* map = total > 0 ? ::mmap(nullptr, static_cast<size_t>(total), PROT_READ, MAP_SHARED, fd, 0)
                          : nullptr;
    ::close(fd);
    if (map == MAP_FAILED) return Fail("mmap failed");
    const char* env_in_flight = std::getenv("IN_FLIGHT");
    const int in_flight =
        env_in_flight != nullptr ? std::atoi(env_in_flight) : s3::MultipartWriter::kDefaultInFlight;
    const char* env_part = std::getenv("PART_MIB");
    const int64_t part_size = env_part != nullptr && std::atoll(env_part) > 0
                                  ? std::atoll(env_part) << 20
                                  : s3::MultipartWriter::kDefaultPartSize;
    const auto t = Clock_::now();
    auto w = s3::MultipartWriter::Start(**client, argv[3], argv[4], part_size, {}, in_flight);
    if (!w.ok()) return Fail(w.error().message);
    if (Status s = (*w)->Write(std::string_view(static_cast<const char*>(map),
                                                static_cast<size_t>(total)));
        !s.ok()) {
      return Fail(s.error().message);
    }
    auto done = (*w)->Commit();
    if (!done.ok()) return Fail(done.error().message);
    auto head = (*client)->Head(argv[3], argv[4]);
    if (!head.ok() || head->etag != (*w)->ExpectedEtag()) return Fail("ETag mismatch");
    std::cout << fmt::format("put {:.3f} {}\n", Since(t), total);
    return 0;
  }
  if (cmd == "get" && argc == 4) {
    const auto t = Clock_::now();
    int64_t total = 0;
    Status s = (*client)->Get(argv[2], argv[3], 0, [&](std::string_view p) {
      total += static_cast<int64_t>(p.size());
      return true;
    });
    if (!s.ok()) return Fail(s.error().message);
    std::cout << fmt::format("get {:.3f} {}\n", Since(t), total);
    return 0;
  }
  if ((cmd == "ingest" || cmd == "ingest-fastq" || cmd == "migrate") && argc == 5) {
    const fs::path dir = argv[2];
    std::string bucket;
    std::ifstream(dir / "bucket") >> bucket;
    fs::create_directories(dir / "d1");
    fs::create_directories(dir / "d2");
    auto store = storage::OpenStore({.location = (dir / "meta.db").string(), .pool_size = 2});
    if (!store.ok()) return Fail(store.error().message);
    SystemClock clock;
    NullSink sink;
    const bool rgw = cmd != "migrate" && std::string(argv[3]) == "rgw";
    // FASTQ is placed on the cold tier (R3.7), everything else here on the hot one.
    const std::string tier = cmd == "ingest-fastq" ? "cold" : "hot";
    std::vector<blobs::Root> roots = {
        {.name = "d1", .path = dir / "d1", .tier = tier, .jurisdiction = "JP"}};
    if (!rgw) roots.push_back({.name = "d2", .path = dir / "d2", .tier = tier, .jurisdiction = "JP"});
    blobs::Root site{.name = "rgw", .tier = tier, .jurisdiction = "JP", .kind = "s3",
                     .endpoint = endpoint, .bucket = bucket, .access_key = access,
                     .secret_key = secret};
    if (rgw) roots.push_back(site);
    auto blobs_store = blobs::LocalStore::Create(
        {.roots = roots, .allowed_jurisdictions = {"JP"}, .replicas = 2}, **store, clock, sink);
    if (!blobs_store.ok()) return Fail(blobs_store.error().message);
    auto& b = **blobs_store;
    const std::string chunk = crypto::RandomBytes(1 << 20);
    auto put = [&](int64_t mib) -> Status {
      ZG_ASSIGN_OR_RETURN(auto w, b.Create({.kind = "cram"}));
      for (int64_t i = 0; i < mib; ++i) ZG_RETURN_IF_ERROR(w->Write(chunk));
      return w->Commit(crypto::Sha256Hex("x"), 1).status();
    };
    if (cmd == "ingest-fastq") {
      const auto pair = crypto::crypt4gh::GenerateKeyPair();
      const genomefiles::UploadKeys keys{.secret_key = pair.secret_key,
                                         .public_key = pair.public_key};
      std::ifstream in(argv[4], std::ios::binary);
      if (!in) return Fail(fmt::format("cannot open {}", argv[4]));
      const auto t = Clock_::now();
      auto blob = genomefiles::EncryptedBlob::Create(b, keys, "fastq");
      if (!blob.ok()) return Fail(blob.error().message);
      sequencing::FastqOptions opts;
      opts.threads = 2;  // as the upload completion runs it
      opts.sink = [&blob](std::string_view bytes) { return blob->Write(bytes); };
      sequencing::FastqIngest ingest(std::move(opts));
      std::string piece(4 << 20, '\0');
      while (in) {
        in.read(piece.data(), static_cast<std::streamsize>(piece.size()));
        const auto n = static_cast<size_t>(in.gcount());
        if (n == 0) break;
        if (Status s = ingest.Feed(std::string_view(piece.data(), n)); !s.ok()) {
          return Fail(s.error().message);
        }
      }
      auto report = ingest.Finish();
      if (!report.ok()) return Fail(report.error().message);
      auto info = blob->Commit();
      if (!info.ok()) return Fail(info.error().message);
      std::cout << fmt::format("ingest-fastq-{} {:.3f} {} {}\n", argv[3], Since(t),
                               report->uploaded_bytes, report->reads);
      return 0;
    }
    if (cmd == "ingest") {
      const int64_t mib = std::atoll(argv[4]);
      const auto t = Clock_::now();
      if (Status s = put(mib); !s.ok()) return Fail(s.error().message);
      std::cout << fmt::format("ingest-{} {:.3f} {}\n", argv[3], Since(t), mib << 20);
      return 0;
    }
    const int n = std::atoi(argv[3]);
    const int64_t mib = std::atoll(argv[4]);
    for (int i = 0; i < n; ++i) {
      if (Status s = put(mib); !s.ok()) return Fail(s.error().message);
    }
    // Now the RGW joins and every copy on d2 moves there.
    roots.push_back(site);
    auto with_rgw = blobs::LocalStore::Create(
        {.roots = roots, .allowed_jurisdictions = {"JP"}, .replicas = 2}, **store, clock, sink);
    if (!with_rgw.ok()) return Fail(with_rgw.error().message);
    const auto t = Clock_::now();
    auto p = (*with_rgw)->Migrate({.from = "d2", .to = "rgw", .move = true,
                                   .grace = std::chrono::seconds(0)});
    if (!p.ok()) return Fail(p.error().message);
    if (p->failed != 0 || p->state != "done") return Fail(blobs::FormatMigration(*p));
    std::cout << fmt::format("migrate {:.3f} {} {}\n", Since(t), int64_t{n} * (mib << 20), n);
    return 0;
  }
  return Fail("unknown command");
}

}  // namespace
}  // namespace zengen

int main(int argc, char** argv) { return zengen::Main(argc, argv); }
