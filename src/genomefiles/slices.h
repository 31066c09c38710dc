// Region slices of stored (Crypt4GH-encrypted) CRAM, BAM, VCF.gz and BCF files, for htsget.
//
// A stored file is two blobs: the sanitised file and its index (hts module), both Crypt4GH for
// the data center's key. A slice is planned without decrypting the file: the index blob is
// decrypted (small), the header is read from a decrypted prefix of the file, and the byte
// ranges of the file that hold the records overlapping the region are computed from the index
// — BGZF blocks for BAM/VCF.gz/BCF (virtual offsets from BAI/CSI/TBI chunks, each range
// extended to the end of the BGZF block holding the chunk's end), CRAM containers for CRAM
// (from the .crai). A client that concatenates header + body ranges + EOF gets a valid file
// holding every record overlapping the region; the edges may hold more (htsget allows it).
//
// Plaintext ranges are then served by PlainReader (object.h), which decrypts only the 64 KiB Crypt4GH
// segments covering the range (DataSpanForRange), never the whole object.
//
// Working copies: htslib reads the index and the header prefix from anonymous in-memory files
// (memfd), so no plaintext touches the disk.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "blobs/blobs.h"
#include "common/result.h"
#include "genomefiles/files.h"
#include "genomefiles/object.h"

namespace zengen::genomefiles {

struct ByteRange {
  int64_t start = 0;  // plaintext offsets, [start, end)
  int64_t end = 0;
};

struct Region {
  std::string reference;  // "*" for unplaced unmapped reads (reads only)
  std::optional<int64_t> start;  // 0-based, inclusive
  std::optional<int64_t> end;    // 0-based, exclusive
};

struct SlicePlan {
  std::string format;  // BAM | CRAM | VCF | BCF
  ByteRange header;    // the file's header blocks/containers
  std::vector<ByteRange> body;  // merged, ascending, non-overlapping
  ByteRange eof;       // the format's end-of-file marker (BGZF EOF block, CRAM EOF container)
  // header_only, for a BGZF file (BAM, VCF.gz, BCF) whose header ends inside a block that
  // holds records too: the header alone, re-compressed into its own BGZF blocks, to be served
  // instead of the `header` range. Empty otherwise (the `header` range is the header alone).
  std::string header_alone;
  std::vector<std::string> references;  // reference names in the header, in order
  std::vector<std::string> samples;     // samples in the header (@RG SM or VCF columns)
};

class SliceCache;

// Plans a slice of a stored file. `regions` empty: the whole file (every record); a region
// with reference only: that reference. header_only: no body (and header_alone when the stored
// header shares a block with records). With a cache, the file's decoded
// header and index come from it (and go into it on a miss).
// Errors (htsget types in Error::code): NotFound "NotFound" for an unknown reference name;
// kInvalidArgument "InvalidInput" for "*" on variants; store and crypt4gh errors.
Result<SlicePlan> PlanSlice(blobs::BlobStore& blobs, const UploadKeys& keys,
                            const DataFile& file, const std::vector<Region>& regions,
                            bool header_only, SliceCache* cache = nullptr);

// The decoded header facts and loaded index of stored files, kept across tickets so that a
// ticket decrypts nothing it decrypted before. Stored blobs never change, so an entry is right
// until it is evicted: least recently used first, once the decrypted indexes held pass
// max_bytes (one entry always stays). BGZF block lengths looked up for region edges are kept
// with the entry. Thread-safe.
class SliceCache {
 public:
  explicit SliceCache(size_t max_bytes = size_t{256} << 20);
  ~SliceCache();
  SliceCache(const SliceCache&) = delete;
  SliceCache& operator=(const SliceCache&) = delete;

  struct Stats {
    int64_t hits = 0;
    int64_t misses = 0;
    size_t entries = 0;
    size_t bytes = 0;
  };
  Stats stats() const;

 private:
  friend Result<SlicePlan> PlanSlice(blobs::BlobStore&, const UploadKeys&,
                                     const DataFile&, const std::vector<Region>&,
                                     bool, SliceCache*);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The whole stored VCF/BCF with only the `keep` sample columns (htslib), for a multi-sample
// file of which the caller may see some samples only. Made in memory-backed scratch space
// (/dev/shm when present): the plaintext goes to a scratch file piece by piece, htslib writes
// the subset beside it, and the stream reads that in 1 MiB pieces; the scratch folder goes
// when the stream is dropped (read or abandoned), so the heap holds one piece at a time
// whatever the file's size. Errors: kInternal "scratch_unavailable"; the reader's; htslib's.
Result<ObjectStream> SubsetSamples(blobs::BlobStore& blobs, const UploadKeys& keys,
                                   const DataFile& f, const std::vector<std::string>& keep);

}  // namespace zengen::genomefiles
