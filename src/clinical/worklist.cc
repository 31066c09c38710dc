#include "clinical/worklist.h"

#include <algorithm>
#include <map>

#include "clinical/validate.h"

namespace zengen::clinical {
namespace {


bool Matches(const WorklistRow& r, WorklistFilter f) {
  const auto has = [&](std::string_view d) {
    return std::find(r.due.begin(), r.due.end(), d) != r.due.end();
  };
  switch (f) {
    case WorklistFilter::kAll:
      return true;
    case WorklistFilter::kDue:
      return !r.due.empty();
    case WorklistFilter::kIncomplete:
      return has("complete_categories");
    case WorklistFilter::kConsentDue:
      return has("record_consent");
    case WorklistFilter::kWithdrawn:
      return has("withdrawn");
  }
  return true;
}

}  // namespace

Result<WorklistPage> Worklist(storage::Store& store, const Dictionary& dict,
                              const ConsentStateFn& consent_state, const WorklistQuery& query) {
  const bool every = query.hospital == "*";
  std::vector<WorklistRow> rows;
  std::map<std::string, std::map<std::string, std::pair<std::string, json>>> current;
  {
    ZG_ASSIGN_OR_RETURN(auto tx, store.Begin(storage::TxMode::kRead));
    const std::string where = every ? "" : " WHERE p.hospital_id = $1";
    std::vector<storage::Value> args;
    if (!every) args.push_back(storage::Text(query.hospital));
    ZG_ASSIGN_OR_RETURN(
        auto ps, tx->Query("SELECT p.id, p.hospital_id, p.local_id, p.program, p.disease_category, "
                           "p.index_date FROM participants p" + where + " ORDER BY p.id",
                           args));
    ZG_ASSIGN_OR_RETURN(
        auto rs,
        tx->Query("SELECT r.participant_id, r.category, r.status, r.data FROM clinical_records r "
                  "JOIN participants p ON p.id = r.participant_id" + where +
                      (every ? " WHERE" : " AND") +
                      " r.version = (SELECT MAX(s.version) FROM clinical_records s WHERE "
                      "s.participant_id = r.participant_id AND s.category = r.category)",
                  args));
    for (const auto& r : rs.rows) {
      current[r.Text(0)][r.Text(1)] = {r.Text(2), json::parse(r.Text(3), nullptr, false)};
    }
    for (const auto& p : ps.rows) {
      WorklistRow row;
      row.participant_id = p.Text(0);
      row.hospital = p.Text(1);
      row.local_id = p.Text(2);
      row.program = p.Text(3);
      row.disease_category = p.Text(4);
      row.index_date = p.Text(5);
      rows.push_back(std::move(row));
    }
  }
  for (auto& row : rows) {
    const auto recs = current.find(row.participant_id);
    bool missing = false;
    for (const auto& c : dict.categories) {
      WorklistCategory wc{c.code, "empty", 0, 0};
      json data = json::object();
      if (recs != current.end()) {
        if (const auto it = recs->second.find(c.code); it != recs->second.end()) {
          wc.status = it->second.first;
          data = it->second.second;
        }
      }
      const Completeness done = ComputeCompleteness(c, data, row.program);
      wc.filled = done.filled;
      wc.applicable = done.applicable;
      if (wc.status == "submitted" && done.complete()) {
        ++row.complete;
      } else {
        missing = true;
      }
      row.categories.push_back(std::move(wc));
    }
    ZG_ASSIGN_OR_RETURN(row.consent, consent_state(row.participant_id));
    if (row.consent == "none") row.due.push_back("record_consent");
    if (row.consent == "withdrawn_no_new_data" || row.consent == "withdrawn_full") {
      row.due.push_back("withdrawn");
    } else if (missing) {
      // Entering the missing categories is due only while new data may be entered.
      row.due.push_back("complete_categories");
    }
  }
  std::erase_if(rows, [&](const WorklistRow& r) { return !Matches(r, query.filter); });
  if (query.sort == WorklistSort::kLeastComplete) {
    std::stable_sort(rows.begin(), rows.end(), [](const WorklistRow& a, const WorklistRow& b) {
      return a.complete < b.complete;
    });
  } else if (query.sort == WorklistSort::kIndexDate) {
    std::stable_sort(rows.begin(), rows.end(), [](const WorklistRow& a, const WorklistRow& b) {
      return a.index_date > b.index_date;
    });
  }
  WorklistPage page;
  page.total = static_cast<int64_t>(rows.size());
  const auto from = std::min<int64_t>(query.offset, page.total);
  const auto to = std::min<int64_t>(from + query.limit, page.total);
  for (auto i = from; i < to; ++i) page.rows.push_back(std::move(rows[static_cast<size_t>(i)]));
  return page;
}

}  // namespace zengen::clinical
