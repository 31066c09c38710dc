// The schema history. Append new migrations at the end; never edit shipped ones.
#include <array>

#include "storage/migrations.h"

namespace zengen::storage {
namespace {

// Migration 4 uses only types both dialects share, so one text serves both.
constexpr std::string_view kParticipantsSchema = R"sql(
CREATE TABLE participants (
  id TEXT PRIMARY KEY,             -- pseudonym (participants/pseudonym.h)
  hospital_id TEXT NOT NULL REFERENCES organisations (id),
  local_id TEXT NOT NULL,          -- the hospital's patient id: readable only by that hospital
  program TEXT NOT NULL CHECK (program IN ('cancer', 'rare_disease')),
  disease_category TEXT NOT NULL,  -- e.g. 'lung', 'colorectal', 'rd_neuromuscular'
  index_date TEXT NOT NULL,        -- YYYY-MM-DD; research views show days from it
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL,
  UNIQUE (hospital_id, local_id)
);
CREATE INDEX participants_hospital ON participants (hospital_id);
CREATE TABLE icf_versions (
  version TEXT NOT NULL,           -- e.g. '1.0'
  language TEXT NOT NULL CHECK (language IN ('ja', 'en')),
  program TEXT NOT NULL CHECK (program IN ('cancer', 'rare_disease')),
  effective_date TEXT NOT NULL,    -- YYYY-MM-DD
  items TEXT NOT NULL,             -- JSON array: the item catalogue (code, class, labels, DUO)
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (program, version, language)
);
CREATE TABLE consent_records (
  id TEXT PRIMARY KEY,
  participant_id TEXT NOT NULL REFERENCES participants (id),
  seq INTEGER NOT NULL,            -- 1, 2, … per participant; the highest is current
  kind TEXT NOT NULL CHECK (kind IN ('initial', 'modification', 'reconsent', 'withdrawal')),
  withdrawal_level TEXT NOT NULL CHECK (withdrawal_level IN ('', 'no_contact', 'no_new_data',
                                                             'full')),
  icf_version TEXT NOT NULL,
  icf_language TEXT NOT NULL,
  decisions TEXT NOT NULL,         -- JSON object: item code -> 'permit' | 'deny' | 'undecided'
  details TEXT NOT NULL,           -- JSON object: signer, method, designated relative, …
  signed_date TEXT NOT NULL,       -- YYYY-MM-DD
  supersedes TEXT,                 -- the record this one replaces
  recorded_by TEXT NOT NULL,
  recorded_at TEXT NOT NULL,
  UNIQUE (participant_id, seq)
);
CREATE TABLE clinical_records (
  participant_id TEXT NOT NULL REFERENCES participants (id),
  category TEXT NOT NULL,          -- one of the six categories of the data dictionary
  version INTEGER NOT NULL,        -- 1, 2, … per participant and category; the highest is current
  status TEXT NOT NULL CHECK (status IN ('draft', 'submitted')),
  dictionary_version TEXT NOT NULL,
  data TEXT NOT NULL,              -- JSON object: field -> value (lists as arrays of objects)
  changed_by TEXT NOT NULL,
  changed_at TEXT NOT NULL,
  reason TEXT NOT NULL,
  PRIMARY KEY (participant_id, category, version)
);
CREATE TABLE code_lists (
  system TEXT NOT NULL,            -- e.g. 'icd10', 'icdo3_topography', 'meddra_llt'
  code TEXT NOT NULL,
  PRIMARY KEY (system, code)
);
CREATE TABLE specimens (
  id TEXT PRIMARY KEY,
  participant_id TEXT NOT NULL REFERENCES participants (id),
  tumour_normal TEXT NOT NULL CHECK (tumour_normal IN ('tumour', 'normal')),
  specimen_type TEXT NOT NULL,
  preservation TEXT NOT NULL,
  collection_date TEXT NOT NULL,   -- YYYY-MM-DD
  state TEXT NOT NULL,             -- current custody state
  holder_id TEXT NOT NULL REFERENCES organisations (id),  -- who holds it now
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX specimens_participant ON specimens (participant_id);
CREATE TABLE custody_events (
  specimen_id TEXT NOT NULL REFERENCES specimens (id),
  seq INTEGER NOT NULL,
  from_state TEXT NOT NULL,
  to_state TEXT NOT NULL,
  organisation_id TEXT NOT NULL REFERENCES organisations (id),
  user_id TEXT NOT NULL,
  time TEXT NOT NULL,
  note TEXT NOT NULL,
  PRIMARY KEY (specimen_id, seq)
);
)sql";

// Migration 5: the blob store (src/blobs). Only shared types, so one text serves both backends.
constexpr std::string_view kBlobsSchema = R"sql(
CREATE TABLE blobs (
  id TEXT PRIMARY KEY,             -- 'blob_' + 32 hex digits
  kind TEXT NOT NULL CHECK (kind IN ('fastq', 'cram', 'bam', 'vcf', 'bcf', 'other')),
  tier TEXT NOT NULL CHECK (tier IN ('hot', 'cold')),
  media_type TEXT NOT NULL,
  size BIGINT NOT NULL,            -- bytes stored (the Crypt4GH ciphertext)
  stored_sha256 TEXT NOT NULL,     -- hex SHA-256 of the stored bytes
  plaintext_sha256 TEXT NOT NULL,  -- hex SHA-256 of the plaintext, given by the writer
  plaintext_size BIGINT NOT NULL,
  replicas INTEGER NOT NULL,       -- copies required when stored
  created_at TEXT NOT NULL
);
CREATE TABLE blob_copies (
  blob_id TEXT NOT NULL REFERENCES blobs (id),
  root TEXT NOT NULL,              -- configured root name
  path TEXT NOT NULL,              -- relative to the root, e.g. 'ab/cd/blob_abcd…'
  sha256 TEXT NOT NULL,            -- hex SHA-256 of this copy when written or last repaired
  verified_at TEXT NOT NULL,       -- last time its content was read back and matched
  status TEXT NOT NULL CHECK (status IN ('ok', 'corrupt', 'missing')),
  PRIMARY KEY (blob_id, root)
);
CREATE INDEX blob_copies_root ON blob_copies (root);
)sql";

// Migration 14: migrations of blob copies between storage sites.
constexpr std::string_view kBlobSiteMigrationsSchema = R"sql(
CREATE TABLE blob_migrations (
  id TEXT PRIMARY KEY,             -- 'mig_' + 16 hex digits
  from_site TEXT NOT NULL,
  to_site TEXT NOT NULL,
  mode TEXT NOT NULL CHECK (mode IN ('copy', 'move')),
  grace_seconds BIGINT NOT NULL,   -- move: how long the old copy stays after the new one
  state TEXT NOT NULL CHECK (state IN ('running', 'done')),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE TABLE blob_migration_items (
  migration_id TEXT NOT NULL REFERENCES blob_migrations (id),
  blob_id TEXT NOT NULL REFERENCES blobs (id),
  state TEXT NOT NULL CHECK (state IN ('pending', 'copied', 'retire_due', 'retiring',
                                       'retired', 'failed')),
  detail TEXT NOT NULL,            -- why it failed, in words; '' otherwise
  retire_after TEXT NOT NULL,      -- move: RFC 3339 time the old copy may go; '' otherwise
  old_path TEXT NOT NULL,          -- retiring: the retired copy's key and version, to remove
  old_version TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (migration_id, blob_id)
);
CREATE INDEX blob_migration_items_state ON blob_migration_items (migration_id, state);
)sql";

constexpr std::string_view kSequencingSchema = R"sql(
CREATE TABLE sequencing_runs (
  id TEXT PRIMARY KEY,             -- 'RUN-' + 16 hex
  specimen_id TEXT NOT NULL REFERENCES specimens (id),
  organisation TEXT NOT NULL REFERENCES organisations (id),
  instrument_model TEXT NOT NULL,
  flowcell TEXT NOT NULL,
  library TEXT NOT NULL,
  layout TEXT NOT NULL CHECK (layout IN ('single', 'paired')),
  status TEXT NOT NULL CHECK (status IN ('open', 'qc_passed', 'qc_failed')),
  non_standard_instrument INTEGER NOT NULL,
  verdict TEXT,                    -- JSON, when complete
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL,
  completed_at TEXT
);
CREATE INDEX sequencing_runs_specimen ON sequencing_runs (specimen_id);
CREATE TABLE data_files (
  id TEXT PRIMARY KEY,             -- 'FL-' + 16 hex
  kind TEXT NOT NULL CHECK (kind IN ('fastq', 'cram', 'bam', 'vcf', 'bcf')),
  specimen_id TEXT NOT NULL REFERENCES specimens (id),
  participant_id TEXT NOT NULL REFERENCES participants (id),
  run_id TEXT REFERENCES sequencing_runs (id),
  read_number INTEGER NOT NULL,    -- fastq: 1 or 2; 0 otherwise
  file_name TEXT NOT NULL,
  blob_id TEXT NOT NULL REFERENCES blobs (id),
  index_blob_id TEXT REFERENCES blobs (id),
  index_kind TEXT NOT NULL,
  uploaded_sha256 TEXT NOT NULL,
  uploaded_md5 TEXT NOT NULL,
  uploaded_size BIGINT NOT NULL,
  sha256 TEXT NOT NULL,            -- of the stored plaintext
  size BIGINT NOT NULL,
  report TEXT NOT NULL,            -- JSON
  derived_from TEXT NOT NULL,      -- JSON array of data_files ids (R3.7 linkage)
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX data_files_participant ON data_files (participant_id);
CREATE UNIQUE INDEX data_files_run_read ON data_files (run_id, read_number);
CREATE TABLE file_samples (        -- the samples of an analysis file and whose they are
  file_id TEXT NOT NULL REFERENCES data_files (id),
  sample TEXT NOT NULL,            -- the sample name in the stored (sanitised) file
  participant_id TEXT NOT NULL REFERENCES participants (id),
  position INTEGER NOT NULL,       -- 0-based column order in the file
  PRIMARY KEY (file_id, sample)
);
CREATE INDEX file_samples_participant ON file_samples (participant_id);
CREATE TABLE uploads (
  id TEXT PRIMARY KEY,             -- 'UP-' + 16 hex
  kind TEXT NOT NULL CHECK (kind IN ('fastq', 'cram', 'bam', 'vcf', 'bcf')),
  run_id TEXT REFERENCES sequencing_runs (id),
  read_number INTEGER NOT NULL,
  specimen_id TEXT NOT NULL REFERENCES specimens (id),
  derived_from TEXT NOT NULL,      -- JSON array
  sample_map TEXT NOT NULL,        -- JSON object: sample name in the upload -> participant
  organisation TEXT NOT NULL REFERENCES organisations (id),
  file_name TEXT NOT NULL,
  size BIGINT NOT NULL,
  sha256 TEXT NOT NULL,
  chunk_size BIGINT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('open', 'complete', 'rejected')),
  file_id TEXT REFERENCES data_files (id),
  error TEXT,                      -- JSON, when rejected
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX uploads_run ON uploads (run_id);
)sql";

// Migration 6: findings, return of results and recontact (src/findings). Shared types only.
constexpr std::string_view kFindingsSchema = R"sql(
CREATE TABLE findings (
  id TEXT PRIMARY KEY,             -- 'FD-' + 16 hex digits
  participant_id TEXT NOT NULL REFERENCES participants (id),
  analysis_center_id TEXT NOT NULL REFERENCES organisations (id),  -- who filed it
  gene TEXT NOT NULL,              -- HGNC symbol
  variant TEXT NOT NULL,           -- HGVS
  origin TEXT NOT NULL CHECK (origin IN ('somatic', 'germline')),
  category TEXT NOT NULL CHECK (category IN ('primary', 'secondary', 'reinterpretation')),
  classification TEXT NOT NULL,
  evidence TEXT NOT NULL,
  acmg_sf_version TEXT NOT NULL,   -- secondary findings: the gene list in force; '' otherwise
  state TEXT NOT NULL,
  state_since TEXT NOT NULL,       -- RFC 3339: when it entered the state (SLA timers)
  contact_attempts INTEGER NOT NULL,
  sent_to_hospital INTEGER NOT NULL,  -- 1 once the hospital was involved: it may see it
  supersedes TEXT,                 -- the finding this one re-interprets
  superseded_by TEXT,
  filed_by TEXT NOT NULL,
  filed_at TEXT NOT NULL,
  version INTEGER NOT NULL         -- bumped by every step (optimistic concurrency)
);
CREATE INDEX findings_participant ON findings (participant_id);
CREATE INDEX findings_state ON findings (state);
CREATE TABLE finding_events (
  finding_id TEXT NOT NULL REFERENCES findings (id),
  seq INTEGER NOT NULL,            -- 1 is the filing
  event TEXT NOT NULL,
  from_state TEXT NOT NULL,
  to_state TEXT NOT NULL,
  party TEXT NOT NULL,             -- analysis_center | data_center | hospital | system
  organisation_id TEXT NOT NULL,   -- '' for the system
  user_id TEXT NOT NULL,
  time TEXT NOT NULL,
  reason TEXT NOT NULL,
  details TEXT NOT NULL,           -- JSON object: consent verdict, reason code, decision
  PRIMARY KEY (finding_id, seq)
);
CREATE TABLE finding_messages (
  id TEXT PRIMARY KEY,
  finding_id TEXT NOT NULL REFERENCES findings (id),
  seq INTEGER NOT NULL,
  thread_id TEXT NOT NULL,         -- the first message of the thread
  in_reply_to TEXT,
  party TEXT NOT NULL,             -- analysis_center | data_center | hospital | patient
  organisation_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  recipient TEXT NOT NULL,         -- analysis_center | data_center | hospital | all
  type TEXT NOT NULL,
  body TEXT NOT NULL,
  consent_record_id TEXT,          -- preference_change: the consent record it made
  created_at TEXT NOT NULL,
  UNIQUE (finding_id, seq)
);
CREATE TABLE finding_message_reads (
  message_id TEXT NOT NULL REFERENCES finding_messages (id),
  user_id TEXT NOT NULL,
  organisation_id TEXT NOT NULL,
  read_at TEXT NOT NULL,
  PRIMARY KEY (message_id, user_id)
);
CREATE TABLE findings_settings (
  key TEXT PRIMARY KEY,            -- acmg_sf_version | ack_sla_days | contact_window_days
  value TEXT NOT NULL,
  updated_by TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
)sql";

// Migration 8: controlled sharing (src/sharing): datasets, releases with tiers, applications
// with their review history, grants. Shared types only.
constexpr std::string_view kIdentityGrantsSchema = R"sql(
CREATE TABLE role_grants (
  id TEXT PRIMARY KEY,             -- 'rg_' + 16 hex digits
  user_id TEXT NOT NULL REFERENCES users (id),
  role TEXT NOT NULL,
  requested_by TEXT NOT NULL,      -- grantor id: 'operator' or a user or token id
  requested_at TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'approved')),
  approved_by TEXT,
  approved_at TEXT
);
CREATE INDEX role_grants_user ON role_grants (user_id, state);
CREATE TABLE enrolment_codes (
  user_id TEXT PRIMARY KEY REFERENCES users (id),  -- one unused code per user
  code_hash TEXT NOT NULL,         -- SHA-256 of the normalised code; the code is shown once
  issued_by TEXT NOT NULL,
  issued_at TEXT NOT NULL,
  expires_ms BIGINT NOT NULL
);
)sql";

constexpr std::string_view kSharingSchema = R"sql(
CREATE TABLE sharing_settings (
  program TEXT PRIMARY KEY CHECK (program IN ('cancer', 'rare_disease')),
  embargo_months INTEGER NOT NULL,  -- group-restricted period of a release
  updated_by TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE TABLE datasets (
  id TEXT PRIMARY KEY,             -- 'DS-' + 16 hex digits
  name_ja TEXT NOT NULL,
  name_en TEXT NOT NULL,
  program TEXT NOT NULL CHECK (program IN ('cancer', 'rare_disease')),
  group_id TEXT NOT NULL REFERENCES research_groups (id),  -- the producing research group
  description TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE dataset_files (
  dataset_id TEXT NOT NULL REFERENCES datasets (id),
  file_id TEXT NOT NULL REFERENCES data_files (id),
  participant_id TEXT NOT NULL REFERENCES participants (id),
  data_type TEXT NOT NULL CHECK (data_type IN ('cram', 'vcf', 'fastq')),
  added_by TEXT NOT NULL,
  added_at TEXT NOT NULL,          -- RFC 3339; a release covers the files added up to it
  PRIMARY KEY (dataset_id, file_id)
);
CREATE INDEX dataset_files_file ON dataset_files (file_id);
CREATE TABLE releases (
  id TEXT PRIMARY KEY,             -- 'RL-' + 16 hex digits
  dataset_id TEXT NOT NULL REFERENCES datasets (id),
  release_date TEXT NOT NULL,      -- YYYY-MM-DD
  embargo_months INTEGER NOT NULL,
  controlled_at TEXT NOT NULL,     -- RFC 3339: the embargo ends, the tier becomes controlled
  public_aggregates_at TEXT,       -- RFC 3339, optional: counts become public
  tier TEXT NOT NULL CHECK (tier IN ('group_restricted', 'controlled', 'public_aggregates')),
  tier_since TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX releases_dataset ON releases (dataset_id);
CREATE TABLE release_tier_events (
  release_id TEXT NOT NULL REFERENCES releases (id),
  seq INTEGER NOT NULL,            -- 1 is the creation
  event TEXT NOT NULL,
  from_tier TEXT NOT NULL,         -- '' for the creation
  to_tier TEXT NOT NULL,
  due_at TEXT NOT NULL,            -- when the transition was due
  applied_at TEXT NOT NULL,        -- when Tick applied it
  actor TEXT NOT NULL,
  PRIMARY KEY (release_id, seq)
);
CREATE TABLE applications (
  id TEXT PRIMARY KEY,             -- 'AP-' + 16 hex digits
  applicant TEXT NOT NULL REFERENCES users (id),
  organisation_id TEXT NOT NULL REFERENCES organisations (id),
  track TEXT NOT NULL CHECK (track IN ('academic', 'industry')),
  title TEXT NOT NULL,
  purpose TEXT NOT NULL,           -- JSON: primary, disease, commercial, methods_development, ancestry
  datasets TEXT NOT NULL,          -- JSON array of dataset ids
  data_types TEXT NOT NULL,        -- JSON array: cram | vcf | fastq
  fastq_justification TEXT NOT NULL,
  ethics TEXT NOT NULL,            -- JSON: the ethics approval document's fingerprint, or {}
  agreement TEXT NOT NULL,         -- JSON: signed agreement (industry), or {}
  fee TEXT NOT NULL,               -- JSON: fee record (industry), or {}
  start_date TEXT NOT NULL,        -- YYYY-MM-DD
  end_date TEXT NOT NULL,          -- YYYY-MM-DD, inclusive
  state TEXT NOT NULL CHECK (state IN ('draft', 'submitted', 'approved', 'rejected',
                                       'withdrawn')),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  version INTEGER NOT NULL         -- bumped by every change (optimistic concurrency)
);
CREATE INDEX applications_applicant ON applications (applicant);
CREATE TABLE application_events (
  application_id TEXT NOT NULL REFERENCES applications (id),
  seq INTEGER NOT NULL,            -- 1 is the creation
  kind TEXT NOT NULL CHECK (kind IN ('created', 'submitted', 'comment', 'vote', 'decision',
                                     'withdrawn')),
  user_id TEXT NOT NULL,
  organisation_id TEXT NOT NULL,
  vote TEXT NOT NULL,              -- vote: approve | reject | abstain; decision: the outcome
  body TEXT NOT NULL,              -- comment text, vote reason or decision tally
  time TEXT NOT NULL,
  PRIMARY KEY (application_id, seq)
);
CREATE TABLE grants (
  id TEXT PRIMARY KEY,             -- 'GR-' + 16 hex digits
  application_id TEXT NOT NULL UNIQUE REFERENCES applications (id),
  holder TEXT NOT NULL REFERENCES users (id),
  organisation_id TEXT NOT NULL REFERENCES organisations (id),
  datasets TEXT NOT NULL,          -- JSON array
  data_types TEXT NOT NULL,        -- JSON array
  purpose TEXT NOT NULL,           -- JSON, as the application's
  track TEXT NOT NULL,
  starts_at TEXT NOT NULL,         -- RFC 3339
  expires_at TEXT NOT NULL,        -- RFC 3339, exclusive
  revoked_at TEXT,
  revoked_by TEXT,
  revoke_reason TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX grants_holder ON grants (holder);
)sql";


// Migration 10: analysis orders (src/specimens/analysis_orders.h). Shared types only.
constexpr std::string_view kAnalysisOrdersSchema = R"sql(
CREATE TABLE analysis_orders (
  id TEXT PRIMARY KEY,             -- AO- and 16 upper-case hex characters
  specimen_id TEXT NOT NULL REFERENCES specimens (id),
  centre_id TEXT NOT NULL REFERENCES organisations (id),  -- the analysis centre ordered
  state TEXT NOT NULL CHECK (state IN ('open', 'started', 'cancelled')),
  basis TEXT NOT NULL CHECK (basis IN ('steward', 'program_rule')),
  ordered_by TEXT NOT NULL,
  ordered_at TEXT NOT NULL,
  closed_by TEXT NOT NULL,         -- who started or cancelled it; '' while open
  closed_at TEXT NOT NULL,
  reason TEXT NOT NULL             -- why it was cancelled; '' otherwise
);
CREATE INDEX analysis_orders_specimen ON analysis_orders (specimen_id);
CREATE INDEX analysis_orders_centre ON analysis_orders (centre_id, state);
CREATE UNIQUE INDEX analysis_orders_one_open ON analysis_orders (specimen_id)
  WHERE state = 'open';
CREATE TABLE analysis_order_rules (
  program TEXT PRIMARY KEY CHECK (program IN ('cancer', 'rare_disease')),
  centre_id TEXT NOT NULL REFERENCES organisations (id),
  set_by TEXT NOT NULL,
  set_at TEXT NOT NULL
);
)sql";

// Migration 16 on SQLite: the uploads table rebuilt with 'expired' among its states.
constexpr std::string_view kUploadExpiredSqlite = R"sql(
CREATE TABLE uploads_with_expiry (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('fastq', 'cram', 'bam', 'vcf', 'bcf')),
  run_id TEXT REFERENCES sequencing_runs (id),
  read_number INTEGER NOT NULL,
  specimen_id TEXT NOT NULL REFERENCES specimens (id),
  derived_from TEXT NOT NULL,
  sample_map TEXT NOT NULL,
  organisation TEXT NOT NULL REFERENCES organisations (id),
  file_name TEXT NOT NULL,
  size BIGINT NOT NULL,
  sha256 TEXT NOT NULL,
  chunk_size BIGINT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('open', 'complete', 'rejected', 'expired')),
  file_id TEXT REFERENCES data_files (id),
  error TEXT,
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  pending_blob_id TEXT,
  pending_index_blob_id TEXT
);
INSERT INTO uploads_with_expiry (id, kind, run_id, read_number, specimen_id, derived_from,
  sample_map, organisation, file_name, size, sha256, chunk_size, status, file_id, error,
  created_by, created_at, updated_at, pending_blob_id, pending_index_blob_id)
SELECT id, kind, run_id, read_number, specimen_id, derived_from, sample_map, organisation,
  file_name, size, sha256, chunk_size, status, file_id, error, created_by, created_at,
  updated_at, pending_blob_id, pending_index_blob_id FROM uploads;
DROP TABLE uploads;
ALTER TABLE uploads_with_expiry RENAME TO uploads;
CREATE INDEX uploads_run ON uploads (run_id);
)sql";

// The cohort variant store (issue 15, src/variants/cohort.h): the index of the genotype chunks
// kept in the blob store, the cohort's sample index, variant sites and the gene table.
// Genotypes themselves are never rows here (30-300x the bytes of the chunks).
// Automatic ingest of registered VCF/BCF files into the cohort store (issue 15): one row per
// file the store has picked up, its state, attempts and last error (src/variants/cohort.h,
// IngestQueue). A failed ingest leaves nothing in the variant tables and is retried.
constexpr const char* kVariantIngestQueueSchema = R"sql(
CREATE TABLE variant_ingest_queue (
  file_id TEXT PRIMARY KEY,        -- data_files.id
  state TEXT NOT NULL CHECK (state IN ('pending', 'failed', 'done')),
  attempts INTEGER NOT NULL,
  last_error TEXT NOT NULL,        -- '' or "code: message" of the last failure
  next_attempt_at TEXT NOT NULL,   -- RFC 3339; due when not after now
  batch_id TEXT NOT NULL,          -- variant_batches.id once done
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX variant_ingest_queue_due ON variant_ingest_queue (state, next_attempt_at);
)sql";

// Issue 15: the portal's allele frequencies per public release and consent class, computed by
// a job (src/variants/frequencies.h). One computation is current at a time; a new one replaces
// the rows of the old in one transaction, so a reader sees one whole computation.
// The cohort store's region rebuilds (issue 15, src/variants/cohort.h RebuildRegion): the
// chunks of many batches over one region merged into one, which then stands for them.
constexpr const char* kVariantRegionMergesSchema = R"sql(
ALTER TABLE variant_chunks ADD COLUMN merged_into TEXT;  -- variant_merged_chunks.id once merged
CREATE TABLE variant_merged_chunks (  -- one chunk standing for several batches over one region
  id TEXT PRIMARY KEY,             -- 'VM-' + 16 hex
  chrom TEXT NOT NULL,
  region_start BIGINT NOT NULL,    -- 1-based, inclusive
  region_end BIGINT NOT NULL,      -- exclusive
  version INTEGER NOT NULL,        -- 1 + chunks of this region written before it
  sample_list_version INTEGER NOT NULL,  -- samples in the index when written
  blob_id TEXT NOT NULL REFERENCES blobs (id),
  sites INTEGER NOT NULL,
  samples INTEGER NOT NULL,
  chunks_in INTEGER NOT NULL,      -- the live chunks it replaced
  executor TEXT NOT NULL,          -- where the merge ran: in_process | local | slurm | slurm_allocation
  merged_into TEXT,                -- a later merged chunk standing for this one
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX variant_merged_chunks_region ON variant_merged_chunks (chrom, region_start);
-- The live chunks only: what queries and the rebuild job's choice of regions read.
CREATE INDEX variant_chunks_live ON variant_chunks (chrom, region_start) WHERE merged_into IS NULL;
CREATE INDEX variant_merged_chunks_live ON variant_merged_chunks (chrom, region_start)
  WHERE merged_into IS NULL;
)sql";

constexpr const char* kVariantPublicFrequenciesSchema = R"sql(
CREATE TABLE variant_af_computations (  -- the current computation (at most one row)
  id TEXT PRIMARY KEY,             -- 'AF-' + 16 hex
  freshness TEXT NOT NULL,         -- what it was computed from: consent changes, batches, releases
  releases TEXT NOT NULL,          -- JSON: [{id, nested_in: [...]}] of the public releases
  sites INTEGER NOT NULL,
  computed_by TEXT NOT NULL,
  computed_at TEXT NOT NULL
);
CREATE TABLE variant_public_af (   -- true counts; published only through portal/suppression.h
  computation_id TEXT NOT NULL REFERENCES variant_af_computations (id),
  chrom TEXT NOT NULL,
  pos BIGINT NOT NULL,
  ref TEXT NOT NULL,
  alt TEXT NOT NULL,
  release_id TEXT NOT NULL,
  consent_class TEXT NOT NULL CHECK (consent_class IN ('research', 'commercial')),
  ac BIGINT NOT NULL,
  an BIGINT NOT NULL,
  carriers BIGINT NOT NULL,   -- people (het + hom-alt): an allele count is shown only beside ten or more
  PRIMARY KEY (computation_id, chrom, pos, ref, alt, release_id, consent_class)
);
)sql";

constexpr const char* kVariantStoreSchema = R"sql(
CREATE TABLE variant_batches (     -- one ingested VCF/BCF; never rewritten
  id TEXT PRIMARY KEY,             -- 'VB-' + 16 hex
  file_id TEXT NOT NULL UNIQUE,    -- data_files.id (or an importer's id): ingested once
  samples INTEGER NOT NULL,
  sites INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE variant_samples (     -- the sample index: bit <-> sample <-> participant
  bit INTEGER PRIMARY KEY,         -- 0, 1, 2, ... in ingest order; never reused
  batch_id TEXT NOT NULL REFERENCES variant_batches (id),
  file_id TEXT NOT NULL,
  sample TEXT NOT NULL,            -- the sample name in the file
  participant_id TEXT NOT NULL REFERENCES participants (id),
  UNIQUE (file_id, sample)
);
CREATE INDEX variant_samples_participant ON variant_samples (participant_id);
CREATE TABLE variant_chunks (      -- one stored chunk of one batch
  batch_id TEXT NOT NULL REFERENCES variant_batches (id),
  chrom TEXT NOT NULL,
  region_start BIGINT NOT NULL,    -- 1-based, inclusive
  region_end BIGINT NOT NULL,      -- exclusive
  version INTEGER NOT NULL,        -- 1 + chunks of this region written before it
  sample_list_version INTEGER NOT NULL,  -- samples in the index when written
  blob_id TEXT NOT NULL REFERENCES blobs (id),
  sites INTEGER NOT NULL,
  PRIMARY KEY (batch_id, chrom, region_start)
);
CREATE INDEX variant_chunks_region ON variant_chunks (chrom, region_start);
CREATE TABLE variant_sites (       -- biallelic, trimmed sites
  chrom TEXT NOT NULL,
  pos BIGINT NOT NULL,
  ref TEXT NOT NULL,
  alt TEXT NOT NULL,
  id TEXT NOT NULL,                -- VCF ID of the first file that named it, or '.'
  PRIMARY KEY (chrom, pos, ref, alt)
);
CREATE TABLE variant_genes (       -- loaded by `zengen variants load-genes`
  name TEXT PRIMARY KEY,
  chrom TEXT NOT NULL,
  gene_start BIGINT NOT NULL,      -- 1-based, inclusive
  gene_end BIGINT NOT NULL         -- inclusive
);
CREATE INDEX variant_genes_region ON variant_genes (chrom, gene_start);
)sql";

// Beacon v2 query budgets (issue 15, src/beacon/beacon.h).
constexpr const char* kBeaconBudgetSchema = R"sql(
CREATE TABLE beacon_query_budget (
  budget_key TEXT NOT NULL,        -- 'user:<id>' or 'address:<ip>'
  day TEXT NOT NULL,               -- YYYY-MM-DD (UTC)
  queries INTEGER NOT NULL,
  PRIMARY KEY (budget_key, day)
);
)sql";

// Migration 13: analysis runs, their steps and the registered reference genomes
// (src/analysis/analysis.h). Shared types only.
constexpr std::string_view kAnalysisRunsSchema = R"sql(
CREATE TABLE reference_genomes (
  name TEXT PRIMARY KEY,
  sha256 TEXT NOT NULL,            -- of the FASTA
  files TEXT NOT NULL,             -- JSON: {suffix: sha256} of the FASTA and its indexes
  path TEXT NOT NULL,              -- the FASTA, under the references directory
  registered_by TEXT NOT NULL,
  registered_at TEXT NOT NULL
);
CREATE TABLE analysis_runs (
  id TEXT PRIMARY KEY,             -- AR- and 16 upper-case hex characters
  specimen_id TEXT NOT NULL REFERENCES specimens (id),
  participant_id TEXT NOT NULL,
  hospital TEXT NOT NULL,
  centre_id TEXT NOT NULL REFERENCES organisations (id),
  pipeline TEXT NOT NULL,
  pipeline_version TEXT NOT NULL,
  reference_name TEXT NOT NULL REFERENCES reference_genomes (name),
  reference_sha256 TEXT NOT NULL,
  executor TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
  attempt INTEGER NOT NULL,
  steps_done INTEGER NOT NULL,
  steps_total INTEGER NOT NULL,
  inputs TEXT NOT NULL,            -- JSON array of FASTQ file ids
  outputs TEXT NOT NULL,           -- JSON array of registered file ids
  error TEXT NOT NULL,             -- JSON {"code", "message"} or 'null'
  node TEXT NOT NULL,
  log TEXT NOT NULL,               -- the engine's log of the last attempt (tail)
  provenance TEXT NOT NULL,        -- JSON-LD, '' until it succeeded
  cancel_requested INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL,
  started_at TEXT NOT NULL,
  ended_at TEXT NOT NULL
);
CREATE INDEX analysis_runs_centre ON analysis_runs (centre_id, created_at);
CREATE INDEX analysis_runs_state ON analysis_runs (state);
CREATE UNIQUE INDEX analysis_runs_one_active ON analysis_runs (specimen_id)
  WHERE state IN ('queued', 'running');
CREATE TABLE analysis_run_steps (
  run_id TEXT NOT NULL REFERENCES analysis_runs (id),
  attempt INTEGER NOT NULL,
  name TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'running', 'succeeded', 'failed')),
  started_at TEXT NOT NULL,
  ended_at TEXT NOT NULL,
  log TEXT NOT NULL,
  PRIMARY KEY (run_id, attempt, name)
);
CREATE TABLE analysis_run_outputs (
  file_id TEXT PRIMARY KEY,
  run_id TEXT NOT NULL REFERENCES analysis_runs (id)
);
)sql";


// Migration 22: the application's documents, kept encrypted in the blob store (src/sharing,
// "Documents"), and the application's plan fields.
constexpr std::string_view kApplicationDocumentsSchema = R"sql(
CREATE TABLE application_documents (
  application_id TEXT NOT NULL REFERENCES applications (id),
  kind TEXT NOT NULL CHECK (kind IN ('ethics_approval', 'protocol', 'signed_agreement')),
  file_name TEXT NOT NULL,
  content_type TEXT NOT NULL CHECK (content_type IN ('application/pdf', 'text/plain')),
  size BIGINT NOT NULL,
  sha256 TEXT NOT NULL,            -- of the plaintext, computed by the server
  blob_id TEXT NOT NULL,           -- the encrypted object (Crypt4GH for the data center's key)
  uploaded_by TEXT NOT NULL,
  uploaded_at TEXT NOT NULL,
  PRIMARY KEY (application_id, kind)
);
ALTER TABLE applications ADD COLUMN abstract TEXT NOT NULL DEFAULT '';
ALTER TABLE applications ADD COLUMN principal_investigator TEXT NOT NULL DEFAULT '';
ALTER TABLE applications ADD COLUMN collaborators TEXT NOT NULL DEFAULT '[]';
ALTER TABLE applications ADD COLUMN data_security_plan TEXT NOT NULL DEFAULT '';
)sql";

constexpr std::array kMigrations = {
    Migration{
        .version = 1,
        .name = "settings",
        .sqlite_sql = R"sql(
CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
)sql",
        .postgres_sql = R"sql(
CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
)sql",
    },
    Migration{
        .version = 2,
        .name = "audit_log",
        .sqlite_sql = R"sql(
CREATE TABLE audit_log (
  seq INTEGER PRIMARY KEY,      -- 1, 2, 3, … without gaps; assigned under the write lock
  time TEXT NOT NULL,              -- RFC 3339 UTC with milliseconds
  actor TEXT NOT NULL,             -- user/token id, or 'anonymous', or 'system'
  source TEXT NOT NULL,            -- source IP address, or 'cli' / 'system'
  action TEXT NOT NULL,            -- policy action or event name, e.g. 'auth.login'
  resource TEXT NOT NULL,          -- 'kind/id' or 'kind'
  decision TEXT NOT NULL,          -- 'allow', 'deny' or '' for events without a decision
  reason TEXT NOT NULL,
  request_id TEXT NOT NULL,
  details TEXT NOT NULL,           -- JSON object with event-specific fields
  prev_hash TEXT NOT NULL,         -- hex SHA-256 of the previous record (64 zeros for seq 1)
  hash TEXT NOT NULL               -- hex SHA-256 over prev_hash and this record's content
);
CREATE INDEX audit_log_actor ON audit_log (actor, seq);
CREATE INDEX audit_log_action ON audit_log (action, seq);
CREATE INDEX audit_log_resource ON audit_log (resource, seq);
CREATE INDEX audit_log_time ON audit_log (time, seq);
)sql",
        .postgres_sql = R"sql(
CREATE TABLE audit_log (
  seq BIGINT PRIMARY KEY,      -- 1, 2, 3, … without gaps; assigned under the write lock
  time TEXT NOT NULL,              -- RFC 3339 UTC with milliseconds
  actor TEXT NOT NULL,             -- user/token id, or 'anonymous', or 'system'
  source TEXT NOT NULL,            -- source IP address, or 'cli' / 'system'
  action TEXT NOT NULL,            -- policy action or event name, e.g. 'auth.login'
  resource TEXT NOT NULL,          -- 'kind/id' or 'kind'
  decision TEXT NOT NULL,          -- 'allow', 'deny' or '' for events without a decision
  reason TEXT NOT NULL,
  request_id TEXT NOT NULL,
  details TEXT NOT NULL,           -- JSON object with event-specific fields
  prev_hash TEXT NOT NULL,         -- hex SHA-256 of the previous record (64 zeros for seq 1)
  hash TEXT NOT NULL               -- hex SHA-256 over prev_hash and this record's content
);
CREATE INDEX audit_log_actor ON audit_log (actor, seq);
CREATE INDEX audit_log_action ON audit_log (action, seq);
CREATE INDEX audit_log_resource ON audit_log (resource, seq);
CREATE INDEX audit_log_time ON audit_log (time, seq);
)sql",
    },
    Migration{
        .version = 3,
        .name = "identity",
        .sqlite_sql = R"sql(
CREATE TABLE organisations (
  id TEXT PRIMARY KEY,             -- short slug, e.g. 'kyoto-univ-hospital'
  name TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('hospital', 'sequencing_facility', 'analysis_center',
                                     'data_center', 'academic', 'industry')),
  jurisdiction TEXT NOT NULL,      -- ISO 3166-1 alpha-2, e.g. 'JP'
  created_at TEXT NOT NULL
);
CREATE TABLE users (
  id TEXT PRIMARY KEY,             -- login name
  organisation_id TEXT NOT NULL REFERENCES organisations (id),
  display_name TEXT NOT NULL,
  email TEXT NOT NULL,
  password_hash TEXT NOT NULL,     -- Argon2id, libsodium's encoded form
  disabled INTEGER NOT NULL DEFAULT 0,
  totp_secret TEXT,                -- hex; NULL until enrolment starts
  totp_confirmed INTEGER NOT NULL DEFAULT 0,
  totp_last_step INTEGER NOT NULL DEFAULT 0,  -- highest TOTP step used: older codes are refused
  failed_logins INTEGER NOT NULL DEFAULT 0,
  locked_until_ms INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL
);
CREATE TABLE user_roles (
  user_id TEXT NOT NULL REFERENCES users (id),
  role TEXT NOT NULL,
  PRIMARY KEY (user_id, role)
);
CREATE TABLE research_groups (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE research_group_members (
  group_id TEXT NOT NULL REFERENCES research_groups (id),
  user_id TEXT NOT NULL REFERENCES users (id),
  PRIMARY KEY (group_id, user_id)
);
CREATE TABLE recovery_codes (
  user_id TEXT NOT NULL REFERENCES users (id),
  code_hash TEXT NOT NULL,
  used_at TEXT,
  PRIMARY KEY (user_id, code_hash)
);
CREATE TABLE sessions (
  id_hash TEXT PRIMARY KEY,        -- SHA-256 of the cookie value; the value itself is not kept
  user_id TEXT NOT NULL REFERENCES users (id),
  csrf_token TEXT NOT NULL,
  mfa INTEGER NOT NULL DEFAULT 0,  -- the second factor was passed in this session
  source TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  last_seen_ms INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE TABLE api_tokens (
  id TEXT PRIMARY KEY,
  token_hash TEXT NOT NULL UNIQUE, -- SHA-256 of the token; the token is shown once
  name TEXT NOT NULL,
  organisation_id TEXT NOT NULL REFERENCES organisations (id),
  role TEXT NOT NULL,
  actions TEXT NOT NULL,           -- JSON array of policy actions the token may perform
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_ms INTEGER NOT NULL,
  revoked INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE login_sources (
  source TEXT PRIMARY KEY,         -- client IP address
  failures INTEGER NOT NULL,
  window_start_ms INTEGER NOT NULL,
  locked_until_ms INTEGER NOT NULL
);
)sql",
        .postgres_sql = R"sql(
CREATE TABLE organisations (
  id TEXT PRIMARY KEY,             -- short slug, e.g. 'kyoto-univ-hospital'
  name TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('hospital', 'sequencing_facility', 'analysis_center',
                                     'data_center', 'academic', 'industry')),
  jurisdiction TEXT NOT NULL,      -- ISO 3166-1 alpha-2, e.g. 'JP'
  created_at TEXT NOT NULL
);
CREATE TABLE users (
  id TEXT PRIMARY KEY,             -- login name
  organisation_id TEXT NOT NULL REFERENCES organisations (id),
  display_name TEXT NOT NULL,
  email TEXT NOT NULL,
  password_hash TEXT NOT NULL,     -- Argon2id, libsodium's encoded form
  disabled INTEGER NOT NULL DEFAULT 0,
  totp_secret TEXT,                -- hex; NULL until enrolment starts
  totp_confirmed INTEGER NOT NULL DEFAULT 0,
  totp_last_step BIGINT NOT NULL DEFAULT 0,  -- highest TOTP step used: older codes are refused
  failed_logins INTEGER NOT NULL DEFAULT 0,
  locked_until_ms BIGINT NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL
);
CREATE TABLE user_roles (
  user_id TEXT NOT NULL REFERENCES users (id),
  role TEXT NOT NULL,
  PRIMARY KEY (user_id, role)
);
CREATE TABLE research_groups (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE research_group_members (
  group_id TEXT NOT NULL REFERENCES research_groups (id),
  user_id TEXT NOT NULL REFERENCES users (id),
  PRIMARY KEY (group_id, user_id)
);
CREATE TABLE recovery_codes (
  user_id TEXT NOT NULL REFERENCES users (id),
  code_hash TEXT NOT NULL,
  used_at TEXT,
  PRIMARY KEY (user_id, code_hash)
);
CREATE TABLE sessions (
  id_hash TEXT PRIMARY KEY,        -- SHA-256 of the cookie value; the value itself is not kept
  user_id TEXT NOT NULL REFERENCES users (id),
  csrf_token TEXT NOT NULL,
  mfa INTEGER NOT NULL DEFAULT 0,  -- the second factor was passed in this session
  source TEXT NOT NULL,
  created_ms BIGINT NOT NULL,
  last_seen_ms BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE TABLE api_tokens (
  id TEXT PRIMARY KEY,
  token_hash TEXT NOT NULL UNIQUE, -- SHA-256 of the token; the token is shown once
  name TEXT NOT NULL,
  organisation_id TEXT NOT NULL REFERENCES organisations (id),
  role TEXT NOT NULL,
  actions TEXT NOT NULL,           -- JSON array of policy actions the token may perform
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_ms BIGINT NOT NULL,
  revoked INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE login_sources (
  source TEXT PRIMARY KEY,         -- client IP address
  failures INTEGER NOT NULL,
  window_start_ms BIGINT NOT NULL,
  locked_until_ms BIGINT NOT NULL
);
)sql",
    },
    Migration{
        .version = 4,
        .name = "participants_consent_clinical_specimens",
        .sqlite_sql = kParticipantsSchema,
        .postgres_sql = kParticipantsSchema,
    },
    Migration{
        .version = 5,
        .name = "blobs",
        .sqlite_sql = kBlobsSchema,
        .postgres_sql = kBlobsSchema,
    },
    Migration{
        .version = 6,
        .name = "sequencing",
        .sqlite_sql = kSequencingSchema,
        .postgres_sql = kSequencingSchema,
    },
    Migration{
        .version = 7,
        .name = "findings",
        .sqlite_sql = kFindingsSchema,
        .postgres_sql = kFindingsSchema,
    },
    Migration{
        .version = 8,
        .name = "sharing",
        .sqlite_sql = kSharingSchema,
        .postgres_sql = kSharingSchema,
    },
    Migration{
        .version = 9,
        .name = "personal_tokens",
        // Personal data-access tokens: an API token that acts as the person who made it
        // (their organisation, roles, groups and grants), for clients such as samtools.
        .sqlite_sql = "ALTER TABLE api_tokens ADD COLUMN user_id TEXT REFERENCES users (id);",
        .postgres_sql = "ALTER TABLE api_tokens ADD COLUMN user_id TEXT REFERENCES users (id);",
    },
    Migration{
        .version = 10,
        .name = "analysis_orders",
        // The data centre orders the analysis of a specimen by a named analysis centre
        // (src/specimens/analysis_orders.h); at most one open order per specimen. A program
        // rule makes the order itself when a specimen of that program passes QC.
        .sqlite_sql = kAnalysisOrdersSchema,
        .postgres_sql = kAnalysisOrdersSchema,
    },
    Migration{
        .version = 11,
        .name = "identity_role_grants_and_enrolment_codes",
        // Separation of duties (issue 12 finding 4): grants that wait for a second person's
        // approval. MFA enrolment (finding 8): one-time codes issued by an administrator.
        .sqlite_sql = kIdentityGrantsSchema,
        .postgres_sql = kIdentityGrantsSchema,
    },
    Migration{
        .version = 12,
        .name = "upload_completion_recovery",
        // Completion of an upload is one transaction plus two idempotent steps that the
        // recovery pass at start finishes: the blob an interrupted completion stored (adopted
        // instead of stored again) and the custody moves a run's verdict calls for.
        .sqlite_sql = "ALTER TABLE uploads ADD COLUMN pending_blob_id TEXT; "
                      "ALTER TABLE sequencing_runs ADD COLUMN custody_pending_by TEXT;",
        .postgres_sql = "ALTER TABLE uploads ADD COLUMN pending_blob_id TEXT; "
                        "ALTER TABLE sequencing_runs ADD COLUMN custody_pending_by TEXT;",
    },
    Migration{
        .version = 13,
        .name = "genomefiles_pending_index_blob",
        // An analysis file is two blobs (the file and its index): a completion records both ids
        // before storing either (pending_blob_id and this), so that the recovery pass finds
        // what a killed completion stored and adopts it, or removes what was never recorded.
        .sqlite_sql = "ALTER TABLE uploads ADD COLUMN pending_index_blob_id TEXT;",
        .postgres_sql = "ALTER TABLE uploads ADD COLUMN pending_index_blob_id TEXT;",
    },
    Migration{
        .version = 14,
        .name = "variant_store",
        // The cohort variant store (issue 15): sample index, chunk index, sites, genes.
        .sqlite_sql = kVariantStoreSchema,
        .postgres_sql = kVariantStoreSchema,
    },
    Migration{
        .version = 15,
        .name = "beacon_query_budget",
        // Beacon v2 (issue 15): variant queries per user and per source address per UTC day.
        .sqlite_sql = kBeaconBudgetSchema,
        .postgres_sql = kBeaconBudgetSchema,
    },
    Migration{
        .version = 16,
        .name = "upload_expired_state",
        // An open upload whose lifetime has passed is closed with status 'expired'
        // (sequencing/upload.h, "Expiry"). SQLite cannot alter a CHECK constraint, so the
        // table is rebuilt with the same columns (nothing references uploads).
        .sqlite_sql = kUploadExpiredSqlite,
        .postgres_sql = "ALTER TABLE uploads DROP CONSTRAINT uploads_status_check; "
                        "ALTER TABLE uploads ADD CONSTRAINT uploads_status_check CHECK "
                        "(status IN ('open', 'complete', 'rejected', 'expired'));",
    },
    Migration{
        .version = 17,
        .name = "blob_copy_sites_size_and_version",
        // Storage sites (issue 17): a copy may be an object in an S3 bucket; each copy records
        // its own size and, on a versioned bucket, the version id written. Older rows: NULL
        // (the blob's size; no version).
        .sqlite_sql = "ALTER TABLE blob_copies ADD COLUMN size BIGINT; "
                      "ALTER TABLE blob_copies ADD COLUMN version_id TEXT;",
        .postgres_sql = "ALTER TABLE blob_copies ADD COLUMN size BIGINT; "
                        "ALTER TABLE blob_copies ADD COLUMN version_id TEXT;",
    },
    Migration{
        .version = 18,
        .name = "blob_site_migrations",
        // Online migration between storage sites (`zengen storage migrate`): one row per
        // migration and one per object with its state, so that a run interrupted at any point
        // resumes where it stopped (src/blobs/local_store.h, LocalStore::Migrate).
        .sqlite_sql = kBlobSiteMigrationsSchema,
        .postgres_sql = kBlobSiteMigrationsSchema,
    },
    Migration{
        .version = 19,
        .name = "analysis_runs_steps_references",
        // Uniform analysis (issue 16): runs of a versioned pipeline on a specimen, their steps
        // per attempt, the outputs they registered, and the reference genomes they name.
        .sqlite_sql = kAnalysisRunsSchema,
        .postgres_sql = kAnalysisRunsSchema,
    },
    Migration{
        .version = 20,
        .name = "variant_ingest_queue",
        // Issue 15: registered VCF/BCF outputs are ingested into the cohort store by a job,
        // with failures visible and retried (src/variants/cohort.h, IngestQueue).
        .sqlite_sql = kVariantIngestQueueSchema,
        .postgres_sql = kVariantIngestQueueSchema,
    },
    Migration{
        .version = 21,
        .name = "analysis_runs_normal_specimen",
        // Tumour/normal pair runs (issue 16): the normal specimen of a somatic run ('' for a
        // single-specimen run); specimen_id stays the tumour.
        .sqlite_sql = "ALTER TABLE analysis_runs ADD COLUMN normal_specimen_id TEXT NOT NULL "
                      "DEFAULT '';",
        .postgres_sql = "ALTER TABLE analysis_runs ADD COLUMN normal_specimen_id TEXT NOT NULL "
                        "DEFAULT '';",
    },
    Migration{
        .version = 22,
        .name = "analysis_runs_custody_pending",
        // Issue 16: a run is recorded before its specimens' custody moves and is not taken by a
        // worker until they are applied (1 until then); Recover applies what a crash left.
        .sqlite_sql = "ALTER TABLE analysis_runs ADD COLUMN custody_pending INTEGER NOT NULL "
                      "DEFAULT 0;",
        .postgres_sql = "ALTER TABLE analysis_runs ADD COLUMN custody_pending INTEGER NOT NULL "
                        "DEFAULT 0;",
    },
    Migration{
        .version = 23,
        .name = "application_documents_and_plan",
        // Issue 14: the application's documents (ethics approval, protocol, signed agreement)
        // stored encrypted in the blob store, one row per document kind, and the fields the
        // committee reads before deciding (abstract, principal investigator, collaborators as
        // a JSON array, data-security plan). Older applications: '' and '[]'.
        .sqlite_sql = kApplicationDocumentsSchema,
        .postgres_sql = kApplicationDocumentsSchema,
    },
    Migration{
        .version = 24,
        .name = "data_files_created_index",
        // Issue 15: the variant ingest sweep reads the files registered since its last pass
        // (genomefiles::CatalogueOfKindsCreated), at a cost proportional to the new files.
        .sqlite_sql = "CREATE INDEX data_files_created ON data_files (created_at);",
        .postgres_sql = "CREATE INDEX data_files_created ON data_files (created_at);",
    },
    Migration{
        .version = 25,
        .name = "variant_public_frequencies",
        // Issue 15: precomputed allele frequencies of released data per consent class for the
        // public portal (src/variants/frequencies.h).
        .sqlite_sql = kVariantPublicFrequenciesSchema,
        .postgres_sql = kVariantPublicFrequenciesSchema,
    },
    Migration{
        .version = 26,
        .name = "variant_region_merges",
        // Issue 15: a region's chunks of many batches merged into one by a rebuild job, so a
        // query reads one chunk per region however many single-sample files were ingested.
        .sqlite_sql = kVariantRegionMergesSchema,
        .postgres_sql = kVariantRegionMergesSchema,
    },
};

}  // namespace

std::span<const Migration> AllMigrations() { return kMigrations; }

}  // namespace zengen::storage
