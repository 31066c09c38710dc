// Everything a data directory brings to life, wired once for `serve` and for the CLI
// commands that act on the same state (org, user, audit).
#pragma once

#include <filesystem>
#include <memory>

#include "audit/audit.h"
#include "audit/sink.h"
#include "blobs/local_store.h"
#include "common/audit_event.h"
#include "common/clock.h"
#include "common/config.h"
#include "identity/identity.h"
#include "clinical/records.h"
#include "consent/consent.h"
#include "findings/findings.h"
#include "participants/participants.h"
#include "genomefiles/files.h"
#include "sequencing/upload.h"
#include "sharing/sharing.h"
#include "specimens/specimens.h"
#include "storage/store.h"

namespace zengen::app {

// Adapts the hash-chained audit log to the AuditSink port the domain modules use (also inside
// their transactions).
using AuditLogSink = audit::LogSink;

struct Runtime {
  Config config;
  SystemClock clock;
  std::unique_ptr<storage::Store> store;
  std::unique_ptr<audit::Log> audit_log;
  std::unique_ptr<AuditLogSink> audit_sink;
  std::unique_ptr<identity::Identity> identity;
  std::unique_ptr<participants::Registry> participants;
  std::unique_ptr<consent::Ledger> consents;
  std::unique_ptr<specimens::Specimens> specimens;
  std::unique_ptr<findings::Findings> findings;
  std::unique_ptr<clinical::ClinicalStore> clinical;
  std::unique_ptr<blobs::LocalStore> blobs;
  // The registry of stored genome files (genomefiles), readers' side.
  std::unique_ptr<genomefiles::Files> files;
  std::unique_ptr<sequencing::Uploads> uploads;
  std::unique_ptr<sharing::Sharing> sharing;
  // What the recovery pass at start did (serving process only).
  sequencing::Uploads::RecoveryReport recovery;

  // Loads DIR/zengen.conf and opens the store (migrating it), the audit log and identity.
  // actor names who acts on the blob store ("system" for serve, "cli" for commands). The
  // data directory is made owner-only (0700 directories, 0600 files) on every open. With
  // actor "system" (the serving process) the recovery pass runs before returning:
  // interrupted blob writes are removed and Uploads::Recover finishes interrupted completions.
  static Result<std::unique_ptr<Runtime>> Open(const std::filesystem::path& data_dir,
                                               const std::string& actor = "system");
  ~Runtime();
};

}  // namespace zengen::app
