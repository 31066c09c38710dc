#include "identity/identity.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>

#include "common/field_checks.h"
#include "crypto/crypto.h"
#include "crypto/tokens.h"
#include "crypto/totp.h"

namespace zengen::identity {
namespace {

using storage::Int;
using storage::Null;
using storage::Text;
using storage::TxMode;
using nlohmann::json;

bool ValidSlug(std::string_view s) {
  if (s.size() < 2 || s.size() > 64) return false;
  auto ok_first = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!ok_first(s[0])) return false;
  return std::all_of(s.begin(), s.end(),
                     [&](char c) { return ok_first(c) || c == '.' || c == '_' || c == '-'; });
}

bool IsKnown(std::string_view v, std::span<const std::string_view> list) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

std::vector<std::string> RolesOf(storage::Transaction& tx, const std::string& user,
                                 Status& status) {
  std::vector<std::string> roles;
  auto rows = tx.Query("SELECT role FROM user_roles WHERE user_id = $1 ORDER BY role",
                       {Text(user)});
  if (!rows.ok()) {
    status = rows.error();
    return roles;
  }
  for (const auto& r : rows->rows) roles.push_back(r.Text(0));
  return roles;
}

std::vector<std::string> PendingRolesOf(storage::Transaction& tx, const std::string& user,
                                        Status& status) {
  std::vector<std::string> roles;
  auto rows = tx.Query(
      "SELECT role FROM role_grants WHERE user_id = $1 AND state = 'pending' "
      "ORDER BY role",
      {Text(user)});
  if (!rows.ok()) {
    status = rows.error();
    return roles;
  }
  for (const auto& r : rows->rows) roles.push_back(r.Text(0));
  return roles;
}

bool IsKnownString(std::string_view v, const std::vector<std::string>& list) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

// Names the audit log and the authenticators use for principals that are not users.
constexpr std::string_view kReservedIds[] = {"operator", "anonymous", "cli", "system", "demo"};

RoleGrant GrantFromRow(const storage::Row& r) {
  return RoleGrant{.id = r.Text(0),
                   .user = r.Text(1),
                   .role = r.Text(2),
                   .requested_by = r.Text(3),
                   .requested_at = r.Text(4),
                   .state = r.Text(5),
                   .approved_by = r.IsNull(6) ? "" : r.Text(6),
                   .approved_at = r.IsNull(7) ? "" : r.Text(7)};
}

constexpr const char* kUserColumns =
    "id, organisation_id, display_name, email, disabled, totp_confirmed, locked_until_ms, "
    "created_at";

User UserFromRow(const storage::Row& r, int64_t now) {
  User u;
  u.id = r.Text(0);
  u.organisation = r.Text(1);
  u.display_name = r.Text(2);
  u.email = r.Text(3);
  u.disabled = r.Int(4) != 0;
  u.mfa_enrolled = r.Int(5) != 0;
  u.locked = r.Int(6) > now;
  u.created_at = r.Text(7);
  return u;
}

ApiToken TokenFromRow(const storage::Row& r) {
  ApiToken t;
  t.id = r.Text(0);
  t.name = r.Text(1);
  t.organisation = r.Text(2);
  t.role = r.Text(3);
  auto actions = json::parse(r.Text(4), nullptr, false);
  if (actions.is_array()) {
    for (const auto& a : actions) {
      if (a.is_string()) t.actions.push_back(a.get<std::string>());
    }
  }
  t.created_by = r.Text(5);
  t.created_at = r.Text(6);
  t.expires_ms = r.Int(7);
  if (r.size() > 9) t.user = r.Text(9);
  t.revoked = r.Int(8) != 0;
  return t;
}

}  // namespace

bool RoleAllowedForKind(std::string_view role, std::string_view kind) {
  static const std::map<std::string_view, std::vector<std::string_view>> kAllowed = {
      {"hospital", {"clinician", "researcher"}},
      {"sequencing_facility", {"sequencing_operator"}},
      {"analysis_center", {"analyst"}},
      {"data_center", {"committee_member", "data_steward", "security_officer"}},
      {"academic", {"researcher"}},
      {"industry", {"researcher"}},
  };
  auto it = kAllowed.find(kind);
  return it != kAllowed.end() &&
         std::find(it->second.begin(), it->second.end(), role) != it->second.end();
}

Identity::Identity(storage::Store& store, const Clock& clock, AuditSink& audit, Options options)
    : store_(store), clock_(clock), audit_(audit), options_(std::move(options)) {
  auto h = crypto::HashPassword(crypto::ToHex(crypto::RandomBytes(16)), options_.password_cost);
  if (h.ok()) dummy_hash_ = *h;
}

Status Identity::Audit(const Actor& actor, std::string action, std::string resource,
                       std::string decision, std::string reason, std::string details) {
  return audit_.Append({.actor = actor.id,
                        .source = actor.source,
                        .action = std::move(action),
                        .resource = std::move(resource),
                        .decision = std::move(decision),
                        .reason = std::move(reason),
                        .request_id = actor.request_id,
                        .details = std::move(details)});
}

Status Identity::AuditIn(storage::Transaction& tx, const Actor& actor, std::string action,
                         std::string resource, std::string decision, std::string reason,
                         std::string details) {
  return audit_.AppendInTransaction(tx, {.actor = actor.id,
                                         .source = actor.source,
                                         .action = std::move(action),
                                         .resource = std::move(resource),
                                         .decision = std::move(decision),
                                         .reason = std::move(reason),
                                         .request_id = actor.request_id,
                                         .details = std::move(details)});
}

// ---------------------------------------------------------------------------- organisations

Result<Organisation> Identity::CreateOrganisation(const Organisation& in, const Actor& actor) {
  if (!ValidSlug(in.id)) {
    return BadField("id", "an id is 2-64 characters of a-z, 0-9, '.', '_' and '-', "
                          "starting with a letter or digit");
  }
  if (in.name.empty() || in.name.size() > 200) {
    return BadField("name", "a name of 1-200 bytes is required");
  }
  if (!IsKnown(in.kind, kOrganisationKinds)) {
    return BadField("kind", "kind must be one of hospital, sequencing_facility, "
                            "analysis_center, data_center, academic, industry");
  }
  if (in.jurisdiction.size() != 2 || !std::isupper(static_cast<unsigned char>(in.jurisdiction[0])) ||
      !std::isupper(static_cast<unsigned char>(in.jurisdiction[1]))) {
    return BadField("jurisdiction", "jurisdiction is an ISO 3166-1 alpha-2 code such as JP");
  }
  Organisation org = in;
  org.created_at = FormatRfc3339(clock_.Now());
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(TxMode::kWrite));
  auto n = tx->Exec(
      "INSERT INTO organisations (id, name, kind, jurisdiction, created_at) "
      "VALUES ($1, $2, $3, $4, $5)",
      {Text(org.id), Text(org.name), Text(org.kind), Text(org.jurisdiction),
       Text(org.created_at)});
  if (!n.ok()) {
    if (n.error().code == "unique_violation") {
      return Conflict("already_exists", fmt::format("organisation '{}' exists", org.id), "id");
    }
    return n.error();
  }
  ZG_RETURN_IF_ERROR(AuditIn(*tx, actor, "org.write", "organisation/" + org.id, "", "created",
                             json{{"kind", org.kind}, {"jurisdiction", org.jurisdiction}}.dump()));
  ZG_RETURN_IF_ERROR(tx->Commit());
  return org;
}

Result<std::vector<Organisation>> Identity::ListOrganisations() {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(auto rows,
                      tx->Query("SELECT id, name, kind, jurisdiction, created_at FROM "
                                "organisations ORDER BY id"));
  std::vector<Organisation> out;
  for (const auto& r : rows.rows) {
    out.push_back({r.Text(0), r.Text(1), r.Text(2), r.Text(3), r.Text(4)});
  }
  return out;
}

// ------------------------------------------------------------------------------------ users

Result<Identity::GrantPlan> Identity::PlanGrants(const Grantor& grantor, const std::string& org,
                                                 const std::string& kind,
                                                 const std::vector<std::string>& held,
                                                 const std::vector<std::string>& wanted) {
  std::vector<std::string> all = held;
  all.insert(all.end(), wanted.begin(), wanted.end());
  GrantPlan plan;
  for (const auto& role : wanted) {
    if (!RoleAllowedForKind(role, kind)) {
      return InvalidArgument("role_not_allowed",
                             fmt::format("a {} cannot hold the role {}", kind, role), "roles");
    }
    const GrantVerdict v = DecideGrant(grantor, role, org, all);
    if (v.denied()) return PermissionDenied(v.code, v.reason);
    (v.kind == GrantVerdict::Kind::kAllow ? plan.direct : plan.pending).push_back(role);
  }
  return plan;
}

Error Identity::RefuseGrant(Error e, const Grantor& grantor, const Actor& actor,
                            const std::string& action, const std::string& resource) {
  if (e.kind != ErrorKind::kPermissionDenied) return e;
  json details{{"code", e.code}, {"grantor", grantor.id}, {"break_glass", grantor.is_operator}};
  if (!actor.reason.empty()) details["reason"] = actor.reason;
  if (auto st = Audit(actor, action, resource, "deny", e.message, details.dump()); !st.ok()) {
    return st.error();
  }
  return e;
}

Status Identity::WritePendingGrants(storage::Transaction& tx, const std::string& user,
                                    const std::vector<std::string>& roles, const Grantor& grantor) {
  for (const auto& role : roles) {
    ZG_RETURN_IF_ERROR(
        tx.Exec("INSERT INTO role_grants (id, user_id, role, requested_by, requested_at, state) "
                "VALUES ($1, $2, $3, $4, $5, 'pending')",
                {Text("rg_" + crypto::ToHex(crypto::RandomBytes(8))), Text(user), Text(role),
                 Text(grantor.id), Text(FormatRfc3339(clock_.Now()))}));
  }
  return Status::Ok();
}

Result<User> Identity::CreateUser(const NewUser& in, const Grantor& grantor, const Actor& actor) {
  if (!ValidSlug(in.id)) {
    return BadField("id", "a user id is 2-64 characters of a-z, 0-9, '.', '_' and '-'");
  }
  if (IsKnown(in.id, kReservedIds)) {
    return InvalidArgument("reserved_id",
                           fmt::format("'{}' names a built-in principal in the audit log", in.id),
                           "id");
  }
  if (in.display_name.empty() || in.display_name.size() > 200) {
    return BadField("display_name", "a display name of 1-200 bytes is required");
  }
  const auto at = in.email.find('@');
  if (at == std::string::npos || at == 0 || at + 1 >= in.email.size() || in.email.size() > 254 ||
      in.email.find_first_of(" \t\r\n") != std::string::npos) {
    return BadField("email", "a valid e-mail address is required");
  }
  if (in.roles.empty()) return BadField("roles", "at least one role is required");
  for (const auto& role : in.roles) {
    if (!IsKnown(role, policy::kRoles)) {
      return BadField("roles", fmt::format("unknown role '{}'", role));
    }
  }
  std::vector<std::string> roles = in.roles;
  std::sort(roles.begin(), roles.end());
  roles.erase(std::unique(roles.begin(), roles.end()), roles.end());
  ZG_RETURN_IF_ERROR(crypto::CheckPasswordPolicy(in.password, in.id));

  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(TxMode::kWrite));
  ZG_ASSIGN_OR_RETURN(auto org, tx->Query("SELECT kind FROM organisations WHERE id = $1",
                                          {Text(in.organisation)}));
  if (org.empty()) {
    return InvalidArgument("unknown_organisation",
                           fmt::format("no organisation '{}'", in.organisation), "organisation");
  }
  const std::string kind = org.rows[0].Text(0);
  auto plan = PlanGrants(grantor, in.organisation, kind, {}, roles);
  if (!plan.ok()) {
    tx.reset();
    return RefuseGrant(plan.error(), grantor, actor, "user.write", "user/" + in.id);
  }
  ZG_ASSIGN_OR_RETURN(std::string hash, crypto::HashPassword(in.password, options_.password_cost));
  const std::string now = FormatRfc3339(clock_.Now());
  auto n = tx->Exec(
      "INSERT INTO users (id, organisation_id, display_name, email, password_hash, created_at) "
      "VALUES ($1, $2, $3, $4, $5, $6)",
      {Text(in.id), Text(in.organisation), Text(in.display_name), Text(in.email), Text(hash),
       Text(now)});
  if (!n.ok()) {
    if (n.error().code == "unique_violation") {
      return Conflict("already_exists", fmt::format("user '{}' exists", in.id), "id");
    }
    return n.error();
  }
  for (const auto& role : plan->direct) {
    ZG_RETURN_IF_ERROR(tx->Exec("INSERT INTO user_roles (user_id, role) VALUES ($1, $2)",
                                {Text(in.id), Text(role)}));
  }
  ZG_RETURN_IF_ERROR(WritePendingGrants(*tx, in.id, plan->pending, grantor));
  ZG_RETURN_IF_ERROR(AuditIn(*tx, actor, "user.write", "user/" + in.id, "allow", "created",
                             json{{"organisation", in.organisation},
                                  {"roles", plan->direct},
                                  {"pending_roles", plan->pending},
                                  {"grantor", grantor.id},
                                  {"break_glass", grantor.is_operator}}
                                 .dump()));
  ZG_RETURN_IF_ERROR(tx->Commit());
  User u{.id = in.id,
         .organisation = in.organisation,
         .display_name = in.display_name,
         .email = in.email,
         .roles = plan->direct,
         .pending_roles = plan->pending,
         .created_at = now};
  return u;
}

Result<User> Identity::GrantRole(std::string_view user, std::string_view role,
                                 const Grantor& grantor, const Actor& actor) {
  if (!IsKnown(role, policy::kRoles)) {
    return BadField("role", fmt::format("unknown role '{}'", role));
  }
  const std::string uid(user);
  {
    ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(TxMode::kWrite));
    ZG_ASSIGN_OR_RETURN(auto rows,
                        tx->Query("SELECT u.organisation_id, o.kind FROM users u JOIN "
                                  "organisations o ON o.id = u.organisation_id WHERE u.id = $1",
                                  {Text(uid)}));
    if (rows.empty()) return NotFound("user_not_found", fmt::format("no user '{}'", user));
    const std::string org = rows.rows[0].Text(0);
    Status st;
    std::vector<std::string> held = RolesOf(*tx, uid, st);
    ZG_RETURN_IF_ERROR(st);
    const std::vector<std::string> pending = PendingRolesOf(*tx, uid, st);
    ZG_RETURN_IF_ERROR(st);
    if (IsKnownString(role, held) || IsKnownString(role, pending)) {
      return Conflict("role_held", fmt::format("{} holds or awaits the role {}", user, role),
                      "role");
    }
    held.insert(held.end(), pending.begin(), pending.end());
    auto plan = PlanGrants(grantor, org, rows.rows[0].Text(1), held, {std::string(role)});
    if (!plan.ok()) {
      tx.reset();
      Error e = plan.error();
      if (e.field == "roles") e.field = "role";
      return RefuseGrant(std::move(e), grantor, actor, "user.write", "user/" + uid);
    }
    for (const auto& r : plan->direct) {
      ZG_RETURN_IF_ERROR(
          tx->Exec("INSERT INTO user_roles (user_id, role) VALUES ($1, $2)", {Text(uid), Text(r)}));
    }
    ZG_RETURN_IF_ERROR(WritePendingGrants(*tx, uid, plan->pending, grantor));
    ZG_RETURN_IF_ERROR(AuditIn(*tx, actor, "user.write", "user/" + uid, "allow",
                               plan->pending.empty() ? "role granted" : "role grant requested",
                               json{{"role", role},
                                    {"reason", actor.reason},
                                    {"pending", !plan->pending.empty()},
                                    {"grantor", grantor.id},
                                    {"break_glass", grantor.is_operator}}
                                   .dump()));
    ZG_RETURN_IF_ERROR(tx->Commit());
  }
  return GetUser(user);
}

Status Identity::RevokeRole(std::string_view user, std::string_view role, const Grantor& grantor,
                            const Actor& actor) {
  if (!IsKnown(role, policy::kRoles)) {
    return BadField("role", fmt::format("unknown role '{}'", role));
  }
  ZG_RETURN_IF_ERROR(CheckMayAdminister(user, grantor, actor, "user.write"));
  const std::string uid(user);
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(TxMode::kWrite));
  ZG_ASSIGN_OR_RETURN(int64_t n, tx->Exec("DELETE FROM user_roles WHERE user_id = $1 AND role = $2",
                                          {Text(uid), Text(std::string(role))}));
  if (n == 0) {
    return Conflict("role_not_held", fmt::format("{} does not hold the role {}", user, role),
                    "role");
  }
  json details{{"role", role}, {"grantor", grantor.id}, {"break_glass", grantor.is_operator}};
  if (!actor.reason.empty()) details["reason"] = actor.reason;
  ZG_RETURN_IF_ERROR(
      AuditIn(*tx, actor, "user.write", "user/" + uid, "allow", "role removed", details.dump()));
  return tx->Commit();
}

Result<std::vector<RoleGrant>> Identity::ListRoleGrants(bool pending_only) {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(
      auto rows,
      tx->Query(fmt::format("SELECT id, user_id, role, requested_by, requested_at, state, "
                            "approved_by, approved_at FROM role_grants {} ORDER BY requested_at "
                            "DESC, id",
                            pending_only ? "WHERE state = 'pending'" : "")));
  std::vector<RoleGrant> out;
  for (const auto& r : rows.rows) out.push_back(GrantFromRow(r));
  return out;
}

Result<RoleGrant> Identity::ApproveRoleGrant(std::string_view id, const Grantor& approver,
                                             const Actor& actor) {
  const std::string resource = fmt::format("role_grant/{}", id);
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(TxMode::kWrite));
  ZG_ASSIGN_OR_RETURN(auto rows,
                      tx->Query("SELECT id, user_id, role, requested_by, requested_at, state, "
                                "approved_by, approved_at FROM role_grants WHERE id = $1",
                                {Text(std::string(id))}));
  if (rows.empty()) return NotFound("grant_not_found", fmt::format("no role grant '{}'", id));
  RoleGrant g = GrantFromRow(rows.rows[0]);
  if (g.state != "pending") {
    return Conflict("grant_not_pending", fmt::format("grant {} is {}", id, g.state));
  }
  auto deny = [&](const GrantVerdict& v) -> Result<RoleGrant> {
    tx.reset();
    ZG_RETURN_IF_ERROR(Audit(actor, "role.approve", resource, "deny", v.reason,
                             json{{"code", v.code},
                                  {"user", g.user},
                                  {"role", g.role},
                                  {"requested_by", g.requested_by},
                                  {"break_glass", approver.is_operator}}
                                 .dump()));
    return PermissionDenied(v.code, v.reason);
  };
  const GrantVerdict v = DecideApproval(approver, g.requested_by, g.user);
  if (v.denied()) return deny(v);
  // The combination rule binds at approval too: roles may have been granted meanwhile.
  Status st;
  std::vector<std::string> held = RolesOf(*tx, g.user, st);
  ZG_RETURN_IF_ERROR(st);
  held.push_back(g.role);
  for (const auto& [a, b] : ForbiddenRoleCombinations()) {
    if (IsKnownString(a, held) && IsKnownString(b, held)) {
      return deny({GrantVerdict::Kind::kDeny, "forbidden_role_combination",
                   fmt::format("one person may not hold both {} and {}", a, b)});
    }
  }
  g.state = "approved";
  g.approved_by = approver.id;
  g.approved_at = FormatRfc3339(clock_.Now());
  ZG_ASSIGN_OR_RETURN(int64_t n, tx->Exec("UPDATE role_grants SET state = 'approved', "
                                          "approved_by = $2, approved_at = $3 WHERE id = $1 AND "
                                          "state = 'pending'",
                                          {Text(g.id), Text(g.approved_by), Text(g.approved_at)}));
  if (n != 1) return Conflict("grant_not_pending", fmt::format("grant {} is not pending", id));
  ZG_RETURN_IF_ERROR(tx->Exec("INSERT INTO user_roles (user_id, role) VALUES ($1, $2)",
                              {Text(g.user), Text(g.role)}));
  ZG_RETURN_IF_ERROR(AuditIn(*tx, actor, "role.approve", resource, "allow", "role grant approved",
                             json{{"user", g.user},
                                  {"role", g.role},
                                  {"requested_by", g.requested_by},
                                  {"break_glass", approver.is_operator}}
                                 .dump()));
  ZG_RETURN_IF_ERROR(tx->Commit());
  return g;
}

Status Identity::CheckMayAdminister(std::string_view user, const Grantor& grantor,
                                    const Actor& actor, std::string_view action) {
  ZG_ASSIGN_OR_RETURN(User u, GetUser(user));
  std::vector<std::string> roles = u.roles;
  roles.insert(roles.end(), u.pending_roles.begin(), u.pending_roles.end());
  const GrantVerdict v = DecideAdminister(grantor, u.organisation, roles);
  if (!v.denied()) return Status::Ok();
  json details{{"code", v.code}};
  if (!actor.reason.empty()) details["reason"] = actor.reason;
  ZG_RETURN_IF_ERROR(Audit(actor, std::string(action), fmt::format("user/{}", user), "deny",
                           v.reason, details.dump()));
  return PermissionDenied(v.code, v.reason);
}

Result<std::vector<User>> Identity::ListUsers() {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(auto rows, tx->Query(fmt::format("SELECT {} FROM users ORDER BY id",
                                                       kUserColumns)));
  ZG_ASSIGN_OR_RETURN(auto roles,
                      tx->Query("SELECT user_id, role FROM user_roles ORDER BY user_id, role"));
  ZG_ASSIGN_OR_RETURN(auto pending,
                      tx->Query("SELECT user_id, role FROM role_grants WHERE state = 'pending' "
                                "ORDER BY user_id, role"));
  std::map<std::string, std::vector<std::string>> by_user, pending_by_user;
  for (const auto& r : roles.rows) by_user[r.Text(0)].push_back(r.Text(1));
  for (const auto& r : pending.rows) pending_by_user[r.Text(0)].push_back(r.Text(1));
  const int64_t now = clock_.NowUnixMillis();
  std::vector<User> out;
  for (const auto& r : rows.rows) {
    User u = UserFromRow(r, now);
    u.roles = by_user[u.id];
    u.pending_roles = pending_by_user[u.id];
    out.push_back(std::move(u));
  }
  return out;
}

Result<User> Identity::GetUser(std::string_view id) {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(auto rows,
                      tx->Query(fmt::format("SELECT {} FROM users WHERE id = $1", kUserColumns),
                                {Text(std::string(id))}));
  if (rows.empty()) return NotFound("user_not_found", fmt::format("no user '{}'", id));
  User u = UserFromRow(rows.rows[0], clock_.NowUnixMillis());
  Status st;
  u.roles = RolesOf(*tx, u.id, st);
  ZG_RETURN_IF_ERROR(st);
  u.pending_roles = PendingRolesOf(*tx, u.id, st);
  ZG_RETURN_IF_ERROR(st);
  return u;
}

namespace {
// The details of an administrator's action on an account: the reason given, if any.
std::string ReasonDetails(const Actor& actor) {
  return actor.reason.empty() ? "{}" : json{{"reason", actor.reason}}.dump();
}

// Runs one UPDATE on a user in its own transaction, then the `also` statements (each taking
// the user id as $1) and before_commit (the audit record) in the same transaction; NotFound
// when no such user.
Status UpdateUser(storage::Store& store, std::string_view id, const std::string& sql,
                  const std::vector<storage::Value>& extra, const std::vector<std::string>& also,
                  const std::function<Status(storage::Transaction&)>& before_commit) {
  ZG_ASSIGN_OR_RETURN(auto tx, store.Begin(TxMode::kWrite));
  std::vector<storage::Value> params = {Text(std::string(id))};
  params.insert(params.end(), extra.begin(), extra.end());
  ZG_ASSIGN_OR_RETURN(int64_t n, tx->Exec(sql, params));
  if (n == 0) return NotFound("user_not_found", fmt::format("no user '{}'", id));
  for (const std::string& statement : also) {
    ZG_RETURN_IF_ERROR(tx->Exec(statement, {Text(std::string(id))}));
  }
  ZG_RETURN_IF_ERROR(before_commit(*tx));
  return tx->Commit();
}
}  // namespace

Status Identity::DisableUser(std::string_view id, const Actor& actor) {
  return UpdateUser(store_, id, "UPDATE users SET disabled = 1 WHERE id = $1", {},
                    {"DELETE FROM sessions WHERE user_id = $1"}, [&](storage::Transaction& tx) {
                      return AuditIn(tx, actor, "user.write", fmt::format("user/{}", id), "",
                                     "disabled", ReasonDetails(actor));
                    });
}

Status Identity::EnableUser(std::string_view id, const Actor& actor) {
  return UpdateUser(store_, id, "UPDATE users SET disabled = 0 WHERE id = $1", {}, {},
                    [&](storage::Transaction& tx) {
                      return AuditIn(tx, actor, "user.write", fmt::format("user/{}", id), "",
                                     "enabled", ReasonDetails(actor));
                    });
}

Status Identity::ResetMfa(std::string_view id, const Actor& actor) {
  // Sessions that passed the old factor must not outlive it.
  return UpdateUser(
      store_, id,
      "UPDATE users SET totp_secret = NULL, totp_confirmed = 0, totp_last_step = 0 WHERE id = $1",
      {},
      {"DELETE FROM recovery_codes WHERE user_id = $1", "DELETE FROM sessions WHERE user_id = $1"},
      [&](storage::Transaction& tx) {
        return AuditIn(tx, actor, "user.write", fmt::format("user/{}", id), "",
                       "second factor reset", ReasonDetails(actor));
      });
}

Status Identity::Unlock(std::string_view id, const Actor& actor) {
  return UpdateUser(
      store_, id, "UPDATE users SET failed_logins = 0, locked_until_ms = 0 WHERE id = $1", {}, {},
      [&](storage::Transaction& tx) {
        return AuditIn(tx, actor, "user.write", fmt::format("user/{}", id), "", "unlocked",
                       ReasonDetails(actor));
      });
}

// ----------------------------------------------------------------------------------- groups

Result<Group> Identity::CreateGroup(std::string_view id, std::string_view name,
                                    const Actor& actor) {
  if (!ValidSlug(id)) return BadField("id", "a group id is 2-64 characters of a-z, 0-9, . _ -");
  if (name.empty() || name.size() > 200) return BadField("name", "a name of 1-200 bytes");
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(TxMode::kWrite));
  auto n = tx->Exec("INSERT INTO research_groups (id, name, created_at) VALUES ($1, $2, $3)",
                    {Text(std::string(id)), Text(std::string(name)),
                     Text(FormatRfc3339(clock_.Now()))});
  if (!n.ok()) {
    if (n.error().code == "unique_violation") {
      return Conflict("already_exists", fmt::format("group '{}' exists", id), "id");
    }
    return n.error();
  }
  ZG_RETURN_IF_ERROR(
      AuditIn(*tx, actor, "group.write", fmt::format("group/{}", id), "", "created"));
  ZG_RETURN_IF_ERROR(tx->Commit());
  return Group{std::string(id), std::string(name), {}};
}

Status Identity::AddGroupMember(std::string_view group, std::string_view user,
                                const Actor& actor) {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(TxMode::kWrite));
  ZG_ASSIGN_OR_RETURN(auto g, tx->Query("SELECT 1 FROM research_groups WHERE id = $1",
                                        {Text(std::string(group))}));
  if (g.empty()) return NotFound("group_not_found", fmt::format("no group '{}'", group));
  ZG_ASSIGN_OR_RETURN(auto u, tx->Query("SELECT 1 FROM users WHERE id = $1",
                                        {Text(std::string(user))}));
  if (u.empty()) {
    return InvalidArgument("unknown_user", fmt::format("no user '{}'", user), "user");
  }
  auto n = tx->Exec("INSERT INTO research_group_members (group_id, user_id) VALUES ($1, $2)",
                    {Text(std::string(group)), Text(std::string(user))});
  if (!n.ok()) {
    if (n.error().code == "unique_violation") {
      return Conflict("already_member", fmt::format("{} is already in {}", user, group), "user");
    }
    return n.error();
  }
  ZG_RETURN_IF_ERROR(AuditIn(*tx, actor, "group.write", fmt::format("group/{}", group), "",
                             "member added", json{{"user", user}}.dump()));
  return tx->Commit();
}

Status Identity::RemoveGroupMember(std::string_view group, std::string_view user,
                                   const Actor& actor) {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(TxMode::kWrite));
  ZG_ASSIGN_OR_RETURN(auto g, tx->Query("SELECT 1 FROM research_groups WHERE id = $1",
                                        {Text(std::string(group))}));
  if (g.empty()) return NotFound("group_not_found", fmt::format("no group '{}'", group));
  ZG_ASSIGN_OR_RETURN(int64_t n,
                      tx->Exec("DELETE FROM research_group_members WHERE group_id = $1 AND "
                               "user_id = $2",
                               {Text(std::string(group)), Text(std::string(user))}));
  if (n == 0) {
    return Conflict("not_member", fmt::format("{} is not in {}", user, group), "user");
  }
  ZG_RETURN_IF_ERROR(AuditIn(*tx, actor, "group.write", fmt::format("group/{}", group), "",
                             "member removed", json{{"user", user}}.dump()));
  return tx->Commit();
}

Result<std::vector<Group>> Identity::ListGroups() {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(auto groups, tx->Query("SELECT id, name FROM research_groups ORDER BY id"));
  ZG_ASSIGN_OR_RETURN(auto members, tx->Query("SELECT group_id, user_id FROM "
                                              "research_group_members ORDER BY user_id"));
  std::map<std::string, std::vector<std::string>> by_group;
  for (const auto& r : members.rows) by_group[r.Text(0)].push_back(r.Text(1));
  std::vector<Group> out;
  for (const auto& r : groups.rows) out.push_back({r.Text(0), r.Text(1), by_group[r.Text(0)]});
  return out;
}

// --------------------------------------------------------------------------- authentication

Status Identity::RecordSourceFailure(storage::Transaction& tx, std::string_view source,
                                     int64_t now) {
  ZG_ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT failures, window_start_ms FROM login_sources "
                                          "WHERE source = $1",
                                          {Text(std::string(source))}));
  int64_t failures = 1, start = now;
  if (!rows.empty() && now - rows.rows[0].Int(1) < options_.source_window_ms) {
    failures = rows.rows[0].Int(0) + 1;
    start = rows.rows[0].Int(1);
  }
  const int64_t locked_until =
      failures >= options_.source_threshold ? now + options_.lockout_ms : 0;
  ZG_RETURN_IF_ERROR(tx.Exec(
      "INSERT INTO login_sources (source, failures, window_start_ms, locked_until_ms) "
      "VALUES ($1, $2, $3, $4) ON CONFLICT (source) DO UPDATE SET failures = excluded.failures, "
      "window_start_ms = excluded.window_start_ms, locked_until_ms = excluded.locked_until_ms",
      {Text(std::string(source)), Int(failures), Int(start), Int(locked_until)}));
  return Status::Ok();
}

Result<LoginResult> Identity::Login(std::string_view username, std::string_view password,
                                    std::string_view totp_code, const Actor& from) {
  const int64_t now = clock_.NowUnixMillis();
  const std::string resource = fmt::format("user/{}", username);
  Actor actor = from;
  actor.id = "anonymous";
  auto deny = [&](Error e, std::string reason) -> Result<LoginResult> {
    ZG_RETURN_IF_ERROR(Audit(actor, "auth.login", resource, "deny", std::move(reason)));
    return e;
  };
  const Error invalid =
      Unauthenticated("invalid_credentials", "the user name or password is not valid");

  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(TxMode::kWrite));
  ZG_ASSIGN_OR_RETURN(auto src, tx->Query("SELECT locked_until_ms FROM login_sources "
                                          "WHERE source = $1",
                                          {Text(from.source)}));
  if (!src.empty() && src.rows[0].Int(0) > now) {
    tx.reset();
    return deny(Error{ErrorKind::kTooManyRequests, "source_locked",
                      "too many failed logins from this address; try again later", ""},
                "source address locked out");
  }
  ZG_ASSIGN_OR_RETURN(
      auto rows,
      tx->Query("SELECT password_hash, disabled, totp_secret, totp_confirmed, totp_last_step, "
                "failed_logins, locked_until_ms FROM users WHERE id = $1",
                {Text(std::string(username))}));
  if (rows.empty() || rows.rows[0].Int(1) != 0) {
    (void)crypto::VerifyPassword(dummy_hash_, password);
    ZG_RETURN_IF_ERROR(RecordSourceFailure(*tx, from.source, now));
    ZG_RETURN_IF_ERROR(tx->Commit());
    return deny(invalid, rows.empty() ? "unknown user" : "user disabled");
  }
  const auto& row = rows.rows[0];
  if (row.Int(6) > now) {
    tx.reset();
    return deny(Error{ErrorKind::kTooManyRequests, "account_locked",
                      "this account is locked after repeated failed logins; try again later "
                      "or ask an administrator to unlock it",
                      ""},
                "account locked out");
  }
  const bool enrolled = row.Int(3) != 0;
  bool password_ok = crypto::VerifyPassword(row.Text(0), password);
  std::optional<int64_t> step;
  if (password_ok && enrolled && !totp_code.empty()) {
    auto secret = crypto::FromHex(row.Text(2));
    if (secret.ok()) step = crypto::VerifyTotp(*secret, totp_code, now / 1000, row.Int(4));
    if (!step) password_ok = false;  // a wrong second factor fails the whole attempt
  }
  if (!password_ok) {
    const int64_t failures = row.Int(5) + 1;
    const bool lock = failures >= options_.lockout_threshold;
    ZG_RETURN_IF_ERROR(tx->Exec(
        "UPDATE users SET failed_logins = $2, locked_until_ms = $3 WHERE id = $1",
        {Text(std::string(username)), Int(lock ? 0 : failures),
         Int(lock ? now + options_.lockout_ms : 0)}));
    ZG_RETURN_IF_ERROR(RecordSourceFailure(*tx, from.source, now));
    if (lock) {
      // why: the lock exists only with its record.
      ZG_RETURN_IF_ERROR(AuditIn(*tx, actor, "auth.lockout", resource, "deny",
                                 fmt::format("{} failed logins in a row", failures)));
    }
    ZG_RETURN_IF_ERROR(tx->Commit());
    return deny(invalid, "wrong password or second factor");
  }
  LoginResult result;
  result.session_token = crypto::NewToken("zgs");
  result.csrf_token = crypto::ToHex(crypto::RandomBytes(24));
  result.mfa_enrolled = enrolled;
  result.mfa_passed = step.has_value();
  ZG_RETURN_IF_ERROR(tx->Exec(
      "UPDATE users SET failed_logins = 0, totp_last_step = $2 WHERE id = $1",
      {Text(std::string(username)), Int(step ? *step : row.Int(4))}));
  ZG_RETURN_IF_ERROR(tx->Exec(
      "INSERT INTO sessions (id_hash, user_id, csrf_token, mfa, source, created_ms, "
      "last_seen_ms) VALUES ($1, $2, $3, $4, $5, $6, $6)",
      {Text(crypto::TokenHash(result.session_token)), Text(std::string(username)),
       Text(result.csrf_token), Int(result.mfa_passed ? 1 : 0), Text(from.source), Int(now)}));
  actor.id = std::string(username);
  // why: the session exists only with its auth.login record.
  ZG_RETURN_IF_ERROR(AuditIn(*tx, actor, "auth.login", resource, "allow",
                             result.mfa_passed ? "password and TOTP"
                             : enrolled        ? "password; second factor pending"
                                               : "password; second factor not enrolled yet"));
  ZG_RETURN_IF_ERROR(tx->Commit());
  ZG_ASSIGN_OR_RETURN(result.user, GetUser(username));
  return result;
}

Result<Session> Identity::AuthenticateSession(std::string_view session_token) {
  const int64_t now = clock_.NowUnixMillis();
  const std::string hash = crypto::TokenHash(session_token);
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(
      auto rows,
      tx->Query("SELECT s.user_id, s.csrf_token, s.mfa, s.created_ms, s.last_seen_ms, "
                "u.organisation_id, u.disabled, u.totp_confirmed FROM sessions s "
                "JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1",
                {Text(hash)}));
  if (rows.empty() || rows.rows[0].Int(6) != 0) {
    return Unauthenticated("session_invalid", "the session is not valid; log in again");
  }
  const auto& r = rows.rows[0];
  const bool expired = now - r.Int(4) > options_.session_idle_ms ||
                       now - r.Int(3) > options_.session_absolute_ms;
  Session s;
  s.id_hash = hash;
  s.csrf_token = r.Text(1);
  s.mfa_enrolled = r.Int(7) != 0;
  s.subject.authenticated = true;
  s.subject.id = r.Text(0);
  s.subject.organisation = r.Text(5);
  s.subject.mfa = r.Int(2) != 0;
  Status st;
  s.subject.roles = RolesOf(*tx, s.subject.id, st);
  ZG_RETURN_IF_ERROR(st);
  tx.reset();
  if (expired) {
    ZG_ASSIGN_OR_RETURN(auto wtx, store_.Begin(TxMode::kWrite));
    ZG_RETURN_IF_ERROR(wtx->Exec("DELETE FROM sessions WHERE id_hash = $1", {Text(hash)}));
    ZG_RETURN_IF_ERROR(wtx->Commit());
    return Unauthenticated("session_expired", "the session has expired; log in again");
  }
  // Refreshing last_seen on every request would turn every read into a write; a minute's
  // resolution is plenty against a 30-minute idle timeout.
  if (now - r.Int(4) > 60 * 1000) {
    ZG_ASSIGN_OR_RETURN(auto wtx, store_.Begin(TxMode::kWrite));
    ZG_RETURN_IF_ERROR(wtx->Exec("UPDATE sessions SET last_seen_ms = $2 WHERE id_hash = $1",
                                 {Text(hash), Int(now)}));
    ZG_RETURN_IF_ERROR(wtx->Commit());
  }
  return s;
}

Status Identity::Logout(const Session& session, const Actor& actor) {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(TxMode::kWrite));
  ZG_RETURN_IF_ERROR(tx->Exec("DELETE FROM sessions WHERE id_hash = $1", {Text(session.id_hash)}));
  ZG_RETURN_IF_ERROR(
      AuditIn(*tx, actor, "auth.logout", "user/" + session.subject.id, "", "session ended"));
  return tx->Commit();
}

Result<EnrolmentCode> Identity::IssueEnrolmentCode(std::string_view user, const Grantor& grantor,
                                                   const Actor& actor) {
  ZG_RETURN_IF_ERROR(CheckMayAdminister(user, grantor, actor, "mfa.enrolment_code"));
  const std::string uid(user);
  EnrolmentCode out;
  out.code = crypto::NewRecoveryCodes(1).front();
  out.expires_ms = clock_.NowUnixMillis() + options_.enrolment_code_ms;
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(TxMode::kWrite));
  ZG_ASSIGN_OR_RETURN(auto rows,
                      tx->Query("SELECT totp_confirmed FROM users WHERE id = $1", {Text(uid)}));
  if (rows.empty()) return NotFound("user_not_found", fmt::format("no user '{}'", user));
  if (rows.rows[0].Int(0) != 0) {
    return Conflict("mfa_already_enrolled",
                    "this user has a second factor; reset it first to enrol a new one");
  }
  // One code per user: a new one replaces any earlier, unused code.
  ZG_RETURN_IF_ERROR(tx->Exec("DELETE FROM enrolment_codes WHERE user_id = $1", {Text(uid)}));
  ZG_RETURN_IF_ERROR(
      tx->Exec("INSERT INTO enrolment_codes (user_id, code_hash, issued_by, issued_at, expires_ms) "
               "VALUES ($1, $2, $3, $4, $5)",
               {Text(uid), Text(crypto::TokenHash(crypto::NormaliseRecoveryCode(out.code))),
                Text(grantor.id), Text(FormatRfc3339(clock_.Now())), Int(out.expires_ms)}));
  ZG_RETURN_IF_ERROR(
      AuditIn(*tx, actor, "mfa.enrolment_code", "user/" + uid, "allow", "enrolment code issued",
              json{{"expires_ms", out.expires_ms}, {"break_glass", grantor.is_operator}}.dump()));
  ZG_RETURN_IF_ERROR(tx->Commit());
  return out;
}

Result<TotpEnrolment> Identity::BeginTotpEnrolment(const Session& session,
                                                   std::string_view enrolment_code,
                                                   const Actor& actor) {
  const std::string& user = session.subject.id;
  const int64_t now = clock_.NowUnixMillis();
  const std::string secret = crypto::NewTotpSecret();
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(TxMode::kWrite));
  ZG_ASSIGN_OR_RETURN(auto enrolled,
                      tx->Query("SELECT totp_confirmed FROM users WHERE id = $1", {Text(user)}));
  if (enrolled.empty() || enrolled.rows[0].Int(0) != 0) {
    return Conflict("mfa_already_enrolled",
                    "a second factor is already enrolled; an administrator can reset it");
  }
  ZG_ASSIGN_OR_RETURN(auto code, tx->Query("SELECT code_hash, expires_ms FROM enrolment_codes "
                                           "WHERE user_id = $1",
                                           {Text(user)}));
  const std::string offered = crypto::TokenHash(crypto::NormaliseRecoveryCode(enrolment_code));
  std::string refusal;
  if (code.empty() || !crypto::ConstantTimeEquals(offered, code.rows[0].Text(0))) {
    refusal = code.empty() ? "no unused enrolment code was issued" : "wrong enrolment code";
  } else if (code.rows[0].Int(1) <= now) {
    refusal = "enrolment code expired";
  }
  if (!refusal.empty()) {
    tx.reset();
    ZG_RETURN_IF_ERROR(Audit(actor, "mfa.enrol", "user/" + user, "deny", refusal));
    if (refusal == "enrolment code expired") {
      return PermissionDenied("enrolment_code_expired",
                              "the enrolment code has expired; ask your administrator for a "
                              "new one");
    }
    return PermissionDenied("enrolment_code_invalid",
                            "the enrolment code is not valid or was already used; ask your "
                            "administrator for a new one");
  }
  // Spent here: a second enrolment needs a new code from an administrator.
  ZG_ASSIGN_OR_RETURN(int64_t spent, tx->Exec("DELETE FROM enrolment_codes WHERE user_id = $1 "
                                              "AND code_hash = $2",
                                              {Text(user), Text(offered)}));
  if (spent != 1) {
    return PermissionDenied("enrolment_code_invalid", "the enrolment code was already used");
  }
  ZG_ASSIGN_OR_RETURN(int64_t n,
                      tx->Exec("UPDATE users SET totp_secret = $2, totp_last_step = 0 "
                               "WHERE id = $1 AND totp_confirmed = 0",
                               {Text(user), Text(crypto::ToHex(secret))}));
  if (n == 0) {
    return Conflict("mfa_already_enrolled",
                    "a second factor is already enrolled; an administrator can reset it");
  }
  ZG_RETURN_IF_ERROR(AuditIn(*tx, actor, "mfa.enrol", "user/" + user, "allow",
                             "TOTP enrolment started with an enrolment code"));
  ZG_RETURN_IF_ERROR(tx->Commit());
  return TotpEnrolment{crypto::Base32Encode(secret),
                       crypto::OtpauthUri(options_.totp_issuer, user, secret)};
}

Status Identity::RecordBreakGlass(const Actor& actor, std::string_view method,
                                  std::string_view path) {
  return Audit(actor, "operator.break_glass", fmt::format("route/{} {}", method, path), "allow",
               "break_glass: the operator token was used",
               json{{"break_glass", true}, {"method", method}, {"path", path}}.dump());
}

Result<std::vector<std::string>> Identity::ConfirmTotp(const Session& session,
                                                       std::string_view code,
                                                       const Actor& actor) {
  const std::string& user = session.subject.id;
  const int64_t now = clock_.NowUnixMillis();
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(TxMode::kWrite));
  ZG_ASSIGN_OR_RETURN(auto rows, tx->Query("SELECT totp_secret, totp_confirmed, totp_last_step "
                                           "FROM users WHERE id = $1",
                                           {Text(user)}));
  if (rows.empty() || rows.rows[0].IsNull(0)) {
    return Conflict("mfa_not_started", "start enrolment first");
  }
  if (rows.rows[0].Int(1) != 0) {
    return Conflict("mfa_already_enrolled", "a second factor is already enrolled");
  }
  ZG_ASSIGN_OR_RETURN(std::string secret, crypto::FromHex(rows.rows[0].Text(0)));
  const auto step = crypto::VerifyTotp(secret, code, now / 1000, rows.rows[0].Int(2));
  if (!step) {
    tx.reset();
    ZG_RETURN_IF_ERROR(Audit(actor, "mfa.enrol", "user/" + user, "deny", "wrong first code"));
    return InvalidArgument("invalid_code", "the code does not match; check the device's clock",
                           "code");
  }
  const auto codes = crypto::NewRecoveryCodes(10);
  ZG_RETURN_IF_ERROR(tx->Exec(
      "UPDATE users SET totp_confirmed = 1, totp_last_step = $2 WHERE id = $1",
      {Text(user), Int(*step)}));
  ZG_RETURN_IF_ERROR(tx->Exec("DELETE FROM recovery_codes WHERE user_id = $1", {Text(user)}));
  for (const auto& c : codes) {
    ZG_RETURN_IF_ERROR(
        tx->Exec("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)",
                 {Text(user), Text(crypto::TokenHash(crypto::NormaliseRecoveryCode(c)))}));
  }
  ZG_RETURN_IF_ERROR(
      tx->Exec("UPDATE sessions SET mfa = 1 WHERE id_hash = $1", {Text(session.id_hash)}));
  ZG_RETURN_IF_ERROR(AuditIn(*tx, actor, "mfa.enrol", "user/" + user, "allow", "TOTP confirmed"));
  ZG_RETURN_IF_ERROR(tx->Commit());
  return codes;
}

Status Identity::VerifySecondFactor(const Session& session, std::string_view code,
                                    std::string_view recovery_code, const Actor& actor) {
  const std::string& user = session.subject.id;
  const int64_t now = clock_.NowUnixMillis();
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(TxMode::kWrite));
  ZG_ASSIGN_OR_RETURN(auto rows, tx->Query("SELECT totp_secret, totp_confirmed, totp_last_step, "
                                           "failed_logins FROM users WHERE id = $1",
                                           {Text(user)}));
  if (rows.empty() || rows.rows[0].Int(1) == 0) {
    return Conflict("mfa_not_enrolled", "no second factor is enrolled; enrol first");
  }
  bool ok = false;
  std::string how;
  if (!recovery_code.empty()) {
    const std::string h = crypto::TokenHash(crypto::NormaliseRecoveryCode(recovery_code));
    ZG_ASSIGN_OR_RETURN(int64_t n, tx->Exec("UPDATE recovery_codes SET used_at = $3 WHERE "
                                            "user_id = $1 AND code_hash = $2 AND used_at IS NULL",
                                            {Text(user), Text(h),
                                             Text(FormatRfc3339(clock_.Now()))}));
    ok = n == 1;
    how = "recovery code";
  } else {
    ZG_ASSIGN_OR_RETURN(std::string secret, crypto::FromHex(rows.rows[0].Text(0)));
    const auto step = crypto::VerifyTotp(secret, code, now / 1000, rows.rows[0].Int(2));
    if (step) {
      ZG_RETURN_IF_ERROR(tx->Exec("UPDATE users SET totp_last_step = $2 WHERE id = $1",
                                  {Text(user), Int(*step)}));
      ok = true;
    }
    how = "TOTP";
  }
  if (!ok) {
    // Wrong second factors count towards lockout like wrong passwords.
    const int64_t failures = rows.rows[0].Int(3) + 1;
    const bool lock = failures >= options_.lockout_threshold;
    ZG_RETURN_IF_ERROR(tx->Exec(
        "UPDATE users SET failed_logins = $2, locked_until_ms = $3 WHERE id = $1",
        {Text(user), Int(lock ? 0 : failures), Int(lock ? now + options_.lockout_ms : 0)}));
    if (lock) {
      ZG_RETURN_IF_ERROR(tx->Exec("DELETE FROM sessions WHERE user_id = $1", {Text(user)}));
    }
    ZG_RETURN_IF_ERROR(AuditIn(*tx, actor, "mfa.verify", "user/" + user, "deny",
                               fmt::format("wrong or reused {}", how)));
    if (lock) {
      ZG_RETURN_IF_ERROR(AuditIn(*tx, actor, "auth.lockout", "user/" + user, "deny",
                                 fmt::format("{} failed attempts in a row", failures)));
    }
    ZG_RETURN_IF_ERROR(tx->Commit());
    return Unauthenticated("invalid_code",
                           fmt::format("the {} is not valid or was already used", how));
  }
  ZG_RETURN_IF_ERROR(tx->Exec("UPDATE users SET failed_logins = 0 WHERE id = $1", {Text(user)}));
  ZG_RETURN_IF_ERROR(
      tx->Exec("UPDATE sessions SET mfa = 1 WHERE id_hash = $1", {Text(session.id_hash)}));
  ZG_RETURN_IF_ERROR(AuditIn(*tx, actor, "mfa.verify", "user/" + user, "allow", how));
  return tx->Commit();
}

// ------------------------------------------------------------------------------ API tokens

Result<std::pair<std::string, ApiToken>> Identity::CreateApiToken(const NewApiToken& in,
                                                                  const Grantor& grantor,
                                                                  const Actor& actor) {
  if (in.name.empty() || in.name.size() > 200) return BadField("name", "a name of 1-200 bytes");
  if (in.days < 1 || in.days > 366) return BadField("days", "days must be 1-366");
  if (!IsKnown(in.role, policy::kRoles)) {
    return BadField("role", fmt::format("unknown role '{}'", in.role));
  }
  if (in.actions.empty()) return BadField("actions", "at least one action is required");
  const auto known = policy::KnownActions();
  policy::Subject probe{.authenticated = true, .id = "probe", .organisation = in.organisation,
                        .roles = {in.role}, .mfa = true};
  for (const auto& a : in.actions) {
    if (std::find(known.begin(), known.end(), a) == known.end()) {
      return BadField("actions", fmt::format("unknown action '{}'", a));
    }
    // A token can never do more than its role could.
    if (!policy::Decide(probe, a, {"", "", in.organisation}, {}).allowed()) {
      return InvalidArgument("action_not_allowed",
                             fmt::format("role {} may not perform '{}'", in.role, a), "actions");
    }
  }
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(TxMode::kWrite));
  ZG_ASSIGN_OR_RETURN(auto org, tx->Query("SELECT kind FROM organisations WHERE id = $1",
                                          {Text(in.organisation)}));
  if (org.empty()) {
    return InvalidArgument("unknown_organisation",
                           fmt::format("no organisation '{}'", in.organisation), "organisation");
  }
  auto plan = PlanGrants(grantor, in.organisation, org.rows[0].Text(0), {}, {in.role});
  if (plan.ok() && !plan->pending.empty()) {
    plan = PermissionDenied("grant_requires_approval",
                            fmt::format("the role {} needs a second person's approval and is "
                                        "never given to a machine token",
                                        in.role));
  }
  if (!plan.ok()) {
    tx.reset();
    Error e = plan.error();
    if (e.field == "roles") e.field = "role";
    return RefuseGrant(std::move(e), grantor, actor, "token.write",
                       "organisation/" + in.organisation);
  }
  ApiToken t;
  t.id = "tok_" + crypto::ToHex(crypto::RandomBytes(8));
  t.name = in.name;
  t.organisation = in.organisation;
  t.role = in.role;
  t.actions = in.actions;
  t.created_by = actor.id;
  t.created_at = FormatRfc3339(clock_.Now());
  t.expires_ms = clock_.NowUnixMillis() + int64_t{in.days} * 86400 * 1000;
  const std::string token = crypto::NewToken("zgt");
  ZG_RETURN_IF_ERROR(tx->Exec(
      "INSERT INTO api_tokens (id, token_hash, name, organisation_id, role, actions, "
      "created_by, created_at, expires_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
      {Text(t.id), Text(crypto::TokenHash(token)), Text(t.name), Text(t.organisation),
       Text(t.role), Text(json(t.actions).dump()), Text(t.created_by), Text(t.created_at),
       Int(t.expires_ms)}));
  ZG_RETURN_IF_ERROR(AuditIn(*tx, actor, "token.write", "token/" + t.id, "allow", "created",
                             json{{"organisation", t.organisation},
                                  {"role", t.role},
                                  {"actions", t.actions},
                                  {"expires_ms", t.expires_ms},
                                  {"grantor", grantor.id},
                                  {"break_glass", grantor.is_operator}}
                                 .dump()));
  ZG_RETURN_IF_ERROR(tx->Commit());
  return std::pair{token, t};
}

Result<std::pair<std::string, ApiToken>> Identity::CreatePersonalToken(
    const policy::Subject& owner, const std::string& name, const std::vector<std::string>& actions,
    int days, const Actor& actor) {
  if (!owner.authenticated || owner.scoped || !owner.mfa || owner.roles.empty()) {
    return PermissionDenied("person_required",
                            "personal tokens are made by a person signed in with a second factor");
  }
  if (name.empty() || name.size() > 200) return BadField("name", "a name of 1-200 bytes");
  if (days < 1 || days > kMaxPersonalTokenDays) {
    return BadField("days", fmt::format("days must be 1-{}", kMaxPersonalTokenDays));
  }
  if (actions.empty()) return BadField("actions", "at least one action is required");
  const auto known = policy::KnownActions();
  policy::Subject probe = owner;
  for (const auto& a : actions) {
    if (std::find(known.begin(), known.end(), a) == known.end()) {
      return BadField("actions", fmt::format("unknown action '{}'", a));
    }
    if (!policy::Decide(probe, a, {"", "", owner.organisation}, {}).allowed()) {
      return InvalidArgument("action_not_allowed",
                             fmt::format("your roles may not perform '{}'", a), "actions");
    }
  }
  ApiToken t;
  t.id = "tok_" + crypto::ToHex(crypto::RandomBytes(8));
  t.name = name;
  t.organisation = owner.organisation;
  t.role = owner.roles.front();
  t.actions = actions;
  t.created_by = actor.id;
  t.created_at = FormatRfc3339(clock_.Now());
  t.expires_ms = clock_.NowUnixMillis() + int64_t{days} * 86400 * 1000;
  t.user = owner.id;
  const std::string token = crypto::NewToken("zgt");
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(TxMode::kWrite));
  ZG_RETURN_IF_ERROR(tx->Exec(
      "INSERT INTO api_tokens (id, token_hash, name, organisation_id, role, actions, "
      "created_by, created_at, expires_ms, user_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, "
      "$10)",
      {Text(t.id), Text(crypto::TokenHash(token)), Text(t.name), Text(t.organisation),
       Text(t.role), Text(json(t.actions).dump()), Text(t.created_by), Text(t.created_at),
       Int(t.expires_ms), Text(t.user)}));
  ZG_RETURN_IF_ERROR(
      AuditIn(*tx, actor, "token.personal", "token/" + t.id, "", "created",
              json{{"user", t.user}, {"actions", t.actions}, {"expires_ms", t.expires_ms}}.dump()));
  ZG_RETURN_IF_ERROR(tx->Commit());
  return std::pair{token, t};
}

Result<std::vector<ApiToken>> Identity::ListPersonalTokens(std::string_view user) {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(auto rows,
                      tx->Query("SELECT id, name, organisation_id, role, actions, created_by, "
                                "created_at, expires_ms, revoked, user_id FROM api_tokens WHERE "
                                "user_id = $1 ORDER BY created_at DESC, id",
                                {Text(std::string(user))}));
  std::vector<ApiToken> out;
  for (const auto& r : rows.rows) out.push_back(TokenFromRow(r));
  return out;
}

Status Identity::RevokePersonalToken(std::string_view user, std::string_view id,
                                     const Actor& actor) {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(TxMode::kWrite));
  ZG_ASSIGN_OR_RETURN(int64_t n, tx->Exec("UPDATE api_tokens SET revoked = 1 WHERE id = $1 AND "
                                          "user_id = $2",
                                          {Text(std::string(id)), Text(std::string(user))}));
  if (n == 0) return NotFound("token_not_found", fmt::format("you have no token '{}'", id));
  ZG_RETURN_IF_ERROR(
      AuditIn(*tx, actor, "token.personal", fmt::format("token/{}", id), "", "revoked"));
  return tx->Commit();
}

Result<std::vector<ApiToken>> Identity::ListApiTokens() {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(auto rows,
                      tx->Query("SELECT id, name, organisation_id, role, actions, created_by, "
                                "created_at, expires_ms, revoked FROM api_tokens ORDER BY id"));
  std::vector<ApiToken> out;
  for (const auto& r : rows.rows) out.push_back(TokenFromRow(r));
  return out;
}

Status Identity::RevokeApiToken(std::string_view id, const Actor& actor) {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(TxMode::kWrite));
  ZG_ASSIGN_OR_RETURN(int64_t n, tx->Exec("UPDATE api_tokens SET revoked = 1 WHERE id = $1",
                                          {Text(std::string(id))}));
  if (n == 0) return NotFound("token_not_found", fmt::format("no token '{}'", id));
  ZG_RETURN_IF_ERROR(
      AuditIn(*tx, actor, "token.write", fmt::format("token/{}", id), "", "revoked"));
  return tx->Commit();
}

Result<policy::Subject> Identity::AuthenticateApiToken(std::string_view token) {
  ZG_ASSIGN_OR_RETURN(auto tx, store_.Begin(TxMode::kRead));
  ZG_ASSIGN_OR_RETURN(auto rows,
                      tx->Query("SELECT id, name, organisation_id, role, actions, created_by, "
                                "created_at, expires_ms, revoked, user_id FROM api_tokens "
                                "WHERE token_hash = $1",
                                {Text(crypto::TokenHash(token))}));
  if (rows.empty() || rows.rows[0].Int(8) != 0) {
    return Unauthenticated("invalid_credentials", "the API token is not valid");
  }
  const ApiToken t = TokenFromRow(rows.rows[0]);
  if (t.expires_ms <= clock_.NowUnixMillis()) {
    return Unauthenticated("token_expired", "the API token has expired");
  }
  if (!t.user.empty()) {
    // A personal token is its person, as they are now.
    ZG_ASSIGN_OR_RETURN(auto u, tx->Query("SELECT organisation_id, disabled FROM users WHERE id = $1",
                                          {Text(t.user)}));
    if (u.empty() || u.rows[0].Int(1) != 0) {
      return Unauthenticated("invalid_credentials", "the token's owner is disabled");
    }
    ZG_ASSIGN_OR_RETURN(auto roles, tx->Query("SELECT role FROM user_roles WHERE user_id = $1 "
                                              "ORDER BY role",
                                              {Text(t.user)}));
    policy::Subject s{.authenticated = true,
                      .id = t.user,
                      .organisation = u.rows[0].Text(0),
                      .mfa = true,
                      .scoped = true,
                      .scope = t.actions};
    for (const auto& r : roles.rows) s.roles.push_back(r.Text(0));
    return s;
  }
  return policy::Subject{.authenticated = true,
                         .id = t.id,
                         .organisation = t.organisation,
                         .roles = {t.role},
                         .mfa = true,
                         .scoped = true,
                         .scope = t.actions};
}

}  // namespace zengen::identity
