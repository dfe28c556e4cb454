// UnmeteredQuotaAccounts (config `[bench] unmetered_daily_quota`): quotas are still
// charged, a spent quota no longer refuses, and every other check passes through.
#include <gtest/gtest.h>

#include "server/accounts_adapter.h"

namespace cp::server {
namespace {

// A quota of two searches; counts every charge and every call.
class TwoSearchesADay : public AccountsPort {
 public:
  Result<CredentialCheck> CheckPassword(const std::string&, const std::string& password,
                                        const std::string&) override {
    return password == "right" ? CredentialCheck::kOk : CredentialCheck::kBad;
  }
  Result<CredentialCheck> CheckSecondFactor(const std::string&, const std::string&,
                                            int64_t) override {
    return CredentialCheck::kLocked;
  }
  Result<UserProfile> Profile(const std::string& user) override {
    if (user != "ann") return Status::NotFound("no user");
    UserProfile p;
    p.user = user;
    return p;
  }
  Result<bool> ChargeSearch(const std::string& user, int64_t) override {
    if (user == "broken") return Status::IOError("disk");
    ++charges;
    return charges <= 2;
  }
  Result<bool> AddressRegistered(const std::string& address) override { return address == "10.0.0.1"; }
  Result<OrganisationInfo> CreateOrganisation(const std::string& id, const std::string&,
                                              const std::vector<std::string>&) override {
    return OrganisationInfo{id, id, {}};
  }
  Result<OrganisationInfo> AddRange(const std::string&, const std::string&) override {
    return Status::NotFound("no organisation");
  }
  Result<std::string> CreateUser(const std::string&, const std::string&, const std::string&,
                                 const std::string&) override {
    return std::string("SECRET");
  }
  Result<UserInfo> SetRole(const std::string&, const std::string&) override {
    return Status::NotFound("no user");
  }
  Result<UserInfo> Unlock(const std::string&) override { return Status::NotFound("no user"); }
  Result<UserInfo> Lock(const std::string&) override { return Status::NotFound("no user"); }
  int charges = 0;
};

TEST(UnmeteredQuotaTest, ChargesButNeverRefusesASpentQuota) {
  TwoSearchesADay inner;
  UnmeteredQuotaAccounts bench(&inner);
  for (int i = 0; i < 5; ++i) {
    auto r = bench.ChargeSearch("ann", 0);
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(*r);
  }
  EXPECT_EQ(inner.charges, 5);
  EXPECT_FALSE(*inner.ChargeSearch("ann", 0));  // the inner store still says spent
}

TEST(UnmeteredQuotaTest, StorageFailuresAndCredentialsPassThrough) {
  TwoSearchesADay inner;
  UnmeteredQuotaAccounts bench(&inner);
  EXPECT_EQ(bench.ChargeSearch("broken", 0).status().code(), Status::Code::kIOError);
  EXPECT_EQ(*bench.CheckPassword("ann", "wrong", "127.0.0.1"), CredentialCheck::kBad);
  EXPECT_EQ(*bench.CheckPassword("ann", "right", "127.0.0.1"), CredentialCheck::kOk);
  EXPECT_EQ(*bench.CheckSecondFactor("ann", "123456", 0), CredentialCheck::kLocked);
  EXPECT_TRUE(bench.Profile("bob").status().IsNotFound());
  EXPECT_EQ(bench.Profile("ann")->user, "ann");
  // Administration and the address check pass through too.
  EXPECT_TRUE(*bench.AddressRegistered("10.0.0.1"));
  EXPECT_FALSE(*bench.AddressRegistered("192.0.2.1"));
  EXPECT_EQ(bench.CreateOrganisation("la_x", "", {})->id, "la_x");
  EXPECT_TRUE(bench.AddRange("la_y", "10.0.0.0/8").status().IsNotFound());
  EXPECT_EQ(*bench.CreateUser("cal", "la_x", "police", "pw"), "SECRET");
  EXPECT_TRUE(bench.SetRole("cal", "police").status().IsNotFound());
  EXPECT_TRUE(bench.Unlock("cal").status().IsNotFound());
  EXPECT_TRUE(bench.Lock("cal").status().IsNotFound());
}

}  // namespace
}  // namespace cp::server
