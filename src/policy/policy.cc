#include "policy/policy.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

namespace zengen::policy {
namespace {

struct Rule {
  bool is_public = false;               // anyone, even anonymous
  std::vector<std::string_view> roles;  // otherwise: an authenticated subject with one of these
};

// The rule table. Reading it answers "who may do what".
const std::map<std::string, Rule, std::less<>>& Rules() {
  static const auto* rules = new std::map<std::string, Rule, std::less<>>{
      {"system.health", {.is_public = true}},
      {"system.version", {.is_public = true}},
      {"setting.read", {.is_public = true}},
      {"setting.write", {.roles = {"data_steward"}}},
  };
  return *rules;
}

}  // namespace

bool Subject::HasRole(std::string_view role) const {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

Decision Decide(const Subject& subject, std::string_view action, const Resource& resource,
                const Context& /*context*/) {
  const auto& rules = Rules();
  const auto it = rules.find(action);
  if (it == rules.end()) {
    return {Effect::kDeny, fmt::format("no rule allows action '{}'", action), {}};
  }
  const Rule& rule = it->second;
  if (rule.is_public) return {Effect::kAllow, "public action", {}};
  if (!subject.authenticated) {
    return {Effect::kDeny, fmt::format("'{}' on {} requires authentication", action,
                                       resource.kind), {}};
  }
  for (auto role : rule.roles) {
    if (subject.HasRole(role)) {
      return {Effect::kAllow, fmt::format("role {} may {}", role, action), {}};
    }
  }
  return {Effect::kDeny, fmt::format("none of the subject's roles may '{}'", action), {}};
}

std::vector<std::string> KnownActions() {
  std::vector<std::string> out;
  for (const auto& [name, rule] : Rules()) out.push_back(name);
  return out;
}

}  // namespace zengen::policy
