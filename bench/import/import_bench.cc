// Clinical bulk-import throughput (bench/import/run.sh drives it).
//
// Generates ROWS valid synthetic rows of one category (data dictionary v1) for ROWS synthetic
// participants, writes the CSV to --csv (so that run.sh can bulk-load the same bytes with the
// database's own tools as an anchor), then for each backend (SQLite in a temporary file;
// PostgreSQL in a scratch database on the server named by DATABASE, when set) registers the
// participants and imports the file through ClinicalStore::Import: the whole file validated,
// then written in one transaction. Prints rows/s per backend.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "clinical/records.h"
#include "clinical/synthetic.h"
#include "storage/testing.h"

namespace {

using namespace zengen;
using clinical::json;

Status Seed(storage::Store& store, int rows, const std::string& program) {
  ZG_ASSIGN_OR_RETURN(auto tx, store.Begin(storage::TxMode::kWrite));
  ZG_RETURN_IF_ERROR(tx->Exec("INSERT INTO organisations (id, name, kind, jurisdiction, "
                              "created_at) VALUES ('bench-hospital', 'Bench', 'hospital', 'JP', "
                              "'2026-01-01T00:00:00.000Z')"));
  constexpr int kBatch = 500;
  std::vector<storage::Value> params;
  for (int at = 0; at < rows; at += kBatch) {
    const int n = std::min(kBatch, rows - at);
    std::string sql =
        "INSERT INTO participants (id, hospital_id, local_id, program, disease_category, "
        "index_date, created_by, created_at) VALUES ";
    params.clear();
    for (int k = 0; k < n; ++k) {
      sql += fmt::format("{}(${}, 'bench-hospital', ${}, ${}, 'lung', '2025-04-01', 'bench', "
                         "'2026-01-01T00:00:00.000Z')",
                         k ? "," : "", 3 * k + 1, 3 * k + 2, 3 * k + 3);
      const std::string id = fmt::format("P{:06}", at + k);
      params.push_back(storage::Text(id));
      params.push_back(storage::Text(id));
      params.push_back(storage::Text(program));
    }
    ZG_RETURN_IF_ERROR(tx->Exec(sql, params));
  }
  return tx->Commit();
}

int Run(const std::string& backend, const std::string& category, const std::string& program,
        int rows, const std::string& csv) {
  auto db = storage::ScratchDatabase::Create(backend);
  if (!db.ok()) {
    fmt::print(stderr, "{}: {}\n", backend, db.error().message);
    return 1;
  }
  auto store = storage::OpenStore({.location = db->location()});
  if (!store.ok()) {
    fmt::print(stderr, "{}: {}\n", backend, store.error().message);
    return 1;
  }
  if (auto st = Seed(**store, rows, program); !st.ok()) {
    fmt::print(stderr, "{}: seeding participants: {}\n", backend, st.error().message);
    return 1;
  }
  SystemClock clock;
  RecordingAuditSink audit;
  clinical::ClinicalStore cs(**store, clock, audit);
  clinical::ImportOptions opts;
  opts.hospital = "bench-hospital";
  opts.actor = {"bench", "cli", ""};
  std::vector<clinical::RowProblem> problems;
  const auto t0 = std::chrono::steady_clock::now();
  auto r = cs.Import(category, csv, opts, &problems);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!r.ok()) {
    fmt::print(stderr, "{}: import failed: {}\n", backend, r.error().message);
    return 1;
  }
  fmt::print("{:8} clinical import: {} rows in {:.2f} s (parse+validate {:.2f} s, write+commit "
             "{:.2f} s) = {:.0f} rows/s\n",
             backend, r->rows, s, r->seconds_validate, r->seconds_write, r->rows / s);
  std::fflush(stdout);
  store->reset();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int rows = 100000;
  std::string category = "specimen";
  std::string program = "cancer";
  std::string csv_path;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.starts_with("--rows=")) rows = std::atoi(a.c_str() + 7);
    else if (a.starts_with("--category=")) category = a.substr(11);
    else if (a.starts_with("--program=")) program = a.substr(10);
    else if (a.starts_with("--csv=")) csv_path = a.substr(6);
    else {
      fmt::print(stderr,
                 "usage: import_bench [--rows=100000] [--category=specimen] [--program=cancer] "
                 "[--csv=FILE]   (env DATABASE=postgres://… adds PostgreSQL)\n");
      return 2;
    }
  }
  const clinical::Dictionary& d = clinical::BuiltinDictionary();
  const clinical::Category* cat = d.FindCategory(category);
  if (!cat || rows < 1 || rows > 1000000) {
    fmt::print(stderr, "unknown category '{}' or rows out of 1-1000000\n", category);
    return 2;
  }
  const auto g0 = std::chrono::steady_clock::now();
  std::string csv = "participant_id";
  for (const auto& f : cat->fields) csv += "," + f.code;
  csv += "\n";
  for (int i = 0; i < rows; ++i) {
    const json rec = clinical::SyntheticRecord(d, category, program, i, true);
    csv += fmt::format("P{:06}", i);
    for (const auto& f : cat->fields) {
      csv.push_back(',');
      if (auto it = rec.find(f.code); it != rec.end()) {
        clinical::AppendCsvCell(csv, it->is_string() ? it->get<std::string>() : it->dump());
      }
    }
    csv += "\n";
  }
  fmt::print("generated {} rows of {} ({} columns, {:.1f} MB) in {:.2f} s\n", rows, category,
             cat->fields.size() + 1, csv.size() / 1e6,
             std::chrono::duration<double>(std::chrono::steady_clock::now() - g0).count());
  if (!csv_path.empty()) std::ofstream(csv_path, std::ios::binary) << csv;
  int rc = Run("sqlite", category, program, rows, csv);
  if (const char* url = std::getenv("DATABASE"); url != nullptr && *url != '\0') {
    // why: ScratchDatabase creates (and drops) its database on the server this names.
    setenv("ZENGEN_TEST_POSTGRES_URL", url, 1);
    rc |= Run("postgres", category, program, rows, csv);
  }
  return rc;
}
