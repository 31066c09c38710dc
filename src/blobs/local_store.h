// The blob store over configured sites: every object is written as `replicas` copies at
// different sites of the object's tier, in allowed jurisdictions only. A site is a local
// directory (the layout below) or a bucket of an S3-compatible store (sites.h: the copy
// streams into a multipart upload under the same key "ab/cd/<id>"; nothing is staged on local
// disk). The name LocalStore is historical: it is the one store, whatever its sites.
//
// Layout on each root:   <root>/<h1h2>/<h3h4>/<id>     (h = the first hex digits of the id's
//                                                      random part; the same on every tier)
// Temporary files:       <root>/<h1h2>/<h3h4>/.<id>.tmp-<8 hex>   (removed on any error)
// Modes:                 directories 0700, files 0600, given explicitly at creation (whatever
//                        the umask); the copies are Crypt4GH ciphertext, but still nobody
//                        else's business.
// Ids:                   "blob_" + 32 random lower-case hex digits.
//
// Placement: the candidates are the sites of the requested tier whose jurisdiction is allowed
// and which are usable (a local directory exists: a root is never created, an unmounted mount
// point must not fill the system disk; an S3 site is assumed usable and fails at the first
// request when it is not); the `replicas` candidates with the most free space are used (an S3
// site counts as unlimited), one copy per site. Fewer candidates than replicas →
// kUnavailable "insufficient_roots" naming the tier, the allowed jurisdictions and, per site
// left out, the rule that refused it. An unreachable S3 site makes Create or Commit fail with
// "blob_write_failed" naming the site: the object is then not stored at all (never with fewer
// copies than required).
//
// Configuration (the lead maps config keys onto these):
//   roots                  ParseRoots below, e.g. "hot1:hot:JP:blobs/hot1;cold1:cold:JP:/mnt/c1",
//                          followed by the S3 sites of ParseS3Sites
//   allowed_jurisdictions  ParseJurisdictions below, e.g. "JP" or "JP,DE"
//   replicas               integer ≥ 2 (default 2)
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "blobs/blobs.h"
#include "common/audit_event.h"
#include "common/clock.h"
#include "common/result.h"
#include "storage/store.h"

namespace zengen::blobs {

namespace internal {
class SiteIo;
}

// Parses a root list: entries separated by ';', each `name:tier:jurisdiction:path`.
//   name          slug of [a-z0-9_-], 1–64 characters, unique in the list
//   tier          "hot" or "cold"
//   jurisdiction  ISO 3166-1 alpha-2 in upper case, e.g. "JP"
//   path          directory; everything after the third ':' (so it may itself hold ':');
//                 a relative path is resolved against base_dir (normally the data directory)
// Spaces around entries and fields are ignored; empty entries (a trailing ';') are skipped.
// Errors: kInvalidArgument "invalid_blob_roots" naming the entry, field "blob_roots".
Result<std::vector<Root>> ParseRoots(std::string_view spec,
                                     const std::filesystem::path& base_dir);

// Parses the S3 sites of config key blob_s3_sites: entries separated by ';', each a
// space-separated list of key=value:
//   name, tier, jurisdiction   as for roots (required)
//   endpoint                   http(s)://host[:port] (required)
//   bucket                     an existing bucket (required)
//   credentials                file holding "ACCESS_KEY SECRET_KEY", mode 0600 (required;
//                              relative to base_dir); read when the store is created
//   organisation               the organisation that runs the site (optional)
//   region                     SigV4 region (default us-east-1)
//   part_size_mib              multipart part size, 5..5120 (default 64)
//   object_lock                compliance | governance: write-once copies (the bucket must be
//                              created with Object Lock), with retention_days (required then)
// e.g. "name=rgw1 tier=cold jurisdiction=JP endpoint=https://rgw.dc.example.jp bucket=zg-cold
//       credentials=secrets/rgw1.cred object_lock=compliance retention_days=3650"
// Errors: kInvalidArgument "invalid_blob_s3_sites" naming the entry, field "blob_s3_sites".
Result<std::vector<Root>> ParseS3Sites(std::string_view spec,
                                       const std::filesystem::path& base_dir);

// Parses a comma-separated list of ISO 3166-1 alpha-2 codes, e.g. "JP" or "JP, DE".
// Errors: kInvalidArgument "invalid_allowed_jurisdictions" (empty list or a bad code).
Result<std::vector<std::string>> ParseJurisdictions(std::string_view spec);

struct LocalStoreOptions {
  std::vector<Root> roots;
  std::vector<std::string> allowed_jurisdictions;  // non-empty
  int replicas = 2;                                // copies per object, ≥ 2
  // Actor recorded on audit events (e.g. "cli" for `zengen storage scrub`, "system").
  std::string actor = "system";
  // When set, the "blob.write" event is appended inside the metadata transaction that records
  // the object (audit::AppendInTransaction), so that a crash cannot leave a stored object
  // without its audit record. When empty, the event goes to the AuditSink after the commit.
  std::function<Status(storage::Transaction&, AuditEvent)> audit_in_transaction;
};

// Online migration of copies from one site to another (`zengen storage migrate`).
struct MigrateOptions {
  std::string from;  // site names; same tier; `to` in an allowed jurisdiction
  std::string to;
  bool move = false;  // also retire the copy at `from`, grace after the new copy is recorded
  int64_t limit = 0;  // objects to copy in this run; 0: every one
  std::chrono::seconds grace{7 * 24 * 3600};
  // When set and true, the run stops after the object in hand (a shutdown); the migration
  // stays "running" and the next run with the same from/to/mode continues it.
  const std::atomic<bool>* stop = nullptr;
};

struct MigrationProgress {
  std::string id;  // "mig_" + 16 hex digits
  std::string from, to, mode, state;  // mode "copy" | "move"; state "running" | "done"
  std::string created_at, updated_at;
  int64_t total = 0, pending = 0, copied = 0, retire_due = 0, retiring = 0, retired = 0,
          failed = 0;
  std::vector<std::string> failures;  // "blob_…: what went wrong", at most 20
};

// The state of one site now (the storage health view, /readyz).
struct SiteHealth {
  std::string name, kind, tier, jurisdiction, organisation;
  bool reachable = false;
  int64_t latency_us = 0;   // of the probe (S3: one HEAD request)
  std::string detail;       // why it is unreachable; "" otherwise
  int64_t objects = 0;      // copies recorded at the site
  int64_t bytes = 0;        // their bytes
  int64_t bad_copies = 0;   // of them marked corrupt or missing
};

// One line per migration and one per failure, as `zengen storage migrate` prints them.
std::string FormatMigration(const MigrationProgress& p);

class LocalStore final : public BlobStore {
 public:
  // Checks the options: replicas ≥ 2, unique site names, no two sites at the same place
  // (directory, or endpoint and bucket), known tiers, well-formed jurisdictions, absolute
  // paths, a non-empty allow-list; reads each S3 site's credentials file (mode 0600 or
  // refused). Root directories need not exist yet (they are checked at each placement), and no
  // request is made to an S3 site here. store, clock and audit must outlive the object.
  // Errors: kInvalidArgument "invalid_blob_store_config".
  static Result<std::unique_ptr<LocalStore>> Create(LocalStoreOptions options,
                                                    storage::Store& store, const Clock& clock,
                                                    AuditSink& audit);

  Result<std::unique_ptr<Writer>> Create(const PutRequest& request) override;
  Result<std::unique_ptr<Reader>> Open(std::string_view blob_id) override;
  Result<std::unique_ptr<Reader>> OpenExcept(std::string_view blob_id,
                                             const std::vector<std::string>& skip_roots) override;
  Status ReportBadCopy(std::string_view blob_id, std::string_view root,
                       std::string_view detail) override;
  // Removes the temporary files of interrupted writes (".<id>.tmp-…" on every root) last
  // modified at least min_age ago; run at start, when no writer of this process exists yet.
  // Returns how many were removed.
  int64_t RemoveInterruptedWrites(std::chrono::seconds min_age);
  Result<BlobInfo> Stat(std::string_view blob_id) override;
  Result<int64_t> RemoveUnrecorded(std::string_view blob_id) override;
  Result<ScrubReport> Scrub(const ScrubOptions& options) override;
  using BlobStore::Scrub;
  ~LocalStore() override;

  // Copies every object that has a copy at `from` to `to`: streamed from a good copy, read
  // back at the target and verified (size and SHA-256), then recorded as a new copy (one
  // transaction with its "blob.migrate_copy" audit record). With move, once the grace period
  // after that has passed (a later run, or this one when grace is 0), the copy at `from` is
  // retired: first from the metadata (never below the required number of good copies; a
  // "blob.migrate_retire" record), then removed from the site. Readers always get a recorded,
  // verified copy; serving continues throughout.
  // Resumable and idempotent: the migration of the same from/to/mode that is still running is
  // continued (objects stored since are added to it); each object's state is in
  // blob_migration_items, and every step is repeated safely after a crash at any point (an
  // unrecorded copy at the target is simply written again). An object that fails stays
  // "failed" with the reason and is retried by the next run.
  // Errors: kInvalidArgument "unknown_site" (field from/to), "same_site", "tier_mismatch",
  // "jurisdiction_not_allowed" (naming R1.2 and the site's jurisdiction); the metadata
  // store's. Problems with single objects are in the progress, not errors.
  Result<MigrationProgress> Migrate(const MigrateOptions& options);
  // The checks Migrate makes of its options before it starts (errors as Migrate's).
  Status CheckMigration(const MigrateOptions& options) const;
  // Every site in configuration order: probed now (a local directory present; an S3 bucket
  // answering with the configured keys), with the copies recorded there. Errors: the
  // metadata store's.
  Result<std::vector<SiteHealth>> Health();
  // Every migration, newest first.
  Result<std::vector<MigrationProgress>> Migrations();

  const LocalStoreOptions& options() const { return options_; }

 private:
  LocalStore(LocalStoreOptions options, storage::Store& store, const Clock& clock,
             AuditSink& audit);

  bool Allowed(const Root& root) const;
  internal::SiteIo* FindSite(std::string_view name) const;
  Result<ScrubBlob> ScrubOne(const BlobInfo& blob, const ScrubOptions& options,
                             ScrubReport& report);
  Status SweepRoots(ScrubReport& report);
  Status MigrateOne(const std::string& migration_id, const std::string& blob_id,
                    internal::SiteIo& from, internal::SiteIo& to, const MigrateOptions& o);
  Status RetireOne(const std::string& migration_id, const std::string& blob_id,
                   const std::string& state, internal::SiteIo& from);
  Result<MigrationProgress> Progress(const std::string& migration_id);
  Status Event(storage::Transaction& tx, AuditEvent e, std::vector<AuditEvent>& after);
  // A reader of blob_id found `root` not answering; ReportBadCopy takes the note back.
  void NoteUnreachable(const std::string& blob_id, const std::string& root);

  friend class LocalWriter;

  LocalStoreOptions options_;
  storage::Store& store_;
  const Clock& clock_;
  AuditSink& audit_;
  std::vector<std::unique_ptr<internal::SiteIo>> sites_;  // one per options_.roots entry
  std::mutex unreachable_mu_;
  std::set<std::pair<std::string, std::string>> unreachable_;  // (blob id, site) noted
};

}  // namespace zengen::blobs
