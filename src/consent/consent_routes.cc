#include "consent/consent_routes.h"

#include <fmt/format.h>

#include "http/route_params.h"
#include "participants/participants.h"
#include "participants/participants_routes.h"

namespace zengen::consent {
namespace {

using http::ActorAs;
using http::Request;
using http::Response;
using nlohmann::json;

using http::Wrap;

Result<std::map<std::string, std::string>> DecisionsField(const json& body) {
  const auto it = body.find("decisions");
  if (it == body.end() || !it->is_object()) {
    return InvalidArgument("missing_field", "'decisions' must be an object of item -> decision",
                           "decisions");
  }
  std::map<std::string, std::string> out;
  for (const auto& [code, v] : it->items()) {
    if (!v.is_string()) {
      return InvalidArgument("invalid_decision", "a decision is permit, deny or undecided",
                             "decisions." + code);
    }
    out[code] = v.get<std::string>();
  }
  return out;
}

// The resolver of the participant routes: the participant's hospital comes from the store, so
// the one policy decision refuses a clinician of another hospital (and an unknown participant
// is 404 to those whose roles may ask at all, 403 to the others).
http::Resolver ConsentParticipant(Ledger& ledger) {
  Ledger* l = &ledger;
  return participants::ParticipantResolver([l](std::string_view id) -> Result<std::string> {
    ZG_ASSIGN_OR_RETURN(auto tx, l->store().Begin(storage::TxMode::kRead));
    return participants::HospitalOf(*tx, id);
  });
}

Result<bool> BoolParam(const Request& req, const std::string& name) {
  const auto it = req.query.find(name);
  if (it == req.query.end() || it->second == "false" || it->second == "0") return false;
  if (it->second == "true" || it->second == "1") return true;
  return InvalidArgument("invalid_boolean", fmt::format("'{}' must be true or false", name), name);
}

json StatusJson(Ledger& ledger, const ConsentStatus& s) {
  json history = json::array();
  for (const auto& r : s.history) history.push_back(RecordJson(r));
  json out = {{"participant_id", s.participant_id},
              {"program", s.program},
              {"state", StateName(s.state)},
              {"current", s.current ? RecordJson(*s.current) : json(nullptr)},
              {"profile", ProfileJson(s.profile)},
              {"history", std::move(history)}};
  if (s.current) {
    auto icf = ledger.GetIcf(s.program, s.current->icf_version, s.current->icf_language);
    if (icf.ok()) out["fhir"] = FhirConsent(*s.current, *icf, true);
  }
  return out;
}

}  // namespace

Status AddConsentRoutes(http::Router& router, Ledger& ledger) {
  Ledger* l = &ledger;
  const http::Resolver participant = ConsentParticipant(ledger);

  // ---- ICF versions
  ZG_RETURN_IF_ERROR(router.Add({.method = "GET",
                                 .pattern = "/api/v1/icf",
                                 .action = "icf.read",
                                 .resource = "icf",
                                 .handler = Wrap([l](Request&) -> Result<Response> {
                                   ZG_ASSIGN_OR_RETURN(auto list, l->ListIcfVersions());
                                   json items = json::array();
                                   for (const auto& v : list) {
                                     items.push_back({{"program", v.program},
                                                      {"version", v.version},
                                                      {"language", v.language},
                                                      {"effective_date", v.effective_date},
                                                      {"created_at", v.created_at}});
                                   }
                                   return Response::Json(200, {{"items", items}});
                                 })}));
  ZG_RETURN_IF_ERROR(router.Add({.method = "GET",
                                 .pattern = "/api/v1/icf/{program}/{version}/{language}",
                                 .action = "icf.read",
                                 .resource = "icf",
                                 .handler = Wrap([l](Request& req) -> Result<Response> {
                                   ZG_ASSIGN_OR_RETURN(IcfVersion icf,
                                                       l->GetIcf(req.path_params["program"],
                                                                 req.path_params["version"],
                                                                 req.path_params["language"]));
                                   return Response::Json(200, IcfJson(icf));
                                 })}));
  ZG_RETURN_IF_ERROR(
      router.Add({.method = "POST",
                  .pattern = "/api/v1/icf",
                  .action = "icf.write",
                  .resource = "icf",
                  .max_body_bytes = kMaxConsentBodyBytes,
                  .handler = Wrap([l](Request& req) -> Result<Response> {
                    ZG_ASSIGN_OR_RETURN(json body, http::ParseJsonBody(req));
                    IcfVersion in;
                    ZG_ASSIGN_OR_RETURN(in.program, http::JsonString(body, "program", true, 256));
                    ZG_ASSIGN_OR_RETURN(in.version, http::JsonString(body, "version", true, 256));
                    ZG_ASSIGN_OR_RETURN(in.language, http::JsonString(body, "language", true, 256));
                    ZG_ASSIGN_OR_RETURN(in.effective_date,
                                        http::JsonString(body, "effective_date", true, 256));
                    if (!body.contains("items")) {
                      return InvalidArgument("missing_field", "'items' is required", "items");
                    }
                    ZG_ASSIGN_OR_RETURN(in.items, ParseCatalogue(body["items"]));
                    ZG_ASSIGN_OR_RETURN(IcfVersion icf,
                                        l->RegisterIcfVersion(in, ActorAs<Actor>(req)));
                    return Response::Json(201, IcfJson(icf));
                  })}));

  // ---- participants' consents
  ZG_RETURN_IF_ERROR(router.Add({.method = "GET",
                                 .pattern = "/api/v1/participants/{id}/consents",
                                 .action = "consent.read",
                                 .resource = "participant",
                                 .handler = Wrap([l](Request& req) -> Result<Response> {
                                   const std::string id = req.path_params["id"];
                                   ZG_ASSIGN_OR_RETURN(ConsentStatus s, l->Current(id));
                                   return Response::Json(200, StatusJson(*l, s));
                                 }),
       .resolve = participant}));
  ZG_RETURN_IF_ERROR(router.Add(
      {.method = "POST",
       .pattern = "/api/v1/participants/{id}/consents",
       .action = "consent.write",
       .resource = "participant",
       .max_body_bytes = kMaxConsentBodyBytes,
       .handler = Wrap([l](Request& req) -> Result<Response> {
         const std::string id = req.path_params["id"];
         ZG_ASSIGN_OR_RETURN(json body, http::ParseJsonBody(req));
         ConsentInput in;
         ZG_ASSIGN_OR_RETURN(in.kind, http::JsonString(body, "kind", true, 256));
         ZG_ASSIGN_OR_RETURN(in.icf_version, http::JsonString(body, "icf_version", true, 256));
         ZG_ASSIGN_OR_RETURN(in.language, http::JsonString(body, "language", true, 256));
         ZG_ASSIGN_OR_RETURN(in.signed_date, http::JsonString(body, "signed_date", true, 256));
         ZG_ASSIGN_OR_RETURN(in.decisions, DecisionsField(body));
         if (!body.contains("details")) {
           return InvalidArgument("missing_field", "'details' is required", "details");
         }
         in.details = body["details"];
         ZG_ASSIGN_OR_RETURN(ConsentRecord r, l->Record(id, in, ActorAs<Actor>(req)));
         ZG_ASSIGN_OR_RETURN(ConsentStatus s, l->Current(id));
         return Response::Json(201, {{"record", RecordJson(r)},
                                     {"state", StateName(s.state)},
                                     {"profile", ProfileJson(s.profile)}});
       }),
       .resolve = participant}));
  ZG_RETURN_IF_ERROR(router.Add(
      {.method = "POST",
       .pattern = "/api/v1/participants/{id}/withdrawal",
       .action = "consent.write",
       .resource = "participant",
       .max_body_bytes = kMaxConsentBodyBytes,
       .handler = Wrap([l](Request& req) -> Result<Response> {
         const std::string id = req.path_params["id"];
         ZG_ASSIGN_OR_RETURN(json body, http::ParseJsonBody(req));
         WithdrawalInput in;
         ZG_ASSIGN_OR_RETURN(in.level, http::JsonString(body, "level", true, 256));
         ZG_ASSIGN_OR_RETURN(in.signed_date, http::JsonString(body, "signed_date", true, 256));
         ZG_ASSIGN_OR_RETURN(in.reason, http::JsonString(body, "reason", false, 2000));
         ZG_ASSIGN_OR_RETURN(WithdrawalResult w, l->Withdraw(id, in, ActorAs<Actor>(req)));
         return Response::Json(201, {{"record", RecordJson(w.record)},
                                     {"state", StateName(w.record.state())},
                                     {"notify", w.notify}});
       }),
       .resolve = participant}));
  ZG_RETURN_IF_ERROR(router.Add(
      {.method = "GET",
       .pattern = "/api/v1/participants/{id}/permits",
       .action = "consent.read",
       .resource = "participant",
       .handler = Wrap([l](Request& req) -> Result<Response> {
         const std::string id = req.path_params["id"];
         const auto kind_it = req.query.find("purpose");
         const auto kind =
             kind_it == req.query.end() ? std::nullopt : ParsePurposeKind(kind_it->second);
         if (!kind) {
           return InvalidArgument("invalid_purpose",
                                  "purpose must be research, linkage, new_data, recontact, "
                                  "primary_findings or secondary_findings",
                                  "purpose");
         }
         Purpose p;
         p.kind = *kind;
         if (auto it = req.query.find("category"); it != req.query.end()) p.category = it->second;
         if (auto it = req.query.find("disease"); it != req.query.end()) p.disease = it->second;
         ZG_ASSIGN_OR_RETURN(p.commercial, BoolParam(req, "commercial"));
         ZG_ASSIGN_OR_RETURN(p.overseas, BoolParam(req, "overseas"));
         ZG_ASSIGN_OR_RETURN(p.methods_development, BoolParam(req, "methods_development"));
         ZG_ASSIGN_OR_RETURN(p.reinterpretation, BoolParam(req, "reinterpretation"));
         ZG_ASSIGN_OR_RETURN(Decision d, Permits(l->store(), id, p));
         return Response::Json(200, {{"allowed", d.allowed}, {"reason", d.reason}});
       }),
       .resolve = participant}));
  return Status::Ok();
}

}  // namespace zengen::consent
