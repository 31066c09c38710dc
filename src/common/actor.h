// Who asks for a change, with what authority: taken from the authenticated policy subject by
// the routes (http::ActorOf), or "cli" / "system" outside requests. Modules record it in their
// audit events and check its roles and organisation in their own guards.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace zengen {

struct Actor {
  std::string user;
  std::string organisation;
  std::vector<std::string> roles;
  std::string source;      // IP address, or "cli" / "system"
  std::string request_id;  // empty outside requests
  bool HasRole(std::string_view role) const;
};

}  // namespace zengen
