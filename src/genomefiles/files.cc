#include "genomefiles/files.h"

#include <algorithm>
#include <cctype>
#include <span>

#include <fmt/format.h>

#include "crypto/crypto.h"
#include "crypto/ids.h"
#include "storage/columns.h"

namespace zengen::genomefiles {
namespace {

using nlohmann::json;
using storage::Int;
using storage::Null;
using storage::OptText;
using storage::ParseJsonOrNull;
using storage::ParseStringList;
using storage::SafeDump;
using storage::Text;

constexpr std::string_view kFileColumns =
    "f.id, f.kind, f.specimen_id, f.participant_id, p.hospital_id, f.run_id, f.read_number, "
    "f.file_name, f.blob_id, f.index_blob_id, f.index_kind, f.uploaded_sha256, f.uploaded_md5, "
    "f.uploaded_size, f.sha256, f.size, f.report, f.derived_from, f.created_by, f.created_at";

DataFile FileFromRow(const storage::Row& r) {
  DataFile f;
  f.id = r.Text(0);
  f.kind = r.Text(1);
  f.specimen_id = r.Text(2);
  f.participant_id = r.Text(3);
  f.hospital = r.Text(4);
  f.run_id = r.Text(5);
  f.read = static_cast<int>(r.Int(6));
  f.file_name = r.Text(7);
  f.blob_id = r.Text(8);
  f.index_blob_id = r.Text(9);
  f.index_kind = r.Text(10);
  f.uploaded_sha256 = r.Text(11);
  f.uploaded_md5 = r.Text(12);
  f.uploaded_size = r.Int(13);
  f.sha256 = r.Text(14);
  f.size = r.Int(15);
  f.report = ParseJsonOrNull(r.Text(16));
  f.derived_from = ParseStringList(r.Text(17));
  f.created_by = r.Text(18);
  f.created_at = r.Text(19);
  return f;
}

// The files matching `where` (on alias f), in `order`.
Result<std::vector<DataFile>> Select(storage::Transaction& tx, std::string_view where,
                                     std::string_view order, std::vector<storage::Value> params) {
  ZG_ASSIGN_OR_RETURN(
      auto rows, tx.Query(fmt::format("SELECT {} FROM data_files f JOIN participants p ON "
                                      "p.id = f.participant_id WHERE {} ORDER BY {}",
                                      kFileColumns, where, order),
                          std::span<const storage::Value>(params)));
  std::vector<DataFile> out;
  for (const auto& r : rows.rows) out.push_back(FileFromRow(r));
  return out;
}

}  // namespace

json DataFileJson(const DataFile& f) {
  return json{{"id", f.id},
              {"kind", f.kind},
              {"specimen_id", f.specimen_id},
              {"participant_id", f.participant_id},
              {"run_id", f.run_id.empty() ? json(nullptr) : json(f.run_id)},
              {"read", f.read == 0 ? json(nullptr) : json(f.read)},
              {"file_name", f.file_name},
              {"blob_id", f.blob_id},
              {"index_blob_id", f.index_blob_id.empty() ? json(nullptr) : json(f.index_blob_id)},
              {"index_kind", f.index_kind.empty() ? json(nullptr) : json(f.index_kind)},
              {"uploaded_sha256", f.uploaded_sha256},
              {"uploaded_md5", f.uploaded_md5.empty() ? json(nullptr) : json(f.uploaded_md5)},
              {"uploaded_size", f.uploaded_size},
              {"sha256", f.sha256},
              {"size", f.size},
              {"report", f.report},
              {"derived_from", json(f.derived_from)},
              {"created_by", f.created_by},
              {"created_at", f.created_at}};
}

std::string NewFileId() { return crypto::NewId("FL-"); }

std::vector<FileSample> SamplesOf(const json& summary, bool sample_mapped,
                                  std::string_view participant_id) {
  std::vector<FileSample> out;
  for (const auto& sample : summary.value("samples", json::array())) {
    const std::string name = sample.get<std::string>();
    out.push_back({name, sample_mapped ? name : std::string(participant_id)});
  }
  return out;
}

Files::Files(storage::Store& store, specimens::Specimens& specimens, UploadKeys keys)
    : store_(store), specimens_(specimens), keys_(std::move(keys)) {}

Result<DataFile> Files::GetFileIn(storage::Transaction& tx, std::string_view file_id) {
  ZG_ASSIGN_OR_RETURN(auto files, Select(tx, "f.id = $1", "f.id", {Text(std::string(file_id))}));
  if (files.empty()) return NotFound("file_not_found", fmt::format("no file {}", file_id));
  return std::move(files.front());
}

Result<std::string> Files::RunReadFile(storage::Transaction& tx, std::string_view run_id,
                                       int read) {
  ZG_ASSIGN_OR_RETURN(auto rows,
                      tx.Query("SELECT id FROM data_files WHERE run_id = $1 AND read_number = $2",
                               {Text(std::string(run_id)), Int(read)}));
  return rows.empty() ? std::string() : rows.rows.front().Text(0);
}

Result<DataFile> Files::GetFile(std::string_view file_id) {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  return GetFileIn(*tx, file_id);
}

Result<std::vector<DataFile>> Files::ListFiles(std::string_view participant_id) {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  return Select(*tx, "f.participant_id = $1", "f.created_at, f.id",
                {Text(std::string(participant_id))});
}

Result<std::vector<FileSample>> Files::FileSamples(std::string_view file_id) {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(auto rows, tx->Query("SELECT sample, participant_id FROM file_samples WHERE "
                                           "file_id = $1 ORDER BY position",
                                           {Text(std::string(file_id))}));
  std::vector<FileSample> out;
  for (const auto& r : rows.rows) out.push_back({r.Text(0), r.Text(1)});
  return out;
}

Result<std::vector<DataFile>> Files::ListRunFiles(std::string_view run_id) {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  return Select(*tx, "f.run_id = $1", "f.read_number", {Text(std::string(run_id))});
}

Result<std::vector<json>> Files::MateReports(std::string_view run_id, int read) {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(auto rows,
                      tx->Query("SELECT report FROM data_files WHERE run_id = $1 AND "
                                "read_number <> $2",
                                {Text(std::string(run_id)), Int(read)}));
  std::vector<json> out;
  for (const auto& r : rows.rows) out.push_back(ParseJsonOrNull(r.Text(0)));
  return out;
}

Result<policy::Resource> Files::FileResource(std::string_view file_id) {
  ZG_ASSIGN_OR_RETURN(DataFile f, GetFile(file_id));
  return FileResource(f);
}

Result<policy::Resource> Files::FileResource(const DataFile& f) {
  ZG_ASSIGN_OR_RETURN(auto sp, specimens_.SpecimenResource(f.specimen_id));
  return policy::Resource{"file", f.id, f.hospital, sp.holder};
}

Status Files::Record(storage::Transaction& tx, const DataFile& f,
                     const std::vector<FileSample>& samples) {
  ZG_RETURN_IF_ERROR(tx.Exec(
      "INSERT INTO data_files (id, kind, specimen_id, participant_id, run_id, read_number, "
      "file_name, blob_id, index_blob_id, index_kind, uploaded_sha256, uploaded_md5, "
      "uploaded_size, sha256, size, report, derived_from, created_by, created_at) VALUES ($1, $2, "
      "$3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)",
      {Text(f.id), Text(f.kind), Text(f.specimen_id), Text(f.participant_id), OptText(f.run_id),
       Int(f.read), Text(f.file_name), Text(f.blob_id), OptText(f.index_blob_id),
       Text(f.index_kind), Text(f.uploaded_sha256), Text(f.uploaded_md5), Int(f.uploaded_size),
       Text(f.sha256), Int(f.size), Text(SafeDump(f.report)), Text(json(f.derived_from).dump()),
       Text(f.created_by), Text(f.created_at)}));
  int64_t position = 0;
  for (const FileSample& s : samples) {
    ZG_RETURN_IF_ERROR(tx.Exec(
        "INSERT INTO file_samples (file_id, sample, participant_id, position) VALUES ($1, $2, "
        "$3, $4)",
        {Text(f.id), Text(s.sample), Text(s.participant_id), Int(position++)}));
  }
  return Status::Ok();
}

}  // namespace zengen::genomefiles
