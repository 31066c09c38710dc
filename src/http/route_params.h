// Small readers of a request and writers of a response that the route files share (issue 12
// second reading: each route file had its own copy). Header-only; they never fail.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "http/http.h"

namespace zengen::http {

// The decoded query parameter `name`, or "" when absent (an empty value reads the same).
inline std::string QueryParam(const Request& req, const std::string& name) {
  const auto it = req.query.find(name);
  return it == req.query.end() ? std::string() : it->second;
}

// The path parameter {name} of the matched route, or "" when the request has none of that
// name (a request built without the router).
inline std::string PathParam(const Request& req, const std::string& name) {
  const auto it = req.path_params.find(name);
  return it == req.path_params.end() ? std::string() : it->second;
}

// The id of the resource a route's path names: its {id} parameter, else its {key} parameter,
// else "".
inline std::string ResourceIdParam(const Request& req) {
  for (const char* name : {"id", "key"}) {
    if (auto it = req.path_params.find(name); it != req.path_params.end()) return it->second;
  }
  return "";
}

// The request's actor (RequestActor: the subject's id, "anonymous" when not authenticated,
// the peer address and the request id) as a module's own actor type with the three fields
// {id, source, request_id} in that order (consent::Actor, clinical::Actor).
template <typename ModuleActor>
ModuleActor ActorAs(const Request& req) {
  const Actor a = RequestActor(req);
  return ModuleActor{a.user, a.source, a.request_id};
}

// An optional text field of a response: the string, or JSON null when it is empty.
inline nlohmann::json OrNull(const std::string& s) {
  return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s);
}

}  // namespace zengen::http
