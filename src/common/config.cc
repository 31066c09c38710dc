#include "common/config.h"

#include <charconv>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include <fmt/format.h>

namespace zengen {
namespace {

std::string Trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(" \t\r");
  return std::string(s.substr(b, e - b + 1));
}

Result<int64_t> ParseInt(const std::string& v, int64_t min, int64_t max, const std::string& key,
                         int line) {
  int64_t out = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || p != v.data() + v.size() || out < min || out > max) {
    return InvalidArgument("config_invalid_value",
                           fmt::format("line {}: {} must be an integer in [{}, {}], got '{}'",
                                       line, key, min, max, v),
                           key);
  }
  return out;
}

}  // namespace

std::filesystem::path Config::Resolve(const std::filesystem::path& p) const {
  return p.is_absolute() ? p : data_dir / p;
}

bool Config::UsesPostgres() const {
  return database.starts_with("postgres://") || database.starts_with("postgresql://");
}

std::filesystem::path Config::SqlitePath() const {
  std::string d = database;
  if (d.starts_with("sqlite:")) d = d.substr(7);
  return Resolve(d);
}

Result<Config> ParseConfig(const std::string& text, const std::filesystem::path& data_dir) {
  Config c;
  c.data_dir = data_dir;
  using Setter = std::function<Status(const std::string&, int)>;
  auto int_field = [](int64_t& dst, int64_t min, int64_t max, std::string key) -> Setter {
    return [&dst, min, max, key](const std::string& v, int line) -> Status {
      auto r = ParseInt(v, min, max, key, line);
      if (!r.ok()) return r.error();
      dst = *r;
      return Status::Ok();
    };
  };
  int64_t threads = c.threads, workers = c.worker_threads, max_conn = c.max_connections;
  std::map<std::string, Setter> setters = {
      {"listen", [&](const std::string& v, int) { c.listen = v; return Status::Ok(); }},
      {"database", [&](const std::string& v, int) { c.database = v; return Status::Ok(); }},
      {"tls_certificate",
       [&](const std::string& v, int) { c.tls_certificate = v; return Status::Ok(); }},
      {"tls_private_key",
       [&](const std::string& v, int) { c.tls_private_key = v; return Status::Ok(); }},
      {"pseudonym_key", [&](const std::string& v, int) { c.pseudonym_key = v; return Status::Ok(); }},
      {"storage_master_key",
       [&](const std::string& v, int) { c.storage_master_key = v; return Status::Ok(); }},
      {"threads", int_field(threads, 1, 256, "threads")},
      {"worker_threads", int_field(workers, 1, 1024, "worker_threads")},
      {"max_connections", int_field(max_conn, 1, 1000000, "max_connections")},
      {"max_connections_per_address",
       int_field(c.max_connections_per_address, 1, 1000000, "max_connections_per_address")},
      {"reserved_connections",
       int_field(c.reserved_connections, 0, 1000000, "reserved_connections")},
      {"body_memory_budget_bytes",
       int_field(c.body_memory_budget_bytes, 0, int64_t{1} << 40, "body_memory_budget_bytes")},
      {"header_timeout_ms", int_field(c.header_timeout_ms, 10, 3600000, "header_timeout_ms")},
      {"refusals_per_second_per_address",
       int_field(c.refusals_per_second_per_address, 0, 1000000,
                 "refusals_per_second_per_address")},
      {"refusal_burst_per_address",
       int_field(c.refusal_burst_per_address, 0, 1000000, "refusal_burst_per_address")},
      {"requests_per_second_per_address",
       int_field(c.requests_per_second_per_address, 0, 1000000,
                 "requests_per_second_per_address")},
      {"request_burst_per_address",
       int_field(c.request_burst_per_address, 0, 1000000, "request_burst_per_address")},
      {"refusal_record_interval_ms",
       int_field(c.refusal_record_interval_ms, 100, 3600000, "refusal_record_interval_ms")},
      {"max_header_bytes", int_field(c.max_header_bytes, 1024, 1 << 20, "max_header_bytes")},
      {"max_body_bytes", int_field(c.max_body_bytes, 0, int64_t{1} << 40, "max_body_bytes")},
      {"handshake_timeout_ms",
       int_field(c.handshake_timeout_ms, 10, 3600000, "handshake_timeout_ms")},
      {"read_timeout_ms", int_field(c.read_timeout_ms, 10, 3600000, "read_timeout_ms")},
      {"idle_timeout_ms", int_field(c.idle_timeout_ms, 10, 3600000, "idle_timeout_ms")},
      {"shutdown_grace_ms", int_field(c.shutdown_grace_ms, 0, 3600000, "shutdown_grace_ms")},
      {"session_idle_timeout_s",
       int_field(c.session_idle_timeout_s, 1, 86400, "session_idle_timeout_s")},
      {"session_absolute_timeout_s",
       int_field(c.session_absolute_timeout_s, 1, 7 * 86400, "session_absolute_timeout_s")},
      {"lockout_threshold", int_field(c.lockout_threshold, 1, 1000, "lockout_threshold")},
      {"lockout_s", int_field(c.lockout_s, 1, 86400 * 30, "lockout_s")},
      {"blob_roots", [&](const std::string& v, int) { c.blob_roots = v; return Status::Ok(); }},
      {"blob_s3_sites",
       [&](const std::string& v, int) { c.blob_s3_sites = v; return Status::Ok(); }},
      {"allowed_jurisdictions",
       [&](const std::string& v, int) { c.allowed_jurisdictions = v; return Status::Ok(); }},
      {"blob_replicas", int_field(c.blob_replicas, 2, 16, "blob_replicas")},
      {"upload_expiry_s", int_field(c.upload_expiry_s, 3600, 365 * 86400, "upload_expiry_s")},
      {"web_root", [&](const std::string& v, int) { c.web_root = v; return Status::Ok(); }},
      {"analysis_executor", [&](const std::string& v, int line) -> Status {
         if (v != "local" && v != "slurm" && v != "slurm_allocation") {
           return InvalidArgument("invalid_config",
                                  fmt::format("line {}: analysis_executor must be local, slurm "
                                              "or slurm_allocation",
                                              line),
                                  "analysis_executor");
         }
         c.analysis_executor = v;
         return Status::Ok();
       }},
      {"analysis_workers", int_field(c.analysis_workers, 1, 256, "analysis_workers")},
      {"analysis_threads", int_field(c.analysis_threads, 1, 256, "analysis_threads")},
      {"variants_auto_ingest_seconds",
       int_field(c.variants_auto_ingest_seconds, 0, 86400, "variants_auto_ingest_seconds")},
      {"variants_reference_fasta",
       [&](const std::string& v, int) { c.variants_reference_fasta = v; return Status::Ok(); }},
      {"variants_rebuild_chunks",
       int_field(c.variants_rebuild_chunks, 0, 1000000, "variants_rebuild_chunks")},
      {"variants_rebuild_executor", [&](const std::string& v, int line) -> Status {
         if (v != "in_process" && v != "analysis") {
           return InvalidArgument("invalid_config",
                                  fmt::format("line {}: variants_rebuild_executor must be "
                                              "in_process or analysis",
                                              line),
                                  "variants_rebuild_executor");
         }
         c.variants_rebuild_executor = v;
         return Status::Ok();
       }},
      {"pipelines_dir",
       [&](const std::string& v, int) { c.pipelines_dir = v; return Status::Ok(); }},
      {"analysis_auto_start_reference",
       [&](const std::string& v, int) { c.analysis_auto_start_reference = v; return Status::Ok(); }},
      {"public_url", [&](const std::string& v, int line) -> Status {
         std::string u = v;
         while (u.ends_with('/')) u.pop_back();
         const bool ok = u.starts_with("https://") && u.size() > 8 &&
                         u.find_first_of(" \t?#@") == std::string::npos;
         if (!ok) {
           return InvalidArgument(
               "config_invalid_value",
               fmt::format("line {}: public_url must be an https:// URL without query, "
                           "fragment or credentials",
                           line),
               "public_url");
         }
         c.public_url = u;
         return Status::Ok();
       }},
  };
  std::istringstream in(text);
  std::string raw;
  int line = 0;
  while (std::getline(in, raw)) {
    ++line;
    if (auto hash = raw.find('#'); hash != std::string::npos) raw.resize(hash);
    const std::string s = Trim(raw);
    if (s.empty()) continue;
    const auto eq = s.find('=');
    if (eq == std::string::npos) {
      return InvalidArgument("config_syntax",
                             fmt::format("line {}: expected 'key = value', got '{}'", line, s));
    }
    const std::string key = Trim(s.substr(0, eq));
    const std::string value = Trim(s.substr(eq + 1));
    auto it = setters.find(key);
    if (it == setters.end()) {
      return InvalidArgument("config_unknown_key",
                             fmt::format("line {}: unknown setting '{}'", line, key), key);
    }
    ZG_RETURN_IF_ERROR(it->second(value, line));
  }
  c.threads = static_cast<int>(threads);
  c.worker_threads = static_cast<int>(workers);
  c.max_connections = static_cast<int>(max_conn);
  return c;
}

std::string PublicBaseUrl(const Config& c, uint16_t bound_port) {
  if (!c.public_url.empty()) return c.public_url;
  std::string host = c.listen.substr(0, c.listen.rfind(':'));
  if (host == "0.0.0.0" || host == "[::]" || host.empty()) host = "localhost";
  return fmt::format("https://{}:{}", host, bound_port);
}

Result<Config> LoadConfig(const std::filesystem::path& data_dir) {
  const auto path = data_dir / "zengen.conf";
  std::ifstream f(path);
  if (!f) {
    return NotFound("config_missing",
                    fmt::format("no configuration at {}; run 'zengen init --data {}' first",
                                path.string(), data_dir.string()));
  }
  std::stringstream ss;
  ss << f.rdbuf();
  return ParseConfig(ss.str(), std::filesystem::absolute(data_dir));
}

std::string DefaultConfigText(const std::string& database, const std::string& listen) {
  return fmt::format(R"(# Zengen configuration, written by `zengen init`.
# One "key = value" per line; '#' starts a comment. Relative paths are resolved
# against this data directory. Unknown keys are refused, so a typo is never ignored.

# Address and port to serve HTTPS on. Port 0 picks a free port (printed at start).
listen = {listen}

# Metadata store: a SQLite file (relative to this directory), or a PostgreSQL URL
# such as postgres://zengen@127.0.0.1:5432/zengen for the scaled deployment.
database = {database}

# TLS certificate chain and private key (PEM). `zengen init` generates a
# self-signed pair for local use; production installs its own.
tls_certificate = tls/server.crt
tls_private_key = tls/server.key

# The program's secret keys (32 random bytes, hex), readable only by the owner.
# pseudonym_key turns local patient ids into pseudonyms (HMAC-SHA-256);
# storage_master_key protects data at rest. Losing them loses the data.
pseudonym_key = keys/pseudonym.key
storage_master_key = keys/storage-master.key

# I/O threads (TLS and HTTP parsing; one per core is plenty) and worker threads
# (handlers, which wait on the database and on the audit log's group commit: more
# workers let more requests share one durable commit).
threads = 2
worker_threads = 16

# Hard limits against bad or hostile input. Connections beyond max_connections, or
# beyond max_connections_per_address from one address, are refused; the last
# reserved_connections are kept for clients that have authenticated. Bodies are read
# only for admitted requests, and only while all of them together stay within
# body_memory_budget_bytes (else 503 with Retry-After).
max_connections = 256
max_connections_per_address = 64
reserved_connections = 32
max_header_bytes = 16384
max_body_bytes = 1048576
body_memory_budget_bytes = 268435456
handshake_timeout_ms = 5000
header_timeout_ms = 5000
read_timeout_ms = 10000
idle_timeout_ms = 30000
shutdown_grace_ms = 20000

# An address whose requests are refused (4xx) more than refusal_burst_per_address
# times, beyond refusals_per_second_per_address, gets 429 for requests that do not
# authenticate. requests_per_second_per_address limits all such requests
# (0: off). Refused requests are written to the audit log as counts per address
# and reason, one record per refusal_record_interval_ms.
refusals_per_second_per_address = 50
refusal_burst_per_address = 200
requests_per_second_per_address = 0
request_burst_per_address = 0
refusal_record_interval_ms = 10000

# Browser sessions end after this long unused, and in any case after the absolute
# limit. Repeated failed logins lock an account for lockout_s seconds (an
# administrator can unlock it sooner: `zengen user unlock`).
session_idle_timeout_s = 1800
session_absolute_timeout_s = 43200
lockout_threshold = 5
lockout_s = 900

# Genome files are stored in blob_replicas copies on different roots. Each root is
# name:tier:jurisdiction:path (tier hot for CRAM/VCF, cold for FASTQ; jurisdiction
# an ISO 3166 code), separated by ';'. Data is never placed in a root whose
# jurisdiction is not listed in allowed_jurisdictions (R1.2). Root directories must
# exist: a missing one (an unmounted disk) is never created.
blob_roots = hot1:hot:JP:blobs/hot1;hot2:hot:JP:blobs/hot2;cold1:cold:JP:blobs/cold1;cold2:cold:JP:blobs/cold2
# Sites in S3-compatible object stores (Ceph RGW on premises, a domestic cloud
# bucket) join the roots: entries separated by ';', each a space-separated list of
# key=value (docs/operations.md, "Storage sites"). The credentials file holds
# "ACCESS_KEY SECRET_KEY" and must be mode 0600. A copy at such a site streams into a
# multipart upload; object_lock=compliance makes the site write-once.
# blob_s3_sites = name=rgw1 tier=cold jurisdiction=JP endpoint=https://rgw.dc.example.jp bucket=zengen-cold credentials=secrets/rgw1.cred object_lock=compliance retention_days=3650
allowed_jurisdictions = JP
blob_replicas = 2

# An upload still open this long (seconds) after it was opened expires: it is
# closed as expired, its staged chunks are removed and its read is free again.
upload_expiry_s = 604800

# The web front-end's built files (npm run build in web/ writes web/dist). Unset,
# zengen serves the web/dist of the source tree it was built in, when there is one.
# web_root = /srv/zengen/web

# The https address clients reach this server at (behind a proxy or load
# balancer: its public name). htsget tickets and DRS access URLs point there, never
# at a request's Host header. Unset: https://<listen host>:<port>.
# public_url = https://zengen.example.jp

# Uniform analysis: runs of the versioned CWL pipelines (pipelines/) on this site's
# executor: local (cwltool on this machine, the default), slurm (toil-cwl-runner
# submitting every step to Slurm; SLURM_CONF from the environment) or slurm_allocation
# (one Slurm job per run, cwltool on the allocated node; see docs/operations.md).
# analysis_workers runs execute at once, each with analysis_threads threads. Unset
# pipelines_dir: the pipelines/ of the source tree zengen was built in.
analysis_executor = local
analysis_workers = 1
analysis_threads = 2
# pipelines_dir = /srv/zengen/pipelines
# Per site: start a germline run by itself, on this registered reference, for every
# specimen that passes QC with an open analysis order (`zengen reference add`).
# analysis_auto_start_reference = GRCh38

# The cohort variant store: every N seconds, registered VCF/BCF files at least N seconds old
# are added to the cohort by a job (failures are retried and listed at
# GET /api/v1/variants/ingest-queue). 0: only when a steward asks.
variants_auto_ingest_seconds = 300
# The indexed FASTA (samtools faidx) the site's VCF/BCF files are called against, e.g. the
# registered reference's copy: indels are left-aligned against it at ingest, so the same
# indel written two ways is one site. Unset: multi-allelic records are split and trimmed only.
# variants_reference_fasta = /srv/zengen/references/GRCh38/ref.fa
# Region rebuilds: once a region holds this many chunks (one per file ingested since its last
# rebuild), the ingest job merges them into one, so queries read one chunk per region. 0: only
# by `zengen variants rebuild`. The merge runs in the server (in_process) or as a job on
# analysis_executor (analysis: cwltool here, or Slurm; the nodes must see the scratch directory).
variants_rebuild_chunks = 16
variants_rebuild_executor = in_process
)",
                     fmt::arg("listen", listen), fmt::arg("database", database));
}

}  // namespace zengen
