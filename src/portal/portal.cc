#include "portal/portal.h"

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include <fmt/format.h>

namespace zengen::portal {
namespace {

using nlohmann::json;

// A line of a table: the cells it holds, addressed as (row, column).
using Line = std::vector<std::pair<size_t, size_t>>;

}  // namespace

Cell SuppressOne(int64_t count) {
  return {count, count > 0 && count < kMinPublished, false};
}

SuppressedTable SuppressTable(const std::vector<std::vector<int64_t>>& counts, Margins margins) {
  SuppressedTable t;
  t.cells.resize(counts.size());
  size_t columns = 0;
  for (size_t r = 0; r < counts.size(); ++r) {
    columns = std::max(columns, counts[r].size());
    for (int64_t v : counts[r]) t.cells[r].push_back(SuppressOne(v));
  }
  struct TotalledLine {
    Line cells;
    std::vector<bool>* withheld;  // where this line's total is marked withheld
    size_t index;
  };
  std::vector<TotalledLine> lines;
  if (margins.column_totals) {
    t.column_total_withheld.assign(columns, false);
    for (size_t c = 0; c < columns; ++c) {
      Line line;
      for (size_t r = 0; r < counts.size(); ++r) {
        if (c < counts[r].size()) line.emplace_back(r, c);
      }
      lines.push_back({std::move(line), &t.column_total_withheld, c});
    }
  }
  if (margins.row_totals) {
    t.row_total_withheld.assign(counts.size(), false);
    for (size_t r = 0; r < counts.size(); ++r) {
      Line line;
      for (size_t c = 0; c < counts[r].size(); ++c) line.emplace_back(r, c);
      lines.push_back({std::move(line), &t.row_total_withheld, r});
    }
  }
  // Each pass suppresses at least one more cell or total, or ends, so this terminates.
  for (bool changed = true; changed;) {
    changed = false;
    for (const TotalledLine& line : lines) {
      if ((*line.withheld)[line.index]) continue;
      int64_t total = 0;
      int suppressed = 0;
      for (const auto& [r, c] : line.cells) {
        total += counts[r][c];
        suppressed += t.cells[r][c].suppressed ? 1 : 0;
      }
      // A suppressed total hides the line's sum, so nothing can be subtracted from it.
      if (suppressed != 1 || SuppressOne(total).suppressed) continue;
      const std::pair<size_t, size_t>* pick = nullptr;
      for (const auto& rc : line.cells) {
        const Cell& cell = t.cells[rc.first][rc.second];
        if (cell.suppressed) continue;
        if (pick == nullptr) {
          pick = &rc;
          continue;
        }
        const int64_t best = t.cells[pick->first][pick->second].value;
        // Non-zero cells first (a hidden zero protects less), then the smallest.
        if ((best == 0 && cell.value > 0) || (cell.value > 0 && cell.value < best)) pick = &rc;
      }
      if (pick == nullptr) {
        (*line.withheld)[line.index] = true;  // the total would equal the suppressed cell
      } else {
        Cell& cell = t.cells[pick->first][pick->second];
        cell.suppressed = true;
        cell.secondary = true;
      }
      changed = true;
    }
  }
  return t;
}

std::vector<std::vector<Cell>> Suppress(const std::vector<std::vector<int64_t>>& counts,
                                        Margins margins) {
  return SuppressTable(counts, margins).cells;
}

json CellJson(const Cell& c) {
  if (c.suppressed) return c.secondary ? kWithheldMarker : kSuppressedMarker;
  return c.value;
}

const std::vector<std::string>& Stages() {
  static const auto* stages = new std::vector<std::string>{
      "enrolled", "consented", "specimens_received", "sequenced",
      "qc_passed", "analysed", "released"};
  return *stages;
}

Result<std::vector<ParticipantProgress>> ReadProgress(storage::Store& store) {
  ZG_ASSIGN_OR_RETURN(auto tx, store.Begin(storage::TxMode::kRead));
  // One row per participant. A participant counts as consented while it has a consent record
  // and its current one is not a full withdrawal; a specimen stage counts once any of its
  // specimens has been moved into that custody state, whatever happened after.
  constexpr std::string_view kSql = R"sql(
SELECT p.program, p.disease_category, p.hospital_id, substr(p.index_date, 1, 7),
  CASE WHEN EXISTS (SELECT 1 FROM consent_records c WHERE c.participant_id = p.id)
        AND COALESCE((SELECT c.kind || ':' || c.withdrawal_level FROM consent_records c
                      WHERE c.participant_id = p.id ORDER BY c.seq DESC LIMIT 1), '')
            <> 'withdrawal:full'
       THEN 1 ELSE 0 END,
  CASE WHEN EXISTS (SELECT 1 FROM specimens s JOIN custody_events e ON e.specimen_id = s.id
                    WHERE s.participant_id = p.id AND e.to_state = 'received')
       THEN 1 ELSE 0 END,
  CASE WHEN EXISTS (SELECT 1 FROM specimens s JOIN custody_events e ON e.specimen_id = s.id
                    WHERE s.participant_id = p.id AND e.to_state = 'sequenced')
       THEN 1 ELSE 0 END,
  CASE WHEN EXISTS (SELECT 1 FROM specimens s JOIN custody_events e ON e.specimen_id = s.id
                    WHERE s.participant_id = p.id AND e.to_state = 'qc_passed')
       THEN 1 ELSE 0 END,
  CASE WHEN EXISTS (SELECT 1 FROM specimens s JOIN custody_events e ON e.specimen_id = s.id
                    WHERE s.participant_id = p.id AND e.to_state = 'analysed')
       THEN 1 ELSE 0 END
FROM participants p
)sql";
  ZG_ASSIGN_OR_RETURN(auto rows, tx->Query(kSql));
  std::vector<ParticipantProgress> out;
  out.reserve(rows.rows.size());
  for (const auto& row : rows.rows) {
    ParticipantProgress p{row.Text(3), row.Text(0), row.Text(1), row.Text(2), {}};
    p.reached = {true,
                 row.Int(4) != 0,
                 row.Int(5) != 0,
                 row.Int(6) != 0,
                 row.Int(7) != 0,
                 row.Int(8) != 0,
                 false};  // releases arrive with issue 6
    out.push_back(std::move(p));
  }
  return out;
}

json ProgressJson(const std::vector<ParticipantProgress>& participants,
                  const std::map<std::string, std::string>& facility_names,
                  const std::string& generated_at) {
  const auto& stages = Stages();
  std::vector<int64_t> totals(stages.size(), 0);
  for (const auto& p : participants) {
    for (size_t s = 0; s < stages.size() && s < p.reached.size(); ++s) totals[s] += p.reached[s];
  }
  json totals_json = json::object();
  for (size_t s = 0; s < stages.size(); ++s) {
    totals_json[stages[s]] = CellJson(SuppressOne(totals[s]));
  }
  using KeyOf = std::function<const std::string&(const ParticipantProgress&)>;
  auto table = [&](const KeyOf& key_of, bool with_labels) {
    std::map<std::string, std::vector<int64_t>> counts;
    for (const auto& p : participants) {
      auto& row = counts[key_of(p)];
      row.resize(stages.size(), 0);
      for (size_t s = 0; s < stages.size() && s < p.reached.size(); ++s) row[s] += p.reached[s];
    }
    std::vector<std::string> keys;
    std::vector<std::vector<int64_t>> matrix;
    for (auto& [k, v] : counts) {
      keys.push_back(k);
      matrix.push_back(v);
    }
    // The totals per stage are published, so every column is a line that must not leave one
    // suppressed cell alone. Stages are nested, not parts of a whole: rows have no total.
    const auto cells = Suppress(matrix, {.column_totals = true, .row_totals = false});
    json rows = json::array();
    for (size_t r = 0; r < keys.size(); ++r) {
      json row = {{"key", keys[r]}};
      if (with_labels) {
        const auto it = facility_names.find(keys[r]);
        row["label"] = it == facility_names.end() ? keys[r] : it->second;
      }
      json values = json::object();
      for (size_t s = 0; s < stages.size(); ++s) values[stages[s]] = CellJson(cells[r][s]);
      row["counts"] = std::move(values);
      rows.push_back(std::move(row));
    }
    return rows;
  };
  return {
      {"generated_at", generated_at},
      {"stages", stages},
      {"suppression",
       {{"threshold", kMinPublished}, {"marker", kSuppressedMarker}, {"withheld", kWithheldMarker}}},
      {"totals", totals_json},
      {"by_month", table([](const ParticipantProgress& p) -> const std::string& { return p.month; }, false)},
      {"by_program",
       table([](const ParticipantProgress& p) -> const std::string& { return p.program; }, false)},
      {"by_disease_category",
       table([](const ParticipantProgress& p) -> const std::string& { return p.disease_category; },
             false)},
      {"by_facility",
       table([](const ParticipantProgress& p) -> const std::string& { return p.facility; }, true)},
  };
}

namespace {

Result<std::map<std::string, std::string>> FacilityNames(storage::Store& store) {
  ZG_ASSIGN_OR_RETURN(auto tx, store.Begin(storage::TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(auto rows,
                      tx->Query("SELECT id, name FROM organisations WHERE kind = 'hospital'"));
  std::map<std::string, std::string> out;
  for (const auto& row : rows.rows) out[row.Text(0)] = row.Text(1);
  return out;
}

}  // namespace

Status AddPortalRoutes(http::Router& router, storage::Store& store, const Clock& clock,
                       ReleaseCalendar releases) {
  ZG_RETURN_IF_ERROR(router.Add(
      {.method = "GET", .pattern = "/api/v1/portal/progress", .action = "portal.read",
       .resource = "portal", .handler = http::Wrap([&store, &clock](http::Request&)
                                                      -> Result<http::Response> {
         ZG_ASSIGN_OR_RETURN(auto participants, ReadProgress(store));
         ZG_ASSIGN_OR_RETURN(auto names, FacilityNames(store));
         return http::Response::Json(
             200, ProgressJson(participants, names, FormatRfc3339(clock.Now())));
       })}));
  return router.Add(
      {.method = "GET", .pattern = "/api/v1/portal/releases", .action = "portal.read",
       .resource = "portal", .handler = http::Wrap([&clock, releases](http::Request&)
                                                      -> Result<http::Response> {
         json out = {{"tiers", {"group_restricted", "controlled", "public_aggregates"}},
                     {"items", json::array()}};
         if (releases) {
           ZG_ASSIGN_OR_RETURN(out, releases());
         }
         out["generated_at"] = FormatRfc3339(clock.Now());
         return http::Response::Json(200, out);
       })});
}

}  // namespace zengen::portal
