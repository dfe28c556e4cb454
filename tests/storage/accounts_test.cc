// Tests for storage/accounts.h and storage/roles.h: administration, the order of the login
// checks, lockout, TOTP with clock skew and reuse, quotas, and that no credential is
// stored or reported in clear.
#include "storage/accounts.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "storage/accounts_internal.h"  // the quota key and its encoding
#include "storage/audit_log.h"
#include "tests/storage/raw_db_util.h"
#include "storage/roles.h"
#include "tests/storage/raw_db_util.h"
#include "tests/storage/store_test_util.h"
#include "util/totp.h"

namespace cp {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kPassword[] = "correct horse battery staple";
constexpr int64_t kNow = 1'800'000'000;  // a fixed clock: codes are deterministic

class AccountsTest : public testing_util::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    CreateStore();
    OpenAccounts();
  }
  void TearDown() override {
    accounts_.reset();
    TempDirTest::TearDown();
  }

  static Accounts::Options FastOptions() {
    Accounts::Options o;
    o.argon2_memory_kib = 64;  // tests need the logic, not the cost
    o.argon2_passes = 1;
    return o;
  }
  void OpenAccounts() {
    auto a = Accounts::Open(store_.get(), FastOptions());
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    accounts_ = std::move(*a);
  }
  void ReopenAll() {
    accounts_.reset();
    Reopen();
    OpenAccounts();
  }

  // Organisation la_leeds (192.0.2.0/24, 2001:db8:1::/48) with user alice (police).
  void AddAlice() {
    ASSERT_TRUE(accounts_->AddOrganisation("la_leeds", "Leeds City Council").ok());
    ASSERT_TRUE(accounts_->AddRange("la_leeds", "192.0.2.0/24").ok());
    ASSERT_TRUE(accounts_->AddRange("la_leeds", "2001:db8:1::/48").ok());
    auto secret = accounts_->AddUser("alice", "la_leeds", Role::kPolice, kPassword);
    ASSERT_TRUE(secret.ok()) << secret.status().ToString();
    secret_b32_ = *secret;
    auto raw = Base32Decode(secret_b32_);
    ASSERT_TRUE(raw.ok());
    secret_ = *raw;
  }

  static IpAddress Ip(const std::string& text) { return *ParseIpAddress(text); }
  AuthError Password(const std::string& password, const std::string& from = "192.0.2.10",
                     const std::string& user = "alice") {
    return accounts_->CheckPassword(user, password, Ip(from)).error;
  }
  std::string CodeAt(int64_t unix_seconds) const {
    return TotpCodeAt(secret_, TotpStep(unix_seconds));
  }
  AuthError Code(const std::string& code, int64_t now = kNow) {
    return accounts_->CheckCode("alice", code, now).error;
  }
  Account Alice() {
    auto a = accounts_->GetUser("alice");
    EXPECT_TRUE(a.ok()) << a.status().ToString();
    return a.ok() ? *a : Account();
  }

  std::unique_ptr<Accounts> accounts_;
  std::string secret_b32_;
  std::string secret_;
};

// ---- Roles ---------------------------------------------------------------------------------

TEST(RolesTest, TableCoversEveryRoleInOrderWithinTheCap) {
  std::set<std::string_view> names;
  uint8_t expected = 1;
  for (const auto& p : AllRolePolicies()) {
    EXPECT_EQ(static_cast<uint8_t>(p.role), expected++);
    EXPECT_LE(p.result_cap, kMaxResultCap) << p.name;
    EXPECT_EQ(p.result_cap == 0, p.daily_searches == 0) << p.name;
    EXPECT_EQ(Permits(p.role, Operation::kSearch), p.daily_searches > 0) << p.name;
    EXPECT_TRUE(names.insert(p.name).second) << "duplicate name " << p.name;
    EXPECT_EQ(ParseRole(p.name), p.role);
    EXPECT_EQ(&PolicyFor(p.role), &p);
  }
  EXPECT_EQ(AllRolePolicies().size(), 14u);
  EXPECT_FALSE(ParseRole("superuser"));
  EXPECT_FALSE(RoleFromByte(0));
  EXPECT_EQ(RoleFromByte(14), Role::kDataManager);
  EXPECT_FALSE(RoleFromByte(15));
}

TEST(RolesTest, SeparationOfDuties) {
  EXPECT_TRUE(Permits(Role::kChildProtection, Operation::kBreakGlass));
  EXPECT_FALSE(Permits(Role::kPolice, Operation::kBreakGlass));
  EXPECT_TRUE(Permits(Role::kShieldingManager, Operation::kShield));
  EXPECT_FALSE(Permits(Role::kLocalAuthoritySocialCare, Operation::kShield));
  EXPECT_FALSE(Permits(Role::kSystemAdministrator, Operation::kSearch));
  EXPECT_TRUE(Permits(Role::kSystemAdministrator, Operation::kAccountAdmin));
  EXPECT_TRUE(Permits(Role::kFeedSupplier, Operation::kFeedBatch));
  EXPECT_FALSE(Permits(Role::kFeedSupplier, Operation::kGetRecord));
  // Only data managers read archived records; they neither shield nor break glass.
  for (const auto& p : AllRolePolicies()) {
    EXPECT_EQ(Permits(p.role, Operation::kReadArchived), p.role == Role::kDataManager) << p.name;
  }
  EXPECT_TRUE(Permits(Role::kDataManager, Operation::kGetRecord));
  EXPECT_FALSE(Permits(Role::kDataManager, Operation::kShield));
  EXPECT_FALSE(Permits(Role::kDataManager, Operation::kBreakGlass));
}

// ---- Administration ------------------------------------------------------------------------

TEST_F(AccountsTest, OrganisationsAndRangesPersist) {
  AddAlice();
  ReopenAll();
  auto org = accounts_->GetOrganisation("la_leeds");
  ASSERT_TRUE(org.ok()) << org.status().ToString();
  EXPECT_EQ(org->display_name, "Leeds City Council");
  ASSERT_EQ(org->ranges.size(), 2u);
  EXPECT_EQ(org->ranges[0].ToString(), "192.0.2.0/24");
  EXPECT_EQ(org->ranges[1].ToString(), "2001:db8:1::/48");
  auto alice = accounts_->GetUser("alice");
  ASSERT_TRUE(alice.ok());
  EXPECT_EQ(alice->organisation, "la_leeds");
  EXPECT_EQ(alice->role, Role::kPolice);
  EXPECT_FALSE(alice->locked);
}

TEST_F(AccountsTest, OrganisationRefusals) {
  ASSERT_TRUE(accounts_->AddOrganisation("la_leeds", "Leeds").ok());
  EXPECT_EQ(accounts_->AddOrganisation("la_leeds", "Again").code(), Status::Code::kAlreadyExists);
  for (const char* bad : {"", "LA_LEEDS", "la leeds", "la/leeds", "ü"}) {
    EXPECT_TRUE(accounts_->AddOrganisation(bad, "X").IsInvalidArgument()) << bad;
  }
  EXPECT_TRUE(accounts_->AddOrganisation(std::string(65, 'a'), "X").IsInvalidArgument());
  EXPECT_TRUE(accounts_->AddOrganisation("ok", "").IsInvalidArgument());
  EXPECT_TRUE(accounts_->AddOrganisation("ok", "tab\there").IsInvalidArgument());
  EXPECT_TRUE(accounts_->GetOrganisation("nobody").status().IsNotFound());
}

TEST_F(AccountsTest, RangeRefusals) {
  ASSERT_TRUE(accounts_->AddOrganisation("la_leeds", "Leeds").ok());
  EXPECT_TRUE(accounts_->AddRange("la_leeds", "192.0.2.1/24").IsInvalidArgument());
  EXPECT_TRUE(accounts_->AddRange("la_leeds", "not a range").IsInvalidArgument());
  EXPECT_TRUE(accounts_->AddRange("la_leeds", "192.0.2.0").IsInvalidArgument());
  EXPECT_TRUE(accounts_->AddRange("nobody", "192.0.2.0/24").IsNotFound());
  ASSERT_TRUE(accounts_->AddRange("la_leeds", "192.0.2.0/24").ok());
  ASSERT_TRUE(accounts_->AddRange("la_leeds", "192.0.2.0/24").ok());  // idempotent
  EXPECT_EQ(accounts_->GetOrganisation("la_leeds")->ranges.size(), 1u);
  EXPECT_TRUE(accounts_->RemoveRange("la_leeds", "198.51.100.0/24").IsNotFound());
  ASSERT_TRUE(accounts_->RemoveRange("la_leeds", "192.0.2.0/24").ok());
  EXPECT_TRUE(accounts_->GetOrganisation("la_leeds")->ranges.empty());
}

TEST_F(AccountsTest, UserRefusals) {
  AddAlice();
  EXPECT_EQ(
      accounts_->AddUser("alice", "la_leeds", Role::kHealthProfessional, kPassword).status().code(),
      Status::Code::kAlreadyExists);
  EXPECT_TRUE(accounts_->AddUser("bob", "nowhere", Role::kPolice, kPassword).status().IsNotFound());
  for (const char* bad : {"", "bob smith", "bob/1", "bob\n"}) {
    EXPECT_TRUE(
        accounts_->AddUser(bad, "la_leeds", Role::kPolice, kPassword).status().IsInvalidArgument())
        << bad;
  }
  auto short_pw = accounts_->AddUser("bob", "la_leeds", Role::kPolice, "hunter2");
  ASSERT_FALSE(short_pw.ok());
  EXPECT_TRUE(short_pw.status().IsInvalidArgument());
  EXPECT_THAT(short_pw.status().message(), Not(HasSubstr("hunter2")));
  EXPECT_TRUE(accounts_->AddUser("bob", "la_leeds", Role::kPolice, std::string(1025, 'x'))
                  .status()
                  .IsInvalidArgument());
  EXPECT_TRUE(accounts_->AddUser("bob", "la_leeds", static_cast<Role>(99), kPassword)
                  .status()
                  .IsInvalidArgument());
  EXPECT_TRUE(accounts_->GetUser("bob").status().IsNotFound());
  EXPECT_TRUE(accounts_->SetPassword("nobody", kPassword).IsNotFound());
  EXPECT_TRUE(accounts_->Unlock("nobody").IsNotFound());
  EXPECT_TRUE(accounts_->ResetSecondFactor("nobody").status().IsNotFound());
}

TEST_F(AccountsTest, SecretIs160BitsOfBase32) {
  AddAlice();
  EXPECT_EQ(secret_b32_.size(), 32u);
  EXPECT_EQ(secret_.size(), 20u);
}

TEST_F(AccountsTest, ListingShowsNoCredentials) {
  AddAlice();
  std::vector<Account> users;
  ASSERT_TRUE(accounts_->ListUsers(&users).ok());
  ASSERT_EQ(users.size(), 1u);
  EXPECT_EQ(users[0].user, "alice");
  std::vector<Organisation> orgs;
  ASSERT_TRUE(accounts_->ListOrganisations(&orgs).ok());
  ASSERT_EQ(orgs.size(), 1u);
}

TEST_F(AccountsTest, SecondAccountsObjectOnOneStoreIsRefused) {
  auto second = Accounts::Open(store_.get(), FastOptions());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Status::Code::kFailedPrecondition);
}

// ---- Password step -------------------------------------------------------------------------

TEST_F(AccountsTest, RightPasswordFromRegisteredAddressIsAccepted) {
  AddAlice();
  auto d = accounts_->CheckPassword("alice", kPassword, Ip("192.0.2.10"));
  ASSERT_TRUE(d.ok()) << AuthErrorName(d.error);
  EXPECT_EQ(d.account.user, "alice");
  EXPECT_EQ(d.account.role, Role::kPolice);
  EXPECT_EQ(Password(kPassword, "2001:db8:1:ff::9"), AuthError::kNone);
  EXPECT_EQ(Password(kPassword, "::ffff:192.0.2.99"), AuthError::kNone);
}

TEST_F(AccountsTest, WrongPasswordIsBadCredentialsAndCounts) {
  AddAlice();
  EXPECT_EQ(Password("wrong password!"), AuthError::kBadCredentials);
  EXPECT_EQ(Alice().failed_attempts, 1u);
}

TEST_F(AccountsTest, AddressOutsideRangesIsRefusedBeforeThePassword) {
  AddAlice();
  EXPECT_EQ(Password(kPassword, "198.51.100.1"), AuthError::kUnregisteredAddress);
  EXPECT_EQ(Password("wrong password!", "198.51.100.1"), AuthError::kUnregisteredAddress);
  EXPECT_EQ(Password(kPassword, "2001:db8:2::1"), AuthError::kUnregisteredAddress);
  // No credential was checked, so nothing counts towards lockout.
  EXPECT_EQ(Alice().failed_attempts, 0u);
}

TEST_F(AccountsTest, AnotherOrganisationsRangeIsUnregisteredForThisUser) {
  AddAlice();
  ASSERT_TRUE(accounts_->AddOrganisation("nhs_trust", "A trust").ok());
  ASSERT_TRUE(accounts_->AddRange("nhs_trust", "198.51.100.0/24").ok());
  EXPECT_EQ(Password(kPassword, "198.51.100.1"), AuthError::kUnregisteredAddress);
}

TEST_F(AccountsTest, UnknownUserLooksLikeAWrongPassword) {
  AddAlice();
  EXPECT_EQ(Password(kPassword, "192.0.2.10", "mallory"), AuthError::kBadCredentials);
  // From outside every range, an unknown user is refused like anyone else.
  EXPECT_EQ(Password(kPassword, "203.0.113.5", "mallory"), AuthError::kUnregisteredAddress);
}

TEST_F(AccountsTest, LockoutAfterFiveFailuresThenUnlock) {
  AddAlice();
  for (int i = 0; i < 4; ++i) EXPECT_EQ(Password("wrong password!"), AuthError::kBadCredentials);
  EXPECT_FALSE(Alice().locked);
  EXPECT_EQ(Password("wrong password!"), AuthError::kBadCredentials);
  EXPECT_TRUE(Alice().locked);
  // Locked: even the right password is refused, and the address is still checked first.
  EXPECT_EQ(Password(kPassword), AuthError::kLocked);
  EXPECT_EQ(Password(kPassword, "198.51.100.1"), AuthError::kUnregisteredAddress);
  EXPECT_EQ(Code(CodeAt(kNow)), AuthError::kLocked);
  ReopenAll();  // the lock is stored, not in memory
  EXPECT_EQ(Password(kPassword), AuthError::kLocked);
  ASSERT_TRUE(accounts_->Unlock("alice").ok());
  EXPECT_EQ(Alice().failed_attempts, 0u);
  EXPECT_EQ(Password(kPassword), AuthError::kNone);
}

TEST_F(AccountsTest, LockIsImmediate) {
  AddAlice();
  ASSERT_TRUE(accounts_->Lock("alice").ok());
  EXPECT_EQ(Password(kPassword), AuthError::kLocked);
}

TEST_F(AccountsTest, SetRoleChangesOnlyTheRoleAndPersists) {
  AddAlice();
  ASSERT_TRUE(accounts_->Lock("alice").ok());
  ASSERT_TRUE(accounts_->SetRole("alice", Role::kShieldingManager).ok());
  ReopenAll();
  auto alice = accounts_->GetUser("alice");
  ASSERT_TRUE(alice.ok());
  EXPECT_EQ(alice->role, Role::kShieldingManager);
  EXPECT_TRUE(alice->locked);
  EXPECT_EQ(alice->organisation, "la_leeds");
  EXPECT_TRUE(accounts_->SetRole("nobody", Role::kPolice).IsNotFound());
}

TEST_F(AccountsTest, SetPasswordReplacesTheOldOne) {
  AddAlice();
  ASSERT_TRUE(accounts_->SetPassword("alice", "a brand new passphrase").ok());
  EXPECT_EQ(Password(kPassword), AuthError::kBadCredentials);
  EXPECT_EQ(Password("a brand new passphrase"), AuthError::kNone);
  EXPECT_TRUE(accounts_->SetPassword("alice", "short").IsInvalidArgument());
}

// ---- Code step -----------------------------------------------------------------------------

TEST_F(AccountsTest, CurrentCodeIsAcceptedAndResetsFailures) {
  AddAlice();
  EXPECT_EQ(Password("wrong password!"), AuthError::kBadCredentials);
  // A right password alone does not reset the count...
  EXPECT_EQ(Password(kPassword), AuthError::kNone);
  EXPECT_EQ(Alice().failed_attempts, 1u);
  // ...an accepted code does.
  EXPECT_EQ(Code(CodeAt(kNow)), AuthError::kNone);
  EXPECT_EQ(Alice().failed_attempts, 0u);
}

TEST_F(AccountsTest, OneStepOfClockSkewEitherWay) {
  AddAlice();
  EXPECT_EQ(Code(CodeAt(kNow - 30)), AuthError::kNone);            // the phone is slow
  EXPECT_EQ(Code(CodeAt(kNow + 30), kNow + 1), AuthError::kNone);  // the phone is fast
}

TEST_F(AccountsTest, CodeFromTwoStepsAwayIsRefused) {
  AddAlice();
  EXPECT_EQ(Code(CodeAt(kNow - 60)), AuthError::kBadCode);
  EXPECT_EQ(Code(CodeAt(kNow + 60)), AuthError::kBadCode);
  EXPECT_EQ(Alice().failed_attempts, 2u);
}

TEST_F(AccountsTest, WrongAndMalformedCodesAreRefusedAndCount) {
  AddAlice();
  std::string wrong = CodeAt(kNow);
  wrong[0] = wrong[0] == '9' ? '0' : static_cast<char>(wrong[0] + 1);
  EXPECT_EQ(Code(wrong), AuthError::kBadCode);
  for (const char* bad : {"12345", "1234567", "abcdef", "12 345"}) {
    EXPECT_EQ(Code(bad), AuthError::kBadCode) << bad;
  }
  EXPECT_EQ(Alice().failed_attempts, 5u);
  EXPECT_TRUE(Alice().locked);
  ASSERT_TRUE(accounts_->Unlock("alice").ok());
  EXPECT_EQ(Code(""), AuthError::kBadCode);
}

TEST_F(AccountsTest, ACodeIsAcceptedOnce) {
  AddAlice();
  std::string code = CodeAt(kNow);
  EXPECT_EQ(Code(code), AuthError::kNone);
  EXPECT_EQ(Code(code), AuthError::kBadCode);
  EXPECT_EQ(Code(code, kNow + 30), AuthError::kBadCode);  // still inside its skew window
  // An earlier step's code is refused once a later one was used.
  EXPECT_EQ(Code(CodeAt(kNow - 30)), AuthError::kBadCode);
  EXPECT_EQ(Code(CodeAt(kNow + 30), kNow + 30), AuthError::kNone);
}

TEST_F(AccountsTest, ConcurrentReplayOfOneCodeIsAcceptedOnce) {
  AddAlice();
  std::string code = CodeAt(kNow);
  std::atomic<int> accepted{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      if (accounts_->CheckCode("alice", code, kNow).ok()) ++accepted;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(accepted.load(), 1);
}

TEST_F(AccountsTest, FiveWrongCodesLock) {
  AddAlice();
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Code("000000", kNow + 3600 * i), AuthError::kBadCode);
  EXPECT_TRUE(Alice().locked);
  EXPECT_EQ(Code(CodeAt(kNow)), AuthError::kLocked);
}

TEST_F(AccountsTest, ResetSecondFactorReplacesTheSecret) {
  AddAlice();
  std::string old_code = CodeAt(kNow);
  auto fresh = accounts_->ResetSecondFactor("alice");
  ASSERT_TRUE(fresh.ok());
  EXPECT_NE(*fresh, secret_b32_);
  secret_ = *Base32Decode(*fresh);
  if (CodeAt(kNow) != old_code) {
    EXPECT_EQ(Code(old_code), AuthError::kBadCode);
  }
  EXPECT_EQ(Code(CodeAt(kNow)), AuthError::kNone);
}

TEST_F(AccountsTest, UnknownUserCodeIsBadCode) {
  EXPECT_EQ(accounts_->CheckCode("nobody", "123456", kNow).error, AuthError::kBadCode);
}

// ---- Quotas --------------------------------------------------------------------------------

TEST_F(AccountsTest, DailyQuotaStopsAtTheRoleLimitAndResetsNextDay) {
  AddAlice();
  const uint32_t limit = PolicyFor(Role::kPolice).daily_searches;
  for (uint32_t i = 1; i <= limit; ++i) {
    auto c = accounts_->ChargeSearch("alice", kNow);
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(c->allowed) << i;
    EXPECT_EQ(c->used, i);
  }
  auto over = accounts_->ChargeSearch("alice", kNow);
  ASSERT_TRUE(over.ok());
  EXPECT_FALSE(over->allowed);
  EXPECT_EQ(over->used, limit);
  EXPECT_EQ(over->limit, limit);
  ReopenAll();
  EXPECT_FALSE(accounts_->ChargeSearch("alice", kNow)->allowed);  // persisted
  auto tomorrow = accounts_->ChargeSearch("alice", kNow + 86400);
  ASSERT_TRUE(tomorrow.ok());
  EXPECT_TRUE(tomorrow->allowed);
  EXPECT_EQ(tomorrow->used, 1u);
}

TEST_F(AccountsTest, RolesThatMayNotSearchHaveNoQuota) {
  AddAlice();
  ASSERT_TRUE(accounts_->AddUser("root", "la_leeds", Role::kSystemAdministrator, kPassword).ok());
  auto c = accounts_->ChargeSearch("root", kNow);
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->allowed);
  EXPECT_TRUE(accounts_->ChargeSearch("nobody", kNow).status().IsNotFound());
}

// Drops RocksDB's own log lines: a read-only peek must not rotate the open store's LOG.
class DiscardLogger : public rocksdb::Logger {
 public:
  using rocksdb::Logger::Logv;
  void Logv(const char*, va_list) override {}
};

// The stored count of `user`'s quota, read from the files of a store that is open
// elsewhere (read-only: the WAL included); empty when none is stored.
std::string StoredQuota(const std::string& db_dir, const std::string& user) {
  rocksdb::DBOptions options;
  auto prefix = ReadFilePrefix(db_dir + "/CURRENT");
  if (prefix.ok() && prefix->encrypted) options.env = testing_util::FilesEnv(testing_util::KeyBeside(db_dir));
  options.info_log = std::make_shared<DiscardLogger>();
  std::vector<std::string> names;
  EXPECT_TRUE(rocksdb::DB::ListColumnFamilies(options, db_dir, &names).ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const auto& name : names) descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  auto s = rocksdb::DB::OpenForReadOnly(options, db_dir, descriptors, &handles, &db);
  EXPECT_TRUE(s.ok()) << s.ToString();
  if (!s.ok()) return "";
  std::string value;
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == "accounts") {
      db->Get(rocksdb::ReadOptions(), handles[i], account_keys::Quota(user), &value)
          .PermitUncheckedError();
    }
  }
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  delete db;
  return value;
}

TEST_F(AccountsTest, WithTheAuditLogQuotaCountsAreWrittenInItsBatches) {
  AddAlice();
  auto log = AuditLog::Open(store_.get());
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  accounts_->WriteQuotasWithAudit(log->get());
  const uint32_t day = static_cast<uint32_t>(kNow / 86400);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(accounts_->ChargeSearch("alice", kNow)->allowed);
  EXPECT_EQ(StoredQuota(db_dir_, "alice"), "");  // no write of its own per charge
  AuditEntry e;
  e.user = "alice";
  e.action = AuditAction::kSearch;
  e.reason = "s47 enquiry";
  e.criteria = "family=Smith";
  ASSERT_TRUE((*log)->Append(e).ok());
  EXPECT_EQ(StoredQuota(db_dir_, "alice"), EncodeQuota(day, 3));  // with the audit entry
  ASSERT_TRUE(accounts_->ChargeSearch("alice", kNow)->allowed);
  log->reset();
  ReopenAll();  // closing writes the count no audit batch carried
  auto c = accounts_->ChargeSearch("alice", kNow);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->used, 5u);
}

TEST_F(AccountsTest, ARoleChangeTakesEffectOnACountAlreadyInMemory) {
  AddAlice();
  ASSERT_TRUE(accounts_->ChargeSearch("alice", kNow)->allowed);  // cached, police: 200
  ASSERT_TRUE(accounts_->SetRole("alice", Role::kVoluntaryOrganisation).ok());
  const uint32_t limit = PolicyFor(Role::kVoluntaryOrganisation).daily_searches;
  for (uint32_t i = 2; i <= limit; ++i) ASSERT_TRUE(accounts_->ChargeSearch("alice", kNow)->allowed);
  auto over = accounts_->ChargeSearch("alice", kNow);
  ASSERT_TRUE(over.ok());
  EXPECT_FALSE(over->allowed);
  EXPECT_EQ(over->limit, limit);
  ASSERT_TRUE(accounts_->SetRole("alice", Role::kFeedSupplier).ok());  // may not search
  EXPECT_FALSE(accounts_->ChargeSearch("alice", kNow + 86400)->allowed);
}

TEST_F(AccountsTest, ConcurrentChargesNeverExceedTheQuota) {
  AddAlice();
  const uint32_t limit = PolicyFor(Role::kPolice).daily_searches;
  std::atomic<uint32_t> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (uint32_t i = 0; i < limit; ++i) {
        auto c = accounts_->ChargeSearch("alice", kNow);
        ASSERT_TRUE(c.ok());
        if (c->allowed) ++allowed;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(allowed.load(), limit);
  ReopenAll();
  EXPECT_FALSE(accounts_->ChargeSearch("alice", kNow)->allowed);
}

// ---- Nothing in clear ----------------------------------------------------------------------

TEST_F(AccountsTest, NoPasswordOrSecretInAnyDatabaseFile) {
  AddAlice();
  ASSERT_TRUE(store_->CompactAll().ok());  // flushes the memtables into SST files
  ReopenAll();
  bool saw_user = false;
  for (const auto& f : std::filesystem::recursive_directory_iterator(db_dir_)) {
    if (!f.is_regular_file()) continue;
    std::string bytes = testing_util::ReadFileBytes(f.path());
    saw_user = saw_user || bytes.find("ualice") != std::string::npos;
    EXPECT_EQ(bytes.find(kPassword), std::string::npos) << f.path();
    EXPECT_EQ(bytes.find(secret_b32_), std::string::npos) << f.path();
    EXPECT_EQ(bytes.find(secret_), std::string::npos) << f.path();
  }
  EXPECT_TRUE(saw_user) << "the scan must see the user's key, or it proves nothing";
}

}  // namespace
}  // namespace cp
