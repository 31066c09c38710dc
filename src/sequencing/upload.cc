#include "sequencing/upload.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <memory>
#include <set>

#include <fmt/format.h>

#include "audit/audit.h"
#include "crypto/crypt4gh.h"
#include "crypto/crypto.h"
#include "crypto/ids.h"
#include "crypto/sha256_stream.h"
#include "specimens/analysis_orders.h"
#include "storage/columns.h"

namespace zengen::sequencing {
namespace {

namespace fs = std::filesystem;
namespace c4gh = crypto::crypt4gh;
using nlohmann::json;
using storage::Int;
using crypto::Sha256Stream;
using storage::Null;
using storage::OptText;
using storage::ParseJsonOrNull;
using storage::ParseStringList;
using storage::SafeDump;
using storage::Text;
using genomefiles::DataFile;
using genomefiles::EncryptedBlob;
using genomefiles::Files;
using genomefiles::SanitisedFile;

constexpr size_t kReadPiece = size_t{1} << 20;  // 1 MiB
// Owner only, whatever the umask.
constexpr fs::perms kDirPerms = fs::perms::owner_all;

// Creates dir (and parents) and gives it mode 0700 explicitly.
std::error_code MakeOwnerOnlyDir(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (!ec) fs::permissions(dir, kDirPerms, fs::perm_options::replace, ec);
  return ec;
}

// Writes bytes to a new file of mode 0600 (O_EXCL: never into an existing file).
bool WriteOwnerOnlyFile(const fs::path& path, std::string_view bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  bool ok = ::fchmod(fd, 0600) == 0;
  while (ok && !bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) bytes.remove_prefix(static_cast<size_t>(n));
  }
  ok = ::close(fd) == 0 && ok;
  if (!ok) ::unlink(path.c_str());
  return ok;
}

using crypto::NewId;

bool IsKind(std::string_view k) {
  return std::find(std::begin(kUploadKinds), std::end(kUploadKinds), k) != std::end(kUploadKinds);
}

Status CheckLabel(std::string_view value, std::string_view field) {
  if (value.empty()) {
    return InvalidArgument("missing_field", fmt::format("'{}' is required", field),
                           std::string(field));
  }
  if (value.size() > 100) {
    return InvalidArgument("value_too_long", fmt::format("'{}' is longer than 100 bytes", field),
                           std::string(field));
  }
  for (unsigned char c : value) {
    if (c < 0x20 || c == 0x7f) {
      return InvalidArgument("invalid_" + std::string(field),
                             fmt::format("'{}' contains a control character", field),
                             std::string(field));
    }
  }
  return Status::Ok();
}

Status CheckFileName(std::string_view name) {
  if (name.empty()) return InvalidArgument("missing_field", "'file_name' is required", "file_name");
  if (name.size() > 255) {
    return InvalidArgument("invalid_file_name", "'file_name' is longer than 255 bytes",
                           "file_name");
  }
  if (name == "." || name == "..") {
    return InvalidArgument("invalid_file_name", "'file_name' may not be . or ..", "file_name");
  }
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f || c == '/' || c == '\\') {
      return InvalidArgument("invalid_file_name",
                             "'file_name' may not contain '/', '\\' or control characters",
                             "file_name");
    }
  }
  return Status::Ok();
}

bool IsSha256Hex(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](unsigned char c) {
           return std::isdigit(c) || (c >= 'a' && c <= 'f');
         });
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// Calls fn with successive pieces of the file (at most kReadPiece bytes each).
Status ForEachPiece(const fs::path& path, const std::function<Status(std::string_view)>& fn) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) {
    return Unavailable("staging_read_failed", fmt::format("cannot open {}", path.filename().string()));
  }
  std::string buf(kReadPiece, '\0');
  while (true) {
    const size_t n = std::fread(buf.data(), 1, buf.size(), f.get());
    if (n > 0) ZG_RETURN_IF_ERROR(fn(std::string_view(buf.data(), n)));
    if (n < buf.size()) {
      if (std::ferror(f.get())) {
        return Unavailable("staging_read_failed",
                           fmt::format("cannot read {}", path.filename().string()));
      }
      return Status::Ok();
    }
  }
}

// Calls fn with the plaintext of a staged chunk (Crypt4GH for the data center's key), piece by
// piece. A chunk that does not decrypt was damaged on disk: kUnavailable, never a client error.
Status ForEachStagedPiece(const fs::path& path, const std::string& secret_key,
                          const std::function<Status(std::string_view)>& fn) {
  ZG_ASSIGN_OR_RETURN(auto dec, c4gh::Decryptor::Create(secret_key));
  auto damaged = [&path](const Error& e) {
    return Unavailable("staging_damaged", fmt::format("staged chunk {} does not decrypt ({})",
                                                      path.filename().string(), e.code));
  };
  ZG_RETURN_IF_ERROR(ForEachPiece(path, [&](std::string_view cipher) -> Status {
    auto plain = dec.Update(cipher);
    if (!plain.ok()) return damaged(plain.error());
    return plain->empty() ? Status::Ok() : fn(*plain);
  }));
  auto rest = dec.Finish();
  if (!rest.ok()) return damaged(rest.error());
  return rest->empty() ? Status::Ok() : fn(*rest);
}

// The fields of a stored QC report that pairing and the run verdict need.
FastqReport ReportFromJson(const json& j) {
  FastqReport r;
  r.reads = j.value("reads", int64_t{0});
  r.bases = j.value("bases", int64_t{0});
  r.q30_bases = j.value("q30_bases", int64_t{0});
  r.gc_bases = j.value("gc_bases", int64_t{0});
  r.n_bases = j.value("n_bases", int64_t{0});
  r.mean_quality = j.value("mean_quality", 0.0);
  r.name_digest = std::stoull(j.value("name_digest", std::string("0")), nullptr, 16);
  return r;
}

// Reads, bases and quality of both mates together, for the run verdict.
FastqReport Merge(const std::vector<FastqReport>& parts) {
  FastqReport m;
  double quality_sum = 0;
  for (const auto& p : parts) {
    m.reads += p.reads;
    m.bases += p.bases;
    m.q30_bases += p.q30_bases;
    m.gc_bases += p.gc_bases;
    m.n_bases += p.n_bases;
    quality_sum += p.mean_quality * static_cast<double>(p.bases);
  }
  if (m.bases > 0) {
    const auto b = static_cast<double>(m.bases);
    m.mean_quality = quality_sum / b;
    m.q30_fraction = static_cast<double>(m.q30_bases) / b;
    m.gc_fraction = static_cast<double>(m.gc_bases) / b;
    m.n_rate = static_cast<double>(m.n_bases) / b;
  }
  return m;
}

constexpr std::string_view kRunColumns =
    "id, specimen_id, organisation, instrument_model, flowcell, library, layout, status, "
    "non_standard_instrument, verdict, created_by, created_at, completed_at, custody_pending_by";

Run RunFromRow(const storage::Row& r) {
  Run run;
  run.id = r.Text(0);
  run.specimen_id = r.Text(1);
  run.organisation = r.Text(2);
  run.instrument_model = r.Text(3);
  run.flowcell = r.Text(4);
  run.library = r.Text(5);
  run.layout = r.Text(6);
  run.status = r.Text(7);
  run.non_standard_instrument = r.Int(8) != 0;
  run.verdict = ParseJsonOrNull(r.Text(9));
  run.created_by = r.Text(10);
  run.created_at = r.Text(11);
  run.completed_at = r.Text(12);
  run.custody_pending_by = r.Text(13);
  return run;
}

constexpr std::string_view kUploadColumns =
    "id, kind, run_id, read_number, specimen_id, derived_from, organisation, file_name, size, "
    "sha256, chunk_size, status, file_id, error, created_by, created_at, sample_map, "
    "pending_blob_id";

Upload UploadFromRow(const storage::Row& r) {
  Upload u;
  u.id = r.Text(0);
  u.kind = r.Text(1);
  u.run_id = r.Text(2);
  u.read = static_cast<int>(r.Int(3));
  u.specimen_id = r.Text(4);
  u.derived_from = ParseStringList(r.Text(5));
  u.organisation = r.Text(6);
  u.file_name = r.Text(7);
  u.size = r.Int(8);
  u.sha256 = r.Text(9);
  u.chunk_size = r.Int(10);
  u.status = r.Text(11);
  u.file_id = r.Text(12);
  u.error = ParseJsonOrNull(r.Text(13));
  u.created_by = r.Text(14);
  u.created_at = r.Text(15);
  const json map = ParseJsonOrNull(r.Text(16));
  if (map.is_object()) {
    for (const auto& [k, v] : map.items()) {
      if (v.is_string()) u.sample_map[k] = v.get<std::string>();
    }
  }
  u.pending_blob_id = r.Text(17);
  return u;
}


// Registers a stored file (and its samples) and marks the upload it came from complete, in the
// caller's transaction.
Status RecordFile(storage::Transaction& tx, const DataFile& f, const std::string& upload_id,
                  const std::vector<genomefiles::FileSample>& samples = {}) {
  ZG_RETURN_IF_ERROR(Files::Record(tx, f, samples));
  ZG_ASSIGN_OR_RETURN(int64_t changed,
                      tx.Exec("UPDATE uploads SET status = 'complete', file_id = $2, "
                              "pending_blob_id = NULL, pending_index_blob_id = NULL, "
                              "updated_at = $3 WHERE id = $1 AND "
                              "status = 'open'",
                              {Text(upload_id), Text(f.id), Text(f.created_at)}));
  if (changed != 1) {
    return Conflict("upload_not_open", fmt::format("upload {} is no longer open", upload_id));
  }
  return Status::Ok();
}

}  // namespace

QcThresholds DefaultQcThresholds() {
  QcThresholds t;
  t.min_reads = 1000;
  t.min_mean_quality = 20;
  t.min_q30_fraction = 0.5;
  t.max_n_rate = 0.05;
  t.standard_instruments = {"NovaSeq 6000", "NovaSeq X", "NovaSeq X Plus"};
  return t;
}

int64_t Upload::ChunkLength(int64_t index) const {
  if (index < 0 || index >= chunks()) return -1;
  return index + 1 < chunks() ? chunk_size : size - index * chunk_size;
}

json ReportJson(const FastqReport& r) {
  json lengths = json::object();
  for (const auto& [len, n] : r.length_histogram) lengths[std::to_string(len)] = n;
  return json{{"gzip", r.gzip},
              {"gzip_members", r.gzip_members},
              {"uploaded_bytes", r.uploaded_bytes},
              {"fastq_bytes", r.fastq_bytes},
              {"sha256", r.sha256_hex},
              {"md5", r.md5_hex},
              {"reads", r.reads},
              {"bases", r.bases},
              {"q30_bases", r.q30_bases},
              {"gc_bases", r.gc_bases},
              {"n_bases", r.n_bases},
              {"mean_quality", r.mean_quality},
              {"q30_fraction", r.q30_fraction},
              {"gc_fraction", r.gc_fraction},
              {"n_rate", r.n_rate},
              {"min_length", r.min_length},
              {"max_length", r.max_length},
              {"per_position_mean_quality", r.per_position_mean_quality},
              {"length_histogram", lengths},
              {"first_read_name", r.first_read_name},
              {"instrument_id", r.instrument_id},
              {"name_digest", fmt::format("{:016x}", r.name_digest)}};
}

json VerdictJson(const QcVerdict& v) {
  return json{{"pass", v.pass},
              {"reasons", v.reasons},
              {"instrument_model", v.instrument_model},
              {"non_standard_instrument", v.non_standard_instrument}};
}

json RunJson(const Run& r) {
  return json{{"id", r.id},
              {"specimen_id", r.specimen_id},
              {"organisation", r.organisation},
              {"instrument_model", r.instrument_model},
              {"flowcell", r.flowcell},
              {"library", r.library},
              {"layout", r.layout},
              {"status", r.status},
              {"non_standard_instrument", r.non_standard_instrument},
              {"verdict", r.verdict},
              {"created_by", r.created_by},
              {"created_at", r.created_at},
              {"completed_at", r.completed_at.empty() ? json(nullptr) : json(r.completed_at)}};
}

json UploadJson(const UploadProgress& p) {
  const Upload& u = p.upload;
  return json{{"id", u.id},
              {"kind", u.kind},
              {"run_id", u.run_id.empty() ? json(nullptr) : json(u.run_id)},
              {"read", u.read == 0 ? json(nullptr) : json(u.read)},
              {"specimen_id", u.specimen_id},
              {"derived_from", json(u.derived_from)},
              {"sample_map", json(u.sample_map)},
              {"organisation", u.organisation},
              {"file_name", u.file_name},
              {"size", u.size},
              {"sha256", u.sha256},
              {"chunk_size", u.chunk_size},
              {"chunks", u.chunks()},
              {"status", u.status},
              {"present", p.present},
              {"missing", p.missing},
              {"file_id", u.file_id.empty() ? json(nullptr) : json(u.file_id)},
              {"error", u.error},
              {"created_by", u.created_by},
              {"created_at", u.created_at}};
}

Uploads::Uploads(storage::Store& store, const Clock& clock, AuditSink& audit,
                 blobs::BlobStore& blobs, specimens::Specimens& specimens,
                 std::filesystem::path staging_dir, genomefiles::UploadKeys keys,
                 QcThresholds thresholds, genomefiles::AnalysisSanitiser sanitiser)
    : store_(store),
      clock_(clock),
      audit_(audit),
      blobs_(blobs),
      specimens_(specimens),
      staging_dir_(std::move(staging_dir)),
      keys_(keys),
      files_(store, specimens, std::move(keys)),
      thresholds_(std::move(thresholds)),
      sanitiser_(std::move(sanitiser)) {
  (void)MakeOwnerOnlyDir(staging_dir_);
}

Status Uploads::Audit(const specimens::Actor& actor, std::string action, std::string resource,
                      std::string reason, json details) {
  AuditEvent e;
  e.actor = actor.user;
  e.source = actor.source;
  e.action = std::move(action);
  e.resource = std::move(resource);
  e.reason = std::move(reason);
  e.request_id = actor.request_id;
  e.details = SafeDump(details);
  return audit_.Append(std::move(e));
}

Status Uploads::AuditIn(storage::Transaction& tx, const specimens::Actor& actor,
                        std::string action, std::string resource, std::string reason,
                        const json& details) {
  audit::Record r;
  r.actor = actor.user;
  r.source = actor.source;
  r.action = std::move(action);
  r.resource = std::move(resource);
  r.reason = std::move(reason);
  r.request_id = actor.request_id;
  r.details = SafeDump(details);
  return audit::AppendInTransaction(store_, tx, clock_, r);
}

bool Uploads::Crash(std::string_view point) const { return crash_point_ && crash_point_(point); }

void Uploads::SetCrashPointForTest(std::function<bool(std::string_view point)> hook) {
  crash_point_ = std::move(hook);
}

Error Uploads::Redact(Error e, std::string_view upload_id) const {
  // why: sanitiser and I/O messages name the files they were given; the client may know the
  // file's name in the upload, not where the server stages it.
  const std::string work = (staging_dir_ / std::string(upload_id) / "work").string() + "/";
  const std::string root = staging_dir_.string();
  for (const auto& [from, to] : {std::pair{work, std::string()}, {root, std::string("staging")}}) {
    for (size_t at = e.message.find(from); at != std::string::npos;
         at = e.message.find(from, at + to.size())) {
      e.message.replace(at, from.size(), to);
    }
  }
  return e;
}

fs::path Uploads::ChunkPath(std::string_view id, int64_t index) const {
  return staging_dir_ / std::string(id) / std::to_string(index);
}

// ---- Runs ----------------------------------------------------------------------------------

Result<Run> Uploads::CreateRun(const NewRun& n, const specimens::Actor& actor) {
  ZG_RETURN_IF_ERROR(CheckLabel(n.specimen_id, "specimen_id"));
  ZG_RETURN_IF_ERROR(CheckLabel(n.instrument_model, "instrument_model"));
  ZG_RETURN_IF_ERROR(CheckLabel(n.flowcell, "flowcell"));
  ZG_RETURN_IF_ERROR(CheckLabel(n.library, "library"));
  if (n.layout != "single" && n.layout != "paired") {
    return InvalidArgument("invalid_layout", "'layout' must be single or paired", "layout");
  }
  ZG_ASSIGN_OR_RETURN(specimens::SpecimenDetail d, specimens_.Get(n.specimen_id));
  if (d.specimen.holder != actor.organisation || !actor.HasRole("sequencing_operator")) {
    return PermissionDenied("not_specimen_holder",
                            "only a sequencing operator of the facility holding the specimen "
                            "may open a run for it");
  }
  if (d.specimen.state != "library_prepared" && d.specimen.state != "sequenced") {
    return Conflict("invalid_specimen_state",
                    fmt::format("specimen {} is {}; a run needs library_prepared or sequenced",
                                n.specimen_id, d.specimen.state));
  }
  Run run;
  run.id = NewId("RUN-");
  run.specimen_id = n.specimen_id;
  run.organisation = actor.organisation;
  run.instrument_model = n.instrument_model;
  run.flowcell = n.flowcell;
  run.library = n.library;
  run.layout = n.layout;
  run.status = "open";
  run.non_standard_instrument = !IsStandardInstrument(n.instrument_model,
                                                      thresholds_.standard_instruments);
  run.created_by = actor.user;
  run.created_at = FormatRfc3339(clock_.Now());
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kWrite));
  ZG_RETURN_IF_ERROR(
      tx->Exec(fmt::format("INSERT INTO sequencing_runs ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, "
                           "$8, $9, NULL, $10, $11, NULL, NULL)",
                           kRunColumns),
               {Text(run.id), Text(run.specimen_id), Text(run.organisation),
                Text(run.instrument_model), Text(run.flowcell), Text(run.library),
                Text(run.layout), Text(run.status), Int(run.non_standard_instrument ? 1 : 0),
                Text(run.created_by), Text(run.created_at)}));
  ZG_RETURN_IF_ERROR(
      AuditIn(*tx, actor, "run.create", "run/" + run.id, "sequencing run opened", RunJson(run)));
  ZG_RETURN_IF_ERROR(tx->Commit());
  return run;
}

Result<Run> Uploads::GetRun(std::string_view run_id) {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(auto rows,
                      tx->Query(fmt::format("SELECT {} FROM sequencing_runs WHERE id = $1",
                                            kRunColumns),
                                {Text(std::string(run_id))}));
  if (rows.empty()) return NotFound("run_not_found", fmt::format("no run {}", run_id));
  return RunFromRow(rows.rows.front());
}

Result<std::vector<Run>> Uploads::ListRuns(std::string_view organisation) {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(
      auto rows, tx->Query(fmt::format("SELECT {} FROM sequencing_runs WHERE organisation = $1 "
                                       "ORDER BY created_at DESC, id",
                                       kRunColumns),
                           {Text(std::string(organisation))}));
  std::vector<Run> out;
  for (const auto& r : rows.rows) out.push_back(RunFromRow(r));
  return out;
}

// ---- Uploads -------------------------------------------------------------------------------

Result<Upload> Uploads::LoadUpload(storage::Transaction& tx, std::string_view id) {
  ZG_ASSIGN_OR_RETURN(auto rows,
                      tx.Query(fmt::format("SELECT {} FROM uploads WHERE id = $1", kUploadColumns),
                               {Text(std::string(id))}));
  if (rows.empty()) return NotFound("upload_not_found", fmt::format("no upload {}", id));
  return UploadFromRow(rows.rows.front());
}

Result<Upload> Uploads::Create(const NewUpload& n, const specimens::Actor& actor) {
  if (!IsKind(n.kind)) {
    return InvalidArgument("invalid_kind", "'kind' must be fastq, cram, bam, vcf or bcf", "kind");
  }
  ZG_RETURN_IF_ERROR(CheckFileName(n.file_name));
  if (n.size < 1 || n.size > kMaxUploadSize) {
    return InvalidArgument("invalid_size",
                           fmt::format("'size' must be 1 to {} bytes", kMaxUploadSize), "size");
  }
  const std::string sha = Lower(n.sha256);
  if (!IsSha256Hex(sha)) {
    return InvalidArgument("invalid_sha256", "'sha256' must be 64 hexadecimal digits", "sha256");
  }
  if (n.chunk_size < kMinChunkSize || n.chunk_size > kMaxChunkSize) {
    return InvalidArgument("invalid_chunk_size",
                           fmt::format("'chunk_size' must be {} to {} bytes", kMinChunkSize,
                                       kMaxChunkSize),
                           "chunk_size");
  }
  Upload u;
  u.id = NewId("UP-");
  u.kind = n.kind;
  u.organisation = actor.organisation;
  u.file_name = n.file_name;
  u.size = n.size;
  u.sha256 = sha;
  u.chunk_size = n.chunk_size;
  u.status = "open";
  u.created_by = actor.user;
  u.created_at = FormatRfc3339(clock_.Now());

  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kWrite));
  if (n.kind == "fastq") {
    if (n.run_id.empty()) {
      return InvalidArgument("missing_field", "'run_id' is required for FASTQ", "run_id");
    }
    if (!n.specimen_id.empty() || !n.derived_from.empty()) {
      return InvalidArgument("unexpected_field",
                             "FASTQ uploads name their run, not a specimen or sources",
                             n.specimen_id.empty() ? "derived_from" : "specimen_id");
    }
    ZG_ASSIGN_OR_RETURN(auto rows,
                        tx->Query(fmt::format("SELECT {} FROM sequencing_runs WHERE id = $1",
                                              kRunColumns),
                                  {Text(n.run_id)}));
    if (rows.empty()) return NotFound("run_not_found", fmt::format("no run {}", n.run_id));
    const Run run = RunFromRow(rows.rows.front());
    if (run.organisation != actor.organisation) {
      return PermissionDenied("not_run_facility",
                              "only the facility that opened the run may upload its files");
    }
    if (run.status != "open") {
      return Conflict("run_not_open", fmt::format("run {} is {}", run.id, run.status));
    }
    const int max_read = run.layout == "paired" ? 2 : 1;
    if (n.read < 1 || n.read > max_read) {
      return InvalidArgument("invalid_read",
                             fmt::format("'read' must be {} for a {} run",
                                         max_read == 1 ? "1" : "1 or 2", run.layout),
                             "read");
    }
    ZG_ASSIGN_OR_RETURN(std::string taken, Files::RunReadFile(*tx, run.id, n.read));
    if (taken.empty()) {
      ZG_ASSIGN_OR_RETURN(auto open,
                          tx->Query("SELECT id FROM uploads WHERE run_id = $1 AND read_number = "
                                    "$2 AND status = 'open'",
                                    {Text(run.id), Int(n.read)}));
      if (!open.empty()) taken = open.rows.front().Text(0);
    }
    if (!taken.empty()) {
      return Conflict("read_taken", fmt::format("read {} of run {} already has {}", n.read,
                                                run.id, taken));
    }
    u.run_id = run.id;
    u.read = n.read;
    u.specimen_id = run.specimen_id;
  } else {
    if (!n.run_id.empty() || n.read != 0) {
      return InvalidArgument("unexpected_field", "analysis files name a specimen, not a run",
                             n.run_id.empty() ? "read" : "run_id");
    }
    if (n.specimen_id.empty()) {
      return InvalidArgument("missing_field", "'specimen_id' is required", "specimen_id");
    }
    if (n.derived_from.empty() || n.derived_from.size() > 16) {
      return InvalidArgument("invalid_derived_from",
                             "'derived_from' must list the 1 to 16 FASTQ files the file was "
                             "made from",
                             "derived_from");
    }
    ZG_ASSIGN_OR_RETURN(specimens::SpecimenDetail d, specimens_.Get(n.specimen_id));
    if (d.specimen.state != "analysed") {
      return Conflict("invalid_specimen_state",
                      fmt::format("specimen {} is {}; record that your centre analyses it "
                                  "(custody step to analysed) before registering outputs",
                                  n.specimen_id, d.specimen.state));
    }
    if (d.specimen.holder != actor.organisation) {
      return PermissionDenied("not_specimen_holder",
                              "only the analysis centre holding the specimen may register its "
                              "outputs");
    }
    // Participants the file is about: the specimen's, and those of a joint file's samples.
    std::set<std::string> participants = {d.specimen.participant_id};
    if (!n.sample_map.empty()) {
      if (n.kind != "vcf" && n.kind != "bcf") {
        return InvalidArgument("unexpected_field", "'sample_map' is for multi-sample VCF/BCF",
                               "sample_map");
      }
      if (n.sample_map.size() > 10000) {
        return InvalidArgument("invalid_sample_map", "'sample_map' has more than 10000 samples",
                               "sample_map");
      }
      std::set<std::string> mapped;
      for (const auto& [sample, pid] : n.sample_map) {
        if (sample.empty() || sample.size() > 255) {
          return InvalidArgument("invalid_sample_map", "sample names are 1-255 bytes",
                                 "sample_map");
        }
        if (!mapped.insert(pid).second) {
          return InvalidArgument("invalid_sample_map",
                                 fmt::format("participant {} is mapped twice", pid), "sample_map");
        }
        ZG_ASSIGN_OR_RETURN(const int64_t held,
                            specimens::CountHeldInState(*tx, pid, actor.organisation, "analysed"));
        if (held == 0) {
          return InvalidArgument("invalid_sample_map",
                                 fmt::format("participant {} has no specimen your centre "
                                             "analyses",
                                             pid),
                                 "sample_map");
        }
      }
      if (!mapped.count(d.specimen.participant_id)) {
        return InvalidArgument("invalid_sample_map",
                               "the specimen's participant must be one of the file's samples",
                               "sample_map");
      }
      participants = mapped;
    }
    std::set<std::string> seen;
    for (const auto& src : n.derived_from) {
      if (!seen.insert(src).second) {
        return InvalidArgument("invalid_derived_from",
                               fmt::format("'derived_from' lists {} twice", src), "derived_from");
      }
      ZG_ASSIGN_OR_RETURN(DataFile source, Files::GetFileIn(*tx, src));
      if (source.kind != "fastq" || !participants.count(source.participant_id)) {
        return InvalidArgument("derived_from_mismatch",
                               fmt::format("{} is not a FASTQ file of the file's participants",
                                           src),
                               "derived_from");
      }
    }
    u.specimen_id = n.specimen_id;
    u.derived_from = n.derived_from;
    u.sample_map = n.sample_map;
  }
  ZG_RETURN_IF_ERROR(tx->Exec(
      fmt::format("INSERT INTO uploads ({}, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "
                  "$9, $10, $11, $12, NULL, NULL, $13, $14, $15, NULL, $14)",
                  kUploadColumns),
      {Text(u.id), Text(u.kind), OptText(u.run_id), Int(u.read), Text(u.specimen_id),
       Text(json(u.derived_from).dump()), Text(u.organisation), Text(u.file_name),
       Int(u.size), Text(u.sha256), Int(u.chunk_size), Text(u.status), Text(u.created_by),
       Text(u.created_at), Text(json(u.sample_map).dump())}));
  if (const std::error_code ec = MakeOwnerOnlyDir(staging_dir_ / u.id); ec) {
    return Unavailable("staging_unavailable",
                       fmt::format("cannot create the staging directory: {}", ec.message()));
  }
  ZG_RETURN_IF_ERROR(AuditIn(*tx, actor, "upload.create", "upload/" + u.id, "upload opened",
                             UploadJson({u, {}, {}})));
  ZG_RETURN_IF_ERROR(tx->Commit());
  return u;
}

Status Uploads::PutChunk(std::string_view upload_id, int64_t index, std::string_view bytes,
                         const specimens::Actor& actor) {
  size_t at = 0;
  return PutChunk(upload_id, index, static_cast<int64_t>(bytes.size()),
                  [bytes, &at]() -> Result<std::string> {
                    const size_t n = std::min(kReadPiece, bytes.size() - at);
                    std::string piece(bytes.substr(at, n));
                    at += n;
                    return piece;
                  },
                  actor);
}

Status Uploads::PutChunk(std::string_view upload_id, int64_t index, int64_t length,
                         const ChunkSource& source, const specimens::Actor& actor) {
  Upload u;
  {
    ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
    ZG_ASSIGN_OR_RETURN(u, LoadUpload(*tx, upload_id));
  }
  if (u.status == "open" && PastLifetime(u)) {
    // why: under the completion lock, so that a completion of this upload is either done or
    // not started; this path is taken once per late upload, never on the chunk hot path.
    std::lock_guard lock(complete_mu_);
    ZG_ASSIGN_OR_RETURN(const bool closed, Expire(u));
    if (!closed)
      return Conflict("upload_not_open", fmt::format("upload {} is no longer open", u.id));
    return ExpiredError(u);
  }
  if (u.status == "expired") return ExpiredError(u);
  if (u.status != "open") {
    return Conflict("upload_not_open", fmt::format("upload {} is {}", u.id, u.status));
  }
  if (index < 0 || index >= u.chunks()) {
    return InvalidArgument("invalid_chunk_index",
                           fmt::format("chunk index must be 0 to {}", u.chunks() - 1), "index");
  }
  const int64_t want = u.ChunkLength(index);
  auto wrong_size = [&](int64_t got) {
    return InvalidArgument("invalid_chunk_size",
                           fmt::format("chunk {} must be {} bytes, got {}", index, want, got),
                           "body");
  };
  if (length != want) return wrong_size(length);
  const fs::path final_path = ChunkPath(u.id, index);
  const fs::path temp = final_path.string() + ".part-" + crypto::ToHex(crypto::RandomBytes(4));
  // Staged chunks are plaintext FASTQ or CRAM until completion: encrypted at rest for the data
  // center's key (a fresh session key per chunk), in a file only the server may read. The
  // chunk is sealed a piece at a time as it is read (issue 13 item 2: never whole in memory).
  ZG_ASSIGN_OR_RETURN(auto encryptor,
                      c4gh::Encryptor::Create(keys_.secret_key, {keys_.public_key}));
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Unavailable("staging_write_failed", fmt::format("cannot stage chunk {}", index));
  }
  bool written = ::fchmod(fd, 0600) == 0;
  auto write_all = [&](std::string_view b) {
    while (written && !b.empty()) {
      const ssize_t n = ::write(fd, b.data(), b.size());
      if (n < 0 && errno == EINTR) continue;
      written = n > 0;
      if (written) b.remove_prefix(static_cast<size_t>(n));
    }
  };
  Sha256Stream sha;
  int64_t got = 0;
  std::optional<Error> failure;
  while (written) {
    Result<std::string> piece = source();
    if (!piece.ok()) {
      failure = piece.error();
      break;
    }
    if (piece->empty()) break;
    got += static_cast<int64_t>(piece->size());
    if (got > want) {
      failure = wrong_size(got);
      break;
    }
    sha.Update(*piece);
    write_all(encryptor.Update(*piece));
  }
  if (!failure && written && got != want) failure = wrong_size(got);
  if (!failure) write_all(encryptor.Finish());
  written = ::close(fd) == 0 && written;
  if (!failure && !written) {
    failure = Unavailable("staging_write_failed", fmt::format("cannot stage chunk {}", index));
  }
  std::error_code ec;
  if (!failure) {
    fs::rename(temp, final_path, ec);
    if (ec) failure = Unavailable("staging_write_failed", fmt::format("cannot stage chunk {}", index));
  }
  if (failure) {
    fs::remove(temp, ec);
    return *failure;
  }
  return Audit(actor, "upload.chunk", "upload/" + u.id, "chunk staged",
               json{{"index", index}, {"bytes", got}, {"sha256", sha.HexFinal()}});
}

Result<UploadProgress> Uploads::Get(std::string_view upload_id) {
  UploadProgress p;
  {
    ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
    ZG_ASSIGN_OR_RETURN(p.upload, LoadUpload(*tx, upload_id));
  }
  if (p.upload.status == "open") {
    for (int64_t i = 0; i < p.upload.chunks(); ++i) {
      // A chunk is renamed into place whole (its length was checked before it was sealed).
      std::error_code ec;
      if (fs::is_regular_file(ChunkPath(p.upload.id, i), ec)) {
        p.present.push_back(i);
      } else {
        p.missing.push_back(i);
      }
    }
  }
  return p;
}

Status Uploads::Reject(const Upload& u, const Error& e, const specimens::Actor& actor) {
  const json err{{"code", e.code}, {"message", e.message}};
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kWrite));
  ZG_RETURN_IF_ERROR(tx->Exec(
      "UPDATE uploads SET status = 'rejected', error = $2, updated_at = $3 WHERE id = $1 AND "
      "status = 'open'",
      {Text(u.id), Text(SafeDump(err)), Text(FormatRfc3339(clock_.Now()))}));
  ZG_RETURN_IF_ERROR(AuditIn(*tx, actor, "upload.reject", "upload/" + u.id, e.message,
                             json{{"code", e.code}, {"file_name", u.file_name}, {"kind", u.kind}}));
  ZG_RETURN_IF_ERROR(tx->Commit());
  // The staged chunks go once the rejection is recorded (the recovery pass removes them if
  // this process dies first).
  std::error_code ec;
  fs::remove_all(staging_dir_ / u.id, ec);
  return Status::Ok();
}

Result<Completion> Uploads::Complete(std::string_view upload_id, const specimens::Actor& actor) {
  std::lock_guard lock(complete_mu_);
  ZG_ASSIGN_OR_RETURN(UploadProgress p, Get(upload_id));
  // why: a completion that resumes an interrupted one (pending_blob_id) may adopt its blob
  // whatever the time; Recover runs it at start.
  if (p.upload.status == "open" && p.upload.pending_blob_id.empty() && PastLifetime(p.upload)) {
    ZG_RETURN_IF_ERROR(Expire(p.upload).status());
    return ExpiredError(p.upload);
  }
  const Upload& u = p.upload;
  if (u.status == "expired") return ExpiredError(u);
  if (u.status != "open") {
    return Conflict("upload_not_open", fmt::format("upload {} is {}", u.id, u.status));
  }
  if (actor.organisation != u.organisation) {
    return PermissionDenied("not_uploader", "only the organisation that opened the upload may "
                                            "complete it");
  }
  if (!p.missing.empty()) {
    std::string list;
    for (size_t i = 0; i < p.missing.size() && i < 20; ++i) {
      list += (i ? "," : "") + std::to_string(p.missing[i]);
    }
    if (p.missing.size() > 20) list += ",…";
    return Conflict("chunks_missing", fmt::format("{} of {} chunks missing: {}", p.missing.size(),
                                                  u.chunks(), list));
  }
  bool stored = false;
  Result<Completion> done =
      u.kind == "fastq" ? CompleteFastq(u, actor, stored) : CompleteAnalysis(u, actor, stored);
  if (!done.ok()) {
    const Error e = Redact(done.error(), u.id);
    // A simulated crash leaves everything as a dead process would: for the recovery pass.
    if (e.code == "injected_crash") return e;
    // why: once the file's blob is stored, a later failure (the database) is not the file's
    // fault: the upload stays open and a retry, or the recovery pass, adopts the stored blob.
    if (stored && e.kind != ErrorKind::kInvalidArgument) return e;
    ZG_RETURN_IF_ERROR(Reject(u, e, actor));
    return e;
  }
  std::error_code ec;
  fs::remove_all(staging_dir_ / u.id, ec);
  return done;
}

Result<Completion> Uploads::CompleteFastq(const Upload& u, const specimens::Actor& actor,
                                          bool& stored) {
  ZG_ASSIGN_OR_RETURN(Run run, GetRun(u.run_id));
  if (run.status != "open") {
    return Conflict("run_not_open", fmt::format("run {} is {}", run.id, run.status));
  }
  // An earlier completion of this upload that stored its blob and then died is finished with
  // that blob (found through the intent recorded before storing it), not a second copy.
  std::optional<blobs::BlobInfo> adopted;
  if (!u.pending_blob_id.empty()) {
    auto info = blobs_.Stat(u.pending_blob_id);
    if (info.ok()) {
      adopted = std::move(*info);
    } else if (info.error().kind != ErrorKind::kNotFound) {
      return info.error();
    }
  }
  std::optional<EncryptedBlob> blob;
  if (!adopted) {
    ZG_ASSIGN_OR_RETURN(EncryptedBlob created, EncryptedBlob::Create(blobs_, keys_, "fastq"));
    blob.emplace(std::move(created));
    ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kWrite));
    ZG_RETURN_IF_ERROR(tx->Exec("UPDATE uploads SET pending_blob_id = $2 WHERE id = $1",
                                {Text(u.id), Text(blob->id())}));
    ZG_RETURN_IF_ERROR(tx->Commit());
  }
  FastqOptions opts;
  opts.threads = 2;
  if (blob) opts.sink = [&blob](std::string_view bytes) { return blob->Write(bytes); };
  FastqIngest ingest(std::move(opts));
  for (int64_t i = 0; i < u.chunks(); ++i) {
    ZG_RETURN_IF_ERROR(ForEachStagedPiece(ChunkPath(u.id, i), keys_.secret_key,
                                          [&ingest](std::string_view b) { return ingest.Feed(b); }));
  }
  ZG_ASSIGN_OR_RETURN(FastqReport report, ingest.Finish());
  if (report.uploaded_bytes != u.size) {
    return InvalidArgument("size_mismatch",
                           fmt::format("received {} bytes; the upload declared {}",
                                       report.uploaded_bytes, u.size));
  }
  if (report.sha256_hex != u.sha256) {
    return InvalidArgument("checksum_mismatch",
                           fmt::format("SHA-256 of the received bytes is {}; the upload "
                                       "declared {}",
                                       report.sha256_hex, u.sha256));
  }
  // The mate, if already stored, must agree in read count and names.
  std::vector<FastqReport> run_reports{report};
  {
    ZG_ASSIGN_OR_RETURN(auto others, files_.MateReports(run.id, u.read));
    for (const json& other : others) {
      FastqReport mate = ReportFromJson(other);
      ZG_RETURN_IF_ERROR(CheckPair(mate, report));
      run_reports.push_back(mate);
    }
  }
  ZG_ASSIGN_OR_RETURN(specimens::SpecimenDetail d, specimens_.Get(u.specimen_id));
  blobs::BlobInfo info;
  if (adopted) {
    if (adopted->plaintext_sha256 != report.sha256_hex) {
      return Internal("pending_blob_mismatch",
                      fmt::format("blob {} recorded for upload {} holds other content",
                                  adopted->id, u.id));
    }
    info = *adopted;
  } else {
    ZG_ASSIGN_OR_RETURN(info, blob->Commit());
  }
  stored = true;
  if (Crash("blob_stored")) return Internal("injected_crash", "crash point blob_stored");

  DataFile f;
  f.id = genomefiles::NewFileId();
  f.kind = "fastq";
  f.specimen_id = u.specimen_id;
  f.participant_id = d.specimen.participant_id;
  f.hospital = d.specimen.hospital;
  f.run_id = run.id;
  f.read = u.read;
  f.file_name = u.file_name;
  f.blob_id = info.id;
  f.uploaded_sha256 = report.sha256_hex;
  f.uploaded_md5 = report.md5_hex;
  f.uploaded_size = report.uploaded_bytes;
  f.sha256 = info.plaintext_sha256;
  f.size = info.plaintext_size;
  f.report = ReportJson(report);
  f.created_by = actor.user;
  f.created_at = FormatRfc3339(clock_.Now());
  Completion c;
  c.upload = u;
  c.upload.status = "complete";
  c.upload.file_id = f.id;
  c.upload.pending_blob_id.clear();
  c.file = f;
  // The run's verdict needs every file; with the reports of both mates at hand it is decided
  // here (the stored mate's report was read above).
  const int expected = run.layout == "paired" ? 2 : 1;
  const bool run_complete = static_cast<int>(run_reports.size()) >= expected;
  json verdict;
  if (run_complete) {
    const FastqReport merged = Merge(run_reports);
    const QcVerdict v = Evaluate(merged, thresholds_, run.instrument_model);
    verdict = VerdictJson(v);
    verdict["reads"] = merged.reads;
    run.status = v.pass ? "qc_passed" : "qc_failed";
    run.verdict = verdict;
    run.non_standard_instrument = v.non_standard_instrument;
    run.completed_at = FormatRfc3339(clock_.Now());
    run.custody_pending_by = actor.user;
  }
  // One transaction: the file, the upload's completion, the run's verdict, the custody still
  // to apply, and their audit records commit together or not at all (issue 13 item 7).
  {
    ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kWrite));
    ZG_RETURN_IF_ERROR(RecordFile(*tx, f, u.id));
    ZG_RETURN_IF_ERROR(AuditIn(*tx, actor, "upload.complete", "upload/" + u.id, "upload stored",
                               json{{"file_id", f.id}, {"blob_id", f.blob_id}}));
    ZG_RETURN_IF_ERROR(AuditIn(*tx, actor, "file.register", "file/" + f.id, "FASTQ registered",
                               json{{"run_id", run.id},
                                    {"read", f.read},
                                    {"reads", report.reads},
                                    {"sha256", f.uploaded_sha256},
                                    {"md5", f.uploaded_md5}}));
    if (run_complete) {
      ZG_ASSIGN_OR_RETURN(
          int64_t changed,
          tx->Exec("UPDATE sequencing_runs SET status = $2, verdict = $3, "
                   "non_standard_instrument = $4, completed_at = $5, custody_pending_by = $6 "
                   "WHERE id = $1 AND status = 'open'",
                   {Text(run.id), Text(run.status), Text(SafeDump(verdict)),
                    Int(run.non_standard_instrument ? 1 : 0), Text(run.completed_at),
                    Text(run.custody_pending_by)}));
      if (changed != 1) {
        return Conflict("run_not_open", fmt::format("run {} is no longer open", run.id));
      }
      ZG_RETURN_IF_ERROR(AuditIn(*tx, actor, "run.qc", "run/" + run.id,
                                 verdict.value("pass", false) ? "QC passed" : "QC failed",
                                 verdict));
    }
    ZG_RETURN_IF_ERROR(tx->Commit());
  }
  if (Crash("file_recorded")) return Internal("injected_crash", "crash point file_recorded");
  if (run_complete) {
    // why: the completion is committed whatever happens here; a failure leaves the custody
    // pending on the run, and the recovery pass applies it.
    auto custody = ApplyCustody(run, actor);
    if (!custody.ok() && custody.error().code == "injected_crash") return custody.error();
    if (custody.ok()) {
      c.custody = std::move(*custody);
      run.custody_pending_by.clear();
    } else {
      c.custody.push_back(fmt::format("pending: {}", custody.error().message));
    }
  }
  c.run = run;
  return c;
}

Result<std::vector<std::string>> Uploads::ApplyCustody(const Run& run,
                                                       const specimens::Actor& actor) {
  const bool pass = run.verdict.is_object() && run.verdict.value("pass", false);
  std::vector<std::string> reasons;
  if (run.verdict.is_object() && run.verdict.contains("reasons") &&
      run.verdict["reasons"].is_array()) {
    for (const auto& r : run.verdict["reasons"]) {
      if (r.is_string()) reasons.push_back(r.get<std::string>());
    }
  }
  // Custody follows the verdict, through the specimens transition table. The steps are
  // derived from the specimen's state now, so applying them again after a crash is harmless.
  ZG_ASSIGN_OR_RETURN(specimens::SpecimenDetail now, specimens_.Get(run.specimen_id));
  std::vector<std::string> steps;
  if (now.specimen.state == "library_prepared") steps.push_back("sequenced");
  if (now.specimen.state == "library_prepared" || now.specimen.state == "sequenced") {
    steps.push_back(pass ? "qc_passed" : "qc_failed");
  }
  std::vector<std::string> applied;
  for (const auto& to : steps) {
    specimens::CustodyStep step;
    step.to = to;
    step.note = to == "sequenced"
                    ? fmt::format("FASTQ of run {} stored", run.id)
                    : fmt::format("run {}: {}", run.id,
                                  pass ? std::string("QC passed")
                                       : fmt::format("QC failed ({})", fmt::join(reasons, "; ")));
    if (step.note.size() > specimens::kMaxNoteBytes) step.note.resize(specimens::kMaxNoteBytes);
    if (Crash("custody_step")) return Internal("injected_crash", "crash point custody_step");
    auto moved = specimens_.Custody(run.specimen_id, step, actor);
    if (!moved.ok()) {
      if (moved.error().kind == ErrorKind::kUnavailable) return moved.error();  // retried later
      applied.push_back(fmt::format("{} refused: {}", to, moved.error().message));
      break;
    }
    applied.push_back(to);
  }
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kWrite));
  ZG_RETURN_IF_ERROR(tx->Exec("UPDATE sequencing_runs SET custody_pending_by = NULL WHERE id = $1",
                              {Text(run.id)}));
  ZG_RETURN_IF_ERROR(tx->Commit());
  return applied;
}

bool Uploads::PastLifetime(const Upload& u) const {
  // why: created_at is FormatRfc3339 text (fixed width, UTC), so text order is time order.
  return u.created_at <= FormatRfc3339(clock_.Now() - lifetime_);
}

Error Uploads::ExpiredError(const Upload& u) const {
  return Conflict("upload_expired",
                  fmt::format("upload {} expired: it was opened at {} and uploads stay open for "
                              "{} hours; open a new upload",
                              u.id, u.created_at, lifetime_.count() / 3600));
}

Result<bool> Uploads::Expire(const Upload& u) {
  const Error e = ExpiredError(u);
  const json err{{"code", e.code}, {"message", e.message}};
  {
    ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kWrite));
    ZG_ASSIGN_OR_RETURN(
        const int64_t changed,
        tx->Exec("UPDATE uploads SET status = 'expired', error = $2, "
                 "updated_at = $3 WHERE id = $1 AND status = 'open'",
                 {Text(u.id), Text(SafeDump(err)), Text(FormatRfc3339(clock_.Now()))}));
    if (changed == 0) return false;  // completed, rejected or expired meanwhile
    const specimens::Actor system{"system", "", {}, "system", ""};
    ZG_RETURN_IF_ERROR(AuditIn(*tx, system, "upload.expire", "upload/" + u.id,
                               fmt::format("open longer than {} hours", lifetime_.count() / 3600),
                               json{{"file_name", u.file_name},
                                    {"kind", u.kind},
                                    {"run", u.run_id},
                                    {"read", u.read},
                                    {"organisation", u.organisation},
                                    {"created_at", u.created_at}}));
    ZG_RETURN_IF_ERROR(tx->Commit());
  }
  // The staged chunks go once the expiry is recorded (the recovery pass removes them if this
  // process dies first, as for every upload that is no longer open).
  std::error_code ec;
  fs::remove_all(staging_dir_ / u.id, ec);
  return true;
}

Result<int64_t> Uploads::ExpireStale() {
  std::vector<Upload> stale;
  {
    ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
    ZG_ASSIGN_OR_RETURN(
        auto rows, tx->Query(fmt::format("SELECT {} FROM uploads WHERE status = 'open' AND "
                                         "pending_blob_id IS NULL AND created_at <= $1 ORDER BY id",
                                         kUploadColumns),
                             {Text(FormatRfc3339(clock_.Now() - lifetime_))}));
    for (const auto& r : rows.rows) stale.push_back(UploadFromRow(r));
  }
  int64_t expired = 0;
  for (const Upload& u : stale) {
    // why: never under a completion of the same upload (it holds complete_mu_ throughout).
    std::lock_guard lock(complete_mu_);
    ZG_ASSIGN_OR_RETURN(const bool closed, Expire(u));
    if (closed) ++expired;
  }
  return expired;
}

Result<Uploads::RecoveryReport> Uploads::Recover() {
  RecoveryReport report;
  // 1. Completions that stored their blob and died before recording the file.
  std::vector<Upload> interrupted;
  {
    ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
    ZG_ASSIGN_OR_RETURN(auto rows,
                        tx->Query(fmt::format("SELECT {} FROM uploads WHERE status = 'open' AND "
                                              "pending_blob_id IS NOT NULL ORDER BY id",
                                              kUploadColumns)));
    for (const auto& r : rows.rows) interrupted.push_back(UploadFromRow(r));
  }
  for (const Upload& u : interrupted) {
    // An analysis file's index is a second blob, recorded beside the first.
    ZG_ASSIGN_OR_RETURN(std::string index_blob, PendingIndexBlob(u.id));
    bool any_stored = false;
    for (const std::string& id : {u.pending_blob_id, index_blob}) {
      if (id.empty()) continue;
      if (blobs_.Stat(id).ok()) {
        any_stored = true;
        continue;
      }
      // Never recorded, so never stored: copies renamed into place just before the process
      // died go.
      ZG_ASSIGN_OR_RETURN(int64_t removed, blobs_.RemoveUnrecorded(id));
      report.unrecorded_blob_files_removed += removed;
    }
    // Nothing stored: the client resumes the upload.
    if (!any_stored) continue;
    // The uploader's authority: a FASTQ upload is opened by an operator of the run's facility.
    const specimens::Actor actor{u.created_by, u.organisation, {"sequencing_operator"},
                                 "system", ""};
    auto done = Complete(u.id, actor);
    if (done.ok()) {
      ++report.completions_finished;
    } else {
      report.problems.push_back(fmt::format("upload {}: {}", u.id, done.error().message));
    }
  }
  // 2. Custody that a recorded verdict calls for.
  std::vector<Run> pending;
  {
    ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
    ZG_ASSIGN_OR_RETURN(auto rows, tx->Query(fmt::format("SELECT {} FROM sequencing_runs WHERE "
                                                         "custody_pending_by IS NOT NULL "
                                                         "ORDER BY id",
                                                         kRunColumns)));
    for (const auto& r : rows.rows) pending.push_back(RunFromRow(r));
  }
  for (const Run& run : pending) {
    const specimens::Actor actor{run.custody_pending_by, run.organisation,
                                 {"sequencing_operator"}, "system", ""};
    auto applied = ApplyCustody(run, actor);
    if (applied.ok()) {
      ++report.custody_finished;
    } else {
      report.problems.push_back(fmt::format("run {}: {}", run.id, applied.error().message));
    }
  }
  // 3. Uploads whose lifetime passed while the process was down (or before it noticed).
  ZG_ASSIGN_OR_RETURN(report.uploads_expired, ExpireStale());
  // 4. Staging: whole directories of uploads that ended, and the temporary files (partial
  // chunks, assembled analysis inputs) of interrupted writes.
  std::error_code ec;
  std::vector<fs::path> dirs;
  for (fs::directory_iterator it(staging_dir_, ec), end; !ec && it != end; it.increment(ec)) {
    dirs.push_back(it->path());
  }
  for (const fs::path& dir : dirs) {
    const std::string name = dir.filename().string();
    std::optional<Upload> u;
    if (name.starts_with("UP-")) {
      ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
      auto loaded = LoadUpload(*tx, name);
      if (loaded.ok()) {
        u = std::move(*loaded);
      } else if (loaded.error().kind != ErrorKind::kNotFound) {
        return loaded.error();
      }
    }
    std::error_code rec;
    if (!u || u->status != "open") {
      if (fs::remove_all(dir, rec) > 0) ++report.staging_removed;
      continue;
    }
    std::vector<fs::path> temporaries;
    for (fs::directory_iterator it(dir, rec), end; !rec && it != end; it.increment(rec)) {
      const std::string file = it->path().filename().string();
      if (file == "work" || file.find(".part-") != std::string::npos) {
        temporaries.push_back(it->path());
      }
    }
    for (const auto& t : temporaries) {
      if (fs::remove_all(t, rec) > 0) ++report.temporaries_removed;
    }
  }
  return report;
}

Result<std::string> Uploads::PendingIndexBlob(std::string_view upload_id) {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(auto rows, tx->Query("SELECT pending_index_blob_id FROM uploads WHERE id = $1",
                                           {Text(std::string(upload_id))}));
  return rows.empty() ? std::string() : rows.rows.front().Text(0);
}

Result<Completion> Uploads::CompleteAnalysis(const Upload& u, const specimens::Actor& actor,
                                             bool& stored) {
  if (!sanitiser_) {
    return Unavailable("sanitiser_unavailable",
                       "this server cannot validate analysis files (no htslib sanitiser)");
  }
  const fs::path work = staging_dir_ / u.id / "work";
  // The plaintext htslib reads lives only here, owner-only, until completion ends (the
  // recovery pass removes a work directory left by a crash). What an interrupted attempt left
  // here goes first: the sanitiser writes into a fresh directory.
  {
    std::error_code ec;
    fs::remove_all(work, ec);
  }
  (void)MakeOwnerOnlyDir(work);
  const fs::path input = work / ("input." + u.kind);
  Sha256Stream sha;
  int64_t size = 0;
  {
    std::error_code ec;
    fs::remove(input, ec);
    if (!WriteOwnerOnlyFile(input, "")) {
      return Unavailable("staging_write_failed", "cannot assemble the upload");
    }
    std::ofstream out(input, std::ios::binary | std::ios::trunc);
    for (int64_t i = 0; i < u.chunks(); ++i) {
      ZG_RETURN_IF_ERROR(ForEachStagedPiece(ChunkPath(u.id, i), keys_.secret_key, [&](std::string_view b) {
        sha.Update(b);
        size += static_cast<int64_t>(b.size());
        out.write(b.data(), static_cast<std::streamsize>(b.size()));
        return out ? Status::Ok()
                   : Unavailable("staging_write_failed", "cannot assemble the upload");
      }));
    }
  }
  if (size != u.size) {
    return InvalidArgument("size_mismatch",
                           fmt::format("received {} bytes; the upload declared {}", size, u.size));
  }
  const std::string uploaded_sha = sha.HexFinal();
  if (uploaded_sha != u.sha256) {
    return InvalidArgument("checksum_mismatch",
                           fmt::format("SHA-256 of the received bytes is {}; the upload "
                                       "declared {}",
                                       uploaded_sha, u.sha256));
  }
  ZG_ASSIGN_OR_RETURN(specimens::SpecimenDetail d, specimens_.Get(u.specimen_id));
  ZG_ASSIGN_OR_RETURN(SanitisedFile s,
                      sanitiser_(u.kind, input, work, d.specimen.participant_id, u.sample_map));
  for (const fs::path& out : {s.data, s.index}) {
    std::error_code pec;
    fs::permissions(out, fs::perms::owner_read | fs::perms::owner_write,
                    fs::perm_options::replace, pec);
  }
  // The file and its index are two blobs. Both ids are recorded before either is stored
  // (issue 13 item 7), so that a completion killed after storing finds them again: a stored
  // blob of an earlier attempt is adopted (the sanitiser is a function of the declared input),
  // one never recorded by the store is removed, and the registry refers to every blob stored.
  ZG_ASSIGN_OR_RETURN(std::string pending_index, PendingIndexBlob(u.id));
  struct Part {
    const fs::path& path;
    std::string kind;
    std::string pending;
    std::optional<blobs::BlobInfo> adopted;
    std::optional<EncryptedBlob> blob;
  };
  Part parts[] = {{s.data, u.kind, u.pending_blob_id, {}, {}},
                  {s.index, "other", pending_index, {}, {}}};
  for (Part& part : parts) {
    if (!part.pending.empty()) {
      auto info = blobs_.Stat(part.pending);
      if (info.ok()) {
        Sha256Stream file_sha;
        ZG_RETURN_IF_ERROR(ForEachPiece(part.path, [&file_sha](std::string_view b) {
          file_sha.Update(b);
          return Status::Ok();
        }));
        if (info->plaintext_sha256 != file_sha.HexFinal()) {
          return Internal("pending_blob_mismatch",
                          fmt::format("blob {} recorded for upload {} holds other content",
                                      part.pending, u.id));
        }
        part.adopted = std::move(*info);
        continue;
      }
      if (info.error().kind != ErrorKind::kNotFound) return info.error();
      ZG_RETURN_IF_ERROR(blobs_.RemoveUnrecorded(part.pending).status());
    }
    ZG_ASSIGN_OR_RETURN(EncryptedBlob created, EncryptedBlob::Create(blobs_, keys_, part.kind));
    part.blob.emplace(std::move(created));
  }
  if (parts[0].blob || parts[1].blob) {
    auto id_of = [](const Part& p) { return p.blob ? p.blob->id() : p.adopted->id; };
    ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kWrite));
    ZG_RETURN_IF_ERROR(tx->Exec(
        "UPDATE uploads SET pending_blob_id = $2, pending_index_blob_id = $3 WHERE id = $1",
        {Text(u.id), Text(id_of(parts[0])), Text(id_of(parts[1]))}));
    ZG_RETURN_IF_ERROR(tx->Commit());
  }
  for (Part& part : parts) {
    if (!part.blob) continue;
    EncryptedBlob& blob = *part.blob;
    ZG_RETURN_IF_ERROR(ForEachPiece(part.path, [&blob](std::string_view b) { return blob.Write(b); }));
  }
  for (Part& part : parts) {
    if (part.blob) {
      ZG_ASSIGN_OR_RETURN(blobs::BlobInfo info, part.blob->Commit());
      part.adopted = std::move(info);
    }
    // why: once a blob is stored, a later failure (the database, the store) is not the file's
    // fault: the upload stays open and a retry, or the recovery pass, adopts what is stored.
    stored = true;
    if (&part == &parts[0] && Crash("analysis_data_stored")) {
      return Internal("injected_crash", "crash point analysis_data_stored");
    }
  }
  if (Crash("blob_stored")) return Internal("injected_crash", "crash point blob_stored");
  const blobs::BlobInfo& data_info = *parts[0].adopted;
  const blobs::BlobInfo& index_info = *parts[1].adopted;

  DataFile f;
  f.id = genomefiles::NewFileId();
  f.kind = u.kind;
  f.specimen_id = u.specimen_id;
  f.participant_id = d.specimen.participant_id;
  f.hospital = d.specimen.hospital;
  f.file_name = u.file_name;
  f.blob_id = data_info.id;
  f.index_blob_id = index_info.id;
  f.index_kind = s.index_kind;
  f.uploaded_sha256 = uploaded_sha;
  f.uploaded_size = size;
  f.sha256 = data_info.plaintext_sha256;
  f.size = data_info.plaintext_size;
  f.report = s.summary;
  f.derived_from = u.derived_from;
  f.created_by = actor.user;
  f.created_at = FormatRfc3339(clock_.Now());
  {
    ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kWrite));
    // Whose each sample is, in the file's column order: the map's participants (samples were
    // renamed to their pseudonyms), or the specimen's participant for a single-sample file.
    ZG_RETURN_IF_ERROR(RecordFile(
        *tx, f, u.id, genomefiles::SamplesOf(s.summary, !u.sample_map.empty(), f.participant_id)));
    ZG_RETURN_IF_ERROR(AuditIn(*tx, actor, "upload.complete", "upload/" + u.id, "upload stored",
                               json{{"file_id", f.id}, {"blob_id", f.blob_id}}));
    ZG_RETURN_IF_ERROR(AuditIn(*tx, actor, "file.register", "file/" + f.id,
                               fmt::format("{} registered and sanitised", f.kind),
                               json{{"derived_from", json(f.derived_from)},
                                    {"sha256", f.sha256},
                                    {"summary", f.report}}));
    ZG_RETURN_IF_ERROR(tx->Commit());
  }
  Completion c;
  c.upload = u;
  c.upload.status = "complete";
  c.upload.file_id = f.id;
  c.file = f;
  return c;
}

// ---- Open uploads and resources ------------------------------------------------------------

Result<std::vector<Upload>> Uploads::ListOpenRunUploads(std::string_view run_id) {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(auto rows, tx->Query(fmt::format("SELECT {} FROM uploads WHERE run_id = $1 "
                                                       "AND status = 'open' ORDER BY created_at, id",
                                                       kUploadColumns),
                                           {Text(std::string(run_id))}));
  std::vector<Upload> out;
  for (const auto& r : rows.rows) out.push_back(UploadFromRow(r));
  return out;
}

Result<policy::Resource> Uploads::RunResource(std::string_view run_id) {
  ZG_ASSIGN_OR_RETURN(Run run, GetRun(run_id));
  ZG_ASSIGN_OR_RETURN(auto sp, specimens_.SpecimenResource(run.specimen_id));
  return policy::Resource{"run", run.id, sp.organisation, run.organisation};
}

Result<policy::Resource> Uploads::UploadResource(std::string_view upload_id) {
  Upload u;
  {
    ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
    ZG_ASSIGN_OR_RETURN(u, LoadUpload(*tx, upload_id));
  }
  ZG_ASSIGN_OR_RETURN(auto sp, specimens_.SpecimenResource(u.specimen_id));
  return policy::Resource{"upload", u.id, sp.organisation, u.organisation};
}

}  // namespace zengen::sequencing
