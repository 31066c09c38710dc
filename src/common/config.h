// The data directory's configuration file (zengen.conf).
//
// Format: one "key = value" per line; '#' starts a comment; blank lines are ignored. Relative
// paths are resolved against the data directory. Unknown keys and malformed values are errors
// that name the line, so a typo never silently falls back to a default.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "common/result.h"

namespace zengen {

struct Config {
  std::filesystem::path data_dir;
  std::string listen = "127.0.0.1:8443";  // host:port; port 0 picks a free port
  // "sqlite:zengen.db" style path (relative to data_dir) or a postgres:// / postgresql:// URL.
  std::string database = "zengen.db";
  std::filesystem::path tls_certificate = "tls/server.crt";
  std::filesystem::path tls_private_key = "tls/server.key";
  std::filesystem::path pseudonym_key = "keys/pseudonym.key";
  std::filesystem::path storage_master_key = "keys/storage-master.key";
  int threads = 2;                        // I/O threads (TLS, HTTP parsing)
  int worker_threads = 16;                // threads running handlers, which may block
  int max_connections = 256;              // concurrent connections; more are refused
  int64_t max_connections_per_address = 64;  // from one client address; more are refused
  int64_t reserved_connections = 32;      // of max_connections, for authenticated clients
  int64_t max_header_bytes = 16 * 1024;   // request line + headers
  int64_t max_body_bytes = 1024 * 1024;   // default per-route body limit
  int64_t body_memory_budget_bytes = int64_t{256} << 20;  // request bodies held at once
  int64_t handshake_timeout_ms = 5000;    // TLS handshake must finish within
  int64_t header_timeout_ms = 5000;       // the first request's headers must arrive within
  int64_t refusals_per_second_per_address = 50;  // refused requests (4xx) per address, then 429
  int64_t refusal_burst_per_address = 200;
  int64_t requests_per_second_per_address = 0;   // all unauthenticated requests; 0: no limit
  int64_t request_burst_per_address = 0;
  int64_t refusal_record_interval_ms = 10000;    // refused requests: one audit record per interval
  int64_t read_timeout_ms = 10000;        // a request must arrive whole within
  int64_t idle_timeout_ms = 30000;        // a keep-alive connection may idle for
  int64_t shutdown_grace_ms = 20000;      // SIGTERM: how long in-flight requests may take
  int64_t session_idle_timeout_s = 1800;       // a browser session unused this long ends
  int64_t session_absolute_timeout_s = 43200;  // every browser session ends after this
  int64_t lockout_threshold = 5;               // failed logins in a row that lock an account
  int64_t lockout_s = 900;                     // how long the lock lasts
  // Genome-file storage: roots as name:tier:jurisdiction:path;… (blobs/local_store.h), the
  // jurisdictions data may be placed in (R1.2), and the copies kept of every object (R3.9).
  std::string blob_roots =
      "hot1:hot:JP:blobs/hot1;hot2:hot:JP:blobs/hot2;cold1:cold:JP:blobs/cold1;"
      "cold2:cold:JP:blobs/cold2";
  // S3 storage sites added to the roots above (blobs/local_store.h ParseS3Sites): entries
  // separated by ';', each "name=… tier=… jurisdiction=… endpoint=… bucket=… credentials=…".
  std::string blob_s3_sites;
  std::string allowed_jurisdictions = "JP";
  int64_t blob_replicas = 2;
  // An upload still open this long after it was opened expires: closed, its staged chunks
  // removed (sequencing/upload.h, "Expiry"). Default 7 days.
  int64_t upload_expiry_s = 7 * 86400;
  // The built web front-end (web/dist). Empty: the web/dist beside the binary's build folder.
  std::filesystem::path web_root;
  // The address clients reach this server at, "https://host[:port][/prefix]" without a
  // trailing slash. htsget ticket URLs and DRS access URLs are built from it, never from a
  // request's Host header (a forged Host would send the caller's token elsewhere). Empty:
  // derived from the listen address and the bound port (PublicBaseUrl).
  std::string public_url;
  // Uniform analysis (issue 16): the executor of this site ("local": cwltool on this machine;
  // "slurm": toil-cwl-runner submitting each step to Slurm, SLURM_CONF from the environment;
  // "slurm_allocation": one Slurm job per run, cwltool inside it), runs
  // executing at once, threads per run, where the versioned pipelines are (empty: the
  // pipelines/ of the source tree the binary was built in) and whether a specimen passing QC
  // starts its germline run by itself.
  std::string analysis_executor = "local";
  int64_t analysis_workers = 1;
  int64_t analysis_threads = 2;
  std::filesystem::path pipelines_dir;
  std::string analysis_auto_start_reference;  // empty: no automatic start
  // The cohort variant store (issue 15): every this many seconds, registered VCF/BCF files at
  // least this old are ingested by a job (variants::IngestQueue). 0: only by request.
  int64_t variants_auto_ingest_seconds = 300;
  // The indexed FASTA (.fai beside it) the site's VCF/BCF files are called against: indels are
  // left-aligned against it at ingest (variants::LeftAlign). Empty: split and trim only.
  std::filesystem::path variants_reference_fasta;
  // Region rebuilds (variants::Cohort::RebuildRegion): the ingest job merges a region's live
  // chunks into one once it holds this many (one per single-sample file since the last
  // rebuild); 0: only by `zengen variants rebuild`. Where the merge runs: "in_process" (in the
  // server) or "analysis" (a job on analysis_executor: cwltool, or Slurm).
  int64_t variants_rebuild_chunks = 16;
  std::string variants_rebuild_executor = "in_process";

  // Absolute path for a path setting (resolved against data_dir when relative).
  std::filesystem::path Resolve(const std::filesystem::path& p) const;
  bool UsesPostgres() const;
  // The SQLite file path when !UsesPostgres().
  std::filesystem::path SqlitePath() const;
};

// The public base URL: public_url when set, otherwise https://HOST:PORT from the listen
// address (0.0.0.0 and [::] become localhost) with the port actually bound.
std::string PublicBaseUrl(const Config& c, uint16_t bound_port);

// Parses the text of a configuration file. data_dir is recorded for path resolution.
Result<Config> ParseConfig(const std::string& text, const std::filesystem::path& data_dir);
// Reads DIR/zengen.conf.
Result<Config> LoadConfig(const std::filesystem::path& data_dir);
// The documented default configuration file, as written by `zengen init`.
std::string DefaultConfigText(const std::string& database, const std::string& listen);

}  // namespace zengen
