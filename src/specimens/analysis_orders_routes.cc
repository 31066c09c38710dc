#include "specimens/analysis_orders_routes.h"

#include <fmt/format.h>

#include <algorithm>

#include "http/route_params.h"

namespace zengen::specimens {
namespace {

using http::OrNull;
using http::QueryParam;
using http::Request;
using http::RequestActor;
using http::Response;
using http::Wrap;
using nlohmann::json;

constexpr int64_t kMaxOrderBodyBytes = 16 * 1024;

json RuleJson(const ProgramRule& r) {
  return {{"program", r.program}, {"centre", r.centre}, {"set_by", r.set_by},
          {"set_at", r.set_at}};
}

}  // namespace

json OrderJson(const AnalysisOrder& o) {
  return {{"id", o.id},
          {"specimen_id", o.specimen_id},
          {"centre", o.centre},
          {"state", o.state},
          {"basis", o.basis},
          {"ordered_by", o.ordered_by},
          {"ordered_at", o.ordered_at},
          {"closed_by", OrNull(o.closed_by)},
          {"closed_at", OrNull(o.closed_at)},
          {"reason", OrNull(o.reason)}};
}

http::Resolver ResolveSpecimenOrders(AnalysisOrders& orders) {
  AnalysisOrders* ao = &orders;
  return http::ResolveWith([ao](const Request& req) -> Result<policy::Resource> {
    const std::string specimen = QueryParam(req, "specimen_id");
    if (specimen.empty()) {
      return InvalidArgument("missing_field", "'specimen_id' is required", "specimen_id");
    }
    return ao->SpecimenOrdersResource(specimen, req.subject);
  });
}

Status AddAnalysisOrderRoutes(http::Router& router, AnalysisOrders& orders) {
  AnalysisOrders* ao = &orders;
  // Writes are the data centre's: analysis_order.write is decided on role alone (no
  // organisation narrows it), so the routes keep the router's resolver for the kind.

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "POST",
      .pattern = "/api/v1/analysis-orders",
      .action = "analysis_order.write",
      .resource = "analysis_order",
      .max_body_bytes = kMaxOrderBodyBytes,
      .handler = Wrap([ao](Request& req) -> Result<Response> {
        ZG_ASSIGN_OR_RETURN(json body, http::ParseJsonBody(req));
        ZG_RETURN_IF_ERROR(http::OnlyFields(body, {"specimen_id", "centre"}));
        NewOrder n;
        ZG_ASSIGN_OR_RETURN(n.specimen_id, http::JsonString(body, "specimen_id", true, 64));
        ZG_ASSIGN_OR_RETURN(n.centre, http::JsonString(body, "centre", true, 64));
        ZG_ASSIGN_OR_RETURN(AnalysisOrder o, ao->Create(n, RequestActor(req)));
        return Response::Json(201, OrderJson(o));
      }),
  }));

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "GET",
      .pattern = "/api/v1/analysis-orders",
      .action = "analysis_order.read",
      .resource = "analysis_order",
      .handler = Wrap([ao](Request& req) -> Result<Response> {
        // The specimen the resolver (ResolveSpecimenOrders) decided on; ListForSpecimen then
        // selects the orders this caller's party sees (data selection, not a decision).
        ZG_ASSIGN_OR_RETURN(auto list, ao->ListForSpecimen(QueryParam(req, "specimen_id"), req.subject));
        json items = json::array();
        for (const auto& o : list) items.push_back(OrderJson(o));
        return Response::Json(200, json{{"items", items}});
      }),
      .resolve = ResolveSpecimenOrders(orders),
  }));

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "POST",
      .pattern = "/api/v1/analysis-orders/{id}/cancel",
      .action = "analysis_order.write",
      .resource = "analysis_order",
      .max_body_bytes = kMaxOrderBodyBytes,
      .handler = Wrap([ao](Request& req) -> Result<Response> {
        ZG_ASSIGN_OR_RETURN(json body, http::ParseJsonBody(req));
        ZG_RETURN_IF_ERROR(http::OnlyFields(body, {"reason"}));
        ZG_ASSIGN_OR_RETURN(std::string reason, http::JsonString(body, "reason", true));
        ZG_ASSIGN_OR_RETURN(AnalysisOrder o,
                            ao->Cancel(req.path_params.at("id"), reason, RequestActor(req)));
        return Response::Json(200, OrderJson(o));
      }),
  }));

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "GET",
      .pattern = "/api/v1/analysis-order-rules",
      .action = "analysis_order.write",
      .resource = "analysis_order",
      .handler = Wrap([ao](Request&) -> Result<Response> {
        ZG_ASSIGN_OR_RETURN(auto rules, ao->ListRules());
        json items = json::array();
        for (const auto& r : rules) items.push_back(RuleJson(r));
        return Response::Json(200, json{{"items", items}});
      }),
  }));

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "PUT",
      .pattern = "/api/v1/analysis-order-rules/{program}",
      .action = "analysis_order.write",
      .resource = "analysis_order",
      .max_body_bytes = kMaxOrderBodyBytes,
      .handler = Wrap([ao](Request& req) -> Result<Response> {
        ZG_ASSIGN_OR_RETURN(json body, http::ParseJsonBody(req));
        ZG_RETURN_IF_ERROR(http::OnlyFields(body, {"centre"}));
        ZG_ASSIGN_OR_RETURN(std::string centre, http::JsonString(body, "centre", true, 64));
        ZG_ASSIGN_OR_RETURN(ProgramRule r,
                            ao->SetRule(req.path_params.at("program"), centre, RequestActor(req)));
        return Response::Json(200, RuleJson(r));
      }),
  }));

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "DELETE",
      .pattern = "/api/v1/analysis-order-rules/{program}",
      .action = "analysis_order.write",
      .resource = "analysis_order",
      .handler = Wrap([ao](Request& req) -> Result<Response> {
        ZG_RETURN_IF_ERROR(ao->ClearRule(req.path_params.at("program"), RequestActor(req)));
        return Response::Json(200, json{{"program", req.path_params.at("program")},
                                        {"cleared", true}});
      }),
  }));
  return Status::Ok();
}

Status AddOrganisationDirectoryRoute(http::Router& router, identity::Identity& identity) {
  identity::Identity* id = &identity;
  return router.Add({
      .method = "GET",
      .pattern = "/api/v1/organisations",
      .action = "org.directory",
      .resource = "organisation",
      .handler = Wrap([id](Request& req) -> Result<Response> {
        std::string kind = QueryParam(req, "kind");
        if (kind == "analysis_centre") kind = "analysis_center";  // British spelling
        if (!kind.empty() && std::find(std::begin(identity::kOrganisationKinds),
                                       std::end(identity::kOrganisationKinds),
                                       kind) == std::end(identity::kOrganisationKinds)) {
          return InvalidArgument("invalid_parameter",
                                 "'kind' must be hospital, sequencing_facility, "
                                 "analysis_center, data_center, academic or industry",
                                 "kind");
        }
        ZG_ASSIGN_OR_RETURN(auto orgs, id->ListOrganisations());
        json items = json::array();
        for (const auto& o : orgs) {
          if (kind.empty() || o.kind == kind) {
            items.push_back({{"id", o.id}, {"name", o.name}, {"kind", o.kind}});
          }
        }
        return Response::Json(200, json{{"items", items}});
      }),
  });
}

}  // namespace zengen::specimens
