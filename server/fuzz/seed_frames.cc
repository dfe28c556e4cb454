#include "server/fuzz/seed_frames.h"

#include <functional>

#include "server/frame.h"

namespace cp::server::fuzz {

namespace {

namespace fb = protocol;
using Builder = flatbuffers::FlatBufferBuilder;

// The request harness's database (request_harness.cc) has children 1.. and a review item
// once a feed has been applied; ids here point at them.
constexpr uint64_t kChild = 1, kShieldable = 3;

SeedFrame Make(std::string name, fb::Body type, std::string_view role,
               const std::function<flatbuffers::Offset<void>(Builder&)>& body) {
  Builder fbb;
  auto offset = body(fbb);
  const std::string session = role.empty() ? std::string() : SessionPlaceholder(role);
  return {std::move(name), FinishFrame(fbb, 1, type, offset, session)};
}

}  // namespace

std::string SessionPlaceholder(std::string_view role) {
  std::string s = "fuzz-session-" + std::string(role);
  s.resize(64, '.');
  return s;
}

std::vector<SeedFrame> SeedFrames() {
  std::vector<SeedFrame> out;
  out.push_back(Make("hello", fb::Body::Hello, "", [](Builder& b) {
    std::vector<uint16_t> versions{kProtocolVersion};
    return fb::CreateHelloDirect(b, &versions, "fuzz seed").Union();
  }));
  out.push_back(Make("login", fb::Body::Login, "", [](Builder& b) {
    return fb::CreateLoginDirect(b, "fuzz_login", "fuzz password fuzz_login").Union();
  }));
  out.push_back(Make("second_factor", fb::Body::SecondFactor, "", [](Builder& b) {
    return fb::CreateSecondFactorDirect(b, std::string(64, '0').c_str(), "123456").Union();
  }));
  out.push_back(Make("search", fb::Body::Search, "police", [](Builder& b) {
    auto criteria = fb::CreateCriteriaDirect(b, "Olivia", "Smith", "2016-03-02", "", "", "F",
                                             "LS1 1AA", "", "", 10);
    return fb::CreateSearchDirect(b, criteria, "fuzz seed: search").Union();
  }));
  out.push_back(Make("get_record", fb::Body::GetRecord, "police", [](Builder& b) {
    return fb::CreateGetRecordDirect(b, kChild, "fuzz seed: view").Union();
  }));
  out.push_back(Make("shield", fb::Body::Shield, "shielding_manager", [](Builder& b) {
    return fb::CreateShieldDirect(b, kShieldable, "fuzz seed: shield").Union();
  }));
  out.push_back(Make("unshield", fb::Body::Unshield, "shielding_manager", [](Builder& b) {
    return fb::CreateUnshieldDirect(b, kShieldable, "fuzz seed: unshield").Union();
  }));
  out.push_back(Make("break_glass", fb::Body::BreakGlass, "child_protection", [](Builder& b) {
    return fb::CreateBreakGlassDirect(b, "fuzz seed: break glass").Union();
  }));
  out.push_back(Make("feed_batch", fb::Body::FeedBatch, "feed_supplier", [](Builder& b) {
    const std::string csv =
        "source_key,given_name,family_name,date_of_birth,gender,address,postcode\n"
        "F1,Olivia,Smith,2016-03-02,F,2 Fuzz Road,LS2 2BB\n"
        "F2,Olivia,Smyth,2016-03-02,F,3 Fuzz Road,LS3 3CC\n";
    auto bytes = b.CreateVector(reinterpret_cast<const uint8_t*>(csv.data()), csv.size());
    return fb::CreateFeedBatch(b, b.CreateString("fuzz_feed"), 1, bytes).Union();
  }));
  out.push_back(Make("review_list", fb::Body::ReviewList, "shielding_manager",
                     [](Builder& b) { return fb::CreateReviewList(b, 10).Union(); }));
  out.push_back(
      Make("review_resolve", fb::Body::ReviewResolve, "shielding_manager", [](Builder& b) {
        return fb::CreateReviewResolveDirect(b, 1, kChild, "fuzz seed: review").Union();
      }));
  out.push_back(
      Make("create_organisation", fb::Body::CreateOrganisation, "system_admin", [](Builder& b) {
        std::vector<flatbuffers::Offset<flatbuffers::String>> ranges{
            b.CreateString("192.0.2.0/24")};
        return fb::CreateCreateOrganisationDirect(b, "fuzz_org", &ranges, "Fuzz org").Union();
      }));
  out.push_back(
      Make("add_address_range", fb::Body::AddAddressRange, "system_admin", [](Builder& b) {
        return fb::CreateAddAddressRangeDirect(b, "fuzz_la", "2001:db8::/48").Union();
      }));
  out.push_back(Make("create_user", fb::Body::CreateUser, "system_admin", [](Builder& b) {
    return fb::CreateCreateUserDirect(b, "fuzz_new", "fuzz_la", "health", "a fuzz password 1")
        .Union();
  }));
  out.push_back(Make("set_user_role", fb::Body::SetUserRole, "system_admin", [](Builder& b) {
    return fb::CreateSetUserRoleDirect(b, "fuzz_login", "voluntary").Union();
  }));
  out.push_back(Make("lock_user", fb::Body::LockUser, "system_admin", [](Builder& b) {
    return fb::CreateLockUserDirect(b, "fuzz_login").Union();
  }));
  out.push_back(Make("unlock_user", fb::Body::UnlockUser, "system_admin", [](Builder& b) {
    return fb::CreateUnlockUserDirect(b, "fuzz_login").Union();
  }));
  out.push_back(Make("logout", fb::Body::Logout, "police",
                     [](Builder& b) { return fb::CreateLogout(b).Union(); }));
  out.push_back(
      Make("health", fb::Body::Health, "", [](Builder& b) { return fb::CreateHealth(b).Union(); }));
  // A response sent back as a request: verified, then refused UnknownMessage.
  out.push_back({"error", ErrorFrame(1, fb::ErrorCode::NotFound, "fuzz seed: not a request")});
  return out;
}

}  // namespace cp::server::fuzz
