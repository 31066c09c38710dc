#include "clinical/research_view.h"

namespace zengen::clinical {
namespace {

json Filter(const std::vector<Field>& fields, const json& data) {
  json out = json::object();
  if (!data.is_object()) return out;
  for (const Field& f : fields) {
    if (f.never_public) continue;
    const auto it = data.find(f.code);
    if (it == data.end()) continue;
    if (f.type == FieldType::kList && it->is_array()) {
      json items = json::array();
      for (const json& item : *it) items.push_back(Filter(f.subfields, item));
      out[f.code] = std::move(items);
    } else if (f.type != FieldType::kList) {
      out[f.code] = *it;
    }
  }
  return out;
}

}  // namespace

json PublicFields(const Category& category, const json& data) {
  return Filter(category.fields, data);
}

json ResearchView(const Dictionary& dict,
                  const std::map<std::string, std::vector<Record>>& history_by_category) {
  json out = json::object();
  for (const Category& c : dict.categories) {
    const auto it = history_by_category.find(c.code);
    if (it == history_by_category.end()) continue;
    const Record* newest = nullptr;
    for (const Record& r : it->second) {
      if (r.status == "submitted" && (!newest || r.version > newest->version)) newest = &r;
    }
    if (!newest) continue;
    out[c.code] = {{"version", newest->version},
                   {"dictionary_version", newest->dictionary_version},
                   {"data", PublicFields(c, newest->data)}};
  }
  return out;
}

}  // namespace zengen::clinical
