#include "storage/columns.h"

namespace zengen::storage {

using nlohmann::json;

std::string SafeDump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::vector<std::string> ParseStringList(const std::string& text) {
  std::vector<std::string> out;
  const json j = json::parse(text, nullptr, false);
  if (j.is_array()) {
    for (const auto& e : j) {
      if (e.is_string()) out.push_back(e.get<std::string>());
    }
  }
  return out;
}

json ParseJsonOrNull(const std::string& text) {
  if (text.empty()) return nullptr;
  json j = json::parse(text, nullptr, false);
  return j.is_discarded() ? json(nullptr) : j;
}

Value OptText(const std::string& s) { return s.empty() ? Null() : Text(s); }

}  // namespace zengen::storage
