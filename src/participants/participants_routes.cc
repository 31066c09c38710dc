#include "participants/participants_routes.h"

#include <fmt/format.h>

namespace zengen::participants {
namespace {

using http::Request;
using http::Response;
using nlohmann::json;

json ToJson(const Participant& p, bool with_local_id) {
  json j = {{"id", p.id},
            {"hospital", p.hospital},
            {"program", p.program},
            {"disease_category", p.disease_category},
            {"index_date", p.index_date},
            {"created_at", p.created_at}};
  // The link to the patient stays inside the hospital that made it (R5.6).
  if (with_local_id) j["local_id"] = p.local_id;
  return j;
}

Result<std::string> Field(const json& body, const char* name) {
  const auto it = body.find(name);
  if (it == body.end() || !it->is_string()) {
    return InvalidArgument("missing_field", fmt::format("'{}' is required (a string)", name), name);
  }
  return it->get<std::string>();
}

using http::Wrap;


}  // namespace

http::Resolver ParticipantResolver(HospitalLookup hospital_of) {
  return [hospital_of = std::move(hospital_of)](const Request& req) -> Result<http::Target> {
    const auto it = req.path_params.find("id");
    if (it == req.path_params.end() || it->second.empty()) {
      return NotFound("participant_not_found", "no participant ''");
    }
    ZG_ASSIGN_OR_RETURN(std::string hospital, hospital_of(it->second));
    http::Target t;
    t.resource = {"participant", it->second, std::move(hospital), ""};
    return t;
  };
}

http::Resolver ParticipantById(Registry& registry) {
  Registry* reg = &registry;
  return ParticipantResolver([reg](std::string_view id) -> Result<std::string> {
    ZG_ASSIGN_OR_RETURN(Participant p, reg->Get(id));
    return p.hospital;
  });
}

Status AddParticipantRoutes(http::Router& router, Registry& registry) {
  Registry* reg = &registry;
  ZG_RETURN_IF_ERROR(router.Add(
      {.method = "POST", .pattern = "/api/v1/participants", .action = "participant.write",
       .resource = "participant", .max_body_bytes = 8192,
       .handler = Wrap([reg](Request& req) -> Result<Response> {
         ZG_ASSIGN_OR_RETURN(json body, http::ParseJsonBody(req));
         NewParticipant p;
         // The route's resolver (http::CallerScope) decided for the caller's own hospital, the
         // one a participant is registered into.
         p.hospital = req.subject.organisation;
         ZG_ASSIGN_OR_RETURN(p.local_id, Field(body, "local_id"));
         ZG_ASSIGN_OR_RETURN(p.program, Field(body, "program"));
         ZG_ASSIGN_OR_RETURN(p.disease_category, Field(body, "disease_category"));
         ZG_ASSIGN_OR_RETURN(p.index_date, Field(body, "index_date"));
         ZG_ASSIGN_OR_RETURN(auto r, reg->Register(p, req.subject.id, req.remote_address,
                                                   req.request_id));
         return Response::Json(r.created ? 201 : 200,
                               {{"participant", ToJson(r.participant, true)},
                                {"created", r.created}});
       })}));
  ZG_RETURN_IF_ERROR(router.Add(
      {.method = "GET", .pattern = "/api/v1/participants", .action = "participant.read",
       .resource = "participant", .handler = Wrap([reg](Request& req) -> Result<Response> {
         ZG_ASSIGN_OR_RETURN(int64_t limit, http::IntQueryParam(req, "limit", 100, 1, 1000));
         ZG_ASSIGN_OR_RETURN(int64_t offset, http::IntQueryParam(req, "offset", 0, 0, 100000000));
         // The route's resolver (http::CallerScope) decided for the caller's scope: its own
         // hospital, or every hospital for data-center-wide roles. The listing is that scope.
         const std::string hospital = policy::ScopeOf(req.subject);
         ZG_ASSIGN_OR_RETURN(auto list, reg->List(hospital, limit, offset));
         json items = json::array();
         for (const auto& p : list) {
           items.push_back(ToJson(p, p.hospital == req.subject.organisation));
         }
         return Response::Json(200, {{"items", items}, {"limit", limit}, {"offset", offset}});
       })}));
  return router.Add(
      {.method = "GET", .pattern = "/api/v1/participants/{id}", .action = "participant.read",
       .resource = "participant", .handler = Wrap([reg](Request& req) -> Result<Response> {
         // Decided by the policy filter on the participant's hospital (ParticipantById).
         ZG_ASSIGN_OR_RETURN(Participant p, reg->Get(req.path_params.at("id")));
         return Response::Json(200, ToJson(p, p.hospital == req.subject.organisation));
       }),
       .resolve = ParticipantById(registry)});
}

}  // namespace zengen::participants
