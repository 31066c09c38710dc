// A worker for scripts/kill9-storage.sh: drives the blob store over a local site and a Ceph
// RGW site so that the script can kill it with SIGKILL at random points of a multipart ingest or
// a migration, then check what is left. Not part of the server.
//
//   zengen_storage_kill9 DIR ingest N SIZE   stores N objects of SIZE bytes (5 MiB parts)
//   zengen_storage_kill9 DIR migrate FROM TO moves every copy from site FROM to site TO
//   zengen_storage_kill9 DIR recover         what the server does at start: removes the
//                                            unfinished writes and the unrecorded copies of
//                                            the objects it meant to store
//   zengen_storage_kill9 DIR check           exits 0 when every recorded object has all its
//                                            copies, each verified byte for byte, and the
//                                            audit log has a record for every object and
//                                            every migration step
//
// Sites: hot1 and hot2 are directories under DIR; rgw is the bucket named in DIR/bucket on the
// gateway of ZENGEN_TEST_S3 ("ENDPOINT ACCESS SECRET"). Metadata: DIR/meta.db (SQLite).
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include <fmt/format.h>

#include "audit/audit.h"
#include "blobs/local_store.h"
#include "crypto/crypto.h"

namespace zengen::blobs {
namespace {

namespace fs = std::filesystem;

// Appends each event in its own transaction (the events outside a store transaction).
class StoreSink final : public AuditSink {
 public:
  StoreSink(storage::Store& store, const Clock& clock) : store_(store), clock_(clock) {}
  Status Append(AuditEvent e) override {
    ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kWrite));
    ZG_RETURN_IF_ERROR(InTx(store_, *tx, clock_, std::move(e)));
    return tx->Commit();
  }
  static Status InTx(storage::Store& store, storage::Transaction& tx, const Clock& clock,
                     AuditEvent e) {
    audit::Record r;
    r.actor = std::move(e.actor);
    r.source = std::move(e.source);
    r.action = std::move(e.action);
    r.resource = std::move(e.resource);
    r.reason = std::move(e.reason);
    r.details = e.details.empty() ? "{}" : std::move(e.details);
    return audit::AppendInTransaction(store, tx, clock, r);
  }

 private:
  storage::Store& store_;
  const Clock& clock_;
};

int Fail(const std::string& what) {
  std::cerr << "kill9 helper: " << what << "\n";
  return 2;
}

int64_t CountSql(storage::Store& store, const std::string& sql) {
  auto tx = store.Begin(storage::TxMode::kRead);
  if (!tx.ok()) return -1;
  auto rows = (*tx)->Query(sql);
  if (!rows.ok()) return -1;
  return rows->rows[0].Int(0);
}

int Main(int argc, char** argv) {
  if (argc < 3) return Fail("usage: DIR ingest N SIZE | migrate FROM TO | recover | check");
  const fs::path dir = argv[1];
  const std::string cmd = argv[2];
  const char* gw = std::getenv("ZENGEN_TEST_S3");
  if (gw == nullptr) return Fail("ZENGEN_TEST_S3 is not set");
  std::istringstream in(gw);
  std::string endpoint, access, secret, bucket;
  in >> endpoint >> access >> secret;
  std::ifstream(dir / "bucket") >> bucket;
  if (bucket.empty()) return Fail("no DIR/bucket");

  auto store = storage::OpenStore({.location = (dir / "meta.db").string(), .pool_size = 2});
  if (!store.ok()) return Fail(store.error().message);
  SystemClock clock;
  StoreSink sink(**store, clock);
  LocalStoreOptions o{
      .roots = {{.name = "hot1", .path = dir / "hot1", .tier = "hot", .jurisdiction = "JP"},
                {.name = "hot2", .path = dir / "hot2", .tier = "hot", .jurisdiction = "JP"},
                {.name = "rgw", .tier = "hot", .jurisdiction = "JP", .kind = "s3",
                 .endpoint = endpoint, .bucket = bucket, .access_key = access,
                 .secret_key = secret, .part_size = 5LL << 20}},
      .allowed_jurisdictions = {"JP"},
      .replicas = 2,
      .actor = "kill9"};
  storage::Store* raw = store->get();
  o.audit_in_transaction = [raw, &clock](storage::Transaction& tx, AuditEvent e) {
    return StoreSink::InTx(*raw, tx, clock, std::move(e));
  };
  auto blobs = LocalStore::Create(std::move(o), **store, clock, sink);
  if (!blobs.ok()) return Fail(blobs.error().message);
  LocalStore& b = **blobs;

  if (cmd == "ingest" && argc == 5) {
    const int n = std::atoi(argv[3]);
    const int64_t size = std::atoll(argv[4]);
    for (int i = 0; i < n; ++i) {
      auto w = b.Create({.kind = "cram"});
      if (!w.ok()) return Fail(w.error().message);
      {
        // The intent, durable before any byte: recovery removes what was never recorded.
        int fd = ::open((dir / "intents").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
        std::string line = (*w)->id() + "\n";
        if (fd < 0 || ::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size()) ||
            ::fsync(fd) != 0) {
          return Fail("intent");
        }
        ::close(fd);
      }
      std::string chunk = crypto::RandomBytes(1 << 20);
      for (int64_t off = 0; off < size; off += static_cast<int64_t>(chunk.size())) {
        auto piece = std::string_view(chunk).substr(
            0, static_cast<size_t>(std::min<int64_t>(chunk.size(), size - off)));
        if (Status s = (*w)->Write(piece); !s.ok()) return Fail(s.error().message);
      }
      auto info = (*w)->Commit(crypto::Sha256Hex("plain"), 5);
      if (!info.ok()) return Fail(info.error().message);
    }
    return 0;
  }
  if (cmd == "migrate" && argc == 5) {
    auto p = b.Migrate({.from = argv[3], .to = argv[4], .move = true,
                        .grace = std::chrono::seconds(0)});
    if (!p.ok()) return Fail(p.error().message);
    std::cout << FormatMigration(*p);
    return p->state == "done" ? 0 : 1;
  }
  if (cmd == "recover") {
    std::ifstream intents(dir / "intents");
    std::string id;
    int64_t removed = 0;
    while (intents >> id) {
      auto r = b.RemoveUnrecorded(id);
      if (r.ok()) removed += *r;
    }
    removed += b.RemoveInterruptedWrites(std::chrono::seconds(0));
    std::cout << "removed " << removed << "\n";
    return 0;
  }
  if (cmd == "check") {
    auto report = b.Scrub();
    if (!report.ok()) return Fail(report.error().message);
    int bad = 0;
    for (const auto& e : report->entries) {
      auto st = b.Stat(e.blob_id);
      if (!st.ok() || st->copies.size() < 2) {
        std::cout << "object " << e.blob_id << " has fewer than 2 copies\n";
        ++bad;
      }
    }
    const int64_t repaired = report->repaired_corrupt + report->restored_missing;
    const int64_t blobs_n = CountSql(**store, "SELECT COUNT(*) FROM blobs");
    const int64_t written =
        CountSql(**store, "SELECT COUNT(*) FROM audit_log WHERE action = 'blob.write'");
    // Every recorded copy was recorded with its audit record: the object's blob.write naming
    // the site, or the blob.migrate_copy that brought it there.
    const int64_t unaudited = CountSql(
        **store,
        "SELECT COUNT(*) FROM blob_copies c WHERE NOT EXISTS (SELECT 1 FROM audit_log a WHERE "
        "a.resource = 'blob/' || c.blob_id AND ((a.action = 'blob.write' AND a.details LIKE "
        "'%\"' || c.root || '\"%') OR (a.action = 'blob.migrate_copy' AND a.details LIKE "
        "'%\"to\":\"' || c.root || '\"%')))");
    const int64_t copies_n = CountSql(**store, "SELECT COUNT(*) FROM blob_copies");
    std::cout << fmt::format(
        "objects {} with {} copies; copies needing repair {}; unrecoverable {}; orphans {}; "
        "blob.write records {}; copies without their audit record {}\n",
        blobs_n, copies_n, repaired, report->unrecoverable, report->orphans.size(), written,
        unaudited);
    if (repaired != 0 || !report->healthy() || bad != 0) return 1;
    if (written != blobs_n) return 1;  // a stored object without its record, or the reverse
    if (unaudited != 0) return 1;
    if (!report->orphans.empty()) {
      for (const auto& orphan : report->orphans) std::cout << "orphan " << orphan << "\n";
      return 1;
    }
    return 0;
  }
  return Fail("unknown command " + cmd);
}

}  // namespace
}  // namespace zengen::blobs

int main(int argc, char** argv) { return zengen::blobs::Main(argc, argv); }
