#include "variants/cohort.h"

#include <algorithm>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "crypto/crypto.h"
#include "crypto/ids.h"
#include "hts/genotypes.h"

namespace zengen::variants {
namespace {

using storage::Int;
using storage::Text;

std::string Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return std::string(s);
}

// The value of a GTF attribute (key "value"; …) or a GFF3 one (key=value;…), or "".
std::string Attribute(std::string_view attributes, std::string_view key) {
  size_t i = 0;
  while (i < attributes.size()) {
    size_t end = attributes.find(';', i);
    if (end == std::string_view::npos) end = attributes.size();
    const std::string field = Trim(attributes.substr(i, end - i));
    i = end + 1;
    std::string name;
    std::string value;
    if (auto eq = field.find('='); eq != std::string::npos) {
      name = field.substr(0, eq);
      value = field.substr(eq + 1);
    } else if (auto sp = field.find(' '); sp != std::string::npos) {
      name = field.substr(0, sp);
      value = Trim(field.substr(sp + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
    }
    if (name == key) return value;
  }
  return "";
}

bool ParsePosition(const std::string& s, int64_t& out) {
  if (s.empty() || s.size() > 12) return false;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return v >= 1;
}

}  // namespace

std::vector<GeneInterval> SyntheticGenes() {
  // Spread over the regions the demo's and the tests' files populate; intervals are made up.
  return {
      {"ZGA1", "chr1", 1, 5'000'000},          {"ZGA2", "chr1", 5'000'001, 60'000'000},
      {"ZGA3", "chr1", 60'000'001, 249'250'621}, {"ZGB1", "chr2", 1, 120'000'000},
      {"ZGB2", "chr2", 120'000'001, 243'199'373}, {"ZGT1", "chr20", 1, 30'000'000},
      {"ZGT2", "chr20", 30'000'001, 63'025'520},  {"ZGV1", "chrV", 1, 100'000},
      {"ZGV2", "chrV", 100'001, 200'000},     {"ZGZ1", "chrZ", 1, 60'000},
      {"ZGZ2", "chrZ", 60'001, 140'000},      {"ZGZ3", "chrZ", 140'001, 200'000},
  };
}

Result<std::vector<GeneInterval>> ParseGeneTable(std::istream& in) {
  std::vector<GeneInterval> genes;
  std::set<std::string> names;
  std::string line;
  int64_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> cols;
    std::stringstream ss(line);
    for (std::string col; std::getline(ss, col, '\t');) cols.push_back(col);
    const std::string where = fmt::format("line {}", n);
    if (cols.size() < 9) {
      return InvalidArgument("invalid_gene_table",
                             fmt::format("{}: 9 tab-separated columns expected", where), where);
    }
    if (cols[2] != "gene") continue;
    GeneInterval g;
    g.chrom = cols[0];
    if (!ParsePosition(cols[3], g.start) || !ParsePosition(cols[4], g.end) || g.end < g.start ||
        g.chrom.empty()) {
      return InvalidArgument("invalid_gene_table",
                             fmt::format("{}: bad contig or coordinates", where), where);
    }
    for (const char* key : {"gene_name", "Name", "gene_id", "ID"}) {
      if (g.name.empty()) g.name = Attribute(cols[8], key);
    }
    if (g.name.empty() || g.name.size() > 200) {
      return InvalidArgument("invalid_gene_table", fmt::format("{}: the gene has no name", where),
                             where);
    }
    if (!names.insert(g.name).second) {
      return InvalidArgument("duplicate_gene",
                             fmt::format("{}: gene {} is listed twice", where, g.name), where);
    }
    genes.push_back(std::move(g));
  }
  if (genes.empty()) return InvalidArgument("empty_gene_table", "no row with feature 'gene'");
  return genes;
}

Cohort::Cohort(storage::Store& store, blobs::BlobStore& blobs, ChunkSealer sealer,
               const Clock& clock, AuditSink& audit, Options options)
    : store_(store),
      blobs_(blobs),
      sealer_(std::move(sealer)),
      clock_(clock),
      audit_(audit),
      options_(std::move(options)) {}

namespace {

// How many chunks of the region were ever written (batch and merged): the next one's version
// is one more.
Result<int64_t> ChunksWritten(storage::Transaction& tx, const std::string& chrom, int64_t start) {
  ZG_ASSIGN_OR_RETURN(
      auto rows,
      tx.Query("SELECT (SELECT COUNT(*) FROM variant_chunks WHERE chrom = $1 AND region_start = $2)"
               " + (SELECT COUNT(*) FROM variant_merged_chunks WHERE chrom = $3 AND "
               "region_start = $4)",
               {Text(chrom), Int(start), Text(chrom), Int(start)}));
  return rows.rows[0].Int(0);
}

// A live chunk row: a batch's own chunk ("batch", its batch id) or a merged one ("merged", its
// id), and its blob.
struct LiveChunk {
  std::string table;
  std::string key;
  std::string blob_id;
};

}  // namespace

Result<std::string> Cohort::StoreChunk(const Chunk& chunk) {
  const std::string plain = Encode(chunk);
  ZG_ASSIGN_OR_RETURN(std::string sealed, sealer_.seal(plain));
  ZG_ASSIGN_OR_RETURN(auto writer, blobs_.Create({.kind = "other",
                                                  .tier = "hot",
                                                  .media_type = "application/vnd.ga4gh.crypt4gh",
                                                  .plaintext_sha256 = {}}));
  ZG_RETURN_IF_ERROR(writer->Write(sealed));
  ZG_ASSIGN_OR_RETURN(blobs::BlobInfo info,
                      writer->Commit(crypto::Sha256Hex(plain), static_cast<int64_t>(plain.size())));
  return info.id;
}

Status Cohort::Record(storage::Transaction& tx, AuditEvent e) {
  if (options_.audit_in_transaction) return options_.audit_in_transaction(tx, std::move(e));
  return Status::Ok();
}

Result<IngestReport> Cohort::Ingest(const SourceFile& file, const Actor& actor) {
  {
    ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
    ZG_ASSIGN_OR_RETURN(auto rows, tx->Query("SELECT id FROM variant_batches WHERE file_id = $1",
                                             {Text(file.file_id)}));
    if (!rows.empty()) {
      return Conflict("already_ingested", fmt::format("file {} is batch {} already", file.file_id,
                                                      rows.rows[0].Text(0)));
    }
  }
  ZG_ASSIGN_OR_RETURN(auto reader, hts::GenotypeReader::Open(file.path));
  const std::vector<std::string>& names = reader->samples();
  for (const auto& name : names) {
    if (!file.participants.contains(name)) {
      return InvalidArgument("sample_not_mapped",
                             fmt::format("sample {} of file {} names no participant", name,
                                         file.file_id),
                             "samples");
    }
  }

  // Bits are assigned from the current top of the index; the write transaction below
  // re-checks that nobody took them meanwhile (the primary key refuses a clash).
  uint32_t first_bit = 0;
  {
    ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
    ZG_ASSIGN_OR_RETURN(auto rows, tx->Query("SELECT COALESCE(MAX(bit) + 1, 0) FROM variant_samples"));
    first_bit = static_cast<uint32_t>(rows.rows[0].Int(0));
  }
  std::vector<uint32_t> bits(names.size());
  for (size_t i = 0; i < names.size(); ++i) bits[i] = first_bit + static_cast<uint32_t>(i);

  ChunkBuilder builder(options_.chunk_size, file.reference);
  std::map<Site, std::string> site_ids;
  hts::GenotypeRecord rec;
  IngestReport report;
  while (true) {
    ZG_ASSIGN_OR_RETURN(bool more, reader->Next(rec));
    if (!more) break;
    ++report.records;
    builder.AddRecord(rec, bits);
    for (auto& split : Split(rec.chrom, rec.pos, rec.ref, rec.alts, file.reference)) {
      site_ids.emplace(std::move(split.site), rec.id.empty() ? "." : rec.id);
    }
  }
  std::vector<Chunk> chunks = builder.Finish();

  // Store every chunk before the metadata transaction: a blob is only referenced once that
  // transaction commits (an error leaves unreferenced blobs, never a dangling reference).
  struct Stored {
    const Chunk* chunk;
    std::string blob_id;
  };
  std::vector<Stored> stored;
  for (const Chunk& c : chunks) {
    ZG_ASSIGN_OR_RETURN(std::string blob_id, StoreChunk(c));
    stored.push_back({&c, std::move(blob_id)});
  }

  report.batch_id = crypto::NewId("VB-");
  report.samples = static_cast<int64_t>(names.size());
  report.sites = static_cast<int64_t>(site_ids.size());
  report.chunks = static_cast<int64_t>(stored.size());
  const std::string now = FormatRfc3339(clock_.Now());

  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kWrite));
  ZG_RETURN_IF_ERROR(tx->Exec(
      "INSERT INTO variant_batches (id, file_id, samples, sites, created_by, created_at) "
      "VALUES ($1, $2, $3, $4, $5, $6)",
      {Text(report.batch_id), Text(file.file_id), Int(report.samples), Int(report.sites),
       Text(actor.user), Text(now)}).status());
  for (size_t i = 0; i < names.size(); ++i) {
    ZG_RETURN_IF_ERROR(tx->Exec(
        "INSERT INTO variant_samples (bit, batch_id, file_id, sample, participant_id) "
        "VALUES ($1, $2, $3, $4, $5)",
        {Int(bits[i]), Text(report.batch_id), Text(file.file_id), Text(names[i]),
         Text(file.participants.at(names[i]))}).status());
  }
  const int64_t sample_list_version = first_bit + static_cast<int64_t>(names.size());
  for (const Stored& s : stored) {
    ZG_ASSIGN_OR_RETURN(int64_t prior, ChunksWritten(*tx, s.chunk->chrom, s.chunk->start));
    ZG_RETURN_IF_ERROR(tx->Exec(
        "INSERT INTO variant_chunks (batch_id, chrom, region_start, region_end, version, "
        "sample_list_version, blob_id, sites) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        {Text(report.batch_id), Text(s.chunk->chrom), Int(s.chunk->start), Int(s.chunk->end),
         Int(prior + 1), Int(sample_list_version), Text(s.blob_id),
         Int(static_cast<int64_t>(s.chunk->sites.size()))}).status());
  }
  for (const auto& [site, id] : site_ids) {
    ZG_RETURN_IF_ERROR(tx->Exec(
        "INSERT INTO variant_sites (chrom, pos, ref, alt, id) VALUES ($1, $2, $3, $4, $5) "
        "ON CONFLICT DO NOTHING",
        {Text(site.chrom), Int(site.pos), Text(site.ref), Text(site.alt), Text(id)}).status());
  }
  AuditEvent event{.actor = actor.user.empty() ? "cli" : actor.user,
                   .source = actor.source.empty() ? "cli" : actor.source,
                   .action = "variants.ingest",
                   .resource = "variant_batch/" + report.batch_id,
                   .decision = "",
                   .reason = fmt::format("file {} added to the cohort", file.file_id),
                   .request_id = actor.request_id,
                   .details = nlohmann::json{{"file", file.file_id},
                                             {"samples", report.samples},
                                             {"first_bit", first_bit},
                                             {"sites", report.sites},
                                             {"chunks", report.chunks},
                                             {"reference", file.reference_name},
                                             {"reference_source", file.reference_source}}
                                  .dump()};
  ZG_RETURN_IF_ERROR(Record(*tx, event));
  ZG_RETURN_IF_ERROR(tx->Commit());
  if (!options_.audit_in_transaction) ZG_RETURN_IF_ERROR(audit_.Append(std::move(event)));
  return report;
}

Result<std::vector<CohortSample>> Cohort::Samples() {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(auto rows, tx->Query("SELECT bit, batch_id, file_id, sample, participant_id "
                                           "FROM variant_samples ORDER BY bit"));
  std::vector<CohortSample> out;
  out.reserve(rows.size());
  for (const auto& r : rows.rows) {
    out.push_back({static_cast<uint32_t>(r.Int(0)), r.Text(1), r.Text(2), r.Text(3), r.Text(4)});
  }
  return out;
}

Result<Chunk> Cohort::OpenChunk(const std::string& blob_id) {
  ZG_ASSIGN_OR_RETURN(auto reader, blobs_.Open(blob_id));
  ZG_ASSIGN_OR_RETURN(std::string sealed,
                      reader->ReadAt(0, static_cast<size_t>(reader->info().size)));
  ZG_ASSIGN_OR_RETURN(std::string plain, sealer_.open(sealed));
  return Decode(plain);
}

Result<std::vector<Chunk>> Cohort::Chunks(std::string_view chrom, int64_t start, int64_t end) {
  std::vector<std::string> blob_ids;
  {
    // One read transaction: the live set before or after a rebuild, never half of each.
    ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
    ZG_ASSIGN_OR_RETURN(
        auto rows,
        tx->Query("SELECT region_start, batch_id AS k, blob_id FROM variant_chunks WHERE chrom = $1"
                  " AND region_start <= $2 AND region_end > $3 AND merged_into IS NULL "
                  "UNION ALL SELECT region_start, id AS k, blob_id FROM variant_merged_chunks "
                  "WHERE chrom = $4 AND region_start <= $5 AND region_end > $6 AND "
                  "merged_into IS NULL ORDER BY 1, 2",
                  {Text(std::string(chrom)), Int(end), Int(start), Text(std::string(chrom)),
                   Int(end), Int(start)}));
    for (const auto& r : rows.rows) blob_ids.push_back(r.Text(2));
  }
  std::vector<Chunk> out;
  out.reserve(blob_ids.size());
  for (const auto& id : blob_ids) {
    ZG_ASSIGN_OR_RETURN(Chunk c, OpenChunk(id));
    out.push_back(std::move(c));
  }
  return out;
}

Result<RebuildReport> Cohort::RebuildRegion(std::string_view chrom, int64_t region_start,
                                            const MergeJob& job, std::string_view executor,
                                            const Actor& actor, std::string_view reason) {
  const int64_t size = options_.chunk_size;
  if (chrom.empty() || region_start < 1 || (region_start - 1) % size != 0) {
    return InvalidArgument("invalid_region",
                           fmt::format("region: {}:{} is not the start of a chunk region (1, {}, "
                                       "{}, …)",
                                       chrom, region_start, size + 1, 2 * size + 1),
                           "region");
  }
  RebuildReport report{.chrom = std::string(chrom), .start = region_start,
                       .end = region_start + size};
  std::vector<LiveChunk> live;
  {
    ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
    ZG_ASSIGN_OR_RETURN(
        auto rows,
        tx->Query("SELECT 'batch' AS t, batch_id AS k, blob_id FROM variant_chunks WHERE chrom = "
                  "$1 AND region_start = $2 AND merged_into IS NULL UNION ALL SELECT 'merged' AS "
                  "t, id AS k, blob_id FROM variant_merged_chunks WHERE chrom = $3 AND "
                  "region_start = $4 AND merged_into IS NULL ORDER BY 1, 2",
                  {Text(report.chrom), Int(region_start), Text(report.chrom), Int(region_start)}));
    for (const auto& r : rows.rows) live.push_back({r.Text(0), r.Text(1), r.Text(2)});
  }
  report.chunks_in = static_cast<int64_t>(live.size());
  if (live.size() < 2) return report;
  std::vector<Chunk> inputs;
  inputs.reserve(live.size());
  Roaring samples;
  for (const auto& l : live) {
    ZG_ASSIGN_OR_RETURN(Chunk c, OpenChunk(l.blob_id));
    samples |= c.samples;
    inputs.push_back(std::move(c));
  }
  const uint64_t expected = Fingerprint(inputs);
  const std::string merged_id = crypto::NewId("VM-");
  const std::string job_name =
      fmt::format("rebuild-{}-{}-{}", report.chrom, region_start, merged_id.substr(3));
  // A job that fails or answers wrongly is an audit record (a wrong answer from a compute node
  // is evidence, not only an error), then the error.
  auto refuse = [&](const Error& e) -> Error {
    (void)audit_.Append(
        {.actor = actor.user.empty() ? "cli" : actor.user,
         .source = actor.source.empty() ? "cli" : actor.source,
         .action = "variants.rebuild_failed",
         .resource = "variant_region/" + report.chrom + ":" + std::to_string(region_start),
         .decision = "",
         .reason = fmt::format("{}: {}", e.code, e.message).substr(0, 1000),
         .request_id = actor.request_id,
         .details = nlohmann::json{{"job", job_name}, {"executor", executor},
                                   {"code", e.code}, {"inputs", live.size()}}
                        .dump()});
    return e;
  };
  Result<Chunk> answered = job(inputs, job_name);
  inputs.clear();
  if (!answered.ok()) return refuse(answered.error());
  Chunk merged = std::move(*answered);
  if (merged.chrom != report.chrom || merged.start != report.start || merged.end != report.end ||
      merged.samples != samples || Fingerprint(std::span<const Chunk>(&merged, 1)) != expected) {
    return refuse(Error{ErrorKind::kInternal, "rebuild_mismatch",
                        fmt::format("the merge job's chunk for {}:{} does not hold what its {} "
                                    "inputs hold; nothing was recorded",
                                    report.chrom, region_start, live.size())});
  }
  ZG_ASSIGN_OR_RETURN(std::string blob_id, StoreChunk(merged));
  report.merged_id = merged_id;
  report.sites = static_cast<int64_t>(merged.sites.size());
  report.samples = static_cast<int64_t>(merged.samples.cardinality());

  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kWrite));
  ZG_ASSIGN_OR_RETURN(int64_t prior, ChunksWritten(*tx, report.chrom, region_start));
  ZG_ASSIGN_OR_RETURN(auto top, tx->Query("SELECT COALESCE(MAX(bit) + 1, 0) FROM variant_samples"));
  ZG_RETURN_IF_ERROR(tx->Exec(
      "INSERT INTO variant_merged_chunks (id, chrom, region_start, region_end, version, "
      "sample_list_version, blob_id, sites, samples, chunks_in, executor, merged_into, "
      "created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, NULL, $12, "
      "$13)",
      {Text(merged_id), Text(report.chrom), Int(report.start), Int(report.end), Int(prior + 1),
       Int(top.rows[0].Int(0)), Text(blob_id), Int(report.sites), Int(report.samples),
       Int(report.chunks_in), Text(std::string(executor)),
       Text(actor.user.empty() ? "cli" : actor.user), Text(FormatRfc3339(clock_.Now()))})
                         .status());
  std::vector<std::string> replaced;
  for (const auto& l : live) {
    const bool batch = l.table == "batch";
    ZG_ASSIGN_OR_RETURN(
        int64_t n,
        tx->Exec(batch ? "UPDATE variant_chunks SET merged_into = $1 WHERE batch_id = $2 AND "
                         "chrom = $3 AND region_start = $4 AND merged_into IS NULL"
                       : "UPDATE variant_merged_chunks SET merged_into = $1 WHERE id = $2 AND "
                         "chrom = $3 AND region_start = $4 AND merged_into IS NULL",
                 {Text(merged_id), Text(l.key), Text(report.chrom), Int(region_start)}));
    if (n != 1) {
      return Conflict("region_changed",
                      fmt::format("region {}:{} was rebuilt by another job meanwhile; nothing "
                                  "was recorded",
                                  report.chrom, region_start));
    }
    replaced.push_back(l.key);
  }
  AuditEvent event{.actor = actor.user.empty() ? "cli" : actor.user,
                   .source = actor.source.empty() ? "cli" : actor.source,
                   .action = "variants.rebuild",
                   .resource = "variant_region/" + report.chrom + ":" + std::to_string(region_start),
                   .decision = "",
                   .reason = reason.empty()
                                 ? fmt::format("{} chunks merged into {}", live.size(), merged_id)
                                 : std::string(reason),
                   .request_id = actor.request_id,
                   .details = nlohmann::json{{"merged", merged_id},
                                             {"replaced", replaced},
                                             {"sites", report.sites},
                                             {"samples", report.samples},
                                             {"executor", executor}}
                                  .dump()};
  ZG_RETURN_IF_ERROR(Record(*tx, event));
  ZG_RETURN_IF_ERROR(tx->Commit());
  if (!options_.audit_in_transaction) ZG_RETURN_IF_ERROR(audit_.Append(std::move(event)));
  return report;
}

Result<std::vector<RegionLoad>> Cohort::CrowdedRegions(int64_t min_chunks, int64_t limit) {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(
      auto rows,
      tx->Query("SELECT chrom, region_start, COUNT(*) FROM (SELECT chrom, region_start FROM "
                "variant_chunks WHERE merged_into IS NULL UNION ALL SELECT chrom, region_start "
                "FROM variant_merged_chunks WHERE merged_into IS NULL) AS live GROUP BY chrom, "
                "region_start HAVING COUNT(*) >= $1 ORDER BY 3 DESC, 1, 2 LIMIT $2",
                {Int(std::max<int64_t>(min_chunks, 1)), Int(std::max<int64_t>(limit, 0))}));
  std::vector<RegionLoad> out;
  for (const auto& r : rows.rows) out.push_back({r.Text(0), r.Int(1), r.Int(2)});
  return out;
}

Result<std::map<Site, std::string>> Cohort::SiteIds(std::string_view chrom, int64_t start,
                                                    int64_t end) {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(auto rows, tx->Query("SELECT pos, ref, alt, id FROM variant_sites WHERE "
                                           "chrom = $1 AND pos >= $2 AND pos <= $3",
                                           {Text(std::string(chrom)), Int(start), Int(end)}));
  std::map<Site, std::string> out;
  for (const auto& r : rows.rows) {
    out.emplace(Site{std::string(chrom), r.Int(0), r.Text(1), r.Text(2)}, r.Text(3));
  }
  return out;
}

Status Cohort::LoadGenes(const std::vector<GeneInterval>& genes, const Actor& actor) {
  if (genes.empty()) return InvalidArgument("empty_gene_table", "no genes to load");
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kWrite));
  ZG_RETURN_IF_ERROR(tx->Exec("DELETE FROM variant_genes").status());
  for (const auto& g : genes) {
    ZG_RETURN_IF_ERROR(tx->Exec("INSERT INTO variant_genes (name, chrom, gene_start, gene_end) "
                                "VALUES ($1, $2, $3, $4)",
                                {Text(g.name), Text(g.chrom), Int(g.start), Int(g.end)})
                           .status());
  }
  AuditEvent event{.actor = actor.user.empty() ? "cli" : actor.user,
                   .source = actor.source.empty() ? "cli" : actor.source,
                   .action = "variants.genes",
                   .resource = "variant_genes",
                   .decision = "",
                   .reason = fmt::format("gene table replaced ({} genes)", genes.size()),
                   .request_id = actor.request_id,
                   .details = nlohmann::json{{"genes", genes.size()}}.dump()};
  ZG_RETURN_IF_ERROR(Record(*tx, event));
  ZG_RETURN_IF_ERROR(tx->Commit());
  if (!options_.audit_in_transaction) ZG_RETURN_IF_ERROR(audit_.Append(std::move(event)));
  return Status::Ok();
}

Result<GeneInterval> Cohort::Gene(std::string_view name) {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(auto rows, tx->Query("SELECT name, chrom, gene_start, gene_end FROM "
                                           "variant_genes WHERE name = $1",
                                           {Text(std::string(name))}));
  if (rows.empty()) return NotFound("gene_not_found", fmt::format("no gene '{}'", name));
  const auto& r = rows.rows[0];
  return GeneInterval{r.Text(0), r.Text(1), r.Int(2), r.Int(3)};
}

IngestQueue::IngestQueue(storage::Store& store, const Clock& clock, AuditSink& audit,
                         IngestFn ingest, Options options)
    : store_(store),
      clock_(clock),
      audit_(audit),
      ingest_(std::move(ingest)),
      options_(options) {}

Result<int64_t> IngestQueue::Enqueue(const std::vector<std::string>& file_ids) {
  if (file_ids.empty()) return int64_t{0};
  const std::string now = FormatRfc3339(clock_.Now());
  int64_t added = 0;
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kWrite));
  for (const auto& id : file_ids) {
    ZG_ASSIGN_OR_RETURN(auto n, tx->Exec("INSERT INTO variant_ingest_queue (file_id, state, "
                                         "attempts, last_error, next_attempt_at, batch_id, "
                                         "created_at, updated_at) VALUES ($1, 'pending', 0, '', "
                                         "$2, '', $2, $2) ON CONFLICT DO NOTHING",
                                         {Text(id), Text(now)}));
    added += n;
  }
  ZG_RETURN_IF_ERROR(tx->Commit());
  return added;
}

Result<IngestQueue::Tick> IngestQueue::RunDue() {
  const auto now_tp = clock_.Now();
  const std::string now = FormatRfc3339(now_tp);
  std::vector<std::pair<std::string, int64_t>> due;
  {
    ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
    ZG_ASSIGN_OR_RETURN(auto rows, tx->Query("SELECT file_id, attempts FROM variant_ingest_queue "
                                             "WHERE state IN ('pending', 'failed') AND "
                                             "next_attempt_at <= $1 ORDER BY next_attempt_at, "
                                             "file_id",
                                             {Text(now)}));
    for (const auto& r : rows.rows) due.emplace_back(r.Text(0), r.Int(1));
  }
  Tick tick;
  for (const auto& [file_id, attempts] : due) {
    auto report = ingest_(file_id);
    std::string batch_id;
    if (report.ok()) {
      batch_id = report->batch_id;
      ++tick.ingested;
    } else if (report.error().code == "already_ingested") {
      ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
      ZG_ASSIGN_OR_RETURN(auto rows, tx->Query("SELECT id FROM variant_batches WHERE file_id = $1",
                                               {Text(file_id)}));
      if (!rows.empty()) batch_id = rows.rows[0].Text(0);
      ++tick.already;
    }
    const std::string at = FormatRfc3339(clock_.Now());
    ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kWrite));
    if (report.ok() || !batch_id.empty()) {
      ZG_RETURN_IF_ERROR(tx->Exec("UPDATE variant_ingest_queue SET state = 'done', attempts = $2, "
                                  "last_error = '', batch_id = $3, updated_at = $4 WHERE "
                                  "file_id = $1",
                                  {Text(file_id), Int(attempts + 1), Text(batch_id), Text(at)})
                             .status());
      ZG_RETURN_IF_ERROR(tx->Commit());
      continue;
    }
    ++tick.failed;
    // Backoff: first_retry · 2^(attempts), at most max_retry.
    auto wait = options_.first_retry;
    for (int64_t i = 0; i < attempts && wait < options_.max_retry; ++i) wait *= 2;
    wait = std::min(wait, options_.max_retry);
    const std::string error =
        fmt::format("{}: {}", report.error().code, report.error().message).substr(0, 2000);
    ZG_RETURN_IF_ERROR(tx->Exec("UPDATE variant_ingest_queue SET state = 'failed', attempts = $2, "
                                "last_error = $3, next_attempt_at = $4, updated_at = $5 WHERE "
                                "file_id = $1",
                                {Text(file_id), Int(attempts + 1), Text(error),
                                 Text(FormatRfc3339(now_tp + wait)), Text(at)})
                           .status());
    ZG_RETURN_IF_ERROR(tx->Commit());
    ZG_RETURN_IF_ERROR(audit_.Append(
        {.actor = "system",
         .source = "cli",
         .action = "variants.ingest_failed",
         .resource = "data_file/" + file_id,
         .decision = "",
         .reason = fmt::format("automatic ingest attempt {} failed; retried after {} s",
                               attempts + 1, wait.count()),
         .request_id = "",
         .details = nlohmann::json{{"file", file_id},
                                   {"attempt", attempts + 1},
                                   {"error", error},
                                   {"retry_in_seconds", wait.count()}}
                        .dump()}));
  }
  return tick;
}

Result<std::vector<IngestJob>> IngestQueue::List(std::string_view state, int64_t limit) {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(
      auto rows,
      tx->Query("SELECT file_id, state, attempts, last_error, next_attempt_at, batch_id, "
                "updated_at FROM variant_ingest_queue WHERE ($1 = '' OR state = $1) ORDER BY "
                "updated_at DESC, file_id LIMIT $2",
                {Text(std::string(state)), Int(limit)}));
  std::vector<IngestJob> out;
  for (const auto& r : rows.rows) {
    out.push_back({r.Text(0), r.Text(1), r.Int(2), r.Text(3), r.Text(4), r.Text(5), r.Text(6)});
  }
  return out;
}

}  // namespace zengen::variants
