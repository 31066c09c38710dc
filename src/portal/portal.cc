#include "portal/portal.h"

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include <fmt/format.h>

#include "identity/directory.h"

namespace zengen::portal {
namespace {

using nlohmann::json;

}  // namespace

const std::vector<std::string>& Stages() {
  static const auto* stages = new std::vector<std::string>{
      "enrolled", "consented", "specimens_received", "sequenced",
      "qc_passed", "analysed", "released"};
  return *stages;
}

const std::vector<std::pair<size_t, size_t>>& Nesting() {
  // Parents before children, so that one pass cuts every stage to the funnel.
  static const auto* nesting =
      new std::vector<std::pair<size_t, size_t>>{{0, 1}, {1, 2}, {2, 3}, {3, 4}, {4, 5}, {1, 6}};
  return *nesting;
}

Result<std::vector<ParticipantProgress>> ReadProgress(storage::Store& store,
                                                      const std::set<std::string>& released) {
  ZG_ASSIGN_OR_RETURN(auto tx, store.Begin(storage::TxMode::kRead));
  // One row per participant. A participant counts as consented while it has a consent record
  // and its current one is not a full withdrawal; a specimen stage counts once any of its
  // specimens has been moved into that custody state, whatever happened after.
  constexpr std::string_view kSql = R"sql(
SELECT p.id, p.program, p.disease_category, p.hospital_id, substr(p.index_date, 1, 7),
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
    ParticipantProgress p{row.Text(4), row.Text(1), row.Text(2), row.Text(3), {}};
    // In the order of Stages().
    p.reached = {true,
                 row.Int(5) != 0,
                 row.Int(6) != 0,
                 row.Int(7) != 0,
                 row.Int(8) != 0,
                 row.Int(9) != 0,
                 released.contains(row.Text(0))};
    // The published stages are subsets of each other (readers may rely on it, and the
    // disclosure audit does), so a stage counts only once the stages above it are reached.
    for (const auto& [whole, part] : Nesting()) p.reached[part] = p.reached[part] && p.reached[whole];
    out.push_back(std::move(p));
  }
  return out;
}

namespace {

// A breakdown: row key → true count per stage.
using Rows = std::map<std::string, std::vector<int64_t>>;

// "YYYY-MM" → months since year 0, or -1 when malformed.
int MonthNumber(const std::string& key) {
  if (key.size() != 7 || key[4] != '-') return -1;
  try {
    return std::stoi(key.substr(0, 4)) * 12 + std::stoi(key.substr(5, 2)) - 1;
  } catch (const std::exception&) {
    return -1;
  }
}

std::string QuarterOf(const std::string& month) {
  const int n = MonthNumber(month);
  if (n < 0) return month;
  return fmt::format("{:04}-Q{}", n / 12, n % 12 / 3 + 1);
}

// The ids of one breakdown in the publication: per row, per stage and per nesting pair.
struct TableIds {
  std::vector<std::string> keys;
  std::vector<std::vector<size_t>> stage;  // [row][stage]
  std::vector<std::vector<size_t>> diff;   // [row][nesting pair]
};

}  // namespace

PublicFigures Publish(const std::vector<ParticipantProgress>& participants,
                      const std::map<std::string, std::string>& facility_names,
                      const std::vector<ReleaseCounts>& releases,
                      const std::string& generated_at) {
  const auto& stages = Stages();
  const auto& nesting = Nesting();
  const size_t n_stages = stages.size();
  std::vector<int64_t> totals(n_stages, 0);
  Rows by_month, by_program, by_disease, by_facility;
  std::map<std::string, std::set<std::string>> programs_of_disease;
  for (const std::string program : {"cancer", "rare_disease"}) {
    by_program[program].assign(n_stages, 0);
  }
  for (const auto& [id, name] : facility_names) by_facility[id].assign(n_stages, 0);
  auto count = [n_stages](Rows& rows, const std::string& key, const ParticipantProgress& p) {
    auto& row = rows[key];
    row.resize(n_stages, 0);
    for (size_t s = 0; s < n_stages && s < p.reached.size(); ++s) row[s] += p.reached[s];
  };
  for (const auto& p : participants) {
    for (size_t s = 0; s < n_stages && s < p.reached.size(); ++s) totals[s] += p.reached[s];
    count(by_month, p.month, p);
    count(by_program, p.program, p);
    count(by_disease, p.disease_category, p);
    count(by_facility, p.facility, p);
    programs_of_disease[p.disease_category].insert(p.program);
  }
  // Months run without gaps from the first enrolment to the last, so that only the first and
  // the last row say "someone enrolled here".
  if (!by_month.empty()) {
    const int first = MonthNumber(by_month.begin()->first);
    const int last = MonthNumber(by_month.rbegin()->first);
    if (first >= 0 && last >= first) {
      for (int m = first; m <= last; ++m) {
        by_month[fmt::format("{:04}-{:02}", m / 12, m % 12 + 1)].resize(n_stages, 0);
      }
    }
  }
  Rows by_quarter, cumulative;
  {
    std::vector<int64_t> running(n_stages, 0);
    for (const auto& [month, row] : by_month) {
      auto& q = by_quarter[QuarterOf(month)];
      q.resize(n_stages, 0);
      for (size_t s = 0; s < n_stages; ++s) {
        q[s] += row[s];
        running[s] += row[s];
      }
      cumulative[month] = running;
    }
  }

  Publication pub;
  std::vector<size_t> total_id(n_stages), total_diff(nesting.size());
  for (size_t s = 0; s < n_stages; ++s) {
    total_id[s] = pub.Add("totals." + stages[s], totals[s]);
    pub.Headline(total_id[s]);
  }
  for (size_t k = 0; k < nesting.size(); ++k) {
    total_diff[k] = pub.Subset(total_id[nesting[k].first], total_id[nesting[k].second]);
  }
  auto add_table = [&](const std::string& name, const Rows& rows) {
    TableIds t;
    for (const auto& [key, row] : rows) {
      t.keys.push_back(key);
      std::vector<size_t> ids;
      for (size_t s = 0; s < n_stages; ++s) {
        ids.push_back(pub.Add(name + "." + key + "." + stages[s], row[s]));
      }
      std::vector<size_t> diffs;
      for (const auto& [whole, part] : nesting) diffs.push_back(pub.Subset(ids[whole], ids[part]));
      t.stage.push_back(std::move(ids));
      t.diff.push_back(std::move(diffs));
    }
    return t;
  };
  // whole (per stage and per nesting difference) = Σ rows `parts` of table t.
  auto add_sum = [&](const std::vector<size_t>& whole_stage, const std::vector<size_t>& whole_diff,
                     const TableIds& t, const std::vector<size_t>& rows) {
    for (size_t s = 0; s < n_stages; ++s) {
      std::vector<size_t> parts;
      for (size_t r : rows) parts.push_back(t.stage[r][s]);
      pub.Sum(whole_stage[s], parts);
    }
    for (size_t k = 0; k < nesting.size(); ++k) {
      std::vector<size_t> parts;
      for (size_t r : rows) parts.push_back(t.diff[r][k]);
      pub.Sum(whole_diff[k], parts);
    }
  };
  auto all_rows = [](const TableIds& t) {
    std::vector<size_t> rows(t.keys.size());
    for (size_t r = 0; r < rows.size(); ++r) rows[r] = r;
    return rows;
  };
  const TableIds months = add_table("by_month", by_month);
  const TableIds quarters = add_table("by_quarter", by_quarter);
  const TableIds cumul = add_table("cumulative_by_month", cumulative);
  const TableIds programs = add_table("by_program", by_program);
  const TableIds diseases = add_table("by_disease_category", by_disease);
  const TableIds facilities = add_table("by_facility", by_facility);
  for (const TableIds* t : {&months, &quarters, &programs, &diseases, &facilities}) {
    add_sum(total_id, total_diff, *t, all_rows(*t));
  }
  for (size_t q = 0; q < quarters.keys.size(); ++q) {
    std::vector<size_t> rows;
    for (size_t m = 0; m < months.keys.size(); ++m) {
      if (QuarterOf(months.keys[m]) == quarters.keys[q]) rows.push_back(m);
    }
    add_sum(quarters.stage[q], quarters.diff[q], months, rows);
  }
  // cumulative[i] = cumulative[i-1] + month[i]; the last one is the total.
  for (size_t m = 0; m < months.keys.size(); ++m) {
    for (size_t s = 0; s < n_stages; ++s) {
      std::vector<size_t> parts = {months.stage[m][s]};
      if (m > 0) parts.push_back(cumul.stage[m - 1][s]);
      pub.Sum(cumul.stage[m][s], parts);
    }
    for (size_t k = 0; k < nesting.size(); ++k) {
      std::vector<size_t> parts = {months.diff[m][k]};
      if (m > 0) parts.push_back(cumul.diff[m - 1][k]);
      pub.Sum(cumul.diff[m][k], parts);
    }
  }
  if (!months.keys.empty()) {
    for (size_t s = 0; s < n_stages; ++s) pub.Sum(total_id[s], {cumul.stage.back()[s]});
    for (size_t k = 0; k < nesting.size(); ++k) pub.Sum(total_diff[k], {cumul.diff.back()[k]});
    pub.AtLeastOne(months.stage.front()[0]);
    pub.AtLeastOne(months.stage.back()[0]);
  }
  // A disease category belongs to one programme (a reader knows which); a row is shown only
  // because someone is in it.
  const bool categories_nest =
      std::all_of(programs_of_disease.begin(), programs_of_disease.end(),
                  [](const auto& kv) { return kv.second.size() == 1; });
  for (size_t r = 0; r < diseases.keys.size(); ++r) pub.AtLeastOne(diseases.stage[r][0]);
  for (size_t g = 0; g < programs.keys.size() && categories_nest; ++g) {
    std::vector<size_t> rows;
    for (size_t r = 0; r < diseases.keys.size(); ++r) {
      if (*programs_of_disease[diseases.keys[r]].begin() == programs.keys[g]) rows.push_back(r);
    }
    add_sum(programs.stage[g], programs.diff[g], diseases, rows);
  }
  for (size_t r = 0; r < facilities.keys.size(); ++r) {
    if (!facility_names.contains(facilities.keys[r])) pub.AtLeastOne(facilities.stage[r][0]);
  }
  // Release aggregates, published at the same time: a release's participants are some of the
  // released ones, in total and per disease category.
  const size_t released_stage = static_cast<size_t>(
      std::find(stages.begin(), stages.end(), "released") - stages.begin());
  struct ReleaseIds {
    size_t participants;
    std::map<std::string, size_t> by_disease;
    std::map<std::string, std::map<std::string, size_t>> by_field;
  };
  std::vector<ReleaseIds> release_ids;
  for (const auto& rc : releases) {
    const std::string prefix = "release." + rc.release_id + ".";
    ReleaseIds ids;
    ids.participants = pub.Add(prefix + "participants", rc.participants);
    pub.Subset(total_id[released_stage], ids.participants);
    std::vector<size_t> parts;
    // Every category of the portal is listed, zero or not, so that the list says nothing.
    std::map<std::string, int64_t> by_disease_all;
    for (const auto& key : diseases.keys) by_disease_all[key] = 0;
    for (const auto& [key, v] : rc.by_disease) by_disease_all[key] = v;
    for (const auto& [key, v] : by_disease_all) {
      const size_t id = pub.Add(prefix + "by_disease_category." + key, v);
      ids.by_disease[key] = id;
      parts.push_back(id);
      const auto it = std::find(diseases.keys.begin(), diseases.keys.end(), key);
      if (it != diseases.keys.end()) {
        pub.Subset(diseases.stage[static_cast<size_t>(it - diseases.keys.begin())][released_stage],
                   id);
      } else if (v > 0) {
        pub.AtLeastOne(id);  // cannot happen: the portal lists every category
      }
    }
    pub.Sum(ids.participants, parts);
    for (const auto& [field, values] : rc.by_field) {
      std::vector<size_t> value_ids;
      for (const auto& [value, v] : values) {
        const size_t id = pub.Add(prefix + field + "." + value, v);
        ids.by_field[field][value] = id;
        value_ids.push_back(id);
      }
      pub.Sum(ids.participants, value_ids);
    }
    release_ids.push_back(std::move(ids));
  }

  const std::vector<Shown> shown = pub.Protect();
  auto render = [&](const TableIds& t, bool with_labels, bool with_programs) {
    json rows = json::array();
    for (size_t r = 0; r < t.keys.size(); ++r) {
      json row = {{"key", t.keys[r]}};
      if (with_labels) {
        const auto it = facility_names.find(t.keys[r]);
        row["label"] = it == facility_names.end() ? t.keys[r] : it->second;
      }
      if (with_programs && categories_nest) {
        row["program"] = *programs_of_disease[t.keys[r]].begin();
      }
      json values = json::object();
      for (size_t s = 0; s < n_stages; ++s) values[stages[s]] = ShownJson(shown[t.stage[r][s]]);
      row["counts"] = std::move(values);
      rows.push_back(std::move(row));
    }
    return rows;
  };
  json totals_json = json::object();
  for (size_t s = 0; s < n_stages; ++s) totals_json[stages[s]] = ShownJson(shown[total_id[s]]);
  json nesting_json = json::array();
  for (const auto& [whole, part] : nesting) nesting_json.push_back({stages[whole], stages[part]});
  PublicFigures out;
  out.progress = {
      {"generated_at", generated_at},
      {"stages", stages},
      {"nesting", nesting_json},
      {"suppression", MethodJson()},
      {"totals", totals_json},
      {"by_month", render(months, false, false)},
      {"by_quarter", render(quarters, false, false)},
      {"cumulative_by_month", render(cumul, false, false)},
      {"by_program", render(programs, false, false)},
      {"by_disease_category", render(diseases, false, true)},
      {"by_facility", render(facilities, true, false)},
  };
  for (size_t i = 0; i < releases.size(); ++i) {
    const ReleaseIds& ids = release_ids[i];
    json by_disease_json = json::object(), by_field_json = json::object();
    for (const auto& [key, id] : ids.by_disease) by_disease_json[key] = ShownJson(shown[id]);
    for (const auto& [field, values] : ids.by_field) {
      json v = json::object();
      for (const auto& [value, id] : values) v[value] = ShownJson(shown[id]);
      by_field_json[field] = std::move(v);
    }
    out.releases[releases[i].release_id] = {{"participants", ShownJson(shown[ids.participants])},
                                            {"by_disease_category", by_disease_json},
                                            {"by_field", by_field_json}};
  }
  return out;
}

Result<json> ReleaseAggregatesJson(const PublicFigures& figures, std::string_view release_id,
                                   std::string_view field) {
  const auto it = figures.releases.find(std::string(release_id));
  if (it == figures.releases.end()) {
    return NotFound("release_not_found",
                    fmt::format("release {} has no public aggregates", release_id));
  }
  json j = {{"release_id", release_id},
            {"participants", it->second.at("participants")},
            {"by_disease_category", it->second.at("by_disease_category")},
            {"suppression", MethodJson()}};
  const json& by_field = it->second.at("by_field");
  if (field.empty()) {
    // The fields whose counts may be asked for (?field=), for clients.
    json fields = json::array();
    for (const auto& [key, values] : by_field.items()) fields.push_back(key);
    j["fields"] = std::move(fields);
  } else {
    const auto f = by_field.find(std::string(field));
    if (f == by_field.end()) {
      return InvalidArgument("invalid_field",
                             fmt::format("'{}' is not an enumerated field", field), "field");
    }
    j["field"] = field;
    j["by_value"] = *f;
  }
  return j;
}

namespace {

Result<std::map<std::string, std::string>> FacilityNames(storage::Store& store) {
  ZG_ASSIGN_OR_RETURN(auto tx, store.Begin(storage::TxMode::kRead));
  return identity::OrganisationsOfKind(*tx, "hospital");
}

}  // namespace

Result<PublicFigures> ComputePublicFigures(storage::Store& store, const SharingSources& sources,
                                           const Clock& clock) {
  std::set<std::string> released;
  if (sources.released_participants) {
    ZG_ASSIGN_OR_RETURN(released, sources.released_participants());
  }
  std::vector<ReleaseCounts> releases;
  if (sources.public_release_counts) {
    ZG_ASSIGN_OR_RETURN(releases, sources.public_release_counts());
  }
  ZG_ASSIGN_OR_RETURN(auto participants, ReadProgress(store, released));
  ZG_ASSIGN_OR_RETURN(auto names, FacilityNames(store));
  return Publish(participants, names, releases, FormatRfc3339(clock.Now()));
}

Status AddPortalRoutes(http::Router& router, storage::Store& store, const Clock& clock,
                       SharingSources sources) {
  ZG_RETURN_IF_ERROR(router.Add(
      {.method = "GET", .pattern = "/api/v1/portal/progress", .action = "portal.read",
       .resource = "portal", .handler = http::Wrap([&store, &clock, sources](http::Request&)
                                                      -> Result<http::Response> {
         ZG_ASSIGN_OR_RETURN(PublicFigures figures, ComputePublicFigures(store, sources, clock));
         return http::Response::Json(200, figures.progress);
       })}));
  return router.Add(
      {.method = "GET", .pattern = "/api/v1/portal/releases", .action = "portal.read",
       .resource = "portal", .handler = http::Wrap([&clock, releases = sources.calendar](
                                                      http::Request&) -> Result<http::Response> {
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
