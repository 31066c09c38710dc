#include "specimens/analysis_orders.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "common/field_checks.h"
#include "crypto/crypto.h"
#include "crypto/ids.h"
#include "identity/directory.h"

namespace zengen::specimens {
namespace {

using nlohmann::json;
using storage::Text;

constexpr std::string_view kSteward = "data_steward";

constexpr const char* kSelectOrder =
    "SELECT id, specimen_id, centre_id, state, basis, ordered_by, ordered_at, closed_by, "
    "closed_at, reason FROM analysis_orders ";

AnalysisOrder OrderFromRow(const storage::Row& r) {
  return {r.Text(0), r.Text(1), r.Text(2), r.Text(3), r.Text(4),
          r.Text(5), r.Text(6), r.Text(7), r.Text(8), r.Text(9)};
}

std::string NewOrderId() { return crypto::NewId("AO-"); }

Status CheckCentre(storage::Transaction& tx, std::string_view centre) {
  ZG_ASSIGN_OR_RETURN(const std::string kind, identity::OrganisationKind(tx, centre));
  if (kind != "analysis_center") {
    return InvalidArgument(
        "invalid_centre", fmt::format("'{}' is not a registered analysis centre", centre),
        "centre");
  }
  return Status::Ok();
}

// The specimen's holder and participant program, or kNotFound.
struct SpecimenFacts {
  std::string state;
  std::string holder;
  std::string program;
};
Result<SpecimenFacts> ReadFacts(storage::Transaction& tx, std::string_view specimen_id) {
  ZG_ASSIGN_OR_RETURN(auto rows,
                      tx.Query("SELECT s.state, s.holder_id, p.program FROM specimens s JOIN "
                               "participants p ON p.id = s.participant_id WHERE s.id = $1",
                               {Text(std::string(specimen_id))}));
  if (rows.empty()) {
    return NotFound("specimen_not_found", fmt::format("no specimen '{}'", specimen_id));
  }
  return SpecimenFacts{rows.rows[0].Text(0), rows.rows[0].Text(1), rows.rows[0].Text(2)};
}

Status InsertOrder(storage::Transaction& tx, const AnalysisOrder& o) {
  auto inserted = tx.Exec(
      "INSERT INTO analysis_orders (id, specimen_id, centre_id, state, basis, ordered_by, "
      "ordered_at, closed_by, closed_at, reason) VALUES ($1, $2, $3, $4, $5, $6, $7, '', '', '')",
      {Text(o.id), Text(o.specimen_id), Text(o.centre), Text(o.state), Text(o.basis),
       Text(o.ordered_by), Text(o.ordered_at)});
  if (!inserted.ok()) {
    if (inserted.error().code == "unique_violation") {
      return Conflict("order_exists",
                      fmt::format("specimen {} already has an open analysis order", o.specimen_id),
                      "specimen_id");
    }
    return inserted.error();
  }
  return Status::Ok();
}

const OrderTransition* FindOrderTransition(std::string_view from, std::string_view event) {
  for (const auto& t : OrderTable()) {
    if (t.from == from && t.event == event) return &t;
  }
  return nullptr;
}

}  // namespace

const std::vector<OrderTransition>& OrderTable() {
  static const std::vector<OrderTransition> table = {
      {"open", "started", "start", "analyst",
       "the ordered centre takes custody of the specimen (qc_passed -> analysed)"},
      {"open", "cancelled", "cancel", "data_steward",
       "the data centre withdraws the order, giving a reason"},
  };
  return table;
}

Result<AnalysisOrder> OpenOrder(storage::Transaction& tx, std::string_view specimen_id) {
  ZG_ASSIGN_OR_RETURN(auto rows,
                      tx.Query(std::string(kSelectOrder) +
                                   "WHERE specimen_id = $1 AND state = 'open'",
                               {Text(std::string(specimen_id))}));
  if (rows.empty()) return AnalysisOrder{};
  return OrderFromRow(rows.rows[0]);
}

Status StartOrder(storage::Transaction& tx, std::string_view specimen_id, std::string_view centre,
                  std::string_view user, std::string_view now) {
  ZG_ASSIGN_OR_RETURN(
      const int64_t changed,
      tx.Exec("UPDATE analysis_orders SET state = 'started', closed_by = $1, closed_at = $2 "
              "WHERE specimen_id = $3 AND centre_id = $4 AND state = 'open'",
              {Text(std::string(user)), Text(std::string(now)), Text(std::string(specimen_id)),
               Text(std::string(centre))}));
  if (changed != 1) {
    return Conflict("concurrent_change",
                    fmt::format("the analysis order of specimen {} changed meanwhile; reload",
                                specimen_id));
  }
  return Status::Ok();
}

Result<AnalysisOrder> OrderByRule(storage::Transaction& tx, std::string_view specimen_id,
                                  std::string_view user, std::string_view now) {
  ZG_ASSIGN_OR_RETURN(AnalysisOrder open, OpenOrder(tx, specimen_id));
  if (!open.state.empty()) return AnalysisOrder{};
  ZG_ASSIGN_OR_RETURN(SpecimenFacts facts, ReadFacts(tx, specimen_id));
  ZG_ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT centre_id FROM analysis_order_rules "
                                          "WHERE program = $1",
                                          {Text(facts.program)}));
  if (rows.empty()) return AnalysisOrder{};
  AnalysisOrder o{NewOrderId(),    std::string(specimen_id), rows.rows[0].Text(0),
                  "open",          "program_rule",           std::string(user),
                  std::string(now), "",                      "",
                  ""};
  ZG_RETURN_IF_ERROR(InsertOrder(tx, o));
  return o;
}

Result<bool> AnalysedBy(storage::Transaction& tx, std::string_view participant_id,
                        std::string_view organisation) {
  ZG_ASSIGN_OR_RETURN(
      auto rows,
      tx.Query("SELECT 1 FROM custody_events e JOIN specimens s ON s.id = e.specimen_id "
               "WHERE s.participant_id = $1 AND e.to_state = 'analysed' "
               "AND e.organisation_id = $2 LIMIT 1",
               {Text(std::string(participant_id)), Text(std::string(organisation))}));
  return !rows.empty();
}

AnalysisOrders::AnalysisOrders(storage::Store& store, const Clock& clock, AuditSink& audit)
    : store_(store), clock_(clock), audit_(audit) {}

Error AnalysisOrders::Deny(const Actor& actor, std::string action, std::string resource,
                           Error e) {
  const Status st = audit_.Append(
      {.actor = actor.user,
       .source = actor.source,
       .action = std::move(action),
       .resource = std::move(resource),
       .decision = "deny",
       .reason = e.message,
       .request_id = actor.request_id,
       .details = json{{"code", e.code}, {"organisation", actor.organisation}}.dump()});
  return st.ok() ? e : st.error();
}

Result<AnalysisOrder> AnalysisOrders::Create(const NewOrder& n, const Actor& actor) {
  if (n.specimen_id.empty()) {
    return InvalidArgument("missing_field", "'specimen_id' is required", "specimen_id");
  }
  if (n.centre.empty()) return InvalidArgument("missing_field", "'centre' is required", "centre");
  if (!actor.HasRole(kSteward)) {
    return Deny(actor, "analysis_order.write", "specimen/" + n.specimen_id,
                PermissionDenied("not_data_steward",
                                 "only a data steward of the data centre orders analyses"));
  }
  const std::string now = FormatRfc3339(clock_.Now());
  AnalysisOrder o{NewOrderId(), n.specimen_id, n.centre, "open", "steward", actor.user, now,
                  "",           "",            ""};
  {
    ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kWrite));
    ZG_ASSIGN_OR_RETURN(SpecimenFacts facts, ReadFacts(*tx, n.specimen_id));
    ZG_RETURN_IF_ERROR(CheckCentre(*tx, n.centre));
    if (facts.state == "analysed") {
      return Conflict("invalid_specimen_state",
                      fmt::format("specimen {} is already analysed", n.specimen_id),
                      "specimen_id");
    }
    ZG_ASSIGN_OR_RETURN(AnalysisOrder open, OpenOrder(*tx, n.specimen_id));
    if (!open.state.empty()) {
      return Conflict("order_exists",
                      fmt::format("specimen {} already has an open analysis order ({}); cancel "
                                  "it first",
                                  n.specimen_id, open.id),
                      "specimen_id");
    }
    ZG_RETURN_IF_ERROR(InsertOrder(*tx, o));
    ZG_RETURN_IF_ERROR(audit_.AppendInTransaction(*tx, OrderedEvent(o, actor, "ordered")));
    ZG_RETURN_IF_ERROR(tx->Commit());
  }
  return o;
}

AuditEvent OrderedEvent(const AnalysisOrder& order, const Actor& actor, std::string_view reason) {
  return {.actor = actor.user,
          .source = actor.source,
          .action = "analysis_order.write",
          .resource = "analysis_order/" + order.id,
          .decision = "allow",
          .reason = std::string(reason),
          .request_id = actor.request_id,
          .details = json{{"specimen", order.specimen_id},
                          {"centre", order.centre},
                          {"basis", order.basis}}
                         .dump()};
}

Result<AnalysisOrder> AnalysisOrders::Cancel(std::string_view id, std::string_view reason,
                                             const Actor& actor) {
  if (reason.empty()) {
    return InvalidArgument("missing_field", "'reason' is required to cancel an order", "reason");
  }
  if (reason.size() > kMaxReasonBytes) {
    return InvalidArgument("value_too_long",
                           fmt::format("'reason' exceeds {} bytes", kMaxReasonBytes), "reason");
  }
  const std::string resource = "analysis_order/" + std::string(id);
  if (!actor.HasRole(kSteward)) {
    return Deny(actor, "analysis_order.write", resource,
                PermissionDenied("not_data_steward",
                                 "only a data steward of the data centre cancels orders"));
  }
  const std::string now = FormatRfc3339(clock_.Now());
  AnalysisOrder o;
  {
    ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kWrite));
    ZG_ASSIGN_OR_RETURN(auto rows, tx->Query(std::string(kSelectOrder) + "WHERE id = $1",
                                             {Text(std::string(id))}));
    if (rows.empty()) return NotFound("order_not_found", fmt::format("no analysis order '{}'", id));
    o = OrderFromRow(rows.rows[0]);
    const OrderTransition* t = FindOrderTransition(o.state, "cancel");
    if (t == nullptr) {
      return Conflict("invalid_transition",
                      fmt::format("analysis order {} is '{}'; only an open order is cancelled",
                                  o.id, o.state));
    }
    ZG_ASSIGN_OR_RETURN(const int64_t changed,
                        tx->Exec("UPDATE analysis_orders SET state = $1, closed_by = $2, "
                                 "closed_at = $3, reason = $4 WHERE id = $5 AND state = $6",
                                 {Text(std::string(t->to)), Text(actor.user), Text(now),
                                  Text(std::string(reason)), Text(o.id), Text(o.state)}));
    if (changed != 1) {
      return Conflict("concurrent_change",
                      fmt::format("analysis order {} changed meanwhile; reload", o.id));
    }
    o.state = std::string(t->to);
    o.closed_by = actor.user;
    o.closed_at = now;
    o.reason = std::string(reason);
    ZG_RETURN_IF_ERROR(audit_.AppendInTransaction(
        *tx,
        {.actor = actor.user,
         .source = actor.source,
         .action = "analysis_order.write",
         .resource = resource,
         .decision = "allow",
         .reason = "cancelled",
         .request_id = actor.request_id,
         .details = json{{"specimen", o.specimen_id}, {"centre", o.centre}, {"reason", o.reason}}
                        .dump()}));
    ZG_RETURN_IF_ERROR(tx->Commit());
  }
  return o;
}

Result<AnalysisOrder> AnalysisOrders::Get(std::string_view id) {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(auto rows, tx->Query(std::string(kSelectOrder) + "WHERE id = $1",
                                           {Text(std::string(id))}));
  if (rows.empty()) return NotFound("order_not_found", fmt::format("no analysis order '{}'", id));
  return OrderFromRow(rows.rows[0]);
}

Result<std::vector<AnalysisOrder>> AnalysisOrders::ListForSpecimen(std::string_view specimen_id,
                                                                   const policy::Subject& viewer) {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(SpecimenFacts facts, ReadFacts(*tx, specimen_id));
  ZG_ASSIGN_OR_RETURN(auto rows,
                      tx->Query(std::string(kSelectOrder) +
                                    "WHERE specimen_id = $1 ORDER BY ordered_at, id",
                                {Text(std::string(specimen_id))}));
  const bool all = viewer.HasRole(kSteward) || viewer.HasRole("security_officer") ||
                   (!viewer.organisation.empty() && viewer.organisation == facts.holder);
  std::vector<AnalysisOrder> out;
  for (const auto& r : rows.rows) {
    AnalysisOrder o = OrderFromRow(r);
    if (all || (!viewer.organisation.empty() && o.centre == viewer.organisation)) {
      out.push_back(std::move(o));
    }
  }
  return out;
}

Result<policy::Resource> AnalysisOrders::SpecimenOrdersResource(std::string_view specimen_id,
                                                                const policy::Subject& subject) {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(SpecimenFacts facts, ReadFacts(*tx, specimen_id));
  policy::Resource r{"analysis_order", std::string(specimen_id), facts.holder, ""};
  if (!subject.organisation.empty()) {
    ZG_ASSIGN_OR_RETURN(auto rows,
                        tx->Query("SELECT 1 FROM analysis_orders WHERE specimen_id = $1 AND "
                                  "centre_id = $2 LIMIT 1",
                                  {Text(std::string(specimen_id)), Text(subject.organisation)}));
    if (!rows.empty()) r.holder = subject.organisation;
  }
  return r;
}

Result<ProgramRule> AnalysisOrders::SetRule(std::string_view program, std::string_view centre,
                                            const Actor& actor) {
  if (!OneOf(kPrograms, program)) {
    return InvalidArgument("invalid_program", "'program' must be cancer or rare_disease",
                           "program");
  }
  if (centre.empty()) return InvalidArgument("missing_field", "'centre' is required", "centre");
  const std::string resource = "analysis_order_rule/" + std::string(program);
  if (!actor.HasRole(kSteward)) {
    return Deny(actor, "analysis_order.rule", resource,
                PermissionDenied("not_data_steward",
                                 "only a data steward sets analysis order rules"));
  }
  ProgramRule rule{std::string(program), std::string(centre), actor.user,
                   FormatRfc3339(clock_.Now())};
  {
    ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kWrite));
    ZG_RETURN_IF_ERROR(CheckCentre(*tx, centre));
    ZG_RETURN_IF_ERROR(
        tx->Exec("DELETE FROM analysis_order_rules WHERE program = $1", {Text(rule.program)})
            .status());
    ZG_RETURN_IF_ERROR(tx->Exec("INSERT INTO analysis_order_rules (program, centre_id, set_by, "
                                "set_at) VALUES ($1, $2, $3, $4)",
                                {Text(rule.program), Text(rule.centre), Text(rule.set_by),
                                 Text(rule.set_at)})
                           .status());
    ZG_RETURN_IF_ERROR(
        audit_.AppendInTransaction(*tx, {.actor = actor.user,
                                         .source = actor.source,
                                         .action = "analysis_order.rule",
                                         .resource = resource,
                                         .decision = "allow",
                                         .reason = "set",
                                         .request_id = actor.request_id,
                                         .details = json{{"centre", rule.centre}}.dump()}));
    ZG_RETURN_IF_ERROR(tx->Commit());
  }
  return rule;
}

Status AnalysisOrders::ClearRule(std::string_view program, const Actor& actor) {
  if (!OneOf(kPrograms, program)) {
    return InvalidArgument("invalid_program", "'program' must be cancer or rare_disease",
                           "program");
  }
  const std::string resource = "analysis_order_rule/" + std::string(program);
  if (!actor.HasRole(kSteward)) {
    return Deny(actor, "analysis_order.rule", resource,
                PermissionDenied("not_data_steward",
                                 "only a data steward sets analysis order rules"));
  }
  {
    ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kWrite));
    ZG_ASSIGN_OR_RETURN(const int64_t n, tx->Exec("DELETE FROM analysis_order_rules WHERE "
                                                  "program = $1",
                                                  {Text(std::string(program))}));
    if (n == 0) {
      return NotFound("rule_not_found", fmt::format("no rule for program {}", program));
    }
    ZG_RETURN_IF_ERROR(audit_.AppendInTransaction(*tx, {.actor = actor.user,
                                                        .source = actor.source,
                                                        .action = "analysis_order.rule",
                                                        .resource = resource,
                                                        .decision = "allow",
                                                        .reason = "cleared",
                                                        .request_id = actor.request_id,
                                                        .details = "{}"}));
    return tx->Commit();
  }
}

Result<std::vector<ProgramRule>> AnalysisOrders::ListRules() {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(storage::TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(auto rows, tx->Query("SELECT program, centre_id, set_by, set_at FROM "
                                           "analysis_order_rules ORDER BY program"));
  std::vector<ProgramRule> out;
  for (const auto& r : rows.rows) out.push_back({r.Text(0), r.Text(1), r.Text(2), r.Text(3)});
  return out;
}

Result<std::vector<AnalysisCandidate>> AnalysisCandidates(storage::Transaction& tx,
                                                          std::string_view centre) {
  const bool every = centre == policy::kEveryOrganisation;
  std::vector<storage::Value> params;
  if (!every) params.push_back(storage::Text(std::string(centre)));
  ZG_ASSIGN_OR_RETURN(
      auto rows,
      tx.Query(std::string("SELECT s.id, s.participant_id, s.tumour_normal, s.state, "
                           "CASE WHEN s.state = 'analysed' THEN s.holder_id ELSE o.centre_id END "
                           "FROM specimens s LEFT JOIN analysis_orders o ON o.specimen_id = s.id "
                           "AND o.state = 'open' WHERE (s.state = 'qc_passed' AND "
                           "o.centre_id IS NOT NULL") +
                   (every ? "" : " AND o.centre_id = $1") + ") OR (s.state = 'analysed'" +
                   (every ? "" : " AND s.holder_id = $1") +
                   ") ORDER BY s.participant_id, s.id",
               std::span<const storage::Value>(params)));
  std::vector<AnalysisCandidate> out;
  out.reserve(rows.rows.size());
  for (const auto& r : rows.rows) {
    out.push_back({r.Text(0), r.Text(1), r.Text(2), r.Text(3), r.Text(4)});
  }
  return out;
}

Result<int64_t> CountHeldInState(storage::Transaction& tx, std::string_view participant_id,
                                 std::string_view holder, std::string_view state) {
  ZG_ASSIGN_OR_RETURN(
      auto rows, tx.Query("SELECT COUNT(*) FROM specimens WHERE participant_id = $1 AND "
                          "holder_id = $2 AND state = $3",
                          {storage::Text(std::string(participant_id)),
                           storage::Text(std::string(holder)), storage::Text(std::string(state))}));
  return rows.rows.front().Int(0);
}

}  // namespace zengen::specimens
