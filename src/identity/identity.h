// Identity: organisations, users and their roles, research groups, browser sessions with a
// TOTP second factor, machine API tokens, and lockout (R1.3 least privilege, R3.5 strong
// authentication and access monitoring).
//
// Every state change and every authentication event is reported to the AuditSink. Secrets are
// never stored: passwords as Argon2id, session cookies, API tokens and recovery codes as
// SHA-256 (they carry 256 bits of entropy, so a slow hash would add nothing).
//
// Thread-safe: all state lives in the metadata store; each call is its own transaction.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/audit_event.h"
#include "common/clock.h"
#include "common/result.h"
#include "crypto/password.h"
#include "identity/grant_rules.h"
#include "policy/policy.h"
#include "storage/store.h"

namespace zengen::identity {

inline constexpr std::string_view kOrganisationKinds[] = {
    "hospital", "sequencing_facility", "analysis_center", "data_center", "academic", "industry"};

// Which roles an organisation of each kind may give its members (architecture.md §1).
bool RoleAllowedForKind(std::string_view role, std::string_view kind);

struct Organisation {
  std::string id;            // slug: [a-z0-9][a-z0-9._-]{1,63}
  std::string name;
  std::string kind;          // one of kOrganisationKinds
  std::string jurisdiction;  // ISO 3166-1 alpha-2, upper case
  std::string created_at;
};

struct User {
  std::string id;  // login name, slug like organisation ids
  std::string organisation;
  std::string display_name;
  std::string email;
  std::vector<std::string> roles;
  std::vector<std::string> pending_roles;  // granted, awaiting a second person's approval
  bool disabled = false;
  bool mfa_enrolled = false;
  bool locked = false;
  std::string created_at;
};

struct NewUser {
  std::string id;
  std::string organisation;
  std::string display_name;
  std::string email;
  std::vector<std::string> roles;
  std::string password;
};

// A role given to a user that needs a second person's approval (grant_rules.h).
struct RoleGrant {
  std::string id;  // "rg_" + 16 hex digits
  std::string user;
  std::string role;
  std::string requested_by;
  std::string requested_at;
  std::string state;  // "pending" | "approved"
  std::string approved_by;
  std::string approved_at;
};

// A one-time MFA enrolment code (finding 8), shown once to the administrator who issued it,
// who passes it to its person out of band.
struct EnrolmentCode {
  std::string code;  // "xxxx-xxxx-xxxx" (about 59 bits), stored only as its SHA-256
  int64_t expires_ms = 0;
};

struct Group {
  std::string id;
  std::string name;
  std::vector<std::string> members;
};

struct ApiToken {
  std::string id;
  std::string name;
  std::string organisation;
  std::string role;
  std::vector<std::string> actions;
  std::string created_by;
  std::string created_at;
  int64_t expires_ms = 0;
  bool revoked = false;
  std::string user;  // personal tokens: the person it acts as; "" for organisation tokens
};

struct NewApiToken {
  std::string name;
  std::string organisation;
  std::string role;                  // must suit the organisation's kind
  std::vector<std::string> actions;  // policy actions; each must be known and allowed to role
  int days = 90;                     // 1..366
};

// Who asks for a change, for the audit record.
struct Actor {
  std::string id;          // user or token id, "operator" or "cli"
  std::string source;      // IP address or "cli"
  std::string request_id;  // empty outside requests
  // Why, for an administrator's action on an account (disable, enable, reset MFA, unlock, grant
  // a role): stored as "reason" in the action's audit record when not empty. The HTTP routes
  // and the `zengen user` commands require one (AdminReason / AdminReasonText in
  // identity_routes.h); other callers (start-up, the demo) may leave it empty.
  std::string reason;
};

struct Options {
  int64_t session_idle_ms = 30 * 60 * 1000;          // a session unused this long ends
  int64_t session_absolute_ms = 12 * 60 * 60 * 1000;  // and every session ends after this
  int lockout_threshold = 5;                          // failed logins in a row lock an account
  int64_t lockout_ms = 15 * 60 * 1000;                // for this long (or until an admin unlocks)
  int source_threshold = 20;                          // failed logins from one address
  int64_t source_window_ms = 15 * 60 * 1000;          // within this window lock that address
  int64_t enrolment_code_ms = 72 * 60 * 60 * 1000;    // an MFA enrolment code expires after this
  crypto::PasswordCost password_cost;
  std::string totp_issuer = "Zengen";
};

struct LoginResult {
  std::string session_token;  // the cookie value; shown to the client only
  std::string csrf_token;     // must accompany state-changing requests of this session
  bool mfa_passed = false;    // the session may use the user's roles
  bool mfa_enrolled = false;  // false: the user must enrol a second factor first
  User user;
};

struct Session {
  policy::Subject subject;
  std::string id_hash;
  std::string csrf_token;
  bool mfa_enrolled = false;
};

struct TotpEnrolment {
  std::string secret_base32;  // for manual entry
  std::string otpauth_uri;    // for the QR code
};

class Identity {
 public:
  Identity(storage::Store& store, const Clock& clock, AuditSink& audit, Options options = {});

  // --- Administration (each call checks its input and reports every field problem first).
  // Errors: kInvalidArgument naming the field; kConflict "already_exists".
  Result<Organisation> CreateOrganisation(const Organisation& org, const Actor& actor);
  Result<std::vector<Organisation>> ListOrganisations();
  // The grantor's right to give each role is decided by the rule table (grant_rules.h): roles
  // that need a second person become pending grants (User::pending_roles).
  // Errors as above, plus "unknown_organisation", "role_not_allowed", "reserved_id", password
  // policy errors; kPermissionDenied "grant_not_allowed" / "forbidden_role_combination"
  // (audited as a denial; nothing is written).
  Result<User> CreateUser(const NewUser& user, const Grantor& grantor, const Actor& actor);
  // Gives an existing user one more role, by the same rules. Errors as CreateUser, plus
  // kNotFound "user_not_found", kConflict "role_held" when held or pending already.
  Result<User> GrantRole(std::string_view user, std::string_view role, const Grantor& grantor,
                         const Actor& actor);
  // Takes a held role away from a user (issue 14). Allowed to those who may administer the
  // account (CheckMayAdminister: the operator, the console, or who could grant all its roles
  // directly); the change and its actor.reason are one audit record. Errors: kInvalidArgument
  // "role" unknown; kNotFound "user_not_found"; kConflict "role_not_held" (a pending grant is
  // not held); kPermissionDenied "grant_not_allowed" (audited).
  Status RevokeRole(std::string_view user, std::string_view role, const Grantor& grantor,
                    const Actor& actor);
  // Grants waiting for approval (or all, newest first).
  Result<std::vector<RoleGrant>> ListRoleGrants(bool pending_only);
  // Approves a pending grant (grant_rules.h DecideApproval); the role is held from now on.
  // Errors: kNotFound "grant_not_found"; kConflict "grant_not_pending";
  // kPermissionDenied "approval_needs_second_person" / "approver_not_allowed" /
  // "forbidden_role_combination" (audited).
  Result<RoleGrant> ApproveRoleGrant(std::string_view id, const Grantor& approver,
                                     const Actor& actor);
  // Refuses (kPermissionDenied "grant_not_allowed", audited) unless grantor may administer the
  // user's account (grant_rules.h DecideAdminister). kNotFound "user_not_found".
  Status CheckMayAdminister(std::string_view user, const Grantor& grantor, const Actor& actor,
                            std::string_view action);
  // Issues a one-time MFA enrolment code for a user who has not enrolled a second factor;
  // replaces any earlier code of that user. Errors: kNotFound "user_not_found", kConflict
  // "mfa_already_enrolled", and CheckMayAdminister's.
  Result<EnrolmentCode> IssueEnrolmentCode(std::string_view user, const Grantor& grantor,
                                           const Actor& actor);
  Result<std::vector<User>> ListUsers();
  Result<User> GetUser(std::string_view id);
  // Disabling ends the user's sessions at once.
  Status DisableUser(std::string_view id, const Actor& actor);
  // Lets a disabled user log in again (password and second factor unchanged); audited.
  Status EnableUser(std::string_view id, const Actor& actor);
  // Removes the second factor and recovery codes; the user must enrol again.
  Status ResetMfa(std::string_view id, const Actor& actor);
  // Clears a lockout and the failure count.
  Status Unlock(std::string_view id, const Actor& actor);
  Result<Group> CreateGroup(std::string_view id, std::string_view name, const Actor& actor);
  Status AddGroupMember(std::string_view group, std::string_view user, const Actor& actor);
  // Takes a member out of a group (one audit record). Errors: kNotFound "group_not_found";
  // kConflict "not_member" naming "user" when the user is not in the group.
  Status RemoveGroupMember(std::string_view group, std::string_view user, const Actor& actor);
  Result<std::vector<Group>> ListGroups();

  // --- Authentication.
  // Password (and, when given and enrolled, a TOTP code) → a new session. Errors:
  // kUnauthenticated "invalid_credentials" (also for unknown or disabled users, so that
  // accounts cannot be probed), kTooManyRequests "account_locked" / "source_locked".
  Result<LoginResult> Login(std::string_view username, std::string_view password,
                            std::string_view totp_code, const Actor& from);
  // The session for a cookie value. Errors: kUnauthenticated "session_invalid" or
  // "session_expired" (idle or absolute timeout; the session is removed).
  Result<Session> AuthenticateSession(std::string_view session_token);
  Status Logout(const Session& session, const Actor& actor);
  // Starts TOTP enrolment with the user's one-time enrolment code, which it spends; a restart
  // needs a new code. Errors: kConflict "mfa_already_enrolled" once confirmed (the code is not
  // spent); kPermissionDenied "enrolment_code_invalid" (wrong, used, another user's or none
  // issued) or "enrolment_code_expired" (audited as denials).
  Result<TotpEnrolment> BeginTotpEnrolment(const Session& session, std::string_view enrolment_code,
                                           const Actor& actor);
  // Confirms enrolment with a first code; marks the session as having passed the second factor
  // and returns fresh one-time recovery codes (shown once).
  Result<std::vector<std::string>> ConfirmTotp(const Session& session, std::string_view code,
                                               const Actor& actor);
  // Second step of a login: a TOTP code (not replayable) or an unused recovery code.
  Status VerifySecondFactor(const Session& session, std::string_view code,
                            std::string_view recovery_code, const Actor& actor);

  // Records one use of the operator's break-glass token (an audit record marked
  // break_glass, which security officers read in the audit log).
  Status RecordBreakGlass(const Actor& actor, std::string_view method, std::string_view path);

  // --- Machine tokens.
  // Returns the token (shown once) and its record. A token's role must be one its creator may
  // grant directly (grant_rules.h): a token is never broader than its creator may grant, and
  // roles that need a second person are never minted as tokens. Errors as CreateUser, plus
  // kPermissionDenied "grant_requires_approval".
  Result<std::pair<std::string, ApiToken>> CreateApiToken(const NewApiToken& token,
                                                          const Grantor& grantor,
                                                          const Actor& actor);
  Result<std::vector<ApiToken>> ListApiTokens();
  Status RevokeApiToken(std::string_view id, const Actor& actor);
  // A personal data-access token (R1.3): made by a person signed in with a second factor, it
  // acts as that person — their organisation, current roles, groups and grants — limited to
  // `actions` (each one their roles allow) for 1..kMaxPersonalTokenDays days. For command-line
  // clients (samtools/bcftools through htsget). Disabling the person stops the token.
  // Errors: kInvalidArgument naming the field; kPermissionDenied "person_required" when the
  // owner is itself a token or has not passed MFA.
  static constexpr int kMaxPersonalTokenDays = 90;
  Result<std::pair<std::string, ApiToken>> CreatePersonalToken(const policy::Subject& owner,
                                                                const std::string& name,
                                                                const std::vector<std::string>& actions,
                                                                int days, const Actor& actor);
  // The owner's personal tokens, newest first.
  Result<std::vector<ApiToken>> ListPersonalTokens(std::string_view user);
  // Revokes one of the owner's personal tokens. Errors: kNotFound "token_not_found".
  Status RevokePersonalToken(std::string_view user, std::string_view id, const Actor& actor);
  // Errors: kUnauthenticated "invalid_credentials" (unknown or revoked), "token_expired".
  Result<policy::Subject> AuthenticateApiToken(std::string_view token);

 private:
  Status Audit(const Actor& actor, std::string action, std::string resource,
               std::string decision, std::string reason, std::string details = "{}");
  // The same record inside tx, committed with the state change it records
  // (AuditSink::AppendInTransaction).
  Status AuditIn(storage::Transaction& tx, const Actor& actor, std::string action,
                 std::string resource, std::string decision, std::string reason,
                 std::string details = "{}");
  Status RecordSourceFailure(storage::Transaction& tx, std::string_view source, int64_t now);
  // Decides every role of `wanted` for a holder of `held` (held and pending) roles in
  // organisation `org` of kind `kind`; splits them into direct and pending grants or returns the
  // first refusal. Writes nothing.
  struct GrantPlan {
    std::vector<std::string> direct;
    std::vector<std::string> pending;
  };
  Result<GrantPlan> PlanGrants(const Grantor& grantor, const std::string& org,
                               const std::string& kind, const std::vector<std::string>& held,
                               const std::vector<std::string>& wanted);
  // Audits a refused grant (kPermissionDenied) and returns the error to answer with.
  Error RefuseGrant(Error e, const Grantor& grantor, const Actor& actor, const std::string& action,
                    const std::string& resource);
  Status WritePendingGrants(storage::Transaction& tx, const std::string& user,
                            const std::vector<std::string>& roles, const Grantor& grantor);

  storage::Store& store_;
  const Clock& clock_;
  AuditSink& audit_;
  Options options_;
  std::string dummy_hash_;  // verified against for unknown users, so timing tells nothing
};

}  // namespace zengen::identity
