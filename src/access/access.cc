#include "access/access.h"

#include <algorithm>
#include <optional>

#include <fmt/format.h>

#include "http/filters.h"
#include "policy/reasons.h"

namespace zengen::access {
namespace {

// Whether the subject reaches this action only through a tier-gated role (a researcher):
// then the facts are those of shared data, which the policy decides by release and grant.
bool ThroughSharing(const policy::Subject& subject, std::string_view action) {
  const auto rule = policy::DescribeRule(action);
  if (!rule || rule->tier_roles.empty()) return false;
  bool tiered = false;
  bool other = false;
  for (const auto& role : rule->roles) {
    const bool is_tier = std::find(rule->tier_roles.begin(), rule->tier_roles.end(), role) !=
                         rule->tier_roles.end();
    if (!subject.HasRole(role)) continue;
    tiered = tiered || is_tier;
    other = other || !is_tier;
  }
  return tiered && !other;
}

// Percent-encodes bytes outside printable ASCII, so that any path (even invalid UTF-8 sent by
// a hostile client) makes a valid audit record.
std::string AuditSafe(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f && c != '%') {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

}  // namespace

Gate::Gate(genomefiles::Files& files, consent::Ledger& consents, sharing::Sharing& sharing)
    : files_(files), consents_(consents), sharing_(sharing) {}

Result<http::Target> Gate::FileTarget(const policy::Subject& subject, std::string_view action,
                                      const genomefiles::DataFile& file,
                                      std::string_view sample_participant,
                                      std::string_view grant_id) {
  http::Target t;
  if (ThroughSharing(subject, action)) {
    ZG_ASSIGN_OR_RETURN(sharing::FileAccess a, sharing_.FileAccessFor(subject, file.id, {}, grant_id));
    t.resource = a.resource;
    t.grant = a.grant;
    t.groups = a.groups;
    t.now = a.now;
    t.details = {{"dataset", a.dataset_id}, {"release", a.release_id}, {"tier", a.tier},
                 {"grant", a.grant_id}};
    // One sample of a joint file: its participant must also be visible in the dataset.
    if (!sample_participant.empty() && sample_participant != a.participant_id &&
        a.decision.allowed()) {
      ZG_ASSIGN_OR_RETURN(auto visible, sharing_.VisibleParticipants(
                                            subject, a.dataset_id,
                                            {std::string(sample_participant)}, grant_id));
      // Not visible under the grant (not in the dataset, withdrawn, or the purpose not
      // covered): the grant does not reach this sample.
      if (visible.empty()) t.resource.consent_covers_purpose = false;
      t.details["sample_participant"] = std::string(sample_participant);
      t.details["sample_visible"] = !visible.empty();
    }
    return t;
  }
  ZG_ASSIGN_OR_RETURN(t.resource, files_.FileResource(file));
  if (!sample_participant.empty()) {
    ZG_ASSIGN_OR_RETURN(consent::State st, consents_.CurrentState(sample_participant));
    t.resource.withdrawn = st == consent::State::kWithdrawnFull;
    t.details["sample_participant"] = std::string(sample_participant);
    return t;
  }
  ZG_ASSIGN_OR_RETURN(auto samples, files_.FileSamples(file.id));
  std::vector<std::string> participants;
  for (const auto& s : samples) participants.push_back(s.participant_id);
  if (participants.empty()) participants.push_back(file.participant_id);
  bool all_withdrawn = true;
  for (const auto& p : participants) {
    ZG_ASSIGN_OR_RETURN(consent::State st, consents_.CurrentState(p));
    all_withdrawn = all_withdrawn && st == consent::State::kWithdrawnFull;
  }
  t.resource.withdrawn = all_withdrawn;
  return t;
}

http::Resolver Gate::FileResolver() {
  return [this](const http::Request& req) -> Result<http::Target> {
    std::string id;
    if (auto it = req.path_params.find("id"); it != req.path_params.end()) id = it->second;
    auto file = files_.GetFile(id);
    if (!file.ok()) {
      if (file.error().kind == ErrorKind::kNotFound) {
        return NotFound("file_not_found", fmt::format("no file '{}'", id));
      }
      return file.error();
    }
    const std::string action = req.route != nullptr ? req.route->action : "";
    ZG_ASSIGN_OR_RETURN(http::Target t, FileTarget(req.subject, action, *file));
    if (action != "htsget.read" && action != "drs.read") return t;
    ZG_ASSIGN_OR_RETURN(auto samples, files_.FileSamples(file->id));
    if (samples.size() <= 1) return t;
    // A joint VCF/BCF: each sample is selected on its own participant's facts (consent, and
    // for researchers the grant), so the others stay visible when one withdraws. Selection,
    // not a decision: the one decision is on the file, or, when no sample is visible, on the
    // facts of a sample that is not (a denial, with that sample's reason).
    nlohmann::json names = nlohmann::json::array();
    std::optional<http::Target> refused;
    for (const auto& s : samples) {
      ZG_ASSIGN_OR_RETURN(http::Target st,
                          FileTarget(req.subject, action, *file, s.participant_id));
      policy::Subject subject = req.subject;
      subject.groups.insert(subject.groups.end(), st.groups.begin(), st.groups.end());
      if (policy::Decide(subject, action, st.resource, {req.remote_address, "", st.grant, st.now})
              .allowed()) {
        names.push_back(s.sample);
      } else {
        refused = std::move(st);
      }
    }
    if (names.empty() && refused) t = std::move(*refused);
    t.details["samples"] = std::move(names);
    t.details["samples_registered"] = static_cast<int64_t>(samples.size());
    return t;
  };
}

Result<Gate::FileSelection> Gate::SelectFiles(const http::Request& req, std::string_view action,
                                              std::string_view participant_id) {
  ZG_ASSIGN_OR_RETURN(auto files, files_.ListFiles(participant_id));
  FileSelection out;
  out.registered = static_cast<int64_t>(files.size());
  for (auto& f : files) {
    ZG_ASSIGN_OR_RETURN(http::Target t, FileTarget(req.subject, action, f));
    policy::Subject subject = req.subject;
    subject.groups.insert(subject.groups.end(), t.groups.begin(), t.groups.end());
    policy::Context context{req.remote_address, "", t.grant, t.now};
    // Row selection on the policy's own rule, so a listing shows exactly the files that the
    // same caller could read one by one; the decision about the listing is the route's.
    if (policy::Decide(subject, action, t.resource, context).allowed()) {
      out.visible.push_back(std::move(f));
    }
  }
  return out;
}

http::Resolver Gate::ParticipantFilesResolver() {
  return [this](const http::Request& req) -> Result<http::Target> {
    std::string id;
    if (auto it = req.path_params.find("id"); it != req.path_params.end()) id = it->second;
    const std::string action = req.route != nullptr ? req.route->action : "";
    ZG_ASSIGN_OR_RETURN(FileSelection sel, SelectFiles(req, action, id));
    const std::string owner = sel.visible.empty() ? std::string(policy::kEveryOrganisation)
                                                  : policy::ScopeOf(req.subject);
    http::Target t;
    t.resource = {"participant", id, owner, owner};
    nlohmann::json ids = nlohmann::json::array();
    for (const auto& f : sel.visible) ids.push_back(f.id);
    t.details = {{"files", std::move(ids)},
                 {"files_listed", static_cast<int64_t>(sel.visible.size())},
                 {"files_registered", sel.registered}};
    return t;
  };
}

std::vector<std::string> Gate::ListedFileIds(const http::Request& req) {
  std::vector<std::string> out;
  if (!req.resolved) return out;
  const auto it = req.resolved->details.find("files");
  if (it == req.resolved->details.end() || !it->is_array()) return out;
  for (const auto& v : *it) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

Status RecordDecision(AuditSink& sink, const http::Request& req, std::string_view action,
                      const http::Target& target, const policy::Decision& decision) {
  nlohmann::json details = target.details.is_object() ? target.details : nlohmann::json::object();
  details["method"] = AuditSafe(req.method);
  details["path"] = AuditSafe(req.path);
  const policy::Resource& r = target.resource;
  if (!r.organisation.empty()) details["organisation"] = AuditSafe(r.organisation);
  if (!r.holder.empty() && r.holder != r.organisation) details["holder"] = AuditSafe(r.holder);
  if (r.withdrawn) details["withdrawn"] = true;
  // The reason's stable code and arguments, for the audit view's ja/en text (issue 14).
  if (const std::optional<policy::Reason> reason = policy::ParseReason(decision.reason)) {
    details["reason_code"] = reason->code;
    nlohmann::json args = nlohmann::json::object();
    for (const auto& [name, value] : reason->args) args[name] = AuditSafe(value);
    details["reason_args"] = args;
  }
  return sink.Append({.actor = req.subject.authenticated ? AuditSafe(req.subject.id) : "anonymous",
                      .source = req.remote_address,
                      .action = std::string(action),
                      .resource = r.id.empty() ? r.kind : r.kind + "/" + AuditSafe(r.id),
                      .decision = decision.allowed() ? "allow" : "deny",
                      .reason = decision.reason,
                      .request_id = req.request_id,
                      .details = details.dump(-1, ' ', false,
                                              nlohmann::json::error_handler_t::replace)});
}

}  // namespace zengen::access
