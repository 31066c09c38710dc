#include "findings/findings_routes.h"

#include <fmt/format.h>

#include "findings/acmg_sf.h"
#include "findings/report.h"
#include "http/route_params.h"

namespace zengen::findings {
namespace {

using http::OrNull;
using http::RequestActor;
using http::Request;
using http::Response;
using http::Wrap;
using nlohmann::json;

json FindingJson(const Finding& f, const Findings& findings, const Actor& actor,
                 const Settings& settings) {
  json j{{"id", f.id},
         {"participant_id", f.participant_id},
         {"hospital", f.hospital},
         {"analysis_center", f.analysis_center},
         {"gene", f.gene},
         {"variant", f.variant},
         {"origin", f.origin},
         {"category", f.category},
         {"classification", f.classification},
         {"evidence", f.evidence},
         {"acmg_sf_version", OrNull(f.acmg_sf_version)},
         {"state", f.state},
         {"state_since", f.state_since},
         {"terminal", IsTerminal(f.state)},
         {"contact_attempts", f.contact_attempts},
         {"supersedes", OrNull(f.supersedes)},
         {"superseded_by", OrNull(f.superseded_by)},
         {"filed_by", f.filed_by},
         {"filed_at", f.filed_at},
         {"allowed_events", findings.AllowedEvents(f, actor)}};
  if (f.state == "sent_to_sh") {
    j["ack_due_days"] = settings.ack_sla_days;
  }
  return j;
}

json DetailJson(const FindingDetail& d, Findings& findings, const Actor& actor,
                const Settings& settings) {
  json j = FindingJson(d.finding, findings, actor, settings);
  json history = json::array();
  for (const auto& e : d.history) {
    json details = json::parse(e.details, nullptr, false);
    if (details.is_discarded()) details = json::object();
    history.push_back({{"seq", e.seq},
                       {"event", e.event},
                       {"from", e.from},
                       {"to", e.to},
                       {"party", e.party},
                       {"organisation", e.organisation},
                       {"user", e.user},
                       {"time", e.time},
                       {"reason", e.reason},
                       {"details", details}});
  }
  j["history"] = std::move(history);
  return j;
}

json MessageJson(const Message& m, const std::string& me) {
  json reads = json::array();
  bool read = false;
  for (const auto& r : m.read_by) {
    reads.push_back({{"user", r.user}, {"organisation", r.organisation}, {"read_at", r.read_at}});
    read = read || r.user == me;
  }
  return {{"id", m.id},
          {"seq", m.seq},
          {"thread_id", m.thread_id},
          {"in_reply_to", OrNull(m.in_reply_to)},
          {"party", m.party},
          {"organisation", m.organisation},
          {"user", m.user},
          {"recipient", m.recipient},
          {"type", m.type},
          {"body", m.body},
          {"consent_record_id", OrNull(m.consent_record_id)},
          {"created_at", m.created_at},
          {"read_by", reads},
          {"read", read}};
}

json SettingsJson(const Settings& s) {
  return {{"acmg_sf_version", s.acmg_sf_version},
          {"ack_sla_days", s.ack_sla_days},
          {"contact_window_days", s.contact_window_days},
          {"min_contact_attempts", kMinContactAttempts}};
}

// The finding a route's {id} names; the route's resolver (ResolveFinding) already decided on
// it, and hid it from a party that may not see it yet.
Result<FindingDetail> Load(Findings& fs, const Request& req) {
  return fs.Get(req.path_params.at("id"));
}

// The detail as the caller may see it: the local patient id only for the hospital's own staff.
Result<Response> DetailResponse(int status, const FindingDetail& d, Findings& fs,
                                const Request& req) {
  const Actor actor = RequestActor(req);
  ZG_ASSIGN_OR_RETURN(Settings settings, fs.GetSettings());
  json j = DetailJson(d, fs, actor, settings);
  if (req.subject.HasRole("clinician") && req.subject.organisation == d.finding.hospital) {
    ZG_ASSIGN_OR_RETURN(j["local_id"], fs.LocalId(d.finding.participant_id));
  }
  ZG_ASSIGN_OR_RETURN(ConsentView c, fs.Consent(d.finding));
  j["consent"] = {{"item", c.item}, {"verdict", VerdictName(c.verdict)}, {"reason", c.reason}};
  ZG_ASSIGN_OR_RETURN(auto messages, fs.Messages(d.finding.id));
  int64_t unread = 0;
  for (const auto& m : messages) {
    bool read = false;
    for (const auto& r : m.read_by) read = read || r.user == actor.user;
    if (!read) ++unread;
  }
  j["messages"] = static_cast<int64_t>(messages.size());
  j["unread_messages"] = unread;
  return Response::Json(status, j);
}

}  // namespace

http::Resolver ResolveFinding(Findings& findings, FindingAudience audience) {
  Findings* fs = &findings;
  return http::ResolveWith([fs, audience](const Request& req) -> Result<policy::Resource> {
    const std::string& id = req.path_params.at("id");
    // The finding's row alone: the decision needs neither its history nor its messages.
    ZG_ASSIGN_OR_RETURN(Finding f, fs->Find(id));
    // Not yet visible to the caller's party (the hospital before the finding was sent): to
    // the parties themselves an unknown id, as it was when the handler hid it after deciding;
    // to anyone else the resource below, which the policy refuses.
    const std::string& org = req.subject.organisation;
    if (!fs->Visible(f, RequestActor(req)) && !org.empty() &&
        (org == f.hospital || org == f.analysis_center)) {
      return NotFound("finding_not_found", fmt::format("no finding '{}'", id));
    }
    // The patient report names the patient: only the participant's hospital owns it, so the
    // analysis centre holding the finding does not pass.
    const std::string holder =
        audience == FindingAudience::kHospital ? std::string() : f.analysis_center;
    return policy::Resource{"finding", f.id, f.hospital, holder};
  });
}

Status AddFindingRoutes(http::Router& router, Findings& findings, const Clock& clock) {
  Findings* fs = &findings;
  const http::Resolver finding = ResolveFinding(findings, FindingAudience::kParties);
  const Clock* clk = &clock;

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "POST",
      .pattern = "/api/v1/findings",
      .action = "finding.write",
      .resource = "finding",
      .max_body_bytes = kMaxBodyBytes,
      .handler = Wrap([fs](Request& req) -> Result<Response> {
        ZG_ASSIGN_OR_RETURN(json body, http::ParseJsonBody(req));
        ZG_RETURN_IF_ERROR(
            http::OnlyFields(body, {"participant_id", "gene", "variant", "origin", "category",
                                    "classification", "evidence", "acmg_sf_version"}));
        NewFinding n;
        ZG_ASSIGN_OR_RETURN(n.participant_id, http::JsonString(body, "participant_id", true));
        ZG_ASSIGN_OR_RETURN(n.gene, http::JsonString(body, "gene", true));
        ZG_ASSIGN_OR_RETURN(n.variant, http::JsonString(body, "variant", true));
        ZG_ASSIGN_OR_RETURN(n.origin, http::JsonString(body, "origin", true));
        ZG_ASSIGN_OR_RETURN(n.category, http::JsonString(body, "category", true));
        ZG_ASSIGN_OR_RETURN(n.classification, http::JsonString(body, "classification", true));
        ZG_ASSIGN_OR_RETURN(n.evidence, http::JsonString(body, "evidence", true));
        ZG_ASSIGN_OR_RETURN(n.acmg_sf_version, http::JsonString(body, "acmg_sf_version", false));
        // The analysis centre files into its own organisation (the route's resolver,
        // http::CallerScope, decided on it); Findings checks its kind and that the centre
        // analysed the participant's specimens.
        ZG_ASSIGN_OR_RETURN(FindingDetail d, fs->File(n, RequestActor(req)));
        return DetailResponse(201, d, *fs, req);
      }),
  }));

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "GET",
      .pattern = "/api/v1/findings",
      .action = "finding.read",
      .resource = "finding",
      .handler = Wrap([fs](Request& req) -> Result<Response> {
        std::string state, participant;
        if (auto it = req.query.find("state"); it != req.query.end()) state = it->second;
        if (auto it = req.query.find("participant"); it != req.query.end()) {
          participant = it->second;
        }
        // Data selection, not a decision: List gives the findings of the caller's party, within
        // the scope the route's resolver (http::CallerScope) decided on.
        const Actor actor = RequestActor(req);
        ZG_ASSIGN_OR_RETURN(auto list, fs->List(actor, state, participant));
        ZG_ASSIGN_OR_RETURN(Settings settings, fs->GetSettings());
        json items = json::array();
        for (const auto& f : list) items.push_back(FindingJson(f, *fs, actor, settings));
        return Response::Json(200, json{{"items", items}});
      }),
  }));

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "GET",
      .pattern = "/api/v1/findings/{id}",
      .action = "finding.read",
      .resource = "finding",
      .handler = Wrap([fs](Request& req) -> Result<Response> {
        ZG_ASSIGN_OR_RETURN(FindingDetail d, Load(*fs, req));
        return DetailResponse(200, d, *fs, req);
      }),
      .resolve = finding,
  }));

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "POST",
      .pattern = "/api/v1/findings/{id}/transitions",
      .action = "finding.transition",
      .resource = "finding",
      .max_body_bytes = kMaxBodyBytes,
      .handler = Wrap([fs](Request& req) -> Result<Response> {
        ZG_ASSIGN_OR_RETURN(json body, http::ParseJsonBody(req));
        ZG_RETURN_IF_ERROR(
            http::OnlyFields(body, {"event", "reason", "reason_code", "decision", "via"}));
        StepInput in;
        ZG_ASSIGN_OR_RETURN(in.event, http::JsonString(body, "event", true));
        ZG_ASSIGN_OR_RETURN(in.reason, http::JsonString(body, "reason", false));
        ZG_ASSIGN_OR_RETURN(in.reason_code, http::JsonString(body, "reason_code", false));
        ZG_ASSIGN_OR_RETURN(in.decision, http::JsonString(body, "decision", false));
        ZG_ASSIGN_OR_RETURN(in.via, http::JsonString(body, "via", false));
        ZG_ASSIGN_OR_RETURN(FindingDetail after,
                            fs->Step(req.path_params.at("id"), in, RequestActor(req)));
        return DetailResponse(200, after, *fs, req);
      }),
      .resolve = finding,
  }));

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "POST",
      .pattern = "/api/v1/findings/{id}/reclassify",
      .action = "finding.write",
      .resource = "finding",
      .max_body_bytes = kMaxBodyBytes,
      .handler = Wrap([fs](Request& req) -> Result<Response> {
        ZG_ASSIGN_OR_RETURN(json body, http::ParseJsonBody(req));
        ZG_RETURN_IF_ERROR(http::OnlyFields(body, {"classification", "evidence"}));
        Reclassification r;
        ZG_ASSIGN_OR_RETURN(r.classification, http::JsonString(body, "classification", true));
        ZG_ASSIGN_OR_RETURN(r.evidence, http::JsonString(body, "evidence", true));
        ZG_ASSIGN_OR_RETURN(FindingDetail fresh,
                            fs->Reclassify(req.path_params.at("id"), r, RequestActor(req)));
        return DetailResponse(201, fresh, *fs, req);
      }),
      .resolve = finding,
  }));

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "GET",
      .pattern = "/api/v1/findings/{id}/messages",
      .action = "finding.read",
      .resource = "finding",
      .handler = Wrap([fs](Request& req) -> Result<Response> {
        ZG_ASSIGN_OR_RETURN(auto messages, fs->Messages(req.path_params.at("id")));
        json items = json::array();
        int64_t unread = 0;
        for (const auto& m : messages) {
          json mj = MessageJson(m, req.subject.id);
          if (!mj["read"].get<bool>()) ++unread;
          items.push_back(std::move(mj));
        }
        return Response::Json(200, json{{"items", items}, {"unread", unread}});
      }),
      .resolve = finding,
  }));

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "POST",
      .pattern = "/api/v1/findings/{id}/messages",
      .action = "finding.message",
      .resource = "finding",
      .max_body_bytes = kMaxBodyBytes,
      .handler = Wrap([fs](Request& req) -> Result<Response> {
        ZG_ASSIGN_OR_RETURN(json body, http::ParseJsonBody(req));
        ZG_RETURN_IF_ERROR(http::OnlyFields(
            body, {"type", "body", "recipient", "in_reply_to", "from_patient", "decision"}));
        NewMessage m;
        ZG_ASSIGN_OR_RETURN(m.type, http::JsonString(body, "type", true));
        ZG_ASSIGN_OR_RETURN(m.body, http::JsonString(body, "body", true));
        ZG_ASSIGN_OR_RETURN(std::string recipient, http::JsonString(body, "recipient", false));
        if (!recipient.empty()) m.recipient = recipient;
        ZG_ASSIGN_OR_RETURN(m.in_reply_to, http::JsonString(body, "in_reply_to", false));
        ZG_ASSIGN_OR_RETURN(m.decision, http::JsonString(body, "decision", false));
        if (auto it = body.find("from_patient"); it != body.end() && !it->is_null()) {
          if (!it->is_boolean()) {
            return InvalidArgument("invalid_type", "'from_patient' must be true or false",
                                   "from_patient");
          }
          m.from_patient = it->get<bool>();
        }
        ZG_ASSIGN_OR_RETURN(Message posted,
                            fs->Post(req.path_params.at("id"), m, RequestActor(req)));
        return Response::Json(201, MessageJson(posted, req.subject.id));
      }),
      .resolve = finding,
  }));

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "POST",
      .pattern = "/api/v1/findings/{id}/messages/read",
      .action = "finding.message",
      .resource = "finding",
      .max_body_bytes = kMaxBodyBytes,
      .handler = Wrap([fs](Request& req) -> Result<Response> {
        json body = json::object();
        if (!req.body.empty()) {
          ZG_ASSIGN_OR_RETURN(body, http::ParseJsonBody(req));
        }
        ZG_RETURN_IF_ERROR(http::OnlyFields(body, {"up_to_seq"}));
        ZG_ASSIGN_OR_RETURN(const int64_t up_to, http::JsonInt(body, "up_to_seq", false, 0));
        ZG_ASSIGN_OR_RETURN(const int64_t marked,
                            fs->MarkRead(req.path_params.at("id"), up_to, RequestActor(req)));
        return Response::Json(200, json{{"marked_read", marked}});
      }),
      .resolve = finding,
  }));

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "GET",
      .pattern = "/api/v1/findings/{id}/report",
      .action = "finding.report",
      .resource = "finding",
      .handler = Wrap([fs, clk](Request& req) -> Result<Response> {
        std::string lang = "ja";
        if (auto it = req.query.find("lang"); it != req.query.end()) lang = it->second;
        if (lang != "ja" && lang != "en") {
          return InvalidArgument("invalid_parameter", "'lang' must be ja or en", "lang");
        }
        ZG_ASSIGN_OR_RETURN(FindingDetail d, Load(*fs, req));
        if (!ReportAvailable(d.finding.state)) {
          return Conflict("report_not_available",
                          fmt::format("finding {} is '{}': the report is available from "
                                      "pre-disclosure counselling on",
                                      d.finding.id, d.finding.state));
        }
        ZG_ASSIGN_OR_RETURN(std::string local_id, fs->LocalId(d.finding.participant_id));
        ZG_ASSIGN_OR_RETURN(std::string hospital, fs->OrganisationName(d.finding.hospital));
        // The contact line names the hospital user printing it (a token or unknown user: none).
        ZG_ASSIGN_OR_RETURN(std::string clinician, fs->UserDisplayName(req.subject.id));
        const ReportFacts facts{.local_id = local_id,
                                .hospital_name = hospital,
                                .clinician = clinician,
                                .generated_on = FormatRfc3339(clk->Now()).substr(0, 10)};
        Response r = Response::Text(200, ReportHtml(d, facts, lang),
                                    "text/html; charset=utf-8");
        r.headers["Cache-Control"] = "no-store";
        r.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'";
        return r;
      }),
      .resolve = ResolveFinding(findings, FindingAudience::kHospital),
  }));

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "GET",
      .pattern = "/api/v1/findings-table",
      .action = "finding.read",
      .resource = "finding",
      .handler = Wrap([](Request&) -> Result<Response> {
        json rows = json::array();
        for (const auto& t : TransitionTable()) {
          json needs = json::array();
          if (t.needs_reason) needs.push_back("reason");
          if (t.needs_reason_code) needs.push_back("reason_code");
          if (t.needs_decision) needs.push_back("decision");
          if (t.needs_via) needs.push_back("via");
          rows.push_back({{"from", t.from},
                          {"event", t.event},
                          {"to", t.to},
                          {"party", PartyName(t.party)},
                          {"guard", GuardName(t.guard)},
                          {"needs", needs},
                          {"description", t.description}});
        }
        json states = json::array(), terminal = json::array();
        for (auto s : kStates) states.push_back(s);
        for (auto s : kTerminalStates) terminal.push_back(s);
        return Response::Json(200, json{{"states", states},
                                        {"terminal", terminal},
                                        {"transitions", rows},
                                        {"site_decline_reasons", kSiteDeclineReasons},
                                        {"message_types", kMessageTypes}});
      }),
  }));

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "GET",
      .pattern = "/api/v1/acmg-sf",
      .action = "finding.read",
      .resource = "finding",
      .handler = Wrap([fs](Request&) -> Result<Response> {
        ZG_ASSIGN_OR_RETURN(Settings settings, fs->GetSettings());
        json versions = json::array();
        for (const auto& v : AcmgSfVersions()) {
          versions.push_back({{"version", v.version},
                              {"year", v.year},
                              {"citation", v.citation},
                              {"gene_count", v.genes.size()},
                              {"genes", v.genes}});
        }
        return Response::Json(200,
                              json{{"active", settings.acmg_sf_version}, {"versions", versions}});
      }),
  }));

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "GET",
      .pattern = "/api/v1/findings-settings",
      .action = "finding.read",
      .resource = "finding",
      .handler = Wrap([fs](Request&) -> Result<Response> {
        ZG_ASSIGN_OR_RETURN(Settings s, fs->GetSettings());
        return Response::Json(200, SettingsJson(s));
      }),
  }));

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "PUT",
      .pattern = "/api/v1/findings-settings",
      .action = "finding.configure",
      .resource = "finding",
      .max_body_bytes = kMaxBodyBytes,
      .handler = Wrap([fs](Request& req) -> Result<Response> {
        ZG_ASSIGN_OR_RETURN(json body, http::ParseJsonBody(req));
        ZG_RETURN_IF_ERROR(
            http::OnlyFields(body, {"acmg_sf_version", "ack_sla_days", "contact_window_days"}));
        ZG_ASSIGN_OR_RETURN(Settings s, fs->GetSettings());
        ZG_ASSIGN_OR_RETURN(std::string version, http::JsonString(body, "acmg_sf_version", false));
        if (!version.empty()) s.acmg_sf_version = version;
        ZG_ASSIGN_OR_RETURN(s.ack_sla_days,
                            http::JsonInt(body, "ack_sla_days", false, s.ack_sla_days));
        ZG_ASSIGN_OR_RETURN(s.contact_window_days, http::JsonInt(body, "contact_window_days", false,
                                                                 s.contact_window_days));
        ZG_ASSIGN_OR_RETURN(Settings saved, fs->PutSettings(s, RequestActor(req)));
        return Response::Json(200, SettingsJson(saved));
      }),
  }));

  ZG_RETURN_IF_ERROR(router.Add({
      .method = "POST",
      .pattern = "/api/v1/findings-escalations",
      .action = "finding.escalate",
      .resource = "finding",
      .handler = Wrap([fs](Request&) -> Result<Response> {
        ZG_ASSIGN_OR_RETURN(TickSummary s, fs->Tick());
        return Response::Json(200, json{{"checked", s.checked},
                                        {"escalated", s.escalated},
                                        {"unreachable", s.unreachable},
                                        {"consent_moves", s.consent_moves}});
      }),
  }));
  return Status::Ok();
}

}  // namespace zengen::findings
