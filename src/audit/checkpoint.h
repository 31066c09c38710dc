// Signed checkpoints of the audit log: anchoring the log outside the database (issue 13 item 10,
// R3.5, R1.4).
//
// The hash chain (audit.h) shows that no record was altered or removed *relative to the records
// that are still there*; someone who can write the database can delete records and recompute
// every later hash, or delete the newest records, and the chain still verifies. To catch that,
// the server keeps a Merkle tree (merkle.h, RFC 9162) over the log — leaf i is the canonical
// form (Canonical) of the record with seq i+1 — and periodically signs its head:
//
//   body signed   "zengen audit checkpoint v1\n" <tree_size> "\n" <root hex> "\n" <timestamp> "\n"
//   signature     Ed25519 (crypto/ed25519.h) with the key in keys/audit-signing.key, a file
//                 outside the database created at first start with mode 0600
//
// Each signed head is appended as one JSON line to the heads file (audit-heads.jsonl in the
// data directory, fsync'd), optionally written to syslog, and served at GET /api/v1/audit/head,
// so that it can be copied somewhere the database's writers cannot reach. A head line carries,
// besides the signed fields, the consistency proof (RFC 9162 section 2.1.4) from the previous
// head and the compact range of its tree (the roots of its perfect subtrees), from which the
// server resumes after a restart without re-reading the whole log.
//
// `zengen audit verify --against HEADS_FILE` (RunVerifyAgainstCommand) checks every head's
// signature, that each head extends the one before it (its consistency proof), and then
// recomputes the tree over the records in the database: at each head's tree size the root must
// equal the signed root. The first head that fails is named. See docs/security.md for exactly
// what this does and does not detect.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "audit/audit.h"
#include "audit/merkle.h"
#include "common/clock.h"
#include "common/result.h"
#include "crypto/ed25519.h"
#include "storage/store.h"

namespace zengen::audit {

// Relative to the data directory.
inline constexpr std::string_view kSigningKeyFile = "keys/audit-signing.key";
inline constexpr std::string_view kHeadsFile = "audit-heads.jsonl";
// How often the server signs a head when the log has grown.
inline constexpr std::chrono::seconds kCheckpointInterval{60};

struct SignedHead {
  int64_t tree_size = 0;
  std::string root_hash;   // 32 raw bytes
  std::string timestamp;   // RFC 3339 UTC with milliseconds
  std::string public_key;  // 32 raw bytes: the key that signed
  std::string signature;   // 64 raw bytes over SignedBody()
  // Not signed (checkable from the two signed roots): the previous head's size and the
  // consistency proof from it to this head; 0 and empty for the first head.
  int64_t previous_size = 0;
  std::vector<std::string> consistency;
  // The roots of the perfect subtrees of this tree (merkle::CompactRange::nodes()).
  std::vector<std::string> compact_range;
};

// The bytes a head's signature covers (see the header comment).
std::string SignedBody(const SignedHead& h);

// true when h.signature is public_key's signature of SignedBody(h).
bool SignatureValid(const SignedHead& h, std::string_view public_key);

// One heads-file line / API object (hashes, key and signature in lower-case hex), and back.
// Errors: kInvalidArgument "head_malformed" naming the field.
nlohmann::json HeadJson(const SignedHead& h);
Result<SignedHead> ParseHead(std::string_view line);

// Reads a heads file: one head per line. A last line without its newline (a write cut short
// by a crash) is ignored. Errors: kNotFound "heads_file_missing"; kInvalidArgument
// "head_malformed" with the line number in the message.
Result<std::vector<SignedHead>> ReadHeadsFile(const std::filesystem::path& path);

// The Merkle leaf of a record: its canonical form.
std::string LeafOf(const Record& r);

struct CheckpointOptions {
  std::filesystem::path key_file;    // created with a fresh key when absent
  std::filesystem::path heads_file;  // created when absent, mode 0600
  bool syslog = false;               // also write each head to syslog (LOG_AUTHPRIV)
};

class Checkpointer {
 public:
  // Loads (or creates) the signing key and resumes from the last head of the heads file: its
  // signature must verify with the key, and its compact range must fold to its root. Without
  // a heads file the tree is built from the whole log. Errors: "heads_file_invalid" /
  // "head_signature_invalid" (kInternal) when the heads file cannot be trusted;
  // "audit_log_truncated" (kInternal) when the log has fewer records than the last head; the
  // key's and the store's errors.
  static Result<std::unique_ptr<Checkpointer>> Open(storage::Store& store, const Clock& clock,
                                                    CheckpointOptions options);

  // Stops the periodic thread (Start) after one last checkpoint.
  ~Checkpointer();
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  // Adds the records committed since the last call to the tree and, when the tree grew (or no
  // head exists yet), signs a new head, appends it to the heads file (fsync) and returns it;
  // otherwise returns the latest head. Errors: "audit_log_gap" / "audit_log_truncated"
  // (kInternal) when the records after the tree are not seq tree_size+1, +2, … (nothing is
  // signed then, and later calls keep failing until an operator intervenes); the store's and
  // the file system's errors.
  Result<SignedHead> Checkpoint();

  // The latest signed head, if any.
  std::optional<SignedHead> Latest() const;
  std::string public_key() const { return key_.public_key; }

  // Runs Checkpoint at once and then every interval on a thread of its own, logging failures;
  // the destructor stops it after one last Checkpoint.
  void Start(std::chrono::milliseconds interval);

 private:
  Checkpointer(storage::Store& store, const Clock& clock, CheckpointOptions options,
               crypto::ed25519::KeyPair key);
  Status AppendHead(const SignedHead& h);
  void Stop();

  storage::Store& store_;
  const Clock& clock_;
  const CheckpointOptions options_;
  const crypto::ed25519::KeyPair key_;

  mutable std::mutex mu_;  // guards everything below; Checkpoint runs under it
  merkle::CompactRange tree_;
  std::optional<SignedHead> latest_;
  bool stopping_ = false;
  std::condition_variable cv_;
  std::thread thread_;
};

struct AnchorProblem {
  int64_t line = 0;       // 1-based line of the head in the heads file
  int64_t tree_size = 0;  // the head's tree size
  std::string timestamp;  // the head's timestamp
  std::string detail;
};

struct AnchorReport {
  int64_t heads = 0;
  int64_t records = 0;
  std::string root_hash;  // root over all records read (raw)
  std::vector<AnchorProblem> problems;  // in heads-file order
  bool intact() const { return problems.empty(); }
};

// Checks heads (in heads-file order) against public_key and the log in store: signatures,
// consistency between consecutive heads, and the log's root at each head's tree size. Errors:
// the store's errors only; a log that does not extend a head is a problem in the report.
Result<AnchorReport> VerifyAgainstHeads(storage::Store& store, std::span<const SignedHead> heads,
                                        std::string_view public_key);

// `zengen audit verify --against HEADS_FILE`: the chain check of RunVerifyCommand, then
// VerifyAgainstHeads with the public key of key_file. Prints
//   audit log extends all H signed heads: N records, tree root <hex>
// (returns 0), or one line per problem and
//   audit log does not extend head L (tree size S, signed T): <detail>
// naming the first bad head (returns 1). Unreadable input prints "audit verify failed: …"
// and returns 2.
int RunVerifyAgainstCommand(storage::Store& store, const std::filesystem::path& key_file,
                            const std::filesystem::path& heads_file, std::ostream& out);

}  // namespace zengen::audit
