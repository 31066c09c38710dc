#include "specimens/specimens.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <nlohmann/json.hpp>

#include "common/field_checks.h"
#include "crypto/crypto.h"
#include "crypto/ids.h"
#include "identity/directory.h"
#include "participants/participants.h"
#include "specimens/analysis_orders.h"

namespace zengen::specimens {
namespace {

using nlohmann::json;
using storage::Int;
using storage::Text;

std::chrono::sys_days DaysOf(std::string_view date) {  // REQUIRES: ValidDate(date)
  const int y = std::stoi(std::string(date.substr(0, 4)));
  const unsigned m = std::stoul(std::string(date.substr(5, 2)));
  const unsigned d = std::stoul(std::string(date.substr(8, 2)));
  return std::chrono::sys_days{std::chrono::year{y} / std::chrono::month{m} / std::chrono::day{d}};
}

std::string FormatDate(std::chrono::sys_days days) {
  const std::chrono::year_month_day ymd{days};
  return fmt::format("{:04d}-{:02d}-{:02d}", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
}

// The specimen columns, with the participant's hospital and, while shipped, the destination
// recorded by the latest shipping event.
constexpr const char* kSelect =
    "SELECT s.id, s.participant_id, p.hospital_id, s.tumour_normal, s.specimen_type, "
    "s.preservation, s.collection_date, s.state, s.holder_id, s.created_by, s.created_at, "
    "(SELECT e.note FROM custody_events e WHERE e.specimen_id = s.id AND e.to_state = 'shipped' "
    "ORDER BY e.seq DESC LIMIT 1) "
    "FROM specimens s JOIN participants p ON p.id = s.participant_id ";

struct Note {
  std::string text;
  std::string destination;
};

std::string EncodeNote(const std::string& text, const std::string& destination) {
  json j{{"note", text}};
  if (!destination.empty()) j["destination"] = destination;
  return j.dump();
}

Note DecodeNote(const std::string& stored) {
  const json j = json::parse(stored, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return {stored, ""};  // written by hand: show as text
  Note n;
  if (auto it = j.find("note"); it != j.end() && it->is_string()) n.text = it->get<std::string>();
  if (auto it = j.find("destination"); it != j.end() && it->is_string()) {
    n.destination = it->get<std::string>();
  }
  return n;
}

Specimen FromRow(const storage::Row& r) {
  Specimen s{r.Text(0), r.Text(1), r.Text(2), r.Text(3), r.Text(4), r.Text(5),
             r.Text(6), r.Text(7), r.Text(8), "",        r.Text(9), r.Text(10)};
  if (s.state == "shipped" && !r.IsNull(11)) s.destination = DecodeNote(r.Text(11)).destination;
  return s;
}

Result<Specimen> ReadSpecimen(storage::Transaction& tx, std::string_view id) {
  ZG_ASSIGN_OR_RETURN(auto rows,
                      tx.Query(std::string(kSelect) + "WHERE s.id = $1", {Text(std::string(id))}));
  if (rows.empty()) return NotFound("specimen_not_found", fmt::format("no specimen '{}'", id));
  return FromRow(rows.rows[0]);
}

Result<std::vector<CustodyEvent>> ReadHistory(storage::Transaction& tx, std::string_view id) {
  ZG_ASSIGN_OR_RETURN(
      auto rows, tx.Query("SELECT seq, from_state, to_state, organisation_id, user_id, time, note "
                          "FROM custody_events WHERE specimen_id = $1 ORDER BY seq",
                          {Text(std::string(id))}));
  std::vector<CustodyEvent> out;
  for (const auto& r : rows.rows) {
    const Note n = DecodeNote(r.Text(6));
    out.push_back(
        {r.Int(0), r.Text(1), r.Text(2), r.Text(3), r.Text(4), r.Text(5), n.text, n.destination});
  }
  return out;
}

Result<std::string> KindOf(storage::Transaction& tx, const std::string& organisation) {
  return identity::OrganisationKind(tx, organisation);
}

Status CheckNote(const std::string& note) {
  if (note.size() > kMaxNoteBytes) {
    return InvalidArgument("value_too_long", fmt::format("'note' exceeds {} bytes", kMaxNoteBytes),
                           "note");
  }
  return Status::Ok();
}

}  // namespace

bool IsState(std::string_view s) { return OneOf(kStates, s); }

const std::vector<Transition>& CustodyTable() {
  using A = ActingOrganisation;
  using H = NewHolder;
  static const std::vector<Transition> table = {
      {"collected", "shipped", "clinician", A::kHolder, H::kUnchanged, true,
       "the hospital ships the specimen to a sequencing facility"},
      {"shipped", "received", "sequencing_operator", A::kDestination, H::kDestination, false,
       "the destination facility records receipt and becomes the holder"},
      {"shipped", "rejected", "sequencing_operator", A::kDestination, H::kUnchanged, false,
       "the destination facility refuses the shipment, giving a reason; the hospital keeps it",
       /*needs_note=*/true},
      {"rejected", "shipped", "clinician", A::kHolder, H::kUnchanged, true,
       "the hospital ships the refused specimen again"},
      {"received", "library_prepared", "sequencing_operator", A::kHolder, H::kUnchanged, false,
       "the facility prepares a library"},
      {"library_prepared", "sequenced", "sequencing_operator", A::kHolder, H::kUnchanged, false,
       "the facility sequences the library"},
      {"sequenced", "qc_passed", "sequencing_operator", A::kHolder, H::kUnchanged, false,
       "the run passes quality control"},
      {"sequenced", "qc_failed", "sequencing_operator", A::kHolder, H::kUnchanged, false,
       "the run fails quality control"},
      {"qc_failed", "received", "sequencing_operator", A::kHolder, H::kUnchanged, false,
       "re-sequencing: the facility starts again from the remaining material"},
      {"qc_passed", "analysed", "analyst", A::kOrderedCentre, H::kActingOrganisation, false,
       "the analysis centre named by the open analysis order takes it on and becomes the "
       "holder"},
  };
  return table;
}

const Transition* FindTransition(std::string_view from, std::string_view to) {
  for (const auto& t : CustodyTable()) {
    if (t.from == from && t.to == to) return &t;
  }
  return nullptr;
}

std::vector<std::string> AllowedNext(std::string_view from) {
  std::vector<std::string> out;
  for (const auto& t : CustodyTable()) {
    if (t.from == from) out.emplace_back(t.to);
  }
  return out;
}

std::string_view ActingOrganisationName(ActingOrganisation a) {
  switch (a) {
    case ActingOrganisation::kHolder:
      return "holder";
    case ActingOrganisation::kDestination:
      return "destination";
    case ActingOrganisation::kOrderedCentre:
      return "ordered_centre";
  }
  return "";
}

std::string_view NewHolderName(NewHolder h) {
  switch (h) {
    case NewHolder::kUnchanged:
      return "unchanged";
    case NewHolder::kDestination:
      return "destination";
    case NewHolder::kActingOrganisation:
      return "acting_organisation";
  }
  return "";
}

Specimens::Specimens(storage::Store& store, const Clock& clock, AuditSink& audit)
    : store_(store), clock_(clock), audit_(audit) {}

Status Specimens::AuditDenial(const Actor& actor, std::string action, std::string resource,
                              const Error& e) {
  return audit_.Append(
      {.actor = actor.user,
       .source = actor.source,
       .action = std::move(action),
       .resource = std::move(resource),
       .decision = "deny",
       .reason = e.message,
       .request_id = actor.request_id,
       .details = json{{"code", e.code}, {"organisation", actor.organisation}}.dump()});
}

Result<Specimen> Specimens::Register(const NewSpecimen& s, const Actor& actor) {
  if (!OneOf(kTumourNormal, s.tumour_normal)) {
    return BadField("tumour_normal", "tumour_normal must be tumour or normal");
  }
  if (!OneOf(kSpecimenTypes, s.specimen_type)) {
    return BadField("specimen_type",
                    fmt::format("specimen_type must be one of: {}", ListOf(kSpecimenTypes)));
  }
  if (!OneOf(kPreservations, s.preservation)) {
    return BadField("preservation",
                    fmt::format("preservation must be one of: {}", ListOf(kPreservations)));
  }
  if (!participants::ValidDate(s.collection_date)) {
    return BadField("collection_date",
                    "collection_date must be a real calendar date written YYYY-MM-DD");
  }
  const auto today = std::chrono::floor<std::chrono::days>(clock_.Now());
  if (DaysOf(s.collection_date) > today) {
    return BadField("collection_date",
                    fmt::format("collection_date {} is in the future (today is {} UTC)",
                                s.collection_date, FormatDate(today)));
  }
  ZG_RETURN_IF_ERROR(CheckNote(s.note));

  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kWrite));
  ZG_ASSIGN_OR_RETURN(auto prow, tx->Query("SELECT hospital_id, index_date FROM participants "
                                           "WHERE id = $1",
                                           {Text(s.participant_id)}));
  if (prow.empty()) {
    return NotFound("participant_not_found", fmt::format("no participant '{}'", s.participant_id));
  }
  const std::string hospital = prow.rows[0].Text(0);
  const std::string index_date = prow.rows[0].Text(1);
  if (!actor.HasRole("clinician") || actor.organisation != hospital) {
    Error e = PermissionDenied(
        "not_participant_hospital",
        fmt::format("only a clinician of {} (the participant's hospital) registers its specimens",
                    hospital));
    tx.reset();  // roll back before the audit log takes its own write transaction
    ZG_RETURN_IF_ERROR(AuditDenial(actor, "specimen.write", "participant/" + s.participant_id, e));
    return e;
  }
  if (participants::ValidDate(index_date)) {
    const std::chrono::year_month_day idx{DaysOf(index_date)};
    std::chrono::year_month_day bound = idx - std::chrono::years{kMaxYearsBeforeIndex};
    if (!bound.ok()) bound = bound.year() / bound.month() / std::chrono::last;  // 29 Feb
    if (DaysOf(s.collection_date) < std::chrono::sys_days{bound}) {
      return BadField("collection_date",
                      fmt::format("collection_date {} is more than {} years before the "
                                  "participant's index date {}",
                                  s.collection_date, kMaxYearsBeforeIndex, index_date));
    }
  }

  const std::string now = FormatRfc3339(clock_.Now());
  Specimen out{crypto::NewId("SP-"),       s.participant_id,
               hospital,          s.tumour_normal,
               s.specimen_type,   s.preservation,
               s.collection_date, "collected",
               hospital,          "",
               actor.user,        now};
  ZG_RETURN_IF_ERROR(tx->Exec(
      "INSERT INTO specimens (id, participant_id, tumour_normal, specimen_type, preservation, "
      "collection_date, state, holder_id, created_by, created_at) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
      {Text(out.id), Text(out.participant_id), Text(out.tumour_normal), Text(out.specimen_type),
       Text(out.preservation), Text(out.collection_date), Text(out.state), Text(out.holder),
       Text(out.created_by), Text(out.created_at)}));
  ZG_RETURN_IF_ERROR(tx->Exec(
      "INSERT INTO custody_events (specimen_id, seq, from_state, to_state, organisation_id, "
      "user_id, time, note) VALUES ($1, 1, '', 'collected', $2, $3, $4, $5)",
      {Text(out.id), Text(hospital), Text(actor.user), Text(now), Text(EncodeNote(s.note, ""))}));
  // why: the record commits with the specimen (AuditSink::AppendInTransaction).
  ZG_RETURN_IF_ERROR(
      audit_.AppendInTransaction(*tx, {.actor = actor.user,
                                       .source = actor.source,
                                       .action = "specimen.write",
                                       .resource = "specimen/" + out.id,
                                       .reason = "registered",
                                       .request_id = actor.request_id,
                                       .details = json{{"participant", out.participant_id},
                                                       {"hospital", hospital},
                                                       {"tumour_normal", out.tumour_normal},
                                                       {"specimen_type", out.specimen_type}}
                                                      .dump()}));
  ZG_RETURN_IF_ERROR(tx->Commit());
  return out;
}

Result<SpecimenDetail> Specimens::Custody(std::string_view specimen_id, const CustodyStep& step,
                                          const Actor& actor) {
  if (!IsState(step.to)) {
    return InvalidArgument("invalid_to", fmt::format("'to' must be one of: {}", ListOf(kStates)),
                           "to");
  }
  ZG_RETURN_IF_ERROR(CheckNote(step.note));
  const std::string resource = "specimen/" + std::string(specimen_id);

  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kWrite));
  ZG_ASSIGN_OR_RETURN(Specimen s, ReadSpecimen(*tx, specimen_id));
  const Transition* t = FindTransition(s.state, step.to);
  if (t == nullptr) {
    const auto next = AllowedNext(s.state);
    return Conflict("invalid_transition",
                    fmt::format("specimen {} is '{}' and cannot move to '{}'; allowed next "
                                "states: {}",
                                s.id, s.state, step.to,
                                next.empty() ? "none" : fmt::format("{}", fmt::join(next, ", "))),
                    "to");
  }
  const auto deny = [&](std::string code, std::string message) -> Error {
    Error e = PermissionDenied(std::move(code), std::move(message));
    tx.reset();  // roll back before the audit log takes its own write transaction
    const Status st = AuditDenial(actor, "specimen.custody", resource, e);
    return st.ok() ? e : st.error();
  };
  if (!actor.HasRole(t->role)) {
    return deny("wrong_role", fmt::format("only a {} may move a specimen from '{}' to '{}'",
                                          t->role, t->from, t->to));
  }
  std::string new_holder = s.holder;
  AnalysisOrder order;  // the open order, for the step to analysed
  switch (t->acting) {
    case ActingOrganisation::kHolder:
      if (actor.organisation != s.holder) {
        return deny("wrong_organisation",
                    fmt::format("only the holder {} may move specimen {} from '{}' to '{}'",
                                s.holder, s.id, t->from, t->to));
      }
      break;
    case ActingOrganisation::kDestination:
      if (s.destination.empty() || actor.organisation != s.destination) {
        return deny("wrong_organisation",
                    fmt::format("specimen {} was shipped to {}; only that facility may record "
                                "'{}'",
                                s.id, s.destination.empty() ? "an unknown facility" : s.destination,
                                t->to));
      }
      break;
    case ActingOrganisation::kOrderedCentre: {
      ZG_ASSIGN_OR_RETURN(order, OpenOrder(*tx, s.id));
      if (order.state.empty() || order.centre != actor.organisation) {
        // The answer names neither the ordered centre nor whether an order exists.
        return deny("wrong_organisation",
                    fmt::format("no open analysis order assigns specimen {} to {}", s.id,
                                actor.organisation));
      }
      break;
    }
  }
  if (t->needs_destination) {
    if (step.destination.empty()) {
      return InvalidArgument(
          "missing_field",
          fmt::format("moving to '{}' needs a destination sequencing facility", t->to),
          "destination");
    }
    ZG_ASSIGN_OR_RETURN(const std::string kind, KindOf(*tx, step.destination));
    if (kind != "sequencing_facility") {
      return InvalidArgument(
          "invalid_destination",
          fmt::format("destination '{}' is not a registered sequencing facility", step.destination),
          "destination");
    }
  } else if (!step.destination.empty()) {
    return InvalidArgument(
        "unexpected_field",
        fmt::format("a destination is given only when shipping, not for '{}'", t->to),
        "destination");
  }
  if (t->needs_note && step.note.empty()) {
    return InvalidArgument("missing_field",
                           fmt::format("moving to '{}' needs a reason in 'note'", t->to), "note");
  }
  switch (t->holder_after) {
    case NewHolder::kUnchanged:
      break;
    case NewHolder::kDestination:
      new_holder = s.destination;
      break;
    case NewHolder::kActingOrganisation:
      new_holder = actor.organisation;
      break;
  }

  const std::string now = FormatRfc3339(clock_.Now());
  const auto raced = [&] {
    return Conflict("concurrent_change",
                    fmt::format("specimen {} changed while this step was being made; reload "
                                "and try again",
                                s.id));
  };
  ZG_ASSIGN_OR_RETURN(
      const int64_t changed,
      tx->Exec("UPDATE specimens SET state = $1, holder_id = $2 WHERE id = $3 AND state = $4",
               {Text(step.to), Text(new_holder), Text(s.id), Text(s.state)}));
  if (changed != 1) return raced();
  ZG_ASSIGN_OR_RETURN(auto seq_rows, tx->Query("SELECT COALESCE(MAX(seq), 0) FROM custody_events "
                                               "WHERE specimen_id = $1",
                                               {Text(s.id)}));
  const int64_t seq = seq_rows.rows[0].Int(0) + 1;
  auto inserted = tx->Exec(
      "INSERT INTO custody_events (specimen_id, seq, from_state, to_state, organisation_id, "
      "user_id, time, note) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
      {Text(s.id), Int(seq), Text(s.state), Text(step.to), Text(actor.organisation),
       Text(actor.user), Text(now), Text(EncodeNote(step.note, step.destination))});
  if (!inserted.ok()) {
    if (inserted.error().code == "unique_violation") return raced();
    return inserted.error();
  }
  if (t->acting == ActingOrganisation::kOrderedCentre) {
    ZG_RETURN_IF_ERROR(StartOrder(*tx, s.id, actor.organisation, actor.user, now));
  }
  AnalysisOrder by_rule;
  if (step.to == "qc_passed") {
    auto made = OrderByRule(*tx, s.id, actor.user, now);
    if (!made.ok()) {
      if (made.error().code == "order_exists") return raced();
      return made.error();
    }
    by_rule = std::move(*made);
  }
  // why: the custody event, the order it starts or makes and their records commit together.
  ZG_RETURN_IF_ERROR(
      audit_.AppendInTransaction(*tx, {.actor = actor.user,
                                       .source = actor.source,
                                       .action = "specimen.custody",
                                       .resource = resource,
                                       .decision = "allow",
                                       .reason = fmt::format("{} -> {}", s.state, step.to),
                                       .request_id = actor.request_id,
                                       .details = json{{"from", s.state},
                                                       {"to", step.to},
                                                       {"organisation", actor.organisation},
                                                       {"holder", new_holder},
                                                       {"destination", step.destination},
                                                       {"order", order.id}}
                                                      .dump()}));
  if (!by_rule.id.empty()) {
    ZG_RETURN_IF_ERROR(
        audit_.AppendInTransaction(*tx, OrderedEvent(by_rule, actor, "ordered by program rule")));
  }
  ZG_RETURN_IF_ERROR(tx->Commit());
  return Get(specimen_id);
}

Result<SpecimenDetail> Specimens::Get(std::string_view specimen_id) {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(Specimen s, ReadSpecimen(*tx, specimen_id));
  ZG_ASSIGN_OR_RETURN(auto history, ReadHistory(*tx, specimen_id));
  return SpecimenDetail{std::move(s), std::move(history)};
}

Result<std::vector<Specimen>> Specimens::ListForParticipant(std::string_view participant_id) {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  ZG_RETURN_IF_ERROR(participants::HospitalOf(*tx, participant_id));
  ZG_ASSIGN_OR_RETURN(auto rows, tx->Query(std::string(kSelect) + "WHERE s.participant_id = $1 "
                                                                  "ORDER BY s.created_at, s.id",
                                           {Text(std::string(participant_id))}));
  std::vector<Specimen> out;
  for (const auto& r : rows.rows) out.push_back(FromRow(r));
  return out;
}

Result<std::vector<Specimen>> Specimens::ListHeldBy(std::string_view organisation,
                                                    std::string_view state) {
  if (!state.empty() && !IsState(state)) {
    return InvalidArgument("invalid_state",
                           fmt::format("'state' must be one of: {}", ListOf(kStates)), "state");
  }
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  Result<storage::Rows> rows =
      state.empty()
          ? tx->Query(std::string(kSelect) + "WHERE s.holder_id = $1 ORDER BY s.created_at, s.id",
                      {Text(std::string(organisation))})
          : tx->Query(std::string(kSelect) +
                          "WHERE s.holder_id = $1 AND s.state = $2 ORDER BY s.created_at, s.id",
                      {Text(std::string(organisation)), Text(std::string(state))});
  if (!rows.ok()) return rows.error();
  std::vector<Specimen> out;
  for (const auto& r : rows->rows) out.push_back(FromRow(r));
  return out;
}

Result<std::vector<Specimen>> Specimens::Incoming(std::string_view organisation) {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  // The destination lives in the shipping event's note (JSON), so shipped specimens are
  // filtered here; few are in transit at any time.
  ZG_ASSIGN_OR_RETURN(auto rows,
                      tx->Query(std::string(kSelect) +
                                    "WHERE s.state = 'shipped' OR (s.state = 'qc_passed' AND "
                                    "EXISTS (SELECT 1 FROM analysis_orders o WHERE "
                                    "o.specimen_id = s.id AND o.state = 'open' AND "
                                    "o.centre_id = $1)) ORDER BY s.created_at, s.id",
                                {Text(std::string(organisation))}));
  std::vector<Specimen> out;
  for (const auto& r : rows.rows) {
    Specimen s = FromRow(r);
    if (s.state == "qc_passed" || (!organisation.empty() && s.destination == organisation)) {
      out.push_back(std::move(s));
    }
  }
  return out;
}

Result<std::map<std::string, int64_t>> Specimens::CountByState(std::string_view holder) {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  Result<storage::Rows> rows =
      holder.empty()
          ? tx->Query("SELECT state, COUNT(*) FROM specimens GROUP BY state")
          : tx->Query("SELECT state, COUNT(*) FROM specimens WHERE holder_id = $1 GROUP BY state",
                      {Text(std::string(holder))});
  if (!rows.ok()) return rows.error();
  std::map<std::string, int64_t> out;
  for (auto s : kStates) out[std::string(s)] = 0;
  for (const auto& r : rows->rows) out[r.Text(0)] = r.Int(1);
  return out;
}

Result<policy::Resource> Specimens::ParticipantResource(std::string_view participant_id) {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(std::string hospital, participants::HospitalOf(*tx, participant_id));
  return policy::Resource{"participant", std::string(participant_id), hospital, ""};
}

Result<policy::Resource> Specimens::SpecimenResource(std::string_view specimen_id) {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(Specimen s, ReadSpecimen(*tx, specimen_id));
  return policy::Resource{"specimen", s.id, s.hospital, s.holder};
}

Result<policy::Resource> Specimens::ReadResource(std::string_view specimen_id,
                                                 const policy::Subject& subject) {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(Specimen s, ReadSpecimen(*tx, specimen_id));
  policy::Resource r{"specimen", s.id, s.hospital, s.holder};
  if (subject.organisation.empty()) return r;
  if (s.state == "shipped" && s.destination == subject.organisation) {
    r.holder = s.destination;
  } else {
    ZG_ASSIGN_OR_RETURN(AnalysisOrder open, OpenOrder(*tx, s.id));
    if (!open.state.empty() && open.centre == subject.organisation) r.holder = open.centre;
  }
  return r;
}

Result<policy::Resource> Specimens::CustodyResource(std::string_view specimen_id,
                                                    std::string_view to,
                                                    const policy::Subject& /*subject*/) {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(Specimen s, ReadSpecimen(*tx, specimen_id));
  policy::Resource r{"specimen", s.id, s.hospital, s.holder};
  if (s.state == "shipped" && !s.destination.empty()) {
    r.holder = s.destination;  // in transit: the destination is the next to act
  } else if (const Transition* t = FindTransition(s.state, to); t != nullptr) {
    if (t->acting == ActingOrganisation::kOrderedCentre) {
      // Only the ordered centre passes the policy; without an order, nobody.
      ZG_ASSIGN_OR_RETURN(AnalysisOrder open, OpenOrder(*tx, s.id));
      r.holder = open.centre;
    }
  }
  return r;
}

}  // namespace zengen::specimens
