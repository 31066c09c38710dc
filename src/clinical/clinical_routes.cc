#include "clinical/clinical_routes.h"

#include <sstream>

#include <fmt/format.h>

#include "clinical/fhir.h"
#include "http/route_params.h"
#include "participants/participants_routes.h"
#include "policy/policy.h"

namespace zengen::clinical {
namespace {

using http::ActorAs;
using http::Request;
using http::Response;

using http::Wrap;

Response WithProblems(const Error& e, json problems) {
  Response r = Response::FromError(e);
  json body = json::parse(r.body, nullptr, false);
  if (!body.is_object()) body = json{{"error", {{"code", e.code}, {"message", e.message}}}};
  body["problems"] = std::move(problems);
  return Response::Json(r.status, body);
}

// The participant a route's {id} names; the route's resolver (ClinicalParticipant) already
// decided on its hospital.
Result<ParticipantInfo> ParticipantOf(ClinicalStore& c, const Request& req) {
  return c.Participant(req.path_params.at("id"));
}

// The resolver of the participant routes: the participant's hospital is the resource's
// organisation of the one policy decision.
http::Resolver ClinicalParticipant(ClinicalStore& clinical) {
  ClinicalStore* c = &clinical;
  return participants::ParticipantResolver([c](std::string_view id) -> Result<std::string> {
    ZG_ASSIGN_OR_RETURN(ParticipantInfo p, c->Participant(id));
    return p.hospital;
  });
}

// The hospital a CSV export covers: ?hospital= when named, else the caller's own; a data
// steward who names none exports every hospital ("*", policy::kEveryOrganisation, never "":
// issue 12 finding 1). The export route's resolver decides on it and the handler exports it.
std::string ExportScope(const Request& req) {
  if (auto it = req.query.find("hospital"); it != req.query.end()) {
    return it->second.empty() ? std::string(policy::kEveryOrganisation) : it->second;
  }
  if (req.subject.HasRole("data_steward")) return std::string(policy::kEveryOrganisation);
  return req.subject.organisation.empty() ? std::string(policy::kEveryOrganisation)
                                          : req.subject.organisation;
}

Result<std::string> CategoryOf(ClinicalStore& c, const Request& req) {
  const std::string& cat = req.path_params.at("category");
  if (!c.dictionary().FindCategory(cat)) {
    return NotFound("unknown_category", fmt::format("no clinical category '{}'", cat));
  }
  return cat;
}

Result<std::string> ReasonOf(const json& body) {
  if (!body.contains("reason") || body["reason"].is_null()) return std::string();
  if (!body["reason"].is_string()) {
    return InvalidArgument("invalid_type", "'reason' must be a string", "reason");
  }
  return body["reason"].get<std::string>();
}

Status TextBody(const Request& req, std::initializer_list<std::string_view> types) {
  std::string ct = req.Header("Content-Type");
  if (ct.empty()) return Status::Ok();
  ct = ct.substr(0, ct.find(';'));
  for (auto t : types) {
    if (ct == t) return Status::Ok();
  }
  return Error{ErrorKind::kUnsupportedMediaType, "unsupported_media_type",
               fmt::format("send the body as {}", *types.begin()), "Content-Type"};
}

// The resolver of the category routes (import, export): the category (unknown: 404
// "unknown_category") within the organisation scope `scope` gives for the request.
http::Resolver CategoryIn(ClinicalStore& clinical,
                          std::function<std::string(const Request&)> scope) {
  ClinicalStore* c = &clinical;
  return [c, scope = std::move(scope)](const Request& req) -> Result<http::Target> {
    ZG_ASSIGN_OR_RETURN(std::string cat, CategoryOf(*c, req));
    http::Target t;
    t.resource = {"clinical", cat, scope(req), ""};
    return t;
  };
}

// A decided scope as the store's hospital filter: "" for every hospital.
std::string ScopeOrAll(const std::string& scope) {
  return scope == policy::kEveryOrganisation ? std::string() : scope;
}

json StatusJson(const CategoryStatus& s) {
  json j = {{"category", s.category},
            {"filled", s.completeness.filled},
            {"applicable", s.completeness.applicable},
            {"complete", s.completeness.complete()},
            {"problems", s.problems}};
  if (s.current) {
    j["version"] = s.current->version;
    j["status"] = s.current->status;
    j["changed_at"] = s.current->changed_at;
    j["changed_by"] = s.current->changed_by;
  } else {
    j["version"] = 0;
    j["status"] = "empty";
  }
  return j;
}

}  // namespace

Status AddClinicalRoutes(http::Router& router, ClinicalStore& clinical, WithdrawnCheck withdrawn) {
  if (!withdrawn) return Internal("route_incomplete", "the clinical export needs a withdrawal check");
  ClinicalStore* c = &clinical;
  const http::Resolver participant = ClinicalParticipant(clinical);
  const std::string dictionary_body = clinical.dictionary().source.dump();

  ZG_RETURN_IF_ERROR(router.Add(
      {.method = "GET", .pattern = "/api/v1/dictionary", .action = "dictionary.read",
       .resource = "dictionary", .handler = [dictionary_body](Request&) {
         Response r = Response::Text(200, dictionary_body, "application/json");
         r.headers["Cache-Control"] = "max-age=300";
         return r;
       }}));

  ZG_RETURN_IF_ERROR(router.Add(
      {.method = "GET", .pattern = "/api/v1/participants/{id}/clinical",
       .action = "clinical.read", .resource = "participant",
       .handler = Wrap([c](Request& req) -> Result<Response> {
         ZG_ASSIGN_OR_RETURN(ParticipantInfo p, ParticipantOf(*c, req));
         ZG_ASSIGN_OR_RETURN(auto summary, c->Summary(p.id));
         json cats = json::array();
         for (const auto& s : summary) cats.push_back(StatusJson(s));
         return Response::Json(200, {{"participant_id", p.id},
                                     {"program", p.program},
                                     {"dictionary_version", c->dictionary().version},
                                     {"categories", cats}});
       }),
       .resolve = participant}));

  ZG_RETURN_IF_ERROR(router.Add(
      {.method = "GET", .pattern = "/api/v1/participants/{id}/clinical/{category}",
       .action = "clinical.read", .resource = "participant",
       .handler = Wrap([c](Request& req) -> Result<Response> {
         ZG_ASSIGN_OR_RETURN(ParticipantInfo p, ParticipantOf(*c, req));
         ZG_ASSIGN_OR_RETURN(std::string cat, CategoryOf(*c, req));
         ZG_ASSIGN_OR_RETURN(auto cur, c->Current(p.id, cat));
         const json data = cur ? cur->data : json::object();
         ZG_ASSIGN_OR_RETURN(auto problems, c->Check(p.id, cat, data));
         const Completeness done =
             ComputeCompleteness(*c->dictionary().FindCategory(cat), data, p.program);
         return Response::Json(
             200, {{"participant_id", p.id},
                   {"category", cat},
                   {"program", p.program},
                   {"record", cur ? RecordJson(*cur) : json(nullptr)},
                   {"completeness", {{"filled", done.filled}, {"applicable", done.applicable}}},
                   {"problems", ProblemsJson(problems)}});
       }),
       .resolve = participant}));

  auto write = [c](bool submit) {
    return Wrap([c, submit](Request& req) -> Result<Response> {
      ZG_ASSIGN_OR_RETURN(ParticipantInfo p, ParticipantOf(*c, req));
      ZG_ASSIGN_OR_RETURN(std::string cat, CategoryOf(*c, req));
      json body = json::object();
      if (!submit || !req.body.empty()) {
        ZG_ASSIGN_OR_RETURN(body, http::ParseJsonBody(req));
      }
      ZG_ASSIGN_OR_RETURN(std::string reason, ReasonOf(body));
      std::optional<json> data;
      // Moved, not copied: a request tree is never deep-copied (issue 13).
      if (body.contains("data") && !body["data"].is_null()) data = std::move(body["data"]);
      if (!submit && !data) {
        return InvalidArgument("missing_field", "'data' is required", "data");
      }
      std::vector<Problem> problems;
      auto r = submit ? c->Submit(p.id, cat, data, reason, ActorAs<Actor>(req), &problems)
                      : c->SaveDraft(p.id, cat, *data, reason, ActorAs<Actor>(req), &problems);
      if (!r.ok()) {
        if (!problems.empty()) return WithProblems(r.error(), ProblemsJson(problems));
        return r.error();
      }
      return Response::Json(200, {{"record", RecordJson(*r)}});
    });
  };
  ZG_RETURN_IF_ERROR(router.Add({.method = "PUT",
                                 .pattern = "/api/v1/participants/{id}/clinical/{category}",
                                 .action = "clinical.write",
                                 .resource = "participant",
                                 .max_body_bytes = 4 << 20,
                                 .handler = write(false),
                                 .resolve = participant}));
  ZG_RETURN_IF_ERROR(router.Add({.method = "POST",
                                 .pattern = "/api/v1/participants/{id}/clinical/{category}/submit",
                                 .action = "clinical.write",
                                 .resource = "participant",
                                 .max_body_bytes = 4 << 20,
                                 .handler = write(true),
                                 .resolve = participant}));

  ZG_RETURN_IF_ERROR(router.Add(
      {.method = "GET", .pattern = "/api/v1/participants/{id}/clinical/{category}/history",
       .action = "clinical.read", .resource = "participant",
       .handler = Wrap([c](Request& req) -> Result<Response> {
         ZG_ASSIGN_OR_RETURN(ParticipantInfo p, ParticipantOf(*c, req));
         ZG_ASSIGN_OR_RETURN(std::string cat, CategoryOf(*c, req));
         ZG_ASSIGN_OR_RETURN(auto hist, c->History(p.id, cat));
         json items = json::array();
         for (const auto& r : hist) items.push_back(RecordJson(r));
         return Response::Json(200, {{"participant_id", p.id}, {"category", cat},
                                     {"versions", items}});
       }),
       .resolve = participant}));

  ZG_RETURN_IF_ERROR(router.Add(
      {.method = "GET", .pattern = "/api/v1/participants/{id}/fhir",
       .action = "clinical.export", .resource = "participant",
       .handler = Wrap([c](Request& req) -> Result<Response> {
         ZG_ASSIGN_OR_RETURN(ParticipantInfo p, ParticipantOf(*c, req));
         ZG_ASSIGN_OR_RETURN(auto records, c->CurrentRecords(p.id));
         // Absolute dates only for the participant's own hospital (identified zone); everyone
         // else gets days from the index date.
         const std::string index =
             req.subject.organisation == p.hospital ? p.index_date : std::string();
         const auto resources = FhirResources(c->dictionary(), p.id, records, index);
         Response r = Response::Json(200, json(resources));
         r.headers["Content-Type"] = "application/fhir+json";
         return r;
       }),
       .resolve = participant}));

  ZG_RETURN_IF_ERROR(router.Add(
      {.method = "POST", .pattern = "/api/v1/clinical/import/{category}",
       .action = "clinical.write", .resource = "clinical", .max_body_bytes = kImportMaxBytes,
       .body_mode = http::BodyMode::kSpooled,
       .handler = Wrap([c](Request& req) -> Result<Response> {
         ZG_ASSIGN_OR_RETURN(std::string cat, CategoryOf(*c, req));
         ZG_RETURN_IF_ERROR(TextBody(req, {"text/csv", "text/plain"}));
         // Data selection, not a decision: the rows are imported into the scope the route's
         // resolver decided on (a clinician's own hospital; every hospital for a
         // data-center-wide role, should the policy ever let one write).
         ImportOptions opts;
         opts.hospital = ScopeOrAll(policy::ScopeOf(req.subject));
         opts.actor = ActorAs<Actor>(req);
         if (auto it = req.query.find("reason"); it != req.query.end() && !it->second.empty()) {
           opts.reason = it->second.substr(0, 2000);
         }
         std::vector<RowProblem> problems;
         // Spooled while it arrived; the import checks every row before it writes any, so it
         // reads the text whole here (within the route's limit).
         ZG_ASSIGN_OR_RETURN(const std::string csv, http::ReadBodyText(req));
         auto r = c->Import(cat, csv, opts, &problems);
         if (!r.ok()) {
           if (!problems.empty()) return WithProblems(r.error(), RowProblemsJson(problems));
           return r.error();
         }
         return Response::Json(200, {{"category", cat}, {"rows", r->rows}});
       }),
       .resolve = CategoryIn(clinical, [](const Request& req) {
         return policy::ScopeOf(req.subject);
       })}));

  ZG_RETURN_IF_ERROR(router.Add(
      {.method = "GET", .pattern = "/api/v1/clinical/export/{category}",
       .action = "clinical.export", .resource = "clinical",
       .handler = Wrap([c, withdrawn](Request& req) -> Result<Response> {
         ZG_ASSIGN_OR_RETURN(std::string cat, CategoryOf(*c, req));
         // Data selection, not a decision: the export covers the scope the route's resolver
         // decided on (ExportScope).
         const std::string hospital = ScopeOrAll(ExportScope(req));
         ZG_ASSIGN_OR_RETURN(std::string csv, c->ExportCsv(cat, hospital, withdrawn));
         Response r = Response::Text(200, std::move(csv), "text/csv; charset=utf-8");
         r.headers["Content-Disposition"] = fmt::format("attachment; filename=\"{}.csv\"", cat);
         return r;
       }),
       .resolve = CategoryIn(clinical, ExportScope)}));

  // The console's code picker: codes of a loaded list matching q (codes only: titles of
  // licensed terminologies are never stored).
  ZG_RETURN_IF_ERROR(router.Add(
      {.method = "GET", .pattern = "/api/v1/code-lists/{system}", .action = "codelist.read",
       .resource = "code_list", .handler = Wrap([c](Request& req) -> Result<Response> {
         const std::string& system = req.path_params.at("system");
         if (!c->dictionary().FindSystem(system)) {
           return Error{ErrorKind::kNotFound, "unknown_system",
                        fmt::format("the dictionary has no code system '{}'", system), "system"};
         }
         ZG_ASSIGN_OR_RETURN(int64_t limit, http::IntQueryParam(req, "limit", 20, 1, 100));
         std::string q;
         if (auto it = req.query.find("q"); it != req.query.end()) q = it->second;
         if (q.size() > 64) return InvalidArgument("value_too_long", "q is at most 64 bytes", "q");
         ZG_ASSIGN_OR_RETURN(auto lists, c->Lists());
         json codes = json::array();
         for (auto& code : lists->Search(system, q, static_cast<size_t>(limit))) {
           codes.push_back(std::move(code));
         }
         return Response::Json(200, {{"system", system},
                                     {"loaded", lists->Loaded(system)},
                                     {"size", lists->size(system)},
                                     {"codes", std::move(codes)}});
       })}));

  ZG_RETURN_IF_ERROR(router.Add(
      {.method = "PUT", .pattern = "/api/v1/code-lists/{system}", .action = "codelist.write",
       .resource = "code_list", .max_body_bytes = kImportMaxBytes,
       .body_mode = http::BodyMode::kSpooled,
       .handler = Wrap([c](Request& req) -> Result<Response> {
         ZG_RETURN_IF_ERROR(TextBody(req, {"text/plain", "text/csv"}));
         const std::string& system = req.path_params.at("system");
         ZG_ASSIGN_OR_RETURN(std::string text, http::ReadBodyText(req));
         std::istringstream in(std::move(text));
         ZG_ASSIGN_OR_RETURN(int64_t n, c->LoadCodes(system, in, ActorAs<Actor>(req)));
         return Response::Json(200, {{"system", system}, {"codes", n}});
       })}));
  return Status::Ok();
}

Status AddWorklistRoute(http::Router& router, ClinicalStore& clinical,
                        ConsentStateFn consent_state) {
  ClinicalStore* c = &clinical;
  return router.Add(
      {.method = "GET", .pattern = "/api/v1/clinical/worklist", .action = "clinical.read",
       .resource = "clinical",
       .handler = Wrap([c, consent_state = std::move(consent_state)](
                           Request& req) -> Result<Response> {
         WorklistQuery q;
         // Data selection, not a decision: the route's resolver (caller scope) decided for this
         // scope — the caller's hospital, or every hospital ("*") for data-center-wide roles;
         // an empty scope (no organisation) was denied there.
         q.hospital = policy::ScopeOf(req.subject);
         ZG_ASSIGN_OR_RETURN(q.limit, http::IntQueryParam(req, "limit", 50, 1, 500));
         ZG_ASSIGN_OR_RETURN(q.offset, http::IntQueryParam(req, "offset", 0, 0, 100000000));
         static const std::map<std::string, WorklistFilter, std::less<>> kFilters = {
             {"all", WorklistFilter::kAll},
             {"due", WorklistFilter::kDue},
             {"incomplete", WorklistFilter::kIncomplete},
             {"consent_due", WorklistFilter::kConsentDue},
             {"withdrawn", WorklistFilter::kWithdrawn}};
         static const std::map<std::string, WorklistSort, std::less<>> kSorts = {
             {"participant", WorklistSort::kParticipant},
             {"least_complete", WorklistSort::kLeastComplete},
             {"index_date", WorklistSort::kIndexDate}};
         if (auto it = req.query.find("filter"); it != req.query.end()) {
           const auto f = kFilters.find(it->second);
           if (f == kFilters.end()) {
             return InvalidArgument("invalid_filter", "filter: all, due, incomplete, "
                                    "consent_due or withdrawn", "filter");
           }
           q.filter = f->second;
         }
         if (auto it = req.query.find("sort"); it != req.query.end()) {
           const auto f = kSorts.find(it->second);
           if (f == kSorts.end()) {
             return InvalidArgument("invalid_sort", "sort: participant, least_complete or "
                                    "index_date", "sort");
           }
           q.sort = f->second;
         }
         ZG_ASSIGN_OR_RETURN(WorklistPage page,
                             Worklist(c->store(), c->dictionary(), consent_state, q));
         json items = json::array();
         for (const auto& r : page.rows) {
           json cats = json::array();
           for (const auto& wc : r.categories) {
             cats.push_back({{"category", wc.category},
                             {"status", wc.status},
                             {"filled", wc.filled},
                             {"applicable", wc.applicable}});
           }
           json item = {{"participant_id", r.participant_id},
                        {"hospital", r.hospital},
                        {"program", r.program},
                        {"disease_category", r.disease_category},
                        {"index_date", r.index_date},
                        {"consent", r.consent},
                        {"complete", r.complete},
                        {"due", r.due},
                        {"categories", std::move(cats)}};
           // The link to the patient stays inside the hospital that made it (R5.6).
           if (r.hospital == req.subject.organisation) item["local_id"] = r.local_id;
           items.push_back(std::move(item));
         }
         return Response::Json(200, {{"items", std::move(items)},
                                     {"total", page.total},
                                     {"limit", q.limit},
                                     {"offset", q.offset}});
       })});
}

}  // namespace zengen::clinical
