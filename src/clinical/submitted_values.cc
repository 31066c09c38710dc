#include "clinical/submitted_values.h"

#include <map>

#include <nlohmann/json.hpp>

namespace zengen::clinical {

Result<std::vector<std::optional<std::string>>> LatestSubmittedValues(
    storage::Transaction& tx, std::string_view participant_id, const std::vector<FieldRef>& fields) {
  std::vector<std::optional<std::string>> out(fields.size());
  if (fields.empty()) return out;
  ZG_ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT category, data FROM clinical_records WHERE "
                                          "participant_id = $1 AND status = 'submitted' "
                                          "ORDER BY category, version DESC",
                                          {storage::Text(std::string(participant_id))}));
  // The first row of each category is its highest submitted version.
  std::map<std::string, nlohmann::json> latest;
  for (const auto& row : rows.rows) {
    if (latest.contains(row.Text(0))) continue;
    nlohmann::json data = nlohmann::json::parse(row.Text(1), nullptr, false);
    latest[row.Text(0)] = data.is_object() ? std::move(data) : nlohmann::json::object();
  }
  for (size_t i = 0; i < fields.size(); ++i) {
    const auto c = latest.find(fields[i].category);
    if (c == latest.end()) continue;
    if (auto it = c->second.find(fields[i].code); it != c->second.end() && it->is_string()) {
      out[i] = it->get<std::string>();
    }
  }
  return out;
}

}  // namespace zengen::clinical
