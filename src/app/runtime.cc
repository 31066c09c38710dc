#include "app/runtime.h"

#include <fstream>

#include <fmt/format.h>

#include "crypto/crypt4gh.h"
#include "crypto/crypto.h"

namespace zengen::app {
namespace {

// Reads a 32-byte key written by `zengen init` as hex.
Result<std::string> ReadKey(const std::filesystem::path& path) {
  std::ifstream f(path);
  std::string hex;
  if (!(f >> hex)) {
    return NotFound("key_missing", fmt::format("cannot read the key file {}", path.string()));
  }
  auto raw = crypto::FromHex(hex);
  if (!raw.ok() || raw->size() != 32) {
    return InvalidArgument("key_malformed",
                           fmt::format("{} does not hold 32 bytes in hex", path.string()));
  }
  return *raw;
}

// Owner-only modes, given explicitly (issue 13 item 8): the data directory and the directories
// in it and one level below (tls, keys, blobs and its roots, staging and its uploads) 0700;
// the files at those levels (zengen.conf, zengen.db and its -wal/-shm/-journal, the TLS
// certificate and key, the keys) 0600. Deeper entries get their modes where they are created
// (blob fan-out directories and copies, staged chunks).
Status SecureDataDirectory(const std::filesystem::path& data_dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::permissions(data_dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  if (ec) {
    return Unavailable("data_dir_mode", fmt::format("cannot make {} owner-only: {}",
                                                    data_dir.string(), ec.message()));
  }
  for (fs::recursive_directory_iterator it(data_dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    std::error_code fec;
    const auto type = it->symlink_status(fec).type();
    if (type == fs::file_type::directory) {
      fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::replace, fec);
      if (it.depth() >= 1) it.disable_recursion_pending();
    } else if (type == fs::file_type::regular) {
      fs::permissions(it->path(), fs::perms::owner_read | fs::perms::owner_write,
                      fs::perm_options::replace, fec);
    }
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<Runtime>> Runtime::Open(const std::filesystem::path& data_dir,
                                               const std::string& actor) {
  auto rt = std::make_unique<Runtime>();
  ZG_RETURN_IF_ERROR(SecureDataDirectory(data_dir));
  ZG_ASSIGN_OR_RETURN(rt->config, LoadConfig(data_dir));
  storage::OpenOptions so;
  so.location =
      rt->config.UsesPostgres() ? rt->config.database : rt->config.SqlitePath().string();
  // Every worker may hold a connection, plus the audit writer's.
  so.pool_size = rt->config.worker_threads + 2;
  ZG_ASSIGN_OR_RETURN(rt->store, storage::OpenStore(so));
  // The database files SQLite just created (mode from its default and the umask).
  ZG_RETURN_IF_ERROR(SecureDataDirectory(data_dir));
  ZG_ASSIGN_OR_RETURN(rt->audit_log, audit::Log::Open(*rt->store, rt->clock));
  rt->audit_sink = std::make_unique<AuditLogSink>(*rt->audit_log);
  identity::Options io;
  io.session_idle_ms = rt->config.session_idle_timeout_s * 1000;
  io.session_absolute_ms = rt->config.session_absolute_timeout_s * 1000;
  io.lockout_threshold = static_cast<int>(rt->config.lockout_threshold);
  io.lockout_ms = rt->config.lockout_s * 1000;
  rt->identity =
      std::make_unique<identity::Identity>(*rt->store, rt->clock, *rt->audit_sink, io);
  ZG_ASSIGN_OR_RETURN(std::string pseudonym_key, ReadKey(rt->config.Resolve(rt->config.pseudonym_key)));
  rt->participants = std::make_unique<participants::Registry>(*rt->store, rt->clock,
                                                              *rt->audit_sink, pseudonym_key);
  ZG_RETURN_IF_ERROR(consent::EnsureDefaultIcf(*rt->store, rt->clock));
  rt->consents = std::make_unique<consent::Ledger>(*rt->store, rt->clock, *rt->audit_sink);
  rt->specimens =
      std::make_unique<specimens::Specimens>(*rt->store, rt->clock, *rt->audit_sink);
  rt->findings = std::make_unique<findings::Findings>(*rt->store, rt->clock, *rt->audit_sink,
                                                      *rt->consents);
  rt->sharing = std::make_unique<sharing::Sharing>(*rt->store, rt->clock, *rt->audit_sink,
                                                   *rt->consents);
  rt->clinical = std::make_unique<clinical::ClinicalStore>(*rt->store, rt->clock, *rt->audit_sink);
  blobs::LocalStoreOptions bo;
  ZG_ASSIGN_OR_RETURN(bo.roots, blobs::ParseRoots(rt->config.blob_roots, rt->config.data_dir));
  // Storage sites in S3-compatible object stores follow the local roots (issue 17).
  ZG_ASSIGN_OR_RETURN(auto s3_sites,
                      blobs::ParseS3Sites(rt->config.blob_s3_sites, rt->config.data_dir));
  bo.roots.insert(bo.roots.end(), s3_sites.begin(), s3_sites.end());
  ZG_ASSIGN_OR_RETURN(bo.allowed_jurisdictions,
                      blobs::ParseJurisdictions(rt->config.allowed_jurisdictions));
  bo.replicas = static_cast<int>(rt->config.blob_replicas);
  bo.actor = actor;
  // why: a stored object and its "blob.write" record commit together (issue 13 item 7).
  bo.audit_in_transaction = [store = rt->store.get(), clock = &rt->clock](
                                storage::Transaction& tx, AuditEvent e) {
    audit::Record r;
    r.actor = std::move(e.actor);
    r.source = std::move(e.source);
    r.action = std::move(e.action);
    r.resource = std::move(e.resource);
    r.decision = std::move(e.decision);
    r.reason = std::move(e.reason);
    r.request_id = std::move(e.request_id);
    r.details = std::move(e.details);
    return audit::AppendInTransaction(*store, tx, *clock, r);
  };
  ZG_ASSIGN_OR_RETURN(rt->blobs, blobs::LocalStore::Create(std::move(bo), *rt->store, rt->clock,
                                                           *rt->audit_sink));
  // Everything stored is Crypt4GH-encrypted for the data center's key: the storage master key
  // is its X25519 secret (R3.9 encryption at rest).
  genomefiles::UploadKeys keys;
  ZG_ASSIGN_OR_RETURN(keys.secret_key, ReadKey(rt->config.Resolve(rt->config.storage_master_key)));
  ZG_ASSIGN_OR_RETURN(keys.public_key, crypto::crypt4gh::PublicKeyFromSecret(keys.secret_key));
  rt->files = std::make_unique<genomefiles::Files>(*rt->store, *rt->specimens, keys);
  rt->uploads = std::make_unique<sequencing::Uploads>(
      *rt->store, rt->clock, *rt->audit_sink, *rt->blobs, *rt->specimens,
      rt->config.data_dir / "staging", std::move(keys), sequencing::DefaultQcThresholds(),
      genomefiles::HtsSanitiser());
  rt->uploads->SetUploadLifetime(std::chrono::seconds(rt->config.upload_expiry_s));
  if (actor == "system") {
    // The serving process starts with the recovery pass: what a killed predecessor left
    // half-done is finished before anyone is served (issue 13 items 7 and 8). Commands acting
    // beside a running server ("cli") must not, as its writes may be in flight.
    // why: the blob roots belong to this serving process, so any temporary file there is
    // left by a killed predecessor; a writer of another process caught mid-write would fail
    // its commit cleanly (the copy cannot be read back) and its upload stays open.
    rt->blobs->RemoveInterruptedWrites(std::chrono::seconds(0));
    ZG_ASSIGN_OR_RETURN(rt->recovery, rt->uploads->Recover());
  }
  return rt;
}

Runtime::~Runtime() {
  // Order matters: identity writes through the sink into the log, which writes to the store.
  uploads.reset();
  blobs.reset();
  clinical.reset();
  sharing.reset();   // uses the consent ledger
  findings.reset();  // uses the consent ledger
  specimens.reset();
  consents.reset();
  participants.reset();
  identity.reset();
  audit_sink.reset();
  audit_log.reset();
  store.reset();
}

}  // namespace zengen::app
