#include "specimens/specimens_routes.h"

#include <fmt/format.h>

#include "http/route_params.h"
#include "participants/participants_routes.h"

namespace zengen::specimens {
namespace {

using http::QueryParam;
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

// The holder GET /specimens lists: ?holder= when given, else the caller's organisation.
// Error: 400 "missing_field" naming `holder` when that is empty.
Result<std::string> HolderParam(const Request& req) {
  std::string holder = req.query.contains("holder") ? QueryParam(req, "holder")
                                                    : req.subject.organisation;
  if (holder.empty()) return InvalidArgument("missing_field", "'holder' is required", "holder");
  return holder;
}

// The custody step a POST .../custody asks for. Errors: 400 naming the field.
Result<CustodyStep> ParseCustodyStep(const Request& req) {
  ZG_ASSIGN_OR_RETURN(json body, http::ParseJsonBody(req));
  ZG_RETURN_IF_ERROR(http::OnlyFields(body, {"to", "note", "destination"}));
  CustodyStep step;
  ZG_ASSIGN_OR_RETURN(step.to, http::JsonString(body, "to", true));
  ZG_ASSIGN_OR_RETURN(step.note, http::JsonString(body, "note", false));
  ZG_ASSIGN_OR_RETURN(step.destination, http::JsonString(body, "destination", false));
  return step;
}

}  // namespace

http::Resolver SpecimenParticipant(Specimens& specimens) {
  Specimens* sp = &specimens;
  return participants::ParticipantResolver([sp](std::string_view id) -> Result<std::string> {
    ZG_ASSIGN_OR_RETURN(policy::Resource r, sp->ParticipantResource(id));
    return r.organisation;
  });
}

http::Resolver ResolveSpecimen(Specimens& specimens) {
  Specimens* sp = &specimens;
  return http::ResolveWith([sp](const Request& req) {
    return sp->ReadResource(req.path_params.at("id"), req.subject);
  });
}

http::Resolver ResolveHolder() {
  return http::ResolveWith([](const Request& req) -> Result<policy::Resource> {
    ZG_ASSIGN_OR_RETURN(std::string holder, HolderParam(req));
    return policy::Resource{"specimen", "", holder, holder};
  });
}

http::Resolver ResolveCountsScope() {
  return http::ResolveWith([](const Request& req) -> Result<policy::Resource> {
    // All holders at once is every organisation ("*"): only data-center-wide roles pass.
    std::string scope = QueryParam(req, "holder");
    if (scope.empty()) scope = std::string(policy::kEveryOrganisation);
    return policy::Resource{"specimen", "", scope, scope};
  });
}

Status AddSpecimenRoutes(http::Router& router, Specimens& specimens) {
  Specimens* sp = &specimens;
  const http::Resolver participant = SpecimenParticipant(specimens);

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "POST",
      .pattern = "/api/v1/participants/{id}/specimens",
      .action = "specimen.write",
      .resource = "participant",
      .max_body_bytes = kMaxBodyBytes,
      .handler = Wrap([sp](Request& req) -> Result<Response> {
        const std::string& pid = req.path_params.at("id");
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
      .resolve = participant,
  }));

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "GET",
      .pattern = "/api/v1/participants/{id}/specimens",
      .action = "specimen.read",
      .resource = "participant",
      .handler = Wrap([sp](Request& req) -> Result<Response> {
        ZG_ASSIGN_OR_RETURN(auto list, sp->ListForParticipant(req.path_params.at("id")));
        return Response::Json(200, ListJson(list));
      }),
      .resolve = participant,
  }));

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "GET",
      .pattern = "/api/v1/specimens/{id}",
      .action = "specimen.read",
      .resource = "specimen",
      .handler = Wrap([sp](Request& req) -> Result<Response> {
        ZG_ASSIGN_OR_RETURN(SpecimenDetail d, sp->Get(req.path_params.at("id")));
        return Response::Json(200, DetailJson(d));
      }),
      .resolve = ResolveSpecimen(specimens),
  }));

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "POST",
      .pattern = "/api/v1/specimens/{id}/custody",
      .action = "specimen.custody",
      .resource = "specimen",
      .max_body_bytes = kMaxBodyBytes,
      .handler = Wrap([sp](Request& req) -> Result<Response> {
        ZG_ASSIGN_OR_RETURN(CustodyStep step, ParseCustodyStep(req));
        ZG_ASSIGN_OR_RETURN(SpecimenDetail d,
                            sp->Custody(req.path_params.at("id"), step, RequestActor(req)));
        return Response::Json(200, DetailJson(d));
      }),
      // The decision is taken before the body arrives (the server reads it only once the
      // request is admitted), so it cannot depend on `to`: the resource admits the parties to
      // the specimen (ResolveSpecimen: hospital, holder, destination in transit, ordered
      // centre), and the custody table inside Specimens::Custody decides which party makes
      // which step (403 wrong_role / wrong_organisation, audited).
      .resolve = ResolveSpecimen(specimens),
  }));

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "GET",
      .pattern = "/api/v1/specimens",
      .action = "specimen.read",
      .resource = "specimen",
      .handler = Wrap([sp](Request& req) -> Result<Response> {
        // The holder the resolver (ResolveHolder) decided on.
        ZG_ASSIGN_OR_RETURN(std::string holder, HolderParam(req));
        ZG_ASSIGN_OR_RETURN(auto list, sp->ListHeldBy(holder, QueryParam(req, "state")));
        return Response::Json(200, ListJson(list));
      }),
      .resolve = ResolveHolder(),
  }));

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "GET",
      .pattern = "/api/v1/shipments/incoming",
      .action = "specimen.read",
      .resource = "specimen",
      .handler = Wrap([sp](Request& req) -> Result<Response> {
        // Data selection, not a decision: always the caller's own organisation (there is no
        // parameter to name another), which the route's resolver (http::CallerScope) decided.
        ZG_ASSIGN_OR_RETURN(auto list, sp->Incoming(req.subject.organisation));
        return Response::Json(200, ListJson(list));
      }),
  }));

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "GET",
      .pattern = "/api/v1/specimen-counts",
      .action = "specimen.read",
      .resource = "specimen",
      .handler = Wrap([sp](Request& req) -> Result<Response> {
        // The holder (or all, "") the resolver (ResolveCountsScope) decided on.
        const std::string holder = QueryParam(req, "holder");
        ZG_ASSIGN_OR_RETURN(auto counts, sp->CountByState(holder));
        return Response::Json(200, json{{"holder", holder.empty() ? json(nullptr) : json(holder)},
                                        {"counts", counts}});
      }),
      .resolve = ResolveCountsScope(),
  }));

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "GET",
      .pattern = "/api/v1/custody-table",
      .action = "specimen.read",
      .resource = "specimen",
      // Decided on role within the caller's scope (http::CallerScope): the table is no one's data.
      .handler = Wrap([](Request&) -> Result<Response> {
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
