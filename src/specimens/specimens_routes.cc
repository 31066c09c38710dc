#include "specimens/specimens_routes.h"

#include <fmt/format.h>

namespace zengen::specimens {
namespace {

using http::RequestActor;
using http::Request;
using http::Response;
using nlohmann::json;

using http::Wrap;

json SpecimenJson(const Specimen& s) {
  json j{{"id", s.id},
         {"participant_id", s.participant_id},
         {"hospital", s.hospital},
         {"tumour_normal", s.tumour_normal},
         {"specimen_type", s.specimen_type},
         {"preservation", s.preservation},
         {"collection_date", s.collection_date},
         {"state", s.state},
         {"holder", s.holder},
         {"allowed_next", AllowedNext(s.state)},
         {"created_by", s.created_by},
         {"created_at", s.created_at}};
  j["destination"] = s.destination.empty() ? json(nullptr) : json(s.destination);
  return j;
}

json DetailJson(const SpecimenDetail& d) {
  json j = SpecimenJson(d.specimen);
  json history = json::array();
  for (const auto& e : d.history) {
    json ej{{"seq", e.seq},   {"from", e.from}, {"to", e.to},    {"organisation", e.organisation},
            {"user", e.user}, {"time", e.time}, {"note", e.note}};
    ej["destination"] = e.destination.empty() ? json(nullptr) : json(e.destination);
    history.push_back(std::move(ej));
  }
  j["history"] = std::move(history);
  return j;
}

json ListJson(const std::vector<Specimen>& list) {
  json items = json::array();
  for (const auto& s : list) items.push_back(SpecimenJson(s));
  return {{"items", std::move(items)}};
}

}  // namespace

Status AddSpecimenRoutes(http::Router& router, Specimens& specimens,
                         const http::Authorizer& authorizer) {
  const http::Authorizer* authz = &authorizer;
  Specimens* sp = &specimens;

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "POST",
      .pattern = "/api/v1/participants/{id}/specimens",
      .action = "specimen.write",
      .resource = "participant",
      .max_body_bytes = kMaxBodyBytes,
      .handler = Wrap([sp, authz](Request& req) -> Result<Response> {
        const std::string& pid = req.path_params.at("id");
        ZG_ASSIGN_OR_RETURN(auto resource, sp->ParticipantResource(pid));
        ZG_RETURN_IF_ERROR(authz->Check(req, "specimen.write", resource));
        ZG_ASSIGN_OR_RETURN(json body, http::ParseJsonBody(req));
        ZG_RETURN_IF_ERROR(http::OnlyFields(
            body, {"tumour_normal", "specimen_type", "preservation", "collection_date", "note"}));
        NewSpecimen n;
        n.participant_id = pid;
        ZG_ASSIGN_OR_RETURN(n.tumour_normal, http::JsonString(body, "tumour_normal", true));
        ZG_ASSIGN_OR_RETURN(n.specimen_type, http::JsonString(body, "specimen_type", true));
        ZG_ASSIGN_OR_RETURN(n.preservation, http::JsonString(body, "preservation", true));
        ZG_ASSIGN_OR_RETURN(n.collection_date, http::JsonString(body, "collection_date", true));
        ZG_ASSIGN_OR_RETURN(n.note, http::JsonString(body, "note", false));
        ZG_ASSIGN_OR_RETURN(Specimen s, sp->Register(n, RequestActor(req)));
        ZG_ASSIGN_OR_RETURN(SpecimenDetail d, sp->Get(s.id));
        return Response::Json(201, DetailJson(d));
      }),
  }));

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "GET",
      .pattern = "/api/v1/participants/{id}/specimens",
      .action = "specimen.read",
      .resource = "participant",
      .handler = Wrap([sp, authz](Request& req) -> Result<Response> {
        const std::string& pid = req.path_params.at("id");
        ZG_ASSIGN_OR_RETURN(auto resource, sp->ParticipantResource(pid));
        ZG_RETURN_IF_ERROR(authz->Check(req, "specimen.read", resource));
        ZG_ASSIGN_OR_RETURN(auto list, sp->ListForParticipant(pid));
        return Response::Json(200, ListJson(list));
      }),
  }));

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "GET",
      .pattern = "/api/v1/specimens/{id}",
      .action = "specimen.read",
      .resource = "specimen",
      .handler = Wrap([sp, authz](Request& req) -> Result<Response> {
        const std::string& id = req.path_params.at("id");
        ZG_ASSIGN_OR_RETURN(auto resource, sp->ReadResource(id, req.subject));
        ZG_RETURN_IF_ERROR(authz->Check(req, "specimen.read", resource));
        ZG_ASSIGN_OR_RETURN(SpecimenDetail d, sp->Get(id));
        return Response::Json(200, DetailJson(d));
      }),
  }));

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "POST",
      .pattern = "/api/v1/specimens/{id}/custody",
      .action = "specimen.custody",
      .resource = "specimen",
      .max_body_bytes = kMaxBodyBytes,
      .handler = Wrap([sp, authz](Request& req) -> Result<Response> {
        const std::string& id = req.path_params.at("id");
        ZG_ASSIGN_OR_RETURN(json body, http::ParseJsonBody(req));
        ZG_RETURN_IF_ERROR(http::OnlyFields(body, {"to", "note", "destination"}));
        CustodyStep step;
        ZG_ASSIGN_OR_RETURN(step.to, http::JsonString(body, "to", true));
        ZG_ASSIGN_OR_RETURN(step.note, http::JsonString(body, "note", false));
        ZG_ASSIGN_OR_RETURN(step.destination, http::JsonString(body, "destination", false));
        ZG_ASSIGN_OR_RETURN(auto resource, sp->CustodyResource(id, step.to, req.subject));
        ZG_RETURN_IF_ERROR(authz->Check(req, "specimen.custody", resource));
        ZG_ASSIGN_OR_RETURN(SpecimenDetail d, sp->Custody(id, step, RequestActor(req)));
        return Response::Json(200, DetailJson(d));
      }),
  }));

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "GET",
      .pattern = "/api/v1/specimens",
      .action = "specimen.read",
      .resource = "specimen",
      .handler = Wrap([sp, authz](Request& req) -> Result<Response> {
        std::string holder = req.subject.organisation;
        if (auto it = req.query.find("holder"); it != req.query.end()) holder = it->second;
        if (holder.empty()) {
          return InvalidArgument("missing_field", "'holder' is required", "holder");
        }
        std::string state;
        if (auto it = req.query.find("state"); it != req.query.end()) state = it->second;
        ZG_RETURN_IF_ERROR(authz->Check(req, "specimen.read", {"specimen", "", holder, holder}));
        ZG_ASSIGN_OR_RETURN(auto list, sp->ListHeldBy(holder, state));
        return Response::Json(200, ListJson(list));
      }),
  }));

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "GET",
      .pattern = "/api/v1/shipments/incoming",
      .action = "specimen.read",
      .resource = "specimen",
      .handler = Wrap([sp, authz](Request& req) -> Result<Response> {
        // Always the caller's own organisation: there is no parameter to name another.
        const std::string org = req.subject.organisation;
        ZG_RETURN_IF_ERROR(authz->Check(req, "specimen.read", {"specimen", "", org, org}));
        ZG_ASSIGN_OR_RETURN(auto list, sp->Incoming(org));
        return Response::Json(200, ListJson(list));
      }),
  }));

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "GET",
      .pattern = "/api/v1/specimen-counts",
      .action = "specimen.read",
      .resource = "specimen",
      .handler = Wrap([sp, authz](Request& req) -> Result<Response> {
        std::string holder;
        if (auto it = req.query.find("holder"); it != req.query.end()) holder = it->second;
        // All holders at once only for those the policy lets past every organisation (data
        // stewards): the check names a holder nobody belongs to.
        const std::string scope = holder.empty() ? std::string("*") : holder;
        ZG_RETURN_IF_ERROR(authz->Check(req, "specimen.read", {"specimen", "", scope, scope}));
        ZG_ASSIGN_OR_RETURN(auto counts, sp->CountByState(holder));
        return Response::Json(200, json{{"holder", holder.empty() ? json(nullptr) : json(holder)},
                                        {"counts", counts}});
      }),
  }));

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "GET",
      .pattern = "/api/v1/custody-table",
      .action = "specimen.read",
      .resource = "specimen",
      .handler = Wrap([authz](Request& req) -> Result<Response> {
        ZG_RETURN_IF_ERROR(authz->Check(req, "specimen.read", {"specimen", "", policy::ScopeOf(req.subject), ""}));
        json rows = json::array();
        for (const auto& t : CustodyTable()) {
          rows.push_back({{"from", t.from},
                          {"to", t.to},
                          {"role", t.role},
                          {"acting_organisation", ActingOrganisationName(t.acting)},
                          {"holder_after", NewHolderName(t.holder_after)},
                          {"needs_destination", t.needs_destination},
                          {"needs_note", t.needs_note},
                          {"description", t.description}});
        }
        json states = json::array();
        for (auto s : kStates) states.push_back(s);
        return Response::Json(200, json{{"states", states}, {"transitions", rows}});
      }),
  }));
  return Status::Ok();
}

}  // namespace zengen::specimens
