#include "fhir/fhir.h"

#include <fmt/format.h>

#include "clinical/fhir.h"

namespace zengen::fhir {
namespace {

using http::Request;
using http::Response;
using nlohmann::json;

using http::Wrap;


Response FhirJson(const json& body) {
  Response r = Response::Json(200, body);
  r.headers["Content-Type"] = "application/fhir+json";
  return r;
}

}  // namespace

json PatientResource(const participants::Participant& p) {
  return {{"resourceType", "Patient"},
          {"id", p.id},
          {"identifier", json::array({{{"system", "urn:zengen:pseudonym"}, {"value", p.id}}})},
          {"managingOrganization", {{"reference", "Organization/" + p.hospital}}},
          {"extension",
           json::array({{{"url", "urn:zengen:fhir:program"}, {"valueCode", p.program}},
                        {{"url", "urn:zengen:fhir:disease-category"},
                         {"valueCode", p.disease_category}}})}};
}

Result<std::vector<json>> ParticipantResources(Sources& s, const participants::Participant& p,
                                               bool with_dates) {
  std::vector<json> out = {PatientResource(p)};
  ZG_ASSIGN_OR_RETURN(consent::ConsentStatus status, s.consents.Current(p.id));
  for (const auto& rec : status.history) {
    ZG_ASSIGN_OR_RETURN(consent::IcfVersion icf,
                        s.consents.GetIcf(p.program, rec.icf_version, rec.icf_language));
    const bool current = status.current && status.current->id == rec.id;
    out.push_back(consent::FhirConsent(rec, icf, current));
  }
  ZG_ASSIGN_OR_RETURN(auto records, s.clinical.CurrentRecords(p.id));
  for (auto& r : clinical::FhirResources(s.clinical.dictionary(), p.id, records,
                                         with_dates ? p.index_date : std::string())) {
    out.push_back(std::move(r));
  }
  return out;
}

json Bundle(const std::vector<json>& resources, std::string_view timestamp) {
  json entries = json::array();
  for (const auto& r : resources) {
    entries.push_back({{"fullUrl", fmt::format("{}/{}", r.value("resourceType", "Resource"),
                                               r.value("id", ""))},
                       {"resource", r}});
  }
  return {{"resourceType", "Bundle"},
          {"type", "collection"},
          {"timestamp", std::string(timestamp)},
          {"total", entries.size()},
          {"entry", entries}};
}

http::Resolver CohortResolver() {
  return [](const Request& req) -> Result<http::Target> {
    std::string hospital = req.subject.organisation;
    if (auto it = req.query.find("hospital"); it != req.query.end()) {
      // An empty value once exported every hospital (issue 12 finding 1): it is an error.
      if (it->second.empty()) {
        return InvalidArgument("invalid_parameter",
                               "'hospital' names a hospital ('*' for all, data stewards only)",
                               "hospital");
      }
      hospital = it->second;
    }
    http::Target t;
    t.resource = {"participant", "", hospital, ""};
    return t;
  };
}

Status AddFhirRoutes(http::Router& router, Sources& sources, const Clock& clock) {
  Sources* src = &sources;
  const Clock* clk = &clock;
  ZG_RETURN_IF_ERROR(router.Add(
      {.method = "GET", .pattern = "/api/v1/participants/{id}/fhir/bundle",
       .action = "clinical.export", .resource = "participant",
       .handler = Wrap([src, clk](Request& req) -> Result<Response> {
         // Decided by the policy filter on the participant's hospital (ParticipantById).
         ZG_ASSIGN_OR_RETURN(auto p, src->participants.Get(req.path_params.at("id")));
         ZG_ASSIGN_OR_RETURN(auto resources, ParticipantResources(
                                                 *src, p, req.subject.organisation == p.hospital));
         return FhirJson(Bundle(resources, FormatRfc3339(clk->Now())));
       }),
       .resolve = participants::ParticipantById(sources.participants)}));
  return router.Add(
      {.method = "GET", .pattern = "/api/v1/fhir/bundle", .action = "clinical.export",
       .resource = "participant", .handler = Wrap([src, clk](Request& req) -> Result<Response> {
         ZG_ASSIGN_OR_RETURN(int64_t limit, http::IntQueryParam(req, "limit", 100, 1, 500));
         ZG_ASSIGN_OR_RETURN(int64_t offset, http::IntQueryParam(req, "offset", 0, 0, 100000000));
         // The cohort the policy filter decided for (CohortResolver): one hospital, or every
         // hospital ("*") for a data steward who asked for it.
         const std::string hospital = req.resolved ? req.resolved->resource.organisation : "";
         ZG_ASSIGN_OR_RETURN(auto list, src->participants.List(hospital, limit, offset));
         std::vector<json> resources;
         int excluded = 0;
         for (const auto& p : list) {
           ZG_ASSIGN_OR_RETURN(auto st, src->consents.Current(p.id));
           if (st.state == consent::State::kWithdrawnFull) {
             ++excluded;
             continue;
           }
           ZG_ASSIGN_OR_RETURN(auto rs, ParticipantResources(
                                            *src, p, req.subject.organisation == p.hospital));
           for (auto& r : rs) resources.push_back(std::move(r));
         }
         json bundle = Bundle(resources, FormatRfc3339(clk->Now()));
         bundle["meta"] = {{"tag", json::array({{{"system", "urn:zengen:export"},
                                                 {"code", "cohort"},
                                                 {"display", fmt::format(
                                                      "{} participants, {} excluded after full "
                                                      "withdrawal",
                                                      list.size() - excluded, excluded)}}})}};
         return FhirJson(bundle);
       }),
       .resolve = CohortResolver()});
}

}  // namespace zengen::fhir
