// The cohort variant store's genotype level (issue 15; R4.1, R4.6, R4.9): genotypes of many
// samples kept as immutable region chunks of per-site carrier bitmaps (CRoaring), from which
// consent-filtered allele counts are popcounts: AC = 2·|hom ∧ allowed| + |het ∧ allowed|.
//
// Model.
//   - Every sample of the cohort has a dense index (uint32). A batch is the set of samples
//     added together (a registered single-sample VCF/BCF each, or one joint VCF); batches are
//     never rewritten: adding samples adds chunks.
//   - A chunk holds one region [start, end) of one contig for one batch: the batch's samples
//     and, per site, the bitmaps of samples carrying one alternate copy (het), two (hom), and
//     of no-calls. A sample of the batch absent from a site is homozygous reference there
//     (`bcftools merge -0` semantics: single-sample WGS VCFs list only variant sites).
//   - Sites are biallelic: a multi-allelic record is split into one site per alternate allele
//     (a 1/2 genotype is het at both), and each allele pair is trimmed of common leading and
//     trailing bases (bcftools norm -m -any); when the file's reference is known (a
//     ReferenceBases given to the builder) indels are also left-aligned (bcftools norm -f), so
//     the same indel written two ways in two files is one site. Symbolic and '*'
//     alleles are skipped. Calls are diploid; a call with any missing allele is a no-call;
//     haploid calls are no-calls.
//   - AN counts every allowed sample that is not a no-call, twice. The allowed set holds
//     cohort samples only (bits of the sample index): a cohort sample is homozygous reference
//     at every site it is not listed at, also in a region where its batch has no chunk (a
//     single-sample file with no variant there), as `bcftools merge -0` makes it.
//
// Chunks are encoded (Encode) as a zstd-compressed binary (magic "ZGVC1"), so they can live in
// the blob store and follow it to S3 and across sites; Decode checks every length and refuses
// anything malformed (kInvalidArgument "bad_chunk").
#pragma once

#include <compare>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <roaring/roaring.hh>

#include "common/result.h"
#include "hts/genotypes.h"

namespace zengen::variants {

struct Site {
  std::string chrom;
  int64_t pos = 0;  // 1-based
  std::string ref;
  std::string alt;
  auto operator<=>(const Site&) const = default;
};

// The reference a file's variants were called against, for left-alignment: the bases of chrom
// in [start, end] (1-based, inclusive), upper case; shorter than asked past the contig's end,
// empty for an unknown contig. An empty function means "reference unknown".
using ReferenceBases =
    std::function<std::string(std::string_view chrom, int64_t start, int64_t end)>;

// An indexed FASTA (its .fai beside it, as samtools faidx writes it) read through htslib.
// Not thread-safe: one ingest at a time per returned function. Errors: kInvalidArgument
// "unreadable_reference".
Result<ReferenceBases> OpenFastaReference(const std::filesystem::path& fasta);

// Left-aligns one biallelic, trimmed site against the reference (bcftools norm -f): an indel
// in a repeat moves to its leftmost equivalent position, then common leading bases are trimmed
// keeping one. Unchanged for substitutions, when the reference is unknown, when REF does not
// match the reference there (bcftools would refuse the record), or when the indel reaches the
// contig's first base.
Site LeftAlign(Site site, const ReferenceBases& reference);

// Splits one record into biallelic, trimmed sites: one per usable alternate allele, with the
// allele index it came from; with a reference, each site is also left-aligned (LeftAlign), so
// the same variant written two ways is one site.
struct SplitAllele {
  Site site;
  int allele = 0;  // 1-based index into the record's alternates
};
std::vector<SplitAllele> Split(std::string_view chrom, int64_t pos, std::string_view ref,
                               const std::vector<std::string>& alts,
                               const ReferenceBases& reference = {});

// The carriers of one kind (het, hom or no-call) at one site of a chunk: a sorted run of the
// chunk's member pool, and, when the set is large for its span, a dense copy (64-bit words of
// the chunk's word pool from word `base` on) for popcounts of a word-wise AND. Offsets, not
// pointers: a chunk is moved and copied freely.
struct CallSet {
  uint32_t at = 0;        // first member in Chunk::members
  uint32_t n = 0;         // members
  uint32_t base = 0;      // dense form: first word's index in the sample space (sample / 64)
  uint32_t words_at = 0;  // dense form: first word in Chunk::words
  uint32_t words = 0;     // dense form: word count (0: no dense form)
};

struct SiteCalls {
  Site site;
  CallSet het;
  CallSet hom;
  CallSet nocall;
};

// A chunk: one region [start, end) of one contig for one batch. Its sites' calls are flat
// (one member pool and one word pool per chunk) so that decoding and counting allocate per
// chunk, not per site.
struct Chunk {
  std::string chrom;
  int64_t start = 0;  // 1-based, inclusive
  int64_t end = 0;    // exclusive
  Roaring samples;    // the batch's samples
  std::vector<SiteCalls> sites;  // sorted by site, unique
  std::vector<uint32_t> members;  // every site's het, hom and no-call members, each run sorted
  std::vector<uint64_t> words;    // dense forms of the large runs
  // A small batch (its samples span at most kFixedWords words of the sample space) also keeps
  // every site's het, hom and no-call sets as fixed-width bitsets, `fixed_words` words each from
  // word `fixed_base` on, three per site in site order (het, hom, no-call): counting a site is
  // then a few ANDs and popcounts with no branch on the set's size. Not stored (Encode writes
  // the members only); Prepare rebuilds it.
  uint32_t fixed_base = 0;
  uint32_t fixed_words = 0;  // 0: no fixed-width form; else 1, 2, 4 or 8
  std::vector<uint64_t> fixed;

  std::span<const uint32_t> Members(const CallSet& c) const {
    return {members.data() + c.at, c.n};
  }
};

// The widest batch (in 64-sample words) kept as fixed-width bitsets: 8 words = 512 samples,
// 192 bytes per site in memory.
inline constexpr uint32_t kFixedWords = 8;

// Builds the dense forms of a chunk's large het and hom runs (those with more members than
// words in their span) and, for a small batch, the fixed-width bitsets. Decode and
// ChunkBuilder::Finish call it.
void Prepare(Chunk& chunk);

std::string Encode(const Chunk& chunk);
Result<Chunk> Decode(std::string_view bytes);

// Builds one batch's chunks from VCF/BCF records. Regions are aligned to multiples of
// chunk_size (1-based: [k·size+1, (k+1)·size+1)).
class ChunkBuilder {
 public:
  // With a reference, sites are left-aligned against it (Split).
  explicit ChunkBuilder(int64_t chunk_size = 100'000, ReferenceBases reference = {});
  // Adds every record of reader; sample_index[i] is the cohort index of the reader's i-th
  // sample. Every listed sample joins the batch, also where it carries nothing.
  // Errors: kInvalidArgument "sample_map_mismatch" when the sizes differ; the reader's errors.
  Status Add(hts::GenotypeReader& reader, const std::vector<uint32_t>& sample_index);
  // Adds one record directly (tests, importers).
  void AddRecord(const hts::GenotypeRecord& record, const std::vector<uint32_t>& sample_index);
  // The batch's chunks that hold at least one site, in (chrom, start) order.
  std::vector<Chunk> Finish();

 private:
  struct Calls {
    Roaring het, hom, nocall;
  };
  int64_t chunk_size_;
  ReferenceBases reference_;
  Roaring samples_;
  // (contig, region index) -> site -> calls
  std::map<std::pair<std::string, int64_t>, std::map<Site, Calls>> regions_;
};

// Merges the chunks of several batches over one region into one chunk standing for all of
// them (a region rebuild, cohort.h): its samples are the union of theirs, each site's het, hom
// and no-call sets the union of the batches' sets at that site; a sample of a batch that does
// not list a site stays homozygous reference there, as before. Count, CountEvery and Genotypes
// answer the same over the result as over the parts, for every allowed set. Errors:
// kInvalidArgument "no_chunks" for none; "region_mismatch" when the chunks are not all the same
// contig and region; "overlapping_batches" when two chunks share a sample (batches are
// disjoint: merging two views of one batch would count it twice).
Result<Chunk> Merge(std::span<const Chunk> chunks);

// An order-independent fingerprint of what a set of chunks says: every (site, het/hom/no-call,
// sample) call and every batch sample. Equal for a merged chunk and its parts; a lost, added or
// moved call changes it (with overwhelming probability). Used to check a merge that ran
// elsewhere (an executor job) without redoing it.
uint64_t Fingerprint(std::span<const Chunk> chunks);

// `site` refers to the site as held by the chunks given to Count (no strings are copied per
// site): a SiteCount is valid as long as those chunks are.
struct SiteCount {
  const Site& site;
  int64_t ac = 0;
  int64_t an = 0;
  int64_t het = 0;
  int64_t hom = 0;
  double af() const { return an == 0 ? 0.0 : static_cast<double>(ac) / static_cast<double>(an); }
};

// Sites of chrom with start <= pos <= end that at least one allowed sample carries, with
// their counts over the allowed samples, from the chunks of every batch covering the region
// (chunks of other contigs or regions are ignored). Sorted by site. `allowed` holds cohort
// samples only (see AN above).
std::vector<SiteCount> Count(std::span<const Chunk> chunks, std::string_view chrom,
                             int64_t start, int64_t end, const Roaring& allowed);

// As Count, but every site of the region's chunks, also those no allowed sample carries (AC 0
// with its AN): the per-class tables of the public frequencies (frequencies.h) need the AN of
// every class at every site any class shows.
std::vector<SiteCount> CountEvery(std::span<const Chunk> chunks, std::string_view chrom,
                                  int64_t start, int64_t end, const Roaring& allowed);

// The genotype (0, 1, 2 alternate copies; -1 no call) of each of `samples` at each site that
// Count returns for the same arguments with allowed = samples (cohort samples only). A sample
// not listed at a site is 0 there, also when its batch has no chunk in the region.
struct SiteGenotypes {
  Site site;
  std::vector<int> genotypes;  // parallel to samples
};
std::vector<SiteGenotypes> Genotypes(std::span<const Chunk> chunks, std::string_view chrom,
                                     int64_t start, int64_t end,
                                     const std::vector<uint32_t>& samples);

}  // namespace zengen::variants
