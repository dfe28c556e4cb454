// Account administration over the wire: CreateOrganisation, AddAddressRange, CreateUser,
// SetUserRole, UnlockUser, LockUser — system administrators only, each refusal typed, audited and
// changing nothing, and no password or TOTP secret in the audit trail.
#include <gtest/gtest.h>

#include "tests/server/server_fixture.h"
#include "tests/server/test_accounts.h"

namespace cp::server::testing {
namespace {

namespace fb = protocol;
using fb::ErrorCode;

constexpr char kNewPassword[] = "a sufficiently long password";

class AdminServerTest : public ServerTest {
 protected:
  static std::unique_ptr<Client> Admin(const std::string& name) {
    AddUser(name, "system_admin");
    return LoggedIn(name);
  }
  static const AuditEvent* Last(const std::string& user) {
    static std::vector<AuditEvent> events;
    events = audit_->For(user);
    return events.empty() ? nullptr : &events.back();
  }
  static std::vector<std::string> Ranges(const Result<Response>& r) {
    std::vector<std::string> out;
    if (!r.ok() || r->error()) return out;
    for (const auto* s : *r->envelope().body_as_OrganisationResult()->ranges())
      out.push_back(s->str());
    return out;
  }
};

using Strings = std::vector<std::string>;

TEST_F(AdminServerTest, CreateOrganisationWithItsRanges) {
  auto c = Admin("admin-org");
  auto r =
      c->CreateOrganisation("la_york", "City of York Council", {"10.1.0.0/16", "2001:db8::/48"});
  ASSERT_EQ(CodeOf(r), ErrorCode::None);
  EXPECT_EQ(r->envelope().body_as_OrganisationResult()->organisation()->str(), "la_york");
  EXPECT_EQ(r->envelope().body_as_OrganisationResult()->display_name()->str(),
            "City of York Council");
  EXPECT_EQ(Ranges(r), (Strings{"10.1.0.0/16", "2001:db8::/48"}));
  EXPECT_EQ(RangesOf(services_, "la_york"), (Strings{"10.1.0.0/16", "2001:db8::/48"}));
  const AuditEvent* e = Last("admin-org");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->action, "admin");
  EXPECT_EQ(e->outcome, "ok");
  EXPECT_NE(e->criteria.find("create-organisation la_york"), std::string::npos) << e->criteria;

  auto twice = c->CreateOrganisation("la_york", "York again", {});
  EXPECT_EQ(CodeOf(twice), ErrorCode::AlreadyExists);
  EXPECT_EQ(Last("admin-org")->outcome, "already_exists");
  EXPECT_EQ(RangesOf(services_, "la_york"), (Strings{"10.1.0.0/16", "2001:db8::/48"}));
}

TEST_F(AdminServerTest, ABadRangeRefusesTheWholeOrganisation) {
  auto c = Admin("admin-badcidr");
  auto r = c->CreateOrganisation("la_hull", "Hull City Council", {"10.2.0.0/16", "10.3.0.1/16"});
  ASSERT_EQ(CodeOf(r), ErrorCode::InvalidRequest);
  EXPECT_FALSE(r->error()->message()->str().empty());
  EXPECT_FALSE(RangesOf(services_, "la_hull").has_value());
  EXPECT_EQ(Last("admin-badcidr")->outcome, "invalid_request");
  EXPECT_EQ(CodeOf(c->CreateOrganisation("Not An Id!", "x", {})), ErrorCode::InvalidRequest);
}

TEST_F(AdminServerTest, AddAddressRange) {
  auto c = Admin("admin-range");
  ASSERT_EQ(CodeOf(c->CreateOrganisation("la_bath", "Bath", {"10.4.0.0/16"})), ErrorCode::None);
  auto r = c->AddAddressRange("la_bath", "192.0.2.0/24");
  ASSERT_EQ(CodeOf(r), ErrorCode::None);
  EXPECT_EQ(Ranges(r), (Strings{"10.4.0.0/16", "192.0.2.0/24"}));
  EXPECT_NE(Last("admin-range")->criteria.find("add-range la_bath 192.0.2.0/24"),
            std::string::npos);

  EXPECT_EQ(CodeOf(c->AddAddressRange("la_bath", "192.0.3.7/24")), ErrorCode::InvalidRequest);
  EXPECT_EQ(CodeOf(c->AddAddressRange("la_bath", "not a range")), ErrorCode::InvalidRequest);
  EXPECT_EQ(CodeOf(c->AddAddressRange("la_nowhere", "10.5.0.0/16")), ErrorCode::NotFound);
  EXPECT_EQ(Last("admin-range")->outcome, "not_found");
  EXPECT_EQ(RangesOf(services_, "la_bath"), (Strings{"10.4.0.0/16", "192.0.2.0/24"}));
  EXPECT_FALSE(RangesOf(services_, "la_nowhere").has_value());
}

TEST_F(AdminServerTest, CreateUserHandsOverTheSecretOnceAndTheUserCanLogIn) {
  auto c = Admin("admin-user");
  auto r = c->CreateUser("new.worker", "la_leeds", "la_education", kNewPassword);
  ASSERT_EQ(CodeOf(r), ErrorCode::None);
  const auto* u = r->envelope().body_as_NewUserResult();
  const std::string secret = u->totp_secret()->str();
  EXPECT_EQ(secret.size(), 32u);  // 160 bits of base32
  EXPECT_EQ(
      u->totp_uri()->str().rfind("otpauth://totp/ContactPoint:new.worker?secret=" + secret, 0), 0u)
      << u->totp_uri()->str();
  EXPECT_EQ(u->role()->str(), "la_education");
  EXPECT_EQ(RoleOf(services_, "new.worker"), "la_education");

  KeepSecret("new.worker", secret);
  auto worker = Connect();
  auto login = worker->LogIn("new.worker", kNewPassword, Code("new.worker"));
  ASSERT_EQ(CodeOf(login), ErrorCode::None);
  EXPECT_EQ(login->envelope().body_as_SessionResult()->role()->str(), "la_education");

  // Neither the password nor the secret is in any audit entry.
  for (const auto& e : audit_->All()) {
    for (const std::string* field : {&e.criteria, &e.reason, &e.user}) {
      EXPECT_EQ(field->find(kNewPassword), std::string::npos);
      EXPECT_EQ(field->find(secret), std::string::npos);
    }
  }
  EXPECT_NE(
      Last("admin-user")->criteria.find("create-user new.worker org la_leeds role la_education"),
      std::string::npos);
}

TEST_F(AdminServerTest, CreateUserRefusalsChangeNothing) {
  auto c = Admin("admin-user-bad");
  auto role = c->CreateUser("u.role", "la_leeds", "wizard", kNewPassword);
  ASSERT_EQ(CodeOf(role), ErrorCode::InvalidRequest);
  EXPECT_NE(role->error()->message()->str().find("unknown role 'wizard'"), std::string::npos);
  EXPECT_EQ(RoleOf(services_, "u.role"), "");
  EXPECT_EQ(CodeOf(c->CreateUser("u.org", "la_atlantis", "police", kNewPassword)),
            ErrorCode::NotFound);
  EXPECT_EQ(RoleOf(services_, "u.org"), "");
  auto short_pw = c->CreateUser("u.short", "la_leeds", "police", "short");
  ASSERT_EQ(CodeOf(short_pw), ErrorCode::InvalidRequest);
  EXPECT_EQ(short_pw->error()->message()->str().find("short"), std::string::npos)
      << "the message must not repeat the password";
  EXPECT_EQ(RoleOf(services_, "u.short"), "");
  // A duplicate leaves the existing user as it was.
  AddUser("u.existing", "police");
  auto dup = c->CreateUser("u.existing", "la_leeds", "system_admin", kNewPassword);
  EXPECT_EQ(CodeOf(dup), ErrorCode::AlreadyExists);
  EXPECT_EQ(RoleOf(services_, "u.existing"), "police");
  auto login = Connect()->LogIn("u.existing", Password("u.existing"), Code("u.existing"));
  EXPECT_EQ(CodeOf(login), ErrorCode::None) << "the old password must still work";
  EXPECT_EQ(Last("admin-user-bad")->outcome, "already_exists");
}

TEST_F(AdminServerTest, SetUserRole) {
  auto c = Admin("admin-role");
  AddUser("role.changer", "voluntary");
  auto r = c->SetUserRole("role.changer", "health");
  ASSERT_EQ(CodeOf(r), ErrorCode::None);
  EXPECT_EQ(r->envelope().body_as_AccountResult()->role()->str(), "health");
  EXPECT_EQ(RoleOf(services_, "role.changer"), "health");
  auto login = Connect()->LogIn("role.changer", Password("role.changer"), Code("role.changer"));
  ASSERT_EQ(CodeOf(login), ErrorCode::None);
  EXPECT_EQ(login->envelope().body_as_SessionResult()->role()->str(), "health");
  EXPECT_NE(Last("admin-role")->criteria.find("set-role role.changer health"), std::string::npos);

  EXPECT_EQ(CodeOf(c->SetUserRole("role.changer", "overlord")), ErrorCode::InvalidRequest);
  EXPECT_EQ(RoleOf(services_, "role.changer"), "health");
  EXPECT_EQ(CodeOf(c->SetUserRole("no.such.user", "police")), ErrorCode::NotFound);
  EXPECT_EQ(Last("admin-role")->outcome, "not_found");
}

TEST_F(AdminServerTest, UnlockUser) {
  auto c = Admin("admin-unlock");
  AddUser("locked.out", "police");
  ASSERT_TRUE(LockUser(services_, "locked.out").ok());
  EXPECT_EQ(CodeOf(Connect()->Login("locked.out", Password("locked.out"))), ErrorCode::Locked);
  auto r = c->UnlockUser("locked.out");
  ASSERT_EQ(CodeOf(r), ErrorCode::None);
  EXPECT_FALSE(r->envelope().body_as_AccountResult()->locked());
  EXPECT_FALSE(IsLocked(services_, "locked.out"));
  auto login = Connect()->LogIn("locked.out", Password("locked.out"), Code("locked.out"));
  EXPECT_EQ(CodeOf(login), ErrorCode::None);
  EXPECT_EQ(CodeOf(c->UnlockUser("no.such.user")), ErrorCode::NotFound);
}

// A leaver, or credentials thought stolen: locked out at once, open sessions included.
TEST_F(AdminServerTest, LockUserEndsTheUsersSessionsNow) {
  auto c = Admin("admin-lock");
  AddUser("leaver", "police");
  AddUser("stayer", "police");
  auto leaver = LoggedIn("leaver");
  auto stayer = LoggedIn("stayer");
  ASSERT_NE(leaver, nullptr);
  ASSERT_NE(stayer, nullptr);
  ASSERT_EQ(CodeOf(leaver->Health()), ErrorCode::None);
  const auto ticket = Connect()->Login("leaver", Password("leaver"));  // half-way through a login
  ASSERT_EQ(CodeOf(ticket), ErrorCode::None);

  auto r = c->LockUser("leaver");
  ASSERT_EQ(CodeOf(r), ErrorCode::None);
  EXPECT_TRUE(r->envelope().body_as_AccountResult()->locked());
  EXPECT_EQ(r->envelope().body_as_AccountResult()->user()->str(), "leaver");
  EXPECT_TRUE(IsLocked(services_, "leaver"));
  const AuditEvent* e = Last("admin-lock");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->outcome, "ok");
  EXPECT_NE(e->criteria.find("lock leaver"), std::string::npos) << e->criteria;

  EXPECT_EQ(CodeOf(leaver->GetRecord(1, "still here?")), ErrorCode::NotAuthenticated);
  EXPECT_EQ(CodeOf(stayer->GetRecord(1, "still here")), ErrorCode::None)
      << "other users keep theirs";
  EXPECT_EQ(CodeOf(Connect()->Login("leaver", Password("leaver"))), ErrorCode::Locked);
  EXPECT_EQ(CodeOf(c->LockUser("leaver")), ErrorCode::None) << "locking twice is accepted";
  EXPECT_EQ(CodeOf(c->LockUser("no.such.user")), ErrorCode::NotFound);
  EXPECT_EQ(Last("admin-lock")->outcome, "not_found");

  ASSERT_EQ(CodeOf(c->UnlockUser("leaver")), ErrorCode::None);
  EXPECT_EQ(CodeOf(Connect()->LogIn("leaver", Password("leaver"), Code("leaver"))),
            ErrorCode::None);
}

TEST_F(AdminServerTest, OtherRolesMayNotAdministerAndAreAudited) {
  AddUser("not-admin", "shielding_manager");
  AddUser("victim", "police");
  ASSERT_TRUE(LockUser(services_, "victim").ok());
  auto c = LoggedIn("not-admin");
  EXPECT_EQ(CodeOf(c->CreateOrganisation("la_rogue", "Rogue", {"0.0.0.0/0"})),
            ErrorCode::NotAuthorised);
  EXPECT_EQ(CodeOf(c->AddAddressRange("la_leeds", "0.0.0.0/0")), ErrorCode::NotAuthorised);
  EXPECT_EQ(CodeOf(c->CreateUser("rogue", "la_leeds", "system_admin", kNewPassword)),
            ErrorCode::NotAuthorised);
  EXPECT_EQ(CodeOf(c->SetUserRole("not-admin", "system_admin")), ErrorCode::NotAuthorised);
  EXPECT_EQ(CodeOf(c->UnlockUser("victim")), ErrorCode::NotAuthorised);
  EXPECT_EQ(CodeOf(c->LockUser("not-admin")), ErrorCode::NotAuthorised);

  EXPECT_FALSE(RangesOf(services_, "la_rogue").has_value());
  EXPECT_EQ(RangesOf(services_, "la_leeds"), (Strings{"127.0.0.0/8"}));
  EXPECT_EQ(RoleOf(services_, "rogue"), "");
  EXPECT_EQ(RoleOf(services_, "not-admin"), "shielding_manager");
  EXPECT_TRUE(IsLocked(services_, "victim"));
  int refusals = 0;
  for (const auto& e : audit_->For("not-admin")) {
    if (e.action == "admin") {
      EXPECT_EQ(e.outcome, "not_authorised");
      ++refusals;
    }
  }
  EXPECT_EQ(refusals, 6);
}

TEST_F(AdminServerTest, AFailedAuditAppendWithholdsTheSecret) {
  auto c = Admin("admin-audit-fail");
  audit_->set_fail(true);
  auto r = c->CreateUser("audit.user", "la_leeds", "police", kNewPassword);
  audit_->set_fail(false);
  ASSERT_EQ(CodeOf(r), ErrorCode::Internal);
  EXPECT_EQ(r->envelope().body_as_NewUserResult(), nullptr);
}

}  // namespace
}  // namespace cp::server::testing
