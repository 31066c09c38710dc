#include "common/actor.h"

#include <algorithm>

namespace zengen {

bool Actor::HasRole(std::string_view role) const {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

}  // namespace zengen
