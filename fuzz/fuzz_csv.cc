// The clinical CSV importer (ClinicalStore::Import) and its RFC 4180 parser.
//
// Input: one byte choosing the category (and whether the import is limited to one hospital),
// then the CSV text. ParseCsv must either fail with "malformed_csv" naming a line, or give rows
// that AppendCsvCell writes back into text that parses to the same rows. Import runs against a
// SQLite store with ten participants and must answer with a report or a client error (4xx,
// naming the line), never an exception or a 5xx.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "clinical/records.h"
#include "common/audit_event.h"
#include "common/clock.h"
#include "http/http.h"
#include "storage/store.h"

namespace {

namespace clinical = zengen::clinical;
namespace storage = zengen::storage;

class NullSink final : public zengen::AuditSink {
 public:
  zengen::Status Append(zengen::AuditEvent) override { return zengen::Status::Ok(); }
};

struct World {
  std::filesystem::path dir;
  zengen::SystemClock clock;
  NullSink sink;
  std::unique_ptr<storage::Store> store;
  std::unique_ptr<clinical::ClinicalStore> clinical;
};

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "%s\n", what.c_str());
  std::abort();
}

World& TheWorld() {
  static World* w = [] {
    auto* world = new World;
    world->dir = std::filesystem::temp_directory_path() /
                 fmt::format("zengen-fuzz-csv-{}", ::getpid());
    std::filesystem::create_directories(world->dir);
    auto store = storage::OpenStore({.location = (world->dir / "fuzz.db").string()});
    if (!store.ok()) Fail("cannot open the store: " + store.error().message);
    world->store = std::move(store).value();
    auto tx = world->store->Begin(storage::TxMode::kWrite);
    if (!tx.ok()) Fail(tx.error().message);
    for (const char* h : {"h1", "h2"}) {
      if (!(*tx)->Exec("INSERT INTO organisations (id, name, kind, jurisdiction, created_at) "
                       "VALUES ($1, $1, 'hospital', 'JP', '2026-01-01T00:00:00.000Z')",
                       {storage::Text(h)})
               .ok()) {
        Fail("cannot seed organisations");
      }
    }
    for (int i = 0; i < 10; ++i) {
      const bool cancer = i % 2 == 0;
      auto seeded =
          (*tx)->Exec("INSERT INTO participants (id, hospital_id, local_id, program, "
                      "disease_category, index_date, created_by, created_at) VALUES ($1, $2, "
                      "$1, $3, $4, '2025-04-01', 'fuzz', '2026-01-01T00:00:00.000Z')",
                      {storage::Text(fmt::format("P{:05}", i)),
                       storage::Text(i < 5 ? "h1" : "h2"),
                       storage::Text(cancer ? "cancer" : "rare_disease"),
                       storage::Text(cancer ? "lung" : "rd_neuromuscular")});
      if (!seeded.ok()) Fail("cannot seed participants: " + seeded.error().message);
    }
    if (!(*tx)->Commit().ok()) Fail("cannot commit the seed");
    world->clinical =
        std::make_unique<clinical::ClinicalStore>(*world->store, world->clock, world->sink);
    return world;
  }();
  return *w;
}

void CheckRoundTrip(std::string_view csv) {
  auto rows = clinical::ParseCsv(csv);
  if (!rows.ok()) {
    if (rows.error().code != "malformed_csv" || rows.error().field.rfind("line ", 0) != 0) {
      Fail("ParseCsv error without a line: " + rows.error().code + " " + rows.error().field);
    }
    return;
  }
  std::string again;
  std::vector<std::vector<std::string>> expected;
  for (const auto& row : *rows) {
    for (size_t i = 0; i < row.cells.size(); ++i) {
      if (i > 0) again.push_back(',');
      clinical::AppendCsvCell(again, row.cells[i]);
    }
    again.push_back('\n');
    expected.push_back(row.cells);
  }
  auto reparsed = clinical::ParseCsv(again);
  if (!reparsed.ok()) Fail("written CSV does not parse: " + reparsed.error().message);
  std::vector<std::vector<std::string>> got;
  for (const auto& row : *reparsed) got.push_back(row.cells);
  if (got != expected) Fail("CSV round trip changed the rows");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  World& w = TheWorld();
  const std::string_view csv(reinterpret_cast<const char*>(data) + 1, size - 1);
  CheckRoundTrip(csv);

  const auto& categories = w.clinical->dictionary().categories;
  const std::string category =
      (data[0] & 0x7f) < categories.size() ? categories[data[0] & 0x7f].code : "no-such-category";
  clinical::ImportOptions options;
  options.hospital = (data[0] & 0x80) != 0 ? "h1" : "";
  options.actor = {"fuzz", "127.0.0.1", "fuzz-1"};
  std::vector<clinical::RowProblem> problems;
  auto report = w.clinical->Import(category, csv, options, &problems);
  if (!report.ok()) {
    const int status = zengen::http::StatusFor(report.error().kind);
    if (status < 400 || status >= 500) {
      Fail(fmt::format("Import answered {} ({}: {})", status, report.error().code,
                       report.error().message));
    }
    if (report.error().code == "import_rejected" && problems.empty()) {
      Fail("import_rejected without problems");
    }
  }
  return 0;
}
