#include "identity/directory.h"

namespace zengen::identity {

using storage::Text;

Result<std::string> OrganisationKind(storage::Transaction& tx, std::string_view id) {
  ZG_ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT kind FROM organisations WHERE id = $1",
                                          {Text(std::string(id))}));
  return rows.empty() ? std::string() : rows.rows[0].Text(0);
}

Result<std::string> OrganisationName(storage::Transaction& tx, std::string_view id) {
  ZG_ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT name FROM organisations WHERE id = $1",
                                          {Text(std::string(id))}));
  return rows.empty() ? std::string() : rows.rows[0].Text(0);
}

Result<std::string> UserDisplayName(storage::Transaction& tx, std::string_view id) {
  ZG_ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT display_name FROM users WHERE id = $1",
                                          {Text(std::string(id))}));
  return rows.empty() ? std::string() : rows.rows[0].Text(0);
}

Result<std::map<std::string, std::string>> OrganisationsOfKind(storage::Transaction& tx,
                                                               std::string_view kind) {
  ZG_ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT id, name FROM organisations WHERE kind = $1",
                                          {Text(std::string(kind))}));
  std::map<std::string, std::string> out;
  for (const auto& row : rows.rows) out[row.Text(0)] = row.Text(1);
  return out;
}

Result<bool> ResearchGroupExists(storage::Transaction& tx, std::string_view id) {
  ZG_ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT id FROM research_groups WHERE id = $1",
                                          {Text(std::string(id))}));
  return !rows.empty();
}

Result<std::vector<std::string>> ResearchGroupsOf(storage::Transaction& tx,
                                                  std::string_view user) {
  ZG_ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT group_id FROM research_group_members WHERE "
                                          "user_id = $1 ORDER BY group_id",
                                          {Text(std::string(user))}));
  std::vector<std::string> out;
  for (const auto& r : rows.rows) out.push_back(r.Text(0));
  return out;
}

}  // namespace zengen::identity
