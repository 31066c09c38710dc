#include "identity/identity.h"

#include <gtest/gtest.h>

#include "crypto/totp.h"
#include "identity/identity_routes.h"
#include "storage/testing.h"

namespace zengen::identity {
namespace {

using std::chrono::milliseconds;
constexpr const char* kPassword = "correct horse battery staple";

class IdentityTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto db = storage::ScratchDatabase::Create(GetParam());
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_.emplace(std::move(*db));
    auto store = storage::OpenStore({.location = db_->location(), .pool_size = 2});
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_ = std::move(*store);
    Options o;
    o.password_cost = crypto::PasswordCost::Minimal();
    o.lockout_threshold = 3;
    o.source_threshold = 6;
    identity_ = std::make_unique<Identity>(*store_, clock_, audit_, o);
    ASSERT_TRUE(identity_->CreateOrganisation({"dc", "Data center", "data_center", "JP"}, admin_).ok());
    ASSERT_TRUE(identity_->CreateOrganisation({"hosp-a", "Hospital A", "hospital", "JP"}, admin_).ok());
    ASSERT_TRUE(identity_
                    ->CreateUser({"alice", "hosp-a", "Alice", "alice@example.org", {"clinician"},
                                  kPassword},
                                 admin_)
                    .ok());
  }

  // Logs alice in, enrols TOTP and returns the confirmed session and the secret.
  std::pair<Session, std::string> EnrolledSession() {
    auto login = identity_->Login("alice", kPassword, "", from_);
    EXPECT_TRUE(login.ok());
    auto s = identity_->AuthenticateSession(login->session_token);
    EXPECT_TRUE(s.ok());
    auto e = identity_->BeginTotpEnrolment(*s, from_);
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

  std::optional<storage::ScratchDatabase> db_;
  std::unique_ptr<storage::Store> store_;
  FakeClock clock_{std::chrono::system_clock::time_point{std::chrono::seconds(1795600000)}};
  RecordingAuditSink audit_;
  std::unique_ptr<Identity> identity_;
  Actor admin_{"operator", "cli", ""};
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
      {"bob", "hosp-a", "Bob", "bob@example.org", {"data_steward"}, kPassword}, admin_);
  ASSERT_FALSE(role.ok());
  EXPECT_EQ(role.error().code, "role_not_allowed");
  auto weak = identity_->CreateUser(
      {"bob", "hosp-a", "Bob", "bob@example.org", {"clinician"}, "password1234"}, admin_);
  ASSERT_FALSE(weak.ok());
  EXPECT_EQ(weak.error().code, "password_common");
  EXPECT_EQ(identity_->CreateUser({"bob", "nowhere", "Bob", "b@x.org", {"clinician"}, kPassword},
                                  admin_)
                .error()
                .code,
            "unknown_organisation");
  EXPECT_EQ(identity_->CreateUser({"bob", "hosp-a", "Bob", "not-an-email", {"clinician"},
                                   kPassword},
                                  admin_)
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
  EXPECT_EQ(identity_->BeginTotpEnrolment(*s, from_).error().code, "mfa_already_enrolled");
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
      {"uploader", "seq-1", "sequencing_operator", {"user.write"}, 30}, admin_);
  ASSERT_FALSE(too_much.ok());
  EXPECT_EQ(too_much.error().code, "action_not_allowed");
  ASSERT_TRUE(identity_->CreateOrganisation({"dc2", "DC 2", "data_center", "JP"}, admin_).ok());
  auto created =
      identity_->CreateApiToken({"steward-bot", "dc2", "data_steward", {"setting.write"}, 1}, admin_);
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
  auto fresh =
      identity_->CreateApiToken({"steward-bot-2", "dc2", "data_steward", {"setting.write"}, 5}, admin_);
  ASSERT_TRUE(fresh.ok());
  ASSERT_TRUE(identity_->RevokeApiToken(fresh->second.id, admin_).ok());
  EXPECT_EQ(identity_->AuthenticateApiToken(fresh->first).error().code, "invalid_credentials");
  EXPECT_EQ(identity_->AuthenticateApiToken("zgt_forged").error().code, "invalid_credentials");
}

TEST_P(IdentityTest, ResearchGroupsGatherUsersAcrossOrganisations) {
  ASSERT_TRUE(identity_->CreateOrganisation({"univ", "University", "academic", "JP"}, admin_).ok());
  ASSERT_TRUE(identity_
                  ->CreateUser({"carol", "univ", "Carol", "carol@example.org", {"researcher"},
                                kPassword},
                               admin_)
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

INSTANTIATE_TEST_SUITE_P(Backends, IdentityTest, ::testing::ValuesIn(storage::TestBackends()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace zengen::identity
