#include "analysis/registry.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>

#include <fmt/format.h>

#include "crypto/crypto.h"
#include "crypto/sha256_stream.h"

namespace zengen::analysis {
namespace {

namespace fs = std::filesystem;

using crypto::Sha256Stream;

}  // namespace

Result<std::string> FileSha256(const fs::path& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Internal("read_failed", "cannot read " + path.filename().string());
  Sha256Stream h;
  std::string buf(1 << 20, '\0');
  while (f) {
    f.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    h.Update(std::string_view(buf.data(), static_cast<size_t>(f.gcount())));
  }
  return h.HexFinal();
}

Registry::Registry(storage::Store& store, const Clock& clock, AuditSink& audit,
                   blobs::BlobStore& blobs, specimens::Specimens& specimens,
                   sequencing::Uploads& files, fs::path staging_dir)
    : store_(store), clock_(clock), audit_(audit), blobs_(blobs), specimens_(specimens),
      files_(files), staging_dir_(std::move(staging_dir)) {
  fs::create_directories(staging_dir_);
  fs::permissions(staging_dir_, fs::perms::owner_all, fs::perm_options::replace);
}

Result<std::vector<genomefiles::DataFile>> Registry::QcPassedPair(std::string_view participant_id,
                                                                 std::string_view specimen_id) {
  ZG_ASSIGN_OR_RETURN(auto files, files_.files().ListFiles(participant_id));
  // Newest run first: the files are listed oldest first.
  std::reverse(files.begin(), files.end());
  for (const auto& f : files) {
    if (f.kind != "fastq" || f.specimen_id != specimen_id || f.run_id.empty()) continue;
    ZG_ASSIGN_OR_RETURN(auto run, files_.GetRun(f.run_id));
    if (run.status != "qc_passed" || run.layout != "paired") continue;
    ZG_ASSIGN_OR_RETURN(auto pair, files_.files().ListRunFiles(run.id));
    std::sort(pair.begin(), pair.end(), [](const auto& a, const auto& b) { return a.read < b.read; });
    if (pair.size() == 2 && pair[0].read == 1 && pair[1].read == 2) return pair;
  }
  return Conflict("no_qc_passed_fastq",
                  "the specimen has no paired sequencing run whose QC passed", "specimen_id");
}

Result<genomefiles::DataFile> Registry::File(std::string_view file_id) {
  return files_.files().GetFile(file_id);
}

Status Registry::Decrypt(const genomefiles::DataFile& file, const fs::path& dest) {
  ZG_ASSIGN_OR_RETURN(auto stream,
                      genomefiles::OpenObjectStream(blobs_, file.blob_id, files_.keys(), ""));
  const int fd = open(dest.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Internal("write_failed", "cannot create an input in the scratch directory");
  Sha256Stream h;
  Status st = Status::Ok();
  for (;;) {
    auto piece = stream.next();
    if (!piece.ok()) {
      st = piece.error();
      break;
    }
    if (piece->empty()) break;
    h.Update(*piece);
    for (size_t off = 0; off < piece->size();) {
      const ssize_t n = write(fd, piece->data() + off, piece->size() - off);
      if (n <= 0) {
        close(fd);
        return Internal("write_failed", "cannot write an input into the scratch directory");
      }
      off += static_cast<size_t>(n);
    }
  }
  close(fd);
  if (!st.ok()) return st;
  if (h.HexFinal() != file.sha256) {
    return Internal("checksum_mismatch", fmt::format("{} does not match its checksum", file.id));
  }
  return Status::Ok();
}

Result<Presanitised> Registry::Presanitise(std::string_view kind, const fs::path& path,
                                           std::string_view pseudonym, const fs::path& reference,
                                           const fs::path& work_dir) {
  std::error_code ec;
  fs::create_directories(work_dir, ec);
  fs::permissions(work_dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  Presanitised p;
  p.kind = std::string(kind);
  p.pseudonym = std::string(pseudonym);
  p.reference = reference;
  ZG_ASSIGN_OR_RETURN(p.input_sha256, FileSha256(path));
  ZG_ASSIGN_OR_RETURN(p.file, genomefiles::HtsSanitiser(reference)(kind, path, work_dir,
                                                                  pseudonym, {}));
  return p;
}

Result<genomefiles::DataFile> Registry::RegisterOutput(std::string_view kind,
                                                      std::string_view specimen_id,
                                                      const std::vector<std::string>& derived_from,
                                                      const fs::path& path,
                                                      std::string_view file_name,
                                                      const fs::path& reference,
                                                      std::string_view sha256, const Actor& as,
                                                      const Presanitised* early) {
  genomefiles::AnalysisSanitiser sanitiser = genomefiles::HtsSanitiser(reference);
  if (early != nullptr && early->reference == reference) {
    // why: the registry still hands the file it assembled to the sanitiser port; this one
    // answers with the earlier result when that is a result for the very same bytes and
    // options (the file's SHA-256 checked here, after the registry assembled it), so the
    // output is sanitised once, while the engine was still running.
    sanitiser = [early, real = sanitiser](std::string_view k, const fs::path& input,
                                          const fs::path& work, std::string_view pseudonym,
                                          const std::map<std::string, std::string>& sample_map)
        -> Result<genomefiles::SanitisedFile> {
      if (k == early->kind && pseudonym == early->pseudonym && sample_map.empty()) {
        auto sha = FileSha256(input);
        if (sha.ok() && *sha == early->input_sha256) {
          genomefiles::SanitisedFile s = early->file;
          s.data = work / early->file.data.filename();
          s.index = work / early->file.index.filename();
          std::error_code ec1, ec2;
          fs::rename(early->file.data, s.data, ec1);
          if (!ec1) fs::rename(early->file.index, s.index, ec2);
          if (!ec1 && !ec2) return s;
          fs::remove(s.data, ec1);  // another file system: sanitise as usual
        }
      }
      return real(k, input, work, pseudonym, sample_map);
    };
  }
  // why: the registry's sanitiser must read the CRAM against the run's reference, which the
  // serving registry's sanitiser does not know; a second registry object over the same store,
  // blob store and keys differs only in that.
  sequencing::Uploads registry(store_, clock_, audit_, blobs_, specimens_, staging_dir_,
                               files_.keys(), sequencing::DefaultQcThresholds(),
                               std::move(sanitiser));
  std::error_code ec;
  const auto size = static_cast<int64_t>(fs::file_size(path, ec));
  if (ec || size <= 0) return Internal("output_missing", fmt::format("{} is missing", file_name));
  const std::string sha(sha256);
  sequencing::NewUpload n;
  n.kind = std::string(kind);
  n.specimen_id = std::string(specimen_id);
  n.derived_from = derived_from;
  n.file_name = std::string(file_name);
  n.size = size;
  n.sha256 = sha;
  n.chunk_size = std::clamp<int64_t>(size, sequencing::kMinChunkSize, sequencing::kMaxChunkSize);
  ZG_ASSIGN_OR_RETURN(auto upload, registry.Create(n, as));
  std::ifstream f(path, std::ios::binary);
  std::string buf;
  for (int64_t i = 0; i < upload.chunks(); ++i) {
    buf.resize(static_cast<size_t>(upload.ChunkLength(i)));
    f.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    if (f.gcount() != static_cast<std::streamsize>(buf.size())) {
      return Internal("read_failed", fmt::format("{} changed while being registered", file_name));
    }
    ZG_RETURN_IF_ERROR(registry.PutChunk(upload.id, i, buf, as));
  }
  ZG_ASSIGN_OR_RETURN(auto done, registry.Complete(upload.id, as));
  return done.file;
}

}  // namespace zengen::analysis
