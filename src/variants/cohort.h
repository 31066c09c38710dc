// The cohort variant store (issue 15; R4.1, R4.6, R4.9): the genotype chunks of variants.h
// kept in the blob store, and their index, the cohort's samples, the variant sites and the gene
// table in the metadata store (migration "variant_store").
//
// Tables.
//   variant_batches  one row per ingested file (a registered single-sample or joint VCF/BCF):
//                    a batch is never rewritten; a file is ingested at most once.
//   variant_samples  the cohort's sample index: bit (dense, 0, 1, 2, … in ingest order) ↔ the
//                    file's sample name ↔ the participant pseudonym. Bits are never reused.
//   variant_chunks   one row per stored chunk: batch, contig, region [start, end), the region's
//                    version (1 + the number of chunks of that region written before it, over
//                    every batch), the sample-list version (how many samples the index held
//                    when it was written: its bits are all below it) and the blob id.
//   variant_sites    one row per biallelic, trimmed site (chrom, pos, ref, alt) with the VCF
//                    ID of the first file that named it ('.' when none).
//   variant_genes    the gene table (name → contig and 1-based inclusive interval), replaced
//                    as a whole by LoadGenes.
//
// Incremental by construction: Ingest adds one batch's chunks and never reads or rewrites
// another batch's, so adding N samples costs the N samples' records, not the cohort's. Queries
// read the live chunks that cover the region and combine them (variants::Count).
//
// Region rebuilds (migration "variant_region_merges"): after many single-sample files a
// region has one chunk per file, and a query reads and walks them all. RebuildRegion merges a
// region's live chunks into one (variants::Merge), run by a MergeJob — in this process, or as
// a job on the analysis executor (cwltool here, Slurm on the supercomputer; app/region_rebuild.h)
// — checks the job's answer against its inputs (samples and variants::Fingerprint), stores it
// sealed, and in one transaction records it in variant_merged_chunks and marks the chunks it
// replaces (`merged_into`). Only live chunks (merged_into NULL) are read by queries; replaced
// ones stay (their blobs too) and are never read again. Nothing is rewritten in place: a batch
// ingested while the job ran stays live beside the merged chunk, and a rebuild whose inputs
// changed meanwhile (another rebuild of the region) records nothing (kConflict).
//
// Chunks are sealed (ChunkSealer: Crypt4GH for the data centre's key in production) before
// they reach the blob store, which only ever receives ciphertext, so they follow it to other
// roots and sites like every genome file.
//
// Thread safety: Cohort is thread-safe (the stores are); ingests of different files may run
// at once, but two concurrent ingests may race for the same sample bits: the second then fails
// with kConflict "unique_violation" and leaves nothing (its chunks' blobs stay unreferenced,
// as after any failed commit).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <istream>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "blobs/blobs.h"
#include "common/actor.h"
#include "common/audit_event.h"
#include "common/clock.h"
#include "common/result.h"
#include "storage/store.h"
#include "variants/variants.h"

namespace zengen::variants {

// Seals chunk bytes before they are stored and opens them after they are read.
struct ChunkSealer {
  std::function<Result<std::string>(std::string_view plain)> seal;
  std::function<Result<std::string>(std::string_view sealed)> open;
};

// A registered VCF/BCF, readable in plaintext at path for the time of the ingest.
struct SourceFile {
  std::string file_id;
  std::filesystem::path path;
  // Sample name in the file → participant pseudonym; every sample of the file must be listed.
  std::map<std::string, std::string> participants;
  // The reference the file was called against, when known: indels are left-aligned against
  // it (variants.h LeftAlign). Empty: sites are split and trimmed only.
  ReferenceBases reference;
  // Which reference that is, for the audit record: {name, source} (references.h), "" when none.
  std::string reference_name;
  std::string reference_source;
};

struct CohortSample {
  uint32_t bit = 0;
  std::string batch_id;
  std::string file_id;
  std::string sample;
  std::string participant_id;
};

struct IngestReport {
  std::string batch_id;  // "VB-" + 16 upper-case hex
  int64_t samples = 0;
  int64_t records = 0;
  int64_t sites = 0;   // distinct biallelic sites of the file
  int64_t chunks = 0;
  std::string reference;         // the registered name left-aligned against ("" none or site)
  std::string reference_source;  // analysis_run | header | site | ""
};

// A region rebuild's merge, given the region's live chunks (decoded, in plaintext); `job` names
// it (for an executor's logs). Returns the merged chunk. The in-process job is variants::Merge.
using MergeJob = std::function<Result<Chunk>(const std::vector<Chunk>& chunks, std::string_view job)>;

// The merge in this process (variants::Merge).
inline MergeJob InProcessMergeJob() {
  return [](const std::vector<Chunk>& chunks, std::string_view) { return Merge(chunks); };
}

struct RebuildReport {
  std::string chrom;
  int64_t start = 0;  // the region, 1-based, [start, end)
  int64_t end = 0;
  int64_t chunks_in = 0;   // live chunks before
  std::string merged_id;   // "VM-" + 16 upper-case hex; "" when nothing was merged
  int64_t sites = 0;
  int64_t samples = 0;
};

// A region and how many live chunks it has.
struct RegionLoad {
  std::string chrom;
  int64_t start = 0;
  int64_t chunks = 0;
};

struct GeneInterval {
  std::string name;
  std::string chrom;
  int64_t start = 0;  // 1-based, inclusive
  int64_t end = 0;    // inclusive
};

// A small gene table on the contigs of the demo and test files (chr1, chr2, chr20, chrV and
// the demo's chrZ): made-up
// names (ZG-prefixed) over fixed intervals, generated here rather than copied from a
// third-party annotation.
std::vector<GeneInterval> SyntheticGenes();

// Reads genes from GTF (attribute gene_name "X", else gene_id) or GFF3 (Name=X, else
// gene_name=, else ID=) text: rows whose feature (column 3) is "gene"; '#' lines are skipped.
// Errors: kInvalidArgument "invalid_gene_table" naming the line ("line N") for a row with too
// few columns, bad coordinates or no name; "empty_gene_table" when no gene row was found;
// "duplicate_gene" naming the line of a second row with the same name.
Result<std::vector<GeneInterval>> ParseGeneTable(std::istream& in);

class Cohort {
 public:
  struct Options {
    int64_t chunk_size = 100'000;
    // When set, the audit record of an ingest or gene-table load is appended inside the
    // metadata transaction that records it (audit::AppendInTransaction); otherwise to the
    // sink after the commit.
    std::function<Status(storage::Transaction&, AuditEvent)> audit_in_transaction;
  };
  // Every reference must outlive the object.
  Cohort(storage::Store& store, blobs::BlobStore& blobs, ChunkSealer sealer, const Clock& clock,
         AuditSink& audit, Options options);

  // Adds a file's samples to the index, its chunks to the blob store and its sites, in one
  // metadata transaction with its "variants.ingest" audit record. Splitting and trimming happen
  // here, and left-alignment when the file's reference is given. Errors:
  // kConflict "already_ingested" (the file is a batch already); kInvalidArgument
  // "sample_not_mapped" naming the sample when a sample has no participant, the reader's
  // errors ("unreadable_vcf", "malformed_record"); the stores' errors. Nothing is recorded on
  // any error.
  Result<IngestReport> Ingest(const SourceFile& file, const Actor& actor);

  // The whole sample index, by bit.
  Result<std::vector<CohortSample>> Samples();

  // The live chunks that overlap chrom:[start, end] (1-based, inclusive), opened and decoded:
  // each batch's own, or the merged chunk standing for it. Errors: the stores';
  // kInvalidArgument "bad_chunk" for a stored chunk that does not decode.
  Result<std::vector<Chunk>> Chunks(std::string_view chrom, int64_t start, int64_t end);

  // Merges the live chunks of the region starting at region_start (a chunk boundary: 1,
  // chunk_size + 1, …) into one, by `job`; `executor` names where the job runs (recorded). With
  // fewer than two live chunks nothing is done (merged_id ""). The job's chunk must be the
  // region, hold exactly the inputs' samples and have their Fingerprint, else kInternal
  // "rebuild_mismatch" and nothing is recorded; a failing or mismatching job is a
  // "variants.rebuild_failed" audit record naming the job, the executor and the code. Recorded in one transaction with its
  // "variants.rebuild" audit record (reason given by the caller). Errors: kInvalidArgument
  // "invalid_region" (field "region") when region_start is not a chunk boundary; kConflict
  // "region_changed" when another rebuild replaced an input meanwhile; the job's errors; the
  // stores'. On any error the region's live chunks are as before.
  Result<RebuildReport> RebuildRegion(std::string_view chrom, int64_t region_start,
                                      const MergeJob& job, std::string_view executor,
                                      const Actor& actor, std::string_view reason);

  // The regions with at least min_chunks live chunks, the most first, at most `limit`.
  Result<std::vector<RegionLoad>> CrowdedRegions(int64_t min_chunks, int64_t limit);

  int64_t chunk_size() const { return options_.chunk_size; }

  // The VCF ID of each site ('.' when unknown), keyed by site.
  Result<std::map<Site, std::string>> SiteIds(std::string_view chrom, int64_t start,
                                              int64_t end);

  // Replaces the gene table in one transaction with a "variants.genes" audit record.
  // Errors: kInvalidArgument "empty_gene_table"; the store's.
  Status LoadGenes(const std::vector<GeneInterval>& genes, const Actor& actor);
  // Errors: kNotFound "gene_not_found".
  Result<GeneInterval> Gene(std::string_view name);

 private:
  Status Record(storage::Transaction& tx, AuditEvent e);
  // Seals a chunk and stores it; returns its blob id.
  Result<std::string> StoreChunk(const Chunk& chunk);
  // Reads, opens and decodes a stored chunk.
  Result<Chunk> OpenChunk(const std::string& blob_id);

  storage::Store& store_;
  blobs::BlobStore& blobs_;
  ChunkSealer sealer_;
  const Clock& clock_;
  AuditSink& audit_;
  Options options_;
};

// Automatic ingest (issue 15): registered VCF/BCF files reach the cohort store without a
// steward's request. A job (the server's sweep) hands the queue the files registered since it
// last looked (Enqueue) and runs the due ones (RunDue) through `ingest` (Cohort::Ingest of the
// file's working copy). Table variant_ingest_queue (migration "variant_ingest_queue").
//
//   - Idempotent: a file is queued once (Enqueue of a queued or done file changes nothing), and
//     a file that is already a batch (a steward ingested it meanwhile) is marked done with that
//     batch, never ingested twice.
//   - Never half-ingested: Cohort::Ingest records a file's samples, chunks and sites in one
//     transaction; a failure leaves nothing but the queue row.
//   - A failure is visible and retried: the row becomes "failed" with the attempt count and
//     the error ("code: message"), an audit record "variants.ingest_failed" is written, and
//     the file is due again after a backoff that doubles from `first_retry` up to `max_retry`.
//
// Thread safety: one runner at a time (the server's sweep thread); Enqueue may be called from
// any thread.
struct IngestJob {
  std::string file_id;
  std::string state;  // pending | failed | done
  int64_t attempts = 0;
  std::string last_error;
  std::string next_attempt_at;
  std::string batch_id;
  std::string updated_at;
};

class IngestQueue {
 public:
  struct Options {
    std::chrono::seconds first_retry{30};
    std::chrono::seconds max_retry{std::chrono::hours(6)};
  };
  // Errors of `ingest` are the job's failure; kConflict "already_ingested" means done.
  using IngestFn = std::function<Result<IngestReport>(std::string_view file_id)>;
  // Every reference must outlive the object.
  IngestQueue(storage::Store& store, const Clock& clock, AuditSink& audit, IngestFn ingest,
              Options options);

  // Queues the files not queued yet; returns how many were added.
  Result<int64_t> Enqueue(const std::vector<std::string>& file_ids);

  struct Tick {
    int64_t ingested = 0;
    int64_t failed = 0;
    int64_t already = 0;  // done without an ingest: the file was a batch already
  };
  // Runs every pending or failed job whose next attempt is due, oldest first.
  Result<Tick> RunDue();

  // The jobs in `state` ("" for all), most recently updated first, at most `limit`.
  Result<std::vector<IngestJob>> List(std::string_view state, int64_t limit);

 private:
  storage::Store& store_;
  const Clock& clock_;
  AuditSink& audit_;
  IngestFn ingest_;
  Options options_;
};

}  // namespace zengen::variants
