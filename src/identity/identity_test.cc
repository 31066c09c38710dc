#include "identity/identity.h"

#include <algorithm>
#include <map>

#include <gtest/gtest.h>

#include "audit/testing.h"
#include "crypto/totp.h"
#include "identity/identity_routes.h"
#include "identity/identity_test_support.h"
#include "storage/testing.h"

namespace zengen::identity {
namespace {

using std::chrono::milliseconds;
using testing::kPassword;

class IdentityTest : public testing::IdentityFixture {
 protected:
  void SetUp() override {
    Options o;
    o.lockout_threshold = 3;
    o.source_threshold = 6;
    ASSERT_NO_FATAL_FAILURE(OpenIdentity(o));
  }

  // Logs alice in, enrols TOTP and returns the confirmed session and the secret.
  std::pair<Session, std::string> EnrolledSession() {
    auto login = identity_->Login("alice", kPassword, "", from_);
    EXPECT_TRUE(login.ok());
    auto s = identity_->AuthenticateSession(login->session_token);
    EXPECT_TRUE(s.ok());
    auto code = identity_->IssueEnrolmentCode("alice", console_, admin_);
    EXPECT_TRUE(code.ok());
    auto e = identity_->BeginTotpEnrolment(*s, code->code, from_);
    EXPECT_TRUE(e.ok());
    auto secret = crypto::Base32Decode(e->secret_base32);
    EXPECT_TRUE(secret.ok());
    auto codes = identity_->ConfirmTotp(*s, Code(*secret), from_);
    EXPECT_TRUE(codes.ok()) << codes.error().message;
    recovery_ = *codes;
    session_token_ = login->session_token;
    clock_.Advance(milliseconds(30000));  // the next code belongs to a new step
    return {*identity_->AuthenticateSession(login->session_token), *secret};
  }
  std::string Code(const std::string& secret) {
    return crypto::TotpCode(secret, clock_.NowUnixMillis() / 1000);
  }
  int CountEvents(const std::string& action, const std::string& decision) {
    int n = 0;
    for (const auto& e : audit_.events()) n += e.action == action && e.decision == decision;
    return n;
  }

  Grantor console_ = Grantor::Console();
  Actor from_{"", "192.0.2.10", "req-1"};
  std::vector<std::string> recovery_;
  std::string session_token_;
};

TEST_P(IdentityTest, RejectsBadInputNamingTheField) {
  auto bad_kind = identity_->CreateOrganisation({"x1", "X", "pharmacy", "JP"}, admin_);
  ASSERT_FALSE(bad_kind.ok());
  EXPECT_EQ(bad_kind.error().field, "kind");
  EXPECT_EQ(identity_->CreateOrganisation({"x1", "X", "hospital", "jp"}, admin_).error().field,
            "jurisdiction");
  EXPECT_EQ(identity_->CreateOrganisation({"dc", "Dup", "hospital", "JP"}, admin_).error().code,
            "already_exists");
  auto role = identity_->CreateUser(
      {"bob", "hosp-a", "Bob", "bob@example.org", {"data_steward"}, kPassword}, console_, admin_);
  ASSERT_FALSE(role.ok());
  EXPECT_EQ(role.error().code, "role_not_allowed");
  auto weak = identity_->CreateUser(
      {"bob", "hosp-a", "Bob", "bob@example.org", {"clinician"}, "password1234"}, console_, admin_);
  ASSERT_FALSE(weak.ok());
  EXPECT_EQ(weak.error().code, "password_common");
  EXPECT_EQ(identity_
                ->CreateUser({"bob", "nowhere", "Bob", "b@x.org", {"clinician"}, kPassword},
                             console_, admin_)
                .error()
                .code,
            "unknown_organisation");
  EXPECT_EQ(identity_
                ->CreateUser({"bob", "hosp-a", "Bob", "not-an-email", {"clinician"}, kPassword},
                             console_, admin_)
                .error()
                .field,
            "email");
  auto users = identity_->ListUsers();
  ASSERT_TRUE(users.ok());
  EXPECT_EQ(users->size(), 1u) << "a refused user must not be half-written";
}

TEST_P(IdentityTest, PasswordLoginWithoutMfaCanOnlyEnrol) {
  auto login = identity_->Login("alice", kPassword, "", from_);
  ASSERT_TRUE(login.ok()) << login.error().message;
  EXPECT_FALSE(login->mfa_passed);
  EXPECT_FALSE(login->mfa_enrolled);
  auto s = identity_->AuthenticateSession(login->session_token);
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE(s->subject.mfa);
  EXPECT_EQ(s->subject.roles, std::vector<std::string>{"clinician"});
  EXPECT_TRUE(policy::Decide(s->subject, "mfa.enrol", {"session"}, {}).allowed());
  EXPECT_EQ(CountEvents("auth.login", "allow"), 1);
}

TEST_P(IdentityTest, EnrolmentThenTotpLoginAndReplayIsRefused) {
  auto [session, secret] = EnrolledSession();
  EXPECT_TRUE(session.subject.mfa);
  EXPECT_EQ(recovery_.size(), 10u);
  // Password + current code in one step.
  const std::string code = Code(secret);
  auto login = identity_->Login("alice", kPassword, code, from_);
  ASSERT_TRUE(login.ok()) << login.error().message;
  EXPECT_TRUE(login->mfa_passed);
  // The same code again is a replay, even with the right password.
  auto replay = identity_->Login("alice", kPassword, code, from_);
  ASSERT_FALSE(replay.ok());
  EXPECT_EQ(replay.error().code, "invalid_credentials");
  // Two-step login: password, then the next step's code.
  clock_.Advance(milliseconds(30000));
  auto step1 = identity_->Login("alice", kPassword, "", from_);
  ASSERT_TRUE(step1.ok());
  EXPECT_FALSE(step1->mfa_passed);
  EXPECT_TRUE(step1->mfa_enrolled);
  auto s = identity_->AuthenticateSession(step1->session_token);
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(identity_->VerifySecondFactor(*s, Code(secret), "", from_).ok());
  EXPECT_TRUE(identity_->AuthenticateSession(step1->session_token)->subject.mfa);
  // Enrolling again is refused once confirmed.
  EXPECT_EQ(identity_->BeginTotpEnrolment(*s, "any-code", from_).error().code,
            "mfa_already_enrolled");
}

TEST_P(IdentityTest, RecoveryCodeWorksOnce) {
  auto [session, secret] = EnrolledSession();
  auto login = identity_->Login("alice", kPassword, "", from_);
  ASSERT_TRUE(login.ok());
  auto s = *identity_->AuthenticateSession(login->session_token);
  std::string typed = recovery_[0];
  std::transform(typed.begin(), typed.end(), typed.begin(), ::toupper);
  EXPECT_TRUE(identity_->VerifySecondFactor(s, "", typed, from_).ok());
  auto again = identity_->VerifySecondFactor(s, "", recovery_[0], from_);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, "invalid_code");
}

TEST_P(IdentityTest, LockoutAfterRepeatedFailuresThenUnlock) {
  for (int i = 0; i < 3; ++i) {
    auto r = identity_->Login("alice", "wrong password!", "", from_);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, "invalid_credentials");
  }
  auto locked = identity_->Login("alice", kPassword, "", from_);
  ASSERT_FALSE(locked.ok());
  EXPECT_EQ(locked.error().code, "account_locked");
  EXPECT_EQ(locked.error().kind, ErrorKind::kTooManyRequests);
  EXPECT_EQ(CountEvents("auth.lockout", "deny"), 1);
  EXPECT_TRUE(identity_->GetUser("alice")->locked);
  ASSERT_TRUE(identity_->Unlock("alice", admin_).ok());
  EXPECT_TRUE(identity_->Login("alice", kPassword, "", from_).ok());
}

TEST_P(IdentityTest, LockoutEndsAfterCoolDown) {
  for (int i = 0; i < 3; ++i) ASSERT_FALSE(identity_->Login("alice", "nope nope nope", "", from_).ok());
  ASSERT_EQ(identity_->Login("alice", kPassword, "", from_).error().code, "account_locked");
  clock_.Advance(milliseconds(15 * 60 * 1000 + 1));
  EXPECT_TRUE(identity_->Login("alice", kPassword, "", from_).ok());
}

TEST_P(IdentityTest, SourceAddressIsLockedAfterFailuresAcrossAccounts) {
  for (int i = 0; i < 6; ++i) {
    ASSERT_FALSE(identity_->Login("user" + std::to_string(i), "whatever pass", "", from_).ok());
  }
  auto r = identity_->Login("alice", kPassword, "", from_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "source_locked");
  Actor elsewhere{"", "198.51.100.7", ""};
  EXPECT_TRUE(identity_->Login("alice", kPassword, "", elsewhere).ok());
}

TEST_P(IdentityTest, UnknownAndDisabledUsersLookLikeWrongPasswords) {
  EXPECT_EQ(identity_->Login("nobody", kPassword, "", from_).error().code, "invalid_credentials");
  auto login = identity_->Login("alice", kPassword, "", from_);
  ASSERT_TRUE(login.ok());
  ASSERT_TRUE(identity_->DisableUser("alice", admin_).ok());
  EXPECT_EQ(identity_->Login("alice", kPassword, "", from_).error().code, "invalid_credentials");
  EXPECT_FALSE(identity_->AuthenticateSession(login->session_token).ok())
      << "disabling ends existing sessions";
}

// Issue 14: a disabled user could not be re-enabled.
TEST_P(IdentityTest, ADisabledUserCanBeEnabledAgain) {
  ASSERT_TRUE(identity_->DisableUser("alice", admin_).ok());
  ASSERT_EQ(identity_->Login("alice", kPassword, "", from_).error().code, "invalid_credentials");
  ASSERT_TRUE(identity_->EnableUser("alice", admin_).ok());
  EXPECT_TRUE(identity_->Login("alice", kPassword, "", from_).ok());
  auto u = identity_->GetUser("alice");
  ASSERT_TRUE(u.ok());
  EXPECT_FALSE(u->disabled);
  EXPECT_EQ(identity_->EnableUser("nobody", admin_).error().code, "user_not_found");
}

TEST_P(IdentityTest, SessionsExpireWhenIdleAndAbsolutely) {
  auto login = identity_->Login("alice", kPassword, "", from_);
  ASSERT_TRUE(login.ok());
  clock_.Advance(milliseconds(29 * 60 * 1000));
  EXPECT_TRUE(identity_->AuthenticateSession(login->session_token).ok());
  clock_.Advance(milliseconds(31 * 60 * 1000));
  auto idle = identity_->AuthenticateSession(login->session_token);
  ASSERT_FALSE(idle.ok());
  EXPECT_EQ(idle.error().code, "session_expired");
  // Absolute: kept busy, it still ends after 12 hours.
  auto busy = identity_->Login("alice", kPassword, "", from_);
  ASSERT_TRUE(busy.ok());
  for (int i = 0; i <= 12 * 4; ++i) {
    clock_.Advance(milliseconds(15 * 60 * 1000));
    if (!identity_->AuthenticateSession(busy->session_token).ok()) break;
  }
  EXPECT_EQ(identity_->AuthenticateSession(busy->session_token).error().code, "session_invalid");
}

TEST_P(IdentityTest, ResetMfaForcesReEnrolment) {
  auto [session, secret] = EnrolledSession();
  ASSERT_TRUE(identity_->ResetMfa("alice", admin_).ok());
  EXPECT_FALSE(identity_->AuthenticateSession(session_token_).ok())
      << "sessions that passed the old factor end";
  auto login = identity_->Login("alice", kPassword, "", from_);
  ASSERT_TRUE(login.ok());
  EXPECT_FALSE(login->mfa_enrolled);
}

TEST_P(IdentityTest, ApiTokensAreScopedExpiringAndRevocable) {
  ASSERT_TRUE(identity_->CreateOrganisation({"seq-1", "Sequencer", "sequencing_facility", "JP"},
                                            admin_)
                  .ok());
  auto too_much = identity_->CreateApiToken(
      {"uploader", "seq-1", "sequencing_operator", {"user.write"}, 30}, console_, admin_);
  ASSERT_FALSE(too_much.ok());
  EXPECT_EQ(too_much.error().code, "action_not_allowed");
  ASSERT_TRUE(identity_->CreateOrganisation({"dc2", "DC 2", "data_center", "JP"}, admin_).ok());
  auto created = identity_->CreateApiToken(
      {"steward-bot", "dc2", "data_steward", {"setting.write"}, 1}, console_, admin_);
  ASSERT_TRUE(created.ok()) << created.error().message;
  const std::string token = created->first;
  auto subject = identity_->AuthenticateApiToken(token);
  ASSERT_TRUE(subject.ok());
  EXPECT_TRUE(policy::Decide(*subject, "setting.write", {"setting"}, {}).allowed());
  EXPECT_FALSE(policy::Decide(*subject, "user.write", {"user"}, {}).allowed());
  auto listed = identity_->ListApiTokens();
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  clock_.Advance(milliseconds(86400 * 1000 + 1));
  EXPECT_EQ(identity_->AuthenticateApiToken(token).error().code, "token_expired");
  auto fresh = identity_->CreateApiToken(
      {"steward-bot-2", "dc2", "data_steward", {"setting.write"}, 5}, console_, admin_);
  ASSERT_TRUE(fresh.ok());
  ASSERT_TRUE(identity_->RevokeApiToken(fresh->second.id, admin_).ok());
  EXPECT_EQ(identity_->AuthenticateApiToken(fresh->first).error().code, "invalid_credentials");
  EXPECT_EQ(identity_->AuthenticateApiToken("zgt_forged").error().code, "invalid_credentials");
}

TEST_P(IdentityTest, ResearchGroupsGatherUsersAcrossOrganisations) {
  ASSERT_TRUE(identity_->CreateOrganisation({"univ", "University", "academic", "JP"}, admin_).ok());
  ASSERT_TRUE(
      identity_
          ->CreateUser({"carol", "univ", "Carol", "carol@example.org", {"researcher"}, kPassword},
                       console_, admin_)
          .ok());
  ASSERT_TRUE(identity_->CreateGroup("rare-disease-1", "Rare disease group 1", admin_).ok());
  ASSERT_TRUE(identity_->AddGroupMember("rare-disease-1", "alice", admin_).ok());
  ASSERT_TRUE(identity_->AddGroupMember("rare-disease-1", "carol", admin_).ok());
  EXPECT_EQ(identity_->AddGroupMember("rare-disease-1", "carol", admin_).error().code,
            "already_member");
  EXPECT_EQ(identity_->AddGroupMember("rare-disease-1", "nobody", admin_).error().field, "user");
  auto groups = identity_->ListGroups();
  ASSERT_TRUE(groups.ok());
  ASSERT_EQ(groups->size(), 1u);
  EXPECT_EQ((*groups)[0].members, (std::vector<std::string>{"alice", "carol"}));
}

// A member can leave a group again (the console's remove button); one audit record.
TEST_P(IdentityTest, AGroupMemberCanBeRemoved) {
  ASSERT_TRUE(identity_->CreateGroup("rare-disease-1", "Rare disease group 1", admin_).ok());
  ASSERT_TRUE(identity_->AddGroupMember("rare-disease-1", "alice", admin_).ok());
  EXPECT_EQ(identity_->RemoveGroupMember("nowhere", "alice", admin_).error().code,
            "group_not_found");
  ASSERT_TRUE(identity_->RemoveGroupMember("rare-disease-1", "alice", admin_).ok());
  auto groups = identity_->ListGroups();
  ASSERT_TRUE(groups.ok());
  ASSERT_EQ(groups->size(), 1u);
  EXPECT_TRUE((*groups)[0].members.empty());
  const auto again = identity_->RemoveGroupMember("rare-disease-1", "alice", admin_);
  EXPECT_EQ(again.error().code, "not_member");
  EXPECT_EQ(again.error().field, "user");
  int removed = 0;
  for (const auto& e : audit_.events()) {
    removed += e.resource == "group/rare-disease-1" && e.reason == "member removed";
  }
  EXPECT_EQ(removed, 1);
  // Added back after leaving.
  EXPECT_TRUE(identity_->AddGroupMember("rare-disease-1", "alice", admin_).ok());
}

TEST_P(IdentityTest, CsrfIsRequiredForStateChangingSessionRequests) {
  auto login = identity_->Login("alice", kPassword, "", from_);
  ASSERT_TRUE(login.ok());
  RequestAuthenticator auth(*identity_, nullptr);
  http::Request req;
  req.method = "POST";
  req.headers["Cookie"] = std::string("theme=dark; zg_session=") + login->session_token;
  EXPECT_EQ(auth.Authenticate(req).error().code, "csrf_token_missing");
  req.headers["X-CSRF-Token"] = "wrong";
  EXPECT_EQ(auth.Authenticate(req).error().code, "csrf_token_invalid");
  req.headers["X-CSRF-Token"] = login->csrf_token;
  EXPECT_TRUE(auth.Authenticate(req).ok());
  http::Request get;
  get.method = "GET";
  get.headers["Cookie"] = std::string("zg_session=") + login->session_token;
  EXPECT_TRUE(auth.Authenticate(get).ok());
  http::Request none;
  none.method = "POST";
  auto anon = auth.Authenticate(none);
  ASSERT_TRUE(anon.ok());
  EXPECT_FALSE(anon->authenticated);
}

// --- Separation of duties (issue 12 finding 4).

Grantor Person(const std::string& id, const std::string& org, std::vector<std::string> roles) {
  return Grantor{.id = id, .organisation = org, .roles = std::move(roles)};
}

User NewSteward(Identity& identity, const Grantor& console, const Actor& actor) {
  auto u = identity.CreateUser(
      {"steward", "dc", "Steward", "steward@example.org", {"data_steward"}, kPassword}, console,
      actor);
  EXPECT_TRUE(u.ok()) << (u.ok() ? "" : u.error().message);
  return u.ok() ? *u : User{};
}

TEST_P(IdentityTest, StewardCannotMakeAClinicianAndTheRefusalIsAudited) {
  const Grantor steward = Person("steward", "dc", {"data_steward"});
  auto r = identity_->CreateUser(
      {"mallory", "hosp-a", "M", "m@example.org", {"clinician"}, kPassword}, steward, admin_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kPermissionDenied);
  EXPECT_EQ(r.error().code, "grant_not_allowed");
  EXPECT_EQ(identity_->GetUser("mallory").error().code, "user_not_found") << "nothing is written";
  EXPECT_EQ(CountEvents("user.write", "deny"), 1);
  auto token = identity_->CreateApiToken(
      {"clin-bot", "hosp-a", "clinician", {"participant.read"}, 30}, steward, admin_);
  ASSERT_FALSE(token.ok());
  EXPECT_EQ(token.error().code, "grant_not_allowed");
  EXPECT_EQ(CountEvents("token.write", "deny"), 1);
  // The operator (break-glass) onboards hospital staff; the record says so.
  Grantor op = GrantorOf({.authenticated = true,
                          .id = "operator",
                          .organisation = "data_center",
                          .roles = {"data_steward"},
                          .mfa = true});
  ASSERT_TRUE(op.is_operator);
  ASSERT_TRUE(identity_
                  ->CreateUser({"bob", "hosp-a", "Bob", "b@example.org", {"clinician"}, kPassword},
                               op, admin_)
                  .ok());
  EXPECT_NE(audit_.events().back().details.find("\"break_glass\":true"), std::string::npos);
}

TEST_P(IdentityTest, SecurityOfficerNeedsTheOperatorAndASecondPerson) {
  NewSteward(*identity_, console_, admin_);
  const Grantor steward = Person("steward", "dc", {"data_steward"});
  const Grantor op =
      GrantorOf({.authenticated = true, .id = "operator", .roles = {"data_steward"}});
  // A steward never mints a security officer's token, nor does the operator.
  for (const Grantor& g : {steward, op}) {
    auto t = identity_->CreateApiToken({"audit-bot", "dc", "security_officer", {"audit.read"}, 5},
                                       g, admin_);
    ASSERT_FALSE(t.ok());
    EXPECT_EQ(t.error().code, "grant_requires_approval");
  }
  // A steward's request waits; the steward (or the grantee) cannot approve it, the operator can.
  auto sec = identity_->CreateUser(
      {"sec", "dc", "Sec", "sec@example.org", {"security_officer"}, kPassword}, steward, admin_);
  ASSERT_TRUE(sec.ok()) << sec.error().message;
  EXPECT_TRUE(sec->roles.empty());
  EXPECT_EQ(sec->pending_roles, std::vector<std::string>{"security_officer"});
  auto pending = identity_->ListRoleGrants(true);
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 1u);
  const std::string grant = (*pending)[0].id;
  EXPECT_EQ(identity_->ApproveRoleGrant(grant, steward, admin_).error().code,
            "approval_needs_second_person");
  EXPECT_EQ(identity_->ApproveRoleGrant(grant, Person("steward-2", "dc", {"data_steward"}), admin_)
                .error()
                .code,
            "approver_not_allowed");
  EXPECT_EQ(identity_->ApproveRoleGrant(grant, Person("sec", "dc", {}), admin_).error().code,
            "approval_needs_second_person");
  EXPECT_EQ(CountEvents("role.approve", "deny"), 3);
  auto ok = identity_->ApproveRoleGrant(grant, op, admin_);
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(identity_->GetUser("sec")->roles, std::vector<std::string>{"security_officer"});
  EXPECT_EQ(identity_->ApproveRoleGrant(grant, op, admin_).error().code, "grant_not_pending");
  // The operator's own request is approved by a security officer, not by the operator again.
  auto sec2 = identity_->CreateUser(
      {"sec-2", "dc", "Sec 2", "sec2@example.org", {"security_officer"}, kPassword}, op, admin_);
  ASSERT_TRUE(sec2.ok());
  pending = identity_->ListRoleGrants(true);
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ(identity_->ApproveRoleGrant((*pending)[0].id, op, admin_).error().code,
            "approval_needs_second_person");
  EXPECT_TRUE(
      identity_
          ->ApproveRoleGrant((*pending)[0].id, Person("sec", "dc", {"security_officer"}), admin_)
          .ok());
}

TEST_P(IdentityTest, ForbiddenCombinationsBindEveryGrantorAndLaterGrants) {
  auto both = identity_->CreateUser(
      {"eve", "dc", "Eve", "eve@example.org", {"data_steward", "security_officer"}, kPassword},
      console_, admin_);
  ASSERT_FALSE(both.ok());
  EXPECT_EQ(both.error().code, "forbidden_role_combination");
  NewSteward(*identity_, console_, admin_);
  auto later = identity_->GrantRole("steward", "security_officer", console_, admin_);
  ASSERT_FALSE(later.ok());
  EXPECT_EQ(later.error().code, "forbidden_role_combination");
  EXPECT_EQ(identity_->GrantRole("steward", "committee_member", console_, admin_).error().code,
            "forbidden_role_combination");
  EXPECT_EQ(identity_->GrantRole("steward", "data_steward", console_, admin_).error().code,
            "role_held");
  // Roles that may be combined are granted.
  auto clinician_researcher = identity_->GrantRole("alice", "researcher", console_, admin_);
  ASSERT_TRUE(clinician_researcher.ok()) << clinician_researcher.error().message;
  EXPECT_EQ(clinician_researcher->roles, (std::vector<std::string>{"clinician", "researcher"}));
}

TEST_P(IdentityTest, EnrolmentNeedsAFreshCodeOfOneselfIssuedByAnAdministrator) {
  ASSERT_TRUE(identity_
                  ->CreateUser({"bob", "hosp-a", "Bob", "b@example.org", {"clinician"}, kPassword},
                               console_, admin_)
                  .ok());
  auto login = identity_->Login("alice", kPassword, "", from_);
  ASSERT_TRUE(login.ok());
  auto s = identity_->AuthenticateSession(login->session_token);
  ASSERT_TRUE(s.ok());
  // Password alone: refused.
  EXPECT_EQ(identity_->BeginTotpEnrolment(*s, "", from_).error().code, "enrolment_code_invalid");
  EXPECT_EQ(identity_->BeginTotpEnrolment(*s, "abcd-efgh-jkmn", from_).error().code,
            "enrolment_code_invalid");
  // Another user's code: refused.
  auto bobs = identity_->IssueEnrolmentCode("bob", console_, admin_);
  ASSERT_TRUE(bobs.ok());
  EXPECT_EQ(identity_->BeginTotpEnrolment(*s, bobs->code, from_).error().code,
            "enrolment_code_invalid");
  // A steward may not administer a clinician's account.
  EXPECT_EQ(identity_->IssueEnrolmentCode("alice", Person("st", "dc", {"data_steward"}), admin_)
                .error()
                .code,
            "grant_not_allowed");
  // Expired: refused.
  auto old = identity_->IssueEnrolmentCode("alice", console_, admin_);
  ASSERT_TRUE(old.ok());
  clock_.Advance(milliseconds(72LL * 3600 * 1000 + 1));
  s = identity_->AuthenticateSession(
      identity_->Login("alice", kPassword, "", from_)->session_token);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(identity_->BeginTotpEnrolment(*s, old->code, from_).error().code,
            "enrolment_code_expired");
  // A fresh code works once, typed in any case and spacing; reuse is refused.
  auto fresh = identity_->IssueEnrolmentCode("alice", console_, admin_);
  ASSERT_TRUE(fresh.ok());
  std::string typed = fresh->code;
  std::transform(typed.begin(), typed.end(), typed.begin(), ::toupper);
  EXPECT_TRUE(identity_->BeginTotpEnrolment(*s, typed, from_).ok());
  EXPECT_EQ(identity_->BeginTotpEnrolment(*s, fresh->code, from_).error().code,
            "enrolment_code_invalid");
  EXPECT_GE(CountEvents("mfa.enrol", "deny"), 5);
  EXPECT_EQ(CountEvents("mfa.enrolment_code", "allow"), 3);
}

TEST_P(IdentityTest, LoginIgnoresAStaleSessionCookieAndItsExpiry401ClearsIt) {
  auto login = identity_->Login("alice", kPassword, "", from_);
  ASSERT_TRUE(login.ok());
  clock_.Advance(milliseconds(31 * 60 * 1000));
  RequestAuthenticator auth(*identity_, nullptr);
  http::Route login_route{
      .method = "POST", .pattern = "/api/v1/auth/login", .action = "auth.login"};
  http::Request req;
  req.method = "POST";
  req.headers["Cookie"] = "zg_session=" + login->session_token;
  EXPECT_EQ(auth.Authenticate(req).error().code, "session_expired");
  req.route = &login_route;
  auto anon = auth.Authenticate(req);
  ASSERT_TRUE(anon.ok());
  EXPECT_FALSE(anon->authenticated);
  // The 401 for an expired session clears the cookie; other 401s leave it.
  StaleSessionCookieFilter filter;
  http::Response expired =
      http::Response::FromError(Unauthenticated("session_expired", "the session has expired"));
  filter.OnResponse(req, expired);
  EXPECT_NE(expired.headers["Set-Cookie"].find("Max-Age=0"), std::string::npos);
  http::Response wrong_code = http::Response::FromError(Unauthenticated("invalid_code", "no"));
  filter.OnResponse(req, wrong_code);
  EXPECT_EQ(wrong_code.headers.count("Set-Cookie"), 0u);
}

// Stands in for the operator token's authenticator.
class FakeOperatorAuthenticator final : public http::Authenticator {
 public:
  Result<http::Subject> Authenticate(const http::Request&) override {
    return http::Subject{.authenticated = true,
                         .id = "operator",
                         .organisation = "data_center",
                         .roles = {"data_steward"},
                         .mfa = true};
  }
};

TEST_P(IdentityTest, EveryUseOfTheOperatorTokenIsABreakGlassRecord) {
  RequestAuthenticator auth(*identity_, std::make_shared<FakeOperatorAuthenticator>());
  http::Request req;
  req.method = "GET";
  req.path = "/api/v1/admin/users";
  req.request_id = "req-9";
  req.headers["Authorization"] = "Bearer zgo_x";
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(auth.Authenticate(req).ok());
  EXPECT_EQ(CountEvents("operator.break_glass", "allow"), 2);
  const AuditEvent e = audit_.events().back();
  EXPECT_EQ(e.actor, "operator");
  EXPECT_EQ(e.request_id, "req-9");
  EXPECT_NE(e.details.find("\"break_glass\":true"), std::string::npos);
}

TEST(GrantRulesTest, EveryGrantorRoleAndOrganisationCell) {
  // Expected verdicts, written out: A allow, P pending approval, D deny; for a grantee in the
  // grantor's own organisation ("dc") and in another ("hosp").
  using Cell = std::pair<char, char>;
  std::map<std::string, std::map<std::string, Cell>> expected;
  for (auto role : policy::kRoles) {
    const std::string r(role);
    expected["console"][r] = {'A', 'A'};
    expected["operator"][r] = r == "security_officer" ? Cell{'P', 'P'} : Cell{'A', 'A'};
    for (auto grantor : policy::kRoles) expected[std::string(grantor)][r] = {'D', 'D'};
  }
  expected["data_steward"]["data_steward"] = {'A', 'D'};
  expected["data_steward"]["security_officer"] = {'P', 'D'};
  int cells = 0;
  for (const auto& [who, row] : expected) {
    Grantor g = who == "console"    ? Grantor::Console()
                : who == "operator" ? GrantorOf({.authenticated = true, .id = "operator"})
                                    : Person("someone", "dc", {who});
    for (const auto& [role, cell] : row) {
      for (const auto& [org, want] :
           {std::pair{"dc", cell.first}, std::pair{"hosp", cell.second}}) {
        const GrantVerdict v = DecideGrant(g, role, org, {role});
        const char got = v.kind == GrantVerdict::Kind::kAllow           ? 'A'
                         : v.kind == GrantVerdict::Kind::kNeedsApproval ? 'P'
                                                                        : 'D';
        EXPECT_EQ(got, want) << who << " grants " << role << " in " << org << ": " << v.reason;
        if (got == 'D') {
          EXPECT_EQ(v.code, "grant_not_allowed");
        }
        ++cells;
      }
    }
  }
  EXPECT_EQ(cells,
            static_cast<int>((std::size(policy::kRoles) + 2) * std::size(policy::kRoles) * 2));
  // Every row of the table is exercised above (no row names an unknown role or grantor).
  for (const auto& rule : GrantRules()) {
    EXPECT_TRUE(expected.count(std::string(rule.grantor))) << rule.grantor;
    EXPECT_TRUE(expected.at(std::string(rule.grantor)).count(std::string(rule.role))) << rule.role;
  }
}

TEST(GrantRulesTest, ForbiddenPairsBindEvenTheConsole) {
  for (const auto& [a, b] : ForbiddenRoleCombinations()) {
    for (const Grantor& g :
         {Grantor::Console(), GrantorOf({.authenticated = true, .id = "operator"})}) {
      const GrantVerdict v = DecideGrant(g, a, "dc", {std::string(a), std::string(b)});
      EXPECT_TRUE(v.denied()) << a << "+" << b;
      EXPECT_EQ(v.code, "forbidden_role_combination");
    }
  }
  EXPECT_FALSE(
      DecideGrant(Grantor::Console(), "clinician", "h", {"clinician", "researcher"}).denied());
}

TEST(GrantRulesTest, ApprovalCells) {
  const Grantor op = GrantorOf({.authenticated = true, .id = "operator"});
  const Grantor sec = Person("sec", "dc", {"security_officer"});
  const Grantor sec2 = Person("sec-2", "dc", {"security_officer"});
  const Grantor steward = Person("st", "dc", {"data_steward"});
  struct Row {
    const Grantor* approver;
    std::string requester, grantee, want;  // want: "" allowed, else the code
  };
  const Row rows[] = {
      {&sec, "operator", "new", ""},
      {&op, "st", "new", ""},
      {&op, "operator", "new", "approval_needs_second_person"},
      {&sec, "sec", "new", "approval_needs_second_person"},
      {&sec, "operator", "sec", "approval_needs_second_person"},
      {&sec2, "sec", "new", "approver_not_allowed"},  // the operator takes part in every one
      {&steward, "operator", "new", "approver_not_allowed"},
  };
  for (const auto& r : rows) {
    const GrantVerdict v = DecideApproval(*r.approver, r.requester, r.grantee);
    EXPECT_EQ(v.denied() ? v.code : "", r.want)
        << r.approver->id << " approves " << r.requester << "'s grant for " << r.grantee;
  }
  // A scoped token called "operator" is not the operator.
  EXPECT_FALSE(GrantorOf({.authenticated = true, .id = "operator", .scoped = true}).is_operator);
}

// Organisations, sessions and account changes commit with their audit records
// (AuditSink::AppendInTransaction): when the record's write fails, nothing is stored.
TEST_P(IdentityTest, AChangeAndItsAuditRecordCommitTogetherOrNotAtAll) {
  audit::testing::FailAfterWriteSink sink(*store_, clock_);
  Options o;
  o.password_cost = crypto::PasswordCost::Minimal();
  Identity faulty(*store_, clock_, sink, o);
  const auto sessions = [&] {
    auto tx = store_->Begin(storage::TxMode::kRead);
    return (*tx)->Query("SELECT COUNT(*) FROM sessions")->rows[0].Int(0);
  };

  EXPECT_EQ(faulty.CreateOrganisation({"seq-1", "Seq 1", "sequencing_facility", "JP"}, admin_)
                .error()
                .code,
            "audit_injected_failure");
  auto orgs = identity_->ListOrganisations();
  ASSERT_TRUE(orgs.ok());
  for (const auto& org : *orgs) EXPECT_NE(org.id, "seq-1");
  EXPECT_EQ(faulty.Login("alice", kPassword, "", from_).error().code, "audit_injected_failure");
  EXPECT_EQ(sessions(), 0);
  EXPECT_EQ(faulty.DisableUser("alice", admin_).error().code, "audit_injected_failure");
  EXPECT_FALSE(identity_->GetUser("alice")->disabled);
  for (const char* action : {"org.write", "auth.login", "user.write"}) {
    EXPECT_EQ(audit::testing::CountRecords(*store_, action), 0) << action;
  }

  sink.fail_after_write = false;
  ASSERT_TRUE(faulty.Login("alice", kPassword, "", from_).ok());
  EXPECT_EQ(sessions(), 1);
  EXPECT_EQ(audit::testing::CountRecords(*store_, "auth.login"), 1);
}

INSTANTIATE_TEST_SUITE_P(Backends, IdentityTest, ::testing::ValuesIn(storage::TestBackends()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace zengen::identity
