#include "sharing/sharing_routes.h"

#include <fmt/format.h>

#include <map>
#include <set>

#include "http/route_params.h"
#include "portal/suppression.h"

namespace zengen::sharing {
namespace {

using http::RequestActor;
using http::Request;
using http::Response;
using http::Wrap;
using nlohmann::json;

Result<bool> BoolField(const json& body, const std::string& name) {
  const auto it = body.find(name);
  if (it == body.end() || it->is_null()) return false;
  if (!it->is_boolean()) {
    return InvalidArgument("invalid_type", fmt::format("'{}' must be true or false", name), name);
  }
  return it->get<bool>();
}

Result<json> ObjectField(const json& body, const std::string& name) {
  const auto it = body.find(name);
  if (it == body.end() || it->is_null()) return json::object();
  if (!it->is_object()) {
    return InvalidArgument("invalid_type", fmt::format("'{}' must be an object", name), name);
  }
  return *it;
}

// An empty body counts as {}.
Result<json> Body(const Request& req) {
  if (req.body.empty()) return json::object();
  return http::ParseJsonBody(req);
}

json DatasetJson(const Dataset& d) {
  return {{"id", d.id},
          {"name", {{"ja", d.name_ja}, {"en", d.name_en}}},
          {"program", d.program},
          {"group_id", d.group_id},
          {"description", d.description},
          {"created_by", d.created_by},
          {"created_at", d.created_at}};
}

json ReleaseJson(const Release& r, const std::string& tier_now) {
  return {{"id", r.id},
          {"dataset_id", r.dataset_id},
          {"release_date", r.release_date},
          {"embargo_months", r.embargo_months},
          {"controlled_at", r.controlled_at},
          {"public_aggregates_at", http::OrNull(r.public_aggregates_at)},
          {"tier", tier_now},
          {"recorded_tier", r.tier},
          {"tier_since", r.tier_since},
          {"created_by", r.created_by},
          {"created_at", r.created_at}};
}

json ReleaseDetailJson(const ReleaseDetail& d) {
  json j = ReleaseJson(d.release, d.tier_now);
  json h = json::array();
  for (const auto& e : d.history) {
    h.push_back({{"seq", e.seq},
                 {"event", e.event},
                 {"from", http::OrNull(e.from)},
                 {"to", e.to},
                 {"due_at", e.due_at},
                 {"applied_at", e.applied_at},
                 {"actor", e.actor}});
  }
  j["history"] = h;
  return j;
}

json GrantJson(const GrantRecord& g, std::chrono::system_clock::time_point now) {
  return {{"id", g.id},
          {"application_id", g.application_id},
          {"holder", g.holder},
          {"organisation", g.organisation},
          {"datasets", g.datasets},
          {"data_types", g.data_types},
          {"purpose", PurposeJson(g.purpose)},
          {"track", g.track},
          {"starts_at", g.starts_at},
          {"expires_at", g.expires_at},
          {"status", g.StatusAt(now)},
          {"revoked_at", http::OrNull(g.revoked_at)},
          {"revoked_by", http::OrNull(g.revoked_by)},
          {"revoke_reason", http::OrNull(g.revoke_reason)},
          {"created_at", g.created_at}};
}

json ApplicationJson(const Application& a) {
  return {{"id", a.id},
          {"applicant", a.applicant},
          {"organisation", a.organisation},
          {"track", a.track},
          {"title", a.title},
          {"abstract", a.abstract_text},
          {"principal_investigator", a.principal_investigator},
          {"collaborators", a.collaborators},
          {"data_security_plan", a.data_security_plan},
          {"purpose", PurposeJson(a.purpose)},
          {"datasets", a.datasets},
          {"data_types", a.data_types},
          {"fastq_justification", http::OrNull(a.fastq_justification)},
          {"ethics", a.ethics},
          {"agreement", a.agreement},
          {"fee", a.fee},
          {"start_date", a.start_date},
          {"end_date", a.end_date},
          {"state", a.state},
          {"created_at", a.created_at},
          {"updated_at", a.updated_at}};
}

}  // namespace

json DocumentJson(const ApplicationDocument& d) {
  return {{"kind", d.kind},
          {"file_name", d.file_name},
          {"content_type", d.content_type},
          {"size", d.size},
          {"sha256", d.sha256},
          {"uploaded_by", d.uploaded_by},
          {"uploaded_at", d.uploaded_at}};
}

namespace {

json TallyJson(const Tally& t) {
  return {{"approve", t.approve},
          {"reject", t.reject},
          {"abstain", t.abstain},
          {"conflicted", t.conflicted},
          {"outcome", OutcomeName(t.outcome)},
          {"reason", t.reason}};
}

json DetailJson(const ApplicationDetail& d, std::chrono::system_clock::time_point now) {
  json j = ApplicationJson(d.application);
  json h = json::array();
  for (const auto& e : d.history) {
    h.push_back({{"seq", e.seq},
                 {"kind", e.kind},
                 {"user", e.user},
                 {"organisation", e.organisation},
                 {"vote", http::OrNull(e.vote)},
                 {"body", http::OrNull(e.body)},
                 {"time", e.time}});
  }
  j["history"] = h;
  j["tally"] = TallyJson(d.tally);
  j["missing_requirements"] = d.missing;
  json docs = json::array();
  for (const auto& doc : d.documents) docs.push_back(DocumentJson(doc));
  j["documents"] = docs;
  j["grant"] = d.grant ? GrantJson(*d.grant, now) : json(nullptr);
  return j;
}

json PrescreenJson(const std::vector<PrescreenRow>& rows) {
  json items = json::array();
  for (const auto& r : rows) {
    items.push_back({{"dataset_id", r.dataset_id},
                     {"participants", r.participants},
                     {"covered", r.covered},
                     {"not_covered", r.not_covered},
                     {"withdrawn", r.withdrawn},
                     {"reasons", r.reasons}});
  }
  return {{"items", items}};
}

Result<NewApplication> ParseApplication(const json& body) {
  ZG_RETURN_IF_ERROR(
      http::OnlyFields(body, {"title", "abstract", "principal_investigator", "collaborators",
                              "data_security_plan", "purpose", "datasets", "data_types",
                              "fastq_justification", "ethics", "agreement", "fee", "start_date",
                              "end_date"}));
  NewApplication a;
  ZG_ASSIGN_OR_RETURN(a.title, http::JsonString(body, "title", true));
  ZG_ASSIGN_OR_RETURN(a.abstract_text, http::JsonString(body, "abstract", false));
  ZG_ASSIGN_OR_RETURN(a.principal_investigator,
                      http::JsonString(body, "principal_investigator", false));
  ZG_ASSIGN_OR_RETURN(a.collaborators, http::JsonStringList(body, "collaborators", false));
  ZG_ASSIGN_OR_RETURN(a.data_security_plan, http::JsonString(body, "data_security_plan", false));
  const auto p = body.find("purpose");
  if (p == body.end() || p->is_null()) {
    return InvalidArgument("missing_field", "'purpose' is required", "purpose");
  }
  ZG_ASSIGN_OR_RETURN(a.purpose, ParsePurpose(*p));
  ZG_ASSIGN_OR_RETURN(a.datasets, http::JsonStringList(body, "datasets", false));
  ZG_ASSIGN_OR_RETURN(a.data_types, http::JsonStringList(body, "data_types", false));
  ZG_ASSIGN_OR_RETURN(a.fastq_justification, http::JsonString(body, "fastq_justification", false));
  ZG_ASSIGN_OR_RETURN(a.ethics, ObjectField(body, "ethics"));
  ZG_ASSIGN_OR_RETURN(a.agreement, ObjectField(body, "agreement"));
  ZG_ASSIGN_OR_RETURN(a.fee, ObjectField(body, "fee"));
  ZG_ASSIGN_OR_RETURN(a.start_date, http::JsonString(body, "start_date", true));
  ZG_ASSIGN_OR_RETURN(a.end_date, http::JsonString(body, "end_date", true));
  return a;
}

}  // namespace

json ReleaseOnlyJson(const Aggregates& a) {
  portal::Publication pub;
  const size_t participants = pub.Add("participants", a.participants);
  std::map<std::string, size_t> by_disease, by_value;
  std::vector<size_t> parts;
  for (const auto& [k, v] : a.by_disease) {
    parts.push_back(by_disease[k] = pub.Add("by_disease_category." + k, v));
    if (v > 0) pub.AtLeastOne(parts.back());  // a category is listed only when someone is in it
  }
  pub.Sum(participants, parts);
  parts.clear();
  for (const auto& [k, v] : a.by_value) parts.push_back(by_value[k] = pub.Add("by_value." + k, v));
  if (!a.field.empty()) pub.Sum(participants, parts);
  const auto shown = pub.Protect();
  json by_disease_json = json::object(), by_value_json = json::object();
  for (const auto& [k, id] : by_disease) by_disease_json[k] = portal::ShownJson(shown[id]);
  for (const auto& [k, id] : by_value) by_value_json[k] = portal::ShownJson(shown[id]);
  json j = {{"release_id", a.release_id},
            {"participants", portal::ShownJson(shown[participants])},
            {"by_disease_category", by_disease_json},
            {"suppression", portal::MethodJson()}};
  if (!a.field.empty()) {
    j["field"] = a.field;
    j["by_value"] = by_value_json;
  }
  return j;
}

Status AddSharingRoutes(http::Router& router, Sharing& sharing, const Clock& clock,
                        PublishedAggregates published) {
  Sharing* sh = &sharing;
  const Clock* clk = &clock;
  auto add = [&router](std::string method, std::string pattern, std::string action,
                       std::string resource, http::ResultHandler h) {
    return router.Add({.method = std::move(method),
                       .pattern = std::move(pattern),
                       .action = std::move(action),
                       .resource = std::move(resource),
                       .max_body_bytes = kMaxBodyBytes,
                       .handler = Wrap(std::move(h))});
  };

  // ---- datasets ----
  ZG_RETURN_IF_ERROR(add("GET", "/api/v1/datasets", "dataset.read", "dataset",
                         [sh, clk](Request& req) -> Result<Response> {
                           ZG_ASSIGN_OR_RETURN(auto datasets, sh->ListDatasets());
                           const std::string purpose = http::QueryParam(req, "purpose");
                           json items = json::array();
                           for (const auto& d : datasets) {
                             json j = DatasetJson(d);
                             ZG_ASSIGN_OR_RETURN(auto releases, sh->ListReleases(d.id));
                             json rel = json::array();
                             for (const auto& r : releases)
                               rel.push_back(ReleaseJson(r, TierAt(r, clk->Now())));
                             j["releases"] = rel;
                             // What the caller may see now: consent-filtered like every other
                             // answer.
                             ZG_ASSIGN_OR_RETURN(auto files,
                                                 sh->VisibleFiles(req.subject, d.id, purpose));
                             std::set<std::string> people;
                             for (const auto& f : files) people.insert(f.participant_id);
                             j["visible_files"] = static_cast<int64_t>(files.size());
                             j["visible_participants"] = static_cast<int64_t>(people.size());
                             items.push_back(std::move(j));
                           }
                           return Response::Json(200, json{{"items", items}});
                         }));

  ZG_RETURN_IF_ERROR(
      add("POST", "/api/v1/datasets", "dataset.write", "dataset",
          [sh](Request& req) -> Result<Response> {
            ZG_ASSIGN_OR_RETURN(json body, http::ParseJsonBody(req));
            ZG_RETURN_IF_ERROR(http::OnlyFields(
                body, {"name_ja", "name_en", "program", "group_id", "description"}));
            NewDataset n;
            ZG_ASSIGN_OR_RETURN(n.name_ja, http::JsonString(body, "name_ja", true));
            ZG_ASSIGN_OR_RETURN(n.name_en, http::JsonString(body, "name_en", true));
            ZG_ASSIGN_OR_RETURN(n.program, http::JsonString(body, "program", true));
            ZG_ASSIGN_OR_RETURN(n.group_id, http::JsonString(body, "group_id", true));
            ZG_ASSIGN_OR_RETURN(n.description, http::JsonString(body, "description", false));
            ZG_ASSIGN_OR_RETURN(Dataset d, sh->CreateDataset(n, RequestActor(req)));
            return Response::Json(201, DatasetJson(d));
          }));

  ZG_RETURN_IF_ERROR(add("GET", "/api/v1/datasets/{id}", "dataset.read", "dataset",
                         [sh, clk](Request& req) -> Result<Response> {
                           ZG_ASSIGN_OR_RETURN(Dataset d, sh->GetDataset(req.path_params.at("id")));
                           json j = DatasetJson(d);
                           ZG_ASSIGN_OR_RETURN(auto releases, sh->ListReleases(d.id));
                           json rel = json::array();
                           for (const auto& r : releases)
                             rel.push_back(ReleaseJson(r, TierAt(r, clk->Now())));
                           j["releases"] = rel;
                           return Response::Json(200, j);
                         }));

  ZG_RETURN_IF_ERROR(
      add("POST", "/api/v1/datasets/{id}/files", "dataset.write", "dataset",
          [sh](Request& req) -> Result<Response> {
            ZG_ASSIGN_OR_RETURN(json body, http::ParseJsonBody(req));
            ZG_RETURN_IF_ERROR(
                http::OnlyFields(body, {"participant_ids", "file_ids", "include_fastq"}));
            FileSelection sel;
            ZG_ASSIGN_OR_RETURN(sel.participant_ids,
                                http::JsonStringList(body, "participant_ids", false));
            ZG_ASSIGN_OR_RETURN(sel.file_ids, http::JsonStringList(body, "file_ids", false));
            ZG_ASSIGN_OR_RETURN(sel.include_fastq, BoolField(body, "include_fastq"));
            ZG_ASSIGN_OR_RETURN(AddFilesResult r,
                                sh->AddFiles(req.path_params.at("id"), sel, RequestActor(req)));
            return Response::Json(200, json{{"added", r.added}, {"skipped", r.skipped}});
          }));

  ZG_RETURN_IF_ERROR(add("GET", "/api/v1/datasets/{id}/files", "dataset.read", "dataset",
                         [sh](Request& req) -> Result<Response> {
                           ZG_ASSIGN_OR_RETURN(
                               auto files, sh->VisibleFiles(req.subject, req.path_params.at("id"),
                                                            http::QueryParam(req, "purpose")));
                           json items = json::array();
                           for (const auto& f : files) {
                             items.push_back({{"id", f.file_id},
                                              {"kind", f.kind},
                                              {"data_type", f.data_type},
                                              {"participant_id", f.participant_id},
                                              {"file_name", f.file_name},
                                              {"size", f.size},
                                              {"sha256", f.sha256},
                                              {"release_id", f.release_id},
                                              {"tier", f.tier},
                                              {"grant_id", http::OrNull(f.grant_id)}});
                           }
                           return Response::Json(200, json{{"items", items}});
                         }));

  ZG_RETURN_IF_ERROR(
      add("POST", "/api/v1/datasets/{id}/releases", "dataset.write", "dataset",
          [sh](Request& req) -> Result<Response> {
            ZG_ASSIGN_OR_RETURN(json body, http::ParseJsonBody(req));
            ZG_RETURN_IF_ERROR(http::OnlyFields(
                body, {"release_date", "embargo_months", "public_aggregates_date"}));
            NewRelease n;
            ZG_ASSIGN_OR_RETURN(n.release_date, http::JsonString(body, "release_date", true));
            ZG_ASSIGN_OR_RETURN(n.public_aggregates_date,
                                http::JsonString(body, "public_aggregates_date", false));
            if (auto it = body.find("embargo_months"); it != body.end() && !it->is_null()) {
              if (!it->is_number_integer()) {
                return InvalidArgument("invalid_type", "'embargo_months' must be an integer",
                                       "embargo_months");
              }
              n.embargo_months = it->get<int64_t>();
            }
            ZG_ASSIGN_OR_RETURN(ReleaseDetail d,
                                sh->CreateRelease(req.path_params.at("id"), n, RequestActor(req)));
            return Response::Json(201, ReleaseDetailJson(d));
          }));

  // ---- releases ----
  ZG_RETURN_IF_ERROR(add("GET", "/api/v1/releases", "dataset.read", "release",
                         [sh, clk](Request& req) -> Result<Response> {
                           ZG_ASSIGN_OR_RETURN(auto releases,
                                               sh->ListReleases(http::QueryParam(req, "dataset")));
                           json items = json::array();
                           for (const auto& r : releases)
                             items.push_back(ReleaseJson(r, TierAt(r, clk->Now())));
                           return Response::Json(200, json{{"items", items}});
                         }));

  ZG_RETURN_IF_ERROR(add("GET", "/api/v1/releases/{id}", "dataset.read", "release",
                         [sh](Request& req) -> Result<Response> {
                           ZG_ASSIGN_OR_RETURN(ReleaseDetail d,
                                               sh->GetRelease(req.path_params.at("id")));
                           return Response::Json(200, ReleaseDetailJson(d));
                         }));

  ZG_RETURN_IF_ERROR(add("GET", "/api/v1/releases/{id}/aggregates", "portal.read", "release",
                         [sh, published](Request& req) -> Result<Response> {
                           const std::string id = req.path_params.at("id");
                           const std::string field = http::QueryParam(req, "field");
                           // Validates the release and the field (errors name them).
                           ZG_ASSIGN_OR_RETURN(Aggregates a, sh->PublicAggregates(id, field));
                           if (!published) return Response::Json(200, ReleaseOnlyJson(a));
                           ZG_ASSIGN_OR_RETURN(json j, published(id, field));
                           return Response::Json(200, j);
                         }));

  // ---- rules and settings ----
  ZG_RETURN_IF_ERROR(add(
      "GET", "/api/v1/sharing-rules", "dataset.read", "sharing", [](Request&) -> Result<Response> {
        json tiers = json::array();
        for (const auto& t : TierTable()) {
          tiers.push_back({{"from", http::OrNull(std::string(t.from))},
                           {"event", t.event},
                           {"to", t.to},
                           {"party", t.party},
                           {"label", {{"ja", t.label_ja}, {"en", t.label_en}}}});
        }
        json tracks = json::array();
        for (const auto& t : TrackRules()) {
          json req = json::array();
          for (auto r : t.requirements) req.push_back(RequirementName(r));
          tracks.push_back({{"track", t.track},
                            {"requirements", req},
                            {"for_profit", t.for_profit},
                            {"label", {{"ja", t.label_ja}, {"en", t.label_en}}}});
        }
        json apps = json::array();
        for (const auto& t : AppTransitions()) {
          apps.push_back({{"from", t.from}, {"event", t.event}, {"to", t.to}, {"party", t.party}});
        }
        return Response::Json(
            200,
            json{{"tiers", tiers},
                 {"tracks", tracks},
                 {"application_transitions", apps},
                 {"decision_rule",
                  {{"min_decisive_votes", kMinDecisiveVotes},
                   {"approve_when", "approvals > rejections"},
                   {"conflict_of_interest", "members of the applicant's organisation abstain"}}},
                 {"default_embargo_months", kDefaultEmbargoMonths}});
      }));

  ZG_RETURN_IF_ERROR(add("GET", "/api/v1/sharing-settings", "dataset.read", "sharing",
                         [sh](Request&) -> Result<Response> {
                           json items = json::array();
                           for (const char* p : {"cancer", "rare_disease"}) {
                             ZG_ASSIGN_OR_RETURN(int64_t m, sh->EmbargoMonths(p));
                             items.push_back({{"program", p}, {"embargo_months", m}});
                           }
                           return Response::Json(200, json{{"items", items}});
                         }));

  ZG_RETURN_IF_ERROR(
      add("PUT", "/api/v1/sharing-settings", "dataset.write", "sharing",
          [sh](Request& req) -> Result<Response> {
            ZG_ASSIGN_OR_RETURN(json body, http::ParseJsonBody(req));
            ZG_RETURN_IF_ERROR(http::OnlyFields(body, {"program", "embargo_months"}));
            ZG_ASSIGN_OR_RETURN(std::string program, http::JsonString(body, "program", true));
            const auto it = body.find("embargo_months");
            if (it == body.end() || !it->is_number_integer()) {
              return InvalidArgument("invalid_type", "'embargo_months' must be an integer",
                                     "embargo_months");
            }
            ZG_RETURN_IF_ERROR(sh->SetEmbargoMonths(program, it->get<int64_t>(), RequestActor(req)));
            return Response::Json(
                200, json{{"program", program}, {"embargo_months", it->get<int64_t>()}});
          }));

  ZG_RETURN_IF_ERROR(add("POST", "/api/v1/sharing-tick", "dataset.write", "sharing",
                         [sh, clk](Request&) -> Result<Response> {
                           ZG_ASSIGN_OR_RETURN(TickSummary s, sh->Tick(clk->Now()));
                           return Response::Json(
                               200, json{{"checked", s.checked},
                                         {"to_controlled", s.to_controlled},
                                         {"to_public_aggregates", s.to_public_aggregates}});
                         }));

  // ---- applications ----
  ZG_RETURN_IF_ERROR(add("POST", "/api/v1/applications", "application.write", "application",
                         [sh, clk](Request& req) -> Result<Response> {
                           ZG_ASSIGN_OR_RETURN(json body, http::ParseJsonBody(req));
                           ZG_ASSIGN_OR_RETURN(NewApplication a, ParseApplication(body));
                           ZG_ASSIGN_OR_RETURN(ApplicationDetail d,
                                               sh->CreateApplication(a, RequestActor(req)));
                           return Response::Json(201, DetailJson(d, clk->Now()));
                         }));

  ZG_RETURN_IF_ERROR(add("GET", "/api/v1/applications", "application.read", "application",
                         [sh](Request& req) -> Result<Response> {
                           ZG_ASSIGN_OR_RETURN(auto list, sh->ListApplications(RequestActor(req)));
                           json items = json::array();
                           for (const auto& a : list) items.push_back(ApplicationJson(a));
                           return Response::Json(200, json{{"items", items}});
                         }));

  ZG_RETURN_IF_ERROR(add("GET", "/api/v1/applications/{id}", "application.read", "application",
                         [sh, clk](Request& req) -> Result<Response> {
                           ZG_ASSIGN_OR_RETURN(
                               ApplicationDetail d,
                               sh->GetApplication(req.path_params.at("id"), RequestActor(req)));
                           return Response::Json(200, DetailJson(d, clk->Now()));
                         }));

  ZG_RETURN_IF_ERROR(add("POST", "/api/v1/applications/{id}/submit", "application.write",
                         "application", [sh, clk](Request& req) -> Result<Response> {
                           ZG_ASSIGN_OR_RETURN(json body, Body(req));
                           ZG_RETURN_IF_ERROR(http::OnlyFields(body, {}));
                           ZG_ASSIGN_OR_RETURN(ApplicationDetail d,
                                               sh->Submit(req.path_params.at("id"), RequestActor(req)));
                           return Response::Json(200, DetailJson(d, clk->Now()));
                         }));

  ZG_RETURN_IF_ERROR(
      add("POST", "/api/v1/applications/{id}/withdraw", "application.write", "application",
          [sh, clk](Request& req) -> Result<Response> {
            ZG_ASSIGN_OR_RETURN(json body, Body(req));
            ZG_RETURN_IF_ERROR(http::OnlyFields(body, {"reason"}));
            ZG_ASSIGN_OR_RETURN(std::string reason, http::JsonString(body, "reason", false));
            ZG_ASSIGN_OR_RETURN(ApplicationDetail d,
                                sh->Withdraw(req.path_params.at("id"), reason, RequestActor(req)));
            return Response::Json(200, DetailJson(d, clk->Now()));
          }));

  ZG_RETURN_IF_ERROR(add("GET", "/api/v1/applications/{id}/prescreen", "application.read",
                         "application", [sh](Request& req) -> Result<Response> {
                           ZG_ASSIGN_OR_RETURN(
                               auto rows, sh->Prescreen(req.path_params.at("id"), RequestActor(req)));
                           return Response::Json(200, PrescreenJson(rows));
                         }));

  ZG_RETURN_IF_ERROR(
      add("POST", "/api/v1/applications/{id}/comments", "application.review", "application",
          [sh, clk](Request& req) -> Result<Response> {
            ZG_ASSIGN_OR_RETURN(json body, http::ParseJsonBody(req));
            ZG_RETURN_IF_ERROR(http::OnlyFields(body, {"body"}));
            ZG_ASSIGN_OR_RETURN(std::string text, http::JsonString(body, "body", true));
            ZG_ASSIGN_OR_RETURN(ApplicationDetail d,
                                sh->Comment(req.path_params.at("id"), text, RequestActor(req)));
            return Response::Json(201, DetailJson(d, clk->Now()));
          }));

  ZG_RETURN_IF_ERROR(
      add("POST", "/api/v1/applications/{id}/votes", "application.review", "application",
          [sh, clk](Request& req) -> Result<Response> {
            ZG_ASSIGN_OR_RETURN(json body, http::ParseJsonBody(req));
            ZG_RETURN_IF_ERROR(http::OnlyFields(body, {"vote", "reason"}));
            ZG_ASSIGN_OR_RETURN(std::string vote, http::JsonString(body, "vote", true));
            ZG_ASSIGN_OR_RETURN(std::string reason, http::JsonString(body, "reason", false));
            ZG_ASSIGN_OR_RETURN(ApplicationDetail d,
                                sh->Vote(req.path_params.at("id"), vote, reason, RequestActor(req)));
            return Response::Json(201, DetailJson(d, clk->Now()));
          }));

  ZG_RETURN_IF_ERROR(add("POST", "/api/v1/applications/{id}/decision", "application.review",
                         "application", [sh, clk](Request& req) -> Result<Response> {
                           ZG_ASSIGN_OR_RETURN(json body, Body(req));
                           ZG_RETURN_IF_ERROR(http::OnlyFields(body, {}));
                           ZG_ASSIGN_OR_RETURN(
                               ApplicationDetail d,
                               sh->DecideApplication(req.path_params.at("id"), RequestActor(req)));
                           return Response::Json(200, DetailJson(d, clk->Now()));
                         }));

  // ---- grants ----
  ZG_RETURN_IF_ERROR(add("GET", "/api/v1/grants", "grant.read", "grant",
                         [sh, clk](Request& req) -> Result<Response> {
                           ZG_ASSIGN_OR_RETURN(auto list, sh->ListGrants(RequestActor(req)));
                           json items = json::array();
                           for (const auto& g : list) items.push_back(GrantJson(g, clk->Now()));
                           return Response::Json(200, json{{"items", items}});
                         }));

  ZG_RETURN_IF_ERROR(
      add("POST", "/api/v1/grants/{id}/revoke", "grant.revoke", "grant",
          [sh, clk](Request& req) -> Result<Response> {
            ZG_ASSIGN_OR_RETURN(json body, http::ParseJsonBody(req));
            ZG_RETURN_IF_ERROR(http::OnlyFields(body, {"reason"}));
            ZG_ASSIGN_OR_RETURN(std::string reason, http::JsonString(body, "reason", true));
            ZG_ASSIGN_OR_RETURN(GrantRecord g,
                                sh->Revoke(req.path_params.at("id"), reason, RequestActor(req)));
            return Response::Json(200, GrantJson(g, clk->Now()));
          }));

  // ---- access ----
  ZG_RETURN_IF_ERROR(add(
      "GET", "/api/v1/shared-files/{file}/access", "data.access", "shared_file",
      [sh](Request& req) -> Result<Response> {
        const std::string& file = req.path_params.at("file");
        ZG_ASSIGN_OR_RETURN(FileAccess a,
                            sh->FileAccessFor(req.subject, file, http::QueryParam(req, "purpose")));
        ZG_RETURN_IF_ERROR(
            sh->RecordAccess(req.subject, file, a, req.remote_address, req.request_id));
        // A refusal names no grant, dataset or release and does not say why (a participant's
        // withdrawal, say): the reason is in the audit record only (issue 12 finding 7).
        const bool ok = a.decision.allowed();
        auto known = [ok](const std::string& v) { return ok ? http::OrNull(v) : json(nullptr); };
        return Response::Json(
            200,
            json{{"file_id", file},
                 {"allowed", ok},
                 {"reason", ok ? json(a.decision.reason) : json("access_denied")},
                 {"dataset_id", known(a.dataset_id)},
                 {"release_id", known(a.release_id)},
                 {"tier", known(a.tier)},
                 {"grant_id", known(a.grant_id)},
                 {"participant_id", known(a.participant_id)},
                 {"data_type", http::OrNull(a.data_type)}});
      }));
  return Status::Ok();
}

}  // namespace zengen::sharing
