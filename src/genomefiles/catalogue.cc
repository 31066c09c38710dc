#include "genomefiles/catalogue.h"

#include <algorithm>
#include <set>
#include <tuple>

#include <fmt/format.h>

namespace zengen::genomefiles {
namespace {

constexpr std::string_view kColumns =
    "f.id, f.kind, f.participant_id, p.hospital_id, f.file_name, f.size, f.sha256, f.created_at";
// Parameters per statement: well below both backends' limits.
constexpr size_t kBatch = 500;

CatalogueEntry EntryFrom(const storage::Row& r) {
  return {r.Text(0), r.Text(1), r.Text(2), r.Text(3), r.Text(4), r.Int(5), r.Text(6), r.Text(7)};
}

// The files whose `column` is one of `values`, ordered by `order`.
Result<std::vector<CatalogueEntry>> Where(storage::Transaction& tx, std::string_view column,
                                          std::span<const std::string> values,
                                          std::string_view order) {
  std::vector<CatalogueEntry> out;
  const std::set<std::string> distinct(values.begin(), values.end());
  const std::vector<std::string> all(distinct.begin(), distinct.end());
  for (size_t at = 0; at < all.size(); at += kBatch) {
    const size_t n = std::min(kBatch, all.size() - at);
    std::string marks;
    std::vector<storage::Value> params;
    for (size_t i = 0; i < n; ++i) {
      marks += fmt::format("{}${}", i == 0 ? "" : ", ", i + 1);
      params.push_back(storage::Text(all[at + i]));
    }
    ZG_ASSIGN_OR_RETURN(
        auto rows, tx.Query(fmt::format("SELECT {} FROM data_files f JOIN participants p ON p.id = "
                                        "f.participant_id WHERE f.{} IN ({})",
                                        kColumns, column, marks),
                            std::span<const storage::Value>(params)));
    for (const auto& r : rows.rows) out.push_back(EntryFrom(r));
  }
  if (order == "id") {
    std::sort(out.begin(), out.end(),
              [](const CatalogueEntry& a, const CatalogueEntry& b) { return a.id < b.id; });
  } else {
    std::sort(out.begin(), out.end(), [](const CatalogueEntry& a, const CatalogueEntry& b) {
      return std::tie(a.participant_id, a.id) < std::tie(b.participant_id, b.id);
    });
  }
  return out;
}

}  // namespace

Result<std::vector<CatalogueEntry>> CatalogueEntries(storage::Transaction& tx,
                                                     std::span<const std::string> ids) {
  return Where(tx, "id", ids, "id");
}

Result<std::vector<CatalogueEntry>> CatalogueOfParticipant(storage::Transaction& tx,
                                                           std::string_view participant_id) {
  const std::string id(participant_id);
  return Where(tx, "participant_id", std::span<const std::string>(&id, 1), "id");
}

Result<std::vector<CatalogueEntry>> CatalogueOfKinds(storage::Transaction& tx,
                                                     std::span<const std::string> kinds) {
  return Where(tx, "kind", kinds, "participant");
}

Result<std::vector<CatalogueEntry>> CatalogueOfKindsCreated(storage::Transaction& tx,
                                                            std::span<const std::string> kinds,
                                                            std::string_view after,
                                                            std::string_view up_to) {
  std::vector<CatalogueEntry> out;
  if (kinds.empty() || kinds.size() > kBatch) return out;
  std::string marks;
  std::vector<storage::Value> params = {storage::Text(std::string(after)),
                                        storage::Text(std::string(up_to))};
  for (size_t i = 0; i < kinds.size(); ++i) {
    marks += fmt::format("{}${}", i == 0 ? "" : ", ", i + 3);
    params.push_back(storage::Text(kinds[i]));
  }
  ZG_ASSIGN_OR_RETURN(
      auto rows,
      tx.Query(fmt::format("SELECT {} FROM data_files f JOIN participants p ON p.id = "
                           "f.participant_id WHERE f.created_at > $1 AND f.created_at <= $2 "
                           "AND f.kind IN ({}) ORDER BY f.created_at, f.id",
                           kColumns, marks),
               std::span<const storage::Value>(params)));
  for (const auto& r : rows.rows) out.push_back(EntryFrom(r));
  return out;
}

}  // namespace zengen::genomefiles
