#include "portal/attack_testing.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace zengen::portal::testing {
namespace {

using nlohmann::json;
constexpr double kEps = 1e-7;

}  // namespace

std::optional<double> Maximise(const std::vector<std::vector<double>>& a,
                               const std::vector<double>& b, const std::vector<double>& c) {
  const size_t m = a.size(), n = c.size();
  // Tableau: n structural columns, m artificial columns, then the right-hand side.
  const size_t cols = n + m + 1, rhs = n + m;
  std::vector<std::vector<double>> t(m, std::vector<double>(cols, 0.0));
  std::vector<size_t> basis(m);
  for (size_t i = 0; i < m; ++i) {
    const double sign = b[i] < 0 ? -1.0 : 1.0;
    for (size_t j = 0; j < n; ++j) t[i][j] = sign * a[i][j];
    t[i][n + i] = 1.0;
    t[i][rhs] = sign * b[i];
    basis[i] = n + i;
  }
  std::vector<double> z(cols, 0.0);
  auto pivot = [&](size_t row, size_t col) {
    const double p = t[row][col];
    for (double& v : t[row]) v /= p;
    for (size_t i = 0; i < m; ++i) {
      if (i == row || t[i][col] == 0.0) continue;
      const double f = t[i][col];
      for (size_t j = 0; j < cols; ++j) t[i][j] -= f * t[row][j];
    }
    const double f = z[col];
    for (size_t j = 0; j < cols; ++j) z[j] -= f * t[row][j];
    basis[row] = col;
  };
  // Returns false when unbounded.
  auto run = [&](size_t allowed_columns) {
    for (;;) {
      size_t enter = allowed_columns;
      for (size_t j = 0; j < allowed_columns; ++j) {
        if (z[j] < -kEps) {
          enter = j;
          break;
        }
      }
      if (enter == allowed_columns) return true;
      size_t leave = m;
      double best = 0;
      for (size_t i = 0; i < m; ++i) {
        if (t[i][enter] <= kEps) continue;
        const double ratio = t[i][rhs] / t[i][enter];
        if (leave == m || ratio < best - kEps ||
            (ratio <= best + kEps && basis[i] < basis[leave])) {
          leave = i;
          best = ratio;
        }
      }
      if (leave == m) return false;
      pivot(leave, enter);
    }
  };
  // Phase 1: maximise −Σ artificials.
  for (size_t j = 0; j < cols; ++j) {
    double s = 0;
    for (size_t i = 0; i < m; ++i) s += t[i][j];
    z[j] = j >= n && j < rhs ? 0.0 : -s;
  }
  run(n + m);
  if (z[rhs] < -1e-6) return std::nullopt;
  // Drive artificials at zero out of the basis where a structural column can replace them.
  for (size_t i = 0; i < m; ++i) {
    if (basis[i] < n) continue;
    for (size_t j = 0; j < n; ++j) {
      if (std::abs(t[i][j]) > kEps) {
        pivot(i, j);
        break;
      }
    }
  }
  // Phase 2: reduced costs of c for the current basis; artificials may not enter.
  for (size_t j = 0; j < cols; ++j) {
    double s = 0;
    for (size_t i = 0; i < m; ++i) {
      const size_t bj = basis[i];
      if (bj < n) s += c[bj] * t[i][j];
    }
    z[j] = s - (j < n ? c[j] : 0.0);
  }
  if (!run(n)) return static_cast<double>(kUnbounded);
  return z[rhs];
}

std::vector<Range> ExactRanges(const std::vector<Range>& start,
                               const std::vector<SumRelation>& sums) {
  const size_t n = start.size();
  // x = lo + y, y ≥ 0. Rows: each relation Σ y_parts − y_whole = lo_whole − Σ lo_parts, and
  // y_i + s_i = hi_i − lo_i for each finite hi.
  std::vector<size_t> bounded;
  for (size_t i = 0; i < n; ++i) {
    if (start[i].hi < kUnbounded) bounded.push_back(i);
  }
  const size_t vars = n + bounded.size();
  std::vector<std::vector<double>> a;
  std::vector<double> b;
  for (const SumRelation& s : sums) {
    std::vector<double> row(vars, 0.0);
    double rhs = static_cast<double>(start[s.whole].lo);
    row[s.whole] -= 1.0;
    for (size_t p : s.parts) {
      row[p] += 1.0;
      rhs -= static_cast<double>(start[p].lo);
    }
    a.push_back(std::move(row));
    b.push_back(rhs);
  }
  for (size_t k = 0; k < bounded.size(); ++k) {
    std::vector<double> row(vars, 0.0);
    row[bounded[k]] = 1.0;
    row[n + k] = 1.0;
    a.push_back(std::move(row));
    b.push_back(static_cast<double>(start[bounded[k]].hi - start[bounded[k]].lo));
  }
  std::vector<Range> out(n);
  for (size_t i = 0; i < n; ++i) {
    std::vector<double> c(vars, 0.0);
    c[i] = 1.0;
    const auto hi = Maximise(a, b, c);
    c[i] = -1.0;
    const auto neg_lo = Maximise(a, b, c);
    if (!hi || !neg_lo) return {};  // infeasible: the published figures contradict themselves
    const double lo = static_cast<double>(start[i].lo) - *neg_lo;
    out[i].lo = static_cast<int64_t>(std::ceil(lo - 1e-6));
    out[i].hi = *hi >= static_cast<double>(kUnbounded)
                    ? kUnbounded
                    : static_cast<int64_t>(std::floor(static_cast<double>(start[i].lo) + *hi + 1e-6));
  }
  return out;
}

size_t ReaderSystem::Count(std::string name, Range r) {
  names.push_back(std::move(name));
  start.push_back(r);
  known_lo.push_back(0);
  return names.size() - 1;
}

void ReaderSystem::AtLeastOne(size_t id) {
  known_lo[id] = 1;
  start[id].lo = std::max<int64_t>(start[id].lo, 1);
}

size_t ReaderSystem::Find(const std::string& name) const {
  return static_cast<size_t>(std::find(names.begin(), names.end(), name) - names.begin());
}

size_t ReaderSystem::Subset(size_t whole, size_t part) {
  const size_t d = Count(names[whole] + " - " + names[part], {0, kUnbounded});
  sums.push_back({whole, {part, d}});
  return d;
}

Range Read(const json& v, Reading reading) {
  if (v.is_number_integer()) {
    const int64_t n = v.get<int64_t>();
    if (reading == Reading::kExact) return {n, n};
    return {n, n + kBase - 1};
  }
  if (v.is_string() && v.get<std::string>() == kSmallMarker) {
    return reading == Reading::kExact ? Range{1, kBase - 1} : Range{0, kBase - 1};
  }
  return {0, kUnbounded};
}

Reading ReadingOf(const json& doc) {
  const auto it = doc.find("suppression");
  return it != doc.end() && it->is_object() && it->contains("base") ? Reading::kBands
                                                                      : Reading::kExact;
}

void AddProgress(ReaderSystem& sys, const json& progress,
                 const std::map<std::string, std::string>& program_of) {
  const Reading reading = ReadingOf(progress);
  std::vector<std::string> stages;
  for (const auto& s : progress.at("stages")) stages.push_back(s.get<std::string>());
  std::vector<std::pair<std::string, std::string>> nesting;
  if (progress.contains("nesting")) {
    for (const auto& pair : progress["nesting"]) nesting.emplace_back(pair[0], pair[1]);
  } else {
    nesting = {{"enrolled", "consented"}};  // every participant is enrolled
  }
  // A row of counts: per stage, then per nesting pair the unpublished difference.
  struct Row {
    std::map<std::string, size_t> stage;
    std::vector<size_t> diff;
  };
  auto nest = [&](Row& row) {
    for (const auto& [whole, part] : nesting) {
      row.diff.push_back(sys.Subset(row.stage.at(whole), row.stage.at(part)));
    }
  };
  // whole = Σ parts, stage by stage, and so the differences between stages too.
  auto add_sum = [&](const Row& whole, const std::vector<const Row*>& parts) {
    for (const auto& s : stages) {
      std::vector<size_t> ids;
      for (const Row* p : parts) ids.push_back(p->stage.at(s));
      sys.sums.push_back({whole.stage.at(s), ids});
    }
    for (size_t k = 0; k < nesting.size(); ++k) {
      std::vector<size_t> ids;
      for (const Row* p : parts) ids.push_back(p->diff[k]);
      sys.sums.push_back({whole.diff[k], ids});
    }
  };
  Row total;
  for (const auto& s : stages) {
    total.stage[s] = sys.Count("totals." + s, Read(progress["totals"][s], reading));
  }
  nest(total);
  // table name → row key → row
  std::map<std::string, std::map<std::string, Row>> tables;
  for (const std::string table : {"by_month", "by_quarter", "cumulative_by_month", "by_program",
                                  "by_disease_category", "by_facility"}) {
    if (!progress.contains(table)) continue;
    auto& rows = tables[table];
    for (const auto& row : progress[table]) {
      const std::string key = row["key"];
      for (const auto& s : stages) {
        rows[key].stage[s] =
            sys.Count(table + "." + key + "." + s, Read(row["counts"][s], reading));
      }
      nest(rows[key]);
    }
  }
  auto rows_of = [&](const std::string& table) {
    std::vector<const Row*> out;
    for (const auto& [key, row] : tables[table]) out.push_back(&row);
    return out;
  };
  for (const std::string table :
       {"by_month", "by_quarter", "by_program", "by_disease_category", "by_facility"}) {
    if (tables.contains(table)) add_sum(total, rows_of(table));
  }
  // Rows are shown only because someone is in them: every disease category, and (the months
  // run without gaps, or only with data before bands) the first and last month.
  const std::string first = stages.front();
  if (tables.contains("by_disease_category")) {
    for (const auto& [key, row] : tables["by_disease_category"]) sys.AtLeastOne(row.stage.at(first));
  }
  if (tables.contains("by_month") && !tables["by_month"].empty()) {
    if (reading == Reading::kExact) {
      for (const auto& [key, row] : tables["by_month"]) sys.AtLeastOne(row.stage.at(first));
    }
    sys.AtLeastOne(tables["by_month"].begin()->second.stage.at(first));
    sys.AtLeastOne(tables["by_month"].rbegin()->second.stage.at(first));
  }
  if (tables.contains("by_quarter")) {
    std::map<std::string, std::vector<const Row*>> months_of;
    for (const auto& [key, row] : tables["by_month"]) {
      const int month = std::stoi(key.substr(5, 2));
      months_of[key.substr(0, 4) + "-Q" + std::to_string((month - 1) / 3 + 1)].push_back(&row);
    }
    for (const auto& [q, row] : tables["by_quarter"]) add_sum(row, months_of[q]);
  }
  if (tables.contains("cumulative_by_month")) {
    const auto& cumulative = tables["cumulative_by_month"];
    const Row* previous = nullptr;
    for (const auto& [key, row] : tables["by_month"]) {
      const Row& c = cumulative.at(key);
      if (previous == nullptr) {
        add_sum(c, {&row});
      } else {
        add_sum(c, {previous, &row});
      }
      previous = &c;
    }
    if (previous != nullptr) add_sum(total, {previous});
  }
  if (tables.contains("by_program") && tables.contains("by_disease_category")) {
    std::map<std::string, std::vector<const Row*>> diseases_of;
    for (const auto& row : progress["by_disease_category"]) {
      std::string program;
      if (row.contains("program")) {
        program = row["program"];
      } else if (const auto it = program_of.find(row["key"]); it != program_of.end()) {
        program = it->second;
      }
      if (program.empty()) continue;
      diseases_of[program].push_back(&tables["by_disease_category"][row["key"]]);
    }
    for (const auto& [program, row] : tables["by_program"]) add_sum(row, diseases_of[program]);
  }
}

void AddReleaseAggregates(ReaderSystem& sys, const std::vector<json>& docs) {
  if (docs.empty()) return;
  const json& first = docs.front();
  const Reading reading = ReadingOf(first);
  const std::string prefix = "release." + first["release_id"].get<std::string>();
  const size_t participants = sys.Count(prefix + ".participants", Read(first["participants"], reading));
  std::vector<size_t> diseases;
  // Under today's rule the released stage holds every public release's participants (before
  // issue 12 it was always 0, so the relation did not hold and a reader could not use it).
  const bool linked = reading == Reading::kBands;
  const size_t released = linked ? sys.Find("totals.released") : sys.names.size();
  if (released < sys.names.size()) sys.Subset(released, participants);
  for (const auto& [key, v] : first["by_disease_category"].items()) {
    const size_t d = sys.Count(prefix + ".by_disease_category." + key, Read(v, reading));
    // Before issue 12 a category was listed only when someone was in it; now every category
    // of the portal is listed, zero or not.
    if (reading == Reading::kExact) sys.AtLeastOne(d);
    diseases.push_back(d);
    const size_t portal_row =
        linked ? sys.Find("by_disease_category." + key + ".released") : sys.names.size();
    if (portal_row < sys.names.size()) sys.Subset(portal_row, d);
  }
  sys.sums.push_back({participants, diseases});
  for (const json& doc : docs) {
    if (!doc.contains("field")) continue;
    std::vector<size_t> values;
    for (const auto& [key, v] : doc["by_value"].items()) {
      values.push_back(
          sys.Count(prefix + "." + doc["field"].get<std::string>() + "." + key, Read(v, reading)));
    }
    sys.sums.push_back({participants, values});
  }
}

std::vector<Breach> Breaches(const ReaderSystem& sys, const std::vector<Range>& ranges) {
  std::vector<Range> nothing(sys.known_lo.size());
  for (size_t i = 0; i < nothing.size(); ++i) nothing[i] = {sys.known_lo[i], kUnbounded};
  const std::vector<Range> baseline = Propagate(nothing, sys.sums);
  std::vector<Breach> out;
  for (size_t i = 0; i < ranges.size(); ++i) {
    if (!KeepsPromise(ranges[i], baseline[i])) out.push_back({sys.names[i], ranges[i]});
  }
  return out;
}

}  // namespace zengen::portal::testing
